# SPDX-License-Identifier: BSD-3-Clause
"""pdk-hugepages against fake sysfs/procfs trees and an emulated kernel."""

import json
import os
import subprocess
import sys
import unittest

from fakesys import ToolTest, link, write

G2M = 'sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
NODE_1G = 'sys/devices/system/node/node%d/hugepages/hugepages-1048576kB/nr_hugepages'

# A process that takes the EAL's lock (F_SETLK, write, whole file) and waits.
LOCKER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print('locked', flush=True)
sys.stdin.read()
"""


class HugepagesTest(ToolTest):
    tool = 'pdk-hugepages'

    def setUp(self):
        ToolTest.setUp(self)
        self.tree.meminfo(2048)
        self.tree.add_hugepages(2048, {0: (512, 500), 1: (0, 0)})
        self.tree.add_hugepages(1048576, {0: (0, 0), 1: (0, 0)})
        self.tree.proc_file('filesystems', 'nodev\tsysfs\nnodev\thugetlbfs\n\text4\n')


class ShowTest(HugepagesTest):
    def test_table(self):
        self.tree.proc_file('mounts', 'sysfs /sys sysfs rw 0 0\n'
                            'hugetlbfs /dev/hugepages hugetlbfs rw,relatime 0 0\n'
                            'none /mnt/huge\\0401G hugetlbfs rw,pagesize=1G 0 0\n')
        code, out, err = self.run_tool()
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(out, (
            'Hugepages\n'
            'Size  Node  Total  Free  Reserved  Surplus  Memory\n'
            '2M    0     512    500   -         0        1G\n'
            '2M    1     0      0     -         0        0\n'
            '2M    all   512    500   0         0        1G\n'
            '1G    0     0      0     -         0        0\n'
            '1G    1     0      0     -         0        0\n'
            '1G    all   0      0     0         0        0\n'
            '\n'
            'Mounts (hugetlbfs)\n'
            'Mount point     Page size  Options\n'
            '/dev/hugepages  2M         rw,relatime\n'
            '/mnt/huge 1G    1G         rw,pagesize=1G\n'))

    def test_json(self):
        code, out, _ = self.run_tool('--json')
        data = json.loads(out)
        self.assertEqual(code, 0)
        self.assertEqual(data['default_pagesize'], 2 << 20)
        self.assertEqual(data['mounts'], [])
        self.assertEqual(data['sizes'][0], {
            'pagesize': 2 << 20, 'total': 512, 'free': 500, 'reserved': 0, 'surplus': 0,
            'nodes': [{'node': 0, 'total': 512, 'free': 500, 'surplus': 0},
                      {'node': 1, 'total': 0, 'free': 0, 'surplus': 0}]})

    def test_no_mounts_says_how(self):
        _, out, _ = self.run_tool()
        self.assertIn('no hugetlbfs mounts (pdk-hugepages --mount makes one)', out)

    def test_no_hugepage_support(self):
        for d in ('kernel/mm/hugepages',):
            __import__('shutil').rmtree(self.tree.s(*d.split('/')))
        code, _, err = self.run_tool()
        self.assertEqual(code, 4)
        self.assertIn('this kernel has no hugepages', err)
        self.assertIn('CONFIG_HUGETLBFS', err)


class ReserveTest(HugepagesTest):
    def test_total_in_default_size(self):
        code, out, _ = self.run_tool('-r', '2G')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, [(G2M, '1024')])
        self.assertEqual(out, 'reserved 1024 x 2M pages in total (2G)\n')
        # the emulated kernel spreads them over the nodes
        self.assertEqual(self.kernel.read_int(self.tree.s(
            'devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages')), 512)

    def test_per_node_and_size(self):
        code, out, _ = self.run_tool('-r', '2G', '-p', '1G', '-n', '1', '-n', '0')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, [(NODE_1G % 1, '2'), (NODE_1G % 0, '2')])
        self.assertEqual(out, 'reserved 2 x 1G pages on node 1 (2G)\n'
                              'reserved 2 x 1G pages on node 0 (2G)\n')

    def test_bare_number_is_megabytes_rounded_up(self):
        code, _, _ = self.run_tool('-r', '65')
        self.assertEqual((code, self.kernel.writes), (0, [(G2M, '33')]))

    def test_zero_releases(self):
        code, _, _ = self.run_tool('-r', '0')
        self.assertEqual((code, self.kernel.writes), (0, [(G2M, '0')]))

    def test_kernel_gives_fewer(self):
        self.kernel.hugepage_cap[(0, 1048576)] = 1
        code, out, err = self.run_tool('-r', '2G', '-p', '1G', '-n', '0')
        self.assertEqual(code, 1)
        self.assertEqual(err.splitlines(), [
            'pdk-hugepages: error: the kernel reserved 1 of 2 1G pages on node 0: not enough '
            'free contiguous memory',
            '  fix: reserve at boot ("hugepagesz=1G hugepages=2" on the kernel command line), '
            'or free and compact memory first (echo 3 > /proc/sys/vm/drop_caches; echo 1 > '
            '/proc/sys/vm/compact_memory) and retry'])

    def test_json_result(self):
        code, out, _ = self.run_tool('-r', '4M', '--json')
        self.assertEqual(json.loads(out), {'ok': True, 'dry_run': False, 'reserved': [
            {'pagesize': 2 << 20, 'node': None, 'pages': 2, 'got': 2}]})

    def test_dry_run(self):
        code, out, _ = self.run_tool('-r', '1G', '-p', '1G', '-n', '1', '--dry-run')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, [])
        self.assertEqual(out, 'would reserve 1 x 1G pages on node 1: echo 1 > %s\n'
                         % self.tree.s(*NODE_1G.split('/')[1:]).replace('%d', '1'))

    def test_unknown_page_size(self):
        code, _, err = self.run_tool('-r', '1G', '-p', '16M')
        self.assertEqual(code, 2)
        self.assertIn('this system has no 16M hugepages (it has: 2M, 1G)', err)

    def test_unknown_node(self):
        code, _, err = self.run_tool('-r', '1G', '-n', '7')
        self.assertEqual(code, 2)
        self.assertIn('there is no NUMA node 7 (nodes: 0, 1)', err)
        self.assertEqual(self.kernel.writes, [])

    def test_bad_size(self):
        code, _, err = self.run_tool('-r', 'lots')
        self.assertEqual(code, 2)
        self.assertIn("bad size 'lots'", err)

    def test_permission(self):
        def denied(path, text):
            raise PermissionError(13, 'Permission denied', path)
        self.kernel.write = denied
        code, _, err = self.run_tool('-r', '1G')
        self.assertEqual(code, 4)
        self.assertIn('fix: run as root', err)


class MountTest(HugepagesTest):
    def test_mount_default_size(self):
        code, out, _ = self.run_tool('--mount')
        point = os.path.join(self.tree.dev, 'hugepages')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.commands, [
            ['/fake/bin/mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', point]])
        self.assertTrue(os.path.isdir(point))
        self.assertEqual(out, 'mounted hugetlbfs (2M pages) on %s\n' % point)

    def test_mount_1g_for_a_user(self):
        code, _, _ = self.run_tool('--mount', '-p', '1G', '-u', '4242:4343')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.commands[0][4:], [
            'pagesize=1G,uid=4242,gid=4343', 'nodev',
            os.path.join(self.tree.dev, 'hugepages-1G')])

    def test_already_mounted(self):
        self.tree.proc_file('mounts', 'nodev /x hugetlbfs rw,pagesize=2M 0 0\n')
        code, out, _ = self.run_tool('--mount')
        self.assertEqual((code, out), (0, '2M pages are already mounted on /x\n'))
        self.assertEqual(self.kernel.commands, [])

    def test_no_hugetlbfs_in_kernel(self):
        self.tree.proc_file('filesystems', 'nodev\tsysfs\n\text4\n')
        code, _, err = self.run_tool('--mount')
        self.assertEqual(code, 4)
        self.assertIn('the kernel has no hugetlbfs', err)

    def test_mount_fails(self):
        self.kernel.run = lambda argv: (32, '', 'mount: permission denied')
        code, _, err = self.run_tool('--mount', '--mount-point',
                                     os.path.join(self.tree.root, 'hp'))
        self.assertEqual(code, 1)
        self.assertIn('mounting hugetlbfs on %s/hp failed (exit 32): mount: permission '
                      'denied' % self.tree.root, err)

    def test_no_mount_command(self):
        self.kernel.have.discard('mount')
        code, _, err = self.run_tool('--mount')
        self.assertEqual(code, 4)
        self.assertIn('no mount command on this system', err)

    def test_unmount_by_size(self):
        self.tree.proc_file('mounts', 'nodev /a hugetlbfs rw,pagesize=2M 0 0\n'
                            'nodev /b hugetlbfs rw,pagesize=1G 0 0\n')
        code, out, _ = self.run_tool('--unmount', '-p', '1G')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.commands, [['/fake/bin/umount', '/b']])
        self.assertEqual(out, 'unmounted /b\n')

    def test_unmount_busy(self):
        self.tree.proc_file('mounts', 'nodev /a hugetlbfs rw 0 0\n')
        self.kernel.run = lambda argv: (32, '', 'umount: /a: target is busy.')
        code, _, err = self.run_tool('--unmount')
        self.assertEqual(code, 1)
        self.assertIn('unmounting /a failed (exit 32): umount: /a: target is busy.', err)
        self.assertIn('pdk-hugepages --clear --dry-run', err)


class ClearTest(HugepagesTest):
    def setUp(self):
        HugepagesTest.setUp(self)
        self.mnt = os.path.join(self.tree.root, 'huge')
        os.makedirs(self.mnt)
        self.tree.proc_file('mounts', 'nodev %s hugetlbfs rw,pagesize=2M 0 0\n' % self.mnt)
        for name in ('pdkmap_0', 'pdkmap_1', 'pdkmap_2', 'pdkmap_3', 'other'):
            write(os.path.join(self.mnt, name), 'x')
        self.locker = None

    def lock(self, name):
        self.locker = subprocess.Popen([sys.executable, '-c', LOCKER,
                                        os.path.join(self.mnt, name)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(self.stop_locker)
        self.assertEqual(self.locker.stdout.readline(), b'locked\n')

    def stop_locker(self):
        self.locker.stdin.close()
        self.locker.wait(10)
        self.locker.stdout.close()

    def holders(self):
        """pdkmap_0 locked (a real child), _1 open in pid 77, _2 mapped by pid 78."""
        self.lock('pdkmap_0')
        link(self.tree.p('77', 'fd', '5'), os.path.join(self.mnt, 'pdkmap_1'))
        os.makedirs(self.tree.p('78', 'fd'))
        self.tree.proc_file('78/maps', '7f0000000000-7f0000200000 rw-s 00000000 00:2f 999 '
                            '   %s/pdkmap_2 (deleted)\n' % self.mnt)

    def left(self):
        return sorted(os.listdir(self.mnt))

    def test_removes_only_unheld_files(self):
        self.holders()
        code, out, err = self.run_tool('--clear')
        self.assertEqual((code, err), (0, ''))
        m = self.mnt
        self.assertEqual(out.splitlines(), [
            'removed %s/other' % m,
            'kept %s/pdkmap_0: locked by pid %d' % (m, self.locker.pid),
            'kept %s/pdkmap_1: open by pid 77' % m,
            'kept %s/pdkmap_2: mapped by pid 78' % m,
            'removed %s/pdkmap_3' % m])
        self.assertEqual(self.left(), ['pdkmap_0', 'pdkmap_1', 'pdkmap_2'])

    def test_unlocked_file_is_removed(self):
        code, _, _ = self.run_tool('--clear', '--file-prefix', 'pdk')
        self.assertEqual(code, 0)
        self.assertEqual(self.left(), ['other'])

    def test_json_and_dry_run(self):
        self.lock('pdkmap_3')
        code, out, _ = self.run_tool('--clear', '--dry-run', '--json', '--file-prefix', 'pdk')
        data = json.loads(out)
        self.assertEqual(code, 0)
        self.assertEqual(self.left(), ['other', 'pdkmap_0', 'pdkmap_1', 'pdkmap_2',
                                       'pdkmap_3'])
        self.assertEqual(data['cleared'][3], {
            'path': os.path.join(self.mnt, 'pdkmap_3'), 'size': 1,
            'held_by': self.locker.pid, 'how': 'locked', 'removed': False})
        self.assertEqual([c['held_by'] for c in data['cleared'][:3]], [None] * 3)

    def test_uninspectable_process_keeps_files_unless_forced(self):
        write(self.tree.p('90', 'fd'), 'not a directory')
        code, out, _ = self.run_tool('--clear', '--file-prefix', 'pdk')
        self.assertEqual(code, 0)
        self.assertEqual(len(self.left()), 5)
        self.assertIn('kept %s/pdkmap_0: unlocked, but not every process could be '
                      'inspected' % self.mnt, out)
        self.assertIn('note: could not inspect processes 90', out)
        code, out, _ = self.run_tool('--clear', '--force')
        self.assertEqual(self.left(), [])

    def test_setup_clears_grows_and_mounts(self):
        self.lock('pdkmap_0')
        code, out, _ = self.run_tool('--setup', '2G', '--file-prefix', 'pdk')
        self.assertEqual(code, 0)
        self.assertEqual(self.left(), ['other', 'pdkmap_0'])
        self.assertEqual(self.kernel.writes, [(G2M, '1024')])
        self.assertEqual(self.kernel.commands, [])
        self.assertTrue(out.endswith('reserved 1024 x 2M pages in total (2G)\n'
                                     '2M pages are already mounted on %s\n' % self.mnt))

    def test_setup_never_shrinks(self):
        code, out, _ = self.run_tool('--setup', '64M', '-p', '2M', '--file-prefix', 'x')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, [])
        self.assertIn('512 x 2M pages already reserved in total', out)

    def test_setup_mounts_1g(self):
        code, _, _ = self.run_tool('--setup', '1G', '-p', '1G', '-n', '0')
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, [(NODE_1G % 0, '1')])
        self.assertEqual(self.kernel.commands[0][-1], os.path.join(self.tree.dev,
                                                                   'hugepages-1G'))


if __name__ == '__main__':
    unittest.main()

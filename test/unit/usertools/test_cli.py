# SPDX-License-Identifier: BSD-3-Clause
"""The user tools as programs: layouts they run from, imports, real file writes."""

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

from fakesys import TOOLS, FakeTree, write

SCRIPTS = ('pdk-devbind', 'pdk-hugepages', 'pdk-doctor')
HELPER = 'pdk_sysfs.py'
# Core modules a trimmed python3 in a minimal guest still has.
ALLOWED = {'os', 'sys', 'json', 'argparse', 're', 'errno', 'fcntl', 'pwd', 'grp',
           'subprocess', 'shutil', 'glob', 'time', 'stat', 'resource', 'struct',
           'pdk_sysfs'}
NIC = '0000:03:00.0'


def run(argv, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env, timeout=30)
    return p.returncode, p.stdout, p.stderr


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pdk-cli-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.tree = FakeTree()
        self.addCleanup(self.tree.cleanup)

    def layout(self, bindir, helperdir):
        os.makedirs(bindir, exist_ok=True)
        os.makedirs(helperdir, exist_ok=True)
        for s in SCRIPTS:
            shutil.copy2(os.path.join(TOOLS, s), bindir)
        shutil.copy2(os.path.join(TOOLS, HELPER), helperdir)
        return bindir


class LayoutTest(CliTest):
    def test_help_names_exit_codes(self):
        for s in SCRIPTS:
            code, out, err = run([sys.executable, os.path.join(TOOLS, s), '--help'])
            self.assertEqual((code, err), (0, ''), s)
            self.assertIn('exit codes: 0 ', out, s)
            self.assertIn('--sysfs-root', out, s)
            self.assertIn('--json', out, s)

    def test_scripts_are_executable_with_a_python3_shebang(self):
        for s in SCRIPTS:
            path = os.path.join(TOOLS, s)
            self.assertTrue(os.stat(path).st_mode & stat.S_IXUSR, s)
            with open(path) as f:
                self.assertEqual(f.readline(), '#!/usr/bin/env python3\n')

    def test_run_when_copied_next_to_the_helper(self):
        bindir = self.layout(os.path.join(self.tmp, 'flat'), os.path.join(self.tmp, 'flat'))
        self.each_tool_runs(bindir)

    def test_run_from_the_installed_layout(self):
        bindir = self.layout(os.path.join(self.tmp, 'usr', 'bin'),
                             os.path.join(self.tmp, 'usr', 'share', 'pdk'))
        self.each_tool_runs(bindir)

    def test_build_tree_copies(self):
        build = os.environ.get('PDK_BUILD_DIR')
        if not build:
            self.skipTest('PDK_BUILD_DIR not set (run through meson test)')
        self.each_tool_runs(os.path.join(build, 'usertools'))

    def each_tool_runs(self, bindir):
        self.tree.add_device(NIC, '8086', '10fb', 0x020000, 'ixgbe', 12, 0)
        self.tree.add_hugepages(2048, {0: (4, 4)})
        self.tree.meminfo()
        for s in SCRIPTS:
            code, out, err = run([os.path.join(bindir, s), '--json'] + self.tree.args())
            self.assertIn(code, (0, 1), '%s: %s' % (s, err))
            self.assertIsInstance(json.loads(out), dict, s)

    def test_imports_stay_in_the_core_stdlib(self):
        for name in SCRIPTS + (HELPER,):
            with open(os.path.join(TOOLS, name)) as f:
                tree = ast.parse(f.read(), name)
            mods = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods.update(a.name.split('.')[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    mods.add(node.module.split('.')[0])
            self.assertEqual(mods - ALLOWED, set(), name)


class RealWritesTest(CliTest):
    """No emulator: sysfs attributes are plain files, so nothing really binds."""

    def devbind(self, *argv, env=None):
        state = os.path.join(self.tmp, 'state.json')
        return run([sys.executable, os.path.join(TOOLS, 'pdk-devbind'), '--state-file',
                    state] + list(argv) + self.tree.args(), env=env)

    def read(self, *parts):
        with open(self.tree.s(*parts)) as f:
            return f.read()

    def test_bind_that_never_happens_is_rolled_back(self):
        self.tree.add_device(NIC, '8086', '10fb', 0x020000, 'ixgbe', 12, 0)
        self.tree.add_driver('vfio-pci')
        code, out, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 1)
        self.assertIn('0000:03:00.0 is bound to ixgbe after the probe, not vfio-pci; '
                      'rolled back 0000:03:00.0', err)
        # what the tool wrote, last write per file
        self.assertEqual(self.read('bus', 'pci', 'drivers', 'ixgbe', 'unbind'), NIC)
        self.assertEqual(self.read('bus', 'pci', 'drivers_probe'), NIC)
        self.assertEqual(self.read('bus', 'pci', 'devices', NIC, 'driver_override'), '\n')
        self.assertEqual(self.read('bus', 'pci', 'drivers', 'ixgbe', 'bind'), NIC)
        with open(os.path.join(self.tmp, 'state.json')) as f:
            self.assertEqual(json.load(f)['devices'], {})

    @unittest.skipUnless(os.geteuid() == 0, 'loading a module needs root')
    def test_fake_modprobe_on_path(self):
        self.tree.add_device(NIC, '8086', '10fb', 0x020000, 'ixgbe', 12, 0)
        self.tree.add_module_files(['vfio_pci'])
        fakebin = os.path.join(self.tmp, 'bin')
        log = os.path.join(self.tmp, 'modprobe.log')
        write(os.path.join(fakebin, 'modprobe'),
              '#!/bin/sh\necho "$@" >> %s\nmkdir -p %s\n'
              % (log, self.tree.s('bus', 'pci', 'drivers', 'vfio-pci')))
        os.chmod(os.path.join(fakebin, 'modprobe'), 0o755)
        env = dict(os.environ, PATH=fakebin + os.pathsep + os.environ.get('PATH', ''))
        code, out, err = self.devbind('--bind', 'vfio-pci', '--dry-run', NIC, env=env)
        self.assertEqual(code, 0, err)
        self.assertIn('would run: %s/modprobe vfio-pci' % fakebin, out)
        self.assertFalse(os.path.exists(log))
        code, out, err = self.devbind('--bind', 'vfio-pci', NIC, env=env)
        self.assertEqual(code, 1)  # loaded, but no kernel here binds it: rolled back
        self.assertIn('rolled back 0000:03:00.0', err)
        with open(log) as f:
            self.assertEqual(f.read(), 'vfio-pci\n')
        self.assertTrue(os.path.isdir(self.tree.s('bus', 'pci', 'drivers', 'vfio-pci')))

    def test_doctor_exit_code_and_summary(self):
        code, out, err = run([sys.executable, os.path.join(TOOLS, 'pdk-doctor')] +
                             self.tree.args())
        self.assertEqual(code, 1)
        self.assertRegex(out.splitlines()[-1], r'^pdk-doctor: \d+ PASS, \d+ WARN, \d+ FAIL$')

    def test_hugepages_reserve_writes_the_file(self):
        self.tree.add_hugepages(2048, {0: (0, 0)})
        self.tree.meminfo()
        code, out, err = run([sys.executable, os.path.join(TOOLS, 'pdk-hugepages'), '-r',
                              '8M'] + self.tree.args())
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(self.read('kernel', 'mm', 'hugepages', 'hugepages-2048kB',
                                   'nr_hugepages'), '4')
        self.assertEqual(out, 'reserved 4 x 2M pages in total (8M)\n')


if __name__ == '__main__':
    unittest.main()

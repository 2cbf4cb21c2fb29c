# SPDX-License-Identifier: BSD-3-Clause
"""pdk-devbind against fake sysfs/procfs trees and an emulated kernel."""

import json
import os
import unittest

import fakesys
from fakesys import ToolTest, write

NIC = '0000:03:00.0'
NIC2 = '0000:03:00.1'
NVME = '0000:04:00.0'
BRIDGE = '0000:00:01.0'

PCI_IDS = """\
# test pci.ids
8086  Intel Corporation
\t10fb  82599ES 10-Gigabit SFI/SFP+ Network Connection
\t\t8086 0003  Ethernet Server Adapter X520-2
\t0953  PCIe Data Center SSD
1af4  Red Hat, Inc.
\t1041  Virtio 1.0 network device
C 02  Network controller
"""

ROUTE_HEADER = ('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\t'
                'MTU\tWindow\tIRTT\n')


def route(ifname, dest='0001A8C0', up=True):
    """A /proc/net/route line: dest/24 (little-endian hex; 192.168.1.0 by default)."""
    return '%s\t%s\t00000000\t%04x\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' % (
        ifname, dest, 1 if up else 0)


class DevbindTest(ToolTest):
    tool = 'pdk-devbind'

    def setUp(self):
        ToolTest.setUp(self)
        self.state = os.path.join(self.tree.root, 'run', 'devbind.json')
        self.ids = os.path.join(self.tree.root, 'pci.ids')
        write(self.ids, PCI_IDS)
        self.tree.add_driver('vfio-pci')
        self.tree.add_module_files(['vfio', 'vfio_pci', 'ixgbe', 'nvme'])

    def nic(self, bdf=NIC, group=12, driver='ixgbe', ifname=None, numa=0, override=None):
        self.tree.add_device(bdf, '8086', '10fb', 0x020000, driver, group, numa, override)
        self.kernel.native[bdf] = ['ixgbe']
        if ifname:
            self.tree.add_netdev(bdf, ifname)

    def nvme(self, bdf=NVME, group=13):
        self.tree.add_device(bdf, '8086', '0953', 0x010802, 'nvme', group, 1)
        self.kernel.native[bdf] = ['nvme']

    def devbind(self, *argv):
        return self.run_tool('--state-file', self.state, '--pci-ids', self.ids, *argv)

    def saved(self):
        with open(self.state) as f:
            return json.load(f)['devices']

    def bind_writes(self, bdf, old):
        return [('sys/bus/pci/drivers/%s/unbind' % old, bdf),
                ('sys/bus/pci/devices/%s/driver_override' % bdf, 'vfio-pci'),
                ('sys/bus/pci/drivers_probe', bdf)]


class StatusTest(DevbindTest):
    def build(self):
        self.nic(ifname='eth0')
        self.nvme()
        self.tree.add_disk(NVME, 'nvme0n1', '259:0', [('nvme0n1p1', '259:1')])
        self.tree.add_device(BRIDGE, '8086', '1234', 0x060400, 'pcieport', 12)
        write(os.path.join(self.tree.modules, 'modules.alias'),
              'alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe\n'
              'alias pci:v*d*sv*sd*bc01sc08i02* nvme\n'
              'alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n')

    def test_table_groups_devices_by_class(self):
        self.build()
        code, out, err = self.devbind('--status')
        self.assertEqual((code, err), (0, ''))
        h = ('BDF           Device' + ' ' * 66 + 'Driver    Can use         IOMMU  NUMA  '
             'Interfaces/disks')
        self.assertEqual(out.splitlines(), [
            'Network devices', h,
            '0000:03:00.0  Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Conn '
            '[8086:10fb]  ixgbe     ixgbe,vfio-pci  12     0     eth0',
            '', 'Storage devices', h,
            '0000:04:00.0  Intel Corporation PCIe Data Center SSD [8086:0953]' + ' ' * 22 +
            'nvme      nvme,vfio-pci   13     1     nvme0n1',
            '', 'Other devices', h,
            '0000:00:01.0  Intel Corporation Bridge [8086:1234]' + ' ' * 36 +
            'pcieport  pcieport        12     -'])

    def test_json_has_every_field(self):
        self.build()
        self.tree.proc_file('mounts', '/dev/nvme0n1p1 /data ext4 rw 0 0\n')
        code, out, _ = self.devbind('--json')
        self.assertEqual(code, 0)
        data = json.loads(out)
        self.assertEqual(sorted(data), ['network', 'other', 'storage'])
        self.assertEqual(data['storage'], [{
            'bdf': NVME, 'vendor_id': '8086', 'device_id': '0953', 'class': '010802',
            'vendor_name': 'Intel Corporation', 'device_name': 'PCIe Data Center SSD',
            'driver': 'nvme', 'driver_override': None, 'drivers': ['nvme', 'vfio-pci'],
            'iommu_group': '13', 'numa_node': 1, 'interfaces': [],
            'block_devices': ['nvme0n1'], 'in_use': ['nvme0n1p1 is mounted on /data'],
            'original_driver': None}])
        self.assertEqual(data['network'][0]['interfaces'], ['eth0'])
        self.assertEqual(data['other'][0]['drivers'], ['pcieport'])

    def test_can_use_comes_from_modules_alias(self):
        self.build()
        self.tree.set_driver(NVME, 'vfio-pci')
        self.tree.set_driver(NIC, None)
        data = json.loads(self.devbind('--json')[1])
        self.assertEqual(data['storage'][0]['drivers'], ['vfio-pci', 'nvme'])
        self.assertEqual(data['network'][0]['drivers'], ['ixgbe', 'vfio-pci'])

    def test_names_fall_back_to_class_without_pci_ids(self):
        self.tree.add_device(NIC, '15b3', '1017', 0x020000, None, None)
        code, out, _ = self.run_tool('--state-file', self.state, '--pci-ids',
                                     os.path.join(self.tree.root, 'none'), '--json')
        dev = json.loads(out)['network'][0]
        self.assertEqual((dev['vendor_name'], dev['device_name']), (None, None))
        code, out, _ = self.run_tool('--state-file', self.state, '--pci-ids',
                                     os.path.join(self.tree.root, 'none'))
        self.assertIn('0000:03:00.0  Network controller [15b3:1017]  -       vfio-pci  '
                      '-      -', out)

    def test_shows_original_driver_and_in_use(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/route', ROUTE_HEADER + route('eth0'))
        write(self.state, json.dumps({'devices': {NIC: {'driver': 'i40e'}}}))
        _, out, _ = self.devbind()
        self.assertIn('ixgbe (was i40e)', out)
        self.assertIn('eth0 *in use*', out)


class ResolveTest(DevbindTest):
    def test_short_bdf_interface_and_disk_names(self):
        self.nic(ifname='eth0')
        self.tree.add_device('0000:00:03.0', '1af4', '1041', 0x020000, 'virtio-pci', 3)
        self.tree.add_netdev('0000:00:03.0', 'enp0s3', virtio='virtio0')
        self.nvme()
        self.tree.add_disk(NVME, 'nvme0n1', '259:0')
        code, out, _ = self.devbind('--bind', 'vfio-pci', '-n', '03:00.0', 'enp0s3',
                                    'nvme0n1', 'eth0', '--json')
        self.assertEqual(code, 0)
        actions = [r['action'] for r in json.loads(out)['results']]
        self.assertEqual(actions, [
            'bind 0000:03:00.0 (ixgbe -> vfio-pci)',
            'bind 0000:00:03.0 (virtio-pci -> vfio-pci)',
            'bind 0000:04:00.0 (nvme -> vfio-pci)'])

    def test_unknown_device_is_a_usage_error(self):
        self.nic()
        code, out, err = self.devbind('--bind', 'vfio-pci', 'eth9')
        self.assertEqual(code, 2)
        self.assertIn("error: no PCI device 'eth9'", err)
        self.assertIn('fix: give a PCI address', err)

    def test_json_error(self):
        code, out, err = self.devbind('--bind', 'vfio-pci', '--json', '0000:09:00.0')
        self.assertEqual(code, 2)
        data = json.loads(out)
        self.assertEqual((data['ok'], data['exit_code']), (False, 2))
        self.assertIn('no PCI device', data['error'])


class BindTest(DevbindTest):
    def test_bind_writes_override_then_probe_and_remembers(self):
        self.nic()
        code, out, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(out, '0000:03:00.0: ixgbe -> vfio-pci\n')
        self.assertEqual(self.kernel.writes, self.bind_writes(NIC, 'ixgbe'))
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')
        self.assertEqual(self.saved()[NIC]['driver'], 'ixgbe')
        self.assertIsNone(self.saved()[NIC]['driver_override'])

    def test_already_bound_writes_nothing(self):
        self.nic(driver='vfio-pci')
        code, out, _ = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual((code, out), (0, '0000:03:00.0: already bound to vfio-pci\n'))
        self.assertEqual(self.kernel.writes, [])
        self.assertFalse(os.path.exists(self.state))

    def test_unbound_device_has_no_unbind_step(self):
        self.nic(driver=None)
        code, _, _ = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, self.bind_writes(NIC, 'x')[1:])
        self.assertIsNone(self.saved()[NIC]['driver'])

    def test_dry_run_prints_the_writes_and_changes_nothing(self):
        self.nic()
        code, out, _ = self.devbind('--bind', 'vfio-pci', '--dry-run', NIC)
        self.assertEqual(code, 0)
        s = self.tree.sys
        self.assertEqual(out, (
            'would bind 0000:03:00.0 (ixgbe -> vfio-pci):\n'
            '  echo 0000:03:00.0 > {s}/bus/pci/drivers/ixgbe/unbind\n'
            '  echo vfio-pci > {s}/bus/pci/devices/0000:03:00.0/driver_override\n'
            '  echo 0000:03:00.0 > {s}/bus/pci/drivers_probe\n').format(s=s))
        self.assertEqual(self.kernel.writes, [])
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')
        self.assertFalse(os.path.exists(self.state))

    def test_json_result(self):
        self.nic()
        code, out, _ = self.devbind('--bind', 'vfio-pci', '--json', NIC)
        self.assertEqual(json.loads(out), {
            'ok': True, 'dry_run': False,
            'results': [{'bdf': NIC, 'from': 'ixgbe', 'to': 'vfio-pci'}]})

    def test_no_iommu_group(self):
        self.nic(group=None)
        code, _, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 4)
        self.assertIn('0000:03:00.0 has no IOMMU group, so vfio-pci cannot take it', err)
        self.assertIn('intel_iommu=on', err)
        self.assertEqual(self.kernel.writes, [])

    def test_noiommu_mode_allows_a_device_without_group(self):
        self.nic(group=None)
        write(self.tree.s('module', 'vfio', 'parameters', 'enable_unsafe_noiommu_mode'), 'Y\n')
        code, _, _ = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')

    def test_permission_denied_names_root(self):
        self.nic()

        def denied(path, text):
            raise PermissionError(13, 'Permission denied', path)
        self.kernel.write = denied
        code, _, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 4)
        self.assertIn('permission denied writing %s/bus/pci/drivers/ixgbe/unbind'
                      % self.tree.sys, err)
        self.assertIn('fix: run as root', err)

    def test_other_driver_needs_no_group_check(self):
        self.nic(driver=None)
        self.nic(NIC2, driver='ixgbe')
        code, _, _ = self.devbind('--bind', 'ixgbe', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')


class GroupTest(DevbindTest):
    def build(self):
        self.nic()
        self.nic(NIC2)
        self.tree.add_device(BRIDGE, '8086', '1234', 0x060400, 'pcieport', 12)

    def test_non_viable_group_names_the_blocker(self):
        self.build()
        code, out, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 3)
        self.assertEqual(err.splitlines(), [
            'pdk-devbind: error: binding to vfio-pci leaves IOMMU group 12 unusable: '
            '0000:03:00.1 (ixgbe) still bound to a driver that uses DMA',
            '  fix: add --group to bind the whole group, or unbind them first: '
            'pdk-devbind --unbind 0000:03:00.1'])
        self.assertEqual(self.kernel.writes, [])

    def test_both_devices_named_make_it_viable(self):
        self.build()
        code, _, _ = self.devbind('--bind', 'vfio-pci', NIC, NIC2)
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.writes, self.bind_writes(NIC, 'ixgbe') +
                         self.bind_writes(NIC2, 'ixgbe'))

    def test_group_binds_every_endpoint_not_bridges(self):
        self.build()
        code, out, _ = self.devbind('--bind', 'vfio-pci', '--group', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(out, '0000:03:00.0: ixgbe -> vfio-pci\n'
                              '0000:03:00.1: ixgbe -> vfio-pci\n')
        self.assertEqual(self.tree.driver_of(NIC2), 'vfio-pci')
        self.assertEqual(self.tree.driver_of(BRIDGE), 'pcieport')
        self.assertEqual(sorted(self.saved()), [NIC, NIC2])

    def test_pci_stub_and_unbound_members_are_fine(self):
        self.nic()
        self.nic(NIC2, driver='pci-stub')
        self.nic('0000:03:00.2', driver=None)
        code, _, _ = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 0)

    def test_force_binds_a_non_viable_group_with_a_warning(self):
        self.build()
        code, out, _ = self.devbind('--bind', 'vfio-pci', '--force', NIC)
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith('warning: binding to vfio-pci leaves IOMMU group 12 '
                                       'unusable: 0000:03:00.1 (ixgbe)'))
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')


class InUseTest(DevbindTest):
    def refused(self, *devices):
        code, out, err = self.devbind('--bind', 'vfio-pci', *devices)
        self.assertEqual(code, 3, err)
        self.assertEqual(self.kernel.writes, [])
        return err.splitlines()[0]

    def test_ipv4_route(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/route', ROUTE_HEADER + route('eth1', '0002000A') +
                            route('eth0'))
        self.assertEqual(self.refused(NIC), 'pdk-devbind: error: 0000:03:00.0 is in use: '
                                            'eth0 has route 192.168.1.0/24')

    def test_down_route_is_ignored(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/route', ROUTE_HEADER + route('eth0', up=False))
        code, _, _ = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 0)

    def test_ipv6_route_but_not_link_local(self):
        self.nic(ifname='eth0')
        z32 = '0' * 32
        self.tree.proc_file('net/ipv6_route', (
            'fe800000000000000000000000000000 40 %s 00 %s 00000100 00000001 00000000 '
            '00000001     eth0\n'
            'ff000000000000000000000000000000 08 %s 00 %s 00000100 00000001 00000000 '
            '00000001     eth0\n') % (z32, z32, z32, z32))
        code, _, _ = self.devbind('--bind', 'vfio-pci', '-n', NIC)
        self.assertEqual(code, 0)
        with open(self.tree.p('net', 'ipv6_route'), 'a') as f:
            f.write('20010db8000000000000000000000000 40 %s 00 %s 00000100 00000001 '
                    '00000000 00000001     eth0\n' % (z32, z32))
        self.assertEqual(self.refused(NIC), 'pdk-devbind: error: 0000:03:00.0 is in use: '
                                            'eth0 has route 2001:db8::/64')

    def test_ipv6_global_address(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/if_inet6',
                            'fe800000000000000000000000000001 02 40 20 80     eth0\n'
                            'fd000000000000000000000000000002 02 40 00 80     eth0\n'
                            'fd000000000000000000000000000003 03 40 00 80     eth1\n')
        self.assertEqual(self.refused(NIC), 'pdk-devbind: error: 0000:03:00.0 is in use: '
                                            'eth0 has address fd00::2/64')

    def test_ipv4_address_from_fib_trie(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/route', ROUTE_HEADER + route('eth0', up=False))
        self.tree.proc_file('net/fib_trie', (
            'Main:\n  +-- 0.0.0.0/0 3 0 5\n     +-- 192.168.1.0/24 2 0 2\n'
            '        |-- 192.168.1.0\n           /24 link UNICAST\n'
            '        |-- 192.168.1.7\n           /32 host LOCAL\n'
            '     |-- 127.0.0.1\n        /32 host LOCAL\n'))
        self.assertEqual(self.refused(NIC), 'pdk-devbind: error: 0000:03:00.0 is in use: '
                                            'eth0 has address 192.168.1.7')

    def test_ip_json_on_a_live_system(self):
        self.nic(ifname='eth0')
        self.kernel.live = lambda: True
        self.kernel.have.add('ip')
        answers = {'ip': (0, json.dumps([{'ifname': 'eth0', 'addr_info': [
            {'family': 'inet6', 'local': 'fe80::1', 'prefixlen': 64, 'scope': 'link'},
            {'family': 'inet', 'local': '10.1.2.3', 'prefixlen': 8, 'scope': 'global'}]}]))}
        run = self.kernel.run

        def fake_run(argv):
            if os.path.basename(argv[0]) in answers:
                self.kernel.commands.append(argv)
                return answers[os.path.basename(argv[0])][0], \
                    answers[os.path.basename(argv[0])][1], ''
            return run(argv)
        self.kernel.run = fake_run
        self.assertEqual(self.refused(NIC), 'pdk-devbind: error: 0000:03:00.0 is in use: '
                                            'eth0 has address 10.1.2.3/8')
        self.assertIn(['/fake/bin/ip', '-j', 'addr', 'show', 'dev', 'eth0'],
                      self.kernel.commands)

    def test_force_binds_an_active_nic(self):
        self.nic(ifname='eth0')
        self.tree.proc_file('net/route', ROUTE_HEADER + route('eth0'))
        code, _, _ = self.devbind('--bind', 'vfio-pci', '--force', 'eth0')
        self.assertEqual(code, 0)
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')

    def disk(self):
        self.nvme()
        self.tree.add_disk(NVME, 'nvme0n1', '259:0',
                           [('nvme0n1p1', '259:1'), ('nvme0n1p2', '259:2')])

    def test_mounted_partition(self):
        self.disk()
        self.tree.proc_file('mounts', 'proc /proc proc rw 0 0\n'
                            '/dev/nvme0n1p1 /mnt/my\\040data ext4 rw 0 0\n')
        self.assertEqual(self.refused(NVME), 'pdk-devbind: error: 0000:04:00.0 is in use: '
                                             'nvme0n1p1 is mounted on /mnt/my data')

    def test_mount_found_by_device_number(self):
        self.disk()
        self.tree.proc_file('self/mountinfo',
                            '22 1 0:21 / /proc rw - proc proc rw\n'
                            '25 1 259:2 / /srv rw,relatime - xfs /dev/root rw\n')
        self.assertEqual(self.refused(NVME), 'pdk-devbind: error: 0000:04:00.0 is in use: '
                                             'nvme0n1p2 is mounted on /srv')

    def test_mount_through_a_by_uuid_link(self):
        self.disk()
        fakesys.link(os.path.join(self.tree.dev, 'disk', 'by-uuid', 'abcd'),
                     '../../nvme0n1p1')
        self.tree.proc_file('mounts', '/dev/disk/by-uuid/abcd /boot ext4 rw 0 0\n')
        self.assertEqual(self.refused(NVME), 'pdk-devbind: error: 0000:04:00.0 is in use: '
                                             'nvme0n1p1 is mounted on /boot')

    def test_swap_and_device_mapper(self):
        self.disk()
        self.tree.add_holder('nvme0n1p2', 'dm-0', '254:0', 'vg-root')
        self.tree.proc_file('mounts', '/dev/mapper/vg-root / ext4 rw 0 0\n')
        self.tree.proc_file('swaps', 'Filename\tType\tSize\tUsed\tPriority\n'
                            '/dev/nvme0n1p1  partition\t1024\t0\t-2\n')
        self.assertEqual(self.refused(NVME), 'pdk-devbind: error: 0000:04:00.0 is in use: '
                                             'nvme0n1p2 is held by dm-0; dm-0 is mounted on '
                                             '/; nvme0n1p1 is in use as swap')

    def test_unmounted_disk_binds(self):
        self.disk()
        self.tree.proc_file('mounts', '/dev/nvme1n1p1 / ext4 rw 0 0\n')
        code, _, _ = self.devbind('--bind', 'vfio-pci', NVME)
        self.assertEqual(code, 0)

    def test_unbind_is_refused_too(self):
        self.disk()
        self.tree.proc_file('mounts', '/dev/nvme0n1 /data ext4 rw 0 0\n')
        code, _, err = self.devbind('--unbind', NVME)
        self.assertEqual(code, 3)
        self.assertIn('nvme0n1 is mounted on /data', err)
        self.assertIn('or pass --force', err)


class ModuleTest(DevbindTest):
    def setUp(self):
        DevbindTest.setUp(self)
        self.nic()
        for d in ('bus/pci/drivers/vfio-pci', 'module/vfio_pci'):
            fakesys.shutil.rmtree(self.tree.s(*d.split('/')))

    def bind(self):
        return self.devbind('--bind', 'vfio-pci', NIC)

    def test_loads_vfio_pci_then_binds(self):
        code, out, err = self.bind()
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(self.kernel.commands, [['/fake/bin/modprobe', 'vfio-pci']])
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')

    def test_dry_run_says_it_would_load(self):
        code, out, _ = self.devbind('--bind', 'vfio-pci', '-n', NIC)
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith('driver vfio-pci is not loaded\n'
                                       'would run: /fake/bin/modprobe vfio-pci\n'))
        self.assertEqual(self.kernel.commands, [])

    def test_no_modules_for_this_kernel(self):
        fakesys.shutil.rmtree(self.tree.modules)
        code, _, err = self.bind()
        self.assertEqual(code, 4)
        self.assertIn('vfio-pci is not loaded and there are no modules for the running '
                      'kernel (%s does not exist)' % self.tree.modules, err)
        self.assertIn('fix: install the module package of kernel modules', err)

    def test_module_not_built(self):
        self.tree.add_module_files(['ixgbe'])
        code, _, err = self.bind()
        self.assertEqual(code, 4)
        self.assertIn('vfio-pci is not built for kernel modules (not in modules.dep or '
                      'modules.builtin', err)

    def test_builtin_counts_as_present(self):
        self.tree.add_module_files(['ixgbe'], builtin=['vfio-pci'])
        code, _, _ = self.bind()
        self.assertEqual(code, 0)

    def test_no_modprobe(self):
        self.kernel.have.discard('modprobe')
        code, _, err = self.bind()
        self.assertEqual(code, 4)
        self.assertIn('vfio-pci is not loaded and there is no modprobe on this system', err)
        self.assertIn('fix: install kmod, or insmod', err)

    def test_not_root(self):
        self.kernel._euid = 1000
        code, _, err = self.bind()
        self.assertEqual(code, 4)
        self.assertIn('vfio-pci is not loaded and loading it needs root', err)
        self.assertIn('fix: sudo modprobe vfio-pci', err)
        self.assertEqual(self.kernel.commands, [])

    def test_modprobe_fails(self):
        self.kernel.modprobe_result['vfio-pci'] = (1, 'modprobe: ERROR: could not insert '
                                                      "'vfio_pci': Unknown symbol\n")
        code, _, err = self.bind()
        self.assertEqual(code, 4)
        self.assertIn("modprobe vfio-pci failed (exit 1): modprobe: ERROR: could not insert "
                      "'vfio_pci': Unknown symbol", err)
        self.assertEqual(self.kernel.writes, [])


class RollbackTest(DevbindTest):
    def test_failed_probe_rolls_back_to_the_old_driver(self):
        self.nic()
        self.kernel.refuse[NIC] = ['vfio-pci']
        code, out, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 1)
        self.assertEqual(err.splitlines()[0], 'pdk-devbind: error: 0000:03:00.0 is bound to '
                         'no driver after the probe, not vfio-pci; rolled back 0000:03:00.0')
        self.assertEqual(self.kernel.writes, self.bind_writes(NIC, 'ixgbe') + [
            ('sys/bus/pci/devices/%s/driver_override' % NIC, '\n'),
            ('sys/bus/pci/drivers/ixgbe/bind', NIC)])
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')
        self.assertEqual(self.tree.override_of(NIC), '(null)')
        self.assertEqual(self.saved(), {})

    def test_second_device_fails_first_is_undone(self):
        self.nic()
        self.nic(NIC2)
        self.kernel.refuse[NIC2] = ['vfio-pci']
        code, _, err = self.devbind('--bind', 'vfio-pci', NIC, NIC2)
        self.assertEqual(code, 1)
        self.assertIn('rolled back 0000:03:00.0, 0000:03:00.1', err)
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')
        self.assertEqual(self.tree.driver_of(NIC2), 'ixgbe')
        self.assertEqual(self.saved(), {})

    def test_failed_rollback_is_reported_and_remembered(self):
        self.nic()
        self.kernel.refuse[NIC] = ['vfio-pci', 'ixgbe']
        code, _, err = self.devbind('--bind', 'vfio-pci', NIC)
        self.assertEqual(code, 1)
        self.assertIn('rolling back failed too: 0000:03:00.0: writing', err)
        self.assertIn('then pdk-devbind --restore', err)
        self.assertEqual(self.saved()[NIC]['driver'], 'ixgbe')

    def test_rollback_keeps_an_older_original(self):
        self.nic(driver='vfio-pci', override='vfio-pci')
        write(self.state, json.dumps({'devices': {NIC: {'driver': 'ixgbe'}}}))
        self.tree.add_driver('pci-stub')
        self.kernel.refuse[NIC] = ['pci-stub']
        code, _, _ = self.devbind('--bind', 'pci-stub', NIC)
        self.assertEqual(code, 1)
        self.assertEqual(self.tree.driver_of(NIC), 'vfio-pci')
        self.assertEqual(self.tree.override_of(NIC), 'vfio-pci')
        self.assertEqual(self.kernel.writes[-2:], [
            ('sys/bus/pci/devices/%s/driver_override' % NIC, 'vfio-pci'),
            ('sys/bus/pci/drivers/vfio-pci/bind', NIC)])
        self.assertEqual(self.saved()[NIC]['driver'], 'ixgbe')


class RestoreTest(DevbindTest):
    def test_restore_after_bind_in_another_run(self):
        self.nic()
        self.assertEqual(self.devbind('--bind', 'vfio-pci', NIC)[0], 0)
        self.kernel.writes = []
        code, out, err = self.devbind('--restore')
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(out, '0000:03:00.0: vfio-pci -> ixgbe (restored)\n')
        self.assertEqual(self.kernel.writes, [
            ('sys/bus/pci/drivers/vfio-pci/unbind', NIC),
            ('sys/bus/pci/devices/%s/driver_override' % NIC, '\n'),
            ('sys/bus/pci/drivers/ixgbe/bind', NIC)])
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')
        self.assertEqual(self.saved(), {})

    def test_second_bind_keeps_the_first_original(self):
        self.nic()
        self.tree.add_driver('pci-stub')
        self.devbind('--bind', 'vfio-pci', NIC)
        self.devbind('--bind', 'pci-stub', NIC)
        self.assertEqual(self.tree.driver_of(NIC), 'pci-stub')
        self.assertEqual(self.devbind('--restore', NIC)[0], 0)
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')

    def test_restore_dry_run(self):
        self.nic()
        self.devbind('--bind', 'vfio-pci', NIC)
        self.kernel.writes = []
        code, out, _ = self.devbind('--restore', '-n')
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines()[0],
                         'would restore 0000:03:00.0 (vfio-pci -> ixgbe):')
        self.assertEqual(len(out.splitlines()), 4)
        self.assertEqual(self.kernel.writes, [])
        self.assertIn(NIC, self.saved())

    def test_restore_unknown_device(self):
        self.nic()
        code, _, err = self.devbind('--restore', NIC)
        self.assertEqual(code, 2)
        self.assertIn('no original driver recorded for 0000:03:00.0', err)

    def test_restore_to_no_driver(self):
        self.nic(driver=None)
        self.devbind('--bind', 'vfio-pci', NIC)
        self.kernel.writes = []
        self.assertEqual(self.devbind('--restore')[0], 0)
        self.assertIsNone(self.tree.driver_of(NIC))
        self.assertEqual(self.kernel.writes, [
            ('sys/bus/pci/drivers/vfio-pci/unbind', NIC),
            ('sys/bus/pci/devices/%s/driver_override' % NIC, '\n')])

    def test_restore_failure_keeps_the_record(self):
        self.nic()
        self.devbind('--bind', 'vfio-pci', NIC)
        self.kernel.refuse[NIC] = ['ixgbe']
        code, _, err = self.devbind('--restore')
        self.assertEqual(code, 1)
        self.assertIn('1 of 1 devices not restored', err)
        self.assertIn(NIC, self.saved())

    def test_restore_of_a_device_already_back(self):
        self.nic()
        self.devbind('--unbind', NIC)
        self.tree.set_driver(NIC, 'ixgbe')
        self.kernel.writes = []
        code, out, _ = self.devbind('--restore')
        self.assertEqual((code, out), (0, '0000:03:00.0: already on ixgbe\n'))
        self.assertEqual((self.kernel.writes, self.saved()), ([], {}))

    def test_unbind_that_does_not_happen(self):
        self.nic()
        self.kernel.write = lambda path, text: None
        code, _, err = self.devbind('--unbind', NIC)
        self.assertEqual(code, 1)
        self.assertIn('0000:03:00.0 is bound to ixgbe after unbind, not no driver', err)

    def test_nothing_to_restore(self):
        code, out, _ = self.devbind('--restore')
        self.assertEqual(code, 0)
        self.assertIn('nothing to restore', out)

    def test_corrupt_state_file(self):
        write(self.state, '{not json')
        code, _, err = self.devbind('--restore')
        self.assertEqual(code, 4)
        self.assertIn('cannot read state file', err)


class UnbindTest(DevbindTest):
    def test_unbind_then_restore(self):
        self.nic()
        code, out, _ = self.devbind('--unbind', NIC)
        self.assertEqual((code, out), (0, '0000:03:00.0: ixgbe -> no driver\n'))
        self.assertEqual(self.kernel.writes, [('sys/bus/pci/drivers/ixgbe/unbind', NIC)])
        self.assertIsNone(self.tree.driver_of(NIC))
        self.assertEqual(self.saved()[NIC]['driver'], 'ixgbe')
        self.assertEqual(self.devbind('--restore')[0], 0)
        self.assertEqual(self.tree.driver_of(NIC), 'ixgbe')


class UserTest(DevbindTest):
    def setUp(self):
        DevbindTest.setUp(self)
        self.nic()
        write(os.path.join(self.tree.dev, 'vfio', '12'))

    def test_bind_and_give_to_user(self):
        code, out, _ = self.devbind('--bind', 'vfio-pci', '-u', '4242:4343', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.chowns, [('dev/vfio/12', 4242, 4343)])
        self.assertIn('%s/vfio/12 now belongs to 4242 (uid 4242, gid 4343)'
                      % self.tree.dev, out)
        self.assertIn('RLIMIT_MEMLOCK', out)

    def test_user_alone_on_a_bound_device(self):
        self.devbind('--bind', 'vfio-pci', NIC)
        code, _, _ = self.devbind('-u', '4242', NIC)
        self.assertEqual(code, 0)
        self.assertEqual(self.kernel.chowns, [('dev/vfio/12', 4242, 4242)])

    def test_user_on_a_device_not_on_vfio(self):
        code, _, err = self.devbind('-u', '4242', NIC)
        self.assertEqual(code, 2)
        self.assertIn('0000:03:00.0 is not bound to vfio-pci', err)
        self.assertEqual(self.kernel.chowns, [])

    def test_missing_node(self):
        os.unlink(os.path.join(self.tree.dev, 'vfio', '12'))
        self.kernel.chown = fakesys.ps.System.chown.__get__(self.kernel)
        code, _, err = self.devbind('--bind', 'vfio-pci', '-u', '4242', NIC)
        self.assertEqual(code, 4)
        self.assertIn('cannot chown %s/vfio/12' % self.tree.dev, err)

    def test_unknown_user_name(self):
        code, _, err = self.devbind('-u', 'no-such-user-pdk', NIC)
        self.assertEqual(code, 2)
        self.assertIn("no user 'no-such-user-pdk'", err)

    def test_dry_run_shows_the_chown(self):
        code, out, _ = self.devbind('--bind', 'vfio-pci', '-n', '-u', '4242', NIC)
        self.assertEqual(code, 0)
        self.assertIn('would give %s/vfio/12 to 4242:\n  chown 4242:4242 %s/vfio/12\n'
                      % (self.tree.dev, self.tree.dev), out)


class UsageTest(DevbindTest):
    def test_bind_needs_devices(self):
        code, _, err = self.devbind('--bind', 'vfio-pci')
        self.assertEqual(code, 2)
        self.assertIn('give at least one device', err)

    def test_group_needs_bind(self):
        code, _, err = self.devbind('--unbind', '--group', NIC)
        self.assertEqual(code, 2)


if __name__ == '__main__':
    unittest.main()

# SPDX-License-Identifier: BSD-3-Clause
"""pdk-doctor: each check's PASS, WARN and FAIL on fake trees."""

import json
import os
import shutil
import unittest

from fakesys import ToolTest, write

NIC = '0000:03:00.0'
NIC2 = '0000:03:00.1'
# VT-d capability register with MGAW (bits 21:16) = width - 1.
CAP_39 = 0xd2008c40660462
ECAP_IR = 0xf020df


def cap_with_width(bits):
    return (CAP_39 & ~(0x3f << 16)) | ((bits - 1) << 16)


class DoctorTest(ToolTest):
    """A healthy host: every check passes; each test breaks one thing."""

    tool = 'pdk-doctor'

    def setUp(self):
        ToolTest.setUp(self)
        t = self.tree
        self.iommu_unit('dmar0', cap_with_width(48), ECAP_IR)
        for m in ('vfio', 'vfio_iommu_type1', 'vfio_pci'):
            os.makedirs(t.s('module', m), exist_ok=True)
        self.param('vfio_iommu_type1', 'dma_entry_limit', '65535')
        self.param('vfio_iommu_type1', 'allow_unsafe_interrupts', 'N')
        t.add_module_files(['vfio', 'vfio_iommu_type1', 'vfio_pci'])
        t.add_device(NIC, '8086', '10fb', 0x020000, 'vfio-pci', 12, 0)
        t.proc_file('interrupts', '           CPU0\n 24:   10  IR-PCI-MSIX-0000:03:00.0  '
                    '0-edge  vfio-msix[0]\n')
        t.proc_file('cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n')
        self.cpu('GenuineIntel', 'fpu vme sse2', 48)
        t.meminfo(2048)
        t.add_hugepages(2048, {0: (512, 512), 1: (512, 512)})
        t.proc_file('mounts', 'hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\n')
        t.proc_file('self/status', 'Name:\tpdk-doctor\nCapEff:\t0000000000000000\n')
        self.limits('1073741824', '1073741824')
        self.node('vfio', 0o666)
        self.node('12', 0o666)

    def iommu_unit(self, unit, cap=None, ecap=None):
        os.makedirs(self.tree.s('class', 'iommu', unit), exist_ok=True)
        if cap is not None:
            write(self.tree.s('class', 'iommu', unit, 'intel-iommu', 'cap'), '%x\n' % cap)
        if ecap is not None:
            write(self.tree.s('class', 'iommu', unit, 'intel-iommu', 'ecap'), '%x\n' % ecap)

    def param(self, module, name, value):
        write(self.tree.s('module', module, 'parameters', name), value + '\n')

    def cpu(self, vendor, flags, va_bits):
        self.tree.proc_file('cpuinfo', 'processor\t: 0\nvendor_id\t: %s\nflags\t\t: %s\n'
                            'address sizes\t: 46 bits physical, %d bits virtual\n'
                            % (vendor, flags, va_bits))

    def limits(self, soft, hard):
        self.tree.proc_file('self/limits', 'Limit                     Soft Limit           '
                            'Hard Limit           Units     \n'
                            'Max locked memory         %-20s %-20s bytes     \n'
                            % (soft, hard))

    def node(self, name, mode, uid=None):
        path = os.path.join(self.tree.dev, 'vfio', name)
        write(path)
        os.chmod(path, mode)
        if uid is not None:
            if os.geteuid() != 0:
                self.skipTest('giving a file to another uid needs root')
            os.chown(path, uid, -1)

    def doctor(self, *argv):
        code, out, err = self.run_tool('--json', *argv)
        self.assertEqual(err, '')
        data = json.loads(out)
        self.assertEqual(code, 1 if data['summary']['fail'] else 0)
        return data

    def unload_vfio_pci(self):
        shutil.rmtree(self.tree.s('module', 'vfio_pci'))
        shutil.rmtree(self.tree.s('bus', 'pci', 'drivers', 'vfio-pci'))

    def check(self, name, *argv):
        """(status, message, fix) of one check."""
        for c in self.doctor(*argv)['checks']:
            if c['name'] == name:
                return c['status'], c['message'], c['fix']
        self.fail('no check %s' % name)


class ReportTest(DoctorTest):
    def test_healthy_host_passes_everything(self):
        code, out, err = self.run_tool('-a', NIC)
        self.assertEqual((code, err), (0, ''))
        self.assertEqual(out.splitlines(), [
            'PASS  iommu                1 IOMMU groups (dmar0)',
            'PASS  vfio-modules         vfio, vfio_iommu_type1 and vfio_pci are loaded',
            'PASS  interrupt-remapping  enabled (IR-PCI-MSIX interrupts in '
            '/proc/interrupts)',
            'PASS  address-width        dmar0: 48-bit IOVA (MGAW), 48-bit virtual addresses: '
            'IOVA = VA works',
            'PASS  hugepages            2G free (node0 1G, node1 1G), 256M asked (-m 256)',
            'PASS  hugetlbfs            mounted: /dev/hugepages (2M)',
            'PASS  memlock              RLIMIT_MEMLOCK 1G, 256M to pin (-m 256)',
            'PASS  vfio-permissions     you can open %s/vfio/vfio, %s/vfio/12'
            % (self.tree.dev, self.tree.dev),
            'PASS  dma-entry-limit      dma_entry_limit 65535, at most 128 mappings for 256M '
            'in 2M pages',
            'PASS  device 0000:03:00.0  group 12 is viable (0000:03:00.0), bound to vfio-pci',
            'pdk-doctor: 10 PASS, 0 WARN, 0 FAIL'])

    def test_fail_prints_the_fix_and_exits_1(self):
        self.unload_vfio_pci()
        code, out, _ = self.run_tool('-a', NIC)
        self.assertEqual(code, 1)
        self.assertIn('FAIL  vfio-modules         not loaded: vfio_pci\n'
                      '                           fix: modprobe vfio-pci (it loads vfio and '
                      'vfio_iommu_type1 too)\n', out)
        self.assertTrue(out.endswith('pdk-doctor: 9 PASS, 0 WARN, 1 FAIL\n'))

    def test_warn_only_exits_0(self):
        self.param('vfio_iommu_type1', 'dma_entry_limit', '10')
        code, out, _ = self.run_tool('-a', NIC)
        self.assertEqual(code, 0)
        self.assertTrue(out.endswith('pdk-doctor: 9 PASS, 1 WARN, 0 FAIL\n'))

    def test_json_shape(self):
        data = self.doctor('-a', NIC)
        self.assertEqual(data['ok'], True)
        self.assertEqual(data['summary'], {'pass': 10, 'warn': 0, 'fail': 0})
        self.assertEqual([c['name'] for c in data['checks']], [
            'iommu', 'vfio-modules', 'interrupt-remapping', 'address-width', 'hugepages',
            'hugetlbfs', 'memlock', 'vfio-permissions', 'dma-entry-limit',
            'device 0000:03:00.0'])
        self.assertEqual(sorted(data['checks'][0]), ['fix', 'message', 'name', 'status'])

    def test_unknown_device_is_usage_error(self):
        code, _, err = self.run_tool('-a', '0000:09:00.0')
        self.assertEqual(code, 2)
        self.assertIn("no PCI device '0000:09:00.0'", err)

    def test_bad_memory(self):
        code, _, err = self.run_tool('-m', '0')
        self.assertEqual(code, 2)


class IommuTest(DoctorTest):
    def no_iommu(self):
        shutil.rmtree(self.tree.s('kernel', 'iommu_groups'))
        os.makedirs(self.tree.s('kernel', 'iommu_groups'))

    def test_no_groups_intel(self):
        self.no_iommu()
        self.tree.proc_file('cmdline', 'root=/dev/sda1\n')
        self.assertEqual(self.check('iommu'), (
            'FAIL', 'no IOMMU groups: the IOMMU is off or absent (dmar0)',
            'enable VT-d in the firmware and add intel_iommu=on iommu=pt to the kernel '
            'command line (GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub), then '
            'reboot'))

    def test_already_on_the_command_line(self):
        self.no_iommu()
        self.assertEqual(self.check('iommu')[2], 'enable VT-d in the firmware and reboot '
                         '(intel_iommu=on is already on the kernel command line)')

    def test_turned_off(self):
        self.no_iommu()
        self.tree.proc_file('cmdline', 'root=/dev/sda1 intel_iommu=off\n')
        self.assertEqual(self.check('iommu')[2],
                         'remove intel_iommu=off from the kernel command line and reboot')

    def test_amd(self):
        self.no_iommu()
        self.cpu('AuthenticAMD', 'fpu', 48)
        self.assertTrue(self.check('iommu')[2].startswith(
            'enable the IOMMU (AMD-Vi) in the firmware and add amd_iommu=on iommu=pt'))

    def test_vm(self):
        self.no_iommu()
        self.cpu('GenuineIntel', 'fpu hypervisor', 48)
        self.assertTrue(self.check('iommu')[2].startswith(
            'this is a VM: give it a virtual IOMMU (QEMU: -machine q35,kernel-irqchip=split '
            '-device intel-iommu,intremap=on)'))

    def test_noiommu_mode_warns(self):
        self.no_iommu()
        self.param('vfio', 'enable_unsafe_noiommu_mode', 'Y')
        self.assertEqual(self.check('iommu')[:2], (
            'WARN', 'no IOMMU: vfio runs in unsafe no-IOMMU mode, devices can DMA anywhere '
                    'in memory'))

    def test_dependent_checks_warn_without_iommu(self):
        self.no_iommu()
        for name in ('interrupt-remapping', 'address-width'):
            self.assertEqual(self.check(name), ('WARN', 'not checked: no IOMMU',
                                                'see the iommu check'))


class ModulesTest(DoctorTest):
    def test_missing_module(self):
        shutil.rmtree(self.tree.s('module', 'vfio_iommu_type1'))
        self.assertEqual(self.check('vfio-modules')[:2], ('FAIL',
                                                          'not loaded: vfio_iommu_type1'))

    def test_driver_dir_counts_for_vfio_pci(self):
        shutil.rmtree(self.tree.s('module', 'vfio_pci'))
        self.assertEqual(self.check('vfio-modules')[0], 'PASS')

    def test_no_modules_for_kernel(self):
        self.unload_vfio_pci()
        shutil.rmtree(self.tree.modules)
        self.assertEqual(self.check('vfio-modules')[2],
                         'install the modules of the running kernel modules (%s is missing), '
                         'then modprobe vfio-pci (it loads vfio and vfio_iommu_type1 too)'
                         % self.tree.modules)

    def test_module_not_built(self):
        self.unload_vfio_pci()
        self.tree.add_module_files(['vfio'])
        self.assertEqual(self.check('vfio-modules')[2], 'kernel modules has no vfio-pci '
                         'module: use a kernel built with CONFIG_VFIO_PCI')


class RemappingTest(DoctorTest):
    def off(self):
        self.tree.proc_file('interrupts', '           CPU0\n 24:   10  PCI-MSI-0000:03:00.0 '
                            ' 0-edge  eth0\n')

    def test_off_fails(self):
        self.off()
        self.assertEqual(self.check('interrupt-remapping'), (
            'FAIL', 'off: VFIO will refuse to attach devices',
            'enable interrupt remapping (x2APIC/VT-d or AMD-Vi) in the firmware, or accept '
            'the risk: modprobe vfio_iommu_type1 allow_unsafe_interrupts=1'))

    def test_intremap_off(self):
        self.off()
        self.tree.proc_file('cmdline', 'intel_iommu=on intremap=off\n')
        self.assertEqual(self.check('interrupt-remapping')[2],
                         'remove intremap=off from the kernel command line and reboot')

    def test_hardware_without_ir(self):
        self.off()
        self.iommu_unit('dmar0', cap_with_width(48), ECAP_IR & ~8)
        self.assertTrue(self.check('interrupt-remapping')[2].startswith(
            'this IOMMU has no interrupt remapping (ecap IR bit clear on dmar0)'))

    def test_vm(self):
        self.off()
        self.cpu('GenuineIntel', 'hypervisor', 48)
        self.assertIn('intremap=on', self.check('interrupt-remapping')[2])

    def test_unsafe_interrupts_warn(self):
        self.off()
        self.param('vfio_iommu_type1', 'allow_unsafe_interrupts', 'Y')
        self.assertEqual(self.check('interrupt-remapping')[:2], (
            'WARN', 'off, allowed by vfio_iommu_type1 allow_unsafe_interrupts=Y: a device '
                    'can inject interrupts'))

    def test_arm_its(self):
        self.tree.proc_file('interrupts', ' 40:  0  ITS-MSI 524288 Edge  vfio-msix[0]\n')
        self.assertEqual(self.check('interrupt-remapping')[:2], (
            'PASS', 'enabled (ITS-MSI interrupts in /proc/interrupts)'))


class AddressWidthTest(DoctorTest):
    def test_narrow_iommu_warns(self):
        self.iommu_unit('dmar0', CAP_39, ECAP_IR)
        self.assertEqual(self.check('address-width'), (
            'WARN', 'dmar0: 39-bit IOVA (MGAW), 48-bit virtual addresses: IOVA = VA fails '
                    'for high addresses, so the EAL allocates IOVAs inside the IOMMU\'s range '
                    'instead',
            'nothing needed; in QEMU, -device intel-iommu,aw-bits=48 allows IOVA = VA'))

    def test_narrowest_unit_counts(self):
        self.iommu_unit('dmar1', cap_with_width(57))
        self.cpu('GenuineIntel', 'la57', 57)
        self.assertEqual(self.check('address-width')[:2], (
            'WARN', 'dmar0: 48-bit IOVA (MGAW), 57-bit virtual addresses: IOVA = VA fails '
                    'for high addresses, so the EAL allocates IOVAs inside the IOMMU\'s range '
                    'instead'))

    def test_not_intel(self):
        shutil.rmtree(self.tree.s('class', 'iommu', 'dmar0'))
        self.iommu_unit('ivhd0')
        self.assertEqual(self.check('address-width'), (
            'PASS', 'not reported by ivhd0; the EAL reads the usable IOVA ranges from VFIO',
            None))


class HugepagesTest(DoctorTest):
    def test_not_enough(self):
        self.assertEqual(self.check('hugepages', '-m', '4096', '-a', NIC), (
            'FAIL', '2G free (node0 1G, node1 1G), 4G asked (-m 4096)',
            'pdk-hugepages --setup 4096M -n 0'))

    def test_enough_but_on_the_wrong_node(self):
        self.tree.add_hugepages(2048, {0: (512, 0), 1: (512, 512)})
        self.assertEqual(self.check('hugepages', '-m', '512', '-a', NIC), (
            'WARN', '1G free (node0 0, node1 1G), 512M asked (-m 512); node 0, where '
                    '0000:03:00.0 is, has less: its DMA memory will be remote (slower)',
            'pdk-hugepages --setup 512M -n 0'))

    def test_counts_every_size(self):
        self.tree.add_hugepages(1048576, {0: (2, 2), 1: (0, 0)})
        self.assertEqual(self.check('hugepages', '-m', '2500')[:2], (
            'PASS', '4G free (node0 3G, node1 1G), 2500M asked (-m 2500)'))

    def test_no_support(self):
        shutil.rmtree(self.tree.s('kernel', 'mm', 'hugepages'))
        self.assertEqual(self.check('hugepages'), (
            'FAIL', 'no hugepage support in this kernel',
            'use a kernel built with CONFIG_HUGETLBFS=y'))

    def test_no_mount(self):
        self.tree.proc_file('mounts', 'proc /proc proc rw 0 0\n')
        self.assertEqual(self.check('hugetlbfs'), (
            'FAIL', 'no hugetlbfs mount: the EAL keeps its memory in hugetlbfs files',
            'pdk-hugepages --mount -p 2M'))

    def test_mount_of_the_wrong_size(self):
        self.tree.proc_file('mounts', 'none /mnt/1g hugetlbfs rw,pagesize=1G 0 0\n')
        self.assertEqual(self.check('hugetlbfs'), (
            'FAIL', 'mounted: /mnt/1g (1G), but the free pages are 2M',
            'pdk-hugepages --mount -p 2M'))


class MemlockTest(DoctorTest):
    def test_cap_ipc_lock(self):
        self.limits('65536', '65536')
        self.tree.proc_file('self/status', 'CapEff:\t000001ffffffffff\n')
        self.assertEqual(self.check('memlock')[:2], (
            'PASS', 'CAP_IPC_LOCK (root): pinned memory is not limited'))

    def test_soft_limit_low_hard_high(self):
        self.limits('8388608', 'unlimited')
        self.assertEqual(self.check('memlock'), (
            'FAIL', 'RLIMIT_MEMLOCK 8M, 256M to pin (-m 256)',
            'ulimit -l 262144 in the shell that starts the application'))

    def test_hard_limit_low(self):
        self.limits('65536', '65536')
        self.assertEqual(self.check('memlock', '-m', '1024')[2],
                         'raise the hard limit as root: "<user> - memlock 1048576" in '
                         '/etc/security/limits.conf (or LimitMEMLOCK=1073741824 in the '
                         'systemd unit), log in again, then ulimit -l 1048576')

    def test_unlimited(self):
        self.limits('unlimited', 'unlimited')
        self.assertEqual(self.check('memlock')[:2], (
            'PASS', 'RLIMIT_MEMLOCK unlimited, 256M to pin (-m 256)'))

    def test_unreadable(self):
        os.unlink(self.tree.p('self', 'limits'))
        self.assertEqual(self.check('memlock')[0], 'WARN')


class PermissionsTest(DoctorTest):
    def test_other_user_can_open(self):
        self.assertEqual(self.check('vfio-permissions', '--user', '4242', '-a', NIC)[:2], (
            'PASS', '4242 can open %s/vfio/vfio, %s/vfio/12' % (self.tree.dev,
                                                                 self.tree.dev)))

    def test_group_node_not_given_to_user(self):
        self.node('12', 0o600)
        self.assertEqual(self.check('vfio-permissions', '--user', '4242', '-a', NIC), (
            'FAIL', '4242 cannot read and write %s/vfio/12' % self.tree.dev,
            'pdk-devbind -u 4242 0000:03:00.0'))

    def test_node_owned_by_the_user(self):
        self.node('12', 0o600, uid=4242)
        self.assertEqual(self.check('vfio-permissions', '--user', '4242', '-a', NIC)[0],
                         'PASS')

    def test_container_node(self):
        self.node('vfio', 0o600)
        self.assertEqual(self.check('vfio-permissions', '--user', '4242')[2],
                         'chmod 0666 %s/vfio/vfio (the container node is safe to share)'
                         % self.tree.dev)

    def test_container_missing(self):
        os.unlink(os.path.join(self.tree.dev, 'vfio', 'vfio'))
        self.assertEqual(self.check('vfio-permissions'), (
            'FAIL', '%s/vfio/vfio is missing' % self.tree.dev,
            'modprobe vfio-pci (and check devtmpfs is mounted on /dev)'))

    def test_group_node_missing(self):
        os.unlink(os.path.join(self.tree.dev, 'vfio', '12'))
        self.assertEqual(self.check('vfio-permissions', '-a', NIC)[:2], (
            'FAIL', 'missing: %s/vfio/12' % self.tree.dev))

    def test_root_can_open_anything(self):
        self.node('12', 0o600, uid=4242)
        self.assertEqual(self.check('vfio-permissions', '-a', NIC)[0], 'PASS')


class DmaLimitTest(DoctorTest):
    def test_low_limit_warns(self):
        self.param('vfio_iommu_type1', 'dma_entry_limit', '100')
        self.assertEqual(self.check('dma-entry-limit', '-m', '1024'), (
            'WARN', 'dma_entry_limit 100, at most 512 mappings for 1G in 2M pages (the EAL '
                    'merges contiguous memory, so usually far fewer)',
            'echo "options vfio_iommu_type1 dma_entry_limit=65535" > '
            '/etc/modprobe.d/pdk.conf, then reload: modprobe -r vfio_pci vfio_iommu_type1; '
            'modprobe vfio-pci'))

    def test_module_not_loaded(self):
        shutil.rmtree(self.tree.s('module', 'vfio_iommu_type1'))
        self.assertEqual(self.check('dma-entry-limit')[:2], (
            'WARN', 'not checked: vfio_iommu_type1 is not loaded'))

    def test_old_kernel_without_the_parameter(self):
        os.unlink(self.tree.s('module', 'vfio_iommu_type1', 'parameters', 'dma_entry_limit'))
        self.assertEqual(self.check('dma-entry-limit')[:2], (
            'PASS', 'this kernel has no dma_entry_limit'))


class DeviceTest(DoctorTest):
    def test_not_on_vfio(self):
        self.tree.add_device(NIC2, '8086', '10fb', 0x020000, 'ixgbe', 13, 0)
        self.assertEqual(self.check('device ' + NIC2, '-a', NIC2), (
            'FAIL', 'bound to ixgbe, not vfio-pci', 'pdk-devbind --bind vfio-pci ' + NIC2))

    def test_group_not_viable(self):
        self.tree.add_device(NIC2, '8086', '10fb', 0x020000, 'ixgbe', 12, 0)
        self.assertEqual(self.check('device ' + NIC, '-a', NIC), (
            'FAIL', 'group 12 is not viable: 0000:03:00.1 (ixgbe)',
            'pdk-devbind --bind vfio-pci --group ' + NIC))

    def test_no_group(self):
        self.tree.add_device(NIC2, '8086', '10fb', 0x020000, None, None, 0)
        status, message, fix = self.check('device ' + NIC2, '-a', NIC2)
        self.assertEqual((status, message), (
            'FAIL', 'no IOMMU group; bound to no driver, not vfio-pci'))
        self.assertTrue(fix.endswith('; pdk-devbind --bind vfio-pci ' + NIC2))

    def test_default_checks_every_vfio_device(self):
        self.tree.add_device(NIC2, '8086', '10fb', 0x020000, 'vfio-pci', 12, 0)
        names = [c['name'] for c in self.doctor()['checks']][-2:]
        self.assertEqual(names, ['device ' + NIC, 'device ' + NIC2])

    def test_nothing_bound_warns(self):
        self.tree.set_driver(NIC, 'ixgbe')
        self.assertEqual(self.check('devices'), (
            'WARN', 'no device given (-a) and none bound to vfio-pci',
            'pdk-devbind --bind vfio-pci BDF, then pdk-doctor -a BDF'))

    def test_interface_name(self):
        self.tree.add_device(NIC2, '8086', '10fb', 0x020000, 'ixgbe', 13, 0)
        self.tree.add_netdev(NIC2, 'eth3')
        self.assertEqual(self.check('device ' + NIC2, '-a', 'eth3')[0], 'FAIL')


if __name__ == '__main__':
    unittest.main()

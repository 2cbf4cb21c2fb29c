# SPDX-License-Identifier: BSD-3-Clause
"""Fake sysfs/procfs/dev trees and a small kernel emulator for the user tools.

FakeTree builds real directories, files and symlinks in a temporary folder,
shaped like the kernel's. FakeKernel is a pdk_sysfs.System whose write()
records every write (path relative to the tree, value) and does what the
kernel would: bind/unbind/drivers_probe/driver_override move the device's
driver symlink, nr_hugepages writes reserve pages (up to a cap), and run()
answers modprobe/mount/umount/ip without touching the host.
"""

import contextlib
import errno
import importlib.machinery
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.environ.get('PDK_USERTOOLS_DIR') or \
    os.path.normpath(os.path.join(HERE, '..', '..', '..', 'usertools'))
sys.path.insert(0, TOOLS)
import pdk_sysfs as ps  # noqa: E402


def load_tool(name):
    """Import a script without the .py suffix (pdk-devbind) as a module."""
    path = os.path.join(TOOLS, name)
    loader = importlib.machinery.SourceFileLoader(name.replace('-', '_'), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def write(path, text=''):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


class FakeTree:
    """A temporary root holding sys/, proc/, dev/ and modules/."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='pdk-usertools-')
        self.sys = os.path.join(self.root, 'sys')
        self.proc = os.path.join(self.root, 'proc')
        self.dev = os.path.join(self.root, 'dev')
        self.modules = os.path.join(self.root, 'modules')
        for d in (self.sys, self.proc, self.dev):
            os.makedirs(d)
        write(self.s('bus', 'pci', 'drivers_probe'))
        os.makedirs(self.s('bus', 'pci', 'devices'))
        os.makedirs(self.s('kernel', 'iommu_groups'))
        os.makedirs(self.s('class', 'net'))
        os.makedirs(self.s('class', 'block'))
        self.proc_file('mounts', 'sysfs /sys sysfs rw 0 0\nproc /proc proc rw 0 0\n')

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def s(self, *parts):
        return os.path.join(self.sys, *parts)

    def p(self, *parts):
        return os.path.join(self.proc, *parts)

    def devdir(self, bdf):
        return self.s('devices', 'pci0000:00', bdf)

    def proc_file(self, name, text):
        write(self.p(*name.split('/')), text)

    def args(self):
        return ['--sysfs-root', self.sys, '--proc-root', self.proc,
                '--dev-root', self.dev, '--modules-dir', self.modules]

    # --- PCI ---------------------------------------------------------------
    def add_driver(self, name):
        for f in ('bind', 'unbind', 'new_id', 'remove_id'):
            write(self.s('bus', 'pci', 'drivers', name, f))
        d = self.s('module', name.replace('-', '_'))
        os.makedirs(d, exist_ok=True)

    def add_device(self, bdf, vendor='8086', device='10fb', cls=0x020000, driver=None,
                   group=None, numa=-1, override=None):
        d = self.devdir(bdf)
        os.makedirs(d)
        write(os.path.join(d, 'vendor'), '0x%s\n' % vendor)
        write(os.path.join(d, 'device'), '0x%s\n' % device)
        write(os.path.join(d, 'class'), '0x%06x\n' % cls)
        write(os.path.join(d, 'numa_node'), '%d\n' % numa)
        write(os.path.join(d, 'driver_override'), (override or '(null)') + '\n')
        write(os.path.join(d, 'modalias'),
              'pci:v0000%sd0000%ssv00000000sd00000000bc%02xsc%02xi%02x\n'
              % (vendor.upper(), device.upper(), cls >> 16, (cls >> 8) & 0xff, cls & 0xff))
        link(self.s('bus', 'pci', 'devices', bdf), '../../../devices/pci0000:00/' + bdf)
        if driver:
            self.set_driver(bdf, driver)
        if group is not None:
            self.set_group(bdf, group)

    def set_driver(self, bdf, driver):
        if driver and not os.path.isdir(self.s('bus', 'pci', 'drivers', driver)):
            self.add_driver(driver)
        path = os.path.join(self.devdir(bdf), 'driver')
        if os.path.lexists(path):
            old = os.path.basename(os.readlink(path))
            os.unlink(path)
            back = self.s('bus', 'pci', 'drivers', old, bdf)
            if os.path.lexists(back):
                os.unlink(back)
        if driver:
            link(path, '../../../bus/pci/drivers/' + driver)
            link(self.s('bus', 'pci', 'drivers', driver, bdf),
                 '../../../../devices/pci0000:00/' + bdf)

    def driver_of(self, bdf):
        path = os.path.join(self.devdir(bdf), 'driver')
        return os.path.basename(os.readlink(path)) if os.path.lexists(path) else None

    def override_of(self, bdf):
        with open(os.path.join(self.devdir(bdf), 'driver_override')) as f:
            return f.read().strip()

    def set_group(self, bdf, group):
        group = str(group)
        link(os.path.join(self.devdir(bdf), 'iommu_group'),
             '../../../kernel/iommu_groups/' + group)
        link(self.s('kernel', 'iommu_groups', group, 'devices', bdf),
             '../../../../devices/pci0000:00/' + bdf)

    def add_netdev(self, bdf, ifname, virtio=None):
        sub = [virtio, 'net', ifname] if virtio else ['net', ifname]
        os.makedirs(os.path.join(self.devdir(bdf), *sub))
        link(os.path.join(self.devdir(bdf), *(sub + ['device'])), '../..')
        link(self.s('class', 'net', ifname),
             '../../devices/pci0000:00/%s/%s' % (bdf, '/'.join(sub)))

    def add_disk(self, bdf, disk, devnum, parts=(), path=None):
        """A disk (and partitions: [(name, devnum)]) below the PCI device."""
        path = path or ['nvme', 'nvme0', disk]
        d = os.path.join(self.devdir(bdf), *path)
        write(os.path.join(d, 'dev'), devnum + '\n')
        link(self.s('class', 'block', disk),
             '../../devices/pci0000:00/%s/%s' % (bdf, '/'.join(path)))
        for name, num in parts:
            write(os.path.join(d, name, 'dev'), num + '\n')
            write(os.path.join(d, name, 'partition'), '1\n')
            link(self.s('class', 'block', name),
                 '../../devices/pci0000:00/%s/%s/%s' % (bdf, '/'.join(path), name))
        return d

    def add_holder(self, under, holder, devnum, dm_name=None):
        """A device-mapper device stacked on block device `under`."""
        d = self.s('devices', 'virtual', 'block', holder)
        write(os.path.join(d, 'dev'), devnum + '\n')
        if dm_name:
            write(os.path.join(d, 'dm', 'name'), dm_name + '\n')
        link(self.s('class', 'block', holder), '../../devices/virtual/block/' + holder)
        under_dir = os.path.realpath(self.s('class', 'block', under))
        link(os.path.join(under_dir, 'holders', holder), d)

    # --- hugepages -----------------------------------------------------------
    def add_hugepages(self, size_kb, nodes):
        """nodes: {node: (nr, free)}; the global counters are their sums."""
        name = 'hugepages-%dkB' % size_kb
        total = sum(n for n, _ in nodes.values())
        free = sum(f for _, f in nodes.values())
        g = self.s('kernel', 'mm', 'hugepages', name)
        for key, val in (('nr_hugepages', total), ('free_hugepages', free),
                         ('resv_hugepages', 0), ('surplus_hugepages', 0),
                         ('nr_overcommit_hugepages', 0)):
            write(os.path.join(g, key), '%d\n' % val)
        for node, (nr, fr) in nodes.items():
            n = self.s('devices', 'system', 'node', 'node%d' % node, 'hugepages', name)
            write(os.path.join(n, 'nr_hugepages'), '%d\n' % nr)
            write(os.path.join(n, 'free_hugepages'), '%d\n' % fr)
            write(os.path.join(n, 'surplus_hugepages'), '0\n')

    def meminfo(self, hugepagesize_kb=2048):
        self.proc_file('meminfo', 'MemTotal:       16384000 kB\n'
                       'Hugepagesize:       %d kB\n' % hugepagesize_kb)

    # --- modules ---------------------------------------------------------------
    def add_module_files(self, names, builtin=()):
        os.makedirs(self.modules, exist_ok=True)
        write(os.path.join(self.modules, 'modules.dep'), ''.join(
            'kernel/drivers/x/%s.ko.xz:\n' % n for n in names))
        write(os.path.join(self.modules, 'modules.builtin'), ''.join(
            'kernel/drivers/x/%s.ko\n' % n for n in builtin))


class FakeKernel(ps.System):
    """The fake tree plus the kernel's reactions to writes and commands."""

    def __init__(self, tree, euid=0):
        ps.System.__init__(self, sysfs=tree.sys, proc=tree.proc, dev=tree.dev,
                           modules=tree.modules)
        self.tree = tree
        self.writes = []           # [(path relative to the tree, value)]
        self.commands = []         # [argv]
        self.native = {}           # bdf -> drivers whose ID table matches
        self.refuse = {}           # bdf -> drivers whose probe fails
        self.hugepage_cap = {}     # (node, size_kb) -> most pages the kernel finds
        self.modprobe_result = {}  # module -> (rc, stderr); default loads the driver
        self.have = {'modprobe', 'mount', 'umount'}
        self._euid = euid
        self.chowns = []

    def rel(self, path):
        return os.path.relpath(path, self.tree.root)

    def euid(self):
        return self._euid

    def which(self, name):
        return '/fake/bin/' + name if name in self.have else None

    def chown(self, path, uid, gid):
        self.chowns.append((self.rel(path), uid, gid))
        ps.System.chown(self, path, os.geteuid(), os.getegid())

    # --- writes ----------------------------------------------------------------
    def write(self, path, text):
        rel = os.path.relpath(path, self.tree.sys)
        self.writes.append((self.rel(path), text))
        parts = rel.split(os.sep)
        value = text.strip()
        if rel == os.path.join('bus', 'pci', 'drivers_probe'):
            return self._probe(value)
        if parts[:3] == ['bus', 'pci', 'drivers'] and len(parts) == 5:
            return self._driver_file(parts[3], parts[4], value)
        if parts[:3] == ['bus', 'pci', 'devices'] and parts[-1] == 'driver_override':
            return ps.System.write(self, path, (value or '(null)') + '\n')
        if parts[-1] == 'nr_hugepages':
            return self._hugepages(parts, int(value))
        return ps.System.write(self, path, text)

    def _fail(self, code, path):
        raise OSError(code, os.strerror(code), path)

    def _bindable(self, bdf, driver):
        override = self.tree.override_of(bdf)
        if override != '(null)':
            return override == driver
        return driver in self.native.get(bdf, ())

    def _attach(self, bdf, driver):
        if driver in self.refuse.get(bdf, ()):
            return False
        self.tree.set_driver(bdf, driver)
        return True

    def _probe(self, bdf):
        if self.tree.driver_of(bdf):
            return
        override = self.tree.override_of(bdf)
        cands = [override] if override != '(null)' else self.native.get(bdf, [])
        for drv in cands:
            if os.path.isdir(self.tree.s('bus', 'pci', 'drivers', drv)) and \
                    self._attach(bdf, drv):
                return

    def _driver_file(self, driver, name, bdf):
        if name == 'unbind':
            if self.tree.driver_of(bdf) != driver:
                self._fail(errno.ENODEV, name)
            self.tree.set_driver(bdf, None)
        elif name == 'bind':
            if self.tree.driver_of(bdf):
                self._fail(errno.EBUSY, name)
            if not self._bindable(bdf, driver):
                self._fail(errno.ENODEV, name)
            if not self._attach(bdf, driver):
                self._fail(errno.EINVAL, name)

    def _hugepages(self, parts, want):
        size_kb = int(parts[-2][len('hugepages-'):-2])
        nodes = ps.numa_nodes(self) or [0]
        if parts[0] == 'devices':
            per = {int(parts[3][4:]): want}
        else:
            per = dict((n, want // len(nodes) + (1 if i < want % len(nodes) else 0))
                       for i, n in enumerate(nodes))
        for node, count in per.items():
            got = min(count, self.hugepage_cap.get((node, size_kb), count))
            self._set_node_pages(node, size_kb, got)
        self._sum_pages(size_kb, nodes)

    def _set_node_pages(self, node, size_kb, nr):
        base = self.tree.s('devices', 'system', 'node', 'node%d' % node, 'hugepages',
                           'hugepages-%dkB' % size_kb)
        used = self.read_int(os.path.join(base, 'nr_hugepages'), 0) - \
            self.read_int(os.path.join(base, 'free_hugepages'), 0)
        write(os.path.join(base, 'nr_hugepages'), '%d\n' % nr)
        write(os.path.join(base, 'free_hugepages'), '%d\n' % max(nr - used, 0))

    def _sum_pages(self, size_kb, nodes):
        name = 'hugepages-%dkB' % size_kb
        for key in ('nr_hugepages', 'free_hugepages'):
            total = sum(self.read_int(self.tree.s('devices', 'system', 'node', 'node%d' % n,
                                                  'hugepages', name, key), 0)
                        for n in nodes)
            write(self.tree.s('kernel', 'mm', 'hugepages', name, key), '%d\n' % total)

    # --- commands ----------------------------------------------------------------
    def run(self, argv):
        self.commands.append(list(argv))
        cmd = os.path.basename(argv[0])
        if cmd == 'modprobe':
            rc, err = self.modprobe_result.get(argv[-1], (0, ''))
            if rc == 0:
                self.tree.add_driver(argv[-1])
            return rc, '', err
        if cmd == 'mount':
            return self._mount(argv)
        if cmd == 'umount':
            return self._umount(argv[-1])
        return 127, '', 'no such command in the fake kernel'

    def _mount(self, argv):
        opts = argv[argv.index('-o') + 1] if '-o' in argv else 'rw'
        with open(self.tree.p('mounts'), 'a') as f:
            f.write('nodev %s hugetlbfs rw,relatime,%s 0 0\n' % (argv[-1], opts))
        return 0, '', ''

    def _umount(self, point):
        lines = self.lines(self.tree.p('mounts'))
        keep = [ln for ln in lines if ln.split()[1] != point]
        if len(keep) == len(lines):
            return 32, '', 'umount: %s: not mounted.' % point
        write(self.tree.p('mounts'), ''.join(ln + '\n' for ln in keep))
        return 0, '', ''


class ToolTest(unittest.TestCase):
    """Base: a fresh tree per test; run a tool's main() and capture output."""

    tool = None

    def setUp(self):
        self.tree = FakeTree()
        self.addCleanup(self.tree.cleanup)
        self.kernel = FakeKernel(self.tree)

    def run_tool(self, *argv):
        """(exit code, stdout, stderr) of the tool's main() on the fake tree."""
        mod = load_tool(self.tool)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = mod.main(list(argv) + self.tree.args(), system=self.kernel, out=out)
            except SystemExit as e:
                code = e.code
        return code, out.getvalue(), err.getvalue()

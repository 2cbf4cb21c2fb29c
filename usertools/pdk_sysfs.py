# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the PDK user tools (pdk-devbind, pdk-hugepages, pdk-doctor).

Python 3 standard library only, and only its core modules, so the tools run in
a minimal guest (busybox + a trimmed stdlib). Every path goes through a
System object that knows the roots of sysfs, procfs and /dev, so the tools can
be pointed at a fake tree; every write and every command goes through
System.write() and System.run(), so tests can emulate the kernel.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

BDF_RE = re.compile(r'^([0-9a-fA-F]{4,}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$')
SHORT_BDF_RE = re.compile(r'^([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$')

# Drivers that keep an IOMMU group usable by VFIO: the vfio drivers, and the
# drivers that declare driver_managed_dma because they do no DMA themselves.
VIABLE_DRIVERS = ('pci-stub', 'pcieport')

# PCI base classes, for when pci.ids is not installed.
CLASS_NAMES = {
    0x00: 'Unclassified device', 0x01: 'Mass storage controller',
    0x02: 'Network controller', 0x03: 'Display controller',
    0x04: 'Multimedia controller', 0x05: 'Memory controller',
    0x06: 'Bridge', 0x07: 'Communication controller',
    0x08: 'Generic system peripheral', 0x09: 'Input device controller',
    0x0b: 'Processor', 0x0c: 'Serial bus controller',
    0x0d: 'Wireless controller', 0x10: 'Encryption controller',
    0x11: 'Signal processing controller', 0x12: 'Processing accelerators',
}
CLASS_STORAGE = 0x01
CLASS_NETWORK = 0x02
CLASS_BRIDGE_PCI = 0x0604

PCI_IDS_PATHS = ('/usr/share/hwdata/pci.ids', '/usr/share/misc/pci.ids',
                 '/usr/share/pci.ids', '/usr/local/share/pci.ids')

MODPROBE_DIRS = ('/sbin', '/usr/sbin', '/bin', '/usr/bin')

# Exit codes shared by the tools (each tool's doc page lists the ones it uses).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_ENV = 4


class Failure(Exception):
    """An error for the user: what went wrong, the fix, and the exit code."""

    def __init__(self, message, fix=None, code=EXIT_FAILED):
        Exception.__init__(self, message)
        self.message = message
        self.fix = fix
        self.code = code


class System:
    """The host as the tools see it: file roots plus the few side effects."""

    def __init__(self, sysfs='/sys', proc='/proc', dev='/dev', modules=None):
        self.sysfs = sysfs
        self.procfs = proc
        self.devfs = dev
        self.modules = modules or os.path.join('/lib/modules', os.uname().release)

    # --- paths ---------------------------------------------------------
    def sys(self, *parts):
        return os.path.join(self.sysfs, *parts)

    def proc(self, *parts):
        return os.path.join(self.procfs, *parts)

    def dev(self, *parts):
        return os.path.join(self.devfs, *parts)

    def live(self):
        """True when reading the running kernel's /proc (not a fake tree)."""
        return os.path.realpath(self.procfs) == '/proc'

    # --- reads ---------------------------------------------------------
    def read(self, path, default=None):
        try:
            with open(path) as f:
                return f.read().strip()
        except (OSError, UnicodeDecodeError):
            return default

    def read_int(self, path, default=None, base=0):
        text = self.read(path)
        try:
            return int(text, base)
        except (TypeError, ValueError):
            return default

    def lines(self, path):
        try:
            with open(path, errors='replace') as f:
                return f.read().splitlines()
        except OSError:
            return []

    def listdir(self, path):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def link_name(self, path):
        """Basename of a symlink's target (driver, iommu_group), or None."""
        try:
            return os.path.basename(os.readlink(path))
        except OSError:
            return None

    # --- side effects (tests override these) ----------------------------
    def write(self, path, text):
        with open(path, 'w') as f:
            f.write(text)

    def run(self, argv):
        """Run a command; return (exit code, stdout, stderr)."""
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, check=False)
        except OSError as e:
            return 127, '', str(e)
        return p.returncode, p.stdout, p.stderr

    def which(self, name):
        path = shutil.which(name)
        if path:
            return path
        for d in MODPROBE_DIRS:
            cand = os.path.join(d, name)
            if os.access(cand, os.X_OK):
                return cand
        return None

    def euid(self):
        return os.geteuid()

    def chown(self, path, uid, gid):
        os.chown(path, uid, gid)


def write_sysfs(system, path, text):
    """Write a sysfs attribute; turn the kernel's errno into a message."""
    try:
        system.write(path, text)
    except PermissionError:
        raise Failure('permission denied writing %s' % path,
                      fix='run as root (sudo %s ...)' % prog(), code=EXIT_ENV)
    except OSError as e:
        raise Failure('writing %r to %s failed: %s' % (text.strip(), path, e.strerror or e),
                      fix='see the kernel log (dmesg | tail) for the driver\'s reason')


PROG = ['pdk']


def prog():
    """The running tool's name, set by standard_parser()."""
    return PROG[0]


# --- argument and output helpers --------------------------------------------

def add_root_args(parser, dev=True):
    g = parser.add_argument_group('fake trees (for tests)')
    g.add_argument('--sysfs-root', default='/sys', metavar='DIR',
                   help='where sysfs is mounted (default /sys)')
    g.add_argument('--proc-root', default='/proc', metavar='DIR',
                   help='where procfs is mounted (default /proc)')
    if dev:
        g.add_argument('--dev-root', default='/dev', metavar='DIR',
                       help='where devtmpfs is mounted (default /dev)')
    g.add_argument('--modules-dir', default=None, metavar='DIR',
                   help='kernel modules of the running kernel '
                        '(default /lib/modules/$(uname -r))')


def system_from_args(args):
    return System(sysfs=args.sysfs_root, proc=args.proc_root,
                  dev=getattr(args, 'dev_root', '/dev'), modules=args.modules_dir)


def _cells(rows):
    return [[('-' if c is None else str(c)) for c in r] for r in rows]


def table_widths(headers, *row_sets):
    """Column widths that fit every row set, so several tables line up."""
    widths = [len(h) for h in headers]
    for rows in row_sets:
        for r in _cells(rows):
            widths = [max(w, len(c)) for w, c in zip(widths, r)]
    return widths


def format_table(headers, rows, widths=None):
    """A plain left-aligned table, two spaces between columns."""
    widths = widths or table_widths(headers, rows)
    out = []
    for r in [list(headers)] + _cells(rows):
        out.append('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return '\n'.join(out)


def print_json(obj, out=None):
    (out or sys.stdout).write(json.dumps(obj, indent=2, sort_keys=True) + '\n')


def report_failure(err, as_json, out=None, errout=None):
    """Print a Failure: a line and its fix for people, JSON for programs."""
    errout = errout or sys.stderr
    errout.write('%s: error: %s\n' % (prog(), err.message))
    if err.fix:
        errout.write('  fix: %s\n' % err.fix)
    if as_json:
        print_json({'ok': False, 'error': err.message, 'fix': err.fix,
                    'exit_code': err.code}, out)
    return err.code


def run_main(body, args, out=None):
    """Run a tool's body(args) -> exit code, turning Failure into its exit code."""
    try:
        return body(args)
    except Failure as e:
        return report_failure(e, getattr(args, 'json', False), out)


def lookup_user(spec):
    """USER, UID or USER:GROUP -> (name, uid, gid). A numeric uid need not exist."""
    import grp
    import pwd
    user, _, group = spec.partition(':')
    try:
        pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        name, uid, gid = pw.pw_name, pw.pw_uid, pw.pw_gid
    except KeyError:
        if not user.isdigit():
            raise Failure('no user %r' % user, fix='give an existing user name or a '
                          'numeric uid', code=EXIT_USAGE)
        name, uid, gid = user, int(user), int(user)
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise Failure('no group %r' % group, fix='give an existing group',
                          code=EXIT_USAGE)
    return name, uid, gid


# --- sizes -------------------------------------------------------------------

SIZE_RE = re.compile(r'^\s*(\d+)\s*([kKmMgGtT]?)[iI]?[bB]?\s*$')
SIZE_UNITS = {'': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30, 't': 1 << 40}


def parse_size(text, default_unit=''):
    """'1G', '512M', '2048k', '1GiB' -> bytes. A bare number uses default_unit."""
    m = SIZE_RE.match(text or '')
    if not m:
        raise Failure('bad size %r' % text,
                      fix='write a number with an optional unit: 512M, 1G, 2048K',
                      code=EXIT_USAGE)
    unit = (m.group(2) or default_unit).lower()
    return int(m.group(1)) * SIZE_UNITS[unit]


def format_size(nbytes):
    """Bytes -> the shortest exact '2M', '1G', '1536M' form ('0' for none)."""
    if not nbytes:
        return '0'
    for unit in ('T', 'G', 'M', 'K'):
        mult = SIZE_UNITS[unit.lower()]
        if nbytes and nbytes % mult == 0:
            return '%d%s' % (nbytes // mult, unit)
    return '%dB' % nbytes


# --- PCI devices ---------------------------------------------------------------

def pci_dir(system, bdf=None):
    base = system.sys('bus', 'pci', 'devices')
    return os.path.join(base, bdf) if bdf else base


def drivers_dir(system, driver=None):
    base = system.sys('bus', 'pci', 'drivers')
    return os.path.join(base, driver) if driver else base


def normalize_bdf(text):
    m = BDF_RE.match(text)
    if m:
        return '%04x:%s:%s.%s' % (int(m.group(1), 16), m.group(2).lower(),
                                 m.group(3).lower(), m.group(4))
    return None


def bdf_from_sysfs_path(path):
    """Walk up a resolved sysfs path to the nearest PCI device (virtio, nvme...)."""
    path = os.path.realpath(path)
    while path and path != os.sep:
        bdf = normalize_bdf(os.path.basename(path))
        if bdf:
            return bdf
        path = os.path.dirname(path)
    return None


def resolve_device(system, name):
    """A BDF, short BDF, interface name or block device name -> full BDF."""
    bdf = normalize_bdf(name)
    if bdf and os.path.isdir(pci_dir(system, bdf)):
        return bdf
    m = SHORT_BDF_RE.match(name)
    if m:
        suffix = ':' + name.lower()
        found = [d for d in system.listdir(pci_dir(system)) if d.endswith(suffix)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Failure('%s matches several devices: %s' % (name, ', '.join(found)),
                          fix='give the full address with its domain', code=EXIT_USAGE)
    # an interface's device link (virtio-net: the virtio device under the PCI
    # one), or a block device's own directory; walk up to the PCI device
    for link in (system.sys('class', 'net', name, 'device'),
                 system.sys('class', 'block', name)):
        if name and '/' not in name and os.path.exists(link):
            found = bdf_from_sysfs_path(link)
            if found:
                return found
    raise Failure('no PCI device %r' % name,
                  fix='give a PCI address (0000:03:00.0 or 03:00.0) or an interface '
                      'name; pdk-devbind --status lists the devices',
                  code=EXIT_USAGE)


def device_class(system, bdf):
    return system.read_int(os.path.join(pci_dir(system, bdf), 'class'), 0, 16)


def device_driver(system, bdf):
    return system.link_name(os.path.join(pci_dir(system, bdf), 'driver'))


def device_group(system, bdf):
    return system.link_name(os.path.join(pci_dir(system, bdf), 'iommu_group'))


def device_numa(system, bdf):
    node = system.read_int(os.path.join(pci_dir(system, bdf), 'numa_node'), -1)
    return None if node is None or node < 0 else node


def is_bridge(system, bdf):
    return device_class(system, bdf) >> 8 == CLASS_BRIDGE_PCI


def is_vfio_driver(driver):
    return bool(driver) and 'vfio' in driver


def driver_keeps_viable(driver):
    return driver is None or is_vfio_driver(driver) or driver in VIABLE_DRIVERS


def children_of(system, bdf, cls):
    """Names under /sys/class/<cls> (net, block) that belong to the device."""
    root = os.path.realpath(pci_dir(system, bdf)) + os.sep
    base = system.sys('class', cls)
    return [n for n in system.listdir(base)
            if os.path.realpath(os.path.join(base, n)).startswith(root)]


def group_members(system, group):
    return system.listdir(system.sys('kernel', 'iommu_groups', group, 'devices'))


def member_driver(system, group, member):
    return system.link_name(system.sys('kernel', 'iommu_groups', group, 'devices',
                                       member, 'driver'))


def group_blockers(system, group, planned=None):
    """Members whose driver makes the group non-viable, as [(bdf, driver)].

    `planned` maps BDF -> driver it is about to get (None = unbound)."""
    planned = planned or {}
    out = []
    for member in group_members(system, group):
        if member in planned:
            driver = planned[member]
        else:
            driver = member_driver(system, group, member)
        if not driver_keeps_viable(driver):
            out.append((member, driver))
    return out


def noiommu_enabled(system):
    flag = system.read(system.sys('module', 'vfio', 'parameters',
                                  'enable_unsafe_noiommu_mode'), 'N')
    return flag[:1] in ('Y', 'y', '1')


def vfio_group_node(system, group):
    """The /dev/vfio node of a group (noiommu groups have their own name)."""
    plain = system.dev('vfio', group)
    noiommu = system.dev('vfio', 'noiommu-' + group)
    if not os.path.exists(plain) and os.path.exists(noiommu):
        return noiommu
    return plain


def format_blockers(blockers):
    return ', '.join('%s (%s)' % (b, d) for b, d in blockers)


# --- pci.ids -----------------------------------------------------------------

class PciIds:
    """Vendor and device names from pci.ids, read only for the vendors asked."""

    def __init__(self, path=None):
        self.path = path
        if path is None:
            for cand in PCI_IDS_PATHS:
                if os.path.exists(cand):
                    self.path = cand
                    break
        self.vendors = {}
        self.devices = {}

    def load(self, vendor_ids):
        wanted = set(v.lower() for v in vendor_ids)
        if not self.path or not wanted:
            return self
        vendor = None
        try:
            with open(self.path, encoding='utf-8', errors='replace') as f:
                for line in f:
                    vendor = self._line(line, vendor, wanted)
        except OSError:
            pass
        return self

    def _line(self, line, vendor, wanted):
        if not line.strip() or line.startswith('#'):
            return vendor
        if line.startswith('C '):
            return None
        if not line.startswith('\t'):
            vid, _, name = line.partition('  ')
            vid = vid.lower()
            if vid in wanted:
                self.vendors[vid] = name.strip()
                return vid
            return None
        if vendor and not line.startswith('\t\t'):
            did, _, name = line.strip().partition('  ')
            self.devices[(vendor, did.lower())] = name.strip()
        return vendor

    def vendor(self, vid):
        return self.vendors.get(vid.lower())

    def device(self, vid, did):
        return self.devices.get((vid.lower(), did.lower()))


def hex_id(system, bdf, attr):
    text = system.read(os.path.join(pci_dir(system, bdf), attr), '')
    return text[2:].lower() if text.startswith('0x') else text.lower()


# --- kernel modules ------------------------------------------------------------

def module_name(name):
    return name.replace('-', '_')


def module_loaded(system, name):
    return os.path.isdir(system.sys('module', module_name(name)))


def _module_files(system, listing):
    out = set()
    for line in system.lines(os.path.join(system.modules, listing)):
        path = line.split(':', 1)[0].strip()
        base = os.path.basename(path)
        base = re.sub(r'\.ko(\.(xz|gz|zst))?$', '', base)
        if base:
            out.add(module_name(base))
    return out


def module_available(system, name):
    """'builtin', 'module' or None, from modules.builtin / modules.dep."""
    mod = module_name(name)
    if mod in _module_files(system, 'modules.builtin'):
        return 'builtin'
    if mod in _module_files(system, 'modules.dep'):
        return 'module'
    return None


def load_module(system, name, dry_run=False, out=None):
    """modprobe `name`, or raise a Failure that says exactly why it can't."""
    release = os.path.basename(system.modules.rstrip('/'))
    modprobe = system.which('modprobe')
    if not os.path.isdir(system.modules):
        raise Failure('%s is not loaded and there are no modules for the running kernel '
                      '(%s does not exist)' % (name, system.modules),
                      fix='install the module package of kernel %s (Debian: linux-image-%s) '
                          'or boot the kernel whose modules are installed' % (release, release),
                      code=EXIT_ENV)
    if not module_available(system, name):
        raise Failure('%s is not built for kernel %s (not in modules.dep or '
                      'modules.builtin under %s)' % (name, release, system.modules),
                      fix='use a kernel built with the module (for vfio-pci: '
                          'CONFIG_VFIO_PCI=m, as Debian\'s linux-image-amd64)',
                      code=EXIT_ENV)
    if not modprobe:
        raise Failure('%s is not loaded and there is no modprobe on this system' % name,
                      fix='install kmod, or insmod the .ko files from %s in dependency order '
                          '(vfio-pci: vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci)'
                          % system.modules, code=EXIT_ENV)
    if system.euid() != 0:
        raise Failure('%s is not loaded and loading it needs root' % name,
                      fix='sudo modprobe %s (or run this tool as root)' % name, code=EXIT_ENV)
    if dry_run:
        (out or sys.stdout).write('would run: %s %s\n' % (modprobe, name))
        return
    rc, _, err = system.run([modprobe, name])
    if rc != 0:
        raise Failure('modprobe %s failed (exit %d): %s' % (name, rc, err.strip()),
                      fix='read the reason in dmesg | tail; check the module matches '
                          'kernel %s' % release, code=EXIT_ENV)


# --- mounts ------------------------------------------------------------------

def unescape_mount(field):
    """/proc/mounts escapes space, tab, newline and backslash as octal."""
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), field)


def read_mounts(system):
    """[(source, mount point, fs type, options)] from /proc/mounts."""
    out = []
    for line in system.lines(system.proc('mounts')):
        f = line.split()
        if len(f) >= 4:
            out.append((unescape_mount(f[0]), unescape_mount(f[1]), f[2], f[3]))
    return out


def read_mountinfo_devs(system):
    """[(major:minor, mount point)] from /proc/self/mountinfo."""
    out = []
    for line in system.lines(system.proc('self', 'mountinfo')):
        f = line.split()
        if len(f) >= 5:
            out.append((f[2], unescape_mount(f[4])))
    return out


# --- hugepages -----------------------------------------------------------------

HP_DIR_RE = re.compile(r'^hugepages-(\d+)kB$')


def hugepage_sizes(system):
    """Supported hugepage sizes in bytes, smallest first."""
    sizes = []
    for d in system.listdir(system.sys('kernel', 'mm', 'hugepages')):
        m = HP_DIR_RE.match(d)
        if m:
            sizes.append(int(m.group(1)) * 1024)
    return sorted(sizes)


def hugepage_counts(system, size, node=None):
    """Counters of one size, globally (node None) or on one NUMA node."""
    if node is None:
        base = system.sys('kernel', 'mm', 'hugepages', 'hugepages-%dkB' % (size // 1024))
        keys = ('nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages')
    else:
        base = system.sys('devices', 'system', 'node', 'node%d' % node, 'hugepages',
                          'hugepages-%dkB' % (size // 1024))
        keys = ('nr_hugepages', 'free_hugepages', 'surplus_hugepages')
    out = {}
    for k in keys:
        out[k.replace('_hugepages', '')] = system.read_int(os.path.join(base, k), 0)
    return out


def numa_nodes(system):
    nodes = []
    for d in system.listdir(system.sys('devices', 'system', 'node')):
        m = re.match(r'^node(\d+)$', d)
        if m:
            nodes.append(int(m.group(1)))
    return sorted(nodes)


def default_hugepage_size(system):
    for line in system.lines(system.proc('meminfo')):
        if line.startswith('Hugepagesize:'):
            return int(line.split()[1]) * 1024
    sizes = hugepage_sizes(system)
    return sizes[0] if sizes else 2 << 20


def hugetlbfs_mounts(system):
    """[{'path', 'pagesize' (bytes), 'options'}] for each hugetlbfs mount."""
    default = None
    out = []
    for _, path, fstype, opts in read_mounts(system):
        if fstype != 'hugetlbfs':
            continue
        size = None
        for opt in opts.split(','):
            if opt.startswith('pagesize='):
                size = parse_size(opt[len('pagesize='):])
        if size is None:
            default = default or default_hugepage_size(system)
            size = default
        out.append({'path': path, 'pagesize': size, 'options': opts})
    return out


def standard_parser(name, description, epilog=None):
    PROG[0] = name
    return argparse.ArgumentParser(prog=name, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

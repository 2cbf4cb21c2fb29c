#!/usr/bin/env python3
"""Run PDK's checks in a QEMU guest with Linux's real vfio-pci and type1 IOMMU.

One guest boot per configuration runs every check (test/vm/guest.sh) and
prints a line per check; each meson test (suite vm) asks for one check's
result. The first test to ask boots the guest; the others wait on a lock and
read the cached result, which is keyed by the contents of everything put in
the guest, so a rebuilt binary means a new boot.

Exit codes: 0 pass, 1 fail, 77 skip (qemu or the kernel package unavailable).
Nothing downloaded is committed: the kernel package is fetched with apt-get
into the build folder.
"""
import argparse
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ["virt/lib/irqbypass.ko", "drivers/vfio/vfio.ko",
           "drivers/vfio/vfio_iommu_type1.ko", "drivers/vfio/vfio_virqfd.ko",
           "drivers/vfio/pci/vfio-pci-core.ko", "drivers/vfio/pci/vfio-pci.ko"]
# What the guest's python3 does not need (keeps the initramfs small).
PY_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
           "pydoc_data", "distutils", "config-3.11-x86_64-linux-gnu",
           "__pycache__", "site-packages", "dist-packages", "sqlite3", "unittest",
           "venv", "xmlrpc", "wsgiref", "curses", "dbm", "multiprocessing",
           "asyncio", "email", "http", "urllib", "xml", "html", "concurrent",
           "ctypes", "lib-dynload-skip"}
CONFIGS = {
    # QEMU's nvme puts the MSI-X table in BAR0 beside the registers...
    "default": "nvme,serial=PDKVM0001,drive=d0",
    # ...or in a BAR of its own.
    "msix-exclusive": "nvme,serial=PDKVM0001,drive=d0,msix-exclusive-bar=on",
}
# The virtio-net pair: QEMU's default transitional device (1af4:1000, no
# ACCESS_PLATFORM: it reads guest-physical addresses), or a modern-only one
# that goes through the IOMMU (1af4:1041, ACCESS_PLATFORM).
VIRTIO = {
    "default": "",
    "msix-exclusive": ",disable-legacy=on,iommu_platform=on",
}
DISK_MB = 64
BOOT_TIMEOUT = 600


class Skip(Exception):
    pass


def log(msg):
    print("vmrun: " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kw).stdout


def fetch_kernel(cache):
    """Debian's current kernel package (what linux-image-amd64 depends on)."""
    root = os.path.join(cache, "kroot")
    stamp = os.path.join(root, ".done")
    if os.path.exists(stamp):
        return root
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise Skip("apt-get/dpkg not found: cannot fetch a Debian kernel")
    try:
        deps = run(["apt-cache", "depends", "linux-image-amd64"])
    except (subprocess.CalledProcessError, OSError) as e:
        raise Skip("apt-cache cannot resolve linux-image-amd64 (%s); run apt-get update" % e)
    m = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)", deps)
    if not m:
        raise Skip("linux-image-amd64 depends on no kernel image; run apt-get update")
    pkg = m.group(1)
    os.makedirs(cache, exist_ok=True)
    debs = glob.glob(os.path.join(cache, pkg + "_*.deb"))
    if not debs:
        log("fetching %s" % pkg)
        try:
            run(["apt-get", "download", pkg], cwd=cache)
        except subprocess.CalledProcessError as e:
            raise Skip("apt-get download %s failed: %s" % (pkg, e.stderr.strip()[-300:]))
        debs = glob.glob(os.path.join(cache, pkg + "_*.deb"))
    shutil.rmtree(root, ignore_errors=True)
    run(["dpkg", "-x", debs[0], root])
    open(stamp, "w").close()
    return root


def ldd_libs(path):
    """Shared libraries (resolved paths) an ELF file needs."""
    try:
        out = run(["ldd", path])
    except subprocess.CalledProcessError:
        return []  # static
    libs = []
    for line in out.splitlines():
        m = re.search(r"=> (/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            libs.append(m.group(1))
    return libs


class Initramfs:
    def __init__(self, top):
        self.top = top
        self.files = {}  # guest path -> host path

    def add(self, host, guest):
        self.files[guest] = host

    def add_elf(self, host, guest):
        self.add(host, guest)
        for lib in ldd_libs(host):
            real = os.path.realpath(lib)
            self.add(real, lib)  # same path in the guest
            if "/build" in lib or lib.startswith(os.path.realpath(self.top)):
                self.add(real, "/lib/x86_64-linux-gnu/" + os.path.basename(lib))

    def add_tree(self, host_dir, guest_dir, skip=()):
        for dirpath, dirnames, filenames in os.walk(host_dir):
            dirnames[:] = [d for d in dirnames if d not in skip]
            rel = os.path.relpath(dirpath, host_dir)
            for f in filenames:
                if f.endswith(".pyc"):
                    continue
                self.add(os.path.join(dirpath, f), os.path.normpath(os.path.join(guest_dir, rel, f)))

    def key(self, extra):
        h = hashlib.sha256(extra.encode())
        for guest in sorted(self.files):
            st = os.stat(self.files[guest])
            h.update(("%s %s %d %d\n" % (guest, self.files[guest], st.st_size, st.st_mtime_ns)).encode())
        return h.hexdigest()[:16]

    def write(self, out):
        stage = out + ".d"
        shutil.rmtree(stage, ignore_errors=True)
        for d in ["proc", "sys", "dev", "tmp", "run", "mnt", "root", "etc"]:
            os.makedirs(os.path.join(stage, d), exist_ok=True)
        for guest, host in self.files.items():
            dst = os.path.join(stage, guest.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(host, dst)
        with open(os.path.join(stage, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        with open(os.path.join(stage, "etc/group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")
        files = subprocess.run(["find", "."], cwd=stage, check=True,
                               stdout=subprocess.PIPE).stdout
        with open(out, "wb") as f:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage,
                           input=files, stdout=f, check=True)
        shutil.rmtree(stage)


def build_initramfs(args, kroot):
    fs = Initramfs(args.source)
    busybox = shutil.which("busybox")
    if busybox is None or "statically linked" not in run(["file", "-L", busybox]):
        raise Skip("a static busybox is needed (apt-get install busybox-static)")
    fs.add(busybox, "/bin/busybox")
    kver = os.listdir(os.path.join(kroot, "lib/modules"))[0]
    for m in MODULES:
        fs.add(os.path.join(kroot, "lib/modules", kver, "kernel", m),
               "/lib/modules/" + os.path.basename(m))
    fs.add(os.path.join(HERE, "guest.sh"), "/init")
    # the project's programs (whatever is built) and their libraries
    for exe in sorted(glob.glob(os.path.join(args.build, "app", "*", "pdk-*"))):
        if os.path.isfile(exe) and os.access(exe, os.X_OK):
            fs.add_elf(exe, "/pdk/bin/" + os.path.basename(exe))
    for tool in ["pdk-devbind", "pdk-doctor", "pdk-hugepages", "pdk_sysfs.py"]:
        fs.add(os.path.join(args.source, "usertools", tool), "/pdk/bin/" + tool)
    py = "/usr/bin/python3.11"
    if not os.path.exists(py):
        raise Skip("Debian's python3.11 is needed for the guest's tools")
    fs.add_elf(py, "/usr/bin/python3")
    fs.add_tree("/usr/lib/python3.11", "/usr/lib/python3.11", PY_SKIP)
    for extra in ["/usr/bin/kmod"]:
        pass
    return fs


def qemu_cmd(args, kroot, initrd, disk):
    vmlinuz = glob.glob(os.path.join(kroot, "boot", "vmlinuz-*"))[0]
    return ["qemu-system-x86_64", "-machine", "q35,accel=tcg,kernel-irqchip=split",
            "-cpu", "max", "-m", "1G", "-smp", "2", "-nographic", "-no-reboot",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 intel_iommu=on quiet panic=-1 pdk.config=" + args.config,
            "-device", "intel-iommu,intremap=on,caching-mode=on",
            "-device", CONFIGS[args.config],
            "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
            "-netdev", "hubport,id=p0,hubid=0",
            "-device", "virtio-net-pci,netdev=p0,mac=52:54:00:00:00:01" + VIRTIO[args.config],
            "-netdev", "hubport,id=p1,hubid=0",
            "-device", "virtio-net-pci,netdev=p1,mac=52:54:00:00:00:02" + VIRTIO[args.config]]


def parse_results(text):
    res = {}
    for line in text.splitlines():
        m = re.match(r".*PDK-CHECK (\S+) (PASS|FAIL|SKIP) ?(.*)$", line)
        if m:
            res[m.group(1)] = {"status": m.group(2), "detail": m.group(3).strip()}
    return res


def host_checks(res, disk):
    """After power-off: what the guest wrote through real DMA is on the disk."""
    stamp = res.get("nvme_perf_verify", {}).get("detail", "")
    m = re.search(r"seed=(0x[0-9a-f]+|\d+)", stamp)
    if not m:
        res["disk_pattern"] = {"status": "FAIL", "detail": "the guest reported no verify seed"}
        return
    seed = int(m.group(1), 0)
    found = 0
    with open(disk, "rb") as f:
        data = f.read()
    # each written block starts with its LBA and the run seed (pdk-nvme-perf --verify)
    for lba in range(0, len(data) // 512, 97):
        blk = data[lba * 512: lba * 512 + 16]
        if int.from_bytes(blk[0:8], "little") == lba and int.from_bytes(blk[8:16], "little") == seed:
            found += 1
    res["disk_pattern"] = {"status": "PASS" if found else "FAIL",
                           "detail": "%d sampled blocks carry their LBA and seed %#x" % (found, seed)}


def boot(args, outdir):
    cache = os.path.join(args.build, "test", "vm", "cache")
    if shutil.which("qemu-system-x86_64") is None:
        raise Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
    kroot = fetch_kernel(cache)
    fs = build_initramfs(args, kroot)
    key = fs.key(args.config + open(os.path.join(HERE, "vmrun.py")).read())
    result_file = os.path.join(outdir, "result-%s.json" % key)
    if os.path.exists(result_file):
        return json.load(open(result_file))
    initrd = os.path.join(outdir, "initrd.cpio")
    fs.write(initrd)
    disk = os.path.join(outdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(DISK_MB << 20)
    logf = os.path.join(outdir, "guest.log")
    log("booting the %s guest (log: %s)" % (args.config, logf))
    t0 = time.time()
    with open(logf, "w") as out:
        try:
            p = subprocess.run(qemu_cmd(args, kroot, initrd, disk), stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               timeout=BOOT_TIMEOUT)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    text = open(logf, errors="replace").read()
    res = parse_results(text)
    if "PDK-VM-DONE" not in text:
        res["guest"] = {"status": "FAIL",
                        "detail": "guest did not finish (qemu exit %s after %.0f s)" % (rc, time.time() - t0)}
    else:
        res["guest"] = {"status": "PASS", "detail": "booted and ran in %.0f s" % (time.time() - t0)}
    if "nvme_perf_verify" in res:
        host_checks(res, disk)
    out = {"key": key, "log": logf, "checks": res}
    json.dump(out, open(result_file, "w"), indent=1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--config", default="default", choices=sorted(CONFIGS))
    ap.add_argument("--check", help="report this check (default: every check)")
    args = ap.parse_args()
    outdir = os.path.join(args.build, "test", "vm", args.config)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one boot; the other tests wait for it
        try:
            out = boot(args, outdir)
        except Skip as e:
            print("SKIP: %s" % e)
            return 77
    checks = out["checks"]
    names = [args.check] if args.check else sorted(checks)
    rc = 0
    for name in names:
        c = checks.get(name)
        if c is None:
            print("%s: FAIL: the guest did not report this check (guest log: %s)" % (name, out["log"]))
            rc = 1
            continue
        print("%s: %s %s" % (name, c["status"], c["detail"]))
        if c["status"] == "FAIL":
            rc = 1
        elif c["status"] == "SKIP" and args.check:
            rc = 77
    if rc == 1:
        print("--- guest log (tail): %s" % out["log"])
        print("".join(open(out["log"], errors="replace").readlines()[-60:]))
    return rc


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kill -9 during I/O, then a fresh start with the same --file-prefix.

pdk-emud serves an NVMe controller whose namespace is a file; pdk-nvme-perf
(hugepage memory, --file-prefix P) runs random verified writes and reads on
it. Once writes reach the namespace file, the app gets SIGKILL. Then:
  1. P's hugepage file is left behind (nobody removed it) but nobody holds
     it: no POSIX lock on it, no process has it open or mapped (pdk-emud,
     which mapped it while the app ran, lets go of the dead client's DMA
     memory within 5 s);
  2. a second pdk-nvme-perf with the same prefix removes the stale file
     (says so at info level), opens the device again and finishes verified
     I/O with zero errors and zero mismatches;
  3. after it exits no file of prefix P is left in the hugepage folder.
Only the PIDs this script started are signalled. Exit 0 pass, 1 fail,
77 skip (no NVMe model, or no free hugepages on a writable hugetlbfs).

    kill_recovery.py BUILD_DIR [--huge-dir DIR]
"""
import argparse
import contextlib
import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

import emud

MEM_MB = 64


def free_hugepages_mb():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            info[k] = int(v.split()[0])
    return info.get("HugePages_Free", 0) * info.get("Hugepagesize", 0) // 1024


def lock_holder(path):
    """The pid holding a POSIX lock on path, or 0."""
    fd = os.open(path, os.O_RDWR)
    try:
        # struct flock: short l_type, l_whence; off_t l_start, l_len; pid_t l_pid
        req = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        rep = fcntl.fcntl(fd, fcntl.F_GETLK, req + b"\0" * 4)
        l_type, _, _, _, pid = struct.unpack("hhqqi", rep[:struct.calcsize("hhqqi")])
        return 0 if l_type == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


def users_of(path):
    """PIDs that have path open or mapped (deleted or not)."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith(path):
                    found.add(int(pid))
            with open("/proc/%s/maps" % pid) as f:
                if any(path in line for line in f):
                    found.add(int(pid))
        except OSError:
            continue  # gone, or not ours to read
    found.discard(os.getpid())
    return found


def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--huge-dir", default="/dev/hugepages")
    args = ap.parse_args()
    if not emud.has_nvme(args.build):
        print("SKIP: pdk-emud has no NVMe model in this tree")
        return 77
    perf = os.path.join(args.build, "app", "pdk-nvme-perf", "pdk-nvme-perf")
    if not os.access(args.huge_dir, os.W_OK) or free_hugepages_mb() < 2 * MEM_MB:
        print("SKIP: need %d MiB of free hugepages on a writable %s" % (2 * MEM_MB, args.huge_dir))
        return 77
    prefix = "killrec%d_" % os.getpid()
    hfile = os.path.join(args.huge_dir, prefix + "map_0")
    errors = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            errors.append(what)
        return ok

    with tempfile.TemporaryDirectory(prefix="pdk-kill-recovery.") as d, \
            contextlib.ExitStack() as stack:
        nsfile = os.path.join(d, "ns.img")
        try:
            server = stack.enter_context(emud.Emud(args.build, d,
                                                   "ns-size=64m,file=%s" % nsfile))
        except emud.NotReady as e:
            print("FAIL: %s" % e)
            return 1
        srv, app = server.proc, None
        try:
            base = ["--huge-dir", args.huge_dir, "-m", str(MEM_MB), "--file-prefix", prefix,
                    "-a", "vfio-user:" + server.sock]
            io = ["-q", "16", "-o", "4096", "-w", "randrw", "-M", "50", "--verify"]
            mtime0 = os.stat(nsfile).st_mtime_ns
            app = subprocess.Popen([perf] + base + ["--", "-t", "60"] + io,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            writing = wait_for(lambda: app.poll() is not None or
                               (os.path.exists(hfile) and
                                os.stat(nsfile).st_mtime_ns != mtime0), 30)
            if not check(writing and app.poll() is None,
                         "pdk-nvme-perf (pid %d) is writing to the namespace" % app.pid):
                return 1
            time.sleep(0.5)  # well into the run
            # what the checks below look for is there while it runs
            check({app.pid, srv.pid} <= users_of(hfile),
                  "while it runs, the app and pdk-emud both map %s" % hfile)
            app.send_signal(signal.SIGKILL)
            app.wait(timeout=30)
            check(app.returncode == -signal.SIGKILL, "pdk-nvme-perf killed by SIGKILL")
            check(os.path.exists(hfile), "its hugepage file %s is left behind" % hfile)
            if os.path.exists(hfile):
                check(lock_holder(hfile) == 0, "no process holds its POSIX lock")
                check(wait_for(lambda: not users_of(hfile), 5),
                      "no process has it open or mapped within 5 s (users: %s)" %
                      sorted(users_of(hfile)))
            check(srv.poll() is None, "pdk-emud (pid %d) is still serving" % srv.pid)
            p = subprocess.run([perf] + base + ["--log-level", "eal:info", "--", "-t", "2"] +
                               io + ["--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            check("removing stale hugepage file %s" % hfile in p.stderr,
                  "the next run with the same prefix removes the stale file")
            try:
                r = json.loads(p.stdout)
                t, v = r["total"], r["verify"]
                check(p.returncode == 0 and t["ios"] > 0 and t["errors"] == 0 and
                      v["blocks_checked"] > 0 and v["mismatches"] == 0,
                      "the next run opens the device again: exit %d, %d I/Os, %d errors, "
                      "%d blocks checked, %d mismatches" %
                      (p.returncode, t["ios"], t["errors"], v["blocks_checked"],
                       v["mismatches"]))
            except (ValueError, KeyError):
                check(False, "the next run: exit %d, no JSON report; stderr:\n%s" %
                      (p.returncode, p.stderr[-2000:]))
            left = [f for f in os.listdir(args.huge_dir) if f.startswith(prefix)]
            check(not left, "no file of the prefix left after it exits (%s)" % left)
        finally:
            if app is not None and app.poll() is None:
                app.kill()
                app.wait()
            for f in os.listdir(args.huge_dir):
                if f.startswith(prefix):
                    os.unlink(os.path.join(args.huge_dir, f))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

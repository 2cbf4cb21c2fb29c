#!/usr/bin/env python3
"""pdk-nvme-perf when its controller is asked back (surprise removal through
the request IRQ, as vfio-pci signals on unbind), against pdk-emud in another
process: the removal is injected through pdk-emud's control socket while a
60 s run does I/O. pdk-nvme-perf must say so, let every outstanding I/O
complete (with errors), stop, report the time it ran and exit with 3 well
within the emulator's grace period (30 s): it let go by itself, it was not
cut off. Exit 0 pass, 1 fail, 77 skip (pdk-emud has no NVMe model).

    perf_remove.py BUILD_DIR
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import emud

RUN_S = 60
GRACE_MS = 30000
RELEASE_S = 10  # request -> exit, generous for a loaded machine


def control(path, line):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        return s.makefile().readline().strip()


def wait_for(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def run(build, d):
    perf = os.path.join(build, "app", "pdk-nvme-perf", "pdk-nvme-perf")
    try:
        with emud.Emud(build, d, "ns-size=64m,remove-grace-ms=%d" % GRACE_MS) as srv:
            cmd = [perf, "--no-huge", "-m", "256", "--file-prefix", "perfremove%d" % os.getpid(),
                   "-a", "vfio-user:" + srv.sock, "--", "-q", "16", "-o", "4096",
                   "-w", "randrw", "-M", "50", "-t", str(RUN_S), "--verify", "--json"]
            print(" ".join(cmd), flush=True)
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                return remove_during_run(p, srv)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    except emud.NotReady as e:
        return [str(e)]


def remove_during_run(p, srv):
    err = []
    reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
    reader.start()
    # doing I/O: the first progress line (stderr with --json)
    if not wait_for(lambda: any("IOPS" in l for l in err) or p.poll() is not None, 30):
        return ["no progress line within 30 s"]
    if p.poll() is not None:
        return ["pdk-nvme-perf exited (%d) before the removal: %s" % (p.returncode,
                                                                    "".join(err[-5:]))]
    reply = control(srv.ctl, "fault 0 remove")
    t0 = time.time()
    if reply != "ok":
        return ["control socket: fault 0 remove: %s" % reply]
    try:  # stdout holds only the final JSON object: the pipe cannot fill
        p.wait(timeout=GRACE_MS / 1000 + 10)
    except subprocess.TimeoutExpired:
        return ["pdk-nvme-perf still ran %d s after the removal request" % (GRACE_MS / 1000 + 10)]
    took = time.time() - t0
    out = p.stdout.read()
    reader.join(5)
    sys.stdout.write("".join(err))
    return check(p.returncode, out, "".join(err), took, srv.sock)


def check(rc, out, err, took, sock):
    problems = []
    if rc != 3:
        problems.append("exit %d, not 3 (removed during the run)" % rc)
    if "vfio-user:%s: removal requested" % sock not in err:
        problems.append("stderr does not say the removal was requested")
    if took > RELEASE_S:
        problems.append("exited %.1f s after the request (more than %d s)" % (took, RELEASE_S))
    try:
        r = json.loads(out)
    except ValueError:
        return problems + ["no JSON on stdout: %r" % out[-300:]]
    c, t = r["controllers"][0], r["total"]
    if r.get("removed") != ["vfio-user:" + sock]:
        problems.append("removed: %r" % r.get("removed"))
    if c["submitted"] != c["completed"]:
        problems.append("I/Os left outstanding: %d submitted, %d completed" %
                        (c["submitted"], c["completed"]))
    if not 0 < r["seconds"] < RUN_S - 10:
        problems.append("the report covers %.1f s, not the time before the request" % r["seconds"])
    if t["ios"] == 0 or r["verify"]["mismatches"] != 0:
        problems.append("%d I/Os, %d mismatches" % (t["ios"], r["verify"]["mismatches"]))
    print("exit %d %.2f s after the request; %.1f s measured, %d I/Os, %d failed with the "
          "removal, %d submitted = %d completed, %d blocks checked" %
          (rc, took, r["seconds"], t["ios"], t["errors"], c["submitted"], c["completed"],
           r["verify"]["blocks_checked"]))
    return problems


def main():
    if not emud.has_nvme(sys.argv[1]):
        print("SKIP: pdk-emud has no NVMe model in this tree")
        return 77
    with tempfile.TemporaryDirectory(prefix="pdk-perf-remove.") as d:
        problems = run(sys.argv[1], d)
    for pr in problems:
        print("FAIL: " + pr)
    if not problems:
        print("PASS")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

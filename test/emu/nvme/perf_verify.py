#!/usr/bin/env python3
"""pdk-nvme-perf against pdk-emud's NVMe controller in another process:
random reads and writes with --verify must finish with zero I/O errors and
zero mismatches. Exit 0 pass, 1 fail, 77 skip (pdk-emud has no NVMe model).

    perf_verify.py BUILD_DIR [-t SECONDS] [-o BYTES] [--knobs K=V,...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import emud


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("-t", default="5")
    ap.add_argument("-o", default="4096")
    ap.add_argument("-q", default="32")
    ap.add_argument("--knobs", default="ns-size=256m")
    args = ap.parse_args()
    perf = os.path.join(args.build, "app", "pdk-nvme-perf", "pdk-nvme-perf")
    if not emud.has_nvme(args.build):
        print("SKIP: pdk-emud has no NVMe model in this tree")
        return 77
    with tempfile.TemporaryDirectory(prefix="pdk-perf-verify.") as d:
        try:
            with emud.Emud(args.build, d, args.knobs) as srv:
                cmd = [perf, "--no-huge", "-m", "256", "--file-prefix",
                       "perfverify%d" % os.getpid(), "-a", "vfio-user:" + srv.sock, "--",
                       "-q", args.q, "-o", args.o, "-w", "randrw", "-M", "50", "-t", args.t,
                       "--verify", "--json"]
                print(" ".join(cmd), flush=True)
                p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=300)
        except emud.NotReady as e:
            print("FAIL: %s" % e)
            return 1
    try:
        r = json.loads(p.stdout)
    except ValueError:
        print("FAIL: exit %d, no JSON:\n%s" % (p.returncode, p.stdout))
        return 1
    t, v = r["total"], r["verify"]
    print("seed=%s: %d I/Os, %.0f IOPS, %d errors; %d blocks checked, %d mismatches; %s" %
          (r["seed"], t["ios"], t["iops"], t["errors"], v["blocks_checked"], v["mismatches"],
           r["controllers"][0]))
    ok = p.returncode == 0 and t["errors"] == 0 and v["mismatches"] == 0 and \
        v["blocks_checked"] > 0 and t["ios"] > 0
    print("PASS" if ok else "FAIL (exit %d)" % p.returncode)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

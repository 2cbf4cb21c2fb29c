#!/usr/bin/env python3
"""IOPS per driver core and the driver's cycles per I/O, pdk-nvme-perf
against pdk-emud's NVMe controller with no latency (latency-us=0) on a core
of its own (cpu=N, idle-us=0): the median of several runs per workload,
as a Markdown table (and --json FILE).

    bench-nvme-perf.py BUILD_DIR [--reps 5] [--seconds 5] [--perf-cpu 0] [--emud-cpu 1]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = [("randread", "4096", "32"), ("randwrite", "4096", "32"),
             ("randread", "4096", "128"), ("randrw", "4096", "32")]


def run_perf(args, sock, w, o, q, rep):
    cmd = [os.path.join(args.build, "app", "pdk-nvme-perf", "pdk-nvme-perf"),
           "-l", "%d" % args.perf_cpu, "-m", "256", "--no-huge", "--file-prefix",
           "nvmebench%d" % os.getpid(), "-a", "vfio-user:" + sock, "--",
           "-q", q, "-o", o, "-w", w, "-t", str(args.seconds), "--warmup", "1", "--json"]
    if rep == 0:
        print("# " + " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       timeout=120)
    r = json.loads(p.stdout)
    return r["total"]["iops"], r["cores"][0]["cycles_per_io"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--perf-cpu", type=int, default=0)
    ap.add_argument("--emud-cpu", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    emud = os.path.join(args.build, "app", "pdk-emud", "pdk-emud")
    if "\n  nvme:" not in subprocess.run([emud, "--help"], stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True).stdout:
        print("SKIP: pdk-emud has no NVMe model in this tree")
        return 77
    rows = []
    with tempfile.TemporaryDirectory(prefix="pdk-nvme-bench.") as d:
        sock, ready = os.path.join(d, "nvme.sock"), os.path.join(d, "ready")
        knobs = "socket=%s,ns-size=1g,latency-us=0,cpu=%d,idle-us=0,qdepth=1024" % (
            sock, args.emud_cpu)
        print("# %s --device nvme,%s" % (emud, knobs), file=sys.stderr)
        srv = subprocess.Popen([emud, "--device", "nvme," + knobs, "--ready-file", ready,
                                "--log-level", "warning"])
        try:
            while not os.path.exists(ready):
                time.sleep(0.01)
            for w, o, q in WORKLOADS:
                res = [run_perf(args, sock, w, o, q, k) for k in range(args.reps)]
                iops = [r[0] for r in res]
                cyc = [r[1] for r in res]
                rows.append({"workload": w, "io_size": int(o), "queue_depth": int(q),
                             "iops_median": statistics.median(iops), "iops_min": min(iops),
                             "iops_max": max(iops),
                             "cycles_per_io_median": statistics.median(cyc),
                             "cycles_per_io_min": min(cyc), "cycles_per_io_max": max(cyc)})
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=30)
    print("| workload | -o | -q | IOPS (median) | min | max | cycles/I/O (median) | min | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |" % (
            r["workload"], r["io_size"], r["queue_depth"], r["iops_median"], r["iops_min"],
            r["iops_max"], r["cycles_per_io_median"], r["cycles_per_io_min"],
            r["cycles_per_io_max"]))
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

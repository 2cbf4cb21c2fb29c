#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Forwarding rate of pdk-testpmd and dpdk-testpmd, side by side in one run.

Both forward between two null ports (--vdev net_null0 --vdev net_null1) in
io mode on one forwarding core with bursts of 32, on the same lcores, with
the same memory setup (2 MiB hugepages under distinct --file-prefix, or
--no-huge for both), the same mbuf count and per-lcore cache. Runs are
interleaved (PDK first on even repetitions, DPDK first on odd ones). Each
run prints its port statistics every second (--stats-period 1); the rate of
a period is the sum over both ports of "Tx-pps" (packets forwarded per
second), read from both programs' output with the same expression. A run's
rate is the median of its periods after the warm-up; the table gives the
median, min and max over the runs and the PDK/DPDK ratio of the medians.

Installs nothing; needs dpdk-testpmd (Debian: apt-get install dpdk).
Exit 77 (skip) when it is missing.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

PPS = re.compile(r'Tx-pps:\s+(\d+)')
NPORTS = 2


def find_pdk():
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get('PDK_BUILD_DIR',
                           os.path.join(here, '..', '..', '..', 'build'))
    return os.path.join(build, 'app', 'pdk-testpmd', 'pdk-testpmd')


def free_hugepages_mb():
    free = size_kb = 0
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('HugePages_Free:'):
                free = int(line.split()[1])
            elif line.startswith('Hugepagesize:'):
                size_kb = int(line.split()[1])
    return free * size_kb // 1024


def eal_args(args, tool):
    a = ['-l', args.lcores, '-m', str(args.mem_mb), '--no-pci',
         '--vdev', 'net_null0', '--vdev', 'net_null1']
    if args.memory == 'no-huge':
        a += ['--no-huge']
    else:
        a += ['--file-prefix', 'cmp-testpmd-' + tool]
        if tool == 'dpdk':
            a += ['--huge-unlink']  # leave no files behind; same mapping
    return a


def app_args(args, sep):
    """Identical testpmd options; `sep` is ' ' (pdk) or '=' (dpdk)."""
    opts = [('forward-mode', 'io'), ('nb-cores', '1'), ('burst', str(args.burst)),
            ('total-num-mbufs', str(args.mbufs)), ('mbcache', '250')]
    out = []
    for k, v in opts:
        out += ['--%s=%s' % (k, v)] if sep == '=' else ['--' + k, v]
    return out + ['--stats-period', '1']


def command(args, tool):
    if tool == 'pdk':
        return [args.pdk] + eal_args(args, tool) + ['--'] + app_args(args, ' ')
    return [args.dpdk] + eal_args(args, tool) + ['--'] + app_args(args, '=')


def run_once(cmd, seconds, warmup):
    """Per-period forwarded packets per second after the warm-up."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, universal_newlines=True)
    time.sleep(seconds + warmup + 0.5)
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    values = [int(v) for v in PPS.findall(out)]
    periods = [sum(values[i:i + NPORTS])
               for i in range(0, len(values) - NPORTS + 1, NPORTS)]
    samples = periods[warmup:]
    if p.returncode != 0 or not samples:
        sys.stderr.write('run failed (exit %s): %s\n%s\n' %
                         (p.returncode, ' '.join(cmd), out[-2000:]))
        return None
    return samples


def summary(values):
    med = statistics.median(values)
    return {'median_pps': med, 'min_pps': min(values), 'max_pps': max(values),
            'spread_pct': 100.0 * (max(values) - min(values)) / med if med else 0.0,
            'runs_pps': values}


def machine():
    model = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    dpdk = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'dpdk'],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True).stdout if shutil.which('dpkg-query') else ''
    return {'cpu': model, 'cpus': os.cpu_count(), 'kernel': platform.release(),
            'dpdk_package': dpdk or 'unknown'}


def markdown(res):
    m = res['machine']
    lines = [
        '| tool | median Mpps | min | max | spread | runs |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    for tool in ('pdk', 'dpdk'):
        s = res[tool]
        lines.append('| %s-testpmd | %.2f | %.2f | %.2f | %.1f%% | %d |' % (
            tool, s['median_pps'] / 1e6, s['min_pps'] / 1e6, s['max_pps'] / 1e6,
            s['spread_pct'], len(s['runs_pps'])))
    lines += ['',
              '**PDK/DPDK = %.3f** (ratio of medians; per repetition: %s)' % (
                  res['ratio'], ', '.join('%.3f' % r for r in res['paired_ratios'])),
              '',
              'Machine: %s, %d CPUs, kernel %s, DPDK %s; memory: %s; '
              'burst %d; %d repetitions x %d s (after %d s warm-up).' % (
                  m['cpu'], m['cpus'], m['kernel'], m['dpdk_package'],
                  res['memory'], res['burst'], res['reps'], res['seconds'],
                  res['warmup'])]
    return '\n'.join(lines)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--pdk', default=find_pdk(), help='pdk-testpmd binary')
    ap.add_argument('--dpdk', default=shutil.which('dpdk-testpmd') or 'dpdk-testpmd',
                    help='dpdk-testpmd binary')
    ap.add_argument('--reps', type=int, default=5, help='runs of each (default 5)')
    ap.add_argument('--seconds', type=int, default=5,
                    help='measured seconds per run (default 5)')
    ap.add_argument('--warmup', type=int, default=2,
                    help='first stats periods to ignore (default 2)')
    ap.add_argument('--lcores', default='0-1', help='-l for both (default 0-1)')
    ap.add_argument('--burst', type=int, default=32)
    ap.add_argument('--mbufs', type=int, default=32768, help='--total-num-mbufs for both')
    ap.add_argument('--mem-mb', type=int, default=256, help='-m for both')
    ap.add_argument('--memory', choices=['auto', 'huge', 'no-huge'], default='auto',
                    help='auto: hugepages when enough are free')
    ap.add_argument('--json', metavar='FILE', help='also write the results here')
    return ap.parse_args()


def main():
    args = parse_args()
    for tool, path in (('pdk', args.pdk), ('dpdk', args.dpdk)):
        if not (shutil.which(path) or os.access(path, os.X_OK)):
            print('%s-testpmd not found at %s: %s' % (
                tool, path, 'build PDK first (ninja -C build)' if tool == 'pdk'
                else 'install DPDK (apt-get install dpdk) or pass --dpdk'))
            return 77
    if args.memory == 'auto':
        args.memory = 'huge' if free_hugepages_mb() >= args.mem_mb + 64 else 'no-huge'
    runs = {'pdk': [], 'dpdk': []}
    paired = []
    for rep in range(args.reps):
        order = ('pdk', 'dpdk') if rep % 2 == 0 else ('dpdk', 'pdk')
        got = {}
        for tool in order:
            samples = run_once(command(args, tool), args.seconds, args.warmup)
            if samples is None:
                return 1
            got[tool] = statistics.median(samples)
            runs[tool].append(got[tool])
            sys.stderr.write('rep %d %s: %.2f Mpps\n' % (rep, tool, got[tool] / 1e6))
        paired.append(got['pdk'] / got['dpdk'])
    res = {'test': 'testpmd io, two null ports, one forwarding core',
           'pdk': summary(runs['pdk']), 'dpdk': summary(runs['dpdk']),
           'paired_ratios': paired, 'reps': args.reps, 'seconds': args.seconds,
           'warmup': args.warmup, 'burst': args.burst, 'memory': args.memory,
           'machine': machine(),
           'commands': {t: ' '.join(command(args, t)) for t in ('pdk', 'dpdk')}}
    res['ratio'] = res['pdk']['median_pps'] / res['dpdk']['median_pps']
    print(markdown(res))
    print()
    print('```\n%s\n%s\n```' % (res['commands']['pdk'], res['commands']['dpdk']))
    print()
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())

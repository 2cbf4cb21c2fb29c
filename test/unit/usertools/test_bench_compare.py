# SPDX-License-Identifier: BSD-3-Clause
"""pdk-bench-compare: parsing both sides' output, ratios, the table, the
chart, and whole runs against fake dpdk-test and PDK programs."""

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import unittest.mock
import xml.etree.ElementTree as ET

from fakesys import load_tool

bc = load_tool('pdk-bench-compare')


def ring_output(prefix, scale=1.0, elem=True):
    """ring_perf output in dpdk-test's format (values times scale)."""
    def row(mode, kind, v):
        return '%s: %s: %s: %.2f\n' % (prefix, mode, kind, v * scale)
    text = '\n### Testing single element enq/deq ###\n'
    text += row('SP/SC', 'single', 10) + row('MP/MC', 'single', 40)
    text += '\n### Testing burst enq/deq ###\n'
    text += row('SP/SC', 'burst (size: 8)', 25) + row('SP/SC', 'burst (size: 32)', 60)
    text += '\n### Testing bulk enq/deq ###\n'
    text += row('SP/SC', 'bulk (size: 8)', 26) + row('MP/MC', 'bulk (size: 32)', 80)
    text += '\n### Testing empty bulk deq ###\n' + row('SP/SC', 'bulk (size: 8)', 7)
    text += '\n### Testing using two physical cores ###\n'
    text += row('SP/SC', 'bulk (size: 8)', 9) + row('MP/MC', 'bulk (size: 32)', 4)
    text += ('\n### Testing using all worker nodes ###\n\nBulk enq/dequeue count '
             'on size 8\nCore [0] count = 5\nCore [1] count = 5\n'
             'Total count (size: 8): %d\n' % int(1000 / scale))
    if elem:  # DPDK repeats everything for 16-byte elements
        text += ring_output('elem APIs: element size 16B', 100, False)
        text += '\n### Testing single element enq/deq ###\n' + row('SP/SC', 'single', 999)
    return text


def mempool_output(scale=1):
    """mempool_perf output in dpdk-test's order for the 'cache' preset's
    rows, with a ring_mp_mc section (no PDK counterpart) in between."""
    line = ('mempool_autotest cache=%d cores=%d n_get_bulk=%d n_put_bulk=%d '
            'n_keep=%d constant_n=%d rate_persec=%d\n')
    rows = bc.mempool_rows('cache')
    text = 'start performance test (without cache)\n'
    text += ''.join(line % (r + (100 * scale,)) for r in rows if not r[0])
    text += 'start performance test for ring_mp_mc (without cache)\n'
    text += ''.join(line % (r + (1,)) for r in rows if not r[0])
    text += 'start performance test (with cache)\n'
    text += ''.join(line % (r + (300 * scale,)) for r in rows if r[0])
    return text


MEMPOOL_DPDK = mempool_output()


class ParseTest(unittest.TestCase):

    def test_ring_rows_and_units(self):
        rows = bc.parse_ring(ring_output('legacy APIs'))
        self.assertEqual(rows['ring 1 lcore SP/SC single 1'][0], 10)
        self.assertEqual(rows['ring 1 lcore SP/SC burst 32'][0], 60)
        self.assertEqual(rows['ring empty ring SP/SC bulk 8'][0], 7)
        self.assertEqual(rows['ring 2 cores MP/MC bulk 32'][0], 4)
        self.assertEqual(rows['ring all lcores MP/MC bulk 8'],
                         (1000, bc.RING_UNITS['all lcores'], bc.HIGHER))
        self.assertEqual(rows['ring 1 lcore MP/MC bulk 32'][2], bc.LOWER)
        # the 16-byte-element repeat neither adds rows nor overrides values
        self.assertEqual(len(rows), 10)

    def test_ring_same_rows_both_sides(self):
        self.assertEqual(bc.parse_ring(ring_output('legacy APIs')).keys(),
                         bc.parse_ring(ring_output('PDK APIs', elem=False)).keys())

    def test_mempool_sections(self):
        wanted = bc.mempool_rows('cache')
        r = bc.MempoolReader(wanted)
        done = [r.feed(line) for line in MEMPOOL_DPDK.splitlines()]
        self.assertEqual(done[-1], True)
        self.assertEqual(done.count(True), 1)
        self.assertEqual(len(r.rows), 48)
        # the ring_mp_mc section (no PDK counterpart) is not taken as "no cache"
        self.assertEqual(r.rows[bc.mempool_row_id(wanted[0])][0], 100)
        self.assertEqual(r.rows[bc.mempool_row_id((512, 1, 1, 1, 32, 0))][0],
                         300)

    def test_mempool_presets(self):
        nocache = bc.mempool_rows('nocache')
        self.assertEqual(len(nocache), 24)
        self.assertTrue(all(r[0] == 0 and r[1] == 1 and r[2] == r[3]
                            for r in nocache))
        self.assertEqual(len(bc.mempool_rows('cache')), 48)
        # full: 16 bulk pairs x 3 keeps + 4 x 3 constant rows, 2 pools x 2 cores
        self.assertEqual(len(bc.mempool_rows('full')), 4 * 60)


class StatsTest(unittest.TestCase):

    def test_ratio_direction(self):
        self.assertEqual(bc.speed_ratio(20.0, 10.0, bc.LOWER), 2.0)
        self.assertEqual(bc.speed_ratio(100.0, 50.0, bc.HIGHER), 0.5)

    def test_summary_pairs_repetitions(self):
        rows = bc.summarize({'x': {'unit': 'cycles', 'better': bc.LOWER,
                                   'dpdk': [10.0, 12.0, 11.0],
                                   'pdk': [5.0, 12.0, 22.0]}})
        r = rows[0]
        self.assertEqual(r['ratios'], [2.0, 1.0, 0.5])
        self.assertEqual(r['ratio']['median'], 1.0)
        self.assertEqual((r['ratio']['min'], r['ratio']['max']), (0.5, 2.0))
        self.assertEqual(r['dpdk']['median'], 11.0)
        self.assertEqual(bc.verdict(r), 'within noise')


def fake_result():
    rows = bc.summarize({
        'ring a': {'unit': 'cycles', 'better': bc.LOWER, 'dpdk': [10.0, 10.0],
                   'pdk': [5.0, 6.0]},
        'ring <b> & c': {'unit': 'cycles', 'better': bc.LOWER,
                         'dpdk': [10.0, 10.0], 'pdk': [20.0, 1.0]},
    })
    return {'date': '2024-01-01T00:00:00+00:00', 'reps': 2, 'rows': rows,
            'machine': {'cpu': 'Test CPU', 'dpdk_version': '22.11'},
            'todo': {'startup': 'pdk-testpmd is not built'}, 'commands': {}}


class OutputTest(unittest.TestCase):

    def test_markdown(self):
        md = bc.markdown(fake_result())
        self.assertIn('| ring a | cycles, lower is better | 10.00 (10.00–10.00) '
                      '| 5.50 (5.00–6.00) | **1.83** (1.67–2.00) | PDK ahead |', md)
        self.assertIn('| startup | — | — | — | TODO | pdk-testpmd is not built |',
                      md)

    def test_svg_is_well_formed(self):
        svg = bc.svg_chart(fake_result())
        root = ET.fromstring(svg)
        texts = [t.text for t in root.iter('{http://www.w3.org/2000/svg}text')]
        self.assertIn('ring <b> & c', texts)  # escaped, then parsed back
        self.assertIn('DPDK = 1', texts)
        self.assertIn('5.25 →', texts)  # the cut bar says so


SCRIPT = '#!/bin/sh\ncat "$(dirname "$0")/%s.out"\n'
DPDK_TEST = '''#!/bin/sh
echo "$@" >> "$(dirname "$0")/args"
case "$DPDK_TEST" in
ring_perf_autotest) cat "$(dirname "$0")/ring.out" ;;
mempool_perf_autotest) cat "$(dirname "$0")/mempool.out"; exec sleep 30 ;;
*) exit 1 ;;
esac
'''


class RunTest(unittest.TestCase):
    """Whole runs: fake dpdk-test on PATH and fake PDK programs."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pdk-bench-compare-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = os.path.join(self.dir, 'bin')
        self.build = os.path.join(self.dir, 'build')
        self.script(self.bin, 'dpdk-test', DPDK_TEST)
        self.text(self.bin, 'ring.out', ring_output('legacy APIs'))
        self.text(self.bin, 'mempool.out', MEMPOOL_DPDK)
        ring = os.path.join(self.build, 'test/bench/ring')
        self.script(ring, 'pdk-ring-perf', SCRIPT % 'ring')
        self.text(ring, 'ring.out', ring_output('PDK APIs', 0.5, elem=False))
        mp = os.path.join(self.build, 'test/bench/mempool')
        self.script(mp, 'pdk-mempool-perf', SCRIPT % 'mempool')
        self.text(mp, 'mempool.out', mempool_output(2))
        old = os.environ['PATH']
        os.environ['PATH'] = self.bin + os.pathsep + old
        self.addCleanup(os.environ.__setitem__, 'PATH', old)

    def text(self, d, name, content):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), 'w') as f:
            f.write(content)
        return os.path.join(d, name)

    def script(self, d, name, content):
        path = self.text(d, name, content)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def run_tool(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = bc.main(['--build', self.build] + list(argv))
        return code, out.getvalue(), err.getvalue()

    def test_ring_and_mempool(self):
        outdir = os.path.join(self.dir, 'out')
        code, out, err = self.run_tool('--suite', 'ring,mempool',
                                       '--reps', '2', '--mempool', 'cache',
                                       '--json', '--out', outdir)
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        rows = {r['id']: r for r in res['rows']}
        self.assertEqual(rows['ring 1 lcore SP/SC single 1']['ratio']['median'], 2.0)
        self.assertEqual(rows['ring all lcores MP/MC bulk 8']['ratio']['median'], 2.0)
        self.assertEqual(len(rows['ring 1 lcore SP/SC single 1']['dpdk']['samples']), 2)
        # DPDK's mempool test was stopped at its last wanted row, not after 30 s
        mp = rows[bc.mempool_row_id((512, 1, 1, 1, 32, 0))]
        self.assertEqual(mp['ratio']['median'], 2.0)
        self.assertIn('--no-huge -m 256 -l 0-1', res['commands']['ring']['dpdk'])
        with open(os.path.join(self.bin, 'args')) as f:
            args = f.read().split('\n')
        self.assertIn('--file-prefix pdkbench%d_dpdk' % os.getpid(), args[0])
        for name in ('results.json', 'results.md', 'chart.svg'):
            self.assertTrue(os.path.exists(os.path.join(outdir, name)))

    def test_missing_mempool_rows_fail(self):
        self.text(self.bin, 'mempool.out', MEMPOOL_DPDK.splitlines(True)[0])
        self.script(self.bin, 'dpdk-test', DPDK_TEST.replace('exec sleep 30', ''))
        code, out, err = self.run_tool('--suite', 'mempool', '--reps', '1')
        self.assertEqual(code, 1)
        self.assertIn('printed 0 of the 24 mempool rows', err)

    def test_missing_dpdk(self):
        os.unlink(os.path.join(self.bin, 'dpdk-test'))
        ran = os.path.join(self.dir, 'ran')
        self.script(os.path.join(self.build, 'test/bench/ring'), 'pdk-ring-perf',
                    '#!/bin/sh\ntouch %s\n' % ran)
        os.environ['PATH'] = self.bin
        code, out, err = self.run_tool('--suite', 'ring,forward', '--reps', '1')
        self.assertEqual((code, out), (4, ''))
        # everything missing is named, before anything has run
        self.assertIn('dpdk-test not found on PATH', err)
        self.assertIn('dpdk-testpmd not found on PATH', err)
        self.assertIn('apt-get install dpdk', err)
        self.assertIn('pdk-testpmd not found in', err)
        self.assertFalse(os.path.exists(ran))

    def test_huge_needs_hugepages(self):
        free = {'Hugepagesize': 2048, 'HugePages_Free': 0}
        with unittest.mock.patch.object(bc, 'meminfo', return_value=free):
            code, out, err = self.run_tool('--suite', 'ring', '--huge')
        self.assertEqual((code, out), (4, ''))
        self.assertIn('0 MiB of hugepages free, 320 MiB needed', err)

    def test_icount(self):
        # a fake valgrind: runs nothing, writes totals of 10 per iteration
        # for PDK and 20 for DPDK into the --callgrind-out-file
        self.script(self.bin, 'valgrind', '''#!/bin/sh
for a; do case "$a" in --callgrind-out-file=*) out="${a#*=}" ;; esac; done
shift 4
case "$1" in *dpdk*) per=20 ;; *) per=10 ;; esac
echo "totals: $((per * $3))" > "$out"
''')
        icount = os.path.join(self.build, 'test/bench/icount')
        for side in ('pdk', 'dpdk'):
            self.script(icount, side + '-ring-icount', '#!/bin/sh\n')
        code, out, err = self.run_tool('--suite', 'icount', '--reps', '3',
                                       '--json')
        self.assertEqual(code, 0, err)
        rows = {r['id']: r for r in json.loads(out)['rows']}
        self.assertEqual(len(rows), len(bc.ICOUNT_OPS))
        r = rows['icount ring MP/MC bulk 32']
        self.assertEqual((r['pdk']['median'], r['dpdk']['median']), (10, 20))
        self.assertEqual(r['ratios'], [2.0])  # measured once, not per rep
        self.assertIn('icount ring SP/SC empty 8', rows)
        self.assertIn('dequeue call', rows['icount ring SP/SC empty 8']['unit'])

    def fake_testpmd(self, ready_line):
        return '#!/bin/sh\necho starting\nsleep 0.2\necho "%s"\nexec sleep 30\n' % \
            ready_line

    def test_startup(self):
        self.script(self.bin, 'dpdk-testpmd', self.fake_testpmd(
            'io packet forwarding - ports=2 - cores=1 - streams=2'))
        self.script(os.path.join(self.build, 'app/pdk-testpmd'), 'pdk-testpmd',
                    self.fake_testpmd('pdk-testpmd: io forwarding, burst 32'))
        free = {'Hugepagesize': 2048, 'HugePages_Free': 1000, 'MemAvailable': 1 << 30}
        with unittest.mock.patch.object(bc, 'meminfo', return_value=free):
            code, out, err = self.run_tool('--suite', 'startup', '--reps', '2',
                                           '--json')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        rows = {r['id']: r for r in res['rows']}
        ready = rows['startup: start to ready']
        self.assertEqual(ready['unit'], 'ms')
        self.assertTrue(150 < ready['pdk']['min'] < 5000, ready)
        self.assertIn('startup: resident memory (VmRSS)', rows)
        self.assertIn('-m 1024', res['commands']['startup']['pdk'])
        self.assertIn('--forward-mode=io', res['commands']['startup']['dpdk'])
        self.assertIn('--forward-mode io', res['commands']['startup']['pdk'])

    def test_startup_needs_hugepages(self):
        self.script(os.path.join(self.build, 'app/pdk-testpmd'), 'pdk-testpmd',
                    self.fake_testpmd('pdk-testpmd: io forwarding'))
        free = {'Hugepagesize': 2048, 'HugePages_Free': 100}
        with unittest.mock.patch.object(bc, 'meminfo', return_value=free):
            code, out, err = self.run_tool('--suite', 'startup', '--reps', '1')
        self.assertEqual((code, out), (4, ''))
        self.assertIn('200 MiB of hugepages free, 1088 MiB needed', err)
        self.assertIn('pdk-hugepages -r 1088M', err)

    def test_startup_without_pdk_testpmd(self):
        free = {'Hugepagesize': 2048, 'HugePages_Free': 1000}
        with unittest.mock.patch.object(bc, 'meminfo', return_value=free):
            code, out, err = self.run_tool('--suite', 'startup', '--reps', '1')
        self.assertEqual(code, 4)
        self.assertIn('pdk-testpmd not found in', err)
        self.assertIn('build it: ninja -C', err)

    def test_forward_runs_the_testpmd_script(self):
        source = os.path.join(self.dir, 'src')
        self.script(os.path.join(source, 'test/bench/net'), 'compare-testpmd.py',
                    '''import json, sys
a = sys.argv
json.dump({'memory': 'huge', 'pdk': {'runs_pps': [2e6, 4e6, 3e6]},
           'dpdk': {'runs_pps': [1e6, 1e6, 2e6]}, 'reps': int(a[a.index('--reps') + 1])},
          open(a[a.index('--json') + 1], 'w'))
''')
        # the script runs them; the tool only checks that they are there
        self.script(self.bin, 'dpdk-testpmd', '#!/bin/sh\n')
        self.script(os.path.join(self.build, 'app/pdk-testpmd'), 'pdk-testpmd',
                    '#!/bin/sh\n')
        code, out, err = self.run_tool('--suite', 'forward', '--reps', '3',
                                       '--source', source, '--json')
        self.assertEqual(code, 0, err)
        r = json.loads(out)['rows'][0]
        self.assertEqual(r['id'], 'forward: io, 2 null ports, 1 core, burst 32 (huge)')
        self.assertEqual(r['pdk']['samples'], [2.0, 4.0, 3.0])
        self.assertEqual(r['ratios'], [2.0, 4.0, 1.5])

    def test_ringcc(self):
        icount = os.path.join(self.build, 'test/bench/icount')
        self.script(icount, 'pdk-ring-icount',
                    '#!/bin/sh\necho "$1: 10.00 cycles per iteration"\n')
        self.script(icount, 'dpdk-ring-icount',
                    '#!/bin/sh\necho "$1: 15.00 cycles per iteration"\n')
        code, out, err = self.run_tool('--suite', 'ringcc', '--reps', '2',
                                       '--json')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        rows = {r['id']: r for r in res['rows']}
        self.assertEqual(rows['ringcc MP/MC bulk 8']['ratios'], [1.5, 1.5])
        self.assertIn('taskset -c 0', res['commands']['ringcc']['pdk'])

    def test_help_and_usage_errors(self):
        path = os.path.join(os.path.dirname(bc.__file__), 'pdk-bench-compare')
        p = subprocess.run([path, '--help'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stderr), (0, ''))
        self.assertIn('exit codes: 0 ', p.stdout)
        self.assertIn('--json', p.stdout)
        p = subprocess.run([path, '--suite', 'nvme'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn('unknown suite nvme', p.stderr)

    def test_from_saved_results(self):
        saved = self.text(self.dir, 'r.json', json.dumps(fake_result()))
        svg = os.path.join(self.dir, 'c.svg')
        code, out, err = self.run_tool('--from', saved, '--svg', svg)
        self.assertEqual(code, 0, err)
        self.assertIn('| ring a |', out)
        ET.parse(svg)
        other = fake_result()
        other['rows'] = [dict(other['rows'][0], id='mempool x')]
        other['todo'] = {'forward': 'not measured'}
        other['commands'] = {'mempool': {'pdk': 'p', 'dpdk': 'd'}}
        saved2 = self.text(self.dir, 'r2.json', json.dumps(other))
        code, out, err = self.run_tool('--from', saved, '--from', saved2,
                                       '--json')
        merged = json.loads(out)
        self.assertEqual([r['id'] for r in merged['rows']],
                         ['ring a', 'ring <b> & c', 'mempool x'])
        self.assertEqual(set(merged['todo']), {'startup', 'forward'})


if __name__ == '__main__':
    unittest.main()

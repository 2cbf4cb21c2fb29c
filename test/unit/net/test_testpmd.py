# SPDX-License-Identifier: BSD-3-Clause
"""pdk-testpmd end to end, spawned as a process with --no-huge.

io forwarding over null and ring ports with matching counts, txonly on one
port and rxonly on its peer, macswap and mac rewriting exactly the MACs,
--json output, SIGINT/SIGTERM giving final stats and exit 0, the shell, and
bad options giving errors that name the fix.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

TESTPMD = None  # set from argv[1]
EAL = ['-l', '0-1', '--no-huge', '-m', '256', '--log-level=warning']
SMALL = ['--total-num-mbufs', '8192']
RING_PAIR = ['--vdev', 'net_ring0', '--vdev', 'net_ring1,peer=net_ring0']
NULL_PAIR = ['--vdev', 'net_null0', '--vdev', 'net_null1']


def run(eal, args, timeout=60, stdin=None):
    p = subprocess.run([TESTPMD] + EAL + eal + ['--'] + SMALL + args,
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def events(out):
    """The JSON lines of a --json run, every one of which must parse."""
    evs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return evs


def final(out):
    evs = [e for e in events(out) if e['event'] == 'final']
    assert len(evs) == 1, out
    return evs[0]


def port(ev, p):
    return [x for x in ev['ports'] if x['port'] == p][0]


def fwd_port(ev, p):
    return [x for x in ev['forward']['ports'] if x['port'] == p][0]


def ip_checksum(hdr):
    s = sum((hdr[i] << 8) | hdr[i + 1] for i in range(0, 20, 2) if i != 10)
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


class TestpmdTest(unittest.TestCase):
    def test_io_null_ports_counts_match(self):
        rc, out, err = run(NULL_PAIR, ['--forward-mode', 'io', '--run-time', '0.5',
                                       '--json'])
        self.assertEqual(rc, 0, err)
        ev = final(out)
        p0, p1 = port(ev, 0), port(ev, 1)
        self.assertGreater(p0['rx_packets'], 1000)
        f0, f1 = fwd_port(ev, 0), fwd_port(ev, 1)
        # What port 0 received went out of port 1 (null Tx never refuses).
        self.assertEqual(f0['rx_packets'], f1['tx_packets'] + f1['dropped'])
        self.assertEqual(f1['rx_packets'], f0['tx_packets'] + f0['dropped'])
        self.assertEqual(ev['forward']['dropped'], 0)
        # The ports' own counters agree with the streams'.
        self.assertEqual(p1['tx_packets'], f1['tx_packets'])
        self.assertEqual(p0['rx_packets'], f0['rx_packets'])
        self.assertEqual(p0['rx_bytes'], 64 * p0['rx_packets'])
        self.assertEqual(len(ev['cores']), 1)
        self.assertGreater(ev['cores'][0]['cycles_per_packet'], 0)

    def test_io_ring_pair_tx_first(self):
        rc, out, err = run(RING_PAIR, ['--tx-first', '--run-time', '0.5', '--json'])
        self.assertEqual(rc, 0, err)
        ev = final(out)
        p0, p1 = port(ev, 0), port(ev, 1)
        self.assertGreater(p0['tx_packets'], 1000)
        # Every packet sent on one port arrives on the other, but for the
        # bursts still in a ring when forwarding stopped (2 x 32 circulate).
        for a, b in ((p0, p1), (p1, p0)):
            self.assertGreaterEqual(a['tx_packets'], b['rx_packets'])
            self.assertLessEqual(a['tx_packets'] - b['rx_packets'], 64)
        self.assertEqual(p0['tx_bytes'] - p1['rx_bytes'],
                         64 * (p0['tx_packets'] - p1['rx_packets']))
        self.assertEqual(ev['forward']['dropped'], 0)

    def test_txonly_one_port_rxonly_the_peer(self):
        rc, out, err = run(RING_PAIR, ['--port-topology', 'loop', '--forward-mode',
                                       'rxonly', '--port-mode', '0=txonly',
                                       '--txpkts', '128', '--run-time', '0.5',
                                       '--json'])
        self.assertEqual(rc, 0, err)
        ev = final(out)
        p0, p1 = port(ev, 0), port(ev, 1)
        self.assertGreater(p0['tx_packets'], 1000)
        self.assertEqual(p0['rx_packets'], 0)
        self.assertEqual(p1['tx_packets'], 0)
        self.assertEqual(p1['rx_packets'], p0['tx_packets'])
        self.assertEqual(p1['rx_bytes'], 128 * p1['rx_packets'])
        self.assertEqual(ev['forward']['dropped'], 0)

    def capture_run(self, mode):
        """Port 0 sends one template flow to port 1, which runs `mode` back;
        port 0 keeps what comes back."""
        rc, out, err = run(RING_PAIR, [
            '--port-topology', 'loop', '--forward-mode', mode, '--port-mode',
            '0=flowgen', '--flows', '1', '--capture', '2', '--eth-peer',
            '0,02:aa:bb:cc:dd:ee', '--eth-peer', '1,02:11:22:33:44:55',
            '--run-time', '0.3', '--json'])
        self.assertEqual(rc, 0, err)
        start = [e for e in events(out) if e['event'] == 'start'][0]
        macs = {p['port']: bytes.fromhex(p['mac'].replace(':', ''))
                for p in start['ports']}
        caps = final(out)['captured']
        sent = [bytes.fromhex(c['hex']) for c in caps if c['port'] == 1]
        back = [bytes.fromhex(c['hex']) for c in caps if c['port'] == 0]
        self.assertEqual(len(sent), 2)
        self.assertEqual(len(back), 2)
        return macs, sent[0], back[0]

    def test_macswap_rewrites_exactly_the_macs(self):
        macs, sent, back = self.capture_run('macswap')
        # What port 0 sent: to its peer address, from its own.
        self.assertEqual(sent[0:6], bytes.fromhex('02aabbccddee'))
        self.assertEqual(sent[6:12], macs[0])
        self.assertEqual(sent[12:14], b'\x08\x00')
        ip = sent[14:34]
        self.assertEqual(ip[0], 0x45)
        self.assertEqual((ip[10] << 8) | ip[11], ip_checksum(ip))
        self.assertEqual(back[0:6], sent[6:12])
        self.assertEqual(back[6:12], sent[0:6])
        self.assertEqual(back[12:], sent[12:])

    def test_mac_mode_sets_port_and_peer_addresses(self):
        macs, sent, back = self.capture_run('mac')
        self.assertEqual(back[0:6], bytes.fromhex('021122334455'))  # peer of 1
        self.assertEqual(back[6:12], macs[1])
        self.assertEqual(back[12:], sent[12:])

    def test_json_stats_period(self):
        rc, out, err = run(NULL_PAIR, ['--stats-period', '0.2', '--run-time', '0.9',
                                       '--json'])
        self.assertEqual(rc, 0, err)
        evs = events(out)
        kinds = [e['event'] for e in evs]
        self.assertEqual(kinds[0], 'start')
        self.assertEqual(kinds[-1], 'final')
        self.assertGreaterEqual(kinds.count('stats'), 3)
        st = [e for e in evs if e['event'] == 'stats'][-1]
        self.assertGreater(port(st, 0)['rx_pps'], 0)
        self.assertIn('cycles_per_packet', st['cores'][0])

    def signal_run(self, sig):
        p = subprocess.Popen([TESTPMD] + EAL + NULL_PAIR + ['--'] + SMALL + ['--json'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        first = p.stdout.readline()  # forwarding has started
        self.assertEqual(json.loads(first)['event'], 'start')
        time.sleep(0.3)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        ev = final(first + out)
        self.assertGreater(ev['forward']['rx_packets'], 0)

    def test_sigint_gives_final_stats(self):
        self.signal_run(signal.SIGINT)

    def test_sigterm_gives_final_stats(self):
        self.signal_run(signal.SIGTERM)

    def test_text_output_and_sigint(self):
        p = subprocess.Popen([TESTPMD] + EAL + NULL_PAIR + ['--'] + SMALL +
                             ['--stats-period', '0.2'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        first = p.stdout.readline()  # forwarding has started
        self.assertIn('io forwarding', first)
        time.sleep(0.8)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn('Rx-pps:', out)
        self.assertIn('Accumulated forward statistics for all ports', out)
        self.assertIn('cycles/packet', out)

    def test_shell(self):
        cmds = ('show port info all\nshow config fwd\nstart\nshow port stats all\n'
                'stop\nset fwd macswap\nshow config fwd\nshow port stats 9\n'
                'clear port stats 0\nfrobnicate\nquit\n')
        rc, out, err = run(NULL_PAIR, ['-i'], stdin=cmds)
        self.assertEqual(rc, 0, err)
        self.assertIn('driver net_null', out)
        self.assertIn('io: RX P=0/Q=0 -> TX P=1/Q=0', out)
        self.assertIn('Forwarding started', out)
        self.assertIn('NIC statistics for port 1', out)
        self.assertIn('Accumulated forward statistics', out)
        self.assertIn('macswap: RX P=1/Q=0 -> TX P=0/Q=0', out)
        self.assertIn("Invalid port '9'", out)
        self.assertIn('Port statistics cleared', out)
        self.assertIn("Unknown command 'frobnicate'; type help", out)

    def test_shell_auto_start_and_eof(self):
        rc, out, err = run(NULL_PAIR, ['-i', '--auto-start'], stdin='')
        self.assertEqual(rc, 0, err)
        self.assertIn('Accumulated forward statistics', out)

    def test_bad_options_name_the_fix(self):
        cases = [
            (NULL_PAIR, ['--nb-cores', '2'], 'list more with -l'),
            (NULL_PAIR, ['--forward-mode', 'bogus'], 'io|mac|macswap|rxonly|txonly|flowgen'),
            (NULL_PAIR, ['--rxq', '2'], 'give both the same count'),
            (NULL_PAIR, ['--burst', '0'], '1..512'),
            (NULL_PAIR, ['--burst'], 'needs a value'),
            (NULL_PAIR, ['--frobnicate'], "unknown option '--frobnicate'"),
            (NULL_PAIR, ['--port-mode', '0:txonly'], 'expected PORT=MODE'),
            (NULL_PAIR, ['--rxd', '9999'], 'valid counts are 1-4096'),
            (NULL_PAIR, ['--rxq', '17', '--txq', '17'], '1..16'),
            ([], [], '--vdev net_null0'),
            (['--vdev', 'net_null0,bogus=1'], [], 'valid options: size='),
        ]
        for eal, args, want in cases:
            with self.subTest(args=args):
                rc, out, err = run(eal, args, timeout=30)
                self.assertNotEqual(rc, 0)
                self.assertIn(want, err)

    def test_help(self):
        rc, out, err = run([], ['--help'])
        self.assertEqual(rc, 0, err)
        self.assertIn('--forward-mode io|mac|macswap|rxonly|txonly|flowgen', out)


if __name__ == '__main__':
    TESTPMD = sys.argv.pop(1)
    if not os.access(TESTPMD, os.X_OK):
        print('pdk-testpmd not built: %s' % TESTPMD)
        sys.exit(77)
    unittest.main()

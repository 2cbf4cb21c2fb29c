# SPDX-License-Identifier: BSD-3-Clause
"""pdk-testpmd on net_virtio ports served by pdk-emud (vfio-user).

Two virtio-net devices wired back to back (wire=pair): txonly on one port
and rxonly on the other with counts that match exactly, io forwarding with
nothing lost, macswap rewriting exactly the MACs (byte check on captured
frames), malformed used entries (dropped, counted, no crash), link down and
up seen by the driver, and the generator/sink wiring.

Counts: in pdk-emud a full wire holds the sender back instead of dropping
(see doc/emulator.md), so nothing is lost however fast txonly goes. For the
exact comparison the receiver runs in its own pdk-testpmd, started before
and stopped after the sender, and the driver's stop waits for its transmit
queues to empty: the sender's tx_packets must equal the receiver's
rx_packets.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

TESTPMD = None
EMUD = None
EAL = ['-l', '0-1', '--no-huge', '-m', '128', '--log-level=warning']


class Emud:
    """pdk-emud with the given device specs ({sock} is the socket dir)."""

    def __init__(self, specs, level='notice'):
        self.dir = tempfile.mkdtemp(prefix='pdk-vnet-')
        self.ready = os.path.join(self.dir, 'ready')
        self.control = os.path.join(self.dir, 'ctl')
        args = [EMUD, '--ready-file', self.ready, '--log-level', level,
                '--control', self.control]
        for s in specs:
            args += ['--device', s.format(sock=self.dir)]
        self.log = open(os.path.join(self.dir, 'emud.log'), 'w+')
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(500):
            if os.path.exists(self.ready):
                return
            if self.p.poll() is not None:
                raise RuntimeError('pdk-emud exited: ' + self.text())
            time.sleep(0.01)
        raise RuntimeError('pdk-emud did not get ready')

    def dev(self, name):
        return 'vfio-user:' + os.path.join(self.dir, name)

    def stats(self, dev):
        """The device's virtio_net counters, from pdk-emud's control socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.control)
        s.sendall(('stats %s\n' % dev).encode())
        line = b''
        while not line.endswith(b'\n'):
            line += s.recv(4096)
        s.close()
        status, body = line.decode().strip().split(' ', 1)
        assert status == 'ok', line
        return json.loads(body)['virtio_net']

    def text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def signal(self, sig):
        self.p.send_signal(sig)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=10)
        self.log.close()
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)


def pair(extra=''):
    knobs = 'wire=pair,pair=ab' + (',' + extra if extra else '')
    return ['virtio-net,socket={sock}/a.sock,' + knobs,
            'virtio-net,socket={sock}/b.sock,' + knobs]


def testpmd(devs, args, prefix='vnet', timeout=60, stdin=None):
    cmd = [TESTPMD] + EAL + ['--file-prefix', prefix]
    for d in devs:
        cmd += ['-a', d]
    return subprocess.Popen(cmd + ['--', '--json'] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=stdin, universal_newlines=True)


def finish(p, timeout=60):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def final(out):
    evs = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
    fin = [e for e in evs if e['event'] == 'final']
    assert len(fin) == 1, out
    return fin[0], evs


def port(ev, p):
    return [x for x in ev['ports'] if x['port'] == p][0]


class VirtioTestpmdTest(unittest.TestCase):
    def setUp(self):
        self.emud = None

    def tearDown(self):
        if self.emud:
            self.emud.stop()

    def test_txonly_rxonly_counts_match(self):
        self.emud = Emud(pair())
        rx = testpmd([self.emud.dev('b.sock')], ['--forward-mode', 'rxonly',
                                                  '--run-time', '3'], prefix='vnrx')
        time.sleep(0.5)
        tx = testpmd([self.emud.dev('a.sock')], ['--forward-mode', 'txonly', '--txpkts',
                                                  '256', '--run-time', '1'], prefix='vntx')
        rc, tout, terr = finish(tx)
        self.assertEqual(rc, 0, terr)
        rc, rout, rerr = finish(rx)
        self.assertEqual(rc, 0, rerr)
        sent, got = port(final(tout)[0], 0), port(final(rout)[0], 0)
        self.assertGreater(sent['tx_packets'], 1000)
        self.assertEqual(got['rx_packets'], sent['tx_packets'])
        self.assertEqual(got['rx_bytes'], 256 * sent['tx_packets'])
        for p in (sent, got):
            self.assertEqual(p['rx_errors'] + p['tx_errors'] + p['rx_nombuf'], 0)
        # and the devices agree: all sent on the wire, all received, none dropped
        a, b = self.emud.stats(0), self.emud.stats(1)
        self.assertEqual(a['tx_frames'], sent['tx_packets'])
        self.assertEqual(b['rx_frames'], sent['tx_packets'])
        self.assertEqual(a['tx_dropped'] + b['rx_dropped'], 0)

    def test_io_forwarding_loses_nothing(self):
        self.emud = Emud(pair())
        rc, out, err = finish(testpmd([self.emud.dev('a.sock'), self.emud.dev('b.sock')],
                                      ['--forward-mode', 'io', '--tx-first',
                                       '--run-time', '1']))
        self.assertEqual(rc, 0, err)
        ev = final(out)[0]
        p0, p1 = port(ev, 0), port(ev, 1)
        # Many round trips (the rate depends on the machine's load; the
        # emulator's device threads share its cores), then what matters:
        self.assertGreater(p0['tx_packets'], 10 * 64)
        # two bursts of 32 circulate: at most those are on the way at the end
        for a, b in ((p0, p1), (p1, p0)):
            self.assertGreaterEqual(a['tx_packets'], b['rx_packets'])
            self.assertLessEqual(a['tx_packets'] - b['rx_packets'], 64)
        self.assertEqual(ev['forward']['dropped'], 0)
        self.assertEqual(p0['rx_errors'] + p1['rx_errors'] + p0['tx_errors'] +
                         p1['tx_errors'], 0)

    def test_macswap_rewrites_exactly_the_macs(self):
        self.emud = Emud(pair())
        rc, out, err = finish(testpmd(
            [self.emud.dev('a.sock'), self.emud.dev('b.sock')],
            ['--port-topology', 'loop', '--forward-mode', 'macswap', '--port-mode',
             '0=flowgen', '--flows', '1', '--capture', '2', '--eth-peer',
             '0,02:aa:bb:cc:dd:ee', '--run-time', '0.5']))
        self.assertEqual(rc, 0, err)
        ev, evs = final(out)
        start = [e for e in evs if e['event'] == 'start'][0]
        macs = {p['port']: bytes.fromhex(p['mac'].replace(':', '')) for p in start['ports']}
        sent = [bytes.fromhex(c['hex']) for c in ev['captured'] if c['port'] == 1]
        back = [bytes.fromhex(c['hex']) for c in ev['captured'] if c['port'] == 0]
        self.assertEqual(len(sent), 2)
        self.assertEqual(len(back), 2)
        s, b = sent[0], back[0]
        self.assertEqual(s[0:6], bytes.fromhex('02aabbccddee'))
        self.assertEqual(s[6:12], macs[0])
        self.assertEqual(b[0:6], s[6:12])
        self.assertEqual(b[6:12], s[0:6])
        self.assertEqual(b[12:], s[12:])

    def test_malformed_used_entries(self):
        self.emud = Emud(pair('bad-used=mix,bad-used-every=300'), level='info')
        rc, out, err = finish(testpmd([self.emud.dev('a.sock'), self.emud.dev('b.sock')],
                                      ['--forward-mode', 'io', '--tx-first',
                                       '--run-time', '1']))
        self.assertEqual(rc, 0, err)  # no crash, a clean stop
        ev = final(out)[0]
        errors = sum(port(ev, p)['rx_errors'] + port(ev, p)['tx_errors'] for p in (0, 1))
        self.assertGreaterEqual(errors, 1)
        self.assertIn('fault: malformed used entry', self.emud.text())

    def test_link_down_up(self):
        self.emud = Emud(['virtio-net,socket={sock}/a.sock,fault=link-toggle,'
                          'fault-after-ms=86400000'])
        p = testpmd([self.emud.dev('a.sock')], ['-i'], stdin=subprocess.PIPE)
        seen = []
        for _ in range(3):
            p.stdin.write('show port info 0\n')
            p.stdin.flush()
            time.sleep(1.0)
            self.emud.signal(signal.SIGUSR2)  # the device's fault: link-toggle
            time.sleep(1.0)
        p.stdin.write('quit\n')
        p.stdin.flush()
        rc, out, err = finish(p)
        self.assertEqual(rc, 0, err)
        for line in out.splitlines():
            if 'link' in line and 'MAC' in line:
                seen.append('link down' not in line)
        self.assertEqual(seen, [True, False, True], out)
        log = self.emud.text()
        self.assertEqual((log.count(': link down'), log.count(': link up')), (2, 1), log)

    def test_generator_and_sink(self):
        self.emud = Emud(['virtio-net,socket={sock}/g.sock,wire=gen,gen-size=128'])
        rc, out, err = finish(testpmd([self.emud.dev('g.sock')],
                                      ['--forward-mode', 'io', '--port-topology', 'loop',
                                       '--run-time', '1']))
        self.assertEqual(rc, 0, err)
        p0 = port(final(out)[0], 0)
        self.assertGreater(p0['rx_packets'], 1000)
        self.assertEqual(p0['rx_bytes'], 128 * p0['rx_packets'])
        self.assertGreaterEqual(p0['rx_packets'], p0['tx_packets'])
        self.assertEqual(p0['rx_errors'] + p0['tx_errors'], 0)


if __name__ == '__main__':
    TESTPMD = sys.argv.pop(1)
    EMUD = sys.argv.pop(1)
    for exe in (TESTPMD, EMUD):
        if not os.access(exe, os.X_OK):
            print('not built: %s' % exe)
            sys.exit(77)
    unittest.main()

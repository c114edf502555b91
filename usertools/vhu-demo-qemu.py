#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu-demo --qemu: vhu's main job with two real virtual machines.

usertools/vhu-demo --qemu runs the set-up, then this:
  1. vhu-fwd as an L2 switch with two vhost-user ports;
  2. two QEMU guests (Linux, virtio-net; TCG when there is no KVM) on its
     ports, VM1 198.51.100.2 and VM2 198.51.100.3;
  3. traffic between them: pings both ways and a TCP transfer of 32 MiB of
     random data each way, while vhu-fwd's live view runs;
  4. what went where (each guest's own counters against vhu-fwd's), and a
     one-line verdict ending in PASS or FAIL.
Everything it starts is stopped again (by PID) however it ends. It uses
the test harness (test/harness/vhu_harness.py), as the vm test suite does.

    vhu-demo-qemu.py --fwd PATH [--seconds N] [--keep]
"""
import argparse
import os
import signal
import sys
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'test', 'harness'))
import vhu_harness  # noqa: E402
from vhu_harness import Fail, Run  # noqa: E402
import vhu_vm  # noqa: E402

TRANSFER = 32 << 20


def step(text):
    bold = sys.stdout.isatty()
    print(f'\n\033[1m{text}\033[0m' if bold else f'\n{text}', flush=True)


def say(text=''):
    print(text, flush=True)


def guest_counters(g):
    out = g.sh('cd /sys/class/net/eth0/statistics && cat tx_packets rx_packets tx_bytes rx_bytes')
    tx, rx, txb, rxb = (int(v) for v in out.split())
    return {'tx': tx, 'rx': rx, 'tx_bytes': txb, 'rx_bytes': rxb}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fwd', required=True)
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    # The harness logs each step it takes to stderr: a demo shows its own.
    vhu_harness.log = lambda msg: None
    vhu_vm.log = lambda msg: None

    with Run('demo-qemu') as t:
        try:
            return demo(t, a)
        except Fail as e:
            say(f'\nvhu-demo: FAIL — {e}')
            t.dump_logs()
            return 1


def demo(t, a):
    t.need_vm()
    step('[2/5] vhu-fwd: an L2 switch (MAC learning) with two vhost-user ports, polling on CPU 1')
    socks = [t.path('vm1.sock'), t.path('vm2.sock')]
    fwd = t.vhu_fwd('fwd', a.fwd, '--mode', 'l2', '--vhost', socks[0], '--vhost', socks[1],
                    '--stats-period', '1')
    say('  ' + ' '.join(fwd.argv))
    for line in fwd.text().splitlines():
        if line.startswith(('  port', '  lcore', '  MAC')):
            say('  ' + line)

    accel = 'KVM' if vhu_harness.kvm_works() else 'TCG: software emulation, no KVM here'
    step(f'[3/5] Two QEMU virtual machines ({accel}), a Linux guest each, '
         'virtio-net on a vhost-user port')
    vms = []
    for i, sock in enumerate(socks):
        name = f'vm{i + 1}'
        t0 = time.monotonic()
        vm = t.qemu(name, nics=[{'sock': sock, 'mac': vhu_vm.mac(i + 1)}],
                    ips=[vhu_vm.ip(i + 2)])
        vms.append(vm)
        say(f'  {name.upper()}  MAC {vhu_vm.mac(i + 1)}, IP {vhu_vm.ip(i + 2, False)}, on port {i}'
            f' ({os.path.basename(sock)}): booted in {time.monotonic() - t0:.1f} s')
    say('  QEMU: ' + ' '.join(vms[0].argv[:3]) + ' ... -object memory-backend-memfd,share=on'
        ' -netdev vhost-user,chardev=... -device virtio-net-pci,vectors=0 ...')
    g1, g2 = (vm.guest for vm in vms)
    ip1, ip2 = vhu_vm.ip(2, False), vhu_vm.ip(3, False)

    step(f'[4/5] Traffic: pings both ways, and {TRANSFER >> 20} MiB of random data by TCP each '
         'way (VM1 -> VM2, then VM2 -> VM1), MD5-checked; vhu-fwd\'s live view:')
    results = {}

    def traffic():
        try:
            results['ping12'] = g1.sh(f'ping -c 5 -i 0.2 -W 5 {ip2} | tail -2')
            results['ping21'] = g2.sh(f'ping -c 5 -i 0.2 -W 5 {ip1} | tail -2')
            results['tcp12'] = vhu_vm.tcp_guest_to_guest(g1, g2, ip2, TRANSFER)
            results['tcp21'] = vhu_vm.tcp_guest_to_guest(g2, g1, ip1, TRANSFER)
        except Exception as e:      # any: the verdict must see it
            results['error'] = f'{type(e).__name__}: {e}'
    th = threading.Thread(target=traffic, daemon=True)
    th.start()
    stop = {'now': False}
    if a.keep:
        signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    shown = fwd.mark()
    end = time.monotonic() + a.seconds
    while True:
        time.sleep(1)
        text = fwd.text(shown)
        # Whole lines only: a partly written one waits for the next turn.
        text = text[:text.rfind('\n') + 1]
        for line in text.splitlines():
            if line.startswith('['):
                say('  ' + line)
        shown += len(text.encode())
        if not fwd.alive():
            raise Fail('vhu-fwd exited')
        done = not th.is_alive()
        if stop['now'] or (not a.keep and time.monotonic() >= end and done):
            break
    signal.signal(signal.SIGINT, signal.default_int_handler)
    th.join(300)

    step('[5/5] What went where')
    # Counts since each guest's driver started, read while nothing
    # moves: vhu-fwd's, the guests', vhu-fwd's again, until the two
    # reads of vhu-fwd agree.
    for _ in range(10):
        time.sleep(0.5)
        st = fwd.tel('/vhu/stats')
        d1, d2 = guest_counters(g1), guest_counters(g2)
        if fwd.tel('/vhu/stats') == st:
            break
    macs = fwd.macs()
    p = [st[f'port{n}'] for n in (0, 1)]
    vm_tx = [d1['tx'], d2['tx']]
    vm_rx = [d1['rx'], d2['rx']]
    rows = []
    for s, r in ((0, 1), (1, 0)):
        rows += [
            (f'VM{s + 1} sent (its eth0 counter, since boot)', vm_tx[s]),
            (f'  vhu-fwd received on port {s}', p[s]['rx_packets']),
            (f'  of which flooded (broadcast, unknown MAC)', p[s]['flooded']),
            (f'  vhu-fwd sent on port {r}', p[r]['tx_packets']),
            (f'  vhu-fwd dropped at port {r}: VM{r + 1}\'s ring full', p[r]['drop_full']),
            (f'  vhu-fwd dropped at port {r}: VM{r + 1} away', p[r]['drop_down']),
            (f'VM{r + 1} received (its eth0 counter)', vm_rx[r]),
        ]
    w = max(len(x[0]) for x in rows)
    for label, v in rows:
        say(f'  {label:<{w}} {v:>12,}')
    say('  MAC table: ' + ', '.join(f'{m} on port {n}' for m, n in sorted(macs.items())))
    for k, what in (('ping12', 'VM1 -> VM2 ping'), ('ping21', 'VM2 -> VM1 ping')):
        if k in results:
            say(f'  {what}: ' + results[k].splitlines()[0])
    for k, what in (('tcp12', 'VM1 -> VM2'), ('tcp21', 'VM2 -> VM1')):
        if k in results:
            say(f'  TCP {what}: {TRANSFER >> 20} MiB, MD5 equal at both ends, {results[k]:.0f} Mbit/s'
                ' (guests under TCG: the emulated CPUs set the pace)')

    for vm in vms:
        vm.stop()
    rc = fwd.stop()
    problems = []
    if 'error' in results:
        problems.append(results['error'])
    if rc != 0:
        problems.append(f'vhu-fwd exited with {rc}')
    for n in (0, 1):
        r = 1 - n
        if macs.get(vhu_vm.mac(n + 1)) != n:
            problems.append(f"VM{n + 1}'s MAC is not learned on port {n}")
        lost = p[n]['drop_nombuf'] + p[n]['drop_runt']
        if lost:
            problems.append(f'vhu-fwd lost {lost} frames at port {n} (no mbufs, runts)')
        # Two ports: all that port n received went to port r, or was
        # filtered (its destination behind port n itself).
        if p[n]['rx_packets'] - p[n]['filtered'] != \
                p[r]['tx_packets'] + p[r]['drop_full'] + p[r]['drop_down']:
            problems.append(f'of {p[n]["rx_packets"]} frames received on port {n}, '
                            f'{p[n]["filtered"]} filtered, {p[r]["tx_packets"]} sent and '
                            f'{p[r]["drop_full"] + p[r]["drop_down"]} dropped at port {r}: '
                            'some are unaccounted for')
        if vm_tx[n] != p[n]['rx_packets']:
            problems.append(f'VM{n + 1} sent {vm_tx[n]} frames, vhu-fwd received {p[n]["rx_packets"]}')
        if p[n]['tx_packets'] != vm_rx[n]:
            problems.append(f'vhu-fwd sent {p[n]["tx_packets"]} frames to VM{n + 1}, '
                            f'which received {vm_rx[n]}')
    for k in ('ping12', 'ping21'):
        if k not in results or ' 0% packet loss' not in results[k]:
            problems.append(f'{k}: {results.get(k, "did not run")}')
    for k in ('tcp12', 'tcp21'):
        if k not in results:
            problems.append(f'TCP transfer {k[3]} -> {k[4]} did not complete')
    say()
    if problems:
        say('vhu-demo: FAIL — ' + '; '.join(problems))
        t.ok = True     # the logs were shown; nothing to keep
        return 1
    total = sum(vm_tx)
    full = p[0]['drop_full'] + p[1]['drop_full']
    why = (f'; {full:,} dropped because the receiving guest\'s ring was full (guests under'
           ' emulation take their turn on the CPUs; TCP sent those again)') if full else ''
    say(f'vhu-demo: PASS — both guests\' MACs learned on their ports; all {total:,} frames the'
        f' guests sent were received by vhu-fwd and every one was delivered to the other guest'
        f' or counted{why}; {TRANSFER >> 20} MiB each way by TCP with equal MD5s, pings'
        ' answered; none lost.')
    t.passed()
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu-bench --tcp: guest-to-guest TCP through net_vhu and through
net_vhost, the same set-up for both.

Stock dpdk-testpmd, io forwarding, two ports of the back-end under test
with HOST_TSO and the TX-flag convention (tso=1,legacy-ol-flags=1, the
same devargs for both drivers), so a guest's 64 KiB TSO segment crosses
whole; two QEMU guests (TCG when there is no KVM) on the ports, as the vm
suite runs them (test/harness). Per round and back-end: the pair boots,
1 MiB warms TCP up, then SIZE bytes of random data go each way by TCP
(MD5-checked) while testpmd records its forwarding lcore's busy cycles
(--record-core-cycles). The back-ends take turns, round by round, the
order alternating.

Reported per back-end: median Mbit/s of each direction, the back-end's
busy cycles per byte it received (cycles / RX bytes of both ports), the
guests' mean received frame size, and the ratios vhu/vhost. Under TCG the
guests, not the back-end, set the throughput: cycles/byte is the
back-end's own cost.

    vhu-bench-tcp.py [--rounds N] [--size MiB] [--plugin SO] [--out DIR]
"""
import argparse
import os
import re
import statistics
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'test', 'harness'))
from vhu_harness import Fail, Run, log  # noqa: E402
import vhu_vm  # noqa: E402

BACKENDS = ('net_vhu', 'net_vhost')


def port_rx_bytes(be, port):
    out = be.do(f'show port stats {port}', r'RX-bytes: *\d+')
    return int(re.search(r'RX-bytes: *(\d+)', out).group(1))


def one_round(driver, plugin, size, seq):
    """Boot the pair on driver's ports, move size bytes each way; returns
    a dict of what was measured."""
    with Run(f'bench-tcp-{driver}-{seq}') as t:
        t.need_vm()
        t.need('dpdk-testpmd')
        socks = [t.path('a.sock'), t.path('b.sock')]
        eal = ['-d', t.plugin(plugin)] if driver == 'net_vhu' else []
        eal += [a for n, s in enumerate(socks)
                for a in ('--vdev', f'{driver}{n},iface={s},tso=1,legacy-ol-flags=1')]
        be = t.testpmd('testpmd', '--forward-mode=io', '--record-core-cycles',
                       '--total-num-mbufs', '16384', eal=eal)
        be.do('start', r'io packet forwarding')
        vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1)}],
                      ips=[vhu_vm.ip(i + 2)])
               for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
        ga, gb = (vm.guest for vm in vms)
        vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), 1 << 20)
        be.do('stop', r'Done')
        rx0 = sum(port_rx_bytes(be, p) for p in (0, 1))
        be.do('start', r'io packet forwarding')
        mbps = (vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), size),
                vhu_vm.tcp_guest_to_guest(gb, ga, vhu_vm.ip(2, False), size))
        out = be.do('stop', r'CPU cycles/packet=')
        busy = re.findall(r'total cycles=(\d+)', out)
        if not busy:
            raise Fail(f'{driver}: testpmd reported no busy cycles')
        rx = sum(port_rx_bytes(be, p) for p in (0, 1)) - rx0
        frame = []
        for g in (ga, gb):
            b, n = g.sh('cat /sys/class/net/eth0/statistics/rx_bytes '
                        '/sys/class/net/eth0/statistics/rx_packets').split()
            frame.append(int(b) // max(1, int(n)))
        for vm in vms:
            vm.stop()
        be.quit()
        t.passed()
    return {'mbps_ab': mbps[0], 'mbps_ba': mbps[1], 'cpb': int(busy[-1]) / max(1, rx),
            'frame': statistics.mean(frame)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--size', type=int, default=32, help='MiB each way per round')
    ap.add_argument('--plugin', default=os.path.join(ROOT, 'build', 'drivers',
                                                     'librte_net_vhu.so'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'build', 'bench'))
    args = ap.parse_args()
    if args.rounds < 1 or not 1 <= args.size <= 48:
        ap.error('--rounds >= 1, --size 1..48 MiB (the guests hold it in RAM)')
    res = {d: [] for d in BACKENDS}
    try:
        for r in range(args.rounds):
            order = BACKENDS if r % 2 == 0 else BACKENDS[::-1]
            for d in order:
                m = one_round(d, args.plugin, args.size << 20, r)
                log(f'round {r + 1}/{args.rounds} {d}: {m["mbps_ab"]:.1f} / '
                    f'{m["mbps_ba"]:.1f} Mbit/s, {m["cpb"]:.2f} cycles/byte, '
                    f'mean frame {m["frame"]:.0f} B')
                res[d].append(m)
    except Fail as e:
        print(f'vhu-bench --tcp: {e}', file=sys.stderr)
        return 1

    def med(d, k):
        return statistics.median(m[k] for m in res[d])

    lines = [f'Guest-to-guest TCP, {args.rounds} rounds of {args.size} MiB each way '
             f'(testpmd io, tso=1,legacy-ol-flags=1; {time.strftime("%Y-%m-%d")})', '',
             '| back-end | Mbit/s a->b | Mbit/s b->a | back-end cycles/byte | mean frame received |',
             '| --- | --- | --- | --- | --- |']
    for d in BACKENDS:
        lines.append(f'| {d} | {med(d, "mbps_ab"):.1f} | {med(d, "mbps_ba"):.1f} | '
                     f'{med(d, "cpb"):.2f} ({min(m["cpb"] for m in res[d]):.2f}-'
                     f'{max(m["cpb"] for m in res[d]):.2f}) | {med(d, "frame"):.0f} B |')
    tput = (med('net_vhu', 'mbps_ab') + med('net_vhu', 'mbps_ba')) / \
        (med('net_vhost', 'mbps_ab') + med('net_vhost', 'mbps_ba'))
    lines += ['', f'vhu/vhost: throughput {tput:.2f}, cycles/byte '
              f'{med("net_vhu", "cpb") / med("net_vhost", "cpb"):.2f}']
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, 'tcp.md')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    print(f'\n(written to {path})')
    return 0


if __name__ == '__main__':
    sys.exit(main())

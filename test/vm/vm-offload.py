#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 7: guests with checksum and TSO offloads negotiated.
Two QEMU guests on stock testpmd (io forwarding) with two net_vhu ports
that offer HOST_TSO4/6 (devarg tso=1), CSUM, GUEST_CSUM and GUEST_TSO4/6
(always, as net_vhost): each guest's driver must have negotiated all of
them (its sysfs feature bits), so its TCP stack hands the device 64 KiB
segments with partial checksums, which reach the other guest whole, as
one GSO packet. A bulk TCP transfer each way must arrive intact (MD5)
with no packet dropped for its offload (net_vhu's tx drop_offload), and
its throughput is reported.

    vm-offload.py PLUGIN
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq, log  # noqa: E402
import vhu_vm  # noqa: E402

FEATURES = ((0, 'CSUM'), (1, 'GUEST_CSUM'), (7, 'GUEST_TSO4'), (8, 'GUEST_TSO6'),
            (11, 'HOST_TSO4'), (12, 'HOST_TSO6'))
SIZE = 8 << 20

with Run('vm-offload') as t:
    t.need_vm()
    t.need('dpdk-testpmd')
    socks = [t.path('a.sock'), t.path('b.sock')]
    be = t.testpmd('testpmd', '--forward-mode=io', '--total-num-mbufs', '16384',
                   eal=['-d', t.plugin(sys.argv[1]),
                        '--vdev', f'net_vhu0,iface={socks[0]},tso=1',
                        '--vdev', f'net_vhu1,iface={socks[1]},tso=1'])
    be.do('start', r'io packet forwarding')
    vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1)}], ips=[vhu_vm.ip(i + 2)])
           for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
    ga, gb = (vm.guest for vm in vms)
    for g in (ga, gb):
        for bit, name in FEATURES:
            check(vhu_vm.guest_has_feature(g, 'eth0', bit), f'{g.vm.name}: {name} negotiated')
        log(f'ok: {g.vm.name} negotiated ' + ', '.join(n for _, n in FEATURES))
    mbps = [vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), SIZE),
            vhu_vm.tcp_guest_to_guest(gb, ga, vhu_vm.ip(2, False), SIZE)]
    drops, avg = [], []
    for p in (0, 1):
        out = be.do(f'show port xstats {p}', r'vhost_user_quiesce_timeouts: *\d+')
        drops.append(sum(int(v) for v in re.findall(r'tx_q\d+_drop_offload: *(\d+)', out)))
        rx = dict(re.findall(r'(rx_good_packets|rx_good_bytes): *(\d+)', out))
        avg.append(int(rx['rx_good_bytes']) // max(1, int(rx['rx_good_packets'])))
    # Whole GSO packets, not MTU-sized frames (at most 1514 bytes).
    log(f'mean frame size received from each guest: {avg} bytes')
    check(min(avg) > 1514, f'guests sent GSO packets larger than a frame: mean sizes {avg}')
    log(f'guest-to-guest TCP with TSO both ways: {mbps[0]:.1f} and {mbps[1]:.1f} Mbit/s')
    check_eq(drops, [0, 0], 'net_vhu tx drop_offload per port (TSO packets not delivered whole)')
    for vm in vms:
        vm.stop()
    be.quit()
    t.passed()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 7: guests with checksum and TSO offloads negotiated.
Two QEMU guests on stock testpmd (io forwarding) with two net_vhu ports
that offer HOST_TSO4/6 (devarg tso=1), CSUM and GUEST_CSUM; each guest's
TCP stack hands the device 64 KiB segments with partial checksums, which
net_vhu delivers as TSO mbufs.

    vm-offload.py guest-tso|gso PLUGIN
      guest-tso: the guests negotiate GUEST_TSO4/6 too (net_vhu offers
                 them, as net_vhost): a TSO mbuf reaches the other guest
                 whole, as one GSO packet (mean frame size > 1514)
      gso:       the guests refuse GUEST_TSO4/6 and GUEST_CSUM (QEMU
                 guest_tso4=off, guest_tso6=off, guest_csum=off) and
                 testpmd enables TX TCP_TSO on the ports: net_vhu cuts
                 each TSO mbuf with rte_gso into MSS-sized frames
                 (xstats tx_qN_gso_segments; the guests' mean received
                 frame size <= 1514) whose checksums vhu completes, and
                 the guests' TCP verifies every one (InCsumErrors 0)

Both: each guest's sysfs feature bits say what it negotiated; a bulk TCP
transfer each way arrives intact (MD5) with no packet dropped for its
offload (tx_qN_drop_offload 0); throughput is reported.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq, log  # noqa: E402
import vhu_vm  # noqa: E402

BASE = ((0, 'CSUM'), (11, 'HOST_TSO4'), (12, 'HOST_TSO6'))
GUEST = ((1, 'GUEST_CSUM'), (7, 'GUEST_TSO4'), (8, 'GUEST_TSO6'))
mode, plugin = sys.argv[1:3]
gso = mode == 'gso'
FEATURES = BASE if gso else BASE + GUEST
SIZE = 8 << 20

with Run(f'vm-offload-{mode}') as t:
    t.need_vm()
    t.need('dpdk-testpmd')
    socks = [t.path('a.sock'), t.path('b.sock')]
    # gso: the application enables TX TSO (RTE_ETH_TX_OFFLOAD_TCP_TSO).
    be = t.testpmd('testpmd', '--forward-mode=io', '--total-num-mbufs', '16384',
                   *(['--tx-offloads=0x20'] if gso else []),
                   eal=['-d', t.plugin(plugin),
                        '--vdev', f'net_vhu0,iface={socks[0]},tso=1',
                        '--vdev', f'net_vhu1,iface={socks[1]},tso=1'])
    be.do('start', r'io packet forwarding')
    props = {'guest_tso4': 'off', 'guest_tso6': 'off', 'guest_csum': 'off'} if gso else {}
    vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1), 'features': props}],
                  ips=[vhu_vm.ip(i + 2)])
           for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
    ga, gb = (vm.guest for vm in vms)
    for g in (ga, gb):
        for bit, name in FEATURES:
            check(vhu_vm.guest_has_feature(g, 'eth0', bit), f'{g.vm.name}: {name} negotiated')
        if gso:
            for bit, name in GUEST:
                check(not vhu_vm.guest_has_feature(g, 'eth0', bit),
                      f'{g.vm.name}: {name} refused (guest_* = off)')
        log(f'ok: {g.vm.name} negotiated ' + ', '.join(n for _, n in FEATURES) +
            (', not GUEST_CSUM, GUEST_TSO4/6' if gso else ''))
    mbps = [vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), SIZE),
            vhu_vm.tcp_guest_to_guest(gb, ga, vhu_vm.ip(2, False), SIZE)]
    drops, avg, segs, gdrops = [], [], [], []
    for p in (0, 1):
        out = be.do(f'show port xstats {p}', r'tx_q0_gso_drops: *\d+')
        drops.append(sum(int(v) for v in re.findall(r'tx_q\d+_drop_offload: *(\d+)', out)))
        segs.append(sum(int(v) for v in re.findall(r'tx_q\d+_gso_segments: *(\d+)', out)))
        gdrops.append(sum(int(v) for v in re.findall(r'tx_q\d+_gso_drops: *(\d+)', out)))
        rx = dict(re.findall(r'(rx_good_packets|rx_good_bytes): *(\d+)', out))
        avg.append(int(rx['rx_good_bytes']) // max(1, int(rx['rx_good_packets'])))
    # What the guests sent: whole GSO packets, larger than any frame.
    log(f'mean size of what each guest sent: {avg} bytes')
    check(min(avg) > 1514, f'guests sent GSO packets larger than a frame: mean sizes {avg}')
    rxavg = []
    for g in (ga, gb):
        b, n = g.sh('cat /sys/class/net/eth0/statistics/rx_bytes '
                    '/sys/class/net/eth0/statistics/rx_packets').split()
        rxavg.append(int(b) // max(1, int(n)))
    log(f'mean size of what each guest received: {rxavg} bytes; net_vhu GSO segments '
        f'per port {segs}, segments dropped (a guest ring full) {gdrops}')
    if gso:
        check(min(segs) > 0, f'net_vhu segmented TSO packets on both ports: {segs}')
        check(max(rxavg) <= 1514, f'the guests received frames, not GSO packets: {rxavg}')
        # Without GUEST_CSUM the guests' TCP checks every checksum itself.
        for g in (ga, gb):
            bad = g.sh("awk '/^Tcp:/ { if (h) print $NF; h = 1 }' /proc/net/snmp").strip()
            check_eq(bad, '0', f'{g.vm.name}: TCP InCsumErrors')
    else:
        check_eq(segs, [0, 0], 'net_vhu GSO segments (none: the guests take TSO whole)')
        check(min(rxavg) > 1514, f'the guests received whole GSO packets: {rxavg}')
    log(f'guest-to-guest TCP with TSO both ways: {mbps[0]:.1f} and {mbps[1]:.1f} Mbit/s')
    check_eq(drops, [0, 0], 'net_vhu tx drop_offload per port (TSO packets not delivered whole)')
    for vm in vms:
        vm.stop()
    be.quit()
    t.passed()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 6: multiqueue guests. Two QEMU guests with 4 vCPUs
and virtio-net mq=on with 4 queue pairs each, switched by vhu-fwd
--mode l2 --queues 4 with four workers (all on core 1), worker q polling
queue q of both ports and sending on TX queue q.

Linux's virtio-net enables one queue pair per vCPU and sends from CPU i
on TX queue i, so each guest pings the other from each of its CPUs
(taskset): every guest TX queue carries traffic, arrives on the matching
queue of vhu-fwd and leaves on the matching RX queue of the other guest.
The test checks, from net_vhu's per-queue xstats, that all 4 RX and all 4
TX queues of both ports carried frames; that both guests negotiated
VIRTIO_NET_F_MQ with 4 combined channels; and a 4 MiB TCP transfer each
way, MD5-checked.

    vm-mq.py VHU_FWD
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq, log  # noqa: E402
import vhu_vm  # noqa: E402

Q = 4
with Run('vm-mq') as t:
    t.need_vm()
    socks = [t.path('a.sock'), t.path('b.sock')]
    lmap = ','.join(f'{p}:{q}@{q + 1}' for q in range(Q) for p in (0, 1))
    fwd = t.vhu_fwd('fwd', sys.argv[1], '--mode', 'l2', '--queues', str(Q),
                    '--lcore-map', lmap, '--vhost', socks[0], '--vhost', socks[1],
                    lcores='0@0,' + ','.join(f'{q + 1}@1' for q in range(Q)))
    vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1), 'queues': Q}],
                  ips=[vhu_vm.ip(i + 2)], smp=Q, mem=256)
           for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
    ga, gb = (vm.guest for vm in vms)
    addr = {ga: vhu_vm.ip(2, False), gb: vhu_vm.ip(3, False)}
    for g in (ga, gb):
        check(vhu_vm.guest_has_feature(g, 'eth0', vhu_vm.VIRTIO_NET_F_MQ),
              f'{g.vm.name}: VIRTIO_NET_F_MQ negotiated')
        check_eq(g.sh('ls -d /sys/class/net/eth0/queues/tx-* | wc -l').strip(), str(Q),
                 f'{g.vm.name}: TX queues')
    for g, peer in ((ga, gb), (gb, ga)):
        g.sh(' '.join(f'taskset -c {c} ping -c 10 -i 0.05 -W 5 -q {addr[peer]} >/tmp/ping{c} 2>&1 &'
                      for c in range(Q)) + ' wait', timeout=120)
        out = g.sh('cat /tmp/ping[0-9] | grep transmitted')
        check_eq(out.count('10 packets received'), Q,
                 f'{g.vm.name}: pings answered, one run per CPU ({out!r})')
    for p in (0, 1):
        xs = fwd.xstats(p)
        rx = [xs.get(f'rx_q{q}_packets', 0) for q in range(Q)]
        tx = [xs.get(f'tx_q{q}_packets', 0) for q in range(Q)]
        log(f'port {p}: RX packets per queue {rx}, TX {tx}')
        check(min(rx) > 0 and min(tx) > 0, f'port {p}: every queue pair carried frames both ways')
    vhu_vm.tcp_guest_to_guest(ga, gb, addr[gb], 4 << 20)
    vhu_vm.tcp_guest_to_guest(gb, ga, addr[ga], 4 << 20)
    for vm in vms:
        vm.stop()
    fwd.finish()
    t.passed()

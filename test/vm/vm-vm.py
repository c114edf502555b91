#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenarios 2 and 8: two QEMU guests switched by a vhu
back-end, on split or packed virtqueues (QEMU packed=on).

    vm-vm.py BACKEND RING VHU_FWD PLUGIN
      BACKEND: fwd      app/vhu-fwd --mode l2
               testpmd  stock dpdk-testpmd, io forwarding between two
                        net_vhu ports (the plugin loaded with -d)
      RING:    split | packed

Each guest pings the other; 4 MiB of random data go over TCP each way,
MD5-checked at the receiver; each guest's driver must have negotiated the
ring format asked for (its features in sysfs); the back-end's counters
must show the frames and no drops.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq, log  # noqa: E402
import vhu_vm  # noqa: E402

backend, ring, fwd_bin, plugin = sys.argv[1:5]
with Run(f'vm-vm-{backend}-{ring}') as t:
    t.need_vm()
    socks = [t.path('a.sock'), t.path('b.sock')]
    if backend == 'fwd':
        be = t.vhu_fwd('fwd', fwd_bin, '--mode', 'l2', '--vhost', socks[0], '--vhost', socks[1])
    else:
        t.need('dpdk-testpmd')
        be = t.testpmd('testpmd', '--forward-mode=io', '--total-num-mbufs', '16384',
                       eal=['-d', t.plugin(plugin),
                            '--vdev', f'net_vhu0,iface={socks[0]}',
                            '--vdev', f'net_vhu1,iface={socks[1]}'])
        be.do('start', r'io packet forwarding')
    packed = ring == 'packed'
    vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1), 'packed': packed}],
                  ips=[vhu_vm.ip(i + 2)])
           for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
    ga, gb = (vm.guest for vm in vms)
    for g in (ga, gb):
        check_eq(vhu_vm.guest_has_feature(g, 'eth0', vhu_vm.VIRTIO_F_RING_PACKED), packed,
                 f'{g.vm.name}: VIRTIO_F_RING_PACKED negotiated')
    ga.sh(f'ping -c 5 -i 0.2 -W 5 {vhu_vm.ip(3, False)}', timeout=60)
    gb.sh(f'ping -c 5 -i 0.2 -W 5 {vhu_vm.ip(2, False)}', timeout=60)
    vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), 4 << 20)
    vhu_vm.tcp_guest_to_guest(gb, ga, vhu_vm.ip(2, False), 4 << 20)
    if backend == 'fwd':
        macs = be.macs()
        check_eq((macs.get(vhu_vm.mac(1)), macs.get(vhu_vm.mac(2))), (0, 1), 'l2 table: a on 0, b on 1')
        st = be.tel('/vhu/stats')
        # A guest's full ring (drop_full) is legitimate: the guests run
        # emulated and TCP sends again. Nothing else may be lost.
        log(f'vhu-fwd drop_full (a guest ring full): {[p["drop_full"] for p in st.values()]}')
        lost = sum(p[k] for p in st.values() for k in ('drop_down', 'drop_nombuf', 'drop_runt'))
        check_eq(lost, 0, 'frames lost by vhu-fwd (link down, no mbufs, runts)')
        rx = [be.port(p)['rx_packets'] for p in (0, 1)]
        check(min(rx) > 2000, f'vhu-fwd received {rx} frames on its ports')
    else:
        out = be.do('stop', r'Accumulated forward statistics(.|\n)*Done')
        rx = [int(v) for v in re.findall(r'RX-packets: +(\d+)', out)][:2]
        tx = [int(v) for v in re.findall(r'TX-packets: +(\d+)', out)][:2]
        dropped = [int(v) for v in re.findall(r'TX-dropped: +(\d+)', out)][:2]
        log(f'testpmd: RX-packets {rx}, TX-packets {tx}, TX-dropped {dropped} '
            '(a guest ring full: the guests run emulated, TCP sends again)')
        check(min(rx) > 2000, f'testpmd received {rx} frames on its ports')
        # io forwarding: all that one port received went out of the other
        # or was counted as dropped there.
        check_eq((tx[1] + dropped[1], tx[0] + dropped[0]), (rx[0], rx[1]),
                 'testpmd: RX of each port = TX + TX-dropped of the other')
    for vm in vms:
        vm.stop()
    if backend == 'fwd':
        be.finish()
    else:
        be.quit()
    t.passed()

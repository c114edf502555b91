#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 1: the host kernel and a QEMU guest through vhu-fwd
--mode l2, the host on a net_tap port. The host pings the guest; 4 MiB of
random data go over TCP each way, checked by MD5 at the other end; the
l2 table learns the guest's MAC on its vhost-user port and the tap's on
port 0; nothing is dropped.

    vm-host-guest.py VHU_FWD
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq  # noqa: E402
import vhu_vm  # noqa: E402

with Run('vm-host-guest') as t:
    net, fwd, vm = vhu_vm.host_and_guest(t, sys.argv[1])
    g = vm.guest
    net.ping(vhu_vm.ip(2, prefix=False), count=5)
    macs = fwd.macs()
    check_eq(macs.get(vhu_vm.mac(1)), 1, "guest's MAC in the l2 table")
    check_eq(macs.get(net.mac()), 0, "tap's MAC in the l2 table")
    r = vhu_vm.tcp_guest_to_host(net, g, 4 << 20)
    r2 = vhu_vm.tcp_host_to_guest(net, g, 4 << 20, vhu_vm.ip(2, prefix=False))
    g.sh(f'ping -c 3 -W 2 {net.addr}')
    st = fwd.tel('/vhu/stats')
    # A full guest ring (drop_full) is legitimate under emulation; TCP
    # sends again. Nothing else may be lost.
    lost = sum(p[k] for p in st.values() for k in ('drop_down', 'drop_nombuf', 'drop_runt'))
    check_eq(lost, 0, 'frames lost by vhu-fwd (link down, no mbufs, runts)')
    vm.stop()
    fwd.link_wait(1, 'down')
    fwd.finish()
    t.passed()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 4: QEMU goes away and comes back. A guest on
vhu-fwd --mode l2 with the host on a net_tap port; the host pings the
guest after each step.

    vm-restart.py server|client VHU_FWD
      server: vhu-fwd listens (--vhost), QEMU connects (reconnect=1);
              also vhu-fwd itself restarts and QEMU reconnects to it with
              the guest still running
      client: QEMU listens (server=on), vhu-fwd connects (--vhost-client)
              and reconnects when QEMU is back

Steps: QEMU stopped by SIGTERM, started again; QEMU killed by SIGKILL,
started again. Each time vhu-fwd's port must go down, come up again, and
carry traffic; vhu-fwd must never leave an fd or mapping of the old
session behind (checked through /proc at the end against the first
session) and must finish cleanly.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Fail, Run, check, check_eq, log, wait_for  # noqa: E402
import vhu_vm  # noqa: E402

mode, fwd_bin = sys.argv[1:3]
GUEST = vhu_vm.ip(2, prefix=False)


def fds(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def memfd_maps(pid):
    """Mappings of the guest's memory in vhu-fwd: QEMU names its memfd
    "memory-backend-memfd" (DPDK's own in-memory hugepage files are memfds
    too, named seg_N)."""
    with open(f'/proc/{pid}/maps') as f:
        return sum(1 for ln in f if '/memfd:memory-backend-memfd' in ln)


with Run(f'vm-restart-{mode}') as t:
    t.need_vm()
    t.need('ping', 'ip')
    net = vhu_vm.HostNet(t)
    sock = t.path('vm.sock')
    vhost = ['--vhost', sock] if mode == 'server' else ['--vhost-client', sock]
    nic = {'sock': sock, 'mac': vhu_vm.mac(1), 'server': mode == 'client'}
    eal = net.eal()

    def start_fwd(name):
        fwd = t.vhu_fwd(name, fwd_bin, '--mode', 'l2', *vhost, eal=eal)
        net.up()
        return fwd

    def start_vm(name):
        # A QEMU killed with SIGKILL leaves its listening socket's file:
        # remove it, so that waiting for the file waits for this QEMU.
        if mode == 'client' and os.path.exists(sock):
            os.unlink(sock)
        # A listening QEMU starts its guest only once vhu-fwd connected.
        vm = t.qemu(name, nics=[nic], ips=[vhu_vm.ip(2)], ready=mode == 'server')
        if mode == 'client':
            if not wait_for(lambda: os.path.exists(sock), 30):
                raise Fail(f'{name}: no socket {sock}')
        return vm

    if mode == 'client':
        vm = start_vm('vm1')
        fwd = start_fwd('fwd')
        vm.ready()
    else:
        fwd = start_fwd('fwd')
        vm = start_vm('vm1')
    fwd.link_wait(1, 'up')
    net.ping(GUEST, count=3)
    base_fds, base_maps = fds(fwd.pid), memfd_maps(fwd.pid)
    log(f'vhu-fwd with one session: {base_fds} fds, {base_maps} guest memory mappings')
    check(base_maps > 0, 'vhu-fwd maps the guest memory')

    n = 1
    for sig in (signal.SIGTERM, signal.SIGKILL):
        vm.stop(sig)
        fwd.link_wait(1, 'down')
        # The old session's memory is unmapped once its rings are released.
        wait_for(lambda: memfd_maps(fwd.pid) == 0, 10)
        check_eq(memfd_maps(fwd.pid), 0, f'guest memory mappings after QEMU {sig.name}')
        n += 1
        vm = start_vm(f'vm{n}')
        if mode == 'client':
            vm.ready()
        fwd.link_wait(1, 'up', timeout=60)
        net.ping(GUEST, count=3)
        vm.guest.sh(f'ping -c 3 -W 5 {net.addr}')
        check_eq((fds(fwd.pid), memfd_maps(fwd.pid)), (base_fds, base_maps),
                 f'vhu-fwd fds and guest mappings after QEMU {sig.name} and restart')

    if mode == 'server':
        # The back-end restarts under a running guest: QEMU (reconnect=1)
        # connects to the new vhu-fwd and the guest's rings resume.
        fwd.finish()
        fwd = start_fwd('fwd2')
        fwd.link_wait(1, 'up', timeout=60)
        net.ping(GUEST, count=3, deadline=60)
        vm.guest.sh(f'ping -c 3 -W 5 {net.addr}')
        log('ok: traffic after vhu-fwd restarted under the running guest')

    vm.stop()
    fwd.link_wait(1, 'down')
    fwd.finish()
    t.passed()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 3: what a guest's driver does to a running vhu port.
A QEMU guest on vhu-fwd --mode l2, the host on a net_tap port. After each
of these, the host and the guest ping each other again:
  - the guest unbinds its virtio-net PCI function from virtio-pci and
    binds it again (the device is reset: vhu-fwd's port goes down, then
    up with new rings);
  - rmmod virtio_net, insmod it again;
  - ip link set eth0 down, up (the rings stay: no reset).
vhu-fwd must log each reset and finish cleanly, with nothing dropped but
what the guest's interface refused while it was down.

    vm-driver.py VHU_FWD
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, check, check_eq, log  # noqa: E402
import vhu_vm  # noqa: E402

GUEST = vhu_vm.ip(2, prefix=False)

with Run('vm-driver') as t:
    net, fwd, vm = vhu_vm.host_and_guest(t, sys.argv[1])
    g = vm.guest

    def traffic(what):
        net.ping(GUEST, count=3)
        g.sh(f'ping -c 3 -W 5 {net.addr}')
        log(f'ok: traffic both ways after {what}')

    def ifup():
        g.sh('n=0; while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; '
             f'ip addr add {vhu_vm.ip(2)} dev eth0 && ip link set eth0 up')

    traffic('boot')
    pci = g.sh('basename $(readlink -f /sys/class/net/eth0/device/..)')
    log(f'guest NIC is PCI function {pci}')
    resets = fwd.queue_events(1).count(('tx0', 'off'))

    mark = fwd.mark()
    g.sh(f'echo {pci} > /sys/bus/pci/drivers/virtio-pci/unbind')
    fwd.link_wait(1, 'down')
    fwd.wait_queues(1, 'off', after=mark)
    g.sh(f'echo {pci} > /sys/bus/pci/drivers/virtio-pci/bind')
    ifup()
    fwd.link_wait(1, 'up')
    traffic('unbind/bind')

    mark = fwd.mark()
    # The module's file as the image has it (.ko, or .ko.xz on newer kernels).
    g.sh('ip link set eth0 down && rmmod virtio_net && '
         'insmod /lib/modules/$(grep "^virtio_net\\." /lib/modules/order)')
    fwd.wait_queues(1, 'off', after=mark)
    ifup()
    fwd.link_wait(1, 'up')
    traffic('rmmod/insmod')

    g.sh('ip link set eth0 down')
    g.sh('ip link set eth0 up')
    traffic('link down/up')
    check_eq(fwd.queue_events(1).count(('tx0', 'off')), resets + 2,
             'ring resets seen by vhu-fwd (unbind and rmmod; none for link down/up)')

    vm.stop()
    fwd.link_wait(1, 'down')
    fwd.finish()
    t.passed()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite: NUMA placement on a host with two nodes. This machine has
one, so the host here is a QEMU guest with two NUMA nodes (one vCPU and
its memory each) that runs this build's vhu-fwd and stock dpdk-testpmd
from the host's root (shared read-only over 9p). Nothing stands in for
the kernel: lib/vhu asks get_mempolicy(2) where the front-end's rings
are and moves the device with move_pages(2), net_vhu reports the node,
and vhu-fwd moves the port's RX queues to a mbuf pool on that node.

  1. vhu-fwd starts on node 0 (its main lcore there): port 0 on node 0.
  2. A testpmd virtio-user front-end with its memory on node 1 connects
     and sends (txonly): lib/vhu logs the device on node 1, the port
     reports node 1, vhu-fwd sets up a pool on node 1 (DPDK's own
     telemetry says socket 1) and moves the RX queues to it; packets keep
     arriving.
  3. That front-end quits, another with its memory on node 0 connects:
     the port and its RX queues go back to node 0.
  4. vhu-fwd quits cleanly (and, in build-san, without a sanitizer
     report).
  5. A vhu-fwd without memory on node 1 (--socket-limit) says it cannot
     make a pool there; the port moves, its RX queues stay on node 0's
     mbufs, and packets keep arriving.

    vm-numa.py VHU_FWD
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Fail, Run, check, check_eq, log  # noqa: E402

FWD = os.path.realpath(sys.argv[1])
PATH = 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin'
SAN = 'ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 ' \
      'UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1'

with Run('vm-numa') as t:
    t.need_vm()
    t.need('dpdk-testpmd', 'dpdk-telemetry.py')
    # The guest has its own /tmp and /run (tmpfs): a build there is not
    # what it sees of the host's root.
    if FWD.startswith(('/tmp/', '/run/')):
        t.skip(f'{FWD} is under /tmp or /run, which the guest mounts its own')
    # Per node: 192 MiB of hugepages for the DPDK processes, the rest for
    # the kernel and the processes' own memory.
    vm = t.qemu('numa', nics=[], ips=[], mem=512, smp=2, nodes=2, hostroot=True,
                hugepages=96, boot_timeout=180)
    g = vm.guest
    if 'vhu-guest: no host root' in vm.text():
        t.skip("the guest cannot mount the host's root over 9p (no 9p modules?)")
    check_eq(g.sh('cat /sys/devices/system/node/online'), '0-1', "the guest's NUMA nodes")
    g.sh(f'test -x {FWD}')

    def start(name, cmd):
        """Start cmd in the guest's background; its output in /tmp/NAME.log."""
        pid = g.sh(f'{PATH}; {cmd} >/tmp/{name}.log 2>&1 & echo $!')
        log(f'guest: {name} is pid {pid}')
        return pid

    def wait_log(name, text, timeout=120):
        """Wait until /tmp/NAME.log has a line with text; return that line."""
        end = time.monotonic() + timeout
        while True:
            rc, out = g.sh(f'grep -F -m1 -e "{text}" /tmp/{name}.log', check=False)
            if rc == 0:
                return out
            if time.monotonic() > end:
                raise Fail(f'{name}: no "{text}" in {timeout} s:\n' +
                           g.sh(f'tail -n 30 /tmp/{name}.log'))
            time.sleep(1)

    def tel(cmd):
        """One telemetry command to vhu-fwd, from inside the guest (the
        reply's line: the console may carry a kernel message too)."""
        out = g.sh(f'{PATH}; echo "{cmd}" | dpdk-telemetry.py -f fwd | grep "^{{"')
        return json.loads(out.splitlines()[-1])[cmd.split(',')[0]]

    def stop(name, pid, timeout=60):
        """SIGINT, then its exit status (the guest's shell is its parent)."""
        rc = g.sh(f'kill -INT {pid}; n=0; while kill -0 {pid} 2>/dev/null && [ $n -lt {timeout} ]; '
                  f'do sleep 1; n=$((n+1)); done; kill -0 {pid} 2>/dev/null && kill -KILL {pid}; '
                  f'wait {pid}; echo $?', timeout=timeout + 30)
        check_eq(rc, '0', f"{name}'s exit status after SIGINT")

    def no_sanitizer_report(name):
        """NAME's output, checked for sanitizer reports."""
        text = g.sh(f'cat /tmp/{name}.log')
        for bad in ('AddressSanitizer', 'runtime error', 'LeakSanitizer'):
            check(bad not in text, f'no "{bad}" in {name}\'s output')
        return text

    def front_end(name, cpu, socket_mem):
        """A testpmd virtio-user front-end on CPU cpu, its memory where
        socket_mem puts it, sending 64 B frames to vhu-fwd's port."""
        return start(name, f'dpdk-testpmd --lcores 0@{cpu},1@{cpu} --no-pci --file-prefix {name} '
                     f'--socket-mem {socket_mem} --single-file-segments '
                     '--vdev net_virtio_user0,path=/tmp/port0.sock '
                     '-- --forward-mode=txonly --total-num-mbufs 2048 -a --stats-period 2')

    def moved(node, was, after_rx):
        """The port is on node, and so are its RX queues' mbufs, which
        keep arriving."""
        wait_log('fwd', f"RX queues moved to NUMA node {node}'s mbufs (were node {was}'s)")
        p = tel('/vhu/port,0')
        check_eq((p['numa_node'], p['rx_mbufs_node']), (node, node),
                 "the port's node and its RX mbufs' node")
        rx = p['rx_packets']
        end = time.monotonic() + 60
        while rx <= after_rx and time.monotonic() < end:
            time.sleep(1)
            rx = tel('/vhu/port,0')['rx_packets']
        check(rx > after_rx, f'packets received on node {node} ({after_rx} -> {rx})')
        return rx

    # 1. vhu-fwd: main lcore on CPU 0 (node 0), its worker on CPU 1.
    fwd = start('fwd', f'{SAN} {FWD} --lcores 0@0,1@1 --main-lcore 0 --no-pci --file-prefix fwd '
                '-- --mode rxonly --vhost /tmp/port0.sock --stats-period 0')
    wait_log('fwd', 'forwarding.')
    p = tel('/vhu/port,0')
    check_eq((p['numa_node'], p['rx_mbufs_node']), (0, 0), 'the port before a front-end')

    # 2. Guest memory on node 1.
    a = front_end('fe1', 1, '0,64')
    wait_log('fwd', "device state on NUMA node 1 (its guest memory's)")
    wait_log('fwd', 'pool of')
    rx = moved(1, 0, 0)
    pool = tel('/mempool/info,vhu_fwd_mbufs_n1')
    check_eq(pool['socket_id'], 1, "DPDK's socket of the pool the RX queues moved to")
    stop('fe1', a)
    rx = tel('/vhu/port,0')['rx_packets']

    # 3. Guest memory on node 0: back again.
    b = front_end('fe0', 0, '64,0')
    rx = moved(0, 1, rx)
    stop('fe0', b)

    # 4. A clean exit.
    stop('fwd', fwd)
    log_text = no_sanitizer_report('fwd')
    check('RX queues for NUMA node' not in log_text, 'no RX queue set-up failed')

    # 5. No memory for vhu-fwd on node 1 (EAL --socket-limit): the port
    # moves, its RX queues stay with node 0's mbufs, and say so.
    fwd = start('fwd2', f'{SAN} {FWD} --lcores 0@0,1@1 --main-lcore 0 --no-pci '
                '--file-prefix fwd --socket-limit 0,1 '
                '-- --mode rxonly --vhost /tmp/port0.sock --stats-period 0')
    wait_log('fwd2', 'forwarding.')
    a = front_end('fe1b', 1, '0,64')
    wait_log('fwd2', 'no pool of')
    wait_log('fwd2', "now on NUMA node 1; its RX queues stay with node 0's mbufs")
    p = tel('/vhu/port,0')
    check_eq((p['numa_node'], p['rx_mbufs_node']), (1, 0),
             "the port's node and its RX mbufs' node without memory on node 1")
    rx, end = p['rx_packets'], time.monotonic() + 60
    while rx == 0 and time.monotonic() < end:
        time.sleep(1)
        rx = tel('/vhu/port,0')['rx_packets']
    check(rx > 0, f'packets received with mbufs from the other node ({rx})')
    stop('fe1b', a)
    stop('fwd2', fwd)
    no_sanitizer_report('fwd2')
    vm.stop()
    t.passed()

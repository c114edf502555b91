#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite, scenario 5: live migration of a guest from one vhost-user
port of vhu-fwd --mode l2 to another, with traffic running both ways.

The host (net_tap port 0) pings the guest every 10 ms and streams 24 MiB
of random data to it by TCP at about 1.2 MiB/s; the guest pings the host.
Meanwhile QEMU migrates the guest (TCP, on this host) from a QEMU on
src.sock (port 1) to one on dst.sock (port 2). The test checks that:
  - the migration completes (QMP query-migrate) and the guest runs on;
  - the l2 table moves the guest's MAC to port 2;
  - the stream arrives intact: the MD5 the guest computes equals the
    host's;
  - ping loss is bounded (and reported, with the migration's downtime).
Then, with all traffic stopped, the guest migrates back to a new QEMU on
src.sock: the l2 table must move its MAC back to port 1 from what the
migration itself announces (the guest's gratuitous ARPs with
GUEST_ANNOUNCE, or QEMU's RARP through VHOST_USER_SEND_RARP).

    vm-migrate.py VHU_FWD
"""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Fail, Run, check, check_eq, log, wait_for  # noqa: E402
import vhu_vm  # noqa: E402

GUEST = vhu_vm.ip(2, prefix=False)
MAC = vhu_vm.mac(1)
STREAM = 24 << 20
CHUNK = 32 << 10
PACE = 0.025          # s between chunks: about 1.25 MiB/s
MAX_LOST_S = 5.0      # ping loss bound, in seconds of pings (10 ms each)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


with Run('vm-migrate') as t:
    t.need_vm()
    t.need('ping', 'ip')
    net = vhu_vm.HostNet(t)
    src_sock, dst_sock = t.path('src.sock'), t.path('dst.sock')
    fwd = t.vhu_fwd('fwd', sys.argv[1], '--mode', 'l2', '--vhost', src_sock,
                    '--vhost', dst_sock, eal=net.eal())
    net.up()
    src = t.qemu('src', nics=[{'sock': src_sock, 'mac': MAC}], ips=[vhu_vm.ip(2)])
    port = free_port()
    dst = t.qemu('dst', nics=[{'sock': dst_sock, 'mac': MAC}], ips=[vhu_vm.ip(2)],
                 incoming=f'tcp:127.0.0.1:{port}')
    fwd.link_wait(1, 'up')
    net.ping(GUEST, count=3)
    check_eq(fwd.macs().get(MAC), 1, "guest's MAC before migration (port)")

    # Traffic: host pings, guest pings, host streams to the guest.
    g = src.guest
    g.sh(f'ping -i 0.1 {net.addr} >/tmp/ping.out 2>&1 & echo pinging')
    hping = t.start('host-ping', 'ping', '-i', '0.01', '-I', net.ifname, GUEST)
    vhu_vm.guest_listen(g, 5001)
    data = os.urandom(STREAM)
    sent = {}

    def stream():
        try:
            c = socket.create_connection((GUEST, 5001), timeout=10)
            c.settimeout(60)
            t0 = time.monotonic()
            for off in range(0, STREAM, CHUNK):
                c.sendall(data[off:off + CHUNK])
                time.sleep(PACE)
            c.shutdown(socket.SHUT_WR)
            while c.recv(4096):
                pass
            c.close()
            sent['secs'] = time.monotonic() - t0
        except OSError as e:
            sent['err'] = str(e)
    th = threading.Thread(target=stream, daemon=True)
    th.start()
    time.sleep(4)

    # Migrate while it runs.
    src.qmp.execute('migrate-set-parameters', **{'max-bandwidth': 1 << 30, 'downtime-limit': 300})
    t0 = time.monotonic()
    src.qmp.execute('migrate', uri=f'tcp:127.0.0.1:{port}')
    info = {}

    def done():
        info.update(src.qmp.execute('query-migrate'))
        if info.get('status') == 'failed':
            raise Fail(f'migration failed: {info}')
        return info.get('status') == 'completed'
    if not wait_for(done, 120, 0.2):
        raise Fail(f'migration did not complete in 120 s: {info}')
    log(f'ok: migration completed in {time.monotonic() - t0:.1f} s '
        f'(QEMU: total {info.get("total-time")} ms, downtime {info.get("downtime")} ms, '
        f'{info.get("ram", {}).get("transferred", 0) >> 20} MiB sent)')
    # The source completes once it sent everything; the destination runs
    # once it loaded it all and started its devices.
    if not wait_for(lambda: dst.qmp.execute('query-status')['status'] == 'running', 30, 0.2):
        raise Fail(f"destination guest: {dst.qmp.execute('query-status')}")
    log('ok: the destination guest runs')
    src.stop()
    fwd.link_wait(1, 'down')

    # The switch learns where the guest is now from what it announces.
    if not wait_for(lambda: fwd.macs().get(MAC) == 2, 20, 0.2):
        raise Fail(f"guest's MAC not moved to port 2: {fwd.macs()}; port 2: {fwd.port(2)}")
    log("ok: the l2 table moved the guest's MAC to port 2")

    th.join(120)
    check('err' not in sent and 'secs' in sent, f'host -> guest stream: {sent}')
    # The guest's shell now answers through the destination's console.
    g = dst.guest
    g.n = src.guest.n
    got = vhu_vm.guest_wait_rx(g)
    check_eq(got, vhu_vm.md5(data), f'MD5 of the {STREAM >> 20} MiB streamed across the migration')
    log(f'ok: {STREAM} bytes streamed in {sent["secs"]:.1f} s across the migration, intact')

    hping.stop(signal.SIGINT)
    m = re.search(r'(\d+) packets transmitted, (\d+) received', hping.text())
    check(m, 'host ping summary')
    tx, rx = int(m.group(1)), int(m.group(2))
    lost = tx - rx
    log(f'host ping every 10 ms: {tx} sent, {lost} lost ({lost * 0.01:.2f} s of pings)')
    check(lost * 0.01 <= MAX_LOST_S, f'ping loss {lost} exceeds {MAX_LOST_S} s worth')
    out = g.sh('killall -INT ping; sleep 0.5; grep -E "transmitted|round" /tmp/ping.out')
    log(f'guest ping every 100 ms: {out}')

    # Back again, in silence: only the migration's announce can teach the
    # switch that the guest is behind port 1 again.
    port = free_port()
    back = t.qemu('back', nics=[{'sock': src_sock, 'mac': MAC}], ips=[vhu_vm.ip(2)],
                  incoming=f'tcp:127.0.0.1:{port}')
    # (An incoming QEMU starts its rings, and vhu-fwd's link, only when
    # the migration completes.)
    check_eq(fwd.macs().get(MAC), 2, "guest's MAC before migrating back (port)")
    dst.qmp.execute('migrate-set-parameters', **{'max-bandwidth': 1 << 30, 'downtime-limit': 300})
    dst.qmp.execute('migrate', uri=f'tcp:127.0.0.1:{port}')
    info = {}
    if not wait_for(lambda: info.update(dst.qmp.execute('query-migrate')) or
                    info.get('status') in ('completed', 'failed'), 120, 0.2) \
            or info['status'] != 'completed':
        raise Fail(f'migration back: {info}')
    t1 = time.monotonic()
    if not wait_for(lambda: back.qmp.execute('query-status')['status'] == 'running', 30, 0.2):
        raise Fail(f"migration back: guest {back.qmp.execute('query-status')}")
    if not wait_for(lambda: fwd.macs().get(MAC) == 1, 15, 0.1):
        raise Fail(f"migration back: the announce did not move the guest's MAC to port 1: {fwd.macs()}")
    log(f"ok: migrated back; the announce moved the guest's MAC to port 1 "
        f"{time.monotonic() - t1:.1f} s after the migration completed")
    dst.stop()
    fwd.link_wait(2, 'down')
    g = back.guest
    g.n = dst.guest.n
    net.ping(GUEST, count=3)
    g.sh(f'ping -c 3 -W 5 {net.addr}')
    back.stop()
    fwd.link_wait(1, 'down')
    fwd.finish()
    t.passed()

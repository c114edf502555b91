# SPDX-License-Identifier: BSD-3-Clause
"""Network helpers for the tests and demo that run QEMU guests
(vhu_harness.Qemu): the addresses and MACs they use, the host end of a
net_tap port, and checked TCP transfers between host and guests.

Every guest and the host share 198.51.100.0/24 (TEST-NET-2): the host is
.1, guests get the addresses a test gives them. MACs are 02:00:00:00:00:NN.
"""
import hashlib
import os
import socket
import subprocess
import threading
import time

from vhu_harness import Fail, log, wait_for

NET = '198.51.100'
VIRTIO_F_RING_PACKED = 34
VIRTIO_NET_F_MQ = 22


def guest_has_feature(g, ifname, bit):
    """Whether the guest's virtio driver negotiated feature bit on
    ifname (sysfs: one '0'/'1' per bit, bit 0 first)."""
    bits = g.sh(f'cat /sys/class/net/{ifname}/device/features').strip()
    return len(bits) > bit and bits[bit] == '1'


def mac(n):
    return f'02:00:00:00:00:{n:02x}'


def ip(n, prefix=True):
    return f'{NET}.{n}' + ('/24' if prefix else '')


class HostNet:
    """The host's end of vhu-fwd's net_tap port: a tap interface (made by
    net_tap, gone with vhu-fwd) with address .1."""

    def __init__(self, run):
        self.run = run
        self.ifname = f'vhut{os.getpid() % 100000}'
        self.addr = ip(1, prefix=False)

    def _ip(self, *args):
        r = subprocess.run(['ip', *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail(f'ip {" ".join(args)}: {r.stderr.strip()}')
        return r.stdout

    def eal(self):
        """The EAL arguments of vhu-fwd's port on it."""
        return ['--vdev', f'net_tap0,iface={self.ifname}']

    def up(self):
        if not wait_for(lambda: os.path.exists(f'/sys/class/net/{self.ifname}'), 20):
            raise Fail(f'no interface {self.ifname} (net_tap did not create it)')
        self._ip('addr', 'add', ip(1), 'dev', self.ifname)
        self._ip('link', 'set', self.ifname, 'up')

    def mac(self):
        with open(f'/sys/class/net/{self.ifname}/address') as f:
            return f.read().strip().lower()

    def ping(self, addr, count=5, interval=0.2, deadline=30):
        """Ping addr from the host; fail unless every reply came. Returns
        ping's summary line."""
        r = subprocess.run(['ping', '-c', str(count), '-i', str(interval),
                            '-w', str(deadline), '-I', self.ifname, addr],
                           capture_output=True, text=True)
        summary = [ln for ln in r.stdout.splitlines() if 'transmitted' in ln]
        if r.returncode != 0 or f'{count} received' not in r.stdout:
            raise Fail(f'host ping {addr}: {summary or r.stderr.strip()}')
        log(f'ok: host ping {addr}: {summary[0]}')
        return summary[0]


def host_and_guest(t, fwd_bin):
    """The set-up of the host-to-guest tests: vhu-fwd --mode l2 with the
    host on its net_tap port 0 and one guest (address .2, MAC 01) on
    vhost-user port 1, link up. Returns (net, fwd, vm)."""
    t.need_vm()
    t.need('ping', 'ip')
    net = HostNet(t)
    fwd = t.vhu_fwd('fwd', fwd_bin, '--mode', 'l2', '--vhost', t.path('vm.sock'),
                    eal=net.eal())
    net.up()
    vm = t.qemu('vm', nics=[{'sock': t.path('vm.sock'), 'mac': mac(1)}], ips=[ip(2)])
    fwd.link_wait(1, 'up')
    return net, fwd, vm


def md5(data):
    return hashlib.md5(data).hexdigest()


def guest_make_data(g, path, size):
    """Random data of size bytes in the guest at path; its MD5."""
    out = g.sh(f'dd if=/dev/urandom of={path} bs=4096 count={size // 4096} '
               f'2>/dev/null && md5sum {path}')
    return out.split()[0]


def guest_listen(g, port):
    """A busybox nc in the guest's background, receiving one TCP
    connection on port into /tmp/rx. Its stdin is a FIFO opened read-write,
    which never ends: busybox nc half-closes the connection when its stdin
    ends, and the sending nc then stops at that FIN, mid-transfer."""
    g.sh(f'rm -f /tmp/rx; [ -p /tmp/hold ] || mkfifo /tmp/hold; '
         f'nc -l -p {port} <>/tmp/hold >/tmp/rx & echo listening')


def guest_wait_rx(g, timeout=120):
    """Wait until the guest's listener (guest_listen) has exited; return
    the MD5 of what it received. (Not the shell's `wait`: that would also
    wait for any other background job, a ping, say.)"""
    g.sh('while pidof nc >/dev/null; do sleep 0.2; done', timeout=timeout)
    out = g.sh('md5sum /tmp/rx').split()
    if not out:
        raise Fail(f'{g.vm.name}: no /tmp/rx')
    return out[0]


def report(what, size, secs):
    log(f'ok: {what}: {size} bytes in {secs:.2f} s, '
        f'{size * 8 / secs / 1e6:.1f} Mbit/s, MD5 equal')


def tcp_guest_to_host(net, g, size, port=0):
    """The guest sends size random bytes to a host listener by TCP (busybox
    nc); both ends' MD5 must match. Returns the throughput in Mbit/s."""
    want = guest_make_data(g, '/tmp/tx', size)
    srv = socket.create_server((net.addr, port))
    srv.settimeout(120)
    got = {}

    def serve():
        try:
            c, _ = srv.accept()
            c.settimeout(120)
            h, n = hashlib.md5(), 0
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                h.update(d)
                n += len(d)
            c.close()
            got['md5'], got['n'] = h.hexdigest(), n
        except OSError as e:
            got['err'] = str(e)
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    t0 = time.monotonic()
    g.sh(f'nc {net.addr} {srv.getsockname()[1]} < /tmp/tx', timeout=180)
    th.join(60)
    secs = time.monotonic() - t0
    srv.close()
    if 'err' in got or got.get('md5') != want:
        raise Fail(f'guest -> host TCP: received {got}, sent {size} bytes md5 {want}')
    report('guest -> host TCP', size, secs)
    return size * 8 / secs / 1e6


def tcp_host_to_guest(net, g, size, addr, port=5001):
    """The host sends size random bytes by TCP to a busybox nc listening in
    the guest at addr; both MD5s must match."""
    data = os.urandom(size)
    guest_listen(g, port)
    t0 = time.monotonic()
    c = None
    for _ in range(50):
        try:
            c = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            time.sleep(0.2)
    if c is None:
        raise Fail(f'host -> guest TCP: cannot connect to {addr}:{port}')
    c.settimeout(120)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    c.close()
    secs = time.monotonic() - t0
    got = guest_wait_rx(g)
    if got != md5(data):
        raise Fail(f'host -> guest TCP: guest has md5 {got}, sent {md5(data)}')
    report('host -> guest TCP', size, secs)
    return size * 8 / secs / 1e6


def tcp_guest_to_guest(src, dst, dst_addr, size, port=5002):
    """src's guest sends size random bytes by TCP to dst's guest (busybox
    nc at both ends); both MD5s must match. Returns Mbit/s."""
    want = guest_make_data(src, '/tmp/tx', size)
    guest_listen(dst, port)
    t0 = time.monotonic()
    # The listener may take a moment to bind: retry the connect.
    src.sh(f'n=0; until nc {dst_addr} {port} </tmp/tx; do n=$((n+1)); '
           f'[ $n -ge 20 ] && break; sleep 0.3; done; [ $n -lt 20 ]', timeout=300)
    got = guest_wait_rx(dst)
    secs = time.monotonic() - t0
    if got != want:
        raise Fail(f'{src.vm.name} -> {dst.vm.name} TCP: received md5 {got}, sent {want}')
    report(f'{src.vm.name} -> {dst.vm.name} TCP', size, secs)
    return size * 8 / secs / 1e6

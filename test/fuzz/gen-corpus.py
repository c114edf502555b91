#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of vhu's fuzz targets: test/fuzz/corpus/<target>/.

    test/fuzz/gen-corpus.py [TARGET...]

Each seed is a small meaningful input, named for what it does. The script
rewrites only its own seeds (seed-*); inputs merged by usertools/vhu-fuzz
--merge (named by their SHA-1) and findings (crash-*) stay as they are.
The input formats are documented at the top of each fuzz_<what>.c.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- fuzz_devargs: the devargs string itself ----

def devargs_seeds():
    long_path = "/tmp/" + "p" * 102          # 107 bytes: the longest
    return {
        "iface": "iface=/tmp/vhu0.sock",
        "iface-queues-client": "iface=/tmp/vhu0.sock,queues=4,client=1",
        "every-key": "iface=/run/vm1.sock,queues=128,client=0,"
                     "mac=02:00:00:00:00:01,tso=1,legacy-ol-flags=1,"
                     "iommu-support=0,postcopy-support=0,linear-buffer=1,"
                     "ext-buffer=0",
        "net-vhost-ignored-keys": "iface=/tmp/s,iommu-support=1,"
                                  "postcopy-support=1,linear-buffer=0,"
                                  "ext-buffer=1",
        "offloads-off": "iface=/tmp/s,tso=0,legacy-ol-flags=0",
        "queues-too-many": "iface=/tmp/s,queues=129",
        "queues-zero": "iface=/tmp/s,queues=0",
        "queues-not-decimal": "iface=/tmp/s,queues=0x10",
        "queues-negative": "iface=/tmp/s,queues=-1",
        "queues-huge": "iface=/tmp/s,queues=18446744073709551617",
        "client-not-bool": "iface=/tmp/s,client=yes",
        "iface-twice": "iface=/tmp/a,iface=/tmp/b",
        "iface-missing": "queues=2,client=1",
        "iface-empty": "iface=",
        "iface-longest": "iface=" + long_path,
        "iface-too-long": "iface=" + long_path + "x",
        "iface-list": "iface=[/tmp/a,/tmp/b],queues=1",
        "mac-multicast": "iface=/tmp/s,mac=01:00:5e:00:00:01",
        "mac-zero": "iface=/tmp/s,mac=00:00:00:00:00:00",
        "mac-short-form": "iface=/tmp/s,mac=0200.0000.0001",
        "unknown-key": "iface=/tmp/s,vectors=1",
        "key-without-value": "iface=/tmp/s,client",
        "empty": "",
        "commas": ",,iface=/tmp/s,,",
    }


# ---- fuzz_memtable: 4 memfd sizes, then operations ----

# fd_sizes[] of fuzz_memtable.c: indexes.
FD_0, FD_4K, FD_ODD, FD_12K, FD_64K, FD_1M = range(6)
NO_FD = 4
SET, ADD, REM, GPA, FEVA, RESET = range(6)
MiB = 1 << 20


def field(v):
    """take_field(): the shortest form that gives v."""
    if v % 4096 == 0 and v >> 12 < 1 << 16:
        return bytes([0]) + struct.pack("<H", v >> 12)
    if v >> 12 < 1 << 16:
        return bytes([1]) + struct.pack("<HH", v >> 12, v & 0xfff)
    if v >= (1 << 64) - (1 << 16):
        return bytes([2]) + struct.pack("<H", (1 << 64) - 1 - v)
    return bytes([3]) + struct.pack("<Q", v)


def region(fdi, gpa, size, va, off):
    return bytes([fdi]) + field(gpa) + field(size) + field(va) + field(off)


def op_set(*regions, n=None):
    return bytes([SET, len(regions) if n is None else n]) + b"".join(regions)


def op_add(reg, max_regions=8):
    return bytes([ADD, max_regions]) + reg


def op_rem_raw(reg):
    return bytes([REM, 0]) + reg


def op_rem_index(i, off=0, change=None, delta=1):
    """change: None, or 0 (guest address), 1 (size), 2 (front-end VA)."""
    how = 1 if change is None else 3 | change << 2
    out = bytes([REM, how, i]) + field(off)
    if change is not None:
        out += bytes([delta - 1])
    return out


def op_gpa(addr, length, hint=0, rel=None):
    if rel is None:
        return bytes([GPA, 0]) + field(addr) + field(length) + bytes([hint])
    return bytes([GPA, 1, rel]) + field(addr) + field(length) + bytes([hint])


def op_feva(addr, length, rel=None):
    if rel is None:
        return bytes([FEVA, 0]) + field(addr) + field(length)
    return bytes([FEVA, 1, rel]) + field(addr) + field(length)


def fds(a, b, c, d):
    return bytes([a, b, c, d])


def memtable_seeds():
    va = 0x7f0000000000
    qemu = op_set(region(0, 0, 0xa0000, va, 0),
                  region(0, 0xc0000, 0x40000, va + 0xc0000, 0xc0000))
    return {
        # QEMU-like: one memfd, a hole below 1 MiB; lookups at the edges
        # and across the end; ring addresses by front-end VA.
        "qemu-two-regions": fds(FD_1M, FD_0, FD_0, FD_0) + qemu +
            op_gpa(0, 64) + op_gpa(0x9ffff, 64) + op_gpa(0xa0000, 1) +
            op_gpa(0xc0000, 0x100000, hint=1) +
            op_feva(va + 0x1000, 0x1000) +
            op_feva(va + 0x9f000, 0x2000) + op_feva(va + 0xc0000, 0x40000),
        # DPDK virtio-user: one memfd per region, guest address = its VA.
        "virtio-user-regions": fds(FD_1M, FD_64K, FD_12K, FD_4K) + op_set(
            region(0, 0x100000000, MiB, 0x100000000, 0),
            region(1, 0x100200000, 0x10000, 0x100200000, 0),
            region(2, 0x100300000, 0x3000, 0x100300000, 0)) +
            op_gpa(0x100200000 + 0xfff0, 0x100) +
            op_gpa(0, 0x10, rel=2) + op_feva(0x100300000, 0x3000),
        # Memory hot-plug: ADD one by one, REM (offset not compared),
        # REM of a region that is not there, ADD up to a limit.
        "add-remove": fds(FD_1M, FD_64K, FD_4K, FD_12K) +
            op_add(region(0, 0x0, 0x80000, va, 0)) +
            op_add(region(0, 0x100000, 0x80000, va + 0x100000, 0x80000)) +
            op_add(region(1, 0x200000, 0x10000, va + 0x200000, 0)) +
            op_gpa(0x100010, 0x10) +
            op_rem_index(1, off=0x1234) +
            op_gpa(0x100010, 0x10) + op_gpa(0x200000, 0x20000) +
            op_rem_index(0, change=1) +
            op_rem_raw(region(0, 0x300000, 0x1000, va, 0)) +
            op_add(region(2, 0x400000, 0x1000, va + 0x400000, 0),
                   max_regions=2) +
            op_add(region(3, 0x500000, 0x3000, va + 0x500000, 0)) +
            op_rem_index(0) + op_rem_index(0) + op_rem_index(0) +
            op_gpa(0, 1),
        # Every SET_MEM_TABLE refusal: size 0, sums past 2^64, beyond the
        # memfd, no fd, overlaps in guest and front-end addresses, one
        # region too many, a count far too large.
        "set-refused": fds(FD_64K, FD_4K, FD_0, FD_ODD) +
            op_set(region(0, 0, 0, va, 0)) +
            op_set(region(0, (1 << 64) - 0x1000, 0x2000, va, 0)) +
            op_set(region(0, 0, 0x1000, (1 << 64) - 1, 0)) +
            op_set(region(0, 0, 0x1000, va, (1 << 64) - 0x800)) +
            op_set(region(0, 0, 0x11000, va, 0)) +
            op_set(region(1, 0, 0x1000, va, 0x800)) +
            op_set(region(2, 0, 0x1000, va, 0)) +
            op_set(region(NO_FD, 0, 0x1000, va, 0)) +
            op_set(region(0, 0, 0x2000, va, 0),
                   region(0, 0x1000, 0x1000, va + 0x10000, 0)) +
            op_set(region(0, 0, 0x1000, va, 0),
                   region(0, 0x1000, 0x1000, va + 0x800, 0)) +
            op_set(*[region(1, i * 0x1000, 0x1000, va + i * 0x1000, 0)
                     for i in range(8)], n=9) +
            op_gpa(0, 1) + bytes([SET, 0xff]),
        # ADD refusals: overlap with the table, no fd, beyond the memfd,
        # table full (max_regions 1).
        "add-refused": fds(FD_64K, FD_4K, FD_0, FD_0) +
            op_add(region(0, 0x10000, 0x8000, va, 0)) +
            op_add(region(0, 0x14000, 0x1000, va + 0x100000, 0)) +
            op_add(region(0, 0x100000, 0x1000, va + 0x4000, 0)) +
            op_add(region(NO_FD, 0x200000, 0x1000, va + 0x200000, 0)) +
            op_add(region(1, 0x300000, 0x2000, va + 0x300000, 0)) +
            op_add(region(1, 0x300000, 0x1000, va + 0x300000, 0),
                   max_regions=1) +
            op_add(region(1, 0x300000, 0x1000, va + 0x300000, 0),
                   max_regions=0xff) +
            op_feva(va + 0x7fff, 1) + op_feva(va + 0x7fff, 2),
        # A memfd whose size is no page multiple, offsets not page aligned,
        # two regions sharing one memfd.
        "odd-size-offsets": fds(FD_ODD, FD_64K, FD_0, FD_0) + op_set(
            region(0, 0x0, 0x1234, 0x10000, 0),
            region(1, 0x2000, 0x1001, 0x20000, 0x123),
            region(1, 0x4000, 0x7fff, 0x30000, 0x8001)) +
            op_gpa(0x1233, 16) + op_gpa(0x2000, 0x2000, rel=1) +
            op_gpa(0xb, 0x7fff, rel=2) + op_feva(0x30000 + 0x7ffe, 1) +
            op_feva(0x30000 + 0x7ffe, 2),
        # A table replaced by another, freed, translations without one.
        "replace-reset": fds(FD_64K, FD_64K, FD_4K, FD_4K) +
            op_set(region(0, 0, 0x10000, va, 0)) + op_gpa(0x8000, 8) +
            op_set(region(1, 0, 0x10000, va, 0),
                   region(2, 0x10000, 0x1000, va + 0x10000, 0)) +
            op_gpa(0x8000, 8, hint=0xff) + op_gpa(0x10fff, 8) +
            bytes([RESET]) + op_gpa(0, 1) + op_feva(va, 1) +
            op_set() + op_gpa(0, 1) + op_rem_raw(region(0, 0, 1, 0, 0)),
    }


# ---- fuzz_msg: records of vhost-user messages (see fuzz_msg.c) ----

# fd kinds of fuzz_msg.c's make_fd().
MFD_4K, MFD_64K, MFD_1M, MFD_1G, EVENTFD, PIPE = range(6)
REQ = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, RESET_OWNER=4,
           SET_MEM_TABLE=5, SET_LOG_BASE=6, SET_LOG_FD=7, SET_VRING_NUM=8,
           SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11,
           SET_VRING_KICK=12, SET_VRING_CALL=13, SET_VRING_ERR=14,
           GET_PROTOCOL_FEATURES=15, SET_PROTOCOL_FEATURES=16,
           GET_QUEUE_NUM=17, SET_VRING_ENABLE=18, SEND_RARP=19,
           NET_SET_MTU=20, RESET_DEVICE=34, GET_MAX_MEM_SLOTS=36,
           ADD_MEM_REG=37, REM_MEM_REG=38, SET_STATUS=39, GET_STATUS=40)
NEED_REPLY = 0x8
UVA = 0x7f0000000000


def msg(req, payload=b"", fd_kinds=(), flags=NEED_REPLY):
    r = REQ[req] if isinstance(req, str) else req
    return (bytes([0, r, flags]) + struct.pack("<H", len(payload)) +
            payload + bytes([len(fd_kinds)]) + bytes(fd_kinds))


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def mem_region(gpa, size, uva, off):
    return struct.pack("<QQQQ", gpa, size, uva, off)


def vring_addr(index, base, flags=0, log=0):
    # desc at base, avail at base + 0x1000, used at base + 0x2000
    return struct.pack("<IIQQQQ", index, flags, base, base + 0x2000,
                       base + 0x1000, log)


def start_ring(i, base):
    return (msg("SET_VRING_NUM", state(i, 16)) +
            msg("SET_VRING_BASE", state(i, 0)) +
            msg("SET_VRING_ADDR", vring_addr(i, base)) +
            msg("SET_VRING_CALL", u64(i), [EVENTFD]) +
            msg("SET_VRING_KICK", u64(i), [EVENTFD]) +
            msg("SET_VRING_ENABLE", state(i, 1)))


def msg_seeds():
    feats = (1 << 32) | (1 << 15) | (1 << 30) | (1 << 26)  # V1 MRG PF LOG_ALL
    pfeats = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 13) | (1 << 15) | (1 << 16)
    hello = (msg("SET_OWNER") + msg("GET_FEATURES", flags=0) +
             msg("GET_PROTOCOL_FEATURES", flags=0) +
             msg("SET_PROTOCOL_FEATURES", u64(pfeats)) +
             msg("SET_FEATURES", u64(feats)))
    table = msg("SET_MEM_TABLE", struct.pack("<II", 1, 0) +
                mem_region(0, 0x10000, UVA, 0), [MFD_64K])
    boot = hello + table + start_ring(0, UVA) + start_ring(1, UVA + 0x4000)
    log = msg("SET_LOG_BASE", struct.pack("<QQ", 4096, 0), [MFD_4K], flags=0)
    return {
        "boot": boot,
        "boot-stop-restart": boot + msg("GET_VRING_BASE", state(0, 0), flags=0) +
            msg("SET_VRING_BASE", state(0, 3)) +
            msg("SET_VRING_KICK", u64(0), [EVENTFD]),
        # Defect 1: log, reset, then logging rings without a log.
        "log-reset-log": hello + log + msg("RESET_OWNER") + hello + table +
            msg("SET_VRING_NUM", state(1, 16)) +
            msg("SET_VRING_ADDR", vring_addr(1, UVA, 1, 0x2000)) +
            msg("SET_VRING_KICK", u64(1), [EVENTFD]),
        "log-hangup-log": hello + log + bytes([2]) + hello + table +
            start_ring(1, UVA) + log + msg("SET_LOG_FD", b"", [EVENTFD]),
        "add-rem-regions": hello +
            msg("ADD_MEM_REG", u64(0) + mem_region(0, 0x10000, UVA, 0), [MFD_64K]) +
            msg("ADD_MEM_REG", u64(0) + mem_region(1 << 40, 1 << 30, 1 << 45, 0), [MFD_1G]) +
            start_ring(0, UVA) +
            msg("REM_MEM_REG", u64(0) + mem_region(1 << 40, 1 << 30, 1 << 45, 0)) +
            msg("REM_MEM_REG", u64(0) + mem_region(0, 0x10000, UVA, 0)),
        "queries": msg("GET_QUEUE_NUM", flags=0) + msg("GET_MAX_MEM_SLOTS", flags=0) +
            hello + msg("GET_STATUS", flags=0) + msg("SET_STATUS", u64(0xf)) +
            msg("NET_SET_MTU", u64(1500)) + msg("SEND_RARP", u64(0x0100000002)),
        "bad-sizes-fds": msg("SET_OWNER", b"x") + msg("SET_FEATURES", u64(1), [PIPE]) +
            msg("SET_MEM_TABLE", struct.pack("<II", 9, 0)) +
            msg("SET_VRING_NUM", state(0x10000, 16)) + msg(99, b"abc") +
            msg("SET_MEM_TABLE", struct.pack("<II", 1, 0) +
                mem_region(0, 1 << 20, UVA, 0), [MFD_4K] * 9),
        "split-header": hello + bytes([1, 7]) + b"\x03\x00\x00\x00\x01\x00\x00" +
            bytes([3]) + bytes([1, 5]) + b"\x00\x00\x00\x00\x00",
    }


# ---- fuzz_ring: device set-up, then guest and device operations ----

(R_WRITE, R_DESC, R_AVAIL, R_POST, R_DEQ, R_ENQ, R_RESTART, R_ENABLE,
 R_FEATURES, R_LOG, R_RARP, R_USED, R_REPEAT) = range(13)
AUTO_HEAD = 0xff                   # POST: the next free head, fresh buffers
# feature_bits[] of fuzz_ring.c, in order.
RING_FEATURES = ["VERSION_1", "MRG_RXBUF", "INDIRECT_DESC", "EVENT_IDX",
                 "LOG_ALL", "CSUM", "GUEST_CSUM", "HOST_TSO4", "HOST_TSO6",
                 "GUEST_TSO4", "GUEST_TSO6", "PROTOCOL_FEATURES", "IN_ORDER",
                 "ANY_LAYOUT", "MTU", "GUEST_ANNOUNCE"]
GPA_A = 0x100000
GPA_B = GPA_A + 0x40000
BUF = GPA_A + 0x4000               # buffers start here
RX, TX = 0, 1
# Ring flags (fuzz_ring.c, "ring 0, ring 1").
DISABLED, NOT_STARTED, CALL, LOG_USED = 0x10, 0x20, 0x40, 0x80
# Packet templates and TX header modes.
T_RAW, T_V4TCP, T_V6TCP, T_V4UDP = range(4)
H_ZERO, H_CSUM, H_GSO, H_RAW = range(4)
# Enqueue offload selector bits.
OL_IP_CKSUM, OL_TCP, OL_SCTP, OL_UDP = 1, 1 << 1, 2 << 1, 3 << 1
OL_TCP_SEG, OL_IPV4, OL_IPV6, OL_RX_GOOD = 8, 16, 32, 64
AUTO = 0xff                        # l2/l3/l4 from the template


def ring_features(*names):
    return sum(1 << RING_FEATURES.index(n) for n in names)


def ring_setup(features=("VERSION_1",), offloads=0, no_b=False, log=0,
               rx=8, tx=8, rx_flags=0, tx_flags=0, rx_base=0, tx_base=0):
    """The input's header: rx/tx are log2 of the ring sizes."""
    return (bytes([offloads | (0x10 if no_b else 0)]) +
            struct.pack("<HB", ring_features(*features), log) +
            bytes([rx | rx_flags]) + struct.pack("<H", rx_base) +
            bytes([tx | tx_flags]) + struct.pack("<H", tx_base))


def gpa_field(v):
    off = v - GPA_A
    if 0 <= off < 0x80000 and off % 8 == 0:
        return bytes([0]) + struct.pack("<H", off >> 3)
    if 0 <= off < 1 << 24:
        return bytes([2]) + struct.pack("<HB", off & 0xffff, off >> 16)
    return bytes([3]) + struct.pack("<Q", v % (1 << 64))


def r_post(ring, head, segs, itab=None, tmpl=T_V4TCP, hmode=H_ZERO,
           gso=0, raw_hdr=b"", publish=True, vlan=False, seed=0):
    """A chain of (gpa, len) segments (8-byte aligned gpa in A/B)."""
    b = (ring | (len(segs) - 1) << 1 | (8 if itab is not None else 0) |
         tmpl << 4 | hmode << 6)
    out = bytes([R_POST, b, head])
    for gpa, n in segs:
        out += struct.pack("<HH", (gpa - GPA_A) >> 3, n)
    if itab is not None:
        out += struct.pack("<H", (itab - GPA_A) >> 3)
    if hmode == H_GSO:
        out += struct.pack("<H", gso)
    elif hmode == H_RAW:
        out += raw_hdr.ljust(12, b"\0")[:12]
    return out + bytes([(0 if publish else 1) | (2 if vlan else 0) |
                        (seed & 0x3f) << 2])


def r_desc(ring, idx, addr, n, flags, nxt=0, at=None):
    """One descriptor in the ring's table, or at a gpa (indirect)."""
    out = bytes([R_DESC, ring | (2 if at is not None else 0)])
    out += gpa_field(at) if at is not None else bytes([idx])
    return out + gpa_field(addr) + struct.pack("<IHH", n, flags, nxt)


F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def r_avail_add(ring, n):
    return bytes([R_AVAIL, ring | 0 << 1, n])


def r_avail_set(ring, idx):
    return bytes([R_AVAIL, ring | 1 << 1]) + struct.pack("<H", idx)


def r_avail_flags(ring, flags):
    return bytes([R_AVAIL, ring | 2 << 1]) + struct.pack("<H", flags)


def r_used_event(ring, event):
    return bytes([R_AVAIL, ring | 3 << 1]) + struct.pack("<H", event)


def r_avail_entry(ring, i, head):
    return bytes([R_AVAIL, ring | 4 << 1, i]) + struct.pack("<H", head)


def r_repeat(n, op):
    """op (one operation's bytes) done n times."""
    return bytes([R_REPEAT, n - 1]) + op


def r_deq(k=32, tiny=False):
    return bytes([R_DEQ, (k - 1) | (64 if tiny else 0)])


def r_pkt(length, segs=1, tmpl=T_V4TCP, vlan=False, ol=None, pokes=()):
    """An mbuf of length bytes; ol = (sel, l2, l3, l4, tso_segsz);
    pokes: (offset, byte) over the packet's headers."""
    shape = ((segs - 1) | tmpl << 3 | (0x20 if ol else 0) |
             (0x40 if vlan else 0) | (0x80 if pokes else 0))
    out = struct.pack("<HB", length - 14, shape)
    if ol:
        out += struct.pack("<BBBBH", *ol)
    if pokes:
        out += bytes([len(pokes)]) + b"".join(bytes(p) for p in pokes)
    return out


def r_enq(*pkts):
    return bytes([R_ENQ, len(pkts) - 1]) + b"".join(pkts)


def r_restart(ring, mode=0, base=None, log2=8):
    """mode 0 stop+start, 1 stop, 2 start; base: stop, set base/num, start."""
    if base is not None:
        return bytes([R_RESTART, ring | 3 << 1]) + struct.pack("<HB", base, log2)
    return bytes([R_RESTART, ring | mode << 1])


def r_enable(ring, on, call=None):
    b = ring | (2 if on else 0)
    if call is not None:
        b |= 4 | (8 if call else 0)
    return bytes([R_ENABLE, b])


def ring_seeds():
    v1 = ("VERSION_1",)
    mrg = ("VERSION_1", "MRG_RXBUF", "EVENT_IDX", "PROTOCOL_FEATURES")
    hdr = 12
    tx_pkt = r_post(TX, 0, [(BUF, hdr + 60)])
    rx_buf = r_post(RX, 0, [(BUF + 0x8000, 2048)])
    return {
        # Valid traffic: one packet each way.
        "tx-one-packet": ring_setup(v1) + tx_pkt + r_deq(),
        "rx-one-packet": ring_setup(v1) + rx_buf + r_enq(r_pkt(60)),
        "both-ways-legacy-header": ring_setup(()) +
            r_post(TX, 0, [(BUF, 10 + 100)], tmpl=T_V4UDP) +
            r_post(RX, 0, [(BUF + 0x8000, 1600)]) +
            r_deq() + r_enq(r_pkt(100), r_pkt(200)),
        # Mergeable RX buffers: a 3000-byte two-segment packet over three
        # 1 KiB buffers; event index, a call fd; TX of two packets.
        "mergeable": ring_setup(mrg, rx_flags=CALL, tx_flags=CALL) +
            b"".join(r_post(RX, i, [(BUF + 0x8000 + i * 0x400, 1024)])
                     for i in range(4)) +
            r_used_event(RX, 0) +
            r_post(TX, 0, [(BUF, hdr + 1500)]) +
            r_post(TX, 1, [(BUF + 0x1000, hdr + 64)], tmpl=T_V6TCP) +
            r_deq() + r_enq(r_pkt(3000, segs=2), r_pkt(60)) +
            r_enq(r_pkt(60)),
        # Without mergeable buffers a packet must fit one chain.
        "non-mergeable-too-big": ring_setup(v1) +
            r_post(RX, 0, [(BUF + 0x8000, 1500)]) +
            r_post(RX, 1, [(BUF + 0x9000, 1500)]) +
            r_enq(r_pkt(3000, segs=2), r_pkt(100), r_pkt(100)),
        # Indirect tables both ways; the TX header in its own descriptor.
        "indirect": ring_setup(("VERSION_1", "INDIRECT_DESC", "MRG_RXBUF")) +
            r_post(TX, 0, [(BUF, hdr), (BUF + 0x100, 40), (BUF + 0x200, 500)],
                   itab=BUF + 0x3000) +
            r_post(RX, 0, [(BUF + 0x8000, hdr), (BUF + 0x9000, 2000)],
                   itab=BUF + 0x3100) +
            r_deq() + r_enq(r_pkt(1000)),
        # A chained RX buffer: header, then small and large pieces.
        "rx-chained": ring_setup(v1) +
            r_post(RX, 5, [(BUF + 0x8000, hdr), (BUF + 0x8100, 100),
                           (BUF + 0x9000, 2000)]) +
            r_enq(r_pkt(1500, segs=3, vlan=True)),
        # Buffers across the A/B boundary (two host pieces each).
        "cross-region": ring_setup(("VERSION_1", "MRG_RXBUF")) +
            r_post(TX, 0, [(GPA_B - 0x100, hdr + 1000)]) +
            r_post(RX, 0, [(GPA_B - 0x200, 4096)]) +
            r_deq() + r_enq(r_pkt(3000, segs=2)),
        # Every offload: TX partial checksum and GSO headers, RX TSO,
        # checksum and IP checksum requests.
        "offloads": ring_setup(("VERSION_1", "MRG_RXBUF", "CSUM",
                                "HOST_TSO4", "HOST_TSO6", "GUEST_CSUM",
                                "GUEST_TSO4", "GUEST_TSO6"),
                               offloads=0xf) +
            r_post(TX, 0, [(BUF, hdr + 800)], hmode=H_CSUM) +
            r_post(TX, 1, [(BUF + 0x1000, hdr + 4000)], hmode=H_GSO,
                   gso=1400) +
            r_post(TX, 2, [(BUF + 0x2000, hdr + 300)], tmpl=T_V4UDP,
                   hmode=H_CSUM) +
            r_post(TX, 3, [(BUF + 0x3000, hdr + 3000)], tmpl=T_V6TCP,
                   hmode=H_GSO, gso=1000) +
            r_deq() +
            b"".join(r_post(RX, i, [(BUF + 0x10000 + i * 0x2000, 0x2000)])
                     for i in range(8)) +
            r_enq(r_pkt(9000, segs=5, ol=(OL_TCP_SEG | OL_TCP | OL_IPV4 |
                                          OL_IP_CKSUM, AUTO, AUTO, AUTO,
                                          1400)),
                  r_pkt(600, tmpl=T_V4UDP, ol=(OL_UDP | OL_IPV4, AUTO, AUTO,
                                               AUTO, 0)),
                  r_pkt(700, tmpl=T_V6TCP, ol=(OL_TCP | OL_IPV6, AUTO, AUTO,
                                               AUTO, 0)),
                  r_pkt(80, ol=(OL_IP_CKSUM | OL_IPV4 | OL_RX_GOOD, AUTO,
                                AUTO, AUTO, 0))),
        # Two TX packets with the same bytes: the first's header asks for
        # GSO without NEEDS_CSUM (dropped), the second's is a valid TSO
        # header; the mbuf is the second's (the check matching mbufs to
        # chains once took it for the first's).
        "same-payload-two-headers": ring_setup(("VERSION_1", "CSUM",
                                                "HOST_TSO4"), offloads=0xf) +
            r_post(TX, 0, [(BUF, hdr + 800)], hmode=H_RAW,
                   raw_hdr=bytes([0, 1, 54, 0, 0x78, 5, 34, 0, 16, 0])) +
            r_post(TX, 1, [(BUF + 0x1000, hdr + 800)], hmode=H_GSO,
                   gso=700) +
            r_deq(),
        # Header corner cases: enqueue of IPv4 with options (IHL 6) and a
        # fragment; dequeue GSO with the ECN bit, UDP GSO, gso_size 0.
        "offload-corners": ring_setup(("VERSION_1", "MRG_RXBUF", "CSUM",
                                       "HOST_TSO4", "GUEST_CSUM"),
                                      offloads=0xf) +
            r_post(TX, 0, [(BUF, hdr + 800)], hmode=H_RAW,
                   raw_hdr=bytes([1, 0x81, 54, 0, 0x78, 5, 34, 0, 16, 0])) +
            r_post(TX, 1, [(BUF + 0x1000, hdr + 800)], hmode=H_RAW,
                   raw_hdr=bytes([1, 3, 42, 0, 0x78, 5, 34, 0, 6, 0])) +
            r_post(TX, 2, [(BUF + 0x2000, hdr + 800)], hmode=H_GSO, gso=0) +
            r_deq() +
            b"".join(r_post(RX, i, [(BUF + 0x10000 + i * 0x1000, 0x1000)])
                     for i in range(4)) +
            r_enq(r_pkt(900, ol=(OL_TCP | OL_IPV4 | OL_IP_CKSUM, AUTO, 24,
                                 AUTO, 0), pokes=[(14, 0x46)]),
                  r_pkt(900, ol=(OL_TCP | OL_IPV4, AUTO, AUTO, AUTO, 0),
                        pokes=[(20, 0x20)]),
                  r_pkt(900, tmpl=T_V4UDP, ol=(OL_UDP | OL_IPV4, AUTO, AUTO,
                                               AUTO, 0),
                        pokes=[(40, 0), (41, 0)])),
        # num_buffers split over two RX pieces (9 + 3 bytes), logged.
        "num-buffers-split": ring_setup(mrg + ("LOG_ALL",), log=48,
                                        rx_flags=LOG_USED) +
            r_post(RX, 0, [(BUF + 0x8000, 9), (BUF + 0x8100, 1000)]) +
            r_post(RX, 2, [(BUF + 0x9000, 1000)]) +
            r_enq(r_pkt(1500)),
        # Offload requests in software: the guest took no offload.
        "offloads-software": ring_setup(("VERSION_1", "CSUM")) +
            r_post(TX, 0, [(BUF, hdr + 800)], hmode=H_CSUM) +
            r_post(TX, 1, [(BUF + 0x1000, hdr + 4000)], hmode=H_GSO,
                   gso=1400) +
            r_deq() + r_post(RX, 0, [(BUF + 0x8000, 2048)]) +
            r_post(RX, 1, [(BUF + 0x9000, 2048)]) +
            r_enq(r_pkt(1000, segs=2, ol=(OL_TCP | OL_IPV4 | OL_IP_CKSUM,
                                          AUTO, AUTO, AUTO, 0)),
                  r_pkt(600, tmpl=T_V4UDP, ol=(OL_UDP | OL_IPV4, AUTO,
                                               AUTO, AUTO, 0))),
        # Dirty-page logging of buffers and used rings.
        "dirty-log": ring_setup(("VERSION_1", "LOG_ALL"), log=48,
                                rx_flags=LOG_USED, tx_flags=LOG_USED) +
            tx_pkt + rx_buf + r_deq() + r_enq(r_pkt(1000)),
        # Stop / restart at a new base, disabled (TX consumed and
        # dropped), enabled again; a RARP after migration.
        "restart-disable-rarp": ring_setup(("VERSION_1", "PROTOCOL_FEATURES"),
                                           rx=4, tx=4) +
            tx_pkt + r_deq() + r_restart(TX) +
            r_post(TX, 1, [(BUF + 0x100, hdr + 60)]) +
            r_enable(TX, False) + r_deq() + r_enable(TX, True) +
            r_restart(TX, base=7, log2=3) + r_avail_set(TX, 7) +
            r_post(TX, 2, [(BUF + 0x200, hdr + 70)]) +
            bytes([R_RARP]) + bytes.fromhex("020000000042") + r_deq(),

        # Hostile: a descriptor loop, both ways.
        "loop": ring_setup(v1, rx=2, tx=2) +
            r_desc(TX, 0, BUF, 100, F_NEXT, 1) +
            r_desc(TX, 1, BUF + 0x100, 100, F_NEXT, 0) + r_avail_add(TX, 1) +
            r_desc(RX, 2, BUF + 0x8000, 100, F_NEXT | F_WRITE, 2) +
            r_avail_entry(RX, 0, 2) + r_avail_add(RX, 1) +
            r_deq() + r_enq(r_pkt(60)),
        # Zero-length buffers, a chain shorter than the header, a header
        # split over two descriptors.
        "zero-length-buffer": ring_setup(v1) +
            r_post(TX, 0, [(BUF, 0)]) + r_post(TX, 1, [(BUF + 0x100, 8)]) +
            r_post(TX, 2, [(BUF + 0x200, 6), (BUF + 0x300, 6 + 60)]) +
            r_post(RX, 0, [(BUF + 0x8000, 0)]) +
            r_post(RX, 1, [(BUF + 0x9000, 0), (BUF + 0xa000, 4)]) +
            r_post(RX, 3, [(BUF + 0xb000, 2048)]) +
            r_deq() + r_enq(r_pkt(60)),
        # Indirect tables: larger than the queue, nested, with NEXT, not
        # a multiple of 16, in a gap.
        "indirect-too-big": ring_setup(("VERSION_1", "INDIRECT_DESC"),
                                       rx=2, tx=2) +
            r_desc(TX, 0, BUF + 0x3000, 16 * 5, F_INDIRECT) +
            r_desc(TX, 1, BUF + 0x3000, 16, F_INDIRECT | F_NEXT, 2) +
            r_desc(TX, 2, BUF + 0x3000, 24, F_INDIRECT) +
            r_desc(TX, 3, GPA_B + 0x10000, 16, F_INDIRECT) +
            r_desc(TX, 0, BUF + 0x3100, 16, F_INDIRECT, at=BUF + 0x3000) +
            b"".join(r_avail_entry(TX, i, i) for i in range(4)) +
            r_avail_add(TX, 4) + r_deq(),
        # The avail index jumps past the ring: broken; a restart mends it.
        "avail-jump": ring_setup(v1, rx=3, tx=3) +
            r_avail_add(TX, 9) + r_deq() + r_restart(TX, base=9, log2=3) +
            r_post(TX, 0, [(BUF, hdr + 60)]) + r_deq() +
            r_avail_set(RX, 0x8000) + r_enq(r_pkt(60)),
        # A head beyond the ring, and 16 bad chains (buffers in the
        # gap): broken rings.
        "bad-heads": ring_setup(v1, rx=3, tx=3) +
            r_avail_entry(TX, 0, 8) + r_avail_add(TX, 1) + r_deq() +
            b"".join(r_post(RX, i, [(GPA_B + 0x10000, 64)])
                     for i in range(8)) + r_enq(r_pkt(60)) +
            b"".join(r_post(RX, i, [(GPA_B + 0x10000, 64)])
                     for i in range(8)) + r_enq(r_pkt(60)),
        # RX buffers over the ring's own used ring and over each other.
        "rx-over-ring": ring_setup(("VERSION_1", "MRG_RXBUF"), rx=2) +
            r_post(RX, 0, [(GPA_A + 0x1400, 256)]) +
            r_post(RX, 1, [(BUF + 0x8000, 512)]) +
            r_post(RX, 2, [(BUF + 0x8100, 512)]) +
            r_enq(r_pkt(1000)),
        # 64 packets each way in one burst (auto heads and buffers).
        "bursts-of-64": ring_setup(mrg, rx_flags=CALL, tx_flags=CALL) +
            r_repeat(64, r_post(TX, AUTO_HEAD, [(BUF, hdr + 60)], seed=3)) +
            r_repeat(64, r_post(RX, AUTO_HEAD, [(BUF + 0x20000, 1536)])) +
            r_deq(64) + r_enq(*[r_pkt(60 + i) for i in range(64)]),
        # A 9000-byte packet over 100 mergeable 64-byte buffers and a bad
        # chain: the buffers it took (some already written to the used
        # ring) go back empty, with a dirty log.
        "mergeable-100-then-bad": ring_setup(mrg + ("LOG_ALL",), log=48,
                                             rx_flags=LOG_USED) +
            r_repeat(100, r_post(RX, AUTO_HEAD, [(BUF, 64)])) +
            r_post(RX, 100, [(GPA_B + 0x10000, 64)]) +
            r_enq(r_pkt(9000, segs=5)),
        # A TX packet over its own ring's used ring, which the burst
        # writes after copying it.
        "tx-over-used-ring": ring_setup(v1, tx=4) +
            r_post(TX, 0, [(GPA_A + 0x2000 + 0x1400, hdr + 200)]) + r_deq(),
        # A 40000-byte TX packet over the tiny mempool: no mbufs.
        "tiny-pool": ring_setup(v1) +
            r_post(TX, 0, [(BUF, 20000), (BUF + 0x8000, hdr + 20000)]) +
            r_deq(tiny=True) + r_post(TX, 1, [(BUF + 0x10000, hdr + 60)]) +
            r_deq(k=64, tiny=True),
    }


# ---- fuzz_packed: device set-up, then driver and device operations ----

(P_POST, P_DESC, P_EVENT, P_PUBLISH, P_DEQ, P_ENQ, P_RESTART, P_ENABLE,
 P_FEATURES, P_LOG, P_RARP, P_WRITE, P_MEM, P_REPEAT) = range(14)
# feature_bits[] of fuzz_packed.c, in order (RING_PACKED is always added).
PK_FEATURES = ["VERSION_1", "MRG_RXBUF", "INDIRECT_DESC", "EVENT_IDX",
               "LOG_ALL", "IN_ORDER", "PROTOCOL_FEATURES", "CSUM",
               "GUEST_CSUM", "HOST_TSO4", "HOST_TSO6", "GUEST_TSO4",
               "GUEST_TSO6", "ANY_LAYOUT", "MQ", "MTU"]
# Ring flags (fuzz_packed.c, "per ring").
PK_DISABLED, PK_NOT_STARTED, PK_CALL, PK_LOG_USED = 0x04, 0x08, 0x10, 0x20
# Hostile POST kinds.
(HK_HEAD_USED, HK_HEAD_OLD, HK_ID, HK_ENDLESS, HK_DIRECTION, HK_INDIRECT,
 HK_ADDR, HK_ZERO, HK_CROSS, HK_HUGE, HK_LONG) = range(11)
EV_ENABLE, EV_DISABLE, EV_DESC = 0, 1, 2
PK_AVAIL, PK_USED = 1 << 7, 1 << 15


def pk_features(*names):
    return sum(1 << PK_FEATURES.index(n) for n in names)


def pk_base(pos=0, wrap=1, half=True, used=None, uwrap=1, raw=None):
    """SET_VRING_BASE: avail half only (DPDK), both halves (QEMU), the used
    position elsewhere, or a raw 32-bit value."""
    if raw is not None:
        return bytes([3]) + struct.pack("<HH", raw & 0xffff, raw >> 16)
    w = 0 if wrap else 4
    if used is not None:
        return bytes([2 | w | (8 if uwrap else 0)]) + struct.pack("<HH", pos,
                                                                  used)
    return bytes([(0 if half else 1) | w]) + struct.pack("<H", pos)


def pk_ring(size=8, flags=0, base=None, hostile=None):
    """size: 1..1024 in the ring's slot in A, more in L; hostile: (d, e1,
    e2) addresses A + 8d, A + 2e1, A + 2e2."""
    cls = 0 if size <= 16 else 1 if size <= 256 else 2 if size <= 1024 else 3
    out = bytes([cls | flags | (0xc0 if hostile else 0)])
    out += struct.pack("<H", size - 1)
    if hostile:
        out += struct.pack("<HHH", *hostile)
    return out + (base if base is not None else pk_base())


def pk_setup(features=("VERSION_1",), offloads=0, no_b=False, two_qp=False,
             log=0, rings=None):
    if rings is None:
        rings = [pk_ring(), pk_ring()] * (2 if two_qp else 1)
    return (bytes([offloads | (0x10 if no_b else 0) | (0x20 if two_qp else 0)])
            + struct.pack("<HB", pk_features(*features), log) +
            b"".join(rings))


def pk_post(ring, segs, auto=True, indirect=False, hostile=None, defer=False,
            tmpl=T_V4TCP, hmode=H_ZERO, fill=0, gso=0, raw_hdr=b"", bid=0,
            itab=None):
    """A chain at the driver's next position: segs are lengths (auto: the
    ring's buffers and next id) or (gpa, len); hostile = (kind, param)."""
    if hostile is not None and hostile[0] == HK_INDIRECT:
        indirect = True
    b = (ring | (len(segs) - 1) << 2 | (0x10 if indirect else 0) |
         (0x20 if hostile is not None else 0) | (0x40 if defer else 0) |
         (0x80 if auto else 0))
    out = bytes([P_POST, b, tmpl | hmode << 2 | (fill & 0xf) << 4])
    if not auto:
        out += struct.pack("<H", bid)
    for seg in segs:
        if auto:
            out += struct.pack("<H", seg)
        else:
            out += gpa_field(seg[0]) + struct.pack("<H", seg[1])
    if indirect and not auto:
        out += gpa_field(itab)
    if hmode == H_GSO:
        out += struct.pack("<H", gso)
    elif hmode == H_RAW:
        out += raw_hdr.ljust(12, b"\0")[:12]
    if hostile is not None:
        out += bytes([hostile[0]]) + struct.pack("<H", hostile[1])
    return out


def pk_desc(ring, addr, n, flags, bid=0, pos=0, at=None, make_avail=False):
    out = bytes([P_DESC, ring | (4 if at is not None else 0) |
                 (8 if make_avail else 0)])
    out += gpa_field(at) if at is not None else struct.pack("<H", pos)
    return out + gpa_field(addr) + struct.pack("<IHH", n, bid, flags)


def pk_event(ring, flags, off=0, wrap=0):
    return bytes([P_EVENT, ring]) + struct.pack("<HH", off | wrap << 15,
                                                flags)


def pk_publish(ring):
    return bytes([P_PUBLISH, ring])


def pk_deq(k=32, qp=0, tiny=False, hold=0):
    """tiny: from the 16-mbuf pool, hold of them kept meanwhile."""
    out = bytes([P_DEQ, qp | (2 if tiny else 0) | (k - 1) << 2])
    return out + (bytes([hold]) if tiny else b"")


def pk_enq(*pkts, qp=0):
    return bytes([P_ENQ, qp | (len(pkts) - 1) << 1]) + b"".join(pkts)


def pk_restart(ring, mode=0, low_half=False, size=None, base=None,
               reinit=False):
    """mode 0: GET + SET (what it returned) + KICK; 1: GET; 2: KICK;
    3: GET + new base and size (+ the driver's reset) + KICK."""
    b = ring | mode << 2 | (0x10 if reinit else 0) | (0x20 if low_half else 0)
    out = bytes([P_RESTART, b])
    if mode == 3:
        out += struct.pack("<H", size - 1) + base
    return out


def pk_enable(ring, on, call=None):
    b = ring | (4 if on else 0)
    if call is not None:
        b |= 8 | (0x10 if call else 0)
    return bytes([P_ENABLE, b])


def pk_set_features(*names, try_split=False):
    return bytes([P_FEATURES]) + struct.pack("<HB", pk_features(*names),
                                             1 if try_split else 0)


def pk_repeat(n, op):
    """One operation (not a sequence: a REPEAT in it repeats nothing)."""
    return bytes([P_REPEAT, n - 1]) + op


def pk_log(size, ring=None, log_used=False):
    """The log's size; ring: SET_VRING_ADDR again, VHOST_VRING_F_LOG or
    not."""
    b = 0 if ring is None else ring | 4 | (8 if log_used else 0)
    return bytes([P_LOG, size, b])


def pk_mem(no_b):
    return bytes([P_MEM, 1 if no_b else 0])


def pk_write(gpa, data):
    return bytes([P_WRITE]) + gpa_field(gpa) + bytes([len(data)]) + data


def pk_traffic(features, hdr, size, two_qp=False):
    """Well-formed traffic both ways on each queue pair."""
    out = b""
    mrg = "MRG_RXBUF" in features
    for qp in range(2 if two_qp else 1):
        rx, tx = 2 * qp, 2 * qp + 1
        out += pk_post(tx, [hdr + 60]) + pk_post(tx, [hdr, 200, 1000]) + \
            pk_post(tx, [hdr + 1400], tmpl=T_V6TCP)
        if "INDIRECT_DESC" in features:
            out += pk_post(tx, [hdr, 40, 500], indirect=True) + \
                pk_post(rx, [hdr, 1500], indirect=True)
        out += pk_post(rx, [2048]) + pk_post(rx, [hdr, 100, 1900])
        out += pk_post(rx, [1024] if mrg else [2048])
        out += pk_post(rx, [1024] if mrg else [2048])
        out += pk_deq(qp=qp) + pk_enq(r_pkt(60), r_pkt(1500, segs=2),
                                      r_pkt(1800 if mrg else 900), qp=qp)
        # Round again: past the end of a ring of `size`.
        out += pk_repeat(3, pk_post(tx, [hdr + 100, 100])) + pk_deq(qp=qp)
        out += pk_repeat(3, pk_post(rx, [1536])) + \
            pk_enq(r_pkt(100), r_pkt(1400), qp=qp)
    return out


def packed_seeds():
    seeds = {}
    # Well-formed traffic both ways for every combination of the ring
    # features (non-power-of-two rings, a call fd, events asked for).
    ring_feats = ["INDIRECT_DESC", "EVENT_IDX", "IN_ORDER", "MRG_RXBUF",
                  "VERSION_1"]
    for sel in range(1 << len(ring_feats)):
        feats = tuple(f for i, f in enumerate(ring_feats) if sel & 1 << i)
        hdr = 12 if ("VERSION_1" in feats or "MRG_RXBUF" in feats) else 10
        size = (13, 24, 100, 7)[sel % 4]
        rings = [pk_ring(size, PK_CALL), pk_ring(size + 3, PK_CALL)]
        ev = b""
        if "EVENT_IDX" in feats:
            ev = pk_event(0, EV_DESC, off=2, wrap=1) + \
                pk_event(1, EV_DESC, off=1, wrap=1)
        name = "traffic-" + ("-".join(f.lower().replace("_", "")
                                      for f in feats) or "none")
        seeds[name] = pk_setup(feats, rings=rings) + ev + \
            pk_traffic(feats, hdr, size)

    v1 = ("VERSION_1",)
    mrg = ("VERSION_1", "MRG_RXBUF", "EVENT_IDX", "PROTOCOL_FEATURES")
    # Two queue pairs, multiqueue.
    seeds["two-queue-pairs"] = pk_setup(
        mrg + ("MQ",), two_qp=True,
        rings=[pk_ring(9, PK_CALL), pk_ring(10), pk_ring(33), pk_ring(5)]) + \
        pk_traffic(mrg, 12, 9, two_qp=True)
    # Sizes 1 and 2: every descriptor wraps.
    seeds["size-1-and-2"] = pk_setup(v1, rings=[pk_ring(1), pk_ring(2)]) + \
        (pk_post(1, [12 + 60]) + pk_deq()) * 5 + \
        (pk_post(0, [2048]) + pk_enq(r_pkt(60))) * 5
    # Wrap-around: chains across the end, several laps, the used flags of
    # the last lap left in the ring.
    seeds["wrap-around"] = pk_setup(("VERSION_1", "EVENT_IDX"),
                                    rings=[pk_ring(5, PK_CALL),
                                           pk_ring(7, PK_CALL)]) + \
        pk_event(1, EV_DESC, off=3, wrap=0) + \
        (pk_post(1, [12, 30, 100]) + pk_post(1, [12 + 50]) +
         pk_deq()) * 12 + \
        (pk_post(0, [12, 2000]) + pk_post(0, [1000]) +
         pk_enq(r_pkt(1000), r_pkt(900))) * 12
    # Start at the end of the ring with the wrap counter 0.
    seeds["start-last-position"] = pk_setup(
        v1, rings=[pk_ring(6, base=pk_base(5, wrap=0)),
                   pk_ring(6, base=pk_base(5, wrap=0, half=False))]) + \
        pk_repeat(4, pk_post(1, [12 + 64, 64])) + pk_deq() + \
        pk_repeat(4, pk_post(0, [1600])) + pk_enq(r_pkt(60), r_pkt(61))
    # 32768 descriptors: positions next to 15 bits' end.
    seeds["size-32768"] = pk_setup(
        ("VERSION_1", "EVENT_IDX"),
        rings=[pk_ring(32768, PK_CALL, base=pk_base(32766)),
               pk_ring(32768, PK_CALL, base=pk_base(32765, wrap=0))]) + \
        pk_event(0, EV_DESC, off=0, wrap=0) + \
        pk_repeat(3, pk_post(1, [12, 60])) + pk_deq() + \
        pk_repeat(3, pk_post(0, [1600])) + pk_enq(r_pkt(60), r_pkt(61)) + \
        pk_restart(1) + pk_restart(0) + pk_post(1, [12 + 70]) + pk_deq()
    # Restarts: positions kept (both base halves, then the avail half
    # only), a new base and size with the driver's reset, stop + start.
    traffic = pk_post(1, [12 + 60]) + pk_post(0, [2048]) + pk_deq() + \
        pk_enq(r_pkt(60))
    seeds["restart"] = pk_setup(("VERSION_1", "PROTOCOL_FEATURES"),
                                rings=[pk_ring(11), pk_ring(11)]) + \
        traffic + pk_restart(1) + pk_restart(0) + traffic + \
        pk_restart(1, low_half=True) + pk_restart(0, low_half=True) + \
        traffic + \
        pk_restart(1, 3, size=20, base=pk_base(17, wrap=0), reinit=True) + \
        pk_restart(0, 3, size=3, base=pk_base(2, half=False), reinit=True) + \
        traffic + traffic + pk_restart(1, 1) + pk_post(1, [12 + 80]) + \
        pk_deq() + pk_restart(1, 2) + pk_deq() + \
        pk_enable(1, False) + pk_post(1, [12 + 90]) + pk_deq() + \
        pk_enable(1, True) + pk_post(0, [100], hostile=(HK_ZERO, 0)) + \
        pk_enq(r_pkt(60))
    # In-order: a TX burst's buffers come back as one used descriptor
    # (the last id), the event asked for inside the batch.
    seeds["in-order-batch"] = pk_setup(
        ("VERSION_1", "IN_ORDER", "EVENT_IDX", "INDIRECT_DESC"),
        rings=[pk_ring(16, PK_CALL), pk_ring(16, PK_CALL)]) + \
        pk_event(1, EV_DESC, off=4, wrap=1) + \
        pk_post(1, [12 + 60]) + pk_post(1, [12, 100, 200, 300]) + \
        pk_post(1, [12, 60], indirect=True) + pk_post(1, [12 + 500, 40]) + \
        pk_post(1, [12 + 60]) + pk_deq() + \
        pk_repeat(10, pk_post(1, [12 + 61])) + pk_deq(k=4) + pk_deq() + \
        pk_repeat(6, pk_post(0, [1024])) + \
        pk_enq(r_pkt(100), r_pkt(2000, segs=2), r_pkt(60))
    # Batches: heads made available only when the driver publishes them
    # (last first), the device stopping at the first one held back.
    seeds["deferred-heads"] = pk_setup(v1, rings=[pk_ring(8), pk_ring(8)]) + \
        pk_post(1, [12 + 60], defer=True) + pk_post(1, [12 + 61]) + \
        pk_deq() + pk_publish(1) + pk_deq() + \
        pk_post(0, [1600], defer=True) + pk_post(0, [1600]) + \
        pk_enq(r_pkt(60)) + pk_publish(0) + pk_enq(r_pkt(60), r_pkt(70))
    # Indirect tables both ways, mergeable.
    seeds["indirect"] = pk_setup(("VERSION_1", "INDIRECT_DESC", "MRG_RXBUF"),
                                 rings=[pk_ring(4), pk_ring(4)]) + \
        pk_repeat(4, pk_post(1, [12, 100, 1000, 2000], indirect=True)) + \
        pk_deq() + \
        pk_repeat(4, pk_post(0, [12, 300, 400, 500], indirect=True)) + \
        pk_enq(r_pkt(3000, segs=3), r_pkt(100))
    # Offloads: TX partial checksums and GSO, RX offload requests.
    seeds["offloads"] = pk_setup(
        ("VERSION_1", "MRG_RXBUF", "CSUM", "HOST_TSO4", "HOST_TSO6",
         "GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6"), offloads=0xf,
        rings=[pk_ring(64), pk_ring(64)]) + \
        pk_post(1, [12 + 800], hmode=H_CSUM) + \
        pk_post(1, [12 + 4000], hmode=H_GSO, gso=1400) + \
        pk_post(1, [12 + 300], tmpl=T_V4UDP, hmode=H_CSUM) + \
        pk_post(1, [12, 3000], tmpl=T_V6TCP, hmode=H_GSO, gso=1000) + \
        pk_post(1, [12 + 800], hmode=H_RAW,
                raw_hdr=bytes([1, 0x81, 54, 0, 0x78, 5, 34, 0, 16, 0])) + \
        pk_deq() + pk_repeat(8, pk_post(0, [8192])) + \
        pk_enq(r_pkt(9000, segs=5, ol=(OL_TCP_SEG | OL_TCP | OL_IPV4 |
                                       OL_IP_CKSUM, AUTO, AUTO, AUTO, 1400)),
               r_pkt(600, tmpl=T_V4UDP, ol=(OL_UDP | OL_IPV4, AUTO, AUTO,
                                            AUTO, 0)),
               r_pkt(80, ol=(OL_IP_CKSUM | OL_IPV4 | OL_RX_GOOD, AUTO, AUTO,
                             AUTO, 0)))
    # Dirty log: buffers and used descriptors (in the descriptor ring).
    seeds["dirty-log"] = pk_setup(("VERSION_1", "LOG_ALL"), log=128,
                                  rings=[pk_ring(10, PK_LOG_USED),
                                         pk_ring(10, PK_LOG_USED)]) + \
        traffic + pk_log(20) + traffic + pk_log(128, ring=1, log_used=False) + \
        traffic + pk_log(128, ring=1, log_used=True) + traffic + \
        pk_set_features("VERSION_1") + traffic
    # Memory tables replaced under running rings: buffers in B go invalid
    # without it; a table that would unmap a started ring is refused.
    seeds["memory-tables"] = pk_setup(("VERSION_1", "MRG_RXBUF"), rings=[
        pk_ring(8), pk_ring(8), ]) + \
        pk_post(1, [(GPA_B + 0x100, 12 + 60)], auto=False) + pk_mem(True) + \
        pk_deq() + pk_mem(False) + traffic + \
        pk_post(0, [(GPA_B + 0x1000, 2048)], auto=False) + pk_mem(True) + \
        pk_enq(r_pkt(60)) + pk_mem(False) + traffic
    seeds["memory-table-refused"] = pk_setup(v1, rings=[
        pk_ring(8, hostile=(0x8000, 0x8000 + 0x1000, 0x8000 + 0x1002)),
        pk_ring(8)]) + traffic + pk_mem(True) + traffic + pk_mem(False) + \
        pk_restart(0, 1) + pk_mem(True) + traffic
    # Features changed under running rings; the format may not change.
    seeds["features-running"] = pk_setup(v1) + traffic + \
        pk_set_features("VERSION_1", "MRG_RXBUF", try_split=True) + \
        traffic + pk_set_features(try_split=True) + traffic + \
        pk_restart(0, 1) + pk_restart(1, 1) + \
        pk_set_features("VERSION_1", try_split=True) + pk_restart(0, 2) + \
        pk_restart(1, 2) + traffic
    # More than a burst can keep: 1300 12-byte buffers for two 9000-byte
    # packets (751 buffers each) on a ring of 2000 in L.
    seeds["used-shadow-full"] = pk_setup(
        ("VERSION_1", "MRG_RXBUF"),
        rings=[pk_ring(2000), pk_ring(8)]) + \
        pk_repeat(256, pk_post(0, [12])) * 5 + \
        pk_enq(r_pkt(9000, segs=5), r_pkt(9000, segs=5)) + \
        pk_repeat(256, pk_post(0, [12])) + pk_enq(r_pkt(9000, segs=5))
    # A RARP after migration; mbufs running out in the 16-mbuf pool.
    seeds["rarp-tiny-pool"] = pk_setup(v1, rings=[pk_ring(64), pk_ring(64)]) + \
        bytes([P_RARP]) + bytes.fromhex("020000000042") + \
        pk_repeat(20, pk_post(1, [12 + 60])) + pk_deq(k=64, tiny=True) + \
        pk_post(1, [12, 20000, 20000]) + pk_post(1, [12 + 5000]) + \
        pk_deq(k=2, tiny=True) + pk_deq(k=1)
    # The RARP's mbuf and the burst's when the pool is empty or nearly.
    seeds["pool-held"] = pk_setup(v1, rings=[pk_ring(32), pk_ring(32)]) + \
        bytes([P_RARP]) + bytes.fromhex("020000000043") + \
        pk_post(1, [12 + 60]) + pk_deq(tiny=True, hold=16) + pk_deq(k=1) + \
        pk_post(1, [12 + 60]) + pk_post(1, [12, 9000]) + \
        pk_deq(tiny=True, hold=13) + pk_post(1, [12, 9000]) + \
        pk_deq(tiny=True, hold=8)
    # Chains of more pieces than a chain may have (128): 150 descriptors,
    # a 200-entry table, and one that never ends.
    seeds["hostile-long-chain"] = pk_setup(
        ("VERSION_1", "INDIRECT_DESC"), rings=[pk_ring(256), pk_ring(256)]) + \
        pk_post(1, [20], hostile=(HK_LONG, 149)) + pk_post(1, [12 + 60]) + \
        pk_post(1, [20], indirect=True, hostile=(HK_LONG, 199)) + \
        pk_post(1, [12, 60]) + pk_deq() + \
        pk_post(0, [20], hostile=(HK_LONG, 149)) + pk_post(0, [2048]) + \
        pk_post(0, [20], indirect=True, hostile=(HK_LONG, 199)) + \
        pk_post(0, [2048]) + pk_enq(r_pkt(60), r_pkt(100)) + \
        pk_post(1, [20], hostile=(HK_LONG, 299)) + pk_deq()
    # An invalid chain just when the burst's used entries are full: the
    # packet gives back what it took, the burst ends.
    seeds["bad-chain-shadow-full"] = pk_setup(
        ("VERSION_1", "MRG_RXBUF"), rings=[pk_ring(2000), pk_ring(8)]) + \
        pk_repeat(256, pk_post(0, [12])) * 4 + \
        pk_post(0, [12], hostile=(HK_ADDR, 0)) + \
        pk_enq(r_pkt(9000, segs=5), r_pkt(9000, segs=5)) + \
        pk_enq(r_pkt(60))
    # Hostile: each kind of bad chain, both ways, then good ones (a ring
    # that is not broken keeps flowing).
    for kind, name in enumerate(["head-used", "head-old", "id-out-of-range",
                                 "endless-chain", "wrong-direction",
                                 "bad-indirect", "bad-address", "zero-length",
                                 "across-regions", "huge-length"]):
        params = [0, 0x101] if kind != HK_INDIRECT else range(8)
        ops = b""
        for param in params:
            ops += pk_post(1, [12 + 60, 100], hostile=(kind, param)) + \
                pk_post(1, [12 + 60]) + pk_deq() + \
                pk_post(0, [1000, 1000], hostile=(kind, param)) + \
                pk_post(0, [2048]) + pk_enq(r_pkt(60), r_pkt(1500))
        seeds["hostile-" + name] = pk_setup(
            ("VERSION_1", "INDIRECT_DESC", "MRG_RXBUF"), no_b=(kind == HK_CROSS),
            rings=[pk_ring(12), pk_ring(12)]) + ops + \
            pk_restart(0) + pk_restart(1) + traffic
    # Sixteen invalid chains break a ring; a restart mends it.
    seeds["bad-chains-break"] = pk_setup(v1, rings=[pk_ring(40), pk_ring(40)]) + \
        pk_repeat(17, pk_post(1, [12 + 60], hostile=(HK_ADDR, 0))) + \
        pk_deq(k=64) + pk_repeat(17, pk_post(0, [100],
                                             hostile=(HK_ADDR, 0))) + \
        pk_enq(r_pkt(60)) + pk_restart(1) + pk_restart(0) + traffic
    # Raw descriptors anywhere in the ring, made available or not.
    seeds["raw-descriptors"] = pk_setup(("VERSION_1", "INDIRECT_DESC"),
                                        rings=[pk_ring(6), pk_ring(6)]) + \
        pk_desc(1, GPA_A + 0x31000, 100, 0x0, bid=1, make_avail=True) + \
        pk_desc(1, GPA_A + 0x31000, 100, F_NEXT, bid=2, pos=1,
                make_avail=True) + \
        pk_desc(1, GPA_A + 0x32000, 16, F_INDIRECT, bid=3, pos=2,
                make_avail=True) + \
        pk_desc(1, GPA_A + 0x31000, 200, 0, at=GPA_A + 0x32000) + \
        pk_deq() + \
        pk_desc(0, GPA_A + 0x11000, 2000, F_WRITE, bid=5, make_avail=True) + \
        pk_desc(0, GPA_A + 0x12000, 2000, F_WRITE | PK_AVAIL | PK_USED,
                bid=5, pos=1) + \
        pk_enq(r_pkt(60), r_pkt(60))
    # Bases: positions past the ring (refused), used apart from avail,
    # a raw value; a ring at addresses that do not translate.
    seeds["bad-bases"] = pk_setup(v1, rings=[
        pk_ring(8, base=pk_base(raw=0x00090009)),
        pk_ring(8, base=pk_base(2, used=5, uwrap=0))]) + \
        traffic + pk_restart(0, 3, size=8, base=pk_base(raw=0x80038003)) + \
        traffic + pk_restart(0, 3, size=4, base=pk_base(raw=0x00050001)) + \
        pk_restart(1, 3, size=8, base=pk_base(1, used=6)) + traffic
    seeds["hostile-ring-addresses"] = pk_setup(v1, rings=[
        pk_ring(8, hostile=(0x2000 + 1, 0x8000, 0x8004)),
        pk_ring(8, hostile=(0x0100, 0x0802, 0x0804))]) + traffic
    # The driver event area: off beyond the ring, a wrap that never comes,
    # reserved flags, notifications disabled.
    seeds["events"] = pk_setup(("VERSION_1", "EVENT_IDX"),
                               rings=[pk_ring(6, PK_CALL),
                                      pk_ring(6, PK_CALL)]) + \
        pk_event(1, EV_DESC, off=100) + traffic + \
        pk_event(1, EV_DESC, off=1, wrap=0) + traffic + \
        pk_event(1, 3) + traffic + pk_event(1, EV_DISABLE) + traffic + \
        pk_event(0, EV_ENABLE) + pk_enable(0, True, call=False) + traffic
    # RX buffers over the ring's own descriptors and over each other.
    seeds["rx-over-ring"] = pk_setup(("VERSION_1", "MRG_RXBUF"),
                                     rings=[pk_ring(4), pk_ring(4)]) + \
        pk_post(0, [(GPA_A, 256)], auto=False) + \
        pk_post(0, [(GPA_A + 0x11000, 512)], auto=False, bid=1) + \
        pk_post(0, [(GPA_A + 0x11100, 512)], auto=False, bid=2) + \
        pk_enq(r_pkt(1000))
    return seeds


TARGETS = {
    "fuzz_devargs": lambda: {k: v.encode() for k, v in devargs_seeds().items()},
    "fuzz_memtable": memtable_seeds,
    "fuzz_msg": msg_seeds,
    "fuzz_packed": packed_seeds,
    "fuzz_ring": ring_seeds,
}


def main(names):
    for name in names or sorted(TARGETS):
        if name not in TARGETS:
            sys.exit(f"gen-corpus.py: unknown target {name} "
                     f"(known: {', '.join(sorted(TARGETS))})")
        out = os.path.join(HERE, "corpus", name)
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):
            if f.startswith("seed-"):
                os.remove(os.path.join(out, f))
        seeds = TARGETS[name]()
        for seed, data in seeds.items():
            with open(os.path.join(out, "seed-" + seed), "wb") as f:
                f.write(data)
        print(f"{name}: {len(seeds)} seeds in {os.path.relpath(out)}")


if __name__ == "__main__":
    main(sys.argv[1:])

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ring: what a guest controls on the datapath. Split virtqueues in
 * guest memory -- descriptor tables, indirect tables, the avail ring, the
 * used ring's index and flags, buffer bytes and virtio-net headers -- fed
 * to vhu_dequeue_burst() (guest TX -> mbufs) and vhu_enqueue_burst()
 * (mbufs -> guest RX) of lib/vhu, with the guest rewriting any of it
 * between bursts, and the control plane stopping, restarting, enabling
 * and re-featuring the rings in between.
 *
 * The device comes from vhu_dev_create() (no socket, no control thread)
 * and is set up by lib/vhu's own message handlers, as a front-end's
 * messages would (SET_OWNER, SET_FEATURES, SET_VRING_NUM/ADDR/BASE/
 * ENABLE/KICK, GET_VRING_BASE, SEND_RARP), each followed by
 * vhu_vring_publish() of the rings the request table pauses. Nothing runs
 * concurrently, so no hold/quiesce is needed. Queue pair 0: ring 0 is the
 * guest's RX ring (enqueue), ring 1 its TX ring (dequeue).
 *
 * Guest memory (guest-physical; front-end VA = GPA + FE_VA_OFF):
 *   A 0x100000 +256 KiB  memfd 1: ring 0 at +0 (desc +0, avail +0x1000,
 *                        used +0x1400), ring 1 at +0x2000; buffers above
 *   B 0x140000 +64 KiB   memfd 2: right after A, so a buffer can cross
 *   (gap of 64 KiB)
 *   S 0x160000 +4 KiB    memfd 2 at 64 KiB: one page after the gap
 * The device's table holds A and B, or A and S (the input says). The
 * memfds are mapped once: a template table of all three regions is built
 * in LLVMFuzzerInitialize, and each input's table is the template less
 * one region (vhu_mem_table_remove(): shares the mappings, no syscall).
 * Only guest pages an input wrote (or the device may have written) are
 * zeroed before the next input.
 *
 * Input (little-endian; zeros past the end):
 *   u8  cfg: bits 0-3 VHU_OFFLOAD_* of the device; bit 4: A+S, not A+B;
 *       bit 6: VHU_OFFLOAD_DEQUEUE_RX_FLAGS
 *   u16 features: a bit per entry of feature_bits[] (masked by what the
 *       device offers)
 *   u8  dirty log bytes % 49 (0: no log; 48 cover all of guest memory)
 *   ring 0, ring 1: u8 r, u16 base. r bits 0-3: log2 size % 9 (1..256);
 *       4: disabled; 5: not started; 6: a call eventfd; 7: VHOST_VRING_F_LOG
 * then operations until the input ends, each u8 op % OP_COUNT:
 *   WRITE    gpa, u8 n, n bytes: the guest writes its memory
 *   DESC     u8 b (ring, form), [u8 index | gpa], gpa addr, u32 len,
 *            u16 flags, u16 next: one descriptor, in the ring's table or
 *            anywhere (indirect tables)
 *   AVAIL    u8 b (ring, what), value: avail idx += u8 / = u16, flags,
 *            used_event, or one ring entry
 *   POST     u8 b, u8 head, segments (u16 offset / 8, u16 len each),
 *            [u16 indirect table offset / 8], [u16 gso_size | 12 header
 *            bytes], u8 more: a chain the way a driver builds one (for TX
 *            with a virtio-net header and an Ethernet/IP/TCP-or-UDP
 *            packet in it), made available unless told not to; head 0xff:
 *            the next free head, buffers after the last auto ones
 *   DEQ      u8 b: vhu_dequeue_burst() of 1..64, big or tiny mempool
 *            (bit 7: first from queue pair 1 and of 0 packets)
 *   ENQ      u8 b, then per packet u16 len, u8 shape [, offload bytes]
 *            [, u8 n, n (offset, byte) pokes]: vhu_enqueue_burst() of
 *            1..64 mbufs of 14..9000 bytes, 1..8 segments, with TX offload
 *            flags and lengths from the input (bit 7 as for DEQ)
 *   RESTART  u8 b [, u16 base, u8 log2 size]: GET_VRING_BASE and/or
 *            SET_VRING_BASE / NUM and SET_VRING_KICK
 *   ENABLE   u8 b: SET_VRING_ENABLE; the call eventfd on or off
 *   FEATURES u16: SET_FEATURES on running rings
 *   LOG      u8: the dirty log's size (0: none)
 *   RARP     6 bytes: SEND_RARP
 *   USED     u8 ring, u16 idx, u16 flags: the guest scribbles on the
 *            device's used ring
 *   REPEAT   u8 n, then an operation: decoded n + 1 times from the same
 *            bytes (100 auto POSTs; bursts at most 16 times)
 * (gpa: u8 form, then u16 (GPA of A + 8 * u16), u24 (A + any byte) or a
 * raw u64.)
 *
 * Checked after every operation (VHU_FUZZ_CHECK aborts):
 *  - every ring: its view's mode is what vhu_vring_derive_mode() says,
 *    and while started, last_used_idx - last_avail_idx is what it was at
 *    the start (each consumed head gives exactly one used entry); no ring
 *    counter ever decreases;
 *  - a burst on a stopped, broken (or, to enqueue, disabled) ring returns
 *    0 and changes nothing; an avail index more than the ring size ahead
 *    breaks the ring and consumes nothing;
 *  - a burst consumes at most what the guest made available, in avail
 *    order; every head it consumed is < the ring size and comes back in
 *    the used ring with its id at the position the device consumed it;
 *    used->idx is published; the call eventfd is written exactly when the
 *    guest asked (EVENT_IDX's used_event or NO_INTERRUPT);
 *  - each chain is walked here too, by a model of the rules in
 *    doc/datapath.md ("The guest is untrusted"), over this file's own
 *    mapping of the memfds:
 *    dequeue: returns <= k mbufs (a RARP first when one was pending);
 *    each passes rte_mbuf_check(), has pkt_len <= 64 KiB + header, comes
 *    from the mempool asked, carries no ol_flags unless a VHU_OFFLOAD_DEQ
 *    bit asked, and holds exactly the payload of a valid chain consumed
 *    in this burst, in order (but for a partial checksum's 2 bytes),
 *    whose header asks for those flags (TSO: its GSO type and size; a
 *    checksum: NEEDS_CSUM at l2 + l3); TX used lengths are 0;
 *    drop_bad_desc counts exactly the invalid and too-short chains and
 *    bad offloads; every consumed head is a packet, a drop or an mbuf
 *    shortage;
 *    enqueue: returns <= k; an invalid chain is used with length 0 and
 *    counted; a used length never exceeds the chain's writable bytes;
 *    each packet in the guest has its mbuf's bytes (but for offload
 *    checksum fields), in order, a zero header for plain packets and
 *    num_buffers right, every buffer but a packet's last filled up; the
 *    mbufs are unchanged; packets + drops add up to the return value;
 *    with a dirty log, every guest page written (buffers, used ring when
 *    VHOST_VRING_F_LOG) is marked, and without one nothing is.
 *    When a guest RX buffer overlaps another or the ring's own
 *    structures, the device's writes change what it reads next: then
 *    only the checks that hold whatever it wrote are made.
 *    (A TX packet lying in its ring's used ring is written by the
 *    burst after the copy: its bytes are then not compared.)
 *  - at the end of each input vhu_dev_reset() + vhu_dev_destroy() leave
 *    every mbuf back in its mempool and the template's mappings with one
 *    reference (LeakSanitizer covers malloc).
 *
 * VHU_FUZZ_RING_TRACE=1 prints what each burst did (to read a seed or a
 * finding).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vhu.h"
#include "vhu_bufvec.h"
#include "vhu_dev.h"
#include "vhu_features.h"
#include "vhu_fuzz.h"
#include "vhu_mem.h"
#include "vhu_msg.h"
#include "vhu_offload.h"
#include "vhu_vring.h"

/* The checks and the model of the walker: no coverage feedback
 * (vhu_fuzz.h). */
#define NOCOV VHU_FUZZ_NOCOV

/* ---- guest memory ---- */

#define GPA_A 0x100000ULL
#define SIZE_A 0x40000ULL
#define GPA_B (GPA_A + SIZE_A)
#define SIZE_B 0x10000ULL
#define GPA_S (GPA_B + SIZE_B + 0x10000ULL)
#define SIZE_S 0x1000ULL
#define GUEST_SPAN (GPA_S + SIZE_S - GPA_A)
#define FE_VA_OFF 0x7f0000000000ULL
#define PAGE_SZ 4096ULL
#define NPAGES (GUEST_SPAN / PAGE_SZ)

/* Ring r's structures in A. Room for 256 descriptors each. */
#define RING_STRIDE 0x2000ULL
#define RING_AVAIL_OFF 0x1000ULL
#define RING_USED_OFF 0x1400ULL
#define RING_MAX 256
#define RX 0 /* guest RX: enqueue */
#define TX 1 /* guest TX: dequeue */

/* 48 bytes of log cover every page up to the end of S. */
#define LOG_MAX 48

#define BURST_MAX 64
#define PKT_MAX (VHU_CHAIN_MAX_BYTES + 16)
#define POOL_SIZE 4095
#define TINY_POOL_SIZE 16

enum op {
	OP_WRITE,
	OP_DESC,
	OP_AVAIL,
	OP_POST,
	OP_DEQ,
	OP_ENQ,
	OP_RESTART,
	OP_ENABLE,
	OP_FEATURES,
	OP_LOG,
	OP_RARP,
	OP_USED,
	OP_REPEAT,
	OP_COUNT
};

/* The features an input picks from, a bit each. */
static const unsigned int feature_bits[16] = {
	VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF,
	VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX, VHOST_F_LOG_ALL,
	VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4,
	VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO4,
	VIRTIO_NET_F_GUEST_TSO6, VHU_F_PROTOCOL_FEATURES, VIRTIO_F_IN_ORDER,
	VIRTIO_F_ANY_LAYOUT, VIRTIO_NET_F_MTU, VIRTIO_NET_F_GUEST_ANNOUNCE,
};

struct greg {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;  /* this file's own mapping */
};

/* A chain as the model walked it. */
struct mchain {
	bool ok;
	uint16_t nbufs;
	uint32_t total;       /* bytes, capped as the device caps them */
	uint64_t itab_gpa;    /* indirect table read, if itab_len */
	uint64_t itab_len;
	struct vhu_fuzz_piece bufs[VHU_BUFVEC_MAX];
};

/* A GPA range for the overlap check of an enqueue burst. */
struct span {
	uint64_t start;
	uint64_t end;
	bool write;
};

static struct {
	/* Once per process. */
	struct rte_mempool *pool;
	struct rte_mempool *tiny;
	int efd;
	struct greg all[3];            /* A, B, S */
	struct vhu_mem_table *tmpl;    /* A, B, S mapped by lib/vhu */
	uint64_t dirty[(NPAGES + 63) / 64];
	uint8_t log[LOG_MAX];

	bool trace;                    /* VHU_FUZZ_RING_TRACE set */

	/* Per input. */
	struct vhu_device *dev;
	struct greg mregs[2];          /* the device's table, sorted */
	unsigned int nmregs;
	uint16_t lockstep[2];          /* last_used - last_avail at start */
	struct vhu_ring_stats stats[2];
	uint16_t auto_head[2];         /* POST's next head in auto mode */
	uint64_t auto_off[2];          /* ... and its buffers' offset */
	bool aliased;                  /* an enqueue wrote what it reads */
	bool tx_aliased;               /* a TX packet lies in the used ring */

	/* Scratch. */
	struct mchain chains[RING_MAX];
	uint16_t heads[RING_MAX];
	struct span spans[RING_MAX * (VHU_BUFVEC_MAX + 1) + 4];
	struct rte_mbuf *pkts[BURST_MAX + 1];
	struct vhu_fuzz_pktinfo info[BURST_MAX];
	uint8_t gbuf[PKT_MAX];
	uint8_t mbuf_flat[PKT_MAX];
} S;

/* ---- guest memory access ---- */

/* This file's pointer to gpa in any of A, B, S; *len clipped to the
 * region's end. NULL outside them. */
static NOCOV uint8_t *
guest_host(uint64_t gpa, uint64_t *len)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(S.all); i++) {
		const struct greg *r = &S.all[i];

		if (gpa - r->gpa < r->size) {
			*len = RTE_MIN(*len, r->size - (gpa - r->gpa));
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

/* The same, but only in the regions of the device's table. */
static NOCOV uint8_t *
model_host(uint64_t gpa, uint64_t *len)
{
	unsigned int i;

	for (i = 0; i < S.nmregs; i++) {
		const struct greg *r = &S.mregs[i];

		if (gpa - r->gpa < r->size) {
			*len = RTE_MIN(*len, r->size - (gpa - r->gpa));
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

static NOCOV void
mark_dirty(uint64_t gpa, uint64_t len)
{
	uint64_t first, last, p;

	if (len == 0 || gpa >= GPA_A + GUEST_SPAN || gpa + len <= GPA_A ||
	    gpa > UINT64_MAX - len)
		return;
	first = (RTE_MAX(gpa, GPA_A) - GPA_A) / PAGE_SZ;
	last = (RTE_MIN(gpa + len, GPA_A + GUEST_SPAN) - 1 - GPA_A) / PAGE_SZ;
	for (p = first; p <= last; p++)
		S.dirty[p / 64] |= 1ULL << (p % 64);
}

static void
mark_all_dirty(void)
{
	mark_dirty(GPA_A, GUEST_SPAN);
}

/* Zero the pages the last input may have changed. */
static NOCOV void
clean_guest(void)
{
	uint64_t p;

	for (p = 0; p < NPAGES; p++) {
		uint64_t len = PAGE_SZ;
		uint8_t *h;

		if (!(S.dirty[p / 64] & (1ULL << (p % 64))))
			continue;
		h = guest_host(GPA_A + p * PAGE_SZ, &len);
		if (h != NULL)
			memset(h, 0, len);
	}
	memset(S.dirty, 0, sizeof(S.dirty));
}

/*
 * Write n bytes of a stream to guest memory at gpa, skipping what lies
 * outside A, B and S. src(pos, dst, n, ctx) produces stream bytes
 * [pos, pos + n).
 */
typedef void (*stream_fn)(uint32_t pos, uint8_t *dst, uint32_t n,
		const void *ctx);

static void
guest_write_stream(uint64_t gpa, uint32_t n, uint32_t pos, stream_fn src,
		const void *ctx)
{
	while (n > 0) {
		uint64_t len = n;
		uint8_t *h;

		if (gpa > UINT64_MAX - n)
			return;
		h = guest_host(gpa, &len);
		if (h == NULL) {
			/* Outside memory: on to the next region, if any. */
			uint64_t next = UINT64_MAX, skip;
			unsigned int i;

			for (i = 0; i < RTE_DIM(S.all); i++)
				if (S.all[i].gpa > gpa)
					next = RTE_MIN(next, S.all[i].gpa);
			if (next - gpa >= n)
				return;
			skip = next - gpa;
			gpa = next;
			pos += (uint32_t)skip;
			n -= (uint32_t)skip;
			continue;
		}
		src(pos, h, (uint32_t)len, ctx);
		mark_dirty(gpa, len);
		gpa += len;
		pos += (uint32_t)len;
		n -= (uint32_t)len;
	}
}

static void
stream_bytes(uint32_t pos, uint8_t *dst, uint32_t n, const void *ctx)
{
	memcpy(dst, (const uint8_t *)ctx + pos, n);
}

static void
guest_write(uint64_t gpa, const void *src, uint32_t n)
{
	guest_write_stream(gpa, n, 0, stream_bytes, src);
}

/* ---- rings ---- */

static uint64_t
ring_gpa(unsigned int r)
{
	return GPA_A + r * RING_STRIDE;
}

static struct vring_desc *
ring_desc(unsigned int r)
{
	return (void *)(S.all[0].host + r * RING_STRIDE);
}

static struct vring_avail *
ring_avail(unsigned int r)
{
	return (void *)(S.all[0].host + r * RING_STRIDE + RING_AVAIL_OFF);
}

static struct vring_used *
ring_used(unsigned int r)
{
	return (void *)(S.all[0].host + r * RING_STRIDE + RING_USED_OFF);
}

static struct vhu_vring *
vring(unsigned int r)
{
	return &S.dev->rings[r];
}

/* ---- input decoding ---- */

static uint64_t
take_features(struct vhu_fuzz_in *in)
{
	uint16_t sel = vhu_fuzz_u16(in);
	uint64_t f = 0;
	unsigned int i;

	for (i = 0; i < RTE_DIM(feature_bits); i++)
		if (sel & (1u << i))
			f |= VHU_BIT(feature_bits[i]);
	return f & S.dev->features_offered;
}

/* ---- the device, as the message handlers set it up ---- */

static int
handle(vhu_msg_handler_t fn, unsigned int ring, uint32_t num,
		struct vhu_reply *reply)
{
	struct vhu_msg msg;
	struct vhu_reply dummy;

	memset(&msg, 0, sizeof(msg));
	msg.ring = (uint16_t)ring;
	msg.payload.state.index = ring;
	msg.payload.state.num = num;
	msg.fds[0] = -1;
	return fn(S.dev, &msg, reply != NULL ? reply : &dummy);
}

static void
set_features(uint64_t features)
{
	struct vhu_msg msg;
	struct vhu_reply reply;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.payload.u64 = features;
	ret = vhu_msg_set_features(S.dev, &msg, &reply);
	VHU_FUZZ_CHECK(ret == 0, "SET_FEATURES 0x%" PRIx64 ": %d", features,
		       ret);
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
}

/* SET_LOG_BASE without the mmap: the log is this file's (log_map_addr
 * stays NULL, so the reset leaves it alone). */
static void
set_log(uint8_t size)
{
	size %= LOG_MAX + 1;
	S.dev->log_base = size != 0 ? S.log : NULL;
	S.dev->log_size = size;
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
}

static void
record_lockstep(unsigned int r)
{
	struct vhu_vring *vr = vring(r);

	S.lockstep[r] = (uint16_t)(vr->last_used_idx - vr->last_avail_idx);
}

/* SET_VRING_KICK: start (a started ring stays as it is). */
static void
start_ring(unsigned int r)
{
	struct vhu_vring *vr = vring(r);
	bool was = vr->started;
	int ret = handle(vhu_msg_set_vring_kick, r, 0, NULL);

	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_KICK: %d", r, ret);
	VHU_FUZZ_CHECK(vr->started, "ring %u: not started", r);
	if (!was) {
		VHU_FUZZ_CHECK(vr->last_avail_idx == vr->base &&
			       vr->last_used_idx == ring_used(r)->idx &&
			       !vr->dp_broken && !vr->broken,
			       "ring %u: started at avail %u used %u, base %u "
			       "used->idx %u", r, vr->last_avail_idx,
			       vr->last_used_idx, vr->base, ring_used(r)->idx);
		record_lockstep(r);
	}
}

/* GET_VRING_BASE: stop; the base is the next avail entry. */
static void
stop_ring(unsigned int r)
{
	struct vhu_vring *vr = vring(r);
	struct vhu_reply reply;
	bool was = vr->started;
	uint16_t next = vr->last_avail_idx;
	int ret = handle(vhu_msg_get_vring_base, r, 0, &reply);

	VHU_FUZZ_CHECK(ret == 0 && !vr->started, "ring %u: GET_VRING_BASE: %d",
		       r, ret);
	VHU_FUZZ_CHECK(!was || reply.payload.state.num == next,
		       "ring %u: stopped at base %u, next avail was %u", r,
		       reply.payload.state.num, next);
}

static void
ring_setup(unsigned int r, uint8_t b, uint16_t base)
{
	struct vhu_vring *vr = vring(r);
	struct vhu_msg msg;
	struct vhu_reply reply;
	uint64_t g = ring_gpa(r);
	int ret;

	ret = handle(vhu_msg_set_vring_num, r, 1u << ((b & 0xf) % 9), NULL);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_NUM: %d", r, ret);
	memset(&msg, 0, sizeof(msg));
	msg.ring = (uint16_t)r;
	msg.payload.addr.index = r;
	msg.payload.addr.flags = (b & 0x80) ? VHU_WIRE_VRING_F_LOG : 0;
	msg.payload.addr.desc_user_addr = g + FE_VA_OFF;
	msg.payload.addr.avail_user_addr = g + RING_AVAIL_OFF + FE_VA_OFF;
	msg.payload.addr.used_user_addr = g + RING_USED_OFF + FE_VA_OFF;
	msg.payload.addr.log_guest_addr = g + RING_USED_OFF;
	ret = vhu_msg_set_vring_addr(S.dev, &msg, &reply);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_ADDR: %d", r, ret);
	ret = handle(vhu_msg_set_vring_base, r, base, NULL);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_BASE: %d", r, ret);
	/* The eventfd stays this file's: taken back before the reset. */
	vr->call_fd = (b & 0x40) ? S.efd : -1;
	ret = handle(vhu_msg_set_vring_enable, r, !(b & 0x10), NULL);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_ENABLE: %d", r, ret);
	if (!(b & 0x20))
		start_ring(r);
}

static void
dev_setup(struct vhu_fuzz_in *in)
{
	struct vhu_device_config cfg = {
		.path = "fuzz_ring",
		.max_queue_pairs = 1,
		.numa_socket = -1,
	};
	static const struct vhu_wire_mem_region drop[2] = {
		{ .guest_phys_addr = GPA_S, .memory_size = SIZE_S,
		  .userspace_addr = GPA_S + FE_VA_OFF },
		{ .guest_phys_addr = GPA_B, .memory_size = SIZE_B,
		  .userspace_addr = GPA_B + FE_VA_OFF },
	};
	struct vhu_mem_table *mem;
	uint8_t c = vhu_fuzz_u8(in);
	bool no_b = (c & 0x10) != 0;
	unsigned int r;
	uint8_t log, rb[2];
	uint16_t base[2];
	uint64_t f;
	int ret;

	/* Bit 6: the dequeue bits speak with RX flags. */
	cfg.offloads = (c & 0x0f) |
		((c & 0x40) ? VHU_OFFLOAD_DEQUEUE_RX_FLAGS : 0);
	ret = vhu_dev_create(&cfg, &S.dev);
	VHU_FUZZ_CHECK(ret == 0, "vhu_dev_create: %d", ret);
	ret = handle(vhu_msg_set_owner, 0, 0, NULL);
	VHU_FUZZ_CHECK(ret == 0, "SET_OWNER: %d", ret);

	ret = vhu_mem_table_remove(S.tmpl, &drop[no_b], &mem);
	VHU_FUZZ_CHECK(ret == 0 && mem->nregions == 2, "table: %d", ret);
	ret = vhu_dev_set_mem(S.dev, mem);
	VHU_FUZZ_CHECK(ret == 0, "vhu_dev_set_mem: %d", ret);
	S.nmregs = 2;
	S.mregs[0] = S.all[0];
	S.mregs[1] = S.all[no_b ? 2 : 1];

	f = take_features(in);
	log = vhu_fuzz_u8(in);
	for (r = 0; r < 2; r++) {
		rb[r] = vhu_fuzz_u8(in);
		base[r] = vhu_fuzz_u16(in);
	}
	set_features(f);
	set_log(log);
	for (r = 0; r < 2; r++)
		ring_setup(r, rb[r], base[r]);
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
	for (r = 0; r < 2; r++)
		S.stats[r] = vring(r)->stats;
}

/* ---- the model walker (doc/datapath.md, "The guest is untrusted") ---- */

static NOCOV void
model_walk(unsigned int r, uint16_t head, struct mchain *c)
{
	const struct vhu_vring *vr = vring(r);
	const struct vring_desc *table = ring_desc(r);
	uint32_t size = vr->size, tsize = size, idx = head, seen = 0;
	bool writable = r == RX, indirect = false;
	uint64_t total = 0;

	c->ok = false;
	c->nbufs = 0;
	c->total = 0;
	c->itab_len = 0;
	for (;;) {
		struct vring_desc d;
		uint32_t len;

		if (idx >= tsize || ++seen > tsize)
			return;
		memcpy(&d, &table[idx], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			uint64_t n = d.len;

			if (indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    !(vr->features &
			      VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC)) ||
			    d.len == 0 || d.len % sizeof(d) != 0 ||
			    d.len / sizeof(d) > size || d.addr % 8 != 0)
				return;
			/* 8-byte aligned: checked above. */
			table = (const void *)model_host(d.addr, &n);
			if (table == NULL || n != d.len)
				return;
			c->itab_gpa = d.addr;
			c->itab_len = d.len;
			tsize = d.len / sizeof(d);
			indirect = true;
			idx = 0;
			seen = 0;
			continue;
		}
		if (!!(d.flags & VRING_DESC_F_WRITE) != writable)
			return;
		total += d.len;
		len = d.len;
		if (writable) {
			if (total > VHU_CHAIN_MAX_BYTES)
				len -= (uint32_t)(total - VHU_CHAIN_MAX_BYTES);
		} else if (total > VHU_CHAIN_MAX_BYTES) {
			return;
		}
		if (!vhu_fuzz_pieces_add(c->bufs, &c->nbufs, VHU_BUFVEC_MAX,
					 d.addr, len, model_host))
			return;
		if (writable && total >= VHU_CHAIN_MAX_BYTES)
			break;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	if (writable && total < vr->vnet_hdr_len)
		return;
	c->total = (uint32_t)RTE_MIN(total, (uint64_t)VHU_CHAIN_MAX_BYTES);
	c->ok = true;
}

/* The first n bytes (at most the chain's) of c into dst. @return bytes. */
static NOCOV uint32_t
chain_gather(const struct mchain *c, uint32_t n, uint8_t *dst)
{
	return vhu_fuzz_pieces_gather(c->bufs, c->nbufs, n, dst);
}

static NOCOV bool
log_marked(uint64_t gpa, uint64_t len)
{
	return vhu_fuzz_log_marked(S.log, S.dev->log_size, gpa, len);
}

/* The ring's bursts write the dirty log. */
static NOCOV bool
ring_logging(const struct vhu_vring *vr)
{
	return vr->log_base != NULL &&
		(vr->features & VHU_BIT(VHOST_F_LOG_ALL));
}

static NOCOV bool
log_empty(void)
{
	return vhu_fuzz_log_empty(S.log, sizeof(S.log));
}

/* With VHU_FUZZ_RING_TRACE set: what each burst did (to read seeds). */
static void
trace_burst(const char *what, unsigned int r, uint16_t k, uint16_t ret,
		uint16_t c, const struct vhu_ring_stats *was)
{
	const struct vhu_vring *vr = vring(r);
	const struct vhu_ring_stats *st = &vr->stats;

	if (!S.trace)
		return;
	fprintf(stderr, "fuzz_ring: %s k=%u -> %u, %u heads; packets +%" PRIu64
		" bytes +%" PRIu64 " bad +%" PRIu64 " bad_offload +%" PRIu64
		" too_big +%" PRIu64 " drop_offload +%" PRIu64 " full +%" PRIu64
		" disabled +%" PRIu64 " nombuf +%" PRIu64 " notify +%" PRIu64
		"%s%s\n", what, k, ret, c, st->packets - was->packets,
		st->bytes - was->bytes, st->drop_bad_desc - was->drop_bad_desc,
		st->bad_offload - was->bad_offload,
		st->drop_too_big - was->drop_too_big,
		st->drop_offload - was->drop_offload,
		st->drop_full - was->drop_full,
		st->drop_disabled - was->drop_disabled,
		st->nombuf - was->nombuf,
		st->notifications - was->notifications,
		vr->dp_broken ? " BROKEN" : "",
		S.aliased || (r == TX && S.tx_aliased) ? " (aliased)" : "");
}

/* ---- checks shared by both directions ---- */

static NOCOV void
check_ring_state(unsigned int r)
{
	const struct vhu_vring *vr = vring(r);
	const uint64_t *now = (const uint64_t *)&vr->stats;
	const uint64_t *was = (const uint64_t *)&S.stats[r];
	unsigned int i;

	RTE_BUILD_BUG_ON(sizeof(struct vhu_ring_stats) % sizeof(uint64_t) != 0);
	for (i = 0; i < sizeof(struct vhu_ring_stats) / sizeof(uint64_t); i++)
		VHU_FUZZ_CHECK(now[i] >= was[i], "ring %u: counter %u went "
			       "from %" PRIu64 " to %" PRIu64, r, i, was[i],
			       now[i]);
	S.stats[r] = vr->stats;
	VHU_FUZZ_CHECK(vr->dp_mode == vhu_vring_derive_mode(vr),
		       "ring %u: view mode %u, derived %u", r, vr->dp_mode,
		       vhu_vring_derive_mode(vr));
	if (vr->started) {
		uint16_t apart = vr->last_used_idx - vr->last_avail_idx;

		VHU_FUZZ_CHECK(apart == S.lockstep[r], "ring %u: used %u and "
			       "avail %u apart by %u, %u at the start", r,
			       vr->last_used_idx, vr->last_avail_idx, apart,
			       S.lockstep[r]);
	}
}

/* What a burst may see before it starts. */
struct pre {
	uint8_t mode;
	bool broken;
	uint16_t la;          /* last_avail_idx */
	uint16_t lu;          /* last_used_idx */
	uint16_t avail_idx;   /* the guest's */
	uint16_t window;      /* avail_idx - la */
	uint16_t size;
	struct vhu_ring_stats st;
};

static NOCOV void
pre_burst(unsigned int r, struct pre *p)
{
	const struct vhu_vring *vr = vring(r);

	p->mode = vr->dp_mode;
	p->broken = vr->dp_broken;
	p->la = vr->last_avail_idx;
	p->lu = vr->last_used_idx;
	p->size = vr->size;
	p->avail_idx = ring_avail(r)->idx;
	p->window = (uint16_t)(p->avail_idx - p->la);
	p->st = vr->stats;
	memset(S.log, 0, sizeof(S.log));
}

/* A burst that must not have touched the ring. */
static NOCOV void
check_untouched(unsigned int r, const struct pre *p, uint16_t ret)
{
	const struct vhu_vring *vr = vring(r);

	VHU_FUZZ_CHECK(ret == 0 && vr->last_avail_idx == p->la &&
		       vr->last_used_idx == p->lu &&
		       memcmp(&vr->stats, &p->st, sizeof(p->st)) == 0 &&
		       log_empty(),
		       "ring %u (mode %u, broken %d): a burst returned %u and "
		       "moved avail %u->%u used %u->%u", r, p->mode, p->broken,
		       ret, p->la, vr->last_avail_idx, p->lu,
		       vr->last_used_idx);
}

/* The used ring after a burst that consumed c heads (S.heads). */
static NOCOV void
check_used(unsigned int r, const struct pre *p, uint16_t c)
{
	const struct vhu_vring *vr = vring(r);
	const struct vring_used *used = ring_used(r);
	const struct vring_avail *avail = ring_avail(r);
	uint64_t notes = vr->stats.notifications - p->st.notifications;
	uint64_t used_gpa = ring_gpa(r) + RING_USED_OFF;
	bool logging = ring_logging(vr);
	bool expect = false;
	uint16_t i;

	VHU_FUZZ_CHECK(c <= p->window, "ring %u: %u heads consumed, %u were "
		       "available", r, c, p->window);
	VHU_FUZZ_CHECK((uint16_t)(vr->last_used_idx - p->lu) == c,
		       "ring %u: %u heads consumed, %u used entries", r, c,
		       (uint16_t)(vr->last_used_idx - p->lu));
	if (c == 0) {
		VHU_FUZZ_CHECK(notes == 0, "ring %u: notified for nothing", r);
		return;
	}
	VHU_FUZZ_CHECK(used->idx == vr->last_used_idx, "ring %u: used->idx %u, "
		       "last used %u", r, used->idx, vr->last_used_idx);
	/* Aliased: the device may have rewritten the avail ring too. */
	for (i = 0; i < c && !S.aliased; i++) {
		VHU_FUZZ_CHECK(S.heads[i] < p->size, "ring %u: head %u of size "
			       "%u consumed", r, S.heads[i], p->size);
		VHU_FUZZ_CHECK(used->ring[(p->lu + i) & (p->size - 1)].id ==
			       S.heads[i], "ring %u: used entry %u has id %u, "
			       "avail entry %u was head %u", r,
			       (uint16_t)(p->lu + i),
			       used->ring[(p->lu + i) & (p->size - 1)].id,
			       (uint16_t)(p->la + i), S.heads[i]);
		if (logging && vr->log_used)
			VHU_FUZZ_CHECK(log_marked(used_gpa + 4 + 8 *
				       ((p->lu + i) & (p->size - 1)), 8),
				       "ring %u: used entry %u not logged", r,
				       (uint16_t)(p->lu + i));
	}
	if (logging && vr->log_used && !S.aliased)
		VHU_FUZZ_CHECK(log_marked(used_gpa + 2, 2),
			       "ring %u: used->idx not logged", r);
	if (S.aliased)
		return;
	if (vr->call_fd >= 0) {
		if (vr->features & VHU_BIT(VIRTIO_RING_F_EVENT_IDX)) {
			uint16_t event = avail->ring[p->size];

			expect = (uint16_t)(vr->last_used_idx - event - 1) <
				(uint16_t)(vr->last_used_idx - p->lu);
		} else {
			expect = !(avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
		}
	}
	VHU_FUZZ_CHECK(notes == expect, "ring %u: %" PRIu64 " notifications, "
		       "expected %d", r, notes, expect);
}

/* ---- operations: the guest ---- */

static void
op_write(struct vhu_fuzz_in *in)
{
	uint64_t gpa = vhu_fuzz_take_gpa(in, GPA_A);
	uint8_t buf[256];
	uint8_t n = vhu_fuzz_u8(in);

	vhu_fuzz_bytes(in, buf, n);
	guest_write(gpa, buf, n);
}

static void
op_desc(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = b & 1;
	struct vring_desc d;
	uint64_t at = 0;
	uint8_t idx = 0;

	if (b & 2)
		at = vhu_fuzz_take_gpa(in, GPA_A);
	else
		idx = vhu_fuzz_u8(in);
	d.addr = vhu_fuzz_take_gpa(in, GPA_A);
	d.len = vhu_fuzz_u32(in);
	d.flags = vhu_fuzz_u16(in);
	d.next = vhu_fuzz_u16(in);
	if (b & 2)
		guest_write(at, &d, sizeof(d));
	else
		ring_desc(r)[idx % vring(r)->num] = d;
}

static void
op_avail(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = b & 1;
	struct vring_avail *avail = ring_avail(r);
	uint16_t num = vring(r)->num;

	switch ((b >> 1) % 5) {
	case 0:
		avail->idx += vhu_fuzz_u8(in);
		break;
	case 1:
		avail->idx = vhu_fuzz_u16(in);
		break;
	case 2:
		avail->flags = vhu_fuzz_u16(in);
		break;
	case 3:
		avail->ring[num] = vhu_fuzz_u16(in); /* used_event */
		break;
	default: {
		uint8_t i = vhu_fuzz_u8(in);

		avail->ring[i % num] = vhu_fuzz_u16(in);
		break;
	}
	}
}

/*
 * A chain the way a driver builds one: nseg descriptors from head on
 * (wrapping: a chain longer than the ring loops), or an indirect table;
 * for TX a virtio-net header and a packet written into the buffers.
 */
static void
op_post(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = b & 1;
	unsigned int nseg = 1 + ((b >> 1) & 3);
	bool indirect = (b & 8) != 0;
	unsigned int t = (b >> 4) & 3;
	unsigned int hmode = (b >> 6) & 3;
	uint16_t num = vring(r)->num;
	uint8_t hb = vhu_fuzz_u8(in);
	bool autom = hb == 0xff;
	uint16_t head = (autom ? S.auto_head[r] : hb) % num;
	uint64_t shift = autom ? S.auto_off[r] : 0;
	struct vring_desc d[4];
	struct vhu_fuzz_tx tx;
	uint64_t seg_gpa[4], itab = 0;
	uint32_t seg_len[4], total = 0, pos;
	uint16_t gso_size = 0;
	uint8_t more;
	unsigned int i;

	for (i = 0; i < nseg; i++) {
		seg_gpa[i] = GPA_A + ((uint64_t)vhu_fuzz_u16(in) << 3) + shift;
		seg_len[i] = vhu_fuzz_u16(in);
		total += seg_len[i];
	}
	if (indirect)
		itab = GPA_A + ((uint64_t)vhu_fuzz_u16(in) << 3) +
			(autom ? S.auto_head[r] * 4 * sizeof(d[0]) : 0);
	if (autom) {
		/* The next one: the next free head, fresh buffers. */
		S.auto_head[r] = (uint16_t)(head + (indirect ? 1 : nseg));
		S.auto_off[r] += RTE_ALIGN_CEIL((uint64_t)total, 64);
	}
	if (hmode == 2)
		gso_size = vhu_fuzz_u16(in);
	memset(&tx.vh, 0, sizeof(tx.vh));
	if (hmode == 3)
		vhu_fuzz_bytes(in, &tx.vh, sizeof(tx.vh));
	more = vhu_fuzz_u8(in);

	for (i = 0; i < nseg; i++) {
		d[i].addr = seg_gpa[i];
		d[i].len = seg_len[i];
		d[i].flags = (r == RX ? VRING_DESC_F_WRITE : 0) |
			(i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
		d[i].next = indirect ? (uint16_t)(i + 1) :
			(uint16_t)((head + i + 1) % num);
	}
	if (indirect) {
		struct vring_desc hd = {
			.addr = itab,
			.len = nseg * sizeof(d[0]),
			.flags = VRING_DESC_F_INDIRECT,
		};

		guest_write(itab, d, nseg * sizeof(d[0]));
		ring_desc(r)[head] = hd;
	} else {
		for (i = 0; i < nseg; i++)
			ring_desc(r)[(head + i) % num] = d[i];
	}

	if (r == TX) {
		vhu_fuzz_tx_build(&tx, t, (more & 2) != 0, hmode, gso_size,
				  vring(r)->vnet_hdr_len, total,
				  (uint32_t)(more >> 2) * 997);
		for (i = 0, pos = 0; i < nseg; pos += seg_len[i], i++)
			guest_write_stream(seg_gpa[i], seg_len[i], pos,
					   vhu_fuzz_stream_packet, &tx.s);
	}
	if (!(more & 1)) {
		struct vring_avail *avail = ring_avail(r);

		avail->ring[avail->idx % num] = head;
		avail->idx++;
	}
}

static void
op_used(struct vhu_fuzz_in *in)
{
	unsigned int r = vhu_fuzz_u8(in) & 1;
	struct vring_used *used = ring_used(r);

	used->idx = vhu_fuzz_u16(in);
	used->flags = vhu_fuzz_u16(in);
}

/* ---- operations: the bursts ---- */

/* A copy of m's first len bytes in S.mbuf_flat. */
static NOCOV uint8_t *
mbuf_flatten(const struct rte_mbuf *m, uint32_t len)
{
	const void *p = rte_pktmbuf_read(m, 0, len, S.mbuf_flat);

	VHU_FUZZ_CHECK(p != NULL, "mbuf of %u bytes: %u unreadable",
		       m->pkt_len, len);
	if (p != S.mbuf_flat)
		memcpy(S.mbuf_flat, p, len);
	return S.mbuf_flat;
}

/* The virtio-net header at the start of a chain. */
static NOCOV struct virtio_net_hdr_mrg_rxbuf
chain_hdr(const struct mchain *c, uint8_t hdr_len)
{
	struct virtio_net_hdr_mrg_rxbuf h;

	memset(&h, 0, sizeof(h));
	chain_gather(c, hdr_len, (uint8_t *)&h);
	return h;
}

/*
 * m can have come from c: c's header agrees with m's offload flags (none:
 * no GSO; any: NEEDS_CSUM; TCP_SEG: a TCP GSO type and its gso_size; a
 * checksum alone: no GSO, csum_start at L4), and m holds exactly c's
 * payload (but for a partial checksum's field). Chains with the same
 * payload but other headers (one dropped, one not) tell apart this way.
 */
static NOCOV bool
mbuf_is_chain(const struct rte_mbuf *m, const struct mchain *c,
		uint8_t hdr_len)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	uint32_t len = m->pkt_len;
	uint8_t *flat;

	if (!c->ok || c->total <= hdr_len || c->total - hdr_len != len)
		return false;
	h = chain_hdr(c, hdr_len);
	if (m->ol_flags == 0) {
		if (h.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			return false;
	} else if (!(h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		return false;
	} else if (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_LRO)) {
		if ((h.hdr.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 &&
		     h.hdr.gso_type != VIRTIO_NET_HDR_GSO_TCPV6) ||
		    m->tso_segsz != h.hdr.gso_size)
			return false;
	} else if (h.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
		   m->l2_len + m->l3_len != h.hdr.csum_start) {
		return false;
	}
	chain_gather(c, c->total, S.gbuf);
	flat = mbuf_flatten(m, len);
	if (h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t at = (uint32_t)h.hdr.csum_start + h.hdr.csum_offset;

		if (at + 2 <= len)
			memcpy(flat + at, S.gbuf + hdr_len + at, 2);
	}
	return memcmp(flat, S.gbuf + hdr_len, len) == 0;
}

static NOCOV void
check_dequeued(const struct pre *p, struct rte_mempool *mp, uint16_t out,
		uint16_t first, uint16_t c)
{
	const struct vhu_vring *vr = vring(TX);
	/* TX flags, or with VHU_OFFLOAD_DEQUEUE_RX_FLAGS only RX flags. */
	const uint64_t deq_flags = (vr->ol_mode & VHU_OL_DEQ_RX_FLAGS) ?
		RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_LRO :
		RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
		RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
		RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
	uint8_t hl = vr->vnet_hdr_len;
	uint64_t bytes = 0, bad, nombuf;
	uint16_t i, j = 0, invalid = 0;

	for (i = 0; i < c; i++) {
		if (!S.chains[i].ok)
			invalid++;
		else if (S.chains[i].total <= hl)
			invalid++; /* shorter than the header */
	}
	for (i = first; i < out; i++) {
		struct rte_mbuf *m = S.pkts[i];
		const char *why = NULL;

		bytes += m->pkt_len;
		VHU_FUZZ_CHECK(rte_mbuf_check(m, 1, &why) == 0,
			       "dequeued mbuf %u: %s", i, why);
		VHU_FUZZ_CHECK(m->pool == mp &&
			       m->pkt_len <= VHU_CHAIN_MAX_BYTES,
			       "dequeued mbuf %u: pool %s, %u bytes", i,
			       m->pool->name, m->pkt_len);
		/* RX flags: a checksum left partial, whatever else. */
		VHU_FUZZ_CHECK(!(vr->ol_mode & VHU_OL_DEQ_RX_FLAGS) ||
			       m->ol_flags == 0 ||
			       ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
				RTE_MBUF_F_RX_L4_CKSUM_NONE &&
				(m->packet_type & RTE_PTYPE_L4_MASK) != 0),
			       "dequeued mbuf %u: RX ol_flags 0x%" PRIx64
			       " packet type 0x%x", i, m->ol_flags,
			       m->packet_type);
		VHU_FUZZ_CHECK((m->ol_flags & ~deq_flags) == 0 &&
			       ((vr->ol_mode & (VHU_OL_DEQ_KEEP_CSUM |
				VHU_OL_DEQ_TSO4 | VHU_OL_DEQ_TSO6)) ||
				m->ol_flags == 0),
			       "dequeued mbuf %u: ol_flags 0x%" PRIx64
			       " (offload mode 0x%x)", i, m->ol_flags,
			       vr->ol_mode);
		/* The used ring the burst wrote lies in a packet: what the
		 * guest's buffers hold now is not what was copied. */
		if (S.tx_aliased)
			continue;
		/* In order: the first chain m can be from (mbufs from
		 * chains no other tells apart are alike). */
		while (j < c && !mbuf_is_chain(m, &S.chains[j], hl))
			j++;
		VHU_FUZZ_CHECK(j < c, "dequeued mbuf %u (%u bytes, ol_flags 0x%"
			       PRIx64 ") is no chain consumed after the last "
			       "one matched, or its header does not ask for "
			       "those flags", i, m->pkt_len, m->ol_flags);
		j++;
	}
	VHU_FUZZ_CHECK(vr->stats.packets - p->st.packets ==
		       (uint64_t)(out - first) &&
		       vr->stats.bytes - p->st.bytes == bytes,
		       "dequeue: %u mbufs of %" PRIu64 " bytes, counted %"
		       PRIu64 " of %" PRIu64, out - first, bytes,
		       vr->stats.packets - p->st.packets,
		       vr->stats.bytes - p->st.bytes);
	bad = vr->stats.drop_bad_desc - p->st.drop_bad_desc;
	nombuf = vr->stats.nombuf - p->st.nombuf;
	VHU_FUZZ_CHECK(bad == invalid + (vr->stats.bad_offload -
					 p->st.bad_offload),
		       "dequeue: %" PRIu64 " bad chains counted, %u invalid + "
		       "%" PRIu64 " bad offloads", bad, invalid,
		       vr->stats.bad_offload - p->st.bad_offload);
	VHU_FUZZ_CHECK(c == 0 || c == (out - first) + bad + nombuf,
		       "dequeue: %u heads consumed, %u mbufs + %" PRIu64
		       " dropped + %" PRIu64 " without mbufs", c, out - first,
		       bad, nombuf);
}

/* Whether a TX packet lies (partly) in the ring's used ring, which the
 * burst writes after copying the packets. */
static NOCOV bool
tx_window_aliased(const struct pre *p, uint16_t n)
{
	uint64_t used = ring_gpa(TX) + RING_USED_OFF;
	uint64_t used_end = used + 6 + 8ULL * p->size;
	uint16_t i, k;

	for (i = 0; i < n; i++) {
		const struct mchain *c = &S.chains[i];

		for (k = 0; c->ok && k < c->nbufs; k++)
			if (c->bufs[k].gpa < used_end &&
			    used < c->bufs[k].gpa + c->bufs[k].len)
				return true;
	}
	return false;
}

static void
op_deq(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	uint16_t k = 1 + (b & 63);
	struct rte_mempool *mp = (b & 64) ? S.tiny : S.pool;
	struct vhu_vring *vr = vring(TX);
	bool rarp = S.dev->rarp_pending;
	uint16_t out, first = 0, c, n, i;
	struct pre p;

	pre_burst(TX, &p);
	S.aliased = false;
	S.tx_aliased = false;
	if (b & 128) {
		/* No such queue pair; nothing asked for. */
		VHU_FUZZ_CHECK(vhu_dequeue_burst(S.dev, 1, mp, S.pkts, k) ==
			       0 && vhu_dequeue_burst(S.dev, 0, mp, S.pkts, 0)
			       == 0,
			       "dequeue from queue pair 1, or of 0 packets");
		check_untouched(TX, &p, 0);
	}
	/* The heads the burst may consume, walked before it runs (it
	 * writes nothing but mbufs and the used ring, after its walks). */
	n = RTE_MIN(p.window, (uint16_t)BURST_MAX);
	if (p.mode != VHU_DP_STOPPED && !p.broken && p.window <= p.size) {
		for (i = 0; i < n; i++) {
			S.heads[i] = ring_avail(TX)->ring[(p.la + i) &
							  (p.size - 1)];
			if (p.mode == VHU_DP_RUN && S.heads[i] < p.size)
				model_walk(TX, S.heads[i], &S.chains[i]);
			else
				S.chains[i].ok = false;
		}
		if (p.mode == VHU_DP_RUN)
			S.tx_aliased = tx_window_aliased(&p, n);
	}
	out = vhu_dequeue_burst(S.dev, 0, mp, S.pkts, k);
	VHU_FUZZ_CHECK(out <= k, "dequeue of %u returned %u", k, out);
	c = (uint16_t)(vr->last_avail_idx - p.la);

	if (p.mode == VHU_DP_STOPPED || p.broken) {
		check_untouched(TX, &p, out);
		VHU_FUZZ_CHECK(S.dev->rarp_pending == rarp, "RARP taken");
	} else {
		if (rarp && p.mode == VHU_DP_RUN) {
			VHU_FUZZ_CHECK(!S.dev->rarp_pending && out >= 1,
				       "pending RARP not sent");
			vhu_fuzz_check_rarp(S.pkts[0], S.dev->rarp_mac);
			first = 1;
		}
		if (p.window > p.size) {
			VHU_FUZZ_CHECK(vr->dp_broken && c == 0,
				       "avail index %u jumped %u ahead of %u "
				       "(size %u): not broken", p.avail_idx,
				       p.window, p.la, p.size);
		} else {
			n = RTE_MIN(n, (uint16_t)(k - first));
			VHU_FUZZ_CHECK(c <= n, "dequeue consumed %u of %u",
				       c, n);
			VHU_FUZZ_CHECK(vr->dp_broken || c == n ||
				       (c == 0 &&
					vr->stats.nombuf > p.st.nombuf),
				       "dequeue consumed %u of %u heads "
				       "without breaking the ring or running "
				       "out of mbufs", c, n);
			if (c < n && vr->dp_broken && c < p.window)
				VHU_FUZZ_CHECK(vr->bad_chains > 0 ||
					       S.heads[c] >= p.size,
					       "ring broken at a good head");
		}
		check_used(TX, &p, c);
		for (i = 0; i < c; i++)
			VHU_FUZZ_CHECK(ring_used(TX)->ring[(p.lu + i) &
				       (p.size - 1)].len == 0,
				       "TX used entry %u has a length",
				       (uint16_t)(p.lu + i));
		if (p.mode == VHU_DP_RUN) {
			check_dequeued(&p, mp, out, first, c);
		} else {
			VHU_FUZZ_CHECK(out == 0 && vr->stats.drop_disabled -
				       p.st.drop_disabled == c,
				       "disabled ring: %u mbufs, %u consumed, %"
				       PRIu64 " dropped", out, c,
				       vr->stats.drop_disabled -
				       p.st.drop_disabled);
		}
	}
	if (!ring_logging(vr))
		VHU_FUZZ_CHECK(log_empty(), "dequeue logged without a log");
	trace_burst("dequeue", TX, k, out, c, &p.st);
	if (out > 0)
		rte_pktmbuf_free_bulk(S.pkts, out);
	vhu_dev_check_rings(S.dev);
}

static NOCOV int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static NOCOV unsigned int
span_add(unsigned int n, uint64_t start, uint64_t len, bool write)
{
	if (len == 0)
		return n;
	S.spans[n].start = start;
	S.spans[n].end = start + len;
	S.spans[n].write = write;
	return n + 1;
}

/*
 * Whether the device's writes into the window's RX buffers can change
 * what it reads during the burst (another buffer, a descriptor or
 * indirect table, the avail or used ring) or overwrite each other.
 * Marks the buffers' pages for cleaning.
 */
static NOCOV bool
rx_window_aliased(const struct pre *p, uint16_t w)
{
	uint64_t g = ring_gpa(RX), max_any = 0, max_write = 0;
	unsigned int n = 0, i, k;

	n = span_add(n, g, 16ULL * p->size, false);
	n = span_add(n, g + RING_AVAIL_OFF, 6 + 2ULL * p->size, false);
	n = span_add(n, g + RING_USED_OFF, 6 + 8ULL * p->size, false);
	for (i = 0; i < w; i++) {
		const struct mchain *c = &S.chains[i];

		if (S.heads[i] >= p->size)
			continue;
		n = span_add(n, c->itab_gpa, c->itab_len, false);
		if (!c->ok)
			continue;
		for (k = 0; k < c->nbufs; k++) {
			n = span_add(n, c->bufs[k].gpa, c->bufs[k].len, true);
			mark_dirty(c->bufs[k].gpa, c->bufs[k].len);
		}
	}
	qsort(S.spans, n, sizeof(S.spans[0]), span_cmp);
	for (i = 0; i < n; i++) {
		const struct span *s = &S.spans[i];

		if (s->start < max_write || (s->write && s->start < max_any))
			return true;
		max_any = RTE_MAX(max_any, s->end);
		if (s->write)
			max_write = RTE_MAX(max_write, s->end);
	}
	return false;
}

/* Whether byte pos of packet pi may differ from the mbuf: a checksum
 * field an offload rewrites in the guest's copy. */
static NOCOV bool
ol_patched(const struct vhu_fuzz_pktinfo *pi, uint32_t pos)
{
	uint32_t l2 = pi->l2_len, l4 = l2 + pi->l3_len;

	if (!(pi->ol_flags & VHU_OL_ENQ_TX_FLAGS))
		return false;
	return pos - (l2 + 10) < 2 || pos - (l4 + 6) < 2 || pos - (l4 + 16) < 2;
}

/* The nb used entries from i on (one packet) into S.gbuf. @return bytes. */
static NOCOV uint32_t
rx_gather(const struct pre *p, uint16_t i, uint16_t nb)
{
	const struct vring_used *used = ring_used(RX);
	uint8_t hl = vring(RX)->vnet_hdr_len;
	uint32_t len = 0;
	uint16_t j;

	for (j = i; j < i + nb; j++) {
		const struct vring_used_elem *e =
			&used->ring[(p->lu + j) & (p->size - 1)];
		uint16_t at = (uint16_t)(p->lu + j);

		VHU_FUZZ_CHECK(e->len > 0 && (j + 1 == i + nb ||
			       e->len == S.chains[j].total),
			       "RX used entry %u: %u of %u bytes, buffer %u of "
			       "%u of a packet", at, e->len, S.chains[j].total,
			       j - i + 1, nb);
		VHU_FUZZ_CHECK(len + e->len <= hl + VHU_FUZZ_MBUF_LEN_MAX,
			       "RX used entry %u: a packet of more than %u "
			       "bytes", at, hl + VHU_FUZZ_MBUF_LEN_MAX);
		len += chain_gather(&S.chains[j], e->len, S.gbuf + len);
	}
	return len;
}

/* The packets the enqueue burst put in the guest: S.chains[0..c). */
static NOCOV void
check_enqueued(const struct pre *p, uint16_t done, uint16_t c)
{
	static const uint8_t zero[sizeof(struct virtio_net_hdr)];
	const struct vhu_vring *vr = vring(RX);
	const struct vring_used *used = ring_used(RX);
	bool mergeable = (vr->features & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	bool logging = ring_logging(vr);
	uint8_t hl = vr->vnet_hdr_len;
	uint64_t bytes = 0, placed = 0, invalid = 0;
	int last = -1;
	uint16_t i, j;

	for (i = 0; i < c; i++) {
		const struct vring_used_elem *e =
			&used->ring[(p->lu + i) & (p->size - 1)];
		const struct mchain *ch = &S.chains[i];

		if (!ch->ok)
			invalid++;
		VHU_FUZZ_CHECK(ch->ok || e->len == 0, "RX used entry %u: "
			       "invalid chain used with %u bytes",
			       (uint16_t)(p->lu + i), e->len);
		VHU_FUZZ_CHECK(e->len <= ch->total, "RX used entry %u: %u "
			       "bytes written, the chain holds %u",
			       (uint16_t)(p->lu + i), e->len, ch->total);
		if (logging) {
			uint32_t left = e->len;

			for (j = 0; j < ch->nbufs && left > 0; j++) {
				uint32_t n = RTE_MIN(left, ch->bufs[j].len);

				VHU_FUZZ_CHECK(log_marked(ch->bufs[j].gpa, n),
					       "RX used entry %u: write at "
					       "0x%" PRIx64 "+%u not logged",
					       (uint16_t)(p->lu + i),
					       ch->bufs[j].gpa, n);
				left -= n;
			}
		}
	}
	VHU_FUZZ_CHECK(vr->stats.drop_bad_desc - p->st.drop_bad_desc ==
		       invalid, "enqueue: %" PRIu64 " bad chains counted, %"
		       PRIu64 " consumed",
		       vr->stats.drop_bad_desc - p->st.drop_bad_desc, invalid);

	for (i = 0; i < c;) {
		const struct vring_used_elem *e =
			&used->ring[(p->lu + i) & (p->size - 1)];
		struct virtio_net_hdr_mrg_rxbuf h;
		const struct vhu_fuzz_pktinfo *pi;
		uint32_t len = 0, pkt_len, pos;
		uint8_t *flat;
		uint16_t nb = 1;
		uint8_t tag;

		if (e->len == 0) {
			i++;
			continue;
		}
		h = chain_hdr(&S.chains[i], hl);
		if (hl == sizeof(h))
			nb = h.num_buffers;
		VHU_FUZZ_CHECK(nb >= 1 && nb <= c - i && (mergeable || nb == 1),
			       "RX used entry %u: num_buffers %u (%u entries "
			       "left, mergeable %d)", (uint16_t)(p->lu + i), nb,
			       c - i, mergeable);
		len = rx_gather(p, i, nb);
		VHU_FUZZ_CHECK(len > hl + 9u, "RX packet of %u bytes", len);
		pkt_len = len - hl;
		tag = S.gbuf[hl + 7];
		VHU_FUZZ_CHECK(S.gbuf[hl + 6] == 0x02 &&
			       S.gbuf[hl + 8] == (tag ^ 0x5a) && tag < done &&
			       (int)tag > last, "RX used entry %u: packet tag "
			       "%u (last %d, %u handled)",
			       (uint16_t)(p->lu + i), tag, last, done);
		pi = &S.info[tag];
		VHU_FUZZ_CHECK(pkt_len == pi->pkt_len, "packet %u: %u bytes in "
			       "the guest, %u in the mbuf", tag, pkt_len,
			       pi->pkt_len);
		flat = mbuf_flatten(S.pkts[tag], pkt_len);
		if (pi->ol_flags & VHU_OL_ENQ_TX_FLAGS)
			for (pos = 0; pos < pkt_len; pos++)
				if (ol_patched(pi, pos))
					flat[pos] = S.gbuf[hl + pos];
		VHU_FUZZ_CHECK(memcmp(flat, S.gbuf + hl, pkt_len) == 0,
			       "packet %u: the guest's copy differs", tag);
		if (!(pi->ol_flags & vhu_offload_enq_mask(vr->ol_mode)))
			VHU_FUZZ_CHECK(memcmp(S.gbuf, zero, sizeof(zero)) == 0
				       && (hl != sizeof(h) ||
					   h.num_buffers == nb),
				       "packet %u: plain packet with a header",
				       tag);
		placed++;
		bytes += pkt_len;
		last = tag;
		i += nb;
	}
	VHU_FUZZ_CHECK(vr->stats.packets - p->st.packets == placed &&
		       vr->stats.bytes - p->st.bytes == bytes,
		       "enqueue: %" PRIu64 " packets of %" PRIu64 " bytes in "
		       "the guest, counted %" PRIu64 " of %" PRIu64, placed,
		       bytes,
		       vr->stats.packets - p->st.packets,
		       vr->stats.bytes - p->st.bytes);
	VHU_FUZZ_CHECK(done == placed + (vr->stats.drop_too_big -
					 p->st.drop_too_big) +
		       (vr->stats.drop_offload - p->st.drop_offload),
		       "enqueue returned %u: %" PRIu64 " placed, %" PRIu64
		       " too big, %" PRIu64 " offload drops", done, placed,
		       vr->stats.drop_too_big - p->st.drop_too_big,
		       vr->stats.drop_offload - p->st.drop_offload);
}

/* Enqueue reads its mbufs only. */
static NOCOV void
check_mbufs_kept(uint16_t k)
{
	uint16_t i;

	for (i = 0; i < k; i++)
		vhu_fuzz_check_mbuf_kept(S.pkts[i], &S.info[i], i);
}

static void
op_enq(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	uint16_t k = 1 + (b & 63);
	struct vhu_vring *vr = vring(RX);
	uint16_t done, c, w = 0, i;
	struct pre p;

	/* The tag (source MAC) says which packet a guest buffer holds. */
	for (i = 0; i < k; i++)
		S.pkts[i] = vhu_fuzz_make_mbuf(in, S.pool, (uint8_t)i, true,
					       &S.info[i]);
	pre_burst(RX, &p);
	if (b & 128) {
		/* No such queue pair; nothing asked for. */
		VHU_FUZZ_CHECK(vhu_enqueue_burst(S.dev, 1, S.pkts, k) == 0 &&
			       vhu_enqueue_burst(S.dev, 0, S.pkts, 0) == 0,
			       "enqueue to queue pair 1, or of 0 packets");
		check_untouched(RX, &p, 0);
	}
	S.aliased = false;
	if (p.mode == VHU_DP_RUN && !p.broken && p.window <= p.size) {
		w = p.window;
		for (i = 0; i < w; i++) {
			S.heads[i] = ring_avail(RX)->ring[(p.la + i) &
							  (p.size - 1)];
			if (S.heads[i] < p.size)
				model_walk(RX, S.heads[i], &S.chains[i]);
			else
				S.chains[i].ok = false;
		}
		S.aliased = rx_window_aliased(&p, w);
		if (S.aliased)
			mark_all_dirty();
	}
	done = vhu_enqueue_burst(S.dev, 0, S.pkts, k);
	VHU_FUZZ_CHECK(done <= k, "enqueue of %u returned %u", k, done);
	c = (uint16_t)(vr->last_avail_idx - p.la);

	if (p.mode != VHU_DP_RUN || p.broken) {
		check_untouched(RX, &p, done);
	} else if (p.window > p.size) {
		VHU_FUZZ_CHECK(vr->dp_broken && c == 0 && done == 0,
			       "avail index %u jumped %u ahead of %u (size "
			       "%u): not broken", p.avail_idx, p.window, p.la,
			       p.size);
	} else {
		check_used(RX, &p, c);
		if (!vr->dp_broken && done < k)
			VHU_FUZZ_CHECK(vr->stats.drop_full - p.st.drop_full ==
				       (uint64_t)(k - done),
				       "enqueue stopped at %u of %u, %" PRIu64
				       " counted as ring full", done, k,
				       vr->stats.drop_full - p.st.drop_full);
		if (!S.aliased)
			check_enqueued(&p, done, c);
	}
	if (!ring_logging(vr))
		VHU_FUZZ_CHECK(log_empty(), "enqueue logged without a log");
	check_mbufs_kept(k);
	trace_burst("enqueue", RX, k, done, c, &p.st);
	rte_pktmbuf_free_bulk(S.pkts, k);
	vhu_dev_check_rings(S.dev);
}

/* ---- operations: the control plane ---- */

static void
op_restart(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = b & 1;
	int ret;

	switch ((b >> 1) & 3) {
	case 0:
		stop_ring(r);
		start_ring(r);
		break;
	case 1:
		stop_ring(r);
		break;
	case 2:
		start_ring(r);
		break;
	default: {
		uint16_t base = vhu_fuzz_u16(in);
		uint8_t lognum = vhu_fuzz_u8(in);

		stop_ring(r);
		ret = handle(vhu_msg_set_vring_base, r, base, NULL);
		VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_BASE: %d", r, ret);
		ret = handle(vhu_msg_set_vring_num, r, 1u << (lognum % 9),
			     NULL);
		VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_NUM: %d", r, ret);
		start_ring(r);
		break;
	}
	}
	vhu_dev_release(S.dev, VHU_PAUSE_RING, (uint16_t)r);
}

static void
op_enable(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = b & 1;
	int ret = handle(vhu_msg_set_vring_enable, r, (b >> 1) & 1, NULL);

	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_ENABLE: %d", r, ret);
	if (b & 4)
		vring(r)->call_fd = (b & 8) ? S.efd : -1;
	vhu_dev_release(S.dev, VHU_PAUSE_RING, (uint16_t)r);
}

static void
op_rarp(struct vhu_fuzz_in *in)
{
	struct vhu_msg msg;
	struct vhu_reply reply;

	memset(&msg, 0, sizeof(msg));
	vhu_fuzz_bytes(in, msg.payload.raw, 6);
	VHU_FUZZ_CHECK(vhu_msg_send_rarp(S.dev, &msg, &reply) == 0,
		       "SEND_RARP");
}

/* ---- libFuzzer ---- */

static void
mempool_full(struct rte_mempool *mp, unsigned int size)
{
	VHU_FUZZ_CHECK(rte_mempool_avail_count(mp) == size,
		       "mempool %s: %u of %u mbufs back: a leak", mp->name,
		       rte_mempool_avail_count(mp), size);
}

static void
do_op(struct vhu_fuzz_in *in, uint8_t op)
{
	unsigned int r;

	switch (op) {
	case OP_WRITE:
		op_write(in);
		break;
	case OP_DESC:
		op_desc(in);
		break;
	case OP_AVAIL:
		op_avail(in);
		break;
	case OP_POST:
		op_post(in);
		break;
	case OP_DEQ:
		op_deq(in);
		break;
	case OP_ENQ:
		op_enq(in);
		break;
	case OP_RESTART:
		op_restart(in);
		break;
	case OP_ENABLE:
		op_enable(in);
		break;
	case OP_FEATURES:
		set_features(take_features(in));
		break;
	case OP_LOG:
		set_log(vhu_fuzz_u8(in));
		break;
	case OP_RARP:
		op_rarp(in);
		break;
	case OP_USED:
		op_used(in);
		break;
	default: /* OP_REPEAT: the caller's */
		break;
	}
	for (r = 0; r < 2; r++)
		check_ring_state(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_fuzz_in in;
	unsigned int r, i;

	vhu_fuzz_in_init(&in, data, size);
	clean_guest();
	/* The rings' pages: written by the setup and every burst. */
	mark_dirty(GPA_A, 2 * RING_STRIDE);

	memset(S.auto_head, 0, sizeof(S.auto_head));
	memset(S.auto_off, 0, sizeof(S.auto_off));
	dev_setup(&in);
	for (r = 0; r < 2; r++)
		check_ring_state(r);
	vhu_fuzz_run_ops(&in, OP_COUNT, OP_REPEAT,
			 1u << OP_DEQ | 1u << OP_ENQ, do_op);

	/* The eventfd is ours: out of the rings before the reset closes
	 * their fds. */
	for (r = 0; r < 2; r++)
		vring(r)->call_fd = -1;
	vhu_dev_reset(S.dev, true);
	for (r = 0; r < 2; r++)
		VHU_FUZZ_CHECK(!vring(r)->started && !vring(r)->enabled,
			       "ring %u not reset", r);
	VHU_FUZZ_CHECK(S.dev->mem == NULL && S.dev->log_base == NULL,
		       "memory or log left after the reset");
	vhu_dev_destroy(S.dev);
	S.dev = NULL;
	mempool_full(S.pool, POOL_SIZE);
	mempool_full(S.tiny, TINY_POOL_SIZE);
	for (i = 0; i < S.tmpl->nregions; i++)
		VHU_FUZZ_CHECK(S.tmpl->regions[i].mapping->refcnt == 1,
			       "region %u: %u references to its mapping", i,
			       S.tmpl->regions[i].mapping->refcnt);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vhu_wire_mem_region w[3] = {
		{ GPA_A, SIZE_A, GPA_A + FE_VA_OFF, 0 },
		{ GPA_B, SIZE_B, GPA_B + FE_VA_OFF, 0 },
		{ GPA_S, SIZE_S, GPA_S + FE_VA_OFF, SIZE_B },
	};
	uint8_t *host_a, *host_bs;
	int fds[3], ret;

	RTE_SET_USED(argc);
	vhu_fuzz_eal_init((*argv)[0]);
	S.trace = getenv("VHU_FUZZ_RING_TRACE") != NULL;
	fds[0] = vhu_fuzz_memfd("vhu-fuzz-ring-a", SIZE_A, &host_a);
	fds[1] = vhu_fuzz_memfd("vhu-fuzz-ring-bs", SIZE_B + SIZE_S, &host_bs);
	fds[2] = fds[1];
	S.all[0] = (struct greg){ GPA_A, SIZE_A, host_a };
	S.all[1] = (struct greg){ GPA_B, SIZE_B, host_bs };
	S.all[2] = (struct greg){ GPA_S, SIZE_S, host_bs + SIZE_B };
	ret = vhu_mem_table_from_message(w, 3, fds, 1, &S.tmpl);
	VHU_FUZZ_CHECK(ret == 0, "template memory table: %d", ret);
	/* The mappings outlive the fds. */
	close(fds[0]);
	close(fds[1]);

	S.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	VHU_FUZZ_CHECK(S.efd >= 0, "eventfd: %s", strerror(errno));
	S.pool = rte_pktmbuf_pool_create("fuzz_ring", POOL_SIZE, 64, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	S.tiny = rte_pktmbuf_pool_create("fuzz_ring_tiny", TINY_POOL_SIZE, 0,
					 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	VHU_FUZZ_CHECK(S.pool != NULL && S.tiny != NULL, "mempools: %s",
		       rte_strerror(rte_errno));
	vhu_fuzz_pattern_init();
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_packed: what a guest controls on the datapath of PACKED virtqueues
 * (VIRTIO 1.1+ section 2.8, VIRTIO_F_RING_PACKED): the descriptor ring
 * (addresses, lengths, buffer ids, flags with their AVAIL/USED bits),
 * indirect tables, the driver event suppression area, buffer bytes and
 * virtio-net headers, fed to vhu_dequeue_burst() (guest TX -> mbufs) and
 * vhu_enqueue_burst() (mbufs -> guest RX) of lib/vhu, with the driver
 * posting more between bursts and the control plane stopping, restarting
 * (positions and wrap counters in SET_VRING_BASE), enabling and
 * re-featuring the rings in between. fuzz_ring does the same for split
 * rings; the two share the operation loop, the packets and mbufs they
 * make and some checks (vhu_fuzz.c), and this file's shape.
 *
 * The device comes from vhu_dev_create() (no socket, no control thread),
 * one or two queue pairs, and is set up by lib/vhu's own message handlers
 * (SET_OWNER, SET_FEATURES with VIRTIO_F_RING_PACKED, SET_VRING_NUM/ADDR/
 * BASE/CALL/ENABLE/KICK, GET_VRING_BASE, SEND_RARP), each followed by
 * vhu_dev_release() of the rings the request table pauses. Nothing runs
 * concurrently. Ring 2q is queue pair q's guest RX ring (enqueue), ring
 * 2q + 1 its TX ring (dequeue).
 *
 * Guest memory (guest-physical; front-end VA = GPA + FE_VA_OFF):
 *   A 0x100000 +256 KiB  memfd 1: ring r's descriptor ring at A + r*0x4000
 *                        (up to 1024 descriptors), its driver / device
 *                        event areas at A + 0x10000 + 16r (+0 / +8);
 *                        buffers from A + 0x11000 (RX 128 KiB, TX 60 KiB)
 *   B 0x140000 +64 KiB   memfd 2: right after A (buffers may cross)
 *   (gap of 64 KiB)
 *   S 0x160000 +4 KiB    memfd 2 at 64 KiB
 *   L 0x200000 +2 MiB    memfd 3: rings of more than 1024 descriptors
 *                        (up to 32768), allocated from its start
 * The device's table holds A, L and B or S (the input says). The memfds
 * are mapped once (a template table, as fuzz_ring does). Every byte of
 * guest memory the harness writes goes to the memfd and to a shadow copy;
 * after each burst, each restart and at the end of the input the memory
 * is compared with the shadow, with only the device's allowed writes
 * taken over: id/len/flags of the used
 * descriptors the model expects, the bytes it expects in RX buffers, the
 * device event area's flags when a ring starts. Pages written are zeroed
 * before the next input.
 *
 * Input (little-endian; zeros past the end):
 *   u8  cfg: bits 0-3 VHU_OFFLOAD_*; bit 4 A+S, not A+B; bit 5 two queue
 *       pairs; bit 6 VHU_OFFLOAD_DEQUEUE_RX_FLAGS
 *   u16 features: a bit per entry of feature_bits[] (masked by what the
 *       device offers); VIRTIO_F_RING_PACKED is always added
 *   u8  dirty log bytes % 129 (0: none; 128 cover all guest memory)
 *   per ring (2 or 4): u8 r, u16 size, base, [addresses]
 *       r bits 0-1 size class: 1..16, 1..256, 1..1024 (its slot in A),
 *       1..32768 (in L); 2: disabled; 3: not started; 4: a call eventfd;
 *       5: VHOST_VRING_F_LOG; 6-7 == 3: hostile addresses follow (u16 d,
 *       e1, e2: descriptor ring A + 8d, event areas A + 2e1, A + 2e2)
 *       base: u8 m, u16 pos [, u16 v]: m bits 0-1: avail pos only (upper
 *       half 0: used = avail, as DPDK virtio-user sends), both halves
 *       equal (QEMU), used at v, or raw (pos | v << 16); bit 2:
 *       avail wrap counter 0 (1 otherwise, the spec's start); bit 3 the
 *       used wrap counter when elsewhere
 * then operations until the input ends, each u8 op % OP_COUNT:
 *   POST     u8 b, u8 h, [u16 id], per segment [gpa] u16 len, [itab gpa],
 *            [u16 gso | 12 header bytes], [u8 kind, u16 param]: a chain
 *            as a driver writes it at its next position (each
 *            descriptor's AVAIL/USED bits for its own wrap, the head's
 *            flags last); b bits 0-1 ring, 2-3 segments - 1, 4 indirect,
 *            5 hostile (kind % 11: head flags of a used or of the last
 *            lap, id out of range, no end (NEXT on the last), wrong
 *            direction, bad indirect table (8 ways), address outside
 *            memory, zero lengths, across A/B, a 4 GiB length, a chain or
 *            table of 1..300 pieces), 6 head left unavailable until
 *            PUBLISH, 7 auto (buffers and table from the ring's area,
 *            next id); h bits 0-1 packet template,
 *            2-3 TX header (zero, partial checksum, GSO, raw), 4-7 RX
 *            fill byte / pattern offset. A well-formed post waits (is
 *            skipped) when the ring has no room.
 *   DESC     u8 b, [gpa | u16 pos], gpa addr, u32 len, u16 id, u16 flags:
 *            any descriptor at a ring position, or anywhere (tables);
 *            b bit 3: AVAIL/USED made available for the position
 *   EVENT    u8 ring, u16 off_wrap, u16 flags: driver event area
 *   PUBLISH  u8 ring: the heads POST left unavailable, last first
 *   DEQ      u8 b [, u8 hold]: bit 0 queue pair, 1 the 16-mbuf pool
 *            (without a cache: allocations fail exactly when it runs
 *            out; hold % 17 of its mbufs kept meanwhile), 2-7 k - 1
 *   ENQ      u8 b, then per packet u16 len, u8 shape [offloads] [pokes]
 *            (fuzz_ring's format): bit 0 queue pair, 1-6 k - 1
 *   RESTART  u8 b [, u16 size, base]: bits 0-1 ring, 2-3: GET_VRING_BASE
 *            + SET_VRING_BASE (what it returned; bit 5: its low half only)
 *            + KICK; GET only; KICK only; GET + new base and size + KICK
 *            (bit 4: the driver zeroes the ring and starts over there)
 *   ENABLE   u8 b: bits 0-1 ring, 2 enable, 3 set the call fd, 4 to one
 *   FEATURES u16 sel, u8 v: SET_FEATURES on running rings (v bit 0: first
 *            try without VIRTIO_F_RING_PACKED: -EBUSY while a ring runs)
 *   LOG      u8 size, u8 b: the dirty log's size; b bit 2:
 *            SET_VRING_ADDR again on ring b & 3 (running or not), with
 *            VHOST_VRING_F_LOG as bit 3 says
 *   RARP     6 bytes: SEND_RARP
 *   WRITE    gpa, u8 n, n bytes: the guest writes its memory
 *   MEM      u8: a new memory table, A and L with B (bit 0 clear) or S,
 *            under running rings (refused if a started ring would not
 *            translate in it)
 *   REPEAT   u8 n, then an operation: decoded n + 1 times from the same
 *            bytes (bursts at most 16 times)
 * (gpa: u8 form, then u16 (A + 8 * u16), u24 (A + any byte) or a raw u64.)
 *
 * The model. Before each burst the ring is read from guest memory the
 * way the spec says a device reads it (a chain is available when its
 * head's AVAIL bit equals the driver wrap counter expected at that
 * position and its USED bit does not; its buffer id is in its last
 * descriptor; an indirect table's entries are all read), the chains are
 * walked by the rules of doc/datapath.md, and the burst is simulated:
 * which chains it takes, what happens to each (packet, invalid, bad
 * offload, no mbuf, dropped while disabled), what it writes where, which
 * counters move and where its positions and wrap counters end. Offload
 * decisions come from lib/vhu's own header functions (fuzz_ring checks
 * those); everything about the ring is this file's.
 *
 * Checked after every operation (VHU_FUZZ_CHECK aborts):
 *  - each ring: started, enabled, broken and mode as the model says;
 *    while started, the size, both positions (< size) and wrap counters
 *    exactly the model's (wrap counters flip exactly when a position
 *    crosses the end); no counter decreases;
 *  - guest memory equals the shadow but for the device's allowed writes
 *    (after bursts and restarts, and at the end of the input):
 *    the used descriptors' id/len/flags, bytes in device-writable buffers
 *    the driver offered, the device event flags on start;
 *  - a burst on a stopped, broken (enqueue: or disabled) ring returns 0
 *    and changes nothing; bursts return <= what was asked and exactly
 *    what the model says (a RARP first when one was pending);
 *  - used descriptors, read back as a driver reads them from the used
 *    position: AVAIL == USED == the device's wrap counter there, the id
 *    of a buffer consumed in order (IN_ORDER TX: of the last of a batch,
 *    the position then skips the batch), RX: WRITE and the bytes written,
 *    ending exactly at the new used position;
 *  - dequeue: every mbuf passes rte_mbuf_check(), comes from the pool
 *    asked and is byte-identical to its chain's packet (with the header's
 *    offload result); counters exact; chains taken: all available (up to
 *    k and 64) unless the ring broke or the pool was empty;
 *  - enqueue: each packet the model places is in the guest byte-exact
 *    (header, num_buffers, payload, over every buffer it took), counters
 *    exact, the mbufs unchanged; invalid chains go back with length 0;
 *    a packet that does not fit is retried / dropped / left as the
 *    model says; so with enough valid buffers every packet arrives;
 *  - RX buffers that overlap each other: all of the above but those
 *    packets' bytes; RX buffers over what the burst reads (the ring, a
 *    table, the event area): the writes change what it takes next, so
 *    only what holds whatever it wrote is checked (a first packet that
 *    fits the first buffer is placed; used and avail positions move
 *    alike) and the memory is resynchronised;
 *  - a driver that reuses buffer ids within an IN_ORDER batch, or whose
 *    chains run on over descriptors the burst already took (more than a
 *    ring's worth in one burst): the first used descriptor and the slots
 *    written are checked, not the batching;
 *  - the call eventfd is written exactly when the driver event area asks
 *    (ENABLE / DISABLE / EVENT_IDX position and wrap);
 *  - with a dirty log every page written (buffers; used descriptors with
 *    VHOST_VRING_F_LOG) is marked, without one nothing is;
 *  - GET_VRING_BASE returns the model's positions and wrap counters;
 *    SET_VRING_KICK starts exactly when the base fits the ring;
 *  - after every burst and at the end of each input every mbuf is back in
 *    its pool; the reset leaves the template's mappings with one reference.
 *
 * VHU_FUZZ_PACKED_TRACE=1 prints each operation and burst.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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
#include "vhu_copy.h"
#include "vhu_desc.h"
#include "vhu_dev.h"
#include "vhu_features.h"
#include "vhu_fuzz.h"
#include "vhu_mem.h"
#include "vhu_msg.h"
#include "vhu_offload.h"
#include "vhu_vring.h"

/* The model, the checks and the generators: no coverage feedback
 * (vhu_fuzz.h). */
#define NOCOV VHU_FUZZ_NOCOV

/* ---- guest memory ---- */

#define GPA_A 0x100000ULL
#define SIZE_A 0x40000ULL
#define GPA_B (GPA_A + SIZE_A)
#define SIZE_B 0x10000ULL
#define GPA_S (GPA_B + SIZE_B + 0x10000ULL)
#define SIZE_S 0x1000ULL
#define GPA_L 0x200000ULL
#define SIZE_L 0x200000ULL
#define FE_VA_OFF 0x7f0000000000ULL
#define PAGE_SZ 4096ULL
#define NREG 4
#define REG_A 0
#define REG_B 1
#define REG_S 2
#define REG_L 3

#define SLOT_STRIDE 0x4000ULL     /* a ring slot in A */
#define SLOT_DESCS 1024u
#define EV_BASE (GPA_A + 0x10000ULL)
#define RX_AREA (GPA_A + 0x11000ULL)
#define RX_AREA_SIZE 0x20000ULL
#define TX_AREA (GPA_A + 0x31000ULL)
#define TX_AREA_SIZE 0xf000ULL

#define NRINGS_MAX 4
#define BURST_MAX 64
#define SCAN_MAX (VHU_USED_SHADOW + 2)
#define PEND_MAX 64
#define LOG_MAX 128              /* pages up to 4 MiB */
#define PKT_MAX (VHU_CHAIN_MAX_BYTES + 16)
#define POOL_SIZE 4095
#define TINY_POOL_SIZE 16
#define SCRATCH_POOL_SIZE 4095
#define MBUF_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM)

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))

enum op {
	OP_POST,
	OP_DESC,
	OP_EVENT,
	OP_PUBLISH,
	OP_DEQ,
	OP_ENQ,
	OP_RESTART,
	OP_ENABLE,
	OP_FEATURES,
	OP_LOG,
	OP_RARP,
	OP_WRITE,
	OP_MEM,
	OP_REPEAT,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"POST", "DESC", "EVENT", "PUBLISH", "DEQ", "ENQ", "RESTART", "ENABLE",
	"FEATURES", "LOG", "RARP", "WRITE", "MEM", "REPEAT",
};

/* The features an input picks from, a bit each. */
static const unsigned int feature_bits[16] = {
	VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF,
	VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX, VHOST_F_LOG_ALL,
	VIRTIO_F_IN_ORDER, VHU_F_PROTOCOL_FEATURES, VIRTIO_NET_F_CSUM,
	VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4,
	VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO4,
	VIRTIO_NET_F_GUEST_TSO6, VIRTIO_F_ANY_LAYOUT, VIRTIO_NET_F_MQ,
	VIRTIO_NET_F_MTU,
};

struct greg {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;    /* this file's mapping (the memfd) */
	uint8_t *shadow;  /* what the memory must hold */
};

enum { CH_OK, CH_BAD, CH_CORRUPT };

/* A chain as the model walked it from the ring. */
struct mchain {
	uint16_t head;
	bool head_wrap;
	uint16_t next;        /* the position after it */
	bool next_wrap;
	uint16_t ndesc;
	uint16_t id;          /* from its last descriptor */
	uint8_t st;
	uint16_t nbufs;
	uint32_t total;       /* bytes, capped as the device caps them */
	uint32_t wrote;       /* enqueue: bytes the burst writes into it */
	bool overlap;         /* ... some of them where another write goes */
	uint64_t itab_gpa;    /* indirect table read, if itab_len */
	uint64_t itab_len;
	struct vhu_fuzz_piece bufs[VHU_BUFVEC_MAX];
};

/* The model of one ring: the device's state as it must be, and the
 * driver's own bookkeeping. */
struct mring {
	/* Set-up (SET_VRING_NUM / ADDR / BASE). */
	bool have_num;
	bool have_addr;
	uint16_t num;
	uint16_t cap;          /* descriptors its area holds */
	uint64_t desc_gpa;
	uint64_t drv_gpa;      /* driver event suppression area */
	uint64_t dev_gpa;      /* device event suppression area */
	uint8_t *dh;           /* our pointer to the descriptor ring (num) */
	bool log_flag;         /* VHOST_VRING_F_LOG */
	uint32_t base;         /* what SET_VRING_BASE / the last stop left */
	bool call;

	/* The device, as the model says it is. */
	bool started;
	bool enabled;
	bool dpb;              /* dp_broken */
	bool broken;           /* reported */
	uint16_t size;
	uint16_t avail;
	bool aw;
	uint16_t used;
	bool uw;
	uint32_t bad_chains;

	/* The driver. */
	uint16_t dpos;         /* next position it writes */
	bool dwrap;
	uint16_t next_id;
	uint64_t buf_next;     /* auto buffers: offset in its area */
	uint16_t npend;
	struct {
		uint16_t pos;
		uint16_t flags;
	} pend[PEND_MAX];
};

/* What a burst may see before it starts. */
struct pre {
	uint8_t mode;
	uint16_t avail;
	bool aw;
	uint16_t used;
	bool uw;
	struct vhu_ring_stats st;
	uint32_t log_bursts;
};

/* A dequeued chain's fate. */
enum { O_PKT, O_BAD, O_BADOL, O_NOMBUF, O_DISC };

/* A packet handed to enqueue. */
struct epkt {
	struct vhu_pkt_cursor cur;
	int drop;               /* vhu_pkt_cursor_init() refused it */
	struct vhu_fuzz_pktinfo info;
	bool placed;
	uint16_t first;         /* its first used entry */
	uint16_t heads;         /* and how many */
};

struct ent {
	uint32_t len;
};

/* A GPA range for the overlap check of an enqueue burst. */
struct span {
	uint64_t start;
	uint64_t end;
	bool write;
	uint16_t ci;          /* the chain written */
};

static struct {
	/* Once per process. */
	struct rte_mempool *pool;
	struct rte_mempool *tiny;
	struct rte_mempool *scratch;
	int efd;
	struct greg all[NREG];         /* A, B, S, L */
	struct vhu_mem_table *tmpl;
	uint64_t dirty[NREG][SIZE_L / PAGE_SZ / 64];
	uint8_t log[LOG_MAX];
	bool trace;

	/* Per input. */
	struct vhu_device *dev;
	unsigned int nqp;
	unsigned int nrings;
	uint64_t features;
	uint64_t offloads;
	struct greg mregs[3];          /* the device's table */
	unsigned int nmregs;
	uint64_t l_next;               /* L: next free byte for a ring */
	uint64_t l_hw;                 /* L: compared up to here */
	bool rarp;                     /* SEND_RARP pending */
	struct mring ring[NRINGS_MAX];
	struct vhu_ring_stats stats[NRINGS_MAX];

	/* Scratch of one burst. */
	struct mchain chains[SCAN_MAX];
	uint16_t npulled;
	uint16_t nconsumed;           /* chains the burst took */
	uint8_t outcome[BURST_MAX];
	struct rte_mbuf *expect[BURST_MAX];
	struct ent ent[VHU_USED_SHADOW];
	uint32_t lens[VHU_USED_SHADOW];
	struct epkt pk[BURST_MAX];
	struct span spans[SCAN_MAX * (VHU_BUFVEC_MAX + 1) + 4];
	struct rte_mbuf *pkts[BURST_MAX + 1];
	uint8_t gbuf[PKT_MAX];
	uint8_t ebuf[PKT_MAX];
	uint8_t zero[SLOT_DESCS * 16];
} S;

/* ---- guest memory access ---- */

static NOCOV unsigned int
region_of(uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < NREG; i++)
		if (gpa - S.all[i].gpa < S.all[i].size)
			return i;
	return NREG;
}

/* Our pointer to [gpa, gpa + len) if it lies in one region, else NULL. */
static NOCOV uint8_t *
guest_range(uint64_t gpa, uint64_t len)
{
	unsigned int i = region_of(gpa);

	if (i == NREG || len > S.all[i].size - (gpa - S.all[i].gpa))
		return NULL;
	return S.all[i].host + (gpa - S.all[i].gpa);
}

/* The same, but in the device's table (what it can translate); *len is
 * clipped to the region's end. */
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

/* [gpa, gpa + len) lies in one region of the device's table. */
static NOCOV bool
model_in_one(uint64_t gpa, uint64_t len)
{
	uint64_t n = len;

	if (gpa > UINT64_MAX - len)
		return false;
	return model_host(gpa, &n) != NULL && n == len;
}

/* L's compared part grows to cover end (capped at L's size). */
static NOCOV uint64_t
hw_max(uint64_t hw, uint64_t end)
{
	return end > SIZE_L ? SIZE_L : end > hw ? end : hw;
}

static NOCOV void
mark_dirty_reg(unsigned int i, uint64_t off, uint64_t len)
{
	uint64_t p, last;

	if (len == 0)
		return;
	last = (off + len - 1) / PAGE_SZ;
	for (p = off / PAGE_SZ; p <= last; p++)
		S.dirty[i][p / 64] |= 1ULL << (p % 64);
	if (i == REG_L)
		S.l_hw = hw_max(S.l_hw, RTE_ALIGN_CEIL(off + len, PAGE_SZ) +
				PAGE_SZ);
}

/* Zero the pages the last input may have changed (memory and shadow). */
static NOCOV void
clean_guest(void)
{
	unsigned int i;
	uint64_t p;

	for (i = 0; i < NREG; i++) {
		for (p = 0; p < S.all[i].size / PAGE_SZ; p++) {
			if (!(S.dirty[i][p / 64] & (1ULL << (p % 64))))
				continue;
			memset(S.all[i].host + p * PAGE_SZ, 0, PAGE_SZ);
			memset(S.all[i].shadow + p * PAGE_SZ, 0, PAGE_SZ);
		}
	}
	memset(S.dirty, 0, sizeof(S.dirty));
}

/*
 * Write n bytes of a stream to guest memory (and its shadow) at gpa,
 * skipping what lies outside A, B, S, L. src(pos, dst, n, ctx) produces
 * stream bytes [pos, pos + n).
 */
typedef void (*stream_fn)(uint32_t pos, uint8_t *dst, uint32_t n,
		const void *ctx);

static NOCOV void
gw_stream(uint64_t gpa, uint32_t n, uint32_t pos, stream_fn src,
		const void *ctx)
{
	while (n > 0) {
		unsigned int i;
		uint64_t off, len;

		if (gpa > UINT64_MAX - n)
			return;
		i = region_of(gpa);
		if (i == NREG) {
			uint64_t next = UINT64_MAX, skip;
			unsigned int j;

			for (j = 0; j < NREG; j++)
				if (S.all[j].gpa > gpa)
					next = RTE_MIN(next, S.all[j].gpa);
			if (next - gpa >= n)
				return;
			skip = next - gpa;
			gpa = next;
			pos += (uint32_t)skip;
			n -= (uint32_t)skip;
			continue;
		}
		off = gpa - S.all[i].gpa;
		len = RTE_MIN((uint64_t)n, S.all[i].size - off);
		src(pos, S.all[i].host + off, (uint32_t)len, ctx);
		memcpy(S.all[i].shadow + off, S.all[i].host + off, len);
		mark_dirty_reg(i, off, len);
		gpa += len;
		pos += (uint32_t)len;
		n -= (uint32_t)len;
	}
}

static NOCOV void
stream_bytes(uint32_t pos, uint8_t *dst, uint32_t n, const void *ctx)
{
	memcpy(dst, (const uint8_t *)ctx + pos, n);
}

static NOCOV void
stream_fill(uint32_t pos, uint8_t *dst, uint32_t n, const void *ctx)
{
	RTE_SET_USED(pos);
	memset(dst, *(const uint8_t *)ctx, n);
}

static NOCOV void
gw(uint64_t gpa, const void *src, uint32_t n)
{
	gw_stream(gpa, n, 0, stream_bytes, src);
}

static NOCOV void
gw_fill(uint64_t gpa, uint8_t v, uint32_t n)
{
	gw_stream(gpa, n, 0, stream_fill, &v);
}

/* The device may have written [gpa, gpa + len): take it into the shadow. */
static NOCOV void
shadow_accept(uint64_t gpa, uint64_t len)
{
	while (len > 0) {
		unsigned int i = region_of(gpa);
		uint64_t off, n;

		if (i == NREG)
			return;
		off = gpa - S.all[i].gpa;
		n = RTE_MIN(len, S.all[i].size - off);
		memcpy(S.all[i].shadow + off, S.all[i].host + off, n);
		mark_dirty_reg(i, off, n);
		gpa += n;
		len -= n;
	}
}

/* Writes the model cannot follow (they may have gone anywhere in
 * memory): whatever the memory holds now, all of it compared from now on
 * and cleaned after the input. */
static NOCOV void
shadow_resync(void)
{
	unsigned int i;

	for (i = 0; i < NREG; i++) {
		memcpy(S.all[i].shadow, S.all[i].host, S.all[i].size);
		mark_dirty_reg(i, 0, S.all[i].size);
	}
}

/* Guest memory holds exactly what the driver wrote plus what the device
 * was allowed to write. */
static NOCOV void
shadow_check(const char *what)
{
	unsigned int i;

	for (i = 0; i < NREG; i++) {
		const struct greg *g = &S.all[i];
		uint64_t len = i == REG_L ? S.l_hw : g->size, off;

		if (memcmp(g->host, g->shadow, len) == 0)
			continue;
		for (off = 0; g->host[off] == g->shadow[off]; off++)
			;
		VHU_FUZZ_CHECK(false, "%s wrote guest memory at 0x%" PRIx64
			       " (0x%02x, was 0x%02x): neither a used "
			       "descriptor's id/len/flags nor a device-writable "
			       "buffer the driver offered", what, g->gpa + off,
			       g->host[off], g->shadow[off]);
	}
}

/* ---- rings ---- */

static struct vhu_vring *
vring(unsigned int r)
{
	return &S.dev->rings[r];
}

static NOCOV bool
is_rx(unsigned int r)
{
	return (r & 1) == 0;
}

static NOCOV uint8_t
hdr_len(void)
{
	return (S.features & (VHU_BIT(VIRTIO_F_VERSION_1) |
			      VHU_BIT(VIRTIO_NET_F_MRG_RXBUF))) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
}

static NOCOV bool
has(unsigned int bit)
{
	return (S.features & VHU_BIT(bit)) != 0;
}

static NOCOV void
step(uint16_t *pos, bool *wrap, uint32_t n, uint16_t size)
{
	uint32_t p = (uint32_t)*pos + n;

	while (p >= size) {
		p -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* Available at a position where the device expects driver wrap w. */
static NOCOV bool
avail_at(uint16_t flags, bool w)
{
	return !!(flags & F_AVAIL) == w && !!(flags & F_USED) != w;
}

/* The AVAIL/USED bits a driver writes for wrap counter w. */
static NOCOV uint16_t
avail_bits(bool w)
{
	return w ? F_AVAIL : F_USED;
}

static NOCOV struct vring_packed_desc
rd_desc(const struct mring *m, uint16_t pos)
{
	struct vring_packed_desc d;

	memcpy(&d, m->dh + 16u * pos, sizeof(d));
	return d;
}

/* Positions p on one line: distance from (a, aw) forward to (b, bw). */
static NOCOV int32_t
line_dist(uint16_t a, bool aw, uint16_t b, bool bw, uint16_t size)
{
	return aw == bw ? (int32_t)b - a : (int32_t)b + size - a;
}

/* How far used is from avail: pos + size * wrap (mod 2 size) grows by
 * n when a position moves n, so both moving alike keep this. */
static NOCOV uint32_t
apart(uint16_t a, bool aw, uint16_t u, bool uw, uint16_t size)
{
	uint32_t two = 2u * size;

	return ((u + (uw ? size : 0u)) + two - (a + (aw ? size : 0u))) % two;
}

/* Our pointer to the descriptor ring of num descriptors, if it is in
 * our memory at all. */
static NOCOV void
ring_map(struct mring *m)
{
	m->dh = m->have_addr && m->desc_gpa % 16 == 0 ?
		guest_range(m->desc_gpa, 16ULL * m->num) : NULL;
}

/* What vhu_vring_translate() accepts, by VIRTIO 1.x 2.8 and vhost-user:
 * the descriptor ring 16-aligned, the event areas 4-aligned, each in one
 * region of the table. */
static NOCOV bool
addr_ok(const struct mring *m, uint16_t num)
{
	return num >= 1 && m->desc_gpa % 16 == 0 && m->drv_gpa % 4 == 0 &&
		m->dev_gpa % 4 == 0 && model_in_one(m->desc_gpa, 16ULL * num) &&
		model_in_one(m->drv_gpa, 4) && model_in_one(m->dev_gpa, 4);
}

static NOCOV uint32_t
base_encode(uint16_t a, bool aw, uint16_t u, bool uw)
{
	return (uint32_t)a | (uint32_t)aw << 15 | (uint32_t)u << 16 |
		(uint32_t)uw << 31;
}

static NOCOV uint8_t
model_mode(const struct mring *m)
{
	if (!m->started || m->dpb || m->broken)
		return VHU_DP_STOPPED;
	return m->enabled ? VHU_DP_RUN : VHU_DP_DISCARD;
}

/* The driver's next position is between the device's and a lap ahead;
 * anything else (a hostile base, a restart) and it starts over there. */
static NOCOV void
driver_sync(struct mring *m)
{
	int32_t d;

	if (m->num == 0)
		return;
	d = line_dist(m->avail, m->aw, m->dpos, m->dwrap, m->num);
	if (m->dpos >= m->num || m->avail >= m->num || d < 0 || d > m->num) {
		m->dpos = m->avail < m->num ? m->avail : 0;
		m->dwrap = m->aw;
		m->npend = 0;
	}
}

static NOCOV uint16_t
driver_room(const struct mring *m)
{
	return (uint16_t)(m->num - line_dist(m->avail, m->aw, m->dpos,
					     m->dwrap, m->num));
}

/* ---- input decoding ---- */

static NOCOV uint64_t
take_features(struct vhu_fuzz_in *in)
{
	uint16_t sel = vhu_fuzz_u16(in);
	uint64_t f = 0;
	unsigned int i;

	for (i = 0; i < RTE_DIM(feature_bits); i++)
		if (sel & (1u << i))
			f |= VHU_BIT(feature_bits[i]);
	return (f & S.dev->features_offered) | VHU_BIT(VIRTIO_F_RING_PACKED);
}

/* A base for a ring of num descriptors (see the header comment). */
static NOCOV uint32_t
take_base(struct vhu_fuzz_in *in, uint16_t num)
{
	uint8_t mode = vhu_fuzz_u8(in);
	uint16_t pos = vhu_fuzz_u16(in), u;
	uint16_t n = num ? num : 1;
	bool aw = !(mode & 4), uw = (mode & 8) != 0;

	switch (mode & 3) {
	case 0:
		return base_encode(pos % n, aw, 0, false);
	case 1:
		return base_encode(pos % n, aw, pos % n, aw);
	case 2:
		u = vhu_fuzz_u16(in);
		return base_encode(pos % n, aw, u % n, uw);
	default:
		return (uint32_t)pos | (uint32_t)vhu_fuzz_u16(in) << 16;
	}
}

static void
trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
trace(const char *fmt, ...)
{
	va_list ap;

	if (!S.trace)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz_packed: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- the device, as the message handlers set it up ---- */

static int
handle(vhu_msg_handler_t fn, unsigned int ring, uint32_t num,
		struct vhu_reply *reply, int fd)
{
	struct vhu_msg msg;
	struct vhu_reply dummy;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.ring = (uint16_t)ring;
	msg.payload.state.index = ring;
	msg.payload.state.num = num;
	msg.fds[0] = fd;
	msg.nfds = fd >= 0 ? 1 : 0;
	ret = fn(S.dev, &msg, reply != NULL ? reply : &dummy);
	/* As the dispatcher: what the handler did not take is closed. */
	if (msg.fds[0] >= 0)
		close(msg.fds[0]);
	return ret;
}

static void
set_features(uint64_t features)
{
	struct vhu_msg msg;
	struct vhu_reply reply;
	unsigned int r;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.payload.u64 = features;
	ret = vhu_msg_set_features(S.dev, &msg, &reply);
	VHU_FUZZ_CHECK(ret == 0, "SET_FEATURES 0x%" PRIx64 ": %d", features,
		       ret);
	S.features = features;
	/* No SET_VRING_ENABLE without protocol features: all enabled. */
	if (!(features & VHU_BIT(VHU_F_PROTOCOL_FEATURES)))
		for (r = 0; r < S.nrings; r++)
			S.ring[r].enabled = true;
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
}

/* SET_LOG_BASE without the mmap: the log is this file's. */
static void
set_log(uint8_t size)
{
	size %= LOG_MAX + 1;
	S.dev->log_base = size != 0 ? S.log : NULL;
	S.dev->log_size = size;
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
}

static void
set_call(unsigned int r, bool on)
{
	int fd = on ? dup(S.efd) : -1;
	int ret;

	VHU_FUZZ_CHECK(!on || fd >= 0, "dup: %s", strerror(errno));
	ret = handle(vhu_msg_set_vring_call, r, 0, NULL, fd);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_CALL: %d", r, ret);
	S.ring[r].call = on;
}

/* SET_VRING_KICK: the ring starts if its base fits and its addresses
 * translate, and must then be where the base says. */
static void
start_ring(unsigned int r)
{
	struct mring *m = &S.ring[r];
	struct vhu_vring *vr = vring(r);
	uint32_t base = m->base;
	uint16_t a = base & 0x7fff, u = (base >> 16) & 0x7fff;
	bool aw = (base >> 15) & 1, uw = (base >> 31) & 1;
	bool ok;
	int ret;

	if (m->started) {
		ret = handle(vhu_msg_set_vring_kick, r, 0, NULL, -1);
		VHU_FUZZ_CHECK(ret == 0, "ring %u: KICK on a started ring: %d",
			       r, ret);
		return;
	}
	/* The upper half 0: used = avail (vhost-user, front-ends that only
	 * send the avail half). */
	if ((base >> 16) == 0) {
		u = a;
		uw = aw;
	}
	ok = m->have_num && m->have_addr && addr_ok(m, m->num) &&
		a < m->num && u < m->num;
	ret = handle(vhu_msg_set_vring_kick, r, 0, NULL, -1);
	VHU_FUZZ_CHECK((ret == 0) == ok && vr->started == ok,
		       "ring %u: SET_VRING_KICK with base 0x%08x, %u "
		       "descriptors: %d, started %d (expected %s)", r, base,
		       m->num, ret, vr->started, ok ? "started" : "refused");
	if (!ok)
		return;
	m->started = true;
	m->size = m->num;
	m->avail = a;
	m->aw = aw;
	m->used = u;
	m->uw = uw;
	m->bad_chains = 0;
	m->dpb = false;
	m->broken = false;
	/* The device asks for no kicks: flags only, off_wrap untouched. */
	{
		uint16_t flags;

		memcpy(&flags, guest_range(m->dev_gpa + 2, 2), 2);
		VHU_FUZZ_CHECK(flags == VRING_PACKED_EVENT_FLAG_DISABLE,
			       "ring %u: device event flags 0x%x after start",
			       r, flags);
		shadow_accept(m->dev_gpa + 2, 2);
	}
	driver_sync(m);
	trace("ring %u started: avail %u/%d used %u/%d size %u", r, a, aw, u,
	      uw, m->size);
}

/* GET_VRING_BASE: stop; the reply is where the ring stood. */
static uint32_t
stop_ring(unsigned int r)
{
	struct mring *m = &S.ring[r];
	struct vhu_reply reply;
	int ret;

	if (m->started)
		m->base = base_encode(m->avail, m->aw, m->used, m->uw);
	ret = handle(vhu_msg_get_vring_base, r, 0, &reply, -1);
	VHU_FUZZ_CHECK(ret == 0 && !vring(r)->started,
		       "ring %u: GET_VRING_BASE: %d", r, ret);
	VHU_FUZZ_CHECK(reply.payload.state.num == m->base &&
		       reply.payload.state.index == r,
		       "ring %u: GET_VRING_BASE returned 0x%08x, the model "
		       "says 0x%08x (avail %u/%d used %u/%d)", r,
		       reply.payload.state.num, m->base, m->avail, m->aw,
		       m->used, m->uw);
	m->started = false;
	return m->base;
}

static void
set_base(unsigned int r, uint32_t base)
{
	int ret = handle(vhu_msg_set_vring_base, r, base, NULL, -1);

	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_BASE 0x%x: %d", r, base,
		       ret);
	S.ring[r].base = base;
}

static void
set_num(unsigned int r, uint16_t num)
{
	int ret = handle(vhu_msg_set_vring_num, r, num, NULL, -1);

	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_NUM %u: %d", r, num, ret);
	S.ring[r].num = num;
	S.ring[r].have_num = true;
	ring_map(&S.ring[r]);
}

/* The driver resets its ring: all descriptors zero (never available),
 * its positions where the device will start. */
static NOCOV void
driver_reinit(struct mring *m)
{
	uint32_t base = m->base;
	uint64_t left = 16ULL * m->num, at = m->desc_gpa;

	while (m->dh != NULL && left > 0) {
		uint32_t n = (uint32_t)RTE_MIN(left, (uint64_t)sizeof(S.zero));

		gw(at, S.zero, n);
		at += n;
		left -= n;
	}
	m->dpos = base & 0x7fff;
	m->dwrap = (base >> 15) & 1;
	m->next_id = 0;
	m->npend = 0;
}

/* SET_VRING_ADDR with the ring's addresses and VHOST_VRING_F_LOG: taken
 * when they translate (also on a running ring, as QEMU does to start
 * logging for a migration). */
static void
set_addr(unsigned int r, bool log_flag)
{
	struct mring *m = &S.ring[r];
	struct vhu_msg msg;
	struct vhu_reply reply;
	bool ok = addr_ok(m, m->num);
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.ring = (uint16_t)r;
	msg.payload.addr.index = r;
	msg.payload.addr.flags = log_flag ? VHU_WIRE_VRING_F_LOG : 0;
	msg.payload.addr.desc_user_addr = m->desc_gpa + FE_VA_OFF;
	msg.payload.addr.avail_user_addr = m->drv_gpa + FE_VA_OFF;
	msg.payload.addr.used_user_addr = m->dev_gpa + FE_VA_OFF;
	/* Packed rings log their used descriptors in the descriptor ring,
	 * not here: a wrong address, so using it shows. */
	msg.payload.addr.log_guest_addr = GPA_S;
	ret = vhu_msg_set_vring_addr(S.dev, &msg, &reply);
	VHU_FUZZ_CHECK((ret == 0) == ok,
		       "ring %u: SET_VRING_ADDR desc 0x%" PRIx64 " events 0x%"
		       PRIx64 " 0x%" PRIx64 " (%u descriptors): %d", r,
		       m->desc_gpa, m->drv_gpa, m->dev_gpa, m->num, ret);
	/* A refused message changes nothing: the ring keeps its flag. */
	if (ok) {
		m->have_addr = true;
		m->log_flag = log_flag;
	}
	ring_map(m);
}

static void
ring_setup(struct vhu_fuzz_in *in, unsigned int r)
{
	static const uint32_t class_max[4] = { 16, 256, 1024, 32768 };
	struct mring *m = &S.ring[r];
	uint8_t b = vhu_fuzz_u8(in);
	uint16_t raw = vhu_fuzz_u16(in), num;
	uint32_t base;
	int ret;

	num = (uint16_t)(1 + raw % class_max[b & 3]);
	if ((b >> 6) == 3) {
		uint16_t d = vhu_fuzz_u16(in), e1 = vhu_fuzz_u16(in);
		uint16_t e2 = vhu_fuzz_u16(in);

		m->desc_gpa = GPA_A + 8ULL * d;
		m->drv_gpa = GPA_A + 2ULL * e1;
		m->dev_gpa = GPA_A + 2ULL * e2;
		m->cap = (uint16_t)RTE_MIN(class_max[b & 3], 32768u);
	} else if ((b & 3) == 3 && S.l_next + 16ULL * num <= SIZE_L) {
		m->desc_gpa = GPA_L + S.l_next;
		S.l_next += RTE_ALIGN_CEIL(16ULL * num, PAGE_SZ);
		S.l_hw = hw_max(S.l_hw, S.l_next + PAGE_SZ);
		m->cap = num;
		m->drv_gpa = EV_BASE + 16ULL * r;
		m->dev_gpa = EV_BASE + 16ULL * r + 8;
	} else {
		if (num > SLOT_DESCS)
			num = (uint16_t)(1 + num % SLOT_DESCS);
		m->desc_gpa = GPA_A + SLOT_STRIDE * r;
		m->cap = SLOT_DESCS;
		m->drv_gpa = EV_BASE + 16ULL * r;
		m->dev_gpa = EV_BASE + 16ULL * r + 8;
	}
	base = take_base(in, num);
	set_num(r, num);
	set_addr(r, (b & 0x20) != 0);
	set_base(r, base);
	if (b & 0x10)
		set_call(r, true);
	ret = handle(vhu_msg_set_vring_enable, r, !(b & 4), NULL, -1);
	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_ENABLE: %d", r, ret);
	m->enabled = !(b & 4);
	/* A fresh ring: the driver starts where the device will. */
	m->dpos = base & 0x7fff;
	m->dwrap = (base >> 15) & 1;
	m->avail = m->dpos;
	m->aw = m->dwrap;
	m->buf_next = 0;
	if (!(b & 8))
		start_ring(r);
}

static void
dev_setup(struct vhu_fuzz_in *in)
{
	struct vhu_device_config cfg = {
		.path = "fuzz_packed",
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
	uint64_t f;
	uint8_t log;
	int ret;

	S.nqp = (c & 0x20) ? 2 : 1;
	S.nrings = 2 * S.nqp;
	cfg.max_queue_pairs = (uint16_t)S.nqp;
	/* Bit 6: the dequeue bits speak with RX flags. */
	cfg.offloads = (c & 0x0f) |
		((c & 0x40) ? VHU_OFFLOAD_DEQUEUE_RX_FLAGS : 0);
	S.offloads = cfg.offloads;
	ret = vhu_dev_create(&cfg, &S.dev);
	VHU_FUZZ_CHECK(ret == 0, "vhu_dev_create: %d", ret);
	VHU_FUZZ_CHECK(S.dev->features_offered & VHU_BIT(VIRTIO_F_RING_PACKED),
		       "VIRTIO_F_RING_PACKED not offered");
	ret = handle(vhu_msg_set_owner, 0, 0, NULL, -1);
	VHU_FUZZ_CHECK(ret == 0, "SET_OWNER: %d", ret);

	ret = vhu_mem_table_remove(S.tmpl, &drop[no_b], &mem);
	VHU_FUZZ_CHECK(ret == 0 && mem->nregions == 3, "table: %d", ret);
	ret = vhu_dev_set_mem(S.dev, mem);
	VHU_FUZZ_CHECK(ret == 0, "vhu_dev_set_mem: %d", ret);
	S.nmregs = 3;
	S.mregs[0] = S.all[REG_A];
	S.mregs[1] = S.all[no_b ? REG_S : REG_B];
	S.mregs[2] = S.all[REG_L];

	f = take_features(in);
	log = vhu_fuzz_u8(in);
	set_features(f);
	set_log(log);
	for (r = 0; r < S.nrings; r++)
		ring_setup(in, r);
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
	for (r = 0; r < S.nrings; r++)
		S.stats[r] = vring(r)->stats;
	shadow_check("the set-up");
}

/* ---- the model walker (VIRTIO 1.x 2.8, doc/datapath.md) ---- */

/* One buffer of a chain: all device-writable (RX) or all readable (TX);
 * RX capacity past the largest packet is left out. */
static NOCOV bool
model_buf(struct mchain *c, uint64_t addr, uint32_t len, bool is_write,
		bool writable, uint64_t *total, bool *full)
{
	if (is_write != writable)
		return false;
	*total += len;
	if (writable) {
		if (*total > VHU_CHAIN_MAX_BYTES)
			len -= (uint32_t)(*total - VHU_CHAIN_MAX_BYTES);
		*full = *total >= VHU_CHAIN_MAX_BYTES;
	} else if (*total > VHU_CHAIN_MAX_BYTES) {
		return false;
	}
	return vhu_fuzz_pieces_add(c->bufs, &c->nbufs, VHU_BUFVEC_MAX, addr,
				   len, model_host);
}

/* An indirect table: negotiated, 1..size whole entries, 8-aligned, in
 * one region; every entry read, none indirect. */
static NOCOV bool
model_table(const struct mring *m, struct mchain *c, uint64_t addr,
		uint32_t len, bool writable, uint64_t *total, bool *full)
{
	uint64_t n = len;
	const uint8_t *t;
	uint32_t i;

	if (!has(VIRTIO_RING_F_INDIRECT_DESC) || len == 0 || len % 16 != 0 ||
	    len / 16 > m->size || addr % 8 != 0)
		return false;
	t = model_host(addr, &n);
	if (t == NULL || n != len)
		return false;
	c->itab_gpa = addr;
	c->itab_len = len;
	for (i = 0; i < len / 16 && !*full; i++) {
		struct vring_packed_desc e;

		memcpy(&e, t + 16u * i, sizeof(e));
		if (e.flags & VRING_DESC_F_INDIRECT)
			return false;
		if (!model_buf(c, e.addr, e.len,
			       (e.flags & VRING_DESC_F_WRITE) != 0, writable,
			       total, full))
			return false;
	}
	return true;
}

/*
 * The chain whose head is at (pos, wrap), if available. A chain that does
 * not end within the ring, or whose id is not below the ring size, is
 * CH_CORRUPT; one the device must refuse (and consume) CH_BAD.
 */
static NOCOV bool
model_chain(const struct mring *m, uint16_t pos, bool wrap, bool writable,
		struct mchain *c)
{
	struct vring_packed_desc d = rd_desc(m, pos);
	bool ok = true, full = false;
	uint64_t total = 0;
	uint16_t n = 0;

	if (!avail_at(d.flags, wrap))
		return false;
	c->head = pos;
	c->head_wrap = wrap;
	c->nbufs = 0;
	c->itab_len = 0;
	c->wrote = 0;
	c->total = 0;
	for (;;) {
		d = rd_desc(m, pos);
		n++;
		if (ok && !full) {
			if (d.flags & VRING_DESC_F_INDIRECT)
				ok = n == 1 && !(d.flags & VRING_DESC_F_NEXT) &&
					model_table(m, c, d.addr, d.len,
						    writable, &total, &full);
			else
				ok = model_buf(c, d.addr, d.len,
					       (d.flags & VRING_DESC_F_WRITE) != 0,
					       writable, &total, &full);
		}
		step(&pos, &wrap, 1, m->size);
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (n == m->size) {
			c->st = CH_CORRUPT;
			c->ndesc = n;
			return true;
		}
	}
	c->ndesc = n;
	c->id = d.id;
	c->next = pos;
	c->next_wrap = wrap;
	if (d.id >= m->size) {
		c->st = CH_CORRUPT;
		return true;
	}
	if (ok && writable && total < hdr_len())
		ok = false;
	c->total = (uint32_t)RTE_MIN(total, (uint64_t)VHU_CHAIN_MAX_BYTES);
	c->st = ok ? CH_OK : CH_BAD;
	return true;
}

/* Chain i of the burst (the chains are read in order, once). */
static NOCOV struct mchain *
pull(const struct mring *m, uint16_t i, bool writable)
{
	struct mchain *c;
	uint16_t pos = m->avail;
	bool wrap = m->aw;

	if (i < S.npulled)
		return &S.chains[i];
	if (i > 0) {
		if (S.chains[i - 1].st == CH_CORRUPT)
			return NULL;
		pos = S.chains[i - 1].next;
		wrap = S.chains[i - 1].next_wrap;
	}
	VHU_FUZZ_CHECK(i < SCAN_MAX, "more than %u chains in a burst", i);
	c = &S.chains[i];
	if (!model_chain(m, pos, wrap, writable, c))
		return NULL;
	S.npulled = (uint16_t)(i + 1);
	trace("  chain %u: head %u/%d, %u descriptors, id %u, %s, %u bytes in "
	      "%u pieces", i, c->head, c->head_wrap, c->ndesc, c->id,
	      c->st == CH_OK ? "ok" : c->st == CH_BAD ? "invalid" : "corrupt",
	      c->total, c->nbufs);
	return c;
}

/* How many chains a dequeue of at most max sees: by the heads' and
 * their NEXT flags only, looking at most one ring's worth ahead. */
static NOCOV uint16_t
model_avail_count(const struct mring *m, uint16_t max)
{
	uint16_t pos = m->avail, n = 0;
	uint32_t seen = 0;
	bool wrap = m->aw;

	while (n < max && seen < m->size) {
		uint16_t flags = rd_desc(m, pos).flags;

		if (!avail_at(flags, wrap))
			break;
		n++;
		for (;;) {
			seen++;
			step(&pos, &wrap, 1, m->size);
			if (!(flags & VRING_DESC_F_NEXT) || seen >= m->size)
				break;
			flags = rd_desc(m, pos).flags;
		}
	}
	return n;
}

static NOCOV uint32_t
chain_gather(const struct mchain *c, uint32_t n, uint8_t *dst)
{
	return vhu_fuzz_pieces_gather(c->bufs, c->nbufs, n, dst);
}

/* ---- the dirty log ---- */

static NOCOV bool
logging(void)
{
	return S.dev->log_base != NULL && has(VHOST_F_LOG_ALL);
}

static NOCOV bool
log_marked(uint64_t gpa, uint64_t len)
{
	return vhu_fuzz_log_marked(S.log, S.dev->log_size, gpa, len);
}

static NOCOV bool
log_empty(void)
{
	return vhu_fuzz_log_empty(S.log, sizeof(S.log));
}

/* ---- checks shared by both directions ---- */

static NOCOV void
pre_burst(unsigned int r, struct pre *p)
{
	const struct mring *m = &S.ring[r];
	const struct vhu_vring *vr = vring(r);

	p->mode = model_mode(m);
	/* The model's positions (the device's, checked after every
	 * operation), or a stopped ring's leftovers. */
	p->avail = m->started ? m->avail : vr->last_avail_idx;
	p->aw = m->started ? m->aw : vr->avail_wrap;
	p->used = m->started ? m->used : vr->last_used_idx;
	p->uw = m->started ? m->uw : vr->used_wrap;
	p->st = vr->stats;
	p->log_bursts = vr->log_bursts;
	memset(S.log, 0, sizeof(S.log));
	S.npulled = 0;
	S.nconsumed = 0;
}

#define STAT_DELTA(vr, p, f) ((vr)->stats.f - (p)->st.f)

/* A burst that must not have touched the ring. */
static NOCOV void
check_untouched(unsigned int r, const struct pre *p, uint16_t ret)
{
	const struct vhu_vring *vr = vring(r);

	VHU_FUZZ_CHECK(ret == 0 && vr->last_avail_idx == p->avail &&
		       vr->avail_wrap == p->aw &&
		       vr->last_used_idx == p->used && vr->used_wrap == p->uw &&
		       memcmp(&vr->stats, &p->st, sizeof(p->st)) == 0 &&
		       log_empty(),
		       "ring %u (model mode %u): a burst returned %u and moved "
		       "avail %u->%u used %u->%u", r, p->mode, ret, p->avail,
		       vr->last_avail_idx, p->used, vr->last_used_idx);
}

/*
 * The used descriptors a burst that consumed chains [0, c) wrote, read
 * back as the driver reads them: from the old used position, each with
 * AVAIL == USED == the device's wrap counter there and the id of the next
 * buffer in order (IN_ORDER TX: of the last buffer of a batch, whose
 * descriptors it then skips), RX with WRITE and the bytes written (lens).
 * Takes the slots into the shadow.
 */
static NOCOV void
check_used(unsigned int r, const struct pre *p, uint16_t c)
{
	const struct mring *m = &S.ring[r];
	bool writable = is_rx(r), log_used = logging() && m->log_flag;
	bool batch = !writable && has(VIRTIO_F_IN_ORDER);
	uint16_t pos = p->used, i = 0, j, k;
	uint32_t nd = 0;
	bool w = p->uw;

	for (i = 0; i < c; i++)
		nd += S.chains[i].ndesc;
	for (i = 0; batch && i < c; i++)
		for (j = 0; j < i; j++)
			if (S.chains[j].id == S.chains[i].id)
				goto loose;
	if (nd > m->size)
		goto loose;
	i = 0;
	while (i < c) {
		struct vring_packed_desc d = rd_desc(m, pos);
		uint32_t skip = 0;
		bool found = false;

		VHU_FUZZ_CHECK((d.flags & (F_AVAIL | F_USED)) ==
			       (w ? F_AVAIL | F_USED : 0) &&
			       !(d.flags & (VRING_DESC_F_NEXT |
					    VRING_DESC_F_INDIRECT)),
			       "ring %u: used descriptor at %u (device wrap %d) "
			       "has flags 0x%04x", r, pos, w, d.flags);
		if (batch) {
			for (j = c; j-- > i;)
				if (S.chains[j].id == d.id) {
					found = true;
					break;
				}
		} else {
			j = i;
			found = S.chains[i].id == d.id;
		}
		VHU_FUZZ_CHECK(found, "ring %u: used descriptor at %u has id "
			       "%u; the next buffer consumed (at %u) has id %u%s",
			       r, pos, d.id, S.chains[i].head, S.chains[i].id,
			       batch ? " and no later one of the burst has it" :
			       "");
		if (writable)
			VHU_FUZZ_CHECK((d.flags & VRING_DESC_F_WRITE) &&
				       d.len == S.lens[i],
				       "ring %u: used descriptor at %u (id %u): "
				       "len %u flags 0x%04x, the burst wrote %u "
				       "bytes", r, pos, d.id, d.len, d.flags,
				       S.lens[i]);
		else
			VHU_FUZZ_CHECK(d.len == 0, "ring %u: TX used descriptor "
				       "at %u has len %u", r, pos, d.len);
		if (log_used)
			VHU_FUZZ_CHECK(log_marked(m->desc_gpa + 16ULL * pos, 16),
				       "ring %u: used descriptor at %u not in "
				       "the dirty log", r, pos);
		shadow_accept(m->desc_gpa + 16ULL * pos + 8, 8);
		trace("  used at %u/%d: id %u len %u flags 0x%04x (buffers %u..%u)",
		      pos, w, d.id, d.len, d.flags, i, j);
		for (k = i; k <= j; k++)
			skip += S.chains[k].ndesc;
		step(&pos, &w, skip, m->size);
		i = (uint16_t)(j + 1);
	}
	VHU_FUZZ_CHECK(pos == m->used && w == m->uw,
		       "ring %u: the used descriptors end at %u/%d, the used "
		       "position is %u/%d", r, pos, w, m->used, m->uw);
	return;

loose:
	/*
	 * The driver made this ambiguous: ids reused within an in-order
	 * batch, or chains whose tails ran over descriptors the same burst
	 * had taken (only heads are checked for availability), so more than
	 * the ring's worth of descriptors went and used descriptors share
	 * slots. Then: the first used descriptor is in place with the id of
	 * a buffer consumed, and used descriptors were written nowhere but
	 * in the slots the burst passed.
	 */
	{
		struct vring_packed_desc d = rd_desc(m, p->used);
		bool found = false;

		for (i = 0; i < c && !found; i++)
			found = S.chains[i].id == d.id;
		VHU_FUZZ_CHECK(c == 0 || (found &&
			       (d.flags & (F_AVAIL | F_USED)) ==
			       (p->uw ? F_AVAIL | F_USED : 0)),
			       "ring %u: used descriptor at %u (device wrap %d): "
			       "id %u flags 0x%04x", r, p->used, p->uw, d.id,
			       d.flags);
		for (k = 0; k < RTE_MIN(nd, (uint32_t)m->size); k++) {
			shadow_accept(m->desc_gpa + 16ULL * pos + 8, 8);
			step(&pos, &w, 1, m->size);
		}
	}
}

/* The call eventfd: written when the driver event area asks, after a
 * burst that moved the used position from p. */
static NOCOV void
check_notify(unsigned int r, const struct pre *p)
{
	const struct mring *m = &S.ring[r];
	const struct vhu_vring *vr = vring(r);
	uint64_t notes = STAT_DELTA(vr, p, notifications);
	bool moved = p->used != m->used || p->uw != m->uw;
	struct vring_packed_desc_event ev;
	bool expect;

	uint32_t nd = 0;
	uint16_t i;

	for (i = 0; i < S.nconsumed; i++)
		nd += S.chains[i].ndesc;
	if (!moved || !m->call) {
		VHU_FUZZ_CHECK(notes == 0, "ring %u: %" PRIu64 " notifications "
			       "(moved %d, call fd %d)", r, notes, moved,
			       m->call);
		return;
	}
	memcpy(&ev, guest_range(m->drv_gpa, sizeof(ev)), sizeof(ev));
	if (ev.flags == VRING_PACKED_EVENT_FLAG_DESC &&
	    has(VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t off = ev.off_wrap & 0x7fff;
		bool ew = ev.off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR;
		int32_t now = m->used, old, at;

		if (off >= m->size || nd > m->size) {
			/* No such position, or more than a lap: either is
			 * fine. */
			VHU_FUZZ_CHECK(notes <= 1, "ring %u: %" PRIu64
				       " notifications", r, notes);
			return;
		}
		/* On one line ending at the used position: the previous
		 * lap's positions count one ring size less. */
		old = p->used - (p->uw != m->uw ? m->size : 0);
		at = off - (ew != m->uw ? m->size : 0);
		expect = old <= at && at < now;
	} else {
		expect = ev.flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	}
	VHU_FUZZ_CHECK(notes == expect, "ring %u: %" PRIu64 " notifications, "
		       "expected %d (event flags %u off_wrap 0x%04x, used "
		       "%u/%d -> %u/%d)", r, notes, expect, ev.flags,
		       ev.off_wrap, p->used, p->uw, m->used, m->uw);
}

static NOCOV void
check_log_bursts(unsigned int r, const struct pre *p)
{
	const struct mring *m = &S.ring[r];
	bool moved = p->used != m->used || p->uw != m->uw;

	VHU_FUZZ_CHECK(vring(r)->log_bursts - p->log_bursts ==
		       (uint32_t)(moved && logging()),
		       "ring %u: log_bursts +%u (moved %d, logging %d)", r,
		       vring(r)->log_bursts - p->log_bursts, moved, logging());
	if (!logging())
		VHU_FUZZ_CHECK(log_empty(), "ring %u: a burst wrote the dirty "
			       "log without one", r);
}

static NOCOV void
pools_full(void)
{
	VHU_FUZZ_CHECK(rte_mempool_avail_count(S.pool) == POOL_SIZE &&
		       rte_mempool_avail_count(S.tiny) == TINY_POOL_SIZE &&
		       rte_mempool_avail_count(S.scratch) == SCRATCH_POOL_SIZE,
		       "mbufs not back in their pools: %u/%u %u/%u %u/%u",
		       rte_mempool_avail_count(S.pool), POOL_SIZE,
		       rte_mempool_avail_count(S.tiny), TINY_POOL_SIZE,
		       rte_mempool_avail_count(S.scratch), SCRATCH_POOL_SIZE);
}

/* ---- operations: the driver ---- */

/* A buffer of len bytes from the ring's area (reused round-robin). */
static NOCOV uint64_t
auto_buf(unsigned int r, uint32_t *len, uint64_t align)
{
	struct mring *m = &S.ring[r];
	uint64_t area = is_rx(r) ? RX_AREA : TX_AREA;
	uint64_t size = is_rx(r) ? RX_AREA_SIZE : TX_AREA_SIZE;
	uint64_t off;

	size /= S.nqp;
	area += (r / 2) * size;
	if (*len > size)
		*len = (uint32_t)size;
	off = RTE_ALIGN_CEIL(m->buf_next, align);
	if (off + *len > size)
		off = 0;
	m->buf_next = off + RTE_ALIGN_CEIL((uint64_t)*len, 64);
	return area + off;
}

enum {
	HK_HEAD_USED, HK_HEAD_OLD, HK_ID, HK_ENDLESS, HK_DIRECTION,
	HK_INDIRECT, HK_ADDR, HK_ZERO, HK_CROSS, HK_HUGE, HK_LONG, HK_COUNT
};

/*
 * Hostile: a chain of 1..300 descriptors (direct: as many ring slots, at
 * most the ring, the last without an end if it fills it), or an indirect
 * table of that many entries (auto: from the ring's area), each a piece
 * of 1..32 bytes: more pieces than a chain may have.
 */
static NOCOV void
post_long(unsigned int r, uint16_t id, uint64_t gpa, uint32_t len,
		bool indirect, uint64_t itab, uint16_t param)
{
	struct mring *m = &S.ring[r];
	uint32_t n = 1 + param % 300, i;
	uint16_t flags = is_rx(r) ? VRING_DESC_F_WRITE : 0, pos = m->dpos;
	struct vring_packed_desc e;
	bool w = m->dwrap;

	e.id = id;
	e.len = 1 + len % 32;
	if (indirect) {
		uint32_t tl = 16 * n;

		if (itab == 0)
			itab = auto_buf(r, &tl, 16);
		for (i = 0; i < n; i++) {
			e.addr = gpa + 64ULL * i;
			e.flags = flags;
			gw(itab + 16ULL * i, &e, sizeof(e));
		}
		e.addr = itab;
		e.len = 16 * n;
		e.flags = VRING_DESC_F_INDIRECT | avail_bits(w);
		gw(m->desc_gpa + 16ULL * pos, &e, sizeof(e));
		step(&m->dpos, &m->dwrap, 1, m->num);
		return;
	}
	n = RTE_MIN(n, (uint32_t)m->num);
	for (i = n; i-- > 0;) {
		uint16_t at = pos, f = flags;
		bool aw = w;

		step(&at, &aw, i, m->num);
		if (i + 1 < n || n == m->num)
			f |= VRING_DESC_F_NEXT;
		e.addr = gpa + 64ULL * i;
		e.flags = f | avail_bits(aw);
		gw(m->desc_gpa + 16ULL * at, &e, sizeof(e));
	}
	step(&m->dpos, &m->dwrap, n, m->num);
}

static void
op_post(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in), h = vhu_fuzz_u8(in);
	unsigned int r = (b & 3) % S.nrings;
	unsigned int nseg = 1 + ((b >> 2) & 3), i, t = h & 3;
	unsigned int hmode = (h >> 2) & 3;
	bool indirect = (b & 0x10) != 0, hostile = (b & 0x20) != 0;
	bool defer = (b & 0x40) != 0, autom = (b & 0x80) != 0;
	struct mring *m = &S.ring[r];
	bool rx = is_rx(r);
	struct vring_packed_desc d[5], td[4];
	struct vhu_fuzz_tx tx;
	uint64_t seg_gpa[4], itab = 0;
	uint32_t seg_len[4], total = 0, pos;
	uint16_t id = 0, gso = 0, param = 0, ndesc, size = m->num, p;
	uint8_t kind = HK_COUNT;
	bool w;

	if (!autom)
		id = vhu_fuzz_u16(in);
	for (i = 0; i < nseg; i++) {
		seg_gpa[i] = autom ? 0 : vhu_fuzz_take_gpa(in, GPA_A);
		seg_len[i] = vhu_fuzz_u16(in);
	}
	if (indirect && !autom)
		itab = vhu_fuzz_take_gpa(in, GPA_A);
	memset(&tx.vh, 0, sizeof(tx.vh));
	if (hmode == 2)
		gso = vhu_fuzz_u16(in);
	else if (hmode == 3)
		vhu_fuzz_bytes(in, &tx.vh, sizeof(tx.vh));
	if (hostile) {
		kind = vhu_fuzz_u8(in) % HK_COUNT;
		param = vhu_fuzz_u16(in);
	}
	if (m->dh == NULL)
		return;
	driver_sync(m);
	if (kind == HK_INDIRECT)
		indirect = true;
	if (autom) {
		id = m->next_id;
		for (i = 0; i < nseg; i++)
			seg_gpa[i] = auto_buf(r, &seg_len[i], 8);
		if (indirect) {
			uint32_t tl = 16 * 4;

			itab = auto_buf(r, &tl, 16);
		}
	}
	id %= size;

	/* The hostile variants. */
	switch (kind) {
	case HK_ID:
		id = (uint16_t)(size + param % (0x10000u - size));
		break;
	case HK_ADDR:
		seg_gpa[param % nseg] = (param & 0x100) ? UINT64_MAX - 0x20 :
			GPA_B + SIZE_B + 0x800 + (param & 0xff);
		break;
	case HK_ZERO:
		for (i = 0; i < nseg; i++)
			if ((param & 0x100) || i == param % nseg)
				seg_len[i] = 0;
		break;
	case HK_CROSS:
		seg_gpa[param % nseg] = GPA_B - RTE_ALIGN_FLOOR(
			seg_len[param % nseg] / 2, 8);
		break;
	case HK_HUGE:
		seg_len[param % nseg] = UINT32_MAX - param;
		break;
	default:
		break;
	}
	for (i = 0; i < nseg; i++)
		total += seg_len[i];
	ndesc = !indirect ? (uint16_t)nseg :
		kind == HK_INDIRECT && param % 8 == 7 ? 2 : 1;
	/* A driver waits for room (a hostile one does not). */
	if (kind == HK_LONG) {
		post_long(r, id, seg_gpa[0], seg_len[0], indirect,
			  autom ? 0 : itab, param);
		return;
	}
	if (!hostile && ndesc > driver_room(m)) {
		trace("POST ring %u: no room for %u descriptors", r, ndesc);
		return;
	}

	/* The buffers' bytes: TX a header and a packet, RX a fill. */
	if (rx) {
		uint8_t fill = (uint8_t)((h >> 4) * 0x11);

		for (i = 0; i < nseg; i++)
			gw_fill(seg_gpa[i], fill, RTE_MIN(seg_len[i], 0x10000u));
	} else {
		vhu_fuzz_tx_build(&tx, t, (h & 0x40) != 0, hmode, gso,
				  hdr_len(), total, (uint32_t)(h >> 4) * 997);
		for (i = 0, pos = 0; i < nseg; pos += seg_len[i], i++)
			gw_stream(seg_gpa[i], RTE_MIN(seg_len[i], 0x10000u), pos,
				  vhu_fuzz_stream_packet, &tx.s);
	}

	/* The descriptors: the buffers, or one table descriptor. */
	for (i = 0; i < nseg; i++) {
		td[i].addr = seg_gpa[i];
		td[i].len = seg_len[i];
		td[i].id = id;
		td[i].flags = (rx ? VRING_DESC_F_WRITE : 0) |
			(i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
	}
	if (kind == HK_DIRECTION)
		td[param % nseg].flags ^= VRING_DESC_F_WRITE;
	if (kind == HK_ENDLESS)
		td[nseg - 1].flags |= VRING_DESC_F_NEXT;
	if (indirect) {
		uint32_t tl = nseg * 16;

		/* Entries' NEXT flags mean nothing in a packed table. */
		if (kind == HK_INDIRECT) {
			switch (param % 8) {
			case 0:
				tl += 8;
				break;
			case 1:
				tl = 0;
				break;
			case 2:
				tl = 16u * ((uint32_t)size + 1);
				break;
			case 3:
				itab += 4;
				break;
			case 4:
				itab = GPA_B + SIZE_B + 0x1000;
				break;
			case 5:
				td[0].flags |= VRING_DESC_F_INDIRECT;
				break;
			default:
				break;
			}
		}
		gw(itab, td, nseg * 16);
		d[0].addr = itab;
		d[0].len = tl;
		d[0].id = id;
		d[0].flags = VRING_DESC_F_INDIRECT;
		if (kind == HK_INDIRECT && param % 8 == 6)
			d[0].flags |= VRING_DESC_F_NEXT;
		if (ndesc == 2) {
			/* A table behind a plain descriptor. */
			d[1] = d[0];
			d[0] = td[0];
			d[0].flags |= VRING_DESC_F_NEXT;
		}
	} else {
		memcpy(d, td, sizeof(td));
	}

	/* Written from the last to the head, each with its own position's
	 * wrap counter; the head's flags last. */
	p = m->dpos;
	w = m->dwrap;
	for (i = 0; i < ndesc; i++) {
		uint16_t at = p;
		bool aw = w;

		step(&p, &w, 1, size);
		if (i == 0)
			continue;
		d[i].flags |= avail_bits(aw);
		gw(m->desc_gpa + 16ULL * at, &d[i], 16);
	}
	{
		uint16_t flags = d[0].flags | avail_bits(m->dwrap);
		uint64_t at = m->desc_gpa + 16ULL * m->dpos;

		if (kind == HK_HEAD_USED)
			flags = (d[0].flags & ~(F_AVAIL | F_USED)) |
				(m->dwrap ? F_AVAIL | F_USED : 0);
		else if (kind == HK_HEAD_OLD)
			flags = d[0].flags | avail_bits(!m->dwrap);
		d[0].flags = defer ? (uint16_t)(d[0].flags |
						avail_bits(!m->dwrap)) : flags;
		gw(at, &d[0], 14);
		gw(at + 14, &d[0].flags, 2);
		if (defer && m->npend < PEND_MAX) {
			m->pend[m->npend].pos = m->dpos;
			m->pend[m->npend].flags = flags;
			m->npend++;
		}
	}
	trace("POST ring %u: id %u at %u/%d, %u descriptors, %u bytes%s%s%s", r,
	      id, m->dpos, m->dwrap, ndesc, total, indirect ? " indirect" : "",
	      hostile ? " hostile" : "", defer ? " deferred" : "");
	m->dpos = p;
	m->dwrap = w;
	m->next_id = (uint16_t)((id + 1u) % size);
}

static void
op_publish(struct vhu_fuzz_in *in)
{
	unsigned int r = (vhu_fuzz_u8(in) & 3) % S.nrings;
	struct mring *m = &S.ring[r];

	while (m->npend > 0) {
		m->npend--;
		if (m->dh != NULL && m->pend[m->npend].pos < m->num)
			gw(m->desc_gpa + 16ULL * m->pend[m->npend].pos + 14,
			   &m->pend[m->npend].flags, 2);
	}
}

static void
op_desc(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = (b & 3) % S.nrings;
	struct mring *m = &S.ring[r];
	struct vring_packed_desc d;
	uint64_t at = 0;
	uint16_t pos = 0;

	if (b & 4)
		at = vhu_fuzz_take_gpa(in, GPA_A);
	else
		pos = vhu_fuzz_u16(in);
	d.addr = vhu_fuzz_take_gpa(in, GPA_A);
	d.len = vhu_fuzz_u32(in);
	d.id = vhu_fuzz_u16(in);
	d.flags = vhu_fuzz_u16(in);
	if (b & 4) {
		gw(at, &d, sizeof(d));
		return;
	}
	if (m->dh == NULL)
		return;
	pos %= m->num;
	if (b & 8) {
		/* Available for the wrap counter the device expects there. */
		bool w = pos >= m->avail ? m->aw : !m->aw;

		d.flags = (uint16_t)((d.flags & ~(F_AVAIL | F_USED)) |
				     avail_bits(w));
	}
	gw(m->desc_gpa + 16ULL * pos, &d, sizeof(d));
}

static void
op_event(struct vhu_fuzz_in *in)
{
	unsigned int r = (vhu_fuzz_u8(in) & 3) % S.nrings;
	struct vring_packed_desc_event ev;

	ev.off_wrap = vhu_fuzz_u16(in);
	ev.flags = vhu_fuzz_u16(in);
	gw(S.ring[r].drv_gpa, &ev, sizeof(ev));
}

static void
op_write(struct vhu_fuzz_in *in)
{
	uint64_t gpa = vhu_fuzz_take_gpa(in, GPA_A);
	uint8_t buf[256];
	uint8_t n = vhu_fuzz_u8(in);

	vhu_fuzz_bytes(in, buf, n);
	gw(gpa, buf, n);
}

/* ---- the dequeue burst ---- */

/* The mbuf a chain's packet must become: its bytes after the header in
 * segments as the device fills them, the header's offload applied.
 * @return NULL when the header's offload is refused. */
static NOCOV struct rte_mbuf *
expected_mbuf(const struct mchain *c, uint8_t hl, uint8_t ol_mode)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	struct rte_mbuf *m, *cur;
	uint32_t len = c->total - hl, done = 0;

	VHU_FUZZ_CHECK(c->total <= sizeof(S.gbuf), "chain of %u bytes",
		       c->total);
	chain_gather(c, c->total, S.gbuf);
	memset(&h, 0, sizeof(h));
	memcpy(&h, S.gbuf, hl);
	m = rte_pktmbuf_alloc(S.scratch);
	VHU_FUZZ_CHECK(m != NULL, "scratch pool empty");
	cur = m;
	while (done < len) {
		uint32_t k = RTE_MIN(len - done,
				     (uint32_t)rte_pktmbuf_tailroom(cur));

		if (k == 0) {
			struct rte_mbuf *s = rte_pktmbuf_alloc(S.scratch);

			VHU_FUZZ_CHECK(s != NULL, "scratch pool empty");
			cur->next = s;
			cur = s;
			m->nb_segs++;
			continue;
		}
		memcpy(rte_pktmbuf_mtod_offset(cur, uint8_t *, cur->data_len),
		       S.gbuf + hl + done, k);
		cur->data_len = (uint16_t)(cur->data_len + k);
		done += k;
	}
	m->pkt_len = len;
	if (((h.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h.hdr.gso_type) &&
	    vhu_offload_dequeue(&h.hdr, m, ol_mode) != 0) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

static NOCOV void
mbuf_flat(const struct rte_mbuf *m, uint8_t *dst)
{
	const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, dst);

	VHU_FUZZ_CHECK(p != NULL, "mbuf of %u bytes unreadable", m->pkt_len);
	if (p != dst)
		memcpy(dst, p, m->pkt_len);
}

static NOCOV void
check_same_mbuf(unsigned int r, uint16_t i, const struct rte_mbuf *got,
		const struct rte_mbuf *want, struct rte_mempool *mp)
{
	const char *why = NULL;

	VHU_FUZZ_CHECK(rte_mbuf_check(got, 1, &why) == 0,
		       "ring %u: dequeued mbuf %u: %s", r, i, why);
	VHU_FUZZ_CHECK(got->pool == mp, "ring %u: dequeued mbuf %u from pool "
		       "%s", r, i, got->pool->name);
	VHU_FUZZ_CHECK(got->pkt_len == want->pkt_len &&
		       got->ol_flags == want->ol_flags,
		       "ring %u: dequeued mbuf %u: %u bytes, ol_flags 0x%"
		       PRIx64 "; its chain holds %u bytes, ol_flags 0x%"
		       PRIx64, r, i, got->pkt_len, got->ol_flags,
		       want->pkt_len, want->ol_flags);
	if (want->ol_flags != 0)
		VHU_FUZZ_CHECK(got->l2_len == want->l2_len &&
			       got->l3_len == want->l3_len &&
			       got->l4_len == want->l4_len &&
			       got->tso_segsz == want->tso_segsz &&
			       got->packet_type == want->packet_type,
			       "ring %u: dequeued mbuf %u: offload lengths",
			       r, i);
	mbuf_flat(got, S.gbuf);
	mbuf_flat(want, S.ebuf);
	VHU_FUZZ_CHECK(memcmp(S.gbuf, S.ebuf, got->pkt_len) == 0,
		       "ring %u: dequeued mbuf %u differs from what the driver "
		       "put in its buffers", r, i);
}

/* What a dequeue burst does, by the model. */
struct dsim {
	uint16_t out;            /* mbufs returned */
	bool rarp_out;
	bool rarp_taken;
	uint16_t c;              /* chains consumed */
	uint16_t nexp;           /* packets */
	uint64_t packets, bytes, bad, bad_ol, nombuf, disabled;
	bool broken;
	uint32_t bad_chains;
};

static NOCOV void
bad_chain(struct dsim *s)
{
	s->bad++;
	if (++s->bad_chains >= VHU_BAD_CHAIN_LIMIT)
		s->broken = true;
}

static NOCOV void
sim_dequeue(unsigned int r, uint16_t k, bool tiny, const struct pre *p,
		struct dsim *s)
{
	const struct mring *m = &S.ring[r];
	uint8_t hl = hdr_len(), ol = vring(r)->ol_mode;
	uint32_t have = tiny ? rte_mempool_avail_count(S.tiny) : UINT32_MAX;
	uint16_t n, navail, i;
	struct {
		bool flat;
	} f[BURST_MAX];

	memset(s, 0, sizeof(*s));
	s->bad_chains = m->bad_chains;
	if (p->mode == VHU_DP_STOPPED)
		return;
	if (S.rarp && p->mode == VHU_DP_RUN) {
		s->rarp_taken = true;
		if (have >= 1) {
			have--;
			s->rarp_out = true;
			s->out = 1;
		}
	}
	n = (uint16_t)RTE_MIN(k - s->out, BURST_MAX);
	navail = model_avail_count(m, n);
	if (navail == 0)
		return;
	if (p->mode == VHU_DP_RUN) {
		if (have < navail) {
			s->nombuf++;
			return;
		}
		have -= navail;
	}
	for (i = 0; i < navail; i++) {
		struct mchain *c;
		uint32_t extra;

		if (s->broken)
			break;
		c = pull(m, i, false);
		VHU_FUZZ_CHECK(c != NULL, "ring %u: chain %u of %u counted "
			       "available is gone", r, i, navail);
		if (c->st == CH_CORRUPT) {
			s->broken = true;
			break;
		}
		s->c++;
		S.expect[i] = NULL;
		f[i].flat = false;
		if (p->mode != VHU_DP_RUN) {
			S.outcome[i] = O_DISC;
			s->disabled++;
			continue;
		}
		if (c->st == CH_BAD || c->total <= hl) {
			/* Invalid, or no packet after the header. */
			S.outcome[i] = O_BAD;
			bad_chain(s);
			continue;
		}
		S.outcome[i] = O_PKT;
		f[i].flat = c->nbufs == 1 && c->total - hl <= MBUF_ROOM;
		if (f[i].flat)
			continue; /* copied after every chain is walked */
		extra = (c->total - hl - 1) / MBUF_ROOM;
		if (have < extra) {
			S.outcome[i] = O_NOMBUF;
			s->nombuf++;
			continue;
		}
		S.expect[i] = expected_mbuf(c, hl, ol);
		if (S.expect[i] == NULL) {
			S.outcome[i] = O_BADOL;
			s->bad_ol++;
			bad_chain(s);
			continue;
		}
		have -= extra;
	}
	for (i = 0; i < s->c; i++) {
		if (!f[i].flat)
			continue;
		S.expect[i] = expected_mbuf(&S.chains[i], hl, ol);
		if (S.expect[i] == NULL) {
			S.outcome[i] = O_BADOL;
			s->bad_ol++;
			bad_chain(s);
		}
	}
	for (i = 0; i < s->c; i++) {
		S.lens[i] = 0;
		if (S.outcome[i] != O_PKT)
			continue;
		s->packets++;
		s->bytes += S.expect[i]->pkt_len;
		s->out++;
	}
}

static void
op_deq(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int qp = (b & 1) % S.nqp, r = 2 * qp + 1;
	bool tiny = (b & 2) != 0;
	/* The small pool's mbufs the application holds meanwhile. */
	unsigned int hold = tiny ? vhu_fuzz_u8(in) % (TINY_POOL_SIZE + 1) : 0;
	struct rte_mbuf *held[TINY_POOL_SIZE];
	uint16_t k = (uint16_t)(1 + (b >> 2));
	struct rte_mempool *mp = tiny ? S.tiny : S.pool;
	struct mring *m = &S.ring[r];
	struct vhu_vring *vr = vring(r);
	uint16_t out, i, j;
	struct dsim s;
	struct pre p;

	pre_burst(r, &p);
	/* No such queue pair; nothing asked for. */
	VHU_FUZZ_CHECK(vhu_dequeue_burst(S.dev, (uint16_t)S.nqp, mp, S.pkts,
					 k) == 0 &&
		       vhu_dequeue_burst(S.dev, (uint16_t)qp, mp, S.pkts, 0) ==
		       0, "dequeue from queue pair %u, or of 0 packets",
		       S.nqp);
	check_untouched(r, &p, 0);

	VHU_FUZZ_CHECK(hold == 0 ||
		       rte_pktmbuf_alloc_bulk(S.tiny, held, hold) == 0,
		       "small pool: %u mbufs", hold);
	sim_dequeue(r, k, tiny, &p, &s);
	out = vhu_dequeue_burst(S.dev, (uint16_t)qp, mp, S.pkts, k);
	trace("DEQ ring %u k=%u%s: %u mbufs, %u descriptors (model %u mbufs, "
	      "%u chains), "
	      "bad +%" PRIu64 " nombuf +%" PRIu64 "%s", r, k,
	      tiny ? " tiny" : "", out, (uint16_t)line_dist(p.avail, p.aw,
	      vr->last_avail_idx, vr->avail_wrap, m->size ? m->size : 1),
	      s.out, s.c, STAT_DELTA(vr, &p, drop_bad_desc),
	      STAT_DELTA(vr, &p, nombuf), vr->dp_broken ? " BROKEN" : "");
	VHU_FUZZ_CHECK(out <= k, "ring %u: dequeue of %u returned %u", r, k,
		       out);
	if (hold > 0)
		rte_pktmbuf_free_bulk(held, hold);
	if (p.mode == VHU_DP_STOPPED) {
		check_untouched(r, &p, out);
		VHU_FUZZ_CHECK(S.dev->rarp_pending == S.rarp, "RARP taken");
		return;
	}
	VHU_FUZZ_CHECK(out == s.out, "ring %u: dequeue of %u returned %u "
		       "mbufs, the model says %u (%u chains)", r, k, out, s.out,
		       s.c);
	VHU_FUZZ_CHECK(S.dev->rarp_pending == (S.rarp && !s.rarp_taken),
		       "RARP pending %d", S.dev->rarp_pending);
	S.rarp = S.dev->rarp_pending;
	if (s.rarp_out)
		vhu_fuzz_check_rarp(S.pkts[0], S.dev->rarp_mac);
	for (i = 0, j = s.rarp_out; i < s.c; i++) {
		if (S.outcome[i] != O_PKT)
			continue;
		check_same_mbuf(r, j, S.pkts[j], S.expect[i], mp);
		j++;
	}
	VHU_FUZZ_CHECK(STAT_DELTA(vr, &p, packets) == s.packets &&
		       STAT_DELTA(vr, &p, bytes) == s.bytes &&
		       STAT_DELTA(vr, &p, drop_bad_desc) == s.bad &&
		       STAT_DELTA(vr, &p, bad_offload) == s.bad_ol &&
		       STAT_DELTA(vr, &p, nombuf) == s.nombuf &&
		       STAT_DELTA(vr, &p, drop_disabled) == s.disabled &&
		       STAT_DELTA(vr, &p, drop_full) == 0 &&
		       STAT_DELTA(vr, &p, drop_too_big) == 0 &&
		       STAT_DELTA(vr, &p, drop_offload) == 0,
		       "ring %u: dequeue counted packets +%" PRIu64 " bytes +%"
		       PRIu64 " bad +%" PRIu64 " bad_offload +%" PRIu64
		       " nombuf +%" PRIu64 " disabled +%" PRIu64 "; the model: "
		       "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %"
		       PRIu64 " %" PRIu64, r, STAT_DELTA(vr, &p, packets),
		       STAT_DELTA(vr, &p, bytes),
		       STAT_DELTA(vr, &p, drop_bad_desc),
		       STAT_DELTA(vr, &p, bad_offload),
		       STAT_DELTA(vr, &p, nombuf),
		       STAT_DELTA(vr, &p, drop_disabled), s.packets, s.bytes,
		       s.bad, s.bad_ol, s.nombuf, s.disabled);
	VHU_FUZZ_CHECK(vr->dp_broken == s.broken &&
		       vr->bad_chains == s.bad_chains,
		       "ring %u: broken %d after %u bad chains, the model says "
		       "%d after %u", r, vr->dp_broken, vr->bad_chains, s.broken,
		       s.bad_chains);
	/* The model's positions after the chains consumed. */
	if (s.c > 0) {
		uint32_t nd = 0;

		for (i = 0; i < s.c; i++)
			nd += S.chains[i].ndesc;
		m->avail = S.chains[s.c - 1].next;
		m->aw = S.chains[s.c - 1].next_wrap;
		step(&m->used, &m->uw, nd, m->size);
	}
	m->bad_chains = s.bad_chains;
	m->dpb = s.broken;
	S.nconsumed = s.c;
	check_used(r, &p, s.c);
	check_notify(r, &p);
	check_log_bursts(r, &p);
	for (i = 0; i < s.c; i++)
		if (S.expect[i] != NULL)
			rte_pktmbuf_free(S.expect[i]);
	if (out > 0)
		rte_pktmbuf_free_bulk(S.pkts, out);
	pools_full();
	shadow_check("a dequeue burst");
	vhu_dev_check_rings(S.dev);
	m->broken = m->broken || m->dpb;
}

/* ---- the enqueue burst ---- */

static NOCOV int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static NOCOV unsigned int
span_add(unsigned int n, uint64_t start, uint64_t len, bool write,
		uint16_t ci)
{
	if (len == 0)
		return n;
	S.spans[n].start = start;
	S.spans[n].end = start + len;
	S.spans[n].write = write;
	S.spans[n].ci = ci;
	return n + 1;
}

/* The first len bytes of chain ci's pieces, as GPA ranges. */
static NOCOV unsigned int
chain_spans(uint16_t ci, uint32_t len, unsigned int n)
{
	const struct mchain *c = &S.chains[ci];
	uint16_t i;

	for (i = 0; i < c->nbufs && len > 0; i++) {
		uint32_t k = RTE_MIN(len, c->bufs[i].len);

		n = span_add(n, c->bufs[i].gpa, k, true, ci);
		len -= k;
	}
	return n;
}

/*
 * Whether the burst's writes into RX buffers overlap each other (then the
 * last write wins: the packets' bytes are not compared) or can change
 * what it reads: the ring, a table, the driver event area (then what it
 * takes next is not what the model read).
 */
enum { AL_NONE, AL_WRITES, AL_READS };

static NOCOV int
rx_aliased(const struct mring *m)
{
	uint64_t max_read = 0, max_write = 0;
	unsigned int n = 0, i, last = 0;
	int al = AL_NONE;

	n = span_add(n, m->desc_gpa, 16ULL * m->size, false, 0);
	n = span_add(n, m->drv_gpa, 4, false, 0);
	for (i = 0; i < S.npulled; i++) {
		S.chains[i].overlap = false;
		n = span_add(n, S.chains[i].itab_gpa, S.chains[i].itab_len,
			     false, 0);
		n = chain_spans((uint16_t)i, S.chains[i].wrote, n);
	}
	qsort(S.spans, n, sizeof(S.spans[0]), span_cmp);
	for (i = 0; i < n; i++) {
		const struct span *s = &S.spans[i];

		if ((!s->write && s->start < max_write) ||
		    (s->write && s->start < max_read))
			return AL_READS;
		if (s->write && s->start < max_write) {
			/* It overlaps the write reaching furthest (and every
			 * other it overlaps overlaps that one too). */
			al = AL_WRITES;
			S.chains[s->ci].overlap = true;
			S.chains[S.spans[last].ci].overlap = true;
		}
		if (s->write && s->end > max_write) {
			max_write = s->end;
			last = i;
		} else if (!s->write)
			max_read = RTE_MAX(max_read, s->end);
	}
	return al;
}

/* What an enqueue burst does, by the model. */
struct esim {
	uint16_t done;
	uint16_t nent;           /* chains consumed = used entries */
	uint64_t packets, bytes, full, too_big, drop_ol, bad;
	bool broken;
	uint32_t bad_chains;
};

static NOCOV void
sim_enqueue(unsigned int r, uint16_t k, struct esim *s)
{
	const struct mring *m = &S.ring[r];
	bool mergeable = has(VIRTIO_NET_F_MRG_RXBUF);
	uint8_t hl = hdr_len();
	uint16_t ci = 0, i;

	memset(s, 0, sizeof(*s));
	s->bad_chains = m->bad_chains;
	while (s->done < k && !s->broken) {
		struct epkt *pk = &S.pk[s->done];
		uint16_t mark_ci = ci, mark_n = s->nent, heads = 0;
		uint32_t left = hl + pk->info.pkt_len;
		int res = 1;

		if (pk->drop) {
			s->drop_ol++;
			s->done++;
			continue;
		}
		while (left > 0) {
			struct mchain *c = pull(m, ci, true);
			uint32_t w;

			if (c == NULL || c->st == CH_CORRUPT) {
				/* Nothing (more) available: this packet
				 * gives back what it took; the burst ends. */
				if (c != NULL)
					s->broken = true;
				ci = mark_ci;
				s->nent = mark_n;
				res = 0;
				break;
			}
			if (c->st == CH_BAD) {
				/* Consumed with length 0, and so are the
				 * buffers this packet took; then again. */
				for (i = mark_n; i < s->nent; i++)
					S.ent[i].len = 0;
				if (s->nent == VHU_USED_SHADOW) {
					ci = mark_ci;
					s->nent = mark_n;
					res = 0;
					break;
				}
				S.ent[s->nent++].len = 0;
				ci++;
				s->bad++;
				if (++s->bad_chains >= VHU_BAD_CHAIN_LIMIT)
					s->broken = true;
				res = -2;
				break;
			}
			if (!mergeable && c->total < left) {
				ci = mark_ci;
				s->nent = mark_n;
				s->too_big++;
				res = -1;
				break;
			}
			w = RTE_MIN(left, c->total);
			c->wrote = w;
			left -= w;
			if (s->nent == VHU_USED_SHADOW) {
				/* A burst's used entries all wait until it
				 * ends: the rest waits for the next one. */
				ci = mark_ci;
				s->nent = mark_n;
				res = 0;
				break;
			}
			S.ent[s->nent++].len = w;
			ci++;
			heads++;
		}
		if (res == 1) {
			pk->placed = true;
			pk->first = mark_n;
			pk->heads = heads;
			s->packets++;
			s->bytes += pk->info.pkt_len;
			s->done++;
		} else if (res == -1) {
			s->done++;
		} else if (res == 0) {
			s->full += k - s->done;
			break;
		}
	}
	for (i = 0; i < s->nent; i++)
		S.lens[i] = S.ent[i].len;
}

/* What packet i must look like in the guest: header (num_buffers: the
 * buffers it took) and the mbuf's bytes with the offload's patches. */
static NOCOV uint32_t
expected_rx(uint16_t i, uint8_t hl)
{
	const struct epkt *pk = &S.pk[i];
	union vhu_net_hdr h = pk->cur.hdr;
	uint8_t p, q;

	if (hl == sizeof(struct virtio_net_hdr_mrg_rxbuf))
		h.mrg.num_buffers = pk->heads;
	memcpy(S.ebuf, h.bytes, hl);
	mbuf_flat(S.pkts[i], S.ebuf + hl);
	for (p = 0; p < pk->cur.npatch; p++)
		for (q = 0; q < 2; q++)
			if (pk->cur.patch[p].off + q < pk->info.pkt_len)
				S.ebuf[hl + pk->cur.patch[p].off + q] =
					pk->cur.patch[p].val[q];
	return hl + pk->info.pkt_len;
}

static NOCOV void
check_enqueued(unsigned int r, const struct esim *s)
{
	uint8_t hl = hdr_len();
	uint16_t i, e;

	for (i = 0; i < s->done; i++) {
		const struct epkt *pk = &S.pk[i];
		uint32_t want, got = 0;

		if (!pk->placed)
			continue;
		/* Another write went over some of its bytes. */
		for (e = pk->first; e < pk->first + pk->heads; e++)
			if (S.chains[e].overlap)
				break;
		if (e < pk->first + pk->heads)
			continue;
		want = expected_rx(i, hl);
		for (e = pk->first; e < pk->first + pk->heads; e++)
			got += chain_gather(&S.chains[e], S.lens[e],
					    S.gbuf + got);
		VHU_FUZZ_CHECK(got == want && memcmp(S.gbuf, S.ebuf, want) == 0,
			       "ring %u: packet %u (%u bytes with its header, "
			       "%u buffers from used entry %u) differs in the "
			       "guest", r, i, want, pk->heads, pk->first);
	}
}

/* Enqueue reads its mbufs only. */
static NOCOV void
check_mbufs_kept(uint16_t k)
{
	uint16_t i;

	for (i = 0; i < k; i++)
		vhu_fuzz_check_mbuf_kept(S.pkts[i], &S.pk[i].info, i);
}

static void
op_enq(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int qp = (b & 1) % S.nqp, r = 2 * qp;
	uint16_t k = (uint16_t)(1 + ((b >> 1) & 63)), done, i;
	struct mring *m = &S.ring[r];
	struct vhu_vring *vr = vring(r);
	int aliased = AL_NONE;
	uint8_t hl = hdr_len();
	struct esim s;
	struct pre p;

	for (i = 0; i < k; i++) {
		struct epkt *pk = &S.pk[i];
		struct rte_mbuf *mb;

		memset(pk, 0, sizeof(*pk));
		/* fuzz_ring's mbufs (their tag may be poked over). */
		mb = vhu_fuzz_make_mbuf(in, S.pool, (uint8_t)i, false,
					&pk->info);
		S.pkts[i] = mb;
		/* The header and checksum patches lib/vhu derives from the
		 * mbuf's offload flags (fuzz_ring checks them). */
		pk->drop = vhu_pkt_cursor_init(&pk->cur, mb, hl, vr->ol_mode);
	}
	pre_burst(r, &p);
	VHU_FUZZ_CHECK(vhu_enqueue_burst(S.dev, (uint16_t)S.nqp, S.pkts, k) ==
		       0 && vhu_enqueue_burst(S.dev, (uint16_t)qp, S.pkts, 0) ==
		       0, "enqueue to queue pair %u, or of 0 packets", S.nqp);
	check_untouched(r, &p, 0);

	if (p.mode == VHU_DP_RUN) {
		sim_enqueue(r, k, &s);
		aliased = rx_aliased(m);
	}
	done = vhu_enqueue_burst(S.dev, (uint16_t)qp, S.pkts, k);
	trace("ENQ ring %u k=%u: %u done (model %u), %u descriptors (model "
	      "%u chains), "
	      "bad +%" PRIu64 " full +%" PRIu64 "%s%s", r, k, done,
	      p.mode == VHU_DP_RUN ? s.done : 0,
	      (uint16_t)line_dist(p.avail, p.aw, vr->last_avail_idx,
				  vr->avail_wrap, m->size ? m->size : 1),
	      p.mode == VHU_DP_RUN ? s.nent : 0,
	      STAT_DELTA(vr, &p, drop_bad_desc), STAT_DELTA(vr, &p, drop_full),
	      vr->dp_broken ? " BROKEN" : "", aliased == AL_READS ?
	      " (writes over what it reads)" : aliased == AL_WRITES ?
	      " (buffers overlap)" : "");
	VHU_FUZZ_CHECK(done <= k, "ring %u: enqueue of %u returned %u", r, k,
		       done);
	check_mbufs_kept(k);
	if (p.mode != VHU_DP_RUN) {
		check_untouched(r, &p, done);
	} else if (aliased == AL_READS) {
		/* The writes changed what the burst read: what holds
		 * whatever it wrote. A first packet that fits the first
		 * chain (walked before any write) is placed. */
		const struct mchain *c0 = S.npulled > 0 ? &S.chains[0] : NULL;

		if (!S.pk[0].drop && c0 != NULL && c0->st == CH_OK &&
		    c0->total >= hl + S.pk[0].info.pkt_len)
			VHU_FUZZ_CHECK(done >= 1 &&
				       STAT_DELTA(vr, &p, packets) >= 1,
				       "ring %u: a valid buffer for the first "
				       "packet, and nothing placed", r);
		VHU_FUZZ_CHECK(apart(vr->last_avail_idx, vr->avail_wrap,
				     vr->last_used_idx, vr->used_wrap,
				     m->size) ==
			       apart(p.avail, p.aw, p.used, p.uw, m->size),
			       "ring %u: used and avail positions no longer in "
			       "step: avail %u/%d used %u/%d, before %u/%d %u/%d",
			       r, vr->last_avail_idx, vr->avail_wrap,
			       vr->last_used_idx, vr->used_wrap, p.avail, p.aw,
			       p.used, p.uw);
		m->avail = vr->last_avail_idx;
		m->aw = vr->avail_wrap;
		m->used = vr->last_used_idx;
		m->uw = vr->used_wrap;
		m->bad_chains = vr->bad_chains;
		m->dpb = vr->dp_broken;
		VHU_FUZZ_CHECK(STAT_DELTA(vr, &p, notifications) <= 1,
			       "ring %u: notified twice", r);
		shadow_resync();
	} else {
		VHU_FUZZ_CHECK(done == s.done, "ring %u: enqueue of %u returned "
			       "%u, the model says %u (%u buffers)", r, k, done,
			       s.done, s.nent);
		VHU_FUZZ_CHECK(STAT_DELTA(vr, &p, packets) == s.packets &&
			       STAT_DELTA(vr, &p, bytes) == s.bytes &&
			       STAT_DELTA(vr, &p, drop_bad_desc) == s.bad &&
			       STAT_DELTA(vr, &p, drop_full) == s.full &&
			       STAT_DELTA(vr, &p, drop_too_big) == s.too_big &&
			       STAT_DELTA(vr, &p, drop_offload) == s.drop_ol &&
			       STAT_DELTA(vr, &p, nombuf) == 0 &&
			       STAT_DELTA(vr, &p, drop_disabled) == 0,
			       "ring %u: enqueue counted packets +%" PRIu64
			       " bytes +%" PRIu64 " bad +%" PRIu64 " full +%"
			       PRIu64 " too_big +%" PRIu64 " offload +%" PRIu64
			       "; the model: %" PRIu64 " %" PRIu64 " %" PRIu64
			       " %" PRIu64 " %" PRIu64 " %" PRIu64, r,
			       STAT_DELTA(vr, &p, packets),
			       STAT_DELTA(vr, &p, bytes),
			       STAT_DELTA(vr, &p, drop_bad_desc),
			       STAT_DELTA(vr, &p, drop_full),
			       STAT_DELTA(vr, &p, drop_too_big),
			       STAT_DELTA(vr, &p, drop_offload), s.packets,
			       s.bytes, s.bad, s.full, s.too_big, s.drop_ol);
		VHU_FUZZ_CHECK(vr->dp_broken == s.broken &&
			       vr->bad_chains == s.bad_chains,
			       "ring %u: broken %d after %u bad chains, the "
			       "model says %d after %u", r, vr->dp_broken,
			       vr->bad_chains, s.broken, s.bad_chains);
		if (s.nent > 0) {
			uint32_t nd = 0;

			for (i = 0; i < s.nent; i++)
				nd += S.chains[i].ndesc;
			m->avail = S.chains[s.nent - 1].next;
			m->aw = S.chains[s.nent - 1].next_wrap;
			step(&m->used, &m->uw, nd, m->size);
		}
		m->bad_chains = s.bad_chains;
		m->dpb = s.broken;
		S.nconsumed = s.nent;
		check_used(r, &p, s.nent);
		check_enqueued(r, &s);
		/* Every byte written, in buffers the driver offered. */
		for (i = 0; i < S.npulled; i++) {
			const struct mchain *c = &S.chains[i];
			uint32_t left = c->wrote;
			uint16_t j;

			for (j = 0; j < c->nbufs && left > 0; j++) {
				uint32_t n = RTE_MIN(left, c->bufs[j].len);

				if (logging())
					VHU_FUZZ_CHECK(log_marked(c->bufs[j].gpa,
								  n),
						       "ring %u: RX write at 0x%"
						       PRIx64 "+%u not in the "
						       "dirty log", r,
						       c->bufs[j].gpa, n);
				shadow_accept(c->bufs[j].gpa, n);
				left -= n;
			}
		}
		check_notify(r, &p);
		check_log_bursts(r, &p);
	}
	rte_pktmbuf_free_bulk(S.pkts, k);
	pools_full();
	if (p.mode == VHU_DP_RUN)
		shadow_check("an enqueue burst");
	vhu_dev_check_rings(S.dev);
	m->broken = m->broken || m->dpb;
}

/* ---- operations: the control plane ---- */

static void
op_restart(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = (b & 3) % S.nrings;
	struct mring *m = &S.ring[r];
	uint32_t base;

	switch ((b >> 2) & 3) {
	case 0:
		base = stop_ring(r);
		set_base(r, (b & 0x20) ? base & 0xffff : base);
		start_ring(r);
		break;
	case 1:
		stop_ring(r);
		break;
	case 2:
		start_ring(r);
		break;
	default: {
		/* A size within the ring's area (its addresses stay); a
		 * hostile ring may outgrow its region. */
		uint16_t num = (uint16_t)(1 + vhu_fuzz_u16(in) % m->cap);

		base = take_base(in, num);
		stop_ring(r);
		set_base(r, base);
		set_num(r, num);
		if (b & 0x10)
			driver_reinit(m);
		start_ring(r);
		break;
	}
	}
	vhu_dev_release(S.dev, VHU_PAUSE_RING, (uint16_t)r);
	trace("RESTART ring %u: started %d base 0x%08x", r, m->started,
	      m->base);
}

static void
op_enable(struct vhu_fuzz_in *in)
{
	uint8_t b = vhu_fuzz_u8(in);
	unsigned int r = (b & 3) % S.nrings;
	int ret = handle(vhu_msg_set_vring_enable, r, (b >> 2) & 1, NULL, -1);

	VHU_FUZZ_CHECK(ret == 0, "ring %u: SET_VRING_ENABLE: %d", r, ret);
	S.ring[r].enabled = (b >> 2) & 1;
	if (b & 8)
		set_call(r, (b & 0x10) != 0);
	vhu_dev_release(S.dev, VHU_PAUSE_RING, (uint16_t)r);
}

static void
op_features(struct vhu_fuzz_in *in)
{
	uint64_t f = take_features(in);
	uint8_t v = vhu_fuzz_u8(in);

	if (v & 1) {
		/* The ring format cannot change under a started ring. */
		struct vhu_msg msg;
		struct vhu_reply reply;
		bool any = false;
		unsigned int r;
		int ret;

		for (r = 0; r < S.nrings; r++)
			any = any || S.ring[r].started;
		memset(&msg, 0, sizeof(msg));
		msg.payload.u64 = f & ~VHU_BIT(VIRTIO_F_RING_PACKED);
		ret = vhu_msg_set_features(S.dev, &msg, &reply);
		VHU_FUZZ_CHECK(ret == (any ? -EBUSY : 0),
			       "SET_FEATURES without RING_PACKED, a ring "
			       "started %d: %d", any, ret);
		if (ret == 0 && !(f & VHU_BIT(VHU_F_PROTOCOL_FEATURES)))
			for (r = 0; r < S.nrings; r++)
				S.ring[r].enabled = true;
		vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
	}
	set_features(f);
}

/* The dirty log's size; b bit 2: SET_VRING_ADDR again on ring b & 3,
 * VHOST_VRING_F_LOG as bit 3 says. */
static void
op_log(struct vhu_fuzz_in *in)
{
	uint8_t size = vhu_fuzz_u8(in), b = vhu_fuzz_u8(in);
	unsigned int r = (b & 3) % S.nrings;

	set_log(size);
	if (b & 4) {
		set_addr(r, (b & 8) != 0);
		vhu_dev_release(S.dev, VHU_PAUSE_RING, (uint16_t)r);
	}
}

/* A new memory table under running rings: A and L with B, or with S.
 * Refused whole if a started ring would not translate in it. */
static void
op_mem(struct vhu_fuzz_in *in)
{
	static const struct vhu_wire_mem_region drop[2] = {
		{ .guest_phys_addr = GPA_S, .memory_size = SIZE_S,
		  .userspace_addr = GPA_S + FE_VA_OFF },
		{ .guest_phys_addr = GPA_B, .memory_size = SIZE_B,
		  .userspace_addr = GPA_B + FE_VA_OFF },
	};
	bool no_b = vhu_fuzz_u8(in) & 1, ok = true;
	struct greg was = S.mregs[1];
	struct vhu_mem_table *mem;
	unsigned int r;
	int ret;

	S.mregs[1] = S.all[no_b ? REG_S : REG_B];
	for (r = 0; r < S.nrings; r++)
		if (S.ring[r].started && !addr_ok(&S.ring[r], S.ring[r].num))
			ok = false;
	ret = vhu_mem_table_remove(S.tmpl, &drop[no_b], &mem);
	VHU_FUZZ_CHECK(ret == 0 && mem->nregions == 3, "table: %d", ret);
	ret = vhu_dev_set_mem(S.dev, mem);
	VHU_FUZZ_CHECK((ret == 0) == ok, "a table %s B: %d, the model says %s",
		       no_b ? "without" : "with", ret, ok ? "taken" : "refused");
	if (!ok)
		S.mregs[1] = was;
	vhu_dev_release(S.dev, VHU_PAUSE_DEVICE, 0);
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
	S.rarp = true;
}

/* ---- after every operation ---- */

static NOCOV void
check_rings(void)
{
	unsigned int r, i;

	for (r = 0; r < S.nrings; r++) {
		const struct mring *m = &S.ring[r];
		const struct vhu_vring *vr = vring(r);
		const uint64_t *now = (const uint64_t *)&vr->stats;
		const uint64_t *was = (const uint64_t *)&S.stats[r];

		RTE_BUILD_BUG_ON(sizeof(struct vhu_ring_stats) %
				 sizeof(uint64_t) != 0);
		for (i = 0; i < sizeof(struct vhu_ring_stats) /
		     sizeof(uint64_t); i++)
			VHU_FUZZ_CHECK(now[i] >= was[i], "ring %u: counter %u "
				       "went from %" PRIu64 " to %" PRIu64, r,
				       i, was[i], now[i]);
		S.stats[r] = vr->stats;
		VHU_FUZZ_CHECK(vr->started == m->started &&
			       vr->enabled == m->enabled &&
			       vr->dp_broken == m->dpb &&
			       vr->broken == m->broken &&
			       vr->packed == has(VIRTIO_F_RING_PACKED),
			       "ring %u: started %d enabled %d dp_broken %d "
			       "broken %d packed %d; the model: %d %d %d %d",
			       r, vr->started, vr->enabled, vr->dp_broken,
			       vr->broken, vr->packed, m->started, m->enabled,
			       m->dpb, m->broken);
		VHU_FUZZ_CHECK(vr->dp_mode == model_mode(m) &&
			       vr->dp_mode == vhu_vring_derive_mode(vr),
			       "ring %u: mode %u, the model says %u", r,
			       vr->dp_mode, model_mode(m));
		if (!m->started)
			continue;
		VHU_FUZZ_CHECK(vr->size == m->size &&
			       vr->last_avail_idx < vr->size &&
			       vr->last_used_idx < vr->size &&
			       vr->last_avail_idx == m->avail &&
			       vr->avail_wrap == m->aw &&
			       vr->last_used_idx == m->used &&
			       vr->used_wrap == m->uw &&
			       vr->vnet_hdr_len == hdr_len(),
			       "ring %u (size %u): avail %u/%d used %u/%d; the "
			       "model: avail %u/%d used %u/%d", r, vr->size,
			       vr->last_avail_idx, vr->avail_wrap,
			       vr->last_used_idx, vr->used_wrap, m->avail,
			       m->aw, m->used, m->uw);
	}
}

/* ---- libFuzzer ---- */

static void
do_op(struct vhu_fuzz_in *in, uint8_t op)
{
	trace("%s", op_names[op]);
	switch (op) {
	case OP_POST:
		op_post(in);
		break;
	case OP_DESC:
		op_desc(in);
		break;
	case OP_EVENT:
		op_event(in);
		break;
	case OP_PUBLISH:
		op_publish(in);
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
		op_features(in);
		break;
	case OP_LOG:
		op_log(in);
		break;
	case OP_RARP:
		op_rarp(in);
		break;
	case OP_WRITE:
		op_write(in);
		break;
	case OP_MEM:
		op_mem(in);
		break;
	default: /* OP_REPEAT: the caller's */
		break;
	}
	check_rings();
	/* A start writes the device event flags; the other control
	 * operations write nothing (checked at the end of the input). */
	if (op == OP_RESTART)
		shadow_check(op_names[op]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_fuzz_in in;
	unsigned int i;

	vhu_fuzz_in_init(&in, data, size);
	clean_guest();
	memset(S.ring, 0, sizeof(S.ring));
	S.features = 0;
	S.rarp = false;
	S.l_next = 0;
	S.l_hw = 0;
	dev_setup(&in);
	check_rings();
	vhu_fuzz_run_ops(&in, OP_COUNT, OP_REPEAT,
			 1u << OP_DEQ | 1u << OP_ENQ, do_op);

	shadow_check("the input's operations");
	vhu_dev_reset(S.dev, true);
	for (i = 0; i < S.nrings; i++)
		VHU_FUZZ_CHECK(!vring(i)->started && !vring(i)->enabled &&
			       vring(i)->call_fd < 0,
			       "ring %u not reset", i);
	VHU_FUZZ_CHECK(S.dev->mem == NULL && S.dev->log_base == NULL,
		       "memory or log left after the reset");
	vhu_dev_destroy(S.dev);
	S.dev = NULL;
	pools_full();
	for (i = 0; i < S.tmpl->nregions; i++)
		VHU_FUZZ_CHECK(S.tmpl->regions[i].mapping->refcnt == 1,
			       "region %u: %u references to its mapping", i,
			       S.tmpl->regions[i].mapping->refcnt);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vhu_wire_mem_region w[NREG] = {
		{ GPA_A, SIZE_A, GPA_A + FE_VA_OFF, 0 },
		{ GPA_B, SIZE_B, GPA_B + FE_VA_OFF, 0 },
		{ GPA_S, SIZE_S, GPA_S + FE_VA_OFF, SIZE_B },
		{ GPA_L, SIZE_L, GPA_L + FE_VA_OFF, 0 },
	};
	uint8_t *host_a, *host_bs, *host_l;
	int fds[NREG], ret;
	unsigned int i;

	RTE_SET_USED(argc);
	vhu_fuzz_eal_init((*argv)[0]);
	S.trace = getenv("VHU_FUZZ_PACKED_TRACE") != NULL;
	fds[0] = vhu_fuzz_memfd("vhu-fuzz-packed-a", SIZE_A, &host_a);
	fds[1] = vhu_fuzz_memfd("vhu-fuzz-packed-bs", SIZE_B + SIZE_S,
				&host_bs);
	fds[2] = fds[1];
	fds[3] = vhu_fuzz_memfd("vhu-fuzz-packed-l", SIZE_L, &host_l);
	S.all[REG_A] = (struct greg){ GPA_A, SIZE_A, host_a, NULL };
	S.all[REG_B] = (struct greg){ GPA_B, SIZE_B, host_bs, NULL };
	S.all[REG_S] = (struct greg){ GPA_S, SIZE_S, host_bs + SIZE_B, NULL };
	S.all[REG_L] = (struct greg){ GPA_L, SIZE_L, host_l, NULL };
	for (i = 0; i < NREG; i++) {
		S.all[i].shadow = calloc(1, S.all[i].size);
		VHU_FUZZ_CHECK(S.all[i].shadow != NULL, "shadow memory");
	}
	ret = vhu_mem_table_from_message(w, NREG, fds, 1, &S.tmpl);
	VHU_FUZZ_CHECK(ret == 0, "template memory table: %d", ret);
	close(fds[0]);
	close(fds[1]);
	close(fds[3]);

	S.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	VHU_FUZZ_CHECK(S.efd >= 0, "eventfd: %s", strerror(errno));
	S.pool = rte_pktmbuf_pool_create("fuzz_packed", POOL_SIZE, 64, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	/* No cache: an allocation fails exactly when fewer are left. */
	S.tiny = rte_pktmbuf_pool_create("fuzz_packed_tiny", TINY_POOL_SIZE,
					 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	S.scratch = rte_pktmbuf_pool_create("fuzz_packed_x", SCRATCH_POOL_SIZE,
					    0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	VHU_FUZZ_CHECK(S.pool != NULL && S.tiny != NULL && S.scratch != NULL,
		       "mempools: %s", rte_strerror(rte_errno));
	vhu_fuzz_pattern_init();
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue (VIRTIO 1.1+ section 2.8), driver (guest) side: chains
 * in consecutive ring slots under wrap counters, buffer ids from a free
 * list, head flags stored last, used descriptors read back in ring order,
 * in-order batches.
 *
 * As for split rings, the bookkeeping lives in host memory: which ids are
 * in flight, how many slots each took, and in what order the buffers were
 * made available. Everything the device writes is checked against it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhu_fe_ring_priv.h"

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))

/* A used element as the driver returns it. */
struct pused {
	uint16_t id;
	uint32_t len;          /* what get_used reports */
	uint16_t slots;        /* ring slots its buffer occupied */
	bool raw;
	unsigned int batch;    /* buffers the used descriptor returns (in order) */
	uint32_t dev_len;      /* len the device wrote in that descriptor */
};

static size_t
desc_bytes(unsigned int num)
{
	return sizeof(struct vring_packed_desc) * num;
}

static size_t
indirect_bytes(unsigned int num)
{
	return sizeof(struct vring_packed_desc) * VHU_FE_MAX_SEGS * num;
}

uint64_t
vhu_fe_packed_mem_need(unsigned int num, bool with_indirect)
{
	uint64_t need = desc_bytes(num) +
			2 * sizeof(struct vring_packed_desc_event) + 3 * RING_ALIGN;

	if (with_indirect)
		need += indirect_bytes(num) + RING_ALIGN;
	return need;
}

uint32_t
vhu_fe_packed_base_encode(const struct vhu_fe_packed_base *b)
{
	return (uint32_t)(b->avail_idx & 0x7fff) |
	       (uint32_t)b->avail_wrap << 15 |
	       (uint32_t)(b->used_idx & 0x7fff) << 16 |
	       (uint32_t)b->used_wrap << 31;
}

void
vhu_fe_packed_base_decode(uint32_t v, struct vhu_fe_packed_base *b)
{
	b->avail_idx = (uint16_t)(v & 0x7fff);
	b->avail_wrap = (v >> 15) & 1;
	b->used_idx = (uint16_t)((v >> 16) & 0x7fff);
	b->used_wrap = (v >> 31) & 1;
}

/* AVAIL/USED bits of a descriptor made available under wrap counter w:
 * AVAIL = w, USED = !w. */
static uint16_t
avail_bits(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/* The device marks a descriptor used with AVAIL = USED = its wrap
 * counter, which is the driver's used wrap counter at that slot. */
static bool
is_used(uint16_t flags, bool wrap)
{
	return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) == wrap;
}

/* Move a ring position n (<= num) slots on, flipping the wrap counter
 * when it passes the end. */
static void
step(const struct vhu_fe_vring *vr, uint16_t *pos, bool *wrap, unsigned int n)
{
	unsigned int p = *pos + n;

	if (p >= vr->num) {
		p -= vr->num;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* Position and wrap counter as one number in 0..2*num-1, so that
 * distances between positions of different laps can be compared. */
static unsigned int
linear(const struct vhu_fe_vring *vr, uint16_t pos, bool wrap)
{
	return pos + (wrap ? 0 : vr->num);
}

static unsigned int
distance(const struct vhu_fe_vring *vr, unsigned int from, unsigned int to)
{
	return (to + 2 * vr->num - from) % (2 * vr->num);
}

/* ---- memory and state ---- */

int
vhu_fe_packed_alloc(struct vhu_fe_vring *vr, struct vhu_fe_mem *mem,
		    bool with_indirect)
{
	unsigned int num = vr->num;

	vr->fifo = calloc(num, sizeof(*vr->fifo));
	vr->pend_pos = calloc(num, sizeof(uint16_t));
	vr->pend_flags = calloc(num, sizeof(uint16_t));
	if (vr->fifo == NULL || vr->pend_pos == NULL || vr->pend_flags == NULL)
		return -ENOMEM;
	/* RING_ALIGN covers the 16 (ring) and 4 (event areas) the spec asks. */
	vr->pdesc = vhu_fe_ring_alloc(mem, desc_bytes(num), &vr->desc_gpa);
	vr->driver_event = vhu_fe_ring_alloc(mem, sizeof(*vr->driver_event),
					     &vr->avail_gpa);
	vr->device_event = vhu_fe_ring_alloc(mem, sizeof(*vr->device_event),
					     &vr->used_gpa);
	if (vr->pdesc == NULL || vr->driver_event == NULL ||
	    vr->device_event == NULL)
		return -ENOMEM;
	if (with_indirect) {
		vr->pindirect = vhu_fe_ring_alloc(mem, indirect_bytes(num),
						  &vr->indirect_gpa);
		if (vr->pindirect == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
vhu_fe_packed_free(struct vhu_fe_vring *vr)
{
	free(vr->fifo);
	free(vr->pend_pos);
	free(vr->pend_flags);
}

void
vhu_fe_packed_init_state(struct vhu_fe_vring *vr)
{
	/* Both wrap counters start at 1 (VIRTIO 1.1 2.8.1). */
	vr->avail_wrap = true;
	vr->pub_idx = 0;
	vr->pub_wrap = true;
	memset(&vr->used_cur, 0, sizeof(vr->used_cur));
	vr->used_cur.wrap = true;
	vr->fifo_head = vr->fifo_count = 0;
	vr->npend = 0;
	vhu_fe_packed_set_interrupts(vr, vr->interrupts);
}

void
vhu_fe_packed_zero(struct vhu_fe_vring *vr)
{
	memset(vr->pdesc, 0, desc_bytes(vr->num));
	memset(vr->driver_event, 0, sizeof(*vr->driver_event));
	memset(vr->device_event, 0, sizeof(*vr->device_event));
	if (vr->pindirect != NULL)
		memset(vr->pindirect, 0, indirect_bytes(vr->num));
}

/* ---- buffers in flight, in the order they were made available ---- */

static struct vhu_fe_pbuf *
fifo_at(const struct vhu_fe_vring *vr, unsigned int k)
{
	return &vr->fifo[(vr->fifo_head + k) % vr->num];
}

/* Never overflows: each buffer holds at least one of the num slots. */
static void
fifo_push(struct vhu_fe_vring *vr, uint16_t id, uint16_t slots, bool raw)
{
	*fifo_at(vr, vr->fifo_count) = (struct vhu_fe_pbuf){ id, slots, raw };
	vr->fifo_count++;
}

/* First entry at or after `from` with this id (and, when raw >= 0, this
 * kind), or -1. */
static int
fifo_find(const struct vhu_fe_vring *vr, unsigned int from, uint16_t id,
	  int raw)
{
	for (unsigned int k = from; k < vr->fifo_count; k++) {
		const struct vhu_fe_pbuf *b = fifo_at(vr, k);

		if (b->id == id && (raw < 0 || b->raw == (raw != 0)))
			return (int)k;
	}
	return -1;
}

/* Drop entry k. Devices mostly complete in order, so k is small: move the
 * entries before it up by one rather than the ones after it. */
static void
fifo_remove(struct vhu_fe_vring *vr, unsigned int k)
{
	for (unsigned int j = k; j > 0; j--)
		*fifo_at(vr, j) = *fifo_at(vr, j - 1);
	vr->fifo_head = (vr->fifo_head + 1) % vr->num;
	vr->fifo_count--;
}

/* ---- driver side: making buffers available ---- */

/* Write one descriptor at the next slot; its flags only when it is not
 * the head (those are stored by publish). Returns the flags. */
static uint16_t
put_desc(struct vhu_fe_vring *vr, uint64_t addr, uint32_t len, uint16_t id,
	 uint16_t flags, bool head)
{
	struct vring_packed_desc *d = &vr->pdesc[vr->avail_idx];

	flags = (uint16_t)((flags & ~(F_AVAIL | F_USED)) |
			   avail_bits(vr->avail_wrap));
	d->addr = addr;
	d->len = len;
	d->id = id;
	if (!head)
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELAXED);
	step(vr, &vr->avail_idx, &vr->avail_wrap, 1);
	return flags;
}

/* Queue the head at `pos` for publish, which stores its flags last. */
static void
defer_head(struct vhu_fe_vring *vr, uint16_t pos, uint16_t flags)
{
	vr->pend_pos[vr->npend] = pos;
	vr->pend_flags[vr->npend] = flags;
	vr->npend++;
}

/* The chain in consecutive slots, the id in every descriptor (the spec
 * needs it in the last one only). */
static void
put_chain(struct vhu_fe_vring *vr, uint16_t id, const struct vhu_fe_seg *segs,
	  unsigned int nsegs)
{
	uint16_t head = vr->avail_idx, head_flags = 0;

	for (unsigned int i = 0; i < nsegs; i++) {
		uint16_t f = (uint16_t)((segs[i].write ? VRING_DESC_F_WRITE : 0) |
					(i + 1 < nsegs ? VRING_DESC_F_NEXT : 0));

		f = put_desc(vr, segs[i].gpa, segs[i].len, id, f, i == 0);
		if (i == 0)
			head_flags = f;
	}
	defer_head(vr, head, head_flags);
}

/* One ring slot pointing at id's table. Packed indirect tables are read
 * in order: no NEXT flags, only WRITE (VIRTIO 1.1 2.8.19). */
static void
put_indirect(struct vhu_fe_vring *vr, uint16_t id, const struct vhu_fe_seg *segs,
	     unsigned int nsegs)
{
	struct vring_packed_desc *t = &vr->pindirect[id * VHU_FE_MAX_SEGS];
	uint16_t head = vr->avail_idx, f;

	for (unsigned int i = 0; i < nsegs; i++) {
		t[i].addr = segs[i].gpa;
		t[i].len = segs[i].len;
		t[i].id = 0;
		t[i].flags = segs[i].write ? VRING_DESC_F_WRITE : 0;
	}
	f = put_desc(vr, vr->indirect_gpa + (uint64_t)id * VHU_FE_MAX_SEGS *
			 sizeof(struct vring_packed_desc),
		     nsegs * (uint32_t)sizeof(struct vring_packed_desc), id,
		     VRING_DESC_F_INDIRECT, true);
	defer_head(vr, head, f);
}

int
vhu_fe_packed_add(struct vhu_fe_vring *vr, const struct vhu_fe_seg *segs,
		  unsigned int nsegs, bool indirect)
{
	unsigned int need = indirect ? 1 : nsegs;
	uint16_t id = vr->free_head;

	/* num_free > 0 implies a free id: every id in flight holds a slot. */
	if (vr->num_free < need)
		return -ENOSPC;
	if (indirect)
		put_indirect(vr, id, segs, nsegs);
	else
		put_chain(vr, id, segs, nsegs);
	vr->free_head = vr->next[id];
	vr->chain[id] = (uint16_t)need;
	vr->num_free -= need;
	vr->inflight++;
	fifo_push(vr, id, (uint16_t)need, false);
	return id;
}

bool
vhu_fe_packed_publish(struct vhu_fe_vring *vr)
{
	if (vr->npend == 0)
		return false;
	/* In ring order, each with release: the device reads heads in ring
	 * order and a chain only once its head is available. */
	for (unsigned int i = 0; i < vr->npend; i++)
		__atomic_store_n(&vr->pdesc[vr->pend_pos[i]].flags,
				 vr->pend_flags[i], __ATOMIC_RELEASE);
	vr->npend = 0;
	vr->pub_idx = vr->avail_idx;
	vr->pub_wrap = vr->avail_wrap;
	/* The stores above must be visible before we read the device's
	 * flags, or both sides may decide the other one will act. DESC
	 * (notify at a given descriptor) is treated as ENABLE: at worst an
	 * extra kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vr->device_event->flags, __ATOMIC_RELAXED) !=
	       VRING_PACKED_EVENT_FLAG_DISABLE;
}

/* ---- used side ---- */

static int
bad_used(const struct vhu_fe_vring *vr, const struct vhu_fe_pcursor *c,
	 uint16_t id, const char *why)
{
	VHU_FE_LOG("ring %u: used descriptor at slot %u (wrap %d) has id %u, "
		   "which is %s", vr->index, c->pos, c->wrap, id, why);
	return -EPROTO;
}

/* The next buffer of the in-order batch the cursor is in. */
static void
batch_elem(const struct vhu_fe_vring *vr, const struct vhu_fe_pcursor *c,
	   struct pused *e)
{
	const struct vhu_fe_pbuf *b = fifo_at(vr, c->fifo);

	e->id = b->id;
	e->slots = b->slots;
	e->raw = b->raw;
	e->batch = c->batch_left;
	e->dev_len = c->batch_len;
	e->len = c->batch_left == 1 ? c->batch_len : 0;
}

/* In order: the used id names the last buffer of a batch that starts
 * with the oldest one the cursor has not passed. */
static int
in_order_elem(const struct vhu_fe_vring *vr, const struct vhu_fe_pcursor *c,
	      uint16_t id, uint32_t len, struct pused *e)
{
	int k = fifo_find(vr, c->fifo, id, -1);
	const struct vhu_fe_pbuf *b;

	if (k < 0)
		return bad_used(vr, c, id, "not in flight (in order)");
	b = fifo_at(vr, c->fifo);
	e->id = b->id;
	e->slots = b->slots;
	e->raw = b->raw;
	e->batch = (unsigned int)k - c->fifo + 1;
	e->dev_len = len;
	e->len = e->batch == 1 ? len : 0;
	return 0;
}

/* The used element at cursor c: 0 and *e, -ENOENT (the device has not
 * written it yet) or -EPROTO (it names a buffer not in flight). */
static int
used_at(const struct vhu_fe_vring *vr, const struct vhu_fe_pcursor *c,
	struct pused *e)
{
	const struct vring_packed_desc *d = &vr->pdesc[c->pos];
	uint16_t flags, id;
	uint32_t len;

	if (c->batch_left > 0) {
		batch_elem(vr, c, e);
		return 0;
	}
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if (!is_used(flags, c->wrap))
		return -ENOENT;
	id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	if (id >= vr->num)
		return bad_used(vr, c, id, "out of range");
	if (vr->in_order)
		return in_order_elem(vr, c, id, len, e);
	if (vr->chain[id] == 0 && vr->raw[id] == 0)
		return bad_used(vr, c, id, "not in flight");
	e->id = id;
	e->len = e->dev_len = len;
	e->batch = 1;
	/* As on split rings, a raw push of the id goes first. */
	e->raw = vr->raw[id] > 0;
	e->slots = vr->chain[id];
	if (e->raw) {
		int k = fifo_find(vr, 0, id, 1);
		e->slots = k < 0 ? 1 : fifo_at(vr, (unsigned int)k)->slots;
	}
	return 0;
}

/* Past element e: its buffer's slots (the device's next used descriptor
 * goes there), and through the batch it belongs to. */
static void
advance(const struct vhu_fe_vring *vr, struct vhu_fe_pcursor *c,
	const struct pused *e)
{
	if (c->batch_left == 0 && e->batch > 1) {
		c->batch_left = e->batch;
		c->batch_len = e->dev_len;
	}
	if (c->batch_left > 0)
		c->batch_left--;
	step(vr, &c->pos, &c->wrap, e->slots);
	if (vr->in_order)
		c->fifo++;
}

int
vhu_fe_packed_used_pending(struct vhu_fe_vring *vr)
{
	struct vhu_fe_pcursor c = vr->used_cur;
	struct pused e;
	unsigned int n = 0;
	int rc;

	for (;;) {
		rc = used_at(vr, &c, &e);
		if (rc == -ENOENT)
			return (int)n;
		if (rc < 0)
			return rc;
		if (n == vr->inflight) {
			VHU_FE_LOG("ring %u: more used descriptors than the %u "
				   "buffers in flight", vr->index, vr->inflight);
			return -EPROTO;
		}
		advance(vr, &c, &e);
		n++;
	}
}

int
vhu_fe_packed_peek_used(struct vhu_fe_vring *vr, unsigned int off,
			uint16_t *id, uint32_t *len)
{
	struct vhu_fe_pcursor c = vr->used_cur;
	struct pused e;

	if (off >= vr->inflight)
		return -ENOENT;
	for (unsigned int k = 0;; k++) {
		int rc = used_at(vr, &c, &e);

		if (rc < 0)
			return rc;
		if (k == off)
			break;
		advance(vr, &c, &e);
	}
	*id = e.id;
	*len = e.len;
	return 0;
}

/* Forget element e's buffer: its slots become free, its id too (unless it
 * was a raw push). */
static void
release(struct vhu_fe_vring *vr, const struct pused *e)
{
	int k = vr->in_order ? 0 : fifo_find(vr, 0, e->id, e->raw);

	if (k >= 0)
		fifo_remove(vr, (unsigned int)k);
	vr->num_free += e->slots;
	vr->inflight--;
	if (e->raw) {
		vr->raw[e->id]--;
		return;
	}
	vr->chain[e->id] = 0;
	vr->next[e->id] = vr->free_head;
	vr->free_head = e->id;
}

int
vhu_fe_packed_get_used(struct vhu_fe_vring *vr, uint16_t *id, uint32_t *len)
{
	struct pused e;
	int rc;

	/* Nothing in flight: a used descriptor here is still checked. */
	rc = used_at(vr, &vr->used_cur, &e);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	advance(vr, &vr->used_cur, &e);
	vr->used_cur.fifo = 0;     /* the list front moves instead */
	release(vr, &e);
	*id = e.id;
	*len = e.len;
	return 1;
}

void
vhu_fe_packed_set_interrupts(struct vhu_fe_vring *vr, bool on)
{
	__atomic_store_n(&vr->driver_event->flags,
			 on ? VRING_PACKED_EVENT_FLAG_ENABLE :
			      VRING_PACKED_EVENT_FLAG_DISABLE,
			 __ATOMIC_RELAXED);
}

void
vhu_fe_packed_get_raw(const struct vhu_fe_vring *vr,
		      struct vhu_fe_vring_raw *raw)
{
	raw->packed = true;
	raw->pdesc = vr->pdesc;
	raw->driver_event = vr->driver_event;
	raw->device_event = vr->device_event;
	raw->desc_gpa = vr->desc_gpa;
	raw->avail_gpa = vr->avail_gpa;
	raw->used_gpa = vr->used_gpa;
	raw->num = (uint16_t)vr->num;
	raw->avail_idx = vr->avail_idx;
	raw->avail_wrap = vr->avail_wrap;
	raw->last_used = vr->used_cur.pos;
	raw->used_wrap = vr->used_cur.wrap;
}

/* ---- raw pushes ---- */

/* Buffers of a raw push: each ends at a descriptor without NEXT (or at
 * the last one) and is named by the id of its last descriptor. Calls
 * fn(vr, id, slots) for each; stops at the first non-zero return. */
static int
raw_buffers(struct vhu_fe_vring *vr, const struct vring_packed_desc *descs,
	    unsigned int n,
	    int (*fn)(struct vhu_fe_vring *, uint16_t, uint16_t))
{
	unsigned int start = 0;

	for (unsigned int i = 0; i < n; i++) {
		if ((descs[i].flags & VRING_DESC_F_NEXT) && i + 1 < n)
			continue;
		int rc = fn(vr, descs[i].id, (uint16_t)(i + 1 - start));
		if (rc != 0)
			return rc;
		start = i + 1;
	}
	return 0;
}

static int
raw_check_one(struct vhu_fe_vring *vr, uint16_t id, uint16_t slots)
{
	(void)slots;
	if (id < vr->num)
		return 0;
	VHU_FE_LOG("ring %u: raw push of buffer id %u beyond ring size %u",
		   vr->index, id, vr->num);
	return -EINVAL;
}

static int
raw_track_one(struct vhu_fe_vring *vr, uint16_t id, uint16_t slots)
{
	vr->raw[id]++;
	vr->inflight++;
	fifo_push(vr, id, slots, true);
	return 0;
}

int
vhu_fe_vring_push_raw_packed(struct vhu_fe_vring *vr,
			     const struct vring_packed_desc *descs,
			     unsigned int n)
{
	uint16_t head = vr->avail_idx, head_flags = 0;
	int rc;

	if (!vr->packed) {
		VHU_FE_LOG("ring %u is split: raw pushes go through "
			   "vhu_fe_vring_push_raw()", vr->index);
		return -EINVAL;
	}
	if (descs == NULL || n == 0) {
		VHU_FE_LOG("ring %u: raw push of no descriptors", vr->index);
		return -EINVAL;
	}
	if (n > vr->num_free)
		return -ENOSPC;
	rc = raw_buffers(vr, descs, n, raw_check_one);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t f = put_desc(vr, descs[i].addr, descs[i].len,
				      descs[i].id, descs[i].flags, i == 0);
		if (i == 0)
			head_flags = f;
	}
	defer_head(vr, head, head_flags);
	vr->num_free -= n;
	raw_buffers(vr, descs, n, raw_track_one);
	vhu_fe_packed_publish(vr);
	return 0;
}

/* ---- ring base (SET/GET_VRING_BASE) ---- */

/* From the driver's next used slot on come the device's used index, then
 * its avail index, then the end of what the driver published. */
static bool
base_fits(const struct vhu_fe_vring *vr, const struct vhu_fe_packed_base *b)
{
	unsigned int from = linear(vr, vr->used_cur.pos, vr->used_cur.wrap);
	unsigned int du, da, dp;

	if (b->avail_idx >= vr->num || b->used_idx >= vr->num)
		return false;
	du = distance(vr, from, linear(vr, b->used_idx, b->used_wrap));
	da = distance(vr, from, linear(vr, b->avail_idx, b->avail_wrap));
	dp = distance(vr, from, linear(vr, vr->pub_idx, vr->pub_wrap));
	return du <= da && da <= dp;
}

int
vhu_fe_packed_check_base(const struct vhu_fe_vring *vr, uint32_t *base)
{
	struct vhu_fe_packed_base b;

	vhu_fe_packed_base_decode(*base, &b);
	if (base_fits(vr, &b))
		return 0;
	/* DPDK's vhost (22.11) answers with bits 0-15 only, and on
	 * SET_VRING_BASE takes used = avail, the ring having stopped: accept
	 * that form when it fits, and remember it with both halves. */
	if (*base >> 16 == 0) {
		struct vhu_fe_packed_base both = b;

		both.used_idx = b.avail_idx;
		both.used_wrap = b.avail_wrap;
		if (base_fits(vr, &both)) {
			VHU_FE_LOG("ring %u: back-end's base 0x%08x has no used "
				   "half (DPDK's form): taking used = avail",
				   vr->index, *base);
			*base = vhu_fe_packed_base_encode(&both);
			return 0;
		}
	}
	VHU_FE_LOG("ring %u: back-end's base 0x%08x (avail %u wrap %d, used %u "
		   "wrap %d) does not fit the driver's ring: published up to "
		   "%u wrap %d, used read up to %u wrap %d, size %u", vr->index,
		   *base, b.avail_idx, b.avail_wrap, b.used_idx, b.used_wrap,
		   vr->pub_idx, vr->pub_wrap, vr->used_cur.pos,
		   vr->used_cur.wrap, vr->num);
	return -EPROTO;
}

uint32_t
vhu_fe_packed_resume_base(const struct vhu_fe_vring *vr)
{
	struct vhu_fe_pcursor c = vr->used_cur;
	struct vhu_fe_packed_base b;
	struct pused e;

	/* Past every used descriptor the device wrote: it resumes reading
	 * and writing there, as QEMU restarts a ring from its used index. */
	for (unsigned int n = 0; n < vr->inflight; n++) {
		if (used_at(vr, &c, &e) != 0)
			break;
		advance(vr, &c, &e);
	}
	b.avail_idx = b.used_idx = c.pos;
	b.avail_wrap = b.used_wrap = c.wrap;
	return vhu_fe_packed_base_encode(&b);
}

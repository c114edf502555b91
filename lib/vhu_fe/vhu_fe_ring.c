/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue, driver (guest) side: the ring object and what both formats
 * share, and the split ring itself: descriptor free list, chains and
 * indirect tables, avail publication, used consumption. Packed rings live
 * in vhu_fe_packed.c; every public function here hands them over.
 *
 * Bookkeeping (free list links, chain lengths, what is in flight) lives in
 * host memory, so a test that corrupts the ring memory on purpose cannot
 * corrupt the front-end; and every used entry the device returns is
 * checked against it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vhu_fe_ring_priv.h"

static size_t
avail_bytes(unsigned int num)
{
	return sizeof(struct vring_avail) + sizeof(uint16_t) * (num + 1);
}

static size_t
used_bytes(unsigned int num)
{
	return sizeof(struct vring_used) +
	       sizeof(struct vring_used_elem) * num + sizeof(uint16_t);
}

static size_t
indirect_bytes(unsigned int num)
{
	return sizeof(struct vring_desc) * VHU_FE_MAX_SEGS * num;
}

uint64_t
vhu_fe_vring_mem_need(unsigned int num, bool with_indirect, bool packed)
{
	if (packed)
		return vhu_fe_packed_mem_need(num, with_indirect);

	uint64_t need = sizeof(struct vring_desc) * (uint64_t)num +
			avail_bytes(num) + used_bytes(num) + 3 * RING_ALIGN;

	if (with_indirect)
		need += indirect_bytes(num) + RING_ALIGN;
	return need;
}

/* Both formats: every descriptor (split) or buffer id (packed) free,
 * nothing in flight. */
static void
ring_init_state(struct vhu_fe_vring *vr)
{
	vr->avail_idx = 0;
	vr->free_head = 0;
	vr->num_free = vr->num;
	vr->inflight = 0;
	for (unsigned int i = 0; i < vr->num; i++) {
		vr->next[i] = (uint16_t)(i + 1);
		vr->chain[i] = 0;
		vr->raw[i] = 0;
	}
	if (vr->packed) {
		vhu_fe_packed_init_state(vr);
		return;
	}
	vr->published = vr->last_used = 0;
	__atomic_store_n(&vr->avail->flags,
			 vr->interrupts ? 0 : VRING_AVAIL_F_NO_INTERRUPT,
			 __ATOMIC_RELAXED);
}

void *
vhu_fe_ring_alloc(struct vhu_fe_mem *mem, size_t size, uint64_t *gpa)
{
	void *p = vhu_fe_mem_alloc(mem, size, RING_ALIGN);

	if (p != NULL)
		*gpa = vhu_fe_mem_to_gpa(mem, p, size);
	return p;
}

/* Guest memory of a split ring. 0 or -ENOMEM. */
static int
split_alloc(struct vhu_fe_vring *vr, struct vhu_fe_mem *mem, bool with_indirect)
{
	unsigned int num = vr->num;

	vr->desc = vhu_fe_ring_alloc(mem, sizeof(struct vring_desc) * num,
				     &vr->desc_gpa);
	vr->avail = vhu_fe_ring_alloc(mem, avail_bytes(num), &vr->avail_gpa);
	vr->used = vhu_fe_ring_alloc(mem, used_bytes(num), &vr->used_gpa);
	if (vr->desc == NULL || vr->avail == NULL || vr->used == NULL)
		return -ENOMEM;
	if (with_indirect) {
		vr->indirect = vhu_fe_ring_alloc(mem, indirect_bytes(num),
						 &vr->indirect_gpa);
		if (vr->indirect == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
ring_create(struct vhu_fe_mem *mem, unsigned int num, bool with_indirect,
	    bool packed, struct vhu_fe_vring **out)
{
	struct vhu_fe_vring *vr;

	*out = NULL;
	vr = calloc(1, sizeof(*vr));
	if (vr == NULL)
		goto nomem;
	vr->num = num;
	vr->packed = packed;
	vr->next = calloc(num, sizeof(uint16_t));
	vr->chain = calloc(num, sizeof(uint16_t));
	vr->raw = calloc(num, sizeof(uint16_t));
	if (vr->next == NULL || vr->chain == NULL || vr->raw == NULL)
		goto nomem;
	if ((packed ? vhu_fe_packed_alloc(vr, mem, with_indirect) :
		      split_alloc(vr, mem, with_indirect)) < 0)
		goto nomem;
	ring_init_state(vr);
	*out = vr;
	return 0;
nomem:
	VHU_FE_LOG("cannot allocate a %s ring of %u entries (host or guest "
		   "memory exhausted)", packed ? "packed" : "split", num);
	vhu_fe_vring_destroy(vr);
	return -ENOMEM;
}

int
vhu_fe_vring_create(struct vhu_fe_mem *mem, unsigned int num,
		    bool with_indirect, struct vhu_fe_vring **out)
{
	*out = NULL;
	if (num == 0 || num > VHU_FE_MAX_QUEUE_SIZE || (num & (num - 1)) != 0) {
		VHU_FE_LOG("ring size %u: must be a power of two in 1..%u",
			   num, VHU_FE_MAX_QUEUE_SIZE);
		return -EINVAL;
	}
	return ring_create(mem, num, with_indirect, false, out);
}

int
vhu_fe_vring_create_packed(struct vhu_fe_mem *mem, unsigned int num,
			   bool with_indirect, struct vhu_fe_vring **out)
{
	*out = NULL;
	/* Packed rings need not be a power of two (VIRTIO 1.1 2.8). */
	if (num == 0 || num > VHU_FE_MAX_QUEUE_SIZE) {
		VHU_FE_LOG("packed ring size %u: must lie in 1..%u", num,
			   VHU_FE_MAX_QUEUE_SIZE);
		return -EINVAL;
	}
	return ring_create(mem, num, with_indirect, true, out);
}

void
vhu_fe_vring_destroy(struct vhu_fe_vring *vr)
{
	if (vr == NULL)
		return;
	free(vr->next);
	free(vr->chain);
	free(vr->raw);
	vhu_fe_packed_free(vr);
	free(vr);
}

bool
vhu_fe_vring_is_packed(const struct vhu_fe_vring *vr)
{
	return vr->packed;
}

void
vhu_fe_vring_set_in_order(struct vhu_fe_vring *vr, bool on)
{
	vr->in_order = on;
}

void
vhu_fe_vring_set_index(struct vhu_fe_vring *vr, unsigned int index)
{
	vr->index = index;
}

void
vhu_fe_vring_reset(struct vhu_fe_vring *vr)
{
	if (vr->packed) {
		vhu_fe_packed_zero(vr);
		ring_init_state(vr);
		return;
	}
	memset(vr->desc, 0, sizeof(struct vring_desc) * vr->num);
	memset(vr->avail, 0, avail_bytes(vr->num));
	memset(vr->used, 0, used_bytes(vr->num));
	if (vr->indirect != NULL)
		memset(vr->indirect, 0, indirect_bytes(vr->num));
	ring_init_state(vr);
}

static void
fill_desc(struct vring_desc *d, const struct vhu_fe_seg *s, bool more,
	  uint16_t next)
{
	d->addr = s->gpa;
	d->len = s->len;
	d->flags = (uint16_t)((s->write ? VRING_DESC_F_WRITE : 0) |
			      (more ? VRING_DESC_F_NEXT : 0));
	d->next = more ? next : 0;
}

int
vhu_fe_vring_add(struct vhu_fe_vring *vr, const struct vhu_fe_seg *segs,
		 unsigned int nsegs, bool indirect)
{
	unsigned int need = indirect ? 1 : nsegs;
	uint16_t head = vr->free_head, idx = head;

	if (nsegs == 0 || nsegs > VHU_FE_MAX_SEGS || segs == NULL) {
		VHU_FE_LOG("ring %u: chain of %u buffers (want 1..%u)",
			   vr->index, nsegs, VHU_FE_MAX_SEGS);
		return -EINVAL;
	}
	if (indirect && vr->indirect == NULL && vr->pindirect == NULL) {
		VHU_FE_LOG("ring %u: created without indirect tables", vr->index);
		return -EINVAL;
	}
	if (vr->packed)
		return vhu_fe_packed_add(vr, segs, nsegs, indirect);
	if (vr->num_free < need)
		return -ENOSPC;
	if (indirect) {
		struct vring_desc *t = &vr->indirect[head * VHU_FE_MAX_SEGS];

		for (unsigned int i = 0; i < nsegs; i++)
			fill_desc(&t[i], &segs[i], i + 1 < nsegs,
				  (uint16_t)(i + 1));
		vr->desc[head].addr = vr->indirect_gpa +
				      (uint64_t)head * VHU_FE_MAX_SEGS *
				      sizeof(struct vring_desc);
		vr->desc[head].len = nsegs * (uint32_t)sizeof(struct vring_desc);
		vr->desc[head].flags = VRING_DESC_F_INDIRECT;
		vr->desc[head].next = 0;
		idx = vr->next[head];
	} else {
		for (unsigned int i = 0; i < nsegs; i++) {
			fill_desc(&vr->desc[idx], &segs[i], i + 1 < nsegs,
				  vr->next[idx]);
			idx = vr->next[idx];
		}
	}
	vr->free_head = idx;
	vr->num_free -= need;
	vr->chain[head] = (uint16_t)need;
	vr->avail->ring[vr->avail_idx & (vr->num - 1)] = head;
	vr->avail_idx++;
	vr->inflight++;
	return head;
}

bool
vhu_fe_vring_publish(struct vhu_fe_vring *vr)
{
	if (vr->packed)
		return vhu_fe_packed_publish(vr);
	if (vr->published == vr->avail_idx)
		return false;
	__atomic_store_n(&vr->avail->idx, vr->avail_idx, __ATOMIC_RELEASE);
	vr->published = vr->avail_idx;
	/* The store above must be visible before we read the device's flag,
	 * or both sides may decide the other one will act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED) &
		 VRING_USED_F_NO_NOTIFY);
}

int
vhu_fe_vring_used_pending(struct vhu_fe_vring *vr)
{
	if (vr->packed)
		return vhu_fe_packed_used_pending(vr);

	uint16_t used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	unsigned int pending = (uint16_t)(used_idx - vr->last_used);

	if (pending > vr->inflight) {
		VHU_FE_LOG("ring %u: device moved used->idx to %u (last seen %u): "
			   "%u entries, but only %u in flight", vr->index,
			   used_idx, vr->last_used, pending, vr->inflight);
		return -EPROTO;
	}
	return (int)pending;
}

int
vhu_fe_vring_peek_used(struct vhu_fe_vring *vr, unsigned int off,
		       uint16_t *id, uint32_t *len)
{
	if (vr->packed)
		return vhu_fe_packed_peek_used(vr, off, id, len);

	int pending = vhu_fe_vring_used_pending(vr);

	if (pending < 0)
		return pending;
	if (off >= (unsigned int)pending)
		return -ENOENT;
	const struct vring_used_elem *e =
		&vr->used->ring[(uint16_t)(vr->last_used + off) & (vr->num - 1)];
	uint32_t eid = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	uint32_t elen = __atomic_load_n(&e->len, __ATOMIC_RELAXED);

	if (eid >= vr->num || (vr->chain[eid] == 0 && vr->raw[eid] == 0)) {
		VHU_FE_LOG("ring %u: used entry %u has id %u, which is %s",
			   vr->index, (uint16_t)(vr->last_used + off), eid,
			   eid >= vr->num ? "out of range" : "not in flight");
		return -EPROTO;
	}
	*id = (uint16_t)eid;
	*len = elen;
	return 0;
}

int
vhu_fe_vring_get_used(struct vhu_fe_vring *vr, uint16_t *id, uint32_t *len)
{
	if (vr->packed)
		return vhu_fe_packed_get_used(vr, id, len);

	int rc = vhu_fe_vring_peek_used(vr, 0, id, len);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	vr->last_used++;
	vr->inflight--;
	if (vr->raw[*id] > 0) {
		vr->raw[*id]--;
		return 1;
	}
	/* Give the chain's descriptors back, following our own links. */
	uint16_t n = vr->chain[*id], last = *id;
	for (uint16_t k = 1; k < n; k++)
		last = vr->next[last];
	vr->next[last] = vr->free_head;
	vr->free_head = *id;
	vr->num_free += n;
	vr->chain[*id] = 0;
	return 1;
}

int
vhu_fe_vring_next_head(const struct vhu_fe_vring *vr)
{
	return vr->num_free > 0 ? vr->free_head : -ENOSPC;
}

unsigned int
vhu_fe_vring_num(const struct vhu_fe_vring *vr)
{
	return vr->num;
}

unsigned int
vhu_fe_vring_num_free(const struct vhu_fe_vring *vr)
{
	return vr->num_free;
}

unsigned int
vhu_fe_vring_inflight(const struct vhu_fe_vring *vr)
{
	return vr->inflight;
}

void
vhu_fe_vring_set_interrupts(struct vhu_fe_vring *vr, bool on)
{
	vr->interrupts = on;
	if (vr->packed) {
		vhu_fe_packed_set_interrupts(vr, on);
		return;
	}
	__atomic_store_n(&vr->avail->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT,
			 __ATOMIC_RELAXED);
}

void
vhu_fe_vring_get_raw(const struct vhu_fe_vring *vr, struct vhu_fe_vring_raw *raw)
{
	memset(raw, 0, sizeof(*raw));
	if (vr->packed) {
		vhu_fe_packed_get_raw(vr, raw);
		return;
	}
	raw->desc = vr->desc;
	raw->avail = vr->avail;
	raw->used = vr->used;
	raw->desc_gpa = vr->desc_gpa;
	raw->avail_gpa = vr->avail_gpa;
	raw->used_gpa = vr->used_gpa;
	raw->num = (uint16_t)vr->num;
	raw->avail_idx = vr->avail_idx;
	raw->last_used = vr->last_used;
}

int
vhu_fe_vring_push_raw(struct vhu_fe_vring *vr, uint16_t head)
{
	if (vr->packed) {
		VHU_FE_LOG("ring %u is packed: raw pushes go through "
			   "vhu_fe_vring_push_raw_packed()", vr->index);
		return -EINVAL;
	}
	if (head >= vr->num) {
		VHU_FE_LOG("ring %u: raw push of head %u beyond ring size %u",
			   vr->index, head, vr->num);
		return -EINVAL;
	}
	if (vr->raw[head] == UINT16_MAX) {
		VHU_FE_LOG("ring %u: too many raw pushes of head %u in flight",
			   vr->index, head);
		return -EOVERFLOW;
	}
	vr->avail->ring[vr->avail_idx & (vr->num - 1)] = head;
	vr->avail_idx++;
	vr->raw[head]++;
	vr->inflight++;
	vhu_fe_vring_publish(vr);
	return 0;
}

uint32_t
vhu_fe_vring_fresh_base(const struct vhu_fe_vring *vr)
{
	return vr->packed ? VHU_FE_PACKED_BASE_FRESH : 0;
}

int
vhu_fe_vring_check_base(const struct vhu_fe_vring *vr, uint32_t *base)
{
	/* A split ring's base is the back-end's own next avail index, which
	 * may trail ours by what it had not fetched: nothing to compare. */
	return vr->packed ? vhu_fe_packed_check_base(vr, base) : 0;
}

uint32_t
vhu_fe_vring_resume_base(const struct vhu_fe_vring *vr)
{
	if (vr->packed)
		return vhu_fe_packed_resume_base(vr);
	return __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
}

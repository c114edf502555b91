/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue operations for the burst frame (vhu_burst.c): what is
 * available, the bounded descriptor walker, used-ring writes, publication
 * and guest notification (VIRTIO 1.x 2.7).
 *
 * Everything read from guest memory is untrusted: indices are checked
 * against the ring size, a chain is never longer than the ring, indirect
 * tables are validated (vhu_desc.h), each descriptor is read once.
 *
 * Internal header. Datapath only (the lcore inside a burst).
 */
#ifndef VHU_SPLIT_H
#define VHU_SPLIT_H

#include <rte_prefetch.h>

#include "vhu_desc.h"
#include "vhu_dirty.h"

/* Entries the guest has made available, or -1 if the index is corrupt. */
static __rte_always_inline int
vhu_split_avail(struct vhu_vring *vr)
{
	uint16_t avail_idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = avail_idx - vr->last_avail_idx;

	/* More than the ring holds: the index jumped (Linux vhost rule). */
	if (unlikely(n > vr->size))
		return -1;
	return n;
}

static __rte_always_inline uint16_t
vhu_split_head(const struct vhu_vring *vr, uint16_t avail_pos)
{
	return __atomic_load_n(&vr->avail->ring[avail_pos & (vr->size - 1)],
			       __ATOMIC_RELAXED);
}

/* Prefetch the descriptors of the next n heads: the guest just wrote
 * them, so each is a miss; issued together, the misses overlap. */
static __rte_always_inline void
vhu_split_prefetch_descs(const struct vhu_vring *vr, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_prefetch0(&vr->desc[vhu_split_head(vr,
				vr->last_avail_idx + i) & (vr->size - 1)]);
}

/*
 * Walk the chain at head into vec. writable: the chain must be all
 * device-writable (guest RX) or all device-readable (guest TX).
 */
static __rte_always_inline enum vhu_chain_err
vhu_split_walk(struct vhu_vring *vr, uint16_t head, bool writable,
		struct vhu_bufvec *vec)
{
	const struct vring_desc *table = vr->desc;
	uint32_t table_size = vr->size;
	uint32_t idx = head, seen = 0;
	uint64_t total = 0;
	bool indirect = false, full = false;

	vhu_desc_begin(vec);
	for (;;) {
		struct vring_desc d;
		enum vhu_chain_err err;

		if (unlikely(idx >= table_size))
			return VHU_CHAIN_BAD_INDEX;
		if (unlikely(++seen > table_size))
			return VHU_CHAIN_LOOP;
		/* Read once: the guest may rewrite it meanwhile. */
		d.addr = __atomic_load_n(&table[idx].addr, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&table[idx].len, __ATOMIC_RELAXED);
		d.flags = __atomic_load_n(&table[idx].flags, __ATOMIC_RELAXED);
		d.next = __atomic_load_n(&table[idx].next, __ATOMIC_RELAXED);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* No nesting, no INDIRECT|NEXT (VIRTIO 1.x 2.7.5.3). */
			if (indirect || (d.flags & VRING_DESC_F_NEXT))
				return VHU_CHAIN_BAD_INDIRECT;
			table = vhu_desc_indirect(vr, d.addr, d.len, &table_size);
			if (table == NULL)
				return VHU_CHAIN_BAD_INDIRECT;
			indirect = true;
			idx = 0;
			seen = 0;
			continue;
		}
		err = vhu_desc_step(vr, vec, d.addr, d.len,
				    (d.flags & VRING_DESC_F_WRITE) != 0, writable,
				    &total, &full);
		if (unlikely(err != VHU_CHAIN_OK))
			return err;
		if (full || !(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	return vhu_desc_end(vr, vec, writable, total);
}

/*
 * Take the next available chain: its head is *id. vec NULL: consume it
 * without reading it (a disabled ring's TX).
 */
static __rte_always_inline enum vhu_next
vhu_split_next(struct vhu_vring *vr, const struct vhu_burst_ring *br,
		bool writable, struct vhu_bufvec *vec, uint16_t *id,
		uint16_t *ndesc)
{
	uint16_t head;

	if (vr->last_avail_idx == br->avail_end)
		return VHU_NEXT_NONE;
	head = vhu_split_head(vr, vr->last_avail_idx);
	/* No valid id to give back: the ring is corrupt. */
	if (unlikely(head >= vr->size))
		return VHU_NEXT_CORRUPT;
	vr->last_avail_idx++;
	*id = head;
	*ndesc = 1;
	if (vec == NULL)
		return VHU_NEXT_OK;
	if (unlikely(vhu_split_walk(vr, head, writable, vec) != VHU_CHAIN_OK))
		return VHU_NEXT_BAD;
	return VHU_NEXT_OK;
}

/* Write the kept entries to the ring (not yet published): the shadow
 * holds them in the ring's layout, so two copies at most. */
static inline void
vhu_split_flush(struct vhu_vring *vr, struct vhu_burst_ring *br)
{
	uint16_t slot = br->start & (vr->size - 1);
	uint16_t first = RTE_MIN(br->n, (uint16_t)(vr->size - slot));
	const size_t esz = sizeof(struct vring_used_elem);

	RTE_BUILD_BUG_ON(sizeof(struct vhu_used_entry) != esz);
	memcpy(&vr->used->ring[slot], br->e, first * esz);
	if (br->n > first)
		memcpy(&vr->used->ring[0], br->e + first, (br->n - first) * esz);
	if (br->logging) {
		vhu_dirty_mark_used(vr, offsetof(struct vring_used, ring) +
				    slot * esz, first * esz);
		if (br->n > first)
			vhu_dirty_mark_used(vr, offsetof(struct vring_used, ring),
					    (br->n - first) * esz);
	}
	br->start += br->n;
	br->n = 0;
}

/* Append the next used entry (vr->last_used_idx). Always succeeds: a full
 * shadow is written to the ring, where it stays unpublished. */
static __rte_always_inline bool
vhu_split_used_add(struct vhu_vring *vr, struct vhu_burst_ring *br,
		uint16_t id, uint32_t len)
{
	if (unlikely(br->n == VHU_USED_SHADOW))
		vhu_split_flush(vr, br);
	br->e[br->n].id = id;
	br->e[br->n].len = len;
	br->n++;
	vr->last_used_idx++;
	return true;
}

/* Set the length of the entries from mark mk on to 0 (a packet's buffers
 * given back when one of its chains was invalid). */
static inline void
vhu_split_used_zero_from(struct vhu_vring *vr, struct vhu_burst_ring *br,
		const struct vhu_ring_mark *mk)
{
	uint16_t u;

	for (u = mk->used; u != vr->last_used_idx; u++) {
		uint16_t k = u - br->start;

		if (k < br->n) {
			br->e[k].len = 0;
		} else {
			uint16_t slot = u & (vr->size - 1);

			vr->used->ring[slot].len = 0;
			if (br->logging)
				vhu_dirty_mark_used(vr, offsetof(struct vring_used,
					ring) + slot * sizeof(struct vring_used_elem),
					sizeof(struct vring_used_elem));
		}
	}
}

/* Publish the used entries up to vr->last_used_idx: one store-release of
 * the used index per burst. */
static inline void
vhu_split_publish(struct vhu_vring *vr, struct vhu_burst_ring *br)
{
	vhu_split_flush(vr, br);
	__atomic_store_n(&vr->used->idx, vr->last_used_idx, __ATOMIC_RELEASE);
	if (br->logging) {
		vhu_dirty_mark_used(vr, offsetof(struct vring_used, idx),
				    sizeof(uint16_t));
		/* Read by the control thread for SET_LOG_FD's signal. */
		__atomic_store_n(&vr->log_bursts, vr->log_bursts + 1,
				 __ATOMIC_RELAXED);
	}
}

/* Whether the guest asked to be notified of what the burst published:
 * EVENT_IDX's used_event crossed, else no VRING_AVAIL_F_NO_INTERRUPT.
 * Called after a full fence (vhu_burst.c). */
static __rte_always_inline bool
vhu_split_need_notify(const struct vhu_vring *vr,
		const struct vhu_burst_ring *br)
{
	uint16_t new_used = vr->last_used_idx;

	if (vr->features & VHU_BIT(VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event = __atomic_load_n(&vr->avail->ring[vr->size],
						 __ATOMIC_RELAXED);

		return (uint16_t)(new_used - event - 1) <
			(uint16_t)(new_used - br->old_used);
	}
	return !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}

#endif /* VHU_SPLIT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue operations for the burst frame (vhu_burst.c): what is
 * available, the bounded chain walker, used descriptors, publication and
 * event suppression (VIRTIO 1.x 2.8).
 *
 * One descriptor ring serves both sides. A descriptor at position p is
 * available when its AVAIL flag equals the driver wrap counter the device
 * expects there and its USED flag does not; the device writes a used
 * descriptor (buffer id, length, AVAIL = USED = its own wrap counter) at
 * its used position and moves that position past every descriptor the
 * buffer took. The driver writes a chain's head flags last, so one
 * acquire load of them makes the whole chain readable; the device writes
 * the flags of its first used descriptor last for the same reason.
 *
 * Untrusted: a chain never longer than the ring, buffer ids below the
 * ring size, indirect tables as for split rings (vhu_desc.h), each
 * descriptor read once.
 *
 * Internal header. Datapath only (the lcore inside a burst).
 */
#ifndef VHU_PACKED_H
#define VHU_PACKED_H

#include <rte_prefetch.h>

#include "vhu_desc.h"
#include "vhu_dirty.h"

#define VHU_PACKED_F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define VHU_PACKED_F_USED (1u << VRING_PACKED_DESC_F_USED)

/* Whether a descriptor with these flags is available at a position whose
 * driver wrap counter is wrap. */
static __rte_always_inline bool
vhu_packed_is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & VHU_PACKED_F_AVAIL) == wrap &&
		!!(flags & VHU_PACKED_F_USED) != wrap;
}

/* Step a position and its wrap counter by n descriptors (n <= size). */
static __rte_always_inline void
vhu_packed_advance(uint16_t *pos, bool *wrap, uint16_t n, uint16_t size)
{
	uint32_t p = (uint32_t)*pos + n;

	if (p >= size) {
		p -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* Prefetch the descriptors of the next n positions (a line holds four):
 * the guest just wrote them, so each line is a miss; issued together,
 * the misses overlap instead of stalling one walk after another. */
static __rte_always_inline void
vhu_packed_prefetch_descs(const struct vhu_vring *vr, uint16_t n)
{
	uint16_t pos = vr->last_avail_idx, i;

	for (i = 0; i < n; i += 4) {
		rte_prefetch0(&vr->pdesc[pos]);
		/* No division: a few subtractions even for rings of 1..3. */
		pos += 4;
		while (pos >= vr->size)
			pos -= vr->size;
	}
}

/*
 * Chains the guest has made available from the next position on, up to
 * max. Reads flags only. Once the first head is there, it prefetches the
 * descriptors of the next max positions (vhu_packed_prefetch_descs)
 * before counting, so the walk that follows finds them in the cache.
 */
static __rte_always_inline int
vhu_packed_avail(const struct vhu_vring *vr, uint16_t max)
{
	const struct vring_packed_desc *ring = vr->pdesc;
	uint16_t pos = vr->last_avail_idx, n = 0, seen = 0;
	bool wrap = vr->avail_wrap;

	/* Only if the first is there: an idle ring costs one load. */
	if (max == 0 || !vhu_packed_is_avail(__atomic_load_n(&ring[pos].flags,
			__ATOMIC_RELAXED), wrap))
		return 0;
	vhu_packed_prefetch_descs(vr, max);
	while (n < max && seen < vr->size) {
		uint16_t flags = __atomic_load_n(&ring[pos].flags,
						 __ATOMIC_RELAXED);

		if (!vhu_packed_is_avail(flags, wrap))
			break;
		n++;
		/* The rest of the chain (its NEXT flags), bounded. */
		do {
			seen++;
			vhu_packed_advance(&pos, &wrap, 1, vr->size);
			if (!(flags & VRING_DESC_F_NEXT) || seen >= vr->size)
				break;
			flags = __atomic_load_n(&ring[pos].flags,
						__ATOMIC_RELAXED);
		} while (1);
	}
	return n;
}

/* The entries of a packed indirect table, all of them in order (their
 * NEXT flags mean nothing, VIRTIO 1.x 2.8.19). */
static __rte_always_inline enum vhu_chain_err
vhu_packed_walk_indirect(struct vhu_vring *vr, uint64_t addr, uint32_t len,
		bool writable, struct vhu_bufvec *vec, uint64_t *total,
		bool *full)
{
	const struct vring_packed_desc *t;
	uint32_t n, i;

	t = vhu_desc_indirect(vr, addr, len, &n);
	if (t == NULL)
		return VHU_CHAIN_BAD_INDIRECT;
	for (i = 0; i < n && !*full; i++) {
		uint64_t a = __atomic_load_n(&t[i].addr, __ATOMIC_RELAXED);
		uint32_t l = __atomic_load_n(&t[i].len, __ATOMIC_RELAXED);
		uint16_t f = __atomic_load_n(&t[i].flags, __ATOMIC_RELAXED);
		enum vhu_chain_err err;

		if (f & VRING_DESC_F_INDIRECT)
			return VHU_CHAIN_BAD_INDIRECT;
		err = vhu_desc_step(vr, vec, a, l, (f & VRING_DESC_F_WRITE) != 0,
				    writable, total, full);
		if (unlikely(err != VHU_CHAIN_OK))
			return err;
	}
	return VHU_CHAIN_OK;
}

/*
 * Take the next available chain: its buffer id (from its last
 * descriptor) is *id, the ring descriptors it took *ndesc. vec NULL:
 * consume it without translating it (a disabled ring's TX). An invalid
 * buffer is still consumed whole, to its last descriptor.
 */
static __rte_always_inline enum vhu_next
vhu_packed_next(struct vhu_vring *vr, const struct vhu_burst_ring *br,
		bool writable, struct vhu_bufvec *vec, uint16_t *id,
		uint16_t *ndesc)
{
	const struct vring_packed_desc *ring = vr->pdesc;
	enum vhu_chain_err err = VHU_CHAIN_OK;
	uint16_t pos = vr->last_avail_idx, n = 0, bid;
	bool wrap = vr->avail_wrap, full = false;
	uint64_t total = 0;
	uint16_t flags;

	RTE_SET_USED(br);
	/* Acquire: the chain was written before its head's flags. */
	flags = __atomic_load_n(&ring[pos].flags, __ATOMIC_ACQUIRE);
	if (!vhu_packed_is_avail(flags, wrap))
		return VHU_NEXT_NONE;
	if (vec != NULL)
		vhu_desc_begin(vec);
	for (;;) {
		uint64_t addr = __atomic_load_n(&ring[pos].addr, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&ring[pos].len, __ATOMIC_RELAXED);

		bid = __atomic_load_n(&ring[pos].id, __ATOMIC_RELAXED);
		if (n > 0)
			flags = __atomic_load_n(&ring[pos].flags,
						__ATOMIC_RELAXED);
		n++;
		if (vec != NULL && err == VHU_CHAIN_OK && !full) {
			if (flags & VRING_DESC_F_INDIRECT) {
				/* Only as a chain's one descriptor. */
				if (n > 1 || (flags & VRING_DESC_F_NEXT))
					err = VHU_CHAIN_BAD_INDIRECT;
				else
					err = vhu_packed_walk_indirect(vr, addr,
						len, writable, vec, &total,
						&full);
			} else {
				err = vhu_desc_step(vr, vec, addr, len,
					(flags & VRING_DESC_F_WRITE) != 0,
					writable, &total, &full);
			}
		}
		vhu_packed_advance(&pos, &wrap, 1, vr->size);
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		/* No end within the ring: nothing to give back. */
		if (unlikely(n == vr->size))
			return VHU_NEXT_CORRUPT;
	}
	/* An id the guest cannot have issued: the ring is corrupt. */
	if (unlikely(bid >= vr->size))
		return VHU_NEXT_CORRUPT;
	vr->last_avail_idx = pos;
	vr->avail_wrap = wrap;
	*id = bid;
	*ndesc = n;
	if (vec == NULL)
		return VHU_NEXT_OK;
	if (err == VHU_CHAIN_OK)
		err = vhu_desc_end(vr, vec, writable, total);
	return err == VHU_CHAIN_OK ? VHU_NEXT_OK : VHU_NEXT_BAD;
}

/* Descriptors the dequeue batch takes at once: one cache line. */
#define VHU_PACKED_BATCH 4

/*
 * Dequeue fast path: the next VHU_PACKED_BATCH descriptors, when they
 * fill one cache line from an aligned position and are each a whole
 * packet the generic walk would copy flat (available, no NEXT, INDIRECT
 * or WRITE, the header and at most tailroom bytes, in one region, an id
 * in range). Their flags are read together and their lines were
 * prefetched by vhu_packed_avail(). Nothing is consumed unless all of
 * them qualify: otherwise the generic walk (vhu_packed_next) takes them
 * one by one and applies the invalid-chain policy.
 * @return VHU_PACKED_BATCH with src[], len[] (the packet after the
 *   header), id[] set and the ring's avail position moved on; 0.
 */
static __rte_always_inline unsigned int
vhu_packed_dequeue_batch(struct vhu_vring *vr, uint8_t hdr_len,
		struct rte_mbuf *const *m, const uint8_t **src, uint32_t *len,
		uint16_t *id)
{
	const uint16_t pos = vr->last_avail_idx;
	const struct vring_packed_desc *d = &vr->pdesc[pos];
	const uint16_t refuse = VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT |
		VRING_DESC_F_WRITE;
	const bool wrap = vr->avail_wrap;
	unsigned int k;

	if ((pos & (VHU_PACKED_BATCH - 1)) != 0 ||
	    pos + VHU_PACKED_BATCH > vr->size)
		return 0;
	for (k = 0; k < VHU_PACKED_BATCH; k++) {
		uint16_t f = __atomic_load_n(&d[k].flags, __ATOMIC_RELAXED);

		if (!vhu_packed_is_avail(f, wrap) || (f & refuse))
			return 0;
	}
	/* Each descriptor was written before its flags. */
	rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (k = 0; k < VHU_PACKED_BATCH; k++) {
		uint64_t addr = __atomic_load_n(&d[k].addr, __ATOMIC_RELAXED);
		uint32_t l = __atomic_load_n(&d[k].len, __ATOMIC_RELAXED);
		uint64_t got = l;

		id[k] = __atomic_load_n(&d[k].id, __ATOMIC_RELAXED);
		if (unlikely(id[k] >= vr->size) || l <= hdr_len ||
		    l - hdr_len > rte_pktmbuf_tailroom(m[k]))
			return 0;
		src[k] = vhu_mem_gpa_to_va(vr->mem, addr, &got, &vr->mem_hint);
		if (unlikely(src[k] == NULL || got != l))
			return 0;
		len[k] = l - hdr_len;
	}
	vhu_packed_advance(&vr->last_avail_idx, &vr->avail_wrap,
			   VHU_PACKED_BATCH, vr->size);
	return VHU_PACKED_BATCH;
}

/*
 * Keep the next used descriptor (vr->last_used_idx). With IN_ORDER, a TX
 * burst keeps one: the id of its last buffer stands for every buffer
 * before it (VIRTIO 1.x 2.8.20).
 * @return false when the shadow is full (nothing kept): a packed ring
 *   publishes what it writes, so the burst must stop here.
 */
static __rte_always_inline bool
vhu_packed_used_add(struct vhu_vring *vr, struct vhu_burst_ring *br,
		uint16_t id, uint32_t len, uint16_t ndesc)
{
	if (br->merge && br->n > 0 &&
	    (uint32_t)br->ndesc[br->n - 1] + ndesc <= vr->size) {
		br->e[br->n - 1].id = id;
		br->ndesc[br->n - 1] += ndesc;
	} else {
		if (unlikely(br->n == VHU_USED_SHADOW))
			return false;
		/* The slot is written at the end of the burst: ask for the
		 * line for writing now, so its transfer from the guest's
		 * core overlaps the burst instead of stalling the flush. */
		__builtin_prefetch(&vr->pdesc[vr->last_used_idx], 1, 3);
		br->e[br->n].id = id;
		br->e[br->n].len = len;
		br->ndesc[br->n] = ndesc;
		br->n++;
	}
	vhu_packed_advance(&vr->last_used_idx, &vr->used_wrap, ndesc, vr->size);
	return true;
}

/* Set the length of the entries from mark mk on to 0 (a packet's buffers
 * given back when one of its chains was invalid): all still kept here. */
static __rte_always_inline void
vhu_packed_used_zero_from(struct vhu_burst_ring *br,
		const struct vhu_ring_mark *mk)
{
	uint16_t k;

	for (k = mk->shadow_n; k < br->n; k++)
		br->e[k].len = 0;
}

/* Used descriptor flags at a position with device wrap counter wrap. */
static __rte_always_inline uint16_t
vhu_packed_used_flags(bool wrap, bool writable)
{
	return (wrap ? VHU_PACKED_F_AVAIL | VHU_PACKED_F_USED : 0) |
		(writable ? VRING_DESC_F_WRITE : 0);
}

/* Write the kept used descriptors: ids and lengths, then every flag but
 * the first, then the first with release, which publishes them all. */
static inline void
vhu_packed_flush(struct vhu_vring *vr, struct vhu_burst_ring *br)
{
	struct vring_packed_desc *ring = vr->pdesc;
	uint16_t i, pos = br->start;
	bool wrap = br->start_wrap;

	if (br->n == 0)
		return;
	for (i = 0; i < br->n; i++) {
		ring[pos].id = (uint16_t)br->e[i].id;
		ring[pos].len = br->e[i].len;
		if (br->logging)
			vhu_dirty_mark_used(vr, (uint64_t)pos *
					    sizeof(struct vring_packed_desc),
					    sizeof(struct vring_packed_desc));
		vhu_packed_advance(&pos, &wrap, br->ndesc[i], vr->size);
	}
	rte_atomic_thread_fence(__ATOMIC_RELEASE);
	pos = br->start;
	wrap = br->start_wrap;
	vhu_packed_advance(&pos, &wrap, br->ndesc[0], vr->size);
	for (i = 1; i < br->n; i++) {
		__atomic_store_n(&ring[pos].flags,
				 vhu_packed_used_flags(wrap, br->writable),
				 __ATOMIC_RELAXED);
		vhu_packed_advance(&pos, &wrap, br->ndesc[i], vr->size);
	}
	__atomic_store_n(&ring[br->start].flags,
			 vhu_packed_used_flags(br->start_wrap, br->writable),
			 __ATOMIC_RELEASE);
	br->start = pos;
	br->start_wrap = wrap;
	br->n = 0;
}

/*
 * Whether the driver asked to be notified of the used descriptors written
 * since the burst began: its event suppression area says enable, disable,
 * or (EVENT_IDX) the position and wrap counter to notify at. Called after
 * a full fence (vhu_burst.c).
 */
static __rte_always_inline bool
vhu_packed_need_notify(const struct vhu_vring *vr,
		const struct vhu_burst_ring *br)
{
	uint16_t flags = __atomic_load_n(&vr->driver_event->flags,
					 __ATOMIC_RELAXED);
	uint16_t off_wrap, event, new_used, old_used;

	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !(vr->features & VHU_BIT(VIRTIO_RING_F_EVENT_IDX)))
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	off_wrap = __atomic_load_n(&vr->driver_event->off_wrap,
				   __ATOMIC_RELAXED);
	/* Positions on one line ending at the current used position: those
	 * of the previous lap count one ring size less. */
	new_used = vr->last_used_idx;
	old_used = br->old_used;
	if (br->old_used_wrap != vr->used_wrap)
		old_used -= vr->size;
	event = off_wrap & 0x7fff;
	if (!!(off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR) != vr->used_wrap)
		event -= vr->size;
	return (uint16_t)(new_used - event - 1) <
		(uint16_t)(new_used - old_used);
}

/* Publish the kept used descriptors (the first one's flags, last). */
static inline void
vhu_packed_publish(struct vhu_vring *vr, struct vhu_burst_ring *br)
{
	vhu_packed_flush(vr, br);
	if (br->logging)
		/* Read by the control thread for SET_LOG_FD's signal. */
		__atomic_store_n(&vr->log_bursts, vr->log_bursts + 1,
				 __ATOMIC_RELAXED);
}

#endif /* VHU_PACKED_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What both ring formats share below the burst frame (vhu_burst.c):
 *  - the descriptor step: one descriptor's direction, length and address
 *    checked and translated into a struct vhu_bufvec, the same for split
 *    descriptors, packed descriptors and indirect table entries;
 *  - indirect table validation;
 *  - the invalid-chain policy (count, then break the ring);
 *  - the per-burst state: used entries kept back until the burst writes
 *    them (vhu_used_shadow) and where the burst started.
 *
 * Everything read from guest memory is untrusted: addresses are
 * translated through the memory table (which bounds-checks them), chain
 * length is bounded by the ring size and VHU_BUFVEC_MAX, each descriptor
 * is read once into locals by the format's walker.
 *
 * Internal header. Datapath only (the lcore inside a burst).
 */
#ifndef VHU_DESC_H
#define VHU_DESC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include "vhu_bufvec.h"
#include "vhu_dev.h"
#include "vhu_features.h"

/* Invalid chains a ring may show before the datapath gives up on it. */
#define VHU_BAD_CHAIN_LIMIT 16

/* Give up on a ring: bursts leave it alone, the control thread reports
 * it (vhu_dev_check_rings). */
static inline void
vhu_desc_break(struct vhu_vring *vr)
{
	__atomic_store_n(&vr->dp_broken, true, __ATOMIC_RELEASE);
}

/* Count an invalid chain (consumed, dropped); too many break the ring. */
static inline void
vhu_desc_bad_chain(struct vhu_vring *vr)
{
	vr->stats.drop_bad_desc++;
	if (++vr->bad_chains >= VHU_BAD_CHAIN_LIMIT)
		vhu_desc_break(vr);
}

/* Add [gpa, gpa + len) to vec, translated, split at region ends. */
static __rte_always_inline enum vhu_chain_err
vhu_vec_add(struct vhu_vring *vr, struct vhu_bufvec *vec, uint64_t gpa,
		uint32_t len)
{
	const struct vhu_mem_table *mem = vr->mem;

	if (gpa > UINT64_MAX - len)
		return VHU_CHAIN_BAD_ADDR;
	while (len > 0) {
		uint64_t n = len;
		uint8_t *va = vhu_mem_gpa_to_va(mem, gpa, &n, &vr->mem_hint);

		if (unlikely(va == NULL))
			return VHU_CHAIN_BAD_ADDR;
		if (unlikely(vec->nbufs == VHU_BUFVEC_MAX))
			return VHU_CHAIN_TOO_LONG;
		vec->bufs[vec->nbufs].addr = va;
		vec->bufs[vec->nbufs].gpa = gpa;
		vec->bufs[vec->nbufs].len = (uint32_t)n;
		vec->nbufs++;
		gpa += n;
		len -= (uint32_t)n;
	}
	return VHU_CHAIN_OK;
}

/* Start walking a chain into vec. */
static __rte_always_inline void
vhu_desc_begin(struct vhu_bufvec *vec)
{
	vec->nbufs = 0;
	vec->total = 0;
}

/*
 * The descriptor step: one buffer of a chain. is_write is the
 * descriptor's device-writable flag; writable what the chain must be (all
 * device-writable for guest RX, all readable for guest TX). *total
 * counts the chain's bytes; writable capacity past the largest packet is
 * left out (*full then says the chain needs nothing more).
 */
static __rte_always_inline enum vhu_chain_err
vhu_desc_step(struct vhu_vring *vr, struct vhu_bufvec *vec, uint64_t addr,
		uint32_t len, bool is_write, bool writable, uint64_t *total,
		bool *full)
{
	if (unlikely(is_write != writable))
		return VHU_CHAIN_BAD_DIRECTION;
	*total += len;
	if (writable) {
		/* Capacity beyond the largest packet is never used. */
		if (*total > VHU_CHAIN_MAX_BYTES)
			len -= (uint32_t)(*total - VHU_CHAIN_MAX_BYTES);
		*full = *total >= VHU_CHAIN_MAX_BYTES;
	} else if (unlikely(*total > VHU_CHAIN_MAX_BYTES)) {
		return VHU_CHAIN_TOO_LONG;
	}
	return vhu_vec_add(vr, vec, addr, len);
}

/*
 * An indirect table of 16-byte descriptors (split and packed ones are the
 * same size) at [addr, addr + len): no more entries than the queue size
 * (a chain is never longer, VIRTIO 1.x 2.7.5.3.1 and 2.8.19: a larger
 * table would let the guest keep this lcore walking), a whole number of
 * them, 16-byte aligned (our atomics need 8), in one region, and only if
 * negotiated. The caller checks nesting and the flags that may not go
 * with INDIRECT.
 * @return the table in our address space and *n entries; NULL if invalid.
 */
static __rte_always_inline const void *
vhu_desc_indirect(struct vhu_vring *vr, uint64_t addr, uint32_t len,
		uint32_t *n)
{
	uint64_t got = len;
	const void *t;

	if (!(vr->features & VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC)) ||
	    len == 0 || len % 16 != 0 || len / 16 > vr->size || addr % 8 != 0)
		return NULL;
	t = vhu_mem_gpa_to_va(vr->mem, addr, &got, &vr->mem_hint);
	if (t == NULL || got != len)
		return NULL;
	*n = len / 16;
	return t;
}

/* A chain shorter than the virtio-net header cannot be a guest RX buffer
 * (VIRTIO 1.x 5.1.6.3.1): the header, and num_buffers, would go to other
 * buffers. Ends a walk: vec->total set. */
static __rte_always_inline enum vhu_chain_err
vhu_desc_end(const struct vhu_vring *vr, struct vhu_bufvec *vec,
		bool writable, uint64_t total)
{
	if (writable && unlikely(total < vr->vnet_hdr_len))
		return VHU_CHAIN_TOO_SHORT;
	vec->total = (uint32_t)RTE_MIN(total, (uint64_t)VHU_CHAIN_MAX_BYTES);
	return VHU_CHAIN_OK;
}

/* What taking the next chain from a ring gave. */
enum vhu_next {
	VHU_NEXT_OK,      /* consumed; vec holds its buffers */
	VHU_NEXT_NONE,    /* nothing available; nothing consumed */
	VHU_NEXT_BAD,     /* consumed, invalid: give it back empty, count */
	VHU_NEXT_CORRUPT, /* the ring itself is invalid: nothing consumed,
			   * the caller breaks the ring */
};

/*
 * A ring's state during one burst: where it started, and its used
 * entries, kept here and written to the ring in one go before they are
 * published. The guest polls the used ring: writing its
 * cache lines one entry at a time while it reads them makes the lines
 * bounce between the two cores for every packet. Packed rings publish an
 * entry when they write it, so a burst's entries all stay here until its
 * copies are done; the capacity bounds the buffers one burst can fill.
 */
#define VHU_USED_SHADOW 1024

/* The split used ring's element layout, so that split rings copy the
 * entries out whole. */
struct vhu_used_entry {
	uint32_t id;    /* split: head index; packed: buffer id */
	uint32_t len;   /* bytes written into the buffer */
};

struct vhu_burst_ring {
	bool logging;        /* write the dirty log (vhu_dirty_logging) */
	uint16_t avail_end;  /* split: the avail index read at the start */
	uint16_t old_used;   /* used index / position when the burst began */
	bool old_used_wrap;  /* packed: its wrap counter */
	uint16_t n;          /* entries not yet written to the ring */
	uint16_t start;      /* used index (split) or position (packed) of e[0] */
	bool start_wrap;     /* packed: wrap counter at e[0] */
	bool merge;          /* packed IN_ORDER TX: one entry per burst */
	bool writable;       /* the buffers were device-writable (RX) */
	struct vhu_used_entry e[VHU_USED_SHADOW];
	/* Packed: ring descriptors each entry's buffer(s) took. */
	uint16_t ndesc[VHU_USED_SHADOW];
};

/* Where a burst, or a packet within it, started: what a rewind restores. */
struct vhu_ring_mark {
	uint16_t avail;
	uint16_t used;
	bool avail_wrap;
	bool used_wrap;
	uint16_t shadow_n;
	uint16_t shadow_start;
};

static __rte_always_inline void
vhu_ring_mark(const struct vhu_vring *vr, const struct vhu_burst_ring *sh,
		struct vhu_ring_mark *mk)
{
	mk->avail = vr->last_avail_idx;
	mk->avail_wrap = vr->avail_wrap;
	mk->used = vr->last_used_idx;
	mk->used_wrap = vr->used_wrap;
	mk->shadow_n = sh->n;
	mk->shadow_start = sh->start;
}

/* Begin a burst on a ring (writable: guest RX, the enqueue side). */
static __rte_always_inline void
vhu_burst_ring_begin(const struct vhu_vring *vr, struct vhu_burst_ring *sh,
		bool writable, bool logging)
{
	sh->logging = logging;
	sh->old_used = vr->last_used_idx;
	sh->old_used_wrap = vr->used_wrap;
	sh->start = vr->last_used_idx;
	sh->start_wrap = vr->used_wrap;
	sh->n = 0;
	sh->writable = writable;
	sh->merge = vr->packed && !writable &&
		(vr->features & VHU_BIT(VIRTIO_F_IN_ORDER)) != 0;
}

/* Give back what a packet took since mk (it did not fit): positions, and
 * the used entries it added. A split ring may have written some of them
 * to the ring already (not published: they will be overwritten); a
 * packed ring writes none before the burst publishes. */
static __rte_always_inline void
vhu_ring_rewind(struct vhu_vring *vr, struct vhu_burst_ring *sh,
		const struct vhu_ring_mark *mk)
{
	vr->last_avail_idx = mk->avail;
	vr->avail_wrap = mk->avail_wrap;
	vr->last_used_idx = mk->used;
	vr->used_wrap = mk->used_wrap;
	if (sh->start == mk->shadow_start) {
		sh->n = mk->shadow_n;
	} else {
		sh->start = mk->used;
		sh->n = 0;
	}
}

#endif /* VHU_DESC_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The burst frame: the format-neutral part of vhu_enqueue_burst() and
 * vhu_dequeue_burst(), written once for both ring formats. It checks the
 * queue pair, enters and leaves the burst sequence (vhu_sync.h), reads
 * the ring's mode, sends RARP, allocates mbufs in bulk, runs the two-pass
 * copy (vhu_copy.c) and counts. What differs per format, taking the next
 * chain, keeping and publishing used entries and deciding whether to
 * notify, is in vhu_split.h and vhu_packed.h; one branch per burst picks
 * the format, and the compiler builds each frame once per format from
 * the same source (the `packed` argument is a constant).
 *
 * Policy for invalid chains (vhu_desc.h): consume and drop (used length
 * 0, counted); after VHU_BAD_CHAIN_LIMIT of them, or at once when the
 * ring itself is corrupt (avail index jump, id out of range, a chain with
 * no end), the ring is broken: the datapath stops touching it and the
 * control thread reports it (vhu_dev_check_rings).
 */
#include <sys/eventfd.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vhu.h"
#include "vhu_bufvec.h"
#include "vhu_copy.h"
#include "vhu_desc.h"
#include "vhu_dirty.h"
#include "vhu_features.h"
#include "vhu_packed.h"
#include "vhu_split.h"
#include "vhu_sync.h"

/* The per-format operations, picked by a constant. */

/* Chains available (at most max), or -1 when the ring is corrupt. */
static __rte_always_inline int
vhu_ring_avail(struct vhu_vring *vr, struct vhu_burst_ring *br,
		uint16_t max, const bool packed)
{
	int n;

	if (packed)
		return vhu_packed_avail(vr, max);
	n = vhu_split_avail(vr);
	if (unlikely(n < 0))
		return -1;
	br->avail_end = vr->last_avail_idx + (uint16_t)n;
	vhu_split_prefetch_descs(vr, RTE_MIN((uint16_t)n, max));
	return RTE_MIN(n, (int)max);
}

static __rte_always_inline enum vhu_next
vhu_ring_next(struct vhu_vring *vr, struct vhu_burst_ring *br, bool writable,
		struct vhu_bufvec *vec, uint16_t *id, uint16_t *ndesc,
		const bool packed)
{
	return packed ? vhu_packed_next(vr, br, writable, vec, id, ndesc) :
		vhu_split_next(vr, br, writable, vec, id, ndesc);
}

static __rte_always_inline bool
vhu_ring_used_add(struct vhu_vring *vr, struct vhu_burst_ring *br,
		uint16_t id, uint32_t len, uint16_t ndesc, const bool packed)
{
	return packed ? vhu_packed_used_add(vr, br, id, len, ndesc) :
		vhu_split_used_add(vr, br, id, len);
}

static __rte_always_inline void
vhu_ring_used_zero_from(struct vhu_vring *vr, struct vhu_burst_ring *br,
		const struct vhu_ring_mark *mk, const bool packed)
{
	if (packed)
		vhu_packed_used_zero_from(br, mk);
	else
		vhu_split_used_zero_from(vr, br, mk);
}

/* Publish the burst's used entries and notify the guest if it asked: one
 * fence and at most one eventfd write per burst. */
static __rte_always_inline void
vhu_ring_publish(struct vhu_vring *vr, struct vhu_burst_ring *br,
		const bool packed)
{
	int call_fd;
	bool notify;

	if (packed)
		vhu_packed_publish(vr, br);
	else
		vhu_split_publish(vr, br);
	call_fd = vr->call_fd;
	if (call_fd < 0)
		return;
	/* What we published must be visible before we read the guest's
	 * suppression fields (it writes them, then reads ours). */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	notify = packed ? vhu_packed_need_notify(vr, br) :
		vhu_split_need_notify(vr, br);
	if (notify) {
		eventfd_write(call_fd, 1);
		vr->stats.notifications++;
	}
}

/* Whether the burst took or gave back anything to publish. */
static __rte_always_inline bool
vhu_ring_moved(const struct vhu_vring *vr, const struct vhu_burst_ring *br)
{
	return vr->last_used_idx != br->old_used ||
		vr->used_wrap != br->old_used_wrap;
}

/* A RARP frame announcing the guest's MAC after migration (SEND_RARP). */
static struct rte_mbuf *
vhu_burst_make_rarp(struct vhu_device *dev, struct rte_mempool *mp)
{
	static const uint8_t tmpl[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
		0, 0, 0, 0, 0, 0,                   /* src: guest MAC */
		0x80, 0x35,                         /* RARP */
		0x00, 0x01, 0x08, 0x00, 6, 4,       /* Ethernet/IPv4 */
		0x00, 0x03,                         /* reverse request */
	};
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, 60);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, 60);
	memcpy(p, tmpl, sizeof(tmpl));
	memcpy(p + 6, dev->rarp_mac, 6);
	memcpy(p + 22, dev->rarp_mac, 6);  /* sender hw */
	memcpy(p + 32, dev->rarp_mac, 6);  /* target hw */
	return m;
}

/* Packets one dequeue call takes at most (ethdev's bursts are 32). */
#define VHU_DEQUEUE_BURST_MAX 64

/* A dequeued packet waiting for the burst's second pass: header and
 * packet in one piece of guest memory. */
struct vhu_flat_pkt {
	const uint8_t *src; /* NULL: copied in the first pass */
	uint32_t len;       /* the packet, after the header */
};

/*
 * Packed rings: take VHU_PACKED_BATCH whole packets at once for the
 * mbufs pkts[0..] (vhu_packed_dequeue_batch), as the generic walk would
 * have taken them one by one: their used entries kept, their packets
 * prefetched for the second pass.
 * @return true when taken; false: nothing consumed.
 */
static __rte_always_inline bool
vhu_dequeue_batch(struct vhu_vring *vr, struct vhu_burst_ring *br,
		uint8_t hdr_len, struct rte_mbuf *const *pkts,
		struct vhu_flat_pkt *flat)
{
	const uint8_t *src[VHU_PACKED_BATCH];
	uint32_t len[VHU_PACKED_BATCH];
	uint16_t id[VHU_PACKED_BATCH];
	unsigned int k;

	if (vhu_packed_dequeue_batch(vr, hdr_len, pkts, src, len, id) == 0)
		return false;
	for (k = 0; k < VHU_PACKED_BATCH; k++) {
		rte_prefetch0(src[k]);
		rte_prefetch0(src[k] + hdr_len + len[k] - 1);
		flat[k].src = src[k];
		flat[k].len = len[k];
		/* At most VHU_DEQUEUE_BURST_MAX entries: always kept (with
		 * IN_ORDER they merge into one). */
		vhu_packed_used_add(vr, br, id[k], 0, 1);
	}
	return true;
}

/*
 * Dequeue into pkts[out..]: mode is RUN or DISCARD (consume and drop).
 * @return the new number of packets in pkts.
 */
static __rte_always_inline uint16_t
vhu_dequeue_frame(struct vhu_vring *vr, uint8_t mode, struct rte_mempool *mp,
		struct rte_mbuf **pkts, uint16_t count, uint16_t out,
		const bool packed)
{
	struct vhu_burst_ring br;
	struct vhu_flat_pkt flat[VHU_DEQUEUE_BURST_MAX];
	struct vhu_bufvec vec;
	uint16_t i, n, base, got;
	uint8_t hdr_len;
	int avail;

	n = RTE_MIN((uint16_t)(count - out), (uint16_t)VHU_DEQUEUE_BURST_MAX);
	avail = vhu_ring_avail(vr, &br, n, packed);
	if (unlikely(avail < 0)) {
		vhu_desc_break(vr);
		return out;
	}
	n = (uint16_t)avail;
	if (n == 0)
		return out;
	/* Started + disabled: consume and drop (no mbufs needed). */
	base = out;
	if (mode == VHU_DP_RUN &&
	    unlikely(rte_pktmbuf_alloc_bulk(mp, pkts + base, n) != 0)) {
		vr->stats.nombuf++;
		return out; /* left in the ring for the next burst */
	}

	vhu_burst_ring_begin(vr, &br, false, vhu_dirty_logging(vr));
	hdr_len = vr->vnet_hdr_len;
	got = base;
	/*
	 * Two passes: first walk every chain (its descriptors prefetched)
	 * and prefetch the packets, then copy them. The guest's core just
	 * wrote each packet, so each copy starts with a miss; issued
	 * together for the burst, the misses overlap instead of queueing.
	 * Chains that are not one flat piece are copied in the first pass.
	 */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m;
		enum vhu_next r;
		uint16_t id, ndesc;

		/* Too many bad chains broke the ring: leave it now. */
		if (unlikely(vr->dp_broken))
			break;
		/* Packed: four whole packets in one descriptor line at once. */
		if (packed && mode == VHU_DP_RUN &&
		    n - i >= VHU_PACKED_BATCH &&
		    vhu_dequeue_batch(vr, &br, hdr_len, pkts + got,
				      flat + (got - base))) {
			got += VHU_PACKED_BATCH;
			i += VHU_PACKED_BATCH - 1;
			continue;
		}
		r = vhu_ring_next(vr, &br, false,
				  mode == VHU_DP_RUN ? &vec : NULL, &id, &ndesc,
				  packed);
		if (unlikely(r == VHU_NEXT_NONE))
			break;
		if (unlikely(r == VHU_NEXT_CORRUPT)) {
			vhu_desc_break(vr);
			break;
		}
		/* At most VHU_DEQUEUE_BURST_MAX entries: always kept. */
		vhu_ring_used_add(vr, &br, id, 0, ndesc, packed);
		if (mode != VHU_DP_RUN) {
			vr->stats.drop_disabled++;
			continue;
		}
		if (unlikely(r == VHU_NEXT_BAD)) {
			vhu_desc_bad_chain(vr);
			continue;
		}
		/* pkts[got] is the next unused pre-allocated mbuf. */
		m = pkts[got];
		if (likely(vhu_copy_vec_is_flat(&vec, hdr_len, m))) {
			const uint8_t *src = vec.bufs[0].addr;

			rte_prefetch0(src);
			rte_prefetch0(src + vec.total - 1);
			flat[got - base].src = src;
			flat[got - base].len = vec.total - hdr_len;
			got++;
			continue;
		}
		switch (vhu_copy_to_mbuf(&vec, hdr_len, vr->ol_mode, m, mp)) {
		case VHU_COPY_OK:
			flat[got - base].src = NULL; /* already copied */
			got++;
			break;
		case VHU_COPY_BAD_OFFLOAD:
			vr->stats.bad_offload++;
			/* fall through */
		case VHU_COPY_BAD_HDR:
			vhu_desc_bad_chain(vr);
			rte_pktmbuf_reset(m);
			break;
		case VHU_COPY_NOMBUF:
			vr->stats.nombuf++;
			rte_pktmbuf_reset(m);
			break;
		}
	}
	/* Second pass: the flat packets' copies; failures leave the burst
	 * (kept at the end of pkts, freed below). */
	out = base;
	for (i = 0; i < got - base; i++) {
		struct rte_mbuf *m = pkts[base + i];

		if (flat[i].src != NULL &&
		    unlikely(vhu_copy_to_mbuf_flat(flat[i].src, flat[i].len,
				hdr_len, vr->ol_mode, m) != VHU_COPY_OK)) {
			vr->stats.bad_offload++;
			vhu_desc_bad_chain(vr);
			rte_pktmbuf_reset(m);
			continue;
		}
		/* pkts[out, base + i) hold failed mbufs: swap past them. */
		pkts[base + i] = pkts[out];
		pkts[out++] = m;
		vr->stats.packets++;
		vr->stats.bytes += rte_pktmbuf_pkt_len(m);
	}
	/* Pre-allocated mbufs no packet took, and failed ones. */
	if (mode == VHU_DP_RUN && out < base + n)
		rte_pktmbuf_free_bulk(pkts + out, base + n - out);
	if (vhu_ring_moved(vr, &br))
		vhu_ring_publish(vr, &br, packed);
	return out;
}

uint16_t
vhu_dequeue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_vring *vr;
	uint16_t out = 0;
	uint32_t seq;
	uint8_t mode;

	if (unlikely(qp >= dev->max_queue_pairs || count == 0))
		return 0;
	vr = &dev->rings[2 * qp + 1];
	/* A stopped ring (no front-end, not started, stopped) costs one
	 * load: a burst that sees STOPPED reads nothing else, so it needs
	 * no sequence; any other mode is read again inside it. */
	if (__atomic_load_n(&vr->dp_mode, __ATOMIC_RELAXED) == VHU_DP_STOPPED)
		return 0;
	seq = vhu_sync_burst_enter(vr);
	mode = __atomic_load_n(&vr->dp_mode, __ATOMIC_ACQUIRE);
	if (unlikely(mode == VHU_DP_STOPPED || vr->dp_broken))
		goto out;

	if (unlikely(__atomic_load_n(&dev->rarp_pending, __ATOMIC_ACQUIRE)) &&
	    mode == VHU_DP_RUN &&
	    __atomic_exchange_n(&dev->rarp_pending, false, __ATOMIC_ACQ_REL)) {
		pkts[out] = vhu_burst_make_rarp(dev, mp);
		if (pkts[out] != NULL)
			out++;
	}
	if (vr->packed)
		out = vhu_dequeue_frame(vr, mode, mp, pkts, count, out, true);
	else
		out = vhu_dequeue_frame(vr, mode, mp, pkts, count, out, false);
out:
	vhu_sync_burst_exit(vr, seq);
	return out;
}

/* Scratch of one enqueue burst. */
struct vhu_enqueue_ctx {
	struct vhu_burst_ring br;
	struct vhu_copy_batch batch;
	struct vhu_bufvec first, vec;
	bool mergeable;
};

/*
 * Place one packet in the guest's RX ring, taking as many buffers as it
 * needs (one without mergeable buffers). Used entries are kept, not
 * published.
 * @return 1 placed; 0 not enough buffers (nothing consumed: the burst
 *   ends); -1 dropped (too big for a non-mergeable buffer, or an offload
 *   request that cannot be met; nothing consumed, counted); -2 an invalid
 *   chain was consumed and dropped (try the packet again).
 */
static __rte_always_inline int
vhu_enqueue_one(struct vhu_vring *vr, struct rte_mbuf *m,
		struct vhu_enqueue_ctx *c, const bool packed)
{
	struct vhu_burst_ring *br = &c->br;
	struct vhu_pkt_cursor cur;
	struct vhu_ring_mark mk;
	uint16_t heads = 0;

	if (unlikely(vhu_pkt_cursor_init(&cur, m, vr->vnet_hdr_len,
					 vr->ol_mode) != 0)) {
		vr->stats.drop_offload++;
		return -1;
	}
	/* One buffer unless it takes more (then rewritten below). */
	if (vr->vnet_hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf))
		cur.hdr.mrg.num_buffers = 1;

	vhu_ring_mark(vr, br, &mk);
	while (cur.left > 0) {
		struct vhu_bufvec *v = heads == 0 ? &c->first : &c->vec;
		uint32_t written;
		uint16_t id, ndesc;
		enum vhu_next r;

		r = vhu_ring_next(vr, br, true, v, &id, &ndesc, packed);
		if (r == VHU_NEXT_NONE || unlikely(r == VHU_NEXT_CORRUPT)) {
			/* Ring full (or corrupt): give back what this
			 * packet took. */
			if (r == VHU_NEXT_CORRUPT)
				vhu_desc_break(vr);
			vhu_ring_rewind(vr, br, &mk);
			return 0;
		}
		if (unlikely(r == VHU_NEXT_BAD)) {
			/* Drop the bad chain, and return the buffers this
			 * packet already took empty; then retry the packet. */
			vhu_ring_used_zero_from(vr, br, &mk, packed);
			if (unlikely(!vhu_ring_used_add(vr, br, id, 0, ndesc,
							packed))) {
				vhu_ring_rewind(vr, br, &mk);
				return 0;
			}
			vhu_desc_bad_chain(vr);
			return -2;
		}
		if (!c->mergeable && v->total < cur.left) {
			vhu_ring_rewind(vr, br, &mk);
			vr->stats.drop_too_big++;
			return -1;
		}
		written = vhu_copy_from_cursor(&cur, v, vr, br->logging,
					       &c->batch);
		if (unlikely(!vhu_ring_used_add(vr, br, id, written, ndesc,
						packed))) {
			/* Packed: a burst's used entries all wait in the
			 * shadow, and it is full; the rest waits for the
			 * next burst (what was copied is not published). */
			vhu_ring_rewind(vr, br, &mk);
			return 0;
		}
		heads++;
	}
	if (heads > 1)
		vhu_copy_set_num_buffers(&c->first, heads, vr, br->logging);
	return 1;
}

static __rte_always_inline uint16_t
vhu_enqueue_frame(struct vhu_vring *vr, struct rte_mbuf **pkts,
		uint16_t count, const bool packed)
{
	struct vhu_enqueue_ctx c;
	uint16_t done = 0;
	int avail;

	/* Split: read the avail index once (and prefetch). Packed: each
	 * chain's head flags say whether it is there. */
	if (!packed) {
		avail = vhu_ring_avail(vr, &c.br, count, packed);
		if (unlikely(avail < 0)) {
			vhu_desc_break(vr);
			return 0;
		}
	} else {
		vhu_packed_prefetch_descs(vr, count);
	}
	vhu_burst_ring_begin(vr, &c.br, true, vhu_dirty_logging(vr));
	c.mergeable = (vr->features & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	c.batch.n = 0;
	while (done < count && !vr->dp_broken) {
		int r = vhu_enqueue_one(vr, pkts[done], &c, packed);

		if (r == 1) {
			vr->stats.packets++;
			vr->stats.bytes += rte_pktmbuf_pkt_len(pkts[done]);
			done++;
		} else if (r == -1) {
			done++; /* handled: dropped, counted */
		} else if (r == 0) {
			vr->stats.drop_full += count - done;
			break;
		}
		/* r == -2: a bad chain went; try the same packet again */
	}
	vhu_copy_batch_run(&c.batch, vr, vr->vnet_hdr_len, c.br.logging);
	if (vhu_ring_moved(vr, &c.br))
		vhu_ring_publish(vr, &c.br, packed);
	return done;
}

uint16_t
vhu_enqueue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_vring *vr;
	uint16_t done = 0;
	uint32_t seq;

	if (unlikely(qp >= dev->max_queue_pairs || count == 0))
		return 0;
	vr = &dev->rings[2 * qp];
	/* Stopped: one load, no sequence (as in vhu_dequeue_burst()). */
	if (__atomic_load_n(&vr->dp_mode, __ATOMIC_RELAXED) == VHU_DP_STOPPED)
		return 0;
	seq = vhu_sync_burst_enter(vr);
	/* Disabled: supply no packets to the guest. */
	if (__atomic_load_n(&vr->dp_mode, __ATOMIC_ACQUIRE) != VHU_DP_RUN ||
	    unlikely(vr->dp_broken))
		goto out;
	if (vr->packed)
		done = vhu_enqueue_frame(vr, pkts, count, true);
	else
		done = vhu_enqueue_frame(vr, pkts, count, false);
out:
	vhu_sync_burst_exit(vr, seq);
	return done;
}

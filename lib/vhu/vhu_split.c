/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue datapath: the bounded descriptor walker, used-ring
 * updates, guest notifications, and the enqueue/dequeue bursts.
 *
 * Everything read from guest memory is untrusted: indices are checked
 * against the ring size, addresses translated through the memory table
 * (which bounds-checks them), chain length bounded by the ring size,
 * indirect tables validated, each descriptor read once into locals.
 * Policy for invalid chains: consume and drop (used length 0, counted);
 * after VHU_SPLIT_BAD_CHAIN_LIMIT of them, or at once when the ring
 * itself is corrupt (avail index jump, head index out of range), the ring
 * is broken: the datapath stops touching it and the control thread
 * reports it (vhu_dev_check_rings).
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vhu.h"
#include "vhu_bufvec.h"
#include "vhu_copy.h"
#include "vhu_dirty.h"
#include "vhu_features.h"
#include "vhu_sync.h"

#define VHU_SPLIT_BAD_CHAIN_LIMIT 16

/* Give up on a ring: the control thread reports it. */
static void
vhu_split_break(struct vhu_vring *vr)
{
	__atomic_store_n(&vr->dp_broken, true, __ATOMIC_RELEASE);
}

/* Count an invalid chain; too many of them break the ring. */
static void
vhu_split_bad_chain(struct vhu_vring *vr)
{
	vr->stats.drop_bad_desc++;
	if (++vr->bad_chains >= VHU_SPLIT_BAD_CHAIN_LIMIT)
		vhu_split_break(vr);
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
	bool indirect = false;

	vec->nbufs = 0;
	vec->total = 0;
	vec->head = head;
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
			uint64_t n = d.len;
			const struct vring_desc *t;

			/* No nesting, no INDIRECT|NEXT, a whole number of
			 * aligned descriptors in one region, and no more of
			 * them than the queue size: a chain is never longer
			 * (VIRTIO 1.x 2.7.5.3.1), and a larger table would
			 * let the guest keep this lcore walking. */
			if (indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    !(vr->features & VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC)) ||
			    d.len == 0 || d.len % sizeof(struct vring_desc) != 0 ||
			    d.len / sizeof(struct vring_desc) > vr->size ||
			    d.addr % 8 != 0)
				return VHU_CHAIN_BAD_INDIRECT;
			t = vhu_mem_gpa_to_va(vr->mem, d.addr, &n, &vr->mem_hint);
			if (t == NULL || n != d.len)
				return VHU_CHAIN_BAD_INDIRECT;
			table = t;
			table_size = d.len / sizeof(struct vring_desc);
			indirect = true;
			idx = 0;
			seen = 0;
			continue;
		}
		if (unlikely(!!(d.flags & VRING_DESC_F_WRITE) != writable))
			return VHU_CHAIN_BAD_DIRECTION;
		total += d.len;
		if (writable) {
			/* Capacity beyond the largest packet is never used. */
			if (total > VHU_CHAIN_MAX_BYTES)
				d.len -= (uint32_t)(total - VHU_CHAIN_MAX_BYTES);
		} else if (unlikely(total > VHU_CHAIN_MAX_BYTES)) {
			return VHU_CHAIN_TOO_LONG;
		}
		err = vhu_vec_add(vr, vec, d.addr, d.len);
		if (unlikely(err != VHU_CHAIN_OK))
			return err;
		if (writable && total >= VHU_CHAIN_MAX_BYTES)
			break;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	/* A guest RX buffer must hold at least the virtio-net header
	 * (VIRTIO 1.x 5.1.6.3.1); one with fewer bytes (none, even) would
	 * leave the header, and num_buffers, to other buffers. */
	if (writable && unlikely(total < vr->vnet_hdr_len))
		return VHU_CHAIN_TOO_SHORT;
	vec->total = (uint32_t)RTE_MIN(total, (uint64_t)VHU_CHAIN_MAX_BYTES);
	return VHU_CHAIN_OK;
}

/*
 * Used entries of one burst, kept here and written to the ring in one go
 * before they are published. The guest polls the used ring: writing its
 * cache lines one entry at a time while it reads them makes the lines
 * bounce between the two cores for every packet.
 */
#define VHU_USED_SHADOW 64

struct vhu_used_shadow {
	uint16_t start;  /* used index of e[0] */
	uint16_t n;      /* entries not yet written to the ring */
	struct vring_used_elem e[VHU_USED_SHADOW];
};

static __rte_always_inline void
vhu_used_begin(const struct vhu_vring *vr, struct vhu_used_shadow *sh)
{
	sh->start = vr->last_used_idx;
	sh->n = 0;
}

/* Write the kept entries to the ring (not yet published). */
static void
vhu_used_flush(struct vhu_vring *vr, struct vhu_used_shadow *sh,
		bool logging)
{
	uint16_t slot = sh->start & (vr->size - 1);
	uint16_t first = RTE_MIN(sh->n, (uint16_t)(vr->size - slot));
	const size_t esz = sizeof(struct vring_used_elem);

	memcpy(&vr->used->ring[slot], sh->e, first * esz);
	if (sh->n > first)
		memcpy(&vr->used->ring[0], sh->e + first, (sh->n - first) * esz);
	if (logging) {
		vhu_dirty_mark_used(vr, offsetof(struct vring_used, ring) +
				    slot * esz, first * esz);
		if (sh->n > first)
			vhu_dirty_mark_used(vr, offsetof(struct vring_used, ring),
					    (sh->n - first) * esz);
	}
	sh->start += sh->n;
	sh->n = 0;
}

/* Append the next used entry (vr->last_used_idx). */
static __rte_always_inline void
vhu_used_add(struct vhu_vring *vr, struct vhu_used_shadow *sh, uint16_t id,
		uint32_t len, bool logging)
{
	if (unlikely(sh->n == VHU_USED_SHADOW))
		vhu_used_flush(vr, sh, logging);
	sh->e[sh->n].id = id;
	sh->e[sh->n].len = len;
	sh->n++;
	vr->last_used_idx++;
}

/* Forget the entries from used index `to` on (a packet that did not fit).
 * Entries already written to the ring past `to` are not published and
 * will be overwritten. */
static __rte_always_inline void
vhu_used_rewind(struct vhu_vring *vr, struct vhu_used_shadow *sh, uint16_t to)
{
	uint16_t kept = to - sh->start;

	vr->last_used_idx = to;
	if (kept <= sh->n) {
		sh->n = kept;
	} else {
		sh->start = to;
		sh->n = 0;
	}
}

/* Give back the entries from used index `from` on with length 0. */
static void
vhu_used_zero_from(struct vhu_vring *vr, struct vhu_used_shadow *sh,
		uint16_t from, bool logging)
{
	uint16_t u;

	for (u = from; u != vr->last_used_idx; u++) {
		uint16_t k = u - sh->start;

		if (k < sh->n) {
			sh->e[k].len = 0;
		} else {
			uint16_t slot = u & (vr->size - 1);

			vr->used->ring[slot].len = 0;
			if (logging)
				vhu_dirty_mark_used(vr, offsetof(struct vring_used,
					ring) + slot * sizeof(struct vring_used_elem),
					sizeof(struct vring_used_elem));
		}
	}
}

/*
 * Publish used entries up to vr->last_used_idx and notify the guest if
 * it asked (EVENT_IDX used_event, else VRING_AVAIL_F_NO_INTERRUPT). One
 * fence and at most one eventfd write per burst.
 */
static void
vhu_split_publish(struct vhu_vring *vr, struct vhu_used_shadow *sh,
		uint16_t old_used, bool logging)
{
	uint16_t new_used = vr->last_used_idx;
	int call_fd;
	bool notify;

	vhu_used_flush(vr, sh, logging);

	__atomic_store_n(&vr->used->idx, new_used, __ATOMIC_RELEASE);
	if (logging) {
		vhu_dirty_mark_used(vr, offsetof(struct vring_used, idx),
				    sizeof(uint16_t));
		/* Read by the control thread for SET_LOG_FD's signal. */
		__atomic_store_n(&vr->log_bursts, vr->log_bursts + 1,
				 __ATOMIC_RELAXED);
	}
	call_fd = vr->call_fd;
	if (call_fd < 0)
		return;
	/* The used index must be visible before we read the guest's
	 * suppression fields (it reads them in the other order). */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vr->features & VHU_BIT(VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event = __atomic_load_n(&vr->avail->ring[vr->size],
						 __ATOMIC_RELAXED);

		notify = (uint16_t)(new_used - event - 1) <
			(uint16_t)(new_used - old_used);
	} else {
		notify = !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
			   VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (notify) {
		eventfd_write(call_fd, 1);
		vr->stats.notifications++;
	}
}

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

/* A RARP frame announcing the guest's MAC after migration (SEND_RARP). */
static struct rte_mbuf *
vhu_split_make_rarp(struct vhu_device *dev, struct rte_mempool *mp)
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

uint16_t
vhu_dequeue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_used_shadow sh;
	struct {
		const uint8_t *src; /* NULL: copied in the first pass */
		uint32_t len;
	} flat[VHU_DEQUEUE_BURST_MAX];
	struct vhu_bufvec vec;
	struct vhu_vring *vr;
	uint16_t old_used, i, n, base, got, out = 0;
	uint8_t hdr_len;
	uint32_t seq;
	uint8_t mode;
	bool logging;
	int avail;

	if (unlikely(qp >= dev->max_queue_pairs || count == 0))
		return 0;
	vr = &dev->rings[2 * qp + 1];
	seq = vhu_sync_burst_enter(vr);
	mode = __atomic_load_n(&vr->dp_mode, __ATOMIC_ACQUIRE);
	if (unlikely(mode == VHU_DP_STOPPED || vr->dp_broken))
		goto out;

	if (unlikely(__atomic_load_n(&dev->rarp_pending, __ATOMIC_ACQUIRE)) &&
	    mode == VHU_DP_RUN &&
	    __atomic_exchange_n(&dev->rarp_pending, false, __ATOMIC_ACQ_REL)) {
		pkts[out] = vhu_split_make_rarp(dev, mp);
		if (pkts[out] != NULL)
			out++;
	}

	avail = vhu_split_avail(vr);
	if (unlikely(avail < 0)) {
		vhu_split_break(vr);
		goto out;
	}
	n = RTE_MIN((uint16_t)avail, (uint16_t)(count - out));
	n = RTE_MIN(n, (uint16_t)VHU_DEQUEUE_BURST_MAX);
	if (n == 0)
		goto out;
	/* Started + disabled: consume and drop (no mbufs needed). */
	base = out;
	if (mode == VHU_DP_RUN &&
	    unlikely(rte_pktmbuf_alloc_bulk(mp, pkts + base, n) != 0)) {
		vr->stats.nombuf++;
		goto out; /* left in the ring for the next burst */
	}

	logging = vhu_dirty_logging(vr);
	hdr_len = vr->vnet_hdr_len;
	got = base;
	old_used = vr->last_used_idx;
	vhu_used_begin(vr, &sh);
	vhu_split_prefetch_descs(vr, n);
	/*
	 * Two passes: first walk every chain (its descriptors prefetched
	 * above) and prefetch the packets, then copy them. The guest's core
	 * just wrote each packet, so each copy starts with a miss; issued
	 * together for the burst, the misses overlap instead of queueing.
	 * Chains that are not one flat piece are copied in the first pass.
	 */
	for (i = 0; i < n; i++) {
		uint16_t head = vhu_split_head(vr, vr->last_avail_idx);
		struct rte_mbuf *m;

		/* Too many bad chains broke the ring: leave it now. */
		if (unlikely(vr->dp_broken))
			break;
		if (unlikely(head >= vr->size)) {
			/* No valid id to give back: the ring is corrupt. */
			vhu_split_break(vr);
			break;
		}
		vr->last_avail_idx++;
		vhu_used_add(vr, &sh, head, 0, logging);
		if (mode != VHU_DP_RUN) {
			vr->stats.drop_disabled++;
			continue;
		}
		/* pkts[got] is the next unused pre-allocated mbuf. */
		m = pkts[got];
		if (unlikely(vhu_split_walk(vr, head, false, &vec) !=
			     VHU_CHAIN_OK)) {
			vhu_split_bad_chain(vr);
			continue;
		}
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
			vhu_split_bad_chain(vr);
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
			vhu_split_bad_chain(vr);
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
	if (vr->last_used_idx != old_used)
		vhu_split_publish(vr, &sh, old_used, logging);
out:
	vhu_sync_burst_exit(vr, seq);
	return out;
}

/*
 * Place one packet in the guest's RX ring, taking as many avail heads as
 * it needs (one without mergeable buffers). Used entries are written but
 * not published.
 * @return 1 placed; 0 not enough buffers (nothing consumed); -1 dropped
 *   (too big for a non-mergeable buffer, or an offload request that
 *   cannot be met; nothing consumed, counted); -2 an invalid chain was
 *   consumed and dropped (try the packet again).
 */
static int
vhu_split_enqueue_one(struct vhu_vring *vr, struct rte_mbuf *m,
		uint16_t avail_left, bool mergeable, bool logging,
		struct vhu_used_shadow *sh, struct vhu_copy_batch *batch,
		struct vhu_bufvec *first, struct vhu_bufvec *vec)
{
	struct vhu_pkt_cursor cur;
	uint16_t heads = 0;
	uint16_t avail_start = vr->last_avail_idx;
	uint16_t used_start = vr->last_used_idx;

	if (unlikely(vhu_pkt_cursor_init(&cur, m, vr->vnet_hdr_len,
					 vr->ol_mode) != 0)) {
		vr->stats.drop_offload++;
		return -1;
	}
	/* One buffer unless it takes more (then rewritten below). */
	if (vr->vnet_hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf))
		cur.hdr.mrg.num_buffers = 1;

	while (cur.left > 0) {
		struct vhu_bufvec *v = heads == 0 ? first : vec;
		uint16_t head;
		uint32_t written;

		if (heads == avail_left) {
			/* Ring full: give back what this packet took. */
			vr->last_avail_idx = avail_start;
			vhu_used_rewind(vr, sh, used_start);
			return 0;
		}
		head = vhu_split_head(vr, vr->last_avail_idx);
		if (unlikely(head >= vr->size)) {
			vhu_split_break(vr);
			vr->last_avail_idx = avail_start;
			vhu_used_rewind(vr, sh, used_start);
			return 0;
		}
		if (unlikely(vhu_split_walk(vr, head, true, v) != VHU_CHAIN_OK)) {
			/* Drop the bad chain, and return the buffers this
			 * packet already took empty; then retry the packet. */
			vhu_used_zero_from(vr, sh, used_start, logging);
			vr->last_avail_idx++;
			vhu_used_add(vr, sh, head, 0, logging);
			vhu_split_bad_chain(vr);
			return -2;
		}
		if (!mergeable && v->total < cur.left) {
			vr->stats.drop_too_big++;
			return -1;
		}
		written = vhu_copy_from_cursor(&cur, v, vr, logging, batch);
		vr->last_avail_idx++;
		vhu_used_add(vr, sh, head, written, logging);
		heads++;
	}
	if (heads > 1)
		vhu_copy_set_num_buffers(first, heads, vr, logging);
	return 1;
}

uint16_t
vhu_enqueue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mbuf **pkts, uint16_t count)
{
	struct vhu_used_shadow sh;
	struct vhu_copy_batch batch;
	struct vhu_bufvec first, vec;
	struct vhu_vring *vr;
	uint16_t old_used, avail_start, done = 0;
	uint32_t seq;
	bool logging, mergeable;
	int avail;

	if (unlikely(qp >= dev->max_queue_pairs || count == 0))
		return 0;
	vr = &dev->rings[2 * qp];
	seq = vhu_sync_burst_enter(vr);
	/* Disabled: supply no packets to the guest. */
	if (__atomic_load_n(&vr->dp_mode, __ATOMIC_ACQUIRE) != VHU_DP_RUN ||
	    unlikely(vr->dp_broken))
		goto out;
	avail = vhu_split_avail(vr);
	if (unlikely(avail < 0)) {
		vhu_split_break(vr);
		goto out;
	}
	logging = vhu_dirty_logging(vr);
	mergeable = (vr->features & VHU_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	old_used = vr->last_used_idx;
	vhu_used_begin(vr, &sh);
	batch.n = 0;
	avail_start = vr->last_avail_idx;
	vhu_split_prefetch_descs(vr, RTE_MIN((uint16_t)avail, count));
	while (done < count && !vr->dp_broken) {
		uint16_t left = (uint16_t)avail -
			(uint16_t)(vr->last_avail_idx - avail_start);
		int r;

		if (left == 0) {
			vr->stats.drop_full += count - done;
			break;
		}
		r = vhu_split_enqueue_one(vr, pkts[done], left, mergeable,
					  logging, &sh, &batch, &first, &vec);
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
	vhu_copy_batch_run(&batch, vr, vr->vnet_hdr_len, logging);
	if (vr->last_used_idx != old_used)
		vhu_split_publish(vr, &sh, old_used, logging);
out:
	vhu_sync_burst_exit(vr, seq);
	return done;
}

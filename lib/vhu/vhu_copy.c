/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_prefetch.h>

#include "vhu_copy.h"
#include "vhu_dirty.h"

/* Gather the first len bytes of vec into dst. @return bytes gathered. */
static uint32_t
vhu_vec_gather(const struct vhu_bufvec *vec, void *dst, uint32_t len)
{
	uint32_t done = 0;
	uint16_t i;

	for (i = 0; i < vec->nbufs && done < len; i++) {
		uint32_t n = RTE_MIN(vec->bufs[i].len, len - done);

		memcpy((uint8_t *)dst + done, vec->bufs[i].addr, n);
		done += n;
	}
	return done;
}

/* Apply a dequeued packet's header to m (whose data is in place). */
static enum vhu_copy_err
vhu_copy_apply_hdr(const struct virtio_net_hdr *h, struct rte_mbuf *m,
		uint8_t ol_mode)
{
	/* Flag bits we do not know are ignored (the spec says so). */
	if (unlikely((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) | h->gso_type) &&
	    vhu_offload_dequeue(h, m, ol_mode) != 0) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
		m->data_len = 0;
		m->pkt_len = 0;
		m->ol_flags = 0;
		return VHU_COPY_BAD_OFFLOAD;
	}
	return VHU_COPY_OK;
}

enum vhu_copy_err
vhu_copy_to_mbuf_flat(const uint8_t *src, uint32_t pkt_len, uint8_t hdr_len,
		uint8_t ol_mode, struct rte_mbuf *m)
{
	union vhu_net_hdr hdr;

	rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), src + hdr_len, pkt_len);
	m->data_len = (uint16_t)pkt_len;
	m->pkt_len = pkt_len;
	/* flags and gso_type (the first two bytes) say whether the rest of
	 * the header matters: a fixed-size load, not a libc call. */
	if (likely(src[0] == 0 && src[1] == 0))
		return VHU_COPY_OK;
	memcpy(&hdr, src, hdr_len);
	return vhu_copy_apply_hdr(&hdr.hdr, m, ol_mode);
}

enum vhu_copy_err
vhu_copy_to_mbuf(const struct vhu_bufvec *vec, uint8_t hdr_len,
		uint8_t ol_mode, struct rte_mbuf *m, struct rte_mempool *mp)
{
	union vhu_net_hdr hdr;
	struct rte_mbuf *cur = m;
	uint32_t pkt_len, skip = hdr_len;
	uint16_t i;

	if (vec->total <= hdr_len)
		return VHU_COPY_BAD_HDR; /* CVE-2022-2132: chain < header */
	pkt_len = vec->total - hdr_len;

	/* Fast path: header and packet in one piece (what DPDK's virtio
	 * PMD and Linux send) that fits the first mbuf. */
	if (likely(vhu_copy_vec_is_flat(vec, hdr_len, m)))
		return vhu_copy_to_mbuf_flat(vec->bufs[0].addr, pkt_len,
					     hdr_len, ol_mode, m);
	vhu_vec_gather(vec, &hdr, hdr_len);

	for (i = 0; i < vec->nbufs; i++) {
		const uint8_t *src = vec->bufs[i].addr;
		uint32_t n = vec->bufs[i].len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		src += skip;
		n -= skip;
		skip = 0;
		while (n > 0) {
			uint32_t room = rte_pktmbuf_tailroom(cur);
			uint32_t c;

			if (room == 0) {
				struct rte_mbuf *s = rte_pktmbuf_alloc(mp);

				if (s == NULL)
					goto nombuf;
				cur->next = s;
				cur = s;
				m->nb_segs++;
				continue;
			}
			c = RTE_MIN(room, n);
			rte_memcpy(rte_pktmbuf_mtod_offset(cur, uint8_t *,
							   cur->data_len), src, c);
			cur->data_len += c;
			src += c;
			n -= c;
		}
	}
	m->pkt_len = pkt_len;
	return vhu_copy_apply_hdr(&hdr.hdr, m, ol_mode);

nombuf:
	rte_pktmbuf_free(m->next);
	m->next = NULL;
	m->nb_segs = 1;
	m->data_len = 0;
	m->pkt_len = 0;
	return VHU_COPY_NOMBUF;
}

/* Overwrite the bytes of c's patches that fall in dst, which holds the
 * packet stream (header + data) [pos, pos + len). */
static void
vhu_copy_patch(const struct vhu_pkt_cursor *c, uint8_t *dst, uint32_t pos,
		uint32_t len)
{
	uint8_t p, k;

	for (p = 0; p < c->npatch; p++) {
		for (k = 0; k < 2; k++) {
			uint32_t at = c->hdr_len + c->patch[p].off + k;

			if (at >= pos && at - pos < len)
				dst[at - pos] = c->patch[p].val[k];
		}
	}
}

/*
 * Write a plain header (zero; num_buffers 1 in a 12-byte one) at dst,
 * from registers.
 * Copying it out of a cursor would load bytes that were just stored with
 * other widths (memset, then num_buffers): such a load cannot be
 * forwarded from the store buffer and waits until every older store has
 * reached the cache -- including stores into guest memory, each a miss
 * on a line the guest's core owns.
 * A buffer that already holds these bytes (the same buffer carried a
 * plain packet last time round) is left alone: when the header has a
 * cache line to itself -- DPDK's virtio PMD puts it in the mbuf headroom --
 * the guest keeps its copy of the line, and neither core pays for moving
 * it. The load is cheap: the line was read-prefetched when the copy was
 * recorded.
 */
static __rte_always_inline void
vhu_copy_plain_hdr(uint8_t *dst, uint8_t hdr_len, uint8_t flags)
{
	/* flags is the first byte (little-endian host), the rest zero. */
	const uint64_t want = flags;
	uint64_t head;

	RTE_BUILD_BUG_ON(RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN);
	memcpy(&head, dst, sizeof(head));
	if (hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
		/* csum_offset = 0, then num_buffers = 1 (little-endian host). */
		const uint32_t tail = UINT32_C(1) << 16;
		uint32_t tail_now;

		memcpy(&tail_now, dst + 8, sizeof(tail_now));
		if (head == want && tail_now == tail)
			return;
		memcpy(dst, &want, sizeof(want));
		memcpy(dst + 8, &tail, sizeof(tail));
	} else {
		const uint16_t tail = 0;
		uint16_t tail_now;

		memcpy(&tail_now, dst + 8, sizeof(tail_now));
		if (head == want && tail_now == tail)
			return;
		memcpy(dst, &want, sizeof(want));
		memcpy(dst + 8, &tail, sizeof(tail));
	}
}

/* A plain header (flags but zeros) and len data bytes from src into
 * guest memory at dst. */
static __rte_always_inline void
vhu_copy_plain(uint8_t *dst, uint64_t gpa, const uint8_t *src, uint32_t len,
		uint8_t hdr_len, uint8_t flags, const struct vhu_vring *vr,
		bool logging)
{
	vhu_copy_plain_hdr(dst, hdr_len, flags);
	rte_memcpy(dst + hdr_len, src, len);
	if (logging)
		vhu_dirty_mark(vr, gpa, hdr_len + len);
}

void
vhu_copy_batch_run(struct vhu_copy_batch *b, const struct vhu_vring *vr,
		uint8_t hdr_len, bool logging)
{
	uint16_t i;

	for (i = 0; i < b->n; i++) {
		const struct vhu_copy_deferred *d = &b->d[i];

		if (i + 1 < b->n)
			rte_prefetch0(b->d[i + 1].src);
		vhu_copy_plain(d->dst, d->gpa, d->src, d->len, hdr_len,
			       d->hdr_flags, vr, logging);
	}
	b->n = 0;
}

uint32_t
vhu_copy_from_cursor(struct vhu_pkt_cursor *c, const struct vhu_bufvec *vec,
		const struct vhu_vring *vr, bool logging,
		struct vhu_copy_batch *batch)
{
	uint32_t written = 0;
	uint16_t i;

	/* Fast path: a whole plain one-segment packet into a first piece
	 * big enough for header and data. A small one is put off to the
	 * batch, its destination prefetched now; a large one is copied now:
	 * its many lines' misses would pile up behind the batch's. */
	if (likely(c->plain && c->hdr_off == 0 && c->seg->next == NULL &&
		   c->left <= vec->bufs[0].len &&
		   (c->hdr_len != sizeof(struct virtio_net_hdr_mrg_rxbuf) ||
		    c->hdr.mrg.num_buffers == 1))) {
		uint8_t *dst = vec->bufs[0].addr;
		const uint8_t *src = rte_pktmbuf_mtod(c->seg, const uint8_t *);
		uint32_t len = c->left - c->hdr_len;

		if (len > VHU_COPY_DEFER_MAX) {
			vhu_copy_plain(dst, vec->bufs[0].gpa, src, len, c->hdr_len,
				       c->hdr.hdr.flags, vr, logging);
		} else {
			struct vhu_copy_deferred *d;

			if (unlikely(batch->n == VHU_COPY_BATCH))
				vhu_copy_batch_run(batch, vr, c->hdr_len,
						   logging);
			d = &batch->d[batch->n++];
			d->dst = dst;
			d->src = src;
			d->gpa = vec->bufs[0].gpa;
			d->len = len;
			d->hdr_flags = c->hdr.hdr.flags;
			/* The header's line for reading (it may need no
			 * write, see vhu_copy_plain_hdr()), the data's for
			 * writing. */
			__builtin_prefetch(dst, 0, 3);
			__builtin_prefetch(dst + c->hdr_len, 1, 3);
			__builtin_prefetch(dst + c->left - 1, 1, 3);
		}
		written = c->left;
		c->hdr_off = c->hdr_len;
		c->seg_off = c->seg->data_len;
		c->left = 0;
		return written;
	}

	for (i = 0; i < vec->nbufs && c->left > 0; i++) {
		uint8_t *dst = vec->bufs[i].addr;
		uint32_t room = vec->bufs[i].len;
		uint32_t used = 0;
		const uint32_t pos = c->end - c->left; /* of dst[0] */

		/* Header bytes first. */
		while (c->hdr_off < c->hdr_len && used < room) {
			uint32_t n = RTE_MIN(room - used,
					     (uint32_t)c->hdr_len - c->hdr_off);

			memcpy(dst + used, c->hdr.bytes + c->hdr_off, n);
			c->hdr_off += n;
			used += n;
			c->left -= n;
		}
		while (c->left > 0 && used < room) {
			uint32_t n;

			while (c->seg_off == c->seg->data_len) {
				c->seg = c->seg->next;
				c->seg_off = 0;
			}
			n = RTE_MIN(room - used, c->seg->data_len - c->seg_off);
			rte_memcpy(dst + used, rte_pktmbuf_mtod_offset(c->seg,
					const uint8_t *, c->seg_off), n);
			c->seg_off += n;
			used += n;
			c->left -= n;
		}
		if (unlikely(c->npatch != 0))
			vhu_copy_patch(c, dst, pos, used);
		if (logging)
			vhu_dirty_mark(vr, vec->bufs[i].gpa, used);
		written += used;
	}
	return written;
}

void
vhu_copy_set_num_buffers(const struct vhu_bufvec *vec, uint16_t num_buffers,
		const struct vhu_vring *vr, bool logging)
{
	const uint32_t off = offsetof(struct virtio_net_hdr_mrg_rxbuf,
				      num_buffers);
	uint8_t b[2];
	uint32_t pos = 0, i, k = 0;

	memcpy(b, &num_buffers, sizeof(b)); /* little-endian host */
	if (likely(vec->bufs[0].len >= off + 2)) {
		memcpy(vec->bufs[0].addr + off, b, 2);
		if (logging)
			vhu_dirty_mark(vr, vec->bufs[0].gpa + off, 2);
		return;
	}
	for (i = 0; i < vec->nbufs && k < 2; i++) {
		uint32_t len = vec->bufs[i].len;

		while (k < 2 && off + k >= pos && off + k < pos + len) {
			vec->bufs[i].addr[off + k - pos] = b[k];
			if (logging)
				vhu_dirty_mark(vr, vec->bufs[i].gpa + off + k - pos, 1);
			k++;
		}
		pos += len;
	}
}

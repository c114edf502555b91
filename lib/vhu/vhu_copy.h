/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copying between buffer vectors (guest memory) and mbufs, shared by
 * every ring format. Datapath only.
 */
#ifndef VHU_COPY_H
#define VHU_COPY_H

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

#include "vhu_bufvec.h"
#include "vhu_dev.h"
#include "vhu_offload.h"

/* Why a guest packet was not turned into an mbuf. */
enum vhu_copy_err {
	VHU_COPY_OK = 0,
	VHU_COPY_BAD_HDR,     /* shorter than the header */
	VHU_COPY_BAD_OFFLOAD, /* the header's offload fields are invalid */
	VHU_COPY_NOMBUF,      /* no mbuf for a further segment */
};

/*
 * Dequeue side: copy the packet in vec (virtio-net header first,
 * hdr_len bytes) into m (an empty mbuf from mp; further segments come
 * from mp too) and apply the header's offloads for a ring in offload
 * mode ol_mode (vhu_offload_dequeue(): TX offload flags, RX flags with
 * VHU_OL_DEQ_RX_FLAGS, or a partial checksum completed in software).
 * On error m is left with no extra segments.
 */
enum vhu_copy_err vhu_copy_to_mbuf(const struct vhu_bufvec *vec,
		uint8_t hdr_len, uint8_t ol_mode, struct rte_mbuf *m,
		struct rte_mempool *mp);

/* Whether vec holds a header and a non-empty packet in one piece that
 * fits m's tailroom: what vhu_copy_to_mbuf_flat() takes. */
static inline bool
vhu_copy_vec_is_flat(const struct vhu_bufvec *vec, uint8_t hdr_len,
		const struct rte_mbuf *m)
{
	return vec->nbufs == 1 && vec->total > hdr_len &&
		vec->total - hdr_len <= rte_pktmbuf_tailroom(m);
}

/*
 * Dequeue fast path: the header and a pkt_len-byte packet in one piece of
 * guest memory at src, pkt_len <= rte_pktmbuf_tailroom(m). Same result
 * as vhu_copy_to_mbuf() for such a packet; lets the caller translate a
 * whole burst first and prefetch src before copying.
 */
enum vhu_copy_err vhu_copy_to_mbuf_flat(const uint8_t *src, uint32_t pkt_len,
		uint8_t hdr_len, uint8_t ol_mode, struct rte_mbuf *m);

/* The virtio-net header vhu writes in front of a packet into the guest. */
union vhu_net_hdr {
	struct virtio_net_hdr hdr;
	struct virtio_net_hdr_mrg_rxbuf mrg;
	uint8_t bytes[sizeof(struct virtio_net_hdr_mrg_rxbuf)];
};

/*
 * Enqueue side: a cursor over a packet (header, then the mbuf chain)
 * that copies as much as fits into one buffer vector at a time, so a
 * packet can spread over several (mergeable RX buffers).
 */
struct vhu_pkt_cursor {
	union vhu_net_hdr hdr;
	uint8_t hdr_len;
	uint8_t npatch;             /* offload: patch[] entries in use */
	/* hdr is zero but for num_buffers and flags (DATA_VALID), and
	 * no patch: the fast path (vhu_copy_from_cursor) takes it. */
	bool plain;
	uint32_t hdr_off;           /* header bytes already copied */
	const struct rte_mbuf *seg; /* current segment */
	uint32_t seg_off;           /* bytes of seg already copied */
	uint32_t left;              /* bytes (header + data) still to copy */
	uint32_t end;               /* header + data bytes in all */
	/* Checksum bytes written over the guest's copy (offloads). */
	struct vhu_ol_patch patch[VHU_OL_MAX_PATCHES];
};

/*
 * Start a cursor over m for a ring in offload mode ol_mode. An mbuf that
 * asks for an offload (one predictable branch otherwise) gets its header
 * and checksum patches from vhu_offload_enqueue().
 * @return 0; -1 if m's offload request cannot be met (drop it).
 */
static inline int
vhu_pkt_cursor_init(struct vhu_pkt_cursor *c, const struct rte_mbuf *m,
		uint8_t hdr_len, uint8_t ol_mode)
{
	memset(&c->hdr, 0, sizeof(c->hdr));
	c->hdr_len = hdr_len;
	c->npatch = 0;
	c->hdr_off = 0;
	c->seg = m;
	c->seg_off = 0;
	c->left = hdr_len + rte_pktmbuf_pkt_len(m);
	c->end = c->left;
	c->plain = true;
	if (unlikely(m->ol_flags & vhu_offload_enq_mask(ol_mode))) {
		int ret = vhu_offload_enqueue(m, ol_mode, &c->hdr.hdr,
					      c->patch, &c->npatch);

		/* A checksum the sender verified (RX_L4_CKSUM_GOOD, said
		 * DATA_VALID) is only a flag: still the fast path. */
		c->plain = c->npatch == 0 &&
			c->hdr.hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
			!(c->hdr.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
		return ret;
	}
	return 0;
}

/*
 * Copies put off until the end of a burst: a plain header and a small
 * one-segment packet into one piece of guest memory (what almost every
 * small packet is). The destination is prefetched when the copy is recorded
 * (the data for writing, the header for reading: it is only written if
 * its bytes differ) and written a whole burst later: stores into guest
 * buffers miss (the guest's core last touched them), and done one packet
 * at a time those misses fill the store buffer and serialise.
 */
#define VHU_COPY_BATCH 32
/* Larger packets (data bytes) are copied at once, not put off: 32 of them
 * at the end of a burst are more store misses than the CPU can keep in
 * flight, and the copies stall (guest RX 512 B: 1.16x net_vhost's
 * cycles/packet deferred, 0.98x copied at once). */
#define VHU_COPY_DEFER_MAX 256

struct vhu_copy_deferred {
	uint8_t *dst;        /* header, then data */
	const uint8_t *src;  /* packet data */
	uint64_t gpa;        /* of dst (dirty log) */
	uint32_t len;        /* data bytes */
	uint8_t hdr_flags;   /* the header's flags (0 or DATA_VALID) */
};

struct vhu_copy_batch {
	uint16_t n;
	struct vhu_copy_deferred d[VHU_COPY_BATCH];
};

/* Do the batch's copies (before the used entries are published). */
void vhu_copy_batch_run(struct vhu_copy_batch *b, const struct vhu_vring *vr,
		uint8_t hdr_len, bool logging);

/*
 * Copy from the cursor into vec, from its start, until the packet ends
 * or vec is full; marks the written guest pages dirty when logging. A
 * whole plain one-segment packet of at most VHU_COPY_DEFER_MAX data bytes
 * that fits vec's first piece is only recorded in batch (which is run
 * first if full): the caller must run the batch before publishing. A
 * 12-byte header's num_buffers is written as the cursor holds it (set it
 * to 1 first; rewrite it with vhu_copy_set_num_buffers() if the packet
 * took more buffers).
 * @return bytes written (or to be written) into vec.
 */
uint32_t vhu_copy_from_cursor(struct vhu_pkt_cursor *c,
		const struct vhu_bufvec *vec, const struct vhu_vring *vr,
		bool logging, struct vhu_copy_batch *batch);

/* Write the header's num_buffers (mergeable RX) at the start of vec. */
void vhu_copy_set_num_buffers(const struct vhu_bufvec *vec,
		uint16_t num_buffers, const struct vhu_vring *vr, bool logging);

#endif /* VHU_COPY_H */

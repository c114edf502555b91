/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software GSO for TX: a TSO mbuf (RTE_MBUF_F_TX_TCP_SEG) for a guest
 * that did not negotiate GUEST_TSO4 is segmented with DPDK's rte_gso into
 * MSS-sized TCP/IPv4 packets, which lib/vhu then copies into the guest
 * with their checksums done (in software, or as partial checksums to a
 * guest with GUEST_CSUM). A guest with GUEST_TSO4/6 gets the TSO mbuf
 * whole, as one GSO packet (lib/vhu). rte_gso of DPDK 22.11 segments
 * TCP/IPv4 only: TCP/IPv6 TSO mbufs for a guest without GUEST_TSO6 stay
 * lib/vhu's drop_offload.
 *
 * Only queues of a port whose application enabled RTE_ETH_TX_OFFLOAD_TCP_TSO
 * get a GSO context (two mempools per TX queue, made at queue setup, on
 * the control path); tx_burst of the others is unchanged.
 */
#include <errno.h>
#include <stdio.h>

#include <linux/virtio_net.h>

#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "vhu_ethdev.h"

/*
 * Mbufs per pool: a burst of 32 TSO packets of 64 KiB at an MSS of 1448
 * needs 32 * 46 of each; the segments live only until lib/vhu has copied
 * them, within the same tx_burst call.
 */
#define VHU_GSO_POOL_SIZE 2047
#define VHU_GSO_POOL_CACHE 64
/* The direct mbufs hold a copy of the headers only (L2 + L3 + L4). */
#define VHU_GSO_HDR_ROOM 256

int
vhu_ethdev_gso_setup(struct vhu_ethdev_txq *q, int socket_id)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_gso_ctx *ctx;

	ctx = rte_zmalloc_socket("vhu_gso_ctx", sizeof(*ctx), 0, socket_id);
	if (ctx == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "vhu_gsod_%u_%u", q->port_id, q->qp);
	ctx->direct_pool = rte_pktmbuf_pool_create(name, VHU_GSO_POOL_SIZE,
			VHU_GSO_POOL_CACHE, 0,
			RTE_PKTMBUF_HEADROOM + VHU_GSO_HDR_ROOM, socket_id);
	snprintf(name, sizeof(name), "vhu_gsoi_%u_%u", q->port_id, q->qp);
	ctx->indirect_pool = rte_pktmbuf_pool_create(name, VHU_GSO_POOL_SIZE,
			VHU_GSO_POOL_CACHE, 0, 0, socket_id);
	if (ctx->direct_pool == NULL || ctx->indirect_pool == NULL) {
		int err = rte_errno;

		VHU_ETHDEV_LOG(ERR, "port %u TX queue %u: no GSO mempools: %s",
			       q->port_id, q->qp, rte_strerror(err));
		rte_mempool_free(ctx->direct_pool);
		rte_mempool_free(ctx->indirect_pool);
		rte_free(ctx);
		return -err;
	}
	ctx->gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	ctx->flag = 0;
	q->gso = ctx;
	return 0;
}

void
vhu_ethdev_gso_free(struct vhu_ethdev_txq *q)
{
	if (q->gso == NULL)
		return;
	rte_mempool_free(q->gso->direct_pool);
	rte_mempool_free(q->gso->indirect_pool);
	rte_free(q->gso);
	q->gso = NULL;
}

/* Whether lib/vhu cannot take m as it is but rte_gso can cut it: a
 * TCP/IPv4 TSO mbuf with more than one segment of payload, for a guest
 * without GUEST_TSO4. */
static inline bool
vhu_gso_needed(const struct rte_mbuf *m, uint64_t features)
{
	if (likely(!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)))
		return false;
	if (!(m->ol_flags & RTE_MBUF_F_TX_IPV4) ||
	    (features & (1ULL << VIRTIO_NET_F_GUEST_TSO4)))
		return false;
	return m->tso_segsz != 0 &&
		m->pkt_len > (uint32_t)m->l2_len + m->l3_len + m->l4_len +
			     m->tso_segsz;
}

/*
 * Segment one TSO mbuf and enqueue its segments. The mbuf is consumed
 * (freed): segments the ring had no room for, and a packet rte_gso
 * refuses, are counted as gso_drops. Returns false, the packet left to
 * the caller as a full ring leaves it, when there were no mbufs to cut it
 * with, or when it needed no cutting and the ring was full.
 */
static bool
vhu_gso_send(struct vhu_ethdev_txq *q, struct rte_mbuf *m)
{
	struct rte_gso_ctx ctx = *q->gso;
	struct rte_mbuf *segs[VHU_GSO_MAX_SEGS];
	uint32_t hdr = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint16_t sent, i;
	int n;

	if (hdr + m->tso_segsz > UINT16_MAX) {
		q->gso_drops++;
		rte_pktmbuf_free(m);
		return true;
	}
	ctx.gso_size = (uint16_t)(hdr + m->tso_segsz);
	n = rte_gso_segment(m, &ctx, segs, RTE_DIM(segs));
	if (n == -ENOMEM)
		return false;
	if (n == 0) {
		/* rte_gso found nothing to cut: lib/vhu sends it as it is. */
		if (vhu_enqueue_burst(q->vdev, q->qp, &m, 1) == 0)
			return false;   /* ring full: the caller's again */
		rte_pktmbuf_free(m);
		return true;
	}
	if (n < 0) {
		/* Invalid for rte_gso (an MSS too small for it, say). */
		q->gso_drops++;
		rte_pktmbuf_free(m);
		return true;
	}
	sent = vhu_enqueue_burst(q->vdev, q->qp, segs, (uint16_t)n);
	q->gso_packets++;
	q->gso_segments += (uint64_t)n;
	q->gso_drops += (uint64_t)(n - sent);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(segs[i]);
	/* The segments held references to m's data; m itself is ours. */
	rte_pktmbuf_free(m);
	return true;
}

uint16_t
vhu_ethdev_tx_burst_gso(struct vhu_ethdev_txq *q, struct rte_mbuf **pkts,
		uint16_t nb_pkts)
{
	uint64_t features = vhu_device_features(q->vdev);
	uint16_t done = 0;

	while (done < nb_pkts) {
		uint16_t run = 0, n;

		/* The packets up to the next one to segment go as they are. */
		while (done + run < nb_pkts &&
		       !vhu_gso_needed(pkts[done + run], features))
			run++;
		if (run > 0) {
			n = vhu_enqueue_burst(q->vdev, q->qp, pkts + done, run);
			if (n > 0)
				rte_pktmbuf_free_bulk(pkts + done, n);
			done += n;
			if (n < run)
				return done;    /* ring full: the rest are the caller's */
			continue;
		}
		if (!vhu_gso_send(q, pkts[done]))
			return done;
		done++;
	}
	return done;
}

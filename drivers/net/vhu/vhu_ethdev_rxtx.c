/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu bursts: straight into lib/vhu, no copy beyond the lib's own
 * (guest memory ↔ mbuf), no lock, no atomic. Why no "queuing allowed"
 * flag is needed: vhu_ethdev.h.
 */
#include <rte_mbuf.h>

#include "vhu_ethdev.h"

/* RX: packets the guest sent on its TX ring of this queue pair. */
uint16_t
vhu_ethdev_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	const struct vhu_ethdev_rxq *q = rxq;
	uint16_t n, i;

	/* A port without a front-end (or with stopped rings) costs one
	 * load, not a call into lib/vhu. */
	if (!vhu_dequeue_ring_live(q->vdev, q->qp))
		return 0;
	n = vhu_dequeue_burst(q->vdev, q->qp, q->mp, pkts, nb_pkts);
	for (i = 0; i < n; i++) {
		pkts[i]->port = q->port_id;
		/* Only packets whose guest left the checksum partial (from
		 * Linux guests, most TCP and UDP). */
		if (q->sw_cksum &&
		    (pkts[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_NONE)
			vhu_mbuf_complete_rx_cksum(pkts[i]);
	}
	return n;
}

/*
 * TX: into the guest's RX ring. lib/vhu returns how many of the first
 * packets it handled (copied into the guest, or dropped and counted as
 * too big); it never frees or keeps an mbuf. Those are ours to free, and
 * the rest stay the application's (ring full), as ethdev's tx_burst says.
 */
uint16_t
vhu_ethdev_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct vhu_ethdev_txq *q = txq;
	uint16_t n;

	/* Only queues of a port with TX TSO enabled: software GSO for
	 * guests without GUEST_TSO4. */
	if (unlikely(q->gso != NULL))
		return vhu_ethdev_tx_burst_gso(q, pkts, nb_pkts);
	n = vhu_enqueue_burst(q->vdev, q->qp, pkts, nb_pkts);
	if (n > 0)
		rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

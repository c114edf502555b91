/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * macswap: send every frame back out of the port it came in on, with its
 * source and destination MAC addresses swapped. Frames too short for an
 * Ethernet header are dropped (drop_invalid).
 */
#include <rte_ethdev.h>
#include <rte_ether.h>

#include "fwd.h"

void
fwd_macswap_burst(struct fwd_worker *w, struct fwd_task *t)
{
	struct fwd_ctx *ctx = w->ctx;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n, i, k = 0;

	n = rte_eth_rx_burst(ctx->ports[t->port].id, t->queue, pkts,
			     ctx->cfg.burst);
	if (n == 0)
		return;
	fwd_count_rx(w, t->port, pkts, n);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eth;
		struct rte_ether_addr tmp;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (m->data_len < sizeof(*eth)) {
			rte_pktmbuf_free(m);
			fwd_ctr_add(&w->ctr[t->port].drop_invalid, 1);
			continue;
		}
		eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&eth->src_addr, &tmp);
		rte_ether_addr_copy(&eth->dst_addr, &eth->src_addr);
		rte_ether_addr_copy(&tmp, &eth->dst_addr);
		pkts[k++] = m;
	}
	fwd_tx(w, t->tx_port, t->txq, pkts, k);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rxonly: count and free what arrives (a sink for benchmarks).
 */
#include <rte_ethdev.h>

#include "fwd.h"

void
fwd_rxonly_burst(struct fwd_worker *w, struct fwd_task *t)
{
	struct fwd_ctx *ctx = w->ctx;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n;

	n = rte_eth_rx_burst(ctx->ports[t->port].id, t->queue, pkts,
			     ctx->cfg.burst);
	if (n == 0)
		return;
	fwd_count_rx(w, t->port, pkts, n);
	rte_pktmbuf_free_bulk(pkts, n);
}

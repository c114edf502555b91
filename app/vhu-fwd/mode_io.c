/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io: every frame received on port p goes out unchanged on its pair
 * (0<->1, 2<->3, ...), same queue number (lcores.c).
 */
#include <rte_ethdev.h>

#include "fwd.h"

void
fwd_io_burst(struct fwd_worker *w, struct fwd_task *t)
{
	struct fwd_ctx *ctx = w->ctx;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n;

	n = rte_eth_rx_burst(ctx->ports[t->port].id, t->queue, pkts,
			     ctx->cfg.burst);
	if (n == 0)
		return;
	fwd_count_rx(w, t->port, pkts, n);
	fwd_tx(w, t->tx_port, t->txq, pkts, n);
}

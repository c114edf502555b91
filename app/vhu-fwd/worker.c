/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop and the transmit every mode uses.
 *
 * A worker polls its tasks round-robin, one burst each, forever: no
 * sleep, no lock, no system call. It skips the tasks of a port main has
 * paused, and reports an RCU quiescent state once per round (fwd_ctx.qsv:
 * main waits for one before it touches a paused port's RX queues or
 * reuses a MAC table slot). It stops when main clears fwd_ctx.running,
 * which main then waits for with rte_eal_mp_wait_lcore().
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "fwd.h"
#include "fwd_mac.h"

static const fwd_burst_fn fwd_burst_fns[FWD_MODE_COUNT] = {
	[FWD_MODE_IO] = fwd_io_burst,
	[FWD_MODE_L2] = fwd_l2_burst,
	[FWD_MODE_MACSWAP] = fwd_macswap_burst,
	[FWD_MODE_RXONLY] = fwd_rxonly_burst,
	[FWD_MODE_TXONLY] = fwd_txonly_burst,
};

int
fwd_worker_main(void *arg)
{
	struct fwd_worker *w = arg;
	struct fwd_ctx *ctx = w->ctx;
	const fwd_burst_fn burst = fwd_burst_fns[ctx->cfg.mode];
	unsigned int i;

	rte_rcu_qsbr_thread_online(ctx->qsv, w->index);
	while (__atomic_load_n(&ctx->running, __ATOMIC_RELAXED)) {
		for (i = 0; i < w->nb_tasks; i++) {
			struct fwd_task *t = &w->tasks[i];

			/* Main pauses, then waits for our next quiescent
			 * state: its token load orders main's store before
			 * the rounds that follow. */
			if (likely(!__atomic_load_n(&ctx->ports[t->port].paused,
						    __ATOMIC_ACQUIRE)))
				burst(w, t);
		}
		rte_rcu_qsbr_quiescent(ctx->qsv, w->index);
	}
	rte_rcu_qsbr_thread_offline(ctx->qsv, w->index);
	return 0;
}

uint64_t
fwd_count_rx(struct fwd_worker *w, uint16_t port, struct rte_mbuf **pkts,
		uint16_t n)
{
	struct fwd_counters *c = &w->ctr[port];
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	fwd_ctr_add(&c->rx_packets, n);
	fwd_ctr_add(&c->rx_bytes, bytes);
	return bytes;
}

void
fwd_tx(struct fwd_worker *w, uint16_t port, uint16_t txq,
		struct rte_mbuf **pkts, uint16_t n)
{
	struct fwd_ctx *ctx = w->ctx;
	struct fwd_counters *c = &w->ctr[port];
	uint16_t id = ctx->ports[port].id, sent, i;
	uint32_t retry = 0;
	uint64_t bytes = 0;

	if (n == 0)
		return;
	if (!fwd_port_up(ctx, port)) {
		/* Nobody there (a VM away): no retries, no queueing. */
		rte_pktmbuf_free_bulk(pkts, n);
		fwd_ctr_add(&c->drop_down, n);
		return;
	}
	/* Lengths first: the PMD may free what it sends. */
	for (i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(id, txq, pkts, n);
	while (sent < n && retry < ctx->cfg.tx_retries) {
		rte_pause();
		sent += rte_eth_tx_burst(id, txq, pkts + sent, n - sent);
		retry++;
	}
	if (sent < n) {
		for (i = sent; i < n; i++)
			bytes -= pkts[i]->pkt_len;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		fwd_ctr_add(&c->drop_full, n - sent);
	}
	fwd_ctr_add(&c->tx_packets, sent);
	fwd_ctr_add(&c->tx_bytes, bytes);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which worker lcore polls which (port, queue), and which TX queue each
 * worker writes, so that every RX queue has one poller and every TX queue
 * one writer, with no lock:
 *  - io:      RX (p, q) → TX (p ^ 1, q): the poller of (p, q) owns
 *             TX queue q of p's peer.
 *  - macswap: RX (p, q) → TX (p, q).
 *  - txonly:  generates on TX (p, q) (and drains RX (p, q)).
 *  - rxonly:  no TX.
 *  - l2:      a frame may go to any port, so worker number k (0-based)
 *             transmits on TX queue k of every port: at most --queues
 *             workers. The automatic assignment uses the first --queues
 *             worker lcores; an explicit map with more is refused.
 * Automatic assignment: queue by queue, port by port, round-robin over
 * the worker lcores (EAL's, in order, the main lcore excluded).
 */
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "fwd.h"

int
fwd_lcores_check(const struct fwd_ctx *ctx, unsigned int nb_ports)
{
	const struct fwd_config *cfg = &ctx->cfg;
	bool used[RTE_MAX_LCORE] = { false };
	unsigned int i, p, q, distinct = 0;

	if (rte_lcore_count() < 2) {
		fprintf(stderr, "vhu-fwd: no worker lcore: give EAL -l with at "
			"least two lcores (the main lcore does not forward)\n");
		return -1;
	}
	if (cfg->nb_map == 0)
		return 0;
	for (i = 0; i < cfg->nb_map; i++) {
		const struct fwd_map_item *it = &cfg->map[i];

		if (it->port >= nb_ports) {
			fprintf(stderr, "vhu-fwd: --lcore-map %u:%u@%u: there "
				"is no port %u (%u ports)\n", it->port,
				it->queue, it->lcore, it->port, nb_ports);
			return -1;
		}
		if (it->queue >= cfg->queues) {
			fprintf(stderr, "vhu-fwd: --lcore-map %u:%u@%u: there "
				"is no queue %u (--queues %u)\n", it->port,
				it->queue, it->lcore, it->queue, cfg->queues);
			return -1;
		}
		if (!rte_lcore_is_enabled(it->lcore)) {
			fprintf(stderr, "vhu-fwd: --lcore-map %u:%u@%u: lcore "
				"%u is not one of EAL's (-l)\n", it->port,
				it->queue, it->lcore, it->lcore);
			return -1;
		}
		if (it->lcore == rte_get_main_lcore()) {
			fprintf(stderr, "vhu-fwd: --lcore-map %u:%u@%u: lcore "
				"%u is the main lcore, which does not forward\n",
				it->port, it->queue, it->lcore, it->lcore);
			return -1;
		}
		if (!used[it->lcore])
			distinct++;
		used[it->lcore] = true;
	}
	for (p = 0; p < nb_ports; p++)
		for (q = 0; q < cfg->queues; q++) {
			for (i = 0; i < cfg->nb_map; i++)
				if (cfg->map[i].port == p &&
				    cfg->map[i].queue == q)
					break;
			if (i == cfg->nb_map) {
				fprintf(stderr, "vhu-fwd: --lcore-map: port %u "
					"queue %u has no lcore (every (port, "
					"queue) must be mapped)\n", p, q);
				return -1;
			}
		}
	if (cfg->mode == FWD_MODE_L2 && distinct > cfg->queues) {
		fprintf(stderr, "vhu-fwd: --lcore-map: %u lcores, but in l2 "
			"mode each worker needs its own TX queue on every port "
			"and ports have %u (--queues)\n", distinct, cfg->queues);
		return -1;
	}
	return 0;
}

/* The worker of lcore, created on first use. */
static struct fwd_worker *
worker_of(struct fwd_ctx *ctx, struct fwd_worker **by_lcore,
		unsigned int lcore)
{
	struct fwd_worker *w = by_lcore[lcore];
	int socket = (int)rte_lcore_to_socket_id(lcore);

	if (w != NULL)
		return w;
	w = fwd_zmalloc_near("vhu_fwd_worker", sizeof(*w), socket);
	if (w == NULL)
		return NULL;
	w->tasks = fwd_zmalloc_near("vhu_fwd_tasks", sizeof(*w->tasks) *
				    ctx->nb_ports * ctx->cfg.queues, socket);
	if (w->tasks == NULL) {
		rte_free(w);
		return NULL;
	}
	w->ctx = ctx;
	w->lcore = lcore;
	by_lcore[lcore] = w;
	return w;
}

static int
task_init(struct fwd_ctx *ctx, struct fwd_worker *w, uint16_t port,
		uint16_t queue)
{
	struct fwd_task *t = &w->tasks[w->nb_tasks];

	t->port = port;
	t->queue = queue;
	t->txq = queue;
	switch (ctx->cfg.mode) {
	case FWD_MODE_IO:
		t->tx_port = port ^ 1;
		break;
	case FWD_MODE_TXONLY:
		t->gen = fwd_txgen_create(ctx, port, queue,
				(int)rte_lcore_to_socket_id(w->lcore));
		if (t->gen == NULL)
			return -1;
		/* fall through */
	default:
		t->tx_port = port;
		break;
	}
	w->nb_tasks++;
	return 0;
}

int
fwd_lcores_assign(struct fwd_ctx *ctx)
{
	const struct fwd_config *cfg = &ctx->cfg;
	struct fwd_worker *by_lcore[RTE_MAX_LCORE] = { NULL };
	unsigned int lcores[RTE_MAX_LCORE], nb_lcores = 0, limit, k, i;
	unsigned int lcore;
	uint16_t p, q;

	RTE_LCORE_FOREACH_WORKER(lcore)
		lcores[nb_lcores++] = lcore;
	limit = nb_lcores;
	if (cfg->mode == FWD_MODE_L2 && limit > cfg->queues)
		limit = cfg->queues;

	k = 0;
	for (q = 0; q < cfg->queues; q++)
		for (p = 0; p < ctx->nb_ports; p++) {
			struct fwd_worker *w;

			if (cfg->nb_map == 0) {
				lcore = lcores[k++ % limit];
			} else {
				for (i = 0; i < cfg->nb_map; i++)
					if (cfg->map[i].port == p &&
					    cfg->map[i].queue == q)
						break;
				lcore = cfg->map[i].lcore;
			}
			w = worker_of(ctx, by_lcore, lcore);
			if (w == NULL || task_init(ctx, w, p, q) != 0)
				goto fail;
		}

	/* Workers in lcore order; index = RCU thread id and l2 TX queue. */
	ctx->nb_workers = 0;
	for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++) {
		struct fwd_worker *w = by_lcore[lcore];

		if (w == NULL)
			continue;
		w->index = ctx->nb_workers;
		w->l2_txq = (uint16_t)w->index;
		ctx->workers[ctx->nb_workers++] = w;
		if (cfg->mode == FWD_MODE_L2) {
			w->txbufs = fwd_zmalloc_near("vhu_fwd_txbufs",
					sizeof(*w->txbufs) * ctx->nb_ports,
					(int)rte_lcore_to_socket_id(lcore));
			if (w->txbufs == NULL)
				goto fail;
		}
	}
	/* Every worker reports a quiescent state once per round: main waits
	 * for one to reuse a MAC table slot or to set a port's RX queues up
	 * again (pools.c). */
	ctx->qsv = rte_zmalloc("vhu_fwd_rcu",
			       rte_rcu_qsbr_get_memsize(ctx->nb_workers),
			       RTE_CACHE_LINE_SIZE);
	if (ctx->qsv == NULL ||
	    rte_rcu_qsbr_init(ctx->qsv, ctx->nb_workers) != 0)
		goto fail;
	for (i = 0; i < ctx->nb_workers; i++)
		if (rte_rcu_qsbr_thread_register(ctx->qsv, i) != 0)
			goto fail;
	return 0;
fail:
	fprintf(stderr, "vhu-fwd: out of memory for the workers\n");
	/* List every worker made so far, so that one function frees. */
	ctx->nb_workers = 0;
	for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
		if (by_lcore[lcore] != NULL)
			ctx->workers[ctx->nb_workers++] = by_lcore[lcore];
	fwd_lcores_free(ctx);
	return -1;
}

void
fwd_lcores_free(struct fwd_ctx *ctx)
{
	unsigned int i, k;

	for (i = 0; i < ctx->nb_workers; i++) {
		struct fwd_worker *w = ctx->workers[i];

		for (k = 0; k < w->nb_tasks; k++)
			fwd_txgen_free(w->tasks[k].gen);
		rte_free(w->tasks);
		rte_free(w->txbufs);
		rte_free(w);
		ctx->workers[i] = NULL;
	}
	ctx->nb_workers = 0;
	rte_free(ctx->qsv);
	ctx->qsv = NULL;
}

void
fwd_lcores_print(const struct fwd_ctx *ctx)
{
	unsigned int i, k;

	for (i = 0; i < ctx->nb_workers; i++) {
		const struct fwd_worker *w = ctx->workers[i];

		printf("  lcore %u polls", w->lcore);
		for (k = 0; k < w->nb_tasks; k++) {
			const struct fwd_task *t = &w->tasks[k];

			printf("%s port %u queue %u", k > 0 ? "," : "",
			       t->port, t->queue);
			if (ctx->cfg.mode == FWD_MODE_IO)
				printf(" -> port %u", t->tx_port);
		}
		if (ctx->cfg.mode == FWD_MODE_L2)
			printf("; sends on TX queue %u of every port",
			       w->l2_txq);
		printf("\n");
	}
}

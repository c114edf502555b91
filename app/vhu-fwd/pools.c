/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mbuf pools, one per NUMA node in use, and a port's RX queues following
 * its node.
 *
 * A port's RX queues take their mbufs from the pool of the port's node
 * (rte_eth_dev_socket_id()). A net_vhu port's node becomes its guest
 * memory's when the front-end's rings start, and net_vhu raises a link
 * event after it changed: main then sets the port's RX queues up again
 * with that node's pool, made on first use (fwd_port_follow_node()), as
 * OVS re-places a vhost port on new_device. That needs the port to allow
 * an RX queue set-up while it runs (RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP:
 * net_vhu does). Meanwhile the workers skip the port: main sets
 * fwd_port.paused and waits for every worker's next RCU quiescent state
 * (fwd_ctx.qsv) before it stops a queue, so no burst is inside it.
 *
 * mbufs already handed out keep their own pool (m->pool) and go back to
 * it; no pool is freed before shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "fwd.h"

static uint32_t
default_mbufs(const struct fwd_ctx *ctx)
{
	uint64_t n = 2048;
	uint16_t pid;

	/* Descriptor rings of real devices hold mbufs; net_vhu's hold none
	 * (the rings are the guest's). */
	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(pid, &info) == 0 &&
		    info.driver_name != NULL &&
		    strcmp(info.driver_name, "net_vhu") == 0)
			continue;
		n += (uint64_t)ctx->cfg.queues * 2 * 1024;
	}
	/* Per lcore: its mempool cache and what a burst can hold. */
	n += (uint64_t)rte_lcore_count() *
		(256 + (uint64_t)ctx->cfg.burst * (ctx->nb_ports + 2));
	return (uint32_t)RTE_MAX(n, 4096u);
}

static struct rte_mempool *
pool_make(struct fwd_ctx *ctx, int node)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	/* The first pool keeps its old name (scripts look for it). */
	if (ctx->pool == NULL)
		snprintf(name, sizeof(name), "vhu_fwd_mbufs");
	else
		snprintf(name, sizeof(name), "vhu_fwd_mbufs_n%d", node);
	return rte_pktmbuf_pool_create(name, ctx->pool_size, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, node);
}

int
fwd_pools_create(struct fwd_ctx *ctx)
{
	int node = (int)rte_socket_id();

	ctx->pool_size = ctx->cfg.mbufs != 0 ? ctx->cfg.mbufs :
		default_mbufs(ctx);
	ctx->pool = pool_make(ctx, node);
	if (ctx->pool == NULL) {
		fprintf(stderr, "vhu-fwd: cannot create a pool of %u mbufs: "
			"%s (give EAL -m more memory, or --mbufs fewer)\n",
			ctx->pool_size, rte_strerror(rte_errno));
		return -1;
	}
	ctx->pools[node] = ctx->pool;
	return 0;
}

struct rte_mempool *
fwd_pool_of_node(struct fwd_ctx *ctx, int node)
{
	struct rte_mempool *mp;

	if (node < 0 || node >= RTE_MAX_NUMA_NODES)
		return ctx->pool;
	if (ctx->pools[node] != NULL || ctx->nopool[node])
		return ctx->pools[node];
	mp = pool_make(ctx, node);
	if (mp == NULL) {
		ctx->nopool[node] = true;
		fwd_say(ctx, "no pool of %u mbufs on NUMA node %d: %s (give "
			"EAL memory there: --socket-mem)\n", ctx->pool_size,
			node, rte_strerror(rte_errno));
		return NULL;
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->pools[node] = mp;
	pthread_mutex_unlock(&ctx->lock);
	fwd_say(ctx, "pool of %u mbufs on NUMA node %d\n", ctx->pool_size,
		node);
	return mp;
}

/* Set port p's RX queues up with mp. Workers are off the port. A queue
 * ethdev released in a failed set-up has nothing to stop. */
static int
rxqs_setup(struct fwd_port *p, struct rte_mempool *mp, int node)
{
	struct rte_eth_rxq_info qi;
	uint16_t q;
	int ret;

	for (q = 0; q < p->nb_rxq; q++) {
		ret = 0;
		if (rte_eth_rx_queue_info_get(p->id, q, &qi) != -EINVAL)
			ret = rte_eth_dev_rx_queue_stop(p->id, q);
		if (ret == 0)
			ret = rte_eth_rx_queue_setup(p->id, q, p->nb_rxd,
						     (unsigned int)node, NULL,
						     mp);
		if (ret == 0)
			ret = rte_eth_dev_rx_queue_start(p->id, q);
		if (ret != 0)
			return ret;
	}
	return 0;
}

void
fwd_port_follow_node(struct fwd_ctx *ctx, uint16_t i)
{
	struct fwd_port *p = &ctx->ports[i];
	struct rte_eth_dev_info info;
	struct rte_mempool *mp, *old;
	int node = rte_eth_dev_socket_id(p->id), ret;

	if (!p->started || node < 0)
		return;
	if (!p->rx_broken) {
		if (node == p->rx_node) {
			p->node_reported = -1; /* a move there is tried again */
			return;
		}
		if (node == p->node_reported)
			return; /* said why it stays */
		if (rte_eth_dev_info_get(p->id, &info) != 0 ||
		    !(info.dev_capa & RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP)) {
			p->node_reported = node;
			fwd_say(ctx, "port %u (%s): now on NUMA node %d; its "
				"RX queues stay with node %d's mbufs (the port "
				"cannot set up queues while it runs)\n", i,
				p->label, node, p->rx_node);
			return;
		}
	}
	old = fwd_pool_of_node(ctx, p->rx_node);
	mp = fwd_pool_of_node(ctx, node);
	if (mp == NULL) {
		if (!p->rx_broken) {
			p->node_reported = node;
			fwd_say(ctx, "port %u (%s): now on NUMA node %d; its "
				"RX queues stay with node %d's mbufs\n", i,
				p->label, node, p->rx_node);
			return;
		}
		/* Queues to poll first; the node at a later move. */
		mp = old;
		node = p->rx_node;
	}
	if (!p->rx_broken) {
		__atomic_store_n(&p->paused, 1, __ATOMIC_RELAXED);
		/* Blocks for one round of every worker: they never block. */
		rte_rcu_qsbr_synchronize(ctx->qsv, RTE_QSBR_THRID_INVALID);
	}
	ret = rxqs_setup(p, mp, node);
	if (ret != 0 && !p->rx_broken && node != p->rx_node &&
	    rxqs_setup(p, old, p->rx_node) == 0) {
		__atomic_store_n(&p->paused, 0, __ATOMIC_RELEASE);
		p->node_reported = node;
		fwd_say(ctx, "port %u (%s): RX queues for NUMA node %d: %s; "
			"they stay with node %d's mbufs\n", i, p->label, node,
			rte_strerror(-ret), p->rx_node);
		return;
	}
	if (ret != 0) {
		/* No queue to poll: the port stays paused, and every look
		 * at its link (100 ms) tries again. */
		if (!p->rx_broken)
			fwd_say(ctx, "port %u (%s): RX queues for NUMA node "
				"%d: %s; the port is not polled until they "
				"can be set up\n", i, p->label, node,
				rte_strerror(-ret));
		p->rx_broken = true;
		return;
	}
	/* Release: the queues set up above before the workers' polls. */
	__atomic_store_n(&p->paused, 0, __ATOMIC_RELEASE);
	if (p->rx_broken)
		fwd_say(ctx, "port %u (%s): RX queues set up on NUMA node %d; "
			"polled again\n", i, p->label, node);
	else
		fwd_say(ctx, "port %u (%s): RX queues moved to NUMA node %d's "
			"mbufs (were node %d's)\n", i, p->label, node,
			p->rx_node);
	p->rx_broken = false;
	__atomic_store_n(&p->rx_node, node, __ATOMIC_RELAXED);
	p->node_reported = -1;
}

uint64_t
fwd_pools_mbufs(const struct fwd_ctx *ctx, bool in_use)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		const struct rte_mempool *mp = ctx->pools[i];

		if (mp == NULL)
			continue;
		n += rte_mempool_in_use_count(mp);
		if (!in_use)
			n += rte_mempool_avail_count(mp);
	}
	return n;
}

void
fwd_pools_free(struct fwd_ctx *ctx)
{
	int i;

	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		rte_mempool_free(ctx->pools[i]);
		ctx->pools[i] = NULL;
		ctx->nopool[i] = false;
	}
	ctx->pool = NULL;
}

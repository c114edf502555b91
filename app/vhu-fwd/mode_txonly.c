/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * txonly: a traffic source for benchmarks. Every (port, queue) sends
 * Ethernet/IPv4/UDP frames:
 *  - source MAC: the port's; destination: --txonly-dst;
 *  - sizes: --txonly-size, in turn (frame bytes without FCS, one mbuf);
 *  - flows: --txonly-flows N, in turn: flow f has source address
 *    198.18.0.0 + f and UDP source port 1024 + f, to 198.19.0.1 port 1024
 *    (RFC 2544's benchmark range);
 *  - rate: --txonly-rate packets per second per port, shared by its
 *    queues (a token bucket on the timer), or as fast as the port takes;
 *  - count: --txonly-count frames per port (shared by its queues), then
 *    nothing more; frames are counted when made, whether the port then
 *    takes them (tx_packets) or not (drop_full).
 * The payload is zeros. What arrives on the queue is counted and freed.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "fwd.h"

#define HDR_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + \
		 sizeof(struct rte_udp_hdr))
/* (RTE_IPV4() shifts an int into its sign bit: undefined behaviour.) */
#define SRC_IP (UINT32_C(198) << 24 | UINT32_C(18) << 16)
#define DST_IP (UINT32_C(198) << 24 | UINT32_C(19) << 16 | UINT32_C(1))
#define UDP_PORT 1024

struct fwd_txgen {
	struct rte_mempool *pool;
	uint8_t tmpl[HDR_LEN];
	uint16_t sizes[FWD_MAX_SIZES];
	unsigned int nb_sizes;
	unsigned int next_size;
	uint32_t flows;
	uint32_t next_flow;
	uint16_t ip_id;
	/* Token bucket, in packets × timer cycles; rate 0: no limit. */
	uint64_t rate;           /* packets per second for this queue */
	uint64_t hz;
	uint64_t tokens;
	uint64_t tokens_max;
	uint64_t last_tsc;
	uint64_t left;           /* frames still to make (--txonly-count) */
};

struct fwd_txgen *
fwd_txgen_create(const struct fwd_ctx *ctx, uint16_t port, uint16_t queue,
		int socket)
{
	const struct fwd_config *cfg = &ctx->cfg;
	struct fwd_txgen *g;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	g = fwd_zmalloc_near("vhu_fwd_txgen", sizeof(*g), socket);
	if (g == NULL)
		return NULL;
	g->pool = ctx->pool;
	memcpy(g->sizes, cfg->txonly_sizes, sizeof(g->sizes));
	g->nb_sizes = cfg->nb_txonly_sizes;
	g->flows = cfg->txonly_flows;
	g->hz = ctx->hz;
	/* The port's rate split over its queues; queue 0 takes the rest. */
	if (cfg->txonly_rate != 0) {
		g->rate = cfg->txonly_rate / cfg->queues +
			(queue == 0 ? cfg->txonly_rate % cfg->queues : 0);
		/* At most one burst may build up while a queue waits. */
		g->tokens_max = (uint64_t)cfg->burst * g->hz;
		g->last_tsc = 0;
	}

	g->left = UINT64_MAX;
	if (cfg->txonly_count != 0)
		g->left = cfg->txonly_count / cfg->queues +
			(queue == 0 ? cfg->txonly_count % cfg->queues : 0);

	eth = (struct rte_ether_hdr *)g->tmpl;
	rte_ether_addr_copy(&ctx->ports[port].mac, &eth->src_addr);
	rte_ether_addr_copy(&cfg->txonly_dst, &eth->dst_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->dst_addr = rte_cpu_to_be_32(DST_IP);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->dst_port = rte_cpu_to_be_16(UDP_PORT);
	return g;
}

void
fwd_txgen_free(struct fwd_txgen *gen)
{
	rte_free(gen);
}

/* How many frames the bucket allows now (at most max). */
static uint16_t
txgen_allowance(struct fwd_txgen *g, uint16_t max)
{
	uint64_t now, elapsed, n;

	if (g->rate == 0)
		return max;
	now = rte_get_timer_cycles();
	if (g->last_tsc == 0)
		g->last_tsc = now;
	elapsed = now - g->last_tsc;
	if (elapsed > g->hz)
		elapsed = g->hz; /* no overflow, and no burst after a pause */
	g->last_tsc = now;
	g->tokens += elapsed * g->rate;
	if (g->tokens > g->tokens_max)
		g->tokens = g->tokens_max;
	n = g->tokens / g->hz;
	if (n > max)
		n = max;
	g->tokens -= n * g->hz;
	return (uint16_t)n;
}

static void
txgen_fill(struct fwd_txgen *g, struct rte_mbuf *m)
{
	uint16_t size = g->sizes[g->next_size];
	uint32_t flow = g->next_flow;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	if (++g->next_size == g->nb_sizes)
		g->next_size = 0;
	if (++g->next_flow == g->flows)
		g->next_flow = 0;
	memcpy(p, g->tmpl, HDR_LEN);
	memset(p + HDR_LEN, 0, size - HDR_LEN);
	ip = (struct rte_ipv4_hdr *)(p + sizeof(struct rte_ether_hdr));
	ip->total_length = rte_cpu_to_be_16((uint16_t)(size -
				sizeof(struct rte_ether_hdr)));
	ip->packet_id = rte_cpu_to_be_16(g->ip_id++);
	ip->src_addr = rte_cpu_to_be_32(SRC_IP + flow);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(UDP_PORT + flow));
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(size -
				sizeof(struct rte_ether_hdr) -
				sizeof(struct rte_ipv4_hdr)));
	udp->dgram_cksum = 0; /* none: valid for UDP over IPv4 */
	m->data_len = size;
	m->pkt_len = size;
}

void
fwd_txonly_burst(struct fwd_worker *w, struct fwd_task *t)
{
	struct fwd_ctx *ctx = w->ctx;
	struct fwd_txgen *g = t->gen;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n, i;

	/* Whatever comes in: counted, freed (the peer's rings stay free). */
	n = rte_eth_rx_burst(ctx->ports[t->port].id, t->queue, pkts,
			     ctx->cfg.burst);
	if (n > 0) {
		fwd_count_rx(w, t->port, pkts, n);
		rte_pktmbuf_free_bulk(pkts, n);
	}
	if (!fwd_port_up(ctx, t->port) || g->left == 0)
		return; /* nobody to send to (not even a drop), or done */
	n = txgen_allowance(g, ctx->cfg.burst);
	if (n > g->left)
		n = (uint16_t)g->left;
	if (n == 0)
		return;
	if (rte_pktmbuf_alloc_bulk(g->pool, pkts, n) != 0) {
		fwd_ctr_add(&w->ctr[t->port].drop_nombuf, n);
		return;
	}
	for (i = 0; i < n; i++)
		txgen_fill(g, pkts[i]);
	g->left -= n;
	fwd_tx(w, t->port, t->txq, pkts, n);
}

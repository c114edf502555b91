/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l2: a MAC-learning switch.
 *  - Learning: the source MAC of every frame (unless multicast) is known
 *    behind its ingress port, with aging (fwd_mac.h: requests to main).
 *  - Known unicast goes to its port only; if that port is the ingress
 *    port, the frame is dropped (counted as filtered): never back out.
 *  - Unknown unicast, broadcast and multicast are flooded to every other
 *    port whose link is up.
 *
 * Flooding to k ports sends the received mbuf to the last of them and a
 * full copy (rte_pktmbuf_copy) to each other one. Not a reference count
 * (rte_pktmbuf_refcnt_update) nor an indirect clone (rte_pktmbuf_clone):
 * both share the data, which is safe only if no PMD on the way writes it,
 * and some do (net_ring hands the very mbuf to another application; PMDs
 * insert VLAN tags or complete checksums in place). A copy is correct for
 * every PMD, and flooding is the exception path of a learned switch.
 *
 * Per RX burst, frames are gathered per destination port and sent with
 * one fwd_tx() each, on this worker's own TX queue (lcores.c).
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>

#include "fwd.h"
#include "fwd_mac.h"

#define L2_CHUNK RTE_HASH_LOOKUP_BULK_MAX

static inline void
l2_queue(struct fwd_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct fwd_txbuf *b = &w->txbufs[port];

	b->pkts[b->n++] = m;
}

static void
l2_flood(struct fwd_worker *w, uint16_t in, struct rte_mbuf *m)
{
	struct fwd_ctx *ctx = w->ctx;
	uint16_t p, last = UINT16_MAX;

	fwd_ctr_add(&w->ctr[in].flooded, 1);
	for (p = 0; p < ctx->nb_ports; p++) {
		struct rte_mbuf *c;

		if (p == in || !fwd_port_up(ctx, p))
			continue;
		if (last != UINT16_MAX) {
			c = rte_pktmbuf_copy(m, ctx->pool, 0, UINT32_MAX);
			if (c == NULL)
				fwd_ctr_add(&w->ctr[last].drop_nombuf, 1);
			else
				l2_queue(w, last, c);
		}
		last = p;
	}
	if (last == UINT16_MAX)
		rte_pktmbuf_free(m); /* no other port is up */
	else
		l2_queue(w, last, m);
}

/* Up to L2_CHUNK frames with at least an Ethernet header. */
static void
l2_chunk(struct fwd_worker *w, uint16_t in, struct rte_mbuf **pkts,
		unsigned int n, uint64_t now)
{
	struct fwd_mac_table *mt = w->ctx->mac;
	uint64_t skey[L2_CHUNK], dkey[L2_CHUNK];
	const void *sptr[L2_CHUNK], *dptr[L2_CHUNK];
	void *sdata[L2_CHUNK], *ddata[L2_CHUNK];
	uint64_t shit = 0, dhit = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);

		skey[i] = fwd_mac_key(&eth->src_addr);
		dkey[i] = fwd_mac_key(&eth->dst_addr);
		sptr[i] = &skey[i];
		dptr[i] = &dkey[i];
	}
	rte_hash_lookup_bulk_data(mt->hash, sptr, n, &shit, sdata);
	rte_hash_lookup_bulk_data(mt->hash, dptr, n, &dhit, ddata);

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		/* Learn (or refresh) where the source is. */
		if (!rte_is_multicast_ether_addr(&eth->src_addr)) {
			struct fwd_mac_entry *e = sdata[i];

			if ((shit >> i & 1) != 0 &&
			    __atomic_load_n(&e->port, __ATOMIC_RELAXED) == in) {
				uint64_t seen = __atomic_load_n(&e->last_seen,
						__ATOMIC_RELAXED);

				if (now - seen > mt->refresh_cycles)
					__atomic_store_n(&e->last_seen, now,
							 __ATOMIC_RELAXED);
			} else {
				fwd_mac_learn_request(w, skey[i], in, now);
			}
		}
		/* Forward. */
		if (rte_is_multicast_ether_addr(&eth->dst_addr) ||
		    (dhit >> i & 1) == 0) {
			l2_flood(w, in, m);
		} else {
			const struct fwd_mac_entry *e = ddata[i];
			uint16_t out = __atomic_load_n(&e->port,
						       __ATOMIC_RELAXED);

			if (out == in) {
				fwd_ctr_add(&w->ctr[in].filtered, 1);
				rte_pktmbuf_free(m);
			} else {
				l2_queue(w, out, m);
			}
		}
	}
}

void
fwd_l2_burst(struct fwd_worker *w, struct fwd_task *t)
{
	struct fwd_ctx *ctx = w->ctx;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	uint16_t n, i, k = 0, p;
	uint64_t now;

	n = rte_eth_rx_burst(ctx->ports[t->port].id, t->queue, pkts,
			     ctx->cfg.burst);
	if (n == 0)
		return;
	fwd_count_rx(w, t->port, pkts, n);
	for (i = 0; i < n; i++) {
		if (pkts[i]->data_len < sizeof(struct rte_ether_hdr)) {
			rte_pktmbuf_free(pkts[i]);
			fwd_ctr_add(&w->ctr[t->port].drop_invalid, 1);
			continue;
		}
		pkts[k++] = pkts[i];
	}
	now = rte_get_timer_cycles();
	for (i = 0; i < k; i += L2_CHUNK)
		l2_chunk(w, t->port, pkts + i, RTE_MIN(L2_CHUNK, k - i), now);
	for (p = 0; p < ctx->nb_ports; p++) {
		struct fwd_txbuf *b = &w->txbufs[p];

		if (b->n == 0)
			continue;
		fwd_tx(w, p, w->l2_txq, b->pkts, b->n);
		b->n = 0;
	}
}

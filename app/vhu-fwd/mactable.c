/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The l2 MAC table (see fwd_mac.h for who reads and writes what).
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fwd_mac.h"

#define KEY_MASK ((UINT64_C(1) << 48) - 1)

/* A deleted MAC waiting for every worker to pass a quiescent state. */
struct fwd_mac_deferred {
	int32_t pos;          /* hash key slot, freed after the grace period */
	uint32_t id;          /* entry, reusable after the grace period */
	uint64_t token;       /* rte_rcu_qsbr_start() at deletion */
};

static uint32_t
mac_hash(const void *key, uint32_t len, uint32_t init)
{
	RTE_SET_USED(len);
	return rte_hash_crc_8byte(*(const uint64_t *)key, init);
}

int
fwd_mac_create(struct fwd_ctx *ctx)
{
	const struct fwd_config *cfg = &ctx->cfg;
	struct fwd_mac_table *t;
	struct rte_hash_parameters hp = {
		.name = "vhu_fwd_mac",
		.key_len = sizeof(uint64_t),
		.hash_func = mac_hash,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	unsigned int i;

	t = rte_zmalloc("vhu_fwd_mac", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		goto nomem;
	ctx->mac = t;
	t->capacity = cfg->mac_table_size;
	/* Live keys plus as many deleted ones waiting for their grace
	 * period, with room for the cuckoo hash to place them. */
	hp.entries = 2 * t->capacity;
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL) {
		fprintf(stderr, "vhu-fwd: MAC table of %u entries: %s\n",
			t->capacity, rte_strerror(rte_errno));
		fwd_mac_free(ctx);
		return -1;
	}
	t->entries = rte_zmalloc("vhu_fwd_mac_entries",
				 sizeof(*t->entries) * t->capacity,
				 RTE_CACHE_LINE_SIZE);
	t->free_ids = rte_malloc("vhu_fwd_mac_free",
				 sizeof(*t->free_ids) * t->capacity, 0);
	t->deferred = rte_malloc("vhu_fwd_mac_deferred",
				 sizeof(*t->deferred) * t->capacity, 0);
	if (t->entries == NULL || t->free_ids == NULL || t->deferred == NULL)
		goto nomem;
	for (i = 0; i < t->capacity; i++)
		t->free_ids[i] = t->capacity - 1 - i;
	t->nb_free = t->capacity;

	t->qsv = ctx->qsv; /* the workers' (lcores.c) */

	t->aging_cycles = (uint64_t)cfg->mac_aging * ctx->hz;
	t->refresh_cycles = ctx->hz / 2;
	t->suppress_cycles = ctx->hz / 10;
	t->next_aging = rte_get_timer_cycles() + ctx->hz;

	for (i = 0; i < ctx->nb_workers; i++) {
		struct fwd_worker *w = ctx->workers[i];
		char name[RTE_RING_NAMESIZE];
		int socket = (int)rte_lcore_to_socket_id(w->lcore);

		snprintf(name, sizeof(name), "vhu_fwd_learn%u", i);
		w->learn = rte_ring_create_elem(name, sizeof(uint64_t),
				FWD_L2_LEARN_RING, socket,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->learn == NULL) /* no EAL memory on its node */
			w->learn = rte_ring_create_elem(name, sizeof(uint64_t),
					FWD_L2_LEARN_RING, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		w->recent = fwd_zmalloc_near("vhu_fwd_recent",
				sizeof(*w->recent) * FWD_L2_RECENT, socket);
		if (w->learn == NULL || w->recent == NULL)
			goto nomem;
	}
	return 0;
nomem:
	fprintf(stderr, "vhu-fwd: MAC table of %u entries: out of memory "
		"(give EAL -m more, or --mac-table-size less)\n",
		cfg->mac_table_size);
	fwd_mac_free(ctx);
	return -1;
}

void
fwd_mac_free(struct fwd_ctx *ctx)
{
	struct fwd_mac_table *t = ctx->mac;
	unsigned int i;

	if (t == NULL)
		return;
	for (i = 0; i < ctx->nb_workers; i++) {
		struct fwd_worker *w = ctx->workers[i];

		rte_ring_free(w->learn);
		w->learn = NULL;
		rte_free(w->recent);
		w->recent = NULL;
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->mac = NULL;
	pthread_mutex_unlock(&ctx->lock);
	rte_hash_free(t->hash);
	rte_free(t->entries);
	rte_free(t->free_ids);
	rte_free(t->deferred);
	rte_free(t);
}

void
fwd_mac_learn_request(struct fwd_worker *w, uint64_t key, uint16_t port,
		uint64_t now)
{
	uint64_t req = key | (uint64_t)port << 48;
	struct fwd_l2_recent *r;

	r = &w->recent[(key ^ key >> 24 ^ port) & (FWD_L2_RECENT - 1)];
	if (r->req == req && now - r->tsc < w->ctx->mac->suppress_cycles)
		return; /* main has it already, or soon */
	if (rte_ring_enqueue_elem(w->learn, &req, sizeof(req)) != 0) {
		fwd_ctr_add(&w->learn_dropped, 1);
		return;
	}
	r->req = req;
	r->tsc = now;
}

uint64_t
fwd_mac_learn_dropped(const struct fwd_ctx *ctx)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < ctx->nb_workers; i++)
		n += __atomic_load_n(&ctx->workers[i]->learn_dropped,
				     __ATOMIC_RELAXED);
	return n;
}

/* Return entries whose grace period is over. */
static void
mac_reclaim(struct fwd_mac_table *t)
{
	while (t->def_count > 0) {
		struct fwd_mac_deferred *d = &t->deferred[t->def_head];

		if (rte_rcu_qsbr_check(t->qsv, d->token, false) != 1)
			break;
		if (d->pos >= 0)
			rte_hash_free_key_with_position(t->hash, d->pos);
		t->free_ids[t->nb_free++] = d->id;
		t->def_head = (t->def_head + 1) % t->capacity;
		t->def_count--;
	}
}

/* Delete an entry; it and its key slot come back after a grace period. */
static void
mac_delete(struct fwd_mac_table *t, uint32_t id)
{
	struct fwd_mac_entry *e = &t->entries[id];
	struct fwd_mac_deferred *d;

	d = &t->deferred[(t->def_head + t->def_count) % t->capacity];
	d->pos = rte_hash_del_key(t->hash, &e->key);
	d->id = id;
	d->token = rte_rcu_qsbr_start(t->qsv);
	t->def_count++;
	e->in_use = 0;
	t->nb_entries--;
}

static void
mac_learn(struct fwd_ctx *ctx, uint64_t req, uint64_t now)
{
	struct fwd_mac_table *t = ctx->mac;
	uint64_t key = req & KEY_MASK;
	uint16_t port = (uint16_t)(req >> 48);
	struct fwd_mac_entry *e;
	void *data;
	uint32_t id;

	if (port >= ctx->nb_ports || !fwd_port_up(ctx, port))
		return; /* a frame still in flight from a port now down */
	if (rte_hash_lookup_data(t->hash, &key, &data) >= 0) {
		e = data;
		if (__atomic_load_n(&e->port, __ATOMIC_RELAXED) != port) {
			__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
			t->moved++;
		}
		__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
		return;
	}
	if (t->nb_free == 0)
		mac_reclaim(t);
	if (t->nb_free == 0) {
		t->full++;
		return;
	}
	id = t->free_ids[--t->nb_free];
	e = &t->entries[id];
	e->key = key;
	__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	/* Publishes the key with e (release inside the hash). */
	if (rte_hash_add_key_data(t->hash, &key, e) != 0) {
		t->free_ids[t->nb_free++] = id;
		t->full++;
		return;
	}
	e->in_use = 1;
	t->nb_entries++;
	t->learned++;
}

static void
mac_age(struct fwd_mac_table *t, uint64_t now)
{
	uint32_t id;

	for (id = 0; id < t->capacity; id++) {
		struct fwd_mac_entry *e = &t->entries[id];
		uint64_t seen;

		if (!e->in_use)
			continue;
		seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		if (now > seen && now - seen > t->aging_cycles) {
			mac_delete(t, id);
			t->aged++;
		}
	}
}

void
fwd_mac_service(struct fwd_ctx *ctx, uint64_t now)
{
	struct fwd_mac_table *t = ctx->mac;
	uint64_t reqs[64];
	unsigned int i, j, n, k;

	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->nb_workers; i++) {
		struct rte_ring *r = ctx->workers[i]->learn;

		/* A bounded amount per round: main must keep its pace. */
		for (k = 0; k < 4; k++) {
			n = rte_ring_dequeue_burst_elem(r, reqs, sizeof(reqs[0]),
							RTE_DIM(reqs), NULL);
			/* In order: the last port a MAC was seen on wins. */
			for (j = 0; j < n; j++)
				mac_learn(ctx, reqs[j], now);
			if (rte_ring_empty(r))
				break;
		}
	}
	mac_reclaim(t);
	if (now >= t->next_aging) {
		t->next_aging = now + ctx->hz;
		if (t->aging_cycles != 0)
			mac_age(t, now);
	}
	pthread_mutex_unlock(&ctx->lock);
}

void
fwd_mac_flush_port(struct fwd_ctx *ctx, uint16_t port)
{
	struct fwd_mac_table *t = ctx->mac;
	uint32_t id, n = 0;

	if (t == NULL)
		return;
	pthread_mutex_lock(&ctx->lock);
	for (id = 0; id < t->capacity; id++) {
		struct fwd_mac_entry *e = &t->entries[id];

		if (e->in_use &&
		    __atomic_load_n(&e->port, __ATOMIC_RELAXED) == port) {
			mac_delete(t, id);
			n++;
		}
	}
	t->flushed += n;
	pthread_mutex_unlock(&ctx->lock);
	if (n > 0)
		fwd_say(ctx, "port %u (%s): forgot %u MAC address%s\n", port,
			ctx->ports[port].label, n, n > 1 ? "es" : "");
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The l2 mode's MAC table: MAC address → port, with aging.
 *
 * Readers and the one writer:
 *  - Workers look MACs up in an rte_hash created with
 *    RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF: lock-free lookups that are
 *    safe while the main lcore adds and deletes keys.
 *  - Workers never write the hash. Learning is per lcore: a worker that
 *    sees an unknown source MAC, or a known one on another port, puts a
 *    request on its own single-producer/single-consumer ring; the main
 *    lcore, the only writer, applies the requests (add, or move to the new
 *    port) every millisecond. A worker refreshes the last-seen time of a
 *    known MAC itself (one relaxed store, at most twice a second).
 *  - Deletion (aging, a port going down) is deferred with rte_rcu_qsbr
 *    (the workers' fwd_ctx.qsv): workers report a quiescent state once
 *    per loop; a deleted key's slot
 *    and its entry are reused only after every worker has passed one, so
 *    an entry a worker got from a lookup stays valid for its whole burst.
 *  - The telemetry thread reads the entries under fwd_ctx.lock, which
 *    only main and telemetry take.
 */
#ifndef VHU_FWD_MAC_H
#define VHU_FWD_MAC_H

#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

#include "fwd.h"

/* One learned MAC. The hash's data pointer points here. */
struct fwd_mac_entry {
	uint64_t key;        /* the MAC: bytes 0..5 in the low 48 bits */
	uint64_t last_seen;  /* timer cycles; refreshed by workers */
	uint16_t port;       /* port index; main stores it, workers load it */
	uint8_t in_use;      /* main (and telemetry under the lock) */
};

struct fwd_mac_deferred;

struct fwd_mac_table {
	struct rte_hash *hash;
	struct rte_rcu_qsbr *qsv;    /* fwd_ctx.qsv */
	struct fwd_mac_entry *entries;
	uint32_t capacity;
	uint32_t nb_entries;
	uint32_t *free_ids;          /* stack of unused entries */
	uint32_t nb_free;
	struct fwd_mac_deferred *deferred; /* FIFO of deletions in grace */
	uint32_t def_head, def_count;
	uint64_t aging_cycles;       /* 0: never */
	uint64_t refresh_cycles;     /* how stale last_seen may get */
	uint64_t suppress_cycles;    /* a worker repeats a request after */
	uint64_t next_aging;
	/* Main's counters (read by telemetry under fwd_ctx.lock). */
	uint64_t learned, moved, aged, flushed, full;
};

/* A worker's recently sent learning requests (not to flood the ring). */
#define FWD_L2_RECENT 256
struct fwd_l2_recent {
	uint64_t req;
	uint64_t tsc;
};

/* Requests per worker ring. */
#define FWD_L2_LEARN_RING 1024

static inline uint64_t
fwd_mac_key(const struct rte_ether_addr *a)
{
	uint64_t k = 0;

	memcpy(&k, a->addr_bytes, RTE_ETHER_ADDR_LEN);
	return k;
}

static inline void
fwd_mac_from_key(uint64_t key, struct rte_ether_addr *a)
{
	memcpy(a->addr_bytes, &key, RTE_ETHER_ADDR_LEN);
}

/*
 * Create the table for ctx (its workers must exist: their learning rings
 * and RCU thread ids are set up here). @return 0; -1 with a message.
 */
int fwd_mac_create(struct fwd_ctx *ctx);
void fwd_mac_free(struct fwd_ctx *ctx);

/* Worker: ask main to learn key behind port (deduplicated). */
void fwd_mac_learn_request(struct fwd_worker *w, uint64_t key,
		uint16_t port, uint64_t now);

/* Main: apply learning requests, reclaim, age. */
void fwd_mac_service(struct fwd_ctx *ctx, uint64_t now);
/* Main: forget every MAC behind a port. */
void fwd_mac_flush_port(struct fwd_ctx *ctx, uint16_t port);

/* Learning requests a worker could not queue (ring full). */
uint64_t fwd_mac_learn_dropped(const struct fwd_ctx *ctx);

#endif /* VHU_FWD_MAC_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-fwd: an lcore-pinned forwarder and L2 switch over any ethdev ports.
 *
 * Files, one job each:
 *   main.c        start-up order, the main lcore's loop, shutdown
 *   args.c        application arguments → struct fwd_config
 *   ports.c       port creation (--vhost shortcuts), set-up, link state
 *   lcores.c      (port, queue) → worker lcore assignment, TX queue choice
 *   worker.c      the worker loop and the bounded-retry transmit
 *   mode_io.c, mode_macswap.c, mode_rxonly.c, mode_txonly.c, mode_l2.c
 *                 the forwarding modes (one burst function each)
 *   pools.c       mbuf pools per NUMA node; a port's RX queues follow
 *                 its node (net_vhu: its guest memory's)
 *   mactable.c    the L2 MAC table (fwd_mac.h): lock-free lookups,
 *                 learning requests per lcore, aging, flush
 *   stats.c       counters, the live view, the final report
 *   telemetry.c   /vhu/... telemetry commands
 *   signals.c     SIGINT/SIGTERM
 *
 * Threads and who writes what:
 *  - Worker lcores (rte_eal_remote_launch) poll their (port, queue) tasks
 *    and never block or take a lock. Each (port, queue) RX queue is polled
 *    by exactly one worker, and each TX queue is written by exactly one
 *    worker (lcores.c says which). A worker writes only its own struct
 *    fwd_worker (counters, TX buffers, learning requests).
 *  - The main lcore owns everything else: port set-up and teardown, link
 *    state (fwd_port.up), the MAC table's writes, the live view. It sleeps
 *    between rounds of its loop.
 *  - The telemetry thread only reads: counters (relaxed atomic loads) and
 *    what main publishes under fwd_ctx.lock (rates, the MAC table dump).
 *  - Link-state callbacks (net_vhu's control thread, EAL's interrupt
 *    thread) only set a flag for main.
 */
#ifndef VHU_FWD_H
#define VHU_FWD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#define FWD_MAX_PORTS RTE_MAX_ETHPORTS
#define FWD_MAX_QUEUES 64          /* per port */
#define FWD_MAX_BURST 512
#define FWD_DEFAULT_BURST 32
#define FWD_DEFAULT_TX_RETRIES 4
#define FWD_DEFAULT_MAC_AGING 300  /* seconds */
#define FWD_MAX_SIZES 16           /* --txonly-size list */
#define FWD_MIN_FRAME 60           /* bytes, without the FCS */
#define FWD_MAX_FRAME RTE_MBUF_DEFAULT_DATAROOM /* txonly: one mbuf */
#define FWD_MAX_FLOWS 4096
#define FWD_SOCK_PATH_MAX 107      /* sockaddr_un.sun_path minus NUL */
#define FWD_LABEL_LEN 24

enum fwd_mode_id {
	FWD_MODE_IO,
	FWD_MODE_L2,
	FWD_MODE_MACSWAP,
	FWD_MODE_RXONLY,
	FWD_MODE_TXONLY,
	FWD_MODE_COUNT
};

/* A --vhost / --vhost-client port. */
struct fwd_vhost_arg {
	char path[FWD_SOCK_PATH_MAX + 1];
	bool client;
};

/* One --lcore-map item: (port, queue) polled by lcore. */
struct fwd_map_item {
	uint16_t port;
	uint16_t queue;
	unsigned int lcore;
};

/* What the application arguments asked for (args.c). */
struct fwd_config {
	enum fwd_mode_id mode;
	uint16_t queues;             /* RX and TX queues per port */
	uint16_t burst;
	uint32_t mbufs;              /* 0: computed from ports and queues */
	uint32_t tx_retries;
	uint32_t stats_period;       /* seconds; 0: no live view */
	uint32_t mac_aging;          /* seconds; 0: never */
	uint32_t mac_table_size;     /* entries */
	uint16_t txonly_sizes[FWD_MAX_SIZES];
	unsigned int nb_txonly_sizes;
	uint32_t txonly_flows;
	uint64_t txonly_rate;        /* packets/s per port; 0: unlimited */
	uint64_t txonly_count;       /* packets per port; 0: unlimited */
	struct rte_ether_addr txonly_dst;
	struct fwd_vhost_arg vhost[FWD_MAX_PORTS];
	unsigned int nb_vhost;
	struct fwd_map_item map[FWD_MAX_PORTS * FWD_MAX_QUEUES];
	unsigned int nb_map;         /* 0: automatic assignment */
	bool help;
};

/*
 * Counters of one port as seen by one worker. Written by that worker
 * only (fwd_ctr_add), read by anyone with relaxed atomic loads.
 */
struct fwd_counters {
	uint64_t rx_packets;   /* received on this port */
	uint64_t rx_bytes;
	uint64_t tx_packets;   /* sent on this port */
	uint64_t tx_bytes;
	uint64_t drop_full;    /* to this port: TX retries exhausted */
	uint64_t drop_down;    /* to this port: its link was down */
	uint64_t drop_nombuf;  /* no mbuf for a flood copy or a txonly frame */
	uint64_t flooded;      /* l2: received here, flooded */
	uint64_t filtered;     /* l2: received here for a MAC behind this port */
	uint64_t drop_invalid; /* received here, shorter than an Ethernet header */
};

static inline void
fwd_ctr_add(uint64_t *c, uint64_t v)
{
	/* Single writer: a plain add, published without tearing. */
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

struct fwd_txgen;

/* One (port, queue) a worker polls. */
struct fwd_task {
	uint16_t port;
	uint16_t queue;
	/* Where this task's packets go (io: the peer; macswap: the port
	 * itself) and on which TX queue; txonly sends on (port, txq). */
	uint16_t tx_port;
	uint16_t txq;
	struct fwd_txgen *gen;       /* txonly state, NULL otherwise */
};

/* Packets waiting for one destination port (l2). */
struct fwd_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[FWD_MAX_BURST];
};

struct fwd_ctx;

/* One worker lcore. Allocated on its NUMA socket; written by it alone. */
struct fwd_worker {
	struct fwd_ctx *ctx;
	unsigned int lcore;
	unsigned int index;          /* 0..nb_workers-1: RCU thread id */
	uint16_t l2_txq;             /* l2: this worker's TX queue everywhere */
	unsigned int nb_tasks;
	struct fwd_task *tasks;
	struct rte_ring *learn;      /* l2: learning requests to main */
	struct fwd_l2_recent *recent; /* l2: recently requested (mactable.c) */
	uint64_t learn_dropped;      /* l2: requests lost, learning ring full */
	struct fwd_txbuf *txbufs;    /* l2: one per port */
	struct fwd_counters ctr[FWD_MAX_PORTS] __rte_cache_aligned;
};

/* One port. */
struct fwd_port {
	uint16_t id;
	char name[RTE_ETH_NAME_MAX_LEN];   /* ethdev name */
	char label[FWD_LABEL_LEN];         /* short name for the live view */
	char driver[32];
	struct rte_ether_addr mac;
	bool created;        /* a net_vhu vdev we created (--vhost...) */
	const struct fwd_vhost_arg *vhost; /* its option, when created */
	bool lsc;            /* raises RTE_ETH_EVENT_INTR_LSC */
	bool started;
	bool configured;
	uint16_t nb_rxq, nb_txq;
	uint16_t nb_rxd;             /* RX descriptors set up (main) */
	/* Link as main last saw it; read by workers (relaxed). */
	uint8_t up;
	/* Set by main while it sets the RX queues up again: workers skip
	 * this port's tasks (pools.c). */
	uint8_t paused;
	int rx_node;         /* node of the pool its RX queues take (main) */
	int node_reported;   /* last node main said it cannot follow */
	bool rx_broken;      /* a set-up failed: no RX queue, stays paused */
	/* Counted by the event callbacks; main re-reads the link soon. */
	uint32_t lsc_pending;
	uint32_t qev_pending;
	uint64_t link_changes;       /* main adds, telemetry reads (atomic) */
};

/* Rates main computed at its last sample (under fwd_ctx.lock). */
struct fwd_rates {
	uint64_t rx_pps, tx_pps;
	uint64_t rx_bps, tx_bps;     /* frame bits (no preamble, FCS, gap) */
};

struct fwd_mac_table;

/* The whole forwarder. One instance, owned by main.c. */
struct fwd_ctx {
	struct fwd_config cfg;
	uint16_t nb_ports;
	struct fwd_port ports[FWD_MAX_PORTS];
	/* The pool of the main lcore's node (txonly's frames, the default);
	 * pools[] holds one per node in use, made by main, read by telemetry
	 * under lock. nopool[node]: could not be made there. */
	struct rte_mempool *pool;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
	bool nopool[RTE_MAX_NUMA_NODES];
	uint32_t pool_size;          /* mbufs in each */
	unsigned int nb_workers;
	struct fwd_worker *workers[RTE_MAX_LCORE];
	struct rte_rcu_qsbr *qsv;    /* workers' quiescent states (lcores.c) */
	struct fwd_mac_table *mac;   /* l2 only */
	uint8_t running;             /* workers loop while set */
	uint64_t hz;                 /* timer cycles per second */
	uint64_t start_tsc;
	/* Main ↔ telemetry thread only (never taken by a worker). */
	pthread_mutex_t lock;
	bool published;              /* telemetry may read ports/workers */
	struct fwd_rates rates[FWD_MAX_PORTS];
	/* Main only: counters at the last rate sample and status line. */
	struct fwd_counters sample_base[FWD_MAX_PORTS];
	uint64_t sample_tsc;
	struct fwd_counters line_base[FWD_MAX_PORTS];
	uint64_t line_drops_base[FWD_MAX_PORTS];
	uint64_t line_tsc;
};

/* ---- args.c ---- */

/* Fill cfg with defaults. */
void fwd_config_defaults(struct fwd_config *cfg);
/*
 * Parse the application's arguments (those after "--"). Prints what is
 * wrong (the option and why) on stderr.
 * @return 0; -1 on a bad argument.
 */
int fwd_args_parse(int argc, char **argv, struct fwd_config *cfg);
void fwd_usage(const char *prgname);
const char *fwd_mode_name(enum fwd_mode_id mode);

/* ---- ports.c ---- */

/*
 * Checks that need EAL but create nothing: port count and the mode's
 * needs, queue limits of EAL's ports, --vhost paths not in use.
 * @return 0; -1 with a message on stderr.
 */
int fwd_ports_check(struct fwd_ctx *ctx);
/* Create the --vhost/--vhost-client ports and fill ctx->ports.
 * @return 0; -1 with a message (and nothing left created). */
int fwd_ports_create(struct fwd_ctx *ctx);
/* Configure, set up queues, register LSC callbacks, start. @return 0/-1. */
int fwd_ports_start(struct fwd_ctx *ctx);
/* Re-read the link of ports with a pending event, or of all ports;
 * report changes. Called by main. */
void fwd_ports_poll_link(struct fwd_ctx *ctx, bool all);
/* Stop every started port. */
void fwd_ports_stop(struct fwd_ctx *ctx);
/* Close every port, remove the vdevs we created (their sockets go). */
void fwd_ports_close(struct fwd_ctx *ctx);
/* Log net_vhu queue-state changes (main). */
void fwd_ports_queue_events(struct fwd_ctx *ctx);

/* A worker's own memory: on its lcore's node, or on any node when that
 * one has no EAL memory (an lcore on a node --socket-mem left out). */
static inline void *
fwd_zmalloc_near(const char *what, size_t size, int socket)
{
	void *p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, socket);

	return p != NULL ? p :
		rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
}

static inline bool
fwd_port_up(const struct fwd_ctx *ctx, uint16_t port)
{
	return __atomic_load_n(&ctx->ports[port].up, __ATOMIC_RELAXED) != 0;
}

/* ---- pools.c ---- */

/* Create the pool of the main lcore's node (fwd_ctx.pool), of --mbufs or
 * a size computed from the ports. @return 0; -1 with a message. */
int fwd_pools_create(struct fwd_ctx *ctx);
/* The pool on node (made on first use, by main), or NULL with a message
 * when none can be made there (no memory on that node). */
struct rte_mempool *fwd_pool_of_node(struct fwd_ctx *ctx, int node);
/* Main: when port i's NUMA node changed (net_vhu: its front-end's guest
 * memory is elsewhere), set its RX queues up again with that node's pool,
 * the workers kept off the port meanwhile. */
void fwd_port_follow_node(struct fwd_ctx *ctx, uint16_t i);
/* mbufs in all pools, and in use (telemetry, under fwd_ctx.lock). */
uint64_t fwd_pools_mbufs(const struct fwd_ctx *ctx, bool in_use);
void fwd_pools_free(struct fwd_ctx *ctx);

/* ---- lcores.c ---- */

/* Check EAL's lcores, and --lcore-map against them and the nb_ports
 * ports there will be. @return 0; -1 with a message. */
int fwd_lcores_check(const struct fwd_ctx *ctx, unsigned int nb_ports);
/* Build the workers and their tasks. @return 0; -1 with a message. */
int fwd_lcores_assign(struct fwd_ctx *ctx);
void fwd_lcores_free(struct fwd_ctx *ctx);
/* Print the assignment. */
void fwd_lcores_print(const struct fwd_ctx *ctx);

/* ---- worker.c ---- */

int fwd_worker_main(void *arg);
/*
 * Send n packets on (port, txq), retrying at most cfg.tx_retries times
 * when the queue takes fewer; the rest are freed and counted as
 * drop_full, and everything is freed and counted as drop_down when the
 * port's link is down. Counts tx_packets/tx_bytes of what went.
 */
void fwd_tx(struct fwd_worker *w, uint16_t port, uint16_t txq,
		struct rte_mbuf **pkts, uint16_t n);

/* ---- modes ---- */

typedef void (*fwd_burst_fn)(struct fwd_worker *w, struct fwd_task *t);

void fwd_io_burst(struct fwd_worker *w, struct fwd_task *t);
void fwd_macswap_burst(struct fwd_worker *w, struct fwd_task *t);
void fwd_rxonly_burst(struct fwd_worker *w, struct fwd_task *t);
void fwd_txonly_burst(struct fwd_worker *w, struct fwd_task *t);
void fwd_l2_burst(struct fwd_worker *w, struct fwd_task *t);

/* Count what a burst received. @return its bytes. */
uint64_t fwd_count_rx(struct fwd_worker *w, uint16_t port,
		struct rte_mbuf **pkts, uint16_t n);

/* txonly generator of one task (mode_txonly.c). */
struct fwd_txgen *fwd_txgen_create(const struct fwd_ctx *ctx,
		uint16_t port, uint16_t queue, int socket);
void fwd_txgen_free(struct fwd_txgen *gen);

/* ---- stats.c ---- */

/* Sum of one port's counters over every worker. */
void fwd_stats_port(const struct fwd_ctx *ctx, uint16_t port,
		struct fwd_counters *sum);
/* Take a rate sample (main, every second). */
void fwd_stats_sample(struct fwd_ctx *ctx, uint64_t now);
/* Print one status line covering the time since the last one. */
void fwd_stats_line(struct fwd_ctx *ctx, uint64_t now);
/* The final counters, as a table. */
void fwd_stats_final(const struct fwd_ctx *ctx, uint64_t now);
/* Seconds since start, for log lines. */
double fwd_uptime(const struct fwd_ctx *ctx, uint64_t now);
/* printf to stdout with an uptime prefix. */
void fwd_say(const struct fwd_ctx *ctx, const char *fmt, ...)
	__rte_format_printf(2, 3);

/* ---- telemetry.c ---- */

/* Register /vhu/... commands (once). @return 0; -1 with a message. */
int fwd_telemetry_register(struct fwd_ctx *ctx);

/* ---- signals.c ---- */

void fwd_signals_install(void);
/* @return the signal that asked us to quit, or 0. */
int fwd_signals_quit(void);

#endif /* VHU_FWD_H */

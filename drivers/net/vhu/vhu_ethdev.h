/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu: the ethdev PMD over lib/vhu. Internal definitions shared by the
 * driver's files:
 *   rte_eth_vhu.c        vdev probe/remove, registration, PMD info
 *   vhu_ethdev_args.c    devargs
 *   vhu_ethdev_ops.c     ethdev ops (configure, queues, start/stop, close)
 *   vhu_ethdev_rxtx.c    the burst functions
 *   vhu_ethdev_stats.c   stats and xstats
 *   vhu_ethdev_events.c  lib/vhu callbacks → link state and ethdev events
 *
 * Threads and the datapath contract:
 *  - The vhu device (socket, front-end, rings) lives from probe to close:
 *    a front-end may connect, reconnect and run its rings whether or not
 *    the port is started. lib/vhu makes bursts safe against everything its
 *    control thread does (each ring's burst sequence counter + membarrier,
 *    vhu_sync.h), so the bursts need no flag, lock or atomic of their own.
 *  - Bursts run only while the port is started: ethdev's contract (the
 *    application stops polling a queue before rte_eth_dev_stop(), and
 *    rte_eth_dev_stop() swaps the port's fast-path functions for dummies)
 *    and rte_eth_dev_close() refuses a started port. vhu_device_unregister()
 *    runs only in dev_close, so no burst can be inside the device then.
 *  - lib/vhu's callbacks (vhu_ethdev_events.c) run on its control thread.
 *    They touch only the link word (atomic), the queue-state table (under
 *    qev_lock) and ethdev's callback list (under ethdev's own lock); events
 *    are raised only between the end of probe and the start of close
 *    (priv->events), and vhu_device_unregister() returns only after the
 *    device's last callback, so the private data outlives every callback.
 */
#ifndef VHU_ETHDEV_H
#define VHU_ETHDEV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_log.h>
#include <rte_spinlock.h>

#include <ethdev_driver.h>

#include "vhu.h"

extern int vhu_ethdev_logtype;

#define VHU_ETHDEV_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vhu_ethdev_logtype, "net_vhu: " fmt "\n", \
		##__VA_ARGS__)

/* Longest unix socket path (struct sockaddr_un's sun_path, minus NUL). */
#define VHU_ETHDEV_PATH_MAX 107

/*
 * Largest frame either way: lib/vhu caps a guest chain at 64 KiB plus
 * the virtio-net header, so a guest frame is at most 65536 bytes.
 */
#define VHU_ETHDEV_MAX_PKT_LEN 65536u

/* What the devargs asked for (vhu_ethdev_args.c). */
struct vhu_ethdev_args {
	char iface[VHU_ETHDEV_PATH_MAX + 1];
	uint16_t queues;
	bool client;
	bool have_mac;
	struct rte_ether_addr mac;
	uint64_t offloads;      /* VHU_OFFLOAD_* for struct vhu_device_config */
	uint64_t features_masked; /* for struct vhu_device_config */
};

/*
 * Parse a net_vhu device's devargs. Every problem is logged with the
 * device name and the offending key.
 * @return 0; -EINVAL on an unknown or repeated key, a bad value, or a
 *   missing iface.
 */
int vhu_ethdev_args_parse(const char *name, const char *devargs,
		struct vhu_ethdev_args *args);

/* The devargs string for RTE_PMD_REGISTER_PARAM_STRING. */
#define VHU_ETHDEV_PARAMS \
	"iface=<path> " \
	"queues=<1..128> " \
	"client=<0|1> " \
	"mac=<xx:xx:xx:xx:xx:xx> " \
	"iommu-support=<0|1> " \
	"postcopy-support=<0|1> " \
	"tso=<0|1> " \
	"linear-buffer=<0|1> " \
	"ext-buffer=<0|1> " \
	"legacy-ol-flags=<0|1> " \
	"packed=<0|1>"

/* One RX queue: dequeue from the guest's TX ring of queue pair qp. */
struct vhu_ethdev_rxq {
	struct vhu_device *vdev;
	struct rte_mempool *mp;
	uint16_t qp;
	uint16_t port_id;
	uint16_t nb_desc;	/* as the application asked; sizes nothing */
	bool deferred_start;	/* stays stopped at port start */
	/* Complete the partial checksums lib/vhu left (RX_L4_CKSUM_NONE):
	 * compliant flags, and the application did not enable RX TCP/UDP
	 * checksum offload (net_vhost's rx_sw_csum). Set at port start and
	 * at a set-up. */
	bool sw_cksum;
} __rte_cache_aligned;

/* At most this many segments from one TSO mbuf (a 64 KiB packet at
 * the smallest MSS rte_gso takes, 256 - headers, needs fewer). */
#define VHU_GSO_MAX_SEGS 512

struct rte_gso_ctx;

/* One TX queue: enqueue into the guest's RX ring of queue pair qp. */
struct vhu_ethdev_txq {
	struct vhu_device *vdev;
	uint16_t qp;
	uint16_t port_id;
	/* Software GSO (vhu_ethdev_gso.c): NULL unless the application
	 * enabled RTE_ETH_TX_OFFLOAD_TCP_TSO. Counters: written by the
	 * polling thread only, read by xstats. */
	struct rte_gso_ctx *gso;
	uint64_t gso_packets;   /* TSO mbufs segmented */
	uint64_t gso_segments;  /* segments made from them */
	uint64_t gso_drops;     /* segments not delivered (ring full) and
				 * TSO mbufs rte_gso refused */
} __rte_cache_aligned;

/* Per-ring flags of the queue-state table (qev_cur/qev_seen). */
#define VHU_ETHDEV_QS_RUNNING 0x1 /* started, enabled and not broken */

/* The port's private data (eth_dev->data->dev_private). */
struct vhu_ethdev {
	struct rte_eth_dev *eth_dev;
	struct vhu_device *vdev;       /* NULL once closed */
	struct vhu_ethdev_args args;
	/* Callbacks may raise ethdev events (set after probe, cleared at
	 * the start of close). */
	bool events;
	/* Queue-state table, ring-indexed: what the rings are (cur) and what
	 * rte_eth_vhu_get_queue_event() last reported (seen). */
	rte_spinlock_t qev_lock;
	uint16_t qev_next;             /* where the next scan starts */
	uint8_t qev_cur[2 * VHU_MAX_QUEUE_PAIRS];
	uint8_t qev_seen[2 * VHU_MAX_QUEUE_PAIRS];
	/* Counters at the last stats/xstats reset (vhu_ethdev_stats.c). */
	struct vhu_device_stats dev_base;
	struct vhu_ring_stats ring_base[]; /* 2 * args.queues */
};

/* Bytes of private data for a port with this many queue pairs. */
size_t vhu_ethdev_priv_size(uint16_t queues);

/* The ethdev ops table (vhu_ethdev_ops.c). */
extern const struct eth_dev_ops vhu_ethdev_ops;

/* Release every resource of the port except the ethdev slot itself:
 * unregister the vhu device and free the queues. Idempotent. */
int vhu_ethdev_close(struct rte_eth_dev *eth_dev);

/* Software GSO of a TX queue (vhu_ethdev_gso.c). setup: control path,
 * 0 or -errno; free: idempotent; tx_burst_gso: tx_burst of a queue with
 * a GSO context. */
int vhu_ethdev_gso_setup(struct vhu_ethdev_txq *q, int socket_id);
void vhu_ethdev_gso_free(struct vhu_ethdev_txq *q);
uint16_t vhu_ethdev_tx_burst_gso(struct vhu_ethdev_txq *q,
		struct rte_mbuf **pkts, uint16_t nb_pkts);

/* Burst functions (vhu_ethdev_rxtx.c). */
uint16_t vhu_ethdev_rx_burst(void *rxq, struct rte_mbuf **pkts,
		uint16_t nb_pkts);
uint16_t vhu_ethdev_tx_burst(void *txq, struct rte_mbuf **pkts,
		uint16_t nb_pkts);

/* lib/vhu callbacks (vhu_ethdev_events.c); ctx is the struct vhu_ethdev. */
extern const struct vhu_device_ops vhu_ethdev_vhu_ops;

/* The link as it is now (up iff the vhu device is ready). */
void vhu_ethdev_link_get(const struct vhu_ethdev *priv,
		struct rte_eth_link *link);

/* Stats and xstats ops (vhu_ethdev_stats.c). */
int vhu_ethdev_stats_get(struct rte_eth_dev *eth_dev,
		struct rte_eth_stats *stats);
int vhu_ethdev_stats_reset(struct rte_eth_dev *eth_dev);
int vhu_ethdev_xstats_get(struct rte_eth_dev *eth_dev,
		struct rte_eth_xstat *xstats, unsigned int n);
int vhu_ethdev_xstats_get_names(struct rte_eth_dev *eth_dev,
		struct rte_eth_xstat_name *names, unsigned int size);

#endif /* VHU_ETHDEV_H */

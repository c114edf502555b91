/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal device and ring structures.
 *
 * Ownership of every field is part of its comment:
 *  - [dp]   written by the one lcore polling the ring, inside a burst;
 *           read by the control thread only after vhu_sync_quiesce();
 *  - [view] the datapath's view of the ring, written by the control
 *           thread (see vhu_vring.c for the publication order), read by
 *           bursts;
 *  - [ctl]  control thread only.
 */
#ifndef VHU_DEV_H
#define VHU_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <linux/virtio_ring.h>

#include <rte_common.h>

#include "vhu.h"
#include "vhu_mem.h"
#include "vhu_wire.h"

/* What a burst may do with a ring: the one derived view of the seed's two
 * stored states (computed only by vhu_vring_derive_mode()). */
enum vhu_dp_mode {
	VHU_DP_STOPPED = 0, /* touch nothing */
	VHU_DP_DISCARD = 1, /* started + disabled: supply no RX, drop TX */
	VHU_DP_RUN = 2,     /* started + enabled: normal processing */
};

/* Ring sizes the spec allows for split rings. */
#define VHU_VRING_MAX_SIZE 32768

struct vhu_device;

struct vhu_vring {
	/* [dp] The polling lcore's line. */
	uint32_t burst_seq;          /* odd while a burst runs (vhu_sync.h) */
	uint16_t last_avail_idx;     /* next avail entry to process */
	uint16_t last_used_idx;      /* next used entry to fill */
	uint32_t mem_hint;           /* last-hit region for translation */
	uint32_t bad_chains;         /* invalid chains seen since start */
	bool dp_broken;              /* the datapath gave up on this ring */

	/* [view] Read by bursts; written by the control thread. */
	uint8_t dp_mode __rte_cache_aligned; /* enum vhu_dp_mode */
	uint8_t vnet_hdr_len;        /* 10 or 12 */
	uint8_t ol_mode;             /* VHU_OL_* (vhu_offload.h) */
	uint16_t size;               /* number of descriptors */
	uint64_t features;           /* negotiated virtio features */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct vhu_mem_table *mem;
	int call_fd;                 /* -1: no notifications */
	uint8_t *log_base;           /* dirty-page log, NULL if none */
	uint64_t log_size;           /* bytes of log_base */
	uint64_t used_log_gpa;       /* guest address of the used ring */
	bool log_used;               /* VHOST_VRING_F_LOG: log used writes */
	uint16_t index;
	struct vhu_device *dev;

	/* [dp] Counters (transitions are [ctl]). */
	struct vhu_ring_stats stats __rte_cache_aligned;

	/* [ctl] The seed's two stored states and the ring's settings,
	 * which persist across a stop. */
	bool started __rte_cache_aligned;
	bool enabled;
	bool broken;                 /* reported (logged, counted) */
	bool have_num;
	bool have_addr;
	uint16_t base;               /* SET_VRING_BASE / stop position */
	uint16_t num;
	struct vhu_wire_vring_addr addr; /* front-end virtual addresses */
	int kick_fd;                 /* kept, never read (poll mode) */
	int err_fd;
	struct vhu_ring_state reported; /* last state given to callbacks */
};

/* An fd in the control thread's epoll set. */
enum vhu_ep_kind { VHU_EP_WAKE, VHU_EP_LISTEN, VHU_EP_CONN };

struct vhu_ep {
	enum vhu_ep_kind kind;
	int fd;
	struct vhu_device *dev;
};

/* A message as received: header, payload, fds. */
struct vhu_msg {
	struct vhu_wire_header hdr;
	union {
		uint64_t u64;
		struct vhu_wire_vring_state state;
		struct vhu_wire_vring_addr addr;
		struct vhu_wire_mem_table mem;
		struct vhu_wire_single_region region;
		struct vhu_wire_log log;
		uint8_t raw[VHU_WIRE_MAX_PAYLOAD];
	} payload;
	int fds[VHU_WIRE_MAX_FDS];
	uint32_t nfds;
	bool fds_truncated;          /* more fds came than fit: all refused */
	uint16_t ring;               /* validated ring index, if the request has one */
};

/* The connection to a front-end, and its partial-read state. */
struct vhu_conn {
	struct vhu_ep ep;            /* ep.fd < 0: not connected */
	struct vhu_msg msg;          /* message being received */
	uint32_t have;               /* bytes of hdr + payload received */
};

struct vhu_device {
	TAILQ_ENTRY(vhu_device) next; /* [ctl] registry, under ctrl lock */

	/* Immutable after register. */
	char path[108];
	bool client;
	uint16_t max_queue_pairs;
	uint16_t nr_rings;
	uint64_t features_offered;
	uint64_t protocol_features_offered;
	uint64_t offloads;           /* VHU_OFFLOAD_* */
	const struct vhu_device_ops *ops;
	void *ctx;
	int socket_id;

	/* [ctl] */
	bool started;                /* vhu_device_start() done */
	bool created_socket_file;
	struct vhu_ep listen_ep;     /* server mode */
	struct vhu_conn conn;
	uint64_t reconnect_at;       /* client: rte_get_timer_cycles() deadline */
	uint32_t reconnect_ms;       /* client: current backoff */
	bool owner;
	bool features_set;
	uint64_t features;
	uint64_t protocol_features;
	uint8_t status;
	uint16_t mtu;
	bool ready;
	uint8_t rarp_mac[6];         /* SEND_RARP: guest MAC to announce */
	bool rarp_pending;           /* [view] set by control, cleared by dp */
	const struct vhu_mem_table *mem;
	uint32_t mem_generation;
	void *log_base;              /* dirty-page log mapping */
	uint64_t log_size;
	void *log_map_addr;
	size_t log_map_len;
	int log_fd;                  /* SET_LOG_FD eventfd */
	struct vhu_device_stats stats;
	bool unregistering;

	struct vhu_vring rings[];    /* nr_rings, cache aligned */
};

static inline bool
vhu_dev_has_feature(const struct vhu_device *dev, unsigned int bit)
{
	return (dev->features >> bit) & 1;
}

static inline bool
vhu_dev_has_protocol_feature(const struct vhu_device *dev, unsigned int bit)
{
	return (dev->protocol_features >> bit) & 1;
}

/*
 * Device-level operations shared by the message handlers, the control
 * thread and the public API (vhu_dev.c). Control thread only.
 */

/* Pause every ring bursts may be in and wait for them (vhu_vring.h).
 * @return 0; -ETIMEDOUT (rings stay paused). */
int vhu_dev_pause_rings(struct vhu_device *dev);

/* Republish every ring's derived view after vhu_dev_pause_rings(). */
void vhu_dev_publish_rings(struct vhu_device *dev);

/*
 * Return the device to its initial state: rings stopped and reset,
 * memory and log unmapped once no burst can use them, features cleared.
 * disconnect: also forget the owner and protocol features (the front-end
 * is gone). Safe to call in any state.
 */
void vhu_dev_reset(struct vhu_device *dev, bool disconnect);

/*
 * Install a new memory table: re-translate every ring under it, publish
 * it, and free the old one once no burst can use it.
 * @return 0; -EINVAL if a started ring would not be mapped by it (the old
 *   table stays in use and the new one is freed); -ETIMEDOUT.
 */
int vhu_dev_set_mem(struct vhu_device *dev, struct vhu_mem_table *mem);

/* Emit the callbacks for every change since the last call (ring states,
 * ready/destroyed). Called after each message and state change. */
void vhu_dev_notify(struct vhu_device *dev);

/* Report rings the datapath gave up on (broken): log once, count, signal
 * the err fd, NEEDS_RESET in GET_STATUS, callbacks. Periodic. */
void vhu_dev_check_rings(struct vhu_device *dev);

#endif /* VHU_DEV_H */

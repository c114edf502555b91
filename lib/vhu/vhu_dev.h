/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal device and ring structures.
 *
 * Ownership of every field is part of its comment:
 *  - [dp]   written by the one lcore polling the ring, inside a burst;
 *           read by the control thread only after vhu_sync_quiesce();
 *  - [view] the datapath's view of the ring: derived from the device's
 *           and the ring's [ctl] state by vhu_vring_publish() alone,
 *           only while no burst can be in the ring (vhu_vring.h), read
 *           by bursts; never written anywhere else;
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

/* Largest ring either format allows (split: a power of two up to this;
 * packed: any size up to this). */
#define VHU_VRING_MAX_SIZE 32768

struct vhu_device;

struct vhu_vring {
	/* [dp] The polling lcore's line. */
	uint32_t burst_seq;          /* odd while a burst runs (vhu_sync.h) */
	/* Split: free-running indices into the avail and used rings.
	 * Packed: positions in the descriptor ring (0..size-1), each with
	 * its wrap counter. */
	uint16_t last_avail_idx;     /* next avail entry to process */
	uint16_t last_used_idx;      /* next used entry to fill */
	bool avail_wrap;             /* packed: driver ring wrap counter */
	bool used_wrap;              /* packed: device ring wrap counter */
	uint32_t mem_hint;           /* last-hit region for translation */
	uint32_t bad_chains;         /* invalid chains seen since start */
	uint32_t log_bursts;         /* bursts that wrote the dirty log */
	bool dp_broken;              /* the datapath gave up on this ring */

	/* [view] Read by bursts; written by the control thread. */
	uint8_t dp_mode __rte_cache_aligned; /* enum vhu_dp_mode */
	uint8_t vnet_hdr_len;        /* 10 or 12 */
	uint8_t ol_mode;             /* VHU_OL_* (vhu_offload.h) */
	bool packed;                 /* VIRTIO_F_RING_PACKED negotiated */
	uint16_t size;               /* number of descriptors */
	uint64_t features;           /* negotiated virtio features */
	/* The ring in our address space, in its format's layout. */
	union {
		struct vring_desc *desc;                    /* split */
		struct vring_packed_desc *pdesc;            /* packed */
	};
	union {
		struct vring_avail *avail;                  /* split */
		struct vring_packed_desc_event *driver_event; /* packed */
	};
	union {
		struct vring_used *used;                    /* split */
		struct vring_packed_desc_event *device_event; /* packed */
	};
	const struct vhu_mem_table *mem;
	int call_fd;                 /* -1: no notifications */
	uint8_t *log_base;           /* dirty-page log, NULL if none */
	uint64_t log_size;           /* bytes of log_base */
	/* Guest address of what the device writes in the ring: the used
	 * ring (split, from VHOST_VRING_F_LOG's log_guest_addr), the
	 * descriptor ring (packed: used descriptors go there). */
	uint64_t used_log_gpa;
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
	/* Paused, and a burst that may have read the old view did not end
	 * in time: the view stays STOPPED and nothing a burst reads may
	 * change until a later quiesce succeeds (vhu_dev_retry_held). */
	bool held;
	bool have_num;
	bool have_addr;
	/* SET_VRING_BASE / stop position, in the wire's layout: split,
	 * bits 0-15 the next avail index; packed, bits 0-14 the next avail
	 * position, 15 its wrap counter, 16-30 the next used position, 31
	 * its wrap counter (vhost-user.rst). Read in the negotiated format
	 * when the ring starts. */
	uint32_t base;
	uint16_t num;
	struct vhu_wire_vring_addr addr; /* front-end virtual addresses */
	int kick_fd;                 /* kept, never read (poll mode) */
	int err_fd;
	struct vhu_ring_state reported; /* last state given to callbacks */
	/* NUMA node of the guest memory holding the descriptors, found
	 * when the ring last started; -1 unknown (vhu_numa.c). */
	int numa_node;
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
	/* The front-end asked for a REPLY_ACK and may get one: decided
	 * before the handler runs (SET_PROTOCOL_FEATURES may change it). */
	bool want_ack;
};

/* The connection to a front-end, and its partial-read state. */
struct vhu_conn {
	struct vhu_ep ep;            /* ep.fd < 0: not connected */
	struct vhu_msg msg;          /* message being received */
	uint32_t have;               /* bytes of hdr + payload received */
	/* msg waits for a late burst (VHU_MSG_PARKED): nothing more is
	 * read from the connection until it is handled or expires. */
	bool parked;
	uint64_t park_deadline;      /* timer cycles */
};

struct vhu_device {
	/* Public, first (vhu.h): which rings are live, kept by
	 * vhu_vring_pause()/vhu_vring_publish() with each dp_mode. */
	struct vhu_device_fastpath fp;
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
	/* The mapping the device lives in, whole pages, the device at a
	 * cache-line offset into it (vhu_api.c; vhu_numa.c moves it). */
	void *map_base;
	size_t map_size;

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
	struct vhu_guard *log_guard; /* SIGBUS guard of the log mapping */
	uint64_t guard_faults_seen;  /* vhu_dev_memory_faulted() reported */
	uint64_t guard_faults_dropped; /* faults of mappings unmapped since */
	int log_fd;                  /* SET_LOG_FD eventfd */
	uint64_t log_bursts_seen;    /* sum of rings' log_bursts at the last
				      * log_fd signal */
	bool reset_pending;          /* a reset waits for held rings */
	bool reset_disconnect;       /* ... and it is a disconnect */
	uint64_t reset_deadline;     /* ... counted as a quiesce timeout
				      * if still waiting then (cycles) */
	bool reset_late_counted;
	bool listen_paused;          /* server: connections wait in the
				      * backlog until the reset ran */
	struct vhu_device_stats stats;
	bool unregistering;
	int numa_node;               /* node of this structure's pages, -1 unknown */
	bool numa_unknown_logged;

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

/*
 * Validate cfg and allocate a device in its initial state (rings stopped
 * and disabled, no connection), not yet known to the control thread
 * (vhu_device_register() = this + vhu_ctrl_register()). The fuzz targets
 * drive such a device directly.
 * @return 0 and *out; -EINVAL (logged); -ENOMEM.
 */
int vhu_dev_create(const struct vhu_device_config *cfg,
		struct vhu_device **out);

/* Free a device from vhu_dev_create() (reset, or never connected). */
void vhu_dev_destroy(struct vhu_device *dev);

/* Which rings a request may change what bursts read of: declared per
 * request in vhu_msg.c's table, acted on by the dispatcher only. */
enum vhu_pause_scope {
	VHU_PAUSE_NONE,   /* changes nothing bursts read */
	VHU_PAUSE_RING,   /* the ring the request names */
	VHU_PAUSE_DEVICE, /* every ring of the device */
};

/*
 * Pause the rings in scope (ring: the index, for VHU_PAUSE_RING) and wait
 * up to wait_ms until no burst is inside them. On success the rings'
 * settings, and anything their views point to (memory table, dirty log,
 * fds), may change until vhu_dev_release().
 * @return 0; -EINPROGRESS if a burst is still inside: the rings stay
 *   paused, nothing may change yet; poll vhu_dev_hold_quiet() until it
 *   says true (then as 0 here) or give up with vhu_dev_hold_expire();
 *   -EBUSY if a ring in scope is already held (not waited for twice, so
 *   one stuck lcore delays its device's requests once).
 */
int vhu_dev_hold_begin(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring, unsigned int wait_ms);

/* After vhu_dev_hold_begin() returned -EINPROGRESS for the same scope:
 * whether the rings are quiet now (no wait). */
bool vhu_dev_hold_quiet(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring);

/*
 * Give up waiting after vhu_dev_hold_begin() returned -EINPROGRESS:
 * nothing may change, the rings stay held (paused) until
 * vhu_dev_retry_held() sees them quiet; counted (quiesce_timeouts) and
 * logged. waited_ms is for the log.
 * @return -ETIMEDOUT.
 */
int vhu_dev_hold_expire(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring, unsigned int waited_ms);

/* Derive and publish the views of the rings in scope (vhu_vring_publish),
 * after vhu_dev_hold_begin() (or a later vhu_dev_hold_quiet()) said
 * the rings are quiet, for the same scope. */
void vhu_dev_release(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring);

/* Periodic (every VHU_QUIESCE_POLL_MS while vhu_dev_resets_pending):
 * check held rings again, without waiting; once they are quiet, run the
 * reset that waited for them (vhu_dev_reset_when_quiet) and publish
 * them. */
void vhu_dev_retry_held(struct vhu_device *dev);

/*
 * Whether a SIGBUS hit this device's guest memory or dirty log since it
 * was mapped (its file shrank under the mapping; vhu_guard.h). The first
 * time it is seen, it is logged (ERR) and counted (memory_faults).
 * Called by: the control thread (its tick, when vhu_guard_total_faults()
 * moved).
 */
bool vhu_dev_memory_faulted(struct vhu_device *dev);

/* Devices whose reset waits for a late burst. [ctl] */
extern unsigned int vhu_dev_resets_pending;

/*
 * Return the device to its initial state: rings stopped and reset,
 * memory and log unmapped, features cleared. disconnect: also forget the
 * owner and protocol features (the front-end is gone).
 * Precondition: every ring is paused and quiet (vhu_dev_hold_begin()
 * with VHU_PAUSE_DEVICE, or held rings vhu_dev_retry_held() found quiet).
 */
void vhu_dev_reset(struct vhu_device *dev, bool disconnect);

/*
 * Hold every ring and reset the device from vhu_dev_retry_held() once
 * they are quiet (nothing is reset under a running burst). For a reset
 * whose rings did not quiesce in time.
 */
void vhu_dev_reset_later(struct vhu_device *dev, bool disconnect);

/*
 * Reset the device as soon as no burst can be in it: at once if the
 * rings quiesce within VHU_QUIESCE_WAIT_MS, else from
 * vhu_dev_retry_held() once they do (the rings stay held meanwhile;
 * nothing is reset under a running burst; a reset still waiting after
 * VHU_QUIESCE_TIMEOUT_MS counts as a quiesce timeout).
 * @return true if the reset ran now.
 */
bool vhu_dev_reset_when_quiet(struct vhu_device *dev, bool disconnect);

/*
 * Install a new memory table and free the old one.
 * Precondition: the device is held (VHU_PAUSE_DEVICE).
 * @return 0; -EINVAL if a started ring would not be mapped by it (the old
 *   table stays in use and the new one is freed).
 */
int vhu_dev_set_mem(struct vhu_device *dev, struct vhu_mem_table *mem);

/* Signal the SET_LOG_FD eventfd if a burst wrote the dirty log since the
 * last signal. Periodic. */
void vhu_dev_signal_log(struct vhu_device *dev);

/* Emit the callbacks for every change since the last call (ring states,
 * ready/destroyed). Called after each message and state change. */
void vhu_dev_notify(struct vhu_device *dev);

/* Report rings the datapath gave up on (broken): log once, count, signal
 * the err fd, NEEDS_RESET in GET_STATUS, callbacks. Periodic. */
void vhu_dev_check_rings(struct vhu_device *dev);

#endif /* VHU_DEV_H */

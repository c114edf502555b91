/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vhu: a poll-mode vhost-user network back-end.
 *
 * A *device* is one vhost-user socket path. A front-end (QEMU, DPDK
 * virtio-user, ...) connects to it (or, in client mode, vhu connects to
 * the front-end's socket), shares its memory and virtqueues, and vhu's
 * burst calls move packets:
 *  - vhu_enqueue_burst(): host → guest, into the guest's RX ring of a
 *    queue pair (ring 2 * qp);
 *  - vhu_dequeue_burst(): guest → host, from the guest's TX ring of a
 *    queue pair (ring 2 * qp + 1).
 *
 * Threads:
 *  - One *control thread* per process (a DPDK control thread named
 *    "vhu-ctrl", created on the first vhu_device_register()) owns every
 *    socket and all device state; every callback in struct vhu_device_ops
 *    runs on it.
 *  - The burst calls run on any lcore, never block and take no lock. A
 *    ring must be polled by at most one thread at a time (the usual
 *    DPDK rule for a queue); different rings may be polled by different
 *    lcores.
 *  - Every other function may be called from any thread, unless its
 *    comment says otherwise.
 *
 * Ring states follow the vhost-user spec with the "rings start on
 * SET_VRING_KICK" clarification: a ring starts on VHOST_USER_SET_VRING_KICK
 * (no kick needed, kicks are never read), stops on
 * VHOST_USER_GET_VRING_BASE (replied to only after no burst can touch
 * the ring), and is enabled/disabled by VHOST_USER_SET_VRING_ENABLE.
 * See doc/protocol.md.
 */
#ifndef VHU_H
#define VHU_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;

/** A registered vhost-user device (one socket path). Opaque. */
struct vhu_device;

/** Most queue pairs a device can have (256 rings, the spec's 8-bit index). */
#define VHU_MAX_QUEUE_PAIRS 128

/**
 * The part of a device a poller may read without calling the library:
 * the first bytes of every struct vhu_device. Bit r of rings_live[r / 64]
 * is set while ring r (2 * qp: the guest's RX ring, 2 * qp + 1: its TX
 * ring) is started, mapped and neither held nor broken, i.e. while a
 * burst on it can do anything at all. Written by the library's control
 * thread, read with relaxed loads: a poller that reads a stale bit skips
 * one poll of a ring that just started, or makes one call that returns 0.
 * Use it through vhu_dequeue_ring_live() / vhu_enqueue_ring_live().
 */
struct vhu_device_fastpath {
	uint64_t rings_live[VHU_MAX_QUEUE_PAIRS * 2 / 64];
};

/** @internal Whether ring may move packets (struct vhu_device_fastpath). */
static inline bool
vhu_ring_live_(const struct vhu_device *dev, uint32_t ring)
{
	const struct vhu_device_fastpath *fp =
		(const struct vhu_device_fastpath *)(const void *)dev;

	if (ring >= VHU_MAX_QUEUE_PAIRS * 2)
		return false;
	return (__atomic_load_n(&fp->rings_live[ring / 64], __ATOMIC_RELAXED) >>
		(ring % 64)) & 1;
}

/**
 * Whether vhu_dequeue_burst(dev, qp, ...) can return packets or consume
 * any: false while the guest's TX ring of qp is stopped (no front-end,
 * not started, GET_VRING_BASE), held or broken, or qp is out of range.
 * Inline, one relaxed load: a poller of many ports, most without a
 * front-end, skips the call on each of those. Optional:
 * vhu_dequeue_burst() checks again.
 * Called by: any thread; dev must be registered.
 */
static inline bool
vhu_dequeue_ring_live(const struct vhu_device *dev, uint16_t qp)
{
	return vhu_ring_live_(dev, 2u * qp + 1);
}

/**
 * Whether vhu_enqueue_burst(dev, qp, ...) can deliver anything, as
 * vhu_dequeue_ring_live() says for the guest's RX ring of qp (a started
 * but disabled ring says true here and takes nothing).
 * Called by: any thread; dev must be registered.
 */
static inline bool
vhu_enqueue_ring_live(const struct vhu_device *dev, uint16_t qp)
{
	return vhu_ring_live_(dev, 2u * qp);
}

/** What a ring is, from the seed's two independent states. */
struct vhu_ring_state {
	bool started;  /**< SET_VRING_KICK started it; GET_VRING_BASE stops it */
	bool enabled;  /**< SET_VRING_ENABLE (or SET_FEATURES w/o protocol features) */
	bool broken;   /**< the guest broke the ring's rules; no longer processed */
};

/**
 * Callbacks from the control thread. Any may be NULL. They must not
 * block for long (they delay every device's messages) and must not call
 * vhu_device_unregister() on their own device.
 */
struct vhu_device_ops {
	/**
	 * The device became ready: a front-end is connected, the memory
	 * table is set and both rings of queue pair 0 are started. Bursts
	 * can move packets from now on.
	 */
	void (*device_ready)(struct vhu_device *dev, void *ctx);
	/**
	 * A device that was reported ready no longer is: its front-end
	 * disconnected, reset it, or stopped queue pair 0. Always paired
	 * with a preceding device_ready().
	 */
	void (*device_destroyed)(struct vhu_device *dev, void *ctx);
	/** A ring's started/enabled/broken state changed. */
	void (*ring_state_changed)(struct vhu_device *dev, uint16_t ring,
			struct vhu_ring_state state, void *ctx);
	/** The front-end set the negotiated virtio features. */
	void (*features_changed)(struct vhu_device *dev, uint64_t features,
			void *ctx);
};

/** How to register a device. */
struct vhu_device_config {
	/** Unix socket path (at most 107 bytes). Copied. */
	const char *path;
	/**
	 * false: vhu listens on path (front-end connects; a stale socket
	 * file is replaced). true: vhu connects to a front-end listening on
	 * path, and reconnects with backoff (100 ms doubling to 2 s) when it
	 * is absent or goes away.
	 */
	bool client;
	/** Queue pairs offered (GET_QUEUE_NUM), 1..VHU_MAX_QUEUE_PAIRS. */
	uint16_t max_queue_pairs;
	/**
	 * Virtio feature bits the application wants offered, 0 for the
	 * default set (vhu_default_features()). Bits vhu does not
	 * implement are never offered.
	 */
	uint64_t features;
	/** Feature bits to withhold from what would be offered. */
	uint64_t features_masked;
	/** Callbacks (may be NULL). */
	const struct vhu_device_ops *ops;
	/** Passed to every callback. */
	void *ctx;
	/**
	 * NUMA node to put the device's own state (its header and ring
	 * structures, read by every burst) on at registration, or -1
	 * (SOCKET_ID_ANY) to leave it where the kernel puts it. Either way,
	 * once a front-end starts the device's lowest ring, the state moves
	 * to the node of that ring's guest memory (see
	 * vhu_device_numa_node()).
	 */
	int numa_socket;
	/**
	 * Offloads between the virtio-net header and mbuf ol_flags the
	 * application takes part in: an OR of VHU_OFFLOAD_* bits, 0 for
	 * none. The offload feature bits (GUEST_CSUM, GUEST_TSO4/6,
	 * HOST_TSO4/6) are offered only through these bits; in `features`
	 * they are ignored. `features_masked` still withholds any of them
	 * (and a TSO bit whose CSUM bit is withheld goes too).
	 * See doc/datapath.md, "Offloads".
	 */
	uint64_t offloads;
};

/**
 * @defgroup vhu_offloads Offload bits of struct vhu_device_config
 *
 * With none of them (the default), vhu offers VIRTIO_NET_F_CSUM (in the
 * default feature set) and completes the guest's partial checksums in
 * software on dequeue, so every dequeued packet is fully checksummed and
 * carries no offload flag (a GSO header is invalid input); the header
 * written into the guest on enqueue is all zero. Whatever the bits,
 * enqueue honours an mbuf's own TX offload flags, in software where the
 * guest does not take part (see vhu_enqueue_burst()).
 * @{
 */
/**
 * Dequeue: leave a guest's partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM)
 * to the application. A plain Ethernet (up to two VLAN tags) + IPv4
 * (unfragmented) or IPv6 (no extension header) + TCP or UDP packet whose
 * csum_start / csum_offset point at that TCP or UDP checksum gets
 * RTE_MBUF_F_TX_IPV4 or _IPV6, RTE_MBUF_F_TX_TCP_CKSUM or _UDP_CKSUM,
 * l2_len, l3_len and l4_len; its checksum field holds the pseudo-header
 * sum, as DPDK's TX checksum offload expects (DPDK vhost's "legacy
 * ol_flags" mode). Any other partial checksum is still completed in
 * software.
 */
#define VHU_OFFLOAD_DEQUEUE_CSUM (1ULL << 0)
/**
 * Dequeue: offer VIRTIO_NET_F_HOST_TSO4, HOST_TSO6 (and CSUM). A guest's
 * GSO packet (gso_type TCPV4 / TCPV6) becomes one large mbuf with
 * RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_IPV4 |
 * RTE_MBUF_F_TX_IP_CKSUM or RTE_MBUF_F_TX_IPV6, tso_segsz = gso_size, and
 * l2_len / l3_len / l4_len from the packet's own headers (hdr_len is only
 * a hint). The bytes are the guest's: the TCP checksum field holds the
 * pseudo-header sum including the length, the IPv4 header checksum is
 * valid; call rte_eth_tx_prepare() before a NIC's TSO, as for DPDK's
 * vhost. An invalid GSO header drops the chain (stats bad_offload).
 */
#define VHU_OFFLOAD_DEQUEUE_TSO (1ULL << 1)
/**
 * Enqueue: offer VIRTIO_NET_F_GUEST_CSUM. When the guest negotiates it,
 * an mbuf's TCP/UDP checksum request is passed to the guest
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) instead of being computed in software,
 * and an mbuf with RTE_MBUF_F_RX_L4_CKSUM_GOOD is marked
 * VIRTIO_NET_HDR_F_DATA_VALID.
 */
#define VHU_OFFLOAD_ENQUEUE_CSUM (1ULL << 2)
/**
 * Enqueue: offer VIRTIO_NET_F_GUEST_TSO4, GUEST_TSO6 (and GUEST_CSUM).
 * When the guest negotiates them, a TSO mbuf (RTE_MBUF_F_TX_TCP_SEG)
 * goes to the guest as one large packet with a GSO header (into
 * mergeable buffers, or 64 KiB buffers without MRG_RXBUF).
 */
#define VHU_OFFLOAD_ENQUEUE_TSO (1ULL << 3)
/**
 * Dequeue: say what VHU_OFFLOAD_DEQUEUE_CSUM and VHU_OFFLOAD_DEQUEUE_TSO
 * leave to the application with RX flags, as DPDK vhost's compliant mode
 * (net_vhost's legacy-ol-flags=0) does, instead of TX flags. A kept
 * partial checksum gets RTE_MBUF_F_RX_L4_CKSUM_NONE (the field holds the
 * pseudo-header sum; vhu_mbuf_complete_rx_cksum() completes it); a GSO
 * packet gets RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE and
 * tso_segsz = gso_size. Both also get packet_type (L2_ETHER[_VLAN|_QINQ],
 * L3_IPV4[_EXT] or L3_IPV6, L4_TCP or L4_UDP) and l2_len / l3_len /
 * l4_len. No TX flag is set. Changes nothing without one of the two.
 */
#define VHU_OFFLOAD_DEQUEUE_RX_FLAGS (1ULL << 4)
/** Every VHU_OFFLOAD_* bit. */
#define VHU_OFFLOAD_ALL (VHU_OFFLOAD_DEQUEUE_CSUM | VHU_OFFLOAD_DEQUEUE_TSO | \
		VHU_OFFLOAD_ENQUEUE_CSUM | VHU_OFFLOAD_ENQUEUE_TSO | \
		VHU_OFFLOAD_DEQUEUE_RX_FLAGS)
/** @} */

/**
 * The virtio feature bits vhu implements and offers by default.
 * @return a bit mask of VIRTIO_F_*, VIRTIO_NET_F_*, VIRTIO_RING_F_* and
 *   VHOST_F_* bits.
 */
uint64_t vhu_default_features(void);

/**
 * Register a device. Nothing is listened on or connected to until
 * vhu_device_start(). Starts the control thread on first use.
 * Must be called after rte_eal_init().
 * @param cfg
 *   The configuration; copied.
 * @param[out] dev
 *   The new device.
 * @return
 *   0 on success; -EINVAL for a bad configuration (path empty or too
 *   long, queue pairs out of range); -EEXIST if the path is already
 *   registered; -ENOMEM; -errno if the control thread cannot start.
 */
int vhu_device_register(const struct vhu_device_config *cfg,
		struct vhu_device **dev);

/**
 * Start a registered device: listen on its socket (server) or begin
 * connecting to it (client). Returns once the socket is listening or the
 * first connection attempt was made.
 * @return
 *   0; -EALREADY if started; -errno if the socket cannot be created,
 *   bound or listened on (server mode).
 */
int vhu_device_start(struct vhu_device *dev);

/**
 * Unregister a device: close its socket(s), disconnect any front-end
 * (stopping its rings and unmapping its memory once no burst runs on
 * them), remove the socket file it created, and free it. Safe while a
 * front-end is connected. device_destroyed() is called first if the
 * device was ready.
 * The caller must have stopped calling bursts on this device, and must
 * not call this from one of the device's own callbacks. When it was the
 * last device, the control thread ends (joined before this returns); the
 * next vhu_device_register() starts a new one.
 * @return 0; -EINVAL if dev is NULL.
 */
int vhu_device_unregister(struct vhu_device *dev);

/** @return the device's socket path (valid until unregister). */
const char *vhu_device_path(const struct vhu_device *dev);

/**
 * @return the virtio features negotiated with the current front-end (0
 *   when none is connected or it has not sent SET_FEATURES yet).
 */
uint64_t vhu_device_features(const struct vhu_device *dev);

/**
 * @return the number of queue pairs in use: the highest queue pair with
 *   a started ring, plus one (0 when none has started).
 */
uint16_t vhu_device_queue_pairs(const struct vhu_device *dev);

/** @return the MTU the front-end set with NET_SET_MTU, or 0. */
uint16_t vhu_device_mtu(const struct vhu_device *dev);

/** @return true if a front-end is connected to the device. */
bool vhu_device_connected(const struct vhu_device *dev);

/** @return true between device_ready() and device_destroyed(). */
bool vhu_device_ready(const struct vhu_device *dev);

/**
 * The NUMA node the device's own state is on: the node of its lowest
 * started ring's guest memory once a front-end started one (vhu moves
 * the state there when that ring starts, before ring_state_changed() and
 * device_ready() are called), else the numa_socket it was registered
 * with. Applications place a port's mbufs and polling lcore by it, as
 * they do with DPDK vhost's rte_vhost_get_numa_node(). Any thread.
 * @return the node; -1 when unknown (no NUMA support in the kernel, or
 *   the move was refused: see the numa_move_failures counter).
 */
int vhu_device_numa_node(const struct vhu_device *dev);

/**
 * The NUMA node of the guest memory holding a ring's descriptors, found
 * when the ring last started. Any thread.
 * @return the node; -1 when unknown or the ring never started, or
 *   ring >= 2 * max_queue_pairs.
 */
int vhu_device_ring_numa_node(const struct vhu_device *dev, uint16_t ring);

/**
 * A ring's current state.
 * @param ring
 *   Ring index (2 * queue pair for the guest's RX ring, + 1 for TX).
 * @return 0; -EINVAL if ring >= 2 * max_queue_pairs.
 */
int vhu_device_ring_state(const struct vhu_device *dev, uint16_t ring,
		struct vhu_ring_state *state);

/** Per-ring counters. Datapath counters are written by the polling lcore. */
struct vhu_ring_stats {
	uint64_t packets;         /**< packets moved (enqueued or dequeued) */
	uint64_t bytes;           /**< their bytes, without virtio-net header */
	uint64_t drop_full;       /**< enqueue: no guest buffer (ring full) */
	uint64_t drop_disabled;   /**< dequeue: consumed and dropped while disabled */
	uint64_t drop_bad_desc;   /**< chains consumed and dropped as invalid */
	uint64_t nombuf;          /**< dequeue: mbuf allocation failed (left in ring or dropped) */
	uint64_t drop_too_big;    /**< enqueue: packet larger than the buffers */
	uint64_t notifications;   /**< call eventfd writes */
	uint64_t starts;          /**< stopped → started transitions */
	uint64_t stops;           /**< started → stopped transitions */
	uint64_t enables;         /**< disabled → enabled transitions */
	uint64_t disables;        /**< enabled → disabled transitions */
	uint64_t broken;          /**< times the ring was marked broken */
	/**
	 * Dequeue: chains dropped because their virtio-net header asked for
	 * an offload wrongly (bad csum_start/csum_offset, GSO type not
	 * negotiated, gso_size 0, ECN, GSO without NEEDS_CSUM, headers that
	 * do not match the GSO type). Also counted in drop_bad_desc.
	 */
	uint64_t bad_offload;
	/**
	 * Enqueue: packets dropped because the offload their mbuf asks for
	 * cannot be done: TSO the guest did not negotiate (software
	 * segmentation is not done), UDP segmentation, SCTP checksum,
	 * tunnel / outer checksums, or l2_len / l3_len / l4_len / IP lengths
	 * outside the packet.
	 */
	uint64_t drop_offload;
};

/**
 * Read a ring's counters. Values are read without synchronisation and
 * may lag a burst in progress.
 * @return 0; -EINVAL if ring is out of range.
 */
int vhu_device_ring_stats(const struct vhu_device *dev, uint16_t ring,
		struct vhu_ring_stats *stats);

/** Per-device counters of the control plane. */
struct vhu_device_stats {
	uint64_t connections;     /**< front-ends accepted or connected */
	uint64_t disconnections;
	uint64_t messages;        /**< requests handled */
	uint64_t messages_failed; /**< requests rejected (nacked where asked) */
	uint64_t mem_table_updates;
	uint64_t quiesce_timeouts; /**< bursts that did not finish in time */
	/** Moves of the device's state to a NUMA node that the kernel
	 * refused (the device keeps working where it is). */
	uint64_t numa_move_failures;
	/** Front-ends disconnected because their guest memory or dirty
	 * log shrank under vhu's mapping (a SIGBUS caught and patched
	 * over with zero pages, instead of killing the process). */
	uint64_t memory_faults;
};

/** Read the device's control-plane counters. @return 0. */
int vhu_device_stats(const struct vhu_device *dev,
		struct vhu_device_stats *stats);

/**
 * Enqueue packets into the guest: copy up to count mbufs into the guest's
 * RX ring of queue pair qp.
 *
 * Ownership: the mbufs are never freed, kept or modified by vhu; the
 * caller frees all of them afterwards (sent or not), as with DPDK's
 * rte_vhost.
 *
 * Offload flags of an mbuf (DPDK's TX conventions: l2_len, l3_len,
 * l4_len, tso_segsz set) are honoured in the guest's copy:
 *  - RTE_MBUF_F_TX_IP_CKSUM: the IPv4 header checksum is computed;
 *  - RTE_MBUF_F_TX_TCP_CKSUM / _UDP_CKSUM: with GUEST_CSUM negotiated the
 *    header says NEEDS_CSUM (csum_start = l2_len + l3_len) and the field
 *    holds the pseudo-header sum; otherwise the checksum is computed;
 *  - RTE_MBUF_F_TX_TCP_SEG: with GUEST_TSO4/6 negotiated, a GSO header
 *    (gso_size = tso_segsz, hdr_len = l2_len + l3_len + l4_len); a packet
 *    whose payload fits in one segment is sent as a plain TCP packet
 *    with its checksum (as above); otherwise it is dropped and counted
 *    (drop_offload).
 * Other offload requests (UDP segmentation, SCTP, tunnels) are dropped
 * and counted (drop_offload). See doc/datapath.md, "Offloads".
 * Called by: the one thread polling this ring; never blocks.
 * @return the number of packets copied into the guest (the first ones of
 *   pkts); 0 when the ring is stopped, disabled, broken, full, or qp is
 *   out of range.
 */
uint16_t vhu_enqueue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mbuf **pkts, uint16_t count);

/**
 * Dequeue packets from the guest: take up to count packets from the
 * guest's TX ring of queue pair qp into mbufs allocated from mp. One
 * call takes at most 64 of the guest's packets; call again for more.
 *
 * Ownership: the returned mbufs belong to the caller.
 * Offloads: an mbuf carries offload flags (TX flags, or RX flags with
 * VHU_OFFLOAD_DEQUEUE_RX_FLAGS) only as the device's VHU_OFFLOAD_DEQUEUE_*
 * bits say; otherwise it is complete (checksums done) and its ol_flags
 * are 0.
 * Called by: the one thread polling this ring; never blocks.
 * @return the number of mbufs stored in pkts; 0 when the ring is
 *   stopped, broken, empty, or qp is out of range. A started but disabled
 *   ring has its packets consumed and dropped (counted) and returns 0.
 */
uint16_t vhu_dequeue_burst(struct vhu_device *dev, uint16_t qp,
		struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t count);

/**
 * Complete the TCP or UDP checksum that a dequeued mbuf left to the
 * application (VHU_OFFLOAD_DEQUEUE_RX_FLAGS: RTE_MBUF_F_RX_L4_CKSUM_NONE)
 * in software, and mark it RTE_MBUF_F_RX_L4_CKSUM_GOOD; what net_vhost
 * does for an application that did not enable RX checksum offload. The
 * checksum covers everything from l2_len + l3_len to the packet's end
 * (also for an RX_LRO packet, which stays one packet).
 * Called by: any thread that owns m; per packet, no lock.
 * @return 0 when done, or when m has no RX_L4_CKSUM_NONE (unchanged);
 *   -EINVAL if its lengths and packet_type do not place a TCP or UDP
 *   checksum field inside the packet (unchanged).
 */
int vhu_mbuf_complete_rx_cksum(struct rte_mbuf *m);

#ifdef __cplusplus
}
#endif

#endif /* VHU_H */

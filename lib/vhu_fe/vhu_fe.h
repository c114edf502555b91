/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu_fe: a vhost-user FRONT-END for tests, playing the part QEMU or DPDK's
 * virtio-user play: it owns guest memory (memfd), talks vhost-user over a
 * unix socket and drives split or packed virtqueues from the guest (driver)
 * side.
 * Every unit test of lib/vhu drives the back-end through it, and it also
 * drives DPDK's own back-end (net_vhost) end to end.
 *
 * Layers, each usable on its own:
 *   guest memory  vhu_fe_mem_*    memfd regions, bump allocator, GPA <-> pointer
 *   socket        vhu_fe_sock_*   connect / listen / accept with timeouts
 *   messages      vhu_fe_msg_*    one vhost-user message with SCM_RIGHTS fds
 *   virtqueue     vhu_fe_vring_*  split or packed ring, driver side, plus
 *                                 raw access
 *   device        vhu_fe_*        negotiation, ring control, net TX / RX
 *
 * Conventions
 * - Functions returning int return 0 (or a count) on success and a
 *   negative errno on failure: -ETIMEDOUT (no answer within the timeout),
 *   -ECONNRESET / -EPIPE (peer closed), -EPROTO (the peer broke the
 *   protocol: bad reply, bad used ring entry), -EREMOTEIO (the back-end
 *   answered a REPLY_ACK with a non-zero value), -EINVAL (bad argument),
 *   -ENOSPC (ring full), -ENOMEM, or what the failing syscall set.
 *   Every failure is also logged on stderr, prefixed "vhu_fe: ".
 *   vhu_fe_set_log_stream() sends these messages elsewhere or nowhere.
 * - Nothing blocks forever: every socket wait uses poll() with a timeout.
 *   SIGPIPE is never raised (MSG_NOSIGNAL).
 * - Threads: every object (vhu_fe, vhu_fe_mem, vhu_fe_vring) is
 *   single-threaded: call its functions from one thread at a time.
 *   Distinct objects are independent.
 * - Byte order: virtio structures are written in host order; the library
 *   refuses to build on big-endian hosts (VERSION_1 is little-endian).
 */
#ifndef VHU_FE_H
#define VHU_FE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vhu_wire.h"

/* Where every failure is logged, for the whole process: stderr by
 * default, NULL for nowhere (a tool that reports failures its own way).
 * Call before using the library from other threads. */
void vhu_fe_set_log_stream(FILE *stream);

/* ------------------------------------------------------------------ */
/* Guest memory                                                        */
/* ------------------------------------------------------------------ */

#define VHU_FE_MAX_REGIONS VHU_WIRE_MAX_TABLE_REGIONS
#define VHU_FE_BAD_GPA UINT64_MAX

struct vhu_fe_mem;

struct vhu_fe_mem_config {
	unsigned int nregions;      /* 1..VHU_FE_MAX_REGIONS */
	/* Bytes per region, multiple of the page size (huge page size with
	 * hugetlb). vhu_fe_create() replaces 0 by what its rings need. */
	uint64_t region_size[VHU_FE_MAX_REGIONS];
	uint64_t gpa_base;          /* guest-physical address of region 0 */
	uint64_t gpa_gap;           /* unmapped GPA bytes between regions */
	bool hugetlb;               /* memfd with MFD_HUGETLB */
	/* All regions in one memfd, each at its own non-zero mmap_offset (a
	 * page of padding before each), instead of one memfd per region
	 * with mmap_offset 0. */
	bool share_fd;
};

/* One region as the back-end sees it (SET_MEM_TABLE / ADD_MEM_REG). */
struct vhu_fe_region {
	int fd;                 /* owned by the vhu_fe_mem object */
	uint64_t gpa;           /* guest_phys_addr */
	uint64_t size;          /* memory_size */
	uint64_t mmap_offset;   /* where the region starts inside fd */
	void *hva;              /* the front-end's own mapping = userspace_addr */
};

/* Defaults: 1 region of 0 bytes (auto), gpa_base 0, gpa_gap 64 MiB. */
void vhu_fe_mem_config_default(struct vhu_fe_mem_config *cfg);

/* Create and map guest memory. Returns 0 and *out, or negative errno
 * (-EINVAL bad config; -ENOMEM / -ENOSYS hugetlb unavailable: no fallback,
 * the message says so). */
int vhu_fe_mem_create(const struct vhu_fe_mem_config *cfg,
		      struct vhu_fe_mem **out);

/* Unmap every region and close every fd. NULL is ignored. */
void vhu_fe_mem_destroy(struct vhu_fe_mem *mem);

unsigned int vhu_fe_mem_nregions(const struct vhu_fe_mem *mem);

/* Region i (0-based), or NULL when i is out of range. */
const struct vhu_fe_region *vhu_fe_mem_region(const struct vhu_fe_mem *mem,
					      unsigned int i);

/* Page size the regions are built from (4 KiB, or the huge page size). */
uint64_t vhu_fe_mem_page_size(const struct vhu_fe_mem *mem);

/* Bump allocator. Allocations rotate over the regions (the next one
 * starts in the region after the previous one's), so consecutive objects
 * land in different regions. align must be a power of two. Returns the
 * front-end pointer, zero-filled, or NULL (logged) when no region has room.
 * Memory is returned only by vhu_fe_mem_destroy(). */
void *vhu_fe_mem_alloc(struct vhu_fe_mem *mem, size_t size, size_t align);

/* The same, in region `region` only. */
void *vhu_fe_mem_alloc_in(struct vhu_fe_mem *mem, unsigned int region,
			  size_t size, size_t align);

/* Bytes still free in region `region` (0 when out of range). */
uint64_t vhu_fe_mem_free_bytes(const struct vhu_fe_mem *mem,
			       unsigned int region);

/* GPA of front-end pointer p when [p, p+len) lies inside one region,
 * else VHU_FE_BAD_GPA. */
uint64_t vhu_fe_mem_to_gpa(const struct vhu_fe_mem *mem, const void *p,
			   size_t len);

/* Front-end pointer for [gpa, gpa+len) when it lies inside one region,
 * else NULL. */
void *vhu_fe_mem_from_gpa(const struct vhu_fe_mem *mem, uint64_t gpa,
			  size_t len);

/* A region of its own, outside any vhu_fe_mem (for ADD_MEM_REG /
 * REM_MEM_REG tests): size bytes of a new memfd, mapped, at guest address
 * gpa. Returns 0 and *r, or negative errno (-EINVAL: size 0 or the range
 * wraps; logged) with r->fd = -1. */
int vhu_fe_region_create(uint64_t gpa, uint64_t size, struct vhu_fe_region *r);

/* Unmap and close a region from vhu_fe_region_create() (fd -1 after;
 * one with fd -1 is ignored). */
void vhu_fe_region_destroy(struct vhu_fe_region *r);

/* The wire form of a region (userspace_addr = hva). */
void vhu_fe_region_to_wire(const struct vhu_fe_region *r,
			   struct vhu_wire_mem_region *w);

/* ------------------------------------------------------------------ */
/* Socket                                                              */
/* ------------------------------------------------------------------ */

/* Connect to a back-end listening on `path`, retrying while the socket
 * does not exist yet or refuses, until timeout_ms. Returns the connected
 * non-blocking socket fd or negative errno (-ETIMEDOUT, -ENAMETOOLONG). */
int vhu_fe_sock_connect(const char *path, int timeout_ms);

/* Listen on `path` (a stale socket file there is removed first). Returns
 * the listening fd or negative errno. */
int vhu_fe_sock_listen(const char *path);

/* Accept one connection within timeout_ms. Returns the connected
 * non-blocking socket fd or negative errno (-ETIMEDOUT). */
int vhu_fe_sock_accept(int listen_fd, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

#define VHU_FE_MSG_MAX_PAYLOAD 4096u
/* Most fds one send may carry (more than a valid message, for tests). */
#define VHU_FE_MSG_MAX_SEND_FDS 32u

/* One received message. */
struct vhu_fe_msg {
	struct vhu_wire_header hdr;
	uint8_t payload[VHU_FE_MSG_MAX_PAYLOAD];
	uint32_t len;                  /* payload bytes stored */
	int fds[VHU_WIRE_MAX_FDS];     /* received fds, owned by the caller */
	unsigned int nfds;
};

/* Send `len` (> 0) bytes exactly as given (header and payload,
 * well-formed or not) with nfds (0..VHU_FE_MSG_MAX_SEND_FDS) fds as
 * SCM_RIGHTS on the first byte. Returns 0 or negative errno (-EPIPE / -ECONNRESET peer closed,
 * -ETIMEDOUT socket full). The fds stay owned by the caller. */
int vhu_fe_msg_send_bytes(int sock, const void *bytes, size_t len,
			  const int *fds, unsigned int nfds, int timeout_ms);

/* Build header {request, flags, size} + payload (size <=
 * VHU_FE_MSG_MAX_PAYLOAD) and send it. */
int vhu_fe_msg_send(int sock, uint32_t request, uint32_t flags,
		    const void *payload, uint32_t size,
		    const int *fds, unsigned int nfds, int timeout_ms);

/* Receive one message: the 12-byte header, then hdr.size payload bytes,
 * with any fds. Returns 0, or -ETIMEDOUT (nothing, or not all of it, within
 * timeout_ms), -ECONNRESET (peer closed; also mid-message), -EMSGSIZE
 * (hdr.size > VHU_FE_MSG_MAX_PAYLOAD: the payload was read and dropped,
 * len = 0, so the stream stays in step). Surplus fds beyond
 * VHU_WIRE_MAX_FDS are closed. On error no fd is left open. */
int vhu_fe_msg_recv(int sock, struct vhu_fe_msg *msg, int timeout_ms);

/* Close msg's fds (nfds becomes 0). */
void vhu_fe_msg_close_fds(struct vhu_fe_msg *msg);

/* Human-readable request name ("SET_MEM_TABLE"), "UNKNOWN" otherwise. */
const char *vhu_fe_req_name(uint32_t request);

/* ------------------------------------------------------------------ */
/* Virtqueue (split or packed), driver side                            */
/* ------------------------------------------------------------------ */

#define VHU_FE_MAX_QUEUE_SIZE 32768u
#define VHU_FE_MAX_SEGS 16u        /* longest chain / indirect table */

struct vhu_fe_vring;

/* One buffer of a chain, in guest-physical terms. */
struct vhu_fe_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;    /* device-writable (VRING_DESC_F_WRITE) */
};

/* Raw view of a ring for hostile tests: write anything through these
 * pointers.
 * Split ring: desc / avail / used; avail_idx is the next index the driver
 * will publish, last_used the next used entry it will read.
 * Packed ring (packed true; desc / avail / used are NULL): pdesc is the
 * descriptor ring, driver_event the driver event suppression area (what
 * SET_VRING_ADDR carries as avail_user_addr), device_event the device's
 * (used_user_addr); desc_gpa / avail_gpa / used_gpa are their GPAs.
 * avail_idx / avail_wrap are the slot the next chain goes to and its wrap
 * counter, last_used / used_wrap the slot where the driver expects the
 * next used descriptor and its wrap counter. */
struct vhu_fe_vring_raw {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t num;
	uint16_t avail_idx;
	uint16_t last_used;
	bool packed;
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *driver_event;
	struct vring_packed_desc_event *device_event;
	bool avail_wrap;
	bool used_wrap;
};

/* Allocate a split ring of `num` entries (power of two, 1..32768) in guest
 * memory: descriptor table, avail ring (with used_event) and used ring
 * (with avail_event), plus, when with_indirect, one indirect table of
 * VHU_FE_MAX_SEGS descriptors per entry. Returns 0 and *out, or negative
 * errno (-EINVAL, -ENOMEM when guest memory is too small). */
int vhu_fe_vring_create(struct vhu_fe_mem *mem, unsigned int num,
			bool with_indirect, struct vhu_fe_vring **out);

/* The same for a packed ring (VIRTIO_F_RING_PACKED) of `num` entries, any
 * size in 1..32768: descriptor ring (num * 16 bytes), driver and device
 * event suppression areas (4 bytes each), and with_indirect one indirect
 * table of VHU_FE_MAX_SEGS descriptors per buffer id. Both wrap counters
 * start at 1. Every vhu_fe_vring_* function works on either format; the
 * differences are noted where they matter. */
int vhu_fe_vring_create_packed(struct vhu_fe_mem *mem, unsigned int num,
			       bool with_indirect, struct vhu_fe_vring **out);

/* True for a ring made by vhu_fe_vring_create_packed(). */
bool vhu_fe_vring_is_packed(const struct vhu_fe_vring *vr);

/* Free the host-side state (guest memory stays allocated). NULL ignored. */
void vhu_fe_vring_destroy(struct vhu_fe_vring *vr);

/* Forget everything in flight, zero the ring memory, indices back to 0
 * (packed: wrap counters back to 1) (a guest driver re-initialising the
 * queue). */
void vhu_fe_vring_reset(struct vhu_fe_vring *vr);

/* Put one chain of nsegs (1..VHU_FE_MAX_SEGS) buffers on the avail ring,
 * not yet visible: call vhu_fe_vring_publish(). With `indirect`, one ring
 * descriptor points at the entry's indirect table holding the chain
 * (needs with_indirect). Returns the head descriptor index (>= 0), or
 * -ENOSPC (not enough free descriptors), -EINVAL.
 * Packed: the chain takes the next consecutive slots (wrapping), every
 * descriptor carries a free buffer id (0..num-1), which is what this
 * returns and what get_used gives back; all but the head get their flags
 * now, the head's flags are stored by publish. An indirect chain takes
 * one slot; its table has no NEXT flags (packed tables are read in
 * order). */
int vhu_fe_vring_add(struct vhu_fe_vring *vr, const struct vhu_fe_seg *segs,
		     unsigned int nsegs, bool indirect);

/* Make every added chain visible: release-store avail->idx. Returns true
 * when the device asked to be notified (VRING_USED_F_NO_NOTIFY clear,
 * read after a full fence) and something was published.
 * EVENT_IDX is not implemented on this side: used_event stays 0 and kicks
 * follow NO_NOTIFY only (harmless extra kicks if it is negotiated).
 * Packed: store the pending heads' flags, in ring order, each with
 * release; kick unless the device event flags (read after a full fence)
 * say DISABLE (DESC counts as enable). */
bool vhu_fe_vring_publish(struct vhu_fe_vring *vr);

/* Used entries waiting (acquire-load of used->idx), or -EPROTO when the
 * device claims more than are in flight. Packed: the used descriptors
 * from the next used slot on (each buffer of an in-order batch counts),
 * or -EPROTO when one of them is bad or there are more than in flight. */
int vhu_fe_vring_used_pending(struct vhu_fe_vring *vr);

/* Read the used entry `off` places after the next one without consuming
 * it. Returns 0, -ENOENT (not there yet) or -EPROTO (id out of range or
 * not in flight). */
int vhu_fe_vring_peek_used(struct vhu_fe_vring *vr, unsigned int off,
			   uint16_t *id, uint32_t *len);

/* Consume the next used entry and free its descriptors. Returns 1 with
 * id and len set, 0 when none, -EPROTO (see peek).
 * Packed: a used descriptor is there when its AVAIL and USED bits both
 * equal the driver's used wrap counter; consuming it moves the used slot
 * on by the number of slots its buffer took (1 for indirect) and frees
 * the id. With in-order (vhu_fe_vring_set_in_order) one used descriptor
 * may return a batch: every buffer made available up to the one whose id
 * it carries. They come back one by one, in order; the last one with the
 * device's len, the others with len 0. */
int vhu_fe_vring_get_used(struct vhu_fe_vring *vr, uint16_t *id,
			  uint32_t *len);

/* Packed rings: accept in-order batches (VIRTIO_F_IN_ORDER negotiated).
 * The device sets it on its TX rings only: RX buffers each need their own
 * len. Split rings ignore it (one used entry per buffer). */
void vhu_fe_vring_set_in_order(struct vhu_fe_vring *vr, bool on);

unsigned int vhu_fe_vring_num(const struct vhu_fe_vring *vr);
/* Free descriptors (packed: free ring slots). */
unsigned int vhu_fe_vring_num_free(const struct vhu_fe_vring *vr);
/* Chains added and not yet returned by get_used (raw pushes included). */
unsigned int vhu_fe_vring_inflight(const struct vhu_fe_vring *vr);

/* Ask for (true) or suppress (false) used-buffer notifications
 * (VRING_AVAIL_F_NO_INTERRUPT; packed: driver event flags ENABLE or
 * DISABLE). */
void vhu_fe_vring_set_interrupts(struct vhu_fe_vring *vr, bool on);

/* Addresses and indices, for raw access. */
void vhu_fe_vring_get_raw(const struct vhu_fe_vring *vr,
			  struct vhu_fe_vring_raw *raw);

/* Hostile tests: append `head` to the avail ring as it is (whatever the
 * descriptor table says) and publish it. The entry counts as in flight
 * until a used entry with that id comes back (then get_used returns it
 * and frees nothing). Returns 0, -EINVAL (head >= num, or a packed ring)
 * or -EOVERFLOW. */
int vhu_fe_vring_push_raw(struct vhu_fe_vring *vr, uint16_t head);

/* Hostile tests, packed rings: write the n descriptors as given (addr,
 * len, id, flags) at the next n slots, except that their AVAIL/USED bits
 * are set for the current wrap counter, and publish them (first flags
 * last, after any chain added before). The descriptors form buffers as
 * the device will see them: each ends at one without NEXT, or at the
 * last, and is named by the id of its last descriptor. Each counts as in
 * flight (holding its slots) until a used descriptor with its id comes
 * back; get_used then returns it and frees no id. Returns 0, -ENOSPC
 * (fewer than n free slots), -EINVAL (split ring, n == 0, an id >= num). */
int vhu_fe_vring_push_raw_packed(struct vhu_fe_vring *vr,
				 const struct vring_packed_desc *descs,
				 unsigned int n);

/* The 32-bit SET_VRING_BASE / GET_VRING_BASE value of a packed ring
 * (vhost-user "Vring descriptor indices for packed virtqueues"): bits
 * 0-14 next avail index, 15 avail wrap counter, 16-30 used index, 31 used
 * wrap counter. A fresh ring's is VHU_FE_PACKED_BASE_FRESH. */
struct vhu_fe_packed_base {
	uint16_t avail_idx;
	bool avail_wrap;
	uint16_t used_idx;
	bool used_wrap;
};

#define VHU_FE_PACKED_BASE_FRESH 0x80008000u

/* Pack b into the wire value (indices masked to 15 bits). */
uint32_t vhu_fe_packed_base_encode(const struct vhu_fe_packed_base *b);

/* Unpack a wire value. */
void vhu_fe_packed_base_decode(uint32_t v, struct vhu_fe_packed_base *b);

/* ------------------------------------------------------------------ */
/* The front-end device                                                */
/* ------------------------------------------------------------------ */

#define VHU_FE_MAX_QUEUE_PAIRS 128u /* as lib/vhu, net_vhost and QEMU's vhost-user */

struct vhu_fe;

enum vhu_fe_tx_layout {
	VHU_FE_TX_ONE,        /* header and frame in one descriptor */
	VHU_FE_TX_HDR_SPLIT,  /* header descriptor -> frame descriptor */
	VHU_FE_TX_CHAIN,      /* header descriptor -> frame in `segs` pieces */
	VHU_FE_TX_INDIRECT,   /* one INDIRECT descriptor -> table as CHAIN */
};

enum vhu_fe_rx_layout {
	VHU_FE_RX_ONE,        /* one writable descriptor per buffer */
	VHU_FE_RX_HDR_SPLIT,  /* header-sized descriptor -> rest of buffer */
};

struct vhu_fe_config {
	const char *path;          /* socket path (copied) */
	bool listen;               /* we listen, the back-end connects (its client mode) */
	int timeout_ms;            /* every socket wait; default 5000 */
	unsigned int queue_pairs;  /* 1..VHU_FE_MAX_QUEUE_PAIRS; default 1 */
	/* Power of two (any size with packed), 1..32768; default 256. */
	unsigned int queue_size;
	/* Wanted virtio features; SET_FEATURES sends wanted & offered.
	 * Default VERSION_1 | MRG_RXBUF | PROTOCOL_FEATURES. Leave
	 * RING_PACKED out: `packed` adds it (vhu_fe_create() refuses it
	 * without). With IN_ORDER negotiated the TX rings accept in-order
	 * batches. */
	uint64_t features;
	/* Wanted protocol features; default MQ | REPLY_ACK | RARP | MTU |
	 * RESET_DEVICE | CONFIGURE_MEM_SLOTS | STATUS. */
	uint64_t protocol_features;
	struct vhu_fe_mem_config mem;
	uint32_t tx_buf_size;      /* per TX entry, header included; default 2048 */
	uint32_t rx_buf_size;      /* per RX buffer, header included; default 2048 */
	enum vhu_fe_tx_layout tx_layout;  /* default VHU_FE_TX_ONE */
	unsigned int tx_segs;      /* frame pieces for CHAIN/INDIRECT; default 4 */
	enum vhu_fe_rx_layout rx_layout;  /* default VHU_FE_RX_ONE */
	/* Write the kick eventfd once after SET_VRING_KICK (the ring-states
	 * RFC: front-ends SHOULD, for back-ends that start on kick).
	 * Default true. */
	bool inject_kick;
	/* Kick after publishing unless the device set NO_NOTIFY. Default true. */
	bool notify;
	/* Ask for used-buffer notifications (clear NO_INTERRUPT). Default false. */
	bool interrupts;
	/* vhu_fe_setup() fills the RX rings before starting them. Default true. */
	bool rx_prefill;
	/* vhu_fe_setup() sends the regions with ADD_MEM_REG (as QEMU does)
	 * instead of SET_MEM_TABLE when CONFIGURE_MEM_SLOTS was negotiated. */
	bool mem_add_reg;
	/* Set NEED_REPLY on every request without an explicit reply even when
	 * REPLY_ACK was not negotiated. Default false. */
	bool always_need_reply;
	/* vhu_fe_setup(): when STATUS is negotiated, set ACKNOWLEDGE|DRIVER,
	 * then FEATURES_OK, then DRIVER_OK (DPDK's back-end waits for it).
	 * Default true. */
	bool set_status;
	/* Packed virtqueues: ask for VIRTIO_F_RING_PACKED (vhu_fe_setup()
	 * fails with -EOPNOTSUPP when the back-end does not offer it) and
	 * drive every ring in the packed format. Default false (split). */
	bool packed;
};

/* What the device counted. */
struct vhu_fe_stats {
	uint64_t tx_packets;       /* posted */
	uint64_t tx_bytes;         /* frame bytes posted (no header) */
	uint64_t tx_completed;     /* returned by the back-end */
	uint64_t rx_packets;       /* delivered to the callback */
	uint64_t rx_bytes;         /* frame bytes delivered (no header) */
	uint64_t rx_buffers;       /* used RX entries consumed */
	/* Packets whose header broke a virtio-net device rule without being
	 * unusable: num_buffers != 1 without MRG_RXBUF, flags / gso_type
	 * set without the feature, a merged buffer not filled before the
	 * next one was used. Logged once. */
	uint64_t rx_violations;
};

/* Fill cfg with the defaults listed above (path NULL). */
void vhu_fe_config_default(struct vhu_fe_config *cfg);

/* Create the device: guest memory (region sizes 0 become what the rings
 * and buffers need), rings, buffers, kick/call eventfds. Does not touch
 * the socket. Returns 0 and *out or negative errno. */
int vhu_fe_create(const struct vhu_fe_config *cfg, struct vhu_fe **out);

/* Close the connection, listening socket (and its file), eventfds; unmap
 * memory; free everything. NULL ignored. */
void vhu_fe_destroy(struct vhu_fe *fe);

/* Connect to cfg.path (retrying until timeout_ms), or with cfg.listen
 * listen there (once; kept for later calls) and accept one back-end.
 * Returns 0 or negative errno (-EISCONN if already connected). */
int vhu_fe_connect(struct vhu_fe *fe);

/* Use an already connected socket (e.g. one end of a socketpair); fe owns
 * it from now on. Returns 0 or -EISCONN / -EINVAL. */
int vhu_fe_attach(struct vhu_fe *fe, int sock);

/* Close the connection (a front-end that quits or crashes). Negotiated
 * state is forgotten; ring memory and what is in flight are kept, and a
 * ring that was running will restart at SET_VRING_BASE = used->idx (what
 * QEMU does when a back-end went away without GET_VRING_BASE). Packed:
 * avail and used index both at the slot after the last used descriptor
 * the device wrote, with its wrap counter. */
void vhu_fe_disconnect(struct vhu_fe *fe);

/* The connected socket, or -1. */
int vhu_fe_sock_fd(const struct vhu_fe *fe);

/* Non-blocking: 1 when the back-end closed the connection (or none is
 * open), 0 when it is open and nothing unexpected arrived, -EPROTO when
 * the back-end sent an unsolicited message. */
int vhu_fe_peer_closed(struct vhu_fe *fe);

/* Change cfg.inject_kick and cfg.notify of a created device: whether
 * SET_VRING_KICK is followed by a kick, and whether publishing kicks.
 * Takes effect at the next request or publish. */
void vhu_fe_set_kick_policy(struct vhu_fe *fe, bool inject_kick, bool notify);

/* The whole start-up sequence QEMU / virtio-user send:
 * SET_OWNER, GET_FEATURES, [GET/SET_PROTOCOL_FEATURES], [GET_QUEUE_NUM],
 * [SET_STATUS ACK|DRIVER], SET_FEATURES, [SET_STATUS +FEATURES_OK],
 * SET_MEM_TABLE (or ADD_MEM_REG each), RX prefill, then per ring
 * (vhu_fe_start_ring), [SET_STATUS +DRIVER_OK]. Returns 0 or the first
 * error (-EOPNOTSUPP when the back-end lacks something required, e.g.
 * MQ for queue_pairs > 1 or fewer queues than wanted, or RING_PACKED
 * with cfg.packed: then nothing follows GET_FEATURES). */
int vhu_fe_setup(struct vhu_fe *fe);

/* Start one ring: SET_VRING_NUM, SET_VRING_BASE (the ring's base: 0, or
 * VHU_FE_PACKED_BASE_FRESH, or what the last GET_VRING_BASE returned),
 * SET_VRING_ADDR, SET_VRING_CALL,
 * SET_VRING_KICK (+ injected kick), and SET_VRING_ENABLE 1 when protocol
 * features are negotiated. */
int vhu_fe_start_ring(struct vhu_fe *fe, unsigned int ring);

/* Stop every started ring with GET_VRING_BASE (QEMU's order on quit). */
int vhu_fe_stop(struct vhu_fe *fe);

/* Re-initialise ring `ring` as a reloading guest driver does: forget what
 * is in flight, zero its memory, next start sends SET_VRING_BASE 0
 * (packed: VHU_FE_PACKED_BASE_FRESH). Only while the ring is stopped
 * (-EBUSY otherwise). */
int vhu_fe_ring_reset(struct vhu_fe *fe, unsigned int ring);

/* Individual requests. Each sets NEED_REPLY and waits for the ack when
 * REPLY_ACK is negotiated (or always_need_reply) and the request has no
 * reply of its own; a non-zero ack returns -EREMOTEIO. */
int vhu_fe_set_owner(struct vhu_fe *fe);
int vhu_fe_reset_owner(struct vhu_fe *fe);
int vhu_fe_reset_device(struct vhu_fe *fe);
int vhu_fe_get_features(struct vhu_fe *fe, uint64_t *features);
/* Records `features` as negotiated and derives the header length. */
int vhu_fe_set_features(struct vhu_fe *fe, uint64_t features);
int vhu_fe_get_protocol_features(struct vhu_fe *fe, uint64_t *pf);
/* Records `pf` as negotiated. */
int vhu_fe_set_protocol_features(struct vhu_fe *fe, uint64_t pf);
int vhu_fe_get_queue_num(struct vhu_fe *fe, uint64_t *queues);
int vhu_fe_get_max_mem_slots(struct vhu_fe *fe, uint64_t *slots);
/* SET_MEM_TABLE with the device's own regions. */
int vhu_fe_set_mem_table(struct vhu_fe *fe);
/* SET_MEM_TABLE with any n (0..8) regions and their fds. */
int vhu_fe_set_mem_table_regions(struct vhu_fe *fe,
				 const struct vhu_fe_region *regions,
				 unsigned int n);
int vhu_fe_add_mem_reg(struct vhu_fe *fe, const struct vhu_fe_region *r);
/* REM_MEM_REG without an fd, as the spec says. */
int vhu_fe_rem_mem_reg(struct vhu_fe *fe, const struct vhu_fe_region *r);
int vhu_fe_set_vring_num(struct vhu_fe *fe, unsigned int ring, uint32_t num);
int vhu_fe_set_vring_base(struct vhu_fe *fe, unsigned int ring, uint32_t base);
/* SET_VRING_ADDR with the ring's own desc/used/avail (front-end addresses).
 * Packed: desc = descriptor ring, avail = driver event area, used =
 * device event area. */
int vhu_fe_set_vring_addr(struct vhu_fe *fe, unsigned int ring);
/* SET_VRING_CALL / KICK with the ring's eventfd. KICK marks the ring
 * started and injects one kick when cfg.inject_kick. */
int vhu_fe_set_vring_call(struct vhu_fe *fe, unsigned int ring);
int vhu_fe_set_vring_kick(struct vhu_fe *fe, unsigned int ring);
int vhu_fe_set_vring_enable(struct vhu_fe *fe, unsigned int ring, bool on);
/* Stops the ring; *base = the back-end's next avail index; it is also
 * remembered as the base the next vhu_fe_start_ring() sends.
 * Packed: *base is the 32-bit value of vhu_fe_packed_base_decode(), and
 * it must fit the driver's ring: from the driver's next used slot on, the
 * back-end's used index, then its avail index, then the end of what was
 * published. Otherwise -EPROTO (the ring is stopped and the base kept
 * all the same). DPDK 22.11's vhost sends bits 0-15 only: when the value
 * does not fit as it is, has no bit above 15 set and fits with used =
 * avail (what DPDK assumes on SET_VRING_BASE), it is accepted (logged)
 * and remembered in that form. */
int vhu_fe_get_vring_base(struct vhu_fe *fe, unsigned int ring,
			  uint32_t *base);
int vhu_fe_set_status(struct vhu_fe *fe, uint8_t status);
int vhu_fe_get_status(struct vhu_fe *fe, uint8_t *status);
int vhu_fe_net_set_mtu(struct vhu_fe *fe, uint16_t mtu);
int vhu_fe_send_rarp(struct vhu_fe *fe, const uint8_t mac[6]);

/* Any request, well-framed. */
struct vhu_fe_req {
	uint32_t request;
	uint32_t flags;          /* OR'ed into VERSION; e.g. VHU_WIRE_F_NEED_REPLY */
	const void *payload;
	uint32_t size;
	const int *fds;
	unsigned int nfds;
	/* Requests with a reply of their own: where to put it and its exact
	 * expected size. NULL: none expected (an ack is awaited when
	 * NEED_REPLY ends up set). */
	void *reply;
	uint32_t reply_size;
};

/* Send req, then read its reply or ack. NEED_REPLY is added when the
 * request has no reply of its own and REPLY_ACK is negotiated or
 * always_need_reply is set. Returns 0, -EREMOTEIO (non-zero ack, see
 * vhu_fe_last_ack), -EPROTO (reply for another request, without the REPLY
 * flag, of the wrong size, or with fds), or a socket error. */
int vhu_fe_request(struct vhu_fe *fe, const struct vhu_fe_req *req);

/* Value of the last REPLY_ACK received. */
uint64_t vhu_fe_last_ack(const struct vhu_fe *fe);

/* Hostile tests: send bytes as they are (any header, any size, any fds),
 * and read back whatever comes (see vhu_fe_msg_recv). */
int vhu_fe_send_raw(struct vhu_fe *fe, const void *bytes, size_t len,
		    const int *fds, unsigned int nfds);
int vhu_fe_recv_raw(struct vhu_fe *fe, struct vhu_fe_msg *msg, int timeout_ms);

/* State. */
uint64_t vhu_fe_backend_features(const struct vhu_fe *fe);
uint64_t vhu_fe_features(const struct vhu_fe *fe);   /* negotiated */
uint64_t vhu_fe_backend_protocol_features(const struct vhu_fe *fe);
uint64_t vhu_fe_protocol_features(const struct vhu_fe *fe); /* negotiated */
/* virtio-net header bytes: 12 with VERSION_1 or MRG_RXBUF, else 10. */
unsigned int vhu_fe_hdr_len(const struct vhu_fe *fe);
unsigned int vhu_fe_nrings(const struct vhu_fe *fe);
struct vhu_fe_mem *vhu_fe_get_mem(struct vhu_fe *fe);
/* Ring `ring` (2q = guest RX, 2q+1 = guest TX), NULL when out of range. */
struct vhu_fe_vring *vhu_fe_get_vring(struct vhu_fe *fe, unsigned int ring);
int vhu_fe_kick_fd(const struct vhu_fe *fe, unsigned int ring);
int vhu_fe_call_fd(const struct vhu_fe *fe, unsigned int ring);
bool vhu_fe_ring_started(const struct vhu_fe *fe, unsigned int ring);
void vhu_fe_get_stats(const struct vhu_fe *fe, struct vhu_fe_stats *st);

/* ---- net datapath (queue pair qp) ---- */

/* Per-frame TX options; NULL means the config's layout, zero header. */
struct vhu_fe_tx_opts {
	enum vhu_fe_tx_layout layout;
	unsigned int segs;                   /* 0 = cfg.tx_segs */
	const struct virtio_net_hdr_v1 *hdr; /* NULL = zero header */
};

/* Copy one frame (preceded by the header) into the next TX buffer and add
 * it to guest TX ring 2qp+1; visible after vhu_fe_tx_flush(). Returns 0,
 * -ENOSPC (ring full: reclaim), -EMSGSIZE (header + frame > tx_buf_size),
 * -EOPNOTSUPP (INDIRECT without VIRTIO_RING_F_INDIRECT_DESC negotiated),
 * -EINVAL. */
int vhu_fe_tx_post(struct vhu_fe *fe, unsigned int qp, const void *frame,
		   size_t len, const struct vhu_fe_tx_opts *opts);

/* Write the ring's kick eventfd once. 0 or negative errno. */
int vhu_fe_kick(struct vhu_fe *fe, unsigned int ring);

/* Publish posted frames; kicks when cfg.notify and the device wants it. */
int vhu_fe_tx_flush(struct vhu_fe *fe, unsigned int qp);

/* Take back completed TX entries. Returns how many, or -EPROTO. */
int vhu_fe_tx_reclaim(struct vhu_fe *fe, unsigned int qp);

/* TX entries posted and not yet completed. */
unsigned int vhu_fe_tx_inflight(const struct vhu_fe *fe, unsigned int qp);

/* Post empty buffers on guest RX ring 2qp until it is full and publish.
 * Returns how many were posted or negative errno. */
int vhu_fe_rx_fill(struct vhu_fe *fe, unsigned int qp);

/* One received packet: hdr is the virtio-net header as received (a
 * 10-byte header zero-extended); frame/len the Ethernet frame. Both are
 * valid during the call only. Return 0 to go on; a non-zero value stops
 * vhu_fe_rx_poll, which then returns it (use a negative one so it cannot
 * be mistaken for a packet count). */
typedef int (*vhu_fe_rx_cb)(void *arg, unsigned int qp,
			    const struct virtio_net_hdr_v1 *hdr,
			    const uint8_t *frame, size_t len);

/* Deliver up to `max` received packets (merging MRG_RXBUF buffers; a
 * packet whose buffers are not all used yet waits for the next call), then
 * re-post the consumed buffers. Returns packets delivered, the callback's
 * non-zero value, or -EPROTO (bad used entry, len beyond the buffer or
 * shorter than the header, num_buffers 0 or larger than the ring). */
int vhu_fe_rx_poll(struct vhu_fe *fe, unsigned int qp, vhu_fe_rx_cb cb,
		   void *arg, unsigned int max);

/* ------------------------------------------------------------------ */
/* Test frames                                                         */
/* ------------------------------------------------------------------ */

#define VHU_FE_FRAME_MIN 60u      /* Ethernet minimum without FCS */
#define VHU_FE_FRAME_MAX 65535u

/* Build a verifiable IPv4/UDP test frame of exactly len bytes
 * (VHU_FE_FRAME_MIN..VHU_FE_FRAME_MAX): dst 02:00:00:00:00:02, src
 * 02:00:00:00:00:01, ethertype 0x0800, a valid IPv4 header, UDP with
 * ports 4789->4790, then a payload holding a magic, seq, the length, and a
 * pattern derived from seq. Returns 0 or -EINVAL. */
int vhu_fe_frame_build(uint8_t *buf, size_t len, uint64_t seq);

/* 0 when buf is exactly such a frame (*seq set), -EBADMSG otherwise. */
int vhu_fe_frame_check(const uint8_t *buf, size_t len, uint64_t *seq);

/* Sanity of any Ethernet frame: at least 14 bytes; when IPv4, version 4,
 * header length >= 20, header checksum right and total length within the
 * frame. 0 or -EBADMSG. */
int vhu_fe_frame_check_eth(const uint8_t *buf, size_t len);

#endif /* VHU_FE_H */

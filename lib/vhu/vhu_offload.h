/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offloads: the mapping between the virtio-net header and mbuf ol_flags,
 * shared by every ring format (called from vhu_copy.c). The feature
 * helpers run on the control thread; the rest is datapath and is reached
 * only when a header or an mbuf asks for an offload.
 *
 * Internal header.
 */
#ifndef VHU_OFFLOAD_H
#define VHU_OFFLOAD_H

#include <stdint.h>
#include <linux/virtio_net.h>

#include <rte_mbuf.h>

/*
 * A ring's offload mode (struct vhu_vring.ol_mode): what the negotiated
 * features and the application's VHU_OFFLOAD_* bits allow. Computed at
 * SET_FEATURES by vhu_offload_ring_mode(), read by bursts.
 */
#define VHU_OL_DEQ_KEEP_CSUM 0x01 /* leave partial checksums to the app */
#define VHU_OL_DEQ_TSO4      0x02 /* HOST_TSO4: GSO TCPV4 → TSO mbuf */
#define VHU_OL_DEQ_TSO6      0x04 /* HOST_TSO6: GSO TCPV6 → TSO mbuf */
#define VHU_OL_ENQ_CSUM      0x08 /* GUEST_CSUM: NEEDS_CSUM / DATA_VALID */
#define VHU_OL_ENQ_TSO4      0x10 /* GUEST_TSO4 (with GUEST_CSUM) */
#define VHU_OL_ENQ_TSO6      0x20 /* GUEST_TSO6 (with GUEST_CSUM) */
#define VHU_OL_DEQ_RX_FLAGS  0x40 /* say it with RX flags, not TX flags */

/* Control thread: the feature bits VHU_OFFLOAD_* bits make vhu offer. */
uint64_t vhu_offload_features(uint64_t offloads);

/* Control thread: a ring's offload mode for negotiated features. */
uint8_t vhu_offload_ring_mode(uint64_t features, uint64_t offloads);

/* mbuf TX flags that make enqueue look at a packet's offloads. */
#define VHU_OL_ENQ_TX_FLAGS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | \
		RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_IP_CKSUM | \
		RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_OUTER_UDP_CKSUM)

/* The ol_flags bits worth a look on enqueue for a ring in mode. */
static inline uint64_t
vhu_offload_enq_mask(uint8_t mode)
{
	return VHU_OL_ENQ_TX_FLAGS |
		((mode & VHU_OL_ENQ_CSUM) ? RTE_MBUF_F_RX_L4_CKSUM_MASK : 0);
}

/* Two bytes enqueue writes over the guest's copy of a packet (a
 * checksum field): the caller's mbuf is never modified. */
struct vhu_ol_patch {
	uint32_t off;    /* from the start of the packet (after the header) */
	uint8_t val[2];
};

#define VHU_OL_MAX_PATCHES 2 /* IPv4 header checksum, L4 checksum */

/*
 * Dequeue: apply a virtio-net header that asks for something (NEEDS_CSUM
 * set or gso_type not NONE) to m, which holds the whole packet: set TX
 * offload flags and lengths (mode permitting) or complete the checksum in
 * software.
 * @return 0; -1 if the header is invalid (the chain is dropped).
 */
int vhu_offload_dequeue(const struct virtio_net_hdr *h, struct rte_mbuf *m,
		uint8_t mode);

/*
 * Enqueue: for an mbuf with a flag of vhu_offload_enq_mask(mode), fill
 * the header h (zeroed by the caller) and the patches to apply to the
 * guest's copy. m is only read.
 * @return 0; -1 if the request cannot be met (the packet is dropped).
 */
int vhu_offload_enqueue(const struct rte_mbuf *m, uint8_t mode,
		struct virtio_net_hdr *h, struct vhu_ol_patch *patch,
		uint8_t *npatch);

#endif /* VHU_OFFLOAD_H */

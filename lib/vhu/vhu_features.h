/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio and vhost-user feature bits vhu implements.
 */
#ifndef VHU_FEATURES_H
#define VHU_FEATURES_H

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>

#include "vhu_wire.h"

#define VHU_BIT(b) (1ULL << (b))

/* Offered when the application asks for no particular set. MQ is added
 * when the device has more than one queue pair. */
#define VHU_FEATURES_DEFAULT ( \
	VHU_BIT(VIRTIO_F_VERSION_1) | \
	VHU_BIT(VIRTIO_F_ANY_LAYOUT) | \
	VHU_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
	VHU_BIT(VIRTIO_RING_F_EVENT_IDX) | \
	VHU_BIT(VIRTIO_F_IN_ORDER) | \
	VHU_BIT(VIRTIO_F_RING_PACKED) | \
	VHU_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	VHU_BIT(VIRTIO_NET_F_CSUM) | \
	VHU_BIT(VIRTIO_NET_F_MTU) | \
	VHU_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | \
	VHU_BIT(VHOST_F_LOG_ALL) | \
	VHU_BIT(VHU_F_PROTOCOL_FEATURES))

/* Offered only when the application enables the offload that needs them
 * (struct vhu_device_config.offloads, vhu_offload_features()); ignored in
 * its `features`. */
#define VHU_FEATURES_OFFLOAD ( \
	VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	VHU_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
	VHU_BIT(VIRTIO_NET_F_HOST_TSO4) | \
	VHU_BIT(VIRTIO_NET_F_HOST_TSO6))

/* Everything the datapath and control plane implement; an application
 * can offer at most these. */
#define VHU_FEATURES_SUPPORTED (VHU_FEATURES_DEFAULT | \
	VHU_BIT(VIRTIO_NET_F_MQ) | VHU_FEATURES_OFFLOAD)

#define VHU_PROTOCOL_FEATURES_OFFERED ( \
	VHU_BIT(VHU_PROTO_F_MQ) | \
	VHU_BIT(VHU_PROTO_F_LOG_SHMFD) | \
	VHU_BIT(VHU_PROTO_F_RARP) | \
	VHU_BIT(VHU_PROTO_F_REPLY_ACK) | \
	VHU_BIT(VHU_PROTO_F_MTU) | \
	VHU_BIT(VHU_PROTO_F_RESET_DEVICE) | \
	VHU_BIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS) | \
	VHU_BIT(VHU_PROTO_F_STATUS))

#endif /* VHU_FEATURES_H */

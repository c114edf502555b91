/* SPDX-License-Identifier: BSD-3-Clause */
/* Handlers of device-wide requests: features, owner, reset, status, MTU,
 * RARP, queue and slot counts. Payloads arrive validated (vhu_msg.c). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vhu_features.h"
#include "vhu_log.h"
#include "vhu_msg.h"
#include "vhu_vring.h"

#define VIRTIO_STATUS_NEEDS_RESET 0x40

int
vhu_msg_get_features(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(msg);
	reply->payload.u64 = dev->features_offered;
	reply->size = sizeof(uint64_t);
	return 0;
}

int
vhu_msg_set_features(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t features = msg->payload.u64;
	uint16_t i;

	RTE_SET_USED(reply);
	if (features & ~dev->features_offered) {
		VHU_DEV_LOG(ERR, dev, "SET_FEATURES 0x%" PRIx64 " has bits never "
			    "offered: 0x%" PRIx64, features,
			    features & ~dev->features_offered);
		return -EINVAL;
	}
	/* A started ring's positions mean something in its format only. */
	if ((features ^ dev->features) & VHU_BIT(VIRTIO_F_RING_PACKED)) {
		for (i = 0; i < dev->nr_rings; i++) {
			if (dev->rings[i].started) {
				VHU_DEV_LOG(ERR, dev, "SET_FEATURES changes the "
					    "ring format while ring %u is "
					    "started", i);
				return -EBUSY;
			}
		}
	}
	/* Every ring is held: the dispatcher derives their header length,
	 * offload mode and dirty log from these features afterwards. */
	dev->features = features;
	dev->features_set = true;
	/* Without protocol features there is no SET_VRING_ENABLE: rings
	 * are enabled from here on (vhost-user.rst, "Ring states"). */
	if (!(features & VHU_BIT(VHU_F_PROTOCOL_FEATURES)))
		for (i = 0; i < dev->nr_rings; i++)
			vhu_vring_set_enabled(&dev->rings[i], true);
	VHU_DEV_LOG(INFO, dev, "features 0x%" PRIx64 " (virtio-net header "
		    "%u bytes)", features, vhu_vring_hdr_len(features));
	if (dev->ops != NULL && dev->ops->features_changed != NULL)
		dev->ops->features_changed(dev, features, dev->ctx);
	return 0;
}

int
vhu_msg_get_protocol_features(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(msg);
	reply->payload.u64 = dev->protocol_features_offered;
	reply->size = sizeof(uint64_t);
	return 0;
}

int
vhu_msg_set_protocol_features(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t pf = msg->payload.u64;

	RTE_SET_USED(reply);
	if (pf & ~dev->protocol_features_offered) {
		VHU_DEV_LOG(ERR, dev, "SET_PROTOCOL_FEATURES 0x%" PRIx64 " has "
			    "bits never offered: 0x%" PRIx64, pf,
			    pf & ~dev->protocol_features_offered);
		return -EINVAL;
	}
	dev->protocol_features = pf;
	VHU_DEV_LOG(INFO, dev, "protocol features 0x%" PRIx64, pf);
	return 0;
}

int
vhu_msg_set_owner(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(msg);
	RTE_SET_USED(reply);
	/* Front-ends send it once per connection; a repeat is harmless. */
	dev->owner = true;
	return 0;
}

int
vhu_msg_reset_device(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(reply);
	VHU_DEV_LOG(INFO, dev, "%s: resetting the device",
		    vhu_msg_name(msg->hdr.request));
	/* RESET_OWNER (deprecated) is what QEMU sends as a reset when
	 * RESET_DEVICE is not negotiated: both keep ownership. */
	vhu_dev_reset(dev, false);
	return 0;
}

int
vhu_msg_get_queue_num(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(msg);
	reply->payload.u64 = dev->max_queue_pairs;
	reply->size = sizeof(uint64_t);
	return 0;
}

int
vhu_msg_send_rarp(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(reply);
	/* The guest's MAC in the first six bytes of the u64. */
	memcpy(dev->rarp_mac, msg->payload.raw, sizeof(dev->rarp_mac));
	__atomic_store_n(&dev->rarp_pending, true, __ATOMIC_RELEASE);
	VHU_DEV_LOG(INFO, dev, "SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x",
		    dev->rarp_mac[0], dev->rarp_mac[1], dev->rarp_mac[2],
		    dev->rarp_mac[3], dev->rarp_mac[4], dev->rarp_mac[5]);
	return 0;
}

int
vhu_msg_net_set_mtu(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t mtu = msg->payload.u64;

	RTE_SET_USED(reply);
	/* 68: IPv4's minimum; 65535: virtio-net config's u16. */
	if (mtu < 68 || mtu > 65535) {
		VHU_DEV_LOG(ERR, dev, "NET_SET_MTU %" PRIu64 " out of range "
			    "68..65535", mtu);
		return -EINVAL;
	}
	dev->mtu = (uint16_t)mtu;
	VHU_DEV_LOG(INFO, dev, "MTU %u", dev->mtu);
	return 0;
}

int
vhu_msg_set_status(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t status = msg->payload.u64;

	RTE_SET_USED(reply);
	if (status > UINT8_MAX) {
		VHU_DEV_LOG(ERR, dev, "SET_STATUS 0x%" PRIx64 " is not a "
			    "device status byte", status);
		return -EINVAL;
	}
	dev->status = (uint8_t)status;
	VHU_DEV_LOG(DEBUG, dev, "status 0x%02x", dev->status);
	return 0;
}

int
vhu_msg_get_status(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t status = dev->status;
	uint16_t i;

	RTE_SET_USED(msg);
	/* A ring the guest broke makes the device need a reset. */
	for (i = 0; i < dev->nr_rings; i++)
		if (dev->rings[i].broken)
			status |= VIRTIO_STATUS_NEEDS_RESET;
	reply->payload.u64 = status;
	reply->size = sizeof(uint64_t);
	return 0;
}

int
vhu_msg_get_max_mem_slots(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(msg);
	reply->payload.u64 = VHU_MEM_MAX_REGIONS;
	reply->size = sizeof(uint64_t);
	return 0;
}

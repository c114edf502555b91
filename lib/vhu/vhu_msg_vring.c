/* SPDX-License-Identifier: BSD-3-Clause */
/* Handlers of per-ring requests. The dispatcher has validated the ring
 * index (msg->ring), the payload size and the fd count. */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "vhu_log.h"
#include "vhu_msg.h"
#include "vhu_vring.h"

static struct vhu_vring *
vhu_msg_vring(struct vhu_device *dev, const struct vhu_msg *msg)
{
	return &dev->rings[msg->ring];
}

int
vhu_msg_set_vring_num(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);
	uint32_t num = msg->payload.state.num;

	RTE_SET_USED(reply);
	/* Split rings are a power of two; packed rings any size (VIRTIO
	 * 1.x 2.6, 2.8). Checked again in the negotiated format on start. */
	if (num == 0 || num > VHU_VRING_MAX_SIZE ||
	    (!vhu_vring_is_packed(dev->features) && (num & (num - 1)) != 0)) {
		VHU_DEV_LOG(ERR, dev, "ring %u: size %u is not valid (%s)",
			    vr->index, num, vhu_vring_is_packed(dev->features) ?
			    "packed: 1..32768" : "split: a power of two in "
			    "1..32768");
		return -EINVAL;
	}
	if (vr->started) {
		VHU_DEV_LOG(ERR, dev, "ring %u: SET_VRING_NUM while started",
			    vr->index);
		return -EBUSY;
	}
	vr->num = (uint16_t)num;
	vr->have_num = true;
	return 0;
}

int
vhu_msg_set_vring_addr(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);
	const struct vhu_wire_vring_addr *addr = &msg->payload.addr;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	RTE_SET_USED(reply);
	if (addr->flags & ~VHU_WIRE_VRING_F_LOG) {
		VHU_DEV_LOG(ERR, dev, "ring %u: unknown address flags 0x%x",
			    vr->index, addr->flags);
		return -EINVAL;
	}
	/* Check now when we can; otherwise SET_VRING_KICK checks. A started
	 * ring (QEMU sets VHOST_VRING_F_LOG on running rings for migration)
	 * is held by the dispatcher and takes the new addresses at once. */
	if (vr->have_num && dev->mem != NULL &&
	    vhu_vring_translate(dev, vr->index, dev->mem,
				vhu_vring_is_packed(dev->features), vr->num, addr,
				&desc, &avail, &used) != 0)
		return -EINVAL;
	vr->addr = *addr;
	vr->have_addr = true;
	return 0;
}

int
vhu_msg_set_vring_base(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);
	uint32_t base = msg->payload.state.num;

	RTE_SET_USED(reply);
	if (vr->started) {
		VHU_DEV_LOG(ERR, dev, "ring %u: SET_VRING_BASE while started",
			    vr->index);
		return -EBUSY;
	}
	/* Split rings use 16 bits, packed rings all 32 (positions and wrap
	 * counters); checked in the negotiated format on start. */
	if (!vhu_vring_is_packed(dev->features) && base > UINT16_MAX) {
		VHU_DEV_LOG(ERR, dev, "ring %u: base 0x%x does not fit a split "
			    "ring index", vr->index, base);
		return -EINVAL;
	}
	vr->base = base;
	return 0;
}

int
vhu_msg_get_vring_base(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);

	/* Stop this ring only. The dispatcher held it (no burst inside) and
	 * publishes it stopped before this reply goes out. */
	vhu_vring_stop(vr);
	reply->payload.state.index = vr->index;
	reply->payload.state.num = vr->base;
	reply->size = sizeof(reply->payload.state);
	VHU_DEV_LOG(DEBUG, dev, "ring %u: base 0x%x", vr->index, vr->base);
	return 0;
}

/* Replace *slot by the message's fd (or -1), taking it from the message. */
static int
vhu_msg_take_fd(struct vhu_msg *msg)
{
	int fd = -1;

	if (msg->nfds == 1) {
		fd = msg->fds[0];
		msg->fds[0] = -1;
	}
	return fd;
}

int
vhu_msg_set_vring_kick(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);
	int ret;

	RTE_SET_USED(reply);
	/* The seed: SET_VRING_KICK starts the ring at once. Polling needs
	 * no kick; the fd is kept (the front-end owns its lifetime) but
	 * never read. */
	ret = vhu_vring_start(vr);
	if (ret != 0)
		return ret;
	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	vr->kick_fd = vhu_msg_take_fd(msg);
	return 0;
}

int
vhu_msg_set_vring_call(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);

	RTE_SET_USED(reply);
	/* Bursts write the call fd; the dispatcher held the ring, so no
	 * burst still has the old one (its number could be reused). */
	if (vr->call_fd >= 0)
		close(vr->call_fd);
	vr->call_fd = vhu_msg_take_fd(msg);
	return 0;
}

int
vhu_msg_set_vring_err(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);

	RTE_SET_USED(dev);
	RTE_SET_USED(reply);
	/* Only the control thread writes the err fd. */
	if (vr->err_fd >= 0)
		close(vr->err_fd);
	vr->err_fd = vhu_msg_take_fd(msg);
	return 0;
}

int
vhu_msg_set_vring_enable(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_vring *vr = vhu_msg_vring(dev, msg);
	uint32_t enable = msg->payload.state.num;

	RTE_SET_USED(reply);
	if (enable > 1) {
		VHU_DEV_LOG(ERR, dev, "ring %u: SET_VRING_ENABLE %u is not 0 or 1",
			    vr->index, enable);
		return -EINVAL;
	}
	/* Independent of started/stopped: enabling a stopped ring does not
	 * start it (QEMU enables rings it has just stopped). */
	vhu_vring_set_enabled(vr, enable == 1);
	return 0;
}

int
vhu_msg_vring_kick(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	/* In-band kick: a poll-mode back-end needs none (never offered). */
	RTE_SET_USED(dev);
	RTE_SET_USED(msg);
	RTE_SET_USED(reply);
	return 0;
}

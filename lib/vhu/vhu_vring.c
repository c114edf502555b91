/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include <linux/virtio_net.h>
#include <linux/vhost_types.h>

#include "vhu_features.h"
#include "vhu_log.h"
#include "vhu_offload.h"
#include "vhu_sync.h"
#include "vhu_vring.h"

void
vhu_vring_init(struct vhu_vring *vr, struct vhu_device *dev, uint16_t index)
{
	memset(vr, 0, sizeof(*vr));
	vr->dev = dev;
	vr->index = index;
	vr->dp_mode = VHU_DP_STOPPED;
	vr->vnet_hdr_len = sizeof(struct virtio_net_hdr);
	vr->call_fd = -1;
	vr->kick_fd = -1;
	vr->err_fd = -1;
}

enum vhu_dp_mode
vhu_vring_derive_mode(const struct vhu_vring *vr)
{
	/* Stopped, held, broken, or without mapped rings: touch nothing. */
	if (!vr->started || vr->held || vr->broken || vr->dp_broken ||
	    vr->desc == NULL)
		return VHU_DP_STOPPED;
	/* Started + disabled: supply no RX, consume and drop TX. */
	if (!vr->enabled)
		return VHU_DP_DISCARD;
	return VHU_DP_RUN;
}

void
vhu_vring_pause(struct vhu_vring *vr)
{
	__atomic_store_n(&vr->dp_mode, VHU_DP_STOPPED, __ATOMIC_RELAXED);
}

uint8_t
vhu_vring_hdr_len(uint64_t features)
{
	return (features & (VHU_BIT(VIRTIO_F_VERSION_1) |
			    VHU_BIT(VIRTIO_NET_F_MRG_RXBUF))) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
}

/*
 * Every [view] field, computed from the device's and the ring's stored
 * state. Nothing else writes them, so no path (reset, reconnect, a new
 * log or table) can leave a ring reading state that is gone.
 */
static void
vhu_vring_derive_view(struct vhu_vring *vr)
{
	const struct vhu_device *dev = vr->dev;
	uint64_t features = dev->features;
	bool log_all = (features & VHU_BIT(VHOST_F_LOG_ALL)) != 0;

	vr->features = features;
	vr->vnet_hdr_len = vhu_vring_hdr_len(features);
	vr->ol_mode = vhu_offload_ring_mode(features, dev->offloads);
	vr->mem = dev->mem;
	vr->log_base = log_all ? dev->log_base : NULL;
	vr->log_size = vr->log_base != NULL ? dev->log_size : 0;
	vr->log_used = vr->log_base != NULL &&
		(vr->addr.flags & VHU_WIRE_VRING_F_LOG) != 0;
	vr->used_log_gpa = vr->addr.log_guest_addr;
	vr->size = vr->num;
	vr->desc = NULL;
	vr->avail = NULL;
	vr->used = NULL;
	/* A started ring always translates: every change that would unmap
	 * it is refused (vhu_dev_set_mem, SET_VRING_ADDR). */
	if (vr->started && vr->have_num && vr->have_addr)
		vhu_vring_translate(dev, vr->index, dev->mem, vr->num,
				    &vr->addr, &vr->desc, &vr->avail, &vr->used);
	/* The [dp] hint indexes the table: no burst runs, so it is ours. */
	vr->mem_hint = 0;
}

void
vhu_vring_publish(struct vhu_vring *vr)
{
	vhu_vring_derive_view(vr);
	/* Release: a burst that sees the mode also sees the view. */
	__atomic_store_n(&vr->dp_mode, vhu_vring_derive_mode(vr),
			 __ATOMIC_RELEASE);
}

struct vhu_vring_part {
	const char *name;
	uint64_t fe_va;
	uint64_t len;
	uint64_t align;
};

int
vhu_vring_translate(const struct vhu_device *dev, uint16_t index,
		const struct vhu_mem_table *mem, uint16_t num,
		const struct vhu_wire_vring_addr *addr,
		struct vring_desc **desc, struct vring_avail **avail,
		struct vring_used **used)
{
	/* Split ring layout (VIRTIO 1.x 2.7): the avail and used rings
	 * include the trailing used_event / avail_event fields. */
	const struct vhu_vring_part parts[3] = {
		{ "descriptor table", addr->desc_user_addr,
		  (uint64_t)num * sizeof(struct vring_desc), 16 },
		{ "avail ring", addr->avail_user_addr,
		  4 + 2 * (uint64_t)num + 2, 2 },
		{ "used ring", addr->used_user_addr,
		  4 + 8 * (uint64_t)num + 2, 4 },
	};
	void *va[3];
	unsigned int i;

	if (mem == NULL) {
		VHU_DEV_LOG(ERR, dev, "ring %u: no memory table to map it",
			    index);
		return -EINVAL;
	}
	for (i = 0; i < RTE_DIM(parts); i++) {
		if (parts[i].fe_va % parts[i].align != 0) {
			VHU_DEV_LOG(ERR, dev, "ring %u: %s at 0x%" PRIx64
				    " is not %" PRIu64 "-byte aligned", index,
				    parts[i].name, parts[i].fe_va,
				    parts[i].align);
			return -EINVAL;
		}
		va[i] = vhu_mem_fe_va_to_va(mem, parts[i].fe_va, parts[i].len);
		if (va[i] == NULL) {
			VHU_DEV_LOG(ERR, dev, "ring %u: %s 0x%" PRIx64
				    "+0x%" PRIx64 " is not inside one memory region",
				    index, parts[i].name, parts[i].fe_va,
				    parts[i].len);
			return -EINVAL;
		}
		/* A region whose address and mmap offset disagree in their
		 * low bits maps an aligned ring to a misaligned pointer
		 * (found by fuzz_msg: atomics on a misaligned used ring). */
		if ((uintptr_t)va[i] % parts[i].align != 0) {
			VHU_DEV_LOG(ERR, dev, "ring %u: %s at 0x%" PRIx64
				    " is not %" PRIu64 "-byte aligned in the "
				    "mapping (its region's address and mmap "
				    "offset disagree)", index, parts[i].name,
				    parts[i].fe_va, parts[i].align);
			return -EINVAL;
		}
	}
	*desc = va[0];
	*avail = va[1];
	*used = va[2];
	return 0;
}

static void
vhu_vring_log_transition(struct vhu_vring *vr, const char *what)
{
	VHU_DEV_LOG(DEBUG, vr->dev, "ring %u: %s (started=%d enabled=%d)",
		    vr->index, what, vr->started, vr->enabled);
}

int
vhu_vring_start(struct vhu_vring *vr)
{
	struct vhu_device *dev = vr->dev;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	if (vr->started)
		return 0;
	if (!vr->have_num) {
		VHU_DEV_LOG(ERR, dev, "ring %u: cannot start, no SET_VRING_NUM",
			    vr->index);
		return -EINVAL;
	}
	if (!vr->have_addr) {
		VHU_DEV_LOG(ERR, dev, "ring %u: cannot start, no SET_VRING_ADDR",
			    vr->index);
		return -EINVAL;
	}
	if (vhu_vring_translate(dev, vr->index, dev->mem, vr->num, &vr->addr,
				&desc, &avail, &used) != 0)
		return -EINVAL;

	/* A poll-mode device needs no kicks: ask the driver not to send
	 * them (it may still; they are never read). */
	__atomic_fetch_or(&used->flags, VRING_USED_F_NO_NOTIFY,
			  __ATOMIC_RELAXED);
	/* The ring is held (no burst inside): its [dp] fields are ours. */
	vr->bad_chains = 0;
	vr->dp_broken = false;
	vr->broken = false;
	/* Resume where the front-end says: the next avail entry is the
	 * base; the next used entry is what the used ring holds. */
	vr->last_avail_idx = vr->base;
	vr->last_used_idx = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	vr->started = true;
	vr->stats.starts++;
	vhu_vring_log_transition(vr, "started");
	return 0;
}

void
vhu_vring_stop(struct vhu_vring *vr)
{
	if (!vr->started)
		return;
	/* Held: the last burst is over, last_avail_idx is final. */
	vr->started = false;
	vr->base = vr->last_avail_idx;
	vr->stats.stops++;
	vhu_vring_log_transition(vr, "stopped");
}

void
vhu_vring_set_enabled(struct vhu_vring *vr, bool enabled)
{
	if (vr->enabled == enabled)
		return;
	vr->enabled = enabled;
	if (enabled)
		vr->stats.enables++;
	else
		vr->stats.disables++;
	vhu_vring_log_transition(vr, enabled ? "enabled" : "disabled");
}

static void
vhu_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
vhu_vring_reset(struct vhu_vring *vr)
{
	vhu_close_fd(&vr->call_fd);
	vhu_close_fd(&vr->kick_fd);
	vhu_close_fd(&vr->err_fd);
	vr->have_num = false;
	vr->have_addr = false;
	vr->num = 0;
	vr->base = 0;
	vr->last_avail_idx = 0;
	vr->last_used_idx = 0;
	vr->broken = false;
	vr->dp_broken = false;
	vr->bad_chains = 0;
	memset(&vr->addr, 0, sizeof(vr->addr));
	if (vr->enabled) {
		vr->enabled = false;
		vr->stats.disables++;
	}
}

struct vhu_ring_state
vhu_vring_state(const struct vhu_vring *vr)
{
	struct vhu_ring_state st = {
		.started = vr->started,
		.enabled = vr->enabled,
		.broken = vr->broken,
	};
	return st;
}

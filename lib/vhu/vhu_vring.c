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
#include "vhu_numa.h"
#include "vhu_vring.h"

_Static_assert(offsetof(struct vhu_device, fp) == 0,
	       "vhu.h reads struct vhu_device_fastpath at a device's start");

/* The device's public bit of this ring follows its dp_mode: set unless
 * stopped (vhu.h, struct vhu_device_fastpath). */
static void
vhu_vring_set_live(struct vhu_vring *vr, enum vhu_dp_mode mode)
{
	uint64_t *word = &vr->dev->fp.rings_live[vr->index / 64];
	uint64_t bit = UINT64_C(1) << (vr->index % 64);

	if (mode == VHU_DP_STOPPED)
		__atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or(word, bit, __ATOMIC_RELAXED);
}

void
vhu_vring_init(struct vhu_vring *vr, struct vhu_device *dev, uint16_t index)
{
	memset(vr, 0, sizeof(*vr));
	vr->dev = dev;
	vr->index = index;
	vr->dp_mode = VHU_DP_STOPPED;
	vhu_vring_set_live(vr, VHU_DP_STOPPED);
	vr->vnet_hdr_len = sizeof(struct virtio_net_hdr);
	vr->call_fd = -1;
	vr->kick_fd = -1;
	vr->err_fd = -1;
	vr->numa_node = -1;
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
	vhu_vring_set_live(vr, VHU_DP_STOPPED);
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
	vr->packed = vhu_vring_is_packed(features);
	vr->used_log_gpa = vr->addr.log_guest_addr;
	vr->size = vr->num;
	vr->desc = NULL;
	vr->avail = NULL;
	vr->used = NULL;
	/* A started ring always translates: every change that would unmap
	 * it is refused (vhu_dev_set_mem, SET_VRING_ADDR). */
	if (vr->started && vr->have_num && vr->have_addr &&
	    vhu_vring_translate(dev, vr->index, dev->mem, vr->packed,
				vr->num, &vr->addr, &vr->desc, &vr->avail,
				&vr->used) == 0 && vr->packed) {
		/* Packed: used descriptors are written over the descriptor
		 * ring, so that is what the dirty log must cover. */
		if (vhu_mem_fe_va_to_gpa(dev->mem, vr->addr.desc_user_addr,
					 &vr->used_log_gpa) != 0)
			vr->log_used = false;
	}
	/* The [dp] hint indexes the table: no burst runs, so it is ours. */
	vr->mem_hint = 0;
}

void
vhu_vring_publish(struct vhu_vring *vr)
{
	enum vhu_dp_mode mode;

	vhu_vring_derive_view(vr);
	mode = vhu_vring_derive_mode(vr);
	/* Release: a burst that sees the mode also sees the view. */
	__atomic_store_n(&vr->dp_mode, mode, __ATOMIC_RELEASE);
	vhu_vring_set_live(vr, mode);
}

struct vhu_vring_part {
	const char *name;
	uint64_t fe_va;
	uint64_t len;
	uint64_t align;
};

bool
vhu_vring_is_packed(uint64_t features)
{
	return (features & VHU_BIT(VIRTIO_F_RING_PACKED)) != 0;
}

int
vhu_vring_translate(const struct vhu_device *dev, uint16_t index,
		const struct vhu_mem_table *mem, bool packed, uint16_t num,
		const struct vhu_wire_vring_addr *addr,
		struct vring_desc **desc, struct vring_avail **avail,
		struct vring_used **used)
{
	/* Split ring layout (VIRTIO 1.x 2.7): the avail and used rings
	 * include the trailing used_event / avail_event fields. */
	const struct vhu_vring_part split_parts[3] = {
		{ "descriptor table", addr->desc_user_addr,
		  (uint64_t)num * sizeof(struct vring_desc), 16 },
		{ "avail ring", addr->avail_user_addr,
		  4 + 2 * (uint64_t)num + 2, 2 },
		{ "used ring", addr->used_user_addr,
		  4 + 8 * (uint64_t)num + 2, 4 },
	};
	/* Packed ring layout (VIRTIO 1.x 2.8): the descriptor ring, then
	 * the driver and device event suppression areas, which vhost-user
	 * carries in the avail and used addresses. */
	const struct vhu_vring_part packed_parts[3] = {
		{ "descriptor ring", addr->desc_user_addr,
		  (uint64_t)num * sizeof(struct vring_packed_desc), 16 },
		{ "driver event suppression area", addr->avail_user_addr,
		  sizeof(struct vring_packed_desc_event), 4 },
		{ "device event suppression area", addr->used_user_addr,
		  sizeof(struct vring_packed_desc_event), 4 },
	};
	const struct vhu_vring_part *parts = packed ? packed_parts : split_parts;
	void *va[3];
	unsigned int i;

	if (num == 0 || num > VHU_VRING_MAX_SIZE ||
	    (!packed && (num & (num - 1)) != 0)) {
		VHU_DEV_LOG(ERR, dev, "ring %u: size %u is not valid for a %s "
			    "ring", index, num, packed ? "packed" : "split");
		return -EINVAL;
	}
	if (mem == NULL) {
		VHU_DEV_LOG(ERR, dev, "ring %u: no memory table to map it",
			    index);
		return -EINVAL;
	}
	for (i = 0; i < 3; i++) {
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

/* Split: the next avail entry is the base; the next used entry is what
 * the used ring holds. */
static int
vhu_vring_start_split(struct vhu_vring *vr, struct vring_used *used)
{
	if (vr->base > UINT16_MAX) {
		VHU_DEV_LOG(ERR, vr->dev, "ring %u: base 0x%x does not fit a "
			    "split ring index", vr->index, vr->base);
		return -EINVAL;
	}
	/* A poll-mode device needs no kicks: ask the driver not to send
	 * them (it may still; they are never read). */
	__atomic_fetch_or(&used->flags, VRING_USED_F_NO_NOTIFY,
			  __ATOMIC_RELAXED);
	vr->last_avail_idx = (uint16_t)vr->base;
	vr->last_used_idx = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	return 0;
}

/* Packed: both positions and wrap counters come from the base. */
static int
vhu_vring_start_packed(struct vhu_vring *vr,
		struct vring_packed_desc_event *device_event)
{
	uint32_t base = vr->base;
	uint16_t avail = base & 0x7fff, used = (base >> 16) & 0x7fff;

	/* Front-ends written before the base carried the used half (DPDK
	 * virtio-user sends 0x8000 for a fresh ring, QEMU both halves)
	 * leave it zero: then used = avail, which is what any back-end that
	 * completes every buffer before GET_VRING_BASE returns, vhu too. */
	if ((base >> 16) == 0) {
		base |= base << 16;
		used = avail;
	}
	if (avail >= vr->num || used >= vr->num) {
		VHU_DEV_LOG(ERR, vr->dev, "ring %u: base 0x%08x: position "
			    "outside a packed ring of %u descriptors",
			    vr->index, vr->base, vr->num);
		return -EINVAL;
	}
	/* Poll mode: ask the driver for no notifications (kicks). */
	__atomic_store_n(&device_event->flags, VRING_PACKED_EVENT_FLAG_DISABLE,
			 __ATOMIC_RELAXED);
	vr->last_avail_idx = avail;
	vr->avail_wrap = (base >> 15) & 1;
	vr->last_used_idx = used;
	vr->used_wrap = (base >> 31) & 1;
	return 0;
}

/* The stop position in the wire's layout for the ring's format. */
static uint32_t
vhu_vring_base_of(const struct vhu_vring *vr)
{
	if (!vhu_vring_is_packed(vr->dev->features))
		return vr->last_avail_idx;
	return (uint32_t)vr->last_avail_idx | (uint32_t)vr->avail_wrap << 15 |
		(uint32_t)vr->last_used_idx << 16 |
		(uint32_t)vr->used_wrap << 31;
}

int
vhu_vring_start(struct vhu_vring *vr)
{
	struct vhu_device *dev = vr->dev;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool packed;
	int ret;

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
	packed = vhu_vring_is_packed(dev->features);
	if (vhu_vring_translate(dev, vr->index, dev->mem, packed, vr->num,
				&vr->addr, &desc, &avail, &used) != 0)
		return -EINVAL;
	if (packed)
		ret = vhu_vring_start_packed(vr, (struct vring_packed_desc_event *)
					     (void *)used);
	else
		ret = vhu_vring_start_split(vr, used);
	if (ret != 0)
		return ret;
	/* The ring is held (no burst inside): its [dp] fields are ours. */
	vr->bad_chains = 0;
	vr->dp_broken = false;
	vr->broken = false;
	vr->started = true;
	vr->stats.starts++;
	vhu_vring_log_transition(vr, "started");
	vhu_numa_ring_started(dev, vr, desc);
	return 0;
}

void
vhu_vring_stop(struct vhu_vring *vr)
{
	if (!vr->started)
		return;
	/* Held: the last burst is over, last_avail_idx is final. */
	vr->started = false;
	vr->base = vhu_vring_base_of(vr);
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
	vr->avail_wrap = false;
	vr->used_wrap = false;
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

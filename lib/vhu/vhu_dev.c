/* SPDX-License-Identifier: BSD-3-Clause */
/* Device-level state changes shared by handlers and the control thread. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vhu_log.h"
#include "vhu_sync.h"
#include "vhu_vring.h"

int
vhu_dev_pause_rings(struct vhu_device *dev)
{
	uint16_t i;
	int ret;

	for (i = 0; i < dev->nr_rings; i++)
		vhu_vring_pause(&dev->rings[i]);
	ret = vhu_sync_quiesce(dev->rings, dev->nr_rings,
			       VHU_QUIESCE_TIMEOUT_MS);
	if (ret != 0) {
		dev->stats.quiesce_timeouts++;
		VHU_DEV_LOG(ERR, dev, "a burst did not finish within %u ms",
			    VHU_QUIESCE_TIMEOUT_MS);
	}
	return ret;
}

void
vhu_dev_publish_rings(struct vhu_device *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++)
		vhu_vring_publish(&dev->rings[i]);
}

int
vhu_dev_set_mem(struct vhu_device *dev, struct vhu_mem_table *mem)
{
	const struct vhu_mem_table *old = dev->mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t i;
	int ret;

	/* A table that would unmap a running ring is refused whole. */
	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];

		if (vr->started &&
		    vhu_vring_translate(dev, vr->index, mem, vr->num, &vr->addr,
					&desc, &avail, &used) != 0) {
			VHU_DEV_LOG(ERR, dev, "new memory table does not map "
				    "started ring %u: keeping the old one", i);
			vhu_mem_table_free(mem);
			return -EINVAL;
		}
	}
	ret = vhu_dev_pause_rings(dev);
	if (ret != 0) {
		vhu_dev_publish_rings(dev);
		vhu_mem_table_free(mem);
		return ret;
	}
	/* Generations only grow, across resets too. */
	mem->generation = ++dev->mem_generation;
	dev->mem = mem;
	for (i = 0; i < dev->nr_rings; i++)
		vhu_vring_remap(&dev->rings[i], mem);
	vhu_dev_publish_rings(dev);
	/* Every burst that could hold the old table ended in the pause. */
	vhu_mem_table_free((struct vhu_mem_table *)(uintptr_t)old);
	dev->stats.mem_table_updates++;
	VHU_DEV_LOG(INFO, dev, "memory table: %u regions (generation %u)",
		    mem->nregions, mem->generation);
	return 0;
}

void
vhu_dev_reset(struct vhu_device *dev, bool disconnect)
{
	bool quiesced = vhu_dev_pause_rings(dev) == 0;
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];

		if (vr->started) {
			vr->started = false;
			vr->stats.stops++;
		}
		vhu_vring_reset(vr);
	}
	if (quiesced) {
		vhu_mem_table_free((struct vhu_mem_table *)(uintptr_t)dev->mem);
		if (dev->log_map_addr != NULL)
			munmap(dev->log_map_addr, dev->log_map_len);
	} else {
		/* A burst may still read them: leaking is safe, unmapping
		 * is not. */
		VHU_DEV_LOG(ERR, dev, "leaving guest memory mapped: a burst "
			    "still runs on this device");
	}
	dev->mem = NULL;
	dev->log_map_addr = NULL;
	dev->log_map_len = 0;
	dev->log_base = NULL;
	dev->log_size = 0;
	if (dev->log_fd >= 0)
		close(dev->log_fd);
	dev->log_fd = -1;
	dev->features = 0;
	dev->features_set = false;
	dev->status = 0;
	dev->rarp_pending = false;
	if (disconnect) {
		dev->owner = false;
		dev->protocol_features = 0;
		dev->mtu = 0;
	}
	vhu_dev_notify(dev);
}

static bool
vhu_dev_is_ready(const struct vhu_device *dev)
{
	return dev->conn.ep.fd >= 0 && dev->mem != NULL &&
		dev->rings[0].started && dev->rings[1].started;
}

void
vhu_dev_notify(struct vhu_device *dev)
{
	const struct vhu_device_ops *ops = dev->ops;
	bool ready = vhu_dev_is_ready(dev);
	uint16_t i;

	if (dev->ready && !ready) {
		dev->ready = false;
		VHU_DEV_LOG(INFO, dev, "device not ready");
		if (ops != NULL && ops->device_destroyed != NULL)
			ops->device_destroyed(dev, dev->ctx);
	}
	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];
		struct vhu_ring_state st = vhu_vring_state(vr);

		if (st.started == vr->reported.started &&
		    st.enabled == vr->reported.enabled &&
		    st.broken == vr->reported.broken)
			continue;
		vr->reported = st;
		if (ops != NULL && ops->ring_state_changed != NULL)
			ops->ring_state_changed(dev, i, st, dev->ctx);
	}
	if (!dev->ready && ready) {
		dev->ready = true;
		VHU_DEV_LOG(INFO, dev, "device ready");
		if (ops != NULL && ops->device_ready != NULL)
			ops->device_ready(dev, dev->ctx);
	}
}

void
vhu_dev_check_rings(struct vhu_device *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];
		uint64_t one = 1;

		if (vr->broken || !__atomic_load_n(&vr->dp_broken, __ATOMIC_ACQUIRE))
			continue;
		/* Reported here, once, so the datapath never logs. */
		vr->broken = true;
		vr->stats.broken++;
		VHU_DEV_LOG(ERR, dev, "ring %u: the guest broke the ring's rules "
			    "(%u invalid chains): ring no longer processed, "
			    "device needs reset", i, vr->bad_chains);
		if (vr->err_fd >= 0 && write(vr->err_fd, &one, sizeof(one)) < 0)
			VHU_DEV_LOG(DEBUG, dev, "ring %u: err fd write failed", i);
		vhu_vring_publish(vr);
	}
	vhu_dev_notify(dev);
}

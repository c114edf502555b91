/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement of a device's own state next to its guest memory
 * (vhu_numa.h). A device is one mapping of whole pages (vhu_api.c), so
 * moving its pages moves nothing else; rings keep their addresses, so
 * lcores polling them need no pause.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#include "vhu_dev.h"
#include "vhu_log.h"
#include "vhu_numa.h"

static int
vhu_numa_libnuma_node_of(const void *addr)
{
	int node = -1;

	if (get_mempolicy(&node, NULL, 0, (void *)(uintptr_t)addr,
			  MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return -errno;
	return node;
}

static int
vhu_numa_libnuma_move(void *addr, size_t len, int node)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const unsigned long count = len / page;
	void **pages = calloc(count, sizeof(*pages));
	int *nodes = calloc(count, sizeof(*nodes));
	int *status = calloc(count, sizeof(*status));
	unsigned long i;
	long rc;
	int ret = 0;

	if (pages == NULL || nodes == NULL || status == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		pages[i] = (uint8_t *)addr + i * page;
		nodes[i] = node;
	}
	/* < 0: the call failed; > 0: that many pages were not moved (no
	 * errno), each with its reason in status. */
	rc = numa_move_pages(0, count, pages, nodes, status, MPOL_MF_MOVE);
	if (rc < 0) {
		ret = -errno;
		goto out;
	}
	/* Per page: the node it is on now, or -errno. */
	for (i = 0; i < count && ret == 0; i++)
		if (status[i] < 0)
			ret = status[i];
		else if (status[i] != node)
			ret = -EBUSY;
	if (ret == 0 && rc > 0)
		ret = -EBUSY;
out:
	free(pages);
	free(nodes);
	free(status);
	return ret;
}

static const struct vhu_numa_ops vhu_numa_libnuma = {
	.node_of = vhu_numa_libnuma_node_of,
	.move = vhu_numa_libnuma_move,
};

static const struct vhu_numa_ops *vhu_numa_ops = &vhu_numa_libnuma;

void
vhu_numa_set_ops(const struct vhu_numa_ops *ops)
{
	vhu_numa_ops = ops != NULL ? ops : &vhu_numa_libnuma;
}

/* Move the device's pages to node; false (logged, counted) if refused. */
static bool
vhu_numa_move_device(struct vhu_device *dev, int node, const char *why)
{
	int ret = vhu_numa_ops->move(dev->map_base, dev->map_size, node);

	if (ret == -ENOSYS || ret == -EPERM) {
		/* No NUMA in the kernel, or a sandbox (a container's seccomp
		 * profile) forbids moving pages: placement is unavailable
		 * here, not failing. */
		if (!dev->numa_unknown_logged)
			VHU_DEV_LOG(INFO, dev, "NUMA placement unavailable: %s",
				    strerror(-ret));
		dev->numa_unknown_logged = true;
		return false;
	}
	if (ret != 0) {
		dev->stats.numa_move_failures++;
		VHU_DEV_LOG(WARNING, dev, "cannot move the device's state to "
			    "NUMA node %d (%s): %s", node, why, strerror(-ret));
		return false;
	}
	__atomic_store_n(&dev->numa_node, node, __ATOMIC_RELAXED);
	return true;
}

void
vhu_numa_place_device(struct vhu_device *dev, int node)
{
	/* Every net_vhu port asks for its vdev's node: not news. */
	if (vhu_numa_move_device(dev, node, "the application's numa_socket"))
		VHU_DEV_LOG(DEBUG, dev, "device state on NUMA node %d", node);
}

void
vhu_numa_ring_started(struct vhu_device *dev, struct vhu_vring *vr,
		const void *desc)
{
	int node = vhu_numa_ops->node_of(desc);
	uint16_t i;

	if (node < 0) {
		/* No NUMA in the kernel (or a policy refused the lookup):
		 * nothing to follow. Said once a device. */
		if (!dev->numa_unknown_logged)
			VHU_DEV_LOG(INFO, dev, "ring %u: NUMA node of guest "
				    "memory unknown: %s", vr->index,
				    strerror(-node));
		dev->numa_unknown_logged = true;
		__atomic_store_n(&vr->numa_node, -1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&vr->numa_node, node, __ATOMIC_RELAXED);
	/* The lowest started ring (queue pair 0's, normally) decides. */
	for (i = 0; i < vr->index; i++)
		if (dev->rings[i].started)
			break;
	if (i < vr->index) {
		if (node != dev->numa_node)
			VHU_DEV_LOG(INFO, dev, "ring %u: guest memory on NUMA "
				    "node %d, the device's state on %d",
				    vr->index, node, dev->numa_node);
		return;
	}
	if (node != dev->numa_node &&
	    vhu_numa_move_device(dev, node, "its guest memory's"))
		VHU_DEV_LOG(INFO, dev, "device state on NUMA node %d (its guest "
			    "memory's)", node);
}

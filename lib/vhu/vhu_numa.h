/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement, on the control thread (and on the registering thread
 * for a device not yet published): the node that holds a page
 * of guest memory, and moving a device's own pages (its header and ring
 * structures, which every burst reads) to that node.
 *
 * The two system calls go through a table so that unit tests can stand
 * in for a host with several nodes (this project's machines have one);
 * the default table calls libnuma, the path a multi-node host takes.
 */
#ifndef VHU_NUMA_H
#define VHU_NUMA_H

#include <stddef.h>

struct vhu_device;
struct vhu_vring;

struct vhu_numa_ops {
	/* Node of the page at addr (get_mempolicy(MPOL_F_NODE |
	 * MPOL_F_ADDR), which faults it in), or -errno: -ENOSYS when the
	 * kernel has no NUMA support. */
	int (*node_of)(const void *addr);
	/* Move the pages of [addr, addr + len), page aligned, to node
	 * (move_pages(2)): 0 or -errno. Pages stay at their addresses; a
	 * thread touching one while it moves waits for the copy. */
	int (*move)(void *addr, size_t len, int node);
};

/* Replace the operations (NULL: libnuma's again). Tests only, with no
 * device registered. */
void vhu_numa_set_ops(const struct vhu_numa_ops *ops);

/* Put a new device's pages on node (>= 0), as the application asked in
 * vhu_device_config.numa_socket. Failure is logged, not fatal. */
void vhu_numa_place_device(struct vhu_device *dev, int node);

/*
 * vr has just started, its descriptor table at desc: record the node of
 * the guest memory it lives in, and when it is the device's lowest
 * started ring, move the device's pages there (as DPDK's vhost library
 * re-allocates a device on its guest memory's node).
 */
void vhu_numa_ring_started(struct vhu_device *dev, struct vhu_vring *vr,
		const void *desc);

#endif /* VHU_NUMA_H */

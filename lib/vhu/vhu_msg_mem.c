/* SPDX-License-Identifier: BSD-3-Clause */
/* Handlers of memory requests: the memory table and the dirty-page log.
 * A new table is built and validated on the side (vhu_mem.c); only a
 * valid one replaces the old (vhu_dev_set_mem). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vhu_log.h"
#include "vhu_msg.h"
#include "vhu_unmap.h"
#include "vhu_vring.h"

int
vhu_msg_set_mem_table(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_mem_table *mem;
	int ret;

	RTE_SET_USED(reply);
	ret = vhu_mem_table_from_message(msg->payload.mem.regions,
			msg->payload.mem.nregions, msg->fds,
			dev->mem_generation + 1, &mem);
	if (ret != 0)
		return ret;
	return vhu_dev_set_mem(dev, mem);
}

int
vhu_msg_add_mem_reg(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_mem_table *mem;
	int ret;

	RTE_SET_USED(reply);
	ret = vhu_mem_table_add(dev->mem, &msg->payload.region.region,
			msg->fds[0], VHU_MEM_MAX_REGIONS, &mem);
	if (ret == VHU_MEM_ADD_PRESENT) {
		/* QEMU (up to 8.x) repeats ADD_MEM_REG for each queue pair of
		 * a multiqueue virtio-net: the same region, same file. */
		VHU_DEV_LOG(DEBUG, dev, "ADD_MEM_REG: guest 0x%" PRIx64
			    "+0x%" PRIx64 " is already in the table as sent",
			    msg->payload.region.region.guest_phys_addr,
			    msg->payload.region.region.memory_size);
		return 0;
	}
	if (ret != 0)
		return ret;
	return vhu_dev_set_mem(dev, mem);
}

int
vhu_msg_rem_mem_reg(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	struct vhu_mem_table *mem;
	int ret;

	RTE_SET_USED(reply);
	if (dev->mem == NULL) {
		VHU_DEV_LOG(ERR, dev, "REM_MEM_REG with no memory table");
		return -ENOENT;
	}
	ret = vhu_mem_table_remove(dev->mem, &msg->payload.region.region, &mem);
	if (ret == -ENOENT) {
		const struct vhu_wire_mem_region *r = &msg->payload.region.region;

		/* Not an error: QEMU (up to 8.x) sends REM_MEM_REG once per
		 * queue pair of a multiqueue virtio-net, as it sends
		 * ADD_MEM_REG; the first one removed the region. Removing
		 * nothing changes nothing. (A region that is there but not
		 * as described is -EINVAL, logged by vhu_mem.) */
		VHU_DEV_LOG(DEBUG, dev, "REM_MEM_REG: no region with guest"
			    " address 0x%" PRIx64 ", size 0x%" PRIx64
			    ", front-end address 0x%" PRIx64 ": nothing to do",
			    r->guest_phys_addr, r->memory_size,
			    r->userspace_addr);
		return 0;
	}
	if (ret != 0)
		return ret;
	return vhu_dev_set_mem(dev, mem);
}

int
vhu_msg_set_log_base(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	uint64_t size = msg->payload.log.mmap_size;
	uint64_t offset = msg->payload.log.mmap_offset;
	struct vhu_guard *guard;
	uint64_t aligned, len, page;
	int ret;
	struct stat st;
	void *addr;

	if (size == 0 || offset > UINT64_MAX - size) {
		VHU_DEV_LOG(ERR, dev, "SET_LOG_BASE: bad size 0x%" PRIx64
			    " / offset 0x%" PRIx64, size, offset);
		return -EINVAL;
	}
	if (vhu_mem_check_fs("SET_LOG_BASE", msg->fds[0]) != 0)
		return -EPERM;
	if (fstat(msg->fds[0], &st) != 0) {
		VHU_DEV_LOG(ERR, dev, "SET_LOG_BASE: fstat: %s", strerror(errno));
		return -errno;
	}
	if ((uint64_t)st.st_size < offset + size) {
		VHU_DEV_LOG(ERR, dev, "SET_LOG_BASE: 0x%" PRIx64 "+0x%" PRIx64
			    " beyond the end of its fd (0x%" PRIx64 ")", offset,
			    size, (uint64_t)st.st_size);
		return -EINVAL;
	}
	/* A log on hugetlbfs is mapped (and guarded) in huge pages. */
	ret = vhu_mem_fd_page_size("SET_LOG_BASE", msg->fds[0], &page);
	if (ret != 0)
		return ret;
	aligned = offset & ~(page - 1);
	len = RTE_ALIGN_CEIL(size + (offset - aligned), page);
	addr = vhu_mem_map_shared(msg->fds[0], aligned, len);
	if (addr == MAP_FAILED) {
		VHU_DEV_LOG(ERR, dev, "SET_LOG_BASE: mmap: %s", strerror(errno));
		return -errno;
	}

	guard = vhu_guard_add(addr, len, page);
	if (guard == NULL) {
		VHU_DEV_LOG(ERR, dev, "SET_LOG_BASE: out of memory");
		munmap(addr, len);
		return -ENOMEM;
	}

	/* Every ring is held: no burst still logs into the old log, and
	 * the dispatcher derives the rings' log from the new one. */
	dev->guard_faults_dropped += vhu_guard_remove(dev->log_guard);
	vhu_unmap_release(dev->log_map_addr, dev->log_map_len, "dirty log");
	dev->log_guard = guard;
	dev->log_map_addr = addr;
	dev->log_map_len = len;
	dev->log_base = (uint8_t *)addr + (offset - aligned);
	dev->log_size = size;
	VHU_DEV_LOG(INFO, dev, "dirty log of %" PRIu64 " bytes", size);

	/* With LOG_SHMFD the front-end waits for an empty reply. */
	reply->size = 0;
	return 0;
}

int
vhu_msg_set_log_fd(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply)
{
	RTE_SET_USED(reply);
	if (dev->log_fd >= 0)
		close(dev->log_fd);
	dev->log_fd = msg->fds[0];
	msg->fds[0] = -1;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: the regions a front-end shares with SET_MEM_TABLE /
 * ADD_MEM_REG, mapped into this process, and address translation.
 *
 * Internal header. Threading: tables are built, published and retired by
 * the control thread only. The datapath only reads a published table
 * (vhu_mem_gpa_to_va) between the start and end of a burst; the control
 * thread retires a table (unmapping what the new table no longer uses)
 * only after the datapath has quiesced (see vhu_sync.h).
 *
 * A table is immutable once built: every change builds a new table on the
 * side (carrying the mappings it keeps over, by reference), so a rejected
 * change leaves the published table exactly as it was.
 */
#ifndef VHU_MEM_H
#define VHU_MEM_H

#include <stdint.h>
#include <sys/types.h>
#include <stddef.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "vhu_guard.h"
#include "vhu_wire.h"

/* Most regions a table holds; advertised by GET_MAX_MEM_SLOTS. */
#define VHU_MEM_MAX_REGIONS 509

/* One mmap of a region's fd; shared by every table that holds the region. */
struct vhu_mem_mapping {
	void *addr;          /* what mmap returned */
	size_t len;          /* what was mapped (page-rounded) */
	uint32_t refcnt;     /* tables holding it (control thread only) */
	dev_t file_dev;      /* the mapped file (fstat of its fd), to know */
	ino_t file_ino;      /* a repeated ADD_MEM_REG of it */
	/* SIGBUS guard of the mapping (vhu_guard.h): faults when the file
	 * shrank under it. */
	struct vhu_guard *guard;
};

struct vhu_mem_region {
	uint64_t gpa_start;   /* guest-physical start */
	uint64_t size;        /* bytes */
	uint64_t fe_va_start; /* the front-end's virtual address of gpa_start */
	uint64_t mmap_offset; /* offset of gpa_start in the region's fd */
	uint8_t *host_va;     /* our address of gpa_start */
	struct vhu_mem_mapping *mapping;
};

struct vhu_mem_table {
	uint32_t nregions;
	uint32_t generation;  /* bumped on every new table of a device */
	/* Sorted by gpa_start, no two overlapping in GPA or front-end VA. */
	struct vhu_mem_region regions[];
};

/*
 * mmap len bytes of fd from offset, shared and read-write, without
 * populating them even when the process runs under mlockall(MCL_FUTURE):
 * pages are faulted in when first touched. The cost is one mmap, munlock
 * and mprotect, whatever the size.
 * Called by: the control thread.
 * @return the address; MAP_FAILED with errno set (nothing stays mapped).
 */
void *vhu_mem_map_shared(int fd, uint64_t offset, size_t len);

/*
 * Refuse an fd on a filesystem whose page faults may wait on another
 * process or on a network (FUSE, NFS, CIFS, 9p, Ceph, ...): a front-end
 * that runs the FUSE daemon behind its "guest memory" could stop any
 * lcore touching it, for ever. The filesystem is found in /proc
 * (fdinfo's mnt_id, then mountinfo's type), because asking the file
 * itself (fstat, fstatfs) may already wait on such a daemon. An fd whose
 * mount /proc does not list (memfd's internal tmpfs and hugetlbfs, another
 * mount namespace's, a lazily unmounted one), or without /proc, is
 * accepted only if it is a shmem or hugetlbfs file (F_GET_SEALS).
 * Called by: the control thread, before any other use of the fd.
 * @return 0; -EPERM (refused, logged with the filesystem type); -EBADF
 *   (not an open fd).
 */
int vhu_mem_check_fs(const char *what, int fd);

/*
 * The page size a mapping of fd is made of: the huge page size on
 * hugetlbfs, else the system's.
 * Called by: the control thread, after vhu_mem_check_fs().
 * @return 0 and *page_size; -errno of fstatfs, -EINVAL (logged).
 */
int vhu_mem_fd_page_size(const char *what, int fd, uint64_t *page_size);

/*
 * Build a table from a SET_MEM_TABLE payload: validate every region (size
 * non-zero, no overflow of gpa/fe_va/offset + size, no overlap, offset +
 * size within the fd's real size), map each fd, sort by GPA.
 * fds[i] belongs to regions[i]; the fds are never closed here (the caller
 * owns them; a mapping outlives its fd).
 * Called by: the control thread.
 * @return 0 and *out set; -EINVAL (bad region), -ERANGE (too many
 *   regions), -ENOMEM, or -errno of a failed fstat/mmap. On error nothing
 *   is mapped and *out is untouched.
 */
int vhu_mem_table_from_message(const struct vhu_wire_mem_region *regions,
		uint32_t nregions, const int *fds, uint32_t generation,
		struct vhu_mem_table **out);

/* vhu_mem_table_add(): the region is already in the table, as it is. */
#define VHU_MEM_ADD_PRESENT 1

/*
 * Build a new table: old (may be NULL) plus one region mapped from fd.
 * Same validation as above, including no overlap with old's regions, and
 * the total stays <= max_regions. A region equal to one of old's (guest
 * and front-end address, size, mmap_offset, and fd on the same file) is
 * not an overlap: QEMU up to 8.x sends ADD_MEM_REG once per queue pair of
 * a multiqueue virtio-net, all on one connection.
 * Called by: the control thread.
 * @return 0 and *out set; VHU_MEM_ADD_PRESENT (nothing to do, *out
 *   untouched, nothing mapped); -EINVAL, -ERANGE, -EEXIST (overlap),
 *   -ENOMEM, -errno. On error old is unchanged and nothing new stays
 *   mapped.
 */
int vhu_mem_table_add(const struct vhu_mem_table *old,
		const struct vhu_wire_mem_region *region, int fd,
		uint32_t max_regions, struct vhu_mem_table **out);

/*
 * Build a new table: old without the region that has the same guest
 * address, front-end address and size (mmap_offset is not compared, as
 * the spec says).
 * Called by: the control thread.
 * @return 0 and *out set (may hold zero regions); -ENOENT when no region
 *   matches and none overlaps it (nothing logged: the caller decides);
 *   -EINVAL when one overlaps it without matching (logged); -ENOMEM.
 */
int vhu_mem_table_remove(const struct vhu_mem_table *old,
		const struct vhu_wire_mem_region *region,
		struct vhu_mem_table **out);

/*
 * Release a table: drop its references to its mappings and munmap those
 * no other table holds. NULL is a no-op.
 * Called by: the control thread, only once no datapath can use the table.
 * @return the SIGBUS faults (vhu_guard.h) of the mappings it unmapped, for
 *   the device to report: a fault is not forgotten with its mapping.
 */
uint64_t vhu_mem_table_free(struct vhu_mem_table *table);

/*
 * Translate a front-end virtual address range (ring addresses in
 * SET_VRING_ADDR) to our pointer. The whole [fe_va, fe_va + len) must lie
 * in one region.
 * Called by: the control thread.
 * @return our pointer, or NULL if the range is not wholly inside one region.
 */
void *vhu_mem_fe_va_to_va(const struct vhu_mem_table *table, uint64_t fe_va,
		uint64_t len);

/*
 * The guest-physical address of a front-end virtual address.
 * Called by: the control thread.
 * @return 0 and *gpa; -EINVAL if fe_va is in no region.
 */
int vhu_mem_fe_va_to_gpa(const struct vhu_mem_table *table, uint64_t fe_va,
		uint64_t *gpa);

/*
 * Slow path of vhu_mem_gpa_to_va: binary search over the sorted regions.
 * @return the index of the region holding gpa, or UINT32_MAX.
 */
uint32_t vhu_mem_find_gpa(const struct vhu_mem_table *table, uint64_t gpa);

/*
 * Translate a guest-physical address to our pointer.
 * *len is the number of bytes wanted on entry; on return, the number of
 * contiguous bytes available from the returned pointer, which is at most
 * the number wanted and may be less when the range crosses a region end
 * (callers loop over chunks). *hint is the caller's last-hit region index
 * (any value is safe: it is bounds-checked).
 * Called by: the datapath (any lcore), on a table it holds in a burst.
 * @return our pointer, or NULL when gpa is in no region.
 */
static __rte_always_inline void *
vhu_mem_gpa_to_va(const struct vhu_mem_table *table, uint64_t gpa,
		uint64_t *len, uint32_t *hint)
{
	uint32_t i = *hint;
	const struct vhu_mem_region *r;

	if (likely(i < table->nregions)) {
		r = &table->regions[i];
		if (likely(gpa - r->gpa_start < r->size))
			goto found;
	}
	i = vhu_mem_find_gpa(table, gpa);
	if (unlikely(i == UINT32_MAX))
		return NULL;
	*hint = i;
	r = &table->regions[i];
found:
	{
		uint64_t off = gpa - r->gpa_start;
		uint64_t left = r->size - off;

		if (*len > left)
			*len = left;
		return r->host_va + off;
	}
}

#endif /* VHU_MEM_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: memfd-backed regions laid out in guest-physical space with
 * gaps between them, a rotating bump allocator, and GPA <-> pointer
 * translation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vhu_fe_priv.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

struct vhu_fe_mem {
	unsigned int nregions;
	uint64_t page_size;
	struct vhu_fe_region region[VHU_FE_MAX_REGIONS];
	uint64_t used[VHU_FE_MAX_REGIONS];   /* bump pointer per region */
	unsigned int next;                   /* region the next alloc tries first */
	bool shared;                         /* one fd for all regions */
};

void
vhu_fe_mem_config_default(struct vhu_fe_mem_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nregions = 1;
	cfg->gpa_base = 0;
	cfg->gpa_gap = 64ull << 20;
}

static int
mem_memfd(const char *name, bool hugetlb, uint64_t *page_size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | (hugetlb ? MFD_HUGETLB : 0));

	if (fd < 0) {
		int err = errno;
		VHU_FE_LOG("memfd_create(%s%s) failed: %s%s", name,
			   hugetlb ? ", MFD_HUGETLB" : "", strerror(err),
			   hugetlb ? " (hugetlbfs unavailable; no fallback)" : "");
		return -err;
	}
	if (hugetlb) {
		struct statfs sfs;

		if (fstatfs(fd, &sfs) != 0 || sfs.f_bsize <= 0) {
			int err = errno ? errno : EINVAL;
			VHU_FE_LOG("fstatfs on hugetlb memfd failed: %s",
				   strerror(err));
			close(fd);
			return -err;
		}
		*page_size = (uint64_t)sfs.f_bsize;
	} else {
		*page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	}
	return fd;
}

static int
mem_check_config(const struct vhu_fe_mem_config *cfg)
{
	if (cfg->nregions < 1 || cfg->nregions > VHU_FE_MAX_REGIONS) {
		VHU_FE_LOG("guest memory: %u regions, want 1..%u",
			   cfg->nregions, VHU_FE_MAX_REGIONS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nregions; i++) {
		if (cfg->region_size[i] == 0) {
			VHU_FE_LOG("guest memory: region %u has size 0", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* Place regions in GPA space and in their files; sizes must be page
 * multiples. Returns the file size needed by a shared fd. */
static int
mem_layout(struct vhu_fe_mem *mem, const struct vhu_fe_mem_config *cfg,
	   uint64_t *shared_size)
{
	uint64_t gpa = cfg->gpa_base, off = 0, ps = mem->page_size;

	if (cfg->gpa_base % ps != 0 || cfg->gpa_gap % ps != 0) {
		VHU_FE_LOG("guest memory: gpa_base 0x%" PRIx64 " and gpa_gap 0x%"
			   PRIx64 " must be multiples of the page size 0x%" PRIx64,
			   cfg->gpa_base, cfg->gpa_gap, ps);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nregions; i++) {
		struct vhu_fe_region *r = &mem->region[i];
		uint64_t size = cfg->region_size[i];

		if (size % ps != 0) {
			VHU_FE_LOG("guest memory: region %u size 0x%" PRIx64
				   " is not a multiple of the page size 0x%" PRIx64,
				   i, size, ps);
			return -EINVAL;
		}
		if (gpa + size < gpa || gpa + size + cfg->gpa_gap < gpa + size) {
			VHU_FE_LOG("guest memory: region %u overflows GPA space", i);
			return -EINVAL;
		}
		r->gpa = gpa;
		r->size = size;
		if (cfg->share_fd) {
			off += ps;     /* padding so every offset is non-zero */
			r->mmap_offset = off;
			off += size;
		} else {
			r->mmap_offset = 0;
		}
		gpa += size + cfg->gpa_gap;
	}
	*shared_size = off;
	return 0;
}

static int
mem_map_region(struct vhu_fe_region *r, unsigned int i, bool hugetlb)
{
	void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, (off_t)r->mmap_offset);

	if (p == MAP_FAILED) {
		int err = errno;
		VHU_FE_LOG("mmap of region %u (%" PRIu64 " bytes at offset %" PRIu64
			   ") failed: %s%s", i, r->size, r->mmap_offset,
			   strerror(err), hugetlb ? " (not enough free huge "
			   "pages? no fallback)" : "");
		return -err;
	}
	r->hva = p;
	return 0;
}

static int
mem_truncate(int fd, uint64_t size, bool hugetlb)
{
	if (ftruncate(fd, (off_t)size) == 0)
		return 0;
	int err = errno;
	VHU_FE_LOG("ftruncate(%" PRIu64 ") of guest memory failed: %s%s", size,
		   strerror(err), hugetlb ? " (not enough huge pages?)" : "");
	return -err;
}

int
vhu_fe_mem_create(const struct vhu_fe_mem_config *cfg, struct vhu_fe_mem **out)
{
	struct vhu_fe_mem *mem;
	uint64_t shared_size;
	int fd, rc;

	*out = NULL;
	rc = mem_check_config(cfg);
	if (rc < 0)
		return rc;
	mem = calloc(1, sizeof(*mem));
	if (mem == NULL) {
		VHU_FE_LOG("out of memory for guest memory object");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < VHU_FE_MAX_REGIONS; i++)
		mem->region[i].fd = -1;
	mem->shared = cfg->share_fd;

	/* The first fd tells the page size the layout must respect. */
	fd = mem_memfd("vhu-fe-guest", cfg->hugetlb, &mem->page_size);
	if (fd < 0) {
		free(mem);
		return fd;
	}
	mem->region[0].fd = fd;
	mem->nregions = cfg->nregions;
	rc = mem_layout(mem, cfg, &shared_size);
	if (rc < 0)
		goto fail;

	for (unsigned int i = 0; i < cfg->nregions; i++) {
		struct vhu_fe_region *r = &mem->region[i];
		uint64_t ps;

		if (i > 0) {
			if (cfg->share_fd) {
				r->fd = fd;
			} else {
				r->fd = mem_memfd("vhu-fe-guest", cfg->hugetlb, &ps);
				if (r->fd < 0) {
					rc = r->fd;
					goto fail;
				}
			}
		}
		if (!cfg->share_fd || i == 0) {
			rc = mem_truncate(r->fd, cfg->share_fd ? shared_size :
					  r->size, cfg->hugetlb);
			if (rc < 0)
				goto fail;
		}
		rc = mem_map_region(r, i, cfg->hugetlb);
		if (rc < 0)
			goto fail;
	}
	*out = mem;
	return 0;
fail:
	vhu_fe_mem_destroy(mem);
	return rc;
}

void
vhu_fe_mem_destroy(struct vhu_fe_mem *mem)
{
	if (mem == NULL)
		return;
	for (unsigned int i = 0; i < VHU_FE_MAX_REGIONS; i++) {
		struct vhu_fe_region *r = &mem->region[i];

		if (r->hva != NULL)
			munmap(r->hva, r->size);
		if (r->fd >= 0 && (!mem->shared || i == 0))
			close(r->fd);
	}
	free(mem);
}

unsigned int
vhu_fe_mem_nregions(const struct vhu_fe_mem *mem)
{
	return mem->nregions;
}

const struct vhu_fe_region *
vhu_fe_mem_region(const struct vhu_fe_mem *mem, unsigned int i)
{
	return i < mem->nregions ? &mem->region[i] : NULL;
}

uint64_t
vhu_fe_mem_page_size(const struct vhu_fe_mem *mem)
{
	return mem->page_size;
}

uint64_t
vhu_fe_mem_free_bytes(const struct vhu_fe_mem *mem, unsigned int region)
{
	if (region >= mem->nregions)
		return 0;
	return mem->region[region].size - mem->used[region];
}

/* Allocate in one region; NULL without logging when it has no room. */
static void *
mem_alloc_region(struct vhu_fe_mem *mem, unsigned int i, size_t size,
		 size_t align)
{
	struct vhu_fe_region *r = &mem->region[i];
	uint64_t start = (mem->used[i] + align - 1) & ~((uint64_t)align - 1);

	if (start < mem->used[i] || start > r->size || size > r->size - start)
		return NULL;
	mem->used[i] = start + size;
	uint8_t *p = (uint8_t *)r->hva + start;
	memset(p, 0, size);
	return p;
}

static bool
mem_align_ok(size_t size, size_t align)
{
	if (size == 0 || align == 0 || (align & (align - 1)) != 0) {
		VHU_FE_LOG("guest alloc: bad size %zu / alignment %zu", size, align);
		return false;
	}
	return true;
}

void *
vhu_fe_mem_alloc(struct vhu_fe_mem *mem, size_t size, size_t align)
{
	if (!mem_align_ok(size, align))
		return NULL;
	for (unsigned int k = 0; k < mem->nregions; k++) {
		unsigned int i = (mem->next + k) % mem->nregions;
		void *p = mem_alloc_region(mem, i, size, align);

		if (p != NULL) {
			mem->next = (i + 1) % mem->nregions;
			return p;
		}
	}
	VHU_FE_LOG("guest memory exhausted: no region has %zu free bytes", size);
	return NULL;
}

void *
vhu_fe_mem_alloc_in(struct vhu_fe_mem *mem, unsigned int region, size_t size,
		    size_t align)
{
	if (!mem_align_ok(size, align))
		return NULL;
	if (region >= mem->nregions) {
		VHU_FE_LOG("guest alloc: region %u out of range (%u regions)",
			   region, mem->nregions);
		return NULL;
	}
	void *p = mem_alloc_region(mem, region, size, align);
	if (p == NULL)
		VHU_FE_LOG("guest memory region %u has no %zu free bytes",
			   region, size);
	return p;
}

uint64_t
vhu_fe_mem_to_gpa(const struct vhu_fe_mem *mem, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct vhu_fe_region *r = &mem->region[i];
		uintptr_t base = (uintptr_t)r->hva;

		if (a >= base && a - base <= r->size && len <= r->size - (a - base))
			return r->gpa + (a - base);
	}
	return VHU_FE_BAD_GPA;
}

void *
vhu_fe_mem_from_gpa(const struct vhu_fe_mem *mem, uint64_t gpa, size_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct vhu_fe_region *r = &mem->region[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return (uint8_t *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void
vhu_fe_region_to_wire(const struct vhu_fe_region *r,
		      struct vhu_wire_mem_region *w)
{
	w->guest_phys_addr = r->gpa;
	w->memory_size = r->size;
	w->userspace_addr = (uint64_t)(uintptr_t)r->hva;
	w->mmap_offset = r->mmap_offset;
}

int
vhu_fe_region_create(uint64_t gpa, uint64_t size, struct vhu_fe_region *r)
{
	void *hva;
	int fd, err;

	r->fd = -1;
	if (size == 0 || size > (uint64_t)INT64_MAX || gpa > UINT64_MAX - size) {
		VHU_FE_LOG("region: %" PRIu64 " bytes at GPA 0x%" PRIx64
			   " is empty or wraps", size, gpa);
		return -EINVAL;
	}
	fd = memfd_create("vhu-fe-region", MFD_CLOEXEC);
	if (fd < 0) {
		err = errno;
		VHU_FE_LOG("region: memfd_create: %s", strerror(err));
		return -err;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		err = errno;
		VHU_FE_LOG("region: ftruncate to %" PRIu64 " bytes: %s", size,
			   strerror(err));
		close(fd);
		return -err;
	}
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (hva == MAP_FAILED) {
		err = errno;
		VHU_FE_LOG("region: mmap of %" PRIu64 " bytes: %s", size,
			   strerror(err));
		close(fd);
		return -err;
	}
	*r = (struct vhu_fe_region){ .fd = fd, .gpa = gpa, .size = size,
		.mmap_offset = 0, .hva = hva };
	return 0;
}

void
vhu_fe_region_destroy(struct vhu_fe_region *r)
{
	if (r->fd < 0)
		return;
	munmap(r->hva, (size_t)r->size);
	close(r->fd);
	r->fd = -1;
}

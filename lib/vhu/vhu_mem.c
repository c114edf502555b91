/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory tables: validation, mapping, reference counting of the
 * mappings shared between successive tables, and address translation.
 *
 * Every entry point that builds a table works in two phases:
 *   1. validate everything (fields, overlaps, fds, sizes), changing nothing;
 *   2. allocate and mmap; on any failure undo exactly what this call did.
 * So a refused message leaves no mapping, no allocation and the caller's
 * published table exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>


#include "vhu_log.h"
#include "vhu_mem.h"
#include "vhu_unmap.h"

/* A region that passed validation, waiting to be mapped. */
struct pending_region {
	uint64_t gpa_start;
	uint64_t size;
	uint64_t fe_va_start;
	uint64_t mmap_offset;
	int fd;
	uint64_t page_size;  /* of the fd's file system */
	dev_t file_dev;      /* fstat of fd */
	ino_t file_ino;
};

/* True when [a, a + asz) and [b, b + bsz) share a byte; ends do not wrap
 * (check_fields() refused every region whose end overflows). */
static bool
ranges_overlap(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	return a < b + bsz && b < a + asz;
}

/* True when [b, b + bsz), its end clamped to 2^64 (a front-end's range,
 * not checked), shares a byte with a table's [a, a + asz). */
static bool
range_touches(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	uint64_t b_end = bsz > UINT64_MAX - b ? UINT64_MAX : b + bsz;

	return bsz != 0 && a < b_end && b < a + asz;
}

/*
 * Field checks that need no fd. what names the region in the log
 * ("SET_MEM_TABLE region 2", "ADD_MEM_REG region").
 */
static int
check_fields(const char *what, const struct vhu_wire_mem_region *w,
		struct pending_region *p)
{
	uint64_t gpa = w->guest_phys_addr;
	uint64_t size = w->memory_size;
	uint64_t va = w->userspace_addr;
	uint64_t off = w->mmap_offset;

	if (size == 0) {
		VHU_LOG(ERR, "%s: size is 0", what);
		return -EINVAL;
	}
	if (size > UINT64_MAX - gpa) {
		VHU_LOG(ERR, "%s: guest address 0x%" PRIx64
			" + size 0x%" PRIx64 " overflows", what, gpa, size);
		return -EINVAL;
	}
	if (size > UINT64_MAX - va) {
		VHU_LOG(ERR, "%s: front-end address 0x%" PRIx64
			" + size 0x%" PRIx64 " overflows", what, va, size);
		return -EINVAL;
	}
	if (size > UINT64_MAX - off) {
		VHU_LOG(ERR, "%s: mmap offset 0x%" PRIx64
			" + size 0x%" PRIx64 " overflows", what, off, size);
		return -EINVAL;
	}
	p->gpa_start = gpa;
	p->size = size;
	p->fe_va_start = va;
	p->mmap_offset = off;
	p->fd = -1;
	p->page_size = 0;
	return 0;
}

/* -EEXIST when a and b overlap in guest-physical or front-end space. */
static int
check_no_overlap(const char *what, const struct pending_region *a,
		uint64_t b_gpa, uint64_t b_va, uint64_t b_size)
{
	if (ranges_overlap(a->gpa_start, a->size, b_gpa, b_size)) {
		VHU_LOG(ERR, "%s: guest range 0x%" PRIx64 "+0x%" PRIx64
			" overlaps region at 0x%" PRIx64 "+0x%" PRIx64,
			what, a->gpa_start, a->size, b_gpa, b_size);
		return -EEXIST;
	}
	if (ranges_overlap(a->fe_va_start, a->size, b_va, b_size)) {
		VHU_LOG(ERR, "%s: front-end range 0x%" PRIx64
			"+0x%" PRIx64 " overlaps region at 0x%" PRIx64 "+0x%" PRIx64,
			what, a->fe_va_start, a->size, b_va, b_size);
		return -EEXIST;
	}
	return 0;
}

/* Filesystems whose page faults may wait on a daemon or a network. */
static bool
vhu_mem_fs_may_stall(const char *type)
{
	static const char *const remote[] = {
		"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "afs",
		"virtiofs", "lustre",
	};

	/* fuse, fuseblk and every fuse.<subtype> */
	if (strncmp(type, "fuse", 4) == 0)
		return true;
	for (size_t i = 0; i < RTE_DIM(remote); i++)
		if (strcmp(type, remote[i]) == 0)
			return true;
	return false;
}

/*
 * Call fn on each line of a /proc file, read through a stack buffer (no
 * heap, no stdio: this runs for every region of every table) until it
 * returns true. Lines longer than the buffer are skipped.
 * @return what the last call returned; false if the file cannot be read.
 */
static bool
vhu_mem_proc_lines(const char *path, bool (*fn)(const char *line, void *arg),
		void *arg)
{
	char buf[4096];
	size_t have = 0;
	bool skipping = false, done = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (!done) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while (!done && (nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (!skipping)
				done = fn(line, arg);
			skipping = false;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) {
			/* A line longer than the buffer: drop it. */
			skipping = true;
			have = 0;
		}
	}
	close(fd);
	return done;
}

static bool
vhu_mem_fdinfo_line(const char *line, void *arg)
{
	return sscanf(line, "mnt_id: %ld", (long *)arg) == 1;
}

/* The mount id of fd (/proc/self/fdinfo), or -1 if unknown. */
static long
vhu_mem_fd_mount_id(int fd)
{
	char path[64];
	long id = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!vhu_mem_proc_lines(path, vhu_mem_fdinfo_line, &id))
		return -1;
	return id;
}

struct vhu_mem_mount_query {
	long id;
	char type[64];
};

/* A /proc/self/mountinfo line: "ID PARENT MAJ:MIN ROOT POINT OPTIONS
 * [TAGS...] - TYPE SOURCE SUPER". */
static bool
vhu_mem_mountinfo_line(const char *line, void *arg)
{
	struct vhu_mem_mount_query *q = arg;
	const char *sep;

	if (strtol(line, NULL, 10) != q->id)
		return false;
	sep = strstr(line, " - ");
	return sep != NULL && sscanf(sep + 3, "%63s", q->type) == 1;
}

/* The filesystem type of mount id into type; false if not listed. */
static bool
vhu_mem_mount_type(long id, char *type, size_t len)
{
	struct vhu_mem_mount_query q = { .id = id };

	if (!vhu_mem_proc_lines("/proc/self/mountinfo",
				vhu_mem_mountinfo_line, &q))
		return false;
	snprintf(type, len, "%s", q.type);
	return true;
}

int
vhu_mem_check_fs(const char *what, int fd)
{
	long id = vhu_mem_fd_mount_id(fd);
	char type[64];

	if (id >= 0 && vhu_mem_mount_type(id, type, sizeof(type))) {
		if (!vhu_mem_fs_may_stall(type))
			return 0;
		VHU_LOG(ERR, "%s: fd %d is a file on %s: refused (a fault on "
			"its pages may wait for ever on its server)", what,
			fd, type);
		return -EPERM;
	}
	/*
	 * A mount this process cannot see (a memfd's internal one, another
	 * mount namespace's, a lazily unmounted one) or no /proc: only
	 * files of shmem (tmpfs, memfd) and hugetlbfs, which never wait on
	 * anyone, answer F_GET_SEALS, without asking any filesystem.
	 */
	if (fcntl(fd, F_GET_SEALS) >= 0)
		return 0;
	if (errno == EBADF) {
		VHU_LOG(ERR, "%s: fd %d is not open", what, fd);
		return -EBADF;
	}
	VHU_LOG(ERR, "%s: fd %d is on a filesystem this process cannot see "
		"and is not a memfd, tmpfs or hugetlbfs file: refused", what,
		fd);
	return -EPERM;
}

int
vhu_mem_fd_page_size(const char *what, int fd, uint64_t *page_size)
{
	struct statfs sfs;
	long sz;

	if (fstatfs(fd, &sfs) < 0) {
		int err = errno;

		VHU_LOG(ERR, "%s: fstatfs of fd %d failed: %s",
			what, fd, strerror(err));
		return -err;
	}
	if ((unsigned long)sfs.f_type == (unsigned long)HUGETLBFS_MAGIC) {
		if (sfs.f_bsize <= 0 ||
		    (sfs.f_bsize & (sfs.f_bsize - 1)) != 0) {
			VHU_LOG(ERR, "%s: hugetlbfs fd %d reports"
				" page size %ld", what, fd,
				(long)sfs.f_bsize);
			return -EINVAL;
		}
		*page_size = (uint64_t)sfs.f_bsize;
		return 0;
	}
	sz = sysconf(_SC_PAGESIZE);
	*page_size = sz > 0 ? (uint64_t)sz : 4096;
	return 0;
}

/*
 * The fd's checks: it is open, on a filesystem that cannot stall a page
 * fault for ever (vhu_mem_check_fs), mmap_offset + size lies within the file
 * (mapping past the end would SIGBUS on first touch), and the page size
 * to align the mapping to (hugetlbfs files must be mapped in huge pages).
 */
static int
check_fd(const char *what, int fd, struct pending_region *p)
{
	struct stat st;
	uint64_t end = p->mmap_offset + p->size; /* checked by check_fields() */
	uint64_t pgsz;
	int ret;

	if (fd < 0) {
		VHU_LOG(ERR, "%s: no fd (%d)", what, fd);
		return -EBADF;
	}
	ret = vhu_mem_check_fs(what, fd);
	if (ret != 0)
		return ret;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		VHU_LOG(ERR, "%s: fstat of fd %d failed: %s",
			what, fd, strerror(err));
		return -err;
	}
	if (st.st_size < 0 || end > (uint64_t)st.st_size) {
		VHU_LOG(ERR, "%s: offset 0x%" PRIx64 " + size 0x%"
			PRIx64 " beyond end of fd %d (size 0x%" PRIx64 ")",
			what, p->mmap_offset, p->size, fd,
			(uint64_t)st.st_size);
		return -EINVAL;
	}
	ret = vhu_mem_fd_page_size(what, fd, &pgsz);
	if (ret != 0)
		return ret;
	p->fd = fd;
	p->page_size = pgsz;
	p->file_dev = st.st_dev;
	p->file_ino = st.st_ino;
	return 0;
}

void *
vhu_mem_map_shared(int fd, uint64_t offset, size_t len)
{
	void *addr;
	int err;

	/*
	 * Under mlockall(MCL_FUTURE) (testpmd, OVS --mlockall) a readable
	 * mapping is populated at once: a front-end could make us commit
	 * a sparse 1 TiB file, charged to our cgroup, with the control
	 * thread blocked meanwhile. A PROT_NONE mapping is never
	 * populated; unlocked, then opened up, it stays lazy: the
	 * datapath faults pages in on first touch (doc/datapath.md).
	 */
	addr = mmap(NULL, len, PROT_NONE, MAP_SHARED, fd, (off_t)offset);
	if (addr == MAP_FAILED)
		return MAP_FAILED;
	if (munlock(addr, len) != 0 ||
	    mprotect(addr, len, PROT_READ | PROT_WRITE) != 0) {
		err = errno;
		munmap(addr, len);
		errno = err;
		return MAP_FAILED;
	}
	return addr;
}

/* Drop a table's reference; the last one unmaps. @return the SIGBUS
 * faults the mapping had when it went (0 while it stays). */
static uint32_t
mapping_put(struct vhu_mem_mapping *m)
{
	uint32_t faults;

	if (--m->refcnt != 0)
		return 0;
	faults = vhu_guard_remove(m->guard);
	vhu_unmap_release(m->addr, m->len, "guest memory");
	free(m);
	return faults;
}

/*
 * mmap one validated region and fill *r, whose mapping then holds one
 * reference (the table being built).
 */
static int
map_region(const char *what, const struct pending_region *p,
		struct vhu_mem_region *r)
{
	uint64_t aligned_off = p->mmap_offset & ~(p->page_size - 1);
	uint64_t lead = p->mmap_offset - aligned_off;
	/* mmap_offset + size <= st_size <= INT64_MAX, so no overflow here. */
	uint64_t len = RTE_ALIGN_CEIL(lead + p->size, p->page_size);
	struct vhu_mem_mapping *m;
	void *addr;

#if SIZE_MAX < UINT64_MAX
	if (len > SIZE_MAX) {
		VHU_LOG(ERR, "%s: size 0x%" PRIx64
			" too large for this process", what, p->size);
		return -EINVAL;
	}
#endif
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		VHU_LOG(ERR, "%s: out of memory", what);
		return -ENOMEM;
	}
	addr = vhu_mem_map_shared(p->fd, aligned_off, (size_t)len);
	if (addr == MAP_FAILED) {
		int err = errno;

		VHU_LOG(ERR, "%s: mmap of fd %d, offset 0x%" PRIx64
			", length 0x%" PRIx64 " failed: %s", what, p->fd,
			aligned_off, len, strerror(err));
		free(m);
		return -err;
	}
	/* Guest memory has no place in our core dumps (size, privacy). */
	if (madvise(addr, (size_t)len, MADV_DONTDUMP) < 0)
		VHU_LOG(DEBUG, "%s: madvise(DONTDUMP) failed: %s",
			what, strerror(errno));
	m->addr = addr;
	m->len = (size_t)len;
	m->refcnt = 1;
	m->file_dev = p->file_dev;
	m->file_ino = p->file_ino;
	m->guard = vhu_guard_add(addr, (size_t)len, (size_t)p->page_size);
	if (m->guard == NULL) {
		VHU_LOG(ERR, "%s: out of memory", what);
		munmap(addr, (size_t)len);
		free(m);
		return -ENOMEM;
	}

	r->gpa_start = p->gpa_start;
	r->size = p->size;
	r->fe_va_start = p->fe_va_start;
	r->mmap_offset = p->mmap_offset;
	r->host_va = (uint8_t *)addr + lead;
	r->mapping = m;
	VHU_LOG(DEBUG, "%s: guest 0x%" PRIx64 "+0x%" PRIx64
		" front-end 0x%" PRIx64 " fd %d offset 0x%" PRIx64
		" mapped at %p (0x%" PRIx64 " bytes, page 0x%" PRIx64 ")",
		what, p->gpa_start, p->size, p->fe_va_start, p->fd,
		p->mmap_offset, (void *)r->host_va, len, p->page_size);
	return 0;
}

static struct vhu_mem_table *
table_alloc(uint32_t nregions)
{
	size_t sz = sizeof(struct vhu_mem_table) +
		(size_t)nregions * sizeof(struct vhu_mem_region);
	struct vhu_mem_table *t;

	/* libc memory: tables outlive nothing of EAL's (see vhu_api.c). */
	sz = RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE);
	t = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
	if (t != NULL)
		memset(t, 0, sz);
	if (t == NULL)
		VHU_LOG(ERR, "cannot allocate a memory table of %" PRIu32
			" regions", nregions);
	return t;
}

int
vhu_mem_table_from_message(const struct vhu_wire_mem_region *regions,
		uint32_t nregions, const int *fds, uint32_t generation,
		struct vhu_mem_table **out)
{
	struct pending_region p[VHU_WIRE_MAX_TABLE_REGIONS];
	char what[VHU_WIRE_MAX_TABLE_REGIONS][40];
	struct vhu_mem_table *t;
	uint32_t i, j;
	int ret;

	/* Zero regions is a valid (empty) table: a guest with no memory the
	 * front-end can share. Postcopy's empty ack is the caller's business. */
	if (nregions > VHU_WIRE_MAX_TABLE_REGIONS) {
		VHU_LOG(ERR, "SET_MEM_TABLE: %" PRIu32 " regions, at most %d",
			nregions, VHU_WIRE_MAX_TABLE_REGIONS);
		return -ERANGE;
	}
	for (i = 0; i < nregions; i++) {
		snprintf(what[i], sizeof(what[i]), "SET_MEM_TABLE region %" PRIu32, i);
		ret = check_fields(what[i], &regions[i], &p[i]);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < nregions; i++) {
		for (j = 0; j < i; j++) {
			ret = check_no_overlap(what[i], &p[i], p[j].gpa_start,
				p[j].fe_va_start, p[j].size);
			if (ret < 0)
				return -EINVAL;
		}
	}
	for (i = 0; i < nregions; i++) {
		ret = check_fd(what[i], fds[i], &p[i]);
		if (ret < 0)
			return ret;
	}

	t = table_alloc(nregions);
	if (t == NULL)
		return -ENOMEM;
	for (i = 0; i < nregions; i++) {
		/* Insertion sort by guest address (at most 8 regions). */
		struct vhu_mem_region r;

		ret = map_region(what[i], &p[i], &r);
		if (ret < 0) {
			t->nregions = i;
			vhu_mem_table_free(t);
			return ret;
		}
		for (j = i; j > 0 && t->regions[j - 1].gpa_start > r.gpa_start; j--)
			t->regions[j] = t->regions[j - 1];
		t->regions[j] = r;
		t->nregions = i + 1;
	}
	t->generation = generation;
	*out = t;
	return 0;
}

int
vhu_mem_table_add(const struct vhu_mem_table *old,
		const struct vhu_wire_mem_region *region, int fd,
		uint32_t max_regions, struct vhu_mem_table **out)
{
	static const char what[] = "ADD_MEM_REG region";
	uint32_t old_n = old != NULL ? old->nregions : 0;
	struct pending_region p;
	struct vhu_mem_region r;
	struct vhu_mem_table *t;
	uint32_t i, pos;
	int ret;

	if (max_regions > VHU_MEM_MAX_REGIONS)
		max_regions = VHU_MEM_MAX_REGIONS;
	ret = check_fields(what, region, &p);
	if (ret < 0)
		return ret;
	ret = check_fd(what, fd, &p);
	if (ret < 0)
		return ret;
	for (i = 0; i < old_n; i++) {
		const struct vhu_mem_region *o = &old->regions[i];

		if (o->gpa_start == p.gpa_start && o->size == p.size &&
		    o->fe_va_start == p.fe_va_start &&
		    o->mmap_offset == p.mmap_offset &&
		    o->mapping->file_dev == p.file_dev &&
		    o->mapping->file_ino == p.file_ino)
			return VHU_MEM_ADD_PRESENT;
		ret = check_no_overlap(what, &p, o->gpa_start,
			o->fe_va_start, o->size);
		if (ret < 0)
			return ret;
	}
	if (old_n >= max_regions) {
		VHU_LOG(ERR, "ADD_MEM_REG: table already holds %" PRIu32
			" regions, at most %" PRIu32, old_n, max_regions);
		return -ERANGE;
	}

	t = table_alloc(old_n + 1);
	if (t == NULL)
		return -ENOMEM;
	ret = map_region(what, &p, &r);
	if (ret < 0) {
		free(t);
		return ret;
	}
	/* Nothing can fail from here: take the references. */
	for (pos = 0; pos < old_n && old->regions[pos].gpa_start < r.gpa_start; pos++)
		;
	for (i = 0; i < old_n; i++) {
		t->regions[i < pos ? i : i + 1] = old->regions[i];
		old->regions[i].mapping->refcnt++;
	}
	t->regions[pos] = r;
	t->nregions = old_n + 1;
	t->generation = old != NULL ? old->generation + 1 : 1;
	*out = t;
	return 0;
}

int
vhu_mem_table_remove(const struct vhu_mem_table *old,
		const struct vhu_wire_mem_region *region,
		struct vhu_mem_table **out)
{
	uint64_t gpa = region->guest_phys_addr;
	uint64_t size = region->memory_size;
	uint64_t va = region->userspace_addr;
	uint32_t old_n = old != NULL ? old->nregions : 0;
	struct vhu_mem_table *t;
	uint32_t i, victim = UINT32_MAX;

	for (i = 0; i < old_n; i++) {
		const struct vhu_mem_region *o = &old->regions[i];

		if (o->gpa_start == gpa && o->size == size &&
		    o->fe_va_start == va) {
			victim = i;
			break;
		}
	}
	if (victim == UINT32_MAX) {
		/* Nothing there is fine (QEMU repeats REM_MEM_REG per queue
		 * pair); a region that is there but not as described is the
		 * front-end's mistake, and must not pass for "removed". */
		for (i = 0; i < old_n; i++) {
			const struct vhu_mem_region *o = &old->regions[i];

			if (range_touches(o->gpa_start, o->size, gpa, size) ||
			    range_touches(o->fe_va_start, o->size, va, size)) {
				VHU_LOG(ERR, "REM_MEM_REG: guest 0x%" PRIx64
					"+0x%" PRIx64 " front-end 0x%" PRIx64
					" overlaps region 0x%" PRIx64 "+0x%"
					PRIx64 " front-end 0x%" PRIx64
					" without being it", gpa, size, va,
					o->gpa_start, o->size, o->fe_va_start);
				return -EINVAL;
			}
		}
		return -ENOENT;
	}
	t = table_alloc(old_n - 1);
	if (t == NULL)
		return -ENOMEM;
	for (i = 0; i < old_n; i++) {
		if (i == victim)
			continue;
		t->regions[i < victim ? i : i - 1] = old->regions[i];
		old->regions[i].mapping->refcnt++;
	}
	t->nregions = old_n - 1;
	t->generation = old->generation + 1;
	*out = t;
	return 0;
}

uint64_t
vhu_mem_table_free(struct vhu_mem_table *table)
{
	uint64_t faults = 0;
	uint32_t i;

	if (table == NULL)
		return 0;
	for (i = 0; i < table->nregions; i++)
		faults += mapping_put(table->regions[i].mapping);
	free(table);
	return faults;
}

void *
vhu_mem_fe_va_to_va(const struct vhu_mem_table *table, uint64_t fe_va,
		uint64_t len)
{
	uint32_t i;

	if (table == NULL)
		return NULL;
	for (i = 0; i < table->nregions; i++) {
		const struct vhu_mem_region *r = &table->regions[i];
		uint64_t off = fe_va - r->fe_va_start; /* wraps when below */

		/* A zero-length range still needs fe_va inside the region. */
		if (off < r->size && len <= r->size - off)
			return r->host_va + off;
	}
	return NULL;
}

int
vhu_mem_fe_va_to_gpa(const struct vhu_mem_table *table, uint64_t fe_va,
		uint64_t *gpa)
{
	uint32_t i;

	if (table == NULL)
		return -EINVAL;
	for (i = 0; i < table->nregions; i++) {
		const struct vhu_mem_region *r = &table->regions[i];
		uint64_t off = fe_va - r->fe_va_start; /* wraps when below */

		if (off < r->size) {
			*gpa = r->gpa_start + off;
			return 0;
		}
	}
	return -EINVAL;
}

uint32_t
vhu_mem_find_gpa(const struct vhu_mem_table *table, uint64_t gpa)
{
	uint32_t lo = 0, hi;

	if (table == NULL)
		return UINT32_MAX;
	/* Find the last region starting at or below gpa. */
	hi = table->nregions;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (table->regions[mid].gpa_start <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return UINT32_MAX;
	lo--;
	if (gpa - table->regions[lo].gpa_start >= table->regions[lo].size)
		return UINT32_MAX;
	return lo;
}

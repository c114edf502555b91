/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of lib/vhu/vhu_mem.c: guest memory tables built from memfds
 * (and hugetlbfs when this machine has free huge pages), translation, every
 * class of refused region, and add/remove with mappings shared between
 * tables.
 *
 * Leak checks: each case compares, before and after, the number of
 * mappings of this test's files in /proc/self/maps (lines naming
 * "vhu-test-mem": counting every line would also count the allocators'
 * own mappings), the number of open fds and DPDK's heap allocation count.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "vhu_mem.h"
#include "vhu_test.h"

VHU_TEST_MAIN_DEFS;

#define FILE_TAG "vhu-test-mem"
#define KIB 1024ull
#define PG 4096ull

/* ---- leak accounting ---- */

struct snap {
	long maps;       /* mappings of our test files */
	long fds;        /* open fds */
	unsigned allocs; /* DPDK heap elements in use */
};

static long
count_tagged_maps(void)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, FILE_TAG) != NULL)
			n++;
	fclose(f);
	return n;
}

static unsigned
heap_allocs(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			n += st.alloc_count;
	}
	return n;
}

static struct snap
snap_take(void)
{
	struct snap s = {
		.maps = count_tagged_maps(),
		.fds = vhu_test_count_fds(),
		.allocs = heap_allocs(),
	};
	return s;
}

#define CHECK_SNAP(before) do { \
	struct snap now_ = snap_take(); \
	VT_CHECK((before).maps >= 0); \
	VT_CHECK_EQ(now_.maps, (before).maps); \
	VT_CHECK_EQ(now_.fds, (before).fds); \
	VT_CHECK_EQ(now_.allocs, (before).allocs); \
} while (0)

/* ---- helpers ---- */

static int
make_memfd(uint64_t size)
{
	int fd = memfd_create(FILE_TAG, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The same file through a read-only fd: fstat passes, mmap(PROT_WRITE,
 * MAP_SHARED) fails with EACCES. */
static int
reopen_ro(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static struct vhu_wire_mem_region
wreg(uint64_t gpa, uint64_t size, uint64_t va, uint64_t off)
{
	struct vhu_wire_mem_region r = {
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = va,
		.mmap_offset = off,
	};
	return r;
}

static uint8_t
fd_byte(int fd, uint64_t off)
{
	uint8_t b = 0;

	if (pread(fd, &b, 1, (off_t)off) != 1)
		return 0xee;
	return b;
}

static bool
fd_set_byte(int fd, uint64_t off, uint8_t b)
{
	return pwrite(fd, &b, 1, (off_t)off) == 1;
}

/* Our pointer to one guest byte, or NULL. */
static uint8_t *
gpa_byte(const struct vhu_mem_table *t, uint64_t gpa)
{
	uint64_t len = 1;
	uint32_t hint = 0;

	return vhu_mem_gpa_to_va(t, gpa, &len, &hint);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static void
shuffle(uint32_t *a, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)(rng_next() % i);
		uint32_t tmp = a[i - 1];

		a[i - 1] = a[j];
		a[j] = tmp;
	}
}

static bool
table_sorted(const struct vhu_mem_table *t)
{
	for (uint32_t i = 1; i < t->nregions; i++)
		if (t->regions[i - 1].gpa_start + t->regions[i - 1].size >
		    t->regions[i].gpa_start)
			return false;
	return true;
}

#define SENTINEL ((struct vhu_mem_table *)(uintptr_t)0x5a5a5a5a)

/* from_message must refuse with want, touching nothing. */
static void
expect_msg_reject(const struct vhu_wire_mem_region *r, uint32_t n,
		const int *fds, int want)
{
	struct snap before = snap_take();
	struct vhu_mem_table *out = SENTINEL;

	VT_CHECK_EQ(vhu_mem_table_from_message(r, n, fds, 1, &out), want);
	VT_CHECK(out == SENTINEL);
	CHECK_SNAP(before);
}

/* Fingerprint of a table, to prove a refused change left it alone. */
static uint64_t
table_sum(const struct vhu_mem_table *t)
{
	uint64_t s = ((uint64_t)t->nregions << 32) ^ t->generation;

	for (uint32_t i = 0; i < t->nregions; i++) {
		const struct vhu_mem_region *r = &t->regions[i];

		s = s * 31 + r->gpa_start + r->size * 3 + r->fe_va_start * 5 +
			r->mmap_offset * 7 + (uintptr_t)r->host_va +
			(uintptr_t)r->mapping + r->mapping->refcnt;
	}
	return s;
}

static void
expect_add_reject(const struct vhu_mem_table *old,
		const struct vhu_wire_mem_region *r, int fd, uint32_t max,
		int want)
{
	struct snap before = snap_take();
	struct vhu_mem_table *out = SENTINEL;
	uint64_t sum = old != NULL ? table_sum(old) : 0;

	VT_CHECK_EQ(vhu_mem_table_add(old, r, fd, max, &out), want);
	VT_CHECK(out == SENTINEL);
	if (old != NULL)
		VT_CHECK(table_sum(old) == sum);
	CHECK_SNAP(before);
}

/* ---- cases ---- */

/* One memfd region: translation at both ends, writes seen by the fd. */
static void
test_one_region(void)
{
	struct snap before = snap_take();
	const uint64_t gpa = 0x100000, size = 64 * KIB, va = 0x7f0000000000ull;
	struct vhu_wire_mem_region w = wreg(gpa, size, va, 0);
	struct vhu_mem_table *t = NULL;
	uint64_t len;
	uint32_t hint = 0;
	uint8_t *p;
	int fd = make_memfd(size);

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_from_message(&w, 1, &fd, 7, &t), 0);
	VT_CHECK(t != NULL);
	VT_CHECK_EQ(t->nregions, 1);
	VT_CHECK_EQ(t->generation, 7);
	VT_CHECK(((uintptr_t)t % RTE_CACHE_LINE_SIZE) == 0);
	VT_CHECK_EQ(t->regions[0].gpa_start, gpa);
	VT_CHECK_EQ(t->regions[0].size, size);
	VT_CHECK_EQ(t->regions[0].fe_va_start, va);
	VT_CHECK_EQ(t->regions[0].mapping->refcnt, 1);
	VT_CHECK_EQ(t->regions[0].mapping->len, size);
	VT_CHECK(t->regions[0].host_va == t->regions[0].mapping->addr);
	VT_CHECK_EQ(count_tagged_maps(), before.maps + 1);

	/* First byte. */
	len = 16;
	p = vhu_mem_gpa_to_va(t, gpa, &len, &hint);
	VT_CHECK(p == t->regions[0].host_va);
	VT_CHECK_EQ(len, 16);
	p[0] = 0xa1;
	VT_CHECK_EQ(fd_byte(fd, 0), 0xa1);
	VT_CHECK(fd_set_byte(fd, 1, 0xb2));
	VT_CHECK_EQ(p[1], 0xb2);

	/* Last byte: asking for more is clipped to what the region holds. */
	len = 100;
	p = vhu_mem_gpa_to_va(t, gpa + size - 1, &len, &hint);
	VT_CHECK(p == t->regions[0].host_va + size - 1);
	VT_CHECK_EQ(len, 1);
	*p = 0xc3;
	VT_CHECK_EQ(fd_byte(fd, size - 1), 0xc3);

	/* Just outside on either side. */
	len = 1;
	VT_CHECK(vhu_mem_gpa_to_va(t, gpa + size, &len, &hint) == NULL);
	VT_CHECK(vhu_mem_gpa_to_va(t, gpa - 1, &len, &hint) == NULL);
	VT_CHECK(vhu_mem_gpa_to_va(t, 0, &len, &hint) == NULL);
	VT_CHECK(vhu_mem_gpa_to_va(t, UINT64_MAX, &len, &hint) == NULL);

	vhu_mem_table_free(t);
	close(fd);
	CHECK_SNAP(before);
}

/*
 * Eight regions in a scrambled message order, with gaps, two of them
 * adjacent, some at non-zero page-aligned offsets of larger files: the
 * table is sorted and each region reads its own fd.
 */
static void
test_eight_regions(void)
{
	struct snap before = snap_take();
	/* message order deliberately not GPA order */
	static const struct {
		uint64_t gpa, size, off, file;
	} spec[8] = {
		{ 0x00500000, 16 * KIB,  8 * KIB, 32 * KIB },
		{ 0x00000000, 4 * KIB,   0,       4 * KIB },
		{ 0x40000000, 128 * KIB, 0,       128 * KIB },
		{ 0x00101000, 8 * KIB,   4 * KIB, 12 * KIB }, /* ends at ... */
		{ 0x00103000, 4 * KIB,   0,       8 * KIB },  /* ... starts here */
		{ 0x100000000ull, 64 * KIB, 64 * KIB, 192 * KIB },
		{ 0x00020000, 12 * KIB,  0,       12 * KIB },
		{ 0x00800000, 4 * KIB,   60 * KIB, 64 * KIB },
	};
	struct vhu_wire_mem_region w[8];
	int fds[8];
	struct vhu_mem_table *t = NULL;
	uint32_t hint = 0;

	for (uint32_t i = 0; i < 8; i++) {
		fds[i] = make_memfd(spec[i].file);
		VT_CHECK(fds[i] >= 0);
		/* front-end addresses in a different order than guest ones */
		w[i] = wreg(spec[i].gpa, spec[i].size,
			0x7f0000000000ull + (uint64_t)(7 - i) * 0x1000000,
			spec[i].off);
		VT_CHECK(fd_set_byte(fds[i], spec[i].off, (uint8_t)(0x10 + i)));
		VT_CHECK(fd_set_byte(fds[i], spec[i].off + spec[i].size - 1,
			(uint8_t)(0x20 + i)));
	}
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 8, fds, 2, &t), 0);
	VT_CHECK_EQ(t->nregions, 8);
	VT_CHECK(table_sorted(t));
	VT_CHECK_EQ(count_tagged_maps(), before.maps + 8);

	for (uint32_t i = 0; i < 8; i++) {
		uint8_t *first = gpa_byte(t, spec[i].gpa);
		uint8_t *last = gpa_byte(t, spec[i].gpa + spec[i].size - 1);
		uint32_t idx = vhu_mem_find_gpa(t, spec[i].gpa);

		VT_CHECK(first != NULL && last != NULL);
		VT_CHECK(idx < 8);
		VT_CHECK_EQ(t->regions[idx].fe_va_start, w[i].userspace_addr);
		VT_CHECK_EQ(t->regions[idx].mmap_offset, spec[i].off);
		VT_CHECK_EQ(*first, 0x10 + i);
		VT_CHECK_EQ(*last, 0x20 + i);
		/* and the other way round */
		first[1] = (uint8_t)(0x30 + i);
		VT_CHECK_EQ(fd_byte(fds[i], spec[i].off + 1), 0x30 + i);
		/* the byte after the region is not translated (gaps) */
		if (i != 3)
			VT_CHECK(gpa_byte(t, spec[i].gpa + spec[i].size) == NULL);
	}
	/* gaps */
	VT_CHECK(gpa_byte(t, 0x1000) == NULL);
	VT_CHECK(gpa_byte(t, 0x00100fff) == NULL);
	VT_CHECK(gpa_byte(t, 0x3fffffff) == NULL);
	VT_CHECK(gpa_byte(t, 0x100010000ull) == NULL);

	/* A range across the end of region 3 into adjacent region 4 comes
	 * back in two chunks. */
	{
		uint64_t end3 = spec[3].gpa + spec[3].size;
		uint64_t len = 64;
		uint8_t *a = vhu_mem_gpa_to_va(t, end3 - 8, &len, &hint);
		uint8_t *b;

		VT_CHECK(a != NULL);
		VT_CHECK_EQ(len, 8);
		VT_CHECK_EQ(a[7], 0x23);
		len = 56;
		b = vhu_mem_gpa_to_va(t, end3, &len, &hint);
		VT_CHECK(b != NULL);
		VT_CHECK_EQ(len, 56);
		VT_CHECK_EQ(b[0], 0x14);
	}

	vhu_mem_table_free(t);
	for (uint32_t i = 0; i < 8; i++)
		close(fds[i]);
	CHECK_SNAP(before);
}

/*
 * mmap_offset not on a page boundary: the mapping starts at the page
 * below, host_va points at the region's first byte.
 */
static void
test_unaligned_offset(void)
{
	struct snap before = snap_take();
	const uint64_t off = 0x1234, size = 0x1000, gpa = 0x200000;
	/* a second region ending exactly at the end of the file */
	const uint64_t off2 = 0x2234, size2 = 0x3000 - 0x2234, gpa2 = 0x300000;
	struct vhu_wire_mem_region w[2] = {
		wreg(gpa, size, 0x10000000, off),
		wreg(gpa2, size2, 0x20000000, off2),
	};
	struct vhu_mem_table *t = NULL;
	const struct vhu_mem_region *r;
	uint8_t *p;
	int fd = make_memfd(3 * PG);
	int fds[2] = { fd, fd };

	VT_CHECK(fd >= 0);
	VT_CHECK(fd_set_byte(fd, off, 0x5a));
	VT_CHECK(fd_set_byte(fd, off + size - 1, 0x5b));
	VT_CHECK(fd_set_byte(fd, 3 * PG - 1, 0x5c));
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 2, fds, 1, &t), 0);
	r = &t->regions[0];
	VT_CHECK(((uintptr_t)r->mapping->addr % PG) == 0);
	VT_CHECK_EQ((uintptr_t)(r->host_va - (uint8_t *)r->mapping->addr),
		off % PG);
	VT_CHECK_EQ(r->mapping->len, 2 * PG); /* 0x234 + 0x1000 → 2 pages */
	VT_CHECK_EQ(t->regions[1].mapping->len, PG);

	p = gpa_byte(t, gpa);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x5a);
	p = gpa_byte(t, gpa + size - 1);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x5b);
	p = gpa_byte(t, gpa + 0x10);
	*p = 0x6d;
	VT_CHECK_EQ(fd_byte(fd, off + 0x10), 0x6d);
	p = gpa_byte(t, gpa2 + size2 - 1);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x5c);
	/* front-end address of the same byte */
	p = vhu_mem_fe_va_to_va(t, 0x10000000 + 0x10, 1);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x6d);

	vhu_mem_table_free(t);
	close(fd);
	CHECK_SNAP(before);
}

/* Hint handling and the binary search. */
static void
test_gpa_hint(void)
{
	struct snap before = snap_take();
	struct vhu_wire_mem_region w[3] = {
		wreg(0x30000, 4 * KIB, 0x3000000, 0),
		wreg(0x10000, 4 * KIB, 0x1000000, 0),
		wreg(0x20000, 8 * KIB, 0x2000000, 0),
	};
	struct vhu_mem_table *t = NULL, *empty = NULL;
	int fd = make_memfd(8 * KIB);
	int fds[3] = { fd, fd, fd };
	uint64_t len;
	uint32_t hint;
	void *p;
	static const uint32_t stale[] = { 3, 4, 1000, UINT32_MAX - 1, UINT32_MAX };

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 3, fds, 1, &t), 0);
	VT_CHECK_EQ(t->regions[0].gpa_start, 0x10000);
	VT_CHECK_EQ(t->regions[1].gpa_start, 0x20000);
	VT_CHECK_EQ(t->regions[2].gpa_start, 0x30000);

	/* search */
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x10000), 0);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x10fff), 0);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x11000), UINT32_MAX);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x21fff), 1);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x30000), 2);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x30fff), 2);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0x31000), UINT32_MAX);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0), UINT32_MAX);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, 0xffff), UINT32_MAX);
	VT_CHECK_EQ(vhu_mem_find_gpa(t, UINT64_MAX), UINT32_MAX);

	/* a miss through the hint finds the region and updates the hint */
	hint = 0;
	len = 4;
	p = vhu_mem_gpa_to_va(t, 0x30010, &len, &hint);
	VT_CHECK(p == t->regions[2].host_va + 0x10);
	VT_CHECK_EQ(hint, 2);
	/* a hit keeps it */
	p = vhu_mem_gpa_to_va(t, 0x30020, &len, &hint);
	VT_CHECK(p == t->regions[2].host_va + 0x20);
	VT_CHECK_EQ(hint, 2);
	/* a wrong but in-range hint */
	p = vhu_mem_gpa_to_va(t, 0x20010, &len, &hint);
	VT_CHECK(p == t->regions[1].host_va + 0x10);
	VT_CHECK_EQ(hint, 1);
	/* hints beyond nregions (e.g. from a larger, older table) */
	for (size_t i = 0; i < RTE_DIM(stale); i++) {
		hint = stale[i];
		len = 4;
		p = vhu_mem_gpa_to_va(t, 0x10004, &len, &hint);
		VT_CHECK(p == t->regions[0].host_va + 4);
		VT_CHECK_EQ(hint, 0);
		VT_CHECK_EQ(len, 4);
	}
	/* a miss leaves the hint alone */
	hint = 1;
	VT_CHECK(vhu_mem_gpa_to_va(t, 0x28000, &len, &hint) == NULL);
	VT_CHECK_EQ(hint, 1);

	/* an empty table translates nothing, whatever the hint */
	VT_CHECK_EQ(vhu_mem_table_from_message(NULL, 0, NULL, 9, &empty), 0);
	VT_CHECK_EQ(empty->nregions, 0);
	VT_CHECK_EQ(empty->generation, 9);
	hint = 2;
	VT_CHECK(vhu_mem_gpa_to_va(empty, 0x30000, &len, &hint) == NULL);
	VT_CHECK_EQ(vhu_mem_find_gpa(empty, 0), UINT32_MAX);
	VT_CHECK(vhu_mem_fe_va_to_va(empty, 0x3000000, 1) == NULL);

	vhu_mem_table_free(empty);
	vhu_mem_table_free(t);
	vhu_mem_table_free(NULL);
	close(fd);
	CHECK_SNAP(before);
}

/* A front-end range translates only when wholly inside one region. */
static void
test_fe_va(void)
{
	struct snap before = snap_take();
	const uint64_t va = 0x7f1200000000ull;
	/* adjacent in front-end space, far apart in guest space */
	struct vhu_wire_mem_region w[2] = {
		wreg(0x0, 64 * KIB, va, 0),
		wreg(0x80000000, 32 * KIB, va + 64 * KIB, 0),
	};
	struct vhu_mem_table *t = NULL;
	int fd = make_memfd(64 * KIB);
	int fds[2] = { fd, fd };
	uint8_t *a, *b;

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 2, fds, 1, &t), 0);
	a = t->regions[0].host_va;
	b = t->regions[1].host_va;

	VT_CHECK(vhu_mem_fe_va_to_va(t, va, 64 * KIB) == a);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 100, 16) == a + 100);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 64 * KIB - 1, 1) == a + 64 * KIB - 1);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 64 * KIB - 1, 2) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 1, 64 * KIB) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 64 * KIB, 32 * KIB) == b);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 96 * KIB - 4, 4) == b + 32 * KIB - 4);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 96 * KIB, 1) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va - 1, 1) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va - 1, 2) == NULL);
	/* overflowing lengths */
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 10, UINT64_MAX) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 10, UINT64_MAX - va) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, UINT64_MAX, 1) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(t, UINT64_MAX, UINT64_MAX) == NULL);
	/* zero length: the address itself must be inside */
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 5, 0) == a + 5);
	VT_CHECK(vhu_mem_fe_va_to_va(t, va + 96 * KIB, 0) == NULL);
	/* guest addresses are not front-end addresses */
	VT_CHECK(vhu_mem_fe_va_to_va(t, 0x10, 1) == NULL);
	VT_CHECK(vhu_mem_fe_va_to_va(NULL, va, 1) == NULL);

	vhu_mem_table_free(t);
	close(fd);
	CHECK_SNAP(before);
}

/* Zero regions is accepted as an empty table (see vhu_mem.c). */
static void
test_empty_message(void)
{
	struct snap before = snap_take();
	struct vhu_mem_table *t = NULL, *t2 = NULL, *t3 = NULL;
	struct vhu_wire_mem_region w = wreg(0x1000, PG, 0x1000, 0);
	int fd = make_memfd(PG);

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_from_message(NULL, 0, NULL, 4, &t), 0);
	VT_CHECK(t != NULL);
	VT_CHECK_EQ(t->nregions, 0);
	VT_CHECK_EQ(t->generation, 4);
	/* an empty table grows and shrinks like any other */
	VT_CHECK_EQ(vhu_mem_table_add(t, &w, fd, VHU_MEM_MAX_REGIONS, &t2), 0);
	VT_CHECK_EQ(t2->nregions, 1);
	VT_CHECK_EQ(t2->generation, 5);
	VT_CHECK_EQ(vhu_mem_table_remove(t2, &w, &t3), 0);
	VT_CHECK_EQ(t3->nregions, 0);
	VT_CHECK_EQ(t3->generation, 6);
	vhu_mem_table_free(t);
	vhu_mem_table_free(t2);
	vhu_mem_table_free(t3);
	close(fd);
	CHECK_SNAP(before);
}

/* ---- rejections ---- */

/* Builds a valid 3-region message over one 64 KiB memfd in *w / fds. */
static int
good_three(struct vhu_wire_mem_region w[3], int fds[3])
{
	int fd = make_memfd(64 * KIB);

	w[0] = wreg(0x000000, 16 * KIB, 0x10000000, 0);
	w[1] = wreg(0x100000, 16 * KIB, 0x20000000, 16 * KIB);
	w[2] = wreg(0x200000, 32 * KIB, 0x30000000, 32 * KIB);
	fds[0] = fds[1] = fds[2] = fd;
	return fd;
}

/* Accepts the message (a positive control next to a rejection). */
static void
expect_msg_ok(const struct vhu_wire_mem_region *r, uint32_t n, const int *fds)
{
	struct snap before = snap_take();
	struct vhu_mem_table *t = NULL;

	VT_CHECK_EQ(vhu_mem_table_from_message(r, n, fds, 1, &t), 0);
	VT_CHECK_EQ(t->nregions, n);
	vhu_mem_table_free(t);
	CHECK_SNAP(before);
}

static void
test_reject_zero_size(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	expect_msg_ok(w, 3, fds);
	w[2].memory_size = 0;
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* not page aligned: a zero-size region would still map one page */
	w[2].mmap_offset += 1;
	expect_msg_reject(w, 3, fds, -EINVAL);
	close(fd);
}

static void
test_reject_gpa_overflow(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	w[2].guest_phys_addr = UINT64_MAX - 0xfff; /* + 32 KiB wraps */
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* ending exactly at 2^64 is refused too (the end is not representable) */
	w[2].guest_phys_addr = 0 - w[2].memory_size;
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* ending one byte below is fine */
	w[2].guest_phys_addr = UINT64_MAX - w[2].memory_size;
	expect_msg_ok(w, 3, fds);
	close(fd);
}

static void
test_reject_fe_va_overflow(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	w[0].userspace_addr = UINT64_MAX - 0xfff;
	expect_msg_reject(w, 3, fds, -EINVAL);
	w[0].userspace_addr = 0 - w[0].memory_size;
	expect_msg_reject(w, 3, fds, -EINVAL);
	close(fd);
}

static void
test_reject_offset_overflow(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	/* offset + size wraps to 0x7000, inside the 64 KiB file: only the
	 * overflow check can catch it (CVE-2020-10722). */
	w[1].mmap_offset = UINT64_MAX - 0xfff;
	expect_msg_reject(w, 3, fds, -EINVAL);
	w[1].mmap_offset = 0 - w[1].memory_size;
	expect_msg_reject(w, 3, fds, -EINVAL);
	close(fd);
}

static void
test_reject_gpa_overlap(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	/* adjacent is fine */
	w[1].guest_phys_addr = w[0].guest_phys_addr + w[0].memory_size;
	expect_msg_ok(w, 3, fds);
	/* one byte of overlap is not */
	w[1].guest_phys_addr -= 1;
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* one inside the other, listed first */
	w[1].guest_phys_addr = w[2].guest_phys_addr - PG;
	w[1].memory_size = 64 * KIB;
	w[1].mmap_offset = 0;
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* the same region twice */
	w[1] = w[2];
	expect_msg_reject(w, 3, fds, -EINVAL);
	close(fd);
}

static void
test_reject_va_overlap(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);

	VT_CHECK(fd >= 0);
	w[2].userspace_addr = w[0].userspace_addr + w[0].memory_size;
	expect_msg_ok(w, 3, fds);
	w[2].userspace_addr -= 1;
	expect_msg_reject(w, 3, fds, -EINVAL);
	w[2].userspace_addr = w[0].userspace_addr - 1; /* covers all of w[0] */
	expect_msg_reject(w, 3, fds, -EINVAL);
	close(fd);
}

static void
test_reject_beyond_fd_end(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);
	int small = make_memfd(8 * KIB);

	VT_CHECK(fd >= 0 && small >= 0);
	/* exactly to the end is fine */
	fds[2] = small;
	w[2].mmap_offset = 4 * KIB;
	w[2].memory_size = 4 * KIB;
	expect_msg_ok(w, 3, fds);
	/* one byte more would SIGBUS on touch */
	w[2].memory_size = 4 * KIB + 1;
	expect_msg_reject(w, 3, fds, -EINVAL);
	w[2].mmap_offset = 8 * KIB;
	w[2].memory_size = 1;
	expect_msg_reject(w, 3, fds, -EINVAL);
	w[2].mmap_offset = 1ull << 40;
	expect_msg_reject(w, 3, fds, -EINVAL);
	/* an fd with no size (a pipe): on no filesystem vhu can see and
	 * not shmem, refused before its size is asked (vhu_mem_check_fs) */
	{
		int p[2];

		VT_CHECK(pipe(p) == 0);
		fds[2] = p[0];
		w[2].mmap_offset = 0;
		w[2].memory_size = PG;
		expect_msg_reject(w, 3, fds, -EPERM);
		close(p[0]);
		close(p[1]);
	}
	close(small);
	close(fd);
}

static void
test_reject_bad_fd(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);
	int closed = make_memfd(PG);

	VT_CHECK(fd >= 0 && closed >= 0);
	close(closed);
	fds[1] = -1;
	expect_msg_reject(w, 3, fds, -EBADF);
	fds[1] = closed;
	expect_msg_reject(w, 3, fds, -EBADF);
	fds[1] = INT32_MIN;
	expect_msg_reject(w, 3, fds, -EBADF);
	close(fd);
}

static void
test_reject_too_many(void)
{
	struct vhu_wire_mem_region w[VHU_WIRE_MAX_TABLE_REGIONS + 1];
	int fds[VHU_WIRE_MAX_TABLE_REGIONS + 1];
	int fd = make_memfd(PG);

	VT_CHECK(fd >= 0);
	for (uint32_t i = 0; i <= VHU_WIRE_MAX_TABLE_REGIONS; i++) {
		w[i] = wreg(i * 0x100000ull, PG, 0x10000000 + i * 0x100000ull, 0);
		fds[i] = fd;
	}
	expect_msg_ok(w, VHU_WIRE_MAX_TABLE_REGIONS, fds);
	expect_msg_reject(w, VHU_WIRE_MAX_TABLE_REGIONS + 1, fds, -ERANGE);
	expect_msg_reject(w, UINT32_MAX, fds, -ERANGE);
	close(fd);
}

/* mmap fails on the third region: the two mapped before are undone. */
static void
test_reject_mmap_failure_rollback(void)
{
	struct vhu_wire_mem_region w[3];
	int fds[3];
	int fd = good_three(w, fds);
	int ro = reopen_ro(fd);

	VT_CHECK(fd >= 0 && ro >= 0);
	fds[2] = ro;
	expect_msg_reject(w, 3, fds, -EACCES);
	close(ro);
	close(fd);
}

/* Every refusal of ADD_MEM_REG leaves the old table as it was. */
static void
test_reject_add(void)
{
	struct snap before = snap_take();
	struct vhu_wire_mem_region w[3], n;
	int fds[3];
	int fd = good_three(w, fds);
	int ro = reopen_ro(fd);
	int closed = make_memfd(PG);
	struct vhu_mem_table *old = NULL;

	VT_CHECK(fd >= 0 && ro >= 0 && closed >= 0);
	close(closed);
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 2, fds, 1, &old), 0);
	n = wreg(0x300000, 4 * KIB, 0x40000000, 0);

	expect_add_reject(old, &n, fd, 2, -ERANGE);
	expect_add_reject(old, &n, fd, 0, -ERANGE);
	n.memory_size = 0;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EINVAL);
	n.memory_size = 4 * KIB;
	n.guest_phys_addr = UINT64_MAX - 10;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EINVAL);
	n.guest_phys_addr = 0x300000;
	n.userspace_addr = UINT64_MAX - 10;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EINVAL);
	n.userspace_addr = 0x40000000;
	n.mmap_offset = UINT64_MAX - 10;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EINVAL);
	n.mmap_offset = 64 * KIB - 1;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EINVAL);
	n.mmap_offset = 0;
	/* overlaps with the old table's regions */
	n.guest_phys_addr = w[1].guest_phys_addr + w[1].memory_size - 1;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EEXIST);
	n.guest_phys_addr = w[0].guest_phys_addr;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EEXIST);
	n.guest_phys_addr = 0x300000;
	n.userspace_addr = w[0].userspace_addr + 8 * KIB;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EEXIST);
	n.userspace_addr = w[1].userspace_addr - 1;
	expect_add_reject(old, &n, fd, VHU_MEM_MAX_REGIONS, -EEXIST);
	/* A region already in the table, sent again as it is (QEMU sends
	 * ADD_MEM_REG per queue pair): nothing to do, not even when the
	 * table is full; the same ranges in another file, or at another
	 * offset of the same file, overlap. */
	expect_add_reject(old, &w[1], fd, VHU_MEM_MAX_REGIONS, VHU_MEM_ADD_PRESENT);
	expect_add_reject(old, &w[1], fd, 2, VHU_MEM_ADD_PRESENT);
	{
		struct vhu_wire_mem_region moved = w[1];
		int other = make_memfd(64 * KIB);

		VT_CHECK(other >= 0);
		expect_add_reject(old, &w[1], other, VHU_MEM_MAX_REGIONS, -EEXIST);
		moved.mmap_offset = 0;
		expect_add_reject(old, &moved, fd, VHU_MEM_MAX_REGIONS, -EEXIST);
		close(other);
	}
	n.userspace_addr = 0x40000000;
	/* fds */
	expect_add_reject(old, &n, -1, VHU_MEM_MAX_REGIONS, -EBADF);
	expect_add_reject(old, &n, closed, VHU_MEM_MAX_REGIONS, -EBADF);
	expect_add_reject(old, &n, ro, VHU_MEM_MAX_REGIONS, -EACCES);
	/* with no old table */
	expect_add_reject(NULL, &n, ro, VHU_MEM_MAX_REGIONS, -EACCES);
	expect_add_reject(NULL, &n, fd, 0, -ERANGE);
	/* and the positive control: the same region is accepted */
	{
		struct vhu_mem_table *t = NULL;

		VT_CHECK_EQ(vhu_mem_table_add(old, &n, fd, 3, &t), 0);
		VT_CHECK_EQ(t->nregions, 3);
		vhu_mem_table_free(t);
	}
	vhu_mem_table_free(old);
	close(ro);
	close(fd);
	CHECK_SNAP(before);
}

static void
test_reject_remove(void)
{
	struct snap before = snap_take();
	struct vhu_wire_mem_region w[3], n;
	int fds[3];
	int fd = good_three(w, fds);
	struct vhu_mem_table *old = NULL, *out = SENTINEL, *t = NULL;
	uint64_t sum;

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 3, fds, 1, &old), 0);
	sum = table_sum(old);
	/* A region that is there but not as described: -EINVAL. */
	n = w[1];
	n.memory_size -= 1;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -EINVAL);
	n = w[1];
	n.userspace_addr += PG;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -EINVAL);
	n = w[1];
	n.guest_phys_addr += PG;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -EINVAL);
	/* Nothing there at all: -ENOENT (the device acks it: QEMU repeats
	 * REM_MEM_REG per queue pair), also with an end past 2^64. */
	n = wreg(0x900000, 4 * KIB, 0x90000000, 0);
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -ENOENT);
	n.memory_size = UINT64_MAX;
	n.guest_phys_addr = UINT64_MAX - 10;
	n.userspace_addr = UINT64_MAX - 10;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -ENOENT);
	n.memory_size = 0;
	n.guest_phys_addr = w[1].guest_phys_addr;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &out), -ENOENT);
	VT_CHECK_EQ(vhu_mem_table_remove(NULL, &w[1], &out), -ENOENT);
	VT_CHECK(out == SENTINEL);
	VT_CHECK(table_sum(old) == sum);
	/* mmap_offset is not compared */
	n = w[1];
	n.mmap_offset = 12345;
	VT_CHECK_EQ(vhu_mem_table_remove(old, &n, &t), 0);
	VT_CHECK_EQ(t->nregions, 2);
	VT_CHECK_EQ(t->generation, 2);
	VT_CHECK(vhu_mem_find_gpa(t, w[1].guest_phys_addr) == UINT32_MAX);
	VT_CHECK(table_sum(old) != sum); /* refcnts went up */
	vhu_mem_table_free(t);
	VT_CHECK(table_sum(old) == sum);
	vhu_mem_table_free(old);
	close(fd);
	CHECK_SNAP(before);
}

/* ---- add / remove ---- */

#define N_ADD VHU_MEM_MAX_REGIONS

static uint64_t
add_gpa(uint32_t i)
{
	return 0x100000000ull + (uint64_t)i * 0x10000; /* 4 KiB + gap */
}

static uint64_t
add_va(uint32_t i)
{
	/* reversed so front-end and guest orders differ */
	return 0x7e0000000000ull + (uint64_t)(N_ADD - i) * 0x2000;
}

static uint64_t
add_magic(uint32_t i)
{
	return 0xfeedface00000000ull ^ ((uint64_t)i * 0x9e3779b1u);
}

/* Region i of the add/remove test reads its magic, or is absent. */
static bool
add_check(const struct vhu_mem_table *t, uint32_t i, bool present)
{
	uint64_t len = 8, v;
	uint32_t hint = i;
	uint8_t *p = vhu_mem_gpa_to_va(t, add_gpa(i) + 16, &len, &hint);

	if (!present)
		return p == NULL &&
			vhu_mem_fe_va_to_va(t, add_va(i), 1) == NULL;
	if (p == NULL || len != 8)
		return false;
	memcpy(&v, p, 8);
	return v == add_magic(i) &&
		vhu_mem_fe_va_to_va(t, add_va(i) + 16, 8) == p;
}

/*
 * Fill a table to VHU_MEM_MAX_REGIONS with ADD_MEM_REG in random order,
 * then empty it with REM_MEM_REG in another random order; each old table
 * stays readable until freed.
 */
static void
test_add_remove_max(void)
{
	struct snap before = snap_take();
	static uint32_t order[N_ADD];
	static bool present[N_ADD];
	struct vhu_mem_table *cur = NULL, *next = NULL;
	struct vhu_wire_mem_region w;
	uint32_t gen;

	for (uint32_t i = 0; i < N_ADD; i++) {
		order[i] = i;
		present[i] = false;
	}
	shuffle(order, N_ADD);

	for (uint32_t k = 0; k < N_ADD; k++) {
		uint32_t i = order[k];
		uint64_t magic = add_magic(i);
		int fd = make_memfd(4 * KIB);

		VT_CHECK(fd >= 0);
		VT_CHECK(pwrite(fd, &magic, 8, 16) == 8);
		w = wreg(add_gpa(i), 4 * KIB, add_va(i), 0);
		next = NULL;
		VT_CHECK_EQ(vhu_mem_table_add(cur, &w, fd, VHU_MEM_MAX_REGIONS,
			&next), 0);
		close(fd); /* the mapping outlives the fd */
		VT_CHECK_EQ(next->nregions, k + 1);
		VT_CHECK_EQ(next->generation, k + 1);
		VT_CHECK(table_sorted(next));
		present[i] = true;
		if (cur != NULL) {
			/* carried mappings are shared, not remapped */
			uint32_t j = vhu_mem_find_gpa(cur, add_gpa(order[0]));
			uint32_t jn = vhu_mem_find_gpa(next, add_gpa(order[0]));

			VT_CHECK(cur->regions[j].mapping == next->regions[jn].mapping);
			VT_CHECK_EQ(cur->regions[j].mapping->refcnt, 2);
			/* the old table still reads, without the new region */
			VT_CHECK(add_check(cur, order[0], true));
			VT_CHECK(add_check(cur, i, false));
		}
		vhu_mem_table_free(cur);
		cur = next;
		VT_CHECK_EQ(cur->regions[0].mapping->refcnt, 1);
		/* spot-check, and everything now and then */
		VT_CHECK(add_check(cur, i, true));
		if (k % 64 == 0 || k == N_ADD - 1)
			for (uint32_t j = 0; j < N_ADD; j++)
				VT_CHECK(add_check(cur, j, present[j]));
	}
	VT_CHECK_EQ(count_tagged_maps(), before.maps + N_ADD);
	VT_CHECK_EQ(vhu_test_count_fds(), before.fds);

	/* full: one more is refused, whatever max the caller passes */
	{
		int fd = make_memfd(4 * KIB);

		VT_CHECK(fd >= 0);
		w = wreg(add_gpa(N_ADD), 4 * KIB, 0x100000, 0);
		expect_add_reject(cur, &w, fd, VHU_MEM_MAX_REGIONS, -ERANGE);
		expect_add_reject(cur, &w, fd, UINT32_MAX, -ERANGE);
		close(fd);
	}

	shuffle(order, N_ADD);
	gen = cur->generation;
	for (uint32_t k = 0; k < N_ADD; k++) {
		uint32_t i = order[k];
		struct vhu_mem_table *out = SENTINEL;

		w = wreg(add_gpa(i), 4 * KIB, add_va(i), 0);
		next = NULL;
		VT_CHECK_EQ(vhu_mem_table_remove(cur, &w, &next), 0);
		VT_CHECK_EQ(next->nregions, N_ADD - k - 1);
		VT_CHECK_EQ(next->generation, gen + k + 1);
		VT_CHECK(table_sorted(next));
		present[i] = false;
		/* removing it again from the new table: -ENOENT */
		VT_CHECK_EQ(vhu_mem_table_remove(next, &w, &out), -ENOENT);
		VT_CHECK(out == SENTINEL);
		/* the old table still maps the removed region */
		VT_CHECK(add_check(cur, i, true));
		VT_CHECK(add_check(next, i, false));
		vhu_mem_table_free(cur);
		cur = next;
		/* and once the old table is gone, so is the mapping */
		VT_CHECK_EQ(count_tagged_maps(), before.maps + (N_ADD - k - 1));
		if (k % 64 == 0 || k == N_ADD - 1)
			for (uint32_t j = 0; j < N_ADD; j++)
				VT_CHECK(add_check(cur, j, present[j]));
	}
	VT_CHECK_EQ(cur->nregions, 0);
	vhu_mem_table_free(cur);
	CHECK_SNAP(before);
}

/* A table built from nothing starts at generation 1. */
static void
test_generation(void)
{
	struct snap before = snap_take();
	struct vhu_wire_mem_region w[2] = {
		wreg(0x0, PG, 0x1000000, 0),
		wreg(0x100000, PG, 0x2000000, 0),
	};
	struct vhu_mem_table *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	int fd = make_memfd(PG);

	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(vhu_mem_table_add(NULL, &w[0], fd, 1, &a), 0);
	VT_CHECK_EQ(a->generation, 1);
	VT_CHECK_EQ(a->nregions, 1);
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 2, (int[]){ fd, fd },
		UINT32_MAX, &b), 0);
	VT_CHECK_EQ(b->generation, UINT32_MAX);
	VT_CHECK_EQ(vhu_mem_table_remove(b, &w[0], &c), 0);
	VT_CHECK_EQ(c->generation, 0); /* wraps */
	VT_CHECK_EQ(vhu_mem_table_add(c, &w[0], fd, 2, &d), 0);
	VT_CHECK_EQ(d->generation, 1);
	vhu_mem_table_free(a);
	vhu_mem_table_free(b);
	vhu_mem_table_free(c);
	vhu_mem_table_free(d);
	close(fd);
	CHECK_SNAP(before);
}

/* ---- hugetlbfs ---- */

static long
free_hugepages(uint64_t page_size)
{
	char path[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		"/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
		(unsigned long long)(page_size / KIB));
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * A file on /dev/hugepages must be mapped in huge pages: from the huge
 * page below mmap_offset, length rounded up to huge pages.
 */
static void
test_hugetlbfs(void)
{
	struct snap before;
	struct statfs sfs;
	char path[] = "/dev/hugepages/" FILE_TAG "-XXXXXX";
	struct vhu_wire_mem_region w[2];
	struct vhu_mem_table *t = NULL;
	const struct vhu_mem_region *r;
	uint64_t hp, off;
	long nfree;
	int fd, fds[2];
	uint8_t *p, *own;

	if (statfs("/dev/hugepages", &sfs) < 0 ||
	    (unsigned long)sfs.f_type != (unsigned long)HUGETLBFS_MAGIC) {
		fprintf(stderr, "  skipped: /dev/hugepages is not a hugetlbfs mount\n");
		return;
	}
	hp = (uint64_t)sfs.f_bsize;
	nfree = free_hugepages(hp);
	if (nfree < 2) {
		fprintf(stderr, "  skipped: %ld free %llu kB huge pages, need 2\n",
			nfree, (unsigned long long)(hp / KIB));
		return;
	}
	before = snap_take();
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "  skipped: cannot create %s: %s\n", path,
			strerror(errno));
		return;
	}
	unlink(path);
	VT_CHECK(ftruncate(fd, (off_t)(2 * hp)) == 0);
	/* hugetlbfs has no write(): go through our own mapping of the file */
	own = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	VT_CHECK(own != MAP_FAILED);
	off = hp + 4 * KIB;   /* inside the second huge page */
	w[0] = wreg(0x0, 64 * KIB, 0x7f0000000000ull, off);
	w[1] = wreg(0x40000000, 2 * hp, 0x7f1000000000ull, 0);
	fds[0] = fds[1] = fd;
	own[off] = 0x77;
	own[off + 64 * KIB - 1] = 0x78;
	VT_CHECK_EQ(vhu_mem_table_from_message(w, 2, fds, 1, &t), 0);
	r = &t->regions[0];
	VT_CHECK(((uintptr_t)r->mapping->addr % hp) == 0);
	VT_CHECK_EQ(r->mapping->len, hp);
	VT_CHECK(r->host_va == (uint8_t *)r->mapping->addr + 4 * KIB);
	VT_CHECK_EQ(t->regions[1].mapping->len, 2 * hp);
	p = gpa_byte(t, 0);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x77);
	p = gpa_byte(t, 64 * KIB - 1);
	VT_CHECK(p != NULL);
	VT_CHECK_EQ(*p, 0x78);
	/* the same byte through the other region's mapping, and the file's */
	p = gpa_byte(t, 0x40000000 + off + 5);
	VT_CHECK(p != NULL);
	*p = 0x79;
	VT_CHECK_EQ(*gpa_byte(t, 5), 0x79);
	VT_CHECK_EQ(own[off + 5], 0x79);
	munmap(own, 2 * hp);
	/* a region past the end of a hugetlbfs file */
	w[1].memory_size = 2 * hp + 1;
	expect_msg_reject(w, 2, fds, -EINVAL);
	vhu_mem_table_free(t);
	close(fd);
	CHECK_SNAP(before);
}

static const struct vhu_test_case cases[] = {
	{ "one_region", test_one_region },
	{ "eight_regions", test_eight_regions },
	{ "unaligned_offset", test_unaligned_offset },
	{ "gpa_hint", test_gpa_hint },
	{ "fe_va", test_fe_va },
	{ "empty_message", test_empty_message },
	{ "reject_zero_size", test_reject_zero_size },
	{ "reject_gpa_overflow", test_reject_gpa_overflow },
	{ "reject_fe_va_overflow", test_reject_fe_va_overflow },
	{ "reject_offset_overflow", test_reject_offset_overflow },
	{ "reject_gpa_overlap", test_reject_gpa_overlap },
	{ "reject_va_overlap", test_reject_va_overlap },
	{ "reject_beyond_fd_end", test_reject_beyond_fd_end },
	{ "reject_bad_fd", test_reject_bad_fd },
	{ "reject_too_many", test_reject_too_many },
	{ "reject_mmap_failure_rollback", test_reject_mmap_failure_rollback },
	{ "reject_add", test_reject_add },
	{ "reject_remove", test_reject_remove },
	{ "add_remove_max", test_add_remove_max },
	{ "generation", test_generation },
	{ "hugetlbfs", test_hugetlbfs },
};

int
main(int argc, char **argv)
{
	char prefix[64], runtime_dir[PATH_MAX];
	char *eal_argv[] = {
		argc > 0 ? argv[0] : (char *)"test_mem",
		(char *)"--no-huge", (char *)"-m", (char *)"64",
		/* --in-memory would be wanted too, but DPDK 22.11 refuses it
		 * with --no-huge; with --no-shconf and no telemetry socket
		 * the runtime directory stays empty and is removed below. */
		(char *)"--no-pci", (char *)"--no-shconf", (char *)"--no-telemetry",
		(char *)"-l", (char *)"0",
		(char *)"--log-level=lib.vhu:debug",
		(char *)"--file-prefix", prefix,
	};
	int ret;

	snprintf(prefix, sizeof(prefix), "vhu-test-mem-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	ret = vhu_test_run("mem", cases, RTE_DIM(cases));
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	/* EAL creates its runtime directory even with --no-shconf, and
	 * 22.11 leaves it behind. */
	rmdir(runtime_dir);
	return ret;
}

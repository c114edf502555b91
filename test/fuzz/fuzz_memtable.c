/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_memtable: lib/vhu's guest memory tables (lib/vhu/vhu_mem.h), driven
 * as the device drives them: one published table, replaced by every
 * successful SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG build (the old one
 * freed then), translations in between, everything freed at the end.
 *
 * Input: 4 bytes choosing the sizes of 4 fresh memfds (fd_sizes[]), then
 * operations until the input ends, each an opcode byte and its operands:
 *   SET    n, then n regions          vhu_mem_table_from_message()
 *   ADD    max_regions, one region    vhu_mem_table_add()
 *   REM    one region, or an existing one (perhaps changed)
 *                                     vhu_mem_table_remove()
 *   GPA    guest address, length, hint vhu_mem_gpa_to_va(), _find_gpa()
 *   FEVA   front-end address, length  vhu_mem_fe_va_to_va()
 *   RESET                             free the published table
 * A region is a memfd index (or no fd) and four fields: guest address,
 * size, front-end address, mmap offset (take_field(): pages, bytes, values
 * near 2^64, or anything). Addresses of GPA, FEVA and REM may be taken
 * relative to a region of the table, so that they hit.
 *
 * A model here keeps what the published table must hold (vhu_mem.h's
 * rules decide which builds succeed) and which memfd backs each region.
 * Checks:
 *  - a build succeeds exactly when the model says it must, with the
 *    documented errors where only one applies (-ERANGE, -EEXIST,
 *    -ENOENT); a failed build leaves *out alone; no build changes the
 *    table it started from;
 *  - a new table holds the model's regions: sorted by guest address,
 *    not overlapping in guest or front-end addresses, each within its
 *    memfd's size, at most VHU_MEM_MAX_REGIONS; regions carried over keep
 *    their mapping; every new region's first and last byte is the memfd's
 *    byte at mmap_offset (written through the fd, read through the
 *    mapping, and back); after each publish every region is still mapped;
 *  - translations: NULL exactly outside the regions; otherwise the
 *    region's host address plus the offset, a length that never crosses
 *    the region's end (and never exceeds the one asked for), the hint
 *    updated, and the first and last byte are the memfd's;
 *  - after each input: every memfd takes F_SEAL_WRITE, which the kernel
 *    refuses (EBUSY) while a writable shared mapping of it exists, so a
 *    leaked mapping aborts on the input that leaked it; the rte_malloc
 *    heap holds as many objects as when the input started (LeakSanitizer
 *    covers malloc); every VHU_FUZZ_MAPS_EVERY inputs (default 256)
 *    /proc/self/maps holds no mapping of these memfds at all.
 *
 * vhu_mem.c allocates tables with rte_zmalloc(), which returns NULL
 * without EAL: the target initialises EAL once (vhu_fuzz_eal_init()). It
 * works as well when tables come from libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "vhu_fuzz.h"
#include "vhu_mem.h"

#define NFDS 4
#define MEMFD_NAME "vhu-fuzz-mem"   /* "/memfd:vhu-fuzz-memN" in maps */
#define MAPS_EVERY_DEFAULT 256

/* Sizes a memfd takes: empty, pages, not a page multiple, 1 MiB. Sparse:
 * only the bytes the checks touch are ever allocated. */
static const uint64_t fd_sizes[] = {
	0, 0x1000, 0x1234, 0x3000, 0x10000, 0x100000,
};

enum op {
	OP_SET,
	OP_ADD,
	OP_REM,
	OP_GPA,
	OP_FEVA,
	OP_RESET,
	OP_COUNT
};

/* What a region of a table must be, and which memfd backs it. */
struct model_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t va;
	uint64_t off;
	unsigned int fdi;
};

/* A failed build must leave *out as it was. */
static struct vhu_mem_table *const not_set =
	(struct vhu_mem_table *)(uintptr_t)0x5e7;

static struct {
	int fd[NFDS];
	uint64_t fd_size[NFDS];
	struct vhu_mem_table *pub;    /* the published table, or NULL */
	uint32_t n;                   /* its regions (0 when NULL) */
	struct model_region model[VHU_MEM_MAX_REGIONS];
	/* pub's regions before the current operation. */
	struct vhu_mem_region before[VHU_MEM_MAX_REGIONS];
	/* A new table's model, and scratch for the VA overlap check. */
	struct model_region next[VHU_MEM_MAX_REGIONS];
	struct model_region by_va[VHU_MEM_MAX_REGIONS];
	uint32_t generation;          /* for SET_MEM_TABLE */
	uint8_t probe_val;
	uint64_t inputs;
	unsigned long maps_every;
} S;

/* ---- input decoding ---- */

/* An address, size or offset. */
static uint64_t
take_field(struct vhu_fuzz_in *in)
{
	uint8_t form = vhu_fuzz_u8(in);
	uint64_t v;

	switch (form % 4) {
	case 0: /* whole pages */
		return (uint64_t)vhu_fuzz_u16(in) << 12;
	case 1: /* pages and bytes */
		v = (uint64_t)vhu_fuzz_u16(in) << 12;
		return v | (vhu_fuzz_u16(in) & 0xfff);
	case 2: /* just below 2^64: sums that overflow */
		return UINT64_MAX - vhu_fuzz_u16(in);
	default:
		return vhu_fuzz_u64(in);
	}
}

/* A region and its memfd index (NFDS: no fd, -1). */
static void
take_region(struct vhu_fuzz_in *in, struct vhu_wire_mem_region *w,
		unsigned int *fdi)
{
	*fdi = vhu_fuzz_u8(in) % (NFDS + 1);
	w->guest_phys_addr = take_field(in);
	w->memory_size = take_field(in);
	w->userspace_addr = take_field(in);
	w->mmap_offset = take_field(in);
}

/* ---- the model ---- */

static bool
fields_ok(const struct vhu_wire_mem_region *w)
{
	uint64_t size = w->memory_size;

	return size != 0 && size <= UINT64_MAX - w->guest_phys_addr &&
		size <= UINT64_MAX - w->userspace_addr &&
		size <= UINT64_MAX - w->mmap_offset;
}

/* With fields_ok(): the memfd exists and holds offset + size. */
static bool
fd_ok(const struct vhu_wire_mem_region *w, unsigned int fdi)
{
	return fdi < NFDS && w->mmap_offset + w->memory_size <= S.fd_size[fdi];
}

static bool
ranges_overlap(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	return a < b + bsz && b < a + asz;
}

/* A REM_MEM_REG's range (fields unchecked, its end clamped to 2^64)
 * against a region of the model. */
static bool
rem_touches(const struct model_region *m, const struct vhu_wire_mem_region *w)
{
	uint64_t n = w->memory_size;
	uint64_t gend = n > UINT64_MAX - w->guest_phys_addr ? UINT64_MAX :
		w->guest_phys_addr + n;
	uint64_t vend = n > UINT64_MAX - w->userspace_addr ? UINT64_MAX :
		w->userspace_addr + n;

	return n != 0 &&
		((m->gpa < gend && w->guest_phys_addr < m->gpa + m->size) ||
		 (m->va < vend && w->userspace_addr < m->va + m->size));
}

/* With fields_ok() for both. */
static bool
overlaps(const struct model_region *m, const struct vhu_wire_mem_region *w)
{
	return ranges_overlap(m->gpa, m->size, w->guest_phys_addr,
			      w->memory_size) ||
		ranges_overlap(m->va, m->size, w->userspace_addr,
			       w->memory_size);
}

static struct model_region
model_of(const struct vhu_wire_mem_region *w, unsigned int fdi)
{
	struct model_region m = {
		.gpa = w->guest_phys_addr,
		.size = w->memory_size,
		.va = w->userspace_addr,
		.off = w->mmap_offset,
		.fdi = fdi,
	};

	return m;
}

/* Insert m into next[0..n) sorted by guest address. @return its index. */
static uint32_t
model_insert(struct model_region *next, uint32_t n,
		const struct model_region *m)
{
	uint32_t j;

	for (j = n; j > 0 && next[j - 1].gpa > m->gpa; j--)
		next[j] = next[j - 1];
	next[j] = *m;
	return j;
}

/* The model region holding guest address gpa, or UINT32_MAX. */
static uint32_t
model_find_gpa(uint64_t gpa)
{
	uint32_t i;

	for (i = 0; i < S.n; i++)
		if (gpa - S.model[i].gpa < S.model[i].size)
			return i;
	return UINT32_MAX;
}

/* ---- checks ---- */

/*
 * The byte of memfd fdi at file offset off is *p: write it through the fd,
 * read it through p, and the other way round.
 */
static void
probe(unsigned int fdi, uint64_t off, uint8_t *p, const char *what)
{
	volatile uint8_t *vp = p;
	uint8_t v = ++S.probe_val, back = 0, inv = (uint8_t)~v;

	VHU_FUZZ_CHECK(pwrite(S.fd[fdi], &v, 1, (off_t)off) == 1,
		       "%s: pwrite memfd %u at 0x%" PRIx64 ": %s", what, fdi,
		       off, strerror(errno));
	VHU_FUZZ_CHECK(*vp == v, "%s: %p does not show memfd %u's byte at "
		       "0x%" PRIx64, what, (void *)p, fdi, off);
	*vp = inv;
	VHU_FUZZ_CHECK(pread(S.fd[fdi], &back, 1, (off_t)off) == 1 &&
		       back == inv, "%s: a write to %p is not memfd "
		       "%u's byte at 0x%" PRIx64, what, (void *)p, fdi, off);
}

/* The first and last byte of region r, which model m describes. */
static void
probe_region(const struct vhu_mem_region *r, const struct model_region *m,
		const char *what)
{
	probe(m->fdi, m->off, r->host_va, what);
	probe(m->fdi, m->off + m->size - 1, r->host_va + m->size - 1, what);
}

static int
cmp_va(const void *a, const void *b)
{
	const struct model_region *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

/* Table t against the model m[0..n): the invariants of vhu_mem.h. */
static void
check_table(const struct vhu_mem_table *t, const struct model_region *m,
		uint32_t n, const char *what)
{
	uint32_t i;

	VHU_FUZZ_CHECK(t->nregions <= VHU_MEM_MAX_REGIONS,
		       "%s: %" PRIu32 " regions", what, t->nregions);
	VHU_FUZZ_CHECK(t->nregions == n, "%s: %" PRIu32 " regions, expected %"
		       PRIu32, what, t->nregions, n);
	for (i = 0; i < n; i++) {
		const struct vhu_mem_region *r = &t->regions[i];

		VHU_FUZZ_CHECK(r->gpa_start == m[i].gpa && r->size == m[i].size &&
			       r->fe_va_start == m[i].va &&
			       r->mmap_offset == m[i].off,
			       "%s: region %" PRIu32 " is 0x%" PRIx64 "+0x%" PRIx64
			       " va 0x%" PRIx64 " off 0x%" PRIx64 ", expected 0x%"
			       PRIx64 "+0x%" PRIx64 " va 0x%" PRIx64 " off 0x%"
			       PRIx64, what, i, r->gpa_start, r->size,
			       r->fe_va_start, r->mmap_offset, m[i].gpa,
			       m[i].size, m[i].va, m[i].off);
		VHU_FUZZ_CHECK(r->size > 0 && r->host_va != NULL,
			       "%s: region %" PRIu32 " empty or unmapped", what, i);
		VHU_FUZZ_CHECK(r->mmap_offset <= S.fd_size[m[i].fdi] &&
			       r->size <= S.fd_size[m[i].fdi] - r->mmap_offset,
			       "%s: region %" PRIu32 " beyond its memfd", what, i);
		VHU_FUZZ_CHECK(i == 0 || (t->regions[i - 1].gpa_start <
			       r->gpa_start && t->regions[i - 1].size <=
			       r->gpa_start - t->regions[i - 1].gpa_start),
			       "%s: regions %" PRIu32 " and %" PRIu32 " unsorted or "
			       "overlapping in guest addresses", what, i - 1, i);
		S.by_va[i] = m[i];
		S.by_va[i].va = r->fe_va_start;
		S.by_va[i].size = r->size;
	}
	qsort(S.by_va, n, sizeof(S.by_va[0]), cmp_va);
	for (i = 1; i < n; i++)
		VHU_FUZZ_CHECK(S.by_va[i - 1].size <=
			       S.by_va[i].va - S.by_va[i - 1].va,
			       "%s: front-end ranges 0x%" PRIx64 "+0x%" PRIx64
			       " and 0x%" PRIx64 "+0x%" PRIx64 " overlap", what,
			       S.by_va[i - 1].va, S.by_va[i - 1].size,
			       S.by_va[i].va, S.by_va[i].size);
}

/* Before each operation: remember the published regions. */
static void
snapshot(void)
{
	if (S.pub != NULL)
		memcpy(S.before, S.pub->regions, S.n * sizeof(S.before[0]));
}

/* The published table is exactly as before the operation. */
static void
check_unchanged(const char *what)
{
	if (S.pub == NULL)
		return;
	VHU_FUZZ_CHECK(S.pub->nregions == S.n &&
		       memcmp(S.pub->regions, S.before,
			      S.n * sizeof(S.before[0])) == 0,
		       "%s changed the table it started from", what);
}

/* A failed build: an error, *out untouched. */
static void
check_refused(int ret, const struct vhu_mem_table *t, const char *what)
{
	VHU_FUZZ_CHECK(ret < 0, "%s: accepted (%d), must be refused", what, ret);
	VHU_FUZZ_CHECK(t == not_set, "%s: refused (%d) but set *out", what, ret);
}

static void
check_built(int ret, const struct vhu_mem_table *t, const char *what)
{
	VHU_FUZZ_CHECK(ret == 0, "%s: refused (%d: %s), must be accepted",
		       what, ret, strerror(-ret));
	VHU_FUZZ_CHECK(t != NULL && t != not_set, "%s: no table", what);
}

/* Regions carried from the published table keep their mapping. */
static void
check_carried(const struct vhu_mem_table *t)
{
	uint32_t i, j = 0;

	/* Both sorted by guest address. */
	for (i = 0; i < S.n; i++) {
		while (j < t->nregions &&
		       t->regions[j].gpa_start < S.before[i].gpa_start)
			j++;
		if (j == t->nregions ||
		    t->regions[j].gpa_start != S.before[i].gpa_start)
			continue; /* the region removed */
		VHU_FUZZ_CHECK(t->regions[j].host_va == S.before[i].host_va,
			       "region 0x%" PRIx64 " moved from %p to %p",
			       S.before[i].gpa_start,
			       (void *)S.before[i].host_va,
			       (void *)t->regions[j].host_va);
	}
}

/* Publish t (model S.next[0..n)), freeing the old table, as the device. */
static void
publish(struct vhu_mem_table *t, uint32_t n)
{
	uint32_t i;

	vhu_mem_table_free(S.pub);
	S.pub = t;
	S.n = n;
	memcpy(S.model, S.next, n * sizeof(S.model[0]));
	/* The old table's mappings that t shares must still be there. */
	for (i = 0; i < n; i++) {
		volatile uint8_t *p = t->regions[i].host_va;

		(void)p[0];
		(void)p[t->regions[i].size - 1];
	}
}

/* ---- operations ---- */

static void
op_set(struct vhu_fuzz_in *in)
{
	struct vhu_wire_mem_region w[VHU_WIRE_MAX_TABLE_REGIONS] = { 0 };
	unsigned int fdi[VHU_WIRE_MAX_TABLE_REGIONS];
	int fds[VHU_WIRE_MAX_TABLE_REGIONS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	struct vhu_mem_table *t = not_set;
	uint8_t b = vhu_fuzz_u8(in);
	/* Up to one too many, now and then far too many: then the message
	 * holds no region at all (the arrays hold 8), as the count must be
	 * refused before any region is read. */
	uint32_t n = b < 0xf8 ? b % (VHU_WIRE_MAX_TABLE_REGIONS + 2) :
		UINT32_MAX - (uint32_t)(0xff - b);
	bool ok = n <= VHU_WIRE_MAX_TABLE_REGIONS;
	uint32_t k = ok ? n : 0;
	uint32_t i, j;
	int ret;

	RTE_BUILD_BUG_ON(VHU_WIRE_MAX_TABLE_REGIONS != 8);
	for (i = 0; i < k; i++) {
		take_region(in, &w[i], &fdi[i]);
		fds[i] = fdi[i] < NFDS ? S.fd[fdi[i]] : -1;
		ok = ok && fields_ok(&w[i]) && fd_ok(&w[i], fdi[i]);
	}
	for (i = 0; ok && i < k; i++) {
		struct model_region m = model_of(&w[i], fdi[i]);

		for (j = 0; ok && j < i; j++)
			ok = !overlaps(&m, &w[j]);
	}
	ret = vhu_mem_table_from_message(w, n, fds, ++S.generation, &t);
	check_unchanged("SET_MEM_TABLE");
	if (n > VHU_WIRE_MAX_TABLE_REGIONS)
		VHU_FUZZ_CHECK(ret == -ERANGE, "SET_MEM_TABLE of %" PRIu32
			       " regions: %d, expected -ERANGE", n, ret);
	if (!ok) {
		check_refused(ret, t, "SET_MEM_TABLE");
		return;
	}
	check_built(ret, t, "SET_MEM_TABLE");
	VHU_FUZZ_CHECK(t->generation == S.generation, "SET_MEM_TABLE: "
		       "generation %" PRIu32 ", expected %" PRIu32,
		       t->generation, S.generation);
	for (i = 0; i < k; i++) {
		struct model_region m = model_of(&w[i], fdi[i]);

		model_insert(S.next, i, &m);
	}
	check_table(t, S.next, k, "SET_MEM_TABLE");
	for (i = 0; i < k; i++)
		probe_region(&t->regions[i], &S.next[i], "SET_MEM_TABLE");
	publish(t, k);
}

static void
op_add(struct vhu_fuzz_in *in)
{
	struct vhu_wire_mem_region w;
	struct vhu_mem_table *t = not_set;
	uint8_t b = vhu_fuzz_u8(in);
	uint32_t max = b == 0xff ? UINT32_MAX : b;
	uint32_t cap = RTE_MIN(max, (uint32_t)VHU_MEM_MAX_REGIONS);
	bool fields, fd, overlap = false, present = false;
	struct model_region m;
	unsigned int fdi;
	uint32_t i, pos;
	int ret;

	take_region(in, &w, &fdi);
	fields = fields_ok(&w);
	fd = fields && fd_ok(&w, fdi);
	for (i = 0; fd && i < S.n; i++) {
		const struct model_region *o = &S.model[i];

		/* The same region again (QEMU: once per queue pair): nothing
		 * to do, whatever else holds. The four memfds are four files. */
		if (o->gpa == w.guest_phys_addr && o->size == w.memory_size &&
		    o->va == w.userspace_addr && o->off == w.mmap_offset &&
		    o->fdi == fdi)
			present = true;
	}
	for (i = 0; fields && i < S.n; i++)
		overlap = overlap || overlaps(&S.model[i], &w);
	ret = vhu_mem_table_add(S.pub, &w, fdi < NFDS ? S.fd[fdi] : -1, max,
				&t);
	check_unchanged("ADD_MEM_REG");
	if (present) {
		VHU_FUZZ_CHECK(ret == VHU_MEM_ADD_PRESENT, "ADD_MEM_REG of a "
			       "region in the table: %d, expected "
			       "VHU_MEM_ADD_PRESENT", ret);
		VHU_FUZZ_CHECK(t == not_set, "ADD_MEM_REG of a region in the "
			       "table set *out");
		return;
	}
	if (S.n >= cap && fd && !overlap)
		VHU_FUZZ_CHECK(ret == -ERANGE, "ADD_MEM_REG to %" PRIu32
			       " regions, at most %" PRIu32 ": %d, expected "
			       "-ERANGE", S.n, cap, ret);
	if (S.n < cap && fd && overlap)
		VHU_FUZZ_CHECK(ret == -EEXIST, "ADD_MEM_REG of an overlapping "
			       "region: %d, expected -EEXIST", ret);
	if (S.n >= cap || !fd || overlap) {
		check_refused(ret, t, "ADD_MEM_REG");
		return;
	}
	check_built(ret, t, "ADD_MEM_REG");
	VHU_FUZZ_CHECK(S.pub == NULL || t->generation == S.pub->generation + 1,
		       "ADD_MEM_REG: generation %" PRIu32 " after %" PRIu32,
		       t->generation, S.pub->generation);
	memcpy(S.next, S.model, S.n * sizeof(S.next[0]));
	m = model_of(&w, fdi);
	pos = model_insert(S.next, S.n, &m);
	check_table(t, S.next, S.n + 1, "ADD_MEM_REG");
	check_carried(t);
	probe_region(&t->regions[pos], &S.next[pos], "ADD_MEM_REG");
	publish(t, S.n + 1);
}

static void
op_rem(struct vhu_fuzz_in *in)
{
	struct vhu_wire_mem_region w;
	struct vhu_mem_table *t = not_set;
	uint8_t how = vhu_fuzz_u8(in);
	uint32_t i, victim = UINT32_MAX;
	unsigned int fdi;
	int ret;

	if ((how & 1) != 0) {
		/* An existing region (none: a zero one); mmap_offset is not
		 * compared. */
		uint8_t k = vhu_fuzz_u8(in);
		static const struct model_region none;
		const struct model_region *m = S.n > 0 ? &S.model[k % S.n] : &none;

		w.guest_phys_addr = m->gpa;
		w.memory_size = m->size;
		w.userspace_addr = m->va;
		w.mmap_offset = take_field(in);
		if ((how & 2) != 0) {
			/* ... or one that differs in one field. */
			uint64_t d = 1 + (uint64_t)vhu_fuzz_u8(in);

			if ((how >> 2) % 3 == 0)
				w.guest_phys_addr += d;
			else if ((how >> 2) % 3 == 1)
				w.memory_size += d;
			else
				w.userspace_addr += d;
		}
	} else {
		take_region(in, &w, &fdi);
	}
	for (i = 0; i < S.n && victim == UINT32_MAX; i++)
		if (S.model[i].gpa == w.guest_phys_addr &&
		    S.model[i].size == w.memory_size &&
		    S.model[i].va == w.userspace_addr)
			victim = i;
	ret = vhu_mem_table_remove(S.pub, &w, &t);
	check_unchanged("REM_MEM_REG");
	if (victim == UINT32_MAX) {
		bool touches = false;

		for (i = 0; i < S.n; i++)
			touches = touches || rem_touches(&S.model[i], &w);
		/* Nothing there: -ENOENT (acked by the device); a region
		 * there but not as described: -EINVAL. */
		VHU_FUZZ_CHECK(ret == (touches ? -EINVAL : -ENOENT),
			       "REM_MEM_REG of no region (%s one): %d",
			       touches ? "overlapping" : "not overlapping", ret);
		check_refused(ret, t, "REM_MEM_REG");
		return;
	}
	check_built(ret, t, "REM_MEM_REG");
	VHU_FUZZ_CHECK(t->generation == S.pub->generation + 1,
		       "REM_MEM_REG: generation %" PRIu32 " after %" PRIu32,
		       t->generation, S.pub->generation);
	memcpy(S.next, S.model, victim * sizeof(S.next[0]));
	memcpy(&S.next[victim], &S.model[victim + 1],
	       (S.n - victim - 1) * sizeof(S.next[0]));
	check_table(t, S.next, S.n - 1, "REM_MEM_REG");
	check_carried(t);
	publish(t, S.n - 1);
}

/* Probe the first and last byte of a translation of region i. */
static void
probe_translation(uint32_t i, uint64_t off, uint8_t *p, uint64_t len,
		const char *what)
{
	const struct model_region *m = &S.model[i];

	probe(m->fdi, m->off + off, p, what);
	if (len > 1)
		probe(m->fdi, m->off + off + len - 1, p + len - 1, what);
}

static void
op_gpa(struct vhu_fuzz_in *in)
{
	uint8_t how = vhu_fuzz_u8(in);
	/* Relative to a region's start, or absolute. */
	uint8_t k = (how & 1) != 0 ? vhu_fuzz_u8(in) : 0;
	uint64_t base = (how & 1) != 0 && S.n > 0 ? S.model[k % S.n].gpa : 0;
	uint64_t gpa = base + take_field(in);
	uint64_t want = take_field(in), len = want, off, left;
	uint8_t hb = vhu_fuzz_u8(in);
	uint32_t hint = hb == 0xff ? UINT32_MAX : hb;
	uint32_t i = model_find_gpa(gpa), found;
	uint8_t *p;

	found = vhu_mem_find_gpa(S.pub, gpa);
	VHU_FUZZ_CHECK(found == i, "find_gpa(0x%" PRIx64 ") = %" PRIu32
		       ", expected %" PRIu32, gpa, found, i);
	if (S.pub == NULL)
		return; /* gpa_to_va() takes a table */
	p = vhu_mem_gpa_to_va(S.pub, gpa, &len, &hint);
	if (i == UINT32_MAX) {
		VHU_FUZZ_CHECK(p == NULL, "gpa_to_va(0x%" PRIx64 ") = %p outside "
			       "every region", gpa, (void *)p);
		return;
	}
	off = gpa - S.model[i].gpa;
	left = S.model[i].size - off;
	VHU_FUZZ_CHECK(p == S.pub->regions[i].host_va + off,
		       "gpa_to_va(0x%" PRIx64 ") = %p, expected %p", gpa,
		       (void *)p, (void *)(S.pub->regions[i].host_va + off));
	VHU_FUZZ_CHECK(len == RTE_MIN(want, left), "gpa_to_va(0x%" PRIx64
		       ", 0x%" PRIx64 "): length 0x%" PRIx64 ", expected 0x%"
		       PRIx64 " (0x%" PRIx64 " left in the region)", gpa, want,
		       len, RTE_MIN(want, left), left);
	VHU_FUZZ_CHECK(hint == i, "gpa_to_va(0x%" PRIx64 "): hint %" PRIu32
		       ", region %" PRIu32, gpa, hint, i);
	probe_translation(i, off, p, len, "gpa_to_va");
}

static void
op_feva(struct vhu_fuzz_in *in)
{
	uint8_t how = vhu_fuzz_u8(in);
	uint8_t k = (how & 1) != 0 ? vhu_fuzz_u8(in) : 0;
	uint64_t base = (how & 1) != 0 && S.n > 0 ? S.model[k % S.n].va : 0;
	uint64_t va = base + take_field(in);
	uint64_t len = take_field(in), off = 0;
	uint32_t i;
	uint8_t *p;

	for (i = 0; i < S.n; i++) {
		off = va - S.model[i].va;
		if (off < S.model[i].size && len <= S.model[i].size - off)
			break;
	}
	p = vhu_mem_fe_va_to_va(S.pub, va, len);
	if (i == S.n) {
		VHU_FUZZ_CHECK(p == NULL, "fe_va_to_va(0x%" PRIx64 ", 0x%" PRIx64
			       ") = %p, not inside one region", va, len,
			       (void *)p);
		return;
	}
	VHU_FUZZ_CHECK(p == S.pub->regions[i].host_va + off,
		       "fe_va_to_va(0x%" PRIx64 ") = %p, expected %p", va,
		       (void *)p, (void *)(S.pub->regions[i].host_va + off));
	probe_translation(i, off, p, len, "fe_va_to_va");
}

static void
op_reset(void)
{
	vhu_mem_table_free(S.pub);
	S.pub = NULL;
	S.n = 0;
}

/* ---- leaks ---- */

/* Objects allocated from the rte_malloc heaps. */
static unsigned int
heap_objects(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i),
						&st) == 0)
			n += st.alloc_count;
	}
	return n;
}

/* Mappings of this target's memfds in /proc/self/maps. */
static unsigned int
memfd_mappings(void)
{
	static char buf[1 << 20];
	size_t len = 0;
	unsigned int n = 0;
	const char *p;
	ssize_t r;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	VHU_FUZZ_CHECK(fd >= 0, "open /proc/self/maps: %s", strerror(errno));
	while (len < sizeof(buf) - 1 &&
	       (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, "/memfd:" MEMFD_NAME)) != NULL; p++)
		n++;
	return n;
}

/* ---- libFuzzer ---- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *every = getenv("VHU_FUZZ_MAPS_EVERY");

	RTE_SET_USED(argc);
	vhu_fuzz_eal_init((*argv)[0]);
	S.maps_every = every != NULL ? strtoul(every, NULL, 10) : 0;
	if (S.maps_every == 0)
		S.maps_every = MAPS_EVERY_DEFAULT;
	VHU_FUZZ_CHECK(memfd_mappings() == 0, "memfd mappings before any input");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_fuzz_in in;
	unsigned int heap = heap_objects();
	unsigned int i;

	vhu_fuzz_in_init(&in, data, size);
	for (i = 0; i < NFDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), MEMFD_NAME "%u", i);
		S.fd_size[i] = fd_sizes[vhu_fuzz_u8(&in) % RTE_DIM(fd_sizes)];
		S.fd[i] = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		VHU_FUZZ_CHECK(S.fd[i] >= 0, "memfd_create: %s", strerror(errno));
		VHU_FUZZ_CHECK(ftruncate(S.fd[i], (off_t)S.fd_size[i]) == 0,
			       "ftruncate: %s", strerror(errno));
	}
	S.pub = NULL;
	S.n = 0;
	while (!vhu_fuzz_in_empty(&in)) {
		snapshot();
		switch (vhu_fuzz_u8(&in) % OP_COUNT) {
		case OP_SET:
			op_set(&in);
			break;
		case OP_ADD:
			op_add(&in);
			break;
		case OP_REM:
			op_rem(&in);
			break;
		case OP_GPA:
			op_gpa(&in);
			break;
		case OP_FEVA:
			op_feva(&in);
			break;
		default:
			op_reset();
			break;
		}
		if (S.pub != NULL)
			check_table(S.pub, S.model, S.n, "published table");
		else
			VHU_FUZZ_CHECK(S.n == 0, "model without a table");
	}
	op_reset();
	for (i = 0; i < NFDS; i++) {
		VHU_FUZZ_CHECK(fcntl(S.fd[i], F_ADD_SEALS, F_SEAL_WRITE) == 0,
			       "memfd %u still mapped after every table was "
			       "freed (a leaked mapping): F_SEAL_WRITE: %s", i,
			       strerror(errno));
		close(S.fd[i]);
	}
	VHU_FUZZ_CHECK(heap_objects() == heap, "rte_malloc heap: %u objects "
		       "after the input, %u before (a leaked table)",
		       heap_objects(), heap);
	if (++S.inputs % S.maps_every == 0)
		VHU_FUZZ_CHECK(memfd_mappings() == 0, "memfd mappings left after "
			       "the input (a leak in the last %lu inputs; "
			       "VHU_FUZZ_MAPS_EVERY=1 checks every input)",
			       S.maps_every);
	return 0;
}

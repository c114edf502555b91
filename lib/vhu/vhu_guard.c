/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIGBUS guard (vhu_guard.h). The guarded mappings are an immutable
 * sorted array behind one pointer: writers (control thread) build a new
 * array, swap it in, then wait until no handler still runs before they
 * free the old one. The handler only loads the pointer, searches, and
 * makes one mmap call: async-signal-safe in practice on Linux.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vhu_guard.h"
#include "vhu_log.h"

struct vhu_guard_table {
	unsigned int n;
	struct vhu_guard *g[];   /* sorted by start, no overlaps */
};

static struct {
	pthread_mutex_t lock;            /* writers */
	struct vhu_guard_table *table;   /* atomic */
	unsigned int readers;            /* handlers running (atomic) */
	uint64_t total_faults;           /* atomic */
	bool installed;
	struct sigaction previous;
} vhu_guard_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static struct vhu_guard *
vhu_guard_find(const struct vhu_guard_table *t, uintptr_t addr)
{
	unsigned int lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct vhu_guard *g = t->g[mid];

		if (addr < g->start)
			hi = mid;
		else if (addr - g->start >=
			 __atomic_load_n(&g->len, __ATOMIC_SEQ_CST))
			lo = mid + 1;
		else
			return g;
	}
	return NULL;
}

/* Map zero pages over the page of g that faulted. */
static bool
vhu_guard_patch(struct vhu_guard *g, uintptr_t addr)
{
	uintptr_t page = addr & ~((uintptr_t)g->page_size - 1);
	uintptr_t none = 0;
	void *p = mmap((void *)page, g->page_size, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return false;

	/* The address before the count, so a reader of the count sees it. */
	__atomic_compare_exchange_n(&g->first_fault, &none, addr, false,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->faults, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&vhu_guard_state.total_faults, 1, __ATOMIC_RELEASE);
	return true;
}

/* A fault the faulting access raises again when the handler returns. */
static bool
vhu_guard_sync_fault(const siginfo_t *si)
{
	return si->si_code > 0 && si->si_code != BUS_MCEERR_AO;
}

/* Not ours: what would have happened without us. */
static void
vhu_guard_chain(int sig, siginfo_t *si, void *uctx)
{
	const struct sigaction *prev = &vhu_guard_state.previous;

	/* sa_handler and sa_sigaction share storage: SIG_IGN and SIG_DFL
	 * are told by value, whatever the flags. */
	if (prev->sa_handler == SIG_IGN) {
		/* The kernel does not let a fault be ignored: it would have
		 * killed the process; the access, repeated, now does. */
		if (vhu_guard_sync_fault(si))
			signal(SIGBUS, SIG_DFL);
		return;
	}
	if (prev->sa_handler == SIG_DFL) {
		signal(SIGBUS, SIG_DFL);
		if (!vhu_guard_sync_fault(si))
			raise(SIGBUS);
		return;
	}
	if (prev->sa_flags & SA_SIGINFO)
		prev->sa_sigaction(sig, si, uctx);
	else
		prev->sa_handler(sig);
}

static void
vhu_guard_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;
	struct vhu_guard_table *t;
	struct vhu_guard *g = NULL;
	bool patched = false;

	if (si->si_code > 0) { /* raised by the kernel for an access */
		__atomic_fetch_add(&vhu_guard_state.readers, 1,
				   __ATOMIC_SEQ_CST);
		t = __atomic_load_n(&vhu_guard_state.table, __ATOMIC_SEQ_CST);
		if (t != NULL)
			g = vhu_guard_find(t, (uintptr_t)si->si_addr);
		if (g != NULL)
			patched = vhu_guard_patch(g, (uintptr_t)si->si_addr);
		__atomic_fetch_sub(&vhu_guard_state.readers, 1,
				   __ATOMIC_SEQ_CST);
	}
	errno = saved_errno;
	if (!patched)
		vhu_guard_chain(sig, si, uctx);
}

int
vhu_guard_install(void)
{
	struct sigaction sa;
	int ret = 0;

	pthread_mutex_lock(&vhu_guard_state.lock);
	if (!vhu_guard_state.installed) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = vhu_guard_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &vhu_guard_state.previous) == 0) {
			vhu_guard_state.installed = true;
		} else {
			ret = -errno;
			VHU_LOG(ERR, "SIGBUS handler: %s: a front-end that "
				"shrinks its memory can crash this process",
				strerror(errno));
		}
	}
	pthread_mutex_unlock(&vhu_guard_state.lock);
	return ret;
}

/* Publish t and free the table it replaces once no handler reads it. */
static void
vhu_guard_publish(struct vhu_guard_table *t)
{
	struct vhu_guard_table *old;

	old = __atomic_exchange_n(&vhu_guard_state.table, t, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vhu_guard_state.readers, __ATOMIC_SEQ_CST))
		sched_yield();
	/* Entries removed earlier without a table of their own: the new
	 * table left them out (vhu_guard_copy), no handler sees them. */
	for (unsigned int i = 0; old != NULL && i < old->n; i++)
		if (old->g[i]->dead)
			free(old->g[i]);
	free(old);
}

/* Copy cur into t, leaving out skip and dead entries, inserting add (if
 * any) in order. */
static void
vhu_guard_copy(struct vhu_guard_table *t, const struct vhu_guard_table *cur,
		struct vhu_guard *add, const struct vhu_guard *skip)
{
	unsigned int i, k = 0;

	for (i = 0; cur != NULL && i < cur->n; i++) {
		struct vhu_guard *g = cur->g[i];

		if (g == skip || g->dead)
			continue;
		if (add != NULL && add->start <= g->start) {
			t->g[k++] = add;
			add = NULL;
		}
		t->g[k++] = g;
	}
	if (add != NULL)
		t->g[k++] = add;
	t->n = k;
}

struct vhu_guard *
vhu_guard_add(void *start, size_t len, size_t page_size)
{
	const struct vhu_guard_table *cur;
	struct vhu_guard_table *t;
	struct vhu_guard *g;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->start = (uintptr_t)start;
	g->len = len;
	g->page_size = page_size;
	pthread_mutex_lock(&vhu_guard_state.lock);
	cur = vhu_guard_state.table;
	t = malloc(sizeof(*t) + ((cur != NULL ? cur->n : 0) + 1) *
		   sizeof(t->g[0]));
	if (t == NULL) {
		pthread_mutex_unlock(&vhu_guard_state.lock);
		free(g);
		return NULL;
	}
	vhu_guard_copy(t, cur, g, NULL);
	vhu_guard_publish(t);
	pthread_mutex_unlock(&vhu_guard_state.lock);
	return g;
}

uint32_t
vhu_guard_remove(struct vhu_guard *g)
{
	const struct vhu_guard_table *cur;
	struct vhu_guard_table *t = NULL;
	uint32_t faults;

	if (g == NULL)
		return 0;
	pthread_mutex_lock(&vhu_guard_state.lock);
	cur = vhu_guard_state.table;
	if (cur != NULL && cur->n > 1) {
		t = malloc(sizeof(*t) + (cur->n - 1) * sizeof(t->g[0]));
		if (t == NULL) {
			/* No smaller table: g stays in this one, empty (it
			 * matches no address) and marked, until the next
			 * table leaves it out and frees it. */
			VHU_LOG(ERR, "out of memory removing a SIGBUS guard");
			__atomic_store_n(&g->len, 0, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&vhu_guard_state.readers,
					       __ATOMIC_SEQ_CST))
				sched_yield();
			faults = vhu_guard_faults(g);
			g->dead = true;
			pthread_mutex_unlock(&vhu_guard_state.lock);
			return faults;
		}
		vhu_guard_copy(t, cur, NULL, g);
	}
	vhu_guard_publish(t);
	pthread_mutex_unlock(&vhu_guard_state.lock);
	faults = vhu_guard_faults(g);
	free(g);
	return faults;
}

uint64_t
vhu_guard_total_faults(void)
{
	return __atomic_load_n(&vhu_guard_state.total_faults,
			       __ATOMIC_ACQUIRE);
}

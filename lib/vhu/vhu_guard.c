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
	void *p = mmap((void *)page, g->page_size, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return false;
	if (__atomic_fetch_add(&g->faults, 1, __ATOMIC_ACQ_REL) == 0)
		__atomic_store_n(&g->first_fault, addr, __ATOMIC_RELEASE);
	__atomic_fetch_add(&vhu_guard_state.total_faults, 1, __ATOMIC_RELEASE);
	return true;
}

/* Not ours: what would have happened without us. */
static void
vhu_guard_chain(int sig, siginfo_t *si, void *uctx)
{
	const struct sigaction *prev = &vhu_guard_state.previous;

	if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
		prev->sa_sigaction(sig, si, uctx);
		return;
	}
	if (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler != SIG_DFL &&
	    prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
		return;
	}
	/* Default action (an ignored SIGBUS from a fault cannot be
	 * ignored either): returning re-runs the faulting access, which
	 * now terminates the process; a sent signal is raised again. */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code <= 0)
		raise(SIGBUS);
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

void
vhu_guard_uninstall(void)
{
	struct sigaction cur;

	pthread_mutex_lock(&vhu_guard_state.lock);
	if (vhu_guard_state.installed &&
	    sigaction(SIGBUS, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == vhu_guard_handler)
		sigaction(SIGBUS, &vhu_guard_state.previous, NULL);
	vhu_guard_state.installed = false;
	pthread_mutex_unlock(&vhu_guard_state.lock);
}

/* Publish t and free the table it replaces once no handler reads it. */
static void
vhu_guard_publish(struct vhu_guard_table *t)
{
	struct vhu_guard_table *old;

	old = __atomic_exchange_n(&vhu_guard_state.table, t, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vhu_guard_state.readers, __ATOMIC_SEQ_CST))
		sched_yield();
	free(old);
}

struct vhu_guard *
vhu_guard_add(void *start, size_t len, size_t page_size)
{
	const struct vhu_guard_table *cur;
	struct vhu_guard_table *t;
	struct vhu_guard *g;
	unsigned int n, i, at;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->start = (uintptr_t)start;
	g->len = len;
	g->page_size = page_size;
	pthread_mutex_lock(&vhu_guard_state.lock);
	cur = vhu_guard_state.table;
	n = cur != NULL ? cur->n : 0;
	t = malloc(sizeof(*t) + (n + 1) * sizeof(t->g[0]));
	if (t == NULL) {
		pthread_mutex_unlock(&vhu_guard_state.lock);
		free(g);
		return NULL;
	}
	for (at = 0; at < n && cur->g[at]->start < g->start; at++)
		t->g[at] = cur->g[at];
	t->g[at] = g;
	for (i = at; i < n; i++)
		t->g[i + 1] = cur->g[i];
	t->n = n + 1;
	vhu_guard_publish(t);
	pthread_mutex_unlock(&vhu_guard_state.lock);
	return g;
}

void
vhu_guard_remove(struct vhu_guard *g)
{
	const struct vhu_guard_table *cur;
	struct vhu_guard_table *t = NULL;
	unsigned int i, k = 0;

	if (g == NULL)
		return;
	pthread_mutex_lock(&vhu_guard_state.lock);
	cur = vhu_guard_state.table;
	if (cur != NULL && cur->n > 1) {
		t = malloc(sizeof(*t) + (cur->n - 1) * sizeof(t->g[0]));
		if (t == NULL) {
			/* The table cannot shrink: g stays in it, empty, so
			 * it matches no address, and is never freed. */
			VHU_LOG(ERR, "out of memory removing a SIGBUS guard: "
				"%zu bytes left allocated", sizeof(*g));
			__atomic_store_n(&g->len, 0, __ATOMIC_SEQ_CST);
			pthread_mutex_unlock(&vhu_guard_state.lock);
			return;
		}
		for (i = 0; i < cur->n; i++)
			if (cur->g[i] != g)
				t->g[k++] = cur->g[i];
		t->n = k;
	}
	vhu_guard_publish(t);
	pthread_mutex_unlock(&vhu_guard_state.lock);
	free(g);
}

uint64_t
vhu_guard_total_faults(void)
{
	return __atomic_load_n(&vhu_guard_state.total_faults,
			       __ATOMIC_ACQUIRE);
}

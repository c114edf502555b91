/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The unmap thread (vhu_unmap.h): a FIFO of released mappings under one
 * mutex, drained by a DPDK control thread. Control plane only; the
 * datapath never gets here.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <time.h>

#include <rte_lcore.h>

#include "vhu_log.h"
#include "vhu_unmap.h"

struct vhu_unmap_req {
	STAILQ_ENTRY(vhu_unmap_req) next;
	void *addr;
	size_t len;
	const char *what;
};

static struct {
	pthread_mutex_t lock;
	/* Signalled when the queue gains an entry, pending drops to 0, or
	 * quit is set. */
	pthread_cond_t cond;
	STAILQ_HEAD(, vhu_unmap_req) queue;
	unsigned int pending;      /* queued + being unmapped */
	bool running;
	bool quit;
	bool overflow_logged;      /* until pending drops to 0 again */
	pthread_t thread;
	int (*unmap_fn)(void *addr, size_t len);
} vhu_unmap = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.queue = STAILQ_HEAD_INITIALIZER(vhu_unmap.queue),
};

static uint64_t
vhu_unmap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
vhu_unmap_do(int (*unmap_fn)(void *, size_t), void *addr, size_t len,
		const char *what)
{
	uint64_t start = vhu_unmap_now_ms(), took;

	if (unmap_fn(addr, len) != 0)
		VHU_LOG(ERR, "munmap of %s (%p, 0x%zx) failed: %s",
			what, addr, len, strerror(errno));
	took = vhu_unmap_now_ms() - start;
	if (took >= VHU_UNMAP_SLOW_MS)
		VHU_LOG(WARNING, "munmap of %s (0x%zx bytes) took %" PRIu64
			" ms", what, len, took);
}

static int
vhu_unmap_fn_default(void *addr, size_t len)
{
	return munmap(addr, len);
}

static int (*vhu_unmap_fn_locked(void))(void *, size_t)
{
	return vhu_unmap.unmap_fn != NULL ? vhu_unmap.unmap_fn :
		vhu_unmap_fn_default;
}

static void *
vhu_unmap_main(void *arg __rte_unused)
{
	struct vhu_unmap_req *req;
	int (*unmap_fn)(void *, size_t);

	pthread_mutex_lock(&vhu_unmap.lock);
	for (;;) {
		while (STAILQ_EMPTY(&vhu_unmap.queue) && !vhu_unmap.quit)
			pthread_cond_wait(&vhu_unmap.cond, &vhu_unmap.lock);
		req = STAILQ_FIRST(&vhu_unmap.queue);
		if (req == NULL)
			break; /* quit, and nothing left */
		STAILQ_REMOVE_HEAD(&vhu_unmap.queue, next);
		unmap_fn = vhu_unmap_fn_locked();
		pthread_mutex_unlock(&vhu_unmap.lock);

		vhu_unmap_do(unmap_fn, req->addr, req->len, req->what);
		free(req);

		pthread_mutex_lock(&vhu_unmap.lock);
		if (--vhu_unmap.pending == 0) {
			vhu_unmap.overflow_logged = false;
			pthread_cond_broadcast(&vhu_unmap.cond);
		}
	}
	pthread_mutex_unlock(&vhu_unmap.lock);
	return NULL;
}

int
vhu_unmap_start(void)
{
	int ret;

	pthread_mutex_lock(&vhu_unmap.lock);
	if (vhu_unmap.running) {
		pthread_mutex_unlock(&vhu_unmap.lock);
		return 0;
	}
	vhu_unmap.quit = false;
	ret = rte_ctrl_thread_create(&vhu_unmap.thread, "vhu-unmap", NULL,
				     vhu_unmap_main, NULL);
	if (ret == 0)
		vhu_unmap.running = true;
	pthread_mutex_unlock(&vhu_unmap.lock);
	if (ret != 0) {
		VHU_LOG(ERR, "cannot create the unmap thread (%s): guest"
			" memory is unmapped on the control thread",
			strerror(ret));
		return -ret;
	}
	return 0;
}

void
vhu_unmap_stop(void)
{
	pthread_mutex_lock(&vhu_unmap.lock);
	if (!vhu_unmap.running) {
		pthread_mutex_unlock(&vhu_unmap.lock);
		return;
	}
	vhu_unmap.quit = true;
	pthread_cond_broadcast(&vhu_unmap.cond);
	pthread_mutex_unlock(&vhu_unmap.lock);
	pthread_join(vhu_unmap.thread, NULL);
	pthread_mutex_lock(&vhu_unmap.lock);
	vhu_unmap.running = false;
	vhu_unmap.quit = false;
	pthread_mutex_unlock(&vhu_unmap.lock);
}

void
vhu_unmap_release(void *addr, size_t len, const char *what)
{
	struct vhu_unmap_req *req = NULL;
	int (*unmap_fn)(void *, size_t);
	bool overflow;

	if (addr == NULL || len == 0)
		return;
	pthread_mutex_lock(&vhu_unmap.lock);
	overflow = vhu_unmap.pending >= VHU_UNMAP_MAX_PENDING;
	if (vhu_unmap.running && !vhu_unmap.quit && !overflow)
		req = malloc(sizeof(*req));
	if (req != NULL) {
		req->addr = addr;
		req->len = len;
		req->what = what;
		STAILQ_INSERT_TAIL(&vhu_unmap.queue, req, next);
		vhu_unmap.pending++;
		pthread_cond_broadcast(&vhu_unmap.cond);
		pthread_mutex_unlock(&vhu_unmap.lock);
		return;
	}
	if (overflow && vhu_unmap.running && !vhu_unmap.overflow_logged) {
		vhu_unmap.overflow_logged = true;
		VHU_LOG(WARNING, "%u unmaps waiting for the unmap thread:"
			" unmapping %s on the control thread",
			vhu_unmap.pending, what);
	}
	unmap_fn = vhu_unmap_fn_locked();
	pthread_mutex_unlock(&vhu_unmap.lock);
	vhu_unmap_do(unmap_fn, addr, len, what);
}

void
vhu_unmap_flush(void)
{
	pthread_mutex_lock(&vhu_unmap.lock);
	while (vhu_unmap.pending != 0)
		pthread_cond_wait(&vhu_unmap.cond, &vhu_unmap.lock);
	pthread_mutex_unlock(&vhu_unmap.lock);
}

void
vhu_unmap_set_fn(int (*unmap_fn)(void *addr, size_t len))
{
	pthread_mutex_lock(&vhu_unmap.lock);
	vhu_unmap.unmap_fn = unmap_fn;
	pthread_mutex_unlock(&vhu_unmap.lock);
}

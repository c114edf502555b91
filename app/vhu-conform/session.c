/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every check is built from: a session with the back-end, test
 * frames looped through it and verified, snapshots of guest memory, call
 * eventfds, and the back-end process (--backend-pid).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

/* Frames in flight at most: far below what one guest RX ring holds even
 * for jumbo frames merged over 2 KiB buffers, so the loop never drops. */
#define LOOP_WINDOW 16u

enum conform_verdict
conform_say(struct conform *c, enum conform_verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return v;
}

void
conform_log(const struct conform *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	fputs("vhu-conform: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void
conform_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
conform_connect(struct conform *c)
{
	int rc;

	/* A session still open is ended cleanly: its rings are about to
	 * be reset. */
	conform_close(c);
	rc = vhu_fe_connect(c->fe);
	if (rc < 0) {
		conform_say(c, CONFORM_FAIL, "cannot %s %s: %s",
			    c->listen ? "accept a back-end on" : "connect to",
			    c->socket, strerror(-rc));
		return rc;
	}
	for (unsigned int r = 0; r < vhu_fe_nrings(c->fe); r++)
		vhu_fe_ring_reset(c->fe, r);
	vhu_fe_set_kick_policy(c->fe, true, true);
	return 0;
}

int
conform_open(struct conform *c)
{
	int rc = conform_connect(c);

	if (rc < 0)
		return rc;
	rc = vhu_fe_setup(c->fe);
	if (rc < 0)
		conform_say(c, CONFORM_FAIL, "the start-up sequence failed: %s",
			    strerror(-rc));
	return rc;
}

void
conform_close(struct conform *c)
{
	uint32_t base;

	/* Stop every running ring first: once GET_VRING_BASE has answered,
	 * the back-end no longer touches the rings, so the next session may
	 * reset and reuse their memory. A back-end only notices a closed
	 * connection some time later. */
	for (unsigned int r = 0; vhu_fe_sock_fd(c->fe) >= 0 &&
	     r < vhu_fe_nrings(c->fe); r++)
		if (vhu_fe_ring_started(c->fe, r) &&
		    vhu_fe_get_vring_base(c->fe, r, &base) < 0)
			break;
	vhu_fe_disconnect(c->fe);
}

void
conform_drop(struct conform *c)
{
	vhu_fe_disconnect(c->fe);
}

bool
conform_has_feature(const struct conform *c, unsigned int bit)
{
	return (vhu_fe_features(c->fe) >> bit) & 1u;
}

bool
conform_has_protocol(const struct conform *c, unsigned int bit)
{
	return (vhu_fe_protocol_features(c->fe) >> bit) & 1u;
}

/* The frames one loop run waits for: seq in [base, base + n). */
struct loop_rx {
	uint64_t base;
	unsigned int n;
	uint8_t *seen;            /* one flag per frame; NULL: count all */
	struct conform_traffic *t;
};

static int
loop_rx_cb(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
	   const uint8_t *frame, size_t len)
{
	struct loop_rx *lr = arg;
	uint64_t seq;

	(void)qp;
	(void)hdr;
	if (lr->t == NULL)
		return 0;
	if (vhu_fe_frame_check(frame, len, &seq) != 0) {
		lr->t->bad++;
		return 0;
	}
	if (lr->seen == NULL) {
		lr->t->received++;
		return 0;
	}
	if (seq < lr->base || seq - lr->base >= lr->n) {
		lr->t->stray++;
		return 0;
	}
	/* A frame twice is not what was sent once. */
	if (lr->seen[seq - lr->base]++)
		lr->t->bad++;
	else
		lr->t->received++;
	return 0;
}

/* Take back used TX buffers and receive. Work done, or negative errno. */
static int
poll_rings(struct conform *c, struct loop_rx *lr)
{
	int done, got;

	done = vhu_fe_tx_reclaim(c->fe, 0);
	if (done < 0)
		return done;
	if (lr->t != NULL)
		lr->t->completed += (unsigned int)done;
	got = vhu_fe_rx_poll(c->fe, 0, loop_rx_cb, lr, 256);
	if (got < 0)
		return got;
	return done + got;
}

int
conform_loop(struct conform *c, unsigned int n, const size_t *sizes,
	     unsigned int nsizes, const enum vhu_fe_tx_layout *layouts,
	     unsigned int nlayouts, int wait_ms, struct conform_traffic *t)
{
	struct loop_rx lr = { .base = c->seq, .n = n, .t = t };
	int64_t last = now_ms();
	int rc = 0;

	memset(t, 0, sizeof(*t));
	lr.seen = calloc(n ? n : 1, 1);
	if (lr.seen == NULL)
		return -ENOMEM;
	while (t->received < n || t->completed < t->sent) {
		unsigned int posted = 0;

		while (t->sent < n && t->sent - t->received - t->bad <
		       LOOP_WINDOW) {
			size_t len = nsizes ? sizes[t->sent % nsizes] : 64;
			struct vhu_fe_tx_opts o = { 0 };

			if (nlayouts) {
				o.layout = layouts[t->sent % nlayouts];
				o.segs = 4;
			}
			vhu_fe_frame_build(c->frame, len, lr.base + t->sent);
			rc = vhu_fe_tx_post(c->fe, 0, c->frame, len,
					    nlayouts ? &o : NULL);
			if (rc == -ENOSPC)
				break;
			if (rc < 0)
				goto out;
			t->sent++;
			posted++;
		}
		if (posted > 0) {
			rc = vhu_fe_tx_flush(c->fe, 0);
			if (rc < 0)
				goto out;
		}
		rc = poll_rings(c, &lr);
		if (rc < 0)
			goto out;
		if (rc > 0 || posted > 0) {
			last = now_ms();
		} else {
			if (now_ms() - last > wait_ms)
				break;
			conform_sleep_ms(1);
		}
	}
	rc = 0;
out:
	c->seq += n;
	free(lr.seen);
	return rc;
}

bool
conform_loop_ok(struct conform *c, unsigned int n, const char *when)
{
	struct conform_traffic t;
	int rc = conform_loop(c, n, NULL, 0, NULL, 0, c->timeout_ms, &t);

	if (rc < 0) {
		conform_say(c, CONFORM_FAIL, "%s: the front-end failed: %s", when,
			    strerror(-rc));
		return false;
	}
	if (t.received == n && t.bad == 0 && t.completed == t.sent)
		return true;
	conform_say(c, CONFORM_FAIL, "%s: %u frames sent, %u TX buffers used, "
		    "%u came back intact, %u corrupt (waited %d ms)", when, t.sent,
		    t.completed, t.received, t.bad, c->timeout_ms);
	return false;
}

int
conform_post(struct conform *c, unsigned int n, uint64_t *base)
{
	*base = c->seq;
	for (unsigned int i = 0; i < n; i++) {
		int rc;

		vhu_fe_frame_build(c->frame, 64, c->seq++);
		rc = vhu_fe_tx_post(c->fe, 0, c->frame, 64, NULL);
		if (rc < 0)
			return rc;
	}
	return vhu_fe_tx_flush(c->fe, 0);
}

int
conform_collect(struct conform *c, uint64_t base, unsigned int n,
		unsigned int want_completed, unsigned int want_received,
		int ms, struct conform_traffic *t)
{
	struct loop_rx lr = { .base = base, .n = n, .t = t };
	int64_t end = now_ms() + ms;
	bool wait_all = want_completed == 0 && want_received == 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->sent = n;
	lr.seen = calloc(n ? n : 1, 1);
	if (lr.seen == NULL)
		return -ENOMEM;
	do {
		rc = poll_rings(c, &lr);
		if (rc < 0)
			break;
		if (!wait_all && t->completed >= want_completed &&
		    t->received >= want_received)
			break;
		if (rc == 0)
			conform_sleep_ms(1);
		rc = 0;
	} while (now_ms() < end);
	free(lr.seen);
	return rc < 0 ? rc : 0;
}

int
conform_used_pending(struct conform *c, unsigned int ring)
{
	return vhu_fe_vring_used_pending(vhu_fe_get_vring(c->fe, ring));
}

int
conform_snapshot_take(struct conform *c, struct conform_snapshot *s)
{
	struct vhu_fe_mem *mem = vhu_fe_get_mem(c->fe);

	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < vhu_fe_mem_nregions(mem); i++) {
		const struct vhu_fe_region *r = vhu_fe_mem_region(mem, i);

		s->copy[i] = malloc(r->size);
		if (s->copy[i] == NULL) {
			conform_snapshot_free(s);
			return -ENOMEM;
		}
		memcpy(s->copy[i], r->hva, r->size);
		s->size[i] = r->size;
		s->n = i + 1;
	}
	return 0;
}

uint64_t
conform_snapshot_diff(struct conform *c, const struct conform_snapshot *s,
		      uint64_t *first_gpa)
{
	struct vhu_fe_mem *mem = vhu_fe_get_mem(c->fe);
	uint64_t diff = 0;

	for (unsigned int i = 0; i < s->n; i++) {
		const struct vhu_fe_region *r = vhu_fe_mem_region(mem, i);
		const uint8_t *now = r->hva;

		for (uint64_t b = 0; b < s->size[i]; b++) {
			if (now[b] == s->copy[i][b])
				continue;
			if (diff++ == 0)
				*first_gpa = r->gpa + b;
		}
	}
	return diff;
}

void
conform_snapshot_free(struct conform_snapshot *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		free(s->copy[i]);
	s->n = 0;
}

uint64_t
conform_calls(struct conform *c, unsigned int ring)
{
	struct pollfd pfd = { .fd = vhu_fe_call_fd(c->fe, ring),
			      .events = POLLIN };
	uint64_t v = 0;

	if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1)
		return 0;
	if (read(pfd.fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

bool
conform_backend_alive(const struct conform *c)
{
	char path[64];

	if (c->backend_pid <= 0)
		return true;
	/* A zombie is dead too: /proc/PID/stat says 'Z'. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->backend_pid);
	FILE *f = fopen(path, "r");
	char state = 'X';

	if (f == NULL)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 'X';
	fclose(f);
	return state != 'Z' && state != 'X';
}

int
conform_backend_fds(const struct conform *c)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (c->backend_pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)c->backend_pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

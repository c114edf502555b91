/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-conform: a vhost-user conformance checker. It plays the front-end
 * (lib/vhu_fe) against any back-end that loops guest TX back to guest RX
 * (stock testpmd in io mode with one vhost port, for instance) and checks
 * the back-end from the outside: ring states, protocol rules, hostile
 * messages and rings, frame integrity. doc/conformance.md lists every
 * check with the spec sentence it tests.
 *
 * Internal header of app/vhu-conform. Single-threaded.
 */
#ifndef VHU_CONFORM_H
#define VHU_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vhu_fe.h"

/* What a check concluded. */
enum conform_verdict {
	CONFORM_PASS,
	CONFORM_FAIL,
	CONFORM_SKIP,
};

/* The tool's state: options, and the one front-end every check uses (its
 * guest memory and, with --listen, its listening socket outlive the
 * sessions). */
struct conform {
	const char *socket;
	bool listen;
	bool packed;
	pid_t backend_pid;        /* 0: not watched */
	int timeout_ms;           /* one wait (connect, a reply, a frame) */
	uint64_t features;        /* virtio features wanted (& offered) */
	unsigned int max_frame;   /* --max-frame: integrity's largest */
	uint64_t scratch_gpa;     /* 4 KiB of guest memory for hostile rings */
	uint8_t *scratch;         /* the same, our pointer */
	bool verbose;
	struct vhu_fe *fe;
	uint64_t seq;             /* next test frame's sequence number */
	uint8_t *frame;           /* scratch frame, CONFORM_FRAME_MAX bytes */
	char why[2048];           /* what the running check saw */
};

/* Largest frame a check sends (the integrity check's jumbo frame). */
#define CONFORM_FRAME_MAX 9000u

/* One check: fills c->why and returns its verdict. */
struct conform_check {
	const char *id;
	const char *what;         /* one line, for --list */
	enum conform_verdict (*run)(struct conform *c);
};

/* The checks, in the order they run (check_rings.c, check_proto.c,
 * check_data.c). */
extern const struct conform_check conform_ring_checks[];
extern const struct conform_check conform_proto_checks[];
extern const struct conform_check conform_data_checks[];

/* ---- sessions and traffic (session.c) ---- */

/* Record what the check saw (printf-style); returns verdict v, so that a
 * check can `return conform_say(c, CONFORM_FAIL, "...")`. */
enum conform_verdict conform_say(struct conform *c, enum conform_verdict v,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Verbose progress on stderr. */
void conform_log(const struct conform *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A new connection (the old one dropped), every ring reset to index 0,
 * kicks as front-ends send them; nothing sent yet. 0 or negative errno
 * (c->why says what failed). */
int conform_connect(struct conform *c);

/* A new session: connect (or accept), every ring reset to index 0, the
 * full start-up sequence, kicks as front-ends send them. 0 or negative
 * errno (c->why says what failed). */
int conform_open(struct conform *c);

/* End the session: GET_VRING_BASE on every running ring, then close. */
void conform_close(struct conform *c);

/* Close the connection with the rings running (a front-end that
 * vanished). */
void conform_drop(struct conform *c);

/* Whether the back-end negotiated virtio feature / protocol feature bit. */
bool conform_has_feature(const struct conform *c, unsigned int bit);
bool conform_has_protocol(const struct conform *c, unsigned int bit);

/* What a traffic run saw. */
struct conform_traffic {
	unsigned int sent;        /* frames posted */
	unsigned int completed;   /* TX buffers the back-end used */
	unsigned int received;    /* frames of this run back on RX, verified */
	unsigned int bad;         /* frames back that were not what was sent */
	unsigned int stray;       /* frames from earlier runs */
};

/* Send n test frames on queue pair 0 (frame k has size sizes[k % nsizes],
 * or 64 when nsizes is 0; layout cycles through layouts when nlayouts >
 * 0), a window at a time so the loop never overflows the guest RX ring,
 * and wait up to wait_ms after the last progress for them to come back.
 * Every frame must come back byte-identical (vhu_fe_frame_check: seq,
 * length and pattern). Fills *t. Returns 0 (whatever came back), or a
 * negative errno when the front-end itself failed (protocol error,
 * connection lost). */
int conform_loop(struct conform *c, unsigned int n, const size_t *sizes,
		unsigned int nsizes, const enum vhu_fe_tx_layout *layouts,
		unsigned int nlayouts, int wait_ms, struct conform_traffic *t);

/* conform_loop with 64-byte frames in the default layout: true when all n
 * came back intact; c->why says what happened otherwise. */
bool conform_loop_ok(struct conform *c, unsigned int n, const char *when);

/* Post n 64-byte test frames on guest TX, publish them (kicking as the
 * session's policy says) and wait for nothing; *base is the first one's
 * sequence number. 0 or negative errno. */
int conform_post(struct conform *c, unsigned int n, uint64_t *base);

/* Take back used TX buffers and receive on queue pair 0, counting in *t
 * (zeroed; t->sent = n) the frames of [base, base + n) that come back
 * intact, once each (others are stray or bad), until at least
 * want_completed TX buffers were used and want_received frames came
 * back, or ms passed. With both wants 0 it polls the whole ms (a window
 * in which something must not happen). 0 or negative errno. */
int conform_collect(struct conform *c, uint64_t base, unsigned int n,
		unsigned int want_completed, unsigned int want_received,
		int ms, struct conform_traffic *t);

/* The used index the front-end has consumed up to on a ring, and the
 * number of used entries waiting (split: used->idx - last_used). */
int conform_used_pending(struct conform *c, unsigned int ring);

/* A copy of guest memory (every region), to prove nothing wrote to it. */
struct conform_snapshot {
	unsigned int n;
	uint8_t *copy[VHU_FE_MAX_REGIONS];
	uint64_t size[VHU_FE_MAX_REGIONS];
};

int conform_snapshot_take(struct conform *c, struct conform_snapshot *s);
/* Bytes that differ now (0: untouched); *first_gpa the first of them. */
uint64_t conform_snapshot_diff(struct conform *c,
		const struct conform_snapshot *s, uint64_t *first_gpa);
void conform_snapshot_free(struct conform_snapshot *s);

/* Read and clear a ring's call eventfd: signals since the last read. */
uint64_t conform_calls(struct conform *c, unsigned int ring);

/* The back-end process named by --backend-pid: alive (true when not
 * watched), and its open fds (-1 when not watched or unreadable). */
bool conform_backend_alive(const struct conform *c);
int conform_backend_fds(const struct conform *c);

void conform_sleep_ms(int ms);

#endif /* VHU_CONFORM_H */

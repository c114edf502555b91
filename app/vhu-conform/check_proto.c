/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol checks: reconnection, memory-table changes while the rings
 * run, and malformed or out-of-bounds messages (each must be refused with
 * a nack or by closing the connection, and must not hurt the back-end).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "conform.h"

/* "the back-end accepts a new session after the old one closes": after a
 * front-end that vanished (no GET_VRING_BASE) and after a clean stop. */
static enum conform_verdict
check_reconnect(struct conform *c)
{
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	if (!conform_loop_ok(c, 32, "first session"))
		return CONFORM_FAIL;
	/* Vanish with the rings running; the back-end notices the closed
	 * socket in its own time, before which it may still use the rings
	 * this front-end is about to reset. */
	conform_drop(c);
	conform_sleep_ms(500);
	if (conform_open(c) < 0) {
		strncat(c->why, " (after a close without GET_VRING_BASE)",
			sizeof(c->why) - strlen(c->why) - 1);
		return CONFORM_FAIL;
	}
	if (!conform_loop_ok(c, 32, "after a close without GET_VRING_BASE"))
		return CONFORM_FAIL;
	rc = vhu_fe_stop(c->fe);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on every ring: %s",
				   strerror(-rc));
	conform_close(c);
	if (conform_open(c) < 0) {
		strncat(c->why, " (after a clean stop)",
			sizeof(c->why) - strlen(c->why) - 1);
		return CONFORM_FAIL;
	}
	if (!conform_loop_ok(c, 32, "after a clean stop and reconnect"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "3 sessions, each set up from index "
		"0 and looping 32 frames: after a front-end that vanished and "
		"after a clean stop");
}

/* "While processing the rings (whether they are enabled or not), the
 * back-end must support changing some configuration aspects on the fly":
 * the memory table, with frames in flight. */
static enum conform_verdict
check_mem_table(struct conform *c)
{
	struct conform_traffic t;
	struct vhu_fe_region extra;
	uint64_t seq;
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	if (!conform_loop_ok(c, 16, "before the change"))
		return CONFORM_FAIL;
	if (conform_post(c, 16, &seq) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post TX frames");
	rc = vhu_fe_set_mem_table(c->fe);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "SET_MEM_TABLE (the same "
			"regions) with the rings running: %s", strerror(-rc));
	rc = conform_collect(c, seq, 16, 16, 16, c->timeout_ms, &t);
	if (rc < 0 || t.received != 16)
		return conform_say(c, CONFORM_FAIL, "SET_MEM_TABLE with 16 frames in "
			"flight: %u came back%s%s", t.received, rc < 0 ? ": " : "",
			rc < 0 ? strerror(-rc) : "");
	if (!conform_loop_ok(c, 16, "after SET_MEM_TABLE"))
		return CONFORM_FAIL;
	if (!conform_has_protocol(c, VHU_PROTO_F_CONFIGURE_MEM_SLOTS))
		return conform_say(c, CONFORM_PASS, "SET_MEM_TABLE with 16 frames "
			"in flight: all came back (ADD/REM_MEM_REG not offered)");
	/* 1 MiB far above guest memory. */
	rc = vhu_fe_region_create(1ull << 40, 1 << 20, &extra);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "cannot make a region: %s",
				   strerror(-rc));
	rc = vhu_fe_add_mem_reg(c->fe, &extra);
	if (rc == 0 && !conform_loop_ok(c, 16, "after ADD_MEM_REG"))
		rc = 1;
	if (rc == 0) {
		rc = vhu_fe_rem_mem_reg(c->fe, &extra);
		if (rc == 0 && !conform_loop_ok(c, 16, "after REM_MEM_REG"))
			rc = 1;
	}
	vhu_fe_region_destroy(&extra);
	if (rc > 0)
		return CONFORM_FAIL;
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "ADD_MEM_REG / REM_MEM_REG of a "
			"1 MiB region with the rings running: %s", strerror(-rc));
	return conform_say(c, CONFORM_PASS, "SET_MEM_TABLE with 16 frames in "
		"flight, then ADD_MEM_REG and REM_MEM_REG of a region, rings "
		"running: every frame came back");
}

/* ---- malformed messages ---- */

struct bad_msg {
	uint8_t bytes[12 + 4096];
	size_t len;
	int fds[12];
	unsigned int nfds;
	bool hangup;              /* we close right after sending */
};

static void
bad_msg_set(struct bad_msg *m, uint32_t request, uint32_t size,
	    const void *payload, size_t payload_len)
{
	struct vhu_wire_header h = { request, VHU_WIRE_VERSION |
				     VHU_WIRE_F_NEED_REPLY, size };

	memcpy(m->bytes, &h, sizeof(h));
	if (payload_len > 0)
		memcpy(m->bytes + sizeof(h), payload, payload_len);
	m->len = sizeof(h) + payload_len;
}

/* Eventfds to send as fds (closed after the case). */
static void
bad_msg_fds(struct bad_msg *m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		m->fds[m->nfds++] = eventfd(0, EFD_CLOEXEC);
}

/* Memory fds of 1 MiB each, mappable (closed after the case). */
static void
bad_msg_memfds(struct bad_msg *m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int fd = memfd_create("vhu-conform-bad", MFD_CLOEXEC);

		if (fd >= 0 && ftruncate(fd, 1 << 20) != 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			m->fds[m->nfds++] = fd;
	}
}

static void
bad_msg_vring(struct bad_msg *m, uint32_t request, uint32_t index,
	      uint32_t num)
{
	struct vhu_wire_vring_state st = { index, num };

	bad_msg_set(m, request, sizeof(st), &st, sizeof(st));
}

static void
bad_msg_mem(struct bad_msg *m, uint32_t nregions, uint64_t gpa, uint64_t size,
	    uint64_t offset, unsigned int nfds)
{
	struct vhu_wire_mem_table t = { .nregions = nregions };

	for (unsigned int i = 0; i < VHU_WIRE_MAX_TABLE_REGIONS; i++)
		t.regions[i] = (struct vhu_wire_mem_region){
			gpa + i * size, size, 0x7f0000000000ull + i * size,
			offset };
	bad_msg_set(m, VHU_REQ_SET_MEM_TABLE, sizeof(t), &t, sizeof(t));
	bad_msg_memfds(m, nfds);
}

/* The cases: each builds its message in *m; ring is the queue size. */
struct bad_case {
	const char *name;
	void (*build)(struct conform *c, struct bad_msg *m);
	bool stop_tx;             /* stop the TX ring first (GET_VRING_BASE) */
	bool split_only;
};

static void
b_payload_too_big(struct conform *c, struct bad_msg *m)
{
	struct vhu_wire_vring_state st = { 0, 256 };

	(void)c;
	/* The header claims 1 MiB; 8 bytes follow. */
	bad_msg_set(m, VHU_REQ_SET_VRING_NUM, 1u << 20, &st, sizeof(st));
}

static void
b_payload_short(struct conform *c, struct bad_msg *m)
{
	uint32_t index = 1;

	(void)c;
	bad_msg_set(m, VHU_REQ_SET_VRING_NUM, sizeof(index), &index,
		    sizeof(index));
}

static void
b_too_many_fds(struct conform *c, struct bad_msg *m)
{
	uint64_t v = 1;

	(void)c;
	bad_msg_set(m, VHU_REQ_SET_VRING_CALL, sizeof(v), &v, sizeof(v));
	bad_msg_fds(m, 3);
}

static void
b_ring_index(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_vring(m, VHU_REQ_SET_VRING_NUM, 200, 256);
}

static void
b_ring_size_0(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_vring(m, VHU_REQ_SET_VRING_NUM, 1, 0);
}

static void
b_ring_size_big(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_vring(m, VHU_REQ_SET_VRING_NUM, 1, 32769);
}

static void
b_ring_size_odd(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_vring(m, VHU_REQ_SET_VRING_NUM, 1, 300);
}

static void
b_ring_addr(struct conform *c, struct bad_msg *m)
{
	struct vhu_wire_vring_addr a = { .index = 1,
		.desc_user_addr = 0x10000000000000ull,
		.used_user_addr = 0x10000000010000ull,
		.avail_user_addr = 0x10000000020000ull };

	(void)c;
	bad_msg_set(m, VHU_REQ_SET_VRING_ADDR, sizeof(a), &a, sizeof(a));
}

static void
b_kick_index(struct conform *c, struct bad_msg *m)
{
	uint64_t v = 200;

	(void)c;
	bad_msg_set(m, VHU_REQ_SET_VRING_KICK, sizeof(v), &v, sizeof(v));
	bad_msg_fds(m, 1);
}

static void
b_mem_too_many(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_mem(m, 9, 0, 1 << 20, 0, 1);
	/* nregions 9 > 8: the payload has room for 8 only. */
}

static void
b_mem_fd_count(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_mem(m, 2, 0, 1 << 20, 0, 1);
}

static void
b_mem_offset(struct conform *c, struct bad_msg *m)
{
	(void)c;
	/* 1 MiB at offset 2^40 of a 1 MiB file. */
	bad_msg_mem(m, 1, 0, 1 << 20, 1ull << 40, 1);
}

static void
b_mem_wrap(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_mem(m, 1, UINT64_MAX - 4095, 1 << 20, 0, 1);
}

static void
b_unknown(struct conform *c, struct bad_msg *m)
{
	(void)c;
	bad_msg_set(m, 999, 0, NULL, 0);
}

static void
b_truncated(struct conform *c, struct bad_msg *m)
{
	struct vhu_wire_header h = { VHU_REQ_GET_FEATURES, VHU_WIRE_VERSION, 0 };

	(void)c;
	memcpy(m->bytes, &h, 6);
	m->len = 6;
	m->hangup = true;
}

static const struct bad_case bad_cases[] = {
	{ "payload-size-1MiB", b_payload_too_big, false, false },
	{ "payload-short", b_payload_short, false, false },
	{ "call-3-fds", b_too_many_fds, false, false },
	{ "vring-num-index-200", b_ring_index, false, false },
	{ "vring-num-0", b_ring_size_0, true, false },
	{ "vring-num-32769", b_ring_size_big, true, false },
	{ "vring-num-300", b_ring_size_odd, true, true },
	{ "vring-addr-outside-memory", b_ring_addr, true, false },
	{ "vring-kick-index-200", b_kick_index, false, false },
	{ "mem-table-9-regions", b_mem_too_many, false, false },
	{ "mem-table-2-regions-1-fd", b_mem_fd_count, false, false },
	{ "mem-region-unmappable", b_mem_offset, false, false },
	{ "mem-region-wraps", b_mem_wrap, false, false },
	{ "unknown-request", b_unknown, false, false },
	{ "truncated-header", b_truncated, false, false },
};

/* What the back-end did with a bad message: "nack", "closed",
 * "accepted" (ack 0: a failure), "no answer" (a failure with REPLY_ACK),
 * or "unexpected reply". */
static const char *
bad_outcome(struct conform *c, uint32_t request, bool reply_ack, bool *ok)
{
	struct vhu_fe_msg msg;
	uint64_t ack;
	int rc = vhu_fe_recv_raw(c->fe, &msg, c->timeout_ms);

	*ok = false;
	if (rc == -ECONNRESET || rc == -EPIPE) {
		*ok = true;
		return "closed";
	}
	if (rc == -ETIMEDOUT) {
		if (vhu_fe_peer_closed(c->fe) > 0) {
			*ok = true;
			return "closed";
		}
		(void)reply_ack;
		return "no answer";
	}
	if (rc < 0)
		return "receive error";
	vhu_fe_msg_close_fds(&msg);
	if (msg.hdr.request != request || !(msg.hdr.flags & VHU_WIRE_F_REPLY) ||
	    msg.len != sizeof(ack))
		return "unexpected reply";
	memcpy(&ack, msg.payload, sizeof(ack));
	if (ack == 0)
		return "accepted";
	*ok = true;
	return "nack";
}

/* One case on a session of its own. Appends "name: outcome" to list.
 * Returns true when refused and the back-end serves a session after. */
static bool
run_bad_case(struct conform *c, const struct bad_case *bc, char *list,
	     size_t size, unsigned int *refused)
{
	struct bad_msg m = { .nfds = 0 };
	const char *outcome;
	bool ok = true, reply_ack;
	uint32_t base;
	int rc;

	if (conform_open(c) < 0)
		return false;
	reply_ack = conform_has_protocol(c, VHU_PROTO_F_REPLY_ACK);
	if (bc->stop_tx && vhu_fe_get_vring_base(c->fe, 1, &base) < 0) {
		conform_say(c, CONFORM_FAIL, "%s: GET_VRING_BASE failed", bc->name);
		return false;
	}
	bc->build(c, &m);
	rc = vhu_fe_send_raw(c->fe, m.bytes, m.len, m.fds, m.nfds);
	for (unsigned int i = 0; i < m.nfds; i++)
		if (m.fds[i] >= 0)
			close(m.fds[i]);
	if (m.hangup) {
		/* The peer goes away with half a header sent. */
		conform_drop(c);
		outcome = "hung up mid-header";
	} else if (rc < 0) {
		/* The back-end closed before taking it all. */
		outcome = "closed";
	} else {
		struct vhu_wire_header h;

		memcpy(&h, m.bytes, sizeof(h));
		outcome = bad_outcome(c, h.request, reply_ack, &ok);
	}
	if (ok)
		(*refused)++;
	snprintf(list + strlen(list), size - strlen(list), "%s%s: %s",
		 list[0] ? ", " : "", bc->name, outcome);
	/* Whatever happened, the back-end must serve the next session. */
	conform_close(c);
	if (!conform_backend_alive(c)) {
		conform_say(c, CONFORM_FAIL, "the back-end died on %s (%s)",
			    bc->name, list);
		return false;
	}
	if (conform_open(c) < 0 || !conform_loop_ok(c, 8, bc->name)) {
		char why[sizeof(c->why)];

		snprintf(why, sizeof(why), "%s", c->why);
		conform_say(c, CONFORM_FAIL, "after %s the back-end does not serve a "
			    "new session: %s", bc->name, why);
		return false;
	}
	return true;
}

/* Wait up to 3 s for the back-end's fd count to come back to want. */
static int
fds_settle(const struct conform *c, int want)
{
	int n = conform_backend_fds(c);

	for (int i = 0; i < 30 && n != want; i++) {
		conform_sleep_ms(100);
		n = conform_backend_fds(c);
	}
	return n;
}

/* Malformed and out-of-bounds messages: sizes, fd counts, ring indices
 * and sizes, addresses outside memory, bad memory tables. The spec has
 * the back-end validate what it is sent; refusing means a REPLY_ACK nack
 * or closing the connection, never crashing. */
static enum conform_verdict
check_messages(struct conform *c)
{
	char list[2048] = "";
	unsigned int refused = 0, ncases = 0;
	int fds0 = -1, fds1;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	/* A refusal is a nack or a closed connection: without REPLY_ACK a
	 * back-end that silently ignores a message cannot be told from one
	 * that took it. */
	if (!conform_has_protocol(c, VHU_PROTO_F_REPLY_ACK))
		return conform_say(c, CONFORM_SKIP, "REPLY_ACK not negotiated: "
				   "refusals cannot be observed");
	if (!conform_loop_ok(c, 8, "before the bad messages"))
		return CONFORM_FAIL;
	fds0 = conform_backend_fds(c);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		if (bad_cases[i].split_only && c->packed)
			continue;
		ncases++;
		conform_log(c, "message case %s", bad_cases[i].name);
		if (!run_bad_case(c, &bad_cases[i], list, sizeof(list), &refused))
			return CONFORM_FAIL;
	}
	/* The last case's session is up: the same state as fds0's. */
	if (fds0 >= 0) {
		fds1 = fds_settle(c, fds0);
		if (fds1 != fds0)
			return conform_say(c, CONFORM_FAIL, "back-end fds with one "
				"session: %d before the bad messages, %d after (%s)",
				fds0, fds1, list);
	}
	if (refused != ncases)
		return conform_say(c, CONFORM_FAIL, "%u of %u refused (%s)", refused,
				   ncases, list);
	return conform_say(c, CONFORM_PASS, "%u of %u refused, the back-end "
		"served a new session after each%s (%s)", refused, ncases,
		fds0 >= 0 ? " with its fd count unchanged" : "", list);
}

const struct conform_check conform_proto_checks[] = {
	{ "reconnect", "a new session after the old one closed", check_reconnect },
	{ "mem-table", "memory table changes with the rings running",
	  check_mem_table },
	{ "messages", "malformed messages are refused, the back-end survives",
	  check_messages },
	{ NULL, NULL, NULL },
};

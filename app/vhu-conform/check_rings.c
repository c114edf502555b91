/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring state checks (vhost-user.rst "Ring states", "Suspended device
 * state", with the ring-states clarification: rings start on
 * SET_VRING_KICK, stop on GET_VRING_BASE and can be restarted). Ring 0
 * is guest RX, ring 1 guest TX of queue pair 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "conform.h"

#define RX_RING 0u
#define TX_RING 1u

/* Empty a ring's kick eventfd: kicks written by earlier checks must not
 * make the next SET_VRING_KICK hand over an fd that is already
 * readable. */
static void
drain_kick(struct conform *c, unsigned int ring)
{
	struct pollfd pfd = { .fd = vhu_fe_kick_fd(c->fe, ring), .events = POLLIN };
	uint64_t v;

	if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 &&
	    read(pfd.fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
}

/* The start-up sequence with n TX frames (the first *base) on the ring
 * before SET_VRING_KICK, and no kick in the whole session: what
 * vhu_fe_setup() does, with the TX posts before the rings start. */
static int
open_preloaded(struct conform *c, unsigned int n, uint64_t *base)
{
	struct vhu_fe *fe = c->fe;
	struct vhu_fe_config dflt;
	uint64_t offered, pf, queues;
	uint8_t status;
	bool st;
	int rc;

	rc = conform_connect(c);
	if (rc < 0)
		return rc;
	vhu_fe_config_default(&dflt);
	vhu_fe_set_kick_policy(fe, false, false);
	rc = vhu_fe_set_owner(fe);
	if (rc == 0)
		rc = vhu_fe_get_features(fe, &offered);
	if (rc == 0 && c->packed && !((offered >> VIRTIO_F_RING_PACKED) & 1)) {
		conform_say(c, CONFORM_FAIL, "--packed, but the back-end does not "
			    "offer VIRTIO_F_RING_PACKED");
		return -EOPNOTSUPP;
	}
	if (rc == 0 && (offered >> VHU_F_PROTOCOL_FEATURES) & 1) {
		rc = vhu_fe_get_protocol_features(fe, &pf);
		if (rc == 0)
			rc = vhu_fe_set_protocol_features(fe, pf &
				dflt.protocol_features);
		if (rc == 0 && conform_has_protocol(c, VHU_PROTO_F_MQ))
			rc = vhu_fe_get_queue_num(fe, &queues);
	}
	st = rc == 0 && conform_has_protocol(c, VHU_PROTO_F_STATUS);
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	if (st)
		rc = vhu_fe_set_status(fe, status);
	if (rc == 0)
		rc = vhu_fe_set_features(fe, offered & (c->features |
			(c->packed ? 1ull << VIRTIO_F_RING_PACKED : 0)));
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	if (rc == 0 && st)
		rc = vhu_fe_set_status(fe, status);
	if (rc == 0)
		rc = vhu_fe_set_mem_table(fe);
	if (rc == 0) {
		rc = vhu_fe_rx_fill(fe, 0);   /* buffers posted, or errno */
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0)
		rc = conform_post(c, n, base);
	/* Enabled while still stopped ("the enabled/disabled state should
	 * still be tracked"), so that SET_VRING_KICK alone starts a ring that
	 * processes: a ring started but disabled would rightly drop them. */
	for (unsigned int r = 0; rc == 0 && r < vhu_fe_nrings(fe); r++) {
		bool packed = vhu_fe_vring_is_packed(vhu_fe_get_vring(fe, r));

		rc = vhu_fe_set_vring_num(fe, r, vhu_fe_vring_num(
			vhu_fe_get_vring(fe, r)));
		if (rc == 0)
			rc = vhu_fe_set_vring_base(fe, r, packed ?
				VHU_FE_PACKED_BASE_FRESH : 0);
		if (rc == 0)
			rc = vhu_fe_set_vring_addr(fe, r);
		if (rc == 0)
			rc = vhu_fe_set_vring_call(fe, r);
		if (rc == 0 && conform_has_feature(c, VHU_F_PROTOCOL_FEATURES))
			rc = vhu_fe_set_vring_enable(fe, r, true);
		drain_kick(c, r);
		if (rc == 0)
			rc = vhu_fe_set_vring_kick(fe, r);
	}
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	if (rc == 0 && st)
		rc = vhu_fe_set_status(fe, status);
	if (rc < 0 && c->why[0] == '\0')
		conform_say(c, CONFORM_FAIL, "the start-up sequence failed: %s",
			    strerror(-rc));
	return rc;
}

/* The ring-states clarification (RFC): "Rings are started with
 * VHOST_USER_SET_VRING_KICK" and "Back-ends SHOULD NOT rely on receiving
 * a kick after VHOST_USER_SET_VRING_KICK". */
static enum conform_verdict
check_ring_start(struct conform *c)
{
	struct conform_traffic t, k;
	const unsigned int n = 32;
	uint64_t base;
	int rc;

	if (open_preloaded(c, n, &base) < 0)
		return CONFORM_FAIL;
	rc = conform_collect(c, base, n, n, n, c->timeout_ms, &t);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "the front-end failed: %s",
				   strerror(-rc));
	if (t.received == n && t.completed == n && t.bad == 0)
		return conform_say(c, CONFORM_PASS, "%u frames put on the TX ring "
			"before SET_VRING_KICK (rings enabled before it), no "
			"kick ever written: all %u came back", n, n);
	/* Why not: would a kick have started it? */
	vhu_fe_kick(c->fe, TX_RING);
	vhu_fe_kick(c->fe, RX_RING);
	conform_collect(c, base, n, n, n, c->timeout_ms, &k);
	if (k.received > 0)
		return conform_say(c, CONFORM_FAIL, "without a kick: %u of %u TX "
			"buffers used, %u frames back in %d ms; after one kick "
			"on each ring %u more came: the rings waited for a kick, "
			"not for SET_VRING_KICK", t.completed, n, t.received,
			c->timeout_ms, k.received);
	return conform_say(c, CONFORM_FAIL, "without a kick: %u of %u TX buffers "
		"used, %u frames back in %d ms (a kick did not help either: "
		"does the back-end loop TX back to RX?)", t.completed, n,
		t.received, c->timeout_ms);
}

/* Stop ring `ring` with GET_VRING_BASE and check the value it returned:
 * every buffer the back-end took it also used (the front-end consumed
 * every used entry first), so its next avail index and its used index
 * are both the driver's next used position. Split: that 16-bit index,
 * bits 16-31 zero. Packed: both positions with their wrap counters in
 * the 32-bit form ("Vring descriptor indices for packed virtqueues"). */
static bool
stop_ring_check_base(struct conform *c, unsigned int ring, bool exact,
		     uint32_t *base)
{
	struct vhu_fe_vring_raw raw;
	uint32_t want;
	int rc;

	if (conform_used_pending(c, ring) != 0) {
		conform_say(c, CONFORM_FAIL, "ring %u: used entries not consumed "
			    "before GET_VRING_BASE", ring);
		return false;
	}
	vhu_fe_vring_get_raw(vhu_fe_get_vring(c->fe, ring), &raw);
	if (raw.packed) {
		struct vhu_fe_packed_base b = { raw.last_used, raw.used_wrap,
						raw.last_used, raw.used_wrap };

		want = vhu_fe_packed_base_encode(&b);
	} else {
		want = __atomic_load_n(&raw.used->idx, __ATOMIC_ACQUIRE);
	}
	rc = vhu_fe_get_vring_base(c->fe, ring, base);
	/* -EPROTO: the front-end found the value impossible; the ring is
	 * stopped all the same and *base holds it. */
	if (rc < 0 && (rc != -EPROTO || !exact)) {
		conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on ring %u: %s",
			    ring, strerror(-rc));
		return false;
	}
	/* The other checks only need the ring stopped (vhu_fe_get_vring_base
	 * takes DPDK's 16-bit packed form, and remembers it as both halves
	 * for the restart). */
	if (exact && *base != want) {
		conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on ring %u returned "
			    "0x%" PRIx32 "; what the back-end used makes it 0x%"
			    PRIx32 "%s", ring, *base, want, raw.packed &&
			    (*base >> 16) == 0 ? " (bits 16-31, the used index "
			    "and its wrap counter, are missing)" : "");
		return false;
	}
	return true;
}

/* A new session, n frames looped, then ring `ring` stopped (its base
 * checked exactly with `exact`): where ring-stop, restart and one-ring
 * begin. */
static bool
open_loop_stop(struct conform *c, unsigned int n, unsigned int ring,
	       bool exact, uint32_t *base)
{
	return conform_open(c) == 0 && conform_loop_ok(c, n, "before the stop") &&
		stop_ring_check_base(c, ring, exact, base);
}

/* The bytes of a ring the device writes: split, the used ring; packed,
 * the descriptor ring and the device event area. A stopped ring's must
 * stay as they are. */
static void
ring_area_get(struct conform *c, unsigned int ring, bool with_notify,
	      uint8_t **p, size_t *len)
{
	struct vhu_fe_vring_raw raw;

	vhu_fe_vring_get_raw(vhu_fe_get_vring(c->fe, ring), &raw);
	p[1] = NULL;
	len[1] = 0;
	if (raw.packed) {
		p[0] = (uint8_t *)raw.pdesc;
		len[0] = (size_t)raw.num * sizeof(*raw.pdesc);
		if (with_notify) {
			p[1] = (uint8_t *)raw.device_event;
			len[1] = sizeof(*raw.device_event);
		}
	} else if (with_notify) {
		p[0] = (uint8_t *)raw.used;
		len[0] = 4 + 8 * (size_t)raw.num + 2;
	} else {
		/* idx and the ring: not flags, not avail_event. */
		p[0] = (uint8_t *)raw.used + 2;
		len[0] = 2 + 8 * (size_t)raw.num;
	}
}

/* A copy of the area now, to compare later (ring_area_changed). */
static uint8_t *
ring_area_save(struct conform *c, unsigned int ring, bool with_notify)
{
	uint8_t *p[2];
	size_t len[2];
	uint8_t *copy;

	ring_area_get(c, ring, with_notify, p, len);
	copy = malloc(len[0] + len[1]);
	if (copy == NULL)
		return NULL;
	memcpy(copy, p[0], len[0]);
	if (len[1])
		memcpy(copy + len[0], p[1], len[1]);
	return copy;
}

/* Bytes of the area that differ from the copy (which is freed). */
static size_t
ring_area_changed(struct conform *c, unsigned int ring, bool with_notify,
		  uint8_t *copy)
{
	uint8_t *p[2];
	size_t len[2], diff = 0;

	ring_area_get(c, ring, with_notify, p, len);
	for (size_t i = 0; i < len[0]; i++)
		diff += p[0][i] != copy[i];
	for (size_t i = 0; i < len[1]; i++)
		diff += p[1][i] != copy[len[0] + i];
	free(copy);
	return diff;
}

/* "stop a ring upon receiving VHOST_USER_GET_VRING_BASE" and "While a
 * ring is stopped, the back-end must not process the ring at all". */
static enum conform_verdict
check_ring_stop(struct conform *c)
{
	struct conform_traffic t;
	uint8_t *saved;
	uint64_t seq;
	uint32_t base;
	size_t diff;

	if (!open_loop_stop(c, 32, TX_RING, true, &base))
		return CONFORM_FAIL;
	/* Buffers after the reply, then kicked: none may be used. The
	 * ring's bytes are taken after the front-end wrote its own. */
	if (conform_post(c, 16, &seq) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post on the stopped ring");
	saved = ring_area_save(c, TX_RING, true);
	if (saved == NULL)
		return conform_say(c, CONFORM_FAIL, "out of memory");
	if (vhu_fe_kick(c->fe, TX_RING) < 0 ||
	    conform_collect(c, seq, 16, 0, 0, 500, &t) < 0) {
		ring_area_changed(c, TX_RING, true, saved);
		return conform_say(c, CONFORM_FAIL, "bad used entries on the "
				   "stopped ring");
	}
	diff = ring_area_changed(c, TX_RING, true, saved);
	if (t.completed != 0 || diff != 0)
		return conform_say(c, CONFORM_FAIL, "after GET_VRING_BASE (0x%"
			PRIx32 ") on the TX ring, 16 buffers posted and kicked: "
			"%u used, %zu bytes of the ring written in 500 ms", base,
			t.completed, diff);
	return conform_say(c, CONFORM_PASS, "GET_VRING_BASE returned 0x%" PRIx32
		" (exactly what was used); 16 buffers posted and kicked after "
		"the reply: none used, no byte of the ring written in 500 ms",
		base);
}

/* Restart a stopped ring with SET_VRING_BASE + SET_VRING_KICK alone. */
static int
restart_ring(struct conform *c, unsigned int ring, uint32_t base)
{
	int rc = vhu_fe_set_vring_base(c->fe, ring, base);

	if (rc == 0)
		rc = vhu_fe_set_vring_kick(c->fe, ring);
	if (rc < 0)
		conform_say(c, CONFORM_FAIL, "restarting ring %u (SET_VRING_BASE "
			    "0x%" PRIx32 ", SET_VRING_KICK): %s", ring, base,
			    strerror(-rc));
	return rc;
}

/* "A stopped ring enters the started state again with
 * VHOST_USER_SET_VRING_KICK and the back-end resumes processing". */
static enum conform_verdict
check_restart(struct conform *c)
{
	struct conform_traffic t;
	uint32_t base;
	uint64_t seq;
	int rc;

	if (!open_loop_stop(c, 32, TX_RING, false, &base))
		return CONFORM_FAIL;
	if (conform_post(c, 16, &seq) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post on the stopped ring");
	if (restart_ring(c, TX_RING, base) < 0)
		return CONFORM_FAIL;
	/* A back-end that restarted anywhere but at base returns ids that
	 * are not in flight: the front-end reports -EPROTO. */
	rc = conform_collect(c, seq, 16, 16, 16, c->timeout_ms, &t);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "after the restart at 0x%" PRIx32
			": %s (used entries for buffers not in flight?)", base,
			strerror(-rc));
	if (t.completed != 16 || t.received != 16 || t.bad + t.stray != 0)
		return conform_say(c, CONFORM_FAIL, "restarted at 0x%" PRIx32 " with "
			"SET_VRING_BASE + SET_VRING_KICK only: of the 16 buffers "
			"posted while stopped %u were used, %u came back intact "
			"in %d ms", base, t.completed, t.received, c->timeout_ms);
	if (!conform_loop_ok(c, 32, "after the restart"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "restarted with SET_VRING_BASE 0x%"
		PRIx32 " + SET_VRING_KICK only (size, addresses, call fd kept): "
		"the 16 buffers posted while stopped and 32 more came back",
		base);
}

/* GET_VRING_BASE stops the ring it names, not the device. */
static enum conform_verdict
check_one_ring(struct conform *c)
{
	struct conform_traffic t;
	uint8_t *saved;
	uint32_t base;
	uint64_t seq;
	size_t diff;
	int rc;

	if (!open_loop_stop(c, 16, RX_RING, false, &base))
		return CONFORM_FAIL;
	saved = ring_area_save(c, RX_RING, true);
	if (saved == NULL)
		return conform_say(c, CONFORM_FAIL, "out of memory");
	rc = conform_post(c, 32, &seq);
	if (rc == 0)
		rc = conform_collect(c, seq, 32, 32, 0, c->timeout_ms, &t);
	/* Then a while longer for anything written into the RX ring. */
	if (rc == 0)
		conform_sleep_ms(200);
	diff = ring_area_changed(c, RX_RING, true, saved);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "the front-end failed: %s",
				   strerror(-rc));
	if (t.received != 0 || diff != 0)
		return conform_say(c, CONFORM_FAIL, "the stopped RX ring was "
			"written: %zu bytes, %u frames", diff, t.received);
	if (t.completed != 32)
		return conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on the RX ring "
			"stopped the TX ring too: %u of 32 TX buffers used in %d "
			"ms", t.completed, c->timeout_ms);
	/* The whole start sequence: restart alone is the restart check's. */
	rc = vhu_fe_start_ring(c->fe, RX_RING);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "starting the RX ring again: %s",
				   strerror(-rc));
	if (!conform_loop_ok(c, 16, "after restarting the RX ring"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "RX ring stopped: the TX ring used "
		"all 32 buffers, no byte of the RX ring written; RX started "
		"again, 16 frames looped");
}

static int
set_enable(struct conform *c, unsigned int ring, bool on)
{
	int rc = vhu_fe_set_vring_enable(c->fe, ring, on);

	if (rc < 0)
		conform_say(c, CONFORM_FAIL, "SET_VRING_ENABLE %u on ring %u: %s",
			    on, ring, strerror(-rc));
	return rc;
}

/* "started and disabled: ... must not supply any new RX packets, but
 * must process and discard any TX packets." */
static enum conform_verdict
check_disabled(struct conform *c)
{
	struct conform_traffic tx, late, rx;
	uint8_t *saved;
	uint64_t seq;
	size_t diff;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	if (!conform_has_feature(c, VHU_F_PROTOCOL_FEATURES))
		return conform_say(c, CONFORM_SKIP, "PROTOCOL_FEATURES not "
				   "negotiated: rings cannot be disabled");
	if (!conform_loop_ok(c, 16, "before disabling"))
		return CONFORM_FAIL;
	if (set_enable(c, TX_RING, false) < 0)
		return CONFORM_FAIL;
	/* All consumed (waited for), none delivered (then 300 ms more). */
	if (conform_post(c, 32, &seq) < 0 ||
	    conform_collect(c, seq, 32, 32, 0, c->timeout_ms, &tx) < 0 ||
	    conform_collect(c, seq, 32, 0, 0, 300, &late) < 0)
		return conform_say(c, CONFORM_FAIL, "front-end failure with TX "
				   "disabled");
	if (tx.completed + late.completed != 32 ||
	    tx.received + late.received != 0)
		return conform_say(c, CONFORM_FAIL, "TX ring started and disabled: "
			"%u of 32 buffers consumed (all must be), %u frames "
			"delivered (none may be)", tx.completed + late.completed,
			tx.received + late.received);
	if (set_enable(c, TX_RING, true) < 0 ||
	    !conform_loop_ok(c, 16, "after enabling TX again"))
		return CONFORM_FAIL;
	if (set_enable(c, RX_RING, false) < 0)
		return CONFORM_FAIL;
	/* RX: no used entry (notification fields may change). */
	saved = ring_area_save(c, RX_RING, false);
	if (saved == NULL)
		return conform_say(c, CONFORM_FAIL, "out of memory");
	if (conform_post(c, 32, &seq) < 0 ||
	    conform_collect(c, seq, 32, 32, 0, c->timeout_ms, &rx) < 0 ||
	    conform_collect(c, seq, 32, 0, 0, 300, &late) < 0) {
		ring_area_changed(c, RX_RING, false, saved);
		return conform_say(c, CONFORM_FAIL, "front-end failure with RX "
				   "disabled");
	}
	diff = ring_area_changed(c, RX_RING, false, saved);
	if (rx.received + late.received != 0 || diff != 0)
		return conform_say(c, CONFORM_FAIL, "RX ring started and disabled: "
			"%u frames delivered, %zu bytes of its used entries "
			"written", rx.received + late.received, diff);
	if (set_enable(c, RX_RING, true) < 0 ||
	    !conform_loop_ok(c, 16, "after enabling RX again"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "TX disabled: 32/32 buffers "
		"consumed, none delivered; RX disabled: no used entry written "
		"(%u TX buffers used meanwhile); both enabled again: frames "
		"looped", rx.completed + late.completed);
}

/* "While all vrings are stopped, the device is suspended ... must not
 * write to any guest memory regions, not send any notifications to the
 * guest, not send any messages to the front-end, still process and reply
 * to messages from the front-end." */
static enum conform_verdict
check_suspended(struct conform *c)
{
	struct conform_traffic t;
	struct conform_snapshot s;
	uint32_t base[2];
	uint64_t diff, first = 0, calls, seq;
	uint64_t features;
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	/* Ask for every notification, so that any would show. */
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(c->fe, RX_RING), true);
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(c->fe, TX_RING), true);
	if (!conform_loop_ok(c, 16, "before suspending"))
		return CONFORM_FAIL;
	if (!stop_ring_check_base(c, RX_RING, false, &base[0]) ||
	    !stop_ring_check_base(c, TX_RING, false, &base[1]))
		return CONFORM_FAIL;
	conform_calls(c, RX_RING);
	conform_calls(c, TX_RING);
	if (conform_post(c, 16, &seq) < 0 || vhu_fe_kick(c->fe, TX_RING) < 0 ||
	    vhu_fe_kick(c->fe, RX_RING) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post on the stopped ring");
	if (conform_snapshot_take(c, &s) < 0)
		return conform_say(c, CONFORM_FAIL, "out of memory");
	conform_sleep_ms(500);
	diff = conform_snapshot_diff(c, &s, &first);
	conform_snapshot_free(&s);
	calls = conform_calls(c, RX_RING) + conform_calls(c, TX_RING);
	rc = vhu_fe_peer_closed(c->fe);
	if (diff != 0)
		return conform_say(c, CONFORM_FAIL, "suspended (every ring stopped): "
			"%" PRIu64 " bytes of guest memory written in 500 ms, the "
			"first at GPA 0x%" PRIx64, diff, first);
	if (calls != 0)
		return conform_say(c, CONFORM_FAIL, "suspended: %" PRIu64
				   " notifications (call eventfd) in 500 ms", calls);
	if (rc != 0)
		return conform_say(c, CONFORM_FAIL, "suspended: the back-end %s",
			rc > 0 ? "closed the connection" :
			"sent a message of its own");
	rc = vhu_fe_get_features(c->fe, &features);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "suspended: GET_FEATURES got no "
				   "reply: %s", strerror(-rc));
	/* The whole start sequence (restart alone is the restart check's),
	 * from where they stopped. */
	rc = vhu_fe_start_ring(c->fe, RX_RING);
	if (rc == 0)
		rc = vhu_fe_start_ring(c->fe, TX_RING);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "starting the rings again: %s",
				   strerror(-rc));
	rc = conform_collect(c, seq, 16, 16, 16, c->timeout_ms, &t);
	if (rc < 0 || t.received != 16)
		return conform_say(c, CONFORM_FAIL, "after starting both rings "
			"again, %u of the 16 frames posted while suspended came "
			"back%s%s", t.received, rc < 0 ? ": " : "",
			rc < 0 ? strerror(-rc) : "");
	return conform_say(c, CONFORM_PASS, "both rings stopped, 16 buffers "
		"posted and kicked: in 500 ms no byte of guest memory written, no "
		"notification, nothing on the socket; GET_FEATURES answered; "
		"started again, the 16 frames came back");
}

const struct conform_check conform_ring_checks[] = {
	{ "ring-start", "a ring starts on SET_VRING_KICK, with no kick",
	  check_ring_start },
	{ "ring-stop", "GET_VRING_BASE stops the ring and returns what was used",
	  check_ring_stop },
	{ "restart", "SET_VRING_BASE + SET_VRING_KICK restart a stopped ring",
	  check_restart },
	{ "one-ring", "GET_VRING_BASE on one ring leaves the others running",
	  check_one_ring },
	{ "disabled", "started and disabled: TX consumed and dropped, no RX",
	  check_disabled },
	{ "suspended", "all rings stopped: no writes, no notifications, replies",
	  check_suspended },
	{ NULL, NULL, NULL },
};

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

#include <linux/virtio_config.h>

#include "conform.h"

#define RX_RING 0u
#define TX_RING 1u

/* The start-up sequence with TX frames on the ring before SET_VRING_KICK
 * and no kick anywhere: what vhu_fe_setup() does, with the TX posts
 * before the rings start. */
static int
open_preloaded(struct conform *c, unsigned int n)
{
	struct vhu_fe *fe = c->fe;
	uint64_t offered, pf, queues;
	uint8_t status;
	bool st;
	int rc;

	rc = conform_connect(c);
	if (rc < 0)
		return rc;
	vhu_fe_set_kick_policy(fe, false, false);
	rc = vhu_fe_set_owner(fe);
	if (rc == 0)
		rc = vhu_fe_get_features(fe, &offered);
	if (rc == 0 && (offered >> VHU_F_PROTOCOL_FEATURES) & 1) {
		rc = vhu_fe_get_protocol_features(fe, &pf);
		if (rc == 0)
			rc = vhu_fe_set_protocol_features(fe, pf &
				((1ull << VHU_PROTO_F_MQ) |
				 (1ull << VHU_PROTO_F_REPLY_ACK) |
				 (1ull << VHU_PROTO_F_STATUS)));
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
		rc = conform_post(c, n);
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
		if (rc == 0)
			rc = vhu_fe_set_vring_kick(fe, r);
	}
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	if (rc == 0 && st)
		rc = vhu_fe_set_status(fe, status);
	if (rc < 0)
		conform_say(c, CONFORM_FAIL, "the start-up sequence failed: %s",
			    strerror(-rc));
	return rc;
}

/* "Rings are started with VHOST_USER_SET_VRING_KICK" and "Back-ends
 * SHOULD NOT rely on receiving a kick after VHOST_USER_SET_VRING_KICK". */
static enum conform_verdict
check_ring_start(struct conform *c)
{
	struct conform_traffic t = { 0 };
	const unsigned int n = 32;
	int rc;

	c->seq += 1000;
	if (open_preloaded(c, n) < 0)
		return CONFORM_FAIL;
	rc = conform_poll(c, 2000, &t);
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
	struct conform_traffic k = { 0 };
	conform_poll(c, 1000, &k);
	if (k.received > 0)
		return conform_say(c, CONFORM_FAIL, "without a kick: %u of %u TX "
			"buffers used, %u frames back in 2 s; after one kick on "
			"each ring %u more came: the rings waited for a kick, "
			"not for SET_VRING_KICK", t.completed, n, t.received,
			k.received);
	return conform_say(c, CONFORM_FAIL, "without a kick: %u of %u TX buffers "
		"used, %u frames back in 2 s (a kick did not help either: "
		"does the back-end loop TX back to RX?)", t.completed, n,
		t.received);
}

/* Stop ring `ring` with GET_VRING_BASE and check the index it returned
 * against what the back-end used: every buffer posted on it (all came
 * back). For a packed ring vhu_fe_get_vring_base() checks the value
 * against the driver's view itself. */
static bool
stop_ring_check_base(struct conform *c, unsigned int ring, uint32_t *base)
{
	struct vhu_fe_vring_raw raw;
	int rc;

	rc = vhu_fe_get_vring_base(c->fe, ring, base);
	if (rc < 0) {
		conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on ring %u: %s%s",
			    ring, strerror(-rc), rc == -EPROTO ?
			    " (the index does not match the ring)" : "");
		return false;
	}
	vhu_fe_vring_get_raw(vhu_fe_get_vring(c->fe, ring), &raw);
	if (raw.packed)
		return true;
	/* Split: the next avail index to process; TX had none in flight,
	 * RX buffers are consumed one used entry each. */
	uint16_t want = ring == TX_RING ? raw.avail_idx :
		__atomic_load_n(&raw.used->idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)*base != want) {
		conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on ring %u returned "
			    "%" PRIu32 ", but the back-end had used %u buffers of "
			    "it", ring, *base, want);
		return false;
	}
	return true;
}

/* A new session, n frames looped, then ring `ring` stopped and its base
 * checked: where ring-stop, restart and one-ring begin. */
static bool
open_loop_stop(struct conform *c, unsigned int n, unsigned int ring,
	       uint32_t *base)
{
	return conform_open(c) == 0 && conform_loop_ok(c, n, "before the stop") &&
		stop_ring_check_base(c, ring, base);
}

/* The bytes of a ring the device writes: split, the used ring; packed,
 * the descriptor ring and the device event area. A stopped ring's must
 * stay as they are. */
static void
ring_area_get(struct conform *c, unsigned int ring, uint8_t **p, size_t *len)
{
	struct vhu_fe_vring_raw raw;

	vhu_fe_vring_get_raw(vhu_fe_get_vring(c->fe, ring), &raw);
	if (raw.packed) {
		p[0] = (uint8_t *)raw.pdesc;
		len[0] = (size_t)raw.num * sizeof(*raw.pdesc);
		p[1] = (uint8_t *)raw.device_event;
		len[1] = sizeof(*raw.device_event);
	} else {
		p[0] = (uint8_t *)raw.used;
		len[0] = 4 + 8 * (size_t)raw.num + 2;
		p[1] = NULL;
		len[1] = 0;
	}
}

/* A copy of the area now, to compare later (ring_area_changed). */
static uint8_t *
ring_area_save(struct conform *c, unsigned int ring)
{
	uint8_t *p[2];
	size_t len[2];
	uint8_t *copy;

	ring_area_get(c, ring, p, len);
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
ring_area_changed(struct conform *c, unsigned int ring, uint8_t *copy)
{
	uint8_t *p[2];
	size_t len[2], diff = 0;

	ring_area_get(c, ring, p, len);
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
	uint8_t *saved;
	uint32_t base;
	size_t diff;
	int pending;

	if (!open_loop_stop(c, 32, TX_RING, &base))
		return CONFORM_FAIL;
	/* Buffers after the reply, kicked: none may be used. */
	if (conform_post(c, 16) < 0 || vhu_fe_kick(c->fe, TX_RING) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post on the stopped ring");
	saved = ring_area_save(c, TX_RING);
	if (saved == NULL)
		return conform_say(c, CONFORM_FAIL, "out of memory");
	conform_sleep_ms(500);
	diff = ring_area_changed(c, TX_RING, saved);
	pending = conform_used_pending(c, TX_RING);
	if (pending != 0 || diff != 0)
		return conform_say(c, CONFORM_FAIL, "after GET_VRING_BASE (%" PRIu32
			") on the TX ring, 16 buffers posted and kicked: %d used "
			"entries, %zu bytes of the ring written in 500 ms", base,
			pending, diff);
	return conform_say(c, CONFORM_PASS, "GET_VRING_BASE returned %" PRIu32
		" (what was used); 16 buffers posted and kicked after the "
		"reply: none used, no byte of the ring written in 500 ms",
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
			    "%" PRIu32 ", SET_VRING_KICK): %s", ring, base,
			    strerror(-rc));
	return rc;
}

/* "A stopped ring enters the started state again with
 * VHOST_USER_SET_VRING_KICK and the back-end resumes processing". */
static enum conform_verdict
check_restart(struct conform *c)
{
	struct conform_traffic t = { 0 };
	uint32_t base;

	if (!open_loop_stop(c, 32, TX_RING, &base))
		return CONFORM_FAIL;
	if (conform_post(c, 16) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post on the stopped ring");
	if (restart_ring(c, TX_RING, base) < 0)
		return CONFORM_FAIL;
	/* A back-end that restarted anywhere but at base returns ids that
	 * are not in flight: the front-end reports -EPROTO. */
	int rc = conform_poll(c, 2000, &t);

	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "after the restart at %" PRIu32
			": %s (used entries for buffers not in flight?)", base,
			strerror(-rc));
	if (t.completed != 16 || t.received != 16 || t.bad != 0)
		return conform_say(c, CONFORM_FAIL, "restarted at %" PRIu32 " with "
			"SET_VRING_BASE + SET_VRING_KICK only: of the 16 buffers "
			"posted while stopped %u were used, %u came back intact",
			base, t.completed, t.received);
	if (!conform_loop_ok(c, 32, "after the restart"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "restarted with SET_VRING_BASE %"
		PRIu32 " + SET_VRING_KICK only (size, addresses, call fd kept): "
		"the 16 buffers posted while stopped and 32 more came back",
		base);
}

/* GET_VRING_BASE stops the ring it names, not the device. */
static enum conform_verdict
check_one_ring(struct conform *c)
{
	struct conform_traffic t = { 0 };
	uint32_t base;
	int rc;

	if (!open_loop_stop(c, 16, RX_RING, &base))
		return CONFORM_FAIL;
	if (conform_post(c, 32) < 0)
		return conform_say(c, CONFORM_FAIL, "cannot post TX frames");
	rc = conform_poll(c, 1000, &t);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "the front-end failed: %s",
				   strerror(-rc));
	if (t.received != 0)
		return conform_say(c, CONFORM_FAIL, "%u frames written into the "
			"stopped RX ring", t.received);
	if (t.completed != 32)
		return conform_say(c, CONFORM_FAIL, "GET_VRING_BASE on the RX ring "
			"stopped the TX ring too: %u of 32 TX buffers used in 1 s",
			t.completed);
	/* The whole start sequence: restart alone is the restart check's. */
	rc = vhu_fe_start_ring(c->fe, RX_RING);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "starting the RX ring again: %s",
				   strerror(-rc));
	if (!conform_loop_ok(c, 16, "after restarting the RX ring"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "RX ring stopped: the TX ring used "
		"all 32 buffers, nothing written to RX; RX restarted, 16 frames "
		"looped");
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
	struct conform_traffic tx = { 0 }, rx = { 0 };
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	if (!conform_has_feature(c, VHU_F_PROTOCOL_FEATURES))
		return conform_say(c, CONFORM_SKIP, "PROTOCOL_FEATURES not "
				   "negotiated: rings cannot be disabled");
	if (!conform_loop_ok(c, 16, "before disabling"))
		return CONFORM_FAIL;
	if (set_enable(c, TX_RING, false) < 0)
		return CONFORM_FAIL;
	if (conform_post(c, 32) < 0 || (rc = conform_poll(c, 1000, &tx)) < 0)
		return conform_say(c, CONFORM_FAIL, "front-end failure with TX "
				   "disabled");
	if (tx.completed != 32 || tx.received != 0)
		return conform_say(c, CONFORM_FAIL, "TX ring started and disabled: "
			"%u of 32 buffers consumed (all must be), %u frames "
			"delivered (none may be)", tx.completed, tx.received);
	if (set_enable(c, TX_RING, true) < 0 ||
	    !conform_loop_ok(c, 16, "after enabling TX again"))
		return CONFORM_FAIL;
	if (set_enable(c, RX_RING, false) < 0)
		return CONFORM_FAIL;
	if (conform_post(c, 32) < 0 || (rc = conform_poll(c, 1000, &rx)) < 0)
		return conform_say(c, CONFORM_FAIL, "front-end failure with RX "
				   "disabled");
	if (rx.received != 0)
		return conform_say(c, CONFORM_FAIL, "RX ring started and disabled: "
			"%u frames written into it", rx.received);
	if (set_enable(c, RX_RING, true) < 0 ||
	    !conform_loop_ok(c, 16, "after enabling RX again"))
		return CONFORM_FAIL;
	return conform_say(c, CONFORM_PASS, "TX disabled: 32/32 buffers "
		"consumed, none delivered; RX disabled: no frame written (%u TX "
		"buffers used meanwhile); both enabled again: frames looped",
		rx.completed);
}

/* "While all vrings are stopped, the device is suspended ... must not
 * write to any guest memory regions, not send any notifications to the
 * guest, not send any messages to the front-end, still process and reply
 * to messages from the front-end." */
static enum conform_verdict
check_suspended(struct conform *c)
{
	struct conform_traffic t = { 0 };
	struct conform_snapshot s;
	uint32_t base[2];
	uint64_t diff, first = 0, calls;
	uint64_t features;
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	/* Ask for every notification, so that any would show. */
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(c->fe, RX_RING), true);
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(c->fe, TX_RING), true);
	if (!conform_loop_ok(c, 16, "before suspending"))
		return CONFORM_FAIL;
	if (!stop_ring_check_base(c, RX_RING, &base[0]) ||
	    !stop_ring_check_base(c, TX_RING, &base[1]))
		return CONFORM_FAIL;
	conform_calls(c, RX_RING);
	conform_calls(c, TX_RING);
	if (conform_post(c, 16) < 0 || vhu_fe_kick(c->fe, TX_RING) < 0 ||
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
	rc = conform_poll(c, 2000, &t);
	if (rc < 0 || t.received != 16)
		return conform_say(c, CONFORM_FAIL, "after restarting both rings, "
			"%u of the 16 frames posted while suspended came back%s%s",
			t.received, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
	return conform_say(c, CONFORM_PASS, "both rings stopped, 16 buffers "
		"posted and kicked: in 500 ms no byte of guest memory written, no "
		"notification, no message; GET_FEATURES answered; started again, "
		"the 16 frames came back");
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

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datapath checks: hostile guest TX chains (each must be consumed and
 * dropped, and must not stall the ring or the process), and frame
 * integrity through the back-end's loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "conform.h"

#define TX_RING 1u
#define MIN_SIZE(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))
#define FAR_GPA (1ull << 46)    /* in no guest's memory */

/* One hostile chain, in both formats' terms: up to three descriptors
 * (split: linked by next from the head; packed: consecutive) and, for
 * indirect cases, a table in the scratch area. */
struct hostile {
	const char *name;
	unsigned int n;
	struct { uint64_t addr; uint32_t len; uint16_t flags; int next; } d[3];
	unsigned int ntable;      /* table entries written at scratch + 1024 */
	struct { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; }
		table[2];
	bool split_only;
	bool indirect;            /* needs VIRTIO_RING_F_INDIRECT_DESC */
};

/* addr -1: the scratch area; -2: the indirect table in it. next -1: the
 * next descriptor of the chain; -2: the head itself (a loop). */
#define SCRATCH ((uint64_t)-1)
#define TABLE ((uint64_t)-2)
#define NEXT_SELF (-2)
#define NEXT_OUT (-3)             /* an index past the ring */

static const struct hostile hostiles[] = {
	{ "addr-outside-memory", 1, { { FAR_GPA, 64, 0, 0 } }, 0, { { 0 } },
	  false, false },
	{ "len-past-memory", 1, { { SCRATCH, 0x7ffff000u, 0, 0 } }, 0, { { 0 } },
	  false, false },
	{ "shorter-than-header", 1, { { SCRATCH, 4, 0, 0 } }, 0, { { 0 } },
	  false, false },
	{ "device-writable", 2, { { SCRATCH, 12, VRING_DESC_F_NEXT, -1 },
	  { SCRATCH, 64, VRING_DESC_F_WRITE, 0 } }, 0, { { 0 } }, false, false },
	{ "next-out-of-range", 1, { { SCRATCH, 64, VRING_DESC_F_NEXT, NEXT_OUT } },
	  0, { { 0 } }, true, false },
	{ "self-loop", 1, { { SCRATCH, 64, VRING_DESC_F_NEXT, NEXT_SELF } }, 0,
	  { { 0 } }, true, false },
	{ "indirect-len-24", 1, { { TABLE, 24, VRING_DESC_F_INDIRECT, 0 } }, 1,
	  { { SCRATCH, 64, 0, 0 } }, false, true },
	{ "indirect-outside-memory", 1, { { FAR_GPA, 32, VRING_DESC_F_INDIRECT,
	  0 } }, 0, { { 0 } }, false, true },
	{ "indirect-nested", 1, { { TABLE, 16, VRING_DESC_F_INDIRECT, 0 } }, 1,
	  { { TABLE, 16, VRING_DESC_F_INDIRECT, 0 } }, false, true },
	{ "indirect-loop", 1, { { TABLE, 32, VRING_DESC_F_INDIRECT, 0 } }, 2,
	  { { SCRATCH, 64, VRING_DESC_F_NEXT, 1 },
	    { SCRATCH, 64, VRING_DESC_F_NEXT, 0 } }, true, true },
};

static uint64_t
hostile_addr(const struct conform *c, uint64_t a)
{
	if (a == SCRATCH)
		return c->scratch_gpa;
	if (a == TABLE)
		return c->scratch_gpa + 1024;
	return a;
}

/* Put h on the TX ring, after a valid virtio-net header and frame in the
 * scratch area. 0 or negative errno. */
static int
hostile_post(struct conform *c, const struct hostile *h)
{
	struct vhu_fe_vring *vr = vhu_fe_get_vring(c->fe, TX_RING);
	struct vring_desc *table = (struct vring_desc *)(c->scratch + 1024);
	struct vhu_fe_vring_raw raw;

	memset(c->scratch, 0, 12);
	vhu_fe_frame_build(c->scratch + 12, 64, UINT64_MAX / 2);
	vhu_fe_vring_get_raw(vr, &raw);
	/* Both formats' descriptors are 16 bytes: addr, len, then split
	 * flags + next or packed id + flags. */
	for (unsigned int i = 0; i < h->ntable; i++) {
		if (raw.packed)
			((struct vring_packed_desc *)table)[i] =
				(struct vring_packed_desc){
				hostile_addr(c, h->table[i].addr),
				h->table[i].len, 0, h->table[i].flags };
		else
			table[i] = (struct vring_desc){
				hostile_addr(c, h->table[i].addr),
				h->table[i].len, h->table[i].flags,
				h->table[i].next };
	}
	if (raw.packed) {
		struct vring_packed_desc d[3];

		for (unsigned int i = 0; i < h->n; i++)
			d[i] = (struct vring_packed_desc){
				hostile_addr(c, h->d[i].addr), h->d[i].len,
				(uint16_t)(raw.num - 1), h->d[i].flags };
		return vhu_fe_vring_push_raw_packed(vr, d, h->n);
	}
	/* Split: descriptors from the top of the table down, which the
	 * front-end's own buffers (few in flight) never reach. */
	for (unsigned int i = 0; i < h->n; i++) {
		uint16_t idx = (uint16_t)(raw.num - 1 - i), next = 0;

		if (h->d[i].next == -1)
			next = (uint16_t)(idx - 1);
		else if (h->d[i].next == NEXT_SELF)
			next = idx;
		else if (h->d[i].next == NEXT_OUT)
			next = (uint16_t)(raw.num + 7);
		raw.desc[idx] = (struct vring_desc){
			hostile_addr(c, h->d[i].addr), h->d[i].len,
			h->d[i].flags, next };
	}
	return vhu_fe_vring_push_raw(vr, (uint16_t)(raw.num - 1));
}

/* "Hostile rings": each chain is one a guest can write. The back-end may
 * drop it (it must not be executed), but must not stall the ring, nor
 * lose the buffers after it, nor die. */
/* One hostile chain on a session of its own: "ok" or what went wrong. */
static const char *
hostile_case(struct conform *c, const struct hostile *h)
{
	struct conform_traffic t;
	unsigned int left;
	int rc;

	conform_log(c, "hostile chain %s", h->name);
	rc = hostile_post(c, h);
	if (rc < 0)
		return "could not be posted";
	rc = conform_loop(c, 16, NULL, 0, NULL, 0, c->timeout_ms, &t);
	/* The hostile buffer's used entry may follow the frames'. */
	for (int ms = 0; rc == 0 && t.received == 16 && ms < c->timeout_ms &&
	     vhu_fe_vring_inflight(vhu_fe_get_vring(c->fe, TX_RING)) != 0;
	     ms += 10) {
		rc = vhu_fe_tx_reclaim(c->fe, 0);
		rc = rc < 0 ? rc : 0;
		conform_sleep_ms(10);
	}
	left = vhu_fe_vring_inflight(vhu_fe_get_vring(c->fe, TX_RING));
	if (!conform_backend_alive(c))
		return "the back-end died";
	if (rc < 0)
		return "bad used entries after it";
	if (t.bad + t.stray != 0)
		return "executed (a frame came back that was not sent)";
	if (t.received != 16)
		return "stalled the ring (the 16 frames after it never came back)";
	if (left != 0)
		return "never returned (no used entry for it)";
	return "ok";
}

/* "Hostile rings": each chain is one a guest can write. The back-end may
 * drop it (it must not be executed), but must not stall the ring, nor
 * lose the buffers after it, nor die. */
static enum conform_verdict
check_hostile(struct conform *c)
{
	char ok[512] = "", bad[1536] = "";
	unsigned int ncases = 0, nbad = 0;

	for (size_t i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		const struct hostile *h = &hostiles[i];
		const char *r;

		if (h->split_only && c->packed)
			continue;
		if (conform_open(c) < 0)
			return CONFORM_FAIL;
		if (h->indirect &&
		    !conform_has_feature(c, VIRTIO_RING_F_INDIRECT_DESC))
			continue;
		ncases++;
		r = hostile_case(c, h);
		if (strcmp(r, "ok") == 0) {
			snprintf(ok + strlen(ok), sizeof(ok) - strlen(ok), "%s%s",
				 ok[0] ? ", " : "", h->name);
			continue;
		}
		nbad++;
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s: %s",
			 bad[0] ? "; " : "", h->name, r);
		if (!conform_backend_alive(c))
			break;
	}
	conform_close(c);
	if (nbad > 0)
		return conform_say(c, CONFORM_FAIL, "%u of %u hostile TX chains not "
			"handled: %s (handled: %s)", nbad, ncases, bad,
			ok[0] ? ok : "none");
	return conform_say(c, CONFORM_PASS, "%u hostile TX chains, each followed "
		"by 16 frames: every one returned, every frame came back (%s)",
		ncases, ok);
}

/* "Integrity": frames from 60 to 9000 bytes in every TX layout come back
 * byte-identical (sequence number, length and pattern checked). */
static enum conform_verdict
check_integrity(struct conform *c)
{
	static const size_t all[] = { 60, 61, 63, 64, 65, 127, 128, 129, 255,
		256, 511, 512, 1023, 1024, 1500, 1514, 1518, 2047, 2048, 2049,
		4095, 4096, 8191, 8192, 9000 };
	enum vhu_fe_tx_layout layouts[] = { VHU_FE_TX_ONE,
		VHU_FE_TX_HDR_SPLIT, VHU_FE_TX_CHAIN, VHU_FE_TX_INDIRECT };
	struct conform_traffic t;
	size_t sizes[sizeof(all) / sizeof(all[0])], max;
	unsigned int nsizes = 0, nlayouts = 4, n;
	int rc;

	if (conform_open(c) < 0)
		return CONFORM_FAIL;
	/* Without mergeable buffers a frame has one 2 KiB RX buffer. */
	max = conform_has_feature(c, VIRTIO_NET_F_MRG_RXBUF) ?
		c->max_frame : MIN_SIZE(c->max_frame,
					    2048 - vhu_fe_hdr_len(c->fe));
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] <= max)
			sizes[nsizes++] = all[i];
	if (!conform_has_feature(c, VIRTIO_RING_F_INDIRECT_DESC))
		nlayouts = 3;
	n = nsizes * nlayouts;
	rc = conform_loop(c, n, sizes, nsizes, layouts, nlayouts,
			  c->timeout_ms, &t);
	if (rc < 0)
		return conform_say(c, CONFORM_FAIL, "the front-end failed: %s",
				   strerror(-rc));
	if (t.received != n || t.bad != 0)
		return conform_say(c, CONFORM_FAIL, "%u frames of %u sizes (%zu..%zu "
			"B) in %u TX layouts: %u came back intact, %u corrupt, %u "
			"TX buffers used", n, nsizes, sizes[0], sizes[nsizes - 1],
			nlayouts, t.received, t.bad, t.completed);
	return conform_say(c, CONFORM_PASS, "%u frames of %u sizes (%zu..%zu B) in "
		"%u TX layouts (one piece, header + data, 4-piece chain%s): all "
		"came back byte-identical", n, nsizes, sizes[0],
		sizes[nsizes - 1], nlayouts, nlayouts == 4 ? ", indirect" : "");
}

const struct conform_check conform_data_checks[] = {
	{ "hostile-rings", "hostile TX chains are dropped, the ring flows on",
	  check_hostile },
	{ "integrity", "frames of 60..9000 B come back byte-identical",
	  check_integrity },
	{ NULL, NULL, NULL },
};

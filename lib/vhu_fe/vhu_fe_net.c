/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net datapath, guest side: TX frames (with a choice of descriptor
 * layouts) on ring 2q+1, RX buffers on ring 2q with MRG_RXBUF reassembly
 * and checks of what the device wrote.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhu_fe_priv.h"

static bool
qp_ok(const struct vhu_fe *fe, unsigned int qp, const char *what)
{
	if (qp < fe->cfg.queue_pairs)
		return true;
	VHU_FE_LOG("%s: queue pair %u out of range (%u)", what, qp,
		   fe->cfg.queue_pairs);
	return false;
}

int
vhu_fe_kick(struct vhu_fe *fe, unsigned int ring)
{
	uint64_t one = 1;

	if (!vhu_fe_ring_ok(fe, ring, "kick"))
		return -EINVAL;
	/* EAGAIN: the counter is saturated, the back-end has a kick anyway. */
	if (write(fe->rings[ring].kick_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN) {
		int err = errno;
		VHU_FE_LOG("kick of ring %u failed: %s", ring, strerror(err));
		return -err;
	}
	return 0;
}

static int
publish(struct vhu_fe *fe, unsigned int ring)
{
	struct vhu_fe_ring_state *rs = &fe->rings[ring];
	bool wants_kick = vhu_fe_vring_publish(rs->vr);

	if (wants_kick && fe->cfg.notify)
		return vhu_fe_kick(fe, ring);
	return 0;
}

/* Split n bytes at gpa into pieces (1..max) of nearly equal size. */
static unsigned int
split_segs(struct vhu_fe_seg *segs, uint64_t gpa, uint32_t n, unsigned int max,
	   bool write)
{
	unsigned int pieces = n < max ? n : max;
	uint32_t each = n / pieces, extra = n % pieces;

	for (unsigned int i = 0; i < pieces; i++) {
		segs[i].gpa = gpa;
		segs[i].len = each + (i < extra ? 1 : 0);
		segs[i].write = write;
		gpa += segs[i].len;
	}
	return pieces;
}

static int
tx_layout_segs(const struct vhu_fe *fe, const struct vhu_fe_tx_opts *opts,
	       uint64_t gpa, uint32_t len, struct vhu_fe_seg *segs,
	       unsigned int *nsegs, bool *indirect)
{
	enum vhu_fe_tx_layout layout = opts ? opts->layout : fe->cfg.tx_layout;
	unsigned int pieces = opts && opts->segs ? opts->segs : fe->cfg.tx_segs;
	uint32_t hl = fe->hdr_len;

	*indirect = false;
	switch (layout) {
	case VHU_FE_TX_ONE:
		segs[0] = (struct vhu_fe_seg){ gpa, hl + len, false };
		*nsegs = 1;
		return 0;
	case VHU_FE_TX_HDR_SPLIT:
		pieces = 1;
		break;
	case VHU_FE_TX_INDIRECT:
		if (!vhu_fe_has(fe->features, VIRTIO_RING_F_INDIRECT_DESC)) {
			VHU_FE_LOG("TX: indirect layout without "
				   "VIRTIO_RING_F_INDIRECT_DESC negotiated");
			return -EOPNOTSUPP;
		}
		*indirect = true;
		break;
	case VHU_FE_TX_CHAIN:
		break;
	default:
		VHU_FE_LOG("TX: unknown layout %d", (int)layout);
		return -EINVAL;
	}
	if (pieces < 1 || pieces > VHU_FE_MAX_SEGS - 1) {
		VHU_FE_LOG("TX: %u frame pieces, want 1..%u", pieces,
			   VHU_FE_MAX_SEGS - 1);
		return -EINVAL;
	}
	segs[0] = (struct vhu_fe_seg){ gpa, hl, false };
	*nsegs = 1 + split_segs(&segs[1], gpa + hl, len, pieces, false);
	return 0;
}

int
vhu_fe_tx_post(struct vhu_fe *fe, unsigned int qp, const void *frame,
	       size_t len, const struct vhu_fe_tx_opts *opts)
{
	struct vhu_fe_seg segs[VHU_FE_MAX_SEGS];
	struct virtio_net_hdr_v1 zero = { 0 };
	struct vhu_fe_ring_state *rs;
	unsigned int nsegs;
	bool indirect;
	int head, rc;

	if (!qp_ok(fe, qp, "TX"))
		return -EINVAL;
	rs = &fe->rings[2 * qp + 1];
	if (len == 0 || frame == NULL) {
		VHU_FE_LOG("TX: empty frame");
		return -EINVAL;
	}
	if (len > rs->buf_size - fe->hdr_len) {
		VHU_FE_LOG("TX: frame of %zu bytes + %u header bytes exceeds the "
			   "%u-byte TX buffers", len, fe->hdr_len, rs->buf_size);
		return -EMSGSIZE;
	}
	head = vhu_fe_vring_next_head(rs->vr);
	if (head < 0)
		return head;
	uint8_t *buf = rs->buf[head];
	uint64_t gpa = vhu_fe_mem_to_gpa(fe->mem, buf, rs->buf_size);
	rc = tx_layout_segs(fe, opts, gpa, (uint32_t)len, segs, &nsegs,
			    &indirect);
	if (rc < 0)
		return rc;
	if (!indirect && vhu_fe_vring_num_free(rs->vr) < nsegs)
		return -ENOSPC;
	memcpy(buf, opts && opts->hdr ? opts->hdr : &zero, fe->hdr_len);
	memcpy(buf + fe->hdr_len, frame, len);
	rc = vhu_fe_vring_add(rs->vr, segs, nsegs, indirect);
	if (rc < 0)
		return rc;
	fe->stats.tx_packets++;
	fe->stats.tx_bytes += len;
	return 0;
}

int
vhu_fe_tx_flush(struct vhu_fe *fe, unsigned int qp)
{
	if (!qp_ok(fe, qp, "TX flush"))
		return -EINVAL;
	return publish(fe, 2 * qp + 1);
}

int
vhu_fe_tx_reclaim(struct vhu_fe *fe, unsigned int qp)
{
	struct vhu_fe_vring *vr;
	uint16_t id;
	uint32_t len;
	int n = 0, rc;

	if (!qp_ok(fe, qp, "TX reclaim"))
		return -EINVAL;
	vr = fe->rings[2 * qp + 1].vr;
	while ((rc = vhu_fe_vring_get_used(vr, &id, &len)) == 1)
		n++;
	fe->stats.tx_completed += (uint64_t)n;
	return rc < 0 ? rc : n;
}

unsigned int
vhu_fe_tx_inflight(const struct vhu_fe *fe, unsigned int qp)
{
	if (qp >= fe->cfg.queue_pairs)
		return 0;
	return vhu_fe_vring_inflight(fe->rings[2 * qp + 1].vr);
}

int
vhu_fe_rx_fill(struct vhu_fe *fe, unsigned int qp)
{
	struct vhu_fe_ring_state *rs;
	bool split = fe->cfg.rx_layout == VHU_FE_RX_HDR_SPLIT;
	unsigned int need = split ? 2 : 1;
	int n = 0;

	if (!qp_ok(fe, qp, "RX fill"))
		return -EINVAL;
	rs = &fe->rings[2 * qp];
	while (vhu_fe_vring_num_free(rs->vr) >= need) {
		int head = vhu_fe_vring_next_head(rs->vr);
		uint64_t gpa = vhu_fe_mem_to_gpa(fe->mem, rs->buf[head],
						 rs->buf_size);
		struct vhu_fe_seg segs[2] = {
			{ gpa, rs->buf_size, true },
			{ gpa + fe->hdr_len, rs->buf_size - fe->hdr_len, true },
		};

		if (split)
			segs[0].len = fe->hdr_len;
		int rc = vhu_fe_vring_add(rs->vr, segs, need, false);
		if (rc < 0)
			return rc;
		n++;
	}
	int rc = publish(fe, 2 * qp);
	return rc < 0 ? rc : n;
}

static void
rx_violation(struct vhu_fe *fe, unsigned int qp, const char *what)
{
	fe->stats.rx_violations++;
	if (fe->violation_logged)
		return;
	fe->violation_logged = true;
	VHU_FE_LOG("RX queue %u: device broke a virtio-net rule: %s (logged "
		   "once, counted in rx_violations)", qp, what);
}

/* Header rules the device must keep whatever the packet. */
static void
rx_check_hdr(struct vhu_fe *fe, unsigned int qp,
	     const struct virtio_net_hdr_v1 *h)
{
	uint64_t f = fe->features;
	bool mrg = vhu_fe_has(f, VIRTIO_NET_F_MRG_RXBUF);
	bool gso = vhu_fe_has(f, VIRTIO_NET_F_GUEST_TSO4) ||
		   vhu_fe_has(f, VIRTIO_NET_F_GUEST_TSO6) ||
		   vhu_fe_has(f, VIRTIO_NET_F_GUEST_UFO);

	if (!mrg && fe->hdr_len == sizeof(*h) && h->num_buffers != 1)
		rx_violation(fe, qp, "num_buffers != 1 without MRG_RXBUF");
	if (h->flags != 0 && !vhu_fe_has(f, VIRTIO_NET_F_GUEST_CSUM))
		rx_violation(fe, qp, "header flags set without GUEST_CSUM");
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE && !gso)
		rx_violation(fe, qp, "gso_type set without GUEST_TSO/UFO");
}

static int
rx_scratch(struct vhu_fe *fe, size_t need)
{
	if (need <= fe->rx_scratch_size)
		return 0;
	uint8_t *p = realloc(fe->rx_scratch, need);
	if (p == NULL) {
		VHU_FE_LOG("RX: no memory to merge a %zu-byte packet", need);
		return -ENOMEM;
	}
	fe->rx_scratch = p;
	fe->rx_scratch_size = need;
	return 0;
}

/* Gather the nb used buffers of one merged packet into the scratch area. */
static int
rx_merge(struct vhu_fe *fe, unsigned int qp, uint32_t first_len,
	 unsigned int nb, size_t *flen)
{
	struct vhu_fe_ring_state *rs = &fe->rings[2 * qp];
	uint32_t prev_len = first_len;
	size_t off = 0;
	int rc = rx_scratch(fe, (size_t)nb * rs->buf_size);

	if (rc < 0)
		return rc;
	for (unsigned int k = 0; k < nb; k++) {
		uint16_t id;
		uint32_t len;
		unsigned int skip = k == 0 ? fe->hdr_len : 0;

		rc = vhu_fe_vring_peek_used(rs->vr, k, &id, &len);
		if (rc < 0)
			return rc;
		if (len > rs->buf_size || len < skip) {
			VHU_FE_LOG("RX queue %u: merged buffer %u of %u has used "
				   "length %u (buffer %u bytes)", qp, k, nb, len,
				   rs->buf_size);
			return -EPROTO;
		}
		if (k > 0 && prev_len != rs->buf_size)
			rx_violation(fe, qp, "merged buffer not filled before "
				     "the next one was used");
		memcpy(fe->rx_scratch + off, rs->buf[id] + skip, len - skip);
		off += len - skip;
		prev_len = len;
	}
	*flen = off;
	return 0;
}

/* Deliver the packet at the head of the used ring: 1 done (*cb_rc = the
 * callback's value), 0 not all of its buffers are there yet, negative on
 * error. */
static int
rx_one(struct vhu_fe *fe, unsigned int qp, vhu_fe_rx_cb cb, void *arg,
       int pending, int *cb_rc)
{
	struct vhu_fe_ring_state *rs = &fe->rings[2 * qp];
	struct virtio_net_hdr_v1 h = { 0 };
	const uint8_t *frame;
	unsigned int nb = 1;
	size_t flen;
	uint16_t id;
	uint32_t len;
	int rc = vhu_fe_vring_peek_used(rs->vr, 0, &id, &len);

	if (rc < 0)
		return rc;
	if (len < fe->hdr_len || len > rs->buf_size) {
		VHU_FE_LOG("RX queue %u: used length %u, want %u..%u", qp, len,
			   fe->hdr_len, rs->buf_size);
		return -EPROTO;
	}
	memcpy(&h, rs->buf[id], fe->hdr_len);
	if (vhu_fe_has(fe->features, VIRTIO_NET_F_MRG_RXBUF)) {
		nb = h.num_buffers;
		if (nb == 0 || nb > vhu_fe_vring_num(rs->vr)) {
			VHU_FE_LOG("RX queue %u: num_buffers %u, want 1..%u", qp,
				   nb, vhu_fe_vring_num(rs->vr));
			return -EPROTO;
		}
		if (nb > (unsigned int)pending)
			return 0;
	}
	rx_check_hdr(fe, qp, &h);
	if (nb == 1) {
		frame = rs->buf[id] + fe->hdr_len;
		flen = len - fe->hdr_len;
	} else {
		rc = rx_merge(fe, qp, len, nb, &flen);
		if (rc < 0)
			return rc;
		frame = fe->rx_scratch;
	}
	/* Consumed, but not re-posted before the callback returns. */
	for (unsigned int k = 0; k < nb; k++)
		if (vhu_fe_vring_get_used(rs->vr, &id, &len) != 1)
			return -EPROTO;
	fe->stats.rx_buffers += nb;
	fe->stats.rx_packets++;
	fe->stats.rx_bytes += flen;
	*cb_rc = cb ? cb(arg, qp, &h, frame, flen) : 0;
	return 1;
}

int
vhu_fe_rx_poll(struct vhu_fe *fe, unsigned int qp, vhu_fe_rx_cb cb, void *arg,
	       unsigned int max)
{
	int delivered = 0, rc = 0, cb_rc = 0;

	if (!qp_ok(fe, qp, "RX poll"))
		return -EINVAL;
	while ((unsigned int)delivered < max && cb_rc == 0) {
		int pending = vhu_fe_vring_used_pending(fe->rings[2 * qp].vr);

		if (pending <= 0) {
			rc = pending;
			break;
		}
		rc = rx_one(fe, qp, cb, arg, pending, &cb_rc);
		if (rc != 1)
			break;
		delivered++;
		rc = 0;
	}
	if (rc == 0) {
		rc = vhu_fe_rx_fill(fe, qp);
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		return rc;
	return cb_rc != 0 ? cb_rc : delivered;
}

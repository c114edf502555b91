/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests: send one, read its reply or REPLY_ACK, check the reply's
 * framing; one thin typed function per request the front-end sends.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vhu_fe_priv.h"

static int
need_conn(const struct vhu_fe *fe, uint32_t request)
{
	if (fe->sock >= 0)
		return 0;
	VHU_FE_LOG("%s: not connected", vhu_fe_req_name(request));
	return -ENOTCONN;
}

/* Read the reply to `request` and check its framing and size. */
static int
read_reply(struct vhu_fe *fe, uint32_t request, void *dst, uint32_t size)
{
	const char *name = vhu_fe_req_name(request);
	struct vhu_fe_msg msg;
	int rc = vhu_fe_msg_recv(fe->sock, &msg, fe->cfg.timeout_ms);

	if (rc == -ECONNRESET)
		VHU_FE_LOG("%s: back-end closed the connection instead of "
			   "replying", name);
	if (rc < 0)
		return rc;
	if (msg.nfds > 0) {
		VHU_FE_LOG("%s: reply carries %u unexpected fds", name, msg.nfds);
		vhu_fe_msg_close_fds(&msg);
		return -EPROTO;
	}
	if (msg.hdr.request != request) {
		VHU_FE_LOG("%s: got a reply to request %u (%s) instead", name,
			   msg.hdr.request, vhu_fe_req_name(msg.hdr.request));
		return -EPROTO;
	}
	if ((msg.hdr.flags & VHU_WIRE_VERSION_MASK) != VHU_WIRE_VERSION ||
	    !(msg.hdr.flags & VHU_WIRE_F_REPLY)) {
		VHU_FE_LOG("%s: reply flags 0x%x lack version 1 or REPLY",
			   name, msg.hdr.flags);
		return -EPROTO;
	}
	if (msg.len != size) {
		VHU_FE_LOG("%s: reply payload is %u bytes, expected %u", name,
			   msg.len, size);
		return -EPROTO;
	}
	memcpy(dst, msg.payload, size);
	return 0;
}

int
vhu_fe_request(struct vhu_fe *fe, const struct vhu_fe_req *req)
{
	uint32_t flags = VHU_WIRE_VERSION | req->flags;
	const char *name = vhu_fe_req_name(req->request);
	uint64_t ack;
	int rc = need_conn(fe, req->request);

	if (rc < 0)
		return rc;
	if (req->reply == NULL &&
	    (fe->cfg.always_need_reply ||
	     vhu_fe_has(fe->protocol_features, VHU_PROTO_F_REPLY_ACK)))
		flags |= VHU_WIRE_F_NEED_REPLY;
	rc = vhu_fe_msg_send(fe->sock, req->request, flags, req->payload,
			     req->size, req->fds, req->nfds, fe->cfg.timeout_ms);
	if (rc < 0) {
		VHU_FE_LOG("%s: sending failed", name);
		return rc;
	}
	if (req->reply != NULL)
		return read_reply(fe, req->request, req->reply, req->reply_size);
	if (!(flags & VHU_WIRE_F_NEED_REPLY))
		return 0;
	rc = read_reply(fe, req->request, &ack, sizeof(ack));
	if (rc < 0)
		return rc;
	fe->last_ack = ack;
	if (ack != 0) {
		VHU_FE_LOG("%s: back-end refused it (REPLY_ACK value %" PRIu64 ")",
			   name, ack);
		return -EREMOTEIO;
	}
	return 0;
}

/* Request with an optional fixed payload, no fd, no reply of its own. */
static int
simple(struct vhu_fe *fe, uint32_t request, const void *payload, uint32_t size)
{
	struct vhu_fe_req r = { .request = request, .payload = payload,
				.size = size };
	return vhu_fe_request(fe, &r);
}

static int
get_u64(struct vhu_fe *fe, uint32_t request, uint64_t *val)
{
	struct vhu_fe_req r = { .request = request, .reply = val,
				.reply_size = sizeof(*val) };
	return vhu_fe_request(fe, &r);
}

static int
set_u64(struct vhu_fe *fe, uint32_t request, uint64_t val)
{
	return simple(fe, request, &val, sizeof(val));
}

static int
set_state(struct vhu_fe *fe, uint32_t request, unsigned int ring, uint32_t num)
{
	struct vhu_wire_vring_state st = { ring, num };

	if (!vhu_fe_ring_ok(fe, ring, vhu_fe_req_name(request)))
		return -EINVAL;
	return simple(fe, request, &st, sizeof(st));
}

int
vhu_fe_set_owner(struct vhu_fe *fe)
{
	return simple(fe, VHU_REQ_SET_OWNER, NULL, 0);
}

int
vhu_fe_reset_owner(struct vhu_fe *fe)
{
	return simple(fe, VHU_REQ_RESET_OWNER, NULL, 0);
}

int
vhu_fe_reset_device(struct vhu_fe *fe)
{
	return simple(fe, VHU_REQ_RESET_DEVICE, NULL, 0);
}

int
vhu_fe_get_features(struct vhu_fe *fe, uint64_t *features)
{
	int rc = get_u64(fe, VHU_REQ_GET_FEATURES, features);

	if (rc == 0)
		fe->backend_features = *features;
	return rc;
}

int
vhu_fe_set_features(struct vhu_fe *fe, uint64_t features)
{
	int rc = set_u64(fe, VHU_REQ_SET_FEATURES, features);

	if (rc < 0)
		return rc;
	fe->features = features;
	fe->hdr_len = vhu_fe_hdr_len_for(features);
	/* RX buffers each need their own used len: batches on TX only. */
	for (unsigned int i = 0; i < fe->nrings; i++)
		vhu_fe_vring_set_in_order(fe->rings[i].vr, fe->rings[i].is_tx &&
					  vhu_fe_has(features, VIRTIO_F_IN_ORDER));
	return 0;
}

int
vhu_fe_get_protocol_features(struct vhu_fe *fe, uint64_t *pf)
{
	int rc = get_u64(fe, VHU_REQ_GET_PROTOCOL_FEATURES, pf);

	if (rc == 0)
		fe->backend_protocol_features = *pf;
	return rc;
}

int
vhu_fe_set_protocol_features(struct vhu_fe *fe, uint64_t pf)
{
	/* Negotiated once sent: REPLY_ACK applies from the next request. */
	int rc = set_u64(fe, VHU_REQ_SET_PROTOCOL_FEATURES, pf);

	if (rc == 0)
		fe->protocol_features = pf;
	return rc;
}

int
vhu_fe_get_queue_num(struct vhu_fe *fe, uint64_t *queues)
{
	return get_u64(fe, VHU_REQ_GET_QUEUE_NUM, queues);
}

int
vhu_fe_get_max_mem_slots(struct vhu_fe *fe, uint64_t *slots)
{
	return get_u64(fe, VHU_REQ_GET_MAX_MEM_SLOTS, slots);
}

int
vhu_fe_set_mem_table_regions(struct vhu_fe *fe,
			     const struct vhu_fe_region *regions, unsigned int n)
{
	struct vhu_wire_mem_table t;
	int fds[VHU_WIRE_MAX_TABLE_REGIONS];

	if (n > VHU_WIRE_MAX_TABLE_REGIONS || (n > 0 && regions == NULL)) {
		VHU_FE_LOG("SET_MEM_TABLE: %u regions (max %u)", n,
			   VHU_WIRE_MAX_TABLE_REGIONS);
		return -EINVAL;
	}
	memset(&t, 0, sizeof(t));
	t.nregions = n;
	for (unsigned int i = 0; i < n; i++) {
		vhu_fe_region_to_wire(&regions[i], &t.regions[i]);
		fds[i] = regions[i].fd;
	}
	struct vhu_fe_req r = {
		.request = VHU_REQ_SET_MEM_TABLE, .payload = &t,
		.size = (uint32_t)(offsetof(struct vhu_wire_mem_table, regions) +
				   n * sizeof(struct vhu_wire_mem_region)),
		.fds = fds, .nfds = n,
	};
	return vhu_fe_request(fe, &r);
}

int
vhu_fe_set_mem_table(struct vhu_fe *fe)
{
	struct vhu_fe_region regs[VHU_FE_MAX_REGIONS];
	unsigned int n = vhu_fe_mem_nregions(fe->mem);

	for (unsigned int i = 0; i < n; i++)
		regs[i] = *vhu_fe_mem_region(fe->mem, i);
	return vhu_fe_set_mem_table_regions(fe, regs, n);
}

static int
one_region(struct vhu_fe *fe, uint32_t request, const struct vhu_fe_region *reg,
	   bool with_fd)
{
	struct vhu_wire_single_region sr;

	memset(&sr, 0, sizeof(sr));
	vhu_fe_region_to_wire(reg, &sr.region);
	struct vhu_fe_req r = {
		.request = request, .payload = &sr, .size = sizeof(sr),
		.fds = &reg->fd, .nfds = with_fd ? 1 : 0,
	};
	return vhu_fe_request(fe, &r);
}

int
vhu_fe_add_mem_reg(struct vhu_fe *fe, const struct vhu_fe_region *r)
{
	return one_region(fe, VHU_REQ_ADD_MEM_REG, r, true);
}

int
vhu_fe_rem_mem_reg(struct vhu_fe *fe, const struct vhu_fe_region *r)
{
	return one_region(fe, VHU_REQ_REM_MEM_REG, r, false);
}

int
vhu_fe_set_vring_num(struct vhu_fe *fe, unsigned int ring, uint32_t num)
{
	return set_state(fe, VHU_REQ_SET_VRING_NUM, ring, num);
}

int
vhu_fe_set_vring_base(struct vhu_fe *fe, unsigned int ring, uint32_t base)
{
	return set_state(fe, VHU_REQ_SET_VRING_BASE, ring, base);
}

int
vhu_fe_set_vring_enable(struct vhu_fe *fe, unsigned int ring, bool on)
{
	return set_state(fe, VHU_REQ_SET_VRING_ENABLE, ring, on ? 1 : 0);
}

int
vhu_fe_set_vring_addr(struct vhu_fe *fe, unsigned int ring)
{
	struct vhu_wire_vring_addr a;
	struct vhu_fe_vring_raw raw;

	if (!vhu_fe_ring_ok(fe, ring, "SET_VRING_ADDR"))
		return -EINVAL;
	vhu_fe_vring_get_raw(fe->rings[ring].vr, &raw);
	memset(&a, 0, sizeof(a));
	a.index = ring;
	if (raw.packed) {
		/* The vhost-user names stay: avail carries the driver event
		 * area, used the device's (QEMU and DPDK do the same). */
		a.desc_user_addr = (uint64_t)(uintptr_t)raw.pdesc;
		a.used_user_addr = (uint64_t)(uintptr_t)raw.device_event;
		a.avail_user_addr = (uint64_t)(uintptr_t)raw.driver_event;
	} else {
		a.desc_user_addr = (uint64_t)(uintptr_t)raw.desc;
		a.used_user_addr = (uint64_t)(uintptr_t)raw.used;
		a.avail_user_addr = (uint64_t)(uintptr_t)raw.avail;
	}
	a.log_guest_addr = raw.used_gpa;
	return simple(fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a));
}

static int
set_vring_fd(struct vhu_fe *fe, uint32_t request, unsigned int ring, int fd)
{
	uint64_t v = ring;
	struct vhu_fe_req r = { .request = request, .payload = &v,
				.size = sizeof(v), .fds = &fd, .nfds = 1 };

	if (!vhu_fe_ring_ok(fe, ring, vhu_fe_req_name(request)))
		return -EINVAL;
	return vhu_fe_request(fe, &r);
}

int
vhu_fe_set_vring_call(struct vhu_fe *fe, unsigned int ring)
{
	if (!vhu_fe_ring_ok(fe, ring, "SET_VRING_CALL"))
		return -EINVAL;
	return set_vring_fd(fe, VHU_REQ_SET_VRING_CALL, ring,
			    fe->rings[ring].call_fd);
}

int
vhu_fe_set_vring_kick(struct vhu_fe *fe, unsigned int ring)
{
	int rc;

	if (!vhu_fe_ring_ok(fe, ring, "SET_VRING_KICK"))
		return -EINVAL;
	rc = set_vring_fd(fe, VHU_REQ_SET_VRING_KICK, ring,
			  fe->rings[ring].kick_fd);
	if (rc < 0)
		return rc;
	fe->rings[ring].started = true;
	if (fe->cfg.inject_kick)
		vhu_fe_kick(fe, ring);
	return 0;
}

int
vhu_fe_get_vring_base(struct vhu_fe *fe, unsigned int ring, uint32_t *base)
{
	struct vhu_wire_vring_state st = { ring, 0 }, reply;
	struct vhu_fe_req r = {
		.request = VHU_REQ_GET_VRING_BASE, .payload = &st,
		.size = sizeof(st), .reply = &reply, .reply_size = sizeof(reply),
	};
	uint32_t next;
	int rc;

	if (!vhu_fe_ring_ok(fe, ring, "GET_VRING_BASE"))
		return -EINVAL;
	rc = vhu_fe_request(fe, &r);
	if (rc < 0)
		return rc;
	if (reply.index != ring) {
		VHU_FE_LOG("GET_VRING_BASE: reply is for ring %u, asked for %u",
			   reply.index, ring);
		return -EPROTO;
	}
	fe->rings[ring].started = false;
	*base = next = reply.num;
	rc = vhu_fe_vring_check_base(fe->rings[ring].vr, &next);
	fe->rings[ring].base = next;
	return rc;
}

int
vhu_fe_set_status(struct vhu_fe *fe, uint8_t status)
{
	return set_u64(fe, VHU_REQ_SET_STATUS, status);
}

int
vhu_fe_get_status(struct vhu_fe *fe, uint8_t *status)
{
	uint64_t v;
	int rc = get_u64(fe, VHU_REQ_GET_STATUS, &v);

	if (rc < 0)
		return rc;
	if (v > UINT8_MAX) {
		VHU_FE_LOG("GET_STATUS: status 0x%" PRIx64 " does not fit 8 bits", v);
		return -EPROTO;
	}
	*status = (uint8_t)v;
	return 0;
}

int
vhu_fe_net_set_mtu(struct vhu_fe *fe, uint16_t mtu)
{
	return set_u64(fe, VHU_REQ_NET_SET_MTU, mtu);
}

int
vhu_fe_send_rarp(struct vhu_fe *fe, const uint8_t mac[6])
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	return set_u64(fe, VHU_REQ_SEND_RARP, v);
}

int
vhu_fe_send_raw(struct vhu_fe *fe, const void *bytes, size_t len,
		const int *fds, unsigned int nfds)
{
	int rc = need_conn(fe, VHU_REQ_NONE);

	if (rc < 0)
		return rc;
	return vhu_fe_msg_send_bytes(fe->sock, bytes, len, fds, nfds,
				     fe->cfg.timeout_ms);
}

int
vhu_fe_recv_raw(struct vhu_fe *fe, struct vhu_fe_msg *msg, int timeout_ms)
{
	int rc = need_conn(fe, VHU_REQ_NONE);

	if (rc < 0)
		return rc;
	return vhu_fe_msg_recv(fe->sock, msg, timeout_ms);
}

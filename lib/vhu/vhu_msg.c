/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "vhu_conn.h"
#include "vhu_log.h"
#include "vhu_msg.h"
#include "vhu_vring.h"

/* Where a request carries its ring index. */
enum vhu_ring_field {
	VHU_RING_NONE,
	VHU_RING_STATE,  /* u32 index first in the payload (state, addr) */
	VHU_RING_FILE,   /* u64: bits 0-7 index, bit 8 "no fd" */
};

/* How a request is answered. */
enum vhu_reply_rule {
	VHU_REPLY_ACK,   /* only an ack, when NEED_REPLY and REPLY_ACK */
	VHU_REPLY_DATA,  /* always a reply the handler fills; it cannot be
			  * nacked, so a failure closes the connection */
};

/* Payload size rules. */
#define VHU_SIZE_MEM_TABLE UINT32_MAX /* 8 + 32 * nregions */

struct vhu_msg_rule {
	const char *name;
	vhu_msg_handler_t handler;
	uint32_t size;
	uint8_t fds_min;
	uint8_t fds_max;
	enum vhu_ring_field ring_field;
	enum vhu_reply_rule reply;
	bool needs_owner;
	/* Rings whose bursts must be out before the handler runs: those
	 * whose view (vhu_vring_publish) the request can change. The
	 * dispatcher pauses, quiesces, runs the handler, then publishes. */
	enum vhu_pause_scope pause;
};

#define U64 sizeof(uint64_t)
#define STATE sizeof(struct vhu_wire_vring_state)
#define ADDR sizeof(struct vhu_wire_vring_addr)
#define REGION sizeof(struct vhu_wire_single_region)
#define LOG sizeof(struct vhu_wire_log)

#define RULE(req, fn, sz, fmin, fmax, field, rep, own, scope) \
	[VHU_REQ_ ## req] = { .name = #req, .handler = fn, .size = sz, \
		.fds_min = fmin, .fds_max = fmax, .ring_field = VHU_RING_ ## field, \
		.reply = VHU_REPLY_ ## rep, .needs_owner = own, \
		.pause = VHU_PAUSE_ ## scope }

static const struct vhu_msg_rule vhu_msg_rules[VHU_REQ_MAX] = {
	/*   request               handler                        size   fds     ring   reply owner pause */
	RULE(GET_FEATURES,          vhu_msg_get_features,          0,     0, 0,   NONE,  DATA, false, NONE),
	/* Features set the header length, offload mode and LOG_ALL that
	 * running rings read (QEMU toggles LOG_ALL on running rings). */
	RULE(SET_FEATURES,          vhu_msg_set_features,          U64,   0, 0,   NONE,  ACK,  true,  DEVICE),
	RULE(GET_PROTOCOL_FEATURES, vhu_msg_get_protocol_features, 0,     0, 0,   NONE,  DATA, false, NONE),
	RULE(SET_PROTOCOL_FEATURES, vhu_msg_set_protocol_features, U64,   0, 0,   NONE,  ACK,  false, NONE),
	RULE(SET_OWNER,             vhu_msg_set_owner,             0,     0, 0,   NONE,  ACK,  false, NONE),
	RULE(RESET_OWNER,           vhu_msg_reset_device,          0,     0, 0,   NONE,  ACK,  true,  DEVICE),
	RULE(RESET_DEVICE,          vhu_msg_reset_device,          0,     0, 0,   NONE,  ACK,  true,  DEVICE),
	RULE(SET_MEM_TABLE,         vhu_msg_set_mem_table,         VHU_SIZE_MEM_TABLE,
	     0, VHU_WIRE_MAX_TABLE_REGIONS,                                       NONE,  ACK,  true,  DEVICE),
	RULE(GET_MAX_MEM_SLOTS,     vhu_msg_get_max_mem_slots,     0,     0, 0,   NONE,  DATA, false, NONE),
	RULE(ADD_MEM_REG,           vhu_msg_add_mem_reg,           REGION, 1, 1,  NONE,  ACK,  true,  DEVICE),
	RULE(REM_MEM_REG,           vhu_msg_rem_mem_reg,           REGION, 0, 1,  NONE,  ACK,  true,  DEVICE),
	RULE(SET_LOG_BASE,          vhu_msg_set_log_base,          LOG,   1, 1,   NONE,  DATA, true,  DEVICE),
	RULE(SET_LOG_FD,            vhu_msg_set_log_fd,            0,     1, 1,   NONE,  ACK,  true,  NONE),
	/* Size and base may change only while the ring is stopped. */
	RULE(SET_VRING_NUM,         vhu_msg_set_vring_num,         STATE, 0, 0,   STATE, ACK,  true,  NONE),
	RULE(SET_VRING_ADDR,        vhu_msg_set_vring_addr,        ADDR,  0, 0,   STATE, ACK,  true,  RING),
	RULE(SET_VRING_BASE,        vhu_msg_set_vring_base,        STATE, 0, 0,   STATE, ACK,  true,  NONE),
	/* GET_VRING_BASE and SET_VRING_ENABLE need no owner: DPDK's
	 * virtio-user (server=1) sends both before SET_OWNER when a back-end
	 * reconnects, and on an idle ring they change nothing harmful.
	 * GET_VRING_BASE is answered once no burst can touch the ring. */
	RULE(GET_VRING_BASE,        vhu_msg_get_vring_base,        STATE, 0, 0,   STATE, DATA, false, RING),
	RULE(SET_VRING_KICK,        vhu_msg_set_vring_kick,        U64,   0, 1,   FILE,  ACK,  true,  RING),
	/* Bursts write the call fd: the old one is closed once they are out. */
	RULE(SET_VRING_CALL,        vhu_msg_set_vring_call,        U64,   0, 1,   FILE,  ACK,  true,  RING),
	RULE(SET_VRING_ERR,         vhu_msg_set_vring_err,         U64,   0, 1,   FILE,  ACK,  true,  NONE),
	RULE(GET_QUEUE_NUM,         vhu_msg_get_queue_num,         0,     0, 0,   NONE,  DATA, false, NONE),
	RULE(SET_VRING_ENABLE,      vhu_msg_set_vring_enable,      STATE, 0, 0,   STATE, ACK,  false, RING),
	RULE(SEND_RARP,             vhu_msg_send_rarp,             U64,   0, 0,   NONE,  ACK,  true,  NONE),
	RULE(NET_SET_MTU,           vhu_msg_net_set_mtu,           U64,   0, 0,   NONE,  ACK,  true,  NONE),
	RULE(VRING_KICK,            vhu_msg_vring_kick,            STATE, 0, 0,   STATE, ACK,  true,  NONE),
	RULE(SET_STATUS,            vhu_msg_set_status,            U64,   0, 0,   NONE,  ACK,  true,  NONE),
	RULE(GET_STATUS,            vhu_msg_get_status,            0,     0, 0,   NONE,  DATA, true,  NONE),
};

const char *
vhu_msg_name(uint32_t request)
{
	if (request < VHU_REQ_MAX && vhu_msg_rules[request].name != NULL)
		return vhu_msg_rules[request].name;
	return "unknown";
}

/* Every check a message must pass before its handler runs.
 * @return 0, or a negative errno with the reason logged. */
static int
vhu_msg_validate(struct vhu_device *dev, const struct vhu_msg_rule *rule,
		struct vhu_msg *msg)
{
	const char *name = rule->name;
	uint32_t size = msg->hdr.size;

	if ((msg->hdr.flags & VHU_WIRE_VERSION_MASK) != VHU_WIRE_VERSION) {
		VHU_DEV_LOG(ERR, dev, "%s: unsupported protocol version %u",
			    name, msg->hdr.flags & VHU_WIRE_VERSION_MASK);
		return -EPROTO;
	}
	if (rule->size == VHU_SIZE_MEM_TABLE) {
		uint32_t n;

		if (size < 8) {
			VHU_DEV_LOG(ERR, dev, "%s: payload of %u bytes is too short",
				    name, size);
			return -EINVAL;
		}
		n = msg->payload.mem.nregions;
		if (n > VHU_WIRE_MAX_TABLE_REGIONS) {
			VHU_DEV_LOG(ERR, dev, "%s: %u regions, at most %u",
				    name, n, VHU_WIRE_MAX_TABLE_REGIONS);
			return -EINVAL;
		}
		if (size != 8 + n * sizeof(struct vhu_wire_mem_region)) {
			VHU_DEV_LOG(ERR, dev, "%s: payload of %u bytes for %u regions",
				    name, size, n);
			return -EINVAL;
		}
		if (msg->fds_truncated || msg->nfds != n) {
			VHU_DEV_LOG(ERR, dev, "%s: %u regions but %u fds", name, n,
				    msg->fds_truncated ? msg->nfds + 1 : msg->nfds);
			return -EINVAL;
		}
	} else if (size != rule->size) {
		VHU_DEV_LOG(ERR, dev, "%s: payload of %u bytes, expected %u",
			    name, size, rule->size);
		return -EINVAL;
	}
	if (msg->fds_truncated || msg->nfds < rule->fds_min ||
	    msg->nfds > rule->fds_max) {
		VHU_DEV_LOG(ERR, dev, "%s: %s%u fds attached, expected %u..%u",
			    name, msg->fds_truncated ? "more than " : "",
			    msg->nfds, rule->fds_min, rule->fds_max);
		return -EINVAL;
	}
	if (rule->needs_owner && !dev->owner) {
		VHU_DEV_LOG(ERR, dev, "%s before SET_OWNER", name);
		return -EPERM;
	}

	switch (rule->ring_field) {
	case VHU_RING_NONE:
		break;
	case VHU_RING_STATE:
		/* Compare the full 32 bits: truncating first would accept
		 * index 0x10000 as ring 0 (CVE-2020-10723). */
		if (msg->payload.state.index >= dev->nr_rings) {
			VHU_DEV_LOG(ERR, dev, "%s: ring index %u out of range "
				    "(%u rings)", name, msg->payload.state.index,
				    dev->nr_rings);
			return -ERANGE;
		}
		msg->ring = (uint16_t)msg->payload.state.index;
		break;
	case VHU_RING_FILE: {
		uint64_t v = msg->payload.u64;
		bool nofd = (v & VHU_WIRE_VRING_NOFD) != 0;

		if (v & ~(uint64_t)(VHU_WIRE_VRING_IDX_MASK | VHU_WIRE_VRING_NOFD)) {
			VHU_DEV_LOG(ERR, dev, "%s: reserved bits set in 0x%" PRIx64,
				    name, v);
			return -EINVAL;
		}
		if ((v & VHU_WIRE_VRING_IDX_MASK) >= dev->nr_rings) {
			VHU_DEV_LOG(ERR, dev, "%s: ring index %u out of range "
				    "(%u rings)", name,
				    (unsigned int)(v & VHU_WIRE_VRING_IDX_MASK),
				    dev->nr_rings);
			return -ERANGE;
		}
		if (nofd != (msg->nfds == 0)) {
			VHU_DEV_LOG(ERR, dev, "%s: no-fd flag %d but %u fds",
				    name, nofd, msg->nfds);
			return -EINVAL;
		}
		msg->ring = (uint16_t)(v & VHU_WIRE_VRING_IDX_MASK);
		break;
	}
	}
	return 0;
}

/* Run the handler if ret (of validation and hold) is 0 and run, then
 * reply and close the fds left. rule NULL: an unknown request (ret
 * set). */
static int
vhu_msg_finish(struct vhu_device *dev, const struct vhu_msg_rule *rule,
		struct vhu_msg *msg, int ret, bool run)
{
	uint32_t req = msg->hdr.request;
	struct vhu_reply reply = { .size = 0 };

	if (ret == 0 && run) {
		/* A handler changes stored state; what bursts see is derived
		 * from it again, for every ring in scope, before any reply. */
		ret = rule->handler(dev, msg, &reply);
		vhu_dev_release(dev, rule->pause, msg->ring);
	}

	if (rule != NULL && rule->reply == VHU_REPLY_DATA) {
		if (ret != 0) {
			/* The front-end waits for data we cannot give. */
			VHU_DEV_LOG(ERR, dev, "%s failed (%s): closing the "
				    "connection", rule->name, strerror(-ret));
			dev->stats.messages_failed++;
			vhu_msg_drop_fds(msg);
			return VHU_MSG_FATAL;
		}
		if (vhu_conn_send(dev, req, &reply.payload, reply.size) != 0) {
			vhu_msg_drop_fds(msg);
			return VHU_MSG_FATAL;
		}
		vhu_msg_drop_fds(msg);
		return 0;
	}

	vhu_msg_drop_fds(msg);
	if (ret == VHU_MSG_FATAL) {
		dev->stats.messages_failed++;
		return VHU_MSG_FATAL;
	}
	if (ret != 0)
		dev->stats.messages_failed++;
	if (msg->want_ack) {
		/* The handler's real result: 0 on success, else the errno. */
		uint64_t ack = ret == 0 ? 0 : (uint64_t)-ret;

		if (vhu_conn_send(dev, req, &ack, sizeof(ack)) != 0)
			return VHU_MSG_FATAL;
	}
	return 0;
}

int
vhu_msg_dispatch(struct vhu_device *dev, struct vhu_msg *msg)
{
	uint32_t req = msg->hdr.request;
	const struct vhu_msg_rule *rule = NULL;
	int ret;

	dev->stats.messages++;
	if (req < VHU_REQ_MAX && vhu_msg_rules[req].handler != NULL)
		rule = &vhu_msg_rules[req];
	msg->want_ack = (msg->hdr.flags & VHU_WIRE_F_NEED_REPLY) &&
		vhu_dev_has_protocol_feature(dev, VHU_PROTO_F_REPLY_ACK);

	if (rule == NULL) {
		VHU_DEV_LOG(ERR, dev, "unknown or unsupported request %u "
			    "(%u bytes, %u fds)", req, msg->hdr.size, msg->nfds);
		return vhu_msg_finish(dev, NULL, msg, -EOPNOTSUPP, false);
	}
	VHU_DEV_LOG(DEBUG, dev, "%s (%u bytes, %u fds)", rule->name,
		    msg->hdr.size, msg->nfds);

	ret = vhu_msg_validate(dev, rule, msg);
	if (ret == 0)
		ret = vhu_dev_hold_begin(dev, rule->pause, msg->ring,
					 VHU_QUIESCE_WAIT_MS);
	if (ret == -EINPROGRESS) {
		/* A late burst (a descheduled or stuck lcore): other
		 * devices are served while it finishes. */
		VHU_DEV_LOG(INFO, dev, "%s waits for a burst in its rings",
			    rule->name);
		return VHU_MSG_PARKED;
	}
	return vhu_msg_finish(dev, rule, msg, ret, true);
}

int
vhu_msg_resume(struct vhu_device *dev, struct vhu_msg *msg, bool expired)
{
	const struct vhu_msg_rule *rule = &vhu_msg_rules[msg->hdr.request];

	int ret;

	if (vhu_dev_hold_quiet(dev, rule->pause, msg->ring))
		return vhu_msg_finish(dev, rule, msg, 0, true);
	if (!expired)
		return VHU_MSG_PARKED;
	ret = vhu_dev_hold_expire(dev, rule->pause, msg->ring,
				  VHU_QUIESCE_TIMEOUT_MS);
	if (rule->handler == vhu_msg_reset_device) {
		/* A reset cannot be refused: the front-end goes on as if it
		 * happened (QEMU does not wait for its ack). It runs once the
		 * late burst ends. */
		vhu_dev_reset_later(dev, false);
		return vhu_msg_finish(dev, rule, msg, 0, false);
	}
	return vhu_msg_finish(dev, rule, msg, ret, true);
}

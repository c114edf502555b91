/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The start-up and shut-down sequences, in the order QEMU and DPDK's
 * virtio-user send them.
 */
#include <errno.h>

#include <linux/virtio_config.h>

#include "vhu_fe_priv.h"

#define STEP(call) do { \
	int rc_ = (call); \
	if (rc_ < 0) { \
		VHU_FE_LOG("setup failed at %s", #call); \
		return rc_; \
	} \
} while (0)

static int
negotiate_protocol(struct vhu_fe *fe)
{
	uint64_t offered, queues;
	unsigned int qp = fe->cfg.queue_pairs;

	fe->protocol_features = 0;
	if (vhu_fe_has(fe->backend_features & fe->cfg.features,
		       VHU_F_PROTOCOL_FEATURES)) {
		STEP(vhu_fe_get_protocol_features(fe, &offered));
		STEP(vhu_fe_set_protocol_features(fe, offered &
						  fe->cfg.protocol_features));
	}
	if (!vhu_fe_has(fe->protocol_features, VHU_PROTO_F_MQ)) {
		if (qp > 1) {
			VHU_FE_LOG("setup: %u queue pairs need protocol feature "
				   "MQ, which was not negotiated", qp);
			return -EOPNOTSUPP;
		}
		return 0;
	}
	STEP(vhu_fe_get_queue_num(fe, &queues));
	if (queues < qp) {
		VHU_FE_LOG("setup: back-end supports %" PRIu64 " queue pairs, "
			   "%u wanted", queues, qp);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The rings were made packed at creation: no way back to split. */
static int
check_packed(const struct vhu_fe *fe, uint64_t offered)
{
	if (!fe->cfg.packed || vhu_fe_has(offered, VIRTIO_F_RING_PACKED))
		return 0;
	VHU_FE_LOG("setup: packed rings wanted but VIRTIO_F_RING_PACKED is "
		   "not offered by the back-end (features 0x%" PRIx64 ")",
		   offered);
	return -EOPNOTSUPP;
}

static int
share_memory(struct vhu_fe *fe)
{
	unsigned int n = vhu_fe_mem_nregions(fe->mem);
	uint64_t slots;

	if (!fe->cfg.mem_add_reg ||
	    !vhu_fe_has(fe->protocol_features, VHU_PROTO_F_CONFIGURE_MEM_SLOTS))
		return vhu_fe_set_mem_table(fe);
	STEP(vhu_fe_get_max_mem_slots(fe, &slots));
	if (slots < n) {
		VHU_FE_LOG("setup: back-end has %" PRIu64 " memory slots, %u "
			   "regions needed", slots, n);
		return -EOPNOTSUPP;
	}
	for (unsigned int i = 0; i < n; i++)
		STEP(vhu_fe_add_mem_reg(fe, vhu_fe_mem_region(fe->mem, i)));
	return 0;
}

int
vhu_fe_start_ring(struct vhu_fe *fe, unsigned int ring)
{
	if (!vhu_fe_ring_ok(fe, ring, "start ring"))
		return -EINVAL;
	STEP(vhu_fe_set_vring_num(fe, ring, fe->cfg.queue_size));
	STEP(vhu_fe_set_vring_base(fe, ring, fe->rings[ring].base));
	STEP(vhu_fe_set_vring_addr(fe, ring));
	STEP(vhu_fe_set_vring_call(fe, ring));
	STEP(vhu_fe_set_vring_kick(fe, ring));
	if (vhu_fe_has(fe->features, VHU_F_PROTOCOL_FEATURES))
		STEP(vhu_fe_set_vring_enable(fe, ring, true));
	return 0;
}

int
vhu_fe_setup(struct vhu_fe *fe)
{
	uint64_t offered;
	uint8_t status = 0;
	bool with_status;

	if (fe->sock < 0) {
		VHU_FE_LOG("setup: not connected");
		return -ENOTCONN;
	}
	STEP(vhu_fe_set_owner(fe));
	STEP(vhu_fe_get_features(fe, &offered));
	STEP(check_packed(fe, offered));
	STEP(negotiate_protocol(fe));
	with_status = fe->cfg.set_status &&
		      vhu_fe_has(fe->protocol_features, VHU_PROTO_F_STATUS);
	if (with_status) {
		status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
		STEP(vhu_fe_set_status(fe, status));
	}
	STEP(vhu_fe_set_features(fe, offered & fe->cfg.features));
	if (with_status) {
		status |= VIRTIO_CONFIG_S_FEATURES_OK;
		STEP(vhu_fe_set_status(fe, status));
	}
	STEP(share_memory(fe));
	if (fe->cfg.rx_prefill)
		for (unsigned int q = 0; q < fe->cfg.queue_pairs; q++)
			STEP(vhu_fe_rx_fill(fe, q));
	for (unsigned int i = 0; i < fe->nrings; i++)
		STEP(vhu_fe_start_ring(fe, i));
	if (with_status) {
		status |= VIRTIO_CONFIG_S_DRIVER_OK;
		STEP(vhu_fe_set_status(fe, status));
	}
	return 0;
}

int
vhu_fe_stop(struct vhu_fe *fe)
{
	uint32_t base;

	for (unsigned int i = 0; i < fe->nrings; i++)
		if (fe->rings[i].started)
			STEP(vhu_fe_get_vring_base(fe, i, &base));
	return 0;
}

int
vhu_fe_ring_reset(struct vhu_fe *fe, unsigned int ring)
{
	if (!vhu_fe_ring_ok(fe, ring, "ring reset"))
		return -EINVAL;
	if (fe->rings[ring].started) {
		VHU_FE_LOG("ring reset: ring %u is running; stop it with "
			   "GET_VRING_BASE first", ring);
		return -EBUSY;
	}
	vhu_fe_vring_reset(fe->rings[ring].vr);
	fe->rings[ring].base = vhu_fe_vring_fresh_base(fe->rings[ring].vr);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu_fe internals shared by its source files. Not for tests: they use
 * vhu_fe.h only.
 */
#ifndef VHU_FE_PRIV_H
#define VHU_FE_PRIV_H

#include <inttypes.h>
#include <stdio.h>

#include "vhu_fe.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vhu_fe writes virtio structures in host order: little-endian hosts only"
#endif

/* Where the library logs (vhu_fe_set_log_stream); NULL: nowhere. */
extern FILE *vhu_fe_log_stream;

#define VHU_FE_LOG(...) do { \
	if (vhu_fe_log_stream != NULL) { \
		fprintf(vhu_fe_log_stream, "vhu_fe: " __VA_ARGS__); \
		fputc('\n', vhu_fe_log_stream); \
	} \
} while (0)

/* Per-ring device state. */
struct vhu_fe_ring_state {
	struct vhu_fe_vring *vr;
	int kick_fd;
	int call_fd;
	uint32_t base;        /* SET_VRING_BASE value for the next start
			       * (packed: vhu_fe_packed_base_encode()) */
	bool started;         /* SET_VRING_KICK sent, no GET_VRING_BASE since */
	bool is_tx;           /* odd ring: guest TX */
	uint32_t buf_size;
	uint8_t **buf;        /* one guest buffer per descriptor index
			       * (packed: per buffer id) */
};

struct vhu_fe {
	struct vhu_fe_config cfg;
	char *path;
	struct vhu_fe_mem *mem;
	int sock;
	int listen_fd;
	bool listen_created;
	uint64_t backend_features;
	uint64_t features;
	uint64_t backend_protocol_features;
	uint64_t protocol_features;
	uint64_t last_ack;
	unsigned int hdr_len;
	unsigned int nrings;
	struct vhu_fe_ring_state *rings;
	uint8_t *rx_scratch;      /* reassembly of merged RX buffers */
	size_t rx_scratch_size;
	bool violation_logged;
	struct vhu_fe_stats stats;
};

/* Check ring index, log and return false when out of range. */
static inline bool
vhu_fe_ring_ok(const struct vhu_fe *fe, unsigned int ring, const char *what)
{
	if (ring < fe->nrings)
		return true;
	VHU_FE_LOG("%s: ring %u out of range (device has %u rings)",
		   what, ring, fe->nrings);
	return false;
}

static inline bool
vhu_fe_has(uint64_t features, unsigned int bit)
{
	return (features >> bit) & 1u;
}

/* Monotonic milliseconds, and what is left until a deadline (>= 0). */
int64_t vhu_fe_now_ms(void);
int vhu_fe_ms_left(int64_t deadline);

/* virtio-net header bytes for a feature set: 12 with VERSION_1 or
 * MRG_RXBUF, else 10. */
unsigned int vhu_fe_hdr_len_for(uint64_t features);

/* Name a ring by its device index in log messages. */
void vhu_fe_vring_set_index(struct vhu_fe_vring *vr, unsigned int index);

/* Head index (packed: buffer id) the next vhu_fe_vring_add() will
 * return, or -ENOSPC. */
int vhu_fe_vring_next_head(const struct vhu_fe_vring *vr);

/* Guest memory needed by one ring of `num` entries (rings and indirect
 * tables), for auto-sized regions. */
uint64_t vhu_fe_vring_mem_need(unsigned int num, bool with_indirect,
			       bool packed);

/* SET_VRING_BASE of a ring never started: 0, or for a packed ring
 * VHU_FE_PACKED_BASE_FRESH (both wrap counters 1). */
uint32_t vhu_fe_vring_fresh_base(const struct vhu_fe_vring *vr);

/* Whether a GET_VRING_BASE answer fits the driver's side of the ring:
 * 0, or -EPROTO (logged). Split rings accept any value. A packed answer
 * in DPDK's 16-bit form (no used half) is rewritten with used = avail. */
int vhu_fe_vring_check_base(const struct vhu_fe_vring *vr, uint32_t *base);

/* The base to restart a ring whose back-end went away without
 * GET_VRING_BASE: where the device will write its next used entry. */
uint32_t vhu_fe_vring_resume_base(const struct vhu_fe_vring *vr);

#endif /* VHU_FE_PRIV_H */

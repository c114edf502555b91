/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring-neutral buffer vector: what walking a descriptor chain
 * produces (split or packed ring) and what the copy code (vhu_copy.c)
 * consumes. Each entry is a host-contiguous piece of guest
 * memory, already translated and bounds-checked; a descriptor that
 * crosses a region boundary becomes several entries.
 *
 * Internal header. Datapath only.
 */
#ifndef VHU_BUFVEC_H
#define VHU_BUFVEC_H

#include <stdint.h>

#include <rte_common.h>

/* Most pieces one chain may have. A legitimate chain is far shorter
 * (Linux: at most MAX_SKB_FRAGS + 2 descriptors); a longer one is
 * treated as invalid. */
#define VHU_BUFVEC_MAX 128

/* Largest packet a chain may carry (64 KiB TSO + virtio-net header). */
#define VHU_CHAIN_MAX_BYTES (65536 + 12)

struct vhu_buf {
	uint8_t *addr;   /* our pointer */
	uint64_t gpa;    /* guest-physical address (dirty log) */
	uint32_t len;
};

struct vhu_bufvec {
	uint16_t nbufs;
	uint16_t head;   /* id to return in the used entry */
	uint32_t total;  /* bytes over all pieces */
	struct vhu_buf bufs[VHU_BUFVEC_MAX];
};

/* Why a chain was refused (counted, and what makes a ring broken). */
enum vhu_chain_err {
	VHU_CHAIN_OK = 0,
	VHU_CHAIN_BAD_INDEX,     /* descriptor index >= ring size */
	VHU_CHAIN_BAD_ADDR,      /* address not in guest memory */
	VHU_CHAIN_LOOP,          /* more descriptors than the ring has */
	VHU_CHAIN_BAD_INDIRECT,  /* nested, empty, misaligned or > queue size */
	VHU_CHAIN_BAD_DIRECTION, /* writable where readable needed or back */
	VHU_CHAIN_TOO_LONG,      /* more than VHU_BUFVEC_MAX pieces/bytes */
	VHU_CHAIN_TOO_SHORT,     /* guest RX buffer smaller than the header */
};

#endif /* VHU_BUFVEC_H */

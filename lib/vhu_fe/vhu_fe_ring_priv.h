/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring object, shared by the two halves of the virtqueue driver side:
 * vhu_fe_ring.c (the common part and split rings) and vhu_fe_packed.c
 * (packed rings). Nothing else includes this header: the rest of the
 * front-end goes through the vhu_fe_vring_* functions.
 */
#ifndef VHU_FE_RING_PRIV_H
#define VHU_FE_RING_PRIV_H

#include "vhu_fe_priv.h"

#define RING_ALIGN 64u

/* One buffer in flight on a packed ring. They are kept in the order they
 * were made available, because an in-order device may return several
 * with one used descriptor. */
struct vhu_fe_pbuf {
	uint16_t id;
	uint16_t slots;    /* ring descriptors it occupies */
	bool raw;          /* from vhu_fe_vring_push_raw_packed() */
};

/* Where the driver reads the next used element of a packed ring. Inside
 * an in-order batch (one used descriptor returning several buffers) the
 * buffers still to return come from the in-flight list, not the ring. */
struct vhu_fe_pcursor {
	uint16_t pos;
	bool wrap;
	unsigned int fifo;        /* in-flight list entries passed over */
	unsigned int batch_left;  /* buffers of the batch still to return */
	uint32_t batch_len;       /* len the device wrote for the batch */
};

struct vhu_fe_vring {
	unsigned int num;
	unsigned int index;        /* ring number on the device, for logs */
	bool packed;
	bool interrupts;
	uint64_t desc_gpa, avail_gpa, used_gpa, indirect_gpa;
	/* Split: free descriptor list and chains. Packed: free buffer ids
	 * (next links the list, chain holds the ring slots of the chain that
	 * has this id). */
	uint16_t free_head;
	unsigned int num_free;     /* free descriptors (packed: ring slots) */
	unsigned int inflight;
	uint16_t *next;            /* free-list and chain links */
	uint16_t *chain;           /* descriptors of the chain headed here, 0 = none */
	uint16_t *raw;             /* raw pushes of this id in flight */
	/* Split: next avail index to publish. Packed: next slot to fill. */
	uint16_t avail_idx;

	/* Split ring. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_desc *indirect;   /* num tables of VHU_FE_MAX_SEGS, or NULL */
	uint16_t published;        /* value last stored to avail->idx */
	uint16_t last_used;        /* next used entry to read */

	/* Packed ring. avail_gpa / used_gpa are the driver / device event
	 * areas, indirect tables are indexed by buffer id. */
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *driver_event;
	struct vring_packed_desc_event *device_event;
	struct vring_packed_desc *pindirect;
	bool avail_wrap;           /* wrap counter of avail_idx */
	uint16_t pub_idx;          /* first slot not yet published */
	bool pub_wrap;
	struct vhu_fe_pcursor used_cur;
	bool in_order;             /* VIRTIO_F_IN_ORDER batches accepted */
	struct vhu_fe_pbuf *fifo;  /* buffers in flight, in avail order */
	unsigned int fifo_head, fifo_count;
	/* Heads added but not published: their flags are stored last. */
	uint16_t *pend_pos, *pend_flags;
	unsigned int npend;
};

/* vhu_fe_mem_alloc() aligned for rings, with the GPA in *gpa. */
void *vhu_fe_ring_alloc(struct vhu_fe_mem *mem, size_t size, uint64_t *gpa);

/* Packed halves of the vhu_fe_vring_* functions (vhu_fe_packed.c). The
 * callers in vhu_fe_ring.c have checked the arguments common to both
 * formats. */
uint64_t vhu_fe_packed_mem_need(unsigned int num, bool with_indirect);
int vhu_fe_packed_alloc(struct vhu_fe_vring *vr, struct vhu_fe_mem *mem,
			bool with_indirect);
void vhu_fe_packed_free(struct vhu_fe_vring *vr);
void vhu_fe_packed_init_state(struct vhu_fe_vring *vr);
void vhu_fe_packed_zero(struct vhu_fe_vring *vr);
int vhu_fe_packed_add(struct vhu_fe_vring *vr, const struct vhu_fe_seg *segs,
		      unsigned int nsegs, bool indirect);
bool vhu_fe_packed_publish(struct vhu_fe_vring *vr);
int vhu_fe_packed_used_pending(struct vhu_fe_vring *vr);
int vhu_fe_packed_peek_used(struct vhu_fe_vring *vr, unsigned int off,
			    uint16_t *id, uint32_t *len);
int vhu_fe_packed_get_used(struct vhu_fe_vring *vr, uint16_t *id,
			   uint32_t *len);
void vhu_fe_packed_set_interrupts(struct vhu_fe_vring *vr, bool on);
void vhu_fe_packed_get_raw(const struct vhu_fe_vring *vr,
			   struct vhu_fe_vring_raw *raw);
int vhu_fe_packed_check_base(const struct vhu_fe_vring *vr, uint32_t *base);
uint32_t vhu_fe_packed_resume_base(const struct vhu_fe_vring *vr);

#endif /* VHU_FE_RING_PRIV_H */

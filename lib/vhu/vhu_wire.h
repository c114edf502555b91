/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user wire format: request numbers, header flags, feature bits and
 * payload layouts, as the vhost-user specification defines them.
 *
 * Internal header: shared by lib/vhu (the back-end) and lib/vhu_fe (the
 * test front-end). Both sides are also checked against real peers
 * (DPDK's net_vhost, DPDK's virtio-user, QEMU), so a mistake here cannot
 * hide behind the two of them agreeing with each other.
 */
#ifndef VHU_WIRE_H
#define VHU_WIRE_H

#include <stdint.h>

/* Front-end → back-end requests (vhost-user.rst "Front-end message types"). */
enum vhu_wire_request {
	VHU_REQ_NONE = 0,
	VHU_REQ_GET_FEATURES = 1,
	VHU_REQ_SET_FEATURES = 2,
	VHU_REQ_SET_OWNER = 3,
	VHU_REQ_RESET_OWNER = 4,
	VHU_REQ_SET_MEM_TABLE = 5,
	VHU_REQ_SET_LOG_BASE = 6,
	VHU_REQ_SET_LOG_FD = 7,
	VHU_REQ_SET_VRING_NUM = 8,
	VHU_REQ_SET_VRING_ADDR = 9,
	VHU_REQ_SET_VRING_BASE = 10,
	VHU_REQ_GET_VRING_BASE = 11,
	VHU_REQ_SET_VRING_KICK = 12,
	VHU_REQ_SET_VRING_CALL = 13,
	VHU_REQ_SET_VRING_ERR = 14,
	VHU_REQ_GET_PROTOCOL_FEATURES = 15,
	VHU_REQ_SET_PROTOCOL_FEATURES = 16,
	VHU_REQ_GET_QUEUE_NUM = 17,
	VHU_REQ_SET_VRING_ENABLE = 18,
	VHU_REQ_SEND_RARP = 19,
	VHU_REQ_NET_SET_MTU = 20,
	VHU_REQ_SET_BACKEND_REQ_FD = 21,
	VHU_REQ_IOTLB_MSG = 22,
	VHU_REQ_SET_VRING_ENDIAN = 23,
	VHU_REQ_GET_CONFIG = 24,
	VHU_REQ_SET_CONFIG = 25,
	VHU_REQ_CREATE_CRYPTO_SESSION = 26,
	VHU_REQ_CLOSE_CRYPTO_SESSION = 27,
	VHU_REQ_POSTCOPY_ADVISE = 28,
	VHU_REQ_POSTCOPY_LISTEN = 29,
	VHU_REQ_POSTCOPY_END = 30,
	VHU_REQ_GET_INFLIGHT_FD = 31,
	VHU_REQ_SET_INFLIGHT_FD = 32,
	VHU_REQ_GPU_SET_SOCKET = 33,
	VHU_REQ_RESET_DEVICE = 34,
	VHU_REQ_VRING_KICK = 35,
	VHU_REQ_GET_MAX_MEM_SLOTS = 36,
	VHU_REQ_ADD_MEM_REG = 37,
	VHU_REQ_REM_MEM_REG = 38,
	VHU_REQ_SET_STATUS = 39,
	VHU_REQ_GET_STATUS = 40,
	VHU_REQ_MAX /* one past the highest request this header knows */
};

/* Header flags. */
#define VHU_WIRE_VERSION        0x1u  /* bits 0-1: protocol version */
#define VHU_WIRE_VERSION_MASK   0x3u
#define VHU_WIRE_F_REPLY        0x4u  /* message is a reply */
#define VHU_WIRE_F_NEED_REPLY   0x8u  /* REPLY_ACK: sender wants an ack */

/* Virtio feature bit that announces protocol-feature negotiation. */
#define VHU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits (VHOST_USER_PROTOCOL_F_*). */
#define VHU_PROTO_F_MQ                    0
#define VHU_PROTO_F_LOG_SHMFD             1
#define VHU_PROTO_F_RARP                  2
#define VHU_PROTO_F_REPLY_ACK             3
#define VHU_PROTO_F_MTU                   4
#define VHU_PROTO_F_BACKEND_REQ           5
#define VHU_PROTO_F_CROSS_ENDIAN          6
#define VHU_PROTO_F_CONFIG                9
#define VHU_PROTO_F_BACKEND_SEND_FD      10
#define VHU_PROTO_F_HOST_NOTIFIER        11
#define VHU_PROTO_F_INFLIGHT_SHMFD       12
#define VHU_PROTO_F_RESET_DEVICE         13
#define VHU_PROTO_F_INBAND_NOTIFICATIONS 14
#define VHU_PROTO_F_CONFIGURE_MEM_SLOTS  15
#define VHU_PROTO_F_STATUS               16

/* SET_VRING_KICK/CALL/ERR payload: low byte is the ring index, bit 8 says
 * "no fd attached" (polling / notifications not wanted). */
#define VHU_WIRE_VRING_IDX_MASK  0xffu
#define VHU_WIRE_VRING_NOFD      (1u << 8)

/* SET_VRING_ADDR flags: the front-end wants the used ring logged. */
#define VHU_WIRE_VRING_F_LOG     0x1u

/* Most regions a single SET_MEM_TABLE can carry (one fd each). */
#define VHU_WIRE_MAX_TABLE_REGIONS 8
/* Most fds a message can carry at all. */
#define VHU_WIRE_MAX_FDS           8

struct vhu_wire_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes following the header */
} __attribute__((packed));

/* SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_ENABLE. */
struct vhu_wire_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

/* SET_VRING_ADDR: ring addresses in the front-end's virtual address space. */
struct vhu_wire_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} __attribute__((packed));

struct vhu_wire_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
} __attribute__((packed));

/* SET_MEM_TABLE. */
struct vhu_wire_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_wire_mem_region regions[VHU_WIRE_MAX_TABLE_REGIONS];
} __attribute__((packed));

/* ADD_MEM_REG, REM_MEM_REG. */
struct vhu_wire_single_region {
	uint64_t padding;
	struct vhu_wire_mem_region region;
} __attribute__((packed));

/* SET_LOG_BASE. */
struct vhu_wire_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
} __attribute__((packed));

/* Largest payload of any request this header knows (GET/SET_CONFIG and
 * IOTLB are not handled; their payloads are refused by size). */
#define VHU_WIRE_MAX_PAYLOAD sizeof(struct vhu_wire_mem_table)

#endif /* VHU_WIRE_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement (vhu_numa.h): a device's state follows the node of its
 * lowest started ring's guest memory, rings report their own node, and
 * what the kernel refuses is counted and changes nothing else.
 *
 * This machine has one node, so most cases stand in for the two system
 * calls (vhu_numa_set_ops()) to play a host with several; the last case
 * runs libnuma's real calls, the path a multi-node host takes.
 */
#include <errno.h>
#include <numaif.h>
#include <unistd.h>

#include "vhu_dev.h"
#include "vhu_numa.h"
#include "vhu_test_dev.h"
#include "vhu_test_eal.h"

VHU_TEST_MAIN_DEFS;

/* The stand-in host: node_of answers fake_node (or its -errno); move
 * records its calls and fails with move_err when set. Called on the
 * control thread, set by the test between requests. */
static int fake_node;
static int move_err;
static int moves;
static void *move_addr;
static size_t move_len;
static int move_node;
static const void *lookup_addr;

static int
fake_node_of(const void *addr)
{
	__atomic_store_n(&lookup_addr, addr, __ATOMIC_RELAXED);
	return __atomic_load_n(&fake_node, __ATOMIC_RELAXED);
}

static int
fake_move(void *addr, size_t len, int node)
{
	move_addr = addr;
	move_len = len;
	move_node = node;
	__atomic_fetch_add(&moves, 1, __ATOMIC_RELAXED);
	return __atomic_load_n(&move_err, __ATOMIC_RELAXED);
}

static const struct vhu_numa_ops fake_ops = {
	.node_of = fake_node_of,
	.move = fake_move,
};

static void
fake_host(int node, int err)
{
	__atomic_store_n(&fake_node, node, __ATOMIC_RELAXED);
	__atomic_store_n(&move_err, err, __ATOMIC_RELAXED);
	__atomic_store_n(&moves, 0, __ATOMIC_RELAXED);
	vhu_numa_set_ops(&fake_ops);
}

static int
moves_seen(void)
{
	return __atomic_load_n(&moves, __ATOMIC_RELAXED);
}

/* Stop ring and restart it (GET_VRING_BASE, SET_VRING_BASE + KICK) with
 * its memory now on node. */
static int
restart_on(struct vt_dev *t, unsigned int ring, int node)
{
	uint32_t base;
	int ret = vhu_fe_get_vring_base(t->fe, ring, &base);

	__atomic_store_n(&fake_node, node, __ATOMIC_RELAXED);
	if (ret == 0)
		ret = vhu_fe_start_ring(t->fe, ring);
	return ret;
}

/* Ring 0 starting on node 1 takes the device's pages there: the whole
 * mapping, page aligned, and nothing else; every ring reports node 1. */
static void
test_follow_guest_memory(void)
{
	struct vt_dev t = { 0 };
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint16_t r;

	fake_host(1, 0);
	VT_CHECK_EQ(vt_dev_open(&t, "follow", 2, NULL), 0);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), -1); /* none asked, none known */
	VT_CHECK_EQ(moves_seen(), 0);
	VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
	VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
	VT_CHECK(vt_wait_count(&t.ev.ready, 1));
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), 1);
	VT_CHECK_EQ(moves_seen(), 1); /* ring 0 moved it; the others agreed */
	/* The device's own mapping: whole pages holding all of it. */
	VT_CHECK_EQ((uintptr_t)move_addr % page, 0);
	VT_CHECK_EQ(move_len % page, 0);
	VT_CHECK((uint8_t *)move_addr <= (uint8_t *)t.dev);
	VT_CHECK((uint8_t *)&t.dev->rings[4] <= (uint8_t *)move_addr + move_len);
	VT_CHECK((uint8_t *)t.dev - (uint8_t *)move_addr < (ptrdiff_t)page);
	VT_CHECK_EQ(move_node, 1);
	/* The lookup was of guest memory: the last ring's descriptors. */
	VT_CHECK(lookup_addr == (const void *)t.dev->rings[3].desc);
	for (r = 0; r < 4; r++)
		VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, r), 1);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 4), -1); /* out of range */

	/* Traffic still flows on the moved device. */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 5, 200, 0), 0);
	{
		uint64_t seq = 0;

		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 5, &seq), 5);
	}
	vt_dev_close(&t);
	vhu_numa_set_ops(NULL);
}

/* A ring above the lowest started one records its node but does not
 * move the device; ring 0 restarted on another node does. */
static void
test_lowest_ring_decides(void)
{
	struct vt_dev t = { 0 };

	fake_host(1, 0);
	VT_CHECK_EQ(vt_dev_up(&t, "lowest", 1, NULL), 0);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), 1);
	VT_CHECK_EQ(moves_seen(), 1);

	VT_CHECK_EQ(restart_on(&t, 1, 3), 0);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 1), 3);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 0), 1);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), 1);
	VT_CHECK_EQ(moves_seen(), 1);

	VT_CHECK_EQ(restart_on(&t, 0, 2), 0);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 0), 2);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), 2);
	VT_CHECK_EQ(moves_seen(), 2);
	VT_CHECK_EQ(move_node, 2);

	/* With ring 0 stopped, ring 1 is the lowest started ring. */
	{
		uint32_t base;

		VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 0, &base), 0);
	}
	VT_CHECK_EQ(restart_on(&t, 1, 4), 0);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), 4);
	VT_CHECK_EQ(moves_seen(), 3);
	vt_dev_close(&t);
	vhu_numa_set_ops(NULL);
}

/* No NUMA in the kernel: nothing is moved, every node stays unknown,
 * the device works. */
static void
test_node_unknown(void)
{
	struct vt_dev t = { 0 };

	fake_host(-ENOSYS, 0);
	VT_CHECK_EQ(vt_dev_up(&t, "unknown", 1, NULL), 0);
	VT_CHECK(vt_wait_count(&t.ev.ready, 1));
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), -1);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 0), -1);
	VT_CHECK_EQ(moves_seen(), 0);
	vt_dev_close(&t);
	vhu_numa_set_ops(NULL);
}

/* The kernel refuses the move: counted, the node stays what it was, the
 * device still becomes ready and moves packets. */
static void
test_move_refused(void)
{
	struct vt_dev t = { 0 };
	struct vhu_device_stats st;
	uint64_t seq = 0;

	fake_host(1, -ENOMEM); /* no room on the node */
	VT_CHECK_EQ(vt_dev_up(&t, "refused", 1, NULL), 0);
	VT_CHECK(vt_wait_count(&t.ev.ready, 1));
	VT_CHECK_EQ(moves_seen(), 1);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), -1);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 0), 1);
	VT_CHECK_EQ(vhu_device_stats(t.dev, &st), 0);
	VT_CHECK_EQ(st.numa_move_failures, 1);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 100, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	vt_dev_close(&t);
	vhu_numa_set_ops(NULL);
}

/* numa_socket places a new device at once; its guest memory's node
 * wins when a ring starts. */
static void
test_numa_socket_at_register(void)
{
	struct vhu_device_config dc = { .max_queue_pairs = 1, .numa_socket = 5 };
	struct vhu_device *dev;
	char path[108];

	fake_host(1, 0);
	vt_sock_path(path, sizeof(path), "socket");
	dc.path = path;
	VT_CHECK_EQ(vhu_device_register(&dc, &dev), 0);
	VT_CHECK_EQ(moves_seen(), 1);
	VT_CHECK_EQ(move_node, 5);
	VT_CHECK_EQ(vhu_device_numa_node(dev), 5);
	VT_CHECK_EQ(vhu_device_unregister(dev), 0);
	vhu_numa_set_ops(NULL);
}

/* A kernel without NUMA, or a sandbox forbidding move_pages (EPERM in a
 * container's seccomp profile), as net_vhu's ports meet it (they always
 * pass numa_socket): placement unavailable, not a failure. */
static void
test_placement_unavailable(void)
{
	struct vhu_device_config dc = { .max_queue_pairs = 1, .numa_socket = 0 };
	struct vhu_device_stats st;
	struct vhu_device *dev;
	char path[108];
	int err[] = { -EPERM, -ENOSYS };

	for (unsigned int i = 0; i < RTE_DIM(err); i++) {
		fake_host(err[i], err[i]);
		vt_sock_path(path, sizeof(path), "unavailable");
		dc.path = path;
		VT_CHECK_EQ(vhu_device_register(&dc, &dev), 0);
		VT_CHECK_EQ(moves_seen(), 1);
		VT_CHECK_EQ(vhu_device_numa_node(dev), -1);
		VT_CHECK_EQ(vhu_device_stats(dev, &st), 0);
		VT_CHECK_EQ(st.numa_move_failures, 0);
		VT_CHECK_EQ(vhu_device_unregister(dev), 0);
	}
	vhu_numa_set_ops(NULL);
}

/* libnuma's own calls: the device's pages really on the node of ring 0's
 * guest memory. */
static void
test_libnuma(void)
{
	struct vt_dev t = { 0 };
	struct vhu_device_stats st;
	int node = -1, dev_node;

	vhu_numa_set_ops(NULL);
	if (get_mempolicy(&node, NULL, 0, &node, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
		VT_SKIP("get_mempolicy: %s (no NUMA in this kernel)", strerror(errno));
		return;
	}
	VT_CHECK_EQ(vt_dev_up(&t, "libnuma", 1, NULL), 0);
	VT_CHECK(vt_wait_count(&t.ev.ready, 1));
	/* Where the kernel says ring 0's descriptors are (node 0 on a
	 * one-node host; any node under numactl or on a bigger one). */
	VT_CHECK_EQ(get_mempolicy(&node, NULL, 0, (void *)t.dev->rings[0].desc,
				  MPOL_F_NODE | MPOL_F_ADDR), 0);
	VT_CHECK_EQ(vhu_device_ring_numa_node(t.dev, 0), node);
	VT_CHECK_EQ(vhu_device_numa_node(t.dev), node);
	VT_CHECK_EQ(vhu_device_stats(t.dev, &st), 0);
	VT_CHECK_EQ(st.numa_move_failures, 0);
	/* The device's own pages are there too. */
	dev_node = -1;
	VT_CHECK_EQ(get_mempolicy(&dev_node, NULL, 0, t.dev, MPOL_F_NODE | MPOL_F_ADDR), 0);
	VT_CHECK_EQ(dev_node, node);
	vt_dev_close(&t);
}

static const struct vhu_test_case cases[] = {
	{ "follow_guest_memory", test_follow_guest_memory },
	{ "lowest_ring_decides", test_lowest_ring_decides },
	{ "node_unknown", test_node_unknown },
	{ "move_refused", test_move_refused },
	{ "numa_socket_at_register", test_numa_socket_at_register },
	{ "placement_unavailable", test_placement_unavailable },
	{ "libnuma", test_libnuma },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("numa", cases, RTE_DIM(cases), 1, argv[0]);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The public device API (vhu.h): registration and queries. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


#include "vhu_ctrl.h"
#include "vhu_features.h"
#include "vhu_log.h"
#include "vhu_numa.h"
#include "vhu_offload.h"
#include "vhu_vring.h"

uint64_t
vhu_default_features(void)
{
	return VHU_FEATURES_DEFAULT;
}

/* The next cache-line offset (colour) a device starts at in its page
 * (vhu_dev_create()). */
static unsigned int vhu_dev_colour;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VHU_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VHU_HAVE_ASAN 1
#endif
#ifdef VHU_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define VHU_ASAN_POISON(a, n) ASAN_POISON_MEMORY_REGION((a), (n))
#define VHU_ASAN_UNPOISON(a, n) ASAN_UNPOISON_MEMORY_REGION((a), (n))
#else
#define VHU_ASAN_POISON(a, n) do { (void)(a); (void)(n); } while (0)
#define VHU_ASAN_UNPOISON(a, n) do { (void)(a); (void)(n); } while (0)
#endif

int
vhu_dev_create(const struct vhu_device_config *cfg, struct vhu_device **out)
{
	struct vhu_device *dev;
	uint16_t nr_rings, i;
	size_t len, size, colour, page, used;
	void *map;

	if (cfg == NULL || out == NULL || cfg->path == NULL)
		return -EINVAL;
	len = strlen(cfg->path);
	if (len == 0 || len >= sizeof(dev->path)) {
		VHU_LOG(ERR, "socket path '%s': length %zu not in 1..%zu",
			cfg->path, len, sizeof(dev->path) - 1);
		return -EINVAL;
	}
	if (cfg->max_queue_pairs == 0 ||
	    cfg->max_queue_pairs > VHU_MAX_QUEUE_PAIRS) {
		VHU_LOG(ERR, "%s: %u queue pairs, must be 1..%u", cfg->path,
			cfg->max_queue_pairs, VHU_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	if (cfg->offloads & ~VHU_OFFLOAD_ALL) {
		VHU_LOG(ERR, "%s: unknown offload bits 0x%" PRIx64, cfg->path,
			(uint64_t)(cfg->offloads & ~VHU_OFFLOAD_ALL));
		return -EINVAL;
	}
	if (cfg->features & VHU_FEATURES_OFFLOAD)
		VHU_LOG(WARNING, "%s: offload feature bits 0x%" PRIx64 " in "
			"features are ignored: use offloads (VHU_OFFLOAD_*)",
			cfg->path, (uint64_t)(cfg->features & VHU_FEATURES_OFFLOAD));
	nr_rings = 2 * cfg->max_queue_pairs;
	/* Process memory, not EAL's: the control thread may still read the
	 * device after rte_eal_cleanup() if the application exits without
	 * unregistering it, and EAL's memory is gone by then. A mapping of
	 * its own, in whole pages, so that moving its pages to a NUMA node
	 * (vhu_numa.c) moves nothing else. Zero-filled. */
	/* Each device starts at its own cache line of the page, in turn:
	 * page-aligned devices would put every device's hot lines in the
	 * same L1 sets, which an lcore polling many ports fills (vhu-bench
	 * --idle, no front-end, 16 / 31 ports: 28.0 / 28.0 cycles per poll
	 * page-aligned, 26.4 / 25.5 coloured). */
	page = (size_t)sysconf(_SC_PAGESIZE);
	colour = (__atomic_fetch_add(&vhu_dev_colour, 1, __ATOMIC_RELAXED) %
		  (page / RTE_CACHE_LINE_SIZE)) * RTE_CACHE_LINE_SIZE;
	used = colour + sizeof(*dev) + nr_rings * sizeof(struct vhu_vring);
	size = RTE_ALIGN_CEIL(used, page);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	/* A child of fork() must not share (copy-on-write) the pages: they
	 * could no longer move, and a write would copy one to wherever the
	 * writer runs. */
	madvise(map, size, MADV_DONTFORK);
	/* ASan sees no redzones in a mapping: make the slack around the
	 * device one. */
	VHU_ASAN_POISON(map, colour);
	VHU_ASAN_POISON((uint8_t *)map + used, size - used);
	dev = RTE_PTR_ADD(map, colour);
	dev->map_base = map;
	dev->map_size = size;
	dev->numa_node = -1;
	memcpy(dev->path, cfg->path, len + 1);
	dev->client = cfg->client;
	dev->max_queue_pairs = cfg->max_queue_pairs;
	dev->nr_rings = nr_rings;
	dev->features_offered = (cfg->features ? cfg->features :
				 VHU_FEATURES_DEFAULT) & VHU_FEATURES_SUPPORTED &
		~VHU_FEATURES_OFFLOAD;
	dev->features_offered |= vhu_offload_features(cfg->offloads);
	if (cfg->max_queue_pairs > 1)
		dev->features_offered |= VHU_BIT(VIRTIO_NET_F_MQ);
	dev->features_offered &= ~cfg->features_masked;
	/* TSO needs its checksum feature (virtio-net feature dependencies). */
	if (!(dev->features_offered & VHU_BIT(VIRTIO_NET_F_CSUM)))
		dev->features_offered &= ~(VHU_BIT(VIRTIO_NET_F_HOST_TSO4) |
					   VHU_BIT(VIRTIO_NET_F_HOST_TSO6));
	if (!(dev->features_offered & VHU_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		dev->features_offered &= ~(VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) |
					   VHU_BIT(VIRTIO_NET_F_GUEST_TSO6));
	dev->offloads = cfg->offloads;
	dev->protocol_features_offered = VHU_PROTOCOL_FEATURES_OFFERED;
	dev->ops = cfg->ops;
	dev->ctx = cfg->ctx;
	dev->socket_id = cfg->numa_socket;
	dev->log_fd = -1;
	for (i = 0; i < nr_rings; i++)
		vhu_vring_init(&dev->rings[i], dev, i);
	if (cfg->numa_socket >= 0)
		vhu_numa_place_device(dev, cfg->numa_socket);
	dev->listen_ep.kind = VHU_EP_LISTEN;
	dev->listen_ep.fd = -1;
	dev->listen_ep.dev = dev;
	dev->conn.ep.kind = VHU_EP_CONN;
	dev->conn.ep.fd = -1;
	dev->conn.ep.dev = dev;
	*out = dev;
	return 0;
}

void
vhu_dev_destroy(struct vhu_device *dev)
{
	void *map = dev->map_base;
	size_t size = dev->map_size;

	VHU_ASAN_UNPOISON(map, size);
	munmap(map, size);
}

int
vhu_device_register(const struct vhu_device_config *cfg,
		struct vhu_device **out)
{
	struct vhu_device *dev;
	int ret;

	ret = vhu_dev_create(cfg, &dev);
	if (ret != 0)
		return ret;
	ret = vhu_ctrl_register(dev);
	if (ret != 0) {
		vhu_dev_destroy(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

int
vhu_device_start(struct vhu_device *dev)
{
	if (dev == NULL)
		return -EINVAL;
	return vhu_ctrl_start(dev);
}

int
vhu_device_unregister(struct vhu_device *dev)
{
	if (dev == NULL)
		return -EINVAL;
	return vhu_ctrl_unregister(dev);
}

/* Queries read control-thread fields without a lock: each is one
 * naturally aligned load and may be a moment old. */
#define VHU_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

const char *
vhu_device_path(const struct vhu_device *dev)
{
	return dev->path;
}

uint64_t
vhu_device_features(const struct vhu_device *dev)
{
	return VHU_READ(dev->features);
}

uint16_t
vhu_device_queue_pairs(const struct vhu_device *dev)
{
	uint16_t i, qps = 0;

	for (i = 0; i < dev->nr_rings; i++)
		if (VHU_READ(dev->rings[i].started))
			qps = i / 2 + 1;
	return qps;
}

uint16_t
vhu_device_mtu(const struct vhu_device *dev)
{
	return VHU_READ(dev->mtu);
}

bool
vhu_device_connected(const struct vhu_device *dev)
{
	return VHU_READ(dev->conn.ep.fd) >= 0;
}

bool
vhu_device_ready(const struct vhu_device *dev)
{
	return VHU_READ(dev->ready);
}

int
vhu_device_numa_node(const struct vhu_device *dev)
{
	return VHU_READ(dev->numa_node);
}

int
vhu_device_ring_numa_node(const struct vhu_device *dev, uint16_t ring)
{
	if (ring >= dev->nr_rings)
		return -1;
	return VHU_READ(dev->rings[ring].numa_node);
}

int
vhu_device_ring_state(const struct vhu_device *dev, uint16_t ring,
		struct vhu_ring_state *state)
{
	const struct vhu_vring *vr;

	if (ring >= dev->nr_rings || state == NULL)
		return -EINVAL;
	vr = &dev->rings[ring];
	state->started = VHU_READ(vr->started);
	state->enabled = VHU_READ(vr->enabled);
	state->broken = VHU_READ(vr->broken);
	return 0;
}

int
vhu_device_ring_stats(const struct vhu_device *dev, uint16_t ring,
		struct vhu_ring_stats *stats)
{
	if (ring >= dev->nr_rings || stats == NULL)
		return -EINVAL;
	*stats = dev->rings[ring].stats;
	return 0;
}

int
vhu_device_stats(const struct vhu_device *dev, struct vhu_device_stats *stats)
{
	*stats = dev->stats;
	return 0;
}

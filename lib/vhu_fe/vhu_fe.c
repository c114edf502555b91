/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The front-end device object: configuration, creation of guest memory,
 * rings, buffers and eventfds, the connection, and state accessors.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vhu_fe_priv.h"

#define BUF_ALIGN 64u
#define HUGE_PAGE_GUESS (2ull << 20)
#define MAX_BUF_SIZE (1u << 20)

_Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "virtio-net header");

FILE *vhu_fe_log_stream;

/* stderr is not a constant expression: set before main() runs. */
__attribute__((constructor)) static void
vhu_fe_log_init(void)
{
	vhu_fe_log_stream = stderr;
}

void
vhu_fe_set_log_stream(FILE *stream)
{
	vhu_fe_log_stream = stream;
}

void
vhu_fe_config_default(struct vhu_fe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = 5000;
	cfg->queue_pairs = 1;
	cfg->queue_size = 256;
	cfg->features = (1ull << VIRTIO_F_VERSION_1) |
			(1ull << VIRTIO_NET_F_MRG_RXBUF) |
			(1ull << VHU_F_PROTOCOL_FEATURES);
	cfg->protocol_features = (1ull << VHU_PROTO_F_MQ) |
				 (1ull << VHU_PROTO_F_REPLY_ACK) |
				 (1ull << VHU_PROTO_F_RARP) |
				 (1ull << VHU_PROTO_F_MTU) |
				 (1ull << VHU_PROTO_F_RESET_DEVICE) |
				 (1ull << VHU_PROTO_F_CONFIGURE_MEM_SLOTS) |
				 (1ull << VHU_PROTO_F_STATUS);
	vhu_fe_mem_config_default(&cfg->mem);
	cfg->tx_buf_size = 2048;
	cfg->rx_buf_size = 2048;
	cfg->tx_layout = VHU_FE_TX_ONE;
	cfg->tx_segs = 4;
	cfg->rx_layout = VHU_FE_RX_ONE;
	cfg->inject_kick = true;
	cfg->notify = true;
	cfg->rx_prefill = true;
	cfg->set_status = true;
}

unsigned int
vhu_fe_hdr_len_for(uint64_t features)
{
	if (vhu_fe_has(features, VIRTIO_F_VERSION_1) ||
	    vhu_fe_has(features, VIRTIO_NET_F_MRG_RXBUF))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static int
check_config(const struct vhu_fe_config *cfg)
{
	unsigned int qs = cfg->queue_size;
	/* Packed rings need not be a power of two (VIRTIO 1.1 2.8). */
	bool pow2 = cfg->packed || (qs & (qs - 1)) == 0;

	if (cfg->queue_pairs < 1 || cfg->queue_pairs > VHU_FE_MAX_QUEUE_PAIRS) {
		VHU_FE_LOG("config: %u queue pairs, want 1..%u",
			   cfg->queue_pairs, VHU_FE_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	if (qs == 0 || qs > VHU_FE_MAX_QUEUE_SIZE || !pow2) {
		VHU_FE_LOG("config: queue size %u, want %s in 1..%u", qs,
			   cfg->packed ? "a size" : "a power of two",
			   VHU_FE_MAX_QUEUE_SIZE);
		return -EINVAL;
	}
	if (!cfg->packed && vhu_fe_has(cfg->features, VIRTIO_F_RING_PACKED)) {
		VHU_FE_LOG("config: VIRTIO_F_RING_PACKED in the wanted features "
			   "but packed is false (set packed, which asks for it)");
		return -EINVAL;
	}
	if (cfg->tx_buf_size < 64 || cfg->tx_buf_size > MAX_BUF_SIZE ||
	    cfg->rx_buf_size < 64 || cfg->rx_buf_size > MAX_BUF_SIZE) {
		VHU_FE_LOG("config: buffer sizes tx %u rx %u, want 64..%u",
			   cfg->tx_buf_size, cfg->rx_buf_size, MAX_BUF_SIZE);
		return -EINVAL;
	}
	if (cfg->tx_segs < 1 || cfg->tx_segs > VHU_FE_MAX_SEGS - 1) {
		VHU_FE_LOG("config: tx_segs %u, want 1..%u", cfg->tx_segs,
			   VHU_FE_MAX_SEGS - 1);
		return -EINVAL;
	}
	if (cfg->tx_layout == VHU_FE_TX_INDIRECT &&
	    !vhu_fe_has(cfg->features, VIRTIO_RING_F_INDIRECT_DESC)) {
		VHU_FE_LOG("config: TX layout INDIRECT needs "
			   "VIRTIO_RING_F_INDIRECT_DESC in the wanted features");
		return -EINVAL;
	}
	if (cfg->timeout_ms <= 0) {
		VHU_FE_LOG("config: timeout_ms %d must be > 0", cfg->timeout_ms);
		return -EINVAL;
	}
	return 0;
}

/* Replace zero region sizes by an even share of what the device needs,
 * with room for the rotating allocator's unevenness. */
static void
auto_size_memory(const struct vhu_fe_config *cfg, struct vhu_fe_mem_config *m)
{
	uint64_t qs = cfg->queue_size, page = m->hugetlb ? HUGE_PAGE_GUESS :
					      (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t rings = cfg->queue_pairs *
			 (vhu_fe_vring_mem_need(cfg->queue_size, false,
						cfg->packed) +
			  vhu_fe_vring_mem_need(cfg->queue_size, true,
						cfg->packed));
	uint64_t bufs = cfg->queue_pairs * qs *
			((uint64_t)cfg->tx_buf_size + cfg->rx_buf_size + 2 * BUF_ALIGN);
	uint64_t share = bufs / m->nregions + rings + 2 * MAX_BUF_SIZE;

	share = (share + page - 1) / page * page;
	for (unsigned int i = 0; i < m->nregions && i < VHU_FE_MAX_REGIONS; i++)
		if (m->region_size[i] == 0)
			m->region_size[i] = share;
}

static int
create_ring(struct vhu_fe *fe, unsigned int i)
{
	struct vhu_fe_ring_state *rs = &fe->rings[i];
	unsigned int qs = fe->cfg.queue_size;
	int rc;

	rs->is_tx = (i & 1) != 0;
	rs->buf_size = rs->is_tx ? fe->cfg.tx_buf_size : fe->cfg.rx_buf_size;
	rc = fe->cfg.packed ?
	     vhu_fe_vring_create_packed(fe->mem, qs, rs->is_tx, &rs->vr) :
	     vhu_fe_vring_create(fe->mem, qs, rs->is_tx, &rs->vr);
	if (rc < 0)
		return rc;
	rs->base = vhu_fe_vring_fresh_base(rs->vr);
	vhu_fe_vring_set_index(rs->vr, i);
	vhu_fe_vring_set_interrupts(rs->vr, fe->cfg.interrupts);
	rs->buf = calloc(qs, sizeof(*rs->buf));
	if (rs->buf == NULL) {
		VHU_FE_LOG("out of memory for ring %u buffer table", i);
		return -ENOMEM;
	}
	for (unsigned int d = 0; d < qs; d++) {
		rs->buf[d] = vhu_fe_mem_alloc(fe->mem, rs->buf_size, BUF_ALIGN);
		if (rs->buf[d] == NULL) {
			VHU_FE_LOG("guest memory too small for ring %u buffers", i);
			return -ENOMEM;
		}
	}
	rs->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rs->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rs->kick_fd < 0 || rs->call_fd < 0) {
		int err = errno;
		VHU_FE_LOG("eventfd for ring %u failed: %s", i, strerror(err));
		return -err;
	}
	return 0;
}

int
vhu_fe_create(const struct vhu_fe_config *cfg, struct vhu_fe **out)
{
	struct vhu_fe *fe;
	int rc;

	*out = NULL;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	fe = calloc(1, sizeof(*fe));
	if (fe == NULL) {
		VHU_FE_LOG("out of memory for the front-end object");
		return -ENOMEM;
	}
	fe->cfg = *cfg;
	fe->sock = -1;
	fe->listen_fd = -1;
	fe->nrings = 2 * cfg->queue_pairs;
	if (cfg->packed)
		fe->cfg.features |= 1ull << VIRTIO_F_RING_PACKED;
	fe->hdr_len = vhu_fe_hdr_len_for(cfg->features);
	if (cfg->path != NULL) {
		fe->path = strdup(cfg->path);
		if (fe->path == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	fe->cfg.path = fe->path;
	fe->rings = calloc(fe->nrings, sizeof(*fe->rings));
	if (fe->rings == NULL) {
		VHU_FE_LOG("out of memory for the ring table");
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < fe->nrings; i++)
		fe->rings[i].kick_fd = fe->rings[i].call_fd = -1;
	auto_size_memory(cfg, &fe->cfg.mem);
	rc = vhu_fe_mem_create(&fe->cfg.mem, &fe->mem);
	if (rc < 0)
		goto fail;
	for (unsigned int i = 0; i < fe->nrings; i++) {
		rc = create_ring(fe, i);
		if (rc < 0)
			goto fail;
	}
	*out = fe;
	return 0;
fail:
	vhu_fe_destroy(fe);
	return rc;
}

void
vhu_fe_destroy(struct vhu_fe *fe)
{
	if (fe == NULL)
		return;
	vhu_fe_disconnect(fe);
	if (fe->listen_fd >= 0) {
		close(fe->listen_fd);
		if (fe->path != NULL)
			unlink(fe->path);
	}
	for (unsigned int i = 0; fe->rings != NULL && i < fe->nrings; i++) {
		struct vhu_fe_ring_state *rs = &fe->rings[i];

		if (rs->kick_fd >= 0)
			close(rs->kick_fd);
		if (rs->call_fd >= 0)
			close(rs->call_fd);
		vhu_fe_vring_destroy(rs->vr);
		free(rs->buf);
	}
	free(fe->rings);
	vhu_fe_mem_destroy(fe->mem);
	free(fe->rx_scratch);
	free(fe->path);
	free(fe);
}

int
vhu_fe_connect(struct vhu_fe *fe)
{
	int fd;

	if (fe->sock >= 0) {
		VHU_FE_LOG("connect: already connected");
		return -EISCONN;
	}
	if (!fe->cfg.listen) {
		fd = vhu_fe_sock_connect(fe->path, fe->cfg.timeout_ms);
	} else {
		if (fe->listen_fd < 0) {
			fe->listen_fd = vhu_fe_sock_listen(fe->path);
			if (fe->listen_fd < 0) {
				int rc = fe->listen_fd;
				fe->listen_fd = -1;
				return rc;
			}
		}
		fd = vhu_fe_sock_accept(fe->listen_fd, fe->cfg.timeout_ms);
	}
	if (fd < 0)
		return fd;
	fe->sock = fd;
	return 0;
}

int
vhu_fe_attach(struct vhu_fe *fe, int sock)
{
	if (fe->sock >= 0) {
		VHU_FE_LOG("attach: already connected");
		return -EISCONN;
	}
	if (sock < 0) {
		VHU_FE_LOG("attach: bad socket fd %d", sock);
		return -EINVAL;
	}
	fe->sock = sock;
	return 0;
}

void
vhu_fe_disconnect(struct vhu_fe *fe)
{
	if (fe->sock < 0)
		return;
	close(fe->sock);
	fe->sock = -1;
	for (unsigned int i = 0; i < fe->nrings; i++) {
		struct vhu_fe_ring_state *rs = &fe->rings[i];

		if (!rs->started)
			continue;
		rs->base = vhu_fe_vring_resume_base(rs->vr);
		rs->started = false;
	}
	fe->backend_features = fe->features = 0;
	fe->backend_protocol_features = fe->protocol_features = 0;
}

int
vhu_fe_sock_fd(const struct vhu_fe *fe)
{
	return fe->sock;
}

int
vhu_fe_peer_closed(struct vhu_fe *fe)
{
	struct pollfd pfd = { .fd = fe->sock, .events = POLLIN | POLLRDHUP };
	uint8_t b;

	if (fe->sock < 0)
		return 1;
	if (poll(&pfd, 1, 0) <= 0 || pfd.revents == 0)
		return 0;
	ssize_t n = recv(fe->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 1;
	if (n > 0) {
		VHU_FE_LOG("back-end sent a message nobody asked for");
		return -EPROTO;
	}
	return 0;
}

uint64_t
vhu_fe_backend_features(const struct vhu_fe *fe)
{
	return fe->backend_features;
}

uint64_t
vhu_fe_features(const struct vhu_fe *fe)
{
	return fe->features;
}

uint64_t
vhu_fe_backend_protocol_features(const struct vhu_fe *fe)
{
	return fe->backend_protocol_features;
}

uint64_t
vhu_fe_protocol_features(const struct vhu_fe *fe)
{
	return fe->protocol_features;
}

unsigned int
vhu_fe_hdr_len(const struct vhu_fe *fe)
{
	return fe->hdr_len;
}

unsigned int
vhu_fe_nrings(const struct vhu_fe *fe)
{
	return fe->nrings;
}

struct vhu_fe_mem *
vhu_fe_get_mem(struct vhu_fe *fe)
{
	return fe->mem;
}

struct vhu_fe_vring *
vhu_fe_get_vring(struct vhu_fe *fe, unsigned int ring)
{
	return ring < fe->nrings ? fe->rings[ring].vr : NULL;
}

int
vhu_fe_kick_fd(const struct vhu_fe *fe, unsigned int ring)
{
	return ring < fe->nrings ? fe->rings[ring].kick_fd : -1;
}

int
vhu_fe_call_fd(const struct vhu_fe *fe, unsigned int ring)
{
	return ring < fe->nrings ? fe->rings[ring].call_fd : -1;
}

bool
vhu_fe_ring_started(const struct vhu_fe *fe, unsigned int ring)
{
	return ring < fe->nrings && fe->rings[ring].started;
}

void
vhu_fe_set_kick_policy(struct vhu_fe *fe, bool inject_kick, bool notify)
{
	fe->cfg.inject_kick = inject_kick;
	fe->cfg.notify = notify;
}

void
vhu_fe_get_stats(const struct vhu_fe *fe, struct vhu_fe_stats *st)
{
	*st = fe->stats;
}

uint64_t
vhu_fe_last_ack(const struct vhu_fe *fe)
{
	return fe->last_ack;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: one per process, an epoll loop over every listening
 * and connected socket of every device, plus an eventfd through which
 * other threads hand it commands (register, start, unregister). It alone
 * touches device state, so the registry and devices need no lock; only
 * the command queue has one.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "vhu_conn.h"
#include "vhu_ctrl.h"
#include "vhu_guard.h"
#include "vhu_log.h"
#include "vhu_msg.h"
#include "vhu_sync.h"
#include "vhu_unmap.h"
#include "vhu_vring.h"

#define VHU_CTRL_TICK_MS 50
#define VHU_CTRL_MAX_EVENTS 32
/* Messages handled per wake-up for one connection, so one busy
 * front-end cannot starve the others. */
#define VHU_CTRL_MSGS_PER_EVENT 32
#define VHU_RECONNECT_MIN_MS 100
#define VHU_RECONNECT_MAX_MS 2000

struct vhu_cmd {
	TAILQ_ENTRY(vhu_cmd) next;
	enum vhu_cmd_kind { VHU_CMD_REGISTER, VHU_CMD_START,
			    VHU_CMD_UNREGISTER, VHU_CMD_STOP } kind;
	struct vhu_device *dev;
	int result;
	bool detached;   /* nobody waits: the control thread frees it */
	sem_t done;
};

static struct {
	/* Held by application threads across registering (which may start
	 * the thread) and unregistering (which may stop it). */
	pthread_mutex_t lifecycle;
	pthread_mutex_t lock;           /* cmds, started */
	bool started;
	bool quit;                      /* control thread only */
	unsigned int ndevices;          /* control thread only */
	unsigned int nparked;           /* control thread only */
	uint64_t next_tick;             /* control thread only */
	uint64_t guard_faults;          /* control thread only: last seen */
	TAILQ_HEAD(, vhu_cmd) cmds;
	pthread_t thread;
	int epfd;
	struct vhu_ep wake_ep;
	TAILQ_HEAD(, vhu_device) devices; /* control thread only */
} vhu_ctrl = {
	.lifecycle = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cmds = TAILQ_HEAD_INITIALIZER(vhu_ctrl.cmds),
	.devices = TAILQ_HEAD_INITIALIZER(vhu_ctrl.devices),
	.epfd = -1,
};

static bool
vhu_ctrl_on_thread(void)
{
	return vhu_ctrl.started && pthread_equal(pthread_self(), vhu_ctrl.thread);
}

static int
vhu_ctrl_epoll_add(struct vhu_ep *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	if (epoll_ctl(vhu_ctrl.epfd, EPOLL_CTL_ADD, ep->fd, &ev) != 0)
		return -errno;
	return 0;
}

/* Whether the control thread reads the connection (EPOLLIN); hang-ups
 * and errors are reported either way. */
static void
vhu_ctrl_epoll_reading(struct vhu_ep *ep, bool reading)
{
	struct epoll_event ev = { .events = reading ? EPOLLIN : 0,
				  .data.ptr = ep };

	if (epoll_ctl(vhu_ctrl.epfd, EPOLL_CTL_MOD, ep->fd, &ev) != 0)
		VHU_LOG(ERR, "epoll: %s", strerror(errno));
}

static void
vhu_ctrl_epoll_del(struct vhu_ep *ep)
{
	epoll_ctl(vhu_ctrl.epfd, EPOLL_CTL_DEL, ep->fd, NULL);
}

static void
vhu_ctrl_schedule_reconnect(struct vhu_device *dev)
{
	dev->reconnect_at = rte_get_timer_cycles() +
		rte_get_timer_hz() * dev->reconnect_ms / 1000;
	dev->reconnect_ms *= 2;
	if (dev->reconnect_ms > VHU_RECONNECT_MAX_MS)
		dev->reconnect_ms = VHU_RECONNECT_MAX_MS;
}

/* The front-end is gone (or must go): back to the initial state. */
static void
vhu_ctrl_disconnect(struct vhu_device *dev, const char *why)
{
	if (dev->conn.ep.fd < 0)
		return;
	VHU_DEV_LOG(INFO, dev, "front-end disconnected: %s", why);
	if (dev->conn.parked) {
		/* Its message goes with it (vhu_conn_close drops its fds);
		 * the reset below waits for the late burst. */
		dev->conn.parked = false;
		vhu_ctrl.nparked--;
	}
	vhu_ctrl_epoll_del(&dev->conn.ep);
	vhu_conn_close(dev);
	/* Nothing is reset under a running burst: if one is late, the
	 * reset waits (vhu_dev_retry_held) and no new front-end is taken
	 * until it ran. */
	vhu_dev_reset_when_quiet(dev, true);
	dev->stats.disconnections++;
	if (dev->client && dev->started && !dev->unregistering) {
		dev->reconnect_ms = VHU_RECONNECT_MIN_MS;
		vhu_ctrl_schedule_reconnect(dev);
	}
}

static int
vhu_ctrl_attach(struct vhu_device *dev, int fd)
{
	int ret;

	dev->conn.ep.fd = fd;
	dev->conn.have = 0;
	ret = vhu_ctrl_epoll_add(&dev->conn.ep);
	if (ret != 0) {
		VHU_DEV_LOG(ERR, dev, "epoll: %s", strerror(-ret));
		close(fd);
		dev->conn.ep.fd = -1;
		return ret;
	}
	dev->stats.connections++;
	VHU_DEV_LOG(INFO, dev, "front-end connected");
	return 0;
}

static void
vhu_ctrl_accept(struct vhu_device *dev)
{
	int fd;

	if (dev->reset_pending) {
		/* The last front-end's state is not reset yet (a burst is
		 * late): the next one waits in the backlog until it is. */
		VHU_DEV_LOG(INFO, dev, "a front-end waits: the last one's "
			    "state is not reset yet");
		dev->listen_paused = true;
		vhu_ctrl_epoll_reading(&dev->listen_ep, false);
		return;
	}
	fd = accept4(dev->listen_ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			VHU_DEV_LOG(ERR, dev, "accept: %s", strerror(errno));
		return;
	}
	if (dev->conn.ep.fd >= 0) {
		VHU_DEV_LOG(WARNING, dev, "refusing a second front-end: one is "
			    "connected");
		close(fd);
		return;
	}
	vhu_ctrl_attach(dev, fd);
}

static int
vhu_ctrl_sockaddr(const struct vhu_device *dev, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, dev->path, strlen(dev->path) + 1);
	return 0;
}

static void
vhu_ctrl_connect(struct vhu_device *dev)
{
	struct sockaddr_un sa;
	int fd;

	dev->reconnect_at = 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		VHU_DEV_LOG(ERR, dev, "socket: %s", strerror(errno));
		vhu_ctrl_schedule_reconnect(dev);
		return;
	}
	vhu_ctrl_sockaddr(dev, &sa);
	/* Unix stream connects complete at once or fail at once. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		VHU_DEV_LOG(DEBUG, dev, "connect: %s (retry in %u ms)",
			    strerror(errno), dev->reconnect_ms);
		close(fd);
		vhu_ctrl_schedule_reconnect(dev);
		return;
	}
	if (vhu_ctrl_attach(dev, fd) == 0)
		dev->reconnect_ms = VHU_RECONNECT_MIN_MS;
	else
		vhu_ctrl_schedule_reconnect(dev);
}

/* After a message was handled (r from vhu_msg_dispatch/resume, not
 * PARKED): ready for the next one. @return false if disconnected. */
static bool
vhu_ctrl_msg_done(struct vhu_device *dev, int r)
{
	vhu_conn_next(dev);
	vhu_dev_notify(dev);
	if (r == VHU_MSG_FATAL) {
		vhu_ctrl_disconnect(dev, "protocol error");
		return false;
	}
	return true;
}

static void
vhu_ctrl_readable(struct vhu_device *dev, uint32_t events)
{
	int i, r;

	if (dev->conn.parked) {
		/* Only a hang-up can be reported: messages wait. */
		if (events & (EPOLLHUP | EPOLLERR))
			vhu_ctrl_disconnect(dev, "connection closed");
		return;
	}
	for (i = 0; i < VHU_CTRL_MSGS_PER_EVENT; i++) {
		r = vhu_conn_recv(dev);
		if (r == 0)
			return;
		if (r < 0) {
			vhu_ctrl_disconnect(dev, r == -ECONNRESET ?
					    "connection closed" : strerror(-r));
			return;
		}
		r = vhu_msg_dispatch(dev, &dev->conn.msg);
		if (r == VHU_MSG_PARKED) {
			dev->conn.parked = true;
			dev->conn.park_deadline = rte_get_timer_cycles() +
				rte_get_timer_hz() * VHU_QUIESCE_TIMEOUT_MS /
				1000;
			vhu_ctrl.nparked++;
			vhu_ctrl_epoll_reading(&dev->conn.ep, false);
			return;
		}
		if (!vhu_ctrl_msg_done(dev, r))
			return;
	}
}

/* Go on with parked messages whose late bursts have ended (or that
 * waited VHU_QUIESCE_TIMEOUT_MS), then read their connections again. */
static void
vhu_ctrl_resume_parked(void)
{
	uint64_t now = rte_get_timer_cycles();
	struct vhu_device *dev;
	int r;

	TAILQ_FOREACH(dev, &vhu_ctrl.devices, next) {
		if (!dev->conn.parked)
			continue;
		r = vhu_msg_resume(dev, &dev->conn.msg,
				   now >= dev->conn.park_deadline);
		if (r == VHU_MSG_PARKED)
			continue;
		dev->conn.parked = false;
		vhu_ctrl.nparked--;
		if (vhu_ctrl_msg_done(dev, r))
			vhu_ctrl_epoll_reading(&dev->conn.ep, true);
		if (vhu_ctrl.nparked == 0)
			return;
	}
}

/* Server mode: listen on the path, replacing only a stale socket. */
static int
vhu_ctrl_listen(struct vhu_device *dev)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	vhu_ctrl_sockaddr(dev, &sa);
	if (lstat(dev->path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			VHU_DEV_LOG(ERR, dev, "path exists and is not a socket");
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
					  sizeof(sa)) == 0) {
			close(probe);
			VHU_DEV_LOG(ERR, dev, "another process listens on it");
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(dev->path); /* stale: its listener is gone */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 8) != 0) {
		ret = -errno;
		VHU_DEV_LOG(ERR, dev, "bind/listen: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	dev->created_socket_file = true;
	dev->listen_ep.fd = fd;
	ret = vhu_ctrl_epoll_add(&dev->listen_ep);
	if (ret != 0) {
		close(fd);
		unlink(dev->path);
		dev->listen_ep.fd = -1;
		dev->created_socket_file = false;
		return ret;
	}
	VHU_DEV_LOG(INFO, dev, "listening");
	return 0;
}

static struct vhu_device *
vhu_ctrl_find(const char *path)
{
	struct vhu_device *dev;

	TAILQ_FOREACH(dev, &vhu_ctrl.devices, next)
		if (strcmp(dev->path, path) == 0)
			return dev;
	return NULL;
}

static int
vhu_ctrl_do_register(struct vhu_device *dev)
{
	if (vhu_ctrl_find(dev->path) != NULL) {
		VHU_DEV_LOG(ERR, dev, "already registered");
		return -EEXIST;
	}
	TAILQ_INSERT_TAIL(&vhu_ctrl.devices, dev, next);
	vhu_ctrl.ndevices++;
	return 0;
}

static int
vhu_ctrl_do_start(struct vhu_device *dev)
{
	int ret;

	if (dev->started)
		return -EALREADY;
	if (dev->client) {
		dev->started = true;
		dev->reconnect_ms = VHU_RECONNECT_MIN_MS;
		vhu_ctrl_connect(dev);
		return 0;
	}
	ret = vhu_ctrl_listen(dev);
	if (ret == 0)
		dev->started = true;
	return ret;
}

static void
vhu_ctrl_do_unregister(struct vhu_device *dev)
{
	dev->unregistering = true;
	vhu_ctrl_disconnect(dev, "device unregistered");
	if (dev->listen_ep.fd >= 0) {
		vhu_ctrl_epoll_del(&dev->listen_ep);
		close(dev->listen_ep.fd);
		dev->listen_ep.fd = -1;
	}
	if (dev->created_socket_file)
		unlink(dev->path);
	TAILQ_REMOVE(&vhu_ctrl.devices, dev, next);
	vhu_ctrl.ndevices--;
	/* Unregistering is the application's, and rare: a burst that is
	 * late here gets the full bound, as the caller's contract says no
	 * burst runs any more. */
	for (unsigned int ms = 0; dev->reset_pending &&
	     ms < VHU_QUIESCE_TIMEOUT_MS; ms++) {
		usleep(1000);
		vhu_dev_retry_held(dev);
	}
	if (dev->reset_pending) {
		/* A burst still runs on it: freeing would be a use after
		 * free; leaking is safe. The caller broke the contract (or
		 * its lcore is stuck). Nobody retries it any more. */
		vhu_dev_resets_pending--;
		VHU_DEV_LOG(ERR, dev, "unregistered while a burst still runs: "
			    "its memory is left allocated and mapped");
		return;
	}
	VHU_DEV_LOG(INFO, dev, "unregistered");
	vhu_dev_destroy(dev);
}

static void
vhu_ctrl_run_cmd(struct vhu_cmd *cmd)
{
	switch (cmd->kind) {
	case VHU_CMD_REGISTER:
		cmd->result = vhu_ctrl_do_register(cmd->dev);
		break;
	case VHU_CMD_START:
		cmd->result = vhu_ctrl_do_start(cmd->dev);
		break;
	case VHU_CMD_UNREGISTER:
		vhu_ctrl_do_unregister(cmd->dev);
		cmd->result = 0;
		break;
	case VHU_CMD_STOP:
		/* Only with no device left: nothing to serve. */
		vhu_ctrl.quit = vhu_ctrl.ndevices == 0;
		cmd->result = vhu_ctrl.quit ? 0 : -EBUSY;
		break;
	}
}

static void
vhu_ctrl_run_cmds(void)
{
	for (;;) {
		struct vhu_cmd *cmd;

		pthread_mutex_lock(&vhu_ctrl.lock);
		cmd = TAILQ_FIRST(&vhu_ctrl.cmds);
		if (cmd != NULL)
			TAILQ_REMOVE(&vhu_ctrl.cmds, cmd, next);
		pthread_mutex_unlock(&vhu_ctrl.lock);
		if (cmd == NULL)
			return;
		vhu_ctrl_run_cmd(cmd);
		if (cmd->detached)
			free(cmd);
		else
			sem_post(&cmd->done);
	}
}

/* Held rings quiet now? Then a waiting reset runs, and a server takes
 * front-ends again. */
static void
vhu_ctrl_retry_held(struct vhu_device *dev)
{
	vhu_dev_retry_held(dev);
	if (dev->listen_paused && !dev->reset_pending &&
	    dev->listen_ep.fd >= 0) {
		dev->listen_paused = false;
		vhu_ctrl_epoll_reading(&dev->listen_ep, true);
	}
}

/* Every VHU_QUIESCE_POLL_MS while a reset waits for a late burst. */
static void
vhu_ctrl_retry_resets(void)
{
	struct vhu_device *dev;

	TAILQ_FOREACH(dev, &vhu_ctrl.devices, next) {
		if (vhu_dev_resets_pending == 0)
			return;
		if (dev->reset_pending)
			vhu_ctrl_retry_held(dev);
	}
}

static void
vhu_ctrl_tick(void)
{
	uint64_t now = rte_get_timer_cycles();
	uint64_t faults = vhu_guard_total_faults();
	bool faulted = faults != vhu_ctrl.guard_faults;
	struct vhu_device *dev;

	vhu_ctrl.guard_faults = faults;
	TAILQ_FOREACH(dev, &vhu_ctrl.devices, next) {
		/* Its memory is not what the front-end said any more. */
		if (faulted && vhu_dev_memory_faulted(dev))
			vhu_ctrl_disconnect(dev, "guest memory shrank under "
					    "its mapping");
		vhu_ctrl_retry_held(dev);
		if (dev->client && dev->started && dev->conn.ep.fd < 0 &&
		    !dev->reset_pending &&
		    dev->reconnect_at != 0 && now >= dev->reconnect_at)
			vhu_ctrl_connect(dev);
		if (dev->conn.ep.fd >= 0) {
			vhu_dev_check_rings(dev);
			vhu_dev_signal_log(dev);
		}
	}
}

static void *
vhu_ctrl_main(void *arg)
{
	struct epoll_event evs[VHU_CTRL_MAX_EVENTS];

	RTE_SET_USED(arg);
	while (!vhu_ctrl.quit) {
		bool wake = false;
		int n, i;

		n = epoll_wait(vhu_ctrl.epfd, evs, VHU_CTRL_MAX_EVENTS,
			       vhu_ctrl.nparked || vhu_dev_resets_pending ?
			       VHU_QUIESCE_POLL_MS : VHU_CTRL_TICK_MS);
		for (i = 0; i < n; i++) {
			struct vhu_ep *ep = evs[i].data.ptr;
			uint64_t v;

			switch (ep->kind) {
			case VHU_EP_WAKE:
				if (read(ep->fd, &v, sizeof(v)) < 0 &&
				    errno != EAGAIN)
					VHU_LOG(ERR, "wake fd: %s", strerror(errno));
				wake = true;
				break;
			case VHU_EP_LISTEN:
				vhu_ctrl_accept(ep->dev);
				break;
			case VHU_EP_CONN:
				if (ep->fd >= 0)
					vhu_ctrl_readable(ep->dev,
							  evs[i].events);
				break;
			}
		}
		/* After the batch: an unregister frees a device that a later
		 * event of the same batch could still point to. */
		if (wake)
			vhu_ctrl_run_cmds();
		if (vhu_ctrl.nparked)
			vhu_ctrl_resume_parked();
		if (vhu_dev_resets_pending)
			vhu_ctrl_retry_resets();
		/* Periodic work at its own pace, also while parked
		 * messages shorten the wait. */
		if (rte_get_timer_cycles() >= vhu_ctrl.next_tick) {
			vhu_ctrl.next_tick = rte_get_timer_cycles() +
				rte_get_timer_hz() * VHU_CTRL_TICK_MS / 1000;
			vhu_ctrl_tick();
		}
	}
	return NULL;
}

static int
vhu_ctrl_ensure_started(void)
{
	int ret = 0;

	pthread_mutex_lock(&vhu_ctrl.lock);
	if (vhu_ctrl.started)
		goto out;
	vhu_sync_init();
	/* Failure is logged; unmaps then run here, as they used to. */
	(void)vhu_unmap_start();
	/* Once a process; failure is logged (a shrinking front-end could
	 * then crash us). */
	(void)vhu_guard_install();
	vhu_ctrl.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vhu_ctrl.epfd < 0) {
		ret = -errno;
		vhu_unmap_stop();
		goto out;
	}
	vhu_ctrl.wake_ep.kind = VHU_EP_WAKE;
	vhu_ctrl.wake_ep.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vhu_ctrl.wake_ep.fd < 0 ||
	    (ret = vhu_ctrl_epoll_add(&vhu_ctrl.wake_ep)) != 0) {
		ret = ret ? ret : -errno;
		goto fail;
	}
	ret = rte_ctrl_thread_create(&vhu_ctrl.thread, "vhu-ctrl", NULL,
				     vhu_ctrl_main, NULL);
	if (ret != 0) {
		ret = -ret;
		VHU_LOG(ERR, "cannot create the control thread: %s",
			strerror(-ret));
		goto fail;
	}
	vhu_ctrl.started = true;
	goto out;
fail:
	vhu_unmap_stop();
	if (vhu_ctrl.wake_ep.fd >= 0)
		close(vhu_ctrl.wake_ep.fd);
	close(vhu_ctrl.epfd);
	vhu_ctrl.epfd = -1;
out:
	pthread_mutex_unlock(&vhu_ctrl.lock);
	return ret;
}

/* Run a command on the control thread and wait for its result; on the
 * control thread itself (a callback), run it at once, except unregister,
 * which waits for the end of the current event batch. */
static int
vhu_ctrl_call(enum vhu_cmd_kind kind, struct vhu_device *dev)
{
	struct vhu_cmd local = { .kind = kind, .dev = dev };
	struct vhu_cmd *cmd = &local;
	uint64_t one = 1;
	int ret;

	ret = vhu_ctrl_ensure_started();
	if (ret != 0)
		return ret;
	if (vhu_ctrl_on_thread()) {
		if (kind != VHU_CMD_UNREGISTER) {
			vhu_ctrl_run_cmd(cmd);
			return cmd->result;
		}
		cmd = calloc(1, sizeof(*cmd));
		if (cmd == NULL)
			return -ENOMEM;
		*cmd = local;
		cmd->detached = true;
	} else {
		sem_init(&cmd->done, 0, 0);
	}
	pthread_mutex_lock(&vhu_ctrl.lock);
	TAILQ_INSERT_TAIL(&vhu_ctrl.cmds, cmd, next);
	pthread_mutex_unlock(&vhu_ctrl.lock);
	if (write(vhu_ctrl.wake_ep.fd, &one, sizeof(one)) < 0)
		VHU_LOG(ERR, "wake fd: %s", strerror(errno));
	if (cmd->detached)
		return 0;
	while (sem_wait(&cmd->done) != 0 && errno == EINTR)
		;
	sem_destroy(&cmd->done);
	return cmd->result;
}

int
vhu_ctrl_register(struct vhu_device *dev)
{
	int ret;

	if (vhu_ctrl_on_thread())
		return vhu_ctrl_call(VHU_CMD_REGISTER, dev);
	pthread_mutex_lock(&vhu_ctrl.lifecycle);
	ret = vhu_ctrl_call(VHU_CMD_REGISTER, dev);
	pthread_mutex_unlock(&vhu_ctrl.lifecycle);
	return ret;
}

/*
 * With the last device gone, end the control thread, so that no thread
 * of ours runs into rte_eal_cleanup() (the PMD's devices are removed by
 * it) or the process's exit. The next register starts a new one.
 * Called with the lifecycle lock held, off the control thread.
 */
static void
vhu_ctrl_stop_if_idle(void)
{
	if (!vhu_ctrl.started || vhu_ctrl_call(VHU_CMD_STOP, NULL) != 0)
		return;
	pthread_join(vhu_ctrl.thread, NULL);
	/* The last devices' memory is unmapped before unregister returns. */
	vhu_unmap_stop();
	pthread_mutex_lock(&vhu_ctrl.lock);
	close(vhu_ctrl.wake_ep.fd);
	close(vhu_ctrl.epfd);
	vhu_ctrl.wake_ep.fd = -1;
	vhu_ctrl.epfd = -1;
	vhu_ctrl.quit = false;
	vhu_ctrl.started = false;
	pthread_mutex_unlock(&vhu_ctrl.lock);
}

int
vhu_ctrl_start(struct vhu_device *dev)
{
	return vhu_ctrl_call(VHU_CMD_START, dev);
}

int
vhu_ctrl_unregister(struct vhu_device *dev)
{
	int ret;

	if (vhu_ctrl_on_thread())
		return vhu_ctrl_call(VHU_CMD_UNREGISTER, dev);
	pthread_mutex_lock(&vhu_ctrl.lifecycle);
	ret = vhu_ctrl_call(VHU_CMD_UNREGISTER, dev);
	vhu_ctrl_stop_if_idle();
	pthread_mutex_unlock(&vhu_ctrl.lifecycle);
	return ret;
}

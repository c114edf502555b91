/* SPDX-License-Identifier: BSD-3-Clause */
/* The front-end farm (vhu_fe_farm.h): a child obeying one-byte commands
 * on a pipe, answering each with one byte, the count of failures. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vhu_fe.h"
#include "vhu_fe_farm.h"

#define FARM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FARM_CONNECT 'c'
#define FARM_DISCONNECT 'd'
#define FARM_QUIT 'q'

struct farm_slice {
	struct vhu_fe **fes;
	unsigned int first, count;
	char cmd;
	unsigned int failed;
};

static void *
farm_slice_run(void *arg)
{
	struct farm_slice *s = arg;

	for (unsigned int i = s->first; i < s->first + s->count; i++) {
		if (s->cmd == FARM_CONNECT) {
			if (vhu_fe_connect(s->fes[i]) != 0 ||
			    vhu_fe_setup(s->fes[i]) != 0)
				s->failed++;
		} else {
			vhu_fe_disconnect(s->fes[i]);
		}
	}
	return NULL;
}

/* The child: create the front-ends, then obey commands until quit. */
static int
farm_child(const char (*paths)[108], unsigned int n, bool packed,
		int timeout_ms, int cmd_fd, int ack_fd)
{
	static struct vhu_fe *fes[VHU_FE_FARM_MAX];
	struct farm_slice slices[VHU_FE_FARM_THREADS];
	pthread_t th[VHU_FE_FARM_THREADS];
	unsigned int i, failed = 0;
	char cmd;

	for (i = 0; i < n; i++) {
		struct vhu_fe_config fc;

		vhu_fe_config_default(&fc);
		fc.path = paths[i];
		fc.timeout_ms = timeout_ms;
		fc.packed = packed;
		if (vhu_fe_create(&fc, &fes[i]) != 0)
			failed++;
	}
	if (failed != 0)
		return 1;
	while (read(cmd_fd, &cmd, 1) == 1 && cmd != FARM_QUIT) {
		uint8_t ack;

		failed = 0;
		for (i = 0; i < VHU_FE_FARM_THREADS; i++) {
			/* Even slices; the first n % threads one larger. */
			unsigned int base = n / VHU_FE_FARM_THREADS;
			unsigned int extra = n % VHU_FE_FARM_THREADS;

			slices[i] = (struct farm_slice){
				.fes = fes, .cmd = cmd,
				.first = i * base + FARM_MIN(i, extra),
				.count = base + (i < extra),
			};
			if (pthread_create(&th[i], NULL, farm_slice_run,
					   &slices[i]) != 0)
				return 1;
		}
		for (i = 0; i < VHU_FE_FARM_THREADS; i++) {
			pthread_join(th[i], NULL);
			failed += slices[i].failed;
		}
		ack = (uint8_t)(failed < 255 ? failed : 255);
		if (write(ack_fd, &ack, 1) != 1)
			return 1;
	}
	for (i = 0; i < n; i++)
		vhu_fe_destroy(fes[i]);
	return 0;
}

int
vhu_fe_farm_start(struct vhu_fe_farm *farm, const char (*paths)[108],
		unsigned int n, bool packed, int timeout_ms)
{
	int cmd_pipe[2], ack_pipe[2], err;
	pid_t child;

	if (n == 0 || n > VHU_FE_FARM_MAX)
		return -EINVAL;
	if (pipe(cmd_pipe) != 0)
		return -errno;
	if (pipe(ack_pipe) != 0) {
		err = -errno;
		close(cmd_pipe[0]);
		close(cmd_pipe[1]);
		return err;
	}
	/* A child that died makes our writes fail (-1), not kill us. */
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		close(cmd_pipe[1]);
		close(ack_pipe[0]);
		_exit(farm_child(paths, n, packed, timeout_ms, cmd_pipe[0],
				 ack_pipe[1]));
	}
	err = child < 0 ? -errno : 0;
	close(cmd_pipe[0]);
	close(ack_pipe[1]);
	if (err != 0) {
		close(cmd_pipe[1]);
		close(ack_pipe[0]);
		return err;
	}
	farm->child = child;
	farm->cmd_fd = cmd_pipe[1];
	farm->ack_fd = ack_pipe[0];
	return 0;
}

static int
farm_do(struct vhu_fe_farm *farm, char cmd)
{
	uint8_t ack;

	if (write(farm->cmd_fd, &cmd, 1) != 1 ||
	    read(farm->ack_fd, &ack, 1) != 1)
		return -1;
	return ack;
}

/* Reap the child, killing it if it has not ended within 10 s. */
static int
farm_reap(pid_t child)
{
	int status = 0;

	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(child, &status, WNOHANG);

		if (r == child)
			return status;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return -1;
}

int
vhu_fe_farm_connect(struct vhu_fe_farm *farm)
{
	return farm_do(farm, FARM_CONNECT);
}

int
vhu_fe_farm_disconnect(struct vhu_fe_farm *farm)
{
	return farm_do(farm, FARM_DISCONNECT);
}

int
vhu_fe_farm_stop(struct vhu_fe_farm *farm)
{
	int status;

	if (write(farm->cmd_fd, &(char){ FARM_QUIT }, 1) != 1)
		kill(farm->child, SIGKILL);
	close(farm->cmd_fd);
	close(farm->ack_fd);
	status = farm_reap(farm->child);
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
		0 : -1;
}

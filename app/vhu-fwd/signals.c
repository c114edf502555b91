/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGINT and SIGTERM ask vhu-fwd to stop: the handler only records the
 * signal; main's loop sees it within a millisecond and shuts down in
 * order (main.c). A second signal while shutting down changes nothing.
 */
#include <signal.h>
#include <string.h>

#include "fwd.h"

static volatile sig_atomic_t fwd_quit_signal;

static void
on_signal(int sig)
{
	if (fwd_quit_signal == 0)
		fwd_quit_signal = sig;
}

void
fwd_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
fwd_signals_quit(void)
{
	return fwd_quit_signal;
}

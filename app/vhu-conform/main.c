/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-conform: check a vhost-user net back-end against the vhost-user
 * spec from the front-end's side. The back-end must loop guest TX back to
 * guest RX (stock testpmd in io mode with one vhost port does); nothing
 * else is asked of it. One line per check, a closing count line, exit 1
 * on any failure, optional JUnit XML. doc/conformance.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "conform.h"

struct result {
	const struct conform_check *check;
	enum conform_verdict verdict;
	char why[sizeof(((struct conform *)0)->why)];
};

static const struct conform_check *const check_tables[] = {
	conform_ring_checks, conform_proto_checks, conform_data_checks,
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: vhu-conform --socket PATH [options]\n"
"Checks the vhost-user back-end on PATH; it must loop guest TX back to\n"
"guest RX (e.g. dpdk-testpmd --forward-mode=io with one vhost port).\n"
"  --socket PATH       the back-end's vhost-user socket\n"
"  --listen            listen on PATH, the back-end connects (its client mode)\n"
"  --backend-pid PID   watch the back-end process: alive, fd count\n"
"  --checks LIST       comma-separated check ids (default: all; --list)\n"
"  --packed            packed virtqueues (VIRTIO_F_RING_PACKED)\n"
"  --junit FILE        write the results as JUnit XML\n"
"  --timeout S         one wait: connect, a reply, frames (default 5)\n"
"  --max-frame N       largest frame the integrity check sends, 60..9000\n"
"                      (default 9000; 1514 for a back-end with MTU 1500)\n"
"  --list              list the checks and exit\n"
"  --verbose           progress on stderr\n"
"Prints PASS/FAIL/SKIP <check>: <what it saw> per check and a closing\n"
"line 'N passed, N failed, N skipped'; exit 1 on any failure, 2 on a\n"
"usage error.\n");
}

static const struct conform_check *
find_check(const char *id)
{
	for (size_t t = 0; t < sizeof(check_tables) / sizeof(check_tables[0]); t++)
		for (const struct conform_check *k = check_tables[t]; k->id; k++)
			if (strcmp(k->id, id) == 0)
				return k;
	return NULL;
}

static void
xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static int
write_junit(const char *path, const char *socket, const struct result *r,
	    unsigned int n, const unsigned int count[3])
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "vhu-conform: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuite name=\"vhu-conform\" tests=\"%u\" failures=\"%u\" "
		"skipped=\"%u\" errors=\"0\" hostname=\"", n,
		count[CONFORM_FAIL], count[CONFORM_SKIP]);
	xml_escaped(f, socket);
	fputs("\">\n", f);
	for (unsigned int i = 0; i < n; i++) {
		fprintf(f, "  <testcase classname=\"vhu-conform\" name=\"%s\">",
			r[i].check->id);
		if (r[i].verdict == CONFORM_PASS) {
			fputs("<system-out>", f);
			xml_escaped(f, r[i].why);
			fputs("</system-out>", f);
		} else {
			fputs(r[i].verdict == CONFORM_FAIL ? "<failure message=\"" :
			      "<skipped message=\"", f);
			xml_escaped(f, r[i].why);
			fputs("\"/>", f);
		}
		fputs("</testcase>\n", f);
	}
	fputs("</testsuite>\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

/* Parse --checks into sel (NULL-terminated). 0 or -1 (unknown id). */
static int
select_checks(const char *list, const struct conform_check **sel, size_t max)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t n = 0;
	int rc = 0;

	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && n + 1 < max;
	     tok = strtok_r(NULL, ",", &save)) {
		sel[n] = find_check(tok);
		if (sel[n] == NULL) {
			fprintf(stderr, "vhu-conform: no check '%s' (--list)\n", tok);
			rc = -1;
			break;
		}
		n++;
	}
	sel[n] = NULL;
	free(copy);
	return rc;
}

static const char *const verdict_names[] = { "PASS", "FAIL", "SKIP" };

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", no_argument, NULL, 'l' },
		{ "backend-pid", required_argument, NULL, 'p' },
		{ "checks", required_argument, NULL, 'c' },
		{ "packed", no_argument, NULL, 'P' },
		{ "junit", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-frame", required_argument, NULL, 'm' },
		{ "list", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct conform_check *sel[64];
	struct result results[64];
	struct conform c = { .timeout_ms = 5000,
			     .max_frame = CONFORM_FRAME_MAX };
	struct vhu_fe_config cfg;
	const char *checks = NULL, *junit = NULL;
	unsigned int count[3] = { 0 }, n = 0;
	bool list = false;
	char *end;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c.socket = optarg; break;
		case 'l': c.listen = true; break;
		case 'p':
			c.backend_pid = (pid_t)strtol(optarg, &end, 10);
			if (*end != '\0' || c.backend_pid <= 0) {
				fprintf(stderr, "vhu-conform: bad pid '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c': checks = optarg; break;
		case 'P': c.packed = true; break;
		case 'j': junit = optarg; break;
		case 't': {
			double sec = strtod(optarg, &end);

			/* Checked before the conversion: inf, nan or a huge
			 * value do not fit an int. */
			if (*end != '\0' || !(sec >= 0.001 && sec <= 3600)) {
				fprintf(stderr, "vhu-conform: bad timeout '%s' "
					"(0.001..3600 s)\n", optarg);
				return 2;
			}
			c.timeout_ms = (int)(sec * 1000);
			break;
		}
		case 'm': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || optarg[0] == '-' ||
			    v < VHU_FE_FRAME_MIN || v > CONFORM_FRAME_MAX) {
				fprintf(stderr, "vhu-conform: bad frame size '%s' "
					"(%u..%u)\n", optarg, VHU_FE_FRAME_MIN,
					CONFORM_FRAME_MAX);
				return 2;
			}
			c.max_frame = (unsigned int)v;
			break;
		}
		case 'L': list = true; break;
		case 'v': c.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (list) {
		for (size_t t = 0; t < sizeof(check_tables) / sizeof(check_tables[0]); t++)
			for (const struct conform_check *k = check_tables[t]; k->id; k++)
				printf("%-14s %s\n", k->id, k->what);
		return 0;
	}
	if (c.socket == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (checks != NULL) {
		if (select_checks(checks, sel, 64) < 0)
			return 2;
	} else {
		for (size_t t = 0; t < sizeof(check_tables) / sizeof(check_tables[0]); t++)
			for (const struct conform_check *k = check_tables[t]; k->id; k++)
				sel[n++] = k;
		sel[n] = NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The front-end library's own messages (a closed connection, a
	 * refused request) are what the checks expect to provoke: only
	 * with --verbose. */
	if (!c.verbose)
		vhu_fe_set_log_stream(NULL);

	vhu_fe_config_default(&cfg);
	cfg.path = c.socket;
	cfg.listen = c.listen;
	cfg.timeout_ms = c.timeout_ms;
	cfg.packed = c.packed;
	c.features = (1ull << VIRTIO_F_VERSION_1) |
		(1ull << VIRTIO_NET_F_MRG_RXBUF) |
		(1ull << VHU_F_PROTOCOL_FEATURES) |
		(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	cfg.features = c.features;
	/* Room for the jumbo frame in one TX buffer. */
	cfg.tx_buf_size = (CONFORM_FRAME_MAX + 12 + 63) / 64 * 64;
	rc = vhu_fe_create(&cfg, &c.fe);
	if (rc < 0) {
		fprintf(stderr, "vhu-conform: cannot create the front-end: %s\n",
			strerror(-rc));
		return 1;
	}
	c.frame = malloc(CONFORM_FRAME_MAX);
	c.scratch = vhu_fe_mem_alloc(vhu_fe_get_mem(c.fe), 4096, 4096);
	if (c.frame == NULL || c.scratch == NULL) {
		fprintf(stderr, "vhu-conform: out of memory\n");
		return 1;
	}
	c.scratch_gpa = vhu_fe_mem_to_gpa(vhu_fe_get_mem(c.fe), c.scratch, 4096);

	for (n = 0; sel[n] != NULL; n++) {
		struct result *r = &results[n];

		r->check = sel[n];
		c.why[0] = '\0';
		conform_log(&c, "check %s", sel[n]->id);
		if (!conform_backend_alive(&c)) {
			r->verdict = CONFORM_SKIP;
			snprintf(c.why, sizeof(c.why), "the back-end is gone");
		} else {
			r->verdict = sel[n]->run(&c);
			conform_close(&c);
			if (r->verdict != CONFORM_FAIL && !conform_backend_alive(&c))
				r->verdict = conform_say(&c, CONFORM_FAIL,
					"the back-end died during the check");
		}
		snprintf(r->why, sizeof(r->why), "%s", c.why);
		count[r->verdict]++;
		printf("%s %s: %s\n", verdict_names[r->verdict], r->check->id,
		       r->why);
		fflush(stdout);
	}
	printf("%u passed, %u failed, %u skipped\n", count[CONFORM_PASS],
	       count[CONFORM_FAIL], count[CONFORM_SKIP]);
	vhu_fe_destroy(c.fe);
	free(c.frame);
	if (junit != NULL && write_junit(junit, c.socket, results, n, count) < 0)
		return 1;
	return count[CONFORM_FAIL] ? 1 : 0;
}

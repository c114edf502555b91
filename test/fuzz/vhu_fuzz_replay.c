/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main() for a fuzz target outside libFuzzer: run every input file named
 * on the command line (directories: every file in them, in name order)
 * through LLVMFuzzerTestOneInput once. The plain and sanitizer builds
 * (gcc) replay the committed corpora this way, so every finding that
 * became a corpus entry is a regression test in all three builds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vhu_fuzz.h"

/* Targets without one-time set-up do not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned int replayed;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path,
			strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* At least one byte, so an empty input has a valid pointer. */
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	replayed++;
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	int n, i, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char file[4096];

		if (names[i]->d_name[0] != '.' && rc == 0) {
			snprintf(file, sizeof(file), "%s/%s", path,
				 names[i]->d_name);
			rc = replay_file(file);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i]) != 0)
			return 1;
	printf("%s: %u inputs replayed, no finding\n", argv[0], replayed);
	return 0;
}

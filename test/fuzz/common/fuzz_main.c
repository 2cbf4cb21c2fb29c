/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver for fuzz targets when libFuzzer is not available (gcc builds):
 * runs every seed file given on the command line (files or folders), then
 * `-runs=N` deterministic mutations of them (byte flips, truncations,
 * splices, interesting values), so the fuzz suite exercises each target
 * under ASan/UBSan with any compiler. With clang, the same target links
 * against libFuzzer instead and this file is not used.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 1024
#define FUZZ_MAX_INPUT 65536

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static unsigned nb_seeds;

static void add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL || nb_seeds == MAX_SEEDS) {
		if (f)
			fclose(f);
		return;
	}
	buf = malloc(FUZZ_MAX_INPUT);
	n = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	seeds[nb_seeds] = buf;
	seed_len[nb_seeds++] = n;
}

static void add_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz: %s: not found\n", path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(path);
		return;
	}
	d = opendir(path);
	while (d && (de = readdir(d)) != NULL) {
		char p[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		add_file(p);
	}
	if (d)
		closedir(d);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One mutation of a copy of seed s into out; returns its length. */
static size_t mutate(uint8_t *out, unsigned s)
{
	static const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0x3f, 0x40, 0x10};
	size_t len = seed_len[s];
	unsigned ops = 1 + (unsigned)(next() % 4);

	memcpy(out, seeds[s], len);
	for (unsigned i = 0; i < ops; i++) {
		size_t pos = len ? (size_t)(next() % len) : 0;

		switch (next() % 6) {
		case 0: /* flip a bit */
			if (len)
				out[pos] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* interesting byte */
			if (len)
				out[pos] = interesting[next() % sizeof(interesting)];
			break;
		case 2: /* truncate */
			len = pos;
			break;
		case 3: { /* splice another seed's tail */
			unsigned o = (unsigned)(next() % nb_seeds);
			size_t from = seed_len[o] ? (size_t)(next() % seed_len[o]) : 0;
			size_t n = seed_len[o] - from;

			if (pos + n > FUZZ_MAX_INPUT)
				n = FUZZ_MAX_INPUT - pos;
			memcpy(out + pos, seeds[o] + from, n);
			len = pos + n;
			break;
		}
		case 4: /* random byte */
			if (len)
				out[pos] = (uint8_t)next();
			break;
		default: /* 16/32-bit little-endian extreme */
			if (pos + 4 <= len) {
				uint32_t v = (next() & 1) ? 0xffffffffu : 0x80000000u;

				memcpy(out + pos, &v, 4);
			}
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	unsigned long runs = 2000;
	static uint8_t buf[FUZZ_MAX_INPUT];

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0)
			runs = strtoul(argv[i] + 6, NULL, 10);
		else if (argv[i][0] == '-')
			continue; /* libFuzzer flags we do not implement */
		else
			add_path(argv[i]);
	}
	if (nb_seeds == 0) {
		fprintf(stderr, "fuzz: no seed inputs given\n");
		return 2;
	}
	for (unsigned s = 0; s < nb_seeds; s++)
		LLVMFuzzerTestOneInput(seeds[s], seed_len[s]);
	for (unsigned long r = 0; r < runs; r++) {
		size_t n = mutate(buf, (unsigned)(next() % nb_seeds));
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		memcpy(copy, buf, n);
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
	}
	printf("fuzz: %u seeds and %lu mutations ran clean\n", nb_seeds, runs);
	for (unsigned s = 0; s < nb_seeds; s++)
		free(seeds[s]);
	return 0;
}

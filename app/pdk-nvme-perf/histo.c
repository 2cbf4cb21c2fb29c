/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram in TSC ticks: exact below 32, then 16 buckets per
 * power of two (each within 6.25% of its values), 1024 buckets for all of
 * 64 bits. Each worker keeps its own; they are merged for the report.
 */
#include "perf.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned msb;

	if (v < 32)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
	return 32 + (msb - 5) * 16 + (unsigned)((v >> (msb - 4)) & 15);
}

uint64_t histo_bucket_low(unsigned i)
{
	unsigned msb;

	if (i < 32)
		return i;
	msb = (i - 32) / 16 + 5;
	return (1ull << msb) | ((uint64_t)((i - 32) % 16) << (msb - 4));
}

void histo_add(struct histo *h, uint64_t v)
{
	h->b[bucket_of(v)]++;
}

void histo_merge(struct histo *dst, const struct histo *src)
{
	for (unsigned i = 0; i < HISTO_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

/* The upper end of the bucket holding the pct-th percentile. */
uint64_t histo_percentile(const struct histo *h, double pct)
{
	uint64_t total = 0, cum = 0, want;

	for (unsigned i = 0; i < HISTO_BUCKETS; i++)
		total += h->b[i];
	if (total == 0)
		return 0;
	want = (uint64_t)((double)total * pct / 100.0 + 0.999999);
	for (unsigned i = 0; i < HISTO_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= want && h->b[i])
			return i + 1 < HISTO_BUCKETS ? histo_bucket_low(i + 1) - 1 : UINT64_MAX;
	}
	return UINT64_MAX;
}

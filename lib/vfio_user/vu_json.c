/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON of VFIO_USER_VERSION: just enough to read and write
 * {"capabilities": {"max_msg_fds": N, ...}}. The reader is a bounded
 * recursive-descent validator over (pointer, length): it never reads past
 * the length, never allocates, and rejects anything that is not JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pdk_vfio_user.h"

#define JSON_DEPTH_MAX 16

struct json {
	const char *p;
	const char *end;
	int depth;
};

/* A value that skip_value() or read_uint() consumed. */
struct json_span {
	const char *start;
	size_t len;
};

static int skip_value(struct json *j);

void pdk_vfio_user_caps_init(struct pdk_vfio_user_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->max_msg_fds = VFIO_USER_DEF_MAX_MSG_FDS;
	c->max_data_xfer_size = VFIO_USER_DEF_MAX_DATA_XFER;
	c->max_dma_maps = VFIO_USER_DEF_MAX_DMA_MAPS;
	c->pgsizes = VFIO_USER_DEF_PGSIZES;
}

int pdk_vfio_user_caps_write(const struct pdk_vfio_user_caps *c, char *buf,
			     size_t size)
{
	int n = snprintf(buf, size,
			 "{\"capabilities\":{\"max_msg_fds\":%" PRIu32
			 ",\"max_data_xfer_size\":%" PRIu64
			 ",\"pgsizes\":%" PRIu64 ",\"max_dma_maps\":%" PRIu32 "}}",
			 c->max_msg_fds, c->max_data_xfer_size, c->pgsizes,
			 c->max_dma_maps);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	if (c->nr_iova_ranges == 0 || c->nr_iova_ranges > PDK_VFIO_USER_IOVA_RANGES_MAX)
		return c->nr_iova_ranges ? -EINVAL : n;
	n -= 2; /* reopen the capabilities object */
	for (uint32_t i = 0; i < c->nr_iova_ranges; i++) {
		int k = snprintf(buf + n, size - (size_t)n, "%s[%" PRIu64 ",%" PRIu64 "]",
				 i ? "," : ",\"pdk_iova_ranges\":[", c->iova_ranges[i].start,
				 c->iova_ranges[i].end);

		if (k < 0 || (size_t)k >= size - (size_t)n)
			return -ENOSPC;
		n += k;
	}
	if ((size_t)n + 3 >= size)
		return -ENOSPC;
	memcpy(buf + n, "]}}", 4);
	return n + 3;
}

static void skip_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Consume `c` after optional whitespace. */
static int expect(struct json *j, char c)
{
	skip_ws(j);
	if (j->p >= j->end || *j->p != c)
		return -EINVAL;
	j->p++;
	return 0;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* A string; `out` gets its raw bytes between the quotes (escapes kept). */
static int read_string(struct json *j, struct json_span *out)
{
	if (expect(j, '"'))
		return -EINVAL;
	out->start = j->p;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;

		if (c < 0x20)
			return -EINVAL;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return -EINVAL;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			if (j->end - j->p < 4 || !is_hex(j->p[0]) || !is_hex(j->p[1]) ||
			    !is_hex(j->p[2]) || !is_hex(j->p[3]))
				return -EINVAL;
			j->p += 4;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return -EINVAL;
		}
	}
	if (j->p >= j->end)
		return -EINVAL;
	out->len = (size_t)(j->p - out->start);
	j->p++;
	return 0;
}

static int skip_digits(struct json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -EINVAL;
}

/* A number per the JSON grammar; `out` gets its text. */
static int read_number(struct json *j, struct json_span *out)
{
	skip_ws(j);
	out->start = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (skip_digits(j))
		return -EINVAL;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (skip_digits(j))
			return -EINVAL;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (skip_digits(j))
			return -EINVAL;
	}
	out->len = (size_t)(j->p - out->start);
	return 0;
}

static int skip_literal(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -EINVAL;
	j->p += n;
	return 0;
}

/*
 * Walk the members of an object, calling `member` for each key with the
 * parser positioned at its value; `member` must consume the value.
 */
static int walk_object(struct json *j,
		       int (*member)(struct json *j, const struct json_span *key,
				     void *arg),
		       void *arg)
{
	struct json_span key;
	int rc;

	if (expect(j, '{') || ++j->depth > JSON_DEPTH_MAX)
		return -EINVAL;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (read_string(j, &key) || expect(j, ':'))
			return -EINVAL;
		rc = member(j, &key, arg);
		if (rc)
			return rc;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (expect(j, '}'))
			return -EINVAL;
		j->depth--;
		return 0;
	}
}

static int skip_member(struct json *j, const struct json_span *key, void *arg)
{
	(void)key;
	(void)arg;
	return skip_value(j);
}

/* Walk the elements of an array; `elem` must consume each value. */
static int walk_array(struct json *j, int (*elem)(struct json *j, void *arg), void *arg)
{
	if (expect(j, '[') || ++j->depth > JSON_DEPTH_MAX)
		return -EINVAL;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (elem(j, arg))
			return -EINVAL;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (expect(j, ']'))
			return -EINVAL;
		j->depth--;
		return 0;
	}
}

static int skip_elem(struct json *j, void *arg)
{
	(void)arg;
	return skip_value(j);
}

static int skip_value(struct json *j)
{
	struct json_span s;

	skip_ws(j);
	if (j->p >= j->end)
		return -EINVAL;
	switch (*j->p) {
	case '{':
		return walk_object(j, skip_member, NULL);
	case '[':
		return walk_array(j, skip_elem, NULL);
	case '"':
		return read_string(j, &s);
	case 't':
		return skip_literal(j, "true");
	case 'f':
		return skip_literal(j, "false");
	case 'n':
		return skip_literal(j, "null");
	default:
		return read_number(j, &s);
	}
}

/* A non-negative integer that fits in 64 bits (no sign, fraction, exponent). */
static int read_uint(struct json *j, uint64_t *out)
{
	struct json_span s;
	uint64_t v = 0;

	if (read_number(j, &s))
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d;

		if (s.start[i] < '0' || s.start[i] > '9')
			return -EINVAL;
		d = (unsigned)(s.start[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int key_is(const struct json_span *key, const char *name)
{
	return key->len == strlen(name) && memcmp(key->start, name, key->len) == 0;
}

/* [start, end] */
struct range_pair {
	uint64_t v[2];
	unsigned n;
};

static int range_bound(struct json *j, void *arg)
{
	struct range_pair *p = arg;

	if (p->n == 2)
		return -EINVAL;
	return read_uint(j, &p->v[p->n++]);
}

static int iova_range(struct json *j, void *arg)
{
	struct pdk_vfio_user_caps *c = arg;
	struct range_pair p = {.n = 0};
	const struct pdk_vfio_user_iova_range *prev =
		c->nr_iova_ranges ? &c->iova_ranges[c->nr_iova_ranges - 1] : NULL;

	if (walk_array(j, range_bound, &p) || p.n != 2 || p.v[0] > p.v[1] ||
	    c->nr_iova_ranges == PDK_VFIO_USER_IOVA_RANGES_MAX ||
	    (prev && p.v[0] <= prev->end))
		return -EINVAL;
	c->iova_ranges[c->nr_iova_ranges++] =
		(struct pdk_vfio_user_iova_range){p.v[0], p.v[1]};
	return 0;
}

static int cap_member(struct json *j, const struct json_span *key, void *arg)
{
	struct pdk_vfio_user_caps *c = arg;
	uint64_t v;

	if (key_is(key, "max_msg_fds") || key_is(key, "max_dma_maps")) {
		if (read_uint(j, &v) || v > UINT32_MAX)
			return -EINVAL;
		if (key_is(key, "max_msg_fds"))
			c->max_msg_fds = (uint32_t)v;
		else
			c->max_dma_maps = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "max_data_xfer_size") || key_is(key, "pgsizes")) {
		if (read_uint(j, &v) || v == 0)
			return -EINVAL;
		if (key_is(key, "pgsizes"))
			c->pgsizes = v;
		else
			c->max_data_xfer_size = v;
		return 0;
	}
	if (key_is(key, "pdk_iova_ranges")) {
		c->nr_iova_ranges = 0;
		if (walk_array(j, iova_range, c) || c->nr_iova_ranges == 0)
			return -EINVAL;
		return 0;
	}
	return skip_value(j); /* migration, twin_socket, write_multiple, ... */
}

static int top_member(struct json *j, const struct json_span *key, void *arg)
{
	if (key_is(key, "capabilities"))
		return walk_object(j, cap_member, arg);
	return skip_value(j);
}

int pdk_vfio_user_caps_parse(const char *json, size_t len,
			     struct pdk_vfio_user_caps *c)
{
	struct pdk_vfio_user_caps tmp = *c;
	struct json j;

	if (json == NULL)
		return -EINVAL;
	j = (struct json){.p = json, .end = json + len, .depth = 0};
	if (walk_object(&j, top_member, &tmp))
		return -EINVAL;
	skip_ws(&j);
	if (j.p != j.end)
		return -EINVAL; /* trailing garbage */
	*c = tmp;
	return 0;
}

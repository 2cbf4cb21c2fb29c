/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small JSON writer for the tools' --json output: nested objects and
 * arrays, commas placed by the writer, strings escaped. Header-only, for
 * the programs in app/.
 */
#ifndef APP_JSON_H
#define APP_JSON_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth;
	bool first[16]; /* nothing written yet at this depth */
};

static inline void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
}

static inline void jw_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Separator and key (NULL inside arrays) before a value. */
static inline void jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (key != NULL) {
		jw_string(w->f, key);
		fputc(':', w->f);
	}
}

static inline void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->f);
	if (w->depth < 15)
		w->first[++w->depth] = true;
}

static inline void jw_close(struct jw *w, char bracket)
{
	fputc(bracket, w->f);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		fputc('\n', w->f);
}

static inline void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_string(w->f, v);
}

static inline void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static inline void jw_double(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	fprintf(w->f, "%.3f", v);
}

static inline void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

#endif /* APP_JSON_H */

/* yamlout: node trees (and JSON values, through node_from_json) -> YAML documents through libyaml's emitter (never by pasting
 * text). Strings are plain only when every YAML 1.1 and 1.2 reader takes them back as
 * the same string; anything else is double-quoted, which libyaml escapes. */
#include "yamlout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct yamlout {
	yaml_emitter_t emitter;
	struct buf *out;
	int write_err; /* buf error seen by the output handler, 0 when none */
	bool finished;
	bool failed; /* a document or the end failed: y can only be freed */
	struct arena *arena; /* yamlout_document's JSON -> node conversions; NULL until used */
};

static int write_handler(void *data, unsigned char *bytes, size_t size)
{
	struct yamlout *y = data;
	int r = buf_append(y->out, bytes, size);
	if (r < 0) {
		y->write_err = r;
		return 0;
	}
	return 1;
}

/* Maps a failed yaml_emitter_emit/flush to our error codes. */
static int emitter_error(const struct yamlout *y)
{
	if (y->write_err)
		return y->write_err;
	if (y->emitter.error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	return -EIO;
}

/* Hands ev to the emitter, which owns it from then on (even on failure). */
static int emit(struct yamlout *y, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&y->emitter, ev))
		return emitter_error(y);
	return 0;
}

int yamlout_new(struct buf *out, struct yamlout **ret)
{
	struct yamlout *y = calloc(1, sizeof *y);
	if (!y)
		return -ENOMEM;
	if (!yaml_emitter_initialize(&y->emitter)) {
		free(y);
		return -ENOMEM;
	}
	y->out = out;
	yaml_emitter_set_output(&y->emitter, write_handler, y);
	yaml_emitter_set_unicode(&y->emitter, 1);
	yaml_emitter_set_width(&y->emitter, -1); /* never fold long values */
	yaml_emitter_set_indent(&y->emitter, 2);
	yaml_emitter_set_break(&y->emitter, YAML_LN_BREAK);

	yaml_event_t ev;
	int r = -ENOMEM;
	if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
		r = emit(y, &ev);
	if (r < 0) {
		yamlout_free(y);
		return r;
	}
	*ret = y;
	return 0;
}

void yamlout_free(struct yamlout *y)
{
	if (!y)
		return;
	yaml_emitter_delete(&y->emitter);
	arena_free(y->arena);
	free(y);
}

/* Byte classes for plain_is_safe. B_LOOK: a byte the scan must look at (controls, space,
 * ':', DEL, non-ASCII); every other byte is plain inside a scalar. B_BAD_FIRST: starts
 * something other than a plain scalar, or (+ - .) may start a number (+1, -.5, .inf); a
 * leading digit may start an int, float, sexagesimal or timestamp (0123, 0x1F, 1_000,
 * 1e3, 12:30, 2001-12-14): all quoted. B_WORD: may start a reserved word that no
 * B_BAD_FIRST byte starts (y n t f o, either case). */
enum { B_LOOK = 1, B_BAD_FIRST = 2, B_WORD = 4 };
#define L B_LOOK
#define F B_BAD_FIRST
#define W B_WORD
#define LF (B_LOOK | B_BAD_FIRST)
static const unsigned char byte_class[256] = {
	/* 0x00 */ L, L, L, L, L, L, L, L, L, LF, L, L, L, L, L, L,
	/* 0x10 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0x20 */ LF, F, F, F, 0, F, F, F, 0, 0, F, F, F, F, F, 0,
	/* 0x30 */ F, F, F, F, F, F, F, F, F, F, LF, 0, F, F, F, F,
	/* 0x40 */ F, 0, 0, 0, 0, 0, W, 0, 0, 0, 0, 0, 0, 0, W, W,
	/* 0x50 */ 0, 0, 0, 0, W, 0, 0, 0, 0, W, 0, F, 0, F, 0, 0,
	/* 0x60 */ F, 0, 0, 0, 0, 0, W, 0, 0, 0, 0, 0, 0, 0, W, W,
	/* 0x70 */ 0, 0, 0, 0, W, 0, 0, 0, 0, W, 0, F, F, F, F, L,
	/* 0x80 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0x90 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xa0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xb0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xc0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xd0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xe0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	/* 0xf0 */ L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
};
#undef L
#undef F
#undef W
#undef LF

/* Whether s is a word a YAML 1.1 reader resolves to a bool or a null: y n yes no true
 * false on off null, compared case-insensitively, which covers more than the spec lists
 * (quoting too much is safe). Called for strings whose first byte is B_WORD: the other
 * reserved words (~ = <<) start with a B_BAD_FIRST byte and are quoted already. The
 * bytes are lowered with | 0x20, which maps no byte but a letter to a lowercase letter. */
static bool is_reserved_word(const char *s, size_t len)
{
	char low[5];
	if (len > sizeof low) /* the longest is "false" */
		return false;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)(s[i] | 0x20);
	switch (len) {
	case 1:
		return low[0] == 'y' || low[0] == 'n';
	case 2:
		return memcmp(low, "no", 2) == 0 || memcmp(low, "on", 2) == 0;
	case 3:
		return memcmp(low, "yes", 3) == 0 || memcmp(low, "off", 3) == 0;
	case 4:
		return memcmp(low, "true", 4) == 0 || memcmp(low, "null", 4) == 0;
	case 5:
		return memcmp(low, "false", 5) == 0;
	}
	return false;
}

/* NEL (U+0085), LS (U+2028) and PS (U+2029): line breaks to YAML readers, which libyaml
 * would otherwise write raw inside single quotes. */
static bool is_unicode_break(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n >= 2 && u[0] == 0xc2 && u[1] == 0x85)
		return true;
	return n >= 3 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9);
}

/* Whether the B_LOOK byte s[i] (not the last byte when it is ' ' or ':') may stay in a
 * plain scalar. */
static bool look_is_plain(const char *s, size_t i, size_t len)
{
	unsigned char c = (unsigned char)s[i];
	if (c >= 0x80)
		return !is_unicode_break(s + i, len - i);
	if (c == ':')
		return s[i + 1] != ' ';
	if (c == ' ')
		return s[i + 1] != '#';
	return false; /* controls and DEL */
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
/* Nonzero when a byte of w is zero. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/* The high bit of each byte of w that is B_LOOK: >= 0x80, below '!', DEL or ':'. For a
 * byte below 0x80, + 1 sets the high bit only for DEL and + 0x5f only from '!' up, with
 * no carry into the next byte; a carry or borrow into a byte only comes from a flagged
 * byte. So the mask is exact as a test for any (in either byte order). Eight bytes per
 * test instead of one: this scan is most of what yamlout adds to libyaml. */
static uint64_t word_look(uint64_t w)
{
	return ((w | (w + ONES) | ~(w + ONES * 0x5f)) & HIGHS) | HAS_ZERO(w ^ (ONES * ':'));
}

static uint64_t load_word(const char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof w);
	return w;
}

/* The bytes of s (0 < len < 8) packed into a word without reading past s: its first
 * and last 4 bytes (overlapping) from 4 bytes on, else its first, middle and last byte
 * with 'a' (plain) filling the rest. Every byte of s is in the word. */
static uint64_t short_word(const char *s, size_t len)
{
	if (len >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, sizeof lo);
		memcpy(&hi, s + len - 4, sizeof hi);
		return lo | (uint64_t)hi << 32;
	}
	const unsigned char *u = (const unsigned char *)s;
	return (ONES * 'a' & ~0xffffffULL) | u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16;
}

/* Whether s[from..to) may stay in a plain scalar of length len, byte by byte. */
static bool bytes_are_plain(const char *s, size_t from, size_t to, size_t len)
{
	for (size_t i = from; i < to; i++)
		if ((byte_class[(unsigned char)s[i]] & B_LOOK) && !look_is_plain(s, i, len))
			return false;
	return true;
}

/* Whether the 8 bytes s[i..i+8) may stay in a plain scalar of length len. */
static bool word_is_plain(const char *s, size_t i, size_t len)
{
	return word_look(load_word(s + i)) == 0 || bytes_are_plain(s, i, i + 8, len);
}

/* Whether every byte of s may stay in a plain scalar (the first and last byte are
 * checked apart: see plain_is_safe). */
static bool all_bytes_plain(const char *s, size_t len)
{
	if (len < 8)
		return word_look(short_word(s, len)) == 0 || bytes_are_plain(s, 0, len, len);
	size_t i = 0;
	for (; len - i > 8; i += 8)
		if (!word_is_plain(s, i, len))
			return false;
	/* the rest as the last 8 bytes (overlapping checked ones) */
	return word_is_plain(s, len - 8, len);
}

/* true when s may be written as a plain scalar and read back as exactly this string.
 * Conservative: anything doubtful is quoted. Non-ASCII text is left to libyaml, which
 * quotes what it cannot write plain (line separators, BOM). */
static bool plain_is_safe(const char *s, size_t len)
{
	if (len == 0)
		return false;
	unsigned char first = byte_class[(unsigned char)s[0]];
	if ((first & B_BAD_FIRST) || ((first & B_WORD) && is_reserved_word(s, len)))
		return false;
	unsigned char last = (unsigned char)s[len - 1];
	if (last == ' ' || last == ':')
		return false;
	return all_bytes_plain(s, len);
}

static int emit_scalar(struct yamlout *y, const char *s, size_t len, bool is_string)
{
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
	if (is_string && !plain_is_safe(s, len))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style))
		return -ENOMEM;
	return emit(y, &ev);
}

/* A real as text that every reader takes for a float: always with a '.' before any
 * exponent (YAML 1.1 floats need one). */
static int emit_real(struct yamlout *y, double v)
{
	char num[64], text[80];
	int n = snprintf(num, sizeof num, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof num)
		return -EIO;
	if (strpbrk(num, ".ni")) /* has a point already, or nan/inf (not JSON, not expected) */
		return emit_scalar(y, num, (size_t)n, false);
	char *e = strchr(num, 'e');
	size_t mant = e ? (size_t)(e - num) : (size_t)n;
	n = snprintf(text, sizeof text, "%.*s.0%s", (int)mant, num, e ? e : "");
	if (n < 0 || (size_t)n >= sizeof text)
		return -EIO;
	return emit_scalar(y, text, (size_t)n, false);
}

/* An integer as decimal text, written backwards into a local buffer: a printf call per
 * integer cost more than the rest of its event. */
static int emit_int(struct yamlout *y, long long v)
{
	char num[32];
	char *p = num + sizeof num;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return emit_scalar(y, p, (size_t)(num + sizeof num - p), false);
}

/* A scalar node other than a string (emit_item writes those). */
static int emit_scalar_node(struct yamlout *y, const struct node *v)
{
	switch (v->kind) {
	case NODE_INT:
		return emit_int(y, v->v.i);
	case NODE_REAL:
		return emit_real(y, v->v.real);
	case NODE_BOOL:
		return v->v.b ? emit_scalar(y, "true", 4, false) : emit_scalar(y, "false", 5, false);
	case NODE_NULL:
		return emit_scalar(y, "null", 4, false);
	case NODE_STR:
	case NODE_MAP:
	case NODE_SEQ:
		break;
	}
	return -EINVAL;
}

static bool is_list(const struct node *v)
{
	return v->kind == NODE_MAP || v->kind == NODE_SEQ;
}

static int emit_list(struct yamlout *y, const struct node *list, int depth);

/* v at nesting depth (the root is 0). Strings, the most common, go straight to
 * emit_scalar, and the recursion (with its stack frame) is per mapping or sequence, not
 * per scalar. */
static inline int emit_item(struct yamlout *y, const struct node *v, int depth)
{
	if (v->kind == NODE_STR)
		return emit_scalar(y, v->v.str.s, v->v.str.len, true);
	return is_list(v) ? emit_list(y, v, depth) : emit_scalar_node(y, v);
}

/* A mapping or sequence at nesting depth: its start event, its items, its end event. */
static int emit_list(struct yamlout *y, const struct node *list, int depth)
{
	yaml_event_t ev;
	bool map = list->kind == NODE_MAP;
	if (depth > YAMLOUT_MAX_DEPTH || (list->v.list.first && depth + 1 > YAMLOUT_MAX_DEPTH))
		return -EINVAL; /* the list or its items (at depth + 1) too deep */
	if (!(map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
		  : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)))
		return -ENOMEM;
	int r = emit(y, &ev);
	for (const struct node_item *it = list->v.list.first; r == 0 && it; it = it->next) {
		if (map)
			r = emit_scalar(y, it->key, it->key_len, true);
		if (r == 0)
			r = emit_item(y, it->val, depth + 1);
	}
	if (r < 0)
		return r;
	if (!(map ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev)))
		return -ENOMEM;
	return emit(y, &ev);
}

/* The events of one document, flushed to out. */
static int emit_document(struct yamlout *y, const struct node *value)
{
	yaml_event_t ev;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0))
		return -ENOMEM;
	int r = emit(y, &ev);
	if (r == 0)
		r = emit_item(y, value, 0);
	if (r < 0)
		return r;
	if (!yaml_document_end_event_initialize(&ev, 1))
		return -ENOMEM;
	r = emit(y, &ev);
	if (r == 0 && !yaml_emitter_flush(&y->emitter))
		r = emitter_error(y);
	return r;
}

int yamlout_node(struct yamlout *y, const struct node *value)
{
	if (y->finished || y->failed || !value)
		return -EINVAL;
	int r = emit_document(y, value);
	if (r < 0)
		y->failed = true;
	return r;
}

int yamlout_document(struct yamlout *y, const json_t *value)
{
	if (y->finished || y->failed || !value)
		return -EINVAL;
	int r = -ENOMEM;
	if (y->arena || (y->arena = arena_new())) {
		const struct node *n = node_from_json(y->arena, value);
		r = n ? yamlout_node(y, n) : -ENOMEM;
		arena_reset(y->arena);
	}
	if (r < 0)
		y->failed = true;
	return r;
}

int yamlout_set_output(struct yamlout *y, struct buf *out)
{
	if (y->finished || y->failed || !out)
		return -EINVAL;
	y->out = out;
	return 0;
}

int yamlout_finish(struct yamlout *y)
{
	if (y->finished)
		return 0;
	if (y->failed)
		return -EINVAL;
	yaml_event_t ev;
	if (!yaml_stream_end_event_initialize(&ev))
		return -ENOMEM;
	int r = emit(y, &ev);
	if (r == 0 && !yaml_emitter_flush(&y->emitter))
		r = emitter_error(y);
	if (r == 0)
		y->finished = true;
	else
		y->failed = true;
	return r;
}

int yamlout_dump(struct buf *out, const json_t *value)
{
	struct yamlout *y = NULL;
	int r = yamlout_new(out, &y);
	if (r < 0)
		return r;
	r = yamlout_document(y, value);
	if (r == 0)
		r = yamlout_finish(y);
	yamlout_free(y);
	return r;
}

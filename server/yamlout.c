/* yamlout: node trees (and JSON values, through node_from_json) -> YAML documents, written
 * straight into the output buffer in the one block style of the bundles, the bytes
 * libyaml's emitter writes for the same events. Strings are plain only when every YAML 1.1
 * and 1.2 reader takes them back as the same string; anything else is double-quoted. */
#include "yamlout.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yamlout {
	struct buf *out;
	bool finished;
	bool failed; /* a document failed: y can only be freed */
	struct arena *arena; /* yamlout_document's JSON -> node conversions; NULL until used */
};

/* ---- UTF-8 ---- */

/* The character at s (n > 0 bytes left, s[0] >= 0x80): its width (2 to 4) and code
 * point in *cp, or 0 when s does not start a valid UTF-8 sequence (RFC 3629: overlong
 * forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t w = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (w == 0 || s[0] >= 0xf8 || w > n)
		return 0;
	uint32_t c = s[0] & (0x7f >> w);
	for (size_t k = 1; k < w; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[k] & 0x3f);
	}
	if (c < min[w] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return w;
}

/* Whether YAML (and so libyaml) writes the non-ASCII character cp as it is: printable
 * (not a C1 control, BOM, U+FFFE or U+FFFF; libyaml counts nothing past U+FFFF as
 * printable) and not a line break (NEL U+0085 is a C1 control; LS, PS). */
static bool prints_as_is(uint32_t cp)
{
	return cp >= 0xa0 && cp < 0xfffe && cp != 0x2028 && cp != 0x2029 && cp != 0xfeff;
}

/* ---- the plain check ---- */

/* Byte classes. B_LOOK: a byte the scan must look at (controls, space, ':', DEL,
 * non-ASCII); every other byte is plain inside a scalar. B_BAD_FIRST: starts something
 * other than a plain scalar, or (+ - .) may start a number (+1, -.5, .inf); a leading
 * digit may start an int, float, sexagesimal or timestamp (0123, 0x1F, 1_000, 1e3, 12:30,
 * 2001-12-14): all quoted. B_WORD: may start a reserved word that no B_BAD_FIRST byte
 * starts (y n t f o, either case). */
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

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
/* Nonzero when a byte of w is zero. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/* The high bit of each byte of w that is B_LOOK: >= 0x80, below '!', DEL or ':'. For a
 * byte below 0x80, + 1 sets the high bit only for DEL and + 0x5f only from '!' up, with
 * no carry into the next byte; a carry or borrow into a byte only comes from a flagged
 * byte. So the mask is exact as a test for any (in either byte order). Eight bytes per
 * test instead of one. */
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

/* Where the byte-by-byte check of s must start: len when no byte of s is B_LOOK, else a
 * character boundary at or before the first B_LOOK byte (everything before it is plain
 * ASCII). */
static size_t first_look(const char *s, size_t len)
{
	if (len < 8)
		return word_look(short_word(s, len)) ? 0 : len;
	size_t i = 0;
	for (; len - i > 8; i += 8)
		if (word_look(load_word(s + i)))
			return i;
	/* the rest as the last 8 bytes (overlapping checked ones, all ASCII) */
	return word_look(load_word(s + len - 8)) ? len - 8 : len;
}

/* Whether s[i..len) may stay in a plain scalar of length len (its last byte is neither
 * ' ' nor ':', checked before), byte by byte. */
static bool rest_is_plain(const char *s, size_t i, size_t len)
{
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (!(byte_class[c] & B_LOOK)) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			uint32_t cp;
			size_t w = utf8_decode((const unsigned char *)s + i, len - i, &cp);
			if (w == 0 || !prints_as_is(cp))
				return false;
			i += w;
			continue;
		}
		if (c == ':' ? s[i + 1] == ' ' : c == ' ' ? s[i + 1] == '#' : true)
			return false; /* ": ", " #", controls and DEL */
		i++;
	}
	return true;
}

/* yamlout_is_plain, inline for the writer. */
static inline bool is_plain(const char *s, size_t len)
{
	if (len == 0)
		return false;
	unsigned char first = byte_class[(unsigned char)s[0]];
	if ((first & B_BAD_FIRST) || ((first & B_WORD) && is_reserved_word(s, len)))
		return false;
	unsigned char last = (unsigned char)s[len - 1];
	if (last == ' ' || last == ':')
		return false;
	size_t i = first_look(s, len);
	return i == len || rest_is_plain(s, i, len);
}

bool yamlout_is_plain(const char *s, size_t len)
{
	return is_plain(s, len);
}

/* Whether s holds a line break (LF, CR, NEL, LS, PS): such a key is written as a "? "
 * key, as libyaml does. */
static bool has_break(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r')
			return true;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
			return true;
		if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return true;
	}
	return false;
}

/* Whether the len bytes of s are valid UTF-8 (RFC 3629, as utf8_decode checks). */
static bool utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t w = (unsigned char)s[i] < 0x80 ? 1 : utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (w == 0)
			return false;
		i += w;
	}
	return true;
}

/* ---- the text of scalars that are not strings ---- */

/* An integer as decimal text, written backwards from the end of tmp: a printf call per
 * integer costs more than writing it. Returns where the text starts. */
static const char *int_text(long long v, char tmp[YAMLOUT_SCALAR_MAX], size_t *ret_len)
{
	char *end = tmp + YAMLOUT_SCALAR_MAX, *p = end;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	*ret_len = (size_t)(end - p);
	return p;
}

/* A finite real as text that every reader takes for a float: always with a '.' before
 * any exponent (YAML 1.1 floats need one): "%.17g", with ".0" put in where it has no
 * point. NULL when v is not finite (no JSON number, no float Kubernetes reads). */
static const char *real_text(double v, char tmp[YAMLOUT_SCALAR_MAX], size_t *ret_len)
{
	char num[32];
	if (!isfinite(v))
		return NULL;
	int n = snprintf(num, sizeof num, "%.17g", v); /* at most 24 bytes */
	if (n < 0 || (size_t)n >= sizeof num)
		return NULL;
	size_t len = (size_t)n;
	if (memchr(num, '.', len)) {
		memcpy(tmp, num, len);
	} else {
		const char *e = memchr(num, 'e', len);
		size_t mant = e ? (size_t)(e - num) : len;
		memcpy(tmp, num, mant);
		memcpy(tmp + mant, ".0", 2);
		memcpy(tmp + mant + 2, num + mant, len - mant);
		len += 2;
	}
	*ret_len = len;
	return tmp;
}

/* The text of a scalar node other than a string; NULL for a real that is not finite. */
static const char *scalar_text(const struct node *v, char tmp[YAMLOUT_SCALAR_MAX], size_t *ret_len)
{
	switch (v->kind) {
	case NODE_INT:
		return int_text(v->v.i, tmp, ret_len);
	case NODE_REAL:
		return real_text(v->v.real, tmp, ret_len);
	case NODE_BOOL:
		*ret_len = v->v.b ? 4 : 5;
		return v->v.b ? "true" : "false";
	case NODE_NULL:
		*ret_len = 4;
		return "null";
	case NODE_STR:
	case NODE_MAP:
	case NODE_SEQ:
		break;
	}
	return NULL;
}

int yamlout_scalar(const struct node *n, char tmp[YAMLOUT_SCALAR_MAX], const char **ret_text,
		   size_t *ret_len, bool *ret_plain)
{
	if (!n || n->kind == NODE_MAP || n->kind == NODE_SEQ)
		return -EINVAL;
	if (n->kind == NODE_STR) {
		if (!utf8_valid(n->v.str.s, n->v.str.len))
			return -EINVAL;
		*ret_text = n->v.str.s;
		*ret_len = n->v.str.len;
		*ret_plain = is_plain(n->v.str.s, n->v.str.len);
		return 0;
	}
	size_t len;
	const char *text = scalar_text(n, tmp, &len);
	if (!text)
		return -EINVAL;
	*ret_text = text;
	*ret_len = len;
	*ret_plain = true;
	return 0;
}

/* ---- the writer ---- */

/* Where one document goes: p is the next byte in out->data, end the end of the room
 * taken there (within out's capacity, keeping the NUL, and its maximum). out->len is
 * set when the document ends, or cut back when it fails. */
struct writer {
	struct buf *out;
	char *p, *end;
};

/* Points p and end at the room out has after its length. */
static void take_room(struct writer *w)
{
	struct buf *b = w->out;
	size_t left = b->cap - 1 - b->len;
	if (left > b->max - b->len)
		left = b->max - b->len;
	w->p = b->data + b->len;
	w->end = w->p + left;
}

/* Makes room for n more bytes: the slow path of room(). */
static int grow(struct writer *w, size_t n)
{
	struct buf *b = w->out;
	b->len = (size_t)(w->p - b->data);
	int r = buf_reserve(b, n);
	if (r == 0)
		take_room(w);
	return r;
}

/* Makes room for n more bytes. Callers ask for no more than they then write, so -E2BIG
 * means the document does not fit. */
static inline int room(struct writer *w, size_t n)
{
	return (size_t)(w->end - w->p) >= n ? 0 : grow(w, n);
}

/* Appends n bytes to the room taken. */
static inline void put(struct writer *w, const char *s, size_t n)
{
	memcpy(w->p, s, n);
	w->p += n;
}

/* A line break and up to 2 * YAMLOUT_MAX_DEPTH spaces of indentation: a list at depth d
 * (which has items, so d < YAMLOUT_MAX_DEPTH) indents them by at most 2 * d. A fixed
 * array: the longest indentation there can be, copied from instead of written byte by
 * byte. */
#define SPACES16 "                "
static const char line_start[] = "\n" SPACES16 SPACES16 SPACES16 SPACES16 SPACES16 SPACES16 SPACES16 SPACES16;
_Static_assert(sizeof line_start >= 2 + 2 * YAMLOUT_MAX_DEPTH, "line_start holds every indentation");

/* Appends the n bytes of s, taking room for them. */
static inline int put_bytes(struct writer *w, const char *s, size_t n)
{
	int r = room(w, n);
	if (r == 0)
		put(w, s, n);
	return r;
}

static int put_break(struct writer *w, int indent)
{
	return put_bytes(w, line_start, 1 + (size_t)indent);
}

/* What \ and one letter stand for in a double-quoted scalar, by ASCII code (0: \xXX). */
static const char short_escape[128] = {
	[0x00] = '0', [0x07] = 'a', [0x08] = 'b', [0x09] = 't', [0x0a] = 'n', [0x0b] = 'v',
	[0x0c] = 'f', [0x0d] = 'r', [0x1b] = 'e', ['"'] = '"', ['\\'] = '\\',
};

/* Whether the ASCII byte c is written as it is inside double quotes. */
static bool quotes_as_is(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The high bit of each byte of w that is not written as it is inside double quotes:
 * >= 0x80, below ' ', DEL, '"' or '\\' (exact as a test for any, as word_look). */
static uint64_t word_escapes(uint64_t w)
{
	return ((w | (w + ONES) | ~(w + ONES * 0x60)) & HIGHS) | HAS_ZERO(w ^ (ONES * '"')) |
	       HAS_ZERO(w ^ (ONES * '\\'));
}

/* The length of the run of s[i..len) written as it is inside double quotes, 8 bytes at a
 * time while there are 8. */
static size_t quoted_run(const char *s, size_t i, size_t len)
{
	size_t start = i;
	while (len - i >= 8 && !word_escapes(load_word(s + i)))
		i += 8;
	while (i < len && quotes_as_is((unsigned char)s[i]))
		i++;
	return i - start;
}

/* The escape of code point cp (not printed as is) into esc, as libyaml writes it: \ and
 * a letter, or \x, \u or \U and 2, 4 or 8 uppercase hex digits. Returns its length. */
static size_t escape(uint32_t cp, char esc[10])
{
	static const char hex[] = "0123456789ABCDEF";
	char letter = cp < 0x80 ? short_escape[cp] : cp == 0x85 ? 'N' : cp == 0x2028 ? 'L' : cp == 0x2029 ? 'P' : 0;
	esc[0] = '\\';
	if (letter) {
		esc[1] = letter;
		return 2;
	}
	size_t digits = cp <= 0xff ? 2 : cp <= 0xffff ? 4 : 8;
	esc[1] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
	for (size_t k = 0; k < digits; k++)
		esc[2 + k] = hex[(cp >> (4 * (digits - 1 - k))) & 0xf];
	return 2 + digits;
}

/* s double-quoted: every character YAML prints as it is, the others escaped. -EINVAL
 * when s is not valid UTF-8. Takes room run by run: an escape may be shorter than its
 * character (LS is 3 bytes, "\L" 2). */
static int put_quoted(struct writer *w, const char *s, size_t len)
{
	int r = put_bytes(w, "\"", 1);
	for (size_t i = 0; r == 0 && i < len;) {
		size_t run = quoted_run(s, i, len);
		if ((r = put_bytes(w, s + i, run)) < 0 || (i += run) == len)
			break;
		uint32_t cp = (unsigned char)s[i];
		size_t used = 1;
		if (cp >= 0x80 && (used = utf8_decode((const unsigned char *)s + i, len - i, &cp)) == 0)
			return -EINVAL;
		char esc[10];
		r = cp >= 0x80 && prints_as_is(cp) ? put_bytes(w, s + i, used) : put_bytes(w, esc, escape(cp, esc));
		i += used;
	}
	return r == 0 ? put_bytes(w, "\"", 1) : r;
}

/* " " and s, plain or double-quoted: a scalar after an indicator. */
static int put_string(struct writer *w, const char *s, size_t len)
{
	if (!is_plain(s, len)) {
		int r = put_bytes(w, " ", 1);
		return r == 0 ? put_quoted(w, s, len) : r;
	}
	int r = room(w, 1 + len);
	if (r == 0) {
		*w->p++ = ' ';
		put(w, s, len);
	}
	return r;
}

/* A key at the start of its line: "key:", or for a key libyaml writes as a "? " key
 * (longer than 128 bytes, or holding a line break) "? key", a line break to indent and
 * ":". plain: whether the key is written plain. *ret_explicit tells which. */
static int put_key(struct writer *w, const char *k, size_t len, bool plain, int indent, bool *ret_explicit)
{
	int r;
	*ret_explicit = len > 128 || (!plain && has_break(k, len));
	if (*ret_explicit) {
		if ((r = put_bytes(w, "?", 1)) == 0)
			r = put_string(w, k, len);
		if (r == 0)
			r = put_break(w, indent);
	} else if (plain) {
		r = put_bytes(w, k, len);
	} else {
		r = put_quoted(w, k, len);
	}
	return r == 0 ? put_bytes(w, ":", 1) : r;
}

/* The most common entry, a plain key (not a "? " one) with a plain string value, on a
 * line of its own, taking room once: "\n", indent, "key: value". 1 when written, 0 when
 * the entry is not of that kind, or a negative error. */
static int put_plain_entry(struct writer *w, const struct node_item *it, int indent, bool key_plain)
{
	const struct node *v = it->val;
	if (!key_plain || it->key_len > 128 || v->kind != NODE_STR || !is_plain(v->v.str.s, v->v.str.len))
		return 0;
	int r = room(w, 1 + (size_t)indent + it->key_len + 2 + v->v.str.len);
	if (r < 0)
		return r;
	put(w, line_start, 1 + (size_t)indent);
	put(w, it->key, it->key_len);
	put(w, ": ", 2);
	put(w, v->v.str.s, v->v.str.len);
	return 1;
}

/* Where a value is written: after "---" (the root), after "key:", after "-" (an item),
 * or after the ":" of a "? " key. */
enum place { AT_ROOT, IN_MAP, IN_SEQ, AFTER_EXPLICIT_KEY };

static int put_value(struct writer *w, const struct node *v, int indent, enum place at, int depth);

/* The entries of a mapping at column indent: each on a line of its own, but for the
 * first when inline (after "- " or ": ", where it follows on the same line). */
static int put_map(struct writer *w, const struct node *map, int indent, bool inline_first, int depth)
{
	int r = 0;
	for (const struct node_item *it = map->v.list.first; r == 0 && it; it = it->next) {
		bool explicit_key, key_plain = is_plain(it->key, it->key_len);
		bool first_inline = it == map->v.list.first && inline_first;
		if (!first_inline && (r = put_plain_entry(w, it, indent, key_plain)) != 0) {
			r = r < 0 ? r : 0;
			continue;
		}
		r = first_inline ? put_bytes(w, " ", 1) : put_break(w, indent);
		if (r == 0)
			r = put_key(w, it->key, it->key_len, key_plain, indent, &explicit_key);
		if (r == 0)
			r = put_value(w, it->val, indent, explicit_key ? AFTER_EXPLICIT_KEY : IN_MAP, depth + 1);
	}
	return r;
}

/* The items of a sequence with its dashes at column indent, the first inline or not as
 * for put_map. */
static int put_seq(struct writer *w, const struct node *seq, int indent, bool inline_first, int depth)
{
	int r = 0;
	for (const struct node_item *it = seq->v.list.first; r == 0 && it; it = it->next) {
		if (it == seq->v.list.first && inline_first)
			r = put_bytes(w, " -", 2);
		else if ((r = put_break(w, indent)) == 0)
			r = put_bytes(w, "-", 1);
		if (r == 0)
			r = put_value(w, it->val, indent, IN_SEQ, depth + 1);
	}
	return r;
}

/* A mapping or sequence at nesting depth, placed as libyaml places block collections:
 * at the root from column 0 on the next line; after "key:" on the next line, a mapping
 * indented by 2 and a sequence not indented; after "-" or the ":" of a "? " key indented
 * by 2 from that indicator, the first entry on its line. Empty ones in flow style. */
static int put_list(struct writer *w, const struct node *list, int indent, enum place at, int depth)
{
	bool map = list->kind == NODE_MAP;
	if (depth > YAMLOUT_MAX_DEPTH || (list->v.list.first && depth + 1 > YAMLOUT_MAX_DEPTH))
		return -EINVAL; /* the list or its items (at depth + 1) too deep */
	if (!list->v.list.first)
		return put_bytes(w, map ? " {}" : " []", 3);
	bool inline_first = at == IN_SEQ || at == AFTER_EXPLICIT_KEY;
	int child = at == AT_ROOT ? 0 : at == IN_MAP && !map ? indent : indent + 2;
	return map ? put_map(w, list, child, inline_first, depth) : put_seq(w, list, child, inline_first, depth);
}

/* v at nesting depth (the root is 0), after the indicator that places it (at), in a
 * collection at column indent. Strings, the most common, come first. */
static int put_value(struct writer *w, const struct node *v, int indent, enum place at, int depth)
{
	if (v->kind == NODE_STR)
		return put_string(w, v->v.str.s, v->v.str.len);
	if (v->kind == NODE_MAP || v->kind == NODE_SEQ)
		return put_list(w, v, indent, at, depth);
	char tmp[YAMLOUT_SCALAR_MAX];
	size_t len;
	const char *text = scalar_text(v, tmp, &len);
	if (!text)
		return -EINVAL;
	int r = room(w, 1 + len);
	if (r == 0) {
		*w->p++ = ' ';
		put(w, text, len);
	}
	return r;
}

/* "---", the root value, a line break: one document into out. On failure out is cut
 * back to its length before. */
static int write_document(struct buf *out, const struct node *value)
{
	struct writer w = {out, NULL, NULL};
	size_t start = out->len;
	int r = buf_reserve(out, 4); /* "---\n" at least: the room every document takes */
	if (r == 0) {
		take_room(&w);
		put(&w, "---", 3);
		r = put_value(&w, value, 0, AT_ROOT, 0);
	}
	if (r == 0)
		r = put_bytes(&w, "\n", 1);
	if (r == 0) {
		out->len = (size_t)(w.p - out->data);
		out->data[out->len] = '\0';
	} else if (out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

/* ---- the stream ---- */

int yamlout_new(struct buf *out, struct yamlout **ret)
{
	struct yamlout *y = calloc(1, sizeof *y);
	if (!y)
		return -ENOMEM;
	y->out = out;
	*ret = y;
	return 0;
}

void yamlout_free(struct yamlout *y)
{
	if (!y)
		return;
	arena_free(y->arena);
	free(y);
}

int yamlout_node(struct yamlout *y, const struct node *value)
{
	if (y->finished || y->failed || !value)
		return -EINVAL;
	int r = write_document(y->out, value);
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
	y->finished = true;
	return 0;
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

/* fuzz_yamlout: libFuzzer harness for the YAML writer, with libyaml as its judge
 * (tests/support/yamljudge.h). The input drives a builder of one to three random node
 * trees: mappings and sequences (empty ones too) nested up to one level past
 * YAMLOUT_MAX_DEPTH, and scalars of every kind, the strings made of hostile pieces
 * (quotes, ": ", "#", "---", "...", blanks, line breaks, control bytes, BOM, NEL, LS, PS,
 * valid and invalid UTF-8, YAML 1.1 booleans and numbers such as yes, No, on, ~, 0123,
 * 0x1F, 1e3, .inf, 1_000, 12:30), raw input bytes, and long repetitions; keys likewise.
 *
 * It aborts unless: yamlout refuses exactly the trees it must (nested too deep, a string
 * that is not UTF-8, a real that is not finite) and then leaves only the documents
 * before; libyaml's parser reads what was written back as exactly the trees; the bytes
 * equal libyaml's emitter's for the same events; the JSON path writes the same bytes; a
 * buffer too short for the stream takes exactly the documents that fit (-E2BIG). */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamljudge.h"
#include "yamlout.h"

/* ---- reading the input ---- */

struct input {
	const uint8_t *p;
	size_t n;
	size_t nodes; /* nodes built so far: a bound on the work per input */
};

static uint8_t byte(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t word(struct input *in)
{
	uint64_t w = 0;
	for (int i = 0; i < 8; i++)
		w = w << 8 | byte(in);
	return w;
}

/* ---- strings ---- */

#define PIECE(s) {s, sizeof(s) - 1}
static const struct {
	const char *s;
	size_t len;
} pieces[] = {
	PIECE(""), PIECE(" "), PIECE("\t"), PIECE("\n"), PIECE("\r"), PIECE("\r\n"), PIECE(":"), PIECE(": "),
	PIECE(" #"), PIECE("#"), PIECE("'"), PIECE("\""), PIECE("\\"), PIECE("---"), PIECE("..."), PIECE("- "),
	PIECE("? "), PIECE("yes"), PIECE("No"), PIECE("on"), PIECE("OFF"), PIECE("~"), PIECE("null"), PIECE("NULL"),
	PIECE("y"), PIECE("n"), PIECE("true"), PIECE("False"), PIECE("0123"), PIECE("0x1F"), PIECE("0o17"),
	PIECE("0b101"), PIECE("1e3"), PIECE(".inf"), PIECE("-.inf"), PIECE(".NaN"), PIECE("1_000"), PIECE("12:30"),
	PIECE("12:30:00"), PIECE("2001-12-14"), PIECE("+1"), PIECE("-1"), PIECE("1.5"), PIECE("<<"), PIECE("="),
	PIECE("\xef\xbb\xbf"), PIECE("\xc2\x85"), PIECE("\xe2\x80\xa8"), PIECE("\xe2\x80\xa9"), PIECE("\xc2\xa0"),
	PIECE("\xc3\xa9"), PIECE("\xed\x95\x9c"), PIECE("\xf0\x9f\x98\x80"), PIECE("\0"), PIECE("\x01"), PIECE("\x1b"),
	PIECE("\x7f"), PIECE("\xc2\x80"), PIECE("\xef\xbf\xbe"), PIECE("\xed\xa0\x80"), PIECE("\xc0\x80"),
	PIECE("\xff"), PIECE("\xf4\x90\x80\x80"), PIECE("a"), PIECE("word"), PIECE("{"), PIECE("}"), PIECE("["),
	PIECE("]"), PIECE(","), PIECE("&a"), PIECE("*a"), PIECE("!t"), PIECE("%"), PIECE("@"), PIECE("`"),
	PIECE("|"), PIECE(">"), PIECE("app.kubernetes.io/name"), PIECE("http://a:80/x"),
};
#define PIECES (sizeof pieces / sizeof pieces[0])

static int append_piece(struct buf *b, struct input *in)
{
	size_t k = byte(in) % PIECES;
	return buf_append(b, pieces[k].s, pieces[k].len);
}

/* A string from the input into the arena (NUL-terminated; *ret_len its length): one
 * piece, a few pieces, raw input bytes, or a piece repeated up to ~8 KB. */
static const char *string(struct input *in, struct arena *a, size_t *ret_len)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	uint8_t how = byte(in);
	int r = 0;
	if (how < 0x60) {
		r = append_piece(&b, in);
	} else if (how < 0xa0) {
		for (int i = 0, n = 2 + byte(in) % 4; r == 0 && i < n; i++)
			r = append_piece(&b, in);
	} else if (how < 0xe0) {
		size_t len = byte(in) % 24;
		for (size_t i = 0; r == 0 && i < len; i++) {
			char c = (char)byte(in);
			r = buf_append(&b, &c, 1);
		}
	} else {
		size_t k = byte(in) % PIECES, times = 1 + (size_t)byte(in) * 16;
		for (size_t i = 0; r == 0 && i < times && b.len < 8192; i++)
			r = buf_append(&b, pieces[k].s, pieces[k].len);
	}
	char *s = r == 0 ? arena_alloc(a, b.len + 1) : NULL;
	if (s) {
		if (b.len)
			memcpy(s, b.data, b.len);
		s[b.len] = '\0';
	}
	*ret_len = b.len;
	buf_release(&b);
	if (!s)
		abort();
	return s;
}

/* ---- trees ---- */

#define MAX_NODES 3000

static struct node *tree(struct input *in, struct arena *a, int depth);

static bool has_key(const struct node *map, const char *k, size_t len)
{
	for (const struct node_item *it = map->v.list.first; it; it = it->next)
		if (it->key_len == len && memcmp(it->key, k, len) == 0)
			return true;
	return false;
}

/* A mapping or sequence at depth of up to 7 entries (keys never twice: no YAML reader
 * keeps both). */
static struct node *list(struct input *in, struct arena *a, int depth, bool map)
{
	struct node *l = map ? node_map(a) : node_seq(a);
	for (int i = 0, n = byte(in) % 8; l && i < n; i++) {
		size_t len = 0;
		const char *k = map ? string(in, a, &len) : NULL;
		struct node *v = tree(in, a, depth + 1);
		if (map && !has_key(l, k, len))
			l = node_setn(l, k, len, v);
		else if (!map)
			l = node_push(l, v);
	}
	return l;
}

/* A node at depth: collections while the depth and the node budget allow (one level past
 * YAMLOUT_MAX_DEPTH, which must be refused), scalars of every kind. */
static struct node *tree(struct input *in, struct arena *a, int depth)
{
	in->nodes++;
	uint8_t what = byte(in);
	bool deep = depth > YAMLOUT_MAX_DEPTH || in->nodes > MAX_NODES;
	if (what < 0x50 && !deep)
		return list(in, a, depth, what & 1);
	size_t len;
	const char *s;
	uint64_t w;
	double d;
	switch (what % 8) {
	case 0:
		return node_int(a, (long long)word(in));
	case 1:
		w = word(in);
		memcpy(&d, &w, sizeof d);
		return node_real(a, d);
	case 2:
		return node_bool(a, byte(in) & 1);
	case 3:
		return node_null(a);
	default:
		s = string(in, a, &len);
		return node_strn(a, s, len);
	}
}

/* Whether yamlout must write v at depth: no list with items deeper than
 * YAMLOUT_MAX_DEPTH - 1, every scalar one yamlout_scalar takes (UTF-8, finite). */
static bool writable(const struct node *v, int depth)
{
	if (v->kind != NODE_MAP && v->kind != NODE_SEQ) {
		char tmp[YAMLOUT_SCALAR_MAX];
		const char *text;
		size_t len;
		bool plain;
		return yamlout_scalar(v, tmp, &text, &len, &plain) == 0;
	}
	if (depth > YAMLOUT_MAX_DEPTH || (v->v.list.first && depth + 1 > YAMLOUT_MAX_DEPTH))
		return false;
	for (const struct node_item *it = v->v.list.first; it; it = it->next) {
		struct node key = {.kind = NODE_STR, .v.str = {it->key, it->key_len}};
		if ((v->kind == NODE_MAP && !writable(&key, depth + 1)) || !writable(it->val, depth + 1))
			return false;
	}
	return true;
}

/* ---- the checks ---- */

static bool same_bytes(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void fail(const char *what, const struct buf *why, const struct buf *yaml)
{
	fprintf(stderr, "fuzz-yamlout: %s\n%s\n--- yaml:\n%s\n", what, why ? buf_cstr(why) : "",
		yaml ? buf_cstr(yaml) : "");
	abort();
}

/* Writes docs into out (max bytes at most) with one writer, stopping at the first
 * failure: its code, and the number of documents written in *ret_done. */
static int write_docs(const struct node *const *docs, size_t n, struct buf *out, size_t *ret_done)
{
	struct yamlout *y = NULL;
	int r = yamlout_new(out, &y);
	size_t done = 0;
	while (r == 0 && done < n && (r = yamlout_node(y, docs[done])) == 0)
		done++;
	if (r == 0)
		r = yamlout_finish(y);
	yamlout_free(y);
	*ret_done = done;
	return r;
}

/* The same documents through yamlout_document (JSON, converted back): the same bytes. */
static void check_json_path(const struct node *const *docs, size_t n, const struct buf *want)
{
	struct buf b;
	struct yamlout *y = NULL;
	buf_init(&b, BUF_NO_MAX);
	if (yamlout_new(&b, &y) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		json_t *j = node_to_json(docs[i]);
		if (!j || yamlout_document(y, j) != 0)
			fail("the JSON of a written tree is not written", NULL, want);
		json_decref(j);
	}
	yamlout_free(y);
	if (!same_bytes(&b, want))
		fail("the JSON path writes other bytes", &b, want);
	buf_release(&b);
}

/* A buffer of max bytes takes exactly the documents whose ends (ends[i]) fit. */
static void check_short_buffer(const struct node *const *docs, size_t n, const size_t *ends,
			       const struct buf *whole, size_t max)
{
	struct buf b;
	size_t done, fit = 0;
	buf_init(&b, max);
	int r = write_docs(docs, n, &b, &done);
	while (fit < n && ends[fit] <= max)
		fit++;
	if (done != fit || (fit < n && r != -E2BIG) || b.len != (fit ? ends[fit - 1] : 0) ||
	    (b.len && memcmp(b.data, whole->data, b.len) != 0))
		fail("a short buffer does not hold exactly the documents that fit", &b, whole);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size, 0};
	struct arena *a = arena_new();
	const struct node *docs[3];
	size_t n = 1 + byte(&in) % 3, want = 0, done, ends[3];
	uint8_t max_frac = byte(&in);
	for (size_t i = 0; i < n; i++)
		if (!(docs[i] = tree(&in, a, 0)))
			abort();
	while (want < n && writable(docs[want], 0))
		want++;

	struct buf whole, why, ref;
	buf_init(&whole, BUF_NO_MAX);
	buf_init(&why, BUF_NO_MAX);
	buf_init(&ref, BUF_NO_MAX);
	int r = write_docs(docs, n, &whole, &done);
	if (done != want || (want < n ? r != -EINVAL : r != 0))
		fail("yamlout refused a tree it must write, or wrote one it must refuse", NULL, &whole);
	for (size_t i = 0, at = 0; i < done; i++) { /* where each document ends */
		struct buf one;
		buf_init(&one, BUF_NO_MAX);
		if (write_docs(&docs[i], 1, &one, &at) != 0)
			abort();
		ends[i] = (i ? ends[i - 1] : 0) + one.len;
		buf_release(&one);
	}
	if (done && ends[done - 1] != whole.len)
		fail("the stream is not its documents one after the other", NULL, &whole);

	if (yamljudge_read_back(whole.data, whole.len, docs, done, &why) != 0)
		fail("libyaml does not read back the trees", &why, &whole);
	int e = yamljudge_emit(docs, done, &ref);
	if (e != 0 && e != -ENOMEM)
		fail("libyaml's emitter refuses what yamlout wrote", NULL, &whole);
	if (e == 0 && !same_bytes(&ref, &whole))
		fail("not the bytes of libyaml's emitter", &ref, &whole);
	check_json_path(docs, done, &whole);
	if (done)
		check_short_buffer(docs, done, ends, &whole, whole.len * max_frac / 256);

	buf_release(&whole);
	buf_release(&why);
	buf_release(&ref);
	arena_free(a);
	return 0;
}

/* test_yamlout: every tree yamlout writes is judged by libyaml (yamlcheck.h): read back by
 * its parser as exactly the tree (types as a YAML 1.1 reader gives them, none a YAML 1.2
 * reader would take otherwise), and equal to the bytes its emitter writes for the same
 * events. Then what only yamlout does: the exact quoting and layout, refusing what YAML
 * cannot carry, full buffers at every length, every allocation failing in turn. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "allocfail.h"
#include "buf.h"
#include "suites.h"
#include "yamlcheck.h"
#include "yamlout.h"

/* Writes the n trees docs as one stream into out (appending). */
static void write_trees(struct buf *out, const struct node *const *docs, size_t n)
{
	struct yamlout *y = NULL;
	ck_assert_int_eq(yamlout_new(out, &y), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(yamlout_node(y, docs[i]), 0);
	ck_assert_int_eq(yamlout_finish(y), 0);
	yamlout_free(y);
}

/* Writes the trees and has libyaml judge the bytes. */
static void assert_judged(const struct node *const *docs, size_t n)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_trees(&b, docs, n);
	yamlcheck_stream(b.data, b.len, docs, n);
	buf_release(&b);
}

static void assert_json_judged(const json_t *v)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	json_t *docs = json_pack("[O]", v);
	yamlcheck_json_stream(b.data, b.len, docs);
	json_decref(docs);
	buf_release(&b);
}

/* The text after "---\nk: " of the document {k: s} (into b). */
static const char *value_text(struct buf *b, const char *s, size_t len)
{
	struct arena *a = arena_new();
	const struct node *doc = NODE_MAP(a, {"k", node_strn(a, s, len)});
	buf_reset(b);
	write_trees(b, &doc, 1);
	arena_free(a);
	return buf_cstr(b) + strlen("---\nk:");
}

static const char *const nasty[] = {
	"plain", "it's", "say \"hi\"", "'single'", "\"double\"", "a\nb", "a\n", "\n", "a\n\n", "\na",
	"  two\n  lines  \n", "key: value", "a:b", "a:", ":", "a #b", "a#b", "#", "---", "...", "--- a",
	"... a", "-- a", "..a", "한글 text", "emoji 😀", "ünïcödé", "\xc2\xa0nbsp", "\xe2\x80\xa8sep", "a\xe2\x80\xa9" "b",
	"\xc2\x85nel", "\xef\xbb\xbf" "bom", "a\xef\xbf\xbe", "\xef\xbf\xbd", "\xc2\x9f" "c1", " leading", "trailing ", "\ttab",
	"a\tb", "tab\t", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
	"true", "True", "FALSE", "0123", "0o17", "1e3", "1E3", "1.0e+3", "0x1A", "0x1F", "0b101", "1_000", "12:30:00",
	"12:30", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "null", "Null", "NULL", "~", "", "- a",
	"-", "-1", "+1", ".5", ".inf", "-.inf", ".NaN", "1.4.2", "? x", "?", "@x", "`x", "%x", "!x", "!!str", "&x",
	"*x", "|", "|-", ">", ">+", "{a}", "[a]", "{", "]", "a, b", "a,b", "<<", "=", "\r", "a\r\nb", "\x01", "\x1b[0m",
	"a\x7f", "back\\slash", "\\", "x: [1, 2]", "jdbc:mysql://$(DB_HOST):3306/db", "http://user-service:8081",
	"100m", "512Mi", "k8s,prod", "a: b: c", "#!/bin/sh", "a # b", "x #", "a\b\f\v\a",
};

/* Every nasty string as a value, as a key and inside a sequence, in node trees and in
 * JSON (yamlout_document). */
START_TEST(strings_read_back_exactly)
{
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct arena *a = arena_new();
		const struct node *doc = NODE_MAP(a, {"k", node_str(a, nasty[i])}, {nasty[i], node_str(a, "v")},
						  {"list", NODE_SEQ(a, node_str(a, nasty[i]), node_str(a, "end"))});
		ck_assert_ptr_nonnull(doc);
		assert_judged(&doc, 1);
		const struct node *root = node_str(a, nasty[i]); /* a string as the whole document */
		assert_judged(&root, 1);
		json_t *v = json_pack("{s:s, s:s, s:[s, s]}", "k", nasty[i], nasty[i], "v", "list", nasty[i], "end");
		assert_json_judged(v);
		json_decref(v);
		arena_free(a);
	}
}
END_TEST

/* Every byte value inside a string, at its start, middle and end (NUL too: node strings
 * have a length), and the characters YAML does not print: escaped exactly as libyaml
 * escapes them. */
START_TEST(every_byte_and_escape)
{
	static const char *const chars[] = {"\xc2\x80", "\xc2\x85", "\xc2\x9f", "\xc2\xa0", "\xe2\x80\xa8", "\xe2\x80\xa9",
					    "\xef\xbb\xbf", "\xef\xbf\xbe", "\xef\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
					    "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
	struct arena *a = arena_new();
	struct node *seq = node_seq(a);
	for (int c = 0; c < 0x80; c++) {
		const char t[3] = {(char)c, 'x', (char)c}; /* c alone, first, last, twice */
		seq = node_push(seq, node_strn_copy(a, t, 1));
		seq = node_push(seq, node_strn_copy(a, t, 2));
		seq = node_push(seq, node_strn_copy(a, t + 1, 2));
		seq = node_push(seq, node_strn_copy(a, t, 3));
	}
	for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
		seq = node_push(seq, node_str(a, chars[i]));
		seq = node_push(seq, NODE_CAT(a, "a", chars[i], "b"));
	}
	ck_assert_ptr_nonnull(seq);
	const struct node *doc = seq;
	assert_judged(&doc, 1);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_str_eq(value_text(&b, "\0\a\b\t\n\v\f\r\x1b\"\\\x01\x7f", 13),
			 " \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\\"\\\\\\x01\\x7F\"\n");
	ck_assert_str_eq(value_text(&b, "\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\xc2\x9f\xef\xbb\xbf\xf0\x9f\x98\x80", 17),
			 " \"\\N\\L\\P\\x9F\\uFEFF\\U0001F600\"\n");
	ck_assert_str_eq(value_text(&b, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac", 9), " \xc3\xa9t\xc3\xa9 \xe2\x82\xac\n");
	buf_release(&b);
	arena_free(a);
}
END_TEST

/* Bytes YAML cannot carry (not UTF-8, surrogates, past U+10FFFF) are refused, as a value
 * or a key, where a plain string or a quoted one would be written: -EINVAL, and the
 * buffer keeps what it held. */
START_TEST(invalid_utf8_is_refused)
{
	static const char *const bad[] = {"\xc0\x80", "\x80", "a\xff", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
					  "\xf8\x88\x80\x80\x80", "ok\xc3", "\xe0\x80\xaf", "\"\xc3("};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int as_key = 0; as_key < 2; as_key++) {
			struct arena *a = arena_new();
			const struct node *ok = NODE_MAP(a, {"fine", node_str(a, "yes")});
			const struct node *doc = as_key ? NODE_MAP(a, {bad[i], node_int(a, 1)})
							: NODE_MAP(a, {"k", NODE_SEQ(a, node_str(a, bad[i]))});
			struct buf b;
			struct yamlout *y = NULL;
			buf_init(&b, BUF_NO_MAX);
			ck_assert_int_eq(yamlout_new(&b, &y), 0);
			ck_assert_int_eq(yamlout_node(y, ok), 0);
			ck_assert_str_eq(buf_cstr(&b), "---\nfine: \"yes\"\n");
			ck_assert_msg(yamlout_node(y, doc) == -EINVAL, "accepted bad string %zu", i);
			ck_assert_str_eq(buf_cstr(&b), "---\nfine: \"yes\"\n");
			ck_assert_int_eq(yamlout_node(y, ok), -EINVAL); /* failed: nothing more */
			yamlout_free(y);
			const char *text;
			size_t len;
			bool plain;
			char tmp[YAMLOUT_SCALAR_MAX];
			ck_assert_int_eq(yamlout_scalar(node_str(a, bad[i]), tmp, &text, &len, &plain), -EINVAL);
			buf_release(&b);
			arena_free(a);
		}
	}
}
END_TEST

/* The writer may write a string plain only when no reader types it: the judge checks
 * that; here, that ordinary text does stay plain. */
START_TEST(plain_where_it_may_be)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_str_eq(value_text(&b, "plain", 5), " plain\n");
	ck_assert_str_eq(value_text(&b, "yes", 3), " \"yes\"\n");
	ck_assert_str_eq(value_text(&b, "한글 text", 11), " 한글 text\n");
	ck_assert_str_eq(value_text(&b, "a: b", 4), " \"a: b\"\n");
	ck_assert_str_eq(value_text(&b, "a:b #c", 6), " \"a:b #c\"\n");
	ck_assert_str_eq(value_text(&b, "a:b#c", 5), " a:b#c\n");
	ck_assert_str_eq(value_text(&b, "", 0), " \"\"\n");
	ck_assert(yamlout_is_plain("http://user-service:8081", 24));
	ck_assert(!yamlout_is_plain("yEs", 3));
	ck_assert(!yamlout_is_plain("0123", 4));
	ck_assert(!yamlout_is_plain("a\xc2\x85", 3));
	buf_release(&b);
}
END_TEST

/* The scan for what a plain scalar may not hold looks at 8 bytes at a time: each such
 * text, at every offset across several 8-byte words, makes the string quoted; text it
 * may hold (':' or '#' alone, non-ASCII letters) leaves it plain at every offset. */
START_TEST(quoting_at_every_offset)
{
	static const char *const quoted[] = {": ", " #", "\x01", "\x7f", "\n", "\t", "\xc2\x85", "\xe2\x80\xa8",
					     "\xef\xbb\xbf", "\xf0\x9f\x98\x80", "\xc2\x80"};
	static const char *const plain[] = {":", "#", "a:b", "\xc3\xa9", "\xe2\x82\xac", "~", "\xc2\xa0"};
	size_t nq = sizeof quoted / sizeof quoted[0], np = sizeof plain / sizeof plain[0];
	struct buf b, text;
	buf_init(&b, BUF_NO_MAX);
	buf_init(&text, BUF_NO_MAX);
	for (size_t off = 0; off < 20; off++) {
		for (size_t k = 0; k < nq + np; k++) {
			bool want_plain = k >= nq;
			const char *mid = want_plain ? plain[k - nq] : quoted[k];
			buf_reset(&text);
			ck_assert_int_eq(buf_puts(&text, "x"), 0);
			for (size_t i = 0; i < off; i++)
				ck_assert_int_eq(buf_puts(&text, "a"), 0);
			ck_assert_int_eq(buf_puts(&text, mid), 0);
			for (size_t i = 0; i < 20 - off; i++)
				ck_assert_int_eq(buf_puts(&text, "b"), 0);
			const char *out = value_text(&b, text.data, text.len);
			if (want_plain)
				ck_assert_msg(strncmp(out + 1, buf_cstr(&text), text.len) == 0 && out[1 + text.len] == '\n',
					      "'%s' not plain: %s", buf_cstr(&text), out);
			else
				ck_assert_msg(out[1] == '"', "'%s' not quoted: %s", buf_cstr(&text), out);
		}
	}
	buf_release(&b);
	buf_release(&text);
}
END_TEST

START_TEST(scalars_and_structure)
{
	json_t *v = json_loads("{\"z\": 1, \"a\": -42, \"m\": {\"t\": true, \"f\": false, \"n\": null,"
			       " \"r\": 1.5, \"big\": 1e20, \"e\": {}, \"l\": []},"
			       " \"list\": [[1, 2], {\"x\": \"y\"}, \"s\", [], {}, [[{\"deep\": [3]}]]], \"num\": \"8080\"}",
			       0, NULL);
	ck_assert_ptr_nonnull(v);
	assert_json_judged(v);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	ck_assert_str_eq(buf_cstr(&b), "---\nz: 1\na: -42\nm:\n  t: true\n  f: false\n  \"n\": null\n  r: 1.5\n"
				       "  big: 1.0e+20\n  e: {}\n  l: []\nlist:\n- - 1\n  - 2\n- x: \"y\"\n- s\n- []\n- {}\n"
				       "- - - deep:\n      - 3\nnum: \"8080\"\n");
	json_decref(v);
	buf_release(&b);
}
END_TEST

/* Reals: always with a point, so every reader takes them for floats; not finite ones
 * (no JSON number, nothing Kubernetes reads) are refused. */
START_TEST(reals)
{
	static const double ok[] = {0.0, -0.0, 100.0, 0.1, 1e20, -2.5e-300, 1.7976931348623157e308, 5e-324, 123456789.0};
	struct arena *a = arena_new();
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		seq = node_push(seq, node_real(a, ok[i]));
	const struct node *doc = seq;
	assert_judged(&doc, 1);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	write_trees(&b, &doc, 1);
	ck_assert_str_eq(buf_cstr(&b), "---\n- 0.0\n- -0.0\n- 100.0\n- 0.10000000000000001\n- 1.0e+20\n"
				       "- -2.5e-300\n- 1.7976931348623157e+308\n"
				       "- 4.9406564584124654e-324\n- 123456789.0\n");
	static const double bad[] = {INFINITY, -INFINITY, NAN};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct node *d = NODE_MAP(a, {"r", node_real(a, bad[i])});
		struct yamlout *y = NULL;
		buf_reset(&b);
		ck_assert_int_eq(yamlout_new(&b, &y), 0);
		ck_assert_int_eq(yamlout_node(y, d), -EINVAL);
		ck_assert_uint_eq(b.len, 0);
		yamlout_free(y);
	}
	buf_release(&b);
	arena_free(a);
}
END_TEST

/* Integers are formatted without printf: the extremes and zero read back exactly. */
START_TEST(integer_extremes)
{
	json_t *v = json_pack("{s:I, s:I, s:I, s:I, s:I}", "min", (json_int_t)LLONG_MIN, "max",
			      (json_int_t)LLONG_MAX, "zero", (json_int_t)0, "minus1", (json_int_t)-1,
			      "ten", (json_int_t)10);
	ck_assert_ptr_nonnull(v);
	assert_json_judged(v);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	ck_assert_str_eq(buf_cstr(&b), "---\nmin: -9223372036854775808\nmax: 9223372036854775807\n"
				       "zero: 0\nminus1: -1\nten: 10\n");
	json_decref(v);
	buf_release(&b);
}
END_TEST

START_TEST(long_lines_are_not_folded)
{
	struct buf text, b;
	buf_init(&text, BUF_NO_MAX);
	buf_init(&b, BUF_NO_MAX);
	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(buf_puts(&text, "word "), 0);
	ck_assert_int_eq(buf_puts(&text, "end"), 0);
	json_t *v = json_pack("{s:s, s:s+}", "plain", buf_cstr(&text), "quoted", "yes ", buf_cstr(&text));
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	int lines = 0;
	for (const char *p = buf_cstr(&b); *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 3); /* "---", plain, quoted */
	assert_json_judged(v);
	json_decref(v);
	buf_release(&text);
	buf_release(&b);
}
END_TEST

/* Keys longer than 128 bytes or holding a line break are "? " keys, as libyaml writes
 * them, with every kind of value: they read back, in libyaml's bytes. */
START_TEST(explicit_keys)
{
	struct arena *a = arena_new();
	char long_key[200];
	memset(long_key, 'k', sizeof long_key - 1);
	long_key[sizeof long_key - 1] = '\0';
	const char *keys[] = {long_key, "two\nlines", "cr\rkey", "\xc2\x85nel", "yes\n", long_key + 71 /* 128 bytes */};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		struct node *vals[] = {node_str(a, "v"), NODE_MAP(a, {"a", node_int(a, 1)}, {"b", node_str(a, "c")}),
				       NODE_SEQ(a, node_int(a, 1), NODE_SEQ(a, node_str(a, "x"))), node_map(a),
				       node_seq(a), NODE_MAP(a, {keys[i], node_str(a, "nested")})};
		for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
			const struct node *docs[] = {NODE_MAP(a, {keys[i], vals[v]}, {"after", node_str(a, "x")}),
						     NODE_SEQ(a, NODE_MAP(a, {keys[i], vals[v]}))};
			ck_assert(docs[0] && docs[1]);
			assert_judged(docs, 2);
		}
	}
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	const struct node *doc = NODE_MAP(a, {"x\ny", NODE_SEQ(a, node_int(a, 1))});
	write_trees(&b, &doc, 1);
	ck_assert_str_eq(buf_cstr(&b), "---\n? \"x\\ny\"\n: - 1\n");
	buf_release(&b);
	arena_free(a);
}
END_TEST

START_TEST(stream_of_documents)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	struct yamlout *y = NULL;
	ck_assert_int_eq(yamlout_new(&b, &y), 0);
	json_t *docs = json_pack("[{s:s}, [i, s], s, {s:{}}, [], {}, i, n, b]", "kind", "Namespace", 1, "---", "...",
				 "empty", 7, 1);
	for (size_t i = 0; i < json_array_size(docs); i++) {
		size_t before = b.len;
		ck_assert_int_eq(yamlout_document(y, json_array_get(docs, i)), 0);
		ck_assert_uint_gt(b.len, before); /* written document by document */
	}
	ck_assert_int_eq(yamlout_finish(y), 0);
	ck_assert_int_eq(yamlout_finish(y), 0);
	ck_assert_int_eq(yamlout_document(y, docs), -EINVAL);
	yamlout_free(y);
	yamlcheck_json_stream(b.data, b.len, docs);
	ck_assert_str_eq(buf_cstr(&b), "---\nkind: Namespace\n---\n- 1\n- \"---\"\n--- \"...\"\n---\nempty: {}\n"
				       "--- []\n--- {}\n--- 7\n--- null\n--- true\n");
	json_decref(docs);
	buf_release(&b);
}
END_TEST

/* One writer pointed at a new buffer before each document writes into each buffer
 * exactly the bytes of a stream of that document alone. */
START_TEST(retargeted_output_equals_separate_streams)
{
	json_t *docs = json_pack("[{s:s}, s, [i, s], s, {s:{}}, s, i, {s:[s, s]}]", "kind", "Namespace", "plain",
				 1, "---", "...", "empty", "yes", 7, "list", "a: b", "c");
	ck_assert_ptr_nonnull(docs);
	size_t n = json_array_size(docs);
	struct buf start, one[8], alone;
	ck_assert_uint_eq(n, sizeof one / sizeof one[0]);
	struct yamlout *y = NULL;
	buf_init(&start, BUF_NO_MAX);
	buf_init(&alone, BUF_NO_MAX);
	for (size_t i = 0; i < n; i++)
		buf_init(&one[i], BUF_NO_MAX);
	ck_assert_int_eq(yamlout_new(&start, &y), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(yamlout_set_output(y, &one[i]), 0);
		ck_assert_int_eq(yamlout_document(y, json_array_get(docs, i)), 0);
	}
	ck_assert_int_eq(yamlout_finish(y), 0);
	yamlout_free(y);
	ck_assert_uint_eq(start.len, 0); /* the stream's start writes nothing (UTF-8: no BOM) */
	buf_release(&start);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&alone);
		ck_assert_int_eq(yamlout_dump(&alone, json_array_get(docs, i)), 0);
		ck_assert_uint_gt(alone.len, 0);
		ck_assert_msg(one[i].len == alone.len && memcmp(one[i].data, alone.data, alone.len) == 0,
			      "document %zu differs:\n%s\nalone:\n%s", i, buf_cstr(&one[i]), buf_cstr(&alone));
		buf_release(&one[i]);
	}
	buf_release(&alone);
	json_decref(docs);
}
END_TEST

/* Retargeting is refused without a buffer, after the end, and after a failure: the
 * stream then takes nothing more, and the failed document left nothing behind. */
START_TEST(retarget_refused_when_invalid)
{
	struct buf small, big;
	struct yamlout *y = NULL;
	buf_init(&small, 20);
	buf_init(&big, BUF_NO_MAX);
	json_t *v = json_pack("{s:s}", "key", "a value longer than twenty bytes");
	ck_assert_int_eq(yamlout_new(&big, &y), 0);
	ck_assert_int_eq(yamlout_set_output(y, NULL), -EINVAL);
	ck_assert_int_eq(yamlout_document(y, v), 0);
	ck_assert_int_eq(yamlout_set_output(y, &small), 0);
	ck_assert_int_eq(yamlout_document(y, v), -E2BIG);
	ck_assert_uint_eq(small.len, 0);
	size_t had = big.len;
	ck_assert_int_eq(yamlout_set_output(y, &big), -EINVAL);
	ck_assert_int_eq(yamlout_document(y, v), -EINVAL);
	ck_assert_int_eq(yamlout_finish(y), -EINVAL);
	ck_assert_uint_eq(big.len, had);
	yamlout_free(y);

	y = NULL;
	ck_assert_int_eq(yamlout_new(&big, &y), 0);
	ck_assert_int_eq(yamlout_finish(y), 0);
	ck_assert_int_eq(yamlout_set_output(y, &big), -EINVAL);
	yamlout_free(y);
	json_decref(v);
	buf_release(&small);
	buf_release(&big);
}
END_TEST

/* n arrays nested in each other, the innermost holding the integer 1 at depth n. */
static json_t *nested(int n)
{
	json_t *root = json_pack("[i]", 1);
	for (int i = 1; i < n; i++)
		root = json_pack("[o]", root);
	ck_assert_ptr_nonnull(root);
	return root;
}

/* Values (scalars too) at depth YAMLOUT_MAX_DEPTH are written, one level deeper not; the
 * deepest indentation there is reads back. */
START_TEST(depth_limit_is_exact)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	json_t *ok = nested(YAMLOUT_MAX_DEPTH), *deep = nested(YAMLOUT_MAX_DEPTH + 1);
	ck_assert_int_eq(yamlout_dump(&b, ok), 0);
	assert_json_judged(ok);
	buf_reset(&b);
	ck_assert_int_eq(yamlout_dump(&b, deep), -EINVAL);
	ck_assert_uint_eq(b.len, 0);
	struct arena *a = arena_new();
	struct node *n = node_str(a, "bottom");
	for (int i = 0; i < YAMLOUT_MAX_DEPTH; i++)
		n = i % 3 ? NODE_MAP(a, {"k", n}, {"after", node_int(a, i)}) : NODE_SEQ(a, n, node_map(a));
	const struct node *doc = n;
	assert_judged(&doc, 1);
	json_decref(ok);
	json_decref(deep);
	arena_free(a);
	buf_release(&b);
}
END_TEST

/* A buffer whose maximum is any length short of the stream takes exactly the documents
 * that fit whole (-E2BIG for the next); from the stream's length on, all of it. Escapes
 * shorter than their character (LS, PS) too. */
START_TEST(full_buffer_at_every_length)
{
	json_t *docs = json_pack("[{s:s, s:[s, {s:i}]}, s, {s:s}]", "key", "a value", "list", "x\ny", "n", 12,
				 "\xe2\x80\xa8\xe2\x80\xa9x\xe2\x80\xa8", "\xc3\xa9t\xc3\xa9", "t\xc3\xa9");
	struct buf whole, b;
	buf_init(&whole, BUF_NO_MAX);
	struct yamlout *y = NULL;
	size_t ends[3];
	ck_assert_int_eq(yamlout_new(&whole, &y), 0);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(yamlout_document(y, json_array_get(docs, i)), 0);
		ends[i] = whole.len;
	}
	yamlout_free(y);
	for (size_t max = 0; max <= whole.len + 1; max++) {
		buf_init(&b, max);
		ck_assert_int_eq(yamlout_new(&b, &y), 0);
		int r = 0;
		size_t i = 0;
		for (; i < 3 && r == 0; i++)
			r = yamlout_document(y, json_array_get(docs, i));
		size_t fit = 0;
		while (fit < 3 && ends[fit] <= max)
			fit++;
		ck_assert_int_eq(r, fit == 3 ? 0 : -E2BIG);
		ck_assert_uint_eq(b.len, fit ? ends[fit - 1] : 0);
		ck_assert(b.len == 0 || memcmp(b.data, whole.data, b.len) == 0);
		yamlout_free(y);
		buf_release(&b);
	}
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, NULL), -EINVAL);
	buf_release(&b);
	buf_release(&whole);
	json_decref(docs);
}
END_TEST

/* Every allocation yamlout makes (its state, the arena of a JSON conversion, the output
 * buffer growing) fails in turn: -ENOMEM, nothing leaks, and the buffer holds the
 * documents written before whole. */
START_TEST(allocation_failures)
{
	json_t *v = json_pack("{s:s, s:[i, {s:s}]}", "apiVersion", "v1", "items", 1, "key", "a somewhat longer value");
	struct arena *a = arena_new();
	const struct node *n = node_from_json(a, v);
	struct buf whole;
	buf_init(&whole, BUF_NO_MAX);
	for (int i = 0; i < 40; i++) /* grows the buffer a few times */
		ck_assert_int_eq(yamlout_dump(&whole, v), 0);
	long step;
	int r = -ENOMEM;
	for (step = 0; r != 0; step++) {
		struct buf b;
		struct yamlout *y = NULL;
		buf_init(&b, BUF_NO_MAX);
		allocfail_after(step);
		r = yamlout_new(&b, &y);
		for (int i = 0; r == 0 && i < 40; i++)
			r = i % 2 ? yamlout_node(y, n) : yamlout_document(y, v);
		if (r == 0)
			r = yamlout_finish(y);
		allocfail_off();
		ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %ld failing gave %d", step, r);
		ck_assert(b.len == 0 || memcmp(b.data, whole.data, b.len) == 0);
		ck_assert(r < 0 || (b.len == whole.len && memcmp(b.data, whole.data, b.len) == 0));
		ck_assert(b.len % (whole.len / 40) == 0); /* whole documents only */
		yamlout_free(y);
		buf_release(&b);
	}
	ck_assert_int_ge(step, 6); /* state, arena, chunk, and the buffer growing */
	buf_release(&whole);
	arena_free(a);
	json_decref(v);
}
END_TEST

Suite *yamlout_suite(void)
{
	Suite *s = suite_create("yamlout");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, strings_read_back_exactly);
	tcase_add_test(tc, every_byte_and_escape);
	tcase_add_test(tc, invalid_utf8_is_refused);
	tcase_add_test(tc, plain_where_it_may_be);
	tcase_add_test(tc, quoting_at_every_offset);
	tcase_add_test(tc, scalars_and_structure);
	tcase_add_test(tc, reals);
	tcase_add_test(tc, integer_extremes);
	tcase_add_test(tc, long_lines_are_not_folded);
	tcase_add_test(tc, explicit_keys);
	tcase_add_test(tc, stream_of_documents);
	tcase_add_test(tc, retargeted_output_equals_separate_streams);
	tcase_add_test(tc, retarget_refused_when_invalid);
	tcase_add_test(tc, depth_limit_is_exact);
	tcase_add_test(tc, full_buffer_at_every_length);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

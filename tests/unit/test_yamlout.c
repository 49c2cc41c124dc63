/* test_yamlout: every value written by yamlout reads back, through libyaml's own parser
 * and the YAML 1.1 / 1.2 implicit-type rules (written here from the specs, independently
 * of the emitter), as exactly the JSON value it came from. */
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "suites.h"
#include "yamlout.h"

/* Plain scalars matching any of these are not strings to some reader: YAML 1.1 types
 * (yaml.org/type: bool, null, int, float, timestamp, merge, value) and the YAML 1.2
 * core schema. */
static const char *const implicit_patterns[] = {
	"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
	"^(~|null|Null|NULL|)$",
	"^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	"^([-+]?([0-9][0-9_]*)?\\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
	"|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
	"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
	"(\\.[0-9]*)?(([ \t]*)Z|[-+][0-9]{1,2}(:[0-9]{2})?)?)$",
	"^(<<|=)$",
	"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
	"^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
};

static bool plain_is_not_string(const char *s)
{
	bool hit = false;
	for (size_t i = 0; i < sizeof implicit_patterns / sizeof implicit_patterns[0] && !hit; i++) {
		regex_t re;
		ck_assert_int_eq(regcomp(&re, implicit_patterns[i], REG_EXTENDED | REG_NOSUB), 0);
		hit = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
	}
	return hit;
}

/* Reads one YAML stream into a JSON array of its documents. Plain scalars get their
 * YAML type (int, bool, null), every quoted scalar is a string. NULL on parse error. */
struct reader {
	yaml_parser_t parser;
	bool failed;
};

static bool next_event(struct reader *rd, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&rd->parser, ev)) {
		rd->failed = true;
		return false;
	}
	return true;
}

static json_t *scalar_value(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n);
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return json_boolean(s[0] == 't');
	if (strcmp(s, "null") == 0)
		return json_null();
	if (plain_is_not_string(s))
		return json_real(strtod(s, NULL)); /* ints are compared by value below */
	return json_stringn(s, n);
}

static json_t *read_node(struct reader *rd, yaml_event_t *ev);

static json_t *read_collection(struct reader *rd, bool mapping)
{
	json_t *c = mapping ? json_object() : json_array();
	yaml_event_t ev;
	while (next_event(rd, &ev)) {
		if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return c;
		}
		json_t *key = read_node(rd, &ev);
		if (!mapping) {
			json_array_append_new(c, key);
			continue;
		}
		ck_assert(json_is_string(key));
		if (!next_event(rd, &ev))
			break;
		json_object_set_new(c, json_string_value(key), read_node(rd, &ev));
		json_decref(key);
	}
	json_decref(c);
	return NULL;
}

/* Consumes ev (already parsed). */
static json_t *read_node(struct reader *rd, yaml_event_t *ev)
{
	json_t *v = NULL;
	if (ev->type == YAML_SCALAR_EVENT)
		v = scalar_value(ev);
	else if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
		v = read_collection(rd, ev->type == YAML_MAPPING_START_EVENT);
	yaml_event_delete(ev);
	return v;
}

static json_t *read_stream(const struct buf *b)
{
	struct reader rd = {.failed = false};
	ck_assert(yaml_parser_initialize(&rd.parser));
	yaml_parser_set_input_string(&rd.parser, (const unsigned char *)b->data, b->len);
	json_t *docs = json_array();
	yaml_event_t ev;
	while (next_event(&rd, &ev)) {
		yaml_event_type_t t = ev.type;
		if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_SCALAR_EVENT) {
			json_array_append_new(docs, read_node(&rd, &ev));
			continue;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&rd.parser);
	if (rd.failed) {
		json_decref(docs);
		return NULL;
	}
	return docs;
}

/* Compares a read-back value with the original: numbers by value, the rest exactly. */
static bool same_value(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_value(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia), ib = json_object_iter_next((json_t *)b, ib))
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
			    !same_value(json_object_iter_value(ia), json_object_iter_value(ib)))
				return false;
		return true;
	}
	return json_equal(a, b);
}

static void assert_round_trip(const json_t *v)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	json_t *docs = read_stream(&b);
	ck_assert_msg(docs != NULL, "yaml does not parse:\n%s", buf_cstr(&b));
	ck_assert_uint_eq(json_array_size(docs), 1);
	ck_assert_msg(same_value(json_array_get(docs, 0), v), "value changed in:\n%s", buf_cstr(&b));
	json_decref(docs);
	buf_release(&b);
}

static const char *const nasty[] = {
	"plain", "it's", "say \"hi\"", "'single'", "\"double\"", "a\nb", "a\n", "\n", "a\n\n", "\na",
	"  two\n  lines  \n", "key: value", "a:b", "a:", ":", "a #b", "a#b", "#", "---", "...", "--- a",
	"... a", "한글 text", "emoji 😀", "ünïcödé", "\xc2\xa0nbsp", "\xe2\x80\xa8sep", "a\xe2\x80\xa9" "b", "\xc2\x85nel",
	"\xef\xbb\xbf" "bom", " leading", "trailing ", "\ttab", "a\tb", "tab\t", "yes", "Yes", "YES", "no",
	"No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "true", "True", "FALSE",
	"0123", "0o17", "1e3", "1E3", "1.0e+3", "0x1A", "0b101", "1_000", "12:30:00", "12:30", "190:20:30",
	"2001-12-14", "2001-12-14t21:59:43.10-05:00", "null", "Null", "NULL", "~", "", "- a", "-", "-1",
	"+1", ".5", ".inf", "-.inf", ".NaN", "1.4.2", "? x", "?", "@x", "`x", "%x", "!x", "!!str",
	"&x", "*x", "|", "|-", ">", ">+", "{a}", "[a]", "{", "]", "a, b", "a,b", "<<", "=", "\r",
	"a\r\nb", "\x01", "\x1b[0m", "a\x7f", "back\\slash", "\\", "x: [1, 2]", "jdbc:mysql://$(DB_HOST):3306/db",
	"http://user-service:8081", "100m", "512Mi", "k8s,prod",
};

START_TEST(strings_read_back_exactly)
{
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		/* as a value, as a key, and inside a sequence */
		json_t *v = json_pack("{s:s, s:s, s:[s, s]}", "k", nasty[i], nasty[i], "v", "list", nasty[i], "end");
		ck_assert_ptr_nonnull(v);
		assert_round_trip(v);
		json_decref(v);
	}
}
END_TEST

/* The emitter may write a string plain only when no reader types it. */
static void collect_plain(const struct buf *b, json_t *plain)
{
	yaml_parser_t p;
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)b->data, b->len);
	yaml_event_t ev;
	for (;;) {
		ck_assert(yaml_parser_parse(&p, &ev));
		yaml_event_type_t t = ev.type;
		if (t == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			json_array_append_new(plain, json_string((const char *)ev.data.scalar.value));
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
}

START_TEST(plain_strings_are_never_typed)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++)
		json_array_append_new(arr, json_string(nasty[i]));
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, arr), 0);
	json_t *plain = json_array();
	collect_plain(&b, plain);
	ck_assert_uint_gt(json_array_size(plain), 5); /* ordinary words do stay plain */
	size_t i;
	json_t *s;
	json_array_foreach(plain, i, s)
		ck_assert_msg(!plain_is_not_string(json_string_value(s)), "'%s' written plain", json_string_value(s));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "- plain\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "- \"yes\"\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "- 한글 text\n"));
	json_decref(plain);
	json_decref(arr);
	buf_release(&b);
}
END_TEST

/* The scan for what a plain scalar may not hold looks at 8 bytes at a time: each such
 * text, at every offset across several 8-byte words, makes the string quoted; text it
 * may hold (':' or '#' alone, non-ASCII letters) leaves it plain at every offset. */
static const char *emit_value_of(struct buf *b, const char *s)
{
	json_t *v = json_pack("{s:s}", "k", s);
	ck_assert_ptr_nonnull(v);
	buf_reset(b);
	ck_assert_int_eq(yamlout_dump(b, v), 0);
	json_decref(v);
	return buf_cstr(b) + strlen("---\nk: ");
}

START_TEST(quoting_at_every_offset)
{
	static const char *const quoted[] = {": ", " #", "\x01", "\x7f", "\n", "\t", "\xc2\x85", "\xe2\x80\xa8"};
	static const char *const plain[] = {":", "#", "a:b", "\xc3\xa9", "\xe2\x82\xac", "~"};
	struct buf b, text;
	buf_init(&b, BUF_NO_MAX);
	buf_init(&text, BUF_NO_MAX);
	for (size_t off = 0; off < 20; off++) {
		for (size_t k = 0; k < sizeof quoted / sizeof quoted[0] + sizeof plain / sizeof plain[0]; k++) {
			bool want_plain = k >= sizeof quoted / sizeof quoted[0];
			const char *mid = want_plain ? plain[k - sizeof quoted / sizeof quoted[0]] : quoted[k];
			buf_reset(&text);
			ck_assert_int_eq(buf_puts(&text, "x"), 0);
			for (size_t i = 0; i < off; i++)
				ck_assert_int_eq(buf_puts(&text, "a"), 0);
			ck_assert_int_eq(buf_puts(&text, mid), 0);
			for (size_t i = 0; i < 20 - off; i++)
				ck_assert_int_eq(buf_puts(&text, "b"), 0);
			const char *out = emit_value_of(&b, buf_cstr(&text));
			if (want_plain)
				ck_assert_msg(strncmp(out, buf_cstr(&text), text.len) == 0 && out[text.len] == '\n',
					      "'%s' not plain: %s", buf_cstr(&text), out);
			else
				ck_assert_msg(out[0] == '"', "'%s' not quoted: %s", buf_cstr(&text), out);
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
			       " \"list\": [[1, 2], {\"x\": \"y\"}, \"s\"], \"num\": \"8080\"}", 0, NULL);
	ck_assert_ptr_nonnull(v);
	assert_round_trip(v);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, v), 0);
	const char *out = buf_cstr(&b);
	ck_assert_msg(strncmp(out, "---\nz: 1\na: -42\nm:\n  t: true\n", 28) == 0, "got:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "num: \"8080\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "big: 1.0e+20\n"));
	json_decref(v);
	buf_release(&b);
}
END_TEST

/* Integers are formatted without printf: the extremes and zero read back exactly. */
START_TEST(integer_extremes)
{
	json_t *v = json_pack("{s:I, s:I, s:I, s:I, s:I}", "min", (json_int_t)LLONG_MIN, "max",
			      (json_int_t)LLONG_MAX, "zero", (json_int_t)0, "minus1", (json_int_t)-1,
			      "ten", (json_int_t)10);
	ck_assert_ptr_nonnull(v);
	assert_round_trip(v);
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
	assert_round_trip(v);
	json_decref(v);
	buf_release(&text);
	buf_release(&b);
}
END_TEST

START_TEST(stream_of_documents)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	struct yamlout *y = NULL;
	ck_assert_int_eq(yamlout_new(&b, &y), 0);
	json_t *docs = json_pack("[{s:s}, [i, s], s, {s:{}}]", "kind", "Namespace", 1, "---", "...", "empty");
	for (size_t i = 0; i < json_array_size(docs); i++) {
		size_t before = b.len;
		ck_assert_int_eq(yamlout_document(y, json_array_get(docs, i)), 0);
		ck_assert_uint_gt(b.len, before); /* flushed document by document */
	}
	ck_assert_int_eq(yamlout_finish(y), 0);
	ck_assert_int_eq(yamlout_document(y, docs), -EINVAL);
	yamlout_free(y);
	json_t *back = read_stream(&b);
	ck_assert_ptr_nonnull(back);
	ck_assert(same_value(back, docs));
	json_decref(back);
	json_decref(docs);
	buf_release(&b);
}
END_TEST

/* One emitter pointed at a new buffer before each document writes into each buffer
 * exactly the bytes of a stream of that document alone: roots of every kind (a plain
 * scalar root leaves libyaml's stream "open ended"), quoted strings, "---" and "..." as
 * text. */
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

/* Retargeting is refused without a buffer, after the end, and after a failure (which
 * leaves the emitter mid-document): the stream then takes nothing more. */
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

/* Values (scalars too) at depth YAMLOUT_MAX_DEPTH are written, one level deeper not. */
START_TEST(depth_limit_is_exact)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	json_t *ok = nested(YAMLOUT_MAX_DEPTH), *deep = nested(YAMLOUT_MAX_DEPTH + 1);
	ck_assert_int_eq(yamlout_dump(&b, ok), 0);
	assert_round_trip(ok);
	buf_reset(&b);
	ck_assert_int_eq(yamlout_dump(&b, deep), -EINVAL);
	json_decref(ok);
	json_decref(deep);
	buf_release(&b);
}
END_TEST

START_TEST(full_buffer_and_bad_input)
{
	struct buf b;
	buf_init(&b, 20);
	json_t *v = json_pack("{s:s}", "key", "a value longer than twenty bytes");
	ck_assert_int_eq(yamlout_dump(&b, v), -E2BIG);
	ck_assert_uint_le(b.len, 20);
	buf_release(&b);

	json_t *deep = json_array(), *cur = deep;
	for (int i = 0; i < YAMLOUT_MAX_DEPTH + 2; i++) {
		json_t *next = json_array();
		json_array_append_new(cur, next);
		cur = next;
	}
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(yamlout_dump(&b, deep), -EINVAL);
	ck_assert_int_eq(yamlout_dump(&b, NULL), -EINVAL);
	buf_release(&b);
	json_decref(deep);
	json_decref(v);
}
END_TEST

Suite *yamlout_suite(void)
{
	Suite *s = suite_create("yamlout");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, strings_read_back_exactly);
	tcase_add_test(tc, plain_strings_are_never_typed);
	tcase_add_test(tc, quoting_at_every_offset);
	tcase_add_test(tc, scalars_and_structure);
	tcase_add_test(tc, integer_extremes);
	tcase_add_test(tc, long_lines_are_not_folded);
	tcase_add_test(tc, stream_of_documents);
	tcase_add_test(tc, retargeted_output_equals_separate_streams);
	tcase_add_test(tc, retarget_refused_when_invalid);
	tcase_add_test(tc, depth_limit_is_exact);
	tcase_add_test(tc, full_buffer_and_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

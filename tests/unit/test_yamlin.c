/* test_yamlin: the YAML reader of the importers: scalars under both schemas, merge keys,
 * streams and their spans, what is refused (syntax, duplicates, unknown aliases),
 * hostile input (alias bombs, depth, size) and every allocation failing in turn. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suites.h"
#include "yamlin.h"

static const struct yamlin_opts v12 = {1 << 20, 64, 100000, 0};
static const struct yamlin_opts v11 = {1 << 20, 64, 100000, YAMLIN_YAML11};

static json_t *parse(const char *text, const struct yamlin_opts *o)
{
	struct buf err;
	buf_init(&err, 1024);
	json_t *doc = NULL;
	int r = yamlin_parse(text, strlen(text), o, &err, &doc);
	ck_assert_msg(r == 0, "parse failed: %s", buf_cstr(&err));
	buf_release(&err);
	return doc;
}

/* The error of parsing text as one document, which must fail with code. */
static char *parse_error(const char *text, size_t len, const struct yamlin_opts *o, int code)
{
	struct buf err;
	buf_init(&err, 1024);
	json_t *doc = NULL;
	ck_assert_int_eq(yamlin_parse(text, len, o, &err, &doc), code);
	ck_assert_ptr_null(doc);
	ck_assert_uint_gt(err.len, 0);
	return buf_detach(&err, NULL);
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_error_t e;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, &e);
	ck_assert_msg(want != NULL, "bad expectation: %s", e.text);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "got %s\nwant %s", g, want_text);
	free(g);
	json_decref(want);
}

START_TEST(yaml12_scalars_and_merge_keys)
{
	json_t *doc = parse("a: 1\nb: -7\nc: true\nd: ~\ne:\nf: '1'\ng: 0.5\nh: \"true\"\ni: yes\nj: 0644\n"
			    "k: !!str 3\nbase: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n"
			    "l: [*b, {<<: [*b], z: 0}]\n8080: port\nbig: 9007199254740993\n", &v12);
	assert_json(doc, "{\"a\":1,\"b\":-7,\"c\":true,\"d\":null,\"e\":null,\"f\":\"1\",\"g\":\"0.5\","
			 "\"h\":\"true\",\"i\":\"yes\",\"j\":644,\"k\":\"3\",\"base\":{\"x\":1,\"y\":2},\"m\":{\"y\":3,\"x\":1},"
			 "\"l\":[{\"x\":1,\"y\":2},{\"z\":0,\"x\":1,\"y\":2}],\"8080\":\"port\",\"big\":\"9007199254740993\"}");
	json_decref(doc);
}
END_TEST

/* Kubernetes reads manifests as YAML 1.1. */
START_TEST(yaml11_scalars)
{
	json_t *doc = parse("mode: 0644\nhex: 0x1F\nbin: 0b101\no: 0o17\nu: 1_000\nneg: -12\nzero: 0\n"
			    "yes: yes\nno: No\non: ON\noff: off\ny: y\nn: N\ncpu: 0.5\nexp: 1e3\ndot: .5\n"
			    "inf: .inf\nnan: .nan\nver: 1.2.3\ntime: 12:30:00\ndate: 2024-01-02\nq: '0644'\n"
			    "eight: 08\nbig: 0x20000000000001\nstr: 0x\nunder: _1\n", &v11);
	assert_json(doc, "{\"mode\":420,\"hex\":31,\"bin\":5,\"o\":15,\"u\":1000,\"neg\":-12,\"zero\":0,"
			 "\"yes\":true,\"no\":false,\"on\":true,\"off\":false,\"y\":true,\"n\":false,"
			 "\"cpu\":0.5,\"exp\":1000.0,\"dot\":0.5,\"inf\":\".inf\",\"nan\":\".nan\",\"ver\":\"1.2.3\","
			 "\"time\":\"12:30:00\",\"date\":\"2024-01-02\",\"q\":\"0644\",\"eight\":8.0,"
			 "\"big\":\"0x20000000000001\",\"str\":\"0x\",\"under\":\"_1\"}");
	json_decref(doc);
}
END_TEST

START_TEST(one_document_only)
{
	static const struct {
		const char *text;
		size_t len;
		const char *says;
	} bad[] = {
		{"a: 1\na: 2\n", 10, "duplicate key 'a'"},
		{"a: 1\n---\nb: 2\n", 14, "second"},
		{"? [a]\n: 1\n", 10, "key"},
		{"a: *nowhere\n", 12, "unknown alias"},
		{"a: [1, 2\n", 9, "line "},
		{"", 0, "empty"},
		{"a: \"x\\0y\"\n", 10, "NUL"},
		{"a: \"x\0y\"\n", 9, "control characters"},
		{"a: [1, {<<: 3}]\n", 16, "'<<'"},
		/* an alias of the node it is inside (a cycle) is unknown at that point */
		{"a: &x [1, *x]\n", 14, "unknown alias"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *e = parse_error(bad[i].text, bad[i].len, &v12, -EINVAL);
		ck_assert_msg(strstr(e, bad[i].says), "case %zu: '%s' does not say '%s'", i, e, bad[i].says);
		free(e);
	}
}
END_TEST

START_TEST(streams_and_spans)
{
	const char *text = "# Source: a.yaml\nkind: A\n---\n# Source: b.yaml\nkind: B\nx: &k 1\n---\n---\n"
			   "- *k\n";
	struct buf err;
	buf_init(&err, 1024);
	json_t *docs = NULL, *spans = NULL;
	/* anchors do not cross documents */
	ck_assert_int_eq(yamlin_parse_stream(text, strlen(text), &v11, &err, &docs, &spans), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "unknown alias"));
	ck_assert_ptr_null(docs);
	buf_reset(&err);
	text = "# Source: a.yaml\nkind: A\n---\n# Source: b.yaml\nkind: B\n---\n---\n- 1\n...\n";
	ck_assert_int_eq(yamlin_parse_stream(text, strlen(text), &v11, &err, &docs, &spans), 0);
	assert_json(docs, "[{\"kind\":\"A\"},{\"kind\":\"B\"},null,[1]]");
	ck_assert_uint_eq(json_array_size(spans), 4);
	size_t start = (size_t)json_integer_value(json_array_get(json_array_get(spans, 1), 0));
	size_t end = (size_t)json_integer_value(json_array_get(json_array_get(spans, 1), 1));
	ck_assert_ptr_nonnull(memmem(text + start, end - start, "# Source: b.yaml", 16));
	ck_assert_ptr_null(memmem(text + start, end - start, "a.yaml", 6));
	json_decref(docs);
	json_decref(spans);
	/* spans are optional; one document is a stream too */
	ck_assert_int_eq(yamlin_parse_stream("a: 1", 4, &v12, &err, &docs, NULL), 0);
	assert_json(docs, "[{\"a\":1}]");
	json_decref(docs);
	ck_assert_int_eq(yamlin_parse_stream("", 0, &v12, &err, &docs, NULL), -EINVAL);
	buf_release(&err);
}
END_TEST

/* "billion laughs": nine levels of ten aliases each would be 10^9 nodes. */
START_TEST(alias_bombs_are_refused)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_puts(&b, "l0: &l0 [lol]\n"), 0);
	for (int i = 1; i < 10; i++) {
		ck_assert_int_eq(buf_printf(&b, "l%d: &l%d [", i, i), 0);
		for (int k = 0; k < 10; k++)
			ck_assert_int_eq(buf_printf(&b, "%s*l%d", k ? ", " : "", i - 1), 0);
		ck_assert_int_eq(buf_puts(&b, "]\n"), 0);
	}
	char *e = parse_error(buf_cstr(&b), b.len, &v11, -E2BIG);
	ck_assert_ptr_nonnull(strstr(e, "nodes"));
	free(e);
	/* the count is over the whole stream */
	buf_reset(&b);
	for (int i = 0; i < 600; i++)
		ck_assert_int_eq(buf_puts(&b, "---\n[a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t]\n"), 0);
	const struct yamlin_opts small = {1 << 20, 64, 10000, 0};
	struct buf err;
	buf_init(&err, 1024);
	json_t *docs = NULL;
	ck_assert_int_eq(yamlin_parse_stream(buf_cstr(&b), b.len, &small, &err, &docs, NULL), -E2BIG);
	buf_release(&err);
	buf_release(&b);
}
END_TEST

START_TEST(depth_and_size_limits)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (int i = 0; i < 65; i++)
		ck_assert_int_eq(buf_puts(&b, "["), 0);
	char *e = parse_error(buf_cstr(&b), b.len, &v12, -E2BIG);
	ck_assert_ptr_nonnull(strstr(e, "deeper"));
	free(e);
	buf_reset(&b);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(buf_puts(&b, "- "), 0);
	ck_assert_int_eq(buf_puts(&b, "x\n"), 0);
	json_t *deep = parse(buf_cstr(&b), &v12);
	json_decref(deep);
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "a: "), 0);
	while (b.len <= (1 << 20))
		ck_assert_int_eq(buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 0);
	e = parse_error(buf_cstr(&b), b.len, &v12, -E2BIG);
	free(e);
	const struct yamlin_opts bad = {1 << 20, 0, 100, 0};
	e = parse_error("a: 1", 4, &bad, -EINVAL);
	free(e);
	buf_release(&b);
}
END_TEST

/* Bytes that are not YAML, or not text, fail cleanly. */
START_TEST(garbage)
{
	static const char *const bad[] = {"\xff\xfe\x00", "a: b: c\n", "{", "- a\n b: c\n", "\"unterminated",
					  "key: \xc3\x28\n", "\t- tab\n", "&a [*a]\n", "@x\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf err;
		buf_init(&err, 1024);
		json_t *docs = NULL;
		int r = yamlin_parse_stream(bad[i], strlen(bad[i]) + (i == 0), &v11, &err, &docs, NULL);
		ck_assert_msg(r == -EINVAL, "'%s' gave %d", bad[i], r);
		ck_assert_uint_gt(err.len, 0);
		buf_release(&err);
	}
}
END_TEST

/* Every allocation fails in turn: each run fails with -ENOMEM, or succeeds. */
static size_t alloc_budget;

static void *budget_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

START_TEST(allocation_failures)
{
	const char *text = "a: &a {x: [1, 2, {y: z}], 'q': \"s\"}\nb:\n  <<: *a\n  c: *a\n---\n- 0644\n- yes\n- 0.5\n";
	bool succeeded = false;
	size_t budget;
	for (budget = 0; budget < 10000 && !succeeded; budget++) {
		alloc_budget = budget;
		json_set_alloc_funcs(budget_malloc, free);
		struct buf err;
		buf_init(&err, 1024);
		json_t *docs = NULL, *spans = NULL;
		int r = yamlin_parse_stream(text, strlen(text), &v11, &err, &docs, &spans);
		json_set_alloc_funcs(malloc, free);
		ck_assert_msg(r == 0 || r == -ENOMEM, "budget %zu gave %d (%s)", budget, r, buf_cstr(&err));
		succeeded = r == 0;
		if (succeeded)
			assert_json(docs, "[{\"a\":{\"x\":[1,2,{\"y\":\"z\"}],\"q\":\"s\"},\"b\":{\"c\":{\"x\":[1,2,{\"y\":\"z\"}],\"q\":\"s\"},"
					  "\"x\":[1,2,{\"y\":\"z\"}],\"q\":\"s\"}},[420,true,0.5]]");
		json_decref(docs);
		json_decref(spans);
		buf_release(&err);
	}
	ck_assert(succeeded);
	ck_assert_uint_gt(budget, 20); /* the failures above were real ones */
}
END_TEST

Suite *yamlin_suite(void)
{
	Suite *s = suite_create("yamlin");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, yaml12_scalars_and_merge_keys);
	tcase_add_test(tc, yaml11_scalars);
	tcase_add_test(tc, one_document_only);
	tcase_add_test(tc, streams_and_spans);
	tcase_add_test(tc, alias_bombs_are_refused);
	tcase_add_test(tc, depth_and_size_limits);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

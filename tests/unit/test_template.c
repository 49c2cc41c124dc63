/* test_template: ${...} placeholders expanded with every filter, whole-value placeholders,
 * secrets through the caller, literal "$${", and the problems: malformed, unknown roots,
 * filters and members, values that are not text; template_check without values. */
#include <errno.h>
#include <string.h>

#include "suites.h"
#include "template.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
	ck_assert_msg(v != NULL, "%s: %s", text, err.text);
	return v;
}

/* ${secret.X} stands for $(X_PASSWORD) here, and only "password" exists. */
static int secret_ref(void *cls, const char *key, struct buf *out)
{
	(void)cls;
	return strcmp(key, "password") ? -ENOENT : buf_puts(out, "$(PASSWORD)");
}

static const struct template_ctx *ctx(void)
{
	static json_t *params, *consumer;
	static struct template_ctx c;
	if (!params) {
		params = parse("{\"version\": \"8.0\", \"port\": 3306, \"tls\": true, \"storage\": {\"size\": \"5Gi\"},"
			       " \"quote\": \"it's `odd` \\\"x\\\" \\\\ y\", \"list\": [1, 2]}");
		consumer = parse("{\"database\": \"orders\", \"user\": \"order_service\"}");
		c = (struct template_ctx){"db", params, consumer, secret_ref, NULL};
	}
	return &c;
}

static void expect(const char *in_text, const char *want_text)
{
	json_t *in = parse(in_text), *want = parse(want_text), *got = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int r = template_expand(in, ctx(), &errs, NULL, &got);
	ck_assert_msg(r == 0, "%s: %d %s", in_text, r, errs.count ? errs.items[0].detail : "");
	char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(got, want), "%s -> %s, want %s", in_text, g, want_text);
	free(g);
	json_decref(in);
	json_decref(want);
	json_decref(got);
	model_errors_release(&errs);
}

static void expect_error(const char *in_text, const char *pointer, const char *mention)
{
	json_t *in = parse(in_text), *got = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(template_expand(in, ctx(), &errs, MODEL_PTR("types", "t"), &got), TEMPLATE_EINVALID);
	ck_assert_ptr_null(got);
	ck_assert_uint_ge(errs.count, 1);
	ck_assert_str_eq(errs.items[0].pointer, pointer);
	ck_assert_msg(strstr(errs.items[0].detail, mention), "%s: %s", in_text, errs.items[0].detail);
	json_decref(in);
	model_errors_release(&errs);
}

START_TEST(expands_values_and_text)
{
	expect("\"${name}\"", "\"db\"");
	expect("{\"size\": \"${params.storage.size}\", \"port\": \"${params.port}\", \"on\": \"${params.tls}\"}",
	       "{\"size\": \"5Gi\", \"port\": 3306, \"on\": true}");
	expect("\"${params.storage}\"", "{\"size\": \"5Gi\"}");
	expect("\"mysql:${params.version}\"", "\"mysql:8.0\"");
	expect("\"${consumer.user}@${name}:${params.port}/${consumer.database}\"", "\"order_service@db:3306/orders\"");
	expect("\"mysql://${consumer.user}:${secret.password}@${name}\"", "\"mysql://order_service:$(PASSWORD)@db\"");
	expect("[\"$${HOME} ${name}\", 1, null, {\"k\": [\"${name}\"]}]", "[\"${HOME} db\", 1, null, {\"k\": [\"db\"]}]");
	expect("{\"${name}\": \"keys stay\"}", "{\"${name}\": \"keys stay\"}");
}
END_TEST

START_TEST(filters_quote)
{
	expect("\"${sh:params.quote}\"", "\"'it'\\\\''s `odd` \\\"x\\\" \\\\ y'\"");
	expect("\"${sql_ident:params.quote}\"", "\"`it's ``odd`` \\\"x\\\" \\\\ y`\"");
	expect("\"${pg_ident:params.quote}\"", "\"\\\"it's `odd` \\\"\\\"x\\\"\\\" \\\\ y\\\"\"");
	expect("\"${sql_string:params.quote}\"", "\"'it''s `odd` \\\"x\\\" \\\\\\\\ y'\"");
	expect("\"${json:params.quote}\"", "\"\\\"it's `odd` \\\\\\\"x\\\\\\\" \\\\\\\\ y\\\"\"");
	expect("\"${sh:params.port}\"", "\"'3306'\""); /* filtered: always text */
}
END_TEST

START_TEST(problems)
{
	expect_error("{\"a\": [\"${nope.x}\"]}", "/types/t/a/0", "is not known here");
	expect_error("\"${params.missing}\"", "/types/t", "is not there");
	expect_error("\"x ${params.list}\"", "/types/t", "not a string or a number");
	expect_error("\"${bash:name}\"", "/types/t", "the filter \"bash\"");
	expect_error("\"${name\"", "/types/t", "without its \"}\"");
	expect_error("\"${a b}\"", "/types/t", "not a path");
	expect_error("\"${}\"", "/types/t", "empty placeholder");
	expect_error("\"${secret.root}\"", "/types/t", "the secret \"root\"");
	/* every problem of a document at once */
	json_t *in = parse("{\"a\": \"${x}\", \"b\": \"${y}\"}"), *got = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(template_expand(in, ctx(), &errs, NULL, &got), TEMPLATE_EINVALID);
	ck_assert_uint_eq(errs.count, 2);
	model_errors_release(&errs);
	json_decref(in);
}
END_TEST

START_TEST(check_without_values)
{
	static const char *const roots[] = {"name", "params", NULL};
	json_t *ok = parse("{\"image\": \"mysql:${params.version}\", \"x\": [\"${sh:name}\", \"$${literal}\"]}");
	json_t *bad = parse("{\"a\": \"${consumer.database}\", \"b\": \"${sh:name\"}");
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(template_check(ok, roots, &errs, NULL), 0);
	ck_assert_int_eq(template_check(bad, roots, &errs, NULL), TEMPLATE_EINVALID);
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_str_eq(errs.items[0].pointer, "/a");
	model_errors_release(&errs);
	json_decref(ok);
	json_decref(bad);
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	model_errors_init(&errs);
	ck_assert_int_eq(template_text("CREATE DATABASE ${sql_ident:consumer.database};", ctx(), &out, &errs, NULL), 0);
	ck_assert_str_eq(buf_cstr(&out), "CREATE DATABASE `orders`;");
	buf_release(&out);
	model_errors_release(&errs);
}
END_TEST

Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("template");
	tcase_add_test(tc, expands_values_and_text);
	tcase_add_test(tc, filters_quote);
	tcase_add_test(tc, problems);
	tcase_add_test(tc, check_without_values);
	suite_add_tcase(s, tc);
	return s;
}

/* test_catalog: the built-in component types load and pass catalog_check; a type
 * document's problems are reported where they are (shape, params, reserved names,
 * placeholders, outputs, and its workload resolved as a service); stored types override
 * built-in ones, and one that does not compile is named to the stacks using it. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "renderutil.h"
#include "suites.h"

START_TEST(builtin_types_load_and_check)
{
	const struct catalog *cat = catalog_builtin();
	ck_assert_ptr_nonnull(cat);
	ck_assert_ptr_eq(catalog_builtin(), cat);
	static const char *const names[] = {"kafka", "mariadb", "memcached", "mongodb", "mysql", "postgres", "rabbitmq", "redis", "zipkin"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const struct catalog_type *t = catalog_find(cat, names[i]);
		ck_assert_msg(t != NULL, "%s is not built in", names[i]);
		ck_assert(t->builtin);
		ck_assert_uint_eq(catalog_count(cat), sizeof names / sizeof *names);
		ck_assert_ptr_null(t->problem);
		struct model_errors errs;
		model_errors_init(&errs);
		int r = catalog_check(t->name, t->doc, &errs);
		ck_assert_msg(r == 0, "%s: %s %s", t->name, errs.count ? errs.items[0].pointer : "",
			      errs.count ? errs.items[0].detail : "");
		model_errors_release(&errs);
	}
	/* sorted, and found by name only */
	for (size_t i = 1; i < catalog_count(cat); i++)
		ck_assert_int_lt(strcmp(catalog_at(cat, i - 1)->name, catalog_at(cat, i)->name), 0);
	ck_assert_ptr_null(catalog_find(cat, "postgress"));
	ck_assert_str_eq(catalog_closest(cat, "postgress"), "postgres");
}
END_TEST

#define GOOD                                                                                         \
	"'params': {'size': {'type': 'string', 'format': 'quantity', 'default': '1Gi'}},"                \
	" 'secrets': {'password': {'param': 'passwordSecret', 'default': '${name}-password'}},"          \
	" 'outputs': {'host': {'value': '${name}'}, 'password': {'secret': 'password'}},"                \
	" 'wait': 'kv'"
#define WORKLOAD(extra)                                                                              \
	" 'workload': {'image': {'repository': 'kv', 'tag': '1.0', 'registry': ''}, 'ports': {'kv': {'port': 7000}},"     \
	"   'env': {'PASS': {'secret': '${secret.password}'}}," extra                                    \
	"   'volumes': {'data': {'mountPath': '/data', 'persistent': {'size': '${params.size}'}}}}"

/* The problems catalog_check reports for the type document text, one per line. */
static char *check(const char *text)
{
	json_t *doc = renderutil_json(text);
	struct model_errors errs;
	struct buf b;
	model_errors_init(&errs);
	buf_init(&b, BUF_NO_MAX);
	int r = catalog_check("kv", doc, &errs);
	ck_assert_int_eq(r, errs.count ? MODEL_EINVALID : 0);
	for (size_t i = 0; i < errs.count; i++)
		ck_assert_int_eq(BUF_PUTS(&b, errs.items[i].pointer, ": ", errs.items[i].detail, "\n"), 0);
	model_errors_release(&errs);
	json_decref(doc);
	char *out = buf_detach(&b, NULL);
	ck_assert_ptr_nonnull(out);
	return out;
}

static void expect(const char *text, const char *want)
{
	char *got = check(text);
	if (want)
		ck_assert_msg(strstr(got, want), "want\n  %s\ngot\n%s", want, got);
	else
		ck_assert_msg(!*got, "want no problem, got\n%s", got);
	free(got);
}

START_TEST(type_documents_checked)
{
	expect("{" GOOD "," WORKLOAD("") "}", NULL);
	expect("{" GOOD "}", "/workload: is required");
	expect("{" GOOD ", 'colour': 1," WORKLOAD("") "}", "/colour: is not a known field");
	expect("{'params': {'size': {'type': 'string', 'format': 'sizes'}}, 'workload': {}}",
	       "/params/size: names an unknown format");
	expect("{'params': {'enabled': {'type': 'boolean'}}, 'workload': {}}",
	       "/params/enabled: is a member of every instance");
	expect("{'params': {'passwordSecret': {'type': 'string'}}, 'secrets': {'password': {'param': 'passwordSecret', "
	       "'default': 'x'}}, 'workload': {}}",
	       "/secrets/password/param: is also a param");
	expect("{" GOOD "," WORKLOAD("'args': ['${params.nope.x}', '${consumer.database}'],") "}",
	       "/workload/args/1: names \"consumer.database\", which is not known here");
	expect("{" GOOD ", 'outputs': {'p': {'secret': 'root'}}," WORKLOAD("") "}",
	       "/outputs/p/secret: names the secret \"root\", which is not in /secrets of the type");
	/* resolved as a stack would use it: a workload that is no valid service */
	expect("{" GOOD "," WORKLOAD("'replicas': -1,") "}", "/workload: with the default params, /services/sample/replicas");
	expect("{" GOOD ", 'wait': 'http'," WORKLOAD("") "}", "whose wait names the port \"http\"");
	expect("{" GOOD ", 'outputs': {'u': {'value': 'x://${consumer.user}'}}," WORKLOAD("") "}",
	       "/outputs: with the default params, /services/app/env/OUT_u");
	/* a param node's keywords are input too */
	expect("{'params': {'n': {'type': 'integer', 'minimum': 'one'}}, 'workload': {}}",
	       "/params/n/minimum: must be an integer");
	expect("{'params': {'n': {'type': 'integer', 'minimum': 5, 'maximum': 1}}, 'workload': {}}",
	       "/params/n/minimum: is greater than maximum");
	expect("{'params': {'n': {'type': 'string', 'required': 'yes'}}, 'workload': {}}",
	       "/params/n/required: must be true or false");
	/* defaults expand once: a default may not name a param whose default has a placeholder */
	expect("{'params': {'a': {'type': 'string', 'default': '${params.b}'}, 'b': {'type': 'string', 'default': "
	       "'${sh:params.a}'}}," WORKLOAD("") "}",
	       "/params/b/default: names the param \"a\", whose own default has a placeholder");
	expect("{'params': {'a': {'type': 'string', 'default': 'x-${params.passwordSecret}'}}, 'secrets': {'password': "
	       "{'param': 'passwordSecret', 'default': '${name}-password'}}," WORKLOAD("") "}",
	       "/params/a/default: names the param \"passwordSecret\"");
}
END_TEST

/* model_resolve_in of the stack written as text (renderutil_json) over cat. */
static int resolve_text(const struct catalog *cat, const char *stack_text, struct model_errors *errs, json_t **doc)
{
	json_t *stack = renderutil_json(stack_text);
	model_errors_init(errs);
	*doc = NULL;
	int r = model_resolve_in(cat, "s", stack, NULL, NULL, NULL, errs, doc);
	json_decref(stack);
	return r;
}

START_TEST(stored_types_override)
{
	json_t *stored = renderutil_json("{'redis': {'description': 'ours'," WORKLOAD("") "},"
					 " 'broken': {'params': {'x': {'type': 'nope'}}, 'workload': {}}}");
	struct catalog *cat = NULL;
	ck_assert_int_eq(catalog_new(stored, &cat), 0);
	const struct catalog_type *redis = catalog_find(cat, "redis");
	ck_assert(!redis->builtin);
	ck_assert_str_eq(json_string_value(json_object_get(redis->doc, "description")), "ours");
	ck_assert(catalog_find(cat, "postgres")->builtin);
	ck_assert_ptr_nonnull(catalog_find(cat, "broken")->problem);
	/* a stack using the broken type is told why */
	json_t *doc;
	struct model_errors errs;
	ck_assert_int_eq(resolve_text(cat, "{'components': {'b': {'type': 'broken'}}, 'services': {'x': "
					   "{'image': {'repository': 'x', 'tag': '1'}}}}", &errs, &doc), MODEL_EINVALID);
	ck_assert_str_eq(errs.items[0].pointer, "/components/b/type");
	ck_assert_ptr_nonnull(strstr(errs.items[0].detail, "whose stored document no longer holds"));
	model_errors_release(&errs);
	catalog_free(cat);
	json_decref(stored);
	/* nothing stored: the built-in catalog itself */
	ck_assert_int_eq(catalog_new(NULL, &cat), 0);
	ck_assert_ptr_eq(cat, catalog_builtin());
	catalog_free(cat);
}
END_TEST

/* A default inside an object param (or an object default) has its placeholders expanded
 * like a top-level one; a value the stack gives is kept as written. */
START_TEST(nested_param_defaults_expand)
{
	json_t *stored = renderutil_json(
		"{'kv': {'params': {'auth': {'type': 'object', 'properties': {'user': {'type': 'string', 'default': "
		"'${name}-user'}, 'realm': {'type': 'string', 'default': 'r-${name}'}}}},"
		" 'workload': {'image': {'repository': 'kv', 'tag': '1.0', 'registry': ''}, 'ports': {'kv': {'port': 7000}},"
		"   'env': {'USER': {'value': '${params.auth.user}'}, 'REALM': {'value': '${params.auth.realm}'}}}}}");
	struct catalog *cat = NULL;
	ck_assert_int_eq(catalog_new(stored, &cat), 0);
	ck_assert_ptr_null(catalog_find(cat, "kv")->problem);
	json_t *doc;
	struct model_errors errs;
	int r = resolve_text(cat, "{'components': {'cache': {'type': 'kv', 'auth': {'realm': 'mine-${x}'}}},"
			     " 'services': {'x': {'image': {'repository': 'x', 'tag': '1'}}}}", &errs, &doc);
	ck_assert_msg(r == 0, "%s: %s", errs.count ? errs.items[0].pointer : "", errs.count ? errs.items[0].detail : "");
	const json_t *env = json_object_get(json_object_get(json_object_get(doc, "services"), "cache"), "env");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(env, "USER"), "value")), "cache-user");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(env, "REALM"), "value")), "mine-${x}");
	model_errors_release(&errs);
	json_decref(doc);
	catalog_free(cat);
	json_decref(stored);
}
END_TEST

Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, builtin_types_load_and_check);
	tcase_add_test(tc, type_documents_checked);
	tcase_add_test(tc, stored_types_override);
	tcase_add_test(tc, nested_param_defaults_expand);
	suite_add_tcase(s, tc);
	return s;
}

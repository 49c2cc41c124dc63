/* test_docmigrate: shape-1 documents carried into shape 2 (include/docmigrate.h): probe
 * paths, the built-in path written where shape 1 completed it, ingress rules; shape-2
 * documents left alone; shape 2 into 3: the MySQL, RabbitMQ and Zipkin sections and the
 * services' database and broker as components and uses, and msa-shop's shape-2 documents
 * resolving, migrated, to what its shape-3 seed resolves to. */
#include <errno.h>
#include <string.h>

#include "docmigrate.h"
#include "jsonutil.h"
#include "model.h"
#include "suites.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, 0, &err);
	ck_assert_msg(v != NULL, "%s: %s", text, err.text);
	return v;
}

/* docmigrate_v2 of doc_text (with the stack stack_text, or NULL) gives want_text. */
static void expect(const char *stack_text, const char *doc_text, const char *want_text)
{
	json_t *stack = stack_text ? parse(stack_text) : NULL, *doc = parse(doc_text), *want = parse(want_text);
	ck_assert_int_eq(docmigrate_v2(doc, stack), 0);
	char *got = json_dumps(doc, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(doc, want), "%s\n-> %s\nwant %s", doc_text, got, want_text);
	free(got);
	/* a second pass changes nothing */
	json_t *again = json_deep_copy(doc);
	ck_assert_int_eq(docmigrate_v2(again, stack), 0);
	ck_assert(json_equal(again, want));
	json_decref(again);
	json_decref(stack);
	json_decref(doc);
	json_decref(want);
}

#define BUILTIN "{\"httpGet\": {\"path\": \"/actuator/health\"}}"
#define SD_BUILTIN "\"serviceDefaults\": {\"probes\": {\"readiness\": " BUILTIN ", \"liveness\": " BUILTIN "}}"
#define OFF "\"ingress\": {\"enabled\": false}"

START_TEST(stack_probes)
{
	/* shape 1 gave every service readiness and liveness on the built-in path */
	expect(NULL, "{\"services\": {\"a\": {\"port\": 1}}}",
	       "{" SD_BUILTIN ", \"services\": {\"a\": {\"port\": 1}}, " OFF "}");
	/* a path moves under httpGet; timings stay */
	expect(NULL, "{\"serviceDefaults\": {\"probes\": {\"readiness\": {\"path\": \"/r\", \"periodSeconds\": 5}, \"liveness\": null}}}",
	       "{\"serviceDefaults\": {\"probes\": {\"readiness\": {\"httpGet\": {\"path\": \"/r\"}, \"periodSeconds\": 5}, \"liveness\": null}}, " OFF "}");
	/* a probe without a path gets the built-in one, unless serviceDefaults gives a path */
	expect(NULL, "{\"serviceDefaults\": {\"probes\": {\"startup\": {\"path\": \"/s\"}}},"
		     " \"services\": {\"a\": {\"probes\": {\"startup\": {\"periodSeconds\": 3}, \"liveness\": {\"periodSeconds\": 9}}}}}",
	       "{\"serviceDefaults\": {\"probes\": {\"startup\": {\"httpGet\": {\"path\": \"/s\"}}, \"readiness\": " BUILTIN ", \"liveness\": " BUILTIN "}},"
	       " \"services\": {\"a\": {\"probes\": {\"startup\": {\"periodSeconds\": 3}, \"liveness\": {\"periodSeconds\": 9}}}}, " OFF "}");
}
END_TEST

START_TEST(environment_probes)
{
	static const char stack[] = "{\"serviceDefaults\": {\"probes\": {\"startup\": {\"path\": \"/s\"}}},"
				    " \"services\": {\"b\": {\"probes\": {\"readiness\": {\"path\": \"/b\"}}}}}";
	/* the stack gives a path: the environment's timings stay timings */
	expect(stack, "{\"services\": {\"a\": {\"probes\": {\"startup\": {\"failureThreshold\": 9}}}, \"b\": {\"probes\": {\"readiness\": {\"periodSeconds\": 2}}}}}",
	       "{\"services\": {\"a\": {\"probes\": {\"startup\": {\"failureThreshold\": 9}}}, \"b\": {\"probes\": {\"readiness\": {\"periodSeconds\": 2}}}}}");
	/* nothing below gives one: the built-in path is written down */
	expect("{}", "{\"services\": {\"a\": {\"probes\": {\"startup\": {\"failureThreshold\": 9}}}}}",
	       "{\"services\": {\"a\": {\"probes\": {\"startup\": {\"failureThreshold\": 9, \"httpGet\": {\"path\": \"/actuator/health\"}}}}}}");
	/* an environment gets no serviceDefaults of its own, nor an ingress */
	expect("{}", "{\"image\": {\"tag\": \"1\"}}", "{\"image\": {\"tag\": \"1\"}}");
}
END_TEST

START_TEST(ingress_rules)
{
	expect(NULL, "{" SD_BUILTIN ", \"ingress\": {\"enabled\": true, \"className\": \"nginx\", \"host\": \"\", \"path\": \"/\","
		     " \"service\": \"web\", \"tls\": {\"enabled\": false, \"secretName\": \"\"}, \"annotations\": {\"a\": \"b\"}}}",
	       "{" SD_BUILTIN ", \"ingress\": {\"enabled\": true, \"className\": \"nginx\", \"annotations\": {\"a\": \"b\"},"
	       " \"rules\": {\"main\": {\"host\": \"\", \"path\": \"/\", \"service\": \"web\", \"tls\": {\"enabled\": false, \"secretName\": \"\"}}}}}");
	/* an environment's changes, nulls included, land on the same rule */
	expect("{}", "{\"ingress\": {\"host\": \"a.example.com\", \"tls\": null, \"enabled\": true}}",
	       "{\"ingress\": {\"enabled\": true, \"rules\": {\"main\": {\"host\": \"a.example.com\", \"tls\": null}}}}");
	expect("{}", "{\"ingress\": null}", "{\"ingress\": null}");
}
END_TEST

/* Shape 2 already (the seed of a new database): left as it is. */
START_TEST(shape_two_unchanged)
{
	static const char doc[] =
		"{\"serviceDefaults\": {\"probes\": {\"readiness\": {\"tcpSocket\": {}}, \"liveness\": {\"exec\": {\"command\": [\"true\"]}}}},"
		" \"services\": {\"a\": {\"probes\": {\"startup\": {\"grpc\": {}}}}},"
		" \"ingress\": {\"enabled\": true, \"rules\": {\"r\": {\"service\": \"a\"}}}}";
	expect(NULL, doc, doc);
	json_t *arr = json_array();
	ck_assert_int_eq(docmigrate_v2(arr, NULL), 0);
	ck_assert_int_eq(docmigrate_v2(NULL, NULL), 0);
	json_decref(arr);
}
END_TEST

/* docmigrate_v3 of doc_text (with the shape-2 stack stack_text, or NULL) gives want_text,
 * and a second pass changes nothing. */
static void expect3(const char *stack_text, const char *doc_text, const char *want_text)
{
	json_t *stack = stack_text ? parse(stack_text) : NULL, *doc = parse(doc_text), *want = parse(want_text);
	ck_assert_int_eq(docmigrate_v3(doc, stack), 0);
	char *got = json_dumps(doc, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(doc, want), "%s\n-> %s\nwant %s", doc_text, got, want_text);
	free(got);
	ck_assert_int_eq(docmigrate_v3(doc, stack), 0);
	ck_assert(json_equal(doc, want));
	json_decref(stack);
	json_decref(doc);
	json_decref(want);
}

START_TEST(sections_become_components)
{
	/* a stack: type, shape 2's enabled default and the defaults the type does not share */
	expect3(NULL,
		"{\"mysql\": {\"enabled\": true, \"image\": \"registry.example.com:5000/db/mysql:8.0.36@sha256:abc\","
		" \"appPasswordSecret\": \"app\", \"storage\": {\"size\": \"5Gi\"}},"
		" \"rabbitmq\": {\"passwordSecret\": \"mq\"}, \"zipkin\": {\"image\": \"openzipkin/zipkin:3.4\"}}",
		"{\"components\": {"
		" \"mysql\": {\"type\": \"mysql\", \"enabled\": true, \"image\": {\"registry\": \"registry.example.com:5000\","
		"   \"repository\": \"db/mysql\", \"tag\": \"8.0.36\", \"digest\": \"sha256:abc\"}, \"passwordSecret\": \"app\","
		"   \"storage\": {\"size\": \"5Gi\"}},"
		" \"rabbitmq\": {\"type\": \"rabbitmq\", \"enabled\": false, \"passwordSecret\": \"mq\", \"user\": \"app\","
		"   \"image\": {\"registry\": \"\", \"repository\": \"rabbitmq\", \"tag\": \"3.13-management\"}},"
		" \"zipkin\": {\"type\": \"zipkin\", \"enabled\": false, \"image\": {\"registry\": \"\","
		"   \"repository\": \"openzipkin/zipkin\", \"tag\": \"3.4\"}}}}");
	/* an environment of a stack that has the section: what it changes only */
	expect3("{\"mysql\": {\"enabled\": true}}", "{\"mysql\": {\"storage\": {\"size\": \"1Gi\"}}, \"zipkin\": null}",
		"{\"components\": {\"mysql\": {\"storage\": {\"size\": \"1Gi\"}}, \"zipkin\": null}}");
	/* one whose stack has none: the whole component */
	expect3("{}", "{\"zipkin\": {\"enabled\": true}}",
		"{\"components\": {\"zipkin\": {\"type\": \"zipkin\", \"enabled\": true, \"image\": {\"registry\": \"\","
		" \"repository\": \"openzipkin/zipkin\", \"tag\": \"3.4\"}}}}");
}
END_TEST

START_TEST(database_and_broker_become_uses)
{
	expect3(NULL,
		"{\"serviceDefaults\": {\"broker\": true}, \"services\": {"
		" \"a\": {\"database\": {\"name\": \"adb\", \"user\": \"\"}, \"port\": 1},"
		" \"b\": {\"database\": {\"name\": \"bdb\", \"user\": \"bee\"}, \"broker\": false},"
		" \"c\": {\"database\": null, \"uses\": {\"x\": {}}}}}",
		"{\"serviceDefaults\": {\"uses\": {\"rabbitmq\": {}}}, \"services\": {"
		" \"a\": {\"uses\": {\"mysql\": {\"database\": \"adb\"}}, \"port\": 1},"
		" \"b\": {\"uses\": {\"mysql\": {\"database\": \"bdb\", \"user\": \"bee\"}, \"rabbitmq\": null}},"
		" \"c\": {\"uses\": {\"x\": {}, \"mysql\": null}}}}");
	/* an environment: broker false turns off what the stack turned on, and only that */
	expect3("{\"services\": {\"a\": {\"broker\": true}}}",
		"{\"services\": {\"a\": {\"broker\": false}, \"b\": {\"broker\": false}}}",
		"{\"services\": {\"a\": {\"uses\": {\"rabbitmq\": null}}, \"b\": {}}}");
	/* shape 3 already: nothing to do */
	static const char three[] = "{\"components\": {\"db\": {\"type\": \"postgres\"}}, \"services\": {\"a\": {\"uses\": {\"db\": {}}}}}";
	expect3(NULL, three, three);
}
END_TEST

/* The file name under tests/data/shape2/msa-shop/, parsed. */
static json_t *shape2(const char *name)
{
	char path[512];
	(void)snprintf(path, sizeof path, "%s/tests/data/shape2/msa-shop/%s.json", TEST_SOURCE_DIR, name);
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	ck_assert_msg(doc != NULL, "%s: %s", path, err.text);
	return doc;
}

/* msa-shop's documents as release 0006 seeded them, migrated, resolve to exactly what the
 * shape-3 seed resolves to, in every environment. */
START_TEST(msa_shop_migrates_to_its_seed)
{
	static const char *const envs[] = {"dev", "staging", "prod"};
	json_t *old_stack = shape2("stack"), *stack = json_deep_copy(old_stack);
	json_t *seed_stack = jsonutil_seed("msa-shop/stack.json");
	ck_assert_int_eq(docmigrate_v3(stack, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		char name[64];
		(void)snprintf(name, sizeof name, "msa-shop/%s.json", envs[i]);
		json_t *env = shape2(envs[i]), *seed_env = jsonutil_seed(name), *a = NULL, *b = NULL;
		ck_assert_int_eq(docmigrate_v3(env, old_stack), 0);
		struct model_errors errs;
		model_errors_init(&errs);
		ck_assert_int_eq(model_resolve("msa-shop", stack, envs[i], env, NULL, &errs, &a), 0);
		ck_assert_int_eq(model_resolve("msa-shop", seed_stack, envs[i], seed_env, NULL, &errs, &b), 0);
		char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);
		ck_assert_msg(json_equal(a, b), "%s differs:\n%s\n%s", envs[i], x, y);
		free(x);
		free(y);
		model_errors_release(&errs);
		json_decref(a);
		json_decref(b);
		json_decref(env);
		json_decref(seed_env);
	}
	json_decref(old_stack);
	json_decref(stack);
	json_decref(seed_stack);
}
END_TEST

Suite *docmigrate_suite(void)
{
	Suite *s = suite_create("docmigrate");
	TCase *tc = tcase_create("docmigrate");
	tcase_add_test(tc, stack_probes);
	tcase_add_test(tc, environment_probes);
	tcase_add_test(tc, ingress_rules);
	tcase_add_test(tc, shape_two_unchanged);
	tcase_add_test(tc, sections_become_components);
	tcase_add_test(tc, database_and_broker_become_uses);
	tcase_add_test(tc, msa_shop_migrates_to_its_seed);
	suite_add_tcase(s, tc);
	return s;
}

/* test_docmigrate: shape-1 documents carried into shape 2 (include/docmigrate.h): probe
 * paths, the built-in path written where shape 1 completed it, ingress rules; shape-2
 * documents left alone; every allocation failing in turn. */
#include <errno.h>
#include <string.h>

#include "docmigrate.h"
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

Suite *docmigrate_suite(void)
{
	Suite *s = suite_create("docmigrate");
	TCase *tc = tcase_create("docmigrate");
	tcase_add_test(tc, stack_probes);
	tcase_add_test(tc, environment_probes);
	tcase_add_test(tc, ingress_rules);
	tcase_add_test(tc, shape_two_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

/* test_import_score: the Score importer's mapping rule by rule on a small workload (the
 * real files are tests/js/import-score.test.mjs's), its errors, and every allocation
 * failing in turn. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allocfail.h"
#include "buf.h"
#include "catalog.h"
#include "import_score.h"
#include "model.h"
#include "suites.h"

static const char workload[] =
	"---\n# Source: api.yaml\n"
	"apiVersion: score.dev/v1b1\n"
	"metadata: {name: api, annotations: {team: shop}}\n"
	"containers:\n"
	"  api:\n"
	"    image: ghcr.io/acme/api:1.2.3\n"
	"    command: [/app/api]\n"
	"    args: [--name, \"${metadata.name}\", \"$${HOME}\"]\n"
	"    variables:\n"
	"      DB_URL: ${resources.db.uri}\n"
	"      DB: \"host=${resources.db.host} port=${resources.db.port}\"\n"
	"      TOKEN_SECRET: abc123\n"
	"      OTHER: ${resources.thing.url}\n"
	"    files: {/etc/app/conf.ini: {content: \"name=${metadata.name}\", mode: \"600\"}}\n"
	"    volumes: {/data: {source: \"${resources.data}\"}}\n"
	"    readinessProbe: {httpGet: {path: /ready, port: 8080, scheme: https, host: x}}\n"
	"    livenessProbe: {exec: {command: [true]}}\n"
	"  log:\n"
	"    image: fluent/fluent-bit\n"
	"service: {ports: {http: {port: 80, targetPort: 8080}}}\n"
	"resources:\n"
	"  db: {type: postgres}\n"
	"  data: {type: volume}\n"
	"  thing: {type: s3}\n"
	"  dns: {type: dns}\n"
	"  route: {type: route, params: {host: \"${resources.dns.host}\", path: /, port: http}}\n"
	"---\n"
	"apiVersion: score.dev/v1b1\n"
	"metadata: {name: worker}\n"
	"containers: {main: {image: \"busybox:1.36\", variables: {API: \"http://${resources.api.name}\"},\n"
	"  resources: {requests: {cpu: \"2\", memory: 1Gi}, limits: {cpu: 500m, memory: 2Gi}}}}\n"
	"resources: {api: {type: service}, db: {type: postgres, id: shared}, q: {type: amqp}}\n";

static json_t *get(const json_t *v, const char *path)
{
	return json_object_get(v, path);
}

static bool reported(const json_t *report, const char *path)
{
	size_t i;
	json_t *e;
	json_array_foreach(report, i, e)
		if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
			return true;
	return false;
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(want);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "got %s\nwant %s", g, want_text);
	free(g);
	json_decref(want);
}

START_TEST(maps_a_workload)
{
	struct buf err;
	buf_init(&err, 1024);
	struct import_score_result res = {0};
	int r = import_score(workload, strlen(workload), &err, &res);
	ck_assert_msg(r == 0, "%s", buf_cstr(&err));
	const json_t *api = get(get(res.stack, "services"), "api");
	assert_json(get(api, "image"), "{\"repository\":\"acme/api\"}");
	assert_json(get(res.stack, "image"), "{\"registry\":\"ghcr.io\"}");
	assert_json(get(api, "args"), "[\"--name\",\"api\",\"${HOME}\"]");
	assert_json(get(get(api, "env"), "DB_URL"), "{\"component\":\"db\",\"output\":\"url\"}");
	assert_json(get(get(api, "env"), "DB"), "{\"value\":\"host=${components.db.host} port=${components.db.port}\"}");
	assert_json(get(get(api, "env"), "TOKEN_SECRET"), "{\"secret\":\"token-secret\"}");
	assert_json(get(get(api, "env"), "OTHER"), "{\"value\":\"${resources.thing.url}\"}");
	assert_json(get(get(api, "volumes"), "file-conf-ini"),
		    "{\"mountPath\":\"/etc/app/conf.ini\",\"subPath\":\"conf.ini\",\"files\":{\"conf.ini\":{\"content\":\"name=api\",\"mode\":\"0600\"}}}");
	assert_json(get(get(api, "volumes"), "data"), "{\"mountPath\":\"/data\",\"emptyDir\":{}}");
	assert_json(get(api, "probes"), "{\"readiness\":{\"httpGet\":{\"path\":\"/ready\",\"port\":8080,\"scheme\":\"HTTPS\"}},"
					 "\"liveness\":{\"exec\":{\"command\":[\"true\"]}},\"startup\":null}");
	assert_json(get(api, "ports"), "{\"http\":{\"port\":80,\"targetPort\":8080}}");
	assert_json(get(get(get(api, "sidecars"), "log"), "image"), "\"fluent/fluent-bit:change-me\"");
	assert_json(get(res.stack, "components"), "{\"db\":{\"type\":\"postgres\"},\"shared\":{\"type\":\"postgres\"},"
						  "\"q\":{\"type\":\"rabbitmq\"}}");
	const json_t *worker = get(get(res.stack, "services"), "worker");
	assert_json(get(worker, "uses"), "{\"shared\":{\"database\":\"shared\",\"user\":\"shared\"},\"q\":{}}");
	assert_json(get(get(worker, "env"), "API"), "{\"value\":\"http://api\"}");
	/* a request above its limit is the limit (reported), one below it stays */
	assert_json(get(worker, "resources"), "{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},"
					       "\"limits\":{\"cpu\":\"500m\",\"memory\":\"2Gi\"}}");
	ck_assert_ptr_null(get(worker, "ports"));
	assert_json(get(get(get(res.stack, "ingress"), "rules"), "api"),
		    "{\"host\":\"\",\"path\":\"/\",\"service\":\"api\",\"port\":\"http\"}");
	ck_assert_str_eq(json_string_value(get(get(res.environment, "secrets"), "token-secret")), "abc123");
	ck_assert_str_eq(json_string_value(get(get(res.environment, "secrets"), "db-password")), "change-me");
	for (const char *const *p = (const char *const[]){"/0/resources/thing", "/0/containers/api/variables/OTHER",
							    "/0/containers/api/readinessProbe/httpGet", "/0/containers/log/image",
							    "/0/resources/data", "/0/resources/route/params/host",
							    "/1/containers/main/resources/requests", NULL};
	     *p; p++)
		ck_assert_msg(reported(res.report, *p), "%s is not reported", *p);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res.report, 0), "source")), "api.yaml");
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *resolved = NULL;
	r = model_resolve("imported", res.stack, "dev", res.environment, NULL, &errs, &resolved);
	json_t *list = model_errors_json(&errs);
	char *text = json_dumps(list, 0);
	ck_assert_msg(r == 0, "%s", text);
	free(text);
	json_decref(list);
	json_decref(resolved);
	model_errors_release(&errs);
	import_score_result_release(&res);
	buf_release(&err);
}
END_TEST

START_TEST(refuses_what_is_not_score)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"services: {web: {image: x}}\n", "/0/apiVersion: must be score.dev/v1b1 (this looks like a docker-compose file)"},
		{"apiVersion: score.dev/v1b1\ncontainers: {a: {image: x}}\n", "/0/metadata/name: is required"},
		{"---\n# Source: b.yaml\napiVersion: score.dev/v1b1\nmetadata: {name: B_1}\ncontainers: {}\n",
		 "/0/containers (b.yaml): must be"},
		{"", "empty"},
		{"---\n", "no Score workload"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf err;
		buf_init(&err, 1024);
		struct import_score_result res = {0};
		ck_assert_int_eq(import_score(cases[i].text, strlen(cases[i].text), &err, &res), -EINVAL);
		ck_assert_ptr_null(res.stack);
		ck_assert_msg(strstr(buf_cstr(&err), cases[i].want), "%zu: %s", i, buf_cstr(&err));
		buf_release(&err);
	}
}
END_TEST

/* Every allocation fails in turn (jansson's too): -ENOMEM and nothing leaked, until it works. */
START_TEST(every_allocation_fails_in_turn)
{
	ck_assert_ptr_nonnull(catalog_builtin()); /* compiled once, before any failure */
	int r = -ENOMEM;
	for (long n = 0; r == -ENOMEM && n < 100000; n++) {
		struct buf err;
		buf_init(&err, 1024);
		struct import_score_result res = {0};
		json_set_alloc_funcs(malloc, free);
		allocfail_after(n);
		r = import_score(workload, strlen(workload), &err, &res);
		allocfail_off();
		json_set_alloc_funcs(malloc, free);
		ck_assert_msg(r == 0 || r == -ENOMEM, "after %ld: %d %s", n, r, buf_cstr(&err));
		ck_assert(r == 0 || res.stack == NULL);
		import_score_result_release(&res);
		buf_release(&err);
	}
	ck_assert_int_eq(r, 0);
}
END_TEST

Suite *import_score_suite(void)
{
	Suite *s = suite_create("import_score");
	TCase *tc = tcase_create("mapping");
	tcase_add_test(tc, maps_a_workload);
	tcase_add_test(tc, refuses_what_is_not_score);
	tcase_add_test(tc, every_allocation_fails_in_turn);
	suite_add_tcase(s, tc);
	return s;
}

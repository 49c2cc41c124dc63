/* test_model: merge patch, patch_set, layering and defaults of the resolved document,
 * every validation rule (good and bad), limits, shape checks, masking, hashing, and
 * allocation failure at every step. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "jsonutil.h"
#include "model.h"
#include "schema.h"
#include "suites.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------------------- */

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
	ck_assert_msg(v != NULL, "bad test JSON at %d:%d: %s (%s)", je.line, je.column, je.text, text);
	return v;
}

/* The value at a simple pointer (no escapes) or NULL. */
static const json_t *at(const json_t *doc, const char *pointer)
{
	const json_t *v = doc;
	const char *p = pointer;
	char key[128];
	while (v && *p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
		ck_assert_uint_lt(n, sizeof key);
		memcpy(key, p + 1, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		p += n + 1;
	}
	return v;
}

static void expect_str(const json_t *doc, const char *pointer, const char *want)
{
	const json_t *v = at(doc, pointer);
	ck_assert_msg(json_is_string(v), "%s is not a string", pointer);
	ck_assert_msg(strcmp(json_string_value(v), want) == 0, "%s is \"%s\", want \"%s\"", pointer,
		      json_string_value(v), want);
}

static void expect_int(const json_t *doc, const char *pointer, long long want)
{
	const json_t *v = at(doc, pointer);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", pointer);
	ck_assert_msg(json_integer_value(v) == want, "%s is %lld, want %lld", pointer,
		      (long long)json_integer_value(v), want);
}

static void expect_bool(const json_t *doc, const char *pointer, bool want)
{
	const json_t *v = at(doc, pointer);
	ck_assert_msg(json_is_boolean(v) && json_is_true(v) == want, "%s is not %s", pointer,
		      want ? "true" : "false");
}

static void expect_null(const json_t *doc, const char *pointer)
{
	const json_t *v = at(doc, pointer);
	ck_assert_msg(v && json_is_null(v), "%s is not null", pointer);
}

struct result {
	int r;
	struct model_errors errs;
	json_t *doc;
};

static void resolve_json(const json_t *stack, const json_t *env, const json_t *overrides,
			 struct result *out)
{
	model_errors_init(&out->errs);
	out->doc = NULL;
	out->r = model_resolve("shop", stack, "test", env, overrides, &out->errs, &out->doc);
}

static void resolve_text(const char *stack, const char *env, const char *overrides, struct result *out)
{
	json_t *s = parse(stack);
	json_t *e = env ? parse(env) : NULL;
	json_t *o = overrides ? parse(overrides) : NULL;
	resolve_json(s, e, o, out);
	json_decref(s);
	json_decref(e);
	json_decref(o);
}

static void result_release(struct result *res)
{
	model_errors_release(&res->errs);
	json_decref(res->doc);
}

static void dump_errors(const struct model_errors *e, struct buf *b)
{
	for (size_t i = 0; i < e->count; i++)
		(void)buf_printf(b, "\n  %s: %s", e->items[i].pointer, e->items[i].detail);
}

static void expect_ok(const struct result *res, const char *what)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	dump_errors(&res->errs, &b);
	ck_assert_msg(res->r == 0 && res->errs.count == 0 && res->doc, "%s: r=%d, errors:%s", what, res->r,
		      buf_cstr(&b));
	buf_release(&b);
}

/* Exactly one error, at pointer, whose detail contains mention. */
static void expect_error(const struct result *res, const char *what, const char *pointer,
			 const char *mention)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	dump_errors(&res->errs, &b);
	ck_assert_msg(res->r == MODEL_EINVALID && res->doc == NULL, "%s: r=%d, want MODEL_EINVALID", what,
		      res->r);
	ck_assert_msg(res->errs.count == 1, "%s: %zu errors, want 1:%s", what, res->errs.count, buf_cstr(&b));
	ck_assert_msg(strcmp(res->errs.items[0].pointer, pointer) == 0, "%s: pointer %s, want %s", what,
		      res->errs.items[0].pointer, pointer);
	ck_assert_msg(strstr(res->errs.items[0].detail, mention) != NULL,
		      "%s: detail \"%s\" does not mention \"%s\"", what, res->errs.items[0].detail, mention);
	buf_release(&b);
}

/* A small valid stack the rule cases patch with overrides. */
static const char base_stack[] =
	"{\"image\": {\"tag\": \"1.0.0\"},"
	" \"config\": {\"k\": \"v\"},"
	" \"secrets\": {\"s\": \"x\", \"empty\": \"\"},"
	" \"services\": {\"web\": {\"image\": {\"repository\": \"web\"}, \"port\": 8080}}}";

#define MYSQL_ON "\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\"}}"
#define RABBIT_ON "\"components\": {\"mq\": {\"type\": \"rabbitmq\", \"passwordSecret\": \"s\"}}"
#define BOTH_ON "\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\"}," \
	" \"mq\": {\"type\": \"rabbitmq\", \"passwordSecret\": \"s\"}}"
#define API_SVC "\"api\": {\"image\": {\"repository\": \"api\"}, \"port\": 9090}"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- merge patch --------------------------------------------------------------------- */

/* RFC 7386 Appendix A, every example. */
static const char *const rfc7386[][3] = {
	{"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
	{"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
	{"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
	{"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
	{"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
	{"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
	{"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
	{"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
	{"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
	{"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
	{"{\"a\":\"foo\"}", "null", "null"},
	{"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
	{"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
	{"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
	{"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

START_TEST(merge_patch_rfc7386_examples)
{
	json_t *target = parse(rfc7386[_i][0]);
	json_t *patch = parse(rfc7386[_i][1]);
	json_t *want = parse(rfc7386[_i][2]);
	json_t *patch_before = json_deep_copy(patch);
	ck_assert_int_eq(model_merge_patch(&target, patch), 0);
	char *got = json_dumps(target, JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_msg(json_equal(target, want), "case %d: got %s, want %s", _i, got, rfc7386[_i][2]);
	ck_assert_msg(json_equal(patch, patch_before), "the patch was modified");
	free(got);
	json_decref(target);
	json_decref(patch);
	json_decref(want);
	json_decref(patch_before);
}
END_TEST

START_TEST(merge_patch_absent_target_and_no_aliasing)
{
	json_t *target = NULL;
	json_t *patch = parse("{\"a\": {\"b\": 1, \"c\": null}, \"d\": [1]}");
	ck_assert_int_eq(model_merge_patch(&target, patch), 0);
	json_t *want = parse("{\"a\": {\"b\": 1}, \"d\": [1]}");
	ck_assert(json_equal(target, want));
	/* the result owns copies: changing it leaves the patch alone */
	ck_assert_int_eq(json_array_append_new(json_object_get(target, "d"), json_integer(2)), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(patch, "d")), 1);
	json_decref(target);
	json_decref(patch);
	json_decref(want);
}
END_TEST

/* ---- patch_set ----------------------------------------------------------------------- */

START_TEST(patch_set_builds_nested_patches)
{
	json_t *patch = NULL;
	json_t *three = json_integer(3);
	ck_assert_int_eq(model_patch_set(&patch, "/services/order-service/replicas", three), 0);
	json_t *x = json_string("x");
	ck_assert_int_eq(model_patch_set(&patch, "/services/order-service/image/tag", x), 0);
	json_decref(x);
	json_t *null = json_null();
	ck_assert_int_eq(model_patch_set(&patch, "/services/api/database", null), 0);
	ck_assert_int_eq(model_patch_set(&patch, "/a~1b/c~0d", three), 0);
	json_t *want = parse("{\"services\": {\"order-service\": {\"replicas\": 3, \"image\": {\"tag\": \"x\"}},"
			     " \"api\": {\"database\": null}}, \"a/b\": {\"c~d\": 3}}");
	char *got = json_dumps(patch, JSON_COMPACT);
	ck_assert_msg(json_equal(patch, want), "got %s", got);
	free(got);
	/* a later set replaces a scalar on the way by an object */
	ck_assert_int_eq(model_patch_set(&patch, "/services/order-service/replicas/x", three), 0);
	expect_int(patch, "/services/order-service/replicas/x", 3);
	/* and the patch applies as expected */
	json_t *doc = parse("{\"services\": {\"api\": {\"database\": {\"name\": \"d\"}, \"port\": 1}}}");
	ck_assert_int_eq(model_merge_patch(&doc, patch), 0);
	expect_int(doc, "/services/api/port", 1);
	ck_assert_ptr_null(at(doc, "/services/api/database"));
	json_decref(doc);
	json_decref(want);
	json_decref(patch);
	json_decref(three);
}
END_TEST

START_TEST(patch_set_rejects_malformed_pointers)
{
	static const char *const bad[] = {"", "services", "/a~2", "/a~", "/~x/b",
					  "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24/25/26/27/28/29/30/31/32/33"};
	json_t *v = json_integer(1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *patch = NULL;
		ck_assert_msg(model_patch_set(&patch, bad[i], v) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_ptr_null(patch);
	}
	json_t *patch = json_array();
	ck_assert_int_eq(model_patch_set(&patch, "/a", v), -EINVAL);
	ck_assert(json_is_array(patch));
	json_decref(patch);
	patch = parse("{\"keep\": 1}");
	ck_assert_int_eq(model_patch_set(&patch, "/x~9", v), -EINVAL);
	ck_assert_uint_eq(json_object_size(patch), 1);
	ck_assert_int_eq(model_patch_set(&patch, "/", v), 0);
	expect_int(patch, "/", 1);
	json_decref(patch);
	json_decref(v);
}
END_TEST

/* ---- secretSource ---------------------------------------------------------------------- */

START_TEST(secret_source_defaults_and_rules)
{
	struct result res;
	resolve_text(base_stack, NULL, NULL, &res);
	expect_ok(&res, "defaults");
	expect_str(res.doc, "/secretSource/type", "inline");
	expect_str(res.doc, "/secretSource/name", "shop-secrets");
	expect_str(res.doc, "/secretSource/remoteKey", "shop/test");
	expect_str(res.doc, "/secretSource/secretStoreKind", "ClusterSecretStore");
	expect_str(res.doc, "/secretSource/refreshInterval", "1h");
	ck_assert(model_renders_secret_values(res.doc));
	result_release(&res);
	/* existing: references need the key declared, not a value */
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"existing\", \"name\": \"ext\"}, \"secrets\": {\"s\": \"\"},"
		     " \"services\": {\"web\": {\"env\": {\"P\": {\"secret\": \"empty\"}}}}, " MYSQL_ON "}", NULL, &res);
	expect_ok(&res, "existing without values");
	ck_assert(!model_renders_secret_values(res.doc));
	ck_assert(!model_secrets_inline(res.doc));
	result_release(&res);
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"existing\"}, \"services\": {\"web\": {\"env\": {\"P\": {\"secret\": \"nope\"}}}}}",
		     "{\"secrets\": {\"s\": \"\"}}", &res);
	expect_error(&res, "undeclared key", "/services/web/env/P/secret", "not defined");
	result_release(&res);
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"existing\"}}", NULL, &res);
	expect_error(&res, "value kept", "/secrets/s", "would not be used");
	result_release(&res);
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"externalSecret\"}, \"secrets\": {\"s\": \"\"}}", NULL, &res);
	expect_error(&res, "no store", "/secretSource/secretStore", "is required");
	result_release(&res);
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"vault\"}}", NULL, &res);
	ck_assert_int_eq(res.r, MODEL_EINVALID);
	result_release(&res);
	resolve_text(base_stack, "{\"secretSource\": {\"type\": \"externalSecret\", \"secretStore\": \"v\", \"refreshInterval\": \"1 hour\"},"
		     " \"secrets\": {\"s\": \"\"}}", NULL, &res);
	expect_error(&res, "duration", "/secretSource/refreshInterval", "duration");
	result_release(&res);
	/* inline with every secret empty renders no values */
	resolve_text(base_stack, "{\"secrets\": {\"s\": \"\"}}", NULL, &res);
	expect_ok(&res, "inline, empty");
	ck_assert(!model_renders_secret_values(res.doc));
	result_release(&res);
}
END_TEST

/* ---- the shipped stack --------------------------------------------------------------- */

static void resolve_seed(const char *env_name, struct result *res)
{
	char path[64];
	json_t *stack = jsonutil_seed("msa-shop/stack.json");
	ck_assert_int_lt(snprintf(path, sizeof path, "msa-shop/%s.json", env_name), (int)sizeof path);
	json_t *env = jsonutil_seed(path);
	json_t *stack_copy = json_deep_copy(stack), *env_copy = json_deep_copy(env);
	model_errors_init(&res->errs);
	res->doc = NULL;
	res->r = model_resolve("msa-shop", stack, env_name, env, NULL, &res->errs, &res->doc);
	expect_ok(res, env_name);
	ck_assert_msg(json_equal(stack, stack_copy) && json_equal(env, env_copy), "inputs were changed");
	ck_assert_ptr_null(json_object_get(res->doc, "serviceDefaults"));
	json_decref(stack);
	json_decref(env);
	json_decref(stack_copy);
	json_decref(env_copy);
}

START_TEST(seed_prod_resolves)
{
	struct result res;
	resolve_seed("prod", &res);
	const json_t *d = res.doc;
	expect_str(d, "/namespace", "msa-shop-prod");
	expect_str(d, "/image/tag", "1.4.2");
	expect_str(d, "/image/pullPolicy", "IfNotPresent");
	expect_int(d, "/services/order-service/replicas", 3);
	expect_str(d, "/services/order-service/resources/requests/cpu", "250m");
	expect_str(d, "/services/order-service/resources/requests/memory", "512Mi");
	expect_str(d, "/services/order-service/resources/limits/cpu", "2");
	expect_str(d, "/services/order-service/resources/limits/memory", "1Gi");
	expect_bool(d, "/services/order-service/autoscaling/enabled", true);
	expect_int(d, "/services/order-service/autoscaling/minReplicas", 3);
	expect_int(d, "/services/order-service/autoscaling/maxReplicas", 8);
	expect_int(d, "/services/order-service/autoscaling/targetCPUUtilization", 75);
	expect_bool(d, "/services/user-service/autoscaling/enabled", false);
	expect_str(d, "/services/order-service/image/registry", "ghcr.io/msa-shop");
	expect_str(d, "/services/order-service/image/repository", "order-service");
	expect_str(d, "/services/order-service/image/tag", "1.4.2");
	expect_str(d, "/services/order-service/image/digest", "");
	expect_str(d, "/services/order-service/uses/mysql/database", "orderdb");
	expect_str(d, "/services/order-service/uses/mysql/user", "order_service");
	expect_str(d, "/services/order-service/uses/mysql/passwordSecret", "mysql-password");
	ck_assert_uint_eq(json_object_size(at(d, "/services/api-gateway/uses")), 0);
	ck_assert_ptr_nonnull(at(d, "/services/payment-service/uses/rabbitmq"));
	ck_assert_ptr_null(at(d, "/services/order-service/uses/rabbitmq"));
	expect_str(d, "/services/order-service/probes/startup/httpGet/path", "/actuator/health/liveness");
	expect_str(d, "/services/order-service/probes/startup/httpGet/port", "http");
	expect_int(d, "/services/order-service/probes/startup/periodSeconds", 5);
	expect_int(d, "/services/order-service/probes/startup/failureThreshold", 36);
	expect_int(d, "/services/order-service/probes/startup/timeoutSeconds", 2);
	expect_int(d, "/services/order-service/probes/readiness/initialDelaySeconds", 0);
	expect_str(d, "/services/order-service/probes/readiness/httpGet/path", "/actuator/health/readiness");
	/* serviceDefaults env comes first, then the service's own, in order */
	const json_t *env = at(d, "/services/order-service/env");
	ck_assert_str_eq(json_object_iter_key(json_object_iter((json_t *)env)), "SPRING_PROFILES_ACTIVE");
	ck_assert_uint_eq(json_object_size(env), 8);
	expect_str(d, "/config/spring-profiles-active", "k8s,prod");
	expect_str(d, "/components/mysql/storage/size", "50Gi");
	expect_str(d, "/components/mysql/storage/className", "standard-rwo");
	expect_str(d, "/components/mysql/resources/limits/memory", "4Gi");
	expect_str(d, "/services/mysql/volumes/data/persistent/size", "50Gi");
	expect_str(d, "/services/mysql/resources/limits/memory", "4Gi");
	expect_str(d, "/components/rabbitmq/storage/size", "10Gi");
	expect_str(d, "/components/rabbitmq/storage/className", "");
	expect_bool(d, "/components/zipkin/enabled", true);
	expect_str(d, "/components/zipkin/image/repository", "openzipkin/zipkin");
	expect_str(d, "/services/zipkin/image/tag", "3.4");
	expect_str(d, "/services/zipkin/resources/limits/cpu", "500m");
	expect_str(d, "/ingress/rules/main/host", "shop.example.com");
	expect_bool(d, "/ingress/rules/main/tls/enabled", true);
	expect_str(d, "/ingress/rules/main/tls/secretName", "msa-shop-tls");
	expect_str(d, "/ingress/rules/main/service", "api-gateway");
	expect_str(d, "/ingress/rules/main/port", "http");
	result_release(&res);
}
END_TEST

START_TEST(seed_dev_resolves)
{
	struct result res;
	resolve_seed("dev", &res);
	const json_t *d = res.doc;
	expect_str(d, "/namespace", "msa-shop-dev");
	expect_str(d, "/image/pullPolicy", "Always");
	expect_str(d, "/image/tag", "1.5.0-rc.1");
	expect_str(d, "/services/api-gateway/image/tag", "1.5.0-rc.1");
	expect_int(d, "/services/order-service/replicas", 1);
	expect_str(d, "/services/order-service/resources/requests/cpu", "50m");
	expect_str(d, "/services/order-service/resources/limits/memory", "512Mi");
	expect_str(d, "/components/mysql/storage/size", "1Gi");
	expect_bool(d, "/components/zipkin/enabled", false);
	ck_assert_ptr_null(at(d, "/services/zipkin"));
	expect_str(d, "/ingress/rules/main/host", "shop.dev.localhost");
	expect_bool(d, "/ingress/rules/main/tls/enabled", false);
	/* the stack leaves tls.secretName "", which means the default */
	expect_str(d, "/ingress/rules/main/tls/secretName", "msa-shop-tls");
	expect_str(d, "/secrets/jwt-secret", "dev-jwt-secret-not-for-production");
	result_release(&res);
}
END_TEST

START_TEST(seed_staging_resolves)
{
	struct result res;
	resolve_seed("staging", &res);
	const json_t *d = res.doc;
	expect_str(d, "/namespace", "msa-shop-staging");
	expect_int(d, "/services/api-gateway/replicas", 2);
	expect_int(d, "/services/order-service/replicas", 2);
	expect_str(d, "/services/order-service/resources/requests/memory", "384Mi");
	expect_str(d, "/components/mysql/storage/size", "10Gi");
	expect_bool(d, "/components/zipkin/enabled", true);
	expect_str(d, "/ingress/rules/main/host", "shop.staging.example.com");
	result_release(&res);
}
END_TEST

/* ---- defaults and layering ----------------------------------------------------------- */

START_TEST(resolve_fills_every_default)
{
	struct result res;
	resolve_text(base_stack, NULL, NULL, &res);
	expect_ok(&res, "base");
	const json_t *d = res.doc;
	expect_str(d, "/description", "");
	expect_str(d, "/namespace", "shop-test");
	expect_str(d, "/image/registry", "");
	expect_str(d, "/image/pullPolicy", "IfNotPresent");
	expect_str(d, "/image/pullSecret", "");
	expect_bool(d, "/services/web/enabled", true);
	expect_str(d, "/services/web/image/registry", "");
	expect_str(d, "/services/web/image/tag", "1.0.0");
	expect_str(d, "/services/web/image/digest", "");
	expect_int(d, "/services/web/replicas", 1);
	ck_assert_uint_eq(json_object_size(at(d, "/services/web/env")), 0);
	ck_assert_uint_eq(json_object_size(at(d, "/services/web/uses")), 0);
	static const char *const probes[] = {"readiness", "liveness"};
	for (int i = 0; i < 2; i++) {
		char p[96];
		ck_assert_int_gt(snprintf(p, sizeof p, "/services/web/probes/%s", probes[i]), 0);
		ck_assert_uint_eq(json_object_size(at(d, p)), 6);
		ck_assert_int_gt(snprintf(p, sizeof p, "/services/web/probes/%s/tcpSocket/port", probes[i]), 0);
		expect_str(d, p, "http"); /* a TCP check of the first port suits any image */
	}
	expect_int(d, "/services/web/probes/liveness/initialDelaySeconds", 0);
	expect_int(d, "/services/web/probes/liveness/periodSeconds", 10);
	expect_int(d, "/services/web/probes/liveness/timeoutSeconds", 2);
	expect_int(d, "/services/web/probes/liveness/failureThreshold", 3);
	expect_null(d, "/services/web/probes/startup");
	expect_str(d, "/services/web/resources/requests/cpu", "100m");
	expect_str(d, "/services/web/resources/requests/memory", "256Mi");
	expect_str(d, "/services/web/resources/limits/cpu", "1");
	expect_str(d, "/services/web/resources/limits/memory", "512Mi");
	expect_bool(d, "/services/web/autoscaling/enabled", false);
	expect_int(d, "/services/web/autoscaling/minReplicas", 2);
	expect_int(d, "/services/web/autoscaling/maxReplicas", 5);
	expect_int(d, "/services/web/autoscaling/targetCPUUtilization", 80);
	expect_bool(d, "/services/web/disruptionBudget/enabled", true);
	expect_int(d, "/services/web/securityContext/runAsUser", 1000);
	expect_bool(d, "/services/web/securityContext/readOnlyRootFilesystem", true);
	ck_assert_uint_eq(json_object_size(at(d, "/components")), 0);
	expect_bool(d, "/ingress/enabled", true);
	expect_str(d, "/ingress/className", "nginx");
	ck_assert_uint_eq(json_object_size(at(d, "/ingress/rules")), 0);
	ck_assert(json_is_object(at(d, "/ingress/annotations")));
	expect_str(d, "/services/web/kind", "Deployment");
	expect_int(d, "/services/web/ports/http/port", 8080);
	expect_int(d, "/services/web/ports/http/targetPort", 8080);
	expect_str(d, "/services/web/ports/http/protocol", "TCP");
	ck_assert_ptr_null(at(d, "/services/web/port"));
	expect_null(d, "/services/web/command");
	expect_str(d, "/services/web/expose/type", "ClusterIP");
	expect_int(d, "/services/web/securityContext/runAsGroup", 1000);
	expect_int(d, "/services/web/securityContext/fsGroup", 1000);
	expect_bool(d, "/services/web/securityContext/runAsNonRoot", true);
	expect_str(d, "/services/web/serviceAccount/name", "web");
	expect_str(d, "/services/web/scheduling/spread", "soft");
	expect_bool(d, "/networkPolicies/enabled", false);
	result_release(&res);
}
END_TEST

START_TEST(resolve_namespace_without_env_name)
{
	json_t *stack = parse(base_stack);
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	ck_assert_int_eq(model_resolve("shop", stack, NULL, json_null(), NULL, &errs, &doc), 0);
	expect_str(doc, "/namespace", "shop");
	json_decref(doc);
	json_decref(stack);
	model_errors_release(&errs);
}
END_TEST

START_TEST(resolve_layers_in_order)
{
	static const char stack[] =
		"{\"image\": {\"tag\": \"1.0.0\", \"registry\": \"ghcr.io/a\"},"
		" \"serviceDefaults\": {\"replicas\": 2,"
		"   \"probes\": {\"startup\": {\"httpGet\": {\"path\": \"/s\"}}},"
		"   \"env\": {\"A\": {\"value\": \"1\"}}},"
		" \"services\": {"
		"   \"web\": {\"image\": {\"repository\": \"web\"}, \"port\": 80, \"env\": {\"B\": {\"value\": \"2\"}}},"
		"   \"api\": {\"image\": {\"repository\": \"api\", \"tag\": \"9.9\", \"registry\": \"\"},"
		"            \"port\": 81, \"replicas\": 5, \"uses\": {\"db\": {\"database\": \"apidb\", \"user\": \"x\"}}},"
		"   \"old\": {\"image\": {\"repository\": \"old\"}, \"port\": 82}},"
		" " MYSQL_ON ", \"secrets\": {\"s\": \"x\"}}";
	static const char env[] =
		"{\"serviceDefaults\": {\"replicas\": 3, \"probes\": {\"readiness\": null}},"
		" \"services\": {\"web\": {\"probes\": {\"startup\": null}, \"env\": {\"A\": null}},"
		"              \"old\": null}}";
	static const char overrides[] = "{\"services\": {\"api\": {\"replicas\": 7, \"uses\": {\"db\": {\"user\": null}}}}}";
	struct result res;
	resolve_text(stack, env, overrides, &res);
	expect_ok(&res, "layers");
	const json_t *d = res.doc;
	expect_int(d, "/services/web/replicas", 3);
	expect_int(d, "/services/api/replicas", 7);
	/* null in a service removes what serviceDefaults gave it */
	expect_null(d, "/services/web/probes/startup");
	expect_str(d, "/services/api/probes/startup/httpGet/path", "/s");
	expect_int(d, "/services/api/probes/startup/periodSeconds", 10);
	/* null in serviceDefaults removes a built-in probe */
	expect_null(d, "/services/web/probes/readiness");
	expect_str(d, "/services/web/probes/liveness/tcpSocket/port", "http");
	ck_assert_ptr_null(at(d, "/services/web/env/A"));
	expect_str(d, "/services/web/env/B/value", "2");
	expect_str(d, "/services/api/env/A/value", "1");
	ck_assert_ptr_null(at(d, "/services/old"));
	expect_str(d, "/services/web/image/registry", "ghcr.io/a");
	expect_str(d, "/services/api/image/registry", "");
	expect_str(d, "/services/api/image/tag", "9.9");
	expect_str(d, "/services/api/uses/db/database", "apidb");
	expect_str(d, "/services/api/uses/db/user", "api"); /* null: the type's default again */
	result_release(&res);
}
END_TEST

/* A null (or an object replaced by another value) takes a field back to its built-in
 * default, at the top level, in serviceDefaults and in one service; other fields keep the
 * values the layers gave them. */
START_TEST(resolve_null_restores_builtin_default)
{
	static const char stack[] =
		"{\"image\": {\"tag\": \"1.0.0\", \"pullPolicy\": \"Always\"},"
		" \"serviceDefaults\": {\"replicas\": 4, \"securityContext\": {\"runAsUser\": 7}},"
		" \"services\": {\"web\": {\"image\": {\"repository\": \"web\"}, \"port\": 80,"
		"                        \"autoscaling\": {\"maxReplicas\": 9}},"
		"              \"api\": {\"image\": {\"repository\": \"api\"}, \"port\": 81}},"
		" \"secrets\": {\"db-root-password\": \"r\", \"db-password\": \"p\"},"
		" \"components\": {\"db\": {\"type\": \"mysql\", \"image\": {\"tag\": \"9.0.0\"}, \"storage\": \"big\"}}}";
	static const char env[] =
		"{\"image\": {\"pullPolicy\": null},"
		" \"serviceDefaults\": {\"securityContext\": {\"runAsUser\": null}},"
		" \"services\": {\"web\": {\"autoscaling\": null, \"replicas\": null}},"
		" \"components\": {\"db\": {\"image\": null, \"storage\": {\"size\": \"9Gi\"}}}}";
	struct result res;
	resolve_text(stack, env, NULL, &res);
	expect_ok(&res, "nulls");
	const json_t *d = res.doc;
	expect_str(d, "/image/pullPolicy", "IfNotPresent");
	expect_str(d, "/image/tag", "1.0.0");
	expect_str(d, "/components/db/image/tag", "8.0.36");
	expect_str(d, "/components/db/storage/size", "9Gi");
	expect_str(d, "/components/db/storage/className", "");
	expect_int(d, "/services/web/replicas", 1);
	expect_int(d, "/services/api/replicas", 4);
	expect_int(d, "/services/web/securityContext/runAsUser", 1000);
	expect_bool(d, "/services/web/securityContext/readOnlyRootFilesystem", true);
	expect_int(d, "/services/web/autoscaling/maxReplicas", 5);
	expect_int(d, "/services/api/autoscaling/minReplicas", 2);
	result_release(&res);
}
END_TEST

/* Services start from the same serviceDefaults: what one service changes or is completed
 * with (its database user) never shows in another, nor in the inputs. */
START_TEST(resolve_services_do_not_share_changes)
{
	static const char stack[] =
		"{\"image\": {\"tag\": \"1.0.0\"}, " MYSQL_ON ", \"secrets\": {\"s\": \"x\"},"
		" \"serviceDefaults\": {\"uses\": {\"db\": {\"database\": \"appdb\"}},"
		"                     \"resources\": {\"limits\": {\"cpu\": \"1\"}},"
		"                     \"probes\": {\"startup\": {\"httpGet\": {\"path\": \"/s\"}}}},"
		" \"services\": {\"web-app\": {\"image\": {\"repository\": \"web\"}, \"port\": 80,"
		"                            \"resources\": {\"limits\": {\"cpu\": \"2\"}},"
		"                            \"probes\": {\"startup\": {\"periodSeconds\": 7}}},"
		"              \"api\": {\"image\": {\"repository\": \"api\"}, \"port\": 81}}}";
	json_t *input = parse(stack);
	char *before = json_dumps(input, JSON_SORT_KEYS);
	struct result res;
	resolve_json(input, NULL, NULL, &res);
	expect_ok(&res, "shared defaults");
	const json_t *d = res.doc;
	expect_str(d, "/services/web-app/uses/db/user", "web_app");
	expect_str(d, "/services/api/uses/db/user", "api");
	expect_str(d, "/services/api/uses/db/database", "appdb");
	expect_str(d, "/services/web-app/resources/limits/cpu", "2");
	expect_str(d, "/services/api/resources/limits/cpu", "1");
	expect_int(d, "/services/web-app/probes/startup/periodSeconds", 7);
	expect_int(d, "/services/api/probes/startup/periodSeconds", 10);
	expect_str(d, "/services/api/probes/startup/httpGet/path", "/s");
	/* each service's probe port is its own first port, though serviceDefaults shared the probe */
	expect_str(d, "/services/web-app/probes/startup/httpGet/port", "http");
	expect_str(d, "/services/web-app/probes/readiness/tcpSocket/port", "http");
	result_release(&res);
	char *after = json_dumps(input, JSON_SORT_KEYS);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	json_decref(input);
}
END_TEST

/* A problem in what serviceDefaults gives every service is reported on each of them, in
 * the order of the services, even where they share the value. */
START_TEST(resolve_reports_shared_default_on_each_service)
{
	static const char stack[] =
		"{\"image\": {\"tag\": \"1.0.0\"},"
		" \"serviceDefaults\": {\"resources\": {\"requests\": {\"cpu\": \"lots\"}},"
		"                     \"securityContext\": {\"runAsUser\": 0}},"
		" \"services\": {\"web\": {\"image\": {\"repository\": \"web\"}, \"port\": 80},"
		"              \"api\": {\"image\": {\"repository\": \"api\"}, \"port\": 81}}}";
	static const char *const want[] = {
		"/services/web/resources/requests/cpu", "/services/api/resources/requests/cpu",
		"/services/web/securityContext/runAsUser", "/services/api/securityContext/runAsUser"};
	struct result res;
	resolve_text(stack, NULL, NULL, &res);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	dump_errors(&res.errs, &b);
	ck_assert_msg(res.r == MODEL_EINVALID && res.errs.count == 4, "r=%d, errors:%s", res.r, buf_cstr(&b));
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(res.errs.items[i].pointer, want[i]);
	buf_release(&b);
	result_release(&res);
}
END_TEST

START_TEST(resolve_database_user_default)
{
	struct result res;
	resolve_text(base_stack, NULL,
		     "{" MYSQL_ON ", \"services\": {\"order-service\": {\"image\": {\"repository\": \"o\"},"
		     " \"port\": 1, \"uses\": {\"db\": {}}}}}",
		     &res);
	expect_ok(&res, "database user");
	expect_str(res.doc, "/services/order-service/uses/db/user", "order_service");
	expect_str(res.doc, "/services/order-service/uses/db/database", "order_service");
	result_release(&res);
}
END_TEST

START_TEST(resolve_converts_config_scalars)
{
	struct result res;
	resolve_text(base_stack, NULL,
		     "{\"config\": {\"port\": 3306, \"on\": true, \"off\": false, \"neg\": -7},"
		     " \"secrets\": {\"pin\": 1234}}",
		     &res);
	expect_ok(&res, "scalars");
	expect_str(res.doc, "/config/port", "3306");
	expect_str(res.doc, "/config/on", "true");
	expect_str(res.doc, "/config/off", "false");
	expect_str(res.doc, "/config/neg", "-7");
	expect_str(res.doc, "/config/k", "v");
	expect_str(res.doc, "/secrets/pin", "1234");
	result_release(&res);

	resolve_text(base_stack, NULL, "{\"config\": {\"ratio\": 1e3}}", &res);
	expect_error(&res, "real config", "/config/ratio", "must be a string; write \"1000\"");
	result_release(&res);
	resolve_text(base_stack, NULL, "{\"config\": {\"list\": [1]}}", &res);
	expect_error(&res, "array config", "/config/list", "must be a string, got an array");
	result_release(&res);
}
END_TEST

START_TEST(resolve_reports_typo_with_suggestion)
{
	struct result res;
	resolve_text(base_stack, NULL, "{\"services\": {\"web\": {\"replcas\": 3}}}", &res);
	expect_error(&res, "replcas", "/services/web/replcas", "did you mean \"replicas\"?");
	result_release(&res);
	resolve_text(base_stack, NULL, "{\"namspace\": \"x\"}", &res);
	expect_error(&res, "namspace", "/namspace", "did you mean \"namespace\"?");
	result_release(&res);
	resolve_text(base_stack, NULL, "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\","
		     " \"passwordSecret\": \"s\", \"storage\": {\"sise\": \"1Gi\"}}}}", &res);
	expect_error(&res, "sise", "/components/db/storage/sise", "did you mean \"size\"?");
	result_release(&res);
	/* nothing close: the known fields are listed */
	resolve_text(base_stack, NULL, "{\"components\": {\"z\": {\"type\": \"zipkin\", \"frobnicate\": 1}}}", &res);
	expect_error(&res, "unknown", "/components/z/frobnicate", "image, resources, maxSpans");
	result_release(&res);
	/* unknown fields in serviceDefaults show up on the services they were merged into */
	resolve_text(base_stack, NULL, "{\"serviceDefaults\": {\"replcas\": 3}}", &res);
	expect_error(&res, "serviceDefaults", "/services/web/replcas", "did you mean \"replicas\"?");
	result_release(&res);
}
END_TEST

START_TEST(resolve_reports_all_problems_at_once)
{
	struct result res;
	resolve_text(base_stack, NULL,
		     "{\"namespace\": \"Bad_NS\", \"services\": {\"web\": {\"replicas\": -2, \"port\": 0}}}",
		     &res);
	ck_assert_int_eq(res.r, MODEL_EINVALID);
	ck_assert_uint_eq(res.errs.count, 3);
	static const char *const want[][2] = {
		{"/namespace", "DNS label"},
		{"/services/web/replicas", "must be an integer from 0 to 1000, got -2"},
		{"/services/web/port", "must be an integer from 1 to 65535, got 0"},
	};
	for (size_t i = 0; i < 3; i++) {
		bool found = false;
		for (size_t j = 0; j < res.errs.count; j++)
			found |= !strcmp(res.errs.items[j].pointer, want[i][0]) &&
				 strstr(res.errs.items[j].detail, want[i][1]);
		ck_assert_msg(found, "no error at %s mentioning %s", want[i][0], want[i][1]);
	}
	json_t *arr = model_errors_json(&res.errs);
	ck_assert_uint_eq(json_array_size(arr), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "pointer")),
			 res.errs.items[0].pointer);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 2), "detail")),
			 res.errs.items[2].detail);
	json_decref(arr);
	result_release(&res);
}
END_TEST

START_TEST(resolve_rejects_bad_layers)
{
	struct result res;
	resolve_text("[1]", NULL, NULL, &res);
	expect_error(&res, "stack array", "", "the stack must be a JSON object");
	result_release(&res);
	resolve_text(base_stack, "\"prod\"", NULL, &res);
	expect_error(&res, "env string", "", "the environment must be a JSON object");
	result_release(&res);
	resolve_text(base_stack, NULL, "{\"serviceDefaults\": 5}", &res);
	expect_error(&res, "serviceDefaults", "/serviceDefaults", "must be an object");
	result_release(&res);
	resolve_text(base_stack, NULL, "{\"image\": {\"tag\": null}}", &res);
	expect_error(&res, "no tag", "/services/web/image/tag", "is required");
	result_release(&res);
	/* no port: a worker, with no probes unless it says how */
	resolve_text(base_stack, NULL, "{\"services\": {\"web\": {\"port\": null}}}", &res);
	expect_ok(&res, "no port");
	ck_assert_uint_eq(json_object_size(at(res.doc, "/services/web/ports")), 0);
	expect_null(res.doc, "/services/web/probes/readiness");
	expect_null(res.doc, "/services/web/probes/liveness");
	result_release(&res);
}
END_TEST

/* ---- every rule: a good and a bad case --------------------------------------------- */

struct rule_case {
	const char *name;
	const char *overrides;
	const char *pointer; /* NULL: must resolve without errors */
	const char *mention;
};

static const struct rule_case rule_cases[] = {
	{"service name ok", "{\"services\": {\"a-1\": {\"image\": {\"repository\": \"a\"}, \"port\": 1}}}", NULL, NULL},
	{"service name upper", "{\"services\": {\"Web\": {\"image\": {\"repository\": \"a\"}, \"port\": 1}}}", "/services/Web", "DNS label"},
	{"service name digit", "{\"services\": {\"1web\": {\"image\": {\"repository\": \"a\"}, \"port\": 1}}}", "/services/1web", "start with a letter"},
	{"service name 64", "{\"services\": {\"a123456789012345678901234567890123456789012345678901234567890bcd\": {\"image\": {\"repository\": \"a\"}, \"port\": 1}}}",
	 "/services/a123456789012345678901234567890123456789012345678901234567890bcd", "at most 63"},
	{"namespace ok", "{\"namespace\": \"team-a\"}", NULL, NULL},
	{"namespace bad", "{\"namespace\": \"team_a\"}", "/namespace", "DNS label"},
	{"port max", "{\"services\": {\"web\": {\"port\": 65535}}}", NULL, NULL},
	{"port 0", "{\"services\": {\"web\": {\"port\": 0}}}", "/services/web/port", "from 1 to 65535, got 0"},
	{"port 65536", "{\"services\": {\"web\": {\"port\": 65536}}}", "/services/web/port", "got 65536"},
	{"port string", "{\"services\": {\"web\": {\"port\": \"80\"}}}", "/services/web/port", "got the string \"80\""},
	{"replicas 0", "{\"services\": {\"web\": {\"replicas\": 0}}}", NULL, NULL},
	{"replicas 1000", "{\"services\": {\"web\": {\"replicas\": 1000}}}", NULL, NULL},
	{"replicas -2", "{\"services\": {\"web\": {\"replicas\": -2}}}", "/services/web/replicas", "must be an integer from 0 to 1000, got -2"},
	{"replicas 1001", "{\"services\": {\"web\": {\"replicas\": 1001}}}", "/services/web/replicas", "got 1001"},
	{"replicas real", "{\"services\": {\"web\": {\"replicas\": 1.5}}}", "/services/web/replicas", "got the number 1.5"},
	{"enabled string", "{\"services\": {\"web\": {\"enabled\": \"yes\"}}}", "/services/web/enabled", "true or false"},
	{"image not object", "{\"image\": \"x\"}", "/image", "must be an object"},
	{"hpa min=max", "{\"services\": {\"web\": {\"autoscaling\": {\"enabled\": true, \"minReplicas\": 4, \"maxReplicas\": 4}}}}", NULL, NULL},
	{"hpa min>max", "{\"services\": {\"web\": {\"autoscaling\": {\"minReplicas\": 6, \"maxReplicas\": 5}}}}", "/services/web/autoscaling/minReplicas", "maxReplicas (5), got 6"},
	{"hpa min 0", "{\"services\": {\"web\": {\"autoscaling\": {\"minReplicas\": 0}}}}", "/services/web/autoscaling/minReplicas", "from 1 to 1000"},
	{"hpa target 100", "{\"services\": {\"web\": {\"autoscaling\": {\"targetCPUUtilization\": 100}}}}", NULL, NULL},
	{"hpa target 0", "{\"services\": {\"web\": {\"autoscaling\": {\"targetCPUUtilization\": 0}}}}", "/services/web/autoscaling/targetCPUUtilization", "from 1 to 100"},
	{"hpa target 101", "{\"services\": {\"web\": {\"autoscaling\": {\"targetCPUUtilization\": 101}}}}", "/services/web/autoscaling/targetCPUUtilization", "got 101"},
	{"quantities ok", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"cpu\": \"0.5\", \"memory\": \"0.5Gi\"}, \"limits\": {\"cpu\": \"500m\", \"memory\": \"512Mi\"}}}}}", NULL, NULL},
	{"quantity exponent", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"cpu\": \"1e-1\", \"memory\": \"1e6\"}, \"limits\": {\"cpu\": \"1E0\", \"memory\": \"1.5e+6\"}}}}}", NULL, NULL},
	{"quantity bad suffix", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"cpu\": \"250x\"}}}}}", "/services/web/resources/requests/cpu", "Kubernetes quantity"},
	{"quantity spaces", "{\"services\": {\"web\": {\"resources\": {\"limits\": {\"memory\": \"1 Gi\"}}}}}", "/services/web/resources/limits/memory", "Kubernetes quantity"},
	{"quantity lowercase ki", "{\"services\": {\"web\": {\"resources\": {\"limits\": {\"memory\": \"512mi\"}}}}}", "/services/web/resources/limits/memory", "Kubernetes quantity"},
	{"quantity zero", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"cpu\": \"0\"}}}}}", "/services/web/resources/requests/cpu", "greater than zero"},
	{"quantity negative", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"memory\": \"-1Mi\"}}}}}", "/services/web/resources/requests/memory", "greater than zero"},
	{"request over limit", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"cpu\": \"1001m\"}}}}}", "/services/web/resources/requests/cpu", "must not be more than the limit \"1\""},
	{"memory over limit", "{\"services\": {\"web\": {\"resources\": {\"requests\": {\"memory\": \"0.6Gi\"}, \"limits\": {\"memory\": \"600Mi\"}}}}}", "/services/web/resources/requests/memory", "limit \"600Mi\""},
	{"infra over limit", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\", \"resources\": {\"requests\": {\"memory\": \"2Gi\"}}}}}", "/components/db/resources/requests/memory", "limit \"1Gi\""},
	{"storage ok", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\", \"storage\": {\"size\": \"20Gi\", \"className\": \"fast.ssd-1\"}}}}", NULL, NULL},
	{"storage bad", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\", \"storage\": {\"size\": \"5GB\"}}}}", "/components/db/storage/size", "Kubernetes quantity"},
	{"storage class bad", "{\"components\": {\"mq\": {\"type\": \"rabbitmq\", \"passwordSecret\": \"s\", \"storage\": {\"className\": \"Fast_SSD\"}}}}", "/components/mq/storage/className", "StorageClass"},
	{"tag ok", "{\"image\": {\"tag\": \"1.4.2_rc-1\"}}", NULL, NULL},
	{"tag latest", "{\"image\": {\"tag\": \"latest\"}}", "/image/tag", "must not be \"latest\""},
	{"tag dash", "{\"image\": {\"tag\": \"-1\"}}", "/image/tag", "image tag"},
	{"tag slash", "{\"services\": {\"web\": {\"image\": {\"tag\": \"a/b\"}}}}", "/services/web/image/tag", "image tag"},
	{"tag 129", "{\"image\": {\"tag\": \"a12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678\"}}", "/image/tag", "128"},
	{"digest ok", "{\"services\": {\"web\": {\"image\": {\"digest\": \"sha256:" HEX64 "\"}}}}", NULL, NULL},
	{"digest short", "{\"services\": {\"web\": {\"image\": {\"digest\": \"sha256:abc\"}}}}", "/services/web/image/digest", "64 lowercase hex"},
	{"repository ok", "{\"services\": {\"web\": {\"image\": {\"repository\": \"team/web__x.y-z\"}}}}", NULL, NULL},
	{"repository upper", "{\"services\": {\"web\": {\"image\": {\"repository\": \"Web\"}}}}", "/services/web/image/repository", "image repository"},
	{"repository trailing", "{\"services\": {\"web\": {\"image\": {\"repository\": \"web_\"}}}}", "/services/web/image/repository", "image repository"},
	{"registry ok", "{\"image\": {\"registry\": \"localhost:5000/team\"}}", NULL, NULL},
	{"registry url", "{\"image\": {\"registry\": \"https://ghcr.io\"}}", "/image/registry", "registry such as"},
	{"registry port", "{\"services\": {\"web\": {\"image\": {\"registry\": \"ghcr.io:x\"}}}}", "/services/web/image/registry", "registry such as"},
	{"image ref ok", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\", \"image\": {\"registry\": \"registry.example.com:5000/team\", \"tag\": \"8.0.36\"}}}}", NULL, NULL},
	{"image ref digest", "{\"components\": {\"z\": {\"type\": \"zipkin\", \"image\": {\"digest\": \"sha256:" HEX64 "\"}}}}", NULL, NULL},
	{"image ref no tag", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\", \"image\": {\"tag\": \"\"}}}}", "/components/db/image/tag", "image tag"},
	{"image ref latest", "{\"components\": {\"mq\": {\"type\": \"rabbitmq\", \"passwordSecret\": \"s\", \"image\": {\"tag\": \"latest\"}}}}", "/components/mq/image/tag", "\"latest\""},
	{"image ref bad", "{\"components\": {\"z\": {\"type\": \"zipkin\", \"image\": {\"repository\": \"Zipkin\"}}}}", "/components/z/image/repository", "image repository"},
	{"pull policy", "{\"image\": {\"pullPolicy\": \"Sometimes\"}}", "/image/pullPolicy", "\"IfNotPresent\", \"Always\", \"Never\""},
	{"pull secret ok", "{\"image\": {\"pullSecret\": \"regcred\"}}", NULL, NULL},
	{"pull secret bad", "{\"image\": {\"pullSecret\": \"reg_cred\"}}", "/image/pullSecret", "DNS label"},
	{"host wildcard", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"host\": \"*.example.com\"}}}}", NULL, NULL},
	{"host upper", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"host\": \"Shop.example.com\"}}}}", "/ingress/rules/r/host", "DNS name"},
	{"host empty label", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"host\": \"a..b\"}}}}", "/ingress/rules/r/host", "DNS name"},
	{"host long label", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"host\": \"a123456789012345678901234567890123456789012345678901234567890bcd.com\"}}}}", "/ingress/rules/r/host", "DNS name"},
	{"env name ok", "{\"services\": {\"web\": {\"env\": {\"_X1\": {\"value\": \"a\"}}}}}", NULL, NULL},
	{"env name digit", "{\"services\": {\"web\": {\"env\": {\"1X\": {\"value\": \"a\"}}}}}", "/services/web/env/1X", "environment variable name"},
	{"env name dash", "{\"services\": {\"web\": {\"env\": {\"A-B\": {\"value\": \"a\"}}}}}", "/services/web/env/A-B", "environment variable name"},
	{"env none", "{\"services\": {\"web\": {\"env\": {\"X\": {}}}}}", "/services/web/env/X", "exactly one of"},
	{"env two", "{\"services\": {\"web\": {\"env\": {\"X\": {\"value\": \"a\", \"config\": \"k\"}}}}}", "/services/web/env/X", "got 2"},
	{"env value type", "{\"services\": {\"web\": {\"env\": {\"X\": {\"value\": 5}}}}}", "/services/web/env/X/value", "must be a string"},
	{"env config ok", "{\"services\": {\"web\": {\"env\": {\"X\": {\"config\": \"k\"}}}}}", NULL, NULL},
	{"env config missing", "{\"services\": {\"web\": {\"env\": {\"X\": {\"config\": \"nope\"}}}}}", "/services/web/env/X/config", "not defined in /config"},
	{"env secret ok", "{\"services\": {\"web\": {\"env\": {\"X\": {\"secret\": \"s\"}}}}}", NULL, NULL},
	{"env secret missing", "{\"services\": {\"web\": {\"env\": {\"X\": {\"secret\": \"t\"}}}}}", "/services/web/env/X/secret", "not defined in /secrets"},
	{"env secret typo", "{\"services\": {\"web\": {\"env\": {\"X\": {\"secret\": \"emptyy\"}}}}}", "/services/web/env/X/secret", "did you mean \"empty\"?"},
	{"env secret empty", "{\"services\": {\"web\": {\"env\": {\"X\": {\"secret\": \"empty\"}}}}}", "/services/web/env/X/secret", "has no value"},
	{"disabled service refs", "{\"services\": {\"web\": {\"enabled\": false}, " API_SVC ", \"off\": {\"enabled\": false, \"image\": {\"repository\": \"o\"}, \"port\": 1, \"env\": {\"X\": {\"secret\": \"empty\"}}}}}", NULL, NULL},
	{"disabled service rules", "{\"services\": {\"web\": {\"enabled\": false, \"env\": {\"X\": {\"value\": \"a\", \"secret\": \"s\"}}}, " API_SVC "}}", "/services/web/env/X", "exactly one of"},
	{"disabled service hpa", "{\"services\": {\"web\": {\"enabled\": false, \"autoscaling\": {\"minReplicas\": 9}}, " API_SVC "}}", "/services/web/autoscaling/minReplicas", "maxReplicas (5)"},
	{"mysql ok", "{" MYSQL_ON "}", NULL, NULL},
	{"mysql root missing", "{\"components\": {\"db\": {\"type\": \"mysql\", \"passwordSecret\": \"s\"}}}", "/components/db/rootPasswordSecret", "\"db-root-password\", which is not defined"},
	{"mysql app empty", "{\"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"empty\"}}}", "/components/db/passwordSecret", "has no value"},
	{"mysql off unset ok", "{\"components\": {\"db\": {\"type\": \"mysql\", \"enabled\": false, \"rootPasswordSecret\": \"empty\"}}}", NULL, NULL},
	{"rabbitmq ok", "{" RABBIT_ON "}", NULL, NULL},
	{"rabbitmq password missing", "{\"components\": {\"mq\": {\"type\": \"rabbitmq\"}}}", "/components/mq/passwordSecret", "\"mq-password\", which is not defined"},
	{"rabbitmq user bad", "{\"components\": {\"mq\": {\"type\": \"rabbitmq\", \"passwordSecret\": \"s\", \"user\": \"a b\"}}}", "/components/mq/user", "1 to 64"},
	{"config key ok", "{\"config\": {\"a.b_c-D\": \"x\"}}", NULL, NULL},
	{"config key space", "{\"config\": {\"bad key\": \"x\"}}", "/config/bad key", "letters, digits, '-', '.' and '_'"},
	{"secret key slash", "{\"secrets\": {\"a/b\": \"x\"}}", "/secrets/a~1b", "letters, digits"},
	{"secret key dotdot", "{\"secrets\": {\"..\": \"x\"}}", "/secrets/..", "letters, digits"},
	{"database ok", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"database\": \"web_db\", \"user\": \"web_user\"}}}}}", NULL, NULL},
	{"database name bad", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"database\": \"Web-DB\"}}}}}", "/services/web/uses/db/database", "a database name"},
	{"database name 65", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"database\": \"a1234567890123456789012345678901234567890123456789012345678901234\"}}}}}", "/services/web/uses/db/database", "1 to 64"},
	{"database unknown param", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"name\": \"w\"}}}}}", "/services/web/uses/db/name", "the fields here are: database, user, passwordSecret"},
	{"database user bad", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"user\": \"web-user\"}}}}}", "/services/web/uses/db/user", "database user name"},
	{"database user 33", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"user\": \"a12345678901234567890123456789012\"}}}}}", "/services/web/uses/db/user", "1 to 32"},
	{"database shared", "{" MYSQL_ON ", \"services\": {\"web\": {\"uses\": {\"db\": {\"database\": \"d\"}}}, \"api\": {\"image\": {\"repository\": \"api\"}, \"port\": 1, \"uses\": {\"db\": {\"database\": \"d\"}}}}}", NULL, NULL},
	{"uses unknown component", "{\"services\": {\"web\": {\"uses\": {\"db\": {}}}}}", "/services/web/uses/db", "not defined in /components"},
	{"uses not object", "{\"services\": {\"web\": {\"uses\": \"db\"}}}", "/services/web/uses", "must be an object"},
	{"broker ok", "{" RABBIT_ON ", \"services\": {\"web\": {\"uses\": {\"mq\": {}}}}}", NULL, NULL},
	{"database retired", "{\"services\": {\"web\": {\"database\": {\"name\": \"d\"}}}}", "/services/web/database", "uses: {\"mysql\": {\"database\""},
	{"broker retired", "{\"services\": {\"web\": {\"broker\": true}}}", "/services/web/broker", "uses: {\"rabbitmq\": {}}"},
	{"mysql retired", "{\"mysql\": {\"enabled\": true}}", "/mysql", "write /components/mysql"},
	{"ingress ok", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\"}}}}", NULL, NULL},
	{"ingress no service", "{\"ingress\": {\"rules\": {\"r\": {\"host\": \"a.example.com\"}}}}", "/ingress/rules/r/service", "is required"},
	{"ingress unknown service", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"wbe\"}}}}", "/ingress/rules/r/service", "did you mean \"web\"?"},
	{"ingress disabled service", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\"}}}, \"services\": {\"web\": {\"enabled\": false}, " API_SVC "}}", "/ingress/rules/r/service", "which is disabled"},
	{"ingress off unchecked", "{\"ingress\": {\"enabled\": false, \"rules\": {\"r\": {\"service\": \"nope\"}}}}", NULL, NULL},
	{"ingress port name", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"port\": \"htp\"}}}}", "/ingress/rules/r/port", "did you mean \"http\"?"},
	{"ingress port number", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"port\": 8081}}}}", "/ingress/rules/r/port", "not a port of service \"web\""},
	{"ingress worker", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\"}}}, \"services\": {\"web\": {\"ports\": {\"http\": null}}, " API_SVC "}}", "/ingress/rules/r/service", "has no ports"},
	{"ingress same path", "{\"ingress\": {\"rules\": {\"a\": {\"service\": \"web\"}, \"b\": {\"service\": \"api\"}}}, \"services\": {" API_SVC "}}", "/ingress/rules/b/path", "also the path of rule \"a\""},
	{"ingress two paths", "{\"ingress\": {\"rules\": {\"a\": {\"service\": \"web\"}, \"b\": {\"service\": \"api\", \"path\": \"/api\"}}}, \"services\": {" API_SVC "}}", NULL, NULL},
	{"tls ok", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"host\": \"a.example.com\", \"tls\": {\"enabled\": true}}}}}", NULL, NULL},
	{"tls needs host", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"tls\": {\"enabled\": true}}}}}", "/ingress/rules/r/host", "must be set when tls.enabled is true"},
	{"tls one secret per host", "{\"ingress\": {\"rules\": {\"a\": {\"service\": \"web\", \"host\": \"a.example.com\", \"tls\": {\"enabled\": true}}, \"b\": {\"service\": \"web\", \"host\": \"a.example.com\", \"path\": \"/b\", \"tls\": {\"enabled\": true, \"secretName\": \"other\"}}}}}", "/ingress/rules/b/tls/secretName", "a host has one certificate"},
	{"tls secret bad", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"tls\": {\"secretName\": \"Bad.Name\"}}}}}", "/ingress/rules/r/tls/secretName", "DNS label"},
	{"ingress class bad", "{\"ingress\": {\"className\": \"NGINX\"}}", "/ingress/className", "DNS label"},
	{"ingress path bad", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"path\": \"api\"}}}}", "/ingress/rules/r/path", "starting with '/'"},
	{"ingress path type", "{\"ingress\": {\"rules\": {\"r\": {\"service\": \"web\", \"pathType\": \"prefix\"}}}}", "/ingress/rules/r/pathType", "did you mean \"Prefix\"?"},
	{"annotations ok", "{\"ingress\": {\"annotations\": {\"nginx.ingress.kubernetes.io/proxy-body-size\": \"8m\"}}}", NULL, NULL},
	{"annotation key bad", "{\"ingress\": {\"annotations\": {\"bad key!\": \"x\"}}}", "/ingress/annotations/bad key!", "annotation key"},
	{"annotation value type", "{\"ingress\": {\"annotations\": {\"a\": 5}}}", "/ingress/annotations/a", "must be a string, got 5"},
	{"probe path bad", "{\"services\": {\"web\": {\"probes\": {\"readiness\": {\"httpGet\": {\"path\": \"health\"}}}}}}", "/services/web/probes/readiness/httpGet/path", "starting with '/'"},
	{"probe v1 path", "{\"services\": {\"web\": {\"probes\": {\"readiness\": {\"path\": \"/health\"}}}}}", "/services/web/probes/readiness/path", "not a known field"},
	{"probe two kinds", "{\"services\": {\"web\": {\"probes\": {\"readiness\": {\"httpGet\": {}, \"exec\": {\"command\": [\"true\"]}}}}}}", "/services/web/probes/readiness", "at most one of"},
	{"probe exec needs command", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"exec\": {}}}}}}", "/services/web/probes/liveness/exec/command", "is required"},
	{"probe port unknown", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"tcpSocket\": {\"port\": \"htttp\"}}}}}}", "/services/web/probes/liveness/tcpSocket/port", "did you mean \"http\"?"},
	{"probe port number", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"tcpSocket\": {\"port\": 9000}}}}}}", NULL, NULL},
	{"probe grpc", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"grpc\": {\"service\": \"health\"}}}}}}", NULL, NULL},
	{"probe success threshold", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"successThreshold\": 2}}}}}", "/services/web/probes/liveness/successThreshold", "must be 1"},
	{"probe worker", "{\"services\": {\"web\": {\"ports\": {\"http\": null}, \"probes\": {\"readiness\": {\"httpGet\": {\"path\": \"/x\"}}}}}}", "/services/web/probes/readiness/httpGet/port", "no port"},
	{"probe period 0", "{\"services\": {\"web\": {\"probes\": {\"liveness\": {\"periodSeconds\": 0}}}}}", "/services/web/probes/liveness/periodSeconds", "from 1 to 3600"},
	{"probe not object", "{\"services\": {\"web\": {\"probes\": {\"startup\": true}}}}", "/services/web/probes/startup", "an object or null"},
	{"run as root", "{\"services\": {\"web\": {\"securityContext\": {\"runAsUser\": 0}}}}", "/services/web/securityContext/runAsUser", "runAsNonRoot forbids"},
	{"run as root allowed", "{\"services\": {\"web\": {\"securityContext\": {\"runAsUser\": 0, \"runAsNonRoot\": false}}}}", NULL, NULL},
	{"capability ok", "{\"services\": {\"web\": {\"securityContext\": {\"capabilities\": [\"NET_BIND_SERVICE\"]}}}}", NULL, NULL},
	{"capability bad", "{\"services\": {\"web\": {\"securityContext\": {\"capabilities\": [\"CAP_net\"]}}}}", "/services/web/securityContext/capabilities/0", "capability name"},
	{"pdb type", "{\"services\": {\"web\": {\"disruptionBudget\": {\"enabled\": 1}}}}", "/services/web/disruptionBudget/enabled", "true or false"},
	{"service named like a component off", "{\"components\": {\"db\": {\"type\": \"mysql\", \"enabled\": false}}, \"services\": {\"db\": {\"image\": {\"repository\": \"m\"}, \"port\": 1}}}", NULL, NULL},
	{"service named like a component on", "{" MYSQL_ON ", \"services\": {\"db\": {\"image\": {\"repository\": \"m\"}, \"port\": 1}}}", "/components/db", "is also the name of a service in /services"},
	{"no services", "{\"services\": {\"web\": null}}", "/services", "at least one enabled service"},
	{"ports named", "{\"services\": {\"web\": {\"port\": null, \"ports\": {\"http\": null, \"web\": {\"port\": 80, \"targetPort\": 8080}, \"dns\": {\"port\": 53, \"protocol\": \"UDP\"}}}}}", NULL, NULL},
	{"port name bad", "{\"services\": {\"web\": {\"ports\": {\"http-\": {\"port\": 81}}}}}", "/services/web/ports/http-", "port name"},
	{"port name too long", "{\"services\": {\"web\": {\"ports\": {\"a234567890123456\": {\"port\": 81}}}}}", "/services/web/ports/a234567890123456", "port name"},
	{"port clash", "{\"services\": {\"web\": {\"ports\": {\"alt\": {\"port\": 81, \"targetPort\": 8080}}}}}", "/services/web/ports/alt/targetPort", "also the container port of \"http\""},
	{"port protocol", "{\"services\": {\"web\": {\"ports\": {\"http\": {\"protocol\": \"tcp\"}}}}}", "/services/web/ports/http/protocol", "did you mean \"TCP\"?"},
	{"node port needs type", "{\"services\": {\"web\": {\"ports\": {\"http\": {\"nodePort\": 30080}}}}}", "/services/web/ports/http/nodePort", "needs expose.type"},
	{"node port range", "{\"services\": {\"web\": {\"expose\": {\"type\": \"NodePort\"}, \"ports\": {\"http\": {\"nodePort\": 80}}}}}", "/services/web/ports/http/nodePort", "30000-32767"},
	{"node port ok", "{\"services\": {\"web\": {\"expose\": {\"type\": \"NodePort\"}, \"ports\": {\"http\": {\"nodePort\": 30080}}}}}", NULL, NULL},
	{"headless worker", "{\"services\": {\"web\": {\"expose\": {\"type\": \"Headless\"}, \"ports\": {\"http\": null}}}}", "/services/web/expose/type", "no ports"},
	{"kind bad", "{\"services\": {\"web\": {\"kind\": \"Deploy\"}}}", "/services/web/kind", "did you mean \"Deployment\"?"},
	{"cronjob needs schedule", "{\"services\": {\"web\": {\"kind\": \"CronJob\", \"ports\": {\"http\": null}}}}", "/services/web/cron/schedule", "is required for a CronJob"},
	{"cronjob schedule bad", "{\"services\": {\"web\": {\"kind\": \"CronJob\", \"ports\": {\"http\": null}, \"cron\": {\"schedule\": \"* * *\"}}}}", "/services/web/cron/schedule", "five fields"},
	{"cronjob ok", "{\"services\": {\"web\": {\"kind\": \"CronJob\", \"ports\": {\"http\": null}, \"cron\": {\"schedule\": \"*/5 * * * *\", \"timeZone\": \"Europe/Paris\"}}}}", NULL, NULL},
	{"job with ports", "{\"services\": {\"web\": {\"kind\": \"Job\"}}}", "/services/web/ports", "must be empty for a Job"},
	{"autoscaling daemonset", "{\"services\": {\"web\": {\"kind\": \"DaemonSet\", \"autoscaling\": {\"enabled\": true}}}}", "/services/web/autoscaling/enabled", "only works for a Deployment or a StatefulSet"},
	{"command ok", "{\"services\": {\"web\": {\"command\": [\"/bin/sh\", \"-c\", \"exec web\"], \"args\": [], \"workingDir\": \"/app\"}}}", NULL, NULL},
	{"command string", "{\"services\": {\"web\": {\"command\": \"web --serve\"}}}", "/services/web/command", "must be an array"},
	{"working dir relative", "{\"services\": {\"web\": {\"workingDir\": \"app\"}}}", "/services/web/workingDir", "absolute path"},
	{"env field ok", "{\"services\": {\"web\": {\"env\": {\"IP\": {\"field\": \"status.podIP\"}}}}}", NULL, NULL},
	{"env field bad", "{\"services\": {\"web\": {\"env\": {\"IP\": {\"field\": \"status.podIp\"}}}}}", "/services/web/env/IP/field", "did you mean \"status.podIP\"?"},
	{"env from other", "{\"services\": {\"web\": {\"env\": {\"X\": {\"secret\": \"password\", \"from\": \"db-credentials\"}}}}}", NULL, NULL},
	{"env from value", "{\"services\": {\"web\": {\"env\": {\"X\": {\"value\": \"a\", \"from\": \"db\"}}}}}", "/services/web/env/X/from", "only goes with"},
	{"env from whole", "{\"services\": {\"web\": {\"envFrom\": {\"cfg\": {\"configMap\": \"shop-config\", \"prefix\": \"APP_\"}}}}}", NULL, NULL},
	{"env from both", "{\"services\": {\"web\": {\"envFrom\": {\"cfg\": {\"configMap\": \"a\", \"secret\": \"b\"}}}}}", "/services/web/envFrom/cfg", "exactly one of"},
	{"volume ok", "{\"services\": {\"web\": {\"volumes\": {\"cache\": {\"mountPath\": \"/cache\", \"emptyDir\": {\"sizeLimit\": \"1Gi\"}}, \"conf\": {\"mountPath\": \"/etc/web\", \"readOnly\": true, \"files\": {\"a.conf\": {\"config\": \"k\"}, \"b\": {\"secret\": \"s\", \"mode\": \"0440\"}, \"sub/c.txt\": {\"content\": \"hello\"}}}}}}}", NULL, NULL},
	{"volume two sources", "{\"services\": {\"web\": {\"volumes\": {\"v\": {\"mountPath\": \"/v\", \"emptyDir\": {}, \"claim\": {\"name\": \"c\"}}}}}}", "/services/web/volumes/v", "exactly one of"},
	{"volume no path", "{\"services\": {\"web\": {\"volumes\": {\"v\": {\"emptyDir\": {}}}}}}", "/services/web/volumes/v/mountPath", "is required"},
	{"volume same path", "{\"services\": {\"web\": {\"volumes\": {\"a\": {\"mountPath\": \"/v\", \"emptyDir\": {}}, \"b\": {\"mountPath\": \"/v\", \"emptyDir\": {}}}}}}", "/services/web/volumes/b/mountPath", "also the mount path of volume \"a\""},
	{"file key missing", "{\"services\": {\"web\": {\"volumes\": {\"c\": {\"mountPath\": \"/c\", \"files\": {\"f\": {\"config\": \"kk\"}}}}}}}", "/services/web/volumes/c/files/f/config", "did you mean \"k\"?"},
	{"file path escapes", "{\"services\": {\"web\": {\"volumes\": {\"c\": {\"mountPath\": \"/c\", \"files\": {\"../etc/passwd\": {\"content\": \"x\"}}}}}}}", "/services/web/volumes/c/files/..~1etc~1passwd", "relative path"},
	{"file mode bad", "{\"services\": {\"web\": {\"volumes\": {\"c\": {\"mountPath\": \"/c\", \"files\": {\"f\": {\"content\": \"x\", \"mode\": \"644\"}}}}}}}", NULL, NULL},
	{"file mode decimal", "{\"services\": {\"web\": {\"volumes\": {\"c\": {\"mountPath\": \"/c\", \"files\": {\"f\": {\"content\": \"x\", \"mode\": \"0999\"}}}}}}}", "/services/web/volumes/c/files/f/mode", "octal"},
	{"persistent makes statefulset", "{\"services\": {\"web\": {\"volumes\": {\"data\": {\"mountPath\": \"/data\", \"persistent\": {\"size\": \"1Gi\"}}}}}}", NULL, NULL},
	{"persistent in deployment", "{\"services\": {\"web\": {\"kind\": \"Deployment\", \"volumes\": {\"data\": {\"mountPath\": \"/data\", \"persistent\": {\"size\": \"1Gi\"}}}}}}", "/services/web/volumes/data/persistent", "needs kind \"StatefulSet\""},
	{"persistent no size", "{\"services\": {\"web\": {\"volumes\": {\"data\": {\"mountPath\": \"/data\", \"persistent\": {}}}}}}", "/services/web/volumes/data/persistent/size", "is required"},
	{"sidecar ok", "{\"services\": {\"web\": {\"volumes\": {\"c\": {\"mountPath\": \"/c\", \"emptyDir\": {}}}, \"sidecars\": {\"proxy\": {\"image\": \"envoyproxy/envoy:v1.30.1\", \"ports\": {\"admin\": {\"port\": 9901}}, \"volumeMounts\": {\"c\": {\"mountPath\": \"/c\"}}, \"probes\": {\"readiness\": {\"httpGet\": {\"path\": \"/ready\"}}}}}}}}", NULL, NULL},
	{"sidecar image tag", "{\"services\": {\"web\": {\"sidecars\": {\"proxy\": {\"image\": \"envoyproxy/envoy\"}}}}}", "/services/web/sidecars/proxy/image", "must include a tag"},
	{"sidecar mount unknown", "{\"services\": {\"web\": {\"sidecars\": {\"proxy\": {\"image\": \"e:1\", \"volumeMounts\": {\"cache\": {\"mountPath\": \"/c\"}}}}}}}", "/services/web/sidecars/proxy/volumeMounts/cache", "not one of the service's volumes"},
	{"sidecar port clash", "{\"services\": {\"web\": {\"sidecars\": {\"proxy\": {\"image\": \"e:1\", \"ports\": {\"http\": {\"port\": 9000}}}}}}}", "/services/web/sidecars/proxy/ports/http", "also the name of a port"},
	{"init ports", "{\"services\": {\"web\": {\"initContainers\": {\"m\": {\"image\": \"m:1\", \"ports\": {\"x\": {\"port\": 1}}}}}}}", "/services/web/initContainers/m/ports", "for sidecars"},
	{"init probes", "{\"services\": {\"web\": {\"initContainers\": {\"m\": {\"image\": \"m:1\", \"probes\": {\"readiness\": {\"exec\": {\"command\": [\"true\"]}}}}}}}}", "/services/web/initContainers/m/probes", "no probes on init containers"},
	{"init resources", "{\"services\": {\"web\": {\"initContainers\": {\"m\": {\"image\": \"m:1\", \"resources\": {\"requests\": {\"cpu\": \"1\"}}}}}}}", "/services/web/initContainers/m/resources/requests/cpu", "must not be more than the limit"},
	{"scheduling ok", "{\"services\": {\"web\": {\"scheduling\": {\"nodeSelector\": {\"kubernetes.io/arch\": \"arm64\"}, \"tolerations\": [{\"key\": \"dedicated\", \"value\": \"web\", \"effect\": \"NoSchedule\"}], \"affinity\": {\"podAntiAffinity\": {}}, \"spread\": \"hard\", \"priorityClassName\": \"high\", \"terminationGracePeriodSeconds\": 60, \"preStopSleepSeconds\": 5}}}}", NULL, NULL},
	{"toleration bad", "{\"services\": {\"web\": {\"scheduling\": {\"tolerations\": [{\"operator\": \"Maybe\"}]}}}}", "/services/web/scheduling/tolerations/0/operator", "must be one of"},
	{"affinity unknown", "{\"services\": {\"web\": {\"scheduling\": {\"affinity\": {\"nodeAfinity\": {}}}}}}", "/services/web/scheduling/affinity/nodeAfinity", "did you mean \"nodeAffinity\"?"},
	{"labels bad", "{\"services\": {\"web\": {\"podLabels\": {\"tier\": \"front end\"}}}}", "/services/web/podLabels/tier", "label value"},
	{"no tag anywhere", "{\"image\": {\"tag\": \"\"}}", "/services/web/image/tag", "is required"},
	{"digest without tag", "{\"image\": {\"tag\": \"\"}, \"services\": {\"web\": {\"image\": {\"digest\": \"sha256:" HEX64 "\"}}}}", NULL, NULL},
	{"extra ok", "{\"extraObjects\": {\"reader\": {\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"Role\", \"rules\": []}, \"cert\": {\"apiVersion\": \"cert-manager.io/v1\", \"kind\": \"Certificate\", \"metadata\": {\"name\": \"web-cert\"}}}}", NULL, NULL},
	{"extra namespace", "{\"extraObjects\": {\"ns\": {\"apiVersion\": \"v1\", \"kind\": \"Namespace\"}}}", "/extraObjects/ns/kind", "makes its own namespace"},
	{"extra api version", "{\"extraObjects\": {\"r\": {\"apiVersion\": \"v1\", \"kind\": \"Role\"}}}", "/extraObjects/r/apiVersion", "must be \"rbac.authorization.k8s.io/v1\" for a Role"},
	{"extra unknown core kind", "{\"extraObjects\": {\"r\": {\"apiVersion\": \"v1\", \"kind\": \"Widget\"}}}", "/extraObjects/r/kind", "custom resource"},
	{"extra other namespace", "{\"extraObjects\": {\"c\": {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"namespace\": \"kube-system\"}}}}", "/extraObjects/c/metadata/namespace", "only writes into its own namespace"},
	{"extra cluster scoped", "{\"extraObjects\": {\"c\": {\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\", \"metadata\": {\"namespace\": \"shop-dev\"}}}}", "/extraObjects/c/metadata/namespace", "cluster-scoped"},
	{"extra name bad", "{\"extraObjects\": {\"c\": {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"Bad_Name\"}}}}", "/extraObjects/c/metadata/name", "object name"},
	{"extra same name", "{\"extraObjects\": {\"a\": {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}, \"b\": {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}}}", "/extraObjects/b/metadata/name", "also the name of the ConfigMap \"a\""},
	{"extra not object", "{\"extraObjects\": {\"a\": [1]}}", "/extraObjects/a", "must be an object"},
	{"patch ok", "{\"patches\": {\"p\": {\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"}, \"merge\": {\"spec\": {\"paused\": true}}}}}", NULL, NULL},
	{"patch both", "{\"patches\": {\"p\": {\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"}, \"merge\": {}, \"jsonPatch\": []}}}", "/patches/p", "exactly one of"},
	{"patch op bad", "{\"patches\": {\"p\": {\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"}, \"jsonPatch\": [{\"op\": \"append\", \"path\": \"/a\"}]}}}", "/patches/p/jsonPatch/0/op", "must be one of"},
	{"patch pointer bad", "{\"patches\": {\"p\": {\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"}, \"jsonPatch\": [{\"op\": \"remove\", \"path\": \"spec\"}]}}}", "/patches/p/jsonPatch/0/path", "JSON Pointer"},
	{"patch no target", "{\"patches\": {\"p\": {\"merge\": {}}}}", "/patches/p/target", "is required"},
	{"services array", "{\"services\": []}", "/services", "must be an object, got an array"},
	{"unknown top", "{\"foo\": 1}", "/foo", "not a known field"},
	{"description type", "{\"description\": 5}", "/description", "must be a string"},
};

START_TEST(rule_case)
{
	const struct rule_case *c = &rule_cases[_i];
	struct result res;
	resolve_text(base_stack, NULL, c->overrides, &res);
	if (c->pointer)
		expect_error(&res, c->name, c->pointer, c->mention);
	else
		expect_ok(&res, c->name);
	result_release(&res);
}
END_TEST

/* ---- limits -------------------------------------------------------------------------- */

/* Overrides with n members named <prefix><i> under the pointer, each a copy of item. */
static json_t *many(const char *pointer, const char *prefix, size_t n, const char *item_text)
{
	json_t *patch = NULL, *item = parse(item_text);
	for (size_t i = 0; i < n; i++) {
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		ck_assert_int_eq(buf_printf(&p, "%s/%s%zu", pointer, prefix, i), 0);
		ck_assert_int_eq(model_patch_set(&patch, buf_cstr(&p), item), 0);
		buf_release(&p);
	}
	json_decref(item);
	return patch;
}

static void expect_limit(json_t *overrides, const char *pointer, const char *mention)
{
	json_t *stack = parse(base_stack);
	struct result res;
	resolve_json(stack, NULL, overrides, &res);
	expect_error(&res, pointer, pointer, mention);
	result_release(&res);
	json_decref(stack);
	json_decref(overrides);
}

START_TEST(limits_are_enforced)
{
	static const char svc[] = "{\"image\": {\"repository\": \"a\"}, \"port\": 1}";
	/* at the limit is fine */
	json_t *stack = parse(base_stack), *ok = many("/services", "s", 1000 - 1, svc);
	struct result res;
	resolve_json(stack, NULL, ok, &res);
	expect_ok(&res, "1000 services");
	result_release(&res);
	json_decref(ok);
	json_decref(stack);

	expect_limit(many("/services", "s", 1000, svc), "/services", "1001 services, more than the limit of 1000");
	expect_limit(many("/services/web/env", "V", 501, "{\"value\": \"x\"}"),
		     "/services/web/env", "more than the limit of 500");
	expect_limit(many("/config", "k", 1001, "\"x\""), "/config", "more than the limit of 1000");

	char *big = malloc(MODEL_MAX_STRING + 2);
	memset(big, 'x', MODEL_MAX_STRING + 1);
	big[MODEL_MAX_STRING + 1] = '\0';
	json_t *desc = json_pack("{s:s}", "description", big);
	expect_limit(desc, "/description", "longer than 65536 bytes");
	big[MODEL_MAX_STRING] = '\0';
	desc = json_pack("{s:s}", "description", big);
	stack = parse(base_stack);
	resolve_json(stack, NULL, desc, &res);
	expect_ok(&res, "65536 bytes");
	result_release(&res);
	json_decref(stack);
	json_decref(desc);
	free(big);

	json_t *deep = json_object(), *cur = deep;
	for (int i = 0; i < MODEL_MAX_DEPTH; i++) {
		json_t *next = json_object();
		ck_assert_int_eq(json_object_set_new(cur, "a", next), 0);
		cur = next;
	}
	stack = parse(base_stack);
	resolve_json(stack, NULL, deep, &res);
	ck_assert_int_eq(res.r, MODEL_EINVALID);
	ck_assert_uint_eq(res.errs.count, 1);
	ck_assert_ptr_nonnull(strstr(res.errs.items[0].detail, "deeper than 32 levels"));
	ck_assert_uint_eq(strlen(res.errs.items[0].pointer), 2 * MODEL_MAX_DEPTH);
	result_release(&res);
	json_decref(stack);
	json_decref(deep);
}
END_TEST

START_TEST(user_text_in_messages_is_clipped_utf8)
{
	/* a long value of 3-byte characters: the quote is clipped on a character boundary */
	struct buf ns;
	buf_init(&ns, BUF_NO_MAX);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(buf_puts(&ns, "\xed\x95\x9c"), 0);
	json_t *o = json_pack("{s:s}", "namespace", buf_cstr(&ns));
	json_t *stack = parse(base_stack);
	struct result res;
	resolve_json(stack, NULL, o, &res);
	expect_error(&res, "utf8", "/namespace", "...\"");
	json_t *arr = model_errors_json(&res.errs);
	ck_assert_ptr_nonnull(arr);
	json_decref(arr);
	result_release(&res);
	json_decref(stack);
	json_decref(o);
	buf_release(&ns);
}
END_TEST

/* ---- shape, masking, hashing --------------------------------------------------------- */

START_TEST(check_shape_knows_fields_not_values)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *env = jsonutil_seed("msa-shop/prod.json");
	ck_assert_int_eq(model_check_shape(env, &errs), 0);
	json_decref(env);
	/* partial documents, nulls (deletions), config scalars and out-of-range values pass */
	json_t *doc = parse("{\"services\": {\"web\": {\"replicas\": -2, \"uses\": null, \"probes\": {\"startup\": null}}},"
			    " \"config\": {\"port\": 3306}, \"image\": null}");
	ck_assert_int_eq(model_check_shape(doc, &errs), 0);
	ck_assert_uint_eq(errs.count, 0);
	json_decref(doc);
	/* a masked secret, as GET shows it, may come back in a PUT body */
	doc = parse("{\"secrets\": {\"a\": {\"set\": true}, \"b\": \"new\", \"c\": 7}}");
	ck_assert_int_eq(model_check_shape(doc, &errs), 0);
	json_decref(doc);
	doc = parse("{\"services\": {\"web\": {\"replcas\": 1, \"port\": \"80\"}}, \"config\": {\"r\": 0.5}}");
	ck_assert_int_eq(model_check_shape(doc, &errs), MODEL_EINVALID);
	ck_assert_uint_eq(errs.count, 3);
	ck_assert_str_eq(errs.items[0].pointer, "/services/web/replcas");
	ck_assert_ptr_nonnull(strstr(errs.items[0].detail, "did you mean \"replicas\"?"));
	ck_assert_str_eq(errs.items[1].pointer, "/services/web/port");
	ck_assert_str_eq(errs.items[2].pointer, "/config/r");
	json_decref(doc);
	model_errors_release(&errs);
	/* but not in config, and not when resolving */
	doc = parse("{\"config\": {\"a\": {\"set\": true}}}");
	ck_assert_int_eq(model_check_shape(doc, &errs), MODEL_EINVALID);
	ck_assert_str_eq(errs.items[0].pointer, "/config/a");
	json_decref(doc);
	model_errors_release(&errs);
	struct result res;
	resolve_text(base_stack, NULL, "{\"secrets\": {\"s\": {\"set\": true}}}", &res);
	expect_error(&res, "masked secret", "/secrets/s", "must be a string, got an object");
	result_release(&res);
	doc = parse("[]");
	ck_assert_int_eq(model_check_shape(doc, &errs), MODEL_EINVALID);
	ck_assert_str_eq(errs.items[0].pointer, "");
	json_decref(doc);
	model_errors_release(&errs);
}
END_TEST

START_TEST(mask_secrets_hides_values)
{
	json_t *doc = parse("{\"secrets\": {\"a\": \"x\", \"b\": \"\", \"c\": null}, \"config\": {\"k\": \"v\"}}");
	json_t *masked = model_mask_secrets(doc);
	json_t *want = parse("{\"secrets\": {\"a\": {\"set\": true}, \"b\": {\"set\": false}, \"c\": {\"set\": false}},"
			     " \"config\": {\"k\": \"v\"}}");
	ck_assert(json_equal(masked, want));
	expect_str(doc, "/secrets/a", "x");
	json_decref(masked);
	json_decref(want);
	json_decref(doc);
	doc = parse("{\"config\": {}}");
	masked = model_mask_secrets(doc);
	ck_assert(json_equal(masked, doc));
	json_decref(masked);
	json_decref(doc);
}
END_TEST

START_TEST(mask_secret_values_keeps_the_shape)
{
	json_t *doc = parse("{\"secrets\": {\"a\": \"x\", \"b\": \"\", \"c\": null, \"d\": {\"set\": true},"
			    " \"e\": {\"set\": false}}, \"config\": {\"k\": \"v\"}}");
	json_t *masked = model_mask_secret_values(doc);
	json_t *want = parse("{\"secrets\": {\"a\": \"" MODEL_SECRET_MASK "\", \"b\": \"\", \"c\": null,"
			     " \"d\": \"" MODEL_SECRET_MASK "\", \"e\": \"\"}, \"config\": {\"k\": \"v\"}}");
	ck_assert(json_equal(masked, want));
	expect_str(doc, "/secrets/a", "x");
	json_decref(masked);
	json_decref(want);
	json_decref(doc);
}
END_TEST

/* ---- fixture folders: tests/data/model/<case>/{input.json, expected.json} ---------- */

/* input.json: {"stack": "<seed stack>" | {...}, "environment": "<seed env>" | {...} | absent,
 * "name": env name when inline, "overrides": {...}}. The result is {"document": resolved}
 * or {"errors": [...]}; MANIFESTD_REGEN=1 writes it as expected.json instead of comparing. */
static json_t *fixture_layer(const json_t *v, const char *stack_name, const char *suffix)
{
	if (!json_is_string(v))
		return json_incref((json_t *)v);
	char path[128];
	ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s.json", stack_name, suffix ? suffix : json_string_value(v)),
			 (int)sizeof path);
	return jsonutil_seed(path);
}

static json_t *fixture_result(const json_t *input)
{
	const json_t *stack_v = json_object_get(input, "stack"), *env_v = json_object_get(input, "environment");
	const char *stack_name = json_is_string(stack_v) ? json_string_value(stack_v) : "inline";
	const char *env_name = json_is_string(env_v) ? json_string_value(env_v)
						     : json_string_value(json_object_get(input, "name"));
	json_t *stack = fixture_layer(stack_v, stack_name, "stack");
	json_t *env = fixture_layer(env_v, stack_name, NULL);
	struct result res = {.doc = NULL};
	model_errors_init(&res.errs);
	res.r = model_resolve(stack_name, stack, env_name, env, json_object_get(input, "overrides"), &res.errs,
			      &res.doc);
	json_t *out = res.r == 0 ? json_pack("{s:O}", "document", res.doc)
				 : json_pack("{s:o}", "errors", model_errors_json(&res.errs));
	ck_assert_msg(res.r == 0 || res.r == MODEL_EINVALID, "r=%d", res.r);
	result_release(&res);
	json_decref(stack);
	json_decref(env);
	return out;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(fixture_folders_match)
{
	static const char dir[] = TEST_SOURCE_DIR "/tests/data/model";
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	char *names[64];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char input[512];
		ck_assert_int_lt(snprintf(input, sizeof input, "%s/%s/input.json", dir, e->d_name), (int)sizeof input);
		if (e->d_name[0] != '.' && access(input, R_OK) == 0 && n < 64)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	ck_assert_uint_ge(n, 5);
	qsort(names, n, sizeof names[0], compare_names);
	bool regen = getenv("MANIFESTD_REGEN") && !strcmp(getenv("MANIFESTD_REGEN"), "1");
	for (size_t i = 0; i < n; i++) {
		char path[512];
		json_error_t je;
		ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s/input.json", dir, names[i]), (int)sizeof path);
		json_t *input = json_load_file(path, 0, &je);
		ck_assert_msg(input != NULL, "%s: %s", path, je.text);
		json_t *got = fixture_result(input);
		ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s/expected.json", dir, names[i]), (int)sizeof path);
		if (regen)
			ck_assert_int_eq(json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
		json_t *want = json_load_file(path, 0, &je);
		char *text = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
		ck_assert_msg(want && json_equal(got, want), "%s differs from %s; got:\n%s", names[i], path, text);
		free(text);
		json_decref(want);
		json_decref(got);
		json_decref(input);
		free(names[i]);
	}
}
END_TEST

/* ---- the schema's shared defaults --------------------------------------------------- */

/* Every compiled completed default of the schema below n, as text, appended to out; the
 * number of them added to *count. */
static void dump_completed(const struct schema_node *n, struct buf *out, size_t *count)
{
	for (size_t i = 0; i < n->nprops; i++)
		dump_completed(n->props[i].node, out, count);
	if (n->values)
		dump_completed(n->values, out, count);
	if (n->items)
		dump_completed(n->items, out, count);
	if (!n->completed)
		return;
	char *text = json_dumps(n->completed, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(BUF_PUTS(out, text, "\n"), 0);
	free(text);
	(*count)++;
}

/* The seeded documents resolved (an ingress rule's tls left to its default in one), as
 * text with the members in their order. */
static char *seed_resolved_text(const char *stack_name, const char *env_name, const char *overrides)
{
	char path[128];
	ck_assert_int_lt(snprintf(path, sizeof path, "%s/stack.json", stack_name), (int)sizeof path);
	json_t *stack = jsonutil_seed(path);
	ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s.json", stack_name, env_name), (int)sizeof path);
	json_t *env = jsonutil_seed(path);
	json_t *o = overrides ? parse(overrides) : NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	ck_assert_int_eq(model_resolve(stack_name, stack, env_name, env, o, &errs, &doc), 0);
	char *text = json_dumps(doc, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	json_decref(doc);
	json_decref(o);
	json_decref(env);
	json_decref(stack);
	model_errors_release(&errs);
	return text;
}

/* Resolves share the schema's completed defaults (schema_complete_shared): a second
 * resolve gives the same bytes, and no resolve writes into a shared default. */
START_TEST(shared_defaults_stay_as_compiled)
{
	static const char *const seeds[][3] = {
		{"msa-shop", "dev", NULL},
		{"msa-shop", "staging", NULL},
		{"msa-shop", "prod", NULL},
		{"msa-shop", "prod", "{\"ingress\": {\"rules\": {\"main\": {\"tls\": null}}}}"},
		{"manifestd", "prod", NULL},
		{"manifestd", "external-db", NULL},
	};
	struct buf before, after;
	size_t n = 0, again = 0;
	buf_init(&before, BUF_NO_MAX);
	buf_init(&after, BUF_NO_MAX);
	dump_completed(schema_document(), &before, &n);
	ck_assert_uint_gt(n, 10);
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
		char *first = seed_resolved_text(seeds[i][0], seeds[i][1], seeds[i][2]);
		char *second = seed_resolved_text(seeds[i][0], seeds[i][1], seeds[i][2]);
		ck_assert_msg(strcmp(first, second) == 0, "%s %s resolved twice differs", seeds[i][0], seeds[i][1]);
		free(first);
		free(second);
	}
	dump_completed(schema_document(), &after, &again);
	ck_assert_uint_eq(again, n);
	ck_assert_msg(strcmp(buf_cstr(&before), buf_cstr(&after)) == 0, "a resolve wrote into a shared default");
	buf_release(&before);
	buf_release(&after);
}
END_TEST

/* A rule whose tls is the shared default gets its secret name in a copy. */
START_TEST(rule_tls_default_named_in_a_copy)
{
	struct result res;
	resolve_text("{\"image\": {\"tag\": \"1\"}, \"services\": {\"api\": {\"image\": {\"repository\": \"api\"}, "
		     "\"port\": 8080}}, \"ingress\": {\"enabled\": true, \"rules\": {\"main\": {\"host\": "
		     "\"a.example.com\", \"service\": \"api\"}}}}",
		     NULL, NULL, &res);
	ck_assert_int_eq(res.r, 0);
	const json_t *tls = json_object_get(json_object_get(json_object_get(json_object_get(res.doc, "ingress"),
										 "rules"), "main"), "tls");
	ck_assert_str_eq(json_string_value(json_object_get(tls, "secretName")), "shop-tls");
	const struct schema_node *rule = schema_prop(schema_prop(schema_document(), "ingress"), "rules")->values;
	const json_t *shared = schema_prop(rule, "tls")->completed;
	ck_assert_ptr_nonnull(shared);
	ck_assert_ptr_ne(tls, shared);
	ck_assert_str_eq(json_string_value(json_object_get(shared, "secretName")), "");
	result_release(&res);
}
END_TEST

/* ---- allocation failure ------------------------------------------------------------- */

static long alloc_countdown = -1; /* fail when it reaches 0; -1: never */
static long alloc_failures;

static void *countdown_malloc(size_t n)
{
	if (alloc_countdown >= 0 && alloc_countdown-- == 0) {
		alloc_failures++;
		return NULL;
	}
	return malloc(n);
}

static void fail_after(long n)
{
	alloc_countdown = n;
	alloc_failures = 0;
	json_set_alloc_funcs(countdown_malloc, free);
}

START_TEST(merge_patch_survives_every_allocation_failure)
{
	json_t *patch = parse("{\"a\": {\"b\": \"d\", \"c\": null, \"n\": {\"x\": [1, 2]}}, \"z\": \"new\"}");
	json_t *want = parse("{\"a\": {\"b\": \"d\", \"n\": {\"x\": [1, 2]}}, \"q\": 1, \"z\": \"new\"}");
	long i = 0;
	for (;; i++) {
		json_t *target = parse("{\"a\": {\"b\": \"c\", \"c\": 1}, \"q\": 1}");
		fail_after(i);
		int r = model_merge_patch(&target, patch);
		fail_after(-1);
		ck_assert_msg(r == 0 || r == -ENOMEM, "r=%d at %ld", r, i);
		ck_assert_ptr_nonnull(target);
		if (r == 0) {
			ck_assert(json_equal(target, want));
			json_decref(target);
			break;
		}
		json_decref(target);
	}
	ck_assert_int_gt(i, 3);
	json_decref(patch);
	json_decref(want);
}
END_TEST

START_TEST(resolve_survives_every_allocation_failure)
{
	json_t *stack = parse("{\"image\": {\"tag\": \"1.0.0\"}, \"config\": {\"k\": 1},"
			      " \"secrets\": {\"s\": \"x\"}, \"serviceDefaults\": {\"replicas\": 2},"
			      " \"services\": {\"web\": {\"image\": {\"repository\": \"web\"}, \"port\": 80,"
			      "   \"env\": {\"K\": {\"config\": \"k\"}, \"S\": {\"secret\": \"s\"},"
			      "     \"U\": {\"component\": \"db\", \"output\": \"url\"}},"
			      "   \"uses\": {\"db\": {\"database\": \"web\"}}}},"
			      " \"components\": {\"db\": {\"type\": \"mysql\", \"rootPasswordSecret\": \"s\", \"passwordSecret\": \"s\"}},"
			      " \"ingress\": {\"rules\": {\"main\": {\"service\": \"web\"}}}}");
	json_t *env = parse("{\"services\": {\"web\": {\"replicas\": 3}}}");
	json_t *bad = parse("{\"services\": {\"web\": {\"replcas\": 3, \"port\": 0}}}");
	json_t *expected = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(model_resolve("shop", stack, "dev", env, NULL, &errs, &expected), 0);
	long i = 0;
	for (;; i++) {
		json_t *doc = NULL;
		fail_after(i);
		int r = model_resolve("shop", stack, "dev", env, NULL, &errs, &doc);
		fail_after(-1);
		ck_assert_msg(r == 0 || r == -ENOMEM, "r=%d at allocation %ld: %s %s", r, i,
			      errs.count ? errs.items[0].pointer : "", errs.count ? errs.items[0].detail : "");
		if (r == 0) {
			ck_assert_uint_eq(errs.count, 0);
			ck_assert(json_equal(doc, expected));
			json_decref(doc);
			break;
		}
		ck_assert_ptr_null(doc);
		model_errors_release(&errs);
	}
	ck_assert_int_gt(i, 20);
	/* an invalid document under failure: -ENOMEM or the full, correct list */
	for (i = 0;; i++) {
		json_t *doc = NULL;
		fail_after(i);
		int r = model_resolve("shop", stack, "dev", env, bad, &errs, &doc);
		fail_after(-1);
		ck_assert_msg(r == MODEL_EINVALID || r == -ENOMEM, "r=%d at allocation %ld", r, i);
		ck_assert_ptr_null(doc);
		size_t n = errs.count;
		model_errors_release(&errs);
		if (r == MODEL_EINVALID) {
			ck_assert_uint_eq(n, 2);
			break;
		}
	}
	json_decref(expected);
	json_decref(stack);
	json_decref(env);
	json_decref(bad);
}
END_TEST

START_TEST(helpers_survive_allocation_failure)
{
	json_t *doc = parse("{\"secrets\": {\"a\": \"x\", \"b\": \"\"}, \"n\": [1, {\"k\": 2}]}");
	for (long i = 0;; i++) {
		fail_after(i);
		json_t *masked = model_mask_secrets(doc);
		json_t *patch = NULL;
		int p = model_patch_set(&patch, "/a/b/c", doc);
		struct model_errors errs;
		model_errors_init(&errs);
		int s = model_check_shape(doc, &errs);
		fail_after(-1);
		ck_assert(p == 0 || p == -ENOMEM);
		ck_assert(s == MODEL_EINVALID || s == -ENOMEM);
		bool done = masked && p == 0 && s == MODEL_EINVALID;
		json_decref(masked);
		json_decref(patch);
		model_errors_release(&errs);
		if (done)
			break;
	}
	json_decref(doc);
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("merge");
	tcase_add_loop_test(tc, merge_patch_rfc7386_examples, 0, sizeof rfc7386 / sizeof rfc7386[0]);
	tcase_add_test(tc, merge_patch_absent_target_and_no_aliasing);
	tcase_add_test(tc, patch_set_builds_nested_patches);
	tcase_add_test(tc, patch_set_rejects_malformed_pointers);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_test(tc, seed_prod_resolves);
	tcase_add_test(tc, secret_source_defaults_and_rules);
	tcase_add_test(tc, seed_dev_resolves);
	tcase_add_test(tc, seed_staging_resolves);
	tcase_add_test(tc, resolve_fills_every_default);
	tcase_add_test(tc, resolve_namespace_without_env_name);
	tcase_add_test(tc, resolve_layers_in_order);
	tcase_add_test(tc, resolve_null_restores_builtin_default);
	tcase_add_test(tc, resolve_services_do_not_share_changes);
	tcase_add_test(tc, resolve_reports_shared_default_on_each_service);
	tcase_add_test(tc, resolve_database_user_default);
	tcase_add_test(tc, resolve_converts_config_scalars);
	tcase_add_test(tc, resolve_reports_typo_with_suggestion);
	tcase_add_test(tc, resolve_reports_all_problems_at_once);
	tcase_add_test(tc, resolve_rejects_bad_layers);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, rule_case, 0, sizeof rule_cases / sizeof rule_cases[0]);
	tcase_add_test(tc, limits_are_enforced);
	tcase_add_test(tc, user_text_in_messages_is_clipped_utf8);
	tcase_add_test(tc, fixture_folders_match);
	tcase_add_test(tc, shared_defaults_stay_as_compiled);
	tcase_add_test(tc, rule_tls_default_named_in_a_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("other");
	tcase_add_test(tc, check_shape_knows_fields_not_values);
	tcase_add_test(tc, mask_secrets_hides_values);
	tcase_add_test(tc, mask_secret_values_keeps_the_shape);
	tcase_add_test(tc, merge_patch_survives_every_allocation_failure);
	tcase_add_test(tc, resolve_survives_every_allocation_failure);
	tcase_add_test(tc, helpers_survive_allocation_failure);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

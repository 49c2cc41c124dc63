/* test_docview: resolved documents (msa-shop prod, and a stack that uses every kind of
 * member the views have) read into the generated views and written back; and variations
 * that are not resolved documents. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "docview.h"
#include "jsonutil.h"
#include "model.h"
#include "suites.h"

/* A stack whose services use what msa-shop does not: every probe kind, every volume
 * source, sidecars, init containers, nullable integers, arrays of objects. */
static const char general_stack[] =
	"{\"image\": {\"tag\": \"1.0\"},"
	" \"config\": {\"greeting\": \"hi\"}, \"secrets\": {\"token\": \"t\"},"
	" \"services\": {"
	"  \"web\": {\"image\": {\"repository\": \"web\"}, \"ports\": {\"http\": {\"port\": 80, \"targetPort\": 8080},"
	"            \"grpc\": {\"port\": 9090, \"appProtocol\": \"grpc\"}},"
	"    \"command\": [\"/bin/web\", \"--serve\"], \"workingDir\": \"/srv\","
	"    \"env\": {\"A\": {\"value\": \"1\"}, \"B\": {\"config\": \"greeting\"}, \"C\": {\"field\": \"status.podIP\"}},"
	"    \"envFrom\": {\"all\": {\"configMap\": \"general-config\", \"prefix\": \"CFG_\"}},"
	"    \"probes\": {\"readiness\": {\"httpGet\": {\"path\": \"/ready\", \"headers\": {\"X-Probe\": \"1\"}}},"
	"                \"liveness\": {\"grpc\": {}}, \"startup\": {\"exec\": {\"command\": [\"true\"]}}},"
	"    \"volumes\": {\"cache\": {\"mountPath\": \"/cache\", \"emptyDir\": {\"medium\": \"Memory\"}},"
	"                 \"conf\": {\"mountPath\": \"/etc/web\", \"files\": {\"web.conf\": {\"content\": \"x\"},"
	"                           \"token\": {\"secret\": \"token\"}}},"
	"                 \"shared\": {\"mountPath\": \"/shared\", \"claim\": {\"name\": \"shared-data\"}}},"
	"    \"sidecars\": {\"proxy\": {\"image\": \"envoyproxy/envoy:v1.30.1\", \"ports\": {\"admin\": {\"port\": 9901}},"
	"                 \"volumeMounts\": {\"cache\": {\"mountPath\": \"/cache\", \"readOnly\": true}}}},"
	"    \"initContainers\": {\"migrate\": {\"image\": \"web-migrate:1.0\", \"args\": [\"up\"]}},"
	"    \"scheduling\": {\"tolerations\": [{\"key\": \"gpu\", \"operator\": \"Exists\", \"tolerationSeconds\": 30}],"
	"                    \"affinity\": {\"nodeAffinity\": {}}}},"
	"  \"db\": {\"image\": {\"repository\": \"postgres\", \"tag\": \"16.2\"}, \"ports\": {\"pg\": {\"port\": 5432}},"
	"    \"volumes\": {\"data\": {\"mountPath\": \"/var/lib/postgresql/data\", \"persistent\": {\"size\": \"1Gi\"}}}},"
	"  \"nightly\": {\"kind\": \"CronJob\", \"image\": {\"repository\": \"batch\"}, \"cron\": {\"schedule\": \"@daily\"}}},"
	" \"ingress\": {\"rules\": {\"web\": {\"host\": \"web.example.com\", \"service\": \"web\", \"tls\": {\"enabled\": true}}}},"
	" \"patches\": {\"p\": {\"target\": {\"kind\": \"Deployment\", \"name\": \"web\"},"
	"                     \"jsonPatch\": [{\"op\": \"add\", \"path\": \"/spec/paused\", \"value\": true}]}}}";

static json_t *resolve(json_t *stack, const char *name, json_t *env, const char *env_name)
{
	json_t *doc = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int rc = model_resolve(name, stack, env_name, env, NULL, &errs, &doc);
	ck_assert_msg(rc == 0, "%s: %s", errs.count ? errs.items[0].pointer : "", errs.count ? errs.items[0].detail : "");
	model_errors_release(&errs);
	json_decref(stack);
	json_decref(env);
	return doc;
}

/* msa-shop layered with its prod environment; caller json_decref()s. */
static json_t *resolve_prod(void)
{
	return resolve(jsonutil_seed("msa-shop/stack.json"), "msa-shop", jsonutil_seed("msa-shop/prod.json"), "prod");
}

static json_t *resolve_general(void)
{
	json_t *stack = json_loads(general_stack, 0, NULL);
	ck_assert_ptr_nonnull(stack);
	return resolve(stack, "general", NULL, "dev");
}

/* docview_read into a new arena; the caller frees *ret_arena. */
static int read_doc(const json_t *doc, struct arena **ret_arena, struct doc_view *view)
{
	*ret_arena = arena_new();
	ck_assert_ptr_nonnull(*ret_arena);
	return docview_read(doc, *ret_arena, view);
}

/* Reading doc and writing the views back gives doc again. */
static void assert_round_trip(const json_t *doc)
{
	struct arena *a;
	struct doc_view v;
	ck_assert_int_eq(read_doc(doc, &a, &v), 0);
	json_t *back = docview_to_json(&v);
	ck_assert_ptr_nonnull(back);
	if (!json_equal(back, doc)) {
		char *x = json_dumps(doc, JSON_SORT_KEYS), *y = json_dumps(back, JSON_SORT_KEYS);
		ck_abort_msg("read back differs:\n%s\n%s", x, y);
	}
	json_decref(back);
	arena_free(a);
}

START_TEST(reads_msa_shop_prod)
{
	json_t *doc = resolve_prod();
	struct arena *a;
	struct doc_view v;
	ck_assert_int_eq(read_doc(doc, &a, &v), 0);
	ck_assert_str_eq(v.namespace, "msa-shop-prod");
	ck_assert_uint_eq(v.ingress.rules.count, 1);
	ck_assert_str_eq(v.ingress.rules.items[0].name, "main");
	ck_assert_str_eq(v.ingress.rules.items[0].host, "shop.example.com");
	ck_assert(v.ingress.rules.items[0].tls.enabled);
	ck_assert_str_eq(v.ingress.rules.items[0].port.str, "http");
	ck_assert(v.zipkin.enabled);
	ck_assert_str_eq(v.mysql.storage.size, "50Gi");
	/* borrowed from the document, not copied */
	ck_assert_ptr_eq(v.namespace, json_string_value(json_object_get(doc, "namespace")));
	ck_assert_ptr_eq(v.config, json_object_get(doc, "config"));
	/* services in the document's order, each named */
	const json_t *services = json_object_get(doc, "services");
	ck_assert_uint_eq(v.services.count, json_object_size(services));
	void *it = json_object_iter((json_t *)services);
	for (size_t i = 0; i < v.services.count; i++, it = json_object_iter_next((json_t *)services, it))
		ck_assert_str_eq(v.services.items[i].name, json_object_iter_key(it));
	const struct service_view *order = docview_find_service(&v, "order-service");
	ck_assert_ptr_nonnull(order);
	ck_assert_ptr_null(docview_find_service(&v, "no-such-service"));
	ck_assert_uint_eq(order->ports.count, 1);
	ck_assert_str_eq(order->ports.items[0].name, "http");
	ck_assert_int_eq(order->ports.items[0].target_port, 8083);
	ck_assert_str_eq(order->probes.readiness->http_get->path, "/actuator/health/readiness");
	ck_assert_str_eq(order->probes.readiness->http_get->port.str, "http");
	ck_assert_ptr_null(order->probes.readiness->tcp_socket);
	ck_assert_int_eq(order->probes.startup->failure_threshold, 36);
	ck_assert_str_eq(order->database->name, "orderdb");
	ck_assert_str_eq(order->env.items[0].name, "SPRING_PROFILES_ACTIVE");
	ck_assert_str_eq(order->kind, "Deployment");
	ck_assert_int_eq(order->autoscaling.target_cpu_utilization, 75);
	ck_assert_ptr_null(docview_find_service(&v, "api-gateway")->database);
	arena_free(a);
	assert_round_trip(doc);
	json_decref(doc);
}
END_TEST

START_TEST(reads_every_kind_of_member)
{
	json_t *doc = resolve_general();
	struct arena *a;
	struct doc_view v;
	ck_assert_int_eq(read_doc(doc, &a, &v), 0);
	const struct service_view *web = docview_find_service(&v, "web");
	ck_assert_str_eq(json_string_value(json_array_get(web->command, 1)), "--serve");
	ck_assert_ptr_null(web->args); /* null: the image's own */
	ck_assert_str_eq(web->probes.readiness->http_get->port.str, "http");
	ck_assert_ptr_null(web->probes.liveness->http_get);
	ck_assert_int_eq(web->probes.liveness->grpc->port, 8080); /* the first port's container port */
	ck_assert_str_eq(json_string_value(json_array_get(web->probes.startup->exec->command, 0)), "true");
	ck_assert_uint_eq(web->volumes.count, 3);
	ck_assert_str_eq(web->volumes.items[0].empty_dir->medium, "Memory");
	ck_assert_ptr_null(web->volumes.items[0].claim);
	ck_assert(!web->volumes.items[0].files.present);
	ck_assert(web->volumes.items[1].files.present);
	ck_assert_uint_eq(web->volumes.items[1].files.count, 2);
	ck_assert_str_eq(web->volumes.items[1].files.items[1].mode, "0400");
	ck_assert_str_eq(web->volumes.items[2].claim->name, "shared-data");
	ck_assert_uint_eq(web->scheduling.tolerations.count, 1);
	ck_assert_ptr_null(web->scheduling.tolerations.items[0].name); /* an array item has no name */
	ck_assert(web->scheduling.tolerations.items[0].toleration_seconds.set);
	ck_assert_int_eq(web->scheduling.tolerations.items[0].toleration_seconds.value, 30);
	ck_assert_str_eq(web->sidecars.items[0].ports.items[0].name, "admin");
	ck_assert(!web->sidecars.items[0].run_as_user.set);
	ck_assert_str_eq(web->init_containers.items[0].name, "migrate");
	ck_assert_str_eq(docview_find_service(&v, "db")->kind, "StatefulSet");
	ck_assert_str_eq(docview_find_service(&v, "nightly")->cron.schedule, "@daily");
	ck_assert_ptr_null(docview_find_service(&v, "nightly")->probes.readiness);
	ck_assert_str_eq(v.patches.items[0].json_patch.items[0].op, "add");
	arena_free(a);
	assert_round_trip(doc);
	json_decref(doc);
}
END_TEST

/* Members are found in any order (docview tries the resolved document's order first). */
START_TEST(member_order_does_not_matter)
{
	json_t *docs[2] = {resolve_prod(), resolve_general()};
	for (size_t i = 0; i < 2; i++) {
		json_t *rev = jsonutil_reversed(docs[i], NULL);
		ck_assert(json_equal(docs[i], rev));
		assert_round_trip(rev);
		json_decref(rev);
		json_decref(docs[i]);
	}
}
END_TEST

/* Changes that make doc not a resolved document: value NULL deletes the member. */
struct breaker {
	const char *path;
	const char *value; /* JSON text, or NULL */
};

static const struct breaker breakers[] = {
	/* a missing member */
	{"/namespace", NULL},
	{"/services/order-service/ports", NULL},
	{"/services/order-service/ports/http/targetPort", NULL},
	{"/services/order-service/probes/readiness", NULL},
	{"/services/order-service/kind", NULL},
	{"/mysql/storage/size", NULL},
	{"/ingress/rules/main/tls", NULL},
	{"/secretSource/remoteKey", NULL},
	/* a member of the wrong type */
	{"/namespace", "1"},
	{"/namespace", "null"},
	{"/services/order-service/ports/http/port", "\"8083\""},
	{"/services/order-service/enabled", "\"yes\""},
	{"/services/order-service/replicas", "2.5"},
	{"/services/order-service/probes/readiness/httpGet/path", "true"},
	{"/services/order-service/probes/readiness/httpGet/port", "true"},
	{"/services/order-service/probes/startup/periodSeconds", "null"},
	{"/services/order-service/database", "{\"name\": \"orderdb\"}"},
	{"/services/order-service/env", "[]"},
	{"/services/order-service/env/DB_HOST", "{\"config\": 1}"},
	{"/services/order-service/ports", "[]"},
	{"/services/order-service/scheduling/tolerations", "{}"},
	{"/services/order-service/securityContext/readOnlyRootFilesystem", "0"},
	{"/mysql/resources/limits", "\"1Gi\""},
	{"/ingress/annotations", "[]"},
	{"/ingress/annotations/x", "1"},
	{"/config/db-host", "3306"},
	{"/secrets/jwt-secret", "null"},
	{"/services/Order", "{}"},
};

/* Sets (value stolen) or, when value is NULL, deletes the member at a JSON Pointer of
 * plain tokens. */
static void set_at(json_t *doc, const char *pointer, json_t *value)
{
	const char *last = strrchr(pointer, '/');
	json_t *obj = doc;
	for (const char *s = pointer; s < last;) {
		const char *next = strchr(s + 1, '/');
		obj = json_object_getn(obj, s + 1, (size_t)(next - s - 1));
		s = next;
	}
	ck_assert_msg(json_is_object(obj), "no object before '%s'", pointer);
	if (value)
		ck_assert_int_eq(json_object_set_new(obj, last + 1, value), 0);
	else
		ck_assert_int_eq(json_object_del(obj, last + 1), 0);
}

START_TEST(rejects_what_is_not_a_resolved_document)
{
	json_t *doc = resolve_prod();
	for (size_t i = 0; i < sizeof breakers / sizeof breakers[0]; i++) {
		json_t *copy = json_deep_copy(doc);
		json_t *value = breakers[i].value ? json_loads(breakers[i].value, JSON_DECODE_ANY, NULL) : NULL;
		ck_assert(!breakers[i].value || value);
		set_at(copy, breakers[i].path, value);
		struct doc_view view = {.namespace = "untouched"};
		struct arena *a = arena_new();
		int rc = docview_read(copy, a, &view);
		ck_assert_msg(rc == -EINVAL, "%s = %s: %d", breakers[i].path, breakers[i].value, rc);
		ck_assert_str_eq(view.namespace, "untouched"); /* written only on success */
		arena_free(a);
		json_decref(copy);
	}
	struct arena *a = arena_new();
	struct doc_view view;
	json_t *arr = json_array();
	ck_assert_int_eq(docview_read(arr, a, &view), -EINVAL);
	ck_assert_int_eq(docview_read(NULL, a, &view), -EINVAL);
	json_decref(arr);
	arena_free(a);
	json_decref(doc);
}
END_TEST

/* Every allocation in the arena fails in turn: -ENOMEM, never a crash or a half view. */
START_TEST(allocation_failures)
{
	json_t *doc = resolve_general();
	struct arena *a = arena_new();
	struct doc_view v;
	size_t need;
	ck_assert_int_eq(docview_read(doc, a, &v), 0);
	need = arena_used(a);
	ck_assert_uint_gt(need, 0);
	for (size_t max = 0; max < need; max += 8) {
		arena_reset(a);
		arena_set_max(a, max);
		ck_assert_int_eq(docview_read(doc, a, &v), -ENOMEM);
	}
	arena_reset(a);
	arena_set_max(a, need);
	ck_assert_int_eq(docview_read(doc, a, &v), 0);
	arena_free(a);
	json_decref(doc);
}
END_TEST

Suite *docview_suite(void)
{
	Suite *s = suite_create("docview");
	TCase *tc = tcase_create("docview");
	tcase_add_test(tc, reads_msa_shop_prod);
	tcase_add_test(tc, reads_every_kind_of_member);
	tcase_add_test(tc, member_order_does_not_matter);
	tcase_add_test(tc, rejects_what_is_not_a_resolved_document);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

/* test_render: the bundle rendered from tests/data/render/msa-shop-prod.resolved.json
 * (a resolved document: msa-shop layered with prod, its components expanded into
 * services) and variations of it. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "jsonutil.h"
#include "render.h"
#include "render_common.h"
#include "suites.h"
#include "util.h"
#include "yamlcheck.h"
#include "yamlout.h"

#define FIXTURE TEST_SOURCE_DIR "/tests/data/render/msa-shop-prod.resolved.json"

static const struct render_meta prod_meta = {.stack = "msa-shop", .environment = "prod", .revision = 7};

static json_t *load_fixture(void)
{
	json_error_t err;
	json_t *doc = json_load_file(FIXTURE, 0, &err);
	ck_assert_msg(doc != NULL, "%s: %s", FIXTURE, err.text);
	return doc;
}

/* Sets the value at a '/'-path of existing objects in doc (value stolen). */
static void set_at(json_t *doc, const char *path, json_t *value)
{
	json_t *obj = doc;
	const char *slash;
	while ((slash = strchr(path, '/')) != NULL) {
		obj = json_object_getn(obj, path, (size_t)(slash - path));
		ck_assert_msg(json_is_object(obj), "no object before '%s'", slash);
		path = slash + 1;
	}
	ck_assert_int_eq(json_object_set_new(obj, path, value), 0);
}

/* Every file of the bundle: {"00-namespace.yaml": [objects...], ...} in file order. Its
 * YAML files are judged by libyaml on the way (yamlcheck_bundle). */
static json_t *render_all(const json_t *doc, const struct render_meta *meta)
{
	struct render *r = NULL;
	ck_assert_int_eq(render_new(doc, meta, NULL, &r), 0);
	yamlcheck_bundle(r);
	json_t *files = json_object();
	for (size_t i = 0; i < render_file_count(r); i++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(r, i, &objs), 0);
		ck_assert(json_is_array(objs));
		ck_assert_int_eq(json_object_set_new(files, render_file_name(r, i), objs), 0);
	}
	render_free(r);
	return files;
}

/* The whole bundle as one YAML stream (of the JSON objects), judged by libyaml. */
static void render_yaml(const json_t *doc, const struct render_meta *meta, struct buf *out)
{
	json_t *files = render_all(doc, meta), *all = json_array();
	struct yamlout *y = NULL;
	size_t start = out->len;
	ck_assert_int_eq(yamlout_new(out, &y), 0);
	const char *name;
	json_t *objs, *obj;
	size_t i;
	json_object_foreach(files, name, objs)
		json_array_foreach(objs, i, obj) {
			ck_assert_int_eq(yamlout_document(y, obj), 0);
			ck_assert_int_eq(json_array_append(all, obj), 0);
		}
	ck_assert_int_eq(yamlout_finish(y), 0);
	yamlout_free(y);
	yamlcheck_json_stream(out->data + start, out->len - start, all);
	json_decref(all);
	json_decref(files);
}

static const char *kind_of(const json_t *o)
{
	return json_string_value(json_object_get(o, "kind"));
}

static const char *name_of(const json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
}

/* The object of that kind and name in any file, borrowed; NULL when absent. */
static json_t *find(const json_t *files, const char *kind, const char *name)
{
	const char *file;
	json_t *objs, *obj;
	size_t i;
	json_object_foreach((json_t *)files, file, objs)
		json_array_foreach(objs, i, obj)
			if (strcmp(kind_of(obj), kind) == 0 && strcmp(name_of(obj), name) == 0)
				return obj;
	return NULL;
}

static size_t count_kind(const json_t *files, const char *kind)
{
	size_t n = 0, i;
	const char *file;
	json_t *objs, *obj;
	json_object_foreach((json_t *)files, file, objs)
		json_array_foreach(objs, i, obj)
			n += strcmp(kind_of(obj), kind) == 0;
	return n;
}

static json_t *pod_spec_of(const json_t *workload)
{
	return json_object_get(json_object_get(json_object_get(workload, "spec"), "template"), "spec");
}

static json_t *first_container(const json_t *workload)
{
	return json_array_get(json_object_get(pod_spec_of(workload), "containers"), 0);
}

START_TEST(files_and_objects_in_order)
{
	static const char *const expected[][6] = {
		{"00-namespace.yaml", "Namespace/msa-shop-prod"},
		{"10-config.yaml", "ConfigMap/msa-shop-config", "ConfigMap/msa-shop-bundle"},
		{"11-secrets.yaml", "Secret/msa-shop-secrets"},
		{"20-extra.yaml", "ConfigMap/mysql-provision", "ConfigMap/rabbitmq-provision"},
		{"50-api-gateway.yaml", "ServiceAccount/api-gateway", "Deployment/api-gateway", "Service/api-gateway",
		 "HorizontalPodAutoscaler/api-gateway", "PodDisruptionBudget/api-gateway"},
		{"50-mysql-provision.yaml", "ServiceAccount/mysql-provision", "Job/mysql-provision-"},
		{"50-mysql.yaml", "ServiceAccount/mysql", "StatefulSet/mysql", "Service/mysql", "Service/mysql-headless"},
		{"50-order-service.yaml", "ServiceAccount/order-service", "Deployment/order-service",
		 "Service/order-service", "HorizontalPodAutoscaler/order-service", "PodDisruptionBudget/order-service"},
		{"50-payment-service.yaml", "ServiceAccount/payment-service", "Deployment/payment-service",
		 "Service/payment-service", "PodDisruptionBudget/payment-service"},
		{"50-product-service.yaml", "ServiceAccount/product-service", "Deployment/product-service",
		 "Service/product-service", "PodDisruptionBudget/product-service"},
		{"50-rabbitmq-provision.yaml", "ServiceAccount/rabbitmq-provision", "Job/rabbitmq-provision-"},
		{"50-rabbitmq.yaml", "ServiceAccount/rabbitmq", "StatefulSet/rabbitmq", "Service/rabbitmq",
		 "Service/rabbitmq-headless"},
		{"50-settlement-service.yaml", "ServiceAccount/settlement-service", "Deployment/settlement-service",
		 "Service/settlement-service", "PodDisruptionBudget/settlement-service"},
		{"50-user-service.yaml", "ServiceAccount/user-service", "Deployment/user-service",
		 "Service/user-service", "PodDisruptionBudget/user-service"},
		{"50-zipkin.yaml", "ServiceAccount/zipkin", "Deployment/zipkin", "Service/zipkin"},
		{"90-ingress.yaml", "Ingress/msa-shop"},
	};
	json_t *doc = load_fixture();
	json_t *files = render_all(doc, &prod_meta);
	ck_assert_uint_eq(json_object_size(files), sizeof expected / sizeof expected[0]);
	size_t f = 0;
	const char *file;
	json_t *objs;
	json_object_foreach(files, file, objs) {
		ck_assert_str_eq(file, expected[f][0]);
		size_t n = 0;
		while (n + 1 < 6 && expected[f][n + 1])
			n++;
		ck_assert_uint_eq(json_array_size(objs), n);
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(objs, i);
			char got[128];
			(void)snprintf(got, sizeof got, "%s/%s", kind_of(o), name_of(o));
			ck_assert_msg(strncmp(got, expected[f][i + 1], strlen(expected[f][i + 1])) == 0,
				      "%s object %zu: %s", file, i, got);
		}
		f++;
	}
	json_decref(files);
	json_decref(doc);
}
END_TEST

/* Every object: apiVersion, kind, metadata first; namespace and labels; the revision and
 * the bundle hash only in the provenance ConfigMap. */
START_TEST(every_object_has_metadata)
{
	json_t *doc = load_fixture();
	struct render *r = NULL;
	ck_assert_int_eq(render_new(doc, &prod_meta, NULL, &r), 0);
	ck_assert_str_eq(render_namespace(r), "msa-shop-prod");
	ck_assert_uint_eq(strlen(render_bundle_hash(r)), 64);
	ck_assert_ptr_eq(render_doc(r), doc);
	ck_assert_str_eq(render_meta(r)->stack, "msa-shop");
	ck_assert_str_eq(render_provenance_name(r), "msa-shop-bundle");
	ck_assert_uint_eq(render_warnings(r)->count, 0);
	for (size_t f = 0; f < render_file_count(r); f++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(r, f, &objs), 0);
		size_t i;
		json_t *o;
		json_array_foreach(objs, i, o) {
			void *it = json_object_iter(o);
			ck_assert_str_eq(json_object_iter_key(it), "apiVersion");
			ck_assert_str_eq(json_object_iter_key(json_object_iter_next(o, it)), "kind");
			ck_assert_str_eq(json_object_iter_key(json_object_iter_next(o, json_object_iter_next(o, it))),
					 "metadata");
			json_t *md = json_object_get(o, "metadata");
			bool is_ns = strcmp(kind_of(o), "Namespace") == 0;
			ck_assert(is_ns == (json_object_get(md, "namespace") == NULL));
			if (!is_ns)
				ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "msa-shop-prod");
			json_t *l = json_object_get(md, "labels");
			ck_assert_str_eq(json_string_value(json_object_get(l, "app.kubernetes.io/instance")), "msa-shop-prod");
			ck_assert_str_eq(json_string_value(json_object_get(l, "app.kubernetes.io/part-of")), "msa-shop");
			ck_assert_str_eq(json_string_value(json_object_get(l, "app.kubernetes.io/managed-by")), "manifestd");
			ck_assert_str_eq(json_string_value(json_object_get(l, "manifestd.io/stack")), "msa-shop");
			ck_assert_str_eq(json_string_value(json_object_get(l, "manifestd.io/environment")), "prod");
			char *text = json_dumps(o, 0);
			bool provenance = strcmp(name_of(o), "msa-shop-bundle") == 0;
			ck_assert(provenance == (strstr(text, render_bundle_hash(r)) != NULL));
			ck_assert_ptr_null(strstr(text, "manifestd.io/revision"));
			free(text);
			if (provenance) {
				json_t *data = json_object_get(o, "data");
				ck_assert_str_eq(json_string_value(json_object_get(data, "revision")), "7");
				ck_assert_str_eq(json_string_value(json_object_get(data, "bundleHash")), render_bundle_hash(r));
				ck_assert_str_eq(json_string_value(json_object_get(data, "stack")), "msa-shop");
				ck_assert_str_eq(json_string_value(json_object_get(data, "environment")), "prod");
				ck_assert_str_eq(json_string_value(json_object_get(data, "namespace")), "msa-shop-prod");
			}
		}
		json_decref(objs);
	}
	ck_assert_ptr_null(render_file_name(r, render_file_count(r)));
	json_t *objs = NULL;
	ck_assert_int_eq(render_file_objects(r, render_file_count(r), &objs), -EINVAL);
	render_free(r);
	json_decref(doc);
}
END_TEST

/* Each env var of the document reaches its container as value / configMapKeyRef /
 * secretKeyRef, in document order; no secret value is written outside the Secret. */
START_TEST(env_wiring_and_no_secret_leaks)
{
	json_t *doc = load_fixture();
	json_t *files = render_all(doc, &prod_meta);
	const char *svc_name;
	json_t *svc;
	json_object_foreach(json_object_get(doc, "services"), svc_name, svc) {
		const char *kind = json_string_value(json_object_get(svc, "kind"));
		json_t *env = json_object_get(first_container(find(files, kind, svc_name)), "env");
		if (!strcmp(kind, "Job"))
			continue; /* named with a hash */
		ck_assert_uint_eq(json_array_size(env), json_object_size(json_object_get(svc, "env")));
		size_t i = 0;
		const char *var;
		json_t *src;
		json_object_foreach(json_object_get(svc, "env"), var, src) {
			json_t *e = json_array_get(env, i++);
			ck_assert_str_eq(json_string_value(json_object_get(e, "name")), var);
			json_t *from = json_object_get(e, "valueFrom");
			if (json_object_get(src, "value")) {
				ck_assert(json_equal(json_object_get(e, "value"), json_object_get(src, "value")));
			} else if (json_object_get(src, "config")) {
				json_t *ref = json_object_get(from, "configMapKeyRef");
				ck_assert_str_eq(json_string_value(json_object_get(ref, "name")), "msa-shop-config");
				ck_assert(json_equal(json_object_get(ref, "key"), json_object_get(src, "config")));
			} else {
				json_t *ref = json_object_get(from, "secretKeyRef");
				ck_assert_str_eq(json_string_value(json_object_get(ref, "name")), "msa-shop-secrets");
				ck_assert(json_equal(json_object_get(ref, "key"), json_object_get(src, "secret")));
			}
		}
	}
	/* secret values (and their base64) appear in the Secret and nowhere else */
	json_t *secret = find(files, "Secret", "msa-shop-secrets");
	ck_assert_str_eq(json_string_value(json_object_get(secret, "type")), "Opaque");
	json_t *data = json_object_get(secret, "data");
	const char *key;
	json_t *value;
	const char *prev = "";
	json_object_foreach(data, key, value) {
		ck_assert_int_lt(strcmp(prev, key), 0); /* sorted */
		prev = key;
	}
	const char *file;
	json_t *objs;
	json_object_foreach(files, file, objs) {
		if (strcmp(file, "11-secrets.yaml") == 0)
			continue;
		char *text = json_dumps(objs, JSON_COMPACT);
		json_object_foreach(json_object_get(doc, "secrets"), key, value) {
			const char *plain = json_string_value(value);
			ck_assert_msg(strstr(text, plain) == NULL, "secret '%s' in %s", key, file);
			ck_assert_msg(strstr(text, json_string_value(json_object_get(data, key))) == NULL,
				      "base64 of '%s' in %s", key, file);
			struct buf b64;
			buf_init(&b64, BUF_NO_MAX);
			ck_assert_int_eq(util_base64_append(&b64, plain, strlen(plain)), 0);
			ck_assert_str_eq(json_string_value(json_object_get(data, key)), buf_cstr(&b64));
			buf_release(&b64);
		}
		free(text);
	}
	json_decref(files);
	json_decref(doc);
}
END_TEST

START_TEST(autoscaling_and_disruption_budgets)
{
	json_t *doc = load_fixture();
	set_at(doc, "services/user-service/replicas", json_integer(1));
	set_at(doc, "services/product-service/disruptionBudget/enabled", json_false());
	json_t *files = render_all(doc, &prod_meta);
	const char *name;
	json_t *svc;
	json_object_foreach(json_object_get(doc, "services"), name, svc) {
		if (strcmp(json_string_value(json_object_get(svc, "kind")), "Deployment") != 0)
			continue; /* the components' StatefulSets and Jobs */
		json_t *spec = json_object_get(find(files, "Deployment", name), "spec");
		json_t *hpa = find(files, "HorizontalPodAutoscaler", name);
		json_t *as = json_object_get(svc, "autoscaling");
		bool scaled = json_is_true(json_object_get(as, "enabled"));
		long long replicas = json_integer_value(json_object_get(svc, "replicas"));
		if (scaled) {
			ck_assert_ptr_null(json_object_get(spec, "replicas"));
			ck_assert_ptr_nonnull(hpa);
			json_t *hs = json_object_get(hpa, "spec");
			ck_assert(json_equal(json_object_get(hs, "minReplicas"), json_object_get(as, "minReplicas")));
			ck_assert(json_equal(json_object_get(hs, "maxReplicas"), json_object_get(as, "maxReplicas")));
			json_t *target = json_object_get(json_object_get(json_array_get(json_object_get(hs, "metrics"), 0),
									 "resource"), "target");
			ck_assert(json_equal(json_object_get(target, "averageUtilization"),
					     json_object_get(as, "targetCPUUtilization")));
			ck_assert_str_eq(json_string_value(json_object_get(json_object_get(hs, "scaleTargetRef"), "name")), name);
		} else {
			ck_assert_int_eq(json_integer_value(json_object_get(spec, "replicas")), replicas);
			ck_assert_ptr_null(hpa);
		}
		bool many = scaled || replicas > 1;
		bool pdb_wanted = many && json_is_true(json_object_get(json_object_get(svc, "disruptionBudget"), "enabled"));
		json_t *pdb = find(files, "PodDisruptionBudget", name);
		ck_assert_msg((pdb != NULL) == pdb_wanted, "pdb of %s", name);
		if (pdb)
			ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(pdb, "spec"), "maxUnavailable")), 1);
		ck_assert((json_object_get(spec, "strategy") != NULL) == many);
	}
	ck_assert_ptr_null(find(files, "PodDisruptionBudget", "user-service"));
	ck_assert_ptr_null(find(files, "PodDisruptionBudget", "product-service"));
	ck_assert_ptr_nonnull(find(files, "PodDisruptionBudget", "payment-service"));
	ck_assert_uint_eq(count_kind(files, "HorizontalPodAutoscaler"), 2);
	json_decref(files);
	json_decref(doc);
}
END_TEST

START_TEST(same_input_same_bytes)
{
	json_t *doc = load_fixture();
	struct buf a, b;
	buf_init(&a, BUF_NO_MAX);
	buf_init(&b, BUF_NO_MAX);
	render_yaml(doc, &prod_meta, &a);
	json_t *copy = json_deep_copy(doc);
	render_yaml(copy, &prod_meta, &b);
	ck_assert_uint_gt(a.len, 10000);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
	/* another revision: another bundle hash */
	struct render_meta next = prod_meta;
	next.revision = 8;
	struct render *r1 = NULL, *r2 = NULL;
	ck_assert_int_eq(render_new(doc, &prod_meta, NULL, &r1), 0);
	ck_assert_int_eq(render_new(doc, &next, NULL, &r2), 0);
	ck_assert_str_ne(render_bundle_hash(r1), render_bundle_hash(r2));
	render_free(r1);
	render_free(r2);
	json_decref(copy);
	json_decref(doc);
	buf_release(&a);
	buf_release(&b);
}
END_TEST

static const char *template_annotation(const json_t *files, const char *deployment, const char *key)
{
	json_t *tmpl = json_object_get(json_object_get(find(files, "Deployment", deployment), "spec"), "template");
	return json_string_value(json_object_get(json_object_get(json_object_get(tmpl, "metadata"), "annotations"), key));
}

/* The maps whose order is the order of the output. */
static bool keeps_order(const char *key)
{
	static const char *const ordered[] = {"env", "annotations", "ports", "rules", "volumes", "files",
					      "initContainers", "sidecars", "envFrom", "headers"};
	for (size_t i = 0; i < sizeof ordered / sizeof *ordered; i++)
		if (strcmp(key, ordered[i]) == 0)
			return true;
	return false;
}

/* render reads members in the order resolved documents have them first; any other
 * order gives the same objects and hash. */
START_TEST(member_order_does_not_matter)
{
	json_t *doc = load_fixture();
	json_t *rev = jsonutil_reversed(doc, keeps_order);
	ck_assert(json_equal(doc, rev));
	const char *first = json_object_iter_key(json_object_iter(rev));
	ck_assert_str_ne(first, json_object_iter_key(json_object_iter(doc)));
	json_t *want = render_all(doc, &prod_meta), *got = render_all(rev, &prod_meta);
	ck_assert_uint_gt(json_object_size(want), 5);
	ck_assert(json_equal(want, got));
	json_decref(want);
	json_decref(got);
	json_decref(rev);
	json_decref(doc);
}
END_TEST

/* checksum/config is the digest of the config keys the pod reads, and nothing else. */
START_TEST(config_checksum_rolls_pods)
{
	json_t *doc = load_fixture();
	json_t *files = render_all(doc, &prod_meta);
	json_t *data = json_object_get(find(files, "ConfigMap", "msa-shop-config"), "data");
	json_t *read = json_object();
	const char *var;
	json_t *src;
	json_object_foreach(json_object_get(json_object_get(json_object_get(doc, "services"), "order-service"), "env"), var, src)
		if (json_object_get(src, "config"))
			json_object_set(read, json_string_value(json_object_get(src, "config")),
					json_object_get(data, json_string_value(json_object_get(src, "config"))));
	ck_assert_uint_gt(json_object_size(read), 2);
	char sum[65];
	ck_assert_int_eq(digest_json(read, sum), 0);
	json_decref(read);
	ck_assert_str_eq(template_annotation(files, "order-service", "checksum/config"), sum);
	char secrets_sum[65], gateway_sum[65];
	(void)snprintf(secrets_sum, sizeof secrets_sum, "%s", template_annotation(files, "order-service", "checksum/secrets"));
	(void)snprintf(gateway_sum, sizeof gateway_sum, "%s", template_annotation(files, "api-gateway", "checksum/config"));
	/* db-port: read by order-service, not by api-gateway */
	set_at(doc, "config/db-port", json_string("3307"));
	json_t *changed = render_all(doc, &prod_meta);
	ck_assert_str_ne(template_annotation(changed, "order-service", "checksum/config"), sum);
	ck_assert_str_eq(template_annotation(changed, "order-service", "checksum/secrets"), secrets_sum);
	ck_assert_str_eq(template_annotation(changed, "api-gateway", "checksum/config"), gateway_sum);
	json_decref(changed);
	json_decref(files);
	json_decref(doc);
}
END_TEST

START_TEST(disabled_parts_render_nothing)
{
	json_t *doc = load_fixture();
	set_at(doc, "services/user-service/enabled", json_false());
	set_at(doc, "ingress/enabled", json_false());
	set_at(doc, "services/zipkin/enabled", json_false());
	json_t *files = render_all(doc, &prod_meta);
	ck_assert_ptr_null(json_object_get(files, "50-user-service.yaml"));
	ck_assert_ptr_null(json_object_get(files, "90-ingress.yaml"));
	ck_assert_ptr_null(json_object_get(files, "50-zipkin.yaml"));
	ck_assert_uint_eq(count_kind(files, "Ingress"), 0);
	char *text = json_dumps(files, JSON_COMPACT);
	ck_assert_ptr_null(strstr(text, "user-service\""));
	ck_assert_ptr_null(strstr(text, "zipkin\""));
	ck_assert_ptr_nonnull(strstr(text, "user-service-uri")); /* config keys stay */
	free(text);
	json_decref(files);
	static const char *const parts[] = {"mysql", "mysql-provision", "rabbitmq", "rabbitmq-provision"};
	for (size_t i = 0; i < 4; i++) {
		char p[64];
		(void)snprintf(p, sizeof p, "services/%s/enabled", parts[i]);
		set_at(doc, p, json_false());
	}
	files = render_all(doc, &prod_meta);
	ck_assert_ptr_null(json_object_get(files, "50-mysql.yaml"));
	ck_assert_ptr_null(json_object_get(files, "50-mysql-provision.yaml"));
	ck_assert_ptr_null(json_object_get(files, "50-rabbitmq.yaml"));
	ck_assert_uint_eq(count_kind(files, "StatefulSet"), 0);
	json_decref(files);
	json_decref(doc);
}
END_TEST

START_TEST(pod_details)
{
	json_t *doc = load_fixture();
	set_at(doc, "services/order-service/image/digest", json_string("sha256:0a1b"));
	set_at(doc, "image/pullSecret", json_string("regcred"));
	set_at(doc, "ingress/annotations", json_pack("{s:s}", "nginx.ingress.kubernetes.io/proxy-body-size", "8m"));
	json_t *files = render_all(doc, &prod_meta);
	json_t *order = find(files, "Deployment", "order-service");
	json_t *c = first_container(order);
	ck_assert_str_eq(json_string_value(json_object_get(c, "image")), "ghcr.io/msa-shop/order-service:1.4.2@sha256:0a1b");
	ck_assert_str_eq(json_string_value(json_object_get(first_container(find(files, "Deployment", "user-service")), "image")),
			 "ghcr.io/msa-shop/user-service:1.4.2");
	json_t *pod = pod_spec_of(order);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(pod, "imagePullSecrets"), 0), "name")),
			 "regcred");
	ck_assert(json_is_false(json_object_get(pod, "automountServiceAccountToken")));
	json_t *sc = json_object_get(c, "securityContext");
	ck_assert(json_is_false(json_object_get(sc, "allowPrivilegeEscalation")));
	ck_assert(json_is_true(json_object_get(sc, "readOnlyRootFilesystem")));
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "runAsUser")), 1000);
	json_t *startup = json_object_get(json_object_get(c, "startupProbe"), "httpGet");
	ck_assert_str_eq(json_string_value(json_object_get(startup, "port")), "http");
	ck_assert_str_eq(json_string_value(json_object_get(startup, "path")), "/actuator/health/liveness");
	/* payment-service waits for MySQL and RabbitMQ, api-gateway for nothing */
	json_t *init = json_object_get(pod_spec_of(find(files, "Deployment", "payment-service")), "initContainers");
	ck_assert_uint_eq(json_array_size(init), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(init, 1), "name")), "wait-for-rabbitmq");
	ck_assert_ptr_null(json_object_get(pod_spec_of(find(files, "Deployment", "api-gateway")), "initContainers"));
	/* selector: name and instance only */
	json_t *sel = json_object_get(json_object_get(json_object_get(order, "spec"), "selector"), "matchLabels");
	ck_assert_uint_eq(json_object_size(sel), 2);
	/* ingress: host, tls, backend port by number, user annotations kept */
	json_t *ing = find(files, "Ingress", "msa-shop");
	json_t *spec = json_object_get(ing, "spec");
	ck_assert_str_eq(json_string_value(json_object_get(spec, "ingressClassName")), "nginx");
	json_t *rule = json_array_get(json_object_get(spec, "rules"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rule, "host")), "shop.example.com");
	json_t *path = json_array_get(json_object_get(json_object_get(rule, "http"), "paths"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(path, "backend"),
							 "service"), "port"), "number")), 8080);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(spec, "tls"), 0), "secretName")),
			 "msa-shop-tls");
	json_t *annot = json_object_get(json_object_get(ing, "metadata"), "annotations");
	ck_assert_str_eq(json_string_value(json_object_get(annot, "nginx.ingress.kubernetes.io/proxy-body-size")), "8m");
	/* MySQL: secrets by reference, storage from the document */
	json_t *my = find(files, "StatefulSet", "mysql");
	json_t *claim = json_array_get(json_object_get(json_object_get(my, "spec"), "volumeClaimTemplates"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(claim, "spec"), "storageClassName")), "standard-rwo");
	json_t *menv = json_object_get(first_container(my), "env");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(json_array_get(menv, 0),
			 "valueFrom"), "secretKeyRef"), "key")), "mysql-root-password");
	json_decref(files);
	json_decref(doc);
}
END_TEST

/* A helper container's readOnlyRootFilesystem: its own when set (the components' wait
 * containers write nothing), else the service's. */
START_TEST(helper_containers_read_only_root)
{
	json_t *doc = load_fixture();
	set_at(doc, "services/payment-service/securityContext/readOnlyRootFilesystem", json_false());
	set_at(doc, "services/payment-service/initContainers/wait-for-mysql/readOnlyRootFilesystem", json_null());
	json_t *files = render_all(doc, &prod_meta);
	json_t *pod = pod_spec_of(find(files, "Deployment", "payment-service"));
	json_t *init = json_object_get(pod, "initContainers");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(init, 0), "name")), "wait-for-mysql");
	ck_assert(json_is_false(json_object_get(json_object_get(json_array_get(init, 0), "securityContext"),
						"readOnlyRootFilesystem")));
	ck_assert(json_is_true(json_object_get(json_object_get(json_array_get(init, 1), "securityContext"),
					       "readOnlyRootFilesystem")));
	ck_assert(json_is_false(json_object_get(json_object_get(first_container(find(files, "Deployment",
										     "payment-service")),
								 "securityContext"),
						"readOnlyRootFilesystem")));
	json_decref(files);
	json_decref(doc);
}
END_TEST

START_TEST(rejects_what_is_not_a_resolved_document)
{
	json_t *doc = load_fixture();
	struct render *r = NULL;
	struct render_meta bad = {.stack = "Msa", .environment = "prod", .revision = 0};
	ck_assert_int_eq(render_new(doc, &bad, NULL, &r), -EINVAL);
	ck_assert_int_eq(render_new(NULL, &prod_meta, NULL, &r), -EINVAL);
	json_t *arr = json_array();
	ck_assert_int_eq(render_new(arr, &prod_meta, NULL, &r), -EINVAL);
	json_decref(arr);
	static const char *const breakers[] = {
		"namespace", "services/order-service/ports/http/port", "services/order-service/probes/readiness/httpGet/path",
		"services/mysql/volumes/data/persistent/size", "services/order-service/env/DB_HOST", "ingress/rules/main/service", "config/db-host",
	};
	for (size_t i = 0; i < sizeof breakers / sizeof breakers[0]; i++) {
		json_t *copy = json_deep_copy(doc);
		set_at(copy, breakers[i], json_true());
		ck_assert_msg(render_new(copy, &prod_meta, NULL, &r) == -EINVAL, "accepted %s = true", breakers[i]);
		json_decref(copy);
	}
	ck_assert_ptr_null(r);
	render_free(NULL);
	json_decref(doc);
}
END_TEST

/* jansson allocations fail one after another: every step reports -ENOMEM and frees what
 * it took (leaks show under ASan), and with enough memory the render succeeds. */
static long alloc_budget = -1;

START_TEST(secret_source_existing_and_external)
{
	json_t *doc = load_fixture();
	set_at(doc, "secretSource/type", json_string("existing"));
	set_at(doc, "secretSource/name", json_string("shop-secrets"));
	json_t *files = render_all(doc, &prod_meta);
	ck_assert_ptr_null(json_object_get(files, "11-secrets.yaml"));
	ck_assert_uint_eq(count_kind(files, "Secret"), 0);
	json_t *env = json_object_get(first_container(find(files, "StatefulSet", "mysql")), "env");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(
				 json_array_get(env, 0), "valueFrom"), "secretKeyRef"), "name")), "shop-secrets");
	json_decref(files);

	set_at(doc, "secretSource/type", json_string("externalSecret"));
	set_at(doc, "secretSource/secretStore", json_string("vault"));
	files = render_all(doc, &prod_meta);
	ck_assert_uint_eq(count_kind(files, "Secret"), 0);
	json_t *es = find(files, "ExternalSecret", "shop-secrets");
	ck_assert_ptr_nonnull(es);
	ck_assert_str_eq(json_string_value(json_object_get(es, "apiVersion")), "external-secrets.io/v1beta1");
	json_t *spec = json_object_get(es, "spec");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(spec, "secretStoreRef"), "name")), "vault");
	json_t *data = json_object_get(spec, "data");
	ck_assert_uint_eq(json_array_size(data), json_object_size(json_object_get(doc, "secrets")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(data, 0), "remoteRef"), "key")),
			 "msa-shop/prod");
	struct buf yaml;
	buf_init(&yaml, BUF_NO_MAX);
	render_yaml(doc, &prod_meta, &yaml);
	ck_assert_ptr_null(strstr(buf_cstr(&yaml), "prod-jwt-secret-change-me"));
	buf_release(&yaml);
	json_decref(files);
	json_decref(doc);
}
END_TEST

static void *budget_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static int render_everything(const json_t *doc)
{
	struct render *r = NULL;
	int rc = render_new(doc, &prod_meta, NULL, &r);
	for (size_t i = 0; rc == 0 && i < render_file_count(r); i++) {
		json_t *objs = NULL;
		rc = render_file_objects(r, i, &objs);
		if (rc == 0)
			json_decref(objs);
	}
	render_free(r);
	return rc;
}

START_TEST(allocation_failures)
{
	json_t *doc = load_fixture();
	json_set_alloc_funcs(budget_malloc, free);
	int rc = -ENOMEM;
	long budget;
	for (budget = 0; budget < 200000 && rc != 0; budget += 1 + budget / 50) {
		alloc_budget = budget;
		rc = render_everything(doc);
		ck_assert_msg(rc == 0 || rc == -ENOMEM, "budget %ld: %d", budget, rc);
	}
	alloc_budget = -1;
	json_set_alloc_funcs(malloc, free);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(budget, 1000); /* many allocations were made to fail */
	json_decref(doc);
}
END_TEST

/* ---- render_file_nodes: the tree render builds, read with node_get ---- */

static size_t file_index(const struct render *r, const char *name)
{
	for (size_t i = 0; i < render_file_count(r); i++)
		if (strcmp(render_file_name(r, i), name) == 0)
			return i;
	ck_abort_msg("no file %s", name);
	return 0;
}

/* The n-th item of a NODE_SEQ (NULL past the end). */
static const struct node *nth(const struct node *seq, size_t n)
{
	ck_assert_int_eq(seq->kind, NODE_SEQ);
	const struct node_item *it = seq->v.list.first;
	while (it && n--)
		it = it->next;
	return it ? it->val : NULL;
}

static const char *node_at(const struct node *n, const char *key1, const char *key2)
{
	return node_string(node_get(node_get(n, key1), key2));
}

/* Every object carries the instance labels, and no provenance annotation. */
static void check_object(const struct render *r, const struct node *obj)
{
	const struct node *meta = node_get(obj, "metadata");
	ck_assert_int_eq(obj->kind, NODE_MAP);
	ck_assert_ptr_nonnull(node_string(node_get(obj, "kind")));
	ck_assert_ptr_nonnull(node_string(node_get(meta, "name")));
	ck_assert_str_eq(node_at(meta, "labels", "app.kubernetes.io/instance"), "msa-shop-prod");
	ck_assert_str_eq(node_at(meta, "labels", "app.kubernetes.io/managed-by"), "manifestd");
	ck_assert_ptr_null(node_at(meta, "annotations", "manifestd.io/bundle-hash"));
	(void)r;
}

START_TEST(file_nodes_hold_the_objects)
{
	json_t *doc = load_fixture();
	/* user annotations pass as written, even with a key render once set itself */
	set_at(doc, "ingress/annotations", json_pack("{s:s, s:s}", "manifestd.io/revision", "forged", "x.io/a", "b"));
	struct render *r = NULL;
	ck_assert_int_eq(render_new(doc, &prod_meta, NULL, &r), 0);
	const struct node *objs = NULL;
	for (size_t i = 0; i < render_file_count(r); i++) {
		ck_assert_int_eq(render_file_nodes(r, i, &objs), 0);
		ck_assert_uint_gt(objs->v.list.count, 0);
		for (size_t j = 0; j < objs->v.list.count; j++)
			check_object(r, nth(objs, j));
		/* built once: the same tree each time */
		const struct node *again = NULL;
		ck_assert_int_eq(render_file_nodes(r, i, &again), 0);
		ck_assert_ptr_eq(again, objs);
	}

	ck_assert_int_eq(render_file_nodes(r, file_index(r, "50-order-service.yaml"), &objs), 0);
	ck_assert_str_eq(node_string(node_get(nth(objs, 0), "kind")), "ServiceAccount");
	const struct node *dep = nth(objs, 1);
	ck_assert_str_eq(node_string(node_get(dep, "kind")), "Deployment");
	ck_assert_str_eq(node_at(dep, "metadata", "name"), "order-service");
	const struct node *pod = node_get(node_get(dep, "spec"), "template");
	const struct node *c = nth(node_get(node_get(pod, "spec"), "containers"), 0);
	ck_assert_str_eq(node_string(node_get(c, "name")), "order-service");
	ck_assert_int_eq(node_get(nth(node_get(c, "ports"), 0), "containerPort")->kind, NODE_INT);
	/* the image reference is formatted into the arena */
	const json_t *img = json_object_get(json_object_get(json_object_get(doc, "services"), "order-service"), "image");
	const char *ref = node_string(node_get(c, "image"));
	ck_assert_ptr_nonnull(strstr(ref, json_string_value(json_object_get(img, "repository"))));
	ck_assert_uint_eq(strlen(node_string(node_get(node_get(node_get(pod, "metadata"), "annotations"),
							"checksum/config"))), 64);

	size_t ing = file_index(r, "90-ingress.yaml");
	ck_assert_int_eq(render_file_nodes(r, ing, &objs), 0);
	const struct node *ann = node_get(node_get(nth(objs, 0), "metadata"), "annotations");
	ck_assert_uint_eq(ann->v.list.count, 2);
	ck_assert_str_eq(ann->v.list.first->key, "manifestd.io/revision");
	ck_assert_str_eq(node_string(ann->v.list.first->val), "forged");
	ck_assert_str_eq(node_string(node_get(ann, "x.io/a")), "b");

	ck_assert_int_eq(render_file_nodes(r, render_file_count(r), &objs), -EINVAL);
	render_free(r);
	json_decref(doc);
}
END_TEST

/* File i built into a, in *ret (a new NODE_SEQ). */
static int build(struct arena *a, const struct render *r, size_t i, struct node **ret)
{
	*ret = node_seq(a);
	return *ret ? render_build_file(a, r, i, *ret) : -ENOMEM;
}

/* An arena that may not grow past a limit: building each file (render_build_file, as
 * render_new does) fails with -ENOMEM below the bytes it needs (at every allocation in
 * turn; ASan shows nothing leaks) and builds the same objects at exactly that limit. */
START_TEST(arena_limit_gives_enomem)
{
	json_t *doc = load_fixture();
	struct render *r = NULL;
	ck_assert_int_eq(render_new(doc, &prod_meta, NULL, &r), 0);
	struct arena *a = arena_new();
	ck_assert_ptr_nonnull(a);
	size_t failures = 0;
	for (size_t i = 0; i < render_file_count(r); i++) {
		struct node *objs = NULL;
		arena_set_max(a, ARENA_NO_MAX);
		arena_reset(a);
		ck_assert_int_eq(build(a, r, i, &objs), 0);
		size_t need = arena_used(a);
		json_t *want = node_to_json(objs);
		ck_assert_ptr_nonnull(want);
		for (size_t max = 0; max < need; max += 16) {
			arena_reset(a);
			arena_set_max(a, max);
			ck_assert_int_eq(build(a, r, i, &objs), -ENOMEM);
			failures++;
		}
		arena_reset(a);
		arena_set_max(a, need);
		ck_assert_int_eq(build(a, r, i, &objs), 0);
		json_t *got = node_to_json(objs);
		ck_assert(json_equal(got, want));
		json_decref(got);
		json_decref(want);
	}
	ck_assert_uint_gt(failures, 1000);
	arena_free(a);
	render_free(r);
	json_decref(doc);
}
END_TEST

Suite *render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, files_and_objects_in_order);
	tcase_add_test(tc, every_object_has_metadata);
	tcase_add_test(tc, env_wiring_and_no_secret_leaks);
	tcase_add_test(tc, autoscaling_and_disruption_budgets);
	tcase_add_test(tc, same_input_same_bytes);
	tcase_add_test(tc, member_order_does_not_matter);
	tcase_add_test(tc, config_checksum_rolls_pods);
	tcase_add_test(tc, disabled_parts_render_nothing);
	tcase_add_test(tc, pod_details);
	tcase_add_test(tc, helper_containers_read_only_root);
	tcase_add_test(tc, secret_source_existing_and_external);
	tcase_add_test(tc, rejects_what_is_not_a_resolved_document);
	tcase_add_test(tc, allocation_failures);
	tcase_add_test(tc, file_nodes_hold_the_objects);
	tcase_add_test(tc, arena_limit_gives_enomem);
	suite_add_tcase(s, tc);
	return s;
}

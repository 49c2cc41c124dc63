/* test_docview: the built-in msa-shop prod environment, resolved by model_resolve, read
 * into views; and variations of it that are not resolved documents. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "docview.h"
#include "jsonutil.h"
#include "model.h"
#include "suites.h"

/* msa-shop layered with its prod environment; caller json_decref()s. */
static json_t *resolve_prod(void)
{
	json_t *stack = jsonutil_seed("msa-shop/stack.json"), *env = jsonutil_seed("msa-shop/prod.json"), *doc = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(model_resolve("msa-shop", stack, "prod", env, NULL, &errs, &doc), 0);
	model_errors_release(&errs);
	json_decref(stack);
	json_decref(env);
	return doc;
}

/* The value at a '/'-path of objects in doc (borrowed), or NULL. */
static json_t *get_at(const json_t *doc, const char *path)
{
	json_t *v = (json_t *)doc;
	const char *slash;
	while (v && (slash = strchr(path, '/')) != NULL) {
		v = json_object_getn(v, path, (size_t)(slash - path));
		path = slash + 1;
	}
	return json_object_get(v, path);
}

/* Sets (value stolen) or, when value is NULL, deletes the member at a '/'-path. */
static void set_at(json_t *doc, const char *path, json_t *value)
{
	const char *last = strrchr(path, '/');
	json_t *obj = doc;
	if (last) {
		char *parent = strndup(path, (size_t)(last - path));
		ck_assert_ptr_nonnull(parent);
		obj = get_at(doc, parent);
		free(parent);
	}
	ck_assert_msg(json_is_object(obj), "no object before '%s'", path);
	const char *key = last ? last + 1 : path;
	if (value)
		ck_assert_int_eq(json_object_set_new(obj, key, value), 0);
	else
		ck_assert_int_eq(json_object_del(obj, key), 0);
}

/* docview_read's result; release with done(). */
struct read {
	int rc;
	struct doc_view view;
	struct service_view *services;
	size_t count;
};

static struct read read_doc(const json_t *doc)
{
	struct read r = {.services = NULL, .count = 0};
	r.rc = docview_read(doc, &r.view, &r.services, &r.count);
	return r;
}

static void done(struct read *r)
{
	free(r->services);
}

static bool is_sorted(const struct service_view *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1].name, s[i].name) >= 0)
			return false;
	return true;
}

static const char *const probe_keys[NPROBES] = {"readiness", "liveness", "startup"};

/* Every member of one service view is the document's /services/<name>, borrowed. */
static void check_service(const json_t *doc, const struct service_view *s)
{
	const json_t *svc = json_object_get(get_at(doc, "services"), s->name);
	ck_assert_msg(svc != NULL, "'%s' is not in /services", s->name);
	ck_assert_ptr_eq(json_object_get(svc, "env"), s->env);
	ck_assert_ptr_eq(json_object_get(svc, "probes"), s->probes);
	ck_assert_int_eq(json_integer_value(json_object_get(svc, "port")), s->port);
	ck_assert_int_eq(json_integer_value(json_object_get(svc, "replicas")), s->replicas);
	ck_assert_int_eq(json_is_true(json_object_get(svc, "broker")), s->broker);
	const json_t *image = json_object_get(svc, "image");
	ck_assert_ptr_eq(json_string_value(json_object_get(image, "repository")), s->image.repository);
	ck_assert_ptr_eq(json_string_value(json_object_get(image, "tag")), s->image.tag);
	const json_t *requests = json_object_get(json_object_get(svc, "resources"), "requests");
	ck_assert_str_eq(json_string_value(json_object_get(requests, "memory")), s->resources.requests.memory);
	for (size_t i = 0; i < NPROBES; i++) {
		const json_t *p = json_object_get(s->probes, probe_keys[i]);
		ck_assert_ptr_eq(json_string_value(json_object_get(p, "path")), s->probe[i].path);
		if (!json_is_null(p))
			ck_assert_int_eq(json_integer_value(json_object_get(p, "periodSeconds")), s->probe[i].period);
	}
	const json_t *db = json_object_get(svc, "database");
	ck_assert_ptr_eq(json_string_value(json_object_get(db, "name")), s->database.name);
	ck_assert_ptr_eq(json_string_value(json_object_get(db, "user")), s->database.user);
}

START_TEST(reads_the_resolved_document)
{
	json_t *doc = resolve_prod();
	struct read r = read_doc(doc);
	ck_assert_int_eq(r.rc, 0);
	const struct doc_view *v = &r.view;
	/* what prod.json sets, over the stack's values */
	ck_assert_str_eq(v->namespace, "msa-shop-prod");
	ck_assert_str_eq(v->ingress.host, "shop.example.com");
	ck_assert(v->ingress.tls.enabled);
	ck_assert_str_eq(v->ingress.tls.secret_name, "msa-shop-tls");
	ck_assert(v->zipkin.enabled);
	ck_assert_str_eq(v->mysql.storage.size, "50Gi");
	ck_assert_str_eq(v->mysql.resources.limits.memory, "4Gi");
	ck_assert_str_eq(v->rabbitmq.storage.size, "10Gi");
	/* borrowed from the document, not copied */
	ck_assert_ptr_eq(v->namespace, json_string_value(get_at(doc, "namespace")));
	ck_assert_ptr_eq(v->config, get_at(doc, "config"));
	ck_assert_ptr_eq(v->secrets, get_at(doc, "secrets"));
	ck_assert_ptr_eq(v->services, get_at(doc, "services"));
	ck_assert_ptr_eq(v->ingress.annotations, get_at(doc, "ingress/annotations"));
	ck_assert_ptr_eq(v->image.policy, json_string_value(get_at(doc, "image/pullPolicy")));
	ck_assert_ptr_eq(v->secret_source.name, json_string_value(get_at(doc, "secretSource/name")));
	ck_assert_ptr_eq(v->rabbitmq.user, json_string_value(get_at(doc, "rabbitmq/user")));

	ck_assert_uint_eq(r.count, json_object_size(v->services));
	ck_assert_uint_gt(r.count, 2);
	size_t with_db = 0;
	for (size_t i = 0; i < r.count; i++) {
		check_service(doc, &r.services[i]);
		ck_assert(r.services[i].enabled);
		with_db += r.services[i].database.name != NULL;
	}
	ck_assert_uint_gt(with_db, 0);
	ck_assert_uint_lt(with_db, r.count);
	const struct service_view *order = docview_find_service(r.services, r.count, "order-service");
	ck_assert_ptr_nonnull(order);
	ck_assert_int_eq(order->replicas, 3);
	ck_assert(order->autoscaling.enabled);
	ck_assert_int_eq(order->autoscaling.max_replicas, 8);
	ck_assert_int_eq(order->autoscaling.target_cpu, 75);
	done(&r);
	json_decref(doc);
}
END_TEST

/* The document lists services in the stack's order; the views come sorted by name, and
 * a disabled service is read (and checked) but not kept. */
START_TEST(enabled_services_sorted_by_name)
{
	json_t *doc = resolve_prod();
	const json_t *all = get_at(doc, "services");
	size_t n = json_object_size(all);
	struct read r = read_doc(doc);
	ck_assert_int_eq(r.rc, 0);
	ck_assert(is_sorted(r.services, r.count));
	bool doc_sorted = true; /* the seed lists them in another order */
	const char *key, *prev = "";
	json_t *svc;
	json_object_foreach((json_t *)all, key, svc) {
		doc_sorted = doc_sorted && strcmp(prev, key) < 0;
		prev = key;
	}
	ck_assert(!doc_sorted);

	/* disable the first and the last service by name that are not the ingress backend */
	const char *backend = json_string_value(get_at(doc, "ingress/service"));
	size_t lo = strcmp(r.services[0].name, backend) == 0 ? 1 : 0;
	size_t hi = strcmp(r.services[r.count - 1].name, backend) == 0 ? r.count - 2 : r.count - 1;
	const char *off[2] = {r.services[lo].name, r.services[hi].name}; /* borrowed from doc */
	done(&r);
	json_t *copy = json_deep_copy(doc);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(json_object_set_new(json_object_get(json_object_get(copy, "services"), off[i]),
						     "enabled", json_false()),
				 0);
	r = read_doc(copy);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.count, n - 2);
	ck_assert_uint_eq(json_object_size(r.view.services), n); /* the object still has all */
	ck_assert(is_sorted(r.services, r.count));
	for (size_t i = 0; i < 2; i++)
		ck_assert_ptr_null(docview_find_service(r.services, r.count, off[i]));
	json_object_foreach((json_t *)r.view.services, key, svc) {
		const struct service_view *s = docview_find_service(r.services, r.count, key);
		ck_assert_int_eq(s != NULL, json_is_true(json_object_get(svc, "enabled")));
		if (s)
			ck_assert_str_eq(s->name, key);
	}
	ck_assert_ptr_null(docview_find_service(r.services, r.count, "no-such-service"));
	ck_assert_ptr_null(docview_find_service(r.services, 0, backend));
	done(&r);
	json_decref(copy);
	json_decref(doc);
}
END_TEST

/* Changes that make doc not a resolved document: value NULL deletes the member. */
struct breaker {
	const char *path;
	const char *value; /* JSON text, or NULL */
};

static const struct breaker breakers[] = {
	/* a missing field */
	{"namespace", NULL},
	{"services/order-service/port", NULL},
	{"services/order-service/probes/readiness", NULL},
	{"mysql/storage/size", NULL},
	{"ingress/tls", NULL},
	{"secretSource/remoteKey", NULL},
	/* a field of the wrong type */
	{"namespace", "1"},
	{"services/order-service/port", "\"8083\""},
	{"services/order-service/enabled", "\"yes\""},
	{"services/order-service/replicas", "2.5"},
	{"services/order-service/probes/readiness/path", "true"},
	{"services/order-service/probes/startup/periodSeconds", "null"},
	{"services/order-service/database", "{\"name\": \"orderdb\"}"},
	{"services/order-service/env", "[]"},
	{"services/order-service/env/DB_HOST", "{\"config\": 1}"},
	{"services/order-service/env/DB_HOST", "{\"config\": \"db-host\", \"value\": \"x\"}"},
	{"services/order-service/env/DB_HOST", "{\"file\": \"db-host\"}"},
	{"services/order-service/securityContext/readOnlyRootFilesystem", "0"},
	{"mysql/resources/limits", "\"1Gi\""},
	{"ingress/annotations", "[]"},
	{"ingress/annotations/x", "1"},
	{"config/db-host", "3306"},
	{"secrets/jwt-secret", "null"},
	/* the ingress backend is not an enabled service */
	{"ingress/service", "\"no-such-service\""},
	{"services/api-gateway/enabled", "false"},
};

START_TEST(rejects_what_is_not_a_resolved_document)
{
	json_t *doc = resolve_prod();
	ck_assert_str_eq(json_string_value(get_at(doc, "ingress/service")), "api-gateway");
	ck_assert(json_is_true(get_at(doc, "ingress/enabled")));
	for (size_t i = 0; i < sizeof breakers / sizeof breakers[0]; i++) {
		json_t *copy = json_deep_copy(doc);
		json_t *value = breakers[i].value ? json_loads(breakers[i].value, JSON_DECODE_ANY, NULL) : NULL;
		ck_assert(!breakers[i].value || value);
		set_at(copy, breakers[i].path, value);
		/* the ret_ parameters stay as they were */
		struct doc_view view = {.namespace = "untouched"};
		static struct service_view sentinel;
		struct service_view *services = &sentinel;
		size_t count = 42;
		int rc = docview_read(copy, &view, &services, &count);
		ck_assert_msg(rc == -EINVAL, "%s = %s: %d", breakers[i].path, breakers[i].value, rc);
		ck_assert_str_eq(view.namespace, "untouched");
		ck_assert_ptr_eq(services, &sentinel);
		ck_assert_uint_eq(count, 42);
		json_decref(copy);
	}
	json_t *arr = json_array();
	struct read r = read_doc(arr);
	ck_assert_int_eq(r.rc, -EINVAL);
	json_decref(arr);
	r = read_doc(NULL);
	ck_assert_int_eq(r.rc, -EINVAL);
	json_decref(doc);
}
END_TEST

/* Service names are DNS labels, whether the service is enabled or not. */
START_TEST(rejects_bad_service_names)
{
	json_t *doc = resolve_prod();
	static const char *const names[] = {"Order-Service", "order_service", "-order", "order-", ""};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		for (int enabled = 0; enabled < 2; enabled++) {
			json_t *copy = json_deep_copy(doc);
			json_t *svc = json_deep_copy(get_at(doc, "services/order-service"));
			ck_assert_int_eq(json_object_set_new(svc, "enabled", json_boolean(enabled)), 0);
			ck_assert_int_eq(json_object_set_new(json_object_get(copy, "services"), names[i], svc), 0);
			struct read r = read_doc(copy);
			ck_assert_msg(r.rc == -EINVAL, "accepted service '%s' (enabled %d)", names[i], enabled);
			json_decref(copy);
		}
	/* the same service under a good name is fine */
	json_t *copy = json_deep_copy(doc);
	ck_assert_int_eq(json_object_set_new(json_object_get(copy, "services"), "order-service-2",
					     json_deep_copy(get_at(doc, "services/order-service"))),
			 0);
	struct read r = read_doc(copy);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(docview_find_service(r.services, r.count, "order-service-2"));
	done(&r);
	json_decref(copy);
	json_decref(doc);
}
END_TEST

/* A disabled ingress may name any service: its backend is not looked at. */
START_TEST(disabled_ingress_backend_not_checked)
{
	json_t *doc = resolve_prod();
	json_t *copy = json_deep_copy(doc);
	set_at(copy, "ingress/enabled", json_false());
	set_at(copy, "ingress/service", json_string("no-such-service"));
	struct read r = read_doc(copy);
	ck_assert_int_eq(r.rc, 0);
	ck_assert(!r.view.ingress.enabled);
	ck_assert_str_eq(r.view.ingress.service, "no-such-service");
	done(&r);
	json_decref(copy);
	json_decref(doc);
}
END_TEST

static json_t *resources_json(const struct resources_view *r)
{
	return json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "requests", "cpu", r->requests.cpu, "memory",
			 r->requests.memory, "limits", "cpu", r->limits.cpu, "memory", r->limits.memory);
}

static json_t *service_json(const struct service_view *s)
{
	json_t *probes = json_array();
	for (size_t i = 0; i < NPROBES; i++) {
		const struct probe_view *p = &s->probe[i];
		json_array_append_new(probes, p->path ? json_pack("[s, I, I, I, I]", p->path, p->initial_delay,
								  p->period, p->timeout, p->failures)
						      : json_null());
	}
	json_t *out = json_pack("{s:s, s:b, s:b, s:[s, s, s, s], s:I, s:I, s:O, s:o, s:o, s:[b, I, I, I], s:b,"
				" s:[I, b], s:[s?, s?]}",
				"name", s->name, "enabled", s->enabled, "broker", s->broker, "image", s->image.registry,
				s->image.repository, s->image.tag, s->image.digest, "port", s->port, "replicas",
				s->replicas, "env", s->env, "probes", probes, "resources", resources_json(&s->resources),
				"autoscaling", s->autoscaling.enabled, s->autoscaling.min_replicas,
				s->autoscaling.max_replicas, s->autoscaling.target_cpu, "budget",
				s->disruption_budget.enabled, "security", s->security.run_as_user, s->security.read_only,
				"database", s->database.name, s->database.user);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* Everything read, as JSON (order-independent comparison with json_equal). */
static json_t *read_json(const struct read *r)
{
	const struct doc_view *v = &r->view;
	const struct secret_source_view *src = &v->secret_source;
	const struct ingress_view *in = &v->ingress;
	json_t *services = json_array();
	for (size_t i = 0; i < r->count; i++)
		json_array_append_new(services, service_json(&r->services[i]));
	json_t *out = json_pack(
		"{s:s, s:[s, s], s:O, s:O, s:[s, s, s, s, s, s], s:[b, s, s, s, s, s, o],"
		" s:[b, s, s, s, s, s, o], s:[b, s, o], s:[b, s, s, s, s, b, s, O], s:o}",
		"namespace", v->namespace, "image", v->image.policy, v->image.secret, "config", v->config, "secrets",
		v->secrets, "secretSource", src->type, src->name, src->store, src->store_kind, src->remote_key,
		src->refresh_interval, "mysql", v->mysql.enabled, v->mysql.image, v->mysql.root_password_secret,
		v->mysql.app_password_secret, v->mysql.storage.size, v->mysql.storage.class_name,
		resources_json(&v->mysql.resources), "rabbitmq", v->rabbitmq.enabled, v->rabbitmq.image,
		v->rabbitmq.user, v->rabbitmq.password_secret, v->rabbitmq.storage.size,
		v->rabbitmq.storage.class_name, resources_json(&v->rabbitmq.resources), "zipkin", v->zipkin.enabled,
		v->zipkin.image, resources_json(&v->zipkin.resources), "ingress", in->enabled, in->class_name,
		in->host, in->path, in->service, in->tls.enabled, in->tls.secret_name, in->annotations, "services",
		services);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* Members are found in any order (docview tries the resolved document's order first). */
START_TEST(member_order_does_not_matter)
{
	json_t *doc = resolve_prod();
	json_t *rev = jsonutil_reversed(doc, NULL);
	ck_assert(json_equal(doc, rev));
	ck_assert_str_ne(json_object_iter_key(json_object_iter(rev)), json_object_iter_key(json_object_iter(doc)));
	struct read a = read_doc(doc), b = read_doc(rev);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_uint_eq(a.count, b.count);
	for (size_t i = 0; i < a.count; i++)
		ck_assert_str_eq(a.services[i].name, b.services[i].name);
	json_t *ja = read_json(&a), *jb = read_json(&b);
	ck_assert_uint_eq(json_array_size(json_object_get(ja, "services")), a.count);
	ck_assert(json_equal(ja, jb));
	/* and what was read is the document: a changed value shows */
	json_t *changed = json_deep_copy(rev);
	set_at(changed, "services/order-service/probes/startup/failureThreshold", json_integer(99));
	struct read c = read_doc(changed);
	ck_assert_int_eq(c.rc, 0);
	json_t *jc = read_json(&c);
	ck_assert(!json_equal(ja, jc));
	json_decref(jc);
	done(&c);
	json_decref(changed);
	json_decref(ja);
	json_decref(jb);
	done(&a);
	done(&b);
	json_decref(rev);
	json_decref(doc);
}
END_TEST

Suite *docview_suite(void)
{
	Suite *s = suite_create("docview");
	TCase *tc = tcase_create("docview");
	tcase_add_test(tc, reads_the_resolved_document);
	tcase_add_test(tc, enabled_services_sorted_by_name);
	tcase_add_test(tc, rejects_what_is_not_a_resolved_document);
	tcase_add_test(tc, rejects_bad_service_names);
	tcase_add_test(tc, disabled_ingress_backend_not_checked);
	tcase_add_test(tc, member_order_does_not_matter);
	suite_add_tcase(s, tc);
	return s;
}

/* test_compose: the YAML reading (compose's schema and limits; yamlin has its own suite)
 * and the compose mapping, rule by rule and on three whole compose files whose
 * results must resolve and render like any other stack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "compose.h"
#include "compose_vars.h"
#include "fsutil.h"
#include "model.h"
#include "render.h"
#include "suites.h"

static json_t *yaml(const char *text)
{
	struct buf err;
	buf_init(&err, 1024);
	json_t *doc = NULL;
	int r = compose_parse_yaml(text, strlen(text), &err, &doc);
	ck_assert_msg(r == 0, "parse failed: %s", buf_cstr(&err));
	buf_release(&err);
	return doc;
}

/* The error of parsing text, which must fail with code; the message is returned. */
static char *yaml_error(const char *text, size_t len, int code)
{
	struct buf err;
	buf_init(&err, 1024);
	json_t *doc = NULL;
	ck_assert_int_eq(compose_parse_yaml(text, len, &err, &doc), code);
	ck_assert_ptr_null(doc);
	ck_assert_uint_gt(err.len, 0);
	return buf_detach(&err, NULL);
}

static void assert_json(const json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	ck_assert_ptr_nonnull(want);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "got %s\nwant %s", g, want_text);
	free(g);
	json_decref(want);
}

/* The reader itself is tested in test_yamlin.c; here: compose's schema and limits. */
START_TEST(yaml_with_compose_limits)
{
	json_t *doc = yaml("a: 0644\nb: yes\nc: 0.5\nbase: &b {x: 1}\nm: {<<: *b}\n");
	assert_json(doc, "{\"a\":644,\"b\":\"yes\",\"c\":\"0.5\",\"base\":{\"x\":1},\"m\":{\"x\":1}}");
	json_decref(doc);
	char *e = yaml_error("a: 1\n---\nb: 2\n", 14, -EINVAL);
	ck_assert_ptr_nonnull(strstr(e, "second"));
	free(e);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (int i = 0; i < COMPOSE_MAX_DEPTH + 1; i++)
		ck_assert_int_eq(buf_puts(&b, "["), 0);
	e = yaml_error(buf_cstr(&b), b.len, -E2BIG);
	ck_assert_ptr_nonnull(strstr(e, "deeper"));
	free(e);
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "a: "), 0);
	while (b.len <= COMPOSE_MAX_BYTES)
		ck_assert_int_eq(buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 0);
	e = yaml_error(buf_cstr(&b), b.len, -E2BIG);
	free(e);
	buf_release(&b);
}
END_TEST

/* ---- mapping ---- */

static void import_ok(const char *text, struct compose_result *res)
{
	struct buf err;
	buf_init(&err, 1024);
	int r = compose_import(text, strlen(text), &err, res);
	ck_assert_msg(r == 0, "import failed (%d): %s", r, buf_cstr(&err));
	buf_release(&err);
}

static const json_t *at(const json_t *v, const char *path)
{
	char key[256];
	while (v && *path) {
		size_t n = strcspn(path, "/");
		ck_assert_uint_lt(n, sizeof key);
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_is_array(v) ? json_array_get(v, strtoul(key, NULL, 10)) : json_object_get(v, key);
		path += n + (path[n] == '/');
	}
	return v;
}

/* The report entry whose path is exactly path, or NULL. */
static const char *report_detail(const struct compose_result *res, const char *path)
{
	size_t i;
	json_t *item;
	json_array_foreach(res->report, i, item)
		if (strcmp(json_string_value(json_object_get(item, "path")), path) == 0)
			return json_string_value(json_object_get(item, "detail"));
	return NULL;
}

/* RFC 6901 evaluation (with ~0 ~1) of pointer in doc; NULL when it names nothing. */
static const json_t *pointer(const json_t *doc, const char *ptr)
{
	const json_t *v = doc;
	while (v && *ptr == '/') {
		ptr++;
		struct buf tok;
		buf_init(&tok, BUF_NO_MAX);
		for (; *ptr && *ptr != '/'; ptr++) {
			char c = *ptr;
			if (c == '~') {
				ptr++;
				c = *ptr == '0' ? '~' : '/';
			}
			ck_assert_int_eq(buf_append(&tok, &c, 1), 0);
		}
		v = json_is_array(v) ? json_array_get(v, strtoul(buf_cstr(&tok), NULL, 10))
				     : json_object_get(v, buf_cstr(&tok));
		buf_release(&tok);
	}
	return v;
}

/* Every report path names something in the compose document. */
static void assert_report_paths_exist(const char *text, const struct compose_result *res)
{
	json_t *doc = yaml(text);
	size_t i;
	json_t *item;
	json_array_foreach(res->report, i, item) {
		const char *p = json_string_value(json_object_get(item, "path"));
		ck_assert_msg(pointer(doc, p) != NULL, "report path %s is not in the compose file", p);
		ck_assert_uint_gt(strlen(json_string_value(json_object_get(item, "detail"))), 10);
	}
	json_decref(doc);
}

/* The result resolves (stack <- environment) and every file renders. */
static void assert_renders(const struct compose_result *res)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	int r = model_check_shape(res->stack, &errs);
	if (r == 0)
		r = model_check_shape(res->environment, &errs);
	if (r == 0)
		r = model_resolve("imported", res->stack, "dev", res->environment, NULL, &errs, &doc);
	json_t *errs_json = model_errors_json(&errs);
	char *errors = json_dumps(errs_json, 0);
	json_decref(errs_json);
	ck_assert_msg(r == 0, "does not resolve: %s", errors);
	free(errors);
	struct render *rd = NULL;
	struct render_meta meta = {"imported", "dev", 1};
	ck_assert_int_eq(render_new(doc, &meta, NULL, &rd), 0);
	for (size_t i = 0; i < render_file_count(rd); i++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(rd, i, &objs), 0);
		ck_assert_uint_gt(json_array_size(objs), 0);
		json_decref(objs);
	}
	render_free(rd);
	json_decref(doc);
	model_errors_release(&errs);
}

/* No value of the environment's secrets appears anywhere in the stack. */
static void assert_secrets_only_in_environment(const struct compose_result *res)
{
	char *stack = json_dumps(res->stack, 0);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(res->environment, "secrets"), key, v) {
		if (strcmp(json_string_value(v), "change-me") != 0) /* the placeholder is also a tag */
			ck_assert_msg(strstr(stack, json_string_value(v)) == NULL, "secret %s leaked into the stack", key);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res->stack, "secrets"), key)), "");
	}
	free(stack);
}

static char *read_compose(const char *name)
{
	struct buf dir;
	buf_init(&dir, 4096);
	ck_assert_int_eq(buf_printf(&dir, "%s/tests/data/compose", TEST_SOURCE_DIR), 0);
	char *text = fsutil_read(buf_cstr(&dir), name);
	buf_release(&dir);
	return text;
}

START_TEST(msa_shop_compose)
{
	char *text = read_compose("msa-shop.yml");
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack, *e = res.environment;
	ck_assert_uint_eq(json_object_size(json_object_get(s, "services")), 6);
	ck_assert_str_eq(json_string_value(at(s, "components/mysql/type")), "mysql");
	assert_json(at(s, "components/mysql/image"), "{\"repository\":\"mysql\",\"tag\":\"8.0.36\"}");
	assert_json(at(s, "components/rabbitmq/image"), "{\"repository\":\"rabbitmq\",\"tag\":\"3.13-management\"}");
	ck_assert_str_eq(json_string_value(at(s, "components/rabbitmq/user")), "shop");
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/service")), "api-gateway");
	ck_assert_str_eq(json_string_value(at(s, "image/registry")), "ghcr.io");
	ck_assert_str_eq(json_string_value(at(e, "image/tag")), "1.0.0");
	ck_assert_str_eq(json_string_value(at(s, "services/order-service/image/repository")), "msa-shop/order-service");
	assert_json(at(s, "services/order-service/ports"), "{\"port-8083\":{\"port\":8083}}");
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/port")), "port-8080");
	assert_json(at(s, "services/order-service/uses/mysql"), "{\"database\":\"orderdb\",\"user\":\"order_service\"}");
	assert_json(at(s, "services/payment-service/uses/rabbitmq"), "{}");
	ck_assert_ptr_null(at(s, "services/order-service/uses/rabbitmq"));
	/* the same password everywhere is one secret: the one MySQL's users get */
	ck_assert_str_eq(json_string_value(at(s, "services/user-service/env/SPRING_DATASOURCE_PASSWORD/secret")),
			 "mysql-password");
	ck_assert_str_eq(json_string_value(at(e, "secrets/mysql-password")), "shop-pw-456");
	ck_assert_str_eq(json_string_value(at(e, "secrets/rabbitmq-password")), "rabbit-pw-789");
	ck_assert_str_eq(json_string_value(at(s, "services/api-gateway/env/APP_JWT_SECRET/secret")), "app-jwt-secret");
	/* merged from the x-spring anchor; the service's own healthcheck wins */
	assert_json(at(s, "services/user-service/probes/readiness"),
		    "{\"httpGet\":{\"path\":\"/actuator/health\",\"port\":\"port-8081\"}}");
	assert_json(at(s, "services/api-gateway/probes/liveness"),
		    "{\"httpGet\":{\"path\":\"/actuator/health\",\"port\":\"port-8080\"},\"periodSeconds\":10,\"timeoutSeconds\":3,\"failureThreshold\":5}");
	assert_json(at(s, "services/order-service/resources"),
		    "{\"limits\":{\"cpu\":\"1\",\"memory\":\"768Mi\"},\"requests\":{\"cpu\":\"0.1\",\"memory\":\"384Mi\"}}");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/mysql/volumes/1"));
	ck_assert_ptr_nonnull(report_detail(&res, "/services/order-service/depends_on/1"));
	ck_assert_ptr_null(report_detail(&res, "/volumes/mysql-data")); /* it became MySQL's storage */
	assert_report_paths_exist(text, &res);
	assert_secrets_only_in_environment(&res);
	assert_renders(&res);
	compose_result_release(&res);
	free(text);
}
END_TEST

START_TEST(wordpress_compose)
{
	char *text = read_compose("wordpress.yml");
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	/* the compose service "db" is the component db of the catalog's type mariadb */
	assert_json(at(s, "components/db"), "{\"type\":\"mariadb\",\"image\":{\"repository\":\"mariadb\",\"tag\":\"10.11\"}}");
	ck_assert_str_eq(json_string_value(at(s, "services/wordpress/env/WORDPRESS_DB_HOST/value")), "db:3306");
	assert_json(at(s, "services/wordpress/uses/db"), "{\"database\":\"wordpress\",\"user\":\"wordpress\"}");
	ck_assert_str_eq(json_string_value(at(s, "services/wordpress/env/WORDPRESS_DB_PASSWORD/secret")), "db-password");
	assert_json(at(s, "services/wordpress/ports"), "{\"port-80\":{\"port\":80}}");
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/service")), "wordpress");
	ck_assert_ptr_null(at(s, "services/wordpress/probes")); /* the default TCP probes, a guess */
	assert_json(at(s, "services/wordpress/volumes/wp-data"),
		    "{\"mountPath\":\"/var/www/html\",\"readOnly\":false,\"persistent\":{\"size\":\"1Gi\"}}");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/wordpress"));
	ck_assert_ptr_nonnull(report_detail(&res, "/services/db/command"));
	ck_assert_ptr_null(report_detail(&res, "/volumes/wp_data"));
	ck_assert_ptr_null(report_detail(&res, "/volumes/db_data"));
	assert_report_paths_exist(text, &res);
	assert_secrets_only_in_environment(&res);
	assert_renders(&res);
	compose_result_release(&res);
	free(text);
}
END_TEST

START_TEST(node_app_compose)
{
	char *text = read_compose("node-app.yml");
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack, *e = res.environment;
	/* one image of each registry: the first counted is the top-level one (worker is
	 * assumed to be Docker Hub's) */
	ck_assert_str_eq(json_string_value(at(s, "image/registry")), "registry.example.com:5000");
	ck_assert_str_eq(json_string_value(at(s, "services/worker/image/registry")), "docker.io");
	ck_assert_str_eq(json_string_value(at(s, "services/web/image/repository")), "acme/todo-web");
	ck_assert_str_eq(json_string_value(at(s, "services/worker/image/repository")), "worker");
	ck_assert_str_eq(json_string_value(at(e, "image/tag")), "2.3.1");
	/* redis:7.2-alpine is the component cache, of the Debian build of 7.2, without AUTH (no password given) */
	assert_json(at(s, "components/cache"), "{\"type\":\"redis\",\"image\":{\"repository\":\"redis\",\"tag\":\"7.2\"},\"auth\":false}");
	assert_json(at(s, "services/web/uses"), "{\"cache\":{}}");
	assert_json(at(s, "services/web/args"), "[\"node\",\"server.js\"]");
	assert_json(at(s, "services/worker/command"), "[\"/usr/local/bin/worker\"]");
	ck_assert_str_eq(json_string_value(at(s, "services/worker/image/tag")), "change-me");
	ck_assert_int_eq(json_integer_value(at(s, "services/web/replicas")), 2);
	assert_json(at(s, "services/web/ports"), "{\"port-3000\":{\"port\":3000}}");
	ck_assert_ptr_null(at(s, "services/worker/ports")); /* none given: a worker */
	assert_json(at(s, "services/web/resources"),
		    "{\"limits\":{\"cpu\":\"0.50\",\"memory\":\"256Mi\"},\"requests\":{\"cpu\":\"0.50\",\"memory\":\"256Mi\"}}");
	assert_json(at(s, "services/web/probes/readiness"),
		    "{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"port-3000\"},\"periodSeconds\":90,\"timeoutSeconds\":10,\"initialDelaySeconds\":15,\"failureThreshold\":3}");
	assert_json(at(s, "services/worker/probes/liveness"), "{\"exec\":{\"command\":[\"node\",\"healthcheck.js\"]}}");
	assert_json(at(s, "services/worker/volumes/uploads/persistent"), "{\"size\":\"1Gi\"}");
	assert_json(at(s, "services/web/securityContext"), "{\"runAsUser\":1001,\"runAsGroup\":1001}");
	ck_assert_str_eq(json_string_value(at(s, "services/web/env/REDIS_URL/value")), "redis://cache:6379");
	ck_assert_str_eq(json_string_value(at(s, "services/web/env/API_KEY/secret")), "api-key");
	ck_assert_str_eq(json_string_value(at(e, "secrets/api-key")), "k-123456");
	ck_assert_str_eq(json_string_value(at(e, "secrets/session-secret")), "change-me");
	/* no value: docker compose takes it from the shell, here from the config */
	assert_json(at(s, "services/web/env/LOG_LEVEL"), "{\"config\":\"LOG_LEVEL\"}");
	ck_assert_ptr_null(at(s, "ingress")); /* published on 127.0.0.1 only: no entry point */
	static const char *const reported[] = {
		"/services/web/build", "/services/web/env_file",
		"/services/web/environment/SESSION_SECRET", "/services/web/environment/LOG_LEVEL",
		"/services/worker/build", "/services/worker/volumes/0", "/services/cache",
		"/services/cache/image", "/services/cache/healthcheck", "/services"};
	for (size_t i = 0; i < sizeof reported / sizeof reported[0]; i++)
		ck_assert_msg(report_detail(&res, reported[i]) != NULL, "%s is not reported", reported[i]);
	assert_report_paths_exist(text, &res);
	assert_secrets_only_in_environment(&res);
	assert_renders(&res);
	compose_result_release(&res);
	free(text);
}
END_TEST

START_TEST(secret_names_and_env_forms)
{
	const char *text = "services:\n  a:\n    image: x/a:1\n    ports: ['8080:80']\n"
			   "    environment:\n      - DB_PASSWORD=p1\n      - GITHUB_TOKEN=t1\n"
			   "      - SIGNING_KEY=k1\n      - AWS_CREDENTIALS=c1\n      - CLIENT_SECRET=s1\n"
			   "      - PLAIN=v\n      - COUNT=3\n"
			   "  b:\n    image: x/b:1\n    ports: ['81:81']\n    environment:\n      DB_PASSWORD: other\n"
			   "      ENABLED: true\n      '9BAD': x\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack, *e = res.environment;
	static const char *const vars[] = {"DB_PASSWORD", "GITHUB_TOKEN", "SIGNING_KEY", "AWS_CREDENTIALS", "CLIENT_SECRET"};
	for (size_t i = 0; i < 5; i++) {
		struct buf p;
		buf_init(&p, 256);
		ck_assert_int_eq(buf_printf(&p, "services/a/env/%s/secret", vars[i]), 0);
		ck_assert_msg(json_is_string(at(s, buf_cstr(&p))), "%s is not a secret", vars[i]);
		buf_release(&p);
	}
	ck_assert_str_eq(json_string_value(at(s, "services/a/env/PLAIN/value")), "v");
	ck_assert_str_eq(json_string_value(at(s, "services/a/env/COUNT/value")), "3");
	ck_assert_str_eq(json_string_value(at(s, "services/b/env/ENABLED/value")), "true");
	/* same name, other value: another key */
	ck_assert_str_eq(json_string_value(at(s, "services/a/env/DB_PASSWORD/secret")), "db-password");
	ck_assert_str_eq(json_string_value(at(s, "services/b/env/DB_PASSWORD/secret")), "b-db-password");
	ck_assert_str_eq(json_string_value(at(e, "secrets/b-db-password")), "other");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/b/environment/9BAD"));
	/* two published services: the first is the main rule, the other has a host (a guess) */
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/service")), "a");
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/b/host")), "b.example.com");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/b/ports"));
	assert_secrets_only_in_environment(&res);
	assert_report_paths_exist(text, &res);
	assert_renders(&res);
	compose_result_release(&res);
}
END_TEST

/* A service keyed by "" (what an anchor before a key's colon makes, "&x :") that becomes
 * a built-in (renamed rabbitmq): renaming the others' hosts does not loop on the empty
 * name. */
START_TEST(empty_service_name)
{
	const char *text = "services:\n  &x :\n    image: rabbitmq:3.13-management\n"
			   "  web:\n    image: x/web:1\n    ports: ['8080:80']\n"
			   "    environment:\n      API_URL: http://api_v1:9000\n"
			   "  api_v1:\n    image: x/api:1\n    ports: ['9000']\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	ck_assert_str_eq(json_string_value(at(res.stack, "services/web/env/API_URL/value")), "http://api-v1:9000");
	compose_result_release(&res);
}
END_TEST

START_TEST(ports_images_and_builtin_defaults)
{
	const char *text =
		"services:\n  api:\n    image: localhost:5000/team/api:2.0@sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000\n"
		"    ports: ['9000-9001:9000-9001', '53:53/udp', {target: 7000, published: 7000}, '7001']\n"
		"    deploy: {replicas: 3, mode: global, resources: {reservations: {memory: 1g, cpus: '2'}, limits: {cpus: '0.5'}}}\n"
		"    healthcheck: {test: 'curl -f http://localhost:7000/ready?x=1', interval: 500ms}\n"
		"    depends_on: [mq, nowhere]\n"
		"  mq:\n    image: rabbitmq\n    environment: {RABBITMQ_ERLANG_COOKIE: c}\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	assert_json(at(s, "services/api/image"),
		    "{\"repository\":\"team/api\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}");
	ck_assert_str_eq(json_string_value(at(s, "image/registry")), "localhost:5000");
	ck_assert_str_eq(json_string_value(at(res.environment, "image/tag")), "2.0");
	/* every port as given, UDP too; the published 7000 is the entry point */
	assert_json(at(s, "services/api/ports"),
		    "{\"udp-53\":{\"port\":53,\"protocol\":\"UDP\"},\"port-7000\":{\"port\":7000},\"port-7001\":{\"port\":7001}}");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/api/ports/0"), "range"));
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/port")), "port-7000");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/api/deploy/mode"));
	ck_assert_int_eq(json_integer_value(at(s, "services/api/replicas")), 3);
	/* a reservation above its limit is the limit (reported) */
	assert_json(at(s, "services/api/resources"), "{\"requests\":{\"memory\":\"1Gi\",\"cpu\":\"0.5\"},"
						     "\"limits\":{\"memory\":\"1Gi\",\"cpu\":\"0.5\"}}");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/api/deploy/resources"), "cpu reservation is above its limit"));
	assert_json(at(s, "services/api/probes/readiness"),
		    "{\"httpGet\":{\"path\":\"/ready?x=1\",\"port\":\"port-7000\"},\"periodSeconds\":1}");
	assert_json(at(s, "services/api/uses/mq"), "{}");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/api/depends_on/1"));
	/* rabbitmq without a tag runs the type's default image, with its administrator */
	assert_json(at(s, "components/mq"), "{\"type\":\"rabbitmq\"}");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/mq/image"));
	ck_assert_str_eq(json_string_value(at(res.environment, "secrets/mq-password")), "change-me");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/mq/environment/RABBITMQ_ERLANG_COOKIE"));
	assert_report_paths_exist(text, &res);
	assert_renders(&res);
	compose_result_release(&res);
}
END_TEST

/* Built-ins without any environment: placeholders, reported on the service itself. */
START_TEST(builtins_without_environment)
{
	const char *text = "services:\n  app:\n    image: a/b:1\n    depends_on: [db, mq]\n"
			   "  db:\n    image: mysql:8.0\n  mq:\n    image: rabbitmq:3.13\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	ck_assert_str_eq(json_string_value(at(res.environment, "secrets/db-root-password")), "change-me");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/db"));
	ck_assert_ptr_nonnull(report_detail(&res, "/services/mq"));
	assert_json(at(res.stack, "components/mq/image"), "{\"repository\":\"rabbitmq\",\"tag\":\"3.13-management\"}");
	assert_json(at(res.stack, "services/app/uses"), "{\"db\":{},\"mq\":{}}");
	assert_report_paths_exist(text, &res);
	assert_renders(&res);
	compose_result_release(&res);
}
END_TEST

/* compose's interpolation with no variable set: defaults (nested), :+, unresolved forms
 * kept or named, $$ and anything malformed as written. */
START_TEST(interpolation_without_variables)
{
	static const struct {
		const char *in, *keep, *name;
		unsigned defaults, unresolved;
	} cases[] = {
		{"x/app:${TAG:-1.2}", "x/app:1.2", "x/app:1.2", 1, 0},
		{"${P-:2283:2283}", ":2283:2283", ":2283:2283", 1, 0},
		{"${A:-${B:-inner}}-${C-}", "inner-", "inner-", 3, 0},
		{"a${SET:+yes}b${SET+no}", "ab", "ab", 2, 0},
		{"mattermost/${IMAGE}:${Image_Tag}", "mattermost/${IMAGE}:${Image_Tag}", "mattermost/image:image_tag", 0, 2},
		{"$HOME/x ${REQ:?needed} ${REQ?x}", "$HOME/x ${REQ:?needed} ${REQ?x}", "home/x req req", 0, 3},
		{"$$HOME $${X:-y} $(cmd) $ ${ ${1X} ${X:} ${X!}", "$$HOME $${X:-y} $(cmd) $ ${ ${1X} ${X:} ${X!}",
		 "$$HOME $${X:-y} $(cmd) $ ${ ${1X} ${X:} ${X!}", 0, 0},
		{"${A:-${B}", "${A:-${B}", "${A:-b", 0, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int mode = 0; mode < 2; mode++) {
			struct buf out;
			struct compose_vars_info info;
			buf_init(&out, BUF_NO_MAX);
			ck_assert_int_eq(compose_vars_expand(cases[i].in, mode ? COMPOSE_VARS_NAME : COMPOSE_VARS_KEEP, &out, &info), 0);
			ck_assert_str_eq(buf_cstr(&out), mode ? cases[i].name : cases[i].keep);
			ck_assert_uint_eq(info.defaults, cases[i].defaults);
			ck_assert_uint_eq(info.unresolved, cases[i].unresolved);
			buf_release(&out);
		}
	}
	/* nesting deeper than the bound stays as written, without recursing further */
	struct buf deep, out;
	struct compose_vars_info info;
	buf_init(&deep, BUF_NO_MAX);
	buf_init(&out, BUF_NO_MAX);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(buf_puts(&deep, "${A:-"), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(buf_puts(&deep, "}"), 0);
	ck_assert_int_eq(compose_vars_expand(buf_cstr(&deep), COMPOSE_VARS_KEEP, &out, &info), 0);
	ck_assert_uint_eq(info.defaults, 16);
	ck_assert_uint_eq(out.len, deep.len - 16 * strlen("${A:-}"));
	buf_release(&deep);
	buf_release(&out);
}
END_TEST

/* Images, ports and values written with variables, as in the compose files applications
 * ship with a .env file (which is not here): the defaults are used, a variable without
 * one is named in an image, read from config in the environment (the shell's), and all
 * of it reported. */
START_TEST(variables_in_images_ports_and_env)
{
	const char *text = "services:\n  server:\n    image: ghcr.io/team/server:${VERSION:-release}\n"
			   "    ports: ['${EXPOSE_PORT-:2283:2283}']\n"
			   "    environment: ['MODE=${MODE:-queue}', TZ, API_TOKEN, 'DB_NAME=${DB}']\n"
			   "    read_only: ${READ_ONLY:-true}\n"
			   "  worker:\n    image: team/${WORKER_IMAGE}:${VERSION}\n    environment: [TZ]\n"
			   "    read_only: ${RO}\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ck_assert_str_eq(json_string_value(at(s, "image/registry")), "ghcr.io");
	ck_assert_str_eq(json_string_value(at(res.environment, "image/tag")), "release");
	assert_json(at(s, "services/server/image"), "{\"repository\":\"team/server\"}");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/server/image"), "'ghcr.io/team/server:release'"));
	assert_json(at(s, "services/server/ports"), "{\"port-2283\":{\"port\":2283}}");
	ck_assert_str_eq(json_string_value(at(s, "ingress/rules/main/service")), "server");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/server/ports/0"));
	ck_assert_str_eq(json_string_value(at(s, "services/server/env/MODE/value")), "queue");
	ck_assert_ptr_nonnull(report_detail(&res, "/services/server/environment/0"));
	assert_json(at(s, "services/server/env/TZ"), "{\"config\":\"TZ\"}");
	assert_json(at(s, "services/worker/env/TZ"), "{\"config\":\"TZ\"}");
	ck_assert_str_eq(json_string_value(at(s, "config/TZ")), "");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/server/environment/1"), "config key 'TZ'"));
	ck_assert_str_eq(json_string_value(at(s, "services/server/env/API_TOKEN/secret")), "api-token");
	ck_assert_str_eq(json_string_value(at(res.environment, "secrets/api-token")), "change-me");
	ck_assert_str_eq(json_string_value(at(s, "services/server/env/DB_NAME/value")), "${DB}");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/server/environment/3"), "kept as written"));
	ck_assert(json_is_true(at(s, "services/server/securityContext/readOnlyRootFilesystem")));
	/* no default: each variable its name, so that the image has a valid form */
	assert_json(at(s, "services/worker/image"), "{\"registry\":\"docker.io\",\"repository\":\"team/worker_image\",\"tag\":\"version\"}");
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/worker/image"), "'team/worker_image:version'"));
	ck_assert_ptr_null(at(s, "services/worker/securityContext"));
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/worker/read_only"), "not true or false"));
	assert_report_paths_exist(text, &res);
	assert_renders(&res);
	compose_result_release(&res);
}
END_TEST

/* A healthcheck without a test (disable: false, or timings only) keeps the image's own
 * HEALTHCHECK, which Kubernetes does not run: the default probes of the first port, as
 * for no healthcheck; a service without a port gets none. test NONE: no probes. */
START_TEST(healthcheck_without_test)
{
	const char *text = "services:\n  web:\n    image: x/web:1\n    ports: ['80:8080']\n"
			   "    healthcheck: {disable: false}\n"
			   "  ml:\n    image: x/ml:1\n    expose: ['3003']\n    healthcheck: {interval: 10s}\n"
			   "  worker:\n    image: x/worker:1\n    healthcheck: {disable: false}\n"
			   "  off:\n    image: x/off:1\n    ports: ['81:81']\n    healthcheck: {test: [NONE]}\n";
	struct compose_result res = {0};
	import_ok(text, &res);
	const json_t *s = res.stack;
	ck_assert_ptr_null(at(s, "services/web/probes"));
	ck_assert_ptr_null(at(s, "services/ml/probes"));
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/web/healthcheck"), "first port"));
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/ml/healthcheck"), "first port"));
	ck_assert_ptr_null(at(s, "services/worker/probes"));
	ck_assert_ptr_nonnull(strstr(report_detail(&res, "/services/worker/healthcheck"), "no probe"));
	assert_json(at(s, "services/off/probes"), "{\"readiness\":null,\"liveness\":null,\"startup\":null}");
	assert_report_paths_exist(text, &res);
	assert_renders(&res);
	compose_result_release(&res);
}
END_TEST

START_TEST(not_compose_files)
{
	static const char *const bad[] = {"- a\n- b\n", "services: []\n", "services: {}\n",
					  "version: '3'\n", "services:\n  db:\n    image: mysql:8\n",
					  "services:\n  a: 3\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf err;
		buf_init(&err, 1024);
		struct compose_result res = {0};
		ck_assert_msg(compose_import(bad[i], strlen(bad[i]), &err, &res) == -EINVAL, "accepted %s", bad[i]);
		ck_assert_uint_gt(err.len, 0);
		ck_assert_ptr_null(res.stack);
		buf_release(&err);
	}
}
END_TEST

/* jansson allocations fail one after the other: every run fails cleanly or succeeds. */
static size_t alloc_budget;

static void *counting_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

START_TEST(allocation_failures)
{
	char *text = read_compose("node-app.yml");
	bool succeeded = false;
	ck_assert_ptr_nonnull(catalog_builtin()); /* loaded once per process, before the failures */
	for (size_t budget = 0; budget < 100000 && !succeeded; budget++) {
		alloc_budget = budget;
		json_set_alloc_funcs(counting_malloc, free);
		struct buf err;
		buf_init(&err, 1024);
		struct compose_result res = {0};
		int r = compose_import(text, strlen(text), &err, &res);
		json_set_alloc_funcs(malloc, free);
		ck_assert_msg(r == 0 || r == -ENOMEM, "budget %zu gave %d (%s)", budget, r, buf_cstr(&err));
		succeeded = r == 0;
		compose_result_release(&res);
		buf_release(&err);
	}
	ck_assert(succeeded);
	free(text);
}
END_TEST

Suite *compose_suite(void)
{
	Suite *s = suite_create("compose");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, yaml_with_compose_limits);
	tcase_add_test(tc, msa_shop_compose);
	tcase_add_test(tc, wordpress_compose);
	tcase_add_test(tc, node_app_compose);
	tcase_add_test(tc, secret_names_and_env_forms);
	tcase_add_test(tc, empty_service_name);
	tcase_add_test(tc, ports_images_and_builtin_defaults);
	tcase_add_test(tc, builtins_without_environment);
	tcase_add_test(tc, interpolation_without_variables);
	tcase_add_test(tc, variables_in_images_ports_and_env);
	tcase_add_test(tc, healthcheck_without_test);
	tcase_add_test(tc, not_compose_files);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

/* test_http: the routing table and the OpenAPI document describe the same routes (both
 * ways), entity tags parse strictly, and requests run without a socket (http_call) get
 * the message rules, the checks made before a body is read (in their order), the body
 * limits and budget, and the JSON limits. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fsutil.h"
#include "http.h"
#include "httpmsg.h"
#include "store.h"
#include "suites.h"

static json_t *openapi(void)
{
	struct buf p;
	buf_init(&p, 4096);
	ck_assert_int_eq(buf_printf(&p, "%s/static/openapi.json", TEST_SOURCE_DIR), 0);
	json_error_t e;
	json_t *doc = json_load_file(buf_cstr(&p), 0, &e);
	ck_assert_msg(doc != NULL, "openapi.json: %s line %d", e.text, e.line);
	buf_release(&p);
	return doc;
}

/* The OpenAPI path of a route pattern: "{file*}" is written "{file}". */
static void openapi_path(const char *pattern, struct buf *out)
{
	for (const char *p = pattern; *p; p++)
		if (!(*p == '*' && p[1] == '}'))
			ck_assert_int_eq(buf_append(out, p, 1), 0);
}

static void lower(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* The OpenAPI path of route, appended to path, and its method in lower case in m. */
static void route_key(const struct http_route *route, struct buf *path, char m[16])
{
	openapi_path(route->pattern, path);
	lower(route->method, m, 16);
}

/* The operation object (borrowed; NULL when missing) of route among the paths of
 * openapi.json; its OpenAPI path is left in path. */
static json_t *route_operation(json_t *paths, const struct http_route *route, struct buf *path)
{
	char m[16];
	route_key(route, path, m);
	return json_object_get(json_object_get(paths, buf_cstr(path)), m);
}

START_TEST(every_route_is_documented)
{
	json_t *doc = openapi();
	json_t *paths = json_object_get(doc, "paths");
	size_t n;
	const struct http_route *routes = api_routes(&n);
	ck_assert_uint_gt(n, 10);
	for (size_t i = 0; i < n; i++) {
		struct buf path;
		buf_init(&path, 1024);
		json_t *op = route_operation(paths, &routes[i], &path);
		ck_assert_msg(json_is_object(op), "%s %s is not in openapi.json", routes[i].method,
			      buf_cstr(&path));
		ck_assert_msg(json_object_get(op, "responses") != NULL, "%s %s has no responses",
			      routes[i].method, buf_cstr(&path));
		buf_release(&path);
	}
	json_decref(doc);
}
END_TEST

START_TEST(every_documented_operation_is_routed)
{
	static const char *const methods[] = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
	json_t *doc = openapi();
	ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	size_t n, ops = 0;
	const struct http_route *routes = api_routes(&n);
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
			if (!json_object_get(item, methods[k]))
				continue;
			ops++;
			bool found = false;
			for (size_t i = 0; i < n && !found; i++) {
				struct buf p;
				buf_init(&p, 1024);
				char m[16];
				route_key(&routes[i], &p, m);
				found = strcmp(buf_cstr(&p), path) == 0 && strcmp(m, methods[k]) == 0;
				buf_release(&p);
			}
			ck_assert_msg(found, "openapi.json documents %s %s, which is not routed", methods[k], path);
		}
	}
	ck_assert_uint_eq(ops, n);
	json_decref(doc);
}
END_TEST

START_TEST(revision_tags_parse_strictly)
{
	long long v = 0;
	ck_assert_int_eq(http_parse_revision_tag("\"7\"", 1, &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(http_parse_revision_tag("12", 1, &v), 0);
	ck_assert_int_eq(v, 12);
	ck_assert_int_eq(http_parse_revision_tag(" W/\"3\" ", 1, &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(http_parse_revision_tag("*", 1, &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(http_parse_revision_tag("\"x\"", 1, &v), -EINVAL);
	ck_assert_int_eq(http_parse_revision_tag("\"0\"", 1, &v), -EINVAL);
	ck_assert_int_eq(http_parse_revision_tag("\"1\", \"2\"", 1, &v), -EINVAL);
	ck_assert_int_eq(http_parse_revision_tag("", 1, &v), -EINVAL);
	ck_assert_int_eq(http_parse_revision_tag("\"", 1, &v), -EINVAL);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(http_parse_revision_tag("\"0\"", 0, &v), 0); /* a built-in component type */
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(http_parse_revision_tag("-1", 0, &v), -EINVAL);
}
END_TEST

START_TEST(route_roles_match_the_openapi_security)
{
	json_t *doc = openapi();
	json_t *paths = json_object_get(doc, "paths");
	ck_assert(json_is_object(json_object_get(json_object_get(json_object_get(doc, "components"),
								   "securitySchemes"), "bearer")));
	size_t n, open = 0;
	const struct http_route *routes = api_routes(&n);
	for (size_t i = 0; i < n; i++) {
		struct buf path;
		buf_init(&path, 1024);
		json_t *op = route_operation(paths, &routes[i], &path);
		json_t *security = json_object_get(op, "security");
		const char *role = json_string_value(json_object_get(op, "x-required-role"));
		if (routes[i].role == AUTH_PUBLIC) {
			open++;
			ck_assert_msg(json_is_array(security) && json_array_size(security) == 0,
				      "%s %s is public: security must be []", routes[i].method, buf_cstr(&path));
		} else {
			ck_assert_msg(!security && role && strcmp(role, auth_role_name(routes[i].role)) == 0,
				      "%s %s needs %s", routes[i].method, buf_cstr(&path),
				      auth_role_name(routes[i].role));
			ck_assert(json_object_get(json_object_get(op, "responses"), "401") != NULL);
			ck_assert(json_object_get(json_object_get(op, "responses"), "403") != NULL);
		}
		buf_release(&path);
	}
	/* health, readiness, metrics, the API description, the document schema and the web
	 * form stay open */
	ck_assert_uint_eq(open, 7);
	json_decref(doc);
}
END_TEST

/* One request through http_call() with no store (routes that reach the store are not
 * asked); returns the status, the body in body. */
static unsigned call(const char *method, const char *target, const char *type, const char *data,
		     size_t max_body, struct buf *body)
{
	struct api app = {.store = NULL};
	struct http_options opt = {.max_body = max_body, .app = &app};
	opt.routes = api_routes(&opt.nroutes);
	struct http_field headers[] = {{"Content-Type", type}};
	struct http_call c = {method, target, headers, type ? 1 : 0, data, data ? strlen(data) : 0};
	unsigned status = 0;
	buf_reset(body);
	ck_assert_int_eq(http_call(&opt, &c, body, &status), 0);
	return status;
}

/* A JSON text of depth levels of objects {"a":{"a":...{}}}. */
static void nested(struct buf *b, int depth)
{
	buf_reset(b);
	for (int i = 1; i < depth; i++)
		ck_assert_int_eq(buf_puts(b, "{\"a~/\":"), 0);
	ck_assert_int_eq(buf_puts(b, "{}"), 0);
	for (int i = 1; i < depth; i++)
		ck_assert_int_eq(buf_puts(b, "}"), 0);
}

static json_t *problem(const struct buf *body, unsigned status)
{
	json_t *p = json_loads(buf_cstr(body), 0, NULL);
	ck_assert_msg(p != NULL, "not JSON: %s", buf_cstr(body));
	ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), status);
	return p;
}

START_TEST(requests_run_without_a_socket)
{
	struct buf body, doc;
	buf_init(&body, BUF_NO_MAX);
	buf_init(&doc, BUF_NO_MAX);
	ck_assert_uint_eq(call("GET", "/healthz", NULL, NULL, 1024, &body), 200);
	ck_assert_str_eq(buf_cstr(&body), "{\"status\":\"ok\"}");
	ck_assert_uint_eq(call("GET", "/no%2Fsuch?x=1", NULL, NULL, 1024, &body), 404);
	json_t *p = problem(&body, 404);
	ck_assert_str_eq(json_string_value(json_object_get(p, "detail")), "no file at '/no/such'");
	json_decref(p);
	/* a path that is not UTF-8 still gets a problem+json body (fuzz-http found a 500) */
	ck_assert_uint_eq(call("GET", "/x%ff%9f", NULL, NULL, 1024, &body), 404);
	p = problem(&body, 404);
	ck_assert_str_eq(json_string_value(json_object_get(p, "detail")), "no file at '/x?\?'");
	json_decref(p);
	ck_assert_uint_eq(call("DELETE", "/healthz", NULL, NULL, 1024, &body), 405);
	ck_assert_uint_eq(call("POST", "/render", "application/json", "{\"x\": [1, 2", 1024, &body), 400);
	ck_assert_uint_eq(call("POST", "/render", "text/plain", "{}", 1024, &body), 415);
	ck_assert_uint_eq(call("POST", "/render", "application/json", "[1,2,3,4,5]", 4, &body), 413);
	buf_release(&body);
	buf_release(&doc);
}
END_TEST

START_TEST(json_bodies_are_limited_in_depth_and_string_length)
{
	struct buf body, doc;
	buf_init(&body, BUF_NO_MAX);
	buf_init(&doc, BUF_NO_MAX);
	/* one level too deep: 422 naming the first object beyond the limit */
	nested(&doc, HTTP_JSON_MAX_DEPTH + 1);
	ck_assert_uint_eq(call("POST", "/render", "application/json", buf_cstr(&doc), 1 << 20, &body), 422);
	json_t *p = problem(&body, 422);
	json_t *e = json_array_get(json_object_get(p, "errors"), 0);
	const char *ptr = json_string_value(json_object_get(e, "pointer"));
	ck_assert_ptr_nonnull(ptr);
	ck_assert_uint_eq(strlen(ptr), (size_t)HTTP_JSON_MAX_DEPTH * strlen("/a~0~1"));
	ck_assert_int_eq(strncmp(ptr, "/a~0~1/a~0~1", 12), 0);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "detail")), "nested deeper"));
	json_decref(p);
	/* at the limit the body reaches the handler (which finds other problems) */
	nested(&doc, HTTP_JSON_MAX_DEPTH);
	(void)call("POST", "/render", "application/json", buf_cstr(&doc), 1 << 20, &body);
	ck_assert_ptr_null(strstr(buf_cstr(&body), "the body is beyond a limit"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&body), "\"status\":"));
	/* a string one byte over the limit, in an array */
	buf_reset(&doc);
	ck_assert_int_eq(buf_puts(&doc, "{\"s\": [0, \""), 0);
	for (size_t i = 0; i <= HTTP_JSON_MAX_STRING; i++)
		ck_assert_int_eq(buf_puts(&doc, "x"), 0);
	ck_assert_int_eq(buf_puts(&doc, "\"]}"), 0);
	ck_assert_uint_eq(call("POST", "/render", "application/json", buf_cstr(&doc), 1 << 20, &body), 422);
	p = problem(&body, 422);
	e = json_array_get(json_object_get(p, "errors"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "pointer")), "/s/1");
	json_decref(p);
	buf_release(&body);
	buf_release(&doc);
}
END_TEST

/* ---- the checks made once the head is in, with a store for the tokens ---- */

static char *dir;
static struct store *store;
static char viewer[128]; /* "Bearer mfd_..." of a viewer token */

static void store_setup(void)
{
	dir = fsutil_tmpdir();
	struct buf p, err, token;
	buf_init(&p, 512);
	buf_init(&err, 1024);
	buf_init(&token, 256);
	ck_assert_int_eq(buf_printf(&p, "%s/t.db", dir), 0);
	ck_assert_int_eq(store_open(&(struct store_options){buf_cstr(&p), 2, NULL, NULL}, &err, &store), 0);
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(store, &c), 0);
	ck_assert_int_eq(auth_token_issue(c, "v", AUTH_VIEWER, &token), 0);
	store_release(c);
	ck_assert_int_lt(snprintf(viewer, sizeof viewer, "Bearer %s", buf_cstr(&token)), (int)sizeof viewer);
	buf_release(&p);
	buf_release(&err);
	buf_release(&token);
}

static void store_teardown(void)
{
	store_free(store);
	store = NULL;
	fsutil_rmtree(dir);
	free(dir);
}

/* One request through http_call() against the fixture's store, with authentication;
 * headers are name, value, ..., NULL. Returns the status; the problem's detail (or the
 * body) is left in body. */
static unsigned call_h(const char *method, const char *target, const char *data, size_t max_body,
		       size_t max_body_total, struct buf *body, ...)
{
	struct api app = {.store = store};
	struct http_options opt = {.max_body = max_body, .max_body_total = max_body_total,
				   .app = &app, .tokens = store};
	opt.routes = api_routes(&opt.nroutes);
	struct http_field headers[8];
	size_t n = 0;
	va_list ap;
	va_start(ap, body);
	for (const char *name; n < 8 && (name = va_arg(ap, const char *)) != NULL; n++)
		headers[n] = (struct http_field){name, va_arg(ap, const char *)};
	va_end(ap);
	struct http_call c = {method, target, headers, n, data, data ? strlen(data) : 0};
	unsigned status = 0;
	buf_reset(body);
	ck_assert_int_eq(http_call(&opt, &c, body, &status), 0);
	return status;
}

#define JSON "Content-Type", "application/json"

START_TEST(the_token_is_checked_before_the_body)
{
	struct buf body;
	buf_init(&body, BUF_NO_MAX);
	/* a body that is not JSON, of the wrong type, too large or beyond the budget: without a
	 * token it is 401 all the same, so nothing of it was looked at or kept */
	ck_assert_uint_eq(call_h("POST", "/render", "{not json", 1024, 0, &body, JSON, NULL), 401);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&body), "bearer token is required"));
	ck_assert_uint_eq(call_h("POST", "/render", "{}", 1024, 0, &body, "Content-Type", "text/plain", NULL), 401);
	ck_assert_uint_eq(call_h("POST", "/render", "{\"a\": 1}", 4, 0, &body, JSON, NULL), 401);
	ck_assert_uint_eq(call_h("POST", "/render", "{\"a\": 1}", 1024, 2, &body, JSON, NULL), 401);
	ck_assert_uint_eq(call_h("PUT", "/api/v1/stacks/x", "{}", 1024, 0, &body, JSON,
				 "Authorization", "Bearer mfd_nope", NULL), 401);
	/* with a token: the role, then the body */
	ck_assert_uint_eq(call_h("PUT", "/api/v1/stacks/x", "{not json", 1024, 0, &body, JSON,
				 "Authorization", viewer, NULL), 403);
	ck_assert_uint_eq(call_h("POST", "/render", "{}", 1024, 0, &body, "Content-Type", "text/plain",
				 "Authorization", viewer, NULL), 415);
	ck_assert_uint_eq(call_h("POST", "/render", "{\"a\": 1}", 4, 0, &body, JSON,
				 "Authorization", viewer, NULL), 413);
	ck_assert_uint_eq(call_h("POST", "/render", "{not json", 1024, 0, &body, JSON,
				 "Authorization", viewer, NULL), 400);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&body), "not valid JSON"));
	/* message rules come first of all, then routing */
	ck_assert_uint_eq(call_h("POST", "/render", "{}", 1024, 0, &body, JSON, "Transfer-Encoding",
				 "gzip", NULL), 400);
	ck_assert_uint_eq(call_h("POST", "/nowhere", "{}", 1024, 0, &body, JSON, NULL), 405);
	buf_release(&body);
}
END_TEST

START_TEST(bodies_are_charged_to_the_budget)
{
	struct buf body;
	buf_init(&body, BUF_NO_MAX);
	const char *doc = "{\"stack\": \"nope\", \"environment\": \"x\"}";
	size_t len = strlen(doc);
	/* within max_body but more than all bodies may hold together: 503 */
	ck_assert_uint_eq(call_h("POST", "/render", doc, 1024, len - 1, &body, JSON, "Authorization",
				 viewer, NULL), 503);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&body), "retry"));
	/* it fits: the request goes on to the handler (which finds no such stack) */
	ck_assert_uint_eq(call_h("POST", "/render", doc, 1024, len, &body, JSON, "Authorization",
				 viewer, NULL), 404);
	/* a chunked body is charged max_body, as its length is not known */
	ck_assert_uint_eq(call_h("POST", "/render", doc, 100, 99, &body, JSON, "Transfer-Encoding",
				 "chunked", "Authorization", viewer, NULL), 503);
	ck_assert_uint_eq(call_h("POST", "/render", doc, 100, 100, &body, JSON, "Transfer-Encoding",
				 "chunked", "Authorization", viewer, NULL), 404);
	/* a chunked body found too large while reading: 413 once it has ended */
	ck_assert_uint_eq(call_h("POST", "/render", doc, len - 1, 0, &body, JSON, "Transfer-Encoding",
				 "chunked", "Authorization", viewer, NULL), 413);
	/* a route that takes no body drops it without charging it */
	ck_assert_uint_eq(call_h("GET", "/healthz", doc, 1024, 1, &body, NULL), 200);
	buf_release(&body);
}
END_TEST

START_TEST(message_rules_answer_before_routing)
{
	struct buf body;
	buf_init(&body, BUF_NO_MAX);
	ck_assert_uint_eq(call_h("GET", "/healthz?a=%00", NULL, 1024, 0, &body, NULL), 400);
	ck_assert_uint_eq(call_h("GET", "/healthz", NULL, 1024, 0, &body, "X", "a\rb", NULL), 400);
	ck_assert_uint_eq(call_h("GET", "/healthz", NULL, 1024, 0, &body, "Content-Length", "1",
				 "Content-Length", "2", NULL), 400);
	ck_assert_uint_eq(call_h("G(T", "/healthz", NULL, 1024, 0, &body, NULL), 400);
	ck_assert_uint_eq(call_h("GET", "healthz", NULL, 1024, 0, &body, NULL), 400);
	ck_assert_uint_eq(call_h("GET", "http://example.com/healthz", NULL, 1024, 0, &body, NULL), 200);
	/* query arguments: up to the limit they are served, one more is 400 */
	struct buf t;
	buf_init(&t, BUF_NO_MAX);
	ck_assert_int_eq(buf_puts(&t, "/healthz?"), 0);
	for (int i = 0; i < HTTPMSG_MAX_ARGS; i++)
		ck_assert_int_eq(buf_printf(&t, "a%d=b&", i), 0);
	ck_assert_uint_eq(call_h("GET", buf_cstr(&t), NULL, 1024, 0, &body, NULL), 200);
	ck_assert_int_eq(buf_puts(&t, "one=more"), 0);
	ck_assert_uint_eq(call_h("GET", buf_cstr(&t), NULL, 1024, 0, &body, NULL), 400);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&body), "more than the limit of 100 arguments"));
	/* a target one byte over the limit: 414 */
	buf_reset(&t);
	ck_assert_int_eq(buf_puts(&t, "/"), 0);
	for (int i = 0; i < HTTPMSG_MAX_TARGET; i++)
		ck_assert_int_eq(buf_puts(&t, "p"), 0);
	ck_assert_uint_eq(call_h("GET", buf_cstr(&t), NULL, 1024, 0, &body, NULL), 414);
	buf_release(&t);
	buf_release(&body);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *early = tcase_create("early");
	tcase_add_checked_fixture(early, store_setup, store_teardown);
	tcase_add_test(early, the_token_is_checked_before_the_body);
	tcase_add_test(early, bodies_are_charged_to_the_budget);
	tcase_add_test(early, message_rules_answer_before_routing);
	suite_add_tcase(s, early);
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_route_is_documented);
	tcase_add_test(tc, every_documented_operation_is_routed);
	tcase_add_test(tc, revision_tags_parse_strictly);
	tcase_add_test(tc, requests_run_without_a_socket);
	tcase_add_test(tc, json_bodies_are_limited_in_depth_and_string_length);
	tcase_add_test(tc, route_roles_match_the_openapi_security);
	suite_add_tcase(s, tc);
	return s;
}

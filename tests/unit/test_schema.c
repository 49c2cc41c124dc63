/* test_schema: server/schema.json loaded into nodes; the generic validation, completion
 * and inheritance walks; the published JSON Schema; the field list; the kinds. */
#include <string.h>

#include "buf.h"
#include "schema.h"
#include "suites.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
	ck_assert_msg(v != NULL, "%s: %s", text, err.text);
	return v;
}

/* The errors of validating text against the def called def, as "pointer: detail" lines. */
static char *problems(const char *def, const char *text, bool resolved)
{
	json_t *v = parse(text);
	struct model_errors errs;
	model_errors_init(&errs);
	ck_assert_int_eq(schema_validate(schema_def(def), v, resolved, MODEL_PTR("x"), &errs), 0);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (size_t i = 0; i < errs.count; i++)
		ck_assert_int_eq(buf_printf(&b, "%s: %s\n", errs.items[i].pointer, errs.items[i].detail), 0);
	model_errors_release(&errs);
	json_decref(v);
	char *out = buf_detach(&b, NULL);
	return out ? out : strdup("");
}

static void expect_problem(const char *def, const char *text, bool resolved, const char *want)
{
	char *got = problems(def, text, resolved);
	if (want)
		ck_assert_msg(strstr(got, want), "%s %s: got\n%s\nwant %s", def, text, got, want);
	else
		ck_assert_msg(!*got, "%s %s: got\n%s", def, text, got);
	free(got);
}

START_TEST(loads_with_every_format_checked)
{
	const struct schema_node *doc = schema_document();
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_eq(schema_document(), doc); /* once per process */
	ck_assert_int_eq(doc->type, SCHEMA_OBJECT);
	static const char *const names[] = {"dns_label", "quantity", "port_name", "cron", "image_ref", "json_pointer"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const struct schema_format *f = schema_format(names[i]);
		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(f->check);
		ck_assert_msg(f->pattern && f->pattern[0] == '^', "%s has no anchored pattern", names[i]);
		ck_assert_ptr_nonnull(f->text);
	}
	ck_assert_ptr_null(schema_format("no-such-format"));
	const struct schema_node *svc = schema_def("service");
	ck_assert_ptr_nonnull(svc);
	ck_assert_str_eq(svc->view, "service_view");
	ck_assert_ptr_null(schema_def("no-such-def"));
	/* a $ref'd def with local overrides: the use site's defaults */
	const struct schema_node *mysql_req = schema_prop(schema_prop(schema_prop(doc, "mysql"), "resources"), "requests");
	ck_assert_str_eq(json_string_value(schema_prop(mysql_req, "cpu")->def), "250m");
	const struct schema_node *svc_req = schema_prop(schema_prop(svc, "resources"), "requests");
	ck_assert_str_eq(json_string_value(schema_prop(svc_req, "cpu")->def), "100m");
}
END_TEST

START_TEST(defaults_of_objects)
{
	const struct schema_node *doc = schema_document();
	const json_t *d = doc->defaults;
	ck_assert(json_is_true(json_object_get(json_object_get(d, "ingress"), "enabled")));
	ck_assert_uint_eq(json_object_size(json_object_get(d, "services")), 0);
	ck_assert_ptr_null(json_object_get(d, "serviceDefaults")); /* input only */
	const json_t *svc = schema_def("service")->defaults;
	const json_t *probes = json_object_get(svc, "probes");
	ck_assert(json_is_object(json_object_get(probes, "readiness"))); /* present: completed after layering */
	ck_assert(json_is_null(json_object_get(probes, "startup")));
	ck_assert_ptr_null(json_object_get(json_object_get(probes, "readiness"), "httpGet")); /* an alternative */
	ck_assert(json_is_null(json_object_get(svc, "command")));
	ck_assert_ptr_null(json_object_get(svc, "port"));
	ck_assert_ptr_null(json_object_get(json_object_get(svc, "securityContext"), "runAsGroup")); /* defaultFrom */
}
END_TEST

START_TEST(validation)
{
	/* shape of a stored document: types and names only */
	expect_problem("service", "{\"replcas\": 2}", false, "/x/replcas: is not a known field; did you mean \"replicas\"?");
	expect_problem("service", "{\"replicas\": null, \"kind\": \"Nope\", \"ports\": {\"BAD\": {\"port\": 0}}}", false, NULL);
	expect_problem("service", "{\"replicas\": \"2\"}", false, "must be an integer from 0 to 1000, got the string \"2\"");
	/* resolved: values too */
	expect_problem("service", "{\"kind\": \"Deploy\"}", true, "/x/kind: must be one of \"\", \"Deployment\"");
	expect_problem("service", "{\"kind\": \"deployment\"}", true, "did you mean \"Deployment\"?");
	expect_problem("service", "{\"ports\": {\"BAD\": {\"port\": 80}}}", true, "/x/ports/BAD: is not a valid name: must be a port name");
	expect_problem("service", "{\"ports\": {\"web\": {}}}", true, "/x/ports/web/port: is required");
	expect_problem("probe", "{\"httpGet\": {}, \"exec\": {\"command\": []}}", true, "/x: must have at most one of");
	expect_problem("probe", "{}", true, NULL);
	expect_problem("envSource", "{}", true, "/x: must have exactly one of \"value\", \"config\", \"secret\" or \"field\", got 0");
	expect_problem("envSource", "{\"valu\": \"a\"}", true, "did you mean \"value\"?");
	expect_problem("probePort", "\"http\"", true, NULL);
	expect_problem("probePort", "8080", true, NULL);
	expect_problem("probePort", "70000", true, "/x: must be an integer from 1 to 65535, got 70000");
	expect_problem("probePort", "true", true, "an integer from 1 to 65535 or a string");
	expect_problem("command", "[\"a\", 1]", true, "/x/1: must be a string, got 1");
	expect_problem("command", "\"a b\"", true, "/x: must be an array, got the string");
	expect_problem("command", "null", true, NULL);
	expect_problem("resources", "{\"requests\": {\"cpu\": \"lots\"}}", true, "/x/requests/cpu: must be a Kubernetes quantity");
	/* empty passes where emptyOk says so */
	expect_problem("service", "{\"workingDir\": \"\"}", true, NULL);
	expect_problem("service", "{\"workingDir\": \"app\"}", true, "absolute path");
}
END_TEST

START_TEST(completion_and_inheritance)
{
	json_t *svc = parse("{\"ports\": {\"http\": {\"port\": 80}}, \"probes\": {\"readiness\": {\"httpGet\": {}}},"
			    " \"securityContext\": {\"runAsUser\": 42}, \"volumes\": {\"v\": {\"mountPath\": \"/v\", \"emptyDir\": {}}}}");
	const struct schema_node *n = schema_def("service");
	ck_assert_int_eq(schema_complete(n, svc), 0);
	const json_t *http = json_object_get(json_object_get(svc, "ports"), "http");
	ck_assert_int_eq(json_integer_value(json_object_get(http, "targetPort")), 80);
	ck_assert_str_eq(json_string_value(json_object_get(http, "protocol")), "TCP");
	const json_t *sc = json_object_get(svc, "securityContext");
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "runAsGroup")), 42);
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "fsGroup")), 42);
	const json_t *readiness = json_object_get(json_object_get(svc, "probes"), "readiness");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(readiness, "httpGet"), "path")), "/");
	ck_assert_ptr_null(json_object_get(readiness, "tcpSocket")); /* the other alternatives stay absent */
	ck_assert(json_is_null(json_object_get(json_object_get(svc, "probes"), "liveness"))); /* absent nullable: null */
	const json_t *vol = json_object_get(json_object_get(svc, "volumes"), "v");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(vol, "emptyDir"), "medium")), "");
	ck_assert_ptr_null(json_object_get(vol, "claim"));
	ck_assert_ptr_null(json_object_get(json_object_get(svc, "image"), "tag")); /* an absolute defaultFrom waits */
	json_t *again = json_deep_copy(svc);
	ck_assert_int_eq(schema_complete(n, again), 0);
	ck_assert(json_equal(again, svc)); /* idempotent */

	json_t *doc = parse("{\"image\": {\"tag\": \"1.2\", \"registry\": \"ghcr.io/a\", \"pullPolicy\": \"Always\"},"
			    " \"services\": {\"a\": {\"image\": {\"repository\": \"a\", \"tag\": \"9\"}}}}");
	ck_assert_int_eq(schema_inherit(schema_document(), doc, doc), 0);
	const json_t *image = json_object_get(json_object_get(json_object_get(doc, "services"), "a"), "image");
	ck_assert_str_eq(json_string_value(json_object_get(image, "tag")), "9");
	ck_assert_str_eq(json_string_value(json_object_get(image, "registry")), "ghcr.io/a");
	ck_assert_str_eq(json_string_value(json_object_get(image, "pullPolicy")), "Always");
	json_decref(doc);
	json_decref(again);
	json_decref(svc);
}
END_TEST

START_TEST(json_schema_published)
{
	const json_t *s = schema_json_schema();
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(schema_json_schema(), s);
	ck_assert_str_eq(json_string_value(json_object_get(s, "$schema")), "https://json-schema.org/draft/2020-12/schema");
	ck_assert(json_is_false(json_object_get(s, "additionalProperties")));
	const json_t *services = json_object_get(json_object_get(s, "properties"), "services");
	const json_t *svc = json_object_get(services, "additionalProperties");
	const json_t *port = json_object_get(json_object_get(svc, "properties"), "port");
	ck_assert(json_is_true(json_object_get(port, "x-manifestd-input-only")));
	const json_t *name = json_object_get(services, "propertyNames");
	ck_assert_str_eq(json_string_value(json_object_get(name, "pattern")), schema_format("service_name")->pattern);
	const json_t *ns = json_object_get(json_object_get(s, "properties"), "namespace");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ns, "pattern")), "^$|"));
	ck_assert_str_eq(json_string_value(json_object_get(ns, "x-manifestd-default")), "<stack>-<environment>");
	const json_t *probe = json_object_get(json_object_get(json_object_get(svc, "properties"), "probes"), "properties");
	const json_t *kinds = json_object_get(json_object_get(probe, "readiness"), "x-manifestd-at-most-one-of");
	ck_assert_uint_eq(json_array_size(kinds), 4);
}
END_TEST

static bool has_path(const json_t *paths, const char *p)
{
	for (size_t i = 0; i < json_array_size(paths); i++)
		if (strcmp(json_string_value(json_array_get(paths, i)), p) == 0)
			return true;
	return false;
}

START_TEST(field_paths_and_kinds)
{
	json_t *paths = schema_field_paths();
	ck_assert_ptr_nonnull(paths);
	ck_assert(has_path(paths, "/services/*/ports/*/targetPort"));
	ck_assert(has_path(paths, "/services/*/probes/readiness/grpc/service"));
	ck_assert(has_path(paths, "/ingress/rules/*/tls/secretName"));
	ck_assert(has_path(paths, "/patches/*/jsonPatch/*/op"));
	ck_assert(!has_path(paths, "/services/*/nope"));
	json_decref(paths);
	ck_assert_str_eq(schema_kind("Deployment")->api_versions[0], "apps/v1");
	ck_assert(schema_kind_cluster_scoped("ClusterRole"));
	ck_assert(!schema_kind_cluster_scoped("Role"));
	ck_assert_ptr_null(schema_kind("Certificate"));
	ck_assert(!schema_kind_cluster_scoped("Certificate"));
	ck_assert(schema_kind_cluster_scoped("ClusterIssuer"));
}
END_TEST

Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");
	tcase_add_test(tc, loads_with_every_format_checked);
	tcase_add_test(tc, defaults_of_objects);
	tcase_add_test(tc, validation);
	tcase_add_test(tc, completion_and_inheritance);
	tcase_add_test(tc, json_schema_published);
	tcase_add_test(tc, field_paths_and_kinds);
	suite_add_tcase(s, tc);
	return s;
}

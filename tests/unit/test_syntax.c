/* test_syntax: the value syntaxes accept the forms Kubernetes and docker accept and name
 * the rule when they do not; quantities parse to the number they stand for. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "syntax.h"
#include "suites.h"

/* An input and the rule it breaks: want is NULL when it passes, else a part of the rule. */
struct syntax_case {
	const char *(*check)(const char *s);
	const char *input;
	const char *want;
};

static const struct syntax_case cases[] = {
	{syntax_dns_label, "order-service", NULL},
	{syntax_dns_label, "a", NULL},
	{syntax_dns_label, "Order", "DNS label"},
	{syntax_dns_label, "-a", "DNS label"},
	{syntax_dns_label, "", "DNS label"},
	{syntax_dns_label_or_empty, "", NULL},
	{syntax_dns_label_or_empty, "a_b", "DNS label"},
	{syntax_service_name, "web", NULL},
	{syntax_service_name, "1web", "start with a letter"},
	{syntax_host, "shop.example.com", NULL},
	{syntax_host, "*.example.com", NULL},
	{syntax_host, "", NULL},
	{syntax_host, "shop..example.com", "DNS name"},
	{syntax_host, "Shop.example.com", "DNS name"},
	{syntax_class_name, "fast-ssd.v2", NULL},
	{syntax_class_name, "", NULL},
	{syntax_class_name, "Fast", "StorageClass"},
	{syntax_annotation_key, "nginx.ingress.kubernetes.io/proxy-body-size", NULL},
	{syntax_annotation_key, "owner", NULL},
	{syntax_annotation_key, "a/b/c", "annotation key"},
	{syntax_annotation_key, "Bad_Prefix/x", "annotation key"},
	{syntax_quantity, "512Mi", NULL},
	{syntax_quantity, "0.5", NULL},
	{syntax_quantity, "0", "greater than zero"},
	{syntax_quantity, "512MB", "Kubernetes quantity"},
	{syntax_image_ref, "mysql:8.0.36", NULL},
	{syntax_image_ref, "registry.example.com:5000/team/mysql:8.0.36", NULL},
	{syntax_image_ref, "localhost/x:1", NULL},
	{syntax_image_ref, "mysql:8.0.36@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL},
	{syntax_image_ref, "mysql", "must include a tag"},
	{syntax_image_ref, "mysql:latest", "must not be \"latest\""},
	{syntax_image_ref, "mysql:8@sha256:abc", "digest"},
	{syntax_image_ref, "My/SQL:1", "image reference"},
	{syntax_tag, "1.4.2", NULL},
	{syntax_tag, "_x", NULL},
	{syntax_tag, ".x", "image tag"},
	{syntax_tag, "latest", "latest"},
	{syntax_registry, "ghcr.io/acme", NULL},
	{syntax_registry, "localhost:5000", NULL},
	{syntax_registry, "", NULL},
	{syntax_registry, "ghcr.io:99999999/acme", "registry"},
	{syntax_repository, "team/order-service", NULL},
	{syntax_repository, "a__b.c", NULL},
	{syntax_repository, "Team/x", "repository"},
	{syntax_repository, "a-", "repository"},
	{syntax_digest, "", NULL},
	{syntax_digest, "sha256:ABC", "sha256"},
	{syntax_key, "app.properties", NULL},
	{syntax_key, "..", "key"},
	{syntax_key, "a b", "key"},
	{syntax_env_name, "_JAVA_OPTS", NULL},
	{syntax_env_name, "1X", "environment variable"},
	{syntax_db_name, "orders_db", NULL},
	{syntax_db_name, "Orders", "database name"},
	{syntax_db_user, "a23456789012345678901234567890123", "user name"},
	{syntax_rabbitmq_user, "shop.app-1", NULL},
	{syntax_rabbitmq_user, "", "1 to 64"},
	{syntax_http_path, "/actuator/health", NULL},
	{syntax_http_path, "health", "starting with '/'"},
	{syntax_http_path, "/a b", "without spaces"},
	{syntax_duration, "1h30m", NULL},
	{syntax_duration, "1d", "duration"},
	{syntax_duration, "h", "duration"},
	{syntax_label_key, "app.kubernetes.io/name", NULL},
	{syntax_label_key, "-x", "label"},
	{syntax_label_value, "", NULL},
	{syntax_label_value, "v1.2_x-y", NULL},
	{syntax_label_value, "a b", "label value"},
	{syntax_label_value, "a234567890123456789012345678901234567890123456789012345678901234", "label value"},
	{syntax_object_name, "web-cert.v2", NULL},
	{syntax_object_name, "Web", "object name"},
	{syntax_object_name, "", "object name"},
	{syntax_abs_path, "/var/lib/data", NULL},
	{syntax_abs_path, "data", "absolute path"},
	{syntax_abs_path, "/a:b", "absolute path"},
	{syntax_rel_path, "conf.d/default.conf", NULL},
	{syntax_rel_path, "a..b", NULL},
	{syntax_rel_path, "../etc", "relative path"},
	{syntax_rel_path, "a/../b", "relative path"},
	{syntax_rel_path, "/etc", "relative path"},
	{syntax_rel_path, "", "relative path"},
	{syntax_env_prefix, "APP_", NULL},
	{syntax_env_prefix, "1_", "letters"},
	{syntax_port_name, "http", NULL},
	{syntax_port_name, "grpc-web", NULL},
	{syntax_port_name, "8080", "at least one letter"},
	{syntax_port_name, "http-", "port name"},
	{syntax_port_name, "a--b", "port name"},
	{syntax_port_name, "Http", "port name"},
	{syntax_port_name, "a234567890123456", "at most 15"},
	{syntax_capability, "NET_BIND_SERVICE", NULL},
	{syntax_capability, "CAP_net", "capability"},
	{syntax_cron, "*/5 * * * *", NULL},
	{syntax_cron, "0 3 * * 1-5", NULL},
	{syntax_cron, "@daily", NULL},
	{syntax_cron, "* * *", "five fields"},
	{syntax_cron, "*  * * * *", "five fields"},
	{syntax_cron, "@sometimes", "five fields"},
	{syntax_file_mode, "0644", NULL},
	{syntax_file_mode, "400", NULL},
	{syntax_file_mode, "0999", "octal"},
	{syntax_file_mode, "64", "octal"},
	{syntax_api_version, "v1", NULL},
	{syntax_api_version, "apps/v1", NULL},
	{syntax_api_version, "cert-manager.io/v1alpha2", NULL},
	{syntax_api_version, "v0", "apiVersion"},
	{syntax_api_version, "Apps/v1", "apiVersion"},
	{syntax_api_version, "apps/1", "apiVersion"},
	{syntax_kind, "ConfigMap", NULL},
	{syntax_kind, "configMap", "kind"},
	{syntax_http_header, "X-Probe", NULL},
	{syntax_http_header, "X Probe", "header"},
	{syntax_app_protocol, "kubernetes.io/h2c", NULL},
	{syntax_app_protocol, "grpc", NULL},
	{syntax_app_protocol, "a b", "application protocol"},
	{syntax_percent, "25%", NULL},
	{syntax_percent, "25", "percentage"},
	{syntax_time_zone, "Europe/Paris", NULL},
	{syntax_time_zone, "America/Argentina/Buenos_Aires", NULL},
	{syntax_time_zone, "Etc/GMT+3", NULL},
	{syntax_time_zone, "3am", "time zone"},
	{syntax_json_pointer, "/spec/template/spec/containers/0/args", NULL},
	{syntax_json_pointer, "", NULL},
	{syntax_json_pointer, "/a~2", "JSON Pointer"},
	{syntax_json_pointer, "spec", "JSON Pointer"},
};

START_TEST(checkers_accept_and_name_the_rule)
{
	const struct syntax_case *t = &cases[_i];
	const char *why = t->check(t->input);
	if (!t->want)
		ck_assert_msg(why == NULL, "case %d (\"%s\"): %s", _i, t->input, why);
	else
		ck_assert_msg(why && strstr(why, t->want), "case %d (\"%s\"): %s", _i, t->input,
			      why ? why : "passed");
}
END_TEST

START_TEST(quantities)
{
	long double v = -1;
	ck_assert_int_eq(syntax_quantity_value("250m", &v), 0);
	ck_assert(fabsl(v - 0.25L) < 1e-12L);
	ck_assert_int_eq(syntax_quantity_value("1Ki", &v), 0);
	ck_assert(v == 1024.0L);
	ck_assert_int_eq(syntax_quantity_value("1.5G", &v), 0);
	ck_assert(v == 1.5e9L);
	ck_assert_int_eq(syntax_quantity_value("2e3", &v), 0);
	ck_assert(v == 2000.0L);
	ck_assert_int_eq(syntax_quantity_value("-1", &v), 0);
	ck_assert(v == -1.0L);
	v = 7;
	ck_assert_int_eq(syntax_quantity_value("1Kb", &v), -EINVAL);
	ck_assert_int_eq(syntax_quantity_value(".", &v), -EINVAL);
	ck_assert_int_eq(syntax_quantity_value("", &v), -EINVAL);
	ck_assert(v == 7.0L); /* not written on failure */
}
END_TEST

Suite *syntax_suite(void)
{
	Suite *s = suite_create("syntax");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, checkers_accept_and_name_the_rule, 0,
			     (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, quantities);
	suite_add_tcase(s, tc);
	return s;
}

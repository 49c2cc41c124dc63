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

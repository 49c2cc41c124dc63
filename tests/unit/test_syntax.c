/* test_syntax: the value syntaxes accept the forms Kubernetes and docker accept and name
 * the rule when they do not; quantities parse to the number they stand for. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "syntax.h"
#include "suites.h"

/* s passes check. */
#define OK(check, s) ck_assert_msg((check)(s) == NULL, "%s(\"%s\"): %s", #check, (s), (check)(s))
/* s fails check with a rule that contains want. */
#define BAD(check, s, want)                                                               \
	do {                                                                              \
		const char *why_ = (check)(s);                                            \
		ck_assert_msg(why_ != NULL, "%s(\"%s\") passed", #check, (s));            \
		ck_assert_msg(strstr(why_, (want)) != NULL, "%s(\"%s\"): %s", #check, (s), why_); \
	} while (0)

START_TEST(dns_names_and_hosts)
{
	OK(syntax_dns_label, "order-service");
	OK(syntax_dns_label, "a");
	BAD(syntax_dns_label, "Order", "DNS label");
	BAD(syntax_dns_label, "-a", "DNS label");
	BAD(syntax_dns_label, "", "DNS label");
	OK(syntax_dns_label_or_empty, "");
	BAD(syntax_dns_label_or_empty, "a_b", "DNS label");
	OK(syntax_service_name, "web");
	BAD(syntax_service_name, "1web", "start with a letter");
	OK(syntax_host, "shop.example.com");
	OK(syntax_host, "*.example.com");
	OK(syntax_host, "");
	BAD(syntax_host, "shop..example.com", "DNS name");
	BAD(syntax_host, "Shop.example.com", "DNS name");
	OK(syntax_class_name, "fast-ssd.v2");
	OK(syntax_class_name, "");
	BAD(syntax_class_name, "Fast", "StorageClass");
	OK(syntax_annotation_key, "nginx.ingress.kubernetes.io/proxy-body-size");
	OK(syntax_annotation_key, "owner");
	BAD(syntax_annotation_key, "a/b/c", "annotation key");
	BAD(syntax_annotation_key, "Bad_Prefix/x", "annotation key");
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
	OK(syntax_quantity, "512Mi");
	OK(syntax_quantity, "0.5");
	BAD(syntax_quantity, "0", "greater than zero");
	BAD(syntax_quantity, "512MB", "Kubernetes quantity");
}
END_TEST

START_TEST(images)
{
	OK(syntax_image_ref, "mysql:8.0.36");
	OK(syntax_image_ref, "registry.example.com:5000/team/mysql:8.0.36");
	OK(syntax_image_ref, "localhost/x:1");
	OK(syntax_image_ref, "mysql:8.0.36@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	BAD(syntax_image_ref, "mysql", "must include a tag");
	BAD(syntax_image_ref, "mysql:latest", "must not be \"latest\"");
	BAD(syntax_image_ref, "mysql:8@sha256:abc", "digest");
	BAD(syntax_image_ref, "My/SQL:1", "image reference");
	OK(syntax_tag, "1.4.2");
	OK(syntax_tag, "_x");
	BAD(syntax_tag, ".x", "image tag");
	BAD(syntax_tag, "latest", "latest");
	OK(syntax_registry, "ghcr.io/acme");
	OK(syntax_registry, "localhost:5000");
	OK(syntax_registry, "");
	BAD(syntax_registry, "ghcr.io:99999999/acme", "registry");
	OK(syntax_repository, "team/order-service");
	OK(syntax_repository, "a__b.c");
	BAD(syntax_repository, "Team/x", "repository");
	BAD(syntax_repository, "a-", "repository");
	OK(syntax_digest, "");
	BAD(syntax_digest, "sha256:ABC", "sha256");
}
END_TEST

START_TEST(keys_names_paths_durations)
{
	OK(syntax_key, "app.properties");
	BAD(syntax_key, "..", "key");
	BAD(syntax_key, "a b", "key");
	OK(syntax_env_name, "_JAVA_OPTS");
	BAD(syntax_env_name, "1X", "environment variable");
	OK(syntax_db_name, "orders_db");
	BAD(syntax_db_name, "Orders", "database name");
	BAD(syntax_db_user, "a23456789012345678901234567890123", "user name");
	OK(syntax_rabbitmq_user, "shop.app-1");
	BAD(syntax_rabbitmq_user, "", "1 to 64");
	OK(syntax_http_path, "/actuator/health");
	BAD(syntax_http_path, "health", "starting with '/'");
	BAD(syntax_http_path, "/a b", "without spaces");
	OK(syntax_duration, "1h30m");
	BAD(syntax_duration, "1d", "duration");
	BAD(syntax_duration, "h", "duration");
}
END_TEST

Suite *syntax_suite(void)
{
	Suite *s = suite_create("syntax");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, dns_names_and_hosts);
	tcase_add_test(tc, quantities);
	tcase_add_test(tc, images);
	tcase_add_test(tc, keys_names_paths_durations);
	suite_add_tcase(s, tc);
	return s;
}

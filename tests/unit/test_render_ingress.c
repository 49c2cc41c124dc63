/* test_render_ingress: the stack's one Ingress (render_ingress.c): rules grouped by host in
 * the order hosts first appear, TLS grouped by secret with sorted hosts, backends by port
 * number. */
#include <stdlib.h>

#include "renderutil.h"
#include "suites.h"

#define STACK(rules)                                                                              \
	"{'image': {'registry': 'r.example.com', 'tag': '1.0'},"                                  \
	" 'services': {'web': {'image': {'repository': 'web'}, 'port': 8080},"                    \
	"   'api': {'image': {'repository': 'api'}, 'ports': {'http': {'port': 8000}, 'admin': {'port': 8001}}}},"      \
	" 'ingress': {'className': 'nginx', 'annotations': {'example.com/a': 'b'}, 'rules': {" rules "}}}"

START_TEST(rules_grouped_by_host)
{
	json_t *files = renderutil_bundle(STACK(
		"'w': {'host': 'www.example.com', 'service': 'web', 'tls': {'enabled': true, 'secretName': 'www-tls'}},"
		"'a1': {'host': 'api.example.com', 'path': '/v1', 'service': 'api', 'tls': {'enabled': true}},"
		"'any': {'path': '/', 'pathType': 'ImplementationSpecific', 'service': 'web'},"
		"'a2': {'host': 'api.example.com', 'path': '/admin', 'pathType': 'Exact', 'service': 'api', 'port': 'admin',"
		"       'tls': {'enabled': true}},"
		"'apex': {'host': 'example.com', 'service': 'web', 'port': 8080, 'tls': {'enabled': true, 'secretName': 'www-tls'}}"),
		NULL);
	json_t *ing = json_array_get(json_object_get(files, "90-ingress.yaml"), 0);
	ck_assert_str_eq(renderutil_str(ing, "/metadata/name"), "shop");
	ck_assert_str_eq(renderutil_str(ing, "/metadata/annotations/example.com~1a"), "b");
	ck_assert_str_eq(renderutil_str(ing, "/metadata/labels/app.kubernetes.io~1component"), "ingress");
	ck_assert_str_eq(renderutil_str(ing, "/spec/ingressClassName"), "nginx");
	renderutil_assert_json(renderutil_at(ing, "/spec/tls"),
		    "[{'hosts': ['example.com', 'www.example.com'], 'secretName': 'www-tls'},"
		    " {'hosts': ['api.example.com'], 'secretName': 'shop-tls'}]");
	renderutil_assert_json(renderutil_at(ing, "/spec/rules"),
		    "[{'host': 'www.example.com', 'http': {'paths': ["
		    "   {'path': '/', 'pathType': 'Prefix', 'backend': {'service': {'name': 'web', 'port': {'number': 8080}}}}]}},"
		    " {'host': 'api.example.com', 'http': {'paths': ["
		    "   {'path': '/v1', 'pathType': 'Prefix', 'backend': {'service': {'name': 'api', 'port': {'number': 8000}}}},"
		    "   {'path': '/admin', 'pathType': 'Exact', 'backend': {'service': {'name': 'api', 'port': {'number': 8001}}}}]}},"
		    " {'http': {'paths': ["
		    "   {'path': '/', 'pathType': 'ImplementationSpecific', 'backend': {'service': {'name': 'web', 'port': {'number': 8080}}}}]}},"
		    " {'host': 'example.com', 'http': {'paths': ["
		    "   {'path': '/', 'pathType': 'Prefix', 'backend': {'service': {'name': 'web', 'port': {'number': 8080}}}}]}}]");
	json_decref(files);
}
END_TEST

START_TEST(no_tls_no_rules_no_ingress)
{
	json_t *files = renderutil_bundle(STACK("'w': {'host': 'www.example.com', 'service': 'web'}"), NULL);
	json_t *ing = json_array_get(json_object_get(files, "90-ingress.yaml"), 0);
	ck_assert_ptr_null(renderutil_at(ing, "/spec/tls"));
	json_decref(files);
	files = renderutil_bundle(STACK(""), NULL);
	ck_assert_ptr_null(json_object_get(files, "90-ingress.yaml"));
	json_decref(files);
	files = renderutil_bundle(STACK("'w': {'service': 'web'}"), "{'ingress': {'enabled': false}}");
	ck_assert_ptr_null(json_object_get(files, "90-ingress.yaml"));
	json_decref(files);
}
END_TEST

Suite *render_ingress_suite(void)
{
	Suite *s = suite_create("render_ingress");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rules_grouped_by_host);
	tcase_add_test(tc, no_tls_no_rules_no_ingress);
	suite_add_tcase(s, tc);
	return s;
}

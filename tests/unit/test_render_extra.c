/* test_render_extra: extraObjects in 20-extra.yaml and patches (render_extra.c), and the
 * checks render_new makes on the rendered objects (render_check.c): patch targets, failed
 * operations, identity changes, and two objects of one kind with one name. */
#include <stdlib.h>
#include <string.h>

#include "renderutil.h"
#include "suites.h"

#define AT renderutil_at
#define STR renderutil_str
#define FIND renderutil_find

#define STACK(rest)                                                                               \
	"{'image': {'registry': 'r.example.com', 'tag': '1.0'}, 'config': {'a': 'one'},"          \
	" 'services': {'app': {'image': {'repository': 'app'}, 'port': 8080, 'replicas': 2},"     \
	"   'seed': {'kind': 'Job', 'image': {'repository': 'seed'}, 'args': ['seed']}}" rest "}"

START_TEST(extra_objects)
{
	json_t *files = renderutil_bundle(STACK(
		", 'extraObjects': {"
		"  'zz-flags': {'apiVersion': 'v1', 'kind': 'ConfigMap', 'data': {'k': 'v'},"
		"     'metadata': {'labels': {'mine': 'yes', 'manifestd.io/stack': 'other'}, 'annotations': {'x.io/a': 'b'}}},"
		"  'reader': {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRole', 'metadata': {'name': 'shop-reader'},"
		"     'rules': [{'apiGroups': [''], 'resources': ['pods'], 'verbs': ['get']}]},"
		"  'cert': {'apiVersion': 'cert-manager.io/v1', 'kind': 'Certificate',"
		"     'spec': {'secretName': 'cert-tls', 'dnsNames': ['a.example.com']}}}"), NULL);
	json_t *extra = json_object_get(files, "20-extra.yaml");
	ck_assert_uint_eq(json_array_size(extra), 3);
	/* in key order: cert, reader, zz-flags */
	json_t *cert = json_array_get(extra, 0);
	ck_assert_str_eq(STR(cert, "/metadata/name"), "cert");
	ck_assert_str_eq(STR(cert, "/metadata/namespace"), "shop-prod");
	ck_assert_str_eq(STR(cert, "/metadata/labels/manifestd.io~1stack"), "shop");
	renderutil_assert_json(AT(cert, "/spec"), "{'secretName': 'cert-tls', 'dnsNames': ['a.example.com']}");
	json_t *role = json_array_get(extra, 1);
	ck_assert_str_eq(STR(role, "/metadata/name"), "shop-reader");
	ck_assert_ptr_null(AT(role, "/metadata/namespace"));
	json_t *cm = json_array_get(extra, 2);
	/* the object's own labels win over the stack's */
	ck_assert_str_eq(STR(cm, "/metadata/labels/manifestd.io~1stack"), "other");
	ck_assert_str_eq(STR(cm, "/metadata/labels/mine"), "yes");
	ck_assert_str_eq(STR(cm, "/metadata/labels/app.kubernetes.io~1managed-by"), "manifestd");
	ck_assert_str_eq(STR(cm, "/metadata/annotations/x.io~1a"), "b");
	/* apiVersion, kind, metadata first, then the object's members as written */
	const char *keys[] = {"apiVersion", "kind", "metadata", "data"};
	size_t i = 0;
	const char *key;
	json_t *v;
	json_object_foreach(cm, key, v)
		ck_assert_str_eq(key, keys[i++]);
	json_decref(files);
}
END_TEST

START_TEST(patches_apply_in_key_order)
{
	json_t *files = renderutil_bundle(STACK(
		", 'extraObjects': {'flags': {'apiVersion': 'v1', 'kind': 'ConfigMap', 'data': {'k': 'v'}}},"
		"  'patches': {"
		"   'b-args': {'target': {'kind': 'Deployment', 'name': 'app'}, 'jsonPatch': ["
		"      {'op': 'add', 'path': '/spec/template/spec/containers/0/args', 'value': ['--b']}]},"
		"   'a-args': {'target': {'kind': 'Deployment', 'name': 'app'}, 'merge': {"
		"      'spec': {'template': {'spec': {'containers': [{'name': 'app', 'image': 'x:1', 'args': ['--a']}]}}}}},"
		"   'c-flags': {'target': {'kind': 'ConfigMap', 'name': 'flags'}, 'merge': {'data': {'k': 'w', 'n': 'm'}}},"
		"   'd-seed': {'target': {'kind': 'Job', 'name': 'seed'}, 'jsonPatch': ["
		"      {'op': 'replace', 'path': '/spec/backoffLimit', 'value': 0}]}}"), NULL);
	/* a-args (a merge patch replaces the list) before b-args (which adds to it) */
	json_t *c = AT(FIND(files, "Deployment", "app"), "/spec/template/spec/containers/0");
	renderutil_assert_json(c, "{'name': 'app', 'image': 'x:1', 'args': ['--b']}");
	renderutil_assert_json(AT(FIND(files, "ConfigMap", "flags"), "/data"), "{'k': 'w', 'n': 'm'}");
	/* the patched Job is named after its patched spec */
	json_t *job = json_array_get(json_object_get(files, "50-seed.yaml"), 1);
	ck_assert_int_eq(json_integer_value(AT(job, "/spec/backoffLimit")), 0);
	json_t *plain = renderutil_bundle(STACK(""), NULL);
	json_t *before = json_array_get(json_object_get(plain, "50-seed.yaml"), 1);
	ck_assert_str_ne(STR(job, "/metadata/name"), STR(before, "/metadata/name"));
	ck_assert(strncmp(STR(job, "/metadata/name"), "seed-", 5) == 0);
	json_decref(plain);
	json_decref(files);
}
END_TEST

START_TEST(patch_problems)
{
	char *e = renderutil_errors(STACK(
		", 'patches': {"
		"   'no-target': {'target': {'kind': 'Deployment', 'name': 'ap'}, 'merge': {'spec': {}}},"
		"   'bad-op': {'target': {'kind': 'Service', 'name': 'app'}, 'jsonPatch': ["
		"      {'op': 'test', 'path': '/spec/type', 'value': 'ClusterIP'},"
		"      {'op': 'remove', 'path': '/spec/nothing'}]},"
		"   'rename': {'target': {'kind': 'ServiceAccount', 'name': 'app'}, 'merge': {'metadata': {'name': 'other'}}},"
		"   'rekind': {'target': {'kind': 'Deployment', 'name': 'app'}, 'jsonPatch': ["
		"      {'op': 'replace', 'path': '/kind', 'value': 'StatefulSet'}]},"
		"   'failed-test': {'target': {'kind': 'Deployment', 'name': 'app'}, 'jsonPatch': ["
		"      {'op': 'test', 'path': '/spec/replicas', 'value': 5}]}}"), NULL);
	ck_assert_msg(strstr(e, "/patches/no-target/target: names the Deployment \"ap\", which the bundle does not render; "
				"did you mean \"app\"?"), "%s", e);
	ck_assert_msg(strstr(e, "/patches/bad-op/jsonPatch/1/path: names nothing in the rendered object (the Service \"app\")"),
		      "%s", e);
	ck_assert_msg(strstr(e, "/patches/rename/merge: changes metadata.name of the ServiceAccount \"app\""), "%s", e);
	ck_assert_msg(strstr(e, "/patches/rekind/jsonPatch: changes kind of the Deployment \"app\""), "%s", e);
	ck_assert_msg(strstr(e, "/patches/failed-test/jsonPatch/0: tests a value that differs"), "%s", e);
	free(e);
}
END_TEST

START_TEST(one_name_per_kind)
{
	char *e = renderutil_errors(
		"{'image': {'registry': 'r.example.com', 'tag': '1.0'},"
		" 'services': {'db': {'image': {'repository': 'db'}, 'port': 5432, 'volumes': {'d': {'mountPath': '/d', 'persistent': {'size': '1Gi'}}}},"
		"   'db-headless': {'image': {'repository': 'x'}, 'port': 80},"
		"   'a': {'image': {'repository': 'a'}, 'port': 80, 'serviceAccount': {'name': 'shared'}},"
		"   'b': {'image': {'repository': 'b'}, 'port': 80, 'serviceAccount': {'name': 'shared'}}},"
		" 'extraObjects': {'svc': {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'a'},"
		"                          'spec': {'ports': [{'port': 1}]}},"
		"   'cfg': {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'shop-bundle'}}}}", NULL);
	ck_assert_msg(strstr(e, "/extraObjects/svc/metadata/name: renders the Service \"a\", which /services/a renders too"),
		      "%s", e);
	ck_assert_msg(strstr(e, "/extraObjects/cfg/metadata/name: renders the ConfigMap \"shop-bundle\", which /config renders too"),
		      "%s", e);
	ck_assert_msg(strstr(e, "/services/b/serviceAccount/name: renders the ServiceAccount \"shared\", which "
				"/services/a/serviceAccount/name renders too"), "%s", e);
	ck_assert_msg(strstr(e, "/services/db-headless: renders the Service \"db-headless\", which /services/db renders too"),
		      "%s", e);
	free(e);
}
END_TEST

/* What render_new finds is reported at once: the pod's names, patches and clashes. */
START_TEST(every_problem_at_once)
{
	char *e = renderutil_errors(
		"{'image': {'registry': 'r.example.com', 'tag': '1.0'},"
		" 'services': {'app': {'image': {'repository': 'app'}, 'port': 80,"
		"   'volumes': {'tmp': {'mountPath': '/scratch', 'emptyDir': {}}}}},"
		" 'extraObjects': {'dup': {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': 'app'}}},"
		" 'patches': {'p': {'target': {'kind': 'Secret', 'name': 'nope'}, 'merge': {}}}}", NULL);
	ck_assert_msg(strstr(e, "/services/app/volumes/tmp: "), "%s", e);
	ck_assert_msg(strstr(e, "/patches/p/target: names the Secret \"nope\""), "%s", e);
	ck_assert_msg(strstr(e, "/extraObjects/dup/metadata/name: renders the ServiceAccount \"app\""), "%s", e);
	free(e);
}
END_TEST

Suite *render_extra_suite(void)
{
	Suite *s = suite_create("render_extra");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, extra_objects);
	tcase_add_test(tc, patches_apply_in_key_order);
	tcase_add_test(tc, patch_problems);
	tcase_add_test(tc, one_name_per_kind);
	tcase_add_test(tc, every_problem_at_once);
	suite_add_tcase(s, tc);
	return s;
}

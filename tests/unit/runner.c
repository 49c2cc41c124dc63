/* runner: runs every module's Check suite; the process exits non-zero on any failure.
 * CK_RUN_SUITE=name runs one suite. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	srunner_add_suite(sr, node_suite());
	srunner_add_suite(sr, yamlout_suite());
	srunner_add_suite(sr, docview_suite());
	srunner_add_suite(sr, docmigrate_suite());
	srunner_add_suite(sr, schema_suite());
	srunner_add_suite(sr, template_suite());
	srunner_add_suite(sr, catalog_suite());
	srunner_add_suite(sr, components_suite());
	srunner_add_suite(sr, render_suite());
	srunner_add_suite(sr, render_pod_suite());
	srunner_add_suite(sr, render_workload_suite());
	srunner_add_suite(sr, render_ingress_suite());
	srunner_add_suite(sr, render_extra_suite());
	srunner_add_suite(sr, jsonpatch_suite());
	srunner_add_suite(sr, zipout_suite());
	srunner_add_suite(sr, bundle_suite());
	srunner_add_suite(sr, applysh_suite());
	srunner_add_suite(sr, model_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, http_suite());
	srunner_add_suite(sr, httpmsg_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, secretbox_suite());
	srunner_add_suite(sr, diff_suite());
	srunner_add_suite(sr, yamlin_suite());
	srunner_add_suite(sr, compose_suite());
	srunner_add_suite(sr, import_manifests_suite());
	srunner_add_suite(sr, import_score_suite());
	srunner_add_suite(sr, importkit_suite());
	srunner_add_suite(sr, cache_suite());
	srunner_add_suite(sr, syntax_suite());
	srunner_add_suite(sr, digest_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

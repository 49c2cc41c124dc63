/* suites: one Check suite per module, all run by runner.c. */
#ifndef MANIFESTD_TEST_SUITES_H
#define MANIFESTD_TEST_SUITES_H

#include <check.h>

Suite *buf_suite(void);
Suite *node_suite(void);
Suite *applysh_suite(void);
Suite *bundle_suite(void);
Suite *yamlout_suite(void);
Suite *zipout_suite(void);
Suite *render_suite(void);
Suite *render_pod_suite(void);
Suite *render_workload_suite(void);
Suite *render_ingress_suite(void);
Suite *render_extra_suite(void);
Suite *jsonpatch_suite(void);
Suite *model_suite(void);
Suite *store_suite(void);
Suite *http_suite(void);
Suite *httpmsg_suite(void);
Suite *auth_suite(void);
Suite *secretbox_suite(void);
Suite *diff_suite(void);
Suite *compose_suite(void);
Suite *yamlin_suite(void);
Suite *import_manifests_suite(void);
Suite *import_score_suite(void);
Suite *importkit_suite(void);
Suite *cache_suite(void);
Suite *syntax_suite(void);
Suite *digest_suite(void);
Suite *docview_suite(void);
Suite *docmigrate_suite(void);
Suite *schema_suite(void);
Suite *template_suite(void);
Suite *catalog_suite(void);
Suite *components_suite(void);

#endif

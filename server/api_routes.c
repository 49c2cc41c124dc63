/* api_routes: the route table the API hands the transport (http_options.routes): every
 * method and path, its handler, the body it takes and the least role that may call it. */
#include "api.h"

/* Health, metrics (route patterns and counts only), the API description and the web
 * form are public; everything that reads or writes documents needs a token. */
static const struct http_route routes[] = {
	{"GET", "/healthz", api_healthz, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/readyz", api_readyz, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/metrics", api_metrics, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/openapi.json", api_openapi, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/api/v1/schema", api_schema, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/api/v1/stacks", api_stacks_list, HTTP_BODY_NONE, AUTH_VIEWER},
	{"POST", "/api/v1/stacks", api_stacks_create, HTTP_BODY_JSON, AUTH_ADMIN},
	{"GET", "/api/v1/stacks/{stack}", api_stack_get, HTTP_BODY_NONE, AUTH_VIEWER},
	{"PUT", "/api/v1/stacks/{stack}", api_stack_put, HTTP_BODY_JSON, AUTH_ADMIN},
	{"DELETE", "/api/v1/stacks/{stack}", api_stack_delete, HTTP_BODY_NONE, AUTH_ADMIN},
	{"GET", "/api/v1/stacks/{stack}/environments", api_envs_list, HTTP_BODY_NONE, AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments", api_envs_create, HTTP_BODY_JSON, AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}", api_env_get, HTTP_BODY_NONE, AUTH_VIEWER},
	{"PUT", "/api/v1/stacks/{stack}/environments/{env}", api_env_put, HTTP_BODY_JSON, AUTH_EDITOR},
	{"PATCH", "/api/v1/stacks/{stack}/environments/{env}", api_env_patch, HTTP_BODY_MERGE_PATCH,
	 AUTH_EDITOR},
	{"DELETE", "/api/v1/stacks/{stack}/environments/{env}", api_env_delete, HTTP_BODY_NONE,
	 AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/manifests", api_manifests, HTTP_BODY_NONE,
	 AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/revisions", api_revisions_list,
	 HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/revisions/{n}", api_revision_get,
	 HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/diff", api_env_diff, HTTP_BODY_NONE,
	 AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments/{env}/diff", api_env_diff_proposed,
	 HTTP_BODY_JSON, AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments/{env}/rollback", api_env_rollback,
	 HTTP_BODY_JSON, AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/diff", api_stack_diff, HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/catalog", api_catalog_list, HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/catalog/{type}", api_catalog_get, HTTP_BODY_NONE, AUTH_VIEWER},
	{"PUT", "/api/v1/catalog/{type}", api_catalog_put, HTTP_BODY_JSON, AUTH_ADMIN},
	{"DELETE", "/api/v1/catalog/{type}", api_catalog_delete, HTTP_BODY_NONE, AUTH_ADMIN},
	{"GET", "/api/v1/catalog/{type}/revisions", api_catalog_revisions, HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/catalog/{type}/revisions/{n}", api_catalog_revision, HTTP_BODY_NONE, AUTH_VIEWER},
	/* creates a stack with ?save=1 */
	{"POST", "/api/v1/import/compose", api_import_compose, HTTP_BODY_YAML, AUTH_ADMIN},
	{"POST", "/api/v1/import/manifests", api_import_manifests, HTTP_BODY_YAML, AUTH_ADMIN},
	{"POST", "/api/v1/import/score", api_import_score, HTTP_BODY_YAML, AUTH_ADMIN},
	{"POST", "/render", api_render, HTTP_BODY_JSON, AUTH_VIEWER},
	{"GET", "/", api_static, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/{file*}", api_static, HTTP_BODY_NONE, AUTH_PUBLIC},
};

const struct http_route *api_routes(size_t *ret_count)
{
	*ret_count = sizeof routes / sizeof routes[0];
	return routes;
}

/* api: the HTTP handlers, one file per resource family (api_stacks.c, api_render.c,
 * api_health.c, api_history.c, api_import.c, api_catalog.c), and the route table that maps routes to
 * them (api_routes.c), which the API hands the transport (http_options.routes). Each
 * handler returns the status it replied with (see http.h). http_app() of every request is
 * a struct api. */
#ifndef MANIFESTD_API_H
#define MANIFESTD_API_H

#include "cache.h"
#include "http.h"
#include "store.h"

struct api {
	struct store *store;    /* borrowed */
	const char *static_dir; /* NULL: the files embedded from static/ */
	struct cache *cache;    /* borrowed; NULL: every bundle is rendered (api_render.c) */
};

/* api_routes.c: the route table (static) and its length. */
const struct http_route *api_routes(size_t *ret_count);

/* api_health.c */
int api_healthz(struct http_request *req);
int api_readyz(struct http_request *req);
int api_metrics(struct http_request *req);
int api_openapi(struct http_request *req);
/* GET /api/v1/schema: the JSON Schema of stack and environment documents (schema.h). */
int api_schema(struct http_request *req);
int api_static(struct http_request *req);

/* api_stacks.c */
int api_stacks_list(struct http_request *req);
int api_stacks_create(struct http_request *req);
int api_stack_get(struct http_request *req);
int api_stack_put(struct http_request *req);
int api_stack_delete(struct http_request *req);
int api_envs_list(struct http_request *req);
int api_envs_create(struct http_request *req);
int api_env_get(struct http_request *req);
int api_env_put(struct http_request *req);
int api_env_patch(struct http_request *req);
int api_env_delete(struct http_request *req);

/* api_render.c */
int api_manifests(struct http_request *req);
int api_render(struct http_request *req);

/* api_history.c: revisions, diffs and rollback of environments, diffs between them */
int api_revisions_list(struct http_request *req);
int api_revision_get(struct http_request *req);
int api_env_diff(struct http_request *req);
int api_env_diff_proposed(struct http_request *req);
int api_stack_diff(struct http_request *req);
int api_env_rollback(struct http_request *req);

/* api_import.c: one handler over the importers */
int api_import_compose(struct http_request *req);
int api_import_manifests(struct http_request *req);
int api_import_score(struct http_request *req);

/* api_catalog.c: the component types (docs/components.md) */
int api_catalog_list(struct http_request *req);
int api_catalog_get(struct http_request *req);
int api_catalog_put(struct http_request *req);
int api_catalog_delete(struct http_request *req);
int api_catalog_revisions(struct http_request *req);
int api_catalog_revision(struct http_request *req);

struct catalog;
struct model_errors;
/* The component types a render reads with c's transaction: the built-in ones and those
 * stored (a new catalog, or catalog_builtin(), that the caller frees with catalog_free).
 * 0 or a store error (-ENOMEM). */
int api_catalog_load(struct store_conn *c, struct catalog **ret);
/* api_stacks.c: the names of the stored stacks whose documents (the stack's or one of its
 * environments') have an instance of the component type, appended to users; with new_cat,
 * each also resolved with each of its environments under new_cat (a change from what
 * old_cat resolved checked as for any write), the problems named by stack and
 * environment appended to errs. 0, MODEL_EINVALID or a store error. */
int api_type_users(struct store_conn *c, const char *type, const struct catalog *old_cat,
		   const struct catalog *new_cat, json_t *users, struct model_errors *errs);

/* Shared by the handlers (api_stacks.c): replies with the problem that matches a store
 * error (404, 409, 412, 503, 500); what names the resource in the detail. */
int api_store_error(struct http_request *req, int err, const char *what);
/* 503 with Retry-After: 1 for a database that is unreachable (-ENOTCONN) or busy
 * (-EAGAIN). */
int api_unavailable(struct http_request *req, int err);

/* Also from api_stacks.c, for api_history.c. api_precondition checks If-Match against
 * the current record (NULL: none exists) and returns 0, or the status sent (400, 412).
 * api_keep_secrets replaces each masked secret ({"set": ...}) of doc by the value stored
 * in old (borrowed, may be NULL): 0, MODEL_EINVALID (errs filled: {"set": true} with
 * nothing stored) or -ENOMEM. api_reply_record replies with the representation of a
 * stack (env NULL) or environment record, with its ETag (and Location for 201). */
struct store_record;
struct model_errors;
int api_precondition(struct http_request *req, const struct store_record *cur);
/* Checks a new stack and environment as a write of them would: each document's shape,
 * then stack <- env resolved with the component types of cat (api_catalog_load) and
 * rendered (patches applied, one name per kind). 0, MODEL_EINVALID (errs filled) or
 * -ENOMEM. For api_import.c. */
int api_check_new(const struct catalog *cat, const char *stack_name, const json_t *stack,
		  const char *env_name, const json_t *env, struct model_errors *errs);
int api_keep_secrets(json_t *doc, const json_t *old, struct model_errors *errs);
int api_reply_record(struct http_request *req, unsigned status, const char *stack,
		     const char *env, const struct store_record *rec);

#endif

/* api: the HTTP handlers, one file per resource family (api_stacks.c, api_render.c,
 * api_health.c, api_history.c, api_import.c, api_catalog.c), and the route table that maps routes to
 * them (api_routes.c), which the API hands the transport (http_options.routes). Each
 * handler returns the status it replied with (see http.h). http_app() of every request is
 * a struct api. */
#ifndef MANIFESTD_API_H
#define MANIFESTD_API_H

#include <stdbool.h>

#include "cache.h"
#include "model.h"
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
/* {"revision", "time", "actor", "kind", "summary"} of a history row ({"kind", "revision",
 * "old", "new", "time", "actor"[, "secretChanges"]}: an environment's or a catalog type's
 * revision); a new object, NULL when out of memory. */
json_t *api_revision_item(const json_t *row);
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
 * environment appended to errs and the names of the stacks that have some appended to
 * broken (may be NULL). 0, MODEL_EINVALID or a store error. */
int api_type_users(struct store_conn *c, const char *type, const struct catalog *old_cat,
		   const struct catalog *new_cat, json_t *users, json_t *broken, struct model_errors *errs);

/* api_catalog.c: a change of the catalog as PUT and DELETE /api/v1/catalog/{type} make
 * it, shared with `manifestd catalog put|delete` (cmd_catalog.c), so both check alike. */
#define API_EUSERS (-1001) /* stacks that use the type would not be valid with the change */

struct api_type_change {
	const char *name;   /* the type (borrowed) */
	const json_t *doc;  /* its new document (borrowed); NULL: delete the stored type */
	bool if_match;      /* a precondition is given (If-Match): */
	long long expected; /* the revision the type must be at (0: built in, not stored) or
			     * STORE_ANY_REVISION (it must exist, stored or built in) */
	const char *actor;  /* for the history row (borrowed) */
};

/* What api_type_change found; api_type_result_init before, api_type_result_release after. */
struct api_type_result {
	struct model_errors errs; /* MODEL_EINVALID: the document's problems (pointers into it);
				   * API_EUSERS: the stacks' (details name stack and environment) */
	json_t *stacks;           /* API_EUSERS: the stacks that would not be valid; -EBUSY: the
				   * stacks that use the type (an array of names, owned) */
	long long current;        /* -ESTALE: the type's revision (0: built in, -1: it does not exist) */
	struct store_record rec;  /* 0 after a put: the stored type (owned) */
	bool created;             /* 0 after a put: the type was not stored before */
};
void api_type_result_init(struct api_type_result *res);
void api_type_result_release(struct api_type_result *res);

/* Makes ch in one write transaction of c (acquired, no transaction open): a put checks
 * the document (catalog_check) first; then the precondition; then every stored stack that
 * uses the type is resolved with each of its environments under the catalog as it would
 * be (for a delete: without the stored type, so with the built-in one of that name); only
 * when all of that passes is the change stored and committed. Nothing is stored otherwise.
 * 0; MODEL_EINVALID or API_EUSERS (res->errs); -ESTALE (res->current); -EBUSY (a delete
 * while stacks use a type that is not built in: res->stacks); -ENOENT (a delete of a type
 * neither stored nor built in); -EPERM (a delete of a built-in type that is not stored);
 * -ENOMEM or a store error. */
int api_type_change(struct store_conn *c, const struct api_type_change *ch, struct api_type_result *res);
/* The list GET /api/v1/catalog answers, read with c: a new array of {"name",
 * "description", "category", "source" ("builtin", "stored" or "override": stored over a
 * built-in type), "revision" and "updated" (null when not stored), "problem" (a stored
 * type that no longer compiles)}, sorted by name. 0 or a store error. */
int api_catalog_list_json(struct store_conn *c, json_t **ret_items);
/* The representation of the type name: {"name", "source", "revision" (0: built in, not
 * stored), "created", "updated" (null when not stored), "document"}, of rec (the stored
 * type, borrowed) or, with rec NULL, of the built-in type. A new object in *ret; -ENOENT
 * (rec NULL and no built-in type name) or -ENOMEM. */
int api_type_json(const char *name, const struct store_record *rec, json_t **ret);

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

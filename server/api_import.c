/* api_import: POST /api/v1/import/{compose,manifests}: a docker-compose file or Kubernetes
 * YAML (the body) turned into a stack and an environment with a report; with ?save=1 both
 * are stored, validated together first, in one transaction. One handler serves every
 * importer. */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "compose.h"
#include "import_manifests.h"
#include "import_score.h"
#include "model.h"
#include "util.h"

#define DEFAULT_STACK "imported"
#define DEFAULT_ENVIRONMENT "dev"

struct import_query {
	bool save;
	const char *stack;
	const char *env;
	bool keep_datastores; /* manifests: ?datastores=workloads */
};

/* What an importer gives: each member a new reference (or NULL before it ran). */
struct imported {
	json_t *stack;
	json_t *environment;
	json_t *report;
};

/* An importer: text (len bytes) -> *ret; 0, or -EINVAL / -E2BIG with a reason in err, or
 * -ENOMEM. q->stack is the name the stack will have. */
typedef int (*import_fn)(const char *text, size_t len, const struct import_query *q, struct buf *err,
			 struct imported *ret);

static int import_compose(const char *text, size_t len, const struct import_query *q, struct buf *err,
			  struct imported *ret)
{
	(void)q;
	struct compose_result r = {0};
	int rc = compose_import(text, len, err, &r);
	*ret = (struct imported){r.stack, r.environment, r.report};
	return rc;
}

static int import_k8s(const char *text, size_t len, const struct import_query *q, struct buf *err,
		      struct imported *ret)
{
	struct import_manifests_result r = {0};
	const struct import_manifests_opts opts = {.keep_datastores = q->keep_datastores};
	int rc = import_manifests(text, len, q->stack, &opts, err, &r);
	*ret = (struct imported){r.stack, r.environment, r.report};
	return rc;
}

static int import_score_fn(const char *text, size_t len, const struct import_query *q, struct buf *err,
			   struct imported *ret)
{
	(void)q;
	struct import_score_result r = {0};
	int rc = import_score(text, len, err, &r);
	*ret = (struct imported){r.stack, r.environment, r.report};
	return rc;
}

static void imported_release(struct imported *r)
{
	json_decref(r->stack);
	json_decref(r->environment);
	json_decref(r->report);
	*r = (struct imported){0};
}

/* Reads ?save, ?stack, ?environment (and, with datastores, ?datastores: components or
 * workloads); 0 or the status sent (400). */
static int parse_query(struct http_request *req, bool datastores, struct import_query *q)
{
	const char *ds = datastores ? http_query(req, "datastores") : NULL;
	if (ds && strcmp(ds, "components") != 0 && strcmp(ds, "workloads") != 0)
		return http_reply_problem(req, 400, NULL, NULL, "datastores must be components or workloads, got '%s'", ds);
	q->keep_datastores = ds && strcmp(ds, "workloads") == 0;
	const char *save = http_query(req, "save");
	q->save = save && (strcmp(save, "1") == 0 || strcmp(save, "true") == 0);
	if (save && !q->save && strcmp(save, "0") != 0 && strcmp(save, "false") != 0)
		return http_reply_problem(req, 400, NULL, NULL, "save must be 1 or 0, got '%s'", save);
	q->stack = http_query(req, "stack");
	q->env = http_query(req, "environment");
	if (q->save && !q->stack)
		return http_reply_problem(req, 400, NULL, NULL, "save=1 needs the name of the new stack: ?stack=NAME");
	if (!q->stack)
		q->stack = DEFAULT_STACK;
	if (!q->env)
		q->env = DEFAULT_ENVIRONMENT;
	if (!util_is_dns_label(q->stack) || !util_is_dns_label(q->env))
		return http_reply_problem(req, 400, NULL, NULL,
					  "stack and environment must be DNS labels (lowercase letters, digits and '-', at most 63 characters)");
	return 0;
}

/* Checks the result as a store would (api_check_new): each document's shape, then stack <-
 * environment resolved with the stored catalog and rendered. 0, MODEL_EINVALID (errs
 * filled) or a store error. */
static int validate(struct http_request *req, const struct import_query *q, const struct imported *res,
		    struct model_errors *errs)
{
	struct store_conn *c = NULL;
	struct catalog *cat = NULL;
	int r = store_acquire(((struct api *)http_app(req))->store, &c);
	if (r == 0)
		r = api_catalog_load(c, &cat);
	store_release(c);
	if (r == 0)
		r = api_check_new(cat, q->stack, res->stack, q->env, res->environment, errs);
	catalog_free(cat);
	return r;
}

/* {"stack", "environment", "report"} of res (references copied). */
static json_t *result_json(const struct imported *res)
{
	return json_pack("{s:O, s:O, s:O}", "stack", res->stack, "environment", res->environment,
			 "report", res->report);
}

static int save(struct http_request *req, const struct import_query *q,
		const struct imported *res)
{
	struct store_conn *c = NULL;
	const char *actor = http_actor(req);
	int r = store_acquire(((struct api *)http_app(req))->store, &c);
	if (r == 0)
		r = store_begin(c);
	if (r == 0)
		r = store_stack_create(c, q->stack, res->stack, actor, NULL);
	if (r == 0)
		r = store_env_create(c, q->stack, q->env, res->environment, actor, NULL);
	if (r == 0)
		r = store_commit(c);
	store_release(c);
	if (r < 0) {
		struct buf what;
		buf_init(&what, 512);
		(void)buf_printf(&what, "stack '%s'", q->stack);
		int status = api_store_error(req, r, buf_cstr(&what));
		buf_release(&what);
		return status;
	}
	json_t *body = result_json(res);
	if (body)
		(void)json_object_set_new(body, "saved", json_pack("{s:s, s:s}", "stack", q->stack,
								   "environment", q->env));
	int status = http_reply_json(req, 201, body);
	struct buf loc;
	buf_init(&loc, 1024);
	if (buf_printf(&loc, "/api/v1/stacks/%s", q->stack) == 0)
		(void)http_add_header(req, "Location", buf_cstr(&loc));
	buf_release(&loc);
	return status;
}

static int import_with(struct http_request *req, import_fn run, bool datastores)
{
	struct import_query q = {0};
	int status = parse_query(req, datastores, &q);
	if (status)
		return status;
	size_t len = 0;
	const char *text = http_body_data(req, &len);
	struct buf err;
	buf_init(&err, 4096);
	struct imported res = {0};
	struct model_errors errs;
	model_errors_init(&errs);
	int r = run(text, len, &q, &err, &res);
	if (r == -EINVAL || r == -E2BIG) {
		status = http_reply_problem(req, 422, NULL, NULL, "%s", buf_cstr(&err));
		goto out;
	}
	if (r == 0)
		r = validate(req, &q, &res, &errs);
	if (r < 0 && r != MODEL_EINVALID) {
		status = http_reply_problem(req, 500, NULL, NULL, "cannot import (%s)", strerror(-r));
	} else if (r == MODEL_EINVALID && q.save) {
		status = http_reply_problem(req, 422, model_errors_json(&errs), result_json(&res),
					    "the imported stack is not valid: %zu problem%s; nothing was stored",
					    errs.count, errs.count == 1 ? "" : "s");
	} else if (q.save) {
		status = save(req, &q, &res);
	} else {
		json_t *body = result_json(&res);
		if (body && r == MODEL_EINVALID)
			(void)json_object_set_new(body, "errors", model_errors_json(&errs));
		status = http_reply_json(req, 200, body);
	}
out:
	imported_release(&res);
	model_errors_release(&errs);
	buf_release(&err);
	return status;
}

int api_import_compose(struct http_request *req)
{
	return import_with(req, import_compose, false);
}

int api_import_manifests(struct http_request *req)
{
	return import_with(req, import_k8s, true);
}

int api_import_score(struct http_request *req)
{
	return import_with(req, import_score_fn, false);
}

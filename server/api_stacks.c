/* api_stacks: the stacks and environments resources: list, read, create, replace, merge
 * patch, delete. Every write is validated (model_check_shape + model_resolve of stack <-
 * environment) and stored in one transaction with If-Match compare-and-set. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "model.h"
#include "render.h"
#include "util.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

enum write_kind { WRITE_CREATE, WRITE_PUT, WRITE_PATCH };

static struct store *app_store(struct http_request *req)
{
	return ((struct api *)http_app(req))->store;
}

int api_store_error(struct http_request *req, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		return http_reply_problem(req, 404, NULL, NULL, "%s does not exist", what);
	case -EEXIST:
		return http_reply_problem(req, 409, NULL, NULL, "%s already exists", what);
	case -ENOTEMPTY:
		return http_reply_problem(req, 409, NULL, NULL,
					  "%s still has environments: delete them first or use ?force=1",
					  what);
	case -ENOMEM:
		return http_reply_problem(req, 500, NULL, NULL, "out of memory");
	case -ENOTCONN:
	case -EAGAIN:
		return api_unavailable(req, err);
	default:
		return http_reply_problem(req, 500, NULL, NULL, "the database failed (%s)",
					  strerror(-err));
	}
}

int api_unavailable(struct http_request *req, int err)
{
	int status = http_reply_problem(req, 503, NULL, NULL, err == -ENOTCONN
					? "the database is unreachable: retry in a moment"
					: "the database is busy: retry in a moment");
	(void)http_add_header(req, "Retry-After", "1");
	return status;
}

static int reply_invalid(struct http_request *req, const struct model_errors *errs)
{
	return http_reply_problem(req, 422, model_errors_json(errs), NULL,
				  "the document is not valid: %zu problem%s", errs->count,
				  errs->count == 1 ? "" : "s");
}

static int reply_model_error(struct http_request *req, int r, const struct model_errors *errs)
{
	if (r == MODEL_EINVALID)
		return reply_invalid(req, errs);
	return http_reply_problem(req, 500, NULL, NULL, "cannot process the document (%s)",
				  strerror(r < 0 ? -r : EIO));
}

/* "stack 'x'" or "environment 'x' of stack 'y'", into what. */
static void describe(struct buf *what, const char *stack, const char *env)
{
	if (env)
		(void)buf_printf(what, "environment '%s' of stack '%s'", env, stack);
	else
		(void)buf_printf(what, "stack '%s'", stack);
}

static int store_error(struct http_request *req, int err, const char *stack, const char *env)
{
	struct buf what;
	buf_init(&what, 512);
	describe(&what, stack, env);
	int status = api_store_error(req, err, buf_cstr(&what));
	buf_release(&what);
	return status;
}

/* The resource representation; NULL on allocation failure. */
static json_t *representation(const char *name, const char *stack, const struct store_record *rec)
{
	json_t *masked = model_mask_secrets(rec->document);
	if (!masked)
		return NULL;
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:o}", "name", name, "revision",
			      (json_int_t)rec->revision, "created", rec->created, "updated",
			      rec->updated, "document", masked);
	if (o && stack && json_object_set_new(o, "stack", json_string(stack)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void add_etag(struct http_request *req, long long revision)
{
	struct buf b;
	buf_init(&b, 32);
	if (buf_printf(&b, "\"%lld\"", revision) == 0)
		(void)http_add_header(req, "ETag", buf_cstr(&b));
	buf_release(&b);
}

static int reply_record(struct http_request *req, unsigned status, const char *stack,
			const char *env, const struct store_record *rec)
{
	json_t *o = env ? representation(env, stack, rec) : representation(stack, NULL, rec);
	status = (unsigned)http_reply_json(req, status, o);
	add_etag(req, rec->revision);
	if (status == 201) {
		struct buf loc;
		buf_init(&loc, 1024);
		if (env)
			(void)buf_printf(&loc, "/api/v1/stacks/%s/environments/%s", stack, env);
		else
			(void)buf_printf(&loc, "/api/v1/stacks/%s", stack);
		(void)http_add_header(req, "Location", buf_cstr(&loc));
		buf_release(&loc);
	}
	return (int)status;
}

/* The revision asked for by If-Match: STORE_ANY_REVISION when absent or "*".
 * 0, or -EINVAL (malformed). *ret_given tells whether the header was there. */
static int if_match(struct http_request *req, long long *ret, bool *ret_given)
{
	const char *h = http_header(req, "If-Match");
	*ret_given = h != NULL;
	if (!h) {
		*ret = STORE_ANY_REVISION;
		return 0;
	}
	long long v;
	if (http_parse_revision_tag(h, 1, &v) < 0)
		return -EINVAL;
	*ret = v < 0 ? STORE_ANY_REVISION : v;
	return 0;
}

/* Checks If-Match against the current record (NULL: none exists). 0, or the status sent. */
static int precondition(struct http_request *req, const struct store_record *cur)
{
	long long want;
	bool given;
	if (if_match(req, &want, &given) < 0)
		return http_reply_problem(req, 400, NULL, NULL,
					  "If-Match must be one entity tag such as \"3\" or *");
	if (!given)
		return 0;
	if (!cur)
		return http_reply_problem(req, 412, NULL, NULL,
					  "If-Match was given but the resource does not exist");
	if (want != STORE_ANY_REVISION && want != cur->revision)
		return http_reply_problem(req, 412, NULL,
					  json_pack("{s:I}", "currentRevision", (json_int_t)cur->revision),
					  "the resource is at revision %lld, not %lld: read it again and retry",
					  cur->revision, want);
	return 0;
}

/* ---- secrets ---- */

/* true when v is the masked form {"set": true|false} that a GET returned. */
static bool is_masked_secret(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	       json_is_boolean(json_object_get(v, "set"));
}

/* In doc (a new document for a resource), replaces every masked secret by the value
 * stored in old (NULL: none). {"set": false} without a stored value becomes "". */
static int keep_secrets(json_t *doc, const json_t *old, struct model_errors *errs)
{
	json_t *secrets = json_object_get(doc, "secrets");
	json_t *stored = json_object_get(old, "secrets");
	const char *key;
	json_t *v;
	if (!json_is_object(secrets))
		return 0;
	json_object_foreach(secrets, key, v) {
		if (!is_masked_secret(v))
			continue;
		json_t *keep = json_object_get(stored, key);
		if (keep && json_is_string(keep)) {
			if (json_object_set(secrets, key, keep) < 0)
				return -ENOMEM;
		} else if (!json_is_true(json_object_get(v, "set"))) {
			if (json_object_set_new(secrets, key, json_string("")) < 0)
				return -ENOMEM;
		} else {
			struct buf ptr;
			buf_init(&ptr, 1024);
			(void)buf_printf(&ptr, "/secrets/%s", key);
			int r = model_errors_add(errs, buf_cstr(&ptr),
						 "is {\"set\": true} but no value is stored: give the value as a string");
			buf_release(&ptr);
			if (r < 0)
				return r;
		}
	}
	return errs->count ? MODEL_EINVALID : 0;
}

/* Removes from a merge patch the secrets given in masked form (they keep their value). */
static void drop_masked_secrets(json_t *patch)
{
	json_t *secrets = json_object_get(patch, "secrets");
	const char *key;
	json_t *v;
	void *tmp;
	if (!json_is_object(secrets))
		return;
	json_object_foreach_safe(secrets, tmp, key, v)
		if (is_masked_secret(v))
			(void)json_object_del(secrets, key);
}

/* ---- validation ---- */

static int check_name(const char *name, const char *pointer, struct model_errors *errs)
{
	if (name && util_is_dns_label(name))
		return 0;
	int r = model_errors_add(errs, pointer,
				 "must be a DNS label: lowercase letters, digits and '-', at most 63 characters");
	return r < 0 ? r : MODEL_EINVALID;
}

/* The stack and environment documents an environment resolved from before a write; both
 * NULL when it is new; and the catalog they resolved with (NULL: the one of the write). */
struct before {
	const json_t *stack;
	const json_t *env;
	const struct catalog *cat;
};

/* What a render of stack <- env would refuse: model_resolve's problems, render_new's
 * (patches, objects of one kind with one name), then a change to what runs Kubernetes
 * refuses (was, may be NULL); what deserves a warning goes to warns (may be NULL). A pair
 * of names render cannot take (-EINVAL: "<stack>-<env>" too long for a label) is not a
 * problem of the documents. */
static int resolve_check(const struct catalog *cat, const char *stack_name, const json_t *stack,
			 const char *env_name, const json_t *env, const struct before *was,
			 struct model_errors *errs, struct model_errors *warns)
{
	json_t *resolved = NULL;
	struct render *rd = NULL;
	int r = model_resolve_in(cat, stack_name, stack, env_name, env, NULL, errs, &resolved);
	struct render_meta meta = {stack_name, env_name, 0};
	if (r == 0 && (r = render_new(resolved, &meta, errs, &rd)) == -EINVAL)
		r = 0;
	render_free(rd);
	if (r == 0)
		r = model_check_change(was && was->cat ? was->cat : cat, stack_name, was ? was->stack : NULL,
				       env_name, was ? was->env : NULL, resolved, errs);
	if (r == 0 && warns)
		r = model_warnings(resolved, warns);
	json_decref(resolved);
	return r;
}

int api_check_new(const struct catalog *cat, const char *stack_name, const json_t *stack, const char *env_name,
		  const json_t *env, struct model_errors *errs)
{
	int r = model_check_shape(stack, errs);
	if (r == 0)
		r = model_check_shape(env, errs);
	if (r == 0)
		r = resolve_check(cat, stack_name, stack, env_name, env, NULL, errs, NULL);
	return r;
}

static int validate_env(const struct catalog *cat, const char *stack_name, const json_t *stack,
			const char *env_name, const json_t *env, const struct before *was,
			struct model_errors *errs, struct model_errors *warns)
{
	int r = model_check_shape(env, errs);
	if (r == 0)
		r = resolve_check(cat, stack_name, stack, env_name, env, was, errs, warns);
	return r;
}

/* One "Warning: 299 - "POINTER: detail"" header per warning (RFC 9110 quoted-string,
 * as the Kubernetes API server sends them); a warning that cannot be added is dropped. */
static void add_warnings(struct http_request *req, const struct model_errors *warns)
{
	for (size_t i = 0; i < warns->count; i++) {
		struct buf v;
		buf_init(&v, 4096);
		int r = BUF_PUTS(&v, "299 - \"", warns->items[i].pointer, ": ");
		for (const char *c = warns->items[i].detail; r == 0 && *c; c++)
			r = *c == '"' || *c == '\\' ? BUF_PUTS(&v, "\\", (char[]){*c, '\0'})
			    : (unsigned char)*c < ' ' ? 0 : buf_append(&v, c, 1);
		if (r == 0 && buf_puts(&v, "\"") == 0)
			(void)http_add_header(req, "Warning", buf_cstr(&v));
		buf_release(&v);
	}
}

/* Errors found while resolving with environment env get its name in front. */
static int prefix_errors(struct model_errors *errs, size_t from, const char *env)
{
	for (size_t i = from; i < errs->count; i++) {
		struct buf d;
		buf_init(&d, BUF_NO_MAX);
		if (buf_printf(&d, "with environment '%s': %s", env, errs->items[i].detail) < 0)
			return -ENOMEM;
		free(errs->items[i].detail);
		errs->items[i].detail = buf_detach(&d, NULL);
		if (!errs->items[i].detail)
			return -ENOMEM;
	}
	return 0;
}

/* A stack is valid when it resolves with each of its environments; with none, it is
 * resolved as if every secret it declares were set (secret values are what environments
 * supply, so a stack may leave them empty). */
static int validate_stack(struct store_conn *c, const struct catalog *cat, const struct catalog *old_cat,
			  const char *name, const json_t *doc, const json_t *old_doc, struct model_errors *errs)
{
	json_t *envs = NULL, *placeholder = NULL;
	int r = model_check_shape(doc, errs);
	if (r == 0 && c)
		r = store_env_documents(c, name, &envs);
	if (r < 0)
		goto out;
	if (json_object_size(envs) == 0) {
		placeholder = json_pack("{s:{}}", "secrets");
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(doc, "secrets"), key, v)
			if (model_secrets_inline(doc))
				(void)json_object_set_new(json_object_get(placeholder, "secrets"), key,
							  json_string("placeholder"));
		r = resolve_check(cat, name, doc, "placeholder", placeholder, NULL, errs, NULL);
		goto out;
	}
	const char *env;
	json_t *env_doc;
	json_object_foreach(envs, env, env_doc) {
		size_t before = errs->count;
		struct before was = {old_doc, env_doc, old_cat};
		int e = resolve_check(cat, name, doc, env, env_doc, &was, errs, NULL);
		if (e != 0 && e != MODEL_EINVALID) {
			r = e;
			goto out;
		}
		if (e == MODEL_EINVALID && (r = prefix_errors(errs, before, env)) < 0)
			goto out;
	}
	r = errs->count ? MODEL_EINVALID : 0;
out:
	json_decref(envs);
	json_decref(placeholder);
	return r;
}

/* Checks that body (an object) has only the members named in allowed (NULL-terminated). */
static int check_members(const json_t *body, const char *const *allowed, struct model_errors *errs)
{
	if (!json_is_object(body)) {
		int r = model_errors_add(errs, "", "must be a JSON object");
		return r < 0 ? r : MODEL_EINVALID;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (allowed[i])
			continue;
		struct buf ptr;
		buf_init(&ptr, 1024);
		(void)buf_printf(&ptr, "/%s", key);
		int r = model_errors_add(errs, buf_cstr(&ptr), "is not a known field");
		buf_release(&ptr);
		if (r < 0)
			return r;
	}
	return errs->count ? MODEL_EINVALID : 0;
}

/* The checks of every create body: only the allowed members, and "name" a DNS label.
 * 0, MODEL_EINVALID (errs filled; the caller goes on with its own checks) or -ENOMEM. */
static int check_create_body(const json_t *body, const char *const *allowed,
			     struct model_errors *errs)
{
	int r = check_members(body, allowed, errs);
	if (r == 0 || r == MODEL_EINVALID) {
		int n = check_name(json_string_value(json_object_get(body, "name")), "/name", errs);
		if (n < 0 && n != MODEL_EINVALID)
			r = n;
	}
	return r;
}

/* ---- stacks ---- */

int api_stacks_list(struct http_request *req)
{
	struct store_conn *c = NULL;
	json_t *items = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_stack_list(c, &items);
	store_release(c);
	if (r < 0)
		return api_store_error(req, r, "the stack list");
	return http_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

int api_stack_get(struct http_request *req)
{
	const char *name = http_param(req, 0);
	struct store_conn *c = NULL;
	struct store_record rec = {0};
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_stack_get(c, name, &rec);
	store_release(c);
	int status = r < 0 ? store_error(req, r, name, NULL) : reply_record(req, 200, name, NULL, &rec);
	store_record_release(&rec);
	return status;
}

/* Creates (WRITE_CREATE) or replaces (WRITE_PUT, creating when missing) a stack, in the
 * open transaction of c. 0 or the status sent (which may be the success reply). */
static int stack_write(struct http_request *req, struct store_conn *c, const char *name,
		       const json_t *body, enum write_kind kind)
{
	struct store_record old = {0}, rec = {0};
	struct model_errors errs;
	struct catalog *cat = NULL;
	model_errors_init(&errs);
	json_t *doc = NULL;
	int status, r = store_stack_get(c, name, &old);
	bool exists = r == 0;
	if (r < 0 && r != -ENOENT) {
		status = store_error(req, r, name, NULL);
		goto out;
	}
	if (exists && kind == WRITE_CREATE) {
		status = store_error(req, -EEXIST, name, NULL);
		goto out;
	}
	if ((status = precondition(req, exists ? &old : NULL)) != 0)
		goto out;
	doc = json_deep_copy(body);
	r = doc ? keep_secrets(doc, exists ? old.document : NULL, &errs) : -ENOMEM;
	if (r == 0)
		r = api_catalog_load(c, &cat);
	if (r == 0)
		r = validate_stack(c, cat, NULL, name, doc, exists ? old.document : NULL, &errs);
	if (r < 0) {
		status = reply_model_error(req, r, &errs);
		goto out;
	}
	r = exists ? store_stack_update(c, name, doc, old.revision, http_actor(req), &rec)
		   : store_stack_create(c, name, doc, http_actor(req), &rec);
	if (r == 0)
		r = store_commit(c);
	status = r < 0 ? store_error(req, r, name, NULL)
		       : reply_record(req, exists ? 200 : 201, name, NULL, &rec);
out:
	json_decref(doc);
	catalog_free(cat);
	model_errors_release(&errs);
	store_record_release(&old);
	store_record_release(&rec);
	return status;
}

/* Runs write in a write transaction; replies 500 when the database cannot start one. */
static int in_transaction(struct http_request *req,
			  int (*write)(struct http_request *req, struct store_conn *c, void *arg),
			  void *arg)
{
	struct store_conn *c = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin(c);
	int status = r < 0 ? api_store_error(req, r, "the database") : write(req, c, arg);
	store_release(c); /* rolls back anything not committed */
	return status;
}

struct stack_args {
	const char *name;
	const json_t *doc;
	enum write_kind kind;
};

static int stack_write_cb(struct http_request *req, struct store_conn *c, void *arg)
{
	struct stack_args *a = arg;
	return stack_write(req, c, a->name, a->doc, a->kind);
}

int api_stacks_create(struct http_request *req)
{
	static const char *const allowed[] = {"name", "document", NULL};
	const json_t *body = http_json_body(req);
	struct model_errors errs;
	model_errors_init(&errs);
	int r = check_create_body(body, allowed, &errs);
	const char *name = json_string_value(json_object_get(body, "name"));
	const json_t *doc = json_object_get(body, "document");
	if (r == 0 || r == MODEL_EINVALID) {
		if (!json_is_object(doc) &&
		    model_errors_add(&errs, "/document", "is required: the stack document, an object") < 0)
			r = -ENOMEM;
		if (r == 0 && errs.count)
			r = MODEL_EINVALID;
	}
	int status;
	if (r < 0)
		status = reply_model_error(req, r, &errs);
	else
		status = in_transaction(req, stack_write_cb,
					&(struct stack_args){name, doc, WRITE_CREATE});
	model_errors_release(&errs);
	return status;
}

int api_stack_put(struct http_request *req)
{
	const char *name = http_param(req, 0);
	struct model_errors errs;
	model_errors_init(&errs);
	int status;
	int r = check_name(name, "", &errs);
	if (r < 0)
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "the stack name '%s' is not a DNS label", name);
	else
		status = in_transaction(req, stack_write_cb,
					&(struct stack_args){name, http_json_body(req), WRITE_PUT});
	model_errors_release(&errs);
	return status;
}

/* What a DELETE removes: a stack (env NULL; its environments too when forced) or one
 * environment of it. */
struct delete_args {
	const char *stack;
	const char *env;
	bool forced;
};

/* Deletes the row at its current revision when the request's preconditions hold: 204. */
static int delete_cb(struct http_request *req, struct store_conn *c, void *arg)
{
	const struct delete_args *a = arg;
	struct store_record cur = {0};
	int status, r = a->env ? store_env_get(c, a->stack, a->env, &cur)
			       : store_stack_get(c, a->stack, &cur);
	if (r < 0) {
		status = store_error(req, r, a->stack, a->env);
		goto out;
	}
	if ((status = precondition(req, &cur)) != 0)
		goto out;
	r = a->env ? store_env_delete(c, a->stack, a->env, cur.revision, http_actor(req))
		   : store_stack_delete(c, a->stack, cur.revision, a->forced, http_actor(req));
	if (r == 0)
		r = store_commit(c);
	status = r < 0 ? store_error(req, r, a->stack, a->env) : http_reply_empty(req, 204);
out:
	store_record_release(&cur);
	return status;
}

int api_stack_delete(struct http_request *req)
{
	const char *force = http_query(req, "force");
	struct delete_args a = {
		.stack = http_param(req, 0),
		.forced = force && (strcmp(force, "1") == 0 || strcmp(force, "true") == 0),
	};
	return in_transaction(req, delete_cb, &a);
}

/* ---- environments ---- */

int api_envs_list(struct http_request *req)
{
	const char *stack = http_param(req, 0);
	const char *limit_s = http_query(req, "limit");
	const char *cursor = http_query(req, "cursor");
	long long limit = LIST_DEFAULT;
	if (limit_s && util_parse_int(limit_s, 1, LIST_MAX, &limit) < 0)
		return http_reply_problem(req, 400, NULL, NULL,
					  "limit must be an integer from 1 to %d", LIST_MAX);
	struct store_conn *c = NULL;
	json_t *items = NULL;
	bool more = false;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_env_list(c, stack, cursor && *cursor ? cursor : NULL, (size_t)limit, &items,
				   &more);
	store_release(c);
	if (r < 0)
		return store_error(req, r, stack, NULL);
	json_t *last = json_array_get(items, json_array_size(items) - 1);
	json_t *next = more && last ? json_incref(json_object_get(last, "name")) : json_null();
	return http_reply_json(req, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

int api_env_get(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	struct store_conn *c = NULL;
	struct store_record rec = {0};
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_env_get(c, stack, env, &rec);
	store_release(c);
	int status = r < 0 ? store_error(req, r, stack, env) : reply_record(req, 200, stack, env, &rec);
	store_record_release(&rec);
	return status;
}

struct env_args {
	const char *stack;
	const char *name;
	const json_t *body; /* document, merge patch, or NULL with from */
	const char *from;
	enum write_kind kind;
};

/* The new document of an environment write, a new reference in *ret. 0, or the status
 * sent. */
static int env_document(struct http_request *req, struct store_conn *c,
			const struct env_args *a, const struct store_record *old,
			struct model_errors *errs, json_t **ret)
{
	json_t *doc = NULL, *patch = NULL;
	int r, status = 0;
	if (a->from) {
		struct store_record src = {0};
		r = store_env_get(c, a->stack, a->from, &src);
		if (r < 0)
			return store_error(req, r, a->stack, a->from);
		doc = json_incref(src.document);
		store_record_release(&src);
	} else if (a->kind == WRITE_PATCH) {
		doc = json_deep_copy(old->document);
		patch = json_deep_copy(a->body);
		if (!doc || !patch)
			goto nomem;
		drop_masked_secrets(patch);
		if (model_merge_patch(&doc, patch) < 0)
			goto nomem;
	} else {
		doc = json_deep_copy(a->body);
		if (!doc)
			goto nomem;
		r = keep_secrets(doc, old ? old->document : NULL, errs);
		if (r < 0) {
			status = reply_model_error(req, r, errs);
			goto fail;
		}
	}
	json_decref(patch);
	*ret = doc;
	return 0;
nomem:
	status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
fail:
	json_decref(doc);
	json_decref(patch);
	return status;
}

static int env_write_cb(struct http_request *req, struct store_conn *c, void *arg)
{
	const struct env_args *a = arg;
	struct store_record stack = {0}, old = {0}, rec = {0};
	struct model_errors errs, warns;
	struct catalog *cat = NULL;
	model_errors_init(&errs);
	model_errors_init(&warns);
	json_t *doc = NULL;
	int status, r = store_stack_get(c, a->stack, &stack);
	if (r < 0) {
		status = store_error(req, r, a->stack, NULL);
		goto out;
	}
	r = store_env_get(c, a->stack, a->name, &old);
	bool exists = r == 0;
	if ((r < 0 && r != -ENOENT) || (exists && a->kind == WRITE_CREATE) ||
	    (!exists && a->kind == WRITE_PATCH)) {
		status = store_error(req, exists ? -EEXIST : r, a->stack, a->name);
		goto out;
	}
	if ((status = precondition(req, exists ? &old : NULL)) != 0)
		goto out;
	if ((status = env_document(req, c, a, exists ? &old : NULL, &errs, &doc)) != 0)
		goto out;
	struct before was = {stack.document, exists ? old.document : NULL, NULL};
	r = api_catalog_load(c, &cat);
	if (r == 0)
		r = validate_env(cat, a->stack, stack.document, a->name, doc, &was, &errs, &warns);
	if (r < 0) {
		status = reply_model_error(req, r, &errs);
		goto out;
	}
	r = exists ? store_env_update(c, a->stack, a->name, doc, old.revision, http_actor(req), &rec)
		   : store_env_create(c, a->stack, a->name, doc, http_actor(req), &rec);
	if (r == 0)
		r = store_commit(c);
	status = r < 0 ? store_error(req, r, a->stack, a->name)
		       : reply_record(req, exists ? 200 : 201, a->stack, a->name, &rec);
	if (r == 0)
		add_warnings(req, &warns);
out:
	json_decref(doc);
	catalog_free(cat);
	model_errors_release(&errs);
	model_errors_release(&warns);
	store_record_release(&stack);
	store_record_release(&old);
	store_record_release(&rec);
	return status;
}

int api_envs_create(struct http_request *req)
{
	static const char *const allowed[] = {"name", "document", "from", NULL};
	const json_t *body = http_json_body(req);
	struct model_errors errs;
	model_errors_init(&errs);
	int r = check_create_body(body, allowed, &errs);
	const char *name = json_string_value(json_object_get(body, "name"));
	const json_t *doc = json_object_get(body, "document");
	const json_t *from = json_object_get(body, "from");
	if (r == 0 || r == MODEL_EINVALID) {
		if ((doc != NULL) == (from != NULL) &&
		    model_errors_add(&errs, "", "give exactly one of \"document\" (an object) and \"from\" (an environment name)") < 0)
			r = -ENOMEM;
		else if (from && !json_is_string(from) &&
			 model_errors_add(&errs, "/from", "must be the name of an environment of the stack") < 0)
			r = -ENOMEM;
		if (r == 0 && errs.count)
			r = MODEL_EINVALID;
	}
	int status;
	if (r < 0) {
		status = reply_model_error(req, r, &errs);
	} else {
		struct env_args a = {http_param(req, 0), name, doc, json_string_value(from), WRITE_CREATE};
		status = in_transaction(req, env_write_cb, &a);
	}
	model_errors_release(&errs);
	return status;
}

static int env_put_or_patch(struct http_request *req, enum write_kind kind)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	struct model_errors errs;
	model_errors_init(&errs);
	int status;
	if (check_name(env, "", &errs) < 0) {
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "the environment name '%s' is not a DNS label", env);
	} else if (!json_is_object(http_json_body(req))) {
		(void)model_errors_add(&errs, "", "must be a JSON object");
		status = reply_invalid(req, &errs);
	} else {
		struct env_args a = {stack, env, http_json_body(req), NULL, kind};
		status = in_transaction(req, env_write_cb, &a);
	}
	model_errors_release(&errs);
	return status;
}

int api_env_put(struct http_request *req)
{
	return env_put_or_patch(req, WRITE_PUT);
}

int api_env_patch(struct http_request *req)
{
	return env_put_or_patch(req, WRITE_PATCH);
}

int api_env_delete(struct http_request *req)
{
	struct delete_args a = {.stack = http_param(req, 0), .env = http_param(req, 1)};
	return in_transaction(req, delete_cb, &a);
}

/* ---- shared with api_history.c (see api.h) ---- */

int api_precondition(struct http_request *req, const struct store_record *cur)
{
	return precondition(req, cur);
}

int api_keep_secrets(json_t *doc, const json_t *old, struct model_errors *errs)
{
	return keep_secrets(doc, old, errs);
}

int api_reply_record(struct http_request *req, unsigned status, const char *stack,
		     const char *env, const struct store_record *rec)
{
	return reply_record(req, status, stack, env, rec);
}

/* ---- the stacks of a component type (api_catalog.c) ---- */

/* Whether doc's /components has an instance of type. */
static bool uses_type(const json_t *doc, const char *type)
{
	const char *name;
	json_t *inst;
	json_object_foreach(json_object_get(doc, "components"), name, inst) {
		const char *t = json_string_value(json_object_get(inst, "type"));
		if (t && strcmp(t, type) == 0)
			return true;
	}
	return false;
}

/* Problems from index from on get "stack 'name': " in front. */
static int prefix_stack(struct model_errors *errs, size_t from, const char *name)
{
	for (size_t i = from; i < errs->count; i++) {
		struct buf d;
		buf_init(&d, BUF_NO_MAX);
		char *detail = BUF_PUTS(&d, "stack '", name, "': ", errs->items[i].detail) == 0 ? buf_detach(&d, NULL) : NULL;
		buf_release(&d);
		if (!detail)
			return -ENOMEM;
		free(errs->items[i].detail);
		errs->items[i].detail = detail;
	}
	return 0;
}

int api_type_users(struct store_conn *c, const char *type, const struct catalog *old_cat,
		   const struct catalog *new_cat, json_t *users, json_t *broken, struct model_errors *errs)
{
	json_t *items = NULL;
	int r = store_stack_list(c, &items);
	size_t i;
	json_t *item;
	json_array_foreach(r == 0 ? items : NULL, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		struct store_record rec = {0};
		json_t *envs = NULL;
		r = store_stack_get(c, name, &rec);
		if (r == 0)
			r = store_env_documents(c, name, &envs);
		bool used = r == 0 && uses_type(rec.document, type);
		const char *env;
		json_t *doc;
		json_object_foreach(r == 0 && !used ? envs : NULL, env, doc)
			used |= uses_type(doc, type);
		if (r == 0 && used)
			r = json_array_append(users, json_object_get(item, "name")) ? -ENOMEM : 0;
		size_t before = errs->count;
		if (r == 0 && used && new_cat) {
			r = validate_stack(c, new_cat, old_cat, name, rec.document, rec.document, errs);
			r = r == MODEL_EINVALID ? prefix_stack(errs, before, name) : r;
			if (r == 0 && errs->count > before && broken)
				r = json_array_append(broken, json_object_get(item, "name")) ? -ENOMEM : 0;
		}
		json_decref(envs);
		store_record_release(&rec);
		if (r < 0)
			break;
	}
	json_decref(items);
	return r < 0 ? r : errs->count ? MODEL_EINVALID : 0;
}

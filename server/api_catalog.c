/* api_catalog: the component types of the catalog (docs/components.md): the list, a type's
 * document, storing one (admin; If-Match; checked; every stored stack that uses it
 * resolved again), deleting one, and the revisions of a stored type; and the catalog the
 * other handlers resolve with (api_catalog_load). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "model.h"
#include "util.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000

static struct store *app_store(struct http_request *req)
{
	return ((struct api *)http_app(req))->store;
}

int api_catalog_load(struct store_conn *c, struct catalog **ret)
{
	json_t *stored = NULL;
	int r = store_catalog_documents(c, &stored);
	if (r == 0)
		r = catalog_new(stored, ret);
	json_decref(stored);
	return r;
}

/* "builtin" (in the binary only), "stored" (added by a platform team) or "override" (a
 * stored type that replaces the built-in one of its name). */
static const char *source_of(const char *name, bool stored)
{
	bool builtin = catalog_find(catalog_builtin(), name) != NULL;
	return !stored ? "builtin" : builtin ? "override" : "stored";
}

static json_t *list_item(const struct catalog_type *t, const json_t *row)
{
	const json_t *rev = json_object_get(row, "revision");
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "name", t->name, "description",
			      json_string_value(json_object_get(t->def, "description")) ?
				      json_string_value(json_object_get(t->def, "description")) : "",
			      "category",
			      json_string_value(json_object_get(t->def, "category")) ?
				      json_string_value(json_object_get(t->def, "category")) : "",
			      "source", source_of(t->name, row != NULL), "revision", rev ? rev : json_null(),
			      "updated", row ? json_object_get(row, "updated") : json_null());
	if (o && t->problem && json_object_set_new(o, "problem", json_string(t->problem)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int api_catalog_list(struct http_request *req)
{
	struct store_conn *c = NULL;
	struct catalog *cat = NULL;
	json_t *rows = NULL, *items = json_array();
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r == 0)
		r = store_catalog_list(c, &rows);
	if (r == 0)
		r = api_catalog_load(c, &cat);
	store_release(c);
	int status = 0;
	if (r < 0)
		status = api_store_error(req, r, "the catalog");
	for (size_t i = 0; status == 0 && i < catalog_count(cat); i++) {
		const struct catalog_type *t = catalog_at(cat, i);
		const json_t *row = NULL;
		size_t k;
		json_t *x;
		json_array_foreach(rows, k, x)
			if (!strcmp(json_string_value(json_object_get(x, "name")), t->name))
				row = x;
		if (!items || json_array_append_new(items, list_item(t, row)) < 0)
			status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
	}
	if (status == 0)
		status = http_reply_json(req, 200, json_pack("{s:O}", "items", items));
	json_decref(items);
	json_decref(rows);
	catalog_free(cat);
	return status;
}

static void add_etag(struct http_request *req, long long revision)
{
	char tag[32];
	(void)snprintf(tag, sizeof tag, "\"%lld\"", revision);
	(void)http_add_header(req, "ETag", tag);
}

/* The JSON Schema of t's params and consumer (what the web form edits), or NULL for a
 * type that does not compile. */
static json_t *type_schema(const struct catalog_type *t)
{
	if (!t || !t->params || !t->consumer)
		return NULL;
	return json_pack("{s:o, s:o}", "params", schema_node_json_schema(t->params), "consumer",
			 schema_node_json_schema(t->consumer));
}

/* The representation of a type: its name, source, revision (0: not stored), times and
 * document, and with compiled (may be NULL) the JSON Schema of its params and consumer;
 * with its ETag (the revision). */
static int reply_type(struct http_request *req, unsigned status, const char *name, const struct store_record *rec,
		      const json_t *builtin_doc, const struct catalog_type *compiled)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:O, s:o*}", "name", name, "source",
			      source_of(name, rec != NULL), "revision", (json_int_t)(rec ? rec->revision : 0), "created",
			      rec ? json_string(rec->created) : json_null(), "updated",
			      rec ? json_string(rec->updated) : json_null(), "document",
			      rec ? rec->document : builtin_doc, "schema", type_schema(compiled));
	status = (unsigned)http_reply_json(req, status, o);
	add_etag(req, rec ? rec->revision : 0);
	if (status == 201) {
		struct buf loc;
		buf_init(&loc, 512);
		if (BUF_PUTS(&loc, "/api/v1/catalog/", name) == 0)
			(void)http_add_header(req, "Location", buf_cstr(&loc));
		buf_release(&loc);
	}
	return (int)status;
}

static int type_error(struct http_request *req, int r, const char *name)
{
	struct buf what;
	buf_init(&what, 256);
	(void)BUF_PUTS(&what, "type '", name, "'");
	int status = api_store_error(req, r, buf_cstr(&what));
	buf_release(&what);
	return status;
}

int api_catalog_get(struct http_request *req)
{
	const char *name = http_param(req, 0);
	struct store_conn *c = NULL;
	struct store_record rec = {0};
	struct catalog *cat = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r == 0)
		r = store_catalog_get(c, name, &rec);
	if (r == 0 || r == -ENOENT) {
		int l = api_catalog_load(c, &cat);
		r = l < 0 ? l : r;
	}
	store_release(c);
	const struct catalog_type *builtin = catalog_find(catalog_builtin(), name);
	int status;
	if (r == -ENOENT && builtin)
		status = reply_type(req, 200, name, NULL, builtin->doc, catalog_find(cat, name));
	else if (r < 0)
		status = type_error(req, r, name);
	else
		status = reply_type(req, 200, name, &rec, NULL, catalog_find(cat, name));
	store_record_release(&rec);
	catalog_free(cat);
	return status;
}

/* If-Match against the stored revision (0: none stored): 0, or the status sent. */
static int precondition(struct http_request *req, long long current)
{
	const char *h = http_header(req, "If-Match");
	long long want;
	if (!h)
		return 0;
	if (http_parse_revision_tag(h, &want) < 0)
		return http_reply_problem(req, 400, NULL, NULL, "If-Match must be one entity tag such as \"3\" or *");
	if (want >= 0 && want != current)
		return http_reply_problem(req, 412, NULL, json_pack("{s:I}", "currentRevision", (json_int_t)current),
					  "the type is at revision %lld, not %lld: read it again and retry", current,
					  want);
	return 0;
}

/* 422 with the problems: of the type document, or of the stacks that use it. */
static int reply_problems(struct http_request *req, const struct model_errors *errs, const char *what)
{
	return http_reply_problem(req, 422, model_errors_json(errs), NULL, "%s: %zu problem%s", what, errs->count,
				  errs->count == 1 ? "" : "s");
}

/* The catalog with the stored types of c and name as doc (NULL: name not stored). */
static int catalog_with(struct store_conn *c, const char *name, const json_t *doc, struct catalog **ret)
{
	json_t *stored = NULL;
	int r = store_catalog_documents(c, &stored);
	if (r == 0 && doc)
		r = json_object_set(stored, name, (json_t *)doc) ? -ENOMEM : 0;
	else if (r == 0)
		(void)json_object_del(stored, name);
	if (r == 0)
		r = catalog_new(stored, ret);
	json_decref(stored);
	return r;
}

/* In c's write transaction: the stacks using name, resolved with the catalog where name is
 * doc (NULL: the built-in type again); 0, or the status sent (422 naming them). */
static int check_users(struct http_request *req, struct store_conn *c, const char *name, const json_t *doc,
		       json_t *users)
{
	struct catalog *before = NULL, *after = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int r = api_catalog_load(c, &before);
	if (r == 0)
		r = catalog_with(c, name, doc, &after);
	if (r == 0)
		r = api_type_users(c, name, before, after, users, &errs);
	int status = 0;
	if (r == MODEL_EINVALID)
		status = reply_problems(req, &errs, "stacks that use the type would not be valid");
	else if (r < 0)
		status = type_error(req, r, name);
	catalog_free(before);
	catalog_free(after);
	model_errors_release(&errs);
	return status;
}

int api_catalog_put(struct http_request *req)
{
	const char *name = http_param(req, 0);
	const json_t *doc = http_json_body(req);
	struct model_errors errs;
	model_errors_init(&errs);
	int r = catalog_check(name, doc, &errs);
	if (r != 0) {
		int status = r == MODEL_EINVALID ? reply_problems(req, &errs, "the type is not valid")
						 : http_reply_problem(req, 500, NULL, NULL, "out of memory");
		model_errors_release(&errs);
		return status;
	}
	model_errors_release(&errs);
	struct store_conn *c = NULL;
	struct store_record old = {0}, rec = {0};
	json_t *users = json_array();
	int status = 0;
	r = users ? store_acquire(app_store(req), &c) : -ENOMEM;
	if (r == 0)
		r = store_begin(c);
	if (r == 0)
		r = store_catalog_get(c, name, &old);
	bool exists = r == 0;
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		status = type_error(req, r, name);
	if (status == 0)
		status = precondition(req, exists ? old.revision : 0);
	if (status == 0)
		status = check_users(req, c, name, doc, users);
	if (status == 0) {
		r = store_catalog_put(c, name, doc, exists ? old.revision : 0, http_actor(req), &rec);
		if (r == 0)
			r = store_commit(c);
		status = r < 0 ? type_error(req, r, name) : reply_type(req, exists ? 200 : 201, name, &rec, NULL, NULL);
	}
	store_release(c);
	store_record_release(&old);
	store_record_release(&rec);
	json_decref(users);
	return status;
}

/* 409: a type that is not built in, deleted while stacks use it. */
static int reply_in_use(struct http_request *req, const char *name, json_t *users)
{
	struct buf list;
	buf_init(&list, BUF_NO_MAX);
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u)
		(void)BUF_PUTS(&list, i ? ", " : "", json_string_value(u));
	int status = http_reply_problem(req, 409, NULL, json_pack("{s:O}", "stacks", users),
					"type '%s' is used by stack%s %s: remove its components first", name,
					json_array_size(users) == 1 ? "" : "s", buf_cstr(&list));
	buf_release(&list);
	return status;
}

int api_catalog_delete(struct http_request *req)
{
	const char *name = http_param(req, 0);
	bool builtin = catalog_find(catalog_builtin(), name) != NULL;
	struct store_conn *c = NULL;
	struct store_record old = {0};
	struct model_errors errs;
	json_t *users = json_array();
	model_errors_init(&errs);
	int status = 0, r = users ? store_acquire(app_store(req), &c) : -ENOMEM;
	if (r == 0)
		r = store_begin(c);
	if (r == 0)
		r = store_catalog_get(c, name, &old);
	if (r == -ENOENT && builtin)
		status = http_reply_problem(req, 405, NULL, NULL, "type '%s' is built in and not stored: there is "
					    "nothing to delete (store a type of that name to override it)", name);
	else if (r < 0)
		status = type_error(req, r, name);
	if (status == 0)
		status = precondition(req, old.revision);
	if (status == 0 && !builtin) {
		r = api_type_users(c, name, NULL, NULL, users, &errs);
		if (r < 0)
			status = type_error(req, r, name);
		else if (json_array_size(users))
			status = reply_in_use(req, name, users);
	} else if (status == 0) {
		status = check_users(req, c, name, NULL, users);
	}
	if (status == 0) {
		r = store_catalog_delete(c, name, old.revision, http_actor(req));
		if (r == 0)
			r = store_commit(c);
		status = r < 0 ? type_error(req, r, name) : http_reply_empty(req, 204);
	}
	store_release(c);
	store_record_release(&old);
	model_errors_release(&errs);
	json_decref(users);
	return status;
}

/* A revision number from text; 0 or the status sent. */
static int parse_number(struct http_request *req, const char *what, const char *text, long long *ret)
{
	if (util_parse_int(text, 1, 1000000000000LL, ret) < 0)
		return http_reply_problem(req, 400, NULL, NULL, "%s must be a revision number", what);
	return 0;
}

int api_catalog_revisions(struct http_request *req)
{
	const char *name = http_param(req, 0);
	const char *limit_s = http_query(req, "limit"), *cursor = http_query(req, "cursor");
	long long limit = PAGE_DEFAULT, before = 0;
	if (limit_s && util_parse_int(limit_s, 1, PAGE_MAX, &limit) < 0)
		return http_reply_problem(req, 400, NULL, NULL, "limit must be an integer from 1 to %d", PAGE_MAX);
	int status = cursor && *cursor ? parse_number(req, "cursor", cursor, &before) : 0;
	if (status)
		return status;
	struct store_conn *c = NULL;
	json_t *rows = NULL;
	bool more = false;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_catalog_revisions(c, name, before, (size_t)limit, &rows, &more);
	store_release(c);
	if (r < 0)
		return type_error(req, r, name);
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return http_reply_problem(req, 404, NULL, NULL, "type '%s' has no stored revision", name);
	}
	json_t *last = json_array_get(rows, json_array_size(rows) - 1);
	json_t *next = more ? json_incref(json_object_get(last, "revision")) : json_null();
	return http_reply_json(req, 200, json_pack("{s:o, s:o}", "items", rows, "next", next));
}

int api_catalog_revision(struct http_request *req)
{
	const char *name = http_param(req, 0);
	long long n = 0;
	int status = parse_number(req, "the revision", http_param(req, 1), &n);
	if (status)
		return status;
	struct store_conn *c = NULL;
	json_t *row = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_catalog_revision(c, name, n, &row);
	store_release(c);
	if (r == -ENOENT)
		return http_reply_problem(req, 404, NULL, NULL, "type '%s' has no revision %lld", name, n);
	if (r < 0)
		return type_error(req, r, name);
	return http_reply_json(req, 200, row);
}

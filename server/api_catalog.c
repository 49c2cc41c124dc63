/* api_catalog: the component types of the catalog (docs/components.md): the list, a type's
 * document, storing one (admin; If-Match; checked; every stored stack that uses it
 * resolved again), deleting one, and the revisions of a stored type; the change itself
 * (api_type_change), shared with `manifestd catalog`; and the catalog the other handlers
 * resolve with (api_catalog_load). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "model.h"
#include "schema.h"
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

static bool is_builtin(const char *name)
{
	return catalog_find(catalog_builtin(), name) != NULL;
}

/* ---- the change, shared with cmd_catalog.c ---- */

void api_type_result_init(struct api_type_result *res)
{
	*res = (struct api_type_result){.current = -1};
	model_errors_init(&res->errs);
}

void api_type_result_release(struct api_type_result *res)
{
	if (!res)
		return;
	model_errors_release(&res->errs);
	json_decref(res->stacks);
	res->stacks = NULL;
	store_record_release(&res->rec);
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

/* The stacks that use ch->name, each resolved with the catalog as ch makes it: 0, or
 * API_EUSERS (res->errs, res->stacks), or a store error. */
static int check_users(struct store_conn *c, const struct api_type_change *ch, struct api_type_result *res)
{
	struct catalog *before = NULL, *after = NULL;
	json_t *users = json_array();
	int r = users ? api_catalog_load(c, &before) : -ENOMEM;
	if (r == 0)
		r = catalog_with(c, ch->name, ch->doc, &after);
	if (r == 0)
		r = api_type_users(c, ch->name, before, after, users, res->stacks, &res->errs);
	catalog_free(before);
	catalog_free(after);
	json_decref(users);
	return r == MODEL_EINVALID ? API_EUSERS : r;
}

/* The precondition of ch against the current revision (0: built in and not stored; -1: no
 * such type): 0 or -ESTALE (res->current). */
static int precondition(const struct api_type_change *ch, long long current, struct api_type_result *res)
{
	if (!ch->if_match || (current >= 0 && (ch->expected == STORE_ANY_REVISION || ch->expected == current)))
		return 0;
	res->current = current;
	return -ESTALE;
}

/* A delete: what there is to delete, and who would lose the type. */
static int delete_checks(struct store_conn *c, const struct api_type_change *ch, bool stored,
			 struct api_type_result *res)
{
	if (!stored)
		return is_builtin(ch->name) ? -EPERM : -ENOENT;
	if (is_builtin(ch->name))
		return check_users(c, ch, res);
	json_t *users = json_array();
	int r = users ? api_type_users(c, ch->name, NULL, NULL, users, NULL, &res->errs) : -ENOMEM;
	if (r == 0 && json_array_size(users)) {
		json_decref(res->stacks);
		res->stacks = json_incref(users);
		r = -EBUSY;
	}
	json_decref(users);
	return r;
}

/* In c's write transaction: everything after the document's own check. */
static int change_in(struct store_conn *c, const struct api_type_change *ch, struct api_type_result *res)
{
	struct store_record old = {0};
	int r = store_catalog_get(c, ch->name, &old);
	bool stored = r == 0;
	if (r == -ENOENT)
		r = 0;
	long long current = stored ? old.revision : is_builtin(ch->name) ? 0 : -1;
	if (r == 0)
		r = precondition(ch, current, res);
	if (r == 0)
		r = ch->doc ? check_users(c, ch, res) : delete_checks(c, ch, stored, res);
	if (r == 0 && ch->doc)
		r = store_catalog_put(c, ch->name, ch->doc, stored ? old.revision : 0, ch->actor, &res->rec);
	else if (r == 0)
		r = store_catalog_delete(c, ch->name, old.revision, ch->actor);
	if (r == 0)
		r = store_commit(c);
	res->created = !stored;
	store_record_release(&old);
	return r;
}

int api_type_change(struct store_conn *c, const struct api_type_change *ch, struct api_type_result *res)
{
	int r = ch->doc ? catalog_check(ch->name, ch->doc, &res->errs) : 0;
	if (r == 0 && !(res->stacks = json_array()))
		r = -ENOMEM;
	if (r == 0)
		r = store_begin_catalog(c);
	if (r == 0)
		r = change_in(c, ch, res);
	return r; /* store_release rolls back what was not committed */
}

/* ---- reading ---- */

/* "builtin" (in the binary only), "stored" (added by a platform team) or "override" (a
 * stored type that replaces the built-in one of its name). */
static const char *source_of(const char *name, bool stored)
{
	return !stored ? "builtin" : is_builtin(name) ? "override" : "stored";
}

static const char *text_of(const json_t *def, const char *key)
{
	const char *s = json_string_value(json_object_get(def, key));
	return s ? s : "";
}

static json_t *list_item(const struct catalog_type *t, const json_t *row)
{
	const json_t *rev = json_object_get(row, "revision");
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "name", t->name, "description",
			      text_of(t->def, "description"), "category", text_of(t->def, "category"), "source",
			      source_of(t->name, row != NULL), "revision", rev ? rev : json_null(), "updated",
			      row ? json_object_get(row, "updated") : json_null());
	if (o && t->problem && json_object_set_new(o, "problem", json_string(t->problem)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The row of rows (store_catalog_list) named name, or NULL. */
static const json_t *row_named(const json_t *rows, const char *name)
{
	size_t k;
	json_t *x;
	json_array_foreach(rows, k, x)
		if (!strcmp(json_string_value(json_object_get(x, "name")), name))
			return x;
	return NULL;
}

int api_catalog_list_json(struct store_conn *c, json_t **ret_items)
{
	struct catalog *cat = NULL;
	json_t *rows = NULL, *items = json_array();
	int r = items ? store_catalog_list(c, &rows) : -ENOMEM;
	if (r == 0)
		r = api_catalog_load(c, &cat);
	for (size_t i = 0; r == 0 && i < catalog_count(cat); i++) {
		const struct catalog_type *t = catalog_at(cat, i);
		if (json_array_append_new(items, list_item(t, row_named(rows, t->name))) < 0)
			r = -ENOMEM;
	}
	json_decref(rows);
	catalog_free(cat);
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret_items = items;
	return 0;
}

int api_catalog_list(struct http_request *req)
{
	struct store_conn *c = NULL;
	json_t *items = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r == 0)
		r = api_catalog_list_json(c, &items);
	store_release(c);
	if (r < 0)
		return api_store_error(req, r, "the catalog");
	return http_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

static void add_etag(struct http_request *req, long long revision)
{
	char tag[32]; /* a quoted long long */
	(void)snprintf(tag, sizeof tag, "\"%lld\"", revision);
	(void)http_add_header(req, "ETag", tag);
}

int api_type_json(const char *name, const struct store_record *rec, json_t **ret)
{
	const struct catalog_type *builtin = catalog_find(catalog_builtin(), name);
	if (!rec && !builtin)
		return -ENOENT;
	json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:O}", "name", name, "source", source_of(name, rec != NULL),
			      "revision", (json_int_t)(rec ? rec->revision : 0), "created",
			      rec ? json_string(rec->created) : json_null(), "updated",
			      rec ? json_string(rec->updated) : json_null(), "document",
			      rec ? rec->document : builtin->doc);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
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

/* The representation of a type (api_type_json), with compiled (may be NULL) the JSON
 * Schema of its params and consumer, with its ETag (the revision; "0" for a built-in type
 * not stored) and, for 201, its Location. */
static int reply_type(struct http_request *req, unsigned status, const char *name, const struct store_record *rec,
		      const struct catalog_type *compiled)
{
	json_t *o = NULL;
	int r = api_type_json(name, rec, &o);
	json_t *schema = r == 0 ? type_schema(compiled) : NULL;
	if (schema && json_object_set_new(o, "schema", schema) < 0)
		r = -ENOMEM;
	if (r < 0)
		return r == -ENOENT ? http_reply_problem(req, 404, NULL, NULL, "type '%s' does not exist", name)
				    : http_reply_problem(req, 500, NULL, NULL, "out of memory");
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
	int status;
	if (r == -ENOENT)
		status = reply_type(req, 200, name, NULL, catalog_find(cat, name));
	else if (r < 0)
		status = type_error(req, r, name);
	else
		status = reply_type(req, 200, name, &rec, catalog_find(cat, name));
	store_record_release(&rec);
	catalog_free(cat);
	return status;
}

/* ---- writing ---- */

/* The change asked for by req (If-Match parsed): 0, or the status sent (400). */
static int change_of(struct http_request *req, const json_t *doc, struct api_type_change *ret)
{
	const char *h = http_header(req, "If-Match");
	*ret = (struct api_type_change){http_param(req, 0), doc, h != NULL, STORE_ANY_REVISION, http_actor(req)};
	if (h && http_parse_revision_tag(h, 0, &ret->expected) < 0)
		return http_reply_problem(req, 400, NULL, NULL, "If-Match must be one entity tag such as \"3\" or *");
	return 0;
}

/* The answer to a failed api_type_change. */
static int reply_failure(struct http_request *req, int r, const char *name, struct api_type_result *res)
{
	size_t n = res->errs.count;
	const char *s = n == 1 ? "" : "s";
	switch (r) {
	case MODEL_EINVALID:
		return http_reply_problem(req, 422, model_errors_json(&res->errs), NULL,
					  "the type is not valid: %zu problem%s", n, s);
	case API_EUSERS:
		return http_reply_problem(req, 422, model_errors_json(&res->errs),
					  json_pack("{s:O}", "stacks", res->stacks),
					  "stacks that use type '%s' would not be valid with this change: %zu "
					  "problem%s", name, n, s);
	case -ESTALE:
		if (res->current < 0)
			return http_reply_problem(req, 412, NULL, NULL, "If-Match was given but type '%s' does "
						  "not exist", name);
		return http_reply_problem(req, 412, NULL, json_pack("{s:I}", "currentRevision", (json_int_t)res->current),
					  "type '%s' is at revision %lld: read it again and retry", name, res->current);
	case -EBUSY: {
		struct buf list;
		buf_init(&list, BUF_NO_MAX);
		size_t i;
		json_t *u;
		json_array_foreach(res->stacks, i, u)
			(void)BUF_PUTS(&list, i ? ", " : "", json_string_value(u));
		int status = http_reply_problem(req, 409, NULL, json_pack("{s:O}", "stacks", res->stacks),
						"type '%s' is used by stack%s %s: remove its components first", name,
						json_array_size(res->stacks) == 1 ? "" : "s", buf_cstr(&list));
		buf_release(&list);
		return status;
	}
	case -EPERM:
		return http_reply_problem(req, 409, NULL, NULL, "type '%s' is built in and not stored: there is "
					  "nothing to delete (store a type of that name to override it)", name);
	default:
		return type_error(req, r, name);
	}
}

/* PUT and DELETE: the change in a write transaction, then the answer. */
static int change(struct http_request *req, const json_t *doc)
{
	struct api_type_change ch;
	int status = change_of(req, doc, &ch);
	if (status)
		return status;
	struct api_type_result res;
	api_type_result_init(&res);
	struct store_conn *c = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = api_type_change(c, &ch, &res);
	store_release(c);
	if (r < 0)
		status = reply_failure(req, r, ch.name, &res);
	else if (doc)
		status = reply_type(req, res.created ? 201 : 200, ch.name, &res.rec, NULL);
	else
		status = http_reply_empty(req, 204);
	api_type_result_release(&res);
	return status;
}

int api_catalog_put(struct http_request *req)
{
	return change(req, http_json_body(req));
}

int api_catalog_delete(struct http_request *req)
{
	return change(req, NULL);
}

/* ---- history ---- */

/* A revision number from text; 0 or the status sent. */
static int parse_number(struct http_request *req, const char *what, const char *text, long long *ret)
{
	if (util_parse_int(text, 1, 1LL << 62, ret) < 0)
		return http_reply_problem(req, 400, NULL, NULL, "%s must be a revision number (an integer from 1), "
					  "got '%s'", what, text);
	return 0;
}

/* The page of revisions as {"items", "next"} (items: api_revision_item). */
static int revisions_page(const json_t *rows, bool more, json_t **ret)
{
	json_t *items = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (!items || json_array_append_new(items, api_revision_item(row)) < 0) {
			json_decref(items);
			return -ENOMEM;
		}
	}
	json_t *last = json_array_get(rows, json_array_size(rows) - 1);
	json_t *next = more && last ? json_incref(json_object_get(last, "revision")) : json_null();
	*ret = json_pack("{s:o, s:o}", "items", items, "next", next);
	return *ret ? 0 : -ENOMEM;
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
	json_t *rows = NULL, *page = NULL;
	bool more = false;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_catalog_revisions(c, name, before, (size_t)limit, &rows, &more);
	store_release(c);
	/* a type that has none: built in and never stored, or not a type at all */
	if (r == 0 && json_array_size(rows) == 0 && before == 0 && !is_builtin(name))
		r = -ENOENT;
	if (r == 0)
		r = revisions_page(rows, more, &page);
	json_decref(rows);
	return r < 0 ? type_error(req, r, name) : http_reply_json(req, 200, page);
}

int api_catalog_revision(struct http_request *req)
{
	const char *name = http_param(req, 0);
	long long n = 0;
	int status = parse_number(req, "the revision", http_param(req, 1), &n);
	if (status)
		return status;
	struct store_conn *c = NULL;
	json_t *row = NULL, *item = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_catalog_revision(c, name, n, &row);
	store_release(c);
	if (r == -ENOENT)
		return http_reply_problem(req, 404, NULL, NULL, "type '%s' has no revision %lld", name, n);
	if (r == 0 && (!(item = api_revision_item(row)) ||
		       json_object_set_new(item, "name", json_string(name)) < 0 ||
		       json_object_set(item, "document", json_object_get(row, "new")) < 0))
		r = -ENOMEM;
	json_decref(row);
	if (r < 0) {
		json_decref(item);
		return type_error(req, r, name);
	}
	return http_reply_json(req, 200, item);
}

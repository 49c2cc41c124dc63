/* api_history: the revisions of an environment (list with one-line summaries, one
 * revision's document), diffs of the rendered manifests between two revisions or two
 * environments (unified text or structured JSON, secrets masked), and rollback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "diff.h"
#include "model.h"
#include "render.h"
#include "util.h"
#include "yamlout.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
#define SUMMARY_ITEMS 8		/* changes named in a summary; the rest are counted */
#define SUMMARY_VALUE_MAX 40	/* longest value shown as "from -> to" */
#define MAX_DIFF (16u * 1024 * 1024)
/* What every secret value becomes before a diff renders: the same on both sides, so a
 * diff never shows a secret, not even as base64. */

static struct store *app_store(struct http_request *req)
{
	return ((struct api *)http_app(req))->store;
}

static int target_error(struct http_request *req, int err, const char *stack, const char *env)
{
	struct buf what;
	buf_init(&what, 512);
	(void)buf_printf(&what, "environment '%s' of stack '%s'", env, stack);
	int status = api_store_error(req, err, buf_cstr(&what));
	buf_release(&what);
	return status;
}

/* ---- summaries ---- */

/* "/services/a~1b/replicas" -> "services.a/b.replicas" */
static int dotted(const char *pointer, struct buf *out)
{
	int r = 0;
	for (const char *p = pointer; r == 0 && *p; p++) {
		if (*p == '/')
			r = p == pointer ? 0 : buf_puts(out, ".");
		else if (*p == '~' && (p[1] == '0' || p[1] == '1'))
			r = buf_puts(out, *++p == '0' ? "~" : "/");
		else
			r = buf_append(out, p, 1);
	}
	return r;
}

/* A value short and plain enough to be shown in a summary. */
static bool showable(const json_t *v)
{
	if (json_is_number(v) || json_is_boolean(v))
		return true;
	if (!json_is_string(v) || json_string_length(v) > SUMMARY_VALUE_MAX)
		return false;
	for (const char *s = json_string_value(v); *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int put_value(struct buf *out, const json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int r = text ? buf_puts(out, text) : -ENOMEM;
	free(text);
	return r;
}

/* One item of a summary: "services.x.replicas 2 -> 4", "config.k changed", "x added". */
static int summary_item(struct buf *out, const json_t *field)
{
	const char *path = json_string_value(json_object_get(field, "path"));
	const json_t *from = json_object_get(field, "from"), *to = json_object_get(field, "to");
	bool config = strncmp(path, "/config/", 8) == 0;
	int r = dotted(path, out);
	if (r < 0)
		return r;
	if (json_is_null(to))
		return buf_puts(out, " removed");
	if (json_is_null(from) && !showable(to))
		return buf_puts(out, " added");
	if (config || !showable(to) || (!json_is_null(from) && !showable(from)))
		return buf_puts(out, json_is_null(from) ? " added" : " changed");
	r = buf_puts(out, json_is_null(from) ? " set to " : " ");
	if (r == 0 && !json_is_null(from))
		r = put_value(out, from);
	if (r == 0 && !json_is_null(from))
		r = buf_puts(out, " -> ");
	return r == 0 ? put_value(out, to) : r;
}

static bool listed(const json_t *keys, const char *key)
{
	for (size_t i = 0; i < json_array_size(keys); i++)
		if (strcmp(json_string_value(json_array_get(keys, i)), key) == 0)
			return true;
	return false;
}

/* The secret items: added, removed, or changed (by the row's secretChanges, or for
 * older rows by the masked form). */
static int secret_items(const json_t *row, json_t *items)
{
	const json_t *old = json_object_get(json_object_get(row, "old"), "secrets");
	const json_t *new = json_object_get(json_object_get(row, "new"), "secrets");
	const json_t *changed = json_object_get(row, "secretChanges");
	const char *key;
	json_t *v;
	json_t *keys = json_object();
	if (!keys)
		return -ENOMEM;
	json_object_foreach((json_t *)old, key, v)
		(void)json_object_set(keys, key, json_null());
	json_object_foreach((json_t *)new, key, v)
		(void)json_object_set(keys, key, json_null());
	int r = 0;
	json_object_foreach(keys, key, v) {
		const json_t *a = json_object_get(old, key), *b = json_object_get(new, key);
		const char *what = !a ? "added" : !b ? "removed"
				 : (json_is_array(changed) ? listed(changed, key) : !json_equal(a, b)) ? "changed"
				 : NULL;
		if (!what)
			continue;
		struct buf item;
		buf_init(&item, BUF_NO_MAX);
		r = buf_puts(&item, "secrets.");
		if (r == 0)
			r = buf_printf(&item, "%s %s", key, what);
		if (r == 0 && json_array_append_new(items, json_string(buf_cstr(&item))) < 0)
			r = -ENOMEM;
		buf_release(&item);
		if (r < 0)
			break;
	}
	json_decref(keys);
	return r;
}

/* A shallow copy of doc without its secrets (NULL stays NULL). */
static json_t *without_secrets(const json_t *doc)
{
	if (!json_is_object(doc))
		return NULL;
	json_t *c = json_copy((json_t *)doc);
	if (c)
		(void)json_object_del(c, "secrets");
	return c;
}

/* Adds the items of a field: an added object counts as each of its leaves (so that
 * "services.x added" reads "services.x.replicas set to 4"). */
static int field_items(const json_t *field, json_t *items)
{
	const json_t *to = json_object_get(field, "to");
	if (!json_is_null(json_object_get(field, "from")) || !json_is_object(to) ||
	    json_object_size(to) == 0) {
		struct buf item;
		buf_init(&item, BUF_NO_MAX);
		int r = summary_item(&item, field);
		if (r == 0 && json_array_append_new(items, json_string(buf_cstr(&item))) < 0)
			r = -ENOMEM;
		buf_release(&item);
		return r;
	}
	const char *key;
	json_t *v;
	int r = 0;
	json_object_foreach((json_t *)to, key, v) {
		struct buf path;
		buf_init(&path, BUF_NO_MAX);
		r = buf_puts(&path, json_string_value(json_object_get(field, "path")));
		if (r == 0)
			r = util_pointer_append(&path, key);
		json_t *leaf = r == 0 ? json_pack("{s:s, s:n, s:O}", "path", buf_cstr(&path), "from", "to", v) : NULL;
		buf_release(&path);
		r = leaf ? field_items(leaf, items) : -ENOMEM;
		json_decref(leaf);
		if (r < 0)
			break;
	}
	return r;
}

/* Every item of the change of one history row, in document order, secrets last. */
static int change_items(const json_t *row, json_t *items)
{
	json_t *a = without_secrets(json_object_get(row, "old"));
	json_t *b = without_secrets(json_object_get(row, "new"));
	json_t *fields = NULL;
	int r = diff_values(a, b, &fields);
	size_t i;
	json_t *f;
	json_array_foreach(fields, i, f) {
		r = field_items(f, items);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = secret_items(row, items);
	json_decref(a);
	json_decref(b);
	json_decref(fields);
	return r;
}

/* "created", "no change", or the items joined by "; " (at most SUMMARY_ITEMS, then
 * "and N more"). Never a secret value: secrets are named, not shown. */
static int summarize(const json_t *row, struct buf *out)
{
	if (strcmp(json_string_value(json_object_get(row, "kind")), "create") == 0)
		return buf_puts(out, "created");
	json_t *items = json_array();
	int r = items ? change_items(row, items) : -ENOMEM;
	size_t n = json_array_size(items);
	for (size_t i = 0; r == 0 && i < n && i < SUMMARY_ITEMS; i++)
		r = buf_printf(out, "%s%s", i ? "; " : "", json_string_value(json_array_get(items, i)));
	if (r == 0 && n > SUMMARY_ITEMS)
		r = buf_printf(out, "; and %zu more", n - SUMMARY_ITEMS);
	if (r == 0 && n == 0)
		r = buf_puts(out, "no change");
	json_decref(items);
	return r;
}

json_t *api_revision_item(const json_t *row)
{
	struct buf summary;
	buf_init(&summary, BUF_NO_MAX);
	json_t *item = NULL;
	if (summarize(row, &summary) == 0)
		item = json_pack("{s:O, s:O, s:O, s:O, s:s}", "revision", json_object_get(row, "revision"),
				 "time", json_object_get(row, "time"), "actor", json_object_get(row, "actor"),
				 "kind", json_object_get(row, "kind"), "summary", buf_cstr(&summary));
	buf_release(&summary);
	return item;
}

/* ---- reading ---- */

/* Checks that the stack and the environment exist (in c); 0 or the status sent.
 * ret_stack/ret_env (may be NULL) receive the records. */
static int read_target(struct http_request *req, struct store_conn *c, const char *stack,
		       const char *env, struct store_record *ret_stack, struct store_record *ret_env)
{
	struct store_record s = {0}, e = {0};
	int r = store_stack_get(c, stack, &s);
	if (r < 0) {
		struct buf what;
		buf_init(&what, 512);
		(void)buf_printf(&what, "stack '%s'", stack);
		int status = api_store_error(req, r, buf_cstr(&what));
		buf_release(&what);
		return status;
	}
	r = store_env_get(c, stack, env, &e);
	if (r < 0) {
		store_record_release(&s);
		return target_error(req, r, stack, env);
	}
	if (ret_stack)
		*ret_stack = s;
	else
		store_record_release(&s);
	if (ret_env)
		*ret_env = e;
	else
		store_record_release(&e);
	return 0;
}

/* A revision number from the query or the path: 0 or the status sent (400). */
static int parse_revision(struct http_request *req, const char *what, const char *s, long long *ret)
{
	if (util_parse_int(s, 1, 1LL << 62, ret) < 0)
		return http_reply_problem(req, 400, NULL, NULL,
					  "%s must be a revision number (an integer from 1), got '%s'", what, s);
	return 0;
}

int api_revisions_list(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	const char *limit_s = http_query(req, "limit"), *cursor = http_query(req, "cursor");
	long long limit = PAGE_DEFAULT, before = 0;
	if (limit_s && util_parse_int(limit_s, 1, PAGE_MAX, &limit) < 0)
		return http_reply_problem(req, 400, NULL, NULL,
					  "limit must be an integer from 1 to %d", PAGE_MAX);
	int status = cursor && *cursor ? parse_revision(req, "cursor", cursor, &before) : 0;
	if (status)
		return status;
	struct store_conn *c = NULL;
	json_t *rows = NULL, *items = json_array();
	bool more = false;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r < 0)
		status = api_store_error(req, r, "the database");
	else if ((status = read_target(req, c, stack, env, NULL, NULL)) == 0 &&
		 (r = store_env_revisions(c, stack, env, before, (size_t)limit, &rows, &more)) < 0)
		status = target_error(req, r, stack, env);
	store_release(c);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (!items || json_array_append_new(items, api_revision_item(row)) < 0) {
			status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
			break;
		}
	}
	if (status == 0) {
		json_t *last = json_array_get(items, json_array_size(items) - 1);
		json_t *next = more && last ? json_incref(json_object_get(last, "revision")) : json_null();
		status = http_reply_json(req, 200, json_pack("{s:O, s:o}", "items", items, "next", next));
	}
	json_decref(items);
	json_decref(rows);
	return status;
}

/* Reads revision n of the environment in c into *ret_row; 0 or the status sent. */
static int read_revision(struct http_request *req, struct store_conn *c, const char *stack,
			 const char *env, long long n, json_t **ret_row)
{
	int r = store_env_revision(c, stack, env, n, ret_row);
	if (r == -ENOENT)
		return http_reply_problem(req, 404, NULL, NULL,
					  "environment '%s' of stack '%s' has no revision %lld", env,
					  stack, n);
	return r < 0 ? target_error(req, r, stack, env) : 0;
}

int api_revision_get(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	long long n = 0;
	int status = parse_revision(req, "the revision", http_param(req, 2), &n);
	if (status)
		return status;
	struct store_conn *c = NULL;
	json_t *row = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r < 0)
		status = api_store_error(req, r, "the database");
	else if ((status = read_target(req, c, stack, env, NULL, NULL)) == 0)
		status = read_revision(req, c, stack, env, n, &row);
	store_release(c);
	if (status == 0) {
		json_t *item = api_revision_item(row);
		if (item && json_object_set(item, "document", json_object_get(row, "new")) == 0 &&
		    json_object_set_new(item, "stack", json_string(stack)) == 0 &&
		    json_object_set_new(item, "name", json_string(env)) == 0)
			status = http_reply_json(req, 200, json_incref(item));
		else
			status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
		json_decref(item);
	}
	json_decref(row);
	return status;
}

/* ---- rendering for diffs ---- */

/* Removes what differs between any two renders (the revision and the bundle hash, in
 * the provenance ConfigMap called provenance) from the objects of a file. */
static void strip_provenance(json_t *objects, const char *provenance)
{
	size_t i;
	json_t *obj;
	json_array_foreach(objects, i, obj) {
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
		if (!kind || !name || strcmp(kind, "ConfigMap") != 0 || strcmp(name, provenance) != 0)
			continue;
		(void)json_object_del(json_object_get(obj, "data"), "revision");
		(void)json_object_del(json_object_get(obj, "data"), "bundleHash");
	}
}

/* The manifests of stack <- env, secrets masked: a new object file name -> objects.
 * 0, MODEL_EINVALID (errs filled), -ENOMEM, -EINVAL. */
static int render_masked(const char *stack_name, const json_t *stack, const char *env_name,
			 const json_t *env, long long revision, struct model_errors *errs,
			 json_t **ret_files)
{
	json_t *s = model_mask_secret_values(stack), *e = model_mask_secret_values(env);
	json_t *doc = NULL, *files = json_object();
	struct render *rd = NULL;
	int r = s && e && files ? model_resolve(stack_name, s, env_name, e, NULL, errs, &doc) : -ENOMEM;
	struct render_meta meta = {stack_name, env_name, revision};
	if (r == 0)
		r = render_new(doc, &meta, errs, &rd);
	for (size_t i = 0; r == 0 && i < render_file_count(rd); i++) {
		json_t *objects = NULL;
		r = render_file_objects(rd, i, &objects);
		if (r == 0) {
			strip_provenance(objects, render_provenance_name(rd));
			r = json_object_set_new(files, render_file_name(rd, i), objects) == 0 ? 0 : -ENOMEM;
		}
	}
	render_free(rd);
	json_decref(doc);
	json_decref(s);
	json_decref(e);
	if (r < 0) {
		json_decref(files);
		return r;
	}
	*ret_files = files;
	return 0;
}

/* The YAML text of a file's objects, as the bundle writes it. */
static int file_yaml(const json_t *objects, struct buf *out)
{
	struct yamlout *y = NULL;
	size_t i;
	const json_t *obj;
	int r = yamlout_new(out, &y);
	json_array_foreach(objects, i, obj) {
		if (r == 0)
			r = yamlout_document(y, obj);
	}
	if (r == 0)
		r = yamlout_finish(y);
	yamlout_free(y);
	return r;
}

/* Unified diffs of every file of from and to, in file-name order. */
static int unified(const json_t *from, const json_t *to, struct buf *out)
{
	const char **names = NULL;
	size_t n = 0;
	int r = diff_file_names(from, to, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const json_t *a = json_object_get(from, names[i]), *b = json_object_get(to, names[i]);
		struct buf ta, tb;
		buf_init(&ta, MAX_DIFF);
		buf_init(&tb, MAX_DIFF);
		if (a)
			r = file_yaml(a, &ta);
		if (r == 0 && b)
			r = file_yaml(b, &tb);
		if (r == 0)
			r = diff_unified(names[i], a ? buf_cstr(&ta) : NULL, ta.len,
					 b ? buf_cstr(&tb) : NULL, tb.len, DIFF_CONTEXT, out);
		buf_release(&ta);
		buf_release(&tb);
	}
	free(names);
	return r;
}

/* One side of a diff: what it is called and what it is made of (all borrowed). */
struct side {
	const char *env;
	long long revision;
	const json_t *doc;
	const char *label; /* "revision 3" or "environment 'prod'", for errors */
};

/* {"environment", "revision"} of a side; revision null for an unsaved document. */
static json_t *side_json(const struct side *s)
{
	return json_pack("{s:s, s:o}", "environment", s->env, "revision",
			 s->revision < 0 ? json_null() : json_integer(s->revision));
}

/* Renders both sides and replies with their diff (?format=json: structured). */
static int reply_diff(struct http_request *req, const char *stack, const json_t *stack_doc,
		      const struct side *from, const struct side *to)
{
	const char *format = http_query(req, "format");
	bool json = format && strcmp(format, "json") == 0;
	if (format && !json && strcmp(format, "unified") != 0)
		return http_reply_problem(req, 400, NULL, NULL,
					  "unknown format '%s': use unified (the default) or json", format);
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *a = NULL, *b = NULL, *changes = NULL;
	const struct side *failed = from;
	struct buf out;
	buf_init(&out, MAX_DIFF);
	/* revision 0 is "before the environment existed": no files */
	int status, r = from->doc ? render_masked(stack, stack_doc, from->env, from->doc, from->revision, &errs, &a)
			       : (a = json_object()) ? 0 : -ENOMEM;
	if (r == 0 && (failed = to))
		r = render_masked(stack, stack_doc, to->env, to->doc, to->revision < 0 ? 0 : to->revision,
				  &errs, &b);
	if (r == MODEL_EINVALID) {
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "%s does not resolve with the current stack '%s': %zu problem%s",
					    failed->label, stack, errs.count, errs.count == 1 ? "" : "s");
		goto out;
	}
	if (r == 0)
		r = json ? diff_objects(a, b, &changes) : unified(a, b, &out);
	if (r == -E2BIG)
		status = http_reply_problem(req, 500, NULL, NULL, "the diff is larger than %u bytes",
					    MAX_DIFF);
	else if (r < 0)
		status = http_reply_problem(req, 500, NULL, NULL, "cannot build the diff (%s)",
					    strerror(-r));
	else if (json)
		status = http_reply_json(req, 200, json_pack("{s:o, s:o, s:O}", "from", side_json(from),
							    "to", side_json(to), "changes", changes));
	else
		status = http_reply_buf(req, 200, "text/x-diff; charset=utf-8", &out);
out:
	buf_release(&out);
	model_errors_release(&errs);
	json_decref(a);
	json_decref(b);
	json_decref(changes);
	return status;
}

int api_env_diff(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	const char *from_s = http_query(req, "from"), *to_s = http_query(req, "to");
	long long from = -1, to = 0;
	int status = from_s && strcmp(from_s, "0") != 0 ? parse_revision(req, "from", from_s, &from) : 0;
	if (from_s && strcmp(from_s, "0") == 0)
		from = 0;
	if (status == 0 && to_s)
		status = parse_revision(req, "to", to_s, &to);
	if (status)
		return status;
	struct store_conn *c = NULL;
	struct store_record srec = {0}, erec = {0};
	json_t *a = NULL, *b = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r < 0) {
		status = api_store_error(req, r, "the database");
		goto out;
	}
	if ((status = read_target(req, c, stack, env, &srec, &erec)) != 0)
		goto out;
	if (!to)
		to = erec.revision;
	if (from < 0)
		from = to - 1;
	if ((from && (status = read_revision(req, c, stack, env, from, &a)) != 0) ||
	    (status = read_revision(req, c, stack, env, to, &b)) != 0)
		goto out;
	store_release(c);
	c = NULL;
	char la[48], lb[48];
	(void)snprintf(la, sizeof la, "revision %lld", from);
	(void)snprintf(lb, sizeof lb, "revision %lld", to);
	struct side sa = {env, from, json_object_get(a, "new"), la};
	struct side sb = {env, to, json_object_get(b, "new"), lb};
	status = reply_diff(req, stack, srec.document, &sa, &sb);
out:
	store_release(c);
	store_record_release(&srec);
	store_record_release(&erec);
	json_decref(a);
	json_decref(b);
	return status;
}

int api_env_diff_proposed(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	const json_t *doc = http_json_body(req);
	struct model_errors errs;
	model_errors_init(&errs);
	int status = 0, r = model_check_shape(doc, &errs);
	if (r == MODEL_EINVALID)
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "the proposed document is not valid: %zu problem%s", errs.count,
					    errs.count == 1 ? "" : "s");
	else if (r < 0)
		status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
	model_errors_release(&errs);
	if (status)
		return status;
	struct store_conn *c = NULL;
	struct store_record srec = {0}, cur = {0};
	r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r < 0)
		status = api_store_error(req, r, "the database");
	else
		status = read_target(req, c, stack, env, &srec, &cur);
	store_release(c);
	if (status == 0) {
		char la[48];
		(void)snprintf(la, sizeof la, "revision %lld", cur.revision);
		struct side sa = {env, cur.revision, cur.document, la};
		struct side sb = {env, -1, doc, "the proposed document"};
		status = reply_diff(req, stack, srec.document, &sa, &sb);
	}
	store_record_release(&srec);
	store_record_release(&cur);
	return status;
}

int api_stack_diff(struct http_request *req)
{
	const char *stack = http_param(req, 0);
	const char *from = http_query(req, "from"), *to = http_query(req, "to");
	if (!from || !to || !*from || !*to)
		return http_reply_problem(req, 400, NULL, NULL,
					  "give the environments to compare: ?from=ENV&to=ENV");
	struct store_conn *c = NULL;
	struct store_record srec = {0}, a = {0}, b = {0};
	int status = 0, r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin_read(c);
	if (r < 0)
		status = api_store_error(req, r, "the database");
	else if ((status = read_target(req, c, stack, from, &srec, &a)) == 0)
		status = read_target(req, c, stack, to, NULL, &b);
	store_release(c);
	if (status == 0) {
		char la[128], lb[128];
		(void)snprintf(la, sizeof la, "environment '%s'", from);
		(void)snprintf(lb, sizeof lb, "environment '%s'", to);
		struct side sa = {from, a.revision, a.document, la};
		struct side sb = {to, b.revision, b.document, lb};
		status = reply_diff(req, stack, srec.document, &sa, &sb);
	}
	store_record_release(&srec);
	store_record_release(&a);
	store_record_release(&b);
	return status;
}

/* ---- rollback ---- */

/* The revision asked for by the body {"revision": n}; 0 or the status sent (422). */
static int rollback_target(struct http_request *req, long long *ret)
{
	const json_t *body = http_json_body(req);
	const json_t *rev = json_object_get(body, "revision");
	if (!json_is_object(body) || json_object_size(body) != 1 || !json_is_integer(rev) ||
	    json_integer_value(rev) < 1)
		return http_reply_problem(req, 422,
					  json_pack("[{s:s, s:s}]", "pointer", "/revision", "detail",
						    "is required: the revision number to roll back to, an integer from 1 (and nothing else)"),
					  NULL, "the rollback request is not valid");
	*ret = json_integer_value(rev);
	return 0;
}

/* The document of row, secrets taken from the current document; 0 or the status sent. */
static int rollback_document(struct http_request *req, struct store_conn *c, const char *stack,
			     const json_t *stack_doc, const char *env, const json_t *row,
			     const json_t *current, json_t **ret)
{
	struct model_errors errs;
	struct catalog *cat = NULL;
	model_errors_init(&errs);
	json_t *doc = json_deep_copy(json_object_get(row, "new"));
	int status = 0, r = doc ? api_keep_secrets(doc, current, &errs) : -ENOMEM;
	if (r == 0)
		r = model_check_shape(doc, &errs);
	if (r == 0)
		r = api_catalog_load(c, &cat);
	if (r == 0) {
		json_t *resolved = NULL;
		r = model_resolve_in(cat, stack, stack_doc, env, doc, NULL, &errs, &resolved);
		if (r == 0)
			r = model_check_change(cat, stack, stack_doc, env, current, resolved, &errs);
		json_decref(resolved);
	}
	catalog_free(cat);
	if (r == MODEL_EINVALID)
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "revision %lld cannot be restored: %zu problem%s",
					    (long long)json_integer_value(json_object_get(row, "revision")),
					    errs.count, errs.count == 1 ? "" : "s");
	else if (r < 0)
		status = http_reply_problem(req, 500, NULL, NULL, "out of memory");
	model_errors_release(&errs);
	if (status) {
		json_decref(doc);
		return status;
	}
	*ret = doc;
	return 0;
}

int api_env_rollback(struct http_request *req)
{
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	long long n = 0;
	int status = rollback_target(req, &n);
	if (status)
		return status;
	struct store_conn *c = NULL;
	struct store_record srec = {0}, cur = {0}, rec = {0};
	json_t *row = NULL, *doc = NULL;
	int r = store_acquire(app_store(req), &c);
	if (r == 0)
		r = store_begin(c);
	if (r < 0) {
		status = api_store_error(req, r, "the database");
		goto out;
	}
	if ((status = read_target(req, c, stack, env, &srec, &cur)) != 0 ||
	    (status = api_precondition(req, &cur)) != 0 ||
	    (status = read_revision(req, c, stack, env, n, &row)) != 0 ||
	    (status = rollback_document(req, c, stack, srec.document, env, row, cur.document, &doc)) != 0)
		goto out;
	r = store_env_update(c, stack, env, doc, cur.revision, http_actor(req), &rec);
	if (r == 0)
		r = store_commit(c);
	status = r < 0 ? target_error(req, r, stack, env) : api_reply_record(req, 200, stack, env, &rec);
out:
	store_release(c);
	store_record_release(&srec);
	store_record_release(&cur);
	store_record_release(&rec);
	json_decref(row);
	json_decref(doc);
	return status;
}

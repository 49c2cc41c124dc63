/* store_copy: moving a whole database between engines (`manifestd copy`), driven by the
 * tables the databases themselves list, and the schema listing the tests compare. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

void store_tables_free(struct store_table *t, size_t count)
{
	for (size_t i = 0; t && i < count; i++) {
		free(t[i].name);
		json_decref(t[i].columns);
		json_decref(t[i].references);
	}
	free(t);
}

/* The single-column rows of the one-off statement sql (with the parameter param when it
 * is not NULL), as a new array of strings. */
static int names_of(struct store_conn *c, const char *sql, const char *param, json_t **ret)
{
	const struct store_backend *be = c->store->be;
	json_t *names = json_array();
	int r = names ? store_query_text(c, sql, &STORE_TEXT(param), param ? 1 : 0) : -ENOMEM;
	while (r == 0 && (r = store_failed(c, be->next(c))) == 1)
		r = json_array_append_new(names, json_string(be->text(c, 0, NULL))) < 0 ? -ENOMEM : 0;
	be->done(c);
	if (r < 0) {
		json_decref(names);
		return r;
	}
	*ret = names;
	return 0;
}

int store_tables(struct store_conn *c, struct store_table **ret, size_t *ret_count)
{
	const struct store_backend *be = c->store->be;
	json_t *names = NULL;
	int r = names_of(c, be->tables_sql, NULL, &names);
	size_t n = json_array_size(names);
	struct store_table *t = r == 0 ? calloc(n + 1, sizeof *t) : NULL;
	if (r == 0 && !t)
		r = -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		t[i].name = strdup(name);
		r = t[i].name ? names_of(c, be->columns_sql, name, &t[i].columns) : -ENOMEM;
		if (r == 0)
			r = names_of(c, be->references_sql, name, &t[i].references);
	}
	json_decref(names);
	if (r < 0) {
		store_tables_free(t, n);
		return r;
	}
	*ret = t;
	*ret_count = n;
	return 0;
}

int store_schema(struct store_conn *c, json_t **ret)
{
	struct store_table *t = NULL;
	size_t n = 0;
	int r = store_tables(c, &t, &n);
	json_t *o = r == 0 ? json_object() : NULL;
	if (r == 0 && !o)
		r = -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		r = json_object_set(o, t[i].name, t[i].columns) < 0 ? -ENOMEM : 0;
	store_tables_free(t, n);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*ret = o;
	return 0;
}

int store_is_pristine(struct store_conn *c, bool *ret)
{
	int r = store_query_text(c, "SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM "
				    "history WHERE actor NOT LIKE 'migration:%') + (SELECT count(*) FROM "
				    "catalog_history)", NULL, 0);
	if (r == 0)
		r = c->store->be->next(c);
	if (r == 1)
		*ret = c->store->be->integer(c, 0) == 0;
	c->store->be->done(c);
	return r == 1 ? 0 : r == 0 ? -EIO : r;
}

/* ---- copying ---- */

/* `name` quoted as an SQL identifier (the same rule in both dialects), appended to out. */
static int quote_ident(struct buf *out, const char *name)
{
	int r = buf_puts(out, "\"");
	for (const char *p = name; *p && r == 0; p++) {
		r = buf_append(out, p, 1);
		if (r == 0 && *p == '"')
			r = buf_append(out, p, 1); /* "" inside a quoted name */
	}
	return r == 0 ? buf_puts(out, "\"") : r;
}

/* "<columns quoted, comma-separated>" of t, appended to out. */
static int column_list(struct buf *out, const struct store_table *t)
{
	int r = 0;
	for (size_t i = 0; i < json_array_size(t->columns) && r == 0; i++) {
		if (i)
			r = buf_puts(out, ", ");
		if (r == 0)
			r = quote_ident(out, json_string_value(json_array_get(t->columns, i)));
	}
	return r;
}

static bool references(const struct store_table *t, const char *name)
{
	for (size_t i = 0; i < json_array_size(t->references); i++)
		if (strcmp(json_string_value(json_array_get(t->references, i)), name) == 0)
			return true;
	return false;
}

/* order[] = the indexes of the copied tables (all but schema_migrations), every table
 * after the tables its foreign keys reference (a cycle, which our schema never has, ends
 * in the order of names). The number written. */
static size_t copy_order(const struct store_table *t, size_t n, size_t *order)
{
	bool *placed = calloc(n + 1, sizeof *placed);
	size_t count = 0;
	if (!placed)
		return 0;
	for (size_t i = 0; i < n; i++)
		placed[i] = strcmp(t[i].name, "schema_migrations") == 0;
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			bool ready = !placed[i];
			for (size_t j = 0; j < n && ready; j++)
				ready = placed[j] || j == i || !references(&t[i], t[j].name);
			if (ready) {
				placed[i] = progress = true;
				order[count++] = i;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!placed[i])
			order[count++] = i;
	free(placed);
	return count;
}

/* -EPROTO (err says why) unless both databases have the same tables and columns. */
static int same_tables(const struct store_table *a, size_t na, const struct store_table *b,
		       size_t nb, struct buf *err)
{
	for (size_t i = 0; i < na || i < nb; i++) {
		if (i >= na || i >= nb || strcmp(a[i].name, b[i].name) != 0 ||
		    !json_equal(a[i].columns, b[i].columns)) {
			(void)buf_printf(err, "the databases differ at table '%s': they hold different "
					 "schemas", i < na ? a[i].name : b[i].name);
			return -EPROTO;
		}
	}
	return 0;
}

/* Every row of t from cf inserted into ct; *ret_rows = how many. */
static int copy_table(struct store_conn *cf, struct store_conn *ct, const struct store_table *t,
		      long long *ret_rows)
{
	const struct store_backend *from = cf->store->be;
	size_t ncol = json_array_size(t->columns);
	struct buf select, insert;
	buf_init(&select, BUF_NO_MAX);
	buf_init(&insert, BUF_NO_MAX);
	int r = ncol > 0 && ncol <= STORE_MAX_PARAMS ? buf_puts(&select, "SELECT ") : -E2BIG;
	if (r == 0)
		r = column_list(&select, t);
	if (r == 0)
		r = buf_puts(&select, " FROM ");
	if (r == 0)
		r = quote_ident(&select, t->name);
	if (r == 0)
		r = buf_puts(&select, " ORDER BY 1");
	if (r == 0)
		r = buf_puts(&insert, "INSERT INTO ");
	if (r == 0)
		r = quote_ident(&insert, t->name);
	if (r == 0)
		r = buf_puts(&insert, " (");
	if (r == 0)
		r = column_list(&insert, t);
	if (r == 0)
		r = buf_puts(&insert, ") VALUES (");
	for (size_t i = 0; i < ncol && r == 0; i++)
		r = buf_printf(&insert, "%s?%zu", i ? ", " : "", i + 1);
	if (r == 0)
		r = buf_puts(&insert, ")");
	long long rows = 0;
	if (r == 0)
		r = store_query_text(cf, buf_cstr(&select), NULL, 0);
	while (r == 0 && (r = store_failed(cf, from->next(cf))) == 1) {
		struct store_param p[STORE_MAX_PARAMS];
		for (size_t i = 0; i < ncol; i++) {
			size_t len = 0;
			const char *v = from->text(cf, (int)i, &len);
			p[i] = (struct store_param){.text = v, .len = len};
		}
		r = store_query_text(ct, buf_cstr(&insert), p, ncol);
		ct->store->be->done(ct);
		rows++;
	}
	from->done(cf);
	if (r == 0)
		r = store_failed(ct, ct->store->be->copied(ct, t->name));
	buf_release(&select);
	buf_release(&insert);
	if (r == 0)
		*ret_rows = rows;
	return r;
}

/* Empties the copied tables of ct, the referencing ones first. */
static int empty_tables(struct store_conn *ct, const struct store_table *t, const size_t *order,
			size_t n)
{
	int r = 0;
	for (size_t k = n; k-- > 0 && r == 0;) {
		struct buf sql;
		buf_init(&sql, BUF_NO_MAX);
		r = buf_puts(&sql, "DELETE FROM ");
		if (r == 0)
			r = quote_ident(&sql, t[order[k]].name);
		if (r == 0)
			r = store_exec(ct, buf_cstr(&sql), NULL, 0, NULL);
		buf_release(&sql);
	}
	return r;
}

/* The copy itself, inside a read transaction of cf and a write transaction of ct. */
static int copy_rows(struct store_conn *cf, struct store_conn *ct, const struct store_table *t,
		     size_t n, json_t *counts)
{
	size_t *order = calloc(n + 1, sizeof *order);
	size_t m = order ? copy_order(t, n, order) : 0;
	int r = order ? store_failed(ct, ct->store->be->triggers(ct, false)) : -ENOMEM;
	if (r == 0)
		r = empty_tables(ct, t, order, m);
	for (size_t k = 0; k < m && r == 0; k++) {
		long long rows = 0;
		r = copy_table(cf, ct, &t[order[k]], &rows);
		if (r == 0 && json_object_set_new(counts, t[order[k]].name, json_integer(rows)) < 0)
			r = -ENOMEM;
	}
	if (r == 0)
		r = store_failed(ct, ct->store->be->triggers(ct, true));
	free(order);
	return r;
}

static int copy_checked(struct store_conn *cf, struct store_conn *ct, bool force,
			struct buf *err, json_t *counts)
{
	struct store_table *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	bool pristine = false;
	int r = store_begin_read(cf);
	if (r == 0)
		r = store_tables(cf, &a, &na);
	if (r == 0)
		r = store_begin(ct);
	if (r == 0)
		r = store_tables(ct, &b, &nb);
	if (r == 0)
		r = same_tables(a, na, b, nb, err);
	if (r == 0 && !force && (r = store_is_pristine(ct, &pristine)) == 0 && !pristine) {
		(void)buf_puts(err, "the target holds data (tokens, or changes someone made): give "
			       "--force to replace everything it holds");
		r = -ENOTEMPTY;
	}
	if (r == 0)
		r = copy_rows(cf, ct, a, na, counts);
	if (r == 0)
		r = store_commit(ct);
	store_tables_free(a, na);
	store_tables_free(b, nb);
	return r;
}

int store_copy(struct store *from, struct store *to, bool force, struct buf *err,
	       json_t **ret_counts)
{
	struct store_conn *cf = NULL, *ct = NULL;
	json_t *counts = json_object();
	int r = counts ? 0 : -ENOMEM;
	if (r == 0 && from->schema_version != to->schema_version) {
		(void)buf_printf(err, "the source is at schema version %lld and the target at %lld",
				 from->schema_version, to->schema_version);
		r = -EPROTO;
	}
	if (r == 0)
		r = store_acquire(from, &cf);
	if (r == 0)
		r = store_acquire(to, &ct);
	if (r == 0)
		r = copy_checked(cf, ct, force, err, counts);
	if (r < 0 && !err->len)
		(void)buf_printf(err, "%s", cf && cf->error.len ? buf_cstr(&cf->error)
					   : ct && ct->error.len ? buf_cstr(&ct->error) : strerror(-r));
	store_release(ct);
	store_release(cf);
	if (r == 0 && ret_counts)
		*ret_counts = json_incref(counts);
	json_decref(counts);
	return r;
}

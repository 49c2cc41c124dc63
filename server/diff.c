/* diff: unified diffs of texts (Myers' shortest edit script, hunks with context) and
 * field-by-field differences between two sets of Kubernetes objects. */
#include "diff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- lines ---- */

struct line {
	const char *p;
	size_t n; /* bytes, with the '\n' when there is one */
};

struct lines {
	struct line *items;
	size_t count;
};

static int split_lines(const char *s, size_t len, struct lines *ret)
{
	size_t count = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			count++;
	if (len && s[len - 1] != '\n')
		count++;
	struct line *items = calloc(count ? count : 1, sizeof *items);
	if (!items)
		return -ENOMEM;
	size_t k = 0, start = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || i + 1 == len) {
			items[k++] = (struct line){s + start, i + 1 - start};
			start = i + 1;
		}
	}
	*ret = (struct lines){items, count};
	return 0;
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* ---- edit script ---- */

enum op { OP_EQ, OP_DEL, OP_INS };

struct edit {
	enum op op;
	size_t a; /* index in a (OP_EQ, OP_DEL) */
	size_t b; /* index in b (OP_EQ, OP_INS) */
};

struct script {
	struct edit *items;
	size_t count;
};

static void script_push(struct script *s, enum op op, size_t a, size_t b)
{
	s->items[s->count++] = (struct edit){op, a, b};
}

/* The middle a[a0..a1) vs b[b0..b1) as removed then added lines. */
static void script_replace(struct script *s, size_t a0, size_t a1, size_t b0, size_t b1)
{
	for (size_t i = a0; i < a1; i++)
		script_push(s, OP_DEL, i, b0);
	for (size_t j = b0; j < b1; j++)
		script_push(s, OP_INS, a1, j);
}

/* V value of diagonal k after step d, from the trace (steps 0..d stored one after the
 * other, step d holding k = -d..d at offset d*d). */
static long trace_at(const long *trace, long d, long k)
{
	return trace[d * d + (k + d)];
}

/* Myers' forward search over a[a0..a1) and b[b0..b1): the trace of every step and the
 * cost D. -E2BIG when D would exceed DIFF_MAX_COST, -ENOMEM. */
static int myers_trace(const struct lines *a, size_t a0, size_t a1, const struct lines *b,
		       size_t b0, size_t b1, long **ret_trace, long *ret_cost)
{
	long n = (long)(a1 - a0), m = (long)(b1 - b0), max = n + m;
	if (max > DIFF_MAX_COST)
		max = DIFF_MAX_COST;
	long *v = calloc((size_t)(2 * max + 3), sizeof *v);
	long *trace = NULL;
	size_t cap = 0;
	int r = v ? -E2BIG : -ENOMEM;
	long off = max + 1;
	for (long d = 0; v && d <= max; d++) {
		size_t need = (size_t)((d + 1) * (d + 1));
		if (need > cap) {
			size_t ncap = cap ? cap * 2 : 64;
			while (ncap < need)
				ncap *= 2;
			long *t = realloc(trace, ncap * sizeof *t);
			if (!t) {
				r = -ENOMEM;
				break;
			}
			trace = t;
			cap = ncap;
		}
		bool done = false;
		for (long k = -d; k <= d; k += 2) {
			long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
					 ? v[off + k + 1]
					 : v[off + k - 1] + 1;
			long y = x - k;
			while (x < n && y < m &&
			       line_eq(&a->items[a0 + (size_t)x], &b->items[b0 + (size_t)y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			trace[d * d + (k + d)] = x;
			if (x >= n && y >= m)
				done = true;
		}
		if (done) {
			*ret_trace = trace;
			*ret_cost = d;
			free(v);
			return 0;
		}
	}
	free(v);
	free(trace);
	return r;
}

/* Appends the edits of the trace (found backwards) to s in forward order. */
static void myers_backtrack(const long *trace, long cost, size_t a0, size_t a1, size_t b0,
			    size_t b1, struct script *s)
{
	size_t start = s->count;
	long x = (long)(a1 - a0), y = (long)(b1 - b0);
	for (long d = cost; d > 0; d--) {
		long k = x - y;
		bool ins = k == -d || (k != d && trace_at(trace, d - 1, k - 1) < trace_at(trace, d - 1, k + 1));
		long pk = ins ? k + 1 : k - 1;
		long px = trace_at(trace, d - 1, pk), py = px - pk;
		long mx = ins ? px : px + 1, my = ins ? py + 1 : py;
		while (x > mx && y > my) {
			x--;
			y--;
			script_push(s, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
		}
		if (ins)
			script_push(s, OP_INS, a0 + (size_t)px, b0 + (size_t)py);
		else
			script_push(s, OP_DEL, a0 + (size_t)px, b0 + (size_t)py);
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		x--;
		y--;
		script_push(s, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
	}
	for (size_t i = start, j = s->count; i + 1 < j; i++, j--) {
		struct edit t = s->items[i];
		s->items[i] = s->items[j - 1];
		s->items[j - 1] = t;
	}
}

/* The shortest edit script from a to b (common prefix and suffix trimmed first). */
static int edit_script(const struct lines *a, const struct lines *b, struct script *ret)
{
	struct script s = {calloc(a->count + b->count + 1, sizeof(struct edit)), 0};
	if (!s.items)
		return -ENOMEM;
	size_t pre = 0, suf = 0;
	while (pre < a->count && pre < b->count && line_eq(&a->items[pre], &b->items[pre]))
		pre++;
	while (suf < a->count - pre && suf < b->count - pre &&
	       line_eq(&a->items[a->count - 1 - suf], &b->items[b->count - 1 - suf]))
		suf++;
	for (size_t i = 0; i < pre; i++)
		script_push(&s, OP_EQ, i, i);
	size_t a1 = a->count - suf, b1 = b->count - suf;
	long *trace = NULL, cost = 0;
	int r = myers_trace(a, pre, a1, b, pre, b1, &trace, &cost);
	if (r == 0)
		myers_backtrack(trace, cost, pre, a1, pre, b1, &s);
	else if (r == -E2BIG)
		script_replace(&s, pre, a1, pre, b1);
	free(trace);
	if (r < 0 && r != -E2BIG) {
		free(s.items);
		return r;
	}
	for (size_t i = 0; i < suf; i++)
		script_push(&s, OP_EQ, a1 + i, b1 + i);
	*ret = s;
	return 0;
}

/* ---- hunks ---- */

static int put_line(struct buf *out, char mark, const struct line *l)
{
	int r = buf_append(out, &mark, 1);
	if (r == 0)
		r = buf_append(out, l->p, l->n);
	if (r == 0 && (l->n == 0 || l->p[l->n - 1] != '\n'))
		r = buf_puts(out, "\n\\ No newline at end of file\n");
	return r;
}

/* "-l,s" with GNU's conventions: ",1" left out; an empty range names the line before. */
static int put_range(struct buf *out, char sign, size_t first, size_t count)
{
	if (count == 1)
		return buf_printf(out, "%c%zu", sign, first + 1);
	return buf_printf(out, "%c%zu,%zu", sign, count ? first + 1 : first, count);
}

/* Writes the hunk of edits [from, to). */
static int put_hunk(struct buf *out, const struct script *s, size_t from, size_t to,
		    const struct lines *a, const struct lines *b)
{
	size_t na = 0, nb = 0, a_first = SIZE_MAX, b_first = SIZE_MAX;
	for (size_t i = from; i < to; i++) {
		const struct edit *e = &s->items[i];
		if (e->op != OP_INS) {
			na++;
			if (a_first == SIZE_MAX)
				a_first = e->a;
		}
		if (e->op != OP_DEL) {
			nb++;
			if (b_first == SIZE_MAX)
				b_first = e->b;
		}
	}
	/* an empty side starts after the lines before the hunk */
	if (a_first == SIZE_MAX)
		a_first = s->items[from].a;
	if (b_first == SIZE_MAX)
		b_first = s->items[from].b;
	int r = buf_puts(out, "@@ ");
	if (r == 0)
		r = put_range(out, '-', a_first, na);
	if (r == 0)
		r = buf_puts(out, " ");
	if (r == 0)
		r = put_range(out, '+', b_first, nb);
	if (r == 0)
		r = buf_puts(out, " @@\n");
	for (size_t i = from; r == 0 && i < to; i++) {
		const struct edit *e = &s->items[i];
		if (e->op == OP_EQ)
			r = put_line(out, ' ', &a->items[e->a]);
		else if (e->op == OP_DEL)
			r = put_line(out, '-', &a->items[e->a]);
		else
			r = put_line(out, '+', &b->items[e->b]);
	}
	return r;
}

static int put_hunks(struct buf *out, const struct script *s, const struct lines *a,
		     const struct lines *b, unsigned context)
{
	size_t i = 0;
	int r = 0;
	while (r == 0 && i < s->count) {
		while (i < s->count && s->items[i].op == OP_EQ)
			i++;
		if (i == s->count)
			break;
		size_t from = i > context ? i - context : 0;
		size_t last = i; /* last change of the hunk */
		for (size_t j = i + 1; j < s->count; j++) {
			if (s->items[j].op == OP_EQ)
				continue;
			if (j - last - 1 > 2 * (size_t)context)
				break;
			last = j;
		}
		size_t to = last + 1 + context < s->count ? last + 1 + context : s->count;
		r = put_hunk(out, s, from, to, a, b);
		i = last + 1;
	}
	return r;
}

int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
		 unsigned context, struct buf *out)
{
	if ((!a && !b) || (a && b && alen == blen && memcmp(a, b, alen) == 0))
		return 0;
	struct lines la = {0}, lb = {0};
	struct script s = {0};
	int r = split_lines(a ? a : "", a ? alen : 0, &la);
	if (r == 0)
		r = split_lines(b ? b : "", b ? blen : 0, &lb);
	if (r == 0)
		r = edit_script(&la, &lb, &s);
	if (r == 0)
		r = a ? buf_printf(out, "--- a/%s\n", name) : buf_puts(out, "--- /dev/null\n");
	if (r == 0)
		r = b ? buf_printf(out, "+++ b/%s\n", name) : buf_puts(out, "+++ /dev/null\n");
	if (r == 0)
		r = put_hunks(out, &s, &la, &lb, context);
	free(la.items);
	free(lb.items);
	free(s.items);
	return r;
}

/* ---- objects ---- */

static int add_field(json_t *fields, const struct buf *path, const json_t *from, const json_t *to)
{
	json_t *f = json_pack("{s:s, s:O, s:O}", "path", buf_cstr(path), "from",
			      from ? from : json_null(), "to", to ? to : json_null());
	return f && json_array_append_new(fields, f) == 0 ? 0 : -ENOMEM;
}

static int path_push_index(struct buf *path, size_t i)
{
	return buf_printf(path, "/%zu", i);
}

static void path_truncate(struct buf *path, size_t len)
{
	path->len = len;
	if (path->data)
		path->data[len] = '\0';
}

static int compare(const json_t *a, const json_t *b, struct buf *path, json_t *fields);

static int compare_objects(const json_t *a, const json_t *b, struct buf *path, json_t *fields)
{
	size_t len = path->len;
	const char *key;
	json_t *va;
	int r = 0;
	json_object_foreach((json_t *)a, key, va) {
		r = util_pointer_append(path, key);
		if (r == 0)
			r = compare(va, json_object_get(b, key), path, fields);
		path_truncate(path, len);
		if (r < 0)
			return r;
	}
	json_t *vb;
	json_object_foreach((json_t *)b, key, vb) {
		if (json_object_get(a, key))
			continue;
		r = util_pointer_append(path, key);
		if (r == 0)
			r = add_field(fields, path, NULL, vb);
		path_truncate(path, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* true when every item is an object with a string "name", all names distinct. */
static bool named_items(const json_t *arr)
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(arr, i), "name"));
		if (!name)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, json_string_value(json_object_get(json_array_get(arr, j), "name"))) == 0)
				return false;
	}
	return n > 0;
}

/* Index of the item named like item in arr, or SIZE_MAX. */
static size_t find_named(const json_t *arr, const json_t *item)
{
	const char *name = json_string_value(json_object_get(item, "name"));
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(name, json_string_value(json_object_get(json_array_get(arr, i), "name"))) == 0)
			return i;
	return SIZE_MAX;
}

static int compare_named(const json_t *a, const json_t *b, struct buf *path, json_t *fields)
{
	size_t len = path->len;
	int r = 0;
	for (size_t j = 0; r == 0 && j < json_array_size(b); j++) {
		const json_t *vb = json_array_get(b, j);
		size_t i = find_named(a, vb);
		r = path_push_index(path, j);
		if (r == 0)
			r = i == SIZE_MAX ? add_field(fields, path, NULL, vb)
					  : compare(json_array_get(a, i), vb, path, fields);
		path_truncate(path, len);
	}
	for (size_t i = 0; r == 0 && i < json_array_size(a); i++) {
		const json_t *va = json_array_get(a, i);
		if (find_named(b, va) != SIZE_MAX)
			continue;
		r = path_push_index(path, i);
		if (r == 0)
			r = add_field(fields, path, va, NULL);
		path_truncate(path, len);
	}
	return r;
}

static int compare_arrays(const json_t *a, const json_t *b, struct buf *path, json_t *fields)
{
	if (named_items(a) && named_items(b))
		return compare_named(a, b, path, fields);
	size_t len = path->len, na = json_array_size(a), nb = json_array_size(b);
	int r = 0;
	for (size_t i = 0; r == 0 && i < (na > nb ? na : nb); i++) {
		r = path_push_index(path, i);
		if (r == 0)
			r = compare(json_array_get(a, i), json_array_get(b, i), path, fields);
		path_truncate(path, len);
	}
	return r;
}

/* Appends to fields every difference between a and b (either may be NULL: absent). */
static int compare(const json_t *a, const json_t *b, struct buf *path, json_t *fields)
{
	if (a && b && json_is_object(a) && json_is_object(b))
		return compare_objects(a, b, path, fields);
	if (a && b && json_is_array(a) && json_is_array(b))
		return compare_arrays(a, b, path, fields);
	if (a && b && json_equal(a, b))
		return 0;
	return add_field(fields, path, a, b);
}

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

static bool same_object(const json_t *x, const json_t *y)
{
	const char *nsx = meta_str(x, "namespace"), *nsy = meta_str(y, "namespace");
	return strcmp(json_string_value(json_object_get(x, "kind")),
		      json_string_value(json_object_get(y, "kind"))) == 0 &&
	       strcmp(meta_str(x, "name"), meta_str(y, "name")) == 0 &&
	       (nsx == nsy || (nsx && nsy && strcmp(nsx, nsy) == 0));
}

static bool identified(const json_t *obj)
{
	return json_is_string(json_object_get(obj, "kind")) && meta_str(obj, "name");
}

/* The object of files like obj, or NULL. */
static const json_t *find_object(const json_t *files, const json_t *obj)
{
	const char *file;
	json_t *objs, *o;
	size_t i;
	json_object_foreach((json_t *)files, file, objs)
		json_array_foreach(objs, i, o)
			if (identified(o) && same_object(o, obj))
				return o;
	return NULL;
}

static int add_change(json_t *changes, const json_t *obj, const char *file, const char *change,
		      json_t *fields)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind",
			      json_string_value(json_object_get(obj, "kind")), "name",
			      meta_str(obj, "name"), "file", file, "change", change, "fields",
			      fields ? fields : json_array());
	return c && json_array_append_new(changes, c) == 0 ? 0 : -ENOMEM;
}

/* Objects of file `file` in `side` compared with `other`; removed_only lists only those
 * missing from other (as removed). */
static int compare_file(const char *file, const json_t *objs, const json_t *other,
			bool removed_only, json_t *changes)
{
	size_t i;
	json_t *obj;
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	int r = 0;
	json_array_foreach(objs, i, obj) {
		if (!identified(obj))
			continue;
		const json_t *peer = find_object(other, obj);
		if (removed_only) {
			if (!peer)
				r = add_change(changes, obj, file, "removed", NULL);
		} else if (!peer) {
			r = add_change(changes, obj, file, "added", NULL);
		} else {
			json_t *fields = json_array();
			path_truncate(&path, 0);
			r = fields ? compare(peer, obj, &path, fields) : -ENOMEM;
			if (r == 0 && json_array_size(fields))
				r = add_change(changes, obj, file, "modified", json_incref(fields));
			json_decref(fields);
		}
		if (r < 0)
			break;
	}
	buf_release(&path);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int diff_file_names(const json_t *from, const json_t *to, const char ***ret, size_t *ret_n)
{
	size_t cap = json_object_size(from) + json_object_size(to), n = 0;
	const char **names = calloc(cap ? cap : 1, sizeof *names);
	if (!names)
		return -ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)to, key, v)
		names[n++] = key;
	json_object_foreach((json_t *)from, key, v)
		if (!json_object_get(to, key))
			names[n++] = key;
	qsort(names, n, sizeof *names, cmp_str);
	*ret = names;
	*ret_n = n;
	return 0;
}

int diff_objects(const json_t *from, const json_t *to, json_t **ret_changes)
{
	const char **names = NULL;
	size_t n = 0;
	json_t *changes = json_array();
	int r = changes ? diff_file_names(from, to, &names, &n) : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = compare_file(names[i], json_object_get(to, names[i]), from, false, changes);
		if (r == 0)
			r = compare_file(names[i], json_object_get(from, names[i]), to, true, changes);
	}
	free(names);
	if (r < 0) {
		json_decref(changes);
		return r;
	}
	*ret_changes = changes;
	return 0;
}

int diff_values(const json_t *from, const json_t *to, json_t **ret_fields)
{
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	json_t *fields = json_array();
	int r = fields ? 0 : -ENOMEM;
	if (r == 0 && (from || to))
		r = compare(from, to, &path, fields);
	buf_release(&path);
	if (r < 0) {
		json_decref(fields);
		return r;
	}
	*ret_fields = fields;
	return 0;
}

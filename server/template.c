/* template: ${...} placeholders of component types expanded in JSON values, with the
 * quoting filters of the languages they reach (include/template.h). */
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsoniter.h"

#define MAX_KEYS 32

/* Where in the input the walk is (keys borrowed; array indexes written into idx). */
struct where {
	const char *const *at;
	const char *keys[MAX_KEYS];
	char idx[MAX_KEYS][24];
	size_t depth;
};

struct run {
	const struct template_ctx *ctx; /* NULL: template_check (no values) */
	const char *const *roots;       /* template_check: the roots allowed */
	struct model_errors *errs;
	struct where w;
};

static int fail(struct run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct run *R, const char *fmt, ...)
{
	struct buf d;
	va_list ap;
	buf_init(&d, BUF_NO_MAX);
	va_start(ap, fmt);
	int r = buf_vprintf(&d, fmt, ap);
	va_end(ap);
	const char *segs[MAX_KEYS + 1];
	for (size_t i = 0; i < R->w.depth; i++)
		segs[i] = R->w.keys[i];
	segs[R->w.depth] = NULL;
	if (r == 0)
		r = model_errors_at(R->errs, R->w.at, segs, "%s", buf_cstr(&d));
	buf_release(&d);
	return r < 0 ? -ENOMEM : TEMPLATE_EINVALID;
}

/* ---- filters ---------------------------------------------------------------------------- */

/* s between two q, each q inside written as esc (and each \ as bs, when bs). */
static int quoted(struct buf *out, const char *s, char q, const char *esc, const char *bs)
{
	int r = buf_append(out, &q, 1);
	for (const char *c = s; r == 0 && *c; c++)
		r = *c == q ? buf_puts(out, esc) : (*c == '\\' && bs) ? buf_puts(out, bs) : buf_append(out, c, 1);
	return r ? r : buf_append(out, &q, 1);
}

static int filter_json(struct buf *out, const char *s)
{
	json_t *str = json_string(s);
	char *text = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
	int r = text ? buf_puts(out, text) : -ENOMEM;
	free(text);
	json_decref(str);
	return r;
}

/* s lowercased, each byte other than a letter, a digit or '_' written as '_'. */
static int filter_snake(struct buf *out, const char *s)
{
	int r = 0;
	for (const char *c = s; r == 0 && *c; c++) {
		char x = isalnum((unsigned char)*c) || *c == '_' ? (char)tolower((unsigned char)*c) : '_';
		r = buf_append(out, &x, 1);
	}
	return r;
}

/* s percent-encoded (RFC 3986): every byte but the unreserved ones as %XX. */
static int filter_url(struct buf *out, const char *s)
{
	int r = 0;
	for (const unsigned char *c = (const unsigned char *)s; r == 0 && *c; c++)
		r = isalnum(*c) || strchr("-._~", *c) ? buf_append(out, c, 1) : buf_printf(out, "%%%02X", *c);
	return r;
}

static const char *const filters[] = {"sh", "sql_ident", "pg_ident", "sql_string", "json", "snake", "url", "text"};
#define NFILTERS (sizeof filters / sizeof *filters)

/* The index of filter name (n bytes) in filters, or -1. */
static int filter_index(const char *name, size_t n)
{
	for (size_t i = 0; i < NFILTERS; i++)
		if (strlen(filters[i]) == n && memcmp(filters[i], name, n) == 0)
			return (int)i;
	return -1;
}

static int apply_filter(int filter, const char *s, struct buf *out)
{
	switch (filter) {
	case 0:
		return quoted(out, s, '\'', "'\\''", NULL);
	case 1:
		return quoted(out, s, '`', "``", NULL);
	case 2:
		return quoted(out, s, '"', "\"\"", NULL);
	case 3:
		return quoted(out, s, '\'', "''", "\\\\");
	case 4:
		return filter_json(out, s);
	case 5:
		return filter_snake(out, s);
	case 6:
		return filter_url(out, s);
	default:
		return buf_puts(out, s);
	}
}

/* ---- placeholders ----------------------------------------------------------------------- */

/* One placeholder: ${[filter:]root.member...}, its text at [start, end). */
struct ph {
	int filter;       /* -1: none */
	const char *path; /* borrowed from the string */
	size_t path_len;
};

static bool path_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Parses the placeholder whose "${" is at s; *ret_end is past its "}". */
static int parse_ph(struct run *R, const char *s, struct ph *ret, const char **ret_end)
{
	const char *close = strchr(s + 2, '}');
	if (!close)
		return fail(R, "has a \"${\" without its \"}\" (write \"$${\" for a literal \"${\")");
	const char *body = s + 2, *colon = memchr(body, ':', (size_t)(close - body));
	struct ph p = {-1, colon ? colon + 1 : body, (size_t)(close - (colon ? colon + 1 : body))};
	if (colon && (p.filter = filter_index(body, (size_t)(colon - body))) < 0)
		return fail(R, "names the filter \"%.*s\"; the filters are sh, sql_ident, pg_ident, sql_string, json, snake, url and text",
			    (int)(colon - body), body);
	for (size_t i = 0; i < p.path_len; i++)
		if (!path_char(p.path[i]))
			return fail(R, "has the placeholder \"${%.*s}\", which is not a path of names joined by '.'",
				    (int)(close - body), body);
	if (p.path_len == 0 || p.path[0] == '.' || p.path[p.path_len - 1] == '.')
		return fail(R, "has an empty placeholder or member name in \"${%.*s}\"", (int)(close - body), body);
	*ret = p;
	*ret_end = close + 1;
	return 0;
}

/* The root of p and the rest of its path after the root's '.' (or NULL). */
static size_t root_len(const struct ph *p)
{
	const char *dot = memchr(p->path, '.', p->path_len);
	return dot ? (size_t)(dot - p->path) : p->path_len;
}

static bool is_root(const struct ph *p, const char *root)
{
	return root_len(p) == strlen(root) && memcmp(p->path, root, root_len(p)) == 0;
}

/* The member at the rest of p's path in obj, or NULL. */
static const json_t *member_path(const json_t *obj, const struct ph *p)
{
	const char *s = p->path + root_len(p), *end = p->path + p->path_len;
	while (obj && s < end) {
		const char *next = memchr(s + 1, '.', (size_t)(end - s - 1));
		size_t n = (size_t)((next ? next : end) - s - 1);
		obj = json_object_getn(obj, s + 1, n);
		s = next ? next : end;
	}
	return obj;
}

/* The JSON value p names (borrowed), or NULL with the problem reported. */
static const json_t *lookup(struct run *R, const struct ph *p, int *ret_err)
{
	const json_t *base = is_root(p, "params") ? R->ctx->params : is_root(p, "consumer") ? R->ctx->consumer : NULL;
	const json_t *v = base ? member_path(base, p) : NULL;
	if (!v)
		*ret_err = fail(R, "names \"%.*s\", which %s", (int)p->path_len, p->path,
				base ? "is not there" : "is not known here (name, service, params, consumer, secret)");
	return v;
}

/* The text of a scalar v (a string, an integer or a boolean), appended to raw; 1 when v
 * is not a scalar. */
static int scalar_text(const json_t *v, struct buf *raw)
{
	if (json_is_string(v))
		return buf_puts(raw, json_string_value(v));
	if (json_is_integer(v))
		return buf_printf(raw, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return buf_puts(raw, json_is_true(v) ? "true" : "false");
	return 1;
}

/* A value that is not a scalar through p's filter: any value as JSON text (json), an
 * array of scalars as shell words joined by spaces (sh). */
static int compound_text(struct run *R, const struct ph *p, const json_t *v, struct buf *out)
{
	if (p->filter == 4) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		int r = text ? buf_puts(out, text) : -ENOMEM;
		free(text);
		return r;
	}
	for (size_t i = 0; p->filter == 0 && json_is_array(v) && i < json_array_size(v); i++) {
		struct buf item;
		buf_init(&item, BUF_NO_MAX);
		int r = scalar_text(json_array_get(v, i), &item);
		if (r == 0 && i > 0)
			r = buf_puts(out, " ");
		if (r == 0)
			r = apply_filter(p->filter, buf_cstr(&item), out);
		buf_release(&item);
		if (r != 0)
			return r > 0 ? fail(R, "puts \"%.*s\" into text, but an item is not a string or a number",
					    (int)p->path_len, p->path) : r;
	}
	if (p->filter == 0 && json_is_array(v))
		return 0;
	return fail(R, "puts \"%.*s\" into text, but it is not a string or a number%s", (int)p->path_len, p->path,
		    json_is_array(v) ? " (an array goes through sh or json)" : " (an object goes through json)");
}

/* The text p stands for, appended to out. */
static int ph_text(struct run *R, const struct ph *p, struct buf *out)
{
	struct buf raw;
	int r = 0;
	buf_init(&raw, BUF_NO_MAX);
	if (is_root(p, "name") && p->path_len == 4 && R->ctx->name) {
		r = buf_puts(&raw, R->ctx->name);
	} else if (is_root(p, "service") && p->path_len == 7 && R->ctx->service) {
		r = buf_puts(&raw, R->ctx->service);
	} else if (is_root(p, "secret") && R->ctx->secret && p->path_len > 7) {
		struct buf key;
		buf_init(&key, BUF_NO_MAX);
		r = buf_append(&key, p->path + 7, p->path_len - 7);
		if (r == 0)
			r = R->ctx->secret(R->ctx->cls, buf_cstr(&key), &raw);
		if (r == -ENOENT)
			r = fail(R, "names the secret \"%s\", which the type does not have", buf_cstr(&key));
		buf_release(&key);
	} else {
		const json_t *v = lookup(R, p, &r);
		if (v && scalar_text(v, &raw) > 0) {
			r = compound_text(R, p, v, out);
			buf_release(&raw);
			return r;
		}
	}
	if (r == 0)
		r = apply_filter(p->filter, buf_cstr(&raw), out);
	buf_release(&raw);
	return r;
}

/* In template_check: the root of p among the roots allowed. */
static int ph_check(struct run *R, const struct ph *p)
{
	for (const char *const *root = R->roots; *root; root++)
		if (is_root(p, *root))
			return 0;
	return fail(R, "names \"%.*s\", which is not known here", (int)p->path_len, p->path);
}

/* Expands (or, without a context, checks) the placeholders of s into out. */
static int expand_text(struct run *R, const char *s, struct buf *out)
{
	int r = buf_puts(out, "");
	while (r == 0 && *s) {
		const char *dollar = strstr(s, "${");
		size_t plain = dollar ? (size_t)(dollar - s) : strlen(s);
		if (dollar && plain > 0 && dollar[-1] == '$') { /* "$${" is a literal "${" */
			r = buf_append(out, s, plain - 1);
			if (r == 0)
				r = buf_puts(out, "${");
			s = dollar + 2;
			continue;
		}
		r = buf_append(out, s, plain);
		if (r != 0 || !dollar)
			break;
		struct ph p;
		r = parse_ph(R, dollar, &p, &s);
		if (r == 0)
			r = R->ctx ? ph_text(R, &p, out) : ph_check(R, &p);
	}
	return r;
}

/* A string that is exactly one unfiltered placeholder of params or consumer: its value. */
static int whole_value(struct run *R, const char *s, json_t **ret)
{
	size_t n = strlen(s);
	struct ph p;
	const char *end;
	*ret = NULL;
	if (n < 4 || strncmp(s, "${", 2) != 0 || s[n - 1] != '}' || memchr(s + 2, '}', n - 3) || !R->ctx)
		return 0;
	int r = parse_ph(R, s, &p, &end);
	if (r != 0 || p.filter >= 0 || !(is_root(&p, "params") || is_root(&p, "consumer")))
		return r;
	const json_t *v = lookup(R, &p, &r);
	if (v && !(*ret = model_copy(v)))
		r = -ENOMEM;
	return r;
}

static int expand_value(struct run *R, const json_t *in, json_t **ret);

/* The boolean a condition (exactly one unfiltered ${params.X} or ${consumer.X}) names;
 * without a context (template_check) only its form and root are checked (*ret true). */
static int condition(struct run *R, const json_t *cond, bool *ret)
{
	const char *s = json_string_value(cond);
	size_t n = s ? strlen(s) : 0;
	struct ph p;
	const char *end;
	*ret = true;
	if (n < 4 || strncmp(s, "${", 2) != 0 || s[n - 1] != '}' || memchr(s + 2, '}', n - 3))
		return fail(R, "is a condition: exactly one placeholder \"${params.X}\" (or consumer) is expected");
	int r = parse_ph(R, s, &p, &end);
	if (r == 0 && (p.filter >= 0 || !(is_root(&p, "params") || is_root(&p, "consumer"))))
		r = fail(R, "is a condition: it names params or consumer, without a filter");
	if (r != 0 || !R->ctx)
		return r;
	const json_t *v = lookup(R, &p, &r);
	if (v && !json_is_boolean(v))
		r = fail(R, "is a condition, but \"%.*s\" is not a boolean", (int)p.path_len, p.path);
	*ret = json_is_true(v);
	return r;
}

static bool is_if(const json_t *in)
{
	return json_is_object(in) && json_object_get(in, "$if");
}

/* {"$if": COND, "then": A, "else": B}: A or B expanded (NULL, dropped by the container,
 * for a branch that is absent); template_check checks both. */
static int expand_if(struct run *R, const json_t *in, json_t **ret)
{
	const char *key;
	json_t *v;
	bool yes;
	*ret = NULL;
	EACH_MEMBER(in, key, v) {
		(void)v;
		if (strcmp(key, "$if") != 0 && strcmp(key, "then") != 0 && strcmp(key, "else") != 0)
			return fail(R, "is a condition: \"%s\" is none of $if, then and else", key);
	}
	R->w.keys[R->w.depth++] = "$if";
	int r = condition(R, json_object_get(in, "$if"), &yes);
	R->w.depth--;
	for (int b = 0; r == 0 && b < 2; b++) {
		const char *branch = b ? "else" : "then";
		const json_t *x = json_object_get(in, branch);
		if (!x || (R->ctx && yes == (b == 1)))
			continue;
		json_t *out = NULL;
		R->w.keys[R->w.depth++] = branch;
		r = expand_value(R, x, &out);
		R->w.depth--;
		if (r == 0 && R->ctx)
			*ret = out;
		else
			json_decref(out);
	}
	return r;
}

static void push(struct run *R, const char *key)
{
	R->w.keys[R->w.depth++] = key;
}

static int expand_string(struct run *R, const json_t *in, json_t **ret)
{
	json_t *whole = NULL;
	int r = whole_value(R, json_string_value(in), &whole);
	if (r != 0 || whole) {
		*ret = whole;
		return r;
	}
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	r = expand_text(R, json_string_value(in), &out);
	if (r == 0 && !(*ret = R->ctx ? json_stringn(out.data ? out.data : "", out.len) : json_incref((json_t *)in)))
		r = -ENOMEM;
	buf_release(&out);
	return r;
}

static int expand_container(struct run *R, const json_t *in, json_t **ret)
{
	json_t *out = json_is_object(in) ? json_object() : json_array();
	int r = out ? 0 : -ENOMEM, bad = 0;
	const char *key;
	json_t *v, *x = NULL;
	if (R->w.depth == MAX_KEYS)
		r = fail(R, "nests too deep");
	if (json_is_object(in)) {
		EACH_MEMBER(in, key, v) {
			if (r < 0)
				break;
			push(R, key);
			r = expand_value(R, v, &x);
			R->w.depth--;
			bad |= r == TEMPLATE_EINVALID;
			if (r == 0 && x && json_object_set_new_nocheck(out, key, x) < 0)
				r = -ENOMEM;
			r = r == TEMPLATE_EINVALID ? 0 : r;
		}
	}
	for (size_t i = 0; r >= 0 && json_is_array(in) && i < json_array_size(in); i++) {
		(void)snprintf(R->w.idx[R->w.depth], sizeof R->w.idx[0], "%zu", i);
		push(R, R->w.idx[R->w.depth]);
		r = expand_value(R, json_array_get(in, i), &x);
		R->w.depth--;
		bad |= r == TEMPLATE_EINVALID;
		if (r == 0 && x && is_if(json_array_get(in, i)) && json_is_array(x)) {
			if (json_array_extend(out, x) < 0)
				r = -ENOMEM;
			json_decref(x);
		} else if (r == 0 && x && json_array_append_new(out, x) < 0) {
			r = -ENOMEM;
		}
		r = r == TEMPLATE_EINVALID ? 0 : r;
	}
	if (r == 0 && bad)
		r = TEMPLATE_EINVALID;
	if (r == 0)
		*ret = out;
	else
		json_decref(out);
	return r;
}

static int expand_value(struct run *R, const json_t *in, json_t **ret)
{
	if (is_if(in))
		return expand_if(R, in, ret);
	if (json_is_string(in))
		return expand_string(R, in, ret);
	if (json_is_object(in) || json_is_array(in))
		return expand_container(R, in, ret);
	*ret = json_incref((json_t *)in);
	return 0;
}

int template_expand(const json_t *in, const struct template_ctx *ctx, struct model_errors *errs,
		    const char *const *at, json_t **ret)
{
	struct run R = {.ctx = ctx, .errs = errs, .w = {.at = at}};
	return expand_value(&R, in, ret);
}

int template_text(const char *s, const struct template_ctx *ctx, struct buf *out, struct model_errors *errs,
		  const char *const *at)
{
	struct run R = {.ctx = ctx, .errs = errs, .w = {.at = at}};
	return expand_text(&R, s, out);
}

int template_condition(const char *cond, const struct template_ctx *ctx, struct model_errors *errs,
		       const char *const *at, bool *ret)
{
	struct run R = {.ctx = ctx, .errs = errs, .w = {.at = at}};
	json_t *s = json_string(cond);
	int r = s ? condition(&R, s, ret) : -ENOMEM;
	json_decref(s);
	return r;
}

int template_check(const json_t *in, const char *const *roots, struct model_errors *errs, const char *const *at)
{
	struct run R = {.roots = roots, .errs = errs, .w = {.at = at}};
	json_t *copy = NULL;
	int r = expand_value(&R, in, &copy);
	json_decref(copy);
	return r;
}

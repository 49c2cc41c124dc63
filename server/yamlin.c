/* yamlin: YAML -> JSON for the importers, with libyaml's event parser: limits, aliases
 * counted as often as they are used, merge keys, one document or a stream, YAML 1.2 or
 * YAML 1.1 (Kubernetes) scalars. */
#include "yamlin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

#define DEPTH_CAP 4096
#define SAFE_INT (1LL << 53) /* integers beyond +-2^53 stay strings (JSON readers lose them) */

struct frame {
	json_t *node;   /* object or array being filled */
	json_t *key;    /* pending mapping key, a string (NULL: expecting a key) */
	json_t *merges; /* values given to "<<", applied at the end of the mapping */
	json_t *anchor; /* anchor of this node (a string), registered when it ends */
	size_t nodes;   /* nodes in this subtree (expanded) */
};

struct reader {
	yaml_parser_t parser;
	const struct yamlin_opts *opts;
	struct frame *frames; /* opts->max_depth of them */
	size_t depth;
	json_t *anchors; /* anchor -> [value, node count], for the current document */
	json_t *value;   /* the current document's value once complete */
	json_t *docs;    /* stream: the documents so far */
	json_t *spans;   /* stream: [start, end] of each */
	size_t doc_start;
	size_t nodes;
	size_t documents;
	bool stream;
	struct buf *err;
};

static int fail(struct reader *rd, int code, const yaml_mark_t *mark, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct reader *rd, int code, const yaml_mark_t *mark, const char *fmt, ...)
{
	if (rd->err && rd->err->len == 0) {
		va_list ap;
		va_start(ap, fmt);
		(void)buf_vprintf(rd->err, fmt, ap);
		va_end(ap);
		if (mark)
			(void)buf_printf(rd->err, " at line %zu, column %zu", mark->line + 1,
					 mark->column + 1);
	}
	return code;
}

/* ---- scalars ---- */

static bool word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* A YAML 1.1 integer (decimal, 0 octal, 0o, 0x, 0b, '_' between digits) within +-2^53. */
static bool yaml11_int(const char *s, long long *ret)
{
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	unsigned long long v = 0;
	bool digits = false;
	for (; *s; s++) {
		if (*s == '_' && digits)
			continue;
		int d = util_hex_digit(*s);
		if (d < 0 || d >= base)
			return false;
		v = v * (unsigned)base + (unsigned)d;
		digits = true;
		if (v > (unsigned long long)SAFE_INT)
			return false;
	}
	if (!digits)
		return false;
	*ret = neg ? -(long long)v : (long long)v;
	return true;
}

static size_t skip_digits(const char *s)
{
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* A YAML 1.1 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml11_float(const char *s, double *ret)
{
	const char *p = s + (*s == '-' || *s == '+');
	size_t n = skip_digits(p);
	if (n == 0 && !(p[0] == '.' && skip_digits(p + 1) > 0))
		return false;
	p += n;
	if (*p == '.')
		p += 1 + skip_digits(p + 1);
	if (*p == 'e' || *p == 'E') {
		p++;
		p += *p == '-' || *p == '+';
		n = skip_digits(p);
		if (n == 0)
			return false;
		p += n;
	}
	if (*p)
		return false;
	char *end;
	double d = strtod(s, &end);
	if (*end || d > 1.7e308 || d < -1.7e308) /* JSON has no infinity */
		return false;
	*ret = d;
	return true;
}

/* The JSON value of a plain, untagged scalar s of length n. */
static json_t *plain_value(const struct reader *rd, const char *s, size_t n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const trues11[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", NULL};
	static const char *const falses11[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", NULL};
	bool v11 = rd->opts->flags & YAMLIN_YAML11;
	if (word_in(s, nulls))
		return json_null();
	if (word_in(s, trues) || (v11 && word_in(s, trues11)))
		return json_true();
	if (word_in(s, falses) || (v11 && word_in(s, falses11)))
		return json_false();
	long long v;
	double d;
	if (v11) {
		if (yaml11_int(s, &v))
			return json_integer(v);
		if (yaml11_float(s, &d))
			return json_real(d);
		return json_stringn(s, n);
	}
	const char *digits = (*s == '+' || *s == '-') ? s + 1 : s;
	if (*digits >= '0' && *digits <= '9' &&
	    util_parse_int(*s == '+' ? s + 1 : s, -SAFE_INT, SAFE_INT, &v) == 0)
		return json_integer(v);
	return json_stringn(s, n);
}

/* ---- containers ---- */

static int register_anchor(struct reader *rd, json_t *anchor, json_t *value, size_t nodes)
{
	json_t *entry = json_pack("[O, I]", value, (json_int_t)nodes);
	return entry && json_object_set_new(rd->anchors, json_string_value(anchor), entry) == 0 ? 0 : -ENOMEM;
}

/* Adds a finished value (reference stolen) to the open container or makes it the
 * document's value. anchor (borrowed, may be NULL) names it. */
static int add_value(struct reader *rd, json_t *value, size_t nodes, json_t *anchor,
		     const yaml_mark_t *mark)
{
	int r = 0;
	if (!value)
		return -ENOMEM;
	if (anchor)
		r = register_anchor(rd, anchor, value, nodes);
	if (r < 0 || rd->depth == 0) {
		if (r == 0)
			rd->value = value;
		else
			json_decref(value);
		return r;
	}
	struct frame *f = &rd->frames[rd->depth - 1];
	f->nodes += nodes;
	if (json_is_array(f->node))
		return json_array_append_new(f->node, value) == 0 ? 0 : -ENOMEM;
	if (!f->key) {
		if (!json_is_string(value)) {
			json_decref(value);
			return fail(rd, -EINVAL, mark, "a mapping key must be a string");
		}
		f->key = value;
		return 0;
	}
	json_t *keyv = f->key;
	const char *key = json_string_value(keyv);
	f->key = NULL;
	if (strcmp(key, "<<") == 0) {
		r = json_array_append_new(f->merges, value) == 0 ? 0 : -ENOMEM;
	} else if (json_object_get(f->node, key)) {
		json_decref(value);
		r = fail(rd, -EINVAL, mark, "duplicate key '%s'", key);
	} else {
		r = json_object_set_new(f->node, key, value) == 0 ? 0 : -ENOMEM;
	}
	json_decref(keyv);
	return r;
}

static int count_node(struct reader *rd, size_t n, const yaml_mark_t *mark)
{
	rd->nodes += n;
	if (rd->nodes > rd->opts->max_nodes)
		return fail(rd, -E2BIG, mark,
			    "the YAML has more than %zu nodes (aliases counted as often as they are used)",
			    rd->opts->max_nodes);
	return 0;
}

static int open_container(struct reader *rd, json_t *node, const yaml_char_t *anchor,
			  const yaml_mark_t *mark)
{
	if (!node)
		return -ENOMEM;
	if (rd->depth == rd->opts->max_depth) {
		json_decref(node);
		return fail(rd, -E2BIG, mark, "nesting deeper than %zu levels", rd->opts->max_depth);
	}
	struct frame *f = &rd->frames[rd->depth++];
	*f = (struct frame){.node = node, .merges = json_array(), .nodes = 1};
	f->anchor = anchor ? json_string((const char *)anchor) : NULL;
	if (!f->merges || (anchor && !f->anchor))
		return -ENOMEM;
	return count_node(rd, 1, mark);
}

/* Applies "<<" values to the mapping: keys it does not have yet, in order. */
static int apply_merges(struct reader *rd, struct frame *f, const yaml_mark_t *mark)
{
	size_t i;
	json_t *m;
	json_array_foreach(f->merges, i, m) {
		json_t *sources = json_is_array(m) ? m : NULL;
		size_t n = sources ? json_array_size(sources) : 1;
		for (size_t k = 0; k < n; k++) {
			json_t *src = sources ? json_array_get(sources, k) : m;
			if (!json_is_object(src))
				return fail(rd, -EINVAL, mark, "'<<' must be given a mapping or a list of mappings");
			const char *key;
			json_t *v;
			json_object_foreach(src, key, v)
				if (!json_object_get(f->node, key) && json_object_set(f->node, key, v) < 0)
					return -ENOMEM;
		}
	}
	return 0;
}

static void frame_release(struct frame *f)
{
	json_decref(f->node);
	json_decref(f->merges);
	json_decref(f->key);
	json_decref(f->anchor);
	*f = (struct frame){0};
}

static int close_container(struct reader *rd, const yaml_mark_t *mark)
{
	struct frame f = rd->frames[--rd->depth];
	rd->frames[rd->depth] = (struct frame){0};
	int r = json_is_object(f.node) ? apply_merges(rd, &f, mark) : 0;
	if (r == 0)
		r = add_value(rd, json_incref(f.node), f.nodes, f.anchor, mark);
	frame_release(&f);
	return r;
}

static int on_alias(struct reader *rd, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *entry = json_object_get(rd->anchors, name);
	if (!entry)
		return fail(rd, -EINVAL, &ev->start_mark, "unknown alias '*%s'", name);
	size_t n = (size_t)json_integer_value(json_array_get(entry, 1));
	int r = count_node(rd, n, &ev->start_mark);
	if (r == 0)
		r = add_value(rd, json_incref(json_array_get(entry, 0)), n, NULL, &ev->start_mark);
	return r;
}

static int on_scalar(struct reader *rd, const yaml_event_t *ev)
{
	const yaml_mark_t *mark = &ev->start_mark;
	const struct frame *f = rd->depth ? &rd->frames[rd->depth - 1] : NULL;
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (strlen(s) != n)
		return fail(rd, -EINVAL, mark, "a scalar holds a NUL character");
	bool key = f && json_is_object(f->node) && !f->key;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	json_t *v = key || !plain ? json_stringn(s, n) : plain_value(rd, s, n);
	if (!v)
		return -ENOMEM;
	int r = count_node(rd, 1, mark);
	if (r < 0) {
		json_decref(v);
		return r;
	}
	json_t *anchor = NULL;
	if (ev->data.scalar.anchor) {
		anchor = json_string((const char *)ev->data.scalar.anchor);
		if (!anchor) {
			json_decref(v);
			return -ENOMEM;
		}
	}
	r = add_value(rd, v, 1, anchor, mark);
	json_decref(anchor);
	return r;
}

/* ---- documents ---- */

static int document_start(struct reader *rd, const yaml_event_t *ev)
{
	if (++rd->documents > 1 && !rd->stream)
		return fail(rd, -EINVAL, &ev->start_mark, "one YAML document is expected, found a second one");
	rd->doc_start = ev->start_mark.index;
	json_object_clear(rd->anchors);
	return 0;
}

static int document_end(struct reader *rd, const yaml_event_t *ev)
{
	if (!rd->stream)
		return 0;
	json_t *value = rd->value ? rd->value : json_null();
	rd->value = NULL;
	if (json_array_append_new(rd->docs, value) < 0)
		return -ENOMEM;
	json_t *span = json_pack("[I, I]", (json_int_t)rd->doc_start, (json_int_t)ev->end_mark.index);
	return span && json_array_append_new(rd->spans, span) == 0 ? 0 : -ENOMEM;
}

static int on_event(struct reader *rd, const yaml_event_t *ev)
{
	const yaml_mark_t *mark = &ev->start_mark;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return document_start(rd, ev);
	case YAML_DOCUMENT_END_EVENT:
		return document_end(rd, ev);
	case YAML_SCALAR_EVENT:
		return on_scalar(rd, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(rd, ev);
	case YAML_SEQUENCE_START_EVENT:
		return open_container(rd, json_array(), ev->data.sequence_start.anchor, mark);
	case YAML_MAPPING_START_EVENT:
		return open_container(rd, json_object(), ev->data.mapping_start.anchor, mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_container(rd, mark);
	default:
		return 0;
	}
}

static int run(struct reader *rd, const char *text, size_t len)
{
	const struct yamlin_opts *o = rd->opts;
	if (len > o->max_bytes)
		return fail(rd, -E2BIG, NULL, "the YAML is larger than %zu bytes", o->max_bytes);
	if (o->max_depth == 0 || o->max_depth > DEPTH_CAP)
		return fail(rd, -EINVAL, NULL, "max_depth must be 1 to %d", DEPTH_CAP);
	json_malloc_t alloc;
	json_free_t release;
	json_get_alloc_funcs(&alloc, &release);
	rd->frames = alloc(o->max_depth * sizeof *rd->frames);
	rd->anchors = json_object();
	if (!rd->frames || !rd->anchors)
		return -ENOMEM;
	memset(rd->frames, 0, o->max_depth * sizeof *rd->frames);
	if (!yaml_parser_initialize(&rd->parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&rd->parser, (const unsigned char *)text, len);
	int r = 0;
	bool done = false;
	while (r == 0 && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&rd->parser, &ev)) {
			r = fail(rd, rd->parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL,
				 &rd->parser.problem_mark, "not valid YAML: %s",
				 rd->parser.problem ? rd->parser.problem : "parse error");
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(rd, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&rd->parser);
	if (r == 0 && rd->documents == 0)
		r = fail(rd, -EINVAL, NULL, "the YAML is empty");
	return r;
}

static void reader_release(struct reader *rd)
{
	json_malloc_t alloc;
	json_free_t release;
	json_get_alloc_funcs(&alloc, &release);
	while (rd->frames && rd->depth > 0)
		frame_release(&rd->frames[--rd->depth]);
	if (rd->frames)
		release(rd->frames);
	json_decref(rd->anchors);
	json_decref(rd->value);
	json_decref(rd->docs);
	json_decref(rd->spans);
}

int yamlin_parse(const char *text, size_t len, const struct yamlin_opts *o, struct buf *err,
		 json_t **ret_value)
{
	struct reader rd = {.opts = o, .err = err};
	int r = run(&rd, text, len);
	if (r == 0 && !rd.value)
		r = fail(&rd, -EINVAL, NULL, "the YAML is empty");
	if (r == 0) {
		*ret_value = rd.value;
		rd.value = NULL;
	}
	reader_release(&rd);
	return r;
}

int yamlin_parse_stream(const char *text, size_t len, const struct yamlin_opts *o, struct buf *err,
			json_t **ret_docs, json_t **ret_spans)
{
	struct reader rd = {.opts = o, .err = err, .stream = true};
	rd.docs = json_array();
	rd.spans = json_array();
	int r = rd.docs && rd.spans ? run(&rd, text, len) : -ENOMEM;
	if (r == 0) {
		*ret_docs = rd.docs;
		rd.docs = NULL;
		if (ret_spans) {
			*ret_spans = rd.spans;
			rd.spans = NULL;
		}
	}
	reader_release(&rd);
	return r;
}

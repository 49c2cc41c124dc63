/* yamljudge: libyaml's parser and emitter as the judge of yamlout (see yamljudge.h). */
#include "yamljudge.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bundle.h"
#include "render.h"
#include "yamlout.h"

/* ---- plain-scalar resolution, written from the specs (not from yamlout) ---- */

struct pattern {
	enum yamljudge_type type;
	const char *re;
};

/* YAML 1.1: yaml.org/type/{null,bool,int,float,timestamp,merge,value}.html. */
static const struct pattern yaml11[] = {
	{YAMLJUDGE_NULL, "^(~|null|Null|NULL|)$"},
	{YAMLJUDGE_BOOL, "^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"},
	{YAMLJUDGE_INT, "^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$"},
	{YAMLJUDGE_FLOAT, "^([-+]?([0-9][0-9_]*)?\\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
			  "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$"},
	{YAMLJUDGE_OTHER, "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:"
			  "[0-9]{2}(\\.[0-9]*)?(([ \t]*)Z|[-+][0-9]{1,2}(:[0-9]{2})?)?)$"},
	{YAMLJUDGE_OTHER, "^(<<|=)$"},
};

/* YAML 1.2 core schema (yaml.org/spec/1.2.2 10.3.2), and the looser forms go-yaml also
 * takes for numbers (strconv's base prefixes, with underscores dropped first). */
static const struct pattern yaml12[] = {
	{YAMLJUDGE_NULL, "^(~|null|Null|NULL|)$"},
	{YAMLJUDGE_BOOL, "^(true|True|TRUE|false|False|FALSE)$"},
	{YAMLJUDGE_INT, "^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"},
	{YAMLJUDGE_FLOAT, "^([-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$"},
	{YAMLJUDGE_INT, "^[-+]?(0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$"},
	{YAMLJUDGE_FLOAT, "^[-+]?(\\.[0-9_]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9_]+)?$"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The patterns compiled once (tests and the fuzz harness are single-threaded). */
static regex_t compiled11[COUNT(yaml11)], compiled12[COUNT(yaml12)];
static bool compiled;

static void compile_all(void)
{
	if (compiled)
		return;
	for (size_t i = 0; i < COUNT(yaml11); i++)
		if (regcomp(&compiled11[i], yaml11[i].re, REG_EXTENDED | REG_NOSUB) != 0)
			abort();
	for (size_t i = 0; i < COUNT(yaml12); i++)
		if (regcomp(&compiled12[i], yaml12[i].re, REG_EXTENDED | REG_NOSUB) != 0)
			abort();
	compiled = true;
}

static enum yamljudge_type match(const struct pattern *p, const regex_t *re, size_t n, const char *s)
{
	compile_all();
	for (size_t i = 0; i < n; i++)
		if (regexec(&re[i], s, 0, NULL, 0) == 0)
			return p[i].type;
	return YAMLJUDGE_STR;
}

enum yamljudge_type yamljudge_type_11(const char *s)
{
	return match(yaml11, compiled11, COUNT(yaml11), s);
}

/* The type of s to a YAML 1.2 (core schema) or go-yaml reader. */
static enum yamljudge_type type_12(const char *s)
{
	return match(yaml12, compiled12, COUNT(yaml12), s);
}

/* Every pattern above matches only the empty string or one that starts with one of
 * these bytes: the strings that start otherwise (most) skip the regexes. */
static const char typed_firsts[] = "~<=+-.0123456789yYnNtTfFoO";

int yamljudge_typed_anywhere(const char *s)
{
	if (s[0] && !strchr(typed_firsts, s[0]))
		return 0;
	return yamljudge_type_11(s) != YAMLJUDGE_STR || type_12(s) != YAMLJUDGE_STR;
}

/* s without its '_' (YAML 1.1 numbers may hold them) into out (as long as s). */
static void drop_underscores(const char *s, char *out)
{
	for (; *s; s++)
		if (*s != '_')
			*out++ = *s;
	*out = '\0';
}

/* The value of a YAML 1.1 int (s matched the int pattern): a sign, then 0b binary, 0x
 * hex, 0 octal, decimal, or base-60 parts (1:30 is 90). false when it does not fit. */
static bool int_value_11(const char *text, long long *ret)
{
	char s[128];
	if (strlen(text) >= sizeof s)
		return false;
	drop_underscores(text, s);
	bool neg = s[0] == '-';
	char *p = s + (s[0] == '-' || s[0] == '+'), *end;
	unsigned long long mag = 0;
	errno = 0;
	if (strchr(p, ':')) {
		for (;;) {
			unsigned long long part = strtoull(p, &end, 10);
			if (mag > (ULLONG_MAX - part) / 60)
				return false;
			mag = mag * 60 + part;
			if (*end != ':')
				break;
			p = end + 1;
		}
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'x')) {
		mag = strtoull(p + 2, &end, p[1] == 'b' ? 2 : 16);
	} else {
		mag = strtoull(p, &end, p[0] == '0' ? 8 : 10);
	}
	if (errno || (neg ? mag > (unsigned long long)LLONG_MAX + 1 : mag > (unsigned long long)LLONG_MAX))
		return false;
	*ret = neg ? (long long)(0ULL - mag) : (long long)mag;
	return true;
}

/* The value of a YAML 1.1 float (s matched the float pattern). */
static bool float_value_11(const char *text, double *ret)
{
	char s[128];
	if (strlen(text) >= sizeof s || strchr(text, ':'))
		return false;
	drop_underscores(text, s);
	const char *p = s + (s[0] == '-' || s[0] == '+');
	if (strcasecmp(p, ".inf") == 0)
		*ret = s[0] == '-' ? -INFINITY : INFINITY;
	else if (strcasecmp(p, ".nan") == 0)
		*ret = NAN;
	else
		*ret = strtod(s, NULL);
	return true;
}

/* ---- read back ---- */

struct reader {
	yaml_parser_t parser;
	struct buf *why;
	struct buf path; /* "/key/3/key" of the node being compared */
	bool failed;
};

static void failf(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct reader *rd, const char *fmt, ...)
{
	if (rd->failed)
		return;
	rd->failed = true;
	va_list ap;
	va_start(ap, fmt);
	(void)buf_vprintf(rd->why, fmt, ap);
	va_end(ap);
	(void)buf_printf(rd->why, " at '%s' (line %zu of the YAML)", rd->path.len ? buf_cstr(&rd->path) : "/",
			 rd->parser.mark.line + 1);
}

/* The next event into ev (the caller deletes it); false on a parse error. */
static bool next(struct reader *rd, yaml_event_t *ev)
{
	if (rd->failed)
		return false;
	if (yaml_parser_parse(&rd->parser, ev))
		return true;
	failf(rd, "libyaml cannot parse it: %s (%s)", rd->parser.problem ? rd->parser.problem : "?",
	      rd->parser.context ? rd->parser.context : "");
	return false;
}

static const char *event_name(yaml_event_type_t t)
{
	static const char *const names[] = {"nothing", "stream start", "stream end", "document start",
					    "document end", "alias", "scalar", "sequence", "sequence end",
					    "mapping", "mapping end"};
	return (size_t)t < COUNT(names) ? names[t] : "?";
}

/* Reads one event that must be of type t. */
static bool expect(struct reader *rd, yaml_event_type_t t)
{
	yaml_event_t ev;
	if (!next(rd, &ev))
		return false;
	bool ok = ev.type == t;
	if (!ok)
		failf(rd, "expected %s, read %s", event_name(t), event_name(ev.type));
	yaml_event_delete(&ev);
	return ok;
}

/* The kind of node n as words. */
static const char *kind_name(enum node_kind k)
{
	static const char *const names[] = {"null", "boolean", "integer", "real", "string", "mapping", "sequence"};
	return (size_t)k < COUNT(names) ? names[k] : "?";
}

/* A scalar event that must be the string s (len bytes): quoted, or plain that no reader
 * types. */
static bool string_is(struct reader *rd, const yaml_event_t *ev, const char *s, size_t len)
{
	const char *v = (const char *)ev->data.scalar.value;
	if (ev->data.scalar.length != len || memcmp(v, s, len) != 0) {
		failf(rd, "read the string \"%.*s\" (%zu bytes) for \"%.*s\" (%zu bytes)", (int)ev->data.scalar.length,
		      v, ev->data.scalar.length, (int)len, s, len);
		return false;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && yamljudge_typed_anywhere(v)) {
		failf(rd, "the string \"%s\" is plain, which a YAML reader takes for a %s", v,
		      yamljudge_type_11(v) != YAMLJUDGE_STR ? "non-string (YAML 1.1)" : "non-string (YAML 1.2 or go-yaml)");
		return false;
	}
	return true;
}

/* A scalar event that must be the scalar n, not a string: plain, of the same type and
 * value to a YAML 1.1 and a YAML 1.2 reader. */
static bool typed_is(struct reader *rd, const yaml_event_t *ev, const struct node *n)
{
	static const enum yamljudge_type want[] = {
		[NODE_NULL] = YAMLJUDGE_NULL, [NODE_BOOL] = YAMLJUDGE_BOOL, [NODE_INT] = YAMLJUDGE_INT,
		[NODE_REAL] = YAMLJUDGE_FLOAT,
	};
	const char *v = (const char *)ev->data.scalar.value;
	enum yamljudge_type t = want[n->kind];
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || yamljudge_type_11(v) != t || type_12(v) != t) {
		failf(rd, "read '%s' (%s) for a %s", v,
		      ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "plain" : "quoted", kind_name(n->kind));
		return false;
	}
	long long i;
	double d;
	bool same = n->kind == NODE_NULL || /* both readers agree: true/false, the null words */
		    (n->kind == NODE_BOOL && ((v[0] | 0x20) == 't') == n->v.b) ||
		    (n->kind == NODE_INT && int_value_11(v, &i) && i == n->v.i) ||
		    (n->kind == NODE_REAL && float_value_11(v, &d) && (d == n->v.real || (isnan(d) && isnan(n->v.real))));
	if (!same)
		failf(rd, "read %s '%s' for another value", kind_name(n->kind), v);
	return same;
}

static bool read_node(struct reader *rd, const struct node *n);

/* Appends "/" and s (len bytes) to the path; returns the length to cut back to. */
static size_t path_push(struct reader *rd, const char *s, size_t len)
{
	size_t at = rd->path.len;
	if (buf_append(&rd->path, "/", 1) < 0 || buf_append(&rd->path, s, len) < 0)
		failf(rd, "out of memory");
	return at;
}

static void path_pop(struct reader *rd, size_t at)
{
	rd->path.len = at;
	if (rd->path.data)
		rd->path.data[at] = '\0';
}

static bool has_twice(const struct node *map, const struct node_item *key)
{
	for (const struct node_item *it = map->v.list.first; it != key; it = it->next)
		if (it->key_len == key->key_len && memcmp(it->key, key->key, key->key_len) == 0)
			return true;
	return false;
}

/* Reads a scalar event (the caller deletes it) without anchor or tag. */
static bool read_scalar(struct reader *rd, yaml_event_t *ev, const char *what)
{
	if (!next(rd, ev))
		return false;
	if (ev->type == YAML_SCALAR_EVENT && !ev->data.scalar.anchor && !ev->data.scalar.tag)
		return true;
	failf(rd, "read a %s%s for %s", event_name(ev->type), ev->type == YAML_SCALAR_EVENT ? " with anchor or tag" : "",
	      what);
	yaml_event_delete(ev);
	return false;
}

/* The key of item it of map. */
static bool read_key(struct reader *rd, const struct node *map, const struct node_item *it)
{
	yaml_event_t ev;
	if (has_twice(map, it)) {
		failf(rd, "the tree has this key twice (no YAML reader keeps both)");
		return false;
	}
	if (!read_scalar(rd, &ev, "a key"))
		return false;
	bool ok = string_is(rd, &ev, it->key, it->key_len);
	yaml_event_delete(&ev);
	return ok;
}

/* The items of a mapping or sequence, then its end event. */
static bool read_items(struct reader *rd, const struct node *list)
{
	bool map = list->kind == NODE_MAP;
	size_t index = 0;
	for (const struct node_item *it = list->v.list.first; it; it = it->next, index++) {
		char num[24];
		int nlen = snprintf(num, sizeof num, "%zu", index);
		size_t at = map ? path_push(rd, it->key, it->key_len) : path_push(rd, num, (size_t)nlen);
		if ((map && !read_key(rd, list, it)) || !read_node(rd, it->val))
			return false;
		path_pop(rd, at);
	}
	return expect(rd, map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT);
}

/* Whether the start event of a mapping or sequence has an anchor or a tag. */
static bool has_anchor_or_tag(const yaml_event_t *ev)
{
	if (ev->type == YAML_MAPPING_START_EVENT)
		return ev->data.mapping_start.anchor || ev->data.mapping_start.tag;
	return ev->data.sequence_start.anchor || ev->data.sequence_start.tag;
}

/* Reads the node n: its events must be exactly n's. */
static bool read_node(struct reader *rd, const struct node *n)
{
	yaml_event_t ev;
	bool ok;
	if (n->kind != NODE_MAP && n->kind != NODE_SEQ) {
		if (!read_scalar(rd, &ev, kind_name(n->kind)))
			return false;
		ok = n->kind == NODE_STR ? string_is(rd, &ev, n->v.str.s, n->v.str.len) : typed_is(rd, &ev, n);
		yaml_event_delete(&ev);
		return ok;
	}
	if (!next(rd, &ev))
		return false;
	yaml_event_type_t want = n->kind == NODE_MAP ? YAML_MAPPING_START_EVENT : YAML_SEQUENCE_START_EVENT;
	ok = ev.type == want && !has_anchor_or_tag(&ev);
	if (!ok)
		failf(rd, "read a %s%s for a %s", event_name(ev.type), ev.type == want ? " with anchor or tag" : "",
		      kind_name(n->kind));
	yaml_event_delete(&ev);
	return ok && read_items(rd, n);
}

int yamljudge_read_back(const char *text, size_t len, const struct node *const *docs, size_t n,
			struct buf *why)
{
	struct reader rd = {.why = why};
	if (!yaml_parser_initialize(&rd.parser))
		return -ENOMEM;
	buf_init(&rd.path, BUF_NO_MAX);
	yaml_parser_set_input_string(&rd.parser, (const unsigned char *)text, len);
	bool ok = expect(&rd, YAML_STREAM_START_EVENT);
	for (size_t i = 0; ok && i < n; i++) {
		char num[32];
		int nlen = snprintf(num, sizeof num, "document %zu", i + 1);
		path_pop(&rd, 0);
		path_push(&rd, num, (size_t)nlen);
		ok = expect(&rd, YAML_DOCUMENT_START_EVENT) && read_node(&rd, docs[i]) &&
		     expect(&rd, YAML_DOCUMENT_END_EVENT);
	}
	path_pop(&rd, 0);
	if (ok)
		ok = expect(&rd, YAML_STREAM_END_EVENT);
	yaml_parser_delete(&rd.parser);
	buf_release(&rd.path);
	return ok ? 0 : -1;
}

/* ---- libyaml's emitter, fed the events of the trees ---- */

static int write_out(void *data, unsigned char *bytes, size_t size)
{
	return buf_append(data, bytes, size) == 0;
}

/* Emits ev (the emitter owns it from then on); -EIO when refused. */
static int emit(yaml_emitter_t *em, yaml_event_t *ev, int made)
{
	if (!made)
		return -EIO; /* the event could not be made: bad UTF-8 for libyaml, or memory */
	return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

/* A scalar as yamlout writes it: its text and style from yamlout_scalar. */
static int emit_scalar(yaml_emitter_t *em, const struct node *n)
{
	char tmp[YAMLOUT_SCALAR_MAX];
	const char *text;
	size_t len;
	bool plain;
	int r = yamlout_scalar(n, tmp, &text, &len, &plain);
	if (r < 0)
		return r;
	if (len > INT_MAX)
		return -EINVAL;
	yaml_event_t ev;
	return emit(em, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1,
							 plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

static int emit_node(yaml_emitter_t *em, const struct node *n)
{
	yaml_event_t ev;
	int r;
	if (n->kind == NODE_MAP)
		r = emit(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
	else if (n->kind == NODE_SEQ)
		r = emit(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
	else
		return emit_scalar(em, n);
	for (const struct node_item *it = n->v.list.first; r == 0 && it; it = it->next) {
		if (n->kind == NODE_MAP) {
			struct node key = {.kind = NODE_STR, .v.str = {it->key, it->key_len}};
			r = emit_scalar(em, &key);
		}
		if (r == 0)
			r = emit_node(em, it->val);
	}
	if (r == 0 && n->kind == NODE_MAP)
		r = emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
	else if (r == 0)
		r = emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
	return r;
}

int yamljudge_emit(const struct node *const *docs, size_t n, struct buf *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, write_out, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_break(&em, YAML_LN_BREAK);
	int r = emit(&em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = emit(&em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
		if (r == 0)
			r = emit_node(&em, docs[i]);
		if (r == 0)
			r = emit(&em, &ev, yaml_document_end_event_initialize(&ev, 1));
	}
	if (r == 0)
		r = emit(&em, &ev, yaml_stream_end_event_initialize(&ev));
	if (r == 0 && !yaml_emitter_flush(&em))
		r = -EIO;
	if (r == -EIO && em.error == YAML_MEMORY_ERROR)
		r = -ENOMEM;
	yaml_emitter_delete(&em);
	return r;
}

/* ---- both checks, and every YAML file of a bundle ---- */

int yamljudge_stream(const char *text, size_t len, const struct node *const *docs, size_t n, struct buf *why)
{
	int r = yamljudge_read_back(text, len, docs, n, why);
	if (r != 0)
		return r;
	struct buf ref;
	buf_init(&ref, BUF_NO_MAX);
	r = yamljudge_emit(docs, n, &ref);
	size_t at = 0;
	while (r == 0 && at < len && at < ref.len && text[at] == ref.data[at])
		at++;
	if (r == 0 && (at != len || at != ref.len)) {
		(void)buf_printf(why, "not the bytes of libyaml's emitter from byte %zu; libyaml wrote:\n%s", at,
				 buf_cstr(&ref));
		r = -1;
	} else if (r < 0 && r != -ENOMEM) {
		(void)buf_printf(why, "libyaml's emitter refuses the trees (%d)", r);
		r = -1;
	}
	buf_release(&ref);
	return r;
}

/* The objects of every file of a render (borrowed from it): one array of all of them,
 * and where each file's begin (starts[i]; starts[files] is the total); an arena for what
 * the judge builds beside them. */
struct objects {
	struct arena *arena;
	const struct node **all;
	size_t *starts;
};

static void objects_release(struct objects *o)
{
	free(o->all);
	free(o->starts);
	arena_free(o->arena);
}

static int collect_objects(struct render *r, struct objects *o)
{
	size_t files = render_file_count(r), cap = 16, n = 0;
	o->arena = arena_new();
	o->all = malloc(cap * sizeof *o->all);
	o->starts = calloc(files + 1, sizeof *o->starts);
	int ret = o->arena && o->all && o->starts ? 0 : -ENOMEM;
	for (size_t i = 0; ret == 0 && i < files; i++) {
		const struct node *objs = NULL;
		ret = render_file_nodes(r, i, &objs);
		o->starts[i] = n;
		for (const struct node_item *it = ret == 0 ? objs->v.list.first : NULL; ret == 0 && it; it = it->next) {
			const struct node **more = n < cap ? o->all : realloc(o->all, (cap *= 2) * sizeof *o->all);
			if (!more)
				ret = -ENOMEM;
			else
				(o->all = more)[n++] = it->val;
		}
	}
	if (ret == 0)
		o->starts[files] = n;
	return ret;
}

/* kustomization.yaml's document: the manifest files of r, in order; NULL when out of
 * memory. */
static const struct node *kustomization(struct render *r, struct arena *a)
{
	struct node *files = node_seq(a);
	for (size_t i = 0; i < render_file_count(r); i++)
		files = node_push(files, node_str(a, render_file_name(r, i)));
	return NODE_MAP(a, {"apiVersion", node_str(a, "kustomize.config.k8s.io/v1beta1")},
			{"kind", node_str(a, "Kustomization")}, {"resources", files});
}

/* The content of the file named name in the files format's list (borrowed), or NULL. */
static const char *file_content(const json_t *files, const char *name, size_t *ret_len)
{
	size_t i;
	const json_t *f;
	json_array_foreach(files, i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0) {
			*ret_len = json_string_length(json_object_get(f, "content"));
			return json_string_value(json_object_get(f, "content"));
		}
	return NULL;
}

/* yamljudge_stream on the file name of the files format, expected to hold docs. */
static int judge_file(const json_t *files, const char *name, const struct node *const *docs, size_t n,
		      struct buf *why)
{
	size_t len = 0;
	const char *text = file_content(files, name, &len);
	if (!text) {
		(void)buf_printf(why, "the bundle has no file %s", name);
		return -1;
	}
	int r = yamljudge_stream(text, len, docs, n, why);
	if (r == -1)
		(void)buf_printf(why, " (in %s)", name);
	return r;
}

int yamljudge_bundle(struct render *r, struct buf *why)
{
	struct objects o = {NULL, NULL, NULL};
	struct buf b;
	json_t *doc = NULL;
	buf_init(&b, BUF_NO_MAX);
	int ret = collect_objects(r, &o);
	if (ret == 0)
		ret = bundle_build(r, BUNDLE_FILES, &b);
	if (ret == 0 && !(doc = json_loadb(b.data, b.len, 0, NULL)))
		ret = -ENOMEM;
	const json_t *files = json_object_get(doc, "files");
	for (size_t i = 0; ret == 0 && i < render_file_count(r); i++)
		ret = judge_file(files, render_file_name(r, i), o.all + o.starts[i], o.starts[i + 1] - o.starts[i], why);
	const struct node *k = ret == 0 ? kustomization(r, o.arena) : NULL;
	if (ret == 0)
		ret = k ? judge_file(files, "kustomization.yaml", &k, 1, why) : -ENOMEM;
	buf_reset(&b);
	if (ret == 0)
		ret = bundle_build(r, BUNDLE_YAML, &b);
	if (ret == 0 && (ret = yamljudge_stream(b.data, b.len, o.all, o.starts[render_file_count(r)], why)) == -1)
		(void)buf_puts(why, " (in the yaml format)");
	json_decref(doc);
	buf_release(&b);
	objects_release(&o);
	return ret;
}

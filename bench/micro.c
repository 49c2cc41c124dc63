/* micro: in-process timing of the render pipeline (parse + layer + validate + render +
 * bundle) per format, with bytes allocated per render, beside the floor: libyaml's
 * emitter alone emitting the same event stream (the same scalars, pre-built) into memory.
 *
 *   manifestd-micro [--stack FILE --env FILE --name STACK] [--seconds S] [--only yaml|zip|tar.gz|request|request-zip|floor]
 *
 * Without files it uses the built-in msa-shop stack and its prod environment. Every
 * iteration uses another image tag override, as a client that defeats any cache would.
 * Prints one Markdown table row per measurement: | what | ns/op | bytes alloc/op | allocs/op | out bytes |.
 * Not a test: numbers only. */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "bundle.h"
#include "seed.h"
#include "model.h"
#include "render.h"
#include "render_common.h"
#include "util.h"
#include "yamlout.h"

/* ---- counting malloc: every allocation of the process (jansson, libyaml, libarchive,
 * ours) goes through these, which forward to glibc's implementation. ---- */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static size_t alloc_bytes, alloc_count;

void *malloc(size_t n)
{
	alloc_bytes += n;
	alloc_count++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	alloc_bytes += n * m;
	alloc_count++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	alloc_bytes += n;
	alloc_count++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

/* ---- inputs ---- */

struct input {
	char *stack_text, *env_text;
	size_t stack_len, env_len;
	const char *stack_name, *env_name;
};

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;
	buf_init(&b, BUF_NO_MAX);
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	return buf_detach(&b, ret_len);
}

static char *dup_seed(const char *name, size_t *ret_len)
{
	const char *t = seed_file(name, ret_len);
	return t ? strndup(t, *ret_len) : NULL;
}

/* Resolves the documents (borrowed) with overrides, renders and bundles into out. */
static int render_bundle(const char *stack_name, const json_t *stack, const char *env_name,
			 const json_t *env, const json_t *overrides, enum bundle_format f, struct buf *out)
{
	json_t *doc = NULL;
	struct render *r = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int rc = model_resolve(stack_name, stack, env_name, env, overrides, &errs, &doc);
	struct render_meta meta = {stack_name, env_name, 1};
	if (rc == 0)
		rc = render_new(doc, &meta, NULL, &r);
	if (rc == 0)
		rc = bundle_build(r, f, out);
	render_free(r);
	json_decref(doc);
	model_errors_release(&errs);
	return rc;
}

/* One full render: parse both texts, resolve with overrides, render, bundle. */
static int pipeline(const struct input *in, const json_t *overrides, enum bundle_format f,
		    struct buf *out)
{
	json_t *stack = json_loadb(in->stack_text, in->stack_len, 0, NULL);
	json_t *env = json_loadb(in->env_text, in->env_len, 0, NULL);
	int rc = stack && env ? render_bundle(in->stack_name, stack, in->env_name, env, overrides, f, out)
			      : -EINVAL;
	json_decref(stack);
	json_decref(env);
	return rc;
}

static json_t *tag_override(unsigned long i)
{
	char tag[32];
	snprintf(tag, sizeof tag, "1.0.%lu", i);
	return json_pack("{s:{s:s}}", "image", "tag", tag);
}

/* ---- measurement ---- */

struct result {
	double ns;
	double bytes;
	double allocs;
	size_t out;
};

typedef int (*op_fn)(void *ctx, unsigned long i, struct buf *out);

static double seconds = 2.0;
static const char *only; /* --only yaml|zip|tar.gz|request|request-zip|floor: just that (for profilers) */

/* Runs op until `seconds` have passed (at least 20 times); per-op averages. */
static int measure(op_fn op, void *ctx, struct result *res)
{
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	int rc = op(ctx, 0, &out); /* warm-up */
	unsigned long n = 0;
	uint64_t budget = (uint64_t)(seconds * 1e9), start = util_now_ns(), now = start;
	size_t b0 = alloc_bytes, c0 = alloc_count;
	while (rc == 0 && (n < 20 || now - start < budget)) {
		buf_reset(&out);
		rc = op(ctx, n + 1, &out);
		n++;
		if ((n & 7) == 0)
			now = util_now_ns();
	}
	now = util_now_ns();
	*res = (struct result){(double)(now - start) / (double)n, (double)(alloc_bytes - b0) / (double)n,
			       (double)(alloc_count - c0) / (double)n, out.len};
	buf_release(&out);
	return rc;
}

struct pipe_ctx {
	const struct input *in;
	enum bundle_format format;
	bool vary;
};

static int op_pipeline(void *ctx, unsigned long i, struct buf *out)
{
	struct pipe_ctx *c = ctx;
	json_t *ov = c->vary ? tag_override(i) : NULL;
	int rc = pipeline(c->in, ov, c->format, out);
	json_decref(ov);
	return rc;
}

/* The render of (a) as the server does it: parse the request body (the bytes
 * bench/wrk/vary.lua sends), then resolve against the stored documents, parsed once per
 * connection as store_*_get_shared keeps them (here: once), render and bundle. */
struct request_ctx {
	const struct input *in;
	const json_t *stack, *env; /* parsed once */
	enum bundle_format format;
};

static int request_render(const struct request_ctx *c, const json_t *body, struct buf *out)
{
	const char *stack = json_string_value(json_object_get(body, "stack"));
	const char *env = json_string_value(json_object_get(body, "environment"));
	if (!stack || !env)
		return -EINVAL;
	return render_bundle(stack, c->stack, env, c->env, json_object_get(body, "overrides"), c->format, out);
}

static int op_request(void *ctx, unsigned long i, struct buf *out)
{
	struct request_ctx *c = ctx;
	char text[256];
	int n = snprintf(text, sizeof text,
			 "{\"stack\":\"%s\",\"environment\":\"%s\",\"overrides\":{\"image\":{\"tag\":\"0.1.%lu\"}}}",
			 c->in->stack_name, c->in->env_name, i);
	if (n < 0 || (size_t)n >= sizeof text)
		return -EINVAL;
	json_t *body = json_loadb(text, (size_t)n, 0, NULL);
	int rc = body ? request_render(c, body, out) : -EINVAL;
	json_decref(body);
	return rc;
}

/* Stages apart: the resolved document and render are built once. */
struct stage_ctx {
	const struct input *in;
	json_t *stack, *env, *doc;
	struct render *r;
};

static int op_parse(void *ctx, unsigned long i, struct buf *out)
{
	struct stage_ctx *c = ctx;
	(void)i;
	(void)out;
	json_t *a = json_loadb(c->in->stack_text, c->in->stack_len, 0, NULL);
	json_t *b = json_loadb(c->in->env_text, c->in->env_len, 0, NULL);
	int rc = a && b ? 0 : -EINVAL;
	json_decref(a);
	json_decref(b);
	return rc;
}

static int op_resolve(void *ctx, unsigned long i, struct buf *out)
{
	struct stage_ctx *c = ctx;
	(void)out;
	json_t *ov = tag_override(i), *doc = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int rc = model_resolve(c->in->stack_name, c->stack, c->in->env_name, c->env, ov, &errs, &doc);
	json_decref(doc);
	json_decref(ov);
	model_errors_release(&errs);
	return rc;
}

static int op_render_new(void *ctx, unsigned long i, struct buf *out)
{
	struct stage_ctx *c = ctx;
	(void)i;
	(void)out;
	struct render *r = NULL;
	struct render_meta meta = {c->in->stack_name, c->in->env_name, 1};
	int rc = render_new(c->doc, &meta, NULL, &r);
	render_free(r);
	return rc;
}

static int op_objects(void *ctx, unsigned long i, struct buf *out)
{
	struct stage_ctx *c = ctx;
	(void)i;
	(void)out;
	struct arena *a = arena_new();
	int rc = a ? 0 : -ENOMEM;
	for (size_t k = 0; rc == 0 && k < render_file_count(c->r); k++) {
		struct node *objs = node_seq(a);
		rc = objs ? render_build_file(a, c->r, k, objs) : -ENOMEM;
	}
	arena_free(a);
	return rc;
}

/* yamlout over objects built beforehand: the cost of our YAML writer alone. */
struct emit_ctx {
	const struct node **files; /* NODE_SEQ of each file's objects (borrowed from the render) */
	size_t nfiles;
};

static int op_yamlout(void *ctx, unsigned long i, struct buf *out)
{
	struct emit_ctx *c = ctx;
	struct yamlout *y = NULL;
	(void)i;
	int rc = yamlout_new(out, &y); /* one writer for every file, as bundle.c does */
	for (size_t k = 0; rc == 0 && k < c->nfiles; k++)
		for (const struct node_item *it = c->files[k]->v.list.first; rc == 0 && it; it = it->next)
			rc = yamlout_node(y, it->val);
	if (rc == 0)
		rc = yamlout_finish(y);
	yamlout_free(y);
	return rc;
}

/* ---- the floor: libyaml's emitter alone, replaying a recorded event stream ---- */

struct rec_event {
	yaml_event_type_t type;
	char *value; /* scalars */
	size_t len;
	yaml_scalar_style_t style;
	int plain_implicit, quoted_implicit;
	int implicit;	/* document start/end */
};

struct floor_ctx {
	struct rec_event *ev;
	size_t n;
};

/* Records the events of a YAML stream by parsing it back: the same scalars and styles
 * as our emitter chose. */
static int record(const struct buf *yaml, struct floor_ctx *fc)
{
	yaml_parser_t p;
	yaml_event_t e;
	size_t cap = 0;
	int rc = 0;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml->data, yaml->len);
	for (bool done = false; !done && rc == 0;) {
		if (!yaml_parser_parse(&p, &e)) {
			rc = -EIO;
			break;
		}
		if (fc->n == cap) {
			cap = cap ? cap * 2 : 1024;
			void *nv = realloc(fc->ev, cap * sizeof *fc->ev);
			if (!nv) {
				yaml_event_delete(&e);
				rc = -ENOMEM;
				break;
			}
			fc->ev = nv;
		}
		struct rec_event *r = &fc->ev[fc->n++];
		memset(r, 0, sizeof *r);
		r->type = e.type;
		if (e.type == YAML_SCALAR_EVENT) {
			r->value = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
			r->len = e.data.scalar.length;
			r->style = e.data.scalar.style;
			r->plain_implicit = e.data.scalar.plain_implicit;
			r->quoted_implicit = e.data.scalar.quoted_implicit;
		} else if (e.type == YAML_DOCUMENT_START_EVENT) {
			r->implicit = e.data.document_start.implicit;
		} else if (e.type == YAML_DOCUMENT_END_EVENT) {
			r->implicit = e.data.document_end.implicit;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int floor_write(void *data, unsigned char *bytes, size_t size)
{
	return buf_append(data, bytes, size) == 0;
}

static int init_event(const struct rec_event *r, yaml_event_t *e)
{
	switch (r->type) {
	case YAML_STREAM_START_EVENT:
		return yaml_stream_start_event_initialize(e, YAML_UTF8_ENCODING);
	case YAML_STREAM_END_EVENT:
		return yaml_stream_end_event_initialize(e);
	case YAML_DOCUMENT_START_EVENT:
		return yaml_document_start_event_initialize(e, NULL, NULL, NULL, r->implicit);
	case YAML_DOCUMENT_END_EVENT:
		return yaml_document_end_event_initialize(e, r->implicit);
	case YAML_MAPPING_START_EVENT:
		return yaml_mapping_start_event_initialize(e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	case YAML_MAPPING_END_EVENT:
		return yaml_mapping_end_event_initialize(e);
	case YAML_SEQUENCE_START_EVENT:
		return yaml_sequence_start_event_initialize(e, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	case YAML_SEQUENCE_END_EVENT:
		return yaml_sequence_end_event_initialize(e);
	case YAML_SCALAR_EVENT:
		return yaml_scalar_event_initialize(e, NULL, NULL, (yaml_char_t *)r->value, (int)r->len,
						    1, 1, r->style);
	default:
		return 0;
	}
}

static int op_floor(void *ctx, unsigned long i, struct buf *out)
{
	struct floor_ctx *fc = ctx;
	yaml_emitter_t em;
	yaml_event_t e;
	int ok = 1;
	(void)i;
	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, floor_write, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_break(&em, YAML_LN_BREAK);
	for (size_t k = 0; ok && k < fc->n; k++) {
		if (fc->ev[k].type == YAML_NO_EVENT)
			continue;
		ok = init_event(&fc->ev[k], &e) && yaml_emitter_emit(&em, &e);
	}
	ok = ok && yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	return ok ? 0 : -EIO;
}

/* ---- main ---- */

static void row(const char *what, const struct result *r, const struct result *ref)
{
	printf("| %s | %.0f | %.1f | %.0f | %.0f | %zu |", what, r->ns, r->ns / 1000.0, r->bytes,
	       r->allocs, r->out);
	if (ref)
		printf(" %.2fx |\n", r->ns / ref->ns);
	else
		printf(" |\n");
	fflush(stdout);
}

static int load(int argc, char **argv, struct input *in)
{
	const char *stack_file = NULL, *env_file = NULL;
	in->stack_name = "msa-shop";
	in->env_name = "prod";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--stack") == 0)
			stack_file = argv[i + 1];
		else if (strcmp(argv[i], "--env") == 0)
			env_file = argv[i + 1];
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = strtod(argv[i + 1], NULL);
		else if (strcmp(argv[i], "--only") == 0)
			only = argv[i + 1];
		else if (strcmp(argv[i], "--name") == 0)
			in->stack_name = argv[i + 1];
	}
	if (stack_file) {
		in->stack_text = read_file(stack_file, &in->stack_len);
		in->env_text = env_file ? read_file(env_file, &in->env_len) : strdup("{}");
		if (!env_file && in->env_text)
			in->env_len = 2;
	} else {
		in->stack_text = dup_seed("msa-shop/stack.json", &in->stack_len);
		in->env_text = dup_seed("msa-shop/prod.json", &in->env_len);
	}
	return in->stack_text && in->env_text ? 0 : -ENOENT;
}

/* Renders once and keeps each stage's input for the stage rows. */
static int stage_setup(const struct input *in, struct stage_ctx *sc, struct emit_ctx *ec)
{
	struct model_errors errs;
	model_errors_init(&errs);
	sc->in = in;
	sc->stack = json_loadb(in->stack_text, in->stack_len, 0, NULL);
	sc->env = json_loadb(in->env_text, in->env_len, 0, NULL);
	int rc = sc->stack && sc->env ? 0 : -EINVAL;
	if (rc == 0)
		rc = model_resolve(in->stack_name, sc->stack, in->env_name, sc->env, NULL, &errs, &sc->doc);
	for (size_t i = 0; rc == 0 && i < errs.count; i++)
		fprintf(stderr, "%s: %s\n", errs.items[i].pointer, errs.items[i].detail);
	struct render_meta meta = {in->stack_name, in->env_name, 1};
	if (rc == 0)
		rc = render_new(sc->doc, &meta, NULL, &sc->r);
	if (rc == 0) {
		ec->files = calloc(render_file_count(sc->r) + 1, sizeof(*ec->files));
		rc = ec->files ? 0 : -ENOMEM;
	}
	for (size_t k = 0; rc == 0 && k < render_file_count(sc->r); k++) {
		rc = render_file_nodes(sc->r, k, &ec->files[k]);
		if (rc == 0)
			ec->nfiles++;
	}
	model_errors_release(&errs);
	return rc;
}

int main(int argc, char **argv)
{
	struct input in = {0};
	struct stage_ctx sc = {0};
	struct emit_ctx ec = {0};
	struct floor_ctx fc = {0};
	struct result floor, yaml, zip, tgz, r;
	/* The malloc settings of `manifestd serve` (tune_malloc in cmd_serve.c), so a render
	 * costs here what it costs in the server: with glibc's defaults every zip entry's
	 * 256 KiB deflate state goes back to the kernel and is page-faulted in again (~300
	 * faults per prod zip, a third of the zip's extra time). */
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	int rc = load(argc, argv, &in);
	if (rc == 0)
		rc = stage_setup(&in, &sc, &ec);
	if (rc < 0) {
		fprintf(stderr, "manifestd-micro: cannot set up (%s)\n", strerror(-rc));
		return 1;
	}
	struct buf yaml_out;
	buf_init(&yaml_out, BUF_NO_MAX);
	rc = bundle_build(sc.r, BUNDLE_YAML, &yaml_out);
	if (rc == 0)
		rc = record(&yaml_out, &fc);
	buf_release(&yaml_out);
	printf("| step (%s/%s, %zu files) | ns/op | us/op | bytes alloc/op | allocs/op | output bytes | x floor |\n"
	       "|---|---|---|---|---|---|---|\n",
	       in.stack_name, in.env_name, render_file_count(sc.r));
	struct pipe_ctx yc = {&in, BUNDLE_YAML, true}, zc = {&in, BUNDLE_ZIP, true}, tc = {&in, BUNDLE_TARGZ, true};
	struct request_ctx rq = {&in, sc.stack, sc.env, BUNDLE_YAML};
	struct request_ctx rqz = {&in, sc.stack, sc.env, BUNDLE_ZIP};
	if (rc == 0 && only && strncmp(only, "request", 7) == 0) {
		rc = measure(op_request, strcmp(only, "request-zip") == 0 ? &rqz : &rq, &r);
		if (rc == 0)
			row(only, &r, NULL);
		goto out;
	}
	if (rc == 0 && only && strcmp(only, "floor") == 0) {
		rc = measure(op_floor, &fc, &r);
		if (rc == 0)
			row(only, &r, NULL);
		goto out;
	}
	if (rc == 0 && only) {
		rc = measure(op_pipeline, strcmp(only, "zip") == 0 ? &zc : strcmp(only, "tar.gz") == 0 ? &tc : &yc, &r);
		if (rc == 0)
			row(only, &r, NULL);
		goto out;
	}
	if (rc == 0)
		rc = measure(op_floor, &fc, &floor);
	if (rc == 0)
		row("floor: libyaml emitter alone, same events", &floor, &floor);
	if (rc == 0 && (rc = measure(op_pipeline, &yc, &yaml)) == 0)
		row("**render yaml: parse+resolve+render+bundle**", &yaml, &floor);
	if (rc == 0 && (rc = measure(op_request, &rq, &r)) == 0)
		row("**render yaml as POST /render does: request body parse+resolve+render+bundle**", &r, &floor);
	if (rc == 0 && (rc = measure(op_pipeline, &zc, &zip)) == 0)
		row("**render zip: parse+resolve+render+bundle**", &zip, &floor);
	if (rc == 0 && (rc = measure(op_request, &rqz, &r)) == 0)
		row("render zip as POST /render does: request body parse+resolve+render+bundle", &r, &floor);
	if (rc == 0 && (rc = measure(op_pipeline, &tc, &tgz)) == 0)
		row("render tar.gz: parse+resolve+render+bundle", &tgz, &floor);
	if (rc == 0 && (rc = measure(op_parse, &sc, &r)) == 0)
		row("stage: JSON parse of stack+env", &r, &floor);
	if (rc == 0 && (rc = measure(op_resolve, &sc, &r)) == 0)
		row("stage: model_resolve (layer+validate)", &r, &floor);
	if (rc == 0 && (rc = measure(op_render_new, &sc, &r)) == 0)
		row("stage: render_new (hashes, plan)", &r, &floor);
	if (rc == 0 && (rc = measure(op_objects, &sc, &r)) == 0)
		row("stage: render objects (all files)", &r, &floor);
	if (rc == 0 && (rc = measure(op_yamlout, &ec, &r)) == 0)
		row("stage: yamlout of those objects", &r, &floor);
out:
	if (rc < 0)
		fprintf(stderr, "manifestd-micro: failed (%s)\n", strerror(-rc));
	for (size_t k = 0; k < fc.n; k++)
		free(fc.ev[k].value);
	free(fc.ev);
	free(ec.files);
	render_free(sc.r);
	json_decref(sc.doc);
	json_decref(sc.stack);
	json_decref(sc.env);
	free(in.stack_text);
	free(in.env_text);
	return rc < 0 ? 1 : 0;
}

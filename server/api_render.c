/* api_render: bundles over HTTP: the manifests of a stored environment and POST /render
 * (stored names or inline documents, plus overrides that are never stored). zip, tar.gz,
 * json and files are built in memory; yaml is streamed one file at a time unless it is
 * kept. Every bundle asked for a second time goes into the render cache (cache.h) under
 * the hash of everything its bytes depend on, so a repeated request, and its
 * If-None-Match, is answered without resolving; a one-off is neither copied nor kept.
 * The files format (the web form's preview) is rendered with every secret value masked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bundle.h"
#include "digest.h"
#include "metrics.h"
#include "model.h"
#include "render.h"
#include "util.h"

#define MAX_BUNDLE (64u * 1024 * 1024)
#define ETAG_MAX 128

/* One render in progress: owns everything the (possibly streamed) response needs. */
struct job {
	char *stack;
	char *env;
	json_t *doc;
	struct render *render;
	struct bundle_stream *stream;
	enum bundle_format format;
	uint64_t start_ns;
	uint64_t bytes;
	struct cache *cache;   /* NULL: not cached */
	char key[65];
	char etag[ETAG_MAX];
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	bundle_stream_free(j->stream);
	render_free(j->render);
	json_decref(j->doc);
	free(j->stack);
	free(j->env);
	free(j);
}

/* Takes the reference to doc. 0, MODEL_EINVALID (what render found is in errs), or
 * another negative error. */
static int job_new(const char *stack, const char *env, long long revision, json_t *doc,
		   enum bundle_format format, uint64_t start_ns, struct model_errors *errs, struct job **ret)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j) {
		json_decref(doc);
		return -ENOMEM;
	}
	j->doc = doc;
	j->format = format;
	j->start_ns = start_ns;
	j->stack = strdup(stack);
	j->env = strdup(env);
	int r = j->stack && j->env ? 0 : -ENOMEM;
	if (r == 0) {
		struct render_meta meta = {j->stack, j->env, revision};
		r = render_new(j->doc, &meta, errs, &j->render);
	}
	if (r < 0) {
		job_free(j);
		return r;
	}
	*ret = j;
	return 0;
}

/* ---- format negotiation ---- */

static const struct {
	const char *mime;
	enum bundle_format format;
} accept_types[] = {
	{"application/zip", BUNDLE_ZIP},
	{"application/gzip", BUNDLE_TARGZ},
	{"application/x-gzip", BUNDLE_TARGZ},
	{"application/x-tar", BUNDLE_TARGZ},
	{"application/yaml", BUNDLE_YAML},
	{"application/x-yaml", BUNDLE_YAML},
	{"text/yaml", BUNDLE_YAML},
	{"application/json", BUNDLE_JSON},
	{"*/*", BUNDLE_ZIP},
	{"application/*", BUNDLE_ZIP},
};

/* The first media type of Accept that names a format; -ENOENT when none does. */
static int format_from_accept(const char *accept, enum bundle_format *ret)
{
	const char *p = accept;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ";,");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		for (size_t i = 0; i < sizeof accept_types / sizeof accept_types[0]; i++) {
			if (strlen(accept_types[i].mime) == n &&
			    strncasecmp(accept_types[i].mime, p, n) == 0) {
				*ret = accept_types[i].format;
				return 0;
			}
		}
		p += strcspn(p, ",");
	}
	return -ENOENT;
}

/* The format asked for by ?format= or Accept; 0 or the status sent. */
static int pick_format(struct http_request *req, enum bundle_format *ret)
{
	const char *name = http_query(req, "format");
	const char *accept = http_header(req, "Accept");
	if (name) {
		if (bundle_format_parse(name, ret) < 0 || *ret == BUNDLE_DIR)
			return http_reply_problem(req, 400, NULL, NULL,
						  "unknown format '%s': use zip, tar.gz, yaml, json or files",
						  name);
		return 0;
	}
	*ret = BUNDLE_ZIP;
	if (accept && *accept && format_from_accept(accept, ret) < 0)
		return http_reply_problem(req, 406, NULL, NULL,
					  "none of the media types in Accept is produced here: "
					  "application/zip, application/gzip, application/yaml, application/json");
	return 0;
}

/* ---- replies ---- */

static void add_download_headers(struct http_request *req, const char *stack, const char *env,
				 enum bundle_format format, const char *etag)
{
	(void)http_add_header(req, "ETag", etag);
	if (format == BUNDLE_FILES)
		return;
	struct buf cd;
	buf_init(&cd, 1024);
	if (BUF_PUTS(&cd, "attachment; filename=\"", stack, "-", env, bundle_format_suffix(format),
		     "\"") == 0)
		(void)http_add_header(req, "Content-Disposition", buf_cstr(&cd));
	buf_release(&cd);
}

/* true when If-None-Match lists etag (or is *). */
static bool not_modified(struct http_request *req, const char *etag)
{
	const char *h = http_header(req, "If-None-Match");
	if (!h)
		return false;
	if (strcmp(h, "*") == 0)
		return true;
	size_t n = strlen(etag);
	for (const char *p = strstr(h, etag); p; p = strstr(p + 1, etag))
		if (p[n] == '\0' || p[n] == ',' || p[n] == ' ')
			return true;
	return false;
}

static ssize_t stream_read(void *state, char *dst, size_t max)
{
	struct job *j = state;
	ssize_t n = bundle_stream_read(j->stream, dst, max);
	if (n > 0)
		j->bytes += (uint64_t)n;
	return n;
}

static void stream_done(void *state)
{
	struct job *j = state;
	metrics_render(bundle_format_name(j->format), util_now_ns() - j->start_ns);
	metrics_bundle_bytes(bundle_format_name(j->format), j->bytes);
	job_free(j);
}

static void entry_release(void *cls)
{
	cache_entry_unref(cls);
}

/* Sends a cached bundle (the reference to e is taken over): 304 when If-None-Match
 * names its ETag. */
static int reply_entry(struct http_request *req, struct cache_entry *e, const char *stack,
		       const char *env, enum bundle_format format)
{
	const char *etag = cache_entry_etag(e);
	if (not_modified(req, etag)) {
		int status = http_reply_empty(req, 304);
		(void)http_add_header(req, "ETag", etag);
		cache_entry_unref(e);
		return status;
	}
	size_t len;
	const char *data = cache_entry_data(e, &len);
	int status = http_reply_shared(req, 200, bundle_format_mime(format), data, len,
				       entry_release, e);
	if (status == 200)
		add_download_headers(req, stack, env, format, etag);
	return status;
}

/* The preview format (files) goes to browsers: it is rendered with every secret value
 * masked (model_mask_secret_values, as the diffs are), so any reader may have it. */
static bool masked_format(enum bundle_format format)
{
	return format == BUNDLE_FILES;
}

/* true when the caller may be sent a cached bundle of this format without the checks of
 * resolve_and_reply: the bundle holds no secret values, or the role may see them. */
static bool may_use_cache(struct http_request *req, enum bundle_format format)
{
	return masked_format(format) || http_role(req) >= AUTH_EDITOR;
}

/* Replies from the cache when it holds key (and the caller may use it); 0 otherwise. */
static int try_cache(struct http_request *req, const char *key, const char *stack,
		     const char *env, enum bundle_format format)
{
	if (!may_use_cache(req, format))
		return 0;
	struct cache_entry *e = cache_get(((struct api *)http_app(req))->cache, key);
	return e ? reply_entry(req, e, stack, env, format) : 0;
}

/* Sends the bytes of out (taken over) built for j, through the cache when there is one. */
static int reply_built(struct http_request *req, struct job *j, struct buf *out)
{
	struct cache_entry *e = NULL;
	if (j->cache) {
		if (cache_put(j->cache, j->key, j->etag, out, &e) < 0)
			return http_reply_problem(req, 500, NULL, NULL, "cannot keep the bundle");
		return reply_entry(req, e, j->stack, j->env, j->format);
	}
	int status = http_reply_buf(req, 200, bundle_format_mime(j->format), out);
	if (status == 200)
		add_download_headers(req, j->stack, j->env, j->format, j->etag);
	return status;
}

/* Sends the bundle of j (taken over); stack and env are its names, borrowed from the
 * request (j may be freed before the reply is sent). A YAML bundle not worth keeping is
 * streamed, one file rendered at a time (read whole when short: http_reply_stream);
 * every other bundle is built whole, and one worth keeping goes into the cache before
 * the first byte is sent, so the requests for it that follow are hits at once (a stream
 * would file it only when sent: at 1,000 connections every one of them rendered it, each
 * holding a whole render while its bytes went out). */
static int reply_bundle(struct http_request *req, struct job *j, const char *stack,
			const char *env)
{
	const char *fmt = bundle_format_name(j->format);
	struct buf etag;
	buf_init(&etag, ETAG_MAX - 1);
	(void)buf_printf(&etag, "\"%.40s-%s\"", render_bundle_hash(j->render), fmt);
	memcpy(j->etag, buf_cstr(&etag), etag.len + 1);
	int status;
	if (not_modified(req, buf_cstr(&etag))) {
		status = http_reply_empty(req, 304);
		(void)http_add_header(req, "ETag", buf_cstr(&etag));
		job_free(j);
	} else if (j->format == BUNDLE_YAML && !j->cache) {
		int r = bundle_stream_new(j->render, &j->stream);
		if (r < 0) {
			job_free(j);
			status = http_reply_problem(req, 500, NULL, NULL, "cannot start the stream");
		} else {
			/* the stream owns j from here on, and may have freed it when it returns */
			status = http_reply_stream(req, 200, bundle_format_mime(BUNDLE_YAML),
						   stream_read, j, stream_done);
			if (status == 200)
				add_download_headers(req, stack, env, BUNDLE_YAML, buf_cstr(&etag));
		}
	} else {
		struct buf out;
		buf_init(&out, MAX_BUNDLE);
		int r = bundle_build(j->render, j->format, &out);
		if (r < 0) {
			status = http_reply_problem(req, 500, NULL, NULL, "cannot build the bundle (%s)",
						    strerror(-r));
		} else {
			metrics_render(fmt, util_now_ns() - j->start_ns);
			metrics_bundle_bytes(fmt, out.len);
			status = reply_built(req, j, &out);
		}
		buf_release(&out);
		job_free(j);
	}
	buf_release(&etag);
	return status;
}

/* model_resolve of the layers, each with its secret values masked first for a masked
 * format. */
static int resolve_layers(const char *stack_name, const json_t *stack, const char *env_name,
			  const json_t *env, const json_t *overrides, bool masked,
			  struct model_errors *errs, json_t **ret_doc)
{
	if (!masked)
		return model_resolve(stack_name, stack, env_name, env, overrides, errs, ret_doc);
	json_t *s = model_mask_secret_values(stack);
	json_t *e = env ? model_mask_secret_values(env) : NULL;
	json_t *o = overrides ? model_mask_secret_values(overrides) : NULL;
	int r = s && (e || !env) && (o || !overrides)
			? model_resolve(stack_name, s, env_name, e, o, errs, ret_doc) : -ENOMEM;
	json_decref(s);
	json_decref(e);
	json_decref(o);
	return r;
}

/* 403: a bundle with secret values for a token that may not see them. */
static int forbid_secrets(struct http_request *req)
{
	return http_reply_problem(req, 403, NULL, NULL,
				  "this bundle would hold secret values, which a %s token may not see: use an "
				  "editor token, or keep the secrets outside (/secretSource/type \"existing\" or "
				  "\"externalSecret\")",
				  auth_role_name(http_role(req)));
}

/* Resolves, renders and replies: 422 with every problem (model_resolve's, then
 * render_new's), or the bundle. */
static int resolve_and_reply(struct http_request *req, const char *stack_name,
			     const json_t *stack, const char *env_name, const json_t *env,
			     long long revision, const json_t *overrides, enum bundle_format format,
			     const char *key, uint64_t start_ns)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *doc = NULL;
	struct job *j = NULL;
	bool masked = masked_format(format);
	int status, r = resolve_layers(stack_name, stack, env_name, env, overrides, masked, &errs,
				       &doc);
	bool forbidden = r == 0 && !masked && http_role(req) < AUTH_EDITOR && model_renders_secret_values(doc);
	if (forbidden)
		json_decref(doc);
	else if (r == 0)
		r = job_new(stack_name, env_name, revision, doc, format, start_ns, &errs, &j);
	if (forbidden)
		status = forbid_secrets(req);
	else if (r == MODEL_EINVALID)
		status = http_reply_problem(req, 422, model_errors_json(&errs), NULL,
					    "the resolved document is not valid: %zu problem%s",
					    errs.count, errs.count == 1 ? "" : "s");
	else if (r < 0)
		status = http_reply_problem(req, 500, NULL, NULL, "cannot render (%s)", strerror(-r));
	else {
		struct cache *cache = ((struct api *)http_app(req))->cache;
		if (key && cache_admits(cache, key)) { /* asked for before: worth keeping */
			j->cache = cache;
			memcpy(j->key, key, sizeof j->key);
		}
		status = reply_bundle(req, j, stack_name, env_name);
	}
	model_errors_release(&errs);
	return status;
}

/* ---- cache keys ---- */

/* Appends "label:", the digest of v (include/digest.h; "null" for NULL) and "\n". */
static int key_add_json(struct buf *b, const char *label, const json_t *v)
{
	char hex[65] = "null";
	int r = v ? digest_json(v, hex) : 0;
	return r < 0 ? -ENOMEM : BUF_PUTS(b, label, ":", hex, "\n");
}

/* What the bytes of a render depend on, besides the documents. */
static int key_begin(struct buf *b, const char *kind, enum bundle_format format,
		     const char *stack, const char *env)
{
	return BUF_PUTS(b, kind, "\nmanifestd " MANIFESTD_VERSION "\nformat:", bundle_format_name(format),
			"\nstack:", stack, "\nenvironment:", env, "\n");
}

/* key = BLAKE2b-256 hex of b (digest_bytes, as store fingerprints: a third of SHA-256's
 * cost here); 0, the buf error that b recorded, or -EIO. */
static int key_finish(struct buf *b, int r, char key[65])
{
	if (r == 0)
		r = digest_bytes(b->data, b->len, key);
	buf_release(b);
	return r;
}

/* The key of a stored environment's manifests: its store fingerprint. 0 or -errno. */
static int manifests_key(struct store_conn *c, const char *stack, const char *env,
			 enum bundle_format format, char key[65])
{
	char fp[65];
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	int r = store_fingerprint(c, stack, env, fp);
	if (r == 0)
		r = key_begin(&b, "manifests", format, stack, env);
	if (r == 0)
		r = BUF_PUTS(&b, "stored:", fp, "\n");
	return key_finish(&b, r, key);
}

/* ---- handlers ---- */

int api_manifests(struct http_request *req)
{
	uint64_t start = util_now_ns();
	const char *stack = http_param(req, 0), *env = http_param(req, 1);
	enum bundle_format format;
	int status = pick_format(req, &format);
	if (status != 0)
		return status;
	struct store_conn *c = NULL;
	struct store_record srec = {0}, erec = {0};
	const char *missing = "the database";
	struct api *api = http_app(req);
	char key[65];
	bool keyed = false;
	int r = store_acquire(api->store, &c);
	if (r == 0)
		r = store_begin_read(c);
	/* The key and the documents come from one read transaction: a write in between
	 * cannot file new bytes under the old key. */
	if (r == 0 && api->cache && manifests_key(c, stack, env, format, key) == 0) {
		keyed = true;
		if ((status = try_cache(req, key, stack, env, format)) != 0) {
			store_release(c);
			return status;
		}
	}
	if (r == 0 && (r = store_stack_get_shared(c, stack, &srec)) < 0)
		missing = "stack";
	if (r == 0 && (r = store_env_get_shared(c, stack, env, &erec)) < 0)
		missing = "environment";
	store_release(c);
	if (r == -ENOENT)
		status = http_reply_problem(req, 404, NULL, NULL, "%s '%s' does not exist", missing,
					    missing[0] == 's' ? stack : env);
	else if (r < 0)
		status = api_store_error(req, r, missing);
	else
		status = resolve_and_reply(req, stack, srec.document, env, erec.document,
					   erec.revision, NULL, format, keyed ? key : NULL, start);
	store_record_release(&srec);
	store_record_release(&erec);
	return status;
}

/* What a POST /render body names, checked. */
struct render_input {
	const char *stack_name;
	const json_t *stack;      /* inline document, or NULL when stored */
	const char *env_name;
	const json_t *env;        /* inline document, NULL when stored or absent */
	bool env_stored;
	const json_t *overrides;
};

static int add_error(struct model_errors *errs, const char *pointer, const char *detail)
{
	return model_errors_add(errs, pointer, "%s", detail);
}

static int parse_render_body(const json_t *body, struct render_input *in, struct model_errors *errs)
{
	static const char *const allowed[] = {"stack", "environment", "name", "stackName", "overrides"};
	const char *key;
	json_t *v;
	int r = 0;
	if (!json_is_object(body))
		return add_error(errs, "", "must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		size_t i = 0;
		while (i < sizeof allowed / sizeof allowed[0] && strcmp(allowed[i], key) != 0)
			i++;
		if (i == sizeof allowed / sizeof allowed[0])
			r = model_errors_add(errs, "", "unknown field '%s': use stack, environment, name, stackName, overrides", key);
		if (r < 0)
			return r;
	}
	const json_t *stack = json_object_get(body, "stack"), *env = json_object_get(body, "environment");
	const json_t *name = json_object_get(body, "name"), *sname = json_object_get(body, "stackName");
	in->overrides = json_object_get(body, "overrides");
	if (json_is_string(stack)) {
		in->stack_name = json_string_value(stack);
	} else if (json_is_object(stack)) {
		in->stack = stack;
		in->stack_name = sname ? json_string_value(sname) : "inline";
	} else {
		r = add_error(errs, "/stack", "is required: a stored stack name or an inline stack document");
	}
	if (r == 0 && json_is_string(env)) {
		in->env_name = json_string_value(env);
		in->env_stored = true;
		if (in->stack)
			r = add_error(errs, "/environment", "a stored environment needs a stored stack: give the environment inline");
	} else if (r == 0 && (!env || json_is_object(env))) {
		in->env = env;
		in->env_name = name ? json_string_value(name) : "inline";
	} else if (r == 0) {
		r = add_error(errs, "/environment", "must be a stored environment name or an inline document");
	}
	if (r == 0 && in->overrides && !json_is_object(in->overrides))
		r = add_error(errs, "/overrides", "must be an object (a JSON merge patch)");
	if (r == 0 && (!in->env_name || !util_is_dns_label(in->env_name)))
		r = add_error(errs, name && !in->env_stored ? "/name" : "/environment", "must be a DNS label");
	if (r == 0 && (!in->stack_name || !util_is_dns_label(in->stack_name)))
		r = add_error(errs, sname ? "/stackName" : "/stack", "must be a DNS label");
	return r;
}

/* The key of a POST /render: the store fingerprint of what it reads from the database
 * (c NULL when nothing), the canonical JSON of the inline documents and the overrides. */
static int render_key(struct store_conn *c, const struct render_input *in,
		      enum bundle_format format, char key[65])
{
	char fp[65] = "";
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	int r = 0;
	if (c)
		r = store_fingerprint(c, in->stack_name, in->env_stored ? in->env_name : NULL, fp);
	if (r == 0)
		r = key_begin(&b, "render", format, in->stack_name, in->env_name);
	if (r == 0)
		r = BUF_PUTS(&b, "stored:", fp, "\nenv-stored:", in->env_stored ? "1" : "0", "\n");
	if (r == 0)
		r = key_add_json(&b, "stack", in->stack);
	if (r == 0)
		r = key_add_json(&b, "environment", in->env);
	if (r == 0)
		r = key_add_json(&b, "overrides", in->overrides);
	return key_finish(&b, r, key);
}

int api_render(struct http_request *req)
{
	uint64_t start = util_now_ns();
	enum bundle_format format;
	int status = pick_format(req, &format);
	if (status != 0)
		return status;
	struct render_input in = {0};
	struct model_errors errs;
	model_errors_init(&errs);
	struct store_record srec = {0}, erec = {0};
	struct store_conn *c = NULL;
	int r = parse_render_body(http_json_body(req), &in, &errs);
	if (r < 0 || errs.count) {
		status = errs.count ? http_reply_problem(req, 422, model_errors_json(&errs), NULL,
							 "the render request is not valid")
				    : http_reply_problem(req, 500, NULL, NULL, "out of memory");
		goto out;
	}
	struct api *api = http_app(req);
	char key[65];
	bool keyed = false;
	if (!in.stack || in.env_stored) {
		r = store_acquire(api->store, &c);
		if (r == 0)
			r = store_begin_read(c);
		if (r == 0 && api->cache && render_key(c, &in, format, key) == 0) {
			keyed = true;
			if ((status = try_cache(req, key, in.stack_name, in.env_name, format)) != 0)
				goto out;
		}
		if (r == 0 && !in.stack && (r = store_stack_get_shared(c, in.stack_name, &srec)) < 0) {
			status = r != -ENOENT ? api_store_error(req, r, "the database")
					      : http_reply_problem(req, 404, NULL, NULL,
								   "stack '%s' cannot be read", in.stack_name);
			goto out;
		}
		if (r == 0 && in.env_stored && (r = store_env_get_shared(c, in.stack_name, in.env_name, &erec)) < 0) {
			status = r != -ENOENT ? api_store_error(req, r, "the database")
					      : http_reply_problem(req, 404, NULL, NULL,
								   "environment '%s' of stack '%s' cannot be read",
								   in.env_name, in.stack_name);
			goto out;
		}
		if (r < 0) {
			status = api_store_error(req, r, "the database");
			goto out;
		}
		store_release(c);
		c = NULL;
	} else if (api->cache && render_key(NULL, &in, format, key) == 0) {
		keyed = true;
		if ((status = try_cache(req, key, in.stack_name, in.env_name, format)) != 0)
			goto out;
	}
	status = resolve_and_reply(req, in.stack_name, in.stack ? in.stack : srec.document,
				   in.env_name, in.env_stored ? erec.document : in.env,
				   in.env_stored ? erec.revision : 0, in.overrides, format,
				   keyed ? key : NULL, start);
out:
	store_release(c);
	store_record_release(&srec);
	store_record_release(&erec);
	model_errors_release(&errs);
	return status;
}

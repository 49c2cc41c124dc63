/* import_score: Score workloads (score.dev/v1b1) -> a stack, an environment and a report:
 * the stream, each workload's containers, ports, probes, files and volumes
 * (include/import_score.h; the resources and placeholders are score_resources.c). */
#include "import_score.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importkit.h"
#include "model.h"
#include "score_conv.h"
#include "syntax.h"
#include "util.h"
#include "yamlin.h"

#define SCORE_API "score.dev/v1b1"

void import_score_result_release(struct import_score_result *r)
{
	if (!r)
		return;
	json_decref(r->stack);
	json_decref(r->environment);
	json_decref(r->report);
	*r = (struct import_score_result){0};
}

/* ==== the shared machinery (include/score_conv.h) ==== */

int sconv_oom(struct sconv *cv, int r)
{
	if (r < 0 && cv->rc == 0)
		cv->rc = r;
	return cv->rc;
}

void sconv_set(struct sconv *cv, json_t *obj, const char *key, json_t *value)
{
	if (!value || !obj) {
		json_decref(value);
		(void)sconv_oom(cv, -ENOMEM);
	} else if (json_object_set_new(obj, key, value) < 0) {
		(void)sconv_oom(cv, -ENOMEM);
	}
}

json_t *sconv_child(struct sconv *cv, json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && obj) {
		sconv_set(cv, obj, key, json_object());
		c = json_object_get(obj, key);
	}
	return c;
}

void sconv_report(struct sconv *cv, const struct swl *wl, const char *t0, const char *t1, const char *t2,
		  const char *t3, const char *fmt, ...)
{
	const char *const tokens[4] = {t0, t1, t2, t3};
	struct buf path, detail, object;
	buf_init(&path, BUF_NO_MAX);
	buf_init(&detail, BUF_NO_MAX);
	buf_init(&object, BUF_NO_MAX);
	int r = buf_printf(&path, "/%zu", wl->doc);
	for (size_t i = 0; r == 0 && i < 4 && tokens[i]; i++)
		r = util_pointer_append(&path, tokens[i]);
	if (r == 0)
		r = buf_printf(&object, "Workload/%s", wl->score_name);
	va_list ap;
	va_start(ap, fmt);
	if (r == 0)
		r = buf_vprintf(&detail, fmt, ap);
	va_end(ap);
	json_t *item = r == 0 ? json_pack("{s:s, s:s}", "path", buf_cstr(&path), "object", buf_cstr(&object)) : NULL;
	if (item && wl->source)
		sconv_set(cv, item, "source", json_string(wl->source));
	if (item)
		sconv_set(cv, item, "detail", json_string(buf_cstr(&detail)));
	if (!item || json_array_append_new(cv->report, item) < 0)
		(void)sconv_oom(cv, -ENOMEM);
	buf_release(&path);
	buf_release(&detail);
	buf_release(&object);
}

const char *sconv_scalar(const json_t *v, char *tmp, size_t n)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		(void)snprintf(tmp, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		(void)snprintf(tmp, n, "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return tmp;
}

struct swl *sconv_workload(struct sconv *cv, const char *name)
{
	for (size_t i = 0; name && i < cv->nwls; i++)
		if (strcmp(cv->wls[i].score_name, name) == 0)
			return &cv->wls[i];
	return NULL;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ==== containers ==== */

/* The image of the service's container into svc.image (registry, repository, tag,
 * digest), counted for the top-level image. */
static void map_image(struct sconv *cv, struct swl *wl, const char *cname, const char *ref)
{
	struct importkit_image img = {0};
	bool split = strcmp(ref, ".") != 0 && importkit_image_split(ref, &img) && img.repository[0];
	if (!split) {
		img = (struct importkit_image){0};
		memcpy(img.repository, wl->name, strlen(wl->name) + 1);
		memcpy(img.tag, MODEL_PLACEHOLDER, sizeof MODEL_PLACEHOLDER);
		sconv_report(cv, wl, "containers", cname, "image", NULL,
			     "'%s' is built by Score's tools: images are not built here; build and push one, then set its repository and tag (assumed '%s:%s')",
			     ref, wl->name, MODEL_PLACEHOLDER);
	} else if (!img.tag[0] || strcmp(img.tag, "latest") == 0) {
		if (!img.digest[0])
			sconv_report(cv, wl, "containers", cname, "image", NULL,
				     "has no tag or 'latest', which moves: the tag was set to '%s'; pin a version",
				     MODEL_PLACEHOLDER);
		memcpy(img.tag, MODEL_PLACEHOLDER, sizeof MODEL_PLACEHOLDER);
	}
	(void)sconv_oom(cv, importkit_count(cv->registries, img.registry));
	(void)sconv_oom(cv, importkit_count(cv->tags, img.tag));
	json_t *image = json_pack("{s:s, s:s, s:s}", "registry", img.registry, "repository", img.repository,
				  "tag", img.tag);
	if (image && img.digest[0])
		sconv_set(cv, image, "digest", json_string(img.digest));
	sconv_set(cv, wl->svc, "image", image);
}

/* A sidecar's full image reference ("REPO:change-me" when untagged, reported). */
static json_t *sidecar_image(struct sconv *cv, struct swl *wl, const char *cname, const char *ref)
{
	struct importkit_image img;
	if (strcmp(ref, ".") == 0 || !importkit_image_split(ref, &img) || !img.repository[0]) {
		sconv_report(cv, wl, "containers", cname, "image", NULL,
			     "'%s' is built by Score's tools: the sidecar's image was set to '%s-%s:%s'; build and push one",
			     ref, wl->name, cname, MODEL_PLACEHOLDER);
		struct buf b;
		buf_init(&b, BUF_NO_MAX);
		(void)sconv_oom(cv, buf_printf(&b, "%s-%s:%s", wl->name, cname, MODEL_PLACEHOLDER));
		json_t *s = json_string(buf_cstr(&b));
		buf_release(&b);
		return s;
	}
	if (img.tag[0] && strcmp(img.tag, "latest") != 0)
		return json_string(ref);
	if (img.digest[0])
		return json_string(ref);
	sconv_report(cv, wl, "containers", cname, "image", NULL,
		     "has no tag or 'latest', which moves: the tag was set to '%s'; pin a version", MODEL_PLACEHOLDER);
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	(void)sconv_oom(cv, buf_printf(&b, "%s%s%s:%s", img.registry, img.registry[0] ? "/" : "", img.repository,
				       MODEL_PLACEHOLDER));
	json_t *s = json_string(buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* command or args: an array of strings with the placeholders that need no component
 * expanded; NULL (reported) when it is not one. */
static json_t *map_words(struct sconv *cv, struct swl *wl, const char *cname, const char *key, const json_t *in)
{
	if (!json_is_array(in)) {
		sconv_report(cv, wl, "containers", cname, key, NULL, "must be a list of strings: not mapped");
		return NULL;
	}
	json_t *out = json_array();
	size_t i;
	json_t *v;
	char tmp[32], tok[24];
	json_array_foreach(in, i, v) {
		const char *s = sconv_scalar(v, tmp, sizeof tmp);
		(void)snprintf(tok, sizeof tok, "%zu", i);
		if (!s) {
			sconv_report(cv, wl, "containers", cname, key, tok, "is not a string: left out");
			continue;
		}
		struct buf b;
		buf_init(&b, BUF_NO_MAX);
		const char *const at[4] = {"containers", cname, key, tok};
		score_expand(cv, wl, s, SCTX_TEXT, &b, NULL, at);
		if (!out || json_array_append_new(out, json_string(buf_cstr(&b))) < 0)
			(void)sconv_oom(cv, -ENOMEM);
		buf_release(&b);
	}
	return out;
}

/* One variable into env. */
static void map_variable(struct sconv *cv, struct swl *wl, const char *cname, const char *var, const json_t *v,
			 json_t *env)
{
	char tmp[32];
	const char *s = sconv_scalar(v, tmp, sizeof tmp);
	if (syntax_env_name(var)) {
		sconv_report(cv, wl, "containers", cname, "variables", var,
			     "'%s' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*): not mapped", var);
		return;
	}
	if (!s) {
		sconv_report(cv, wl, "containers", cname, "variables", var, "is not a string: not mapped");
		return;
	}
	struct buf text, key;
	buf_init(&text, BUF_NO_MAX);
	buf_init(&key, BUF_NO_MAX);
	json_t *whole = NULL;
	const char *const at[4] = {"containers", cname, "variables", var};
	score_expand(cv, wl, s, SCTX_ENV, &text, &whole, at);
	if (whole) {
		sconv_set(cv, env, var, whole);
	} else if (importkit_secret_name(var) && text.len && !strstr(s, "${")) {
		(void)sconv_oom(cv, importkit_secret_key(sconv_child(cv, cv->env, "secrets"), wl->name, var,
							 buf_cstr(&text), true, &key));
		sconv_set(cv, sconv_child(cv, cv->stack, "secrets"), buf_cstr(&key), json_string(""));
		sconv_set(cv, env, var, json_pack("{s:s}", "secret", buf_cstr(&key)));
	} else {
		sconv_set(cv, env, var, json_pack("{s:s}", "value", buf_cstr(&text)));
	}
	buf_release(&text);
	buf_release(&key);
}

static json_t *map_variables(struct sconv *cv, struct swl *wl, const char *cname, const json_t *vars)
{
	json_t *env = json_object();
	const char *var;
	json_t *v;
	if (vars && !json_is_object(vars))
		sconv_report(cv, wl, "containers", cname, "variables", NULL, "must be a mapping: not mapped");
	json_object_foreach((json_t *)vars, var, v)
		map_variable(cv, wl, cname, var, v, env);
	return env;
}

/* resources: limits and requests (cpu, memory); a side given alone is copied to the other. */
static json_t *map_resources(struct sconv *cv, struct swl *wl, const char *cname, const json_t *in)
{
	static const char *const sides[2] = {"limits", "requests"};
	json_t *out = json_object();
	for (int s = 0; s < 2; s++) {
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(in, sides[s]), key, v) {
			char tmp[32];
			const char *q = sconv_scalar(v, tmp, sizeof tmp);
			if ((strcmp(key, "cpu") != 0 && strcmp(key, "memory") != 0) || !q || syntax_quantity(q)) {
				sconv_report(cv, wl, "containers", cname, "resources", sides[s],
					     "%s is not mapped (cpu and memory quantities are)", key);
				continue;
			}
			sconv_set(cv, sconv_child(cv, out, sides[s]), key, json_string(q));
		}
	}
	for (int s = 0; s < 2; s++) {
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(out, sides[s]), key, v) {
			json_t *other = sconv_child(cv, out, sides[1 - s]);
			if (!json_object_get(other, key)) {
				sconv_set(cv, other, key, json_incref(v));
				if (s == 1)
					sconv_report(cv, wl, "containers", cname, "resources", "requests",
						     "gives no %s limit: the request %s is the limit too", key,
						     json_string_value(v));
			}
		}
	}
	bool lowered[2];
	(void)sconv_oom(cv, importkit_fit_requests(out, lowered));
	for (int i = 0; i < 2; i++)
		if (lowered[i])
			sconv_report(cv, wl, "containers", cname, "resources", "requests", "%s " IMPORTKIT_ABOVE_LIMIT,
				     i ? "memory" : "cpu");
	return out;
}

/* ---- probes ---- */

static json_t *http_probe(struct sconv *cv, struct swl *wl, const char *cname, const char *key, const json_t *in)
{
	json_t *get = json_object();
	const char *path = str(in, "path");
	json_t *port = json_object_get(in, "port");
	sconv_set(cv, get, "path", json_string(path && !syntax_http_path(path) ? path : "/"));
	if (path && syntax_http_path(path))
		sconv_report(cv, wl, "containers", cname, key, "httpGet", "path '%s' %s: '/' is checked", path,
			     syntax_http_path(path));
	if (json_is_integer(port) && json_integer_value(port) >= 1 && json_integer_value(port) <= 65535)
		sconv_set(cv, get, "port", json_incref(port));
	else
		sconv_report(cv, wl, "containers", cname, key, "httpGet",
			     "has no port from 1 to 65535: the service's first port is checked");
	const char *scheme = str(in, "scheme");
	if (scheme && (strcasecmp(scheme, "HTTP") == 0 || strcasecmp(scheme, "HTTPS") == 0))
		sconv_set(cv, get, "scheme", json_string(toupper((unsigned char)scheme[4]) == 'S' ? "HTTPS" : "HTTP"));
	if (json_object_get(in, "host"))
		sconv_report(cv, wl, "containers", cname, key, "httpGet",
			     "host is not mapped: the probe asks the pod's own address");
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(in, "httpHeaders"), i, h) {
		const char *name = str(h, "name"), *value = str(h, "value");
		if (name && value && !syntax_http_header(name) && !json_object_get(json_object_get(get, "headers"), name))
			sconv_set(cv, sconv_child(cv, get, "headers"), name, json_string(value));
		else
			sconv_report(cv, wl, "containers", cname, key, "httpGet",
				     "header %zu is not a name and a value (or repeats a name): not mapped", i);
	}
	return json_pack("{s:o}", "httpGet", get);
}

/* A Score probe -> ours, or JSON null (reported) when it has neither httpGet nor exec. */
static json_t *map_probe(struct sconv *cv, struct swl *wl, const char *cname, const char *key, const json_t *in)
{
	if (!in)
		return json_null();
	const json_t *get = json_object_get(in, "httpGet"), *exec = json_object_get(in, "exec");
	if (json_is_object(get))
		return http_probe(cv, wl, cname, key, get);
	const json_t *cmd = json_object_get(exec, "command");
	if (json_is_array(cmd) && json_array_size(cmd) > 0) {
		json_t *words = map_words(cv, wl, cname, key, cmd);
		return json_pack("{s:{s:o}}", "exec", "command", words ? words : json_array());
	}
	sconv_report(cv, wl, "containers", cname, key, NULL, "is neither httpGet nor exec with a command: no probe");
	return json_null();
}

static json_t *map_probes(struct sconv *cv, struct swl *wl, const char *cname, const json_t *c)
{
	return json_pack("{s:o, s:o, s:n}", "readiness",
			 map_probe(cv, wl, cname, "readinessProbe", json_object_get(c, "readinessProbe")), "liveness",
			 map_probe(cv, wl, cname, "livenessProbe", json_object_get(c, "livenessProbe")), "startup");
}

/* ---- files and volumes ---- */

/* A volume name from a path's last component ("file-" + its letters and digits),
 * unique among the service's volumes. */
static void volume_name(json_t *volumes, const char *prefix, const char *path, char out[64])
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = (size_t)snprintf(out, 64, "%s", prefix);
	for (const char *p = base; *p && n < 44; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (!isalnum((unsigned char)c))
			c = '-';
		if (c == '-' && out[n - 1] == '-')
			continue;
		out[n++] = c;
	}
	while (n > 1 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	for (int i = 2; json_object_get(volumes, out) && i < 1000; i++)
		(void)snprintf(out + n, 64 - n, "-%d", i);
}

/* A file's mode as ours ("0644"), or NULL when it is not one. */
static const char *file_mode(const char *mode, char out[8])
{
	size_t n = mode ? strlen(mode) : 0;
	if (n != 3 && !(n == 4 && mode[0] == '0'))
		return NULL;
	(void)snprintf(out, 8, "0%s", mode + n - 3);
	return syntax_file_mode(out) ? NULL : out;
}

/* The content of a file: content (expanded unless noExpand) or UTF-8 binaryContent;
 * false (reported) when there is none here. */
static bool file_content(struct sconv *cv, struct swl *wl, const char *cname, const char *token, const json_t *f,
			 struct buf *out)
{
	const char *content = str(f, "content"), *binary = str(f, "binaryContent");
	if (content && json_is_true(json_object_get(f, "noExpand")))
		return buf_puts(out, content) == 0 || sconv_oom(cv, -ENOMEM);
	if (content) {
		const char *const at[4] = {"containers", cname, "files", token};
		score_expand(cv, wl, content, SCTX_TEXT, out, NULL, at);
		return true;
	}
	if (binary) {
		struct buf raw;
		buf_init(&raw, BUF_NO_MAX);
		bool ok = util_base64_decode_append(&raw, binary, strlen(binary)) == 0 &&
			  util_is_utf8(raw.data ? raw.data : "", raw.len) && !memchr(raw.data ? raw.data : "", 0, raw.len);
		if (ok)
			(void)sconv_oom(cv, buf_append(out, raw.data ? raw.data : "", raw.len));
		buf_release(&raw);
		if (ok)
			return true;
		sconv_report(cv, wl, "containers", cname, "files", token,
			     "binaryContent that is not UTF-8 text is not mapped (files here are text): add it to the image");
		return false;
	}
	sconv_report(cv, wl, "containers", cname, "files", token,
		     str(f, "source") ? "is read from '%s' by Score's tools; files are not read here: put its content in the file's content"
				      : "has no content%s: not mapped",
		     str(f, "source") ? str(f, "source") : "");
	return false;
}

/* One file (its target path and its Score description) as a volume of its own. */
static void map_file(struct sconv *cv, struct swl *wl, const char *cname, const char *token, const char *target,
		     const json_t *f, json_t *volumes)
{
	char name[64], mode[8];
	const char *base = target ? strrchr(target, '/') : NULL;
	if (!target || !json_is_object(f) || syntax_abs_path(target) || !base || !base[1] || syntax_rel_path(base + 1)) {
		sconv_report(cv, wl, "containers", cname, "files", token,
			     "is not a file at an absolute path: not mapped");
		return;
	}
	struct buf content;
	buf_init(&content, BUF_NO_MAX);
	if (file_content(cv, wl, cname, token, f, &content)) {
		json_t *file = json_pack("{s:s}", "content", buf_cstr(&content));
		if (file && str(f, "mode") && file_mode(str(f, "mode"), mode))
			sconv_set(cv, file, "mode", json_string(mode));
		else if (str(f, "mode"))
			sconv_report(cv, wl, "containers", cname, "files", token, "mode is not an octal mode: 0644 is used");
		volume_name(volumes, "file-", target, name);
		json_t *vol = json_pack("{s:s, s:s, s:{s:o}}", "mountPath", target, "subPath", base + 1, "files",
					base + 1, file);
		sconv_set(cv, volumes, name, vol);
	}
	buf_release(&content);
}

static void map_volume(struct sconv *cv, struct swl *wl, const char *cname, const char *token, const char *target,
		       const json_t *v, json_t *volumes)
{
	char name[64];
	const char *source = str(v, "source");
	json_t *vol = target && !syntax_abs_path(target) && source ? score_volume(cv, wl, source, name) : NULL;
	if (!vol) {
		sconv_report(cv, wl, "containers", cname, "volumes", token,
			     "does not mount a volume resource (${resources.NAME} of type volume) at an absolute path: not mapped");
		return;
	}
	if (json_object_get(volumes, name)) {
		json_decref(vol);
		sconv_report(cv, wl, "containers", cname, "volumes", token,
			     "mounts the volume '%s' a second time: a volume has one mount here; not mapped", name);
		return;
	}
	sconv_set(cv, vol, "mountPath", json_string(target));
	const char *path = str(v, "path");
	if (path && !syntax_rel_path(path) && *path)
		sconv_set(cv, vol, "subPath", json_string(path));
	else if (path && *path)
		sconv_report(cv, wl, "containers", cname, "volumes", token, "path '%s' is not a relative path: not mapped", path);
	if (json_is_true(json_object_get(v, "readOnly")))
		sconv_set(cv, vol, "readOnly", json_true());
	sconv_set(cv, volumes, name, vol);
}

/* One file or volume of a container: token names it in the report, target is its path. */
typedef void (*mount_fn)(struct sconv *cv, struct swl *wl, const char *cname, const char *token,
			 const char *target, const json_t *item, json_t *volumes);

/* A container's files or volumes: a mapping of target paths, or (deprecated) a list of
 * items with a target; each through fn. */
static void map_targets(struct sconv *cv, struct swl *wl, const char *cname, const json_t *in, json_t *volumes,
			mount_fn fn)
{
	const char *target;
	json_t *v;
	size_t i;
	char tok[24];
	json_object_foreach((json_t *)in, target, v)
		fn(cv, wl, cname, target, target, v, volumes);
	json_array_foreach(in, i, v) {
		(void)snprintf(tok, sizeof tok, "%zu", i);
		fn(cv, wl, cname, tok, str(v, "target"), v, volumes);
	}
}

static bool key_in(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

static void report_other_keys(struct sconv *cv, struct swl *wl, const char *cname, const json_t *c,
			      const char *const *handled)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)c, key, v) {
		if (key_in(key, handled))
			continue;
		if (strcmp(key, "before") == 0)
			sconv_report(cv, wl, "containers", cname, key, NULL,
				     "is not mapped: the containers of a pod start together here");
		else
			sconv_report(cv, wl, "containers", cname, key, NULL, "is not mapped%s",
				     cname && (strcmp(key, "files") == 0 || strcmp(key, "volumes") == 0)
					     ? ": only the service's own container has files and volumes here"
					     : "");
	}
}

/* The service's own container. */
static void map_main(struct sconv *cv, struct swl *wl, const char *cname, const json_t *c)
{
	static const char *const handled[] = {"image", "command", "args", "variables", "resources", "livenessProbe",
					      "readinessProbe", "files", "volumes", NULL};
	map_image(cv, wl, cname, str(c, "image"));
	if (json_object_get(c, "command"))
		sconv_set(cv, wl->svc, "command", map_words(cv, wl, cname, "command", json_object_get(c, "command")));
	if (json_object_get(c, "args"))
		sconv_set(cv, wl->svc, "args", map_words(cv, wl, cname, "args", json_object_get(c, "args")));
	sconv_set(cv, wl->svc, "env", map_variables(cv, wl, cname, json_object_get(c, "variables")));
	if (json_object_get(c, "resources"))
		sconv_set(cv, wl->svc, "resources", map_resources(cv, wl, cname, json_object_get(c, "resources")));
	sconv_set(cv, wl->svc, "probes", map_probes(cv, wl, cname, c));
	json_t *volumes = json_object();
	map_targets(cv, wl, cname, json_object_get(c, "files"), volumes, map_file);
	map_targets(cv, wl, cname, json_object_get(c, "volumes"), volumes, map_volume);
	if (json_object_size(volumes))
		sconv_set(cv, wl->svc, "volumes", volumes);
	else
		json_decref(volumes);
	report_other_keys(cv, wl, cname, c, handled);
}

static void map_sidecar(struct sconv *cv, struct swl *wl, const char *cname, const json_t *c)
{
	static const char *const handled[] = {"image", "command", "args", "variables", "resources", "livenessProbe",
					      "readinessProbe", NULL};
	json_t *side = json_pack("{s:o}", "image", sidecar_image(cv, wl, cname, str(c, "image")));
	if (json_object_get(c, "command"))
		sconv_set(cv, side, "command", map_words(cv, wl, cname, "command", json_object_get(c, "command")));
	if (json_object_get(c, "args"))
		sconv_set(cv, side, "args", map_words(cv, wl, cname, "args", json_object_get(c, "args")));
	sconv_set(cv, side, "env", map_variables(cv, wl, cname, json_object_get(c, "variables")));
	if (json_object_get(c, "resources"))
		sconv_set(cv, side, "resources", map_resources(cv, wl, cname, json_object_get(c, "resources")));
	json_t *probes = json_object();
	if (json_object_get(c, "readinessProbe"))
		sconv_set(cv, probes, "readiness", map_probe(cv, wl, cname, "readinessProbe", json_object_get(c, "readinessProbe")));
	if (json_object_get(c, "livenessProbe"))
		sconv_set(cv, probes, "liveness", map_probe(cv, wl, cname, "livenessProbe", json_object_get(c, "livenessProbe")));
	sconv_set(cv, side, "probes", probes);
	sconv_set(cv, sconv_child(cv, wl->svc, "sidecars"), cname, side);
	report_other_keys(cv, wl, cname, c, handled);
}

/* The container named like the workload, else the first. */
static const char *main_container(const struct swl *wl)
{
	const json_t *containers = json_object_get(wl->in, "containers");
	if (json_object_get(containers, wl->score_name))
		return wl->score_name;
	void *it = json_object_iter((json_t *)containers);
	return it ? json_object_iter_key(it) : NULL;
}

/* ==== ports, annotations, the workload ==== */

static void map_ports(struct sconv *cv, struct swl *wl)
{
	const json_t *in = json_object_get(json_object_get(wl->in, "service"), "ports");
	const char *pname;
	json_t *p;
	json_t *ports = json_object();
	json_object_foreach((json_t *)in, pname, p) {
		json_t *port = json_object_get(p, "port"), *target = json_object_get(p, "targetPort");
		const char *proto = str(p, "protocol");
		json_int_t n = json_integer_value(port);
		if (!json_is_integer(port) || n < 1 || n > 65535 ||
		    (target && (!json_is_integer(target) || json_integer_value(target) < 1 || json_integer_value(target) > 65535)) ||
		    (proto && strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 && strcmp(proto, "SCTP") != 0)) {
			sconv_report(cv, wl, "service", "ports", pname, NULL,
				     "is not a port (1 to 65535, a targetPort alike, protocol TCP, UDP or SCTP): not mapped");
			continue;
		}
		char name[32];
		if (syntax_port_name(pname) || json_object_get(ports, pname)) {
			(void)snprintf(name, sizeof name, "port-%lld", (long long)n);
			sconv_report(cv, wl, "service", "ports", pname, NULL,
				     "'%s' is not a port name (lowercase letters, digits and '-', a letter, at most 15 characters): named '%s'",
				     pname, name);
		} else {
			(void)snprintf(name, sizeof name, "%s", pname);
		}
		if (json_object_get(ports, name))
			continue;
		json_t *out = json_pack("{s:I}", "port", n);
		if (target && json_integer_value(target) != n)
			sconv_set(cv, out, "targetPort", json_incref(target));
		if (proto && strcmp(proto, "TCP") != 0)
			sconv_set(cv, out, "protocol", json_string(proto));
		sconv_set(cv, ports, name, out);
		sconv_set(cv, wl->ports, pname, json_pack("{s:s, s:I}", "name", name, "port", n));
	}
	if (json_object_size(ports))
		sconv_set(cv, wl->svc, "ports", ports);
	else
		json_decref(ports);
}

static void map_annotations(struct sconv *cv, struct swl *wl)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(wl->in, "metadata"), "annotations"), key, v) {
		if (json_is_string(v) && !syntax_annotation_key(key))
			sconv_set(cv, sconv_child(cv, wl->svc, "podAnnotations"), key, json_incref(v));
		else
			sconv_report(cv, wl, "metadata", "annotations", key, NULL,
				     "is not an annotation (a key and a string): not mapped");
	}
}

static void map_workload(struct sconv *cv, struct swl *wl)
{
	static const char *const top[] = {"apiVersion", "metadata", "containers", "service", "resources", NULL};
	const char *key;
	json_t *v;
	map_ports(cv, wl);
	map_annotations(cv, wl);
	const char *main = main_container(wl);
	json_object_foreach(json_object_get(wl->in, "containers"), key, v) {
		if (strcmp(key, main) == 0)
			map_main(cv, wl, key, v);
		else
			map_sidecar(cv, wl, key, v);
	}
	json_object_foreach((json_t *)wl->in, key, v)
		if (!key_in(key, top))
			sconv_report(cv, wl, key, NULL, NULL, NULL, "is not part of a Score workload: not mapped");
	json_object_foreach(json_object_get(wl->in, "metadata"), key, v)
		if (strcmp(key, "name") != 0 && strcmp(key, "annotations") != 0)
			sconv_report(cv, wl, "metadata", key, NULL, NULL, "is not mapped");
}

/* ==== the stream ==== */

/* Fails with "/DOC/FIELD (FILE): message". */
static int bad(struct buf *err, size_t doc, const char *source, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int bad(struct buf *err, size_t doc, const char *source, const char *field, const char *fmt, ...)
{
	buf_reset(err);
	(void)buf_printf(err, "/%zu%s%s%s%s: ", doc, field, source ? " (" : "", source ? source : "",
			 source ? ")" : "");
	va_list ap;
	va_start(ap, fmt);
	(void)buf_vprintf(err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Checks one document is a workload and names its service; -EINVAL (err) when not. */
static int plan_workload(struct sconv *cv, size_t doc, const json_t *d, const char *source, struct buf *err,
			 struct swl *wl)
{
	const char *api = str(d, "apiVersion");
	if (!json_is_object(d))
		return bad(err, doc, source, "", "is not a Score workload: a mapping with apiVersion %s is expected", SCORE_API);
	if (!api || strcmp(api, SCORE_API) != 0)
		return bad(err, doc, source, "/apiVersion", "must be %s%s%s%s", SCORE_API, api ? ", not '" : "",
			   api ? api : "", api ? "'" : json_object_get(d, "services") ? " (this looks like a docker-compose file)" : "");
	const char *name = str(json_object_get(d, "metadata"), "name");
	if (!name)
		return bad(err, doc, source, "/metadata/name", "is required: the workload's name");
	*wl = (struct swl){.doc = doc, .in = d, .score_name = name, .source = source};
	importkit_service_name(name, wl->name);
	if (!wl->name[0])
		return bad(err, doc, source, "/metadata/name",
			   "'%s' cannot be a service name (a DNS label starting with a letter, at most 63 characters)", name);
	if (json_object_get(cv->services, wl->name))
		return bad(err, doc, source, "/metadata/name", "'%s' is the name of another workload of the stream", name);
	const json_t *containers = json_object_get(d, "containers");
	if (!json_is_object(containers) || json_object_size(containers) == 0)
		return bad(err, doc, source, "/containers", "must be a mapping with at least one container");
	const char *cname;
	json_t *c;
	json_object_foreach((json_t *)containers, cname, c) {
		if (!str(c, "image"))
			return bad(err, doc, source, "/containers", "the container '%s' has no image", cname);
	}
	wl->res = json_object();
	wl->ports = json_object();
	if (!wl->res || !wl->ports) { /* kept (and released) only as a pair */
		json_decref(wl->res);
		json_decref(wl->ports);
		wl->res = wl->ports = NULL;
		return -ENOMEM;
	}
	sconv_set(cv, cv->services, wl->name, json_object());
	wl->svc = json_object_get(cv->services, wl->name);
	return cv->rc;
}

static int plan(struct sconv *cv, const char *text, const json_t *spans, struct buf *err)
{
	size_t i, n = json_array_size(cv->docs);
	json_t *d;
	cv->wls = calloc(n ? n : 1, sizeof *cv->wls);
	if (!cv->wls)
		return -ENOMEM;
	struct buf src;
	buf_init(&src, 4096);
	int r = 0;
	json_array_foreach(cv->docs, i, d) {
		const json_t *span = json_array_get(spans, i);
		buf_reset(&src);
		r = importkit_source_of(text, (size_t)json_integer_value(json_array_get(span, 0)),
					(size_t)json_integer_value(json_array_get(span, 1)), &src);
		if (r == 0 && json_array_append_new(cv->sources, json_string(buf_cstr(&src))) < 0)
			r = -ENOMEM;
		if (r < 0)
			break;
		if (json_is_null(d))
			continue;
		const char *source = src.len ? json_string_value(json_array_get(cv->sources, i)) : NULL;
		r = plan_workload(cv, i, d, source, err, &cv->wls[cv->nwls]);
		if (cv->wls[cv->nwls].res)
			cv->nwls++;
		if (r < 0)
			break;
	}
	buf_release(&src);
	if (r == 0 && cv->nwls == 0)
		r = bad(err, 0, NULL, "", "the stream holds no Score workload");
	return r;
}

static void conv_release(struct sconv *cv)
{
	for (size_t i = 0; cv->wls && i < cv->nwls; i++) {
		json_decref(cv->wls[i].res);
		json_decref(cv->wls[i].ports);
	}
	free(cv->wls);
	json_decref(cv->docs);
	json_decref(cv->sources);
	json_decref(cv->stack);
	json_decref(cv->env);
	json_decref(cv->report);
	json_decref(cv->shared);
	json_decref(cv->registries);
	json_decref(cv->tags);
}

/* Drops the empty top-level members the mapping did not fill. */
static void finish(struct sconv *cv)
{
	(void)sconv_oom(cv, importkit_settle_images(cv->stack, cv->env, cv->services, cv->registries, cv->tags));
	if (json_object_size(cv->components) == 0)
		(void)json_object_del(cv->stack, "components");
	if (json_object_size(cv->rules) == 0)
		(void)json_object_del(cv->stack, "ingress");
}

int import_score(const char *text, size_t len, struct buf *err, struct import_score_result *ret)
{
	static const struct yamlin_opts opts = {IMPORT_SCORE_MAX_BYTES, IMPORT_SCORE_MAX_DEPTH,
						IMPORT_SCORE_MAX_NODES, 0};
	struct sconv cv = {0};
	json_t *spans = NULL;
	int r = yamlin_parse_stream(text, len, &opts, err, &cv.docs, &spans);
	if (r < 0)
		return r;
	cv.stack = json_pack("{s:s, s:{s:{s:b}}, s:{}, s:{}, s:{}, s:{s:b, s:{}}}", "description",
			     "Imported from Score", "serviceDefaults", "securityContext", "readOnlyRootFilesystem", 0,
			     "secrets", "services", "components", "ingress", "enabled", 1, "rules");
	cv.env = json_pack("{s:{}, s:{}}", "image", "secrets");
	cv.report = json_array();
	cv.sources = json_array();
	cv.shared = json_object();
	cv.registries = json_object();
	cv.tags = json_object();
	cv.services = json_object_get(cv.stack, "services");
	cv.components = json_object_get(cv.stack, "components");
	cv.rules = json_object_get(json_object_get(cv.stack, "ingress"), "rules");
	if (!cv.stack || !cv.env || !cv.report || !cv.sources || !cv.shared || !cv.registries || !cv.tags)
		r = -ENOMEM;
	if (r == 0)
		r = plan(&cv, text, spans, err);
	for (size_t i = 0; r == 0 && i < cv.nwls; i++)
		score_map_resources(&cv, &cv.wls[i]);
	for (size_t i = 0; r == 0 && i < cv.nwls; i++)
		map_workload(&cv, &cv.wls[i]);
	for (size_t i = 0; r == 0 && i < cv.nwls; i++)
		score_map_routes(&cv, &cv.wls[i]);
	if (r == 0)
		finish(&cv);
	if (r == 0)
		r = cv.rc;
	json_decref(spans);
	if (r == 0) {
		*ret = (struct import_score_result){cv.stack, cv.env, cv.report};
		cv.stack = cv.env = cv.report = NULL;
	} else if (r == -ENOMEM) {
		buf_reset(err);
		(void)buf_puts(err, "out of memory");
	}
	conv_release(&cv);
	return r;
}

/* model: the stack/environment document: RFC 7386 merge-patch layering over the built-in
 * defaults, normalisation into the resolved document of docs/schema.md, and validation
 * that reports every problem with its JSON Pointer. The document's shape, defaults and
 * value rules come from the schema (include/schema.h); the rules across fields are
 * rules.c's. */
#include "model.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "components.h"
#include "jsoniter.h"
#include "rules.h"
#include "schema.h"
#include "syntax.h"
#include "util.h"

/* ---- error list ---------------------------------------------------------------------- */

void model_errors_init(struct model_errors *e)
{
	e->items = NULL;
	e->count = 0;
	e->cap = 0;
}

void model_errors_release(struct model_errors *e)
{
	for (size_t i = 0; i < e->count; i++) {
		free(e->items[i].pointer);
		free(e->items[i].detail);
	}
	free(e->items);
	model_errors_init(e);
}

static int errors_grow(struct model_errors *e)
{
	if (e->count < e->cap)
		return 0;
	size_t cap = e->cap ? e->cap * 2 : 8;
	struct model_error *items = realloc(e->items, cap * sizeof *items);
	if (!items)
		return -ENOMEM;
	e->items = items;
	e->cap = cap;
	return 0;
}

static int errors_vadd(struct model_errors *e, const char *pointer, const char *fmt, va_list ap)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	char *p = strdup(pointer);
	char *d = NULL;
	int r = p ? buf_vprintf(&detail, fmt, ap) : -ENOMEM;
	if (r == 0)
		d = buf_detach(&detail, NULL);
	if (!d || errors_grow(e) < 0) {
		free(p);
		free(d);
		buf_release(&detail);
		return -ENOMEM;
	}
	e->items[e->count].pointer = p;
	e->items[e->count].detail = d;
	e->count++;
	return 0;
}

int model_errors_add(struct model_errors *e, const char *pointer, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = errors_vadd(e, pointer, fmt, ap);
	va_end(ap);
	return r;
}

json_t *model_errors_json(const struct model_errors *e)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < e->count; i++) {
		json_t *item = json_pack("{s:s,s:s}", "pointer", e->items[i].pointer, "detail",
					 e->items[i].detail);
		if (json_array_append_new(arr, item) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* ---- problems at a pointer ------------------------------------------------------------- */

static int errors_at_v(struct model_errors *e, const char *const *at, const char *const *segs,
		       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static int errors_at_v(struct model_errors *e, const char *const *at, const char *const *segs,
		       const char *fmt, va_list ap)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	int r = buf_puts(&p, "");
	for (size_t i = 0; r == 0 && at && at[i]; i++)
		r = util_pointer_append(&p, at[i]);
	for (size_t i = 0; r == 0 && segs && segs[i]; i++)
		r = util_pointer_append(&p, segs[i]);
	if (r == 0)
		r = errors_vadd(e, buf_cstr(&p), fmt, ap);
	buf_release(&p);
	return r < 0 ? -ENOMEM : 0;
}

int model_errors_at(struct model_errors *e, const char *const *at, const char *const *segs,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = errors_at_v(e, at, segs, fmt, ap);
	va_end(ap);
	return r;
}

size_t model_suggest_limit(const char *word)
{
	return strlen(word) > 6 ? 4 : 3;
}

const char *model_closest_key(const json_t *obj, const char *word)
{
	const char *best = NULL, *key;
	size_t best_d = model_suggest_limit(word);
	json_t *v;
	EACH_MEMBER((json_t *)obj, key, v) {
		(void)v;
		size_t d = util_edit_distance(word, key, best_d);
		if (d < best_d) {
			best = key;
			best_d = d;
		}
	}
	return best;
}

/* ---- merge patch --------------------------------------------------------------------- */

/* Keys set while building documents always come from jansson objects or literals, so they
 * are valid UTF-8 already: the _nocheck setters skip jansson's second check. */
json_t *model_copy(const json_t *v)
{
	if (!json_is_object(v))
		return json_is_array(v) ? json_deep_copy(v) : json_incref((json_t *)v);
	json_t *obj = json_object();
	const char *key;
	json_t *child;
	EACH_MEMBER((json_t *)v, key, child) {
		json_t *c = obj ? model_copy(child) : NULL;
		if (!c || json_object_setn_new_nocheck(obj, key, MEMBER_KEY_LEN(), c) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* How a merge copies, and what it saw. */
struct merge {
	bool share; /* values that replace are taken with model_copy() (scalars shared), else
		     * copied deeply */
	bool lost;  /* set when a member of the target was deleted or an object of the target
		     * was replaced: only then can a merge into a copy of the defaults lack one */
};

static int merge_member(json_t *target, const char *key, const json_t *value, struct merge *m);

/* What patch merges into an absent or non-object target to (RFC 7386): an object loses
 * its null members, at every depth; anything else is taken with model_copy() when share
 * (scalars shared), else copied deeply. Built in one pass, without the lookups of a merge
 * into an empty object, and with the same member order. NULL on allocation failure. */
static json_t *patch_copy(const json_t *patch, bool share)
{
	if (!json_is_object(patch))
		return share ? model_copy(patch) : json_deep_copy(patch);
	json_t *obj = json_object();
	const char *key;
	json_t *value;
	EACH_MEMBER((json_t *)patch, key, value) {
		if (!obj || json_is_null(value))
			continue;
		json_t *c = patch_copy(value, share);
		if (!c || json_object_setn_new_nocheck(obj, key, MEMBER_KEY_LEN(), c) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

/* RFC 7386: patch applied to *target in place (see model_merge_patch), copying as m says. */
static int merge_into(json_t **target, const json_t *patch, struct merge *m)
{
	if (!json_is_object(patch) || !json_is_object(*target)) {
		json_t *copy = patch_copy(patch, m->share);
		if (!copy)
			return -ENOMEM;
		m->lost |= json_is_object(*target);
		json_decref(*target);
		*target = copy;
		return 0;
	}
	const char *key;
	json_t *value;
	EACH_MEMBER((json_t *)patch, key, value) {
		int r = merge_member(*target, key, value, m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One member of a patch applied to the object target. */
static int merge_member(json_t *target, const char *key, const json_t *value, struct merge *m)
{
	if (json_is_null(value)) {
		m->lost |= json_object_del(target, key) == 0;
		return 0;
	}
	json_t *child = json_incref(json_object_get(target, key));
	json_t *before = child;
	int r = merge_into(&child, value, m);
	if (r == 0 && child != before && json_object_set_nocheck(target, key, child) < 0)
		r = -ENOMEM;
	json_decref(child);
	return r;
}

int model_merge_patch(json_t **target, const json_t *patch)
{
	struct merge m = {.share = false};
	return merge_into(target, patch, &m);
}

/* Decodes one RFC 6901 reference token of n bytes into out. -EINVAL for a bad escape. */
static int pointer_token(const char *s, size_t n, struct buf *out)
{
	buf_reset(out);
	int r = buf_puts(out, "");
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (s[i] != '~') {
			r = buf_append(out, s + i, 1);
			continue;
		}
		if (i + 1 == n || (s[i + 1] != '0' && s[i + 1] != '1'))
			return -EINVAL;
		r = buf_puts(out, s[i + 1] == '0' ? "~" : "/");
		i++;
	}
	return r;
}

/* -EINVAL unless pointer is "/tok[/tok...]" with valid escapes and at most MODEL_MAX_DEPTH tokens. */
static int pointer_check(const char *pointer)
{
	if (pointer[0] != '/')
		return -EINVAL;
	size_t depth = 0;
	for (const char *c = pointer; *c; c++) {
		if (*c == '/')
			depth++;
		if (*c == '~' && c[1] != '0' && c[1] != '1')
			return -EINVAL;
	}
	return depth <= MODEL_MAX_DEPTH ? 0 : -EINVAL;
}

static int patch_set_in(json_t *obj, const char *pointer, const json_t *value, struct buf *tok)
{
	const char *s = pointer + 1;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int r = pointer_token(s, n, tok);
	if (r < 0)
		return r;
	if (!slash) {
		json_t *copy = json_deep_copy(value);
		return copy && json_object_set_new(obj, buf_cstr(tok), copy) == 0 ? 0 : -ENOMEM;
	}
	json_t *child = json_object_get(obj, buf_cstr(tok));
	if (!json_is_object(child)) {
		child = json_object();
		if (json_object_set_new(obj, buf_cstr(tok), child) < 0)
			return -ENOMEM;
	}
	return patch_set_in(child, slash, value, tok);
}

int model_patch_set(json_t **patch, const char *pointer, const json_t *value)
{
	if (!pointer || !value || pointer_check(pointer) < 0 || (*patch && !json_is_object(*patch)))
		return -EINVAL;
	json_t *obj = *patch ? *patch : json_object();
	if (!obj)
		return -ENOMEM;
	struct buf tok;
	buf_init(&tok, BUF_NO_MAX);
	int r = patch_set_in(obj, pointer, value, &tok);
	buf_release(&tok);
	if (r < 0 && !*patch)
		json_decref(obj);
	else
		*patch = obj;
	return r;
}

/* Reports (once) a container nested deeper than MODEL_MAX_DEPTH. 1 when too deep, 0, -ENOMEM. */
static int check_depth(const json_t *v, struct buf *ptr, int depth, struct model_errors *errs)
{
	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > MODEL_MAX_DEPTH) {
		int r = model_errors_add(errs, buf_cstr(ptr), "nests deeper than %d levels",
					 MODEL_MAX_DEPTH);
		return r < 0 ? r : 1;
	}
	size_t len = ptr->len;
	int r = 0;
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		EACH_MEMBER((json_t *)v, key, child) {
			r = util_pointer_append(ptr, key);
			if (r == 0)
				r = check_depth(child, ptr, depth + 1, errs);
			buf_truncate(ptr, len);
			if (r != 0)
				break;
		}
	} else {
		for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
			r = buf_printf(ptr, "/%zu", i);
			if (r == 0)
				r = check_depth(json_array_get(v, i), ptr, depth + 1, errs);
			buf_truncate(ptr, len);
		}
	}
	return r < 0 ? -ENOMEM : r;
}

static bool is_container(const json_t *v)
{
	return json_is_object(v) || json_is_array(v);
}

/* true when the container v (at depth) holds containers nested deeper than MODEL_MAX_DEPTH.
 * Only containers are visited, and no pointers are built: check_depth() finds where, in the
 * rare case it is needed. */
static bool too_deep(const json_t *v, int depth)
{
	if (depth > MODEL_MAX_DEPTH)
		return true;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *child = json_array_get(v, i);
			if (is_container(child) && too_deep(child, depth + 1))
				return true;
		}
		return false;
	}
	for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
		const json_t *child = json_object_iter_value(it);
		if (is_container(child) && too_deep(child, depth + 1))
			return true;
	}
	return false;
}

/* A layer must be an object (env and overrides may be absent or null) within the depth limit. */
static int check_layer(const json_t *layer, const char *what, bool required, struct model_errors *errs)
{
	if (!required && (!layer || json_is_null(layer)))
		return 0;
	if (!json_is_object(layer))
		return model_errors_add(errs, "", "the %s must be a JSON object", what);
	if (!too_deep(layer, 1))
		return 0;
	struct buf ptr;
	buf_init(&ptr, BUF_NO_MAX);
	int r = check_depth(layer, &ptr, 1, errs);
	buf_release(&ptr);
	return r < 0 ? r : 0;
}

/* ---- the built-in defaults (from the schema) --------------------------------------------- */

/* The first layer of every resolve: the document's defaults with the service defaults as
 * serviceDefaults. NULL when the schema cannot be loaded or on allocation failure. */
static json_t *builtin_document(void)
{
	const struct schema_node *docn = schema_document();
	const struct schema_node *sdn = schema_prop(docn, "serviceDefaults");
	json_t *doc = docn && sdn ? model_copy(docn->defaults) : NULL;
	if (doc && json_object_set_new_nocheck(doc, "serviceDefaults", model_copy(sdn->defaults)) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* ---- normalisation ------------------------------------------------------------------- */

/* true when obj is an object and obj[key] is absent or "": a name default applies. */
static bool needs_default(const json_t *obj, const char *key)
{
	const json_t *cur = json_object_get(obj, key);
	return json_is_object(obj) && (!cur || (json_is_string(cur) && json_string_length(cur) == 0));
}

/* Sets obj[key] to the text of fmt when needs_default(obj, key); the text is only
 * formatted then. 0 or -ENOMEM. */
static int default_text(json_t *obj, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int default_text(json_t *obj, const char *key, const char *fmt, ...)
{
	if (!needs_default(obj, key))
		return 0;
	struct buf text;
	va_list ap;
	buf_init(&text, BUF_NO_MAX);
	va_start(ap, fmt);
	int r = buf_vprintf(&text, fmt, ap);
	va_end(ap);
	if (r == 0 && json_object_set_new_nocheck(obj, key, json_string(buf_cstr(&text))) < 0)
		r = -ENOMEM;
	buf_release(&text);
	return r < 0 ? -ENOMEM : 0;
}

/* Integer and boolean values of a config or secrets object become their text. */
static int stringify_values(json_t *obj)
{
	const char *key;
	json_t *v;
	EACH_MEMBER(obj, key, v) {
		if (!json_is_integer(v) && !json_is_boolean(v))
			continue;
		struct buf text;
		buf_init(&text, 64);
		int r = json_is_integer(v) ? buf_printf(&text, "%" JSON_INTEGER_FORMAT, json_integer_value(v))
					   : buf_puts(&text, json_is_true(v) ? "true" : "false");
		if (r == 0 && json_object_set_new_nocheck(obj, key, json_string(buf_cstr(&text))) < 0)
			r = -ENOMEM;
		buf_release(&text);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A new object with the members of sd, shared (the values themselves, not copies). NULL
 * on allocation failure. */
static json_t *share_members(const json_t *sd)
{
	json_t *obj = json_object();
	const char *key;
	json_t *v;
	EACH_MEMBER((json_t *)sd, key, v) {
		if (obj && json_object_setn_nocheck(obj, key, MEMBER_KEY_LEN(), v) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

/* patch (an object) merged into the service svc, whose members may still be the very
 * values of sd (share_members): an object a patch merges into is copied first, so sd and
 * the services sharing it stay as they were. */
static int merge_service(json_t *svc, const json_t *sd, const json_t *patch, struct merge *m)
{
	const char *key;
	json_t *value;
	EACH_MEMBER((json_t *)patch, key, value) {
		size_t len = MEMBER_KEY_LEN();
		json_t *cur = json_object_getn(svc, key, len);
		if (json_is_object(value) && json_is_object(cur) && cur == json_object_getn(sd, key, len) &&
		    json_object_setn_new_nocheck(svc, key, len, model_copy(cur)) < 0)
			return -ENOMEM;
		int r = merge_member(svc, key, value, m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A copy of parent[key] (an object, possibly shared with other services) put in its place,
 * so that it can be changed; NULL on allocation failure. */
static json_t *own_member(json_t *parent, const char *key)
{
	json_t *copy = model_copy(json_object_get(parent, key));
	if (!copy || json_object_set_new_nocheck(parent, key, copy) < 0)
		return NULL;
	return copy;
}

/* A service entry of one layer with its shorthand `port: N` written as ports.http.port =
 * N (unless the entry gives ports.http.port itself), so that layers merge the one field:
 * a later layer's port or ports.http wins, and `port: null` deletes ports.http. A port that is not an
 * integer in the schema's range stays, for validation to report where it was written.
 * A new reference to entry itself when there is nothing to rewrite; NULL when out of memory. */
static json_t *port_shorthand(const json_t *entry)
{
	const struct schema_node *pn = schema_prop(schema_prop(schema_document(), "serviceDefaults"), "port");
	const json_t *port = json_object_get(entry, "port");
	json_int_t n = json_integer_value(port);
	const json_t *ports = json_object_get(entry, "ports");
	bool in_range = json_is_integer(port) && pn && n >= pn->min && n <= pn->max;
	if (!(in_range || json_is_null(port)) || (ports && !json_is_object(ports)))
		return json_incref((json_t *)entry);
	json_t *out = model_copy(entry);
	json_t *own = json_is_object(ports) ? model_copy(ports) : json_object();
	json_t *http = json_object_get(own, "http");
	int r = out && own && json_object_del(out, "port") == 0 ? 0 : -ENOMEM;
	if (r == 0 && json_is_null(port) && !http) {
		r = json_object_set_new_nocheck(own, "http", json_null());
	} else if (r == 0 && !json_is_null(port) && !json_object_get(http, "port")) {
		json_t *h = json_is_object(http) ? model_copy(http) : json_object();
		r = h && json_object_set_nocheck(h, "port", (json_t *)port) == 0 ? 0 : -ENOMEM;
		if (json_object_set_new_nocheck(own, "http", h) < 0)
			r = -ENOMEM;
	}
	if (r == 0)
		r = json_object_set_nocheck(out, "ports", own);
	json_decref(own);
	if (r < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* serviceDefaults <- each layer's entry for one service, in layer order. A layer whose
 * entry is not an object (null deletes) starts the service again from serviceDefaults.
 * What no layer changes stays serviceDefaults' own value, shared by every such service. */
static int layered_service(const json_t *sd, const json_t *const *services, size_t n, const char *name,
			   json_t **ret_svc)
{
	struct merge m = {.share = true};
	json_t *svc = share_members(sd);
	int r = svc ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const json_t *v = json_is_object(services[i]) ? json_object_get(services[i], name) : services[i];
		if (!v)
			continue;
		if (json_is_object(v)) {
			json_t *entry = port_shorthand(v);
			r = entry ? merge_service(svc, sd, entry, &m) : -ENOMEM;
			json_decref(entry);
		} else {
			json_decref(svc);
			svc = share_members(sd);
			r = svc ? 0 : -ENOMEM;
		}
	}
	if (r == 0)
		*ret_svc = svc;
	else
		json_decref(svc);
	return r;
}

/* Each service layered (layered_service) from serviceDefaults. */
static int resolve_services(json_t *doc, const json_t *const *layers, struct model_errors *errs)
{
	json_t *services = json_object_get(doc, "services");
	json_t *sd = json_object_get(doc, "serviceDefaults");
	if (!json_is_object(sd)) {
		/* report it, then carry on from the built-in defaults to check the services */
		const struct schema_node *sdn = schema_prop(schema_document(), "serviceDefaults");
		sd = model_copy(sdn->defaults);
		if (model_errors_at(errs, NULL, MODEL_PTR("serviceDefaults"), "must be an object") < 0 ||
		    json_object_set_new_nocheck(doc, "serviceDefaults", sd) < 0)
			return -ENOMEM;
	}
	if (!json_is_object(services))
		return 0;
	const json_t *entries[4]; /* each layer's /services */
	size_t n = 0;
	for (; layers[n]; n++)
		entries[n] = json_object_get(layers[n], "services");
	const char *name;
	json_t *svc;
	EACH_MEMBER(services, name, svc) {
		json_t *merged = NULL;
		if (!json_is_object(svc))
			continue;
		if (layered_service(sd, entries, n, name, &merged) < 0 ||
		    json_object_set_new_nocheck(services, name, merged) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- normalising services ------------------------------------------------------------- */

static const char *const probe_names[] = {"readiness", "liveness", "startup"};
static const char *const probe_kinds[] = {"httpGet", "tcpSocket", "exec", "grpc"};

static bool has_string(const json_t *obj, const char *key, const char *value)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && strcmp(s, value) == 0;
}

/* The first port of ports (any protocol, or TCP only when tcp), its name and number; NULL
 * when there is none. */
static const char *first_port(const json_t *ports, bool tcp, json_int_t *ret_number)
{
	const char *name;
	json_t *p;
	EACH_MEMBER((json_t *)ports, name, p) {
		if (!json_is_object(p) || (tcp && !has_string(p, "protocol", "TCP")) || syntax_port_name(name))
			continue;
		if (ret_number)
			*ret_number = json_integer_value(json_object_get(p, "targetPort"));
		return name;
	}
	return NULL;
}

/* The kind of a probe: the first of probe_kinds it has, or NULL. */
static const char *probe_kind(const json_t *probe)
{
	for (size_t i = 0; i < sizeof probe_kinds / sizeof *probe_kinds; i++)
		if (json_is_object(json_object_get(probe, probe_kinds[i])))
			return probe_kinds[i];
	return NULL;
}

/* Whether a probe lacks what ports give it: a kind, or the port of its kind. */
static bool probe_incomplete(const json_t *probe)
{
	if (!json_is_object(probe))
		return false;
	const char *kind = probe_kind(probe);
	return !kind || (strcmp(kind, "exec") != 0 && !json_object_get(json_object_get(probe, kind), "port"));
}

/* The probe completed from ports (probe is an unshared copy): no kind -> a TCP check of the
 * first TCP port (none: the probe becomes null); httpGet/tcpSocket without a port -> the
 * first (TCP) port's name; grpc without a port -> the first port's number. A port that
 * cannot be defaulted stays absent, for the rules to report. */
static int complete_probe(json_t *probes, const char *which, json_t *probe, const json_t *ports)
{
	const char *kind = probe_kind(probe);
	json_int_t number = 0;
	const char *name = first_port(ports, !kind || strcmp(kind, "httpGet") != 0, &number);
	json_t *k = kind ? json_object_get(probe, kind) : NULL;
	if (!kind && !name)
		return json_object_set_new_nocheck(probes, which, json_null()) ? -ENOMEM : 0;
	if (!kind) {
		k = json_object();
		if (json_object_set_new_nocheck(probe, "tcpSocket", k) < 0)
			return -ENOMEM;
		kind = "tcpSocket";
	}
	if (!name || json_object_get(k, "port") || strcmp(kind, "exec") == 0)
		return 0;
	json_t *port = strcmp(kind, "grpc") == 0 ? json_integer(number) : json_string(name);
	return json_object_set_new_nocheck(k, "port", port) ? -ENOMEM : 0;
}

/* container's probes completed from ports (see complete_probe), copied first when one
 * needs it; all null for a one-shot kind (Jobs have no probes here). */
static int complete_probes(json_t *container, const json_t *ports, bool one_shot)
{
	json_t *probes = json_object_get(container, "probes");
	bool change = false;
	for (size_t i = 0; i < 3; i++) {
		const json_t *p = json_object_get(probes, probe_names[i]);
		change |= one_shot ? json_is_object(p) : probe_incomplete(p);
	}
	if (!json_is_object(probes) || !change)
		return 0;
	if (!(probes = own_member(container, "probes")))
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++) {
		json_t *p = json_object_get(probes, probe_names[i]);
		int r = one_shot ? json_object_set_new_nocheck(probes, probe_names[i], json_null())
				 : probe_incomplete(p) ? complete_probe(probes, probe_names[i], p, ports) : 0;
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Each sidecar's probes from its own ports. */
static int complete_sidecars(json_t *svc)
{
	json_t *sidecars = json_object_get(svc, "sidecars");
	const char *name;
	json_t *c;
	bool change = false;
	EACH_MEMBER(sidecars, name, c) {
		const json_t *probes = json_object_get(c, "probes");
		for (size_t i = 0; i < 3; i++)
			change |= probe_incomplete(json_object_get(probes, probe_names[i]));
	}
	if (!change)
		return 0;
	if (!(sidecars = own_member(svc, "sidecars")))
		return -ENOMEM;
	EACH_MEMBER(sidecars, name, c) {
		if (json_is_object(c) && complete_probes(c, json_object_get(c, "ports"), false) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Files without a mode get 0644, or 0400 when their content is a secret. */
static int complete_file_modes(json_t *svc)
{
	json_t *volumes = json_object_get(svc, "volumes");
	bool change = false;
	const char *name, *path;
	json_t *vol, *file;
	EACH_MEMBER(volumes, name, vol) {
		EACH_MEMBER(json_object_get(vol, "files"), path, file) {
			change |= json_is_object(file) && !json_object_get(file, "mode");
		}
	}
	if (!change)
		return 0;
	if (!(volumes = own_member(svc, "volumes")))
		return -ENOMEM;
	EACH_MEMBER(volumes, name, vol) {
		EACH_MEMBER(json_object_get(vol, "files"), path, file) {
			if (!json_is_object(file) || json_object_get(file, "mode"))
				continue;
			const char *mode = json_object_get(file, "secret") ? "0400" : "0644";
			if (json_object_set_new_nocheck(file, "mode", json_string(mode)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static bool has_persistent_volume(const json_t *svc)
{
	const char *name;
	json_t *vol;
	EACH_MEMBER(json_object_get(svc, "volumes"), name, vol) {
		if (json_object_get(vol, "persistent"))
			return true;
	}
	return false;
}

/* A serviceAccount name "" -> the service name. The object may be serviceDefaults' own,
 * shared with other services: what names this service goes into a copy. */
static int complete_names(json_t *svc, const char *name)
{
	if (!util_is_dns_label(name) || !needs_default(json_object_get(svc, "serviceAccount"), "name"))
		return 0;
	json_t *account = own_member(svc, "serviceAccount");
	return account ? default_text(account, "name", "%s", name) : -ENOMEM;
}

/* A service's image tag "" means the top-level one, as an absent tag does. */
static int empty_tag_inherits(json_t *svc)
{
	const json_t *tag = json_object_get(json_object_get(svc, "image"), "tag");
	if (!json_is_string(tag) || json_string_length(tag))
		return 0;
	json_t *image = own_member(svc, "image");
	return image && json_object_del(image, "tag") == 0 ? 0 : -ENOMEM;
}

/* What schema defaults cannot say: the kind, probes from the ports, file modes, names. */
static int complete_service(json_t *svc, const char *name)
{
	if (!json_is_object(svc))
		return 0;
	json_t *kind = json_object_get(svc, "kind");
	int r = empty_tag_inherits(svc);
	if (r == 0 && json_is_string(kind) && json_string_length(kind) == 0)
		r = json_object_set_new_nocheck(svc, "kind", json_string(has_persistent_volume(svc) ? "StatefulSet"
												  : "Deployment"));
	bool one_shot = has_string(svc, "kind", "Job") || has_string(svc, "kind", "CronJob");
	if (r == 0)
		r = complete_probes(svc, json_object_get(svc, "ports"), one_shot);
	if (r == 0)
		r = complete_sidecars(svc);
	if (r == 0)
		r = complete_file_modes(svc);
	if (r == 0)
		r = complete_names(svc, name);
	return r < 0 ? -ENOMEM : 0;
}

/* Each ingress rule: TLS secret <stack>-tls by default (in a copy of tls, which may be the
 * schema's shared default), the port the backend's first. */
static int complete_rules(json_t *doc, const char *stack_name)
{
	const json_t *services = json_object_get(doc, "services");
	const char *id;
	json_t *rule;
	EACH_MEMBER(json_object_get(json_object_get(doc, "ingress"), "rules"), id, rule) {
		const char *backend = json_string_value(json_object_get(rule, "service"));
		const json_t *svc = backend ? json_object_get(services, backend) : NULL;
		const char *port = first_port(json_object_get(svc, "ports"), false, NULL);
		json_t *tls = json_object_get(rule, "tls");
		int r = 0;
		if (needs_default(tls, "secretName"))
			r = (tls = own_member(rule, "tls")) ? default_text(tls, "secretName", "%s-tls", stack_name) : -ENOMEM;
		if (r == 0 && json_is_object(rule) && port && !json_object_get(rule, "port"))
			r = json_object_set_new_nocheck(rule, "port", json_string(port)) ? -ENOMEM : 0;
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Every default: the schema's, then those that depend on names (namespace, secret source,
 * TLS secrets) or on other fields (a service's kind and probes), config and secret values
 * as text. */
static int complete_document(json_t *doc, const char *stack_name, const char *env_name)
{
	json_t *source = json_object_get(doc, "secretSource");
	int r = schema_complete_shared(schema_document(), doc);
	if (r == 0)
		r = env_name ? default_text(doc, "namespace", "%s-%s", stack_name, env_name)
			     : default_text(doc, "namespace", "%s", stack_name);
	if (r == 0)
		r = default_text(source, "name", "%s-secrets", stack_name);
	if (r == 0)
		r = env_name ? default_text(source, "remoteKey", "%s/%s", stack_name, env_name)
			     : default_text(source, "remoteKey", "%s", stack_name);
	if (r == 0)
		r = stringify_values(json_object_get(doc, "config"));
	if (r == 0)
		r = stringify_values(json_object_get(doc, "secrets"));
	const char *name;
	json_t *svc;
	EACH_MEMBER(json_object_get(doc, "services"), name, svc) {
		if (r == 0)
			r = complete_service(svc, name);
	}
	if (r == 0)
		r = complete_rules(doc, stack_name);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- the API ------------------------------------------------------------------------- */

bool model_secrets_inline(const json_t *doc)
{
	const char *type = json_string_value(json_object_get(json_object_get(doc, "secretSource"), "type"));
	return !type || strcmp(type, "inline") == 0;
}

bool model_renders_secret_values(const json_t *doc)
{
	const char *key;
	json_t *v;
	if (!model_secrets_inline(doc))
		return false;
	json_object_foreach(json_object_get(doc, "secrets"), key, v)
		if (!json_is_string(v) || json_string_length(v) > 0)
			return true;
	return false;
}

/* The /services member of a layer merged into doc for its names only: an object entry
 * becomes an empty placeholder object (resolve_services builds each service once, from
 * serviceDefaults and every layer's entry); null deletes; anything else is merged as is.
 * The names end up in the same order as a full merge would leave them. */
static int merge_service_names(json_t *doc, const json_t *patch)
{
	json_t *services = json_object_get(doc, "services");
	if (!json_is_object(services)) {
		services = json_object();
		if (json_object_set_new_nocheck(doc, "services", services) < 0)
			return -ENOMEM;
	}
	struct merge names = {.share = true};
	const char *name;
	json_t *v;
	EACH_MEMBER((json_t *)patch, name, v) {
		int r = 0;
		if (!json_is_object(v))
			r = merge_member(services, name, v, &names);
		else if (!json_is_object(json_object_get(services, name)))
			r = json_object_set_new_nocheck(services, name, json_object()) ? -ENOMEM : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* One layer (an object) merged into doc; its services only by name (merge_service_names). */
static int merge_layer(json_t *doc, const json_t *layer, struct merge *m)
{
	const char *key;
	json_t *value;
	EACH_MEMBER((json_t *)layer, key, value) {
		int r;
		if (strcmp(key, "services") == 0 && json_is_object(value)) {
			r = merge_service_names(doc, value);
		} else if (strcmp(key, "serviceDefaults") == 0 && json_is_object(value)) {
			json_t *entry = port_shorthand(value);
			r = entry ? merge_member(doc, key, entry, m) : -ENOMEM;
			json_decref(entry);
		} else {
			r = merge_member(doc, key, value, m);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- fields of earlier shapes ---------------------------------------------------------- */

/* Members an earlier shape of the document had, and what to write instead: a document
 * still using one is told so, rather than "not a known field". */
static const struct retired {
	bool service; /* a member of a service (or serviceDefaults), else of the document */
	const char *name;
	const char *instead;
} retired[] = {
	{false, "mysql", "is no field any more: MySQL is a component now; write /components/mysql "
			 "{\"type\": \"mysql\", \"rootPasswordSecret\": ..., \"passwordSecret\": ..., \"storage\": ...} and "
			 "uses: {\"mysql\": {\"database\": ...}} in the services that use it (docs/components.md)"},
	{false, "rabbitmq", "is no field any more: RabbitMQ is a component now; write /components/rabbitmq "
			    "{\"type\": \"rabbitmq\", \"user\": ..., \"passwordSecret\": ...} and uses: {\"rabbitmq\": {}} "
			    "in the services that use it (docs/components.md)"},
	{false, "zipkin", "is no field any more: Zipkin is a component now; write /components/zipkin "
			  "{\"type\": \"zipkin\"} (docs/components.md)"},
	{true, "database", "is no field any more: a service says what it uses; write uses: {\"mysql\": "
			   "{\"database\": ..., \"user\": ...}} with the component /components/mysql (docs/components.md)"},
	{true, "broker", "is no field any more: a service says what it uses; write uses: {\"rabbitmq\": {}} with "
			 "the component /components/rabbitmq (docs/components.md)"},
};

#define NRETIRED (sizeof retired / sizeof *retired)

/* true when errs, from index from on, holds a problem at pointer p already. */
static bool reported(const struct model_errors *errs, size_t from, const char *p)
{
	for (size_t i = from; i < errs->count; i++)
		if (strcmp(errs->items[i].pointer, p) == 0)
			return true;
	return false;
}

/* The retired members of obj (at/<member>), reported once each since from. */
static int retired_in(const json_t *obj, bool service, const char *const *at, struct model_errors *errs,
		      size_t from)
{
	for (size_t i = 0; i < NRETIRED; i++) {
		if (retired[i].service != service || !json_object_get(obj, retired[i].name))
			continue;
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		int r = buf_puts(&p, "");
		for (size_t k = 0; r == 0 && at && at[k]; k++)
			r = util_pointer_append(&p, at[k]);
		if (r == 0)
			r = util_pointer_append(&p, retired[i].name);
		if (r == 0 && !reported(errs, from, buf_cstr(&p)))
			r = model_errors_add(errs, buf_cstr(&p), "%s", retired[i].instead);
		buf_release(&p);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Every retired member of a layer, reported (once, whatever layers repeat it). */
static int retired_check(const json_t *layer, struct model_errors *errs, size_t from)
{
	int r = retired_in(layer, false, NULL, errs, from);
	if (r == 0)
		r = retired_in(json_object_get(layer, "serviceDefaults"), true, MODEL_PTR("serviceDefaults"), errs, from);
	const char *name;
	json_t *svc;
	EACH_MEMBER(json_object_get(layer, "services"), name, svc) {
		if (r == 0)
			r = retired_in(svc, true, MODEL_PTR("services", name), errs, from);
	}
	return r;
}

/* The retired members of doc (and of its serviceDefaults and services) removed, in place. */
static void retired_strip(json_t *doc)
{
	const char *name;
	json_t *svc;
	for (size_t i = 0; i < NRETIRED; i++) {
		if (!retired[i].service) {
			(void)json_object_del(doc, retired[i].name);
			continue;
		}
		(void)json_object_del(json_object_get(doc, "serviceDefaults"), retired[i].name);
		EACH_MEMBER(json_object_get(doc, "services"), name, svc)
			(void)json_object_del(svc, retired[i].name);
	}
}

/* builtins <- each layer, then services layered one by one (see layered_service), then
 * the components expanded into services. */
static int layer_document(const struct catalog *cat, const json_t *const *layers, struct model_errors *errs,
			  json_t **ret_doc)
{
	struct merge m = {.share = true};
	json_t *doc = builtin_document();
	int r = doc ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && layers[i]; i++)
		r = merge_layer(doc, layers[i], &m);
	if (r == 0)
		r = resolve_services(doc, layers, errs);
	if (r == 0) {
		(void)json_object_del(doc, "serviceDefaults");
		retired_strip(doc);
		r = components_expand(doc, cat, errs);
	}
	if (r == 0)
		*ret_doc = doc;
	else
		json_decref(doc);
	return r;
}

int model_resolve(const char *stack_name, const json_t *stack, const char *env_name,
		  const json_t *env, const json_t *overrides, struct model_errors *errs,
		  json_t **ret_doc)
{
	return model_resolve_in(catalog_builtin(), stack_name, stack, env_name, env, overrides, errs, ret_doc);
}

int model_resolve_in(const struct catalog *cat, const char *stack_name, const json_t *stack,
		     const char *env_name, const json_t *env, const json_t *overrides,
		     struct model_errors *errs, json_t **ret_doc)
{
	assert(stack_name);
	const json_t *layers[4] = {stack, NULL, NULL, NULL};
	size_t n = 1, before = errs->count;
	json_t *doc = NULL;
	int r = check_layer(stack, "stack", true, errs);
	if (r == 0)
		r = check_layer(env, "environment", false, errs);
	if (r == 0)
		r = check_layer(overrides, "overrides", false, errs);
	if (r < 0 || errs->count > before)
		return r < 0 ? -ENOMEM : MODEL_EINVALID;
	if (json_is_object(env))
		layers[n++] = env;
	if (json_is_object(overrides))
		layers[n++] = overrides;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = retired_check(layers[i], errs, before);
	if (r == 0)
		r = layer_document(cat, layers, errs, &doc);
	if (r == 0)
		r = complete_document(doc, stack_name, env_name);
	if (r == 0)
		r = schema_validate(schema_document(), doc, true, NULL, errs);
	if (r == 0)
		r = rules_check(doc, errs);
	if (r == 0)
		r = components_point(cat, doc, errs, before);
	if (r == 0 && errs->count > before)
		r = MODEL_EINVALID;
	if (r == 0)
		r = schema_inherit(schema_document(), doc, doc);
	if (r == 0)
		*ret_doc = json_incref(doc);
	json_decref(doc);
	return r < 0 && r != MODEL_EINVALID ? -ENOMEM : r;
}

int model_check_change(const struct catalog *cat, const char *stack_name, const json_t *old_stack,
		       const char *env_name, const json_t *old_env, const json_t *new, struct model_errors *errs)
{
	if (!cat)
		cat = catalog_builtin();
	if (!old_stack || !old_env)
		return 0;
	struct model_errors ignored;
	model_errors_init(&ignored);
	json_t *old = NULL;
	size_t before = errs->count;
	int r = model_resolve_in(cat, stack_name, old_stack, env_name, old_env, NULL, &ignored, &old);
	model_errors_release(&ignored);
	if (r == 0)
		r = rules_check_change(old, new, errs);
	if (r == 0)
		r = components_point(cat, new, errs, before);
	json_decref(old);
	return r == MODEL_EINVALID ? 0 : r < 0 ? -ENOMEM : errs->count > before ? MODEL_EINVALID : 0;
}

int model_warnings(const json_t *doc, struct model_errors *warnings)
{
	return rules_warnings(doc, warnings);
}

int model_check_shape(const json_t *doc, struct model_errors *errs)
{
	size_t before = errs->count;
	int r = check_layer(doc, "document", true, errs);
	if (r == 0 && errs->count == before)
		r = retired_check(doc, errs, before);
	json_t *stripped = NULL;
	if (r == 0 && errs->count > before && (stripped = model_copy(doc)))
		retired_strip(stripped);
	if (r == 0 && errs->count > before && !stripped)
		r = -ENOMEM;
	if (r == 0 && (errs->count == before || stripped))
		r = schema_validate(schema_document(), stripped ? stripped : doc, false, NULL, errs);
	json_decref(stripped);
	if (r < 0)
		return -ENOMEM;
	return errs->count > before ? MODEL_EINVALID : 0;
}

json_t *model_mask_secrets(const json_t *doc)
{
	json_t *copy = doc ? model_copy(doc) : NULL;
	json_t *secrets = json_object_get(copy, "secrets");
	const char *key;
	json_t *v;
	EACH_MEMBER(secrets, key, v) {
		bool set = !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0);
		if (json_object_set_new(secrets, key, json_pack("{s:b}", "set", set)) < 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

json_t *model_mask_secret_values(const json_t *doc)
{
	json_t *copy = doc ? model_copy(doc) : NULL;
	json_t *secrets = json_object_get(copy, "secrets");
	const char *key;
	json_t *v;
	EACH_MEMBER(secrets, key, v) {
		bool unset = (json_is_string(v) && json_string_length(v) == 0) ||
			     (json_is_object(v) && json_is_false(json_object_get(v, "set")));
		if (json_is_null(v))
			continue;
		if (json_object_set_new(secrets, key, json_string(unset ? "" : MODEL_SECRET_MASK)) < 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

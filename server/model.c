/* model: the stack/environment document: built-in defaults, RFC 7386 merge-patch layering,
 * normalisation into the resolved document of docs/schema.md, and validation that reports
 * every problem with its JSON Pointer. The schema is one static table walked generically. */
#include "model.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "syntax.h"
#include "util.h"

/* Like json_object_foreach, but steps with the iterator instead of looking every key up
 * again (jansson's macro hashes each key once more per step). Setting an existing key
 * during the loop is fine; adding or deleting keys of obj is not. */
#define EACH_MEMBER(obj, key, value)                                                          \
	for (void *it_ = json_object_iter((json_t *)(obj));                                   \
	     it_ && ((key) = json_object_iter_key(it_), (value) = json_object_iter_value(it_), 1); \
	     it_ = json_object_iter_next((json_t *)(obj), it_))

/* The length of the key EACH_MEMBER is at (jansson keeps it: no strlen). */
#define MEMBER_KEY_LEN() json_object_iter_key_len(it_)

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

/* ---- JSON Pointer building ----------------------------------------------------------- */

/* Appends "/" and key escaped per RFC 6901 (~ -> ~0, / -> ~1). */
static int ptr_push(struct buf *p, const char *key)
{
	int r = buf_puts(p, "/");
	for (const char *c = key; r == 0 && *c;) {
		size_t plain = strcspn(c, "~/");
		r = buf_append(p, c, plain);
		c += plain;
		if (r == 0 && *c)
			r = buf_puts(p, *c == '~' ? "~0" : "~1");
		if (*c)
			c++;
	}
	return r;
}

static void ptr_truncate(struct buf *p, size_t len)
{
	p->len = len;
	if (p->data)
		p->data[len] = '\0';
}

/* Adds an error whose pointer is made of the NULL-terminated segments at (NULL for none)
 * followed by the NULL-terminated segments segs: the pointer is only built here, when there
 * is something to report. */
static int errp_v(struct model_errors *e, const char *const *at, const char *const *segs,
		  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static int errp_v(struct model_errors *e, const char *const *at, const char *const *segs,
		  const char *fmt, va_list ap)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	int r = buf_puts(&p, "");
	for (size_t i = 0; r == 0 && at && at[i]; i++)
		r = ptr_push(&p, at[i]);
	for (size_t i = 0; r == 0 && segs[i]; i++)
		r = ptr_push(&p, segs[i]);
	if (r == 0)
		r = errors_vadd(e, buf_cstr(&p), fmt, ap);
	buf_release(&p);
	return r < 0 ? -ENOMEM : 0;
}

/* Adds an error whose pointer is made of the NULL-terminated segments. */
static int errf(struct model_errors *e, const char *const *segs, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int errf(struct model_errors *e, const char *const *segs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = errp_v(e, NULL, segs, fmt, ap);
	va_end(ap);
	return r;
}

#define PTR(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Length of s clipped to at most 60 bytes on a UTF-8 boundary, for quoting user text. */
static int clip(const char *s)
{
	size_t n = strlen(s);
	if (n <= 60)
		return (int)n;
	n = 60;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

#define CLIP(s) clip(s), (s), (strlen(s) > 60 ? "..." : "")

/* ---- merge patch --------------------------------------------------------------------- */

/* A copy of v for a document being built: objects are copied member by member, arrays
 * deeply, and scalars are shared (no one here changes a jansson scalar in place; values
 * are replaced). NULL on allocation failure.
 * Keys set while building documents always come from jansson objects or literals, so they
 * are valid UTF-8 already: the _nocheck setters skip jansson's second check. */
static json_t *copy_value(const json_t *v)
{
	if (!json_is_object(v))
		return json_is_array(v) ? json_deep_copy(v) : json_incref((json_t *)v);
	json_t *obj = json_object();
	const char *key;
	json_t *child;
	EACH_MEMBER((json_t *)v, key, child) {
		json_t *c = obj ? copy_value(child) : NULL;
		if (!c || json_object_setn_new_nocheck(obj, key, MEMBER_KEY_LEN(), c) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* How a merge copies, and what it saw. */
struct merge {
	bool share; /* values that replace are taken with copy_value() (scalars shared), else
		     * copied deeply */
	bool lost;  /* set when a member of the target was deleted or an object of the target
		     * was replaced: only then can a merge into a copy of the defaults lack one */
};

static int merge_member(json_t *target, const char *key, const json_t *value, struct merge *m);

/* What patch merges into an absent or non-object target to (RFC 7386): an object loses
 * its null members, at every depth; anything else is taken with copy_value() when share
 * (scalars shared), else copied deeply. Built in one pass, without the lookups of a merge
 * into an empty object, and with the same member order. NULL on allocation failure. */
static json_t *patch_copy(const json_t *patch, bool share)
{
	if (!json_is_object(patch))
		return share ? copy_value(patch) : json_deep_copy(patch);
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

/* ---- value checkers: NULL when s is fine, else the rule it breaks (the syntaxes of names
 * and values are include/syntax.h; here the schema's own vocabularies) ---- */

typedef const char *(*check_fn)(const char *s);

static const char *check_pull_policy(const char *s)
{
	if (strcmp(s, "IfNotPresent") && strcmp(s, "Always") && strcmp(s, "Never"))
		return "must be one of \"IfNotPresent\", \"Always\", \"Never\"";
	return NULL;
}

static const char *check_secret_source_type(const char *s)
{
	if (strcmp(s, "inline") && strcmp(s, "existing") && strcmp(s, "externalSecret"))
		return "must be one of \"inline\", \"existing\", \"externalSecret\"";
	return NULL;
}

static const char *check_store_kind(const char *s)
{
	if (strcmp(s, "SecretStore") && strcmp(s, "ClusterSecretStore"))
		return "must be one of \"SecretStore\", \"ClusterSecretStore\"";
	return NULL;
}

static const char *check_remote_key(const char *s)
{
	return *s ? NULL : "must not be empty: the key of the secret in the external store";
}

/* ---- the schema ---------------------------------------------------------------------- */

enum kind {
	K_STRING, /* check (may be NULL) */
	K_INT,	  /* min..max */
	K_BOOL,
	K_SCALAR, /* config value: a string; integers and booleans become text in normalise */
	K_OBJECT, /* fields */
	K_MAP,	  /* user-named keys (check) -> item, at most max entries */
};

struct field;

struct node {
	enum kind kind;
	bool nullable; /* null is a final value (database, probes), not only a deletion */
	bool masked_ok; /* K_SCALAR: {"set": bool} (a masked secret) passes the shape check */
	check_fn check;
	long long min, max;
	const struct field *fields;
	const struct node *item;
	const char *noun; /* K_MAP: what the entries are, for the count limit */
};

struct field {
	const char *name;
	const struct node *node;
	bool optional; /* may be absent from the resolved document (inherited or input-only) */
};

#define STRING(fn) {.kind = K_STRING, .check = (fn)}
#define INT(lo, hi) {.kind = K_INT, .min = (lo), .max = (hi)}
#define OBJECT(f) {.kind = K_OBJECT, .fields = (f)}
#define MAP(it, fn, limit, what) {.kind = K_MAP, .item = (it), .check = (fn), .max = (limit), .noun = (what)}

static const struct node n_text = STRING(NULL);
static const struct node n_bool = {.kind = K_BOOL};
static const struct node n_scalar = {.kind = K_SCALAR};
static const struct node n_quantity = STRING(syntax_quantity);
static const struct node n_dns_label = STRING(syntax_dns_label);
static const struct node n_key = STRING(syntax_key);
static const struct node n_tag = STRING(syntax_tag);
static const struct node n_registry = STRING(syntax_registry);
static const struct node n_image_ref = STRING(syntax_image_ref);
static const struct node n_http_path = STRING(syntax_http_path);
static const struct node n_replicas_hpa = INT(1, 1000);

static const struct field f_cpu_memory[] = {
	{"cpu", &n_quantity, false}, {"memory", &n_quantity, false}, {NULL, NULL, false}};
static const struct node n_cpu_memory = OBJECT(f_cpu_memory);
static const struct field f_resources[] = {
	{"requests", &n_cpu_memory, false}, {"limits", &n_cpu_memory, false}, {NULL, NULL, false}};
static const struct node n_resources = OBJECT(f_resources);

static const struct node n_pull_policy = STRING(check_pull_policy);
static const struct node n_pull_secret = STRING(syntax_dns_label_or_empty);
static const struct field f_image_top[] = {
	{"registry", &n_registry, false},    {"tag", &n_tag, false},
	{"pullPolicy", &n_pull_policy, false}, {"pullSecret", &n_pull_secret, false},
	{NULL, NULL, false}};
static const struct node n_image_top = OBJECT(f_image_top);

static const struct node n_repository = STRING(syntax_repository);
static const struct node n_digest = STRING(syntax_digest);
static const struct field f_image_service[] = {
	{"repository", &n_repository, false}, {"registry", &n_registry, true},
	{"tag", &n_tag, true},		      {"digest", &n_digest, false},
	{NULL, NULL, false}};
static const struct node n_image_service = OBJECT(f_image_service);

static const struct field f_env_source[] = {
	{"value", &n_text, true}, {"config", &n_key, true}, {"secret", &n_key, true}, {NULL, NULL, false}};
static const struct node n_env_source = OBJECT(f_env_source);
static const struct node n_env = MAP(&n_env_source, syntax_env_name, MODEL_MAX_ENV_VARS,
				     "environment variables");

static const struct node n_db_name = STRING(syntax_db_name);
static const struct node n_db_user = STRING(syntax_db_user);
static const struct field f_database[] = {
	{"name", &n_db_name, false}, {"user", &n_db_user, false}, {NULL, NULL, false}};
static const struct node n_database = {.kind = K_OBJECT, .nullable = true, .fields = f_database};

static const struct node n_delay = INT(0, 3600);
static const struct node n_seconds = INT(1, 3600);
static const struct node n_threshold = INT(1, 1000);
static const struct field f_probe[] = {
	{"path", &n_http_path, false},	    {"initialDelaySeconds", &n_delay, false},
	{"periodSeconds", &n_seconds, false}, {"timeoutSeconds", &n_seconds, false},
	{"failureThreshold", &n_threshold, false}, {NULL, NULL, false}};
static const struct node n_probe = {.kind = K_OBJECT, .nullable = true, .fields = f_probe};
static const struct field f_probes[] = {
	{"readiness", &n_probe, false}, {"liveness", &n_probe, false}, {"startup", &n_probe, false},
	{NULL, NULL, false}};
static const struct node n_probes = OBJECT(f_probes);

static const struct node n_percent = INT(1, 100);
static const struct field f_autoscaling[] = {
	{"enabled", &n_bool, false},	      {"minReplicas", &n_replicas_hpa, false},
	{"maxReplicas", &n_replicas_hpa, false}, {"targetCPUUtilization", &n_percent, false},
	{NULL, NULL, false}};
static const struct node n_autoscaling = OBJECT(f_autoscaling);
static const struct field f_enabled_only[] = {{"enabled", &n_bool, false}, {NULL, NULL, false}};
static const struct node n_disruption = OBJECT(f_enabled_only);
static const struct node n_uid = INT(1, 2147483647);
static const struct field f_security[] = {
	{"runAsUser", &n_uid, false}, {"readOnlyRootFilesystem", &n_bool, false}, {NULL, NULL, false}};
static const struct node n_security = OBJECT(f_security);

static const struct node n_port = INT(1, 65535);
static const struct node n_replicas = INT(0, 1000);
static const struct field f_service[] = {
	{"enabled", &n_bool, false},
	{"image", &n_image_service, false},
	{"port", &n_port, false},
	{"replicas", &n_replicas, false},
	{"env", &n_env, false},
	{"database", &n_database, false},
	{"broker", &n_bool, false},
	{"probes", &n_probes, false},
	{"resources", &n_resources, false},
	{"autoscaling", &n_autoscaling, false},
	{"disruptionBudget", &n_disruption, false},
	{"securityContext", &n_security, false},
	{NULL, NULL, false}};
static const struct node n_service = OBJECT(f_service);
static const struct node n_services = MAP(&n_service, syntax_service_name, MODEL_MAX_SERVICES, "services");

static const struct node n_class_name = STRING(syntax_class_name);
static const struct field f_storage[] = {
	{"size", &n_quantity, false}, {"className", &n_class_name, false}, {NULL, NULL, false}};
static const struct node n_storage = OBJECT(f_storage);
static const struct field f_mysql[] = {
	{"enabled", &n_bool, false},		{"image", &n_image_ref, false},
	{"rootPasswordSecret", &n_key, false}, {"appPasswordSecret", &n_key, false},
	{"storage", &n_storage, false},	{"resources", &n_resources, false},
	{NULL, NULL, false}};
static const struct node n_mysql = OBJECT(f_mysql);
static const struct node n_rabbitmq_user = STRING(syntax_rabbitmq_user);
static const struct field f_rabbitmq[] = {
	{"enabled", &n_bool, false},	   {"image", &n_image_ref, false},
	{"user", &n_rabbitmq_user, false}, {"passwordSecret", &n_key, false},
	{"storage", &n_storage, false},	   {"resources", &n_resources, false},
	{NULL, NULL, false}};
static const struct node n_rabbitmq = OBJECT(f_rabbitmq);
static const struct field f_zipkin[] = {
	{"enabled", &n_bool, false}, {"image", &n_image_ref, false}, {"resources", &n_resources, false},
	{NULL, NULL, false}};
static const struct node n_zipkin = OBJECT(f_zipkin);

static const struct field f_tls[] = {
	{"enabled", &n_bool, false}, {"secretName", &n_dns_label, false}, {NULL, NULL, false}};
static const struct node n_tls = OBJECT(f_tls);
static const struct node n_host = STRING(syntax_host);
static const struct node n_annotations = MAP(&n_text, syntax_annotation_key, MODEL_MAX_KEYS, "annotations");
static const struct field f_ingress[] = {
	{"enabled", &n_bool, false},   {"className", &n_dns_label, false},
	{"host", &n_host, false},      {"path", &n_http_path, false},
	{"service", &n_text, false},   {"tls", &n_tls, false},
	{"annotations", &n_annotations, false}, {NULL, NULL, false}};
static const struct node n_ingress = OBJECT(f_ingress);

static const struct node n_config = MAP(&n_scalar, syntax_key, MODEL_MAX_KEYS, "keys");
static const struct node n_secret = {.kind = K_SCALAR, .masked_ok = true};
static const struct node n_secrets = MAP(&n_secret, syntax_key, MODEL_MAX_KEYS, "keys");
static const struct node n_secret_source_type = STRING(check_secret_source_type);
static const struct node n_store_kind = STRING(check_store_kind);
static const struct node n_duration = STRING(syntax_duration);
static const struct node n_remote_key = STRING(check_remote_key);
static const struct node n_dns_label_or_empty = STRING(syntax_dns_label_or_empty);
static const struct field f_secret_source[] = {
	{"type", &n_secret_source_type, false}, {"name", &n_dns_label, false},
	{"secretStore", &n_dns_label_or_empty, false}, {"secretStoreKind", &n_store_kind, false},
	{"remoteKey", &n_remote_key, false}, {"refreshInterval", &n_duration, false},
	{NULL, NULL, false}};
static const struct node n_secret_source = OBJECT(f_secret_source);
static const struct field f_document[] = {
	{"description", &n_text, false},
	{"namespace", &n_dns_label, false},
	{"image", &n_image_top, false},
	{"config", &n_config, false},
	{"secrets", &n_secrets, false},
	{"secretSource", &n_secret_source, false},
	{"serviceDefaults", &n_service, true},
	{"services", &n_services, false},
	{"mysql", &n_mysql, false},
	{"rabbitmq", &n_rabbitmq, false},
	{"zipkin", &n_zipkin, false},
	{"ingress", &n_ingress, false},
	{NULL, NULL, false}};
static const struct node n_document = OBJECT(f_document);

/* ---- the schema walk ----------------------------------------------------------------- */

/* The walk follows the schema, which nests far less than this. */
#define WALK_MAX_KEYS 16

/* How many shared objects a walk remembers as valid (see walk_shared). */
#define WALK_MAX_CLEAN 32

/* A shared object found valid against n (see walk_shared). */
struct walk_clean {
	const json_t *v;
	const struct node *n;
};

/* The keys down to the current value are kept as borrowed strings; a JSON Pointer is
 * only built when there is something to report. */
struct walk {
	struct model_errors *errs;
	const char *keys[WALK_MAX_KEYS];
	size_t depth;
	bool resolved; /* the resolved document: every field present, null only where nullable */
	struct walk_clean clean[WALK_MAX_CLEAN]; /* in this walk */
	size_t nclean;
};

static void key_push(struct walk *w, const char *key)
{
	assert(w->depth < WALK_MAX_KEYS);
	w->keys[w->depth++] = key;
}

static void key_pop(struct walk *w)
{
	w->depth--;
}

static int report(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report(struct walk *w, const char *fmt, ...)
{
	struct buf ptr;
	va_list ap;
	buf_init(&ptr, BUF_NO_MAX);
	int r = buf_puts(&ptr, "");
	for (size_t i = 0; r == 0 && i < w->depth; i++)
		r = ptr_push(&ptr, w->keys[i]);
	va_start(ap, fmt);
	if (r == 0)
		r = errors_vadd(w->errs, buf_cstr(&ptr), fmt, ap);
	va_end(ap);
	buf_release(&ptr);
	return r < 0 ? -ENOMEM : 0;
}

/* A short description of a JSON value for "got ..." (static text or formatted into b). */
static const char *describe(const json_t *v, struct buf *b)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return buf_printf(b, "the string \"%.*s%s\"", CLIP(json_string_value(v))) ? "a string"
											  : buf_cstr(b);
	case JSON_INTEGER:
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) ? "a number" : buf_cstr(b);
	case JSON_REAL:
		return buf_printf(b, "the number %g", json_real_value(v)) ? "a number" : buf_cstr(b);
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

static int report_type(struct walk *w, const json_t *v, const char *expected)
{
	struct buf b;
	buf_init(&b, 256);
	int r = report(w, "must be %s, got %s", expected, describe(v, &b));
	buf_release(&b);
	return r;
}

static int walk_node(struct walk *w, const json_t *v, const struct node *n);

/* One more than the edit distance at which a known name is offered as "did you mean". */
static size_t suggest_limit(const char *word)
{
	return strlen(word) > 6 ? 4 : 3;
}

static const char *closest_field(const struct field *fields, const char *word)
{
	const char *best = NULL;
	size_t best_d = suggest_limit(word);
	for (const struct field *f = fields; f->name; f++) {
		size_t d = util_edit_distance(word, f->name, best_d);
		if (d < best_d) {
			best = f->name;
			best_d = d;
		}
	}
	return best;
}

static int report_unknown(struct walk *w, const struct field *fields, const char *key)
{
	const char *guess = closest_field(fields, key);
	if (guess)
		return report(w, "is not a known field; did you mean \"%s\"?", guess);
	struct buf list;
	buf_init(&list, BUF_NO_MAX);
	int r = 0;
	for (const struct field *f = fields; r == 0 && f->name; f++)
		r = buf_printf(&list, "%s%s", f == fields ? "" : ", ", f->name);
	if (r == 0)
		r = report(w, "is not a known field; the fields here are: %s", buf_cstr(&list));
	buf_release(&list);
	return r < 0 ? -ENOMEM : 0;
}

static bool is_field(const struct field *f, const char *key)
{
	return f->name && f->name[0] == key[0] && strcmp(f->name, key) == 0;
}

/* The field named key, tried first at hint (the field after the one found last: members
 * mostly come in the order of the fields), then among all; NULL when unknown. */
static const struct field *find_field(const struct field *fields, const struct field *hint,
				      const char *key)
{
	if (is_field(hint, key))
		return hint;
	for (const struct field *f = fields; f->name; f++)
		if (is_field(f, key))
			return f;
	return NULL;
}

static int walk_child(struct walk *w, const char *key, const json_t *v, const struct node *n)
{
	key_push(w, key);
	int r = walk_node(w, v, n);
	key_pop(w);
	return r < 0 ? -ENOMEM : 0;
}

static size_t count_required(const struct field *fields)
{
	size_t n = 0;
	for (const struct field *f = fields; f->name; f++)
		n += !f->optional;
	return n;
}

static int walk_object(struct walk *w, const json_t *v, const struct node *n)
{
	const char *key;
	json_t *child;
	int r = 0;
	size_t required_seen = 0;
	const struct field *hint = n->fields;
	EACH_MEMBER((json_t *)v, key, child) {
		const struct field *f = find_field(n->fields, hint, key);
		if (f) {
			hint = f + 1;
			required_seen += !f->optional;
			r = walk_child(w, key, child, f->node);
		} else {
			key_push(w, key);
			r = report_unknown(w, n->fields, key);
			key_pop(w);
		}
		if (r < 0)
			return -ENOMEM;
	}
	if (!w->resolved || required_seen == count_required(n->fields))
		return 0; /* every required field was there */
	for (const struct field *f = n->fields; f->name; f++) {
		if (f->optional || json_object_get(v, f->name))
			continue;
		key_push(w, f->name);
		r = report(w, "is required");
		key_pop(w);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

static int walk_map_key(struct walk *w, const char *key, const struct node *n)
{
	if (strlen(key) > MODEL_MAX_STRING)
		return report(w, "name is longer than %d bytes", MODEL_MAX_STRING);
	const char *why = w->resolved && n->check ? n->check(key) : NULL;
	return why ? report(w, "is not a valid name: %s", why) : 0;
}

static int walk_map(struct walk *w, const json_t *v, const struct node *n)
{
	if ((long long)json_object_size(v) > n->max)
		return report(w, "has %zu %s, more than the limit of %lld", json_object_size(v), n->noun,
			      n->max);
	const char *key;
	json_t *child;
	EACH_MEMBER((json_t *)v, key, child) {
		key_push(w, key);
		int r = walk_map_key(w, key, n);
		key_pop(w);
		if (r < 0 || walk_child(w, key, child, n->item) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int walk_string(struct walk *w, const json_t *v, const struct node *n)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > MODEL_MAX_STRING)
		return report(w, "is longer than %d bytes", MODEL_MAX_STRING);
	if (strlen(s) != len)
		return report(w, "must not contain NUL characters");
	const char *why = w->resolved && n->check ? n->check(s) : NULL;
	return why ? report(w, "%s, got \"%.*s%s\"", why, CLIP(s)) : 0;
}

static int walk_int(struct walk *w, const json_t *v, const struct node *n)
{
	if (!json_is_integer(v)) {
		struct buf b;
		buf_init(&b, 128);
		int r = buf_printf(&b, "an integer from %lld to %lld", n->min, n->max);
		r = r ? -ENOMEM : report_type(w, v, buf_cstr(&b));
		buf_release(&b);
		return r;
	}
	if (!w->resolved)
		return 0;
	long long x = json_integer_value(v);
	if (x < n->min || x > n->max)
		return report(w, "must be an integer from %lld to %lld, got %lld", n->min, n->max, x);
	return 0;
}

/* {"set": true|false}, what model_mask_secrets() shows in place of a secret. */
static bool is_masked_secret(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 && json_is_boolean(json_object_get(v, "set"));
}

static int walk_scalar(struct walk *w, const json_t *v, const struct node *n)
{
	if (!w->resolved && n->masked_ok && is_masked_secret(v))
		return 0;
	if (json_is_real(v))
		return report(w, "must be a string; write \"%g\" (in quotes) to keep it as typed: only "
				 "integers and booleans are turned into text", json_real_value(v));
	if (json_is_string(v))
		return walk_string(w, v, &n_text);
	if (!w->resolved && (json_is_integer(v) || json_is_boolean(v)))
		return 0;
	return report_type(w, v, "a string");
}

static bool walked_clean(const struct walk *w, const json_t *v, const struct node *n)
{
	for (size_t i = 0; i < w->nclean; i++)
		if (w->clean[i].v == v && w->clean[i].n == n)
			return true;
	return false;
}

/* The object v walked as n (walk_object or walk_map), once per walk when it is shared: in
 * a resolved document (model_resolve's own until it returns, so its reference counts are
 * only its own) an object referenced more than once is one services share (what
 * serviceDefaults gave them), and found valid against n it is valid again, the document
 * being the same throughout the walk. One that has problems is walked each time, so that
 * each place reports them. */
static int walk_shared(struct walk *w, const json_t *v, const struct node *n)
{
	bool shared = w->resolved && v->refcount > 1;
	if (shared && walked_clean(w, v, n))
		return 0;
	size_t before = w->errs->count;
	int r = n->kind == K_MAP ? walk_map(w, v, n) : walk_object(w, v, n);
	if (r == 0 && shared && w->errs->count == before && w->nclean < WALK_MAX_CLEAN)
		w->clean[w->nclean++] = (struct walk_clean){v, n};
	return r;
}

static int walk_node(struct walk *w, const json_t *v, const struct node *n)
{
	if (json_is_null(v) && (n->nullable || !w->resolved))
		return 0;
	switch (n->kind) {
	case K_STRING:
		return json_is_string(v) ? walk_string(w, v, n) : report_type(w, v, "a string");
	case K_INT:
		return walk_int(w, v, n);
	case K_BOOL:
		return json_is_boolean(v) ? 0 : report_type(w, v, "true or false");
	case K_SCALAR:
		return walk_scalar(w, v, n);
	case K_OBJECT:
		if (!json_is_object(v))
			return report_type(w, v, n->nullable ? "an object or null" : "an object");
		return walk_shared(w, v, n);
	case K_MAP:
		return json_is_object(v) ? walk_shared(w, v, n) : report_type(w, v, "an object");
	}
	return 0;
}

static int walk_document(const json_t *doc, bool resolved, struct model_errors *errs)
{
	struct walk w = {.errs = errs, .resolved = resolved};
	return walk_node(&w, doc, &n_document);
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
			r = ptr_push(ptr, key);
			if (r == 0)
				r = check_depth(child, ptr, depth + 1, errs);
			ptr_truncate(ptr, len);
			if (r != 0)
				break;
		}
	} else {
		for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
			r = buf_printf(ptr, "/%zu", i);
			if (r == 0)
				r = check_depth(json_array_get(v, i), ptr, depth + 1, errs);
			ptr_truncate(ptr, len);
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

/* ---- built-in defaults --------------------------------------------------------------- */

#define RESOURCES_FMT "{s:{s:s,s:s},s:{s:s,s:s}}"
#define RESOURCES(rc, rm, lc, lm) "requests", "cpu", rc, "memory", rm, "limits", "cpu", lc, "memory", lm

/* What every service starts from, under serviceDefaults (probes are completed separately). */
static json_t *builtin_service(void)
{
	return json_pack("{s:b, s:{s:s}, s:i, s:{}, s:b, s:{s:{},s:{}}, s:" RESOURCES_FMT
			 ", s:{s:b,s:i,s:i,s:i}, s:{s:b}, s:{s:i,s:b}}",
			 "enabled", 1, "image", "digest", "", "replicas", 1, "env", "broker", 0,
			 "probes", "readiness", "liveness",
			 "resources", RESOURCES("100m", "256Mi", "1", "512Mi"),
			 "autoscaling", "enabled", 0, "minReplicas", 2, "maxReplicas", 5,
			 "targetCPUUtilization", 80,
			 "disruptionBudget", "enabled", 1,
			 "securityContext", "runAsUser", 1000, "readOnlyRootFilesystem", 1);
}

static json_t *builtin_probe(void)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:i}", "path", "/actuator/health", "initialDelaySeconds", 0,
			 "periodSeconds", 10, "timeoutSeconds", 2, "failureThreshold", 3);
}

/* The first layer: every top-level default (namespace and tls.secretName depend on names). */
static json_t *builtin_top(void)
{
	return json_pack(
		"{s:s, s:{s:s,s:s,s:s}, s:{}, s:{}, s:{}, s:{s:s,s:s,s:s,s:s},"
		" s:{s:b,s:s,s:s,s:s,s:{s:s,s:s},s:" RESOURCES_FMT "},"
		" s:{s:b,s:s,s:s,s:s,s:{s:s,s:s},s:" RESOURCES_FMT "},"
		" s:{s:b,s:s,s:" RESOURCES_FMT "},"
		" s:{s:b,s:s,s:s,s:s,s:s,s:{s:b},s:{}}}",
		"description", "", "image", "registry", "", "pullPolicy", "IfNotPresent", "pullSecret", "",
		"config", "secrets", "services",
		"secretSource", "type", "inline", "secretStore", "", "secretStoreKind", "ClusterSecretStore",
		"refreshInterval", "1h",
		"mysql", "enabled", 0, "image", "mysql:8.0.36", "rootPasswordSecret", "mysql-root-password",
		"appPasswordSecret", "mysql-password", "storage", "size", "5Gi", "className", "",
		"resources", RESOURCES("250m", "512Mi", "1", "1Gi"),
		"rabbitmq", "enabled", 0, "image", "rabbitmq:3.13-management", "user", "app",
		"passwordSecret", "rabbitmq-password", "storage", "size", "1Gi", "className", "",
		"resources", RESOURCES("100m", "256Mi", "500m", "512Mi"),
		"zipkin", "enabled", 0, "image", "openzipkin/zipkin:3.4",
		"resources", RESOURCES("100m", "256Mi", "500m", "512Mi"),
		"ingress", "enabled", 0, "className", "nginx", "host", "", "path", "/", "service", "",
		"tls", "enabled", 0, "annotations");
}

/* The built-in defaults, shared (copy_value) into every resolved document. */
struct builtins {
	json_t *top;	 /* builtin_top() */
	json_t *service; /* builtin_service() */
	json_t *probe;	 /* builtin_probe() */
};

static pthread_mutex_t builtins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct builtins builtins_shared; /* guarded by builtins_lock until set */

/* The built-in defaults, packed on first use and from then on shared by every resolve of
 * the process and never changed or freed (jansson's reference counts are atomic, and
 * copy_value/fill_defaults only read them). 0, or -ENOMEM (the next call tries again). */
static int builtins_get(const struct builtins **ret)
{
	struct builtins *b = &builtins_shared;
	int r = 0;
	pthread_mutex_lock(&builtins_lock);
	if (!b->top) {
		json_t *top = builtin_top(), *service = builtin_service(), *probe = builtin_probe();
		if (top && service && probe) {
			*b = (struct builtins){top, service, probe};
		} else {
			json_decref(top);
			json_decref(service);
			json_decref(probe);
			r = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&builtins_lock);
	if (r == 0)
		*ret = b;
	return r;
}

/* The first layer: the top-level defaults with serviceDefaults. NULL on allocation failure. */
static json_t *builtin_document(const struct builtins *b)
{
	json_t *doc = copy_value(b->top);
	if (doc && json_object_set_new(doc, "serviceDefaults", copy_value(b->service)) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* ---- normalisation ------------------------------------------------------------------- */

/* obj[key], found without hashing when it is the member at *it: documents built from the
 * defaults keep their members in the defaults' order, so fill_defaults mostly steps along
 * both. *it moves past a member found there; otherwise it stays and obj is looked up. */
static json_t *member_in_order(json_t *obj, void **it, const char *key, size_t len)
{
	if (*it && json_object_iter_key_len(*it) == len && memcmp(json_object_iter_key(*it), key, len) == 0) {
		json_t *v = json_object_iter_value(*it);
		*it = json_object_iter_next(obj, *it);
		return v;
	}
	return json_object_getn(obj, key, len);
}

/* Adds to obj every member of defaults it lacks (but the top-level key skip, when not
 * NULL), recursing where both sides are objects. */
static int fill_defaults(json_t *obj, const json_t *defaults, const char *skip)
{
	const char *key;
	json_t *dv;
	void *it = json_object_iter(obj);
	EACH_MEMBER((json_t *)defaults, key, dv) {
		if (skip && strcmp(key, skip) == 0)
			continue;
		size_t len = MEMBER_KEY_LEN();
		json_t *cur = member_in_order(obj, &it, key, len);
		int r = 0;
		if (!cur) {
			it = NULL; /* obj gains a key: no iterator across that, lookups from here on */
			r = json_object_setn_new_nocheck(obj, key, len, copy_value(dv)) ? -ENOMEM : 0;
		} else if (json_is_object(cur) && json_is_object(dv)) {
			r = fill_defaults(cur, dv, NULL);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

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

/* Sets obj[key] to from[key] (shared) when obj lacks key and from[key] is a string. */
static int inherit_string(json_t *obj, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (!json_is_object(obj) || json_object_get(obj, key) || !json_is_string(v))
		return 0;
	return json_object_set_nocheck(obj, key, v) ? -ENOMEM : 0;
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
		    json_object_setn_new_nocheck(svc, key, len, copy_value(cur)) < 0)
			return -ENOMEM;
		int r = merge_member(svc, key, value, m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* serviceDefaults <- each layer's entry for one service, in layer order. A layer whose
 * entry is not an object (null deletes) starts the service again from serviceDefaults.
 * What no layer changes stays serviceDefaults' own value, shared by every such service
 * (and only ever completed the same way for each: see complete_service).
 * sd holds every built-in service default unless sd_lost; what a null took away from the
 * service comes back from defaults (all but the probes, completed one by one later). */
static int layered_service(const json_t *sd, bool sd_lost, const json_t *defaults,
			   const json_t *const *services, size_t n, const char *name, json_t **ret_svc)
{
	struct merge m = {.share = true, .lost = sd_lost};
	json_t *svc = share_members(sd);
	int r = svc ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const json_t *v = json_is_object(services[i]) ? json_object_get(services[i], name) : services[i];
		if (!v)
			continue;
		if (json_is_object(v)) {
			r = merge_service(svc, sd, v, &m);
		} else {
			json_decref(svc);
			svc = share_members(sd);
			r = svc ? 0 : -ENOMEM;
		}
	}
	if (r == 0 && m.lost)
		r = fill_defaults(svc, defaults, "probes");
	if (r == 0)
		*ret_svc = svc;
	else
		json_decref(svc);
	return r;
}

/* Each service layered (layered_service) from serviceDefaults, which lacks a built-in
 * default only when sd_lost. */
static int resolve_services(json_t *doc, bool sd_lost, const struct builtins *b,
			    const json_t *const *layers, struct model_errors *errs)
{
	json_t *services = json_object_get(doc, "services");
	json_t *sd = json_object_get(doc, "serviceDefaults");
	if (!json_is_object(sd)) {
		/* report it, then carry on from the built-in defaults to check the services */
		sd = copy_value(b->service);
		sd_lost = false;
		if (errf(errs, PTR("serviceDefaults"), "must be an object") < 0 ||
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
		if (layered_service(sd, sd_lost, b->service, entries, n, name, &merged) < 0 ||
		    json_object_set_new_nocheck(services, name, merged) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int complete_probes(json_t *probes, const json_t *probe_defaults)
{
	static const char *const names[] = {"readiness", "liveness", "startup"};
	for (size_t i = 0; json_is_object(probes) && i < 3; i++) {
		json_t *p = json_object_get(probes, names[i]);
		int r = 0;
		if (!p)
			r = json_object_set_new_nocheck(probes, names[i], json_null()) ? -ENOMEM : 0;
		else if (json_is_object(p))
			r = fill_defaults(p, probe_defaults, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* database absent -> null; database.user absent or "" -> the service name with '-' -> '_'.
 * The database may be serviceDefaults' own object, shared with other services: the user,
 * which names this service, goes into a copy. */
static int complete_database(json_t *svc, const char *name)
{
	json_t *db = json_object_get(svc, "database");
	if (!db)
		return json_object_set_new_nocheck(svc, "database", json_null()) ? -ENOMEM : 0;
	if (!needs_default(db, "user"))
		return 0;
	char *user = strdup(name);
	json_t *own = copy_value(db);
	int r = user && own ? 0 : -ENOMEM;
	for (char *c = user; r == 0 && *c; c++)
		if (*c == '-')
			*c = '_';
	if (r == 0)
		r = default_text(own, "user", "%s", user);
	if (r == 0 && json_object_set_nocheck(svc, "database", own) < 0)
		r = -ENOMEM;
	json_decref(own);
	free(user);
	return r;
}

/* Probes are completed one by one: a service without them gets null, not the defaults. */
static int complete_service(json_t *svc, const char *name, const struct builtins *d)
{
	int r = complete_probes(json_object_get(svc, "probes"), d->probe);
	if (r == 0)
		r = complete_database(svc, name);
	return r;
}

static int complete_services(json_t *doc, const struct builtins *b)
{
	json_t *services = json_object_get(doc, "services");
	int r = 0;
	const char *name;
	json_t *svc;
	EACH_MEMBER(services, name, svc) {
		if (r == 0 && json_is_object(svc))
			r = complete_service(svc, name, b);
	}
	return r;
}

/* Services without their own image registry or tag take the top-level ones. Done after
 * validation, so that a bad top-level value is reported once, not once per service. */
static int inherit_images(json_t *doc)
{
	const json_t *top = json_object_get(doc, "image");
	const json_t *services = json_object_get(doc, "services");
	const char *name;
	json_t *svc;
	EACH_MEMBER(services, name, svc) {
		(void)name;
		json_t *image = json_object_get(svc, "image");
		if (inherit_string(image, top, "registry") < 0 || inherit_string(image, top, "tag") < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The defaults that depend on names (namespace, TLS secret, secret source), config and
 * secret values as text, then every service completed. */
static int complete_document(json_t *doc, const struct builtins *b, const char *stack_name,
			     const char *env_name)
{
	json_t *source = json_object_get(doc, "secretSource");
	int r = env_name ? default_text(doc, "namespace", "%s-%s", stack_name, env_name)
			 : default_text(doc, "namespace", "%s", stack_name);
	if (r == 0)
		r = default_text(json_object_get(json_object_get(doc, "ingress"), "tls"), "secretName",
				 "%s-tls", stack_name);
	if (r == 0)
		r = default_text(source, "name", "%s-secrets", stack_name);
	if (r == 0)
		r = env_name ? default_text(source, "remoteKey", "%s/%s", stack_name, env_name)
			     : default_text(source, "remoteKey", "%s", stack_name);
	if (r == 0)
		r = stringify_values(json_object_get(doc, "config"));
	if (r == 0)
		r = stringify_values(json_object_get(doc, "secrets"));
	if (r == 0)
		r = complete_services(doc, b);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- rules across fields (on the resolved document; types may still be wrong) ------- */

/* Adds an error at the segments at followed by the segments segs (see errp_v). */
static int errp(struct model_errors *e, const char *const *at, const char *const *segs, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errp(struct model_errors *e, const char *const *at, const char *const *segs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = errp_v(e, at, segs, fmt, ap);
	va_end(ap);
	return r;
}

static bool is_enabled(const json_t *obj)
{
	return json_is_true(json_object_get(obj, "enabled"));
}

/* The string at obj[key], or NULL when absent or not a string. */
static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The key of obj closest to word, for "did you mean"; NULL when none is close. */
static const char *closest_key(const json_t *obj, const char *word)
{
	const char *best = NULL, *key;
	size_t best_d = suggest_limit(word);
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

#define SUGGEST_FMT "%s%s%s"
#define SUGGEST(g) (g) ? "; did you mean \"" : "", (g) ? (g) : "", (g) ? "\"?" : ""

/* What the rules look up again and again in the resolved document, found once. */
struct rules {
	const json_t *doc;
	const json_t *config, *secrets; /* /config and /secrets (borrowed; NULL when absent) */
	bool secrets_inline;		/* model_secrets_inline(doc) */
	bool mysql_enabled, rabbitmq_enabled;
	struct model_errors *e;
};

static int check_secret_ref(const struct rules *R, const char *const *at, const char *const *segs,
			    const char *key)
{
	const json_t *v = json_object_get(R->secrets, key);
	if (!v) {
		const char *guess = closest_key(R->secrets, key);
		return errp(R->e, at, segs, "names the secret \"%.*s%s\", which is not defined in /secrets"
			    SUGGEST_FMT, CLIP(key), SUGGEST(guess));
	}
	if (json_is_string(v) && json_string_length(v) == 0 && R->secrets_inline)
		return errp(R->e, at, segs, "names the secret \"%.*s%s\", which has no value: set it in "
			    "/secrets of this environment", CLIP(key));
	return 0;
}

/* Exactly one source; with refs, its config key or secret must exist (and be set). */
static int check_env_source(const struct rules *R, const char *const *at, const char *var,
			    const json_t *src, bool refs)
{
	if (!json_is_object(src))
		return 0;
	const char *config = NULL, *secret = NULL, *key;
	size_t n = 0;
	json_t *v;
	EACH_MEMBER((json_t *)src, key, v) { /* one pass instead of five lookups */
		bool is_config = strcmp(key, "config") == 0, is_secret = strcmp(key, "secret") == 0;
		n += is_config || is_secret || strcmp(key, "value") == 0;
		if (is_config)
			config = json_string_value(v);
		if (is_secret)
			secret = json_string_value(v);
	}
	if (n != 1)
		return errp(R->e, at, PTR("env", var), "must have exactly one of \"value\", \"config\" or "
			    "\"secret\", got %zu of them", n);
	if (!refs)
		return 0;
	if (config && !json_object_get(R->config, config)) {
		const char *guess = closest_key(R->config, config);
		return errp(R->e, at, PTR("env", var, "config"), "names the config key \"%.*s%s\", which is "
			    "not defined in /config" SUGGEST_FMT, CLIP(config), SUGGEST(guess));
	}
	if (secret)
		return check_secret_ref(R, at, PTR("env", var, "secret"), secret);
	return 0;
}

static int check_env(const struct rules *R, const char *const *at, const json_t *env, bool refs)
{
	const char *var;
	json_t *src;
	EACH_MEMBER((json_t *)env, var, src) {
		if (check_env_source(R, at, var, src, refs) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* request <= limit for cpu and memory, when both parse. */
static int check_resources(struct model_errors *e, const char *const *at, const json_t *res)
{
	static const char *const kinds[] = {"cpu", "memory"};
	const json_t *requests = json_object_get(res, "requests"), *limits = json_object_get(res, "limits");
	for (size_t i = 0; i < 2; i++) {
		const char *req = get_str(requests, kinds[i]);
		const char *lim = get_str(limits, kinds[i]);
		long double rv, lv;
		if (!req || !lim || syntax_quantity_value(req, &rv) < 0 || syntax_quantity_value(lim, &lv) < 0)
			continue;
		if (rv > lv * (1 + 1e-12L) &&
		    errp(e, at, PTR("resources", "requests", kinds[i]), "must not be more than the "
			 "limit \"%.*s%s\" (resources.limits.%s), got \"%.*s%s\"", CLIP(lim), kinds[i],
			 CLIP(req)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int check_autoscaling(struct model_errors *e, const char *const *at, const json_t *hpa)
{
	const json_t *min = json_object_get(hpa, "minReplicas"), *max = json_object_get(hpa, "maxReplicas");
	if (!json_is_integer(min) || !json_is_integer(max) || json_integer_value(min) <= json_integer_value(max))
		return 0;
	return errp(e, at, PTR("autoscaling", "minReplicas"), "must not be more than maxReplicas (%"
		    JSON_INTEGER_FORMAT "), got %" JSON_INTEGER_FORMAT, json_integer_value(max),
		    json_integer_value(min));
}

/* The first enabled service whose database is named db_name (there is one). */
static const char *database_owner(const struct rules *R, const char *db_name)
{
	const char *name;
	json_t *svc;
	EACH_MEMBER(json_object_get(R->doc, "services"), name, svc) {
		const char *other = get_str(json_object_get(svc, "database"), "name");
		if (is_enabled(svc) && other && strcmp(other, db_name) == 0)
			return name;
	}
	return "?";
}

/* The database needs MySQL and a name no other service uses (databases: the names of the
 * services before; their owner is only looked for when there is a clash). */
static int check_database(const struct rules *R, const char *const *at, const json_t *db,
			  json_t *databases)
{
	if (!json_is_object(db))
		return 0;
	if (!R->mysql_enabled)
		return errp(R->e, at, PTR("database"), "needs MySQL: set /mysql/enabled to true, or set "
			    "database to null");
	const char *db_name = get_str(db, "name");
	if (!db_name)
		return 0;
	if (json_object_get(databases, db_name))
		return errp(R->e, at, PTR("database", "name"), "is also the database of service \"%s\"; "
			    "each service needs its own database", database_owner(R, db_name));
	return json_object_set_new_nocheck(databases, db_name, json_true()) ? -ENOMEM : 0;
}

/* Rules within one service; references to other parts only when the service is enabled. */
static int check_service(const struct rules *R, const char *name, const json_t *svc, json_t *databases)
{
	bool enabled = is_enabled(svc);
	const char *const *at = PTR("services", name);
	int r = check_resources(R->e, at, json_object_get(svc, "resources"));
	if (r == 0)
		r = check_autoscaling(R->e, at, json_object_get(svc, "autoscaling"));
	if (r == 0)
		r = check_env(R, at, json_object_get(svc, "env"), enabled);
	if (r == 0 && enabled)
		r = check_database(R, at, json_object_get(svc, "database"), databases);
	if (r == 0 && enabled && !R->rabbitmq_enabled && json_is_true(json_object_get(svc, "broker")))
		r = errp(R->e, at, PTR("broker"), "needs RabbitMQ: set /rabbitmq/enabled to true");
	return r < 0 ? -ENOMEM : 0;
}

/* An app Service may not take the name of an enabled infrastructure Service. */
static int check_name_clashes(const json_t *doc, struct model_errors *e)
{
	static const char *const parts[][2] = {{"mysql", "MySQL"}, {"rabbitmq", "RabbitMQ"}, {"zipkin", "Zipkin"}};
	const json_t *services = json_object_get(doc, "services");
	for (size_t i = 0; i < 3; i++) {
		if (!is_enabled(json_object_get(doc, parts[i][0])) || !json_object_get(services, parts[i][0]))
			continue;
		if (errf(e, PTR("services", parts[i][0]), "is also the name of the %s Service; rename the "
			 "service or disable /%s", parts[i][1], parts[i][0]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* At least one service, then each one's rules. */
static int check_services(const struct rules *R)
{
	const json_t *services = json_object_get(R->doc, "services");
	if (!json_is_object(services))
		return 0;
	if (json_object_size(services) == 0)
		return errf(R->e, PTR("services"), "must define at least one service");
	json_t *databases = json_object();
	int r = databases ? 0 : -ENOMEM;
	const char *name;
	json_t *svc;
	EACH_MEMBER((json_t *)services, name, svc) {
		if (r == 0 && json_is_object(svc))
			r = check_service(R, name, svc, databases);
	}
	json_decref(databases);
	return r;
}

static int check_infrastructure(const struct rules *R)
{
	static const char *const parts[] = {"mysql", "rabbitmq", "zipkin"};
	static const char *const secrets[][2] = {{"mysql", "rootPasswordSecret"},
						 {"mysql", "appPasswordSecret"},
						 {"rabbitmq", "passwordSecret"}};
	int r = 0;
	for (size_t i = 0; r == 0 && i < 3; i++) {
		const json_t *part = json_object_get(R->doc, parts[i]);
		r = check_resources(R->e, PTR(parts[i]), json_object_get(part, "resources"));
	}
	for (size_t i = 0; r == 0 && i < 3; i++) {
		const json_t *part = json_object_get(R->doc, secrets[i][0]);
		const char *key = get_str(part, secrets[i][1]);
		if (is_enabled(part) && key)
			r = check_secret_ref(R, NULL, PTR(secrets[i][0], secrets[i][1]), key);
	}
	return r;
}

static int check_ingress(const json_t *doc, struct model_errors *e)
{
	const json_t *ingress = json_object_get(doc, "ingress");
	const json_t *services = json_object_get(doc, "services");
	const char *target = get_str(ingress, "service"), *host = get_str(ingress, "host");
	if (!is_enabled(ingress))
		return 0;
	int r = 0;
	if (is_enabled(json_object_get(ingress, "tls")) && host && !*host)
		r = errf(e, PTR("ingress", "host"), "must be set when /ingress/tls/enabled is true: a "
			 "TLS certificate is for a host name");
	if (r < 0 || !target || !json_is_object(services))
		return r;
	const json_t *svc = json_object_get(services, target);
	const char *guess = svc ? NULL : closest_key(services, target);
	if (!*target)
		return errf(e, PTR("ingress", "service"), "is required when the ingress is enabled: name "
			    "the service that receives the traffic");
	if (!svc)
		return errf(e, PTR("ingress", "service"), "names the service \"%.*s%s\", which is not "
			    "defined in /services" SUGGEST_FMT, CLIP(target), SUGGEST(guess));
	if (json_is_object(svc) && !is_enabled(svc))
		return errf(e, PTR("ingress", "service"), "names the service \"%.*s%s\", which is disabled",
			    CLIP(target));
	return 0;
}

/* With secrets kept outside (existing, externalSecret), no value may be stored: it would
 * silently not be used. An external store must be named. */
static int check_secret_source(const json_t *doc, struct model_errors *e)
{
	const json_t *src = json_object_get(doc, "secretSource");
	const char *type = get_str(src, "type");
	const char *key;
	json_t *v;
	int r = 0;
	if (!type || model_secrets_inline(doc))
		return 0;
	if (strcmp(type, "externalSecret") == 0 && get_str(src, "secretStore") &&
	    !*get_str(src, "secretStore"))
		r = errf(e, PTR("secretSource", "secretStore"), "is required when the type is "
			 "\"externalSecret\": the name of the SecretStore that holds the values");
	json_object_foreach(json_object_get(doc, "secrets"), key, v) {
		if (r == 0 && !(json_is_string(v) && json_string_length(v) == 0))
			r = errf(e, PTR("secrets", key), "has a value, but /secretSource/type is \"%s\", so "
				 "the value would not be used: set it to \"\" (keep the key) or change the type",
				 type);
	}
	return r;
}

static int check_rules(const json_t *doc, struct model_errors *e)
{
	const struct rules R = {doc,
				json_object_get(doc, "config"),
				json_object_get(doc, "secrets"),
				model_secrets_inline(doc),
				is_enabled(json_object_get(doc, "mysql")),
				is_enabled(json_object_get(doc, "rabbitmq")),
				e};
	int r = check_services(&R);
	if (r == 0)
		r = check_secret_source(doc, e);
	if (r == 0)
		r = check_name_clashes(doc, e);
	if (r == 0)
		r = check_infrastructure(&R);
	if (r == 0)
		r = check_ingress(doc, e);
	return r;
}

/* ---- the API ------------------------------------------------------------------------- */

bool model_secrets_inline(const json_t *doc)
{
	const char *type = get_str(json_object_get(doc, "secretSource"), "type");
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
	struct merge names = {.share = true}; /* no service is a default: none can be lost */
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
		int r = strcmp(key, "services") == 0 && json_is_object(value)
				? merge_service_names(doc, value)
				: merge_member(doc, key, value, m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* builtins <- each layer, then services layered one by one (see layered_service). A
 * default a null took away applies again (fill_defaults), which is only needed when a merge
 * lost something: else the copy of the builtins still has every default. */
static int layer_document(const struct builtins *b, const json_t *const *layers,
			  struct model_errors *errs, json_t **ret_doc)
{
	struct merge m = {.share = true};
	json_t *doc = builtin_document(b);
	int r = doc ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && layers[i]; i++)
		r = merge_layer(doc, layers[i], &m);
	if (r == 0 && m.lost)
		r = fill_defaults(doc, b->top, NULL);
	if (r == 0)
		r = resolve_services(doc, m.lost, b, layers, errs);
	if (r == 0)
		(void)json_object_del(doc, "serviceDefaults");
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
	const struct builtins *b = NULL;
	r = builtins_get(&b);
	if (r == 0)
		r = layer_document(b, layers, errs, &doc);
	if (r == 0)
		r = complete_document(doc, b, stack_name, env_name);
	if (r == 0)
		r = walk_document(doc, true, errs);
	if (r == 0)
		r = check_rules(doc, errs);
	if (r == 0 && errs->count > before)
		r = MODEL_EINVALID;
	if (r == 0)
		r = inherit_images(doc);
	if (r == 0)
		*ret_doc = json_incref(doc);
	json_decref(doc);
	return r < 0 && r != MODEL_EINVALID ? -ENOMEM : r;
}

int model_check_shape(const json_t *doc, struct model_errors *errs)
{
	size_t before = errs->count;
	int r = check_layer(doc, "document", true, errs);
	if (r == 0 && errs->count == before)
		r = walk_document(doc, false, errs);
	if (r < 0)
		return -ENOMEM;
	return errs->count > before ? MODEL_EINVALID : 0;
}

json_t *model_mask_secrets(const json_t *doc)
{
	json_t *copy = doc ? copy_value(doc) : NULL;
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
	json_t *copy = doc ? copy_value(doc) : NULL;
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


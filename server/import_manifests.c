/* import_manifests: Kubernetes YAML (a stream, kustomize or helm output, List objects)
 * turned into a stack document, an environment document and a report; what the
 * document cannot say is carried in extraObjects and patches. Rules: the header. */
#include "import_manifests.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importkit.h"
#include "model.h"
#include "syntax.h"
#include "util.h"
#include "yamlin.h"

#define NONE ((size_t)-1)
#define UNTAGGED "untagged" /* the tag of an image the input does not pin */

enum role { R_SKIP, R_WORKLOAD, R_SERVICE, R_INGRESS, R_CONFIGMAP, R_SECRET, R_HPA, R_PDB,
	    R_ACCOUNT, R_NAMESPACE, R_EXTRA };

/* One Kubernetes object of the input. */
struct object {
	json_t *obj;           /* borrowed from the parsed stream */
	char where[64];        /* its JSON Pointer in the stream: "/3" or "/3/items/12" (two numbers fit) */
	const char *api, *kind;
	const char *name;      /* metadata.name, or "" */
	const char *source;    /* helm's "# Source:" of its document, or NULL */
	enum role role;
	bool carried;          /* mapped onto the document, or kept as an extra object */
	size_t wl;             /* Service, HPA, PDB: the workload it belongs to (NONE: none) */
};

/* A workload of the input and the document service it becomes. */
struct workload {
	struct object *o;
	char name[64];          /* the document's service name (a DNS label fits) */
	const char *pod_ptr;    /* the pod spec's pointer in the object */
	json_t *tmpl;           /* the pod template (borrowed) */
	json_t *pod;            /* the pod spec (borrowed) */
	json_t *labels;         /* the pod template's labels (borrowed, may be NULL) */
	struct object *service; /* the Service mapped onto it, or NULL */
	size_t main;            /* the service's container: its index in the pod's containers */
	json_t *doc;            /* the document's service (borrowed from the stack) */
	json_t *merge;          /* merge patch on the rendered workload */
	json_t *ops;            /* JSON Patch on the rendered workload */
	json_t *ports;          /* "C/NUMBER/PROTO" and "C/NAME" -> {"name": document port name, "number"} */
	bool job;               /* Job or CronJob */
	bool multi;             /* can run more than one pod */
};

struct imp {
	const char *text;
	const char *stack_name;
	json_t *docs;           /* the parsed stream */
	struct object *objs;
	size_t nobjs;
	struct workload *wls;
	size_t nwls;
	json_t *stack, *env, *report;
	json_t *services;       /* stack.services */
	json_t *config;         /* stack.config */
	json_t *secrets_env;    /* environment.secrets */
	json_t *extra;          /* stack.extraObjects */
	json_t *patches;        /* stack.patches */
	json_t *cm_keys;        /* ConfigMap name -> {key -> config key} */
	json_t *secret_keys;    /* Secret name -> {key -> secret key} */
	json_t *registries, *tags, *policies, *pull_secrets; /* value -> count */
	json_t *accounts;       /* ServiceAccount name -> the service that renders it */
	const char *ns;         /* the input's namespace, or NULL */
	int rc;                 /* sticky -ENOMEM */
};

void import_manifests_result_release(struct import_manifests_result *r)
{
	if (!r)
		return;
	json_decref(r->stack);
	json_decref(r->environment);
	json_decref(r->report);
	*r = (struct import_manifests_result){0};
}

/* ==== small helpers ==== */

static int oom(struct imp *im, int r)
{
	if (r < 0 && im->rc == 0)
		im->rc = r;
	return im->rc;
}

/* obj[key] = value (reference stolen, also on failure, as jansson's _new calls do); a
 * failure is remembered. */
static void set(struct imp *im, json_t *obj, const char *key, json_t *value)
{
	if (!value || !obj) {
		json_decref(value);
		(void)oom(im, -ENOMEM);
	} else if (json_object_set_new(obj, key, value) < 0) {
		(void)oom(im, -ENOMEM);
	}
}

static void append(struct imp *im, json_t *arr, json_t *value)
{
	if (!value || !arr) {
		json_decref(value);
		(void)oom(im, -ENOMEM);
	} else if (json_array_append_new(arr, value) < 0) {
		(void)oom(im, -ENOMEM);
	}
}

/* The object obj[key], created when missing (NULL only after a failure). */
static json_t *child(struct imp *im, json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && obj) {
		set(im, obj, key, json_object());
		c = json_object_get(obj, key);
	}
	return c;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *member(const json_t *o, const char *key)
{
	return json_object_get(o, key);
}

/* o[key] is the string s. */
static bool str_is(const json_t *o, const char *key, const char *s)
{
	const char *v = str(o, key);
	return v && strcmp(v, s) == 0;
}

static bool truthy(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; s && *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* The text of a scalar: strings as they are, numbers and booleans written out (into
 * out, at most n bytes); NULL for anything else. */
static const char *scalar_text(const json_t *v, char *out, size_t n)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		(void)snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		(void)snprintf(out, n, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		(void)snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return out;
}

/* An integer member in [min, max], or dflt when absent or not one. */
static long long int_of(const json_t *o, const char *key, long long min, long long max, long long dflt)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return dflt;
	return json_integer_value(v);
}

/* ---- JSON Pointers: a path is a buf; steps are appended and cut back ---- */

static void step(struct imp *im, struct buf *p, const char *token)
{
	(void)oom(im, util_pointer_append(p, token));
}

static void stepi(struct imp *im, struct buf *p, size_t i)
{
	(void)oom(im, buf_printf(p, "/%zu", i));
}

/* The next reference token of the JSON Pointer at *p (at its '/'), unescaped, into tok
 * (reset first); *p moves past it. 0 or buf errors. */
static int pointer_token(const char **p, struct buf *tok)
{
	const char *q = *p;
	int r = 0;
	buf_reset(tok);
	for (q++; r == 0 && *q && *q != '/'; q++) {
		char c = *q;
		if (c == '~') {
			c = q[1] == '0' ? '~' : '/';
			q++;
		}
		r = buf_append(tok, &c, 1);
	}
	*p = q;
	return r;
}

/* Sets root's member at the pointer ptr (object steps only, created as needed). */
static void set_at(struct imp *im, json_t *root, const char *ptr, json_t *value)
{
	json_t *at = root;
	struct buf tok;
	buf_init(&tok, BUF_NO_MAX);
	while (at && *ptr == '/') {
		(void)oom(im, pointer_token(&ptr, &tok));
		if (*ptr)
			at = child(im, at, buf_cstr(&tok));
	}
	set(im, at, buf_cstr(&tok), value);
	buf_release(&tok);
}

/* Whether v, at nesting depth (the document is 1), fits a document's limits: strings and
 * keys of at most MODEL_MAX_STRING bytes, at most MODEL_MAX_DEPTH levels. */
static bool fits(const json_t *v, size_t depth)
{
	if (json_is_string(v))
		return json_string_length(v) <= MODEL_MAX_STRING;
	if (!json_is_object(v) && !json_is_array(v))
		return true;
	if (depth > MODEL_MAX_DEPTH)
		return false;
	const char *key;
	json_t *m;
	size_t i;
	json_object_foreach((json_t *)v, key, m)
		if (strlen(key) > MODEL_MAX_STRING || !fits(m, depth + 1))
			return false;
	json_array_foreach(v, i, m)
		if (!fits(m, depth + 1))
			return false;
	return true;
}

/* ---- the report ---- */

/* The length of the longest prefix of the JSON Pointer ptr that names something in v, so
 * that a report about what the input leaves out points at where it would be. */
static size_t present(const json_t *v, const char *ptr)
{
	size_t good = 0;
	const char *p = ptr;
	struct buf tok;
	buf_init(&tok, BUF_NO_MAX);
	while (v && *p == '/') {
		if (pointer_token(&p, &tok) < 0)
			break;
		char *end;
		unsigned long i = strtoul(buf_cstr(&tok), &end, 10);
		v = json_is_array(v) ? (*end || !tok.len ? NULL : json_array_get(v, i)) : json_object_get(v, buf_cstr(&tok));
		if (v)
			good = (size_t)(p - ptr);
	}
	buf_release(&tok);
	return good;
}

static void vreport(struct imp *im, const struct object *o, const char *ptr, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vreport(struct imp *im, const struct object *o, const char *ptr, const char *fmt, va_list ap)
{
	struct buf path, detail;
	buf_init(&path, BUF_NO_MAX);
	buf_init(&detail, BUF_NO_MAX);
	int r = BUF_PUTS(&path, o->where);
	if (r == 0 && ptr)
		r = buf_append(&path, ptr, present(o->obj, ptr));
	if (r == 0)
		r = buf_vprintf(&detail, fmt, ap);
	json_t *item = r == 0 ? json_pack("{s:s, s:s++, s:s}", "path", buf_cstr(&path), "object", o->kind,
					   "/", *o->name ? o->name : "?", "detail", buf_cstr(&detail))
			      : NULL;
	if (item && o->source)
		set(im, item, "source", json_string(o->source));
	append(im, im->report, item);
	buf_release(&path);
	buf_release(&detail);
}

/* Reports at the object o, at ptr (a JSON Pointer into it; NULL: the object). */
static void report(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(im, o, ptr, fmt, ap);
	va_end(ap);
}

/* ---- names ---- */

/* A name made of s for a document key of format fmt (a DNS label; with letter_first, it
 * starts with a letter): lowercase, other characters -> '-', at most 63. "" when
 * nothing is left. */
static void label_of(const char *s, bool letter_first, char out[64])
{
	size_t n = 0;
	if (letter_first && s && !isalpha((unsigned char)*s) && *s)
		out[n++] = 'x';
	for (; s && *s && n < 63; s++) {
		char c = (char)tolower((unsigned char)*s);
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!ok && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = ok ? c : '-';
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

/* A key of keys not taken yet: base, else base-2, base-3... (at most 63 characters). */
static void unique_key(const json_t *keys, const char *base, char out[64])
{
	(void)snprintf(out, 64, "%s", base);
	for (int i = 2; json_object_get(keys, out); i++) {
		char suffix[16];
		int n = snprintf(suffix, sizeof suffix, "-%d", i);
		size_t keep = strlen(base) > 63 - (size_t)n ? 63 - (size_t)n : strlen(base);
		(void)snprintf(out, 64, "%.*s%s", (int)keep, base, suffix);
	}
}

static bool reserved_label(const char *key)
{
	static const char *const keys[] = {"app.kubernetes.io/name", "app.kubernetes.io/instance",
					   "app.kubernetes.io/version", "app.kubernetes.io/component",
					   "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
					   "helm.sh/chart", NULL};
	return is_one_of(key, keys) || strncmp(key, "manifestd.io/", 13) == 0;
}


/* ==== the stream: objects, their roles, the namespace ==== */

/* The path after "# Source: " on a line of text[start, end), into out ("" when none). */
static void source_of(const char *text, size_t start, size_t end, struct buf *out)
{
	static const char tag[] = "# Source: ";
	const char *p = text + start, *stop = text + end;
	while (p < stop) {
		const char *eol = memchr(p, '\n', (size_t)(stop - p));
		const char *line_end = eol ? eol : stop;
		if ((size_t)(line_end - p) > sizeof tag - 1 && memcmp(p, tag, sizeof tag - 1) == 0) {
			const char *v = p + sizeof tag - 1;
			size_t n = (size_t)(line_end - v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			(void)buf_append(out, v, n);
			return;
		}
		p = line_end + 1;
	}
}

static enum role role_of(const char *api, const char *kind)
{
	static const char *const apps[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", NULL};
	static const char *const extensions[] = {"Deployment", "DaemonSet", "ReplicaSet", NULL};
	const char *slash = strchr(api, '/');
	size_t glen = slash ? (size_t)(slash - api) : 0;
#define GROUP(g) (glen == sizeof(g) - 1 && strncmp(api, g, glen) == 0)
	if ((GROUP("apps") && is_one_of(kind, apps)) || (GROUP("extensions") && is_one_of(kind, extensions)) ||
	    (GROUP("batch") && (strcmp(kind, "Job") == 0 || strcmp(kind, "CronJob") == 0)))
		return R_WORKLOAD;
	if ((GROUP("networking.k8s.io") || GROUP("extensions")) && strcmp(kind, "Ingress") == 0)
		return R_INGRESS;
	if (GROUP("autoscaling") && strcmp(kind, "HorizontalPodAutoscaler") == 0)
		return R_HPA;
	if (GROUP("policy") && strcmp(kind, "PodDisruptionBudget") == 0)
		return R_PDB;
#undef GROUP
	if (strcmp(api, "v1") != 0)
		return R_EXTRA;
	static const struct {
		const char *kind;
		enum role role;
	} core[] = {{"ReplicationController", R_WORKLOAD}, {"Service", R_SERVICE}, {"ConfigMap", R_CONFIGMAP},
		    {"Secret", R_SECRET}, {"ServiceAccount", R_ACCOUNT}, {"Namespace", R_NAMESPACE}};
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp(kind, core[i].kind) == 0)
			return core[i].role;
	return R_EXTRA;
}

static bool is_object(const json_t *v)
{
	return json_is_object(v) && json_is_string(json_object_get(v, "apiVersion")) &&
	       json_is_string(json_object_get(v, "kind"));
}

/* A List holds objects in items. */
static bool is_list(const json_t *v)
{
	const char *kind = str(v, "kind");
	size_t n = kind ? strlen(kind) : 0;
	return n >= 4 && strcmp(kind + n - 4, "List") == 0 && json_is_array(member(v, "items"));
}

static void add_object(struct imp *im, json_t *obj, const char *source, size_t doc, size_t item, bool in_list)
{
	struct object *o = &im->objs[im->nobjs++];
	*o = (struct object){.obj = obj, .source = source, .wl = NONE};
	if (in_list)
		(void)snprintf(o->where, sizeof o->where, "/%zu/items/%zu", doc, item);
	else
		(void)snprintf(o->where, sizeof o->where, "/%zu", doc);
	o->api = str(obj, "apiVersion");
	o->kind = str(obj, "kind");
	o->name = str(member(obj, "metadata"), "name");
	if (!o->name)
		o->name = "";
	o->role = role_of(o->api, o->kind);
}

/* Fills im->objs from the documents (Lists flattened); reports what is not an object. */
static int collect(struct imp *im, const json_t *spans, json_t *sources)
{
	size_t n = 0, i;
	json_t *d;
	json_array_foreach(im->docs, i, d)
		n += is_list(d) ? json_array_size(member(d, "items")) : 1;
	im->objs = calloc(n ? n : 1, sizeof *im->objs);
	if (!im->objs)
		return -ENOMEM;
	struct buf src;
	buf_init(&src, 4096);
	json_array_foreach(im->docs, i, d) {
		json_t *span = json_array_get(spans, i);
		buf_reset(&src);
		source_of(im->text, (size_t)json_integer_value(json_array_get(span, 0)),
			  (size_t)json_integer_value(json_array_get(span, 1)), &src);
		append(im, sources, json_string(buf_cstr(&src)));
		const char *source = src.len ? json_string_value(json_array_get(sources, i)) : NULL;
		if (json_is_null(d))
			continue;
		if (is_list(d)) {
			size_t k;
			json_t *item;
			json_array_foreach(member(d, "items"), k, item) {
				if (is_object(item)) {
					add_object(im, item, source, i, k, true);
					continue;
				}
				struct object at = {.kind = "List", .name = "", .source = source};
				(void)snprintf(at.where, sizeof at.where, "/%zu/items/%zu", i, k);
				report(im, &at, NULL, "is not a Kubernetes object (no apiVersion and kind): skipped");
			}
		} else if (is_object(d)) {
			add_object(im, d, source, i, 0, false);
		} else {
			struct object at = {.kind = "document", .name = "", .source = source};
			(void)snprintf(at.where, sizeof at.where, "/%zu", i);
			report(im, &at, NULL, "is not a Kubernetes object (no apiVersion and kind): skipped");
		}
	}
	buf_release(&src);
	return im->rc;
}

static bool same_group(const char *a, const char *b)
{
	const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
	return la == lb && strncmp(a, b, la) == 0;
}

/* An object that comes again later (same group, kind, namespace and name) is replaced by
 * the later one, as `kubectl apply` leaves it. */
static void drop_repeated(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *a = &im->objs[i];
		const char *ns = str(member(a->obj, "metadata"), "namespace");
		for (size_t k = i + 1; *a->name && a->role != R_SKIP && k < im->nobjs; k++) {
			const struct object *b = &im->objs[k];
			const char *ns2 = str(member(b->obj, "metadata"), "namespace");
			if (strcmp(a->kind, b->kind) == 0 && strcmp(a->name, b->name) == 0 && same_group(a->api, b->api) &&
			    (ns && ns2 ? strcmp(ns, ns2) == 0 : !ns && !ns2)) {
				report(im, a, NULL, "the same object comes again at %s, which replaces it (as kubectl apply would)", b->where);
				a->role = R_SKIP;
				a->carried = true;
			}
		}
	}
}

static bool cluster_scoped(const char *kind)
{
	static const char *const kinds[] = {"Namespace", "ClusterRole", "ClusterRoleBinding",
					    "CustomResourceDefinition", "PriorityClass", "StorageClass",
					    "IngressClass", "PersistentVolume", "ValidatingWebhookConfiguration",
					    "MutatingWebhookConfiguration", "APIService", "RuntimeClass",
					    "CSIDriver", "VolumeSnapshotClass", "Node", NULL};
	return is_one_of(kind, kinds);
}

/* The namespace the input's objects live in: the most common metadata.namespace, else
 * the one Namespace object's name; it goes into the environment. Objects elsewhere are
 * reported: a bundle has one namespace. */
static void pick_namespace(struct imp *im)
{
	json_t *counts = json_object();
	const char *ns_object = NULL, *best = NULL;
	json_int_t most = 0;
	for (size_t i = 0; i < im->nobjs && counts; i++) {
		const struct object *o = &im->objs[i];
		const char *ns = str(member(o->obj, "metadata"), "namespace");
		if (o->role == R_NAMESPACE && !ns_object)
			ns_object = o->name;
		if (!ns || cluster_scoped(o->kind))
			continue;
		json_int_t n = json_integer_value(json_object_get(counts, ns)) + 1;
		set(im, counts, ns, json_integer(n));
		if (n > most)
			most = n, best = str(member(o->obj, "metadata"), "namespace");
	}
	im->ns = best ? best : ns_object;
	json_decref(counts);
	if (!im->ns)
		return;
	if (syntax_dns_label(im->ns)) {
		report(im, &im->objs[0], NULL, "the namespace '%s' is not a DNS label: the bundle's namespace is <stack>-<environment>", im->ns);
		im->ns = NULL;
		return;
	}
	set(im, im->env, "namespace", json_string(im->ns));
	for (size_t i = 0; i < im->nobjs; i++) {
		const struct object *o = &im->objs[i];
		const char *ns = str(member(o->obj, "metadata"), "namespace");
		if (ns && strcmp(ns, im->ns) != 0 && !cluster_scoped(o->kind))
			report(im, o, "/metadata/namespace",
			       "a bundle has one namespace: this object moves from '%s' to the environment's ('%s')", ns, im->ns);
	}
}

/* ==== workloads and the Services in front of them ==== */

/* Every pair of selector (a map) is among labels; an empty selector selects nothing. */
static bool selects(const json_t *selector, const json_t *labels)
{
	if (!json_is_object(selector) || json_object_size(selector) == 0)
		return false;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)selector, k, v) {
		json_t *have = json_object_get(labels, k);
		if (!json_is_string(have) || !json_is_string(v) || strcmp(json_string_value(have), json_string_value(v)) != 0)
			return false;
	}
	return true;
}

/* The workloads a selector picks: the first one's index, or NONE; *ret_count gets how many. */
static size_t selected(const struct imp *im, const json_t *selector, size_t *ret_count)
{
	size_t first = NONE, n = 0;
	for (size_t i = 0; i < im->nwls; i++) {
		if (selects(selector, im->wls[i].labels)) {
			n++;
			if (first == NONE)
				first = i;
		}
	}
	*ret_count = n;
	return first;
}

/* A workload the document can hold: a pod template with at least one container. */
static bool plan_workload(struct imp *im, struct object *o)
{
	bool cron = strcmp(o->kind, "CronJob") == 0;
	json_t *spec = member(o->obj, "spec");
	json_t *tmpl = member(cron ? member(member(spec, "jobTemplate"), "spec") : spec, "template");
	json_t *pod = member(tmpl, "spec");
	json_t *containers = member(pod, "containers");
	if (!json_is_array(containers) || json_array_size(containers) == 0 ||
	    !json_is_object(json_array_get(containers, 0))) {
		report(im, o, NULL, "has no pod template with containers: carried as an extra object");
		o->role = R_EXTRA;
		return false;
	}
	struct workload *w = &im->wls[im->nwls++];
	*w = (struct workload){.o = o, .tmpl = tmpl, .pod = pod, .labels = member(member(tmpl, "metadata"), "labels")};
	w->pod_ptr = cron ? "/spec/jobTemplate/spec/template/spec" : "/spec/template/spec";
	w->job = cron || strcmp(o->kind, "Job") == 0;
	w->merge = json_object();
	w->ops = json_array();
	w->ports = json_object();
	if (!w->merge || !w->ops || !w->ports)
		(void)oom(im, -ENOMEM);
	o->carried = true;
	return true;
}

/* Services onto the workloads whose pods they select: one per workload (the one named
 * like it, else the first), with ports; the others stay extra objects. */
static void match_services(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *o = &im->objs[i];
		json_t *spec = member(o->obj, "spec");
		if (o->role != R_SERVICE || json_array_size(member(spec, "ports")) == 0)
			continue;
		size_t n, wl = selected(im, member(spec, "selector"), &n);
		if (n > 1)
			report(im, o, "/spec/selector",
			       "selects the pods of %zu workloads: kept as an extra object (its selector's labels stay on their pods)", n);
		if (n != 1 || im->wls[wl].job)
			continue;
		o->wl = wl;
		struct workload *w = &im->wls[wl];
		if (!w->service || (strcmp(o->name, w->o->name) == 0 && strcmp(w->service->name, w->o->name) != 0))
			w->service = o;
	}
	for (size_t i = 0; i < im->nwls; i++)
		if (im->wls[i].service)
			im->wls[i].service->carried = true;
}

/* A Service named SERVICE-headless that selects a StatefulSet's pods is the one manifestd
 * renders for it (its pods' DNS names): the input's is not kept as well. */
static void match_headless(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *o = &im->objs[i];
		if (o->role != R_SERVICE || o->carried)
			continue;
		size_t n, wl = selected(im, member(member(o->obj, "spec"), "selector"), &n);
		if (n != 1 || strcmp(im->wls[wl].o->kind, "StatefulSet") != 0)
			continue;
		char want[80];
		(void)snprintf(want, sizeof want, "%s-headless", im->wls[wl].name);
		if (strcmp(o->name, want) != 0)
			continue;
		o->carried = true;
		report(im, o, NULL, "is the headless Service manifestd renders for the StatefulSet '%s' (with the service's ports, publishing not-ready pods)",
		       im->wls[wl].name);
	}
}

/* The document's name of each workload: its Service's (the name other pods reach it by),
 * else its own, made a DNS label starting with a letter and unique. */
static void name_workloads(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		struct workload *w = &im->wls[i];
		const char *base = w->service ? w->service->name : w->o->name;
		char label[64];
		label_of(*base ? base : str(member(w->o->obj, "metadata"), "generateName"), true, label);
		if (!*label)
			(void)snprintf(label, sizeof label, "service-%zu", i + 1);
		unique_key(im->services, label, w->name);
		set(im, im->services, w->name, json_object());
		w->doc = json_object_get(im->services, w->name);
		if (!*base)
			report(im, w->o, "/metadata", "has no name (a bundle is applied again and again): it is '%s'", w->name);
		else if (strcmp(w->name, base) != 0)
			report(im, w->o, "/metadata/name",
			       "'%s' cannot be a service name here (a DNS label starting with a letter, unique): it is '%s'",
			       base, w->name);
		else if (w->service && strcmp(w->o->name, w->name) != 0)
			report(im, w->o, "/metadata/name",
			       "is named '%s' here, like its Service, which other pods reach it by (one name for both)", w->name);
	}
}

/* ==== ConfigMaps and Secrets: the stack's config and secrets ==== */

/* Notes in cms and secrets the ConfigMaps and Secrets the containers of pod read. */
static void note_reads(struct imp *im, const json_t *pod, json_t *cms, json_t *secrets)
{
	static const char *const lists[] = {"initContainers", "containers"};
	for (size_t l = 0; l < 2; l++) {
		size_t i, k;
		json_t *c, *e;
		json_array_foreach(member(pod, lists[l]), i, c) {
			json_array_foreach(member(c, "env"), k, e) {
				json_t *from = member(e, "valueFrom");
				const char *cm = str(member(from, "configMapKeyRef"), "name");
				const char *sec = str(member(from, "secretKeyRef"), "name");
				if (cm)
					set(im, cms, cm, json_true());
				if (sec)
					set(im, secrets, sec, json_true());
			}
			json_array_foreach(member(c, "envFrom"), k, e) {
				const char *cm = str(member(e, "configMapRef"), "name");
				const char *sec = str(member(e, "secretRef"), "name");
				if (cm)
					set(im, cms, cm, json_true());
				if (sec)
					set(im, secrets, sec, json_true());
			}
		}
	}
	size_t i, k;
	json_t *v, *s;
	json_array_foreach(member(pod, "volumes"), i, v) {
		const char *cm = str(member(v, "configMap"), "name");
		const char *sec = str(member(v, "secret"), "secretName");
		if (cm)
			set(im, cms, cm, json_true());
		if (sec)
			set(im, secrets, sec, json_true());
		json_array_foreach(member(member(v, "projected"), "sources"), k, s) {
			cm = str(member(s, "configMap"), "name");
			sec = str(member(s, "secret"), "name");
			if (cm)
				set(im, cms, cm, json_true());
			if (sec)
				set(im, secrets, sec, json_true());
		}
	}
}

/* The key for value in values (the stack's config or the environment's secrets): key
 * itself when free or holding the same value, else OBJECT-key (then -2, -3...). The
 * value is stored under it; the key is left in out. */
static void place_key(struct imp *im, json_t *values, const char *object, const char *key,
		      const char *value, struct buf *out)
{
	json_t *have = json_object_get(values, key);
	buf_reset(out);
	(void)oom(im, buf_puts(out, key));
	if (have && strcmp(json_string_value(have), value) != 0) {
		buf_reset(out);
		(void)oom(im, BUF_PUTS(out, object, "-", key));
		size_t len = out->len;
		for (int i = 2; json_object_get(values, buf_cstr(out)); i++) {
			buf_truncate(out, len);
			(void)oom(im, buf_printf(out, "-%d", i));
		}
	}
	if (!json_object_get(values, buf_cstr(out)))
		set(im, values, buf_cstr(out), json_string(value));
}

/* The text of a Secret's data value: its base64 decoded when that is UTF-8 text, else
 * (reported) the value as written. */
static const char *secret_text(struct imp *im, const struct object *o, const char *ptr, const char *b64,
			       struct buf *decoded)
{
	buf_reset(decoded);
	int r = util_base64_decode_append(decoded, b64, strlen(b64));
	if (r == 0 && util_is_utf8(buf_cstr(decoded), decoded->len))
		return buf_cstr(decoded);
	(void)oom(im, r == -EINVAL ? 0 : r);
	report(im, o, ptr, "is not base64 of UTF-8 text: its secret value is the text as written");
	return b64;
}

/* Maps one ConfigMap (data) or Secret (stringData, then data base64-decoded: stringData
 * wins, as in Kubernetes) into values, noting key -> document key in keys[name]. */
static void map_values(struct imp *im, struct object *o, bool secret, json_t *values, json_t *keys)
{
	json_t *map = json_object();
	set(im, keys, o->name, map);
	const char *members[] = {"data", "stringData"};
	struct buf ptr, decoded, out;
	buf_init(&ptr, BUF_NO_MAX);
	buf_init(&decoded, BUF_NO_MAX);
	buf_init(&out, BUF_NO_MAX);
	for (size_t m = secret ? 2 : 1; m-- > 0 && !im->rc;) {
		const char *key;
		json_t *v;
		json_object_foreach(member(o->obj, members[m]), key, v) {
			char tmp[64];
			const char *text = scalar_text(v, tmp, sizeof tmp);
			buf_reset(&ptr);
			step(im, &ptr, members[m]);
			step(im, &ptr, key);
			if (json_object_get(map, key))
				continue;
			if (!text || syntax_key(key)) {
				report(im, o, buf_cstr(&ptr), "is not a key with a text value: not mapped");
				continue;
			}
			if (secret && m == 0)
				text = secret_text(im, o, buf_cstr(&ptr), text, &decoded);
			place_key(im, values, o->name, key, text, &out);
			if (strcmp(buf_cstr(&out), key) != 0)
				report(im, o, buf_cstr(&ptr),
				       "the key '%s' holds another value in an earlier %s: here it is '%s' (references follow)",
				       key, secret ? "Secret" : "ConfigMap", buf_cstr(&out));
			set(im, map, key, json_string(buf_cstr(&out)));
		}
	}
	buf_release(&ptr);
	buf_release(&decoded);
	buf_release(&out);
}

static bool has_values(const json_t *obj)
{
	return json_object_size(member(obj, "data")) + json_object_size(member(obj, "stringData")) > 0;
}

/* ConfigMaps that workloads read become the stack's config (those with binaryData stay
 * whole); Secrets with values give them to the environment's secrets (the stack gets the
 * keys with ""), whether read or not: a Secret's values never go into the stack. */
static void map_config_and_secrets(struct imp *im)
{
	json_t *cms = json_object(), *secrets = json_object();
	for (size_t i = 0; i < im->nwls; i++)
		note_reads(im, im->wls[i].pod, cms, secrets);
	json_t *stack_secrets = child(im, im->stack, "secrets");
	for (size_t i = 0; i < im->nobjs && !im->rc; i++) {
		struct object *o = &im->objs[i];
		bool big = !fits(member(o->obj, "data"), 3) || !fits(member(o->obj, "stringData"), 3);
		if ((o->role == R_CONFIGMAP || o->role == R_SECRET) && big) {
			report(im, o, NULL, "holds a value longer than %d bytes, more than a document holds: not kept (create it in the cluster; references to it stay)",
			       MODEL_MAX_STRING);
			o->carried = true;
		} else if (o->role == R_CONFIGMAP && json_object_get(cms, o->name) && !member(o->obj, "binaryData")) {
			map_values(im, o, false, im->config, im->cm_keys);
			o->carried = true;
		} else if (o->role == R_CONFIGMAP && json_object_get(cms, o->name)) {
			report(im, o, "/binaryData",
			       "binary values cannot be the stack's config: the ConfigMap is carried whole as an extra object");
		} else if (o->role == R_SECRET && has_values(o->obj)) {
			map_values(im, o, true, im->secrets_env, im->secret_keys);
			o->carried = true;
			const char *type = str(o->obj, "type");
			if (!json_object_get(secrets, o->name))
				report(im, o, NULL,
				       "is not read by a workload's env or volumes here: its values are kept, encrypted, in the environment's secrets, but no Secret '%s' is rendered (its values never go into the stack document): create it in the cluster",
				       o->name);
			else if (type && strcmp(type, "Opaque") != 0)
				report(im, o, "/type", "its values are in the stack's Secret, which is of type Opaque");
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach(im->secrets_env, key, v)
		set(im, stack_secrets, key, json_string(""));
	json_decref(cms);
	json_decref(secrets);
}

/* The document key of key in the ConfigMap (secret: Secret) name, or NULL when that
 * object is not mapped or has no such key. */
static const char *doc_key(const struct imp *im, bool secret, const char *name, const char *key)
{
	return str(member(secret ? im->secret_keys : im->cm_keys, name), key);
}

/* ==== patches: what the document has no place for ==== */

/* A JSON Patch operation on the rendered workload (value stolen, may be NULL). */
static void op(struct imp *im, struct workload *w, const char *kind, const char *path, json_t *value)
{
	json_t *o = json_pack("{s:s, s:s}", "op", kind, "path", path);
	if (o && value)
		set(im, o, "value", value);
	else
		json_decref(value);
	append(im, w->ops, o);
}

/* op, after a "test" that the list item at item_ptr is named name (so that the patch
 * fails loudly, not silently, if the rendered list is not laid out as expected). */
static void op_named(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		     const char *kind, const char *path, json_t *value)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, BUF_PUTS(&p, item_ptr, "/name"));
	op(im, w, "test", buf_cstr(&p), json_string(name));
	op(im, w, kind, path, value);
	buf_release(&p);
}

static void patch_name(const struct workload *w, const char *what, char out[64])
{
	(void)snprintf(out, 64, "%.*s-%s", (int)(62 - strlen(what)), w->name, what);
}

/* Carries value (copied) to the rendered workload at ptr with the merge patch, and
 * says so at ptr in the report. */
static void carry_merge(struct imp *im, struct workload *w, const char *ptr, const json_t *value, const char *why)
{
	char name[64];
	patch_name(w, "merge", name);
	set_at(im, w->merge, ptr, json_deep_copy(value));
	report(im, w->o, ptr, "%s: carried by the patch '%s'", why, name);
}

/* Carries value (copied) with a JSON Patch "add" at path of the container item_ptr
 * (named name in the render), saying so at report_ptr. */
static void carry_add(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		      const char *path, const json_t *value, const char *report_ptr, const char *why)
{
	char pname[64];
	patch_name(w, "json", pname);
	op_named(im, w, item_ptr, name, "add", path, json_deep_copy(value));
	report(im, w->o, report_ptr, "%s: carried by the patch '%s'", why, pname);
}

/* true when v equals the JSON text dflt. */
static bool is_default(const json_t *v, const char *dflt)
{
	json_t *d = dflt ? json_loads(dflt, JSON_DECODE_ANY, NULL) : NULL;
	bool eq = d && json_equal(d, v);
	json_decref(d);
	return eq;
}

/* A member the importer knows: mapped (dflt NULL), or left to Kubernetes' default value
 * dflt (JSON text), which needs carrying only when the input says otherwise. */
struct known {
	const char *key;
	const char *dflt;
};

/* Calls carry(im, w, key, value, arg) for each member of obj that known does not list,
 * or lists with a default other than its value. */
typedef void (*carry_fn)(struct imp *im, struct workload *w, const char *key, const json_t *value, void *arg);

static void leftovers(struct imp *im, struct workload *w, const json_t *obj, const struct known *known,
		      carry_fn carry, void *arg)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		const struct known *k = known;
		while (k->key && strcmp(k->key, key) != 0)
			k++;
		if (json_is_null(v) || (k->key && (!k->dflt || is_default(v, k->dflt))))
			continue;
		carry(im, w, key, v, arg);
	}
}

/* ==== containers ==== */

/* One container of the input being mapped. Its place in the render may differ from the
 * input's (the service's container is the render's first): at() gives pointers into the
 * input (for the report), rat() into the rendered workload (for the JSON Patch). Each
 * returns a buffer the next call of the same kind overwrites. */
struct cctx {
	struct imp *im;
	struct workload *w;
	const json_t *c;       /* the input container */
	const char *rname;     /* its name in the render (the service's for the main one) */
	struct buf in, out;    /* its JSON Pointer in the input and in the render */
	size_t in_len, out_len; /* their lengths: steps are appended and cut back to them */
	bool main;
};

static const char *extend(struct imp *im, struct buf *b, size_t len, const char *t1, const char *t2)
{
	buf_truncate(b, len);
	if (t1)
		step(im, b, t1);
	if (t2)
		step(im, b, t2);
	return buf_cstr(b);
}

static const char *extendi(struct imp *im, struct buf *b, size_t len, const char *t1, size_t i)
{
	extend(im, b, len, t1, NULL);
	stepi(im, b, i);
	return buf_cstr(b);
}

#define at(x, t1, t2) extend((x)->im, &(x)->in, (x)->in_len, (t1), (t2))
#define ati(x, t1, i) extendi((x)->im, &(x)->in, (x)->in_len, (t1), (i))
#define rat(x, t1, t2) extend((x)->im, &(x)->out, (x)->out_len, (t1), (t2))
#define rati(x, t1, i) extendi((x)->im, &(x)->out, (x)->out_len, (t1), (i))

/* Carries value (copied) with a JSON Patch "add" at the container's member key (and the
 * key under it, when not NULL), reported there. */
static void carry_at(struct cctx *x, const char *key, const char *sub, const json_t *value, const char *why)
{
	char item[512];
	(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
	carry_add(x->im, x->w, item, x->rname, rat(x, key, sub), value, at(x, key, sub), why);
}

/* Carries the container member key (its value copied) with a JSON Patch. */
static void carry_member(struct cctx *x, const char *key, const json_t *value, const char *why)
{
	carry_at(x, key, NULL, value, why);
}

/* ---- env ---- */

/* The key of a secret holding value (importkit_secret_key), with "" in the stack. */
static void literal_secret(struct imp *im, const struct workload *w, const char *var, const char *value,
			   struct buf *key)
{
	(void)oom(im, importkit_secret_key(im->secrets_env, w->name, var, value, key));
	set(im, child(im, im->stack, "secrets"), buf_cstr(key), json_string(""));
}

/* {config|secret: KEY} for a configMapKeyRef / secretKeyRef: the key in the stack's
 * config or secrets when the object was mapped there, else {.., from: NAME} (an object
 * kept whole, or one that exists in the cluster). NULL for an optional reference to
 * something not mapped, which the document cannot say. */
static json_t *key_ref(struct imp *im, bool secret, const json_t *ref)
{
	const char *name = str(ref, "name"), *key = str(ref, "key");
	if (!name || !key || syntax_key(key))
		return NULL;
	const char *mapped = doc_key(im, secret, name, key);
	if (mapped)
		return json_pack("{s:s}", secret ? "secret" : "config", mapped);
	if (truthy(ref, "optional"))
		return NULL;
	return json_pack("{s:s, s:s}", secret ? "secret" : "config", key, "from", name);
}

/* The value of the pod template's label or annotation a fieldPath such as
 * metadata.labels['app.kubernetes.io/component'] reads, or NULL. */
static const char *pod_label_value(const struct workload *w, const char *path)
{
	static const char *const kinds[] = {"labels", "annotations"};
	for (size_t k = 0; path && k < 2; k++) {
		size_t n = strlen(kinds[k]);
		if (strncmp(path, "metadata.", 9) != 0 || strncmp(path + 9, kinds[k], n) != 0 || path[9 + n] != '[')
			continue;
		const char *key = path + 10 + n;
		char quote = *key;
		size_t len = strlen(key);
		if ((quote != '\'' && quote != '"') || len < 3 || key[len - 1] != ']' || key[len - 2] != quote)
			return NULL;
		char name[320];
		if (len - 3 >= sizeof name)
			return NULL;
		memcpy(name, key + 1, len - 3);
		name[len - 3] = '\0';
		return str(member(member(w->tmpl, "metadata"), kinds[k]), name);
	}
	return NULL;
}

/* The document's env source for the input's env entry e, or NULL when it has none. */
static json_t *env_source(struct cctx *x, const json_t *e, size_t i)
{
	static const char *const fields[] = {"metadata.name", "metadata.namespace", "metadata.uid",
					     "spec.nodeName", "spec.serviceAccountName", "status.hostIP",
					     "status.podIP", "status.podIPs", NULL};
	struct imp *im = x->im;
	const char *var = str(e, "name");
	json_t *from = member(e, "valueFrom");
	char tmp[64];
	const char *value = scalar_text(member(e, "value"), tmp, sizeof tmp);
	if (!from && !member(e, "value"))
		value = "";
	if (value && !from) {
		if (!*value || !importkit_secret_name(var) || strstr(value, "$("))
			return json_pack("{s:s}", "value", value);
		struct buf key;
		buf_init(&key, BUF_NO_MAX);
		literal_secret(im, x->w, var, value, &key);
		report(im, x->w->o, ati(x, "env", i),
		       "its name says it is a secret: the value moved to the environment's secrets as '%s'", buf_cstr(&key));
		json_t *s = json_pack("{s:s}", "secret", buf_cstr(&key));
		buf_release(&key);
		return s;
	}
	json_t *cm = member(from, "configMapKeyRef"), *sec = member(from, "secretKeyRef");
	json_t *field = member(from, "fieldRef");
	if (json_object_size(from) != 1)
		return NULL;
	if (cm || sec)
		return key_ref(im, sec != NULL, cm ? cm : sec);
	const char *path = str(field, "fieldPath");
	if (field && is_one_of(path, fields))
		return json_pack("{s:s}", "field", path);
	const char *label = field ? pod_label_value(x->w, path) : NULL;
	if (label) {
		report(im, x->w->o, ati(x, "env", i),
		       "reads a label or annotation of the pod, which manifestd may set otherwise: its value '%s' is written here", label);
		return json_pack("{s:s}", "value", label);
	}
	return NULL;
}

/* envFrom item i: the keys of a mapped ConfigMap or Secret become variables of env (as
 * Kubernetes would make them), else the document's envFrom names the object. */
static void env_from_item(struct cctx *x, const json_t *item, size_t i, json_t *env, json_t *env_from)
{
	struct imp *im = x->im;
	const json_t *cm = member(item, "configMapRef"), *sec = member(item, "secretRef");
	const char *name = str(cm ? cm : sec, "name"), *prefix = str(item, "prefix");
	json_t *keys = name ? member(cm ? im->cm_keys : im->secret_keys, name) : NULL;
	if (!name) {
		report(im, x->w->o, ati(x, "envFrom", i), "names no ConfigMap or Secret: not mapped");
		return;
	}
	if (keys) {
		const char *key;
		json_t *k;
		json_object_foreach(keys, key, k) {
			struct buf var;
			buf_init(&var, BUF_NO_MAX);
			(void)oom(im, BUF_PUTS(&var, prefix ? prefix : "", key));
			if (!syntax_env_name(buf_cstr(&var)))
				set(im, env, buf_cstr(&var), json_pack("{s:O}", cm ? "config" : "secret", k));
			buf_release(&var);
		}
		report(im, x->w->o, ati(x, "envFrom", i),
		       "the %s '%s' is part of the stack's %s here: each of its keys became a variable of env (a key added later is not)",
		       cm ? "ConfigMap" : "Secret", name, cm ? "config" : "secrets");
		return;
	}
	char id[64], label[64];
	label_of(name, false, label);
	unique_key(env_from, *label ? label : "from", id);
	json_t *src = json_pack("{s:s}", cm ? "configMap" : "secret", name);
	if (src && prefix && *prefix)
		set(im, src, "prefix", json_string(prefix));
	if (src && truthy(cm ? cm : sec, "optional"))
		set(im, src, "optional", json_true());
	set(im, env_from, id, src);
}

/* Maps env and envFrom of the container into the document object doc; what the document
 * cannot say is put back at its place in the rendered list by the JSON Patch. */
static void map_env(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	json_t *env = json_object(), *env_from = json_object(), *rest = json_array();
	json_t *positions = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(member(x->c, "envFrom"), i, e)
		env_from_item(x, e, i, env, env_from);
	json_array_foreach(member(x->c, "env"), i, e) {
		const char *var = str(e, "name");
		json_t *src = var && !syntax_env_name(var) ? env_source(x, e, i) : NULL;
		if (src && json_object_get(env, var))
			report(im, x->w->o, ati(x, "env", i), "'%s' is given twice: the last value counts, as in Kubernetes", var);
		if (src) {
			set(im, env, var, src);
			continue;
		}
		append(im, positions, json_integer((json_int_t)(json_object_size(env) + json_array_size(rest))));
		append(im, rest, json_deep_copy(e));
		report(im, x->w->o, ati(x, "env", i), "the document cannot say this variable%s: it is carried by the patch",
		       var && syntax_env_name(var) ? " (its name)" : "");
	}
	if (json_object_size(env))
		set(im, doc, "env", json_incref(env));
	if (json_object_size(env_from))
		set(im, doc, "envFrom", json_incref(env_from));
	char item[512];
	(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
	if (json_array_size(rest) && !json_object_size(env)) {
		op_named(im, x->w, item, x->rname, "add", rat(x, "env", NULL), json_incref(rest));
	} else {
		json_array_foreach(rest, i, e)
			op_named(im, x->w, item, x->rname, "add",
				 rati(x, "env", (size_t)json_integer_value(json_array_get(positions, i))), json_incref(e));
	}
	json_decref(env);
	json_decref(env_from);
	json_decref(rest);
	json_decref(positions);
}

/* ---- ports, as the workload's containers and Service declare them ---- */

/* The document's name of the container port named name, or NULL. */
static const char *port_by_name(const struct cctx *x, const char *name)
{
	char key[128];
	(void)snprintf(key, sizeof key, "%s/%s", x->rname, name);
	return str(member(x->w->ports, key), "name");
}

/* The number of the container port named name, or 0. */
static long long port_number(const struct cctx *x, const char *name)
{
	char key[128];
	(void)snprintf(key, sizeof key, "%s/%s", x->rname, name);
	return json_integer_value(member(member(x->w->ports, key), "number"));
}

/* A probe's or a carried object's port: a number stays; a name becomes the document's
 * port name (into *ret: a new reference), or its number when the document has no such
 * port. false when the name is not a port of the container. */
static bool probe_port(const struct cctx *x, const json_t *port, json_t **ret)
{
	if (json_is_integer(port) && json_integer_value(port) >= 1 && json_integer_value(port) <= 65535) {
		*ret = json_incref((json_t *)port);
		return true;
	}
	const char *name = json_string_value(port);
	const char *doc_name = name ? port_by_name(x, name) : NULL;
	long long number = name ? port_number(x, name) : 0;
	*ret = doc_name ? json_string(doc_name) : number ? json_integer(number) : NULL;
	return *ret != NULL;
}

/* ---- probes ---- */

static const struct known probe_keys[] = {
	{"httpGet", NULL}, {"tcpSocket", NULL}, {"exec", NULL}, {"grpc", NULL}, {"initialDelaySeconds", NULL},
	{"periodSeconds", NULL}, {"timeoutSeconds", NULL}, {"failureThreshold", NULL}, {"successThreshold", NULL},
	{NULL, NULL}};

static void not_mappable(struct imp *im, struct workload *w, const char *key, const json_t *value, void *arg)
{
	(void)im, (void)w, (void)key, (void)value;
	*(bool *)arg = true;
}

/* The handler of a probe (httpGet, tcpSocket, exec or grpc) in the document's terms, or
 * NULL when it says something the document cannot. */
static json_t *probe_handler(struct cctx *x, const json_t *p)
{
	static const char *const kinds[] = {"httpGet", "tcpSocket", "exec", "grpc"};
	json_t *h = NULL, *port = NULL;
	size_t found = 0, k = 0;
	for (size_t i = 0; i < 4; i++)
		if (member(p, kinds[i]))
			found++, k = i;
	const json_t *in = member(p, kinds[k]);
	if (found != 1 || !json_is_object(in))
		return NULL;
	if (k == 0 && (member(in, "host") || !probe_port(x, member(in, "port"), &port)))
		return NULL;
	if (k == 0) {
		h = json_pack("{s:o}", "port", port);
		const char *path = str(in, "path"), *scheme = str(in, "scheme");
		if (path && *path && syntax_http_path(path))
			goto bad;
		if (path && *path && strcmp(path, "/") != 0)
			set(x->im, h, "path", json_string(path));
		if (scheme && strcmp(scheme, "HTTP") != 0)
			set(x->im, h, "scheme", json_string(scheme));
		size_t i;
		json_t *hd;
		json_array_foreach(member(in, "httpHeaders"), i, hd) {
			if (!str(hd, "name") || !str(hd, "value"))
				goto bad;
			set(x->im, child(x->im, h, "headers"), str(hd, "name"), json_string(str(hd, "value")));
		}
	} else if (k == 1) {
		if (!probe_port(x, member(in, "port"), &port))
			return NULL;
		h = json_pack("{s:o}", "port", port);
	} else if (k == 2) {
		json_t *cmd = member(in, "command");
		if (!json_is_array(cmd) || json_array_size(cmd) == 0)
			return NULL;
		h = json_pack("{s:O}", "command", cmd);
	} else {
		long long n = int_of(in, "port", 1, 65535, 0);
		if (!n)
			return NULL;
		h = json_pack("{s:I}", "port", (json_int_t)n);
		if (str(in, "service") && *str(in, "service"))
			set(x->im, h, "service", json_string(str(in, "service")));
	}
	return h ? json_pack("{s:o}", kinds[k], h) : NULL;
bad:
	json_decref(h);
	return NULL;
}

/* The document's probe for the input's probe p, or NULL when the document cannot say
 * it. Timings are copied (timeoutSeconds always: Kubernetes' default is 1). */
static json_t *map_probe(struct cctx *x, const json_t *p)
{
	static const struct {
		const char *key;
		long long min, max, dflt;
	} timings[] = {{"initialDelaySeconds", 0, 3600, 0}, {"periodSeconds", 1, 3600, 10},
		       {"timeoutSeconds", 1, 3600, 1}, {"failureThreshold", 1, 1000, 3},
		       {"successThreshold", 1, 1000, 1}};
	bool other = false;
	leftovers(x->im, x->w, p, probe_keys, not_mappable, &other);
	json_t *out = other ? NULL : probe_handler(x, p);
	for (size_t i = 0; out && i < sizeof timings / sizeof timings[0]; i++) {
		json_t *v = member(p, timings[i].key);
		long long n = int_of(p, timings[i].key, timings[i].min, timings[i].max, -1);
		if (v && n < 0) {
			json_decref(out);
			return NULL;
		}
		if (v || strcmp(timings[i].key, "timeoutSeconds") == 0)
			set(x->im, out, timings[i].key, json_integer(v ? n : timings[i].dflt));
	}
	return out;
}

/* readiness, liveness, startup: mapped, or null (with the input's probe, if any,
 * carried by the JSON Patch). The document's defaults would add probes the input does
 * not have, so a missing readiness or liveness probe is null too. */
static void map_probes(struct cctx *x, json_t *doc, bool sidecar)
{
	static const char *const names[][2] = {{"readinessProbe", "readiness"}, {"livenessProbe", "liveness"},
					      {"startupProbe", "startup"}};
	json_t *probes = json_object();
	for (size_t i = 0; i < 3; i++) {
		const json_t *p = member(x->c, names[i][0]);
		json_t *mapped = p && !x->w->job ? map_probe(x, p) : NULL;
		if (p && !mapped) {
			json_t *copy = json_deep_copy(p);
			for (size_t k = 0; copy && k < 2; k++) {
				json_t *h = member(copy, k ? "tcpSocket" : "httpGet");
				const char *name = str(h, "port");
				long long n = name ? port_number(x, name) : 0;
				if (n) /* rendered ports carry the document's names */
					set(x->im, h, "port", json_integer(n));
			}
			carry_member(x, names[i][0], copy,
				     x->w->job ? "a Job's probes are not part of the document"
					       : "the document cannot say this probe (a host, another field, or a port that is not the container's)");
			json_decref(copy);
		}
		if (mapped)
			set(x->im, probes, names[i][1], mapped);
		else if (i < 2 && !sidecar)
			set(x->im, probes, names[i][1], json_null());
	}
	if (json_object_size(probes))
		set(x->im, doc, "probes", json_incref(probes));
	json_decref(probes);
}

/* An IANA service name: 1-15 of [a-z0-9-], a letter among them, no '-' at the ends or twice. */
static bool port_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool letter = false;
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	return letter;
}

/* The rendered name of container i of the pod's containers: the service's for its main
 * one, else a document key made of its own name. */
static void container_key(const struct workload *w, const json_t *c, size_t i, char out[64])
{
	if (i == w->main) {
		(void)snprintf(out, 64, "%s", w->name);
		return;
	}
	label_of(str(c, "name"), false, out);
	if (!*out)
		(void)snprintf(out, 64, "container-%zu", i);
}

struct port_plan {
	struct imp *im;
	struct workload *w;
	json_t *entries; /* [{container, index, number, protocol, name?, doc?, src}] in container order */
	json_t *docs;    /* container key -> {doc port name -> port} */
	json_t *taken;   /* doc port names */
};

static json_t *find_entry(const struct port_plan *pp, const json_t *target, const char *proto)
{
	size_t i;
	json_t *e;
	json_array_foreach(pp->entries, i, e) {
		bool hit = json_is_integer(target) ? json_integer_value(member(e, "number")) == json_integer_value(target) &&
							     strcmp(str(e, "protocol"), proto) == 0
						   : str(e, "name") && strcmp(str(e, "name"), json_string_value(target)) == 0;
		if (hit)
			return e;
	}
	return NULL;
}

/* A free document port name: want when it is one, else the entry's own, else port-N. */
static void doc_port_name(struct port_plan *pp, const char *want, const json_t *e, char out[64])
{
	const char *own = str(e, "name");
	if (port_name_ok(want) && !json_object_get(pp->taken, want))
		(void)snprintf(out, 64, "%s", want);
	else if (port_name_ok(own) && !json_object_get(pp->taken, own))
		(void)snprintf(out, 64, "%s", own);
	else {
		char base[64];
		(void)snprintf(base, sizeof base, "%s-%lld", strcmp(str(e, "protocol"), "TCP") ? "udp" : "port",
			       (long long)json_integer_value(member(e, "number")));
		unique_key(pp->taken, base, out);
	}
	set(pp->im, pp->taken, out, json_true());
}

/* Gives entry e the document port name and port p (stolen). */
static void place_port(struct port_plan *pp, json_t *e, const char *name, json_t *p)
{
	const char *proto = str(e, "protocol");
	if (p && strcmp(proto, "TCP") != 0)
		set(pp->im, p, "protocol", json_string(proto));
	set(pp->im, child(pp->im, pp->docs, str(e, "container")), name, p);
	set(pp->im, e, "doc", json_string(name));
}

/* The container ports of every container of the pod, as entries. */
static void port_entries(struct port_plan *pp)
{
	const json_t *containers = member(pp->w->pod, "containers");
	size_t i, k;
	json_t *c, *p;
	json_array_foreach(containers, i, c) {
		char key[64];
		container_key(pp->w, c, i, key);
		json_array_foreach(member(c, "ports"), k, p) {
			long long n = int_of(p, "containerPort", 1, 65535, 0);
			const char *proto = str(p, "protocol") ? str(p, "protocol") : "TCP";
			if (!n)
				continue;
			json_t *e = json_pack("{s:s, s:I, s:I, s:I, s:s}", "container", key, "index", (json_int_t)i,
					      "item", (json_int_t)k, "number", (json_int_t)n, "protocol", proto);
			if (e && str(p, "name"))
				set(pp->im, e, "name", json_string(str(p, "name")));
			append(pp->im, pp->entries, e);
		}
	}
}

/* The primary Service's ports, each onto the container port it targets. */
static void service_ports(struct port_plan *pp)
{
	struct imp *im = pp->im;
	const struct object *svc = pp->w->service;
	json_t *spec = member(svc->obj, "spec");
	const char *type = str(spec, "type");
	bool node_ports = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
	size_t j;
	json_t *sp;
	json_array_foreach(member(spec, "ports"), j, sp) {
		char ptr[64], name[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu", j);
		long long port = int_of(sp, "port", 1, 65535, 0);
		const char *proto = str(sp, "protocol") ? str(sp, "protocol") : "TCP";
		json_t *tp = member(sp, "targetPort");
		bool unset = !tp || (json_is_integer(tp) && json_integer_value(tp) == 0); /* 0: the port's */
		json_t *num = unset ? json_integer(port) : NULL;
		json_t *target = num ? num : member(sp, "targetPort");
		json_t *e = port && target ? find_entry(pp, target, proto) : NULL;
		if (!e && json_is_integer(target) && port) {
			e = json_pack("{s:s, s:I, s:I, s:s}", "container", pp->w->name, "index", (json_int_t)0,
				      "number", json_integer_value(target), "protocol", proto);
			append(im, pp->entries, e);
			report(im, svc, ptr, "targets port %lld, which the pods' containers do not declare: the service's container declares it here",
			       (long long)json_integer_value(target));
		}
		json_decref(num);
		if (!e || member(e, "doc")) {
			report(im, svc, ptr, "%s: this Service port is not mapped",
			       !e ? "targets no port of the pods' containers" : "targets a container port another Service port targets already");
			continue;
		}
		doc_port_name(pp, str(sp, "name"), e, name);
		json_t *p = json_pack("{s:I}", "port", (json_int_t)port);
		if (p && json_integer_value(member(e, "number")) != port)
			set(im, p, "targetPort", json_integer(json_integer_value(member(e, "number"))));
		if (p && str(sp, "appProtocol"))
			set(im, p, "appProtocol", json_string(str(sp, "appProtocol")));
		if (p && node_ports && int_of(sp, "nodePort", 30000, 32767, 0))
			set(im, p, "nodePort", json_integer(int_of(sp, "nodePort", 30000, 32767, 0)));
		place_port(pp, e, name, p);
		if (str(sp, "name")) {
			char key[128];
			(void)snprintf(key, sizeof key, "service/%s", str(sp, "name"));
			set(im, pp->w->ports, key, json_pack("{s:s, s:I}", "name", name, "number", (json_int_t)port));
		}
		if (str(sp, "name") && strcmp(str(sp, "name"), name) != 0)
			report(im, svc, ptr, "the port '%s' is called '%s' here (a port name is at most 15 lowercase letters, digits and '-')",
			       str(sp, "name"), name);
	}
}

/* The document ports of the workload's containers (pp->docs: container key -> ports),
 * and w->ports: "CONTAINER/NAME" -> {name, number} for what refers to ports by name. */
static json_t *plan_ports(struct imp *im, struct workload *w)
{
	struct port_plan pp = {im, w, json_array(), json_object(), json_object()};
	if (!pp.entries || !pp.docs || !pp.taken)
		(void)oom(im, -ENOMEM);
	port_entries(&pp);
	if (w->service)
		service_ports(&pp);
	size_t i;
	json_t *e;
	bool told = false;
	json_array_foreach(pp.entries, i, e) {
		if (member(e, "doc") || w->job)
			continue;
		char name[64], ptr[96];
		doc_port_name(&pp, NULL, e, name);
		place_port(&pp, e, name, json_pack("{s:I}", "port", json_integer_value(member(e, "number"))));
		(void)snprintf(ptr, sizeof ptr, "%s/containers/%lld/ports/%lld", w->pod_ptr,
			       (long long)json_integer_value(member(e, "index")), (long long)json_integer_value(member(e, "item")));
		if (w->service && member(e, "item"))
			report(im, w->o, ptr, "is not a port of the Service '%s': the rendered Service offers it too", w->service->name);
		else if (!w->service && !told)
			report(im, w->o, NULL, "no Service selects these pods: a Service '%s' is rendered for the containers' ports", w->name);
		told |= !w->service;
	}
	json_array_foreach(pp.entries, i, e) {
		char key[160];
		json_t *ref = json_pack("{s:I}", "number", json_integer_value(member(e, "number")));
		if (ref && str(e, "doc"))
			set(im, ref, "name", json_string(str(e, "doc")));
		(void)snprintf(key, sizeof key, "%s/%lld/%s", str(e, "container"),
			       (long long)json_integer_value(member(e, "number")), str(e, "protocol"));
		set(im, w->ports, key, json_incref(ref));
		if (str(e, "name")) {
			(void)snprintf(key, sizeof key, "%s/%s", str(e, "container"), str(e, "name"));
			set(im, w->ports, key, json_incref(ref));
		}
		json_decref(ref);
	}
	json_decref(pp.entries);
	json_decref(pp.taken);
	return pp.docs;
}

/* The Service's type, annotations and labels, and what else its spec says (a merge
 * patch on the rendered Service). */
static void map_service(struct imp *im, struct workload *w)
{
	static const struct known spec_keys[] = {
		{"ports", NULL}, {"selector", NULL}, {"type", NULL}, {"sessionAffinity", "\"None\""}, {"externalTrafficPolicy", "\"Cluster\""},
		{"internalTrafficPolicy", "\"Cluster\""}, {"ipFamilyPolicy", "\"SingleStack\""},
		{"publishNotReadyAddresses", "false"}, {"allocateLoadBalancerNodePorts", "true"}, {NULL, NULL}};
	struct object *s = w->service;
	json_t *spec = member(s->obj, "spec"), *meta = member(s->obj, "metadata");
	const char *type = str(spec, "type"), *ip = str(spec, "clusterIP");
	json_t *expose = json_object(), *patch = json_object();
	bool headless = ip && strcmp(ip, "None") == 0;
	if (headless || (type && strcmp(type, "ClusterIP") != 0))
		set(im, expose, "type", json_string(headless ? "Headless" : type));
	if (json_object_size(member(meta, "annotations")))
		set(im, expose, "annotations", json_deep_copy(member(meta, "annotations")));
	const char *key;
	json_t *v;
	json_object_foreach(spec, key, v) {
		const struct known *k = spec_keys;
		while (k->key && strcmp(k->key, key) != 0)
			k++;
		bool ip_key = strcmp(key, "clusterIP") == 0 || strcmp(key, "clusterIPs") == 0;
		if (ip_key ? headless : (k->key && (!k->dflt || is_default(v, k->dflt))) || strcmp(key, "ipFamilies") == 0)
			continue;
		set(im, child(im, patch, "spec"), key, json_deep_copy(v));
	}
	/* the service's labels are on its Service too: only others need the patch */
	json_object_foreach(member(meta, "labels"), key, v)
		if (!reserved_label(key) && !json_equal(v, member(member(w->doc, "labels"), key)))
			set(im, child(im, child(im, patch, "metadata"), "labels"), key, json_deep_copy(v));
	if (json_object_size(expose))
		set(im, w->doc, "expose", json_incref(expose));
	if (json_object_size(patch)) {
		char name[64];
		patch_name(w, "service", name);
		set(im, im->patches, name,
		    json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", "Service", "name", w->name, "merge", patch));
		report(im, s, NULL, "its labels and the fields the document has no place for are carried by the patch '%s'", name);
	}
	if (strcmp(s->name, w->name) != 0)
		report(im, s, "/metadata/name", "is the Service of '%s' here (the Service is named like the service)", w->name);
	json_decref(expose);
	json_decref(patch);
}

/* ---- resources ---- */

/* A quantity as text (numbers written out); NULL when it is not a positive quantity. */
static const char *quantity(const json_t *v, char *tmp, size_t n)
{
	const char *q = scalar_text(v, tmp, n);
	return q && !json_is_boolean(v) && !syntax_quantity(q) ? q : NULL;
}

static long double qvalue(const char *q)
{
	long double v = 0;
	(void)syntax_quantity_value(q, &v);
	return v;
}

/* requests and limits of cpu and memory. Where the input gives a limit only, the request
 * is that limit (as Kubernetes makes it); where it gives no limit, the document's default
 * limit applies (raised to the request when lower), reported. Other resources (GPUs,
 * ephemeral-storage) are carried by the JSON Patch. dflt: the document's default limits
 * for cpu and memory. */
static void map_resources(struct cctx *x, json_t *doc, const char *const dflt[2])
{
	static const char *const names[] = {"cpu", "memory", NULL};
	struct imp *im = x->im;
	const json_t *res = member(x->c, "resources");
	const json_t *req = member(res, "requests"), *lim = member(res, "limits");
	json_t *out = json_object();
	for (size_t i = 0; i < 2; i++) {
		char t1[64], t2[64];
		const char *r = quantity(member(req, names[i]), t1, sizeof t1);
		const char *l = quantity(member(lim, names[i]), t2, sizeof t2);
		if (!r && l)
			r = l;
		if (r && !l && qvalue(r) > qvalue(dflt[i]))
			l = r;
		if (r)
			set(im, child(im, out, "requests"), names[i], json_string(r));
		if (l)
			set(im, child(im, out, "limits"), names[i], json_string(l));
		if (json_object_size(req) + json_object_size(lim) == 0)
			continue;
		if (!member(lim, names[i]))
			report(im, x->w->o, at(x, "resources", NULL), "sets no %s limit: the limit is %s (manifestd's default, or the request)",
			       names[i], l ? l : dflt[i]);
		else if (!quantity(member(lim, names[i]), t2, sizeof t2))
			report(im, x->w->o, at(x, "resources", NULL), "the %s limit is not a quantity above zero: not mapped", names[i]);
	}
	if (json_object_size(req) + json_object_size(lim) == 0)
		report(im, x->w->o, at(x, NULL, NULL), "sets no resources: manifestd's default requests and limits apply");
	if (json_object_size(out))
		set(im, doc, "resources", json_incref(out));
	json_decref(out);
	static const char *const parts[] = {"requests", "limits"};
	for (size_t p = 0; p < 2; p++) {
		const char *key;
		json_t *v;
		json_object_foreach(member(res, parts[p]), key, v) {
			if (is_one_of(key, names))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
			rat(x, "resources", parts[p]);
			step(im, &x->out, key);
			at(x, "resources", parts[p]);
			step(im, &x->in, key);
			carry_add(im, x->w, item, x->rname, buf_cstr(&x->out), v, buf_cstr(&x->in),
				  "the document has cpu and memory only");
		}
	}
}

/* ---- security context ---- */

/* The container's setting key, else the pod's (when pod_too). */
static json_t *sc_get(const struct cctx *x, const char *key, bool pod_too)
{
	json_t *v = member(member(x->c, "securityContext"), key);
	return v || !pod_too ? v : member(member(x->w->pod, "securityContext"), key);
}

static void carry_sc(struct cctx *x, const char *key, json_t *value, const char *why)
{
	carry_at(x, "securityContext", key, value, why);
}

/* What a container's securityContext says beyond the document's fields: privileged,
 * allowPrivilegeEscalation: true and the rest are carried by the JSON Patch. */
static void container_sc_rest(struct cctx *x)
{
	static const struct known keys[] = {
		{"runAsUser", NULL}, {"runAsGroup", NULL}, {"runAsNonRoot", NULL}, {"readOnlyRootFilesystem", NULL},
		{"capabilities", NULL}, {"allowPrivilegeEscalation", "false"}, {"privileged", "false"},
		{"seccompProfile", "{\"type\": \"RuntimeDefault\"}"}, {NULL, NULL}};
	const json_t *sc = member(x->c, "securityContext");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)sc, key, v) {
		const struct known *k = keys;
		while (k->key && strcmp(k->key, key) != 0)
			k++;
		if (k->key && (!k->dflt || is_default(v, k->dflt)))
			continue;
		carry_sc(x, key, v, "the document has no such securityContext setting");
		if (strcmp(key, "privileged") == 0 && json_is_true(v) && !member(sc, "allowPrivilegeEscalation"))
			carry_sc(x, "allowPrivilegeEscalation", json_true(), "a privileged container escalates privileges");
	}
	size_t i;
	json_t *cap;
	json_array_foreach(member(member(sc, "capabilities"), "drop"), i, cap) {
		if (!json_is_string(cap) || strcasecmp(json_string_value(cap), "ALL") != 0) {
			report(x->im, x->w->o, at(x, "securityContext", "capabilities"),
			       "drops some capabilities: here every capability is dropped, then the added ones given back");
			break;
		}
	}
}

/* The capabilities a container adds, without "CAP_" (a new array). */
static json_t *added_caps(const json_t *sc)
{
	json_t *out = json_array();
	size_t i;
	json_t *cap;
	json_array_foreach(member(member(sc, "capabilities"), "add"), i, cap) {
		const char *c = json_string_value(cap);
		if (c && strncmp(c, "CAP_", 4) == 0)
			c += 4;
		if (out && c)
			(void)json_array_append_new(out, json_string(c));
	}
	return out;
}

/* The service's securityContext from the pod's and its main container's. Where neither
 * names a user, manifestd's default (uid 1000, non-root) stays and is reported; a root
 * filesystem the input does not make read-only stays writable. */
static void map_security(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	json_t *out = json_object();
	static const char *const ids[][2] = {{"runAsUser", "1"}, {"runAsGroup", "1"}, {"fsGroup", "0"}};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = sc_get(x, ids[i][0], ids[i][1][0] == '1');
		if (!v && i == 2)
			v = member(member(x->w->pod, "securityContext"), "fsGroup");
		if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2147483647)
			set(im, out, ids[i][0], json_incref(v));
	}
	json_t *non_root = sc_get(x, "runAsNonRoot", true), *uid = member(out, "runAsUser");
	if (json_is_false(non_root) || (uid && json_integer_value(uid) == 0))
		set(im, out, "runAsNonRoot", json_false());
	if (!uid)
		report(im, x->w->o, at(x, "securityContext", NULL),
		       "names no user: the pods run as uid 1000, non-root (manifestd's default)%s; if the image must run as root, set runAsNonRoot false and runAsUser 0",
		       json_is_true(non_root) ? "" : ", where the input runs the image's own user");
	json_t *ro = sc_get(x, "readOnlyRootFilesystem", false);
	set(im, out, "readOnlyRootFilesystem", json_boolean(json_is_true(ro)));
	json_t *caps = added_caps(member(x->c, "securityContext"));
	if (json_array_size(caps))
		set(im, out, "capabilities", json_incref(caps));
	json_decref(caps);
	set(im, doc, "securityContext", json_incref(out));
	json_decref(out);
	container_sc_rest(x);
}

/* ---- volumes ---- */

static void mode_text(long long mode, char out[8])
{
	(void)snprintf(out, 8, "0%03llo", mode & 0777);
}

/* files[path] = {config|secret: document key, mode} for the items (or every key) of a
 * mapped ConfigMap or Secret; false when a key is not mapped. */
static bool add_files(struct imp *im, json_t *files, bool secret, const char *name, const json_t *items,
		      long long dflt_mode)
{
	json_t *keys = member(secret ? im->secret_keys : im->cm_keys, name);
	if (!keys)
		return false;
	json_t *all = NULL;
	if (!json_is_array(items) || json_array_size(items) == 0) {
		all = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(keys, k, v)
			append(im, all, json_pack("{s:s, s:s}", "key", k, "path", k));
		items = all;
	}
	size_t i;
	json_t *item;
	bool ok = true;
	json_array_foreach(items, i, item) {
		const char *key = str(item, "key"), *path = str(item, "path");
		const char *doc = key ? str(keys, key) : NULL;
		if (!doc || !path || json_object_get(files, path)) {
			ok = false;
			break;
		}
		long long mode = int_of(item, "mode", 0, 0777, dflt_mode);
		json_t *f = json_pack("{s:s}", secret ? "secret" : "config", doc);
		if (f && mode >= 0) {
			char m[8];
			mode_text(mode, m);
			set(im, f, "mode", json_string(m));
		}
		set(im, files, path, f);
	}
	json_decref(all);
	return ok;
}

/* The files of a configMap, secret or projected volume, or NULL when the document cannot
 * say them (an object that is not mapped, a downward API or token source). */
static json_t *volume_files(struct imp *im, const json_t *v)
{
	json_t *files = json_object();
	const json_t *cm = member(v, "configMap"), *sec = member(v, "secret"), *proj = member(v, "projected");
	bool ok;
	if (cm || sec) {
		/* Kubernetes' default mode is 0644 for both; the document's is 0400 for secrets */
		long long dflt = int_of(cm ? cm : sec, "defaultMode", 0, 0777, cm ? -1 : 0644);
		ok = add_files(im, files, sec != NULL, str(cm ? cm : sec, cm ? "name" : "secretName"),
			       member(cm ? cm : sec, "items"), dflt);
	} else {
		long long dflt = int_of(proj, "defaultMode", 0, 0777, 0644);
		size_t i;
		json_t *s;
		ok = json_array_size(member(proj, "sources")) > 0;
		json_array_foreach(member(proj, "sources"), i, s) {
			const json_t *pc = member(s, "configMap"), *ps = member(s, "secret");
			if (!ok || json_object_size(s) != 1 || !(pc || ps) ||
			    !add_files(im, files, ps != NULL, str(pc ? pc : ps, "name"), member(pc ? pc : ps, "items"), dflt))
				ok = false;
		}
	}
	if (ok && json_object_size(files))
		return files;
	json_decref(files);
	return NULL;
}

/* The document's source of a pod volume v: emptyDir, files, claim; NULL when it has none. */
static json_t *volume_source(struct imp *im, const json_t *v, bool *ret_read_only)
{
	const json_t *ed = member(v, "emptyDir"), *pvc = member(v, "persistentVolumeClaim");
	if (json_object_size(v) != 2)
		return NULL;
	if (ed) {
		const char *medium = str(ed, "medium");
		char tmp[64];
		const char *size = quantity(member(ed, "sizeLimit"), tmp, sizeof tmp);
		if ((medium && *medium && strcmp(medium, "Memory") != 0) || (member(ed, "sizeLimit") && !size))
			return NULL;
		json_t *out = json_object();
		if (out && medium && *medium)
			set(im, out, "medium", json_string(medium));
		if (out && size)
			set(im, out, "sizeLimit", json_string(size));
		return json_pack("{s:o}", "emptyDir", out);
	}
	if (pvc) {
		*ret_read_only = truthy(pvc, "readOnly");
		return str(pvc, "claimName") ? json_pack("{s:{s:s}}", "claim", "name", str(pvc, "claimName")) : NULL;
	}
	if (member(v, "configMap") || member(v, "secret") || member(v, "projected")) {
		json_t *files = volume_files(im, v);
		return files ? json_pack("{s:o}", "files", files) : NULL;
	}
	return NULL;
}

/* A volumeClaimTemplate as a persistent volume; NULL when its size is not a quantity. */
static json_t *claim_template(struct imp *im, const json_t *t)
{
	json_t *spec = member(t, "spec");
	char tmp[64];
	const char *size = quantity(member(member(member(spec, "resources"), "requests"), "storage"), tmp, sizeof tmp);
	if (!size)
		return NULL;
	json_t *p = json_pack("{s:s}", "size", size);
	const char *cls = str(spec, "storageClassName");
	if (!cls)
		cls = str(member(member(t, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
	if (p && cls && *cls)
		set(im, p, "className", json_string(cls));
	const char *mode = json_string_value(json_array_get(member(spec, "accessModes"), 0));
	if (p && mode && strcmp(mode, "ReadWriteOnce") != 0)
		set(im, p, "accessMode", json_string(mode));
	return json_pack("{s:o}", "persistent", p);
}

/* The pod volume (or, isvct, the volumeClaimTemplate) named name, or NULL. */
static json_t *pod_volume(const struct workload *w, const char *name, bool *ret_vct, size_t *ret_index)
{
	size_t i;
	json_t *v;
	json_array_foreach(member(w->pod, "volumes"), i, v) {
		if (str(v, "name") && strcmp(str(v, "name"), name) == 0) {
			*ret_vct = false;
			*ret_index = i;
			return v;
		}
	}
	json_array_foreach(member(member(w->o->obj, "spec"), "volumeClaimTemplates"), i, v) {
		if (str(member(v, "metadata"), "name") && strcmp(str(member(v, "metadata"), "name"), name) == 0) {
			*ret_vct = true;
			*ret_index = i;
			return v;
		}
	}
	return NULL;
}

static const struct known mount_keys[] = {{"name", NULL}, {"mountPath", NULL}, {"readOnly", NULL}, {"subPath", NULL},
					  {"mountPropagation", "\"None\""}, {NULL, NULL}};

/* mountPath, readOnly, subPath of a mount into out (a document volume or mount). */
static bool mount_fields(struct imp *im, const json_t *m, json_t *out)
{
	const char *path = str(m, "mountPath"), *sub = str(m, "subPath");
	if (!path || syntax_http_path(path) || strchr(path, ':') || (sub && *sub && (sub[0] == '/' || strstr(sub, ".."))))
		return false;
	set(im, out, "mountPath", json_string(path));
	if (truthy(m, "readOnly"))
		set(im, out, "readOnly", json_true());
	if (sub && *sub)
		set(im, out, "subPath", json_string(sub));
	return true;
}

struct volume_plan {
	json_t *vols;    /* the document's volumes */
	json_t *keys;    /* input volume name -> document volume key */
	size_t pod_vols; /* volumes the render puts in the pod spec so far (persistent ones are claims) */
};

/* Adds the document volume for the input volume name, mounted as m (NULL: mounted by
 * other containers only: the mount in the service's container is then removed again).
 * false when the document cannot hold it. */
static bool add_volume(struct cctx *x, struct volume_plan *vp, const char *name, const json_t *m, const char *mptr)
{
	struct imp *im = x->im;
	bool vct = false, read_only = false;
	size_t index;
	json_t *src = pod_volume(x->w, name, &vct, &index);
	if (!src) {
		report(im, x->w->o, mptr, "names no volume of the pod: not mapped");
		return false;
	}
	char key[64], label[64];
	label_of(name, false, label);
	unique_key(vp->vols, *label ? label : "volume", key);
	json_t *v = vct ? claim_template(im, src) : volume_source(im, src, &read_only);
	char vptr[96];
	if (vct)
		(void)snprintf(vptr, sizeof vptr, "/spec/volumeClaimTemplates/%zu", index);
	else
		(void)snprintf(vptr, sizeof vptr, "%s/volumes/%zu", x->w->pod_ptr, index);
	if (!v && vct) {
		report(im, x->w->o, vptr, "has no storage size: not mapped");
		return false;
	}
	bool placeholder = !v;
	if (placeholder)
		v = json_pack("{s:{}}", "emptyDir");
	if (m && !mount_fields(im, m, v)) {
		report(im, x->w->o, mptr, "is not a mount the document can say (an absolute path without ':'): not mapped");
		json_decref(v);
		return false;
	}
	if (m && read_only)
		set(im, v, "readOnly", json_true());
	set(im, vp->vols, key, v);
	set(im, vp->keys, name, json_string(key));
	if (placeholder) {
		char item[128], pname[64];
		(void)snprintf(item, sizeof item, "%s/volumes/%zu", x->w->pod_ptr, vp->pod_vols);
		json_t *copy = json_deep_copy(src);
		set(im, copy, "name", json_string(key));
		op_named(im, x->w, item, key, "replace", item, copy);
		patch_name(x->w, "json", pname);
		report(im, x->w->o, vptr,
		       "the document cannot say this volume's source: it is an emptyDir '%s' there, which the patch '%s' replaces with it",
		       key, pname);
	}
	if (!vct)
		vp->pod_vols++;
	return true;
}

static void map_main_mounts(struct cctx *x, struct volume_plan *vp)
{
	struct imp *im = x->im;
	size_t i;
	json_t *m;
	json_array_foreach(member(x->c, "volumeMounts"), i, m) {
		const char *name = str(m, "name");
		char mptr[512];
		(void)snprintf(mptr, sizeof mptr, "%s", ati(x, "volumeMounts", i));
		if (!name)
			continue;
		if (member(vp->keys, name)) {
			json_t *copy = json_deep_copy(m);
			set(im, copy, "name", json_string(str(vp->keys, name)));
			op(im, x->w, "add", rat(x, "volumeMounts", "-"), copy);
			report(im, x->w->o, mptr, "mounts a volume a second time: carried by the patch");
			continue;
		}
		if (!add_volume(x, vp, name, m, mptr))
			continue;
		const char *key;
		json_t *v;
		json_object_foreach(m, key, v) {
			const struct known *k = mount_keys;
			while (k->key && strcmp(k->key, key) != 0)
				k++;
			if (k->key && (!k->dflt || is_default(v, k->dflt)))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rati(x, "volumeMounts", json_object_size(vp->vols) - 1));
			step(im, &x->out, key);
			carry_add(im, x->w, item, str(vp->keys, name), buf_cstr(&x->out), v, mptr,
				  "the document has no such mount setting");
		}
	}
}

/* ---- images ---- */

/* [registry/]repository[:tag][@digest] as slices of s. The registry is the first
 * component when it looks like a host ('.', ':' or localhost), with the repository's
 * path up to its last component (so images of one registry path share it). */
struct image_ref {
	const char *s;
	size_t reg_len;             /* s[0, reg_len) */
	size_t repo_off, repo_len;
	size_t tag_off, tag_len;    /* tag_len 0: none */
	size_t dig_off, dig_len;
};

static void image_split(const char *s, struct image_ref *r)
{
	*r = (struct image_ref){.s = s};
	const char *at = strchr(s, '@');
	size_t name_len = at ? (size_t)(at - s) : strlen(s);
	if (at)
		r->dig_off = name_len + 1, r->dig_len = strlen(at + 1);
	const char *last_slash = NULL;
	for (size_t i = 0; i < name_len; i++)
		if (s[i] == '/')
			last_slash = s + i;
	const char *colon = NULL;
	for (const char *p = last_slash ? last_slash : s; p < s + name_len; p++)
		if (*p == ':')
			colon = p;
	size_t repo_end = colon ? (size_t)(colon - s) : name_len;
	if (colon)
		r->tag_off = repo_end + 1, r->tag_len = name_len - repo_end - 1;
	const char *slash = memchr(s, '/', repo_end);
	size_t first = slash ? (size_t)(slash - s) : 0;
	bool host = slash && (memchr(s, '.', first) || memchr(s, ':', first) ||
			      (first == 9 && memcmp(s, "localhost", 9) == 0));
	if (host)
		r->reg_len = (size_t)(last_slash - s);
	r->repo_off = host ? r->reg_len + 1 : 0;
	r->repo_len = repo_end - r->repo_off;
}

static json_t *slice(const struct image_ref *r, size_t off, size_t len)
{
	return json_stringn(r->s + off, len);
}

/* A tag the document takes: given, and not "latest". */
static bool pinned(const struct image_ref *r)
{
	return r->tag_len > 0 && !(r->tag_len == 6 && memcmp(r->s + r->tag_off, "latest", 6) == 0);
}

/* A full image reference the document takes for another container: with a tag that is
 * not latest, and a repository and registry of the right form. */
static bool full_ref_ok(const char *ref)
{
	struct image_ref r;
	image_split(ref, &r);
	return pinned(&r) && !syntax_image_ref(ref);
}

/* The main container's image: repository, registry, tag, digest, pull policy (counted,
 * for the top-level image). An image without a tag, or "latest" (which the document
 * refuses), gets the tag UNTAGGED and the JSON Patch puts the input's image back. */
static void map_image(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	const char *ref = str(x->c, "image");
	if (!ref || !*ref) {
		report(im, x->w->o, at(x, "image", NULL), "no image: the service cannot be rendered without one");
		return;
	}
	struct image_ref r;
	image_split(ref, &r);
	json_t *img = json_pack("{s:o, s:o}", "repository", slice(&r, r.repo_off, r.repo_len), "registry",
				slice(&r, 0, r.reg_len));
	if (img && r.dig_len)
		set(im, img, "digest", slice(&r, r.dig_off, r.dig_len));
	bool untagged = !pinned(&r) && !r.dig_len;
	set(im, img, "tag", untagged ? json_string(UNTAGGED) : r.tag_len ? slice(&r, r.tag_off, r.tag_len) : json_string(""));
	if (untagged) {
		char item[512], pname[64];
		(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
		op_named(im, x->w, item, x->rname, "replace", rat(x, "image", NULL), json_string(ref));
		patch_name(x->w, "json", pname);
		report(im, x->w->o, at(x, "image", NULL),
		       "has no tag, or latest, and the document needs one: it says '" UNTAGGED "', and the patch '%s' puts '%s' back; pin a tag and drop that operation",
		       pname, ref);
	}
	const char *policy = str(x->c, "imagePullPolicy");
	if (!policy)
		policy = pinned(&r) || r.dig_len ? "IfNotPresent" : "Always";
	set(im, img, "pullPolicy", json_string(policy));
	set(im, doc, "image", img);
	if (img) {
		const char *keys[] = {"registry", "pullPolicy", "tag"};
		json_t *counts[] = {im->registries, im->policies, im->tags};
		for (size_t i = 0; i < (untagged ? 2u : 3u); i++)
			(void)oom(im, importkit_count(counts[i], str(img, keys[i])));
	}
}

/* command, args, workingDir of the container into doc. */
static void map_command(struct cctx *x, json_t *doc)
{
	static const char *const keys[] = {"command", "args"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = member(x->c, keys[i]);
		bool strings = json_is_array(v);
		size_t k;
		json_t *item;
		json_array_foreach(v, k, item)
			strings &= json_is_string(item);
		if (strings)
			set(x->im, doc, keys[i], json_deep_copy(v));
		else if (v)
			carry_member(x, keys[i], v, "is not a list of strings");
	}
	const char *dir = str(x->c, "workingDir");
	if (dir && *dir && !syntax_http_path(dir) && !strchr(dir, ':'))
		set(x->im, doc, "workingDir", json_string(dir));
	else if (dir && *dir)
		carry_member(x, "workingDir", member(x->c, "workingDir"), "is not a path the document takes");
}

/* lifecycle: a preStop sleep is the document's preStopSleepSeconds; the rest is carried. */
static void map_lifecycle(struct cctx *x, json_t *doc)
{
	const json_t *lc = member(x->c, "lifecycle"), *pre = member(lc, "preStop");
	const json_t *cmd = member(member(pre, "exec"), "command");
	long long secs = -1;
	json_t *sleep = member(pre, "sleep");
	if (sleep && json_object_size(pre) == 1)
		secs = int_of(sleep, "seconds", 1, 3600, -1);
	if (json_array_size(cmd) == 2 && json_object_size(pre) == 1 && json_is_string(json_array_get(cmd, 0)) &&
	    strcmp(json_string_value(json_array_get(cmd, 0)), "sleep") == 0) {
		long long n;
		if (util_parse_int(json_string_value(json_array_get(cmd, 1)), 1, 3600, &n) == 0)
			secs = n;
	}
	if (secs > 0 && json_object_size(lc) == 1 && doc) {
		set(x->im, child(x->im, doc, "scheduling"), "preStopSleepSeconds", json_integer(secs));
		return;
	}
	if (lc)
		carry_member(x, "lifecycle", lc, "the document has a preStop sleep only");
}

static const struct known container_keys[] = {
	{"name", NULL}, {"image", NULL}, {"imagePullPolicy", NULL}, {"command", NULL}, {"args", NULL},
	{"workingDir", NULL}, {"ports", NULL}, {"env", NULL}, {"envFrom", NULL}, {"resources", NULL},
	{"volumeMounts", NULL}, {"readinessProbe", NULL}, {"livenessProbe", NULL}, {"startupProbe", NULL},
	{"securityContext", NULL}, {"lifecycle", NULL}, {"terminationMessagePath", "\"/dev/termination-log\""},
	{"terminationMessagePolicy", "\"File\""}, {"stdin", "false"}, {"stdinOnce", "false"}, {"tty", "false"},
	{NULL, NULL}};

static void carry_container_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)im, (void)w;
	carry_member(arg, key, v, "the document has no such container field");
}

/* The container's document ports (from the port plan), with hostPort and the like of
 * each carried onto its rendered item. Jobs have no ports in the document: theirs are
 * carried whole. */
static void map_container_ports(struct cctx *x, json_t *doc, const json_t *plan)
{
	struct imp *im = x->im;
	json_t *ports = member(plan, x->rname);
	if (x->w->job) {
		if (json_array_size(member(x->c, "ports")))
			carry_member(x, "ports", member(x->c, "ports"), "a Job has no ports in the document");
		return;
	}
	if (json_object_size(ports))
		set(im, doc, "ports", json_incref(ports));
	size_t i;
	json_t *p;
	json_array_foreach(member(x->c, "ports"), i, p) {
		char key[160];
		(void)snprintf(key, sizeof key, "%s/%lld/%s", x->rname, (long long)int_of(p, "containerPort", 1, 65535, 0),
			       str(p, "protocol") ? str(p, "protocol") : "TCP");
		const char *doc_name = str(member(x->w->ports, key), "name");
		size_t pos = 0;
		const char *k;
		json_t *v;
		json_object_foreach(ports, k, v) {
			if (doc_name && strcmp(k, doc_name) == 0)
				break;
			pos++;
		}
		static const char *const extras[] = {"hostPort", "hostIP"};
		for (size_t e = 0; doc_name && e < 2; e++) {
			if (!member(p, extras[e]))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rati(x, "ports", pos));
			step(im, &x->out, extras[e]);
			carry_add(im, x->w, item, doc_name, buf_cstr(&x->out), member(p, extras[e]), ati(x, "ports", i),
				  "the document has no host ports");
		}
	}
}

/* The main container: the service's image, command, ports, env, probes, resources,
 * security, volumes, lifecycle; the rest carried. */
static void map_main(struct cctx *x, const json_t *plan, struct volume_plan *vp)
{
	static const char *const dflt[] = {"1", "512Mi"};
	json_t *doc = x->w->doc;
	map_image(x, doc);
	map_command(x, doc);
	map_container_ports(x, doc, plan);
	map_env(x, doc);
	map_probes(x, doc, false);
	map_resources(x, doc, dflt);
	map_security(x, doc);
	map_main_mounts(x, vp);
	map_lifecycle(x, doc);
	leftovers(x->im, x->w, x->c, container_keys, carry_container_member, x);
}

/* A container's mounts, by the document's volume names; a volume only other containers
 * mount is added to the service too, and its mount in the service's container removed
 * again by the patch (see finish_volumes). */
static void map_mounts(struct cctx *x, struct cctx *main, json_t *doc, struct volume_plan *vp, json_t *removals)
{
	struct imp *im = x->im;
	json_t *mounts = json_object();
	size_t i;
	json_t *m;
	json_array_foreach(member(x->c, "volumeMounts"), i, m) {
		const char *name = str(m, "name");
		char mptr[512];
		(void)snprintf(mptr, sizeof mptr, "%s", ati(x, "volumeMounts", i));
		if (name && !member(vp->keys, name)) {
			/* the service's container mounts it where this one does, or elsewhere when
			 * that path is taken; the patch removes that mount again */
			char path[96];
			(void)snprintf(path, sizeof path, "/mnt/import-%zu", json_object_size(vp->vols));
			const char *want = str(m, "mountPath"), *k;
			json_t *v;
			json_object_foreach(vp->vols, k, v)
				if (want && str(v, "mountPath") && strcmp(str(v, "mountPath"), want) == 0)
					want = NULL;
			json_t *fake = json_pack("{s:s}", "mountPath", want ? want : path);
			if (add_volume(main, vp, name, fake, mptr))
				append(im, removals, json_pack("[I, s]", (json_int_t)(json_object_size(vp->vols) - 1),
							       str(vp->keys, name)));
			json_decref(fake);
		}
		const char *key = name ? str(vp->keys, name) : NULL;
		json_t *mount = json_object();
		if (key && !member(mounts, key) && mount_fields(im, m, mount)) {
			set(im, mounts, key, json_incref(mount));
		} else if (key) {
			json_t *copy = json_deep_copy(m);
			set(im, copy, "name", json_string(key));
			op(im, x->w, "add", rat(x, "volumeMounts", "-"), copy);
			report(im, x->w->o, mptr, "a second mount of one volume (or one the document cannot say): carried by the patch");
		}
		json_decref(mount);
	}
	if (json_object_size(mounts))
		set(im, doc, "volumeMounts", json_incref(mounts));
	json_decref(mounts);
}

/* An init container or a sidecar: a document container; what it cannot say, carried. */
static json_t *map_other(struct cctx *x, struct cctx *main, const json_t *plan, struct volume_plan *vp,
			 json_t *removals, bool sidecar)
{
	static const char *const dflt[] = {"200m", "128Mi"};
	struct imp *im = x->im;
	json_t *doc = json_object();
	const char *ref = str(x->c, "image");
	if (ref && full_ref_ok(ref)) {
		set(im, doc, "image", json_string(ref));
	} else {
		struct image_ref r;
		image_split(ref ? ref : "", &r);
		struct buf b;
		buf_init(&b, BUF_NO_MAX);
		(void)oom(im, buf_printf(&b, "%.*s:" UNTAGGED, (int)(r.tag_len ? r.tag_off - 1 : r.dig_len ? r.dig_off - 1 : strlen(r.s)), r.s));
		set(im, doc, "image", json_string(buf_cstr(&b)));
		if (ref)
			carry_member(x, "image", member(x->c, "image"),
				     "has no tag, or latest (which the document refuses): the document says ':" UNTAGGED "', the patch puts the image back");
		buf_release(&b);
	}
	map_command(x, doc);
	if (sidecar) {
		map_container_ports(x, doc, plan);
		map_probes(x, doc, true);
	} else {
		static const char *const carried[] = {"ports", "readinessProbe", "livenessProbe", "startupProbe"};
		for (size_t i = 0; i < 4; i++)
			if (member(x->c, carried[i]))
				carry_member(x, carried[i], member(x->c, carried[i]), "the document gives init containers none");
	}
	map_env(x, doc);
	map_resources(x, doc, dflt);
	map_mounts(x, main, doc, vp, removals);
	json_t *uid = sc_get(x, "runAsUser", false);
	json_t *service_uid = member(member(x->w->doc, "securityContext"), "runAsUser");
	if (json_is_integer(uid) && (!service_uid || !json_equal(uid, service_uid)))
		set(im, doc, "runAsUser", json_incref(uid));
	container_sc_rest(x);
	/* the service's settings, as the document resolves them, apply to every container */
	json_t *sc = member(x->w->doc, "securityContext");
	json_t *group = member(sc, "runAsGroup") ? member(sc, "runAsGroup") : member(sc, "runAsUser");
	json_t *theirs[] = {group, member(sc, "runAsNonRoot"), member(sc, "readOnlyRootFilesystem")};
	json_t *fallback[] = {json_integer(1000), json_true(), json_false()};
	static const char *const sc_more[] = {"runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem"};
	for (size_t i = 0; i < 3; i++) {
		json_t *mine = sc_get(x, sc_more[i], false);
		if (mine && !json_equal(mine, theirs[i] ? theirs[i] : fallback[i]))
			carry_sc(x, sc_more[i], mine, "differs from the service's container");
		json_decref(fallback[i]);
	}
	json_t *caps = added_caps(member(x->c, "securityContext"));
	if (json_array_size(caps))
		carry_sc(x, "capabilities", member(member(x->c, "securityContext"), "capabilities"),
			 "the document adds capabilities to the service's container only");
	json_decref(caps);
	const char *policy = str(x->c, "imagePullPolicy");
	const char *service_policy = str(member(x->w->doc, "image"), "pullPolicy");
	if (policy && service_policy && strcmp(policy, service_policy) != 0)
		carry_member(x, "imagePullPolicy", member(x->c, "imagePullPolicy"), "differs from the service's");
	if (member(x->c, "lifecycle"))
		map_lifecycle(x, NULL);
	leftovers(im, x->w, x->c, container_keys, carry_container_member, x);
	return doc;
}

/* ---- the pod ---- */

static void carry_pod_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)arg;
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, buf_puts(&p, w->pod_ptr));
	step(im, &p, key);
	carry_merge(im, w, buf_cstr(&p), v, "the document has no such pod field");
	buf_release(&p);
}

static void carry_pod_sc(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)arg;
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, BUF_PUTS(&p, w->pod_ptr, "/securityContext"));
	step(im, &p, key);
	carry_merge(im, w, buf_cstr(&p), v, "the document has no such pod securityContext setting");
	buf_release(&p);
}

/* Labels (or annotations) of the input without the ones manifestd sets itself; those
 * are reported at ptr. NULL when none is left. */
static json_t *own_labels(struct imp *im, const struct workload *w, const json_t *labels, const char *ptr)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)labels, key, v) {
		char tmp[64];
		const char *text = scalar_text(v, tmp, sizeof tmp);
		if (reserved_label(key) || !text)
			continue;
		set(im, out, key, json_string(text));
	}
	if (json_object_size(out) < json_object_size(labels))
		report(im, w->o, ptr, "app.kubernetes.io/name, instance, version, component, part-of, managed-by and helm.sh/chart are set by manifestd: theirs are not kept");
	if (json_object_size(out))
		return out;
	json_decref(out);
	return NULL;
}

static json_t *own_annotations(const json_t *annotations)
{
	static const char *const drop[] = {"kubectl.kubernetes.io/last-applied-configuration",
					   "deployment.kubernetes.io/revision", NULL};
	json_t *out = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)annotations, key, v) {
		char tmp[64];
		const char *text = scalar_text(v, tmp, sizeof tmp);
		/* helm's checksum annotations: manifestd writes its own, of what each pod reads */
		if (out && text && !is_one_of(key, drop) && strncmp(key, "checksum/", 9) != 0)
			(void)json_object_set_new(out, key, json_string(text));
	}
	if (json_object_size(out))
		return out;
	json_decref(out);
	return NULL;
}

/* nodeSelector, tolerations, affinity, priority class, grace period, topology spread
 * (the input's own constraints: spread none, theirs carried). */
static void map_scheduling(struct imp *im, struct workload *w)
{
	const json_t *pod = w->pod;
	json_t *s = child(im, w->doc, "scheduling");
	json_t *sel = member(pod, "nodeSelector");
	if (json_object_size(sel))
		set(im, s, "nodeSelector", json_deep_copy(sel));
	json_t *tol = member(pod, "tolerations");
	if (json_array_size(tol))
		set(im, s, "tolerations", json_deep_copy(tol));
	json_t *aff = member(pod, "affinity");
	if (json_object_size(aff))
		set(im, s, "affinity", json_deep_copy(aff));
	if (str(pod, "priorityClassName"))
		set(im, s, "priorityClassName", json_string(str(pod, "priorityClassName")));
	long long grace = int_of(pod, "terminationGracePeriodSeconds", 0, 86400, -1);
	if (grace >= 0 && grace != 30)
		set(im, s, "terminationGracePeriodSeconds", json_integer(grace));
	if (member(pod, "topologySpreadConstraints")) {
		set(im, s, "spread", json_string("none"));
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		(void)oom(im, BUF_PUTS(&p, w->pod_ptr, "/topologySpreadConstraints"));
		carry_merge(im, w, buf_cstr(&p), member(pod, "topologySpreadConstraints"),
			    "the document's spread is one soft or hard constraint over nodes");
		buf_release(&p);
	}
}

/* The pod's service account: one the input declares is rendered by the first service
 * that uses it (others use it by name); one it does not declare is used by name. */
static void map_account(struct imp *im, struct workload *w)
{
	const char *name = str(w->pod, "serviceAccountName");
	if (!name)
		name = str(w->pod, "serviceAccount");
	json_t *auto_mount = member(w->pod, "automountServiceAccountToken");
	if (!name) {
		if (json_is_true(auto_mount))
			set(im, child(im, w->doc, "serviceAccount"), "automountToken", json_true());
		return;
	}
	json_t *sa = json_object();
	struct object *decl = NULL;
	for (size_t i = 0; i < im->nobjs && !decl; i++)
		if (im->objs[i].role == R_ACCOUNT && strcmp(im->objs[i].name, name) == 0)
			decl = &im->objs[i];
	const char *owner = str(im->accounts, name);
	if (!decl || owner || strcmp(name, "default") == 0 || syntax_dns_label(name)) {
		set(im, sa, "create", json_false());
	} else {
		set(im, im->accounts, name, json_string(w->name));
		decl->carried = true;
		json_t *ann = own_annotations(member(member(decl->obj, "metadata"), "annotations"));
		if (ann)
			set(im, sa, "annotations", ann);
		if (!auto_mount)
			auto_mount = member(decl->obj, "automountServiceAccountToken");
		static const char *const rest[] = {"secrets", "imagePullSecrets"};
		for (size_t i = 0; i < 2; i++) {
			if (!member(decl->obj, rest[i]))
				continue;
			char pname[64];
			patch_name(w, "account", pname);
			json_t *patch = json_pack("{s:{s:s, s:s}, s:{s:O}}", "target", "kind", "ServiceAccount", "name", name,
						  "merge", rest[i], member(decl->obj, rest[i]));
			set(im, im->patches, pname, patch);
			report(im, decl, NULL, "%s is carried by the patch '%s'", rest[i], pname);
		}
	}
	if (strcmp(name, w->name) != 0)
		set(im, sa, "name", json_string(name));
	/* a pod that names an account means to use it: Kubernetes mounts its token unless told not to */
	set(im, sa, "automountToken", json_boolean(!json_is_false(auto_mount)));
	set(im, w->doc, "serviceAccount", sa);
}

static const struct known pod_keys[] = {
	{"containers", NULL}, {"initContainers", NULL}, {"volumes", NULL}, {"serviceAccountName", NULL},
	{"serviceAccount", NULL}, {"automountServiceAccountToken", NULL}, {"securityContext", NULL},
	{"nodeSelector", NULL}, {"tolerations", NULL}, {"affinity", NULL}, {"priorityClassName", NULL},
	{"terminationGracePeriodSeconds", NULL}, {"imagePullSecrets", NULL}, {"topologySpreadConstraints", NULL},
	{"restartPolicy", NULL}, {"dnsPolicy", "\"ClusterFirst\""}, {"schedulerName", "\"default-scheduler\""},
	{"enableServiceLinks", "false"}, {"shareProcessNamespace", "false"}, {"hostNetwork", "false"},
	{"hostPID", "false"}, {"hostIPC", "false"}, {NULL, NULL}};

static const struct known pod_sc_keys[] = {
	{"runAsUser", NULL}, {"runAsGroup", NULL}, {"fsGroup", NULL}, {"runAsNonRoot", NULL},
	{"seccompProfile", "{\"type\": \"RuntimeDefault\"}"}, {NULL, NULL}};

static void map_pod_rest(struct imp *im, struct workload *w)
{
	const json_t *pod = w->pod;
	leftovers(im, w, pod, pod_keys, carry_pod_member, NULL);
	leftovers(im, w, member(pod, "securityContext"), pod_sc_keys, carry_pod_sc, NULL);
	const char *restart = str(pod, "restartPolicy");
	if (w->job && restart && strcmp(restart, "Never") == 0)
		set(im, child(im, w->doc, "job"), "restartPolicy", json_string(restart));
	else if (restart && strcmp(restart, w->job ? "OnFailure" : "Always") != 0)
		carry_pod_member(im, w, "restartPolicy", member(pod, "restartPolicy"), NULL);
	json_t *secrets = member(pod, "imagePullSecrets");
	const char *first = str(json_array_get(secrets, 0), "name");
	if (first)
		(void)oom(im, importkit_count(im->pull_secrets, first));
	if (json_array_size(secrets) > 1)
		carry_pod_member(im, w, "imagePullSecrets", secrets, NULL);
}

/* ---- the workload ---- */

static void carry_spec_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, buf_puts(&p, arg ? (const char *)arg : "/spec"));
	step(im, &p, key);
	carry_merge(im, w, buf_cstr(&p), v, "the document has no such field");
	buf_release(&p);
}

/* Job settings of spec (a Job's, or a CronJob's jobTemplate.spec) into the document. */
static void map_job(struct imp *im, struct workload *w, const json_t *spec, const char *ptr)
{
	static const struct {
		const char *key;
		long long min, max;
	} ints[] = {{"backoffLimit", 0, 1000}, {"activeDeadlineSeconds", 1, 31536000},
		    {"ttlSecondsAfterFinished", 0, 31536000}, {"completions", 1, 100000}, {"parallelism", 1, 100000}};
	static const struct known keys[] = {
		{"template", NULL}, {"backoffLimit", NULL}, {"activeDeadlineSeconds", NULL},
		{"ttlSecondsAfterFinished", NULL}, {"completions", NULL}, {"parallelism", NULL}, {"selector", NULL},
		{"manualSelector", "false"}, {"suspend", "false"}, {"completionMode", "\"NonIndexed\""}, {NULL, NULL}};
	json_t *job = child(im, w->doc, "job");
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		json_t *v = member(spec, ints[i].key);
		long long n = int_of(spec, ints[i].key, ints[i].min, ints[i].max, -1);
		if (n >= 0)
			set(im, job, ints[i].key, json_integer(n));
		else if (v)
			carry_spec_member(im, w, ints[i].key, v, (void *)ptr);
	}
	if (!member(spec, "ttlSecondsAfterFinished"))
		report(im, w->o, ptr, "keeps finished Jobs (no ttlSecondsAfterFinished): here they are deleted after a day, manifestd's default");
	leftovers(im, w, spec, keys, carry_spec_member, (void *)ptr);
	if (!json_object_size(job))
		(void)json_object_del(w->doc, "job");
}

static void map_cron(struct imp *im, struct workload *w, const json_t *spec)
{
	static const struct known keys[] = {
		{"schedule", NULL}, {"timeZone", NULL}, {"concurrencyPolicy", NULL}, {"successfulJobsHistoryLimit", NULL},
		{"failedJobsHistoryLimit", NULL}, {"startingDeadlineSeconds", NULL}, {"suspend", NULL},
		{"jobTemplate", NULL}, {NULL, NULL}};
	json_t *cron = child(im, w->doc, "cron");
	const char *sched = str(spec, "schedule");
	if (sched)
		set(im, cron, "schedule", json_string(sched));
	if (str(spec, "timeZone"))
		set(im, cron, "timeZone", json_string(str(spec, "timeZone")));
	/* Kubernetes' default is Allow, the document's Forbid */
	set(im, cron, "concurrencyPolicy", json_string(str(spec, "concurrencyPolicy") ? str(spec, "concurrencyPolicy") : "Allow"));
	static const char *const ints[] = {"successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"};
	for (size_t i = 0; i < 3; i++) {
		long long n = int_of(spec, ints[i], 0, i < 2 ? 100 : 31536000, -1);
		if (n >= 0)
			set(im, cron, ints[i], json_integer(n));
		else if (member(spec, ints[i]))
			carry_spec_member(im, w, ints[i], member(spec, ints[i]), NULL);
	}
	if (truthy(spec, "suspend"))
		set(im, cron, "suspend", json_true());
	leftovers(im, w, spec, keys, carry_spec_member, NULL);
	json_t *jt = member(spec, "jobTemplate");
	json_t *jt_meta = member(jt, "metadata");
	if (json_object_size(jt_meta))
		carry_spec_member(im, w, "metadata", jt_meta, "/spec/jobTemplate");
	map_job(im, w, member(jt, "spec"), "/spec/jobTemplate/spec");
}

/* The kind, replicas and update strategy; the rest of the spec is carried. */
static void map_spec(struct imp *im, struct workload *w)
{
	static const struct known deployment[] = {
		{"replicas", NULL}, {"selector", NULL}, {"template", NULL}, {"strategy", NULL},
		{"revisionHistoryLimit", "10"}, {"progressDeadlineSeconds", "600"}, {"minReadySeconds", "0"},
		{"paused", "false"}, {NULL, NULL}};
	static const struct known stateful[] = {
		{"replicas", NULL}, {"selector", NULL}, {"template", NULL}, {"serviceName", NULL},
		{"volumeClaimTemplates", NULL}, {"podManagementPolicy", "\"OrderedReady\""},
		{"updateStrategy", "{\"type\": \"RollingUpdate\"}"}, {"revisionHistoryLimit", "10"},
		{"minReadySeconds", "0"}, {NULL, NULL}};
	static const struct known daemon[] = {
		{"selector", NULL}, {"template", NULL},
		{"updateStrategy", "{\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"maxUnavailable\": 1}}"},
		{"revisionHistoryLimit", "10"}, {"minReadySeconds", "0"}, {NULL, NULL}};
	const char *kind = w->o->kind;
	json_t *spec = member(w->o->obj, "spec");
	bool deploy = strcmp(kind, "Deployment") == 0 || strcmp(kind, "ReplicaSet") == 0 ||
		      strcmp(kind, "ReplicationController") == 0;
	set(im, w->doc, "kind", json_string(deploy ? "Deployment" : kind));
	if (deploy && strcmp(kind, "Deployment") != 0)
		report(im, w->o, "/kind", "is rendered as a Deployment, which manages ReplicaSets itself");
	if (strcmp(kind, "Job") == 0)
		map_job(im, w, spec, "/spec");
	else if (strcmp(kind, "CronJob") == 0)
		map_cron(im, w, spec);
	else
		leftovers(im, w, spec, deploy ? deployment : strcmp(kind, "StatefulSet") == 0 ? stateful : daemon,
			  carry_spec_member, NULL);
	if (deploy || strcmp(kind, "StatefulSet") == 0) {
		long long replicas = int_of(spec, "replicas", 0, 1000, 1);
		if (replicas != 1)
			set(im, w->doc, "replicas", json_integer(replicas));
		w->multi = replicas > 1;
	}
	json_t *strategy = member(spec, "strategy");
	const char *type = str(strategy, "type");
	if (deploy && type && strcmp(type, "Recreate") == 0)
		set(im, w->doc, "strategy", json_string("Recreate"));
	if (deploy && member(strategy, "rollingUpdate"))
		carry_merge(im, w, "/spec/strategy/rollingUpdate", member(strategy, "rollingUpdate"),
			    "the document's rolling update is maxUnavailable 0, maxSurge 1");
	const char *sn = str(spec, "serviceName");
	char headless[80];
	(void)snprintf(headless, sizeof headless, "%s-headless", w->name);
	if (strcmp(kind, "StatefulSet") == 0 && sn && strcmp(sn, headless) != 0) {
		json_t *v = json_string(sn);
		carry_merge(im, w, "/spec/serviceName", v,
			    "the pods' DNS names come from this Service (manifestd renders its own '<name>-headless')");
		json_decref(v);
	}
}

/* Container i of the input's list, at index ri of the render's. */
static void cctx_init(struct cctx *x, struct imp *im, struct workload *w, const json_t *c, const char *list,
		      size_t i, size_t ri, const char *rname)
{
	*x = (struct cctx){.im = im, .w = w, .c = c, .rname = rname, .main = ri == 0 && strcmp(list, "containers") == 0};
	buf_init(&x->in, BUF_NO_MAX);
	buf_init(&x->out, BUF_NO_MAX);
	(void)oom(im, buf_printf(&x->in, "%s/%s/%zu", w->pod_ptr, list, i));
	(void)oom(im, buf_printf(&x->out, "%s/%s/%zu", w->pod_ptr, list, ri));
	x->in_len = x->in.len;
	x->out_len = x->out.len;
}

static void cctx_release(struct cctx *x)
{
	buf_release(&x->in);
	buf_release(&x->out);
}

/* The labels and annotations of the workload and of its pods. */
static void map_metadata(struct imp *im, struct workload *w)
{
	static const char *const dropped[] = {"ownerReferences", "finalizers"};
	json_t *meta = member(w->o->obj, "metadata"), *tmeta = member(w->tmpl, "metadata");
	char ptr[96];
	(void)snprintf(ptr, sizeof ptr, "%.*s/metadata/labels", (int)(strlen(w->pod_ptr) - 5), w->pod_ptr);
	json_t *v = own_labels(im, w, member(meta, "labels"), "/metadata/labels");
	if (v)
		set(im, w->doc, "labels", v);
	if ((v = own_annotations(member(meta, "annotations"))))
		set(im, w->doc, "annotations", v);
	if ((v = own_labels(im, w, member(tmeta, "labels"), ptr)))
		set(im, w->doc, "podLabels", v);
	if ((v = own_annotations(member(tmeta, "annotations"))))
		set(im, w->doc, "podAnnotations", v);
	for (size_t i = 0; i < 2; i++) {
		(void)snprintf(ptr, sizeof ptr, "/metadata/%s", dropped[i]);
		if (member(meta, dropped[i]))
			report(im, w->o, ptr, "is set by the cluster, not by a bundle: not kept");
	}
}

/* Mounts only other containers make are removed from the service's container, last
 * first so that the positions hold. */
static void finish_volumes(struct cctx *main, struct volume_plan *vp, json_t *removals)
{
	struct imp *im = main->im;
	for (size_t i = json_array_size(removals); i-- > 0;) {
		json_t *r = json_array_get(removals, i);
		char item[512];
		(void)snprintf(item, sizeof item, "%s", rati(main, "volumeMounts", (size_t)json_integer_value(json_array_get(r, 0))));
		op_named(im, main->w, item, json_string_value(json_array_get(r, 1)), "remove", item, NULL);
	}
	bool tmp = false;
	const char *k;
	json_t *v;
	json_object_foreach(vp->vols, k, v)
		tmp |= str(v, "mountPath") && strcmp(str(v, "mountPath"), "/tmp") == 0;
	if (!tmp && json_is_true(member(member(main->w->doc, "securityContext"), "readOnlyRootFilesystem")))
		report(im, main->w->o, at(main, "securityContext", "readOnlyRootFilesystem"),
		       "with a read-only root filesystem, manifestd mounts an emptyDir at /tmp");
	if (json_object_size(vp->vols))
		set(im, main->w->doc, "volumes", json_incref(vp->vols));
	size_t i;
	json_t *pv;
	json_array_foreach(member(main->w->pod, "volumes"), i, pv)
		if (str(pv, "name") && !member(vp->keys, str(pv, "name"))) {
			char ptr[96];
			(void)snprintf(ptr, sizeof ptr, "%s/volumes/%zu", main->w->pod_ptr, i);
			report(im, main->w->o, ptr, "no container mounts it: not kept");
		}
}

/* Whether a port of the Service targets container c (by number or name). */
static bool targeted(const struct workload *w, const json_t *c)
{
	size_t i, k;
	json_t *sp, *cp;
	json_array_foreach(member(member(w->service ? w->service->obj : NULL, "spec"), "ports"), i, sp) {
		json_t *t = member(sp, "targetPort");
		if (!t || (json_is_integer(t) && json_integer_value(t) == 0))
			t = member(sp, "port");
		json_array_foreach(member(c, "ports"), k, cp)
			if (json_equal(t, member(cp, json_is_string(t) ? "name" : "containerPort")))
				return true;
	}
	return false;
}

/* The service's container: the first one the Service targets, else the one named like
 * the workload, else the first (helm charts often put sidecars before it). */
static size_t pick_main(const struct workload *w)
{
	const json_t *containers = member(w->pod, "containers");
	size_t i;
	json_t *c;
	json_array_foreach(containers, i, c)
		if (targeted(w, c))
			return i;
	json_array_foreach(containers, i, c)
		if (str_is(c, "name", w->o->name))
			return i;
	return 0;
}

static void map_workload(struct imp *im, struct workload *w)
{
	w->main = pick_main(w);
	map_spec(im, w);
	map_metadata(im, w);
	json_t *plan = plan_ports(im, w);
	if (w->service)
		map_service(im, w);
	struct volume_plan vp = {json_object(), json_object(), 0};
	json_t *removals = json_array(), *inits = json_object(), *sidecars = json_object();
	if (!vp.vols || !vp.keys || !removals || !inits || !sidecars)
		(void)oom(im, -ENOMEM);
	const json_t *containers = member(w->pod, "containers");
	struct cctx main;
	cctx_init(&main, im, w, json_array_get(containers, w->main), "containers", w->main, 0, w->name);
	map_main(&main, plan, &vp);
	size_t i;
	json_t *c;
	json_array_foreach(member(w->pod, "initContainers"), i, c) {
		char label[64], key[64];
		label_of(str(c, "name"), false, label);
		unique_key(inits, *label ? label : "init", key);
		struct cctx x;
		cctx_init(&x, im, w, c, "initContainers", i, i, key);
		set(im, inits, key, map_other(&x, &main, plan, &vp, removals, false));
		cctx_release(&x);
	}
	size_t ri = 1;
	json_array_foreach(containers, i, c) {
		char key[64];
		container_key(w, c, i, key);
		if (i == w->main)
			continue;
		struct cctx x;
		cctx_init(&x, im, w, c, "containers", i, ri++, key);
		set(im, sidecars, key, map_other(&x, &main, plan, &vp, removals, true));
		cctx_release(&x);
	}
	if (json_object_size(inits))
		set(im, w->doc, "initContainers", json_incref(inits));
	if (json_object_size(sidecars))
		set(im, w->doc, "sidecars", json_incref(sidecars));
	finish_volumes(&main, &vp, removals);
	map_scheduling(im, w);
	map_account(im, w);
	map_pod_rest(im, w);
	if (!json_object_size(member(w->doc, "scheduling")))
		(void)json_object_del(w->doc, "scheduling");
	cctx_release(&main);
	json_decref(plan);
	json_decref(vp.vols);
	json_decref(vp.keys);
	json_decref(removals);
	json_decref(inits);
	json_decref(sidecars);
}

/* ==== entry points, autoscaling, disruption budgets ==== */

/* The workload whose Service is named name, or NULL. */
static struct workload *by_service(struct imp *im, const char *name)
{
	for (size_t i = 0; name && i < im->nwls; i++)
		if (im->wls[i].service && strcmp(im->wls[i].service->name, name) == 0)
			return &im->wls[i];
	return NULL;
}

/* The document port of w that the Service port port (a number, or a name) is. */
static const char *service_port(const struct workload *w, const json_t *port)
{
	if (json_is_string(port)) {
		char key[128];
		(void)snprintf(key, sizeof key, "service/%s", json_string_value(port));
		return str(member(w->ports, key), "name");
	}
	const char *k;
	json_t *p;
	json_object_foreach(member(w->doc, "ports"), k, p)
		if (json_equal(member(p, "port"), port))
			return k;
	return NULL;
}

struct ingress_plan {
	json_t *rules;   /* the document's rules so far */
	json_t *seen;    /* "host path pathType" of them */
	const char *why; /* why the Ingress cannot be mapped */
};

/* One path of a rule as a document rule into ip->rules; false (ip->why) when it cannot be. */
static bool ingress_path(struct imp *im, struct ingress_plan *ip, const char *host, const json_t *p, bool legacy)
{
	const json_t *b = member(p, "backend");
	const char *svc = legacy ? str(b, "serviceName") : str(member(b, "service"), "name");
	const json_t *port = legacy ? member(b, "servicePort") : member(member(member(b, "service"), "port"), "number");
	if (!legacy && !port)
		port = member(member(member(b, "service"), "port"), "name");
	struct workload *w = by_service(im, svc);
	const char *pname = w ? service_port(w, port) : NULL;
	const char *path = str(p, "path"), *type = str(p, "pathType");
	if (!pname) {
		ip->why = "a backend is not the Service of a mapped workload, or not one of its ports";
		return false;
	}
	if ((path && syntax_http_path(path)) || (host && *host && syntax_host(host))) {
		ip->why = "a host or path is not of the form the document takes";
		return false;
	}
	char seen[2048];
	(void)snprintf(seen, sizeof seen, "%s %s %s", host ? host : "", path ? path : "/", type ? type : "ImplementationSpecific");
	if (member(ip->seen, seen)) {
		ip->why = "two rules have the same host, path and path type";
		return false;
	}
	set(im, ip->seen, seen, json_true());
	json_t *rule = json_pack("{s:s, s:s}", "service", w->name, "port", pname);
	if (rule && host && *host)
		set(im, rule, "host", json_string(host));
	if (rule && path && strcmp(path, "/") != 0)
		set(im, rule, "path", json_string(path));
	if (rule && (!type || strcmp(type, "Prefix") != 0))
		set(im, rule, "pathType", json_string(type ? type : "ImplementationSpecific"));
	char id[64];
	unique_key(ip->rules, w->name, id);
	set(im, ip->rules, id, rule);
	return true;
}

/* TLS entries onto the rules of their hosts. */
static bool ingress_tls(struct imp *im, struct object *o, struct ingress_plan *ip, json_t *rules)
{
	size_t i, k;
	json_t *t, *h;
	json_array_foreach(member(member(o->obj, "spec"), "tls"), i, t) {
		const char *secret = str(t, "secretName");
		char ptr[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/tls/%zu", i);
		if (secret && syntax_dns_label(secret)) {
			ip->why = "a TLS secret name is not a DNS label";
			return false;
		}
		if (!secret)
			report(im, o, ptr, "names no Secret (the controller's default certificate): here the rules' secret is <stack>-tls");
		json_array_foreach(member(t, "hosts"), k, h) {
			bool found = false;
			const char *id;
			json_t *r;
			json_object_foreach(rules, id, r) {
				if (!str(r, "host") || !json_is_string(h) || strcmp(str(r, "host"), json_string_value(h)) != 0)
					continue;
				found = true;
				json_t *tls = json_pack("{s:b}", "enabled", 1);
				if (tls && secret)
					set(im, tls, "secretName", json_string(secret));
				set(im, r, "tls", tls);
			}
			if (!found)
				report(im, o, ptr, "names a host no rule of this Ingress has: not kept");
		}
	}
	return true;
}

/* An Ingress as rules of the document's one Ingress (when its class and annotations are
 * those of the Ingresses mapped before it), else an extra object. */
static void map_ingress(struct imp *im, struct object *o, bool *mapped_one)
{
	json_t *spec = member(o->obj, "spec"), *meta = member(o->obj, "metadata");
	bool legacy = strcmp(o->api, "networking.k8s.io/v1") != 0;
	json_t *ingress = child(im, im->stack, "ingress");
	json_t *ann = own_annotations(member(meta, "annotations"));
	const char *cls = str(spec, "ingressClassName");
	if (!cls && ann) {
		cls = str(member(meta, "annotations"), "kubernetes.io/ingress.class");
		(void)json_object_del(ann, "kubernetes.io/ingress.class");
	}
	struct ingress_plan ip = {json_object(), json_object(), NULL};
	const char *key;
	json_t *r;
	json_object_foreach(member(ingress, "rules"), key, r) {
		char seen[2048];
		(void)snprintf(seen, sizeof seen, "%s %s %s", str(r, "host") ? str(r, "host") : "",
			       str(r, "path") ? str(r, "path") : "/", str(r, "pathType") ? str(r, "pathType") : "Prefix");
		set(im, ip.seen, seen, json_true());
		set(im, ip.rules, key, json_incref(r));
	}
	size_t before = json_object_size(ip.rules);
	if (member(spec, "defaultBackend") || member(spec, "backend"))
		ip.why = "the document has no default backend";
	size_t i, k;
	json_t *rule, *p;
	json_array_foreach(member(spec, "rules"), i, rule) {
		if (!json_array_size(member(member(rule, "http"), "paths")))
			ip.why = "a rule has no paths";
		json_array_foreach(member(member(rule, "http"), "paths"), k, p)
			if (!ip.why)
				(void)ingress_path(im, &ip, str(rule, "host"), p, legacy);
	}
	if (*mapped_one && !ip.why) {
		const char *have = str(ingress, "className");
		bool same_ann = ann ? json_equal(ann, member(ingress, "annotations")) : !member(ingress, "annotations");
		bool same_cls = cls && have ? strcmp(cls, have) == 0 : !cls && !have;
		if (!same_ann || !same_cls)
			ip.why = "its class or annotations differ from the Ingress mapped before it";
	}
	json_t *fresh = json_object();
	json_object_foreach(ip.rules, key, r)
		if (!member(member(ingress, "rules"), key))
			set(im, fresh, key, json_incref(r));
	if (!ip.why && json_object_size(ip.rules) == before)
		ip.why = "it has no rules";
	if (!ip.why)
		(void)ingress_tls(im, o, &ip, fresh);
	if (ip.why) {
		report(im, o, NULL, "is carried as an extra object: %s", ip.why);
	} else {
		o->carried = true;
		json_object_foreach(fresh, key, r)
			set(im, child(im, ingress, "rules"), key, json_incref(r));
		if (!*mapped_one) {
			if (ann)
				set(im, ingress, "annotations", json_incref(ann));
			if (cls && !syntax_dns_label(cls))
				set(im, ingress, "className", json_string(cls));
			else
				report(im, o, "/spec", "names no ingress class (the cluster's default): the document's is nginx");
		}
		*mapped_one = true;
		report(im, o, NULL, "its rules are the stack's entry points: the Ingress is rendered as <stack>%s",
		       json_object_size(member(meta, "labels")) ? " (its labels are not kept)" : "");
	}
	json_decref(ann);
	json_decref(fresh);
	json_decref(ip.rules);
	json_decref(ip.seen);
}

/* The workload kind/name refers to, or NULL. */
static struct workload *by_object(struct imp *im, const char *kind, const char *name)
{
	for (size_t i = 0; kind && name && i < im->nwls; i++)
		if (strcmp(im->wls[i].o->kind, kind) == 0 && strcmp(im->wls[i].o->name, name) == 0)
			return &im->wls[i];
	return NULL;
}

static void object_patch(struct imp *im, struct workload *w, const char *what, const char *kind, json_t *merge,
			 struct object *o)
{
	char name[64];
	patch_name(w, what, name);
	set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:o}", "target", "kind", kind, "name", w->name, "merge", merge));
	report(im, o, NULL, "what the document cannot say of it is carried by the patch '%s'", name);
}

/* A HorizontalPodAutoscaler of a mapped Deployment or StatefulSet: the service's
 * autoscaling (a CPU utilisation target); other metrics and behavior are carried. */
static void map_hpa(struct imp *im, struct object *o)
{
	json_t *spec = member(o->obj, "spec"), *ref = member(spec, "scaleTargetRef");
	struct workload *w = by_object(im, str(ref, "kind"), str(ref, "name"));
	bool v2 = strcmp(o->api, "autoscaling/v2") == 0 || strcmp(o->api, "autoscaling/v2beta2") == 0;
	long long max = int_of(spec, "maxReplicas", 1, 1000, 0), min = int_of(spec, "minReplicas", 1, 1000, 1);
	if (!w || w->job || str_is(w->doc, "kind", "DaemonSet") || !max ||
	    min > max || json_object_get(w->doc, "autoscaling") || !(v2 || strcmp(o->api, "autoscaling/v1") == 0))
		return;
	long long cpu = int_of(spec, "targetCPUUtilizationPercentage", 1, 100, -1);
	json_t *metrics = member(spec, "metrics");
	json_t *target = member(member(json_array_get(metrics, 0), "resource"), "target");
	if (v2 && json_array_size(metrics) == 1 && str_is(member(json_array_get(metrics, 0), "resource"), "name", "cpu") &&
	    str_is(target, "type", "Utilization"))
		cpu = int_of(target, "averageUtilization", 1, 100, -1);
	json_t *a = json_pack("{s:b, s:I, s:I}", "enabled", 1, "minReplicas", (json_int_t)min, "maxReplicas", (json_int_t)max);
	if (a && cpu > 0)
		set(im, a, "targetCPUUtilization", json_integer(cpu));
	set(im, w->doc, "autoscaling", a);
	w->multi |= max > 1;
	o->carried = true;
	json_t *patch = json_object();
	if (v2 && cpu < 0 && metrics)
		set(im, child(im, patch, "spec"), "metrics", json_deep_copy(metrics));
	if (v2 && member(spec, "behavior"))
		set(im, child(im, patch, "spec"), "behavior", json_deep_copy(member(spec, "behavior")));
	if (json_object_size(patch))
		object_patch(im, w, "hpa", "HorizontalPodAutoscaler", patch, o);
	else
		json_decref(patch);
	if (strcmp(o->name, w->name) != 0)
		report(im, o, "/metadata/name", "is the autoscaling of the service '%s' (the HorizontalPodAutoscaler is named like it)", w->name);
}

/* A PodDisruptionBudget of one workload that can run more than one pod: its
 * disruptionBudget (minAvailable and the rest are carried). */
static void map_pdb(struct imp *im, struct object *o)
{
	json_t *spec = member(o->obj, "spec"), *sel = member(spec, "selector");
	size_t n, wl = json_object_size(sel) == 1 ? selected(im, member(sel, "matchLabels"), &n) : NONE;
	if (wl == NONE || n != 1 || !im->wls[wl].multi || json_object_get(im->wls[wl].doc, "disruptionBudget"))
		return;
	struct workload *w = &im->wls[wl];
	json_t *max = member(spec, "maxUnavailable");
	json_t *budget = json_object();
	if (json_is_integer(max) && json_integer_value(max) >= 1 && json_integer_value(max) <= 1000)
		set(im, budget, "maxUnavailable", json_incref(max));
	else if (json_is_string(max) && strlen(json_string_value(max)) <= 4 && strchr(json_string_value(max), '%'))
		set(im, budget, "maxUnavailable", json_incref(max));
	set(im, w->doc, "disruptionBudget", budget);
	o->carried = true;
	json_t *patch = json_object();
	json_t *p_spec = child(im, patch, "spec");
	if (member(spec, "minAvailable")) {
		set(im, p_spec, "minAvailable", json_deep_copy(member(spec, "minAvailable")));
		set(im, p_spec, "maxUnavailable", json_null());
	} else if (max && !json_object_size(budget)) {
		set(im, p_spec, "maxUnavailable", json_deep_copy(max));
	}
	if (member(spec, "unhealthyPodEvictionPolicy"))
		set(im, p_spec, "unhealthyPodEvictionPolicy", json_deep_copy(member(spec, "unhealthyPodEvictionPolicy")));
	if (json_object_size(p_spec))
		object_patch(im, w, "pdb", "PodDisruptionBudget", patch, o);
	else
		json_decref(patch);
	if (strcmp(o->name, w->name) != 0)
		report(im, o, "/metadata/name", "is the disruption budget of the service '%s' (named like it)", w->name);
}

/* ==== extra objects ==== */

/* A label selector (a map) that names labels manifestd sets on pods itself selects them by
 * the service's name instead (with the other pairs kept). false when it cannot. */
static bool fix_selector(struct imp *im, json_t *sel)
{
	bool reserved = false;
	const char *k;
	json_t *v;
	json_object_foreach(sel, k, v)
		reserved |= reserved_label(k);
	if (!reserved)
		return true;
	size_t n, wl = selected(im, sel, &n);
	void *tmp;
	json_object_foreach_safe(sel, tmp, k, v)
		if (reserved_label(k))
			(void)json_object_del(sel, k);
	if (n == 1)
		set(im, sel, "app.kubernetes.io/name", json_string(im->wls[wl].name));
	return json_object_size(sel) > 0;
}

/* The selector of a carried object that picks pods: a Service's, a PDB's, a NetworkPolicy's. */
static void fix_selectors(struct imp *im, const struct object *o, json_t *obj)
{
	json_t *spec = member(obj, "spec"), *sel = NULL;
	if (strcmp(o->kind, "Service") == 0)
		sel = member(spec, "selector");
	else if (strcmp(o->kind, "PodDisruptionBudget") == 0)
		sel = member(member(spec, "selector"), "matchLabels");
	else if (strcmp(o->kind, "NetworkPolicy") == 0)
		sel = member(member(spec, "podSelector"), "matchLabels");
	if (json_is_object(sel) && !fix_selector(im, sel))
		report(im, o, NULL, "its selector names only labels manifestd sets itself: it may select other pods now");
}

/* A copy of the object without what the cluster sets (status, uid, resourceVersion...)
 * and without its namespace (the bundle's is given to it). */
static json_t *clean_copy(struct imp *im, const struct object *o)
{
	static const char *const server_set[] = {"uid", "resourceVersion", "generation", "creationTimestamp",
						 "managedFields", "selfLink", "deletionTimestamp", "namespace",
						 "ownerReferences", NULL};
	json_t *copy = json_deep_copy(o->obj);
	json_t *meta = member(copy, "metadata");
	for (size_t i = 0; meta && server_set[i]; i++)
		(void)json_object_del(meta, server_set[i]);
	(void)json_object_del(member(meta, "annotations"), "kubectl.kubernetes.io/last-applied-configuration");
	(void)json_object_del(copy, "status");
	if (!*o->name && str(meta, "generateName")) {
		char name[64];
		label_of(str(meta, "generateName"), false, name);
		set(im, meta, "name", json_string(name));
		(void)json_object_del(meta, "generateName");
		report(im, o, "/metadata/generateName", "a bundle is applied again and again: the object is named '%s'", name);
	}
	size_t i;
	json_t *p;
	json_array_foreach(strcmp(o->kind, "Service") == 0 ? member(member(copy, "spec"), "ports") : NULL, i, p) {
		json_t *t = member(p, "targetPort");
		if (json_is_integer(t) && json_integer_value(t) == 0 && member(p, "port")) {
			set(im, p, "targetPort", json_deep_copy(member(p, "port")));
			char ptr[64];
			(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu/targetPort", i);
			report(im, o, ptr, "targetPort 0 is the port's own number in Kubernetes: written out as such");
		}
	}
	if (!copy)
		(void)oom(im, -ENOMEM);
	return copy;
}

/* Whether a container of w's pods declares port number n (protocol proto). */
static bool declared(const struct workload *w, long long n, const char *proto)
{
	size_t i, k;
	json_t *c, *p;
	json_array_foreach(member(w->pod, "containers"), i, c)
		json_array_foreach(member(c, "ports"), k, p)
			if (int_of(p, "containerPort", 1, 65535, 0) == n &&
			    strcmp(str(p, "protocol") ? str(p, "protocol") : "TCP", proto) == 0)
				return true;
	return false;
}

/* The ports a carried Service (copy) of one workload targets by number that its pods do
 * not declare: the service's container declares them (by the JSON Patch), as it does for
 * the Service mapped onto it, so that every Service's target is a port of its pods. */
static void declare_targets(struct imp *im, const struct object *o, json_t *copy)
{
	size_t n, wl = selected(im, member(member(o->obj, "spec"), "selector"), &n);
	if (n != 1 || im->wls[wl].job)
		return;
	struct workload *w = &im->wls[wl];
	json_t *add = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(member(member(copy, "spec"), "ports"), i, p) {
		long long t = int_of(p, "targetPort", 1, 65535, 0);
		const char *proto = str(p, "protocol") ? str(p, "protocol") : "TCP";
		if (!t || declared(w, t, proto))
			continue;
		append(im, add, json_pack("{s:I, s:s}", "containerPort", (json_int_t)t, "protocol", proto));
		char ptr[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu", i);
		report(im, o, ptr, "targets port %lld, which the pods do not declare: the service's container declares it (patch '%s-json')",
		       t, w->name);
	}
	char item[128], path[160];
	(void)snprintf(item, sizeof item, "%s/containers/0", w->pod_ptr);
	bool has_ports = json_object_size(member(w->doc, "ports")) > 0;
	(void)snprintf(path, sizeof path, "%s/ports%s", item, has_ports ? "/-" : "");
	if (json_array_size(add) && !has_ports)
		op_named(im, w, item, w->name, "add", path, json_incref(add));
	for (i = 0; has_ports && i < json_array_size(add); i++)
		op_named(im, w, item, w->name, "add", path, json_incref(json_array_get(add, i)));
	json_decref(add);
}

static void carry_extra(struct imp *im, struct object *o)
{
	json_t *copy = clean_copy(im, o);
	if (copy && !fits(copy, 3)) {
		report(im, o, NULL, "is larger than a document holds (a value longer than %d bytes, or more than %d levels): not kept; apply it yourself",
		       MODEL_MAX_STRING, MODEL_MAX_DEPTH - 3);
		json_decref(copy);
		o->carried = true;
		return;
	}
	if (strcmp(o->kind, "Service") == 0)
		declare_targets(im, o, copy);
	fix_selectors(im, o, copy);
	const char *name = str(member(copy, "metadata"), "name");
	char base[128], key[64];
	(void)snprintf(base, sizeof base, "%s-%s", o->kind, name && *name ? name : "object");
	label_of(base, false, key);
	char unique[64];
	unique_key(im->extra, key, unique);
	set(im, im->extra, unique, copy);
	o->carried = true;
	report(im, o, NULL, "the document has no place for it: carried as extraObjects/%s", unique);
}

/* The Namespace objects: the bundle renders its own; labels and annotations are carried. */
static void map_namespace(struct imp *im, struct object *o)
{
	o->carried = true;
	json_t *meta = member(o->obj, "metadata");
	json_t *labels = json_deep_copy(member(meta, "labels"));
	(void)json_object_del(labels, "kubernetes.io/metadata.name");
	json_t *ann = own_annotations(member(meta, "annotations"));
	if (!im->ns || strcmp(o->name, im->ns) != 0) {
		report(im, o, NULL, "a bundle has one namespace, the environment's: not kept");
	} else if (json_object_size(labels) || ann) {
		json_t *merge = json_object();
		if (json_object_size(labels))
			set(im, child(im, merge, "metadata"), "labels", json_incref(labels));
		if (ann)
			set(im, child(im, merge, "metadata"), "annotations", json_incref(ann));
		set(im, im->patches, "namespace", json_pack("{s:{s:s, s:s}, s:o}", "target", "kind", "Namespace", "name", o->name, "merge", merge));
		report(im, o, NULL, "is the bundle's namespace (the environment's namespace); its labels and annotations are carried by the patch 'namespace'");
	} else {
		report(im, o, NULL, "is the bundle's namespace (the environment's namespace)");
	}
	json_decref(labels);
	json_decref(ann);
}

/* ==== the whole stream ==== */


/* The registry, tag and pull policy most services share become the top-level image's
 * (the tag in the environment, like the compose import); a service keeps its own only
 * where it differs. */
static void settle_images(struct imp *im)
{
	const char *registry = importkit_most(im->registries, 2), *tag = importkit_most(im->tags, 2);
	const char *policy = importkit_most(im->policies, 2), *secret = importkit_most(im->pull_secrets, 2);
	json_t *image = child(im, im->stack, "image");
	if (registry && *registry)
		set(im, image, "registry", json_string(registry));
	if (tag && *tag)
		set(im, child(im, im->env, "image"), "tag", json_string(tag));
	if (!policy)
		policy = "IfNotPresent";
	if (strcmp(policy, "IfNotPresent") != 0)
		set(im, image, "pullPolicy", json_string(policy));
	if (!secret)
		secret = json_object_iter_key(json_object_iter(im->pull_secrets));
	if (secret && !syntax_dns_label(secret))
		set(im, image, "pullSecret", json_string(secret));
	const char *top[] = {registry ? registry : "", tag ? tag : "", policy};
	const char *keys[] = {"registry", "tag", "pullPolicy"};
	for (size_t i = 0; i < im->nwls; i++) {
		json_t *img = member(im->wls[i].doc, "image");
		for (size_t k = 0; img && k < 3; k++)
			if (str_is(img, keys[k], top[k]))
				(void)json_object_del(img, keys[k]);
	}
	if (!json_object_size(image))
		(void)json_object_del(im->stack, "image");
}

/* Each workload's merge patch and JSON Patch, when it has one. */
static void finish_patches(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		struct workload *w = &im->wls[i];
		const char *kind = str(w->doc, "kind");
		char name[64];
		if (json_object_size(w->merge)) {
			patch_name(w, "merge", name);
			set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", kind, "name", w->name,
							     "merge", w->merge));
		}
		if (json_array_size(w->ops)) {
			patch_name(w, "json", name);
			set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", kind, "name", w->name,
							     "jsonPatch", w->ops));
		}
	}
}

/* Drops the stack's maps that stayed empty. */
static void prune(struct imp *im)
{
	static const char *const keys[] = {"config", "secrets", "ingress", "patches", "extraObjects"};
	for (size_t i = 0; i < 5; i++)
		if (!json_object_size(member(im->stack, keys[i])))
			(void)json_object_del(im->stack, keys[i]);
	if (!json_object_size(member(im->env, "secrets")))
		(void)json_object_del(im->env, "secrets");
}

static void map_rest(struct imp *im)
{
	bool mapped_ingress = false;
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_INGRESS)
			map_ingress(im, &im->objs[i], &mapped_ingress);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_HPA)
			map_hpa(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_PDB)
			map_pdb(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_NAMESPACE)
			map_namespace(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs && !im->rc; i++)
		if (!im->objs[i].carried)
			carry_extra(im, &im->objs[i]);
}

static int convert(struct imp *im, struct buf *err)
{
	size_t n = 0;
	for (size_t i = 0; i < im->nobjs; i++)
		n += im->objs[i].role == R_WORKLOAD;
	im->wls = calloc(n ? n : 1, sizeof *im->wls);
	if (!im->wls)
		return -ENOMEM;
	drop_repeated(im);
	pick_namespace(im);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_WORKLOAD)
			(void)plan_workload(im, &im->objs[i]);
	if (im->nwls == 0 && !im->rc) {
		(void)buf_puts(err, "no workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) with a pod template to import");
		return -EINVAL;
	}
	match_services(im);
	name_workloads(im);
	match_headless(im);
	map_config_and_secrets(im);
	for (size_t i = 0; i < im->nwls && !im->rc; i++)
		map_workload(im, &im->wls[i]);
	map_rest(im);
	settle_images(im);
	finish_patches(im);
	prune(im);
	return im->rc;
}

static void imp_release(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		json_decref(im->wls[i].merge);
		json_decref(im->wls[i].ops);
		json_decref(im->wls[i].ports);
	}
	free(im->wls);
	free(im->objs);
	json_decref(im->docs);
	json_decref(im->stack);
	json_decref(im->env);
	json_decref(im->report);
	json_decref(im->cm_keys);
	json_decref(im->secret_keys);
	json_decref(im->registries);
	json_decref(im->tags);
	json_decref(im->policies);
	json_decref(im->pull_secrets);
	json_decref(im->accounts);
}

/* A hint for YAML that is not Kubernetes objects. */
static void not_kubernetes(const json_t *docs, struct buf *err)
{
	json_t *first = json_array_get(docs, 0);
	(void)buf_puts(err, "not Kubernetes YAML: no document is an object with apiVersion and kind");
	if (json_is_object(member(first, "services")))
		(void)buf_puts(err, " (this looks like a docker-compose file: import it as compose)");
}

int import_manifests(const char *text, size_t len, const char *stack, struct buf *err,
		     struct import_manifests_result *ret)
{
	static const struct yamlin_opts opts = {IMPORT_MANIFESTS_MAX_BYTES, IMPORT_MANIFESTS_MAX_DEPTH,
						IMPORT_MANIFESTS_MAX_NODES, YAMLIN_YAML11};
	struct imp im = {.text = text, .stack_name = stack ? stack : "imported"};
	json_t *spans = NULL, *sources = json_array();
	int r = yamlin_parse_stream(text, len, &opts, err, &im.docs, &spans);
	if (r < 0) {
		json_decref(sources);
		return r;
	}
	im.stack = json_pack("{s:s, s:{}, s:{}, s:{}, s:{}, s:{}, s:{}}", "description", "Imported from Kubernetes manifests",
			     "config", "secrets", "services", "ingress", "patches", "extraObjects");
	im.env = json_pack("{s:{}}", "secrets");
	im.report = json_array();
	im.cm_keys = json_object();
	im.secret_keys = json_object();
	im.registries = json_object();
	im.tags = json_object();
	im.policies = json_object();
	im.pull_secrets = json_object();
	im.accounts = json_object();
	r = im.stack && im.env && im.report && im.cm_keys && im.secret_keys && im.registries && im.tags &&
			    im.policies && im.pull_secrets && im.accounts && sources
		    ? 0
		    : -ENOMEM;
	im.services = member(im.stack, "services");
	im.config = member(im.stack, "config");
	im.secrets_env = member(im.env, "secrets");
	im.extra = member(im.stack, "extraObjects");
	im.patches = member(im.stack, "patches");
	if (r == 0)
		r = collect(&im, spans, sources);
	if (r == 0 && im.nobjs == 0) {
		not_kubernetes(im.docs, err);
		r = -EINVAL;
	}
	if (r == 0)
		r = convert(&im, err);
	if (r == 0) {
		*ret = (struct import_manifests_result){im.stack, im.env, im.report};
		im.stack = im.env = im.report = NULL;
	}
	imp_release(&im);
	json_decref(spans);
	json_decref(sources);
	return r;
}

/* applysh: writes apply.sh from the rendered objects: the bundle's data and its apply plan
 * in front of and inside the fixed script server/applysh.sh (embedded at build time). Only
 * names that pass a strict character check reach the script, always single-quoted. */
#include "applysh.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"

#include "applysh.inc"

#define DEFAULT_TIMEOUT "300s"
#define MAX_NAME 253
#define TEMPLATE "applysh.sh"
#define PLAN_MARK "#@PLAN@\n"

enum phase {
	PHASE_NAMESPACE,
	PHASE_CONFIG,
	PHASE_STATEFUL,
	PHASE_JOBS,
	PHASE_APPS,
	PHASE_INGRESS,
	PHASE_COUNT,
};

static const char *const phase_titles[PHASE_COUNT] = {
	"namespace", "configuration", "stateful services", "jobs", "applications", "ingress",
};

/* Waits, in the order they run inside a phase: kind and the script function with its
 * resource argument. */
static const struct {
	const char *kind;
	const char *call;
} waits[] = {
	{ "StatefulSet", "wait_rollout statefulset" },
	{ "Job", "wait_job" },
	{ "Deployment", "wait_rollout deployment" },
	{ "DaemonSet", "wait_rollout daemonset" },
};

/* Kinds apply.sh looks through when it cannot read the API's own list, besides those in
 * the bundle: what manifestd renders ("kind.group", as `kubectl get -o name` prints them). */
static const char *const known_resources[] = {
	"configmap", "cronjob.batch", "daemonset.apps", "deployment.apps",
	"externalsecret.external-secrets.io", "horizontalpodautoscaler.autoscaling",
	"ingress.networking.k8s.io", "job.batch", "networkpolicy.networking.k8s.io",
	"persistentvolumeclaim", "poddisruptionbudget.policy", "secret", "service",
	"serviceaccount", "statefulset.apps",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* The n bytes at s are a DNS-1123 subdomain: [a-z0-9]([-.a-z0-9]*[a-z0-9])?, at most
 * 253 characters. */
static bool is_safe_name_n(const char *s, size_t n)
{
	if (n == 0 || n > MAX_NAME || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static bool is_safe_name(const char *s)
{
	return s && is_safe_name_n(s, strlen(s));
}

/* A file name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 255 characters. */
static bool is_safe_file(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 255 || !is_alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* A kind: [A-Z][A-Za-z0-9]*, at most 63 characters. */
static bool is_safe_kind(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || s[0] < 'A' || s[0] > 'Z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]))
			return false;
	return true;
}

/* An apiVersion: "v1" or "group/version" with a DNS-subdomain group and [a-z0-9]+ version. */
static bool is_safe_api_version(const char *s)
{
	if (!s)
		return false;
	const char *slash = strchr(s, '/');
	const char *version = slash ? slash + 1 : s;
	if (slash && !is_safe_name_n(s, (size_t)(slash - s)))
		return false;
	if (version[0] != 'v' || version[1] == '\0')
		return false;
	for (const char *p = version; *p; p++)
		if (!is_lower_alnum(*p))
			return false;
	return true;
}

/* Whether apiVersion api is in group (api "group/version"; the core group is ""). */
static bool in_group(const char *api, const char *group)
{
	const char *slash = strchr(api, '/');
	size_t n = slash ? (size_t)(slash - api) : 0;
	return strlen(group) == n && strncmp(api, group, n) == 0;
}

/* Every item of the NODE_SEQ seq (none when seq is NULL or not a sequence), as const
 * struct node *var. */
#define FOREACH_ITEM(seq, var)                                                            \
	for (const struct node_item *it_##var = seq_first(seq); it_##var; it_##var = it_##var->next) \
		for (const struct node *var = it_##var->val; var; var = NULL)

static const struct node_item *seq_first(const struct node *seq)
{
	return seq && seq->kind == NODE_SEQ ? seq->v.list.first : NULL;
}

static const char *obj_string(const struct node *obj, const char *parent, const char *key)
{
	return node_string(node_get(parent ? node_get(obj, parent) : obj, key));
}

static bool is_true(const struct node *n)
{
	return n && n->kind == NODE_BOOL && n->v.b;
}

bool applysh_holds_secret_values(const struct node *objects)
{
	FOREACH_ITEM(objects, obj) {
		const char *kind = obj_string(obj, NULL, "kind");
		const char *api = obj_string(obj, NULL, "apiVersion");
		if (!kind || strcmp(kind, "Secret") != 0 || !api || strcmp(api, "v1") != 0)
			continue;
		const struct node *data = node_get(obj, "data"), *string_data = node_get(obj, "stringData");
		if ((data && data->kind == NODE_MAP && data->v.list.count > 0) ||
		    (string_data && string_data->kind == NODE_MAP && string_data->v.list.count > 0))
			return true;
	}
	return false;
}

static enum phase kind_phase(const char *kind)
{
	if (strcmp(kind, "Namespace") == 0)
		return PHASE_NAMESPACE;
	if (strcmp(kind, "StatefulSet") == 0)
		return PHASE_STATEFUL;
	if (strcmp(kind, "Job") == 0)
		return PHASE_JOBS;
	if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "DaemonSet") == 0 ||
	    strcmp(kind, "CronJob") == 0 || strcmp(kind, "Pod") == 0)
		return PHASE_APPS;
	if (strcmp(kind, "Ingress") == 0)
		return PHASE_INGRESS;
	return PHASE_CONFIG;
}

/* The index in waits of kind's wait, or -1 when objects of kind are not waited for. */
static int kind_wait(const char *kind)
{
	for (size_t w = 0; w < COUNT(waits); w++)
		if (strcmp(kind, waits[w].kind) == 0)
			return (int)w;
	return -1;
}

/* What apply.sh does about the replicas of a Deployment or StatefulSet. */
enum replicas {
	REPLICAS_NONE, /* not a scalable workload, or replicas not a number */
	REPLICAS_SET,  /* the manifest sets them: own_replicas */
	REPLICAS_LEFT, /* the manifest leaves them to an autoscaler: keep_replicas */
};

/* What the script needs of one object, read from its tree once (strings borrowed). */
struct object_info {
	const struct node *obj;
	const char *kind;
	const char *api;
	const char *name;
	const char *ingress_class; /* spec.ingressClassName of an Ingress, else NULL */
	size_t resource;           /* offset of its "kind.group" text in plan.resources */
	int wait;                  /* index in waits, or -1 */
	bool on_delete;            /* updateStrategy OnDelete: not waited for */
	enum replicas replicas;
	long long replica_count;   /* REPLICAS_SET */
};

/* Why an object references another: the word apply.sh turns into a phrase (ref_what). */
enum ref_why { WHY_ENV, WHY_VOLUME, WHY_TLS, WHY_PULL, WHY_ACCOUNT, WHY_CLAIM };
static const char *const why_words[] = { "env", "volume", "tls", "pull", "account", "claim" };

/* How apply.sh checks a reference, in the order a merge prefers them. */
enum ref_mode { REF_OPTIONAL, REF_REQUIRED, REF_MADE };

/* A reference from object by to resource/name (static and borrowed strings); or, with
 * mode REF_MADE and maker set, an object a controller makes from object by. */
struct ref {
	const char *resource;
	const char *name;
	enum ref_why why;
	enum ref_mode mode;
	const char *maker;
	size_t by;
};

struct refs {
	struct ref *items;
	size_t count, cap;
};

/* The checked input, indexed once: every later step is a walk over these arrays. */
struct plan {
	const struct render_meta *meta;
	const char *namespace;
	const struct applysh_file *files;
	size_t n;
	struct object_info *objects; /* in file order */
	size_t object_count;
	size_t *first;       /* n + 1: the objects of file i are [first[i], first[i + 1]) */
	enum phase *phases;  /* n: the phase of each file (that of its latest kind) */
	bool *secret_files;  /* n: file i holds Secret values */
	bool used[PHASE_COUNT];
	struct buf resources; /* every object's resource, NUL-terminated, one after another */
	struct refs refs;     /* references to objects outside the bundle */
	struct refs made;     /* what controllers make from the bundle's objects */
};

static void plan_release(struct plan *p)
{
	free(p->objects);
	free(p->first);
	free(p->phases);
	free(p->secret_files);
	free(p->refs.items);
	free(p->made.items);
	buf_release(&p->resources);
}

/* The resource text of object o of p (valid until p->resources changes). */
static const char *plan_resource(const struct plan *p, size_t o)
{
	return p->resources.data + p->objects[o].resource;
}

/* Appends the resource of an object as `kubectl get -o name` prints it, and a NUL:
 * lowercase kind, then ".group" unless it is the core group (both already checked). */
static int put_resource(struct buf *out, const char *kind, const char *api)
{
	char text[64 + 1 + MAX_NAME + 1]; /* a checked kind, '.', a checked group, NUL */
	size_t len = 0;
	const char *slash = strchr(api, '/');
	for (const char *p = kind; *p; p++)
		text[len++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	if (slash) {
		text[len++] = '.';
		memcpy(text + len, api, (size_t)(slash - api));
		len += (size_t)(slash - api);
	}
	text[len++] = '\0';
	return buf_append(out, text, len);
}

/* Appends a copy of r to rs; a name that is not a safe token is left out (the API server
 * would refuse the object anyway, and the name must not reach the shell). */
static int refs_add(struct refs *rs, struct ref r)
{
	if (!is_safe_name(r.name))
		return 0;
	if (rs->count == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct ref *items = realloc(rs->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		rs->items = items;
		rs->cap = cap;
	}
	rs->items[rs->count++] = r;
	return 0;
}

/* The reference {"name": ..., "optional": ...} of a key selector or env source. */
static int add_name_ref(struct refs *rs, const struct node *sel, const char *key, const char *resource,
			enum ref_why why, size_t by)
{
	if (!sel)
		return 0;
	return refs_add(rs, (struct ref){ resource, obj_string(sel, NULL, key), why,
					  is_true(node_get(sel, "optional")) ? REF_OPTIONAL : REF_REQUIRED,
					  NULL, by });
}

static int add_container_refs(struct refs *rs, const struct node *c, size_t by)
{
	int r = 0;
	FOREACH_ITEM(node_get(c, "env"), e) {
		const struct node *from = node_get(e, "valueFrom");
		if (r == 0)
			r = add_name_ref(rs, node_get(from, "secretKeyRef"), "name", "secret", WHY_ENV, by);
		if (r == 0)
			r = add_name_ref(rs, node_get(from, "configMapKeyRef"), "name", "configmap", WHY_ENV, by);
	}
	FOREACH_ITEM(node_get(c, "envFrom"), e) {
		if (r == 0)
			r = add_name_ref(rs, node_get(e, "secretRef"), "name", "secret", WHY_ENV, by);
		if (r == 0)
			r = add_name_ref(rs, node_get(e, "configMapRef"), "name", "configmap", WHY_ENV, by);
	}
	return r;
}

static int add_volume_refs(struct refs *rs, const struct node *v, size_t by)
{
	int r = add_name_ref(rs, node_get(v, "secret"), "secretName", "secret", WHY_VOLUME, by);
	if (r == 0)
		r = add_name_ref(rs, node_get(v, "configMap"), "name", "configmap", WHY_VOLUME, by);
	if (r == 0)
		r = add_name_ref(rs, node_get(v, "persistentVolumeClaim"), "claimName", "persistentvolumeclaim",
				 WHY_CLAIM, by);
	FOREACH_ITEM(node_get(node_get(v, "projected"), "sources"), s) {
		if (r == 0)
			r = add_name_ref(rs, node_get(s, "secret"), "name", "secret", WHY_VOLUME, by);
		if (r == 0)
			r = add_name_ref(rs, node_get(s, "configMap"), "name", "configmap", WHY_VOLUME, by);
	}
	return r;
}

/* The pod spec of a workload of any kind: a Pod's spec, spec.template.spec (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job, and custom kinds shaped alike) or
 * spec.jobTemplate.spec.template.spec (CronJob); NULL when obj has none. */
static const struct node *pod_spec(const struct object_info *o)
{
	const struct node *spec = node_get(o->obj, "spec");
	const struct node *pod = strcmp(o->kind, "Pod") == 0 ? spec : node_get(node_get(spec, "template"), "spec");
	if (!pod)
		pod = node_get(node_get(node_get(node_get(spec, "jobTemplate"), "spec"), "template"), "spec");
	return node_get(pod, "containers") ? pod : NULL;
}

static int add_pod_refs(struct refs *rs, const struct node *pod, size_t by)
{
	static const char *const lists[] = { "initContainers", "containers", "ephemeralContainers" };
	const char *account = obj_string(pod, NULL, "serviceAccountName");
	int r = 0;
	for (size_t l = 0; l < COUNT(lists); l++)
		FOREACH_ITEM(node_get(pod, lists[l]), c)
			if (r == 0)
				r = add_container_refs(rs, c, by);
	FOREACH_ITEM(node_get(pod, "volumes"), v)
		if (r == 0)
			r = add_volume_refs(rs, v, by);
	FOREACH_ITEM(node_get(pod, "imagePullSecrets"), s)
		if (r == 0)
			r = add_name_ref(rs, s, "name", "secret", WHY_PULL, by);
	if (r == 0 && account && strcmp(account, "default") != 0)
		r = refs_add(rs, (struct ref){ "serviceaccount", account, WHY_ACCOUNT, REF_REQUIRED, NULL, by });
	return r;
}

/* An Ingress whose annotations ask cert-manager for its certificates. */
static bool wants_cert_manager(const struct node *obj)
{
	const struct node *a = node_get(node_get(obj, "metadata"), "annotations");
	const char *acme = obj_string(a, NULL, "kubernetes.io/tls-acme");
	return node_get(a, "cert-manager.io/cluster-issuer") || node_get(a, "cert-manager.io/issuer") ||
	       (acme && strcmp(acme, "true") == 0);
}

/* The Secrets an Ingress names for TLS: referenced, or made by cert-manager. */
static int add_ingress_refs(struct plan *p, const struct object_info *o, size_t by)
{
	bool made = wants_cert_manager(o->obj);
	int r = 0;
	FOREACH_ITEM(node_get(node_get(o->obj, "spec"), "tls"), t) {
		struct ref ref = { "secret", obj_string(t, NULL, "secretName"), WHY_TLS, REF_REQUIRED, NULL, by };
		if (made) {
			ref.mode = REF_MADE;
			ref.maker = "cert-manager";
		}
		if (r == 0)
			r = refs_add(made ? &p->made : &p->refs, ref);
	}
	return r;
}

/* The Secret a controller makes from o, when o is one of the kinds known to: an
 * ExternalSecret (External Secrets Operator), a Certificate (cert-manager), a
 * SealedSecret (Sealed Secrets). */
static int add_made(struct plan *p, const struct object_info *o, size_t by)
{
	const struct node *spec = node_get(o->obj, "spec");
	struct ref ref = { "secret", NULL, WHY_ENV, REF_MADE, NULL, by };
	if (strcmp(o->kind, "ExternalSecret") == 0 && in_group(o->api, "external-secrets.io")) {
		ref.name = obj_string(spec, "target", "name");
		if (!ref.name)
			ref.name = o->name;
		ref.maker = "the External Secrets Operator";
	} else if (strcmp(o->kind, "Certificate") == 0 && in_group(o->api, "cert-manager.io")) {
		ref.name = obj_string(spec, NULL, "secretName");
		ref.maker = "cert-manager";
	} else if (strcmp(o->kind, "SealedSecret") == 0 && in_group(o->api, "bitnami.com")) {
		ref.name = o->name;
		ref.maker = "the Sealed Secrets controller";
	} else {
		return 0;
	}
	return refs_add(&p->made, ref);
}

/* Every reference of object o (index by), and what controllers make from it. */
static int add_refs(struct plan *p, const struct object_info *o, size_t by)
{
	const struct node *pod = pod_spec(o);
	int r = pod ? add_pod_refs(&p->refs, pod, by) : 0;
	if (r == 0 && strcmp(o->kind, "Ingress") == 0)
		r = add_ingress_refs(p, o, by);
	if (r == 0 && strcmp(o->kind, "ServiceAccount") == 0 && strcmp(o->api, "v1") == 0)
		FOREACH_ITEM(node_get(o->obj, "imagePullSecrets"), s)
			if (r == 0)
				r = add_name_ref(&p->refs, s, "name", "secret", WHY_PULL, by);
	return r == 0 ? add_made(p, o, by) : r;
}

/* What apply.sh does about o's replicas (o a checked object). */
static void read_replicas(struct object_info *o)
{
	const struct node *spec = node_get(o->obj, "spec");
	const struct node *replicas = node_get(spec, "replicas");
	o->replicas = REPLICAS_NONE;
	if (!in_group(o->api, "apps") || (strcmp(o->kind, "Deployment") != 0 && strcmp(o->kind, "StatefulSet") != 0))
		return;
	if (!replicas) {
		o->replicas = REPLICAS_LEFT;
	} else if (replicas->kind == NODE_INT && replicas->v.i >= 0) {
		o->replicas = REPLICAS_SET;
		o->replica_count = replicas->v.i;
	}
}

/* Checks obj and fills info (its resource appended to p->resources); 0 or -EINVAL. */
static int add_object(struct plan *p, const struct node *obj, struct object_info *info,
		      enum phase *file_phase)
{
	const char *kind = obj_string(obj, NULL, "kind");
	const char *api = obj_string(obj, NULL, "apiVersion");
	const char *name = obj_string(obj, "metadata", "name");
	const char *cls = obj_string(obj, "spec", "ingressClassName");
	const char *strategy = obj_string(node_get(obj, "spec"), "updateStrategy", "type");
	if (obj->kind != NODE_MAP || !is_safe_kind(kind) || !is_safe_api_version(api) ||
	    !is_safe_name(name) || (cls && !is_safe_name(cls)))
		return -EINVAL;
	enum phase k = kind_phase(kind);
	if (k > *file_phase)
		*file_phase = k;
	*info = (struct object_info){
		.obj = obj, .kind = kind, .api = api, .name = name,
		.ingress_class = strcmp(kind, "Ingress") == 0 ? cls : NULL,
		.resource = p->resources.len, .wait = kind_wait(kind),
		.on_delete = strategy && strcmp(strategy, "OnDelete") == 0,
	};
	read_replicas(info);
	return put_resource(&p->resources, kind, api);
}

/* Checks the files and counts their objects; 0 or -EINVAL. */
static int count_objects(const struct applysh_file *files, size_t n, size_t *ret_count)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_safe_file(files[i].name) || !files[i].objects || files[i].objects->kind != NODE_SEQ)
			return -EINVAL;
		count += files[i].objects->v.list.count;
	}
	if (count == 0)
		return -EINVAL;
	*ret_count = count;
	return 0;
}

/* The index of the bundle object resource/name, or object_count when there is none. */
static size_t find_object(const struct plan *p, const char *resource, const char *name)
{
	for (size_t o = 0; o < p->object_count; o++)
		if (strcmp(p->objects[o].name, name) == 0 && strcmp(plan_resource(p, o), resource) == 0)
			return o;
	return p->object_count;
}

/* By resource and name, the strongest mode first, then the first referrer. */
static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->resource, y->resource);
	if (c == 0)
		c = strcmp(x->name, y->name);
	if (c == 0)
		c = (int)y->mode - (int)x->mode;
	if (c == 0)
		c = x->by < y->by ? -1 : x->by > y->by;
	return c;
}

static bool same_target(const struct ref *a, const struct ref *b)
{
	return strcmp(a->resource, b->resource) == 0 && strcmp(a->name, b->name) == 0;
}

/* Turns p->refs into what apply.sh checks: what controllers make merged in (a reference
 * to it becomes "made"), what the bundle holds dropped, each resource/name once with its
 * strongest mode and first referrer (sorted by resource and name). */
static void settle_refs(struct plan *p)
{
	size_t kept = 0;
	for (size_t i = 0; i < p->made.count; i++)
		p->refs.items[p->refs.count++] = p->made.items[i];
	if (p->refs.count)
		qsort(p->refs.items, p->refs.count, sizeof(*p->refs.items), cmp_ref);
	for (size_t i = 0; i < p->refs.count; i++) {
		const struct ref *r = &p->refs.items[i];
		if ((kept > 0 && same_target(r, &p->refs.items[kept - 1])) ||
		    find_object(p, r->resource, r->name) < p->object_count)
			continue;
		p->refs.items[kept++] = *r;
	}
	p->refs.count = kept;
}

/* Makes room in p->refs for every item of p->made (settle_refs appends them). */
static int reserve_made(struct plan *p)
{
	size_t need = p->refs.count + p->made.count;
	if (need <= p->refs.cap)
		return 0;
	struct ref *items = realloc(p->refs.items, need * sizeof(*items));
	if (!items)
		return -ENOMEM;
	p->refs.items = items;
	p->refs.cap = need;
	return 0;
}

/* Checks every value that will reach the script and indexes it into p (released by the
 * caller in any case). 0, -EINVAL or -ENOMEM. */
static int plan_build(struct plan *p, const struct render_meta *meta, const char *namespace,
		      const struct applysh_file *files, size_t n)
{
	size_t count = 0, o = 0;
	int r = 0;
	*p = (struct plan){ .meta = meta, .namespace = namespace, .files = files, .n = n };
	buf_init(&p->resources, BUF_NO_MAX);
	if (!meta || !is_safe_name(meta->stack) || !is_safe_name(meta->environment) ||
	    !is_safe_name(namespace) || n == 0 || count_objects(files, n, &count) < 0)
		return -EINVAL;
	p->objects = calloc(count, sizeof(*p->objects));
	p->first = calloc(n + 1, sizeof(*p->first));
	p->phases = calloc(n, sizeof(*p->phases));
	p->secret_files = calloc(n, sizeof(*p->secret_files));
	if (!p->objects || !p->first || !p->phases || !p->secret_files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p->first[i] = o;
		p->phases[i] = PHASE_NAMESPACE;
		p->secret_files[i] = applysh_holds_secret_values(files[i].objects);
		FOREACH_ITEM(files[i].objects, obj) {
			r = o < count ? add_object(p, obj, &p->objects[o++], &p->phases[i]) : -EINVAL;
			if (r < 0)
				return r;
		}
		p->used[p->phases[i]] = true;
	}
	p->first[n] = o;
	p->object_count = o;
	for (size_t i = 0; i < o && r == 0; i++)
		r = add_refs(p, &p->objects[i], i);
	if (r == 0)
		r = reserve_made(p);
	if (r == 0)
		settle_refs(p);
	return r;
}

/* ---- the script ---- */

static const char script_head[] =
	"#!/usr/bin/env bash\n"
	"# apply.sh: applies this bundle's Kubernetes manifests in order with server-side apply,\n"
	"# waits for each phase, and keeps the day-2 rules its README.md lists (replicas left to\n"
	"# autoscalers, what --prune may delete, checks before applying). ./apply.sh --help for\n"
	"# the options and exit codes.\n"
	"# Generated by manifestd " MANIFESTD_VERSION "; regenerate the bundle instead of editing.\n"
	"set -euo pipefail\n"
	"\n";

/* Appends s with its letters lowercased (s is a checked kind). */
static int put_lower(struct buf *out, const char *s)
{
	char text[64];
	size_t len = strlen(s);
	if (len >= sizeof(text))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		text[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	return buf_append(out, text, len);
}

static int put_constants(struct buf *out, const struct plan *p)
{
	const char *stack = p->meta->stack, *env = p->meta->environment;
	return BUF_PUTS(out, "readonly BUNDLE='", stack, "-", env, "'\n",
			"readonly STACK='", stack, "'\n",
			"readonly ENVIRONMENT='", env, "'\n",
			"readonly NAMESPACE='", p->namespace, "'\n",
			"readonly SELECTOR='" APPLYSH_LABEL_STACK "=", stack,
			"," APPLYSH_LABEL_ENVIRONMENT "=", env,
			"," APPLYSH_LABEL_MANAGED_BY "=" APPLYSH_MANAGER "'\n",
			"readonly MANAGER='" APPLYSH_MANAGER "'\n",
			"readonly DEFAULT_TIMEOUT='" DEFAULT_TIMEOUT "'\n");
}

/* `# comment` and `readonly NAME=(` ... `)` of the files for which keep(p, i) holds. */
static int put_file_array(struct buf *out, const struct plan *p, const char *head,
			  bool (*keep)(const struct plan *p, size_t i))
{
	int r = buf_puts(out, head);
	for (size_t i = 0; i < p->n && r == 0; i++)
		if (keep(p, i))
			r = BUF_PUTS(out, "\t'", p->files[i].name, "'\n");
	return r ? r : buf_puts(out, ")\n");
}

static bool any_file(const struct plan *p, size_t i)
{
	(void)p;
	(void)i;
	return true;
}

static bool namespace_file(const struct plan *p, size_t i)
{
	return p->phases[i] == PHASE_NAMESPACE;
}

static bool secret_file(const struct plan *p, size_t i)
{
	return p->secret_files[i];
}

/* BUNDLE_OBJECTS, in apply order: phase by phase, files in order within a phase. */
static int put_objects(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "# Every object of the bundle, in apply order.\nreadonly BUNDLE_OBJECTS=(\n");
	for (int ph = 0; ph < PHASE_COUNT && r == 0; ph++)
		for (size_t i = 0; i < p->n && r == 0; i++)
			for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0 && p->phases[i] == (enum phase)ph; o++)
				r = BUF_PUTS(out, "\t'", plan_resource(p, o), "/", p->objects[o].name, "'\n");
	return r ? r : buf_puts(out, ")\n");
}

/* SCALED: "kind/name" of the workloads whose manifest sets their replicas. */
static int put_scaled(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "# The workloads whose manifest sets their replicas.\nreadonly SCALED=(\n");
	for (size_t o = 0; o < p->object_count && r == 0; o++) {
		if (p->objects[o].replicas != REPLICAS_SET)
			continue;
		r = buf_puts(out, "\t'");
		if (r == 0)
			r = put_lower(out, p->objects[o].kind);
		if (r == 0)
			r = BUF_PUTS(out, "/", p->objects[o].name, "'\n");
	}
	return r ? r : buf_puts(out, ")\n");
}

static int put_referenced(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "# What the bundle references but does not hold: never pruned.\nreadonly REFERENCED=(\n");
	for (size_t i = 0; i < p->refs.count && r == 0; i++)
		r = BUF_PUTS(out, "\t'", p->refs.items[i].resource, "/", p->refs.items[i].name, "'\n");
	return r ? r : buf_puts(out, ")\n");
}

/* CLAIM_PREFIXES: "template-statefulset-" of every volume claim template. */
static int put_claim_prefixes(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "# The volume claims of the StatefulSets are named PREFIX<ordinal>.\nreadonly CLAIM_PREFIXES=(\n");
	for (size_t o = 0; o < p->object_count && r == 0; o++) {
		const struct object_info *info = &p->objects[o];
		if (strcmp(info->kind, "StatefulSet") != 0)
			continue;
		FOREACH_ITEM(node_get(node_get(info->obj, "spec"), "volumeClaimTemplates"), t) {
			const char *name = obj_string(t, "metadata", "name");
			if (r == 0 && is_safe_name(name))
				r = BUF_PUTS(out, "\t'", name, "-", info->name, "-'\n");
		}
	}
	return r ? r : buf_puts(out, ")\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* KNOWN_RESOURCES: the fixed list and the bundle's own kinds, sorted, each once. */
static int put_known_resources(struct buf *out, const struct plan *p)
{
	size_t fixed = COUNT(known_resources), count = 0;
	const char **set = calloc(fixed + p->object_count, sizeof(*set));
	int r = set ? buf_puts(out, "# The kinds to look through when the API cannot list its own.\n"
				    "readonly KNOWN_RESOURCES=(\n")
		    : -ENOMEM;
	if (r < 0)
		goto out;
	for (size_t i = 0; i < fixed; i++)
		set[count++] = known_resources[i];
	for (size_t o = 0; o < p->object_count; o++)
		if (strcmp(p->objects[o].kind, "Namespace") != 0)
			set[count++] = plan_resource(p, o);
	qsort(set, count, sizeof(*set), cmp_str);
	for (size_t i = 0; i < count && r == 0; i++)
		if (i == 0 || strcmp(set[i], set[i - 1]) != 0)
			r = BUF_PUTS(out, "\t'", set[i], "'\n");
	if (r == 0)
		r = buf_puts(out, ")\n");
out:
	free(set);
	return r;
}

static int put_data(struct buf *out, const struct plan *p)
{
	int r = put_constants(out, p);
	if (r == 0)
		r = put_file_array(out, p, "# The manifest files, in the folder's order.\nreadonly FILES=(\n", any_file);
	if (r == 0)
		r = put_file_array(out, p, "# The files that hold the Namespace.\nreadonly NAMESPACE_FILES=(\n",
				   namespace_file);
	if (r == 0)
		r = put_file_array(out, p, "# The files that hold Secret values: never printed.\nreadonly SECRET_FILES=(\n",
				   secret_file);
	if (r == 0)
		r = put_objects(out, p);
	if (r == 0)
		r = put_scaled(out, p);
	if (r == 0)
		r = put_referenced(out, p);
	if (r == 0)
		r = put_claim_prefixes(out, p);
	return r ? r : put_known_resources(out, p);
}

/* check_references: one line per object the bundle references but does not hold. */
static int put_check_references(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "check_references() {\n");
	if (r == 0 && p->refs.count == 0)
		r = buf_puts(out, "\t:\n");
	for (size_t i = 0; i < p->refs.count && r == 0; i++) {
		const struct ref *ref = &p->refs.items[i];
		const struct object_info *by = &p->objects[ref->by];
		static const char *const calls[] = { "ref_optional ", "ref_required ", "ref_made " };
		r = BUF_PUTS(out, "\t", calls[ref->mode], ref->resource, " '", ref->name, "' ");
		if (r == 0)
			r = ref->mode == REF_MADE ? BUF_PUTS(out, "'", ref->maker, "'") : buf_puts(out, why_words[ref->why]);
		if (r == 0)
			r = BUF_PUTS(out, " '", by->kind, "/", by->name, "'\n");
	}
	return r ? r : buf_puts(out, "}\n\n");
}

/* Whether an object before o names the same IngressClass as o. */
static bool class_seen(const struct plan *p, size_t o)
{
	for (size_t k = 0; k < o; k++)
		if (p->objects[k].ingress_class && strcmp(p->objects[k].ingress_class, p->objects[o].ingress_class) == 0)
			return true;
	return false;
}

/* Lines `check_ingress_class 'class'` for the Ingresses of the files of phase ph, each
 * class once. */
static int put_ingress_checks(struct buf *out, const struct plan *p, enum phase ph)
{
	int r = 0;
	for (size_t i = 0; i < p->n && r == 0; i++)
		for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0 && p->phases[i] == ph; o++)
			if (p->objects[o].ingress_class && !class_seen(p, o))
				r = BUF_PUTS(out, "\tcheck_ingress_class '", p->objects[o].ingress_class, "'\n");
	return r;
}

/* Whether s (may be NULL) is made of letters, digits and the bytes of extra only. */
static bool only(const char *s, const char *extra)
{
	for (const char *c = s; c && *c; c++)
		if (!is_alnum(*c) && !strchr(extra, *c))
			return false;
	return s != NULL;
}

/* One volume claim template as fit_statefulset compares it: name:class:["MODE",...]:size;
 * (the jsonpath of its live counterpart). -EINVAL when a part is not a plain token. */
static int put_claim_fit(struct buf *out, const struct node *vct)
{
	const struct node *spec = node_get(vct, "spec");
	const char *name = obj_string(vct, "metadata", "name"), *cls = node_string(node_get(spec, "storageClassName"));
	const char *size = obj_string(node_get(spec, "resources"), "requests", "storage");
	if (!is_safe_name(name) || (cls && !is_safe_name(cls)) || !only(size, ".+-"))
		return -EINVAL;
	int r = BUF_PUTS(out, name, ":", cls ? cls : "", ":[");
	size_t i = 0;
	FOREACH_ITEM(node_get(spec, "accessModes"), mode) {
		if (r == 0 && !only(node_string(mode), ""))
			r = -EINVAL;
		if (r == 0)
			r = BUF_PUTS(out, i++ ? ",\"" : "\"", node_string(mode), "\"");
	}
	return r ? r : BUF_PUTS(out, "]:", size, ";");
}

/* `fit_statefulset 'NAME' 'WANT'` for a StatefulSet: what Kubernetes never changes in one
 * (serviceName, volumeClaimTemplates), for the script to compare with the live set. A
 * set whose parts are not plain tokens gets none (nothing to compare it by). */
static int put_fit(struct buf *out, const struct object_info *info)
{
	const struct node *spec = node_get(info->obj, "spec");
	const char *svc = node_string(node_get(spec, "serviceName"));
	struct buf want;
	buf_init(&want, BUF_NO_MAX);
	int r = svc && !is_safe_name(svc) ? -EINVAL : BUF_PUTS(&want, svc ? svc : "", "|");
	FOREACH_ITEM(node_get(spec, "volumeClaimTemplates"), vct)
		if (r == 0)
			r = put_claim_fit(&want, vct);
	if (r == 0)
		r = BUF_PUTS(out, "\tfit_statefulset '", info->name, "' '", buf_cstr(&want), "'\n");
	buf_release(&want);
	return r == -EINVAL ? 0 : r;
}

/* fit_statefulset, own_replicas, keep_replicas for the workloads of file i, before it is
 * applied. */
static int put_replicas(struct buf *out, const struct plan *p, size_t i)
{
	int r = 0;
	for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0; o++) {
		const struct object_info *info = &p->objects[o];
		if (strcmp(info->kind, "StatefulSet") == 0 && in_group(info->api, "apps"))
			r = put_fit(out, info);
		if (r != 0)
			break;
		if (info->replicas == REPLICAS_SET) {
			r = buf_puts(out, "\town_replicas ");
			if (r == 0)
				r = put_lower(out, info->kind);
			if (r == 0)
				r = buf_printf(out, " '%s' %lld\n", info->name, info->replica_count);
		} else if (info->replicas == REPLICAS_LEFT) {
			r = BUF_PUTS(out, "\tkeep_replicas '", info->api, "' '", info->kind, "' '", plan_resource(p, o),
				     "' '", info->name, "'\n");
		}
	}
	return r;
}

/* Lines waiting for every object with wait w in the files of phase ph. */
static int put_waits(struct buf *out, const struct plan *p, enum phase ph, int w)
{
	int r = 0;
	for (size_t i = 0; i < p->n && r == 0; i++) {
		for (size_t o = p->first[i]; o < p->first[i + 1] && r == 0 && p->phases[i] == ph; o++) {
			const struct object_info *info = &p->objects[o];
			if (info->wait != w)
				continue;
			if (info->on_delete) {
				r = buf_puts(out, "\tnot_waited ");
				if (r == 0)
					r = put_lower(out, info->kind);
				if (r == 0)
					r = BUF_PUTS(out, " '", info->name, "'\n");
			} else {
				r = BUF_PUTS(out, "\t", waits[w].call, " '", info->name, "'\n");
			}
		}
	}
	return r;
}

static int put_phase(struct buf *out, const struct plan *p, enum phase ph)
{
	if (!p->used[ph])
		return 0;
	int r = BUF_PUTS(out, "\tphase '", phase_titles[ph], "'\n");
	if (r == 0 && ph == PHASE_INGRESS)
		r = buf_puts(out, "\tbefore_ingress\n");
	if (r == 0 && ph == PHASE_INGRESS)
		r = put_ingress_checks(out, p, ph);
	for (size_t i = 0; i < p->n && r == 0; i++) {
		if (p->phases[i] != ph)
			continue;
		r = put_replicas(out, p, i);
		if (r == 0)
			r = BUF_PUTS(out, ph == PHASE_NAMESPACE ? "\tapply_namespace '" : "\tapply_file '",
				     p->files[i].name, "'\n");
	}
	for (size_t w = 0; w < COUNT(waits) && r == 0; w++)
		r = put_waits(out, p, ph, (int)w);
	return r;
}

static int put_apply_all(struct buf *out, const struct plan *p)
{
	int r = buf_puts(out, "apply_all() {\n");
	for (int ph = 0; ph < PHASE_COUNT && r == 0; ph++)
		r = put_phase(out, p, (enum phase)ph);
	return r ? r : buf_puts(out, "}\n");
}

/* The fixed script: the template past its own header (its first blank line), cut at
 * PLAN_MARK. -EINVAL when the embedded template is not shaped so (a build error). */
static int template_parts(const char **ret_body, size_t *ret_body_len, const char **ret_tail)
{
	const struct embed_file *f = embed_find(applysh_files, TEMPLATE);
	const char *text = f ? (const char *)f->data : NULL;
	const char *body = text ? strstr(text, "\n\n") : NULL;
	const char *mark = body ? strstr(body, "\n" PLAN_MARK) : NULL;
	if (!mark)
		return -EINVAL;
	*ret_body = body + 2;
	*ret_body_len = (size_t)(mark + 1 - *ret_body);
	*ret_tail = mark + 1 + strlen(PLAN_MARK);
	return 0;
}

static int put_script(struct buf *out, const struct plan *p)
{
	const char *body, *tail;
	size_t body_len;
	int r = template_parts(&body, &body_len, &tail);
	/* The fixed text alone: one allocation instead of a few doublings (and -E2BIG up
	 * front when even that does not fit). */
	if (r == 0)
		r = buf_reserve(out, sizeof(script_head) + body_len + strlen(tail));
	if (r == 0)
		r = buf_append(out, script_head, sizeof(script_head) - 1);
	if (r == 0)
		r = put_data(out, p);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	if (r == 0)
		r = buf_append(out, body, body_len);
	if (r == 0)
		r = put_check_references(out, p);
	if (r == 0)
		r = put_apply_all(out, p);
	return r ? r : buf_puts(out, tail);
}

int applysh_write_files(const struct render_meta *meta, const char *namespace,
			const struct applysh_file *files, size_t n, struct buf *out)
{
	size_t saved = out->len;
	struct plan p;
	int r = plan_build(&p, meta, namespace, files, n);
	if (r == 0)
		r = put_script(out, &p);
	plan_release(&p);
	if (r < 0 && out->data) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	return r;
}

int applysh_write(struct render *r, struct buf *out)
{
	size_t n = render_file_count(r);
	struct applysh_file *files = calloc(n ? n : 1, sizeof(*files));
	int ret = files ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct node *objects = NULL;
		ret = render_file_nodes(r, i, &objects);
		if (ret == 0) {
			files[i].name = render_file_name(r, i);
			files[i].objects = objects;
		}
	}
	if (ret == 0)
		ret = applysh_write_files(render_meta(r), render_namespace(r), files, n, out);
	free(files);
	return ret;
}

/* import_k8s: what the files of the Kubernetes YAML importer share: its state (the
 * objects of the input, the workloads and the documents being built) and the small
 * machinery every mapping step uses: jansson setters that remember an allocation failure,
 * JSON Pointers, the report, names, and the patches that carry what the document cannot
 * say. import_manifests.c reads the stream and maps what surrounds the workloads
 * (Services, config, secrets, Ingresses, autoscalers, extra objects); import_pods.c maps
 * one workload's pod; import_k8s.c holds the machinery. Not an API for other modules: the
 * importer's manual is include/import_manifests.h.
 *
 * Ownership: struct imp owns the documents it builds (stack, env, report) and the
 * workloads' patches; every json_t * of the input is borrowed from the parsed stream.
 * Every helper that builds JSON records an allocation failure in imp.rc (sticky
 * -ENOMEM) instead of returning it, so a mapping step reads straight through and the
 * importer checks rc at its end. */
#ifndef MANIFESTD_IMPORT_K8S_H
#define MANIFESTD_IMPORT_K8S_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "util.h"

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
	bool store;             /* a datastore: the component w->name, not a service (doc NULL) */
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
	bool keep_datastores;   /* datastores stay workloads (import_manifests_opts) */
	json_t *components;     /* stack.components (created by the first component) */
	json_t *stores;         /* component name -> {type, database?, user?}: what consumers get */
	int rc;                 /* sticky -ENOMEM */
};

static inline int oom(struct imp *im, int r)
{
	if (r < 0 && im->rc == 0)
		im->rc = r;
	return im->rc;
}

/* obj[key] = value (reference stolen, also on failure, as jansson's _new calls do); a
 * failure is remembered. */
static inline void set(struct imp *im, json_t *obj, const char *key, json_t *value)
{
	if (!value || !obj) {
		json_decref(value);
		(void)oom(im, -ENOMEM);
	} else if (json_object_set_new(obj, key, value) < 0) {
		(void)oom(im, -ENOMEM);
	}
}

static inline void append(struct imp *im, json_t *arr, json_t *value)
{
	if (!value || !arr) {
		json_decref(value);
		(void)oom(im, -ENOMEM);
	} else if (json_array_append_new(arr, value) < 0) {
		(void)oom(im, -ENOMEM);
	}
}

/* The object obj[key], created when missing (NULL only after a failure). */
static inline json_t *child(struct imp *im, json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);
	if (!c && obj) {
		set(im, obj, key, json_object());
		c = json_object_get(obj, key);
	}
	return c;
}

static inline const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static inline json_t *member(const json_t *o, const char *key)
{
	return json_object_get(o, key);
}

/* o[key] is the string s. */
static inline bool str_is(const json_t *o, const char *key, const char *s)
{
	const char *v = str(o, key);
	return v && strcmp(v, s) == 0;
}

static inline bool truthy(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static inline bool is_one_of(const char *s, const char *const *words)
{
	for (; s && *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* The text of a scalar: strings as they are, numbers and booleans written out (into
 * out, at most n bytes); NULL for anything else. */
static inline const char *scalar_text(const json_t *v, char *out, size_t n)
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
static inline long long int_of(const json_t *o, const char *key, long long min, long long max, long long dflt)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return dflt;
	return json_integer_value(v);
}

/* JSON Pointers are bufs: steps are appended and cut back (buf_truncate). */
static inline void step(struct imp *im, struct buf *p, const char *token)
{
	(void)oom(im, util_pointer_append(p, token));
}

static inline void stepi(struct imp *im, struct buf *p, size_t i)
{
	(void)oom(im, buf_printf(p, "/%zu", i));
}

/* A member the importer knows: mapped (dflt NULL), or left to Kubernetes' default value
 * dflt (JSON text), which needs carrying only when the input says otherwise. */
struct known {
	const char *key;
	const char *dflt;
};

/* What ik8s_leftovers calls for each member to carry. */
typedef void (*carry_fn)(struct imp *im, struct workload *w, const char *key, const json_t *value, void *arg);

/* Sets root's member at the pointer ptr (object steps only, created as needed). */
void ik8s_set_at(struct imp *im, json_t *root, const char *ptr, json_t *value);

/* Whether v, at nesting depth (the document is 1), fits a document's limits: strings and
 * keys of at most MODEL_MAX_STRING bytes, at most MODEL_MAX_DEPTH levels. */
bool ik8s_fits(const json_t *v, size_t depth);

/* o is a bare Pod: the import makes it a Deployment of one pod, or a Job when its
 * restartPolicy is Never or OnFailure; its metadata and spec are its pod template's. The
 * pointers the import writes for a workload's template (/spec/template/spec/...,
 * /spec/template/metadata/...) are reported at the Pod's own (/spec/..., /metadata/...). */
bool ik8s_bare_pod(const struct object *o);

/* Reports at the object o, at ptr (a JSON Pointer into it; NULL: the object). */
void ik8s_report(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ik8s_report of a guess (the item's "kind" is "guess"): what was decided without the
 * input saying it. */
void ik8s_guess(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A name made of s for a document key of format fmt (a DNS label; with letter_first, it
 * starts with a letter): lowercase, other characters -> '-', at most 63. "" when
 * nothing is left. */
void ik8s_label_of(const char *s, bool letter_first, char out[64]);

/* A key of keys not taken yet: base, else base-2, base-3... (at most 63 characters). */
void ik8s_unique_key(const json_t *keys, const char *base, char out[64]);

/* A label manifestd sets on every object itself (app.kubernetes.io/name, instance,
 * version, component, part-of, managed-by; helm.sh/chart; manifestd.io/...). */
bool ik8s_reserved_label(const char *key);

/* A JSON Patch operation on the rendered workload (value stolen, may be NULL). */
void ik8s_op(struct imp *im, struct workload *w, const char *kind, const char *path, json_t *value);

/* op, after a "test" that the list item at item_ptr is named name (so that the patch
 * fails loudly, not silently, if the rendered list is not laid out as expected). */
void ik8s_op_named(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		   const char *kind, const char *path, json_t *value);

/* The name of w's patch of a kind (merge, json, service, hpa...): SERVICE-what. */
void ik8s_patch_name(const struct workload *w, const char *what, char out[64]);

/* Carries value (copied) to the rendered workload at ptr with the merge patch, and
 * says so at ptr in the report. */
void ik8s_carry_merge(struct imp *im, struct workload *w, const char *ptr, const json_t *value, const char *why);

/* Carries value (copied) with a JSON Patch "add" at path of the container item_ptr
 * (named name in the render), saying so at report_ptr. */
void ik8s_carry_add(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		    const char *path, const json_t *value, const char *report_ptr, const char *why);

/* true when v equals the JSON text dflt. */
bool ik8s_is_default(const json_t *v, const char *dflt);

/* Calls carry(im, w, key, value, arg) for each member of obj that known does not list,
 * or lists with a default other than its value (null members are unset: skipped). */
void ik8s_leftovers(struct imp *im, struct workload *w, const json_t *obj, const struct known *known,
		    carry_fn carry, void *arg);

/* Whether the member key (value v) of an object is one to carry: not null, and not
 * listed in known, or listed with a default other than v. */
bool ik8s_to_carry(const struct known *known, const char *key, const json_t *v);

/* The document key of key in the ConfigMap (secret: Secret) name, or NULL when that
 * object is not mapped or has no such key. */
const char *ik8s_doc_key(const struct imp *im, bool secret, const char *name, const char *key);

/* Labels (or annotations) of the input without the ones manifestd sets itself; those
 * are reported at ptr. NULL when none is left. */
json_t *ik8s_own_labels(struct imp *im, const struct workload *w, const json_t *labels, const char *ptr);

/* Annotations of the input as text, without kubectl's and the Deployment controller's
 * and helm's checksum/ ones (manifestd writes its own). NULL when none is left. */
json_t *ik8s_own_annotations(struct imp *im, const json_t *annotations);

/* The service's container of w: its index in the pod's containers (the first one the
 * Service targets, else the one named like the workload, else the first). */
size_t ik8s_main_container(const struct workload *w);

/* import_stores.c: each Deployment or StatefulSet whose main container runs a datastore
 * image (importkit_datastore) becomes a component of the catalog's type named w->name
 * (w->store set, its document service removed, w->doc NULL), unless keep_datastores. Run
 * after the config and secrets are mapped, before the workloads. */
void ik8s_plan_stores(struct imp *im);

/* import_stores.c: the services whose pods name a component's Service (env values, the
 * config and secret values they read, init containers' commands) use it. Run after the
 * workloads are mapped. */
void ik8s_wire_stores(struct imp *im);

/* import_manifests.c: the workloads a label selector picks: the first one's index, or
 * NONE; *ret_count gets how many. */
size_t ik8s_selected(const struct imp *im, const json_t *selector, size_t *ret_count);

/* import_pods.c: maps the workload w (planned, named, its Service matched, the config
 * and secrets mapped) onto its document service w->doc, its patches and the report. */
void ik8s_map_workload(struct imp *im, struct workload *w);

#endif

/* render_common: what render's builder modules (render_pod, render_workload,
 * render_ingress, render_extra, render_netpol) share: the state of one render, which
 * render_new (render.c) fills and the builders only read, and the pieces of every object
 * (recommended labels, the object header, small node helpers).
 *
 * Invariants:
 * - struct render is complete once render_new returns 0, and read-only afterwards: any
 *   number of files may be built from it, in any order, each time giving the same tree.
 * - Strings in struct render, in its views (docview.h) and in r->doc outlive every tree
 *   built from r: a tree may borrow them (render_free comes after the last use).
 * - Builders return a node of the caller's arena, or NULL when out of memory; node_set,
 *   node_push, NODE_MAP and NODE_SEQ pass a NULL on, so a failure anywhere in an object
 *   becomes one NULL (one -ENOMEM), what was allocated staying in the arena.
 * Pure: no I/O. */
#ifndef MANIFESTD_RENDER_COMMON_H
#define MANIFESTD_RENDER_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "docview.h"
#include "model.h"
#include "node.h"
#include "render.h"

#define RENDER_MANAGED_BY "manifestd"

/* What a manifest file holds. */
enum render_file_kind {
	RENDER_FILE_NAMESPACE, /* the Namespace and the provenance ConfigMap */
	RENDER_FILE_CONFIG,
	RENDER_FILE_SECRETS,
	RENDER_FILE_NETWORK,
	RENDER_FILE_EXTRA,
	RENDER_FILE_SERVICE,
	RENDER_FILE_INGRESS,
};

/* An enabled service with what render_new derived from the document for it. */
struct render_service {
	const struct service_view *v;
	json_t *files_data;   /* data of its ConfigMap <name>-files, keys sorted; NULL: none */
	char *files_name;     /* "<name>-files" */
	char config_sum[65];  /* digest of the config keys its pods read; "" when none */
	char secrets_sum[65]; /* the same for the secrets */
	char files_sum[65];   /* digest of files_data; "" when none */
};

struct render_file {
	enum render_file_kind kind;
	const struct render_service *service; /* RENDER_FILE_SERVICE */
	char *name;
};

/* An object a patch changed: file, its place in the file, the patched object (owned). */
struct render_patched {
	size_t file, index;
	json_t *object;
};

struct render {
	json_t *doc;
	struct arena *arena;            /* what docview_read and the built objects allocate */
	struct doc_view view;           /* doc as render reads it */
	struct render_service *services; /* the enabled services, sorted by name */
	size_t nservices;
	struct render_meta meta;
	char *instance;        /* "<stack>-<environment>" */
	char *config_name;     /* "<stack>-config" */
	char *secrets_name;    /* /secretSource/name */
	char *provenance_name; /* "<stack>-bundle" */
	char *revision;        /* meta.revision in decimal */
	char hash[65];         /* the bundle hash */
	/* data of the ConfigMap and the Secret, keys sorted (Secret values base64): built
	 * once for the checksums, then borrowed by the objects (node_from_json) */
	json_t *config_data;
	json_t *secrets_data;
	const char **extra_ids; /* the keys of /extraObjects, sorted (borrowed from doc) */
	size_t nextras;
	struct render_file *files;
	size_t nfiles;
	struct render_patched *patched; /* what the patches made of their targets */
	size_t npatched;
	struct node **objects;          /* each file's objects, patched: built once by
					 * check_bundle, in arena */
	struct model_errors warnings;   /* model_warnings of doc */
};

/* Appends the objects of file i (in range) to out (a NODE_SEQ), as the builders make
 * them, before patches (render.c). 0 or -ENOMEM. */
int render_build_file(struct arena *a, const struct render *r, size_t i, struct node *out);

/* Appends val to seq. 0, or -ENOMEM when val or seq is NULL (an allocation failed). */
int render_push(struct node *seq, struct node *val);

/* Sets map[key] = val as json_object_set does: a key already there keeps its place and
 * takes the new value. map, or NULL as node_set. */
struct node *render_replace(struct node *map, const char *key, struct node *val);

/* A new map: base's entries, then those of extra (a JSON object of strings, borrowed;
 * NULL or empty: base itself is returned) whose keys base lacks. NULL when out of memory. */
struct node *render_map_with(struct arena *a, struct node *base, const json_t *extra);

/* The text of a new string formatted into a, or NULL when out of memory (which the
 * builders propagate like a NULL node). */
#define RENDER_PRINTF(a, ...) node_string(node_printf((a), __VA_ARGS__))

/* tag when it is a valid label value (app.kubernetes.io/version), else NULL. */
const char *render_label_version(const char *tag);

/* The recommended labels of name: app.kubernetes.io/name, instance, version (when not
 * NULL), component (when not NULL), part-of, managed-by, manifestd.io/stack and
 * manifestd.io/environment. */
struct node *render_labels(struct arena *a, const struct render *r, const char *name, const char *component,
			   const char *version);

/* The labels a selector matches on (name and instance): stable for an object's life. */
struct node *render_selector(struct arena *a, const struct render *r, const char *name);

/* What the objects of one workload share, built once per file (node.h: a node may appear
 * in several places): its name, the labels of its objects, its selector and the labels
 * of its pods. */
struct render_workload {
	const char *name;
	struct node *labels, *selector, *pod_labels;
};

/* The workload called name: render_labels (component and version may be NULL), then the
 * keys of extra (a JSON object of strings, borrowed; may be NULL) they lack; its pods
 * also get those of pod_extra. */
struct render_workload render_workload(struct arena *a, const struct render *r, const char *name,
				       const char *component, const char *version, const json_t *extra,
				       const json_t *pod_extra);

/* {apiVersion, kind, metadata: {name, namespace (but for a Namespace: the only
 * cluster-scoped kind render makes itself), labels, annotations (when annotations is a
 * non-empty JSON object of strings, borrowed)}}. */
struct node *render_object(struct arena *a, const struct render *r, const char *api, const char *kind,
			   const char *name, struct node *labels, const json_t *annotations);

/* {type: RuntimeDefault}: the seccomp profile of every pod and container. */
struct node *render_seccomp(struct arena *a);

/* map[key] = seq when seq has items; map itself otherwise (a NULL map or seq gives NULL). */
struct node *render_set_items(struct node *map, const char *key, struct node *seq);

/* {cpu, memory} and {requests, limits} of a resources view. */
struct node *render_cpu_memory(struct arena *a, const char *cpu, const char *memory);
struct node *render_resources(struct arena *a, const struct resources_view *res);

/* A JSON array of strings (borrowed) as a sequence; NULL when out of memory. */
struct node *render_strings(struct arena *a, const json_t *array);

/* The keys of obj (borrowed), sorted, in a malloc'd array the caller frees. 0 or -ENOMEM. */
int render_sorted_keys(const json_t *obj, const char ***ret_keys, size_t *ret_n);

/* strcmp for qsort of an array of const char *. */
int render_cmp_str(const void *a, const void *b);

/* A new malloc'd "a" "b" "c" joined; NULL on allocation failure. */
char *render_concat(const char *a, const char *b, const char *c);

#endif

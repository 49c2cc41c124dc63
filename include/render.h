/* render: a resolved document (model_resolve) -> the Kubernetes objects of the bundle,
 * as node trees (node.h; jansson for the few callers that want it), grouped into files
 * in apply order ("00-namespace.yaml", "10-config.yaml", "11-secrets.yaml",
 * "12-network.yaml", "20-extra.yaml", "50-<service>.yaml" (the workloads of components
 * too: include/components.h), ..., "90-ingress.yaml").
 * docs/schema.md says what each field of the document becomes.
 *
 * render_new plans the files, derives what they share (hashes, checksums), and builds
 * every object once to check what only the rendered objects show: no two objects of one
 * kind share a name, and every patch (/patches, in key order) names an object the bundle
 * renders and applies to it; the objects it built, patched, are kept, and
 * render_file_nodes hands them out (the bundle, apply.sh and a streamed response read
 * them; nothing builds them twice).
 *
 * Provenance: the revision and the bundle hash are on no object but the ConfigMap
 * "<stack>-bundle" (10-config.yaml), so a change to one value changes only the objects it
 * affects (and that ConfigMap).
 *
 * Pure: no I/O, no HTTP, no SQLite. The same document and meta give the same objects.
 * The builders live in render_pod, render_workload, render_ingress, render_extra and
 * render_netpol (render_common.h is what they share). */
#ifndef MANIFESTD_RENDER_H
#define MANIFESTD_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "model.h"
#include "node.h"

/* Where the bundle comes from; strings are borrowed and must outlive the render. */
struct render_meta {
	const char *stack;       /* stack name, a DNS label, e.g. "msa-shop" */
	const char *environment; /* environment name, a DNS label, e.g. "prod" */
	long long revision;      /* environment revision; 0 when rendered from files */
};

struct render;

/* Plans and checks the bundle of doc (borrowed; a json_incref is kept until
 * render_free). 0 and *ret; MODEL_EINVALID when the objects it would render break a rule
 * (two objects of one kind with one name, a patch whose target is not rendered or that
 * fails or changes what an object is, a ConfigMap key two inline files share, a
 * container or volume name the pod already uses): every such problem is appended to
 * errs (may be NULL) with its JSON Pointer, as model_resolve reports its own; -ENOMEM;
 * -EINVAL: doc is not a resolved document (a field render reads is missing or of the
 * wrong type), or stack/environment are not DNS labels, or "<stack>-<environment>" (the
 * app.kubernetes.io/instance label) is longer than 63. */
int render_new(const json_t *doc, const struct render_meta *meta, struct model_errors *errs,
	       struct render **ret);
/* Frees r; accepts NULL. */
void render_free(struct render *r);

/* Number of manifest files in the bundle. */
size_t render_file_count(const struct render *r);
/* Name of file i ("50-order-service.yaml"), borrowed from r; NULL when i is out of range. */
const char *render_file_name(const struct render *r, size_t i);
/* The objects of file i: a NODE_SEQ of its Kubernetes objects, patched, built once by
 * render_new and owned by r (valid until render_free; read them, never change them).
 * 0 and *ret_objects, or -EINVAL when i is out of range. */
int render_file_nodes(const struct render *r, size_t i, const struct node **ret_objects);
/* File i's objects as a new JSON array the caller json_decref()s (slower: for the
 * callers that edit or dump JSON). 0 and *ret_objects, -ENOMEM, -EINVAL. */
int render_file_objects(const struct render *r, size_t i, json_t **ret_objects);

/* The stack/environment/revision the render was made for (borrowed). */
const struct render_meta *render_meta(const struct render *r);
/* The resolved document (borrowed). */
const json_t *render_doc(const struct render *r);
/* The bundle hash (64 hex chars, borrowed): same hash <=> same document, meta and
 * manifestd version <=> same bytes. Kept in the provenance ConfigMap. */
const char *render_bundle_hash(const struct render *r);
/* The name of the ConfigMap that holds the provenance ("<stack>-bundle"), borrowed. Its
 * data: stack, environment, namespace, revision, bundleHash, manifestdVersion. */
const char *render_provenance_name(const struct render *r);
/* What the document does that deserves a second look (model_warnings), borrowed. */
const struct model_errors *render_warnings(const struct render *r);
/* The namespace every object lives in (borrowed). */
const char *render_namespace(const struct render *r);

#endif

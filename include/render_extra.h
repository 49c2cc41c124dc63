/* render_extra: the escape hatches of the document.
 * - extraObjects -> 20-extra.yaml, in key order: each object as written, with
 *   metadata.name defaulting to its key, the stack's namespace for a namespaced kind and
 *   none for a cluster-scoped one (schema_kind_cluster_scoped), and the stack's labels
 *   merged under its own (its own win).
 * - patches: one patch (an RFC 7386 merge patch or an RFC 6902 JSON Patch) applied to the
 *   JSON of a rendered object; render_new applies every patch in key order to the object
 *   its target names, and reports what fails.
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_EXTRA_H
#define MANIFESTD_RENDER_EXTRA_H

#include "render_common.h"

/* Appends every extra object (r->extra_ids order) to out (a NODE_SEQ). 0 or -ENOMEM. */
int extra_build(struct arena *a, const struct render *r, struct node *out);

/* Applies the patch called id (patch: its value in the document, borrowed) to *object
 * (the rendered object's JSON, owned by the caller). 0: applied (*object may be a new
 * value; the old one was released). 1: rejected, *object unchanged, the problem appended
 * to errs at /patches/<id>/...: an operation of a JSON Patch failed, or the patch would
 * change the object's apiVersion, kind, metadata.name or metadata.namespace. -ENOMEM. */
int extra_patch(const char *id, const json_t *patch, json_t **object, struct model_errors *errs);

#endif

/* render_check: what only the rendered objects show, checked once by render_new (it runs
 * when struct render is complete but for r->patched, which it fills):
 * - every file is built once (render_build_file, into r->arena; kept in r->objects, which
 *   render_file_nodes hands out) to list its objects' kinds and names;
 * - each patch, in key order, is applied to the object its target names (render_extra's
 *   extra_patch); the JSON of each object patches changed is kept in r->patched, and a
 *   patched service Job is renamed after its new spec (render_workload.h). A service's
 *   Job is named in a patch target by the service's name, its own name carrying a digest
 *   of its spec; every other object by its name;
 * - no two objects of one kind share a name (reported at the later one, an extra object
 *   after any other).
 * Pure: no I/O. */
#ifndef MANIFESTD_RENDER_CHECK_H
#define MANIFESTD_RENDER_CHECK_H

#include "render_common.h"

/* Runs the checks; problems are appended to errs. 0 (the caller compares errs->count),
 * or -ENOMEM. */
int check_bundle(struct render *r, struct model_errors *errs);

#endif

/* render_check: every object built once to check kinds and names, apply the patches and
 * keep what they make (include/render_check.h). */
#include "render_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render_extra.h"
#include "render_workload.h"
#include "util.h"

/* One rendered object: its kind and name, what patch targets call it, where it is. */
struct ref {
	const char *kind, *name, *target;
	size_t file, index;
	bool extra;      /* an extra object (reported after any other in a clash) */
	bool job;        /* a service's Job, named after its spec */
	bool patched;    /* r->patched[slot] is what the patches made of it */
	size_t slot;
};

struct check {
	struct render *r;
	struct arena *a;      /* the objects built once */
	struct node **files;  /* each file's NODE_SEQ */
	struct ref *refs;
	size_t nrefs, cap;
	struct model_errors *errs;
};

/* ---- every object, once ---------------------------------------------------------------- */

static int add_ref(struct check *c, const struct ref *ref)
{
	if (c->nrefs == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct ref *refs = realloc(c->refs, cap * sizeof *refs);
		if (!refs)
			return -ENOMEM;
		c->refs = refs;
		c->cap = cap;
	}
	c->refs[c->nrefs++] = *ref;
	return 0;
}

static int index_file(struct check *c, size_t i)
{
	const struct render_file *f = &c->r->files[i];
	struct node *out = c->files[i] = node_seq(c->a);
	int rc = out ? render_build_file(c->a, c->r, i, out) : -ENOMEM;
	size_t j = 0;
	for (const struct node_item *it = rc == 0 ? out->v.list.first : NULL; rc == 0 && it; it = it->next, j++) {
		const char *kind = node_string(node_get(it->val, "kind"));
		const char *name = node_string(node_get(node_get(it->val, "metadata"), "name"));
		bool job = f->kind == RENDER_FILE_SERVICE && strcmp(kind, "Job") == 0;
		const struct ref ref = {kind, name, job ? f->service->v->name : name, i, j,
					f->kind == RENDER_FILE_EXTRA, job, false, 0};
		rc = add_ref(c, &ref);
	}
	return rc;
}

/* ---- patches ------------------------------------------------------------------------------ */

static struct ref *find_target(struct check *c, const char *kind, const char *name)
{
	for (size_t i = 0; i < c->nrefs; i++)
		if (strcmp(c->refs[i].kind, kind) == 0 && strcmp(c->refs[i].target, name) == 0)
			return &c->refs[i];
	return NULL;
}

/* The target name of an object of kind closest to name, for "did you mean"; NULL if none. */
static const char *closest_target(const struct check *c, const char *kind, const char *name)
{
	const char *best = NULL;
	size_t best_d = model_suggest_limit(name);
	for (size_t i = 0; i < c->nrefs; i++) {
		if (strcmp(c->refs[i].kind, kind) != 0)
			continue;
		size_t d = util_edit_distance(name, c->refs[i].target, best_d);
		if (d < best_d) {
			best = c->refs[i].target;
			best_d = d;
		}
	}
	return best;
}

static int no_target(struct check *c, const char *id, const char *kind, const char *name)
{
	const char *guess = closest_target(c, kind, name);
	return model_errors_at(c->errs, MODEL_PTR("patches", id, "target"), NULL,
			       "names the %s \"%.*s%s\", which the bundle does not render%s%s%s (a service's Job "
			       "is named by its service)", kind, MODEL_CLIP(name), guess ? "; did you mean \"" : "",
			       guess ? guess : "", guess ? "\"?" : "");
}

/* ref's slot in r->patched, made (with the JSON of the object as built) on first use. */
static int patched_slot(struct check *c, struct ref *ref)
{
	if (ref->patched)
		return 0;
	const struct node_item *it = c->files[ref->file]->v.list.first;
	for (size_t j = 0; j < ref->index; j++)
		it = it->next;
	json_t *obj = node_to_json(it->val);
	if (!obj)
		return -ENOMEM;
	struct render *r = c->r;
	r->patched[r->npatched] = (struct render_patched){ref->file, ref->index, obj};
	ref->slot = r->npatched++;
	ref->patched = true;
	return 0;
}

/* Applies patch id to the object it targets. */
static int apply_patch(struct check *c, const char *id, const json_t *patch)
{
	const json_t *target = json_object_get(patch, "target");
	const char *kind = json_string_value(json_object_get(target, "kind"));
	const char *name = json_string_value(json_object_get(target, "name"));
	struct ref *ref = kind && name ? find_target(c, kind, name) : NULL;
	if (!ref)
		return kind && name ? no_target(c, id, kind, name) : 0;
	int rc = patched_slot(c, ref);
	if (rc == 0)
		rc = extra_patch(id, patch, &c->r->patched[ref->slot].object, c->errs);
	return rc < 0 ? rc : 0;
}

/* A patched service Job takes the name of its new spec. */
static int rename_job(struct check *c, struct ref *ref)
{
	json_t *obj = c->r->patched[ref->slot].object;
	json_t *meta = json_object_get(obj, "metadata");
	struct buf name;
	buf_init(&name, BUF_NO_MAX);
	int rc = workload_job_name(ref->target, json_object_get(obj, "spec"), &name);
	if (rc == 0 && json_object_set_new(meta, "name", json_string(buf_cstr(&name))) < 0)
		rc = -ENOMEM;
	buf_release(&name);
	if (rc == 0)
		ref->name = json_string_value(json_object_get(meta, "name"));
	return rc;
}

static int apply_patches(struct check *c)
{
	const json_t *patches = c->r->view.patches.count ? json_object_get(c->r->doc, "patches") : NULL;
	const char **ids = NULL;
	size_t n = 0;
	int rc = render_sorted_keys(patches, &ids, &n);
	c->r->patched = rc == 0 ? calloc(n ? n : 1, sizeof *c->r->patched) : NULL;
	if (rc == 0 && !c->r->patched)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply_patch(c, ids[i], json_object_get(patches, ids[i]));
	for (size_t i = 0; rc == 0 && i < c->nrefs; i++)
		if (c->refs[i].job && c->refs[i].patched)
			rc = rename_job(c, &c->refs[i]);
	free(ids);
	return rc;
}

/* ---- one name per kind ----------------------------------------------------------------------- */

static int cmp_ref(const void *pa, const void *pb)
{
	const struct ref *a = pa, *b = pb;
	int c = strcmp(a->kind, b->kind);
	if (c == 0)
		c = strcmp(a->name, b->name);
	if (c == 0)
		c = (int)a->extra - (int)b->extra;
	if (c == 0)
		c = a->file != b->file ? (a->file < b->file ? -1 : 1) : (a->index < b->index ? -1 : a->index > b->index);
	return c;
}

/* The pointer of the part of the document that made ref's object. */
static int origin(const struct render *r, const struct ref *ref, struct buf *b)
{
	static const char *const parts[] = {
		[RENDER_FILE_NAMESPACE] = "namespace", [RENDER_FILE_CONFIG] = "config",
		[RENDER_FILE_SECRETS] = "secretSource", [RENDER_FILE_INGRESS] = "ingress",
		[RENDER_FILE_EXTRA] = "extraObjects", [RENDER_FILE_SERVICE] = "services",
	};
	const struct render_file *f = &r->files[ref->file];
	int rc = util_pointer_append(b, parts[f->kind]);
	if (rc == 0 && f->kind == RENDER_FILE_EXTRA)
		rc = BUF_PUTS(b, "/", r->extra_ids[ref->index], "/metadata/name");
	if (rc == 0 && f->kind == RENDER_FILE_SERVICE)
		rc = util_pointer_append(b, f->service->v->name);
	if (rc == 0 && f->kind == RENDER_FILE_SERVICE && strcmp(ref->kind, "ServiceAccount") == 0)
		rc = buf_puts(b, "/serviceAccount/name");
	return rc;
}

static int report_clash(const struct check *c, const struct ref *first, const struct ref *later)
{
	struct buf at, other;
	buf_init(&at, BUF_NO_MAX);
	buf_init(&other, BUF_NO_MAX);
	int rc = origin(c->r, later, &at);
	if (rc == 0)
		rc = origin(c->r, first, &other);
	if (rc == 0)
		rc = model_errors_add(c->errs, buf_cstr(&at), "renders the %s \"%.*s%s\", which %s renders too: two "
				      "objects of one kind need two names", later->kind, MODEL_CLIP(later->name),
				      buf_cstr(&other));
	buf_release(&at);
	buf_release(&other);
	return rc < 0 ? -ENOMEM : 0;
}

static int check_names(struct check *c)
{
	qsort(c->refs, c->nrefs, sizeof *c->refs, cmp_ref);
	size_t first = 0;
	int rc = 0;
	for (size_t i = 1; rc == 0 && i < c->nrefs; i++) {
		const struct ref *a = &c->refs[first], *b = &c->refs[i];
		if (strcmp(a->kind, b->kind) || strcmp(a->name, b->name))
			first = i;
		else
			rc = report_clash(c, a, b);
	}
	return rc;
}

int check_bundle(struct render *r, struct model_errors *errs)
{
	struct check c = {.r = r, .a = r->arena, .errs = errs};
	c.files = r->objects = calloc(r->nfiles ? r->nfiles : 1, sizeof *c.files);
	int rc = c.files ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->nfiles; i++)
		rc = index_file(&c, i);
	if (rc == 0)
		rc = apply_patches(&c);
	if (rc == 0)
		rc = check_names(&c);
	free(c.refs);
	return rc;
}

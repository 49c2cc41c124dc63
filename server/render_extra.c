/* render_extra: extraObjects rendered into 20-extra.yaml, and patches applied to rendered
 * objects with their checks (include/render_extra.h). */
#include "render_extra.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "jsoniter.h"
#include "jsonpatch.h"
#include "schema.h"

/* ---- extra objects ------------------------------------------------------------------------- */

/* The stack's labels (base), each taking the object's own value when it has one, then the
 * object's other labels (own: a JSON object, borrowed; may be NULL). */
static struct node *merged_labels(struct arena *a, const struct node *base, const json_t *own)
{
	struct node *m = node_map(a);
	for (const struct node_item *it = base->v.list.first; it; it = it->next) {
		const json_t *mine = json_object_get(own, it->key);
		m = node_setn(m, it->key, it->key_len, mine ? node_from_json(a, mine) : it->val);
	}
	const char *key;
	json_t *v;
	EACH_MEMBER(own, key, v) {
		if (!node_get(base, key))
			m = node_setn(m, key, MEMBER_KEY_LEN(), node_from_json(a, v));
	}
	return m;
}

/* Every member of obj but the nsk first ones of skip, in order, appended to m. */
static struct node *rest_of(struct arena *a, struct node *m, const json_t *obj, const char *const *skip, size_t nsk)
{
	const char *key;
	json_t *v;
	EACH_MEMBER(obj, key, v) {
		bool skipped = false;
		for (size_t i = 0; i < nsk; i++)
			skipped |= strcmp(key, skip[i]) == 0;
		if (!skipped)
			m = node_setn(m, key, MEMBER_KEY_LEN(), node_from_json(a, v));
	}
	return m;
}

static struct node *extra_object(struct arena *a, const struct render *r, const char *id, const json_t *obj,
				 const struct node *labels)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata"};
	static const char *const own_meta[] = {"name", "namespace", "labels"};
	const json_t *meta = json_object_get(obj, "metadata");
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	struct node *m = NODE_MAP(a, {"name", node_str(a, name ? name : id)});
	if (!schema_kind_cluster_scoped(kind))
		m = node_set(m, "namespace", node_str(a, r->view.namespace));
	m = node_set(m, "labels", merged_labels(a, labels, json_object_get(meta, "labels")));
	m = rest_of(a, m, meta, own_meta, 3);
	struct node *o = NODE_MAP(a, {"apiVersion", node_from_json(a, json_object_get(obj, "apiVersion"))},
				  {"kind", node_str(a, kind)}, {"metadata", m});
	return rest_of(a, o, obj, top, 3);
}

int extra_build(struct arena *a, const struct render *r, struct node *out)
{
	const struct node *labels = render_labels(a, r, r->meta.stack, NULL, NULL);
	int rc = labels ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->nextras; i++)
		rc = render_push(out, extra_object(a, r, r->extra_ids[i],
						   json_object_get(r->view.extra_objects, r->extra_ids[i]), labels));
	return rc;
}

/* ---- patches ---------------------------------------------------------------------------- */

static const char *kind_of(const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	return kind ? kind : "?";
}

static const char *name_of(const json_t *obj)
{
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	return name ? name : "?";
}

/* What identifies an object: the first of these that differs between before and after,
 * or NULL. */
static const char *identity_change(const json_t *before, const json_t *after)
{
	static const char *const top[] = {"apiVersion", "kind"}, *const meta[] = {"name", "namespace"};
	const json_t *mb = json_object_get(before, "metadata"), *ma = json_object_get(after, "metadata");
	for (size_t i = 0; i < 2; i++) {
		const json_t *b = json_object_get(before, top[i]), *x = json_object_get(after, top[i]);
		if (!(b == x || (b && x && json_equal(b, x))))
			return top[i];
		b = json_object_get(mb, meta[i]), x = json_object_get(ma, meta[i]);
		if (!(b == x || (b && x && json_equal(b, x))))
			return i == 0 ? "metadata.name" : "metadata.namespace";
	}
	return NULL;
}

static const char *fault_text(enum jsonpatch_fault f)
{
	switch (f) {
	case JSONPATCH_BAD_OP:
		return "is not an operation: it needs \"op\" and \"path\"";
	case JSONPATCH_NO_VALUE:
		return "needs a \"value\"";
	case JSONPATCH_NO_FROM:
		return "needs \"from\": the pointer to move or copy";
	case JSONPATCH_BAD_POINTER:
		return "is not a JSON Pointer (RFC 6901): \"\" or '/' and reference tokens, with '~' only as ~0 or ~1";
	case JSONPATCH_NOT_FOUND:
		return "names nothing in the rendered object";
	case JSONPATCH_NO_PARENT:
		return "adds below something that is not an object or array in the rendered object";
	case JSONPATCH_BAD_INDEX:
		return "has an array index that is not in the array (0 to its length - 1; \"-\" adds at the end)";
	case JSONPATCH_INTO_ITSELF:
		return "is inside \"from\": a value cannot move into itself";
	case JSONPATCH_ROOT:
		return "removes the whole object: leave the object out of the bundle instead";
	case JSONPATCH_TEST_FAILED:
		return "tests a value that differs from the rendered object's";
	}
	return "fails";
}

/* The problem of a failed JSON Patch operation, at the operation (or its path or from). */
static int report_fault(const char *id, const struct jsonpatch_failure *f, const json_t *object,
			struct model_errors *errs)
{
	struct buf index;
	buf_init(&index, 32);
	bool at_pointer = f->fault != JSONPATCH_BAD_OP && f->fault != JSONPATCH_NO_VALUE &&
			  f->fault != JSONPATCH_NO_FROM && f->fault != JSONPATCH_TEST_FAILED;
	int rc = buf_printf(&index, "%zu", f->index);
	if (rc == 0)
		rc = model_errors_at(errs, MODEL_PTR("patches", id, "jsonPatch", buf_cstr(&index),
						     at_pointer ? f->member : NULL),
				     NULL, "%s (the %s \"%s\")", fault_text(f->fault), kind_of(object), name_of(object));
	buf_release(&index);
	return rc < 0 ? -ENOMEM : 1;
}

int extra_patch(const char *id, const json_t *patch, json_t **object, struct model_errors *errs)
{
	const json_t *merge = json_object_get(patch, "merge");
	json_t *next = merge ? json_deep_copy(*object) : json_incref(*object);
	struct jsonpatch_failure f;
	int rc = next ? 0 : -ENOMEM;
	if (rc == 0 && merge)
		rc = model_merge_patch(&next, merge);
	else if (rc == 0)
		rc = jsonpatch_apply(&next, json_object_get(patch, "jsonPatch"), &f);
	if (rc == JSONPATCH_EFAIL)
		rc = report_fault(id, &f, *object, errs);
	const char *changed = rc == 0 ? identity_change(*object, next) : NULL;
	if (changed)
		rc = model_errors_at(errs, MODEL_PTR("patches", id, merge ? "merge" : "jsonPatch"), NULL,
				     "changes %s of the %s \"%s\": a patch may not change what an object is (apiVersion, "
				     "kind, metadata.name, metadata.namespace)", changed, kind_of(*object),
				     name_of(*object)) < 0 ? -ENOMEM : 1;
	if (rc != 0) {
		json_decref(next);
		return rc;
	}
	json_decref(*object);
	*object = next;
	return 0;
}

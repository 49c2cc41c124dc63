/* jsonpatch: RFC 6902 JSON Patch over jansson values (include/jsonpatch.h). The patch is
 * applied to a deep copy, which replaces the document only when every operation succeeds. */
#include "jsonpatch.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"

/* What one operation works on, and how it failed. */
struct op {
	const json_t *v;
	const char *path, *from;
	struct jsonpatch_failure *fail;
};

static int fault(struct op *o, enum jsonpatch_fault f, bool from)
{
	o->fail->fault = f;
	o->fail->member = from ? "from" : "path";
	o->fail->pointer = from ? o->from : o->path;
	return JSONPATCH_EFAIL;
}

/* Decodes the reference token at *p (after its '/') into tok and moves *p past it.
 * -EINVAL for a '~' not followed by 0 or 1. */
static int next_token(const char **p, struct buf *tok)
{
	buf_reset(tok);
	int rc = 0;
	const char *s = *p;
	for (; rc == 0 && *s && *s != '/'; s++) {
		if (*s != '~') {
			rc = buf_append(tok, s, 1);
			continue;
		}
		if (s[1] != '0' && s[1] != '1')
			return -EINVAL;
		rc = buf_append(tok, s[1] == '0' ? "~" : "/", 1);
		s++;
	}
	*p = s;
	return rc == 0 ? 0 : -ENOMEM;
}

/* An array index: "0" or digits without a leading zero, below limit; -1 otherwise. */
static long long array_index(const char *tok, size_t limit)
{
	size_t n = strlen(tok);
	if (n == 0 || n > 18 || (tok[0] == '0' && n > 1))
		return -1;
	long long i = 0;
	for (size_t k = 0; k < n; k++) {
		if (tok[k] < '0' || tok[k] > '9')
			return -1;
		i = i * 10 + (tok[k] - '0');
	}
	return (size_t)i < limit ? i : -1;
}

/* The member or item tok of v, or NULL. */
static json_t *child(json_t *v, const char *tok)
{
	if (json_is_object(v))
		return json_object_get(v, tok);
	long long i = json_is_array(v) ? array_index(tok, json_array_size(v)) : -1;
	return i >= 0 ? json_array_get(v, (size_t)i) : NULL;
}

/* Walks ptr in root: *ret_parent the value holding the last token (NULL for ""), tok
 * that token. JSONPATCH_EFAIL (fault set) when the pointer is malformed or a step is
 * missing; -ENOMEM. */
static int walk(struct op *o, json_t *root, bool from, json_t **ret_parent, struct buf *tok)
{
	const char *p = from ? o->from : o->path;
	json_t *parent = NULL, *cur = root;
	if (*p && *p != '/')
		return fault(o, JSONPATCH_BAD_POINTER, from);
	while (*p) {
		p++;
		int rc = next_token(&p, tok);
		if (rc == -EINVAL)
			return fault(o, JSONPATCH_BAD_POINTER, from);
		if (rc < 0)
			return rc;
		if (*p && !(cur = child(cur, buf_cstr(tok))))
			return fault(o, JSONPATCH_NOT_FOUND, from);
		parent = *p ? NULL : cur;
	}
	*ret_parent = parent;
	return 0;
}

/* The value at the pointer (borrowed), or JSONPATCH_EFAIL. */
static int get(struct op *o, json_t *root, bool from, struct buf *tok, json_t **ret)
{
	json_t *parent = NULL;
	int rc = walk(o, root, from, &parent, tok);
	if (rc < 0)
		return rc;
	json_t *v = parent ? child(parent, buf_cstr(tok)) : root;
	if (!v)
		return fault(o, json_is_array(parent) ? JSONPATCH_BAD_INDEX : JSONPATCH_NOT_FOUND, from);
	*ret = v;
	return 0;
}

/* Puts value (stolen) at path: a new member, an inserted item, or the whole document. */
static int add(struct op *o, json_t **root, json_t *value, struct buf *tok)
{
	json_t *parent = NULL;
	int rc = value ? walk(o, *root, false, &parent, tok) : -ENOMEM;
	if (rc == 0 && !*o->path) {
		json_decref(*root);
		*root = value;
		return 0;
	}
	if (rc == 0 && json_is_object(parent))
		return json_object_set_new(parent, buf_cstr(tok), value) < 0 ? -ENOMEM : 0;
	if (rc == 0 && !json_is_array(parent))
		rc = fault(o, JSONPATCH_NO_PARENT, false);
	size_t size = rc == 0 ? json_array_size(parent) : 0;
	long long i = rc == 0 && strcmp(buf_cstr(tok), "-") == 0 ? (long long)size : array_index(buf_cstr(tok), size + 1);
	if (rc == 0 && i < 0)
		rc = fault(o, JSONPATCH_BAD_INDEX, false);
	if (rc == 0)
		return json_array_insert_new(parent, (size_t)i, value) < 0 ? -ENOMEM : 0;
	json_decref(value);
	return rc;
}

/* Removes what from (or path) names; *ret_value: a reference to it when not NULL. */
static int take(struct op *o, json_t *root, bool from, struct buf *tok, json_t **ret_value)
{
	json_t *v = NULL, *parent = NULL;
	int rc = get(o, root, from, tok, &v);
	if (rc == 0 && v == root)
		return fault(o, JSONPATCH_ROOT, from);
	if (rc == 0)
		rc = walk(o, root, from, &parent, tok);
	if (rc < 0)
		return rc;
	if (ret_value)
		*ret_value = json_incref(v);
	if (json_is_object(parent))
		return json_object_del(parent, buf_cstr(tok)) < 0 ? -ENOMEM : 0;
	return json_array_remove(parent, (size_t)array_index(buf_cstr(tok), json_array_size(parent))) < 0 ? -ENOMEM
													   : 0;
}

static int op_value(struct op *o, json_t **ret)
{
	json_t *v = json_object_get(o->v, "value");
	if (!v)
		return fault(o, JSONPATCH_NO_VALUE, false);
	*ret = v;
	return 0;
}

static int op_move(struct op *o, json_t **root, struct buf *tok)
{
	size_t n = strlen(o->from);
	json_t *v = NULL;
	if (strcmp(o->from, o->path) == 0)
		return 0;
	if (strncmp(o->path, o->from, n) == 0 && o->path[n] == '/')
		return fault(o, JSONPATCH_INTO_ITSELF, false);
	int rc = take(o, *root, true, tok, &v);
	return rc < 0 ? rc : add(o, root, v, tok);
}

static int op_copy(struct op *o, json_t **root, struct buf *tok)
{
	json_t *v = NULL;
	int rc = get(o, *root, true, tok, &v);
	return rc < 0 ? rc : add(o, root, json_deep_copy(v), tok);
}

static int op_test(struct op *o, json_t *root, struct buf *tok)
{
	json_t *want = NULL, *got = NULL;
	int rc = op_value(o, &want);
	if (rc == 0)
		rc = get(o, root, false, tok, &got);
	if (rc == 0 && !json_equal(got, want))
		rc = fault(o, JSONPATCH_TEST_FAILED, false);
	return rc;
}

/* Replaces the value at path in place (an object member keeps its place). */
static int op_replace(struct op *o, json_t **root, struct buf *tok)
{
	json_t *v = NULL, *old = NULL, *parent = NULL;
	int rc = op_value(o, &v);
	if (rc == 0)
		rc = get(o, *root, false, tok, &old);
	if (rc == 0 && old == *root)
		return add(o, root, json_deep_copy(v), tok);
	if (rc == 0)
		rc = walk(o, *root, false, &parent, tok);
	json_t *copy = rc == 0 ? json_deep_copy(v) : NULL;
	if (rc < 0 || !copy)
		return rc < 0 ? rc : -ENOMEM;
	if (json_is_object(parent))
		return json_object_set_new(parent, buf_cstr(tok), copy) < 0 ? -ENOMEM : 0;
	return json_array_set_new(parent, (size_t)array_index(buf_cstr(tok), json_array_size(parent)), copy) < 0
		       ? -ENOMEM
		       : 0;
}

static int apply_one(struct op *o, json_t **root, struct buf *tok)
{
	const char *name = json_string_value(json_object_get(o->v, "op"));
	json_t *v = NULL;
	o->path = json_string_value(json_object_get(o->v, "path"));
	o->from = json_string_value(json_object_get(o->v, "from"));
	if (!name || !o->path)
		return fault(o, JSONPATCH_BAD_OP, false);
	if ((!strcmp(name, "move") || !strcmp(name, "copy")) && !o->from)
		return fault(o, JSONPATCH_NO_FROM, false);
	if (!strcmp(name, "add")) {
		int rc = op_value(o, &v);
		return rc < 0 ? rc : add(o, root, json_deep_copy(v), tok);
	}
	if (!strcmp(name, "remove"))
		return take(o, *root, false, tok, NULL);
	if (!strcmp(name, "replace"))
		return op_replace(o, root, tok);
	if (!strcmp(name, "move"))
		return op_move(o, root, tok);
	if (!strcmp(name, "copy"))
		return op_copy(o, root, tok);
	if (!strcmp(name, "test"))
		return op_test(o, *root, tok);
	return fault(o, JSONPATCH_BAD_OP, false);
}

int jsonpatch_apply(json_t **doc, const json_t *ops, struct jsonpatch_failure *ret_failure)
{
	json_t *copy = json_deep_copy(*doc);
	struct buf tok;
	struct jsonpatch_failure fail = {0};
	int rc = copy ? 0 : -ENOMEM;
	buf_init(&tok, BUF_NO_MAX);
	for (size_t i = 0; rc == 0 && i < json_array_size(ops); i++) {
		struct op o = {json_array_get(ops, i), NULL, NULL, &fail};
		fail.index = i;
		rc = apply_one(&o, &copy, &tok);
	}
	buf_release(&tok);
	if (rc < 0) {
		json_decref(copy);
		if (rc == JSONPATCH_EFAIL)
			*ret_failure = fail;
		return rc;
	}
	json_decref(*doc);
	*doc = copy;
	return 0;
}

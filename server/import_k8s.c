/* import_k8s: the Kubernetes importer's machinery: JSON Pointers, the report, names,
 * patches, the leftovers of an object the document has no field for. */
#include "import_k8s.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---- JSON Pointers ---- */

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
void ik8s_set_at(struct imp *im, json_t *root, const char *ptr, json_t *value)
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
bool ik8s_fits(const json_t *v, size_t depth)
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
		if (strlen(key) > MODEL_MAX_STRING || !ik8s_fits(m, depth + 1))
			return false;
	json_array_foreach(v, i, m)
		if (!ik8s_fits(m, depth + 1))
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

static void vreport(struct imp *im, const char *kind, const struct object *o, const char *ptr, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

bool ik8s_bare_pod(const struct object *o)
{
	return strcmp(o->kind, "Pod") == 0;
}

/* ptr (written for a workload's pod template) where o is: a bare Pod's template is itself. */
static const char *input_pointer(const struct object *o, const char *ptr)
{
	static const char tmpl[] = "/spec/template";
	const size_t n = sizeof tmpl - 1;
	if (!ptr || !ik8s_bare_pod(o) || strncmp(ptr, tmpl, n) != 0 || ptr[n] != '/')
		return ptr;
	return ptr + n;
}

/* kind: NULL, or "guess" (what was decided without the input saying it). */
static void vreport(struct imp *im, const char *kind, const struct object *o, const char *ptr, const char *fmt,
		    va_list ap)
{
	ptr = input_pointer(o, ptr);
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
	if (item && kind)
		set(im, item, "kind", json_string(kind));
	append(im, im->report, item);
	buf_release(&path);
	buf_release(&detail);
}

/* Reports at the object o, at ptr (a JSON Pointer into it; NULL: the object). */
void ik8s_report(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(im, NULL, o, ptr, fmt, ap);
	va_end(ap);
}

void ik8s_guess(struct imp *im, const struct object *o, const char *ptr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(im, "guess", o, ptr, fmt, ap);
	va_end(ap);
}

/* ---- names ---- */

/* A name made of s for a document key of format fmt (a DNS label; with letter_first, it
 * starts with a letter): lowercase, other characters -> '-', at most 63. "" when
 * nothing is left. */
void ik8s_label_of(const char *s, bool letter_first, char out[64])
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
void ik8s_unique_key(const json_t *keys, const char *base, char out[64])
{
	(void)snprintf(out, 64, "%s", base);
	for (int i = 2; json_object_get(keys, out); i++) {
		char suffix[16];
		int n = snprintf(suffix, sizeof suffix, "-%d", i);
		size_t keep = strlen(base) > 63 - (size_t)n ? 63 - (size_t)n : strlen(base);
		(void)snprintf(out, 64, "%.*s%s", (int)keep, base, suffix);
	}
}

bool ik8s_reserved_label(const char *key)
{
	static const char *const keys[] = {"app.kubernetes.io/name", "app.kubernetes.io/instance",
					   "app.kubernetes.io/version", "app.kubernetes.io/component",
					   "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
					   "helm.sh/chart", NULL};
	return is_one_of(key, keys) || strncmp(key, "manifestd.io/", 13) == 0;
}

/* ==== patches: what the document has no place for ==== */

/* A JSON Patch operation on the rendered workload (value stolen, may be NULL). */
void ik8s_op(struct imp *im, struct workload *w, const char *kind, const char *path, json_t *value)
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
void ik8s_op_named(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		   const char *kind, const char *path, json_t *value)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, BUF_PUTS(&p, item_ptr, "/name"));
	ik8s_op(im, w, "test", buf_cstr(&p), json_string(name));
	ik8s_op(im, w, kind, path, value);
	buf_release(&p);
}

void ik8s_patch_name(const struct workload *w, const char *what, char out[64])
{
	(void)snprintf(out, 64, "%.*s-%s", (int)(62 - strlen(what)), w->name, what);
}

/* Carries value (copied) to the rendered workload at ptr with the merge patch, and
 * says so at ptr in the report. */
void ik8s_carry_merge(struct imp *im, struct workload *w, const char *ptr, const json_t *value, const char *why)
{
	char name[64];
	ik8s_patch_name(w, "merge", name);
	ik8s_set_at(im, w->merge, ptr, json_deep_copy(value));
	ik8s_report(im, w->o, ptr, "%s: carried by the patch '%s'", why, name);
}

/* Carries value (copied) with a JSON Patch "add" at path of the container item_ptr
 * (named name in the render), saying so at report_ptr. */
void ik8s_carry_add(struct imp *im, struct workload *w, const char *item_ptr, const char *name,
		    const char *path, const json_t *value, const char *report_ptr, const char *why)
{
	char pname[64];
	ik8s_patch_name(w, "json", pname);
	ik8s_op_named(im, w, item_ptr, name, "add", path, json_deep_copy(value));
	ik8s_report(im, w->o, report_ptr, "%s: carried by the patch '%s'", why, pname);
}

/* true when v equals the JSON text dflt. */
bool ik8s_is_default(const json_t *v, const char *dflt)
{
	json_t *d = dflt ? json_loads(dflt, JSON_DECODE_ANY, NULL) : NULL;
	bool eq = d && json_equal(d, v);
	json_decref(d);
	return eq;
}

void ik8s_leftovers(struct imp *im, struct workload *w, const json_t *obj, const struct known *known,
		    carry_fn carry, void *arg)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		if (ik8s_to_carry(known, key, v))
			carry(im, w, key, v, arg);
}

bool ik8s_to_carry(const struct known *known, const char *key, const json_t *v)
{
	const struct known *k = known;
	while (k->key && strcmp(k->key, key) != 0)
		k++;
	return !json_is_null(v) && !(k->key && (!k->dflt || ik8s_is_default(v, k->dflt)));
}

/* The document key of key in the ConfigMap (secret: Secret) name, or NULL when that
 * object is not mapped or has no such key. */
const char *ik8s_doc_key(const struct imp *im, bool secret, const char *name, const char *key)
{
	return str(member(secret ? im->secret_keys : im->cm_keys, name), key);
}

static bool label_kept(const char *key)
{
	return !ik8s_reserved_label(key);
}

static bool annotation_kept(const char *key)
{
	static const char *const drop[] = {"kubectl.kubernetes.io/last-applied-configuration",
					   "deployment.kubernetes.io/revision", NULL};
	/* helm's checksum annotations: manifestd writes its own, of what each pod reads */
	return !is_one_of(key, drop) && strncmp(key, "checksum/", 9) != 0;
}

/* The members of map whose keys keep accepts, their values as text (a new object), or
 * NULL when none is left. *ret_dropped tells whether keep refused any. */
static json_t *texts(struct imp *im, const json_t *map, bool (*keep)(const char *key), bool *ret_dropped)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	*ret_dropped = false;
	json_object_foreach((json_t *)map, key, v) {
		char tmp[64];
		const char *text = scalar_text(v, tmp, sizeof tmp);
		*ret_dropped |= !keep(key);
		if (text && keep(key))
			set(im, out, key, json_string(text));
	}
	if (json_object_size(out))
		return out;
	json_decref(out);
	return NULL;
}

json_t *ik8s_own_labels(struct imp *im, const struct workload *w, const json_t *labels, const char *ptr)
{
	bool dropped;
	json_t *out = texts(im, labels, label_kept, &dropped);
	if (dropped)
		ik8s_report(im, w->o, ptr, "app.kubernetes.io/name, instance, version, component, part-of, managed-by and helm.sh/chart are set by manifestd: theirs are not kept");
	return out;
}

json_t *ik8s_own_annotations(struct imp *im, const json_t *annotations)
{
	bool dropped;
	return texts(im, annotations, annotation_kept, &dropped);
}

/* docview: reads a resolved document once into the typed views of docview.h, checking
 * every member it reads, driven by the member tables viewgen writes from schema.json. */
#include "docview.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsoniter.h"
#include "util.h"

/* What docview_read does with one member (viewgen.c writes the tables). */
enum view_kind {
	VF_STR,     /* const char * */
	VF_INT,     /* json_int_t */
	VF_OPT_INT, /* struct opt_int: an integer or null */
	VF_BOOL,    /* bool */
	VF_OPT_BOOL, /* struct opt_bool: a boolean or null */
	VF_IOS,     /* struct int_or_string */
	VF_OBJ,     /* an embedded struct read with sub */
	VF_OBJ_PTR, /* a pointer to a struct of size bytes in the arena; NULL for null */
	VF_LIST,    /* struct VIEW_list: a map's values, of size bytes, read with sub */
	VF_ARRAY,   /* struct VIEW_list: an array's items, likewise */
	VF_STRMAP,  /* const json_t *: an object of strings */
	VF_JSON,    /* const json_t *: any value */
};

struct view_field {
	const char *key;
	size_t key_len;
	enum view_kind kind;
	bool optional; /* may be absent (it then reads as zero, NULL or an empty list) */
	bool nullable; /* may be null (it then reads as NULL or an unset opt_int or opt_bool) */
	size_t off;    /* where the value goes in the struct being read */
	const struct view_field *sub;
	size_t nsub;
	size_t size; /* VF_OBJ_PTR and VF_LIST: the struct's size */
};

#include "docview_fields.inc"

/* Every struct VIEW_list has this layout (viewgen writes them alike). */
struct any_list {
	size_t count;
	void *items;
	bool present;
};

static int read_fields(struct arena *a, const json_t *obj, const struct view_field *f, size_t n, void *base);

static bool strings_only(const json_t *obj)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj))
		return false;
	EACH_MEMBER(obj, key, v) {
		(void)key;
		if (!json_is_string(v))
			return false;
	}
	return true;
}

/* n zeroed bytes in a (NULL when out of memory). */
static void *zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n ? n : 1);
	if (p)
		memset(p, 0, n ? n : 1);
	return p;
}

/* One item of a list at item (size bytes, zeroed), its name key (NULL for array items). */
static int read_item(struct arena *a, const json_t *v, const struct view_field *f, char *item, const char *key)
{
	*(const char **)item = key; /* a list item's first member is its name */
	return read_fields(a, v, f->sub, f->nsub, item);
}

static int read_list(struct arena *a, const json_t *v, const struct view_field *f, void *slot)
{
	size_t n = json_is_object(v) ? json_object_size(v) : json_array_size(v);
	struct any_list list = {n, n ? zalloc(a, n * f->size) : NULL, true};
	int r = !json_is_object(v) && !json_is_array(v) ? -EINVAL : n && !list.items ? -ENOMEM : 0;
	if (json_is_array(v))
		for (size_t i = 0; r == 0 && i < n; i++)
			r = read_item(a, json_array_get(v, i), f, (char *)list.items + i * f->size, NULL);
	size_t i = 0;
	const char *key;
	json_t *item;
	if (json_is_object(v)) {
		EACH_MEMBER(v, key, item) {
			if (r == 0)
				r = read_item(a, item, f, (char *)list.items + i++ * f->size, key);
		}
	}
	if (r == 0)
		memcpy(slot, &list, sizeof list);
	return r;
}

static int read_pointer(struct arena *a, const json_t *v, const struct view_field *f, void *slot)
{
	if (json_is_null(v))
		return 0;
	void *p = zalloc(a, f->size);
	if (!p)
		return -ENOMEM;
	*(void **)slot = p;
	return read_fields(a, v, f->sub, f->nsub, p);
}

/* Stores v into slot as f says. -EINVAL when v is of another type. */
static int read_field(struct arena *a, const json_t *v, const struct view_field *f, void *slot)
{
	switch (f->kind) {
	case VF_STR:
		*(const char **)slot = json_string_value(v);
		return json_is_string(v) ? 0 : -EINVAL;
	case VF_INT:
		*(json_int_t *)slot = json_integer_value(v);
		return json_is_integer(v) ? 0 : -EINVAL;
	case VF_OPT_INT:
		*(struct opt_int *)slot = (struct opt_int){json_is_integer(v), json_integer_value(v)};
		return json_is_integer(v) || json_is_null(v) ? 0 : -EINVAL;
	case VF_BOOL:
		*(bool *)slot = json_is_true(v);
		return json_is_boolean(v) ? 0 : -EINVAL;
	case VF_OPT_BOOL:
		*(struct opt_bool *)slot = (struct opt_bool){json_is_boolean(v), json_is_true(v)};
		return json_is_boolean(v) || json_is_null(v) ? 0 : -EINVAL;
	case VF_IOS:
		*(struct int_or_string *)slot = (struct int_or_string){json_string_value(v), json_integer_value(v)};
		return json_is_string(v) || json_is_integer(v) ? 0 : -EINVAL;
	case VF_OBJ:
		return read_fields(a, v, f->sub, f->nsub, slot);
	case VF_OBJ_PTR:
		return read_pointer(a, v, f, slot);
	case VF_LIST:
		return json_is_object(v) ? read_list(a, v, f, slot) : -EINVAL;
	case VF_ARRAY:
		return json_is_array(v) ? read_list(a, v, f, slot) : -EINVAL;
	case VF_STRMAP:
		*(const json_t **)slot = v;
		return strings_only(v) ? 0 : -EINVAL;
	case VF_JSON:
		*(const json_t **)slot = json_is_null(v) ? NULL : v;
		return 0;
	}
	return -EINVAL;
}

/* obj[f->key], or NULL. Found without hashing when it is the member at *it (members
 * mostly come in the tables' order), else looked up; *it then moves past the member found. */
static const json_t *member(const json_t *obj, void **it, const struct view_field *f)
{
	if (!*it || json_object_iter_key_len(*it) != f->key_len ||
	    memcmp(json_object_iter_key(*it), f->key, f->key_len) != 0)
		*it = json_object_iter_at((json_t *)obj, f->key);
	const json_t *v = json_object_iter_value(*it);
	*it = json_object_iter_next((json_t *)obj, *it);
	return v;
}

/* Reads the n members of obj into the struct at base (zeroed by the caller). */
static int read_fields(struct arena *a, const json_t *obj, const struct view_field *f, size_t n, void *base)
{
	if (!json_is_object(obj))
		return -EINVAL;
	void *it = json_object_iter((json_t *)obj);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = member(obj, &it, &f[i]);
		if (json_is_null(v) && !f[i].nullable && f[i].kind != VF_JSON)
			return -EINVAL;
		int r = v ? read_field(a, v, &f[i], (char *)base + f[i].off) : f[i].optional ? 0 : -EINVAL;
		if (r < 0)
			return r;
	}
	return 0;
}

int docview_read(const json_t *doc, struct arena *a, struct doc_view *ret_view)
{
	struct doc_view v;
	memset(&v, 0, sizeof v);
	int r = read_fields(a, doc, doc_view_fields, sizeof doc_view_fields / sizeof *doc_view_fields, &v);
	for (size_t i = 0; r == 0 && i < v.services.count; i++)
		if (!util_is_dns_label(v.services.items[i].name))
			r = -EINVAL;
	if (r == 0)
		*ret_view = v;
	return r;
}

const struct service_view *docview_find_service(const struct doc_view *view, const char *name)
{
	for (size_t i = 0; i < view->services.count; i++)
		if (strcmp(view->services.items[i].name, name) == 0)
			return &view->services.items[i];
	return NULL;
}

/* ---- back to JSON ---------------------------------------------------------------------- */

static json_t *fields_json(const struct view_field *f, size_t n, const void *base);

static json_t *list_json(const struct view_field *f, const void *slot)
{
	struct any_list list;
	memcpy(&list, slot, sizeof list);
	json_t *out = f->kind == VF_LIST ? json_object() : json_array();
	for (size_t i = 0; out && i < list.count; i++) {
		const char *item = (const char *)list.items + i * f->size;
		json_t *v = fields_json(f->sub, f->nsub, item);
		int r = json_is_object(out) ? json_object_set_new(out, *(const char *const *)item, v)
					    : json_array_append_new(out, v);
		if (r < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* The value of the member at slot as JSON; NULL for one that was absent (or out of memory). */
static json_t *field_json(const struct view_field *f, const void *slot)
{
	switch (f->kind) {
	case VF_STR:
		return *(const char *const *)slot ? json_string(*(const char *const *)slot) : NULL;
	case VF_INT:
		return json_integer(*(const json_int_t *)slot);
	case VF_OPT_INT:
		return ((const struct opt_int *)slot)->set ? json_integer(((const struct opt_int *)slot)->value)
							   : json_null();
	case VF_BOOL:
		return json_boolean(*(const bool *)slot);
	case VF_OPT_BOOL:
		return ((const struct opt_bool *)slot)->set ? json_boolean(((const struct opt_bool *)slot)->value)
							    : json_null();
	case VF_IOS:
		return ((const struct int_or_string *)slot)->str ? json_string(((const struct int_or_string *)slot)->str)
								 : json_integer(((const struct int_or_string *)slot)->num);
	case VF_OBJ:
		return fields_json(f->sub, f->nsub, slot);
	case VF_OBJ_PTR:
		return *(const void *const *)slot ? fields_json(f->sub, f->nsub, *(const void *const *)slot)
						  : f->nullable ? json_null() : NULL;
	case VF_LIST:
	case VF_ARRAY:
		return ((const struct any_list *)slot)->present ? list_json(f, slot) : NULL;
	case VF_STRMAP:
	case VF_JSON:
		return *(json_t *const *)slot ? json_deep_copy(*(json_t *const *)slot) : f->nullable ? json_null() : NULL;
	}
	return NULL;
}

static json_t *fields_json(const struct view_field *f, size_t n, const void *base)
{
	json_t *obj = json_object();
	for (size_t i = 0; obj && i < n; i++) {
		json_t *v = field_json(&f[i], (const char *)base + f[i].off);
		if (v && json_object_set_new(obj, f[i].key, v) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

json_t *docview_to_json(const struct doc_view *view)
{
	return fields_json(doc_view_fields, sizeof doc_view_fields / sizeof *doc_view_fields, view);
}

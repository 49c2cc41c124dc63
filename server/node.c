/* node: render's output trees (insertion-ordered maps, sequences, scalars) and the arena
 * they live in: bump allocation from a few chunks, freed all at once. */
#include "node.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN alignof(max_align_t)
#define FIRST_CHUNK (16 * 1024)
#define MAX_CHUNK (1024 * 1024)      /* growth stops doubling here */
#define MAX_MERGED (8 * 1024 * 1024) /* reset merges chunks up to this size */

struct chunk {
	struct chunk *next; /* older chunk */
	size_t size, used;  /* of data[] */
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct chunk *head; /* the chunk allocations come from */
	size_t next_size;   /* size of the next chunk to allocate */
	size_t handed_out, max;
};

struct arena *arena_new(void)
{
	struct arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->next_size = FIRST_CHUNK;
	a->max = ARENA_NO_MAX;
	return a;
}

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	free_chunks(a->head);
	free(a);
}

void arena_reset(struct arena *a)
{
	if (!a->head)
		return;
	if (a->head->next) {
		/* several chunks: next time one chunk of their total size */
		size_t total = 0;
		for (struct chunk *c = a->head; c; c = c->next)
			total += c->size;
		free_chunks(a->head);
		a->head = NULL;
		a->next_size = total < MAX_MERGED ? total : MAX_MERGED;
	} else {
		a->head->used = 0;
	}
	a->handed_out = 0;
}

static size_t round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

static struct chunk *add_chunk(struct arena *a, size_t n)
{
	size_t size = a->next_size > n ? a->next_size : n;
	struct chunk *c = malloc(sizeof *c + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	if (a->next_size < MAX_CHUNK)
		a->next_size *= 2;
	return c;
}

/* The slow path of bump: the limit, and a new chunk when the head one is full. */
static void *alloc_slow(struct arena *a, size_t n)
{
	if (n > a->max || a->handed_out > a->max - n)
		return NULL;
	struct chunk *c = a->head;
	if ((!c || c->size - c->used < n) && !(c = add_chunk(a, n)))
		return NULL;
	void *p = c->data + c->used;
	c->used += n;
	a->handed_out += n;
	return p;
}

/* arena_alloc, inlined into the node constructors: one bump of the head chunk when it
 * has room and the limit allows. */
static inline void *bump(struct arena *a, size_t n)
{
	n = round_up(n ? n : 1);
	struct chunk *c = a->head;
	if (c && c->size - c->used >= n && n <= a->max && a->handed_out <= a->max - n) {
		void *p = c->data + c->used;
		c->used += n;
		a->handed_out += n;
		return p;
	}
	return alloc_slow(a, n);
}

void *arena_alloc(struct arena *a, size_t n)
{
	return bump(a, n);
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);
	return p ? memcpy(p, s, n) : NULL;
}

size_t arena_used(const struct arena *a)
{
	return a->handed_out;
}

void arena_set_max(struct arena *a, size_t max_bytes)
{
	a->max = max_bytes;
}

/* ---- nodes ---- */

static struct node *new_node(struct arena *a, enum node_kind kind)
{
	struct node *n = bump(a, sizeof *n);
	if (n)
		*n = (struct node){.kind = kind};
	return n;
}

struct node *node_null(struct arena *a)
{
	return new_node(a, NODE_NULL);
}

struct node *node_bool(struct arena *a, bool b)
{
	struct node *n = new_node(a, NODE_BOOL);
	if (n)
		n->v.b = b;
	return n;
}

struct node *node_int(struct arena *a, long long i)
{
	struct node *n = new_node(a, NODE_INT);
	if (n)
		n->v.i = i;
	return n;
}

struct node *node_real(struct arena *a, double d)
{
	struct node *n = new_node(a, NODE_REAL);
	if (n)
		n->v.real = d;
	return n;
}

struct node *node_strn(struct arena *a, const char *s, size_t len)
{
	struct node *n = s ? new_node(a, NODE_STR) : NULL;
	if (n) {
		n->v.str.s = s;
		n->v.str.len = len;
	}
	return n;
}

struct node *node_str_copy(struct arena *a, const char *s)
{
	return s ? node_strn_copy(a, s, strlen(s)) : NULL;
}

struct node *node_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n >= 0 ? arena_alloc(a, (size_t)n + 1) : NULL;
	if (!s)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return node_strn(a, s, (size_t)n);
}

struct node *node_int_text(struct arena *a, long long i)
{
	char digits[24], *p = digits + sizeof digits; /* 19 digits and a sign at most */
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		*--p = '-';
	return node_strn_copy(a, p, (size_t)(digits + sizeof digits - p));
}

struct node *node_strn_copy(struct arena *a, const char *s, size_t len)
{
	char *copy = s ? bump(a, len + 1) : NULL;
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return node_strn(a, copy, len);
}

struct node *node_cat(struct arena *a, const char *const *parts, size_t n)
{
	size_t len = 0, lens[NODE_CAT_MAX];
	if (n > NODE_CAT_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!parts[i])
			return NULL;
		len += lens[i] = strlen(parts[i]);
	}
	char *s = bump(a, len + 1), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	*p = '\0';
	return node_strn(a, s, len);
}

static struct node *new_list(struct arena *a, enum node_kind kind)
{
	struct node *n = new_node(a, kind);
	if (n)
		n->v.list.arena = a;
	return n;
}

struct node *node_map(struct arena *a)
{
	return new_list(a, NODE_MAP);
}

struct node *node_seq(struct arena *a)
{
	return new_list(a, NODE_SEQ);
}

static struct node *append(struct node *list, enum node_kind kind, const char *key, size_t key_len,
			   struct node *val)
{
	if (!list || !val || list->kind != kind || (kind == NODE_MAP && !key))
		return NULL;
	struct node_item *it = bump(list->v.list.arena, sizeof *it);
	if (!it)
		return NULL;
	*it = (struct node_item){.key = key, .key_len = key_len, .val = val};
	if (list->v.list.last)
		list->v.list.last->next = it;
	else
		list->v.list.first = it;
	list->v.list.last = it;
	list->v.list.count++;
	return list;
}

struct node *node_setn(struct node *map, const char *key, size_t key_len, struct node *val)
{
	return append(map, NODE_MAP, key, key_len, val);
}

struct node *node_push(struct node *seq, struct node *val)
{
	return append(seq, NODE_SEQ, NULL, 0, val);
}

/* A new list of kind with room for n items in one allocation (*ret_items), which the
 * caller fills in order with item(): the list counts them already. NULL when out of memory. */
static struct node *new_list_n(struct arena *a, enum node_kind kind, size_t n, struct node_item **ret_items)
{
	struct node *list = new_list(a, kind);
	struct node_item *items = list && n ? bump(a, n * sizeof *items) : NULL;
	if (!list || (n && !items))
		return NULL;
	if (n) {
		list->v.list.first = items;
		list->v.list.last = &items[n - 1];
		list->v.list.count = n;
	}
	*ret_items = items;
	return list;
}

/* Item i of the n that new_list_n made room for. */
static inline void item(struct node_item *items, size_t i, size_t n, const char *key, size_t key_len,
			struct node *val)
{
	items[i] = (struct node_item){.key = key, .key_len = key_len, .val = val,
				      .next = i + 1 < n ? &items[i + 1] : NULL};
}

struct node *node_map_of(struct arena *a, const struct node_kv *kv, size_t n)
{
	struct node_item *items = NULL;
	struct node *map = new_list_n(a, NODE_MAP, n, &items);
	for (size_t i = 0; map && i < n; i++) {
		if (!kv[i].key || !kv[i].val)
			return NULL;
		item(items, i, n, kv[i].key, strlen(kv[i].key), kv[i].val);
	}
	return map;
}

struct node *node_seq_of(struct arena *a, struct node *const *vals, size_t n)
{
	struct node_item *items = NULL;
	struct node *seq = new_list_n(a, NODE_SEQ, n, &items);
	for (size_t i = 0; seq && i < n; i++) {
		if (!vals[i])
			return NULL;
		item(items, i, n, NULL, 0, vals[i]);
	}
	return seq;
}

/* ---- reading ---- */

const struct node *node_get(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	for (const struct node_item *it = map->v.list.first; it; it = it->next)
		if (strcmp(it->key, key) == 0)
			return it->val;
	return NULL;
}

const char *node_string(const struct node *n)
{
	return n && n->kind == NODE_STR ? n->v.str.s : NULL;
}

/* ---- jansson ---- */

static struct node *object_from_json(struct arena *a, const json_t *obj)
{
	struct node *map = node_map(a);
	const char *key;
	size_t key_len;
	json_t *val;
	json_object_keylen_foreach((json_t *)obj, key, key_len, val) {
		if (!map)
			break;
		map = append(map, NODE_MAP, key, key_len, node_from_json(a, val));
	}
	return map;
}

static struct node *array_from_json(struct arena *a, const json_t *arr)
{
	struct node *seq = node_seq(a);
	size_t i;
	json_t *val;
	json_array_foreach(arr, i, val) {
		if (!seq)
			break;
		seq = node_push(seq, node_from_json(a, val));
	}
	return seq;
}

struct node *node_from_json(struct arena *a, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return object_from_json(a, v);
	case JSON_ARRAY:
		return array_from_json(a, v);
	case JSON_STRING:
		return node_strn(a, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return node_int(a, json_integer_value(v));
	case JSON_REAL:
		return node_real(a, json_real_value(v));
	case JSON_TRUE:
	case JSON_FALSE:
		return node_bool(a, json_is_true(v));
	case JSON_NULL:
		return v ? node_null(a) : NULL;
	}
	return NULL;
}

static json_t *list_to_json(const struct node *n)
{
	json_t *out = n->kind == NODE_MAP ? json_object() : json_array();
	for (const struct node_item *it = n->v.list.first; out && it; it = it->next) {
		json_t *val = node_to_json(it->val);
		int r = !val ? -1
			: n->kind == NODE_MAP ? json_object_setn_new(out, it->key, it->key_len, val)
					      : json_array_append_new(out, val);
		if (r < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

json_t *node_to_json(const struct node *n)
{
	if (!n)
		return NULL;
	switch (n->kind) {
	case NODE_NULL:
		return json_null();
	case NODE_BOOL:
		return json_boolean(n->v.b);
	case NODE_INT:
		return json_integer(n->v.i);
	case NODE_REAL:
		return json_real(n->v.real);
	case NODE_STR:
		return json_stringn(n->v.str.s, n->v.str.len);
	case NODE_MAP:
	case NODE_SEQ:
		return list_to_json(n);
	}
	return NULL;
}

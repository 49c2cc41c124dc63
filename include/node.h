/* node: the Kubernetes objects render builds, as a tree of insertion-ordered maps,
 * sequences and scalars that all live in one arena. Built once, emitted once (yamlout),
 * freed at once (arena_free or arena_reset): no reference counts, no hashing, no malloc
 * per node. This is render's output format; jansson stays the format of documents
 * (model) and of the JSON API.
 *
 * Invariants:
 * - Every node, item and copied string belongs to the arena it was made in; nothing in
 *   an arena is freed on its own.
 * - Strings are borrowed unless copied (node_str_copy, node_printf, arena_strdup): a
 *   borrowed string (a literal, or text of a document the caller keeps) must outlive
 *   every use of the tree. Map keys are always borrowed.
 * - Builders propagate failure: a NULL argument node (an earlier allocation failed)
 *   makes the result NULL, so a whole object is built first and checked once.
 * - Maps keep keys in insertion order and do not check for duplicates: set each key
 *   once. Strings are valid UTF-8 (the caller's promise; the documents were validated).
 * - A node may appear in several places of a tree (render shares a file's labels among
 *   its objects): readers walk it as often as it appears, and nothing changes a node
 *   once it is in a tree. */
#ifndef MANIFESTD_NODE_H
#define MANIFESTD_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* ---- arena ---- */

struct arena;

/* A new empty arena; its first chunk is allocated on first use. NULL when out of memory. */
struct arena *arena_new(void);
/* Frees a and everything in it; accepts NULL. */
void arena_free(struct arena *a);
/* Forgets everything in a but keeps its largest chunk for reuse: every pointer into a is
 * invalid afterwards. */
void arena_reset(struct arena *a);
/* n bytes aligned for any type, owned by a; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* A copy of s in a; NULL when out of memory. */
char *arena_strdup(struct arena *a, const char *s);
/* Bytes handed out since the arena was made or last reset (for benchmarks). */
size_t arena_used(const struct arena *a);
/* Makes every allocation that would take a past max_bytes handed out (since the last
 * reset) fail: a bound on what one render may take, and how tests make the n-th
 * allocation fail. ARENA_NO_MAX (the default) for none. */
#define ARENA_NO_MAX ((size_t)-1)
void arena_set_max(struct arena *a, size_t max_bytes);

/* ---- nodes ---- */

enum node_kind { NODE_NULL, NODE_BOOL, NODE_INT, NODE_REAL, NODE_STR, NODE_MAP, NODE_SEQ };

struct node_item {
	const char *key; /* maps: borrowed; sequences: NULL */
	size_t key_len;
	struct node *val;
	struct node_item *next;
};

struct node {
	enum node_kind kind;
	union {
		bool b;         /* NODE_BOOL */
		long long i;    /* NODE_INT */
		double real;    /* NODE_REAL */
		struct {        /* NODE_STR */
			const char *s;
			size_t len;
		} str;
		struct {        /* NODE_MAP, NODE_SEQ */
			struct arena *arena; /* where items are added */
			struct node_item *first, *last;
			size_t count;
		} list;
	} v;
};

/* One entry of NODE_MAP(): a borrowed key and a value (NULL propagates). */
struct node_kv {
	const char *key;
	struct node *val;
};

/* Scalars, or NULL when out of memory. node_str borrows s (NULL s gives NULL);
 * node_str_copy copies it into a, node_strn_copy the len bytes at s (NUL-terminated in
 * the copy); node_printf formats into a. */
struct node *node_null(struct arena *a);
struct node *node_bool(struct arena *a, bool b);
struct node *node_int(struct arena *a, long long i);
struct node *node_real(struct arena *a, double d);
struct node *node_strn(struct arena *a, const char *s, size_t len);
/* inline, so the length of a literal is known when compiling */
static inline struct node *node_str(struct arena *a, const char *s)
{
	return s ? node_strn(a, s, strlen(s)) : NULL;
}
struct node *node_str_copy(struct arena *a, const char *s);
struct node *node_strn_copy(struct arena *a, const char *s, size_t len);
struct node *node_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The decimal text of i as a string (copied into a): what node_printf(a, "%lld", i)
 * gives, without printf. NULL when out of memory. */
struct node *node_int_text(struct arena *a, long long i);
/* The n strings of parts (borrowed) joined, copied into a: node_printf(a, "%s%s...")
 * without printf. NULL when a part is NULL, n > NODE_CAT_MAX or out of memory. The macro
 * takes the parts inline: NODE_CAT(a, "wait-for-", host). */
#define NODE_CAT_MAX 16
struct node *node_cat(struct arena *a, const char *const *parts, size_t n);
#define NODE_CAT(a, ...)                                                                  \
	node_cat((a), (const char *const[]){__VA_ARGS__},                                 \
		 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Empty containers, or NULL when out of memory. */
struct node *node_map(struct arena *a);
struct node *node_seq(struct arena *a);

/* Appends key: val to map (key borrowed, key_len its length). Returns map, or NULL when
 * map, key or val is NULL, map is not a NODE_MAP, or out of memory. */
struct node *node_setn(struct node *map, const char *key, size_t key_len, struct node *val);
/* node_setn with the length of key; inline, so the length of a literal key is known when
 * compiling. */
static inline struct node *node_set(struct node *map, const char *key, struct node *val)
{
	return node_setn(map, key, key ? strlen(key) : 0, val);
}
/* Appends val to seq. Returns seq, or NULL as node_set does. */
struct node *node_push(struct node *seq, struct node *val);

/* A map of n entries / a sequence of n values in order; NULL when any value is NULL or
 * out of memory. The macros take the entries inline:
 *   NODE_MAP(a, {"name", node_str(a, n)}, {"port", node_int(a, 80)})
 *   NODE_SEQ(a, node_str(a, "ALL")) */
struct node *node_map_of(struct arena *a, const struct node_kv *kv, size_t n);
struct node *node_seq_of(struct arena *a, struct node *const *vals, size_t n);
#define NODE_MAP(a, ...)                                                                  \
	node_map_of((a), (const struct node_kv[]){__VA_ARGS__},                           \
		    sizeof((const struct node_kv[]){__VA_ARGS__}) / sizeof(struct node_kv))
#define NODE_SEQ(a, ...)                                                                  \
	node_seq_of((a), (struct node *const[]){__VA_ARGS__},                             \
		    sizeof((struct node *const[]){__VA_ARGS__}) / sizeof(struct node *))

/* ---- reading ---- */

/* The value of key in map (first match), or NULL when absent or map is not a map. */
const struct node *node_get(const struct node *map, const char *key);
/* The text of a NODE_STR (borrowed), or NULL for any other node or NULL. */
const char *node_string(const struct node *n);

/* ---- jansson ---- */

/* The tree of v in a: strings and keys are borrowed from v, which must outlive the
 * tree. NULL when out of memory or v is NULL. */
struct node *node_from_json(struct arena *a, const json_t *v);
/* A new jansson value equal to n (the caller json_decref()s it); NULL when out of memory,
 * n is NULL, or a string is not valid UTF-8. */
json_t *node_to_json(const struct node *n);

#endif

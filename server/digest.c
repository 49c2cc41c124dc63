/* digest: BLAKE2b-256 of a JSON value's canonical encoding (include/digest.h), written by
 * walking the tree into a local buffer that feeds the hash in large updates. */
#include "digest.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct member {
	const char *key;
	size_t len;
	const void *value; /* a json_t, or a struct node (digest_node) */
};

/* The walk's state: the hash, the bytes not yet hashed, and one stack of object members
 * (each object sorts its members in a slice above its parent's; heap only when deep or wide). */
struct digest {
	crypto_generichash_state h;
	size_t n;
	unsigned char out[4096];
	struct member *members;
	size_t top, cap;
	struct member local[256];
};

static void flush(struct digest *d)
{
	crypto_generichash_update(&d->h, d->out, d->n);
	d->n = 0;
}

/* Where the next n bytes go (n < sizeof d->out): out after a flush when it has no room. */
static inline unsigned char *room(struct digest *d, size_t n)
{
	if (n > sizeof d->out - d->n)
		flush(d);
	return d->out + d->n;
}

static inline void put_bytes(struct digest *d, const void *p, size_t len)
{
	if (len >= sizeof d->out) {
		flush(d);
		crypto_generichash_update(&d->h, p, len);
		return;
	}
	memcpy(room(d, len), p, len);
	d->n += len;
}

/* A tag byte and an unsigned LEB128 number (7 bits a byte, low first, high bit = more),
 * written in place: 11 bytes at most. */
static inline void put_tagged(struct digest *d, char tag, uint64_t x)
{
	unsigned char *start = room(d, 11), *p = start;
	*p++ = (unsigned char)tag;
	for (; x > 0x7f; x >>= 7)
		*p++ = (unsigned char)(x | 0x80);
	*p++ = (unsigned char)x;
	d->n += (size_t)(p - start);
}

/* A tag byte and 8 bytes big-endian. */
static void put_fixed(struct digest *d, char tag, uint64_t x)
{
	unsigned char b[9];
	b[0] = (unsigned char)tag;
	for (int i = 8; i > 0; i--, x >>= 8)
		b[i] = (unsigned char)(x & 0xff);
	put_bytes(d, b, sizeof b);
}

/* Zigzag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... (small magnitudes stay short). */
static uint64_t zigzag(json_int_t x)
{
	uint64_t u = (uint64_t)x;
	return (u << 1) ^ (x < 0 ? UINT64_MAX : 0);
}

static inline void put_string(struct digest *d, char tag, const char *s, size_t len)
{
	put_tagged(d, tag, len);
	put_bytes(d, s, len);
}

static uint64_t real_bits(double x)
{
	uint64_t bits;
	if (x == 0)
		x = 0.0; /* -0.0 == 0.0 for json_equal */
	memcpy(&bits, &x, sizeof bits);
	return bits;
}

static int member_cmp(const struct member *a, const struct member *b)
{
	/* most keys differ in their first byte: decide there without calling memcmp */
	if (a->len && b->len && a->key[0] != b->key[0])
		return (unsigned char)a->key[0] < (unsigned char)b->key[0] ? -1 : 1;
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int member_qcmp(const void *a, const void *b)
{
	return member_cmp(a, b);
}

static void sort_members(struct member *m, size_t n)
{
	if (n > 16) {
		qsort(m, n, sizeof *m, member_qcmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct member x = m[i];
		size_t j = i;
		for (; j > 0 && member_cmp(&m[j - 1], &x) > 0; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
}

/* Room for n more members on the stack. 0 or -ENOMEM. */
static int reserve(struct digest *d, size_t n)
{
	if (n <= d->cap - d->top)
		return 0;
	size_t cap = d->cap * 2 > d->top + n ? d->cap * 2 : d->top + n;
	struct member *m = d->members == d->local ? malloc(cap * sizeof *m)
						   : realloc(d->members, cap * sizeof *m);
	if (!m)
		return -ENOMEM;
	if (d->members == d->local)
		memcpy(m, d->local, d->top * sizeof *m);
	d->members = m;
	d->cap = cap;
	return 0;
}

static int walk(struct digest *d, const json_t *v, int depth);

static int walk_value(struct digest *d, const void *v, int depth)
{
	return walk(d, v, depth);
}

/* The n members on the stack from base, as an object: sorted by key, each key then its
 * value written by walk_fn; the stack drops back to base. unique: -EEXIST when a key
 * comes twice (a JSON object cannot hold it). */
static int put_members(struct digest *d, size_t base, size_t n, bool unique,
		       int (*walk_fn)(struct digest *, const void *, int), int depth)
{
	d->top = base + n;
	sort_members(d->members + base, n);
	int r = 0;
	for (size_t k = 1; unique && r == 0 && k < n; k++)
		r = member_cmp(&d->members[base + k - 1], &d->members[base + k]) == 0 ? -EEXIST : 0;
	if (r == 0)
		put_tagged(d, 'o', n);
	for (size_t k = 0; r == 0 && k < n; k++) {
		const struct member *m = &d->members[base + k]; /* re-read: a child may move the stack */
		put_string(d, 'k', m->key, m->len);
		r = walk_fn(d, m->value, depth + 1);
	}
	d->top = base;
	return r;
}

static int walk_object(struct digest *d, const json_t *v, int depth)
{
	size_t n = json_object_size(v), base = d->top, i = 0;
	if (reserve(d, n) < 0)
		return -ENOMEM;
	for (void *it = json_object_iter((json_t *)v); it && i < n; it = json_object_iter_next((json_t *)v, it))
		d->members[base + i++] = (struct member){json_object_iter_key(it), json_object_iter_key_len(it),
							 json_object_iter_value(it)};
	return put_members(d, base, i, false, walk_value, depth);
}

static int walk_array(struct digest *d, const json_t *v, int depth)
{
	size_t n = json_array_size(v);
	put_tagged(d, 'a', n);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = walk(d, json_array_get(v, i), depth + 1);
	return r;
}

static int walk(struct digest *d, const json_t *v, int depth)
{
	if (!v || depth > DIGEST_MAX_DEPTH)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return walk_object(d, v, depth);
	case JSON_ARRAY:
		return walk_array(d, v, depth);
	case JSON_STRING:
		put_string(d, 's', json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		put_tagged(d, 'i', zigzag(json_integer_value(v)));
		return 0;
	case JSON_REAL:
		put_fixed(d, 'r', real_bits(json_real_value(v)));
		return 0;
	case JSON_TRUE:
		put_bytes(d, "t", 1);
		return 0;
	case JSON_FALSE:
		put_bytes(d, "f", 1);
		return 0;
	case JSON_NULL:
		put_bytes(d, "n", 1);
		return 0;
	}
	return -EINVAL;
}

static int walk_node(struct digest *d, const struct node *n, int depth);

static int walk_node_value(struct digest *d, const void *n, int depth)
{
	return walk_node(d, n, depth);
}

/* A map as node_to_json makes it an object: its items sorted as walk_object sorts
 * members. -EEXIST when a key comes twice (node_to_json keeps one of them). */
static int walk_node_map(struct digest *d, const struct node *n, int depth)
{
	size_t base = d->top, i = 0;
	if (reserve(d, n->v.list.count) < 0)
		return -ENOMEM;
	for (const struct node_item *it = n->v.list.first; it && i < n->v.list.count; it = it->next)
		d->members[base + i++] = (struct member){it->key, it->key_len, it->val};
	return put_members(d, base, i, true, walk_node_value, depth);
}

/* n encoded as walk encodes node_to_json(n). */
static int walk_node(struct digest *d, const struct node *n, int depth)
{
	if (!n || depth > DIGEST_MAX_DEPTH)
		return -EINVAL;
	switch (n->kind) {
	case NODE_MAP:
		return walk_node_map(d, n, depth);
	case NODE_SEQ:
		put_tagged(d, 'a', n->v.list.count);
		for (const struct node_item *it = n->v.list.first; it; it = it->next) {
			int r = walk_node(d, it->val, depth + 1);
			if (r < 0)
				return r;
		}
		return 0;
	case NODE_STR:
		put_string(d, 's', n->v.str.s, n->v.str.len);
		return 0;
	case NODE_INT:
		put_tagged(d, 'i', zigzag(n->v.i));
		return 0;
	case NODE_REAL:
		put_fixed(d, 'r', real_bits(n->v.real));
		return 0;
	case NODE_BOOL:
		put_bytes(d, n->v.b ? "t" : "f", 1);
		return 0;
	case NODE_NULL:
		put_bytes(d, "n", 1);
		return 0;
	}
	return -EINVAL;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc;

static void init_sodium(void)
{
	sodium_rc = sodium_init() < 0 ? -EIO : 0;
}

/* sodium_init picks libsodium's fastest BLAKE2b for this CPU: once per process, for every
 * caller (main initialises it too, but tests and benchmarks call us without). 0 or -EIO. */
static int sodium_ready(void)
{
	return pthread_once(&sodium_once, init_sodium) != 0 || sodium_rc < 0 ? -EIO : 0;
}

int digest_bytes(const void *data, size_t n, char ret_hex[65])
{
	unsigned char sum[DIGEST_BYTES];
	if (sodium_ready() < 0)
		return -EIO;
	crypto_generichash(sum, sizeof sum, data, n, NULL, 0);
	sodium_bin2hex(ret_hex, 65, sum, sizeof sum);
	return 0;
}

/* d ready for a walk. */
static void begin(struct digest *d)
{
	d->n = 0;
	d->members = d->local;
	d->top = 0;
	d->cap = sizeof d->local / sizeof d->local[0];
	crypto_generichash_init(&d->h, NULL, 0, DIGEST_BYTES);
}

/* The walk's result r: the digest into ret_hex when it succeeded; d's stack freed. */
static int end(struct digest *d, int r, char ret_hex[65])
{
	unsigned char sum[DIGEST_BYTES];
	if (r == 0) {
		flush(d);
		crypto_generichash_final(&d->h, sum, sizeof sum);
		sodium_bin2hex(ret_hex, 65, sum, sizeof sum);
	}
	if (d->members != d->local)
		free(d->members);
	return r;
}

int digest_json(const json_t *v, char ret_hex[65])
{
	if (sodium_ready() < 0)
		return -EIO;
	struct digest d; /* ~10 KB of stack: no allocation unless an object tree is very wide */
	begin(&d);
	return end(&d, walk(&d, v, 1), ret_hex);
}

int digest_node(const struct node *n, char ret_hex[65])
{
	if (sodium_ready() < 0)
		return -EIO;
	struct digest d;
	begin(&d);
	int r = end(&d, walk_node(&d, n, 1), ret_hex);
	if (r != -EEXIST)
		return r;
	json_t *j = node_to_json(n); /* a key twice: the object node_to_json keeps */
	r = j ? digest_json(j, ret_hex) : -ENOMEM;
	json_decref(j);
	return r;
}

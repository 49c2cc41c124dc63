/* cache: a byte-bounded LRU map key -> immutable, reference-counted bundle bytes with
 * their ETag; a chained hash table plus a doubly linked recency list under one mutex. */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS 64
/* Missed keys remembered for admission (cache_admits), by hash, one per slot. */
#define DOORKEEPER_SLOTS 4096

struct cache_entry {
	atomic_uint refs;
	struct cache_entry *chain;      /* next in the bucket */
	struct cache_entry *prev, *next; /* recency list, most recent first */
	size_t cost;
	size_t len;
	char *data;
	char *etag;
	char key[];
};

struct cache {
	pthread_mutex_t lock;
	struct cache_entry **buckets;
	size_t nbuckets;
	struct cache_entry *head, *tail;
	size_t max_bytes;
	struct cache_stats stats;
	struct {
		uint64_t hash;
		uint32_t misses;
	} seen[DOORKEEPER_SLOTS];
};

static uint64_t hash_key(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

int cache_new(size_t max_bytes, struct cache **ret)
{
	struct cache *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->buckets = calloc(MIN_BUCKETS, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->nbuckets = MIN_BUCKETS;
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->lock, NULL);
	*ret = c;
	return 0;
}

static void entry_free(struct cache_entry *e)
{
	free(e->data);
	free(e->etag);
	free(e);
}

void cache_entry_unref(struct cache_entry *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		entry_free(e);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (struct cache_entry *e = c->head, *next; e; e = next) {
		next = e->next;
		cache_entry_unref(e);
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- under the lock ---- */

static struct cache_entry **slot(struct cache *c, const char *key)
{
	struct cache_entry **p = &c->buckets[hash_key(key) & (c->nbuckets - 1)];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->chain;
	return p;
}

static void list_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_front(struct cache *c, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

/* Takes e out of the table and the list and drops the cache's reference. */
static void remove_entry(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **p = slot(c, e->key);
	*p = e->chain;
	list_unlink(c, e);
	c->stats.entries--;
	c->stats.bytes -= e->cost;
	cache_entry_unref(e);
}

/* Doubles the table when it holds more entries than buckets (allocation failure only
 * leaves the chains longer). */
static void maybe_grow(struct cache *c)
{
	if (c->stats.entries < c->nbuckets)
		return;
	size_t n = c->nbuckets * 2;
	struct cache_entry **b = calloc(n, sizeof *b);
	if (!b)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (struct cache_entry *e = c->buckets[i], *next; e; e = next) {
			next = e->chain;
			struct cache_entry **head = &b[hash_key(e->key) & (n - 1)];
			e->chain = *head;
			*head = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* Counts a miss of the key hashed h; a key of another hash in its slot is forgotten. */
static void note_miss(struct cache *c, uint64_t h)
{
	size_t i = h % DOORKEEPER_SLOTS;
	if (c->seen[i].hash == h) {
		if (c->seen[i].misses < UINT32_MAX)
			c->seen[i].misses++;
	} else {
		c->seen[i].hash = h;
		c->seen[i].misses = 1;
	}
}

/* ---- API ---- */

struct cache_entry *cache_get(struct cache *c, const char *key)
{
	if (!c || !key)
		return NULL;
	pthread_mutex_lock(&c->lock);
	struct cache_entry *e = *slot(c, key);
	if (e) {
		list_unlink(c, e);
		list_push_front(c, e);
		atomic_fetch_add(&e->refs, 1);
		c->stats.hits++;
	} else {
		c->stats.misses++;
		note_miss(c, hash_key(key));
	}
	pthread_mutex_unlock(&c->lock);
	return e;
}

bool cache_admits(struct cache *c, const char *key)
{
	if (!c || !key)
		return false;
	uint64_t h = hash_key(key);
	pthread_mutex_lock(&c->lock);
	bool yes = c->seen[h % DOORKEEPER_SLOTS].hash == h &&
		   c->seen[h % DOORKEEPER_SLOTS].misses >= 2;
	if (!yes)
		c->stats.rejected++;
	pthread_mutex_unlock(&c->lock);
	return yes;
}

static struct cache_entry *entry_new(const char *key, size_t key_len, const char *etag,
				     struct buf *data)
{
	struct cache_entry *e = calloc(1, sizeof *e + key_len + 1);
	if (!e)
		return NULL;
	e->etag = strdup(etag ? etag : "");
	e->data = buf_detach(data, &e->len);
	if (!e->etag || !e->data) {
		entry_free(e);
		return NULL;
	}
	memcpy(e->key, key, key_len + 1);
	atomic_init(&e->refs, 1);
	e->cost = e->len + key_len + strlen(e->etag) + sizeof *e;
	return e;
}

int cache_put(struct cache *c, const char *key, const char *etag, struct buf *data,
	      struct cache_entry **ret)
{
	size_t key_len = key ? strnlen(key, CACHE_KEY_MAX + 1) : 0;
	if (key_len == 0 || key_len > CACHE_KEY_MAX) {
		buf_release(data);
		return -EINVAL;
	}
	struct cache_entry *e = entry_new(key, key_len, etag, data);
	buf_release(data);
	if (!e)
		return -ENOMEM;
	if (ret)
		atomic_fetch_add(&e->refs, 1);
	pthread_mutex_lock(&c->lock);
	struct cache_entry *old = *slot(c, key);
	if (old)
		remove_entry(c, old);
	if (e->cost > c->max_bytes) {
		cache_entry_unref(e); /* too large: the caller's reference, if any, remains */
	} else {
		while (c->stats.bytes + e->cost > c->max_bytes && c->tail) {
			remove_entry(c, c->tail);
			c->stats.evictions++;
		}
		maybe_grow(c);
		struct cache_entry **p = slot(c, key);
		e->chain = *p;
		*p = e;
		list_push_front(c, e);
		c->stats.entries++;
		c->stats.bytes += e->cost;
		c->stats.stores++;
	}
	pthread_mutex_unlock(&c->lock);
	if (ret)
		*ret = e;
	return 0;
}

const char *cache_entry_data(const struct cache_entry *e, size_t *ret_len)
{
	if (ret_len)
		*ret_len = e->len;
	return e->data;
}

const char *cache_entry_etag(const struct cache_entry *e)
{
	return e->etag;
}

void cache_get_stats(struct cache *c, struct cache_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	*ret = c->stats;
	pthread_mutex_unlock(&c->lock);
}

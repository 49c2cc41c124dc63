/* cache: rendered bundles in memory, bounded by bytes, shared by the HTTP threads.
 *
 * Invariants:
 * - A key is a C string of at most CACHE_KEY_MAX bytes that identifies the bytes exactly:
 *   the caller derives it from everything the bundle depends on (api_render.c hashes the
 *   documents as stored, their revisions, names, overrides, manifestd version and format).
 *   The cache never invalidates anything: a write changes what the key is computed from,
 *   so a stale entry is simply never asked for again and ages out.
 * - An entry is immutable once stored: its bytes and ETag never change. Entries are
 *   reference counted, so a response may keep sending an entry's bytes after the cache
 *   evicted it.
 * - The sum of the stored entries' sizes (bytes + key + ETag) never exceeds max_bytes;
 *   storing evicts the least recently used entries first. An entry larger than the bound
 *   is not stored.
 * - Admission: a bundle asked for once is not worth its bytes (every POST /render with
 *   other overrides is a new key, and storing each would evict the bundles that are asked
 *   for again and again). cache_get remembers the hashes of the keys it missed (one per
 *   slot of a fixed table, so a later key may push one out); cache_admits says whether a
 *   key missed at least twice, and callers keep a bundle only then. cache_put itself
 *   stores what it is given.
 * - Every function is thread-safe (one mutex; lookups and stores are O(1)). */
#ifndef MANIFESTD_CACHE_H
#define MANIFESTD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CACHE_KEY_MAX 128

struct cache;
struct cache_entry;

struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t stores;
	uint64_t evictions;
	uint64_t rejected; /* cache_admits said no */
	size_t entries;
	size_t bytes;
};

/* A cache holding at most max_bytes. 0 and *ret, or -ENOMEM. */
int cache_new(size_t max_bytes, struct cache **ret);
/* Frees c and drops its references (entries still held elsewhere live on). Accepts NULL. */
void cache_free(struct cache *c);

/* The entry stored under key, as a new reference the caller gives back with
 * cache_entry_unref(); NULL when there is none (counted as a miss) or c is NULL. */
struct cache_entry *cache_get(struct cache *c, const char *key);

/* true when key missed in cache_get at least twice (as far as the table remembers):
 * a bundle worth keeping. false for a NULL cache. */
bool cache_admits(struct cache *c, const char *key);

/* Stores the bytes of data (taken over: data is left empty, also on failure) with etag
 * (copied) under key, replacing an entry with the same key. When ret is not NULL it
 * receives a new reference to the entry (also when the entry was too large to keep).
 * 0, -EINVAL (key longer than CACHE_KEY_MAX or empty), -ENOMEM. */
int cache_put(struct cache *c, const char *key, const char *etag, struct buf *data,
	      struct cache_entry **ret);

/* The entry's bytes (borrowed, valid while the reference is held) and their length. */
const char *cache_entry_data(const struct cache_entry *e, size_t *ret_len);
/* The entry's ETag (borrowed). */
const char *cache_entry_etag(const struct cache_entry *e);
/* Gives back one reference; the entry is freed with the last. Accepts NULL. */
void cache_entry_unref(struct cache_entry *e);

/* Counters since cache_new. */
void cache_get_stats(struct cache *c, struct cache_stats *ret);

#endif

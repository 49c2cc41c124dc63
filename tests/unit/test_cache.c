/* test_cache: the render cache (hit, miss, replace, eviction by the byte bound, entries
 * outliving eviction, threads) and the store fingerprint its keys are made of, which
 * must change on every write, also when a connection remembers it. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "store.h"
#include "suites.h"
#include "util.h"

/* A buffer holding text. */
static struct buf text_buf(const char *text)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_puts(&b, text), 0);
	return b;
}

static void put(struct cache *c, const char *key, const char *etag, const char *text)
{
	struct buf b = text_buf(text);
	ck_assert_int_eq(cache_put(c, key, etag, &b, NULL), 0);
	ck_assert_ptr_null(b.data); /* taken over */
}

/* Asserts that key holds text with etag. */
static void assert_holds(struct cache *c, const char *key, const char *etag, const char *text)
{
	struct cache_entry *e = cache_get(c, key);
	ck_assert_msg(e != NULL, "'%s' is not in the cache", key);
	size_t len = 0;
	const char *data = cache_entry_data(e, &len);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_mem_eq(data, text, len);
	ck_assert_str_eq(cache_entry_etag(e), etag);
	cache_entry_unref(e);
}

START_TEST(miss_then_hit_then_replace)
{
	struct cache *c = NULL;
	ck_assert_int_eq(cache_new(1 << 20, &c), 0);
	ck_assert_ptr_null(cache_get(c, "k1"));
	put(c, "k1", "\"e1\"", "bytes one");
	assert_holds(c, "k1", "\"e1\"", "bytes one");
	ck_assert_ptr_null(cache_get(c, "k2"));
	put(c, "k1", "\"e2\"", "bytes two");
	assert_holds(c, "k1", "\"e2\"", "bytes two");
	struct cache_stats st;
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.stores, 2);
	ck_assert_uint_eq(st.evictions, 0);
	/* bad keys */
	struct buf b = text_buf("x");
	ck_assert_int_eq(cache_put(c, "", "e", &b, NULL), -EINVAL);
	ck_assert_ptr_null(b.data);
	char long_key[CACHE_KEY_MAX + 2];
	memset(long_key, 'k', sizeof long_key - 1);
	long_key[sizeof long_key - 1] = '\0';
	b = text_buf("x");
	ck_assert_int_eq(cache_put(c, long_key, "e", &b, NULL), -EINVAL);
	ck_assert_ptr_null(cache_get(NULL, "k1"));
	cache_free(c);
	cache_free(NULL);
}
END_TEST

START_TEST(eviction_keeps_the_byte_bound_and_drops_least_recent)
{
	char text[1001];
	memset(text, 'x', 1000);
	text[1000] = '\0';
	struct cache *c = NULL;
	/* room for 4 entries of ~1000 bytes plus overhead, not 5 */
	ck_assert_int_eq(cache_new(4 * 1000 + 4 * 256, &c), 0);
	char key[16];
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "k%d", i);
		put(c, key, "e", text);
	}
	struct cache_stats st;
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 4);
	cache_entry_unref(cache_get(c, "k0")); /* k0 is now the most recent, k1 the least */
	put(c, "k4", "e", text);
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 4);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_uint_le(st.bytes, 4 * 1000 + 4 * 256);
	ck_assert_ptr_null(cache_get(c, "k1"));
	assert_holds(c, "k0", "e", text);
	assert_holds(c, "k4", "e", text);
	/* many more entries: the bound holds throughout */
	for (int i = 5; i < 200; i++) {
		snprintf(key, sizeof key, "k%d", i);
		put(c, key, "e", text);
		cache_get_stats(c, &st);
		ck_assert_uint_le(st.bytes, 4 * 1000 + 4 * 256);
	}
	assert_holds(c, "k199", "e", text);
	ck_assert_ptr_null(cache_get(c, "k4"));
	cache_free(c);
}
END_TEST

START_TEST(too_large_is_not_kept_but_returned)
{
	struct cache *c = NULL;
	ck_assert_int_eq(cache_new(100, &c), 0);
	char big[1000];
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct buf b = text_buf(big);
	struct cache_entry *e = NULL;
	ck_assert_int_eq(cache_put(c, "big", "e", &b, &e), 0);
	ck_assert_ptr_nonnull(e);
	size_t len;
	ck_assert_str_eq(cache_entry_data(e, &len), big);
	ck_assert_ptr_null(cache_get(c, "big"));
	cache_entry_unref(e);
	cache_free(c);
}
END_TEST

START_TEST(entry_outlives_eviction_and_cache)
{
	struct cache *c = NULL;
	ck_assert_int_eq(cache_new(600, &c), 0);
	put(c, "old", "e-old", "old bytes");
	struct cache_entry *e = cache_get(c, "old");
	ck_assert_ptr_nonnull(e);
	char filler[501];
	memset(filler, 'f', sizeof filler - 1);
	filler[sizeof filler - 1] = '\0';
	put(c, "new1", "e", filler); /* evicts "old" */
	ck_assert_ptr_null(cache_get(c, "old"));
	cache_free(c);
	size_t len;
	ck_assert_str_eq(cache_entry_data(e, &len), "old bytes"); /* still ours (ASan checks) */
	ck_assert_str_eq(cache_entry_etag(e), "e-old");
	cache_entry_unref(e);
}
END_TEST

START_TEST(admits_a_key_missed_twice_only)
{
	struct cache *c = NULL;
	ck_assert_int_eq(cache_new(1 << 20, &c), 0);
	ck_assert(!cache_admits(c, "never-asked"));
	ck_assert_ptr_null(cache_get(c, "once"));
	ck_assert(!cache_admits(c, "once")); /* a one-off is not kept */
	ck_assert_ptr_null(cache_get(c, "once"));
	ck_assert(cache_admits(c, "once"));  /* asked for again: worth keeping */
	ck_assert(!cache_admits(c, "never-asked"));
	/* many other one-off keys: the table forgets, it does not admit them */
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "one-off-%d", i);
		ck_assert_ptr_null(cache_get(c, key));
		ck_assert_msg(!cache_admits(c, key), "'%s' missed once but is admitted", key);
	}
	struct cache_stats st;
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.rejected, 20000 + 3);
	/* a hit is not a miss: a stored key's count does not grow */
	put(c, "kept", "e", "bytes");
	cache_entry_unref(cache_get(c, "kept"));
	ck_assert(!cache_admits(c, "kept"));
	ck_assert(!cache_admits(NULL, "once"));
	cache_free(c);
}
END_TEST

/* ---- threads ---- */

#define THREADS 8
#define ROUNDS 3000
#define KEYS 40

static struct cache *shared;

/* The text stored under key i: derived from i, so any reader can check it. */
static void text_of(int i, char *out, size_t n)
{
	snprintf(out, n, "bundle %d %0*d", i, 40 + i, i);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char key[16], want[256];
	for (int r = 0; r < ROUNDS; r++) {
		int i = (int)(rand_r(&seed) % KEYS);
		snprintf(key, sizeof key, "k%d", i);
		text_of(i, want, sizeof want);
		struct cache_entry *e = cache_get(shared, key);
		if (!e) {
			struct buf b;
			buf_init(&b, BUF_NO_MAX);
			if (buf_puts(&b, want) != 0 || cache_put(shared, key, key, &b, &e) != 0)
				return (void *)1;
		}
		size_t len;
		const char *data = cache_entry_data(e, &len);
		bool ok = len == strlen(want) && memcmp(data, want, len) == 0 &&
			  strcmp(cache_entry_etag(e), key) == 0;
		cache_entry_unref(e);
		if (!ok)
			return (void *)1;
	}
	return NULL;
}

START_TEST(threads_share_it_safely)
{
	/* a bound that holds about a third of the keys: constant eviction under contention */
	ck_assert_int_eq(cache_new(KEYS / 3 * 300, &shared), 0);
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
	for (int i = 0; i < THREADS; i++) {
		void *res = (void *)1;
		ck_assert_int_eq(pthread_join(t[i], &res), 0);
		ck_assert_msg(res == NULL, "thread %d read wrong bytes", i);
	}
	struct cache_stats st;
	cache_get_stats(shared, &st);
	ck_assert_uint_eq(st.hits + st.misses, THREADS * ROUNDS);
	ck_assert_uint_gt(st.hits, 0);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_le(st.bytes, KEYS / 3 * 300);
	cache_free(shared);
	shared = NULL;
}
END_TEST

/* ---- the keys: the store fingerprint changes with every write ---- */

static char dir[64];

static struct store *temp_store_n(size_t connections)
{
	memcpy(dir, "/tmp/manifestd-cache-XXXXXX", sizeof "/tmp/manifestd-cache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct buf p, err;
	buf_init(&p, 256);
	buf_init(&err, 1024);
	ck_assert_int_eq(buf_printf(&p, "%s/test.db", dir), 0);
	struct store_options opt = {buf_cstr(&p), connections, NULL, NULL};
	struct store *s = NULL;
	ck_assert_msg(store_open(&opt, &err, &s) == 0, "store_open: %s", buf_cstr(&err));
	buf_release(&p);
	buf_release(&err);
	return s;
}

static struct store *temp_store(void)
{
	return temp_store_n(1);
}

static void remove_temp(void)
{
	struct buf cmd;
	buf_init(&cmd, 256);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
}

static void fingerprint(struct store_conn *c, const char *stack, const char *env, char out[65])
{
	ck_assert_int_eq(store_fingerprint(c, stack, env, out), 0);
	ck_assert_uint_eq(strlen(out), 64);
}

START_TEST(fingerprint_changes_on_every_write)
{
	struct store *s = temp_store();
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	char a[65], b[65], stack_only[65];
	fingerprint(c, "msa-shop", "prod", a);
	fingerprint(c, "msa-shop", "prod", b);
	ck_assert_str_eq(a, b); /* stable while nothing is written */
	fingerprint(c, "msa-shop", NULL, stack_only);
	ck_assert_str_ne(a, stack_only);
	fingerprint(c, "msa-shop", "staging", b);
	ck_assert_str_ne(a, b);

	/* an environment write */
	struct store_record rec = {0};
	ck_assert_int_eq(store_env_get(c, "msa-shop", "prod", &rec), 0);
	json_t *doc = json_deep_copy(rec.document);
	ck_assert_int_eq(json_object_set_new(doc, "namespace", json_string("prod-2")), 0);
	ck_assert_int_eq(store_env_update(c, "msa-shop", "prod", doc, STORE_ANY_REVISION, "test", NULL), 0);
	fingerprint(c, "msa-shop", "prod", b);
	ck_assert_str_ne(a, b);
	/* writing the same document back still changes the revision, so the key */
	memcpy(a, b, sizeof a);
	ck_assert_int_eq(store_env_update(c, "msa-shop", "prod", doc, STORE_ANY_REVISION, "test", NULL), 0);
	fingerprint(c, "msa-shop", "prod", b);
	ck_assert_str_ne(a, b);

	/* a stack write changes the key of each of its environments */
	memcpy(a, b, sizeof a);
	char s_before[65], s_after[65];
	fingerprint(c, "msa-shop", NULL, s_before);
	store_record_release(&rec);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	ck_assert_int_eq(store_stack_update(c, "msa-shop", rec.document, STORE_ANY_REVISION, "test", NULL), 0);
	fingerprint(c, "msa-shop", "prod", b);
	fingerprint(c, "msa-shop", NULL, s_after);
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(s_before, s_after);

	ck_assert_int_eq(store_fingerprint(c, "msa-shop", "nope", a), -ENOENT);
	ck_assert_int_eq(store_fingerprint(c, "nope", NULL, a), -ENOENT);
	json_decref(doc);
	store_record_release(&rec);
	store_release(c);
	store_free(s);
	remove_temp();
}
END_TEST

/* ---- the remembered fingerprint (store.c memo) never outlives a write ---- */

/* Writes prod again (its revision goes up) through c. */
static void rewrite_prod(struct store_conn *c)
{
	struct store_record rec = {0};
	ck_assert_int_eq(store_env_get(c, "msa-shop", "prod", &rec), 0);
	ck_assert_int_eq(store_env_update(c, "msa-shop", "prod", rec.document, STORE_ANY_REVISION,
					  "test", NULL), 0);
	store_record_release(&rec);
}

START_TEST(fingerprint_sees_writes_of_other_connections)
{
	struct store *s = temp_store_n(2);
	struct store_conn *reader = NULL, *writer = NULL;
	ck_assert_int_eq(store_acquire(s, &reader), 0);
	ck_assert_int_eq(store_acquire(s, &writer), 0);
	char a[65], b[65];
	fingerprint(reader, "msa-shop", "prod", a);
	fingerprint(reader, "msa-shop", "prod", b); /* remembered */
	ck_assert_str_eq(a, b);
	rewrite_prod(writer); /* another connection of the pool */
	fingerprint(reader, "msa-shop", "prod", b);
	ck_assert_str_ne(a, b);

	/* another process: a plain SQLite connection to the same file */
	struct buf p;
	buf_init(&p, 256);
	ck_assert_int_eq(buf_printf(&p, "%s/test.db", dir), 0);
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(buf_cstr(&p), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	memcpy(a, b, sizeof a);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE environments SET revision = revision + 1 "
					  "WHERE stack = 'msa-shop' AND name = 'prod'", NULL, NULL, NULL),
			 SQLITE_OK);
	fingerprint(reader, "msa-shop", "prod", b);
	ck_assert_str_ne(a, b);
	/* and a stack write from there changes the environment's fingerprint too */
	memcpy(a, b, sizeof a);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE stacks SET revision = revision + 1 "
					  "WHERE name = 'msa-shop'", NULL, NULL, NULL), SQLITE_OK);
	fingerprint(reader, "msa-shop", "prod", b);
	ck_assert_str_ne(a, b);
	sqlite3_close(db);
	buf_release(&p);
	store_release(writer);
	store_release(reader);
	store_free(s);
	remove_temp();
}
END_TEST

#define WRITES 200

struct writer_arg {
	struct store *s;
	atomic_bool done;
};

static void *writer_main(void *arg)
{
	struct writer_arg *w = arg;
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(w->s, &c), 0);
	for (int i = 0; i < WRITES; i++) {
		ck_assert_int_eq(store_begin(c), 0);
		rewrite_prod(c);
		ck_assert_int_eq(store_commit(c), 0);
	}
	store_release(c);
	atomic_store(&w->done, true);
	return NULL;
}

/* While another thread writes, every read transaction pairs a revision with one
 * fingerprint: the same revision always the same fingerprint, another revision another. */
START_TEST(fingerprint_matches_its_snapshot_under_concurrent_writes)
{
	struct store *s = temp_store_n(2);
	struct writer_arg w = {s, false};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, writer_main, &w), 0);
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	static char seen[WRITES + 2][65];
	size_t checks = 0;
	while (!atomic_load(&w.done) || checks == 0) {
		char fp[65];
		struct store_record rec = {0};
		ck_assert_int_eq(store_begin_read(c), 0);
		fingerprint(c, "msa-shop", "prod", fp);
		ck_assert_int_eq(store_env_get(c, "msa-shop", "prod", &rec), 0);
		store_rollback(c);
		ck_assert_int_ge(rec.revision, 1);
		ck_assert_int_le(rec.revision, WRITES + 1);
		char *slot = seen[rec.revision];
		if (slot[0])
			ck_assert_str_eq(slot, fp);
		else
			memcpy(slot, fp, 65);
		store_record_release(&rec);
		checks++;
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (size_t i = 1; i <= WRITES + 1; i++)
		for (size_t j = i + 1; seen[i][0] && j <= WRITES + 1; j++)
			if (seen[j][0])
				ck_assert_str_ne(seen[i], seen[j]);
	store_release(c);
	store_free(s);
	remove_temp();
}
END_TEST

Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, miss_then_hit_then_replace);
	tcase_add_test(tc, eviction_keeps_the_byte_bound_and_drops_least_recent);
	tcase_add_test(tc, too_large_is_not_kept_but_returned);
	tcase_add_test(tc, entry_outlives_eviction_and_cache);
	tcase_add_test(tc, admits_a_key_missed_twice_only);
	tcase_add_test(tc, threads_share_it_safely);
	tcase_add_test(tc, fingerprint_changes_on_every_write);
	tcase_add_test(tc, fingerprint_sees_writes_of_other_connections);
	tcase_add_test(tc, fingerprint_matches_its_snapshot_under_concurrent_writes);
	suite_add_tcase(s, tc);
	return s;
}

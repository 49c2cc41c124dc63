/* test_store: the SQLite store: migrations (fresh, older database, newer database
 * refused), the seed, revisions, compare-and-set, history rows with masked secrets,
 * transactions, pagination. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secretbox.h"
#include "store.h"
#include "suites.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	memcpy(dir, "/tmp/manifestd-store-XXXXXX", sizeof "/tmp/manifestd-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct buf b;
	buf_init(&b, sizeof path - 1);
	ck_assert_int_eq(buf_printf(&b, "%s/sub/dir/test.db", dir), 0);
	memcpy(path, buf_cstr(&b), b.len + 1);
	buf_release(&b);
}

static void teardown(void)
{
	struct buf cmd;
	buf_init(&cmd, 256);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
}

static struct store *open_store(const struct embed_file *migrations)
{
	struct store_options opt = {path, 2, migrations, NULL};
	struct buf err;
	buf_init(&err, 1024);
	struct store *s = NULL;
	int r = store_open(&opt, &err, &s);
	ck_assert_msg(r == 0, "store_open: %d %s", r, buf_cstr(&err));
	buf_release(&err);
	return s;
}

static json_t *doc_of(const char *text)
{
	json_t *d = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(fresh_database_is_migrated_and_seeded)
{
	struct store *s = open_store(NULL);
	ck_assert_int_eq(store_schema_version(s), store_binary_version(NULL));
	ck_assert_int_ge(store_schema_version(s), 2);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_ping(c), 0);
	struct store_record rec = {0};
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	ck_assert_int_eq(rec.revision, 1);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(rec.document, "services"), "order-service"));
	store_record_release(&rec);
	ck_assert_int_eq(store_env_get(c, "msa-shop", "prod", &rec), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec.document, "namespace")), "msa-shop-prod");
	/* the stored document keeps the secret value; only history masks it */
	ck_assert(json_is_string(json_object_get(json_object_get(rec.document, "secrets"), "jwt-secret")));
	store_record_release(&rec);
	json_t *items = NULL;
	bool more = true;
	ck_assert_int_eq(store_env_list(c, "msa-shop", NULL, 10, &items, &more), 0);
	ck_assert_uint_eq(json_array_size(items), 3);
	ck_assert(!more);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "name")), "dev");
	json_decref(items);
	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "msa-shop", "prod", &rows), 0);
	ck_assert_uint_eq(json_array_size(rows), 1);
	json_t *secret = json_object_get(json_object_get(json_object_get(json_array_get(rows, 0), "new"), "secrets"), "jwt-secret");
	ck_assert(json_is_true(json_object_get(secret, "set")));
	json_decref(rows);
	store_release(c);
	store_free(s);
}
END_TEST

START_TEST(revisions_cas_and_history)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *v1 = doc_of("{\"description\": \"one\", \"secrets\": {\"k\": \"hunter2\"}}");
	json_t *v2 = doc_of("{\"description\": \"two\", \"secrets\": {\"k\": \"hunter3\"}}");
	struct store_record rec = {0};

	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_stack_create(c, "s1", v1, "tester", &rec), 0);
	ck_assert_int_eq(store_commit(c), 0);
	ck_assert_int_eq(rec.revision, 1);
	ck_assert_str_eq(rec.created, rec.updated);
	ck_assert_int_eq(strlen(rec.created), 20);
	store_record_release(&rec);
	ck_assert_int_eq(store_stack_create(c, "s1", v1, "tester", NULL), -EEXIST);

	ck_assert_int_eq(store_stack_update(c, "s1", v2, 1, "tester", &rec), 0);
	ck_assert_int_eq(rec.revision, 2);
	store_record_release(&rec);
	/* a stale revision loses and changes nothing */
	ck_assert_int_eq(store_stack_update(c, "s1", v1, 1, "tester", NULL), -ESTALE);
	ck_assert_int_eq(store_stack_get(c, "s1", &rec), 0);
	ck_assert_int_eq(rec.revision, 2);
	ck_assert_str_eq(json_string_value(json_object_get(rec.document, "description")), "two");
	store_record_release(&rec);
	ck_assert_int_eq(store_stack_update(c, "s1", v1, STORE_ANY_REVISION, "other", &rec), 0);
	ck_assert_int_eq(rec.revision, 3);
	store_record_release(&rec);
	ck_assert_int_eq(store_stack_update(c, "nope", v1, STORE_ANY_REVISION, "x", NULL), -ENOENT);

	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "s1", NULL, &rows), 0);
	ck_assert_uint_eq(json_array_size(rows), 3);
	const char *kinds[] = {"create", "update", "update"};
	for (size_t i = 0; i < 3; i++) {
		json_t *row = json_array_get(rows, i);
		ck_assert_str_eq(json_string_value(json_object_get(row, "kind")), kinds[i]);
		ck_assert_int_eq(json_integer_value(json_object_get(row, "revision")), (json_int_t)i + 1);
		char *text = json_dumps(row, 0);
		ck_assert_ptr_null(strstr(text, "hunter"));
		free(text);
	}
	ck_assert(json_is_null(json_object_get(json_array_get(rows, 0), "old")));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 2), "actor")), "other");
	json_decref(rows);

	json_decref(v1);
	json_decref(v2);
	store_release(c);
	store_free(s);
}
END_TEST

START_TEST(environments_and_stack_delete)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *d = doc_of("{\"config\": {\"n\": \"1\"}}");
	struct store_record rec = {0};
	ck_assert_int_eq(store_env_create(c, "missing", "qa", d, "t", NULL), -ENOENT);
	ck_assert_int_eq(store_stack_create(c, "s2", d, "t", NULL), 0);
	const char *names[] = {"e1", "e2", "e3", "e4", "e5"};
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(store_env_create(c, "s2", names[i], d, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c, "s2", "e1", d, "t", NULL), -EEXIST);
	ck_assert_int_eq(store_env_update(c, "s2", "e2", d, 1, "t", &rec), 0);
	ck_assert_int_eq(rec.revision, 2);
	store_record_release(&rec);
	ck_assert_int_eq(store_env_update(c, "s2", "e2", d, 1, "t", NULL), -ESTALE);
	ck_assert_int_eq(store_env_delete(c, "s2", "e3", 7, "t"), -ESTALE);
	ck_assert_int_eq(store_env_delete(c, "s2", "e3", 1, "t"), 0);
	ck_assert_int_eq(store_env_get(c, "s2", "e3", &rec), -ENOENT);

	/* pages of two: e1 e2 | e4 e5 */
	json_t *items = NULL;
	bool more = false;
	ck_assert_int_eq(store_env_list(c, "s2", NULL, 2, &items, &more), 0);
	ck_assert(more);
	ck_assert_uint_eq(json_array_size(items), 2);
	json_decref(items);
	ck_assert_int_eq(store_env_list(c, "s2", "e2", 2, &items, &more), 0);
	ck_assert(!more);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "name")), "e4");
	json_decref(items);
	ck_assert_int_eq(store_env_list(c, "nope", NULL, 2, &items, &more), -ENOENT);

	ck_assert_int_eq(store_stack_delete(c, "s2", STORE_ANY_REVISION, false, "t"), -ENOTEMPTY);
	ck_assert_int_eq(store_stack_delete(c, "s2", STORE_ANY_REVISION, true, "t"), 0);
	ck_assert_int_eq(store_stack_get(c, "s2", &rec), -ENOENT);
	ck_assert_int_eq(store_env_get(c, "s2", "e1", &rec), -ENOENT);
	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "s2", "e1", &rows), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, json_array_size(rows) - 1), "kind")), "delete");
	json_decref(rows);
	json_decref(d);
	store_release(c);
	store_free(s);
}
END_TEST

/* The value of doc.secrets.db and doc.config.n of a shared read, asserted. */
static json_t *shared_env(struct store_conn *c, const char *want_n, const char *want_db)
{
	struct store_record rec = {0};
	ck_assert_int_eq(store_env_get_shared(c, "sh", "e", &rec), 0);
	json_t *doc = rec.document;
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "config"), "n")), want_n);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "secrets"), "db")), want_db);
	json_incref(doc);
	store_record_release(&rec);
	return doc; /* the caller decrefs: only to compare pointers */
}

/* Shared reads keep parsed documents per connection: they must follow every write, by
 * this connection or another, also a delete and re-create that starts at revision 1
 * again, and they must never be the copy a plain read hands out for changing. */
START_TEST(shared_documents_follow_every_write)
{
	unsigned char key[SECRETBOX_KEY_BYTES];
	ck_assert_int_eq(secretbox_init(), 0);
	secretbox_key_generate(key);
	struct store_options opt = {path, 2, NULL, key};
	struct buf err;
	buf_init(&err, 1024);
	struct store *s = NULL;
	ck_assert_msg(store_open(&opt, &err, &s) == 0, "store_open: %s", buf_cstr(&err));
	buf_release(&err);
	struct store_conn *c1, *c2;
	ck_assert_int_eq(store_acquire(s, &c1), 0);
	ck_assert_int_eq(store_acquire(s, &c2), 0);
	json_t *d1 = doc_of("{\"config\": {\"n\": \"1\"}, \"secrets\": {\"db\": \"pw1\"}}");
	json_t *d2 = doc_of("{\"config\": {\"n\": \"2\"}, \"secrets\": {\"db\": \"pw2\"}}");
	json_t *d3 = doc_of("{\"config\": {\"n\": \"3\"}, \"secrets\": {\"db\": \"pw3\"}}");
	ck_assert_int_eq(store_stack_create(c2, "sh", d1, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c2, "sh", "e", d1, "t", NULL), 0);

	json_t *a = shared_env(c1, "1", "pw1");
	json_t *b = shared_env(c1, "1", "pw1");
	ck_assert_ptr_eq(a, b); /* parsed once: the second read shares it */
	struct store_record own = {0};
	ck_assert_int_eq(store_env_get(c1, "sh", "e", &own), 0);
	ck_assert_ptr_ne(own.document, a); /* a plain read is the caller's own */
	ck_assert_int_eq(json_object_set_new(json_object_get(own.document, "config"), "n",
					     json_string("changed")), 0);
	store_record_release(&own);
	json_decref(b);
	b = shared_env(c1, "1", "pw1");
	ck_assert_ptr_eq(a, b);
	json_decref(b);

	/* another connection writes */
	ck_assert_int_eq(store_env_update(c2, "sh", "e", d2, 1, "t", NULL), 0);
	b = shared_env(c1, "2", "pw2");
	ck_assert_ptr_ne(a, b);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "config"), "n")), "1");
	json_decref(a);
	json_decref(b);
	/* this connection writes */
	ck_assert_int_eq(store_env_update(c1, "sh", "e", d3, 2, "t", NULL), 0);
	json_decref(shared_env(c1, "3", "pw3"));
	/* deleted and created again: revision 1 again, another document */
	ck_assert_int_eq(store_env_delete(c2, "sh", "e", 3, "t"), 0);
	struct store_record gone = {0};
	ck_assert_int_eq(store_env_get_shared(c1, "sh", "e", &gone), -ENOENT);
	ck_assert_int_eq(store_env_create(c2, "sh", "e", d2, "t", NULL), 0);
	json_decref(shared_env(c1, "2", "pw2"));
	/* a stack, read shared after a write of its own */
	struct store_record st = {0};
	ck_assert_int_eq(store_stack_get_shared(c1, "sh", &st), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st.document, "config"), "n")), "1");
	store_record_release(&st);
	ck_assert_int_eq(store_stack_update(c2, "sh", d3, 1, "t", NULL), 0);
	ck_assert_int_eq(store_stack_get_shared(c1, "sh", &st), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st.document, "config"), "n")), "3");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st.document, "secrets"), "db")), "pw3");
	store_record_release(&st);
	/* many places through one connection: each read still gives its own place's document */
	char name[16];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "p%d", i);
		json_t *d = json_pack("{s:{s:s}}", "config", "n", name);
		ck_assert_int_eq(store_env_create(c2, "sh", name, d, "t", NULL), 0);
		json_decref(d);
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 10; i++) {
			snprintf(name, sizeof name, "p%d", i);
			ck_assert_int_eq(store_env_get_shared(c1, "sh", name, &st), 0);
			ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st.document, "config"), "n")), name);
			store_record_release(&st);
		}
	}
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
	store_release(c1);
	store_release(c2);
	store_free(s);
}
END_TEST

START_TEST(rollback_stores_nothing)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *d = doc_of("{\"description\": \"changed\"}");
	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_stack_update(c, "msa-shop", d, 1, "t", NULL), 0);
	store_rollback(c);
	struct store_record rec = {0};
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	ck_assert_int_eq(rec.revision, 1);
	store_record_release(&rec);
	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "msa-shop", NULL, &rows), 0);
	for (size_t i = 0; i < json_array_size(rows); i++)
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i), "kind")), "create");
	json_decref(rows);
	/* releasing with a transaction open rolls it back too */
	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_stack_update(c, "msa-shop", d, 1, "t", NULL), 0);
	store_release(c);
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	ck_assert_int_eq(rec.revision, 1);
	store_record_release(&rec);
	json_decref(d);
	store_release(c);
	store_free(s);
}
END_TEST

static char *read_source(const char *rel, size_t *ret_len)
{
	struct buf p;
	buf_init(&p, 4096);
	ck_assert_int_eq(buf_printf(&p, "%s/%s", TEST_SOURCE_DIR, rel), 0);
	FILE *f = fopen(buf_cstr(&p), "rb");
	ck_assert_ptr_nonnull(f);
	struct buf data;
	buf_init(&data, BUF_NO_MAX);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ck_assert_int_eq(buf_append(&data, chunk, n), 0);
	fclose(f);
	buf_release(&p);
	return buf_detach(&data, ret_len);
}

/* The environments of stack `name` as store_stack_list reports them. */
static long long listed_count(struct store_conn *c, const char *name)
{
	json_t *items = NULL;
	ck_assert_int_eq(store_stack_list(c, &items), 0);
	long long n = -1;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "name")), name) == 0)
			n = json_integer_value(json_object_get(it, "environments"));
	}
	json_decref(items);
	return n;
}

static void exec_sql(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* The stack list reads the count each stack keeps (migration 0005), not a count(*) over
 * all environments per request: it follows the store's writes, other connections' writes
 * and a cascading delete, and it is what the list shows. */
START_TEST(stack_list_reads_the_kept_environment_count)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *d = doc_of("{\"config\": {\"n\": \"1\"}}");
	ck_assert_int_eq(store_stack_create(c, "k", d, "t", NULL), 0);
	ck_assert_int_eq(listed_count(c, "k"), 0);
	ck_assert_int_eq(store_env_create(c, "k", "a", d, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c, "k", "b", d, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c, "k", "a", d, "t", NULL), -EEXIST);
	ck_assert_int_eq(listed_count(c, "k"), 2);
	ck_assert_int_eq(listed_count(c, "msa-shop"), 3);
	exec_sql("INSERT INTO environments (stack, name, document, revision, created, updated) "
		 "SELECT 'k', 'x' || value, '{}', 1, 't', 't' FROM json_each('[1,2,3]')");
	ck_assert_int_eq(listed_count(c, "k"), 5);
	ck_assert_int_eq(store_env_delete(c, "k", "a", STORE_ANY_REVISION, "t"), 0);
	ck_assert_int_eq(listed_count(c, "k"), 4);
	ck_assert_int_eq(store_stack_delete(c, "k", STORE_ANY_REVISION, false, "t"), -ENOTEMPTY);
	exec_sql("DELETE FROM environments WHERE stack = 'k' AND name != 'b'");
	ck_assert_int_eq(listed_count(c, "k"), 1);
	exec_sql("DELETE FROM stacks WHERE name = 'msa-shop'"); /* cascades */
	ck_assert_int_eq(listed_count(c, "msa-shop"), -1);
	/* what the list shows is the kept number, not a count of the rows */
	exec_sql("UPDATE stacks SET environments = 42 WHERE name = 'k'");
	ck_assert_int_eq(listed_count(c, "k"), 42);
	json_decref(d);
	store_release(c);
	store_free(s);
}
END_TEST

START_TEST(older_database_is_migrated)
{
	size_t len;
	char *init = read_source("migrations/0001_init.sql", &len);
	struct embed_file only_first[] = {{"0001_init.sql", (const unsigned char *)init, len},
					  {NULL, NULL, 0}};
	struct store *s = open_store(only_first);
	ck_assert_int_eq(store_schema_version(s), 1);
	struct store_conn *c;
	struct store_record rec = {0};
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), -ENOENT);
	store_release(c);
	store_free(s);

	s = open_store(NULL);
	ck_assert_int_eq(store_schema_version(s), store_binary_version(NULL));
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	/* the seed (0002) wrote environments before their count was kept (0005) */
	ck_assert_int_eq(listed_count(c, "msa-shop"), 3);
	store_release(c);
	store_free(s);
	free(init);
}
END_TEST

START_TEST(newer_database_is_refused)
{
	store_free(open_store(NULL));
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x')",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct store_options opt = {path, 1, NULL, NULL};
	struct buf err;
	buf_init(&err, 1024);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(&opt, &err, &s), -EPROTONOSUPPORT);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "9999"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "upgrade manifestd"));
	buf_release(&err);
}
END_TEST

START_TEST(failing_migration_is_rolled_back)
{
	static const char bad[] = "CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);";
	size_t len;
	char *init = read_source("migrations/0001_init.sql", &len);
	struct embed_file files[] = {{"0001_init.sql", (const unsigned char *)init, len},
				     {"0002_bad.sql", (const unsigned char *)bad, sizeof bad - 1},
				     {NULL, NULL, 0}};
	struct store_options opt = {path, 1, files, NULL};
	struct buf err;
	buf_init(&err, 1024);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(&opt, &err, &s), -EIO);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "0002_bad.sql"));
	buf_release(&err);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "SELECT * FROM half", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(init);
}
END_TEST

/* Revisions of an environment: newest first, pages, the names (never the values) of the
 * secrets a change altered, and only the rows of the environment's current life. */
START_TEST(environment_revisions)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *stack = doc_of("{}");
	json_t *d1 = doc_of("{\"secrets\": {\"a\": \"one\", \"b\": \"two\"}}");
	json_t *d2 = doc_of("{\"secrets\": {\"a\": \"ONE\", \"b\": \"two\", \"c\": \"new\"}}");
	json_t *d3 = doc_of("{\"description\": \"x\", \"secrets\": {\"a\": \"ONE\"}}");
	ck_assert_int_eq(store_stack_create(c, "st", stack, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c, "st", "e", d1, "t", NULL), 0);
	ck_assert_int_eq(store_env_update(c, "st", "e", d2, 1, "t", NULL), 0);
	ck_assert_int_eq(store_env_update(c, "st", "e", d3, 2, "u", NULL), 0);

	json_t *rows = NULL, *row = NULL;
	bool more = true;
	ck_assert_int_eq(store_env_revisions(c, "st", "e", 0, 2, &rows, &more), 0);
	ck_assert(more);
	ck_assert_uint_eq(json_array_size(rows), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "revision")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "actor")), "u");
	json_t *changes = json_object_get(json_array_get(rows, 1), "secretChanges");
	ck_assert_uint_eq(json_array_size(changes), 2); /* a changed, c added; b did not */
	ck_assert_str_eq(json_string_value(json_array_get(changes, 0)), "a");
	ck_assert_str_eq(json_string_value(json_array_get(changes, 1)), "c");
	char *text = json_dumps(rows, 0);
	ck_assert_ptr_null(strstr(text, "ONE"));
	free(text);
	json_decref(rows);
	ck_assert_int_eq(store_env_revisions(c, "st", "e", 2, 50, &rows, &more), 0);
	ck_assert(!more);
	ck_assert_uint_eq(json_array_size(rows), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "kind")), "create");
	ck_assert(json_is_null(json_object_get(json_array_get(rows, 0), "old")));
	json_decref(rows);

	ck_assert_int_eq(store_env_revision(c, "st", "e", 2, &row), 0);
	ck_assert(json_is_true(json_object_get(json_object_get(json_object_get(json_object_get(row, "new"), "secrets"), "c"), "set")));
	json_decref(row);
	ck_assert_int_eq(store_env_revision(c, "st", "e", 4, &row), -ENOENT);

	/* deleted and created again: revision 1 is the new one, 2 and 3 are gone */
	ck_assert_int_eq(store_env_delete(c, "st", "e", 3, "t"), 0);
	ck_assert_int_eq(store_env_create(c, "st", "e", d3, "t", NULL), 0);
	ck_assert_int_eq(store_env_revisions(c, "st", "e", 0, 50, &rows, &more), 0);
	ck_assert_uint_eq(json_array_size(rows), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(rows, 0), "new"), "description")), "x");
	json_decref(rows);
	ck_assert_int_eq(store_env_revision(c, "st", "e", 2, &row), -ENOENT);
	json_decref(stack);
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
	store_release(c);
	store_free(s);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fresh_database_is_migrated_and_seeded);
	tcase_add_test(tc, revisions_cas_and_history);
	tcase_add_test(tc, environments_and_stack_delete);
	tcase_add_test(tc, environment_revisions);
	tcase_add_test(tc, rollback_stores_nothing);
	tcase_add_test(tc, shared_documents_follow_every_write);
	tcase_add_test(tc, stack_list_reads_the_kept_environment_count);
	tcase_add_test(tc, older_database_is_migrated);
	tcase_add_test(tc, newer_database_is_refused);
	tcase_add_test(tc, failing_migration_is_rolled_back);
	suite_add_tcase(s, tc);
	return s;
}

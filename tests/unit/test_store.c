/* test_store: the store on both engines: migrations (fresh, older database, newer
 * database refused, a failing one rolled back, C steps rewriting documents), the seed,
 * revisions, compare-and-set, history rows with masked secrets, transactions,
 * pagination. Every test runs on SQLite; with MANIFESTD_TEST_PG (the superuser keyword
 * string of a throwaway cluster, tests/pg-cluster) the test case "postgres" runs them all
 * again, each on a new database owned by the unprivileged role manifestd, and adds the
 * PostgreSQL-only ones (both dialects reach the same schema; a lost connection). */
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secretbox.h"
#include "store.h"
#include "store_backend.h"
#include "suites.h"
#include "util.h"

static enum store_kind kind;
static char dir[64];
static char sqlite_path[128]; /* a SQLite file in dir, whatever the engine under test */
static char path[1024];       /* the database under test */
static char pg_name[64];      /* its PostgreSQL database, when kind is STORE_POSTGRES */

static void copy_into(char *dst, size_t cap, const char *fmt, const char *a, const char *b)
{
	struct buf t;
	buf_init(&t, cap - 1);
	ck_assert_int_eq(buf_printf(&t, fmt, a, b), 0);
	memcpy(dst, buf_cstr(&t), t.len + 1);
	buf_release(&t);
}

static void setup(void)
{
	memcpy(dir, "/tmp/manifestd-store-XXXXXX", sizeof "/tmp/manifestd-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	copy_into(sqlite_path, sizeof sqlite_path, "%s/sub/dir/test.db%s", dir, "");
	memcpy(path, sqlite_path, strlen(sqlite_path) + 1);
	kind = STORE_SQLITE;
}

static void teardown(void)
{
	struct buf cmd;
	buf_init(&cmd, 256);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
}

/* Runs sql on conninfo (libpq), asserting it succeeds. */
static void pg_exec(const char *conninfo, const char *sql)
{
	PGconn *pg = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
	PGresult *res = PQexec(pg, sql);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

static void setup_pg(void)
{
	static int count;
	setup();
	kind = STORE_POSTGRES;
	snprintf(pg_name, sizeof pg_name, "ut_%d_%d", (int)getpid(), ++count);
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER manifestd", pg_name);
	pg_exec(getenv("MANIFESTD_TEST_PG"), sql);
	/* later keywords win: the test role, on its own database */
	copy_into(path, sizeof path, "%s user=manifestd dbname=%s", getenv("MANIFESTD_TEST_PG"), pg_name);
}

static void teardown_pg(void)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", pg_name);
	pg_exec(getenv("MANIFESTD_TEST_PG"), sql);
	teardown();
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

/* Runs sql on the database under test, beside the store (as another tool would). */
static void exec_sql(const char *sql)
{
	if (kind == STORE_POSTGRES) {
		pg_exec(path, sql);
		return;
	}
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
	exec_sql(kind == STORE_SQLITE
		 ? "INSERT INTO environments (stack, name, document, revision, created, updated) "
		   "SELECT 'k', 'x' || value, '{}', 1, 't', 't' FROM json_each('[1,2,3]')"
		 : "INSERT INTO environments (stack, name, document, revision, created, updated) "
		   "SELECT 'k', 'x' || value, '{}', 1, 't', 't' FROM json_array_elements_text('[1,2,3]') value");
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

/* The first migration of the engine under test. */
static char *first_migration(size_t *ret_len)
{
	return read_source(kind == STORE_POSTGRES ? "migrations/pg/0001_init.sql"
						  : "migrations/0001_init.sql", ret_len);
}

START_TEST(older_database_is_migrated)
{
	size_t len;
	char *init = first_migration(&len);
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

/* The built-in stack manifestd (0008) is seeded into a new database and into one of an
 * earlier release, but never over a stack of that name someone already has. */
START_TEST(manifestd_is_seeded)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	struct store_record rec = {0};
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "manifestd", &rec), 0);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(rec.document, "components"), "db"));
	ck_assert_int_eq(listed_count(c, "manifestd"), 2);
	store_record_release(&rec);
	store_release(c);
	store_free(s);
}
END_TEST

START_TEST(seeded_manifestd_keeps_a_users_stack)
{
	struct store *s = NULL;
	struct store_conn *c;
	struct store_step before[8] = {{0}};
	size_t n = 0;
	for (const struct store_step *st = store_builtin_steps(); st->name && n < 7; st++)
		if (strcmp(st->name, "0008_seed_manifestd") != 0)
			before[n++] = *st;
	struct store_options opt = {path, 1, store_builtin_migrations(kind), NULL};
	struct buf err;
	buf_init(&err, 1024);
	ck_assert_msg(store_open_with_steps(&opt, before, &err, &s) == 0, "%s", buf_cstr(&err));
	buf_release(&err);
	ck_assert_int_eq(store_acquire(s, &c), 0);
	struct store_record rec = {0};
	ck_assert_int_eq(store_stack_get(c, "manifestd", &rec), -ENOENT);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	json_t *ours = doc_of("{\"description\": \"ours\"}");
	ck_assert_int_eq(store_stack_create(c, "manifestd", ours, "t", NULL), 0);
	json_decref(ours);
	store_release(c);
	store_free(s);

	s = open_store(NULL);
	ck_assert_int_eq(store_schema_version(s), store_binary_version(NULL));
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "manifestd", &rec), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec.document, "description")), "ours");
	ck_assert_int_eq(rec.revision, 1);
	ck_assert_int_eq(listed_count(c, "manifestd"), 0);
	store_record_release(&rec);
	store_release(c);
	store_free(s);
}
END_TEST

START_TEST(newer_database_is_refused)
{
	store_free(open_store(NULL));
	exec_sql("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x')");
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
	char *init = first_migration(&len);
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
	/* the store opens again at version 1 (the first file alone) and knows no table half */
	struct embed_file first[] = {files[0], {NULL, NULL, 0}};
	s = open_store(first);
	ck_assert_int_eq(store_schema_version(s), 1);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *schema = NULL;
	ck_assert_int_eq(store_schema(c, &schema), 0);
	ck_assert_ptr_null(json_object_get(schema, "half"));
	ck_assert_ptr_nonnull(json_object_get(schema, "stacks"));
	json_decref(schema);
	store_release(c);
	store_free(s);
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

/* The versions of a dialect's built-in migrations and the C steps, as "1,2,3,". */
static void versions_of(enum store_kind k, struct buf *out)
{
	for (long long v = 1; v < 10000; v++) {
		bool has = false;
		for (const struct embed_file *f = store_builtin_migrations(k); f->name && !has; f++)
			has = strtoll(f->name, NULL, 10) == v;
		for (const struct store_step *st = store_builtin_steps(); st->name && !has; st++)
			has = strtoll(st->name, NULL, 10) == v;
		if (has)
			ck_assert_int_eq(buf_printf(out, "%lld,", v), 0);
	}
}

/* Every version exists for both dialects (as SQL of each, or as a C step). */
START_TEST(dialects_have_the_same_versions)
{
	struct buf a, b;
	buf_init(&a, 4096);
	buf_init(&b, 4096);
	versions_of(STORE_SQLITE, &a);
	versions_of(STORE_POSTGRES, &b);
	ck_assert_str_eq(buf_cstr(&a), buf_cstr(&b));
	char newest[32];
	int n = snprintf(newest, sizeof newest, "%lld,", store_binary_version(NULL));
	ck_assert(b.len >= (size_t)n && strcmp(buf_cstr(&b) + b.len - (size_t)n, newest) == 0);
	buf_release(&a);
	buf_release(&b);
}
END_TEST

/* A C step marks every document with the table it is stored in. */
static int reshape(void *arg, const struct store_document_place *at, json_t *doc,
		   bool *ret_changed, struct buf *err)
{
	(void)err;
	(*(int *)arg)++;
	*ret_changed = true;
	return json_object_set_new(doc, "reshaped", json_string(at->table)) < 0 ? -ENOMEM : 0;
}

static int reshape_step(struct store_conn *c, struct buf *err)
{
	int calls = 0;
	int r = store_rewrite_documents(c, reshape, &calls, err);
	return r == 0 && calls == 0 ? -EINVAL : r;
}

static int failing_step(struct store_conn *c, struct buf *err)
{
	int calls = 0;
	int r = store_rewrite_documents(c, reshape, &calls, err);
	if (r == 0)
		(void)buf_puts(err, "the step refuses");
	return r == 0 ? -EINVAL : r;
}

/* Opens the database under test with the built-in migrations and one more C step. */
static int open_with_step(const struct store_step *extra, const unsigned char *key, struct buf *err,
			  struct store **ret)
{
	struct store_step steps[8] = {{0}};
	size_t n = 0;
	for (const struct store_step *st = store_builtin_steps(); st->name && n < 6; st++)
		steps[n++] = *st;
	steps[n] = *extra;
	struct store_options opt = {path, 1, store_builtin_migrations(kind), key};
	return store_open_with_steps(&opt, steps, err, ret);
}

static const char *doc_str(const json_t *doc, const char *member)
{
	return json_string_value(json_object_get(doc, member));
}

/* A migration in C rewrites every stored document (stacks, environments, history) in
 * one transaction, leaving revisions, sealed secrets and history's append-only rule as
 * they were; a step that fails changes nothing. */
START_TEST(c_step_rewrites_every_document)
{
	unsigned char key[SECRETBOX_KEY_BYTES];
	ck_assert_int_eq(secretbox_init(), 0);
	secretbox_key_generate(key);
	struct store *s = NULL;
	struct buf err;
	buf_init(&err, 1024);
	ck_assert_msg(store_open(&(struct store_options){path, 1, NULL, key}, &err, &s) == 0, "%s", buf_cstr(&err));
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *d1 = doc_of("{\"config\": {\"n\": \"1\"}, \"secrets\": {\"db\": \"pw1\"}}");
	json_t *d2 = doc_of("{\"config\": {\"n\": \"2\"}, \"secrets\": {\"db\": \"pw2\"}}");
	ck_assert_int_eq(store_stack_create(c, "rs", d1, "t", NULL), 0);
	ck_assert_int_eq(store_env_create(c, "rs", "e", d1, "t", NULL), 0);
	ck_assert_int_eq(store_env_update(c, "rs", "e", d2, 1, "t", NULL), 0);
	store_release(c);
	store_free(s);

	static const struct store_step failing = {"0100_failing", failing_step};
	s = NULL;
	ck_assert_int_eq(open_with_step(&failing, key, &err, &s), -EIO);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "the step refuses"));
	buf_reset(&err);

	static const struct store_step step = {"0099_reshape", reshape_step};
	ck_assert_msg(open_with_step(&step, key, &err, &s) == 0, "%s", buf_cstr(&err));
	ck_assert_int_eq(store_schema_version(s), 99);
	ck_assert_int_eq(store_acquire(s, &c), 0);
	struct store_record rec = {0};
	ck_assert_int_eq(store_stack_get(c, "rs", &rec), 0);
	ck_assert_str_eq(doc_str(rec.document, "reshaped"), "stacks");
	ck_assert_int_eq(rec.revision, 1);
	store_record_release(&rec);
	ck_assert_int_eq(store_env_get(c, "rs", "e", &rec), 0);
	ck_assert_str_eq(doc_str(rec.document, "reshaped"), "environments");
	ck_assert_str_eq(doc_str(json_object_get(rec.document, "secrets"), "db"), "pw2");
	ck_assert_int_eq(rec.revision, 2);
	store_record_release(&rec);
	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "rs", "e", &rows), 0);
	ck_assert_uint_eq(json_array_size(rows), 2);
	ck_assert(json_is_null(json_object_get(json_array_get(rows, 0), "old")));
	ck_assert_str_eq(doc_str(json_object_get(json_array_get(rows, 0), "new"), "reshaped"), "history");
	ck_assert_str_eq(doc_str(json_object_get(json_array_get(rows, 1), "old"), "reshaped"), "history");
	json_decref(rows);
	/* the failed step left nothing: only the successful one's mark is there */
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	ck_assert_str_eq(doc_str(rec.document, "reshaped"), "stacks");
	store_record_release(&rec);
	/* history is append-only again */
	ck_assert_int_ne(store_exec(c, "UPDATE history SET actor = 'x'", NULL, 0, NULL), 0);
	ck_assert_int_ne(store_exec(c, "DELETE FROM history", NULL, 0, NULL), 0);
	store_release(c);
	store_free(s);
	buf_release(&err);
	json_decref(d1);
	json_decref(d2);
}
END_TEST

/* ---- PostgreSQL only ---- */

/* A fresh SQLite file and a fresh PostgreSQL database end at the same version with the
 * same tables and the same columns in the same order. */
START_TEST(dialects_reach_the_same_schema)
{
	struct store *lite = NULL, *pg = NULL;
	struct buf err;
	buf_init(&err, 1024);
	ck_assert_msg(store_open(&(struct store_options){sqlite_path, 1, NULL, NULL}, &err, &lite) == 0,
		      "%s", buf_cstr(&err));
	pg = open_store(NULL);
	ck_assert_int_eq(store_kind(lite), STORE_SQLITE);
	ck_assert_int_eq(store_kind(pg), STORE_POSTGRES);
	ck_assert_int_eq(store_schema_version(lite), store_schema_version(pg));
	ck_assert_int_eq(store_schema_version(pg), store_binary_version(NULL));
	struct store_conn *a, *b;
	json_t *sa = NULL, *sb = NULL;
	ck_assert_int_eq(store_acquire(lite, &a), 0);
	ck_assert_int_eq(store_acquire(pg, &b), 0);
	ck_assert_int_eq(store_schema(a, &sa), 0);
	ck_assert_int_eq(store_schema(b, &sb), 0);
	char *ta = json_dumps(sa, JSON_SORT_KEYS), *tb = json_dumps(sb, JSON_SORT_KEYS);
	ck_assert_str_eq(ta, tb);
	ck_assert_ptr_nonnull(strstr(ta, "\"history\": [\"id\", \"time\""));
	free(ta);
	free(tb);
	json_decref(sa);
	json_decref(sb);
	store_release(a);
	store_release(b);
	store_free(lite);
	store_free(pg);
	buf_release(&err);
}
END_TEST

/* Ends every session of the test database but the caller's, as a server restart would. */
static void kill_sessions(void)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
		 "WHERE datname = '%s' AND pid <> pg_backend_pid()", pg_name);
	pg_exec(getenv("MANIFESTD_TEST_PG"), sql);
}

/* A lost connection: a read outside a transaction, or first in a read transaction, is
 * retried on a fresh connection; in a write transaction the statement fails with
 * -ENOTCONN, and the next acquire reconnects. */
START_TEST(lost_connection_is_reconnected)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	struct store_record rec = {0};
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	kill_sessions();
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	/* the first statement of a read transaction: begun again on a fresh connection */
	ck_assert_int_eq(store_begin_read(c), 0);
	kill_sessions();
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	ck_assert_int_eq(store_env_get(c, "msa-shop", "dev", &rec), 0);
	store_record_release(&rec);
	store_rollback(c);
	ck_assert_int_eq(store_begin(c), 0);
	kill_sessions();
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), -ENOTCONN);
	store_release(c);
	ck_assert_int_ge(store_error_count(s), 1);
	usleep(300 * 1000); /* past the pause after a failed connect, if one was made */
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_ping(c), 0);
	ck_assert_int_eq(store_stack_get(c, "msa-shop", &rec), 0);
	store_record_release(&rec);
	store_release(c);
	store_free(s);
}
END_TEST

struct writer {
	struct store *s;
	atomic_bool read_done;
	long long read_revision;
	int result;
};

/* Reads environment dev in a write transaction (waiting for the row lock) and writes it. */
static void *second_writer(void *arg)
{
	struct writer *w = arg;
	struct store_conn *c;
	struct store_record rec = {0};
	ck_assert_int_eq(store_acquire(w->s, &c), 0);
	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_env_get(c, "msa-shop", "dev", &rec), 0);
	w->read_revision = rec.revision;
	atomic_store(&w->read_done, true);
	w->result = store_env_update(c, "msa-shop", "dev", rec.document, rec.revision, "w2", NULL);
	if (w->result == 0)
		w->result = store_commit(c);
	store_record_release(&rec);
	store_release(c);
	return NULL;
}

/* Two write transactions on one stack: the second one's first read waits until the first
 * commits, then sees its write: no lost update, revisions 1, 2, 3. */
START_TEST(writers_of_one_stack_take_turns)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	struct store_record rec = {0};
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_env_get(c, "msa-shop", "dev", &rec), 0);
	struct writer w = {.s = s};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, second_writer, &w), 0);
	usleep(300 * 1000);
	ck_assert_msg(!atomic_load(&w.read_done), "the second writer read while the first held the stack");
	ck_assert_int_eq(store_env_update(c, "msa-shop", "dev", rec.document, 1, "w1", NULL), 0);
	ck_assert_int_eq(store_commit(c), 0);
	store_record_release(&rec);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.read_revision, 2);
	ck_assert_int_eq(w.result, 0);
	json_t *rows = NULL;
	ck_assert_int_eq(store_history(c, "msa-shop", "dev", &rows), 0);
	ck_assert_uint_eq(json_array_size(rows), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, i), "revision")),
				 (json_int_t)i + 1);
	json_decref(rows);
	store_release(c);
	store_free(s);
}
END_TEST

/* The catalog's stored types: create, compare-and-set, the list and the documents, the
 * history of a type's current life (newest first, pages), delete, and a type stored
 * again after a delete starting over at revision 1. */
START_TEST(catalog_types_and_their_revisions)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	json_t *v1 = doc_of("{\"description\": \"one\"}");
	json_t *v2 = doc_of("{\"description\": \"two\"}");
	struct store_record rec = {0};
	json_t *rows = NULL, *row = NULL;
	bool more = true;

	ck_assert_int_eq(store_catalog_get(c, "cache", &rec), -ENOENT);
	ck_assert_int_eq(store_catalog_list(c, &rows), 0);
	ck_assert_uint_eq(json_array_size(rows), 0);
	json_decref(rows);
	ck_assert_int_eq(store_catalog_put(c, "cache", v1, 3, "t", NULL), -ESTALE); /* not stored */
	ck_assert_int_eq(store_begin(c), 0);
	ck_assert_int_eq(store_catalog_put(c, "cache", v1, 0, "alice", &rec), 0);
	ck_assert_int_eq(store_commit(c), 0);
	ck_assert_int_eq(rec.revision, 1);
	ck_assert_str_eq(rec.created, rec.updated);
	store_record_release(&rec);
	ck_assert_int_eq(store_catalog_put(c, "cache", v2, 0, "t", NULL), -ESTALE); /* stored now */
	ck_assert_int_eq(store_catalog_put(c, "cache", v2, 1, "bob", &rec), 0);
	ck_assert_int_eq(rec.revision, 2);
	store_record_release(&rec);
	ck_assert_int_eq(store_catalog_put(c, "cache", v1, 1, "t", NULL), -ESTALE);
	ck_assert_int_eq(store_catalog_put(c, "cache", v1, STORE_ANY_REVISION, "carol", NULL), 0);
	ck_assert_int_eq(store_catalog_put(c, "aaa", v2, STORE_ANY_REVISION, "t", NULL), 0);
	ck_assert_int_eq(store_catalog_get(c, "cache", &rec), 0);
	ck_assert_int_eq(rec.revision, 3);
	ck_assert_str_eq(json_string_value(json_object_get(rec.document, "description")), "one");
	store_record_release(&rec);

	ck_assert_int_eq(store_catalog_list(c, &rows), 0); /* sorted by name */
	ck_assert_uint_eq(json_array_size(rows), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "name")), "aaa");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 1), "revision")), 3);
	json_decref(rows);
	ck_assert_int_eq(store_catalog_documents(c, &rows), 0);
	ck_assert_uint_eq(json_object_size(rows), 2);
	ck_assert(json_equal(json_object_get(rows, "cache"), v1));
	json_decref(rows);

	ck_assert_int_eq(store_catalog_revisions(c, "cache", 0, 2, &rows, &more), 0);
	ck_assert(more);
	ck_assert_uint_eq(json_array_size(rows), 2);
	row = json_array_get(rows, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(row, "revision")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(row, "actor")), "carol");
	ck_assert(json_equal(json_object_get(row, "old"), v2));
	ck_assert(json_equal(json_object_get(row, "new"), v1));
	json_decref(rows);
	ck_assert_int_eq(store_catalog_revisions(c, "cache", 2, 50, &rows, &more), 0);
	ck_assert(!more);
	ck_assert_uint_eq(json_array_size(rows), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "kind")), "create");
	ck_assert(json_is_null(json_object_get(json_array_get(rows, 0), "old")));
	json_decref(rows);
	ck_assert_int_eq(store_catalog_revision(c, "cache", 2, &row), 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "actor")), "bob");
	ck_assert(json_equal(json_object_get(row, "new"), v2));
	json_decref(row);
	ck_assert_int_eq(store_catalog_revision(c, "cache", 4, &row), -ENOENT);

	/* deleted (at its revision only), then stored again: revision 1, the old life unlisted */
	ck_assert_int_eq(store_catalog_delete(c, "cache", 2, "t"), -ESTALE);
	ck_assert_int_eq(store_catalog_delete(c, "cache", 3, "dave"), 0);
	ck_assert_int_eq(store_catalog_delete(c, "cache", STORE_ANY_REVISION, "t"), -ENOENT);
	ck_assert_int_eq(store_catalog_get(c, "cache", &rec), -ENOENT);
	ck_assert_int_eq(store_catalog_revisions(c, "cache", 0, 50, &rows, &more), 0);
	ck_assert_uint_eq(json_array_size(rows), 0);
	json_decref(rows);
	ck_assert_int_eq(store_catalog_put(c, "cache", v2, 0, "t", &rec), 0);
	ck_assert_int_eq(rec.revision, 1);
	store_record_release(&rec);
	ck_assert_int_eq(store_catalog_revisions(c, "cache", 0, 50, &rows, &more), 0);
	ck_assert_uint_eq(json_array_size(rows), 1);
	json_decref(rows);
	ck_assert_int_eq(store_catalog_revision(c, "cache", 2, &row), -ENOENT);

	/* every change is a row of catalog_history, the delete's too, and it is append-only */
	long long n = -1;
	ck_assert_int_eq(store_query_text(c, "SELECT count(*) FROM catalog_history WHERE name = 'cache'", NULL, 0), 0);
	ck_assert_int_eq(c->store->be->next(c), 1);
	n = c->store->be->integer(c, 0);
	c->store->be->done(c);
	ck_assert_int_eq(n, 5);
	ck_assert_int_lt(store_exec(c, "DELETE FROM catalog_history", NULL, 0, NULL), 0);

	json_decref(v1);
	json_decref(v2);
	store_release(c);
	store_free(s);
}
END_TEST

/* Begins a catalog change (waiting for the writes running) and marks when it has begun. */
static void *catalog_writer(void *arg)
{
	struct writer *w = arg;
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(w->s, &c), 0);
	w->result = store_begin_catalog(c);
	atomic_store(&w->read_done, true);
	store_release(c);
	return NULL;
}

/* A catalog change waits for the stack writes that began before it (they checked their
 * documents with the catalog they read), and the writes begun while it runs wait for it. */
START_TEST(catalog_changes_wait_for_writers)
{
	struct store *s = open_store(NULL);
	struct store_conn *c;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_begin(c), 0);
	struct writer w = {.s = s};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, catalog_writer, &w), 0);
	usleep(300 * 1000);
	ck_assert_msg(!atomic_load(&w.read_done), "the catalog change began while a write ran");
	ck_assert_int_eq(store_commit(c), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.result, 0);
	store_release(c);
	store_free(s);
}
END_TEST

static void add_common(TCase *tc)
{
	tcase_add_test(tc, fresh_database_is_migrated_and_seeded);
	tcase_add_test(tc, revisions_cas_and_history);
	tcase_add_test(tc, environments_and_stack_delete);
	tcase_add_test(tc, environment_revisions);
	tcase_add_test(tc, catalog_types_and_their_revisions);
	tcase_add_test(tc, rollback_stores_nothing);
	tcase_add_test(tc, shared_documents_follow_every_write);
	tcase_add_test(tc, stack_list_reads_the_kept_environment_count);
	tcase_add_test(tc, older_database_is_migrated);
	tcase_add_test(tc, manifestd_is_seeded);
	tcase_add_test(tc, seeded_manifestd_keeps_a_users_stack);
	tcase_add_test(tc, newer_database_is_refused);
	tcase_add_test(tc, failing_migration_is_rolled_back);
	tcase_add_test(tc, c_step_rewrites_every_document);
	tcase_add_test(tc, catalog_changes_wait_for_writers);
}

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	add_common(tc);
	tcase_add_test(tc, dialects_have_the_same_versions);
	suite_add_tcase(s, tc);
	const char *pg = getenv("MANIFESTD_TEST_PG");
	if (pg && *pg) {
		TCase *tp = tcase_create("postgres");
		tcase_add_checked_fixture(tp, setup_pg, teardown_pg);
		add_common(tp);
		tcase_add_test(tp, dialects_reach_the_same_schema);
		tcase_add_test(tp, lost_connection_is_reconnected);
		tcase_add_test(tp, writers_of_one_stack_take_turns);
		suite_add_tcase(s, tp);
	}
	return s;
}

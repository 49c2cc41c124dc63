/* store_sqlite: the SQLite engine of the store (include/store_backend.h): one file in WAL
 * mode, statements prepared once per connection, one writer at a time. */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define BUSY_TIMEOUT_MS 5000

struct sqlite_conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[Q_COUNT];
	sqlite3_stmt *stamp;  /* PRAGMA data_version */
	sqlite3_stmt *cur;    /* the running statement */
	bool adhoc;           /* cur is a one-off, finalized by done() */
	int first;            /* result of cur's first step, until next() hands it over */
	bool first_pending;
	char **triggers;      /* CREATE TRIGGER texts while suspended */
	size_t ntriggers;
};

static struct sqlite_conn *conn_of(struct store_conn *c)
{
	return c->db;
}

/* The error of result code rc (see store_backend.h), with the message kept. */
static int fail(struct store_conn *c, int rc)
{
	struct sqlite_conn *s = conn_of(c);
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		buf_reset(&c->error);
		(void)buf_puts(&c->error, s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? -EAGAIN : -EIO;
	}
}

/* now_utc(): the UTC time as "2026-11-24T01:02:03Z" (store_backend.h). */
static void fn_now_utc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	char now[32];
	store_now_utc(now);
	sqlite3_result_text(ctx, now, -1, SQLITE_TRANSIENT);
}

static void sqlite_disconnect(struct store_conn *c)
{
	struct sqlite_conn *s = conn_of(c);
	if (!s)
		return;
	for (size_t i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_finalize(s->stamp);
	if (s->adhoc)
		sqlite3_finalize(s->cur);
	for (size_t i = 0; i < s->ntriggers; i++)
		free(s->triggers[i]);
	free(s->triggers);
	sqlite3_close(s->db);
	free(s);
	c->db = NULL;
}

static int sqlite_connect(struct store_conn *c, const char *target, struct buf *err)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
				      "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;";
	struct sqlite_conn *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	c->db = s;
	int rc = sqlite3_open_v2(target, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(s->db, 1);
		rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, pragmas, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(s->db, "now_utc", 0, SQLITE_UTF8, NULL, fn_now_utc, NULL,
					     NULL);
	if (rc != SQLITE_OK) {
		if (err)
			(void)buf_printf(err, "'%s': %s", target,
					 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite_disconnect(c);
		return -EIO;
	}
	return 0;
}

static bool sqlite_usable(struct store_conn *c)
{
	return c->db != NULL;
}

static void sqlite_done(struct store_conn *c)
{
	struct sqlite_conn *s = conn_of(c);
	if (!s || !s->cur)
		return;
	if (s->adhoc) {
		sqlite3_finalize(s->cur);
	} else {
		sqlite3_reset(s->cur);
		sqlite3_clear_bindings(s->cur);
	}
	s->cur = NULL;
	s->adhoc = false;
	s->first_pending = false;
}

static int bind(sqlite3_stmt *st, const struct store_param *p, size_t n)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int at = (int)i + 1;
		if (p[i].is_int)
			rc = sqlite3_bind_int64(st, at, p[i].i);
		else if (p[i].text)
			rc = sqlite3_bind_text(st, at, p[i].text, (int)p[i].len, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(st, at);
	}
	return rc;
}

static int sqlite_query(struct store_conn *c, int id, const char *sql, const struct store_param *p,
			size_t n)
{
	struct sqlite_conn *s = conn_of(c);
	sqlite_done(c);
	sqlite3_stmt *st = id >= 0 ? s->stmts[id] : NULL;
	int rc = SQLITE_OK;
	if (!st)
		rc = sqlite3_prepare_v3(s->db, sql, -1, id >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
					NULL);
	if (rc != SQLITE_OK)
		return fail(c, rc);
	if (id >= 0)
		s->stmts[id] = st;
	s->cur = st;
	s->adhoc = id < 0;
	rc = bind(st, p, n);
	if (rc != SQLITE_OK)
		return fail(c, rc);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(c, rc);
	s->first = rc;
	s->first_pending = true;
	return 0;
}

static int sqlite_next(struct store_conn *c)
{
	struct sqlite_conn *s = conn_of(c);
	if (!s->cur)
		return 0;
	int rc;
	if (s->first_pending) {
		rc = s->first;
		s->first_pending = false;
	} else {
		rc = sqlite3_step(s->cur);
	}
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(c, rc);
}

static const char *sqlite_text(struct store_conn *c, int i, size_t *ret_len)
{
	struct sqlite_conn *s = conn_of(c);
	const char *t = (const char *)sqlite3_column_text(s->cur, i);
	if (ret_len)
		*ret_len = t ? (size_t)sqlite3_column_bytes(s->cur, i) : 0;
	return t;
}

static long long sqlite_integer(struct store_conn *c, int i)
{
	return sqlite3_column_int64(conn_of(c)->cur, i);
}

static long long sqlite_changes(struct store_conn *c)
{
	return sqlite3_changes64(conn_of(c)->db);
}

static bool sqlite_in_transaction(struct store_conn *c)
{
	return !sqlite3_get_autocommit(conn_of(c)->db);
}

static int sqlite_script(struct store_conn *c, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(conn_of(c)->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		buf_reset(&c->error);
		(void)buf_puts(&c->error, msg ? msg : sqlite3_errstr(rc));
	}
	sqlite3_free(msg);
	if (rc == SQLITE_OK)
		return 0;
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? -EAGAIN : -EIO;
}

/* PRAGMA data_version (changes when another connection, of any process, commits) and
 * this connection's own changes. */
static int sqlite_change_stamp(struct store_conn *c, long long ret[2])
{
	struct sqlite_conn *s = conn_of(c);
	int rc = s->stamp ? SQLITE_OK
			  : sqlite3_prepare_v3(s->db, "PRAGMA data_version", -1,
					       SQLITE_PREPARE_PERSISTENT, &s->stamp, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s->stamp);
	if (rc == SQLITE_ROW)
		ret[0] = sqlite3_column_int64(s->stamp, 0);
	if (s->stamp)
		sqlite3_reset(s->stamp);
	if (rc != SQLITE_ROW)
		return fail(c, rc);
	ret[1] = (long long)sqlite3_total_changes64(s->db);
	return 0;
}

/* One writer at a time already: each migration's BEGIN IMMEDIATE is the lock. */
static int sqlite_migration_lock(struct store_conn *c, bool lock)
{
	(void)c;
	(void)lock;
	return 0;
}

/* SQLite cannot switch a trigger off: suspending drops them all, keeping their text,
 * and restoring creates them again (both inside the caller's transaction). */
static int sqlite_triggers(struct store_conn *c, bool enabled)
{
	struct sqlite_conn *s = conn_of(c);
	int r = 0;
	if (enabled) {
		for (size_t i = 0; i < s->ntriggers && r == 0; i++)
			r = sqlite_script(c, s->triggers[i]);
		for (size_t i = 0; i < s->ntriggers; i++)
			free(s->triggers[i]);
		s->ntriggers = 0;
		return r;
	}
	struct buf drop;
	buf_init(&drop, BUF_NO_MAX);
	r = sqlite_query(c, STORE_ADHOC, "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' "
				 "ORDER BY name", NULL, 0);
	while (r == 0 && (r = sqlite_next(c)) == 1) {
		char **more = realloc(s->triggers, (s->ntriggers + 1) * sizeof *more);
		const char *sql = sqlite_text(c, 1, NULL);
		char *text = sql ? strdup(sql) : NULL;
		r = more ? 0 : -ENOMEM;
		if (more)
			s->triggers = more;
		if (r == 0 && text) {
			s->triggers[s->ntriggers++] = text;
			text = NULL;
		} else {
			r = -ENOMEM;
		}
		free(text);
		if (r == 0)
			r = buf_printf(&drop, "DROP TRIGGER \"%s\";", sqlite_text(c, 0, NULL));
	}
	sqlite_done(c);
	if (r == 0 && drop.len)
		r = sqlite_script(c, buf_cstr(&drop));
	buf_release(&drop);
	return r;
}

/* INTEGER PRIMARY KEY takes the largest key + 1 by itself. */
static int sqlite_copied(struct store_conn *c, const char *table)
{
	(void)c;
	(void)table;
	return 0;
}

/* Moves the WAL's pages into the database and truncates it (secure_delete zeroed the
 * freed ones), so an old page with a plaintext secret does not stay in the WAL file. */
static void sqlite_compact(struct store_conn *c)
{
	(void)sqlite3_wal_checkpoint_v2(conn_of(c)->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

const struct store_backend store_sqlite_backend = {
	.kind = STORE_SQLITE,
	.name = "SQLite",
	.sql = NULL,
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.usable = sqlite_usable,
	.query = sqlite_query,
	.next = sqlite_next,
	.text = sqlite_text,
	.integer = sqlite_integer,
	.done = sqlite_done,
	.changes = sqlite_changes,
	.in_transaction = sqlite_in_transaction,
	.script = sqlite_script,
	.change_stamp = sqlite_change_stamp,
	.migration_lock = sqlite_migration_lock,
	.triggers = sqlite_triggers,
	.tables_sql = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
		      "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
	.columns_sql = "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
	.references_sql = "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1) ORDER BY 1",
	.copied = sqlite_copied,
	.compact = sqlite_compact,
};

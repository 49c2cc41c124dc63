/* store_pg: the PostgreSQL engine of the store (include/store_backend.h), over libpq:
 * named prepared statements per connection, the dialect's own statements where SQLite's
 * do not fit, error classes mapped to the store's, and timeouts on every wait.
 *
 * Connection defaults, each overridden by the same setting in the URL or keyword string:
 * connect_timeout=5 (s), TCP keepalives after 30 s idle (every 10 s, 3 lost = dead),
 * tcp_user_timeout=20000 (ms of unacknowledged data: a vanished server fails a statement
 * in 20 s instead of the kernel's ~15 min), client_encoding=UTF8,
 * application_name=manifestd, and the server options statement_timeout=15s,
 * lock_timeout=10s, idle_in_transaction_session_timeout=60s (a replica that hangs inside
 * a transaction cannot hold a stack's row for longer). */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

/* pg_advisory_lock key of migrations: "manifest" in ASCII. */
#define MIGRATION_LOCK "7885647575441208180"

/* pg_advisory_xact_lock key that orders catalog changes after the writes running (every
 * write holds it shared, a catalog change exclusively): "catalog" in ASCII. A stack or
 * environment is checked with the catalog it read; a catalog change is checked against
 * the stacks it reads: neither can commit unseen by the other. */
#define CATALOG_LOCK "27988745798627175"

/* The SHA-256 (hex) of a document column, computed by the server. */
#define DOC_SHA256(col) "encode(sha256(convert_to(" col ", 'UTF8')), 'hex')"

/* Where PostgreSQL's SQL differs from the shared text (store_sql in store.c). */
static const char *const pg_sql[Q_COUNT] = {
	/* the first read of a stack or its environment inside a write transaction */
	[Q_STACK_LOCK] = "SELECT 1 FROM stacks WHERE name = ?1 FOR UPDATE",
	/* (names are COLLATE "C" in migrations/pg: ordered byte by byte, as in SQLite) */
	[Q_STACK_LIST] = "SELECT s.name, coalesce(s.document::json ->> 'description', ''), "
			 "s.revision, s.updated, s.environments FROM stacks s ORDER BY s.name",
	[Q_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	[Q_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	/* the server hashes the documents: only 64 hex digits travel */
	[Q_FINGERPRINT_STACK] = "SELECT " DOC_SHA256("document") ", revision, "
				"(SELECT coalesce(max(id), 0) FROM catalog_history) FROM stacks WHERE name = ?1",
	[Q_FINGERPRINT_ENV] = "SELECT " DOC_SHA256("s.document") ", s.revision, " DOC_SHA256("e.document")
			      ", e.revision, (SELECT coalesce(max(id), 0) FROM catalog_history) "
			      "FROM stacks s JOIN environments e ON e.stack = s.name "
			      "WHERE s.name = ?1 AND e.name = ?2",
	[Q_CATALOG_LOCK] = "SELECT 1 FROM catalog WHERE name = ?1 FOR UPDATE",
	[Q_WRITE_LOCK] = "SELECT pg_advisory_xact_lock_shared(" CATALOG_LOCK ")",
	[Q_CATALOG_WRITE_LOCK] = "SELECT pg_advisory_xact_lock(" CATALOG_LOCK ")",
};

struct pg_conn {
	PGconn *pg;
	bool prepared[Q_COUNT];
	PGresult *res; /* of the running statement */
	int row;       /* its current row; -1 before the first */
	long long changes;
	/* A read transaction's BEGIN, not sent yet: it goes out with the transaction's first
	 * statement, in one round trip (and a transaction that ran none sends nothing). */
	const char *begin;
	bool broken; /* the pipeline went wrong: reconnect */
};

static struct pg_conn *conn_of(struct store_conn *c)
{
	return c->db;
}

bool store_pg_target(const char *target)
{
	if (strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0)
		return true;
	if (!strchr(target, '='))
		return false;
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(target, &msg);
	PQfreemem(msg);
	if (!o)
		return false;
	PQconninfoFree(o);
	return true;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void pg_disconnect(struct store_conn *c)
{
	struct pg_conn *p = conn_of(c);
	if (!p)
		return;
	PQclear(p->res);
	PQfinish(p->pg);
	free(p);
	c->db = NULL;
}

static int pg_connect(struct store_conn *c, const char *target, struct buf *err)
{
	static const char *const keys[] = {
		"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "client_encoding", "application_name",
		"options", "dbname", NULL};
	const char *values[] = {
		"5", "1", "30", "10", "3", "20000", "UTF8", "manifestd",
		"-c statement_timeout=15s -c lock_timeout=10s "
		"-c idle_in_transaction_session_timeout=60s",
		target, NULL};
	struct pg_conn *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	c->db = p;
	/* dbname comes last and is expanded: what the target says wins over the defaults */
	p->pg = PQconnectdbParams(keys, values, 1);
	if (!p->pg || PQstatus(p->pg) != CONNECTION_OK) {
		if (err) {
			const char *msg = p->pg ? PQerrorMessage(p->pg) : "out of memory";
			size_t n = strlen(msg);
			while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				n--;
			(void)buf_append(err, msg, n);
		}
		pg_disconnect(c);
		return -ENOTCONN;
	}
	PQsetNoticeProcessor(p->pg, quiet, NULL);
	return 0;
}

static bool pg_usable(struct store_conn *c)
{
	struct pg_conn *p = conn_of(c);
	return p && !p->broken && PQstatus(p->pg) == CONNECTION_OK;
}

/* The store's error for a failed result (NULL: no result at all), message kept. */
static int fail(struct store_conn *c, PGresult *res)
{
	struct pg_conn *p = conn_of(c);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(p->pg);
	buf_reset(&c->error);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	(void)buf_append(&c->error, msg, n);
	if (PQstatus(p->pg) != CONNECTION_OK)
		return -ENOTCONN;
	if (!state)
		return -EIO;
	if (strcmp(state, "23505") == 0)
		return -EEXIST;
	if (strcmp(state, "23503") == 0)
		return -ENOENT;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return -ENOTCONN; /* connection exception; admin shutdown, crash, cannot connect now */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return -EAGAIN; /* serialization, deadlock, lock timeout, statement timeout */
	if (strcmp(state, "53300") == 0)
		return -EAGAIN; /* too many connections */
	return -EIO;
}

/* sql with ?N parameters written $N (outside quotes), appended to out. */
static int dollar_params(const char *sql, struct buf *out)
{
	int r = 0;
	char quote = 0;
	for (const char *s = sql; *s && r == 0; s++) {
		char ch = *s;
		if (quote && ch == quote)
			quote = 0;
		else if (!quote && (ch == '\'' || ch == '"'))
			quote = ch;
		else if (!quote && ch == '?' && s[1] >= '0' && s[1] <= '9')
			ch = '$';
		r = buf_append(out, &ch, 1);
	}
	return r;
}

static void pg_done(struct store_conn *c)
{
	struct pg_conn *p = conn_of(c);
	if (!p)
		return;
	PQclear(p->res);
	p->res = NULL;
	p->row = -1;
}

/* Prepares statement id as "qN" once per connection. */
static int prepare(struct store_conn *c, int id, const char *sql)
{
	struct pg_conn *p = conn_of(c);
	if (p->prepared[id])
		return 0;
	char name[16];
	snprintf(name, sizeof name, "q%d", id);
	struct buf text;
	buf_init(&text, BUF_NO_MAX);
	int r = dollar_params(sql, &text);
	PGresult *res = r == 0 ? PQprepare(p->pg, name, buf_cstr(&text), 0, NULL) : NULL;
	buf_release(&text);
	if (r < 0)
		return r;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = fail(c, res);
	else
		p->prepared[id] = true;
	PQclear(res);
	return r;
}

/* The text form of every parameter (integers printed into digits, 24 bytes each). */
static void param_texts(const struct store_param *p, size_t n, const char **values, char *digits)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].is_int) {
			snprintf(digits + 24 * i, 24, "%lld", p[i].i);
			values[i] = digits + 24 * i;
		} else {
			values[i] = p[i].text;
		}
	}
}

/* The next result of a pipeline, with the NULL that ends it consumed. */
static PGresult *pipeline_result(PGconn *pg)
{
	PGresult *res = PQgetResult(pg), *extra;
	if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		for (int i = 0; i < 8 && (extra = PQgetResult(pg)) != NULL; i++)
			PQclear(extra);
	return res;
}

/* Runs the statement (prepared name, or one-off text) after p->begin, both sent at once
 * in pipeline mode: the statement's result, or the failed BEGIN's (NULL when the
 * connection failed; then it is reconnected on the next acquire). */
static PGresult *exec_after_begin(struct pg_conn *p, const char *name, const char *text, int n,
				  const char *const *values)
{
	PGconn *pg = p->pg;
	const char *begin = p->begin;
	p->begin = NULL;
	bool sent = PQenterPipelineMode(pg) == 1 &&
		    PQsendQueryParams(pg, begin, 0, NULL, NULL, NULL, NULL, 0) == 1 &&
		    (name ? PQsendQueryPrepared(pg, name, n, values, NULL, NULL, 0)
			  : PQsendQueryParams(pg, text, n, NULL, values, NULL, NULL, 0)) == 1 &&
		    PQpipelineSync(pg) == 1;
	PGresult *b = sent ? pipeline_result(pg) : NULL;
	PGresult *q = sent ? pipeline_result(pg) : NULL;
	PGresult *sync = sent ? pipeline_result(pg) : NULL;
	bool done = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
	PQclear(sync);
	if (!done || PQexitPipelineMode(pg) != 1)
		p->broken = true;
	if (b && PQresultStatus(b) != PGRES_COMMAND_OK) {
		PQclear(q);
		return b;
	}
	PQclear(b);
	return q;
}

static int pg_query(struct store_conn *c, int id, const char *sql, const struct store_param *params,
		    size_t n)
{
	struct pg_conn *p = conn_of(c);
	pg_done(c);
	if (id == Q_BEGIN_READ) {
		p->begin = sql;
		return 0;
	}
	if ((id == Q_COMMIT || id == Q_ROLLBACK) && p->begin) {
		p->begin = NULL; /* nothing was sent */
		return 0;
	}
	const char *values[STORE_MAX_PARAMS];
	char digits[STORE_MAX_PARAMS * 24];
	if (n > STORE_MAX_PARAMS)
		return -E2BIG;
	param_texts(params, n, values, digits);
	char name[16];
	snprintf(name, sizeof name, "q%d", id);
	struct buf text;
	buf_init(&text, BUF_NO_MAX);
	int r = id >= 0 ? prepare(c, id, sql) : dollar_params(sql, &text);
	if (r == 0 && p->begin)
		p->res = exec_after_begin(p, id >= 0 ? name : NULL, buf_cstr(&text), (int)n, values);
	else if (r == 0 && id >= 0)
		p->res = PQexecPrepared(p->pg, name, (int)n, values, NULL, NULL, 0);
	else if (r == 0)
		p->res = PQexecParams(p->pg, buf_cstr(&text), (int)n, NULL, values, NULL, NULL, 0);
	buf_release(&text);
	if (r < 0)
		return r;
	if (p->broken && !p->res) {
		buf_reset(&c->error);
		(void)buf_puts(&c->error, "the connection failed");
		return -ENOTCONN;
	}
	ExecStatusType st = PQresultStatus(p->res);
	if (!p->res || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
		r = fail(c, p->res);
		pg_done(c);
		return r;
	}
	if (id == Q_COMMIT && strcmp(PQcmdStatus(p->res), "COMMIT") != 0) {
		buf_reset(&c->error);
		(void)buf_puts(&c->error, "the transaction was rolled back");
		pg_done(c);
		return -EIO;
	}
	const char *tuples = PQcmdTuples(p->res);
	p->changes = *tuples ? strtoll(tuples, NULL, 10) : 0;
	return 0;
}

static int pg_next(struct store_conn *c)
{
	struct pg_conn *p = conn_of(c);
	if (!p->res || p->row + 1 >= PQntuples(p->res))
		return 0;
	p->row++;
	return 1;
}

static const char *pg_text(struct store_conn *c, int i, size_t *ret_len)
{
	struct pg_conn *p = conn_of(c);
	bool null = PQgetisnull(p->res, p->row, i);
	if (ret_len)
		*ret_len = null ? 0 : (size_t)PQgetlength(p->res, p->row, i);
	return null ? NULL : PQgetvalue(p->res, p->row, i);
}

static long long pg_integer(struct store_conn *c, int i)
{
	const char *t = pg_text(c, i, NULL);
	return t ? strtoll(t, NULL, 10) : 0;
}

static long long pg_changes(struct store_conn *c)
{
	return conn_of(c)->changes;
}

static bool pg_in_transaction(struct store_conn *c)
{
	return conn_of(c)->begin || PQtransactionStatus(conn_of(c)->pg) != PQTRANS_IDLE;
}

static int pg_script(struct store_conn *c, const char *sql)
{
	struct pg_conn *p = conn_of(c);
	pg_done(c);
	PGresult *res = PQexec(p->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : fail(c, res);
	PQclear(res);
	return r;
}

static int pg_change_stamp(struct store_conn *c, long long ret[2])
{
	(void)c;
	(void)ret;
	return -EOPNOTSUPP;
}

/* A session lock: replicas started at once on an empty database wait here while the
 * first migrates and seeds; it goes with the connection if the process dies. */
static int pg_migration_lock(struct store_conn *c, bool lock)
{
	return pg_script(c, lock ? "SELECT pg_advisory_lock(" MIGRATION_LOCK ")"
				 : "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")");
}

/* `text` quoted as an identifier, appended to out. */
static int quote_ident(struct store_conn *c, const char *text, struct buf *out)
{
	char *q = PQescapeIdentifier(conn_of(c)->pg, text, strlen(text));
	int r = q ? buf_puts(out, q) : -ENOMEM;
	PQfreemem(q);
	return r;
}

static int pg_triggers(struct store_conn *c, bool enabled)
{
	struct store_table *t = NULL;
	size_t n = 0;
	int r = store_tables(c, &t, &n);
	struct buf sql;
	buf_init(&sql, BUF_NO_MAX);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = buf_puts(&sql, "ALTER TABLE ");
		if (r == 0)
			r = quote_ident(c, t[i].name, &sql);
		if (r == 0)
			r = buf_puts(&sql, enabled ? " ENABLE TRIGGER USER;" : " DISABLE TRIGGER USER;");
	}
	if (r == 0 && sql.len)
		r = pg_script(c, buf_cstr(&sql));
	buf_release(&sql);
	store_tables_free(t, n);
	return r;
}

/* Moves the sequence of every identity or serial column of table past its largest value. */
static int pg_copied(struct store_conn *c, const char *table)
{
	json_t *cols = json_array();
	int r = cols ? pg_query(c, STORE_ADHOC, "SELECT column_name::text FROM information_schema.columns "
				"WHERE table_schema = current_schema() AND table_name = ?1 AND (is_identity "
				"= 'YES' OR column_default LIKE 'nextval(%') ORDER BY ordinal_position",
				&STORE_TEXT(table), 1) : -ENOMEM;
	while (r == 0 && (r = pg_next(c)) == 1)
		r = json_array_append_new(cols, json_string(pg_text(c, 0, NULL))) < 0 ? -ENOMEM : 0;
	pg_done(c);
	size_t i;
	json_t *col;
	json_array_foreach(cols, i, col) {
		if (r < 0)
			break;
		struct buf sql, qtable;
		buf_init(&sql, BUF_NO_MAX);
		buf_init(&qtable, BUF_NO_MAX);
		const char *name = json_string_value(col);
		r = quote_ident(c, table, &qtable);
		if (r == 0)
			r = buf_puts(&sql, "SELECT setval(pg_get_serial_sequence(?1, ?2), coalesce(max(");
		if (r == 0)
			r = quote_ident(c, name, &sql);
		if (r == 0)
			r = buf_printf(&sql, "), 0) + 1, false) FROM %s", buf_cstr(&qtable));
		struct store_param p[] = {STORE_TEXT(buf_cstr(&qtable)), STORE_TEXT(name)};
		if (r == 0)
			r = pg_query(c, STORE_ADHOC, buf_cstr(&sql), p, 2);
		pg_done(c);
		buf_release(&sql);
		buf_release(&qtable);
		if (r < 0)
			break;
	}
	json_decref(cols);
	return r;
}

const struct store_backend store_pg_backend = {
	.kind = STORE_POSTGRES,
	.name = "PostgreSQL",
	.sql = pg_sql,
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.usable = pg_usable,
	.query = pg_query,
	.next = pg_next,
	.text = pg_text,
	.integer = pg_integer,
	.done = pg_done,
	.changes = pg_changes,
	.in_transaction = pg_in_transaction,
	.script = pg_script,
	.change_stamp = pg_change_stamp,
	.migration_lock = pg_migration_lock,
	.triggers = pg_triggers,
	.tables_sql = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = "
		      "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
		      "ORDER BY c.relname::text COLLATE \"C\"",
	.columns_sql = "SELECT column_name::text FROM information_schema.columns WHERE "
		       "table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
	.references_sql = "SELECT DISTINCT f.relname::text FROM pg_constraint k JOIN pg_class c ON "
			  "c.oid = k.conrelid JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace n "
			  "ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = "
			  "current_schema() AND c.relname = ?1 ORDER BY 1",
	.copied = pg_copied,
	.compact = NULL,
};

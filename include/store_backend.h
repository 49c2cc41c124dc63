/* store_backend: what a database engine gives the store. Only the store's own files
 * (server/store*.c) include this; everything else uses include/store.h.
 *
 * Invariants:
 * - The store (server/store.c, store_migrate.c, store_copy.c) is written once, against
 *   this interface: it names statements by enum store_query, binds parameters, reads
 *   columns as text or integers, and maps the errors below to its own. A backend
 *   (store_sqlite.c, store_pg.c) turns that into its engine's calls.
 * - SQL text is written once in the dialect both engines share, with numbered parameters
 *   ?1, ?2 ... (store_pg.c rewrites them to $1, $2) and the function now_utc() (the UTC
 *   time as "2026-11-24T01:02:03Z": a C function registered on every SQLite connection,
 *   a SQL function created by migrations/pg/0001_init.sql). Where the dialects differ, a
 *   backend gives its own text for that statement (its `sql` table; NULL entries use
 *   store_sql[]). Q_STACK_LOCK, Q_CATALOG_LOCK, Q_WRITE_LOCK and Q_CATALOG_WRITE_LOCK have
 *   no shared text: an engine that needs them (PostgreSQL) gives its own; the store skips
 *   them elsewhere.
 * - A connection has at most one statement running: query() runs it (and fetches its
 *   first row, so every error of the statement is seen there), next() moves through
 *   its rows, done() ends it. query() ends the one before.
 * - Statements of store_query are prepared once per connection and reused; query() with
 *   id STORE_ADHOC runs the given text as a one-off parameterized statement (migrations,
 *   copy: SQL built only from names read in the database's own catalogue).
 *
 * Errors of query(), next() and the other calls: 0 ok; -EEXIST a uniqueness constraint;
 * -ENOENT a foreign key constraint; -ENOTCONN the connection is lost or the database
 * unreachable (the store reconnects on the next acquire); -EAGAIN the database is busy
 * (lock or statement timeout, deadlock, serialization failure: retry); -EIO anything
 * else (the backend appends the engine's message to the connection's error text). */
#ifndef MANIFESTD_STORE_BACKEND_H
#define MANIFESTD_STORE_BACKEND_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "secretbox.h"
#include "store.h"

enum store_query {
	Q_STACK_GET,
	Q_STACK_LOCK,
	Q_STACK_INSERT,
	Q_STACK_UPDATE,
	Q_STACK_DELETE,
	Q_STACK_LIST,
	Q_STACK_ENV_COUNT,
	Q_STACK_EXISTS,
	Q_ENV_GET,
	Q_ENV_INSERT,
	Q_ENV_UPDATE,
	Q_ENV_DELETE,
	Q_ENV_LIST,
	Q_ENV_ALL,
	Q_HISTORY_INSERT,
	Q_HISTORY_STACK,
	Q_HISTORY_ENV,
	Q_REVISIONS,
	Q_REVISION,
	Q_BEGIN,
	Q_BEGIN_READ,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_PING,
	Q_TOKEN_INSERT,
	Q_TOKEN_FIND,
	Q_TOKEN_TOUCH,
	Q_TOKEN_LIST,
	Q_TOKEN_DELETE,
	Q_TOKEN_COUNT,
	Q_FINGERPRINT_STACK,
	Q_FINGERPRINT_ENV,
	Q_CATALOG_GET,
	Q_CATALOG_LOCK,
	Q_WRITE_LOCK,         /* after BEGIN of a write: catalog changes wait for it to end */
	Q_CATALOG_WRITE_LOCK, /* after BEGIN of a catalog change: it waits for every writer */
	Q_CATALOG_INSERT,
	Q_CATALOG_UPDATE,
	Q_CATALOG_DELETE,
	Q_CATALOG_LIST,
	Q_CATALOG_ALL,
	Q_CATALOG_HISTORY_INSERT,
	Q_CATALOG_REVISIONS,
	Q_CATALOG_REVISION,
	Q_COUNT
};

/* query() id of a one-off statement given by its text. */
#define STORE_ADHOC (-1)

/* The shared text of every statement (server/store.c). */
extern const char *const store_sql[Q_COUNT];

/* The most parameters a statement takes (a copied row has one per column). */
#define STORE_MAX_PARAMS 64

/* A statement parameter: an integer, a text of len bytes, or NULL (text NULL). */
struct store_param {
	bool is_int;
	long long i;
	const char *text;
	size_t len;
};

static inline size_t store_param_len(const char *s)
{
	return s ? strlen(s) : 0;
}

#define STORE_TEXT(s) ((struct store_param){.text = (s), .len = store_param_len(s)})
#define STORE_INT(v) ((struct store_param){.is_int = true, .i = (v)})
#define STORE_NULL ((struct store_param){0})

/* One table of a database (store_backend.tables): its columns in order, and the tables
 * its foreign keys reference. */
struct store_table {
	char *name;
	json_t *columns;    /* array of names */
	json_t *references; /* array of table names */
};

struct store_backend {
	enum store_kind kind;
	const char *name; /* "SQLite", "PostgreSQL" */
	/* This dialect's text of a statement where it differs from store_sql (NULL: same). */
	const char *const *sql;
	/* Opens c->db for target. A reason is appended to err (may be NULL). */
	int (*connect)(struct store_conn *c, const char *target, struct buf *err);
	/* Closes c->db (accepts none). */
	void (*disconnect)(struct store_conn *c);
	/* false when the connection is known to be lost: the store reconnects. */
	bool (*usable)(struct store_conn *c);
	/* Runs statement id (text sql: store_sql or the dialect's, or the one-off text for
	 * STORE_ADHOC) with n parameters and fetches its first row. */
	int (*query)(struct store_conn *c, int id, const char *sql, const struct store_param *p,
		     size_t n);
	/* 1: a row is current; 0: no (more) rows; negative: error. The first call gives the
	 * row query() fetched. */
	int (*next)(struct store_conn *c);
	/* Column i of the current row as text (borrowed until the next call; NULL for SQL
	 * NULL) and its length in *ret_len (may be NULL). */
	const char *(*text)(struct store_conn *c, int i, size_t *ret_len);
	/* Column i of the current row as an integer (0 for NULL). */
	long long (*integer)(struct store_conn *c, int i);
	/* Ends the running statement (accepts none). */
	void (*done)(struct store_conn *c);
	/* Rows changed by the last INSERT, UPDATE or DELETE. */
	long long (*changes)(struct store_conn *c);
	/* true inside a transaction (also a failed one). */
	bool (*in_transaction)(struct store_conn *c);
	/* Runs a script of SQL statements without parameters (a migration file). */
	int (*script)(struct store_conn *c, const char *sql);
	/* A value that changes whenever anything commits a change to the database, as this
	 * connection sees it; -EOPNOTSUPP when the engine has none (nothing is memoised). */
	int (*change_stamp)(struct store_conn *c, long long ret[2]);
	/* Takes (lock true) or gives back the database-wide lock under which migrations and
	 * the sealing of secrets run when several processes open the database at once. */
	int (*migration_lock)(struct store_conn *c, bool lock);
	/* Suspends (on false) or restores the user triggers of every table, within the open
	 * write transaction (copy, document rewrites). */
	int (*triggers)(struct store_conn *c, bool enabled);
	/* The catalogue, for store_tables: the names of the tables (schema_migrations
	 * included) sorted byte by byte; the columns of table ?1 in order; the tables its
	 * foreign keys reference. Each statement returns one text column. */
	const char *tables_sql, *columns_sql, *references_sql;
	/* After rows with explicit keys were copied into table: the engine's counters of
	 * generated keys move past them. */
	int (*copied)(struct store_conn *c, const char *table);
	/* After the secrets were rewritten: no page of the files keeps the old text. */
	void (*compact)(struct store_conn *c);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/* true when target is a PostgreSQL URL or libpq keyword connection string (store_pg.c). */
bool store_pg_target(const char *target);

/* Fingerprints a connection remembers while the database is unchanged (store.c). */
#define STORE_FP_MEMO 8
#define STORE_NAME_MAX 64

struct store_fp_memo {
	char stack[STORE_NAME_MAX];
	char env[STORE_NAME_MAX]; /* "" for the stack alone */
	bool has_env;
	char fp[65];
};

/* Documents a connection parsed and opened, kept while their stored text stays the same. */
#define STORE_DOC_MEMO 4

struct store_doc_memo {
	char stack[STORE_NAME_MAX];
	char env[STORE_NAME_MAX]; /* "" for a stack */
	bool has_env;
	char *text; /* the stored text it was parsed from; NULL: empty slot */
	size_t len;
	json_t *doc; /* opened; shared with callers, who never change it */
};

enum store_txn { STORE_TXN_NONE, STORE_TXN_READ, STORE_TXN_WRITE };

struct store_conn {
	struct store *store;
	void *db; /* the backend's connection; NULL while not connected */
	bool busy;
	enum store_txn txn;
	unsigned statements; /* run since the transaction began */
	/* The stack whose row this write transaction has locked ("" none). */
	char locked[STORE_NAME_MAX];
	long long memo_stamp[2];
	bool memo_valid;
	struct store_fp_memo memo[STORE_FP_MEMO];
	size_t memo_count; /* valid entries, 0 .. STORE_FP_MEMO */
	size_t memo_next;  /* the entry the next miss replaces */
	struct store_doc_memo docs[STORE_DOC_MEMO];
	size_t docs_next; /* the slot the next new place takes */
	struct buf error; /* the engine's message of the last failure */
};

struct store {
	const struct store_backend *be;
	char *target;
	struct store_conn *conns;
	size_t count;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	long long schema_version;
	atomic_ullong errors;
	_Atomic uint64_t down_until_ns; /* after a failed connect, none is tried before this */
	bool sealing; /* secrets are sealed with key */
	unsigned char key[SECRETBOX_KEY_BYTES];
};

/* Counts a failure in the store's error counter and returns r (store.c). */
int store_failed(struct store_conn *c, int r);
/* Runs statement id of the dialect of c with n parameters (skipped, with no rows, when
 * the dialect needs none): the errors of store_backend.query, counted. */
int store_query(struct store_conn *c, int id, const struct store_param *p, size_t n);
/* store_query for a one-off text. */
int store_query_text(struct store_conn *c, const char *sql, const struct store_param *p, size_t n);
/* The tables of the database (store_backend.tables_sql ...): a new array in *ret of
 * *ret_count entries, freed with store_tables_free (store_copy.c). */
int store_tables(struct store_conn *c, struct store_table **ret, size_t *ret_count);
void store_tables_free(struct store_table *t, size_t count);
/* The SQL functions' and migrations' time: "2026-11-24T01:02:03Z" of now into out. */
void store_now_utc(char out[32]);

/* Calls fn for every stored document (stacks, environments, and with_history the old
 * and new documents of history rows), as stored, and writes back those fn changed: see
 * store_rewrite_documents. *ret_count (may be NULL) = documents written (store.c). */
int store_walk_documents(struct store_conn *c, bool with_history,
			 int (*fn)(void *arg, const struct store_document_place *at, json_t *doc,
				   bool *ret_changed, struct buf *err),
			 void *arg, struct buf *err, size_t *ret_count);

/* server/store_migrate.c: brings the database of c to the newest version of files and
 * steps (store_open's), under the backend's migration lock. */
int store_migrate(struct store_conn *c, const struct embed_file *files,
		  const struct store_step *steps, struct buf *err, long long *ret_version);
/* The built-in SQL migrations of a dialect and the built-in C steps. */
const struct embed_file *store_builtin_migrations(enum store_kind kind);
const struct store_step *store_builtin_steps(void);

#endif

/* store: the database of stacks, environments, their history and the API tokens, in
 * SQLite (one file, the default) or PostgreSQL (shared by several replicas), behind one
 * interface: callers never know which.
 *
 * Invariants:
 * - The database is chosen by its target (store_options.path): a PostgreSQL URL
 *   (postgres://..., postgresql://...) or libpq keyword string ("host=... dbname=...")
 *   is PostgreSQL (server/store_pg.c), anything else a SQLite file (store_sqlite.c; WAL
 *   mode, foreign keys on, a busy timeout). Every query is a prepared statement cached
 *   per connection (no SQL is built from user text).
 * - The schema is the migrations of the database's dialect, embedded at build time and
 *   applied in order, one transaction each, recorded in the table schema_migrations:
 *   migrations/NNNN_name.sql for SQLite, migrations/pg/NNNN_name.sql for PostgreSQL (the
 *   same versions, the same tables and columns: tests/unit/test_store.c checks), and the
 *   C steps of server/store_migrate.c (struct store_step, below), which run on both.
 *   A database whose newest applied migration is newer than the binary's is refused
 *   (-EPROTONOSUPPORT). Several processes opening one PostgreSQL database at once
 *   migrate it once: migrations and the sealing of secrets run under an advisory lock.
 * - Every stored document has a revision, 1 on creation and +1 on every change, and
 *   created/updated UTC timestamps ("2026-11-24T01:02:03Z"). Every change appends one row
 *   to the append-only table history (old and new document with secrets masked, and the
 *   names, never the values, of the secrets whose value the change altered); the stored
 *   component types (the catalog) likewise, in catalog and catalog_history.
 * - A struct store is a fixed pool of connections shared by threads: a thread takes one
 *   with store_acquire() and gives it back with store_release(). A connection is used by
 *   one thread at a time; a write is made between store_begin() and store_commit() so a
 *   change and its history row are stored together or not at all.
 * - Writers never lose an update, on either engine. SQLite has one writer at a time
 *   (store_begin is BEGIN IMMEDIATE). PostgreSQL runs write transactions at READ
 *   COMMITTED, and every read of a stack or of one of its environments inside one first
 *   locks the stack's row (SELECT ... FOR UPDATE): the writes of one stack, from any
 *   replica, run one after the other as SQLite's do, the writes of different stacks run
 *   at once, and since the stack's row is always the first lock taken they cannot
 *   deadlock. The compare-and-set UPDATE (WHERE revision = expected) stays as a second
 *   guard. Read transactions are REPEATABLE READ READ ONLY: one snapshot.
 * - A PostgreSQL connection that is lost (the server restarted or is unreachable) fails
 *   its statement with -ENOTCONN; store_acquire reconnects it (at most once a second
 *   while the database stays unreachable), and a statement that starts a transaction or
 *   only reads, outside a transaction, is retried once on the fresh connection. Connect,
 *   statement, lock and keepalive timeouts bound every wait (store_pg.c).
 * - Nothing read is cached across connections or processes except by content: the
 *   documents a connection keeps parsed are reused only while their stored text is byte
 *   for byte the same, and fingerprints (render cache keys) are hashes of what is stored.
 *   Tokens are looked up on every request.
 *
 * - With a secret key (store_options.secret_key), secret values are sealed at rest
 *   (include/secretbox.h): every document is written with each non-empty member of
 *   "secrets" replaced by {"sealed": "v1:..."}, bound to its stack, environment and key
 *   name, and read back opened, so callers only ever see plain documents. Opening the
 *   store seals any plaintext secret left in the database (older versions, the seed).
 *   SQLite connections use secure_delete, and the WAL is truncated after such a rewrite,
 *   so no plaintext copy remains in the files.
 *
 * Errors: 0 ok; -ENOENT no such row; -EEXIST duplicate; -ESTALE the revision is not the
 * expected one (compare-and-set lost); -ENOTEMPTY a stack still has environments;
 * -ENOTCONN the database is unreachable (PostgreSQL); -EAGAIN the database is busy
 * (a lock or statement timeout: retry); -EIO any other database failure (each of these
 * three is counted in store_error_count); -ENOMEM. */
#ifndef MANIFESTD_STORE_H
#define MANIFESTD_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "embed.h"

/* Pass as expected_revision to write whatever the current revision is. */
#define STORE_ANY_REVISION (-1LL)

struct store;
struct store_conn;

enum store_kind { STORE_SQLITE, STORE_POSTGRES };

/* A migration written in C (see store_migrate.c for the built-in ones, and how to add
 * one: an entry in its table builtin_steps). It runs inside the migration's write
 * transaction, after the SQL file of the same version if the dialect has one, on SQLite
 * and PostgreSQL alike, and works only through this header: store_exec() for statements,
 * store_rewrite_documents() to transform every stored document (the way to change the
 * shape of every stack, environment and revision: one transaction, both engines), the
 * typed calls below. It is written against the schema of its own version (later
 * versions may add columns). It returns 0, or a negative errno with a reason appended
 * to err; then the whole version is rolled back and store_open fails. */
struct store_step {
	const char *name; /* "0007_document_shape": the version is the number before '_' */
	int (*run)(struct store_conn *c, struct buf *err);
};

struct store_options {
	/* the database: a SQLite file (its directory is created when missing), or a
	 * PostgreSQL URL or keyword string (see the invariants) */
	const char *path;
	size_t connections;      /* pool size, at least 1 */
	/* The SQL migrations to apply, in the dialect of path, terminated by a NULL name;
	 * NULL means the built-in ones of that dialect and the built-in C steps. (Tests
	 * pass a subset to make an "older" database; then no C step runs, unless given to
	 * store_open_with_steps.) */
	const struct embed_file *migrations;
	/* SECRETBOX_KEY_BYTES bytes (copied) that seal secrets at rest; NULL: documents are
	 * stored as given (tests, and commands that do not touch documents). A database
	 * with sealed secrets is refused (-EIO, err says why) with another key. */
	const unsigned char *secret_key;
};

/* Which engine target names (see the invariants). */
enum store_kind store_kind_of(const char *target);

/* A stored document and its bookkeeping. */
struct store_record {
	json_t *document; /* owned: store_record_release() decrefs it */
	long long revision;
	char created[32];
	char updated[32];
};

void store_record_release(struct store_record *r);

/* Opens (creating when missing) and migrates the database, then opens the pool.
 * On failure a one-line reason is appended to err (may be NULL). 0 and *ret, or
 * -EPROTONOSUPPORT (database newer than this binary), -EIO, -ENOMEM, -errno. */
int store_open(const struct store_options *opt, struct buf *err, struct store **ret);
/* store_open with the C steps steps (terminated by a NULL name) instead of the built-in
 * ones (NULL: the built-in ones when opt->migrations is NULL, else none). For tests. */
int store_open_with_steps(const struct store_options *opt, const struct store_step *steps,
			  struct buf *err, struct store **ret);
/* Closes every connection (all must have been released); accepts NULL. */
void store_free(struct store *s);

/* The newest migration version applied to the database / embedded in the binary (of
 * migrations, or with NULL of the built-in migrations of both dialects and C steps). */
long long store_schema_version(struct store *s);
long long store_binary_version(const struct embed_file *migrations);
/* Number of database failures since store_open (for /metrics). */
unsigned long long store_error_count(struct store *s);
/* The engine of s. */
enum store_kind store_kind(const struct store *s);

/* Takes a free connection, waiting for one, and (PostgreSQL) connects it again when it
 * was lost. 0 and *ret, -ENOTCONN (the database is unreachable), -EIO. */
int store_acquire(struct store *s, struct store_conn **ret);
/* Gives c back (rolling back a transaction left open). Accepts NULL. */
void store_release(struct store_conn *c);
/* 0 when the database answers a query. */
int store_ping(struct store_conn *c);

/* Transactions: inside store_begin() a read-check-write of a stack or its environments
 * cannot interleave with another writer of that stack (SQLite: BEGIN IMMEDIATE, one
 * writer; PostgreSQL: the stack's row is locked by the first read, see the invariants).
 * store_begin_read() gives a consistent snapshot. store_rollback() accepts "no
 * transaction". */
int store_begin(struct store_conn *c);
/* store_begin for a change of the catalog: it waits for the write transactions running
 * and those begun after it wait for it (PostgreSQL), so a stack is never stored valid
 * under a type that a concurrent change replaces unseen. */
int store_begin_catalog(struct store_conn *c);
int store_begin_read(struct store_conn *c);
int store_commit(struct store_conn *c);
void store_rollback(struct store_conn *c);

/* Stacks. name and actor are borrowed; doc is borrowed and stored as compact JSON. */
int store_stack_get(struct store_conn *c, const char *name, struct store_record *ret);
/* As store_stack_get, for readers that never change the document: ret->document may be
 * shared with the connection (which keeps the documents it parsed while their stored
 * text stays byte for byte the same) and with other threads; it is still released with
 * store_record_release. */
int store_stack_get_shared(struct store_conn *c, const char *name, struct store_record *ret);
int store_stack_create(struct store_conn *c, const char *name, const json_t *doc,
		       const char *actor, struct store_record *ret);
/* Replaces the document when the revision is expected_revision (or STORE_ANY_REVISION). */
int store_stack_update(struct store_conn *c, const char *name, const json_t *doc,
		       long long expected_revision, const char *actor, struct store_record *ret);
/* Deletes a stack; with environments only when force (they go too, each with a
 * history row). */
int store_stack_delete(struct store_conn *c, const char *name, long long expected_revision,
		       bool force, const char *actor);
/* A new array of {"name", "description", "revision", "updated", "environments"} sorted
 * by name; caller decrefs. */
int store_stack_list(struct store_conn *c, json_t **ret_items);

/* Environments of a stack (same rules as stacks). -ENOENT also for an unknown stack. */
int store_env_get(struct store_conn *c, const char *stack, const char *name,
		  struct store_record *ret);
/* As store_env_get, with a document that may be shared (see store_stack_get_shared). */
int store_env_get_shared(struct store_conn *c, const char *stack, const char *name,
			 struct store_record *ret);
int store_env_create(struct store_conn *c, const char *stack, const char *name,
		     const json_t *doc, const char *actor, struct store_record *ret);
int store_env_update(struct store_conn *c, const char *stack, const char *name,
		     const json_t *doc, long long expected_revision, const char *actor,
		     struct store_record *ret);
int store_env_delete(struct store_conn *c, const char *stack, const char *name,
		     long long expected_revision, const char *actor);
/* One page of environments sorted by name, starting after `after` (NULL: the first):
 * a new array of {"name", "revision", "updated"} and *ret_more = another page exists. */
int store_env_list(struct store_conn *c, const char *stack, const char *after, size_t limit,
		   json_t **ret_items, bool *ret_more);
/* Every environment of stack as a new object name -> document; caller decrefs. */
int store_env_documents(struct store_conn *c, const char *stack, json_t **ret_docs);

/* Re-encrypts every secret of every document under new_key in one transaction (no
 * revision or history row changes), then uses new_key. Only for a store opened with a
 * key. *ret_count (may be NULL) = documents rewritten. 0, -EINVAL, -EIO (err says why). */
int store_rekey(struct store *s, const unsigned char new_key[32], struct buf *err,
		size_t *ret_count);

/* API tokens (include/auth.h). Strings are borrowed. */
struct store_token {
	char name[65];
	char role[16];
	char hash[65];      /* SHA-256 hex of the token */
	char last_used[32]; /* "" when never used */
};
/* -EEXIST when the name or the hash is taken. */
int store_token_create(struct store_conn *c, const char *name, const char *role, const char *hash);
/* The token whose hash is hash; -ENOENT when none. */
int store_token_find(struct store_conn *c, const char *hash, struct store_token *ret);
/* Sets last_used of the token name to now. */
int store_token_touch(struct store_conn *c, const char *name);
/* A new array of {"name", "role", "created", "lastUsed" (null when never)} sorted by name. */
int store_token_list(struct store_conn *c, json_t **ret_items);
/* Deletes the token name; -ENOENT when there is none. */
int store_token_revoke(struct store_conn *c, const char *name);
int store_token_count(struct store_conn *c, long long *ret);
/* The identity of what a render of stack (and env, or NULL for the stack alone) reads:
 * BLAKE2b-256 hex of the names, revisions and documents exactly as stored, and of the last
 * change of the catalog (a stored type changes what renders), without parsing them (PostgreSQL: of the SHA-256 of each document, computed by the server, so
 * the text need not travel). Any write changes it; equal fingerprints mean equal inputs. Used as part of the
 * render cache key. 0, -ENOENT (no such stack or environment), -EIO, -ENOMEM. */
int store_fingerprint(struct store_conn *c, const char *stack, const char *env, char out[65]);

/* History rows of stack (and env, or NULL for every row of the stack), oldest first: a new
 * array of {"kind", "stack", "environment", "revision", "old", "new", "time", "actor"}. */
int store_history(struct store_conn *c, const char *stack, const char *env, json_t **ret_rows);

/* Revisions of an environment, newest first, from its history rows since its last
 * creation (an environment deleted and created again starts over at revision 1; the
 * rows of its earlier life are kept but not listed). One page of at most limit rows with
 * a revision below `before` (0: no bound): a new array of {"kind": "create"|"update",
 * "revision", "old", "new" (documents, secrets masked; old is null for a create), "time",
 * "actor", "secretChanges" (array of the secret keys whose value the change altered, or
 * null for rows written before migration 0003)}; *ret_more = an older page exists. */
int store_env_revisions(struct store_conn *c, const char *stack, const char *env,
			long long before, size_t limit, json_t **ret_rows, bool *ret_more);
/* The row of revision `revision` of the environment's current life, as a new object of
 * the shape above in *ret_row; -ENOENT when there is none. */
int store_env_revision(struct store_conn *c, const char *stack, const char *env,
		       long long revision, json_t **ret_row);

/* ---- the catalog: component types stored by platform teams (include/catalog.h) ----
 * A stored type overrides the built-in one of its name. Documents are stored as given
 * (a type holds no secret value); every change appends a row to catalog_history, and a
 * type deleted and stored again starts over at revision 1. Strings and doc are borrowed. */

int store_catalog_get(struct store_conn *c, const char *name, struct store_record *ret);
/* Creates or replaces the type name when its revision is expected_revision (0: it must
 * not exist; STORE_ANY_REVISION: whatever it is, or none). -ESTALE when not. */
int store_catalog_put(struct store_conn *c, const char *name, const json_t *doc, long long expected_revision,
		      const char *actor, struct store_record *ret);
/* Deletes the stored type name. -ENOENT, -ESTALE. */
int store_catalog_delete(struct store_conn *c, const char *name, long long expected_revision, const char *actor);
/* A new array of {"name", "revision", "updated"} of the stored types, sorted by name. */
int store_catalog_list(struct store_conn *c, json_t **ret_items);
/* Every stored type as a new object name -> document (for catalog_new). */
int store_catalog_documents(struct store_conn *c, json_t **ret_docs);
/* Revisions of a stored type's current life, newest first (as store_env_revisions):
 * {"kind", "revision", "old", "new", "time", "actor"}. */
int store_catalog_revisions(struct store_conn *c, const char *name, long long before, size_t limit,
			    json_t **ret_rows, bool *ret_more);
int store_catalog_revision(struct store_conn *c, const char *name, long long revision, json_t **ret_row);

/* ---- migrations written in C (struct store_step) ---- */

/* Runs one statement of sql (the same text on both engines: ?1 ?2 ... parameters, and
 * now_utc() for the UTC time; use store_kind_of/store_conn_kind where the dialects
 * differ) with the n parameters params (NULL entries bind SQL NULL). *ret_changes (may
 * be NULL) = rows changed. Rows it returns are ignored. */
int store_exec(struct store_conn *c, const char *sql, const char *const *params, size_t n,
	       long long *ret_changes);
/* The engine of a connection. */
enum store_kind store_conn_kind(const struct store_conn *c);

/* Where a document is stored, for store_rewrite_documents. */
struct store_document_place {
	const char *table;  /* "stacks", "environments" or "history" */
	const char *column; /* "document"; "old_document" or "new_document" for history */
	const char *stack;
	const char *env;    /* NULL for a stack's own document (and its history rows) */
	long long history_id; /* the history row's id; 0 outside history */
};

/* For a C step that changes the shape of documents: calls fn once for every stored
 * document, in one transaction (the step's), on either engine: each stack's and each
 * environment's current document, and the old and new document of every history row
 * (revisions). fn may change doc in place and sets *ret_changed when it did; the changed
 * documents are written back as compact JSON with revisions, timestamps and history left
 * as they are (the append-only rule of history is lifted for this write only). Documents
 * are given as stored: secret values sealed ({"sealed": "v1:..."}, bound to their stack,
 * environment and key name, so fn keeps each under its name in "secrets") and masked in
 * history. fn returns 0 or a negative errno (appending its reason to err), which stops the
 * walk and fails the step. 0, -EIO, -ENOMEM or fn's error. */
int store_rewrite_documents(struct store_conn *c,
			    int (*fn)(void *arg, const struct store_document_place *at, json_t *doc,
				      bool *ret_changed, struct buf *err),
			    void *arg, struct buf *err);

/* ---- moving between engines (server/store_copy.c) ---- */

/* The tables and their columns: a new object {"table": ["column", ...]} of every table
 * of the database (schema_migrations included). 0, -EIO, -ENOMEM. */
int store_schema(struct store_conn *c, json_t **ret);

/* true when the database holds nothing anyone made: no token, every history row written
 * by a migration (a database just created holds the seed), no change of the catalog ever.
 * *ret. 0 or -EIO. */
int store_is_pristine(struct store_conn *c, bool *ret);

/* Copies every row of every table but schema_migrations from `from` to `to` (both at the
 * same schema version, with the same tables and columns), row for row: documents and
 * sealed secrets as stored (no key is needed: open both without one), history with its
 * ids, tokens, and any table a later version adds. In one transaction of `to` (its
 * triggers suspended while it is filled, so kept counts are copied, not recounted), from
 * one snapshot of `from`, tables in the order of their foreign keys. Unless force, `to`
 * must be pristine (store_is_pristine); what it holds is replaced. *ret_counts (may be
 * NULL) = a new object {"table": rows copied}. 0; -ENOTEMPTY (`to` holds data and not
 * force); -EPROTO (the versions or tables differ); -EIO; -ENOMEM. A reason is appended
 * to err. */
int store_copy(struct store *from, struct store *to, bool force, struct buf *err,
	       json_t **ret_counts);

#endif

/* store: the SQLite database of stacks, environments and their history.
 *
 * Invariants:
 * - The database is in WAL mode with foreign keys on and a busy timeout; every query is a
 *   prepared statement cached per connection (no SQL is built from user text).
 * - The schema is migrations/NNNN_name.sql, embedded at build time and applied in order,
 *   one transaction each, recorded in the table schema_migrations. A database whose
 *   newest applied migration is newer than the binary's is refused (-EPROTONOSUPPORT).
 * - Every stored document has a revision, 1 on creation and +1 on every change, and
 *   created/updated UTC timestamps ("2026-11-24T01:02:03Z"). Every change appends one row
 *   to the append-only table history (old and new document with secrets masked, and the
 *   names, never the values, of the secrets whose value the change altered).
 * - A struct store is a fixed pool of connections shared by threads: a thread takes one
 *   with store_acquire() and gives it back with store_release(). A connection is used by
 *   one thread at a time; a write is made between store_begin() and store_commit() so a
 *   change and its history row are stored together or not at all.
 *
 * - With a secret key (store_options.secret_key), secret values are sealed at rest
 *   (include/secretbox.h): every document is written with each non-empty member of
 *   "secrets" replaced by {"sealed": "v1:..."}, bound to its stack, environment and key
 *   name, and read back opened, so callers only ever see plain documents. Opening the
 *   store seals any plaintext secret left in the database (older versions, the seed).
 *   The connections use secure_delete, and the WAL is truncated after such a rewrite,
 *   so no plaintext copy remains in the files.
 *
 * Errors: 0 ok; -ENOENT no such row; -EEXIST duplicate; -ESTALE the revision is not the
 * expected one (compare-and-set lost); -ENOTEMPTY a stack still has environments;
 * -EIO any SQLite failure (counted in store_error_count); -ENOMEM. */
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

struct store_options {
	const char *path;        /* database file; its directory is created when missing */
	size_t connections;      /* pool size, at least 1 */
	/* The migrations to apply, terminated by a NULL name; NULL means the built-in ones.
	 * (Tests pass a subset to make an "older" database.) */
	const struct embed_file *migrations;
	/* SECRETBOX_KEY_BYTES bytes (copied) that seal secrets at rest; NULL: documents are
	 * stored as given (tests, and commands that do not touch documents). A database
	 * with sealed secrets is refused (-EIO, err says why) with another key. */
	const unsigned char *secret_key;
};

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
/* Closes every connection (all must have been released); accepts NULL. */
void store_free(struct store *s);

/* The newest migration version applied to the database / embedded in the binary. */
long long store_schema_version(struct store *s);
long long store_binary_version(const struct embed_file *migrations);
/* Number of SQLite failures since store_open (for /metrics). */
unsigned long long store_error_count(struct store *s);

/* Takes a free connection, waiting for one. 0 and *ret or -EIO. */
int store_acquire(struct store *s, struct store_conn **ret);
/* Gives c back (rolling back a transaction left open). Accepts NULL. */
void store_release(struct store_conn *c);
/* 0 when the database answers a query. */
int store_ping(struct store_conn *c);

/* Transactions: store_begin() takes the write lock at once (BEGIN IMMEDIATE), so a
 * read-check-write inside it cannot interleave with another writer. store_begin_read()
 * gives a consistent snapshot. store_rollback() accepts "no transaction". */
int store_begin(struct store_conn *c);
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
 * BLAKE2b-256 hex of the names, revisions and documents exactly as stored, without
 * parsing them. Any write changes it; equal fingerprints mean equal inputs. Used as part of the
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

#endif

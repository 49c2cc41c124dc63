/* store: SQLite persistence of stacks, environments and history: opening, migrating,
 * a small connection pool, and typed queries over cached prepared statements. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "docmigrate.h"
#include "model.h"
#include "secretbox.h"
#include "util.h"

#include "migrations.inc"

#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define BUSY_TIMEOUT_MS 5000
#define LAST_DELETE "coalesce((SELECT max(id) FROM history WHERE stack = ?1 AND environment = ?2 " \
		    "AND kind = 'delete'), 0)"

enum stmt_id {
	Q_STACK_GET,
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
	Q_DATA_VERSION,
	Q_COUNT
};

static const char *const stmt_sql[Q_COUNT] = {
	[Q_STACK_GET] = "SELECT document, revision, created, updated FROM stacks WHERE name = ?1",
	[Q_STACK_INSERT] = "INSERT INTO stacks (name, document, revision, created, updated) "
			   "VALUES (?1, ?2, 1, " NOW ", " NOW ") "
			   "RETURNING document, revision, created, updated",
	[Q_STACK_UPDATE] = "UPDATE stacks SET document = ?2, revision = revision + 1, updated = " NOW
			   " WHERE name = ?1 AND revision = ?3 "
			   "RETURNING document, revision, created, updated",
	[Q_STACK_DELETE] = "DELETE FROM stacks WHERE name = ?1 AND revision = ?2",
	[Q_STACK_LIST] = "SELECT s.name, coalesce(json_extract(s.document, '$.description'), ''), "
			 "s.revision, s.updated, s.environments FROM stacks s ORDER BY s.name",
	/* kept by the triggers of migrations/0005_environment_count.sql */
	[Q_STACK_ENV_COUNT] = "SELECT coalesce(max(environments), 0) FROM stacks WHERE name = ?1",
	[Q_STACK_EXISTS] = "SELECT count(*) FROM stacks WHERE name = ?1",
	[Q_ENV_GET] = "SELECT document, revision, created, updated FROM environments "
		      "WHERE stack = ?1 AND name = ?2",
	[Q_ENV_INSERT] = "INSERT INTO environments (stack, name, document, revision, created, updated) "
			 "VALUES (?1, ?2, ?3, 1, " NOW ", " NOW ") "
			 "RETURNING document, revision, created, updated",
	[Q_ENV_UPDATE] = "UPDATE environments SET document = ?3, revision = revision + 1, updated = " NOW
			 " WHERE stack = ?1 AND name = ?2 AND revision = ?4 "
			 "RETURNING document, revision, created, updated",
	[Q_ENV_DELETE] = "DELETE FROM environments WHERE stack = ?1 AND name = ?2 AND revision = ?3",
	[Q_ENV_LIST] = "SELECT name, revision, updated FROM environments "
		       "WHERE stack = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
	[Q_ENV_ALL] = "SELECT name, document, revision FROM environments WHERE stack = ?1 ORDER BY name",
	[Q_HISTORY_INSERT] = "INSERT INTO history (time, actor, kind, stack, environment, revision, "
			     "old_document, new_document, secret_changes) "
			     "VALUES (" NOW ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_HISTORY_STACK] = "SELECT kind, stack, environment, revision, old_document, new_document, "
			    "time, actor FROM history WHERE stack = ?1 ORDER BY id",
	[Q_HISTORY_ENV] = "SELECT kind, stack, environment, revision, old_document, new_document, "
			  "time, actor FROM history WHERE stack = ?1 AND environment = ?2 ORDER BY id",
	/* The rows of an environment's current life: after its last deletion, if any. */
	[Q_REVISIONS] = "SELECT kind, revision, old_document, new_document, time, actor, secret_changes "
			"FROM history WHERE stack = ?1 AND environment = ?2 AND kind != 'delete' "
			"AND revision < ?3 AND id > " LAST_DELETE " ORDER BY id DESC LIMIT ?4",
	[Q_REVISION] = "SELECT kind, revision, old_document, new_document, time, actor, secret_changes "
		       "FROM history WHERE stack = ?1 AND environment = ?2 AND kind != 'delete' "
		       "AND revision = ?3 AND id > " LAST_DELETE " ORDER BY id DESC LIMIT 1",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN DEFERRED",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_PING] = "SELECT count(*) FROM schema_migrations",
	[Q_TOKEN_INSERT] = "INSERT INTO tokens (name, role, hash, created) VALUES (?1, ?2, ?3, " NOW ")",
	[Q_TOKEN_FIND] = "SELECT name, role, hash, coalesce(last_used, '') FROM tokens WHERE hash = ?1",
	[Q_TOKEN_TOUCH] = "UPDATE tokens SET last_used = " NOW " WHERE name = ?1",
	[Q_TOKEN_LIST] = "SELECT name, role, created, last_used FROM tokens ORDER BY name",
	[Q_TOKEN_DELETE] = "DELETE FROM tokens WHERE name = ?1",
	[Q_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
	[Q_FINGERPRINT_STACK] = "SELECT document, revision FROM stacks WHERE name = ?1",
	[Q_FINGERPRINT_ENV] = "SELECT document, revision FROM environments WHERE stack = ?1 AND name = ?2",
	[Q_DATA_VERSION] = "PRAGMA data_version",
};

/* Fingerprints a connection remembers while the database is unchanged (see
 * store_fingerprint). Names longer than FP_NAME_MAX - 1 are not remembered. */
#define FP_MEMO 8
#define FP_NAME_MAX 64

struct fp_memo {
	char stack[FP_NAME_MAX];
	char env[FP_NAME_MAX]; /* "" for the stack alone */
	bool has_env;
	char fp[65];
};

/* What the database looked like, to this connection, when the memo was filled:
 * PRAGMA data_version (changes when another connection, of any process, commits) and
 * sqlite3_total_changes64 (this connection's own writes). */
struct fp_stamp {
	long long data_version;
	long long own_changes;
};

/* Documents a connection parsed and opened, kept while their stored text stays the same
 * (see column_doc_shared). */
#define DOC_MEMO 4

struct doc_memo {
	char stack[FP_NAME_MAX];
	char env[FP_NAME_MAX]; /* "" for a stack */
	bool has_env;
	char *text;            /* the stored text it was parsed from; NULL: empty slot */
	size_t len;
	json_t *doc;           /* opened; shared with callers, who never change it */
};

struct store_conn {
	struct store *store;
	sqlite3 *db;
	sqlite3_stmt *stmts[Q_COUNT];
	bool busy;
	struct fp_stamp memo_stamp;
	struct fp_memo memo[FP_MEMO];
	size_t memo_count; /* valid entries, 0 .. FP_MEMO */
	size_t memo_next;  /* the entry the next miss replaces */
	struct doc_memo docs[DOC_MEMO];
	size_t docs_next;  /* the slot the next new place takes */
};

struct store {
	struct store_conn *conns;
	size_t count;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	long long schema_version;
	atomic_ullong errors;
	bool sealing; /* secrets are sealed with key */
	unsigned char key[SECRETBOX_KEY_BYTES];
};

/* ---- helpers ---- */

static int db_fail(struct store_conn *c)
{
	if (c->store)
		atomic_fetch_add(&c->store->errors, 1);
	return -EIO;
}

/* The cached statement id, reset and ready for binding; NULL on failure. */
static sqlite3_stmt *stmt(struct store_conn *c, enum stmt_id id)
{
	if (!c->stmts[id]) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &c->stmts[id], NULL) != SQLITE_OK) {
			(void)db_fail(c);
			return NULL;
		}
	}
	sqlite3_reset(c->stmts[id]);
	sqlite3_clear_bindings(c->stmts[id]);
	return c->stmts[id];
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -EIO;
}

/* Binds doc as compact JSON text (NULL binds SQL NULL); mask masks secrets first. */
static int bind_json(sqlite3_stmt *st, int i, const json_t *doc, bool mask)
{
	if (!doc)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -EIO;
	json_t *masked = NULL;
	if (mask) {
		masked = model_mask_secrets(doc);
		if (!masked)
			return -ENOMEM;
		doc = masked;
	}
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(masked);
	if (!text)
		return -ENOMEM;
	int r = sqlite3_bind_text(st, i, text, -1, free) == SQLITE_OK ? 0 : -EIO;
	return r;
}

static json_t *column_json(sqlite3_stmt *st, int i)
{
	const char *text = (const char *)sqlite3_column_text(st, i);
	if (!text)
		return NULL;
	return json_loadb(text, (size_t)sqlite3_column_bytes(st, i), 0, NULL);
}

/* ---- sealed secrets ---- */

/* Where a document lives: its stack, and its environment (NULL for the stack itself). */
struct place {
	const char *stack;
	const char *env;
};

/* {"sealed": "v1:..."}: a secret value as stored. */
static bool is_sealed(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	       json_is_string(json_object_get(v, "sealed"));
}

/* The additional data of a secret: kind, stack, environment and key, NUL-separated, so
 * a sealed value moved to another key, environment or stack does not open. */
static int secret_ad(struct buf *ad, const struct place *at, const char *key)
{
	int r = buf_puts(ad, at->env ? "manifestd/environment" : "manifestd/stack");
	if (r == 0)
		r = buf_append(ad, "", 1);
	if (r == 0)
		r = buf_append(ad, at->stack, strlen(at->stack) + 1);
	if (r == 0)
		r = buf_append(ad, at->env ? at->env : "", strlen(at->env ? at->env : "") + 1);
	if (r == 0)
		r = buf_puts(ad, key);
	return r;
}

/* The plain value of a sealed one (a new reference in *ret). */
static int open_value(const unsigned char *key, const struct buf *ad, const json_t *v, json_t **ret)
{
	struct buf plain;
	buf_init(&plain, BUF_NO_MAX);
	int r = secretbox_open(key, ad->data, ad->len, json_string_value(json_object_get(v, "sealed")),
			       &plain);
	json_t *value = r == 0 ? json_loadb(plain.data, plain.len, JSON_DECODE_ANY, NULL) : NULL;
	if (r == 0 && !value)
		r = -EBADMSG;
	if (plain.data)
		sodium_memzero(plain.data, plain.len);
	buf_release(&plain);
	if (r == 0)
		*ret = value;
	return r;
}

/* {"sealed": ...} of a plain value (a new reference in *ret). */
static int seal_value(const unsigned char *key, const struct buf *ad, const json_t *v, json_t **ret)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	struct buf sealed;
	buf_init(&sealed, BUF_NO_MAX);
	int r = text ? secretbox_seal(key, ad->data, ad->len, text, strlen(text), &sealed) : -ENOMEM;
	json_t *o = r == 0 ? json_pack("{s:s%}", "sealed", sealed.data, sealed.len) : NULL;
	if (r == 0 && !o)
		r = -ENOMEM;
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	buf_release(&sealed);
	if (r == 0)
		*ret = o;
	return r;
}

/* Rewrites the secrets of doc in place: sealed values are opened with open_key (when
 * given), then every non-empty value is sealed with seal_key (when given). When both keys
 * are the same, a sealed value is only checked to open, and left as it is. *ret_changed tells whether anything
 * changed. -EBADMSG when a sealed value does not open. */
static int transform_secrets(json_t *doc, const struct place *at, const unsigned char *open_key,
			     const unsigned char *seal_key, bool *ret_changed)
{
	json_t *secrets = json_object_get(doc, "secrets");
	const char *name;
	json_t *v;
	int r = 0;
	bool same = open_key && seal_key &&
		    sodium_memcmp(open_key, seal_key, SECRETBOX_KEY_BYTES) == 0;
	json_object_foreach(secrets, name, v) {
		bool sealed = is_sealed(v);
		bool empty = json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
		if ((sealed && !open_key) || (!sealed && (empty || !seal_key)) ||
		    (!sealed && json_is_object(v)))
			continue;
		struct buf ad;
		buf_init(&ad, BUF_NO_MAX);
		json_t *plain = NULL, *out = NULL;
		bool keep = sealed && same;
		r = secret_ad(&ad, at, name);
		if (r == 0)
			r = sealed ? open_value(open_key, &ad, v, &plain) : (plain = json_incref(v), 0);
		if (r == 0 && !keep)
			r = seal_key ? seal_value(seal_key, &ad, plain, &out) : (out = json_incref(plain), 0);
		if (r == 0 && !keep && json_object_set_new(secrets, name, out) < 0)
			r = -ENOMEM;
		if (r == 0 && !keep)
			*ret_changed = true;
		json_decref(plain);
		buf_release(&ad);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Binds a copy of doc with its secrets sealed (when the store seals). */
static int bind_doc(struct store_conn *c, sqlite3_stmt *st, int i, const struct place *at,
		    const json_t *doc)
{
	if (!c->store || !c->store->sealing)
		return bind_json(st, i, doc, false);
	json_t *copy = json_deep_copy(doc);
	bool changed = false;
	int r = copy ? transform_secrets(copy, at, NULL, c->store->key, &changed) : -ENOMEM;
	if (r == 0)
		r = bind_json(st, i, copy, false);
	json_decref(copy);
	return r;
}

/* Column i as a document with its secrets opened; NULL for NULL, -ENOMEM, -EBADMSG. */
static int column_doc(struct store_conn *c, sqlite3_stmt *st, int i, const struct place *at,
		      json_t **ret)
{
	json_t *doc = column_json(st, i);
	if (!doc)
		return -ENOMEM;
	bool changed = false;
	int r = c->store && c->store->sealing
			? transform_secrets(doc, at, c->store->key, NULL, &changed) : 0;
	if (r < 0) {
		json_decref(doc);
		return r == -EBADMSG ? db_fail(c) : r;
	}
	*ret = doc;
	return 0;
}

/* ---- parsed documents, shared ---- */

static bool doc_memo_at(const struct doc_memo *m, const struct place *at)
{
	return m->text && strcmp(m->stack, at->stack) == 0 && m->has_env == (at->env != NULL) &&
	       (!at->env || strcmp(m->env, at->env) == 0);
}

static void doc_memo_clear(struct doc_memo *m)
{
	free(m->text);
	json_decref(m->doc);
	*m = (struct doc_memo){0};
}

/* Remembers doc (a new reference is taken) parsed from text at `at`, in the slot of the
 * same place if there is one (its text is outdated), else in the next slot. Names too
 * long for a slot, or no memory for the text, leave it unremembered. */
static void doc_memo_add(struct store_conn *c, const struct place *at, const char *text,
			 size_t len, json_t *doc)
{
	size_t ls = strlen(at->stack), le = at->env ? strlen(at->env) : 0;
	char *copy = ls < FP_NAME_MAX && le < FP_NAME_MAX ? malloc(len + 1) : NULL;
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	size_t i = 0;
	while (i < DOC_MEMO && !doc_memo_at(&c->docs[i], at))
		i++;
	if (i == DOC_MEMO) {
		i = c->docs_next;
		c->docs_next = (c->docs_next + 1) % DOC_MEMO;
	}
	struct doc_memo *m = &c->docs[i];
	doc_memo_clear(m);
	memcpy(m->stack, at->stack, ls + 1);
	memcpy(m->env, at->env ? at->env : "", le + 1);
	m->has_env = at->env != NULL;
	m->text = copy;
	m->len = len;
	m->doc = json_incref(doc);
}

/* Column 0 of st's row at `at` as an opened document that may be shared: the one this
 * connection parsed before when the stored text is byte for byte the same (any write
 * changes the text: the revision aside, a document that differs is another text), else
 * parsed, opened and remembered. Skips json_loadb and opening every secret again for
 * documents read over and over. A new reference in *ret; errors as column_doc. */
static int column_doc_shared(struct store_conn *c, sqlite3_stmt *st, const struct place *at,
			     json_t **ret)
{
	const char *text = (const char *)sqlite3_column_text(st, 0);
	size_t len = (size_t)sqlite3_column_bytes(st, 0);
	for (size_t i = 0; text && i < DOC_MEMO; i++) {
		const struct doc_memo *m = &c->docs[i];
		if (doc_memo_at(m, at) && m->len == len && memcmp(m->text, text, len) == 0) {
			*ret = json_incref(m->doc);
			return 0;
		}
	}
	json_t *doc = NULL;
	int r = column_doc(c, st, 0, at, &doc);
	if (r < 0)
		return r;
	if (text)
		doc_memo_add(c, at, text, len, doc);
	*ret = doc;
	return 0;
}

static void copy_time(char dst[32], sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	size_t n = t ? strlen(t) : 0;
	if (n > 31)
		n = 31;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Reads columns document, revision, created, updated of the current row into ret. */
static int read_record(struct store_conn *c, sqlite3_stmt *st, const struct place *at,
		       bool shared, struct store_record *ret)
{
	json_t *doc = NULL;
	int r = shared ? column_doc_shared(c, st, at, &doc) : column_doc(c, st, 0, at, &doc);
	if (r < 0)
		return r;
	ret->document = doc;
	ret->revision = sqlite3_column_int64(st, 1);
	copy_time(ret->created, st, 2);
	copy_time(ret->updated, st, 3);
	return 0;
}

/* Steps a statement expected to yield at most one row: 0 with *ret filled (when ret is
 * not NULL), -ENOENT for no row, -EEXIST on a uniqueness conflict, -EIO otherwise. */
static int step_record(struct store_conn *c, sqlite3_stmt *st, const struct place *at,
		       bool shared, struct store_record *ret)
{
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW) {
		struct store_record rec = {0};
		r = read_record(c, st, at, shared, &rec);
		if (r == 0) {
			rc = sqlite3_step(st);
			if (rc != SQLITE_DONE) {
				store_record_release(&rec);
				r = db_fail(c);
			} else if (ret) {
				*ret = rec;
			} else {
				store_record_release(&rec);
			}
		}
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
		r = -EEXIST;
	} else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		r = -ENOENT;
	} else {
		r = db_fail(c);
	}
	sqlite3_reset(st);
	return r;
}

/* Steps a statement that returns no rows; *ret_changes gets the rows changed. */
static int step_done(struct store_conn *c, sqlite3_stmt *st, int *ret_changes)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c);
	if (ret_changes)
		*ret_changes = sqlite3_changes(c->db);
	return 0;
}

static int exec_stmt(struct store_conn *c, enum stmt_id id)
{
	sqlite3_stmt *st = stmt(c, id);
	if (!st)
		return -EIO;
	return step_done(c, st, NULL);
}

/* Steps the bound statement st through its rows, making a new array in *ret_items of
 * row(st) for each (row returns a new reference, NULL on allocation failure), then
 * resets st. At most limit rows are taken (SIZE_MAX: all); *ret_more (may be NULL) tells
 * whether another row follows. 0, -ENOMEM or -EIO. */
static int collect_rows(struct store_conn *c, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st),
			size_t limit, json_t **ret_items, bool *ret_more)
{
	json_t *items = json_array();
	bool more = false;
	int r = items ? 0 : -ENOMEM, rc = SQLITE_DONE;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_size(items) == limit) {
			more = true;
			break;
		}
		json_t *it = row(st);
		if (!it || json_array_append_new(items, it) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && !more && rc != SQLITE_DONE)
		r = db_fail(c);
	sqlite3_reset(st);
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret_items = items;
	if (ret_more)
		*ret_more = more;
	return 0;
}

/* true when secret key has the same value in both secret objects (absent = ""). */
static bool same_secret(const json_t *a, const json_t *b, const char *key)
{
	const json_t *va = json_object_get(a, key), *vb = json_object_get(b, key);
	if (!va || json_is_null(va) || (json_is_string(va) && !*json_string_value(va)))
		va = NULL;
	if (!vb || json_is_null(vb) || (json_is_string(vb) && !*json_string_value(vb)))
		vb = NULL;
	return (!va && !vb) || (va && vb && json_equal(va, vb));
}

/* Appends to keys every key of from whose value differs in to (and is not listed yet). */
static int secret_keys_differing(const json_t *from, const json_t *to, json_t *keys)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)from, key, v) {
		if (same_secret(from, to, key))
			continue;
		bool listed = false;
		for (size_t i = 0; i < json_array_size(keys) && !listed; i++)
			listed = strcmp(json_string_value(json_array_get(keys, i)), key) == 0;
		if (!listed && json_array_append_new(keys, json_string(key)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Binds the JSON array of the secret keys whose value differs between old_doc and new_doc
 * (either may be NULL): names only, never values. */
static int bind_secret_changes(sqlite3_stmt *st, int i, const json_t *old_doc, const json_t *new_doc)
{
	const json_t *a = json_object_get(old_doc, "secrets"), *b = json_object_get(new_doc, "secrets");
	json_t *keys = json_array();
	int r = keys ? secret_keys_differing(a, b, keys) : -ENOMEM;
	if (r == 0)
		r = secret_keys_differing(b, a, keys);
	if (r == 0)
		r = bind_json(st, i, keys, false);
	json_decref(keys);
	return r;
}

/* Appends the history row of a change of kind ("create", "update", "delete") to the
 * document at at: its new revision and its old and new documents (secrets masked). */
static int history_add(struct store_conn *c, const char *kind, const struct place *at,
		       long long revision, const json_t *old_doc, const json_t *new_doc,
		       const char *actor)
{
	sqlite3_stmt *st = stmt(c, Q_HISTORY_INSERT);
	if (!st)
		return -EIO;
	int r = bind_text(st, 1, actor ? actor : "unknown");
	if (r == 0)
		r = bind_text(st, 2, kind);
	if (r == 0)
		r = bind_text(st, 3, at->stack);
	if (r == 0)
		r = at->env ? bind_text(st, 4, at->env)
			    : (sqlite3_bind_null(st, 4) == SQLITE_OK ? 0 : -EIO);
	if (r == 0)
		r = sqlite3_bind_int64(st, 5, revision) == SQLITE_OK ? 0 : -EIO;
	if (r == 0)
		r = bind_json(st, 6, old_doc, true);
	if (r == 0)
		r = bind_json(st, 7, new_doc, true);
	if (r == 0)
		r = bind_secret_changes(st, 8, old_doc, new_doc);
	if (r < 0) {
		sqlite3_reset(st);
		return r == -EIO ? db_fail(c) : r;
	}
	return step_done(c, st, NULL);
}

void store_record_release(struct store_record *r)
{
	if (!r)
		return;
	json_decref(r->document);
	r->document = NULL;
}

/* ---- SQL functions used by migrations ---- */

static void fn_seed_document(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	size_t len = 0;
	const char *text = name ? catalog_file(name, &len) : NULL;
	if (!text) {
		sqlite3_result_null(ctx);
		return;
	}
	json_t *doc = json_loadb(text, len, 0, NULL);
	char *compact = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!compact) {
		sqlite3_result_error(ctx, "seed document is not valid JSON", -1);
		return;
	}
	sqlite3_result_text(ctx, compact, -1, free);
}

/* The JSON document of argument i, parsed (the caller json_decref()s); NULL for SQL NULL. */
static json_t *arg_document(sqlite3_value **argv, int i)
{
	const char *text = (const char *)sqlite3_value_text(argv[i]);
	return text ? json_loads(text, 0, NULL) : NULL;
}

/* doc (stolen; NULL: an error, why) as the function's compact JSON text. */
static void result_document(sqlite3_context *ctx, json_t *doc, const char *why)
{
	char *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (out)
		sqlite3_result_text(ctx, out, -1, free);
	else
		sqlite3_result_error(ctx, why, -1);
}

static void fn_mask_secrets(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	json_t *doc = arg_document(argv, 0);
	result_document(ctx, doc ? model_mask_secrets(doc) : NULL, "cannot mask secrets");
	json_decref(doc);
}

/* document_v2(doc, stack): doc in the document's shape 2 (docmigrate.h); stack is the
 * shape-1 stack of an environment, NULL for a stack. */
static void fn_document_v2(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	json_t *doc = arg_document(argv, 0), *stack = arg_document(argv, 1);
	if (doc && docmigrate_v2(doc, stack) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	json_decref(stack);
	result_document(ctx, doc, "cannot convert a document to shape 2");
}

/* ---- opening and migrating ---- */

static int conn_open(const char *path, struct store_conn *c)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
				      "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;";
	int rc = sqlite3_open_v2(path, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_extended_result_codes(c->db, 1);
	if (sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	if (sqlite3_create_function(c->db, "seed_document", 1, flags, NULL, fn_seed_document,
				    NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(c->db, "mask_secrets", 1, flags, NULL, fn_mask_secrets, NULL,
				    NULL) != SQLITE_OK ||
	    sqlite3_create_function(c->db, "document_v2", 2, flags, NULL, fn_document_v2, NULL,
				    NULL) != SQLITE_OK)
		return -EIO;
	return 0;
}

static void conn_close(struct store_conn *c)
{
	for (size_t i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	memset(c->stmts, 0, sizeof c->stmts);
	for (size_t i = 0; i < DOC_MEMO; i++)
		doc_memo_clear(&c->docs[i]);
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
}

/* The version of a migration file name "0007_x.sql"; -1 when the name has no such prefix. */
static long long migration_version(const char *name)
{
	char digits[16];
	size_t n = 0;
	while (n < sizeof digits - 1 && name[n] >= '0' && name[n] <= '9') {
		digits[n] = name[n];
		n++;
	}
	digits[n] = '\0';
	long long v;
	if (n == 0 || name[n] != '_' || util_parse_int(digits, 1, 999999, &v) < 0)
		return -1;
	return v;
}

long long store_binary_version(const struct embed_file *migrations)
{
	long long best = 0;
	for (const struct embed_file *f = migrations ? migrations : migration_files; f->name; f++) {
		long long v = migration_version(f->name);
		if (v > best)
			best = v;
	}
	return best;
}

static int db_version(sqlite3 *db, long long *ret)
{
	sqlite3_stmt *st = NULL;
	int r = -EIO;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
			       &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*ret = sqlite3_column_int64(st, 0);
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

static int record_migration(sqlite3 *db, long long version, const char *name)
{
	sqlite3_stmt *st = NULL;
	int r = -EIO;
	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (version, name, applied) "
				   "VALUES (?1, ?2, " NOW ")", -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, version) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_DONE)
		r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* Applies one migration file in its own transaction. */
static int apply_migration(sqlite3 *db, const struct embed_file *f, long long version,
			   struct buf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db, (const char *)f->data, NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (record_migration(db, version, f->name) < 0 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	if (err)
		(void)buf_printf(err, "migration '%s' failed: %s", f->name,
				 msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

static int migrate(struct store_conn *c, const char *path, const struct embed_file *migrations,
		   struct buf *err, long long *ret_version)
{
	if (sqlite3_exec(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		if (err)
			(void)buf_printf(err, "cannot use database '%s': %s", path, sqlite3_errmsg(c->db));
		return -EIO;
	}
	long long current, newest = store_binary_version(migrations);
	if (db_version(c->db, &current) < 0) {
		if (err)
			(void)buf_printf(err, "cannot read the schema version of '%s'", path);
		return -EIO;
	}
	if (current > newest) {
		if (err)
			(void)buf_printf(err, "database '%s' has schema version %lld but this manifestd "
					 "knows only up to %lld: upgrade manifestd (or use a backup)",
					 path, current, newest);
		return -EPROTONOSUPPORT;
	}
	/* The tables are sorted by name, and names start with the zero-padded version. */
	for (const struct embed_file *f = migrations; f->name; f++) {
		long long v = migration_version(f->name);
		if (v <= current)
			continue;
		int r = apply_migration(c->db, f, v, err);
		if (r < 0)
			return r;
		current = v;
	}
	*ret_version = current;
	return 0;
}

/* ---- sealing every stored secret ---- */

/* Every stored document as [stack, environment or null, document]. */
static int all_documents(struct store_conn *c, json_t **ret_rows)
{
	sqlite3_stmt *sel = NULL;
	json_t *rows = json_array();
	int r = rows ? 0 : -ENOMEM, rc = SQLITE_DONE;
	if (r == 0 && sqlite3_prepare_v2(c->db, "SELECT name, NULL, document FROM stacks UNION ALL "
				 "SELECT stack, name, document FROM environments", -1, &sel, NULL) != SQLITE_OK)
		r = db_fail(c);
	while (r == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *env = (const char *)sqlite3_column_text(sel, 1);
		json_t *doc = column_json(sel, 2);
		json_t *row = doc ? json_pack("[s, o, o]", (const char *)sqlite3_column_text(sel, 0),
					      env ? json_string(env) : json_null(), doc) : NULL;
		if (!row || json_array_append_new(rows, row) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(c);
	sqlite3_finalize(sel);
	if (r < 0) {
		json_decref(rows);
		return r;
	}
	*ret_rows = rows;
	return 0;
}

static int update_document(struct store_conn *c, const struct place *at, const json_t *doc)
{
	sqlite3_stmt *up = NULL;
	int r = 0;
	const char *sql = at->env ? "UPDATE environments SET document = ?3 WHERE stack = ?1 AND name = ?2"
				  : "UPDATE stacks SET document = ?3 WHERE name = ?1";
	if (sqlite3_prepare_v2(c->db, sql, -1, &up, NULL) != SQLITE_OK || bind_text(up, 1, at->stack) < 0 ||
	    (at->env && bind_text(up, 2, at->env) < 0))
		r = -EIO;
	if (r == 0)
		r = bind_json(up, 3, doc, false);
	if (r == 0 && sqlite3_step(up) != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(up);
	return r == -EIO ? db_fail(c) : r;
}

/* In the open write transaction of c: opens every sealed secret with open_key and seals
 * every secret with seal_key (see transform_secrets), writing back the documents that
 * changed (no revision, no history: the documents mean the same). *ret_count = how many. */
static int reseal_all(struct store_conn *c, const unsigned char *open_key,
		      const unsigned char *seal_key, struct buf *err, size_t *ret_count)
{
	json_t *rows = NULL, *row;
	size_t i, count = 0;
	int r = all_documents(c, &rows);
	json_array_foreach(rows, i, row) {
		struct place at = {json_string_value(json_array_get(row, 0)),
				   json_string_value(json_array_get(row, 1))};
		json_t *doc = json_array_get(row, 2);
		bool changed = false;
		r = transform_secrets(doc, &at, open_key, seal_key, &changed);
		if (r == -EBADMSG && err) {
			if (at.env)
				(void)buf_printf(err, "the secrets of environment '%s' of stack '%s' do not "
						 "open with this key: ", at.env, at.stack);
			else
				(void)buf_printf(err, "the secrets of stack '%s' do not open with this key: ",
						 at.stack);
			(void)buf_puts(err, "use the key the database was written with");
		}
		if (r == 0 && changed) {
			r = update_document(c, &at, doc);
			count++;
		}
		if (r < 0)
			break;
	}
	json_decref(rows);
	if (r == 0)
		*ret_count = count;
	return r;
}

/* Runs reseal_all in its own transaction, then empties the WAL of the old pages. */
static int reseal_committed(struct store_conn *c, const unsigned char *open_key,
			    const unsigned char *seal_key, struct buf *err, size_t *ret_count)
{
	size_t count = 0;
	int r = store_begin(c);
	if (r == 0)
		r = reseal_all(c, open_key, seal_key, err, &count);
	if (r == 0)
		r = store_commit(c);
	if (r < 0) {
		store_rollback(c);
		if (r == -EIO && err && !err->len)
			(void)buf_printf(err, "cannot rewrite the secrets: %s", sqlite3_errmsg(c->db));
		return r;
	}
	if (count > 0)
		(void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (ret_count)
		*ret_count = count;
	return 0;
}

int store_rekey(struct store *s, const unsigned char new_key[SECRETBOX_KEY_BYTES], struct buf *err,
		size_t *ret_count)
{
	if (!s->sealing)
		return -EINVAL;
	struct store_conn *c = NULL;
	int r = store_acquire(s, &c);
	if (r == 0)
		r = reseal_committed(c, s->key, new_key, err, ret_count);
	if (r == 0)
		memcpy(s->key, new_key, SECRETBOX_KEY_BYTES);
	store_release(c);
	return r;
}

/* Creates the directory that holds path, with its parents. */
static int make_parent_dir(const char *path)
{
	struct buf dir;
	buf_init(&dir, 4096);
	int r = buf_puts(&dir, path);
	if (r < 0)
		goto out;
	char *slash = strrchr(dir.data, '/');
	if (!slash || slash == dir.data)
		goto out;
	*slash = '\0';
	for (char *p = dir.data + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir.data, 0750) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
out:
	buf_release(&dir);
	return r;
}

/* Takes the key and seals every plaintext secret (older versions, the seed), checking
 * on the way that the sealed ones open with it. */
static int start_sealing(struct store *s, const unsigned char *key, struct buf *err)
{
	if (secretbox_init() < 0) {
		if (err)
			(void)buf_puts(err, "cannot initialise libsodium");
		return -EIO;
	}
	memcpy(s->key, key, SECRETBOX_KEY_BYTES);
	s->sealing = true;
	return reseal_committed(&s->conns[0], s->key, s->key, err, NULL);
}

int store_open(const struct store_options *opt, struct buf *err, struct store **ret)
{
	const struct embed_file *migrations = opt->migrations ? opt->migrations : migration_files;
	size_t n = opt->connections ? opt->connections : 1;
	struct store *s = calloc(1, sizeof *s);
	int r = -ENOMEM;
	if (!s)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	s->conns = calloc(n, sizeof *s->conns);
	if (!s->conns)
		goto fail;
	s->count = n;
	r = make_parent_dir(opt->path);
	if (r < 0) {
		if (err)
			(void)buf_printf(err, "cannot create the directory of '%s': %s", opt->path,
					 strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		s->conns[i].store = s;
		r = conn_open(opt->path, &s->conns[i]);
		if (r < 0) {
			if (err)
				(void)buf_printf(err, "cannot open database '%s': %s", opt->path,
						 s->conns[i].db ? sqlite3_errmsg(s->conns[i].db)
								: "out of memory");
			goto fail;
		}
		if (i == 0) {
			r = migrate(&s->conns[0], opt->path, migrations, err, &s->schema_version);
			if (r == 0 && opt->secret_key)
				r = start_sealing(s, opt->secret_key, err);
			if (r < 0)
				goto fail;
		}
	}
	*ret = s;
	return 0;
fail:
	store_free(s);
	return r;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->conns && i < s->count; i++)
		conn_close(&s->conns[i]);
	free(s->conns);
	sodium_memzero(s->key, sizeof s->key);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s);
}

long long store_schema_version(struct store *s)
{
	return s->schema_version;
}

unsigned long long store_error_count(struct store *s)
{
	return atomic_load(&s->errors);
}

int store_acquire(struct store *s, struct store_conn **ret)
{
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (size_t i = 0; i < s->count; i++) {
			if (!s->conns[i].busy) {
				s->conns[i].busy = true;
				pthread_mutex_unlock(&s->lock);
				*ret = &s->conns[i];
				return 0;
			}
		}
		pthread_cond_wait(&s->freed, &s->lock);
	}
}

void store_release(struct store_conn *c)
{
	if (!c)
		return;
	store_rollback(c);
	struct store *s = c->store;
	pthread_mutex_lock(&s->lock);
	c->busy = false;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

int store_ping(struct store_conn *c)
{
	sqlite3_stmt *st = stmt(c, Q_PING);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_fail(c);
}

int store_begin(struct store_conn *c)
{
	return exec_stmt(c, Q_BEGIN);
}

int store_begin_read(struct store_conn *c)
{
	return exec_stmt(c, Q_BEGIN_READ);
}

int store_commit(struct store_conn *c)
{
	return exec_stmt(c, Q_COMMIT);
}

void store_rollback(struct store_conn *c)
{
	if (sqlite3_get_autocommit(c->db))
		return;
	sqlite3_stmt *st = stmt(c, Q_ROLLBACK);
	if (st) {
		(void)sqlite3_step(st);
		sqlite3_reset(st);
	}
}

/* ---- stored rows: a stack or an environment ---- */

/* The statements that read and write one kind of row. Their parameters start with the
 * names of the place (stack; or stack, environment), then the document, then the
 * expected revision. */
struct row_stmts {
	enum stmt_id get, insert, update, remove;
};

static const struct row_stmts stack_stmts = {Q_STACK_GET, Q_STACK_INSERT, Q_STACK_UPDATE,
					     Q_STACK_DELETE};
static const struct row_stmts env_stmts = {Q_ENV_GET, Q_ENV_INSERT, Q_ENV_UPDATE, Q_ENV_DELETE};

static const struct row_stmts *row_stmts(const struct place *at)
{
	return at->env ? &env_stmts : &stack_stmts;
}

/* Binds the names of at from parameter 1 on; the number of parameters bound, or -EIO. */
static int bind_place(sqlite3_stmt *st, const struct place *at)
{
	if (bind_text(st, 1, at->stack) < 0 || (at->env && bind_text(st, 2, at->env) < 0))
		return -EIO;
	return at->env ? 2 : 1;
}

/* The row of at; shared: its document may be shared (column_doc_shared). */
static int row_get(struct store_conn *c, const struct place *at, bool shared,
		   struct store_record *ret)
{
	sqlite3_stmt *st = stmt(c, row_stmts(at)->get);
	if (!st || bind_place(st, at) < 0)
		return db_fail(c);
	return step_record(c, st, at, shared, ret);
}

/* The stored row of at, for compare-and-set: -ESTALE when its revision is not expected
 * (STORE_ANY_REVISION matches any). *ret is filled (caller releases) even then. */
static int row_current(struct store_conn *c, const struct place *at, long long expected,
		       struct store_record *ret)
{
	int r = row_get(c, at, false, ret);
	if (r == 0 && expected != STORE_ANY_REVISION && expected != ret->revision)
		r = -ESTALE;
	return r;
}

static int row_create(struct store_conn *c, const struct place *at, const json_t *doc,
		      const char *actor, struct store_record *ret)
{
	sqlite3_stmt *st = stmt(c, row_stmts(at)->insert);
	if (!st)
		return -EIO;
	int n = bind_place(st, at);
	int r = n < 0 ? n : bind_doc(c, st, n + 1, at, doc);
	if (r < 0)
		return r == -EIO ? db_fail(c) : r;
	struct store_record rec = {0};
	r = step_record(c, st, at, false, &rec);
	if (r == 0)
		r = history_add(c, "create", at, rec.revision, NULL, doc, actor);
	if (r < 0) {
		store_record_release(&rec);
		return r;
	}
	if (ret)
		*ret = rec;
	else
		store_record_release(&rec);
	return 0;
}

static int row_update(struct store_conn *c, const struct place *at, const json_t *doc,
		      long long expected_revision, const char *actor, struct store_record *ret)
{
	struct store_record old = {0}, rec = {0};
	int r = row_current(c, at, expected_revision, &old);
	if (r < 0)
		goto out;
	sqlite3_stmt *st = stmt(c, row_stmts(at)->update);
	if (!st) {
		r = -EIO;
		goto out;
	}
	int n = bind_place(st, at);
	r = n < 0 ? n : bind_doc(c, st, n + 1, at, doc);
	if (r == 0)
		r = sqlite3_bind_int64(st, n + 2, old.revision) == SQLITE_OK ? 0 : -EIO;
	if (r < 0)
		goto out;
	r = step_record(c, st, at, false, &rec);
	if (r == -ENOENT)
		r = -ESTALE;
	if (r == 0)
		r = history_add(c, "update", at, rec.revision, old.document, doc, actor);
	if (r == 0 && ret) {
		*ret = rec;
		rec.document = NULL;
	}
out:
	store_record_release(&old);
	store_record_release(&rec);
	return r;
}

/* Deletes the row of at whose current state is old (from row_current). */
static int row_remove(struct store_conn *c, const struct place *at,
		      const struct store_record *old, const char *actor)
{
	sqlite3_stmt *st = stmt(c, row_stmts(at)->remove);
	int n = st ? bind_place(st, at) : -EIO;
	if (n < 0 || sqlite3_bind_int64(st, n + 1, old->revision) != SQLITE_OK)
		return db_fail(c);
	int changes = 0;
	int r = step_done(c, st, &changes);
	if (r == 0 && changes != 1)
		r = -ESTALE;
	if (r == 0)
		r = history_add(c, "delete", at, old->revision + 1, old->document, NULL, actor);
	return r;
}

/* ---- stacks ---- */

int store_stack_get(struct store_conn *c, const char *name, struct store_record *ret)
{
	return row_get(c, &(struct place){name, NULL}, false, ret);
}

int store_stack_get_shared(struct store_conn *c, const char *name, struct store_record *ret)
{
	return row_get(c, &(struct place){name, NULL}, true, ret);
}

int store_stack_create(struct store_conn *c, const char *name, const json_t *doc,
		       const char *actor, struct store_record *ret)
{
	return row_create(c, &(struct place){name, NULL}, doc, actor, ret);
}

int store_stack_update(struct store_conn *c, const char *name, const json_t *doc,
		       long long expected_revision, const char *actor, struct store_record *ret)
{
	return row_update(c, &(struct place){name, NULL}, doc, expected_revision, actor, ret);
}

/* The count query q (Q_STACK_ENV_COUNT, Q_STACK_EXISTS) answers for the stack name. */
static int count_for_stack(struct store_conn *c, int q, const char *name, long long *ret)
{
	sqlite3_stmt *st = stmt(c, q);
	if (!st || bind_text(st, 1, name) < 0)
		return db_fail(c);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_fail(c);
}

int store_stack_delete(struct store_conn *c, const char *name, long long expected_revision,
		       bool force, const char *actor)
{
	const struct place at = {name, NULL};
	struct store_record old = {0};
	json_t *envs = NULL;
	long long n = 0;
	int r = row_current(c, &at, expected_revision, &old);
	if (r == 0)
		r = count_for_stack(c, Q_STACK_ENV_COUNT, name, &n);
	if (r == 0 && n > 0 && !force)
		r = -ENOTEMPTY;
	if (r == 0 && n > 0)
		r = store_env_documents(c, name, &envs);
	if (r < 0)
		goto out;
	const char *env;
	json_t *doc;
	json_object_foreach(envs, env, doc) {
		r = store_env_delete(c, name, env, STORE_ANY_REVISION, actor);
		if (r < 0)
			goto out;
	}
	r = row_remove(c, &at, &old, actor);
out:
	json_decref(envs);
	store_record_release(&old);
	return r;
}

/* {"name", "description", "revision", "updated", "environments"} of a Q_STACK_LIST row. */
static json_t *stack_item(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "description", (const char *)sqlite3_column_text(st, 1),
			 "revision", (json_int_t)sqlite3_column_int64(st, 2),
			 "updated", (const char *)sqlite3_column_text(st, 3),
			 "environments", (json_int_t)sqlite3_column_int64(st, 4));
}

int store_stack_list(struct store_conn *c, json_t **ret_items)
{
	sqlite3_stmt *st = stmt(c, Q_STACK_LIST);
	if (!st)
		return -EIO;
	return collect_rows(c, st, stack_item, SIZE_MAX, ret_items, NULL);
}

/* ---- environments ---- */

int store_env_get(struct store_conn *c, const char *stack, const char *name,
		  struct store_record *ret)
{
	return row_get(c, &(struct place){stack, name}, false, ret);
}

int store_env_get_shared(struct store_conn *c, const char *stack, const char *name,
			 struct store_record *ret)
{
	return row_get(c, &(struct place){stack, name}, true, ret);
}

int store_env_create(struct store_conn *c, const char *stack, const char *name,
		     const json_t *doc, const char *actor, struct store_record *ret)
{
	return row_create(c, &(struct place){stack, name}, doc, actor, ret);
}

int store_env_update(struct store_conn *c, const char *stack, const char *name,
		     const json_t *doc, long long expected_revision, const char *actor,
		     struct store_record *ret)
{
	return row_update(c, &(struct place){stack, name}, doc, expected_revision, actor, ret);
}

int store_env_delete(struct store_conn *c, const char *stack, const char *name,
		     long long expected_revision, const char *actor)
{
	const struct place at = {stack, name};
	struct store_record old = {0};
	int r = row_current(c, &at, expected_revision, &old);
	if (r == 0)
		r = row_remove(c, &at, &old, actor);
	store_record_release(&old);
	return r;
}

/* {"name", "revision", "updated"} of a Q_ENV_LIST row. */
static json_t *env_item(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:I, s:s}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "revision", (json_int_t)sqlite3_column_int64(st, 1),
			 "updated", (const char *)sqlite3_column_text(st, 2));
}

int store_env_list(struct store_conn *c, const char *stack, const char *after, size_t limit,
		   json_t **ret_items, bool *ret_more)
{
	long long stacks = 0;
	int r = count_for_stack(c, Q_STACK_EXISTS, stack, &stacks);
	if (r < 0)
		return r;
	if (stacks == 0)
		return -ENOENT;
	sqlite3_stmt *st = stmt(c, Q_ENV_LIST);
	if (!st || bind_text(st, 1, stack) < 0 || bind_text(st, 2, after ? after : "") < 0 ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1) != SQLITE_OK)
		return db_fail(c);
	return collect_rows(c, st, env_item, limit, ret_items, ret_more);
}

int store_env_documents(struct store_conn *c, const char *stack, json_t **ret_docs)
{
	sqlite3_stmt *st = stmt(c, Q_ENV_ALL);
	if (!st || bind_text(st, 1, stack) < 0)
		return db_fail(c);
	json_t *docs = json_object();
	int r = docs ? 0 : -ENOMEM, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		json_t *doc = NULL;
		r = column_doc(c, st, 1, &(struct place){stack, name}, &doc);
		if (r == 0 && json_object_set_new(docs, name, doc) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_fail(c);
	sqlite3_reset(st);
	if (r < 0) {
		json_decref(docs);
		return r;
	}
	*ret_docs = docs;
	return 0;
}

/* ---- API tokens ---- */

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	size_t n = t ? strlen(t) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

int store_token_create(struct store_conn *c, const char *name, const char *role, const char *hash)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_INSERT);
	if (!st || bind_text(st, 1, name) < 0 || bind_text(st, 2, role) < 0 || bind_text(st, 3, hash) < 0)
		return db_fail(c);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : db_fail(c);
}

int store_token_find(struct store_conn *c, const char *hash, struct store_token *ret)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_FIND);
	if (!st || bind_text(st, 1, hash) < 0)
		return db_fail(c);
	int rc = sqlite3_step(st), r = 0;
	if (rc == SQLITE_ROW) {
		copy_text(ret->name, sizeof ret->name, st, 0);
		copy_text(ret->role, sizeof ret->role, st, 1);
		copy_text(ret->hash, sizeof ret->hash, st, 2);
		copy_text(ret->last_used, sizeof ret->last_used, st, 3);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(c);
	}
	sqlite3_reset(st);
	return r;
}

int store_token_touch(struct store_conn *c, const char *name)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_TOUCH);
	if (!st || bind_text(st, 1, name) < 0)
		return db_fail(c);
	return step_done(c, st, NULL);
}

/* {"name", "role", "created", "lastUsed"} of a Q_TOKEN_LIST row. */
static json_t *token_item(sqlite3_stmt *st)
{
	const char *used = (const char *)sqlite3_column_text(st, 3);
	return json_pack("{s:s, s:s, s:s, s:o}",
			 "name", (const char *)sqlite3_column_text(st, 0),
			 "role", (const char *)sqlite3_column_text(st, 1),
			 "created", (const char *)sqlite3_column_text(st, 2),
			 "lastUsed", used ? json_string(used) : json_null());
}

int store_token_list(struct store_conn *c, json_t **ret_items)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_LIST);
	if (!st)
		return -EIO;
	return collect_rows(c, st, token_item, SIZE_MAX, ret_items, NULL);
}

int store_token_revoke(struct store_conn *c, const char *name)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_DELETE);
	if (!st || bind_text(st, 1, name) < 0)
		return db_fail(c);
	int changes = 0;
	int r = step_done(c, st, &changes);
	return r < 0 ? r : changes == 1 ? 0 : -ENOENT;
}

int store_token_count(struct store_conn *c, long long *ret)
{
	sqlite3_stmt *st = stmt(c, Q_TOKEN_COUNT);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_fail(c);
}

/* ---- history ---- */

static json_t *history_row(sqlite3_stmt *st)
{
	const char *env = (const char *)sqlite3_column_text(st, 2);
	json_t *old_doc = column_json(st, 4), *new_doc = column_json(st, 5);
	return json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:s, s:s}",
			 "kind", (const char *)sqlite3_column_text(st, 0),
			 "stack", (const char *)sqlite3_column_text(st, 1),
			 "environment", env ? json_string(env) : json_null(),
			 "revision", (json_int_t)sqlite3_column_int64(st, 3),
			 "old", old_doc ? old_doc : json_null(),
			 "new", new_doc ? new_doc : json_null(),
			 "time", (const char *)sqlite3_column_text(st, 6),
			 "actor", (const char *)sqlite3_column_text(st, 7));
}

int store_history(struct store_conn *c, const char *stack, const char *env, json_t **ret_rows)
{
	sqlite3_stmt *st = stmt(c, env ? Q_HISTORY_ENV : Q_HISTORY_STACK);
	if (!st || bind_text(st, 1, stack) < 0 || (env && bind_text(st, 2, env) < 0))
		return db_fail(c);
	return collect_rows(c, st, history_row, SIZE_MAX, ret_rows, NULL);
}

/* ---- revisions of an environment ---- */

/* {"kind", "revision", "old", "new", "time", "actor", "secretChanges"} of the current row
 * of Q_REVISIONS / Q_REVISION. */
static json_t *revision_row(sqlite3_stmt *st)
{
	json_t *old_doc = column_json(st, 2), *new_doc = column_json(st, 3);
	json_t *changes = column_json(st, 6);
	return json_pack("{s:s, s:I, s:o, s:o, s:s, s:s, s:o}",
			 "kind", (const char *)sqlite3_column_text(st, 0),
			 "revision", (json_int_t)sqlite3_column_int64(st, 1),
			 "old", old_doc ? old_doc : json_null(),
			 "new", new_doc ? new_doc : json_null(),
			 "time", (const char *)sqlite3_column_text(st, 4),
			 "actor", (const char *)sqlite3_column_text(st, 5),
			 "secretChanges", changes ? changes : json_null());
}

static int bind_target(sqlite3_stmt *st, const char *stack, const char *env, long long revision)
{
	return bind_text(st, 1, stack) == 0 && bind_text(st, 2, env) == 0 &&
			       sqlite3_bind_int64(st, 3, revision) == SQLITE_OK
		       ? 0
		       : -EIO;
}

int store_env_revisions(struct store_conn *c, const char *stack, const char *env,
			long long before, size_t limit, json_t **ret_rows, bool *ret_more)
{
	sqlite3_stmt *st = stmt(c, Q_REVISIONS);
	if (!st || bind_target(st, stack, env, before > 0 ? before : INT64_MAX) < 0 ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit + 1) != SQLITE_OK)
		return db_fail(c);
	return collect_rows(c, st, revision_row, limit, ret_rows, ret_more);
}

int store_env_revision(struct store_conn *c, const char *stack, const char *env,
		       long long revision, json_t **ret_row)
{
	sqlite3_stmt *st = stmt(c, Q_REVISION);
	if (!st || bind_target(st, stack, env, revision) < 0)
		return db_fail(c);
	int rc = sqlite3_step(st), r = 0;
	json_t *row = NULL;
	if (rc == SQLITE_ROW)
		r = (row = revision_row(st)) ? 0 : -ENOMEM;
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_fail(c);
	sqlite3_reset(st);
	if (r == 0)
		*ret_row = row;
	return r;
}

/* ---- fingerprints ---- */

/* Hashes "<revision>:<length>:" and the text of the single row of st into h.
 * 0, -ENOENT, -EIO. */
static int fingerprint_row(struct store_conn *c, sqlite3_stmt *st, crypto_generichash_state *h)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return db_fail(c);
	const unsigned char *text = sqlite3_column_text(st, 0);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	char head[64];
	int len = snprintf(head, sizeof head, "%lld:%zu:", (long long)sqlite3_column_int64(st, 1), n);
	crypto_generichash_update(h, (const unsigned char *)head, (unsigned long long)len);
	if (text)
		crypto_generichash_update(h, text, n);
	sqlite3_reset(st);
	return 0;
}

static void hash_str(crypto_generichash_state *h, const char *s)
{
	crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

/* The database's change stamp as this connection sees it. 0 or -EIO. */
static int fp_stamp_read(struct store_conn *c, struct fp_stamp *ret)
{
	sqlite3_stmt *st = stmt(c, Q_DATA_VERSION);
	if (!st)
		return db_fail(c);
	int rc = sqlite3_step(st);
	long long v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(c);
	ret->data_version = v;
	ret->own_changes = (long long)sqlite3_total_changes64(c->db);
	return 0;
}

static bool fp_memo_matches(const struct fp_memo *m, const char *stack, const char *env)
{
	return strcmp(m->stack, stack) == 0 && m->has_env == (env != NULL) &&
	       (!env || strcmp(m->env, env) == 0);
}

/* The remembered fingerprint of (stack, env) when the stamp is still now's, else NULL;
 * a changed stamp forgets everything. */
static const char *fp_memo_find(struct store_conn *c, const struct fp_stamp *now,
				const char *stack, const char *env)
{
	if (c->memo_stamp.data_version != now->data_version ||
	    c->memo_stamp.own_changes != now->own_changes) {
		c->memo_count = 0;
		c->memo_next = 0;
		c->memo_stamp = *now;
		return NULL;
	}
	for (size_t i = 0; i < c->memo_count; i++)
		if (fp_memo_matches(&c->memo[i], stack, env))
			return c->memo[i].fp;
	return NULL;
}

static void fp_memo_add(struct store_conn *c, const char *stack, const char *env,
			const char fp[65])
{
	size_t ls = strlen(stack), le = env ? strlen(env) : 0;
	if (ls >= FP_NAME_MAX || le >= FP_NAME_MAX)
		return;
	struct fp_memo *m = &c->memo[c->memo_next];
	memcpy(m->stack, stack, ls + 1);
	memcpy(m->env, env ? env : "", le + 1);
	m->has_env = env != NULL;
	memcpy(m->fp, fp, 65);
	c->memo_next = (c->memo_next + 1) % FP_MEMO;
	if (c->memo_count < FP_MEMO)
		c->memo_count++;
}

/* The fingerprint computed from the rows. */
static int fingerprint_compute(struct store_conn *c, const char *stack, const char *env,
			       char out[65])
{
	crypto_generichash_state h;
	unsigned char digest[32];
	crypto_generichash_init(&h, NULL, 0, sizeof digest);
	hash_str(&h, stack);
	sqlite3_stmt *st = stmt(c, Q_FINGERPRINT_STACK);
	int r = st && bind_text(st, 1, stack) == 0 ? 0 : db_fail(c);
	if (r == 0)
		r = fingerprint_row(c, st, &h);
	if (r == 0 && env) {
		hash_str(&h, env);
		st = stmt(c, Q_FINGERPRINT_ENV);
		r = st && bind_text(st, 1, stack) == 0 && bind_text(st, 2, env) == 0 ? 0 : db_fail(c);
		if (r == 0)
			r = fingerprint_row(c, st, &h);
	}
	crypto_generichash_final(&h, digest, sizeof digest);
	if (r == 0)
		sodium_bin2hex(out, 65, digest, sizeof digest);
	return r;
}

/* Remembered per connection while its change stamp stays the same: the stamp is read
 * before the rows, so a write that lands in between leaves a stamp older than the
 * rows and the next call recomputes. Inside a read transaction stamp and rows are one
 * snapshot. */
int store_fingerprint(struct store_conn *c, const char *stack, const char *env, char out[65])
{
	struct fp_stamp now;
	int r = fp_stamp_read(c, &now);
	if (r < 0)
		return r;
	const char *memo = fp_memo_find(c, &now, stack, env);
	if (memo) {
		memcpy(out, memo, 65);
		return 0;
	}
	r = fingerprint_compute(c, stack, env, out);
	if (r == 0)
		fp_memo_add(c, stack, env, out);
	return r;
}

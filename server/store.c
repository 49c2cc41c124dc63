/* store: the store interface of include/store.h, written once for both engines: the
 * connection pool, transactions, typed queries over the statements of
 * include/store_backend.h, sealed secrets, shared documents and fingerprints. */
#include "store.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "model.h"
#include "store_backend.h"
#include "util.h"

#define LAST_DELETE "coalesce((SELECT max(id) FROM history WHERE stack = ?1 AND environment = ?2 " \
		    "AND kind = 'delete'), 0)"
#define LAST_TYPE_DELETE "coalesce((SELECT max(id) FROM catalog_history WHERE name = ?1 AND kind = 'delete'), 0)"
/* The last change of the catalog: part of every fingerprint (a stored type changes renders). */
#define CATALOG_STAMP "(SELECT coalesce(max(id), 0) FROM catalog_history)"
/* After a failed connect, how long every connection fails at once before trying again. */
#define RECONNECT_PAUSE_NS (250ULL * 1000 * 1000)

const char *const store_sql[Q_COUNT] = {
	[Q_STACK_GET] = "SELECT document, revision, created, updated FROM stacks WHERE name = ?1",
	[Q_STACK_INSERT] = "INSERT INTO stacks (name, document, revision, created, updated) "
			   "VALUES (?1, ?2, 1, now_utc(), now_utc()) "
			   "RETURNING document, revision, created, updated",
	[Q_STACK_UPDATE] = "UPDATE stacks SET document = ?2, revision = revision + 1, updated = now_utc()"
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
			 "VALUES (?1, ?2, ?3, 1, now_utc(), now_utc()) "
			 "RETURNING document, revision, created, updated",
	[Q_ENV_UPDATE] = "UPDATE environments SET document = ?3, revision = revision + 1, updated = now_utc()"
			 " WHERE stack = ?1 AND name = ?2 AND revision = ?4 "
			 "RETURNING document, revision, created, updated",
	[Q_ENV_DELETE] = "DELETE FROM environments WHERE stack = ?1 AND name = ?2 AND revision = ?3",
	[Q_ENV_LIST] = "SELECT name, revision, updated FROM environments "
		       "WHERE stack = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
	[Q_ENV_ALL] = "SELECT name, document, revision FROM environments WHERE stack = ?1 ORDER BY name",
	[Q_HISTORY_INSERT] = "INSERT INTO history (time, actor, kind, stack, environment, revision, "
			     "old_document, new_document, secret_changes) "
			     "VALUES (now_utc(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
	[Q_TOKEN_INSERT] = "INSERT INTO tokens (name, role, hash, created) VALUES (?1, ?2, ?3, now_utc())",
	[Q_TOKEN_FIND] = "SELECT name, role, hash, coalesce(last_used, '') FROM tokens WHERE hash = ?1",
	[Q_TOKEN_TOUCH] = "UPDATE tokens SET last_used = now_utc() WHERE name = ?1",
	[Q_TOKEN_LIST] = "SELECT name, role, created, last_used FROM tokens ORDER BY name",
	[Q_TOKEN_DELETE] = "DELETE FROM tokens WHERE name = ?1",
	[Q_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
	[Q_FINGERPRINT_STACK] = "SELECT document, revision, " CATALOG_STAMP " FROM stacks WHERE name = ?1",
	/* one row for both: the stack's document and revision, then the environment's, then
	 * the catalog's last change */
	[Q_FINGERPRINT_ENV] = "SELECT s.document, s.revision, e.document, e.revision, " CATALOG_STAMP
			      " FROM stacks s JOIN environments e ON e.stack = s.name WHERE s.name = ?1 AND e.name = ?2",
	[Q_CATALOG_GET] = "SELECT document, revision, created, updated FROM catalog WHERE name = ?1",
	[Q_CATALOG_INSERT] = "INSERT INTO catalog (name, document, revision, created, updated) "
			     "VALUES (?1, ?2, 1, now_utc(), now_utc()) "
			     "RETURNING document, revision, created, updated",
	[Q_CATALOG_UPDATE] = "UPDATE catalog SET document = ?2, revision = revision + 1, updated = now_utc()"
			     " WHERE name = ?1 AND revision = ?3 "
			     "RETURNING document, revision, created, updated",
	[Q_CATALOG_DELETE] = "DELETE FROM catalog WHERE name = ?1 AND revision = ?2",
	[Q_CATALOG_LIST] = "SELECT name, revision, updated FROM catalog ORDER BY name",
	[Q_CATALOG_ALL] = "SELECT name, document FROM catalog ORDER BY name",
	[Q_CATALOG_HISTORY_INSERT] = "INSERT INTO catalog_history (time, actor, kind, name, revision, "
				     "old_document, new_document) VALUES (now_utc(), ?1, ?2, ?3, ?4, ?5, ?6)",
	/* the rows of a type's current life: after its last deletion, if any */
	[Q_CATALOG_REVISIONS] = "SELECT kind, revision, old_document, new_document, time, actor "
				"FROM catalog_history WHERE name = ?1 AND kind != 'delete' AND revision < ?2 "
				"AND id > " LAST_TYPE_DELETE " ORDER BY id DESC LIMIT ?3",
	[Q_CATALOG_REVISION] = "SELECT kind, revision, old_document, new_document, time, actor "
			       "FROM catalog_history WHERE name = ?1 AND kind != 'delete' AND revision = ?2 "
			       "AND id > " LAST_TYPE_DELETE " ORDER BY id DESC LIMIT 1",
};

/* Statements that change nothing: retried once on a fresh connection when the one they
 * ran on turns out lost outside a transaction (see store_query). */
static const bool read_only[Q_COUNT] = {
	[Q_STACK_GET] = true, [Q_STACK_LIST] = true, [Q_STACK_ENV_COUNT] = true,
	[Q_STACK_EXISTS] = true, [Q_ENV_GET] = true, [Q_ENV_LIST] = true, [Q_ENV_ALL] = true,
	[Q_HISTORY_STACK] = true, [Q_HISTORY_ENV] = true, [Q_REVISIONS] = true,
	[Q_REVISION] = true, [Q_BEGIN] = true, [Q_BEGIN_READ] = true, [Q_PING] = true,
	[Q_TOKEN_FIND] = true, [Q_TOKEN_LIST] = true, [Q_TOKEN_COUNT] = true,
	[Q_FINGERPRINT_STACK] = true, [Q_FINGERPRINT_ENV] = true, [Q_CATALOG_GET] = true,
	[Q_CATALOG_LIST] = true, [Q_CATALOG_ALL] = true, [Q_CATALOG_REVISIONS] = true,
	[Q_CATALOG_REVISION] = true,
};

/* ---- running statements ---- */

int store_failed(struct store_conn *c, int r)
{
	if (c && c->store && (r == -EIO || r == -ENOTCONN || r == -EAGAIN))
		atomic_fetch_add(&c->store->errors, 1);
	return r;
}

static const char *sql_of(const struct store_conn *c, int id)
{
	const struct store_backend *be = c->store->be;
	return be->sql && be->sql[id] ? be->sql[id] : store_sql[id];
}

static void memo_forget(struct store_conn *c);

/* (Re)connects c. 0, or -ENOTCONN with the reason in c->error. */
static int conn_connect(struct store_conn *c)
{
	struct store *s = c->store;
	uint64_t now = util_now_ns();
	if (now < atomic_load(&s->down_until_ns))
		return -ENOTCONN;
	s->be->disconnect(c);
	memo_forget(c);
	c->txn = STORE_TXN_NONE;
	c->locked[0] = '\0';
	buf_reset(&c->error);
	int r = s->be->connect(c, s->target, &c->error);
	if (r < 0) {
		atomic_store(&s->down_until_ns, util_now_ns() + RECONNECT_PAUSE_NS);
		return store_failed(c, r == -ENOMEM ? r : -ENOTCONN);
	}
	atomic_store(&s->down_until_ns, 0);
	return 0;
}

static int txn_start(struct store_conn *c, int id, enum store_txn kind);

/* A statement that found its connection lost is run again on a fresh one when nothing
 * of it can have reached the database: it only reads, and runs outside a transaction
 * or first in a read transaction (which is begun again). */
static int run(struct store_conn *c, int id, const char *sql, const struct store_param *p, size_t n)
{
	const struct store_backend *be = c->store->be;
	if (!c->db)
		return store_failed(c, -ENOTCONN);
	int r = be->query(c, id, sql, p, n);
	enum store_txn was = c->txn;
	if (r == -ENOTCONN && id >= 0 && read_only[id] &&
	    (was == STORE_TXN_NONE || (was == STORE_TXN_READ && c->statements == 0)) &&
	    conn_connect(c) == 0 &&
	    (was == STORE_TXN_NONE || txn_start(c, Q_BEGIN_READ, STORE_TXN_READ) == 0))
		r = be->query(c, id, sql, p, n);
	c->statements++;
	return store_failed(c, r);
}

int store_query(struct store_conn *c, int id, const struct store_param *p, size_t n)
{
	return run(c, id, sql_of(c, id), p, n);
}

int store_query_text(struct store_conn *c, const char *sql, const struct store_param *p, size_t n)
{
	return run(c, STORE_ADHOC, sql, p, n);
}

/* The next row: 1, 0 (none left) or a counted error. */
static int next_row(struct store_conn *c)
{
	return store_failed(c, c->store->be->next(c));
}

static void done(struct store_conn *c)
{
	c->store->be->done(c);
}

static const char *col(struct store_conn *c, int i)
{
	return c->store->be->text(c, i, NULL);
}

static long long col_int(struct store_conn *c, int i)
{
	return c->store->be->integer(c, i);
}

/* Runs a statement that returns no rows. *ret_changes (may be NULL) = rows changed. */
static int exec_query(struct store_conn *c, int id, const struct store_param *p, size_t n,
		      long long *ret_changes)
{
	int r = store_query(c, id, p, n);
	if (r == 0 && ret_changes)
		*ret_changes = c->store->be->changes(c);
	done(c);
	return r;
}

/* The single integer a statement returns (count queries). */
static int query_int(struct store_conn *c, int id, const struct store_param *p, size_t n,
		     long long *ret)
{
	int r = store_query(c, id, p, n);
	if (r == 0)
		r = next_row(c);
	if (r == 1)
		*ret = col_int(c, 0);
	done(c);
	return r == 1 ? 0 : r == 0 ? store_failed(c, -EIO) : r;
}

int store_exec(struct store_conn *c, const char *sql, const char *const *params, size_t n,
	       long long *ret_changes)
{
	struct store_param p[STORE_MAX_PARAMS];
	if (n > sizeof p / sizeof p[0])
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		p[i] = STORE_TEXT(params[i]);
	int r = store_query_text(c, sql, p, n);
	if (r == 0 && ret_changes)
		*ret_changes = c->store->be->changes(c);
	done(c);
	return r;
}

enum store_kind store_conn_kind(const struct store_conn *c)
{
	return c->store->be->kind;
}

void store_now_utc(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Compact JSON text of doc (masked first when mask), for a parameter; NULL doc gives
 * *ret NULL. Caller frees *ret. */
static int json_text(const json_t *doc, bool mask, char **ret)
{
	*ret = NULL;
	if (!doc)
		return 0;
	json_t *masked = NULL;
	if (mask) {
		masked = model_mask_secrets(doc);
		if (!masked)
			return -ENOMEM;
		doc = masked;
	}
	*ret = json_dumps(doc, JSON_COMPACT);
	json_decref(masked);
	return *ret ? 0 : -ENOMEM;
}

static json_t *column_json(struct store_conn *c, int i)
{
	size_t len = 0;
	const char *text = c->store->be->text(c, i, &len);
	if (!text)
		return NULL;
	return json_loadb(text, len, 0, NULL);
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

/* The text to store for doc: compact JSON of a copy with its secrets sealed (when the
 * store seals). Caller frees *ret. */
static int doc_text(struct store_conn *c, const struct place *at, const json_t *doc, char **ret)
{
	if (!c->store->sealing)
		return json_text(doc, false, ret);
	json_t *copy = json_deep_copy(doc);
	bool changed = false;
	int r = copy ? transform_secrets(copy, at, NULL, c->store->key, &changed) : -ENOMEM;
	if (r == 0)
		r = json_text(copy, false, ret);
	json_decref(copy);
	return r;
}

/* Column i as a document with its secrets opened; -ENOMEM, -EIO (a secret that does
 * not open). */
static int column_doc(struct store_conn *c, int i, const struct place *at, json_t **ret)
{
	json_t *doc = column_json(c, i);
	if (!doc)
		return -ENOMEM;
	bool changed = false;
	int r = c->store->sealing ? transform_secrets(doc, at, c->store->key, NULL, &changed) : 0;
	if (r < 0) {
		json_decref(doc);
		return r == -EBADMSG ? store_failed(c, -EIO) : r;
	}
	*ret = doc;
	return 0;
}

/* ---- parsed documents, shared ---- */

static bool doc_memo_at(const struct store_doc_memo *m, const struct place *at)
{
	return m->text && strcmp(m->stack, at->stack) == 0 && m->has_env == (at->env != NULL) &&
	       (!at->env || strcmp(m->env, at->env) == 0);
}

static void doc_memo_clear(struct store_doc_memo *m)
{
	free(m->text);
	json_decref(m->doc);
	*m = (struct store_doc_memo){0};
}

/* Remembers doc (a new reference is taken) parsed from text at `at`, in the slot of the
 * same place if there is one (its text is outdated), else in the next slot. Names too
 * long for a slot, or no memory for the text, leave it unremembered. */
static void doc_memo_add(struct store_conn *c, const struct place *at, const char *text,
			 size_t len, json_t *doc)
{
	size_t ls = strlen(at->stack), le = at->env ? strlen(at->env) : 0;
	char *copy = ls < STORE_NAME_MAX && le < STORE_NAME_MAX ? malloc(len + 1) : NULL;
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	size_t i = 0;
	while (i < STORE_DOC_MEMO && !doc_memo_at(&c->docs[i], at))
		i++;
	if (i == STORE_DOC_MEMO) {
		i = c->docs_next;
		c->docs_next = (c->docs_next + 1) % STORE_DOC_MEMO;
	}
	struct store_doc_memo *m = &c->docs[i];
	doc_memo_clear(m);
	memcpy(m->stack, at->stack, ls + 1);
	memcpy(m->env, at->env ? at->env : "", le + 1);
	m->has_env = at->env != NULL;
	m->text = copy;
	m->len = len;
	m->doc = json_incref(doc);
}

/* Column 0 of the current row at `at` as an opened document that may be shared: the one
 * this connection parsed before when the stored text is byte for byte the same (any
 * write changes the text: the revision aside, a document that differs is another text),
 * else parsed, opened and remembered. Skips json_loadb and opening every secret again
 * for documents read over and over. A new reference in *ret; errors as column_doc. */
static int column_doc_shared(struct store_conn *c, const struct place *at, json_t **ret)
{
	size_t len = 0;
	const char *text = c->store->be->text(c, 0, &len);
	for (size_t i = 0; text && i < STORE_DOC_MEMO; i++) {
		const struct store_doc_memo *m = &c->docs[i];
		if (doc_memo_at(m, at) && m->len == len && memcmp(m->text, text, len) == 0) {
			*ret = json_incref(m->doc);
			return 0;
		}
	}
	json_t *doc = NULL;
	int r = column_doc(c, 0, at, &doc);
	if (r < 0)
		return r;
	if (text)
		doc_memo_add(c, at, text, len, doc);
	*ret = doc;
	return 0;
}

static void copy_text(char *dst, size_t cap, const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Reads columns document, revision, created, updated of the current row into ret. */
static int read_record(struct store_conn *c, const struct place *at, bool shared,
		       struct store_record *ret)
{
	json_t *doc = NULL;
	int r = shared ? column_doc_shared(c, at, &doc) : column_doc(c, 0, at, &doc);
	if (r < 0)
		return r;
	ret->document = doc;
	ret->revision = col_int(c, 1);
	copy_text(ret->created, sizeof ret->created, col(c, 2));
	copy_text(ret->updated, sizeof ret->updated, col(c, 3));
	return 0;
}

/* Runs statement id, expected to yield at most one record: 0 with *ret filled (when ret
 * is not NULL), -ENOENT for no row, or the statement's error. */
static int query_record(struct store_conn *c, int id, const struct store_param *p, size_t n,
			const struct place *at, bool shared, struct store_record *ret)
{
	int r = store_query(c, id, p, n);
	if (r == 0)
		r = next_row(c);
	if (r == 1) {
		struct store_record rec = {0};
		r = read_record(c, at, shared, &rec);
		if (r == 0 && (r = next_row(c)) != 0)
			r = r > 0 ? store_failed(c, -EIO) : r;
		if (r == 0 && ret)
			*ret = rec;
		else
			store_record_release(&rec);
	} else if (r == 0) {
		r = -ENOENT;
	}
	done(c);
	return r;
}

/* Runs the bound statement id through its rows, making a new array in *ret_items of
 * row(c) for each (row returns a new reference, NULL on allocation failure). At most
 * limit rows are taken (SIZE_MAX: all); *ret_more (may be NULL) tells whether another
 * row follows. 0, -ENOMEM or the statement's error. */
static int collect_rows(struct store_conn *c, int id, const struct store_param *p, size_t n,
			json_t *(*row)(struct store_conn *c), size_t limit, json_t **ret_items,
			bool *ret_more)
{
	json_t *items = json_array();
	bool more = false;
	int r = items ? store_query(c, id, p, n) : -ENOMEM;
	while (r == 0 && (r = next_row(c)) == 1) {
		r = 0;
		if (json_array_size(items) == limit) {
			more = true;
			break;
		}
		json_t *it = row(c);
		if (!it || json_array_append_new(items, it) < 0)
			r = -ENOMEM;
	}
	done(c);
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

/* The JSON text of the array of the secret keys whose value differs between old_doc and
 * new_doc (either may be NULL): names only, never values. Caller frees *ret. */
static int secret_changes_text(const json_t *old_doc, const json_t *new_doc, char **ret)
{
	const json_t *a = json_object_get(old_doc, "secrets"), *b = json_object_get(new_doc, "secrets");
	json_t *keys = json_array();
	int r = keys ? secret_keys_differing(a, b, keys) : -ENOMEM;
	if (r == 0)
		r = secret_keys_differing(b, a, keys);
	if (r == 0)
		r = json_text(keys, false, ret);
	json_decref(keys);
	return r;
}

/* Appends the history row of a change of kind ("create", "update", "delete") to the
 * document at at: its new revision and its old and new documents (secrets masked). */
static int history_add(struct store_conn *c, const char *kind, const struct place *at,
		       long long revision, const json_t *old_doc, const json_t *new_doc,
		       const char *actor)
{
	char *old_text = NULL, *new_text = NULL, *changes = NULL;
	int r = json_text(old_doc, true, &old_text);
	if (r == 0)
		r = json_text(new_doc, true, &new_text);
	if (r == 0)
		r = secret_changes_text(old_doc, new_doc, &changes);
	if (r == 0) {
		struct store_param p[] = {STORE_TEXT(actor ? actor : "unknown"), STORE_TEXT(kind),
					  STORE_TEXT(at->stack), STORE_TEXT(at->env), STORE_INT(revision),
					  STORE_TEXT(old_text), STORE_TEXT(new_text), STORE_TEXT(changes)};
		r = exec_query(c, Q_HISTORY_INSERT, p, 8, NULL);
	}
	free(old_text);
	free(new_text);
	free(changes);
	return r;
}

void store_record_release(struct store_record *r)
{
	if (!r)
		return;
	json_decref(r->document);
	r->document = NULL;
}

/* ---- every stored document ---- */

/* One document read by walk_documents. */
struct walked {
	char *stack, *env; /* env NULL for a stack */
	long long id;      /* history row id, 0 elsewhere */
	int column;        /* 0 document; 1 old_document, 2 new_document of history */
	json_t *doc;
	bool changed;
};

static const char *const walk_sql[] = {
	"SELECT name, NULL, 0, document FROM stacks ORDER BY name",
	"SELECT stack, name, 0, document FROM environments ORDER BY stack, name",
	"SELECT stack, environment, id, old_document, new_document FROM history ORDER BY id",
};

/* Parameters: the document, then the stack and environment, or the history row's id. */
static const char *const walk_update[] = {
	"UPDATE stacks SET document = ?1 WHERE name = ?2",
	"UPDATE environments SET document = ?1 WHERE stack = ?2 AND name = ?3",
	"UPDATE history SET old_document = ?1 WHERE id = ?2",
	"UPDATE history SET new_document = ?1 WHERE id = ?2",
};

static void walked_free(struct walked *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].stack);
		free(w[i].env);
		json_decref(w[i].doc);
	}
	free(w);
}

/* Appends the documents of one walk_sql statement to *list. */
static int walk_read(struct store_conn *c, const char *sql, struct walked **list, size_t *n,
		     size_t *cap)
{
	int r = store_query_text(c, sql, NULL, 0);
	while (r == 0 && (r = next_row(c)) == 1) {
		r = 0;
		for (int column = 3; column <= 4 && r == 0; column++) {
			if (column == 4 && c->store->be->integer(c, 2) == 0)
				break;
			json_t *doc = column_json(c, column);
			if (!doc)
				continue; /* NULL: a history row's missing side */
			if (*n == *cap) {
				size_t grow = *cap ? *cap * 2 : 64;
				struct walked *more = realloc(*list, grow * sizeof **list);
				if (!more) {
					json_decref(doc);
					r = -ENOMEM;
					break;
				}
				*list = more;
				*cap = grow;
			}
			const char *env = col(c, 1);
			struct walked *w = &(*list)[(*n)++];
			*w = (struct walked){strdup(col(c, 0)), env ? strdup(env) : NULL, col_int(c, 2),
					     column - 3 + (col_int(c, 2) > 0), doc, false};
			if (!w->stack || (env && !w->env))
				r = -ENOMEM;
		}
	}
	done(c);
	return r;
}

static int walk_write(struct store_conn *c, const struct walked *w)
{
	char *text = NULL;
	int r = json_text(w->doc, false, &text);
	int which = w->id > 0 ? 1 + w->column : w->env ? 1 : 0;
	struct store_param p[] = {STORE_TEXT(text), STORE_TEXT(w->stack), STORE_TEXT(w->env)};
	size_t n = which == 1 ? 3 : 2;
	if (w->id > 0)
		p[1] = STORE_INT(w->id);
	long long changes = 0;
	if (r == 0)
		r = store_query_text(c, walk_update[which], p, n);
	if (r == 0)
		changes = c->store->be->changes(c);
	done(c);
	free(text);
	return r == 0 && changes != 1 ? store_failed(c, -EIO) : r;
}

int store_walk_documents(struct store_conn *c, bool with_history,
			 int (*fn)(void *arg, const struct store_document_place *at, json_t *doc,
				   bool *ret_changed, struct buf *err),
			 void *arg, struct buf *err, size_t *ret_count)
{
	static const char *const tables[] = {"stacks", "environments", "history"};
	static const char *const columns[] = {"document", "old_document", "new_document"};
	struct walked *list = NULL;
	size_t n = 0, cap = 0, count = 0;
	int r = 0;
	for (size_t t = 0; t < (with_history ? 3u : 2u) && r == 0; t++)
		r = walk_read(c, walk_sql[t], &list, &n, &cap);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct walked *w = &list[i];
		size_t t = w->id > 0 ? 2 : w->env ? 1 : 0;
		struct store_document_place at = {tables[t], columns[w->id > 0 ? w->column : 0],
						  w->stack, w->env, w->id};
		r = fn(arg, &at, w->doc, &w->changed, err);
		if (r == 0 && w->changed) {
			r = walk_write(c, w);
			count++;
		}
	}
	walked_free(list, n);
	if (r == 0 && ret_count)
		*ret_count = count;
	return r;
}

/* ---- sealing every stored secret ---- */

struct reseal {
	const unsigned char *open_key, *seal_key;
};

static int reseal_one(void *arg, const struct store_document_place *at, json_t *doc,
		      bool *ret_changed, struct buf *err)
{
	const struct reseal *k = arg;
	int r = transform_secrets(doc, &(struct place){at->stack, at->env}, k->open_key, k->seal_key,
				  ret_changed);
	if (r == -EBADMSG && err) {
		if (at->env)
			(void)buf_printf(err, "the secrets of environment '%s' of stack '%s' do not "
					 "open with this key: ", at->env, at->stack);
		else
			(void)buf_printf(err, "the secrets of stack '%s' do not open with this key: ",
					 at->stack);
		(void)buf_puts(err, "use the key the database was written with");
	}
	return r;
}

/* In its own write transaction: opens every sealed secret with open_key and seals every
 * secret with seal_key (see transform_secrets), writing back the documents that changed
 * (no revision, no history: the documents mean the same); then lets the engine drop old
 * pages. *ret_count (may be NULL) = documents rewritten. */
static int reseal_committed(struct store_conn *c, const unsigned char *open_key,
			    const unsigned char *seal_key, struct buf *err, size_t *ret_count)
{
	size_t count = 0;
	struct reseal k = {open_key, seal_key};
	int r = store_begin(c);
	if (r == 0)
		r = store_walk_documents(c, false, reseal_one, &k, err, &count);
	if (r == 0)
		r = store_commit(c);
	if (r < 0) {
		store_rollback(c);
		if (err && !err->len)
			(void)buf_printf(err, "cannot rewrite the secrets: %s",
					 c->error.len ? buf_cstr(&c->error) : strerror(-r));
		return r;
	}
	if (count > 0 && c->store->be->compact)
		c->store->be->compact(c);
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

/* ---- opening ---- */

enum store_kind store_kind_of(const char *target)
{
	return store_pg_target(target) ? STORE_POSTGRES : STORE_SQLITE;
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
	struct store_conn *c = &s->conns[0];
	int r = s->be->migration_lock(c, true);
	if (r == 0) {
		r = reseal_committed(c, s->key, s->key, err, NULL);
		int u = s->be->migration_lock(c, false);
		if (r == 0)
			r = u;
	} else if (err) {
		(void)buf_printf(err, "cannot lock the database: %s", buf_cstr(&c->error));
	}
	return r;
}

/* The first connection, the migrations and the sealing of secrets. */
static int open_first(struct store *s, const struct store_options *opt,
		      const struct store_step *steps, struct buf *err)
{
	const struct embed_file *files = opt->migrations ? opt->migrations
							 : store_builtin_migrations(s->be->kind);
	if (!steps && !opt->migrations)
		steps = store_builtin_steps();
	if (s->be->kind == STORE_SQLITE) {
		int r = make_parent_dir(opt->path);
		if (r < 0) {
			if (err)
				(void)buf_printf(err, "cannot create the directory of '%s': %s", opt->path,
						 strerror(-r));
			return r;
		}
	}
	struct store_conn *c = &s->conns[0];
	int r = s->be->connect(c, s->target, &c->error);
	if (r < 0) {
		if (err)
			(void)buf_printf(err, "cannot open the %s database: %s", s->be->name,
					 buf_cstr(&c->error));
		return r == -ENOMEM ? r : -EIO;
	}
	r = store_migrate(c, files, steps, err, &s->schema_version);
	if (r == 0 && opt->secret_key)
		r = start_sealing(s, opt->secret_key, err);
	return r;
}

int store_open(const struct store_options *opt, struct buf *err, struct store **ret)
{
	return store_open_with_steps(opt, NULL, err, ret);
}

int store_open_with_steps(const struct store_options *opt, const struct store_step *steps,
			  struct buf *err, struct store **ret)
{
	size_t n = opt->connections ? opt->connections : 1;
	struct store *s = calloc(1, sizeof *s);
	int r = -ENOMEM;
	if (!s)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	s->be = store_kind_of(opt->path) == STORE_POSTGRES ? &store_pg_backend : &store_sqlite_backend;
	s->target = strdup(opt->path);
	s->conns = calloc(n, sizeof *s->conns);
	if (!s->target || !s->conns)
		goto fail;
	s->count = n;
	for (size_t i = 0; i < n; i++) {
		s->conns[i].store = s;
		buf_init(&s->conns[i].error, 1024);
	}
	r = open_first(s, opt, steps, err);
	if (r < 0)
		goto fail;
	/* SQLite opens every connection now (a file that cannot be opened fails here);
	 * PostgreSQL connects the others on their first use. */
	for (size_t i = 1; i < n && s->be->kind == STORE_SQLITE; i++) {
		r = s->be->connect(&s->conns[i], s->target, &s->conns[i].error);
		if (r < 0) {
			if (err)
				(void)buf_printf(err, "cannot open database '%s': %s", opt->path,
						 buf_cstr(&s->conns[i].error));
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
	for (size_t i = 0; s->conns && i < s->count; i++) {
		struct store_conn *c = &s->conns[i];
		s->be->disconnect(c);
		memo_forget(c);
		for (size_t j = 0; j < STORE_DOC_MEMO; j++)
			doc_memo_clear(&c->docs[j]);
		buf_release(&c->error);
	}
	free(s->conns);
	free(s->target);
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

enum store_kind store_kind(const struct store *s)
{
	return s->be->kind;
}

int store_acquire(struct store *s, struct store_conn **ret)
{
	struct store_conn *c = NULL;
	pthread_mutex_lock(&s->lock);
	while (!c) {
		for (size_t i = 0; i < s->count && !c; i++)
			if (!s->conns[i].busy)
				c = &s->conns[i];
		if (!c)
			pthread_cond_wait(&s->freed, &s->lock);
	}
	c->busy = true;
	pthread_mutex_unlock(&s->lock);
	if (!c->db || !s->be->usable(c)) {
		int r = conn_connect(c);
		if (r < 0) {
			store_release(c);
			return r;
		}
	}
	*ret = c;
	return 0;
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
	long long n = 0;
	return query_int(c, Q_PING, NULL, 0, &n);
}

static int txn_start(struct store_conn *c, int id, enum store_txn kind)
{
	int r = exec_query(c, id, NULL, 0, NULL);
	if (r == 0) {
		c->txn = kind;
		c->statements = 0;
		c->locked[0] = '\0';
	}
	return r;
}

/* A write transaction, then the engine's lock id (none in SQLite: one writer at a time). */
static int begin_locked(struct store_conn *c, int lock)
{
	int r = txn_start(c, Q_BEGIN, STORE_TXN_WRITE);
	if (r == 0 && sql_of(c, lock))
		r = exec_query(c, lock, NULL, 0, NULL);
	return r;
}

int store_begin(struct store_conn *c)
{
	return begin_locked(c, Q_WRITE_LOCK);
}

int store_begin_catalog(struct store_conn *c)
{
	return begin_locked(c, Q_CATALOG_WRITE_LOCK);
}

int store_begin_read(struct store_conn *c)
{
	return txn_start(c, Q_BEGIN_READ, STORE_TXN_READ);
}

int store_commit(struct store_conn *c)
{
	int r = exec_query(c, Q_COMMIT, NULL, 0, NULL);
	if (r == 0 || !c->db || !c->store->be->in_transaction(c))
		c->txn = STORE_TXN_NONE;
	return r;
}

void store_rollback(struct store_conn *c)
{
	if (c->db && c->store->be->usable(c) && c->store->be->in_transaction(c))
		(void)exec_query(c, Q_ROLLBACK, NULL, 0, NULL);
	c->txn = STORE_TXN_NONE;
}

/* ---- stored rows: a stack or an environment ---- */

/* The statements that read and write one kind of row. Their parameters start with the
 * names of the place (stack; or stack, environment), then the document, then the
 * expected revision. */
struct row_stmts {
	enum store_query get, insert, update, remove;
};

static const struct row_stmts stack_stmts = {Q_STACK_GET, Q_STACK_INSERT, Q_STACK_UPDATE,
					     Q_STACK_DELETE};
static const struct row_stmts env_stmts = {Q_ENV_GET, Q_ENV_INSERT, Q_ENV_UPDATE, Q_ENV_DELETE};

static const struct row_stmts *row_stmts(const struct place *at)
{
	return at->env ? &env_stmts : &stack_stmts;
}

/* The parameters naming at, then doc_text, then revision: the number used. */
static size_t place_params(const struct place *at, const char *doc_text, long long revision,
			   struct store_param p[4])
{
	size_t n = 0;
	p[n++] = STORE_TEXT(at->stack);
	if (at->env)
		p[n++] = STORE_TEXT(at->env);
	p[n++] = STORE_TEXT(doc_text);
	p[n++] = STORE_INT(revision);
	return n;
}

/* In a write transaction, locks the row of the stack of at (PostgreSQL; see store.h)
 * unless this transaction holds it already. */
static int lock_stack(struct store_conn *c, const struct place *at)
{
	if (c->txn != STORE_TXN_WRITE || !sql_of(c, Q_STACK_LOCK) || strcmp(c->locked, at->stack) == 0)
		return 0;
	int r = exec_query(c, Q_STACK_LOCK, &STORE_TEXT(at->stack), 1, NULL);
	if (r == 0 && strlen(at->stack) < sizeof c->locked)
		memcpy(c->locked, at->stack, strlen(at->stack) + 1);
	return r;
}

/* The row of at; shared: its document may be shared (column_doc_shared). */
static int row_get(struct store_conn *c, const struct place *at, bool shared,
		   struct store_record *ret)
{
	struct store_param p[4];
	size_t n = place_params(at, NULL, 0, p) - 2;
	int r = lock_stack(c, at);
	return r < 0 ? r : query_record(c, row_stmts(at)->get, p, n, at, shared, ret);
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
	char *text = NULL;
	struct store_record rec = {0};
	struct store_param p[4];
	int r = lock_stack(c, at);
	if (r == 0)
		r = doc_text(c, at, doc, &text);
	if (r == 0)
		r = query_record(c, row_stmts(at)->insert, p, place_params(at, text, 0, p) - 1, at,
				 false, &rec);
	free(text);
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
	char *text = NULL;
	struct store_param p[4];
	int r = row_current(c, at, expected_revision, &old);
	if (r == 0)
		r = doc_text(c, at, doc, &text);
	if (r == 0) {
		r = query_record(c, row_stmts(at)->update, p, place_params(at, text, old.revision, p),
				 at, false, &rec);
		if (r == -ENOENT)
			r = -ESTALE; /* the row changed after it was read */
	}
	if (r == 0)
		r = history_add(c, "update", at, rec.revision, old.document, doc, actor);
	if (r == 0 && ret) {
		*ret = rec;
		rec.document = NULL;
	}
	free(text);
	store_record_release(&old);
	store_record_release(&rec);
	return r;
}

/* Deletes the row of at whose current state is old (from row_current). */
static int row_remove(struct store_conn *c, const struct place *at,
		      const struct store_record *old, const char *actor)
{
	struct store_param p[4];
	size_t n = place_params(at, NULL, old->revision, p);
	p[n - 2] = p[n - 1]; /* no document: the revision follows the names */
	long long changes = 0;
	int r = exec_query(c, row_stmts(at)->remove, p, n - 1, &changes);
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

int store_stack_delete(struct store_conn *c, const char *name, long long expected_revision,
		       bool force, const char *actor)
{
	const struct place at = {name, NULL};
	struct store_record old = {0};
	json_t *envs = NULL;
	long long n = 0;
	int r = row_current(c, &at, expected_revision, &old);
	if (r == 0)
		r = query_int(c, Q_STACK_ENV_COUNT, &STORE_TEXT(name), 1, &n);
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
static json_t *stack_item(struct store_conn *c)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I}", "name", col(c, 0), "description", col(c, 1),
			 "revision", (json_int_t)col_int(c, 2), "updated", col(c, 3),
			 "environments", (json_int_t)col_int(c, 4));
}

int store_stack_list(struct store_conn *c, json_t **ret_items)
{
	return collect_rows(c, Q_STACK_LIST, NULL, 0, stack_item, SIZE_MAX, ret_items, NULL);
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
static json_t *env_item(struct store_conn *c)
{
	return json_pack("{s:s, s:I, s:s}", "name", col(c, 0), "revision",
			 (json_int_t)col_int(c, 1), "updated", col(c, 2));
}

int store_env_list(struct store_conn *c, const char *stack, const char *after, size_t limit,
		   json_t **ret_items, bool *ret_more)
{
	long long stacks = 0;
	int r = query_int(c, Q_STACK_EXISTS, &STORE_TEXT(stack), 1, &stacks);
	if (r < 0)
		return r;
	if (stacks == 0)
		return -ENOENT;
	struct store_param p[] = {STORE_TEXT(stack), STORE_TEXT(after ? after : ""),
				  STORE_INT((long long)limit + 1)};
	return collect_rows(c, Q_ENV_LIST, p, 3, env_item, limit, ret_items, ret_more);
}

int store_env_documents(struct store_conn *c, const char *stack, json_t **ret_docs)
{
	json_t *docs = json_object();
	int r = docs ? store_query(c, Q_ENV_ALL, &STORE_TEXT(stack), 1) : -ENOMEM;
	while (r == 0 && (r = next_row(c)) == 1) {
		const char *name = col(c, 0);
		json_t *doc = NULL;
		r = column_doc(c, 1, &(struct place){stack, name}, &doc);
		if (r == 0 && json_object_set_new(docs, name, doc) < 0)
			r = -ENOMEM;
	}
	done(c);
	if (r < 0) {
		json_decref(docs);
		return r;
	}
	*ret_docs = docs;
	return 0;
}

/* ---- API tokens ---- */

int store_token_create(struct store_conn *c, const char *name, const char *role, const char *hash)
{
	struct store_param p[] = {STORE_TEXT(name), STORE_TEXT(role), STORE_TEXT(hash)};
	return exec_query(c, Q_TOKEN_INSERT, p, 3, NULL);
}

int store_token_find(struct store_conn *c, const char *hash, struct store_token *ret)
{
	int r = store_query(c, Q_TOKEN_FIND, &STORE_TEXT(hash), 1);
	if (r == 0)
		r = next_row(c);
	if (r == 1) {
		copy_text(ret->name, sizeof ret->name, col(c, 0));
		copy_text(ret->role, sizeof ret->role, col(c, 1));
		copy_text(ret->hash, sizeof ret->hash, col(c, 2));
		copy_text(ret->last_used, sizeof ret->last_used, col(c, 3));
	}
	done(c);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_token_touch(struct store_conn *c, const char *name)
{
	return exec_query(c, Q_TOKEN_TOUCH, &STORE_TEXT(name), 1, NULL);
}

/* {"name", "role", "created", "lastUsed"} of a Q_TOKEN_LIST row. */
static json_t *token_item(struct store_conn *c)
{
	const char *used = col(c, 3);
	return json_pack("{s:s, s:s, s:s, s:o}", "name", col(c, 0), "role", col(c, 1), "created",
			 col(c, 2), "lastUsed", used ? json_string(used) : json_null());
}

int store_token_list(struct store_conn *c, json_t **ret_items)
{
	return collect_rows(c, Q_TOKEN_LIST, NULL, 0, token_item, SIZE_MAX, ret_items, NULL);
}

int store_token_revoke(struct store_conn *c, const char *name)
{
	long long changes = 0;
	int r = exec_query(c, Q_TOKEN_DELETE, &STORE_TEXT(name), 1, &changes);
	return r < 0 ? r : changes == 1 ? 0 : -ENOENT;
}

int store_token_count(struct store_conn *c, long long *ret)
{
	return query_int(c, Q_TOKEN_COUNT, NULL, 0, ret);
}

/* ---- history ---- */

static json_t *history_row(struct store_conn *c)
{
	const char *env = col(c, 2);
	json_t *old_doc = column_json(c, 4), *new_doc = column_json(c, 5);
	return json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:s, s:s}", "kind", col(c, 0), "stack",
			 col(c, 1), "environment", env ? json_string(env) : json_null(), "revision",
			 (json_int_t)col_int(c, 3), "old", old_doc ? old_doc : json_null(), "new",
			 new_doc ? new_doc : json_null(), "time", col(c, 6), "actor", col(c, 7));
}

int store_history(struct store_conn *c, const char *stack, const char *env, json_t **ret_rows)
{
	struct store_param p[] = {STORE_TEXT(stack), STORE_TEXT(env)};
	return collect_rows(c, env ? Q_HISTORY_ENV : Q_HISTORY_STACK, p, env ? 2 : 1, history_row,
			    SIZE_MAX, ret_rows, NULL);
}

/* ---- revisions of an environment ---- */

/* {"kind", "revision", "old", "new", "time", "actor", "secretChanges"} of the current row
 * of Q_REVISIONS / Q_REVISION. */
static json_t *revision_row(struct store_conn *c)
{
	json_t *old_doc = column_json(c, 2), *new_doc = column_json(c, 3);
	json_t *changes = column_json(c, 6);
	return json_pack("{s:s, s:I, s:o, s:o, s:s, s:s, s:o}", "kind", col(c, 0), "revision",
			 (json_int_t)col_int(c, 1), "old", old_doc ? old_doc : json_null(), "new",
			 new_doc ? new_doc : json_null(), "time", col(c, 4), "actor", col(c, 5),
			 "secretChanges", changes ? changes : json_null());
}

int store_env_revisions(struct store_conn *c, const char *stack, const char *env,
			long long before, size_t limit, json_t **ret_rows, bool *ret_more)
{
	struct store_param p[] = {STORE_TEXT(stack), STORE_TEXT(env),
				  STORE_INT(before > 0 ? before : INT64_MAX),
				  STORE_INT((long long)limit + 1)};
	return collect_rows(c, Q_REVISIONS, p, 4, revision_row, limit, ret_rows, ret_more);
}

int store_env_revision(struct store_conn *c, const char *stack, const char *env,
		       long long revision, json_t **ret_row)
{
	struct store_param p[] = {STORE_TEXT(stack), STORE_TEXT(env), STORE_INT(revision)};
	json_t *rows = NULL;
	int r = collect_rows(c, Q_REVISION, p, 3, revision_row, 1, &rows, NULL);
	if (r == 0 && json_array_size(rows) == 0)
		r = -ENOENT;
	if (r == 0)
		*ret_row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

/* ---- the catalog: stored component types ---- */

/* A type's document as stored: plain JSON (a type holds no secret value). */
static int catalog_record(struct store_conn *c, int id, const struct store_param *p, size_t n,
			  struct store_record *ret)
{
	int r = store_query(c, id, p, n);
	if (r == 0)
		r = next_row(c);
	if (r == 1) {
		json_t *doc = column_json(c, 0);
		r = doc ? 0 : store_failed(c, -EIO);
		if (r == 0 && ret) {
			*ret = (struct store_record){.document = doc, .revision = col_int(c, 1)};
			copy_text(ret->created, sizeof ret->created, col(c, 2));
			copy_text(ret->updated, sizeof ret->updated, col(c, 3));
		} else {
			json_decref(doc);
		}
	} else if (r == 0) {
		r = -ENOENT;
	}
	done(c);
	return r;
}

/* The history row of a change of the type name (documents as they are). */
static int catalog_history_add(struct store_conn *c, const char *kind, const char *name, long long revision,
			       const json_t *old_doc, const json_t *new_doc, const char *actor)
{
	char *old_text = NULL, *new_text = NULL;
	int r = json_text(old_doc, false, &old_text);
	if (r == 0)
		r = json_text(new_doc, false, &new_text);
	if (r == 0) {
		struct store_param p[] = {STORE_TEXT(actor ? actor : "unknown"), STORE_TEXT(kind), STORE_TEXT(name),
					  STORE_INT(revision), STORE_TEXT(old_text), STORE_TEXT(new_text)};
		r = exec_query(c, Q_CATALOG_HISTORY_INSERT, p, 6, NULL);
	}
	free(old_text);
	free(new_text);
	return r;
}

/* In a write transaction, the type's row locked (PostgreSQL), then read. */
static int catalog_current(struct store_conn *c, const char *name, long long expected, struct store_record *ret)
{
	int r = 0;
	if (c->txn == STORE_TXN_WRITE && sql_of(c, Q_CATALOG_LOCK))
		r = exec_query(c, Q_CATALOG_LOCK, &STORE_TEXT(name), 1, NULL);
	if (r == 0)
		r = catalog_record(c, Q_CATALOG_GET, &STORE_TEXT(name), 1, ret);
	if (r == 0 && expected != STORE_ANY_REVISION && expected != ret->revision)
		r = -ESTALE;
	return r;
}

int store_catalog_get(struct store_conn *c, const char *name, struct store_record *ret)
{
	return catalog_record(c, Q_CATALOG_GET, &STORE_TEXT(name), 1, ret);
}

int store_catalog_put(struct store_conn *c, const char *name, const json_t *doc, long long expected_revision,
		      const char *actor, struct store_record *ret)
{
	struct store_record old = {0}, rec = {0};
	char *text = NULL;
	int r = catalog_current(c, name, expected_revision, &old);
	bool exists = r == 0 || r == -ESTALE;
	if (r == -ENOENT)
		r = expected_revision == STORE_ANY_REVISION || expected_revision == 0 ? 0 : -ESTALE;
	if (r == 0)
		r = json_text(doc, false, &text);
	if (r == 0 && exists) {
		struct store_param p[] = {STORE_TEXT(name), STORE_TEXT(text), STORE_INT(old.revision)};
		r = catalog_record(c, Q_CATALOG_UPDATE, p, 3, &rec);
		if (r == -ENOENT)
			r = -ESTALE;
	} else if (r == 0) {
		struct store_param p[] = {STORE_TEXT(name), STORE_TEXT(text)};
		r = catalog_record(c, Q_CATALOG_INSERT, p, 2, &rec);
	}
	if (r == 0)
		r = catalog_history_add(c, exists ? "update" : "create", name, rec.revision, old.document, doc, actor);
	if (r == 0 && ret) {
		*ret = rec;
		rec.document = NULL;
	}
	free(text);
	store_record_release(&old);
	store_record_release(&rec);
	return r;
}

int store_catalog_delete(struct store_conn *c, const char *name, long long expected_revision, const char *actor)
{
	struct store_record old = {0};
	long long changes = 0;
	int r = catalog_current(c, name, expected_revision, &old);
	if (r == 0) {
		struct store_param p[] = {STORE_TEXT(name), STORE_INT(old.revision)};
		r = exec_query(c, Q_CATALOG_DELETE, p, 2, &changes);
	}
	if (r == 0 && changes != 1)
		r = -ESTALE;
	if (r == 0)
		r = catalog_history_add(c, "delete", name, old.revision + 1, old.document, NULL, actor);
	store_record_release(&old);
	return r;
}

static json_t *catalog_item(struct store_conn *c)
{
	return json_pack("{s:s, s:I, s:s}", "name", col(c, 0), "revision", (json_int_t)col_int(c, 1), "updated",
			 col(c, 2));
}

int store_catalog_list(struct store_conn *c, json_t **ret_items)
{
	return collect_rows(c, Q_CATALOG_LIST, NULL, 0, catalog_item, SIZE_MAX, ret_items, NULL);
}

int store_catalog_documents(struct store_conn *c, json_t **ret_docs)
{
	json_t *docs = json_object();
	int r = docs ? store_query(c, Q_CATALOG_ALL, NULL, 0) : -ENOMEM;
	while (r == 0 && (r = next_row(c)) == 1) {
		json_t *doc = column_json(c, 1);
		r = !doc ? store_failed(c, -EIO) : json_object_set_new(docs, col(c, 0), doc) ? -ENOMEM : 0;
	}
	done(c);
	if (r < 0) {
		json_decref(docs);
		return r;
	}
	*ret_docs = docs;
	return 0;
}

/* {"kind", "revision", "old", "new", "time", "actor"} of a Q_CATALOG_REVISION(S) row. */
static json_t *catalog_revision_row(struct store_conn *c)
{
	json_t *old_doc = column_json(c, 2), *new_doc = column_json(c, 3);
	return json_pack("{s:s, s:I, s:o, s:o, s:s, s:s}", "kind", col(c, 0), "revision", (json_int_t)col_int(c, 1),
			 "old", old_doc ? old_doc : json_null(), "new", new_doc ? new_doc : json_null(), "time",
			 col(c, 4), "actor", col(c, 5));
}

int store_catalog_revisions(struct store_conn *c, const char *name, long long before, size_t limit,
			    json_t **ret_rows, bool *ret_more)
{
	struct store_param p[] = {STORE_TEXT(name), STORE_INT(before > 0 ? before : INT64_MAX),
				  STORE_INT((long long)limit + 1)};
	return collect_rows(c, Q_CATALOG_REVISIONS, p, 3, catalog_revision_row, limit, ret_rows, ret_more);
}

int store_catalog_revision(struct store_conn *c, const char *name, long long revision, json_t **ret_row)
{
	struct store_param p[] = {STORE_TEXT(name), STORE_INT(revision)};
	json_t *rows = NULL;
	int r = collect_rows(c, Q_CATALOG_REVISION, p, 2, catalog_revision_row, 1, &rows, NULL);
	if (r == 0 && json_array_size(rows) == 0)
		r = -ENOENT;
	if (r == 0)
		*ret_row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

/* ---- fingerprints ---- */

/* Hashes "<revision>:<length>:" and the text of columns col (text) and col + 1
 * (revision) of the current row into h. */
static void fingerprint_part(struct store_conn *c, int col, crypto_generichash_state *h)
{
	size_t len = 0;
	const char *text = c->store->be->text(c, col, &len);
	char head[64];
	int hl = snprintf(head, sizeof head, "%lld:%zu:", col_int(c, col + 1), len);
	crypto_generichash_update(h, (const unsigned char *)head, (unsigned long long)hl);
	if (text)
		crypto_generichash_update(h, (const unsigned char *)text, len);
}

static void hash_str(crypto_generichash_state *h, const char *s)
{
	crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void memo_forget(struct store_conn *c)
{
	c->memo_count = 0;
	c->memo_next = 0;
	c->memo_valid = false;
}

static bool fp_memo_matches(const struct store_fp_memo *m, const char *stack, const char *env)
{
	return strcmp(m->stack, stack) == 0 && m->has_env == (env != NULL) &&
	       (!env || strcmp(m->env, env) == 0);
}

/* The remembered fingerprint of (stack, env) when the stamp is still now's, else NULL;
 * a changed stamp forgets everything. */
static const char *fp_memo_find(struct store_conn *c, const long long now[2], const char *stack,
				const char *env)
{
	if (!c->memo_valid || c->memo_stamp[0] != now[0] || c->memo_stamp[1] != now[1]) {
		memo_forget(c);
		c->memo_stamp[0] = now[0];
		c->memo_stamp[1] = now[1];
		c->memo_valid = true;
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
	if (ls >= STORE_NAME_MAX || le >= STORE_NAME_MAX)
		return;
	struct store_fp_memo *m = &c->memo[c->memo_next];
	memcpy(m->stack, stack, ls + 1);
	memcpy(m->env, env ? env : "", le + 1);
	m->has_env = env != NULL;
	memcpy(m->fp, fp, 65);
	c->memo_next = (c->memo_next + 1) % STORE_FP_MEMO;
	if (c->memo_count < STORE_FP_MEMO)
		c->memo_count++;
}

/* The fingerprint computed from the rows: the stack's name, its row, and with env the
 * environment's name and its row, read in one statement. */
static int fingerprint_compute(struct store_conn *c, const char *stack, const char *env,
			       char out[65])
{
	crypto_generichash_state h;
	unsigned char digest[32];
	crypto_generichash_init(&h, NULL, 0, sizeof digest);
	struct store_param p[] = {STORE_TEXT(stack), STORE_TEXT(env)};
	int r = store_query(c, env ? Q_FINGERPRINT_ENV : Q_FINGERPRINT_STACK, p, env ? 2 : 1);
	if (r == 0)
		r = next_row(c);
	if (r == 1) {
		char stamp[32];
		hash_str(&h, stack);
		fingerprint_part(c, 0, &h);
		if (env) {
			hash_str(&h, env);
			fingerprint_part(c, 2, &h);
		}
		(void)snprintf(stamp, sizeof stamp, "catalog:%lld", col_int(c, env ? 4 : 2));
		hash_str(&h, stamp);
		r = 0;
	} else if (r == 0) {
		r = -ENOENT;
	}
	done(c);
	crypto_generichash_final(&h, digest, sizeof digest);
	if (r == 0)
		sodium_bin2hex(out, 65, digest, sizeof digest);
	return r;
}

/* Remembered per connection while its change stamp stays the same (SQLite): the stamp
 * is read before the rows, so a write that lands in between leaves a stamp older than
 * the rows and the next call recomputes. Inside a read transaction stamp and rows are
 * one snapshot. An engine without a stamp computes it every time. */
int store_fingerprint(struct store_conn *c, const char *stack, const char *env, char out[65])
{
	long long now[2];
	int r = c->store->be->change_stamp(c, now);
	bool memo = r == 0;
	if (r < 0 && r != -EOPNOTSUPP)
		return store_failed(c, r);
	const char *hit = memo ? fp_memo_find(c, now, stack, env) : NULL;
	if (hit) {
		memcpy(out, hit, 65);
		return 0;
	}
	r = fingerprint_compute(c, stack, env, out);
	if (r == 0 && memo)
		fp_memo_add(c, stack, env, out);
	return r;
}

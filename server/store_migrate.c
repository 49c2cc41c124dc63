/* store_migrate: the schema's versions, applied in order on either engine: the SQL file
 * of the database's dialect (migrations/, migrations/pg/) and the C steps below, one
 * transaction per version, under the engine's migration lock.
 *
 * Adding a C step (for instance one that changes the shape of every stored document):
 * write `static int step(struct store_conn *c, struct buf *err)` using only
 * include/store.h (store_rewrite_documents walks every stack, environment and history
 * document in the step's transaction on both engines; store_exec runs a statement), and
 * add {"NNNN_name", step} to builtin_steps, in version order. A version may have SQL
 * files too (migrations/NNNN_name.sql and migrations/pg/NNNN_name.sql): they run first,
 * in the same transaction. tests/unit/test_store.c checks that both dialects end at the
 * same version with the same tables and columns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "docmigrate.h"
#include "model.h"
#include "store_backend.h"
#include "util.h"

#include "migrations.inc"
#include "pg_migrations.inc"

static int seed_msa_shop(struct store_conn *c, struct buf *err);
static int document_v2(struct store_conn *c, struct buf *err);
static int components(struct store_conn *c, struct buf *err);
static int seed_manifestd(struct store_conn *c, struct buf *err);

static const struct store_step builtin_steps[] = {
	{"0002_seed_msa_shop", seed_msa_shop},
	{"0006_document_v2", document_v2},
	{"0007_components", components},
	{"0008_seed_manifestd", seed_manifestd},
	{NULL, NULL},
};

const struct embed_file *store_builtin_migrations(enum store_kind kind)
{
	return kind == STORE_POSTGRES ? pg_migration_files : migration_files;
}

const struct store_step *store_builtin_steps(void)
{
	return builtin_steps;
}

/* The version of a migration name "0007_x.sql"; -1 when the name has no such prefix. */
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

/* best becomes the version of name when it is above after and below best (0: none yet). */
static void consider(const char *name, long long after, long long *best)
{
	long long v = migration_version(name);
	if (v > after && (*best == 0 || v < *best))
		*best = v;
}

/* The smallest version above after among files and steps; 0 when none. */
static long long next_version(const struct embed_file *files, const struct store_step *steps,
			      long long after)
{
	long long best = 0;
	for (const struct embed_file *f = files; f && f->name; f++)
		consider(f->name, after, &best);
	for (const struct store_step *s = steps; s && s->name; s++)
		consider(s->name, after, &best);
	return best;
}

/* The newest version of files and steps; 0 when there is none. */
static long long newest(const struct embed_file *files, const struct store_step *steps)
{
	long long v = 0;
	for (long long n; (n = next_version(files, steps, v)) > 0;)
		v = n;
	return v;
}

long long store_binary_version(const struct embed_file *migrations)
{
	if (migrations)
		return newest(migrations, NULL);
	long long a = newest(migration_files, builtin_steps), b = newest(pg_migration_files, builtin_steps);
	return a > b ? a : b;
}

static int db_version(struct store_conn *c, long long *ret)
{
	int r = store_query_text(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, 0);
	if (r == 0)
		r = c->store->be->next(c);
	if (r == 1)
		*ret = c->store->be->integer(c, 0);
	c->store->be->done(c);
	return r == 1 ? 0 : r == 0 ? -EIO : r;
}

static int record_migration(struct store_conn *c, long long version, const char *name)
{
	char now[32];
	store_now_utc(now);
	struct store_param p[] = {STORE_INT(version), STORE_TEXT(name), STORE_TEXT(now)};
	int r = store_query_text(c, "INSERT INTO schema_migrations (version, name, applied) "
				    "VALUES (?1, ?2, ?3)", p, 3);
	c->store->be->done(c);
	return r;
}

/* Applies version v (its file, then its step) in one write transaction, unless another
 * process applied it meanwhile. */
static int apply_version(struct store_conn *c, long long v, const struct embed_file *files,
			 const struct store_step *steps, struct buf *err)
{
	const struct embed_file *file = NULL;
	const struct store_step *step = NULL;
	for (const struct embed_file *f = files; f && f->name && !file; f++)
		if (migration_version(f->name) == v)
			file = f;
	for (const struct store_step *s = steps; s && s->name && !step; s++)
		if (migration_version(s->name) == v)
			step = s;
	const char *name = file ? file->name : step->name;
	long long current = 0;
	buf_reset(&c->error);
	int r = store_begin(c);
	if (r == 0)
		r = db_version(c, &current);
	if (r == 0 && current >= v)
		return store_commit(c);
	if (r == 0 && file)
		r = c->store->be->script(c, (const char *)file->data);
	size_t had = err ? err->len : 0;
	if (r == 0 && step)
		r = step->run(c, err);
	if (r == 0)
		r = record_migration(c, v, name);
	if (r == 0)
		r = store_commit(c);
	if (r < 0) {
		store_rollback(c);
		if (err && err->len == had)
			(void)buf_printf(err, "migration '%s' failed: %s", name,
					 c->error.len ? buf_cstr(&c->error) : strerror(-r));
		return r == -ENOMEM ? r : -EIO;
	}
	return 0;
}

static int migrate_locked(struct store_conn *c, const struct embed_file *files,
			  const struct store_step *steps, struct buf *err, long long *ret_version)
{
	long long current = 0, newest_version = newest(files, steps);
	int r = store_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
			      "PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)", NULL, 0, NULL);
	if (r < 0) {
		if (err)
			(void)buf_printf(err, "cannot use the database: %s", buf_cstr(&c->error));
		return r;
	}
	if (db_version(c, &current) < 0) {
		if (err)
			(void)buf_printf(err, "cannot read the schema version: %s", buf_cstr(&c->error));
		return -EIO;
	}
	if (current > newest_version) {
		if (err)
			(void)buf_printf(err, "the database has schema version %lld but this manifestd "
					 "knows only up to %lld: upgrade manifestd (or use a backup)",
					 current, newest_version);
		return -EPROTONOSUPPORT;
	}
	for (long long v = next_version(files, steps, current); v > 0;
	     v = next_version(files, steps, v)) {
		r = apply_version(c, v, files, steps, err);
		if (r < 0)
			return r;
		current = v;
	}
	*ret_version = current;
	return 0;
}

int store_migrate(struct store_conn *c, const struct embed_file *files,
		  const struct store_step *steps, struct buf *err, long long *ret_version)
{
	int r = c->store->be->migration_lock(c, true);
	if (r < 0) {
		if (err)
			(void)buf_printf(err, "cannot lock the database: %s", buf_cstr(&c->error));
		return r;
	}
	r = migrate_locked(c, files, steps, err, ret_version);
	int u = c->store->be->migration_lock(c, false);
	return r < 0 ? r : u;
}

int store_rewrite_documents(struct store_conn *c,
			    int (*fn)(void *arg, const struct store_document_place *at, json_t *doc,
				      bool *ret_changed, struct buf *err),
			    void *arg, struct buf *err)
{
	int r = c->store->be->triggers(c, false);
	if (r == 0)
		r = store_walk_documents(c, true, fn, arg, err, NULL);
	if (r == 0)
		r = c->store->be->triggers(c, true);
	return r;
}

/* ---- 0002 and 0008: the built-in stacks (include/seed.h) ---- */

/* The seed file name (e.g. "msa-shop/dev.json") as compact JSON; caller frees. */
static int seed_text(const char *name, char **ret)
{
	size_t len = 0;
	const char *text = seed_file(name, &len);
	json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
	*ret = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return *ret ? 0 : -EINVAL;
}

/* A built-in stack being seeded by the step named step, at the time now. */
struct seeding {
	const char *stack, *step, *now;
};

/* Inserts the seed document of env (NULL: the stack) of s at revision 1, or with history
 * its history row (secrets masked). The stack's row is not inserted when a stack of that
 * name exists: *ret_inserted says whether it was. */
static int seed_one(struct store_conn *c, const struct seeding *s, const char *env, bool history,
		    bool *ret_inserted)
{
	static const char stack_sql[] = "INSERT INTO stacks (name, document, revision, created, updated) "
					"VALUES (?1, ?2, 1, ?3, ?3) ON CONFLICT (name) DO NOTHING";
	static const char env_sql[] = "INSERT INTO environments (stack, name, document, revision, "
				      "created, updated) VALUES (?1, ?2, ?3, 1, ?4, ?4)";
	static const char history_sql[] =
		"INSERT INTO history (time, actor, kind, stack, environment, revision, old_document, "
		"new_document) VALUES (?4, ?5, 'create', ?1, ?2, 1, NULL, ?3)";
	struct buf name, actor;
	buf_init(&name, 256);
	buf_init(&actor, 256);
	char *text = NULL, *masked_text = NULL;
	json_t *doc = NULL, *masked = NULL;
	int r = buf_printf(&name, "%s/%s.json", s->stack, env ? env : "stack");
	if (r == 0)
		r = BUF_PUTS(&actor, "migration:", s->step);
	if (r == 0)
		r = seed_text(buf_cstr(&name), &text);
	if (r == 0 && history) {
		doc = json_loads(text, 0, NULL);
		masked = doc ? model_mask_secrets(doc) : NULL;
		masked_text = masked ? json_dumps(masked, JSON_COMPACT) : NULL;
		r = masked_text ? 0 : -ENOMEM;
	}
	/* every parameter a statement is given, it uses (PostgreSQL infers their types) */
	const char *row[] = {s->stack, env, history ? masked_text : text, s->now, buf_cstr(&actor)};
	const char *stack_row[] = {s->stack, text, s->now};
	long long changes = 1;
	if (r == 0 && history)
		r = store_exec(c, history_sql, row, 5, NULL);
	else if (r == 0 && env)
		r = store_exec(c, env_sql, row, 4, NULL);
	else if (r == 0)
		r = store_exec(c, stack_sql, stack_row, 3, &changes);
	if (r == 0 && ret_inserted)
		*ret_inserted = changes > 0;
	free(text);
	free(masked_text);
	json_decref(doc);
	json_decref(masked);
	buf_release(&name);
	buf_release(&actor);
	return r;
}

/* Seeds stack s with its environments, inserted in the order of inserted and recorded
 * in history in the order of recorded (both NULL-terminated); nothing when a stack of
 * that name exists. */
static int seed_stack(struct store_conn *c, const struct seeding *s, const char *const *inserted,
		      const char *const *recorded, struct buf *err)
{
	bool fresh = false;
	int r = seed_one(c, s, NULL, false, &fresh);
	for (size_t i = 0; r == 0 && fresh && inserted[i]; i++)
		r = seed_one(c, s, inserted[i], false, NULL);
	if (r == 0 && fresh)
		r = seed_one(c, s, NULL, true, NULL);
	for (size_t i = 0; r == 0 && fresh && recorded[i]; i++)
		r = seed_one(c, s, recorded[i], true, NULL);
	if (r == -EINVAL && err)
		(void)buf_printf(err, "the built-in %s documents are not valid JSON", s->stack);
	return r;
}

static int seed_msa_shop(struct store_conn *c, struct buf *err)
{
	static const char *const inserted[] = {"dev", "staging", "prod", NULL};
	static const char *const recorded[] = {"dev", "prod", "staging", NULL};
	char now[32];
	store_now_utc(now);
	const struct seeding s = {"msa-shop", "0002_seed_msa_shop", now};
	return seed_stack(c, &s, inserted, recorded, err);
}

/* The stack that deploys manifestd itself (migrations/seed/manifestd/), added to
 * databases of earlier releases too, unless they have a stack of that name. */
static int seed_manifestd(struct store_conn *c, struct buf *err)
{
	const char *const *envs = seed_environments("manifestd");
	char now[32];
	store_now_utc(now);
	const struct seeding s = {"manifestd", "0008_seed_manifestd", now};
	return envs ? seed_stack(c, &s, envs, envs, err) : -EINVAL;
}

/* ---- 0006: every stored document in the general workload model (include/docmigrate.h) ---- */

/* Pass 1: the documents of the stacks before the step, {name: document}, for their
 * environments. */
static int collect_stacks(void *arg, const struct store_document_place *at, json_t *doc, bool *ret_changed,
			  struct buf *err)
{
	(void)err;
	*ret_changed = false;
	if (strcmp(at->table, "stacks") != 0)
		return 0;
	return json_object_set_new(arg, at->stack, json_deep_copy(doc)) < 0 ? -ENOMEM : 0;
}

/* Pass 2's state: the stacks before the step (collect_stacks), an empty one for an
 * environment whose stack is gone, and the conversion (include/docmigrate.h). */
struct convert {
	json_t *stacks, *none;
	int (*fn)(json_t *doc, const json_t *stack);
};

/* Pass 2: each document converted; an environment's (and its history's) in the light of
 * its stack's document before the step. */
static int convert(void *arg, const struct store_document_place *at, json_t *doc, bool *ret_changed,
		   struct buf *err)
{
	const struct convert *x = arg;
	const json_t *stack = json_object_get(x->stacks, at->stack);
	json_t *before = json_deep_copy(doc);
	int r = before ? x->fn(doc, at->env ? (stack ? stack : x->none) : NULL) : -ENOMEM;
	if (r == 0)
		*ret_changed = !json_equal(before, doc);
	else if (err)
		(void)buf_printf(err, "cannot convert the %s document of '%s'", at->table, at->stack);
	json_decref(before);
	return r;
}

/* Every stored document through fn, in two passes (the stacks first). */
static int convert_all(struct store_conn *c, int (*fn)(json_t *doc, const json_t *stack), struct buf *err)
{
	struct convert x = {json_object(), json_object(), fn};
	int r = x.stacks && x.none ? store_rewrite_documents(c, collect_stacks, x.stacks, err) : -ENOMEM;
	if (r == 0)
		r = store_rewrite_documents(c, convert, &x, err);
	json_decref(x.stacks);
	json_decref(x.none);
	return r;
}

static int document_v2(struct store_conn *c, struct buf *err)
{
	return convert_all(c, docmigrate_v2, err);
}

/* ---- 0007: MySQL, RabbitMQ and Zipkin as components of the catalog (docmigrate_v3) ---- */

static int components(struct store_conn *c, struct buf *err)
{
	return convert_all(c, docmigrate_v3, err);
}

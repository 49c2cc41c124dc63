/* catalog: component types compiled from their documents (the built-in ones embedded from
 * server/catalog/, stored ones given by the caller) and checked before they are stored;
 * see include/catalog.h. */
#include "catalog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embed.h"
#include "jsoniter.h"
#include "syntax.h"
#include "template.h"
#include "util.h"

#include "catalog.inc"

/* A compiled type and what it owns. */
struct entry {
	struct catalog_type t; /* first: a catalog_type * is an entry * */
	char *name;
	json_t *doc, *def;
	struct schema_tree *params, *consumer;
	char *problem;
};

struct catalog {
	struct entry **types; /* sorted by name */
	size_t n;
	bool *owned;          /* owned[i]: types[i] is this catalog's (else the built-in one) */
	bool builtin;         /* catalog_builtin()'s: never freed */
};

static const char *const reserved[] = CATALOG_RESERVED_PARAMS;
#define NRESERVED (sizeof reserved / sizeof *reserved)

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->name);
	json_decref(e->doc);
	json_decref(e->def);
	schema_tree_free(e->params);
	schema_tree_free(e->consumer);
	free(e->problem);
	free(e);
}

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < NRESERVED; i++)
		if (strcmp(reserved[i], name) == 0)
			return true;
	return false;
}

/* ---- compiling ------------------------------------------------------------------------ */

/* The string param a secret adds: the key of the stack's secrets that holds it. */
static json_t *secret_param(const char *name, const json_t *secret)
{
	const char *desc = json_string_value(json_object_get(secret, "description"));
	struct buf d;
	buf_init(&d, BUF_NO_MAX);
	int r = desc && *desc ? buf_puts(&d, desc) : BUF_PUTS(&d, "the key of the stack's secrets that holds ", name);
	json_t *p = r == 0 ? json_pack("{s:s,s:s,s:O,s:s}", "type", "string", "format", "key", "default",
				       json_object_get(secret, "default"), "description", buf_cstr(&d))
			   : NULL;
	buf_release(&d);
	return p;
}

/* {"type": "object", "properties": props} with, for params, one string param per secret.
 * Names a type may not use are reported. */
static int node_desc(const json_t *def, const char *which, struct model_errors *errs, json_t **ret)
{
	const json_t *given = json_object_get(def, which);
	json_t *props = json_is_object(given) ? model_copy(given) : json_object();
	int r = props ? 0 : -ENOMEM;
	const char *name;
	json_t *v;
	EACH_MEMBER(props, name, v) {
		(void)v;
		if (r == 0 && syntax_param_name(name))
			r = model_errors_at(errs, NULL, MODEL_PTR(which, name), "%s", syntax_param_name(name));
		else if (r == 0 && !strcmp(which, "params") && is_reserved(name))
			r = model_errors_at(errs, NULL, MODEL_PTR(which, name), "is a member of every instance (type, "
					    "enabled, provisionRun), not a param: choose another name");
	}
	EACH_MEMBER(json_object_get(def, "secrets"), name, v) {
		const char *param = json_string_value(json_object_get(v, "param"));
		if (r < 0 || !param || strcmp(which, "params") != 0)
			continue;
		if (json_object_get(props, param) || is_reserved(param)) {
			r = model_errors_at(errs, NULL, MODEL_PTR("secrets", name, "param"), "is also a param: the "
					    "secret adds its param itself; choose another name");
			continue;
		}
		if (json_object_set_new(props, param, secret_param(name, v)) < 0)
			r = -ENOMEM;
	}
	*ret = r == 0 ? json_pack("{s:s,s:o}", "type", "object", "properties", props) : NULL;
	if (r < 0)
		json_decref(props);
	return r < 0 ? r : *ret ? 0 : -ENOMEM;
}

static int compile_part(const json_t *def, const char *which, struct model_errors *errs,
			struct schema_tree **ret)
{
	json_t *desc = NULL;
	size_t before = errs->count;
	const char *why = NULL;
	struct buf where;
	buf_init(&where, BUF_NO_MAX);
	int r = node_desc(def, which, errs, &desc);
	if (r == 0 && errs->count == before)
		r = schema_compile(desc, &where, &why, ret);
	if (r == -EINVAL) {
		/* where is "/properties/NAME/...": NAME is the part's member */
		const char *w = buf_cstr(&where);
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		r = BUF_PUTS(&p, "/", which, strncmp(w, "/properties", 11) == 0 ? w + 11 : w);
		if (r == 0)
			r = model_errors_add(errs, buf_cstr(&p), "%s", why);
		buf_release(&p);
		r = r < 0 ? -ENOMEM : 0;
	}
	buf_release(&where);
	json_decref(desc);
	return r;
}

/* Compiles the type name from doc (borrowed); problems go to errs. 0 and *ret (with
 * problem set when errs grew), or -ENOMEM. */
static int compile(const char *name, const json_t *doc, bool builtin, struct model_errors *errs,
		   struct entry **ret)
{
	const struct schema_node *type_node = schema_def("componentType");
	struct entry *e = calloc(1, sizeof *e);
	size_t before = errs->count;
	int r = e && type_node && (e->name = strdup(name)) ? 0 : -ENOMEM;
	if (r == 0) {
		e->doc = json_incref((json_t *)doc);
		e->def = json_is_object(doc) ? model_copy(doc) : json_incref((json_t *)doc);
		r = e->def ? schema_complete(type_node, e->def) : -ENOMEM;
	}
	if (r == 0)
		r = json_is_object(doc) ? schema_validate(type_node, e->def, true, NULL, errs)
					: model_errors_add(errs, "", "a component type must be a JSON object");
	if (r == 0 && errs->count == before)
		r = compile_part(e->def, "params", errs, &e->params);
	if (r == 0 && errs->count == before)
		r = compile_part(e->def, "consumer", errs, &e->consumer);
	if (r == MODEL_EINVALID)
		r = 0;
	if (r == 0 && errs->count > before) {
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		for (size_t i = before; r == 0 && i < errs->count; i++)
			r = BUF_PUTS(&p, i > before ? "; " : "", errs->items[i].pointer, *errs->items[i].pointer ? ": " : "",
				     errs->items[i].detail);
		if (r == 0 && !(e->problem = buf_detach(&p, NULL)))
			r = -ENOMEM;
		buf_release(&p);
	}
	if (r < 0) {
		entry_free(e);
		return -ENOMEM;
	}
	e->t = (struct catalog_type){e->name, e->doc, e->def, builtin, e->params ? schema_tree_root(e->params) : NULL,
				     e->consumer ? schema_tree_root(e->consumer) : NULL, e->problem};
	*ret = e;
	return 0;
}

/* ---- catalogs --------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->name, (*(struct entry *const *)b)->name);
}

static struct catalog builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static bool builtin_ok;

/* "mysql.json" -> "mysql" into out; -EINVAL for another name. */
static int type_name_of(const char *file, struct buf *out)
{
	size_t n = strlen(file);
	buf_reset(out);
	if (n <= 5 || strcmp(file + n - 5, ".json") != 0 || strchr(file, '/'))
		return -EINVAL;
	return buf_append(out, file, n - 5);
}

static void load_builtin(void)
{
	size_t n = 0;
	for (const struct embed_file *f = catalog_files; f->name; f++)
		n++;
	builtin.types = calloc(n + 1, sizeof *builtin.types);
	builtin.builtin = true;
	struct buf name;
	struct model_errors errs;
	buf_init(&name, 256);
	model_errors_init(&errs);
	bool ok = builtin.types != NULL;
	for (const struct embed_file *f = catalog_files; ok && f->name; f++) {
		json_error_t jerr;
		json_t *doc = json_loadb((const char *)f->data, f->len, 0, &jerr);
		struct entry *e = NULL;
		ok = doc && type_name_of(f->name, &name) == 0 &&
		     compile(buf_cstr(&name), doc, true, &errs, &e) == 0 && !e->problem;
		if (!ok)
			fprintf(stderr, "manifestd: the built-in component type '%s' is broken: %s\n", f->name,
				!doc && jerr.text[0] ? jerr.text : e && e->problem && *e->problem ? e->problem : "out of memory");
		if (ok)
			builtin.types[builtin.n++] = e;
		else
			entry_free(e);
		json_decref(doc);
	}
	if (ok)
		qsort(builtin.types, builtin.n, sizeof *builtin.types, by_name);
	builtin_ok = ok;
	buf_release(&name);
	model_errors_release(&errs);
}

const struct catalog *catalog_builtin(void)
{
	pthread_once(&builtin_once, load_builtin);
	return builtin_ok ? &builtin : NULL;
}

void catalog_free(const struct catalog *c)
{
	if (!c || c->builtin)
		return;
	struct catalog *m = (struct catalog *)c;
	for (size_t i = 0; i < m->n; i++)
		if (m->owned[i])
			entry_free(m->types[i]);
	free(m->types);
	free(m->owned);
	free(m);
}

int catalog_new(const json_t *stored, struct catalog **ret)
{
	const struct catalog *base = catalog_builtin();
	if (!base)
		return -ENOMEM;
	if (!json_object_size(stored)) {
		*ret = (struct catalog *)base;
		return 0;
	}
	size_t cap = base->n + json_object_size(stored);
	struct catalog *c = calloc(1, sizeof *c);
	struct model_errors errs;
	model_errors_init(&errs);
	int r = c && (c->types = calloc(cap, sizeof *c->types)) && (c->owned = calloc(cap, sizeof *c->owned)) ? 0
														   : -ENOMEM;
	const char *name;
	json_t *doc;
	EACH_MEMBER(stored, name, doc) {
		struct entry *e = NULL;
		if (r == 0)
			r = compile(name, doc, false, &errs, &e);
		if (r == 0) {
			c->owned[c->n] = true;
			c->types[c->n++] = e;
		}
		model_errors_release(&errs);
	}
	for (size_t i = 0; r == 0 && i < base->n; i++)
		if (!json_object_get(stored, base->types[i]->name)) {
			c->owned[c->n] = false;
			c->types[c->n++] = base->types[i];
		}
	if (r < 0) {
		catalog_free(c);
		return -ENOMEM;
	}
	/* sort entries and their ownership together */
	for (size_t i = 1; i < c->n; i++)
		for (size_t j = i; j > 0 && by_name(&c->types[j - 1], &c->types[j]) > 0; j--) {
			struct entry *t = c->types[j];
			bool o = c->owned[j];
			c->types[j] = c->types[j - 1];
			c->owned[j] = c->owned[j - 1];
			c->types[j - 1] = t;
			c->owned[j - 1] = o;
		}
	*ret = c;
	return 0;
}

const struct catalog_type *catalog_find(const struct catalog *c, const char *name)
{
	size_t lo = 0, hi = c && name ? c->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->types[mid]->name, name);
		if (cmp == 0)
			return &c->types[mid]->t;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t catalog_count(const struct catalog *c)
{
	return c ? c->n : 0;
}

const struct catalog_type *catalog_at(const struct catalog *c, size_t i)
{
	return c && i < c->n ? &c->types[i]->t : NULL;
}

const char *catalog_closest(const struct catalog *c, const char *name)
{
	const char *best = NULL;
	size_t best_d = model_suggest_limit(name);
	for (size_t i = 0; i < catalog_count(c); i++) {
		size_t d = util_edit_distance(name, c->types[i]->name, best_d);
		if (d < best_d) {
			best = c->types[i]->name;
			best_d = d;
		}
	}
	return best;
}

int catalog_names(const struct catalog *c, struct buf *out)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < catalog_count(c); i++)
		r = BUF_PUTS(out, i ? ", " : "", c->types[i]->name);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- checking a type before it is stored ------------------------------------------------ */

/* The placeholders of def[part] (at its pointer) use only roots. */
static int check_placeholders(const json_t *v, const char *const *roots, const char *const *at,
			      struct model_errors *errs)
{
	int r = v ? template_check(v, roots, errs, at) : 0;
	return r == TEMPLATE_EINVALID ? 0 : r;
}

/* A declaration's condition "when", if any: one "${params.X}" placeholder. */
static int check_when(const json_t *decl, const char *const *at, struct model_errors *errs)
{
	const char *when = json_string_value(json_object_get(decl, "when"));
	bool on;
	int r = when && *when ? template_condition(when, NULL, errs, at, &on) : 0;
	return r == TEMPLATE_EINVALID ? 0 : r;
}

static int check_templates(const json_t *def, struct model_errors *errs)
{
	static const char *const plain[] = {"name", "params", "secret", NULL};
	static const char *const each[] = {"name", "params", "secret", "consumer", "service", NULL};
	static const char *const defaults[] = {"name", "params", "service", NULL};
	const json_t *prov = json_object_get(def, "provision");
	int r = check_placeholders(json_object_get(def, "workload"), plain, MODEL_PTR("workload"), errs);
	if (r == 0)
		r = check_placeholders(json_object_get(prov, "job"), plain, MODEL_PTR("provision", "job"), errs);
	const char *name;
	json_t *v;
	EACH_MEMBER(json_object_get(prov, "files"), name, v) {
		if (r == 0)
			r = check_placeholders(json_object_get(v, "head"), plain, MODEL_PTR("provision", "files", name, "head"), errs);
		if (r == 0)
			r = check_placeholders(json_object_get(v, "each"), each, MODEL_PTR("provision", "files", name, "each"), errs);
		if (r == 0)
			r = check_placeholders(json_object_get(v, "tail"), plain, MODEL_PTR("provision", "files", name, "tail"), errs);
	}
	EACH_MEMBER(json_object_get(def, "outputs"), name, v) {
		const char *secret = json_string_value(json_object_get(v, "secret"));
		if (r == 0)
			r = check_placeholders(json_object_get(v, "value"), each, MODEL_PTR("outputs", name, "value"), errs);
		if (r == 0)
			r = check_placeholders(json_object_get(v, "else"), each, MODEL_PTR("outputs", name, "else"), errs);
		if (r == 0)
			r = check_when(v, MODEL_PTR("outputs", name, "when"), errs);
		if (r == 0 && secret && !json_object_get(json_object_get(def, "secrets"), secret))
			r = model_errors_at(errs, NULL, MODEL_PTR("outputs", name, "secret"), "names the secret \"%s\", "
					    "which is not in /secrets of the type", secret);
	}
	EACH_MEMBER(json_object_get(def, "consumer"), name, v) {
		if (r == 0)
			r = check_placeholders(json_object_get(v, "default"), defaults, MODEL_PTR("consumer", name, "default"), errs);
	}
	EACH_MEMBER(json_object_get(def, "secrets"), name, v) {
		if (r == 0)
			r = check_when(v, MODEL_PTR("secrets", name, "when"), errs);
	}
	return r;
}

/* The string default of the param called name (of length len) of n, or NULL. */
static const char *param_default(const struct schema_node *n, const char *name, size_t len)
{
	for (size_t i = 0; n && i < n->nprops; i++)
		if (n->props[i].name_len == len && strncmp(n->props[i].name, name, len) == 0)
			return json_string_value(n->props[i].node->def);
	return NULL;
}

/* The first param named by a ${params.X...} placeholder of text whose own default holds a
 * placeholder too, as its name and length in *ret and *ret_len; false when none. */
static bool names_templated_param(const struct schema_node *params, const char *text, const char **ret,
				  size_t *ret_len)
{
	for (const char *p = text; (p = strstr(p, "${")) != NULL; p += 2) {
		if (p > text && p[-1] == '$')
			continue; /* $${ is a literal ${ */
		const char *end = strchr(p, '}'), *q = p + 2;
		if (!end)
			return false;
		const char *colon = memchr(q, ':', (size_t)(end - q));
		q = colon ? colon + 1 : q;
		if ((size_t)(end - q) <= 7 || strncmp(q, "params.", 7) != 0)
			continue;
		q += 7;
		size_t len = strcspn(q, ".}");
		const char *def = param_default(params, q, len);
		if (def && strstr(def, "${")) {
			*ret = q;
			*ret_len = len;
			return true;
		}
	}
	return false;
}

/* Where the default of the param name is written: /params/NAME/default, or for the param
 * a secret adds, /secrets/SECRET/default. */
static int default_pointer(const json_t *def, const char *name, struct buf *out)
{
	const char *secret;
	json_t *v;
	EACH_MEMBER(json_object_get(def, "secrets"), secret, v) {
		const char *param = json_string_value(json_object_get(v, "param"));
		if (param && strcmp(param, name) == 0 && !json_object_get(json_object_get(def, "params"), name))
			return util_pointer_append(out, "secrets") || util_pointer_append(out, secret) ||
			       util_pointer_append(out, "default") ? -ENOMEM : 0;
	}
	return util_pointer_append(out, "params") || util_pointer_append(out, name) ||
	       util_pointer_append(out, "default") ? -ENOMEM : 0;
}

/* The defaults of params are expanded once, all in one pass, when an instance is resolved:
 * a default that names a param whose own default holds a placeholder (a chain, or a cycle
 * such as a -> b -> a) would leave a placeholder in the text. Each such default is a
 * problem. */
static int check_param_chains(const struct entry *e, struct model_errors *errs)
{
	const struct schema_node *params = e->t.params;
	int r = 0;
	for (size_t i = 0; r == 0 && params && i < params->nprops; i++) {
		const char *def = json_string_value(params->props[i].node->def), *other = NULL;
		size_t len = 0;
		if (!def || !strstr(def, "${") || !names_templated_param(params, def, &other, &len))
			continue;
		struct buf ptr;
		buf_init(&ptr, BUF_NO_MAX);
		r = default_pointer(e->def, params->props[i].name, &ptr);
		if (r == 0)
			r = model_errors_add(errs, buf_cstr(&ptr), "names the param \"%.*s\", whose own default has a "
					     "placeholder: defaults are expanded once, so a default may name only params "
					     "whose defaults have none (no chains, no cycles)", (int)len, other);
		buf_release(&ptr);
	}
	return r < 0 ? -ENOMEM : 0;
}

/* true when node has a required property without a default: no sample can be made. */
static bool needs_values(const struct schema_node *n)
{
	for (size_t i = 0; n && i < n->nprops; i++)
		if (n->props[i].node->required && !n->props[i].node->def)
			return true;
	return false;
}

#define SAMPLE "sample"

/* The stack of a sample: the instance "sample" of the type, its secrets set, and a
 * service "app" that uses it with the default consumer params and takes every output. */
static json_t *sample_stack(const struct catalog_type *t)
{
	json_t *secrets = json_object(), *env = json_object();
	json_t *stack = json_pack("{s:o,s:{s:{s:s}},s:{s:{s:{s:s,s:s},s:i,s:o}}}", "secrets", secrets, "components",
				  SAMPLE, "type", t->name, "services", "app", "image", "repository", "app", "tag",
				  "1.0", "port", 8080, "env", env);
	int r = stack ? 0 : -ENOMEM;
	const char *name;
	json_t *v;
	EACH_MEMBER(json_object_get(t->def, "secrets"), name, v) {
		struct buf key;
		struct model_errors errs;
		const struct template_ctx ctx = {.name = SAMPLE};
		buf_init(&key, BUF_NO_MAX);
		model_errors_init(&errs);
		if (r == 0 && template_text(json_string_value(json_object_get(v, "default")), &ctx, &key, &errs, NULL) == 0)
			r = json_object_set_new(secrets, buf_cstr(&key), json_string("sample-value")) ? -ENOMEM : 0;
		buf_release(&key);
		model_errors_release(&errs);
	}
	if (r == 0 && !needs_values(t->consumer)) {
		json_t *app = json_object_get(json_object_get(stack, "services"), "app");
		r = json_object_set_new(app, "uses", json_pack("{s:{}}", SAMPLE)) ? -ENOMEM : 0;
		EACH_MEMBER(json_object_get(t->def, "outputs"), name, v) {
			struct buf var;
			buf_init(&var, BUF_NO_MAX);
			r = r ? r : BUF_PUTS(&var, "OUT_", name);
			if (r == 0 && json_object_set_new(env, buf_cstr(&var), json_pack("{s:s,s:s}", "component", SAMPLE,
											    "output", name)) < 0)
				r = -ENOMEM;
			buf_release(&var);
		}
	}
	if (r < 0) {
		json_decref(stack);
		return NULL;
	}
	return stack;
}

/* Where a problem of the sample stack is in the type document. */
static const char *sample_place(const char *pointer)
{
	static const struct {
		const char *prefix, *place;
	} places[] = {
		{"/services/" SAMPLE "-provision", "/provision/job"},
		{"/services/" SAMPLE, "/workload"},
		{"/extraObjects/" SAMPLE "-provision", "/provision/files"},
		{"/components/" SAMPLE, "/params"},
		{"/services/app/uses", "/consumer"},
		{"/services/app/env", "/outputs"},
	};
	for (size_t i = 0; i < sizeof places / sizeof *places; i++)
		if (strncmp(pointer, places[i].prefix, strlen(places[i].prefix)) == 0)
			return places[i].place;
	return "";
}

/* The type resolved in a sample stack; its problems reported at their place in the type. */
static int check_sample(const struct entry *e, struct model_errors *errs)
{
	if (needs_values(e->t.params))
		return 0;
	json_t *one = json_pack("{s:O}", e->name, e->doc);
	json_t *stack = sample_stack(&e->t), *doc = NULL;
	struct catalog *cat = NULL;
	struct model_errors got;
	model_errors_init(&got);
	int r = one && stack ? catalog_new(one, &cat) : -ENOMEM;
	if (r == 0)
		r = model_resolve_in(cat, "sample", stack, NULL, NULL, NULL, &got, &doc);
	for (size_t i = 0; r == MODEL_EINVALID && i < got.count; i++)
		if (model_errors_add(errs, sample_place(got.items[i].pointer), "with the default params, %s: %s",
				     got.items[i].pointer, got.items[i].detail) < 0)
			r = -ENOMEM;
	model_errors_release(&got);
	catalog_free(cat);
	json_decref(one);
	json_decref(stack);
	json_decref(doc);
	return r < 0 && r != MODEL_EINVALID ? -ENOMEM : 0;
}

int catalog_check(const char *name, const json_t *doc, struct model_errors *errs)
{
	size_t before = errs->count;
	struct entry *e = NULL;
	const char *why = syntax_service_name(name);
	int r = why ? model_errors_add(errs, "", "the type's name %s", why) : 0;
	if (r == 0)
		r = compile(name, doc, false, errs, &e);
	if (r == 0 && !e->problem)
		r = check_templates(e->def, errs);
	if (r == 0 && !e->problem)
		r = check_param_chains(e, errs);
	if (r == 0 && errs->count == before)
		r = check_sample(e, errs);
	entry_free(e);
	if (r < 0)
		return -ENOMEM;
	return errs->count > before ? MODEL_EINVALID : 0;
}

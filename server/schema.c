/* schema: server/schema.json loaded into a tree of schema nodes once per process, and
 * the generic walks over it: validation, defaults, inheritance, the published JSON Schema. */
#include "schema.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "embed.h"
#include "jsoniter.h"
#include "syntax.h"
#include "util.h"

#include "schema.inc"

/* ---- formats: the name schema.json uses -> the checker ---------------------------------- */

static const struct {
	const char *name;
	const char *(*check)(const char *s);
} checkers[] = {
	{"dns_label", syntax_dns_label},     {"service_name", syntax_service_name},
	{"host", syntax_host},               {"class_name", syntax_class_name},
	{"quantity", syntax_quantity},       {"registry", syntax_registry},
	{"repository", syntax_repository},   {"tag", syntax_tag},
	{"digest", syntax_digest},           {"image_ref", syntax_image_ref},
	{"http_path", syntax_http_path},     {"abs_path", syntax_abs_path},
	{"rel_path", syntax_rel_path},       {"key", syntax_key},
	{"env_name", syntax_env_name},       {"env_prefix", syntax_env_prefix},
	{"port_name", syntax_port_name},     {"db_name", syntax_db_name},
	{"db_user", syntax_db_user},         {"rabbitmq_user", syntax_rabbitmq_user},
	{"duration", syntax_duration},       {"label_key", syntax_label_key},
	{"label_value", syntax_label_value}, {"capability", syntax_capability},
	{"cron", syntax_cron},               {"file_mode", syntax_file_mode},
	{"api_version", syntax_api_version}, {"kind", syntax_kind},
	{"object_name", syntax_object_name}, {"id", syntax_dns_label},
	{"http_header", syntax_http_header}, {"app_protocol", syntax_app_protocol},
	{"percent", syntax_percent},         {"time_zone", syntax_time_zone},
	{"json_pointer", syntax_json_pointer}, {"rabbitmq_vhost", syntax_rabbitmq_vhost},
	{"kafka_topic", syntax_kafka_topic},   {"param_name", syntax_param_name},
};

#define NCHECKERS (sizeof checkers / sizeof *checkers)

/* ---- the loaded schema ----------------------------------------------------------------- */

struct loaded {
	json_t *text;                     /* schema.json parsed; every borrowed string lives here */
	struct schema_format formats[NCHECKERS];
	const struct schema_node *document;
	struct {                          /* every def, built alone (schema_def) */
		const char *name;
		const struct schema_node *node;
	} *defs;
	size_t ndefs;
	struct schema_kind *kinds;        /* schema_kind: schema.json's "kinds" */
	size_t nkinds;
	json_t *json_schema;              /* schema_json_schema, built on first use */
};

static struct loaded L;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t export_lock = PTHREAD_MUTEX_INITIALIZER; /* guards L.json_schema */

/* Where loading failed, for the one message on stderr (or the caller of schema_compile):
 * where is a JSON Pointer into the description, built on the way back up. */
struct load_error {
	struct buf where;
	const char *why;
};

static int load_fail(struct load_error *e, const char *why)
{
	if (!e->why)
		e->why = why;
	return -EINVAL;
}

/* Puts "/seg" in front of e->where (a failure below seg is on its way up). */
static void where_prepend(struct load_error *e, const char *seg)
{
	struct buf w;
	buf_init(&w, BUF_NO_MAX);
	if (util_pointer_append(&w, seg) == 0 && buf_puts(&w, buf_cstr(&e->where)) == 0) {
		buf_release(&e->where);
		e->where = w;
		return;
	}
	buf_release(&w);
}

/* What building nodes needs: the defs a "$ref" names, where resolved descriptions are
 * kept alive (nodes borrow their strings), and where a failure is reported. */
struct builder {
	const json_t *defs;
	json_t *keep;
	struct load_error *e;
};

const struct schema_format *schema_format(const char *name)
{
	for (size_t i = 0; name && i < NCHECKERS; i++)
		if (L.formats[i].name && strcmp(L.formats[i].name, name) == 0)
			return &L.formats[i];
	return NULL;
}

static int load_formats(const json_t *formats, struct load_error *e)
{
	for (size_t i = 0; i < NCHECKERS; i++) {
		const json_t *f = json_object_get(formats, checkers[i].name);
		if (!json_is_object(f))
			return load_fail(e, "a checker has no format in schema.json");
		L.formats[i] = (struct schema_format){
			.name = checkers[i].name,
			.check = checkers[i].check,
			.pattern = json_string_value(json_object_get(f, "pattern")),
			.max_length = (size_t)json_integer_value(json_object_get(f, "maxLength")),
			.text = json_string_value(json_object_get(f, "text")),
		};
		if (!L.formats[i].pattern || !L.formats[i].text)
			return load_fail(e, "a format lacks its pattern or text");
	}
	if (json_object_size(formats) != NCHECKERS)
		return load_fail(e, "a format of schema.json has no checker");
	return 0;
}

/* base with local merged over it: objects merge member by member, anything else in local
 * replaces (null included: a local "default": null is a value). A new reference. */
static json_t *merge_desc(const json_t *base, const json_t *local)
{
	if (!json_is_object(base) || !json_is_object(local))
		return json_incref((json_t *)local);
	json_t *out = model_copy(base);
	const char *key;
	json_t *v;
	EACH_MEMBER(local, key, v) {
		json_t *m = out ? merge_desc(json_object_get(out, key), v) : NULL;
		if (!m || json_object_set_new(out, key, m) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

#define MAX_REF_DEPTH 16

/* desc with its "$ref" (and the ref's own, recursively) resolved: a new reference. The
 * caller keeps the result alive (build_node: in b->keep), so borrowed strings outlive it. */
static json_t *resolve_ref(const struct builder *b, const json_t *desc, int depth)
{
	const char *ref = json_string_value(json_object_get(desc, "$ref"));
	if (!ref)
		return json_incref((json_t *)desc);
	const json_t *def = json_object_get(b->defs, ref);
	if (!def || depth > MAX_REF_DEPTH) {
		load_fail(b->e, def ? "$ref nests too deep" : "$ref names no def");
		return NULL;
	}
	json_t *base = resolve_ref(b, def, depth + 1);
	json_t *local = base ? model_copy(desc) : NULL;
	json_t *out = local && json_object_del(local, "$ref") == 0 ? merge_desc(base, local) : NULL;
	json_decref(base);
	json_decref(local);
	return out;
}

static const struct {
	const char *name;
	enum schema_type type;
} type_names[] = {
	{"string", SCHEMA_STRING}, {"integer", SCHEMA_INTEGER}, {"boolean", SCHEMA_BOOLEAN},
	{"scalar", SCHEMA_SCALAR}, {"secret", SCHEMA_SECRET},   {"intOrString", SCHEMA_INT_OR_STRING},
	{"object", SCHEMA_OBJECT}, {"map", SCHEMA_MAP},         {"array", SCHEMA_ARRAY},
	{"raw", SCHEMA_RAW},       {"any", SCHEMA_ANY},
};

static int type_of(const char *name, enum schema_type *ret)
{
	for (size_t i = 0; name && i < sizeof type_names / sizeof *type_names; i++)
		if (strcmp(type_names[i].name, name) == 0) {
			*ret = type_names[i].type;
			return 0;
		}
	return -EINVAL;
}

/* The strings of the array member key of desc as a new NULL-terminated array of borrowed
 * strings in *ret (NULL when absent), and their count. */
static int string_list(const json_t *desc, const char *key, const char *const **ret, size_t *ret_n,
		       struct load_error *e)
{
	const json_t *arr = json_object_get(desc, key);
	*ret = NULL;
	*ret_n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return load_fail(e, "a list is not an array");
	const char **list = calloc(json_array_size(arr) + 1, sizeof *list);
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (!(list[i] = json_string_value(json_array_get(arr, i)))) {
			free(list);
			return load_fail(e, "a list holds a non-string");
		}
	*ret = list;
	*ret_n = json_array_size(arr);
	return 0;
}

static struct schema_node *build_node(const struct builder *b, const json_t *desc, int depth);

/* Frees n and everything below it (nodes own their children, lists and defaults; their
 * strings are the kept descriptions'); accepts NULL and a node half built. */
static void node_free(struct schema_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; n->props && i < n->nprops; i++)
		node_free((struct schema_node *)n->props[i].node);
	free((void *)n->props);
	free((void *)n->enums);
	free((void *)n->allowed_keys);
	free((void *)n->one_of);
	node_free((struct schema_node *)n->values);
	node_free((struct schema_node *)n->items);
	json_decref(n->defaults);
	json_decref((json_t *)n->completed);
	free(n);
}

static int build_child(const struct builder *b, const json_t *desc, const char *key,
		       const struct schema_node **ret, int depth)
{
	const json_t *d = json_object_get(desc, key);
	*ret = NULL;
	if (!d)
		return load_fail(b->e, "a map or array lacks its values or items");
	struct schema_node *c = build_node(b, d, depth + 1);
	if (!c)
		where_prepend(b->e, key);
	*ret = c;
	return c ? 0 : -EINVAL;
}

static bool listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static int build_props(const struct builder *b, struct schema_node *n, const json_t *desc, int depth)
{
	const json_t *props = json_object_get(desc, "properties");
	if (!props)
		return 0;
	if (!json_is_object(props))
		return load_fail(b->e, "properties is not an object");
	struct schema_prop *p = calloc(json_object_size(props) + 1, sizeof *p);
	if (!p)
		return -ENOMEM;
	n->props = p;
	const char *key;
	json_t *v;
	EACH_MEMBER(props, key, v) {
		p->name = key;
		p->name_len = MEMBER_KEY_LEN();
		if (!(p->node = build_node(b, v, depth + 1))) {
			where_prepend(b->e, key);
			where_prepend(b->e, "properties");
			return -EINVAL;
		}
		p++;
		n->nprops++;
	}
	for (size_t i = 0; i < n->none_of; i++)
		if (!schema_prop(n, n->one_of[i]))
			return load_fail(b->e, "oneOf names no property");
	return 0;
}

static const struct schema_format *node_format(const json_t *desc, const char *key, struct load_error *e,
					       int *r)
{
	const char *name = json_string_value(json_object_get(desc, key));
	const struct schema_format *f = schema_format(name);
	if (name && !f)
		*r = load_fail(e, "names an unknown format");
	return f;
}

/* Each scalar keyword desc has is of its kind (a description written by a platform team,
 * a component type's params, is checked like any input): -EINVAL with where and why. */
static int check_keywords(const json_t *desc, struct load_error *e)
{
	static const struct {
		const char *key;
		char kind; /* 'i' a non-negative integer, 'n' any integer, 'b' boolean, 's' string */
	} keywords[] = {
		{"minimum", 'n'}, {"maximum", 'n'}, {"maxLength", 'i'}, {"maxEntries", 'i'}, {"maxItems", 'i'},
		{"emptyOk", 'b'}, {"nullable", 'b'}, {"required", 'b'}, {"inputOnly", 'b'}, {"format", 's'},
		{"keyFormat", 's'}, {"defaultFrom", 's'}, {"defaultText", 's'}, {"noun", 's'}, {"description", 's'},
	};
	for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
		const json_t *v = json_object_get(desc, keywords[i].key);
		char k = keywords[i].kind;
		bool ok = !v || (k == 'b' ? json_is_boolean(v) : k == 's' ? json_is_string(v)
				 : json_is_integer(v) && (k == 'n' || json_integer_value(v) >= 0));
		if (!ok) {
			where_prepend(e, keywords[i].key);
			return load_fail(e, k == 'b' ? "must be true or false" : k == 's' ? "must be a string"
					 : k == 'n' ? "must be an integer" : "must be an integer from 0");
		}
	}
	const json_t *min = json_object_get(desc, "minimum"), *max = json_object_get(desc, "maximum");
	if (min && max && json_integer_value(min) > json_integer_value(max)) {
		where_prepend(e, "minimum");
		return load_fail(e, "is greater than maximum");
	}
	return 0;
}

/* The scalar members of desc into n. */
static int read_attributes(struct schema_node *n, const json_t *desc, struct load_error *e)
{
	int r = type_of(json_string_value(json_object_get(desc, "type")), &n->type);
	if (r < 0)
		return load_fail(e, "has no known type");
	if (check_keywords(desc, e) < 0)
		return -EINVAL;
	n->format = node_format(desc, "format", e, &r);
	n->key_format = node_format(desc, "keyFormat", e, &r);
	n->empty_ok = json_is_true(json_object_get(desc, "emptyOk"));
	n->nullable = json_is_true(json_object_get(desc, "nullable"));
	n->required = json_is_true(json_object_get(desc, "required"));
	n->input_only = json_is_true(json_object_get(desc, "inputOnly"));
	n->min = json_object_get(desc, "minimum") ? json_integer_value(json_object_get(desc, "minimum")) : LLONG_MIN;
	n->max = json_object_get(desc, "maximum") ? json_integer_value(json_object_get(desc, "maximum")) : LLONG_MAX;
	n->max_length = (size_t)json_integer_value(json_object_get(desc, "maxLength"));
	n->def = json_object_get(desc, "default");
	n->default_from = json_string_value(json_object_get(desc, "defaultFrom"));
	n->default_text = json_string_value(json_object_get(desc, "defaultText"));
	n->max_entries = (size_t)json_integer_value(json_object_get(desc, "maxEntries"));
	n->max_items = (size_t)json_integer_value(json_object_get(desc, "maxItems"));
	n->noun = json_string_value(json_object_get(desc, "noun"));
	n->description = json_string_value(json_object_get(desc, "description"));
	n->view = json_string_value(json_object_get(desc, "view"));
	n->form = json_object_get(desc, "form");
	if (n->format && n->format->max_length && !n->max_length)
		n->max_length = n->format->max_length;
	return r;
}

static int read_lists(struct schema_node *n, const json_t *desc, struct load_error *e)
{
	const char *const *exactly = NULL;
	size_t nexact = 0;
	int r = string_list(desc, "enum", &n->enums, &n->nenums, e);
	if (r == 0)
		r = string_list(desc, "allowedKeys", &n->allowed_keys, &n->nallowed, e);
	if (r == 0)
		r = string_list(desc, "oneOf", &exactly, &nexact, e);
	if (r == 0 && exactly) {
		n->one_of = exactly;
		n->none_of = nexact;
		n->exactly_one = true;
	} else if (r == 0) {
		r = string_list(desc, "atMostOneOf", &n->one_of, &n->none_of, e);
	}
	return r;
}

/* What an absent value of n becomes (see struct schema_node.defaults). */
static int build_defaults(struct schema_node *n)
{
	if (n->def) {
		n->defaults = json_incref((json_t *)n->def);
		return 0;
	}
	if (n->type == SCHEMA_MAP && !n->nullable)
		return (n->defaults = json_object()) ? 0 : -ENOMEM;
	if (n->type != SCHEMA_OBJECT || n->nullable)
		return 0;
	json_t *obj = json_object();
	for (size_t i = 0; obj && i < n->nprops; i++) {
		const struct schema_prop *p = &n->props[i];
		if (!p->node->defaults || p->node->input_only || p->node->default_from ||
		    listed(n->one_of, n->none_of, p->name))
			continue;
		if (json_object_set_new_nocheck(obj, p->name, json_deep_copy(p->node->defaults)) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	n->defaults = obj;
	return obj ? 0 : -ENOMEM;
}

/* Whether schema_inherit can set anything in an instance of n: n is an object with a
 * property that has an absolute defaultFrom, or a property or map value (of object type)
 * below it is such an object. Follows schema_inherit's own path down. */
static bool inherits(const struct schema_node *n)
{
	if (n->type == SCHEMA_MAP)
		return n->values->type == SCHEMA_OBJECT && n->values->inherits;
	for (size_t i = 0; n->type == SCHEMA_OBJECT && i < n->nprops; i++) {
		const struct schema_node *c = n->props[i].node;
		if (c->inherits || (c->default_from && c->default_from[0] == '/'))
			return true;
	}
	return false;
}

static struct schema_node *build_node(const struct builder *b, const json_t *desc_in, int depth)
{
	if (depth > 64 || !json_is_object(desc_in)) {
		load_fail(b->e, depth > 64 ? "nests too deep" : "a node is not an object");
		return NULL;
	}
	json_t *desc = resolve_ref(b, desc_in, 0);
	struct schema_node *n = desc ? calloc(1, sizeof *n) : NULL;
	/* keep desc alive: its strings are borrowed by the node */
	int r = n && json_array_append_new(b->keep, desc) == 0 ? 0 : -ENOMEM;
	if (r < 0) {
		free(n);
		return NULL;
	}
	r = read_attributes(n, desc, b->e);
	if (r == 0)
		r = read_lists(n, desc, b->e);
	if (r == 0 && (n->type == SCHEMA_OBJECT || n->type == SCHEMA_RAW))
		r = build_props(b, n, desc, depth);
	if (r == 0 && n->type == SCHEMA_MAP)
		r = build_child(b, desc, "values", &n->values, depth);
	if (r == 0 && n->type == SCHEMA_ARRAY)
		r = build_child(b, desc, "items", &n->items, depth);
	if (r == 0 && n->type == SCHEMA_MAP && !n->key_format)
		r = load_fail(b->e, "a map has no keyFormat");
	if (r == 0)
		r = build_defaults(n);
	if (r == 0)
		n->inherits = inherits(n);
	if (r == 0)
		return n;
	node_free(n);
	return NULL;
}

/* schema.json's "kinds" into L.kinds. */
static int load_kinds(struct load_error *e)
{
	const json_t *kinds = json_object_get(L.text, "kinds");
	const char *name;
	json_t *v;
	L.kinds = calloc(json_object_size(kinds) + 1, sizeof *L.kinds);
	if (!L.kinds)
		return -ENOMEM;
	EACH_MEMBER(kinds, name, v) {
		if (name[0] == '$')
			continue;
		struct schema_kind *k = &L.kinds[L.nkinds++];
		size_t n;
		k->kind = name;
		k->cluster = json_is_true(json_object_get(v, "cluster"));
		int r = string_list(v, "apiVersions", &k->api_versions, &n, e);
		if (r < 0 || n == 0)
			return r < 0 ? r : load_fail(e, "a kind has no apiVersions");
	}
	return 0;
}

const struct schema_kind *schema_kind(const char *kind)
{
	if (!schema_document())
		return NULL;
	for (size_t i = 0; kind && i < L.nkinds; i++)
		if (strcmp(L.kinds[i].kind, kind) == 0)
			return &L.kinds[i];
	return NULL;
}

bool schema_kind_cluster_scoped(const char *kind)
{
	const struct schema_kind *k = schema_kind(kind);
	return k ? k->cluster : kind && strncmp(kind, "Cluster", 7) == 0;
}

/* Each def built as a node of its own (a "$ref" to it), for schema_def. */
static int load_defs(struct load_error *e)
{
	const json_t *defs = json_object_get(L.text, "defs");
	const char *name;
	json_t *v;
	L.defs = calloc(json_object_size(defs) + 1, sizeof *L.defs);
	if (!L.defs)
		return -ENOMEM;
	const struct builder b = {defs, json_object_get(L.text, "resolved"), e};
	EACH_MEMBER(defs, name, v) {
		(void)v;
		json_t *ref = json_pack("{s:s}", "$ref", name);
		const struct schema_node *n = ref ? build_node(&b, ref, 0) : NULL;
		json_decref(ref);
		if (!n)
			return -EINVAL;
		L.defs[L.ndefs].name = name;
		L.defs[L.ndefs++].node = n;
	}
	return 0;
}

static int complete_value(const struct schema_node *n, json_t *v, bool share);

/* Sets n->completed below and at n (children first): the default of an object or array
 * node completed as schema_complete_shared would, kept when it is valid in a resolved
 * document. Not for nodes schema_inherit writes into (inherits): their default differs
 * from one document to the next. 0 or -ENOMEM. */
static int share_defaults(struct schema_node *n)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < n->nprops; i++)
		r = share_defaults((struct schema_node *)n->props[i].node);
	if (r == 0 && n->values)
		r = share_defaults((struct schema_node *)n->values);
	if (r == 0 && n->items)
		r = share_defaults((struct schema_node *)n->items);
	if (r < 0 || n->inherits || !(json_is_object(n->defaults) || json_is_array(n->defaults)))
		return r;
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *c = json_deep_copy(n->defaults);
	r = c ? complete_value(n, c, true) : -ENOMEM;
	if (r == 0)
		r = schema_validate(n, c, true, NULL, &errs);
	if (r == 0 && errs.count == 0) {
		n->completed = c;
		c = NULL;
	}
	json_decref(c);
	model_errors_release(&errs);
	return r < 0 ? -ENOMEM : 0;
}

static void load(void)
{
	struct load_error e = {.why = NULL};
	const struct embed_file *f = embed_find(schema_files, "schema.json");
	json_error_t jerr;
	buf_init(&e.where, 256);
	L.text = f ? json_loadb((const char *)f->data, f->len, 0, &jerr) : NULL;
	int r = json_is_object(L.text) ? 0 : load_fail(&e, f ? jerr.text : "schema.json is not embedded");
	if (r == 0)
		r = json_object_set_new(L.text, "resolved", json_array()) < 0 ? -ENOMEM : 0;
	if (r == 0)
		r = load_formats(json_object_get(L.text, "formats"), &e);
	if (r == 0)
		r = load_kinds(&e);
	if (r == 0)
		r = load_defs(&e);
	if (r == 0) {
		const struct builder b = {json_object_get(L.text, "defs"), json_object_get(L.text, "resolved"), &e};
		L.document = build_node(&b, json_object_get(L.text, "document"), 0);
	}
	if (L.document && share_defaults((struct schema_node *)L.document) < 0)
		L.document = NULL; /* out of memory: the tree is not freed, as on any other failure */
	if (!L.document)
		fprintf(stderr, "manifestd: the embedded schema.json cannot be loaded: %s%s%s\n",
			buf_cstr(&e.where), e.where.len ? ": " : "", e.why ? e.why : "out of memory");
	buf_release(&e.where);
}

const struct schema_node *schema_document(void)
{
	pthread_once(&load_once, load);
	return L.document;
}

const struct schema_node *schema_prop(const struct schema_node *n, const char *name)
{
	for (size_t i = 0; n && i < n->nprops; i++)
		if (strcmp(n->props[i].name, name) == 0)
			return n->props[i].node;
	return NULL;
}

const struct schema_node *schema_def(const char *name)
{
	if (!schema_document())
		return NULL;
	for (size_t i = 0; i < L.ndefs; i++)
		if (strcmp(L.defs[i].name, name) == 0)
			return L.defs[i].node;
	return NULL;
}

/* ---- trees built at run time ------------------------------------------------------------ */

struct schema_tree {
	json_t *keep; /* the resolved descriptions the nodes borrow from */
	struct schema_node *root;
};

int schema_compile(const json_t *desc, struct buf *ret_where, const char **ret_why, struct schema_tree **ret)
{
	if (!schema_document())
		return -ENOMEM;
	struct load_error e = {.why = NULL};
	struct schema_tree *t = calloc(1, sizeof *t);
	buf_init(&e.where, BUF_NO_MAX);
	int r = t && (t->keep = json_array()) ? 0 : -ENOMEM;
	if (r == 0) {
		const struct builder b = {json_object_get(L.text, "defs"), t->keep, &e};
		t->root = build_node(&b, desc, 0);
		r = t->root ? 0 : e.why ? -EINVAL : -ENOMEM;
	}
	if (r == -EINVAL) {
		*ret_why = e.why;
		if (ret_where && buf_puts(ret_where, buf_cstr(&e.where)) < 0)
			r = -ENOMEM;
	}
	buf_release(&e.where);
	if (r < 0) {
		schema_tree_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

const struct schema_node *schema_tree_root(const struct schema_tree *t)
{
	return t->root;
}

void schema_tree_free(struct schema_tree *t)
{
	if (!t)
		return;
	node_free(t->root);
	json_decref(t->keep);
	free(t);
}

/* ---- validation ---------------------------------------------------------------------- */

/* The walk follows the schema (raw values are not descended), which nests far less. */
#define WALK_MAX_KEYS 24
/* How many shared objects a walk remembers as valid (see walk_shared). */
#define WALK_MAX_CLEAN 32

struct walk_clean {
	const json_t *v;
	const struct schema_node *n;
};

/* The keys down to the current value, borrowed (array indexes are written into idx); a
 * JSON Pointer is only built when there is something to report. */
struct walk {
	struct model_errors *errs;
	const char *keys[WALK_MAX_KEYS];
	char idx[WALK_MAX_KEYS][24];
	size_t depth;
	bool resolved;
	struct walk_clean clean[WALK_MAX_CLEAN];
	size_t nclean;
};

static void key_push(struct walk *w, const char *key)
{
	assert(w->depth < WALK_MAX_KEYS);
	w->keys[w->depth++] = key;
}

static void key_pop(struct walk *w)
{
	w->depth--;
}

static int report(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report(struct walk *w, const char *fmt, ...)
{
	struct buf ptr, detail;
	va_list ap;
	buf_init(&ptr, BUF_NO_MAX);
	buf_init(&detail, BUF_NO_MAX);
	int r = buf_puts(&ptr, "");
	for (size_t i = 0; r == 0 && i < w->depth; i++)
		r = util_pointer_append(&ptr, w->keys[i]);
	va_start(ap, fmt);
	if (r == 0)
		r = buf_vprintf(&detail, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = model_errors_add(w->errs, buf_cstr(&ptr), "%s", buf_cstr(&detail));
	buf_release(&ptr);
	buf_release(&detail);
	return r < 0 ? -ENOMEM : 0;
}


/* A short description of a JSON value for "got ..." (static text or formatted into b). */
static const char *describe(const json_t *v, struct buf *b)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return buf_printf(b, "the string \"%.*s%s\"", UTIL_CLIP(json_string_value(v))) ? "a string"
											  : buf_cstr(b);
	case JSON_INTEGER:
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) ? "a number" : buf_cstr(b);
	case JSON_REAL:
		return buf_printf(b, "the number %g", json_real_value(v)) ? "a number" : buf_cstr(b);
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

static int report_type(struct walk *w, const json_t *v, const char *expected)
{
	struct buf b;
	buf_init(&b, 256);
	int r = report(w, "must be %s, got %s", expected, describe(v, &b));
	buf_release(&b);
	return r;
}

/* Whether one of a and b is the other but for case, or the start of the other. */
static bool alike(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la && lb && strncasecmp(a, b, la < lb ? la : lb) == 0;
}

/* The name among names (n of them, each at stride bytes from the last) closest to word. */
static const char *closest(const char *const *names, size_t n, size_t stride, const char *word)
{
	const char *best = NULL;
	size_t best_d = model_suggest_limit(word);
	for (size_t i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)names + i * stride);
		size_t d = alike(word, name) ? 0 : util_edit_distance(word, name, best_d);
		if (d < best_d) {
			best = name;
			best_d = d;
		}
	}
	return best;
}

/* "is not a known field; did you mean ...?" or the list of the names allowed. */
static int report_unknown(struct walk *w, const char *const *names, size_t n, size_t stride,
			  const char *key)
{
	const char *guess = closest(names, n, stride, key);
	if (guess)
		return report(w, "is not a known field; did you mean \"%s\"?", guess);
	struct buf list;
	buf_init(&list, BUF_NO_MAX);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = BUF_PUTS(&list, i ? ", " : "", *(const char *const *)((const char *)names + i * stride));
	if (r == 0)
		r = report(w, "is not a known field; the fields here are: %s", buf_cstr(&list));
	buf_release(&list);
	return r < 0 ? -ENOMEM : 0;
}

static int walk_node(struct walk *w, const json_t *v, const struct schema_node *n);

static int walk_child(struct walk *w, const char *key, const json_t *v, const struct schema_node *n)
{
	key_push(w, key);
	int r = walk_node(w, v, n);
	key_pop(w);
	return r < 0 ? -ENOMEM : 0;
}

/* The property named key, tried first at *hint (members mostly come in declaration
 * order), then among all; NULL when unknown. *hint moves past the one found. */
static const struct schema_prop *find_prop(const struct schema_node *n, size_t *hint, const char *key,
					   size_t len)
{
	for (size_t k = 0; k < n->nprops; k++) {
		size_t i = (*hint + k) % n->nprops;
		const struct schema_prop *p = &n->props[i];
		if (p->name_len == len && memcmp(p->name, key, len) == 0) {
			*hint = i + 1;
			return p;
		}
	}
	return NULL;
}

/* "must have exactly/at most one of ...": present of n's oneOf members are. */
static int report_one_of(struct walk *w, const struct schema_node *n, size_t present)
{
	struct buf names;
	buf_init(&names, BUF_NO_MAX);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n->none_of; i++)
		r = BUF_PUTS(&names, i ? (i + 1 == n->none_of ? " or \"" : ", \"") : "\"", n->one_of[i], "\"");
	if (r == 0)
		r = report(w, "must have %s one of %s, got %zu of them", n->exactly_one ? "exactly" : "at most",
			   buf_cstr(&names), present);
	buf_release(&names);
	return r < 0 ? -ENOMEM : 0;
}

/* In a resolved document: every required property present, and the oneOf rule. */
static int walk_object_rules(struct walk *w, const json_t *v, const struct schema_node *n)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < n->nprops; i++) {
		const struct schema_prop *p = &n->props[i];
		if (!p->node->required || json_object_get(v, p->name))
			continue;
		key_push(w, p->name);
		r = report(w, "is required");
		key_pop(w);
	}
	if (r < 0 || !n->one_of)
		return r;
	size_t present = 0;
	for (size_t i = 0; i < n->none_of; i++)
		present += json_object_get(v, n->one_of[i]) != NULL;
	return present > 1 || (present == 0 && n->exactly_one) ? report_one_of(w, n, present) : 0;
}

static int walk_object(struct walk *w, const json_t *v, const struct schema_node *n)
{
	const char *key;
	json_t *child;
	size_t hint = 0;
	EACH_MEMBER((json_t *)v, key, child) {
		const struct schema_prop *p = find_prop(n, &hint, key, MEMBER_KEY_LEN());
		const char *from = p ? p->node->default_from : NULL;
		int r;
		if (p && from && from[0] != '/' && json_object_get(v, from) == child) {
			r = 0; /* the very value of the sibling it defaults to: checked there */
		} else if (p) {
			r = walk_child(w, key, child, p->node);
		} else {
			key_push(w, key);
			r = report_unknown(w, &n->props[0].name, n->nprops, sizeof *n->props, key);
			key_pop(w);
		}
		if (r < 0)
			return -ENOMEM;
	}
	return w->resolved ? walk_object_rules(w, v, n) : 0;
}

static int walk_map(struct walk *w, const json_t *v, const struct schema_node *n)
{
	if (n->max_entries && json_object_size(v) > n->max_entries)
		return report(w, "has %zu %s, more than the limit of %zu", json_object_size(v),
			      n->noun ? n->noun : "entries", n->max_entries);
	const char *key;
	json_t *child;
	EACH_MEMBER((json_t *)v, key, child) {
		key_push(w, key);
		const char *why = NULL;
		int r = 0;
		if (MEMBER_KEY_LEN() > MODEL_MAX_STRING)
			r = report(w, "name is longer than %d bytes", MODEL_MAX_STRING);
		else if (w->resolved && (why = n->key_format->check(key)))
			r = report(w, "is not a valid name: %s", why);
		key_pop(w);
		if (r < 0 || walk_child(w, key, child, n->values) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int walk_array(struct walk *w, const json_t *v, const struct schema_node *n)
{
	if (n->max_items && json_array_size(v) > n->max_items)
		return report(w, "has %zu items, more than the limit of %zu", json_array_size(v), n->max_items);
	for (size_t i = 0; i < json_array_size(v); i++) {
		snprintf(w->idx[w->depth], sizeof w->idx[0], "%zu", i);
		if (walk_child(w, w->idx[w->depth], json_array_get(v, i), n->items) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int report_enum(struct walk *w, const char *s, const struct schema_node *n)
{
	struct buf list;
	buf_init(&list, BUF_NO_MAX);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n->nenums; i++)
		r = BUF_PUTS(&list, i ? ", \"" : "\"", n->enums[i], "\"");
	const char *guess = closest(n->enums, n->nenums, sizeof *n->enums, s);
	if (r == 0)
		r = report(w, "must be one of %s, got \"%.*s%s\"%s%s%s", buf_cstr(&list), UTIL_CLIP(s),
			   guess ? "; did you mean \"" : "", guess ? guess : "", guess ? "\"?" : "");
	buf_release(&list);
	return r < 0 ? -ENOMEM : 0;
}

/* A string's own rules: length, NUL, then (resolved only) enum, length limit and format. */
static int walk_string(struct walk *w, const json_t *v, const struct schema_node *n)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > MODEL_MAX_STRING)
		return report(w, "is longer than %d bytes", MODEL_MAX_STRING);
	if (strlen(s) != len)
		return report(w, "must not contain NUL characters");
	if (!w->resolved)
		return 0;
	if (n->enums && !listed(n->enums, n->nenums, s))
		return report_enum(w, s, n);
	if (n->max_length && len > n->max_length)
		return report(w, "must be at most %zu characters, got %zu", n->max_length, len);
	const char *why = n->format && !(n->empty_ok && len == 0) ? n->format->check(s) : NULL;
	return why ? report(w, "%s, got \"%.*s%s\"", why, UTIL_CLIP(s)) : 0;
}

static int report_range(struct walk *w, const json_t *v, const struct schema_node *n, const char *also)
{
	struct buf b;
	buf_init(&b, 256);
	int r = buf_printf(&b, "an integer from %lld to %lld%s", n->min, n->max, also);
	r = r ? -ENOMEM : report_type(w, v, buf_cstr(&b));
	buf_release(&b);
	return r;
}

static int walk_int(struct walk *w, const json_t *v, const struct schema_node *n, const char *also)
{
	if (!json_is_integer(v))
		return report_range(w, v, n, also);
	long long x = json_integer_value(v);
	if (w->resolved && (x < n->min || x > n->max))
		return report(w, "must be an integer from %lld to %lld, got %lld", n->min, n->max, x);
	return 0;
}

/* {"set": true|false}, what model_mask_secrets() shows in place of a secret. */
static bool is_masked_secret(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 && json_is_boolean(json_object_get(v, "set"));
}

static int walk_scalar(struct walk *w, const json_t *v, const struct schema_node *n)
{
	if (!w->resolved && n->type == SCHEMA_SECRET && is_masked_secret(v))
		return 0;
	if (json_is_real(v))
		return report(w, "must be a string; write \"%g\" (in quotes) to keep it as typed: only "
				 "integers and booleans are turned into text", json_real_value(v));
	if (json_is_string(v))
		return walk_string(w, v, n);
	if (!w->resolved && (json_is_integer(v) || json_is_boolean(v)))
		return 0;
	return report_type(w, v, "a string");
}

/* A raw object: its known properties (when it declares some) walked as an object's, any
 * other member passes; allowedKeys limits the members. */
static int walk_raw(struct walk *w, const json_t *v, const struct schema_node *n)
{
	const char *key;
	json_t *child;
	size_t hint = 0;
	if (n->props) {
		EACH_MEMBER((json_t *)v, key, child) {
			const struct schema_prop *p = find_prop(n, &hint, key, MEMBER_KEY_LEN());
			if (p && walk_child(w, key, child, p->node) < 0)
				return -ENOMEM;
		}
		if (w->resolved && walk_object_rules(w, v, n) < 0)
			return -ENOMEM;
	}
	if (!n->allowed_keys)
		return 0;
	EACH_MEMBER((json_t *)v, key, child) {
		(void)child;
		if (listed(n->allowed_keys, n->nallowed, key))
			continue;
		key_push(w, key);
		int r = report_unknown(w, n->allowed_keys, n->nallowed, sizeof *n->allowed_keys, key);
		key_pop(w);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool walked_clean(const struct walk *w, const json_t *v, const struct schema_node *n)
{
	for (size_t i = 0; i < w->nclean; i++)
		if (w->clean[i].v == v && w->clean[i].n == n)
			return true;
	return false;
}

/* The object v walked as n, once per walk when it is shared: in a resolved document
 * (model_resolve's own until it returns, so its reference counts are only its own) an
 * object referenced more than once is one services share (what serviceDefaults gave them),
 * and found valid against n it is valid again. One with problems is walked each time, so
 * each place reports them. */
static int walk_shared(struct walk *w, const json_t *v, const struct schema_node *n)
{
	bool shared = w->resolved && v->refcount > 1;
	if (shared && walked_clean(w, v, n))
		return 0;
	size_t before = w->errs->count;
	int r = n->type == SCHEMA_MAP ? walk_map(w, v, n) : walk_object(w, v, n);
	if (r == 0 && shared && w->errs->count == before && w->nclean < WALK_MAX_CLEAN)
		w->clean[w->nclean++] = (struct walk_clean){v, n};
	return r;
}

static int walk_node(struct walk *w, const json_t *v, const struct schema_node *n)
{
	if (json_is_null(v) && (n->nullable || !w->resolved))
		return 0;
	if (w->resolved && v == n->completed)
		return 0; /* found valid when the schema was loaded */
	switch (n->type) {
	case SCHEMA_STRING:
		return json_is_string(v) ? walk_string(w, v, n) : report_type(w, v, "a string");
	case SCHEMA_INTEGER:
		return walk_int(w, v, n, "");
	case SCHEMA_BOOLEAN:
		return json_is_boolean(v) ? 0 : report_type(w, v, "true or false");
	case SCHEMA_SCALAR:
	case SCHEMA_SECRET:
		return walk_scalar(w, v, n);
	case SCHEMA_INT_OR_STRING:
		return json_is_string(v) ? walk_string(w, v, n) : walk_int(w, v, n, " or a string");
	case SCHEMA_OBJECT:
		if (!json_is_object(v))
			return report_type(w, v, n->nullable ? "an object or null" : "an object");
		return walk_shared(w, v, n);
	case SCHEMA_MAP:
		return json_is_object(v) ? walk_shared(w, v, n) : report_type(w, v, "an object");
	case SCHEMA_ARRAY:
		return json_is_array(v) ? walk_array(w, v, n) : report_type(w, v, "an array");
	case SCHEMA_RAW:
		return json_is_object(v) ? walk_raw(w, v, n) : report_type(w, v, "an object");
	case SCHEMA_ANY:
		return 0;
	}
	return 0;
}

int schema_validate(const struct schema_node *n, const json_t *v, bool resolved,
		    const char *const *at, struct model_errors *errs)
{
	struct walk w = {.errs = errs, .resolved = resolved};
	for (size_t i = 0; at && at[i]; i++)
		key_push(&w, at[i]);
	return walk_node(&w, v, n);
}

/* ---- defaults ---------------------------------------------------------------------------- */

static int complete_object(const struct schema_node *n, json_t *v, bool share);

/* schema_complete (share: schema_complete_shared). */
static int complete_value(const struct schema_node *n, json_t *v, bool share)
{
	const char *key;
	json_t *child;
	if (v == n->completed)
		return 0;
	switch (n->type) {
	case SCHEMA_OBJECT:
	case SCHEMA_RAW:
		return json_is_object(v) && n->nprops ? complete_object(n, v, share) : 0;
	case SCHEMA_MAP:
		if (!json_is_object(v) || (n->values->type != SCHEMA_OBJECT && n->values->type != SCHEMA_MAP &&
					    n->values->type != SCHEMA_RAW))
			return 0;
		EACH_MEMBER(v, key, child) {
			if (complete_value(n->values, child, share) < 0)
				return -ENOMEM;
		}
		return 0;
	case SCHEMA_ARRAY:
		for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
			if (complete_value(n->items, json_array_get(v, i), share) < 0)
				return -ENOMEM;
		return 0;
	default:
		return 0;
	}
}

int schema_complete(const struct schema_node *n, json_t *v)
{
	return complete_value(n, v, false);
}

int schema_complete_shared(const struct schema_node *n, json_t *v)
{
	return complete_value(n, v, true);
}

/* The value an absent property p of n starts from, or NULL for none (it stays absent). */
static const json_t *absent_value(const struct schema_node *n, const struct schema_prop *p)
{
	if (p->node->input_only || p->node->default_from || (p->node->required && !p->node->def) ||
	    listed(n->one_of, n->none_of, p->name))
		return NULL;
	return p->node->nullable ? json_null() : p->node->defaults;
}

static int complete_object(const struct schema_node *n, json_t *v, bool share)
{
	void *it = json_object_iter(v);
	for (size_t i = 0; i < n->nprops; i++) {
		const struct schema_prop *p = &n->props[i];
		json_t *cur;
		if (it && json_object_iter_key_len(it) == p->name_len &&
		    memcmp(json_object_iter_key(it), p->name, p->name_len) == 0) {
			cur = json_object_iter_value(it);
			it = json_object_iter_next(v, it);
		} else {
			cur = json_object_getn(v, p->name, p->name_len);
		}
		if (!cur) {
			const json_t *start = absent_value(n, p);
			if (!start)
				continue;
			it = NULL; /* v gains a key: no iterator across that */
			bool shared = share && start == p->node->defaults && p->node->completed;
			cur = shared ? json_incref((json_t *)p->node->completed) : model_copy(start);
			if (!cur || json_object_setn_new_nocheck(v, p->name, p->name_len, cur) < 0)
				return -ENOMEM;
		}
		if (complete_value(p->node, cur, share) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n->nprops; i++) {
		const struct schema_prop *p = &n->props[i];
		const char *from = p->node->default_from;
		json_t *src = from && from[0] != '/' ? json_object_get(v, from) : NULL;
		if (src && !json_object_getn(v, p->name, p->name_len) &&
		    json_object_setn_nocheck(v, p->name, p->name_len, src) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The value at an absolute JSON Pointer of plain tokens (no escapes: schema.json's own). */
static const json_t *pointer_get(const json_t *root, const char *pointer)
{
	const json_t *v = root;
	for (const char *s = pointer; v && *s == '/';) {
		const char *next = strchr(s + 1, '/');
		size_t n = next ? (size_t)(next - s - 1) : strlen(s + 1);
		v = json_object_getn(v, s + 1, n);
		s += n + 1;
	}
	return v;
}

int schema_inherit(const struct schema_node *n, json_t *v, const json_t *root)
{
	const char *key;
	json_t *child;
	if (!n->inherits)
		return 0;
	if (n->type == SCHEMA_MAP && json_is_object(v) && n->values->type == SCHEMA_OBJECT) {
		EACH_MEMBER(v, key, child) {
			if (schema_inherit(n->values, child, root) < 0)
				return -ENOMEM;
		}
	}
	if (n->type != SCHEMA_OBJECT || !json_is_object(v))
		return 0;
	for (size_t i = 0; i < n->nprops; i++) {
		const struct schema_prop *p = &n->props[i];
		json_t *cur = json_object_getn(v, p->name, p->name_len);
		const char *from = p->node->default_from;
		if (cur && schema_inherit(p->node, cur, root) < 0)
			return -ENOMEM;
		if (cur || !from || from[0] != '/')
			continue;
		const json_t *src = pointer_get(root, from);
		if (src && json_object_setn_nocheck(v, p->name, p->name_len, (json_t *)src) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- the published JSON Schema ------------------------------------------------------------ */

static json_t *export_node(const struct schema_node *n);

/* {"type": [t, "null"]}: every value of a stored document may be null (it deletes). */
static json_t *typed(const char *t1, const char *t2)
{
	return t2 ? json_pack("{s:[s,s,s]}", "type", t1, t2, "null") : json_pack("{s:[s,s]}", "type", t1, "null");
}

/* obj[key] = v, stealing v; -ENOMEM when v is NULL (an allocation failed) or on failure. */
static int set(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

/* A new array of the n strings (and a null after them when with_null); NULL when out of memory. */
static json_t *string_array(const char *const *strs, size_t n, bool with_null)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(strs[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	if (a && with_null && json_array_append_new(a, json_null()) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static int export_string(json_t *s, const struct schema_node *n)
{
	int r = 0;
	if (n->format) {
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		r = BUF_PUTS(&p, n->empty_ok ? "^$|" : "", n->format->pattern);
		if (r == 0)
			r = set(s, "pattern", json_string(buf_cstr(&p)));
		if (r == 0)
			r = set(s, "x-manifestd-format", json_string(n->format->text));
		buf_release(&p);
	}
	if (r == 0 && n->max_length)
		r = set(s, "maxLength", json_integer((json_int_t)n->max_length));
	if (r == 0 && n->enums)
		r = set(s, "enum", string_array(n->enums, n->nenums, true));
	return r;
}

static int export_range(json_t *s, const struct schema_node *n)
{
	int r = 0;
	if (n->min != LLONG_MIN)
		r = set(s, "minimum", json_integer(n->min));
	if (r == 0 && n->max != LLONG_MAX)
		r = set(s, "maximum", json_integer(n->max));
	return r;
}

/* An object's properties (no others allowed); a raw object's known ones (others allowed). */
static int export_props(json_t *s, const struct schema_node *n)
{
	json_t *props = json_object();
	int r = props ? set(s, "properties", props) : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n->nprops; i++)
		r = set(props, n->props[i].name, export_node(n->props[i].node));
	if (r == 0)
		r = set(s, "additionalProperties", json_boolean(n->type != SCHEMA_OBJECT));
	return r;
}

static json_t *export_secret(void)
{
	return json_pack("{s:[{s:[s,s,s,s]},{s:s,s:{s:{s:s}},s:[s],s:b}]}", "anyOf", "type", "string",
			 "integer", "boolean", "null", "type", "object", "properties", "set", "type",
			 "boolean", "required", "set", "additionalProperties", 0);
}

static json_t *export_typed(const struct schema_node *n)
{
	switch (n->type) {
	case SCHEMA_STRING:
		return typed("string", NULL);
	case SCHEMA_INTEGER:
		return typed("integer", NULL);
	case SCHEMA_BOOLEAN:
		return typed("boolean", NULL);
	case SCHEMA_SCALAR:
		return json_pack("{s:[s,s,s,s]}", "type", "string", "integer", "boolean", "null");
	case SCHEMA_SECRET:
		return export_secret();
	case SCHEMA_INT_OR_STRING:
		return typed("integer", "string");
	case SCHEMA_OBJECT:
	case SCHEMA_MAP:
	case SCHEMA_RAW:
		return typed("object", NULL);
	case SCHEMA_ARRAY:
		return typed("array", NULL);
	case SCHEMA_ANY:
		return json_object();
	}
	return NULL;
}

static int export_members(json_t *s, const struct schema_node *n)
{
	int r = 0;
	if (n->type == SCHEMA_STRING || n->type == SCHEMA_INT_OR_STRING || n->type == SCHEMA_SCALAR)
		r = export_string(s, n);
	if (r == 0 && (n->type == SCHEMA_INTEGER || n->type == SCHEMA_INT_OR_STRING))
		r = export_range(s, n);
	if (r == 0 && (n->type == SCHEMA_OBJECT || (n->type == SCHEMA_RAW && n->nprops)))
		r = export_props(s, n);
	if (r == 0 && n->type == SCHEMA_MAP) {
		json_t *names = json_object();
		r = names ? set(s, "propertyNames", names) : -ENOMEM;
		if (r == 0)
			r = set(names, "pattern", json_string(n->key_format->pattern));
		if (r == 0)
			r = set(names, "x-manifestd-format", json_string(n->key_format->text));
		if (r == 0)
			r = set(s, "additionalProperties", export_node(n->values));
		if (r == 0 && n->max_entries)
			r = set(s, "maxProperties", json_integer((json_int_t)n->max_entries));
	}
	if (r == 0 && n->type == SCHEMA_ARRAY) {
		r = set(s, "items", export_node(n->items));
		if (r == 0 && n->max_items)
			r = set(s, "maxItems", json_integer((json_int_t)n->max_items));
	}
	if (r == 0 && n->type == SCHEMA_RAW && n->allowed_keys)
		r = set(s, "propertyNames", json_pack("{s:o*}", "enum", string_array(n->allowed_keys, n->nallowed, false)));
	return r;
}

static int export_notes(json_t *s, const struct schema_node *n)
{
	int r = 0;
	if (n->description)
		r = set(s, "description", json_string(n->description));
	if (r == 0 && n->def)
		r = set(s, "default", json_deep_copy(n->def));
	if (r == 0 && (n->default_text || n->default_from))
		r = set(s, "x-manifestd-default", json_string(n->default_text ? n->default_text : n->default_from));
	if (r == 0 && n->form)
		r = set(s, "x-manifestd-form", json_deep_copy(n->form));
	if (r == 0 && n->input_only)
		r = set(s, "x-manifestd-input-only", json_true());
	if (r == 0 && n->nullable)
		r = set(s, "x-manifestd-nullable", json_true());
	if (r == 0 && n->one_of)
		r = set(s, n->exactly_one ? "x-manifestd-one-of" : "x-manifestd-at-most-one-of",
			string_array(n->one_of, n->none_of, false));
	return r;
}

static json_t *export_node(const struct schema_node *n)
{
	json_t *s = export_typed(n);
	if (!s || export_members(s, n) < 0 || export_notes(s, n) < 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

json_t *schema_node_json_schema(const struct schema_node *n)
{
	return export_node(n);
}

const json_t *schema_json_schema(void)
{
	const struct schema_node *doc = schema_document();
	if (!doc)
		return NULL;
	pthread_mutex_lock(&export_lock);
	if (!L.json_schema) {
		json_t *body = export_node(doc);
		json_t *s = json_pack("{s:s, s:s, s:s}", "$schema", "https://json-schema.org/draft/2020-12/schema",
				      "title", "manifestd stack or environment document", "description",
				      "A stack, or an environment of a stack (every member optional; null deletes "
				      "what a lower layer set). docs/schema.md explains every field.");
		/* published with it: the document of a component type (docs/components.md) */
		json_t *type = export_node(schema_def("componentType"));
		if (!body || !s || !type || json_object_update(s, body) < 0 || set(s, "type", json_string("object")) < 0 ||
		    set(s, "$defs", json_pack("{s:O}", "componentType", type)) < 0) {
			json_decref(s);
			s = NULL;
		}
		json_decref(body);
		json_decref(type);
		L.json_schema = s;
	}
	pthread_mutex_unlock(&export_lock);
	return L.json_schema;
}

/* ---- field paths ---------------------------------------------------------------------------- */

static int add_paths(const struct schema_node *n, struct buf *path, json_t *out)
{
	size_t len = path->len;
	int r = 0;
	for (size_t i = 0; r == 0 && n->type == SCHEMA_OBJECT && i < n->nprops; i++) {
		r = BUF_PUTS(path, "/", n->props[i].name);
		if (r == 0)
			r = json_array_append_new(out, json_string(buf_cstr(path)));
		if (r == 0)
			r = add_paths(n->props[i].node, path, out);
		buf_truncate(path, len);
	}
	const struct schema_node *inner = n->type == SCHEMA_MAP ? n->values : n->type == SCHEMA_ARRAY ? n->items : NULL;
	if (r == 0 && inner) {
		r = buf_puts(path, "/*");
		if (r == 0)
			r = add_paths(inner, path, out);
		buf_truncate(path, len);
	}
	return r;
}

json_t *schema_field_paths(void)
{
	const struct schema_node *doc = schema_document();
	json_t *out = doc ? json_array() : NULL;
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	if (out && add_paths(doc, &path, out) < 0) {
		json_decref(out);
		out = NULL;
	}
	buf_release(&path);
	return out;
}

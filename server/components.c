/* components: the instances of catalog types expanded into services, their provisioning
 * into a ConfigMap and a Job, and consuming services wired to their outputs
 * (include/components.h). */
#include "components.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "jsoniter.h"
#include "schema.h"
#include "template.h"
#include "util.h"

#define PTR MODEL_PTR
#define CLIP MODEL_CLIP
#define SUGGEST_FMT "%s%s%s"
#define SUGGEST(g) (g) ? "; did you mean \"" : "", (g) ? (g) : "", (g) ? "\"?" : ""
#define PLACEHOLDER "${components."
#define PLACEHOLDER_LEN (sizeof PLACEHOLDER - 1)
#define HIDDEN_PREFIX "MANIFESTD_"
#define NOBODY_UID 65534

/* One instance of /components. */
struct instance {
	const char *name;                 /* its key in /components (borrowed from the document) */
	const struct catalog_type *type;  /* NULL: unknown (reported) */
	json_t *params;                   /* completed params */
	json_t *consumers;                /* service name -> completed consumer params */
	char *run;                        /* provisionRun, or NULL */
	json_t *wait;                     /* the init container waiting for it (wait_container), or NULL */
	json_int_t wait_port;             /* the port consumers wait for; 0: none */
	bool enabled;
	bool ok; /* valid and expanded: consumers may be wired to it */
};

struct expand {
	json_t *doc;
	const struct catalog *cat;
	struct model_errors *e;
	const json_t *secrets; /* /secrets */
	bool secrets_inline;
	struct instance *in;
	size_t n;
};

#define errp(E, at, segs, ...) model_errors_at((E)->e, (at), (segs), __VA_ARGS__)

static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static struct instance *find_instance(const struct expand *E, const char *name)
{
	for (size_t i = 0; name && i < E->n; i++)
		if (strcmp(E->in[i].name, name) == 0)
			return &E->in[i];
	return NULL;
}

/* obj[key] = v (stolen); -ENOMEM when v is NULL or on failure. */
static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

/* Segments of a pointer: at (NULL-terminated, at most 8) followed by a and b (a NULL one
 * ends the list there). */
struct segs {
	const char *s[12];
};

static const char *const *segs_of(struct segs *p, const char *const *at, const char *a, const char *b)
{
	size_t n = 0;
	for (; at && at[n] && n < 8; n++)
		p->s[n] = at[n];
	p->s[n] = a;
	p->s[n + 1] = a ? b : NULL;
	p->s[n + 2] = NULL;
	return p->s;
}

/* A copy of parent[key] put in its place (it may be shared with serviceDefaults). */
static json_t *own(json_t *parent, const char *key)
{
	json_t *cur = json_object_get(parent, key);
	json_t *copy = json_is_object(cur) ? model_copy(cur) : json_object();
	if (!copy || json_object_set_new(parent, key, copy) < 0)
		return NULL;
	return copy;
}

/* ---- secrets ------------------------------------------------------------------------------ */

/* The key of the stack's secrets that holds the type's secret for a consumer (its own
 * param of the same name when the consumer params have one) or the instance; NULL when
 * the type has no such secret. */
static const char *secret_key(const struct instance *in, const json_t *consumer, const char *secret)
{
	const char *param = get_str(json_object_get(json_object_get(in->type->def, "secrets"), secret), "param");
	const char *key = param ? get_str(consumer, param) : NULL;
	return key ? key : param ? get_str(in->params, param) : NULL;
}

/* true when key is absent from /secrets or (secrets inline) has no value. */
static bool secret_unset(const struct expand *E, const char *key)
{
	const json_t *v = json_object_get(E->secrets, key);
	return !v || (E->secrets_inline && (json_is_null(v) || (json_is_string(v) && !json_string_length(v))));
}

/* true when the declaration d (a secret or an output of the type) has a condition "when"
 * (a boolean param) that is false for the instance in. A condition that does not hold
 * (not a boolean) counts as true: the type's check reports it. */
static bool switched_off(const struct instance *in, const json_t *d)
{
	const char *when = get_str(d, "when");
	struct model_errors scratch;
	struct template_ctx ctx = {.name = in->name, .params = in->params};
	bool on = true;
	if (!when || !*when)
		return false;
	model_errors_init(&scratch);
	if (template_condition(when, &ctx, &scratch, NULL, &on) != 0)
		on = true;
	model_errors_release(&scratch);
	return !on;
}

/* The hidden variable of a secret: MANIFESTD_<INSTANCE>_<SECRET> ("db", "rootPassword" ->
 * MANIFESTD_DB_ROOT_PASSWORD). */
static int hidden_name(const char *instance, const char *secret, struct buf *out)
{
	int r = buf_puts(out, HIDDEN_PREFIX);
	for (const char *c = instance; r == 0 && *c; c++) {
		char x = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
		r = buf_append(out, &x, 1);
	}
	r = r ? r : buf_puts(out, "_");
	for (const char *c = secret; r == 0 && *c; c++) {
		char x = (char)toupper((unsigned char)*c);
		if (isupper((unsigned char)*c) && c != secret)
			r = buf_puts(out, "_");
		if (r == 0)
			r = buf_append(out, &x, 1);
	}
	return r;
}

/* What ${secret.X} stands for where a placeholder is expanded. */
enum secret_mode {
	SECRET_KEY,    /* the key (workload, provisioning) */
	SECRET_VAR,    /* $(VAR) of a hidden variable, recorded in refs (a consumer's env) */
	SECRET_REFUSE, /* nothing: the text would be in a ConfigMap (-EACCES) */
};

struct secret_cx {
	const struct instance *in;
	const json_t *consumer;
	enum secret_mode mode;
	json_t *refs; /* SECRET_VAR: hidden variable -> key */
};

static int secret_text(void *cls, const char *secret, struct buf *out)
{
	struct secret_cx *x = cls;
	const char *key = secret_key(x->in, x->consumer, secret);
	if (!key)
		return -ENOENT;
	if (x->mode == SECRET_KEY)
		return buf_puts(out, key);
	if (x->mode == SECRET_REFUSE)
		return -EACCES;
	struct buf var;
	buf_init(&var, BUF_NO_MAX);
	int r = hidden_name(x->in->name, secret, &var);
	if (r == 0 && json_object_set_new(x->refs, buf_cstr(&var), json_string(key)) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = BUF_PUTS(out, "$(", buf_cstr(&var), ")");
	buf_release(&var);
	return r;
}

/* A template context for in (consumer and service may be NULL). */
static struct template_ctx ctx_of(const struct instance *in, struct secret_cx *sx, const json_t *consumer,
				  const char *service)
{
	return (struct template_ctx){.name = in->name, .params = in->params, .consumer = consumer,
				     .secret = sx ? secret_text : NULL, .cls = sx, .service = service};
}

/* ---- params ------------------------------------------------------------------------------- */

/* The strings of obj (at `at`) that given (obj before its defaults were added; NULL when
 * obj came whole from a default) did not have: their placeholders expanded with ctx, at
 * any depth. */
static int expand_defaults(struct expand *E, const json_t *given, json_t *obj, const struct template_ctx *ctx,
			   const char *const *at)
{
	const char *key;
	json_t *v;
	int r = 0;
	EACH_MEMBER(obj, key, v) {
		const json_t *mine = json_object_get(given, key);
		struct segs p;
		const char *const *here = segs_of(&p, at, key, NULL);
		if (r == 0 && json_is_object(v))
			r = expand_defaults(E, mine, v, ctx, here);
		if (r != 0 || mine || !json_is_string(v) || !strstr(json_string_value(v), "${"))
			continue;
		struct buf text;
		buf_init(&text, BUF_NO_MAX);
		r = template_text(json_string_value(v), ctx, &text, E->e, here);
		if (r == 0)
			r = json_object_set_new(obj, key, json_string(buf_cstr(&text))) < 0 ? -ENOMEM : 0;
		r = r == TEMPLATE_EINVALID ? 0 : r;
		buf_release(&text);
	}
	return r;
}

/* obj (an object of params at `at`) completed with node's defaults; the strings those
 * defaults brought have their placeholders expanded with ctx. */
static int complete_params(struct expand *E, const struct schema_node *node, json_t *obj,
			   const struct template_ctx *ctx, const char *const *at)
{
	json_t *given = model_copy(obj);
	int r = given ? schema_complete(node, obj) : -ENOMEM;
	if (r == 0)
		r = expand_defaults(E, given, obj, ctx, at);
	json_decref(given);
	return r < 0 ? -ENOMEM : 0;
}

/* The secrets of an instance (or of a consumer's own secret params) are keys of /secrets
 * with a value; optional ones may be missing. */
static int check_secrets(struct expand *E, const struct instance *in, const json_t *params, bool consumer,
			 const char *const *at)
{
	const char *name;
	json_t *s;
	EACH_MEMBER(json_object_get(in->type->def, "secrets"), name, s) {
		const char *param = get_str(s, "param");
		const char *key = get_str(params, param);
		if (!key || json_is_true(json_object_get(s, "optional")) || switched_off(in, s))
			continue;
		int r = 0;
		if (!json_object_get(E->secrets, key))
			r = errp(E, at, PTR(param), "names the secret \"%.*s%s\", which is not defined in /secrets: add "
				 "it there (the %s of %s \"%s\")" SUGGEST_FMT, CLIP(key), name,
				 consumer ? "this service's use of" : "component", in->name,
				 SUGGEST(model_closest_key(E->secrets, key)));
		else if (secret_unset(E, key))
			r = errp(E, at, PTR(param), "names the secret \"%.*s%s\", which has no value: set it in /secrets "
				 "of this environment", CLIP(key));
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The keys of the optional secrets of in that the stack does not have (or has no value
 * for): what reads them is left out. A new object key -> true; NULL when out of memory. */
static json_t *missing_optional(const struct expand *E, const struct instance *in)
{
	json_t *gone = json_object();
	const char *name;
	json_t *s;
	EACH_MEMBER(json_object_get(in->type->def, "secrets"), name, s) {
		const char *key = get_str(in->params, get_str(s, "param"));
		bool off = switched_off(in, s) || (json_is_true(json_object_get(s, "optional")) && secret_unset(E, key ? key : ""));
		if (gone && key && off && json_object_set_new(gone, key, json_true()) < 0) {
			json_decref(gone);
			gone = NULL;
		}
	}
	return gone;
}

/* Env vars of holder.env and files of holder.volumes that read a key in gone, removed
 * (holder is an expanded workload's: owned). */
static void drop_env_reading(json_t *holder, const json_t *gone)
{
	json_t *env = json_object_get(holder, "env");
	const char *var;
	json_t *src;
	void *tmp;
	json_object_foreach_safe(env, tmp, var, src) {
		const char *key = get_str(src, "secret");
		if (key && !json_object_get(src, "from") && json_object_get(gone, key))
			(void)json_object_del(env, var);
	}
}

static void drop_missing(json_t *svc, const json_t *gone)
{
	static const char *const groups[] = {"initContainers", "sidecars"};
	if (!json_object_size(gone))
		return;
	drop_env_reading(svc, gone);
	for (size_t i = 0; i < 2; i++) {
		const char *name;
		json_t *c;
		EACH_MEMBER(json_object_get(svc, groups[i]), name, c)
			drop_env_reading(c, gone);
	}
	const char *vol, *path;
	json_t *v, *f;
	void *tmp;
	EACH_MEMBER(json_object_get(svc, "volumes"), vol, v) {
		json_t *files = json_object_get(v, "files");
		json_object_foreach_safe(files, tmp, path, f) {
			const char *key = get_str(f, "secret");
			if (key && json_object_get(gone, key))
				(void)json_object_del(files, path);
		}
	}
}

/* ---- instances ------------------------------------------------------------------------------ */

/* One instance: its type, params (completed, checked, written back) and secrets. */
static int prepare(struct expand *E, json_t *components, const char *name, struct instance *in)
{
	static const char *const reserved[] = CATALOG_RESERVED_PARAMS;
	json_t *v = json_object_get(components, name);
	const char *type = get_str(v, "type");
	const char *const *at = PTR("components", name);
	in->name = name;
	if (!json_is_object(v) || !type)
		return 0; /* the schema reports it */
	in->type = catalog_find(E->cat, type);
	if (!in->type) {
		struct buf names;
		buf_init(&names, BUF_NO_MAX);
		const char *guess = catalog_closest(E->cat, type);
		int r = catalog_names(E->cat, &names);
		if (r == 0)
			r = errp(E, at, PTR("type"), "names the type \"%.*s%s\", which is not in the catalog (%s)" SUGGEST_FMT,
				 CLIP(type), buf_cstr(&names), SUGGEST(guess));
		buf_release(&names);
		return r;
	}
	if (in->type->problem)
		return errp(E, at, PTR("type"), "names the type \"%s\", whose stored document no longer holds: %s; "
			    "fix it with PUT /api/v1/catalog/%s", type, in->type->problem, type);
	in->enabled = !json_is_false(json_object_get(v, "enabled"));
	if (get_str(v, "provisionRun") && !(in->run = strdup(get_str(v, "provisionRun"))))
		return -ENOMEM;
	if (!(in->params = model_copy(v)) || !(in->consumers = json_object()))
		return -ENOMEM;
	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
		(void)json_object_del(in->params, reserved[i]);
	size_t before = E->e->count;
	struct template_ctx ctx = ctx_of(in, NULL, NULL, NULL);
	int r = 0;
	if (in->enabled && json_object_get(json_object_get(E->doc, "services"), name))
		r = errp(E, at, NULL, "is also the name of a service in /services: a component's workload is a service "
			 "of its name; rename one of them");
	if (r == 0)
		r = complete_params(E, in->type->params, in->params, &ctx, at);
	if (r == 0)
		r = schema_validate(in->type->params, in->params, true, at, E->e);
	if (r == 0 && in->enabled)
		r = check_secrets(E, in, in->params, false, at);
	/* written back resolved: type, enabled, provisionRun, then the params */
	json_t *out = r == 0 ? json_pack("{s:s,s:b}", "type", type, "enabled", in->enabled) : NULL;
	if (r == 0)
		r = out && (!in->run || json_object_set_new(out, "provisionRun", json_string(in->run)) == 0) &&
				json_object_update(out, in->params) == 0
			    ? 0
			    : -ENOMEM;
	if (r == 0)
		r = json_object_set(components, name, out) < 0 ? -ENOMEM : 0;
	json_decref(out);
	in->ok = r == 0 && E->e->count == before;
	return r < 0 ? -ENOMEM : 0;
}

/* json_object_set_new into E->doc's map member (created when absent), unless the key is
 * taken: then the problem at /components/<name> and obj is dropped. */
static int add_named(struct expand *E, const struct instance *in, const char *map, const char *key, json_t *obj)
{
	json_t *m = json_object_get(E->doc, map);
	if (!json_is_object(m) && set_new(E->doc, map, m = json_object()) < 0) {
		json_decref(obj);
		return -ENOMEM;
	}
	if (json_object_get(m, key)) {
		json_decref(obj);
		return errp(E, PTR("components", in->name), NULL, "needs the name \"%s\" in /%s, which is taken there: "
			    "rename one of them", key, map);
	}
	return set_new(m, key, obj);
}

/* The type's workload with in's placeholders, as the service <name>. */
static int add_workload(struct expand *E, struct instance *in)
{
	struct secret_cx sx = {in, NULL, SECRET_KEY, NULL};
	struct template_ctx ctx = ctx_of(in, &sx, NULL, NULL);
	json_t *svc = NULL, *gone = missing_optional(E, in);
	size_t before = E->e->count;
	int r = gone ? template_expand(json_object_get(in->type->def, "workload"), &ctx, E->e, PTR("components", in->name), &svc)
		     : -ENOMEM;
	if (r == TEMPLATE_EINVALID || (r == 0 && !json_is_object(svc))) {
		r = r == 0 ? errp(E, PTR("components", in->name), NULL, "has a type whose workload is not an object") : 0;
		in->ok = false;
	}
	const char *wait = get_str(in->type->def, "wait");
	const json_t *port = wait && *wait ? json_object_get(json_object_get(json_object_get(svc, "ports"), wait), "port") : NULL;
	if (r == 0 && in->ok && wait && *wait && !json_is_integer(port)) {
		r = errp(E, PTR("components", in->name), NULL, "has a type whose wait names the port \"%s\", which its "
			 "workload does not have", wait);
		in->ok = false;
	}
	in->wait_port = json_integer_value(port);
	if (r == 0 && in->ok) {
		drop_missing(svc, gone);
		json_t *labels = own(svc, "labels");
		r = labels ? set_new(labels, "app.kubernetes.io/component", json_string(get_str(in->type->def, "category")))
			   : -ENOMEM;
		if (r == 0)
			r = add_named(E, in, "services", in->name, json_incref(svc));
		in->ok = E->e->count == before;
	}
	json_decref(svc);
	json_decref(gone);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- consumers ------------------------------------------------------------------------------ */

/* The service being wired. */
struct wiring {
	const char *name;
	json_t *uses; /* its completed /uses (owned by the service) */
};

/* The init container that waits for in's port (it writes nothing: a read-only root). */
/* obj[key] = v (stolen) unless r is a failure already; -ENOMEM when obj or v is NULL or
 * out of memory. */
static int put(int r, json_t *obj, const char *key, json_t *v)
{
	if (r < 0 || !obj || !v) {
		json_decref(v);
		return -ENOMEM;
	}
	return json_object_set_new_nocheck(obj, key, v) < 0 ? -ENOMEM : 0;
}

/* {k1: s1, k2: s2} of static strings; NULL when out of memory. */
static json_t *two_texts(const char *k1, const char *s1, const char *k2, const char *s2)
{
	json_t *o = json_object();
	int r = put(0, o, k1, json_string_nocheck(s1));
	if (put(r, o, k2, json_string_nocheck(s2)) == 0)
		return o;
	json_decref(o);
	return NULL;
}

/* {"value": text}; NULL when out of memory. */
static json_t *env_value(const char *text)
{
	json_t *o = json_object();
	if (put(0, o, "value", json_string_nocheck(text)) == 0)
		return o;
	json_decref(o);
	return NULL;
}

/* The init container that waits for in's port (written member by member: json_pack's
 * format and UTF-8 checks cost more than the object). A new reference; NULL when out of
 * memory. */
static json_t *new_wait_container(const struct instance *in)
{
	static const char *const command[] = {
		"sh", "-c",
		"until nc -z -w 2 \"$WAIT_HOST\" \"$WAIT_PORT\"; do echo \"waiting for $WAIT_HOST:$WAIT_PORT\"; sleep 2; done"};
	char port[24];
	(void)snprintf(port, sizeof port, "%" JSON_INTEGER_FORMAT, in->wait_port);
	json_t *c = json_object(), *cmd = json_array(), *env = json_object(), *res = json_object();
	int r = cmd ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < 3; i++)
		r = json_array_append_new(cmd, json_string_nocheck(command[i])) < 0 ? -ENOMEM : 0;
	r = put(r, env, "WAIT_HOST", env_value(in->name));
	r = put(r, env, "WAIT_PORT", env_value(port));
	r = put(r, res, "requests", two_texts("cpu", "10m", "memory", "16Mi"));
	r = put(r, res, "limits", two_texts("cpu", "100m", "memory", "32Mi"));
	r = put(r, c, "image", json_string_nocheck(COMPONENTS_WAIT_IMAGE));
	r = put(r, c, "pullPolicy", json_string_nocheck("IfNotPresent"));
	r = put(r, c, "command", cmd);
	r = put(r, c, "env", env);
	r = put(r, c, "resources", res);
	r = put(r, c, "runAsUser", json_integer(NOBODY_UID));
	r = put(r, c, "readOnlyRootFilesystem", json_true());
	if (r == 0)
		return c;
	json_decref(c);
	return NULL;
}

/* The init container that waits for in, built once per instance and shared by the
 * services that wait for it (as the values of serviceDefaults are: what changes one
 * copies it first). A new reference; NULL when out of memory. */
static json_t *wait_container(struct instance *in)
{
	if (!in->wait)
		in->wait = new_wait_container(in);
	return json_incref(in->wait);
}

/* svc's init containers: wait-for-<name> for each of the instances (n of them) first,
 * unless the service names such a container itself. */
static int add_waits(json_t *svc, struct instance *const *ins, size_t n)
{
	if (n == 0)
		return 0;
	const json_t *init = json_object_get(svc, "initContainers");
	json_t *out = json_object();
	int r = out ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct buf name;
		buf_init(&name, BUF_NO_MAX);
		r = BUF_PUTS(&name, "wait-for-", ins[i]->name);
		if (r == 0 && !json_object_get(init, buf_cstr(&name)) && !json_object_get(out, buf_cstr(&name)))
			r = set_new(out, buf_cstr(&name), wait_container(ins[i]));
		buf_release(&name);
	}
	const char *key;
	json_t *c;
	EACH_MEMBER((json_t *)init, key, c) {
		if (r == 0 && json_object_set(out, key, c) < 0)
			r = -ENOMEM;
	}
	if (r == 0)
		return set_new(svc, "initContainers", out);
	json_decref(out);
	return -ENOMEM;
}

/* The instance a service's reference names: defined, used by the service, valid and
 * enabled; NULL otherwise (reported, but for an instance broken by a problem of its own). */
static struct instance *used(struct expand *E, const struct wiring *w, const char *name, const char *const *at,
			     const char *const *segs)
{
	struct instance *in = find_instance(E, name);
	if (in && !in->type)
		return NULL; /* its type is unknown: reported */
	if (!in) {
		const char *guess = model_closest_key(json_object_get(E->doc, "components"), name);
		(void)errp(E, at, segs, "names the component \"%.*s%s\", which is not defined in /components" SUGGEST_FMT,
			   CLIP(name), SUGGEST(guess));
		return NULL;
	}
	if (w && !json_object_get(w->uses, name)) {
		(void)errp(E, at, segs, "names the component \"%s\", which this service does not use: add it to "
			   "/services/%s/uses", name, w->name);
		return NULL;
	}
	if (!w && !in->enabled) {
		(void)errp(E, at, segs, "names the component \"%s\", which is disabled", name);
		return NULL;
	}
	return in->ok && in->enabled ? in : NULL;
}

/* The output oname of in for a consumer (its params and service; both NULL outside a
 * service), into *ret: whole (a variable's whole value) and secret: {"secret": key};
 * otherwise {"value": text}, secrets in it written as refs says (sx->mode). */
static int output_source(struct expand *E, const struct instance *in, const json_t *consumer, const char *service,
			 const char *oname, struct secret_cx *sx, bool whole, const char *const *at, json_t **ret)
{
	const json_t *outputs = json_object_get(in->type->def, "outputs");
	const json_t *out = json_object_get(outputs, oname);
	*ret = NULL;
	if (!out) {
		struct buf names;
		buf_init(&names, BUF_NO_MAX);
		const char *k;
		json_t *v;
		int r = 0;
		EACH_MEMBER((json_t *)outputs, k, v) {
			(void)v;
			r = r ? r : BUF_PUTS(&names, names.len ? ", " : "", k);
		}
		r = r ? -ENOMEM : errp(E, at, NULL, "names the output \"%.*s%s\", which a %s component does not have "
				       "(its outputs: %s)" SUGGEST_FMT, CLIP(oname), in->type->name, buf_cstr(&names),
				       SUGGEST(model_closest_key(outputs, oname)));
		buf_release(&names);
		return r;
	}
	const char *secret = get_str(out, "secret"), *value = get_str(out, "value");
	if (switched_off(in, out)) {
		secret = NULL;
		value = get_str(out, "else");
		if (!value)
			return errp(E, at, NULL, "names the output \"%s\" of component \"%s\", which it does not have with "
				    "its params (%s is false)", oname, in->name, get_str(out, "when"));
	}
	if (secret && whole) {
		*ret = json_pack("{s:s}", "secret", secret_key(in, consumer, secret));
		return *ret ? 0 : -ENOMEM;
	}
	struct buf text;
	struct model_errors scratch;
	buf_init(&text, BUF_NO_MAX);
	model_errors_init(&scratch);
	sx->in = in;
	sx->consumer = consumer;
	struct template_ctx ctx = ctx_of(in, sx, consumer, service);
	int r = secret ? secret_text(sx, secret, &text)
		       : template_text(value, &ctx, &text, &scratch, NULL);
	if (r == -EACCES)
		r = errp(E, at, NULL, "takes the output \"%s\" of component \"%s\", which holds a secret: a ConfigMap "
			 "cannot keep it; take it into the env of a service that uses \"%s\"", oname, in->name, in->name);
	else if (r == TEMPLATE_EINVALID)
		r = errp(E, at, NULL, "takes the output \"%s\" of component \"%s\", which depends on the service that "
			 "uses it (its database, user...); take it into the env of such a service", oname, in->name);
	else if (r == 0 && !(*ret = json_pack("{s:s}", "value", buf_cstr(&text))))
		r = -ENOMEM;
	model_errors_release(&scratch);
	buf_release(&text);
	return r < 0 ? -ENOMEM : 0;
}

/* s with each ${components.NAME.OUTPUT} replaced by the output's text, into out; w is the
 * consuming service (NULL in /config). 1 when a reference could not be resolved (reported). */
static int expand_refs(struct expand *E, const struct wiring *w, const char *s, struct secret_cx *sx,
		       const char *const *at, struct buf *out)
{
	int r = buf_puts(out, "");
	while (r == 0 && *s) {
		const char *hit = strstr(s, PLACEHOLDER);
		r = buf_append(out, s, hit ? (size_t)(hit - s) : strlen(s));
		if (r != 0 || !hit)
			break;
		const char *name = hit + PLACEHOLDER_LEN, *close = strchr(name, '}');
		const char *dot = close ? memchr(name, '.', (size_t)(close - name)) : NULL;
		if (!dot || dot == name || dot + 1 == close || memchr(dot + 1, '.', (size_t)(close - dot - 1)))
			return errp(E, at, NULL, "has \"%.*s\", which is not ${components.NAME.OUTPUT}",
				    close ? (int)(close - hit + 1) : (int)strlen(hit), hit) < 0 ? -ENOMEM : 1;
		char *iname = strndup(name, (size_t)(dot - name)), *oname = strndup(dot + 1, (size_t)(close - dot - 1));
		struct instance *in = iname && oname ? used(E, w, iname, at, NULL) : NULL;
		json_t *src = NULL;
		r = !iname || !oname ? -ENOMEM : !in ? 1
			: output_source(E, in, w ? json_object_get(w->uses, iname) : NULL, w ? w->name : NULL, oname, sx,
					false, at, &src);
		if (r == 0 && !src)
			r = 1;
		if (r == 0)
			r = buf_puts(out, get_str(src, "value"));
		json_decref(src);
		free(iname);
		free(oname);
		s = close + 1;
	}
	return r;
}

/* What env var src of a service becomes (a new reference in *ret, or NULL to keep it),
 * with the hidden variables it needs put into refs. */
static int env_source(struct expand *E, const struct wiring *w, const char *const *at, const char *var,
		      const json_t *src, json_t *refs, json_t **ret)
{
	const char *comp = get_str(src, "component"), *value = get_str(src, "value");
	const char *output = get_str(src, "output");
	struct secret_cx sx = {NULL, NULL, SECRET_VAR, refs};
	struct segs p;
	*ret = NULL;
	if (comp) {
		struct instance *in = used(E, w, comp, segs_of(&p, at, var, "component"), NULL);
		if (!json_object_get(src, "output"))
			return errp(E, segs_of(&p, at, var, "output"), NULL, "is required with component: the name of "
				    "one of its outputs");
		return in && output ? output_source(E, in, json_object_get(w->uses, comp), w->name, output, &sx, true,
						    segs_of(&p, at, var, "output"), ret)
				    : 0;
	}
	if (json_object_get(src, "output"))
		return errp(E, segs_of(&p, at, var, "output"), NULL, "only goes with component: the component whose "
			    "output it is");
	if (!value || !strstr(value, PLACEHOLDER))
		return 0;
	struct buf text;
	buf_init(&text, BUF_NO_MAX);
	int r = expand_refs(E, w, value, &sx, segs_of(&p, at, var, "value"), &text);
	if (r == 0 && !(*ret = json_pack("{s:s}", "value", buf_cstr(&text))))
		r = -ENOMEM;
	buf_release(&text);
	return r < 0 ? -ENOMEM : 0;
}

static bool env_needs_wiring(const json_t *env)
{
	const char *var;
	json_t *src;
	EACH_MEMBER((json_t *)env, var, src) {
		const char *value = get_str(src, "value");
		if (json_object_get(src, "component") || json_object_get(src, "output") || (value && strstr(value, PLACEHOLDER)))
			return true;
	}
	return false;
}

/* holder.env (an owned object's) with every output taken, hidden variables first. at: the
 * pointer of holder (at most 6 segments). */
static int wire_env(struct expand *E, const struct wiring *w, json_t *holder, const char *const *at)
{
	const json_t *env = json_object_get(holder, "env");
	if (!json_is_object(env) || !env_needs_wiring(env))
		return 0;
	json_t *out = json_object();
	int r = out ? 0 : -ENOMEM;
	const char *var;
	json_t *src;
	EACH_MEMBER((json_t *)env, var, src) {
		json_t *refs = json_object(), *repl = NULL;
		r = r ? r : refs ? env_source(E, w, at, var, src, refs, &repl) : -ENOMEM;
		const char *hidden;
		json_t *key;
		EACH_MEMBER(refs, hidden, key) {
			if (r == 0 && !json_object_get(out, hidden) && !json_object_get(env, hidden))
				r = set_new(out, hidden, json_pack("{s:O}", "secret", key));
		}
		if (r == 0)
			r = repl ? set_new(out, var, json_incref(repl)) : json_object_set(out, var, src) ? -ENOMEM : 0;
		json_decref(repl);
		json_decref(refs);
	}
	if (r == 0)
		return set_new(holder, "env", out);
	json_decref(out);
	return -ENOMEM;
}

/* The env of svc and of its init containers and sidecars wired. */
static int wire_envs(struct expand *E, const struct wiring *w, json_t *svc)
{
	static const char *const groups[] = {"initContainers", "sidecars"};
	int r = wire_env(E, w, svc, PTR("services", w->name, "env"));
	for (size_t i = 0; r == 0 && i < 2; i++) {
		const char *name;
		json_t *c;
		bool any = false;
		EACH_MEMBER(json_object_get(svc, groups[i]), name, c)
			any |= env_needs_wiring(json_object_get(c, "env"));
		json_t *cs = any ? own(svc, groups[i]) : NULL;
		if (any && !cs)
			return -ENOMEM;
		EACH_MEMBER(cs, name, c) {
			if (r == 0 && json_is_object(c))
				r = wire_env(E, w, c, PTR("services", w->name, groups[i], name, "env"));
		}
	}
	return r;
}

/* One use of svc: the consumer params completed, checked and written into uses; the
 * instance it names when the service may be wired to it (else NULL). */
static int use_one(struct expand *E, const struct wiring *w, const char *iname, struct instance **ret)
{
	const char *const *at = PTR("services", w->name, "uses", iname);
	struct instance *in = find_instance(E, iname);
	json_t *c = json_object_get(w->uses, iname);
	*ret = NULL;
	if (!in) {
		const char *guess = model_closest_key(json_object_get(E->doc, "components"), iname);
		return errp(E, at, NULL, "names the component \"%.*s%s\", which is not defined in /components" SUGGEST_FMT,
			    CLIP(iname), SUGGEST(guess));
	}
	if (in->type && !in->enabled)
		return errp(E, at, NULL, "names the component \"%s\", which is disabled: enable it "
			    "(/components/%s/enabled) or remove this use", iname, iname);
	if (!in->ok || !json_is_object(c))
		return 0;
	json_t *params = model_copy(c);
	struct template_ctx ctx = ctx_of(in, NULL, NULL, w->name);
	size_t before = E->e->count;
	int r = params ? complete_params(E, in->type->consumer, params, &ctx, at) : -ENOMEM;
	if (r == 0)
		r = schema_validate(in->type->consumer, params, true, at, E->e);
	if (r == 0)
		r = check_secrets(E, in, params, true, at);
	if (r == 0 && json_object_set(w->uses, iname, params) < 0)
		r = -ENOMEM;
	if (r == 0 && E->e->count == before) {
		r = json_object_set(in->consumers, w->name, params) < 0 ? -ENOMEM : 0;
		*ret = in;
	}
	json_decref(params);
	return r;
}

#define MAX_USES 50 /* the schema's maxEntries of /services/<name>/uses */

/* One enabled service: its uses, the waits they give, its env. */
static int wire_service(struct expand *E, const char *name, json_t *svc)
{
	const json_t *uses = json_object_get(svc, "uses");
	struct wiring w = {name, NULL};
	struct instance *waits[MAX_USES];
	size_t nwaits = 0;
	int r = 0;
	if (json_is_object(uses) && json_object_size(uses)) {
		if (!(w.uses = own(svc, "uses")))
			return -ENOMEM;
		const char *iname;
		json_t *c;
		EACH_MEMBER(w.uses, iname, c) {
			struct instance *in = NULL;
			(void)c;
			r = r ? r : use_one(E, &w, iname, &in);
			if (r == 0 && in && in->wait_port && nwaits < MAX_USES)
				waits[nwaits++] = in;
		}
	}
	if (r == 0)
		r = add_waits(svc, waits, nwaits);
	if (r == 0)
		r = wire_envs(E, &w, svc);
	return r;
}

/* ---- provisioning --------------------------------------------------------------------------- */

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The consumers of in by service name. A malloc'd array the caller frees (n in *ret_n). */
static const char **sorted_consumers(const struct instance *in, size_t *ret_n)
{
	size_t n = json_object_size(in->consumers), i = 0;
	const char **names = calloc(n + 1, sizeof *names);
	const char *key;
	json_t *v;
	EACH_MEMBER(in->consumers, key, v) {
		(void)v;
		if (names)
			names[i++] = key;
	}
	if (names)
		qsort(names, n, sizeof *names, by_str);
	*ret_n = n;
	return names;
}

/* The text of one provisioning file: head, each consumer's part, tail. */
static int file_text(struct expand *E, const struct instance *in, const json_t *f, const char **consumers, size_t n,
		     const char *const *at, struct buf *out)
{
	struct secret_cx sx = {in, NULL, SECRET_KEY, NULL};
	struct template_ctx ctx = ctx_of(in, &sx, NULL, NULL);
	int r = template_text(get_str(f, "head"), &ctx, out, E->e, at);
	for (size_t i = 0; r == 0 && i < n; i++) {
		sx.consumer = json_object_get(in->consumers, consumers[i]);
		struct template_ctx each = ctx_of(in, &sx, sx.consumer, consumers[i]);
		r = template_text(get_str(f, "each"), &each, out, E->e, at);
	}
	if (r == 0)
		r = template_text(get_str(f, "tail"), &ctx, out, E->e, at);
	return r;
}

/* The data of the ConfigMap <name>-provision: each file's text. */
static int provision_data(struct expand *E, const struct instance *in, const json_t *files, json_t **ret)
{
	size_t n = 0;
	const char **consumers = sorted_consumers(in, &n);
	json_t *data = json_object();
	int r = consumers && data ? 0 : -ENOMEM;
	const char *fname;
	json_t *f;
	EACH_MEMBER((json_t *)files, fname, f) {
		struct buf text;
		buf_init(&text, BUF_NO_MAX);
		r = r ? r : file_text(E, in, f, consumers, n, PTR("components", in->name), &text);
		if (r == 0)
			r = set_new(data, fname, json_string(buf_cstr(&text)));
		buf_release(&text);
	}
	free(consumers);
	if (r == 0)
		*ret = data;
	else
		json_decref(data);
	return r;
}

/* The keys a provisioning Job applies: the instance's secrets (optional ones when set)
 * and every consumer's own, as files of a volume {key: {"secret": key}}. */
static json_t *credential_files(const struct expand *E, const struct instance *in)
{
	json_t *files = json_object();
	const json_t *secrets = json_object_get(in->type->def, "secrets");
	const char *name, *service;
	json_t *s, *c;
	EACH_MEMBER((json_t *)secrets, name, s) {
		const char *key = get_str(in->params, get_str(s, "param"));
		bool optional = json_is_true(json_object_get(s, "optional"));
		if (files && key && !(optional && secret_unset(E, key)) && !switched_off(in, s) &&
		    json_object_set_new(files, key, json_pack("{s:s,s:s}", "secret", key, "mode", "0440")) < 0) {
			json_decref(files);
			files = NULL;
		}
	}
	EACH_MEMBER(in->consumers, service, c) {
		EACH_MEMBER((json_t *)secrets, name, s) {
			const char *key = get_str(c, get_str(s, "param"));
			if (files && key && !json_object_get(files, key) && !switched_off(in, s) &&
			    json_object_set_new(files, key, json_pack("{s:s,s:s}", "secret", key, "mode", "0440")) < 0) {
				json_decref(files);
				files = NULL;
			}
		}
	}
	return files;
}

/* The Job <name>-provision: the type's job, of kind Job, reading the credentials, waiting
 * for the instance, its pods annotated with the checksum of what it applies. */
static int provision_job(struct expand *E, struct instance *in, const json_t *prov, const json_t *data)
{
	struct secret_cx sx = {in, NULL, SECRET_KEY, NULL};
	struct template_ctx ctx = ctx_of(in, &sx, NULL, NULL);
	json_t *job = NULL, *gone = missing_optional(E, in), *files = credential_files(E, in);
	json_t *sum_of = json_pack("{s:O,s:s}", "files", data, "run", in->run ? in->run : "");
	char sum[65];
	int r = gone && files && sum_of ? template_expand(json_object_get(prov, "job"), &ctx, E->e,
							  PTR("components", in->name), &job)
					: -ENOMEM;
	if (r == 0 && !json_is_object(job))
		r = errp(E, PTR("components", in->name), NULL, "has a type whose provisioning job is not an object");
	if (r == 0)
		r = digest_json(sum_of, sum) < 0 ? -ENOMEM : 0;
	json_t *volumes = r == 0 && json_is_object(job) ? own(job, "volumes") : NULL;
	json_t *annotations = volumes ? own(job, "podAnnotations") : NULL;
	if (r == 0 && json_is_object(job) && !annotations)
		r = -ENOMEM;
	if (r == 0 && json_is_object(job)) {
		drop_missing(job, gone);
		r = set_new(job, "kind", json_string("Job"));
		if (r == 0 && json_object_size(files))
			r = set_new(volumes, "credentials", json_pack("{s:s,s:b,s:O}", "mountPath", COMPONENTS_CREDENTIALS_PATH,
									"readOnly", 1, "files", files));
		if (r == 0)
			r = set_new(annotations, "checksum/provision", json_string(sum));
		struct instance *self[] = {in};
		if (r == 0)
			r = add_waits(job, self, in->wait_port ? 1 : 0);
		json_t *labels = r == 0 ? own(job, "labels") : NULL;
		r = r ? r : labels ? set_new(labels, "app.kubernetes.io/component", json_string(get_str(in->type->def, "category")))
				   : -ENOMEM;
		struct buf name;
		buf_init(&name, BUF_NO_MAX);
		if (r == 0)
			r = BUF_PUTS(&name, in->name, "-provision");
		if (r == 0)
			r = add_named(E, in, "services", buf_cstr(&name), json_incref(job));
		buf_release(&name);
	}
	json_decref(job);
	json_decref(gone);
	json_decref(files);
	json_decref(sum_of);
	return r == TEMPLATE_EINVALID ? 0 : r < 0 ? -ENOMEM : 0;
}

/* The ConfigMap and the Job of a type with provisioning. */
static int provision(struct expand *E, struct instance *in)
{
	const json_t *prov = json_object_get(in->type->def, "provision");
	json_t *data = NULL;
	if (!json_is_object(prov))
		return 0;
	int r = provision_data(E, in, json_object_get(prov, "files"), &data);
	struct buf name;
	buf_init(&name, BUF_NO_MAX);
	if (r == 0)
		r = BUF_PUTS(&name, in->name, "-provision");
	if (r == 0)
		r = add_named(E, in, "extraObjects", buf_cstr(&name),
			      json_pack("{s:s,s:s,s:{s:s},s:O}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name",
					buf_cstr(&name), "data", data));
	if (r == 0)
		r = provision_job(E, in, prov, data);
	buf_release(&name);
	json_decref(data);
	return r == TEMPLATE_EINVALID ? 0 : r < 0 ? -ENOMEM : 0;
}

/* ---- the document ------------------------------------------------------------------------------ */

/* ${components.NAME.OUTPUT} in /config values. */
static int expand_config(struct expand *E)
{
	json_t *config = json_object_get(E->doc, "config");
	const char *key;
	json_t *v;
	int r = 0;
	EACH_MEMBER(config, key, v) {
		const char *s = json_string_value(v);
		if (r < 0 || !s || !strstr(s, PLACEHOLDER))
			continue;
		struct secret_cx sx = {NULL, NULL, SECRET_REFUSE, NULL};
		struct buf text;
		buf_init(&text, BUF_NO_MAX);
		r = expand_refs(E, NULL, s, &sx, PTR("config", key), &text);
		if (r == 0)
			r = json_object_set_new(config, key, json_string(buf_cstr(&text))) ? -ENOMEM : 0;
		r = r > 0 ? 0 : r;
		buf_release(&text);
	}
	return r;
}

static int expand_all(struct expand *E)
{
	json_t *components = json_object_get(E->doc, "components");
	const char *name;
	json_t *v;
	int r = 0;
	EACH_MEMBER(components, name, v) {
		(void)v;
		r = r ? r : prepare(E, components, name, &E->in[E->n++]);
	}
	for (size_t i = 0; r == 0 && i < E->n; i++)
		if (E->in[i].ok && E->in[i].enabled)
			r = add_workload(E, &E->in[i]);
	json_t *services = json_object_get(E->doc, "services");
	json_t *svc;
	EACH_MEMBER(services, name, svc) {
		if (r == 0 && json_is_object(svc) && !json_is_false(json_object_get(svc, "enabled")))
			r = wire_service(E, name, svc);
	}
	for (size_t i = 0; r == 0 && i < E->n; i++)
		if (E->in[i].ok && E->in[i].enabled)
			r = provision(E, &E->in[i]);
	if (r == 0)
		r = expand_config(E);
	return r;
}

int components_expand(json_t *doc, const struct catalog *cat, struct model_errors *errs)
{
	json_t *components = json_object_get(doc, "components");
	const char *type = get_str(json_object_get(doc, "secretSource"), "type");
	struct expand E = {doc, cat, errs, json_object_get(doc, "secrets"), !type || !strcmp(type, "inline"), NULL, 0};
	size_t n = json_is_object(components) ? json_object_size(components) : 0;
	if (!cat)
		return -ENOMEM;
	if (n && !(E.in = calloc(n, sizeof *E.in)))
		return -ENOMEM;
	int r = expand_all(&E);
	for (size_t i = 0; i < E.n; i++) {
		json_decref(E.in[i].params);
		json_decref(E.in[i].consumers);
		json_decref(E.in[i].wait);
		free(E.in[i].run);
	}
	free(E.in);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- problems of a workload, said of the component ---------------------------------------- */

/* The whole-value placeholder "${params.P}" that v is, P after "params." (borrowed), or NULL. */
static const char *param_of(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	if (n < 11 || strncmp(s, "${params.", 9) != 0 || s[n - 1] != '}' || strchr(s + 9, '}') != s + n - 1)
		return NULL;
	return s + 9;
}

/* The pointer of a problem at rest (a pointer into the service the template t became)
 * said of the params of instance iname: the longest prefix of rest at which t holds a
 * whole "${params.P}" becomes /components/<iname>/P (its '.' as '/'), the rest after it
 * kept. 1 and the pointer in out when it maps, else 0. */
static int map_pointer(const json_t *t, const char *iname, const char *rest, struct buf *out)
{
	const json_t *v = t;
	const char *s = rest;
	while (v && !param_of(v) && *s == '/') {
		const char *next = strchr(s + 1, '/');
		size_t n = next ? (size_t)(next - s - 1) : strlen(s + 1);
		v = json_is_object(v) ? json_object_getn(v, s + 1, n) : NULL;
		s += n + 1;
	}
	const char *p = param_of(v);
	if (!p)
		return 0;
	int r = buf_puts(out, "/components");
	if (r == 0)
		r = util_pointer_append(out, iname) ? -ENOMEM : 0;
	if (r == 0)
		r = buf_puts(out, "/");
	for (const char *c = p; r == 0 && *c != '}'; c++)
		r = buf_append(out, *c == '.' ? "/" : c, 1);
	if (r == 0)
		r = buf_puts(out, s);
	return r < 0 ? r : 1;
}

int components_point(const struct catalog *cat, const json_t *doc, struct model_errors *errs, size_t from)
{
	const json_t *components = json_object_get(doc, "components");
	for (size_t i = from; cat && i < errs->count; i++) {
		const char *p = errs->items[i].pointer;
		if (strncmp(p, "/services/", 10) != 0)
			continue;
		const char *slash = strchr(p + 10, '/');
		size_t n = slash ? (size_t)(slash - p - 10) : strlen(p + 10);
		bool job = n > 10 && strncmp(p + 10 + n - 10, "-provision", 10) == 0;
		char *iname = strndup(p + 10, job ? n - 10 : n);
		if (!iname)
			return -ENOMEM;
		const json_t *inst = json_object_get(components, iname);
		const struct catalog_type *t = json_is_object(inst) ? catalog_find(cat, get_str(inst, "type")) : NULL;
		const json_t *tmpl = !t || !t->def ? NULL
				     : job ? json_object_get(json_object_get(t->def, "provision"), "job")
					   : json_object_get(t->def, "workload");
		struct buf to;
		buf_init(&to, BUF_NO_MAX);
		int r = tmpl ? map_pointer(tmpl, iname, slash ? slash : "", &to) : 0;
		char *ptr = r == 1 ? buf_detach(&to, NULL) : NULL;
		if (r == 1 && ptr) {
			free(errs->items[i].pointer);
			errs->items[i].pointer = ptr;
		} else if (r == 0 && tmpl) {
			/* no param holds it: said of the workload, the component named */
			struct buf d;
			buf_init(&d, BUF_NO_MAX);
			r = BUF_PUTS(&d, errs->items[i].detail, " (the ", job ? "provisioning Job" : "workload",
				     " of component \"", iname, "\")");
			char *detail = r == 0 ? buf_detach(&d, NULL) : NULL;
			if (detail) {
				free(errs->items[i].detail);
				errs->items[i].detail = detail;
			}
			r = detail ? 0 : -ENOMEM;
			buf_release(&d);
		}
		buf_release(&to);
		free(iname);
		if (r < 0 || (r == 1 && !ptr))
			return -ENOMEM;
	}
	return 0;
}

/* import_stores: the manifests importer's datastores: a workload running an official
 * datastore image becomes a component of the catalog's type (importkit decides the type,
 * its tag, the secret keys and the consumer params alike for both importers), and the
 * services that reach its Service use it. Rules: include/import_manifests.h. */
#include "import_k8s.h"

#include <stdarg.h>
#include <stdlib.h>

#include "catalog.h"
#include "importkit.h"
#include "model.h"
#include "syntax.h"


/* One datastore being converted. */
struct store {
	struct imp *im;
	struct workload *w;
	const json_t *c;        /* its main container (borrowed) */
	char cptr[160];         /* the container's pointer in the object */
	const char *type;       /* the catalog type (static text) */
	json_t *inst;           /* the component (borrowed from the stack) */
	json_t *plan;           /* im->stores[name] (borrowed) */
	bool root_set, pass_set;
};

/* A value an env variable of the datastore takes: text (a literal, or a config or secret
 * value), and the secret key it comes from when it is one of the stack's secrets. */
struct env_value {
	const char *text; /* NULL: unknown (an object not in the input, a field) */
	const char *key;  /* the key of the stack's secrets, or NULL */
};

/* The container's pointer + suffix (and a number). */
static const char *at(struct store *s, char *out, size_t n, const char *suffix, size_t i)
{
	if (suffix)
		(void)snprintf(out, n, "%s/%s/%zu", s->cptr, suffix, i);
	else
		(void)snprintf(out, n, "%s", s->cptr);
	return out;
}

/* ---- which workloads ---- */

/* The datastore type of w's main container's image, or false. */
static bool store_of(const struct workload *w, struct importkit_datastore *ds, struct importkit_image *img)
{
	const char *kind = w->o->kind;
	if (strcmp(kind, "Deployment") != 0 && strcmp(kind, "StatefulSet") != 0)
		return false;
	const char *ref = str(json_array_get(member(w->pod, "containers"), w->main), "image");
	return ref && importkit_image_split(ref, img) && importkit_datastore(img->registry, img->repository, img->tag, ds);
}

/* ---- secrets and env ---- */

/* The param of the type's secret (rootPasswordSecret, passwordSecret), or NULL. */
static const char *secret_param(const char *type, const char *secret)
{
	const struct catalog_type *t = catalog_find(catalog_builtin(), type);
	return str(member(member(t ? t->def : NULL, "secrets"), secret), "param");
}

/* The type's secret (rootPassword, password) is the key of the stack's secrets that v
 * comes from, or a new key NAME-... holding its text (the placeholder when unknown). */
static void store_secret(struct store *s, const char *secret, const struct env_value *v, const char *ptr)
{
	struct imp *im = s->im;
	const char *param = secret_param(s->type, secret);
	if (!param)
		return;
	if (v && v->key) {
		set(im, s->inst, param, json_string(v->key));
		return;
	}
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	(void)oom(im, importkit_store_secret_key(s->w->name, secret, &key));
	bool given = v && v->text && *v->text;
	const char *text = given ? v->text : MODEL_PLACEHOLDER;
	if (!given)
		ik8s_guess(im, s->w->o, ptr, "gives no %s the import can read: the secret '%s' was set to \"%s\"; set the real one in the environment",
		           strcmp(secret, "password") == 0 ? "password" : "root password", buf_cstr(&key), MODEL_PLACEHOLDER);
	set(im, im->secrets_env, buf_cstr(&key), json_string(text));
	set(im, child(im, im->stack, "secrets"), buf_cstr(&key), json_string(""));
	buf_release(&key);
}

/* What the variable var (value v) of the datastore says, applied to the component. */
static void store_var(struct store *s, const char *var, const struct env_value *v, const char *ptr)
{
	struct imp *im = s->im;
	enum importkit_store_role role = importkit_store_role(var);
	bool root = importkit_role_sets(role, "rootPassword"), pass = importkit_role_sets(role, "password");
	const char *text = v->text;
	if (root || pass) {
		if (root && !s->root_set)
			store_secret(s, "rootPassword", v, ptr);
		if (pass && !s->pass_set)
			store_secret(s, "password", v, ptr);
		s->root_set |= root;
		s->pass_set |= pass;
	} else if (role == IMPORTKIT_ADMIN_USER && v->key) {
		ik8s_report(im, s->w->o, ptr, "comes from a Secret, whose values never go into the stack: the component '%s' has its type's administrator; set its user param (the consumers' user too)",
		            s->w->name);
	} else if (role == IMPORTKIT_ADMIN_USER && text && importkit_type_has(s->type, "params", "user") &&
		   importkit_db_identifier(text, 64)) {
		set(im, s->inst, "user", json_string(text));
	} else if ((role == IMPORTKIT_DATABASE || role == IMPORTKIT_USER) && text && importkit_db_identifier(text, 63)) {
		bool database = role == IMPORTKIT_DATABASE;
		set(im, s->plan, database ? "database" : "user", json_string(text));
		ik8s_guess(im, s->w->o, ptr, "becomes the %s of each service that uses the component '%s' (unless its own env names another)",
		           database ? "database" : "user", s->w->name);
	} else {
		ik8s_report(im, s->w->o, ptr, "is not carried over: the component '%s' (type %s) is configured by its params",
		            s->w->name, s->type);
	}
}

/* The value of a configMapKeyRef / secretKeyRef of a mapped object. */
static struct env_value ref_value(const struct imp *im, bool secret, const json_t *ref)
{
	const char *key = ik8s_doc_key(im, secret, str(ref, "name"), str(ref, "key") ? str(ref, "key") : "");
	struct env_value v = {NULL, secret ? key : NULL};
	if (key)
		v.text = str(secret ? im->secrets_env : im->config, key);
	return v;
}

/* Calls store_var for each variable of the datastore's env and envFrom (mapped objects). */
static void store_env(struct store *s, bool passwords)
{
	struct imp *im = s->im;
	char ptr[200], tmp[64];
	size_t i;
	json_t *e;
	json_array_foreach(member(s->c, "envFrom"), i, e) {
		bool secret = member(e, "secretRef") != NULL;
		const char *name = str(member(e, secret ? "secretRef" : "configMapRef"), "name");
		const char *var;
		json_t *key;
		json_object_foreach(member(secret ? im->secret_keys : im->cm_keys, name ? name : ""), var, key) {
			struct env_value v = {str(secret ? im->secrets_env : im->config, json_string_value(key)),
					      secret ? json_string_value(key) : NULL};
			enum importkit_store_role role = importkit_store_role(var);
			bool pw = importkit_role_sets(role, "rootPassword") || importkit_role_sets(role, "password");
			if (pw == passwords && !str(e, "prefix"))
				store_var(s, var, &v, at(s, ptr, sizeof ptr, "envFrom", i));
		}
	}
	json_array_foreach(member(s->c, "env"), i, e) {
		const char *var = str(e, "name");
		json_t *from = member(e, "valueFrom");
		struct env_value v = {scalar_text(member(e, "value"), tmp, sizeof tmp), NULL};
		if (member(from, "secretKeyRef") || member(from, "configMapKeyRef"))
			v = ref_value(im, member(from, "secretKeyRef") != NULL,
				      member(from, member(from, "secretKeyRef") ? "secretKeyRef" : "configMapKeyRef"));
		enum importkit_store_role role = var ? importkit_store_role(var) : IMPORTKIT_OTHER;
		bool pw = importkit_role_sets(role, "rootPassword") || importkit_role_sets(role, "password");
		if (var && pw == passwords)
			store_var(s, var, &v, at(s, ptr, sizeof ptr, "env", i));
	}
}

/* Whether the container's command or args set a password (--requirepass). */
static bool asks_password(const json_t *c)
{
	static const char *const keys[] = {"command", "args"};
	for (size_t k = 0; k < 2; k++) {
		size_t i;
		json_t *a;
		json_array_foreach(member(c, keys[k]), i, a)
			if (json_is_string(a) && strstr(json_string_value(a), "requirepass"))
				return true;
	}
	return false;
}

/* The secrets the type needs that the env did not give; a Redis given no password runs
 * without one (auth false). */
static void store_defaults(struct store *s)
{
	static const char *const secrets[] = {"rootPassword", "password"};
	char ptr[200];
	if (!s->pass_set && importkit_type_has(s->type, "params", "auth") && !asks_password(s->c)) {
		set(s->im, s->inst, "auth", json_false());
		ik8s_guess(s->im, s->w->o, at(s, ptr, sizeof ptr, NULL, 0),
		           "sets no password: the component '%s' runs without one (auth: false); only network policies protect it",
		           s->w->name);
		s->pass_set = true;
	}
	for (int i = 0; i < 2; i++)
		if (!(i ? s->pass_set : s->root_set))
			store_secret(s, secrets[i], NULL, at(s, ptr, sizeof ptr, NULL, 0));
}

/* ---- storage, resources, image ---- */

/* The claim template or PersistentVolumeClaim object the main container mounts, or NULL. */
static const json_t *claim_of(struct store *s)
{
	struct imp *im = s->im;
	size_t i, k;
	json_t *m, *t, *v;
	json_array_foreach(member(s->c, "volumeMounts"), i, m) {
		const char *name = str(m, "name");
		json_array_foreach(member(member(s->w->o->obj, "spec"), "volumeClaimTemplates"), k, t)
			if (name && str_is(member(t, "metadata"), "name", name))
				return t;
		json_array_foreach(member(s->w->pod, "volumes"), k, v) {
			const char *claim = str(member(v, "persistentVolumeClaim"), "claimName");
			if (!name || !claim || !str_is(v, "name", name))
				continue;
			for (size_t o = 0; o < im->nobjs; o++)
				if (strcmp(im->objs[o].kind, "PersistentVolumeClaim") == 0 && strcmp(im->objs[o].name, claim) == 0)
					return im->objs[o].obj;
		}
	}
	return NULL;
}

/* storage from the claim: size and className (the type's claim is ReadWriteOnce). */
static void store_storage(struct store *s)
{
	struct imp *im = s->im;
	const json_t *claim = claim_of(s);
	const json_t *spec = member(claim, "spec");
	char tmp[64];
	const char *size = scalar_text(member(member(member(spec, "resources"), "requests"), "storage"), tmp, sizeof tmp);
	const char *cls = str(spec, "storageClassName");
	const char *mode = json_string_value(json_array_get(member(spec, "accessModes"), 0));
	if (!importkit_type_has(s->type, "params", "storage"))
		return;
	json_t *storage = json_object();
	if (size && !syntax_quantity(size))
		set(im, storage, "size", json_string(size));
	if (cls && !syntax_dns_label(cls))
		set(im, storage, "className", json_string(cls));
	if (json_object_size(storage))
		set(im, s->inst, "storage", json_incref(storage));
	json_decref(storage);
	if (!claim)
		ik8s_guess(im, s->w->o, s->cptr, "keeps no data on a claim: the component '%s' keeps it on a claim of its type's default size (set storage.size)",
		           s->w->name);
	else if (mode && strcmp(mode, "ReadWriteOnce") != 0)
		ik8s_report(im, s->w->o, s->cptr, "its claim is %s: the component's is ReadWriteOnce", mode);
}

/* resources: cpu and memory as given; a limit alone is also the request, a request alone
 * also the limit. */
static void store_resources(struct store *s)
{
	static const char *const names[] = {"cpu", "memory"};
	struct imp *im = s->im;
	const json_t *res = member(s->c, "resources");
	json_t *out = json_object();
	for (size_t i = 0; i < 2; i++) {
		char t1[64], t2[64];
		const char *r = scalar_text(member(member(res, "requests"), names[i]), t1, sizeof t1);
		const char *l = scalar_text(member(member(res, "limits"), names[i]), t2, sizeof t2);
		r = r && !syntax_quantity(r) ? r : NULL;
		l = l && !syntax_quantity(l) ? l : NULL;
		if (r || l) {
			set(im, child(im, out, "requests"), names[i], json_string(r ? r : l));
			set(im, child(im, out, "limits"), names[i], json_string(l ? l : r));
		}
	}
	if (json_object_size(out))
		set(im, s->inst, "resources", json_incref(out));
	json_decref(out);
}

/* The tag made to fit the type, reported. */
static void store_tag(struct store *s, const struct importkit_datastore *ds, const struct importkit_image *img)
{
	char ptr[200];
	(void)snprintf(ptr, sizeof ptr, "%s/image", s->cptr);
	if (ds->why)
		ik8s_guess(s->im, s->w->o, ptr, "the component runs %s%s%s: %s",
		           ds->tag[0] ? img->repository : "the type's default image", ds->tag[0] ? ":" : "", ds->tag, ds->why);
}

/* ---- what surrounds it ---- */

/* The port numbers of the type's workload. */
static bool type_port(const char *type, long long n)
{
	const struct catalog_type *t = catalog_find(catalog_builtin(), type);
	const char *name;
	json_t *p;
	json_object_foreach(member(member(t ? t->def : NULL, "workload"), "ports"), name, p)
		if (int_of(p, "port", 1, 65535, 0) == n)
			return true;
	return false;
}

/* The Service in front: its ports must be the type's (the component's Service has those). */
static void store_service(struct store *s)
{
	struct object *svc = s->w->service;
	size_t i;
	json_t *p;
	json_array_foreach(member(member(svc ? svc->obj : NULL, "spec"), "ports"), i, p) {
		char ptr[64];
		long long n = int_of(p, "port", 1, 65535, 0);
		(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu", i);
		if (!type_port(s->type, n))
			ik8s_report(s->im, svc, ptr, "port %lld is not a port of the component '%s' (type %s), whose Service replaces this one: clients of this port lose it",
			            n, s->w->name, s->type);
	}
	if (svc)
		ik8s_guess(s->im, svc, NULL, "is the Service of the component '%s' (the same name; its ports are the type's)", s->w->name);
}

/* Services, autoscalers and budgets of the datastore's pods alone are not kept. */
static void drop_around(struct store *s)
{
	struct imp *im = s->im;
	size_t wl = (size_t)(s->w - im->wls);
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *o = &im->objs[i];
		const json_t *spec = member(o->obj, "spec"), *sel = NULL;
		const json_t *ref = member(spec, "scaleTargetRef");
		if (o->carried)
			continue;
		if (o->role == R_SERVICE)
			sel = member(spec, "selector");
		else if (o->role == R_PDB)
			sel = member(member(spec, "selector"), "matchLabels");
		size_t n, first = sel ? ik8s_selected(im, sel, &n) : NONE;
		bool hpa = o->role == R_HPA && str_is(ref, "kind", s->w->o->kind) && str_is(ref, "name", s->w->o->name);
		if (!hpa && (first != wl || n != 1))
			continue;
		o->carried = true;
		ik8s_report(im, o, NULL, "belongs to the datastore that became the component '%s': not kept (the component has its own Service and one pod)",
		            s->w->name);
	}
}

/* What of the pod the component does not carry over, reported. */
static void report_rest(struct store *s)
{
	static const char *const lists[] = {"initContainers", "containers"};
	struct imp *im = s->im;
	char ptr[200];
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(member(s->w->pod, lists[l]), i, c) {
			if (l == 1 && i == s->w->main)
				continue;
			(void)snprintf(ptr, sizeof ptr, "%s/%s/%zu", s->w->pod_ptr, lists[l], i);
			ik8s_report(im, s->w->o, ptr, "is not carried over: the component '%s' runs its type's container only", s->w->name);
		}
	}
	static const char *const replaced[] = {"command", "args", "readinessProbe", "livenessProbe", "startupProbe",
					       "securityContext", "volumeMounts", NULL};
	for (size_t k = 0; replaced[k]; k++) {
		if (!member(s->c, replaced[k]))
			continue;
		(void)snprintf(ptr, sizeof ptr, "%s/%s", s->cptr, replaced[k]);
		ik8s_report(im, s->w->o, ptr, "is not carried over: the component '%s' has its type's (its command, probes, uid and data volume)",
		            s->w->name);
	}
	static const char *const pod[] = {"nodeSelector", "tolerations", "affinity", "serviceAccountName",
					  "priorityClassName", "topologySpreadConstraints", NULL};
	for (size_t k = 0; pod[k]; k++) {
		if (!member(s->w->pod, pod[k]))
			continue;
		(void)snprintf(ptr, sizeof ptr, "%s/%s", s->w->pod_ptr, pod[k]);
		ik8s_report(im, s->w->o, ptr, "is not carried over: a component is scheduled as its type says");
	}
	if (int_of(member(s->w->o->obj, "spec"), "replicas", 0, 1000000, 1) > 1)
		ik8s_report(im, s->w->o, "/spec/replicas", "is not carried over: the component runs one pod");
}

/* The workload w becomes the component w->name. */
static void convert(struct imp *im, struct workload *w, const struct importkit_datastore *ds,
		    const struct importkit_image *img)
{
	struct store s = {.im = im, .w = w, .type = ds->type};
	s.c = json_array_get(member(w->pod, "containers"), w->main);
	(void)snprintf(s.cptr, sizeof s.cptr, "%s/containers/%zu", w->pod_ptr, w->main);
	json_t *components = child(im, im->stack, "components");
	(void)json_object_del(im->services, w->name);
	w->doc = NULL;
	w->store = true;
	set(im, components, w->name, importkit_store_instance(ds, img->repository));
	set(im, im->stores, w->name, json_pack("{s:s}", "type", ds->type));
	s.inst = member(components, w->name);
	s.plan = member(im->stores, w->name);
	if (!s.inst || !s.plan)
		return;
	ik8s_guess(im, w->o, NULL, "runs the datastore image %s: it is the component '%s' of the catalog's type %s (?datastores=workloads keeps it a workload)",
	           str(s.c, "image"), w->name, ds->type);
	store_tag(&s, ds, img);
	store_env(&s, true);
	store_env(&s, false);
	store_defaults(&s);
	store_storage(&s);
	store_resources(&s);
	store_service(&s);
	drop_around(&s);
	report_rest(&s);
}

void ik8s_plan_stores(struct imp *im)
{
	for (size_t i = 0; i < im->nwls && !im->keep_datastores && !im->rc; i++) {
		struct workload *w = &im->wls[i];
		struct importkit_datastore ds;
		struct importkit_image img;
		w->main = ik8s_main_container(w);
		if (store_of(w, &ds, &img))
			convert(im, w, &ds, &img);
	}
}

/* ---- consumers ---- */

/* Whether the text names the component's Service as a host. */
static bool names(const char *text, const char *host)
{
	return text && importkit_names_host(text, host);
}

struct consumer {
	struct imp *im;
	const char *host;
	struct importkit_db_guess g;
	bool hit;
};

/* One variable of the consumer (var = text): names the host? what database and user? */
static void consider(struct consumer *k, const char *var, const char *text)
{
	k->hit |= names(text, k->host);
	if (var && text)
		importkit_db_guess(&k->g, var, text);
}

/* The env, envFrom and (for init containers) command and args of container c. */
static void consider_container(struct consumer *k, const json_t *c, bool init)
{
	struct imp *im = k->im;
	char tmp[64];
	size_t i;
	json_t *e;
	json_array_foreach(member(c, "env"), i, e) {
		json_t *from = member(e, "valueFrom");
		const char *text = scalar_text(member(e, "value"), tmp, sizeof tmp);
		if (member(from, "secretKeyRef") || member(from, "configMapKeyRef"))
			text = ref_value(im, member(from, "secretKeyRef") != NULL,
					 member(from, member(from, "secretKeyRef") ? "secretKeyRef" : "configMapKeyRef")).text;
		consider(k, str(e, "name"), text);
	}
	json_array_foreach(member(c, "envFrom"), i, e) {
		bool secret = member(e, "secretRef") != NULL;
		const char *name = str(member(e, secret ? "secretRef" : "configMapRef"), "name");
		const char *var;
		json_t *key;
		json_object_foreach(member(secret ? im->secret_keys : im->cm_keys, name ? name : ""), var, key)
			consider(k, var, str(secret ? im->secrets_env : im->config, json_string_value(key)));
	}
	static const char *const argv[] = {"command", "args"};
	for (size_t a = 0; init && a < 2; a++)
		json_array_foreach(member(c, argv[a]), i, e)
			consider(k, NULL, json_string_value(e));
}

/* w uses the component name when its pods name its Service; true when it does. */
static bool wire(struct imp *im, struct workload *w, const char *name, const json_t *plan)
{
	static const char *const lists[] = {"initContainers", "containers"};
	struct consumer k = {.im = im, .host = name};
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(member(w->pod, lists[l]), i, c)
			consider_container(&k, c, l == 0);
	}
	if (!k.hit)
		return false;
	const char *type = str(plan, "type");
	if (!importkit_type_has(type, "consumer", "database"))
		memset(&k.g, 0, sizeof k.g); /* a broker's user is not a database user */
	set(im, child(im, w->doc, "uses"), name, importkit_use(type, &k.g, plan));
	ik8s_guess(im, w->o, NULL, "its pods name the Service '%s': the service uses the component '%s' (its pods wait for it in an init container wait-for-%s; its env is kept as it was)",
	           name, name, name);
	return true;
}

/* The workload that became the component name. */
static const struct workload *store_workload(const struct imp *im, const char *name)
{
	for (size_t i = 0; i < im->nwls; i++)
		if (im->wls[i].store && strcmp(im->wls[i].name, name) == 0)
			return &im->wls[i];
	return NULL;
}

void ik8s_wire_stores(struct imp *im)
{
	const char *name;
	json_t *plan;
	json_object_foreach(im->stores, name, plan) {
		bool used = false;
		for (size_t i = 0; i < im->nwls && !im->rc; i++)
			if (!im->wls[i].store)
				used |= wire(im, &im->wls[i], name, plan);
		const struct workload *w = store_workload(im, name);
		if (!used && w)
			ik8s_guess(im, w->o, NULL, "no service's env or config names the Service '%s': add the component to the uses of the services that connect to it (their pods then wait for it%s)",
			           name, importkit_type_has(str(plan, "type"), "consumer", "database") ? ", and get a database and user of their own" : "");
	}
}

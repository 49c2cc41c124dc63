/* import_manifests: Kubernetes YAML (a stream, kustomize or helm output, List objects)
 * turned into a stack document, an environment document and a report: the objects of
 * the stream, the namespace, the Services, config, secrets, Ingresses, autoscalers and
 * budgets around the workloads (import_pods.c maps each workload's pod), and what the
 * document cannot say carried in extraObjects and patches. Rules: the header. */
#include "import_manifests.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_k8s.h"
#include "importkit.h"
#include "model.h"
#include "schema.h"
#include "syntax.h"
#include "util.h"
#include "yamlin.h"

void import_manifests_result_release(struct import_manifests_result *r)
{
	if (!r)
		return;
	json_decref(r->stack);
	json_decref(r->environment);
	json_decref(r->report);
	*r = (struct import_manifests_result){0};
}

/* ==== the stream: objects, their roles, the namespace ==== */

static enum role role_of(const char *api, const char *kind)
{
	static const char *const apps[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", NULL};
	static const char *const extensions[] = {"Deployment", "DaemonSet", "ReplicaSet", NULL};
	const char *slash = strchr(api, '/');
	size_t glen = slash ? (size_t)(slash - api) : 0;
#define GROUP(g) (glen == sizeof(g) - 1 && strncmp(api, g, glen) == 0)
	if ((GROUP("apps") && is_one_of(kind, apps)) || (GROUP("extensions") && is_one_of(kind, extensions)) ||
	    (GROUP("batch") && (strcmp(kind, "Job") == 0 || strcmp(kind, "CronJob") == 0)))
		return R_WORKLOAD;
	if ((GROUP("networking.k8s.io") || GROUP("extensions")) && strcmp(kind, "Ingress") == 0)
		return R_INGRESS;
	if (GROUP("autoscaling") && strcmp(kind, "HorizontalPodAutoscaler") == 0)
		return R_HPA;
	if (GROUP("policy") && strcmp(kind, "PodDisruptionBudget") == 0)
		return R_PDB;
#undef GROUP
	if (strcmp(api, "v1") != 0)
		return R_EXTRA;
	static const struct {
		const char *kind;
		enum role role;
	} core[] = {{"ReplicationController", R_WORKLOAD}, {"Pod", R_WORKLOAD}, {"Service", R_SERVICE}, {"ConfigMap", R_CONFIGMAP},
		    {"Secret", R_SECRET}, {"ServiceAccount", R_ACCOUNT}, {"Namespace", R_NAMESPACE}};
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp(kind, core[i].kind) == 0)
			return core[i].role;
	return R_EXTRA;
}

static bool is_object(const json_t *v)
{
	return json_is_object(v) && json_is_string(json_object_get(v, "apiVersion")) &&
	       json_is_string(json_object_get(v, "kind"));
}

/* A List holds objects in items. */
static bool is_list(const json_t *v)
{
	const char *kind = str(v, "kind");
	size_t n = kind ? strlen(kind) : 0;
	return n >= 4 && strcmp(kind + n - 4, "List") == 0 && json_is_array(member(v, "items"));
}

static void add_object(struct imp *im, json_t *obj, const char *source, size_t doc, size_t item, bool in_list)
{
	struct object *o = &im->objs[im->nobjs++];
	*o = (struct object){.obj = obj, .source = source, .wl = NONE};
	if (in_list)
		(void)snprintf(o->where, sizeof o->where, "/%zu/items/%zu", doc, item);
	else
		(void)snprintf(o->where, sizeof o->where, "/%zu", doc);
	o->api = str(obj, "apiVersion");
	o->kind = str(obj, "kind");
	o->name = str(member(obj, "metadata"), "name");
	if (!o->name)
		o->name = "";
	o->role = role_of(o->api, o->kind);
}

/* Fills im->objs from the documents (Lists flattened); reports what is not an object. */
static int collect(struct imp *im, const json_t *spans, json_t *sources)
{
	size_t n = 0, i;
	json_t *d;
	json_array_foreach(im->docs, i, d)
		n += is_list(d) ? json_array_size(member(d, "items")) : 1;
	im->objs = calloc(n ? n : 1, sizeof *im->objs);
	if (!im->objs)
		return -ENOMEM;
	struct buf src;
	buf_init(&src, 4096);
	json_array_foreach(im->docs, i, d) {
		json_t *span = json_array_get(spans, i);
		buf_reset(&src);
		(void)oom(im, importkit_source_of(im->text, (size_t)json_integer_value(json_array_get(span, 0)),
						  (size_t)json_integer_value(json_array_get(span, 1)), &src));
		append(im, sources, json_string(buf_cstr(&src)));
		const char *source = src.len ? json_string_value(json_array_get(sources, i)) : NULL;
		if (json_is_null(d))
			continue;
		if (is_list(d)) {
			size_t k;
			json_t *item;
			json_array_foreach(member(d, "items"), k, item) {
				if (is_object(item)) {
					add_object(im, item, source, i, k, true);
					continue;
				}
				struct object at = {.kind = "List", .name = "", .source = source};
				(void)snprintf(at.where, sizeof at.where, "/%zu/items/%zu", i, k);
				ik8s_report(im, &at, NULL, "is not a Kubernetes object (no apiVersion and kind): skipped");
			}
		} else if (is_object(d)) {
			add_object(im, d, source, i, 0, false);
		} else {
			struct object at = {.kind = "document", .name = "", .source = source};
			(void)snprintf(at.where, sizeof at.where, "/%zu", i);
			ik8s_report(im, &at, NULL, "is not a Kubernetes object (no apiVersion and kind): skipped");
		}
	}
	buf_release(&src);
	return im->rc;
}

static bool same_group(const char *a, const char *b)
{
	const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
	return la == lb && strncmp(a, b, la) == 0;
}

/* An object that comes again later (same group, kind, namespace and name) is replaced by
 * the later one, as `kubectl apply` leaves it. */
static void drop_repeated(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *a = &im->objs[i];
		const char *ns = str(member(a->obj, "metadata"), "namespace");
		for (size_t k = i + 1; *a->name && a->role != R_SKIP && k < im->nobjs; k++) {
			const struct object *b = &im->objs[k];
			const char *ns2 = str(member(b->obj, "metadata"), "namespace");
			if (strcmp(a->kind, b->kind) == 0 && strcmp(a->name, b->name) == 0 && same_group(a->api, b->api) &&
			    (ns && ns2 ? strcmp(ns, ns2) == 0 : !ns && !ns2)) {
				ik8s_report(im, a, NULL, "the same object comes again at %s, which replaces it (as kubectl apply would)", b->where);
				a->role = R_SKIP;
				a->carried = true;
			}
		}
	}
}

/* The namespace the input's objects live in: the most common metadata.namespace, else
 * the one Namespace object's name; it goes into the environment. Objects elsewhere are
 * reported: a bundle has one namespace. */
static void pick_namespace(struct imp *im)
{
	json_t *counts = json_object();
	const char *ns_object = NULL, *best = NULL;
	json_int_t most = 0;
	for (size_t i = 0; i < im->nobjs && counts; i++) {
		const struct object *o = &im->objs[i];
		const char *ns = str(member(o->obj, "metadata"), "namespace");
		if (o->role == R_NAMESPACE && !ns_object)
			ns_object = o->name;
		if (!ns || schema_kind_cluster_scoped(o->kind))
			continue;
		json_int_t n = json_integer_value(json_object_get(counts, ns)) + 1;
		set(im, counts, ns, json_integer(n));
		if (n > most)
			most = n, best = str(member(o->obj, "metadata"), "namespace");
	}
	im->ns = best ? best : ns_object;
	json_decref(counts);
	if (!im->ns)
		return;
	if (syntax_dns_label(im->ns)) {
		ik8s_report(im, &im->objs[0], NULL, "the namespace '%s' is not a DNS label: the bundle's namespace is <stack>-<environment>", im->ns);
		im->ns = NULL;
		return;
	}
	set(im, im->env, "namespace", json_string(im->ns));
	for (size_t i = 0; i < im->nobjs; i++) {
		const struct object *o = &im->objs[i];
		const char *ns = str(member(o->obj, "metadata"), "namespace");
		if (ns && strcmp(ns, im->ns) != 0 && !schema_kind_cluster_scoped(o->kind))
			ik8s_report(im, o, "/metadata/namespace",
			            "a bundle has one namespace: this object moves from '%s' to the environment's ('%s')", ns, im->ns);
	}
}

/* ==== workloads and the Services in front of them ==== */

/* Every pair of selector (a map) is among labels; an empty selector selects nothing. */
static bool selects(const json_t *selector, const json_t *labels)
{
	if (!json_is_object(selector) || json_object_size(selector) == 0)
		return false;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)selector, k, v) {
		json_t *have = json_object_get(labels, k);
		if (!json_is_string(have) || !json_is_string(v) || strcmp(json_string_value(have), json_string_value(v)) != 0)
			return false;
	}
	return true;
}

size_t ik8s_selected(const struct imp *im, const json_t *selector, size_t *ret_count)
{
	size_t first = NONE, n = 0;
	for (size_t i = 0; i < im->nwls; i++) {
		if (selects(selector, im->wls[i].labels)) {
			n++;
			if (first == NONE)
				first = i;
		}
	}
	*ret_count = n;
	return first;
}

/* The apiVersion manifestd renders a workload kind with. */
static const char *w_api(const char *kind)
{
	if (strcmp(kind, "Job") == 0 || strcmp(kind, "CronJob") == 0)
		return "batch/v1";
	return strcmp(kind, "ReplicationController") == 0 ? "v1" : "apps/v1";
}

/* A workload the document can hold: a pod template with at least one container (a bare
 * Pod is its own template). */
static bool plan_workload(struct imp *im, struct object *o)
{
	bool cron = strcmp(o->kind, "CronJob") == 0, bare = ik8s_bare_pod(o);
	json_t *spec = member(o->obj, "spec");
	json_t *tmpl = bare ? o->obj : member(cron ? member(member(spec, "jobTemplate"), "spec") : spec, "template");
	json_t *pod = member(tmpl, "spec");
	json_t *containers = member(pod, "containers");
	if (!json_is_array(containers) || json_array_size(containers) == 0 ||
	    !json_is_object(json_array_get(containers, 0))) {
		ik8s_report(im, o, NULL, "has no pod template with containers: carried as an extra object");
		o->role = R_EXTRA;
		return false;
	}
	const char *served = w_api(o->kind);
	if (!bare && strcmp(o->api, served) != 0)
		ik8s_report(im, o, "/apiVersion", "is rendered with today's apiVersion %s", served);
	struct workload *w = &im->wls[im->nwls++];
	*w = (struct workload){.o = o, .tmpl = tmpl, .pod = pod, .labels = member(member(tmpl, "metadata"), "labels")};
	w->pod_ptr = cron ? "/spec/jobTemplate/spec/template/spec" : "/spec/template/spec";
	const char *restart = str(pod, "restartPolicy");
	w->job = cron || strcmp(o->kind, "Job") == 0 ||
		 (bare && restart && (strcmp(restart, "Never") == 0 || strcmp(restart, "OnFailure") == 0));
	w->merge = json_object();
	w->ops = json_array();
	w->ports = json_object();
	if (!w->merge || !w->ops || !w->ports)
		(void)oom(im, -ENOMEM);
	o->carried = true;
	return true;
}

/* Services onto the workloads whose pods they select: one per workload (the one named
 * like it, else the first), with ports; the others stay extra objects. */
static void match_services(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *o = &im->objs[i];
		json_t *spec = member(o->obj, "spec");
		if (o->role != R_SERVICE || json_array_size(member(spec, "ports")) == 0)
			continue;
		size_t n, wl = ik8s_selected(im, member(spec, "selector"), &n);
		if (n > 1)
			ik8s_report(im, o, "/spec/selector",
			            "selects the pods of %zu workloads: kept as an extra object (its selector's labels stay on their pods)", n);
		if (n != 1 || im->wls[wl].job)
			continue;
		o->wl = wl;
		struct workload *w = &im->wls[wl];
		if (!w->service || (strcmp(o->name, w->o->name) == 0 && strcmp(w->service->name, w->o->name) != 0))
			w->service = o;
	}
	for (size_t i = 0; i < im->nwls; i++)
		if (im->wls[i].service)
			im->wls[i].service->carried = true;
}

/* A Service named SERVICE-headless that selects a StatefulSet's pods is the one manifestd
 * renders for it (its pods' DNS names): the input's is not kept as well. */
static void match_headless(struct imp *im)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		struct object *o = &im->objs[i];
		if (o->role != R_SERVICE || o->carried)
			continue;
		size_t n, wl = ik8s_selected(im, member(member(o->obj, "spec"), "selector"), &n);
		if (n != 1 || strcmp(im->wls[wl].o->kind, "StatefulSet") != 0)
			continue;
		char want[80];
		(void)snprintf(want, sizeof want, "%s-headless", im->wls[wl].name);
		if (strcmp(o->name, want) != 0)
			continue;
		o->carried = true;
		ik8s_report(im, o, NULL, "is the headless Service manifestd renders for the StatefulSet '%s' (with the service's ports, publishing not-ready pods)",
		            im->wls[wl].name);
	}
}

/* The document's name of each workload: its Service's (the name other pods reach it by),
 * else its own, made a DNS label starting with a letter and unique. */
static void name_workloads(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		struct workload *w = &im->wls[i];
		const char *base = w->service ? w->service->name : w->o->name;
		char label[64];
		ik8s_label_of(*base ? base : str(member(w->o->obj, "metadata"), "generateName"), true, label);
		if (!*label)
			(void)snprintf(label, sizeof label, "service-%zu", i + 1);
		ik8s_unique_key(im->services, label, w->name);
		set(im, im->services, w->name, json_object());
		w->doc = json_object_get(im->services, w->name);
		if (!*base)
			ik8s_report(im, w->o, "/metadata", "has no name (a bundle is applied again and again): it is '%s'", w->name);
		else if (strcmp(w->name, base) != 0)
			ik8s_report(im, w->o, "/metadata/name",
			            "'%s' cannot be a service name here (a DNS label starting with a letter, unique): it is '%s'",
			            base, w->name);
		else if (w->service && strcmp(w->o->name, w->name) != 0)
			ik8s_report(im, w->o, "/metadata/name",
			            "is named '%s' here, like its Service, which other pods reach it by (one name for both)", w->name);
	}
}

/* ==== ConfigMaps and Secrets: the stack's config and secrets ==== */

/* Notes in cms and secrets the ConfigMaps and Secrets the containers of pod read. */
static void note_reads(struct imp *im, const json_t *pod, json_t *cms, json_t *secrets)
{
	static const char *const lists[] = {"initContainers", "containers"};
	for (size_t l = 0; l < 2; l++) {
		size_t i, k;
		json_t *c, *e;
		json_array_foreach(member(pod, lists[l]), i, c) {
			json_array_foreach(member(c, "env"), k, e) {
				json_t *from = member(e, "valueFrom");
				const char *cm = str(member(from, "configMapKeyRef"), "name");
				const char *sec = str(member(from, "secretKeyRef"), "name");
				if (cm)
					set(im, cms, cm, json_true());
				if (sec)
					set(im, secrets, sec, json_true());
			}
			json_array_foreach(member(c, "envFrom"), k, e) {
				const char *cm = str(member(e, "configMapRef"), "name");
				const char *sec = str(member(e, "secretRef"), "name");
				if (cm)
					set(im, cms, cm, json_true());
				if (sec)
					set(im, secrets, sec, json_true());
			}
		}
	}
	size_t i, k;
	json_t *v, *s;
	json_array_foreach(member(pod, "volumes"), i, v) {
		const char *cm = str(member(v, "configMap"), "name");
		const char *sec = str(member(v, "secret"), "secretName");
		if (cm)
			set(im, cms, cm, json_true());
		if (sec)
			set(im, secrets, sec, json_true());
		json_array_foreach(member(member(v, "projected"), "sources"), k, s) {
			cm = str(member(s, "configMap"), "name");
			sec = str(member(s, "secret"), "name");
			if (cm)
				set(im, cms, cm, json_true());
			if (sec)
				set(im, secrets, sec, json_true());
		}
	}
}

/* The key for value in values (the stack's config or the environment's secrets): key
 * itself when free or holding the same value, else OBJECT-key (then -2, -3...). The
 * value is stored under it; the key is left in out. */
static void place_key(struct imp *im, json_t *values, const char *object, const char *key,
		      const char *value, struct buf *out)
{
	json_t *have = json_object_get(values, key);
	buf_reset(out);
	(void)oom(im, buf_puts(out, key));
	if (have && strcmp(json_string_value(have), value) != 0) {
		buf_reset(out);
		(void)oom(im, BUF_PUTS(out, object, "-", key));
		size_t len = out->len;
		for (int i = 2; json_object_get(values, buf_cstr(out)); i++) {
			buf_truncate(out, len);
			(void)oom(im, buf_printf(out, "-%d", i));
		}
	}
	if (!json_object_get(values, buf_cstr(out)))
		set(im, values, buf_cstr(out), json_string(value));
}

/* The text of a Secret's data value: its base64 decoded when that is UTF-8 text, else
 * (reported) the value as written. */
static const char *secret_text(struct imp *im, const struct object *o, const char *ptr, const char *b64,
			       struct buf *decoded)
{
	buf_reset(decoded);
	int r = util_base64_decode_append(decoded, b64, strlen(b64));
	if (r == 0 && util_is_utf8(buf_cstr(decoded), decoded->len))
		return buf_cstr(decoded);
	(void)oom(im, r == -EINVAL ? 0 : r);
	ik8s_report(im, o, ptr, "is not base64 of UTF-8 text: its secret value is the text as written");
	return b64;
}

/* Maps one ConfigMap (data) or Secret (stringData, then data base64-decoded: stringData
 * wins, as in Kubernetes) into values, noting key -> document key in keys[name]. */
static void map_values(struct imp *im, struct object *o, bool secret, json_t *values, json_t *keys)
{
	json_t *map = json_object();
	set(im, keys, o->name, map);
	const char *members[] = {"data", "stringData"};
	struct buf ptr, decoded, out;
	buf_init(&ptr, BUF_NO_MAX);
	buf_init(&decoded, BUF_NO_MAX);
	buf_init(&out, BUF_NO_MAX);
	for (size_t m = secret ? 2 : 1; m-- > 0 && !im->rc;) {
		const char *key;
		json_t *v;
		json_object_foreach(member(o->obj, members[m]), key, v) {
			char tmp[64];
			const char *text = scalar_text(v, tmp, sizeof tmp);
			buf_reset(&ptr);
			step(im, &ptr, members[m]);
			step(im, &ptr, key);
			if (json_object_get(map, key))
				continue;
			if (!text || syntax_key(key)) {
				ik8s_report(im, o, buf_cstr(&ptr), "is not a key with a text value: not mapped");
				continue;
			}
			if (secret && m == 0)
				text = secret_text(im, o, buf_cstr(&ptr), text, &decoded);
			place_key(im, values, o->name, key, text, &out);
			if (strcmp(buf_cstr(&out), key) != 0)
				ik8s_report(im, o, buf_cstr(&ptr),
				            "the key '%s' holds another value in an earlier %s: here it is '%s' (references follow)",
				            key, secret ? "Secret" : "ConfigMap", buf_cstr(&out));
			set(im, map, key, json_string(buf_cstr(&out)));
		}
	}
	buf_release(&ptr);
	buf_release(&decoded);
	buf_release(&out);
}

static bool has_values(const json_t *obj)
{
	return json_object_size(member(obj, "data")) + json_object_size(member(obj, "stringData")) > 0;
}

/* ConfigMaps that workloads read become the stack's config (those with binaryData stay
 * whole); Secrets with values give them to the environment's secrets (the stack gets the
 * keys with ""), whether read or not: a Secret's values never go into the stack. */
static void map_config_and_secrets(struct imp *im)
{
	json_t *cms = json_object(), *secrets = json_object();
	for (size_t i = 0; i < im->nwls; i++)
		note_reads(im, im->wls[i].pod, cms, secrets);
	json_t *stack_secrets = child(im, im->stack, "secrets");
	for (size_t i = 0; i < im->nobjs && !im->rc; i++) {
		struct object *o = &im->objs[i];
		bool big = !ik8s_fits(member(o->obj, "data"), 3) || !ik8s_fits(member(o->obj, "stringData"), 3);
		if ((o->role == R_CONFIGMAP || o->role == R_SECRET) && big) {
			ik8s_report(im, o, NULL, "holds a value longer than %d bytes, more than a document holds: not kept (create it in the cluster; references to it stay)",
			            MODEL_MAX_STRING);
			o->carried = true;
		} else if (o->role == R_CONFIGMAP && json_object_get(cms, o->name) && !member(o->obj, "binaryData")) {
			map_values(im, o, false, im->config, im->cm_keys);
			o->carried = true;
		} else if (o->role == R_CONFIGMAP && json_object_get(cms, o->name)) {
			ik8s_report(im, o, "/binaryData",
			            "binary values cannot be the stack's config: the ConfigMap is carried whole as an extra object");
		} else if (o->role == R_SECRET && has_values(o->obj)) {
			map_values(im, o, true, im->secrets_env, im->secret_keys);
			o->carried = true;
			const char *type = str(o->obj, "type");
			if (!json_object_get(secrets, o->name))
				ik8s_report(im, o, NULL,
				            "is not read by a workload's env or volumes here: its values are kept, encrypted, in the environment's secrets, but no Secret '%s' is rendered (its values never go into the stack document): create it in the cluster",
				            o->name);
			else if (type && strcmp(type, "Opaque") != 0)
				ik8s_report(im, o, "/type", "its values are in the stack's Secret, which is of type Opaque");
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach(im->secrets_env, key, v)
		set(im, stack_secrets, key, json_string(""));
	json_decref(cms);
	json_decref(secrets);
}

/* ==== entry points, autoscaling, disruption budgets ==== */

/* The workload whose Service is named name, or NULL. */
static struct workload *by_service(struct imp *im, const char *name)
{
	for (size_t i = 0; name && i < im->nwls; i++)
		if (im->wls[i].service && !im->wls[i].store && strcmp(im->wls[i].service->name, name) == 0)
			return &im->wls[i];
	return NULL;
}

/* The document port of w that the Service port port (a number, or a name) is. */
static const char *service_port(const struct workload *w, const json_t *port)
{
	if (json_is_string(port)) {
		char key[128];
		(void)snprintf(key, sizeof key, "service/%s", json_string_value(port));
		return str(member(w->ports, key), "name");
	}
	const char *k;
	json_t *p;
	json_object_foreach(member(w->doc, "ports"), k, p)
		if (json_equal(member(p, "port"), port))
			return k;
	return NULL;
}

struct ingress_plan {
	json_t *rules;   /* the document's rules so far */
	json_t *seen;    /* "host path pathType" of them */
	const char *why; /* why the Ingress cannot be mapped */
};

/* One path of a rule as a document rule into ip->rules; false (ip->why) when it cannot be. */
static bool ingress_path(struct imp *im, struct ingress_plan *ip, const char *host, const json_t *p, bool legacy)
{
	const json_t *b = member(p, "backend");
	const char *svc = legacy ? str(b, "serviceName") : str(member(b, "service"), "name");
	const json_t *port = legacy ? member(b, "servicePort") : member(member(member(b, "service"), "port"), "number");
	if (!legacy && !port)
		port = member(member(member(b, "service"), "port"), "name");
	struct workload *w = by_service(im, svc);
	const char *pname = w ? service_port(w, port) : NULL;
	const char *path = str(p, "path"), *type = str(p, "pathType");
	if (!pname) {
		ip->why = "a backend is not the Service of a mapped workload, or not one of its ports";
		return false;
	}
	if ((path && syntax_http_path(path)) || (host && *host && syntax_host(host))) {
		ip->why = "a host or path is not of the form the document takes";
		return false;
	}
	char seen[2048];
	(void)snprintf(seen, sizeof seen, "%s %s %s", host ? host : "", path ? path : "/", type ? type : "ImplementationSpecific");
	if (member(ip->seen, seen)) {
		ip->why = "two rules have the same host, path and path type";
		return false;
	}
	set(im, ip->seen, seen, json_true());
	json_t *rule = json_pack("{s:s, s:s}", "service", w->name, "port", pname);
	if (rule && host && *host)
		set(im, rule, "host", json_string(host));
	if (rule && path && strcmp(path, "/") != 0)
		set(im, rule, "path", json_string(path));
	if (rule && (!type || strcmp(type, "Prefix") != 0))
		set(im, rule, "pathType", json_string(type ? type : "ImplementationSpecific"));
	char id[64];
	ik8s_unique_key(ip->rules, w->name, id);
	set(im, ip->rules, id, rule);
	return true;
}

/* TLS entries onto the rules of their hosts. */
static bool ingress_tls(struct imp *im, struct object *o, struct ingress_plan *ip, json_t *rules)
{
	size_t i, k;
	json_t *t, *h;
	json_array_foreach(member(member(o->obj, "spec"), "tls"), i, t) {
		const char *secret = str(t, "secretName");
		char ptr[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/tls/%zu", i);
		if (secret && syntax_dns_label(secret)) {
			ip->why = "a TLS secret name is not a DNS label";
			return false;
		}
		if (!secret)
			ik8s_report(im, o, ptr, "names no Secret (the controller's default certificate): here the rules' secret is <stack>-tls");
		json_array_foreach(member(t, "hosts"), k, h) {
			bool found = false;
			const char *id;
			json_t *r;
			json_object_foreach(rules, id, r) {
				if (!str(r, "host") || !json_is_string(h) || strcmp(str(r, "host"), json_string_value(h)) != 0)
					continue;
				found = true;
				json_t *tls = json_pack("{s:b}", "enabled", 1);
				if (tls && secret)
					set(im, tls, "secretName", json_string(secret));
				set(im, r, "tls", tls);
			}
			if (!found)
				ik8s_report(im, o, ptr, "names a host no rule of this Ingress has: not kept");
		}
	}
	return true;
}

/* An Ingress as rules of the document's one Ingress (when its class and annotations are
 * those of the Ingresses mapped before it), else an extra object. */
static void map_ingress(struct imp *im, struct object *o, bool *mapped_one)
{
	json_t *spec = member(o->obj, "spec"), *meta = member(o->obj, "metadata");
	bool legacy = strcmp(o->api, "networking.k8s.io/v1") != 0;
	json_t *ingress = child(im, im->stack, "ingress");
	json_t *ann = ik8s_own_annotations(im, member(meta, "annotations"));
	const char *cls = str(spec, "ingressClassName");
	if (!cls && ann) {
		cls = str(member(meta, "annotations"), "kubernetes.io/ingress.class");
		(void)json_object_del(ann, "kubernetes.io/ingress.class");
	}
	struct ingress_plan ip = {json_object(), json_object(), NULL};
	const char *key;
	json_t *r;
	json_object_foreach(member(ingress, "rules"), key, r) {
		char seen[2048];
		(void)snprintf(seen, sizeof seen, "%s %s %s", str(r, "host") ? str(r, "host") : "",
			       str(r, "path") ? str(r, "path") : "/", str(r, "pathType") ? str(r, "pathType") : "Prefix");
		set(im, ip.seen, seen, json_true());
		set(im, ip.rules, key, json_incref(r));
	}
	size_t before = json_object_size(ip.rules);
	if (member(spec, "defaultBackend") || member(spec, "backend"))
		ip.why = "the document has no default backend";
	size_t i, k;
	json_t *rule, *p;
	json_array_foreach(member(spec, "rules"), i, rule) {
		if (!json_array_size(member(member(rule, "http"), "paths")))
			ip.why = "a rule has no paths";
		json_array_foreach(member(member(rule, "http"), "paths"), k, p)
			if (!ip.why)
				(void)ingress_path(im, &ip, str(rule, "host"), p, legacy);
	}
	if (*mapped_one && !ip.why) {
		const char *have = str(ingress, "className");
		bool same_ann = ann ? json_equal(ann, member(ingress, "annotations")) : !member(ingress, "annotations");
		bool same_cls = cls && have ? strcmp(cls, have) == 0 : !cls && !have;
		if (!same_ann || !same_cls)
			ip.why = "its class or annotations differ from the Ingress mapped before it";
	}
	json_t *fresh = json_object();
	json_object_foreach(ip.rules, key, r)
		if (!member(member(ingress, "rules"), key))
			set(im, fresh, key, json_incref(r));
	if (!ip.why && json_object_size(ip.rules) == before)
		ip.why = "it has no rules";
	if (!ip.why)
		(void)ingress_tls(im, o, &ip, fresh);
	if (ip.why) {
		ik8s_report(im, o, NULL, "is carried as an extra object: %s", ip.why);
	} else {
		o->carried = true;
		json_object_foreach(fresh, key, r)
			set(im, child(im, ingress, "rules"), key, json_incref(r));
		if (!*mapped_one) {
			if (ann)
				set(im, ingress, "annotations", json_incref(ann));
			if (cls && !syntax_dns_label(cls))
				set(im, ingress, "className", json_string(cls));
			else
				ik8s_report(im, o, "/spec", "names no ingress class (the cluster's default): the document's is nginx");
		}
		*mapped_one = true;
		ik8s_report(im, o, NULL, "its rules are the stack's entry points: the Ingress is rendered as <stack>%s",
		            json_object_size(member(meta, "labels")) ? " (its labels are not kept)" : "");
	}
	json_decref(ann);
	json_decref(fresh);
	json_decref(ip.rules);
	json_decref(ip.seen);
}

/* The workload kind/name refers to, or NULL. */
static struct workload *by_object(struct imp *im, const char *kind, const char *name)
{
	for (size_t i = 0; kind && name && i < im->nwls; i++)
		if (!im->wls[i].store && strcmp(im->wls[i].o->kind, kind) == 0 && strcmp(im->wls[i].o->name, name) == 0)
			return &im->wls[i];
	return NULL;
}

static void object_patch(struct imp *im, struct workload *w, const char *what, const char *kind, json_t *merge,
			 struct object *o)
{
	char name[64];
	ik8s_patch_name(w, what, name);
	set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:o}", "target", "kind", kind, "name", w->name, "merge", merge));
	ik8s_report(im, o, NULL, "what the document cannot say of it is carried by the patch '%s'", name);
}

/* A HorizontalPodAutoscaler of a mapped Deployment or StatefulSet: the service's
 * autoscaling (a CPU utilisation target); other metrics and behavior are carried. */
static void map_hpa(struct imp *im, struct object *o)
{
	json_t *spec = member(o->obj, "spec"), *ref = member(spec, "scaleTargetRef");
	struct workload *w = by_object(im, str(ref, "kind"), str(ref, "name"));
	bool v2 = strcmp(o->api, "autoscaling/v2") == 0 || strcmp(o->api, "autoscaling/v2beta2") == 0;
	long long max = int_of(spec, "maxReplicas", 1, 1000, 0), min = int_of(spec, "minReplicas", 1, 1000, 1);
	if (!w || w->job || str_is(w->doc, "kind", "DaemonSet") || !max ||
	    min > max || json_object_get(w->doc, "autoscaling") || !(v2 || strcmp(o->api, "autoscaling/v1") == 0))
		return;
	long long cpu = int_of(spec, "targetCPUUtilizationPercentage", 1, 100, -1);
	json_t *metrics = member(spec, "metrics");
	json_t *target = member(member(json_array_get(metrics, 0), "resource"), "target");
	if (v2 && json_array_size(metrics) == 1 && str_is(member(json_array_get(metrics, 0), "resource"), "name", "cpu") &&
	    str_is(target, "type", "Utilization"))
		cpu = int_of(target, "averageUtilization", 1, 100, -1);
	json_t *a = json_pack("{s:b, s:I, s:I}", "enabled", 1, "minReplicas", (json_int_t)min, "maxReplicas", (json_int_t)max);
	if (a && cpu > 0)
		set(im, a, "targetCPUUtilization", json_integer(cpu));
	set(im, w->doc, "autoscaling", a);
	w->multi |= max > 1;
	o->carried = true;
	json_t *patch = json_object();
	if (v2 && cpu < 0 && metrics)
		set(im, child(im, patch, "spec"), "metrics", json_deep_copy(metrics));
	if (v2 && member(spec, "behavior"))
		set(im, child(im, patch, "spec"), "behavior", json_deep_copy(member(spec, "behavior")));
	if (json_object_size(patch))
		object_patch(im, w, "hpa", "HorizontalPodAutoscaler", patch, o);
	else
		json_decref(patch);
	if (strcmp(o->name, w->name) != 0)
		ik8s_report(im, o, "/metadata/name", "is the autoscaling of the service '%s' (the HorizontalPodAutoscaler is named like it)", w->name);
}

/* A PodDisruptionBudget of one workload that can run more than one pod: its
 * disruptionBudget (minAvailable and the rest are carried). */
static void map_pdb(struct imp *im, struct object *o)
{
	json_t *spec = member(o->obj, "spec"), *sel = member(spec, "selector");
	size_t n, wl = json_object_size(sel) == 1 ? ik8s_selected(im, member(sel, "matchLabels"), &n) : NONE;
	if (wl == NONE || n != 1 || im->wls[wl].store || !im->wls[wl].multi || json_object_get(im->wls[wl].doc, "disruptionBudget"))
		return;
	struct workload *w = &im->wls[wl];
	json_t *max = member(spec, "maxUnavailable");
	json_t *budget = json_object();
	if (json_is_integer(max) && json_integer_value(max) >= 1 && json_integer_value(max) <= 1000)
		set(im, budget, "maxUnavailable", json_incref(max));
	else if (json_is_string(max) && strlen(json_string_value(max)) <= 4 && strchr(json_string_value(max), '%'))
		set(im, budget, "maxUnavailable", json_incref(max));
	set(im, w->doc, "disruptionBudget", budget);
	o->carried = true;
	json_t *patch = json_object();
	json_t *p_spec = child(im, patch, "spec");
	if (member(spec, "minAvailable")) {
		set(im, p_spec, "minAvailable", json_deep_copy(member(spec, "minAvailable")));
		set(im, p_spec, "maxUnavailable", json_null());
	} else if (max && !json_object_size(budget)) {
		set(im, p_spec, "maxUnavailable", json_deep_copy(max));
	}
	if (member(spec, "unhealthyPodEvictionPolicy"))
		set(im, p_spec, "unhealthyPodEvictionPolicy", json_deep_copy(member(spec, "unhealthyPodEvictionPolicy")));
	if (json_object_size(p_spec))
		object_patch(im, w, "pdb", "PodDisruptionBudget", patch, o);
	else
		json_decref(patch);
	if (strcmp(o->name, w->name) != 0)
		ik8s_report(im, o, "/metadata/name", "is the disruption budget of the service '%s' (named like it)", w->name);
}

/* ==== extra objects ==== */

/* A label selector (a map) that names labels manifestd sets on pods itself selects them by
 * the service's name instead (with the other pairs kept). false when it cannot. */
static bool fix_selector(struct imp *im, json_t *sel)
{
	bool reserved = false;
	const char *k;
	json_t *v;
	json_object_foreach(sel, k, v)
		reserved |= ik8s_reserved_label(k);
	if (!reserved)
		return true;
	size_t n, wl = ik8s_selected(im, sel, &n);
	void *tmp;
	json_object_foreach_safe(sel, tmp, k, v)
		if (ik8s_reserved_label(k))
			(void)json_object_del(sel, k);
	if (n == 1)
		set(im, sel, "app.kubernetes.io/name", json_string(im->wls[wl].name));
	return json_object_size(sel) > 0;
}

/* The selector of a carried object that picks pods: a Service's, a PDB's, a NetworkPolicy's. */
static void fix_selectors(struct imp *im, const struct object *o, json_t *obj)
{
	json_t *spec = member(obj, "spec"), *sel = NULL;
	if (strcmp(o->kind, "Service") == 0)
		sel = member(spec, "selector");
	else if (strcmp(o->kind, "PodDisruptionBudget") == 0)
		sel = member(member(spec, "selector"), "matchLabels");
	else if (strcmp(o->kind, "NetworkPolicy") == 0)
		sel = member(member(spec, "podSelector"), "matchLabels");
	if (json_is_object(sel) && !fix_selector(im, sel))
		ik8s_report(im, o, NULL, "its selector names only labels manifestd sets itself: it may select other pods now");
}

/* A copy of the object without what the cluster sets (status, uid, resourceVersion...)
 * and without its namespace (the bundle's is given to it). */
/* The apiVersion that serves the same shape of kind today, for one that is not served any
 * more (removed beta APIs whose objects did not change); NULL when there is none. */
static const char *current_api(const char *api, const char *kind)
{
	static const struct {
		const char *api, *kind, *now;
	} moved[] = {
		{"policy/v1beta1", "PodDisruptionBudget", "policy/v1"},
		{"batch/v1beta1", "CronJob", "batch/v1"},
		{"autoscaling/v2beta2", "HorizontalPodAutoscaler", "autoscaling/v2"},
		{"rbac.authorization.k8s.io/v1beta1", NULL, "rbac.authorization.k8s.io/v1"},
		{"extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1"},
		{"networking.k8s.io/v1beta1", "IngressClass", "networking.k8s.io/v1"},
		{"scheduling.k8s.io/v1beta1", "PriorityClass", "scheduling.k8s.io/v1"},
		{"storage.k8s.io/v1beta1", "StorageClass", "storage.k8s.io/v1"},
		{"storage.k8s.io/v1beta1", "CSIDriver", "storage.k8s.io/v1"},
		{"coordination.k8s.io/v1beta1", "Lease", "coordination.k8s.io/v1"},
	};
	for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
		if (strcmp(api, moved[i].api) == 0 && (!moved[i].kind || strcmp(kind, moved[i].kind) == 0))
			return moved[i].now;
	return NULL;
}

static json_t *clean_copy(struct imp *im, const struct object *o)
{
	static const char *const server_set[] = {"uid", "resourceVersion", "generation", "creationTimestamp",
						 "managedFields", "selfLink", "deletionTimestamp", "namespace",
						 "ownerReferences", NULL};
	json_t *copy = json_deep_copy(o->obj);
	json_t *meta = member(copy, "metadata");
	for (size_t i = 0; meta && server_set[i]; i++)
		(void)json_object_del(meta, server_set[i]);
	(void)json_object_del(member(meta, "annotations"), "kubectl.kubernetes.io/last-applied-configuration");
	(void)json_object_del(copy, "status");
	const char *now = current_api(o->api, o->kind);
	if (now) {
		set(im, copy, "apiVersion", json_string(now));
		ik8s_report(im, o, "/apiVersion", "%s is not served any more: the object is written as %s (the same fields)", o->api, now);
	}
	if (!*o->name && str(meta, "generateName")) {
		char name[64];
		ik8s_label_of(str(meta, "generateName"), false, name);
		set(im, meta, "name", json_string(name));
		(void)json_object_del(meta, "generateName");
		ik8s_report(im, o, "/metadata/generateName", "a bundle is applied again and again: the object is named '%s'", name);
	}
	size_t i;
	json_t *p;
	json_array_foreach(strcmp(o->kind, "Service") == 0 ? member(member(copy, "spec"), "ports") : NULL, i, p) {
		json_t *t = member(p, "targetPort");
		if (json_is_integer(t) && json_integer_value(t) == 0 && member(p, "port")) {
			set(im, p, "targetPort", json_deep_copy(member(p, "port")));
			char ptr[64];
			(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu/targetPort", i);
			ik8s_report(im, o, ptr, "targetPort 0 is the port's own number in Kubernetes: written out as such");
		}
	}
	if (!copy)
		(void)oom(im, -ENOMEM);
	return copy;
}

/* Whether a container of w's pods declares port number n (protocol proto). */
static bool declared(const struct workload *w, long long n, const char *proto)
{
	size_t i, k;
	json_t *c, *p;
	json_array_foreach(member(w->pod, "containers"), i, c)
		json_array_foreach(member(c, "ports"), k, p)
			if (int_of(p, "containerPort", 1, 65535, 0) == n &&
			    strcmp(str(p, "protocol") ? str(p, "protocol") : "TCP", proto) == 0)
				return true;
	return false;
}

/* The ports a carried Service (copy) of one workload targets by number that its pods do
 * not declare: the service's container declares them (by the JSON Patch), as it does for
 * the Service mapped onto it, so that every Service's target is a port of its pods. */
static void declare_targets(struct imp *im, const struct object *o, json_t *copy)
{
	size_t n, wl = ik8s_selected(im, member(member(o->obj, "spec"), "selector"), &n);
	if (n != 1 || im->wls[wl].job || im->wls[wl].store)
		return;
	struct workload *w = &im->wls[wl];
	json_t *add = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(member(member(copy, "spec"), "ports"), i, p) {
		long long t = int_of(p, "targetPort", 1, 65535, 0);
		const char *proto = str(p, "protocol") ? str(p, "protocol") : "TCP";
		if (!t || declared(w, t, proto))
			continue;
		append(im, add, json_pack("{s:I, s:s}", "containerPort", (json_int_t)t, "protocol", proto));
		char ptr[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu", i);
		ik8s_report(im, o, ptr, "targets port %lld, which the pods do not declare: the service's container declares it (patch '%s-json')",
		            t, w->name);
	}
	char item[128], path[160];
	(void)snprintf(item, sizeof item, "%s/containers/0", w->pod_ptr);
	bool has_ports = json_object_size(member(w->doc, "ports")) > 0;
	(void)snprintf(path, sizeof path, "%s/ports%s", item, has_ports ? "/-" : "");
	if (json_array_size(add) && !has_ports)
		ik8s_op_named(im, w, item, w->name, "add", path, json_incref(add));
	for (i = 0; has_ports && i < json_array_size(add); i++)
		ik8s_op_named(im, w, item, w->name, "add", path, json_incref(json_array_get(add, i)));
	json_decref(add);
}

static void carry_extra(struct imp *im, struct object *o)
{
	json_t *copy = clean_copy(im, o);
	if (copy && !ik8s_fits(copy, 3)) {
		ik8s_report(im, o, NULL, "is larger than a document holds (a value longer than %d bytes, or more than %d levels): not kept; apply it yourself",
		            MODEL_MAX_STRING, MODEL_MAX_DEPTH - 3);
		json_decref(copy);
		o->carried = true;
		return;
	}
	if (strcmp(o->kind, "Service") == 0)
		declare_targets(im, o, copy);
	fix_selectors(im, o, copy);
	const char *name = str(member(copy, "metadata"), "name");
	char base[128], key[64];
	(void)snprintf(base, sizeof base, "%s-%s", o->kind, name && *name ? name : "object");
	ik8s_label_of(base, false, key);
	char unique[64];
	ik8s_unique_key(im->extra, key, unique);
	set(im, im->extra, unique, copy);
	o->carried = true;
	ik8s_report(im, o, NULL, "the document has no place for it: carried as extraObjects/%s", unique);
}

/* The Namespace objects: the bundle renders its own; labels and annotations are carried. */
static void map_namespace(struct imp *im, struct object *o)
{
	o->carried = true;
	json_t *meta = member(o->obj, "metadata");
	json_t *labels = json_deep_copy(member(meta, "labels"));
	(void)json_object_del(labels, "kubernetes.io/metadata.name");
	json_t *ann = ik8s_own_annotations(im, member(meta, "annotations"));
	if (!im->ns || strcmp(o->name, im->ns) != 0) {
		ik8s_report(im, o, NULL, "a bundle has one namespace, the environment's: not kept");
	} else if (json_object_size(labels) || ann) {
		json_t *merge = json_object();
		if (json_object_size(labels))
			set(im, child(im, merge, "metadata"), "labels", json_incref(labels));
		if (ann)
			set(im, child(im, merge, "metadata"), "annotations", json_incref(ann));
		set(im, im->patches, "namespace", json_pack("{s:{s:s, s:s}, s:o}", "target", "kind", "Namespace", "name", o->name, "merge", merge));
		ik8s_report(im, o, NULL, "is the bundle's namespace (the environment's namespace); its labels and annotations are carried by the patch 'namespace'");
	} else {
		ik8s_report(im, o, NULL, "is the bundle's namespace (the environment's namespace)");
	}
	json_decref(labels);
	json_decref(ann);
}

/* ==== the whole stream ==== */

/* The registry, tag and pull policy most services share become the top-level image's
 * (the tag in the environment, like the compose import); a service keeps its own only
 * where it differs. */
static void settle_images(struct imp *im)
{
	const char *registry = importkit_most(im->registries, 2), *tag = importkit_most(im->tags, 2);
	const char *policy = importkit_most(im->policies, 2), *secret = importkit_most(im->pull_secrets, 2);
	json_t *image = child(im, im->stack, "image");
	if (registry && *registry)
		set(im, image, "registry", json_string(registry));
	if (tag && *tag)
		set(im, child(im, im->env, "image"), "tag", json_string(tag));
	if (!policy)
		policy = "IfNotPresent";
	if (strcmp(policy, "IfNotPresent") != 0)
		set(im, image, "pullPolicy", json_string(policy));
	if (!secret)
		secret = json_object_iter_key(json_object_iter(im->pull_secrets));
	if (secret && !syntax_dns_label(secret))
		set(im, image, "pullSecret", json_string(secret));
	const char *top[] = {registry ? registry : "", tag ? tag : "", policy};
	const char *keys[] = {"registry", "tag", "pullPolicy"};
	for (size_t i = 0; i < im->nwls; i++) {
		json_t *img = member(im->wls[i].doc, "image");
		for (size_t k = 0; img && k < 3; k++)
			if (str_is(img, keys[k], top[k]))
				(void)json_object_del(img, keys[k]);
	}
	if (!json_object_size(image))
		(void)json_object_del(im->stack, "image");
}

/* Each workload's merge patch and JSON Patch, when it has one. */
static void finish_patches(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		struct workload *w = &im->wls[i];
		const char *kind = str(w->doc, "kind");
		char name[64];
		if (json_object_size(w->merge)) {
			ik8s_patch_name(w, "merge", name);
			set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", kind, "name", w->name,
							     "merge", w->merge));
		}
		if (json_array_size(w->ops)) {
			ik8s_patch_name(w, "json", name);
			set(im, im->patches, name, json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", kind, "name", w->name,
							     "jsonPatch", w->ops));
		}
	}
}

/* Drops the stack's maps that stayed empty. */
static void prune(struct imp *im)
{
	static const char *const keys[] = {"config", "secrets", "ingress", "patches", "extraObjects"};
	for (size_t i = 0; i < 5; i++)
		if (!json_object_size(member(im->stack, keys[i])))
			(void)json_object_del(im->stack, keys[i]);
	if (!json_object_size(member(im->env, "secrets")))
		(void)json_object_del(im->env, "secrets");
}

static void map_rest(struct imp *im)
{
	bool mapped_ingress = false;
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_INGRESS)
			map_ingress(im, &im->objs[i], &mapped_ingress);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_HPA)
			map_hpa(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_PDB)
			map_pdb(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_NAMESPACE)
			map_namespace(im, &im->objs[i]);
	for (size_t i = 0; i < im->nobjs && !im->rc; i++)
		if (!im->objs[i].carried)
			carry_extra(im, &im->objs[i]);
}

static int convert(struct imp *im, struct buf *err)
{
	size_t n = 0;
	for (size_t i = 0; i < im->nobjs; i++)
		n += im->objs[i].role == R_WORKLOAD;
	im->wls = calloc(n ? n : 1, sizeof *im->wls);
	if (!im->wls)
		return -ENOMEM;
	drop_repeated(im);
	pick_namespace(im);
	for (size_t i = 0; i < im->nobjs; i++)
		if (im->objs[i].role == R_WORKLOAD)
			(void)plan_workload(im, &im->objs[i]);
	if (im->nwls == 0 && !im->rc) {
		(void)buf_puts(err, "no workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) with a pod template to import");
		return -EINVAL;
	}
	match_services(im);
	name_workloads(im);
	match_headless(im);
	map_config_and_secrets(im);
	ik8s_plan_stores(im);
	for (size_t i = 0; i < im->nwls && !im->rc; i++)
		if (!im->wls[i].store)
			ik8s_map_workload(im, &im->wls[i]);
	ik8s_wire_stores(im);
	map_rest(im);
	settle_images(im);
	finish_patches(im);
	prune(im);
	return im->rc;
}

static void imp_release(struct imp *im)
{
	for (size_t i = 0; i < im->nwls; i++) {
		json_decref(im->wls[i].merge);
		json_decref(im->wls[i].ops);
		json_decref(im->wls[i].ports);
	}
	free(im->wls);
	free(im->objs);
	json_decref(im->docs);
	json_decref(im->stack);
	json_decref(im->env);
	json_decref(im->report);
	json_decref(im->cm_keys);
	json_decref(im->secret_keys);
	json_decref(im->registries);
	json_decref(im->tags);
	json_decref(im->policies);
	json_decref(im->pull_secrets);
	json_decref(im->accounts);
	json_decref(im->stores);
}

/* A hint for YAML that is not Kubernetes objects. */
static void not_kubernetes(const json_t *docs, struct buf *err)
{
	json_t *first = json_array_get(docs, 0);
	(void)buf_puts(err, "not Kubernetes YAML: no document is an object with apiVersion and kind");
	if (json_is_object(member(first, "services")))
		(void)buf_puts(err, " (this looks like a docker-compose file: import it as compose)");
}

int import_manifests(const char *text, size_t len, const char *stack, const struct import_manifests_opts *opts,
		     struct buf *err, struct import_manifests_result *ret)
{
	static const struct yamlin_opts limits = {IMPORT_MANIFESTS_MAX_BYTES, IMPORT_MANIFESTS_MAX_DEPTH,
						  IMPORT_MANIFESTS_MAX_NODES, YAMLIN_YAML11};
	struct imp im = {.text = text, .stack_name = stack ? stack : "imported",
			 .keep_datastores = opts && opts->keep_datastores};
	json_t *spans = NULL, *sources = json_array();
	int r = yamlin_parse_stream(text, len, &limits, err, &im.docs, &spans);
	if (r < 0) {
		json_decref(sources);
		return r;
	}
	im.stack = json_pack("{s:s, s:{}, s:{}, s:{}, s:{}, s:{}, s:{}}", "description", "Imported from Kubernetes manifests",
			     "config", "secrets", "services", "ingress", "patches", "extraObjects");
	im.env = json_pack("{s:{}}", "secrets");
	im.report = json_array();
	im.cm_keys = json_object();
	im.secret_keys = json_object();
	im.registries = json_object();
	im.tags = json_object();
	im.policies = json_object();
	im.pull_secrets = json_object();
	im.accounts = json_object();
	im.stores = json_object();
	r = im.stack && im.env && im.report && im.cm_keys && im.secret_keys && im.registries && im.tags &&
			    im.policies && im.pull_secrets && im.accounts && im.stores && sources
		    ? 0
		    : -ENOMEM;
	im.services = member(im.stack, "services");
	im.config = member(im.stack, "config");
	im.secrets_env = member(im.env, "secrets");
	im.extra = member(im.stack, "extraObjects");
	im.patches = member(im.stack, "patches");
	if (r == 0)
		r = collect(&im, spans, sources);
	if (r == 0 && im.nobjs == 0) {
		not_kubernetes(im.docs, err);
		r = -EINVAL;
	}
	if (r == 0)
		r = convert(&im, err);
	if (r == 0) {
		*ret = (struct import_manifests_result){im.stack, im.env, im.report};
		im.stack = im.env = im.report = NULL;
	}
	imp_release(&im);
	json_decref(spans);
	json_decref(sources);
	return r;
}

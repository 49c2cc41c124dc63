/* import_pods: one workload of Kubernetes YAML as a document service: its kind and
 * settings, the pod's containers (image, command, ports, env, probes, resources,
 * security, volumes), init containers, sidecars, scheduling and account; what the
 * document cannot say carried by the workload's patches. */
#include "import_k8s.h"

#include <ctype.h>
#include <stdlib.h>

#include "importkit.h"
#include "syntax.h"

/* ==== containers ==== */

/* One container of the input being mapped. Its place in the render may differ from the
 * input's (the service's container is the render's first): at() gives pointers into the
 * input (for the report), rat() into the rendered workload (for the JSON Patch). Each
 * returns a buffer the next call of the same kind overwrites. */
struct cctx {
	struct imp *im;
	struct workload *w;
	const json_t *c;       /* the input container */
	const char *rname;     /* its name in the render (the service's for the main one) */
	struct buf in, out;    /* its JSON Pointer in the input and in the render */
	size_t in_len, out_len; /* their lengths: steps are appended and cut back to them */
	bool main;
};

static const char *extend(struct imp *im, struct buf *b, size_t len, const char *t1, const char *t2)
{
	buf_truncate(b, len);
	if (t1)
		step(im, b, t1);
	if (t2)
		step(im, b, t2);
	return buf_cstr(b);
}

static const char *extendi(struct imp *im, struct buf *b, size_t len, const char *t1, size_t i)
{
	extend(im, b, len, t1, NULL);
	stepi(im, b, i);
	return buf_cstr(b);
}

#define at(x, t1, t2) extend((x)->im, &(x)->in, (x)->in_len, (t1), (t2))
#define ati(x, t1, i) extendi((x)->im, &(x)->in, (x)->in_len, (t1), (i))
#define rat(x, t1, t2) extend((x)->im, &(x)->out, (x)->out_len, (t1), (t2))
#define rati(x, t1, i) extendi((x)->im, &(x)->out, (x)->out_len, (t1), (i))

/* Carries value (copied) with a JSON Patch "add" at the container's member key (and the
 * key under it, when not NULL), reported there. */
static void carry_at(struct cctx *x, const char *key, const char *sub, const json_t *value, const char *why)
{
	char item[512];
	(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
	ik8s_carry_add(x->im, x->w, item, x->rname, rat(x, key, sub), value, at(x, key, sub), why);
}

/* Carries the container member key (its value copied) with a JSON Patch. */
static void carry_member(struct cctx *x, const char *key, const json_t *value, const char *why)
{
	carry_at(x, key, NULL, value, why);
}

/* ---- env ---- */

/* The key of a secret holding value (importkit_secret_key), with "" in the stack. */
static void literal_secret(struct imp *im, const struct workload *w, const char *var, const char *value,
			   struct buf *key)
{
	(void)oom(im, importkit_secret_key(im->secrets_env, w->name, var, value, true, key));
	set(im, child(im, im->stack, "secrets"), buf_cstr(key), json_string(""));
}

/* {config|secret: KEY} for a configMapKeyRef / secretKeyRef: the key in the stack's
 * config or secrets when the object was mapped there, else {.., from: NAME} (an object
 * kept whole, or one that exists in the cluster). NULL for an optional reference to
 * something not mapped, which the document cannot say. */
static json_t *key_ref(struct imp *im, bool secret, const json_t *ref)
{
	const char *name = str(ref, "name"), *key = str(ref, "key");
	if (!name || !key || syntax_key(key))
		return NULL;
	const char *mapped = ik8s_doc_key(im, secret, name, key);
	if (mapped)
		return json_pack("{s:s}", secret ? "secret" : "config", mapped);
	if (truthy(ref, "optional"))
		return NULL;
	return json_pack("{s:s, s:s}", secret ? "secret" : "config", key, "from", name);
}

/* The value of the pod template's label or annotation a fieldPath such as
 * metadata.labels['app.kubernetes.io/component'] reads, or NULL. */
static const char *pod_label_value(const struct workload *w, const char *path)
{
	static const char *const kinds[] = {"labels", "annotations"};
	for (size_t k = 0; path && k < 2; k++) {
		size_t n = strlen(kinds[k]);
		if (strncmp(path, "metadata.", 9) != 0 || strncmp(path + 9, kinds[k], n) != 0 || path[9 + n] != '[')
			continue;
		const char *key = path + 10 + n;
		char quote = *key;
		size_t len = strlen(key);
		if ((quote != '\'' && quote != '"') || len < 3 || key[len - 1] != ']' || key[len - 2] != quote)
			return NULL;
		char name[320];
		if (len - 3 >= sizeof name)
			return NULL;
		memcpy(name, key + 1, len - 3);
		name[len - 3] = '\0';
		return str(member(member(w->tmpl, "metadata"), kinds[k]), name);
	}
	return NULL;
}

/* The document's env source for the input's env entry e, or NULL when it has none. */
static json_t *env_source(struct cctx *x, const json_t *e, size_t i)
{
	static const char *const fields[] = {"metadata.name", "metadata.namespace", "metadata.uid",
					     "spec.nodeName", "spec.serviceAccountName", "status.hostIP",
					     "status.podIP", "status.podIPs", NULL};
	struct imp *im = x->im;
	const char *var = str(e, "name");
	json_t *from = member(e, "valueFrom");
	char tmp[64];
	const char *value = scalar_text(member(e, "value"), tmp, sizeof tmp);
	if (!from && !member(e, "value"))
		value = "";
	if (value && !from) {
		if (!*value || !importkit_secret_name(var) || strstr(value, "$("))
			return json_pack("{s:s}", "value", value);
		struct buf key;
		buf_init(&key, BUF_NO_MAX);
		literal_secret(im, x->w, var, value, &key);
		ik8s_report(im, x->w->o, ati(x, "env", i),
		            "its name says it is a secret: the value moved to the environment's secrets as '%s'", buf_cstr(&key));
		json_t *s = json_pack("{s:s}", "secret", buf_cstr(&key));
		buf_release(&key);
		return s;
	}
	json_t *cm = member(from, "configMapKeyRef"), *sec = member(from, "secretKeyRef");
	json_t *field = member(from, "fieldRef");
	if (json_object_size(from) != 1)
		return NULL;
	if (cm || sec)
		return key_ref(im, sec != NULL, cm ? cm : sec);
	const char *path = str(field, "fieldPath");
	if (field && is_one_of(path, fields))
		return json_pack("{s:s}", "field", path);
	const char *label = field ? pod_label_value(x->w, path) : NULL;
	if (label) {
		ik8s_report(im, x->w->o, ati(x, "env", i),
		            "reads a label or annotation of the pod, which manifestd may set otherwise: its value '%s' is written here", label);
		return json_pack("{s:s}", "value", label);
	}
	return NULL;
}

/* envFrom item i: the keys of a mapped ConfigMap or Secret become variables of env (as
 * Kubernetes would make them), else the document's envFrom names the object. */
static void env_from_item(struct cctx *x, const json_t *item, size_t i, json_t *env, json_t *env_from)
{
	struct imp *im = x->im;
	const json_t *cm = member(item, "configMapRef"), *sec = member(item, "secretRef");
	const char *name = str(cm ? cm : sec, "name"), *prefix = str(item, "prefix");
	json_t *keys = name ? member(cm ? im->cm_keys : im->secret_keys, name) : NULL;
	if (!name) {
		ik8s_report(im, x->w->o, ati(x, "envFrom", i), "names no ConfigMap or Secret: not mapped");
		return;
	}
	if (keys) {
		const char *key;
		json_t *k;
		json_object_foreach(keys, key, k) {
			struct buf var;
			buf_init(&var, BUF_NO_MAX);
			(void)oom(im, BUF_PUTS(&var, prefix ? prefix : "", key));
			if (!syntax_env_name(buf_cstr(&var)))
				set(im, env, buf_cstr(&var), json_pack("{s:O}", cm ? "config" : "secret", k));
			buf_release(&var);
		}
		ik8s_report(im, x->w->o, ati(x, "envFrom", i),
		            "the %s '%s' is part of the stack's %s here: each of its keys became a variable of env (a key added later is not)",
		            cm ? "ConfigMap" : "Secret", name, cm ? "config" : "secrets");
		return;
	}
	char id[64], label[64];
	ik8s_label_of(name, false, label);
	ik8s_unique_key(env_from, *label ? label : "from", id);
	json_t *src = json_pack("{s:s}", cm ? "configMap" : "secret", name);
	if (src && prefix && *prefix)
		set(im, src, "prefix", json_string(prefix));
	if (src && truthy(cm ? cm : sec, "optional"))
		set(im, src, "optional", json_true());
	set(im, env_from, id, src);
}

/* A copy of the env entry e for the JSON Patch; a literal value of a variable named like a
 * secret is not copied: it moves to the environment's secrets and the entry reads it from
 * the stack's Secret, so that no secret value goes into the stack document. */
static json_t *carried_env(struct cctx *x, const json_t *e, size_t i)
{
	struct imp *im = x->im;
	const char *var = str(e, "name");
	char tmp[64];
	const char *value = scalar_text(member(e, "value"), tmp, sizeof tmp);
	if (!var || !value || !*value || member(e, "valueFrom") || !importkit_secret_name(var) || strstr(value, "$("))
		return json_deep_copy(e);
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	literal_secret(im, x->w, var, value, &key);
	json_t *ref = json_pack("{s:s, s:{s:{s:s+, s:s}}}", "name", var, "valueFrom", "secretKeyRef", "name",
				im->stack_name, "-secrets", "key", buf_cstr(&key));
	ik8s_report(im, x->w->o, ati(x, "env", i),
	            "its name says it is a secret: the value moved to the environment's secrets as '%s', read from the Secret %s-secrets",
	            buf_cstr(&key), im->stack_name);
	buf_release(&key);
	return ref;
}

/* Maps env and envFrom of the container into the document object doc; what the document
 * cannot say is put back at its place in the rendered list by the JSON Patch. */
static void map_env(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	json_t *env = json_object(), *env_from = json_object(), *rest = json_array();
	json_t *positions = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(member(x->c, "envFrom"), i, e)
		env_from_item(x, e, i, env, env_from);
	json_array_foreach(member(x->c, "env"), i, e) {
		const char *var = str(e, "name");
		json_t *src = var && !syntax_env_name(var) ? env_source(x, e, i) : NULL;
		if (src && json_object_get(env, var))
			ik8s_report(im, x->w->o, ati(x, "env", i), "'%s' is given twice: the last value counts, as in Kubernetes", var);
		if (src) {
			set(im, env, var, src);
			continue;
		}
		append(im, positions, json_integer((json_int_t)(json_object_size(env) + json_array_size(rest))));
		append(im, rest, carried_env(x, e, i));
		ik8s_report(im, x->w->o, ati(x, "env", i), "the document cannot say this variable%s: it is carried by the patch",
		            var && syntax_env_name(var) ? " (its name)" : "");
	}
	if (json_object_size(env))
		set(im, doc, "env", json_incref(env));
	if (json_object_size(env_from))
		set(im, doc, "envFrom", json_incref(env_from));
	char item[512];
	(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
	if (json_array_size(rest) && !json_object_size(env)) {
		ik8s_op_named(im, x->w, item, x->rname, "add", rat(x, "env", NULL), json_incref(rest));
	} else {
		json_array_foreach(rest, i, e)
			ik8s_op_named(im, x->w, item, x->rname, "add",
				      rati(x, "env", (size_t)json_integer_value(json_array_get(positions, i))), json_incref(e));
	}
	json_decref(env);
	json_decref(env_from);
	json_decref(rest);
	json_decref(positions);
}

/* ---- ports, as the workload's containers and Service declare them ---- */

/* The document's name of the container port named name, or NULL. */
static const char *port_by_name(const struct cctx *x, const char *name)
{
	char key[128];
	(void)snprintf(key, sizeof key, "%s/%s", x->rname, name);
	return str(member(x->w->ports, key), "name");
}

/* The number of the container port named name, or 0. */
static long long port_number(const struct cctx *x, const char *name)
{
	char key[128];
	(void)snprintf(key, sizeof key, "%s/%s", x->rname, name);
	return json_integer_value(member(member(x->w->ports, key), "number"));
}

/* A probe's or a carried object's port: a number stays; a name becomes the document's
 * port name (into *ret: a new reference), or its number when the document has no such
 * port. false when the name is not a port of the container. */
static bool probe_port(const struct cctx *x, const json_t *port, json_t **ret)
{
	if (json_is_integer(port) && json_integer_value(port) >= 1 && json_integer_value(port) <= 65535) {
		*ret = json_incref((json_t *)port);
		return true;
	}
	const char *name = json_string_value(port);
	const char *doc_name = name ? port_by_name(x, name) : NULL;
	long long number = name ? port_number(x, name) : 0;
	*ret = doc_name ? json_string(doc_name) : number ? json_integer(number) : NULL;
	return *ret != NULL;
}

/* ---- probes ---- */

static const struct known probe_keys[] = {
	{"httpGet", NULL}, {"tcpSocket", NULL}, {"exec", NULL}, {"grpc", NULL}, {"initialDelaySeconds", NULL},
	{"periodSeconds", NULL}, {"timeoutSeconds", NULL}, {"failureThreshold", NULL}, {"successThreshold", NULL},
	{NULL, NULL}};

static void not_mappable(struct imp *im, struct workload *w, const char *key, const json_t *value, void *arg)
{
	(void)im, (void)w, (void)key, (void)value;
	*(bool *)arg = true;
}

/* The handler of a probe (httpGet, tcpSocket, exec or grpc) in the document's terms, or
 * NULL when it says something the document cannot. */
static json_t *probe_handler(struct cctx *x, const json_t *p)
{
	static const char *const kinds[] = {"httpGet", "tcpSocket", "exec", "grpc"};
	json_t *h = NULL, *port = NULL;
	size_t found = 0, k = 0;
	for (size_t i = 0; i < 4; i++)
		if (member(p, kinds[i]))
			found++, k = i;
	const json_t *in = member(p, kinds[k]);
	if (found != 1 || !json_is_object(in))
		return NULL;
	if (k == 0 && (member(in, "host") || !probe_port(x, member(in, "port"), &port)))
		return NULL;
	if (k == 0) {
		h = json_pack("{s:o}", "port", port);
		const char *path = str(in, "path"), *scheme = str(in, "scheme");
		if (path && *path && syntax_http_path(path))
			goto bad;
		if (path && *path && strcmp(path, "/") != 0)
			set(x->im, h, "path", json_string(path));
		if (scheme && strcmp(scheme, "HTTP") != 0)
			set(x->im, h, "scheme", json_string(scheme));
		size_t i;
		json_t *hd;
		json_array_foreach(member(in, "httpHeaders"), i, hd) {
			if (!str(hd, "name") || !str(hd, "value"))
				goto bad;
			set(x->im, child(x->im, h, "headers"), str(hd, "name"), json_string(str(hd, "value")));
		}
	} else if (k == 1) {
		if (!probe_port(x, member(in, "port"), &port))
			return NULL;
		h = json_pack("{s:o}", "port", port);
	} else if (k == 2) {
		json_t *cmd = member(in, "command");
		if (!json_is_array(cmd) || json_array_size(cmd) == 0)
			return NULL;
		h = json_pack("{s:O}", "command", cmd);
	} else {
		long long n = int_of(in, "port", 1, 65535, 0);
		if (!n)
			return NULL;
		h = json_pack("{s:I}", "port", (json_int_t)n);
		if (str(in, "service") && *str(in, "service"))
			set(x->im, h, "service", json_string(str(in, "service")));
	}
	return h ? json_pack("{s:o}", kinds[k], h) : NULL;
bad:
	json_decref(h);
	return NULL;
}

/* The document's probe for the input's probe p, or NULL when the document cannot say
 * it. Timings are copied (timeoutSeconds always: Kubernetes' default is 1). */
static json_t *map_probe(struct cctx *x, const json_t *p)
{
	static const struct {
		const char *key;
		long long min, max, dflt;
	} timings[] = {{"initialDelaySeconds", 0, 3600, 0}, {"periodSeconds", 1, 3600, 10},
		       {"timeoutSeconds", 1, 3600, 1}, {"failureThreshold", 1, 1000, 3},
		       {"successThreshold", 1, 1000, 1}};
	bool other = false;
	ik8s_leftovers(x->im, x->w, p, probe_keys, not_mappable, &other);
	json_t *out = other ? NULL : probe_handler(x, p);
	for (size_t i = 0; out && i < sizeof timings / sizeof timings[0]; i++) {
		json_t *v = member(p, timings[i].key);
		long long n = int_of(p, timings[i].key, timings[i].min, timings[i].max, -1);
		if (v && n < 0) {
			json_decref(out);
			return NULL;
		}
		if (v || strcmp(timings[i].key, "timeoutSeconds") == 0)
			set(x->im, out, timings[i].key, json_integer(v ? n : timings[i].dflt));
	}
	return out;
}

/* readiness, liveness, startup: mapped, or null (with the input's probe, if any,
 * carried by the JSON Patch). The document's defaults would add probes the input does
 * not have, so a missing readiness or liveness probe is null too. */
static void map_probes(struct cctx *x, json_t *doc, bool sidecar)
{
	static const char *const names[][2] = {{"readinessProbe", "readiness"}, {"livenessProbe", "liveness"},
					      {"startupProbe", "startup"}};
	json_t *probes = json_object();
	for (size_t i = 0; i < 3; i++) {
		const json_t *p = member(x->c, names[i][0]);
		json_t *mapped = p && !x->w->job ? map_probe(x, p) : NULL;
		if (p && !mapped) {
			json_t *copy = json_deep_copy(p);
			for (size_t k = 0; copy && k < 2; k++) {
				json_t *h = member(copy, k ? "tcpSocket" : "httpGet");
				const char *name = str(h, "port");
				long long n = name ? port_number(x, name) : 0;
				if (n) /* rendered ports carry the document's names */
					set(x->im, h, "port", json_integer(n));
			}
			carry_member(x, names[i][0], copy,
				     x->w->job ? "a Job's probes are not part of the document"
					       : "the document cannot say this probe (a host, another field, or a port that is not the container's)");
			json_decref(copy);
		}
		if (mapped)
			set(x->im, probes, names[i][1], mapped);
		else if (i < 2 && !sidecar)
			set(x->im, probes, names[i][1], json_null());
	}
	if (json_object_size(probes))
		set(x->im, doc, "probes", json_incref(probes));
	json_decref(probes);
}

/* An IANA service name: 1-15 of [a-z0-9-], a letter among them, no '-' at the ends or twice. */
static bool port_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool letter = false;
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	return letter;
}

/* The rendered name of container i of the pod's containers: the service's for its main
 * one, else a document key made of its own name. */
static void container_key(const struct workload *w, const json_t *c, size_t i, char out[64])
{
	if (i == w->main) {
		(void)snprintf(out, 64, "%s", w->name);
		return;
	}
	ik8s_label_of(str(c, "name"), false, out);
	if (!*out)
		(void)snprintf(out, 64, "container-%zu", i);
}

struct port_plan {
	struct imp *im;
	struct workload *w;
	json_t *entries; /* [{container, index, number, protocol, name?, doc?, src}] in container order */
	json_t *docs;    /* container key -> {doc port name -> port} */
	json_t *taken;   /* doc port names */
};

static json_t *find_entry(const struct port_plan *pp, const json_t *target, const char *proto)
{
	size_t i;
	json_t *e;
	json_array_foreach(pp->entries, i, e) {
		bool hit = json_is_integer(target) ? json_integer_value(member(e, "number")) == json_integer_value(target) &&
							     strcmp(str(e, "protocol"), proto) == 0
						   : json_is_string(target) && str(e, "name") &&
							     strcmp(str(e, "name"), json_string_value(target)) == 0;
		if (hit)
			return e;
	}
	return NULL;
}

/* A free document port name: want when it is one, else the entry's own, else port-N. */
static void doc_port_name(struct port_plan *pp, const char *want, const json_t *e, char out[64])
{
	const char *own = str(e, "name");
	if (port_name_ok(want) && !json_object_get(pp->taken, want))
		(void)snprintf(out, 64, "%s", want);
	else if (port_name_ok(own) && !json_object_get(pp->taken, own))
		(void)snprintf(out, 64, "%s", own);
	else {
		char base[64];
		(void)snprintf(base, sizeof base, "%s-%lld", strcmp(str(e, "protocol"), "TCP") ? "udp" : "port",
			       (long long)json_integer_value(member(e, "number")));
		ik8s_unique_key(pp->taken, base, out);
	}
	set(pp->im, pp->taken, out, json_true());
}

/* Gives entry e the document port name and port p (stolen). */
static void place_port(struct port_plan *pp, json_t *e, const char *name, json_t *p)
{
	const char *proto = str(e, "protocol");
	if (p && strcmp(proto, "TCP") != 0)
		set(pp->im, p, "protocol", json_string(proto));
	set(pp->im, child(pp->im, pp->docs, str(e, "container")), name, p);
	set(pp->im, e, "doc", json_string(name));
}

/* The container ports of every container of the pod, as entries. */
static void port_entries(struct port_plan *pp)
{
	const json_t *containers = member(pp->w->pod, "containers");
	size_t i, k;
	json_t *c, *p;
	json_array_foreach(containers, i, c) {
		char key[64];
		container_key(pp->w, c, i, key);
		json_array_foreach(member(c, "ports"), k, p) {
			long long n = int_of(p, "containerPort", 1, 65535, 0);
			const char *proto = str(p, "protocol") ? str(p, "protocol") : "TCP";
			if (!n)
				continue;
			json_t *e = json_pack("{s:s, s:I, s:I, s:I, s:s}", "container", key, "index", (json_int_t)i,
					      "item", (json_int_t)k, "number", (json_int_t)n, "protocol", proto);
			if (e && str(p, "name"))
				set(pp->im, e, "name", json_string(str(p, "name")));
			append(pp->im, pp->entries, e);
		}
	}
}

/* The primary Service's ports, each onto the container port it targets. */
static void service_ports(struct port_plan *pp)
{
	struct imp *im = pp->im;
	const struct object *svc = pp->w->service;
	json_t *spec = member(svc->obj, "spec");
	const char *type = str(spec, "type");
	bool node_ports = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
	size_t j;
	json_t *sp;
	json_array_foreach(member(spec, "ports"), j, sp) {
		char ptr[64], name[64];
		(void)snprintf(ptr, sizeof ptr, "/spec/ports/%zu", j);
		long long port = int_of(sp, "port", 1, 65535, 0);
		const char *proto = str(sp, "protocol") ? str(sp, "protocol") : "TCP";
		json_t *tp = member(sp, "targetPort");
		bool unset = !tp || (json_is_integer(tp) && json_integer_value(tp) == 0); /* 0: the port's */
		json_t *num = unset ? json_integer(port) : NULL;
		json_t *target = num ? num : member(sp, "targetPort");
		json_t *e = port && target ? find_entry(pp, target, proto) : NULL;
		if (!e && json_is_integer(target) && port) {
			e = json_pack("{s:s, s:I, s:I, s:s}", "container", pp->w->name, "index", (json_int_t)0,
				      "number", json_integer_value(target), "protocol", proto);
			append(im, pp->entries, e);
			ik8s_report(im, svc, ptr, "targets port %lld, which the pods' containers do not declare: the service's container declares it here",
			            (long long)json_integer_value(target));
		}
		json_decref(num);
		if (!e || member(e, "doc")) {
			ik8s_report(im, svc, ptr, "%s: this Service port is not mapped",
			            !e ? "targets no port of the pods' containers" : "targets a container port another Service port targets already");
			continue;
		}
		doc_port_name(pp, str(sp, "name"), e, name);
		json_t *p = json_pack("{s:I}", "port", (json_int_t)port);
		if (p && json_integer_value(member(e, "number")) != port)
			set(im, p, "targetPort", json_integer(json_integer_value(member(e, "number"))));
		if (p && str(sp, "appProtocol"))
			set(im, p, "appProtocol", json_string(str(sp, "appProtocol")));
		if (p && node_ports && int_of(sp, "nodePort", 30000, 32767, 0))
			set(im, p, "nodePort", json_integer(int_of(sp, "nodePort", 30000, 32767, 0)));
		place_port(pp, e, name, p);
		if (str(sp, "name")) {
			char key[128];
			(void)snprintf(key, sizeof key, "service/%s", str(sp, "name"));
			set(im, pp->w->ports, key, json_pack("{s:s, s:I}", "name", name, "number", (json_int_t)port));
		}
		if (str(sp, "name") && strcmp(str(sp, "name"), name) != 0)
			ik8s_report(im, svc, ptr, "the port '%s' is called '%s' here (a port name is at most 15 lowercase letters, digits and '-')",
			            str(sp, "name"), name);
	}
}

/* The document ports of the workload's containers (pp->docs: container key -> ports),
 * and w->ports: "CONTAINER/NAME" -> {name, number} for what refers to ports by name. */
static json_t *plan_ports(struct imp *im, struct workload *w)
{
	struct port_plan pp = {im, w, json_array(), json_object(), json_object()};
	if (!pp.entries || !pp.docs || !pp.taken)
		(void)oom(im, -ENOMEM);
	port_entries(&pp);
	if (w->service)
		service_ports(&pp);
	size_t i;
	json_t *e;
	bool told = false;
	json_array_foreach(pp.entries, i, e) {
		if (member(e, "doc") || w->job)
			continue;
		char name[64], ptr[96];
		doc_port_name(&pp, NULL, e, name);
		place_port(&pp, e, name, json_pack("{s:I}", "port", json_integer_value(member(e, "number"))));
		(void)snprintf(ptr, sizeof ptr, "%s/containers/%lld/ports/%lld", w->pod_ptr,
			       (long long)json_integer_value(member(e, "index")), (long long)json_integer_value(member(e, "item")));
		if (w->service && member(e, "item"))
			ik8s_report(im, w->o, ptr, "is not a port of the Service '%s': the rendered Service offers it too", w->service->name);
		else if (!w->service && !told)
			ik8s_report(im, w->o, NULL, "no Service selects these pods: a Service '%s' is rendered for the containers' ports", w->name);
		told |= !w->service;
	}
	json_array_foreach(pp.entries, i, e) {
		char key[160];
		json_t *ref = json_pack("{s:I}", "number", json_integer_value(member(e, "number")));
		if (ref && str(e, "doc"))
			set(im, ref, "name", json_string(str(e, "doc")));
		(void)snprintf(key, sizeof key, "%s/%lld/%s", str(e, "container"),
			       (long long)json_integer_value(member(e, "number")), str(e, "protocol"));
		set(im, w->ports, key, json_incref(ref));
		if (str(e, "name")) {
			(void)snprintf(key, sizeof key, "%s/%s", str(e, "container"), str(e, "name"));
			set(im, w->ports, key, json_incref(ref));
		}
		json_decref(ref);
	}
	json_decref(pp.entries);
	json_decref(pp.taken);
	return pp.docs;
}

/* The Service's type, annotations and labels, and what else its spec says (a merge
 * patch on the rendered Service). */
static void map_service(struct imp *im, struct workload *w)
{
	static const struct known spec_keys[] = {
		{"ports", NULL}, {"selector", NULL}, {"type", NULL}, {"sessionAffinity", "\"None\""}, {"externalTrafficPolicy", "\"Cluster\""},
		{"internalTrafficPolicy", "\"Cluster\""}, {"ipFamilyPolicy", "\"SingleStack\""},
		{"publishNotReadyAddresses", "false"}, {"allocateLoadBalancerNodePorts", "true"}, {NULL, NULL}};
	struct object *s = w->service;
	json_t *spec = member(s->obj, "spec"), *meta = member(s->obj, "metadata");
	const char *type = str(spec, "type"), *ip = str(spec, "clusterIP");
	json_t *expose = json_object(), *patch = json_object();
	bool headless = ip && strcmp(ip, "None") == 0;
	if (headless || (type && strcmp(type, "ClusterIP") != 0))
		set(im, expose, "type", json_string(headless ? "Headless" : type));
	if (json_object_size(member(meta, "annotations")))
		set(im, expose, "annotations", json_deep_copy(member(meta, "annotations")));
	const char *key;
	json_t *v;
	json_object_foreach(spec, key, v) {
		bool ip_key = strcmp(key, "clusterIP") == 0 || strcmp(key, "clusterIPs") == 0;
		if (ip_key ? headless : !ik8s_to_carry(spec_keys, key, v) || strcmp(key, "ipFamilies") == 0)
			continue;
		set(im, child(im, patch, "spec"), key, json_deep_copy(v));
	}
	/* the service's labels are on its Service too: only others need the patch */
	json_object_foreach(member(meta, "labels"), key, v)
		if (!ik8s_reserved_label(key) && !json_equal(v, member(member(w->doc, "labels"), key)))
			set(im, child(im, child(im, patch, "metadata"), "labels"), key, json_deep_copy(v));
	if (json_object_size(expose))
		set(im, w->doc, "expose", json_incref(expose));
	if (json_object_size(patch)) {
		char name[64];
		ik8s_patch_name(w, "service", name);
		set(im, im->patches, name,
		    json_pack("{s:{s:s, s:s}, s:O}", "target", "kind", "Service", "name", w->name, "merge", patch));
		ik8s_report(im, s, NULL, "its labels and the fields the document has no place for are carried by the patch '%s'", name);
	}
	if (strcmp(s->name, w->name) != 0)
		ik8s_report(im, s, "/metadata/name", "is the Service of '%s' here (the Service is named like the service)", w->name);
	json_decref(expose);
	json_decref(patch);
}

/* ---- resources ---- */

/* A quantity as text (numbers written out); NULL when it is not a positive quantity. */
static const char *quantity(const json_t *v, char *tmp, size_t n)
{
	const char *q = scalar_text(v, tmp, n);
	return q && !json_is_boolean(v) && !syntax_quantity(q) ? q : NULL;
}

static long double qvalue(const char *q)
{
	long double v = 0;
	(void)syntax_quantity_value(q, &v);
	return v;
}

/* requests and limits of cpu and memory. Where the input gives a limit only, the request
 * is that limit (as Kubernetes makes it); where it gives no limit, the document's default
 * limit applies (raised to the request when lower), reported. Other resources (GPUs,
 * ephemeral-storage) are carried by the JSON Patch. dflt: the document's default limits
 * for cpu and memory. */
static void map_resources(struct cctx *x, json_t *doc, const char *const dflt[2])
{
	static const char *const names[] = {"cpu", "memory", NULL};
	struct imp *im = x->im;
	const json_t *res = member(x->c, "resources");
	const json_t *req = member(res, "requests"), *lim = member(res, "limits");
	json_t *out = json_object();
	for (size_t i = 0; i < 2; i++) {
		char t1[64], t2[64];
		const char *r = quantity(member(req, names[i]), t1, sizeof t1);
		const char *l = quantity(member(lim, names[i]), t2, sizeof t2);
		if (!r && l)
			r = l;
		if (r && !l && qvalue(r) > qvalue(dflt[i]))
			l = r;
		if (r)
			set(im, child(im, out, "requests"), names[i], json_string(r));
		if (l)
			set(im, child(im, out, "limits"), names[i], json_string(l));
		if (json_object_size(req) + json_object_size(lim) == 0)
			continue;
		if (!member(lim, names[i]))
			ik8s_report(im, x->w->o, at(x, "resources", NULL), "sets no %s limit: the limit is %s (manifestd's default, or the request)",
			            names[i], l ? l : dflt[i]);
		else if (!quantity(member(lim, names[i]), t2, sizeof t2))
			ik8s_report(im, x->w->o, at(x, "resources", NULL), "the %s limit is not a quantity above zero: not mapped", names[i]);
	}
	if (json_object_size(req) + json_object_size(lim) == 0)
		ik8s_report(im, x->w->o, at(x, NULL, NULL), "sets no resources: manifestd's default requests and limits apply");
	bool lowered[2];
	(void)oom(im, importkit_fit_requests(out, lowered));
	for (size_t i = 0; i < 2; i++)
		if (lowered[i])
			ik8s_report(im, x->w->o, at(x, "resources", NULL), "the %s request " IMPORTKIT_ABOVE_LIMIT, names[i]);
	if (json_object_size(out))
		set(im, doc, "resources", json_incref(out));
	json_decref(out);
	static const char *const parts[] = {"requests", "limits"};
	for (size_t p = 0; p < 2; p++) {
		const char *key;
		json_t *v;
		json_object_foreach(member(res, parts[p]), key, v) {
			if (is_one_of(key, names))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
			rat(x, "resources", parts[p]);
			step(im, &x->out, key);
			at(x, "resources", parts[p]);
			step(im, &x->in, key);
			ik8s_carry_add(im, x->w, item, x->rname, buf_cstr(&x->out), v, buf_cstr(&x->in),
				       "the document has cpu and memory only");
		}
	}
}

/* ---- security context ---- */

/* The container's setting key, else the pod's (when pod_too). */
static json_t *sc_get(const struct cctx *x, const char *key, bool pod_too)
{
	json_t *v = member(member(x->c, "securityContext"), key);
	return v || !pod_too ? v : member(member(x->w->pod, "securityContext"), key);
}

static void carry_sc(struct cctx *x, const char *key, json_t *value, const char *why)
{
	carry_at(x, "securityContext", key, value, why);
}

/* What a container's securityContext says beyond the document's fields: privileged,
 * allowPrivilegeEscalation: true and the rest are carried by the JSON Patch. */
static void container_sc_rest(struct cctx *x)
{
	static const struct known keys[] = {
		{"runAsUser", NULL}, {"runAsGroup", NULL}, {"runAsNonRoot", NULL}, {"readOnlyRootFilesystem", NULL},
		{"capabilities", NULL}, {"allowPrivilegeEscalation", "false"}, {"privileged", "false"},
		{"seccompProfile", "{\"type\": \"RuntimeDefault\"}"}, {NULL, NULL}};
	const json_t *sc = member(x->c, "securityContext");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)sc, key, v) {
		if (!ik8s_to_carry(keys, key, v))
			continue;
		carry_sc(x, key, v, "the document has no such securityContext setting");
		if (strcmp(key, "privileged") == 0 && json_is_true(v) && !member(sc, "allowPrivilegeEscalation"))
			carry_sc(x, "allowPrivilegeEscalation", json_true(), "a privileged container escalates privileges");
	}
	size_t i;
	json_t *cap;
	json_array_foreach(member(member(sc, "capabilities"), "drop"), i, cap) {
		if (!json_is_string(cap) || strcasecmp(json_string_value(cap), "ALL") != 0) {
			ik8s_report(x->im, x->w->o, at(x, "securityContext", "capabilities"),
			            "drops some capabilities: here every capability is dropped, then the added ones given back");
			break;
		}
	}
}

/* The capabilities a container adds, without "CAP_" (a new array). */
static json_t *added_caps(const json_t *sc)
{
	json_t *out = json_array();
	size_t i;
	json_t *cap;
	json_array_foreach(member(member(sc, "capabilities"), "add"), i, cap) {
		const char *c = json_string_value(cap);
		if (c && strncmp(c, "CAP_", 4) == 0)
			c += 4;
		if (out && c)
			(void)json_array_append_new(out, json_string(c));
	}
	return out;
}

/* The service's securityContext from the pod's and its main container's. Where neither
 * names a user, manifestd's default (uid 1000, non-root) stays and is reported; a root
 * filesystem the input does not make read-only stays writable. */
static void map_security(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	json_t *out = json_object();
	static const char *const ids[][2] = {{"runAsUser", "1"}, {"runAsGroup", "1"}, {"fsGroup", "0"}};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = sc_get(x, ids[i][0], ids[i][1][0] == '1');
		if (!v && i == 2)
			v = member(member(x->w->pod, "securityContext"), "fsGroup");
		if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2147483647)
			set(im, out, ids[i][0], json_incref(v));
	}
	json_t *non_root = sc_get(x, "runAsNonRoot", true), *uid = member(out, "runAsUser");
	if (json_is_false(non_root) || (uid && json_integer_value(uid) == 0))
		set(im, out, "runAsNonRoot", json_false());
	if (!uid)
		ik8s_report(im, x->w->o, at(x, "securityContext", NULL),
		            "names no user: the pods run as uid 1000, non-root (manifestd's default)%s; if the image must run as root, set runAsNonRoot false and runAsUser 0",
		            json_is_true(non_root) ? "" : ", where the input runs the image's own user");
	json_t *ro = sc_get(x, "readOnlyRootFilesystem", false);
	set(im, out, "readOnlyRootFilesystem", json_boolean(json_is_true(ro)));
	json_t *caps = added_caps(member(x->c, "securityContext"));
	if (json_array_size(caps))
		set(im, out, "capabilities", json_incref(caps));
	json_decref(caps);
	set(im, doc, "securityContext", json_incref(out));
	json_decref(out);
	container_sc_rest(x);
}

/* ---- volumes ---- */

static void mode_text(long long mode, char out[8])
{
	(void)snprintf(out, 8, "0%03llo", mode & 0777);
}

/* files[path] = {config|secret: document key, mode} for the items (or every key) of a
 * mapped ConfigMap or Secret; false when a key is not mapped. */
static bool add_files(struct imp *im, json_t *files, bool secret, const char *name, const json_t *items,
		      long long dflt_mode)
{
	json_t *keys = member(secret ? im->secret_keys : im->cm_keys, name);
	if (!keys)
		return false;
	json_t *all = NULL;
	if (!json_is_array(items) || json_array_size(items) == 0) {
		all = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(keys, k, v)
			append(im, all, json_pack("{s:s, s:s}", "key", k, "path", k));
		items = all;
	}
	size_t i;
	json_t *item;
	bool ok = true;
	json_array_foreach(items, i, item) {
		const char *key = str(item, "key"), *path = str(item, "path");
		const char *doc = key ? str(keys, key) : NULL;
		if (!doc || !path || json_object_get(files, path)) {
			ok = false;
			break;
		}
		long long mode = int_of(item, "mode", 0, 0777, dflt_mode);
		json_t *f = json_pack("{s:s}", secret ? "secret" : "config", doc);
		if (f && mode >= 0) {
			char m[8];
			mode_text(mode, m);
			set(im, f, "mode", json_string(m));
		}
		set(im, files, path, f);
	}
	json_decref(all);
	return ok;
}

/* The files of a configMap, secret or projected volume, or NULL when the document cannot
 * say them (an object that is not mapped, a downward API or token source). */
static json_t *volume_files(struct imp *im, const json_t *v)
{
	json_t *files = json_object();
	const json_t *cm = member(v, "configMap"), *sec = member(v, "secret"), *proj = member(v, "projected");
	bool ok;
	if (cm || sec) {
		/* Kubernetes' default mode is 0644 for both; the document's is 0400 for secrets */
		long long dflt = int_of(cm ? cm : sec, "defaultMode", 0, 0777, cm ? -1 : 0644);
		ok = add_files(im, files, sec != NULL, str(cm ? cm : sec, cm ? "name" : "secretName"),
			       member(cm ? cm : sec, "items"), dflt);
	} else {
		long long dflt = int_of(proj, "defaultMode", 0, 0777, 0644);
		size_t i;
		json_t *s;
		ok = json_array_size(member(proj, "sources")) > 0;
		json_array_foreach(member(proj, "sources"), i, s) {
			const json_t *pc = member(s, "configMap"), *ps = member(s, "secret");
			if (!ok || json_object_size(s) != 1 || !(pc || ps) ||
			    !add_files(im, files, ps != NULL, str(pc ? pc : ps, "name"), member(pc ? pc : ps, "items"), dflt))
				ok = false;
		}
	}
	if (ok && json_object_size(files))
		return files;
	json_decref(files);
	return NULL;
}

/* The document's source of a pod volume v: emptyDir, files, claim; NULL when it has none. */
static json_t *volume_source(struct imp *im, const json_t *v, bool *ret_read_only)
{
	const json_t *ed = member(v, "emptyDir"), *pvc = member(v, "persistentVolumeClaim");
	if (json_object_size(v) != 2)
		return NULL;
	if (ed) {
		const char *medium = str(ed, "medium");
		char tmp[64];
		const char *size = quantity(member(ed, "sizeLimit"), tmp, sizeof tmp);
		if ((medium && *medium && strcmp(medium, "Memory") != 0) || (member(ed, "sizeLimit") && !size))
			return NULL;
		json_t *out = json_object();
		if (out && medium && *medium)
			set(im, out, "medium", json_string(medium));
		if (out && size)
			set(im, out, "sizeLimit", json_string(size));
		return json_pack("{s:o}", "emptyDir", out);
	}
	if (pvc) {
		*ret_read_only = truthy(pvc, "readOnly");
		return str(pvc, "claimName") ? json_pack("{s:{s:s}}", "claim", "name", str(pvc, "claimName")) : NULL;
	}
	if (member(v, "configMap") || member(v, "secret") || member(v, "projected")) {
		json_t *files = volume_files(im, v);
		return files ? json_pack("{s:o}", "files", files) : NULL;
	}
	return NULL;
}

/* A volumeClaimTemplate as a persistent volume; NULL when its size is not a quantity. */
static json_t *claim_template(struct imp *im, const json_t *t)
{
	json_t *spec = member(t, "spec");
	char tmp[64];
	const char *size = quantity(member(member(member(spec, "resources"), "requests"), "storage"), tmp, sizeof tmp);
	if (!size)
		return NULL;
	json_t *p = json_pack("{s:s}", "size", size);
	const char *cls = str(spec, "storageClassName");
	if (!cls)
		cls = str(member(member(t, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class");
	if (p && cls && *cls)
		set(im, p, "className", json_string(cls));
	const char *mode = json_string_value(json_array_get(member(spec, "accessModes"), 0));
	if (p && mode && strcmp(mode, "ReadWriteOnce") != 0)
		set(im, p, "accessMode", json_string(mode));
	return json_pack("{s:o}", "persistent", p);
}

/* The pod volume (or, isvct, the volumeClaimTemplate) named name, or NULL. */
static json_t *pod_volume(const struct workload *w, const char *name, bool *ret_vct, size_t *ret_index)
{
	size_t i;
	json_t *v;
	json_array_foreach(member(w->pod, "volumes"), i, v) {
		if (str(v, "name") && strcmp(str(v, "name"), name) == 0) {
			*ret_vct = false;
			*ret_index = i;
			return v;
		}
	}
	json_array_foreach(member(member(w->o->obj, "spec"), "volumeClaimTemplates"), i, v) {
		if (str(member(v, "metadata"), "name") && strcmp(str(member(v, "metadata"), "name"), name) == 0) {
			*ret_vct = true;
			*ret_index = i;
			return v;
		}
	}
	return NULL;
}

static const struct known mount_keys[] = {{"name", NULL}, {"mountPath", NULL}, {"readOnly", NULL}, {"subPath", NULL},
					  {"mountPropagation", "\"None\""}, {NULL, NULL}};

/* mountPath, readOnly, subPath of a mount into out (a document volume or mount). */
static bool mount_fields(struct imp *im, const json_t *m, json_t *out)
{
	const char *path = str(m, "mountPath"), *sub = str(m, "subPath");
	if (!path || syntax_http_path(path) || strchr(path, ':') || (sub && *sub && (sub[0] == '/' || strstr(sub, ".."))))
		return false;
	set(im, out, "mountPath", json_string(path));
	if (truthy(m, "readOnly"))
		set(im, out, "readOnly", json_true());
	if (sub && *sub)
		set(im, out, "subPath", json_string(sub));
	return true;
}

struct volume_plan {
	json_t *vols;    /* the document's volumes */
	json_t *keys;    /* input volume name -> document volume key */
	size_t pod_vols; /* volumes the render puts in the pod spec so far (persistent ones are claims) */
};

/* Adds the document volume for the input volume name, mounted as m (NULL: mounted by
 * other containers only: the mount in the service's container is then removed again).
 * false when the document cannot hold it. */
static bool add_volume(struct cctx *x, struct volume_plan *vp, const char *name, const json_t *m, const char *mptr)
{
	struct imp *im = x->im;
	bool vct = false, read_only = false;
	size_t index;
	json_t *src = pod_volume(x->w, name, &vct, &index);
	if (!src) {
		ik8s_report(im, x->w->o, mptr, "names no volume of the pod: not mapped");
		return false;
	}
	char key[64], label[64];
	ik8s_label_of(name, false, label);
	ik8s_unique_key(vp->vols, *label ? label : "volume", key);
	json_t *v = vct ? claim_template(im, src) : volume_source(im, src, &read_only);
	char vptr[96];
	if (vct)
		(void)snprintf(vptr, sizeof vptr, "/spec/volumeClaimTemplates/%zu", index);
	else
		(void)snprintf(vptr, sizeof vptr, "%s/volumes/%zu", x->w->pod_ptr, index);
	if (!v && vct) {
		ik8s_report(im, x->w->o, vptr, "has no storage size: not mapped");
		return false;
	}
	bool placeholder = !v;
	if (placeholder)
		v = json_pack("{s:{}}", "emptyDir");
	if (m && !mount_fields(im, m, v)) {
		ik8s_report(im, x->w->o, mptr, "is not a mount the document can say (an absolute path without ':'): not mapped");
		json_decref(v);
		return false;
	}
	if (m && read_only)
		set(im, v, "readOnly", json_true());
	set(im, vp->vols, key, v);
	set(im, vp->keys, name, json_string(key));
	if (placeholder) {
		char item[128], pname[64];
		(void)snprintf(item, sizeof item, "%s/volumes/%zu", x->w->pod_ptr, vp->pod_vols);
		json_t *copy = json_deep_copy(src);
		set(im, copy, "name", json_string(key));
		ik8s_op_named(im, x->w, item, key, "replace", item, copy);
		ik8s_patch_name(x->w, "json", pname);
		ik8s_report(im, x->w->o, vptr,
		            "the document cannot say this volume's source: it is an emptyDir '%s' there, which the patch '%s' replaces with it",
		            key, pname);
	}
	if (!vct)
		vp->pod_vols++;
	return true;
}

/* A mount the document cannot hold (a second one of the same volume in one container,
 * or one it cannot say) appended to the container's mounts by the JSON Patch. */
static void mount_by_patch(struct cctx *x, const json_t *m, const char *key, const char *mptr)
{
	json_t *copy = json_deep_copy(m);
	set(x->im, copy, "name", json_string(key));
	ik8s_op(x->im, x->w, "add", rat(x, "volumeMounts", "-"), copy);
	ik8s_report(x->im, x->w->o, mptr, "a second mount of one volume, or one the document cannot say: carried by the patch");
}

static void map_main_mounts(struct cctx *x, struct volume_plan *vp)
{
	struct imp *im = x->im;
	size_t i;
	json_t *m;
	json_array_foreach(member(x->c, "volumeMounts"), i, m) {
		const char *name = str(m, "name");
		char mptr[512];
		(void)snprintf(mptr, sizeof mptr, "%s", ati(x, "volumeMounts", i));
		if (!name)
			continue;
		if (member(vp->keys, name)) {
			mount_by_patch(x, m, str(vp->keys, name), mptr);
			continue;
		}
		if (!add_volume(x, vp, name, m, mptr))
			continue;
		const char *key;
		json_t *v;
		json_object_foreach(m, key, v) {
			if (!ik8s_to_carry(mount_keys, key, v))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rati(x, "volumeMounts", json_object_size(vp->vols) - 1));
			step(im, &x->out, key);
			ik8s_carry_add(im, x->w, item, str(vp->keys, name), buf_cstr(&x->out), v, mptr,
				       "the document has no such mount setting");
		}
	}
}

/* ---- images ---- */

/* [registry/]repository[:tag][@digest] as slices of s. The registry is the first
 * component when it looks like a host ('.', ':' or localhost), with the repository's
 * path up to its last component (so images of one registry path share it). */
struct image_ref {
	const char *s;
	size_t reg_len;             /* s[0, reg_len) */
	size_t repo_off, repo_len;
	size_t tag_off, tag_len;    /* tag_len 0: none */
	size_t dig_off, dig_len;
};

static void image_split(const char *s, struct image_ref *r)
{
	*r = (struct image_ref){.s = s};
	const char *at = strchr(s, '@');
	size_t name_len = at ? (size_t)(at - s) : strlen(s);
	if (at)
		r->dig_off = name_len + 1, r->dig_len = strlen(at + 1);
	const char *last_slash = NULL;
	for (size_t i = 0; i < name_len; i++)
		if (s[i] == '/')
			last_slash = s + i;
	const char *colon = NULL;
	for (const char *p = last_slash ? last_slash : s; p < s + name_len; p++)
		if (*p == ':')
			colon = p;
	size_t repo_end = colon ? (size_t)(colon - s) : name_len;
	if (colon)
		r->tag_off = repo_end + 1, r->tag_len = name_len - repo_end - 1;
	const char *slash = memchr(s, '/', repo_end);
	size_t first = slash ? (size_t)(slash - s) : 0;
	bool host = slash && (memchr(s, '.', first) || memchr(s, ':', first) ||
			      (first == 9 && memcmp(s, "localhost", 9) == 0));
	if (host)
		r->reg_len = (size_t)(last_slash - s);
	r->repo_off = host ? r->reg_len + 1 : 0;
	r->repo_len = repo_end - r->repo_off;
}

static json_t *slice(const struct image_ref *r, size_t off, size_t len)
{
	return json_stringn(r->s + off, len);
}

/* A tag the document takes: given, and not "latest". */
static bool pinned(const struct image_ref *r)
{
	return r->tag_len > 0 && !(r->tag_len == 6 && memcmp(r->s + r->tag_off, "latest", 6) == 0);
}

/* A full image reference the document takes for another container: with a tag that is
 * not latest, and a repository and registry of the right form. */
static bool full_ref_ok(const char *ref)
{
	struct image_ref r;
	image_split(ref, &r);
	return pinned(&r) && !syntax_image_ref(ref);
}

/* The main container's image: repository, registry, tag, digest, pull policy (counted,
 * for the top-level image). An image without a tag, or "latest" (which the document
 * refuses), gets the tag UNTAGGED and the JSON Patch puts the input's image back. */
static void map_image(struct cctx *x, json_t *doc)
{
	struct imp *im = x->im;
	const char *ref = str(x->c, "image");
	if (!ref || !*ref) {
		ik8s_report(im, x->w->o, at(x, "image", NULL), "no image: the service cannot be rendered without one");
		return;
	}
	struct image_ref r;
	image_split(ref, &r);
	json_t *img = json_pack("{s:o, s:o}", "repository", slice(&r, r.repo_off, r.repo_len), "registry",
				slice(&r, 0, r.reg_len));
	if (img && r.dig_len)
		set(im, img, "digest", slice(&r, r.dig_off, r.dig_len));
	bool untagged = !pinned(&r) && !r.dig_len;
	set(im, img, "tag", untagged ? json_string(UNTAGGED) : r.tag_len ? slice(&r, r.tag_off, r.tag_len) : json_string(""));
	if (untagged) {
		char item[512], pname[64];
		(void)snprintf(item, sizeof item, "%s", rat(x, NULL, NULL));
		ik8s_op_named(im, x->w, item, x->rname, "replace", rat(x, "image", NULL), json_string(ref));
		ik8s_patch_name(x->w, "json", pname);
		ik8s_report(im, x->w->o, at(x, "image", NULL),
		            "has no tag, or latest, and the document needs one: it says '" UNTAGGED "', and the patch '%s' puts '%s' back; pin a tag and drop that operation",
		            pname, ref);
	}
	const char *policy = str(x->c, "imagePullPolicy");
	if (!policy)
		policy = pinned(&r) || r.dig_len ? "IfNotPresent" : "Always";
	set(im, img, "pullPolicy", json_string(policy));
	set(im, doc, "image", img);
	if (img) {
		const char *keys[] = {"registry", "pullPolicy", "tag"};
		json_t *counts[] = {im->registries, im->policies, im->tags};
		for (size_t i = 0; i < (untagged ? 2u : 3u); i++)
			(void)oom(im, importkit_count(counts[i], str(img, keys[i])));
	}
}

/* command, args, workingDir of the container into doc. */
static void map_command(struct cctx *x, json_t *doc)
{
	static const char *const keys[] = {"command", "args"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = member(x->c, keys[i]);
		bool strings = json_is_array(v);
		size_t k;
		json_t *item;
		json_array_foreach(v, k, item)
			strings &= json_is_string(item);
		if (strings)
			set(x->im, doc, keys[i], json_deep_copy(v));
		else if (v)
			carry_member(x, keys[i], v, "is not a list of strings");
	}
	const char *dir = str(x->c, "workingDir");
	if (dir && *dir && !syntax_http_path(dir) && !strchr(dir, ':'))
		set(x->im, doc, "workingDir", json_string(dir));
	else if (dir && *dir)
		carry_member(x, "workingDir", member(x->c, "workingDir"), "is not a path the document takes");
}

/* lifecycle: a preStop sleep is the document's preStopSleepSeconds; the rest is carried. */
static void map_lifecycle(struct cctx *x, json_t *doc)
{
	const json_t *lc = member(x->c, "lifecycle"), *pre = member(lc, "preStop");
	const json_t *cmd = member(member(pre, "exec"), "command");
	long long secs = -1;
	json_t *sleep = member(pre, "sleep");
	if (sleep && json_object_size(pre) == 1)
		secs = int_of(sleep, "seconds", 1, 3600, -1);
	if (json_array_size(cmd) == 2 && json_object_size(pre) == 1 && json_is_string(json_array_get(cmd, 0)) &&
	    strcmp(json_string_value(json_array_get(cmd, 0)), "sleep") == 0) {
		long long n;
		if (util_parse_int(json_string_value(json_array_get(cmd, 1)), 1, 3600, &n) == 0)
			secs = n;
	}
	if (secs > 0 && json_object_size(lc) == 1 && doc) {
		set(x->im, child(x->im, doc, "scheduling"), "preStopSleepSeconds", json_integer(secs));
		return;
	}
	if (lc)
		carry_member(x, "lifecycle", lc, "the document has a preStop sleep only");
}

static const struct known container_keys[] = {
	{"name", NULL}, {"image", NULL}, {"imagePullPolicy", NULL}, {"command", NULL}, {"args", NULL},
	{"workingDir", NULL}, {"ports", NULL}, {"env", NULL}, {"envFrom", NULL}, {"resources", NULL},
	{"volumeMounts", NULL}, {"readinessProbe", NULL}, {"livenessProbe", NULL}, {"startupProbe", NULL},
	{"securityContext", NULL}, {"lifecycle", NULL}, {"terminationMessagePath", "\"/dev/termination-log\""},
	{"terminationMessagePolicy", "\"File\""}, {"stdin", "false"}, {"stdinOnce", "false"}, {"tty", "false"},
	{NULL, NULL}};

static void carry_container_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)im, (void)w;
	carry_member(arg, key, v, "the document has no such container field");
}

/* The container's document ports (from the port plan), with hostPort and the like of
 * each carried onto its rendered item. Jobs have no ports in the document: theirs are
 * carried whole. */
static void map_container_ports(struct cctx *x, json_t *doc, const json_t *plan)
{
	struct imp *im = x->im;
	json_t *ports = member(plan, x->rname);
	if (x->w->job) {
		if (json_array_size(member(x->c, "ports")))
			carry_member(x, "ports", member(x->c, "ports"), "a Job has no ports in the document");
		return;
	}
	if (json_object_size(ports))
		set(im, doc, "ports", json_incref(ports));
	size_t i;
	json_t *p;
	json_array_foreach(member(x->c, "ports"), i, p) {
		char key[160];
		(void)snprintf(key, sizeof key, "%s/%lld/%s", x->rname, (long long)int_of(p, "containerPort", 1, 65535, 0),
			       str(p, "protocol") ? str(p, "protocol") : "TCP");
		const char *doc_name = str(member(x->w->ports, key), "name");
		size_t pos = 0;
		const char *k;
		json_t *v;
		json_object_foreach(ports, k, v) {
			if (doc_name && strcmp(k, doc_name) == 0)
				break;
			pos++;
		}
		static const char *const extras[] = {"hostPort", "hostIP"};
		for (size_t e = 0; doc_name && e < 2; e++) {
			if (!member(p, extras[e]))
				continue;
			char item[512];
			(void)snprintf(item, sizeof item, "%s", rati(x, "ports", pos));
			step(im, &x->out, extras[e]);
			ik8s_carry_add(im, x->w, item, doc_name, buf_cstr(&x->out), member(p, extras[e]), ati(x, "ports", i),
				       "the document has no host ports");
		}
	}
}

/* The main container: the service's image, command, ports, env, probes, resources,
 * security, volumes, lifecycle; the rest carried. */
static void map_main(struct cctx *x, const json_t *plan, struct volume_plan *vp)
{
	static const char *const dflt[] = {"1", "512Mi"};
	json_t *doc = x->w->doc;
	map_image(x, doc);
	map_command(x, doc);
	map_container_ports(x, doc, plan);
	map_env(x, doc);
	map_probes(x, doc, false);
	map_resources(x, doc, dflt);
	map_security(x, doc);
	map_main_mounts(x, vp);
	map_lifecycle(x, doc);
	ik8s_leftovers(x->im, x->w, x->c, container_keys, carry_container_member, x);
}

/* A container's mounts, by the document's volume names; a volume only other containers
 * mount is added to the service too, and its mount in the service's container removed
 * again by the patch (see finish_volumes). */
static void map_mounts(struct cctx *x, struct cctx *main, json_t *doc, struct volume_plan *vp, json_t *removals)
{
	struct imp *im = x->im;
	json_t *mounts = json_object();
	size_t i;
	json_t *m;
	json_array_foreach(member(x->c, "volumeMounts"), i, m) {
		const char *name = str(m, "name");
		char mptr[512];
		(void)snprintf(mptr, sizeof mptr, "%s", ati(x, "volumeMounts", i));
		if (name && !member(vp->keys, name)) {
			/* the service's container mounts it where this one does, or elsewhere when
			 * that path is taken; the patch removes that mount again */
			char path[96];
			(void)snprintf(path, sizeof path, "/mnt/import-%zu", json_object_size(vp->vols));
			const char *want = str(m, "mountPath"), *k;
			json_t *v;
			json_object_foreach(vp->vols, k, v)
				if (want && str(v, "mountPath") && strcmp(str(v, "mountPath"), want) == 0)
					want = NULL;
			json_t *fake = json_pack("{s:s}", "mountPath", want ? want : path);
			if (add_volume(main, vp, name, fake, mptr))
				append(im, removals, json_pack("[I, s]", (json_int_t)(json_object_size(vp->vols) - 1),
							       str(vp->keys, name)));
			json_decref(fake);
		}
		const char *key = name ? str(vp->keys, name) : NULL;
		json_t *mount = json_object();
		if (key && !member(mounts, key) && mount_fields(im, m, mount)) {
			set(im, mounts, key, json_incref(mount));
		} else if (key) {
			mount_by_patch(x, m, key, mptr);
		}
		json_decref(mount);
	}
	if (json_object_size(mounts))
		set(im, doc, "volumeMounts", json_incref(mounts));
	json_decref(mounts);
}

/* An init container or a sidecar: a document container; what it cannot say, carried. */
static json_t *map_other(struct cctx *x, struct cctx *main, const json_t *plan, struct volume_plan *vp,
			 json_t *removals, bool sidecar)
{
	static const char *const dflt[] = {"200m", "128Mi"};
	struct imp *im = x->im;
	json_t *doc = json_object();
	const char *ref = str(x->c, "image");
	if (ref && full_ref_ok(ref)) {
		set(im, doc, "image", json_string(ref));
	} else {
		struct image_ref r;
		image_split(ref ? ref : "", &r);
		struct buf b;
		buf_init(&b, BUF_NO_MAX);
		(void)oom(im, buf_printf(&b, "%.*s:" UNTAGGED, (int)(r.tag_len ? r.tag_off - 1 : r.dig_len ? r.dig_off - 1 : strlen(r.s)), r.s));
		set(im, doc, "image", json_string(buf_cstr(&b)));
		if (ref)
			carry_member(x, "image", member(x->c, "image"),
				     "has no tag, or latest (which the document refuses): the document says ':" UNTAGGED "', the patch puts the image back");
		buf_release(&b);
	}
	map_command(x, doc);
	if (sidecar) {
		map_container_ports(x, doc, plan);
		map_probes(x, doc, true);
	} else {
		static const char *const carried[] = {"ports", "readinessProbe", "livenessProbe", "startupProbe"};
		for (size_t i = 0; i < 4; i++)
			if (member(x->c, carried[i]))
				carry_member(x, carried[i], member(x->c, carried[i]), "the document gives init containers none");
	}
	map_env(x, doc);
	map_resources(x, doc, dflt);
	map_mounts(x, main, doc, vp, removals);
	json_t *uid = sc_get(x, "runAsUser", false);
	json_t *service_uid = member(member(x->w->doc, "securityContext"), "runAsUser");
	if (json_is_integer(uid) && (!service_uid || !json_equal(uid, service_uid)))
		set(im, doc, "runAsUser", json_incref(uid));
	container_sc_rest(x);
	/* the service's settings, as the document resolves them, apply to every container */
	json_t *sc = member(x->w->doc, "securityContext");
	json_t *group = member(sc, "runAsGroup") ? member(sc, "runAsGroup") : member(sc, "runAsUser");
	json_t *ro = sc_get(x, "readOnlyRootFilesystem", false);
	json_t *service_ro = member(sc, "readOnlyRootFilesystem");
	if (json_is_boolean(ro) && json_is_true(ro) != json_is_true(service_ro))
		set(im, doc, "readOnlyRootFilesystem", json_incref(ro));
	json_t *theirs[] = {group, member(sc, "runAsNonRoot")};
	json_t *fallback[] = {json_integer(1000), json_true()};
	static const char *const sc_more[] = {"runAsGroup", "runAsNonRoot"};
	for (size_t i = 0; i < 2; i++) {
		json_t *mine = sc_get(x, sc_more[i], false);
		if (mine && !json_equal(mine, theirs[i] ? theirs[i] : fallback[i]))
			carry_sc(x, sc_more[i], mine, "differs from the service's container");
		json_decref(fallback[i]);
	}
	json_t *caps = added_caps(member(x->c, "securityContext"));
	if (json_array_size(caps))
		carry_sc(x, "capabilities", member(member(x->c, "securityContext"), "capabilities"),
			 "the document adds capabilities to the service's container only");
	json_decref(caps);
	const char *policy = str(x->c, "imagePullPolicy");
	const char *service_policy = str(member(x->w->doc, "image"), "pullPolicy");
	if (policy && service_policy && strcmp(policy, service_policy) != 0)
		carry_member(x, "imagePullPolicy", member(x->c, "imagePullPolicy"), "differs from the service's");
	if (member(x->c, "lifecycle"))
		map_lifecycle(x, NULL);
	ik8s_leftovers(im, x->w, x->c, container_keys, carry_container_member, x);
	return doc;
}

/* ---- the pod ---- */

static void carry_pod_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)arg;
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, buf_puts(&p, w->pod_ptr));
	step(im, &p, key);
	ik8s_carry_merge(im, w, buf_cstr(&p), v, "the document has no such pod field");
	buf_release(&p);
}

static void carry_pod_sc(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	(void)arg;
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, BUF_PUTS(&p, w->pod_ptr, "/securityContext"));
	step(im, &p, key);
	ik8s_carry_merge(im, w, buf_cstr(&p), v, "the document has no such pod securityContext setting");
	buf_release(&p);
}

/* nodeSelector, tolerations, affinity, priority class, grace period, topology spread
 * (the input's own constraints: spread none, theirs carried). */
static void map_scheduling(struct imp *im, struct workload *w)
{
	const json_t *pod = w->pod;
	json_t *s = child(im, w->doc, "scheduling");
	json_t *sel = member(pod, "nodeSelector");
	if (json_object_size(sel))
		set(im, s, "nodeSelector", json_deep_copy(sel));
	json_t *tol = member(pod, "tolerations");
	if (json_array_size(tol))
		set(im, s, "tolerations", json_deep_copy(tol));
	json_t *aff = member(pod, "affinity");
	if (json_object_size(aff))
		set(im, s, "affinity", json_deep_copy(aff));
	if (str(pod, "priorityClassName"))
		set(im, s, "priorityClassName", json_string(str(pod, "priorityClassName")));
	long long grace = int_of(pod, "terminationGracePeriodSeconds", 0, 86400, -1);
	if (grace >= 0 && grace != 30)
		set(im, s, "terminationGracePeriodSeconds", json_integer(grace));
	if (member(pod, "topologySpreadConstraints")) {
		set(im, s, "spread", json_string("none"));
		struct buf p;
		buf_init(&p, BUF_NO_MAX);
		(void)oom(im, BUF_PUTS(&p, w->pod_ptr, "/topologySpreadConstraints"));
		ik8s_carry_merge(im, w, buf_cstr(&p), member(pod, "topologySpreadConstraints"),
			         "the document's spread is one soft or hard constraint over nodes");
		buf_release(&p);
	}
}

/* The pod's service account: one the input declares is rendered by the first service
 * that uses it (others use it by name); one it does not declare is used by name. */
/* Whether the pods of some workload name the ServiceAccount name. */
static bool account_named(const struct imp *im, const char *name)
{
	for (size_t i = 0; i < im->nwls; i++) {
		const char *n = str(im->wls[i].pod, "serviceAccountName");
		if ((n && strcmp(n, name) == 0) || str_is(im->wls[i].pod, "serviceAccount", name))
			return true;
	}
	return false;
}

static void map_account(struct imp *im, struct workload *w)
{
	const char *name = str(w->pod, "serviceAccountName");
	if (!name)
		name = str(w->pod, "serviceAccount");
	json_t *auto_mount = member(w->pod, "automountServiceAccountToken");
	struct object *decl = NULL;
	for (size_t i = 0; i < im->nobjs && !decl; i++)
		if (im->objs[i].role == R_ACCOUNT && strcmp(im->objs[i].name, name ? name : w->name) == 0)
			decl = &im->objs[i];
	if (!name && decl && account_named(im, w->name)) {
		/* the service's own account would be named like that one, which others use */
		set(im, w->doc, "serviceAccount", json_pack("{s:b, s:s, s:b}", "create", 0, "name", "default",
							     "automountToken", !json_is_false(auto_mount)));
		ik8s_report(im, w->o, w->pod_ptr, "names no ServiceAccount: it keeps the namespace's default one (its own would be named like '%s', which other workloads use)",
		            w->name);
		return;
	}
	bool adopted = !name && decl;
	if (adopted) {
		ik8s_report(im, decl, NULL, "no pod names it, and it is named like the service '%s': it is that service's own account", w->name);
		name = w->name;
	}
	if (!name) {
		if (json_is_true(auto_mount))
			set(im, child(im, w->doc, "serviceAccount"), "automountToken", json_true());
		return;
	}
	json_t *sa = json_object();
	const char *owner = str(im->accounts, name);
	if (!decl || owner || strcmp(name, "default") == 0 || syntax_dns_label(name)) {
		set(im, sa, "create", json_false());
	} else {
		set(im, im->accounts, name, json_string(w->name));
		decl->carried = true;
		json_t *ann = ik8s_own_annotations(im, member(member(decl->obj, "metadata"), "annotations"));
		if (ann)
			set(im, sa, "annotations", ann);
		if (!auto_mount)
			auto_mount = member(decl->obj, "automountServiceAccountToken");
		static const char *const rest[] = {"secrets", "imagePullSecrets"};
		for (size_t i = 0; i < 2; i++) {
			if (!member(decl->obj, rest[i]))
				continue;
			char pname[64];
			ik8s_patch_name(w, "account", pname);
			json_t *patch = json_pack("{s:{s:s, s:s}, s:{s:O}}", "target", "kind", "ServiceAccount", "name", name,
						  "merge", rest[i], member(decl->obj, rest[i]));
			set(im, im->patches, pname, patch);
			ik8s_report(im, decl, NULL, "%s is carried by the patch '%s'", rest[i], pname);
		}
	}
	if (strcmp(name, w->name) != 0)
		set(im, sa, "name", json_string(name));
	/* a pod that names an account means to use it: Kubernetes mounts its token unless told
	 * not to; an account only adopted keeps manifestd's default (no token) unless it says */
	set(im, sa, "automountToken", json_boolean(adopted ? json_is_true(auto_mount) : !json_is_false(auto_mount)));
	set(im, w->doc, "serviceAccount", sa);
}

static const struct known pod_keys[] = {
	{"containers", NULL}, {"initContainers", NULL}, {"volumes", NULL}, {"serviceAccountName", NULL},
	{"serviceAccount", NULL}, {"automountServiceAccountToken", NULL}, {"securityContext", NULL},
	{"nodeSelector", NULL}, {"tolerations", NULL}, {"affinity", NULL}, {"priorityClassName", NULL},
	{"terminationGracePeriodSeconds", NULL}, {"imagePullSecrets", NULL}, {"topologySpreadConstraints", NULL},
	{"restartPolicy", NULL}, {"dnsPolicy", "\"ClusterFirst\""}, {"schedulerName", "\"default-scheduler\""},
	{"enableServiceLinks", "false"}, {"shareProcessNamespace", "false"}, {"hostNetwork", "false"},
	{"hostPID", "false"}, {"hostIPC", "false"}, {NULL, NULL}};

static const struct known pod_sc_keys[] = {
	{"runAsUser", NULL}, {"runAsGroup", NULL}, {"fsGroup", NULL}, {"runAsNonRoot", NULL},
	{"seccompProfile", "{\"type\": \"RuntimeDefault\"}"}, {NULL, NULL}};

static void map_pod_rest(struct imp *im, struct workload *w)
{
	const json_t *pod = w->pod;
	ik8s_leftovers(im, w, pod, pod_keys, carry_pod_member, NULL);
	ik8s_leftovers(im, w, member(pod, "securityContext"), pod_sc_keys, carry_pod_sc, NULL);
	const char *restart = str(pod, "restartPolicy");
	if (w->job && restart && strcmp(restart, "Never") == 0)
		set(im, child(im, w->doc, "job"), "restartPolicy", json_string(restart));
	else if (restart && strcmp(restart, w->job ? "OnFailure" : "Always") != 0)
		carry_pod_member(im, w, "restartPolicy", member(pod, "restartPolicy"), NULL);
	json_t *secrets = member(pod, "imagePullSecrets");
	const char *first = str(json_array_get(secrets, 0), "name");
	if (first)
		(void)oom(im, importkit_count(im->pull_secrets, first));
	if (json_array_size(secrets) > 1)
		carry_pod_member(im, w, "imagePullSecrets", secrets, NULL);
}

/* ---- the workload ---- */

static void carry_spec_member(struct imp *im, struct workload *w, const char *key, const json_t *v, void *arg)
{
	struct buf p;
	buf_init(&p, BUF_NO_MAX);
	(void)oom(im, buf_puts(&p, arg ? (const char *)arg : "/spec"));
	step(im, &p, key);
	ik8s_carry_merge(im, w, buf_cstr(&p), v, "the document has no such field");
	buf_release(&p);
}

/* Job settings of spec (a Job's, or a CronJob's jobTemplate.spec) into the document. */
static void map_job(struct imp *im, struct workload *w, const json_t *spec, const char *ptr)
{
	static const struct {
		const char *key;
		long long min, max;
	} ints[] = {{"backoffLimit", 0, 1000}, {"activeDeadlineSeconds", 1, 31536000},
		    {"ttlSecondsAfterFinished", 0, 31536000}, {"completions", 1, 100000}, {"parallelism", 1, 100000}};
	static const struct known keys[] = {
		{"template", NULL}, {"backoffLimit", NULL}, {"activeDeadlineSeconds", NULL},
		{"ttlSecondsAfterFinished", NULL}, {"completions", NULL}, {"parallelism", NULL}, {"selector", NULL},
		{"manualSelector", "false"}, {"suspend", "false"}, {"completionMode", "\"NonIndexed\""}, {NULL, NULL}};
	json_t *job = child(im, w->doc, "job");
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		json_t *v = member(spec, ints[i].key);
		long long n = int_of(spec, ints[i].key, ints[i].min, ints[i].max, -1);
		if (n >= 0)
			set(im, job, ints[i].key, json_integer(n));
		else if (v)
			carry_spec_member(im, w, ints[i].key, v, (void *)ptr);
	}
	if (!member(spec, "ttlSecondsAfterFinished"))
		ik8s_report(im, w->o, ptr, "keeps finished Jobs (no ttlSecondsAfterFinished): here they are deleted after a day, manifestd's default");
	ik8s_leftovers(im, w, spec, keys, carry_spec_member, (void *)ptr);
	if (!json_object_size(job))
		(void)json_object_del(w->doc, "job");
}

static void map_cron(struct imp *im, struct workload *w, const json_t *spec)
{
	static const struct known keys[] = {
		{"schedule", NULL}, {"timeZone", NULL}, {"concurrencyPolicy", NULL}, {"successfulJobsHistoryLimit", NULL},
		{"failedJobsHistoryLimit", NULL}, {"startingDeadlineSeconds", NULL}, {"suspend", NULL},
		{"jobTemplate", NULL}, {NULL, NULL}};
	json_t *cron = child(im, w->doc, "cron");
	const char *sched = str(spec, "schedule");
	if (sched)
		set(im, cron, "schedule", json_string(sched));
	if (str(spec, "timeZone"))
		set(im, cron, "timeZone", json_string(str(spec, "timeZone")));
	/* Kubernetes' default is Allow, the document's Forbid */
	set(im, cron, "concurrencyPolicy", json_string(str(spec, "concurrencyPolicy") ? str(spec, "concurrencyPolicy") : "Allow"));
	static const char *const ints[] = {"successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"};
	for (size_t i = 0; i < 3; i++) {
		long long n = int_of(spec, ints[i], 0, i < 2 ? 100 : 31536000, -1);
		if (n >= 0)
			set(im, cron, ints[i], json_integer(n));
		else if (member(spec, ints[i]))
			carry_spec_member(im, w, ints[i], member(spec, ints[i]), NULL);
	}
	if (truthy(spec, "suspend"))
		set(im, cron, "suspend", json_true());
	ik8s_leftovers(im, w, spec, keys, carry_spec_member, NULL);
	json_t *jt = member(spec, "jobTemplate");
	json_t *jt_meta = member(jt, "metadata");
	if (json_object_size(jt_meta))
		carry_spec_member(im, w, "metadata", jt_meta, "/spec/jobTemplate");
	map_job(im, w, member(jt, "spec"), "/spec/jobTemplate/spec");
}

/* What the input's Service called name is: NULL when headless (clusterIP None), else why
 * it cannot govern a StatefulSet. */
static const char *not_headless(const struct imp *im, const char *name)
{
	for (size_t i = 0; i < im->nobjs; i++) {
		const struct object *o = &im->objs[i];
		if (strcmp(o->kind, "Service") == 0 && strcmp(o->name, name) == 0)
			return str_is(member(o->obj, "spec"), "clusterIP", "None") ? NULL : "is not headless";
	}
	return "is not in the input";
}

/* A StatefulSet's serviceName (sn, NULL when absent). manifestd governs every StatefulSet
 * by its own headless '<name>-headless'; a headless Service of the input that the pods'
 * DNS names come from is kept (a patch). One that is not headless gives the pods no DNS
 * names of their own (the day-2 rule): reported, and the StatefulSet keeps manifestd's. */
static void map_service_name(struct imp *im, struct workload *w, const char *sn)
{
	char headless[80];
	(void)snprintf(headless, sizeof headless, "%s-headless", w->name);
	if (!sn || strcmp(sn, headless) == 0)
		return;
	const char *why = not_headless(im, sn);
	if (why) {
		ik8s_guess(im, w->o, "/spec/serviceName", "names the Service '%s', which %s (the pods get their DNS names "
			   "from a headless one): the StatefulSet is governed by the headless Service '%s' manifestd "
			   "renders", sn, why, headless);
		return;
	}
	json_t *v = json_string(sn);
	ik8s_carry_merge(im, w, "/spec/serviceName", v,
			 "the pods' DNS names come from this Service (manifestd renders its own '<name>-headless')");
	json_decref(v);
}

/* A bare Pod: its spec is its pod's, mapped with the pod; nothing keeps it running if its
 * node goes, so it becomes a Deployment of one pod, or a Job when it runs to completion. */
static void map_bare_pod(struct imp *im, struct workload *w)
{
	set(im, w->doc, "kind", json_string(w->job ? "Job" : "Deployment"));
	ik8s_guess(im, w->o, "/kind", w->job ? "is a bare Pod that runs to completion (restartPolicy %s): rendered as a Job"
					 : "is a bare Pod: rendered as a Deployment of one pod, which replaces it when "
					   "it fails or its node goes",
		   str(w->pod, "restartPolicy"));
}

/* The kind, replicas and update strategy; the rest of the spec is carried. */
static void map_spec(struct imp *im, struct workload *w)
{
	static const struct known deployment[] = {
		{"replicas", NULL}, {"selector", NULL}, {"template", NULL}, {"strategy", NULL},
		{"revisionHistoryLimit", "10"}, {"progressDeadlineSeconds", "600"}, {"minReadySeconds", "0"},
		{"paused", "false"}, {NULL, NULL}};
	static const struct known stateful[] = {
		{"replicas", NULL}, {"selector", NULL}, {"template", NULL}, {"serviceName", NULL},
		{"volumeClaimTemplates", NULL}, {"podManagementPolicy", "\"OrderedReady\""},
		{"updateStrategy", "{\"type\": \"RollingUpdate\"}"}, {"revisionHistoryLimit", "10"},
		{"minReadySeconds", "0"}, {NULL, NULL}};
	static const struct known daemon[] = {
		{"selector", NULL}, {"template", NULL},
		{"updateStrategy", "{\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"maxUnavailable\": 1}}"},
		{"revisionHistoryLimit", "10"}, {"minReadySeconds", "0"}, {NULL, NULL}};
	const char *kind = w->o->kind;
	json_t *spec = member(w->o->obj, "spec");
	if (ik8s_bare_pod(w->o)) {
		map_bare_pod(im, w);
		return;
	}
	bool deploy = strcmp(kind, "Deployment") == 0 || strcmp(kind, "ReplicaSet") == 0 ||
		      strcmp(kind, "ReplicationController") == 0;
	set(im, w->doc, "kind", json_string(deploy ? "Deployment" : kind));
	if (deploy && strcmp(kind, "Deployment") != 0)
		ik8s_report(im, w->o, "/kind", "is rendered as a Deployment, which manages ReplicaSets itself");
	if (strcmp(kind, "Job") == 0)
		map_job(im, w, spec, "/spec");
	else if (strcmp(kind, "CronJob") == 0)
		map_cron(im, w, spec);
	else
		ik8s_leftovers(im, w, spec, deploy ? deployment : strcmp(kind, "StatefulSet") == 0 ? stateful : daemon,
			       carry_spec_member, NULL);
	if (deploy || strcmp(kind, "StatefulSet") == 0) {
		long long replicas = int_of(spec, "replicas", 0, 1000, 1);
		if (replicas != 1)
			set(im, w->doc, "replicas", json_integer(replicas));
		w->multi = replicas > 1;
	}
	json_t *strategy = member(spec, "strategy");
	const char *type = str(strategy, "type");
	if (deploy && type && strcmp(type, "Recreate") == 0)
		set(im, w->doc, "strategy", json_string("Recreate"));
	if (deploy && member(strategy, "rollingUpdate"))
		ik8s_carry_merge(im, w, "/spec/strategy/rollingUpdate", member(strategy, "rollingUpdate"),
			         "the document's rolling update is maxUnavailable 0, maxSurge 1");
	if (strcmp(kind, "StatefulSet") == 0)
		map_service_name(im, w, str(spec, "serviceName"));
}

/* Container i of the input's list, at index ri of the render's. */
static void cctx_init(struct cctx *x, struct imp *im, struct workload *w, const json_t *c, const char *list,
		      size_t i, size_t ri, const char *rname)
{
	*x = (struct cctx){.im = im, .w = w, .c = c, .rname = rname, .main = ri == 0 && strcmp(list, "containers") == 0};
	buf_init(&x->in, BUF_NO_MAX);
	buf_init(&x->out, BUF_NO_MAX);
	(void)oom(im, buf_printf(&x->in, "%s/%s/%zu", w->pod_ptr, list, i));
	(void)oom(im, buf_printf(&x->out, "%s/%s/%zu", w->pod_ptr, list, ri));
	x->in_len = x->in.len;
	x->out_len = x->out.len;
}

static void cctx_release(struct cctx *x)
{
	buf_release(&x->in);
	buf_release(&x->out);
}

/* The labels and annotations of the workload and of its pods. */
static void map_metadata(struct imp *im, struct workload *w)
{
	static const char *const dropped[] = {"ownerReferences", "finalizers"};
	json_t *tmeta = member(w->tmpl, "metadata");
	json_t *meta = ik8s_bare_pod(w->o) ? NULL : member(w->o->obj, "metadata"); /* a bare Pod's are its pods' */
	char ptr[96];
	(void)snprintf(ptr, sizeof ptr, "%.*s/metadata/labels", (int)(strlen(w->pod_ptr) - 5), w->pod_ptr);
	json_t *v = ik8s_own_labels(im, w, member(meta, "labels"), "/metadata/labels");
	if (v)
		set(im, w->doc, "labels", v);
	if ((v = ik8s_own_annotations(im, member(meta, "annotations"))))
		set(im, w->doc, "annotations", v);
	if ((v = ik8s_own_labels(im, w, member(tmeta, "labels"), ptr)))
		set(im, w->doc, "podLabels", v);
	if ((v = ik8s_own_annotations(im, member(tmeta, "annotations"))))
		set(im, w->doc, "podAnnotations", v);
	for (size_t i = 0; i < 2; i++) {
		(void)snprintf(ptr, sizeof ptr, "/metadata/%s", dropped[i]);
		if (member(member(w->o->obj, "metadata"), dropped[i]))
			ik8s_report(im, w->o, ptr, "is set by the cluster, not by a bundle: not kept");
	}
}

/* Mounts only other containers make are removed from the service's container, last
 * first so that the positions hold. */
static void finish_volumes(struct cctx *main, struct volume_plan *vp, json_t *removals)
{
	struct imp *im = main->im;
	for (size_t i = json_array_size(removals); i-- > 0;) {
		json_t *r = json_array_get(removals, i);
		char item[512];
		(void)snprintf(item, sizeof item, "%s", rati(main, "volumeMounts", (size_t)json_integer_value(json_array_get(r, 0))));
		ik8s_op_named(im, main->w, item, json_string_value(json_array_get(r, 1)), "remove", item, NULL);
	}
	bool tmp = false;
	const char *k;
	json_t *v;
	json_object_foreach(vp->vols, k, v)
		tmp |= str(v, "mountPath") && strcmp(str(v, "mountPath"), "/tmp") == 0;
	if (!tmp && json_is_true(member(member(main->w->doc, "securityContext"), "readOnlyRootFilesystem")))
		ik8s_report(im, main->w->o, at(main, "securityContext", "readOnlyRootFilesystem"),
		            "with a read-only root filesystem, manifestd mounts an emptyDir at /tmp");
	if (json_object_size(vp->vols))
		set(im, main->w->doc, "volumes", json_incref(vp->vols));
	size_t i;
	json_t *pv;
	json_array_foreach(member(main->w->pod, "volumes"), i, pv)
		if (str(pv, "name") && !member(vp->keys, str(pv, "name"))) {
			char ptr[96];
			(void)snprintf(ptr, sizeof ptr, "%s/volumes/%zu", main->w->pod_ptr, i);
			ik8s_report(im, main->w->o, ptr, "no container mounts it: not kept");
		}
}

/* Whether a port of the Service targets container c (by number or name). */
static bool targeted(const struct workload *w, const json_t *c)
{
	size_t i, k;
	json_t *sp, *cp;
	json_array_foreach(member(member(w->service ? w->service->obj : NULL, "spec"), "ports"), i, sp) {
		json_t *t = member(sp, "targetPort");
		if (!t || (json_is_integer(t) && json_integer_value(t) == 0))
			t = member(sp, "port");
		json_array_foreach(member(c, "ports"), k, cp)
			if (json_equal(t, member(cp, json_is_string(t) ? "name" : "containerPort")))
				return true;
	}
	return false;
}

/* The service's container (helm charts often put sidecars before it). */
size_t ik8s_main_container(const struct workload *w)
{
	const json_t *containers = member(w->pod, "containers");
	size_t i;
	json_t *c;
	json_array_foreach(containers, i, c)
		if (targeted(w, c))
			return i;
	json_array_foreach(containers, i, c)
		if (str_is(c, "name", w->o->name))
			return i;
	return 0;
}

void ik8s_map_workload(struct imp *im, struct workload *w)
{
	w->main = ik8s_main_container(w);
	map_spec(im, w);
	map_metadata(im, w);
	json_t *plan = plan_ports(im, w);
	if (w->service)
		map_service(im, w);
	struct volume_plan vp = {json_object(), json_object(), 0};
	json_t *removals = json_array(), *inits = json_object(), *sidecars = json_object();
	if (!vp.vols || !vp.keys || !removals || !inits || !sidecars)
		(void)oom(im, -ENOMEM);
	const json_t *containers = member(w->pod, "containers");
	struct cctx main;
	cctx_init(&main, im, w, json_array_get(containers, w->main), "containers", w->main, 0, w->name);
	map_main(&main, plan, &vp);
	size_t i;
	json_t *c;
	json_array_foreach(member(w->pod, "initContainers"), i, c) {
		char label[64], key[64];
		ik8s_label_of(str(c, "name"), false, label);
		ik8s_unique_key(inits, *label ? label : "init", key);
		struct cctx x;
		cctx_init(&x, im, w, c, "initContainers", i, i, key);
		set(im, inits, key, map_other(&x, &main, plan, &vp, removals, false));
		cctx_release(&x);
	}
	size_t ri = 1;
	json_array_foreach(containers, i, c) {
		char key[64];
		container_key(w, c, i, key);
		if (i == w->main)
			continue;
		struct cctx x;
		cctx_init(&x, im, w, c, "containers", i, ri++, key);
		set(im, sidecars, key, map_other(&x, &main, plan, &vp, removals, true));
		cctx_release(&x);
	}
	if (json_object_size(inits))
		set(im, w->doc, "initContainers", json_incref(inits));
	if (json_object_size(sidecars))
		set(im, w->doc, "sidecars", json_incref(sidecars));
	finish_volumes(&main, &vp, removals);
	map_scheduling(im, w);
	map_account(im, w);
	map_pod_rest(im, w);
	if (!json_object_size(member(w->doc, "scheduling")))
		(void)json_object_del(w->doc, "scheduling");
	cctx_release(&main);
	json_decref(plan);
	json_decref(vp.vols);
	json_decref(vp.keys);
	json_decref(removals);
	json_decref(inits);
	json_decref(sidecars);
}

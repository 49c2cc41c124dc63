/* rules: the rules across fields of a resolved document (include/rules.h): references,
 * kinds, ports, volumes, ingress rules, extra objects. */
#include "rules.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "jsoniter.h"
#include "schema.h"
#include "syntax.h"

#define SUGGEST_FMT "%s%s%s"
#define SUGGEST(g) (g) ? "; did you mean \"" : "", (g) ? (g) : "", (g) ? "\"?" : ""
#define PTR MODEL_PTR
#define CLIP MODEL_CLIP

/* What the rules look up again and again in the resolved document, found once. */
struct rules {
	const json_t *doc;
	const json_t *config, *secrets; /* /config and /secrets (borrowed; NULL when absent) */
	const json_t *services;
	bool secrets_inline;            /* model_secrets_inline(doc) */
	struct model_errors *e;
};

/* A problem at the segments at, then segs (model_errors_at). */
#define errp(R, at, segs, ...) model_errors_at((R)->e, (at), (segs), __VA_ARGS__)

static bool is_enabled(const json_t *obj)
{
	return json_is_true(json_object_get(obj, "enabled"));
}

/* The string at obj[key], or NULL when absent or not a string. */
static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool str_is(const json_t *obj, const char *key, const char *value)
{
	const char *s = get_str(obj, key);
	return s && strcmp(s, value) == 0;
}

/* The segments of at (NULL-terminated, at most PATH_AT of them are kept) followed by up
 * to 3 more (a NULL ends them early), in p. */
#define PATH_AT 8
struct path {
	const char *seg[PATH_AT + 4];
};

static const char *const *sub(struct path *p, const char *const *at, const char *a, const char *b, const char *c)
{
	const char *more[3] = {a, b, c};
	size_t n = 0;
	while (n < PATH_AT && at && at[n]) {
		p->seg[n] = at[n];
		n++;
	}
	for (size_t i = 0; i < 3; i++)
		p->seg[n + i] = more[i];
	p->seg[n + 3] = NULL;
	return p->seg;
}

/* ---- references ------------------------------------------------------------------------ */

static int check_config_ref(const struct rules *R, const char *const *at, const char *const *segs,
			    const char *key)
{
	if (json_object_get(R->config, key))
		return 0;
	const char *guess = model_closest_key(R->config, key);
	return errp(R, at, segs, "names the config key \"%.*s%s\", which is not defined in /config" SUGGEST_FMT,
		    CLIP(key), SUGGEST(guess));
}

static int check_secret_ref(const struct rules *R, const char *const *at, const char *const *segs,
			    const char *key)
{
	const json_t *v = json_object_get(R->secrets, key);
	if (!v) {
		const char *guess = model_closest_key(R->secrets, key);
		return errp(R, at, segs, "names the secret \"%.*s%s\", which is not defined in /secrets" SUGGEST_FMT,
			    CLIP(key), SUGGEST(guess));
	}
	if (json_is_string(v) && json_string_length(v) == 0 && R->secrets_inline)
		return errp(R, at, segs, "names the secret \"%.*s%s\", which has no value: set it in "
			    "/secrets of this environment", CLIP(key));
	return 0;
}

/* `from` only beside config or secret; the key, without `from`, among the stack's. */
static int check_env_source(const struct rules *R, const char *const *at, const char *var,
			    const json_t *src, bool refs)
{
	const char *config = get_str(src, "config"), *secret = get_str(src, "secret");
	bool from = json_object_get(src, "from") != NULL;
	if (from && !config && !secret)
		return errp(R, at, PTR(var, "from"), "only goes with \"config\" or \"secret\": it names the "
			    "ConfigMap or Secret to read the key from");
	if (!refs || from)
		return 0;
	if (config)
		return check_config_ref(R, at, PTR(var, "config"), config);
	if (secret)
		return check_secret_ref(R, at, PTR(var, "secret"), secret);
	return 0;
}

static int check_env(const struct rules *R, const char *const *at, const json_t *env, bool refs)
{
	const char *var;
	json_t *src;
	struct path p;
	EACH_MEMBER((json_t *)env, var, src) {
		if (json_is_object(src) && check_env_source(R, sub(&p, at, "env", NULL, NULL), var, src, refs) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* request <= limit for cpu and memory, when both parse. */
static int check_resources(const struct rules *R, const char *const *at, const json_t *res)
{
	static const char *const kinds[] = {"cpu", "memory"};
	const json_t *requests = json_object_get(res, "requests"), *limits = json_object_get(res, "limits");
	for (size_t i = 0; i < 2; i++) {
		const char *req = get_str(requests, kinds[i]);
		const char *lim = get_str(limits, kinds[i]);
		long double rv, lv;
		if (!req || !lim || syntax_quantity_value(req, &rv) < 0 || syntax_quantity_value(lim, &lv) < 0)
			continue;
		if (rv > lv * (1 + 1e-12L) &&
		    errp(R, at, PTR("resources", "requests", kinds[i]), "must not be more than the limit "
			 "\"%.*s%s\" (resources.limits.%s), got \"%.*s%s\"", CLIP(lim), kinds[i], CLIP(req)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- a service ---------------------------------------------------------------------------- */

/* What one service's rules need besides the document. */
struct svc {
	const char *name;
	const json_t *v;
	const char *const *at; /* /services/<name> */
	bool enabled;
	const char *kind;
	const json_t *ports, *volumes;
};

static bool one_shot(const struct svc *s)
{
	return s->kind && (!strcmp(s->kind, "Job") || !strcmp(s->kind, "CronJob"));
}

static int check_autoscaling(const struct rules *R, const struct svc *s)
{
	const json_t *hpa = json_object_get(s->v, "autoscaling");
	const json_t *min = json_object_get(hpa, "minReplicas"), *max = json_object_get(hpa, "maxReplicas");
	int r = 0;
	if (json_is_integer(min) && json_is_integer(max) && json_integer_value(min) > json_integer_value(max))
		r = errp(R, s->at, PTR("autoscaling", "minReplicas"), "must not be more than maxReplicas (%"
			 JSON_INTEGER_FORMAT "), got %" JSON_INTEGER_FORMAT, json_integer_value(max),
			 json_integer_value(min));
	if (r == 0 && is_enabled(hpa) && s->kind && strcmp(s->kind, "Deployment") && strcmp(s->kind, "StatefulSet"))
		r = errp(R, s->at, PTR("autoscaling", "enabled"), "only works for a Deployment or a StatefulSet, "
			 "and this service is a %s: set it to false", s->kind);
	return r;
}

/* A probe's port: a name among ports, or any number; and successThreshold 1 where
 * Kubernetes wants it. */
static int check_probe(const struct rules *R, const char *const *at, const char *which, const json_t *probe,
		       const json_t *ports)
{
	static const char *const kinds[] = {"httpGet", "tcpSocket", "grpc"};
	struct path p;
	int r = 0;
	if (!json_is_object(probe))
		return 0;
	if (strcmp(which, "readiness") && json_integer_value(json_object_get(probe, "successThreshold")) > 1)
		r = errp(R, sub(&p, at, "probes", which, NULL), PTR("successThreshold"), "must be 1 for a %s "
			 "probe (Kubernetes allows other values only for readiness)", which);
	for (size_t i = 0; r == 0 && i < 3; i++) {
		const json_t *k = json_object_get(probe, kinds[i]);
		const json_t *port = json_object_get(k, "port");
		if (!json_is_object(k))
			continue;
		if (!port)
			r = errp(R, sub(&p, at, "probes", which, kinds[i]), PTR("port"), "is required: this "
				 "container has no %sport to check", i == 1 ? "TCP " : "");
		else if (json_is_string(port) && !json_object_get(ports, json_string_value(port)))
			r = errp(R, sub(&p, at, "probes", which, kinds[i]), PTR("port"), "names the port \"%.*s%s\", "
				 "which is not one of this container's ports" SUGGEST_FMT,
				 CLIP(json_string_value(port)), SUGGEST(model_closest_key(ports, json_string_value(port))));
	}
	return r;
}

static int check_probes(const struct rules *R, const char *const *at, const json_t *probes, const json_t *ports)
{
	static const char *const names[] = {"readiness", "liveness", "startup"};
	int r = 0;
	for (size_t i = 0; r == 0 && i < 3; i++)
		r = check_probe(R, at, names[i], json_object_get(probes, names[i]), ports);
	return r;
}

/* Each port: nodePort only where the Service type has node ports, in their range. */
static int check_ports(const struct rules *R, const struct svc *s, const char *const *at, const json_t *ports)
{
	const char *type = get_str(json_object_get(s->v, "expose"), "type");
	bool node_ports = type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
	const char *name;
	json_t *port;
	EACH_MEMBER((json_t *)ports, name, port) {
		json_int_t np = json_integer_value(json_object_get(port, "nodePort"));
		int r = 0;
		if (np && !node_ports)
			r = errp(R, at, PTR("ports", name, "nodePort"), "needs expose.type \"NodePort\" or "
				 "\"LoadBalancer\" (the Service is %s): set it to 0", type ? type : "?");
		else if (np && (np < 30000 || np > 32767))
			r = errp(R, at, PTR("ports", name, "nodePort"), "must be 0 or in the node port range "
				 "30000-32767, got %" JSON_INTEGER_FORMAT, np);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One port of the pod: where it is declared, its name, container port and protocol. */
struct pod_port {
	const char *container; /* NULL: the service's own container */
	const char *name;
	json_int_t number;
	const char *protocol;
};

#define MAX_POD_PORTS 2100 /* 100 ports for the service and for each of 20 sidecars */

static int add_ports(struct pod_port *all, size_t *n, const char *container, const json_t *ports)
{
	const char *name;
	json_t *port;
	EACH_MEMBER((json_t *)ports, name, port) {
		if (*n == MAX_POD_PORTS || !json_is_object(port))
			continue;
		all[(*n)++] = (struct pod_port){container, name, json_integer_value(json_object_get(port, "targetPort")),
						get_str(port, "protocol")};
	}
	return 0;
}

/* The problem of port b, when an earlier port a of the pod clashes with it. */
static int report_clash(const struct rules *R, const struct svc *s, const struct pod_port *a,
			const struct pod_port *b)
{
	struct path p;
	const char *const *at = b->container ? sub(&p, s->at, "sidecars", b->container, NULL) : s->at;
	if (!strcmp(a->name, b->name))
		return errp(R, at, PTR("ports", b->name), "is also the name of a port of %s%s%s: port names "
			    "are the Service's and must differ", a->container ? "the sidecar \"" : "the service's "
			    "own container", a->container ? a->container : "", a->container ? "\"" : "");
	return errp(R, at, PTR("ports", b->name, "targetPort"), "is also the container port of \"%s\" "
		    "(%" JSON_INTEGER_FORMAT "/%s): the containers of a pod share its ports", a->name, b->number,
		    b->protocol ? b->protocol : "TCP");
}

/* No two ports of the pod (the service's container and its sidecars) share a name, nor a
 * container port and protocol. */
static int check_port_clashes(const struct rules *R, const struct svc *s)
{
	static __thread struct pod_port all[MAX_POD_PORTS];
	size_t n = 0;
	const char *cname;
	json_t *c;
	add_ports(all, &n, NULL, s->ports);
	EACH_MEMBER(json_object_get(s->v, "sidecars"), cname, c)
		add_ports(all, &n, cname, json_object_get(c, "ports"));
	for (size_t j = 1; j < n; j++)
		for (size_t i = 0; i < j; i++) {
			bool same_port = all[i].number == all[j].number && all[i].protocol && all[j].protocol &&
					 !strcmp(all[i].protocol, all[j].protocol);
			if (!strcmp(all[i].name, all[j].name) || same_port) {
				if (report_clash(R, s, &all[i], &all[j]) < 0)
					return -ENOMEM;
				break;
			}
		}
	return 0;
}

/* A file's key among config or secrets. */
static int check_files(const struct rules *R, const char *const *at, const char *vol, const json_t *files)
{
	const char *path;
	json_t *f;
	struct path p;
	EACH_MEMBER((json_t *)files, path, f) {
		const char *config = get_str(f, "config"), *secret = get_str(f, "secret");
		const char *const *fat = sub(&p, at, "volumes", vol, "files");
		int r = config ? check_config_ref(R, fat, PTR(path, "config"), config)
			: secret ? check_secret_ref(R, fat, PTR(path, "secret"), secret)
				 : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Volumes: file references, persistent storage only where a workload can keep it, no two
 * mounts at one path in the service's container. */
static int check_volumes(const struct rules *R, const struct svc *s)
{
	const char *name, *other;
	json_t *vol, *v2;
	EACH_MEMBER((json_t *)s->volumes, name, vol) {
		const char *path = get_str(vol, "mountPath");
		int r = s->enabled ? check_files(R, s->at, name, json_object_get(vol, "files")) : 0;
		if (r == 0 && json_object_get(vol, "persistent") && s->kind && strcmp(s->kind, "StatefulSet"))
			r = errp(R, s->at, PTR("volumes", name, "persistent"), "needs kind \"StatefulSet\" (or \"\"): "
				 "a %s cannot keep a claim per pod; use \"claim\" with an existing "
				 "PersistentVolumeClaim instead", s->kind);
		EACH_MEMBER((json_t *)s->volumes, other, v2) {
			if (r == 0 && v2 == vol)
				break;
			if (r == 0 && path && str_is(v2, "mountPath", path))
				r = errp(R, s->at, PTR("volumes", name, "mountPath"), "is also the mount path of "
					 "volume \"%s\": each volume needs its own path", other);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* An init container or sidecar: requests within limits, env references, mounts of the
 * service's volumes, ports and probes only for sidecars. */
static int check_container(const struct rules *R, const struct svc *s, const char *group, const char *cname,
			   const json_t *c)
{
	struct path p;
	const char *const *at = sub(&p, s->at, group, cname, NULL);
	bool init = !strcmp(group, "initContainers");
	const json_t *probes = json_object_get(c, "probes");
	int r = check_resources(R, at, json_object_get(c, "resources"));
	if (r == 0)
		r = check_env(R, at, json_object_get(c, "env"), s->enabled);
	const char *vol;
	json_t *m;
	EACH_MEMBER(json_object_get(c, "volumeMounts"), vol, m) {
		(void)m;
		if (r == 0 && !json_object_get(s->volumes, vol))
			r = errp(R, at, PTR("volumeMounts", vol), "names the volume \"%.*s%s\", which is not "
				 "one of the service's volumes" SUGGEST_FMT, CLIP(vol),
				 SUGGEST(model_closest_key(s->volumes, vol)));
	}
	if (r == 0 && init && json_object_size(json_object_get(c, "ports")))
		r = errp(R, at, PTR("ports"), "is for sidecars: an init container ends before the service "
			 "starts, so it serves nothing");
	bool any_probe = json_is_object(json_object_get(probes, "readiness")) ||
			 json_is_object(json_object_get(probes, "liveness")) ||
			 json_is_object(json_object_get(probes, "startup"));
	if (r == 0 && init && any_probe)
		r = errp(R, at, PTR("probes"), "is for sidecars: Kubernetes runs no probes on init containers");
	if (r == 0 && !init)
		r = check_probes(R, at, probes, json_object_get(c, "ports"));
	return r;
}

static int check_containers(const struct rules *R, const struct svc *s, const char *group)
{
	const char *cname;
	json_t *c;
	EACH_MEMBER(json_object_get(s->v, group), cname, c) {
		if (json_is_object(c) && check_container(R, s, group, cname, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* What each kind allows. */
static int check_kind(const struct rules *R, const struct svc *s)
{
	const json_t *cron = json_object_get(s->v, "cron");
	const char *type = get_str(json_object_get(s->v, "expose"), "type");
	int r = 0;
	if (!s->kind)
		return 0;
	if (!strcmp(s->kind, "CronJob") && str_is(cron, "schedule", ""))
		r = errp(R, s->at, PTR("cron", "schedule"), "is required for a CronJob, e.g. \"0 3 * * *\"");
	if (r == 0 && one_shot(s) && json_object_size(s->ports))
		r = errp(R, s->at, PTR("ports"), "must be empty for a %s: it runs to completion and serves "
			 "nothing (remove the ports, or make it a Deployment)", s->kind);
	if (r == 0 && type && !strcmp(type, "Headless") && !json_object_size(s->ports) && !one_shot(s))
		r = errp(R, s->at, PTR("expose", "type"), "is \"Headless\", but the service has no ports: a "
			 "headless Service needs at least one");
	return r;
}

/* The image needs a tag (its own or the top-level one) or a digest. */
static int check_image(const struct rules *R, const struct svc *s)
{
	const json_t *image = json_object_get(s->v, "image");
	const json_t *tag = json_object_get(image, "tag");
	if (!tag)
		tag = json_object_get(json_object_get(R->doc, "image"), "tag");
	if (!json_is_string(tag) || json_string_length(tag) || !str_is(image, "digest", ""))
		return 0; /* set, or of a wrong type reported by the schema */
	return errp(R, s->at, PTR("image", "tag"), "is required: set /image/tag for every service, or this "
		    "service's image.tag or image.digest");
}

static int check_security(const struct rules *R, const struct svc *s)
{
	const json_t *sc = json_object_get(s->v, "securityContext");
	if (json_integer_value(json_object_get(sc, "runAsUser")) != 0 || !json_is_true(json_object_get(sc, "runAsNonRoot")))
		return 0;
	if (!json_is_integer(json_object_get(sc, "runAsUser")))
		return 0;
	return errp(R, s->at, PTR("securityContext", "runAsUser"), "is 0 (root), which runAsNonRoot forbids: "
		    "set securityContext.runAsNonRoot to false if the image must run as root");
}

/* Rules within one service; references to other parts only when the service is enabled. */
static int check_service(const struct rules *R, const char *name, const json_t *v)
{
	const struct svc s = {name, v, PTR("services", name), is_enabled(v), get_str(v, "kind"),
			      json_object_get(v, "ports"), json_object_get(v, "volumes")};
	int r = check_resources(R, s.at, json_object_get(v, "resources"));
	if (r == 0)
		r = check_autoscaling(R, &s);
	if (r == 0)
		r = check_env(R, s.at, json_object_get(v, "env"), s.enabled);
	if (r == 0)
		r = check_probes(R, s.at, json_object_get(v, "probes"), s.ports);
	if (r == 0)
		r = check_ports(R, &s, s.at, s.ports);
	if (r == 0)
		r = check_port_clashes(R, &s);
	if (r == 0)
		r = check_volumes(R, &s);
	if (r == 0)
		r = check_containers(R, &s, "initContainers");
	if (r == 0)
		r = check_containers(R, &s, "sidecars");
	if (r == 0)
		r = check_kind(R, &s);
	if (r == 0)
		r = check_image(R, &s);
	if (r == 0)
		r = check_security(R, &s);
	return r < 0 ? -ENOMEM : 0;
}

/* Something to render, then each service's rules. */
static int check_services(const struct rules *R)
{
	if (!json_is_object(R->services))
		return 0;
	bool any = json_object_size(json_object_get(R->doc, "extraObjects")) > 0;
	const char *name;
	json_t *svc;
	EACH_MEMBER(R->services, name, svc)
		any |= !json_is_false(json_object_get(svc, "enabled")); /* a bad value is reported itself */
	if (!any)
		return errp(R, NULL, PTR("services"), "must define at least one enabled service (or an extra "
			    "object): the bundle would hold nothing");
	int r = 0;
	EACH_MEMBER(R->services, name, svc) {
		if (r == 0 && json_is_object(svc))
			r = check_service(R, name, svc);
	}
	return r;
}

/* ---- the rest of the document ---------------------------------------------------------------- */

/* The ports of a service's pods that its Service offers: its own and its sidecars' (a
 * new object of borrowed values; NULL when out of memory). */
static json_t *service_ports(const json_t *svc)
{
	json_t *all = json_object();
	const char *name, *cname;
	json_t *p, *c;
	if (all && json_object_update(all, json_object_get(svc, "ports")) < 0)
		goto fail;
	EACH_MEMBER(json_object_get(svc, "sidecars"), cname, c) {
		EACH_MEMBER(json_object_get(c, "ports"), name, p) {
			if (all && !json_object_get(all, name) && json_object_set_nocheck(all, name, p) < 0)
				goto fail;
		}
	}
	return all;
fail:
	json_decref(all);
	return NULL;
}

/* A rule's port: a port name of ports, or a number one of them offers. */
static int check_rule_port(const struct rules *R, const char *const *at, const char *target,
			   const json_t *port, const json_t *ports)
{
	if (json_is_string(port) && !json_object_get(ports, json_string_value(port)))
		return errp(R, at, PTR("port"), "names the port \"%.*s%s\", which is not a port of service "
			    "\"%s\"" SUGGEST_FMT, CLIP(json_string_value(port)), target,
			    SUGGEST(model_closest_key(ports, json_string_value(port))));
	const char *name;
	json_t *p;
	EACH_MEMBER((json_t *)ports, name, p) {
		if (!json_is_integer(port) || json_integer_value(json_object_get(p, "port")) == json_integer_value(port))
			return 0;
	}
	return errp(R, at, PTR("port"), "is not a port of service \"%s\"", target);
}

/* A rule's backend: an enabled service with ports (its own or its sidecars'); its port
 * one of them. */
static int check_backend(const struct rules *R, const char *id, const json_t *rule)
{
	const char *target = get_str(rule, "service");
	const json_t *svc = target ? json_object_get(R->services, target) : NULL;
	const char *const *at = PTR("ingress", "rules", id);
	if (!json_object_get(rule, "service"))
		return errp(R, at, PTR("service"), "is required: the service that receives the traffic of "
			    "this rule");
	if (!target)
		return 0;
	if (!svc)
		return errp(R, at, PTR("service"), "names the service \"%.*s%s\", which is not defined in "
			    "/services" SUGGEST_FMT, CLIP(target), SUGGEST(model_closest_key(R->services, target)));
	if (!is_enabled(svc))
		return errp(R, at, PTR("service"), "names the service \"%.*s%s\", which is disabled", CLIP(target));
	json_t *ports = service_ports(svc);
	int r = !ports ? -ENOMEM
		: !json_object_size(ports) ? errp(R, at, PTR("service"), "names the service \"%.*s%s\", which has "
						  "no ports to send traffic to", CLIP(target))
					   : check_rule_port(R, at, target, json_object_get(rule, "port"), ports);
	json_decref(ports);
	return r;
}

/* TLS needs a host; rules of one host agree on the TLS secret; no two rules route the
 * same host, path and path type. */
static int check_rule_pairs(const struct rules *R, const char *id, const json_t *rule, const json_t *rules)
{
	const char *host = get_str(rule, "host"), *secret = get_str(json_object_get(rule, "tls"), "secretName");
	bool tls = is_enabled(json_object_get(rule, "tls"));
	const char *const *at = PTR("ingress", "rules", id);
	if (tls && host && !*host)
		return errp(R, at, PTR("host"), "must be set when tls.enabled is true: a TLS certificate is for "
			    "a host name");
	const char *other;
	json_t *o;
	EACH_MEMBER((json_t *)rules, other, o) {
		if (o == rule)
			break;
		if (!host || !str_is(o, "host", host))
			continue;
		const json_t *otls = json_object_get(o, "tls");
		if (str_is(o, "path", get_str(rule, "path") ? get_str(rule, "path") : "") &&
		    str_is(o, "pathType", get_str(rule, "pathType") ? get_str(rule, "pathType") : ""))
			return errp(R, at, PTR("path"), "is also the path of rule \"%s\" for the same host: "
				    "each host and path goes to one service", other);
		if (tls && is_enabled(otls) && secret && !str_is(otls, "secretName", secret))
			return errp(R, at, PTR("tls", "secretName"), "differs from the TLS secret of rule \"%s\" "
				    "for the same host: a host has one certificate", other);
	}
	return 0;
}

static int check_ingress(const struct rules *R)
{
	const json_t *ingress = json_object_get(R->doc, "ingress"), *rules = json_object_get(ingress, "rules");
	const char *id;
	json_t *rule;
	if (!is_enabled(ingress))
		return 0;
	EACH_MEMBER((json_t *)rules, id, rule) {
		if (!json_is_object(rule))
			continue;
		if (check_backend(R, id, rule) < 0 || check_rule_pairs(R, id, rule, rules) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* With secrets kept outside (existing, externalSecret), no value may be stored: it would
 * silently not be used. An external store must be named. */
static int check_secret_source(const struct rules *R)
{
	const json_t *src = json_object_get(R->doc, "secretSource");
	const char *type = get_str(src, "type");
	const char *key;
	json_t *v;
	int r = 0;
	if (!type || R->secrets_inline)
		return 0;
	if (!strcmp(type, "externalSecret") && str_is(src, "secretStore", ""))
		r = errp(R, NULL, PTR("secretSource", "secretStore"), "is required when the type is "
			 "\"externalSecret\": the name of the SecretStore that holds the values");
	EACH_MEMBER(R->secrets, key, v) {
		if (r == 0 && !(json_is_string(v) && json_string_length(v) == 0))
			r = errp(R, NULL, PTR("secrets", key), "has a value, but /secretSource/type is \"%s\", so the "
				 "value would not be used: set it to \"\" (keep the key) or change the type", type);
	}
	return r;
}

/* apiVersion and kind known (or a custom resource's), not a Namespace. */
static int check_extra_type(const struct rules *R, const char *const *at, const char *api, const char *kind)
{
	const struct schema_kind *k = schema_kind(kind);
	const char *why = !api ? "is required" : syntax_api_version(api);
	if (why)
		return errp(R, at, PTR("apiVersion"), "%s", why);
	if (!kind || (why = syntax_kind(kind)))
		return errp(R, at, PTR("kind"), "%s", kind ? why : "is required");
	if (!strcmp(kind, "Namespace"))
		return errp(R, at, PTR("kind"), "is Namespace: the bundle makes its own namespace (/namespace); "
			    "objects in other namespaces belong to another stack");
	for (size_t i = 0; k && k->api_versions[i]; i++)
		if (!strcmp(k->api_versions[i], api))
			return 0;
	if (k)
		return errp(R, at, PTR("apiVersion"), "must be \"%s\" for a %s, got \"%.*s%s\"", k->api_versions[0],
			    kind, CLIP(api));
	const char *slash = strchr(api, '/');
	if (!slash || !memchr(api, '.', (size_t)(slash - api)))
		return errp(R, at, PTR("kind"), "is not a Kubernetes kind at %s; a custom resource's apiVersion "
			    "has a group with a '.', e.g. \"cert-manager.io/v1\"", api);
	return 0;
}

/* metadata: a name (the key by default) and no namespace other than the stack's. */
static int check_extra_metadata(const struct rules *R, const char *const *at, const char *id,
				const json_t *obj, const char *kind)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *name = json_object_get(meta, "name"), *ns = json_object_get(meta, "namespace");
	const char *doc_ns = get_str(R->doc, "namespace"), *why;
	if (meta && !json_is_object(meta))
		return errp(R, at, PTR("metadata"), "must be an object");
	if (name && !json_is_string(name))
		return errp(R, at, PTR("metadata", "name"), "must be a string");
	if ((why = syntax_object_name(name ? json_string_value(name) : id)))
		return errp(R, at, PTR("metadata", "name"), "%s", why);
	if (!ns)
		return 0;
	if (schema_kind_cluster_scoped(kind))
		return errp(R, at, PTR("metadata", "namespace"), "must not be set: a %s is cluster-scoped", kind);
	if (!json_is_string(ns) || !doc_ns || strcmp(json_string_value(ns), doc_ns))
		return errp(R, at, PTR("metadata", "namespace"), "must be the stack's namespace \"%s\" or "
			    "absent: a bundle only writes into its own namespace", doc_ns ? doc_ns : "");
	return 0;
}

/* The name an extra object renders with. */
static const char *extra_name(const char *id, const json_t *obj)
{
	const char *name = get_str(json_object_get(obj, "metadata"), "name");
	return name ? name : id;
}

/* Each extra object names what it is, and no two share a kind and a name. */
static int extra_check(const struct rules *R)
{
	const json_t *extras = json_object_get(R->doc, "extraObjects");
	const char *id, *other;
	json_t *obj, *o;
	EACH_MEMBER((json_t *)extras, id, obj) {
		const char *const *at = PTR("extraObjects", id);
		const char *kind = get_str(obj, "kind");
		int r = json_is_object(obj) ? check_extra_type(R, at, get_str(obj, "apiVersion"), kind) : 0;
		if (r == 0 && json_is_object(obj))
			r = check_extra_metadata(R, at, id, obj, kind);
		EACH_MEMBER((json_t *)extras, other, o) {
			if (r < 0 || o == obj)
				break;
			if (kind && str_is(o, "kind", kind) && !strcmp(extra_name(id, obj), extra_name(other, o)))
				r = errp(R, at, PTR("metadata", "name"), "is also the name of the %s \"%s\": two "
					 "objects of one kind need two names", kind, other);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int rules_check(const json_t *doc, struct model_errors *errs)
{
	const struct rules R = {doc,
				json_object_get(doc, "config"),
				json_object_get(doc, "secrets"),
				json_object_get(doc, "services"),
				model_secrets_inline(doc),
				errs};
	int r = check_services(&R);
	if (r == 0)
		r = check_secret_source(&R);
	if (r == 0)
		r = check_ingress(&R);
	if (r == 0)
		r = extra_check(&R);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- changes to what runs ---------------------------------------------------------------- */

/* One persistent volume (or storage section) that exists before and after. */
static int check_claim_change(struct model_errors *e, const char *const *at, const json_t *old, const json_t *new,
			      const char *class_key, const char *mode_key)
{
	const char *oc = get_str(old, class_key), *nc = get_str(new, class_key);
	const char *om = mode_key ? get_str(old, mode_key) : NULL, *nm = mode_key ? get_str(new, mode_key) : NULL;
	const char *os = get_str(old, "size"), *ns = get_str(new, "size");
	long double ov, nv;
	int r = 0;
	if ((oc || nc) && strcmp(oc ? oc : "", nc ? nc : "") != 0)
		r = model_errors_at(e, at, PTR(class_key), "cannot change while the environment's claims exist: Kubernetes "
				    "keeps a claim's StorageClass (%s%.*s%s%s) for life; give the volume another name for "
				    "new claims, or move the data first", oc ? "\"" : "", MODEL_CLIP(oc ? oc : "the default"),
				    oc ? "\"" : "");
	if (r == 0 && om && nm && strcmp(om, nm) != 0)
		r = model_errors_at(e, at, PTR(mode_key), "cannot change while the environment's claims exist: Kubernetes "
				    "keeps a claim's access mode (%s) for life; give the volume another name for new claims", om);
	if (r == 0 && os && ns && syntax_quantity_value(os, &ov) == 0 && syntax_quantity_value(ns, &nv) == 0 &&
	    nv < ov * (1 - 1e-12L))
		r = model_errors_at(e, at, PTR("size"), "must not be smaller than before (\"%.*s%s\"): a claim only grows",
				    MODEL_CLIP(os));
	return r;
}

static int check_volumes_change(struct model_errors *e, const char *name, const json_t *old, const json_t *new)
{
	const char *vol;
	json_t *nv;
	if (!is_enabled(old) || !is_enabled(new))
		return 0;
	EACH_MEMBER(json_object_get(new, "volumes"), vol, nv) {
		const json_t *op = json_object_get(json_object_get(json_object_get(old, "volumes"), vol), "persistent");
		const json_t *np = json_object_get(nv, "persistent");
		if (op && np && check_claim_change(e, PTR("services", name, "volumes", vol, "persistent"), op, np,
						   "className", "accessMode") < 0)
			return -ENOMEM;
	}
	return 0;
}

int rules_check_change(const json_t *old, const json_t *new, struct model_errors *errs)
{
	const char *name;
	json_t *svc;
	EACH_MEMBER(json_object_get(new, "services"), name, svc) {
		if (check_volumes_change(errs, name, json_object_get(json_object_get(old, "services"), name), svc) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A value an import wrote for want of one (MODEL_PLACEHOLDER): a whole string, or the tag
 * at the end of an image reference. */
static bool placeholder(const char *s, bool image_ref)
{
	size_t n = s ? strlen(s) : 0, p = strlen(MODEL_PLACEHOLDER);
	if (!image_ref)
		return s && strcmp(s, MODEL_PLACEHOLDER) == 0;
	return n > p && s[n - p - 1] == ':' && strcmp(s + n - p, MODEL_PLACEHOLDER) == 0;
}

#define PLACEHOLDER_WARNING "is \"" MODEL_PLACEHOLDER "\", the placeholder an import wrote where its source had no value: "

/* The images of svc's init containers and sidecars still tagged with the placeholder. */
static int warn_container_tags(const char *name, const json_t *svc, struct model_errors *w)
{
	static const char *const kinds[] = {"initContainers", "sidecars"};
	for (size_t k = 0; k < 2; k++) {
		const char *cname;
		json_t *c;
		EACH_MEMBER(json_object_get(svc, kinds[k]), cname, c) {
			if (placeholder(json_string_value(json_object_get(c, "image")), true) &&
			    model_errors_at(w, NULL, PTR("services", name, kinds[k], cname, "image"),
					    PLACEHOLDER_WARNING "set the image's tag") < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Secrets and image tags that still hold an import's placeholder. */
static int warn_placeholders(const json_t *doc, struct model_errors *w)
{
	const char *name;
	json_t *v;
	EACH_MEMBER(json_object_get(doc, "secrets"), name, v) {
		if (placeholder(json_string_value(v), false) &&
		    model_errors_at(w, NULL, PTR("secrets", name), PLACEHOLDER_WARNING "set the real value") < 0)
			return -ENOMEM;
	}
	EACH_MEMBER(json_object_get(doc, "services"), name, v) {
		if (!is_enabled(v))
			continue;
		if (placeholder(json_string_value(json_object_get(json_object_get(v, "image"), "tag")), false) &&
		    model_errors_at(w, NULL, PTR("services", name, "image", "tag"), PLACEHOLDER_WARNING "set the tag") < 0)
			return -ENOMEM;
		if (warn_container_tags(name, v, w) < 0)
			return -ENOMEM;
	}
	return 0;
}

int rules_warnings(const json_t *doc, struct model_errors *warnings)
{
	const char *name;
	json_t *svc;
	EACH_MEMBER(json_object_get(doc, "services"), name, svc) {
		const json_t *sc = json_object_get(svc, "securityContext");
		if (!is_enabled(svc) || !json_is_false(json_object_get(sc, "runAsNonRoot")))
			continue;
		if (model_errors_at(warnings, NULL, PTR("services", name, "securityContext", "runAsNonRoot"),
				    "is false: the service may run as root; keep it only if the image cannot run "
				    "as another user") < 0)
			return -ENOMEM;
	}
	return warn_placeholders(doc, warnings);
}

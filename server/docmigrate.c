/* docmigrate: stored documents from shape 1 (one-port HTTP services, one ingress) to the
 * general workload model of shape 2; see include/docmigrate.h. */
#include "docmigrate.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "jsoniter.h"

#define BUILTIN_PROBE_PATH "/actuator/health"

static const char *const probe_names[] = {"readiness", "liveness", "startup"};

/* layer.serviceDefaults.probes[which] or layer.services[svc].probes[which] (svc NULL:
 * serviceDefaults); NULL when absent. */
static const json_t *probe_at(const json_t *layer, const char *svc, const char *which)
{
	const json_t *s = svc ? json_object_get(json_object_get(layer, "services"), svc)
			      : json_object_get(layer, "serviceDefaults");
	return json_object_get(json_object_get(s, "probes"), which);
}

static bool has_path(const json_t *probe)
{
	return json_is_string(json_object_get(probe, "path")) ||
	       json_is_string(json_object_get(json_object_get(probe, "httpGet"), "path"));
}

/* Whether a layer below the probe gives it a path: the stack (for an environment) and,
 * for a service's probe, serviceDefaults of the stack and of this layer. */
static bool lower_path(const json_t *doc, const json_t *stack, const char *svc, const char *which)
{
	if (stack && (has_path(probe_at(stack, NULL, which)) || (svc && has_path(probe_at(stack, svc, which)))))
		return true;
	return svc && has_path(probe_at(doc, NULL, which));
}

/* {"httpGet": {"path": path}} merged into probe (an object), path removed. */
static int to_http_get(json_t *probe, json_t *path)
{
	json_t *get = json_pack("{s:O}", "path", path);
	int r = get && json_object_set_new_nocheck(probe, "httpGet", get) == 0 ? 0 : -ENOMEM;
	if (r == 0)
		(void)json_object_del(probe, "path");
	return r;
}

/* One probe of one layer: the path moved under httpGet, or the built-in one written
 * down where shape 1 would have completed it. */
static int migrate_probe(json_t *probe, const json_t *doc, const json_t *stack, const char *svc,
			 const char *which)
{
	static const char *const kinds[] = {"httpGet", "tcpSocket", "exec", "grpc"};
	json_t *path = json_object_get(probe, "path");
	for (size_t i = 0; json_is_object(probe) && i < 4; i++)
		if (json_object_get(probe, kinds[i]))
			return 0; /* shape 2 already */
	if (!json_is_object(probe))
		return 0;
	if (path)
		return to_http_get(probe, path);
	if (lower_path(doc, stack, svc, which))
		return 0;
	json_t *builtin = json_string(BUILTIN_PROBE_PATH);
	int r = builtin ? to_http_get(probe, builtin) : -ENOMEM;
	json_decref(builtin);
	return r;
}

static int migrate_service(json_t *s, const json_t *doc, const json_t *stack, const char *svc)
{
	json_t *probes = json_object_get(s, "probes");
	for (size_t i = 0; json_is_object(probes) && i < 3; i++)
		if (migrate_probe(json_object_get(probes, probe_names[i]), doc, stack, svc, probe_names[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* In a stack, serviceDefaults' readiness and liveness as shape 1's built-ins gave them. */
static int write_builtin_probes(json_t *doc)
{
	json_t *sd = json_object_get(doc, "serviceDefaults");
	if (!sd && json_object_set_new_nocheck(doc, "serviceDefaults", sd = json_object()) < 0)
		return -ENOMEM;
	json_t *probes = json_object_get(sd, "probes");
	if (json_is_object(sd) && !probes && json_object_set_new_nocheck(sd, "probes", probes = json_object()) < 0)
		return -ENOMEM;
	for (size_t i = 0; json_is_object(probes) && i < 2; i++) {
		if (json_object_get(probes, probe_names[i]))
			continue;
		json_t *p = json_pack("{s:{s:s}}", "httpGet", "path", BUILTIN_PROBE_PATH);
		if (!p || json_object_set_new_nocheck(probes, probe_names[i], p) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int migrate_probes(json_t *doc, const json_t *stack)
{
	const char *name;
	json_t *svc;
	json_t *sd = json_object_get(doc, "serviceDefaults");
	if (json_is_object(sd) && migrate_service(sd, doc, stack, NULL) < 0)
		return -ENOMEM;
	if (!stack && write_builtin_probes(doc) < 0)
		return -ENOMEM;
	EACH_MEMBER(json_object_get(doc, "services"), name, svc) {
		if (json_is_object(svc) && migrate_service(svc, doc, stack, name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ingress {host, path, service, tls} -> ingress.rules.main; the other members stay. */
static int migrate_ingress(json_t *doc, bool is_stack)
{
	static const char *const moved[] = {"host", "path", "service", "tls"};
	json_t *ingress = json_object_get(doc, "ingress");
	if (is_stack && !ingress && json_object_set_new_nocheck(doc, "ingress", ingress = json_object()) < 0)
		return -ENOMEM;
	if (!json_is_object(ingress))
		return 0;
	if (is_stack && !json_object_get(ingress, "enabled") &&
	    json_object_set_new_nocheck(ingress, "enabled", json_false()) < 0)
		return -ENOMEM;
	json_t *rule = json_object();
	for (size_t i = 0; rule && i < 4; i++) {
		json_t *v = json_object_get(ingress, moved[i]);
		if (v && json_object_set_nocheck(rule, moved[i], v) < 0) {
			json_decref(rule);
			return -ENOMEM;
		}
		(void)json_object_del(ingress, moved[i]);
	}
	int r = rule ? 0 : -ENOMEM;
	if (r == 0 && json_object_size(rule) &&
	    json_object_set_new_nocheck(ingress, "rules", json_pack("{s:O}", "main", rule)) < 0)
		r = -ENOMEM;
	json_decref(rule);
	return r;
}

int docmigrate_v2(json_t *doc, const json_t *stack)
{
	if (!json_is_object(doc))
		return 0;
	int r = migrate_probes(doc, stack);
	if (r == 0)
		r = migrate_ingress(doc, stack == NULL);
	return r;
}

/* ---- shape 2 -> 3: MySQL, RabbitMQ and Zipkin as components ---------------------------------- */

/* The shape-2 sections that became components of the catalog type of the same name, and
 * the shape-2 defaults that differ from the type's (written where a stack relied on them). */
static const struct {
	const char *name;
	const char *image; /* shape 2's default image */
	const char *user;  /* shape 2's default user, or NULL */
} sections[] = {
	{"mysql", "mysql:8.0.36", NULL},
	{"rabbitmq", "rabbitmq:3.13-management", "app"},
	{"zipkin", "openzipkin/zipkin:3.4", NULL},
};

/* "[registry/]repository:tag[@digest]" as {registry, repository, tag[, digest]}; NULL
 * when out of memory. A first path component with a '.' or ':' (or "localhost") is the
 * registry. */
static json_t *image_object(const char *ref)
{
	const char *at = strchr(ref, '@'), *slash = strchr(ref, '/');
	size_t end = at ? (size_t)(at - ref) : strlen(ref);
	size_t host = slash && (size_t)(slash - ref) < end &&
			      (memchr(ref, '.', (size_t)(slash - ref)) || memchr(ref, ':', (size_t)(slash - ref)) ||
			       strncmp(ref, "localhost/", 10) == 0)
			  ? (size_t)(slash - ref)
			  : 0;
	const char *repo = host ? ref + host + 1 : ref;
	const char *colon = memrchr(repo, ':', end - (size_t)(repo - ref));
	size_t repo_len = colon ? (size_t)(colon - repo) : end - (size_t)(repo - ref);
	json_t *img = json_object();
	int r = img ? 0 : -ENOMEM;
	if (r == 0 && json_object_set_new(img, "registry", json_stringn(ref, host)) < 0)
		r = -ENOMEM;
	if (r == 0 && json_object_set_new(img, "repository", json_stringn(repo, repo_len)) < 0)
		r = -ENOMEM;
	if (r == 0 && colon && json_object_set_new(img, "tag", json_stringn(colon + 1, end - (size_t)(colon + 1 - ref))) < 0)
		r = -ENOMEM;
	if (r == 0 && at && json_object_set_new(img, "digest", json_string(at + 1)) < 0)
		r = -ENOMEM;
	if (r < 0) {
		json_decref(img);
		return NULL;
	}
	return img;
}

/* obj[key] = v (stolen) unless obj has key; -ENOMEM when v is NULL or on failure. */
static int set_missing(json_t *obj, const char *key, json_t *v)
{
	if (json_object_get(obj, key)) {
		json_decref(v);
		return 0;
	}
	return v && json_object_set_new_nocheck(obj, key, v) == 0 ? 0 : -ENOMEM;
}

/* One shape-2 section as the params of its component. full: the component is defined
 * here (a stack's, or an environment's whose stack has no such section): its type, shape
 * 2's enabled default (false) and the defaults that differ are written down. */
static json_t *component_of(size_t i, const json_t *section, bool full)
{
	json_t *c = json_object();
	const char *key;
	json_t *v;
	int r = c ? 0 : -ENOMEM;
	if (r == 0 && full)
		r = json_object_set_new_nocheck(c, "type", json_string(sections[i].name)) ? -ENOMEM : 0;
	EACH_MEMBER((json_t *)section, key, v) {
		if (r < 0)
			break;
		if (strcmp(key, "image") == 0 && json_is_string(v))
			r = json_object_set_new_nocheck(c, key, image_object(json_string_value(v))) ? -ENOMEM : 0;
		else
			r = json_object_set_nocheck(c, strcmp(key, "appPasswordSecret") == 0 ? "passwordSecret" : key, v)
				    ? -ENOMEM
				    : 0;
	}
	if (r == 0 && full)
		r = set_missing(c, "enabled", json_false());
	if (r == 0 && full)
		r = set_missing(c, "image", image_object(sections[i].image));
	if (r == 0 && full && sections[i].user)
		r = set_missing(c, "user", json_string(sections[i].user));
	if (r < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static int migrate_sections(json_t *doc, const json_t *stack)
{
	json_t *components = json_object_get(doc, "components");
	for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
		const json_t *section = json_object_get(doc, sections[i].name);
		if (!section)
			continue;
		if (!components && json_object_set_new_nocheck(doc, "components", components = json_object()) < 0)
			return -ENOMEM;
		bool full = !stack || !json_is_object(json_object_get(stack, sections[i].name));
		json_t *c = json_is_object(section) ? component_of(i, section, full) : json_incref((json_t *)section);
		if (!json_is_object(components) || !c || json_object_set_new_nocheck(components, sections[i].name, c) < 0)
			return -ENOMEM;
		(void)json_object_del(doc, sections[i].name);
	}
	return 0;
}

/* The broker flag a lower layer gives the service (svc NULL: serviceDefaults). */
static bool lower_broker(const json_t *doc, const json_t *stack, const char *svc)
{
	const json_t *sd_stack = json_object_get(stack, "serviceDefaults");
	bool on = json_is_true(json_object_get(sd_stack, "broker"));
	if (svc && stack)
		on |= json_is_true(json_object_get(json_object_get(json_object_get(stack, "services"), svc), "broker"));
	if (svc)
		on |= json_is_true(json_object_get(json_object_get(doc, "serviceDefaults"), "broker"));
	return on;
}

/* A service's (or serviceDefaults') database and broker as its uses of mysql and rabbitmq. */
static int migrate_uses(json_t *s, const json_t *doc, const json_t *stack, const char *svc)
{
	const json_t *db = json_object_get(s, "database"), *broker = json_object_get(s, "broker");
	if (!db && !broker)
		return 0;
	json_t *uses = json_object_get(s, "uses");
	if (!uses && json_object_set_new_nocheck(s, "uses", uses = json_object()) < 0)
		return -ENOMEM;
	if (!json_is_object(uses))
		return 0;
	int r = 0;
	if (json_is_object(db)) {
		json_t *c = json_object();
		const json_t *name = json_object_get(db, "name"), *user = json_object_get(db, "user");
		r = c ? 0 : -ENOMEM;
		if (r == 0 && name && json_object_set_nocheck(c, "database", (json_t *)name) < 0)
			r = -ENOMEM;
		if (r == 0 && user && !(json_is_string(user) && !json_string_length(user)) &&
		    json_object_set_nocheck(c, "user", (json_t *)user) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = json_object_set_new_nocheck(uses, "mysql", c) ? -ENOMEM : 0;
		else
			json_decref(c);
	} else if (db && json_object_set_new_nocheck(uses, "mysql", json_null()) < 0) {
		r = -ENOMEM;
	}
	if (r == 0 && json_is_true(broker))
		r = json_object_set_new_nocheck(uses, "rabbitmq", json_object()) ? -ENOMEM : 0;
	else if (r == 0 && broker && (json_is_null(broker) || lower_broker(doc, stack, svc)))
		r = json_object_set_new_nocheck(uses, "rabbitmq", json_null()) ? -ENOMEM : 0;
	(void)json_object_del(s, "database");
	(void)json_object_del(s, "broker");
	if (r == 0 && json_object_size(uses) == 0)
		(void)json_object_del(s, "uses");
	return r;
}

int docmigrate_v3(json_t *doc, const json_t *stack)
{
	if (!json_is_object(doc))
		return 0;
	int r = migrate_sections(doc, stack);
	const char *name;
	json_t *svc;
	/* the services first: their broker false is read against serviceDefaults' broker */
	EACH_MEMBER(json_object_get(doc, "services"), name, svc) {
		if (r == 0 && json_is_object(svc))
			r = migrate_uses(svc, doc, stack, name);
	}
	json_t *sd = json_object_get(doc, "serviceDefaults");
	if (r == 0 && json_is_object(sd))
		r = migrate_uses(sd, doc, stack, NULL);
	return r;
}

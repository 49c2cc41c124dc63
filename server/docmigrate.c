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

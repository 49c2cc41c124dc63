/* docview: reads a resolved document once into the typed views of docview.h, checking
 * every member it reads (table-driven: one struct field per member). */
#include "docview.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum kind { K_STR, K_INT, K_BOOL, K_OBJ };

/* A member docview reads: its key and type, and where its value goes (an offset into the
 * struct being read). An object with sub fields is read into the struct at off; without,
 * the object itself (const json_t *) is stored at off. Tables list the members in the
 * order resolved documents have them (the defaults' order): see member(). */
struct field {
	const char *key;
	size_t key_len;
	enum kind kind;
	size_t off;
	const struct field *sub;
	size_t nsub;
};

#define FIELD(type, key, kind, member) {key, sizeof(key) - 1, kind, offsetof(type, member), NULL, 0}
#define NESTED(type, key, member, table)                                                    \
	{key, sizeof(key) - 1, K_OBJ, offsetof(type, member), table, sizeof(table) / sizeof((table)[0])}
#define READ_ALL(obj, table, base) read_fields((obj), (table), sizeof(table) / sizeof((table)[0]), (base))

static bool read_fields(const json_t *obj, const struct field *fields, size_t n, void *base);

/* Stores v into slot as f says. false when v is missing or of another type. */
static bool read_field(const json_t *v, const struct field *f, void *slot)
{
	switch (f->kind) {
	case K_STR:
		*(const char **)slot = json_string_value(v);
		return json_is_string(v);
	case K_INT:
		*(json_int_t *)slot = json_integer_value(v);
		return json_is_integer(v);
	case K_BOOL:
		*(bool *)slot = json_is_true(v);
		return json_is_boolean(v);
	case K_OBJ:
		if (f->sub)
			return read_fields(v, f->sub, f->nsub, slot);
		*(const json_t **)slot = v;
		return json_is_object(v);
	}
	return false;
}

/* obj[f->key], or NULL. Found without hashing when it is the member at *it (members
 * mostly come in the tables' order), else looked up; *it then moves past the member
 * found, so the next field is tried there first. */
static const json_t *member(const json_t *obj, void **it, const struct field *f)
{
	if (!*it || json_object_iter_key_len(*it) != f->key_len ||
	    memcmp(json_object_iter_key(*it), f->key, f->key_len) != 0)
		*it = json_object_iter_at((json_t *)obj, f->key);
	const json_t *v = json_object_iter_value(*it);
	*it = json_object_iter_next((json_t *)obj, *it);
	return v;
}

/* Reads the n fields of obj into the struct at base. false when obj is not an object or
 * a field is missing or of another type (base is then partly written). */
static bool read_fields(const json_t *obj, const struct field *fields, size_t n, void *base)
{
	if (!json_is_object(obj))
		return false;
	void *it = json_object_iter((json_t *)obj);
	for (size_t i = 0; i < n; i++)
		if (!read_field(member(obj, &it, &fields[i]), &fields[i], (char *)base + fields[i].off))
			return false;
	return true;
}

static const struct field cpu_memory_fields[] = {
	FIELD(struct cpu_memory, "cpu", K_STR, cpu),
	FIELD(struct cpu_memory, "memory", K_STR, memory),
};

static const struct field resources_fields[] = {
	NESTED(struct resources_view, "requests", requests, cpu_memory_fields),
	NESTED(struct resources_view, "limits", limits, cpu_memory_fields),
};

static const struct field storage_fields[] = {
	FIELD(struct storage_view, "size", K_STR, size),
	FIELD(struct storage_view, "className", K_STR, class_name),
};

static const struct field mysql_fields[] = {
	FIELD(struct mysql_view, "enabled", K_BOOL, enabled),
	FIELD(struct mysql_view, "image", K_STR, image),
	FIELD(struct mysql_view, "rootPasswordSecret", K_STR, root_password_secret),
	FIELD(struct mysql_view, "appPasswordSecret", K_STR, app_password_secret),
	NESTED(struct mysql_view, "storage", storage, storage_fields),
	NESTED(struct mysql_view, "resources", resources, resources_fields),
};

static const struct field rabbitmq_fields[] = {
	FIELD(struct rabbitmq_view, "enabled", K_BOOL, enabled),
	FIELD(struct rabbitmq_view, "image", K_STR, image),
	FIELD(struct rabbitmq_view, "user", K_STR, user),
	FIELD(struct rabbitmq_view, "passwordSecret", K_STR, password_secret),
	NESTED(struct rabbitmq_view, "storage", storage, storage_fields),
	NESTED(struct rabbitmq_view, "resources", resources, resources_fields),
};

static const struct field zipkin_fields[] = {
	FIELD(struct zipkin_view, "enabled", K_BOOL, enabled),
	FIELD(struct zipkin_view, "image", K_STR, image),
	NESTED(struct zipkin_view, "resources", resources, resources_fields),
};

static const struct field tls_fields[] = {
	FIELD(struct tls_view, "enabled", K_BOOL, enabled),
	FIELD(struct tls_view, "secretName", K_STR, secret_name),
};

static const struct field ingress_fields[] = {
	FIELD(struct ingress_view, "enabled", K_BOOL, enabled),
	FIELD(struct ingress_view, "className", K_STR, class_name),
	FIELD(struct ingress_view, "host", K_STR, host),
	FIELD(struct ingress_view, "path", K_STR, path),
	FIELD(struct ingress_view, "service", K_STR, service),
	NESTED(struct ingress_view, "tls", tls, tls_fields),
	FIELD(struct ingress_view, "annotations", K_OBJ, annotations),
};

static const struct field secret_source_fields[] = {
	FIELD(struct secret_source_view, "type", K_STR, type),
	FIELD(struct secret_source_view, "secretStore", K_STR, store),
	FIELD(struct secret_source_view, "secretStoreKind", K_STR, store_kind),
	FIELD(struct secret_source_view, "refreshInterval", K_STR, refresh_interval),
	FIELD(struct secret_source_view, "name", K_STR, name),
	FIELD(struct secret_source_view, "remoteKey", K_STR, remote_key),
};

static const struct field pull_fields[] = {
	FIELD(struct pull_view, "pullPolicy", K_STR, policy),
	FIELD(struct pull_view, "pullSecret", K_STR, secret),
};

static const struct field doc_fields[] = {
	NESTED(struct doc_view, "image", image, pull_fields),
	FIELD(struct doc_view, "config", K_OBJ, config),
	FIELD(struct doc_view, "secrets", K_OBJ, secrets),
	FIELD(struct doc_view, "services", K_OBJ, services),
	NESTED(struct doc_view, "secretSource", secret_source, secret_source_fields),
	NESTED(struct doc_view, "mysql", mysql, mysql_fields),
	NESTED(struct doc_view, "rabbitmq", rabbitmq, rabbitmq_fields),
	NESTED(struct doc_view, "zipkin", zipkin, zipkin_fields),
	NESTED(struct doc_view, "ingress", ingress, ingress_fields),
	FIELD(struct doc_view, "namespace", K_STR, namespace),
};

static const struct field image_fields[] = {
	FIELD(struct image_view, "digest", K_STR, digest),
	FIELD(struct image_view, "repository", K_STR, repository),
	FIELD(struct image_view, "registry", K_STR, registry),
	FIELD(struct image_view, "tag", K_STR, tag),
};

static const struct field autoscaling_fields[] = {
	FIELD(struct autoscaling_view, "enabled", K_BOOL, enabled),
	FIELD(struct autoscaling_view, "minReplicas", K_INT, min_replicas),
	FIELD(struct autoscaling_view, "maxReplicas", K_INT, max_replicas),
	FIELD(struct autoscaling_view, "targetCPUUtilization", K_INT, target_cpu),
};

static const struct field budget_fields[] = {
	FIELD(struct budget_view, "enabled", K_BOOL, enabled),
};

static const struct field security_fields[] = {
	FIELD(struct security_view, "runAsUser", K_INT, run_as_user),
	FIELD(struct security_view, "readOnlyRootFilesystem", K_BOOL, read_only),
};

static const struct field service_fields[] = {
	FIELD(struct service_view, "enabled", K_BOOL, enabled),
	NESTED(struct service_view, "image", image, image_fields),
	FIELD(struct service_view, "replicas", K_INT, replicas),
	FIELD(struct service_view, "env", K_OBJ, env),
	FIELD(struct service_view, "broker", K_BOOL, broker),
	FIELD(struct service_view, "probes", K_OBJ, probes),
	NESTED(struct service_view, "resources", resources, resources_fields),
	NESTED(struct service_view, "autoscaling", autoscaling, autoscaling_fields),
	NESTED(struct service_view, "disruptionBudget", disruption_budget, budget_fields),
	NESTED(struct service_view, "securityContext", security, security_fields),
	FIELD(struct service_view, "port", K_INT, port),
};

static const struct field probe_fields[] = {
	FIELD(struct probe_view, "path", K_STR, path),
	FIELD(struct probe_view, "initialDelaySeconds", K_INT, initial_delay),
	FIELD(struct probe_view, "periodSeconds", K_INT, period),
	FIELD(struct probe_view, "timeoutSeconds", K_INT, timeout),
	FIELD(struct probe_view, "failureThreshold", K_INT, failures),
};

static const struct field database_fields[] = {
	FIELD(struct database_view, "name", K_STR, name),
	FIELD(struct database_view, "user", K_STR, user),
};

static const char *const probe_names[NPROBES] = {"readiness", "liveness", "startup"};

/* Every member of obj is a string. */
static bool strings_only(const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		if (!json_is_string(v))
			return false;
	return true;
}

/* Each env entry is an object whose one member is value, config or secret, a string. */
static bool env_ok(const json_t *env)
{
	const char *name;
	json_t *src;
	json_object_foreach((json_t *)env, name, src) {
		void *only = json_object_size(src) == 1 ? json_object_iter(src) : NULL;
		const char *from = only ? json_object_iter_key(only) : "";
		if (!json_is_string(json_object_iter_value(only)) ||
		    (strcmp(from, "value") != 0 && strcmp(from, "config") != 0 && strcmp(from, "secret") != 0))
			return false;
	}
	return true;
}

/* Each probe is null or a complete probe; database is null or {name, user}. */
static bool read_probes_database(const json_t *svc, struct service_view *s)
{
	for (size_t i = 0; i < NPROBES; i++) {
		const json_t *p = json_object_get(s->probes, probe_names[i]);
		s->probe[i].path = NULL;
		if (!json_is_null(p) && !READ_ALL(p, probe_fields, &s->probe[i]))
			return false;
	}
	const json_t *db = json_object_get(svc, "database");
	s->database = (struct database_view){NULL, NULL};
	return json_is_null(db) || READ_ALL(db, database_fields, &s->database);
}

static bool read_service(const char *name, const json_t *svc, struct service_view *s)
{
	s->name = name;
	return util_is_dns_label(name) && READ_ALL(svc, service_fields, s) && env_ok(s->env) &&
	       read_probes_database(svc, s);
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct service_view *)a)->name, ((const struct service_view *)b)->name);
}

/* Reads every service of services (each must be valid) and keeps the enabled ones,
 * sorted by name. 0 and *ret_services (caller frees), *ret_count; -EINVAL; -ENOMEM. */
static int read_services(const json_t *services, struct service_view **ret_services, size_t *ret_count)
{
	size_t n = json_object_size(services), kept = 0;
	struct service_view *s = calloc(n ? n : 1, sizeof *s);
	if (!s)
		return -ENOMEM;
	const char *name;
	json_t *svc;
	json_object_foreach((json_t *)services, name, svc) {
		if (!read_service(name, svc, &s[kept])) {
			free(s);
			return -EINVAL;
		}
		kept += s[kept].enabled;
	}
	qsort(s, kept, sizeof *s, cmp_service);
	*ret_services = s;
	*ret_count = kept;
	return 0;
}

const struct service_view *docview_find_service(const struct service_view *services, size_t count,
						const char *name)
{
	struct service_view key = {.name = name};
	return bsearch(&key, services, count, sizeof *services, cmp_service);
}

int docview_read(const json_t *doc, struct doc_view *ret_view, struct service_view **ret_services,
		 size_t *ret_count)
{
	struct doc_view v;
	if (!READ_ALL(doc, doc_fields, &v) || !strings_only(v.config) || !strings_only(v.secrets) ||
	    !strings_only(v.ingress.annotations))
		return -EINVAL;
	struct service_view *services = NULL;
	size_t count = 0;
	int rc = read_services(v.services, &services, &count);
	if (rc == 0 && v.ingress.enabled && !docview_find_service(services, count, v.ingress.service))
		rc = -EINVAL;
	if (rc < 0) {
		free(services);
		return rc;
	}
	*ret_view = v;
	*ret_services = services;
	*ret_count = count;
	return 0;
}

/* docview: a resolved document (model_resolve, docs/schema.md) read once into typed,
 * type-checked views, so that render's builders take struct fields instead of looking
 * paths up again.
 *
 * Invariants, after a successful docview_read():
 * - every field below is set: the resolved document has every member docview reads, of
 *   the type the struct says (a missing member or one of another type is -EINVAL);
 * - strings (const char *) and objects (const json_t *) are borrowed from the document:
 *   they live as long as the caller keeps its reference to it, and the document must not
 *   be changed meanwhile;
 * - the objects kept as json_t * (config, secrets, annotations, env, ...) are checked as
 *   their comments say, so a reader may rely on their shape.
 * Pure: no I/O, no logging. Member order in the document does not matter. */
#ifndef MANIFESTD_DOCVIEW_H
#define MANIFESTD_DOCVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cpu_memory {
	const char *cpu, *memory;
};

struct resources_view {
	struct cpu_memory requests, limits;
};

struct storage_view {
	const char *size, *class_name;
};

struct image_view {
	const char *registry, *repository, *tag, *digest;
};

struct probe_view {
	const char *path; /* NULL: the probe is null (not rendered); the rest is then unset */
	json_int_t initial_delay, period, timeout, failures;
};

struct autoscaling_view {
	bool enabled;
	json_int_t min_replicas, max_replicas, target_cpu;
};

struct security_view {
	json_int_t run_as_user;
	bool read_only;
};

struct budget_view {
	bool enabled;
};

struct database_view {
	const char *name, *user; /* NULL: the service has no database (null in the document) */
};

/* Probes of a service, in this order: readiness, liveness, startup. */
#define NPROBES 3

/* One member of /services. */
struct service_view {
	const char *name; /* the member's key, a DNS label */
	bool enabled, broker;
	struct image_view image;
	json_int_t port, replicas;
	const json_t *env;    /* {NAME: {value|config|secret: text}}: each entry one member, a string */
	const json_t *probes; /* {readiness, liveness, startup}, read into probe[] */
	struct probe_view probe[NPROBES]; /* readiness, liveness, startup */
	struct resources_view resources;
	struct autoscaling_view autoscaling;
	struct budget_view disruption_budget;
	struct security_view security;
	struct database_view database;
};

struct mysql_view {
	bool enabled;
	const char *image, *root_password_secret, *app_password_secret;
	struct storage_view storage;
	struct resources_view resources;
};

struct rabbitmq_view {
	bool enabled;
	const char *image, *user, *password_secret;
	struct storage_view storage;
	struct resources_view resources;
};

struct zipkin_view {
	bool enabled;
	const char *image;
	struct resources_view resources;
};

struct tls_view {
	bool enabled;
	const char *secret_name;
};

struct ingress_view {
	bool enabled;
	const char *class_name, *host, *path;
	const char *service; /* when enabled: an enabled service (docview_find_service finds it) */
	struct tls_view tls;
	const json_t *annotations; /* {key: string} */
};

struct secret_source_view {
	const char *type, *name, *store, *store_kind, *remote_key, *refresh_interval;
};

struct pull_view {
	const char *policy, *secret;
};

/* The document's top level. services are read into struct service_view by docview_read. */
struct doc_view {
	const char *namespace;
	struct pull_view image;
	const json_t *config;   /* {key: string} */
	const json_t *secrets;  /* {key: string} */
	const json_t *services; /* {name: service}, every one valid, enabled or not */
	struct secret_source_view secret_source;
	struct mysql_view mysql;
	struct rabbitmq_view rabbitmq;
	struct zipkin_view zipkin;
	struct ingress_view ingress;
};

/* Reads doc (borrowed) into *ret_view and the enabled services, sorted by name (strcmp),
 * into *ret_services (*ret_count of them; the caller frees the array with free(), also
 * when the count is 0). Strings and objects are borrowed from doc.
 * 0; -EINVAL when doc is not a resolved document: it is not an object, a field docview
 * reads is missing or of the wrong type, config, secrets or ingress annotations hold a
 * non-string, an env entry is not one value/config/secret string, a service name is not
 * a DNS label, or the ingress is enabled and its backend is not an enabled service;
 * -ENOMEM. The ret_ parameters are written only on success. */
int docview_read(const json_t *doc, struct doc_view *ret_view, struct service_view **ret_services,
		 size_t *ret_count);

/* The service called name among services (count of them, sorted by name as docview_read
 * returns them), or NULL. Borrowed from services. */
const struct service_view *docview_find_service(const struct service_view *services, size_t count,
						const char *name);

#endif

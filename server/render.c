/* render: a resolved document -> Kubernetes objects (jansson trees), one builder per
 * resource kind, grouped into the bundle's files. Pure: no I/O, no defaults (the resolved
 * document of docs/schema.md has every field), nothing specific to one stack.
 *
 * Internal builders return a new reference, or NULL when out of memory; json_pack() with
 * "o" steals its arguments even when it fails, so a NULL anywhere propagates up to one
 * -ENOMEM without leaks. */
#include "render.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "util.h"

#define MANAGED_BY "manifestd"
#define WAIT_IMAGE "busybox:1.36.1"
#define NOBODY_UID 65534
#define MYSQL_UID 999
#define RABBITMQ_UID 999
#define ZIPKIN_UID 1000
#define MYSQL_PORT 3306
#define AMQP_PORT 5672
#define RABBITMQ_MGMT_PORT 15672
#define ZIPKIN_PORT 9411
#define INITDB_DIR "/docker-entrypoint-initdb.d"
#define INITDB_MODE 0555
#define JOB_BACKOFF_LIMIT 6
#define JOB_TTL_SECONDS 86400

enum file_kind {
	FILE_NAMESPACE,
	FILE_CONFIG,
	FILE_SECRETS,
	FILE_MYSQL,
	FILE_MYSQL_INIT,
	FILE_RABBITMQ,
	FILE_ZIPKIN,
	FILE_SERVICE,
	FILE_INGRESS,
};

struct render_file {
	enum file_kind kind;
	const char *service; /* FILE_SERVICE: the service name, borrowed from doc */
	char *name;
};

struct render {
	json_t *doc;
	struct render_meta meta;
	char *instance;      /* "<stack>-<environment>" */
	char *config_name;   /* "<stack>-config" */
	char *secrets_name;  /* /secretSource/name, "<stack>-secrets" by default */
	char hash[65];
	char config_sum[65];
	char secrets_sum[65];
	char init_sql_sum[65]; /* of the mysql-initdb files: names the init Job */
	/* The data of the ConfigMap, the Secret and the init ConfigMap: built once in
	 * render_new for their checksums, then shared (json_incref) by the objects. */
	json_t *config_data;
	json_t *secrets_data;
	json_t *initdb_data;
	struct render_file *files;
	size_t nfiles;
};

/* ---- reading the resolved document ---------------------------------------------- */

/* The value at a '/'-separated path of object keys, or NULL. */
static const json_t *at(const json_t *v, const char *path)
{
	while (v && *path) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);
		v = json_object_getn(v, path, n);
		path += slash ? n + 1 : n;
	}
	return v;
}

static const char *str(const json_t *v, const char *path)
{
	const char *s = json_string_value(at(v, path));
	return s ? s : "";
}

static json_int_t num(const json_t *v, const char *path)
{
	return json_integer_value(at(v, path));
}

static bool flag(const json_t *v, const char *path)
{
	return json_is_true(at(v, path));
}

/* ---- checking that doc is a resolved document ----------------------------------- */

enum kind { K_STR, K_INT, K_BOOL, K_OBJ };

struct field {
	const char *path;
	enum kind kind;
};

static bool has(const json_t *v, const char *path, enum kind kind)
{
	const json_t *f = at(v, path);
	switch (kind) {
	case K_STR:
		return json_is_string(f);
	case K_INT:
		return json_is_integer(f);
	case K_BOOL:
		return json_is_boolean(f);
	case K_OBJ:
		return json_is_object(f);
	}
	return false;
}

static bool has_all(const json_t *v, const struct field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has(v, fields[i].path, fields[i].kind))
			return false;
	return true;
}

#define HAS_ALL(v, table) has_all((v), (table), sizeof(table) / sizeof((table)[0]))

static const struct field resources_fields[] = {
	{"requests/cpu", K_STR}, {"requests/memory", K_STR}, {"limits/cpu", K_STR}, {"limits/memory", K_STR},
};

static const struct field top_fields[] = {
	{"namespace", K_STR}, {"image/pullPolicy", K_STR}, {"image/pullSecret", K_STR},
	{"config", K_OBJ}, {"secrets", K_OBJ}, {"services", K_OBJ},
	{"secretSource/type", K_STR}, {"secretSource/name", K_STR}, {"secretSource/secretStore", K_STR},
	{"secretSource/secretStoreKind", K_STR}, {"secretSource/remoteKey", K_STR},
	{"secretSource/refreshInterval", K_STR},
	{"mysql/enabled", K_BOOL}, {"mysql/image", K_STR}, {"mysql/rootPasswordSecret", K_STR},
	{"mysql/appPasswordSecret", K_STR}, {"mysql/storage/size", K_STR},
	{"mysql/storage/className", K_STR}, {"mysql/resources", K_OBJ},
	{"rabbitmq/enabled", K_BOOL}, {"rabbitmq/image", K_STR}, {"rabbitmq/user", K_STR},
	{"rabbitmq/passwordSecret", K_STR}, {"rabbitmq/storage/size", K_STR},
	{"rabbitmq/storage/className", K_STR}, {"rabbitmq/resources", K_OBJ},
	{"zipkin/enabled", K_BOOL}, {"zipkin/image", K_STR}, {"zipkin/resources", K_OBJ},
	{"ingress/enabled", K_BOOL}, {"ingress/className", K_STR}, {"ingress/host", K_STR},
	{"ingress/path", K_STR}, {"ingress/service", K_STR}, {"ingress/tls/enabled", K_BOOL},
	{"ingress/tls/secretName", K_STR}, {"ingress/annotations", K_OBJ},
};

static const struct field service_fields[] = {
	{"enabled", K_BOOL}, {"image/registry", K_STR}, {"image/repository", K_STR},
	{"image/tag", K_STR}, {"image/digest", K_STR}, {"port", K_INT}, {"replicas", K_INT},
	{"env", K_OBJ}, {"broker", K_BOOL}, {"probes", K_OBJ}, {"resources", K_OBJ},
	{"autoscaling/enabled", K_BOOL}, {"autoscaling/minReplicas", K_INT},
	{"autoscaling/maxReplicas", K_INT}, {"autoscaling/targetCPUUtilization", K_INT},
	{"disruptionBudget/enabled", K_BOOL}, {"securityContext/runAsUser", K_INT},
	{"securityContext/readOnlyRootFilesystem", K_BOOL},
};

static const struct field probe_fields[] = {
	{"path", K_STR}, {"initialDelaySeconds", K_INT}, {"periodSeconds", K_INT},
	{"timeoutSeconds", K_INT}, {"failureThreshold", K_INT},
};

static const char *const probe_names[] = {"readiness", "liveness", "startup"};

static bool strings_only(const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		if (!json_is_string(v))
			return false;
	return true;
}

/* Each env entry is an object with exactly one of value/config/secret, a string. */
static bool env_ok(const json_t *env)
{
	const char *name;
	json_t *src;
	json_object_foreach((json_t *)env, name, src) {
		int n = has(src, "value", K_STR) + has(src, "config", K_STR) + has(src, "secret", K_STR);
		if (!json_is_object(src) || json_object_size(src) != 1 || n != 1)
			return false;
	}
	return true;
}

static bool service_ok(const char *name, const json_t *svc)
{
	if (!util_is_dns_label(name) || !HAS_ALL(svc, service_fields) ||
	    !HAS_ALL(at(svc, "resources"), resources_fields) || !env_ok(at(svc, "env")))
		return false;
	for (size_t i = 0; i < sizeof probe_names / sizeof probe_names[0]; i++) {
		const json_t *p = at(svc, "probes");
		p = json_object_get(p, probe_names[i]);
		if (!json_is_null(p) && !HAS_ALL(p, probe_fields))
			return false;
	}
	const json_t *db = at(svc, "database");
	return json_is_null(db) || (has(db, "name", K_STR) && has(db, "user", K_STR));
}

static bool doc_ok(const json_t *doc)
{
	if (!json_is_object(doc) || !HAS_ALL(doc, top_fields) || !strings_only(at(doc, "config")) ||
	    !strings_only(at(doc, "secrets")) || !strings_only(at(doc, "ingress/annotations")))
		return false;
	const char *infra[] = {"mysql/resources", "rabbitmq/resources", "zipkin/resources"};
	for (size_t i = 0; i < sizeof infra / sizeof infra[0]; i++)
		if (!HAS_ALL(at(doc, infra[i]), resources_fields))
			return false;
	const char *name;
	json_t *svc;
	json_object_foreach(json_object_get(doc, "services"), name, svc)
		if (!service_ok(name, svc))
			return false;
	if (flag(doc, "ingress/enabled")) {
		const json_t *backend = json_object_get(at(doc, "services"), str(doc, "ingress/service"));
		if (!backend || !flag(backend, "enabled"))
			return false;
	}
	return true;
}

/* ---- small helpers ---------------------------------------------------------------- */

/* Sets obj[key] = val (stolen) and returns obj; NULL (both released) on any failure. */
static json_t *with(json_t *obj, const char *key, json_t *val)
{
	if (!obj || !val) {
		json_decref(obj);
		json_decref(val);
		return NULL;
	}
	/* keys are literals or names the resolved document already validated as UTF-8 */
	if (json_object_set_new_nocheck(obj, key, val) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Appends val (stolen) to arr. 0 or -ENOMEM. */
static int push(json_t *arr, json_t *val)
{
	return val && json_array_append_new(arr, val) == 0 ? 0 : -ENOMEM;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj, sorted, in a malloc'd array (borrowed strings). 0 or -ENOMEM. */
static int sorted_keys(const json_t *obj, const char ***ret_keys, size_t *ret_n)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	if (!keys)
		return -ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof *keys, cmp_str);
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

/* The canonical digest of v (include/digest.h): the tree is hashed as it is walked. 0 or
 * -ENOMEM. */
static int json_sha256(const json_t *v, char out[65])
{
	return digest_json(v, out) < 0 ? -ENOMEM : 0;
}

/* A new malloc'd "a" "b" "c" joined; NULL on allocation failure. */
static char *concat(const char *a, const char *b, const char *c)
{
	struct buf b_;
	buf_init(&b_, BUF_NO_MAX);
	if (buf_puts(&b_, a) < 0 || buf_puts(&b_, b) < 0 || buf_puts(&b_, c) < 0) {
		buf_release(&b_);
		return NULL;
	}
	char *s = buf_detach(&b_, NULL);
	buf_release(&b_);
	return s;
}

/* The tag of an image reference ("mysql:8.0.36" -> "8.0.36"), or "" when it has none. */
static const char *image_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	return colon && !strchr(ref, '@') ? colon + 1 : "";
}

/* A Kubernetes label value: <= 63 of [A-Za-z0-9_.-], alphanumeric at both ends. */
static bool is_label_value(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && ((i == 0 || i == n - 1) || !strchr("-_.", c)))
			return false;
	}
	return true;
}

/* ---- metadata ---------------------------------------------------------------------- */

/* The recommended labels. version is added when it is a valid label value; component
 * may be NULL. */
static json_t *labels(const struct render *r, const char *name, const char *component, const char *version)
{
	json_t *l = json_pack("{s:s, s:s}", "app.kubernetes.io/name", name,
			      "app.kubernetes.io/instance", r->instance);
	if (version && is_label_value(version))
		l = with(l, "app.kubernetes.io/version", json_string(version));
	if (component)
		l = with(l, "app.kubernetes.io/component", json_string(component));
	return with(with(with(with(l, "app.kubernetes.io/part-of", json_string(r->meta.stack)),
				"app.kubernetes.io/managed-by", json_string(MANAGED_BY)),
			   "manifestd.io/stack", json_string(r->meta.stack)),
		    "manifestd.io/environment", json_string(r->meta.environment));
}

/* The labels a selector matches on: stable across versions. */
static json_t *selector_labels(const struct render *r, const char *name)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", name, "app.kubernetes.io/instance", r->instance);
}

static json_t *annotations(const struct render *r, const json_t *extra)
{
	json_t *a = extra ? json_deep_copy(extra) : json_object();
	char rev[32];
	int n = snprintf(rev, sizeof rev, "%lld", r->meta.revision);
	if (n < 0 || (size_t)n >= sizeof rev)
		rev[0] = '\0';
	return with(with(a, "manifestd.io/revision", json_string(rev)),
		    "manifestd.io/bundle-hash", json_string(r->hash));
}

/* {apiVersion, kind, metadata: {name, namespace, labels (stolen), annotations}}.
 * Namespaced unless kind is "Namespace". */
static json_t *object_ex(const struct render *r, const char *api, const char *kind, const char *name,
			 json_t *lab, const json_t *extra_annotations)
{
	json_t *meta = json_pack("{s:s}", "name", name);
	if (strcmp(kind, "Namespace") != 0)
		meta = with(meta, "namespace", json_string(render_namespace(r)));
	meta = with(with(meta, "labels", lab), "annotations", annotations(r, extra_annotations));
	return json_pack("{s:s, s:s, s:o}", "apiVersion", api, "kind", kind, "metadata", meta);
}

static json_t *object(const struct render *r, const char *api, const char *kind, const char *name, json_t *lab)
{
	return object_ex(r, api, kind, name, lab, NULL);
}

/* ---- pod parts ---------------------------------------------------------------------- */

static json_t *resources(const json_t *res)
{
	return json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}",
			 "requests", "cpu", str(res, "requests/cpu"), "memory", str(res, "requests/memory"),
			 "limits", "cpu", str(res, "limits/cpu"), "memory", str(res, "limits/memory"));
}

static json_t *container_security(json_int_t uid, bool read_only)
{
	return json_pack("{s:b, s:I, s:b, s:b, s:{s:[s]}, s:{s:s}}", "runAsNonRoot", 1, "runAsUser", uid,
			 "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", read_only,
			 "capabilities", "drop", "ALL", "seccompProfile", "type", "RuntimeDefault");
}

static json_t *pod_security(json_int_t uid)
{
	return json_pack("{s:b, s:I, s:I, s:I, s:{s:s}}", "runAsNonRoot", 1, "runAsUser", uid,
			 "runAsGroup", uid, "fsGroup", uid, "seccompProfile", "type", "RuntimeDefault");
}

static json_t *env_value(const char *name, const char *value)
{
	return json_pack("{s:s, s:s}", "name", name, "value", value);
}

static json_t *env_ref(const char *name, const char *ref_kind, const char *object_name, const char *key)
{
	return json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", name, "valueFrom", ref_kind, "name", object_name,
			 "key", key);
}

static json_t *env_secret(const struct render *r, const char *name, const char *key)
{
	return env_ref(name, "secretKeyRef", r->secrets_name, key);
}

static json_t *mount(const char *name, const char *path, bool read_only)
{
	json_t *m = json_pack("{s:s, s:s}", "name", name, "mountPath", path);
	return read_only ? with(m, "readOnly", json_true()) : m;
}

static json_t *empty_dir(const char *name)
{
	return json_pack("{s:s, s:{}}", "name", name, "emptyDir");
}

static json_t *tcp_probe(const char *port, int period, int failures)
{
	return json_pack("{s:{s:s}, s:i, s:i, s:i}", "tcpSocket", "port", port, "periodSeconds", period,
			 "timeoutSeconds", 5, "failureThreshold", failures);
}

static json_t *exec_probe(json_t *command, int period, int timeout)
{
	return json_pack("{s:{s:o}, s:i, s:i, s:i}", "exec", "command", command, "periodSeconds", period,
			 "timeoutSeconds", timeout, "failureThreshold", 3);
}

/* An init container that waits until host:port accepts TCP connections. The script is
 * constant; host and port reach it through the environment, never pasted into it. */
static json_t *wait_container(const char *host, int port)
{
	char port_s[16];
	(void)snprintf(port_s, sizeof port_s, "%d", port);
	json_t *name = json_pack("s+", "wait-for-", host);
	const char *script = "until nc -z -w 2 \"$WAIT_HOST\" \"$WAIT_PORT\"; do "
			     "echo \"waiting for $WAIT_HOST:$WAIT_PORT\"; sleep 2; done";
	json_t *c = json_pack("{s:O, s:s, s:s, s:[s, s, s], s:[o, o], s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:o}",
			      "name", name, "image", WAIT_IMAGE, "imagePullPolicy", "IfNotPresent",
			      "command", "sh", "-c", script,
			      "env", env_value("WAIT_HOST", host), env_value("WAIT_PORT", port_s),
			      "resources", "requests", "cpu", "10m", "memory", "16Mi",
			      "limits", "cpu", "100m", "memory", "32Mi",
			      "securityContext", container_security(NOBODY_UID, true));
	json_decref(name);
	return c;
}

static json_t *service_port(const char *name, int port, const char *target)
{
	return json_pack("{s:s, s:i, s:s, s:s}", "name", name, "port", port, "targetPort", target, "protocol", "TCP");
}

static json_t *container_port(const char *name, int port)
{
	return json_pack("{s:s, s:i, s:s}", "name", name, "containerPort", port, "protocol", "TCP");
}

/* ---- common objects ----------------------------------------------------------------- */

static json_t *service_account(const struct render *r, const char *name, const char *component, const char *version)
{
	return with(object(r, "v1", "ServiceAccount", name, labels(r, name, component, version)),
		    "automountServiceAccountToken", json_false());
}

/* A ClusterIP Service selecting the pods named name; ports is stolen. */
static json_t *cluster_service(const struct render *r, const char *name, const char *component,
			       const char *version, json_t *ports)
{
	return with(object(r, "v1", "Service", name, labels(r, name, component, version)), "spec",
		    json_pack("{s:s, s:o, s:o}", "type", "ClusterIP", "selector", selector_labels(r, name),
			      "ports", ports));
}

/* Pod template {metadata: {labels, annotations?}, spec}; spec and annotations stolen
 * (annotations may be NULL for none). */
static json_t *pod_template(const struct render *r, const char *name, const char *component,
			    const char *version, json_t *pod_annotations, json_t *spec)
{
	json_t *meta = json_pack("{s:o}", "labels", labels(r, name, component, version));
	if (pod_annotations)
		meta = with(meta, "annotations", pod_annotations);
	return json_pack("{s:o, s:o}", "metadata", meta, "spec", spec);
}

/* The common start of a pod spec: service account, no token, pod security context. */
static json_t *pod_spec(const char *service_account_name, json_int_t uid)
{
	return json_pack("{s:s, s:b, s:b, s:o}", "serviceAccountName", service_account_name,
			 "automountServiceAccountToken", 0, "enableServiceLinks", 0,
			 "securityContext", pod_security(uid));
}

static json_t *volume_claim(const char *size, const char *class_name)
{
	json_t *spec = json_pack("{s:[s]}", "accessModes", "ReadWriteOnce");
	if (*class_name)
		spec = with(spec, "storageClassName", json_string(class_name));
	spec = with(spec, "resources", json_pack("{s:{s:s}}", "requests", "storage", size));
	return json_pack("{s:{s:s}, s:o}", "metadata", "name", "data", "spec", spec);
}

/* A StatefulSet of one pod with a "data" volumeClaimTemplate; template stolen. */
static json_t *stateful_set(const struct render *r, const char *name, const char *component,
			    const char *version, json_t *template, const json_t *storage)
{
	return with(object(r, "apps/v1", "StatefulSet", name, labels(r, name, component, version)), "spec",
		    json_pack("{s:s, s:i, s:{s:o}, s:o, s:[o]}", "serviceName", name, "replicas", 1,
			      "selector", "matchLabels", selector_labels(r, name), "template", template,
			      "volumeClaimTemplates",
			      volume_claim(str(storage, "size"), str(storage, "className"))));
}

/* ---- 00 namespace, 10 config, 11 secrets ---------------------------------------------- */

static int build_namespace(struct render *r, json_t *out)
{
	return push(out, object(r, "v1", "Namespace", render_namespace(r),
				labels(r, r->meta.stack, NULL, NULL)));
}

/* data of the ConfigMap (values as they are) or the Secret (values base64), keys sorted. */
static json_t *sorted_data(const json_t *src, bool base64)
{
	const char **keys = NULL;
	size_t n = 0;
	if (sorted_keys(src, &keys, &n) < 0)
		return NULL;
	json_t *data = json_object();
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (size_t i = 0; i < n && data; i++) {
		const char *v = json_string_value(json_object_get(src, keys[i]));
		buf_reset(&b);
		if (base64 && util_base64_append(&b, v, strlen(v)) < 0) {
			json_decref(data);
			data = NULL;
			break;
		}
		data = with(data, keys[i], json_string(base64 ? buf_cstr(&b) : v));
	}
	buf_release(&b);
	free(keys);
	return data;
}

static int build_config(struct render *r, json_t *out)
{
	json_t *cm = object(r, "v1", "ConfigMap", r->config_name, labels(r, r->meta.stack, "config", NULL));
	return push(out, with(cm, "data", json_incref(r->config_data)));
}

/* secretSource externalSecret: an external-secrets.io ExternalSecret that makes the Secret
 * from the store, one data entry per key of /secrets (property = the key). */
static int build_external_secret(struct render *r, json_t *out)
{
	const json_t *src = at(r->doc, "secretSource");
	const char **keys = NULL;
	size_t n = 0;
	if (sorted_keys(at(r->doc, "secrets"), &keys, &n) < 0)
		return -ENOMEM;
	json_t *data = json_array();
	for (size_t i = 0; i < n && data; i++)
		if (json_array_append_new(data, json_pack("{s:s, s:{s:s, s:s}}", "secretKey", keys[i],
							  "remoteRef", "key", str(src, "remoteKey"),
							  "property", keys[i])) < 0) {
			json_decref(data);
			data = NULL;
		}
	free(keys);
	json_t *spec = data ? json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:o}",
					"refreshInterval", str(src, "refreshInterval"),
					"secretStoreRef", "name", str(src, "secretStore"),
					"kind", str(src, "secretStoreKind"),
					"target", "name", r->secrets_name, "creationPolicy", "Owner",
					"data", data) : NULL;
	json_t *es = object(r, "external-secrets.io/v1beta1", "ExternalSecret", r->secrets_name,
			    labels(r, r->meta.stack, "config", NULL));
	return push(out, with(es, "spec", spec));
}

static int build_secrets(struct render *r, json_t *out)
{
	if (strcmp(str(r->doc, "secretSource/type"), "externalSecret") == 0)
		return build_external_secret(r, out);
	json_t *s = object(r, "v1", "Secret", r->secrets_name, labels(r, r->meta.stack, "config", NULL));
	return push(out, with(with(s, "type", json_string("Opaque")), "data",
			      json_incref(r->secrets_data)));
}

/* ---- MySQL -------------------------------------------------------------------------- */

/* The enabled services, sorted by name (borrowed names in a malloc'd array). */
static int enabled_services(const struct render *r, const char ***ret, size_t *ret_n)
{
	const char **names = NULL;
	size_t n = 0, kept = 0;
	const json_t *services = at(r->doc, "services");
	int rc = sorted_keys(services, &names, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (flag(json_object_get(services, names[i]), "enabled"))
			names[kept++] = names[i];
	*ret = names;
	*ret_n = kept;
	return 0;
}

/* Appends s as a MySQL identifier (backquoted, backquotes doubled). */
static int sql_ident(struct buf *b, const char *s)
{
	int rc = buf_puts(b, "`");
	for (; rc == 0 && *s; s++)
		rc = *s == '`' ? buf_puts(b, "``") : buf_append(b, s, 1);
	return rc ? rc : buf_puts(b, "`");
}

/* Appends s as one shell word in single quotes (' written as '\''). */
static int sh_quote(struct buf *b, const char *s)
{
	int rc = buf_puts(b, "'");
	for (; rc == 0 && *s; s++)
		rc = *s == '\'' ? buf_puts(b, "'\\''") : buf_append(b, s, 1);
	return rc ? rc : buf_puts(b, "'");
}

/* 01-databases.sql: CREATE DATABASE IF NOT EXISTS for each enabled service's database,
 * sorted, each once. */
static int databases_sql(const struct render *r, struct buf *b)
{
	const char **names = NULL, **dbs = NULL;
	size_t n = 0, ndb = 0;
	int rc = enabled_services(r, &names, &n);
	if (rc < 0)
		return rc;
	dbs = calloc(n ? n : 1, sizeof *dbs);
	rc = dbs ? buf_puts(b, "-- Generated by manifestd: one database per service that uses MySQL.\n") : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const json_t *db = at(json_object_get(at(r->doc, "services"), names[i]), "database");
		if (json_is_object(db))
			dbs[ndb++] = str(db, "name");
	}
	if (rc == 0)
		qsort(dbs, ndb, sizeof *dbs, cmp_str);
	for (size_t i = 0; rc == 0 && i < ndb; i++) {
		if (i > 0 && strcmp(dbs[i], dbs[i - 1]) == 0)
			continue;
		rc = buf_puts(b, "CREATE DATABASE IF NOT EXISTS ");
		if (rc == 0)
			rc = sql_ident(b, dbs[i]);
		if (rc == 0)
			rc = buf_puts(b, ";\n");
	}
	free(dbs);
	free(names);
	return rc;
}

/* The constant part of 02-users.sh. Names arrive as shell words; the script quotes them
 * for SQL itself, and reads every password from the environment. */
static const char users_sh_head[] =
	"#!/bin/bash\n"
	"# Generated by manifestd: creates one MySQL user per service database and grants it\n"
	"# that database only. Run by the mysql image on first start (local socket) and by the\n"
	"# mysql-init Job (MYSQL_HOST set). Needs MYSQL_ROOT_PASSWORD and MYSQL_APP_PASSWORD.\n"
	"set -euo pipefail\n"
	": \"${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set}\"\n"
	": \"${MYSQL_APP_PASSWORD:?MYSQL_APP_PASSWORD is not set}\"\n"
	"bs=$'\\x5c' q=$'\\x27' bq=$'\\x60'\n"
	"# $1 as a SQL string literal: backslashes and quotes doubled.\n"
	"sql_string() {\n"
	"\tlocal s=${1//\"$bs\"/\"$bs$bs\"}\n"
	"\ts=${s//\"$q\"/\"$q$q\"}\n"
	"\tprintf '%s' \"$q$s$q\"\n"
	"}\n"
	"# $1 as a SQL identifier: backquoted, backquotes doubled.\n"
	"sql_ident() {\n"
	"\tlocal s=${1//\"$bq\"/\"$bq$bq\"}\n"
	"\tprintf '%s' \"$bq$s$bq\"\n"
	"}\n"
	"password=$(sql_string \"$MYSQL_APP_PASSWORD\")\n"
	"# user_statements USER DATABASE\n"
	"user_statements() {\n"
	"\tlocal user db\n"
	"\tuser=\"$(sql_string \"$1\")@'%'\"\n"
	"\tdb=$(sql_ident \"$2\")\n"
	"\tprintf '%s\\n' \"CREATE USER IF NOT EXISTS $user IDENTIFIED BY $password;\" \\\n"
	"\t\t\"ALTER USER $user IDENTIFIED BY $password;\" \\\n"
	"\t\t\"GRANT ALL PRIVILEGES ON $db.* TO $user;\"\n"
	"}\n"
	"if [ -n \"${MYSQL_HOST:-}\" ]; then\n"
	"\tclient=(mysql --protocol=TCP --host=\"$MYSQL_HOST\" --port=\"${MYSQL_PORT:-3306}\" --user=root)\n"
	"else\n"
	"\tclient=(mysql --protocol=SOCKET --user=root)\n"
	"fi\n"
	"export MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\"\n"
	"statements() {\n"
	"\t:\n";

static const char users_sh_tail[] =
	"\techo 'FLUSH PRIVILEGES;'\n"
	"}\n"
	"statements | \"${client[@]}\"\n";

/* 02-users.sh: one user_statements line per enabled service with a database. */
static int users_sh(const struct render *r, struct buf *b)
{
	const char **names = NULL;
	size_t n = 0;
	int rc = enabled_services(r, &names, &n);
	if (rc == 0)
		rc = buf_puts(b, users_sh_head);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const json_t *db = at(json_object_get(at(r->doc, "services"), names[i]), "database");
		if (!json_is_object(db))
			continue;
		rc = buf_puts(b, "\tuser_statements ");
		if (rc == 0)
			rc = sh_quote(b, str(db, "user"));
		if (rc == 0)
			rc = buf_puts(b, " ");
		if (rc == 0)
			rc = sh_quote(b, str(db, "name"));
		if (rc == 0)
			rc = buf_puts(b, "\n");
	}
	if (rc == 0)
		rc = buf_puts(b, users_sh_tail);
	free(names);
	return rc;
}

/* {"01-databases.sql": ..., "02-users.sh": ...}; NULL on allocation failure. */
static json_t *initdb_data(const struct render *r)
{
	struct buf sql, sh;
	buf_init(&sql, BUF_NO_MAX);
	buf_init(&sh, BUF_NO_MAX);
	json_t *data = NULL;
	if (databases_sql(r, &sql) == 0 && users_sh(r, &sh) == 0)
		data = json_pack("{s:s, s:s}", "01-databases.sql", buf_cstr(&sql), "02-users.sh", buf_cstr(&sh));
	buf_release(&sql);
	buf_release(&sh);
	return data;
}

static json_t *initdb_volume(void)
{
	return json_pack("{s:s, s:{s:s, s:i}}", "name", "initdb", "configMap", "name", "mysql-initdb",
			 "defaultMode", INITDB_MODE);
}

static json_t *mysql_container(const struct render *r, const json_t *my)
{
	/* MYSQL_PASSWORD (without MYSQL_USER the image only notes it) tells readers where the
	 * application password lives; 02-users.sh reads MYSQL_APP_PASSWORD. */
	json_t *env = json_pack("[o, o, o]", env_secret(r, "MYSQL_ROOT_PASSWORD", str(my, "rootPasswordSecret")),
				env_secret(r, "MYSQL_APP_PASSWORD", str(my, "appPasswordSecret")),
				env_secret(r, "MYSQL_PASSWORD", str(my, "appPasswordSecret")));
	json_t *mounts = json_pack("[o, o, o, o, o]", mount("data", "/var/lib/mysql", false),
				   mount("initdb", INITDB_DIR, true), mount("run", "/var/run/mysqld", false),
				   mount("tmp", "/tmp", false), mount("files", "/var/lib/mysql-files", false));
	return json_pack("{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "name", "mysql", "image", str(my, "image"), "imagePullPolicy", "IfNotPresent",
			 "ports", container_port("mysql", MYSQL_PORT), "env", env,
			 "startupProbe", tcp_probe("mysql", 10, 60), "readinessProbe", tcp_probe("mysql", 10, 3),
			 "livenessProbe", tcp_probe("mysql", 20, 6), "resources", resources(at(my, "resources")),
			 "securityContext", container_security(MYSQL_UID, true), "volumeMounts", mounts);
}

static int build_mysql(struct render *r, json_t *out)
{
	const json_t *my = at(r->doc, "mysql");
	const char *version = image_tag(str(my, "image"));
	json_t *spec = with(with(pod_spec("mysql", MYSQL_UID), "containers",
				 json_pack("[o]", mysql_container(r, my))),
			    "volumes", json_pack("[o, o, o, o]", initdb_volume(), empty_dir("run"),
						 empty_dir("tmp"), empty_dir("files")));
	json_t *annot = json_pack("{s:s}", "checksum/initdb", r->init_sql_sum);
	json_t *tmpl = pod_template(r, "mysql", "database", version, annot, spec);
	int rc = push(out, service_account(r, "mysql", "database", version));
	if (rc == 0)
		rc = push(out, with(object(r, "v1", "ConfigMap", "mysql-initdb", labels(r, "mysql", "database", version)),
				    "data", json_incref(r->initdb_data)));
	if (rc == 0)
		rc = push(out, cluster_service(r, "mysql", "database", version,
					       json_pack("[o]", service_port("mysql", MYSQL_PORT, "mysql"))));
	if (rc == 0)
		rc = push(out, stateful_set(r, "mysql", "database", version, json_incref(tmpl), at(my, "storage")));
	json_decref(tmpl);
	return rc;
}

/* The init Job re-runs both init files against the mysql Service. Its name carries a
 * hash of them: a changed database list gives a new Job instead of an immutable-field
 * error on apply. Both files are idempotent. */
static const char init_job_script[] =
	"set -euo pipefail\n"
	"mysql --protocol=TCP --host=\"$MYSQL_HOST\" --port=\"$MYSQL_PORT\" --user=root < " INITDB_DIR
	"/01-databases.sql\n"
	"bash " INITDB_DIR "/02-users.sh\n";

static json_t *init_job_container(const struct render *r, const json_t *my)
{
	json_t *env = json_pack("[o, o, o, o, o]", env_value("MYSQL_HOST", "mysql"), env_value("MYSQL_PORT", "3306"),
				env_secret(r, "MYSQL_PWD", str(my, "rootPasswordSecret")),
				env_secret(r, "MYSQL_ROOT_PASSWORD", str(my, "rootPasswordSecret")),
				env_secret(r, "MYSQL_APP_PASSWORD", str(my, "appPasswordSecret")));
	return json_pack("{s:s, s:s, s:s, s:[s, s, s], s:o, s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:o, s:[o, o]}",
			 "name", "mysql-init", "image", str(my, "image"), "imagePullPolicy", "IfNotPresent",
			 "command", "bash", "-c", init_job_script, "env", env,
			 "resources", "requests", "cpu", "50m", "memory", "64Mi", "limits", "cpu", "500m",
			 "memory", "256Mi", "securityContext", container_security(MYSQL_UID, true),
			 "volumeMounts", mount("initdb", INITDB_DIR, true), mount("tmp", "/tmp", false));
}

static int build_mysql_init(struct render *r, json_t *out)
{
	const json_t *my = at(r->doc, "mysql");
	char name[32];
	(void)snprintf(name, sizeof name, "mysql-init-%.8s", r->init_sql_sum);
	const char *version = image_tag(str(my, "image"));
	json_t *spec = with(with(with(with(pod_spec("mysql", MYSQL_UID), "restartPolicy", json_string("OnFailure")),
				      "initContainers", json_pack("[o]", wait_container("mysql", MYSQL_PORT))),
				 "containers", json_pack("[o]", init_job_container(r, my))),
			    "volumes", json_pack("[o, o]", initdb_volume(), empty_dir("tmp")));
	json_t *job = object(r, "batch/v1", "Job", name, labels(r, "mysql-init", "database", version));
	return push(out, with(job, "spec",
			      json_pack("{s:i, s:i, s:o}", "backoffLimit", JOB_BACKOFF_LIMIT,
					"ttlSecondsAfterFinished", JOB_TTL_SECONDS, "template",
					pod_template(r, "mysql-init", "database", version, NULL, spec))));
}

/* ---- RabbitMQ, Zipkin ---------------------------------------------------------------- */

static json_t *rabbitmq_container(const struct render *r, const json_t *mq)
{
	json_t *env = json_pack("[o, o]", env_value("RABBITMQ_DEFAULT_USER", str(mq, "user")),
				env_secret(r, "RABBITMQ_DEFAULT_PASS", str(mq, "passwordSecret")));
	json_t *mounts = json_pack("[o, o, o]", mount("data", "/var/lib/rabbitmq", false),
				   mount("tmp", "/tmp", false), mount("log", "/var/log/rabbitmq", false));
	return json_pack("{s:s, s:s, s:s, s:[o, o], s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "name", "rabbitmq", "image", str(mq, "image"), "imagePullPolicy", "IfNotPresent",
			 "ports", container_port("amqp", AMQP_PORT), container_port("management", RABBITMQ_MGMT_PORT),
			 "env", env, "startupProbe", tcp_probe("amqp", 10, 30),
			 "readinessProbe", exec_probe(json_pack("[s, s, s]", "rabbitmq-diagnostics", "-q", "ping"), 10, 10),
			 "livenessProbe", tcp_probe("amqp", 30, 3), "resources", resources(at(mq, "resources")),
			 "securityContext", container_security(RABBITMQ_UID, true), "volumeMounts", mounts);
}

static int build_rabbitmq(struct render *r, json_t *out)
{
	const json_t *mq = at(r->doc, "rabbitmq");
	const char *version = image_tag(str(mq, "image"));
	json_t *spec = with(with(pod_spec("rabbitmq", RABBITMQ_UID), "containers",
				 json_pack("[o]", rabbitmq_container(r, mq))),
			    "volumes", json_pack("[o, o]", empty_dir("tmp"), empty_dir("log")));
	json_t *tmpl = pod_template(r, "rabbitmq", "broker", version, NULL, spec);
	int rc = push(out, service_account(r, "rabbitmq", "broker", version));
	if (rc == 0)
		rc = push(out, cluster_service(r, "rabbitmq", "broker", version,
					       json_pack("[o, o]", service_port("amqp", AMQP_PORT, "amqp"),
							 service_port("management", RABBITMQ_MGMT_PORT, "management"))));
	if (rc == 0)
		rc = push(out, stateful_set(r, "rabbitmq", "broker", version, json_incref(tmpl), at(mq, "storage")));
	json_decref(tmpl);
	return rc;
}

static json_t *http_probe(const char *path, int initial, int period, int timeout, int failures)
{
	return json_pack("{s:{s:s, s:s}, s:i, s:i, s:i, s:i}", "httpGet", "path", path, "port", "http",
			 "initialDelaySeconds", initial, "periodSeconds", period, "timeoutSeconds", timeout,
			 "failureThreshold", failures);
}

static json_t *zipkin_deployment(const struct render *r, const json_t *zk, const char *version)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:o, s:o, s:[o]}",
			      "name", "zipkin", "image", str(zk, "image"), "imagePullPolicy", "IfNotPresent",
			      "ports", container_port("http", ZIPKIN_PORT),
			      "startupProbe", http_probe("/health", 0, 5, 2, 36),
			      "readinessProbe", http_probe("/health", 0, 10, 2, 3),
			      "livenessProbe", http_probe("/health", 0, 10, 2, 3),
			      "resources", resources(at(zk, "resources")),
			      "securityContext", container_security(ZIPKIN_UID, true),
			      "volumeMounts", mount("tmp", "/tmp", false));
	json_t *spec = with(with(pod_spec("zipkin", ZIPKIN_UID), "containers", json_pack("[o]", c)),
			    "volumes", json_pack("[o]", empty_dir("tmp")));
	return with(object(r, "apps/v1", "Deployment", "zipkin", labels(r, "zipkin", "tracing", version)),
		    "spec", json_pack("{s:i, s:{s:o}, s:o}", "replicas", 1, "selector", "matchLabels",
				      selector_labels(r, "zipkin"), "template",
				      pod_template(r, "zipkin", "tracing", version, NULL, spec)));
}

static int build_zipkin(struct render *r, json_t *out)
{
	const json_t *zk = at(r->doc, "zipkin");
	const char *version = image_tag(str(zk, "image"));
	int rc = push(out, service_account(r, "zipkin", "tracing", version));
	if (rc == 0)
		rc = push(out, zipkin_deployment(r, zk, version));
	if (rc == 0)
		rc = push(out, cluster_service(r, "zipkin", "tracing", version,
					       json_pack("[o]", service_port("http", ZIPKIN_PORT, "http"))));
	return rc;
}

/* ---- application services ------------------------------------------------------------ */

static json_t *service_env(const struct render *r, const json_t *env)
{
	json_t *arr = json_array();
	const char *name;
	json_t *src;
	json_object_foreach((json_t *)env, name, src) {
		json_t *e;
		if (has(src, "value", K_STR))
			e = env_value(name, str(src, "value"));
		else if (has(src, "config", K_STR))
			e = env_ref(name, "configMapKeyRef", r->config_name, str(src, "config"));
		else
			e = env_secret(r, name, str(src, "secret"));
		if (push(arr, e) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The image reference: [registry/]repository, then @digest when pinned, else :tag. */
static json_t *image_ref(const json_t *image)
{
	const char *registry = str(image, "registry"), *digest = str(image, "digest");
	return json_pack("s++++", registry, *registry ? "/" : "", str(image, "repository"), *digest ? "@" : ":",
			 *digest ? digest : str(image, "tag"));
}

static json_t *app_probe(const json_t *p)
{
	return http_probe(str(p, "path"), (int)num(p, "initialDelaySeconds"), (int)num(p, "periodSeconds"),
			  (int)num(p, "timeoutSeconds"), (int)num(p, "failureThreshold"));
}

static json_t *app_container(const struct render *r, const char *name, const json_t *svc)
{
	bool ro = flag(svc, "securityContext/readOnlyRootFilesystem");
	json_t *c = json_pack("{s:s, s:o, s:s, s:[o], s:o}", "name", name, "image", image_ref(at(svc, "image")),
			      "imagePullPolicy", str(r->doc, "image/pullPolicy"),
			      "ports", container_port("http", (int)num(svc, "port")),
			      "env", service_env(r, at(svc, "env")));
	static const char *const keys[] = {"readinessProbe", "livenessProbe", "startupProbe"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const json_t *p = json_object_get(at(svc, "probes"), probe_names[i]);
		if (json_is_object(p))
			c = with(c, keys[i], app_probe(p));
	}
	c = with(with(c, "resources", resources(at(svc, "resources"))), "securityContext",
		 container_security(num(svc, "securityContext/runAsUser"), ro));
	return ro ? with(c, "volumeMounts", json_pack("[o]", mount("tmp", "/tmp", false))) : c;
}

static json_t *app_init_containers(const json_t *svc)
{
	json_t *arr = json_array();
	if (json_is_object(at(svc, "database")) && push(arr, wait_container("mysql", MYSQL_PORT)) < 0)
		goto fail;
	if (flag(svc, "broker") && push(arr, wait_container("rabbitmq", AMQP_PORT)) < 0)
		goto fail;
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *app_pod_spec(const struct render *r, const char *name, const json_t *svc)
{
	bool ro = flag(svc, "securityContext/readOnlyRootFilesystem");
	json_t *spec = pod_spec(name, num(svc, "securityContext/runAsUser"));
	const char *pull_secret = str(r->doc, "image/pullSecret");
	if (*pull_secret)
		spec = with(spec, "imagePullSecrets", json_pack("[{s:s}]", "name", pull_secret));
	json_t *init = app_init_containers(svc);
	if (init && json_array_size(init) == 0)
		json_decref(init);
	else
		spec = with(spec, "initContainers", init);
	spec = with(spec, "containers", json_pack("[o]", app_container(r, name, svc)));
	return ro ? with(spec, "volumes", json_pack("[o]", empty_dir("tmp"))) : spec;
}

static bool autoscaled(const json_t *svc)
{
	return flag(svc, "autoscaling/enabled");
}

/* More than one pod may run: replicas > 1 or an autoscaler. */
static bool many_pods(const json_t *svc)
{
	return autoscaled(svc) || num(svc, "replicas") > 1;
}

static json_t *app_deployment(const struct render *r, const char *name, const json_t *svc)
{
	const char *version = str(svc, "image/tag");
	json_t *spec = json_object();
	if (!autoscaled(svc))
		spec = with(spec, "replicas", json_integer(num(svc, "replicas")));
	spec = with(spec, "selector", json_pack("{s:o}", "matchLabels", selector_labels(r, name)));
	if (many_pods(svc))
		spec = with(spec, "strategy", json_pack("{s:s, s:{s:i, s:i}}", "type", "RollingUpdate", "rollingUpdate",
						       "maxUnavailable", 0, "maxSurge", 1));
	json_t *annot = json_pack("{s:s, s:s}", "checksum/config", r->config_sum, "checksum/secrets", r->secrets_sum);
	spec = with(spec, "template", pod_template(r, name, "service", version, annot, app_pod_spec(r, name, svc)));
	return with(object(r, "apps/v1", "Deployment", name, labels(r, name, "service", version)), "spec", spec);
}

static json_t *app_hpa(const struct render *r, const char *name, const json_t *svc)
{
	json_t *spec = json_pack("{s:{s:s, s:s, s:s}, s:I, s:I, s:[{s:s, s:{s:s, s:{s:s, s:I}}}]}",
				 "scaleTargetRef", "apiVersion", "apps/v1", "kind", "Deployment", "name", name,
				 "minReplicas", num(svc, "autoscaling/minReplicas"),
				 "maxReplicas", num(svc, "autoscaling/maxReplicas"),
				 "metrics", "type", "Resource", "resource", "name", "cpu", "target", "type", "Utilization",
				 "averageUtilization", num(svc, "autoscaling/targetCPUUtilization"));
	json_t *lab = labels(r, name, "service", str(svc, "image/tag"));
	return with(object(r, "autoscaling/v2", "HorizontalPodAutoscaler", name, lab), "spec", spec);
}

static json_t *app_pdb(const struct render *r, const char *name, const json_t *svc)
{
	json_t *spec = json_pack("{s:i, s:{s:o}}", "maxUnavailable", 1, "selector", "matchLabels",
				 selector_labels(r, name));
	json_t *lab = labels(r, name, "service", str(svc, "image/tag"));
	return with(object(r, "policy/v1", "PodDisruptionBudget", name, lab), "spec", spec);
}

static int build_service(struct render *r, const char *name, json_t *out)
{
	const json_t *svc = json_object_get(at(r->doc, "services"), name);
	const char *version = str(svc, "image/tag");
	int rc = push(out, service_account(r, name, "service", version));
	if (rc == 0)
		rc = push(out, app_deployment(r, name, svc));
	if (rc == 0)
		rc = push(out, cluster_service(r, name, "service", version,
					       json_pack("[o]", service_port("http", (int)num(svc, "port"), "http"))));
	if (rc == 0 && autoscaled(svc))
		rc = push(out, app_hpa(r, name, svc));
	if (rc == 0 && flag(svc, "disruptionBudget/enabled") && many_pods(svc))
		rc = push(out, app_pdb(r, name, svc));
	return rc;
}

/* ---- 90 ingress ------------------------------------------------------------------------ */

static int build_ingress(struct render *r, json_t *out)
{
	const json_t *in = at(r->doc, "ingress");
	const char *backend = str(in, "service"), *host = str(in, "host");
	const json_t *svc = json_object_get(at(r->doc, "services"), backend);
	json_t *path = json_pack("{s:s, s:s, s:{s:{s:s, s:{s:I}}}}", "path", str(in, "path"), "pathType", "Prefix",
				 "backend", "service", "name", backend, "port", "number", num(svc, "port"));
	json_t *rule = *host ? json_pack("{s:s}", "host", host) : json_object();
	rule = with(rule, "http", json_pack("{s:[o]}", "paths", path));
	json_t *spec = json_pack("{s:s}", "ingressClassName", str(in, "className"));
	if (flag(in, "tls/enabled") && *host)
		spec = with(spec, "tls", json_pack("[{s:[s], s:s}]", "hosts", host, "secretName", str(in, "tls/secretName")));
	spec = with(spec, "rules", json_pack("[o]", rule));
	json_t *ing = object_ex(r, "networking.k8s.io/v1", "Ingress", r->meta.stack,
				labels(r, r->meta.stack, "ingress", NULL), at(in, "annotations"));
	return push(out, with(ing, "spec", spec));
}

/* ---- planning ---------------------------------------------------------------------------- */

static int add_file(struct render *r, enum file_kind kind, const char *service, const char *name)
{
	char *copy = service ? concat("50-", service, ".yaml") : strdup(name);
	if (!copy)
		return -ENOMEM;
	struct render_file *files = realloc(r->files, (r->nfiles + 1) * sizeof *files);
	if (!files) {
		free(copy);
		return -ENOMEM;
	}
	r->files = files;
	r->files[r->nfiles++] = (struct render_file){.kind = kind, .service = service, .name = copy};
	return 0;
}

static int plan_files(struct render *r)
{
	const char **names = NULL;
	size_t n = 0;
	int rc = add_file(r, FILE_NAMESPACE, NULL, "00-namespace.yaml");
	if (rc == 0)
		rc = add_file(r, FILE_CONFIG, NULL, "10-config.yaml");
	/* secretSource existing: the Secret is in the cluster already; nothing to render */
	if (rc == 0 && strcmp(str(r->doc, "secretSource/type"), "existing") != 0)
		rc = add_file(r, FILE_SECRETS, NULL, "11-secrets.yaml");
	if (rc == 0 && flag(r->doc, "mysql/enabled")) {
		rc = add_file(r, FILE_MYSQL, NULL, "30-mysql.yaml");
		if (rc == 0)
			rc = add_file(r, FILE_MYSQL_INIT, NULL, "31-mysql-init.yaml");
	}
	if (rc == 0 && flag(r->doc, "rabbitmq/enabled"))
		rc = add_file(r, FILE_RABBITMQ, NULL, "35-rabbitmq.yaml");
	if (rc == 0 && flag(r->doc, "zipkin/enabled"))
		rc = add_file(r, FILE_ZIPKIN, NULL, "36-zipkin.yaml");
	if (rc == 0)
		rc = enabled_services(r, &names, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = add_file(r, FILE_SERVICE, names[i], NULL);
	if (rc == 0 && flag(r->doc, "ingress/enabled"))
		rc = add_file(r, FILE_INGRESS, NULL, "90-ingress.yaml");
	free(names);
	return rc;
}

/* The hash written into every object: document, meta and manifestd version. */
static int bundle_hash(struct render *r)
{
	json_t *id = json_pack("{s:O, s:s, s:s, s:I, s:s}", "document", r->doc, "stack", r->meta.stack,
			       "environment", r->meta.environment, "revision", (json_int_t)r->meta.revision,
			       "manifestd", MANIFESTD_VERSION);
	int rc = id ? json_sha256(id, r->hash) : -ENOMEM;
	json_decref(id);
	return rc;
}

/* Checksums of what the ConfigMap, the Secret and the init ConfigMap hold, as rendered. */
static int checksums(struct render *r)
{
	r->config_data = sorted_data(at(r->doc, "config"), false);
	r->secrets_data = sorted_data(at(r->doc, "secrets"), true);
	r->initdb_data = initdb_data(r);
	int rc = r->config_data && r->secrets_data && r->initdb_data ? 0 : -ENOMEM;
	if (rc == 0)
		rc = json_sha256(r->config_data, r->config_sum);
	if (rc == 0)
		rc = json_sha256(r->secrets_data, r->secrets_sum);
	if (rc == 0)
		rc = json_sha256(r->initdb_data, r->init_sql_sum);
	return rc;
}

static bool meta_ok(const struct render_meta *meta)
{
	return meta && meta->stack && meta->environment && util_is_dns_label(meta->stack) &&
	       util_is_dns_label(meta->environment) &&
	       strlen(meta->stack) + 1 + strlen(meta->environment) <= 63; /* instance label */
}

int render_new(const json_t *doc, const struct render_meta *meta, struct render **ret)
{
	if (!meta_ok(meta) || !doc_ok(doc))
		return -EINVAL;
	struct render *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->doc = json_incref((json_t *)doc);
	r->meta = *meta;
	r->instance = concat(meta->stack, "-", meta->environment);
	r->config_name = concat(meta->stack, "-config", "");
	r->secrets_name = concat(str(doc, "secretSource/name"), "", "");
	int rc = r->instance && r->config_name && r->secrets_name ? 0 : -ENOMEM;
	if (rc == 0)
		rc = bundle_hash(r);
	if (rc == 0)
		rc = checksums(r);
	if (rc == 0)
		rc = plan_files(r);
	if (rc < 0) {
		render_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void render_free(struct render *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].name);
	free(r->files);
	free(r->instance);
	free(r->config_name);
	free(r->secrets_name);
	json_decref(r->config_data);
	json_decref(r->secrets_data);
	json_decref(r->initdb_data);
	json_decref(r->doc);
	free(r);
}

size_t render_file_count(const struct render *r)
{
	return r->nfiles;
}

const char *render_file_name(const struct render *r, size_t i)
{
	return i < r->nfiles ? r->files[i].name : NULL;
}

static int build_file(struct render *r, const struct render_file *f, json_t *out)
{
	switch (f->kind) {
	case FILE_NAMESPACE:
		return build_namespace(r, out);
	case FILE_CONFIG:
		return build_config(r, out);
	case FILE_SECRETS:
		return build_secrets(r, out);
	case FILE_MYSQL:
		return build_mysql(r, out);
	case FILE_MYSQL_INIT:
		return build_mysql_init(r, out);
	case FILE_RABBITMQ:
		return build_rabbitmq(r, out);
	case FILE_ZIPKIN:
		return build_zipkin(r, out);
	case FILE_SERVICE:
		return build_service(r, f->service, out);
	case FILE_INGRESS:
		return build_ingress(r, out);
	}
	return -EINVAL;
}

int render_file_objects(struct render *r, size_t i, json_t **ret_objects)
{
	if (i >= r->nfiles)
		return -EINVAL;
	json_t *out = json_array();
	if (!out)
		return -ENOMEM;
	int rc = build_file(r, &r->files[i], out);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*ret_objects = out;
	return 0;
}

const struct render_meta *render_meta(const struct render *r)
{
	return &r->meta;
}

const json_t *render_doc(const struct render *r)
{
	return r->doc;
}

const char *render_bundle_hash(const struct render *r)
{
	return r->hash;
}

const char *render_namespace(const struct render *r)
{
	return str(r->doc, "namespace");
}

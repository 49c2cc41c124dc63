/* render: a resolved document -> Kubernetes objects (node trees in the caller's arena),
 * one builder per resource kind, grouped into the bundle's files. Pure: no I/O, no
 * defaults (the resolved document of docs/schema.md has every field), nothing specific to
 * one stack. render_new reads the document once into the typed views of docview.h
 * (docview_read checks it as it reads); the builders take those views, never paths.
 *
 * Internal builders return a node of the arena, or NULL when out of memory; node_set,
 * node_push, NODE_MAP and NODE_SEQ pass a NULL on, so a failure anywhere becomes one
 * -ENOMEM (what was allocated stays in the arena until the caller frees or resets it).
 * Strings are borrowed from literals, from r->doc and from struct render, all of which
 * outlive the tree (render_free comes after); formatted text is copied into the arena. */
#include "render.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "docview.h"
#include "node.h"
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
	const struct service_view *service; /* FILE_SERVICE: in render's services */
	char *name;
};

struct render {
	json_t *doc;
	struct arena *views;              /* what docview_read allocates */
	struct doc_view view;             /* doc as render reads it (docview_read) */
	const struct service_view **services; /* the enabled services, sorted by name */
	size_t nservices;
	struct render_meta meta;
	char *instance;      /* "<stack>-<environment>" */
	char *config_name;   /* "<stack>-config" */
	char *secrets_name;  /* /secretSource/name, "<stack>-secrets" by default */
	char *revision;      /* meta.revision in decimal */
	char hash[65];
	char config_sum[65];
	char secrets_sum[65];
	char init_sql_sum[65]; /* of the mysql-initdb files: names the init Job */
	/* The data of the ConfigMap, the Secret and the init ConfigMap: built once in
	 * render_new for their checksums, then borrowed by the objects (node_from_json). */
	json_t *config_data;
	json_t *secrets_data;
	json_t *initdb_data;
	struct render_file *files;
	size_t nfiles;
};

/* ---- small helpers ---------------------------------------------------------------- */

/* Appends val to seq. 0 or -ENOMEM (val or seq NULL: an earlier allocation failed). */
static int push(struct node *seq, struct node *val)
{
	return node_push(seq, val) ? 0 : -ENOMEM;
}

/* Sets map[key] = val as json_object_set does: a key already there keeps its place and
 * takes the new value. Returns map, or NULL as node_set does. */
static struct node *replace(struct node *map, const char *key, struct node *val)
{
	if (!map || !val || map->kind != NODE_MAP)
		return NULL;
	for (struct node_item *it = map->v.list.first; it; it = it->next)
		if (strcmp(it->key, key) == 0) {
			it->val = val;
			return map;
		}
	return node_set(map, key, val);
}

/* The text of a new string formatted into a (NULL when out of memory, which the
 * builders propagate like a NULL node). */
#define ARENA_PRINTF(a, ...) node_string(node_printf((a), __VA_ARGS__))

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

/* A new malloc'd decimal text of i; NULL on allocation failure. */
static char *decimal(long long i)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	char *s = buf_printf(&b, "%lld", i) == 0 ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
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

/* version when it is a valid label value (the app.kubernetes.io/version label), else NULL. */
static const char *label_version(const char *version)
{
	return version && is_label_value(version) ? version : NULL;
}

/* The recommended labels. version (checked by label_version) and component may be NULL. */
static struct node *labels(struct arena *a, const struct render *r, const char *name, const char *component,
			   const char *version)
{
	struct node *l = NODE_MAP(a, {"app.kubernetes.io/name", node_str(a, name)},
				  {"app.kubernetes.io/instance", node_str(a, r->instance)});
	if (version)
		l = node_set(l, "app.kubernetes.io/version", node_str(a, version));
	if (component)
		l = node_set(l, "app.kubernetes.io/component", node_str(a, component));
	l = node_set(l, "app.kubernetes.io/part-of", node_str(a, r->meta.stack));
	l = node_set(l, "app.kubernetes.io/managed-by", node_str(a, MANAGED_BY));
	l = node_set(l, "manifestd.io/stack", node_str(a, r->meta.stack));
	return node_set(l, "manifestd.io/environment", node_str(a, r->meta.environment));
}

/* The labels a selector matches on: stable across versions. */
static struct node *selector_labels(struct arena *a, const struct render *r, const char *name)
{
	return NODE_MAP(a, {"app.kubernetes.io/name", node_str(a, name)},
			{"app.kubernetes.io/instance", node_str(a, r->instance)});
}

/* extra (borrowed from the document; may be NULL), then the revision and bundle hash. */
static struct node *annotations(struct arena *a, const struct render *r, const json_t *extra)
{
	if (!extra)
		return NODE_MAP(a, {"manifestd.io/revision", node_str(a, r->revision)},
				{"manifestd.io/bundle-hash", node_str(a, r->hash)});
	struct node *m = replace(node_from_json(a, extra), "manifestd.io/revision", node_str(a, r->revision));
	return replace(m, "manifestd.io/bundle-hash", node_str(a, r->hash));
}

/* {apiVersion, kind, metadata: {name, namespace, labels, annotations}}. Namespaced
 * unless kind is "Namespace". */
static struct node *object_ex(struct arena *a, const struct render *r, const char *api, const char *kind,
			      const char *name, struct node *lab, const json_t *extra_annotations)
{
	struct node *meta = NODE_MAP(a, {"name", node_str(a, name)});
	if (strcmp(kind, "Namespace") != 0)
		meta = node_set(meta, "namespace", node_str(a, render_namespace(r)));
	meta = node_set(node_set(meta, "labels", lab), "annotations", annotations(a, r, extra_annotations));
	return NODE_MAP(a, {"apiVersion", node_str(a, api)}, {"kind", node_str(a, kind)}, {"metadata", meta});
}

static struct node *object(struct arena *a, const struct render *r, const char *api, const char *kind,
			   const char *name, struct node *lab)
{
	return object_ex(a, r, api, kind, name, lab, NULL);
}

/* ---- pod parts ---------------------------------------------------------------------- */

static struct node *cpu_memory(struct arena *a, const char *cpu, const char *memory)
{
	return NODE_MAP(a, {"cpu", node_str(a, cpu)}, {"memory", node_str(a, memory)});
}

static struct node *resources(struct arena *a, const struct resources_view *res)
{
	return NODE_MAP(a, {"requests", cpu_memory(a, res->requests.cpu, res->requests.memory)},
			{"limits", cpu_memory(a, res->limits.cpu, res->limits.memory)});
}

static struct node *runtime_default(struct arena *a)
{
	return NODE_MAP(a, {"type", node_str(a, "RuntimeDefault")});
}

static struct node *container_security(struct arena *a, json_int_t uid, bool read_only)
{
	return NODE_MAP(a, {"runAsNonRoot", node_bool(a, true)}, {"runAsUser", node_int(a, uid)},
			{"allowPrivilegeEscalation", node_bool(a, false)},
			{"readOnlyRootFilesystem", node_bool(a, read_only)},
			{"capabilities", NODE_MAP(a, {"drop", NODE_SEQ(a, node_str(a, "ALL"))})},
			{"seccompProfile", runtime_default(a)});
}

static struct node *pod_security(struct arena *a, json_int_t uid)
{
	return NODE_MAP(a, {"runAsNonRoot", node_bool(a, true)}, {"runAsUser", node_int(a, uid)},
			{"runAsGroup", node_int(a, uid)}, {"fsGroup", node_int(a, uid)},
			{"seccompProfile", runtime_default(a)});
}

static struct node *env_value(struct arena *a, const char *name, const char *value)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"value", node_str(a, value)});
}

static struct node *env_ref(struct arena *a, const char *name, const char *ref_kind, const char *object_name,
			    const char *key)
{
	return NODE_MAP(a, {"name", node_str(a, name)},
			{"valueFrom", NODE_MAP(a, {ref_kind, NODE_MAP(a, {"name", node_str(a, object_name)},
								     {"key", node_str(a, key)})})});
}

static struct node *env_secret(struct arena *a, const struct render *r, const char *name, const char *key)
{
	return env_ref(a, name, "secretKeyRef", r->secrets_name, key);
}

static struct node *mount(struct arena *a, const char *name, const char *path, bool read_only)
{
	struct node *m = NODE_MAP(a, {"name", node_str(a, name)}, {"mountPath", node_str(a, path)});
	return read_only ? node_set(m, "readOnly", node_bool(a, true)) : m;
}

static struct node *empty_dir(struct arena *a, const char *name)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"emptyDir", node_map(a)});
}

static struct node *tcp_probe(struct arena *a, const char *port, int period, int failures)
{
	return NODE_MAP(a, {"tcpSocket", NODE_MAP(a, {"port", node_str(a, port)})},
			{"periodSeconds", node_int(a, period)}, {"timeoutSeconds", node_int(a, 5)},
			{"failureThreshold", node_int(a, failures)});
}

static struct node *exec_probe(struct arena *a, struct node *command, int period, int timeout)
{
	return NODE_MAP(a, {"exec", NODE_MAP(a, {"command", command})}, {"periodSeconds", node_int(a, period)},
			{"timeoutSeconds", node_int(a, timeout)}, {"failureThreshold", node_int(a, 3)});
}

/* Fixed requests and limits of a helper container. */
static struct node *small_resources(struct arena *a, const char *cpu, const char *memory, const char *max_cpu,
				    const char *max_memory)
{
	return NODE_MAP(a, {"requests", cpu_memory(a, cpu, memory)}, {"limits", cpu_memory(a, max_cpu, max_memory)});
}

/* An init container that waits until host:port accepts TCP connections. The script is
 * constant; host and port reach it through the environment, never pasted into it. */
static struct node *wait_container(struct arena *a, const char *host, int port)
{
	const char *script = "until nc -z -w 2 \"$WAIT_HOST\" \"$WAIT_PORT\"; do "
			     "echo \"waiting for $WAIT_HOST:$WAIT_PORT\"; sleep 2; done";
	return NODE_MAP(a, {"name", NODE_CAT(a, "wait-for-", host)}, {"image", node_str(a, WAIT_IMAGE)},
			{"imagePullPolicy", node_str(a, "IfNotPresent")},
			{"command", NODE_SEQ(a, node_str(a, "sh"), node_str(a, "-c"), node_str(a, script))},
			{"env", NODE_SEQ(a, env_value(a, "WAIT_HOST", host),
					 env_value(a, "WAIT_PORT", node_string(node_int_text(a, port))))},
			{"resources", small_resources(a, "10m", "16Mi", "100m", "32Mi")},
			{"securityContext", container_security(a, NOBODY_UID, true)});
}

static struct node *service_port(struct arena *a, const char *name, int port, const char *target)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"port", node_int(a, port)},
			{"targetPort", node_str(a, target)}, {"protocol", node_str(a, "TCP")});
}

static struct node *container_port(struct arena *a, const char *name, int port)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"containerPort", node_int(a, port)},
			{"protocol", node_str(a, "TCP")});
}

/* ---- common objects ----------------------------------------------------------------- */

/* What a file deploys: its name, and its labels and selector labels, built once and
 * shared by the file's objects (node.h: nothing changes a node once it is in a tree). */
struct workload {
	const char *name;
	struct node *labels, *selector;
};

static struct workload workload(struct arena *a, const struct render *r, const char *name, const char *component,
				const char *version)
{
	return (struct workload){name, labels(a, r, name, component, version), selector_labels(a, r, name)};
}

static struct node *service_account(struct arena *a, const struct render *r, const struct workload *w)
{
	return node_set(object(a, r, "v1", "ServiceAccount", w->name, w->labels), "automountServiceAccountToken",
			node_bool(a, false));
}

/* A ClusterIP Service selecting the pods of w. */
static struct node *cluster_service(struct arena *a, const struct render *r, const struct workload *w,
				    struct node *ports)
{
	struct node *spec = NODE_MAP(a, {"type", node_str(a, "ClusterIP")}, {"selector", w->selector},
				     {"ports", ports});
	return node_set(object(a, r, "v1", "Service", w->name, w->labels), "spec", spec);
}

/* The metadata of a pod template: {labels} (lab shared); callers add annotations. */
static struct node *pod_meta(struct arena *a, struct node *lab)
{
	return NODE_MAP(a, {"labels", lab});
}

static struct node *pod_template(struct arena *a, struct node *meta, struct node *spec)
{
	return NODE_MAP(a, {"metadata", meta}, {"spec", spec});
}

/* The common start of a pod spec: service account, no token, pod security context. */
static struct node *pod_spec(struct arena *a, const char *service_account_name, json_int_t uid)
{
	return NODE_MAP(a, {"serviceAccountName", node_str(a, service_account_name)},
			{"automountServiceAccountToken", node_bool(a, false)},
			{"enableServiceLinks", node_bool(a, false)}, {"securityContext", pod_security(a, uid)});
}

static struct node *volume_claim(struct arena *a, const char *size, const char *class_name)
{
	struct node *spec = NODE_MAP(a, {"accessModes", NODE_SEQ(a, node_str(a, "ReadWriteOnce"))});
	if (*class_name)
		spec = node_set(spec, "storageClassName", node_str(a, class_name));
	spec = node_set(spec, "resources", NODE_MAP(a, {"requests", NODE_MAP(a, {"storage", node_str(a, size)})}));
	return NODE_MAP(a, {"metadata", NODE_MAP(a, {"name", node_str(a, "data")})}, {"spec", spec});
}

/* A StatefulSet of one pod with a "data" volumeClaimTemplate. */
static struct node *stateful_set(struct arena *a, const struct render *r, const struct workload *w,
				 struct node *template, const struct storage_view *storage)
{
	struct node *spec = NODE_MAP(a, {"serviceName", node_str(a, w->name)}, {"replicas", node_int(a, 1)},
				     {"selector", NODE_MAP(a, {"matchLabels", w->selector})},
				     {"template", template},
				     {"volumeClaimTemplates", NODE_SEQ(a, volume_claim(a, storage->size,
										       storage->class_name))});
	return node_set(object(a, r, "apps/v1", "StatefulSet", w->name, w->labels), "spec", spec);
}

/* ---- 00 namespace, 10 config, 11 secrets ---------------------------------------------- */

static int build_namespace(struct arena *a, struct render *r, struct node *out)
{
	return push(out, object(a, r, "v1", "Namespace", render_namespace(r), labels(a, r, r->meta.stack, NULL, NULL)));
}

/* data of the ConfigMap (the values of src, shared) or the Secret (values base64), keys
 * sorted: a new object; NULL on allocation failure. */
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
		json_t *val = json_object_get(src, keys[i]);
		const char *v = json_string_value(val);
		buf_reset(&b);
		/* keys are names the resolved document already validated as UTF-8; base64 is ASCII */
		if ((base64 && util_base64_append(&b, v, strlen(v)) < 0) ||
		    json_object_set_new_nocheck(data, keys[i], base64 ? json_string_nocheck(buf_cstr(&b))
								       : json_incref(val)) < 0) {
			json_decref(data);
			data = NULL;
		}
	}
	buf_release(&b);
	free(keys);
	return data;
}

static int build_config(struct arena *a, struct render *r, struct node *out)
{
	struct node *cm = object(a, r, "v1", "ConfigMap", r->config_name, labels(a, r, r->meta.stack, "config", NULL));
	return push(out, node_set(cm, "data", node_from_json(a, r->config_data)));
}

/* secretSource externalSecret: an external-secrets.io ExternalSecret that makes the Secret
 * from the store, one data entry per key of /secrets (property = the key). */
static int build_external_secret(struct arena *a, struct render *r, struct node *out)
{
	const struct secret_source_view *src = &r->view.secret_source;
	const char **keys = NULL;
	size_t n = 0;
	if (sorted_keys(r->view.secrets, &keys, &n) < 0)
		return -ENOMEM;
	struct node *data = node_seq(a);
	for (size_t i = 0; i < n; i++)
		data = node_push(data, NODE_MAP(a, {"secretKey", node_str(a, keys[i])},
						{"remoteRef", NODE_MAP(a, {"key", node_str(a, src->remote_key)},
								       {"property", node_str(a, keys[i])})}));
	free(keys);
	struct node *spec = NODE_MAP(
		a, {"refreshInterval", node_str(a, src->refresh_interval)},
		{"secretStoreRef", NODE_MAP(a, {"name", node_str(a, src->secret_store)},
					    {"kind", node_str(a, src->secret_store_kind)})},
		{"target", NODE_MAP(a, {"name", node_str(a, r->secrets_name)}, {"creationPolicy", node_str(a, "Owner")})},
		{"data", data});
	struct node *es = object(a, r, "external-secrets.io/v1beta1", "ExternalSecret", r->secrets_name,
				 labels(a, r, r->meta.stack, "config", NULL));
	return push(out, node_set(es, "spec", spec));
}

static int build_secrets(struct arena *a, struct render *r, struct node *out)
{
	if (strcmp(r->view.secret_source.type, "externalSecret") == 0)
		return build_external_secret(a, r, out);
	struct node *s = object(a, r, "v1", "Secret", r->secrets_name, labels(a, r, r->meta.stack, "config", NULL));
	return push(out, node_set(node_set(s, "type", node_str(a, "Opaque")), "data",
				  node_from_json(a, r->secrets_data)));
}

/* ---- MySQL -------------------------------------------------------------------------- */

/* Appends s between two q, each q inside written as escaped (copied in runs). */
static int quoted(struct buf *b, const char *s, char q, const char *escaped)
{
	const char set[2] = {q, '\0'};
	int rc = buf_append(b, &q, 1);
	while (rc == 0 && *s) {
		size_t run = strcspn(s, set);
		rc = run ? buf_append(b, s, run) : buf_puts(b, escaped);
		s += run ? run : 1;
	}
	return rc ? rc : buf_append(b, &q, 1);
}

/* Appends s as a MySQL identifier (backquoted, backquotes doubled). */
static int sql_ident(struct buf *b, const char *s)
{
	return quoted(b, s, '`', "``");
}

/* Appends s as one shell word in single quotes (' written as '\''). */
static int sh_quote(struct buf *b, const char *s)
{
	return quoted(b, s, '\'', "'\\''");
}

/* 01-databases.sql: CREATE DATABASE IF NOT EXISTS for each enabled service's database,
 * sorted, each once. */
static int databases_sql(const struct render *r, struct buf *b)
{
	size_t ndb = 0;
	const char **dbs = calloc(r->nservices ? r->nservices : 1, sizeof *dbs);
	int rc = dbs ? buf_puts(b, "-- Generated by manifestd: one database per service that uses MySQL.\n") : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->nservices; i++)
		if (r->services[i]->database)
			dbs[ndb++] = r->services[i]->database->name;
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
	int rc = buf_puts(b, users_sh_head);
	for (size_t i = 0; rc == 0 && i < r->nservices; i++) {
		const struct database_view *db = r->services[i]->database;
		if (!db)
			continue;
		rc = buf_puts(b, "\tuser_statements ");
		if (rc == 0)
			rc = sh_quote(b, db->user);
		if (rc == 0)
			rc = buf_puts(b, " ");
		if (rc == 0)
			rc = sh_quote(b, db->name);
		if (rc == 0)
			rc = buf_puts(b, "\n");
	}
	if (rc == 0)
		rc = buf_puts(b, users_sh_tail);
	return rc;
}

/* {"01-databases.sql": ..., "02-users.sh": ...}; NULL on allocation failure. */
static json_t *initdb_data(const struct render *r)
{
	struct buf sql, sh;
	buf_init(&sql, BUF_NO_MAX);
	buf_init(&sh, BUF_NO_MAX);
	json_t *data = NULL;
	/* valid UTF-8: constant text and names of the document */
	if (databases_sql(r, &sql) == 0 && users_sh(r, &sh) == 0 && (data = json_object()) &&
	    (json_object_set_new_nocheck(data, "01-databases.sql", json_string_nocheck(buf_cstr(&sql))) < 0 ||
	     json_object_set_new_nocheck(data, "02-users.sh", json_string_nocheck(buf_cstr(&sh))) < 0)) {
		json_decref(data);
		data = NULL;
	}
	buf_release(&sql);
	buf_release(&sh);
	return data;
}


static struct node *initdb_volume(struct arena *a)
{
	return NODE_MAP(a, {"name", node_str(a, "initdb")},
			{"configMap", NODE_MAP(a, {"name", node_str(a, "mysql-initdb")},
					       {"defaultMode", node_int(a, INITDB_MODE)})});
}

static struct node *mysql_container(struct arena *a, const struct render *r, const struct mysql_view *my)
{
	/* MYSQL_PASSWORD (without MYSQL_USER the image only notes it) tells readers where the
	 * application password lives; 02-users.sh reads MYSQL_APP_PASSWORD. */
	struct node *env = NODE_SEQ(a, env_secret(a, r, "MYSQL_ROOT_PASSWORD", my->root_password_secret),
				    env_secret(a, r, "MYSQL_APP_PASSWORD", my->app_password_secret),
				    env_secret(a, r, "MYSQL_PASSWORD", my->app_password_secret));
	struct node *mounts = NODE_SEQ(a, mount(a, "data", "/var/lib/mysql", false), mount(a, "initdb", INITDB_DIR, true),
				       mount(a, "run", "/var/run/mysqld", false), mount(a, "tmp", "/tmp", false),
				       mount(a, "files", "/var/lib/mysql-files", false));
	return NODE_MAP(a, {"name", node_str(a, "mysql")}, {"image", node_str(a, my->image)},
			{"imagePullPolicy", node_str(a, "IfNotPresent")},
			{"ports", NODE_SEQ(a, container_port(a, "mysql", MYSQL_PORT))}, {"env", env},
			{"startupProbe", tcp_probe(a, "mysql", 10, 60)}, {"readinessProbe", tcp_probe(a, "mysql", 10, 3)},
			{"livenessProbe", tcp_probe(a, "mysql", 20, 6)}, {"resources", resources(a, &my->resources)},
			{"securityContext", container_security(a, MYSQL_UID, true)}, {"volumeMounts", mounts});
}

static int build_mysql(struct arena *a, struct render *r, struct node *out)
{
	const struct mysql_view *my = &r->view.mysql;
	struct workload w = workload(a, r, "mysql", "database", label_version(image_tag(my->image)));
	struct node *spec = node_set(
		node_set(pod_spec(a, "mysql", MYSQL_UID), "containers", NODE_SEQ(a, mysql_container(a, r, my))),
		"volumes", NODE_SEQ(a, initdb_volume(a), empty_dir(a, "run"), empty_dir(a, "tmp"), empty_dir(a, "files")));
	struct node *meta = node_set(pod_meta(a, w.labels), "annotations",
				     NODE_MAP(a, {"checksum/initdb", node_str(a, r->init_sql_sum)}));
	int rc = push(out, service_account(a, r, &w));
	if (rc == 0)
		rc = push(out, node_set(object(a, r, "v1", "ConfigMap", "mysql-initdb", w.labels), "data",
					node_from_json(a, r->initdb_data)));
	if (rc == 0)
		rc = push(out, cluster_service(a, r, &w, NODE_SEQ(a, service_port(a, "mysql", MYSQL_PORT, "mysql"))));
	if (rc == 0)
		rc = push(out, stateful_set(a, r, &w, pod_template(a, meta, spec), &my->storage));
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

static struct node *init_job_container(struct arena *a, const struct render *r, const struct mysql_view *my)
{
	struct node *env = NODE_SEQ(a, env_value(a, "MYSQL_HOST", "mysql"), env_value(a, "MYSQL_PORT", "3306"),
				    env_secret(a, r, "MYSQL_PWD", my->root_password_secret),
				    env_secret(a, r, "MYSQL_ROOT_PASSWORD", my->root_password_secret),
				    env_secret(a, r, "MYSQL_APP_PASSWORD", my->app_password_secret));
	return NODE_MAP(a, {"name", node_str(a, "mysql-init")}, {"image", node_str(a, my->image)},
			{"imagePullPolicy", node_str(a, "IfNotPresent")},
			{"command", NODE_SEQ(a, node_str(a, "bash"), node_str(a, "-c"), node_str(a, init_job_script))},
			{"env", env}, {"resources", small_resources(a, "50m", "64Mi", "500m", "256Mi")},
			{"securityContext", container_security(a, MYSQL_UID, true)},
			{"volumeMounts", NODE_SEQ(a, mount(a, "initdb", INITDB_DIR, true), mount(a, "tmp", "/tmp", false))});
}

static int build_mysql_init(struct arena *a, struct render *r, struct node *out)
{
	const struct mysql_view *my = &r->view.mysql;
	const char *name = ARENA_PRINTF(a, "mysql-init-%.8s", r->init_sql_sum);
	struct node *lab = labels(a, r, "mysql-init", "database", label_version(image_tag(my->image)));
	struct node *spec = pod_spec(a, "mysql", MYSQL_UID);
	spec = node_set(spec, "restartPolicy", node_str(a, "OnFailure"));
	spec = node_set(spec, "initContainers", NODE_SEQ(a, wait_container(a, "mysql", MYSQL_PORT)));
	spec = node_set(spec, "containers", NODE_SEQ(a, init_job_container(a, r, my)));
	spec = node_set(spec, "volumes", NODE_SEQ(a, initdb_volume(a), empty_dir(a, "tmp")));
	struct node *job = object(a, r, "batch/v1", "Job", name, lab);
	return push(out, node_set(job, "spec",
				  NODE_MAP(a, {"backoffLimit", node_int(a, JOB_BACKOFF_LIMIT)},
					   {"ttlSecondsAfterFinished", node_int(a, JOB_TTL_SECONDS)},
					   {"template", pod_template(a, pod_meta(a, lab), spec)})));
}

/* ---- RabbitMQ, Zipkin ---------------------------------------------------------------- */

static struct node *rabbitmq_container(struct arena *a, const struct render *r, const struct rabbitmq_view *mq)
{
	struct node *env = NODE_SEQ(a, env_value(a, "RABBITMQ_DEFAULT_USER", mq->user),
				    env_secret(a, r, "RABBITMQ_DEFAULT_PASS", mq->password_secret));
	struct node *mounts = NODE_SEQ(a, mount(a, "data", "/var/lib/rabbitmq", false), mount(a, "tmp", "/tmp", false),
				       mount(a, "log", "/var/log/rabbitmq", false));
	struct node *ping = NODE_SEQ(a, node_str(a, "rabbitmq-diagnostics"), node_str(a, "-q"), node_str(a, "ping"));
	return NODE_MAP(a, {"name", node_str(a, "rabbitmq")}, {"image", node_str(a, mq->image)},
			{"imagePullPolicy", node_str(a, "IfNotPresent")},
			{"ports", NODE_SEQ(a, container_port(a, "amqp", AMQP_PORT),
					   container_port(a, "management", RABBITMQ_MGMT_PORT))},
			{"env", env}, {"startupProbe", tcp_probe(a, "amqp", 10, 30)},
			{"readinessProbe", exec_probe(a, ping, 10, 10)}, {"livenessProbe", tcp_probe(a, "amqp", 30, 3)},
			{"resources", resources(a, &mq->resources)},
			{"securityContext", container_security(a, RABBITMQ_UID, true)}, {"volumeMounts", mounts});
}

static int build_rabbitmq(struct arena *a, struct render *r, struct node *out)
{
	const struct rabbitmq_view *mq = &r->view.rabbitmq;
	struct workload w = workload(a, r, "rabbitmq", "broker", label_version(image_tag(mq->image)));
	struct node *spec = node_set(
		node_set(pod_spec(a, "rabbitmq", RABBITMQ_UID), "containers", NODE_SEQ(a, rabbitmq_container(a, r, mq))),
		"volumes", NODE_SEQ(a, empty_dir(a, "tmp"), empty_dir(a, "log")));
	struct node *tmpl = pod_template(a, pod_meta(a, w.labels), spec);
	int rc = push(out, service_account(a, r, &w));
	if (rc == 0)
		rc = push(out, cluster_service(a, r, &w,
					       NODE_SEQ(a, service_port(a, "amqp", AMQP_PORT, "amqp"),
							service_port(a, "management", RABBITMQ_MGMT_PORT, "management"))));
	if (rc == 0)
		rc = push(out, stateful_set(a, r, &w, tmpl, &mq->storage));
	return rc;
}

static struct node *http_probe(struct arena *a, const char *path, int initial, int period, int timeout,
			       int failures)
{
	return NODE_MAP(a, {"httpGet", NODE_MAP(a, {"path", node_str(a, path)}, {"port", node_str(a, "http")})},
			{"initialDelaySeconds", node_int(a, initial)}, {"periodSeconds", node_int(a, period)},
			{"timeoutSeconds", node_int(a, timeout)}, {"failureThreshold", node_int(a, failures)});
}

static struct node *zipkin_deployment(struct arena *a, const struct render *r, const struct zipkin_view *zk,
				      const struct workload *w)
{
	struct node *c = NODE_MAP(a, {"name", node_str(a, "zipkin")}, {"image", node_str(a, zk->image)},
				  {"imagePullPolicy", node_str(a, "IfNotPresent")},
				  {"ports", NODE_SEQ(a, container_port(a, "http", ZIPKIN_PORT))},
				  {"startupProbe", http_probe(a, "/health", 0, 5, 2, 36)},
				  {"readinessProbe", http_probe(a, "/health", 0, 10, 2, 3)},
				  {"livenessProbe", http_probe(a, "/health", 0, 10, 2, 3)},
				  {"resources", resources(a, &zk->resources)},
				  {"securityContext", container_security(a, ZIPKIN_UID, true)},
				  {"volumeMounts", NODE_SEQ(a, mount(a, "tmp", "/tmp", false))});
	struct node *spec = node_set(node_set(pod_spec(a, "zipkin", ZIPKIN_UID), "containers", NODE_SEQ(a, c)),
				     "volumes", NODE_SEQ(a, empty_dir(a, "tmp")));
	return node_set(object(a, r, "apps/v1", "Deployment", w->name, w->labels), "spec",
			NODE_MAP(a, {"replicas", node_int(a, 1)}, {"selector", NODE_MAP(a, {"matchLabels", w->selector})},
				 {"template", pod_template(a, pod_meta(a, w->labels), spec)}));
}

static int build_zipkin(struct arena *a, struct render *r, struct node *out)
{
	const struct zipkin_view *zk = &r->view.zipkin;
	struct workload w = workload(a, r, "zipkin", "tracing", label_version(image_tag(zk->image)));
	int rc = push(out, service_account(a, r, &w));
	if (rc == 0)
		rc = push(out, zipkin_deployment(a, r, zk, &w));
	if (rc == 0)
		rc = push(out, cluster_service(a, r, &w, NODE_SEQ(a, service_port(a, "http", ZIPKIN_PORT, "http"))));
	return rc;
}

/* ---- application services ------------------------------------------------------------ */

static struct node *service_env(struct arena *a, const struct render *r, const struct env_view_list *env)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < env->count; i++) {
		const struct env_view *e = &env->items[i];
		struct node *n;
		if (e->value)
			n = env_value(a, e->name, e->value);
		else if (e->config)
			n = env_ref(a, e->name, "configMapKeyRef", e->from ? e->from : r->config_name, e->config);
		else if (e->secret)
			n = env_ref(a, e->name, "secretKeyRef", e->from ? e->from : r->secrets_name, e->secret);
		else
			n = NODE_MAP(a, {"name", node_str(a, e->name)},
				     {"valueFrom", NODE_MAP(a, {"fieldRef", NODE_MAP(a, {"fieldPath", node_str(a, e->field)})})});
		seq = node_push(seq, n);
	}
	return seq;
}

/* The image reference: [registry/]repository, then @digest when pinned, else :tag. */
static struct node *image_ref(struct arena *a, const struct image_view *image)
{
	const char *registry = image->registry, *digest = image->digest;
	return NODE_CAT(a, registry, *registry ? "/" : "", image->repository, *digest ? "@" : ":",
			*digest ? digest : image->tag);
}

/* A port by name or number. */
static struct node *probe_port(struct arena *a, const struct int_or_string *port)
{
	return port->str ? node_str(a, port->str) : node_int(a, port->num);
}

/* The handler of a probe: its one kind. */
static struct node *probe_handler(struct arena *a, const struct probe_view *p)
{
	if (p->http_get)
		return NODE_MAP(a, {"path", node_str(a, p->http_get->path)}, {"port", probe_port(a, &p->http_get->port)});
	if (p->tcp_socket)
		return NODE_MAP(a, {"port", probe_port(a, &p->tcp_socket->port)});
	if (p->exec)
		return NODE_MAP(a, {"command", node_from_json(a, p->exec->command)});
	return NODE_MAP(a, {"port", node_int(a, p->grpc->port)});
}

static struct node *app_probe(struct arena *a, const struct probe_view *p)
{
	const char *kind = p->http_get ? "httpGet" : p->tcp_socket ? "tcpSocket" : p->exec ? "exec" : "grpc";
	return NODE_MAP(a, {kind, probe_handler(a, p)}, {"initialDelaySeconds", node_int(a, p->initial_delay_seconds)},
			{"periodSeconds", node_int(a, p->period_seconds)},
			{"timeoutSeconds", node_int(a, p->timeout_seconds)},
			{"failureThreshold", node_int(a, p->failure_threshold)});
}

static struct node *app_container(struct arena *a, const struct render *r, const struct service_view *s)
{
	bool ro = s->security_context.read_only_root_filesystem;
	struct node *c = NODE_MAP(a, {"name", node_str(a, s->name)}, {"image", image_ref(a, &s->image)},
				  {"imagePullPolicy", node_str(a, s->image.pull_policy)},
				  {"ports", s->ports.count ? NODE_SEQ(a, container_port(a, s->ports.items[0].name,
										  (int)s->ports.items[0].target_port))
							  : node_seq(a)},
				  {"env", service_env(a, r, &s->env)});
	static const char *const keys[3] = {"readinessProbe", "livenessProbe", "startupProbe"};
	const struct probe_view *probes[3] = {s->probes.readiness, s->probes.liveness, s->probes.startup};
	for (size_t i = 0; i < 3; i++)
		if (probes[i])
			c = node_set(c, keys[i], app_probe(a, probes[i]));
	c = node_set(c, "resources", resources(a, &s->resources));
	c = node_set(c, "securityContext", container_security(a, s->security_context.run_as_user, ro));
	return ro ? node_set(c, "volumeMounts", NODE_SEQ(a, mount(a, "tmp", "/tmp", false))) : c;
}

/* The init containers of a service's pod (an empty sequence for none). */
static struct node *app_init_containers(struct arena *a, const struct service_view *s)
{
	struct node *seq = node_seq(a);
	if (s->database)
		seq = node_push(seq, wait_container(a, "mysql", MYSQL_PORT));
	if (s->broker)
		seq = node_push(seq, wait_container(a, "rabbitmq", AMQP_PORT));
	return seq;
}

static struct node *app_pod_spec(struct arena *a, const struct render *r, const struct service_view *s)
{
	struct node *spec = pod_spec(a, s->name, s->security_context.run_as_user);
	const char *pull_secret = r->view.image.pull_secret;
	if (*pull_secret)
		spec = node_set(spec, "imagePullSecrets", NODE_SEQ(a, NODE_MAP(a, {"name", node_str(a, pull_secret)})));
	struct node *init = app_init_containers(a, s);
	if (!init || init->v.list.count > 0)
		spec = node_set(spec, "initContainers", init);
	spec = node_set(spec, "containers", NODE_SEQ(a, app_container(a, r, s)));
	return s->security_context.read_only_root_filesystem ? node_set(spec, "volumes", NODE_SEQ(a, empty_dir(a, "tmp")))
							     : spec;
}

/* More than one pod may run: replicas > 1 or an autoscaler. */
static bool many_pods(const struct service_view *s)
{
	return s->autoscaling.enabled || s->replicas > 1;
}

static struct node *app_deployment(struct arena *a, const struct render *r, const struct service_view *s,
				   const struct workload *w)
{
	struct node *spec = node_map(a);
	if (!s->autoscaling.enabled)
		spec = node_set(spec, "replicas", node_int(a, s->replicas));
	spec = node_set(spec, "selector", NODE_MAP(a, {"matchLabels", w->selector}));
	if (many_pods(s))
		spec = node_set(spec, "strategy",
				NODE_MAP(a, {"type", node_str(a, "RollingUpdate")},
					 {"rollingUpdate", NODE_MAP(a, {"maxUnavailable", node_int(a, 0)},
								    {"maxSurge", node_int(a, 1)})}));
	struct node *meta = node_set(pod_meta(a, w->labels), "annotations",
				     NODE_MAP(a, {"checksum/config", node_str(a, r->config_sum)},
					      {"checksum/secrets", node_str(a, r->secrets_sum)}));
	spec = node_set(spec, "template", pod_template(a, meta, app_pod_spec(a, r, s)));
	return node_set(object(a, r, "apps/v1", "Deployment", w->name, w->labels), "spec", spec);
}

static struct node *app_hpa(struct arena *a, const struct render *r, const struct service_view *s,
			    const struct workload *w)
{
	const struct autoscaling_view *as = &s->autoscaling;
	struct node *target = NODE_MAP(a, {"type", node_str(a, "Utilization")},
				       {"averageUtilization", node_int(a, as->target_cpu_utilization)});
	struct node *metric = NODE_MAP(a, {"type", node_str(a, "Resource")},
				       {"resource", NODE_MAP(a, {"name", node_str(a, "cpu")}, {"target", target})});
	struct node *spec = NODE_MAP(
		a, {"scaleTargetRef", NODE_MAP(a, {"apiVersion", node_str(a, "apps/v1")}, {"kind", node_str(a, "Deployment")},
					       {"name", node_str(a, s->name)})},
		{"minReplicas", node_int(a, as->min_replicas)},
		{"maxReplicas", node_int(a, as->max_replicas)}, {"metrics", NODE_SEQ(a, metric)});
	return node_set(object(a, r, "autoscaling/v2", "HorizontalPodAutoscaler", w->name, w->labels), "spec", spec);
}

static struct node *app_pdb(struct arena *a, const struct render *r, const struct workload *w)
{
	struct node *spec = NODE_MAP(a, {"maxUnavailable", node_int(a, 1)},
				     {"selector", NODE_MAP(a, {"matchLabels", w->selector})});
	return node_set(object(a, r, "policy/v1", "PodDisruptionBudget", w->name, w->labels), "spec", spec);
}

static int build_service(struct arena *a, struct render *r, const struct service_view *s, struct node *out)
{
	struct workload w = workload(a, r, s->name, "service", label_version(s->image.tag));
	int rc = push(out, service_account(a, r, &w));
	if (rc == 0)
		rc = push(out, app_deployment(a, r, s, &w));
	if (rc == 0)
		rc = s->ports.count ? push(out, cluster_service(a, r, &w, NODE_SEQ(a, service_port(a, s->ports.items[0].name,
										 (int)s->ports.items[0].port,
										 s->ports.items[0].name))))
				    : 0;
	if (rc == 0 && s->autoscaling.enabled)
		rc = push(out, app_hpa(a, r, s, &w));
	if (rc == 0 && s->disruption_budget.enabled && many_pods(s))
		rc = push(out, app_pdb(a, r, &w));
	return rc;
}

/* ---- 90 ingress ------------------------------------------------------------------------ */

static int build_ingress(struct arena *a, struct render *r, struct node *out)
{
	const struct ingress_view *in = &r->view.ingress;
	const struct rule_view *ru = &in->rules.items[0]; /* TEMPORARY: one rule until the general render */
	const char *host = ru->host;
	const struct service_view *backend = docview_find_service(&r->view, ru->service);
	struct node *port = NODE_MAP(a, {"number", node_int(a, backend ? backend->ports.items[0].port : 0)});
	struct node *path = NODE_MAP(
		a, {"path", node_str(a, ru->path)}, {"pathType", node_str(a, ru->path_type)},
		{"backend", NODE_MAP(a, {"service", NODE_MAP(a, {"name", node_str(a, ru->service)}, {"port", port})})});
	struct node *rule = *host ? NODE_MAP(a, {"host", node_str(a, host)}) : node_map(a);
	rule = node_set(rule, "http", NODE_MAP(a, {"paths", NODE_SEQ(a, path)}));
	struct node *spec = NODE_MAP(a, {"ingressClassName", node_str(a, in->class_name)});
	if (ru->tls.enabled && *host)
		spec = node_set(spec, "tls", NODE_SEQ(a, NODE_MAP(a, {"hosts", NODE_SEQ(a, node_str(a, host))},
								   {"secretName", node_str(a, ru->tls.secret_name)})));
	spec = node_set(spec, "rules", NODE_SEQ(a, rule));
	struct node *ing = object_ex(a, r, "networking.k8s.io/v1", "Ingress", r->meta.stack,
				     labels(a, r, r->meta.stack, "ingress", NULL), in->annotations);
	return push(out, node_set(ing, "spec", spec));
}

/* ---- planning ---------------------------------------------------------------------------- */

/* The most files a bundle has: 8 fixed ones and one per enabled service. */
#define FIXED_FILES 8

/* Appends a file named name (malloc'd, taken; NULL: out of memory) to r->files, which
 * plan_files made with room for FIXED_FILES + nservices. 0 or -ENOMEM. */
static int add_named(struct render *r, enum file_kind kind, const struct service_view *service, char *name)
{
	if (!name)
		return -ENOMEM;
	r->files[r->nfiles++] = (struct render_file){.kind = kind, .service = service, .name = name};
	return 0;
}

static int add_file(struct render *r, enum file_kind kind, const char *name)
{
	return add_named(r, kind, NULL, strdup(name));
}

static int plan_files(struct render *r)
{
	const struct doc_view *v = &r->view;
	r->files = calloc(FIXED_FILES + r->nservices, sizeof *r->files);
	int rc = r->files ? add_file(r, FILE_NAMESPACE, "00-namespace.yaml") : -ENOMEM;
	if (rc == 0)
		rc = add_file(r, FILE_CONFIG, "10-config.yaml");
	/* secretSource existing: the Secret is in the cluster already; nothing to render */
	if (rc == 0 && strcmp(v->secret_source.type, "existing") != 0)
		rc = add_file(r, FILE_SECRETS, "11-secrets.yaml");
	if (rc == 0 && v->mysql.enabled) {
		rc = add_file(r, FILE_MYSQL, "30-mysql.yaml");
		if (rc == 0)
			rc = add_file(r, FILE_MYSQL_INIT, "31-mysql-init.yaml");
	}
	if (rc == 0 && v->rabbitmq.enabled)
		rc = add_file(r, FILE_RABBITMQ, "35-rabbitmq.yaml");
	if (rc == 0 && v->zipkin.enabled)
		rc = add_file(r, FILE_ZIPKIN, "36-zipkin.yaml");
	for (size_t i = 0; rc == 0 && i < r->nservices; i++)
		rc = add_named(r, FILE_SERVICE, r->services[i], concat("50-", r->services[i]->name, ".yaml"));
	if (rc == 0 && v->ingress.enabled && v->ingress.rules.count > 0)
		rc = add_file(r, FILE_INGRESS, "90-ingress.yaml");
	return rc;
}

/* Sets obj[key] = val (val stolen). 0, or -ENOMEM when val is NULL or out of memory. */
static int set_new(json_t *obj, const char *key, json_t *val)
{
	return json_object_set_new_nocheck(obj, key, val) < 0 ? -ENOMEM : 0;
}

/* The hash written into every object: the digest of {document, stack, environment,
 * revision, manifestd} (the document borrowed, not copied). */
static int bundle_hash(struct render *r)
{
	json_t *id = json_object();
	int rc = id ? set_new(id, "document", json_incref(r->doc)) : -ENOMEM;
	if (rc == 0)
		rc = set_new(id, "stack", json_string_nocheck(r->meta.stack));
	if (rc == 0)
		rc = set_new(id, "environment", json_string_nocheck(r->meta.environment));
	if (rc == 0)
		rc = set_new(id, "revision", json_integer(r->meta.revision));
	if (rc == 0)
		rc = set_new(id, "manifestd", json_string_nocheck(MANIFESTD_VERSION));
	if (rc == 0)
		rc = digest_json(id, r->hash);
	json_decref(id);
	return rc;
}

/* Checksums of what the ConfigMap, the Secret and the init ConfigMap hold, as rendered. */
static int checksums(struct render *r)
{
	r->config_data = sorted_data(r->view.config, false);
	r->secrets_data = sorted_data(r->view.secrets, true);
	r->initdb_data = initdb_data(r);
	int rc = r->config_data && r->secrets_data && r->initdb_data ? 0 : -ENOMEM;
	if (rc == 0)
		rc = digest_json(r->config_data, r->config_sum);
	if (rc == 0)
		rc = digest_json(r->secrets_data, r->secrets_sum);
	if (rc == 0)
		rc = digest_json(r->initdb_data, r->init_sql_sum);
	return rc;
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp((*(const struct service_view *const *)a)->name, (*(const struct service_view *const *)b)->name);
}

/* r->services: the enabled services, sorted by name. */
static int enabled_services(struct render *r)
{
	const struct service_view_list *all = &r->view.services;
	r->services = calloc(all->count ? all->count : 1, sizeof *r->services);
	if (!r->services)
		return -ENOMEM;
	for (size_t i = 0; i < all->count; i++)
		if (all->items[i].enabled)
			r->services[r->nservices++] = &all->items[i];
	qsort(r->services, r->nservices, sizeof *r->services, cmp_service);
	return 0;
}

static bool meta_ok(const struct render_meta *meta)
{
	return meta && meta->stack && meta->environment && util_is_dns_label(meta->stack) &&
	       util_is_dns_label(meta->environment) &&
	       strlen(meta->stack) + 1 + strlen(meta->environment) <= 63; /* instance label */
}

int render_new(const json_t *doc, const struct render_meta *meta, struct render **ret)
{
	if (!meta_ok(meta))
		return -EINVAL;
	struct render *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->doc = json_incref((json_t *)doc);
	r->meta = *meta;
	r->instance = concat(meta->stack, "-", meta->environment);
	r->config_name = concat(meta->stack, "-config", "");
	r->revision = decimal(meta->revision);
	r->views = arena_new();
	int rc = r->views ? docview_read(r->doc, r->views, &r->view) : -ENOMEM;
	if (rc == 0)
		rc = enabled_services(r);
	if (rc == 0)
		r->secrets_name = concat(r->view.secret_source.name, "", "");
	if (rc == 0 && !(r->instance && r->config_name && r->secrets_name && r->revision))
		rc = -ENOMEM;
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
	free(r->services);
	arena_free(r->views);
	free(r->instance);
	free(r->config_name);
	free(r->secrets_name);
	free(r->revision);
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

static int build_file(struct arena *a, struct render *r, const struct render_file *f, struct node *out)
{
	switch (f->kind) {
	case FILE_NAMESPACE:
		return build_namespace(a, r, out);
	case FILE_CONFIG:
		return build_config(a, r, out);
	case FILE_SECRETS:
		return build_secrets(a, r, out);
	case FILE_MYSQL:
		return build_mysql(a, r, out);
	case FILE_MYSQL_INIT:
		return build_mysql_init(a, r, out);
	case FILE_RABBITMQ:
		return build_rabbitmq(a, r, out);
	case FILE_ZIPKIN:
		return build_zipkin(a, r, out);
	case FILE_SERVICE:
		return build_service(a, r, f->service, out);
	case FILE_INGRESS:
		return build_ingress(a, r, out);
	}
	return -EINVAL;
}

int render_file_nodes(struct render *r, size_t i, struct arena *a, struct node **ret_objects)
{
	if (i >= r->nfiles)
		return -EINVAL;
	struct node *out = node_seq(a);
	if (!out)
		return -ENOMEM;
	int rc = build_file(a, r, &r->files[i], out);
	if (rc < 0)
		return rc;
	*ret_objects = out;
	return 0;
}

int render_file_objects(struct render *r, size_t i, json_t **ret_objects)
{
	struct arena *a = arena_new();
	struct node *objects = NULL;
	json_t *out = NULL;
	int rc = a ? render_file_nodes(r, i, a, &objects) : -ENOMEM;
	if (rc == 0 && !(out = node_to_json(objects)))
		rc = -ENOMEM;
	arena_free(a);
	if (rc < 0)
		return rc;
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
	return r->view.namespace;
}

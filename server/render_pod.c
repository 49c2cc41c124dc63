/* render_pod: a service's pod: template, spec, volumes, scheduling, and what it reads,
 * for its checksums (include/render_pod.h). Its containers are render_container's. */
#include "render_pod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "jsoniter.h"
#include "render_container.h"

#define TMP_VOLUME "tmp"
#define DEFAULT_GRACE_SECONDS 30
#define MAX_FILE_KEY 253 /* a ConfigMap key */

/* ---- what kind of pod ------------------------------------------------------------------ */

static bool kind_is(const struct service_view *s, const char *kind)
{
	return strcmp(s->kind, kind) == 0;
}

bool pod_one_shot(const struct service_view *s)
{
	return kind_is(s, "Job") || kind_is(s, "CronJob");
}

bool pod_many(const struct service_view *s)
{
	if (kind_is(s, "DaemonSet"))
		return false;
	if (pod_one_shot(s))
		return s->job.parallelism > 1;
	return s->autoscaling.enabled ? s->autoscaling.max_replicas > 1 : s->replicas > 1;
}

/* ---- small parts -------------------------------------------------------------------------- */

struct node *pod_security(struct arena *a, bool non_root, json_int_t uid, json_int_t gid, json_int_t fs_group)
{
	return NODE_MAP(a, {"runAsNonRoot", node_bool(a, non_root)}, {"runAsUser", node_int(a, uid)},
			{"runAsGroup", node_int(a, gid)}, {"fsGroup", node_int(a, fs_group)},
			{"seccompProfile", render_seccomp(a)});
}

struct node *pod_spec_head(struct arena *a, const char *account, bool automount, struct node *security)
{
	return NODE_MAP(a, {"serviceAccountName", node_str(a, account)},
			{"automountServiceAccountToken", node_bool(a, automount)},
			{"enableServiceLinks", node_bool(a, false)}, {"securityContext", security});
}

struct node *pod_template_of(struct arena *a, struct node *labels, struct node *annotations, struct node *spec)
{
	struct node *meta = NODE_MAP(a, {"labels", labels});
	if (annotations)
		meta = node_set(meta, "annotations", annotations);
	return NODE_MAP(a, {"metadata", meta}, {"spec", spec});
}

struct node *pod_empty_dir(struct arena *a, const char *name)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"emptyDir", node_map(a)});
}

/* ---- volumes ------------------------------------------------------------------------------- */

/* Appends the ConfigMap key of the inline file path of volume to b. */
static int file_key(struct buf *b, const char *volume, const char *path)
{
	int rc = buf_puts(b, volume);
	if (rc == 0)
		rc = buf_puts(b, "__");
	for (const char *p = path; rc == 0 && *p; p++) {
		char c = *p;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_';
		rc = c == '/' ? buf_puts(b, "__") : buf_append(b, keep ? &c : "_", 1);
	}
	return rc;
}

/* A file mode "0644" (validated: octal digits) as a number. */
static json_int_t file_mode(const char *mode)
{
	json_int_t m = 0;
	for (const char *p = mode; *p; p++)
		m = m * 8 + (*p - '0');
	return m;
}

enum file_source { SOURCE_CONFIG, SOURCE_SECRET, SOURCE_CONTENT };

/* The key of an inline file in <name>-files, copied into a; NULL when out of memory. */
static const char *arena_file_key(struct arena *a, struct buf *key, const char *volume, const char *path)
{
	buf_reset(key);
	return file_key(key, volume, path) == 0 ? node_string(node_str_copy(a, buf_cstr(key))) : NULL;
}

/* The items of one projected source: the files of v whose source is src. */
static struct node *file_items(struct arena *a, const struct volume_view *v, enum file_source src)
{
	struct node *seq = node_seq(a);
	struct buf key;
	buf_init(&key, BUF_NO_MAX);
	for (size_t i = 0; seq && i < v->files.count; i++) {
		const struct file_view *f = &v->files.items[i];
		const char *k = src == SOURCE_CONFIG ? f->config : src == SOURCE_SECRET ? f->secret : NULL;
		if (src == SOURCE_CONTENT && f->content && !(k = arena_file_key(a, &key, v->name, f->name)))
			seq = NULL;
		if (k)
			seq = node_push(seq, NODE_MAP(a, {"key", node_str(a, k)}, {"path", node_str(a, f->name)},
						      {"mode", node_int(a, file_mode(f->mode))}));
	}
	buf_release(&key);
	return seq;
}

/* The projected volume of a files volume: the stack's ConfigMap, its Secret and the
 * service's <name>-files ConfigMap, each when it gives a file. */
static struct node *projected(struct arena *a, const struct render *r, const struct render_service *rs,
			      const struct volume_view *v)
{
	static const char *const kinds[3] = {"configMap", "secret", "configMap"};
	const char *names[3] = {r->config_name, r->secrets_name, rs->files_name};
	struct node *sources = node_seq(a);
	for (int src = SOURCE_CONFIG; sources && src <= SOURCE_CONTENT; src++) {
		struct node *items = file_items(a, v, (enum file_source)src);
		if (!items)
			return NULL;
		if (items->v.list.count)
			sources = node_push(sources, NODE_MAP(a, {kinds[src], NODE_MAP(a, {"name", node_str(a, names[src])},
											  {"items", items})}));
	}
	return NODE_MAP(a, {"sources", sources});
}

static struct node *volume(struct arena *a, const struct render *r, const struct render_service *rs,
			   const struct volume_view *v)
{
	struct node *n = NODE_MAP(a, {"name", node_str(a, v->name)});
	if (v->claim) {
		struct node *c = NODE_MAP(a, {"claimName", node_str(a, v->claim->name)});
		return node_set(n, "persistentVolumeClaim", v->read_only ? node_set(c, "readOnly", node_bool(a, true)) : c);
	}
	if (v->empty_dir) {
		struct node *e = node_map(a);
		if (*v->empty_dir->medium)
			e = node_set(e, "medium", node_str(a, v->empty_dir->medium));
		if (*v->empty_dir->size_limit)
			e = node_set(e, "sizeLimit", node_str(a, v->empty_dir->size_limit));
		return node_set(n, "emptyDir", e);
	}
	if (v->config_map)
		return node_set(n, "configMap", NODE_MAP(a, {"name", node_str(a, v->config_map->name)},
						       {"defaultMode", node_int(a, file_mode(v->config_map->default_mode))}));
	return node_set(n, "projected", projected(a, r, rs, v));
}

/* The pod's volumes: each of the service's but the persistent ones (volumeClaimTemplates),
 * then the automatic /tmp emptyDir. */
static struct node *volumes(struct arena *a, const struct render *r, const struct render_service *rs)
{
	const struct service_view *s = rs->v;
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < s->volumes.count; i++)
		if (!s->volumes.items[i].persistent)
			seq = node_push(seq, volume(a, r, rs, &s->volumes.items[i]));
	return container_tmp(s) ? node_push(seq, pod_empty_dir(a, TMP_VOLUME)) : seq;
}

/* ---- the pod ------------------------------------------------------------------------------- */

static struct node *tolerations(struct arena *a, const struct toleration_view_list *list)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < list->count; i++) {
		const struct toleration_view *t = &list->items[i];
		struct node *n = node_map(a);
		if (*t->key)
			n = node_set(n, "key", node_str(a, t->key));
		n = node_set(n, "operator", node_str(a, t->operator));
		if (*t->value)
			n = node_set(n, "value", node_str(a, t->value));
		if (*t->effect)
			n = node_set(n, "effect", node_str(a, t->effect));
		if (t->toleration_seconds.set)
			n = node_set(n, "tolerationSeconds", node_int(a, t->toleration_seconds.value));
		seq = node_push(seq, n);
	}
	return seq;
}

/* A spread of the pods over nodes: soft (ScheduleAnyway) or hard (DoNotSchedule). */
static struct node *spread(struct arena *a, const char *how, struct node *selector)
{
	return NODE_SEQ(a, NODE_MAP(a, {"maxSkew", node_int(a, 1)},
				    {"topologyKey", node_str(a, "kubernetes.io/hostname")},
				    {"whenUnsatisfiable", node_str(a, strcmp(how, "hard") ? "ScheduleAnyway" : "DoNotSchedule")},
				    {"labelSelector", NODE_MAP(a, {"matchLabels", selector})}));
}

static struct node *scheduling(struct arena *a, struct node *spec, const struct service_view *s,
			       const struct render_workload *w)
{
	const struct scheduling_view *sch = &s->scheduling;
	if (*sch->priority_class_name)
		spec = node_set(spec, "priorityClassName", node_str(a, sch->priority_class_name));
	if (sch->termination_grace_period_seconds != DEFAULT_GRACE_SECONDS)
		spec = node_set(spec, "terminationGracePeriodSeconds", node_int(a, sch->termination_grace_period_seconds));
	if (json_object_size(sch->node_selector))
		spec = node_set(spec, "nodeSelector", node_from_json(a, sch->node_selector));
	spec = render_set_items(spec, "tolerations", tolerations(a, &sch->tolerations));
	if (sch->affinity)
		spec = node_set(spec, "affinity", node_from_json(a, sch->affinity));
	if (pod_many(s) && strcmp(sch->spread, "none") != 0)
		spec = node_set(spec, "topologySpreadConstraints", spread(a, sch->spread, w->selector));
	return spec;
}

/* true when one of ports (a container's, running as uid) is below 1024 and uid is not root. */
static bool low_port(const struct port_view_list *ports, json_int_t uid)
{
	for (size_t i = 0; uid != 0 && i < ports->count; i++)
		if (ports->items[i].target_port < 1024)
			return true;
	return false;
}

/* A container of s that is not root listens below 1024: its pod lets any port be bound.
 * An added NET_BIND_SERVICE is not effective for a process that is not root (runtimes set
 * no ambient capabilities), and images such as nginx or a Python app on port 80 expect to
 * bind it; net.ipv4.ip_unprivileged_port_start is namespaced to the pod, a sysctl
 * Kubernetes counts as safe since 1.22 and the restricted Pod Security Standard allows. */
static struct node *low_ports(struct arena *a, struct node *security, const struct service_view *s)
{
	bool low = low_port(&s->ports, s->security_context.run_as_user);
	for (size_t i = 0; !low && i < s->sidecars.count; i++) {
		const struct container_view *c = &s->sidecars.items[i];
		low = low_port(&c->ports, c->run_as_user.set ? c->run_as_user.value : s->security_context.run_as_user);
	}
	if (!low)
		return security;
	return node_set(security, "sysctls", NODE_SEQ(a, NODE_MAP(a, {"name", node_str(a, "net.ipv4.ip_unprivileged_port_start")},
								       {"value", node_str(a, "0")})));
}

static struct node *pod_spec(struct arena *a, const struct render *r, const struct render_service *rs,
			     const struct render_workload *w)
{
	const struct service_view *s = rs->v;
	const struct security_view *sc = &s->security_context;
	struct node *security = pod_security(a, sc->run_as_non_root, sc->run_as_user, sc->run_as_group, sc->fs_group);
	struct node *spec = pod_spec_head(a, s->service_account.name, s->service_account.automount_token,
					  low_ports(a, security, s));
	const char *pull_secret = r->view.image.pull_secret;
	if (*pull_secret)
		spec = node_set(spec, "imagePullSecrets", NODE_SEQ(a, NODE_MAP(a, {"name", node_str(a, pull_secret)})));
	spec = scheduling(a, spec, s, w);
	if (pod_one_shot(s))
		spec = node_set(spec, "restartPolicy", node_str(a, s->job.restart_policy));
	spec = render_set_items(spec, "initContainers", container_init_list(a, r, s));
	spec = node_set(spec, "containers", container_list(a, r, s));
	return render_set_items(spec, "volumes", volumes(a, r, rs));
}

/* checksum/config, checksum/secrets, checksum/files (those the pod has), then the keys of
 * podAnnotations; NULL when there is none of them (and nothing failed). */
static struct node *pod_annotations(struct arena *a, const struct render_service *rs, bool *ret_failed)
{
	static const char *const keys[3] = {"checksum/config", "checksum/secrets", "checksum/files"};
	const char *sums[3] = {rs->config_sum, rs->secrets_sum, rs->files_sum};
	struct node *m = node_map(a);
	for (size_t i = 0; i < 3; i++)
		if (*sums[i])
			m = node_set(m, keys[i], node_str(a, sums[i]));
	m = render_map_with(a, m, rs->v->pod_annotations);
	*ret_failed = !m;
	return m && m->v.list.count ? m : NULL;
}

struct node *pod_template(struct arena *a, const struct render *r, const struct render_service *rs,
			  const struct render_workload *w)
{
	bool failed = false;
	struct node *annotations = pod_annotations(a, rs, &failed);
	return failed ? NULL : pod_template_of(a, w->pod_labels, annotations, pod_spec(a, r, rs, w));
}

/* ---- what the pod reads ----------------------------------------------------------------- */

/* The config and secret keys a pod reads, as {key: rendered value} objects, or all of one. */
struct reads {
	const struct render *r;
	json_t *config, *secrets;
	bool all_config, all_secrets;
};

/* obj[key] = data[key] (shared) when data has it. 0 or -ENOMEM. */
static int read_key(json_t *obj, const json_t *data, const char *key)
{
	json_t *v = json_object_get(data, key);
	return v && json_object_set_nocheck(obj, key, v) < 0 ? -ENOMEM : 0;
}

static int read_env(struct reads *rd, const struct env_view_list *env, const struct env_from_view_list *from)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < env->count; i++) {
		const struct env_view *e = &env->items[i];
		if (e->from || e->init_only)
			continue; /* another object's, or read only at the first start */
		if (e->config)
			rc = read_key(rd->config, rd->r->config_data, e->config);
		else if (e->secret)
			rc = read_key(rd->secrets, rd->r->secrets_data, e->secret);
	}
	for (size_t i = 0; i < from->count; i++) {
		const struct env_from_view *f = &from->items[i];
		rd->all_config |= f->config_map && strcmp(f->config_map, rd->r->config_name) == 0;
		rd->all_secrets |= f->secret && strcmp(f->secret, rd->r->secrets_name) == 0;
	}
	return rc;
}

static int read_files(struct reads *rd, const struct volume_view_list *vols)
{
	int rc = 0;
	for (size_t i = 0; i < vols->count; i++)
		for (size_t j = 0; rc == 0 && j < vols->items[i].files.count; j++) {
			const struct file_view *f = &vols->items[i].files.items[j];
			if (f->config)
				rc = read_key(rd->config, rd->r->config_data, f->config);
			else if (f->secret)
				rc = read_key(rd->secrets, rd->r->secrets_data, f->secret);
		}
	return rc;
}

static int read_containers(struct reads *rd, const struct container_view_list *list)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < list->count; i++)
		rc = read_env(rd, &list->items[i].env, &list->items[i].env_from);
	return rc;
}

/* The digest of all (when every key is read) or of part; "" when part is empty. */
static int sum_of(const json_t *all, bool every, const json_t *part, char ret[65])
{
	ret[0] = '\0';
	if (!every && json_object_size(part) == 0)
		return 0;
	return digest_json(every ? all : part, ret) < 0 ? -ENOMEM : 0;
}

static int checksums(const struct render *r, struct render_service *rs)
{
	const struct service_view *s = rs->v;
	struct reads rd = {r, json_object(), json_object(), false, false};
	int rc = rd.config && rd.secrets ? read_env(&rd, &s->env, &s->env_from) : -ENOMEM;
	if (rc == 0)
		rc = read_files(&rd, &s->volumes);
	if (rc == 0)
		rc = read_containers(&rd, &s->init_containers);
	if (rc == 0)
		rc = read_containers(&rd, &s->sidecars);
	if (rc == 0)
		rc = sum_of(r->config_data, rd.all_config, rd.config, rs->config_sum);
	if (rc == 0)
		rc = sum_of(r->secrets_data, rd.all_secrets, rd.secrets, rs->secrets_sum);
	if (rc == 0)
		rc = sum_of(rs->files_data, false, rs->files_data, rs->files_sum);
	json_decref(rd.config);
	json_decref(rd.secrets);
	return rc;
}

/* ---- names the pod gives ------------------------------------------------------------------- */

/* One inline file into rs->files_data under its key; a key taken or too long is a problem. */
static int add_file(struct render_service *rs, const struct volume_view *v, const struct file_view *f,
		    struct buf *key, struct model_errors *errs)
{
	buf_reset(key);
	if (file_key(key, v->name, f->name) < 0)
		return -ENOMEM;
	const char *const *at = MODEL_PTR("services", rs->v->name, "volumes", v->name, "files", f->name);
	if (key->len > MAX_FILE_KEY)
		return model_errors_at(errs, at, NULL, "gives the ConfigMap key \"%.*s%s\", which is longer than %d "
				       "characters: use a shorter volume name or path", MODEL_CLIP(buf_cstr(key)),
				       MAX_FILE_KEY);
	if (json_object_get(rs->files_data, buf_cstr(key)))
		return model_errors_at(errs, at, NULL, "gives the ConfigMap key \"%.*s%s\" (of %s), as another "
				       "file of this volume does: paths that differ only in characters other than "
				       "letters, digits, '-', '.' and '_' need other names", MODEL_CLIP(buf_cstr(key)),
				       rs->files_name);
	return json_object_set_new(rs->files_data, buf_cstr(key), json_string(f->content)) < 0 ? -ENOMEM : 0;
}

/* rs->files_data: every inline file, or NULL when there is none. */
static int files_data(struct render_service *rs, struct model_errors *errs)
{
	const struct volume_view_list *vols = &rs->v->volumes;
	struct buf key;
	int rc = 0;
	buf_init(&key, BUF_NO_MAX);
	for (size_t i = 0; rc == 0 && i < vols->count; i++)
		for (size_t j = 0; rc == 0 && j < vols->items[i].files.count; j++) {
			const struct file_view *f = &vols->items[i].files.items[j];
			if (f->content && !rs->files_data && !(rs->files_data = json_object()))
				rc = -ENOMEM;
			if (rc == 0 && f->content)
				rc = add_file(rs, &vols->items[i], f, &key, errs);
		}
	buf_release(&key);
	return rc;
}

/* The containers of a pod, by name, and where each is declared. */
struct named {
	const char *name;
	const char *group; /* "initContainers", "sidecars"; NULL: made by render */
};

#define MAX_CONTAINERS (1 + 2 * 20) /* the service's, 20 init, 20 sidecars */

static size_t pod_containers(const struct service_view *s, struct named *all)
{
	size_t n = 0;
	all[n++] = (struct named){s->name, NULL};
	const struct container_view_list *lists[2] = {&s->init_containers, &s->sidecars};
	static const char *const groups[2] = {"initContainers", "sidecars"};
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->count && n < MAX_CONTAINERS; i++)
			all[n++] = (struct named){lists[l]->items[i].name, groups[l]};
	return n;
}

/* A name two containers of the pod share, reported at the later one. */
static int check_container_names(const struct service_view *s, struct model_errors *errs)
{
	struct named all[MAX_CONTAINERS];
	size_t n = pod_containers(s, all);
	for (size_t j = 1; j < n; j++)
		for (size_t i = 0; i < j; i++) {
			if (strcmp(all[i].name, all[j].name) != 0)
				continue;
			if (model_errors_at(errs, MODEL_PTR("services", s->name, all[j].group, all[j].name), NULL,
					    "is also the name of %s%s%s: the containers of a pod need distinct names",
					    i == 0 ? "the service's own container" : "the container \"",
					    i == 0 ? "" : all[i].name, i == 0 ? "" : "\"") < 0)
				return -ENOMEM;
			break;
		}
	return 0;
}

/* A volume named like the automatic /tmp volume, when the pod has one. */
static int check_tmp_name(const struct service_view *s, struct model_errors *errs)
{
	if (!container_tmp(s))
		return 0;
	for (size_t i = 0; i < s->volumes.count; i++)
		if (strcmp(s->volumes.items[i].name, TMP_VOLUME) == 0)
			return model_errors_at(errs, MODEL_PTR("services", s->name, "volumes", TMP_VOLUME), NULL,
					       "is the name of the automatic /tmp volume (securityContext."
					       "readOnlyRootFilesystem is true): rename this volume, or mount it at /tmp");
	return 0;
}

int pod_prepare(const struct render *r, struct render_service *rs, struct model_errors *errs)
{
	int rc = (rs->files_name = render_concat(rs->v->name, "-files", "")) ? 0 : -ENOMEM;
	if (rc == 0)
		rc = files_data(rs, errs);
	if (rc == 0)
		rc = checksums(r, rs);
	if (rc == 0)
		rc = check_container_names(rs->v, errs);
	if (rc == 0)
		rc = check_tmp_name(rs->v, errs);
	return rc;
}

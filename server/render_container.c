/* render_container: the containers of a service's pod (the service's own, its init
 * containers and sidecars) and their parts: env, probes, ports,
 * mounts, security contexts (include/render_container.h). */
#include "render_container.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsoniter.h"

#define TMP_VOLUME "tmp"
#define TMP_PATH "/tmp"

/* ---- parts ----------------------------------------------------------------------------------- */

/* The pod gets the automatic /tmp emptyDir: a read-only root and no volume at /tmp. */
bool container_tmp(const struct service_view *s)
{
	if (!s->security_context.read_only_root_filesystem)
		return false;
	for (size_t i = 0; i < s->volumes.count; i++)
		if (strcmp(s->volumes.items[i].mount_path, TMP_PATH) == 0)
			return false;
	return true;
}

struct node *container_security(struct arena *a, bool non_root, json_int_t uid, bool read_only,
				    const json_t *caps)
{
	struct node *c = NODE_MAP(a, {"drop", NODE_SEQ(a, node_str(a, "ALL"))});
	if (json_array_size(caps) > 0)
		c = node_set(c, "add", render_strings(a, caps));
	return NODE_MAP(a, {"runAsNonRoot", node_bool(a, non_root)}, {"runAsUser", node_int(a, uid)},
			{"allowPrivilegeEscalation", node_bool(a, false)},
			{"readOnlyRootFilesystem", node_bool(a, read_only)}, {"capabilities", c},
			{"seccompProfile", render_seccomp(a)});
}


struct node *container_env_value(struct arena *a, const char *name, const char *value)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"value", node_str(a, value)});
}

struct node *container_env_ref(struct arena *a, const char *name, const char *ref_kind, const char *object,
			 const char *key)
{
	return NODE_MAP(a, {"name", node_str(a, name)},
			{"valueFrom", NODE_MAP(a, {ref_kind, NODE_MAP(a, {"name", node_str(a, object)},
								     {"key", node_str(a, key)})})});
}

struct node *container_mount(struct arena *a, const char *name, const char *path, bool read_only)
{
	struct node *m = NODE_MAP(a, {"name", node_str(a, name)}, {"mountPath", node_str(a, path)});
	return read_only ? node_set(m, "readOnly", node_bool(a, true)) : m;
}

struct node *container_port(struct arena *a, const char *name, json_int_t number, const char *protocol)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"containerPort", node_int(a, number)},
			{"protocol", node_str(a, protocol)});
}

/* ---- env ----------------------------------------------------------------------------------- */

static struct node *env_entry(struct arena *a, const struct render *r, const struct env_view *e)
{
	if (e->value)
		return container_env_value(a, e->name, e->value);
	if (e->config)
		return container_env_ref(a, e->name, "configMapKeyRef", e->from ? e->from : r->config_name, e->config);
	if (e->secret)
		return container_env_ref(a, e->name, "secretKeyRef", e->from ? e->from : r->secrets_name, e->secret);
	return NODE_MAP(a, {"name", node_str(a, e->name)},
			{"valueFrom", NODE_MAP(a, {"fieldRef", NODE_MAP(a, {"fieldPath", node_str(a, e->field)})})});
}

static struct node *env_list(struct arena *a, const struct render *r, const struct env_view_list *env)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < env->count; i++)
		seq = node_push(seq, env_entry(a, r, &env->items[i]));
	return seq;
}

static struct node *env_from_list(struct arena *a, const struct env_from_view_list *from)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < from->count; i++) {
		const struct env_from_view *f = &from->items[i];
		struct node *ref = NODE_MAP(a, {"name", node_str(a, f->config_map ? f->config_map : f->secret)});
		if (f->optional)
			ref = node_set(ref, "optional", node_bool(a, true));
		struct node *src = NODE_MAP(a, {f->config_map ? "configMapRef" : "secretRef", ref});
		if (*f->prefix)
			src = node_set(src, "prefix", node_str(a, f->prefix));
		seq = node_push(seq, src);
	}
	return seq;
}

/* ---- probes -------------------------------------------------------------------------------- */

static struct node *port_value(struct arena *a, const struct int_or_string *p)
{
	return p->str ? node_str(a, p->str) : node_int(a, p->num);
}

static struct node *http_get(struct arena *a, const struct http_get_view *h)
{
	struct node *n = NODE_MAP(a, {"path", node_str(a, h->path)}, {"port", port_value(a, &h->port)});
	if (strcmp(h->scheme, "HTTP") != 0)
		n = node_set(n, "scheme", node_str(a, h->scheme));
	if (json_object_size(h->headers) == 0)
		return n;
	struct node *headers = node_seq(a);
	const char *name;
	json_t *v;
	EACH_MEMBER(h->headers, name, v) {
		headers = node_push(headers, NODE_MAP(a, {"name", node_str(a, name)},
						      {"value", node_str(a, json_string_value(v))}));
	}
	return node_set(n, "httpHeaders", headers);
}

static struct node *probe_action(struct arena *a, const struct probe_view *p)
{
	if (p->http_get)
		return NODE_MAP(a, {"httpGet", http_get(a, p->http_get)});
	if (p->tcp_socket)
		return NODE_MAP(a, {"tcpSocket", NODE_MAP(a, {"port", port_value(a, &p->tcp_socket->port)})});
	if (p->exec)
		return NODE_MAP(a, {"exec", NODE_MAP(a, {"command", render_strings(a, p->exec->command)})});
	struct node *g = NODE_MAP(a, {"port", node_int(a, p->grpc->port)});
	if (*p->grpc->service)
		g = node_set(g, "service", node_str(a, p->grpc->service));
	return NODE_MAP(a, {"grpc", g});
}

static struct node *probe(struct arena *a, const struct probe_view *p)
{
	struct node *n = probe_action(a, p);
	n = node_set(n, "initialDelaySeconds", node_int(a, p->initial_delay_seconds));
	n = node_set(n, "periodSeconds", node_int(a, p->period_seconds));
	n = node_set(n, "timeoutSeconds", node_int(a, p->timeout_seconds));
	n = node_set(n, "failureThreshold", node_int(a, p->failure_threshold));
	return p->success_threshold != 1 ? node_set(n, "successThreshold", node_int(a, p->success_threshold)) : n;
}

/* The probes of a container, set on c (a probe view whose kind normalisation left out
 * cannot be: model_resolve gives every non-null probe one). */
static struct node *set_probes(struct arena *a, struct node *c, const struct probes_view *p)
{
	static const char *const keys[3] = {"readinessProbe", "livenessProbe", "startupProbe"};
	const struct probe_view *probes[3] = {p->readiness, p->liveness, p->startup};
	for (size_t i = 0; i < 3; i++)
		if (probes[i] && (probes[i]->http_get || probes[i]->tcp_socket || probes[i]->exec || probes[i]->grpc))
			c = node_set(c, keys[i], probe(a, probes[i]));
	return c;
}

/* ---- containers ---------------------------------------------------------------------------- */

/* What a container is made of, for the one builder of the service's own container, its
 * init containers and its sidecars. */
struct container_in {
	const char *name;
	struct node *image;
	const char *pull_policy;
	const json_t *command, *args;
	const char *working_dir;
	const struct port_view_list *ports;
	const struct env_view_list *env;
	const struct env_from_view_list *env_from;
	const struct probes_view *probes; /* NULL: none (init containers) */
	const struct resources_view *resources;
	struct node *security, *lifecycle, *mounts; /* lifecycle may be NULL */
};

static struct node *container_ports(struct arena *a, const struct port_view_list *ports)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < ports->count; i++) {
		const struct port_view *p = &ports->items[i];
		seq = node_push(seq, container_port(a, p->name, p->target_port, p->protocol));
	}
	return seq;
}

static struct node *container(struct arena *a, const struct render *r, const struct container_in *in)
{
	struct node *c = NODE_MAP(a, {"name", node_str(a, in->name)}, {"image", in->image},
				  {"imagePullPolicy", node_str(a, in->pull_policy)});
	if (in->command)
		c = node_set(c, "command", render_strings(a, in->command));
	if (in->args)
		c = node_set(c, "args", render_strings(a, in->args));
	if (*in->working_dir)
		c = node_set(c, "workingDir", node_str(a, in->working_dir));
	c = render_set_items(c, "ports", container_ports(a, in->ports));
	c = render_set_items(c, "env", env_list(a, r, in->env));
	c = render_set_items(c, "envFrom", env_from_list(a, in->env_from));
	if (in->probes)
		c = set_probes(a, c, in->probes);
	c = node_set(c, "resources", render_resources(a, in->resources));
	c = node_set(c, "securityContext", in->security);
	if (in->lifecycle)
		c = node_set(c, "lifecycle", in->lifecycle);
	return render_set_items(c, "volumeMounts", in->mounts);
}

/* {name, mountPath[, readOnly][, subPath]} */
static struct node *mount_of(struct arena *a, const char *name, const char *path, bool read_only,
			     const char *sub_path)
{
	struct node *m = container_mount(a, name, path, read_only);
	return *sub_path ? node_set(m, "subPath", node_str(a, sub_path)) : m;
}

/* The image reference: [registry/]repository[:tag][@digest]. */
static struct node *image_ref(struct arena *a, const struct image_view *image)
{
	const char *registry = image->registry, *tag = image->tag, *digest = image->digest;
	return NODE_CAT(a, registry, *registry ? "/" : "", image->repository, *tag ? ":" : "", tag,
			*digest ? "@" : "", digest);
}

static struct node *service_mounts(struct arena *a, const struct service_view *s)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < s->volumes.count; i++) {
		const struct volume_view *v = &s->volumes.items[i];
		seq = node_push(seq, mount_of(a, v->name, v->mount_path, v->read_only, v->sub_path));
	}
	return container_tmp(s) ? node_push(seq, container_mount(a, TMP_VOLUME, TMP_PATH, false)) : seq;
}

static struct node *pre_stop(struct arena *a, json_int_t seconds)
{
	struct node *cmd = NODE_SEQ(a, node_str(a, "sleep"), node_int_text(a, seconds));
	return NODE_MAP(a, {"preStop", NODE_MAP(a, {"exec", NODE_MAP(a, {"command", cmd})})});
}

static struct node *service_container(struct arena *a, const struct render *r, const struct service_view *s)
{
	const struct security_view *sc = &s->security_context;
	json_int_t sleep = s->scheduling.pre_stop_sleep_seconds;
	const struct container_in in = {
		.name = s->name,
		.image = image_ref(a, &s->image),
		.pull_policy = s->image.pull_policy,
		.command = s->command,
		.args = s->args,
		.working_dir = s->working_dir,
		.ports = &s->ports,
		.env = &s->env,
		.env_from = &s->env_from,
		.probes = &s->probes,
		.resources = &s->resources,
		.security = container_security(a, sc->run_as_non_root, sc->run_as_user,
						   sc->read_only_root_filesystem, sc->capabilities),
		.lifecycle = sleep > 0 ? pre_stop(a, sleep) : NULL,
		.mounts = service_mounts(a, s),
	};
	return container(a, r, &in);
}

/* The mounts of an init container or sidecar: its volumeMounts, then the automatic /tmp
 * volume when the pod has one and it mounts nothing at /tmp. */
static struct node *helper_mounts(struct arena *a, const struct service_view *s, const struct container_view *cv)
{
	struct node *seq = node_seq(a);
	bool tmp = container_tmp(s);
	for (size_t i = 0; i < cv->volume_mounts.count; i++) {
		const struct mount_view *m = &cv->volume_mounts.items[i];
		seq = node_push(seq, mount_of(a, m->name, m->mount_path, m->read_only, m->sub_path));
		tmp &= strcmp(m->mount_path, TMP_PATH) != 0;
	}
	return tmp ? node_push(seq, container_mount(a, TMP_VOLUME, TMP_PATH, false)) : seq;
}

/* An init container (sidecar false: no ports, no probes) or a sidecar of s: the service's
 * security context without its added capabilities, its own runAsUser and
 * readOnlyRootFilesystem when set. */
static struct node *helper_container(struct arena *a, const struct render *r, const struct service_view *s,
				     const struct container_view *cv, bool sidecar)
{
	const struct security_view *sc = &s->security_context;
	static const struct port_view_list no_ports;
	const struct container_in in = {
		.name = cv->name,
		.image = node_str(a, cv->image),
		.pull_policy = cv->pull_policy,
		.command = cv->command,
		.args = cv->args,
		.working_dir = cv->working_dir,
		.ports = sidecar ? &cv->ports : &no_ports,
		.env = &cv->env,
		.env_from = &cv->env_from,
		.probes = sidecar ? &cv->probes : NULL,
		.resources = &cv->resources,
		.security = container_security(a, sc->run_as_non_root,
						   cv->run_as_user.set ? cv->run_as_user.value : sc->run_as_user,
						   cv->read_only_root_filesystem.set ? cv->read_only_root_filesystem.value
										     : sc->read_only_root_filesystem,
						   NULL),
		.mounts = helper_mounts(a, s, cv),
	};
	return container(a, r, &in);
}

/* The document's, in order. */
struct node *container_init_list(struct arena *a, const struct render *r, const struct service_view *s)
{
	struct node *seq = node_seq(a);
	for (size_t i = 0; i < s->init_containers.count; i++)
		seq = node_push(seq, helper_container(a, r, s, &s->init_containers.items[i], false));
	return seq;
}

struct node *container_list(struct arena *a, const struct render *r, const struct service_view *s)
{
	struct node *seq = NODE_SEQ(a, service_container(a, r, s));
	for (size_t i = 0; i < s->sidecars.count; i++)
		seq = node_push(seq, helper_container(a, r, s, &s->sidecars.items[i], true));
	return seq;
}


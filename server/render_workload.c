/* render_workload: a service's file: ServiceAccount, files ConfigMap, the workload of its
 * kind, its Services, HPA and PDB (include/render_workload.h). */
#include "render_workload.h"

#include <errno.h>
#include <string.h>

#include "digest.h"
#include "render_pod.h"

#define JOB_HASH_DIGITS 8

static bool kind_is(const struct service_view *s, const char *kind)
{
	return strcmp(s->kind, kind) == 0;
}

/* The service or one of its sidecars has a port. */
static bool has_ports(const struct service_view *s)
{
	for (size_t i = 0; i < s->sidecars.count; i++)
		if (s->sidecars.items[i].ports.count)
			return true;
	return s->ports.count > 0;
}

/* The app.kubernetes.io/component label: the one the service's labels give (a component's
 * workload gives its type's category), else what the workload is. */
static const char *component(const struct service_view *s)
{
	const char *own = json_string_value(json_object_get(s->labels, "app.kubernetes.io/component"));
	return own ? own : pod_one_shot(s) ? "job" : has_ports(s) ? "service" : "worker";
}

/* ---- the objects of a workload ------------------------------------------------------------ */

static struct node *account(struct arena *a, const struct render *r, const struct render_workload *w,
			    const char *name, bool automount, const json_t *annotations)
{
	return node_set(render_object(a, r, "v1", "ServiceAccount", name, w->labels, annotations),
			"automountServiceAccountToken", node_bool(a, automount));
}

struct node *workload_service_account(struct arena *a, const struct render *r, const struct render_workload *w)
{
	return account(a, r, w, w->name, false, NULL);
}

struct node *workload_service_port(struct arena *a, const char *name, json_int_t port, const char *protocol)
{
	return NODE_MAP(a, {"name", node_str(a, name)}, {"port", node_int(a, port)}, {"targetPort", node_str(a, name)},
			{"protocol", node_str(a, protocol)});
}

/* How a Service looks: its name, type, headless (clusterIP None), governing (publishes
 * pods before they are ready, for the peers of a StatefulSet). */
struct shape {
	const char *name, *type;
	bool headless, governing;
	const json_t *annotations;
};

static struct node *service_object(struct arena *a, const struct render *r, const struct render_workload *w,
				   const struct shape *sh, struct node *ports)
{
	struct node *spec = NODE_MAP(a, {"type", node_str(a, sh->type)});
	if (sh->headless)
		spec = node_set(spec, "clusterIP", node_str(a, "None"));
	if (sh->governing)
		spec = node_set(spec, "publishNotReadyAddresses", node_bool(a, true));
	spec = node_set(spec, "selector", w->selector);
	if (!ports || ports->v.list.count)
		spec = node_set(spec, "ports", ports);
	return node_set(render_object(a, r, "v1", "Service", sh->name, w->labels, sh->annotations), "spec", spec);
}

struct node *workload_service(struct arena *a, const struct render *r, const struct render_workload *w,
			      struct node *ports)
{
	const struct shape sh = {w->name, "ClusterIP", false, false, NULL};
	return service_object(a, r, w, &sh, ports);
}

struct node *workload_headless(struct arena *a, const struct render *r, const struct render_workload *w,
			       struct node *ports)
{
	const struct shape sh = {RENDER_PRINTF(a, "%s" WORKLOAD_HEADLESS_SUFFIX, w->name), "ClusterIP", true, true, NULL};
	return sh.name ? service_object(a, r, w, &sh, ports) : NULL;
}

struct node *workload_claim(struct arena *a, const char *name, const char *mode, const char *class_name,
			    const char *size)
{
	struct node *spec = NODE_MAP(a, {"accessModes", NODE_SEQ(a, node_str(a, mode))});
	if (*class_name)
		spec = node_set(spec, "storageClassName", node_str(a, class_name));
	spec = node_set(spec, "resources", NODE_MAP(a, {"requests", NODE_MAP(a, {"storage", node_str(a, size)})}));
	return NODE_MAP(a, {"metadata", NODE_MAP(a, {"name", node_str(a, name)})}, {"spec", spec});
}

static struct node *match(struct arena *a, const struct render_workload *w)
{
	return NODE_MAP(a, {"matchLabels", w->selector});
}

struct node *workload_stateful_set(struct arena *a, const struct render *r, const struct render_workload *w,
				   const json_t *annotations, long long replicas, struct node *template,
				   struct node *claims)
{
	struct node *spec = NODE_MAP(a, {"serviceName", NODE_CAT(a, w->name, WORKLOAD_HEADLESS_SUFFIX)});
	if (replicas >= 0)
		spec = node_set(spec, "replicas", node_int(a, replicas));
	spec = node_set(node_set(spec, "selector", match(a, w)), "template", template);
	if (!claims || claims->v.list.count)
		spec = node_set(spec, "volumeClaimTemplates", claims);
	return node_set(render_object(a, r, "apps/v1", "StatefulSet", w->name, w->labels, annotations), "spec", spec);
}

/* ---- the service's Services --------------------------------------------------------------- */

static struct node *port_list(struct arena *a, struct node *seq, const struct port_view_list *ports,
			      bool node_ports)
{
	for (size_t i = 0; i < ports->count; i++) {
		const struct port_view *p = &ports->items[i];
		struct node *n = workload_service_port(a, p->name, p->port, p->protocol);
		if (*p->app_protocol)
			n = node_set(n, "appProtocol", node_str(a, p->app_protocol));
		if (node_ports && p->node_port)
			n = node_set(n, "nodePort", node_int(a, p->node_port));
		seq = node_push(seq, n);
	}
	return seq;
}

/* The ports of the service's container, then its sidecars'. */
static struct node *service_ports(struct arena *a, const struct service_view *s, bool node_ports)
{
	struct node *seq = port_list(a, node_seq(a), &s->ports, node_ports);
	for (size_t i = 0; i < s->sidecars.count; i++)
		seq = port_list(a, seq, &s->sidecars.items[i].ports, node_ports);
	return seq;
}

static struct node *client_service(struct arena *a, const struct render *r, const struct service_view *s,
				   const struct render_workload *w)
{
	const char *type = s->expose.type;
	bool headless = strcmp(type, "Headless") == 0;
	const struct shape sh = {s->name, headless ? "ClusterIP" : type, headless, false, s->expose.annotations};
	return service_object(a, r, w, &sh, service_ports(a, s, true));
}

/* ---- workloads by kind -------------------------------------------------------------------- */

static struct node *deployment(struct arena *a, const struct render *r, const struct render_service *rs,
			       const struct render_workload *w)
{
	const struct service_view *s = rs->v;
	struct node *spec = node_map(a);
	if (!s->autoscaling.enabled)
		spec = node_set(spec, "replicas", node_int(a, s->replicas));
	spec = node_set(spec, "selector", match(a, w));
	if (strcmp(s->strategy, "Recreate") == 0)
		spec = node_set(spec, "strategy", NODE_MAP(a, {"type", node_str(a, "Recreate")}));
	else if (pod_many(s))
		spec = node_set(spec, "strategy",
				NODE_MAP(a, {"type", node_str(a, "RollingUpdate")},
					 {"rollingUpdate", NODE_MAP(a, {"maxUnavailable", node_int(a, 0)},
								    {"maxSurge", node_int(a, 1)})}));
	spec = node_set(spec, "template", pod_template(a, r, rs, w));
	return node_set(render_object(a, r, "apps/v1", "Deployment", w->name, w->labels, s->annotations), "spec", spec);
}

static struct node *stateful_set(struct arena *a, const struct render *r, const struct render_service *rs,
				 const struct render_workload *w)
{
	const struct service_view *s = rs->v;
	struct node *claims = node_seq(a);
	for (size_t i = 0; i < s->volumes.count; i++) {
		const struct persistent_view *p = s->volumes.items[i].persistent;
		if (p)
			claims = node_push(claims, workload_claim(a, s->volumes.items[i].name, p->access_mode,
								  p->class_name, p->size));
	}
	return workload_stateful_set(a, r, w, s->annotations, s->autoscaling.enabled ? -1 : s->replicas,
				     pod_template(a, r, rs, w), claims);
}

static struct node *daemon_set(struct arena *a, const struct render *r, const struct render_service *rs,
			       const struct render_workload *w)
{
	struct node *update = NODE_MAP(a, {"type", node_str(a, "RollingUpdate")},
				       {"rollingUpdate", NODE_MAP(a, {"maxUnavailable", node_int(a, 1)})});
	struct node *spec = NODE_MAP(a, {"selector", match(a, w)}, {"updateStrategy", update},
				     {"template", pod_template(a, r, rs, w)});
	return node_set(render_object(a, r, "apps/v1", "DaemonSet", w->name, w->labels, rs->v->annotations), "spec",
			spec);
}

static struct node *job_spec(struct arena *a, const struct render *r, const struct render_service *rs,
			     const struct render_workload *w)
{
	const struct job_view *j = &rs->v->job;
	struct node *spec = NODE_MAP(a, {"backoffLimit", node_int(a, j->backoff_limit)});
	if (j->active_deadline_seconds > 0)
		spec = node_set(spec, "activeDeadlineSeconds", node_int(a, j->active_deadline_seconds));
	spec = node_set(spec, "ttlSecondsAfterFinished", node_int(a, j->ttl_seconds_after_finished));
	spec = node_set(spec, "completions", node_int(a, j->completions));
	spec = node_set(spec, "parallelism", node_int(a, j->parallelism));
	return node_set(spec, "template", pod_template(a, r, rs, w));
}

/* "<service>-" and the first digits of hex (a digest, or rc its failure) into out. */
static int job_name(const char *service, int rc, char hex[65], struct buf *out)
{
	if (rc < 0)
		return rc == -EINVAL ? -EINVAL : -ENOMEM;
	hex[JOB_HASH_DIGITS] = '\0';
	return BUF_PUTS(out, service, "-", hex);
}

int workload_job_name(const char *service, const json_t *spec, struct buf *out)
{
	char hex[65];
	return job_name(service, digest_json(spec, hex), hex, out);
}

static struct node *job(struct arena *a, const struct render *r, const struct render_service *rs,
			const struct render_workload *w)
{
	struct node *spec = job_spec(a, r, rs, w);
	char hex[65];
	struct buf name;
	buf_init(&name, BUF_NO_MAX);
	/* the digest of the spec's JSON (workload_job_name), from the tree itself */
	const char *text = spec && job_name(w->name, digest_node(spec, hex), hex, &name) == 0
				   ? node_string(node_str_copy(a, buf_cstr(&name)))
				   : NULL;
	buf_release(&name);
	if (!text)
		return NULL;
	return node_set(render_object(a, r, "batch/v1", "Job", text, w->labels, rs->v->annotations), "spec", spec);
}

static struct node *cron_job(struct arena *a, const struct render *r, const struct render_service *rs,
			     const struct render_workload *w)
{
	const struct cron_view *c = &rs->v->cron;
	struct node *spec = NODE_MAP(a, {"schedule", node_str(a, c->schedule)});
	if (*c->time_zone)
		spec = node_set(spec, "timeZone", node_str(a, c->time_zone));
	spec = node_set(spec, "concurrencyPolicy", node_str(a, c->concurrency_policy));
	spec = node_set(spec, "successfulJobsHistoryLimit", node_int(a, c->successful_jobs_history_limit));
	spec = node_set(spec, "failedJobsHistoryLimit", node_int(a, c->failed_jobs_history_limit));
	if (c->starting_deadline_seconds > 0)
		spec = node_set(spec, "startingDeadlineSeconds", node_int(a, c->starting_deadline_seconds));
	spec = node_set(spec, "suspend", node_bool(a, c->suspend));
	spec = node_set(spec, "jobTemplate", NODE_MAP(a, {"spec", job_spec(a, r, rs, w)}));
	return node_set(render_object(a, r, "batch/v1", "CronJob", w->name, w->labels, rs->v->annotations), "spec",
			spec);
}

static struct node *workload(struct arena *a, const struct render *r, const struct render_service *rs,
			     const struct render_workload *w)
{
	const struct service_view *s = rs->v;
	if (kind_is(s, "StatefulSet"))
		return stateful_set(a, r, rs, w);
	if (kind_is(s, "DaemonSet"))
		return daemon_set(a, r, rs, w);
	if (kind_is(s, "Job"))
		return job(a, r, rs, w);
	if (kind_is(s, "CronJob"))
		return cron_job(a, r, rs, w);
	return deployment(a, r, rs, w);
}

/* ---- autoscaler and budget ---------------------------------------------------------------- */

static struct node *hpa(struct arena *a, const struct render *r, const struct service_view *s,
			const struct render_workload *w)
{
	const struct autoscaling_view *as = &s->autoscaling;
	struct node *target = NODE_MAP(a, {"type", node_str(a, "Utilization")},
				       {"averageUtilization", node_int(a, as->target_cpu_utilization)});
	struct node *metric = NODE_MAP(a, {"type", node_str(a, "Resource")},
				       {"resource", NODE_MAP(a, {"name", node_str(a, "cpu")}, {"target", target})});
	struct node *ref = NODE_MAP(a, {"apiVersion", node_str(a, "apps/v1")}, {"kind", node_str(a, s->kind)},
				    {"name", node_str(a, s->name)});
	struct node *spec = NODE_MAP(a, {"scaleTargetRef", ref}, {"minReplicas", node_int(a, as->min_replicas)},
				     {"maxReplicas", node_int(a, as->max_replicas)}, {"metrics", NODE_SEQ(a, metric)});
	return node_set(render_object(a, r, "autoscaling/v2", "HorizontalPodAutoscaler", w->name, w->labels, NULL),
			"spec", spec);
}

static struct node *pdb(struct arena *a, const struct render *r, const struct service_view *s,
			const struct render_workload *w)
{
	const struct int_or_string *max = &s->disruption_budget.max_unavailable;
	struct node *spec = NODE_MAP(a, {"maxUnavailable", max->str ? node_str(a, max->str) : node_int(a, max->num)},
				     {"selector", match(a, w)});
	return node_set(render_object(a, r, "policy/v1", "PodDisruptionBudget", w->name, w->labels, NULL), "spec",
			spec);
}

static bool wants_pdb(const struct service_view *s)
{
	return s->disruption_budget.enabled && pod_many(s) && (kind_is(s, "Deployment") || kind_is(s, "StatefulSet"));
}

/* ---- the file ----------------------------------------------------------------------------- */

static struct node *files_config_map(struct arena *a, const struct render *r, const struct render_service *rs,
				     const struct render_workload *w)
{
	return node_set(render_object(a, r, "v1", "ConfigMap", rs->files_name, w->labels, NULL), "data",
			node_from_json(a, rs->files_data));
}

int workload_build(struct arena *a, const struct render *r, const struct render_service *rs, struct node *out)
{
	const struct service_view *s = rs->v;
	const struct service_account_view *sa = &s->service_account;
	struct render_workload w = render_workload(a, r, s->name, component(s), render_label_version(s->image.tag),
						   s->labels, s->pod_labels);
	int rc = 0;
	if (sa->create)
		rc = render_push(out, account(a, r, &w, sa->name, sa->automount_token, sa->annotations));
	if (rc == 0 && rs->files_data)
		rc = render_push(out, files_config_map(a, r, rs, &w));
	if (rc == 0)
		rc = render_push(out, workload(a, r, rs, &w));
	if (rc == 0 && has_ports(s) && !pod_one_shot(s))
		rc = render_push(out, client_service(a, r, s, &w));
	if (rc == 0 && kind_is(s, "StatefulSet"))
		rc = render_push(out, workload_headless(a, r, &w, service_ports(a, s, false)));
	if (rc == 0 && s->autoscaling.enabled)
		rc = render_push(out, hpa(a, r, s, &w));
	if (rc == 0 && wants_pdb(s))
		rc = render_push(out, pdb(a, r, s, &w));
	return rc;
}

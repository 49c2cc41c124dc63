/* render_workload: the file of one service (50-<name>.yaml), in this order: its
 * ServiceAccount (serviceAccount.create), its ConfigMap <name>-files (inline files), the
 * workload of its kind (Deployment, StatefulSet, DaemonSet, Job, CronJob), its Service
 * <name> (when it or a sidecar has ports; not for Jobs and CronJobs), the headless
 * Service <name>-headless that governs a StatefulSet, its HorizontalPodAutoscaler
 * (autoscaling.enabled) and its PodDisruptionBudget (disruptionBudget.enabled and more
 * than one pod, Deployments and StatefulSets). Also the pieces render_infra's fixed
 * workloads share with services.
 *
 * A Job is named "<service>-<8 hex digits of the digest of its whole spec>", so a changed
 * Job is a new Job (a Job's template cannot be updated); a CronJob keeps the service's
 * name. Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_WORKLOAD_H
#define MANIFESTD_RENDER_WORKLOAD_H

#include "buf.h"
#include "render_common.h"

/* The suffix of a StatefulSet's governing Service: "<name>-headless". */
#define WORKLOAD_HEADLESS_SUFFIX "-headless"

/* Appends every object of the file of rs to out (a NODE_SEQ). 0 or -ENOMEM. */
int workload_build(struct arena *a, const struct render *r, const struct render_service *rs, struct node *out);

/* Appends the name of the Job of service whose spec is spec (borrowed) to out:
 * "<service>-" and the first 8 hex digits of digest_json(spec). 0, -ENOMEM, -EINVAL. */
int workload_job_name(const char *service, const json_t *spec, struct buf *out);

/* A ServiceAccount named w->name without an API token. */
struct node *workload_service_account(struct arena *a, const struct render *r, const struct render_workload *w);

/* A ClusterIP Service w->name (for clients) selecting the pods of w. */
struct node *workload_service(struct arena *a, const struct render *r, const struct render_workload *w,
			      struct node *ports);

/* The headless Service "<w->name>-headless" that governs the StatefulSet of w. */
struct node *workload_headless(struct arena *a, const struct render *r, const struct render_workload *w,
			       struct node *ports);

/* {name, port, targetPort: name, protocol}. */
struct node *workload_service_port(struct arena *a, const char *name, json_int_t port, const char *protocol);

/* A StatefulSet w->name (annotations: a JSON object of strings or NULL) of replicas pods
 * (< 0: not set, an autoscaler sets it) governed by "<w->name>-headless", with template
 * and the volumeClaimTemplates claims (a NODE_SEQ; not set when empty). */
struct node *workload_stateful_set(struct arena *a, const struct render *r, const struct render_workload *w,
				   const json_t *annotations, long long replicas, struct node *template,
				   struct node *claims);

/* A volumeClaimTemplate {metadata: {name}, spec: {accessModes: [mode], storageClassName
 * (when not ""), resources: {requests: {storage: size}}}}. */
struct node *workload_claim(struct arena *a, const char *name, const char *mode, const char *class_name,
			    const char *size);

#endif

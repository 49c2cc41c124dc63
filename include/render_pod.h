/* render_pod: the pod of a service: its template (labels, checksum annotations,
 * podAnnotations, spec), its spec (service account, security context, pull secret,
 * scheduling: priority class, grace period, nodeSelector, tolerations, affinity, a spread
 * over nodes when it runs more than one pod; restartPolicy for Jobs; its containers from
 * render_container; its volumes: emptyDir, a projected volume for files, an existing
 * claim, the automatic /tmp emptyDir), and what render_new derives per service for it
 * (pod_prepare). The small parts also make render_infra's fixed pods.
 *
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_POD_H
#define MANIFESTD_RENDER_POD_H

#include <stdbool.h>

#include "render_common.h"

/* true for a Job or a CronJob. */
bool pod_one_shot(const struct service_view *s);

/* true when more than one pod of s may run at once where they could share a node: a
 * Deployment or StatefulSet with replicas > 1 (autoscaling: maxReplicas > 1), a Job or
 * CronJob with parallelism > 1; never a DaemonSet (one pod per node). */
bool pod_many(const struct service_view *s);

/* What render_new derives for the pod of rs->v, into rs: the data of its ConfigMap
 * <name>-files (a key per inline file: "<volume>/<path>" with '/' -> "__" and bytes
 * other than letters, digits, '-', '.', '_' -> '_') and the checksums of exactly what
 * the pod reads: the config and secret keys of its containers' env (without `from`) and
 * files, the whole ConfigMap or Secret when envFrom names the stack's, and the files
 * data. r's config_data and secrets_data must be set. Problems the names of the pod give
 * (two files with one ConfigMap key, a volume named like the automatic /tmp volume, two
 * containers with one name) are appended to errs. 0 or -ENOMEM. */
int pod_prepare(const struct render *r, struct render_service *rs, struct model_errors *errs);

/* The pod template of rs->v: {metadata: {labels: w->pod_labels, annotations}, spec}. */
struct node *pod_template(struct arena *a, const struct render *r, const struct render_service *rs,
			  const struct render_workload *w);

/* {metadata: {labels[, annotations]}, spec}; annotations may be NULL. */
struct node *pod_template_of(struct arena *a, struct node *labels, struct node *annotations, struct node *spec);

/* The start of every pod spec: serviceAccountName, automountServiceAccountToken,
 * enableServiceLinks false, securityContext. */
struct node *pod_spec_head(struct arena *a, const char *account, bool automount, struct node *security);

/* A pod securityContext: runAsNonRoot, runAsUser, runAsGroup, fsGroup, seccomp RuntimeDefault. */
struct node *pod_security(struct arena *a, bool non_root, json_int_t uid, json_int_t gid, json_int_t fs_group);

/* {name, emptyDir: {}}. */
struct node *pod_empty_dir(struct arena *a, const char *name);

#endif

/* applysh: generates apply.sh, the bundle's ordered apply-and-wait script.
 *
 * The script is the fixed text server/applysh.sh (embedded at build time) with the
 * bundle's data in front of it and its plan (check_references, apply_all) inside it, all
 * derived from the rendered objects (kinds, names, labels, references), never pasted from
 * user text: every value that reaches the shell is checked against a strict character set
 * and single-quoted. The result passes shellcheck with no comment.
 *
 * Files are applied in phases, each file in the phase of its "latest" kind:
 *   1 namespace (Namespace)  2 configuration (ConfigMap, Secret, Service, anything else)
 *   3 stateful services (StatefulSet; waits for their rollout)
 *   4 jobs (Job; waits for completion, stops at once with the logs of a failed one)
 *   5 applications (Deployment, DaemonSet, CronJob, Pod; waits for every rollout)
 *   6 ingress (Ingress; warns when its IngressClass does not exist)
 * with server-side apply (field manager APPLYSH_MANAGER, forcing conflicts). What the
 * generator reads from the objects besides kinds and names:
 * - spec.replicas of Deployments and StatefulSets: a workload that leaves them to an
 *   autoscaler keeps its live count (keep_replicas hands it to a second field manager
 *   first); one that sets them again loses the autoscaler an earlier bundle made for it;
 * - every object the pod specs (any kind with spec.template.spec, CronJobs, Pods), Ingress
 *   TLS sections and ServiceAccounts reference: Secrets (secretKeyRef, secretRef, secret
 *   volumes and projections, imagePullSecrets, tls secretName), ConfigMaps, service
 *   accounts, volume claims. Those the bundle does not hold are checked before anything is
 *   applied and never pruned; a Secret an ExternalSecret, Certificate or SealedSecret of
 *   the bundle makes, or the TLS Secret of an Ingress annotated for cert-manager, is only
 *   reported when missing;
 * - the volume claim templates of StatefulSets (their claims are never pruned, and deleted
 *   only by --delete --delete-volumes); updateStrategy OnDelete (not waited for).
 * The options, rules and exit codes are those of server/applysh.sh's usage() and of the
 * bundle README (bundle.c). */
#ifndef MANIFESTD_APPLYSH_H
#define MANIFESTD_APPLYSH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "node.h"
#include "render.h"

/* Labels every object carries; --prune and --delete select on all three. */
#define APPLYSH_LABEL_STACK "manifestd.io/stack"
#define APPLYSH_LABEL_ENVIRONMENT "manifestd.io/environment"
#define APPLYSH_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
/* The value of APPLYSH_LABEL_MANAGED_BY, and apply.sh's server-side apply field manager. */
#define APPLYSH_MANAGER "manifestd"

/* One manifest file of the bundle: its name and a NODE_SEQ of its objects (as
 * render_file_nodes builds them; both borrowed). */
struct applysh_file {
	const char *name;
	const struct node *objects;
};

/* Whether the NODE_SEQ objects holds a v1 Secret with data or stringData (such a file is
 * written 0600 and never printed by apply.sh). */
bool applysh_holds_secret_values(const struct node *objects);

/* Appends the apply.sh of r to out. 0, -ENOMEM, -E2BIG, or -EINVAL when a name that
 * would reach the shell is not a safe token (cannot happen for a validated document). */
int applysh_write(struct render *r, struct buf *out);

/* The generator behind applysh_write, on explicit data (meta and namespace borrowed):
 * what applysh_write calls once it has built every file. Every stack, environment,
 * namespace, file, kind, apiVersion, object name and IngressClass is checked; -EINVAL
 * (and out unchanged) when one is not a safe token. A referenced name that is not one is
 * left out of the checks (the API server refuses such an object anyway). Otherwise as
 * applysh_write. */
int applysh_write_files(const struct render_meta *meta, const char *namespace,
			const struct applysh_file *files, size_t n, struct buf *out);

#endif

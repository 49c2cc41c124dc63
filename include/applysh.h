/* applysh: generates apply.sh, the bundle's ordered apply-and-wait script.
 *
 * The script is derived from the rendered objects (their files, kinds and names), not
 * pasted from user text: every value that reaches the shell is checked against a strict
 * character set and single-quoted. The result passes shellcheck with no comment.
 *
 * Files are applied in phases, each file in the phase of its "latest" kind:
 *   1 namespace (Namespace)  2 configuration (ConfigMap, Secret, Service, anything else)
 *   3 stateful services (StatefulSet; waits for their rollout)
 *   4 jobs (Job; waits for condition=complete)
 *   5 applications (Deployment, DaemonSet; waits for every rollout)
 *   6 ingress (Ingress; warns when its IngressClass does not exist)
 * Exit codes of the script: 0 ok, 1 --diff found differences, 2 usage, 3 kubectl
 * missing, 4 cluster unreachable, 5 a kubectl apply/delete/diff failed, 6 a wait timed
 * out or failed. */
#ifndef MANIFESTD_APPLYSH_H
#define MANIFESTD_APPLYSH_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "node.h"
#include "render.h"

/* Label keys every object carries; --prune selects on them. */
#define APPLYSH_LABEL_STACK "manifestd.io/stack"
#define APPLYSH_LABEL_ENVIRONMENT "manifestd.io/environment"

/* One manifest file of the bundle: its name and a NODE_SEQ of its objects (as
 * render_file_nodes builds them; both borrowed). */
struct applysh_file {
	const char *name;
	const struct node *objects;
};

/* Appends the apply.sh of r to out. 0, -ENOMEM, -E2BIG, or -EINVAL when a name that
 * would reach the shell is not a safe token (cannot happen for a validated document). */
int applysh_write(struct render *r, struct buf *out);

/* The generator behind applysh_write, on explicit data (meta and namespace borrowed):
 * what applysh_write calls once it has built every file. Every stack, environment,
 * namespace, file, kind, apiVersion and object name is checked; -EINVAL (and out
 * unchanged) when one is not a safe token. Otherwise as applysh_write. */
int applysh_write_files(const struct render_meta *meta, const char *namespace,
			const struct applysh_file *files, size_t n, struct buf *out);

#endif

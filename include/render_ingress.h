/* render_ingress: 90-ingress.yaml, one Ingress named after the stack holding every rule
 * of /ingress/rules: rules grouped by host in the order hosts first appear (a rule with
 * host "" matches any host), each path sent to its service's port by number; TLS entries
 * grouped by secret (hosts sorted), in the order the secrets first appear; the ingress
 * class and annotations.
 *
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_INGRESS_H
#define MANIFESTD_RENDER_INGRESS_H

#include "render_common.h"

/* Appends the Ingress to out (a NODE_SEQ). 0 or -ENOMEM. */
int ingress_build(struct arena *a, const struct render *r, struct node *out);

#endif

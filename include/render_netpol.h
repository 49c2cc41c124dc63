/* render_netpol: the NetworkPolicies of a stack whose /networkPolicies/enabled is true
 * (12-network.yaml): every pod of the environment is denied all traffic by default
 * (<stack>-default-deny), may ask DNS (<stack>-dns: kube-dns in kube-system, port 53),
 * and is reachable only where the document says so:
 * - the ingress controller's pods (/networkPolicies/ingressNamespace and
 *   ingressPodLabels) reach the services the ingress rules name, on the rules' ports;
 * - a workload reaches each workload it USES, on all the ports of that one's pods. A
 *   workload uses another when a value it reads names the other as a host: a word of an
 *   env value, of a config value one of its env vars, files or envFrom reads, or of its
 *   command and args, is the other's name, or that name followed by '.' (its DNS name
 *   in the namespace, or the cluster's); and a service with a database uses MySQL, one
 *   with broker RabbitMQ, MySQL's init Job uses MySQL.
 * Each reachable workload gets <name>-ingress (from whom, on which ports) and each user
 * <name>-egress (to whom): both ends must allow a connection. Pods are selected by their
 * stable selector labels (name and instance).
 *
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_NETPOL_H
#define MANIFESTD_RENDER_NETPOL_H

#include "render_common.h"

/* Appends the NetworkPolicies of r to out (a NODE_SEQ). 0 or -ENOMEM. */
int netpol_build(struct arena *a, const struct render *r, struct node *out);

#endif

/* docmigrate: stored documents carried from one shape of the document to the next, so
 * that a database written by an earlier release resolves and renders the same objects
 * after an upgrade. The store's migrations call it (an SQL function over every stack,
 * environment and history row); each step is a pure function of a document.
 *
 * Shapes: 1 is the document of the releases up to schema migration 0005 (one-port
 * services with HTTP probes {"path"} completed from a built-in "/actuator/health", one
 * ingress {host, path, service, tls}); 2 is the general workload model of server/schema.json
 * (probes {"httpGet": {"path"}} among other kinds, a TCP check by default; ingress rules).
 *
 * Ownership: documents are borrowed and changed in place; nothing is kept. */
#ifndef MANIFESTD_DOCMIGRATE_H
#define MANIFESTD_DOCMIGRATE_H

#include <jansson.h>

/* Rewrites doc (a shape-1 stack document, or with stack given, an environment of that
 * stack; any layer may also be a masked copy as history keeps) into shape 2, in place:
 * - every probe {"path": p, ...} becomes {"httpGet": {"path": p}, ...};
 * - a probe that shape 1 completed with the built-in path gets it written down
 *   ({"httpGet": {"path": "/actuator/health"}}) where no lower layer (the stack, for an
 *   environment; serviceDefaults, for a service) gives a path: in a stack,
 *   serviceDefaults' readiness and liveness are written down when absent, since shape 1
 *   gave every service those two;
 * - ingress {host, path, service, tls} becomes ingress.rules.main; a stack whose ingress
 *   was disabled by default says so ({"enabled": false}), since shape 2 enables it.
 * A document that is not an object, or members of unexpected types, are left as they are
 * (what the store holds was valid when written). stack is the shape-1 stack document
 * (borrowed) when doc is an environment, NULL when doc is a stack. 0 or -ENOMEM. */
int docmigrate_v2(json_t *doc, const json_t *stack);

#endif

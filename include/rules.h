/* rules: what a resolved document must satisfy across its fields, beyond the shape,
 * types, formats and ranges the schema checks: references (config and secret keys,
 * volumes, ports, services, the backend of every ingress rule), what each kind of
 * workload allows, requests within limits, names that would clash, extra objects that
 * name what they are. docs/schema.md lists every rule.
 *
 * Both functions take the document model_resolve() builds (borrowed; member types may
 * still be wrong where schema_validate() reported it: such members are skipped) and
 * append problems with their JSON Pointers and sentences. References from disabled
 * services are not followed, so a disabled service may name a key this environment lacks.
 * Pure: no I/O. */
#ifndef MANIFESTD_RULES_H
#define MANIFESTD_RULES_H

#include <jansson.h>

#include "model.h"

/* Every broken rule appended to errs. 0 or -ENOMEM. */
int rules_check(const json_t *doc, struct model_errors *errs);

/* What a change from the resolved document old to new (both borrowed) asks of objects
 * that already run, and Kubernetes refuses: a persistent volume's StorageClass or access
 * mode changed, or its size shrunk (claims only grow), for a service, MySQL or RabbitMQ
 * enabled in both. Each is a problem at the new document's pointer with what to do
 * instead. 0 or -ENOMEM. */
int rules_check_change(const json_t *old, const json_t *new, struct model_errors *errs);

/* What is allowed but deserves a warning (running as root), appended to warnings.
 * 0 or -ENOMEM. */
int rules_warnings(const json_t *doc, struct model_errors *warnings);

#endif

/* components: the instances of catalog types in a document (/components) expanded into
 * ordinary services, so render never knows what MySQL is (docs/components.md).
 *
 * components_expand() runs inside model_resolve(), after layering and before defaults
 * and validation of services, on the document being resolved (changed in place):
 * - each instance's params are completed (the type's defaults; string defaults may name
 *   ${name}) and checked against the type, its secrets against /secrets, and written
 *   back, resolved, into /components/<name>;
 * - each enabled instance becomes the service <name> (the type's workload with its
 *   placeholders expanded); a type with provisioning also gives the ConfigMap
 *   <name>-provision (in /extraObjects: the files, head + each consumer + tail) and the
 *   service <name>-provision of kind Job that applies them, with the credentials it
 *   applies as files in CREDENTIALS_PATH and a checksum/provision annotation on its pods;
 * - each enabled service's /uses is checked and completed with the type's consumer
 *   params; its pods wait for what it uses (an init container wait-for-<name> before its
 *   own); its env takes outputs: {"component", "output"} and ${components.NAME.OUTPUT} in
 *   values become plain values or secretKeyRefs, a secret-bearing value a hidden
 *   secretKeyRef variable MANIFESTD_<NAME>_<SECRET> placed before it and $(VAR) in the
 *   value, never the secret itself;
 * - ${components.NAME.OUTPUT} in /config values becomes the output's text (outputs that
 *   are secret or depend on a consumer are refused there).
 * An env var or credential file reading an optional secret the stack does not have is
 * left out. Every problem is appended with its JSON Pointer; what a broken instance
 * would give is left out, so its problem is reported once.
 * Services and members the document shares with serviceDefaults are copied before they
 * change. Pure: no I/O. */
#ifndef MANIFESTD_COMPONENTS_H
#define MANIFESTD_COMPONENTS_H

#include <jansson.h>

#include "catalog.h"
#include "model.h"

/* Where a provisioning Job finds the credentials it applies, one file per key. */
#define COMPONENTS_CREDENTIALS_PATH "/run/manifestd/credentials"
/* The image of the init containers that wait for a component. */
#define COMPONENTS_WAIT_IMAGE "busybox:1.36.1"

/* Expands the components of doc (a layered document: services merged with
 * serviceDefaults, defaults not yet filled) in place, with the types of cat. 0 (errs may
 * have grown: the document is then invalid) or -ENOMEM. */
int components_expand(json_t *doc, const struct catalog *cat, struct model_errors *errs);

/* The problems of errs from index from on that are about the workload (or provisioning
 * Job) of an instance of doc's /components, said of the instance: a pointer into the
 * service /services/<name>[-provision] below a whole "${params.P}" of the type's
 * template becomes /components/<name>/P... (a smaller volume of MySQL is reported at
 * /components/mysql/storage/size); another gets "(the workload of component "<name>")"
 * after its sentence. doc (borrowed) is a resolved document. 0 or -ENOMEM. */
int components_point(const struct catalog *cat, const json_t *doc, struct model_errors *errs, size_t from);

#endif

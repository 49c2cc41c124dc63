/* catalog: component types (docs/components.md): what a database, cache or broker runs
 * and how services use it, as data. A type document (the def componentType of
 * server/schema.json) declares the instance's params, what a consuming service passes
 * (consumer), the credentials it keeps in the stack's secrets, the workload an instance
 * becomes, its per-consumer provisioning (files and a Job) and its outputs. The
 * built-in types are server/catalog/<type>.json, embedded at build time; platform teams
 * add or override types through the API (stored in the database, include/store.h).
 *
 * Invariants:
 * - A struct catalog is a set of compiled types, sorted by name, read-only once built
 *   and shared by threads. catalog_builtin() lives as long as the process; a catalog
 *   from catalog_new() holds the built-in types it does not override (shared with
 *   catalog_builtin()) and its own compiled stored ones, until catalog_free().
 * - A compiled type's params and consumer are schema nodes (include/schema.h): params
 *   hold the type's params and one string param per secret (the key of the stack's
 *   secrets holding it); its def is the document completed with componentType's defaults.
 * - A stored type that no longer compiles (a later schema) stays in the catalog with
 *   its problem, so a stack using it is told why instead of "unknown type".
 * Pure but for the one-time load of the built-in types: no I/O, no logging. */
#ifndef MANIFESTD_CATALOG_H
#define MANIFESTD_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "schema.h"

/* Instance members that are not params (the def component of schema.json). */
#define CATALOG_RESERVED_PARAMS {"type", "enabled", "provisionRun"}

/* One compiled type. Everything is borrowed from the catalog that holds it. */
struct catalog_type {
	const char *name;
	const json_t *doc;                  /* the document as written */
	const json_t *def;                  /* completed with componentType's defaults */
	bool builtin;                       /* one of server/catalog/ (not overridden) */
	const struct schema_node *params;   /* an object node; NULL when problem is set */
	const struct schema_node *consumer; /* an object node; NULL when problem is set */
	const char *problem;                /* a stored type that does not compile: why */
};

struct catalog;

/* The built-in types, compiled on first use; NULL only when one of them is broken (a
 * build defect the tests catch; the reason goes to stderr once) or memory ran out. */
const struct catalog *catalog_builtin(void);

/* The built-in types overridden and completed by stored ones: stored is an object
 * {type name: type document} (borrowed; NULL or empty: *ret is catalog_builtin()).
 * 0 and *ret (free with catalog_free), or -ENOMEM. */
int catalog_new(const json_t *stored, struct catalog **ret);
/* Frees c; accepts NULL and catalog_builtin() (which it leaves alone). */
void catalog_free(const struct catalog *c);

/* The type called name in c, or NULL. */
const struct catalog_type *catalog_find(const struct catalog *c, const char *name);
/* The number of types of c, and the type at index i (sorted by name; NULL out of range). */
size_t catalog_count(const struct catalog *c);
const struct catalog_type *catalog_at(const struct catalog *c, size_t i);
/* The closest type name to name in c, for "did you mean"; NULL when none is close. */
const char *catalog_closest(const struct catalog *c, const char *name);
/* Appends the type names of c, joined by ", ", to out. 0 or -ENOMEM. */
int catalog_names(const struct catalog *c, struct buf *out);

/* Checks a type document before it is stored as name (borrowed): its shape against
 * componentType, its params and consumer as schema nodes, the names it reserves, its
 * placeholders, its outputs, and then an instance with the default params used by a
 * service with the default consumer params, resolved as a stack would be (so the
 * workload, the provisioning Job and the outputs are checked as services). Every
 * problem is appended to errs with a JSON Pointer into the type document. 0,
 * MODEL_EINVALID or -ENOMEM. */
int catalog_check(const char *name, const json_t *doc, struct model_errors *errs);

#endif

/* compose: a docker-compose file -> a stack document, an environment document and a
 * report of everything that could not be mapped (docs/api.md, "Import from
 * docker-compose", lists the mapping rule by rule).
 *
 * The YAML is read by yamlin (include/yamlin.h: libyaml's parser, merge keys, YAML 1.2
 * scalars) within limits: at most COMPOSE_MAX_BYTES of input, COMPOSE_MAX_DEPTH levels of
 * nesting and COMPOSE_MAX_NODES nodes counted after alias expansion.
 *
 * Nothing here knows any particular stack: datastore images are matched by importkit's
 * one image table (importkit_datastore) to components of the built-in catalog's types;
 * every other service is an application service. The report's items are {"path",
 * "kind": "guess" | "unmapped", "detail"}.
 *
 * Ownership: the result's members are owned by the result (compose_result_release). */
#ifndef MANIFESTD_COMPOSE_H
#define MANIFESTD_COMPOSE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define COMPOSE_MAX_BYTES (1024 * 1024)
#define COMPOSE_MAX_DEPTH 64
#define COMPOSE_MAX_NODES 100000

struct compose_result {
	json_t *stack;       /* the stack document (secret keys with "" values) */
	json_t *environment; /* image.tag and the secret values */
	json_t *report;      /* [{"path": JSON Pointer into the compose document, "detail"}] */
};

void compose_result_release(struct compose_result *r);

/* Parses one YAML document into JSON (a new reference in *ret_doc): yamlin_parse with the
 * limits above; the same errors. */
int compose_parse_yaml(const char *text, size_t len, struct buf *err, json_t **ret_doc);

/* Converts a parsed compose document (borrowed). 0 and *ret filled; -EINVAL with a reason in err when the document is not a compose
 * file (not a mapping, no services mapping, no service that becomes an application);
 * -ENOMEM. */
int compose_convert(const json_t *compose, struct buf *err, struct compose_result *ret);

/* compose_parse_yaml, then compose_convert. */
int compose_import(const char *text, size_t len, struct buf *err, struct compose_result *ret);

#endif

/* compose: a docker-compose file -> a stack document, an environment document and a
 * report of everything that could not be mapped (docs/api.md, "Import from
 * docker-compose", lists the mapping rule by rule).
 *
 * The YAML is read with libyaml's parser (events), never by hand, within limits: at most
 * COMPOSE_MAX_BYTES of input, COMPOSE_MAX_DEPTH levels of nesting and COMPOSE_MAX_NODES
 * nodes counted after alias expansion (so "billion laughs" documents are refused before
 * they cost anything: an alias shares the anchored value, it is not copied). Merge keys
 * ("<<: *defaults") are honoured, explicit keys winning. Plain scalars become null
 * ("", ~, null), booleans (true/false), integers, or strings; quoted scalars stay strings.
 *
 * Nothing here knows any particular stack: images are matched by their repository name
 * (mysql, mariadb, rabbitmq, openzipkin/zipkin) to the built-in components.
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

/* Parses one YAML document into JSON (a new reference in *ret_doc). On failure a
 * one-line reason goes to err (with line and column for syntax errors) and it returns
 * -EINVAL (not YAML, several documents, a key that is not a scalar, a duplicate key, an
 * unknown alias), -E2BIG (a limit above) or -ENOMEM. */
int compose_parse_yaml(const char *text, size_t len, struct buf *err, json_t **ret_doc);

/* Converts a parsed compose document (borrowed). 0 and *ret filled; -EINVAL with a reason in err when the document is not a compose
 * file (not a mapping, no services mapping, no service that becomes an application);
 * -ENOMEM. */
int compose_convert(const json_t *compose, struct buf *err, struct compose_result *ret);

/* compose_parse_yaml, then compose_convert. */
int compose_import(const char *text, size_t len, struct buf *err, struct compose_result *ret);

#endif

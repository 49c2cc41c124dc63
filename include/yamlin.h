/* yamlin: YAML text in, JSON values out, for the importers (compose, manifests).
 *
 * The text is read with libyaml's event parser, never by hand, within the limits the
 * caller gives: at most max_bytes of input, max_depth levels of nesting and max_nodes
 * nodes in all, counted after alias expansion (so "billion laughs" documents are refused
 * before they cost anything: an alias shares the anchored value, it is not copied).
 * Merge keys ("<<: *defaults") are honoured, explicit keys winning. Anchors are local to
 * their document. Mapping keys are taken as written (strings); a key that is not a
 * scalar, a duplicate key, an unknown alias and a NUL character in a scalar are errors.
 *
 * Plain scalars (quoted and tagged ones always stay strings) resolve by one of two
 * schemas:
 * - YAML 1.2 core (the default): null ("", ~, null), booleans (true/false in three
 *   spellings), decimal integers within +-2^53; anything else, floats included, stays a
 *   string ("0.5").
 * - YAMLIN_YAML11, as Kubernetes reads manifests (YAML 1.1): also yes/no/on/off/y/n as
 *   booleans, 0644 as octal (420), 0x1F, 0b101, '_' between digits (1_000), and floats
 *   (0.5, 1e3 are JSON reals; .inf and .nan, which JSON lacks, stay strings). Timestamps
 *   and 12:30:00 stay strings.
 *
 * Every allocation goes through jansson's allocator (json_set_alloc_funcs), except
 * libyaml's own, whose failures are reported as -ENOMEM too. No I/O, no global state. */
#ifndef MANIFESTD_YAMLIN_H
#define MANIFESTD_YAMLIN_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

enum yamlin_flags {
	YAMLIN_YAML11 = 1 << 0, /* plain scalars as YAML 1.1 (Kubernetes) reads them */
};

struct yamlin_opts {
	size_t max_bytes; /* input size */
	size_t max_depth; /* nesting levels of mappings and sequences (1 to 4096) */
	size_t max_nodes; /* scalars, mappings and sequences, aliases expanded, in all documents */
	unsigned flags;   /* enum yamlin_flags */
};

/* Reads text (len bytes, no NUL needed) as exactly one YAML document; its value becomes a
 * new reference in *ret_value. On failure a one-line reason goes to err (with line and
 * column for syntax errors) and it returns -EINVAL (not YAML, no document or several, a
 * key that is not a scalar, a duplicate key, an unknown alias, a NUL in a scalar), -E2BIG
 * (a limit of o) or -ENOMEM. */
int yamlin_parse(const char *text, size_t len, const struct yamlin_opts *o, struct buf *err,
		 json_t **ret_value);

/* Reads text as a stream of any number of documents (at least one). *ret_docs becomes a
 * new array with one value per document, in order (an empty document, such as the one
 * between two "---" lines, is null). When ret_spans is not NULL, *ret_spans becomes a new
 * array of [start, end] byte offsets of each document in text (start at its "---" or its
 * first token, so comments after "---" lie inside). Same errors as yamlin_parse, except
 * that several documents are expected. Nothing is written on failure. */
int yamlin_parse_stream(const char *text, size_t len, const struct yamlin_opts *o, struct buf *err,
			json_t **ret_docs, json_t **ret_spans);

#endif

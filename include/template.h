/* template: the ${...} placeholders of component types (docs/components.md), expanded in
 * JSON values. One mechanism for a type's workload, provisioning files and outputs.
 *
 * A placeholder is `${path}` or `${filter:path}`. path is a root and member names joined
 * by '.': `name` (the instance's name), `service` (the consuming service's name),
 * `params.storage.size`, `consumer.database`, `secret.password` (what that is is the
 * caller's: see template_ctx.secret). A string that is exactly one placeholder without a
 * filter takes the JSON value at path (a number, an object...); otherwise each placeholder
 * is replaced by the text of its value (a string, or an integer or boolean written out)
 * through its filter:
 *   sh          one shell word in single quotes ('\'' for a quote); an array of strings
 *               or numbers: one word each, separated by spaces
 *   sql_ident   a MySQL identifier in backquotes (`` for a backquote)
 *   pg_ident    a PostgreSQL identifier in double quotes ("" for a double quote)
 *   sql_string  an SQL string literal in single quotes ('' and \\ doubled)
 *   json        a JSON string literal, quotes included; any other value as compact JSON
 *   snake       lowercased, each character other than a letter, digit or '_' as '_'
 *               ("order-service" -> "order_service")
 *   url         percent-encoded for a URL (RFC 3986: all but letters, digits, -._~)
 *   text        as it is: for a number or boolean alone that must stay text ("${text:params.port}")
 * `$${` writes a literal `${`. Object keys are not expanded.
 *
 * A condition: an object {"$if": "${params.X}", "then": A, "else": B} (X a boolean param;
 * consumer works too) anywhere in the value is A or B expanded, the other branch not
 * looked at; an absent branch removes the member or array item it stands for, and an
 * array branch inside an array is spliced into it (["a", {"$if": ..., "then": ["b",
 * "c"]}] is ["a", "b", "c"] or ["a"]). template_check checks both branches.
 *
 * Pure: no I/O. Inputs are borrowed; results are new references the caller owns. */
#ifndef MANIFESTD_TEMPLATE_H
#define MANIFESTD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "buf.h"
#include "model.h"

/* What placeholders may name. Any member may be NULL: its root is then unknown. */
struct template_ctx {
	const char *name;        /* ${name} */
	const json_t *params;    /* ${params....} */
	const json_t *consumer;  /* ${consumer....} */
	/* ${secret.X}: called with X; appends the text that stands for it to out and returns
	 * 0, or -ENOENT when X is not a secret of the type, or another negative errno. NULL:
	 * secret placeholders are unknown. */
	int (*secret)(void *cls, const char *key, struct buf *out);
	void *cls;
	const char *service;     /* ${service} */
};

/* Returned (with the problem in errs) when a placeholder is malformed, names an unknown
 * root, filter or member, or a value that is not text where text is needed. */
#define TEMPLATE_EINVALID MODEL_EINVALID

/* in with every placeholder of every string expanded, recursively, into *ret (a new
 * reference). Problems go to errs at the segments at, then the path inside in. 0,
 * TEMPLATE_EINVALID (errs filled, *ret untouched) or -ENOMEM. */
int template_expand(const json_t *in, const struct template_ctx *ctx, struct model_errors *errs,
		    const char *const *at, json_t **ret);

/* The text of s with its placeholders expanded, appended to out (all placeholders are
 * text here, even alone). 0, TEMPLATE_EINVALID (a sentence in errs at pointer) or a buf
 * error. */
int template_text(const char *s, const struct template_ctx *ctx, struct buf *out, struct model_errors *errs,
		  const char *const *at);

/* The boolean the condition cond ("${params.X}", a boolean) names, into *ret. 0, or
 * TEMPLATE_EINVALID (a sentence in errs at at) or -ENOMEM. */
int template_condition(const char *cond, const struct template_ctx *ctx, struct model_errors *errs,
		       const char *const *at, bool *ret);

/* Checks the placeholders of every string in in without values: well formed, a known
 * root among the NULL-terminated roots (e.g. {"name", "params", NULL}), a known filter.
 * For a type document when it is stored. 0, TEMPLATE_EINVALID (errs filled) or -ENOMEM. */
int template_check(const json_t *in, const char *const *roots, struct model_errors *errs, const char *const *at);

#endif

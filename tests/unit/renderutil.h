/* renderutil: documents written inline and rendered, for the suites of render's modules.
 * Documents are JSON text with ' for " (so that tests read like the JSON they mean).
 * Every function fails the running Check test on error instead of returning one. */
#ifndef MANIFESTD_TEST_RENDERUTIL_H
#define MANIFESTD_TEST_RENDERUTIL_H

#include <jansson.h>

#include "model.h"
#include "render.h"

/* The stack "shop" and environment "prod" every bundle here is rendered as. */
extern const struct render_meta renderutil_meta;

/* JSON text with ' for ", parsed; the caller json_decref()s. */
json_t *renderutil_json(const char *text);

/* The resolved document of stack <- env (texts as renderutil_json; env may be NULL);
 * model_resolve must accept it. The caller json_decref()s. */
json_t *renderutil_resolve(const char *stack, const char *env);

/* Every file of the bundle of stack <- env: {"00-namespace.yaml": [objects...], ...} in
 * file order; render_new must accept it. The caller json_decref()s. */
json_t *renderutil_bundle(const char *stack, const char *env);

/* The problems render_new reports for stack <- env, as "POINTER: detail" lines (one
 * string, malloc'd, the caller frees); render_new must return MODEL_EINVALID. */
char *renderutil_errors(const char *stack, const char *env);

/* Fails the test unless got equals the JSON value of want_text (as renderutil_json). */
void renderutil_assert_json(const json_t *got, const char *want_text);

/* The object of kind and name in a bundle (borrowed), or NULL. */
json_t *renderutil_find(const json_t *files, const char *kind, const char *name);

/* The value at a JSON Pointer (RFC 6901, "~1" for '/') in v, borrowed; NULL when absent. */
json_t *renderutil_at(const json_t *v, const char *pointer);

/* The string at pointer in v, or NULL. */
const char *renderutil_str(const json_t *v, const char *pointer);

#endif

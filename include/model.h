/* model: the stack/environment document (docs/schema.md is its user manual).
 *
 * A stack and an environment are JSON objects of the same shape. model_resolve() layers
 * built-in defaults <- stack <- environment <- overrides with RFC 7386 JSON Merge Patch,
 * normalises (serviceDefaults merged under every service, config scalars turned into
 * strings, defaults filled in) and validates the result, collecting every problem with
 * its JSON Pointer. The resolved document is what render consumes: every field named in
 * docs/schema.md is present with its final value, so render never applies a default.
 *
 * Ownership: functions taking `const json_t *` borrow; functions returning json_t * in a
 * ret_ parameter hand over one reference the caller json_decref()s.
 * Sharing: the documents model_resolve() and the model_mask_* functions return never
 * share an object or array with their inputs, but their scalar values (strings, numbers,
 * booleans) may be the very jansson values of the inputs or of built-in defaults shared by
 * the process, and a resolved document's absent members are filled with the schema's
 * completed defaults themselves (objects and arrays too, schema_complete_shared), shared
 * by every document on every thread. Nothing in manifestd changes a jansson
 * scalar in place (json_string_set and the like): replace a member with json_object_set*()
 * instead. Within one resolved document, services share the objects serviceDefaults gave
 * them unchanged (resources, probes, ...): a resolved document is read-only; copy what
 * you would change. */
#ifndef MANIFESTD_MODEL_H
#define MANIFESTD_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

/* Returned when the document is well-formed JSON but breaks a rule; the errors list says why. */
#define MODEL_EINVALID (-1000)

/* Limits on what a user controls (each breach is one validation error); the number of
 * entries of each map is the schema's (maxEntries in server/schema.json). */
#define MODEL_MAX_STRING 65536	/* bytes of any string value or map key */
#define MODEL_MAX_DEPTH 32	/* nesting of objects/arrays in each input (top level = 1) */

/* One validation problem: a JSON Pointer (RFC 6901, "" for the whole document) and a
 * sentence for a person, e.g. pointer "/services/order-service/replicas",
 * detail "must be an integer from 0 to 1000, got -2". */
struct model_error {
	char *pointer;
	char *detail;
};

/* A growable list of problems, owned by the caller. */
struct model_errors {
	struct model_error *items;
	size_t count;
	size_t cap;
};

void model_errors_init(struct model_errors *e);
/* Frees every item; e is empty afterwards and may be reused. */
void model_errors_release(struct model_errors *e);
/* Appends one problem. The pointer is copied, the detail formatted. 0 or -ENOMEM. */
int model_errors_add(struct model_errors *e, const char *pointer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A new JSON array [{"pointer": ..., "detail": ...}, ...]; NULL on allocation failure. */
json_t *model_errors_json(const struct model_errors *e);
/* Appends one problem whose pointer is made of the NULL-terminated segments at, then the
 * NULL-terminated segments segs (either may be NULL), each escaped per RFC 6901: the
 * pointer is only built when there is something to report. 0 or -ENOMEM. */
int model_errors_at(struct model_errors *e, const char *const *at, const char *const *segs,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Segments inline: MODEL_PTR("services", name, "replicas"). */
#define MODEL_PTR(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Quoting user text in a message (include/util.h UTIL_CLIP). */
#define MODEL_CLIP(s) UTIL_CLIP(s)
/* One more than the edit distance at which a known name is offered as "did you mean". */
size_t model_suggest_limit(const char *word);
/* The member name of obj closest to word, for "did you mean"; NULL when none is close. */
const char *model_closest_key(const json_t *obj, const char *word);

/* A copy of v for a document being built: objects are copied member by member (every
 * failure reported, unlike json_copy), arrays deeply, and scalars are shared (nothing in
 * manifestd changes a jansson scalar in place; values are replaced). A new reference;
 * NULL on allocation failure. */
json_t *model_copy(const json_t *v);

/* RFC 7386: applies patch (borrowed) to *target in place; null members delete, objects
 * merge, anything else replaces with a copy. When patch is not an object, *target is
 * replaced by a copy of it. *target may be NULL (treated as absent). 0 or -ENOMEM; on
 * -ENOMEM *target is still a valid value the caller owns, possibly partly patched. */
int model_merge_patch(json_t **target, const json_t *patch);

/* Adds to *patch (an object, created when NULL) the merge patch that sets the value at
 * pointer, e.g. "/services/order-service/replicas" -> {"services":{"order-service":
 * {"replicas": value}}}. value is borrowed (copied in; a null value makes a deleting patch).
 * Tokens are decoded per RFC 6901 (~1 -> '/', ~0 -> '~'); intermediate non-objects in
 * *patch are replaced by objects. 0; -EINVAL (nothing changed) when the pointer is not
 * "/..." with valid escapes and at most MODEL_MAX_DEPTH tokens, or *patch is not an
 * object; -ENOMEM. */
int model_patch_set(json_t **patch, const char *pointer, const json_t *value);

/* Resolves and validates. stack is required; env and overrides may be NULL (or JSON null).
 * env_name names the environment (used for the default namespace <stack>-<env>); when
 * NULL the default namespace is <stack>. stack_name also names the default TLS secret
 * <stack>-tls. All inputs are borrowed and left unchanged.
 * On success returns 0 and *ret_doc (errs untouched). On invalid input returns
 * MODEL_EINVALID with every problem appended to errs (pointers are into the resolved
 * document, which has the same shape as the environment and the overrides; a problem that
 * came from serviceDefaults is reported on each service it was merged into). -ENOMEM
 * otherwise (errs may hold some problems found so far; *ret_doc untouched).
 * Each service is serviceDefaults <- its entry in stack <- env <- overrides, so a null in
 * a service removes a value serviceDefaults would give it. Cross-references (config and
 * secret keys, databases, broker) are checked for enabled services only. */
int model_resolve(const char *stack_name, const json_t *stack, const char *env_name,
		  const json_t *env, const json_t *overrides, struct model_errors *errs,
		  json_t **ret_doc);

struct catalog;
/* model_resolve with the component types of cat (include/catalog.h: the built-in types
 * and those stored in the database); model_resolve uses the built-in ones. Instances of
 * /components are expanded into services (include/components.h) after layering, before
 * defaults and validation, so their workloads are completed and checked like any
 * service. cat is borrowed. */
int model_resolve_in(const struct catalog *cat, const char *stack_name, const json_t *stack,
		     const char *env_name, const json_t *env, const json_t *overrides,
		     struct model_errors *errs, json_t **ret_doc);

/* Appends to errs what changing a running environment from what stack_name/old_stack <-
 * env_name/old_env resolve to (borrowed; either NULL: nothing ran before, 0) into the
 * resolved document new (borrowed) asks that Kubernetes refuses (include/rules.h
 * rules_check_change: a claim's class, access mode, or a smaller size). A former pair that
 * no longer resolves (a rule added since) is not compared. Every write that replaces an
 * environment's document or its stack's calls it (and a change of the catalog, with the
 * types before it as cat). The former pair resolves with the component types of cat
 * (NULL: the built-in ones). 0, MODEL_EINVALID or -ENOMEM. */
int model_check_change(const struct catalog *cat, const char *stack_name, const json_t *old_stack,
		       const char *env_name, const json_t *old_env, const json_t *new, struct model_errors *errs);

/* Appends to warnings what a valid resolved document does that deserves a second look
 * (a service that runs as root, a secret or an image tag that still holds an import's
 * MODEL_PLACEHOLDER, ...): each a pointer and a sentence, as errors are. The
 * API sends them in Warning headers, the bundle README lists them. 0 or -ENOMEM. */
int model_warnings(const json_t *doc, struct model_errors *warnings);

/* Checks a document that is about to be stored, without layering: that it is an object,
 * within the limits, uses only known fields (with "did you mean") and has the right JSON
 * types. Nothing is required, null is accepted anywhere (a deletion), config and secret
 * values may still be integers or booleans, a secret may be {"set": bool} (as masked), and
 * values are not checked (ranges, names, references: that is model_resolve's job). Used
 * for PUT/PATCH bodies before the full model_resolve(). 0, MODEL_EINVALID (errs filled) or
 * -ENOMEM. */
int model_check_shape(const json_t *doc, struct model_errors *errs);

/* A copy of doc (borrowed) with every member of doc.secrets replaced by {"set": bool}:
 * false for "" and null, true otherwise. Other fields are copied unchanged. The caller
 * json_decref()s the result; NULL only on allocation failure (or when doc is NULL). */
json_t *model_mask_secrets(const json_t *doc);

/* What an import writes where its source gives no usable value: a secret it cannot read,
 * the tag of an untagged image. model_warnings() names every one still in a document. */
#define MODEL_PLACEHOLDER "change-me"

/* What every secret value becomes in model_mask_secret_values(). */
#define MODEL_SECRET_MASK "(masked)"
/* A copy of doc (borrowed; a stack, an environment or a merge patch of one) that renders
 * without secret values: every set secret becomes MODEL_SECRET_MASK, so the Secret's data
 * (even its base64) and the checksum annotations are the same whatever the values were.
 * "" and {"set": false} become "" (unset), null (a deletion in a patch) stays. The caller
 * json_decref()s the result; NULL only on allocation failure (or when doc is NULL). */
json_t *model_mask_secret_values(const json_t *doc);

/* true when the secret values live in this document (/secretSource/type "inline", the
 * default; also for a document without secretSource). doc is borrowed. */
bool model_secrets_inline(const json_t *doc);
/* true when rendering the resolved document doc puts secret values into the bundle:
 * secrets are inline and at least one is set. */
bool model_renders_secret_values(const json_t *doc);

#endif

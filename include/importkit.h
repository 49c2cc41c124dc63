/* importkit: what the importers (compose, manifests, Score) decide alike: which variables
 * hold secrets, under which key a secret value is kept, which value most services share,
 * how an image reference splits, what a name becomes as a service name, and which file a
 * document of a stream came from. Pure helpers over jansson values and strings; nothing
 * here knows an input format. */
#ifndef MANIFESTD_IMPORTKIT_H
#define MANIFESTD_IMPORTKIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* true when the environment variable's name says it holds a secret: it contains
 * PASSWORD, PASSWD, SECRET, TOKEN, KEY or CREDENTIAL, in any case (the words linters
 * look for; KEY also matches KEYCLOAK_URL, whose value then goes through the Secret). */
bool importkit_secret_name(const char *var);

/* The key under which values (a map of secret key -> value) holds value: a key that holds
 * it already, else VAR in lowercase with '_' -> '-', else SERVICE-var; a new key gets the
 * value. The key is left in key (reset first). 0, or -ENOMEM (a buf or jansson failure). */
int importkit_secret_key(json_t *values, const char *service, const char *var, const char *value, struct buf *key);

/* Adds one to counts[value] (counts: value -> integer). 0 or -ENOMEM. */
int importkit_count(json_t *counts, const char *value);

/* The value of counts counted most, the first on ties, when it is counted at least
 * at_least times; else NULL. Borrowed from counts. */
const char *importkit_most(const json_t *counts, json_int_t at_least);

/* An image reference split into its parts (fixed sizes: each is bounded by the reference
 * grammar's limits; a longer part makes importkit_image_split fail). */
struct importkit_image {
	char registry[256];
	char repository[256];
	char tag[129];
	char digest[72];
};

/* Splits [registry/]repository[:tag][@digest] into *img. The first component is a registry
 * when it has a '.' or ':' or is "localhost"; docker.io and index.docker.io become "" and
 * Docker Hub's library/NAME becomes NAME. false when a part is too long. */
bool importkit_image_split(const char *ref, struct importkit_image *img);

/* The last path component of img's repository ("bitnami/mysql" -> "mysql"); borrowed. */
const char *importkit_image_base(const struct importkit_image *img);

/* The service name for in: lowercase, '_' and '.' -> '-', into out. "" when it cannot be a
 * DNS label starting with a letter. */
void importkit_service_name(const char *in, char out[64]);

/* Puts the registry and tag counted most (registries, tags: value -> count) at the top of
 * the stack (image.registry) and the environment (image.tag); each service of services
 * (stack.services, borrowed) keeps its own only when it differs ("" -> docker.io, since ""
 * would inherit). 0 or -ENOMEM. */
int importkit_settle_images(json_t *stack, json_t *env, json_t *services, const json_t *registries,
			    const json_t *tags);

/* The path after "# Source: " on a line of text[start, end), appended to out (nothing when
 * there is none). 0 or -ENOMEM. */
int importkit_source_of(const char *text, size_t start, size_t end, struct buf *out);

#endif

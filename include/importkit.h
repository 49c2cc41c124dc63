/* importkit: what the importers (compose, manifests) decide alike: which variables hold
 * secrets, under which key a secret value is kept, and which value most services share.
 * Pure helpers over jansson values; nothing here knows either input format. */
#ifndef MANIFESTD_IMPORTKIT_H
#define MANIFESTD_IMPORTKIT_H

#include <jansson.h>
#include <stdbool.h>

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

#endif

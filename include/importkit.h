/* importkit: what the importers (compose, manifests) decide alike: which variables hold
 * secrets, under which key a secret value is kept, which value most services share, and
 * which images are datastores the catalog has a type for (the one image table).
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

/* The key under which values (a map of secret key -> value) holds value: with share, a
 * key that holds it already; else VAR in lowercase with '_' -> '-', else SERVICE-var (a
 * placeholder value is not shared: pass share false); a new key gets the value. The key
 * is left in key (reset first). 0, or -ENOMEM (a buf or jansson failure). */
int importkit_secret_key(json_t *values, const char *service, const char *var, const char *value, bool share,
			 struct buf *key);

/* Adds one to counts[value] (counts: value -> integer). 0 or -ENOMEM. */
int importkit_count(json_t *counts, const char *value);

/* The value of counts counted most, the first on ties, when it is counted at least
 * at_least times; else NULL. Borrowed from counts. */
const char *importkit_most(const json_t *counts, json_int_t at_least);

/* A datastore image recognised by importkit_datastore. */
struct importkit_datastore {
	const char *type;   /* the catalog type: mysql, mariadb, postgres, redis, mongodb,
			     * rabbitmq, kafka, memcached, zipkin (static text) */
	char tag[129];      /* the tag the component runs: the input's, made to fit the type
			     * (see why); "" for the type's default */
	const char *why;    /* NULL when tag is the input's; else why it is not (static text,
			     * a sentence to put after "the component runs ...") */
};

/* Whether the image registry/repository:tag (registry "" or docker.io for Docker Hub;
 * tag "" when none) is one of the official images of a catalog type: mysql, mariadb,
 * postgres, redis, mongo, rabbitmq, memcached, openzipkin/zipkin, apache/kafka. Only
 * those: other builds (bitnami/..., alpine variants) run with other uids and paths than
 * the type's workload. The tag is kept when its version is one the type's workload runs
 * (its probe, its uid, its tools: MongoDB 6 and later have mongosh, RabbitMQ needs the
 * -management build for provisioning) and its variant is the Debian one the type
 * assumes; "15-alpine" becomes "15", "3.12" becomes "3.12-management", an older version
 * or no version the type's default (""), each with why. true and *ret filled, or
 * false. */
bool importkit_datastore(const char *registry, const char *repository, const char *tag,
			 struct importkit_datastore *ret);

#endif

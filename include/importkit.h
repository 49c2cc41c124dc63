/* importkit: what the importers (compose, manifests, Score) decide alike: which variables
 * hold secrets, under which key a secret value is kept, which value most services share,
 * which images are datastores the catalog has a type for (the one image table), how an
 * image reference splits, what a name becomes as a service name, and which file a
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

/* ---- datastores as components (both importers) ---- */

/* What a variable of a datastore's official image says (MYSQL_ROOT_PASSWORD, POSTGRES_DB,
 * RABBITMQ_DEFAULT_USER...). IMPORTKIT_OTHER for a variable the table does not know. */
enum importkit_store_role {
	IMPORTKIT_OTHER,
	IMPORTKIT_ROOT_PASSWORD,  /* the administrator's password */
	IMPORTKIT_PASSWORD,       /* the password clients give */
	IMPORTKIT_BOTH_PASSWORDS, /* both (POSTGRES_PASSWORD: the superuser is the clients' user) */
	IMPORTKIT_DATABASE,       /* the database clients use: a consumer param */
	IMPORTKIT_USER,           /* the user clients log in as: a consumer param */
	IMPORTKIT_ADMIN_USER,     /* the administrator's name: the instance's param user */
};

/* The role of the variable var of a datastore's image. */
enum importkit_store_role importkit_store_role(const char *var);

/* Whether a password variable of role sets the type's secret ("rootPassword" or
 * "password"). */
bool importkit_role_sets(enum importkit_store_role role, const char *secret);

/* Whether the built-in catalog's type declares member in section ("secrets",
 * "consumer", "params"). */
bool importkit_type_has(const char *type, const char *section, const char *member);

/* The key of the stack's secrets the importers give the component name's secret
 * ("rootPassword" -> NAME-root-password, "password" -> NAME-password), into key (reset
 * first). 0 or -ENOMEM. */
int importkit_store_secret_key(const char *name, const char *secret, struct buf *key);

/* The component instance {"type", "image"?} of a recognised datastore image whose
 * repository is repository (a new reference; NULL when out of memory). The image is
 * set only when ds->tag is not the type's default (""). */
json_t *importkit_store_instance(const struct importkit_datastore *ds, const char *repository);

/* A database or user name the types take: lowercase letters, digits and '_', 1 to max
 * characters. */
bool importkit_db_identifier(const char *s, size_t max);

/* The database and user a consumer's own env names (each "" when none). */
struct importkit_db_guess {
	char name[65];
	char user[33];
};

/* Looks at one variable of a consumer's env: a database URL ("jdbc:mysql://h/orders",
 * "postgres://u:p@db/app", "mongodb://db/shop") or *DB_NAME, *DATABASE_NAME, *_DATABASE
 * give the database; *DB_USER, *DB_USERNAME, *DATASOURCE_USERNAME, MYSQL_USER,
 * POSTGRES_USER (not root) the user. The first found of each is kept in g. */
void importkit_db_guess(struct importkit_db_guess *g, const char *var, const char *value);

/* The consumer params of a service's use of a component of type (a new object; NULL
 * when out of memory): its database and user from the service's own env (own), else
 * those the datastore's env gave (plan: {"database"?, "user"?}, may be NULL), each only
 * when the type takes it. */
json_t *importkit_use(const char *type, const struct importkit_db_guess *own, const json_t *plan);

/* Whether value names host as a whole word (a host name character -- letter, digit,
 * '_', '-', '.' -- on neither side): "db:5432", "postgres://u@db/app" name db, "mydb"
 * does not. An empty host names nothing. */
bool importkit_names_host(const char *value, const char *host);

/* In resources ({"requests", "limits"} of cpu and memory quantities, as the importers
 * write them), a request above its limit is lowered to the limit: Kubernetes refuses such a
 * pod, and the document too. lowered[0] (cpu) and lowered[1] (memory) say which were.
 * 0, or -ENOMEM. */
int importkit_fit_requests(json_t *resources, bool lowered[2]);
/* What the importers report of each request importkit_fit_requests lowered. */
#define IMPORTKIT_ABOVE_LIMIT "is above its limit: the request is the limit (Kubernetes refuses a request above its limit)"

#endif

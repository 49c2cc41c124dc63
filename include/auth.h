/* auth: API tokens and roles.
 *
 * Invariants:
 * - A token is "mfd_" + 64 hex digits (32 random bytes). Only its SHA-256 (hex) is stored
 *   (table tokens, via store_token_*); the token itself is shown once, when created.
 * - Roles are ordered: viewer < editor < admin. A route that needs role R accepts any
 *   token whose role is R or higher. AUTH_PUBLIC routes need no token.
 *   viewer: read stacks and environments, render bundles that hold no secret values;
 *   editor: also write environments and render with secret values;
 *   admin: also write and delete stacks (tokens are managed with `manifestd token`).
 * - Checking a token costs one indexed lookup by hash and a constant-time compare of the
 *   hashes; last_used is written at most once a minute per token. */
#ifndef MANIFESTD_AUTH_H
#define MANIFESTD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct store;
struct store_conn;

enum auth_role {
	AUTH_PUBLIC = 0, /* no token needed */
	AUTH_VIEWER,
	AUTH_EDITOR,
	AUTH_ADMIN,
};

#define AUTH_TOKEN_PREFIX "mfd_"
#define AUTH_NAME_MAX 64

/* Who made a request. */
struct auth_identity {
	char name[AUTH_NAME_MAX + 1]; /* the token's name */
	enum auth_role role;
};

/* "viewer", "editor", "admin" ("public" for AUTH_PUBLIC). */
const char *auth_role_name(enum auth_role role);
/* Parses a role name (not "public"). 0 and *ret, or -EINVAL. */
int auth_role_parse(const char *name, enum auth_role *ret);
/* true when name is a token name: 1-64 of [a-z0-9._-], starting with a letter or digit. */
bool auth_name_valid(const char *name);

/* SHA-256 hex of a token (64 hex digits + NUL). */
void auth_token_hash(const char *token, char out[65]);

/* Creates a token called name with role and stores its hash through c (autocommit);
 * appends the token to ret_token. 0, -EINVAL (bad name or role), -EEXIST, -EIO, -ENOMEM. */
int auth_token_issue(struct store_conn *c, const char *name, enum auth_role role,
		     struct buf *ret_token);

/* When no token exists, issues the admin token "admin" and appends it to ret_token:
 * returns 1. 0 when tokens exist already (nothing done; also when another process
 * sharing the database issued it meanwhile), negative on failure. */
int auth_bootstrap(struct store *s, struct buf *ret_token);

/* Checks an Authorization header value ("Bearer <token>"; NULL when absent).
 * 0 and *ret; -EACCES when it is missing, malformed, unknown or revoked; -EIO. */
int auth_authenticate(struct store *s, const char *authorization, struct auth_identity *ret);

#endif

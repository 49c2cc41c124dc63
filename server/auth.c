/* auth: API tokens (random, stored as SHA-256), roles, and the check of a bearer token
 * against the tokens table. */
#include "auth.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store.h"
#include "util.h"

#define TOKEN_BYTES 32
#define TOUCH_EVERY_SECONDS 60

static const char *const role_names[] = {
	[AUTH_PUBLIC] = "public", [AUTH_VIEWER] = "viewer", [AUTH_EDITOR] = "editor",
	[AUTH_ADMIN] = "admin"};

const char *auth_role_name(enum auth_role role)
{
	return role <= AUTH_ADMIN ? role_names[role] : "unknown";
}

int auth_role_parse(const char *name, enum auth_role *ret)
{
	for (enum auth_role r = AUTH_VIEWER; r <= AUTH_ADMIN; r++) {
		if (name && strcmp(name, role_names[r]) == 0) {
			*ret = r;
			return 0;
		}
	}
	return -EINVAL;
}

bool auth_name_valid(const char *name)
{
	size_t n = 0;
	if (!name)
		return false;
	for (; name[n]; n++) {
		char c = name[n];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (n >= AUTH_NAME_MAX || !(alnum || (n > 0 && (c == '-' || c == '.' || c == '_'))))
			return false;
	}
	return n > 0;
}

void auth_token_hash(const char *token, char out[65])
{
	util_sha256_hex(token, strlen(token), out);
}

int auth_token_issue(struct store_conn *c, const char *name, enum auth_role role,
		     struct buf *ret_token)
{
	if (!auth_name_valid(name) || role < AUTH_VIEWER || role > AUTH_ADMIN)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	unsigned char raw[TOKEN_BYTES];
	char hex[2 * TOKEN_BYTES + 1], token[sizeof AUTH_TOKEN_PREFIX + 2 * TOKEN_BYTES], hash[65];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	memcpy(token, AUTH_TOKEN_PREFIX, sizeof AUTH_TOKEN_PREFIX - 1);
	memcpy(token + sizeof AUTH_TOKEN_PREFIX - 1, hex, sizeof hex);
	auth_token_hash(token, hash);
	int r = store_token_create(c, name, auth_role_name(role), hash);
	if (r == 0)
		r = buf_puts(ret_token, token);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(token, sizeof token);
	return r;
}

int auth_bootstrap(struct store *s, struct buf *ret_token)
{
	struct store_conn *c = NULL;
	long long n = 0;
	int r = store_acquire(s, &c);
	if (r == 0)
		r = store_begin(c);
	if (r == 0)
		r = store_token_count(c, &n);
	if (r == 0 && n == 0)
		r = auth_token_issue(c, "admin", AUTH_ADMIN, ret_token);
	if (r == 0)
		r = store_commit(c);
	store_release(c);
	if (r == -EEXIST)
		return 0; /* another replica on the same database issued it at the same moment */
	return r < 0 ? r : n == 0;
}

/* The token of "Bearer <token>" (scheme case-insensitive), borrowed; NULL otherwise. */
static const char *bearer(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	const char *t = authorization + 7;
	while (*t == ' ')
		t++;
	size_t n = strlen(t);
	while (n > 0 && t[n - 1] == ' ')
		n--;
	if (n != sizeof AUTH_TOKEN_PREFIX - 1 + 2 * TOKEN_BYTES || t[n] != '\0' ||
	    strncmp(t, AUTH_TOKEN_PREFIX, sizeof AUTH_TOKEN_PREFIX - 1) != 0)
		return NULL;
	return t;
}

/* true when last_used ("2026-11-24T01:02:03Z" or "") is older than a minute. */
static bool stale(const char *last_used)
{
	char limit[32];
	time_t t = time(NULL) - TOUCH_EVERY_SECONDS;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(limit, sizeof limit, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strcmp(last_used, limit) < 0;
}

int auth_authenticate(struct store *s, const char *authorization, struct auth_identity *ret)
{
	const char *token = bearer(authorization);
	if (!token)
		return -EACCES;
	char hash[65];
	auth_token_hash(token, hash);
	struct store_conn *c = NULL;
	struct store_token t;
	enum auth_role role;
	int r = store_acquire(s, &c);
	if (r == 0)
		r = store_token_find(c, hash, &t);
	if (r == -ENOENT || (r == 0 && (sodium_memcmp(t.hash, hash, 64) != 0 ||
					auth_role_parse(t.role, &role) < 0)))
		r = -EACCES;
	if (r == 0 && stale(t.last_used))
		(void)store_token_touch(c, t.name);
	store_release(c);
	if (r < 0)
		return r;
	memcpy(ret->name, t.name, strlen(t.name) + 1);
	ret->role = role;
	return 0;
}

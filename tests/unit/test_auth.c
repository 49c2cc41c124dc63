/* test_auth: roles and token names, issuing a token (shown once, stored hashed),
 * authenticating a bearer header (valid, unknown, malformed, revoked), last use, and the
 * first-start admin token. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "store.h"
#include "suites.h"

static char dir[64];
static struct store *store;

static void setup(void)
{
	memcpy(dir, "/tmp/manifestd-auth-XXXXXX", sizeof "/tmp/manifestd-auth-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct buf p, err;
	buf_init(&p, 256);
	buf_init(&err, 1024);
	ck_assert_int_eq(buf_printf(&p, "%s/t.db", dir), 0);
	ck_assert_int_eq(store_open(&(struct store_options){buf_cstr(&p), 2, NULL, NULL}, &err, &store), 0);
	buf_release(&p);
	buf_release(&err);
}

static void teardown(void)
{
	store_free(store);
	store = NULL;
	struct buf cmd;
	buf_init(&cmd, 256);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
}

static void issue(const char *name, enum auth_role role, struct buf *token)
{
	struct store_conn *c = NULL;
	buf_init(token, 256);
	ck_assert_int_eq(store_acquire(store, &c), 0);
	ck_assert_int_eq(auth_token_issue(c, name, role, token), 0);
	store_release(c);
}

static int check(const char *header, struct auth_identity *who)
{
	return auth_authenticate(store, header, who);
}

static void bearer(struct buf *h, const char *token)
{
	buf_init(h, 256);
	ck_assert_int_eq(buf_printf(h, "Bearer %s", token), 0);
}

START_TEST(roles_and_names)
{
	enum auth_role r;
	ck_assert_int_eq(auth_role_parse("viewer", &r), 0);
	ck_assert_int_eq(r, AUTH_VIEWER);
	ck_assert_int_eq(auth_role_parse("admin", &r), 0);
	ck_assert_int_eq(r, AUTH_ADMIN);
	ck_assert_int_eq(auth_role_parse("public", &r), -EINVAL);
	ck_assert_int_eq(auth_role_parse("Admin", &r), -EINVAL);
	ck_assert_int_eq(auth_role_parse(NULL, &r), -EINVAL);
	ck_assert_str_eq(auth_role_name(AUTH_EDITOR), "editor");
	ck_assert(AUTH_VIEWER < AUTH_EDITOR && AUTH_EDITOR < AUTH_ADMIN);
	ck_assert(auth_name_valid("ci-prod"));
	ck_assert(auth_name_valid("a.b_c"));
	ck_assert(!auth_name_valid(""));
	ck_assert(!auth_name_valid("-x"));
	ck_assert(!auth_name_valid("CI"));
	ck_assert(!auth_name_valid("a b"));
	ck_assert(!auth_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
}
END_TEST

START_TEST(issued_token_authenticates_with_its_role)
{
	struct buf token, h;
	issue("ci-prod", AUTH_EDITOR, &token);
	ck_assert_uint_eq(token.len, strlen(AUTH_TOKEN_PREFIX) + 64);
	ck_assert_int_eq(strncmp(buf_cstr(&token), AUTH_TOKEN_PREFIX, 4), 0);
	bearer(&h, buf_cstr(&token));
	struct auth_identity who;
	ck_assert_int_eq(check(buf_cstr(&h), &who), 0);
	ck_assert_str_eq(who.name, "ci-prod");
	ck_assert_int_eq(who.role, AUTH_EDITOR);
	ck_assert_int_eq(check("bearer   " "x", &who), -EACCES);
	/* the stored row holds the hash, not the token */
	struct store_conn *c = NULL;
	struct store_token t;
	char hash[65];
	auth_token_hash(buf_cstr(&token), hash);
	ck_assert_int_eq(store_acquire(store, &c), 0);
	ck_assert_int_eq(store_token_find(c, hash, &t), 0);
	ck_assert_str_eq(t.name, "ci-prod");
	ck_assert_str_ne(t.hash, buf_cstr(&token) + 4);
	ck_assert_str_ne(t.last_used, ""); /* touched by the check */
	ck_assert_int_eq(auth_token_issue(c, "ci-prod", AUTH_VIEWER, &h), -EEXIST);
	ck_assert_int_eq(auth_token_issue(c, "Bad Name", AUTH_VIEWER, &h), -EINVAL);
	ck_assert_int_eq(auth_token_issue(c, "x", AUTH_PUBLIC, &h), -EINVAL);
	store_release(c);
	buf_release(&token);
	buf_release(&h);
}
END_TEST

START_TEST(bad_headers_and_revoked_tokens_are_refused)
{
	struct buf token, h;
	issue("dash", AUTH_VIEWER, &token);
	struct auth_identity who;
	ck_assert_int_eq(check(NULL, &who), -EACCES);
	ck_assert_int_eq(check("", &who), -EACCES);
	ck_assert_int_eq(check(buf_cstr(&token), &who), -EACCES); /* no scheme */
	buf_init(&h, 256);
	ck_assert_int_eq(buf_printf(&h, "Basic %s", buf_cstr(&token)), 0);
	ck_assert_int_eq(check(buf_cstr(&h), &who), -EACCES);
	buf_reset(&h);
	/* one character changed */
	char *t = strdup(buf_cstr(&token));
	t[10] = t[10] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(buf_printf(&h, "Bearer %s", t), 0);
	ck_assert_int_eq(check(buf_cstr(&h), &who), -EACCES);
	free(t);
	buf_reset(&h);
	ck_assert_int_eq(buf_printf(&h, "bearer %s", buf_cstr(&token)), 0); /* scheme is case-insensitive */
	ck_assert_int_eq(check(buf_cstr(&h), &who), 0);
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(store, &c), 0);
	ck_assert_int_eq(store_token_revoke(c, "dash"), 0);
	ck_assert_int_eq(store_token_revoke(c, "dash"), -ENOENT);
	store_release(c);
	ck_assert_int_eq(check(buf_cstr(&h), &who), -EACCES);
	buf_release(&token);
	buf_release(&h);
}
END_TEST

START_TEST(bootstrap_issues_one_admin_token_once)
{
	struct buf token, again, h;
	buf_init(&token, 256);
	buf_init(&again, 256);
	ck_assert_int_eq(auth_bootstrap(store, &token), 1);
	ck_assert_uint_gt(token.len, 0);
	ck_assert_int_eq(auth_bootstrap(store, &again), 0);
	ck_assert_uint_eq(again.len, 0);
	bearer(&h, buf_cstr(&token));
	struct auth_identity who;
	ck_assert_int_eq(check(buf_cstr(&h), &who), 0);
	ck_assert_str_eq(who.name, "admin");
	ck_assert_int_eq(who.role, AUTH_ADMIN);
	struct store_conn *c = NULL;
	json_t *items = NULL;
	ck_assert_int_eq(store_acquire(store, &c), 0);
	ck_assert_int_eq(store_token_list(c, &items), 0);
	store_release(c);
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "role")), "admin");
	json_decref(items);
	buf_release(&token);
	buf_release(&again);
	buf_release(&h);
}
END_TEST

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, roles_and_names);
	tcase_add_test(tc, issued_token_authenticates_with_its_role);
	tcase_add_test(tc, bad_headers_and_revoked_tokens_are_refused);
	tcase_add_test(tc, bootstrap_issues_one_admin_token_once);
	suite_add_tcase(s, tc);
	return s;
}

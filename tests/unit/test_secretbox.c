/* test_secretbox: sealing and opening (additional data binds, tampering is caught), key
 * text forms, the 0600 key file, and the store's secrets at rest: sealed in the raw
 * rows, opened for callers, refused under another key, re-encrypted by store_rekey. */
#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secretbox.h"
#include "store.h"
#include "suites.h"

static unsigned char key[SECRETBOX_KEY_BYTES], other[SECRETBOX_KEY_BYTES];
static char dir[64];

static void setup(void)
{
	ck_assert_int_eq(secretbox_init(), 0);
	secretbox_key_generate(key);
	secretbox_key_generate(other);
	memcpy(dir, "/tmp/manifestd-sbox-XXXXXX", sizeof "/tmp/manifestd-sbox-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	struct buf cmd;
	buf_init(&cmd, 256);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
}

static void path_in(struct buf *b, const char *name)
{
	buf_init(b, 512);
	ck_assert_int_eq(buf_printf(b, "%s/%s", dir, name), 0);
}

START_TEST(seal_open_round_trip_and_binding)
{
	struct buf sealed, again, plain;
	buf_init(&sealed, BUF_NO_MAX);
	buf_init(&again, BUF_NO_MAX);
	buf_init(&plain, BUF_NO_MAX);
	const char ad[] = "stack\0shop\0prod\0jwt";
	ck_assert_int_eq(secretbox_seal(key, ad, sizeof ad, "hunter2", 7, &sealed), 0);
	ck_assert(secretbox_is_sealed(buf_cstr(&sealed)));
	ck_assert_ptr_null(strstr(buf_cstr(&sealed), "hunter2"));
	ck_assert_int_eq(secretbox_seal(key, ad, sizeof ad, "hunter2", 7, &again), 0);
	ck_assert_str_ne(buf_cstr(&sealed), buf_cstr(&again)); /* a fresh nonce each time */
	ck_assert_int_eq(secretbox_open(key, ad, sizeof ad, buf_cstr(&sealed), &plain), 0);
	ck_assert_str_eq(buf_cstr(&plain), "hunter2");
	/* another key, another place (ad), or a flipped byte: does not open */
	buf_reset(&plain);
	ck_assert_int_eq(secretbox_open(other, ad, sizeof ad, buf_cstr(&sealed), &plain), -EBADMSG);
	const char ad2[] = "stack\0shop\0dev\0jwt";
	ck_assert_int_eq(secretbox_open(key, ad2, sizeof ad2, buf_cstr(&sealed), &plain), -EBADMSG);
	sealed.data[10] = sealed.data[10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(secretbox_open(key, ad, sizeof ad, buf_cstr(&sealed), &plain), -EBADMSG);
	ck_assert_int_eq(secretbox_open(key, ad, sizeof ad, "v1:short", &plain), -EINVAL);
	ck_assert_int_eq(secretbox_open(key, ad, sizeof ad, "plain text", &plain), -EINVAL);
	/* the empty value seals too */
	buf_reset(&sealed);
	buf_reset(&plain);
	ck_assert_int_eq(secretbox_seal(key, "", 0, "", 0, &sealed), 0);
	ck_assert_int_eq(secretbox_open(key, "", 0, buf_cstr(&sealed), &plain), 0);
	ck_assert_uint_eq(plain.len, 0);
	buf_release(&sealed);
	buf_release(&again);
	buf_release(&plain);
}
END_TEST

START_TEST(key_text_forms)
{
	unsigned char k[SECRETBOX_KEY_BYTES];
	struct buf text;
	buf_init(&text, 128);
	ck_assert_int_eq(secretbox_key_format(key, &text), 0);
	ck_assert_int_eq(secretbox_key_parse(buf_cstr(&text), k), 0);
	ck_assert_mem_eq(k, key, sizeof k);
	char hex[2 * SECRETBOX_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, other, sizeof other);
	ck_assert_int_eq(secretbox_key_parse(hex, k), 0);
	ck_assert_mem_eq(k, other, sizeof k);
	ck_assert_int_eq(secretbox_key_parse("  abcd\n", k), -EINVAL);
	hex[5] = 'x';
	ck_assert_int_eq(secretbox_key_parse(hex, k), -EINVAL);
	ck_assert_int_eq(secretbox_key_parse("", k), -EINVAL);
	buf_release(&text);
}
END_TEST

START_TEST(key_file_created_0600_and_refused_when_readable)
{
	struct buf p, err;
	path_in(&p, "manifestd.key");
	buf_init(&err, 1024);
	unsigned char k[SECRETBOX_KEY_BYTES], k2[SECRETBOX_KEY_BYTES];
	bool created = false;
	ck_assert_int_eq(secretbox_key_load(NULL, buf_cstr(&p), false, k, &created, &err), -ENOENT);
	ck_assert_int_eq(secretbox_key_load(NULL, buf_cstr(&p), true, k, &created, &err), 0);
	ck_assert(created);
	struct stat st;
	ck_assert_int_eq(stat(buf_cstr(&p), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(secretbox_key_load(NULL, buf_cstr(&p), true, k2, &created, &err), 0);
	ck_assert(!created);
	ck_assert_mem_eq(k, k2, sizeof k);
	ck_assert_int_eq(secretbox_key_write(buf_cstr(&p), other, true, &err), -EEXIST);
	ck_assert_int_eq(secretbox_key_write(buf_cstr(&p), other, false, &err), 0);
	ck_assert_int_eq(secretbox_key_read(buf_cstr(&p), k2, &err), 0);
	ck_assert_mem_eq(k2, other, sizeof k2);
	ck_assert_int_eq(chmod(buf_cstr(&p), 0644), 0);
	buf_reset(&err);
	ck_assert_int_eq(secretbox_key_read(buf_cstr(&p), k2, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "chmod 600"));
	/* the variable wins over the file */
	char hex[2 * SECRETBOX_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	ck_assert_int_eq(secretbox_key_load(hex, "/nonexistent/x.key", true, k2, &created, &err), 0);
	ck_assert_mem_eq(k2, key, sizeof k2);
	buf_reset(&p);
	ck_assert_int_eq(secretbox_key_path_for("data/manifestd.db", &p), 0);
	ck_assert_str_eq(buf_cstr(&p), "data/manifestd.key");
	buf_release(&p);
	buf_release(&err);
}
END_TEST

/* ---- the store's secrets at rest ---- */

static int open_with(const char *db, const unsigned char *k, struct buf *err, struct store **ret)
{
	return store_open(&(struct store_options){db, 1, NULL, k}, err, ret);
}

/* The raw document column of environment name, as SQLite holds it (caller frees). */
static char *raw_env(const char *db, const char *name)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT document FROM environments WHERE stack = 'msa-shop' AND name = ?1",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	char *text = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return text;
}

static const char *prod_secret(struct store *s, const char *key_name, struct store_record *rec)
{
	struct store_conn *c = NULL;
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_env_get(c, "msa-shop", "prod", rec), 0);
	store_release(c);
	return json_string_value(json_object_get(json_object_get(rec->document, "secrets"), key_name));
}

START_TEST(store_seals_at_rest_and_rekeys)
{
	struct buf db, err;
	path_in(&db, "m.db");
	buf_init(&err, 1024);
	struct store *s = NULL;
	/* an old-style database: seeded in plaintext, no key */
	ck_assert_int_eq(open_with(buf_cstr(&db), NULL, &err, &s), 0);
	store_free(s);
	char *raw = raw_env(buf_cstr(&db), "prod");
	ck_assert_ptr_nonnull(strstr(raw, "prod-jwt-secret-change-me"));
	free(raw);
	/* opened with a key: sealed in the rows, plain for callers */
	ck_assert_int_eq(open_with(buf_cstr(&db), key, &err, &s), 0);
	raw = raw_env(buf_cstr(&db), "prod");
	ck_assert_ptr_null(strstr(raw, "change-me"));
	ck_assert_ptr_nonnull(strstr(raw, "\"sealed\":\"v1:"));
	free(raw);
	struct store_record rec = {0};
	ck_assert_str_eq(prod_secret(s, "jwt-secret", &rec), "prod-jwt-secret-change-me");
	store_record_release(&rec);
	/* a write is sealed too */
	struct store_conn *c = NULL;
	json_t *doc = json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:s}}", "image", "tag", "2.0.0", "secrets",
				"jwt-secret", "written-now", "mysql-password", "p2", "mysql-root-password",
				"p3", "rabbitmq-password", "");
	ck_assert_int_eq(store_acquire(s, &c), 0);
	ck_assert_int_eq(store_env_update(c, "msa-shop", "prod", doc, STORE_ANY_REVISION, "t", NULL), 0);
	store_release(c);
	raw = raw_env(buf_cstr(&db), "prod");
	ck_assert_ptr_null(strstr(raw, "written-now"));
	ck_assert_ptr_nonnull(strstr(raw, "\"rabbitmq-password\":\"\"")); /* empty: nothing to hide */
	free(raw);
	/* rekey: the rows change, the values stay */
	char *before = raw_env(buf_cstr(&db), "prod");
	ck_assert_int_eq(store_rekey(s, other, &err, NULL), 0);
	raw = raw_env(buf_cstr(&db), "prod");
	ck_assert_str_ne(raw, before);
	free(raw);
	free(before);
	ck_assert_str_eq(prod_secret(s, "jwt-secret", &rec), "written-now");
	store_record_release(&rec);
	store_free(s);
	/* the old key no longer opens the database; the new one does */
	s = NULL;
	buf_reset(&err);
	ck_assert_int_lt(open_with(buf_cstr(&db), key, &err, &s), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "do not open with this key"));
	ck_assert_int_eq(open_with(buf_cstr(&db), other, &err, &s), 0);
	ck_assert_str_eq(prod_secret(s, "mysql-password", &rec), "p2");
	store_record_release(&rec);
	store_free(s);
	json_decref(doc);
	buf_release(&db);
	buf_release(&err);
}
END_TEST

START_TEST(sealed_value_moved_to_another_key_does_not_open)
{
	struct buf db, err;
	path_in(&db, "m.db");
	buf_init(&err, 1024);
	struct store *s = NULL;
	ck_assert_int_eq(open_with(buf_cstr(&db), key, &err, &s), 0);
	store_free(s);
	/* copy the sealed jwt-secret of prod into dev's jwt-secret, behind the store's back */
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open(buf_cstr(&db), &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "UPDATE environments SET document = json_set(document, '$.secrets.jwt-secret', "
				      "json_extract((SELECT document FROM environments WHERE name = 'prod'), '$.secrets.jwt-secret')) "
				      "WHERE name = 'dev'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	buf_reset(&err);
	ck_assert_int_lt(open_with(buf_cstr(&db), key, &err, &s), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "environment 'dev'"));
	buf_release(&db);
	buf_release(&err);
}
END_TEST

Suite *secretbox_suite(void)
{
	Suite *s = suite_create("secretbox");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, seal_open_round_trip_and_binding);
	tcase_add_test(tc, key_text_forms);
	tcase_add_test(tc, key_file_created_0600_and_refused_when_readable);
	tcase_add_test(tc, store_seals_at_rest_and_rekeys);
	tcase_add_test(tc, sealed_value_moved_to_another_key_does_not_open);
	suite_add_tcase(s, tc);
	return s;
}

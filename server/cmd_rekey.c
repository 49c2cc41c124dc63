/* cmd_rekey: `manifestd rekey`: re-encrypts every stored secret under a new random key in
 * one transaction, then replaces the key file (or prints the new key when the old one
 * came from MANIFESTD_SECRET_KEY). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "secretbox.h"
#include "store.h"

static const char usage[] =
	"usage: manifestd rekey [--db PATH_OR_URL] [--key-file PATH]\n"
	"\n"
	"Re-encrypts every secret in the database under a new random key, in one transaction,\n"
	"and replaces the key file atomically. Stop the server first. The old key comes from\n"
	"MANIFESTD_SECRET_KEY when set (the new key is then printed on stdout: set\n"
	"MANIFESTD_SECRET_KEY to it), else from the key file (default: manifestd.key next to\n"
	"the database). The new key is first written to KEYFILE.new, which replaces KEYFILE\n"
	"once the database is committed; if rekey is interrupted in between, KEYFILE.new holds\n"
	"the key the database is encrypted with. With PostgreSQL (--db postgres://... or\n"
	"'host=... dbname=...') the key comes from MANIFESTD_SECRET_KEY or --key-file; stop\n"
	"every replica first and restart them all with the new key.\n";

struct rekey_args {
	const char *db;
	const char *key_file;
};

static int parse(int argc, char **argv, struct rekey_args *a)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'}, {"key-file", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'}, {0}};
	const char *env_db = getenv("MANIFESTD_DB"), *env_key = getenv("MANIFESTD_KEY_FILE");
	*a = (struct rekey_args){env_db && *env_db ? env_db : "./data/manifestd.db",
				 env_key && *env_key ? env_key : NULL};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'd')
			a->db = optarg;
		else if (c == 'k')
			a->key_file = optarg;
		else if (c == 'h')
			return 1;
		else
			return -EINVAL;
	}
	return optind == argc ? 0 : -EINVAL;
}

/* Re-encrypts under fresh with the store opened with old. */
static int rekey_db(const char *db, const unsigned char *old, const unsigned char *fresh,
		    struct buf *err)
{
	struct store *s = NULL;
	size_t count = 0;
	int r = store_open(&(struct store_options){db, 1, NULL, old}, err, &s);
	if (r == 0)
		r = store_rekey(s, fresh, err, &count);
	store_free(s);
	if (r == 0)
		fprintf(stderr, "manifestd: re-encrypted the secrets of %zu documents\n", count);
	return r;
}

int cmd_rekey(int argc, char **argv)
{
	struct rekey_args a;
	int r = parse(argc, argv, &a);
	if (r != 0) {
		fputs(usage, r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	unsigned char old[SECRETBOX_KEY_BYTES], fresh[SECRETBOX_KEY_BYTES];
	struct buf err, path, next, text;
	buf_init(&err, 4096);
	buf_init(&path, 4096);
	buf_init(&next, 4096);
	buf_init(&text, 128);
	const char *env_key = getenv("MANIFESTD_SECRET_KEY");
	bool created = false, staged = false;
	r = secretbox_init();
	if (r == 0 && !env_key && !a.key_file && store_kind_of(a.db) == STORE_POSTGRES) {
		(void)buf_puts(&err, "with PostgreSQL give the key by MANIFESTD_SECRET_KEY or --key-file");
		r = -EINVAL;
	}
	if (r == 0)
		r = a.key_file ? buf_puts(&path, a.key_file) : secretbox_key_path_for(a.db, &path);
	if (r == 0)
		r = buf_printf(&next, "%s.new", buf_cstr(&path));
	if (r == 0)
		r = secretbox_key_load(env_key, buf_cstr(&path), false, old, &created, &err);
	if (r < 0)
		goto out;
	secretbox_key_generate(fresh);
	if (!env_key) {
		r = secretbox_key_write(buf_cstr(&next), fresh, true, &err);
		if (r < 0)
			goto out;
		staged = true;
	}
	r = rekey_db(a.db, old, fresh, &err);
	if (r < 0)
		goto out;
	staged = false;
	if (env_key) {
		r = secretbox_key_format(fresh, &text);
		if (r == 0)
			printf("%s", buf_cstr(&text));
		fprintf(stderr, "manifestd: set MANIFESTD_SECRET_KEY to the new key printed on stdout\n");
	} else if (rename(buf_cstr(&next), buf_cstr(&path)) < 0) {
		r = -errno;
		(void)buf_printf(&err, "the database uses the new key, but '%s' could not replace "
				 "'%s' (%s): rename it yourself", buf_cstr(&next), buf_cstr(&path),
				 strerror(errno));
	} else {
		fprintf(stderr, "manifestd: new key written to %s\n", buf_cstr(&path));
	}
out:
	if (staged)
		(void)unlink(buf_cstr(&next));
	if (r < 0)
		fprintf(stderr, "manifestd rekey: %s\n", err.len ? buf_cstr(&err) : strerror(-r));
	sodium_memzero(old, sizeof old);
	sodium_memzero(fresh, sizeof fresh);
	if (text.data)
		sodium_memzero(text.data, text.len);
	buf_release(&text);
	buf_release(&next);
	buf_release(&path);
	buf_release(&err);
	return r < 0 ? 1 : 0;
}

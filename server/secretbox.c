/* secretbox: XChaCha20-Poly1305 sealing of secret values with additional data, and the
 * secret key: its text forms, the 0600 key file and MANIFESTD_SECRET_KEY. */
#include "secretbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64 sodium_base64_VARIANT_ORIGINAL
#define MAX_SEALED (16u * 1024 * 1024)

int secretbox_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void secretbox_key_generate(unsigned char key[SECRETBOX_KEY_BYTES])
{
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
}

/* s without surrounding white space: start and length. */
static const char *trim(const char *s, size_t *ret_len)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	*ret_len = n;
	return s;
}

int secretbox_key_parse(const char *text, unsigned char key[SECRETBOX_KEY_BYTES])
{
	size_t n, got = 0;
	const char *s = trim(text, &n), *end = NULL;
	unsigned char tmp[SECRETBOX_KEY_BYTES];
	int r = -EINVAL;
	if (n == 2 * SECRETBOX_KEY_BYTES)
		r = sodium_hex2bin(tmp, sizeof tmp, s, n, NULL, &got, &end) == 0 ? 0 : -EINVAL;
	else if (n == sodium_base64_ENCODED_LEN(SECRETBOX_KEY_BYTES, B64) - 1)
		r = sodium_base642bin(tmp, sizeof tmp, s, n, NULL, &got, &end, B64) == 0 ? 0 : -EINVAL;
	if (r == 0 && (got != SECRETBOX_KEY_BYTES || end != s + n))
		r = -EINVAL;
	if (r == 0)
		memcpy(key, tmp, sizeof tmp);
	sodium_memzero(tmp, sizeof tmp);
	return r;
}

int secretbox_key_format(const unsigned char key[SECRETBOX_KEY_BYTES], struct buf *out)
{
	char text[sodium_base64_ENCODED_LEN(SECRETBOX_KEY_BYTES, B64)];
	sodium_bin2base64(text, sizeof text, key, SECRETBOX_KEY_BYTES, B64);
	int r = buf_printf(out, "%s\n", text);
	sodium_memzero(text, sizeof text);
	return r;
}

int secretbox_key_read(const char *path, unsigned char key[SECRETBOX_KEY_BYTES], struct buf *err)
{
	char text[256];
	struct stat st;
	int r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT && err)
			(void)buf_printf(err, "cannot open the key file '%s': %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		r = -EPERM;
		if (err)
			(void)buf_printf(err, "the key file '%s' may be read by others: chmod 600 it", path);
		goto out;
	}
	ssize_t n = read(fd, text, sizeof text - 1);
	if (n < 0) {
		r = -errno;
		if (err)
			(void)buf_printf(err, "cannot read the key file '%s': %s", path, strerror(-r));
		goto out;
	}
	text[n] = '\0';
	r = secretbox_key_parse(text, key);
	if (r < 0 && err)
		(void)buf_printf(err, "the key file '%s' does not hold a key (32 bytes as base64 or hex)",
				 path);
out:
	sodium_memzero(text, sizeof text);
	close(fd);
	return r;
}

/* Writes all of b to fd. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int secretbox_key_write(const char *path, const unsigned char key[SECRETBOX_KEY_BYTES],
			bool exclusive, struct buf *err)
{
	struct buf tmp, text;
	buf_init(&tmp, 4096);
	buf_init(&text, 128);
	int fd = -1, r = buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (r == 0)
		r = secretbox_key_format(key, &text);
	if (r < 0)
		goto out;
	(void)unlink(buf_cstr(&tmp));
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || (r = write_all(fd, text.data, text.len)) < 0 ||
	    fsync(fd) < 0) {
		r = r < 0 ? r : -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	/* link() refuses an existing target: the exclusive create of the final name. */
	if (exclusive ? link(buf_cstr(&tmp), path) < 0 : rename(buf_cstr(&tmp), path) < 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		(void)unlink(buf_cstr(&tmp));
	if (r < 0 && err)
		(void)buf_printf(err, "cannot write the key file '%s': %s", path, strerror(-r));
	if (text.data)
		sodium_memzero(text.data, text.len);
	buf_release(&text);
	buf_release(&tmp);
	return r;
}

int secretbox_key_load(const char *env_value, const char *path, bool create,
		       unsigned char key[SECRETBOX_KEY_BYTES], bool *ret_created, struct buf *err)
{
	*ret_created = false;
	if (env_value) {
		int r = secretbox_key_parse(env_value, key);
		if (r < 0 && err)
			(void)buf_puts(err, "MANIFESTD_SECRET_KEY is not a key: give 32 bytes as 64 hex "
				       "digits or base64 (e.g. from 'openssl rand -base64 32')");
		return r;
	}
	int r = secretbox_key_read(path, key, err);
	if (r != -ENOENT)
		return r;
	if (!create) {
		if (err)
			(void)buf_printf(err, "no key file '%s' and no MANIFESTD_SECRET_KEY", path);
		return r;
	}
	unsigned char fresh[SECRETBOX_KEY_BYTES];
	secretbox_key_generate(fresh);
	r = secretbox_key_write(path, fresh, true, err);
	if (r == 0) {
		memcpy(key, fresh, sizeof fresh);
		*ret_created = true;
	}
	sodium_memzero(fresh, sizeof fresh);
	return r;
}

int secretbox_key_path_for(const char *db_path, struct buf *out)
{
	const char *slash = strrchr(db_path, '/');
	if (!slash)
		return buf_puts(out, "manifestd.key");
	int r = buf_append(out, db_path, (size_t)(slash - db_path) + 1);
	return r < 0 ? r : buf_puts(out, "manifestd.key");
}

int secretbox_seal(const unsigned char key[SECRETBOX_KEY_BYTES], const void *ad, size_t adlen,
		   const void *plain, size_t n, struct buf *out)
{
	if (n > MAX_SEALED)
		return -E2BIG;
	size_t raw_len = NONCE_BYTES + n + TAG_BYTES;
	size_t b64_len = sodium_base64_ENCODED_LEN(raw_len, B64);
	unsigned char *raw = malloc(raw_len);
	int r = raw ? buf_reserve(out, sizeof SECRETBOX_PREFIX + b64_len) : -ENOMEM;
	if (r < 0)
		goto out;
	randombytes_buf(raw, NONCE_BYTES);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + NONCE_BYTES, &clen, plain, n, ad, adlen,
						   NULL, raw, key);
	(void)buf_puts(out, SECRETBOX_PREFIX);
	sodium_bin2base64(out->data + out->len, b64_len, raw, raw_len, B64);
	out->len += b64_len - 1;
out:
	free(raw);
	return r;
}

int secretbox_open(const unsigned char key[SECRETBOX_KEY_BYTES], const void *ad, size_t adlen,
		   const char *sealed, struct buf *out)
{
	if (!secretbox_is_sealed(sealed))
		return -EINVAL;
	const char *b64 = sealed + strlen(SECRETBOX_PREFIX);
	size_t b64_len = strlen(b64), raw_len = 0;
	unsigned char *raw = malloc(b64_len);
	int r = raw ? 0 : -ENOMEM;
	if (r == 0 && (sodium_base642bin(raw, b64_len, b64, b64_len, NULL, &raw_len, NULL, B64) != 0 ||
		       raw_len < NONCE_BYTES + TAG_BYTES))
		r = -EINVAL;
	size_t n = raw_len - NONCE_BYTES - TAG_BYTES;
	if (r == 0)
		r = buf_reserve(out, n + 1);
	unsigned long long plen = 0;
	if (r == 0 && crypto_aead_xchacha20poly1305_ietf_decrypt(
			      (unsigned char *)out->data + out->len, &plen, NULL, raw + NONCE_BYTES,
			      raw_len - NONCE_BYTES, ad, adlen, raw, key) != 0)
		r = -EBADMSG;
	if (r == 0) {
		out->len += (size_t)plen;
		out->data[out->len] = '\0';
	}
	free(raw);
	return r;
}

bool secretbox_is_sealed(const char *s)
{
	size_t p = strlen(SECRETBOX_PREFIX);
	if (!s || strncmp(s, SECRETBOX_PREFIX, p) != 0)
		return false;
	size_t n = strlen(s + p);
	return n >= sodium_base64_ENCODED_LEN(NONCE_BYTES + TAG_BYTES, B64) - 1 && n % 4 == 0;
}

int secretbox_key_for(const char *db_path, bool local, const char *key_file, bool create,
		      unsigned char key[SECRETBOX_KEY_BYTES], bool *ret_created, struct buf *ret_path,
		      struct buf *err)
{
	struct buf path;
	buf_init(&path, 4096);
	const char *env_key = getenv("MANIFESTD_SECRET_KEY");
	int r = secretbox_init();
	if (r == 0 && !local && !key_file && !env_key) {
		(void)buf_puts(err, "with PostgreSQL every replica needs the same secret key: set "
			       "MANIFESTD_SECRET_KEY (32 bytes as base64 or hex, e.g. from 'openssl rand "
			       "-base64 32') or give --key-file");
		r = -EINVAL;
	}
	if (r == 0)
		r = key_file ? buf_puts(&path, key_file) : secretbox_key_path_for(db_path, &path);
	if (r == 0)
		r = secretbox_key_load(env_key, buf_cstr(&path), create && local, key, ret_created, err);
	if (r == 0 && ret_path && !env_key)
		r = buf_puts(ret_path, buf_cstr(&path));
	buf_release(&path);
	return r;
}

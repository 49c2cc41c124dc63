/* secretbox: secrets at rest. XChaCha20-Poly1305 (IETF AEAD, libsodium) under one 32-byte
 * key, and the key's text form, key file and environment variable.
 *
 * Invariants:
 * - A sealed value is the text "v1:" + base64(24-byte random nonce || ciphertext || tag).
 *   The additional data (ad) names where the value belongs (the store passes stack,
 *   environment and key name), so a ciphertext copied to another place does not open.
 * - A key's text form is 64 hex digits or 44 characters of standard base64; surrounding
 *   white space is ignored. A key file holds the base64 form and a newline, mode 0600.
 * - Key bytes are wiped (sodium_memzero) by whoever holds them when done.
 *
 * Errors: 0 ok; -EINVAL malformed input; -EBADMSG a sealed value that does not open
 * (wrong key, wrong ad, or tampered); -ENOMEM; -errno from the file system. */
#ifndef MANIFESTD_SECRETBOX_H
#define MANIFESTD_SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SECRETBOX_KEY_BYTES 32
#define SECRETBOX_PREFIX "v1:"

/* Initialises libsodium (idempotent, thread-safe). 0 or -EIO. */
int secretbox_init(void);

/* Fills key with random bytes. */
void secretbox_key_generate(unsigned char key[SECRETBOX_KEY_BYTES]);
/* Parses the text form of a key (hex or base64). 0 and key, or -EINVAL. */
int secretbox_key_parse(const char *text, unsigned char key[SECRETBOX_KEY_BYTES]);
/* Appends the base64 form of key and a newline to out. */
int secretbox_key_format(const unsigned char key[SECRETBOX_KEY_BYTES], struct buf *out);

/* Reads the key file at path. 0 and key; -ENOENT when missing; -EINVAL when it does not
 * hold a key; -EPERM when group or others may read it. A reason is appended to err. */
int secretbox_key_read(const char *path, unsigned char key[SECRETBOX_KEY_BYTES], struct buf *err);
/* Writes key to path atomically (a 0600 temporary file next to it, fsync, rename).
 * With exclusive, fails with -EEXIST when path exists. A reason is appended to err. */
int secretbox_key_write(const char *path, const unsigned char key[SECRETBOX_KEY_BYTES],
			bool exclusive, struct buf *err);
/* The key to use: env_value (MANIFESTD_SECRET_KEY) when not NULL, else the file at path,
 * created with a new random key when it does not exist and create is set
 * (*ret_created says so). A reason is appended to err on failure. */
int secretbox_key_load(const char *env_value, const char *path, bool create,
		       unsigned char key[SECRETBOX_KEY_BYTES], bool *ret_created, struct buf *err);
/* "<directory of db_path>/manifestd.key" into out. */
int secretbox_key_path_for(const char *db_path, struct buf *out);
/* The key of a database as every command finds it: MANIFESTD_SECRET_KEY when set, else
 * key_file, else (local: a SQLite file) manifestd.key next to db_path, created when create
 * and missing; a shared database (PostgreSQL, local false) needs one of the first two.
 * Calls secretbox_init. The file's path is appended to ret_path (may be NULL) when a file
 * is read. 0, or a negative errno with the reason in err. */
int secretbox_key_for(const char *db_path, bool local, const char *key_file, bool create,
		      unsigned char key[SECRETBOX_KEY_BYTES], bool *ret_created, struct buf *ret_path,
		      struct buf *err);

/* Seals n bytes of plain under key with the ad (adlen bytes, may hold NULs), appending
 * the sealed text to out. 0 or -ENOMEM/-E2BIG. */
int secretbox_seal(const unsigned char key[SECRETBOX_KEY_BYTES], const void *ad, size_t adlen,
		   const void *plain, size_t n, struct buf *out);
/* Opens sealed text, appending the plain bytes to out (NUL-terminated by buf).
 * 0, -EINVAL (not a sealed value), -EBADMSG (does not open), -ENOMEM. */
int secretbox_open(const unsigned char key[SECRETBOX_KEY_BYTES], const void *ad, size_t adlen,
		   const char *sealed, struct buf *out);
/* true when s looks like a sealed value (prefix and base64 of a plausible length). */
bool secretbox_is_sealed(const char *s);

#endif

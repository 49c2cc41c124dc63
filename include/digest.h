/* digest: the BLAKE2b-256 identity of a JSON value, computed by walking the tree (no text).
 *
 * Two values get the same digest exactly when they are equal as JSON values (json_equal:
 * member order of objects does not matter, 1 and 1.0 differ, as do "1" and 1). The bytes
 * hashed are a canonical encoding, pinned here because digests are stored and compared
 * across versions (annotations, cache keys):
 * (n is an unsigned LEB128 number: 7 bits a byte, least significant first, the high bit
 * set on every byte but the last)
 *   null 'n', true 't', false 'f'
 *   integer  'i' + n of the zigzag of the int64 (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...)
 *   real     'r' + the IEEE-754 binary64 bits as 8 bytes big-endian (-0.0 is written as 0.0)
 *   string   's' + n = byte length + the bytes
 *   array    'a' + n = element count + each element
 *   object   'o' + n = member count + for each member, keys in byte order (memcmp, a
 *            prefix first): 'k' + n = key length + key bytes, then the value
 * Every value is self-delimiting (tag, then lengths or counts), so distinct values never
 * share an encoding. */
#ifndef MANIFESTD_DIGEST_H
#define MANIFESTD_DIGEST_H

#include <jansson.h>
#include <stddef.h>

/* Deepest nesting of arrays/objects digest_json() walks (jansson's parser allows 2048). */
#define DIGEST_MAX_DEPTH 2048

/* Bytes of a digest: BLAKE2b (libsodium crypto_generichash, no key) with a 32-byte output. */
#define DIGEST_BYTES 32

/* BLAKE2b-256 (unkeyed, DIGEST_BYTES of output) of the canonical encoding of v (borrowed)
 * as 64 lowercase hex digits + NUL in ret_hex. 0; -EINVAL when v is NULL or nests deeper
 * than DIGEST_MAX_DEPTH; -ENOMEM (only for objects with many members); -EIO when libsodium
 * cannot initialise. ret_hex is written only on success. */
int digest_json(const json_t *v, char ret_hex[65]);
struct node;

/* digest_json(node_to_json(n)) of a render tree (include/node.h), without building the
 * JSON: a map is an object, a sequence an array; a map with a key twice is digested as
 * node_to_json makes it (the JSON is built then). 0; -EINVAL when n is NULL or nests
 * deeper than DIGEST_MAX_DEPTH; -ENOMEM; -EIO. Unlike node_to_json it does not refuse
 * strings that are not UTF-8 or reals that are not finite (render makes neither). */
int digest_node(const struct node *n, char ret_hex[65]);

/* BLAKE2b-256 (as digest_json) of the n bytes at data, as 64 lowercase hex digits + NUL
 * in ret_hex: for identities of text that is not a JSON value (cache keys). 0, or -EIO
 * when libsodium cannot initialise (ret_hex then unwritten). */
int digest_bytes(const void *data, size_t n, char ret_hex[65]);

#endif

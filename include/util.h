/* util: small checked helpers every module shares: number parsing, hashing, encoding,
 * and string predicates. No I/O, no global state. */
#ifndef MANIFESTD_UTIL_H
#define MANIFESTD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Parses all of s as a decimal integer in [min, max]. No sign-less garbage, no spaces,
 * no trailing characters. 0 and *ret_value set on success, -EINVAL or -ERANGE otherwise. */
int util_parse_int(const char *s, long long min, long long max, long long *ret_value);

/* SHA-256 of n bytes as 64 lowercase hex characters plus NUL written to out[65]. */
void util_sha256_hex(const void *data, size_t n, char out[65]);

/* Appends the standard base64 (RFC 4648, with padding) of n bytes to b. 0 or buf errors. */
int util_base64_append(struct buf *b, const void *data, size_t n);

/* Appends the bytes of the standard base64 text s (n bytes, with padding, no spaces) to b
 * (NUL-terminated after them, as every buf). 0, -EINVAL when s is not base64 (b keeps
 * its length), or buf errors. */
int util_base64_decode_append(struct buf *b, const char *s, size_t n);

/* The value of a hexadecimal digit (0-9, a-f, A-F), or -1 for any other character. */
int util_hex_digit(char c);

/* true when the n bytes at s are valid UTF-8 (shortest forms, no surrogates, nothing
 * above U+10FFFF) without a NUL: text jansson takes as a string. */
bool util_is_utf8(const char *s, size_t n);

/* Quoting user text in a message: UTIL_CLIP(s) expands to the three arguments of "%.*s%s":
 * at most 60 bytes of s (cut on a UTF-8 boundary) and "..." when cut. */
int util_clip(const char *s);
#define UTIL_CLIP(s) util_clip(s), (s), (strlen(s) > 60 ? "..." : "")

/* Copies the len bytes at src into dst (n bytes) with a NUL: false, and dst untouched,
 * when they do not fit. */
bool util_copy_str(char *dst, size_t n, const char *src, size_t len);

/* true when s is a DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1-63 characters. */
bool util_is_dns_label(const char *s);

/* Levenshtein distance between a and b, capped at cap (returns cap when larger).
 * Used for "did you mean" suggestions. */
size_t util_edit_distance(const char *a, const char *b, size_t cap);

/* Appends "/" and token escaped per RFC 6901 (~ -> ~0, / -> ~1) to b: one step of a
 * JSON Pointer. 0 or buf errors. */
int util_pointer_append(struct buf *b, const char *token);

/* Monotonic clock in nanoseconds. */
uint64_t util_now_ns(void);

#endif

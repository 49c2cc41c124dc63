/* util: checked number parsing, SHA-256 and base64 (libsodium), name predicates. */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int util_parse_int(const char *s, long long min, long long max, long long *ret_value)
{
	if (!s || !*s)
		return -EINVAL;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret_value = v;
	return 0;
}

void util_sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, data, n);
	sodium_bin2hex(out, 65, digest, sizeof digest);
}

int util_base64_append(struct buf *b, const void *data, size_t n)
{
	size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	int r = buf_reserve(b, need);
	if (r < 0)
		return r;
	sodium_bin2base64(b->data + b->len, need, data, n, sodium_base64_VARIANT_ORIGINAL);
	b->len += need - 1;
	return 0;
}

int util_base64_decode_append(struct buf *b, const char *s, size_t n)
{
	size_t max = n / 4 * 3 + 3;
	int r = buf_reserve(b, max);
	if (r < 0)
		return r;
	size_t len = 0;
	const char *end = NULL;
	if (sodium_base642bin((unsigned char *)b->data + b->len, max, s, n, NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + n) {
		b->data[b->len] = '\0';
		return -EINVAL;
	}
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int util_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool util_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p++;
		size_t more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 4;
		if (more == 4 || (size_t)(end - p) < more || c == 0)
			return false;
		unsigned v = more ? c & (0x3fu >> more) : c;
		for (size_t i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			v = v << 6 | (*p & 0x3fu);
		}
		static const unsigned least[] = {0, 0x80, 0x800, 0x10000};
		if (v < least[more] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return false;
	}
	return true;
}

bool util_is_dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

size_t util_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 128 || lb > 128)
		return cap;
	size_t row[129];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] < cap ? row[lb] : cap;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int util_pointer_append(struct buf *b, const char *token)
{
	int r = buf_puts(b, "/");
	for (const char *p = token; r == 0 && *p; p++)
		r = *p == '~' ? buf_puts(b, "~0") : *p == '/' ? buf_puts(b, "~1") : buf_append(b, p, 1);
	return r;
}

bool util_copy_str(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

int util_clip(const char *s)
{
	size_t n = strlen(s);
	if (n <= 60)
		return (int)n;
	n = 60;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

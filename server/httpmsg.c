/* httpmsg: the syntax and framing rules of a request message (RFC 9110, RFC 9112) checked
 * before routing, and the decoding of its request-target into path and query arguments. */
#include "httpmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Appends the sentence to detail; returns status. */
static unsigned say(struct buf *detail, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static unsigned say(struct buf *detail, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)buf_vprintf(detail, fmt, ap);
	va_end(ap);
	return status;
}

/* RFC 9110 section 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (!is_tchar(*c))
			return false;
	return true;
}

/* The first byte of a field value that is a control byte other than HTAB, or NULL. */
static const char *value_ctl(const char *v)
{
	for (const char *c = v; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return c;
	return NULL;
}

size_t httpmsg_unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r == '%' && (hi = util_hex_digit(r[1])) >= 0 && (lo = util_hex_digit(r[2])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Length of the "http://" or "https://" that starts an absolute-form target, or 0. */
static size_t scheme_length(const char *target, size_t len)
{
	if (len >= 7 && strncasecmp(target, "http://", 7) == 0)
		return 7;
	if (len >= 8 && strncasecmp(target, "https://", 8) == 0)
		return 8;
	return 0;
}

unsigned httpmsg_check_target(const char *target, size_t len, struct buf *detail)
{
	if (len > HTTPMSG_MAX_TARGET)
		return say(detail, 414, "the request target is %zu bytes long, more than the limit of "
			   STR(HTTPMSG_MAX_TARGET) " bytes", len);
	if (len == 0 || (target[0] != '/' && scheme_length(target, len) == 0))
		return say(detail, 400, "the request target must be a path starting with '/' (or an "
			   "absolute http URL)");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];
		if (c <= 0x20 || c == 0x7f)
			return say(detail, 400, "the request target holds a control byte or a space "
				   "(0x%02x) at byte %zu", c, i + 1);
		if (c == '%' && i + 2 < len && target[i + 1] == '0' && target[i + 2] == '0')
			return say(detail, 400, "the request target holds %%00 (a NUL byte) at byte %zu",
				   i + 1);
	}
	return 0;
}

int httpmsg_path(const char *target, size_t len, char **ret)
{
	size_t start = 0, skip = scheme_length(target, len);
	if (skip) {
		start = skip;
		while (start < len && target[start] != '/' && target[start] != '?')
			start++;
	} else if (len == 0 || target[0] != '/') {
		return -EINVAL;
	}
	size_t end = start;
	while (end < len && target[end] != '?')
		end++;
	bool root = end == start; /* "http://host" or "http://host?q" */
	char *path = malloc(end - start + 2);
	if (!path)
		return -ENOMEM;
	if (root)
		memcpy(path, "/", 2);
	else {
		memcpy(path, target + start, end - start);
		path[end - start] = '\0';
		(void)httpmsg_unescape(path);
	}
	*ret = path;
	return 0;
}

/* Decodes one query name or value in place: '+' is a space, then %XX. */
static void decode_query_part(char *s)
{
	for (char *c = s; *c; c++)
		if (*c == '+')
			*c = ' ';
	(void)httpmsg_unescape(s);
}

int httpmsg_parse_query(char *query, struct httpmsg_arg *args, size_t max, size_t *ret_n)
{
	size_t n = 0;
	char *p = query;
	while (*p) {
		char *amp = strchrnul(p, '&');
		char *next = *amp ? amp + 1 : amp;
		if (amp == p) {
			p = next;
			continue;
		}
		if (n == max) {
			*ret_n = n;
			return -E2BIG;
		}
		*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			decode_query_part(eq + 1);
		}
		decode_query_part(p);
		args[n].name = p;
		args[n].value = eq ? eq + 1 : "";
		n++;
		p = next;
	}
	*ret_n = n;
	return 0;
}

/* true when value is the one word "chunked" (any case). Not with whitespace after it:
 * libmicrohttpd 0.9 keeps that in the value and, not finding "chunked", would read the body
 * as one of unknown length, up to the connection's end (connection.c of 0.9.75,
 * parse_connection_headers()). */
static bool is_chunked(const char *value)
{
	return strcasecmp(value, "chunked") == 0;
}

/* true when value is 1 to 18 decimal digits. */
static bool is_length(const char *value)
{
	size_t n = strspn(value, "0123456789");
	return n > 0 && n <= 18 && value[n] == '\0';
}

/* Transfer-Encoding, Content-Length and Host (the fields themselves are well-formed). */
static unsigned check_framing(const struct httpmsg_head *h, struct buf *detail)
{
	const char *te = NULL, *cl = NULL;
	size_t nte = 0, nhost = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		if (strcasecmp(f->name, "Host") == 0) {
			nhost++;
		} else if (strcasecmp(f->name, "Transfer-Encoding") == 0) {
			nte++;
			te = te ? te : f->value;
		} else if (strcasecmp(f->name, "Content-Length") == 0) {
			if (!is_length(f->value))
				return say(detail, 400, "Content-Length must be a number of bytes, not '%s'",
					   f->value);
			if (cl && strcmp(cl, f->value) != 0)
				return say(detail, 400, "Content-Length is given more than once, with "
					   "different values");
			cl = f->value;
		}
	}
	if (te && h->version == 10)
		return say(detail, 400, "an HTTP/1.0 request cannot carry Transfer-Encoding");
	if (te && (nte > 1 || !is_chunked(te)))
		return say(detail, 400, "Transfer-Encoding must be 'chunked' alone (the only transfer "
			   "coding read here), not '%s'%s", te, nte > 1 ? " and more" : "");
	if (te && cl)
		return say(detail, 400, "a request cannot carry both Content-Length and "
			   "Transfer-Encoding");
	if (nhost > 1)
		return say(detail, 400, "the request carries %zu Host fields; one is allowed", nhost);
	if (nhost == 0 && h->version == 11)
		return say(detail, 400, "an HTTP/1.1 request needs a Host field");
	return 0;
}

unsigned httpmsg_check_head(const struct httpmsg_head *h, struct buf *detail)
{
	if (h->size > HTTPMSG_MAX_HEAD)
		return say(detail, 431, "the request line and header fields are %zu bytes, more than "
			   "the limit of " STR(HTTPMSG_MAX_HEAD) " bytes", h->size);
	if (h->nfields > HTTPMSG_MAX_FIELDS)
		return say(detail, 431, "the request has %zu header fields, more than the limit of "
			   STR(HTTPMSG_MAX_FIELDS), h->nfields);
	if (!is_token(h->method))
		return say(detail, 400, "the method is not a token (RFC 9110 section 9.1)");
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		if (!is_token(f->name))
			return say(detail, 400, "header field %zu has a name that is not a token "
				   "(RFC 9110 section 5.1)", i + 1);
		const char *ctl = value_ctl(f->value);
		if (ctl)
			return say(detail, 400, "the header field '%s' holds a control byte (0x%02x)",
				   f->name, (unsigned char)*ctl);
	}
	return check_framing(h, detail);
}

void httpmsg_body_framing(const struct httpmsg_head *h, bool *ret_chunked, uint64_t *ret_length)
{
	*ret_chunked = false;
	*ret_length = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		long long n;
		if (strcasecmp(f->name, "Transfer-Encoding") == 0)
			*ret_chunked = true;
		else if (strcasecmp(f->name, "Content-Length") == 0 &&
			 util_parse_int(f->value, 0, 999999999999999999LL, &n) == 0)
			*ret_length = (uint64_t)n;
	}
}

/* httpmsg: the rules a request message must follow (RFC 9110, RFC 9112) before anything
 * routes it, checked on the pieces the transport parsed: the request-target as it arrived,
 * the method, the header fields and the size of the head. It also decodes the target into
 * path and query arguments, the one way both http.c's socket path and http_call() do it.
 * No I/O, no libmicrohttpd: what libmicrohttpd 0.9 lets through is refused here (http.c
 * says which of its behaviours each rule covers).
 *
 * Invariants:
 * - Limits, sized so that what browsers and HTTP clients send fits (browsers send up to
 *   about 8 KiB of header fields, URLs of a few KiB; nginx and Node.js use the same
 *   orders of magnitude): a request-target of at most HTTPMSG_MAX_TARGET bytes (414
 *   beyond), a head (request line and header fields, as received) of at most
 *   HTTPMSG_MAX_HEAD bytes (431), at most HTTPMSG_MAX_FIELDS header field lines (431) and
 *   at most HTTPMSG_MAX_ARGS query arguments (400).
 * - A request-target is origin-form ("/path?query") or absolute-form
 *   ("http://host/path?query", whose path is used), of visible ASCII and obs-text bytes:
 *   a control byte, a space or "%00" anywhere in it is 400 (a decoded NUL would end the
 *   path or an argument early and serve something else).
 * - The method is a token; every field name is a token; a field value holds no control
 *   byte but HTAB (CR, LF and NUL are never part of a value: RFC 9110 section 5.5).
 * - Framing (RFC 9112 section 6): Transfer-Encoding, when present, is exactly one field
 *   "chunked" (any case, nothing around it: the only transfer coding read here; any other
 *   list, e.g. "gzip" or "gzip, chunked", leaves the body length unknown and is 400), not
 *   on HTTP/1.0 and
 *   not together with Content-Length; every Content-Length is 1 to 18 digits and all of
 *   them are the same number. An HTTP/1.1 request has exactly one Host field (RFC 9112
 *   section 3.2). Every answer for a message that breaks one of these closes the
 *   connection (the caller's part). */
#ifndef MANIFESTD_HTTPMSG_H
#define MANIFESTD_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HTTPMSG_MAX_TARGET 8192
#define HTTPMSG_MAX_HEAD 16384
#define HTTPMSG_MAX_FIELDS 100
#define HTTPMSG_MAX_ARGS 100

/* One header field as received (name and value borrowed, value without the OWS around it
 * as far as the transport removed it). */
struct httpmsg_field {
	const char *name;
	const char *value;
};

/* The head of a request. */
struct httpmsg_head {
	const char *method;
	int version;  /* 10 (HTTP/1.0), 11 (HTTP/1.x, x >= 1); 0 when not known (no socket:
		       * the rules that depend on the version are skipped) */
	const struct httpmsg_field *fields;
	size_t nfields;
	size_t size;  /* bytes of the request line and the header fields as received; 0 when
		       * not known */
};

/* A query argument, decoded ('+' is a space, %XX a byte); borrowed from the query text. */
struct httpmsg_arg {
	const char *name;
	const char *value; /* "" when the argument has no '=' */
};

/* Checks a request-target of len bytes as it arrived (target need not be NUL-terminated).
 * 0, or the status to answer (400, 414) with a sentence appended to detail. */
unsigned httpmsg_check_target(const char *target, size_t len, struct buf *detail);

/* The path part of a checked request-target, decoded: the bytes of target up to '?' (of
 * an absolute-form target, from the first '/' after the authority; "/" when there is
 * none), %XX decoded. 0 and *ret (caller frees with free()), -EINVAL for a target that is
 * neither origin- nor absolute-form, -ENOMEM. */
int httpmsg_path(const char *target, size_t len, char **ret);

/* Splits query (the text after '?', modified in place) at '&' into name/value arguments,
 * decoding each; empty pieces ("a&&b") are skipped. 0 and the count in *ret_n, or -E2BIG
 * when there are more than max (args then holds the first max). */
int httpmsg_parse_query(char *query, struct httpmsg_arg *args, size_t max, size_t *ret_n);

/* Decodes %XX escapes of s in place (an invalid escape stays as it is); returns the new
 * length. */
size_t httpmsg_unescape(char *s);

/* Checks the head: size and field count (431), the method and every field (400), Host,
 * Transfer-Encoding and Content-Length (400). 0, or the status with a sentence appended to
 * detail. */
unsigned httpmsg_check_head(const struct httpmsg_head *h, struct buf *detail);

/* The framing of the body the head announces (a checked head): *ret_chunked when the
 * body is chunked, else its Content-Length in *ret_length (0 without one). */
void httpmsg_body_framing(const struct httpmsg_head *h, bool *ret_chunked, uint64_t *ret_length);

#endif

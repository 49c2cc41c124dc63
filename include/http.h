/* http: the libmicrohttpd glue. Owns the daemon, routing (over the table the API hands it
 * in http_options), request bodies (with limits), JSON and problem+json responses,
 * streamed responses and the access log.
 *
 * Invariants:
 * - Routes are one static const table {method, pattern, handler, body, role}; a pattern is
 *   a path whose segments are literals or "{name}" captures (one segment each); a last
 *   segment "{name*}" captures the remaining path. A path that matches a pattern with
 *   another method gets 405 with Allow; HEAD is served wherever GET is.
 * - Per-request state (struct http_request) is created when the request line has arrived
 *   (MHD_OPTION_URI_LOG_CALLBACK) and freed in the MHD_OPTION_NOTIFY_COMPLETED callback,
 *   which also writes the access log line and counts the request in the metrics (also for
 *   a request libmicrohttpd answered itself, with the status it sent).
 * - Every request gets a status line, or the connection is closed when the request cannot
 *   end (see "Bodies"). As soon as the head (request line and header fields) is in, and
 *   before one byte of the body is read, in this order: the message rules of
 *   include/httpmsg.h (400, 414, 431: target, method, fields, Host, Transfer-Encoding,
 *   Content-Length, limits), routing (404, 405), the bearer token against the route's
 *   role (401, 403), then for a request with a body: its Content-Length against max_body
 *   (413), its content type on routes that take a body (415, also for a Content-Encoding
 *   other than identity: none is decoded), and the body budget (503
 *   with Retry-After). An answer given there while a body is announced closes the
 *   connection (libmicrohttpd reads no further), as does every answer to a message that
 *   breaks httpmsg's rules. Nothing a client sends is kept before it passed all of these.
 * - Bodies: routes that take one keep it in memory up to max_body; others read and drop
 *   it. A body is charged to the server's budget of max_body_total bytes for as long as
 *   its request lives: its Content-Length, or max_body for a chunked one. A chunked body
 *   found larger than max_body while reading is dropped (and its charge returned), read
 *   to its end and answered 413; past HTTP_DRAIN_MAX bytes the connection is closed, as
 *   libmicrohttpd cannot answer a request before its body has ended.
 * - Routes that take JSON get it parsed before the handler runs: 400 for an empty body,
 *   400 with line and column for bad JSON, 422 with the JSON Pointer of the first value
 *   beyond HTTP_JSON_MAX_DEPTH or HTTP_JSON_MAX_STRING (so no handler walks an unbounded
 *   tree). Routes that take YAML get an empty body refused (400); the handler parses
 *   http_body_data().
 * - Connections: at most max_connections in all and max_connections_per_ip from one
 *   client address (others are closed at once); a connection idle for timeout seconds
 *   is closed, one whose client stops in the middle of a request (from the request line
 *   to the end of the body), or sends no complete request line after connecting, after
 *   request_timeout seconds. Idle connections hold no worker thread (epoll).
 *   libmicrohttpd gives each connection HTTP_CONNECTION_MEMORY bytes for the head and the
 *   reply's header, enough for the largest head httpmsg lets through (bodies live in our
 *   buffers).
 * - Unless the server runs without authentication, a route that is not AUTH_PUBLIC needs
 *   "Authorization: Bearer <token>" of a role at least the route's: 401 with
 *   WWW-Authenticate: Bearer without a valid token, 403 for a role below; neither says
 *   whether what the path names exists.
 * - A handler returns the HTTP status; it builds its response with one of http_reply_*,
 *   which all return the status too, so `return http_reply_json(req, 200, obj);`. */
#ifndef MANIFESTD_HTTP_H
#define MANIFESTD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "buf.h"

struct http_request;
struct http_server;

typedef int (*http_handler)(struct http_request *req);

/* What a route accepts as body. */
enum http_body {
	HTTP_BODY_NONE,        /* any body is read and ignored */
	HTTP_BODY_JSON,        /* application/json (or any +json) */
	HTTP_BODY_MERGE_PATCH, /* application/merge-patch+json (application/json accepted) */
	HTTP_BODY_YAML,        /* application/yaml, text/yaml, application/x-yaml; not parsed */
};

/* The most bytes of an oversize chunked body read and dropped before the connection is
 * closed instead of answering 413. */
#define HTTP_DRAIN_MAX (16u * 1024 * 1024)

/* Limits on every parsed JSON body (jansson itself stops parsing at 2048 levels): nesting,
 * top level = 1 (a body wraps a document in one object, so one more than the model's
 * limit), and bytes of any string or object key. */
#define HTTP_JSON_MAX_DEPTH 33
#define HTTP_JSON_MAX_STRING 65536
/* The first value of v beyond those limits: 1 with its JSON Pointer appended to ptr and
 * *ret_why a sentence ("is nested deeper than ..."), or 0 when there is none. For the
 * commands that take the documents a body would carry (cmd_catalog.c). */
int http_json_over_limits(const json_t *v, struct buf *ptr, const char **ret_why);

struct http_route {
	const char *method;
	const char *pattern;
	http_handler handler;
	enum http_body body;
	enum auth_role role; /* least role that may call it; AUTH_PUBLIC: no token needed */
};

enum http_log_format {
	HTTP_LOG_TEXT,
	HTTP_LOG_JSON,
	HTTP_LOG_NONE, /* no access log (the wire fuzz harness) */
};

struct http_options {
	const char *address;        /* numeric IPv4/IPv6 address or host name */
	unsigned port;              /* 0 = pick a free port */
	size_t threads;             /* worker threads (thread pool size) */
	size_t max_body;            /* bytes */
	unsigned max_connections;
	unsigned timeout;           /* seconds of inactivity before a connection is closed */
	unsigned request_timeout;   /* the same while a request is being received (from the
				     * connection's start or a request line to the answer),
				     * when shorter */
	enum http_log_format log_format;
	void *app;                  /* handed to handlers through http_app() */
	unsigned max_connections_per_ip; /* 0 = no limit */
	struct store *tokens;       /* bearer tokens are checked against it (borrowed);
				     * NULL: no authentication at all (--no-auth) */
	const struct http_route *routes; /* the route table (borrowed, static) */
	size_t nroutes;
	size_t max_body_total;      /* bytes all request bodies in flight may hold together;
				     * 0 = no limit */
};

/* Starts serving. On failure a one-line reason goes to err. 0 and *ret or -errno. */
int http_start(const struct http_options *opt, struct buf *err, struct http_server **ret);
/* The port the server listens on (the chosen one when port 0 was asked). */
unsigned http_port(const struct http_server *srv);
/* Graceful stop: stops accepting, waits up to grace_ms for requests in flight to end,
 * then closes every connection and frees srv. Accepts NULL. */
void http_stop(struct http_server *srv, unsigned grace_ms);

/* ---- for handlers ---- */

/* The app pointer of http_options (borrowed). */
void *http_app(const struct http_request *req);
/* The decoded request path, borrowed. */
const char *http_path(const struct http_request *req);
/* Path capture i (in pattern order) or the "{name*}" rest (without its leading slash), borrowed. */
const char *http_param(const struct http_request *req, size_t i);
/* A query argument or a request header (case-insensitive), borrowed; NULL when absent. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_header(const struct http_request *req, const char *name);
/* The parsed JSON body of a JSON route (borrowed), NULL for other routes. */
json_t *http_json_body(const struct http_request *req);
/* The raw request body (borrowed, NUL-terminated) and its length; "" when there is none. */
const char *http_body_data(const struct http_request *req, size_t *ret_len);
/* Who makes the request, for history rows: "token:<name>" when a token was checked;
 * without authentication the X-Actor header when given (at most 128 printable
 * characters), else "ip:<address>". Borrowed. */
const char *http_actor(struct http_request *req);
/* The role of the caller: its token's role, or AUTH_ADMIN when the server runs without
 * authentication. */
enum auth_role http_role(const struct http_request *req);

/* Adds a response header (copied). 0 or -ENOMEM. Call after an http_reply_*. */
int http_add_header(struct http_request *req, const char *name, const char *value);

/* Responses. Each returns status (or 500 when the response cannot be built). */
/* JSON body; steals the reference to body. */
int http_reply_json(struct http_request *req, unsigned status, json_t *body);
/* RFC 9457 problem+json: {"type": "about:blank", "title", "status", "detail"}; errors
 * (stolen, may be NULL) is added as "errors"; extra (stolen, may be NULL) members are
 * merged in. detail is printf-style. */
int http_reply_problem(struct http_request *req, unsigned status, json_t *errors, json_t *extra,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Takes over the memory of body (left empty). */
int http_reply_buf(struct http_request *req, unsigned status, const char *content_type,
		   struct buf *body);
/* Static bytes (not copied: must live as long as the process). */
int http_reply_static(struct http_request *req, unsigned status, const char *content_type,
		      const void *data, size_t len);
/* Bytes owned by someone else (a cache entry), sent without a copy: release(cls) runs
 * exactly once when the response is done with them, also when it cannot be built. */
int http_reply_shared(struct http_request *req, unsigned status, const char *content_type,
		      const void *data, size_t len, void (*release)(void *cls), void *cls);
/* An empty body (204, 304, ...). */
int http_reply_empty(struct http_request *req, unsigned status);
/* A regular file, opened by the caller (fd is owned by the response from then on). */
int http_reply_fd(struct http_request *req, unsigned status, const char *content_type, int fd,
		  uint64_t size);

/* A response produced by read(): it returns the bytes written to dst (> 0), 0 at the end,
 * negative on error. Before this returns, read() is called until the end or 256 KiB: a
 * body that ends within that is sent whole with a Content-Length (and free_state has run
 * when this returns); a longer one is sent chunked, the rest read as it goes out (an error
 * then closes the connection). An error before the first byte is a 500 problem reply.
 * free_state(state) runs exactly once, also when nothing is sent. */
typedef ssize_t (*http_stream_read)(void *state, char *dst, size_t max);
int http_reply_stream(struct http_request *req, unsigned status, const char *content_type,
		      http_stream_read read, void *state, void (*free_state)(void *state));

/* ---- without a socket (unit tests, fuzz harnesses) ---- */

struct http_field {
	const char *name;
	const char *value;
};

/* One request as it would arrive: target is the path and optional "?query", percent-
 * encoded as on the wire; headers and body are borrowed. */
struct http_call {
	const char *method;
	const char *target;
	const struct http_field *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
};

/* Runs one request through what a connection runs once libmicrohttpd parsed it (the
 * message rules but those of the HTTP version, routing, authentication, body limits and
 * budget, JSON parsing and limits, the handler, a streamed body read to its end, the
 * metrics; no access log), with opt's routes, max_body, max_body_total, app and tokens
 * (the other fields are ignored). The body is chunked when a header says
 * Transfer-Encoding, else of body_len bytes. The response body is appended to body (not
 * for file responses). 0 and *ret_status, or -ENOMEM. */
int http_call(const struct http_options *opt, const struct http_call *call, struct buf *body,
	      unsigned *ret_status);

/* Parses an If-Match / If-None-Match value holding one entity tag: "\"7\"", "7" or
 * "W/\"7\"" give 7 (a revision from min: 1, or 0 where revision 0 stands for something,
 * like a built-in component type); "*" gives -1. 0 and *ret, or -EINVAL. */
int http_parse_revision_tag(const char *value, long long min, long long *ret);

#endif

/* http: libmicrohttpd glue: daemon start/stop, routing, the checks made as soon as a
 * request's head is in, bodies with limits and a budget, JSON / problem+json / streamed
 * responses, and the access log. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "httpmsg.h"
#include "metrics.h"
#include "util.h"

#define MAX_SEGMENTS 16
#define MAX_PARAMS 4
/* The longest problem detail; a longer one (a long path quoted) is cut. */
#define PROBLEM_DETAIL_MAX 1024
/* What the access log keeps of a request-target that is not served (too long, malformed). */
#define LOGGED_TARGET_MAX 256
#define STREAM_BLOCK 16384
/* A streamed body is read ahead, as far as STREAM_AHEAD_MAX, into one buffer before the
 * reply is queued: one that ends within it goes out whole, with a Content-Length.
 * libmicrohttpd copies a chunked body through the connection's memory
 * (HTTP_CONNECTION_MEMORY): a send() and an event-loop turn for every 16 KiB, with the
 * reader's state (a whole render) held until the last chunk is out. Whole, the buffer
 * (shrunk to its length, which moves nothing) goes out with the header in one sendmsg(),
 * and the reader's state is freed before the first byte is sent. A longer body is
 * streamed chunked after the bytes read ahead. */
#define STREAM_AHEAD_MAX (256u * 1024)
/* Per-connection memory of libmicrohttpd: the head as it is read (it grows its read
 * buffer from half of this), one 64-byte record per header field and per cookie, a copy
 * of the Cookie field, then the reply's header and chunk framing; bodies live in our
 * buffers. It must hold the largest head httpmsg accepts (HTTPMSG_MAX_HEAD with
 * HTTPMSG_MAX_FIELDS fields; a browser's 8 KiB of cookies) so that httpmsg, not
 * libmicrohttpd, answers: libmicrohttpd's own 431 (a head larger than this) comes without
 * problem+json, and when it runs out while parsing the Cookie field its 0.9 releases send
 * the status line and headers twice. It zeroes all of it after every request on a
 * keep-alive connection, so 1,000 idle connections hold 1,000 times this (32 MiB). */
#define HTTP_CONNECTION_MEMORY (32u * 1024)
/* Seconds a client told 503 for the body budget waits before it retries. */
#define BUDGET_RETRY_AFTER "1"
#define STR_(x) #x
#define STR(x) STR_(x)

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_options opt;
	unsigned port;
	atomic_int in_flight;     /* requests whose head is in and that are not completed */
	atomic_int connections;   /* open connections */
	atomic_size_t body_bytes; /* charged to the body budget (max_body_total) */
	bool head_in_place;       /* libmicrohttpd 0.9: the head is parsed in place (see
				   * wire_head_intact) */
};

struct stream;

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	bool begun;        /* the head was checked (first access-handler call) */
	bool counted;      /* counted in srv->in_flight */
	char *method;      /* NULL before the head is in */
	/* the request-target: its problem (target_status, target_detail) or its parts */
	unsigned target_status;
	char *target_detail;
	const char *wire_target; /* as libmicrohttpd read it, and its length (see on_uri) */
	size_t wire_target_len;
	char *path;        /* decoded; for a target not served, the start of it as received */
	char *query;       /* the query text, decoded in place into args */
	struct httpmsg_arg args[HTTPMSG_MAX_ARGS];
	size_t nargs;
	char *segments_mem;
	const char *segments[MAX_SEGMENTS];
	size_t segment_offsets[MAX_SEGMENTS];
	size_t nsegments;
	bool too_many_segments;
	const struct http_route *route;
	const char *params[MAX_PARAMS];
	/* the body: kept (keep_body) or dropped as it arrives */
	struct buf body;
	bool keep_body;
	bool too_large;    /* a chunked body passed max_body while reading */
	size_t charged;    /* bytes charged to the body budget */
	uint64_t received; /* body bytes read, kept or not */
	json_t *json;
	struct MHD_Response *response;
	unsigned status;
	uint64_t bytes;
	uint64_t start_ns;
	struct stream *stream;
	char actor[160];
	const void *reply_data; /* the bytes of a buffer response (borrowed from it) */
	const struct http_call *call; /* http_call() only (conn is NULL) */
	bool authenticated;
	struct auth_identity who; /* when authenticated */
};

struct stream {
	http_stream_read read;
	void *state;
	void (*free_state)(void *state);
	struct http_request *req; /* NULL once the request is freed */
	ssize_t last;             /* 0 at the end, negative after an error, else 1 */
	char *ahead;              /* read ahead, sent before the rest of the stream */
	size_t ahead_len;
	size_t ahead_sent;        /* bytes of ahead handed over */
};

/* ---- the body budget ---- */

/* Charges n bytes to the budget: false when they do not fit. */
static bool budget_take(struct http_server *srv, size_t n)
{
	size_t max = srv->opt.max_body_total;
	if (max == 0)
		return true;
	size_t cur = atomic_load(&srv->body_bytes);
	do {
		if (n > max || cur > max - n)
			return false;
	} while (!atomic_compare_exchange_weak(&srv->body_bytes, &cur, cur + n));
	return true;
}

/* Returns what req was charged, and drops its body. */
static void body_drop(struct http_request *req)
{
	if (req->srv->opt.max_body_total && req->charged)
		atomic_fetch_sub(&req->srv->body_bytes, req->charged);
	req->charged = 0;
	req->keep_body = false;
	buf_release(&req->body);
}

/* ---- requests ---- */

/* Splits path into segments: "/a/b" -> "a", "b"; "/" -> "". */
static int split_path(struct http_request *req)
{
	req->segments_mem = strdup(req->path);
	if (!req->segments_mem)
		return -ENOMEM;
	char *p = req->segments_mem + 1;
	for (;;) {
		if (req->nsegments == MAX_SEGMENTS) {
			req->too_many_segments = true;
			return 0;
		}
		req->segments[req->nsegments] = p;
		req->segment_offsets[req->nsegments] = (size_t)(p - req->segments_mem);
		req->nsegments++;
		char *slash = strchr(p, '/');
		if (!slash)
			return 0;
		*slash = '\0';
		p = slash + 1;
	}
}

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn)
{
	struct http_request *req = calloc(1, sizeof *req);
	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->start_ns = util_now_ns();
	buf_init(&req->body, srv->opt.max_body);
	return req;
}

static void request_free(struct http_request *req)
{
	if (!req)
		return;
	if (req->stream)
		req->stream->req = NULL;
	if (req->response)
		MHD_destroy_response(req->response);
	if (req->counted)
		atomic_fetch_sub(&req->srv->in_flight, 1);
	json_decref(req->json);
	body_drop(req);
	free(req->target_detail);
	free(req->query);
	free(req->method);
	free(req->path);
	free(req->segments_mem);
	free(req);
}

/* Takes the request-target of len bytes as received: checks it (a problem is answered
 * once the head is in), decodes the path and the query arguments. 0 or -ENOMEM. */
static int request_set_target(struct http_request *req, const char *target, size_t len)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	int r = 0;
	req->target_status = httpmsg_check_target(target, len, &detail);
	if (req->target_status) {
		req->target_detail = buf_detach(&detail, NULL);
		req->path = strndup(target, len < LOGGED_TARGET_MAX ? len : LOGGED_TARGET_MAX);
		r = req->target_detail && req->path ? 0 : -ENOMEM;
		goto out;
	}
	if ((r = httpmsg_path(target, len, &req->path)) < 0 || (r = split_path(req)) < 0)
		goto out;
	const char *q = memchr(target, '?', len);
	if (!q)
		goto out;
	req->query = strndup(q + 1, len - (size_t)(q + 1 - target));
	if (!req->query) {
		r = -ENOMEM;
		goto out;
	}
	if (httpmsg_parse_query(req->query, req->args, HTTPMSG_MAX_ARGS, &req->nargs) == -E2BIG) {
		req->target_status = 400;
		req->target_detail = strdup("the query has more than the limit of "
					    STR(HTTPMSG_MAX_ARGS) " arguments");
		r = req->target_detail ? 0 : -ENOMEM;
	}
out:
	buf_release(&detail);
	return r < 0 ? -ENOMEM : 0;
}

void *http_app(const struct http_request *req)
{
	return req->srv->opt.app;
}

const char *http_path(const struct http_request *req)
{
	return req->path;
}

const char *http_param(const struct http_request *req, size_t i)
{
	return i < MAX_PARAMS ? req->params[i] : NULL;
}

/* The query arguments are decoded here from the target (request_set_target), on both
 * paths: libmicrohttpd is kept from parsing them (see on_uri). */
const char *http_query(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nargs; i++)
		if (strcasecmp(req->args[i].name, name) == 0)
			return req->args[i].value;
	return NULL;
}

const char *http_header(const struct http_request *req, const char *name)
{
	if (!req->conn) {
		for (size_t i = 0; i < req->call->nheaders; i++)
			if (strcasecmp(req->call->headers[i].name, name) == 0)
				return req->call->headers[i].value;
		return NULL;
	}
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

json_t *http_json_body(const struct http_request *req)
{
	return req->json;
}

const char *http_body_data(const struct http_request *req, size_t *ret_len)
{
	*ret_len = req->body.len;
	return buf_cstr(&req->body);
}

static void client_address(struct http_request *req, char *out, size_t n)
{
	out[0] = '\0';
	if (!req->conn)
		return;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
				(socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				out, (socklen_t)n);
}

static bool printable(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= max || (unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return false;
	return n > 0;
}

const char *http_actor(struct http_request *req)
{
	if (req->actor[0])
		return req->actor;
	if (req->authenticated) {
		memcpy(req->actor, "token:", 6);
		memcpy(req->actor + 6, req->who.name, strlen(req->who.name) + 1);
		return req->actor;
	}
	const char *h = http_header(req, "X-Actor");
	if (h && printable(h, 128)) {
		memcpy(req->actor, h, strlen(h) + 1);
		return req->actor;
	}
	char addr[INET6_ADDRSTRLEN];
	client_address(req, addr, sizeof addr);
	memcpy(req->actor, "ip:", 3);
	memcpy(req->actor + 3, addr, strlen(addr) + 1);
	return req->actor;
}

enum auth_role http_role(const struct http_request *req)
{
	if (!req->srv->opt.tokens)
		return AUTH_ADMIN;
	return req->authenticated ? req->who.role : AUTH_PUBLIC;
}

/* ---- responses ---- */

/* Takes over resp (creation may have failed: NULL gives a 500); data is its body when it
 * is a buffer (NULL otherwise). */
static int set_response(struct http_request *req, unsigned status, struct MHD_Response *resp,
			const char *content_type, const void *data, uint64_t bytes)
{
	if (req->response)
		MHD_destroy_response(req->response);
	req->response = resp;
	req->reply_data = resp ? data : NULL;
	if (!resp) {
		req->status = 500;
		return 500;
	}
	if (content_type)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->status = status;
	req->bytes = bytes;
	return (int)status;
}

int http_add_header(struct http_request *req, const char *name, const char *value)
{
	if (!req->response)
		return -EINVAL;
	return MHD_add_response_header(req->response, name, value) == MHD_YES ? 0 : -ENOMEM;
}

int http_reply_buf(struct http_request *req, unsigned status, const char *content_type,
		   struct buf *body)
{
	size_t len = 0;
	char *data = buf_detach(body, &len);
	if (!data)
		return set_response(req, 500, NULL, NULL, NULL, 0);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(data);
	return set_response(req, status, resp, content_type, data, len);
}

int http_reply_static(struct http_request *req, unsigned status, const char *content_type,
		      const void *data, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
	return set_response(req, status, resp, content_type, data, len);
}

int http_reply_shared(struct http_request *req, unsigned status, const char *content_type,
		      const void *data, size_t len, void (*release)(void *cls), void *cls)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
		len, (void *)(uintptr_t)data, release, cls);
	if (!resp)
		release(cls);
	return set_response(req, status, resp, content_type, data, len);
}

int http_reply_empty(struct http_request *req, unsigned status)
{
	return http_reply_static(req, status, NULL, "", 0);
}

int http_reply_fd(struct http_request *req, unsigned status, const char *content_type, int fd,
		  uint64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp)
		close(fd);
	return set_response(req, status, resp, content_type, NULL, size);
}

/* Replies doc (borrowed) as compact JSON text of content_type; a bare 500 when doc is NULL
 * or cannot be written. */
static int reply_dumped(struct http_request *req, unsigned status, const json_t *doc,
			const char *content_type)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text)
		return set_response(req, 500, NULL, NULL, NULL, 0);
	size_t len = strlen(text);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(text);
	return set_response(req, status, resp, content_type, text, len);
}

int http_reply_json(struct http_request *req, unsigned status, json_t *body)
{
	int r = reply_dumped(req, status, body, "application/json");
	json_decref(body);
	return r;
}

/* A JSON string of text that may not be UTF-8 (request paths are bytes): when it is not,
 * every byte outside ASCII becomes '?'. NULL only on allocation failure. */
static json_t *json_text(const char *text)
{
	json_t *s = json_string(text);
	if (s)
		return s;
	char *copy = strdup(text);
	if (!copy)
		return NULL;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	s = json_string(copy);
	free(copy);
	return s;
}

/* Cuts b to at most max bytes at a UTF-8 character boundary, ending it with "...". */
static void truncate_text(struct buf *b, size_t max)
{
	if (b->len <= max)
		return;
	size_t n = max - 3;
	while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
		n--;
	memcpy(b->data + n, "...", 4);
	b->len = n + 3;
}

int http_reply_problem(struct http_request *req, unsigned status, json_t *errors, json_t *extra,
		       const char *fmt, ...)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	va_list ap;
	va_start(ap, fmt);
	(void)buf_vprintf(&detail, fmt, ap);
	va_end(ap);
	truncate_text(&detail, PROBLEM_DETAIL_MAX);
	json_t *p = json_pack("{s:s, s:s, s:i, s:o*}", "type", "about:blank",
			      "title", MHD_get_reason_phrase_for(status), "status", (int)status,
			      "detail", json_text(buf_cstr(&detail)));
	buf_release(&detail);
	if (p && errors)
		(void)json_object_set(p, "errors", errors);
	if (p && extra)
		(void)json_object_update(p, extra);
	json_decref(errors);
	json_decref(extra);
	int r = reply_dumped(req, status, p, "application/problem+json");
	json_decref(p);
	return r;
}

/* Fills dst as far as max from the reader: a reader that yields one small piece at a time
 * (a YAML stream gives one file per read) would otherwise cost a send() and a TCP segment
 * per piece. The count (> 0); an end or error after some bytes is returned by the next
 * call (0 at the end, negative on error). */
static ssize_t stream_pull(struct stream *s, char *dst, size_t max)
{
	size_t got = 0;
	while (got < max && s->last > 0) {
		ssize_t n = s->read(s->state, dst + got, max - got);
		if (n > 0)
			got += (size_t)n;
		else
			s->last = n;
	}
	return got > 0 ? (ssize_t)got : s->last;
}

/* As stream_pull, the bytes read ahead first. */
static ssize_t stream_fill(struct stream *s, char *dst, size_t max)
{
	size_t got = s->ahead_len - s->ahead_sent;
	if (got > max)
		got = max;
	if (got > 0) {
		memcpy(dst, s->ahead + s->ahead_sent, got);
		s->ahead_sent += got;
	}
	ssize_t n = got < max ? stream_pull(s, dst + got, max - got) : 0;
	if (got == 0)
		return n;
	return (ssize_t)got + (n > 0 ? n : 0);
}

/* Reads s into ahead until the end, an error (both in s->last) or STREAM_AHEAD_MAX bytes.
 * 0 or -ENOMEM. */
static int stream_read_ahead(struct stream *s)
{
	s->ahead = malloc(STREAM_AHEAD_MAX);
	if (!s->ahead)
		return -ENOMEM;
	ssize_t n = stream_pull(s, s->ahead, STREAM_AHEAD_MAX);
	s->ahead_len = n > 0 ? (size_t)n : 0;
	return 0;
}

/* Frees the reader's state (once). */
static void stream_end(struct stream *s)
{
	if (s->free_state)
		s->free_state(s->state);
	s->free_state = NULL;
}

static ssize_t stream_callback(void *cls, uint64_t pos, char *dst, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	ssize_t n = stream_fill(s, dst, max);
	if (n > 0) {
		if (s->req)
			s->req->bytes += (uint64_t)n;
		return n;
	}
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->req)
		s->req->stream = NULL;
	stream_end(s);
	free(s->ahead);
	free(s);
}

/* Queues s (taken over) as a chunked response: the bytes read ahead, then the rest. */
static int reply_chunked(struct http_request *req, unsigned status, const char *content_type,
			 struct stream *s)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_callback, s, stream_free);
	if (!resp) {
		stream_free(s);
		return set_response(req, 500, NULL, NULL, NULL, 0);
	}
	req->stream = s;
	return set_response(req, status, resp, content_type, NULL, 0);
}

/* Sends the bytes read ahead by s (taken over and freed), the whole body, with a
 * Content-Length; frees the reader's state first. */
static int reply_whole(struct http_request *req, unsigned status, const char *content_type,
		       struct stream *s)
{
	stream_end(s);
	size_t len = s->ahead_len;
	char *data = s->ahead;
	char *shrunk = realloc(data, len ? len : 1); /* in place */
	if (shrunk)
		data = shrunk;
	free(s);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(data);
	return set_response(req, status, resp, content_type, data, len);
}

int http_reply_stream(struct http_request *req, unsigned status, const char *content_type,
		      http_stream_read read, void *state, void (*free_state)(void *state))
{
	struct stream *s = calloc(1, sizeof *s);
	if (!s) {
		free_state(state);
		return set_response(req, 500, NULL, NULL, NULL, 0);
	}
	*s = (struct stream){.read = read, .state = state, .free_state = free_state, .req = req,
			     .last = 1};
	int r = stream_read_ahead(s);
	if (r < 0 || s->last < 0) {
		stream_free(s);
		return http_reply_problem(req, 500, NULL, NULL, "cannot produce the response (%s)",
					  r < 0 ? "out of memory" : "the reader failed");
	}
	return s->last > 0 ? reply_chunked(req, status, content_type, s)
			   : reply_whole(req, status, content_type, s);
}

int http_parse_revision_tag(const char *value, long long min, long long *ret)
{
	while (*value == ' ' || *value == '\t')
		value++;
	if (strcmp(value, "*") == 0) {
		*ret = -1;
		return 0;
	}
	if (strncmp(value, "W/", 2) == 0)
		value += 2;
	char digits[24];
	size_t n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof digits)
		return -EINVAL;
	memcpy(digits, value, n);
	digits[n] = '\0';
	long long v;
	if (min < 0 || util_parse_int(digits, min, 1LL << 62, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---- routing ---- */

/* Matches pattern against the request's path; fills params on success. */
static bool route_match(const char *pattern, struct http_request *req,
			const char *params[MAX_PARAMS])
{
	size_t si = 0, np = 0;
	const char *p = pattern;
	while (*p == '/') {
		p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		bool capture = len >= 2 && p[0] == '{' && p[len - 1] == '}';
		bool rest = capture && len >= 3 && p[len - 2] == '*';
		if (rest) {
			if (np == MAX_PARAMS || si >= req->nsegments)
				return false;
			params[np++] = req->path + req->segment_offsets[si];
			return true;
		}
		if (si >= req->nsegments || req->too_many_segments)
			return false;
		const char *seg = req->segments[si];
		if (capture) {
			if (!*seg || np == MAX_PARAMS)
				return false;
			params[np++] = seg;
		} else if (strlen(seg) != len || memcmp(seg, p, len) != 0) {
			return false;
		}
		si++;
		p = end;
	}
	return si == req->nsegments && !req->too_many_segments;
}

static bool method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void allow_add(struct buf *allow, const char *method)
{
	const char *s = buf_cstr(allow);
	size_t n = strlen(method);
	for (const char *p = strstr(s, method); p; p = strstr(p + 1, method))
		if ((p == s || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return;
	(void)buf_printf(allow, "%s%s", allow->len ? ", " : "", method);
	if (strcmp(method, "GET") == 0)
		(void)buf_puts(allow, ", HEAD");
}

/* Finds the route; 0, or 404 / 405 (Allow written) when there is none. */
static int route_find(struct http_request *req, struct buf *allow)
{
	/* A catch-all route answers only when no specific pattern matched the path. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < req->srv->opt.nroutes; i++) {
			const struct http_route *r = &req->srv->opt.routes[i];
			bool catch_all = strstr(r->pattern, "*}") != NULL;
			if (catch_all != (pass == 1))
				continue;
			const char *params[MAX_PARAMS] = {0};
			if (!route_match(r->pattern, req, params))
				continue;
			if (method_matches(r->method, req->method)) {
				req->route = r;
				memcpy(req->params, params, sizeof params);
				return 0;
			}
			allow_add(allow, r->method);
		}
		if (allow->len)
			return 405;
	}
	return 404;
}

/* ---- bodies ---- */

/* The media type of the request without parameters, lowercase, into out. */
static void media_type(struct http_request *req, char *out, size_t n)
{
	const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t i = 0;
	for (; ct && ct[i] && ct[i] != ';' && i + 1 < n; i++)
		out[i] = (char)((ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] + 32 : ct[i]);
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* 0 when the request's content type suits the body its route takes and the body has no
 * content coding (none is decoded here), else the 415 sent. */
static int check_content_type(struct http_request *req)
{
	char mt[128];
	media_type(req, mt, sizeof mt);
	bool ok;
	const char *want;
	switch (req->route->body) {
	case HTTP_BODY_YAML:
		ok = strcmp(mt, "application/yaml") == 0 || strcmp(mt, "text/yaml") == 0 ||
		     strcmp(mt, "application/x-yaml") == 0 || strcmp(mt, "text/x-yaml") == 0;
		want = "application/yaml (or text/yaml, application/x-yaml)";
		break;
	case HTTP_BODY_MERGE_PATCH:
		ok = strcmp(mt, "application/merge-patch+json") == 0 ||
		     strcmp(mt, "application/json") == 0;
		want = "application/merge-patch+json";
		break;
	default:
		ok = strcmp(mt, "application/json") == 0 || ends_with(mt, "+json");
		want = "application/json";
		break;
	}
	if (!ok)
		return http_reply_problem(req, 415, NULL, NULL, "content type must be %s, got '%s'",
					  want, mt[0] ? mt : "none");
	const char *coding = http_header(req, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (coding && strcasecmp(coding, "identity") != 0)
		return http_reply_problem(req, 415, NULL, NULL, "the body must not be encoded "
					  "(Content-Encoding '%s'): send it as it is", coding);
	return 0;
}

static void truncate_to(struct buf *b, size_t len)
{
	if (b->data && len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Appends the RFC 6901 token of key to ptr: "/" then key with ~ as ~0 and / as ~1. */
static void pointer_push(struct buf *ptr, const char *key)
{
	(void)buf_puts(ptr, "/");
	for (const char *k = key; *k; k++)
		(void)(*k == '~' ? buf_puts(ptr, "~0") : *k == '/' ? buf_puts(ptr, "~1") : buf_append(ptr, k, 1));
}

/* Finds the first value of v (at depth, top level = 1) beyond the JSON limits: 0 when
 * none, else 1 with ptr pointing at it and why set. Recursion stops at the depth limit. */
static int json_over_limits(const json_t *v, int depth, struct buf *ptr, const char **why)
{
	if (json_is_string(v) && json_string_length(v) > HTTP_JSON_MAX_STRING) {
		*why = "is longer than the limit of " STR(HTTP_JSON_MAX_STRING) " bytes";
		return 1;
	}
	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > HTTP_JSON_MAX_DEPTH) {
		*why = "is nested deeper than the limit of " STR(HTTP_JSON_MAX_DEPTH) " levels";
		return 1;
	}
	size_t mark = ptr->len;
	if (json_is_object(v)) {
		const char *key;
		const json_t *child;
		json_object_foreach((json_t *)v, key, child) {
			pointer_push(ptr, key);
			if (strlen(key) > HTTP_JSON_MAX_STRING) {
				*why = "has a name longer than the limit of " STR(HTTP_JSON_MAX_STRING) " bytes";
				return 1;
			}
			if (json_over_limits(child, depth + 1, ptr, why))
				return 1;
			truncate_to(ptr, mark);
		}
		return 0;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		(void)buf_printf(ptr, "/%zu", i);
		if (json_over_limits(json_array_get(v, i), depth + 1, ptr, why))
			return 1;
		truncate_to(ptr, mark);
	}
	return 0;
}

int http_json_over_limits(const json_t *v, struct buf *ptr, const char **ret_why)
{
	return json_over_limits(v, 1, ptr, ret_why);
}

/* 0 when the parsed body is within the JSON limits, else the 422 sent. */
static int check_json_limits(struct http_request *req)
{
	struct buf ptr;
	buf_init(&ptr, BUF_NO_MAX);
	const char *why = NULL;
	int status = 0;
	if (http_json_over_limits(req->json, &ptr, &why)) {
		json_t *errors = json_pack("[{s:s, s:s}]", "pointer", buf_cstr(&ptr), "detail", why);
		status = http_reply_problem(req, 422, errors, NULL, "the body is beyond a limit: %s %s",
					    ptr.len ? buf_cstr(&ptr) : "(document)", why);
	}
	buf_release(&ptr);
	return status;
}

/* Checks the body of a route that takes one, and parses it when it is JSON: 0 or the
 * status sent. */
static int read_body(struct http_request *req)
{
	int status = check_content_type(req);
	if (status)
		return status;
	bool yaml = req->route->body == HTTP_BODY_YAML;
	if (req->body.len == 0)
		return http_reply_problem(req, 400, NULL, NULL, "the request body is empty: a %s "
					  "document is required", yaml ? "YAML" : "JSON");
	if (yaml)
		return 0;
	json_error_t e;
	req->json = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &e);
	if (!req->json)
		return http_reply_problem(req, 400, NULL,
					  json_pack("{s:i, s:i}", "line", e.line, "column", e.column),
					  "the body is not valid JSON: %s at line %d, column %d",
					  e.text, e.line, e.column);
	return check_json_limits(req);
}

/* ---- authentication ---- */

/* Checks the bearer token against the route's role: 0, or the status sent (401, 403,
 * 500), before anything the path names is looked up. */
static int authorize(struct http_request *req)
{
	enum auth_role need = req->route->role;
	if (need == AUTH_PUBLIC || !req->srv->opt.tokens)
		return 0;
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	int r = auth_authenticate(req->srv->opt.tokens, h, &req->who);
	if (r == -EACCES) {
		int status = http_reply_problem(req, 401, NULL, NULL, h ? "the bearer token is not valid "
						"(unknown, revoked or malformed)"
						: "a bearer token is required: send 'Authorization: Bearer <token>'");
		(void)http_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
				      h ? "Bearer realm=\"manifestd\", error=\"invalid_token\""
					: "Bearer realm=\"manifestd\"");
		return status;
	}
	if (r == -ENOTCONN || r == -EAGAIN) {
		int status = http_reply_problem(req, 503, NULL, NULL, "cannot check the token: the "
						"database is %s: retry in a moment",
						r == -ENOTCONN ? "unreachable" : "busy");
		(void)http_add_header(req, "Retry-After", "1");
		return status;
	}
	if (r < 0)
		return http_reply_problem(req, 500, NULL, NULL, "cannot check the token: the database failed");
	req->authenticated = true;
	if (req->who.role < need)
		return http_reply_problem(req, 403, NULL, NULL,
					  "the token '%s' has the role %s, and %s %s needs %s",
					  req->who.name, auth_role_name(req->who.role), req->method,
					  req->route->pattern, auth_role_name(need));
	return 0;
}

/* ---- the head ---- */

/* Asks libmicrohttpd to close the connection after the answer. */
static void close_after(struct http_request *req)
{
	(void)http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Answers a message that breaks a rule of httpmsg.h (or one libmicrohttpd hid), and
 * closes: what the client sends next cannot be trusted to start a request. */
static int reply_refused(struct http_request *req, unsigned status, const char *detail)
{
	int r = http_reply_problem(req, status, NULL, NULL, "%s", detail);
	close_after(req);
	return r;
}

static int reply_too_large(struct http_request *req)
{
	return http_reply_problem(req, 413, NULL, NULL,
				  "the request body is larger than the limit of %zu bytes",
				  req->srv->opt.max_body);
}

/* Routes the request: 0, or the status answered (404, or 405 with Allow). */
static int find_route(struct http_request *req)
{
	struct buf allow;
	buf_init(&allow, 256);
	int status = route_find(req, &allow);
	if (status == 405) {
		status = http_reply_problem(req, 405, NULL, NULL, "method %s is not allowed on '%s'",
					    req->method, req->path);
		(void)http_add_header(req, MHD_HTTP_HEADER_ALLOW, buf_cstr(&allow));
	} else if (status == 404) {
		status = http_reply_problem(req, 404, NULL, NULL, "no resource at '%s'", req->path);
	}
	buf_release(&allow);
	return status;
}

/* Decides what becomes of the body the head announces, before one byte of it is read:
 * 0 (kept, or read and dropped), or the status answered (413, 415, 503). */
static int body_begin(struct http_request *req, bool chunked, uint64_t length)
{
	const struct http_options *opt = &req->srv->opt;
	if (!chunked && length == 0)
		return 0;
	if (length > opt->max_body)
		return reply_too_large(req);
	if (req->route->body == HTTP_BODY_NONE)
		return 0;
	int status = check_content_type(req);
	if (status)
		return status;
	size_t charge = chunked ? opt->max_body : (size_t)length;
	if (!budget_take(req->srv, charge)) {
		status = http_reply_problem(req, 503, NULL, NULL, "the server holds as many request "
					    "bodies as it may (%zu bytes): retry in a moment",
					    opt->max_body_total);
		(void)http_add_header(req, MHD_HTTP_HEADER_RETRY_AFTER, BUDGET_RETRY_AFTER);
		return status;
	}
	req->charged = charge;
	req->keep_body = true;
	return 0;
}

/* The checks made as soon as the head is in (the order is in http.h): 0, or the status
 * answered. An answer while a body is announced closes the connection. */
static int request_begin(struct http_request *req, const struct httpmsg_head *head)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	int status;
	if (req->target_status) {
		status = reply_refused(req, req->target_status, req->target_detail);
	} else if ((status = (int)httpmsg_check_head(head, &detail)) != 0) {
		status = reply_refused(req, (unsigned)status, buf_cstr(&detail));
	} else {
		bool chunked;
		uint64_t length;
		httpmsg_body_framing(head, &chunked, &length);
		if (req->call && !chunked)
			length = req->call->body_len;
		if ((status = find_route(req)) == 0 && (status = authorize(req)) == 0)
			status = body_begin(req, chunked, length);
		if (status && (chunked || length))
			close_after(req);
	}
	buf_release(&detail);
	return status;
}

/* Takes n more bytes of the body: kept, or dropped (a route that takes none; a body past
 * max_body, which is then answered 413). false when the connection is to be closed
 * instead: past HTTP_DRAIN_MAX of a body too large, or no memory. */
static bool body_take(struct http_request *req, const char *data, size_t n)
{
	req->received += n;
	if (!req->too_large && req->received > req->srv->opt.max_body) {
		req->too_large = true;
		body_drop(req);
	}
	if (req->keep_body && buf_append(&req->body, data, n) < 0)
		return false;
	return !req->too_large || req->received <= HTTP_DRAIN_MAX;
}

/* Once the whole request is in: its body checked and parsed, then the handler. */
static int dispatch(struct http_request *req)
{
	int status;
	if (req->too_large)
		status = reply_too_large(req);
	else if (req->route->body == HTTP_BODY_NONE || (status = read_body(req)) == 0)
		status = req->route->handler(req);
	if (!req->response)
		status = http_reply_empty(req, status >= 100 && status <= 599 ? (unsigned)status : 500);
	return status;
}

/* ---- libmicrohttpd ---- */

/* libmicrohttpd 0.9 parses the head in place in its read buffer (connection.c of 0.9.75:
 * get_next_header_line() writes NULs over each CR LF or bare LF, process_header_line()
 * one over the colon and over the space that ends the method and the target) and then
 * takes each string up to its first NUL: a NUL byte inside a field value ends the value
 * there and the rest of the line is dropped without a word ("If-Match: \"1\"\0x" reads
 * "\"1\""), one inside the request-target ends the target. A continuation line (obs-fold)
 * is appended to the field's name in new memory (process_broken_line()). Its 1.0 rewrite
 * answers all of these with 400 itself. So here the head is walked from the method to its
 * end (header_size) along the pieces libmicrohttpd returned, in order: each must start
 * where the previous ended plus exactly the separators libmicrohttpd overwrote. The one
 * form this cannot see is a NUL right before a bare LF, which reads as CR LF: nothing of
 * the value is lost then. */
static const char *skip_line_end(const char *p, const char *end, size_t min, size_t max)
{
	size_t n = 0;
	while (p < end && *p == '\0' && n <= max) {
		p++;
		n++;
	}
	return n >= min && n <= max ? p : NULL;
}

static bool wire_head_intact(const struct http_request *req, const struct httpmsg_head *h,
			     const char *version)
{
	const char *end = h->method + h->size;
	const char *p = h->method + strlen(h->method);
	if (p >= end || *p++ != '\0')
		return false;
	while (p < end && *p == ' ')
		p++;
	if (p != req->wire_target || (p += req->wire_target_len) >= end || *p++ != '\0' ||
	    p != version)
		return false;
	p += strlen(version);
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		if (!(p = skip_line_end(p, end, 1, 2)) || f->name != p)
			return false;
		p += strlen(f->name);
		if (p >= end || *p++ != '\0')
			return false;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (f->value != p)
			return false;
		p += strlen(f->value);
	}
	return skip_line_end(p, end, 2, 4) == end;
}

struct wire_fields {
	struct httpmsg_field *fields;
	size_t n, max;
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *name,
				     const char *value)
{
	(void)kind;
	struct wire_fields *wf = cls;
	if (wf->n == wf->max)
		return MHD_NO;
	wf->fields[wf->n++] = (struct httpmsg_field){name, value ? value : ""};
	return MHD_YES;
}

/* The head of a request from a connection is in: the checks of request_begin, after the
 * one libmicrohttpd needs. 0, the status answered, or -ENOMEM. */
static int begin_wire(struct http_request *req, const char *method, const char *version)
{
	req->method = strdup(method);
	int n = MHD_get_connection_values(req->conn, MHD_HEADER_KIND, NULL, NULL);
	struct wire_fields wf = {calloc(n > 0 ? (size_t)n : 1, sizeof *wf.fields), 0,
				 n > 0 ? (size_t)n : 0};
	if (!req->method || !wf.fields) {
		free(wf.fields);
		return -ENOMEM;
	}
	(void)MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_field, &wf);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	struct httpmsg_head head = {method, strcmp(version, MHD_HTTP_VERSION_1_0) == 0 ? 10 : 11,
				    wf.fields, wf.n, ci ? ci->header_size : 0};
	int status;
	if (req->srv->head_in_place && (!ci || !wire_head_intact(req, &head, version)))
		status = reply_refused(req, 400, "the request line or a header field holds a NUL "
				       "byte, or a header field is folded over lines (obs-fold)");
	else
		status = request_begin(req, &head);
	free(wf.fields);
	return status;
}

/* The request timeout (http_options) of conn while a request is being received, from the
 * connection's start or a request line to the answer; else the idle timeout.
 * libmicrohttpd only knows inactivity timeouts, set per connection. */
static void request_timeout(struct http_server *srv, struct MHD_Connection *conn, bool on)
{
	unsigned t = srv->opt.request_timeout;
	if (t > 0 && t < srv->opt.timeout)
		(void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
						on ? t : srv->opt.timeout);
}

/* Queues the answer; the connection gets its idle timeout back. */
static enum MHD_Result queue(struct http_request *req)
{
	if (!req->response)
		return MHD_NO;
	request_timeout(req->srv, req->conn, false);
	return MHD_queue_response(req->conn, req->status, req->response);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in (the rest of the head may not be).
 * Creates the request, which libmicrohttpd hands the access handler as *con_cls, with its
 * target, and gives the connection the request timeout until the answer is queued (a
 * client that stops in the middle of a request, e.g. sends less body than its
 * Content-Length, is not waited for as long as an idle keep-alive connection). It also
 * keeps libmicrohttpd from parsing the query: 0.9 does that right after this callback
 * (connection.c of 0.9.75, parse_initial_message_line(), lines 3024-3040), one 64-byte
 * record per argument in the connection's memory, ignores the result, and when that
 * memory runs out (a few hundred "a=b&" do) it has queued a 431 whose state the caller
 * then overwrites (line 4465): the client gets no answer, or waits for the timeout. uri
 * is the target inside libmicrohttpd's (writable) read buffer, which it parses from the
 * byte after '?' (so does 1.0, process_request_target()): a NUL there leaves no argument
 * to parse, and request_set_target decodes them instead, with a limit (400 beyond). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	size_t len = uri ? strlen(uri) : 0;
	struct http_request *req = request_new(srv, conn);
	if (req && request_set_target(req, uri ? uri : "", len) < 0) {
		request_free(req);
		req = NULL;
	}
	if (req) {
		req->wire_target = uri;
		req->wire_target_len = len;
		request_timeout(srv, conn, true);
	}
	char *query = uri ? strchr(uri, '?') : NULL;
	if (query)
		query[1] = '\0';
	return req;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)conn;
	(void)url; /* decoded from the target by on_uri, as http_call() does */
	struct http_request *req = *con_cls;
	if (!req)
		return MHD_NO; /* on_uri ran out of memory */
	if (!req->begun) {
		req->begun = true;
		req->counted = true;
		atomic_fetch_add(&req->srv->in_flight, 1);
		int status = begin_wire(req, method, version);
		return status < 0 ? MHD_NO : status > 0 ? queue(req) : MHD_YES;
	}
	if (req->response) {
		*upload_data_size = 0; /* answered already (not called again in practice) */
		return MHD_YES;
	}
	if (*upload_data_size) {
		bool more = body_take(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return more ? MHD_YES : MHD_NO;
	}
	(void)dispatch(req);
	return queue(req);
}

/* ---- without a socket ---- */

/* Appends the response body of req to body: the buffer, or the stream read to its end. */
static int call_body(struct http_request *req, struct buf *body)
{
	if (req->reply_data)
		return buf_append(body, req->reply_data, req->bytes);
	if (!req->stream)
		return 0;
	char block[STREAM_BLOCK];
	for (;;) {
		ssize_t n = stream_fill(req->stream, block, sizeof block);
		if (n <= 0)
			return n == 0 ? 0 : -EIO;
		int r = buf_append(body, block, (size_t)n);
		if (r < 0)
			return r;
	}
}

/* The request of call, its head begun: 0, the status answered, or -ENOMEM. */
static int call_begin(struct http_request *req, const struct http_call *call)
{
	const char *target = call->target ? call->target : "/";
	struct httpmsg_field *fields = calloc(call->nheaders + 1, sizeof *fields);
	req->call = call;
	req->begun = true;
	req->method = strdup(call->method ? call->method : "GET");
	int r = -ENOMEM;
	if (fields && req->method && request_set_target(req, target, strlen(target)) == 0) {
		for (size_t i = 0; i < call->nheaders; i++)
			fields[i] = (struct httpmsg_field){call->headers[i].name, call->headers[i].value};
		struct httpmsg_head head = {req->method, 0, fields, call->nheaders, 0};
		r = request_begin(req, &head);
	}
	free(fields);
	return r;
}

int http_call(const struct http_options *opt, const struct http_call *call, struct buf *body,
	      unsigned *ret_status)
{
	struct http_server srv = {.opt = *opt};
	struct http_request *req = request_new(&srv, NULL);
	int r = req ? call_begin(req, call) : -ENOMEM;
	if (r < 0)
		goto out;
	if (r == 0 && body_take(req, call->body, call->body_len))
		(void)dispatch(req);
	unsigned status = req->status;
	r = call_body(req, body);
	metrics_request(req->route ? req->route->pattern : "unmatched", req->method, status,
			util_now_ns() - req->start_ns);
	if (r != -ENOMEM) {
		*ret_status = status;
		r = 0;
	}
out:
	request_free(req);
	return r;
}

/* ---- access log ---- */

/* Appends s to a text log line with control bytes, '"' and '\\' as \xHH, so a request
 * (whose path arrives URL-decoded: %0a is a newline) cannot end the line or forge one. */
static void log_escaped(struct buf *line, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
			(void)buf_printf(line, "\\x%02x", *c);
		else
			(void)buf_append(line, c, 1);
	}
}

static void log_request(struct http_request *req, uint64_t ns)
{
	if (req->srv->opt.log_format == HTTP_LOG_NONE)
		return;
	char addr[INET6_ADDRSTRLEN], when[32];
	client_address(req, addr, sizeof addr);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	double ms = (double)ns / 1e6;
	const char *method = req->method ? req->method : "-", *path = req->path ? req->path : "-";
	struct buf line;
	buf_init(&line, 16384);
	if (req->srv->opt.log_format == HTTP_LOG_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:o*, s:o*, s:i, s:I, s:f}", "time", when, "remote", addr,
				      "method", json_text(method), "path", json_text(path), "status",
				      (int)req->status, "bytes", (json_int_t)req->bytes,
				      "duration_ms", ms);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text)
			(void)buf_printf(&line, "%s\n", text);
		free(text);
		json_decref(j);
	} else {
		(void)buf_printf(&line, "%s %s \"", when, addr);
		log_escaped(&line, method);
		(void)buf_puts(&line, " ");
		log_escaped(&line, path);
		(void)buf_printf(&line, "\" %u %llu %.3fms\n", req->status,
				 (unsigned long long)req->bytes, ms);
	}
	if (line.len)
		(void)!write(STDERR_FILENO, line.data, line.len);
	buf_release(&line);
}

/* Every request on_uri created ends here, also one libmicrohttpd answered itself (a head
 * it could not parse: it is logged with the status libmicrohttpd sent, 0 when it closed
 * the connection without one) or whose client went away. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)toe;
	struct http_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	if (!req->response) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
		req->status = ci ? ci->http_status : 0;
	}
	uint64_t ns = util_now_ns() - req->start_ns;
	log_request(req, ns);
	metrics_request(req->route ? req->route->pattern : "unmatched",
			req->method ? req->method : "-", req->status, ns);
	request_free(req);
}

/* ---- daemon ---- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)socket_context;
	struct http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&srv->connections, 1);
		request_timeout(srv, conn, true); /* until its first request is answered */
	}
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&srv->connections, 1);
}

static int resolve_address(const struct http_options *opt, struct sockaddr_storage *ss,
			   struct buf *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(opt->address, NULL, &hints, &res);
	if (rc != 0 || !res) {
		if (err)
			(void)buf_printf(err, "cannot resolve listen address '%s': %s", opt->address,
					 gai_strerror(rc));
		return -EINVAL;
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)opt->port);
	else
		((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)opt->port);
	return 0;
}

int http_start(const struct http_options *opt, struct buf *err, struct http_server **ret)
{
	struct sockaddr_storage ss;
	int r = resolve_address(opt, &ss, err);
	if (r < 0)
		return r;
	struct http_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return -ENOMEM;
	srv->opt = *opt;
	const char *version = MHD_get_version();
	srv->head_in_place = version && strncmp(version, "0.", 2) == 0;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* A pool of one is no pool (libmicrohttpd warns about it): leave the option out. */
	struct MHD_OptionItem pool[] = {
		{opt->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		 (intptr_t)opt->threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: its 1 is SO_REUSEPORT, with which a second
	 * manifestd on the same port starts too and the kernel splits the connections
	 * between the two. The default (SO_REUSEADDR) still allows a restart at once. */
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)opt->port, NULL, NULL, on_request, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, opt->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt->max_connections_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, opt->timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_END);
	if (!srv->daemon) {
		if (err)
			(void)buf_printf(err, "cannot listen on %s port %u", opt->address, opt->port);
		free(srv);
		return -EADDRNOTAVAIL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : opt->port;
	*ret = srv;
	return 0;
}

unsigned http_port(const struct http_server *srv)
{
	return srv->port;
}

void http_stop(struct http_server *srv, unsigned grace_ms)
{
	if (!srv)
		return;
	MHD_socket listen_fd = MHD_quiesce_daemon(srv->daemon);
	/* Requests in flight may finish within the grace period. Connections already
	 * accepted whose request has not begun get a short while to send it; idle
	 * keep-alive connections are then closed. */
	const unsigned step = 10, settle = 300;
	unsigned idle = 0;
	for (unsigned waited = 0; waited < grace_ms; waited += step) {
		if (atomic_load(&srv->in_flight) > 0)
			idle = 0;
		else if (atomic_load(&srv->connections) == 0 || (idle += step) >= settle)
			break;
		struct timespec ts = {0, step * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(srv->daemon);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	free(srv);
}

/* http: libmicrohttpd glue: daemon start/stop, the routing table, body accumulation
 * with limits, JSON / problem+json / streamed responses, and the access log. */
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

#include "api.h"
#include "metrics.h"
#include "util.h"

#define MAX_SEGMENTS 16
#define MAX_PARAMS 4
/* The longest problem detail; a longer one (a long path quoted) is cut. */
#define PROBLEM_DETAIL_MAX 1024
#define MAX_ARGS 32
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
/* Per-connection memory of libmicrohttpd (request line, headers, the reply's header
 * and chunk framing; bodies live in our buffers): its default is 32 KiB, and at 1,000
 * idle keep-alive connections that alone is 32 MiB of RSS. Headers past it get 431. */
#define HTTP_CONNECTION_MEMORY (16u * 1024)
#define STR_(x) #x
#define STR(x) STR_(x)

/* Health, metrics (route patterns and counts only), the API description and the web
 * form are public; everything that reads or writes documents needs a token. */
static const struct http_route routes[] = {
	{"GET", "/healthz", api_healthz, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/readyz", api_readyz, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/metrics", api_metrics, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/openapi.json", api_openapi, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/api/v1/stacks", api_stacks_list, HTTP_BODY_NONE, AUTH_VIEWER},
	{"POST", "/api/v1/stacks", api_stacks_create, HTTP_BODY_JSON, AUTH_ADMIN},
	{"GET", "/api/v1/stacks/{stack}", api_stack_get, HTTP_BODY_NONE, AUTH_VIEWER},
	{"PUT", "/api/v1/stacks/{stack}", api_stack_put, HTTP_BODY_JSON, AUTH_ADMIN},
	{"DELETE", "/api/v1/stacks/{stack}", api_stack_delete, HTTP_BODY_NONE, AUTH_ADMIN},
	{"GET", "/api/v1/stacks/{stack}/environments", api_envs_list, HTTP_BODY_NONE, AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments", api_envs_create, HTTP_BODY_JSON, AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}", api_env_get, HTTP_BODY_NONE, AUTH_VIEWER},
	{"PUT", "/api/v1/stacks/{stack}/environments/{env}", api_env_put, HTTP_BODY_JSON, AUTH_EDITOR},
	{"PATCH", "/api/v1/stacks/{stack}/environments/{env}", api_env_patch, HTTP_BODY_MERGE_PATCH,
	 AUTH_EDITOR},
	{"DELETE", "/api/v1/stacks/{stack}/environments/{env}", api_env_delete, HTTP_BODY_NONE,
	 AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/manifests", api_manifests, HTTP_BODY_NONE,
	 AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/revisions", api_revisions_list,
	 HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/revisions/{n}", api_revision_get,
	 HTTP_BODY_NONE, AUTH_VIEWER},
	{"GET", "/api/v1/stacks/{stack}/environments/{env}/diff", api_env_diff, HTTP_BODY_NONE,
	 AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments/{env}/diff", api_env_diff_proposed,
	 HTTP_BODY_JSON, AUTH_VIEWER},
	{"POST", "/api/v1/stacks/{stack}/environments/{env}/rollback", api_env_rollback,
	 HTTP_BODY_JSON, AUTH_EDITOR},
	{"GET", "/api/v1/stacks/{stack}/diff", api_stack_diff, HTTP_BODY_NONE, AUTH_VIEWER},
	/* creates a stack with ?save=1 */
	{"POST", "/api/v1/import/compose", api_import_compose, HTTP_BODY_YAML, AUTH_ADMIN},
	{"POST", "/api/v1/import/manifests", api_import_manifests, HTTP_BODY_YAML, AUTH_ADMIN},
	{"POST", "/render", api_render, HTTP_BODY_JSON, AUTH_VIEWER},
	{"GET", "/", api_static, HTTP_BODY_NONE, AUTH_PUBLIC},
	{"GET", "/{file*}", api_static, HTTP_BODY_NONE, AUTH_PUBLIC},
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_options opt;
	unsigned port;
	atomic_int in_flight;   /* requests begun and not completed */
	atomic_int connections; /* open connections */
};

struct stream;

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	char *method;
	char *path;
	char *segments_mem;
	const char *segments[MAX_SEGMENTS];
	size_t segment_offsets[MAX_SEGMENTS];
	size_t nsegments;
	bool too_many_segments;
	const struct http_route *route;
	const char *params[MAX_PARAMS];
	struct buf body;
	bool too_large;
	uint64_t received; /* body bytes read, kept or not */
	json_t *json;
	struct MHD_Response *response;
	unsigned status;
	uint64_t bytes;
	uint64_t start_ns;
	struct stream *stream;
	char actor[160];
	const void *reply_data; /* the bytes of a buffer response (borrowed from it) */
	/* http_call() only (conn is NULL): the call and its decoded query arguments */
	const struct http_call *call;
	char *args_mem;
	const char *args[2 * MAX_ARGS];
	size_t nargs;
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

const struct http_route *http_routes(size_t *ret_count)
{
	*ret_count = sizeof routes / sizeof routes[0];
	return routes;
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

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn,
					const char *method, const char *url)
{
	struct http_request *req = calloc(1, sizeof *req);
	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->start_ns = util_now_ns();
	buf_init(&req->body, srv->opt.max_body);
	req->method = strdup(method);
	req->path = strdup(url[0] == '/' ? url : "/");
	if (!req->method || !req->path || split_path(req) < 0) {
		free(req->method);
		free(req->path);
		free(req->segments_mem);
		free(req);
		return NULL;
	}
	atomic_fetch_add(&srv->in_flight, 1);
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
	atomic_fetch_sub(&req->srv->in_flight, 1);
	json_decref(req->json);
	buf_release(&req->body);
	free(req->args_mem);
	free(req->method);
	free(req->path);
	free(req->segments_mem);
	free(req);
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

const char *http_query(const struct http_request *req, const char *name)
{
	if (!req->conn) {
		for (size_t i = 0; i < req->nargs; i++)
			if (strcasecmp(req->args[2 * i], name) == 0)
				return req->args[2 * i + 1];
		return NULL;
	}
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
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

int http_parse_revision_tag(const char *value, long long *ret)
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
	if (util_parse_int(digits, 1, 1LL << 62, &v) < 0)
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
		for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
			const struct http_route *r = &routes[i];
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

/* Checks the content type of a YAML route and that it has a body: 0 or the status sent. */
static int check_yaml_body(struct http_request *req, const char *mt)
{
	if (strcmp(mt, "application/yaml") != 0 && strcmp(mt, "text/yaml") != 0 &&
	    strcmp(mt, "application/x-yaml") != 0 && strcmp(mt, "text/x-yaml") != 0)
		return http_reply_problem(req, 415, NULL, NULL,
					  "content type must be application/yaml (or text/yaml, "
					  "application/x-yaml), got '%s'", mt[0] ? mt : "none");
	if (req->body.len == 0)
		return http_reply_problem(req, 400, NULL, NULL, "the request body is empty: a YAML document is required");
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

/* 0 when the parsed body is within the JSON limits, else the 422 sent. */
static int check_json_limits(struct http_request *req)
{
	struct buf ptr;
	buf_init(&ptr, BUF_NO_MAX);
	const char *why = NULL;
	int status = 0;
	if (json_over_limits(req->json, 1, &ptr, &why)) {
		json_t *errors = json_pack("[{s:s, s:s}]", "pointer", buf_cstr(&ptr), "detail", why);
		status = http_reply_problem(req, 422, errors, NULL, "the body is beyond a limit: %s %s",
					    ptr.len ? buf_cstr(&ptr) : "(document)", why);
	}
	buf_release(&ptr);
	return status;
}

/* Checks the content type and parses the body of a JSON route: 0 or the status sent. */
static int read_json_body(struct http_request *req)
{
	char mt[128];
	media_type(req, mt, sizeof mt);
	if (req->route->body == HTTP_BODY_YAML)
		return check_yaml_body(req, mt);
	bool ok = req->route->body == HTTP_BODY_MERGE_PATCH
			  ? strcmp(mt, "application/merge-patch+json") == 0 ||
				    strcmp(mt, "application/json") == 0
			  : strcmp(mt, "application/json") == 0 || ends_with(mt, "+json");
	if (!ok)
		return http_reply_problem(req, 415, NULL, NULL,
					  "content type must be %s, got '%s'",
					  req->route->body == HTTP_BODY_MERGE_PATCH
						  ? "application/merge-patch+json"
						  : "application/json",
					  mt[0] ? mt : "none");
	if (req->body.len == 0)
		return http_reply_problem(req, 400, NULL, NULL, "the request body is empty: a JSON document is required");
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

/* ---- dispatch ---- */

static int dispatch(struct http_request *req)
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
	} else if ((status = authorize(req)) != 0) {
		/* replied */
	} else if (req->too_large) {
		status = http_reply_problem(req, 413, NULL, NULL,
					    "the request body is larger than the limit of %zu bytes",
					    req->srv->opt.max_body);
	} else if (req->route->body != HTTP_BODY_NONE && (status = read_json_body(req)) != 0) {
		/* replied */
	} else {
		status = req->route->handler(req);
	}
	buf_release(&allow);
	if (!req->response)
		status = http_reply_empty(req, status >= 100 && status <= 599 ? (unsigned)status : 500);
	return status;
}

static enum MHD_Result queue(struct http_request *req)
{
	if (!req->response)
		return MHD_NO;
	return MHD_queue_response(req->conn, req->status, req->response);
}

/* The announced Content-Length, or 0 when there is none (or it does not parse). */
static unsigned long long announced_length(struct http_request *req)
{
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n;
	return cl && util_parse_int(cl, 0, 1LL << 62, &n) == 0 ? (unsigned long long)n : 0;
}

static void reply_too_large(struct http_request *req)
{
	req->too_large = true;
	(void)http_reply_problem(req, 413, NULL, NULL,
				 "the request body is larger than the limit of %zu bytes",
				 req->srv->opt.max_body);
}

/* On the request's headers: true when it was answered at once (413). A body announced
 * too large is otherwise read and dropped, and answered when it ends (see http.h). */
static bool answer_early(struct http_request *req)
{
	unsigned long long n = announced_length(req);
	if (n <= req->srv->opt.max_body)
		return false;
	const char *expect = http_header(req, MHD_HTTP_HEADER_EXPECT);
	if (n > HTTP_DRAIN_MAX || (expect && strcasecmp(expect, "100-continue") == 0)) {
		reply_too_large(req);
		return true;
	}
	req->too_large = true;
	return false;
}

/* Keeps the bytes while under the limit; true when the request must be answered now
 * (more than HTTP_DRAIN_MAX read of a body already too large). */
static bool body_append(struct http_request *req, const char *data, size_t n)
{
	req->received += n;
	if (!req->too_large && buf_append(&req->body, data, n) < 0)
		req->too_large = true;
	if (!req->too_large || req->received <= HTTP_DRAIN_MAX)
		return false;
	reply_too_large(req);
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req) {
		req = request_new(srv, conn, method, url);
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return answer_early(req) ? queue(req) : MHD_YES;
	}
	if (req->status && req->response)
		return MHD_YES; /* answered early; ignore the rest of the body */
	if (*upload_data_size) {
		bool now = body_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return now ? queue(req) : MHD_YES;
	}
	(void)dispatch(req);
	return queue(req);
}

/* ---- without a socket ---- */

/* Splits and decodes the query string "a=1&b" of a http_call() request. */
static int call_args(struct http_request *req, const char *query)
{
	req->args_mem = strdup(query);
	if (!req->args_mem)
		return -ENOMEM;
	for (char *p = req->args_mem; *p && req->nargs < MAX_ARGS;) {
		char *amp = strchrnul(p, '&');
		char *next = *amp ? amp + 1 : amp;
		*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		(void)MHD_http_unescape(p);
		if (eq)
			(void)MHD_http_unescape(eq + 1);
		req->args[2 * req->nargs] = p;
		req->args[2 * req->nargs + 1] = eq ? eq + 1 : "";
		req->nargs++;
		p = next;
	}
	return 0;
}

/* A new request for call: decoded path and query, as libmicrohttpd would give them. */
static struct http_request *call_request(struct http_server *srv, const struct http_call *call)
{
	const char *target = call->target ? call->target : "/";
	size_t plen = strcspn(target, "?");
	char *path = strndup(target, plen);
	if (!path)
		return NULL;
	(void)MHD_http_unescape(path);
	struct http_request *req = request_new(srv, NULL, call->method ? call->method : "GET", path);
	free(path);
	if (!req)
		return NULL;
	req->call = call;
	if (target[plen] == '?' && call_args(req, target + plen + 1) < 0) {
		request_free(req);
		return NULL;
	}
	return req;
}

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

int http_call(const struct http_options *opt, const struct http_call *call, struct buf *body,
	      unsigned *ret_status)
{
	struct http_server srv = {.opt = *opt};
	struct http_request *req = call_request(&srv, call);
	if (!req)
		return -ENOMEM;
	if (!answer_early(req) && !body_append(req, call->body, call->body_len))
		(void)dispatch(req);
	unsigned status = req->status;
	int r = call_body(req, body);
	metrics_request(req->route ? req->route->pattern : "unmatched", req->method, status,
			util_now_ns() - req->start_ns);
	request_free(req);
	if (r == -ENOMEM)
		return r;
	*ret_status = status;
	return 0;
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
	char addr[INET6_ADDRSTRLEN], when[32];
	client_address(req, addr, sizeof addr);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	double ms = (double)ns / 1e6;
	struct buf line;
	buf_init(&line, 16384);
	if (req->srv->opt.log_format == HTTP_LOG_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:o*, s:o*, s:i, s:I, s:f}", "time", when, "remote", addr,
				      "method", json_text(req->method), "path", json_text(req->path), "status",
				      (int)req->status, "bytes", (json_int_t)req->bytes,
				      "duration_ms", ms);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text)
			(void)buf_printf(&line, "%s\n", text);
		free(text);
		json_decref(j);
	} else {
		(void)buf_printf(&line, "%s %s \"", when, addr);
		log_escaped(&line, req->method);
		(void)buf_puts(&line, " ");
		log_escaped(&line, req->path);
		(void)buf_printf(&line, "\" %u %llu %.3fms\n", req->status,
				 (unsigned long long)req->bytes, ms);
	}
	if (line.len)
		(void)!write(STDERR_FILENO, line.data, line.len);
	buf_release(&line);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct http_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	uint64_t ns = util_now_ns() - req->start_ns;
	log_request(req, ns);
	metrics_request(req->route ? req->route->pattern : "unmatched", req->method, req->status, ns);
	request_free(req);
}

/* ---- daemon ---- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)conn;
	(void)socket_context;
	struct http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&srv->connections, 1);
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

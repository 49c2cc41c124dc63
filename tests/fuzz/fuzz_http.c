/* fuzz_http: libFuzzer harness for the HTTP request path without a socket: the message
 * rules (target, method, fields, framing; include/httpmsg.h), the decoding of path and
 * query, routing, body limits and budget (a Transfer-Encoding header makes the body
 * chunked), JSON parsing and limits, every handler, over a fresh copy of a migrated
 * SQLite database per input. Input: up to four requests separated by a line "====", each
 *   METHOD TARGET
 *   Name: value          (headers, one per line)
 *                        (an empty line)
 *   body                 (the rest) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "fuzzdb.h"
#include "http.h"
#include "store.h"

#define SEPARATOR "\n====\n"
#define MAX_REQUESTS 4
#define MAX_HEADERS 16
#define MAX_BODY 65536

static char dir[256];
static char template_db[300];
static char work_db[300];
static char *template_bytes;
static size_t template_len;

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	char block[65536];
	size_t n;
	while ((n = fread(block, 1, sizeof block, f)) > 0)
		if (buf_append(&b, block, n) < 0)
			abort();
	fclose(f);
	*ret = buf_detach(&b, ret_len);
	return *ret ? 0 : -ENOMEM;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static void cleanup(void)
{
	fuzzdb_remove(template_db);
	fuzzdb_remove(work_db);
	(void)rmdir(dir);
	free(template_bytes);
}

/* A migrated database (msa-shop seeded) made once; every input starts from its bytes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzzdb_dir("fuzz", dir, sizeof dir);
	fuzzdb_path(dir, "template.db", template_db, sizeof template_db);
	fuzzdb_path(dir, "work.db", work_db, sizeof work_db);
	struct store_options so = {template_db, 1, NULL, NULL};
	struct store *s = NULL;
	if (store_open(&so, NULL, &s) < 0)
		abort();
	store_free(s); /* checkpoints the WAL into the file */
	if (read_file(template_db, &template_bytes, &template_len) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

/* Parses one request text into call (headers point into text, which is modified). */
static void parse_request(char *text, size_t len, struct http_call *call,
			  struct http_field headers[MAX_HEADERS])
{
	char *end = text + len;
	char *nl = memchr(text, '\n', len);
	char *line_end = nl ? nl : end;
	*line_end = '\0';
	char *sp = strchr(text, ' ');
	call->method = text;
	call->target = "/";
	if (sp) {
		*sp = '\0';
		call->target = sp + 1;
	}
	call->nheaders = 0;
	char *p = nl ? nl + 1 : end;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line_end = nl ? nl : end;
		*line_end = '\0';
		if (p == line_end) { /* empty line: the body follows */
			p = nl ? nl + 1 : end;
			break;
		}
		char *colon = strchr(p, ':');
		if (colon && call->nheaders < MAX_HEADERS) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			headers[call->nheaders++] = (struct http_field){p, v};
		}
		p = nl ? nl + 1 : end;
	}
	call->headers = headers;
	call->body = p;
	call->body_len = (size_t)(end - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one NUL-terminated copy, so every piece can be a C string */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzzdb_remove(work_db);
	write_file(work_db, template_bytes, template_len);
	struct store_options so = {work_db, 1, NULL, NULL};
	struct store *store = NULL;
	if (store_open(&so, NULL, &store) < 0)
		abort();
	struct api app = {.store = store};
	struct http_options opt = {.max_body = MAX_BODY, .max_body_total = MAX_BODY, .app = &app};
	opt.routes = api_routes(&opt.nroutes);
	char *p = text, *end = text + size;
	for (int i = 0; i < MAX_REQUESTS && p <= end; i++) {
		char *sep = memmem(p, (size_t)(end - p), SEPARATOR, strlen(SEPARATOR));
		char *req_end = sep ? sep : end;
		*req_end = '\0';
		struct http_call call;
		struct http_field headers[MAX_HEADERS];
		parse_request(p, (size_t)(req_end - p), &call, headers);
		struct buf body;
		buf_init(&body, BUF_NO_MAX);
		unsigned status = 0;
		if (http_call(&opt, &call, &body, &status) == 0 &&
		    (status < 100 || status > 599 || status == 500)) {
			/* not a status, or a server error: no request may cause one */
			fprintf(stderr, "status %u: %s\n", status, buf_cstr(&body));
			abort();
		}
		buf_release(&body);
		if (!sep)
			break;
		p = sep + strlen(SEPARATOR);
	}
	store_free(store);
	free(text);
	return 0;
}

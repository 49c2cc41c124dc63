/* api_health: liveness, readiness, Prometheus metrics, the OpenAPI document, the JSON
 * Schema of documents, and the web form's static files (embedded from static/, or read
 * from --static-dir). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "embed.h"
#include "metrics.h"
#include "schema.h"

#include "static.inc"

static const struct {
	const char *suffix;
	const char *type;
} content_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
	{".woff2", "font/woff2"},
	{".map", "application/json"},
};

static const char *content_type(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++) {
		size_t s = strlen(content_types[i].suffix);
		if (n >= s && strcmp(name + n - s, content_types[i].suffix) == 0)
			return content_types[i].type;
	}
	return "application/octet-stream";
}

int api_healthz(struct http_request *req)
{
	return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

int api_readyz(struct http_request *req)
{
	struct store_conn *c = NULL;
	int r = store_acquire(((struct api *)http_app(req))->store, &c);
	if (r == 0)
		r = store_ping(c);
	store_release(c);
	if (r < 0)
		return http_reply_problem(req, 503, NULL, NULL, "the database does not answer");
	return http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

int api_metrics(struct http_request *req)
{
	struct buf out;
	buf_init(&out, 1024 * 1024);
	int r = metrics_write(&out, store_error_count(((struct api *)http_app(req))->store));
	int status = r < 0 ? http_reply_problem(req, 500, NULL, NULL, "cannot write the metrics")
			   : http_reply_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
	buf_release(&out);
	return status;
}

int api_openapi(struct http_request *req)
{
	const struct embed_file *f = embed_find(static_files, "openapi.json");
	if (!f)
		return http_reply_problem(req, 404, NULL, NULL, "no OpenAPI document was built in");
	return http_reply_static(req, 200, "application/json", f->data, f->len);
}

int api_schema(struct http_request *req)
{
	const json_t *schema = schema_json_schema();
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	char *text = schema ? json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int r = text ? buf_puts(&out, text) : -ENOMEM;
	free(text);
	int status = r < 0 ? http_reply_problem(req, 500, NULL, NULL, "cannot write the schema")
			   : http_reply_buf(req, 200, "application/schema+json", &out);
	buf_release(&out);
	return status;
}

/* true for a relative path made only of plain segments: no "", ".", "..", no backslash. */
static bool safe_path(const char *path)
{
	if (!*path || strchr(path, '\\'))
		return false;
	for (const char *p = path;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* Serves name from dir, refusing anything that resolves outside it. */
static int serve_from_dir(struct http_request *req, const char *dir, const char *name)
{
	char root[PATH_MAX], real[PATH_MAX];
	struct buf full;
	buf_init(&full, PATH_MAX - 1);
	int status = 0;
	if (!realpath(dir, root) || buf_printf(&full, "%s/%s", root, name) < 0 ||
	    !realpath(buf_cstr(&full), real) || strncmp(real, root, strlen(root)) != 0 ||
	    real[strlen(root)] != '/')
		goto out;
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		goto out;
	}
	status = http_reply_fd(req, 200, content_type(real), fd, (uint64_t)st.st_size);
out:
	buf_release(&full);
	return status;
}

int api_static(struct http_request *req)
{
	const char *name = http_param(req, 0);
	const char *dir = ((struct api *)http_app(req))->static_dir;
	if (!name || !*name)
		name = "index.html";
	int status = 0;
	if (safe_path(name)) {
		if (dir) {
			status = serve_from_dir(req, dir, name);
		} else {
			const struct embed_file *f = embed_find(static_files, name);
			if (f)
				status = http_reply_static(req, 200, content_type(name), f->data, f->len);
		}
	}
	if (status == 0)
		status = http_reply_problem(req, 404, NULL, NULL, "no file at '%s'", http_path(req));
	return status;
}

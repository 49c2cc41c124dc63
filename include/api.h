/* api: the HTTP handlers, one file per resource family (api_stacks.c, api_render.c,
 * api_health.c). The routing table in http.c maps routes to them. Each handler returns
 * the status it replied with (see http.h). http_app() of every request is a struct api. */
#ifndef MANIFESTD_API_H
#define MANIFESTD_API_H

#include "cache.h"
#include "http.h"
#include "store.h"

struct api {
	struct store *store;    /* borrowed */
	const char *static_dir; /* NULL: the files embedded from static/ */
	struct cache *cache;    /* borrowed; NULL: every bundle is rendered (api_render.c) */
};

/* api_health.c */
int api_healthz(struct http_request *req);
int api_readyz(struct http_request *req);
int api_metrics(struct http_request *req);
int api_openapi(struct http_request *req);
int api_static(struct http_request *req);

/* api_stacks.c */
int api_stacks_list(struct http_request *req);
int api_stacks_create(struct http_request *req);
int api_stack_get(struct http_request *req);
int api_stack_put(struct http_request *req);
int api_stack_delete(struct http_request *req);
int api_envs_list(struct http_request *req);
int api_envs_create(struct http_request *req);
int api_env_get(struct http_request *req);
int api_env_put(struct http_request *req);
int api_env_patch(struct http_request *req);
int api_env_delete(struct http_request *req);

/* api_render.c */
int api_manifests(struct http_request *req);
int api_render(struct http_request *req);

/* Shared by the handlers (api_stacks.c): replies with the problem that matches a store
 * error (404, 409, 412, 500); what names the resource in the detail. */
int api_store_error(struct http_request *req, int err, const char *what);

#endif

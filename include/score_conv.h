/* score_conv: what the files of the Score importer share (not an API for other modules:
 * the importer's manual is include/import_score.h). import_score.c reads the stream and
 * maps the workloads and their containers; score_resources.c maps the resources and
 * expands the placeholders.
 *
 * Ownership: struct sconv owns the documents it builds (stack, env, report) and its
 * bookkeeping objects; every json_t * of the input is borrowed from the parsed stream.
 * Helpers that build JSON record an allocation failure in rc (sticky -ENOMEM) instead of
 * returning it; the importer checks rc at its end. */
#ifndef MANIFESTD_SCORE_CONV_H
#define MANIFESTD_SCORE_CONV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* One workload of the stream. */
struct swl {
	size_t doc;          /* its index in the stream */
	const json_t *in;    /* the workload document (borrowed) */
	const char *score_name; /* metadata.name as written (borrowed) */
	char name[64];       /* the service's name */
	const char *source;  /* its file, or NULL (borrowed from sconv.sources) */
	json_t *svc;         /* the service (borrowed from the stack) */
	json_t *res;         /* resource name -> {"kind", "name"?, "type"?, ...} (owned) */
	json_t *ports;       /* Score port name -> {"name": ours, "port": number} (owned) */
	bool routed;         /* has an Ingress rule named like it */
};

struct sconv {
	json_t *docs;        /* the parsed stream (owned) */
	json_t *sources;     /* each document's file or "" (owned) */
	struct swl *wls;
	size_t nwls;
	json_t *stack, *env, *report;
	json_t *services;    /* stack.services (borrowed) */
	json_t *components;  /* stack.components (borrowed) */
	json_t *rules;       /* stack.ingress.rules (borrowed) */
	json_t *shared;      /* "type/class/id" -> component name (owned) */
	json_t *registries, *tags; /* value -> count (owned) */
	int rc;              /* sticky -ENOMEM */
};

/* Where a placeholder is expanded: env values may take component outputs. */
enum sctx { SCTX_ENV, SCTX_TEXT };

/* Remembers a failure (r < 0); returns rc. */
int sconv_oom(struct sconv *cv, int r);
/* obj[key] = value (stolen, also on failure). */
void sconv_set(struct sconv *cv, json_t *obj, const char *key, json_t *value);
/* obj[key] as an object, created when missing (NULL only after a failure). */
json_t *sconv_child(struct sconv *cv, json_t *obj, const char *key);

/* Appends {"path": "/DOC/t0/t1/t2/t3" (tokens up to the first NULL, escaped), "object",
 * "source"?, "detail"} to the report. */
void sconv_report(struct sconv *cv, const struct swl *wl, const char *t0, const char *t1, const char *t2,
		  const char *t3, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The text of a scalar (strings as they are, integers and booleans written out into tmp);
 * NULL for anything else. */
const char *sconv_scalar(const json_t *v, char *tmp, size_t n);

/* The workload whose Score name is name, or NULL. */
struct swl *sconv_workload(struct sconv *cv, const char *name);

/* score_resources.c: the resources of every workload: components (and the workload's
 * uses), services, dns, volumes, environment; routes come later (score_map_routes). */
void score_map_resources(struct sconv *cv, struct swl *wl);

/* The Ingress rules of the workload's route resources (its ports are known by then). */
void score_map_routes(struct sconv *cv, struct swl *wl);

/* s with its placeholders expanded, appended to out. In SCTX_ENV, *ret_whole (when not
 * NULL) becomes a new env source ({"component", "output"}, {"config"} or {"secret"}) when s
 * is exactly one placeholder that stands for one, else stays NULL. Placeholders with no
 * counterpart stay as text and are reported at the tokens at[0..3] (NULL-terminated). */
void score_expand(struct sconv *cv, struct swl *wl, const char *s, enum sctx ctx, struct buf *out,
		  json_t **ret_whole, const char *const at[4]);

/* The volume of a container's volume source "${resources.ID}": a new volume object
 * (emptyDir or persistent) and its name in ret_name, or NULL when the source names no
 * volume resource (reported by the caller). */
json_t *score_volume(struct sconv *cv, struct swl *wl, const char *source, char ret_name[64]);

#endif

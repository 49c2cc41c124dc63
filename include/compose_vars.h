/* compose_vars: docker compose's interpolation of ${...} in a compose file's values, as
 * the import does it: with no variable set (there is no .env file or shell here).
 *
 *   ${VAR:-default}, ${VAR-default}   the default (itself interpolated: ${A:-${B:-x}})
 *   ${VAR:+other}, ${VAR+other}       "" (VAR is unset)
 *   ${VAR}, $VAR, ${VAR:?msg}, ${VAR?msg}
 *                                     unresolved: kept as written (COMPOSE_VARS_KEEP) or
 *                                     the variable's name in lowercase (COMPOSE_VARS_NAME,
 *                                     for a value that must have some valid form, such as
 *                                     an image reference: mattermost/${APP} -> mattermost/app)
 *   $$                                kept as written: compose's escape of a '$' (what
 *                                     the container sees is for the caller to decide)
 *
 * Anything else ('$' before something that is no name, an unclosed '${') is copied as
 * written. Pure text functions, no allocation but in the caller's buffer. */
#ifndef MANIFESTD_COMPOSE_VARS_H
#define MANIFESTD_COMPOSE_VARS_H

#include <stdbool.h>

#include "buf.h"

enum compose_vars_mode {
	COMPOSE_VARS_KEEP, /* an unresolved variable stays as written */
	COMPOSE_VARS_NAME, /* an unresolved variable becomes its name in lowercase */
};

/* What an expansion met. */
struct compose_vars_info {
	unsigned defaults;   /* variables replaced by their default (or "" for :+ / +) */
	unsigned unresolved; /* variables without a default */
};

/* Appends s interpolated to out; *info (zeroed first) says what was met. 0 or -ENOMEM. */
int compose_vars_expand(const char *s, enum compose_vars_mode mode, struct buf *out,
			struct compose_vars_info *info);

#endif

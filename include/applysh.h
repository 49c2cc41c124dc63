/* applysh: generates apply.sh, the bundle's ordered apply-and-wait script.
 *
 * The script is derived from the rendered objects (their files, kinds and names), not
 * pasted from user text: every value that reaches the shell is checked against a strict
 * character set and single-quoted. The result passes shellcheck with no comment. */
#ifndef MANIFESTD_APPLYSH_H
#define MANIFESTD_APPLYSH_H

#include "buf.h"
#include "render.h"

/* Appends the apply.sh of r to out. 0, -ENOMEM, -E2BIG, or -EINVAL when a name that
 * would reach the shell is not a safe token (cannot happen for a validated document). */
int applysh_write(struct render *r, struct buf *out);

#endif

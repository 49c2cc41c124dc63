/* yamlout: the only module that talks to libyaml's emitter. Turns JSON values into YAML
 * documents whose scalars read back exactly: a string that a YAML 1.1 or 1.2 reader
 * would take for anything else (yes, no, on, 0123, 1e3, null, ~, 12:30, "", leading or
 * trailing space, ...) is quoted; newlines, quotes, ": ", "#", "---" and unicode survive.
 * Object keys are emitted in the order jansson keeps them (insertion order). */
#ifndef MANIFESTD_YAMLOUT_H
#define MANIFESTD_YAMLOUT_H

#include <jansson.h>

#include "buf.h"

struct yamlout;

/* Starts a YAML stream appending to out (borrowed; must outlive the emitter).
 * 0 and *ret, or -ENOMEM. */
int yamlout_new(struct buf *out, struct yamlout **ret);
/* Appends one document ("---" line first) holding value (borrowed).
 * 0, -ENOMEM, -E2BIG (out is full) or -EIO (emitter error). */
int yamlout_document(struct yamlout *y, const json_t *value);
/* Ends the stream and flushes everything to out. */
int yamlout_finish(struct yamlout *y);
/* Frees y; accepts NULL. Does not free out. */
void yamlout_free(struct yamlout *y);

/* Convenience: appends to out one stream holding one document of value. */
int yamlout_dump(struct buf *out, const json_t *value);

#endif

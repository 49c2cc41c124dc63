/* yamlout: the only module that talks to libyaml's emitter. Turns JSON values into YAML
 * documents whose scalars read back exactly: a string that a YAML 1.1 or 1.2 reader
 * would take for anything else (yes, no, on, 0123, 1e3, null, ~, 12:30, "", leading or
 * trailing space, ...) is quoted; newlines, quotes, ": ", "#", "---" and unicode survive.
 * Object keys are emitted in the order jansson / the node tree keeps them (insertion
 * order). */
#ifndef MANIFESTD_YAMLOUT_H
#define MANIFESTD_YAMLOUT_H

#include <jansson.h>

#include "buf.h"
#include "node.h"

/* Deepest nesting of arrays/objects accepted (deeper values give -EINVAL). */
#define YAMLOUT_MAX_DEPTH 64

struct yamlout;

/* Starts a YAML stream appending to out (borrowed; must outlive the emitter).
 * 0 and *ret, or -ENOMEM. */
int yamlout_new(struct buf *out, struct yamlout **ret);
/* Appends one document ("---" line first) holding value (borrowed) and flushes it to out,
 * so out holds every complete document emitted so far.
 * 0, -ENOMEM, -E2BIG (out is full), -EINVAL (value NULL, nested deeper than
 * YAMLOUT_MAX_DEPTH, stream finished or failed before) or -EIO (emitter error). After a
 * failure y can only be freed (every other call gives -EINVAL); out then holds a
 * truncated stream. */
int yamlout_document(struct yamlout *y, const json_t *value);
/* The same for a node tree (borrowed): render's output, emitted without conversion. */
int yamlout_node(struct yamlout *y, const struct node *value);
/* Sends the documents that follow to out (borrowed; must outlive its use) instead of the
 * buffer before, which keeps every byte of the documents before it (each is flushed).
 * One emitter can so write many files: each buffer holds exactly the bytes a stream of
 * its own documents would (yamlout writes no directives and no block scalars, so a
 * document after another starts with "---" at column 0 as a first one does).
 * 0, or -EINVAL (out NULL, stream finished or failed). */
int yamlout_set_output(struct yamlout *y, struct buf *out);
/* Ends the stream and flushes everything to out. 0, the errors of yamlout_document, or
 * 0 at once when finished already. */
int yamlout_finish(struct yamlout *y);
/* Frees y; accepts NULL. Does not free out. */
void yamlout_free(struct yamlout *y);

/* Convenience: appends to out one stream holding one document of value. */
int yamlout_dump(struct buf *out, const json_t *value);

#endif

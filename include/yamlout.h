/* yamlout: the only module that writes YAML. Turns node trees (and JSON values) into YAML
 * documents whose scalars read back exactly: a string that a YAML 1.1 or 1.2 reader
 * would take for anything else (yes, no, on, 0123, 1e3, null, ~, 12:30, "", leading or
 * trailing space, ...) is quoted; newlines, quotes, ": ", "#", "---" and unicode survive.
 * Object keys are written in the order jansson / the node tree keeps them (insertion
 * order).
 *
 * yamlout writes one block style itself, straight from the trees into the output buffer
 * (no events, no allocation per scalar), byte for byte what libyaml's emitter writes for
 * the same events (block mappings and sequences, indent 2, sequences in a mapping not
 * indented, no line folding, LF breaks, "---" before every document, no "..."; empty
 * collections as {} and []; keys longer than 128 bytes or holding a line break as "? "
 * keys; unicode written as is where YAML allows it):
 * - a string is plain when yamlout_is_plain() says so, else double-quoted with libyaml's
 *   escapes (\" \\ \0 \a \b \t \n \v \f \r \e \N \L \P, \xXX, \uXXXX, \UXXXXXXXX for
 *   everything YAML does not print: C0 and C1 controls, DEL, BOM, U+FFFE/U+FFFF, and
 *   characters beyond U+FFFF);
 * - integers, reals, booleans and null are plain: decimal, "%.17g" with a ".0" added
 *   where it has no point (a YAML 1.1 float needs one), true/false, null.
 * libyaml is the judge in the tests (tests/support/yamljudge.h): everything written is
 * read back with its parser, and compared with its emitter's bytes. */
#ifndef MANIFESTD_YAMLOUT_H
#define MANIFESTD_YAMLOUT_H

#include <jansson.h>
#include <stdbool.h>

#include "buf.h"
#include "node.h"

/* Deepest nesting of arrays/objects accepted (deeper values give -EINVAL). */
#define YAMLOUT_MAX_DEPTH 64

struct yamlout;

/* Starts a YAML stream appending to out (borrowed; must outlive the writer). Writes
 * nothing (no BOM, no directive). 0 and *ret, or -ENOMEM. */
int yamlout_new(struct buf *out, struct yamlout **ret);
/* Appends one document ("---" first, a line break last) holding value (borrowed).
 * 0, -ENOMEM, -E2BIG (out would pass its maximum), or -EINVAL: value NULL, nested deeper
 * than YAMLOUT_MAX_DEPTH, a string not valid UTF-8 (RFC 3629: no overlong form,
 * surrogate or code point past U+10FFFF; YAML cannot carry it), a real not finite, the
 * stream finished or failed before. On failure out is cut back to where the document
 * began, so it holds exactly the documents written before, and y can only be freed
 * (every other call gives -EINVAL). */
int yamlout_document(struct yamlout *y, const json_t *value);
/* The same for a node tree (borrowed): render's output, written without conversion. */
int yamlout_node(struct yamlout *y, const struct node *value);
/* Sends the documents that follow to out (borrowed; must outlive its use) instead of the
 * buffer before. One writer can so write many files: each buffer holds exactly the bytes
 * a stream of its own documents would. 0, or -EINVAL (out NULL, stream finished or
 * failed). */
int yamlout_set_output(struct yamlout *y, struct buf *out);
/* Ends the stream (writes nothing). 0, or -EINVAL after a failure. */
int yamlout_finish(struct yamlout *y);
/* Frees y; accepts NULL. Does not free out. */
void yamlout_free(struct yamlout *y);

/* Convenience: appends to out one stream holding one document of value. */
int yamlout_dump(struct buf *out, const json_t *value);

/* ---- what yamlout writes for one scalar (for the tests' libyaml reference path) ---- */

/* Whether the string s (len bytes) is written plain: true only when every YAML 1.1 and
 * 1.2 reader takes it back as this string, and libyaml would write it plain too.
 * Conservative: anything doubtful is quoted. */
bool yamlout_is_plain(const char *s, size_t len);

/* Room for the text of any scalar that is not a string. */
#define YAMLOUT_SCALAR_MAX 40

/* The text of the scalar node n as yamlout writes it: *ret_text is n's own string or the
 * text of a number, boolean or null formatted into tmp; *ret_plain false when it is
 * double-quoted. 0, or -EINVAL (n NULL or a collection, a string not valid UTF-8, a real
 * not finite). */
int yamlout_scalar(const struct node *n, char tmp[YAMLOUT_SCALAR_MAX], const char **ret_text,
		   size_t *ret_len, bool *ret_plain);

#endif

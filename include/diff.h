/* diff: differences between two versions of a bundle. Pure: no I/O, no HTTP, no SQLite.
 *
 * - diff_unified(): a unified diff of two texts (what `diff -u` and `git diff` print):
 *   "--- a/NAME" / "+++ b/NAME" (or "/dev/null" for a file that does not exist on that
 *   side), then "@@ -l,s +l,s @@" hunks with `context` lines around each change; hunks
 *   closer than 2 * context lines are joined. Lines are split after '\n'; a last line with
 *   no '\n' is followed by "\ No newline at end of file", and differs from the same line
 *   with one. The line alignment is a shortest edit script (Myers); when it would cost
 *   more than DIFF_MAX_COST steps, the differing middle of the file is shown as removed
 *   and added as a whole (still a correct diff, only a longer one).
 * - diff_objects(): Kubernetes objects compared field by field, with JSON Pointer paths.
 *
 * Ownership: inputs are borrowed; results are appended to a caller's buf or returned as a
 * new JSON reference the caller json_decref()s. */
#ifndef MANIFESTD_DIFF_H
#define MANIFESTD_DIFF_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/* Context lines of the hunks the API sends. */
#define DIFF_CONTEXT 3
/* Largest edit distance D (lines) searched for; beyond it see above. */
#define DIFF_MAX_COST 2000

/* Appends the unified diff of file name from text a (alen bytes; NULL: the file does not
 * exist) to text b (blen bytes; NULL: does not exist). Appends nothing when a and b are
 * equal (or both NULL). name is written as is after "a/" and "b/".
 * 0, -ENOMEM, or -E2BIG (out's maximum reached; out then holds a truncated diff). */
int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
		 unsigned context, struct buf *out);

/* Compares two bundles. from and to are JSON objects: file name -> array of Kubernetes
 * objects (each with kind and metadata.name; objects without them are skipped). Objects
 * are matched by kind + metadata.namespace + metadata.name, wherever their file.
 * *ret_changes gets a new array, in file-name order (objects of `to` in order, then those
 * only in `from`), of
 *   {"kind", "name", "file", "change": "added"|"removed"|"modified",
 *    "fields": [{"path": JSON Pointer into the object, "from": value, "to": value}]}
 * fields is [] for added and removed objects; "from" is null for an added field, "to" null
 * for a removed one. Arrays whose items are all objects with distinct string "name"
 * members (containers, env, ports, volumes) are matched by name, and the path uses the
 * index in `to` (in `from` for an item that was removed); other arrays are compared index
 * by index. Unmodified objects are not listed. 0 or -ENOMEM. */
int diff_objects(const json_t *from, const json_t *to, json_t **ret_changes);

/* Every difference between two JSON values (either may be NULL: absent) as a new array of
 * {"path", "from", "to"} with the rules of diff_objects' fields; [] when equal.
 * 0 or -ENOMEM. */
int diff_values(const json_t *from, const json_t *to, json_t **ret_fields);

/* The member names of two objects (a bundle's file names), sorted, each once: a new array
 * in *ret (caller free()s it; the names are borrowed from the objects) of *ret_n names.
 * 0 or -ENOMEM. */
int diff_file_names(const json_t *from, const json_t *to, const char ***ret, size_t *ret_n);

#endif

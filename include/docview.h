/* docview: a resolved document (model_resolve, docs/schema.md) read once into typed,
 * type-checked views, so that render's builders take struct fields instead of looking
 * paths up again. The structs are generated from server/schema.json by server/viewgen.c
 * (docview_types.h, in the build directory): one struct per "view" name there, members
 * named after the document's fields in snake_case (targetPort -> target_port).
 *
 * How members map (see viewgen.c): strings -> const char *; integers -> json_int_t (a
 * nullable one -> struct opt_int); booleans -> bool (a
 * nullable one -> struct opt_bool); intOrString -> struct int_or_string
 * (str NULL for a number); objects -> an embedded struct, or a const pointer that is NULL
 * when the member is null or absent (nullable objects, and the alternatives of a oneOf:
 * probe kinds, volume sources); maps and arrays of objects -> struct VIEW_list {count,
 * items, present}, items in document order, each item's `name` its key (NULL for array
 * items); maps of strings, other arrays, raw objects -> const json_t * (NULL when null
 * or absent). Members marked inputOnly in the schema are not in the views.
 *
 * Invariants, after a successful docview_read():
 * - every member the resolved document must have is there with the type the struct says
 *   (a missing member or one of another type is -EINVAL); maps of strings hold strings;
 * - strings and json_t pointers are borrowed from the document (it must outlive the views
 *   and not change meanwhile); lists and pointed-to structs live in the caller's arena.
 * Pure: no I/O, no logging. Member order in the document does not matter. */
#ifndef MANIFESTD_DOCVIEW_H
#define MANIFESTD_DOCVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "docview_types.h"
#include "node.h"

/* Reads doc (borrowed) into *ret_view; the lists and structs behind pointers are
 * allocated in a. 0; -EINVAL when doc is not a resolved document (not an object, a member
 * missing or of another type, a map of strings holding a non-string, a service name that
 * is not a DNS label); -ENOMEM (a may hold part of the views). *ret_view is written only
 * on success. */
int docview_read(const json_t *doc, struct arena *a, struct doc_view *ret_view);

/* The service called name in view, or NULL. Borrowed from view. */
const struct service_view *docview_find_service(const struct doc_view *view, const char *name);

/* What view holds, as the JSON it was read from: a new object equal (json_equal) to the
 * document docview_read() read, but for members the views leave out (inputOnly ones).
 * For tests and debugging. NULL on allocation failure. */
json_t *docview_to_json(const struct doc_view *view);

#endif

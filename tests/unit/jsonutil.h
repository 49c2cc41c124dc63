/* jsonutil: JSON helpers shared by the unit tests. Every function fails the running Check
 * test on error instead of returning one. */
#ifndef MANIFESTD_TEST_JSONUTIL_H
#define MANIFESTD_TEST_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>

/* The built-in document `name` (e.g. "msa-shop/stack.json", see seed.h), parsed; the
 * caller json_decref()s. */
json_t *jsonutil_seed(const char *name);
/* A deep copy of v with the members of every object in reverse order, but for the values
 * of the members whose key keep() accepts (keep may be NULL), copied as they are; the
 * caller json_decref()s. */
json_t *jsonutil_reversed(const json_t *v, bool (*keep)(const char *key));

#endif

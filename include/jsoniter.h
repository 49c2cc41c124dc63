/* jsoniter: stepping through a jansson object's members with its iterator. */
#ifndef MANIFESTD_JSONITER_H
#define MANIFESTD_JSONITER_H

#include <jansson.h>

/* Like json_object_foreach, but steps with the iterator instead of looking every key up
 * again (jansson's macro hashes each key once more per step). Setting an existing key
 * during the loop is fine; adding or deleting keys of obj is not. A loop that only needs
 * the values may leave key unread. */
#define EACH_MEMBER(obj, key, value)                                                          \
	for (void *it_ = json_object_iter((json_t *)(obj));                                   \
	     it_ && ((key) = json_object_iter_key(it_), (value) = json_object_iter_value(it_), 1); \
	     (void)(key), it_ = json_object_iter_next((json_t *)(obj), it_))

/* The length of the key EACH_MEMBER is at (jansson keeps it: no strlen). */
#define MEMBER_KEY_LEN() json_object_iter_key_len(it_)

#endif

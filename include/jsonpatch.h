/* jsonpatch: RFC 6902 JSON Patch (add, remove, replace, move, copy, test) applied to
 * jansson values, with RFC 6901 JSON Pointers. All or nothing: a patch whose operation
 * fails leaves the document as it was, and says which operation failed and why.
 * Pure: no I/O; no messages (the caller words them, see enum jsonpatch_fault). */
#ifndef MANIFESTD_JSONPATCH_H
#define MANIFESTD_JSONPATCH_H

#include <jansson.h>
#include <stddef.h>

/* Returned when an operation fails; struct jsonpatch_failure says which and why. */
#define JSONPATCH_EFAIL (-2000)

enum jsonpatch_fault {
	JSONPATCH_BAD_OP,       /* not an object with a known "op" and a string "path" */
	JSONPATCH_NO_VALUE,     /* add, replace or test without "value" */
	JSONPATCH_NO_FROM,      /* move or copy without a string "from" */
	JSONPATCH_BAD_POINTER,  /* "path" or "from" is not a JSON Pointer */
	JSONPATCH_NOT_FOUND,    /* nothing at the pointer (remove, replace, move, copy, test) */
	JSONPATCH_NO_PARENT,    /* add: nothing, or a scalar, where the new value's parent should be */
	JSONPATCH_BAD_INDEX,    /* an array index that is not a number in range ("-" only for add) */
	JSONPATCH_INTO_ITSELF,  /* move: "path" is inside "from" */
	JSONPATCH_ROOT,         /* remove of the whole document */
	JSONPATCH_TEST_FAILED,  /* test: the value differs */
};

/* Where and why a patch failed. pointer is the failing operation's "path" (or "from"
 * for a fault of it), borrowed from the operations. */
struct jsonpatch_failure {
	size_t index; /* of the operation in the patch */
	enum jsonpatch_fault fault;
	const char *member;  /* "path" or "from" */
	const char *pointer;
};

/* Applies the operations of ops (a JSON array, borrowed) to *doc in order. 0 and *doc the
 * patched value (a new one replacing the old: the caller's reference now owns it);
 * JSONPATCH_EFAIL and *ret_failure filled, *doc unchanged; -ENOMEM (*doc unchanged). */
int jsonpatch_apply(json_t **doc, const json_t *ops, struct jsonpatch_failure *ret_failure);

#endif

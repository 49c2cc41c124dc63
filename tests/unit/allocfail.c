/* allocfail: the wrapped allocators of the unit tests (see allocfail.h). */
#include "allocfail.h"

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1; /* the number of the allocation that fails; -1: none */
static long made;

void allocfail_after(long n)
{
	made = 0;
	fail_at = n;
}

void allocfail_off(void)
{
	fail_at = -1;
}

long allocfail_count(void)
{
	return made;
}

/* Whether the allocation being asked for fails. */
static int fails(void)
{
	return made++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fails() ? NULL : __real_realloc(p, n);
}

/* allocfail: makes one allocation of the code under test fail, to walk every error path
 * of a module ("make every allocation fail in turn"). The unit tests are linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every malloc, calloc and realloc
 * call of the server code and of the tests goes through here; libraries (jansson,
 * libyaml, libarchive, libc itself) allocate as usual (jansson has json_set_alloc_funcs
 * for that). */
#ifndef MANIFESTD_TEST_ALLOCFAIL_H
#define MANIFESTD_TEST_ALLOCFAIL_H

/* The allocation after the next n ones fails (returns NULL); every other succeeds. */
void allocfail_after(long n);
/* No allocation fails any more. */
void allocfail_off(void);
/* Allocations asked for since the last allocfail_after (the failed one included). */
long allocfail_count(void);

#endif

/* fsutil: file-system helpers for the bundle and applysh tests. Every function fails the
 * running Check test on error instead of returning one. */
#ifndef MANIFESTD_TEST_FSUTIL_H
#define MANIFESTD_TEST_FSUTIL_H

#include <stddef.h>

/* A new empty folder under $TMPDIR (or /tmp); the caller frees the path. */
char *fsutil_tmpdir(void);
/* Writes dir/name with the given content (a C string) and mode. */
void fsutil_write(const char *dir, const char *name, const char *content, unsigned mode);
/* The content of dir/name as a C string the caller frees; *ret_len when not NULL. */
char *fsutil_read_n(const char *dir, const char *name, size_t *ret_len);
char *fsutil_read(const char *dir, const char *name);
/* Removes dir and everything below it. */
void fsutil_rmtree(const char *dir);
/* Runs a shell command (printf format) and returns its exit status (-1 on a signal). */
int fsutil_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

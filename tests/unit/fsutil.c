/* fsutil: temporary folders, whole-file reads and writes, shell commands for tests. */
#include "fsutil.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

char *fsutil_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&b, "%s/manifestd-test-XXXXXX", base && base[0] ? base : "/tmp"), 0);
	char *path = buf_detach(&b, NULL);
	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(mkdtemp(path));
	return path;
}

static char *join(const char *dir, const char *name)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&b, "%s/%s", dir, name), 0);
	char *p = buf_detach(&b, NULL);
	ck_assert_ptr_nonnull(p);
	return p;
}

void fsutil_write(const char *dir, const char *name, const char *content, unsigned mode)
{
	char *path = join(dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create '%s'", path);
	size_t n = strlen(content);
	ck_assert_uint_eq(fwrite(content, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	free(path);
}

char *fsutil_read_n(const char *dir, const char *name, size_t *ret_len)
{
	char *path = join(dir, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	struct buf b;
	char chunk[4096];
	size_t n;
	buf_init(&b, BUF_NO_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ck_assert_int_eq(buf_append(&b, chunk, n), 0);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
	char *s = buf_detach(&b, ret_len);
	ck_assert_ptr_nonnull(s);
	return s;
}

char *fsutil_read(const char *dir, const char *name)
{
	return fsutil_read_n(dir, name, NULL);
}

void fsutil_rmtree(const char *dir)
{
	ck_assert_ptr_null(strchr(dir, '\''));
	ck_assert_int_eq(fsutil_sh("rm -rf -- '%s'", dir), 0);
}

int fsutil_sh(const char *fmt, ...)
{
	struct buf cmd;
	va_list ap;
	buf_init(&cmd, BUF_NO_MAX);
	va_start(ap, fmt);
	ck_assert_int_eq(buf_vprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	int status = system(buf_cstr(&cmd));
	buf_release(&cmd);
	ck_assert_int_ne(status, -1);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

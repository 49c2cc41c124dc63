/* test_zipout: the zip writer against libarchive, the library it replaces on the hot path:
 * with every entry stored its bytes are libarchive's writer's, byte for byte; deflated
 * ones read back with libarchive's reader (and `unzip -t` where installed); full buffers
 * at every length, limits, every allocation failing in turn. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocfail.h"
#include "buf.h"
#include "fsutil.h"
#include "suites.h"
#include "zipout.h"

struct member {
	const char *path;
	unsigned mode; /* a folder when path ends in '/' */
	size_t len;
	char *data;
};

/* A folder and files of several sizes and contents: text that deflates well, bytes that
 * do not, empty, one byte. */
static struct member *members(size_t *ret_n)
{
	static const struct {
		const char *path;
		unsigned mode;
		size_t len;
		int random;
	} spec[] = {
		{"top/", 0755, 0, 0},           {"top/a.yaml", 0644, 5000, 0}, {"top/apply.sh", 0755, 3000, 0},
		{"top/empty", 0644, 0, 0},      {"top/one", 0644, 1, 0},       {"top/noise.bin", 0600, 4096, 1},
		{"top/small.yaml", 0644, 700, 0},
	};
	size_t n = sizeof spec / sizeof spec[0];
	struct member *m = calloc(n, sizeof *m);
	ck_assert_ptr_nonnull(m);
	uint32_t seed = 12345;
	for (size_t i = 0; i < n; i++) {
		m[i] = (struct member){spec[i].path, spec[i].mode, spec[i].len, malloc(spec[i].len + 1)};
		ck_assert_ptr_nonnull(m[i].data);
		for (size_t k = 0; k < spec[i].len; k++) {
			seed = seed * 1103515245 + 12345;
			m[i].data[k] = spec[i].random ? (char)(seed >> 16) : "key: value\n  - item\n"[k % 20];
		}
	}
	*ret_n = n;
	return m;
}

static void members_free(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].data);
	free(m);
}

static bool is_dir(const struct member *m)
{
	return m->path[strlen(m->path) - 1] == '/';
}

/* The archive of the members through zipout into out: its result. */
static int zip_members(const struct member *m, size_t n, size_t store_below, struct buf *out)
{
	struct zipout *z = NULL;
	int r = zipout_new(out, 1, store_below, &z);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = is_dir(&m[i]) ? zipout_dir(z, m[i].path, m[i].mode) : zipout_file(z, m[i].path, m[i].mode, m[i].data, m[i].len);
	if (r == 0)
		r = zipout_finish(z);
	zipout_free(z);
	return r;
}

static la_ssize_t to_buf(struct archive *a, void *client, const void *data, size_t n)
{
	(void)a;
	return buf_append(client, data, n) == 0 ? (la_ssize_t)n : -1;
}

/* The same members written by libarchive's zip writer, every entry stored, with no time
 * and owner 0, as the bundle wrote zips before zipout. */
static void libarchive_zip(const struct member *m, size_t n, struct buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open(a, out, NULL, to_buf, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, m[i].path);
		archive_entry_set_filetype(e, is_dir(&m[i]) ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, m[i].mode);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		archive_entry_unset_mtime(e);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		ck_assert_int_eq(archive_write_zip_set_compression_store(a), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].len)
			ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

START_TEST(stored_archive_is_libarchives)
{
	size_t n;
	struct member *m = members(&n);
	struct buf ours, theirs;
	buf_init(&ours, BUF_NO_MAX);
	buf_init(&theirs, BUF_NO_MAX);
	ck_assert_int_eq(zip_members(m, n, SIZE_MAX, &ours), 0);
	libarchive_zip(m, n, &theirs);
	size_t at = 0;
	while (at < ours.len && at < theirs.len && ours.data[at] == theirs.data[at])
		at++;
	ck_assert_msg(at == ours.len && at == theirs.len, "differs from byte %zu (%zu and %zu bytes)", at, ours.len,
		      theirs.len);
	buf_release(&ours);
	buf_release(&theirs);
	members_free(m, n);
}
END_TEST

/* Reads zip back with libarchive: exactly the members, in order, with their modes, and
 * their bytes; the deflated ones at least as many as deflate. */
static void assert_reads_back(const struct buf *zip, const struct member *m, size_t n)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	ck_assert_int_eq(archive_read_support_format_zip(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_open_memory(a, zip->data, zip->len), ARCHIVE_OK);
	size_t i = 0;
	for (; archive_read_next_header(a, &e) == ARCHIVE_OK; i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_str_eq(archive_entry_pathname(e), m[i].path);
		ck_assert_uint_eq(archive_entry_mode(e) & 07777, m[i].mode);
		ck_assert_uint_eq(archive_entry_filetype(e), is_dir(&m[i]) ? AE_IFDIR : AE_IFREG);
		ck_assert_uint_eq(archive_entry_uid(e), 0);
		char *got = malloc(m[i].len + 1);
		la_ssize_t len = archive_read_data(a, got, m[i].len + 1);
		ck_assert_int_eq(len, (la_ssize_t)m[i].len);
		ck_assert(m[i].len == 0 || memcmp(got, m[i].data, m[i].len) == 0);
		free(got);
	}
	ck_assert_uint_eq(i, n);
	archive_read_free(a);
}

START_TEST(deflated_archive_reads_back)
{
	size_t n;
	struct member *m = members(&n);
	struct buf z;
	buf_init(&z, BUF_NO_MAX);
	ck_assert_int_eq(zip_members(m, n, 1024, &z), 0);
	assert_reads_back(&z, m, n);
	/* the text is deflated (much smaller), the noise stored (deflate does not help) */
	size_t text = 5000 + 3000 + 4096 + 700 + 1;
	ck_assert_uint_lt(z.len, text);
	ck_assert_ptr_nonnull(memmem(z.data, z.len, m[5].data, m[5].len));
	if (fsutil_sh("command -v unzip >/dev/null") == 0) {
		char *dir = fsutil_tmpdir();
		struct buf path;
		buf_init(&path, BUF_NO_MAX);
		ck_assert_int_eq(buf_printf(&path, "%s/t.zip", dir), 0);
		FILE *f = fopen(buf_cstr(&path), "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(z.data, 1, z.len, f), z.len);
		fclose(f);
		ck_assert_int_eq(fsutil_sh("unzip -tq '%s' >/dev/null", buf_cstr(&path)), 0);
		buf_release(&path);
		fsutil_rmtree(dir);
		free(dir);
	}
	buf_release(&z);
	members_free(m, n);
}
END_TEST

/* A buffer of any maximum short of the archive gives -E2BIG (never more than the maximum);
 * from the archive's length on, the archive. */
START_TEST(full_buffer_at_every_length)
{
	size_t n;
	struct member *m = members(&n);
	struct buf whole, b;
	buf_init(&whole, BUF_NO_MAX);
	ck_assert_int_eq(zip_members(m, n, 1024, &whole), 0);
	for (size_t max = 0; max <= whole.len + 2; max++) {
		buf_init(&b, max);
		int r = zip_members(m, n, 1024, &b);
		ck_assert_int_eq(r, max < whole.len ? -E2BIG : 0);
		ck_assert_uint_le(b.len, max);
		ck_assert(r < 0 || (b.len == whole.len && memcmp(b.data, whole.data, b.len) == 0));
		buf_release(&b);
	}
	buf_release(&whole);
	members_free(m, n);
}
END_TEST

START_TEST(limits_and_misuse)
{
	struct buf b;
	struct zipout *z = NULL;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(zipout_new(&b, 0, 1024, &z), -EINVAL);
	ck_assert_int_eq(zipout_new(&b, 13, 1024, &z), -EINVAL);
	ck_assert_int_eq(zipout_new(&b, 1, 1024, &z), 0);
	char *long_path = malloc(70000);
	memset(long_path, 'p', 69999);
	long_path[69999] = '\0';
	ck_assert_int_eq(zipout_file(z, long_path, 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(zipout_file(z, "ok", 0644, "x", 1), -EINVAL); /* failed before */
	zipout_free(z);
	ck_assert_int_eq(zipout_new(&b, 1, 1024, &z), 0);
	ck_assert_int_eq(zipout_finish(z), 0);
	ck_assert_int_eq(zipout_dir(z, "late/", 0755), -EINVAL);
	ck_assert_int_eq(zipout_finish(z), -EINVAL);
	zipout_free(z);
	zipout_free(NULL);
	free(long_path);
	buf_release(&b);
}
END_TEST

/* Every allocation (the writer, its central directory, the compressor, the buffer
 * growing) fails in turn: -ENOMEM, nothing leaks. */
START_TEST(allocation_failures)
{
	size_t n;
	struct member *m = members(&n);
	libdeflate_set_memory_allocator(malloc, free); /* the wrapped ones: allocfail.h */
	long step;
	int r = -ENOMEM;
	for (step = 0; r != 0; step++) {
		struct buf b;
		buf_init(&b, BUF_NO_MAX);
		allocfail_after(step);
		r = zip_members(m, n, 1024, &b);
		allocfail_off();
		ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %ld failing gave %d", step, r);
		buf_release(&b);
	}
	ck_assert_int_ge(step, 4);
	members_free(m, n);
}
END_TEST

Suite *zipout_suite(void)
{
	Suite *s = suite_create("zipout");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, stored_archive_is_libarchives);
	tcase_add_test(tc, deflated_archive_reads_back);
	tcase_add_test(tc, full_buffer_at_every_length);
	tcase_add_test(tc, limits_and_misuse);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

/* test_bundle: every output format of the built-in msa-shop bundles: same bytes on every
 * build, archives read back with libarchive's reader, YAML read back with libyaml, JSON
 * with jansson, the folder written to disk. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#include "applysh.h"
#include "bundle.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "model.h"
#include "render.h"
#include "suites.h"
#include "yamlcheck.h"
#include "yamlout.h"

static const char *const envs[] = { "dev", "staging", "prod" };

/* The render of msa-shop/env named as meta says, with one more service of that name
 * when extra_service is not NULL; caller render_free()s. Its YAML files are judged by
 * libyaml (yamlcheck_bundle) before it is handed out. */
static struct render *make_render_as(const char *env, const struct render_meta *meta, const char *extra_service)
{
	json_t *stack = jsonutil_seed("msa-shop/stack.json");
	if (extra_service)
		ck_assert_int_eq(json_object_set_new(json_object_get(stack, "services"), extra_service,
						     json_pack("{s:{s:s},s:i}", "image", "repository", "extra", "port", 8090)),
				 0);
	struct buf path;
	buf_init(&path, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&path, "msa-shop/%s.json", env), 0);
	json_t *envdoc = jsonutil_seed(buf_cstr(&path));
	struct model_errors errs;
	json_t *doc = NULL;
	struct render *r = NULL;
	model_errors_init(&errs);
	ck_assert_int_eq(model_resolve("msa-shop", stack, env, envdoc, NULL, &errs, &doc), 0);
	ck_assert_int_eq(render_new(doc, meta, NULL, &r), 0);
	yamlcheck_bundle(r);
	model_errors_release(&errs);
	json_decref(doc);
	json_decref(stack);
	json_decref(envdoc);
	buf_release(&path);
	return r;
}

/* The render of msa-shop/env (a fresh one each call); caller render_free()s. */
static struct render *make_render(const char *env)
{
	static const struct render_meta metas[] = {
		{ "msa-shop", "dev", 4 }, { "msa-shop", "staging", 0 }, { "msa-shop", "prod", 12 },
	};
	const struct render_meta *meta = NULL;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(metas[i].environment, env) == 0)
			meta = &metas[i];
	ck_assert_ptr_nonnull(meta);
	return make_render_as(env, meta, NULL);
}

/* All objects of the render, in file order: a new array. */
static json_t *all_objects(struct render *r)
{
	json_t *all = json_array();
	for (size_t i = 0; i < render_file_count(r); i++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(r, i, &objs), 0);
		ck_assert_int_eq(json_array_extend(all, objs), 0);
		json_decref(objs);
	}
	return all;
}

/* The mode of bundle file name: apply.sh 0755, a manifest file with Secret values 0600,
 * anything else 0644. */
static unsigned expected_mode(struct render *r, const char *name)
{
	if (strcmp(name, "apply.sh") == 0)
		return 0755;
	for (size_t i = 0; i < render_file_count(r); i++) {
		if (strcmp(render_file_name(r, i), name) != 0)
			continue;
		const struct node *objects = NULL;
		ck_assert_int_eq(render_file_nodes(r, i, &objects), 0);
		return applysh_holds_secret_values(objects) ? 0600 : 0644;
	}
	return 0644;
}

static void build(struct render *r, enum bundle_format f, struct buf *out)
{
	buf_init(out, BUF_NO_MAX);
	ck_assert_int_eq(bundle_build(r, f, out), 0);
	ck_assert_uint_gt(out->len, 0);
}

/* name -> content of every file, from the files format. */
static json_t *files_by_name(struct render *r, json_t **ret_list)
{
	struct buf b;
	build(r, BUNDLE_FILES, &b);
	json_t *doc = json_loadb(b.data, b.len, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	json_t *map = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "files"), i, f)
		json_object_set(map, json_string_value(json_object_get(f, "name")), json_object_get(f, "content"));
	if (ret_list)
		*ret_list = json_incref(json_object_get(doc, "files"));
	json_decref(doc);
	buf_release(&b);
	return map;
}

START_TEST(format_names)
{
	enum bundle_format f;
	static const char *const names[] = { "zip", "tar.gz", "yaml", "json", "dir", "files" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(bundle_format_parse(names[i], &f), 0);
		ck_assert_str_eq(bundle_format_name(f), names[i]);
	}
	ck_assert_int_eq(bundle_format_parse("tgz", &f), 0);
	ck_assert_int_eq(f, BUNDLE_TARGZ);
	ck_assert_str_eq(bundle_format_mime(f), "application/gzip");
	ck_assert_str_eq(bundle_format_suffix(f), ".tar.gz");
	ck_assert_str_eq(bundle_format_mime(BUNDLE_ZIP), "application/zip");
	ck_assert_str_eq(bundle_format_mime(BUNDLE_YAML), "application/yaml");
	ck_assert_str_eq(bundle_format_mime(BUNDLE_FILES), "application/json");
	ck_assert_str_eq(bundle_format_suffix(BUNDLE_DIR), "");
	f = BUNDLE_YAML;
	ck_assert_int_eq(bundle_format_parse("ZIP", &f), -EINVAL);
	ck_assert_int_eq(bundle_format_parse("", &f), -EINVAL);
	ck_assert_int_eq(bundle_format_parse(NULL, &f), -EINVAL);
	ck_assert_int_eq(f, BUNDLE_YAML);
}
END_TEST

START_TEST(same_bytes_every_build)
{
	static const enum bundle_format fs[] = { BUNDLE_ZIP, BUNDLE_TARGZ, BUNDLE_YAML, BUNDLE_JSON, BUNDLE_FILES };
	const char *env = envs[_i];
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		struct render *r1 = make_render(env), *r2 = make_render(env);
		struct buf a, b;
		build(r1, fs[i], &a);
		build(r2, fs[i], &b);
		ck_assert_msg(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "%s of %s differs",
			      bundle_format_name(fs[i]), env);
		/* and the same render built again */
		buf_reset(&b);
		ck_assert_int_eq(bundle_build(r1, fs[i], &b), 0);
		ck_assert(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		buf_release(&a);
		buf_release(&b);
		render_free(r1);
		render_free(r2);
	}
}
END_TEST

/* A zip time is local time: the bytes must not depend on the time zone of the server. */
START_TEST(archives_do_not_depend_on_the_time_zone)
{
	static const char *const zones[] = { "UTC0", "KST-9", "EST5EDT,M3.2.0,M11.1.0" };
	static const enum bundle_format fs[] = { BUNDLE_ZIP, BUNDLE_TARGZ };
	struct render *r = make_render("dev");
	for (size_t i = 0; i < 2; i++) {
		struct buf first;
		buf_init(&first, BUF_NO_MAX);
		for (size_t z = 0; z < 3; z++) {
			struct buf b;
			ck_assert_int_eq(setenv("TZ", zones[z], 1), 0);
			tzset();
			build(r, fs[i], &b);
			if (z == 0)
				ck_assert_int_eq(buf_append(&first, b.data, b.len), 0);
			else
				ck_assert_msg(b.len == first.len && memcmp(b.data, first.data, b.len) == 0,
					      "%s differs in TZ=%s", bundle_format_name(fs[i]), zones[z]);
			buf_release(&b);
		}
		buf_release(&first);
	}
	render_free(r);
}
END_TEST

/* Reads an archive back: names, types, modes, owners, times and every file's bytes. */
static void check_archive(enum bundle_format f, const char *env)
{
	struct render *r = make_render(env);
	struct buf b;
	build(r, f, &b);
	json_t *list = NULL;
	json_t *files = files_by_name(r, &list);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct tm tm = { .tm_year = 80, .tm_mon = 0, .tm_mday = 1, .tm_isdst = -1 };
	time_t want = f == BUNDLE_ZIP ? mktime(&tm) : (time_t)315532800;
	char folder[64], prev[256] = "";
	size_t count = 0;
	snprintf(folder, sizeof(folder), "msa-shop-%s/", env);
	ck_assert_int_eq(archive_read_support_format_all(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_support_filter_all(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_open_memory(a, b.data, b.len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		ck_assert_int_eq(archive_entry_mtime(e), want);
		ck_assert_int_eq(archive_entry_uid(e), 0);
		ck_assert_int_eq(archive_entry_gid(e), 0);
		if (count++ == 0) {
			ck_assert_str_eq(path, folder);
			ck_assert_int_eq(archive_entry_filetype(e), AE_IFDIR);
			ck_assert_int_eq(archive_entry_perm(e), 0755);
			continue;
		}
		ck_assert_int_eq(strncmp(path, folder, strlen(folder)), 0);
		const char *name = path + strlen(folder);
		ck_assert_msg(strcmp(prev, name) < 0, "'%s' after '%s': not sorted", name, prev);
		snprintf(prev, sizeof(prev), "%s", name);
		ck_assert_int_eq(archive_entry_filetype(e), AE_IFREG);
		ck_assert_int_eq(archive_entry_perm(e), expected_mode(r, name));
		const char *want_data = json_string_value(json_object_get(files, name));
		ck_assert_msg(want_data != NULL, "unexpected entry '%s'", name);
		size_t n = strlen(want_data);
		char *data = malloc(n + 1);
		ck_assert_int_eq(archive_entry_size(e), (la_int64_t)n);
		ck_assert_int_eq(archive_read_data(a, data, n + 1), (la_ssize_t)n);
		ck_assert_int_eq(memcmp(data, want_data, n), 0);
		free(data);
	}
	ck_assert_uint_eq(count, json_array_size(list) + 1);
	ck_assert_int_eq(archive_read_free(a), ARCHIVE_OK);
	json_decref(files);
	json_decref(list);
	buf_release(&b);
	render_free(r);
}

/* The golden bundles (tests/data/golden, made by tests/regen-golden as `manifestd render
 * --format dir` makes them: revision 0) are the files of the bundle byte for byte, no file
 * more or less; make_render_as has had libyaml judge their YAML on the way. */
START_TEST(goldens_are_the_bundle_files)
{
	const char *env = envs[_i];
	const struct render_meta meta = { "msa-shop", env, 0 };
	struct render *r = make_render_as(env, &meta, NULL);
	json_t *files = files_by_name(r, NULL);
	struct buf dir;
	buf_init(&dir, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&dir, "%s/tests/data/golden/msa-shop-%s", TEST_SOURCE_DIR, env), 0);
	const char *name;
	json_t *content;
	json_object_foreach(files, name, content) {
		size_t len = 0;
		char *golden = fsutil_read_n(buf_cstr(&dir), name, &len);
		ck_assert_msg(len == json_string_length(content) && memcmp(golden, json_string_value(content), len) == 0,
			      "%s of %s differs from its golden file (tests/regen-golden shows how)", name, env);
		free(golden);
	}
	DIR *d = opendir(buf_cstr(&dir));
	ck_assert_ptr_nonnull(d);
	size_t count = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		count += e->d_name[0] != '.';
	closedir(d);
	ck_assert_uint_eq(count, json_object_size(files));
	json_decref(files);
	buf_release(&dir);
	render_free(r);
}
END_TEST

START_TEST(zip_reads_back)
{
	check_archive(BUNDLE_ZIP, envs[_i]);
}
END_TEST

START_TEST(tar_gz_reads_back)
{
	check_archive(BUNDLE_TARGZ, envs[_i]);
}
END_TEST

/* RFC 1952: no name (FNAME), no comment, MTIME zero. */
START_TEST(gzip_header_has_no_time_or_name)
{
	struct render *r = make_render("dev");
	struct buf b;
	build(r, BUNDLE_TARGZ, &b);
	const unsigned char *h = (const unsigned char *)b.data;
	ck_assert_uint_eq(h[0], 0x1f);
	ck_assert_uint_eq(h[1], 0x8b);
	ck_assert_uint_eq(h[3] & (0x08 | 0x10), 0);
	ck_assert_uint_eq(h[4] | h[5] | h[6] | h[7], 0);
	buf_release(&b);
	render_free(r);
}
END_TEST

/* ---- the deflate level: libarchive compressing the same bytes at BUNDLE_DEFLATE_LEVEL
 * must give the bundle's bytes ---- */

static la_ssize_t buf_sink(struct archive *a, void *client, const void *data, size_t n)
{
	(void)a;
	return buf_append(client, data, n) == 0 ? (la_ssize_t)n : -1;
}

/* One regular file named name holding data, written by a new writer that the caller has
 * configured (format, filter, options) into out. */
static void write_one(struct archive *a, const char *name, const char *data, size_t n, struct buf *out)
{
	struct archive_entry *e = archive_entry_new();
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open(a, out, NULL, buf_sink, NULL), ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_data(a, data, n), (la_ssize_t)n);
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_free(a), ARCHIVE_OK);
	archive_entry_free(e);
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct zip_member {
	char name[256];
	unsigned method;
	uint32_t csize, usize;
	size_t data; /* offset of the member's bytes, after its local header */
};

/* The offset of the bytes of the member whose local header is at off (APPNOTE 4.3.7). */
static size_t zip_local_data(const struct buf *z, size_t off)
{
	const unsigned char *h = (const unsigned char *)z->data + off;
	ck_assert_uint_le(off + 30, z->len);
	ck_assert_uint_eq(le32(h), 0x04034b50);
	return off + 30 + le16(h + 26) + le16(h + 28);
}

/* Reads the central directory of a zip with no archive comment and no zip64 records
 * (APPNOTE 4.3.12, 4.3.16) into m (at most max members); returns the member count. */
static size_t zip_members(const struct buf *z, struct zip_member *m, size_t max)
{
	const unsigned char *b = (const unsigned char *)z->data;
	ck_assert_uint_ge(z->len, 22);
	const unsigned char *eocd = b + z->len - 22;
	ck_assert_uint_eq(le32(eocd), 0x06054b50);
	size_t n = le16(eocd + 10), off = le32(eocd + 16);
	ck_assert_uint_le(n, max);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_le(off + 46, z->len);
		const unsigned char *h = b + off;
		size_t name_len = le16(h + 28);
		ck_assert_uint_eq(le32(h), 0x02014b50);
		ck_assert_uint_lt(name_len, sizeof(m[i].name));
		ck_assert_uint_le(off + 46 + name_len, z->len);
		memcpy(m[i].name, h + 46, name_len);
		m[i].name[name_len] = '\0';
		m[i].method = le16(h + 10);
		m[i].csize = le32(h + 20);
		m[i].usize = le32(h + 24);
		m[i].data = zip_local_data(z, le32(h + 42));
		ck_assert_uint_le(m[i].data + m[i].csize, z->len);
		off += 46 + name_len + le16(h + 30) + le16(h + 32);
	}
	return n;
}

/* The size of data deflated by libdeflate at BUNDLE_ZIP_LEVEL (the zip's compressor). */
static uint32_t reference_deflated_size(const char *data, size_t n)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(BUNDLE_ZIP_LEVEL);
	char *out = malloc(n);
	ck_assert(c && out);
	size_t packed = libdeflate_deflate_compress(c, data, n, out, n - 1);
	ck_assert_uint_gt(packed, 0);
	libdeflate_free_compressor(c);
	free(out);
	return (uint32_t)packed;
}

/* Files below BUNDLE_ZIP_STORE_BELOW bytes are stored (their bytes verbatim), the others
 * deflated at BUNDLE_ZIP_LEVEL; every bundle has some of each. */
START_TEST(zip_stores_small_files_and_deflates_the_others)
{
	struct render *r = make_render(envs[_i]);
	json_t *files = files_by_name(r, NULL);
	struct zip_member m[64];
	struct buf z;
	size_t stored = 0, deflated = 0;
	build(r, BUNDLE_ZIP, &z);
	size_t n = zip_members(&z, m, 64);
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(m[i].name, '/');
		ck_assert_ptr_nonnull(slash);
		if (slash[1] == '\0') {
			ck_assert_uint_eq(m[i].method, 0);
			ck_assert_uint_eq(m[i].usize, 0);
			continue;
		}
		const char *want = json_string_value(json_object_get(files, slash + 1));
		ck_assert_msg(want != NULL, "unexpected member '%s'", m[i].name);
		size_t len = strlen(want);
		ck_assert_uint_eq(m[i].usize, len);
		if (len < BUNDLE_ZIP_STORE_BELOW) {
			ck_assert_msg(m[i].method == 0, "'%s' (%zu bytes) is not stored", m[i].name, len);
			ck_assert_uint_eq(m[i].csize, len);
			ck_assert_int_eq(memcmp(z.data + m[i].data, want, len), 0);
			stored++;
			continue;
		}
		ck_assert_msg(m[i].method == 8, "'%s' (%zu bytes) is not deflated", m[i].name, len);
		ck_assert_uint_lt(m[i].csize, len);
		ck_assert_msg(m[i].csize == reference_deflated_size(want, len),
			      "'%s': %u deflated bytes, %u at level %d", m[i].name, (unsigned)m[i].csize,
			      (unsigned)reference_deflated_size(want, len), BUNDLE_ZIP_LEVEL);
		deflated++;
	}
	ck_assert_uint_eq(stored + deflated, json_object_size(files));
	ck_assert_uint_gt(stored, 0);
	ck_assert_uint_gt(deflated, 0);
	json_decref(files);
	buf_release(&z);
	render_free(r);
}
END_TEST

/* The stream gzip wraps in b, through libarchive's raw format. */
static void gunzip(const struct buf *b, struct buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char chunk[8192];
	la_ssize_t n;
	ck_assert_int_eq(archive_read_support_filter_gzip(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_support_format_raw(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_open_memory(a, b->data, b->len), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_next_header(a, &e), ARCHIVE_OK);
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		ck_assert_int_eq(buf_append(out, chunk, (size_t)n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(archive_read_free(a), ARCHIVE_OK);
}

/* Gzipping the bundle's tar again at the level, with no time and no name, gives its bytes. */
START_TEST(tar_gz_is_gzipped_at_the_level)
{
	struct render *r = make_render(envs[_i]);
	struct archive *a = archive_write_new();
	struct buf tgz, tar, again;
	char opt[64];
	buf_init(&tar, BUF_NO_MAX);
	buf_init(&again, BUF_NO_MAX);
	build(r, BUNDLE_TARGZ, &tgz);
	gunzip(&tgz, &tar);
	ck_assert_uint_gt(tar.len, 1024);
	ck_assert_int_eq(strncmp(tar.data, "msa-shop-", 9), 0);
	snprintf(opt, sizeof(opt), "gzip:!timestamp,gzip:compression-level=%d", BUNDLE_DEFLATE_LEVEL);
	ck_assert_int_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_options(a, opt), ARCHIVE_OK);
	write_one(a, "tar", tar.data, tar.len, &again);
	ck_assert_uint_lt(tgz.len, tar.len / 4);
	ck_assert_msg(again.len == tgz.len && memcmp(again.data, tgz.data, tgz.len) == 0,
		      "%zu bytes, %zu gzipped again at level %d", tgz.len, again.len, BUNDLE_DEFLATE_LEVEL);
	buf_release(&tgz);
	buf_release(&tar);
	buf_release(&again);
	render_free(r);
}
END_TEST

/* Every entry of tar written again by libarchive's restricted pax writer, into out. */
static void rewrite_as_pax(const struct buf *tar, struct buf *out)
{
	struct archive *in = archive_read_new(), *a = archive_write_new();
	struct archive_entry *e;
	char chunk[8192];
	la_ssize_t n;
	ck_assert_int_eq(archive_read_support_format_tar(in), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_open_memory(in, tar->data, tar->len), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open(a, out, NULL, buf_sink, NULL), ARCHIVE_OK);
	while (archive_read_next_header(in, &e) == ARCHIVE_OK) {
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		while ((n = archive_read_data(in, chunk, sizeof(chunk))) > 0)
			ck_assert_int_eq(archive_write_data(a, chunk, (size_t)n), n);
		ck_assert_int_eq(n, 0);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_free(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_free(in), ARCHIVE_OK);
}

/* The tar holds exactly the bytes libarchive's restricted pax writer gives: for short
 * paths, and for a 63-byte folder with a service whose file path passes ustar's 100-byte
 * name field (split into its prefix field). Every path reads back whole. */
START_TEST(tar_is_restricted_pax)
{
	static const struct {
		struct render_meta meta;
		const char *service;
	} cases[] = {
		{ { "msa-shop", "prod", 12 }, NULL },
		{ { "a-stack-name-of-thirty-one-byte", "an-env-name-of-31-bytes-exactly", 1 },
		  "a-service-name-of-forty-bytes-to-pass-it" },
	};
	struct render *r = make_render_as("prod", &cases[_i].meta, cases[_i].service);
	json_t *files = files_by_name(r, NULL);
	struct buf tgz, tar, again;
	char folder[256];
	size_t longest = 0, count = 0;
	buf_init(&tar, BUF_NO_MAX);
	buf_init(&again, BUF_NO_MAX);
	snprintf(folder, sizeof(folder), "%s-%s/", cases[_i].meta.stack, cases[_i].meta.environment);
	build(r, BUNDLE_TARGZ, &tgz);
	gunzip(&tgz, &tar);
	rewrite_as_pax(&tar, &again);
	ck_assert_msg(again.len == tar.len && memcmp(again.data, tar.data, tar.len) == 0,
		      "%zu tar bytes, %zu from restricted pax", tar.len, again.len);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	ck_assert_int_eq(archive_read_support_format_tar(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_open_memory(a, tar.data, tar.len), ARCHIVE_OK);
	ck_assert_int_eq(archive_read_next_header(a, &e), ARCHIVE_OK);
	ck_assert_str_eq(archive_entry_pathname(e), folder);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		ck_assert_int_eq(strncmp(path, folder, strlen(folder)), 0);
		ck_assert_msg(json_object_get(files, path + strlen(folder)), "unexpected '%s'", path);
		longest = strlen(path) > longest ? strlen(path) : longest;
		count++;
	}
	ck_assert_uint_eq(count, json_object_size(files));
	ck_assert_uint_eq(longest > 100, cases[_i].service != NULL);
	ck_assert_int_eq(archive_read_free(a), ARCHIVE_OK);
	json_decref(files);
	buf_release(&tgz);
	buf_release(&tar);
	buf_release(&again);
	render_free(r);
}
END_TEST

/* An archive that just fits out's maximum is written whole; one byte less is -E2BIG
 * and out keeps its bytes. */
START_TEST(archive_fits_the_maximum_to_the_byte)
{
	static const enum bundle_format fs[] = { BUNDLE_ZIP, BUNDLE_TARGZ };
	struct render *r = make_render("prod");
	for (size_t i = 0; i < 2; i++) {
		struct buf whole, b;
		build(r, fs[i], &whole);
		buf_init(&b, whole.len + 5);
		ck_assert_int_eq(buf_puts(&b, "head:"), 0);
		ck_assert_int_eq(bundle_build(r, fs[i], &b), 0);
		ck_assert(b.len == whole.len + 5 && memcmp(b.data + 5, whole.data, whole.len) == 0);
		buf_release(&b);
		buf_init(&b, whole.len + 4);
		ck_assert_int_eq(buf_puts(&b, "head:"), 0);
		ck_assert_int_eq(bundle_build(r, fs[i], &b), -E2BIG);
		ck_assert_str_eq(buf_cstr(&b), "head:");
		buf_release(&b);
		buf_release(&whole);
	}
	render_free(r);
}
END_TEST

/* Counts the documents of a YAML stream with libyaml's parser. */
static size_t yaml_documents(const struct buf *b)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t docs = 0;
	int done = 0;
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)b->data, b->len);
	while (!done) {
		ck_assert_msg(yaml_parser_parse(&p, &ev), "YAML error: %s", p.problem);
		docs += ev.type == YAML_DOCUMENT_START_EVENT;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return docs;
}

START_TEST(yaml_stream_has_one_document_per_object)
{
	struct render *r = make_render(envs[_i]);
	json_t *all = all_objects(r);
	struct buf b;
	build(r, BUNDLE_YAML, &b);
	ck_assert_uint_gt(json_array_size(all), 10);
	ck_assert_uint_eq(yaml_documents(&b), json_array_size(all));
	ck_assert_ptr_null(strstr(b.data, "#!/usr/bin/env bash"));
	json_decref(all);
	buf_release(&b);
	render_free(r);
}
END_TEST

START_TEST(stream_in_small_pieces_gives_the_same_bytes)
{
	struct render *r = make_render("prod");
	struct buf whole, pieces;
	struct bundle_stream *s = NULL;
	char chunk[8];
	ssize_t n;
	size_t reads = 0;
	build(r, BUNDLE_YAML, &whole);
	buf_init(&pieces, BUF_NO_MAX);
	ck_assert_int_eq(bundle_stream_new(r, &s), 0);
	while ((n = bundle_stream_read(s, chunk, 1 + reads % sizeof(chunk))) > 0) {
		ck_assert_int_eq(buf_append(&pieces, chunk, (size_t)n), 0);
		reads++;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(bundle_stream_read(s, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(pieces.len, whole.len);
	ck_assert_int_eq(memcmp(pieces.data, whole.data, whole.len), 0);
	bundle_stream_free(s);
	bundle_stream_free(NULL);
	buf_release(&whole);
	buf_release(&pieces);
	render_free(r);
}
END_TEST

/* Appends file i's objects to out as a stream of its own, through a new emitter. */
static void fresh_stream(struct render *r, size_t i, struct buf *out)
{
	const struct node *objects = NULL;
	struct yamlout *y = NULL;
	ck_assert_int_eq(render_file_nodes(r, i, &objects), 0);
	ck_assert_int_eq(yamlout_new(out, &y), 0);
	for (const struct node_item *it = objects->v.list.first; it; it = it->next)
		ck_assert_int_eq(yamlout_node(y, it->val), 0);
	ck_assert_int_eq(yamlout_finish(y), 0);
	yamlout_free(y);
}

/* The bundle writes every YAML file with one emitter: each manifest file still holds the
 * bytes a new stream of its objects gives, and the yaml format is those files in order. */
START_TEST(yaml_files_are_the_streams_of_their_objects)
{
	struct render *r = make_render(envs[_i]);
	json_t *files = files_by_name(r, NULL);
	struct buf whole, fresh, joined;
	build(r, BUNDLE_YAML, &whole);
	buf_init(&fresh, BUF_NO_MAX);
	buf_init(&joined, BUF_NO_MAX);
	for (size_t i = 0; i < render_file_count(r); i++) {
		buf_reset(&fresh);
		fresh_stream(r, i, &fresh);
		const char *content = json_string_value(json_object_get(files, render_file_name(r, i)));
		ck_assert_ptr_nonnull(content);
		ck_assert_msg(strcmp(content, buf_cstr(&fresh)) == 0, "%s differs from a stream of its own",
			      render_file_name(r, i));
		ck_assert_int_eq(buf_append(&joined, fresh.data, fresh.len), 0);
	}
	ck_assert_uint_eq(joined.len, whole.len);
	ck_assert_int_eq(memcmp(joined.data, whole.data, whole.len), 0);
	const char *kust = json_string_value(json_object_get(files, "kustomization.yaml"));
	ck_assert_ptr_nonnull(kust);
	static const char kust_head[] = "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
	ck_assert_msg(strncmp(kust, kust_head, strlen(kust_head)) == 0, "kustomization.yaml:\n%s", kust);
	json_decref(files);
	buf_release(&whole);
	buf_release(&fresh);
	buf_release(&joined);
	render_free(r);
}
END_TEST

START_TEST(json_is_a_list_of_every_object)
{
	struct render *r = make_render(envs[_i]);
	json_t *all = all_objects(r);
	struct buf b;
	build(r, BUNDLE_JSON, &b);
	json_error_t err;
	json_t *list = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(list != NULL, "JSON error: %s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(list, "apiVersion")), "v1");
	ck_assert_str_eq(json_string_value(json_object_get(list, "kind")), "List");
	ck_assert(json_equal(json_object_get(list, "items"), all));
	ck_assert_int_eq(b.data[b.len - 1], '\n');
	json_decref(list);
	json_decref(all);
	buf_release(&b);
	render_free(r);
}
END_TEST

START_TEST(files_hold_manifests_script_kustomization_readme)
{
	struct render *r = make_render("prod");
	json_t *list = NULL;
	json_t *files = files_by_name(r, &list);
	size_t n = render_file_count(r);
	ck_assert_uint_eq(json_array_size(list), n + 3);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, i), "name")),
				 render_file_name(r, i));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, n), "name")), "apply.sh");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, n + 1), "name")), "kustomization.yaml");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, n + 2), "name")), "README.md");

	struct buf script;
	buf_init(&script, BUF_NO_MAX);
	ck_assert_int_eq(applysh_write(r, &script), 0);
	ck_assert_str_eq(json_string_value(json_object_get(files, "apply.sh")), buf_cstr(&script));
	buf_release(&script);

	const char *readme = json_string_value(json_object_get(files, "README.md"));
	const char *kust = json_string_value(json_object_get(files, "kustomization.yaml"));
	const char *musts[] = { "msa-shop", "prod", "| revision | 12 |", render_bundle_hash(r),
				MANIFESTD_VERSION, "./apply.sh", "kubectl apply -k" };
	for (size_t i = 0; i < sizeof(musts) / sizeof(musts[0]); i++)
		ck_assert_msg(strstr(readme, musts[i]) != NULL, "README.md lacks '%s'", musts[i]);
	ck_assert_ptr_nonnull(strstr(kust, "kind: Kustomization\n"));
	ck_assert_ptr_nonnull(strstr(kust, "apiVersion: kustomize.config.k8s.io/v1beta1\n"));
	const char *at = kust;
	for (size_t i = 0; i < n; i++) {
		char item[300];
		snprintf(item, sizeof(item), "`%s`", render_file_name(r, i));
		ck_assert_msg(strstr(readme, item) != NULL, "README.md does not list %s", item);
		const char *p = strstr(at, render_file_name(r, i));
		ck_assert_msg(p != NULL, "kustomization.yaml lacks %s (in order)", render_file_name(r, i));
		at = p;
	}
	json_decref(files);
	json_decref(list);
	render_free(r);
}
END_TEST

START_TEST(full_output_buffer_is_e2big_and_untouched)
{
	static const enum bundle_format fs[] = { BUNDLE_ZIP, BUNDLE_TARGZ, BUNDLE_YAML, BUNDLE_JSON, BUNDLE_FILES };
	struct render *r = make_render("dev");
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		struct buf b;
		buf_init(&b, 3000);
		ck_assert_int_eq(buf_puts(&b, "prefix"), 0);
		ck_assert_msg(bundle_build(r, fs[i], &b) == -E2BIG, "%s", bundle_format_name(fs[i]));
		ck_assert_str_eq(buf_cstr(&b), "prefix");
		buf_release(&b);
	}
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(bundle_build(r, BUNDLE_DIR, &b), -EINVAL);
	buf_release(&b);
	render_free(r);
}
END_TEST

START_TEST(folder_is_written_with_modes)
{
	struct render *r = make_render("staging");
	json_t *list = NULL;
	json_t *files = files_by_name(r, &list);
	char *tmp = fsutil_tmpdir();
	struct buf parent, dir;
	buf_init(&parent, BUF_NO_MAX);
	buf_init(&dir, BUF_NO_MAX);
	ck_assert_int_eq(buf_printf(&parent, "%s/out", tmp), 0);
	ck_assert_int_eq(buf_printf(&dir, "%s/out/msa-shop-staging", tmp), 0);
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(bundle_write_dir(r, buf_cstr(&parent)), 0);
		size_t i;
		json_t *f;
		json_array_foreach(list, i, f) {
			const char *name = json_string_value(json_object_get(f, "name"));
			size_t len = 0;
			char *data = fsutil_read_n(buf_cstr(&dir), name, &len);
			ck_assert_str_eq(data, json_string_value(json_object_get(f, "content")));
			free(data);
			struct stat st;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", buf_cstr(&dir), name);
			ck_assert_int_eq(stat(path, &st), 0);
			ck_assert_int_eq(st.st_mode & 07777, expected_mode(r, name));
		}
		ck_assert_int_eq(expected_mode(r, "11-secrets.yaml"), 0600);
		/* nothing else: no temporary files left behind */
		ck_assert_int_eq(fsutil_sh("test $(ls -A '%s' | wc -l) -eq %zu", buf_cstr(&dir), json_array_size(list)), 0);
	}
	ck_assert_int_lt(bundle_write_dir(r, "/proc/no/such/parent"), 0);
	fsutil_rmtree(tmp);
	free(tmp);
	buf_release(&parent);
	buf_release(&dir);
	json_decref(files);
	json_decref(list);
	render_free(r);
}
END_TEST

/* apply.sh of the real bundles mentions every workload, each in its phase. */
START_TEST(script_waits_for_every_workload)
{
	struct render *r = make_render(envs[_i]);
	json_t *all = all_objects(r);
	struct buf s;
	buf_init(&s, BUF_NO_MAX);
	ck_assert_int_eq(applysh_write(r, &s), 0);
	size_t i;
	json_t *o;
	size_t last_sts = 0, first_job = (size_t)-1, last_job = 0, first_deploy = (size_t)-1;
	json_array_foreach(all, i, o) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
		char line[400];
		const char *call = strcmp(kind, "StatefulSet") == 0  ? "wait_rollout statefulset"
				   : strcmp(kind, "Deployment") == 0 ? "wait_rollout deployment"
				   : strcmp(kind, "Job") == 0	     ? "wait_job"
								     : NULL;
		if (!call)
			continue;
		snprintf(line, sizeof(line), "\t%s '%s'\n", call, name);
		const char *p = strstr(buf_cstr(&s), line);
		ck_assert_msg(p != NULL, "apply.sh does not wait for %s/%s", kind, name);
		size_t at = (size_t)(p - buf_cstr(&s));
		if (kind[0] == 'S' && at > last_sts)
			last_sts = at;
		if (kind[0] == 'J' && at < first_job)
			first_job = at;
		if (kind[0] == 'J' && at > last_job)
			last_job = at;
		if (kind[0] == 'D' && at < first_deploy)
			first_deploy = at;
	}
	ck_assert_uint_gt(last_sts, 0);
	ck_assert_uint_lt(last_sts, first_job);
	ck_assert_uint_lt(last_job, first_deploy);
	json_decref(all);
	buf_release(&s);
	render_free(r);
}
END_TEST

Suite *bundle_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("bundle");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, format_names);
	tcase_add_loop_test(tc, same_bytes_every_build, 0, 3);
	tcase_add_test(tc, archives_do_not_depend_on_the_time_zone);
	tcase_add_loop_test(tc, goldens_are_the_bundle_files, 0, 3);
	tcase_add_loop_test(tc, zip_reads_back, 0, 3);
	tcase_add_loop_test(tc, tar_gz_reads_back, 0, 3);
	tcase_add_test(tc, gzip_header_has_no_time_or_name);
	tcase_add_loop_test(tc, zip_stores_small_files_and_deflates_the_others, 0, 3);
	tcase_add_loop_test(tc, tar_gz_is_gzipped_at_the_level, 0, 3);
	tcase_add_loop_test(tc, tar_is_restricted_pax, 0, 2);
	tcase_add_test(tc, archive_fits_the_maximum_to_the_byte);
	tcase_add_loop_test(tc, yaml_stream_has_one_document_per_object, 0, 3);
	tcase_add_test(tc, stream_in_small_pieces_gives_the_same_bytes);
	tcase_add_loop_test(tc, yaml_files_are_the_streams_of_their_objects, 0, 3);
	tcase_add_loop_test(tc, json_is_a_list_of_every_object, 0, 3);
	tcase_add_test(tc, files_hold_manifests_script_kustomization_readme);
	tcase_add_test(tc, full_output_buffer_is_e2big_and_untouched);
	tcase_add_test(tc, folder_is_written_with_modes);
	tcase_add_loop_test(tc, script_waits_for_every_workload, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

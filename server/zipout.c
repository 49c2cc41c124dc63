/* zipout: zip archives into a buffer, entries deflated by libdeflate (see zipout.h). */
#include "zipout.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define SIG_END 0x06054b50u
#define METHOD_STORE 0
#define METHOD_DEFLATE 8
#define FLAG_DESCRIPTOR 0x0008 /* crc-32 and sizes follow the data */
#define DOS_DATE_1980 0x0021   /* 1980-01-01; the time is 00:00 (0) */
#define MADE_BY_UNIX 0x0300
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define DESCRIPTOR_SIZE 16
#define END_SIZE 22
#define MAX16 0xffffu
#define MAX32 0xffffffffu

/* The extra fields of every entry, as libarchive writes them: "UT" with no time in it
 * (flags 0) and "ux" version 1 with a 4-byte uid 0 and a 4-byte gid 0. */
static const unsigned char extra[] = {
	0x55, 0x54, 0x01, 0x00, 0x00,
	0x75, 0x78, 0x0b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

struct zipout {
	struct buf *out;
	size_t start;    /* out->len when the archive began */
	struct buf central; /* the central directory so far */
	size_t entries;
	int level;
	size_t store_below;
	struct libdeflate_compressor *deflater; /* made for the first deflated file */
	bool done;       /* finished, or failed: nothing more */
};

/* One entry's header fields, common to its local and central headers. */
struct entry {
	const char *path;
	size_t path_len;
	unsigned version;  /* needed to extract: 10 stored file, 20 deflated or folder */
	unsigned flags;
	unsigned method;
	uint32_t crc, csize, usize;
	uint32_t mode;     /* st_mode: type and permission bits */
	uint32_t offset;   /* of the local header, from the archive's start */
};

static unsigned char *le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static unsigned char *le32(unsigned char *p, uint32_t v)
{
	p = le16(p, v & 0xffff);
	return le16(p, v >> 16);
}

/* The fields from "version needed" to "extra length", shared by both headers. The local
 * header of a file with a descriptor has no crc, and no compressed size when deflated. */
static unsigned char *common_fields(unsigned char *p, const struct entry *e, bool local)
{
	bool later = local && (e->flags & FLAG_DESCRIPTOR);
	p = le16(p, e->version);
	p = le16(p, e->flags);
	p = le16(p, e->method);
	p = le16(p, 0);
	p = le16(p, DOS_DATE_1980);
	p = le32(p, later ? 0 : e->crc);
	p = le32(p, later && e->method == METHOD_DEFLATE ? 0 : e->csize);
	p = le32(p, e->usize);
	p = le16(p, (unsigned)e->path_len);
	return le16(p, sizeof extra);
}

/* Appends a header (fixed fields in head, n bytes), the path and the extra fields. */
static int put_header(struct buf *b, const unsigned char *head, size_t n, const struct entry *e)
{
	int r = buf_reserve(b, n + e->path_len + sizeof extra);
	if (r == 0) {
		(void)buf_append(b, head, n);
		(void)buf_append(b, e->path, e->path_len);
		(void)buf_append(b, extra, sizeof extra);
	}
	return r;
}

static int put_local(struct zipout *z, const struct entry *e)
{
	unsigned char head[LOCAL_SIZE];
	common_fields(le32(head, SIG_LOCAL), e, true);
	return put_header(z->out, head, sizeof head, e);
}

static int put_central(struct zipout *z, const struct entry *e)
{
	unsigned char head[CENTRAL_SIZE], *p = le32(head, SIG_CENTRAL);
	p = le16(p, MADE_BY_UNIX | e->version);
	p = common_fields(p, e, false);
	p = le16(p, 0); /* comment length */
	p = le16(p, 0); /* disk */
	p = le16(p, 0); /* internal attributes */
	p = le32(p, e->mode << 16);
	le32(p, e->offset);
	return put_header(&z->central, head, sizeof head, e);
}

static int put_descriptor(struct zipout *z, const struct entry *e)
{
	unsigned char d[DESCRIPTOR_SIZE], *p = le32(d, SIG_DESCRIPTOR);
	p = le32(p, e->crc);
	p = le32(p, e->csize);
	le32(p, e->usize);
	return buf_append(z->out, d, sizeof d);
}

/* Checks the limits and fills the fields every entry has. */
static int entry_begin(struct zipout *z, struct entry *e, const char *path, uint32_t mode)
{
	size_t offset = z->out->len - z->start;
	if (z->done || !path)
		return -EINVAL;
	e->path = path;
	e->path_len = strlen(path);
	e->mode = mode;
	e->offset = (uint32_t)offset;
	if (e->path_len > MAX16 || z->entries >= MAX16 || offset > MAX32)
		return -EINVAL;
	return 0;
}

/* Marks z failed after r < 0; returns r. */
static int check(struct zipout *z, int r)
{
	if (r < 0)
		z->done = true;
	return r;
}

int zipout_new(struct buf *out, int level, size_t store_below, struct zipout **ret)
{
	if (level < 1 || level > 12)
		return -EINVAL;
	struct zipout *z = calloc(1, sizeof *z);
	if (!z)
		return -ENOMEM;
	z->out = out;
	z->start = out->len;
	z->level = level;
	z->store_below = store_below;
	buf_init(&z->central, BUF_NO_MAX);
	*ret = z;
	return 0;
}

void zipout_free(struct zipout *z)
{
	if (!z)
		return;
	libdeflate_free_compressor(z->deflater);
	buf_release(&z->central);
	free(z);
}

int zipout_dir(struct zipout *z, const char *path, unsigned mode)
{
	struct entry e = {.version = 20, .method = METHOD_STORE};
	int r = entry_begin(z, &e, path, S_IFDIR | (mode & 07777));
	if (r == 0)
		r = put_local(z, &e);
	if (r == 0)
		r = put_central(z, &e);
	if (r == 0)
		z->entries++;
	return check(z, r);
}

/* Deflates the len bytes of data to the end of out (not counted in its length yet),
 * into as much room as out may take but less than len: *ret_packed the compressed size,
 * or 0 when that is no smaller than len or does not fit (the file is then stored, or
 * fails to be, exactly). 0 or -ENOMEM. */
static int deflate_to_end(struct zipout *z, const void *data, size_t len, size_t *ret_packed)
{
	struct buf *b = z->out;
	size_t room = len - 1;
	*ret_packed = 0;
	if (room > b->max - b->len)
		room = b->max - b->len;
	if (room == 0)
		return 0;
	if (!z->deflater && !(z->deflater = libdeflate_alloc_compressor(z->level)))
		return -ENOMEM;
	int r = buf_reserve(b, room);
	if (r == 0)
		*ret_packed = libdeflate_deflate_compress(z->deflater, data, len, b->data + b->len, room);
	return r;
}

int zipout_file(struct zipout *z, const char *path, unsigned mode, const void *data, size_t len)
{
	struct entry e = {.version = 10, .flags = FLAG_DESCRIPTOR, .method = METHOD_STORE};
	int r = entry_begin(z, &e, path, S_IFREG | (mode & 07777));
	if (r == 0 && len > MAX32)
		r = -EINVAL;
	size_t at = z->out->len, packed = 0;
	if (r == 0) {
		e.crc = (uint32_t)libdeflate_crc32(0, data, len);
		e.usize = e.csize = (uint32_t)len;
		r = put_local(z, &e); /* as stored; rewritten when deflated */
	}
	if (r == 0 && len >= z->store_below && len > 0)
		r = deflate_to_end(z, data, len, &packed);
	if (r == 0 && packed) {
		e.version = 20;
		e.method = METHOD_DEFLATE;
		e.csize = (uint32_t)packed;
		common_fields((unsigned char *)z->out->data + at + 4, &e, true); /* same length */
		z->out->len += packed;
		z->out->data[z->out->len] = '\0';
	} else if (r == 0) {
		r = buf_append(z->out, data, len);
	}
	if (r == 0)
		r = put_descriptor(z, &e);
	if (r == 0)
		r = put_central(z, &e);
	if (r == 0)
		z->entries++;
	return check(z, r);
}

int zipout_finish(struct zipout *z)
{
	if (z->done)
		return -EINVAL;
	size_t cd_offset = z->out->len - z->start;
	if (cd_offset > MAX32 || z->central.len > MAX32)
		return check(z, -EINVAL);
	unsigned char end[END_SIZE], *p = le32(end, SIG_END);
	p = le16(p, 0); /* this disk */
	p = le16(p, 0); /* the central directory's disk */
	p = le16(p, (unsigned)z->entries);
	p = le16(p, (unsigned)z->entries);
	p = le32(p, (uint32_t)z->central.len);
	p = le32(p, (uint32_t)cd_offset);
	le16(p, 0); /* comment length */
	int r = buf_reserve(z->out, z->central.len + sizeof end);
	if (r == 0) {
		if (z->central.len)
			(void)buf_append(z->out, z->central.data, z->central.len);
		(void)buf_append(z->out, end, sizeof end);
	}
	z->done = true;
	return r;
}

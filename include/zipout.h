/* zipout: a zip archive written straight into a buffer, with deterministic bytes, in the
 * layout libarchive 3.6 writes (which the tests hold it to: with every entry stored the
 * bytes are libarchive's, byte for byte; every archive reads back with libarchive's
 * reader and `unzip -t`):
 * - entries in the order added, each a local header, its data, and for a file a data
 *   descriptor (crc-32 and sizes); then the central directory and its end record; no
 *   zip64 (an archive stays below 4 GiB and 65,535 entries), no comment;
 * - every entry dated 1980-01-01 00:00, the earliest DOS time (no extended timestamp:
 *   an empty "UT" field), owned by uid and gid 0 (an "ux" field), with its unix mode;
 * - a file of at least store_below bytes deflated (libdeflate, one shot, at the level),
 *   unless that does not make it smaller; a smaller one stored.
 * libdeflate rather than zlib (which libarchive uses): a compressor is allocated once per
 * archive instead of a zlib state per entry, and compresses the bundles 2.6x faster at
 * level 1 than zlib at 3, to fewer bytes. */
#ifndef MANIFESTD_ZIPOUT_H
#define MANIFESTD_ZIPOUT_H

#include <stddef.h>

#include "buf.h"

struct zipout;

/* Starts an archive appended to out (borrowed; must outlive z). level: libdeflate's
 * compression level (1 to 12). 0 and *ret, or -ENOMEM / -EINVAL (level). */
int zipout_new(struct buf *out, int level, size_t store_below, struct zipout **ret);
/* Adds the folder path (ending in '/') with the permission bits mode. */
int zipout_dir(struct zipout *z, const char *path, unsigned mode);
/* Adds the file path holding the len bytes of data (borrowed) with the permission bits
 * mode. */
int zipout_file(struct zipout *z, const char *path, unsigned mode, const void *data, size_t len);
/* Writes the central directory: the archive in out is complete. */
int zipout_finish(struct zipout *z);
/* Frees z; accepts NULL. Does not touch out. */
void zipout_free(struct zipout *z);
/* The calls above return 0, -ENOMEM, -E2BIG (out's maximum; what fits exactly is
 * written), or -EINVAL (a path longer than 65,535 bytes, more than 65,535 entries, an
 * archive of 4 GiB, a call after finishing or after a failure). After a failure out
 * holds a partial archive: the caller cuts it back. */

#endif

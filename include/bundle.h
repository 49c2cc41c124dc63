/* bundle: assembles a rendered bundle into its output formats with deterministic bytes.
 *
 * The bundle of stack S, environment E is the folder S-E/ holding the manifest files of
 * render, kustomization.yaml, apply.sh (mode 0755) and README.md. Archives use a fixed
 * timestamp and fixed owners, so the same input gives the same bytes on any machine:
 * tar entries 1980-01-01T00:00:00Z; zip entries the DOS time 1980-01-01 00:00 with no
 * extended timestamp (a zip time has no zone, so readers show it in local time). The yaml format is one multi-document stream of every object (no script); the
 * json format is a v1 List of every object; the files format is the JSON document
 * {"files": [{"name": "00-namespace.yaml", "content": "..."}, ...]} of the manifest files,
 * apply.sh, kustomization.yaml and README.md (the web form's preview).
 *
 * Archive entries are sorted by name (bytewise) under the folder entry "S-E/"; files
 * are mode 0644, those holding Secret values 0600 (applysh_holds_secret_values), apply.sh
 * and folders 0755, owner root (uid/gid 0), and the folder format writes the same modes; tar headers are
 * restricted pax's (plain ustar headers unless a path needs a pax one); gzip headers carry
 * no time and no name. The zip is written by zipout (zipout.h: libarchive's layout,
 * libdeflate's deflate): file entries of at least BUNDLE_ZIP_STORE_BELOW bytes deflated at
 * libdeflate level BUNDLE_ZIP_LEVEL, smaller ones (and the folder entry) stored. The
 * tar.gz is written by libarchive, its one deflate stream at zlib level
 * BUNDLE_DEFLATE_LEVEL. */
#ifndef MANIFESTD_BUNDLE_H
#define MANIFESTD_BUNDLE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "render.h"

/* 3, the best of zlib's greedy levels, for the tar.gz: on the msa-shop prod bundle it
 * takes 50-60% of the deflate instructions of zlib's default 6, for 18% more bytes;
 * level 1 would save 0.3% of a tar.gz render's instructions for 9.8% more bytes. */
#define BUNDLE_DEFLATE_LEVEL 3

/* 1, libdeflate's fastest level, for zip entries: on the msa-shop prod bundle it deflates
 * 2.6x faster than zlib at level 3 (which libarchive gave each entry, with a zlib state of
 * 256 KB per entry), to 2% fewer zip bytes; libdeflate's level 2 (its greedy
 * matchfinder) takes 1.45x the time of level 1 for 0.3% fewer bytes. */
#define BUNDLE_ZIP_LEVEL 1

/* 1 KiB. Deflating an entry costs a fixed ~45K instructions (libdeflate clears its hash
 * table and builds the block's Huffman codes) besides ~30 per byte; a file below 1 KiB
 * would shrink by a few hundred bytes (about half, for our YAML), so it is stored. On the
 * msa-shop prod bundle this stores the namespace, config, secrets, ingress and
 * kustomization files: 1.7 KB (7%) more zip bytes, 0.31M (6%) fewer instructions per zip
 * render. tar.gz is one deflate stream: not concerned. */
#define BUNDLE_ZIP_STORE_BELOW 1024

enum bundle_format {
	BUNDLE_ZIP,
	BUNDLE_TARGZ,
	BUNDLE_YAML,
	BUNDLE_JSON,
	BUNDLE_DIR,
	BUNDLE_FILES,
};

/* "zip", "tar.gz" (also "tgz"), "yaml", "json", "dir", "files" -> format. 0 or -EINVAL. */
int bundle_format_parse(const char *name, enum bundle_format *ret);
/* Canonical name ("tar.gz"), media type ("application/gzip"; "application/json" for
 * files, "inode/directory" for dir) and file suffix (".tar.gz"; "" for dir), all static. */
const char *bundle_format_name(enum bundle_format f);
const char *bundle_format_mime(enum bundle_format f);
const char *bundle_format_suffix(enum bundle_format f);

/* Builds the whole bundle of r in format f (not BUNDLE_DIR) and appends it to out.
 * 0, -ENOMEM, -E2BIG (out's maximum), -EIO (archive library failure). */
int bundle_build(struct render *r, enum bundle_format f, struct buf *out);

/* Writes the bundle folder <parent>/<stack>-<env>/ (parent and folder created when
 * missing; the bundle's files replaced, each through a temporary file and rename; other
 * files already in the folder are left alone). 0 or -errno. */
int bundle_write_dir(struct render *r, const char *parent);

/* A YAML stream produced one file at a time, for streamed HTTP responses. */
struct bundle_stream;

/* Starts streaming r (borrowed; must outlive the stream). 0 and *ret, or -ENOMEM. */
int bundle_stream_new(struct render *r, struct bundle_stream **ret);
/* Copies up to max bytes of the stream into dst, rendering the next file only when the
 * bytes of the previous one are used up. Returns the count (> 0), 0 at the end,
 * or a negative error. */
ssize_t bundle_stream_read(struct bundle_stream *s, char *dst, size_t max);
void bundle_stream_free(struct bundle_stream *s);

#endif

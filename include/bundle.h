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
 * no time and no name. Zip file entries of at least BUNDLE_ZIP_STORE_BELOW bytes and the
 * tar.gz stream are deflated at zlib level BUNDLE_DEFLATE_LEVEL; smaller zip file entries
 * (and the folder entry) are stored. */
#ifndef MANIFESTD_BUNDLE_H
#define MANIFESTD_BUNDLE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "render.h"

/* 3, the best of zlib's greedy levels: on the msa-shop prod bundle it takes 50-60% of
 * the deflate instructions of zlib's default 6, for 6% more zip bytes and 18% more tar.gz
 * bytes. Level 1 (shorter match chains) would save only 1.1% of a zip render's
 * instructions (0.3% of a tar.gz render's) for 2.6% more zip and 9.8% more tar.gz bytes:
 * most of a zip's deflate cost is per entry, not per byte. */
#define BUNDLE_DEFLATE_LEVEL 3

/* 1 KiB. libarchive 3.6 gives every deflated zip entry a zlib state of its own (256 KB
 * allocated, its 64 KB hash table cleared) and each entry's deflate block builds its own
 * Huffman trees: a fixed ~140K instructions per entry, as much as deflating ~4 KB more
 * text. A file below 1 KiB would shrink by a few hundred bytes (about half, for our
 * YAML), so it is stored. On the msa-shop bundles this stores the namespace, config,
 * secrets, ingress and kustomization files: 1.7 KB (7%) more zip bytes, 0.8M (4.4%)
 * fewer instructions per zip render. tar.gz is one deflate stream: not concerned. */
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

/* yamljudge: libyaml as the judge of the YAML yamlout writes, for the unit tests and the
 * fuzz harness (the server never links it). Both checks take node trees of any shape, so
 * they hold for every object render makes, today's and those still to come:
 *
 * - read back: libyaml's parser must read the text as exactly the trees written: the
 *   same mappings (keys in order, no key twice), sequences and scalars, every scalar of
 *   the type Kubernetes gives it (YAML 1.1 plain-scalar resolution, as go-yaml reads it),
 *   and no plain string that any YAML 1.1 or 1.2 reader (its core schema) would type.
 * - libyaml's bytes: the stream libyaml's emitter writes for the events of the trees,
 *   each scalar with the text and style (plain or double-quoted) yamlout picks, and
 *   yamlout's settings (indent 2, no folding, unicode, LF). yamlout's bytes must equal
 *   them; where they differ, one of the two is wrong. */
#ifndef MANIFESTD_TEST_YAMLJUDGE_H
#define MANIFESTD_TEST_YAMLJUDGE_H

#include <stddef.h>

#include "buf.h"
#include "node.h"

/* 0 when the len bytes of text are a YAML stream of exactly the n documents docs, in
 * order; -1 when not, with one sentence appended to why saying what differs and where
 * (a path of keys and indexes). -ENOMEM when out of memory. */
int yamljudge_read_back(const char *text, size_t len, const struct node *const *docs, size_t n,
			struct buf *why);

/* Appends to out the stream libyaml's emitter writes for the n documents docs (every
 * document with an explicit "---", as yamlout writes them). 0, -ENOMEM, -EINVAL when
 * yamlout_scalar refuses a scalar (the tree cannot be written), or -EIO when the emitter
 * refuses an event (it checks UTF-8 less strictly than yamlout: a surrogate passes). */
int yamljudge_emit(const struct node *const *docs, size_t n, struct buf *out);

/* Both checks: text reads back as the trees, and is libyaml's emitter's bytes for them.
 * 0, -1 with a sentence appended to why, or -ENOMEM. */
int yamljudge_stream(const char *text, size_t len, const struct node *const *docs, size_t n, struct buf *why);

struct render;
/* yamljudge_stream on every YAML file of the bundle of r: each manifest file (the objects
 * render_file_nodes builds for it) and kustomization.yaml (its list of those files) as
 * the files format holds them, and the yaml format (every object, in file order). Holds
 * for any object render makes. 0, -1 with why, or another negative error (the bundle
 * could not be built). */
int yamljudge_bundle(struct render *r, struct buf *why);

/* What a plain scalar is to a YAML 1.1 reader (the types of yaml.org/type, as go-yaml
 * resolves them for Kubernetes). */
enum yamljudge_type {
	YAMLJUDGE_STR,
	YAMLJUDGE_NULL,
	YAMLJUDGE_BOOL,
	YAMLJUDGE_INT,
	YAMLJUDGE_FLOAT,
	YAMLJUDGE_OTHER, /* timestamp, merge key "<<", value key "=" */
};

/* The type of the plain scalar s (a C string) to a YAML 1.1 reader. */
enum yamljudge_type yamljudge_type_11(const char *s);
/* Whether some reader (YAML 1.1, YAML 1.2 core schema, go-yaml's looser int and float
 * forms) takes the plain scalar s for anything but a string. */
int yamljudge_typed_anywhere(const char *s);

#endif

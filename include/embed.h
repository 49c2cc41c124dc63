/* embed: files compiled into the binary at build time (migrations/, static/, seeds) by
 * server/embedgen.c. Each generated .inc defines a NULL-terminated static array. */
#ifndef MANIFESTD_EMBED_H
#define MANIFESTD_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;          /* path below its root, e.g. "0001_init.sql" */
	const unsigned char *data; /* len bytes followed by a NUL */
	size_t len;
};

/* The entry named name in files (terminated by a NULL name), or NULL. */
const struct embed_file *embed_find(const struct embed_file *files, const char *name);

#endif

/* embed: lookup in the tables of files compiled into the binary. */
#include "embed.h"

#include <string.h>

const struct embed_file *embed_find(const struct embed_file *files, const char *name)
{
	for (const struct embed_file *f = files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

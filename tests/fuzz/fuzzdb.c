/* fuzzdb: temporary folders and database files for the fuzz harnesses. */
#include "fuzzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void fuzzdb_dir(const char *name, char *dir, size_t n)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int len = snprintf(dir, n, "%s/manifestd-%s-XXXXXX", base, name);
	if (len < 0 || (size_t)len >= n || !mkdtemp(dir))
		abort();
}

void fuzzdb_path(const char *dir, const char *file, char *path, size_t n)
{
	int len = snprintf(path, n, "%s/%s", dir, file);
	if (len < 0 || (size_t)len >= n)
		abort();
}

void fuzzdb_remove(const char *path)
{
	char p[512];
	(void)unlink(path);
	if (snprintf(p, sizeof p, "%s-wal", path) < (int)sizeof p)
		(void)unlink(p);
	if (snprintf(p, sizeof p, "%s-shm", path) < (int)sizeof p)
		(void)unlink(p);
}

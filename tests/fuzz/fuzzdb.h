/* fuzzdb: the throwaway SQLite databases of the fuzz harnesses, in a folder of their own
 * under /dev/shm (or /tmp). Every function aborts on failure: a harness cannot go on. */
#ifndef MANIFESTD_FUZZDB_H
#define MANIFESTD_FUZZDB_H

#include <stddef.h>

/* Makes a fresh folder "manifestd-NAME-XXXXXX" and writes its path into dir (n bytes). */
void fuzzdb_dir(const char *name, char *dir, size_t n);
/* Writes "DIR/FILE" into path (n bytes). */
void fuzzdb_path(const char *dir, const char *file, char *path, size_t n);
/* Removes the database file path with its -wal and -shm files (those that exist). */
void fuzzdb_remove(const char *path);

#endif

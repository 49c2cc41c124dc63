/* seed: the built-in stacks and environments, read from the embedded seed files
 * (migrations/seed/<stack>/stack.json and <stack>/<env>.json). */
#include "seed.h"

#include <pthread.h>
#include <string.h>

#include "embed.h"
#include "seed.inc"

#define SEED_MAX 64

static const char *stacks[SEED_MAX + 1];
static char stack_names[SEED_MAX][64];
static const char *envs[SEED_MAX][SEED_MAX + 1];
static char env_names[SEED_MAX][SEED_MAX][64];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Splits "stack/file.json" into its two names; 0 when the entry has that shape. */
static int split_seed_name(const char *name, char stack[64], char file[64])
{
	const char *slash = strchr(name, '/');
	size_t sl = slash ? (size_t)(slash - name) : 0;
	size_t nl = strlen(name);
	if (!slash || sl == 0 || sl >= 64 || nl < sl + 6 || strcmp(name + nl - 5, ".json") != 0)
		return -1;
	size_t fl = nl - sl - 1 - 5;
	if (fl == 0 || fl >= 64 || memchr(slash + 1, '/', fl))
		return -1;
	memcpy(stack, name, sl);
	stack[sl] = '\0';
	memcpy(file, slash + 1, fl);
	file[fl] = '\0';
	return 0;
}

static size_t stack_index(const char *stack)
{
	size_t i = 0;
	for (; stacks[i]; i++)
		if (strcmp(stacks[i], stack) == 0)
			return i;
	if (i == SEED_MAX)
		return SEED_MAX;
	memcpy(stack_names[i], stack, strlen(stack) + 1);
	stacks[i] = stack_names[i];
	return i;
}

static void seed_load(void)
{
	for (const struct embed_file *f = seed_files; f->name; f++) {
		char stack[64], file[64];
		if (split_seed_name(f->name, stack, file) < 0)
			continue;
		size_t s = stack_index(stack);
		if (s == SEED_MAX || strcmp(file, "stack") == 0)
			continue;
		size_t e = 0;
		while (envs[s][e])
			e++;
		if (e == SEED_MAX)
			continue;
		memcpy(env_names[s][e], file, strlen(file) + 1);
		envs[s][e] = env_names[s][e];
	}
}

const char *seed_file(const char *name, size_t *ret_len)
{
	const struct embed_file *f = embed_find(seed_files, name);
	if (!f)
		return NULL;
	if (ret_len)
		*ret_len = f->len;
	return (const char *)f->data;
}

const char *const *seed_stacks(void)
{
	pthread_once(&once, seed_load);
	return stacks;
}

const char *const *seed_environments(const char *stack)
{
	pthread_once(&once, seed_load);
	for (size_t i = 0; stacks[i]; i++)
		if (strcmp(stacks[i], stack) == 0)
			return envs[i];
	return NULL;
}

/* seed: the built-in stacks and environments shipped inside the binary
 * (migrations/seed/<stack>/stack.json and <env>.json, embedded at build time).
 * `manifestd render --stack msa-shop --env prod` and the seeding migration read them. */
#ifndef MANIFESTD_SEED_H
#define MANIFESTD_SEED_H

#include <stddef.h>

/* The embedded text of seed file `name` ("msa-shop/stack.json"), borrowed, static
 * lifetime; NULL when there is none. *ret_len gets its length when ret_len is not NULL. */
const char *seed_file(const char *name, size_t *ret_len);

/* The built-in stack names, NULL-terminated, static. */
const char *const *seed_stacks(void);

/* The built-in environment names of a stack ("dev", "staging", "prod"), NULL-terminated
 * and static; NULL for an unknown stack. */
const char *const *seed_environments(const char *stack);

#endif

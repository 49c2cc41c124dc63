/* cmd_copy: `manifestd copy`: every table of one database into another, SQLite or
 * PostgreSQL either way (store_copy in server/store_copy.c), secrets left sealed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "store.h"

static const char usage[] =
	"usage: manifestd copy --from PATH_OR_URL --to PATH_OR_URL [--force]\n"
	"\n"
	"Copies everything a manifestd database holds, row for row: stacks, environments,\n"
	"their revisions and history, API tokens, and every other table, between SQLite files\n"
	"and PostgreSQL databases (postgres://... or 'host=... dbname=...'), either way.\n"
	"Secrets are copied as stored, sealed under the key they were written with: serve the\n"
	"target with the same key (MANIFESTD_SECRET_KEY or --key-file); copy needs no key.\n"
	"Both databases are first brought to this binary's schema version (as serve would).\n"
	"The copy reads one snapshot of the source and writes the target in one transaction;\n"
	"stop the servers that write the source first.\n"
	"\n"
	"  --from PATH_OR_URL  the database to read\n"
	"  --to PATH_OR_URL    the database to fill; it must hold nothing anyone made (a new\n"
	"                      database, or one manifestd only created: no token, no change)\n"
	"  --force             replace whatever the target holds\n"
	"  -h, --help          show this help\n";

struct copy_args {
	const char *from;
	const char *to;
	bool force;
};

static int parse(int argc, char **argv, struct copy_args *a)
{
	static const struct option longopts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"force", no_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'}, {0}};
	*a = (struct copy_args){0};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'f')
			a->from = optarg;
		else if (c == 't')
			a->to = optarg;
		else if (c == 'F')
			a->force = true;
		else if (c == 'h')
			return 1;
		else
			return -EINVAL;
	}
	if (optind != argc || !a->from || !a->to || !*a->from || !*a->to)
		return -EINVAL;
	return 0;
}

/* Prints the rows copied per table (counts: table -> rows). The databases are named by
 * their engine only: a PostgreSQL URL may carry a password. */
static void report(const json_t *counts, const struct copy_args *a)
{
	static const char *const engine[] = {[STORE_SQLITE] = "SQLite", [STORE_POSTGRES] = "PostgreSQL"};
	const char *table;
	json_t *n;
	long long total = 0;
	json_object_foreach((json_t *)counts, table, n)
		total += json_integer_value(n);
	fprintf(stderr, "manifestd: copied %lld rows from %s to %s:", total,
		engine[store_kind_of(a->from)], engine[store_kind_of(a->to)]);
	bool first = true;
	json_object_foreach((json_t *)counts, table, n) {
		fprintf(stderr, "%s %s %lld", first ? "" : ",", table, (long long)json_integer_value(n));
		first = false;
	}
	fputc('\n', stderr);
}

int cmd_copy(int argc, char **argv)
{
	struct copy_args a;
	int r = parse(argc, argv, &a);
	if (r != 0) {
		fputs(usage, r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (strcmp(a.from, a.to) == 0) {
		fprintf(stderr, "manifestd copy: --from and --to name the same database\n");
		return 2;
	}
	struct buf err;
	buf_init(&err, 4096);
	struct store *from = NULL, *to = NULL;
	json_t *counts = NULL;
	r = store_open(&(struct store_options){a.from, 1, NULL, NULL}, &err, &from);
	if (r < 0)
		fprintf(stderr, "manifestd copy: cannot open the source: %s\n", buf_cstr(&err));
	if (r == 0 && (r = store_open(&(struct store_options){a.to, 1, NULL, NULL}, &err, &to)) < 0)
		fprintf(stderr, "manifestd copy: cannot open the target: %s\n", buf_cstr(&err));
	if (r == 0 && (r = store_copy(from, to, a.force, &err, &counts)) < 0)
		fprintf(stderr, "manifestd copy: %s\n", buf_cstr(&err));
	if (r == 0)
		report(counts, &a);
	json_decref(counts);
	store_free(to);
	store_free(from);
	buf_release(&err);
	return r < 0 ? 1 : 0;
}

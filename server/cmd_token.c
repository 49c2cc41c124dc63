/* cmd_token: `manifestd token create|list|revoke`: API tokens in the database, managed
 * from the command line (the server need not run; changes apply to it at once). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cmd.h"
#include "store.h"

static const char usage[] =
	"usage: manifestd token create --name NAME --role viewer|editor|admin [--db PATH]\n"
	"       manifestd token list [--json] [--db PATH]\n"
	"       manifestd token revoke NAME [--db PATH]\n"
	"\n"
	"API tokens for 'Authorization: Bearer <token>'. create prints the new token on stdout,\n"
	"once: only its SHA-256 is stored. Roles: viewer reads documents and renders bundles\n"
	"without secret values; editor also writes environments and renders with secrets;\n"
	"admin also writes stacks. A revoked token is refused by a running server at once.\n"
	"--db (a SQLite file or a PostgreSQL URL) defaults to MANIFESTD_DB, else\n./data/manifestd.db.\n";

struct token_args {
	const char *db;
	const char *name;
	const char *role;
	bool json;
};

/* Parses the options after the action; the first operand goes to name. 0 or -EINVAL. */
static int parse(int argc, char **argv, struct token_args *a)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'}, {"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {0}};
	const char *env_db = getenv("MANIFESTD_DB");
	*a = (struct token_args){.db = env_db && *env_db ? env_db : "./data/manifestd.db"};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'n': a->name = optarg; break;
		case 'r': a->role = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return -EINVAL;
		}
	}
	if (optind < argc && !a->name)
		a->name = argv[optind++];
	return optind == argc ? 0 : -EINVAL;
}

static int create(struct store_conn *c, const struct token_args *a)
{
	enum auth_role role;
	if (!a->name || !auth_name_valid(a->name)) {
		fprintf(stderr, "manifestd token: --name must be 1-64 of a-z, 0-9, '.', '_', '-', "
			"starting with a letter or digit\n");
		return 2;
	}
	if (auth_role_parse(a->role, &role) < 0) {
		fprintf(stderr, "manifestd token: --role must be viewer, editor or admin\n");
		return 2;
	}
	struct buf token;
	buf_init(&token, 256);
	int r = auth_token_issue(c, a->name, role, &token);
	if (r == -EEXIST)
		fprintf(stderr, "manifestd token: a token named '%s' exists already\n", a->name);
	else if (r < 0)
		fprintf(stderr, "manifestd token: cannot create the token: %s\n", strerror(-r));
	else
		printf("%s\n", buf_cstr(&token));
	if (r == 0)
		fprintf(stderr, "manifestd: token '%s' (%s) created; it is shown only this once\n",
			a->name, auth_role_name(role));
	if (token.data)
		sodium_memzero(token.data, token.len);
	buf_release(&token);
	return r < 0 ? 1 : 0;
}

static int list(struct store_conn *c, const struct token_args *a)
{
	json_t *items = NULL, *it;
	size_t i;
	int r = store_token_list(c, &items);
	if (r < 0) {
		fprintf(stderr, "manifestd token: cannot list the tokens: %s\n", strerror(-r));
		return 1;
	}
	if (a->json) {
		char *text = json_dumps(items, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		printf("%-24s %-7s %-21s %s\n", "NAME", "ROLE", "CREATED", "LAST USED");
		json_array_foreach(items, i, it) {
			const char *used = json_string_value(json_object_get(it, "lastUsed"));
			printf("%-24s %-7s %-21s %s\n", json_string_value(json_object_get(it, "name")),
			       json_string_value(json_object_get(it, "role")),
			       json_string_value(json_object_get(it, "created")), used ? used : "never");
		}
	}
	json_decref(items);
	return 0;
}

static int revoke(struct store_conn *c, const struct token_args *a)
{
	if (!a->name) {
		fputs(usage, stderr);
		return 2;
	}
	int r = store_token_revoke(c, a->name);
	if (r == -ENOENT)
		fprintf(stderr, "manifestd token: no token named '%s'\n", a->name);
	else if (r < 0)
		fprintf(stderr, "manifestd token: cannot revoke '%s': %s\n", a->name, strerror(-r));
	else
		fprintf(stderr, "manifestd: token '%s' revoked\n", a->name);
	return r < 0 ? 1 : 0;
}

int cmd_token(int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : NULL;
	int (*run)(struct store_conn *, const struct token_args *) =
		!action ? NULL : strcmp(action, "create") == 0 ? create
		: strcmp(action, "list") == 0 ? list : strcmp(action, "revoke") == 0 ? revoke : NULL;
	if (action && (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	struct token_args a;
	int r = run ? parse(argc - 1, argv + 1, &a) : -EINVAL;
	if (r != 0) {
		if (r < 0)
			fputs(usage, stderr);
		return r > 0 ? 0 : 2;
	}
	struct buf err;
	buf_init(&err, 4096);
	struct store *s = NULL;
	struct store_conn *c = NULL;
	int code = 1;
	if (store_open(&(struct store_options){a.db, 1, NULL, NULL}, &err, &s) < 0)
		fprintf(stderr, "manifestd token: %s\n", buf_cstr(&err));
	else if (store_acquire(s, &c) == 0)
		code = run(c, &a);
	store_release(c);
	store_free(s);
	buf_release(&err);
	return code;
}

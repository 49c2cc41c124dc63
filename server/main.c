/* main: the manifestd binary: picks the subcommand (render, serve, token, rekey, copy, import, catalog) and prints help and
 * version. Each subcommand parses its own flags (server/cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
	"usage: manifestd <command> [options]\n"
	"\n"
	"Kubernetes manifests for every environment of an application stack.\n"
	"\n"
	"commands:\n"
	"  serve     run the HTTP service (REST API and web form) over SQLite or PostgreSQL\n"
	"  render    render a bundle offline, from built-in names or JSON files\n"
	"  token     create, list and revoke API tokens\n"
	"  rekey     re-encrypt the stored secrets under a new key\n"
	"  schema    print the JSON Schema of stack and environment documents\n"
	"  copy      copy a whole database between SQLite and PostgreSQL\n"
	"  import    convert Kubernetes YAML or a docker-compose file into documents\n"
	"  catalog   list, show, store and delete component types (databases, caches, brokers)\n"
	"\n"
	"options:\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n"
	"\n"
	"Run 'manifestd <command> --help' for the options of a command.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("manifestd %s\n", MANIFESTD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(cmd, "rekey") == 0)
		return cmd_rekey(argc - 1, argv + 1);
	if (strcmp(cmd, "schema") == 0)
		return cmd_schema(argc - 1, argv + 1);
	if (strcmp(cmd, "copy") == 0)
		return cmd_copy(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (strcmp(cmd, "catalog") == 0)
		return cmd_catalog(argc - 1, argv + 1);
	fprintf(stderr, "manifestd: unknown command '%s'\n\n%s", cmd, usage);
	return 1;
}

/* cmd: the subcommands of the manifestd binary. Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit code. */
#ifndef MANIFESTD_CMD_H
#define MANIFESTD_CMD_H

/* manifestd render: offline rendering, no server, no database.
 * Exit 0 on success, 2 on validation errors (printed as "POINTER: message"), 1 otherwise. */
int cmd_render(int argc, char **argv);
/* manifestd serve: the HTTP service. */
int cmd_serve(int argc, char **argv);
/* manifestd token create|list|revoke: API tokens in the database. 0 ok, 2 usage, 1 error. */
int cmd_token(int argc, char **argv);
/* manifestd import manifests|compose: the importers without a server. 0 imported, 2 usage
 * or a result that does not validate, 1 otherwise. */
int cmd_import(int argc, char **argv);
/* manifestd copy: every table of one database into another (SQLite, PostgreSQL). 0 ok,
 * 2 usage, 1 error (also a target that holds data, without --force). */
int cmd_copy(int argc, char **argv);
/* manifestd catalog list|show|put|delete: the component types in the database, changed as
 * the API changes them. 0 ok, 2 usage or a change that would not be valid, 1 error. */
int cmd_catalog(int argc, char **argv);
/* manifestd rekey: re-encrypts every stored secret under a new key. 0 ok, 2 usage, 1 error. */
int cmd_rekey(int argc, char **argv);
/* manifestd schema [--markdown]: the document's JSON Schema, or its field reference. 0 ok, 2 usage, 1 error. */
int cmd_schema(int argc, char **argv);

#endif

/* cmd_catalog: `manifestd catalog list|show|put|delete`: the component types of the
 * catalog, offline against the database (the server need not run). put and delete make
 * the change the API makes (api_type_change): the same checks, the same history. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmd.h"
#include "secretbox.h"
#include "store.h"
#include "util.h"

static const char usage[] =
	"usage: manifestd catalog list [--json] [--db PATH]\n"
	"       manifestd catalog show TYPE [--db PATH]\n"
	"       manifestd catalog put TYPE [FILE] [--revision N] [--db PATH] [--key-file PATH]\n"
	"       manifestd catalog delete TYPE [--revision N] [--db PATH] [--key-file PATH]\n"
	"\n"
	"The component types of the catalog (docs/components.md): the built-in ones and those\n"
	"stored in the database, which override a built-in type of the same name.\n"
	"list    every type: NAME SOURCE (builtin, stored, override) REVISION CATEGORY\n"
	"show    the type's document, as JSON on standard output\n"
	"put     stores the type read from FILE (or standard input: no FILE, or '-'), checked\n"
	"        as PUT /api/v1/catalog/TYPE checks it; every stored stack that uses it is\n"
	"        resolved again with each of its environments\n"
	"delete  deletes a stored type (a built-in type of its name comes back); refused while\n"
	"        stacks use a type that is not built in\n"
	"\n"
	"  --revision N  change the type only at revision N (0: the built-in type, not stored)\n"
	"  --json        list as JSON\n"
	"  --db PATH     a SQLite file or a PostgreSQL URL; default MANIFESTD_DB, else\n"
	"                ./data/manifestd.db\n"
	"  --key-file PATH  put and delete resolve the stacks with their secrets: the key as\n"
	"                serve finds it (MANIFESTD_SECRET_KEY, MANIFESTD_KEY_FILE, --key-file, else\n"
	"                manifestd.key next to a SQLite file)\n"
	"\n"
	"Exit status: 0 done; 2 a usage error, or a type or stacks that would not be valid\n"
	"(each problem printed as 'POINTER: message'); 1 anything else (no such type, in use,\n"
	"another revision, the database).\n";

#define TYPE_MAX_INPUT (16 * 1024 * 1024) /* a type file, read whole */

struct catalog_args {
	const char *db;
	const char *name;
	const char *file;
	const char *key_file; /* NULL: next to the database */
	long long revision; /* -1: none given */
	bool json;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("manifestd catalog: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Parses the options after the action; operands go to name, then file. 0, 1 (--help) or
 * -EINVAL. */
static int parse(int argc, char **argv, struct catalog_args *a)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'}, {"revision", required_argument, NULL, 'r'},
		{"key-file", required_argument, NULL, 'k'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *env_db = getenv("MANIFESTD_DB"), *env_key = getenv("MANIFESTD_KEY_FILE");
	*a = (struct catalog_args){.db = env_db && *env_db ? env_db : "./data/manifestd.db",
				   .key_file = env_key && *env_key ? env_key : NULL, .revision = -1};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'k': a->key_file = optarg; break;
		case 'r':
			if (util_parse_int(optarg, 0, 1LL << 62, &a->revision) < 0) {
				fail("--revision must be a revision number (0 for a built-in type)");
				return -EINVAL;
			}
			break;
		case 'j': a->json = true; break;
		case 'h': return 1;
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		a->name = argv[optind++];
	if (optind < argc)
		a->file = argv[optind++];
	return optind == argc ? 0 : -EINVAL;
}

static void print_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2));
	if (text)
		printf("%s\n", text);
	free(text);
}

static int list(struct store_conn *c, const struct catalog_args *a)
{
	json_t *items = NULL, *it;
	size_t i;
	int r = store_begin_read(c);
	if (r == 0)
		r = api_catalog_list_json(c, &items);
	if (r < 0) {
		fail("cannot list the types: %s", strerror(-r));
		return 1;
	}
	if (a->json)
		print_json(items);
	else
		printf("%-20s %-9s %-8s %s\n", "NAME", "SOURCE", "REVISION", "CATEGORY");
	json_array_foreach(a->json ? NULL : items, i, it) {
		char rev[24] = "-"; /* a long long, or "-" when not stored */
		if (json_is_integer(json_object_get(it, "revision")))
			(void)snprintf(rev, sizeof rev, "%lld", (long long)json_integer_value(json_object_get(it, "revision")));
		printf("%-20s %-9s %-8s %s%s%s\n", json_string_value(json_object_get(it, "name")),
		       json_string_value(json_object_get(it, "source")), rev,
		       json_string_value(json_object_get(it, "category")), json_object_get(it, "problem") ? "  BROKEN: " : "",
		       json_object_get(it, "problem") ? json_string_value(json_object_get(it, "problem")) : "");
	}
	json_decref(items);
	return 0;
}

static int show(struct store_conn *c, const struct catalog_args *a)
{
	struct store_record rec = {0};
	json_t *o = NULL;
	int r = store_catalog_get(c, a->name, &rec);
	if (r == 0 || r == -ENOENT)
		r = api_type_json(a->name, r == 0 ? &rec : NULL, &o);
	if (r == -ENOENT)
		fail("no type named '%s'", a->name);
	else if (r < 0)
		fail("cannot read type '%s': %s", a->name, strerror(-r));
	else
		print_json(json_object_get(o, "document"));
	json_decref(o);
	store_record_release(&rec);
	return r < 0 ? 1 : 0;
}

/* The document of a->file (or standard input), within the limits of an API body; NULL
 * (reported) when it cannot be read or is not such JSON. */
static json_t *read_document(const struct catalog_args *a)
{
	const char *path = a->file && strcmp(a->file, "-") != 0 ? a->file : NULL;
	FILE *fp = path ? fopen(path, "rb") : stdin;
	struct buf text, ptr;
	buf_init(&text, TYPE_MAX_INPUT);
	buf_init(&ptr, BUF_NO_MAX);
	json_t *doc = NULL;
	const char *why = NULL;
	json_error_t e;
	int r = fp ? buf_append_stream(&text, fp) : -errno;
	if (r < 0)
		fail("cannot read '%s': %s", path ? path : "standard input", r == -E2BIG ? "it is too large" : strerror(-r));
	else if (!(doc = json_loadb(text.data ? text.data : "", text.len, JSON_REJECT_DUPLICATES, &e)))
		fail("%s: line %d, column %d: %s", path ? path : "standard input", e.line, e.column, e.text);
	else if (http_json_over_limits(doc, &ptr, &why)) {
		fail("%s %s", ptr.len ? buf_cstr(&ptr) : "(document)", why);
		json_decref(doc);
		doc = NULL;
	}
	if (fp && fp != stdin)
		fclose(fp);
	buf_release(&text);
	buf_release(&ptr);
	return doc;
}

/* Prints each problem as "POINTER: message". */
static void print_problems(const struct model_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "%s: %s\n", *errs->items[i].pointer ? errs->items[i].pointer : "/",
			errs->items[i].detail);
}

/* The exit code of a failed api_type_change, its reason printed. */
static int change_failed(int r, const struct catalog_args *a, const struct api_type_result *res)
{
	switch (r) {
	case MODEL_EINVALID:
		print_problems(&res->errs);
		fail("type '%s' is not valid: nothing stored", a->name);
		return 2;
	case API_EUSERS:
		print_problems(&res->errs);
		fail("stacks that use type '%s' would not be valid with this change: nothing stored", a->name);
		return 2;
	case -ESTALE:
		if (res->current < 0)
			fail("type '%s' does not exist (--revision was given)", a->name);
		else
			fail("type '%s' is at revision %lld, not %lld", a->name, res->current, a->revision);
		return 1;
	case -EBUSY: {
		char *users = json_dumps(res->stacks, JSON_COMPACT);
		fail("type '%s' is used by stacks %s: remove its components first", a->name, users ? users : "");
		free(users);
		return 1;
	}
	case -EPERM:
		fail("type '%s' is built in and not stored: there is nothing to delete", a->name);
		return 1;
	case -ENOENT:
		fail("no type named '%s'", a->name);
		return 1;
	default:
		fail("cannot change type '%s': %s", a->name, strerror(-r));
		return 1;
	}
}

/* put (doc given) and delete. */
static int change(struct store_conn *c, const struct catalog_args *a, const json_t *doc)
{
	struct buf actor;
	buf_init(&actor, 256);
	const char *user = getenv("USER");
	(void)BUF_PUTS(&actor, "cli:", user && *user ? user : "unknown");
	struct api_type_change ch = {a->name, doc, a->revision >= 0, a->revision, buf_cstr(&actor)};
	struct api_type_result res;
	api_type_result_init(&res);
	int r = api_type_change(c, &ch, &res);
	int code = r < 0 ? change_failed(r, a, &res) : 0;
	if (r == 0 && doc)
		fprintf(stderr, "manifestd: type '%s' %s (revision %lld)\n", a->name, res.created ? "stored" : "replaced",
			res.rec.revision);
	else if (r == 0)
		fprintf(stderr, "manifestd: type '%s' deleted\n", a->name);
	api_type_result_release(&res);
	buf_release(&actor);
	return code;
}

static int put(struct store_conn *c, const struct catalog_args *a)
{
	json_t *doc = read_document(a);
	int code = doc ? change(c, a, doc) : 1;
	json_decref(doc);
	return code;
}

static int delete(struct store_conn *c, const struct catalog_args *a)
{
	return change(c, a, NULL);
}

/* The action's function and whether it takes TYPE (and put a FILE). */
static int (*action_of(const char *action, int *ret_operands))(struct store_conn *, const struct catalog_args *)
{
	static const struct {
		const char *name;
		int (*run)(struct store_conn *, const struct catalog_args *);
		int operands; /* 0: none, 1: TYPE, 2: TYPE and an optional FILE */
	} actions[] = {{"list", list, 0}, {"show", show, 1}, {"put", put, 2}, {"delete", delete, 1}};
	for (size_t i = 0; action && i < sizeof actions / sizeof *actions; i++)
		if (strcmp(action, actions[i].name) == 0) {
			*ret_operands = actions[i].operands;
			return actions[i].run;
		}
	return NULL;
}

int cmd_catalog(int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : NULL;
	if (action && (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	int operands = 0; /* 0: list, 1: show and delete, 2: put; the changes need the key */
	int (*run)(struct store_conn *, const struct catalog_args *) = action_of(action, &operands);
	struct catalog_args a;
	int r = run ? parse(argc - 1, argv + 1, &a) : -EINVAL;
	if (r == 0 && ((operands == 0 && a.name) || (operands > 0 && !a.name) || (operands < 2 && a.file)))
		r = -EINVAL;
	if (r != 0) {
		fputs(usage, r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	struct buf err;
	buf_init(&err, 4096);
	struct store *s = NULL;
	struct store_conn *c = NULL;
	unsigned char key[SECRETBOX_KEY_BYTES];
	bool changes = run == put || run == delete, created = false;
	int code = 1;
	if (changes && secretbox_key_for(a.db, store_kind_of(a.db) != STORE_POSTGRES, a.key_file, true, key,
					 &created, NULL, &err) < 0)
		fail("%s", buf_cstr(&err));
	else if (store_open(&(struct store_options){a.db, 1, NULL, changes ? key : NULL}, &err, &s) < 0)
		fail("%s", buf_cstr(&err));
	else if ((r = store_acquire(s, &c)) < 0)
		fail("cannot reach the database: %s", strerror(-r));
	else
		code = run(c, &a);
	store_release(c);
	store_free(s);
	sodium_memzero(key, sizeof key);
	buf_release(&err);
	return code;
}

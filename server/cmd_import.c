/* cmd_import: `manifestd import manifests|compose FILE...`, the importers offline: the
 * result as JSON on standard output, or the stack and environment documents written to a
 * folder for `manifestd render`. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "import_manifests.h"
#include "import_score.h"
#include "model.h"
#include "util.h"

static const char usage[] =
	"usage: manifestd import manifests [--stack NAME] [--env ENV] [--out-dir DIR] [--keep-datastores] FILE...\n"
	"       manifestd import compose [--stack NAME] [--env ENV] [--out-dir DIR] FILE\n"
	"       manifestd import score [--stack NAME] [--env ENV] [--out-dir DIR] FILE...\n"
	"\n"
	"Converts existing Kubernetes YAML (any number of files or '-' for standard input:\n"
	"plain manifests, kubectl kustomize or helm template output), a docker-compose file or\n"
	"Score workload files (score.dev/v1b1, one workload each) into a stack document and an\n"
	"environment document, with a report of what could not be mapped, without a server.\n"
	"\n"
	"  --stack NAME     the stack's name (default: imported)\n"
	"  --env ENV        the environment's name (default: dev)\n"
	"  --out-dir DIR    write DIR/NAME.json (the stack) and DIR/ENV.json (the environment,\n"
	"                   with the secret values: mode 0600) and DIR/report.json, for\n"
	"                   `manifestd render --stack DIR/NAME.json --env DIR/ENV.json`;\n"
	"                   without it, {\"stack\", \"environment\", \"report\"} is printed\n"
	"  --keep-datastores  (manifests) keep workloads running datastore images (postgres,\n"
	"                   redis, mongo...) as workloads instead of components of the catalog\n"
	"  -h, --help       show this help\n"
	"\n"
	"The report (what was carried in extraObjects or patches, each guess and each\n"
	"difference) is also printed to standard error as 'PATH: detail' with --out-dir.\n"
	"\n"
	"Exit status: 0 imported, 2 a usage error or a result that does not validate (each\n"
	"problem printed as 'POINTER: message'; the files are written all the same), 1 any\n"
	"other failure (a file that cannot be read, input that is not what it should be).\n";

#define MAX_INPUT (16 * 1024 * 1024)

struct options {
	const char *stack;
	const char *env;
	const char *out_dir;
	const char *what;
	char **files;
	int nfiles;
	bool keep_datastores;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("manifestd import: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* 0, 1 for --help, -1 on a usage error (reported). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"stack", required_argument, NULL, 's'}, {"env", required_argument, NULL, 'e'},
		{"out-dir", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{"keep-datastores", no_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct options){.stack = "imported", .env = "dev"};
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return 1;
	if (argc < 2 || (strcmp(argv[1], "manifests") != 0 && strcmp(argv[1], "compose") != 0 &&
			 strcmp(argv[1], "score") != 0)) {
		fail("say what to import: manifests, compose or score (see manifestd import --help)");
		return -1;
	}
	o->what = argv[1];
	int c;
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->stack = optarg; break;
		case 'e': o->env = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'k': o->keep_datastores = true; break;
		case 'h': return 1;
		case ':': fail("option '%s' needs a value", argv[optind - 1]); return -1;
		default: fail("unknown option '%s' (see manifestd import --help)", argv[optind - 1]); return -1;
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if (o->nfiles == 0 || (strcmp(o->what, "compose") == 0 && o->nfiles != 1)) {
		fail("give %s (see manifestd import --help)", strcmp(o->what, "compose") == 0 ? "one compose file" : "the YAML files");
		return -1;
	}
	if (!util_is_dns_label(o->stack) || !util_is_dns_label(o->env)) {
		fail("--stack and --env must be DNS labels (lowercase letters, digits and '-', at most 63 characters)");
		return -1;
	}
	return 0;
}

/* Appends the file's bytes ('-': standard input) to text. */
static int read_file(const char *path, struct buf *text)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!fp) {
		fail("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	int r = buf_append_stream(text, fp);
	if (fp != stdin)
		fclose(fp);
	if (r < 0)
		fail("cannot read '%s': %s", path, r == -E2BIG ? "the input is too large" : strerror(-r));
	return r < 0 ? -1 : 0;
}

/* The files as one YAML stream: each starts a document with a "# Source: FILE" comment,
 * so the report names the file of each object. */
static int read_stream(const struct options *o, struct buf *text)
{
	for (int i = 0; i < o->nfiles; i++) {
		if (strcmp(o->what, "compose") != 0 && buf_printf(text, "---\n# Source: %s\n", o->files[i]) < 0)
			return -1;
		if (read_file(o->files[i], text) < 0)
			return -1;
		if (text->len && text->data[text->len - 1] != '\n' && buf_puts(text, "\n") < 0)
			return -1;
	}
	return 0;
}

static int run_import(const struct options *o, const struct buf *text, json_t **stack, json_t **env,
		      json_t **report)
{
	struct buf err;
	buf_init(&err, 4096);
	int r;
	if (strcmp(o->what, "manifests") == 0) {
		struct import_manifests_result res = {0};
		const struct import_manifests_opts opts = {.keep_datastores = o->keep_datastores};
		r = import_manifests(buf_cstr(text), text->len, o->stack, &opts, &err, &res);
		*stack = res.stack, *env = res.environment, *report = res.report;
	} else if (strcmp(o->what, "score") == 0) {
		struct import_score_result res = {0};
		r = import_score(buf_cstr(text), text->len, &err, &res);
		*stack = res.stack, *env = res.environment, *report = res.report;
	} else {
		struct compose_result res = {0};
		r = compose_import(buf_cstr(text), text->len, &err, &res);
		*stack = res.stack, *env = res.environment, *report = res.report;
	}
	if (r < 0)
		fail("%s", r == -ENOMEM ? "out of memory" : buf_cstr(&err));
	buf_release(&err);
	return r < 0 ? -1 : 0;
}

/* The validation problems of the result (printed); 0 when it validates, 2 when not, -1. */
static int validate(const struct options *o, json_t *stack, json_t *env)
{
	struct model_errors errs;
	model_errors_init(&errs);
	json_t *resolved = NULL;
	int r = model_check_shape(stack, &errs);
	if (r == 0)
		r = model_check_shape(env, &errs);
	if (r == 0)
		r = model_resolve(o->stack, stack, o->env, env, NULL, &errs, &resolved);
	json_decref(resolved);
	if (r == MODEL_EINVALID) {
		json_t *list = model_errors_json(&errs);
		size_t i;
		json_t *e;
		json_array_foreach(list, i, e)
			fprintf(stderr, "%s: %s\n", json_string_value(json_object_get(e, "pointer")),
				json_string_value(json_object_get(e, "detail")));
		json_decref(list);
	}
	model_errors_release(&errs);
	return r == 0 ? 0 : r == MODEL_EINVALID ? 2 : -1;
}

static int write_json(const char *dir, const char *name, const json_t *doc, mode_t mode)
{
	struct buf path;
	buf_init(&path, 4096);
	int r = buf_printf(&path, "%s/%s.json", dir, name);
	int fd = r == 0 ? open(buf_cstr(&path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) : -1;
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fp && fd >= 0)
		close(fd);
	r = fp && json_dumpf(doc, fp, JSON_INDENT(2)) == 0 && fputc('\n', fp) != EOF ? 0 : -1;
	if (fp && fclose(fp) != 0)
		r = -1;
	if (r < 0)
		fail("cannot write '%s': %s", buf_cstr(&path), strerror(errno));
	buf_release(&path);
	return r;
}

static int write_out(const struct options *o, const json_t *stack, const json_t *env, const json_t *report)
{
	if (mkdir(o->out_dir, 0755) < 0 && errno != EEXIST) {
		fail("cannot create '%s': %s", o->out_dir, strerror(errno));
		return -1;
	}
	if (write_json(o->out_dir, o->stack, stack, 0644) < 0 || write_json(o->out_dir, o->env, env, 0600) < 0 ||
	    write_json(o->out_dir, "report", report, 0644) < 0)
		return -1;
	size_t i;
	json_t *item;
	json_array_foreach(report, i, item) {
		const char *kind = json_string_value(json_object_get(item, "kind"));
		fprintf(stderr, "%s: %s%s\n", json_string_value(json_object_get(item, "path")),
			kind && strcmp(kind, "guess") == 0 ? "(guessed) " : "",
			json_string_value(json_object_get(item, "detail")));
	}
	return 0;
}

int cmd_import(int argc, char **argv)
{
	struct options o;
	int r = parse_options(argc, argv, &o);
	if (r != 0) {
		fputs(usage, r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	struct buf text;
	buf_init(&text, MAX_INPUT);
	json_t *stack = NULL, *env = NULL, *report = NULL;
	int status = 1;
	if (read_stream(&o, &text) < 0 || run_import(&o, &text, &stack, &env, &report) < 0)
		goto out;
	int valid = validate(&o, stack, env);
	if (valid < 0)
		goto out;
	if (o.out_dir) {
		if (write_out(&o, stack, env, report) < 0)
			goto out;
	} else {
		json_t *all = json_pack("{s:O, s:O, s:O}", "stack", stack, "environment", env, "report", report);
		if (!all || json_dumpf(all, stdout, JSON_INDENT(2)) < 0 || puts("") == EOF) {
			json_decref(all);
			fail("cannot write the result");
			goto out;
		}
		json_decref(all);
	}
	status = valid;
out:
	buf_release(&text);
	json_decref(stack);
	json_decref(env);
	json_decref(report);
	return status;
}

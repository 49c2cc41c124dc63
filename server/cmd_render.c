/* cmd_render: `manifestd render`, offline rendering of one bundle from built-in names or
 * JSON files, with --set overrides, to a folder, an archive or standard output. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bundle.h"
#include "catalog.h"
#include "model.h"
#include "render.h"
#include "util.h"

#define MAX_SETS 1000

static const char usage[] =
	"usage: manifestd render --stack NAME|FILE --env NAME|FILE [--set POINTER=VALUE]...\n"
	"                        [--previous-stack NAME|FILE] [--previous-env NAME|FILE]\n"
	"                        [--format dir|zip|tar.gz|yaml|json|files] [-o PATH]\n"
	"\n"
	"Renders the Kubernetes bundle of one environment of a stack, without a server.\n"
	"\n"
	"  --stack NAME|FILE   a built-in stack (see below) or a stack document (JSON file);\n"
	"                      a value containing '/' or ending in .json is a file, and the\n"
	"                      stack's name is the file's name without .json\n"
	"  --env NAME|FILE     a built-in environment of the stack or an environment document\n"
	"                      (JSON file, named like a stack file); with a stack file, a NAME\n"
	"                      is an environment of that name with no overrides\n"
	"  --set POINTER=VALUE override one field of the resolved document, e.g.\n"
	"                      --set /services/order-service/replicas=3; VALUE is read as JSON\n"
	"                      when it is JSON, else taken as a string. Repeatable\n"
	"  --previous-stack NAME|FILE, --previous-env NAME|FILE\n"
	"                      what the environment runs now (either defaults to --stack or\n"
	"                      --env): the render is refused (exit 2) when applying it over\n"
	"                      that one asks what Kubernetes refuses on a running cluster (a\n"
	"                      claim's storage class or access mode changed, a smaller size)\n"
	"  --format FORMAT     dir (the bundle folder), zip, tar.gz, yaml (one stream of every\n"
	"                      object), json (a v1 List) or files (JSON of every file).\n"
	"                      Default: from the suffix of -o (.zip, .tar.gz, .tgz, .yaml,\n"
	"                      .yml, .json), dir when -o has no such suffix, yaml without -o\n"
	"  -o, --output PATH   where to write: for dir, the parent folder (the bundle goes\n"
	"                      to PATH/<stack>-<env>/); otherwise the file, '-' for standard\n"
	"                      output (the default; zip and tar.gz only when it is not a\n"
	"                      terminal)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Exit status: 0 rendered, 2 the document is invalid (each problem printed to\n"
	"standard error as 'POINTER: message'), 1 any other failure.\n";

struct options {
	const char *stack;
	const char *env;
	const char *output;
	const char *format;
	const char *prev_stack;
	const char *prev_env;
	const char *sets[MAX_SETS];
	size_t set_count;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("manifestd render: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* 0, 1 for --help, -1 on a usage error (reported). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "stack", required_argument, NULL, 's' }, { "env", required_argument, NULL, 'e' },
		{ "set", required_argument, NULL, 'S' },   { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ "previous-stack", required_argument, NULL, 'P' },
		{ "previous-env", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->stack = optarg; break;
		case 'e': o->env = optarg; break;
		case 'f': o->format = optarg; break;
		case 'o': o->output = optarg; break;
		case 'P': o->prev_stack = optarg; break;
		case 'E': o->prev_env = optarg; break;
		case 'h': return 1;
		case 'S':
			if (o->set_count == MAX_SETS) {
				fail("more than %d --set options", MAX_SETS);
				return -1;
			}
			o->sets[o->set_count++] = optarg;
			break;
		case ':':
			fail("option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			fail("unknown option '%s' (see manifestd render --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fail("unexpected argument '%s' (see manifestd render --help)", argv[optind]);
		return -1;
	}
	if (!o->stack || !o->env) {
		fail("--stack and --env are required (see manifestd render --help)");
		return -1;
	}
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_file_arg(const char *arg)
{
	return strchr(arg, '/') || has_suffix(arg, ".json");
}

/* The format: --format, else from the suffix of -o, else dir with -o, yaml without. */
static int pick_format(const struct options *o, enum bundle_format *ret)
{
	static const struct {
		const char *suffix;
		enum bundle_format f;
	} by_suffix[] = {
		{ ".zip", BUNDLE_ZIP },	  { ".tar.gz", BUNDLE_TARGZ }, { ".tgz", BUNDLE_TARGZ },
		{ ".yaml", BUNDLE_YAML }, { ".yml", BUNDLE_YAML },     { ".json", BUNDLE_JSON },
	};
	if (o->format) {
		if (bundle_format_parse(o->format, ret) == 0)
			return 0;
		fail("unknown format '%s' (known: dir, zip, tar.gz, yaml, json, files)", o->format);
		return -1;
	}
	*ret = BUNDLE_YAML;
	if (!o->output || strcmp(o->output, "-") == 0)
		return 0;
	*ret = BUNDLE_DIR;
	for (size_t i = 0; i < sizeof(by_suffix) / sizeof(by_suffix[0]); i++)
		if (has_suffix(o->output, by_suffix[i].suffix))
			*ret = by_suffix[i].f;
	return 0;
}

/* Parses JSON text (an object) from what; errors say where. */
static int parse_document(const char *text, size_t len, const char *what, json_t **ret)
{
	json_error_t err;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		fail("%s: line %d column %d: %s", what, err.line, err.column, err.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		fail("%s: the document must be a JSON object", what);
		json_decref(doc);
		return -1;
	}
	*ret = doc;
	return 0;
}

static int load_file(const char *path, json_t **ret)
{
	json_error_t err;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		if (err.line < 0)
			fail("cannot read '%s': %s", path, err.text);
		else
			fail("'%s': line %d column %d: %s", path, err.line, err.column, err.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		fail("'%s': the document must be a JSON object", path);
		json_decref(doc);
		return -1;
	}
	*ret = doc;
	return 0;
}

/* The name a file gives: its base name without .json, which must be a DNS label. */
static int name_from_path(const char *path, const char *what, struct buf *name)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	if (has_suffix(base, ".json"))
		len -= 5;
	if (buf_append(name, base, len) < 0)
		return -1;
	if (!util_is_dns_label(buf_cstr(name))) {
		fail("'%s': the %s name '%s' taken from the file name is not a DNS label (lowercase letters, digits, '-'); rename the file",
		     path, what, buf_cstr(name));
		return -1;
	}
	return 0;
}

static void list_names(struct buf *b, const char *const *names)
{
	for (size_t i = 0; names && names[i]; i++)
		(void)buf_printf(b, "%s%s", i ? ", " : "", names[i]);
}

static bool in_list(const char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* A built-in seed file stack/file.json as a document. */
static int load_builtin(const char *stack, const char *file, json_t **ret)
{
	struct buf path;
	size_t len = 0;
	int r = -1;
	buf_init(&path, 4096);
	if (buf_printf(&path, "%s/%s.json", stack, file) == 0) {
		const char *text = catalog_file(buf_cstr(&path), &len);
		if (text)
			r = parse_document(text, len, buf_cstr(&path), ret);
		else
			fail("built-in file '%s' is missing", buf_cstr(&path));
	}
	buf_release(&path);
	return r;
}

struct input {
	struct buf stack_name;
	struct buf env_name;
	json_t *stack;
	json_t *env;
	json_t *overrides;
};

static int load_stack(const char *arg, struct input *in)
{
	if (is_file_arg(arg))
		return name_from_path(arg, "stack", &in->stack_name) < 0 ? -1 : load_file(arg, &in->stack);
	if (!in_list(catalog_stacks(), arg)) {
		struct buf known;
		buf_init(&known, 4096);
		list_names(&known, catalog_stacks());
		fail("unknown built-in stack '%s' (known: %s; or give a JSON file)", arg, buf_cstr(&known));
		buf_release(&known);
		return -1;
	}
	if (buf_puts(&in->stack_name, arg) < 0)
		return -1;
	return load_builtin(arg, "stack", &in->stack);
}

static int load_env(const char *arg, bool builtin_stack, struct input *in)
{
	const char *stack = buf_cstr(&in->stack_name);
	const char *const *envs = builtin_stack ? catalog_environments(stack) : NULL;
	if (is_file_arg(arg))
		return name_from_path(arg, "environment", &in->env_name) < 0 ? -1 : load_file(arg, &in->env);
	if (!builtin_stack) {
		if (!util_is_dns_label(arg)) {
			fail("environment name '%s' is not a DNS label", arg);
			return -1;
		}
		in->env = json_object();
		return (in->env && buf_puts(&in->env_name, arg) == 0) ? 0 : -1;
	}
	if (!in_list(envs, arg)) {
		struct buf known;
		buf_init(&known, 4096);
		list_names(&known, envs);
		fail("unknown built-in environment '%s' of stack '%s' (known: %s; or give a JSON file)",
		     arg, stack, buf_cstr(&known));
		buf_release(&known);
		return -1;
	}
	if (buf_puts(&in->env_name, arg) < 0)
		return -1;
	return load_builtin(stack, arg, &in->env);
}

/* --set POINTER=VALUE into the overrides merge patch. */
static int add_set(const char *set, json_t **overrides)
{
	const char *eq = strchr(set, '=');
	struct buf pointer;
	json_t *value = NULL;
	int r = -1;
	if (!eq) {
		fail("--set '%s': expected POINTER=VALUE", set);
		return -1;
	}
	buf_init(&pointer, 65536);
	if (buf_append(&pointer, set, (size_t)(eq - set)) < 0)
		goto out;
	value = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (!value)
		value = json_string(eq + 1);
	if (!value) {
		fail("--set '%s': the value is not valid UTF-8", set);
		goto out;
	}
	if (model_patch_set(overrides, buf_cstr(&pointer), value) < 0) {
		fail("--set '%s': '%s' is not a JSON Pointer such as /services/NAME/replicas", set,
		     buf_cstr(&pointer));
		goto out;
	}
	r = 0;
out:
	json_decref(value);
	buf_release(&pointer);
	return r;
}

static void input_release(struct input *in)
{
	buf_release(&in->stack_name);
	buf_release(&in->env_name);
	json_decref(in->stack);
	json_decref(in->env);
	json_decref(in->overrides);
}

static int load_input(const char *stack, const char *env, const struct options *o, struct input *in)
{
	bool builtin = !is_file_arg(stack);
	if (load_stack(stack, in) < 0 || load_env(env, builtin, in) < 0)
		return -1;
	for (size_t i = 0; i < o->set_count; i++)
		if (add_set(o->sets[i], &in->overrides) < 0)
			return -1;
	return 0;
}

/* The exit code of a resolve or render that returned r: 0; 2 when invalid (every problem
 * printed as "POINTER: message"); 1 otherwise (what failed printed). */
static int exit_code(int r, const struct model_errors *errs, const char *what)
{
	if (r == MODEL_EINVALID) {
		for (size_t i = 0; i < errs->count; i++)
			fprintf(stderr, "%s: %s\n", errs->items[i].pointer[0] ? errs->items[i].pointer : "(document)",
				errs->items[i].detail);
		return 2;
	}
	if (r < 0) {
		fail("cannot %s: %s", what, strerror(-r));
		return 1;
	}
	return 0;
}

/* Resolves; returns 0, or the exit code (2 invalid, 1 otherwise). */
static int resolve(const struct input *in, json_t **ret_doc)
{
	struct model_errors errs;
	model_errors_init(&errs);
	int r = model_resolve(buf_cstr(&in->stack_name), in->stack, buf_cstr(&in->env_name), in->env,
			      in->overrides, &errs, ret_doc);
	r = exit_code(r, &errs, "resolve the document");
	if (r == 0 && model_warnings(*ret_doc, &errs) == 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "manifestd render: warning: %s: %s\n", errs.items[i].pointer, errs.items[i].detail);
	}
	model_errors_release(&errs);
	return r;
}

/* With --previous-stack or --previous-env, what applying doc over what they resolve to asks
 * that Kubernetes refuses (model_check_change); 0 or the exit code. */
static int check_change(const struct options *o, const struct input *in, const json_t *doc)
{
	if (!o->prev_stack && !o->prev_env)
		return 0;
	struct input prev = { 0 };
	struct model_errors errs;
	model_errors_init(&errs);
	buf_init(&prev.stack_name, 256);
	buf_init(&prev.env_name, 256);
	int r = load_input(o->prev_stack ? o->prev_stack : o->stack, o->prev_env ? o->prev_env : o->env,
			   &(struct options){ 0 }, &prev);
	if (r == 0)
		r = exit_code(model_check_change(buf_cstr(&in->stack_name), prev.stack, buf_cstr(&in->env_name),
						 prev.env, doc, &errs), &errs, "compare with the previous documents");
	else
		r = 1;
	model_errors_release(&errs);
	input_release(&prev);
	return r;
}

static int write_all(FILE *f, const struct buf *b)
{
	return (b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len) ? 0 : -1;
}

static int write_path(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "wb");
	int w, c;
	if (!fp) {
		fail("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	w = write_all(fp, b);
	c = fclose(fp);
	if (w < 0 || c != 0) {
		fail("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes the bundle in format f to o->output (a file) or standard output. */
static int write_output(struct render *r, enum bundle_format f, const char *output)
{
	bool to_stdout = !output || strcmp(output, "-") == 0;
	struct buf out;
	int ret = 0;
	if (to_stdout && (f == BUNDLE_ZIP || f == BUNDLE_TARGZ) && isatty(STDOUT_FILENO)) {
		fail("not writing a %s archive to a terminal; use -o FILE", bundle_format_name(f));
		return -1;
	}
	buf_init(&out, BUF_NO_MAX);
	ret = bundle_build(r, f, &out);
	if (ret < 0) {
		fail("cannot build the %s bundle: %s", bundle_format_name(f), strerror(-ret));
	} else if (to_stdout) {
		if (write_all(stdout, &out) < 0 || fflush(stdout) != 0) {
			fail("cannot write to standard output: %s", strerror(errno));
			ret = -1;
		}
	} else {
		ret = write_path(output, &out);
	}
	buf_release(&out);
	return ret;
}

static int emit(const json_t *doc, const struct input *in, enum bundle_format f, const char *output)
{
	struct render_meta meta = { buf_cstr(&in->stack_name), buf_cstr(&in->env_name), 0 };
	struct render *r = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int ret = exit_code(render_new(doc, &meta, &errs, &r), &errs, "render");
	model_errors_release(&errs);
	if (ret != 0)
		return ret;
	if (f == BUNDLE_DIR) {
		ret = bundle_write_dir(r, output);
		if (ret < 0)
			fail("cannot write the bundle folder under '%s': %s", output, strerror(-ret));
	} else {
		ret = write_output(r, f, output);
	}
	render_free(r);
	return ret < 0 ? 1 : 0;
}

int cmd_render(int argc, char **argv)
{
	struct options o = { 0 };
	struct input in = { 0 };
	enum bundle_format f;
	json_t *doc = NULL;
	int rc = parse_options(argc, argv, &o);
	if (rc != 0) {
		if (rc > 0)
			fputs(usage, stdout);
		return rc > 0 ? 0 : 1;
	}
	if (pick_format(&o, &f) < 0)
		return 1;
	if (f == BUNDLE_DIR && (!o.output || strcmp(o.output, "-") == 0)) {
		fail("the dir format needs -o PARENT_FOLDER");
		return 1;
	}
	buf_init(&in.stack_name, 256);
	buf_init(&in.env_name, 256);
	rc = load_input(o.stack, o.env, &o, &in) < 0 ? 1 : resolve(&in, &doc);
	if (rc == 0)
		rc = check_change(&o, &in, doc);
	if (rc == 0)
		rc = emit(doc, &in, f, o.output);
	json_decref(doc);
	input_release(&in);
	return rc;
}

/* renderutil: inline documents rendered for the render suites (see renderutil.h). */
#include "renderutil.h"
#include "yamlcheck.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

const struct render_meta renderutil_meta = {.stack = "shop", .environment = "prod", .revision = 3};

json_t *renderutil_json(const char *text)
{
	char *copy = strdup(text);
	ck_assert_ptr_nonnull(copy);
	for (char *p = copy; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t je;
	json_t *v = json_loads(copy, 0, &je);
	ck_assert_msg(v != NULL, "%s: line %d: %s", copy, je.line, je.text);
	free(copy);
	return v;
}

/* The problems as "POINTER: detail" lines. */
static char *lines(const struct model_errors *errs)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (size_t i = 0; i < errs->count; i++)
		ck_assert_int_eq(BUF_PUTS(&b, errs->items[i].pointer, ": ", errs->items[i].detail, "\n"), 0);
	char *text = buf_detach(&b, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

json_t *renderutil_resolve(const char *stack, const char *env)
{
	json_t *s = renderutil_json(stack), *e = env ? renderutil_json(env) : NULL, *doc = NULL;
	struct model_errors errs;
	model_errors_init(&errs);
	int rc = model_resolve(renderutil_meta.stack, s, renderutil_meta.environment, e, NULL, &errs, &doc);
	char *why = lines(&errs);
	ck_assert_msg(rc == 0, "model_resolve: %d\n%s", rc, why);
	free(why);
	model_errors_release(&errs);
	json_decref(s);
	json_decref(e);
	return doc;
}

/* render_new of stack <- env: its return, *ret (on 0) and the problems as lines in
 * *ret_lines (the caller frees). */
static int render_of(const char *stack, const char *env, struct render **ret, char **ret_lines)
{
	json_t *doc = renderutil_resolve(stack, env);
	struct model_errors errs;
	model_errors_init(&errs);
	int rc = render_new(doc, &renderutil_meta, &errs, ret);
	*ret_lines = lines(&errs);
	model_errors_release(&errs);
	json_decref(doc);
	return rc;
}

json_t *renderutil_bundle(const char *stack, const char *env)
{
	struct render *r = NULL;
	char *why = NULL;
	int rc = render_of(stack, env, &r, &why);
	ck_assert_msg(rc == 0, "render_new: %d\n%s", rc, why);
	free(why);
	yamlcheck_bundle(r);
	json_t *files = json_object();
	for (size_t i = 0; i < render_file_count(r); i++) {
		json_t *objs = NULL;
		ck_assert_int_eq(render_file_objects(r, i, &objs), 0);
		ck_assert_int_eq(json_object_set_new(files, render_file_name(r, i), objs), 0);
	}
	render_free(r);
	return files;
}

char *renderutil_errors(const char *stack, const char *env)
{
	struct render *r = NULL;
	char *text = NULL;
	ck_assert_int_eq(render_of(stack, env, &r, &text), MODEL_EINVALID);
	ck_assert_ptr_null(r);
	return text;
}

void renderutil_assert_json(const json_t *got, const char *want_text)
{
	json_t *want = renderutil_json(want_text);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "got %s", g ? g : "(null)");
	free(g);
	json_decref(want);
}

json_t *renderutil_find(const json_t *files, const char *kind, const char *name)
{
	const char *file;
	json_t *objs, *o;
	size_t i;
	json_object_foreach((json_t *)files, file, objs)
		json_array_foreach(objs, i, o)
			if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0 &&
			    strcmp(renderutil_str(o, "/metadata/name"), name) == 0)
				return o;
	return NULL;
}

json_t *renderutil_at(const json_t *v, const char *pointer)
{
	struct buf tok;
	buf_init(&tok, BUF_NO_MAX);
	const char *p = pointer;
	json_t *cur = (json_t *)v;
	while (cur && *p == '/') {
		p++;
		size_t n = strcspn(p, "/");
		buf_reset(&tok);
		for (size_t i = 0; i < n; i++) {
			bool esc = p[i] == '~' && i + 1 < n;
			ck_assert_int_eq(buf_append(&tok, esc ? (p[i + 1] == '1' ? "/" : "~") : &p[i], 1), 0);
			i += esc;
		}
		if (json_is_array(cur)) {
			long long idx = -1;
			ck_assert_int_eq(util_parse_int(buf_cstr(&tok), 0, 1 << 20, &idx), 0);
			cur = json_array_get(cur, (size_t)idx);
		} else {
			cur = json_object_get(cur, buf_cstr(&tok));
		}
		p += n;
	}
	buf_release(&tok);
	return cur;
}

const char *renderutil_str(const json_t *v, const char *pointer)
{
	return json_string_value(renderutil_at(v, pointer));
}

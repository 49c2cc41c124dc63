/* yamlcheck: the libyaml judge as Check assertions (see yamlcheck.h). */
#include "yamlcheck.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "yamljudge.h"

void yamlcheck_stream(const char *text, size_t len, const struct node *const *docs, size_t n)
{
	struct buf why, ref;
	buf_init(&why, BUF_NO_MAX);
	buf_init(&ref, BUF_NO_MAX);
	int r = yamljudge_read_back(text, len, docs, n, &why);
	ck_assert_msg(r == 0, "%s\nin:\n%.*s", buf_cstr(&why), (int)len, text);
	ck_assert_int_eq(yamljudge_emit(docs, n, &ref), 0);
	size_t at = 0;
	while (at < len && at < ref.len && text[at] == ref.data[at])
		at++;
	ck_assert_msg(at == len && at == ref.len, "not libyaml's bytes from byte %zu:\n%.*s\nlibyaml:\n%s", at,
		      (int)len, text, buf_cstr(&ref));
	buf_release(&why);
	buf_release(&ref);
}

void yamlcheck_json_stream(const char *text, size_t len, const json_t *docs)
{
	struct arena *a = arena_new();
	size_t n = json_array_size(docs);
	const struct node **trees = calloc(n ? n : 1, sizeof *trees);
	ck_assert(a && trees);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_nonnull(trees[i] = node_from_json(a, json_array_get(docs, i)));
	yamlcheck_stream(text, len, trees, n);
	free(trees);
	arena_free(a);
}

/* The objects of every file of r, in a: one array of all of them, and where each file's
 * begin (starts[i], starts[count] the total). */
struct objects {
	struct arena *arena;
	const struct node **all;
	size_t *starts;
};

static void collect_objects(struct render *r, struct objects *o)
{
	size_t files = render_file_count(r), cap = 16, n = 0;
	o->arena = arena_new();
	o->all = malloc(cap * sizeof *o->all);
	o->starts = calloc(files + 1, sizeof *o->starts);
	ck_assert(o->arena && o->all && o->starts);
	for (size_t i = 0; i < files; i++) {
		struct node *objs = NULL;
		ck_assert_int_eq(render_file_nodes(r, i, o->arena, &objs), 0);
		o->starts[i] = n;
		for (const struct node_item *it = objs->v.list.first; it; it = it->next) {
			if (n == cap)
				ck_assert_ptr_nonnull(o->all = realloc(o->all, (cap *= 2) * sizeof *o->all));
			o->all[n++] = it->val;
		}
	}
	o->starts[files] = n;
}

/* kustomization.yaml's document: the manifest files of r, in order. */
static const struct node *kustomization(struct render *r, struct arena *a)
{
	struct node *files = node_seq(a);
	for (size_t i = 0; i < render_file_count(r); i++)
		files = node_push(files, node_str(a, render_file_name(r, i)));
	struct node *k = NODE_MAP(a, {"apiVersion", node_str(a, "kustomize.config.k8s.io/v1beta1")},
				  {"kind", node_str(a, "Kustomization")}, {"resources", files});
	ck_assert_ptr_nonnull(k);
	return k;
}

/* The files format's content of the file named name (borrowed from files). */
static const char *file_content(const json_t *files, const char *name, size_t *ret_len)
{
	size_t i;
	const json_t *f;
	json_array_foreach(files, i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0) {
			*ret_len = json_string_length(json_object_get(f, "content"));
			return json_string_value(json_object_get(f, "content"));
		}
	ck_abort_msg("the bundle has no file %s", name);
	return NULL;
}

void yamlcheck_bundle(struct render *r)
{
	struct objects o;
	struct buf b;
	size_t len;
	collect_objects(r, &o);
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(bundle_build(r, BUNDLE_FILES, &b), 0);
	json_t *doc = json_loadb(b.data, b.len, 0, NULL);
	const json_t *files = json_object_get(doc, "files");
	ck_assert_ptr_nonnull(files);
	for (size_t i = 0; i < render_file_count(r); i++) {
		const char *text = file_content(files, render_file_name(r, i), &len);
		yamlcheck_stream(text, len, o.all + o.starts[i], o.starts[i + 1] - o.starts[i]);
	}
	const struct node *k = kustomization(r, o.arena);
	const char *text = file_content(files, "kustomization.yaml", &len);
	yamlcheck_stream(text, len, &k, 1);
	buf_reset(&b);
	ck_assert_int_eq(bundle_build(r, BUNDLE_YAML, &b), 0);
	yamlcheck_stream(b.data, b.len, o.all, o.starts[render_file_count(r)]);
	json_decref(doc);
	buf_release(&b);
	free(o.all);
	free(o.starts);
	arena_free(o.arena);
}

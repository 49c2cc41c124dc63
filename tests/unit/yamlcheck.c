/* yamlcheck: the libyaml judge as Check assertions (see yamlcheck.h). */
#include "yamlcheck.h"

#include <check.h>
#include <stdlib.h>

#include "yamljudge.h"

void yamlcheck_stream(const char *text, size_t len, const struct node *const *docs, size_t n)
{
	struct buf why;
	buf_init(&why, BUF_NO_MAX);
	int r = yamljudge_stream(text, len, docs, n, &why);
	ck_assert_msg(r == 0, "%s\nin:\n%.*s", r == -1 ? buf_cstr(&why) : "out of memory", (int)len, text);
	buf_release(&why);
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

void yamlcheck_bundle(struct render *r)
{
	struct buf why;
	buf_init(&why, BUF_NO_MAX);
	int ret = yamljudge_bundle(r, &why);
	ck_assert_msg(ret == 0, "%s", ret == -1 ? buf_cstr(&why) : "the bundle could not be built");
	buf_release(&why);
}

/* test_node: the arena, node builders, reading, and the jansson conversions. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "suites.h"
#include "yamlout.h"

/* A small object as render builds one; NULL when the arena runs out. */
static struct node *sample(struct arena *a)
{
	return NODE_MAP(a, {"apiVersion", node_str(a, "v1")}, {"kind", node_str(a, "Service")},
			{"metadata", NODE_MAP(a, {"name", node_printf(a, "%s-%d", "web", 2)},
					       {"revision", node_int_text(a, -42)},
					       {"image", NODE_CAT(a, "reg/", "app", ":", "1.0")})},
			{"spec", NODE_MAP(a, {"ports", NODE_SEQ(a, NODE_MAP(a, {"port", node_int(a, 80)},
									     {"open", node_bool(a, true)}))},
					   {"ratio", node_real(a, 0.5)}, {"none", node_null(a)})});
}

START_TEST(maps_keep_order_and_read_back)
{
	struct arena *a = arena_new();
	struct node *o = sample(a);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->kind, NODE_MAP);
	ck_assert_uint_eq(o->v.list.count, 4);
	const char *order[] = {"apiVersion", "kind", "metadata", "spec"};
	size_t i = 0;
	for (const struct node_item *it = o->v.list.first; it; it = it->next, i++)
		ck_assert_str_eq(it->key, order[i]);
	ck_assert_str_eq(node_string(node_get(o, "kind")), "Service");
	ck_assert_str_eq(node_string(node_get(node_get(o, "metadata"), "name")), "web-2");
	ck_assert_ptr_null(node_get(o, "absent"));
	ck_assert_ptr_null(node_string(node_get(o, "spec")));
	ck_assert_ptr_null(node_get(node_get(o, "kind"), "x")); /* not a map */
	arena_free(a);
}
END_TEST

START_TEST(null_propagates)
{
	struct arena *a = arena_new();
	ck_assert_ptr_null(NODE_MAP(a, {"a", node_str(a, "x")}, {"b", NULL}));
	ck_assert_ptr_null(NODE_SEQ(a, node_int(a, 1), NULL));
	ck_assert_ptr_null(node_set(NULL, "k", node_int(a, 1)));
	ck_assert_ptr_null(node_set(node_map(a), "k", NULL));
	ck_assert_ptr_null(node_set(node_seq(a), "k", node_int(a, 1))); /* not a map */
	ck_assert_ptr_null(node_push(node_map(a), node_int(a, 1)));     /* not a sequence */
	ck_assert_ptr_null(node_str(a, NULL));
	arena_free(a);
}
END_TEST

START_TEST(arena_grows_aligns_and_resets)
{
	struct arena *a = arena_new();
	size_t total = 0;
	for (int i = 0; i < 5000; i++) {
		size_t n = (size_t)(i % 97) + 1;
		unsigned char *p = arena_alloc(a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 0xab, n); /* ASan: every byte handed out is ours */
		total += n;
	}
	ck_assert_uint_ge(arena_used(a), total);
	char *s = arena_strdup(a, "kept");
	ck_assert_str_eq(s, "kept");
	arena_reset(a);
	ck_assert_uint_eq(arena_used(a), 0);
	ck_assert_ptr_nonnull(arena_alloc(a, 100000)); /* larger than any chunk so far */
	arena_free(a);
	arena_free(NULL);
}
END_TEST

/* Every allocation of building sample() fails in turn: the build gives NULL, never a
 * partial tree, and the arena frees whatever it handed out (ASan checks). */
START_TEST(each_allocation_failing_gives_null)
{
	struct arena *a = arena_new();
	ck_assert_ptr_nonnull(sample(a));
	size_t needed = arena_used(a);
	arena_free(a);
	for (size_t max = 0; max < needed; max += 16) {
		a = arena_new();
		arena_set_max(a, max);
		ck_assert_ptr_null(sample(a));
		arena_free(a);
	}
	a = arena_new();
	arena_set_max(a, needed);
	ck_assert_ptr_nonnull(sample(a));
	arena_free(a);
}
END_TEST

START_TEST(json_round_trip)
{
	json_error_t err;
	json_t *v = json_loads("{\"b\":[1,2.5,true,false,null,\"s\"],\"a\":{},\"e\":{},\"f\":[]}", 0, &err);
	ck_assert_ptr_nonnull(v);
	/* a key and a value with a NUL inside: lengths, not C strings, carry them */
	ck_assert_int_eq(json_object_setn_new(json_object_get(v, "a"), "nul\0key", 7, json_stringn("x\0y", 3)), 0);
	struct arena *a = arena_new();
	struct node *n = node_from_json(a, v);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->v.list.first->key, "b"); /* insertion order, not sorted */
	json_t *back = node_to_json(n);
	ck_assert(json_equal(json_object_get(v, "b"), json_object_get(back, "b")));
	ck_assert(json_equal(json_object_get(v, "e"), json_object_get(back, "e")));
	ck_assert(json_equal(json_object_get(v, "f"), json_object_get(back, "f")));
	/* json_equal looks keys up as C strings: the NUL key is checked by length */
	const json_t *nul = json_object_getn(json_object_get(back, "a"), "nul\0key", 7);
	ck_assert_uint_eq(json_string_length(nul), 3);
	ck_assert_mem_eq(json_string_value(nul), "x\0y", 3);
	const struct node *inner = node_get(n, "a");
	ck_assert_uint_eq(inner->v.list.first->key_len, 7);
	ck_assert_uint_eq(inner->v.list.first->val->v.str.len, 3);
	ck_assert_ptr_null(node_to_json(NULL));
	ck_assert_ptr_null(node_from_json(a, NULL));
	json_decref(back);
	json_decref(v);
	arena_free(a);
}
END_TEST

/* node_int_text and NODE_CAT give what printf gives; the copies are the arena's own. */
START_TEST(text_builders_match_printf)
{
	struct arena *a = arena_new();
	const long long ints[] = {LLONG_MIN, LLONG_MIN + 1, -1000, -1, 0, 7, 10, 65534, LLONG_MAX};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		char want[32];
		int n = snprintf(want, sizeof want, "%lld", ints[i]);
		const struct node *t = node_int_text(a, ints[i]);
		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(node_string(t), want);
		ck_assert_uint_eq(t->v.str.len, (size_t)n);
	}
	char host[] = "mysql";
	const struct node *c = NODE_CAT(a, "wait-for-", host, "", "!");
	host[0] = 'X'; /* copied, not borrowed */
	ck_assert_str_eq(node_string(c), "wait-for-mysql!");
	ck_assert_uint_eq(c->v.str.len, strlen("wait-for-mysql!"));
	ck_assert_str_eq(node_string(NODE_CAT(a, "")), "");
	ck_assert_ptr_null(NODE_CAT(a, "a", NULL, "b"));
	const char *many[NODE_CAT_MAX + 1];
	for (size_t i = 0; i < NODE_CAT_MAX + 1; i++)
		many[i] = "x";
	ck_assert_ptr_nonnull(node_cat(a, many, NODE_CAT_MAX));
	ck_assert_ptr_null(node_cat(a, many, NODE_CAT_MAX + 1));
	const struct node *part = node_strn_copy(a, "abcdef", 3);
	ck_assert_str_eq(node_string(part), "abc");
	ck_assert_uint_eq(part->v.str.len, 3);
	ck_assert_ptr_null(node_strn_copy(a, NULL, 0));
	struct node *m = node_setn(node_map(a), "key-and-more", 3, node_int(a, 1));
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->v.list.first->key_len, 3);
	ck_assert_ptr_null(node_setn(m, NULL, 0, node_int(a, 1)));
	m = node_set(m, "other", node_int(a, 2));
	ck_assert_uint_eq(m->v.list.last->key_len, 5);
	arena_free(a);
}
END_TEST

/* yamlout emits a node tree and the equal JSON value to the same bytes. */
START_TEST(yaml_of_node_equals_yaml_of_json)
{
	struct arena *a = arena_new();
	struct node *n = sample(a);
	json_t *j = node_to_json(n);
	struct buf from_node, from_json;
	buf_init(&from_node, BUF_NO_MAX);
	buf_init(&from_json, BUF_NO_MAX);
	struct yamlout *y = NULL;
	ck_assert_int_eq(yamlout_new(&from_node, &y), 0);
	ck_assert_int_eq(yamlout_node(y, n), 0);
	ck_assert_int_eq(yamlout_finish(y), 0);
	yamlout_free(y);
	ck_assert_int_eq(yamlout_dump(&from_json, j), 0);
	ck_assert_str_eq(buf_cstr(&from_node), buf_cstr(&from_json));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&from_node), "name: web-2\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&from_node), "ratio: 0.5\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&from_node), "revision: \"-42\"\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&from_node), "image: reg/app:1.0\n"));
	buf_release(&from_node);
	buf_release(&from_json);
	json_decref(j);
	arena_free(a);
}
END_TEST

Suite *node_suite(void)
{
	Suite *s = suite_create("node");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, maps_keep_order_and_read_back);
	tcase_add_test(tc, null_propagates);
	tcase_add_test(tc, arena_grows_aligns_and_resets);
	tcase_add_test(tc, each_allocation_failing_gives_null);
	tcase_add_test(tc, json_round_trip);
	tcase_add_test(tc, text_builders_match_printf);
	tcase_add_test(tc, yaml_of_node_equals_yaml_of_json);
	suite_add_tcase(s, tc);
	return s;
}

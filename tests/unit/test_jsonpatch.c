/* test_jsonpatch: RFC 6902 JSON Patch (jsonpatch.c), with the examples of its appendix A
 * and every way an operation fails, each leaving the document as it was. */
#include <stdlib.h>

#include "jsonpatch.h"
#include "renderutil.h"
#include "suites.h"

/* Applies ops to doc (texts as renderutil_json) and checks the result equals want. */
static void patch_gives(const char *doc, const char *ops, const char *want)
{
	json_t *d = renderutil_json(doc), *o = renderutil_json(ops), *w = renderutil_json(want);
	struct jsonpatch_failure f;
	ck_assert_int_eq(jsonpatch_apply(&d, o, &f), 0);
	char *got = json_dumps(d, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(d, w), "%s on %s gave %s", ops, doc, got);
	free(got);
	json_decref(d);
	json_decref(o);
	json_decref(w);
}

/* Applies ops to doc and checks that operation index fails with fault, doc unchanged. */
static void patch_fails(const char *doc, const char *ops, size_t index, enum jsonpatch_fault fault, const char *member)
{
	json_t *d = renderutil_json(doc), *o = renderutil_json(ops), *before = json_deep_copy(d);
	json_t *same = d;
	struct jsonpatch_failure f;
	ck_assert_int_eq(jsonpatch_apply(&d, o, &f), JSONPATCH_EFAIL);
	ck_assert_ptr_eq(d, same);
	ck_assert(json_equal(d, before));
	ck_assert_uint_eq(f.index, index);
	ck_assert_int_eq(f.fault, fault);
	if (member)
		ck_assert_str_eq(f.member, member);
	json_decref(d);
	json_decref(o);
	json_decref(before);
}

START_TEST(rfc6902_examples)
{
	/* A.1 - A.10, A.16 */
	patch_gives("{'foo': 'bar'}", "[{'op': 'add', 'path': '/baz', 'value': 'qux'}]", "{'baz': 'qux', 'foo': 'bar'}");
	patch_gives("{'foo': ['bar', 'baz']}", "[{'op': 'add', 'path': '/foo/1', 'value': 'qux'}]",
		    "{'foo': ['bar', 'qux', 'baz']}");
	patch_gives("{'baz': 'qux', 'foo': 'bar'}", "[{'op': 'remove', 'path': '/baz'}]", "{'foo': 'bar'}");
	patch_gives("{'foo': ['bar', 'qux', 'baz']}", "[{'op': 'remove', 'path': '/foo/1'}]", "{'foo': ['bar', 'baz']}");
	patch_gives("{'baz': 'qux', 'foo': 'bar'}", "[{'op': 'replace', 'path': '/baz', 'value': 'boo'}]",
		    "{'baz': 'boo', 'foo': 'bar'}");
	patch_gives("{'foo': {'bar': 'baz', 'waldo': 'fred'}, 'qux': {'corge': 'grault'}}",
		    "[{'op': 'move', 'from': '/foo/waldo', 'path': '/qux/thud'}]",
		    "{'foo': {'bar': 'baz'}, 'qux': {'corge': 'grault', 'thud': 'fred'}}");
	patch_gives("{'foo': ['all', 'grass', 'cows', 'eat']}", "[{'op': 'move', 'from': '/foo/1', 'path': '/foo/3'}]",
		    "{'foo': ['all', 'cows', 'eat', 'grass']}");
	patch_gives("{'baz': 'qux', 'foo': ['a', 2, 'c']}",
		    "[{'op': 'test', 'path': '/baz', 'value': 'qux'}, {'op': 'test', 'path': '/foo/1', 'value': 2}]",
		    "{'baz': 'qux', 'foo': ['a', 2, 'c']}");
	patch_gives("{'foo': 'bar'}", "[{'op': 'add', 'path': '/child', 'value': {'grandchild': {}}}]",
		    "{'foo': 'bar', 'child': {'grandchild': {}}}");
	patch_gives("{'foo': ['bar']}", "[{'op': 'add', 'path': '/foo/-', 'value': ['abc', 'def']}]",
		    "{'foo': ['bar', ['abc', 'def']]}");
	/* A.14: ~ escapes */
	patch_gives("{'/': 9, '~1': 10}", "[{'op': 'test', 'path': '/~01', 'value': 10}, {'op': 'replace', 'path': '/~1', 'value': 1}]",
		    "{'/': 1, '~1': 10}");
	/* copy, the whole document, null values */
	patch_gives("{'a': {'b': [1]}}", "[{'op': 'copy', 'from': '/a/b', 'path': '/c'}, {'op': 'add', 'path': '/a/b/0', 'value': null}]",
		    "{'a': {'b': [null, 1]}, 'c': [1]}");
	patch_gives("{'a': 1}", "[{'op': 'replace', 'path': '', 'value': {'b': 2}}]", "{'b': 2}");
}
END_TEST

START_TEST(failures_leave_the_document)
{
	/* A.9, A.12, A.15 */
	patch_fails("{'baz': 'qux'}", "[{'op': 'test', 'path': '/baz', 'value': 'bar'}]", 0, JSONPATCH_TEST_FAILED, NULL);
	patch_fails("{'foo': 'bar'}", "[{'op': 'add', 'path': '/baz/bat', 'value': 'qux'}]", 0, JSONPATCH_NOT_FOUND, "path");
	patch_fails("{'foo': ['bar']}", "[{'op': 'test', 'path': '/foo/0', 'value': 'bar'}, {'op': 'test', 'path': '/foo/01', 'value': 'bar'}]",
		    1, JSONPATCH_BAD_INDEX, "path");
	/* a failure after a success: nothing applied */
	patch_fails("{'a': 1}", "[{'op': 'add', 'path': '/b', 'value': 2}, {'op': 'remove', 'path': '/c'}]", 1,
		    JSONPATCH_NOT_FOUND, "path");
	patch_fails("{'a': [1]}", "[{'op': 'add', 'path': '/a/2', 'value': 2}]", 0, JSONPATCH_BAD_INDEX, "path");
	patch_fails("{'a': 1}", "[{'op': 'add', 'path': '/a/b', 'value': 2}]", 0, JSONPATCH_NO_PARENT, "path");
	patch_fails("{'a': 1}", "[{'op': 'replace', 'path': '/b', 'value': 2}]", 0, JSONPATCH_NOT_FOUND, "path");
	patch_fails("{'a': 1}", "[{'op': 'add', 'path': '/b'}]", 0, JSONPATCH_NO_VALUE, NULL);
	patch_fails("{'a': 1}", "[{'op': 'move', 'path': '/b'}]", 0, JSONPATCH_NO_FROM, NULL);
	patch_fails("{'a': 1}", "[{'op': 'copy', 'from': '/x', 'path': '/b'}]", 0, JSONPATCH_NOT_FOUND, "from");
	patch_fails("{'a': {'b': 1}}", "[{'op': 'move', 'from': '/a', 'path': '/a/c'}]", 0, JSONPATCH_INTO_ITSELF, NULL);
	patch_fails("{'a': 1}", "[{'op': 'remove', 'path': ''}]", 0, JSONPATCH_ROOT, NULL);
	patch_fails("{'a': 1}", "[{'op': 'remove', 'path': 'a'}]", 0, JSONPATCH_BAD_POINTER, "path");
	patch_fails("{'a': 1}", "[{'op': 'remove', 'path': '/~2'}]", 0, JSONPATCH_BAD_POINTER, "path");
	patch_fails("{'a': 1}", "[{'op': 'frobnicate', 'path': '/a'}]", 0, JSONPATCH_BAD_OP, NULL);
	patch_fails("{'a': 1}", "[42]", 0, JSONPATCH_BAD_OP, NULL);
}
END_TEST

Suite *jsonpatch_suite(void)
{
	Suite *s = suite_create("jsonpatch");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rfc6902_examples);
	tcase_add_test(tc, failures_leave_the_document);
	suite_add_tcase(s, tc);
	return s;
}

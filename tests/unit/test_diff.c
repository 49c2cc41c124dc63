/* test_diff: unified diffs (exact hunks, context, missing final newlines, files that do
 * not exist, GNU diff agreement, and random texts that GNU patch turns back into the new
 * text) and field-by-field object diffs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "fsutil.h"
#include "suites.h"

/* The unified diff of a -> b as a new string (NULL text: no such file). */
static char *udiff(const char *a, const char *b, unsigned context)
{
	struct buf out;
	buf_init(&out, BUF_NO_MAX);
	ck_assert_int_eq(diff_unified("f.yaml", a, a ? strlen(a) : 0, b, b ? strlen(b) : 0,
				      context, &out),
			 0);
	char *s = buf_detach(&out, NULL);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void check_diff(const char *a, const char *b, unsigned context, const char *want)
{
	char *got = udiff(a, b, context);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(equal_texts_give_nothing)
{
	check_diff("a\nb\n", "a\nb\n", 3, "");
	check_diff("", "", 3, "");
	check_diff(NULL, NULL, 3, "");
}
END_TEST

START_TEST(one_change_with_three_lines_of_context)
{
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nX\n6\n7\n8\n9\n", 3,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n");
}
END_TEST

START_TEST(close_changes_share_a_hunk_far_ones_do_not)
{
	/* changes at lines 2 and 9: 6 equal lines between = 2 * context: one hunk */
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nB\n3\n4\n5\n6\n7\n8\nI\n10\n", 3,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -1,10 +1,10 @@\n 1\n-2\n+B\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+I\n 10\n");
	/* with context 1 they are two hunks */
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nB\n3\n4\n5\n6\n7\n8\nI\n10\n", 1,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -1,3 +1,3 @@\n 1\n-2\n+B\n 3\n"
		   "@@ -8,3 +8,3 @@\n 8\n-9\n+I\n 10\n");
}
END_TEST

START_TEST(missing_final_newline)
{
	check_diff("a\nb", "a\nb\n", 3,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	check_diff("a\nb\n", "a\nc", 3,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n");
	check_diff("x", "y", 0,
		   "--- a/f.yaml\n+++ b/f.yaml\n"
		   "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n");
}
END_TEST

START_TEST(added_and_removed_files)
{
	check_diff(NULL, "a\nb\n", 3, "--- /dev/null\n+++ b/f.yaml\n@@ -0,0 +1,2 @@\n+a\n+b\n");
	check_diff("a\n", NULL, 3, "--- a/f.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n");
	/* insertion at the top without context names line 0 */
	check_diff("b\n", "a\nb\n", 0, "--- a/f.yaml\n+++ b/f.yaml\n@@ -0,0 +1 @@\n+a\n");
}
END_TEST

START_TEST(out_of_room_is_an_error)
{
	struct buf out;
	buf_init(&out, 10);
	ck_assert_int_eq(diff_unified("f", "a\n", 2, "b\n", 2, 3, &out), -E2BIG);
	buf_release(&out);
}
END_TEST

/* Our hunks are byte-identical to GNU diff's for texts whose alignment is unique. */
START_TEST(agrees_with_gnu_diff)
{
	static const char *const cases[][2] = {
		{"k: 1\nv: 2\nw: 3\nx: 4\ny: 5\nz: 6\n", "k: 1\nv: 2\nw: 3\nadded: 9\nx: 4\ny: 5\nz: 6\n"},
		{"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n", "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nM\nn\n"},
		{"only\n", "only\nmore\nlines\n"},
		{"1\n2\n3\n4\n5\n6\n7\n", "1\n2\n6\n7\n"},
	};
	char *dir = fsutil_tmpdir();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fsutil_write(dir, "a", cases[i][0], 0644);
		fsutil_write(dir, "b", cases[i][1], 0644);
		/* drop GNU's two header lines (they carry times) and ours */
		ck_assert_int_eq(fsutil_sh("cd '%s' && diff -U3 a b | tail -n +3 > gnu; true", dir), 0);
		char *gnu = fsutil_read(dir, "gnu");
		char *ours = udiff(cases[i][0], cases[i][1], 3);
		const char *body = strstr(ours, "@@");
		ck_assert_ptr_nonnull(body);
		ck_assert_str_eq(body, gnu);
		free(gnu);
		free(ours);
	}
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

/* A random text of n lines from a small alphabet (so that lines repeat). */
static void random_text(struct buf *b, unsigned *seed, size_t n, int final_newline)
{
	static const char *const words[] = {"alpha", "beta", "gamma", "delta", "  - x", "---"};
	buf_reset(b);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(buf_printf(b, "%s%s", words[rand_r(seed) % 6],
					    i + 1 < n || final_newline ? "\n" : ""),
				 0);
}

/* Random pairs: GNU patch applies our diff to a and gets exactly b. */
START_TEST(patch_turns_a_into_b)
{
	unsigned seed = 7;
	char *dir = fsutil_tmpdir();
	struct buf a, b;
	buf_init(&a, BUF_NO_MAX);
	buf_init(&b, BUF_NO_MAX);
	for (int round = 0; round < 40; round++) {
		random_text(&a, &seed, (size_t)(rand_r(&seed) % 30), rand_r(&seed) % 4 != 0);
		random_text(&b, &seed, (size_t)(rand_r(&seed) % 30), rand_r(&seed) % 4 != 0);
		char *d = udiff(buf_cstr(&a), buf_cstr(&b), (unsigned)(round % 4));
		fsutil_write(dir, "f.yaml", buf_cstr(&a), 0644);
		fsutil_write(dir, "p.diff", d, 0644);
		int st = fsutil_sh("cd '%s' && patch -s -p1 --no-backup-if-mismatch < p.diff", dir);
		ck_assert_msg(st == 0, "patch failed on round %d:\n%s", round, d);
		size_t len = 0;
		char *got = fsutil_read_n(dir, "f.yaml", &len);
		ck_assert_uint_eq(len, b.len);
		ck_assert_mem_eq(got, buf_cstr(&b), len);
		free(got);
		free(d);
	}
	buf_release(&a);
	buf_release(&b);
	fsutil_rmtree(dir);
	free(dir);
}
END_TEST

/* Beyond DIFF_MAX_COST the middle is replaced as a whole, still a valid diff. */
START_TEST(costly_diffs_fall_back_to_replacement)
{
	struct buf a, b;
	buf_init(&a, BUF_NO_MAX);
	buf_init(&b, BUF_NO_MAX);
	for (int i = 0; i < DIFF_MAX_COST; i++) {
		ck_assert_int_eq(buf_printf(&a, "a%d\n", i), 0);
		ck_assert_int_eq(buf_printf(&b, "b%d\n", i), 0);
	}
	char *d = udiff(buf_cstr(&a), buf_cstr(&b), 3);
	struct buf hdr;
	buf_init(&hdr, 128);
	ck_assert_int_eq(buf_printf(&hdr, "@@ -1,%d +1,%d @@\n-a0\n", DIFF_MAX_COST, DIFF_MAX_COST), 0);
	ck_assert_ptr_nonnull(strstr(d, buf_cstr(&hdr)));
	buf_release(&hdr);
	free(d);
	buf_release(&a);
	buf_release(&b);
}
END_TEST

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	ck_assert_msg(v != NULL, "%s", e.text);
	return v;
}

START_TEST(objects_added_removed_modified)
{
	json_t *from = load("{\"50-web.yaml\": ["
			    "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"n\"},"
			    " \"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
			    "  \"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]}]}}}},"
			    "{\"kind\":\"Service\",\"metadata\":{\"name\":\"old\",\"namespace\":\"n\"}}],"
			    "\"10-config.yaml\": [{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"n\"},"
			    " \"data\":{\"k\":\"v\"}}]}");
	json_t *to = load("{\"50-web.yaml\": ["
			  "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"n\"},"
			  " \"spec\":{\"replicas\":4,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
			  "  \"env\":[{\"name\":\"Z\",\"value\":\"0\"},{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"3\"}]}]}}}},"
			  "{\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"web\",\"namespace\":\"n\"}}],"
			  "\"10-config.yaml\": [{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":\"n\"},"
			  " \"data\":{\"k\":\"v\"}}]}");
	json_t *changes = NULL;
	ck_assert_int_eq(diff_objects(from, to, &changes), 0);
	json_t *want = load(
		"[{\"kind\":\"Deployment\",\"name\":\"web\",\"file\":\"50-web.yaml\",\"change\":\"modified\","
		"  \"fields\":[{\"path\":\"/spec/replicas\",\"from\":2,\"to\":4},"
		"   {\"path\":\"/spec/template/spec/containers/0/env/0\",\"from\":null,\"to\":{\"name\":\"Z\",\"value\":\"0\"}},"
		"   {\"path\":\"/spec/template/spec/containers/0/env/2/value\",\"from\":\"2\",\"to\":\"3\"}]},"
		" {\"kind\":\"HorizontalPodAutoscaler\",\"name\":\"web\",\"file\":\"50-web.yaml\",\"change\":\"added\",\"fields\":[]},"
		" {\"kind\":\"Service\",\"name\":\"old\",\"file\":\"50-web.yaml\",\"change\":\"removed\",\"fields\":[]}]");
	char *got_s = json_dumps(changes, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(changes, want), "got %s", got_s);
	free(got_s);
	json_decref(changes);
	ck_assert_int_eq(diff_objects(from, from, &changes), 0);
	ck_assert_uint_eq(json_array_size(changes), 0);
	json_decref(changes);
	json_decref(want);
	json_decref(from);
	json_decref(to);
}
END_TEST

START_TEST(object_paths_are_escaped_and_arrays_by_index)
{
	json_t *from = load("{\"f\":[{\"kind\":\"Ingress\",\"metadata\":{\"name\":\"i\",\"annotations\":{\"a/b~c\":\"1\"}},"
			    "\"spec\":{\"rules\":[\"x\",\"y\"]}}]}");
	json_t *to = load("{\"f\":[{\"kind\":\"Ingress\",\"metadata\":{\"name\":\"i\",\"annotations\":{}},"
			  "\"spec\":{\"rules\":[\"x\"]}}]}");
	json_t *changes = NULL;
	ck_assert_int_eq(diff_objects(from, to, &changes), 0);
	json_t *fields = json_object_get(json_array_get(changes, 0), "fields");
	ck_assert_uint_eq(json_array_size(fields), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fields, 0), "path")),
			 "/metadata/annotations/a~1b~0c");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fields, 1), "path")),
			 "/spec/rules/1");
	ck_assert(json_is_null(json_object_get(json_array_get(fields, 1), "to")));
	json_decref(changes);
	json_decref(from);
	json_decref(to);
}
END_TEST

START_TEST(file_names_are_sorted_and_listed_once)
{
	json_t *from = load("{\"b.yaml\":[],\"only-from.yaml\":[],\"a.yaml\":[]}");
	json_t *to = load("{\"c.yaml\":[],\"a.yaml\":[],\"b.yaml\":[]}");
	const char **names = NULL;
	size_t n = 0;
	ck_assert_int_eq(diff_file_names(from, to, &names, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(names[0], "a.yaml");
	ck_assert_str_eq(names[1], "b.yaml");
	ck_assert_str_eq(names[2], "c.yaml");
	ck_assert_str_eq(names[3], "only-from.yaml");
	free(names);
	json_t *empty = load("{}");
	ck_assert_int_eq(diff_file_names(empty, empty, &names, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(names);
	json_decref(empty);
	json_decref(from);
	json_decref(to);
}
END_TEST

Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, equal_texts_give_nothing);
	tcase_add_test(tc, one_change_with_three_lines_of_context);
	tcase_add_test(tc, close_changes_share_a_hunk_far_ones_do_not);
	tcase_add_test(tc, missing_final_newline);
	tcase_add_test(tc, added_and_removed_files);
	tcase_add_test(tc, out_of_room_is_an_error);
	tcase_add_test(tc, agrees_with_gnu_diff);
	tcase_add_test(tc, patch_turns_a_into_b);
	tcase_add_test(tc, costly_diffs_fall_back_to_replacement);
	tcase_add_test(tc, objects_added_removed_modified);
	tcase_add_test(tc, object_paths_are_escaped_and_arrays_by_index);
	tcase_add_test(tc, file_names_are_sorted_and_listed_once);
	suite_add_tcase(s, tc);
	return s;
}

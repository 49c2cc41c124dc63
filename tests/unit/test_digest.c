/* test_digest: the canonical digest of JSON values (include/digest.h): equal values agree
 * whatever the member order, different values differ, and the bytes hashed are the
 * encoding the header pins (rebuilt here from the header's rules). */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "node.h"
#include "suites.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	ck_assert_msg(v != NULL, "bad test JSON: %s", err.text);
	return v;
}

/* The digest of a JSON text. */
static void digest_of(const char *text, char hex[65])
{
	json_t *v = parse(text);
	ck_assert_int_eq(digest_json(v, hex), 0);
	ck_assert_uint_eq(strlen(hex), 64);
	json_decref(v);
}

static void assert_same(const char *a, const char *b)
{
	char ha[65], hb[65];
	digest_of(a, ha);
	digest_of(b, hb);
	ck_assert_msg(strcmp(ha, hb) == 0, "%s and %s should have one digest", a, b);
}

static void assert_differ(const char *a, const char *b)
{
	char ha[65], hb[65];
	digest_of(a, ha);
	digest_of(b, hb);
	ck_assert_msg(strcmp(ha, hb) != 0, "%s and %s should have different digests", a, b);
}

/* ---- the encoding, written out by hand from the header's rules ---- */

static void enc_byte(struct buf *b, char c)
{
	ck_assert_int_eq(buf_append(b, &c, 1), 0);
}

/* tag + unsigned LEB128 */
static void enc_tagged(struct buf *b, char tag, uint64_t x)
{
	enc_byte(b, tag);
	for (; x >= 0x80; x >>= 7)
		enc_byte(b, (char)(0x80 | (x & 0x7f)));
	enc_byte(b, (char)x);
}

/* tag + 8 bytes big-endian */
static void enc_fixed(struct buf *b, char tag, uint64_t x)
{
	enc_byte(b, tag);
	for (int i = 0; i < 8; i++)
		enc_byte(b, (char)(x >> (56 - 8 * i)));
}

static void enc_string(struct buf *b, char tag, const char *s, size_t len)
{
	enc_tagged(b, tag, len);
	ck_assert_int_eq(buf_append(b, s, len), 0);
}

static void assert_digest_is(const json_t *v, const struct buf *encoding)
{
	char got[65], want[65];
	ck_assert_int_eq(digest_json(v, got), 0);
	unsigned char sum[DIGEST_BYTES];
	ck_assert_int_eq(crypto_generichash(sum, sizeof sum, (const unsigned char *)encoding->data, encoding->len, NULL, 0), 0);
	sodium_bin2hex(want, sizeof want, sum, sizeof sum);
	ck_assert_str_eq(got, want);
}

START_TEST(member_order_does_not_matter)
{
	assert_same("{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}");
	assert_same("{\"x\": {\"q\": [1, {\"m\": null, \"l\": true}], \"p\": \"s\"}, \"a\": []}",
		    "{\"a\": [], \"x\": {\"p\": \"s\", \"q\": [1, {\"l\": true, \"m\": null}]}}");
	assert_same("{}", "{}");
	/* arrays keep their order */
	assert_differ("[1, 2]", "[2, 1]");
}
END_TEST

START_TEST(wide_objects_sort_and_spill)
{
	/* 300 members: more than the stack slice for members and the insertion-sort size */
	json_t *fwd = json_object(), *rev = json_object(), *other = json_object();
	char key[16];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		ck_assert_int_eq(json_object_set_new(fwd, key, json_pack("{s:i}", "n", i)), 0);
		snprintf(key, sizeof key, "k%03d", 299 - i);
		ck_assert_int_eq(json_object_set_new(rev, key, json_pack("{s:i}", "n", 299 - i)), 0);
		ck_assert_int_eq(json_object_set_new(other, key, json_pack("{s:i}", "n", i == 7 ? -1 : 299 - i)), 0);
	}
	struct buf enc;
	buf_init(&enc, BUF_NO_MAX);
	enc_tagged(&enc, 'o', 300);
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		enc_string(&enc, 'k', key, 4);
		enc_tagged(&enc, 'o', 1);
		enc_string(&enc, 'k', "n", 1);
		enc_tagged(&enc, 'i', (uint64_t)i * 2); /* zigzag of a non-negative i */
	}
	assert_digest_is(fwd, &enc);
	assert_digest_is(rev, &enc);
	char a[65], b[65];
	ck_assert_int_eq(digest_json(rev, a), 0);
	ck_assert_int_eq(digest_json(other, b), 0);
	ck_assert_str_ne(a, b);
	buf_release(&enc);
	json_decref(fwd);
	json_decref(rev);
	json_decref(other);
}
END_TEST

START_TEST(types_are_distinct)
{
	static const char *const values[] = {"1", "\"1\"", "1.0", "true", "\"true\"", "false", "0",
					     "null", "\"\"", "\"null\"", "[]", "{}", "[null]", "{\"\": null}",
					     "[[]]", "[{}]", "-1", "2"};
	size_t n = sizeof values / sizeof values[0];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_differ(values[i], values[j]);
	assert_same("0.0", "-0.0"); /* equal for json_equal */
	assert_differ("1e300", "1e301");
	assert_differ("9223372036854775807", "-9223372036854775808");
}
END_TEST

START_TEST(boundaries_are_unambiguous)
{
	assert_differ("[\"ab\", \"c\"]", "[\"a\", \"bc\"]");
	assert_differ("{\"ab\": \"c\"}", "{\"a\": \"bc\"}");
	assert_differ("{\"a\": \"b\", \"c\": \"d\"}", "{\"a\": \"b\\u0000c\"}");
	assert_differ("[[\"a\"], \"b\"]", "[[\"a\", \"b\"]]");
	assert_differ("{\"a\": {\"b\": 1}, \"c\": 2}", "{\"a\": {\"b\": 1, \"c\": 2}}");
	assert_differ("[\"a\\u0000\"]", "[\"a\"]");
	/* a value that looks like an encoded key */
	assert_differ("{\"a\": \"x\"}", "[\"a\", \"x\"]");
}
END_TEST

START_TEST(nested_changes_show)
{
	static const char base[] = "{\"s\": {\"o\": {\"e\": {\"V\": {\"value\": \"1\"}}, \"p\": [1, 2, {\"t\": \"x\"}]}}}";
	assert_same(base, "{\"s\": {\"o\": {\"p\": [1, 2, {\"t\": \"x\"}], \"e\": {\"V\": {\"value\": \"1\"}}}}}");
	assert_differ(base, "{\"s\": {\"o\": {\"e\": {\"V\": {\"value\": \"2\"}}, \"p\": [1, 2, {\"t\": \"x\"}]}}}");
	assert_differ(base, "{\"s\": {\"o\": {\"e\": {\"V\": {\"value\": \"1\"}}, \"p\": [1, 2, {\"t\": \"y\"}]}}}");
	assert_differ(base, "{\"s\": {\"o\": {\"e\": {\"W\": {\"value\": \"1\"}}, \"p\": [1, 2, {\"t\": \"x\"}]}}}");
}
END_TEST

START_TEST(encoding_is_pinned)
{
	json_t *v = parse("{\"b\": 1, \"a\": [true, \"x\", null, false, -2, 0.5], \"\": {}}");
	struct buf enc;
	buf_init(&enc, BUF_NO_MAX);
	enc_tagged(&enc, 'o', 3);
	enc_string(&enc, 'k', "", 0);
	enc_tagged(&enc, 'o', 0);
	enc_string(&enc, 'k', "a", 1);
	enc_tagged(&enc, 'a', 6);
	enc_byte(&enc, 't');
	enc_string(&enc, 's', "x", 1);
	enc_byte(&enc, 'n');
	enc_byte(&enc, 'f');
	enc_tagged(&enc, 'i', 3); /* zigzag(-2) */
	enc_fixed(&enc, 'r', 0x3FE0000000000000ull); /* 0.5 */
	enc_string(&enc, 'k', "b", 1);
	enc_tagged(&enc, 'i', 2); /* zigzag(1) */
	assert_digest_is(v, &enc);
	json_decref(v);
	/* the extremes of the zigzag LEB128 integers: ten bytes each */
	buf_reset(&enc);
	v = json_pack("[I, I]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN);
	enc_tagged(&enc, 'a', 2);
	enc_tagged(&enc, 'i', UINT64_MAX - 1);
	enc_tagged(&enc, 'i', UINT64_MAX);
	ck_assert_uint_eq(enc.len, 2 + 11 + 11);
	assert_digest_is(v, &enc);
	buf_release(&enc);
	json_decref(v);
}
END_TEST

START_TEST(long_strings_and_nul_keys)
{
	/* a string longer than the batching buffer goes to the hash directly, in order */
	size_t len = 10000;
	char *s = malloc(len);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	json_t *v = json_pack("[s, s#]", "before", s, (int)len);
	struct buf enc;
	buf_init(&enc, BUF_NO_MAX);
	enc_tagged(&enc, 'a', 2);
	enc_string(&enc, 's', "before", 6);
	enc_string(&enc, 's', s, len);
	assert_digest_is(v, &enc);
	json_decref(v);
	buf_reset(&enc);

	/* keys that differ only after a NUL sort by all their bytes */
	json_t *o = json_object();
	ck_assert_int_eq(json_object_setn_new(o, "a\0c", 3, json_integer(2)), 0);
	ck_assert_int_eq(json_object_setn_new(o, "a\0b", 3, json_integer(1)), 0);
	ck_assert_int_eq(json_object_setn_new(o, "a", 1, json_integer(0)), 0);
	enc_tagged(&enc, 'o', 3);
	enc_string(&enc, 'k', "a", 1);
	enc_tagged(&enc, 'i', 0);
	enc_string(&enc, 'k', "a\0b", 3);
	enc_tagged(&enc, 'i', 2);
	enc_string(&enc, 'k', "a\0c", 3);
	enc_tagged(&enc, 'i', 4);
	assert_digest_is(o, &enc);
	json_decref(o);
	buf_release(&enc);
	free(s);
}
END_TEST

/* Known answers, computed outside this code base (Python's hashlib.blake2b with
 * digest_size=32 over the encoding bytes): the algorithm is pinned, not only the encoding. */
/* digest_node gives digest_json of the tree's JSON: every kind, wide and nested maps, a
 * key twice (the JSON keeps one value), NUL bytes. */
START_TEST(node_trees_digest_as_their_json)
{
	static const char *const texts[] = {
		"{\"b\": [1, -2, 3.5, -0.0, true, false, null, \"x\"], \"a\": {}, \"c\": [], \"d\": {\"z\": {\"y\": 1}}}",
		"{\"k01\":1,\"k02\":2,\"k03\":3,\"k04\":4,\"k05\":5,\"k06\":6,\"k07\":7,\"k08\":8,\"k09\":9,\"k10\":10,"
		"\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"a\":[{\"b\":\"\\u0000c\"}]}",
		"[\"top\", {\"ab\": 1, \"a\": 2, \"abc\": 3}]",
		"\"just text\"",
	};
	struct arena *a = arena_new();
	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		json_t *v = json_loads(texts[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		ck_assert_ptr_nonnull(v);
		char want[65], got[65];
		ck_assert_int_eq(digest_json(v, want), 0);
		ck_assert_int_eq(digest_node(node_from_json(a, v), got), 0);
		ck_assert_str_eq(got, want);
		json_decref(v);
	}
	struct node *twice = NODE_MAP(a, {"a", node_int(a, 1)}, {"b", node_int(a, 2)}, {"a", node_int(a, 3)});
	json_t *j = node_to_json(twice);
	char want[65], got[65];
	ck_assert_int_eq(digest_json(j, want), 0);
	ck_assert_int_eq(digest_node(twice, got), 0);
	ck_assert_str_eq(got, want);
	json_decref(j);
	ck_assert_int_eq(digest_node(NULL, got), -EINVAL);
	arena_free(a);
}
END_TEST

START_TEST(hash_is_blake2b_256)
{
	static const struct {
		const char *json, *hex;
	} known[] = {
		{"null", "1593de8fa374083bfd10fb9300b401b52dff963181c5854fdb00ade06153b9d5"},    /* n */
		{"\"abc\"", "f1ea1d54cc372998a42541e268129976c87cac98fbba99f5d62969d9f6ca8709"}, /* s 03 abc */
		/* o 02 k 01 a i 02 k 01 b a 02 t f */
		{"{\"b\": [true, false], \"a\": 1}", "cddcc3d5a1d95d8dfc77e6422306c003505992f4ab7869b940affb011df3c631"},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		char hex[65];
		digest_of(known[i].json, hex);
		ck_assert_str_eq(hex, known[i].hex);
	}
}
END_TEST

/* digest_bytes is the same BLAKE2b-256: over the encoding bytes of the known answers
 * above it gives their digests. */
START_TEST(bytes_use_the_same_hash)
{
	char hex[65];
	ck_assert_int_eq(digest_bytes("n", 1, hex), 0);
	ck_assert_str_eq(hex, "1593de8fa374083bfd10fb9300b401b52dff963181c5854fdb00ade06153b9d5");
	ck_assert_int_eq(digest_bytes("s\x03" "abc", 5, hex), 0);
	ck_assert_str_eq(hex, "f1ea1d54cc372998a42541e268129976c87cac98fbba99f5d62969d9f6ca8709");
}
END_TEST

START_TEST(bad_input_is_refused)
{
	char hex[65] = "untouched";
	ck_assert_int_eq(digest_json(NULL, hex), -EINVAL);
	json_t *deep = json_array(), *inner = deep;
	for (int i = 0; i < DIGEST_MAX_DEPTH; i++) {
		json_t *next = json_array();
		ck_assert_int_eq(json_array_append_new(inner, next), 0);
		inner = next;
	}
	ck_assert_int_eq(digest_json(deep, hex), -EINVAL);
	ck_assert_str_eq(hex, "untouched");
	ck_assert_int_eq(digest_json(json_array_get(deep, 0), hex), 0); /* exactly the limit */
	json_decref(deep);
}
END_TEST

Suite *digest_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, member_order_does_not_matter);
	tcase_add_test(tc, bytes_use_the_same_hash);
	tcase_add_test(tc, wide_objects_sort_and_spill);
	tcase_add_test(tc, types_are_distinct);
	tcase_add_test(tc, boundaries_are_unambiguous);
	tcase_add_test(tc, nested_changes_show);
	tcase_add_test(tc, encoding_is_pinned);
	tcase_add_test(tc, long_strings_and_nul_keys);
	tcase_add_test(tc, hash_is_blake2b_256);
	tcase_add_test(tc, bad_input_is_refused);
	tcase_add_test(tc, node_trees_digest_as_their_json);
	suite_add_tcase(s, tc);
	return s;
}

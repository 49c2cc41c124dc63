/* test_buf: the growable buffer and the util helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suites.h"
#include "util.h"

START_TEST(append_grows_and_terminates)
{
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_str_eq(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_puts(&b, "ab"), 0);
	ck_assert_uint_eq(b.len, 2000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_str_eq(buf_cstr(&b) + 2000, "42-x");
	buf_truncate(&b, 2);
	ck_assert_str_eq(buf_cstr(&b), "ab");
	ck_assert_int_eq(buf_puts(&b, "c"), 0);
	ck_assert_str_eq(buf_cstr(&b), "abc");
	buf_release(&b);
	ck_assert_ptr_null(b.data);
	buf_truncate(&b, 0); /* an empty buffer has nothing to cut */
	ck_assert_str_eq(buf_cstr(&b), "");
}
END_TEST

START_TEST(max_is_enforced_and_buffer_kept)
{
	struct buf b;
	buf_init(&b, 5);
	ck_assert_int_eq(buf_puts(&b, "abc"), 0);
	ck_assert_int_eq(buf_puts(&b, "def"), -E2BIG);
	ck_assert_str_eq(buf_cstr(&b), "abc");
	ck_assert_int_eq(buf_printf(&b, "%s", "de"), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", "f"), -E2BIG);
	size_t len = 0;
	char *s = buf_detach(&b, &len);
	ck_assert_str_eq(s, "abcde");
	ck_assert_uint_eq(len, 5);
	ck_assert_uint_eq(b.len, 0);
	free(s);
	buf_release(&b);
}
END_TEST

START_TEST(putsv_appends_all_or_nothing)
{
	struct buf b;
	buf_init(&b, 12);
	ck_assert_int_eq(BUF_PUTS(&b, "ab", "", "cd"), 0);
	ck_assert_str_eq(buf_cstr(&b), "abcd");
	ck_assert_uint_eq(b.len, 4);
	ck_assert_int_eq(BUF_PUTS(&b, "efgh", "ijklm"), -E2BIG);
	ck_assert_str_eq(buf_cstr(&b), "abcd");
	ck_assert_int_eq(BUF_PUTS(&b, "efgh", "ijkl"), 0);
	ck_assert_str_eq(buf_cstr(&b), "abcdefghijkl");
	buf_release(&b);
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(buf_putsv(&b, NULL, 0), 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_ptr_nonnull(b.data);
	buf_release(&b);
}
END_TEST

START_TEST(parse_int_is_strict)
{
	long long v = 7;
	ck_assert_int_eq(util_parse_int("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(util_parse_int("-2", -5, 5, &v), 0);
	ck_assert_int_eq(v, -2);
	ck_assert_int_eq(util_parse_int("101", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(util_parse_int("4x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_int(" 4", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("99999999999999999999", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(v, -2);
}
END_TEST

START_TEST(hash_base64_and_names)
{
	char hex[65];
	util_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	ck_assert_int_eq(util_base64_append(&b, "hello?", 6), 0);
	ck_assert_str_eq(buf_cstr(&b), "aGVsbG8/");
	buf_reset(&b);
	ck_assert_int_eq(util_base64_decode_append(&b, "aGVsbG8/", 8), 0);
	ck_assert_str_eq(buf_cstr(&b), "hello?");
	ck_assert_int_eq(util_base64_decode_append(&b, "", 0), 0);
	ck_assert_int_eq(util_base64_decode_append(&b, "aGk=x", 5), -EINVAL);
	ck_assert_int_eq(util_base64_decode_append(&b, "a b", 3), -EINVAL);
	ck_assert_str_eq(buf_cstr(&b), "hello?");
	ck_assert_uint_eq(b.len, 6);
	buf_release(&b);
	ck_assert_int_eq(util_hex_digit('0'), 0);
	ck_assert_int_eq(util_hex_digit('9'), 9);
	ck_assert_int_eq(util_hex_digit('a'), 10);
	ck_assert_int_eq(util_hex_digit('F'), 15);
	ck_assert_int_eq(util_hex_digit('g'), -1);
	ck_assert_int_eq(util_hex_digit('/'), -1);
	ck_assert(util_is_utf8("plain \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 15));
	ck_assert(util_is_utf8("", 0));
	static const char *const bad[] = {"\xff", "\xc3", "\xc3(", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
					  "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "a\0b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!util_is_utf8(bad[i], i == 8 ? 3 : strlen(bad[i])), "case %zu", i);
	ck_assert(util_is_dns_label("order-service"));
	ck_assert(!util_is_dns_label("Order"));
	ck_assert(!util_is_dns_label("-a"));
	ck_assert(!util_is_dns_label("a-"));
	ck_assert(!util_is_dns_label(""));
	ck_assert(util_is_dns_label("a123456789012345678901234567890123456789012345678901234567890bc"));
	ck_assert(!util_is_dns_label("a123456789012345678901234567890123456789012345678901234567890bcd"));
	ck_assert_uint_eq(util_edit_distance("livenesProbe", "livenessProbe", 10), 1);
	ck_assert_uint_eq(util_edit_distance("replicas", "replicas", 10), 0);
	ck_assert_uint_eq(util_edit_distance("abc", "xyz", 2), 2);
}
END_TEST

Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, append_grows_and_terminates);
	tcase_add_test(tc, max_is_enforced_and_buffer_kept);
	tcase_add_test(tc, putsv_appends_all_or_nothing);
	tcase_add_test(tc, parse_int_is_strict);
	tcase_add_test(tc, hash_base64_and_names);
	suite_add_tcase(s, tc);
	return s;
}

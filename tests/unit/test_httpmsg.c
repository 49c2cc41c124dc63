/* test_httpmsg: the request-message rules (targets, methods, fields, framing, limits) and
 * the decoding of a target into path and query arguments. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg.h"
#include "suites.h"

/* The status httpmsg_check_target gives target; detail must then say something. */
static unsigned target_status(const char *target)
{
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	unsigned status = httpmsg_check_target(target, strlen(target), &detail);
	ck_assert_msg(status == 0 ? detail.len == 0 : detail.len > 0, "%s: '%s'", target,
		      buf_cstr(&detail));
	buf_release(&detail);
	return status;
}

START_TEST(targets)
{
	static const struct {
		const char *target;
		unsigned status;
	} cases[] = {
		{"/", 0},
		{"/api/v1/stacks?limit=5&cursor=a%20b", 0},
		{"/x%ff%9f\x80", 0}, /* obs-text and any escape but %00 */
		{"http://example.com/healthz", 0},
		{"HTTPS://example.com", 0},
		{"/a%0", 0}, /* not an escape: stays as it is */
		{"", 400},
		{"*", 400},
		{"healthz", 400},
		{"ftp://x/y", 400},
		{"/a b", 400},
		{"/a\tb", 400},
		{"/a\rb", 400},
		{"/a\x7f", 400},
		{"/a%00b", 400},
		{"/a?x=%00", 400},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(target_status(cases[i].target) == cases[i].status, "'%s' is not %u",
			      cases[i].target, cases[i].status);
	/* the length limit: at it served, one byte more 414 */
	char *t = malloc(HTTPMSG_MAX_TARGET + 2);
	ck_assert_ptr_nonnull(t);
	memset(t, 'a', HTTPMSG_MAX_TARGET + 1);
	t[0] = '/';
	t[HTTPMSG_MAX_TARGET] = '\0';
	ck_assert_uint_eq(target_status(t), 0);
	t[HTTPMSG_MAX_TARGET] = 'a';
	t[HTTPMSG_MAX_TARGET + 1] = '\0';
	ck_assert_uint_eq(target_status(t), 414);
	free(t);
}
END_TEST

static void assert_path(const char *target, const char *want)
{
	char *path = NULL;
	ck_assert_int_eq(httpmsg_path(target, strlen(target), &path), 0);
	ck_assert_str_eq(path, want);
	free(path);
}

START_TEST(paths_are_decoded)
{
	assert_path("/", "/");
	assert_path("/no%2Fsuch?x=1", "/no/such");
	assert_path("/a%41%zz%4", "/aA%zz%4");
	assert_path("/a+b", "/a+b"); /* '+' is a space only in a query */
	assert_path("http://host:8080/api/v1?x", "/api/v1");
	assert_path("http://host", "/");
	assert_path("http://host?x=1", "/");
	char *path = NULL;
	ck_assert_int_eq(httpmsg_path("x/y", 3, &path), -EINVAL);
	ck_assert_ptr_null(path);
}
END_TEST

START_TEST(queries_are_split_and_limited)
{
	struct httpmsg_arg args[HTTPMSG_MAX_ARGS];
	size_t n = 0;
	char q[] = "format=yaml&&x&a+b=c%20d&e=%3D&";
	ck_assert_int_eq(httpmsg_parse_query(q, args, HTTPMSG_MAX_ARGS, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(args[0].name, "format");
	ck_assert_str_eq(args[0].value, "yaml");
	ck_assert_str_eq(args[1].name, "x");
	ck_assert_str_eq(args[1].value, "");
	ck_assert_str_eq(args[2].name, "a b");
	ck_assert_str_eq(args[2].value, "c d");
	ck_assert_str_eq(args[3].name, "e");
	ck_assert_str_eq(args[3].value, "=");
	/* HTTPMSG_MAX_ARGS arguments fit, one more is refused */
	struct buf b;
	buf_init(&b, BUF_NO_MAX);
	for (int i = 0; i < HTTPMSG_MAX_ARGS; i++)
		ck_assert_int_eq(buf_puts(&b, "a=b&"), 0);
	char *many = buf_detach(&b, NULL);
	ck_assert_int_eq(httpmsg_parse_query(many, args, HTTPMSG_MAX_ARGS, &n), 0);
	ck_assert_uint_eq(n, HTTPMSG_MAX_ARGS);
	free(many);
	for (int i = 0; i <= HTTPMSG_MAX_ARGS; i++)
		ck_assert_int_eq(buf_puts(&b, "a=b&"), 0);
	many = buf_detach(&b, NULL);
	ck_assert_int_eq(httpmsg_parse_query(many, args, HTTPMSG_MAX_ARGS, &n), -E2BIG);
	ck_assert_uint_eq(n, HTTPMSG_MAX_ARGS);
	free(many);
}
END_TEST

/* The status of a head of method, version and the fields given as name, value, ...,
 * NULL; detail is checked to name its reason when want_in_detail is set. */
static unsigned head_status(const char *method, int version, size_t size,
			    const char *want_in_detail, ...)
{
	struct httpmsg_field fields[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, want_in_detail);
	for (const char *name; (name = va_arg(ap, const char *)) != NULL && n < 16; n++)
		fields[n] = (struct httpmsg_field){name, va_arg(ap, const char *)};
	va_end(ap);
	struct httpmsg_head h = {method, version, fields, n, size};
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	unsigned status = httpmsg_check_head(&h, &detail);
	if (want_in_detail)
		ck_assert_msg(strstr(buf_cstr(&detail), want_in_detail), "'%s' lacks '%s'",
			      buf_cstr(&detail), want_in_detail);
	buf_release(&detail);
	return status;
}

START_TEST(fields_and_methods)
{
	ck_assert_uint_eq(head_status("GET", 11, 100, NULL, "Host", "x", "X-A", "a\tb \x80", NULL), 0);
	ck_assert_uint_eq(head_status("BREW", 10, 0, NULL, NULL), 0); /* HTTP/1.0 needs no Host */
	ck_assert_uint_eq(head_status("GET", 0, 0, NULL, NULL), 0);  /* version unknown */
	ck_assert_uint_eq(head_status("G(T", 11, 0, "method", "Host", "x", NULL), 400);
	ck_assert_uint_eq(head_status("", 11, 0, "method", "Host", "x", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "field 2", "Host", "x", "X A", "1", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "field 2", "Host", "x", "", "1", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "'X' holds a control byte (0x0d)", "Host", "x",
				      "X", "a\rb", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "0x1b", "Host", "x", "X", "\x1b[2J", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "needs a Host", NULL), 400);
	ck_assert_uint_eq(head_status("GET", 11, 0, "2 Host", "Host", "x", "host", "y", NULL), 400);
	/* the head size limit */
	ck_assert_uint_eq(head_status("GET", 11, HTTPMSG_MAX_HEAD, NULL, "Host", "x", NULL), 0);
	ck_assert_uint_eq(head_status("GET", 11, HTTPMSG_MAX_HEAD + 1, "limit", "Host", "x", NULL), 431);
}
END_TEST

START_TEST(field_count_is_limited)
{
	struct httpmsg_field fields[HTTPMSG_MAX_FIELDS + 1];
	for (size_t i = 0; i <= HTTPMSG_MAX_FIELDS; i++)
		fields[i] = (struct httpmsg_field){"X", "1"};
	fields[0] = (struct httpmsg_field){"Host", "x"};
	struct httpmsg_head h = {"GET", 11, fields, HTTPMSG_MAX_FIELDS, 0};
	struct buf detail;
	buf_init(&detail, BUF_NO_MAX);
	ck_assert_uint_eq(httpmsg_check_head(&h, &detail), 0);
	h.nfields++;
	ck_assert_uint_eq(httpmsg_check_head(&h, &detail), 431);
	buf_release(&detail);
}
END_TEST

START_TEST(framing)
{
	const char *h = "Host", *x = "x", *te = "Transfer-Encoding", *cl = "Content-Length";
	ck_assert_uint_eq(head_status("POST", 11, 0, NULL, h, x, te, "chunked", NULL), 0);
	ck_assert_uint_eq(head_status("POST", 11, 0, NULL, h, x, te, "Chunked", NULL), 0);
	ck_assert_uint_eq(head_status("POST", 11, 0, "'chunked '", h, x, te, "chunked ", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "'gzip'", h, x, te, "gzip", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "'gzip, chunked'", h, x, te, "gzip, chunked", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "and more", h, x, te, "chunked", te, "chunked", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "both", h, x, te, "chunked", cl, "5", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 10, 0, "HTTP/1.0", te, "chunked", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, NULL, h, x, cl, "5", cl, "5", NULL), 0);
	ck_assert_uint_eq(head_status("POST", 11, 0, "different", h, x, cl, "5", cl, "6", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "'-1'", h, x, cl, "-1", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, "'5, 5'", h, x, cl, "5, 5", NULL), 400);
	ck_assert_uint_eq(head_status("POST", 11, 0, NULL, h, x, cl, "123456789012345678", NULL), 0);
	ck_assert_uint_eq(head_status("POST", 11, 0, "number", h, x, cl, "1234567890123456789", NULL), 400);

	struct httpmsg_field fields[] = {{"content-length", "42"}};
	struct httpmsg_head head = {"POST", 11, fields, 1, 0};
	bool chunked = true;
	uint64_t length = 0;
	httpmsg_body_framing(&head, &chunked, &length);
	ck_assert(!chunked);
	ck_assert_uint_eq(length, 42);
	fields[0] = (struct httpmsg_field){"transfer-encoding", "chunked"};
	httpmsg_body_framing(&head, &chunked, &length);
	ck_assert(chunked);
	ck_assert_uint_eq(length, 0);
}
END_TEST

Suite *httpmsg_suite(void)
{
	Suite *s = suite_create("httpmsg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, targets);
	tcase_add_test(tc, paths_are_decoded);
	tcase_add_test(tc, queries_are_split_and_limited);
	tcase_add_test(tc, fields_and_methods);
	tcase_add_test(tc, field_count_is_limited);
	tcase_add_test(tc, framing);
	suite_add_tcase(s, tc);
	return s;
}

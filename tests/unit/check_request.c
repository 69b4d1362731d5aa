/* check_request.c: FastCGI params, query strings, bodies and their limits. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

static struct request r;

static void
teardown(void)
{
	request_free(&r);
}

/* A body source that hands out a string in small chunks. */
struct src {
	const char	*data;
	size_t		 off, len, chunk;
	int		 fail;
};

static ssize_t
src_read(void *ctx, char *buf, size_t n)
{
	struct src	*s = ctx;
	size_t		 take;

	if (s->fail)
		return (-1);
	take = s->len - s->off;
	if (take > n)
		take = n;
	if (take > s->chunk)
		take = s->chunk;
	memcpy(buf, s->data + s->off, take);
	s->off += take;
	return ((ssize_t)take);
}

START_TEST(test_basic_params)
{
	char *env[] = {
		"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/reservations",
		"REQUEST_URI=/api/reservations?x=1", "QUERY_STRING=x=1",
		"CONTENT_TYPE=application/json; charset=utf-8",
		"CONTENT_LENGTH=12", "HTTP_IDEMPOTENCY_KEY=abc-123",
		"HTTP_X_REQUEST_ID=req-42", NULL
	};
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.path, "/api/reservations");
	ck_assert_str_eq(r.query, "x=1");
	ck_assert_int_eq(r.content_length, 12);
	ck_assert(request_is_json(&r));
	ck_assert_str_eq(request_header(&r, "Idempotency-Key"), "abc-123");
	ck_assert_ptr_null(request_header(&r, "Authorization"));
	ck_assert_str_eq(r.request_id, "req-42");
	ck_assert_str_eq(request_query(&r, "x"), "1");
}
END_TEST

START_TEST(test_request_id_generated_when_unsafe)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/",
		"HTTP_X_REQUEST_ID=bad id\"<script>", NULL };
	char err[128];
	size_t i;

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(strlen(r.request_id), 32);
	for (i = 0; i < 32; i++)
		ck_assert(strchr("0123456789abcdef", r.request_id[i]) != NULL);
}
END_TEST

START_TEST(test_path_from_request_uri_is_decoded)
{
	char *env[] = { "REQUEST_METHOD=GET",
		"REQUEST_URI=/api/reservations/user/alice%20b?page=2", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_str_eq(r.path, "/api/reservations/user/alice b");
}
END_TEST

START_TEST(test_bad_path_escape)
{
	char *env[] = { "REQUEST_URI=/api/%zz", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), -1);
	ck_assert_str_eq(err, "malformed path");
	/* Even a rejected request has an id to answer with. */
	ck_assert_int_eq(strlen(r.request_id), 32);
}
END_TEST

START_TEST(test_encoded_nul_in_path)
{
	char *env[] = { "REQUEST_URI=/api/users/a%00b", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), -1);
	ck_assert_str_eq(err, "malformed path");
}
END_TEST

START_TEST(test_query_decoding_and_duplicates)
{
	char *env[] = { "DOCUMENT_URI=/api/events",
		"QUERY_STRING=sort=eventDate%2Casc&status=ACTIVE&size=5&size=9"
		"&flag&q=a+b", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_str_eq(request_query(&r, "sort"), "eventDate,asc");
	ck_assert_str_eq(request_query(&r, "size"), "5");
	ck_assert_str_eq(request_query(&r, "flag"), "");
	ck_assert_str_eq(request_query(&r, "q"), "a b");
	ck_assert_ptr_null(request_query(&r, "page"));
}
END_TEST

START_TEST(test_bad_query)
{
	char *env[] = { "DOCUMENT_URI=/", "QUERY_STRING=a=%4", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), -1);
	ck_assert_str_eq(err, "malformed query string");
}
END_TEST

START_TEST(test_bad_content_length)
{
	char *env[] = { "DOCUMENT_URI=/", "CONTENT_LENGTH=12x", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), -1);
	ck_assert_str_eq(err, "malformed Content-Length");
}
END_TEST

START_TEST(test_json_content_types)
{
	static const struct { const char *ct; int json; } cases[] = {
		{ "CONTENT_TYPE=application/json", 1 },
		{ "CONTENT_TYPE=Application/JSON;charset=UTF-8", 1 },
		{ "CONTENT_TYPE=application/jsonp", 0 },
		{ "CONTENT_TYPE=text/plain", 0 },
		{ "CONTENT_TYPE=application/x-www-form-urlencoded", 0 },
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *env[] = { "DOCUMENT_URI=/", (char *)cases[i].ct, NULL };

		ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
		ck_assert_msg(request_is_json(&r) == cases[i].json, "%s",
		    cases[i].ct);
		request_free(&r);
	}
}
END_TEST

START_TEST(test_body_read_in_chunks)
{
	char *env[] = { "DOCUMENT_URI=/", "CONTENT_LENGTH=26", NULL };
	struct src s = { "abcdefghijklmnopqrstuvwxyz", 0, 26, 5, 0 };
	char err[128];
	int status = 0;

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), 0);
	ck_assert_int_eq(r.body_len, 26);
	ck_assert_str_eq(r.body, "abcdefghijklmnopqrstuvwxyz");
}
END_TEST

START_TEST(test_body_over_limit_by_length)
{
	char *env[] = { "DOCUMENT_URI=/", "CONTENT_LENGTH=101", NULL };
	struct src s = { "", 0, 0, 1, 0 };
	char err[128];
	int status = 0;

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), -1);
	ck_assert_int_eq(status, 413);
	/* Nothing was read: the limit is checked before the body. */
	ck_assert_int_eq(s.off, 0);
}
END_TEST

START_TEST(test_body_over_limit_without_length)
{
	char *env[] = { "DOCUMENT_URI=/", NULL };
	char big[200];
	struct src s = { big, 0, sizeof big, 64, 0 };
	char err[128];
	int status = 0;

	memset(big, 'x', sizeof big);
	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), -1);
	ck_assert_int_eq(status, 413);
}
END_TEST

START_TEST(test_body_exactly_at_limit)
{
	char *env[] = { "DOCUMENT_URI=/", NULL };
	char buf[100];
	struct src s = { buf, 0, sizeof buf, 64, 0 };
	char err[128];
	int status = 0;

	memset(buf, 'y', sizeof buf);
	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), 0);
	ck_assert_int_eq(r.body_len, 100);
}
END_TEST

START_TEST(test_short_body)
{
	char *env[] = { "DOCUMENT_URI=/", "CONTENT_LENGTH=10", NULL };
	struct src s = { "abc", 0, 3, 8, 0 };
	char err[128];
	int status = 0;

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), -1);
	ck_assert_int_eq(status, 400);
}
END_TEST

START_TEST(test_read_error)
{
	char *env[] = { "DOCUMENT_URI=/", "CONTENT_LENGTH=10", NULL };
	struct src s = { "abc", 0, 3, 8, 1 };
	char err[128];
	int status = 0;

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(request_read_body(&r, src_read, &s, 100, &status), -1);
	ck_assert_int_eq(status, 400);
}
END_TEST

START_TEST(test_url_decode)
{
	char a[] = "a%2Fb+c", b[] = "a%2Fb+c", c[] = "%", d[] = "%41%4a";
	char e[] = "5%00abc", f[] = "%0", g[] = "%10";

	ck_assert_int_eq(url_decode(a, true), 0);
	ck_assert_str_eq(a, "a/b c");
	ck_assert_int_eq(url_decode(b, false), 0);
	ck_assert_str_eq(b, "a/b+c");
	ck_assert_int_eq(url_decode(c, false), -1);
	ck_assert_int_eq(url_decode(d, false), 0);
	ck_assert_str_eq(d, "AJ");
	/* Regression (fuzz_request): %00 used to cut "5%00abc" to "5". */
	ck_assert_int_eq(url_decode(e, true), -1);
	ck_assert_int_eq(url_decode(f, true), -1);
	ck_assert_int_eq(url_decode(g, true), 0);
	ck_assert_str_eq(g, "\x10");
}
END_TEST

START_TEST(test_query_nul_is_malformed)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/api/events",
	    "QUERY_STRING=page=0&size=5%00abc", NULL };
	char err[128];

	ck_assert_int_eq(request_init(&r, env, err, sizeof err), -1);
	ck_assert_str_eq(err, "malformed query string");
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc = tcase_create("Core");
	TCase	*tl = tcase_create("Limits");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_basic_params);
	tcase_add_test(tc, test_request_id_generated_when_unsafe);
	tcase_add_test(tc, test_path_from_request_uri_is_decoded);
	tcase_add_test(tc, test_bad_path_escape);
	tcase_add_test(tc, test_encoded_nul_in_path);
	tcase_add_test(tc, test_query_decoding_and_duplicates);
	tcase_add_test(tc, test_bad_query);
	tcase_add_test(tc, test_bad_content_length);
	tcase_add_test(tc, test_json_content_types);
	tcase_add_test(tc, test_url_decode);
	tcase_add_test(tc, test_query_nul_is_malformed);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, NULL, teardown);
	tcase_add_test(tl, test_body_read_in_chunks);
	tcase_add_test(tl, test_body_over_limit_by_length);
	tcase_add_test(tl, test_body_over_limit_without_length);
	tcase_add_test(tl, test_body_exactly_at_limit);
	tcase_add_test(tl, test_short_body);
	tcase_add_test(tl, test_read_error);
	suite_add_tcase(s, tl);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(request_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

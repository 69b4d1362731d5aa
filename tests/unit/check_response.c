/* check_response.c: the JSON envelopes and the CGI response text. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "response.h"

static struct response resp;

static void
setup(void)
{
	resp_init(&resp);
}

static void
teardown(void)
{
	resp_free(&resp);
}

static struct json_object *
body_of(const char *text)
{
	const char	*b = strstr(text, "\r\n\r\n");

	ck_assert_ptr_nonnull(b);
	return (json_tokener_parse(b + 4));
}

static void
assert_timestamp(struct json_object *o)
{
	struct json_object	*ts;
	regex_t			 re;

	ck_assert(json_object_object_get_ex(o, "timestamp", &ts));
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, json_object_get_string(ts), 0, NULL, 0) == 0,
	    "bad timestamp %s", json_object_get_string(ts));
	regfree(&re);
}

START_TEST(test_success_envelope)
{
	struct json_object	*data = json_object_new_object(), *o, *v;
	char			*out;
	size_t			 len;

	json_object_object_add(data, "id", json_object_new_int(7));
	resp_success(&resp, 201, data, "created");
	out = resp_serialize(&resp, "rid-1", &len);
	ck_assert_int_eq(strlen(out), len);
	ck_assert(strncmp(out, "Status: 201 Created\r\n", 21) == 0);
	ck_assert_ptr_nonnull(strstr(out, "\r\nX-Request-Id: rid-1\r\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "Content-Type: application/json; charset=utf-8\r\n"));
	o = body_of(out);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "success", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "message", &v));
	ck_assert_str_eq(json_object_get_string(v), "created");
	ck_assert(json_object_object_get_ex(o, "data", &v));
	ck_assert(json_object_object_get_ex(v, "id", &v));
	ck_assert_int_eq(json_object_get_int(v), 7);
	assert_timestamp(o);
	json_object_put(o);
	free(out);
}
END_TEST

START_TEST(test_error_envelope)
{
	struct json_object	*details = json_object_new_object(), *o, *e, *v;
	char			*out, cl[64];
	size_t			 len;

	json_object_object_add(details, "requested", json_object_new_int(3));
	resp_error(&resp, 409, "INSUFFICIENT_SEATS", "Not enough seats.",
	    details);
	resp_header(&resp, "Retry-After", "%d", 2);
	out = resp_serialize(&resp, "abc", &len);
	ck_assert(strncmp(out, "Status: 409 Conflict\r\n", 22) == 0);
	ck_assert_ptr_nonnull(strstr(out, "\r\nRetry-After: 2\r\n"));
	o = body_of(out);
	snprintf(cl, sizeof cl, "Content-Length: %zu\r\n",
	    strlen(strstr(out, "\r\n\r\n") + 4));
	ck_assert_ptr_nonnull(strstr(out, cl));
	ck_assert(json_object_object_get_ex(o, "success", &v));
	ck_assert(!json_object_get_boolean(v));
	ck_assert(!json_object_object_get_ex(o, "data", &v));
	ck_assert(json_object_object_get_ex(o, "error", &e));
	ck_assert(json_object_object_get_ex(e, "code", &v));
	ck_assert_str_eq(json_object_get_string(v), "INSUFFICIENT_SEATS");
	ck_assert(json_object_object_get_ex(e, "message", &v));
	ck_assert_str_eq(json_object_get_string(v), "Not enough seats.");
	ck_assert(json_object_object_get_ex(e, "details", &v));
	ck_assert(json_object_object_get_ex(v, "requested", &v));
	ck_assert_int_eq(json_object_get_int(v), 3);
	assert_timestamp(o);
	json_object_put(o);
	free(out);
}
END_TEST

START_TEST(test_error_without_details)
{
	struct json_object	*o, *e, *v;
	char			*out;
	size_t			 len;

	resp_error(&resp, 404, "NOT_FOUND", "No such route.", NULL);
	out = resp_serialize(&resp, "x", &len);
	o = body_of(out);
	ck_assert(json_object_object_get_ex(o, "error", &e));
	ck_assert(!json_object_object_get_ex(e, "details", &v));
	json_object_put(o);
	free(out);
}
END_TEST

/* INVALID_REQUEST always has details, as the OpenAPI document says. */
START_TEST(test_invalid_request_always_has_details)
{
	struct json_object	*o, *e, *d, *v;
	char			*out;
	size_t			 len;

	resp_error(&resp, 400, "INVALID_REQUEST", "malformed query string",
	    NULL);
	out = resp_serialize(&resp, "x", &len);
	o = body_of(out);
	ck_assert(json_object_object_get_ex(o, "error", &e));
	ck_assert(json_object_object_get_ex(e, "details", &d));
	ck_assert(json_object_object_get_ex(d, "request", &v));
	ck_assert_str_eq(json_object_get_string(v), "malformed query string");
	json_object_put(o);
	free(out);
}
END_TEST

START_TEST(test_replacing_body_frees_old)
{
	char	*out;
	size_t	 len;

	/* Run under valgrind or ASan, a leak here fails the build's checks. */
	resp_success(&resp, 200, json_object_new_string("first"), NULL);
	resp_error(&resp, 500, "INTERNAL_SERVER_ERROR", "boom", NULL);
	out = resp_serialize(&resp, "x", &len);
	ck_assert(strncmp(out, "Status: 500 Internal Server Error\r\n", 35) == 0);
	ck_assert_ptr_null(strstr(out, "first"));
	free(out);
}
END_TEST

START_TEST(test_no_content)
{
	char	*out;
	size_t	 len;

	resp_success(&resp, 204, NULL, NULL);
	out = resp_serialize(&resp, "x", &len);
	ck_assert(strncmp(out, "Status: 204 No Content\r\n", 24) == 0);
	ck_assert_ptr_null(strstr(out, "Content-Length"));
	ck_assert_str_eq(out + len - 4, "\r\n\r\n");
	free(out);
}
END_TEST

START_TEST(test_text_body)
{
	char	*out;
	size_t	 len;

	resp_text(&resp, 200, "text/plain; version=0.0.4", strdup("a 1\n"), 4);
	out = resp_serialize(&resp, "x", &len);
	ck_assert_ptr_nonnull(strstr(out,
	    "Content-Type: text/plain; version=0.0.4\r\n"));
	ck_assert_str_eq(out + len - 4, "a 1\n");
	free(out);
}
END_TEST

START_TEST(test_unset_status_is_500)
{
	char	*out;
	size_t	 len;

	out = resp_serialize(&resp, "x", &len);
	ck_assert(strncmp(out, "Status: 500 ", 12) == 0);
	free(out);
}
END_TEST

START_TEST(test_reasons)
{
	ck_assert_str_eq(http_reason(413), "Payload Too Large");
	ck_assert_str_eq(http_reason(415), "Unsupported Media Type");
	ck_assert_str_eq(http_reason(422), "Unprocessable Entity");
	ck_assert_str_eq(http_reason(599), "Unknown");
}
END_TEST

static Suite *
response_suite(void)
{
	Suite	*s = suite_create("response");
	TCase	*tc = tcase_create("Envelope");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_success_envelope);
	tcase_add_test(tc, test_error_envelope);
	tcase_add_test(tc, test_error_without_details);
	tcase_add_test(tc, test_invalid_request_always_has_details);
	tcase_add_test(tc, test_replacing_body_frees_old);
	tcase_add_test(tc, test_no_content);
	tcase_add_test(tc, test_text_body);
	tcase_add_test(tc, test_unset_status_is_500);
	tcase_add_test(tc, test_reasons);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(response_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* check_router.c: route matching, captures, 404/405 and dispatch limits. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "conf.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "worker.h"

#include <json-c/json.h>

static void h_list(struct app *a, struct request *q, struct response *p) {}
static void h_get(struct app *a, struct request *q, struct response *p) {}
static void h_upcoming(struct app *a, struct request *q, struct response *p) {}
static void h_put(struct app *a, struct request *q, struct response *p) {}
static void h_user(struct app *a, struct request *q, struct response *p) {}

static const struct route table[] = {
	{ "GET", "/api/events", h_list, "events" },
	{ "GET", "/api/events/{id}", h_get, "event" },
	{ "PUT", "/api/events/{id}", h_put, "event_update" },
	{ "GET", "/api/events/upcoming", h_upcoming, "upcoming" },
	{ "GET", "/api/reservations/user/{userId}", h_user, "user_res" },
	{ "PUT", "/api/things/{id}", h_put, "thing_put" },
	{ "HEAD", "/api/things/{id}", h_get, "thing_head" },
	{ "POST", "/api/things/{id}", h_put, "thing_post" },
	{ "PUT", "/api/widgets/{id}", h_put, "widget_put" },
};
#define NTABLE (sizeof table / sizeof table[0])

static struct request r;

static void
teardown(void)
{
	request_free(&r);
}

static enum route_result
match(const char *method, const char *path, const struct route **found,
    char *allow, size_t allowlen)
{
	char	m[64], p[256], err[64];
	char	*env[] = { m, p, NULL };

	snprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
	snprintf(p, sizeof p, "DOCUMENT_URI=%s", path);
	request_free(&r);
	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	return (router_match(table, NTABLE, &r, found, allow, allowlen));
}

START_TEST(test_literal_route)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("GET", "/api/events", &f, allow, sizeof allow),
	    ROUTE_FOUND);
	ck_assert_str_eq(f->name, "events");
	ck_assert_int_eq(r.ncaptures, 0);
}
END_TEST

START_TEST(test_capture)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("GET", "/api/events/42", &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "event");
	ck_assert_str_eq(request_capture(&r, "id"), "42");
	ck_assert_ptr_null(request_capture(&r, "userId"));

	ck_assert_int_eq(match("GET", "/api/reservations/user/alice", &f,
	    allow, sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(request_capture(&r, "userId"), "alice");
}
END_TEST

START_TEST(test_encoded_slash_stays_in_capture)
{
	const struct route	*f = NULL;
	char			 allow[64], err[64];
	char			*env[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/api/reservations/user/x%2Fy%20z?page=1",
	    "DOCUMENT_URI=/api/reservations/user/x/y z", NULL };

	request_free(&r);
	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	ck_assert_int_eq(router_match(table, NTABLE, &r, &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "user_res");
	ck_assert_str_eq(request_capture(&r, "userId"), "x/y z");
	ck_assert_str_eq(r.path, "/api/reservations/user/x/y z");
}
END_TEST

START_TEST(test_literal_beats_capture)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("GET", "/api/events/upcoming", &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "upcoming");
}
END_TEST

START_TEST(test_not_found)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("GET", "/api/nothing", &f, allow, sizeof allow),
	    ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/api/events/", &f, allow, sizeof allow),
	    ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/api/events/1/extra", &f, allow,
	    sizeof allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/api", &f, allow, sizeof allow),
	    ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/", &f, allow, sizeof allow),
	    ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(test_method_not_allowed_lists_allow)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("DELETE", "/api/events/7", &f, allow,
	    sizeof allow), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, PUT");
	ck_assert_int_eq(match("POST", "/api/events/upcoming", &f, allow,
	    sizeof allow), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD");
	/* HEAD is offered with GET or on its own, never twice. */
	ck_assert_int_eq(match("DELETE", "/api/things/7", &f, allow,
	    sizeof allow), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "PUT, HEAD, POST");
	ck_assert_int_eq(match("DELETE", "/api/widgets/7", &f, allow,
	    sizeof allow), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "PUT");
}
END_TEST

START_TEST(test_head_is_get_without_a_body)
{
	const struct route	*f = NULL;
	char			 allow[64];

	ck_assert_int_eq(match("HEAD", "/api/events/42", &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "event");
	ck_assert_str_eq(request_capture(&r, "id"), "42");
	ck_assert_int_eq(match("HEAD", "/api/events/upcoming", &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "upcoming");
	/* An explicit HEAD route wins over the GET fallback. */
	ck_assert_int_eq(match("HEAD", "/api/things/1", &f, allow,
	    sizeof allow), ROUTE_FOUND);
	ck_assert_str_eq(f->name, "thing_head");
	/* No GET on the resource: HEAD is not allowed either. */
	ck_assert_int_eq(match("HEAD", "/api/widgets/1", &f, allow,
	    sizeof allow), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "PUT");
	ck_assert_int_eq(match("HEAD", "/api/nothing", &f, allow,
	    sizeof allow), ROUTE_NOT_FOUND);
}
END_TEST

/* The daemon's own dispatcher: error envelopes for routing and bodies. */
static struct bo_conf conf;

static int
dispatch(const char *method, const char *path, const char *ctype,
    const char *clen, struct response *resp)
{
	char	m[64], p[256], ct[128], cl[64], err[64];
	char	*env[5] = { m, p, NULL, NULL, NULL };
	int	 n = 2;
	struct app	*app;

	snprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
	snprintf(p, sizeof p, "DOCUMENT_URI=%s", path);
	if (ctype != NULL) {
		snprintf(ct, sizeof ct, "CONTENT_TYPE=%s", ctype);
		env[n++] = ct;
	}
	if (clen != NULL) {
		snprintf(cl, sizeof cl, "CONTENT_LENGTH=%s", clen);
		env[n++] = cl;
	}
	conf_defaults(&conf);
	conf.max_body_bytes = 100;
	app = app_new(&conf, 0);
	request_free(&r);
	ck_assert_int_eq(request_init(&r, env, err, sizeof err), 0);
	resp_init(resp);
	worker_dispatch(app, &r, resp, NULL, NULL);
	app_free(app);
	conf_free(&conf);
	return (resp->status);
}

static const char *
error_code(struct response *resp)
{
	struct json_object	*e, *code;

	if (resp->json == NULL ||
	    !json_object_object_get_ex(resp->json, "error", &e) ||
	    !json_object_object_get_ex(e, "code", &code))
		return ("");
	return (json_object_get_string(code));
}

START_TEST(test_dispatch_errors)
{
	struct response	resp;

	ck_assert_int_eq(dispatch("GET", "/api/nope", NULL, NULL, &resp), 404);
	ck_assert_str_eq(error_code(&resp), "NOT_FOUND");
	resp_free(&resp);

	ck_assert_int_eq(dispatch("POST", "/api/health", "application/json",
	    "2", &resp), 405);
	ck_assert_str_eq(error_code(&resp), "METHOD_NOT_ALLOWED");
	ck_assert_int_eq(resp.nheaders, 1);
	ck_assert_str_eq(resp.header_names[0], "Allow");
	ck_assert_str_eq(resp.header_values[0], "GET, HEAD");
	resp_free(&resp);

	ck_assert_int_eq(dispatch("GET", "/api/health", NULL, NULL, &resp),
	    200);
	resp_free(&resp);

	/* Size and media type are judged before the route. */
	ck_assert_int_eq(dispatch("POST", "/api/anything", "application/json",
	    "101", &resp), 413);
	ck_assert_str_eq(error_code(&resp), "PAYLOAD_TOO_LARGE");
	resp_free(&resp);
	ck_assert_int_eq(dispatch("POST", "/api/health", "text/plain", "5",
	    &resp), 415);
	ck_assert_str_eq(error_code(&resp), "UNSUPPORTED_MEDIA_TYPE");
	resp_free(&resp);
	ck_assert_int_eq(dispatch("PUT", "/api/health", NULL, "5", &resp), 415);
	resp_free(&resp);
	/* A GET without a body needs no content type. */
	ck_assert_int_eq(dispatch("GET", "/api/health", "text/plain", NULL,
	    &resp), 200);
	resp_free(&resp);
}
END_TEST

/* Workers started together must not all recycle at the same request. */
START_TEST(test_worker_request_limit_jitter)
{
	unsigned long long	lo = ~0ULL, hi = 0, v;
	long			i;

	ck_assert_uint_eq(worker_request_limit(0, 1000, 12345), 0);
	ck_assert_uint_eq(worker_request_limit(10000, 0, 12345), 10000);
	for (i = 0; i < 5000; i++) {
		v = worker_request_limit(10000, 1000, i * 7919);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	ck_assert_uint_eq(lo, 10000);
	ck_assert_uint_eq(hi, 11000);
	ck_assert_uint_eq(worker_request_limit(10000, 1000, 2147483647L),
	    10000 + 2147483647ULL % 1001);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_literal_route);
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_literal_beats_capture);
	tcase_add_test(tc, test_encoded_slash_stays_in_capture);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_method_not_allowed_lists_allow);
	tcase_add_test(tc, test_head_is_get_without_a_body);
	tcase_add_test(tc, test_dispatch_errors);
	tcase_add_test(tc, test_worker_request_limit_jitter);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(router_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

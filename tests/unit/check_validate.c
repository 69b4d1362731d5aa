/* check_validate.c: ids, dates, strings, JSON fields and the admin compare. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "validate.h"

START_TEST(test_ids)
{
	int64_t	v = 0;

	ck_assert(parse_id("1", &v) && v == 1);
	ck_assert(parse_id("9223372036854775807", &v) &&
	    v == INT64_MAX);
	ck_assert(!parse_id("9223372036854775808", &v));
	ck_assert(!parse_id("0", &v));
	ck_assert(!parse_id("-5", &v));
	ck_assert(!parse_id("+5", &v));
	ck_assert(!parse_id("12a", &v));
	ck_assert(!parse_id(" 12", &v));
	ck_assert(!parse_id("", &v));
	ck_assert(!parse_id(NULL, &v));
}
END_TEST

START_TEST(test_iso8601)
{
	int64_t	ms;

	ck_assert(parse_iso8601("1970-01-01T00:00:00Z", &ms) && ms == 0);
	ck_assert(parse_iso8601("2027-01-31T19:30:00.250Z", &ms) &&
	    ms == 1801423800250LL);
	/* No zone means UTC; offsets move to UTC. */
	ck_assert(parse_iso8601("2027-01-31T19:30:00", &ms) &&
	    ms == 1801423800000LL);
	ck_assert(parse_iso8601("2027-01-31T21:30:00+02:00", &ms) &&
	    ms == 1801423800000LL);
	ck_assert(parse_iso8601("2027-01-31T14:00:00-05:30", &ms) &&
	    ms == 1801423800000LL);
	ck_assert(parse_iso8601("2028-02-29T00:00:00Z", &ms));
	ck_assert(!parse_iso8601("2027-02-29T00:00:00Z", &ms));
	ck_assert(!parse_iso8601("2027-13-01T00:00:00Z", &ms));
	ck_assert(!parse_iso8601("2027-01-01T24:00:00Z", &ms));
	ck_assert(!parse_iso8601("2027-01-01", &ms));
	ck_assert(!parse_iso8601("2027-01-01T00:00:00+2", &ms));
	ck_assert(!parse_iso8601("2027-01-01T00:00:00Zjunk", &ms));
	ck_assert(!parse_iso8601("tomorrow", &ms));
}
END_TEST

/* Offsets can push a valid-looking date out of what DATETIME holds. */
START_TEST(test_iso8601_instant_range)
{
	int64_t	ms = 42;

	ck_assert(parse_iso8601("9999-12-31T23:59:59.999Z", &ms) &&
	    ms == ISO8601_MAX_MS);
	ck_assert(parse_iso8601("9999-12-31T23:59:59.999+00:01", &ms) &&
	    ms == ISO8601_MAX_MS - 60000);
	ms = 42;
	/* Regressions (fuzz_validate): both used to answer 500 on insert. */
	ck_assert(!parse_iso8601("9999-12-31T23:00:00-05:00", &ms));
	ck_assert(!parse_iso8601("9999-12-31T12:00:00.5-15:00", &ms));
	ck_assert(!parse_iso8601("1970-01-01T00:30:00+01:00", &ms));
	ck_assert_int_eq(ms, 42);
	ck_assert(parse_iso8601("1970-01-01T01:00:00+01:00", &ms) && ms == 0);
}
END_TEST

START_TEST(test_printable)
{
	char	long65[66];

	memset(long65, 'a', 65);
	long65[65] = '\0';
	ck_assert(printable_ascii("alice@example.com", 64));
	ck_assert(!printable_ascii("", 64));
	ck_assert(!printable_ascii("   ", 64));
	ck_assert(!printable_ascii("tab\there", 64));
	ck_assert(!printable_ascii("caf\xc3\xa9", 64));
	ck_assert(!printable_ascii(long65, 64));
	long65[64] = '\0';
	ck_assert(printable_ascii(long65, 64));
}
END_TEST

START_TEST(test_fields)
{
	struct json_object	*o;
	struct fielderrs	 fe;
	const char		*s;
	int64_t			 v;

	o = json_tokener_parse("{\"q\": 3, \"str\": \"2\", \"f\": 1.5, "
	    "\"big\": 18446744073709551615, \"n\": null, \"u\": \"bob\"}");
	ck_assert_ptr_nonnull(o);
	fe_init(&fe);
	ck_assert_int_eq(field_int(o, "q", 1, 10, true, &v, &fe), FIELD_OK);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(field_int(o, "str", 1, 10, true, &v, &fe), FIELD_INVALID);
	ck_assert_int_eq(field_int(o, "f", 1, 10, true, &v, &fe), FIELD_INVALID);
	ck_assert_int_eq(field_int(o, "big", 1, INT64_MAX, true, &v, &fe), FIELD_INVALID);
	ck_assert_int_eq(field_int(o, "n", 1, 10, false, &v, &fe), FIELD_ABSENT);
	ck_assert_int_eq(field_int(o, "missing", 1, 10, true, &v, &fe), FIELD_ABSENT);
	ck_assert_int_eq(field_string(o, "u", 1, 64, true, true, &s, &fe), FIELD_OK);
	ck_assert_str_eq(s, "bob");
	ck_assert_int_eq(field_string(o, "q", 1, 64, true, true, &s, &fe), FIELD_INVALID);
	ck_assert_int_eq(fe.n, 5);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    fe.details, "missing")), "is required");
	fe_free(&fe);
	json_object_put(o);
}
END_TEST

/* Text fields take well-formed UTF-8 only (regression: fuzz_validate). */
START_TEST(test_field_string_utf8)
{
	static const struct {
		const char	*bytes;
		enum field_result want;
	} cases[] = {
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x9f", FIELD_OK },
		{ "\xef\xbf\xbf", FIELD_OK },		/* a noncharacter, still text */
		{ "\xf4\x8f\xbf\xbf", FIELD_OK },		/* U+10FFFF */
		{ "a\xff" "b", FIELD_INVALID },
		{ "\xc0\xaf", FIELD_INVALID },			/* overlong '/' */
		{ "\xe0\x80\xaf", FIELD_INVALID },		/* overlong, 3 bytes */
		{ "\xed\xa0\x80", FIELD_INVALID },		/* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", FIELD_INVALID },		/* past U+10FFFF */
		{ "\xf5\x80\x80\x80", FIELD_INVALID },
		{ "\xe2\x82", FIELD_INVALID },			/* cut short */
		{ "\x80", FIELD_INVALID },			/* a lone continuation */
		{ "tab\there", FIELD_INVALID },
	};
	struct json_object	*o;
	struct fielderrs	 fe;
	const char		*s;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string_len(
		    cases[i].bytes, (int)strlen(cases[i].bytes)));
		fe_init(&fe);
		ck_assert_msg(field_string(o, "name", 1, 200, false, true, &s,
		    &fe) == cases[i].want, "case %zu", i);
		fe_free(&fe);
		json_object_put(o);
	}
}
END_TEST

START_TEST(test_consttime_equal)
{
	ck_assert(consttime_equal("secret-token", "secret-token"));
	ck_assert(!consttime_equal("secret-tokem", "secret-token"));
	ck_assert(!consttime_equal("secret", "secret-token"));
	ck_assert(!consttime_equal("secret-token-and-more", "secret-token"));
	ck_assert(!consttime_equal("", "secret-token"));
}
END_TEST

static Suite *
validate_suite(void)
{
	Suite	*s = suite_create("validate");
	TCase	*tc = tcase_create("Core");

	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_iso8601);
	tcase_add_test(tc, test_iso8601_instant_range);
	tcase_add_test(tc, test_printable);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_field_string_utf8);
	tcase_add_test(tc, test_consttime_equal);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(validate_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* check_waitroom.c: HMAC signing, base64url, tickets and admission tokens. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "signing.h"
#include "waitroom_token.h"

#define SECRET	"0123456789abcdef0123456789abcdef-test"

START_TEST(test_hmac_rfc4231_case_2)
{
	char	sig[SIGNATURE_B64_LEN + 1];

	/* RFC 4231, test case 2, as base64url. */
	sign_b64("Jefe", "what do ya want for nothing?", sig);
	ck_assert_str_eq(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
	ck_assert(sign_check("Jefe", "what do ya want for nothing?", sig));
	sig[5] ^= 1;
	ck_assert(!sign_check("Jefe", "what do ya want for nothing?", sig));
	ck_assert(!sign_check("Jefe", "what do ya want for nothing?", "short"));
}
END_TEST

START_TEST(test_b64url_round_trip_and_refusals)
{
	unsigned char	in[40], out[40];
	char		enc[64];
	size_t		n, len;

	for (n = 0; n < sizeof in; n++)
		in[n] = (unsigned char)(n * 37 + 250);
	for (n = 0; n <= sizeof in; n++) {
		b64url_encode(in, n, enc, sizeof enc);
		ck_assert_int_eq(strlen(enc), (n * 4 + 2) / 3);
		ck_assert_int_eq(b64url_decode(enc, out, sizeof out, &len), 0);
		ck_assert_int_eq(len, n);
		ck_assert_mem_eq(in, out, n);
	}
	ck_assert_int_eq(b64url_decode("a", out, sizeof out, &len), -1);
	ck_assert_int_eq(b64url_decode("ab+d", out, sizeof out, &len), -1);
	ck_assert_int_eq(b64url_decode("ab=", out, sizeof out, &len), -1);
	/* "AB" sets padding bits that "AA" would not: not canonical. */
	ck_assert_int_eq(b64url_decode("AB", out, sizeof out, &len), -1);
	ck_assert_int_eq(b64url_decode("AAAA", out, 2, &len), -1);
}
END_TEST

START_TEST(test_ticket)
{
	struct waitroom_pass	p = { 42, 7, 0, "alice.b" }, got;
	char			t[TOKEN_MAX];

	ticket_encode(SECRET, &p, t);
	ck_assert_int_eq(strncmp(t, "t1.42.7.", 8), 0);
	ck_assert_int_eq(ticket_decode(SECRET, t, 42, &got), TOKEN_OK);
	ck_assert_int_eq(got.number, 7);
	ck_assert_str_eq(got.user, "alice.b");
	ck_assert_int_eq(ticket_decode(SECRET, t, 43, &got), TOKEN_OTHER_EVENT);
	ck_assert_int_eq(ticket_decode("another secret of 32 bytes or more!!", t,
	    42, &got), TOKEN_FORGED);
	t[9] = t[9] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(ticket_decode(SECRET, t, 42, &got), TOKEN_FORGED);
	ck_assert_int_eq(ticket_decode(SECRET, "t1.42.7", 42, &got),
	    TOKEN_FORGED);
	ck_assert_int_eq(ticket_decode(SECRET, "", 42, &got), TOKEN_FORGED);
	ck_assert_int_eq(ticket_decode(SECRET, "t1.42.-1.YQ.x", 42, &got),
	    TOKEN_FORGED);
}
END_TEST

START_TEST(test_admission)
{
	struct waitroom_pass	p = { 42, 7, 1000, "bob" }, got;
	char			t[TOKEN_MAX], forged[TOKEN_MAX];

	admission_encode(SECRET, &p, t);
	ck_assert_int_eq(admission_decode(SECRET, t, 42, "bob", 999, &got),
	    TOKEN_OK);
	ck_assert_int_eq(got.number, 7);
	ck_assert_int_eq(admission_decode(SECRET, t, 42, "bob", 1000, &got),
	    TOKEN_EXPIRED);
	ck_assert_int_eq(admission_decode(SECRET, t, 42, "Bob", 999, &got),
	    TOKEN_OTHER_USER);
	ck_assert_int_eq(admission_decode(SECRET, t, 41, "bob", 999, &got),
	    TOKEN_OTHER_EVENT);
	/* A ticket is not an admission, whatever its signature. */
	ticket_encode(SECRET, &p, forged);
	ck_assert_int_eq(admission_decode(SECRET, forged, 42, "bob", 999,
	    &got), TOKEN_FORGED);
	/* A later expiry with the old signature does not verify. */
	strcpy(forged, t);
	forged[8] = '9';
	ck_assert_int_eq(admission_decode(SECRET, forged, 42, "bob", 999, &got),
	    TOKEN_FORGED);
}
END_TEST

static Suite *
waitroom_suite(void)
{
	Suite	*s = suite_create("waitroom");
	TCase	*tc = tcase_create("tokens");

	tcase_add_test(tc, test_hmac_rfc4231_case_2);
	tcase_add_test(tc, test_b64url_round_trip_and_refusals);
	tcase_add_test(tc, test_ticket);
	tcase_add_test(tc, test_admission);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(waitroom_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

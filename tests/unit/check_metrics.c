/* check_metrics.c: shared counters, across fork, and their text format. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "router.h"

static const struct route routes[] = {
	{ "GET", "/a", NULL, "alpha" },
	{ "POST", "/b", NULL, "beta" },
};

START_TEST(test_counts_survive_fork)
{
	pid_t	pid;
	int	status, i;

	metrics_init();
	/* Children share the page: what they count, the parent sees. */
	for (i = 0; i < 3; i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			metrics_request(0, 200, 800);
			METRIC_INC(gate_admits);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_uint_eq(metrics->requests[0][0], 3);
	ck_assert_uint_eq(metrics->gate_admits, 3);
}
END_TEST

START_TEST(test_render_format)
{
	char	*text, *line, *save = NULL;
	size_t	 len;
	int	 samples = 0;

	metrics_init();
	metrics_request(0, 200, 400);		/* first bucket */
	metrics_request(0, 200, 3000000);	/* past the last bound */
	metrics_request(1, 409, 20000);
	metrics_request(2, 404, 100);		/* index 2 = unmatched */
	metrics_request(1, 418, 100);		/* an unlisted status */
	METRIC_INC(reservations[RES_CONFIRMED]);
	text = metrics_render(routes, 2, &len);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_ptr_nonnull(strstr(text,
	    "boxoffice_http_requests_total{route=\"alpha\",status=\"200\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "boxoffice_http_requests_total{route=\"beta\",status=\"409\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "boxoffice_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "boxoffice_http_requests_total{route=\"beta\",status=\"other\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "boxoffice_http_request_duration_"
	    "seconds_bucket{route=\"alpha\",le=\"0.0005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "boxoffice_http_request_duration_"
	    "seconds_bucket{route=\"alpha\",le=\"2.5\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "boxoffice_http_request_duration_"
	    "seconds_bucket{route=\"alpha\",le=\"+Inf\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "boxoffice_http_request_duration_"
	    "seconds_count{route=\"alpha\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "boxoffice_reservations_total{outcome=\"confirmed\"} 1\n"));
	/* Every sample line is "name{labels} number". */
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	*sp, *end;

		if (line[0] == '#')
			continue;
		sp = strrchr(line, ' ');
		ck_assert_ptr_nonnull(sp);
		strtod(sp + 1, &end);
		ck_assert_msg(*end == '\0', "bad sample: %s", line);
		samples++;
	}
	ck_assert_int_gt(samples, 20);
	free(text);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("Core");

	tcase_add_test(tc, test_counts_survive_fork);
	tcase_add_test(tc, test_render_format);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* check_conf.c: the config table, the parser and its error paths. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char	path[64];
static struct bo_conf c;

static void
write_conf(const char *text)
{
	FILE	*f;
	int	 fd;

	strcpy(path, "/tmp/check_conf.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
teardown(void)
{
	conf_free(&c);
	if (*path != '\0')
		unlink(path);
	*path = '\0';
}

START_TEST(test_defaults)
{
	conf_defaults(&c);
	ck_assert_str_eq(c.listen, "unix:/run/boxoffice/boxoffice.sock");
	ck_assert_int_eq(c.workers, 64);
	ck_assert_int_eq(c.max_requests, 10000);
	ck_assert_int_eq(c.max_requests_jitter, 1000);
	ck_assert_int_eq(c.inventory_shards, 16);
	ck_assert_int_eq(c.socket_mode, 0660);
	ck_assert_int_eq(c.reservation_strategy, STRATEGY_GATE);
	ck_assert_int_eq(c.idempotency_ttl_s, 86400);
	ck_assert(!c.debug_endpoints);
	ck_assert_str_eq(c.mysql_password, "");
}
END_TEST

START_TEST(test_file_overrides_defaults)
{
	char	err[256];

	write_conf("# comment\n; other comment\n\n[boxoffice]\n"
	    "workers = 4\n  listen=127.0.0.1:9000  \n"
	    "admin_token = \" spaced \"\nreservation_strategy = event-lock\n"
	    "debug_endpoints = yes\nsocket_mode = 0600\n");
	conf_defaults(&c);
	ck_assert_int_eq(conf_load_file(&c, path, err, sizeof err), 0);
	ck_assert_int_eq(c.workers, 4);
	ck_assert_str_eq(c.listen, "127.0.0.1:9000");
	ck_assert_str_eq(c.admin_token, " spaced ");
	ck_assert_int_eq(c.reservation_strategy, STRATEGY_EVENT_LOCK);
	ck_assert(c.debug_endpoints);
	ck_assert_int_eq(c.socket_mode, 0600);
	ck_assert_str_eq(c.path, path);
}
END_TEST

/* Each bad line must be reported as file:line: with a useful message. */
static const struct {
	const char	*text;
	int		 line;
	const char	*msg;
} bad[] = {
	{ "workers = 4\nbogus = 1\n", 2, "unknown key 'bogus'" },
	{ "\n\nworkers = four\n", 3, "workers: 'four' is not an integer" },
	{ "workers = 0\n", 1, "workers: 0 is out of range (1 to 1024)" },
	{ "workers = 99999999999999999999\n", 1, "is not an integer" },
	{ "[mysql]\n", 1, "unknown section [mysql]" },
	{ "workers 4\n", 1, "expected 'key = value'" },
	{ " = 4\n", 1, "missing key before '='" },
	{ "debug_endpoints = maybe\n", 1, "is not on or off" },
	{ "reservation_strategy = redlock\n", 1,
	    "is not one of: gate, event-lock" },
	{ "socket_mode = 0999\n", 1, "is not an octal mode" },
	{ "log_level = verbose\n", 1, "is not one of" },
};

START_TEST(test_errors_have_line_numbers)
{
	char	err[256], want[128];

	write_conf(bad[_i].text);
	conf_defaults(&c);
	ck_assert_int_eq(conf_load_file(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:%d: ", path, bad[_i].line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "got '%s', want prefix '%s'", err, want);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL,
	    "got '%s', want '%s'", err, bad[_i].msg);
}
END_TEST

START_TEST(test_missing_file)
{
	char	err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_load_file(&c, "/nonexistent/x.conf", err,
	    sizeof err), -1);
	ck_assert(strstr(err, "/nonexistent/x.conf:0: cannot open") == err);
}
END_TEST

START_TEST(test_env_overrides_file)
{
	char	err[256];

	write_conf("workers = 4\nmysql_password = fromfile\n");
	setenv("BOXOFFICE_WORKERS", "7", 1);
	setenv("BOXOFFICE_MYSQL_PASSWORD", "s3cret", 1);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof err), 0);
	ck_assert_int_eq(c.workers, 7);
	ck_assert_str_eq(c.mysql_password, "s3cret");
	unsetenv("BOXOFFICE_WORKERS");
	unsetenv("BOXOFFICE_MYSQL_PASSWORD");
}
END_TEST

static char	spath[64];

static void
write_secret(const char *text)
{
	FILE	*f;
	int	 fd;

	if (*spath == '\0') {
		strcpy(spath, "/tmp/check_conf_secret.XXXXXX");
		fd = mkstemp(spath);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	f = fopen(spath, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
teardown_secret(void)
{
	teardown();
	if (*spath != '\0')
		unlink(spath);
	*spath = '\0';
}

/*
 * Every load reads the file again: that is what makes SIGHUP rotate. The
 * value is long enough for admission_secret (at least 32 characters).
 */
#define FIRST	"first-secret-0123456789abcdefghij"
#define ROTATED	"rotated-secret-0123456789abcdefghij"

START_TEST(test_secret_file_read_at_every_load)
{
	char	err[256], text[512];

	write_secret(FIRST "\nignored second line\n");
	snprintf(text, sizeof text, "mysql_password_file = %s\n"
	    "redis_password_file = %s\nadmin_token_file = %s\n"
	    "admission_secret_file = %s\n", spath, spath, spath, spath);
	write_conf(text);
	ck_assert_msg(conf_load(&c, path, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.mysql_password, FIRST);
	ck_assert_str_eq(c.redis_password, FIRST);
	ck_assert_str_eq(c.admin_token, FIRST);
	ck_assert_str_eq(c.admission_secret, FIRST);
	conf_free(&c);

	write_secret(ROTATED);	/* no newline at all */
	ck_assert_msg(conf_load(&c, path, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.mysql_password, ROTATED);
	ck_assert_str_eq(c.admission_secret, ROTATED);
}
END_TEST

/*
 * What the master does on SIGHUP: load into a new struct, keep the running
 * one when that fails. A rotated file that is empty or too short for its key
 * must fail the load, so the workers are not rolled onto it.
 */
START_TEST(test_secret_file_failed_reload_keeps_running)
{
	struct bo_conf	next;
	char		err[256], text[256];

	write_secret(FIRST "\n");
	snprintf(text, sizeof text, "admission_secret_file = %s\n", spath);
	write_conf(text);
	ck_assert_msg(conf_load(&c, path, err, sizeof err) == 0, "%s", err);

	write_secret("");
	memset(&next, 0, sizeof next);
	ck_assert_int_eq(conf_load(&next, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, " is empty") != NULL, "got '%s'", err);
	write_secret("only-31-characters-long-0123456\n");
	ck_assert_int_eq(conf_load(&next, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "admission_secret must be at least 32") !=
	    NULL, "got '%s'", err);
	ck_assert_str_eq(c.admission_secret, FIRST);
	ck_assert_str_eq(c.admission_secret_file, spath);
}
END_TEST

/* Each line: "key = <secret file><suffix>", then extra; the file holds text. */
static const struct {
	const char	*key;
	const char	*suffix;	/* appended to the path */
	const char	*extra;		/* further config lines */
	const char	*text;		/* the secret file's content */
	const char	*envvar;	/* set to env during the load, or NULL */
	const char	*env;
	const char	*msg;
} bad_secret[] = {
	{ "mysql_password_file", "", "", "", NULL, NULL,
	    "mysql_password_file: /tmp/check_conf_secret." },
	{ "mysql_password_file", "", "", "", NULL, NULL, " is empty" },
	{ "mysql_password_file", "", "", "\nsecond line\n", NULL, NULL,
	    "the first line must hold 1 to 1024 bytes" },
	{ "mysql_password_file", "", "mysql_password = x\n", "pw\n", NULL,
	    NULL, "mysql_password_file and mysql_password are both set" },
	{ "mysql_password_file", "", "", "pw\n", "BOXOFFICE_MYSQL_PASSWORD",
	    "from-env", "mysql_password_file and mysql_password are both set" },
	{ "admin_token_file", ".missing", "", "pw\n", NULL, NULL,
	    "admin_token_file: cannot open " },
	{ "admission_secret_file", "", "", "", NULL, NULL,
	    "admission_secret_file: /tmp/check_conf_secret." },
	{ "admission_secret_file", ".missing", "", FIRST "\n", NULL, NULL,
	    "admission_secret_file: cannot open " },
	{ "admission_secret_file", "", "admission_secret = " FIRST "\n",
	    FIRST "\n", NULL, NULL,
	    "admission_secret_file and admission_secret are both set" },
	{ "admission_secret_file", "", "", FIRST "\n",
	    "BOXOFFICE_ADMISSION_SECRET", FIRST,
	    "admission_secret_file and admission_secret are both set" },
	{ "admission_secret_file", "", "", "short\n", NULL, NULL,
	    "admission_secret must be at least 32 characters" },
};

START_TEST(test_secret_file_errors)
{
	char	err[256], text[256];

	write_secret(bad_secret[_i].text);
	snprintf(text, sizeof text, "%s = %s%s\n%s", bad_secret[_i].key,
	    spath, bad_secret[_i].suffix, bad_secret[_i].extra);
	write_conf(text);
	if (bad_secret[_i].envvar != NULL)
		setenv(bad_secret[_i].envvar, bad_secret[_i].env, 1);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof err), -1);
	if (bad_secret[_i].envvar != NULL)
		unsetenv(bad_secret[_i].envvar);
	ck_assert_msg(strstr(err, bad_secret[_i].msg) != NULL,
	    "got '%s', want '%s'", err, bad_secret[_i].msg);
}
END_TEST

/* Every *_file key refuses a first line over 1024 bytes. */
static const char *const secret_file_keys[] = {
	"mysql_password_file", "redis_password_file", "admin_token_file",
	"admission_secret_file",
};

START_TEST(test_secret_file_too_long)
{
	char	err[256], text[256], big[1100];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_secret(big);
	snprintf(text, sizeof text, "%s = %s\n", secret_file_keys[_i], spath);
	write_conf(text);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, secret_file_keys[_i]) == err &&
	    strstr(err, "1 to 1024 bytes") != NULL, "got '%s'", err);
}
END_TEST

START_TEST(test_env_error_names_variable)
{
	char	err[256];

	setenv("BOXOFFICE_WORKERS", "lots", 1);
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "environment BOXOFFICE_WORKERS: ") == err,
	    "got '%s'", err);
	unsetenv("BOXOFFICE_WORKERS");
}
END_TEST

START_TEST(test_validate_listen)
{
	char	err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_set(&c, "listen", "nonsense", err, sizeof err), 0);
	ck_assert_int_eq(conf_validate(&c, err, sizeof err), -1);
	ck_assert(strstr(err, "listen:") == err);
	ck_assert_int_eq(conf_set(&c, "listen", "127.0.0.1:70000", err,
	    sizeof err), 0);
	ck_assert_int_eq(conf_validate(&c, err, sizeof err), -1);
	ck_assert_int_eq(conf_set(&c, "listen", "/tmp/x.sock", err,
	    sizeof err), 0);
	ck_assert_int_eq(conf_validate(&c, err, sizeof err), 0);
	ck_assert_int_eq(conf_set(&c, "listen", "[::1]:9000", err,
	    sizeof err), 0);
	ck_assert_int_eq(conf_validate(&c, err, sizeof err), 0);
}
END_TEST

START_TEST(test_reload_keeps_restart_keys)
{
	struct bo_conf	old;
	char		err[256];

	conf_defaults(&old);
	conf_defaults(&c);
	ck_assert_int_eq(conf_set(&c, "listen", "127.0.0.1:9999", err,
	    sizeof err), 0);
	ck_assert_int_eq(conf_set(&c, "listen_backlog", "5", err, sizeof err),
	    0);
	ck_assert_int_eq(conf_set(&c, "workers", "3", err, sizeof err), 0);
	conf_keep_restart_keys(&c, &old);
	ck_assert_str_eq(c.listen, old.listen);
	ck_assert_int_eq(c.listen_backlog, 1024);
	/* workers is reloadable: the new value stays. */
	ck_assert_int_eq(c.workers, 3);
	conf_free(&old);
}
END_TEST

/* conf/boxoffice.conf.example documents every key with its default. */
START_TEST(test_example_documents_every_key)
{
	const struct conf_key	*keys;
	struct bo_conf		 ex;
	char			 err[256], line[512], want[256];
	size_t			 n, i;
	FILE			*f;
	int			 found;

	keys = conf_keys(&n);
	for (i = 0; i < n; i++) {
		f = fopen(TOPSRCDIR "/conf/boxoffice.conf.example", "r");
		ck_assert_ptr_nonnull(f);
		snprintf(want, sizeof want, "%s = %s", keys[i].name,
		    keys[i].def);
		found = 0;
		while (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			/* An empty default is written "key =". */
			if (strcmp(line, want) == 0 || (*keys[i].def == '\0' &&
			    strncmp(line, want, strlen(want) - 1) == 0 &&
			    line[strlen(want) - 1] == '\0'))
				found = 1;
		}
		fclose(f);
		ck_assert_msg(found, "conf example lacks '%s'", want);
	}
	/* And the example itself loads. */
	memset(&ex, 0, sizeof ex);
	ck_assert_msg(conf_load(&ex, TOPSRCDIR "/conf/boxoffice.conf.example",
	    err, sizeof err) == 0, "%s", err);
	conf_free(&ex);
}
END_TEST

/*
 * Every secret is marked CONF_SECRET (never printed): the four by name, and
 * a key is secret exactly when a <key>_file key delivers it. The *_file keys
 * and jwt_key_file name paths, which are no secret.
 */
START_TEST(test_secret_keys_are_marked)
{
	static const char *const secrets[] = {
		"mysql_password", "redis_password", "admin_token",
		"admission_secret"
	};
	const struct conf_key	*keys;
	char			 file[128];
	size_t			 n, i, j, found;
	int			 has_file;

	keys = conf_keys(&n);
	for (found = 0, i = 0; i < n; i++) {
		snprintf(file, sizeof file, "%s_file", keys[i].name);
		for (has_file = 0, j = 0; j < n; j++)
			if (strcmp(keys[j].name, file) == 0)
				has_file = 1;
		ck_assert_msg(!!(keys[i].flags & CONF_SECRET) == has_file,
		    "%s: CONF_SECRET is %s, but %s is %s", keys[i].name,
		    keys[i].flags & CONF_SECRET ? "set" : "not set", file,
		    has_file ? "a key" : "no key");
		for (j = 0; j < sizeof secrets / sizeof secrets[0]; j++)
			if (strcmp(keys[i].name, secrets[j]) == 0) {
				ck_assert_msg(keys[i].flags & CONF_SECRET,
				    "%s is not marked CONF_SECRET",
				    keys[i].name);
				found++;
			}
	}
	ck_assert_uint_eq(found, sizeof secrets / sizeof secrets[0]);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("Core");
	TCase	*te = tcase_create("Errors");
	TCase	*ts = tcase_create("Secret files");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_file_overrides_defaults);
	tcase_add_test(tc, test_env_overrides_file);
	tcase_add_test(tc, test_reload_keeps_restart_keys);
	tcase_add_test(tc, test_example_documents_every_key);
	tcase_add_test(tc, test_secret_keys_are_marked);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(te, NULL, teardown);
	tcase_add_loop_test(te, test_errors_have_line_numbers, 0,
	    (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(te, test_missing_file);
	tcase_add_test(te, test_env_error_names_variable);
	tcase_add_test(te, test_validate_listen);
	suite_add_tcase(s, te);

	tcase_add_checked_fixture(ts, NULL, teardown_secret);
	tcase_add_test(ts, test_secret_file_read_at_every_load);
	tcase_add_test(ts, test_secret_file_failed_reload_keeps_running);
	tcase_add_loop_test(ts, test_secret_file_errors, 0,
	    (int)(sizeof bad_secret / sizeof bad_secret[0]));
	tcase_add_loop_test(ts, test_secret_file_too_long, 0,
	    (int)(sizeof secret_file_keys / sizeof secret_file_keys[0]));
	suite_add_tcase(s, ts);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/*
 * txbench: the bare MariaDB hot-row reservation transaction, the ceiling that
 * scripts/bench compares the full stack's confirmed reservations/s against.
 *
 *   txbench SOCKET DB THREADS SECONDS MODE
 *
 * User from $BENCH_DB_USER (default boxoffice), password from $BENCH_DB_PASSWORD.
 * MODE:
 *   text       one connection per thread, kept for the whole run; per transaction
 *              START TRANSACTION; UPDATE bench_hot SET available = available - 1
 *              WHERE id = 1 AND available >= 1 (must affect one row, else ROLLBACK);
 *              INSERT INTO bench_res (...); COMMIT   -- 4 round trips, text protocol
 *   prepared   the same with server-side prepared statements (mysql_stmt_*)
 *   reconnect  as text, but a new connection for every transaction (no reuse)
 *   batchN     as text, but N reservations per transaction (2 <= N <= 64): the
 *              UPDATE takes N seats and one INSERT writes N rows. What a group
 *              commit of N reservations would cost the database, at best (no
 *              per-item checks); "reservations" counts N per transaction.
 *   itemsN     the daemon's statements per reservation, N reservations (1 <= N
 *              <= 64) per transaction, the whole transaction one multi-statement
 *              batch (one round trip): per item SAVEPOINT, the event row LOCK IN
 *              SHARE MODE (bench_event), the per-user tally upsert (bench_tally),
 *              the hot-row UPDATE, the reservation INSERT and the audit INSERT
 *              (bench_audit); then COMMIT. items1 against items8 is what a
 *              group commit of the real transaction could buy.
 *
 * Every thread works on the single row id = 1 (the hot row). The tables must
 * exist (scripts/bench creates them). The server decides durability
 * (innodb_flush_log_at_trx_commit = 1 in the stack's my.cnf).
 * After a 1 s warm-up it measures for SECONDS and prints one JSON object:
 * threads, mode, tx, tps, p50/p99/p999 (ms, whole transaction, client side),
 * errors, soldout.
 *
 * Build: gcc -O2 -o txbench txbench.c $(pkg-config --cflags --libs libmariadb) -lpthread
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#define NBUCKET 100000	/* 10 us buckets: up to 1 s */

static const char *sock, *db, *user, *pass;
#define PER_TX_MAX 64	/* reservations per transaction, batchN and itemsN */

static enum { TX_TEXT, TX_PREPARED, TX_RECONNECT, TX_BATCH, TX_ITEMS } tx_mode;
static int per_tx = 1;	/* reservations per transaction */
static atomic_int phase;	/* 0 warm-up, 1 measuring, 2 stop */

struct worker {
	pthread_t	 th;
	int		 id;
	uint64_t	 tx, errors, soldout;
	uint32_t	*hist;
	uint64_t	 over;	/* > 1 s */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static MYSQL *
dbconnect(void)
{
	MYSQL *m = mysql_init(NULL);
	unsigned int t = 5;

	if (m == NULL)
		return (NULL);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	/* as the daemon does */
	mysql_options(m, MYSQL_INIT_COMMAND,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_connect(m, NULL, user, pass, db, 0, sock,
	    CLIENT_FOUND_ROWS | (tx_mode == TX_ITEMS ? CLIENT_MULTI_STATEMENTS : 0))
	    == NULL) {
		fprintf(stderr, "txbench: connect: %s\n", mysql_error(m));
		mysql_close(m);
		return (NULL);
	}
	return (m);
}

static int
q(MYSQL *m, const char *sql)
{
	if (mysql_query(m, sql) != 0)
		return (-1);
	return (0);
}

/*
 * text protocol (also reconnect and batch modes): 1 = ok, 0 = no seat,
 * -1 = error. per_tx reservations per transaction, users tx-<id>-<seq>-<i>.
 */
static int
tx_text(MYSQL *m, int id, uint64_t seq)
{
	char upd[160], ins[96 + PER_TX_MAX * 64];
	size_t len;
	int i;

	if (q(m, "START TRANSACTION") == -1)
		return (-1);
	snprintf(upd, sizeof upd, "UPDATE bench_hot SET available = available "
	    "- %d WHERE id = 1 AND available >= %d", per_tx, per_tx);
	if (q(m, upd) == -1)
		goto fail;
	if (mysql_affected_rows(m) != 1) {
		q(m, "ROLLBACK");
		return (0);
	}
	len = (size_t)snprintf(ins, sizeof ins, "INSERT INTO bench_res "
	    "(event_id, user_id, quantity, status) VALUES ");
	for (i = 0; i < per_tx; i++)
		len += (size_t)snprintf(ins + len, sizeof ins - len,
		    "%s(1, 'tx-%d-%llu-%d', 1, 'CONFIRMED')", i ? "," : "", id,
		    (unsigned long long)seq, i);
	if (q(m, ins) == -1 || q(m, "COMMIT") == -1)
		goto fail;
	return (1);
fail:
	q(m, "ROLLBACK");
	return (-1);
}

/* itemsN: the transaction as one batch; every statement's result drained */
static int
tx_items(MYSQL *m, int id, uint64_t seq)
{
	char sql[256 + PER_TX_MAX * 640], *p;
	size_t cap = sizeof sql;
	int i, rc = 1;
	MYSQL_RES *res;

	p = sql + snprintf(sql, cap, "START TRANSACTION;");
	for (i = 0; i < per_tx; i++)
		p += snprintf(p, cap - (size_t)(p - sql),
		    "SAVEPOINT i%d;"
		    "SELECT status FROM bench_event WHERE id = 1 LOCK IN SHARE MODE;"
		    "INSERT INTO bench_tally (user_id, seats) VALUES "
		    "('tx-%d-%llu-%d', 1) ON DUPLICATE KEY UPDATE seats = seats + 1;"
		    "UPDATE bench_hot SET available = available - 1 "
		    "WHERE id = 1 AND available >= 1;"
		    "INSERT INTO bench_res (event_id, user_id, quantity, status) "
		    "VALUES (1, 'tx-%d-%llu-%d', 1, 'CONFIRMED');"
		    "INSERT INTO bench_audit (reservation_id, txn_id) VALUES "
		    "(LAST_INSERT_ID(), 'tx-%d-%llu-%d');",
		    i, id, (unsigned long long)seq, i, id,
		    (unsigned long long)seq, i, id, (unsigned long long)seq, i);
	snprintf(p, cap - (size_t)(p - sql), "COMMIT");
	if (mysql_query(m, sql) != 0)
		rc = -1;
	else {
		do {
			if ((res = mysql_store_result(m)) != NULL)
				mysql_free_result(res);
		} while (mysql_next_result(m) == 0);
		if (mysql_errno(m) != 0)
			rc = -1;
	}
	if (rc == -1 && mysql_errno(m) < 2000)
		q(m, "ROLLBACK");
	return (rc);
}

struct pstmts {
	MYSQL_STMT *begin, *upd, *ins, *commit;
	char	    user[64];
	unsigned long userlen;
	MYSQL_BIND  b;
};

static MYSQL_STMT *
prep(MYSQL *m, const char *sql)
{
	MYSQL_STMT *s = mysql_stmt_init(m);

	if (s == NULL || mysql_stmt_prepare(s, sql, strlen(sql)) != 0) {
		fprintf(stderr, "txbench: prepare: %s\n", mysql_error(m));
		return (NULL);
	}
	return (s);
}

static int
tx_prepared(struct pstmts *p, int id, uint64_t seq)
{
	p->userlen = (unsigned long)snprintf(p->user, sizeof p->user,
	    "tx-%d-%llu", id, (unsigned long long)seq);
	if (mysql_stmt_execute(p->begin) != 0)
		return (-1);
	if (mysql_stmt_execute(p->upd) != 0)
		goto fail;
	if (mysql_stmt_affected_rows(p->upd) != 1) {
		mysql_stmt_execute(p->commit);
		return (0);
	}
	if (mysql_stmt_execute(p->ins) != 0 || mysql_stmt_execute(p->commit) != 0)
		goto fail;
	return (1);
fail:
	mysql_query(p->begin->mysql, "ROLLBACK");
	return (-1);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	MYSQL *m = NULL;
	struct pstmts p;
	uint64_t seq = 0;
	int r;

	memset(&p, 0, sizeof p);
	if (tx_mode != TX_RECONNECT) {
		if ((m = dbconnect()) == NULL) {
			w->errors++;
			return (NULL);
		}
		if (tx_mode == TX_PREPARED) {
			if ((p.begin = prep(m, "START TRANSACTION")) == NULL ||
			    (p.upd = prep(m, "UPDATE bench_hot SET available = "
			    "available - 1 WHERE id = 1 AND available >= 1")) == NULL ||
			    (p.ins = prep(m, "INSERT INTO bench_res (event_id, "
			    "user_id, quantity, status) VALUES (1, ?, 1, "
			    "'CONFIRMED')")) == NULL ||
			    (p.commit = prep(m, "COMMIT")) == NULL) {
				w->errors++;
				return (NULL);
			}
			p.b.buffer_type = MYSQL_TYPE_STRING;
			p.b.buffer = p.user;
			p.b.buffer_length = sizeof p.user;
			p.b.length = &p.userlen;
			mysql_stmt_bind_param(p.ins, &p.b);
		}
	}
	while (atomic_load(&phase) < 2) {
		double t0 = now_s(), dt;

		if (tx_mode == TX_RECONNECT && (m = dbconnect()) == NULL) {
			r = -1;
		} else if (tx_mode == TX_ITEMS) {
			r = tx_items(m, w->id, seq++);
		} else if (tx_mode == TX_PREPARED) {
			r = tx_prepared(&p, w->id, seq++);
		} else {
			r = tx_text(m, w->id, seq++);
		}
		if (tx_mode == TX_RECONNECT && m != NULL) {
			mysql_close(m);
			m = NULL;
		}
		if (r == -1 && tx_mode != TX_RECONNECT && mysql_errno(m) >= 2000) {
			/* client error (lost connection): reconnect */
			mysql_close(m);
			if ((m = dbconnect()) == NULL)
				break;
		}
		dt = now_s() - t0;
		if (atomic_load(&phase) != 1)
			continue;
		if (r == 1) {
			size_t b = (size_t)(dt * 1e5);

			w->tx++;
			if (b < NBUCKET)
				w->hist[b]++;
			else
				w->over++;
		} else if (r == 0) {
			w->soldout++;
		} else {
			w->errors++;
			usleep(1000);
		}
	}
	if (m != NULL)
		mysql_close(m);
	return (NULL);
}

static double
pct(const uint64_t *h, uint64_t total, double p)
{
	uint64_t want = (uint64_t)(total * p / 100.0), acc = 0;
	size_t i;

	if (total == 0)
		return (0);
	for (i = 0; i < NBUCKET; i++) {
		acc += h[i];
		if (acc > want)
			return ((i + 1) / 100.0);	/* ms, bucket upper bound */
	}
	return (1000.0);
}

/* text | prepared | reconnect | batchN (2..64) | itemsN (1..64); 0 or -1 */
static int
parse_mode(const char *s)
{
	const char *digits;
	char *end;
	long k;

	if (strcmp(s, "text") == 0)
		tx_mode = TX_TEXT;
	else if (strcmp(s, "prepared") == 0)
		tx_mode = TX_PREPARED;
	else if (strcmp(s, "reconnect") == 0)
		tx_mode = TX_RECONNECT;
	else if (strncmp(s, "batch", 5) == 0 || strncmp(s, "items", 5) == 0) {
		tx_mode = s[0] == 'b' ? TX_BATCH : TX_ITEMS;
		digits = s + 5;
		k = strtol(digits, &end, 10);
		if (end == digits || *end != '\0' || k > PER_TX_MAX ||
		    k < (tx_mode == TX_BATCH ? 2 : 1))
			return (-1);
		per_tx = (int)k;
	} else
		return (-1);
	return (0);
}

int
main(int argc, char **argv)
{
	struct worker *w;
	uint64_t *h, tx = 0, errors = 0, soldout = 0;
	const char *mode;
	double t0, t1;
	int n, secs, i;
	size_t b;

	if (argc != 6) {
		fprintf(stderr, "usage: txbench SOCKET DB THREADS SECONDS "
		    "text|prepared|reconnect|batchN|itemsN\n");
		return (2);
	}
	sock = argv[1];
	db = argv[2];
	n = atoi(argv[3]);
	secs = atoi(argv[4]);
	mode = argv[5];
	if (n < 1 || n > 1024 || secs < 1 || parse_mode(mode) == -1) {
		fprintf(stderr, "txbench: bad arguments\n");
		return (2);
	}
	user = getenv("BENCH_DB_USER") ? getenv("BENCH_DB_USER") : "boxoffice";
	pass = getenv("BENCH_DB_PASSWORD") ? getenv("BENCH_DB_PASSWORD") : "";
	if (mysql_library_init(0, NULL, NULL) != 0)
		return (1);
	w = calloc((size_t)n, sizeof *w);
	h = calloc(NBUCKET, sizeof *h);
	if (w == NULL || h == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		w[i].id = i;
		if ((w[i].hist = calloc(NBUCKET, sizeof *w[i].hist)) == NULL)
			return (1);
		if (pthread_create(&w[i].th, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			return (1);
		}
	}
	sleep(1);
	t0 = now_s();
	atomic_store(&phase, 1);
	sleep((unsigned)secs);
	atomic_store(&phase, 2);
	t1 = now_s();
	for (i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		tx += w[i].tx;
		errors += w[i].errors;
		soldout += w[i].soldout;
		for (b = 0; b < NBUCKET; b++)
			h[b] += w[i].hist[b];
	}
	printf("{\"threads\": %d, \"mode\": \"%s\", \"seconds\": %.3f, "
	    "\"tx\": %llu, \"tps\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
	    "\"p999_ms\": %.2f, \"errors\": %llu, \"soldout\": %llu, "
	    "\"per_tx\": %d, \"reservations_per_s\": %.1f}\n", n, mode,
	    t1 - t0, (unsigned long long)tx, tx / (t1 - t0), pct(h, tx, 50),
	    pct(h, tx, 99), pct(h, tx, 99.9), (unsigned long long)errors,
	    (unsigned long long)soldout, per_tx, tx * per_tx / (t1 - t0));
	mysql_library_end();
	return (errors > 0 && tx == 0 ? 1 : 0);
}

/* metrics.c: shared-memory counters and their Prometheus text. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "metrics.h"
#include "router.h"
#include "xmalloc.h"

struct metrics	*metrics;

static const int status_codes[METRICS_NSTATUS - 1] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500,
	503
};
/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t bucket_us[METRICS_NBUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000
};
static const char *const outcome_names[RES_NOUTCOMES] = {
	"confirmed", "insufficient", "limit", "conflict", "error"
};
/* In the order of enum txn_lookup. */
static const char *const lookup_names[3] = {
	"committed", "not_committed", "unknown"
};

void
metrics_init(void)
{
	void	*p;

	p = mmap(NULL, sizeof *metrics, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("metrics: cannot map %zu bytes of shared memory",
		    sizeof *metrics);
	/* Fresh anonymous pages are zero: every counter starts at 0. */
	metrics = p;
}

static size_t
status_index(int status)
{
	size_t	i;

	for (i = 0; i < METRICS_NSTATUS - 1; i++)
		if (status_codes[i] == status)
			return (i);
	return (METRICS_NSTATUS - 1);
}

void
metrics_request(size_t route, int status, int64_t us)
{
	size_t	b;

	if (metrics == NULL)
		return;
	if (route >= METRICS_MAX_ROUTES)
		route = METRICS_MAX_ROUTES - 1;
	atomic_fetch_add_explicit(&metrics->requests[route][status_index(status)],
	    1, memory_order_relaxed);
	for (b = 0; b < METRICS_NBUCKETS - 1 && us > bucket_us[b]; b++)
		;
	atomic_fetch_add_explicit(&metrics->latency[route][b], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&metrics->latency_sum_us[route],
	    (uint64_t)(us > 0 ? us : 0), memory_order_relaxed);
}

#define LOAD(x)	atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v)	atomic_store_explicit(&(x), (v), memory_order_relaxed)

void
metrics_queue(size_t i, int64_t event_id, int64_t serving, int64_t issued)
{
	if (metrics == NULL || i >= METRICS_MAX_QUEUES)
		return;
	STORE(metrics->queues[i].serving, serving);
	STORE(metrics->queues[i].issued, issued);
	STORE(metrics->queues[i].event_id, event_id);
}

void
metrics_queue_clear(size_t from)
{
	for (; metrics != NULL && from < METRICS_MAX_QUEUES; from++)
		STORE(metrics->queues[from].event_id, 0);
}

/* serving, issued and waiting of every reported waiting room. */
static void
render_queues(FILE *f)
{
	static const char *const names[] = { "serving", "issued", "waiting" };
	static const char *const helps[] = {
	    "The highest queue number admitted, by event.",
	    "Queue numbers handed out, by event.",
	    "Buyers queued and not yet admitted, by event." };
	int64_t	id, serving, issued, v;
	size_t	i, k;

	for (k = 0; k < 3; k++) {
		fprintf(f, "# HELP boxoffice_queue_%s %s\n# TYPE boxoffice_queue_"
		    "%s gauge\n", names[k], helps[k], names[k]);
		for (i = 0; i < METRICS_MAX_QUEUES; i++) {
			if ((id = LOAD(metrics->queues[i].event_id)) == 0)
				continue;
			serving = LOAD(metrics->queues[i].serving);
			issued = LOAD(metrics->queues[i].issued);
			v = k == 0 ? serving : k == 1 ? issued :
			    issued > serving ? issued - serving : 0;
			fprintf(f, "boxoffice_queue_%s{event=\"%" PRId64 "\"} %"
			    PRId64 "\n", names[k], id, v);
		}
	}
}


static void
render_requests(FILE *f, const struct route *routes, size_t nroutes)
{
	const char	*label;
	size_t		 r, s;
	uint64_t	 v;

	fprintf(f, "# HELP boxoffice_http_requests_total Requests by route and "
	    "status.\n# TYPE boxoffice_http_requests_total counter\n");
	for (r = 0; r <= nroutes; r++) {
		label = r < nroutes ? routes[r].name : "unmatched";
		for (s = 0; s < METRICS_NSTATUS; s++) {
			if ((v = LOAD(metrics->requests[r][s])) == 0)
				continue;
			if (s < METRICS_NSTATUS - 1)
				fprintf(f, "boxoffice_http_requests_total{route="
				    "\"%s\",status=\"%d\"} %" PRIu64 "\n", label,
				    status_codes[s], v);
			else
				fprintf(f, "boxoffice_http_requests_total{route="
				    "\"%s\",status=\"other\"} %" PRIu64 "\n",
				    label, v);
		}
	}
}

static void
render_latency(FILE *f, const struct route *routes, size_t nroutes)
{
	const char	*label;
	size_t		 r, b;
	uint64_t	 cum, count;

	fprintf(f, "# HELP boxoffice_http_request_duration_seconds Time to "
	    "answer, by route.\n"
	    "# TYPE boxoffice_http_request_duration_seconds histogram\n");
	for (r = 0; r <= nroutes; r++) {
		label = r < nroutes ? routes[r].name : "unmatched";
		for (count = 0, b = 0; b < METRICS_NBUCKETS; b++)
			count += LOAD(metrics->latency[r][b]);
		if (count == 0)
			continue;
		for (cum = 0, b = 0; b < METRICS_NBUCKETS; b++) {
			cum += LOAD(metrics->latency[r][b]);
			if (b < METRICS_NBUCKETS - 1)
				fprintf(f, "boxoffice_http_request_duration_"
				    "seconds_bucket{route=\"%s\",le=\"%g\"} %"
				    PRIu64 "\n", label,
				    (double)bucket_us[b] / 1e6, cum);
			else
				fprintf(f, "boxoffice_http_request_duration_"
				    "seconds_bucket{route=\"%s\",le=\"+Inf\"} %"
				    PRIu64 "\n", label, cum);
		}
		fprintf(f, "boxoffice_http_request_duration_seconds_sum{route="
		    "\"%s\"} %.6f\n", label,
		    (double)LOAD(metrics->latency_sum_us[r]) / 1e6);
		fprintf(f, "boxoffice_http_request_duration_seconds_count{route="
		    "\"%s\"} %" PRIu64 "\n", label, cum);
	}
}

/* Outcome-labelled counters, then every row of METRICS_TABLE. */
static void
render_counters(FILE *f)
{
	size_t	s;

	fprintf(f, "# HELP boxoffice_reservations_total Reservation attempts "
	    "by outcome.\n# TYPE boxoffice_reservations_total counter\n");
	for (s = 0; s < RES_NOUTCOMES; s++)
		fprintf(f, "boxoffice_reservations_total{outcome=\"%s\"} %" PRIu64
		    "\n", outcome_names[s], LOAD(metrics->reservations[s]));
	fprintf(f, "# HELP boxoffice_txn_outcome_lookups_total Transactions "
	    "whose COMMIT answer was lost, by what the lookup found.\n"
	    "# TYPE boxoffice_txn_outcome_lookups_total counter\n");
	for (s = 0; s < 3; s++)
		fprintf(f, "boxoffice_txn_outcome_lookups_total{outcome=\"%s\"} %"
		    PRIu64 "\n", lookup_names[s], LOAD(metrics->txn_lookups[s]));
#define METRIC_RENDER(field, type, name, help)				\
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRId64 "\n", name,	\
	    help, name, #type[0] == 'C' ? "counter" : "gauge", name,	\
	    LOAD(metrics->field));
	METRICS_TABLE(METRIC_RENDER)
#undef METRIC_RENDER
}

char *
metrics_render(const struct route *routes, size_t nroutes, size_t *len)
{
	FILE	*f;
	char	*out;

	if ((f = open_memstream(&out, len)) == NULL)
		fatal("open_memstream failed");
	if (metrics != NULL) {
		if (nroutes > METRICS_MAX_ROUTES - 1)
			nroutes = METRICS_MAX_ROUTES - 1;
		fprintf(f, "# HELP boxoffice_build_info The running version.\n"
		    "# TYPE boxoffice_build_info gauge\n"
		    "boxoffice_build_info{version=\"%s\"} 1\n", VERSION);
		render_requests(f, routes, nroutes);
		render_latency(f, routes, nroutes);
		render_counters(f);
		render_queues(f);
	}
	if (fclose(f) != 0)
		fatal("metrics_render: out of memory");
	return (out);
}

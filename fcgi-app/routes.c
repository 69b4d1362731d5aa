/* routes.c: the route table, the one place that knows every handler. */
#include "config.h"

#include <stddef.h>

#include "admin.h"
#include "events.h"
#include "health.h"
#include "queue.h"
#include "reservations.h"
#include "router.h"
#include "routes.h"

static const struct route routes[] = {
	{ "GET", "/api/health", handle_health, "health" },
	{ "GET", "/api/ready", handle_ready, "ready" },
	{ "GET", "/api/metrics", handle_metrics, "metrics" },
	{ "GET", "/api/events", handle_events_list, "events_list" },
	{ "POST", "/api/events", handle_event_create, "event_create" },
	{ "GET", "/api/events/upcoming", handle_events_upcoming,
	    "events_upcoming" },
	{ "GET", "/api/events/available", handle_events_available,
	    "events_available" },
	{ "GET", "/api/events/{id}", handle_event_get, "event_get" },
	{ "PUT", "/api/events/{id}", handle_event_update, "event_update" },
	{ "DELETE", "/api/events/{id}", handle_event_delete, "event_delete" },
	{ "POST", "/api/events/{id}/queue", handle_queue_join, "queue_join" },
	{ "GET", "/api/events/{id}/queue", handle_queue_poll, "queue_poll" },
	{ "POST", "/api/events/{id}/queue/admission", handle_queue_admission,
	    "queue_admission" },
	{ "POST", "/api/reservations", handle_reservation_create,
	    "reservation_create" },
	{ "GET", "/api/reservations/{id}", handle_reservation_get,
	    "reservation_get" },
	{ "POST", "/api/reservations/{id}/confirm", handle_reservation_confirm,
	    "reservation_confirm" },
	{ "DELETE", "/api/reservations/{id}", handle_reservation_cancel,
	    "reservation_cancel" },
	{ "GET", "/api/reservations/user/{userId}",
	    handle_reservations_by_user, "reservations_by_user" },
	{ "GET", "/api/users/{userId}", handle_user_stats, "user_stats" },
	{ "POST", "/api/admin/reconcile", handle_admin_reconcile,
	    "admin_reconcile" },
	{ "GET", "/api/_debug/sleep", handle_debug_sleep, "debug_sleep" },
};

const struct route *
routes_table(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return (routes);
}

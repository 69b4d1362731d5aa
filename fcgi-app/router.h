/*
 * router.h: match a method and path against a table of routes.
 *
 * Patterns are literal segments and {name} captures: "/api/events/{id}".
 * When several patterns match a path, the one with more literal segments
 * wins, so "/api/events/upcoming" beats "/api/events/{id}". A path that
 * matches but not for this method yields ROUTE_BAD_METHOD and the Allow list.
 * HEAD matches a resource's GET route unless the table has a HEAD route.
 */
#ifndef BO_ROUTER_H
#define BO_ROUTER_H

#include <stddef.h>

struct app;
struct request;
struct response;

typedef void (*route_handler)(struct app *, struct request *,
    struct response *);

struct route {
	const char	*method;
	const char	*pattern;
	route_handler	 handler;
	const char	*name;		/* a short label for logs and metrics */
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/*
 * Match r->method and r->path. On ROUTE_FOUND *found is the route and the
 * captures are stored in r (freed by request_free). On ROUTE_BAD_METHOD,
 * allow (the caller's buffer) receives "GET, HEAD, PUT" style text.
 */
enum route_result router_match(const struct route *, size_t n,
	    struct request *r, const struct route **found, char *allow,
	    size_t allowlen);

#endif

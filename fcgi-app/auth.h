/*
 * auth.h: who may call what.
 *
 * Admin endpoints need "Authorization: Bearer <admin_token>"; the token is
 * compared in constant time.
 */
#ifndef BO_AUTH_H
#define BO_AUTH_H

#include <stdbool.h>

struct app;
struct request;
struct response;

/*
 * True when the request carries "Authorization: Bearer <admin_token>".
 * Otherwise answers 401 (no or malformed header) or 403 (wrong token, or
 * no token configured) and returns false. The comparison takes the same
 * time wherever the tokens differ.
 */
bool	 admin_check(struct app *, const struct request *, struct response *);
/* Constant-time string equality (exposed for tests). */
bool	 consttime_equal(const char *, const char *);

#endif

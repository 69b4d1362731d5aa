/*
 * auth.h: who may call what.
 *
 * Admin endpoints need "Authorization: Bearer <admin_token>"; the token is
 * compared in constant time. User endpoints (reservations, users, the
 * waiting room) depend on auth_mode:
 *   none  the caller speaks for whatever userId it names (the seed's API);
 *   jwt   the caller is the sub of a bearer JWT verified with libjwt:
 *         jwt_algorithm only (a token naming another algorithm, "none"
 *         included, is refused before any key is tried), the key of
 *         jwt_key_file, exp and nbf within jwt_leeway_s, iss and aud when
 *         configured. The admin token still works, for any user.
 */
#ifndef BO_AUTH_H
#define BO_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "reservation.h"

struct app;
struct bo_conf;
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

enum caller {
	CALLER_ANYONE,		/* auth_mode none */
	CALLER_USER,		/* a verified JWT: the user is its sub */
	CALLER_ADMIN,		/* the admin token */
	CALLER_REFUSED		/* 401 answered */
};

/*
 * Who calls a user endpoint; for CALLER_USER, user[] gets the token's sub.
 * CALLER_REFUSED has answered 401 UNAUTHORIZED with WWW-Authenticate.
 */
enum caller auth_caller(struct app *, const struct request *, struct response *,
	    char user[USER_ID_MAX + 1]);
/* Whether this caller may see and act on what belongs to owner. */
bool	 auth_owns(enum caller, const char *user, const char *owner);

/*
 * Verify a bearer JWT under conf: 0 and its sub in user[], or -1 with the
 * reason in why (for the log only). Exposed for tests.
 */
int	 jwt_verify(const struct bo_conf *, const char *token, int64_t now_s,
	    char user[USER_ID_MAX + 1], char *why, size_t whylen)
	    __attribute__((warn_unused_result));

#endif

/*
 * waitroom_token.h: the waiting room's two signed strings.
 *
 *   ticket           "t1.<event>.<number>.<user>.<sig>"
 *   admission token  "a1.<event>.<number>.<expires>.<user>.<sig>"
 *
 * <user> is the user id in base64url, <expires> Unix seconds, <sig> the
 * base64url HMAC-SHA256 of everything before the last dot under the
 * admission_secret. Both are opaque to clients and checked without Redis,
 * so admission tokens keep working while Redis is down.
 */
#ifndef BO_WAITROOM_TOKEN_H
#define BO_WAITROOM_TOKEN_H

#include <stdint.h>

#include "reservation.h"

#define TOKEN_MAX	256	/* bytes of either string, with its NUL */

struct waitroom_pass {
	int64_t	event_id;
	int64_t	number;			/* place in the queue, from 1 */
	int64_t	expires_s;		/* admission tokens only */
	char	user[USER_ID_MAX + 1];
};

enum token_check {
	TOKEN_OK,
	TOKEN_FORGED,		/* malformed, or the signature is wrong */
	TOKEN_OTHER_EVENT,
	TOKEN_OTHER_USER,
	TOKEN_EXPIRED
};

/* Encode into out[TOKEN_MAX]. */
void	 ticket_encode(const char *secret, const struct waitroom_pass *,
	    char out[TOKEN_MAX]);
void	 admission_encode(const char *secret, const struct waitroom_pass *,
	    char out[TOKEN_MAX]);
/* A ticket of event_id; *p filled when TOKEN_OK. */
enum token_check ticket_decode(const char *secret, const char *s,
	    int64_t event_id, struct waitroom_pass *p);
/* An admission token of event_id and user, valid at now_s. */
enum token_check admission_decode(const char *secret, const char *s,
	    int64_t event_id, const char *user, int64_t now_s,
	    struct waitroom_pass *p);

#endif

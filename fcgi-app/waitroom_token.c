/* waitroom_token.c: signed tickets and admission tokens. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "signing.h"
#include "validate.h"
#include "waitroom_token.h"

#define MAX_FIELDS	7

/* body, a dot, and body's signature. */
static void
encode(const char *secret, const char *body, char out[TOKEN_MAX])
{
	char	sig[SIGNATURE_B64_LEN + 1];
	size_t	n = strlen(body);

	/* The bodies are bounded well below this (see the callers). */
	if (n + 1 + SIGNATURE_B64_LEN >= TOKEN_MAX)
		fatal("token body of %zu bytes", n);
	sign_b64(secret, body, sig);
	memcpy(out, body, n);
	out[n] = '.';
	memcpy(out + n + 1, sig, SIGNATURE_B64_LEN + 1);
}

void
ticket_encode(const char *secret, const struct waitroom_pass *p,
    char out[TOKEN_MAX])
{
	char	user[128], body[TOKEN_MAX];

	b64url_encode((const unsigned char *)p->user, strlen(p->user), user,
	    sizeof user);
	snprintf(body, sizeof body, "t1.%" PRId64 ".%" PRId64 ".%s",
	    p->event_id, p->number, user);
	encode(secret, body, out);
}

void
admission_encode(const char *secret, const struct waitroom_pass *p,
    char out[TOKEN_MAX])
{
	char	user[128], body[TOKEN_MAX];

	b64url_encode((const unsigned char *)p->user, strlen(p->user), user,
	    sizeof user);
	snprintf(body, sizeof body, "a1.%" PRId64 ".%" PRId64 ".%" PRId64 ".%s",
	    p->event_id, p->number, p->expires_s, user);
	encode(secret, body, out);
}

/* Split s at dots into copy; the number of fields, or -1. */
static int
split(const char *s, char copy[TOKEN_MAX], char *f[MAX_FIELDS])
{
	char	*p;
	int	 n = 0;

	if (strlen(s) >= TOKEN_MAX)
		return (-1);
	strcpy(copy, s);
	for (p = copy; n < MAX_FIELDS; n++) {
		f[n] = p;
		if ((p = strchr(p, '.')) == NULL)
			return (n + 1);
		*p++ = '\0';
	}
	return (-1);
}

/* A decimal in [1, INT64_MAX], digits only. */
static bool
number(const char *s, int64_t *out)
{
	return (parse_id(s, out));
}

/* The signed part of s: everything before its last dot. */
static bool
signed_ok(const char *secret, const char *s, const char *sig)
{
	char	body[TOKEN_MAX];
	size_t	n = (size_t)(strrchr(s, '.') - s);

	memcpy(body, s, n);
	body[n] = '\0';
	return (sign_check(secret, body, sig));
}

static bool
user_of(const char *b64, char user[USER_ID_MAX + 1])
{
	size_t	n;

	if (b64url_decode(b64, (unsigned char *)user, USER_ID_MAX, &n) == -1)
		return (false);
	user[n] = '\0';
	return (n > 0 && printable_ascii(user, USER_ID_MAX));
}

enum token_check
ticket_decode(const char *secret, const char *s, int64_t event_id,
    struct waitroom_pass *p)
{
	char	copy[TOKEN_MAX], *f[MAX_FIELDS];

	memset(p, 0, sizeof *p);
	if (split(s, copy, f) != 5 || strcmp(f[0], "t1") != 0 ||
	    !number(f[1], &p->event_id) || !number(f[2], &p->number) ||
	    !user_of(f[3], p->user) || !signed_ok(secret, s, f[4]))
		return (TOKEN_FORGED);
	return (p->event_id == event_id ? TOKEN_OK : TOKEN_OTHER_EVENT);
}

enum token_check
admission_decode(const char *secret, const char *s, int64_t event_id,
    const char *user, int64_t now_s, struct waitroom_pass *p)
{
	char	copy[TOKEN_MAX], *f[MAX_FIELDS];

	memset(p, 0, sizeof *p);
	if (split(s, copy, f) != 6 || strcmp(f[0], "a1") != 0 ||
	    !number(f[1], &p->event_id) || !number(f[2], &p->number) ||
	    !number(f[3], &p->expires_s) || !user_of(f[4], p->user) ||
	    !signed_ok(secret, s, f[5]))
		return (TOKEN_FORGED);
	if (p->event_id != event_id)
		return (TOKEN_OTHER_EVENT);
	if (strcmp(p->user, user) != 0)
		return (TOKEN_OTHER_USER);
	return (p->expires_s > now_s ? TOKEN_OK : TOKEN_EXPIRED);
}

/* auth.c: the admin bearer token and user identity from JWTs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <jwt.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "signing.h"
#include "timeutil.h"
#include "validate.h"
#include "xmalloc.h"

bool
consttime_equal(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	diff = la != lb;

	/* Walk the whole secret whatever the input, so timing tells nothing. */
	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return (diff == 0);
}

bool
admin_check(struct app *app, const struct request *req, struct response *resp)
{
	const char	*h = request_env(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		resp_error(resp, 401, "UNAUTHORIZED", "This endpoint needs "
		    "Authorization: Bearer <admin token>.", NULL);
		resp_header(resp, "WWW-Authenticate", "Bearer");
		return (false);
	}
	if (*app->conf->admin_token == '\0' ||
	    !consttime_equal(h + 7, app->conf->admin_token)) {
		resp_error(resp, 403, "FORBIDDEN", "The token does not grant "
		    "admin access.", NULL);
		return (false);
	}
	return (true);
}

/* The key of jwt_key_file, read once by each worker (a reload rolls them). */
static unsigned char	*jwt_key;
static size_t		 jwt_keylen;
static char		*jwt_key_path;

static int
load_key(const struct bo_conf *c, char *why, size_t whylen)
{
	FILE	*f;
	char	 buf[16384];
	size_t	 n;

	if (jwt_key != NULL && strcmp(jwt_key_path, c->jwt_key_file) == 0)
		return (0);
	if ((f = fopen(c->jwt_key_file, "r")) == NULL) {
		snprintf(why, whylen, "jwt_key_file %s: %s", c->jwt_key_file,
		    strerror(errno));
		return (-1);
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	/* An HS256 secret is the file's text, without a final newline. */
	while (c->jwt_algorithm == JWT_HS256 && n > 0 &&
	    (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0) {
		snprintf(why, whylen, "jwt_key_file %s is empty", c->jwt_key_file);
		return (-1);
	}
	free(jwt_key);
	free(jwt_key_path);
	jwt_key = xmalloc(n + 1);
	memcpy(jwt_key, buf, n);
	jwt_key[n] = '\0';
	jwt_keylen = n;
	jwt_key_path = xstrdup(c->jwt_key_file);
	return (0);
}

/* The "alg" of the token's header, read before any key is tried. */
static bool
header_alg_is(const char *token, const char *want)
{
	unsigned char		 raw[1024];
	char			 part[1400];
	struct json_object	*o, *alg;
	size_t			 n = strcspn(token, "."), len;
	bool			 ok;

	if (token[n] != '.' || n >= sizeof part)
		return (false);
	memcpy(part, token, n);
	part[n] = '\0';
	if (b64url_decode(part, raw, sizeof raw - 1, &len) == -1)
		return (false);
	raw[len] = '\0';
	if ((o = json_tokener_parse((const char *)raw)) == NULL)
		return (false);
	ok = json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "alg", &alg) &&
	    json_object_is_type(alg, json_type_string) &&
	    strcmp(json_object_get_string(alg), want) == 0;
	json_object_put(o);
	return (ok);
}

/* aud is a string or an array of strings; one of them must be want. */
static bool
audience_has(jwt_t *jwt, const char *want)
{
	struct json_object	*o, *v;
	const char		*s;
	char			*json;
	size_t			 i;
	bool			 found = false;

	if ((s = jwt_get_grant(jwt, "aud")) != NULL)
		return (strcmp(s, want) == 0);
	if ((json = jwt_get_grants_json(jwt, "aud")) == NULL)
		return (false);
	if ((o = json_tokener_parse(json)) != NULL &&
	    json_object_is_type(o, json_type_array))
		for (i = 0; i < json_object_array_length(o) && !found; i++) {
			v = json_object_array_get_idx(o, i);
			found = json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), want) == 0;
		}
	json_object_put(o);
	free(json);
	return (found);
}

/* The claims of a verified token. */
static int
check_claims(const struct bo_conf *c, jwt_t *jwt, int64_t now_s,
    char user[USER_ID_MAX + 1], char *why, size_t whylen)
{
	const char	*s;
	long		 exp, nbf;

	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0 || exp <= 0)
		return (snprintf(why, whylen, "no exp"), -1);
	if (now_s > exp + c->jwt_leeway_s)
		return (snprintf(why, whylen, "expired at %ld", exp), -1);
	errno = 0;
	nbf = jwt_get_grant_int(jwt, "nbf");
	if (errno == 0 && now_s + c->jwt_leeway_s < nbf)
		return (snprintf(why, whylen, "not valid before %ld", nbf), -1);
	if (*c->jwt_issuer != '\0' && ((s = jwt_get_grant(jwt, "iss")) ==
	    NULL || strcmp(s, c->jwt_issuer) != 0))
		return (snprintf(why, whylen, "wrong issuer"), -1);
	if (*c->jwt_audience != '\0' && !audience_has(jwt, c->jwt_audience))
		return (snprintf(why, whylen, "wrong audience"), -1);
	if ((s = jwt_get_grant(jwt, "sub")) == NULL ||
	    !printable_ascii(s, USER_ID_MAX))
		return (snprintf(why, whylen, "no usable sub"), -1);
	snprintf(user, USER_ID_MAX + 1, "%s", s);
	return (0);
}

int
jwt_verify(const struct bo_conf *c, const char *token, int64_t now_s,
    char user[USER_ID_MAX + 1], char *why, size_t whylen)
{
	static const char *const names[] = { "HS256", "RS256", "ES256" };
	static const jwt_alg_t algs[] = { JWT_ALG_HS256, JWT_ALG_RS256,
	    JWT_ALG_ES256 };
	jwt_t		*jwt = NULL;
	int		 rv;

	if (load_key(c, why, whylen) == -1)
		return (-1);
	/* "none", or HS256 under an RS256 key: refused before decoding. */
	if (!header_alg_is(token, names[c->jwt_algorithm]))
		return (snprintf(why, whylen, "not an %s token",
		    names[c->jwt_algorithm]), -1);
	if ((rv = jwt_decode(&jwt, token, jwt_key, (int)jwt_keylen)) != 0)
		return (snprintf(why, whylen, "bad signature or format (%d)",
		    rv), -1);
	if (jwt_get_alg(jwt) != algs[c->jwt_algorithm])
		rv = (snprintf(why, whylen, "algorithm changed"), -1);
	else
		rv = check_claims(c, jwt, now_s, user, why, whylen);
	jwt_free(jwt);
	return (rv);
}

/* "Bearer <token>" of the request, or NULL. */
static const char *
bearer(const struct request *req)
{
	const char	*h = request_env(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
		return (NULL);
	return (h + 7);
}

enum caller
auth_caller(struct app *app, const struct request *req, struct response *resp,
    char user[USER_ID_MAX + 1])
{
	const char	*token = bearer(req);
	char		 why[160];

	user[0] = '\0';
	if (token != NULL && *app->conf->admin_token != '\0' &&
	    consttime_equal(token, app->conf->admin_token))
		return (CALLER_ADMIN);
	if (app->conf->auth_mode == AUTH_NONE)
		return (CALLER_ANYONE);
	if (token == NULL)
		snprintf(why, sizeof why, "no bearer token");
	else if (jwt_verify(app->conf, token, time_real_ms() / 1000, user, why,
	    sizeof why) == 0)
		return (CALLER_USER);
	log_info("request %s: token refused: %s", req->request_id, why);
	resp_error(resp, 401, "UNAUTHORIZED", "This endpoint needs "
	    "Authorization: Bearer <a valid token>.", NULL);
	resp_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	return (CALLER_REFUSED);
}

bool
auth_owns(enum caller c, const char *user, const char *owner)
{
	return (c == CALLER_ANYONE || c == CALLER_ADMIN ||
	    (c == CALLER_USER && strcmp(user, owner) == 0));
}

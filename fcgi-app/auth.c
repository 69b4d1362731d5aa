/* auth.c: the admin bearer token. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "request.h"
#include "response.h"

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

/* event_body.c: reading event bodies, the seed's shapes included. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "event.h"
#include "event_admin.h"
#include "event_body.h"
#include "timeutil.h"
#include "validate.h"

#define PRICE_MAX	1000000000000LL	/* minor units */

/* "waitingRoom": {"enabled": bool, "admitPerSecond": 1..100000}. */
static void
read_room(struct json_object *body, struct event_changes *ch,
    struct fielderrs *fe)
{
	struct json_object	*wr, *en;

	if (!json_object_object_get_ex(body, "waitingRoom", &wr) || wr == NULL)
		return;
	if (!json_object_is_type(wr, json_type_object) ||
	    !json_object_object_get_ex(wr, "enabled", &en) ||
	    !json_object_is_type(en, json_type_boolean)) {
		fe_add(fe, "waitingRoom", "must be an object with a boolean "
		    "\"enabled\" and, to turn it on, \"admitPerSecond\"");
		return;
	}
	ch->room = json_object_get_boolean(en);
	ch->has_room = true;
	if (ch->room && field_int(wr, "admitPerSecond", 1, 100000, true,
	    &ch->admit_per_second, fe) != FIELD_OK)
		ch->has_room = false;
}

/* "venue": a string, null, or the seed's {name, address, capacity}. */
static void
read_venue(struct json_object *body, bool create, struct event_changes *ch,
    struct fielderrs *fe)
{
	struct json_object	*v;

	ch->venue_capacity = -1;
	if (!json_object_object_get_ex(body, "venue", &v))
		return;
	ch->has_venue = true;
	if (v == NULL || json_object_is_type(v, json_type_string)) {
		if (v != NULL && field_string(body, "venue", 1, 200, false,
		    false, &ch->venue, fe) != FIELD_OK)
			ch->has_venue = false;
		return;
	}
	if (!create || !json_object_is_type(v, json_type_object)) {
		fe_add(fe, "venue", create ? "must be a string or {name, "
		    "address, capacity}" : "must be a string (its details are "
		    "set when the event is created)");
		ch->has_venue = false;
		return;
	}
	field_string(v, "name", 1, 200, false, true, &ch->venue, fe);
	field_string(v, "address", 1, 500, false, false, &ch->venue_address,
	    fe);
	field_int(v, "capacity", 1, 10000000, false, &ch->venue_capacity, fe);
}

/* A class code: 1-16 of [A-Za-z0-9_-]. */
static bool
code_ok(const char *s)
{
	size_t	n = strlen(s);

	return (n >= 1 && n <= CLASS_CODE_MAX && strspn(s, "ABCDEFGHIJKLMNOPQR"
	    "STUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n);
}

/* Whether one of the first n classes has this code. */
static bool
duplicate(const struct event_changes *ch, int n, const char *code)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(ch->classes[i].code, code) == 0)
			return (true);
	return (false);
}

/* "seatClasses": [{code, price, seats?}, ...] */
static void
read_seat_classes(struct json_object *arr, struct event_changes *ch,
    struct fielderrs *fe)
{
	struct json_object	*o;
	struct seat_class	*c;
	const char		*code;
	size_t			 i, n = json_object_array_length(arr);

	if (n < 1 || n > EVENT_MAX_CLASSES) {
		fe_add(fe, "seatClasses", "must list 1 to %d classes",
		    EVENT_MAX_CLASSES);
		return;
	}
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		c = &ch->classes[i];
		c->own_seats = -1;
		if (o == NULL || !json_object_is_type(o, json_type_object) ||
		    field_string(o, "code", 1, CLASS_CODE_MAX, true, true,
		    &code, fe) != FIELD_OK || !code_ok(code) ||
		    field_int(o, "price", 0, PRICE_MAX, true, &c->price, fe) !=
		    FIELD_OK || field_int(o, "seats", 1, 10000000, false,
		    &c->own_seats, fe) == FIELD_INVALID) {
			fe_add(fe, "seatClasses", "each must be {code (1-16 of "
			    "A-Z a-z 0-9 _ -), price (minor units), seats?}");
			return;
		}
		snprintf(c->code, sizeof c->code, "%s", code);
		ch->nclasses = (int)i + 1;
		if (duplicate(ch, (int)i, code)) {
			fe_add(fe, "seatClasses", "code %s comes twice", code);
			return;
		}
	}
}

/* The shorthand "price": {vip, r, s}: classes that share the seats. */
static void
read_price(struct json_object *price, struct event_changes *ch,
    struct fielderrs *fe)
{
	static const char *const keys[] = { "vip", "r", "s" };
	static const char *const codes[] = { "VIP", "R", "S" };
	struct seat_class	*c;
	int64_t			 v;
	size_t			 i;

	if (!json_object_is_type(price, json_type_object) ||
	    json_object_object_length(price) == 0) {
		fe_add(fe, "price", "must be an object of prices: {vip, r, s}");
		return;
	}
	json_object_object_foreach(price, k, val) {
		(void)val;
		for (i = 0; i < 3 && strcasecmp(k, keys[i]) != 0; i++)
			;
		if (i == 3)
			fe_add(fe, "price", "knows vip, r and s, not %s", k);
	}
	for (i = 0; i < 3; i++) {
		if (field_int(price, keys[i], 0, PRICE_MAX, false, &v, fe) !=
		    FIELD_OK)
			continue;
		c = &ch->classes[ch->nclasses++];
		snprintf(c->code, sizeof c->code, "%s", codes[i]);
		c->price = v;
		c->own_seats = -1;
	}
}

/* Classes, currency, and the total they make. */
static void
read_classes(struct json_object *body, struct event_changes *ch,
    struct fielderrs *fe)
{
	struct json_object	*sc, *price;
	int64_t			 own = 0;
	bool			 shared = false;
	int			 i;

	if (json_object_object_get_ex(body, "seatClasses", &sc) && sc != NULL) {
		if (json_object_is_type(sc, json_type_array))
			read_seat_classes(sc, ch, fe);
		else
			fe_add(fe, "seatClasses", "must be an array");
	}
	if (json_object_object_get_ex(body, "price", &price) && price != NULL) {
		if (ch->nclasses > 0)
			fe_add(fe, "price", "give seatClasses or price, not "
			    "both");
		else
			read_price(price, ch, fe);
	}
	/* Without one, classes are priced in default_currency. */
	if (field_string(body, "currency", 3, 3, true, false,
	    &ch->currency, fe) == FIELD_OK && strspn(ch->currency,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		fe_add(fe, "currency", "must be an ISO 4217 code such as KRW");
	for (i = 0; i < ch->nclasses; i++) {
		if (ch->classes[i].own_seats >= 0)
			own += ch->classes[i].own_seats;
		else
			shared = true;
	}
	if (ch->nclasses > 0 && !shared && !ch->has_total) {
		ch->total = own;
		ch->has_total = own >= 1 && own <= 10000000;
	} else if (ch->nclasses > 0 && ch->has_total &&
	    (shared ? ch->total <= own : ch->total != own))
		fe_add(fe, "totalSeats", shared ? "must leave seats for the "
		    "classes without seats of their own" : "must be the sum of "
		    "the classes' seats (%" PRId64 ")", own);
}

void
event_body_read(struct json_object *body, bool create,
    struct event_changes *ch, struct fielderrs *fe)
{
	const char	*status;

	memset(ch, 0, sizeof *ch);
	ch->has_name = field_string(body, "eventName", 1, 200, false, create,
	    &ch->name, fe) == FIELD_OK;
	ch->has_total = field_int(body, "totalSeats", 1, 10000000, false,
	    &ch->total, fe) == FIELD_OK;
	ch->has_date = field_datetime(body, "eventDate", create, &ch->date_ms,
	    fe) == FIELD_OK;
	if (ch->has_date && ch->date_ms <= time_real_ms()) {
		fe_add(fe, "eventDate", "must be in the future");
		ch->has_date = false;
	}
	read_venue(body, create, ch, fe);
	ch->has_limit = field_int(body, "perUserLimit", 1, 10000, false,
	    &ch->per_user_limit, fe) == FIELD_OK;
	ch->has_max = field_int(body, "maxPerRequest", 1, 100, false,
	    &ch->max_per_request, fe) == FIELD_OK;
	if (!create && field_string(body, "status", 1, 16, true, false,
	    &status, fe) == FIELD_OK) {
		if ((ch->status = event_status_parse(status)) == -1)
			fe_add(fe, "status", "must be ACTIVE, CLOSED or "
			    "CANCELLED");
		ch->has_status = ch->status != -1;
	}
	read_room(body, ch, fe);
	if (create)
		read_classes(body, ch, fe);
	if (create && !ch->has_total && ch->nclasses == 0)
		fe_add(fe, "totalSeats", "is required");
	if (create && !ch->has_limit)
		ch->per_user_limit = 10;
	if (create && !ch->has_max)
		ch->max_per_request = 10;
}

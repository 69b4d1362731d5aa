/*
 * reservation.h: the reservation model and reading reservations.
 *
 * A struct reservation holds no pointers: it can be copied and needs no
 * freeing. Lists (struct reservation_page) are freed with
 * reservation_page_free().
 */
#ifndef BO_RESERVATION_H
#define BO_RESERVATION_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "event.h"


#define USER_ID_MAX	64	/* characters, printable ASCII */

enum reservation_status {
	RES_STATUS_CONFIRMED = 0,
	RES_STATUS_CANCELLED,
	RES_STATUS_HELD,	/* seats kept until expires_ms, then EXPIRED */
	RES_STATUS_EXPIRED	/* a hold that ran out: its seats went back */
};

#define PAYMENT_REF_MAX	128

struct reservation {
	int64_t	id;
	int64_t	event_id;
	char	user[USER_ID_MAX + 1];
	int64_t	quantity;
	int	status;			/* enum reservation_status */
	int64_t	created_ms;
	int64_t	updated_ms;
	int64_t	cancelled_ms;		/* 0 when not cancelled */
	int64_t	expires_ms;		/* holds: when the seats go back; else 0 */
	char	payment_ref[PAYMENT_REF_MAX + 1];	/* "" when none */
	char	seat_type[CLASS_CODE_MAX + 1];	/* "" for the implicit class */
	int64_t	unit_price;		/* -1 when the event has no prices */
	int64_t	total_price;		/* -1 likewise */
};

const char	*reservation_status_name(int);
/* -1 when unknown. */
int		 reservation_status_parse(const char *);

/* Columns in the order reservation_from_row() reads them; alias r. */
#define RESERVATION_COLUMNS \
	"r.id, r.event_id, r.user_id, r.quantity, r.status, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', r.created_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', r.updated_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', r.cancelled_at) DIV 1000, " \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', r.expires_at) DIV 1000, " \
	"r.payment_ref, r.seat_type, r.unit_price, r.total_price"

void		 reservation_from_row(char **row, struct reservation *);

/* One reservation by id. LOOKUP_ERROR leaves the detail in the db handle. */
enum lookup reservation_load(struct db *, int64_t id,
		    struct reservation *) __attribute__((warn_unused_result));

struct reservation_page {
	struct reservation	*items;		/* count of them */
	size_t			 count;
	int64_t			 total;		/* matching rows in all */
};
/*
 * A user's reservations, newest first; status -1 for any. 0 or -1 (the
 * detail in the db handle).
 */
int		 reservation_list_by_user(struct db *, const char *user,
		    int status, int64_t page, int64_t size,
		    struct reservation_page *) __attribute__((warn_unused_result));
void		 reservation_page_free(struct reservation_page *);

struct user_stats {
	int64_t	reservations;		/* any status */
	int64_t	tickets;		/* seats in CONFIRMED ones */
	int64_t	cancelled;		/* CANCELLED reservations */
};
int		 user_stats_load(struct db *, const char *user,
		    struct user_stats *) __attribute__((warn_unused_result));

#endif

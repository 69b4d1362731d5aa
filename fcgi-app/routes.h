/*
 * routes.h: the API's route table.
 *
 * Its order is also the order of the per-route metrics; the table lives in
 * static storage.
 */
#ifndef BO_ROUTES_H
#define BO_ROUTES_H

#include <stddef.h>

struct route;

/* The table; *n receives its length. */
const struct route *routes_table(size_t *n);

#endif

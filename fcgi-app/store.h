/*
 * store.h: the stores a domain call works with, in one handle.
 *
 * A worker (or the housekeeping child) owns one: the database connection
 * and the Redis connection it opened after fork, and the read-only config.
 * The domain (reserve.c, cancel.c, inventory.c, event_*.c) takes a struct
 * store and never sees FastCGI or JSON; it does not free what is in it.
 */
#ifndef BO_STORE_H
#define BO_STORE_H

struct bo_conf;
struct db;
struct redis_conn;

struct store {
	const struct bo_conf	*conf;
	struct db		*db;
	struct redis_conn	*redis;
};

#endif

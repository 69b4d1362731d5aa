/* paging.h: the page envelope of list answers, and its query parameters. */
#ifndef BO_PAGING_H
#define BO_PAGING_H

#include <stdint.h>

struct fielderrs;
struct json_object;
struct request;

/*
 * {content, page, size, totalElements, totalPages, last}. Takes ownership
 * of content; the caller owns the result.
 */
struct json_object *page_json(struct json_object *content, int64_t page,
	    int64_t size, int64_t total);
/* ?page (0..1000000, default 0) and ?size (1..100, default 20). */
void	 page_params(const struct request *, int64_t *page, int64_t *size,
	    struct fielderrs *);

#endif

/* paging.c: page envelopes. */
#include "config.h"

#include <json-c/json.h>

#include "paging.h"
#include "validate.h"

struct json_object *
page_json(struct json_object *content, int64_t page, int64_t size,
    int64_t total)
{
	struct json_object	*o = json_object_new_object();
	int64_t			 pages = (total + size - 1) / size;

	json_object_object_add(o, "content", content);
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "size", json_object_new_int64(size));
	json_object_object_add(o, "totalElements", json_object_new_int64(total));
	json_object_object_add(o, "totalPages", json_object_new_int64(pages));
	json_object_object_add(o, "last", json_object_new_boolean(
	    page + 1 >= pages));
	return (o);
}

void
page_params(const struct request *req, int64_t *page, int64_t *size,
    struct fielderrs *fe)
{
	query_int(req, "page", 0, 0, 1000000, page, fe);
	query_int(req, "size", 20, 1, 100, size, fe);
}

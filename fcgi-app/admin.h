/* admin.h: the handlers of admin-only operations. */
#ifndef BO_ADMIN_H
#define BO_ADMIN_H

struct app;
struct request;
struct response;

/* POST /api/admin/reconcile: a reconcile pass now. */
void	 handle_admin_reconcile(struct app *, struct request *,
	    struct response *);

#endif

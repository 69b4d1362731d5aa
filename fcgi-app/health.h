/* health.h: liveness, readiness, metrics and the test-only sleep. */
#ifndef BO_HEALTH_H
#define BO_HEALTH_H

struct app;
struct request;
struct response;

void	 handle_health(struct app *, struct request *, struct response *);
void	 handle_ready(struct app *, struct request *, struct response *);
void	 handle_debug_sleep(struct app *, struct request *, struct response *);
void	 handle_metrics(struct app *, struct request *, struct response *);

#endif

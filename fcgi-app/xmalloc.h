/*
 * xmalloc.h: allocation that cannot fail.
 *
 * Running out of memory is fatal: each wrapper logs and exits, so callers
 * never check for NULL. Everything returned is owned by the caller and is
 * released with free().
 */
#ifndef BO_XMALLOC_H
#define BO_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* printf into a new string. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Log a message and exit(1). For conditions the process cannot survive. */
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

/*
 * xmalloc.h: allocation that cannot fail.
 *
 * Running out of memory is fatal (log.h's fatal()): each wrapper logs and
 * exits, so callers never check for NULL. Everything returned is owned by the caller and is
 * released with free().
 */
#ifndef BO_XMALLOC_H
#define BO_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* nmemb * size bytes, or fatal when that overflows. */
void	*xreallocarray(void *, size_t nmemb, size_t size);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* printf into a new string. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));


#endif

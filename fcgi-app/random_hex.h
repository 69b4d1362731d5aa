/* random_hex.h: unguessable identifiers (request ids, lock tokens). */
#ifndef BO_RANDOM_HEX_H
#define BO_RANDOM_HEX_H

#include <stddef.h>

/*
 * Fill out with 2 * nbytes lowercase hex digits and a NUL from the kernel's
 * random source (random(3) only if getrandom fails). out must hold
 * 2 * nbytes + 1 bytes; nbytes is at most 32.
 */
void	 random_hex(char *out, size_t nbytes);

#endif

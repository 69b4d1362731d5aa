/* random_hex.c: random identifiers from getrandom(2). */
#include "config.h"

#include <stdlib.h>
#include <sys/random.h>
#include <sys/types.h>

#include "random_hex.h"

void
random_hex(char *out, size_t nbytes)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		rnd[32];
	size_t			i;

	if (nbytes > sizeof rnd)
		nbytes = sizeof rnd;
	if (getrandom(rnd, nbytes, 0) != (ssize_t)nbytes)
		for (i = 0; i < nbytes; i++)
			rnd[i] = (unsigned char)random();
	/* by hand: every request takes one, and snprintf per byte cost more
	   than the getrandom */
	for (i = 0; i < nbytes; i++) {
		out[i * 2] = hex[rnd[i] >> 4];
		out[i * 2 + 1] = hex[rnd[i] & 0x0f];
	}
	out[nbytes * 2] = '\0';
}

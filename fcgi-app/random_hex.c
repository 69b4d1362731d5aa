/* random_hex.c: random identifiers from getrandom(2). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/types.h>

#include "random_hex.h"

void
random_hex(char *out, size_t nbytes)
{
	unsigned char	rnd[32];
	size_t		i;

	if (nbytes > sizeof rnd)
		nbytes = sizeof rnd;
	if (getrandom(rnd, nbytes, 0) != (ssize_t)nbytes)
		for (i = 0; i < nbytes; i++)
			rnd[i] = (unsigned char)random();
	for (i = 0; i < nbytes; i++)
		snprintf(out + i * 2, 3, "%02x", rnd[i]);
}

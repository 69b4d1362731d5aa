/*
 * signing.h: HMAC-SHA256 signatures and base64url, for the tokens the
 * daemon hands out and must later trust again (waiting-room tickets and
 * admission tokens). No allocation; the caller's buffers.
 */
#ifndef BO_SIGNING_H
#define BO_SIGNING_H

#include <stdbool.h>
#include <stddef.h>

#define SIGNATURE_B64_LEN	43	/* base64url of 32 bytes, no padding */

/* base64url without padding of n bytes: 4 * ceil(n / 3) chars at most. */
void	 b64url_encode(const unsigned char *in, size_t n, char *out,
	    size_t outlen);
/* Decode into out (at most outmax bytes); 0, or -1 on bad input. */
int	 b64url_decode(const char *in, unsigned char *out, size_t outmax,
	    size_t *outlen) __attribute__((warn_unused_result));
/* The base64url HMAC-SHA256 of msg under key, into out[44]. */
void	 sign_b64(const char *key, const char *msg,
	    char out[SIGNATURE_B64_LEN + 1]);
/* Whether sig is msg's signature under key, compared in constant time. */
bool	 sign_check(const char *key, const char *msg, const char *sig);

#endif

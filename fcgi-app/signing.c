/* signing.c: HMAC-SHA256 and base64url. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "signing.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
b64url_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t		i, o = 0, chars;
	uint32_t	v;

	for (i = 0; i < n; i += 3) {
		/* 3 bytes make 4 characters, 2 make 3, 1 makes 2. */
		chars = n - i >= 3 ? 4 : n - i + 1;
		if (o + chars + 1 > outlen)
			break;
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

static int
b64url_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64url, c)) == NULL)
		return (-1);
	return ((int)(p - b64url));
}

int
b64url_decode(const char *in, unsigned char *out, size_t outmax,
    size_t *outlen)
{
	size_t		len = strlen(in), i, o = 0;
	uint32_t	v = 0;
	int		d, bits = 0;

	/* A lone trailing character carries less than a byte: malformed. */
	if (len % 4 == 1)
		return (-1);
	for (i = 0; i < len; i++) {
		if ((d = b64url_value(in[i])) == -1)
			return (-1);
		v = (v << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outmax)
				return (-1);
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	/* Non-canonical encodings (set padding bits) are refused. */
	if ((v & ((1u << bits) - 1)) != 0)
		return (-1);
	*outlen = o;
	return (0);
}

void
sign_b64(const char *key, const char *msg, char out[SIGNATURE_B64_LEN + 1])
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;

	if (HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)msg, strlen(msg), mac, &maclen) == NULL ||
	    maclen != 32)
		fatal("HMAC-SHA256 failed");
	b64url_encode(mac, maclen, out, SIGNATURE_B64_LEN + 1);
}

bool
sign_check(const char *key, const char *msg, const char *sig)
{
	char	want[SIGNATURE_B64_LEN + 1];

	if (strlen(sig) != SIGNATURE_B64_LEN)
		return (false);
	sign_b64(key, msg, want);
	return (CRYPTO_memcmp(want, sig, SIGNATURE_B64_LEN) == 0);
}

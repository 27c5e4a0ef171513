/*
 * jansson_guest.c - what jansson takes from the host on unix, for the
 * unikernels (platform/jansson/build.mk): the hash seed (hashtable_seed.c
 * reads /dev/urandom or the time and pid; here uw_random) and the number
 * conversions of strconv.c.  On the guests jansson is compiled with
 * double as a 64-bit integer (hvt guests built with HVT_SOFT_KVM=1
 * have no floating point): a JSON number
 * with a fraction or an exponent is refused by the parser (jansson's
 * message: "real number overflow"), and a json_real made from C prints
 * as an integer with ".0".
 */
#include "jansson_private.h"

#include <uweb/random.h>

#include <stdint.h>
#include <stdio.h>

volatile uint32_t hashtable_seed = 0;

void json_object_seed(size_t seed)
{
    if (hashtable_seed) return;
    uint32_t s = (uint32_t)seed;
    if (!s && uw_random(&s, sizeof s) != 0) s = 0x9e3779b9u;
    hashtable_seed = s ? s : 1;
}

int jsonp_strtod(strbuffer_t *strbuffer, double *out)
{
    (void)strbuffer;
    (void)out;
    return -1;
}

int jsonp_dtostr(char *buffer, size_t size, double value, int precision)
{
    (void)precision;
    int n = snprintf(buffer, size, "%lld.0", (long long)value);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* The seed of uw_random on unix with mbedTLS (src/tls/seed.h): getrandom. */
#include "seed.h"

#include <errno.h>
#include <sys/random.h>

int uw_tls__seed(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

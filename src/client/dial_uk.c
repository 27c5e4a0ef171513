/*
 * uw_client_dial on the unikernels: IPv4 literals through the target's
 * TCP (lwIP).  Host names need lwIP's DNS client, which is not wired yet:
 * they answer UW_CLIENT_ERESOLVE.
 */
#include <uweb/client.h>

int uw_client_dial(uw_conn **out, const char *host, uint16_t port, int64_t deadline)
{
    int r = uw_tcp_connect(out, host, port, deadline);
    if (r == UW_EINVAL) return UW_CLIENT_ERESOLVE;
    if (r == UW_EIO) return UW_CLIENT_ECONNECT;
    return r;
}

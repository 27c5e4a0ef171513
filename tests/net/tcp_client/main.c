/*
 * A test unikernel for the client side of net.h on lwIP: connects to
 * HOST:PORT (an echo server the test runs on the host), sends SIZE bytes
 * of a known pattern from one task while another reads the echo back and
 * checks it, then half-closes and expects the end of stream.  Prints
 * SUCCESS, or FAIL and why.
 *
 *     tcp_client.spt --ipv4=10.81.3.2/24 HOST PORT SIZE
 */
#include <uweb/net.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int uw_net_option(const char *arg);

static struct {
    uw_conn *c;
    size_t size;
    int write_status;
    size_t read_bytes;
    const char *fail;
} T;

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 13)); }

static void writer(void *arg)
{
    (void)arg;
    static unsigned char buf[40000];   /* not a multiple of anything lwIP uses */
    size_t sent = 0;
    while (sent < T.size) {
        size_t n = T.size - sent < sizeof buf ? T.size - sent : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = pattern(sent + i);
        uw_slice v[2] = { { buf, n / 3 }, { buf + n / 3, n - n / 3 } };
        int r = uw_conn_writev(T.c, v, 2, uw_now() + UW_SEC(30));
        if (r != UW_OK) { T.write_status = r; return; }
        sent += n;
    }
    uw_conn_shutdown_write(T.c);
}

static void reader(void *arg)
{
    (void)arg;
    static unsigned char buf[3000];
    for (;;) {
        ssize_t n = uw_conn_read(T.c, buf, sizeof buf, uw_now() + UW_SEC(30));
        if (n == 0) break;
        if (n < 0) { T.fail = uw_strerror((int)n); return; }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != pattern(T.read_bytes + (size_t)i)) { T.fail = "echoed bytes differ"; return; }
        }
        T.read_bytes += (size_t)n;
    }
}

static const char *pos[3];
static int result = 1;

static void main_task(void *arg)
{
    (void)arg;
    uw_conn *bad;
    int r = uw_tcp_connect(&bad, "not-an-address", 1, uw_now() + UW_SEC(1));
    if (r != UW_EINVAL) { printf("FAIL connect to a malformed address: %s\n", uw_strerror(r)); return; }
    r = uw_tcp_connect(&T.c, pos[0], (uint16_t)atoi(pos[1]), uw_now() + UW_SEC(10));
    if (r != UW_OK) { printf("FAIL connect: %s\n", uw_strerror(r)); return; }
    char peer[64], want[64];
    uw_conn_peer(T.c, peer, sizeof peer);
    snprintf(want, sizeof want, "%s:%s", pos[0], pos[1]);
    if (strcmp(peer, want) != 0) { printf("FAIL peer %s, not %s\n", peer, want); return; }

    uw_task *w = uw_spawn(writer, NULL, 0), *rd = uw_spawn(reader, NULL, 0);
    if (!w || !rd) { printf("FAIL spawn\n"); return; }
    uw_join(w);
    uw_join(rd);
    uw_conn_close(T.c, false);
    if (T.write_status != UW_OK) { printf("FAIL write: %s\n", uw_strerror(T.write_status)); return; }
    if (T.fail) { printf("FAIL read: %s after %zu bytes\n", T.fail, T.read_bytes); return; }
    if (T.read_bytes != T.size) { printf("FAIL %zu of %zu bytes echoed\n", T.read_bytes, T.size); return; }
    printf("SUCCESS %zu bytes echoed\n", T.read_bytes);
    result = 0;
}

int main(int argc, char **argv)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        int k = uw_net_option(argv[i]);
        if (k < 0) return 2;
        if (k == 0 && npos < 3) pos[npos++] = argv[i];
    }
    if (npos != 3) {
        fprintf(stderr, "usage: tcp_client --ipv4=ADDR/PREFIX HOST PORT SIZE\n");
        return 2;
    }
    T.size = strtoul(pos[2], NULL, 10);
    if (uw_rt_init() != UW_OK) return 1;
    uw_task *m = uw_spawn(main_task, NULL, 0);
    if (!m) return 1;
    uw_detach(m);
    uw_rt_run();
    return result;
}

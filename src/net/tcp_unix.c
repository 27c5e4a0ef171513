/*
 * TCP on host sockets for the unix target: non-blocking sockets registered
 * once with the edge-triggered epoll backend.  A read that returns fewer
 * bytes than asked means the socket is drained: the next read waits for an
 * edge instead of paying a read() that would say EAGAIN.
 */
#include <uweb/net.h>
#include <uweb/io_unix.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <unistd.h>

struct uw_listener {
    uw_io io;
    uint16_t port;
};

typedef struct tcp_conn {
    uw_conn base;               /* first: a uw_conn * is a tcp_conn * */
    uw_io io;
    void (*notify)(uw_conn *c, void *arg);
    void *notify_arg;
} tcp_conn;

static const struct uw_conn_ops tcp_ops;

static int set_addr(struct sockaddr_in *sa, const char *addr, uint16_t port)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    return inet_pton(AF_INET, addr ? addr : "127.0.0.1", &sa->sin_addr) == 1 ? 0 : -1;
}

static bool reuseport;
void uw_net_set_reuseport(bool on) { reuseport = on; }

/* A listening socket for addr: "unix:PATH" (a stale socket file there is
 * replaced), "fd:N" (a listening socket the process inherited), an IPv6
 * literal (with or without brackets; IPv6 only), or IPv4. */
static int listen_fd(const char *addr, uint16_t port, int backlog, uint16_t *bound)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (!addr) addr = "127.0.0.1";
    if (strncmp(addr, "fd:", 3) == 0) {
        int fd = atoi(addr + 3), type = 0;
        socklen_t tl = sizeof type;
        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM) return UW_EINVAL;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        *bound = 0;
        return fd;
    }
    int family;
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        size_t n = strlen(addr + 5);
        if (n == 0 || n >= sizeof un->sun_path) return UW_EINVAL;
        un->sun_family = family = AF_UNIX;
        memcpy(un->sun_path, addr + 5, n + 1);
        sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        struct stat st;
        if (lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(un->sun_path);
    } else if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        char host[64];
        size_t n = strlen(addr);
        if (addr[0] == '[' && n > 2 && addr[n - 1] == ']') addr++, n -= 2;
        if (n >= sizeof host) return UW_EINVAL;
        memcpy(host, addr, n);
        host[n] = 0;
        s6->sin6_family = family = AF_INET6;
        s6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) return UW_EINVAL;
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        if (set_addr(s4, addr, port) != 0) return UW_EINVAL;
        family = AF_INET;
        sl = sizeof *s4;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return UW_EIO;
    int one = 1;
    if (family != AF_UNIX) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, backlog > 0 ? backlog : 1024) != 0) {
        close(fd);
        return UW_EIO;
    }
    sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound = family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
           : family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : 0;
    return fd;
}

int uw_tcp_listen(uw_listener **out, const char *addr, uint16_t port, int backlog)
{
    uint16_t bound = 0;
    int fd = listen_fd(addr, port, backlog, &bound);
    if (fd < 0) return fd;
    uw_listener *l = calloc(1, sizeof *l);
    if (!l) { close(fd); return UW_ENOMEM; }
    if (uw_io_open(&l->io, fd) != UW_OK) { close(fd); free(l); return UW_EIO; }
    l->port = bound;
    *out = l;
    return UW_OK;
}

uint16_t uw_listener_port(const uw_listener *l) { return l->port; }

static void conn_notify(uw_io *io, void *arg)
{
    tcp_conn *c = arg;
    (void)io;
    if (c->notify) c->notify(&c->base, c->notify_arg);
}

static int conn_wrap(int fd, tcp_conn **out)
{
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return UW_ENOMEM;
    c->base.ops = &tcp_ops;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (uw_io_open(&c->io, fd) != UW_OK) { free(c); return UW_EIO; }
    *out = c;
    return UW_OK;
}

int uw_conn_from_fd(uw_conn **out, int fd)
{
    tcp_conn *c;
    int r = conn_wrap(fd, &c);
    if (r != UW_OK) return r;
    c->io.readable = true;
    *out = &c->base;
    return UW_OK;
}

int uw_tcp_accept(uw_listener *l, uw_conn **out, int64_t deadline)
{
    for (;;) {
        if (l->io.fd < 0) return UW_ECLOSED;
        int fd = accept4(l->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            tcp_conn *c;
            int r = conn_wrap(fd, &c);
            if (r != UW_OK) { close(fd); return r; }
            c->io.readable = true;   /* the request often came with the connection */
            *out = &c->base;
            return UW_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            uw_io_drained_read(&l->io);
            int r = uw_io_wait_read(&l->io, deadline);
            if (r != UW_OK) return r;
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors: back off instead of spinning. */
            int r = uw_sleep(UW_MS(10));
            if (r != UW_OK) return r;
            continue;
        }
        return UW_EIO;
    }
}

void uw_listener_close(uw_listener *l)
{
    if (!l) return;
    int fd = l->io.fd;
    uw_io_close(&l->io);
    if (fd >= 0) close(fd);
}

void uw_listener_free(uw_listener *l)
{
    if (!l) return;
    uw_listener_close(l);
    free(l);
}

int uw_tcp_connect(uw_conn **out, const char *host, uint16_t port, int64_t deadline)
{
    struct sockaddr_in sa;
    if (set_addr(&sa, host, port) != 0) return UW_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return UW_EIO;
    tcp_conn *c;
    int r = conn_wrap(fd, &c);
    if (r != UW_OK) { close(fd); return r; }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS) { uw_conn_close(&c->base, false); return UW_EIO; }
        uw_io_drained_write(&c->io);
        r = uw_io_wait_write(&c->io, deadline);
        int err = 0;
        socklen_t len = sizeof err;
        if (r == UW_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
            r = UW_EIO;
        if (r != UW_OK) { uw_conn_close(&c->base, false); return r; }
    }
    *out = &c->base;
    return UW_OK;
}

static ssize_t tcp_read(uw_conn *conn, void *buf, size_t n, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    for (;;) {
        if (!c->io.readable) {
            int r = uw_io_wait_read(&c->io, deadline);
            if (r != UW_OK) return r;
        }
        ssize_t k = read(c->io.fd, buf, n);
        if (k > 0) {
            if ((size_t)k < n && !c->io.hangup) uw_io_drained_read(&c->io);
            return k;
        }
        if (k == 0) return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            uw_io_drained_read(&c->io);
            continue;
        }
        if (errno == EINTR) continue;
        return UW_ECLOSED;
    }
}

static bool tcp_may_read(const uw_conn *c) { return ((const tcp_conn *)c)->io.readable; }

static int tcp_writev(uw_conn *conn, const uw_slice *v, size_t n, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    struct iovec iov[64];
    size_t i = 0, off = 0;       /* next slice, offset in it */
    while (i < n) {
        int cnt = 0;
        for (size_t j = i; j < n && cnt < 64; j++) {
            if (v[j].len == (j == i ? off : 0)) continue;
            iov[cnt].iov_base = (char *)v[j].ptr + (j == i ? off : 0);
            iov[cnt].iov_len = v[j].len - (j == i ? off : 0);
            cnt++;
        }
        if (cnt == 0) break;
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
        ssize_t k = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return UW_ECLOSED;
            uw_io_drained_write(&c->io);
            int r = uw_io_wait_write(&c->io, deadline);
            if (r != UW_OK) return r;
            continue;
        }
        size_t left = (size_t)k;
        while (i < n && left >= v[i].len - off) {
            left -= v[i].len - off;
            i++;
            off = 0;
        }
        if (i < n) off += left;
    }
    return UW_OK;
}

static int tcp_sendfile(uw_conn *conn, int fd, uint64_t off, size_t len, int64_t deadline)
{
    tcp_conn *c = (tcp_conn *)conn;
    off_t o = (off_t)off;
    while (len) {
        ssize_t k = sendfile(c->io.fd, fd, &o, len);
        if (k > 0) {
            len -= (size_t)k;
            continue;
        }
        if (k == 0) return UW_EIO;          /* the file ends before off + len */
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            uw_io_drained_write(&c->io);
            int r = uw_io_wait_write(&c->io, deadline);
            if (r != UW_OK) return r;
            continue;
        }
        return errno == EIO || errno == EINVAL || errno == EOVERFLOW ? UW_EIO : UW_ECLOSED;
    }
    return UW_OK;
}

static void tcp_set_notify(uw_conn *conn, void (*fn)(uw_conn *c, void *arg), void *arg)
{
    tcp_conn *c = (tcp_conn *)conn;
    c->notify = fn;
    c->notify_arg = arg;
    c->io.notify = fn ? conn_notify : NULL;
    c->io.notify_arg = c;
}

static void tcp_shutdown_write(uw_conn *c)
{
    shutdown(((tcp_conn *)c)->io.fd, SHUT_WR);
}

static void tcp_close(uw_conn *conn, bool reset)
{
    tcp_conn *c = (tcp_conn *)conn;
    int fd = c->io.fd;
    uw_io_close(&c->io);
    if (fd >= 0) {
        if (reset) {
            struct linger lg = { 1, 0 };
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fd);
    }
    free(c);
}

static const char *tcp_peer(uw_conn *c, char *buf, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    memset(&ss, 0, sizeof ss);
    if (getpeername(((tcp_conn *)c)->io.fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
            snprintf(buf, n, "[%s]:%u", ip, (unsigned)ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
            return buf;
        } else if (ss.ss_family == AF_UNIX) {
            snprintf(buf, n, "unix");
            return buf;
        }
    }
    snprintf(buf, n, "%s:%u", ip, port);
    return buf;
}

static const struct uw_conn_ops tcp_ops = {
    .read = tcp_read,
    .writev = tcp_writev,
    .may_read = tcp_may_read,
    .set_notify = tcp_set_notify,
    .shutdown_write = tcp_shutdown_write,
    .close = tcp_close,
    .peer = tcp_peer,
    .sendfile = tcp_sendfile,
};

/* Host sockets take no options of their own; services listen on loopback
 * unless --addr says otherwise. */
int uw_net_option(const char *arg)
{
    (void)arg;
    return 0;
}

const char *uw_net_default_addr(void) { return "127.0.0.1"; }
const char *uw_net_options_help(void) { return ""; }

/*
 * net.h — TCP for tasks, and the connection interface TLS also implements.
 *
 * The same interface on every target: host sockets on unix (tcp_unix.c),
 * lwIP on the unikernels (tcp_lwip.c); TLS wraps either (uweb/tls.h).  Reads and writes suspend the
 * calling task only.  Every call that may wait takes an absolute deadline
 * (UW_FOREVER for none; a deadline already past means "do not wait").
 *
 * A connection is used by one task at a time.  uw_conn_set_notify lets a
 * server park an idle connection with no task: the callback runs from the
 * scheduler (outside any task, it must not wait) when data arrives.
 */
#ifndef UWEB_NET_H
#define UWEB_NET_H

#include <uweb/runtime.h>
#include <uweb/slice.h>
#include <sys/types.h>

typedef struct uw_listener uw_listener;
typedef struct uw_conn uw_conn;

/*
 * A connection is an interface: a table of operations that each kind of
 * connection implements (TCP on host sockets, TCP on lwIP, TLS over any
 * of them — src/tls/tls_conn.c).  An implementation embeds struct uw_conn
 * as its first member and points ops at its table; callers use only the
 * uw_conn_* functions below, which dispatch through it, so code above
 * the connection (the HTTP server, the client) never knows which kind it
 * holds.  Each operation has the contract of its uw_conn_* function.
 */
struct uw_conn_ops {
    ssize_t (*read)(uw_conn *c, void *buf, size_t n, int64_t deadline);
    int (*writev)(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline);
    bool (*may_read)(const uw_conn *c);
    void (*set_notify)(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg);
    void (*shutdown_write)(uw_conn *c);
    void (*close)(uw_conn *c, bool reset);
    const char *(*peer)(uw_conn *c, char *buf, size_t n);
    /* NULL but on plain host TCP sockets (not TLS, not lwIP). */
    int (*sendfile)(uw_conn *c, int fd, uint64_t off, size_t len, int64_t deadline);
    /* NULL but on lwIP's TCP (the unikernels). */
    ssize_t (*read_borrow)(uw_conn *c, void **data, size_t n, int64_t deadline);
};

struct uw_conn {
    const struct uw_conn_ops *ops;
};

/* Listens on addr:port (addr NULL: 127.0.0.1; port 0: any free port).
 * On unix addr may also be an IPv6 literal ("::1", "[::]"; IPv6 only),
 * "unix:PATH" (a unix socket; port ignored) or "fd:N" (an inherited
 * listening socket). */
int uw_tcp_listen(uw_listener **out, const char *addr, uint16_t port, int backlog);
/* unix: SO_REUSEPORT on the TCP listeners made from now on (--workers). */
void uw_net_set_reuseport(bool on);
uint16_t uw_listener_port(const uw_listener *l);
/* Waits for a connection.  UW_ECLOSED once the listener was closed. */
int uw_tcp_accept(uw_listener *l, uw_conn **out, int64_t deadline);
/* Stops listening; a task waiting in accept gets UW_ECLOSED. */
void uw_listener_close(uw_listener *l);
/* Closes if needed and frees, once no task is inside uw_tcp_accept. */
void uw_listener_free(uw_listener *l);

/* Connects to host:port (a numeric IPv4 address). */
int uw_tcp_connect(uw_conn **out, const char *host, uint16_t port, int64_t deadline);

/* Reads up to n bytes: the count, 0 at the peer's end of stream, or a
 * negative status (UW_ETIMEDOUT, UW_ECANCELED, UW_ECLOSED on reset). */
static inline ssize_t uw_conn_read(uw_conn *c, void *buf, size_t n, int64_t deadline)
{
    return c->ops->read(c, buf, n, deadline);
}

/* Whether uw_conn_read_borrow can be used: TCP on the unikernels, whose
 * received bytes wait in lwIP's buffers. */
static inline bool uw_conn_can_borrow(const uw_conn *c)
{
    return c->ops->read_borrow != NULL;
}

/* A read without a copy, only where uw_conn_can_borrow: waits as
 * uw_conn_read does, then points *data at up to n received bytes (the
 * next ones, as much as is contiguous there) and returns their count, 0
 * at the peer's end of stream or a negative status.  The bytes count as
 * read (the caller may also change them); they stay valid until the
 * connection's next read, borrow, uw_conn_set_notify with a function, or
 * close. */
static inline ssize_t uw_conn_read_borrow(uw_conn *c, void **data, size_t n, int64_t deadline)
{
    return c->ops->read_borrow(c, data, n, deadline);
}

/* True if a read may find data without waiting (for TLS: plaintext or
 * ciphertext already buffered inside the engine counts). */
static inline bool uw_conn_may_read(const uw_conn *c)
{
    return c->ops->may_read(c);
}

/* Writes every byte of the n slices, in one gathered write when the socket
 * takes it.  UW_OK or a negative status. */
static inline int uw_conn_writev(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline)
{
    return c->ops->writev(c, v, n, deadline);
}

/* Whether uw_conn_sendfile can be used: a plain TCP socket on unix. */
static inline bool uw_conn_can_sendfile(const uw_conn *c)
{
    return c->ops->sendfile != NULL;
}

/* Sends len bytes of the open file fd from offset off by the kernel
 * (sendfile(2)), waiting while the socket is full; only where
 * uw_conn_can_sendfile.  UW_OK, UW_EIO (the file is shorter, or a read
 * error) or a negative status of the connection. */
static inline int uw_conn_sendfile(uw_conn *c, int fd, uint64_t off, size_t len, int64_t deadline)
{
    return c->ops->sendfile(c, fd, off, len, deadline);
}

/* Calls fn(c, arg) when data arrives while no task reads (NULL: stop). */
static inline void uw_conn_set_notify(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg)
{
    c->ops->set_notify(c, fn, arg);
}

/* Half-closes the sending side (FIN after pending data). */
static inline void uw_conn_shutdown_write(uw_conn *c)
{
    c->ops->shutdown_write(c);
}
/* Closes and frees (NULL: nothing); reset=true sends RST instead of FIN. */
static inline void uw_conn_close(uw_conn *c, bool reset)
{
    if (c) c->ops->close(c, reset);
}

/* Options of the target's network stack, which uw_main hands over: on
 * the unikernels --ipv4=ADDR/PREFIX and --ipv4-gateway=ADDR (the service
 * then listens on that address unless --addr says otherwise); none on
 * unix.  uw_net_option returns 1 when it took arg, 0 when arg is not its
 * own, -1 for a bad value (after a one-line message on stderr). */
int uw_net_option(const char *arg);
const char *uw_net_default_addr(void);
/* Lines for --help, "" when there are none. */
const char *uw_net_options_help(void);

/* Peer address as text ("10.0.0.1:5000"), for logs. */
static inline const char *uw_conn_peer(uw_conn *c, char *buf, size_t n)
{
    return c->ops->peer(c, buf, n);
}

#endif

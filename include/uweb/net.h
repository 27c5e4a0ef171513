/*
 * net.h — TCP for tasks.
 *
 * The same interface on every target: host sockets on unix (tcp_unix.c),
 * lwIP on the unikernels (tcp_lwip.c).  Reads and writes suspend the
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

/* Listens on addr:port (addr NULL: 127.0.0.1; port 0: any free port). */
int uw_tcp_listen(uw_listener **out, const char *addr, uint16_t port, int backlog);
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
ssize_t uw_conn_read(uw_conn *c, void *buf, size_t n, int64_t deadline);

/* True if a read may find data without waiting. */
bool uw_conn_may_read(const uw_conn *c);

/* Writes every byte of the n slices, in one gathered write when the socket
 * takes it.  UW_OK or a negative status. */
int uw_conn_writev(uw_conn *c, const uw_slice *v, size_t n, int64_t deadline);

/* Calls fn(c, arg) when data arrives while no task reads (NULL: stop). */
void uw_conn_set_notify(uw_conn *c, void (*fn)(uw_conn *c, void *arg), void *arg);

/* Half-closes the sending side (FIN after pending data). */
void uw_conn_shutdown_write(uw_conn *c);
/* Closes and frees; reset=true sends RST instead of FIN. */
void uw_conn_close(uw_conn *c, bool reset);

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
const char *uw_conn_peer(uw_conn *c, char *buf, size_t n);

#endif

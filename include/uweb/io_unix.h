/*
 * io_unix.h — readiness of host file descriptors (unix target only).
 *
 * The unix event backend is edge-triggered epoll.  A uw_io latches the
 * readiness the kernel reported; the owner clears it (uw_io_drained_read /
 * _write) when a read or write came back short or with EAGAIN, and then
 * uw_io_wait_* suspends the calling task until the next edge.  When data
 * arrives while no task waits, the notify callback runs (from the
 * scheduler, outside any task: it must not wait), which lets a server park
 * idle connections without a task or a stack.
 */
#ifndef UWEB_IO_UNIX_H
#define UWEB_IO_UNIX_H

#include <uweb/runtime.h>

typedef struct uw_io {
    int fd;
    bool readable, writable, hangup;
    uw_waitq rq, wq;
    void (*notify)(struct uw_io *io, void *arg);
    void *notify_arg;
} uw_io;

/* Registers fd (already non-blocking) with the backend. */
int uw_io_open(uw_io *io, int fd);
/* Unregisters; the fd stays open (the owner closes it). */
void uw_io_close(uw_io *io);
int uw_io_wait_read(uw_io *io, int64_t deadline);
int uw_io_wait_write(uw_io *io, int64_t deadline);
static inline void uw_io_drained_read(uw_io *io) { io->readable = false; }
static inline void uw_io_drained_write(uw_io *io) { io->writable = false; }

/* Wraps a connected, non-blocking stream socket (e.g. one end of a
 * socketpair) as a uw_conn; the conn owns fd afterwards. */
struct uw_conn;
int uw_conn_from_fd(struct uw_conn **out, int fd);

#endif

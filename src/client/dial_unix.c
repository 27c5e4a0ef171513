/*
 * uw_client_dial on unix: literals are parsed in place; names go to
 * getaddrinfo on a thread of its own, which hands the answer back through
 * an eventfd the calling task waits on (so other tasks keep running).  The
 * job is shared by the thread and the task and freed by whichever is last:
 * a task that times out or is canceled leaves nothing behind.
 */
#include <uweb/client.h>
#include <uweb/io_unix.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct resolve_job {
    int refs;                   /* atomic: the thread and the task */
    int efd;
    char host[256], port[8];
    struct addrinfo *res;
    int gai_err;
};

static void job_unref(struct resolve_job *j)
{
    if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (j->res) freeaddrinfo(j->res);
    close(j->efd);
    free(j);
}

static void *resolve_thread(void *arg)
{
    struct resolve_job *j = arg;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    j->gai_err = getaddrinfo(j->host, j->port, &hints, &j->res);
    uint64_t one = 1;
    ssize_t w = write(j->efd, &one, sizeof one);
    (void)w;
    job_unref(j);
    return NULL;
}

/* Resolves on the thread; on UW_OK *jobp holds the answer (unref it). */
static int resolve(const char *host, uint16_t port, int64_t deadline, struct resolve_job **jobp)
{
    if (strlen(host) >= sizeof ((struct resolve_job *)0)->host) return UW_CLIENT_ERESOLVE;
    struct resolve_job *j = calloc(1, sizeof *j);
    if (!j) return UW_ENOMEM;
    j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (j->efd < 0) { free(j); return UW_EIO; }
    strcpy(j->host, host);
    snprintf(j->port, sizeof j->port, "%u", (unsigned)port);
    j->refs = 2;
    uw_io io;
    if (uw_io_open(&io, j->efd) != UW_OK) { close(j->efd); free(j); return UW_EIO; }
    uw_io_drained_read(&io);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int e = pthread_create(&th, &attr, resolve_thread, j);
    pthread_attr_destroy(&attr);
    if (e != 0) { uw_io_close(&io); close(j->efd); free(j); return UW_ENOMEM; }
    int r;
    for (;;) {
        uint64_t v;
        if (read(j->efd, &v, sizeof v) == (ssize_t)sizeof v) { r = UW_OK; break; }
        uw_io_drained_read(&io);
        r = uw_io_wait_read(&io, deadline);
        if (r != UW_OK) break;
    }
    uw_io_close(&io);
    if (r == UW_OK && (j->gai_err != 0 || !j->res)) r = UW_CLIENT_ERESOLVE;
    if (r != UW_OK) { job_unref(j); return r; }
    *jobp = j;
    return UW_OK;
}

static int connect_addr(uw_conn **out, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno == EMFILE || errno == ENFILE ? UW_ELIMIT : UW_CLIENT_ECONNECT;
    if (connect(fd, sa, len) != 0) {
        if (errno != EINPROGRESS) { close(fd); return UW_CLIENT_ECONNECT; }
        uw_io io;
        if (uw_io_open(&io, fd) != UW_OK) { close(fd); return UW_EIO; }
        uw_io_drained_write(&io);
        int r = uw_io_wait_write(&io, deadline);
        uw_io_close(&io);
        int err = 0;
        socklen_t elen = sizeof err;
        if (r == UW_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0))
            r = UW_CLIENT_ECONNECT;
        if (r != UW_OK) { close(fd); return r; }
    }
    int r = uw_conn_from_fd(out, fd);
    if (r != UW_OK) close(fd);
    return r;
}

int uw_client_dial(uw_conn **out, const char *host, uint16_t port, int64_t deadline)
{
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    if (inet_pton(AF_INET, host, &v4.sin_addr) == 1)
        return connect_addr(out, (struct sockaddr *)&v4, sizeof v4, deadline);
    if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1)
        return connect_addr(out, (struct sockaddr *)&v6, sizeof v6, deadline);
    if (!*host) return UW_CLIENT_ERESOLVE;
    struct resolve_job *j;
    int r = resolve(host, port, deadline, &j);
    if (r != UW_OK) return r;
    r = UW_CLIENT_ECONNECT;
    for (struct addrinfo *a = j->res; a; a = a->ai_next) {
        r = connect_addr(out, a->ai_addr, a->ai_addrlen, deadline);
        if (r == UW_OK || r == UW_ETIMEDOUT || r == UW_ECANCELED) break;
    }
    job_unref(j);
    return r;
}

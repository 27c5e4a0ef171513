/*
 * The unix event backend: edge-triggered epoll, monotonic and wall clocks,
 * and SIGINT/SIGTERM delivered to a task through uw_wait_signal.
 */
#include "runtime_internal.h"
#include <uweb/io_unix.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int epfd = -1;
static size_t registered;
static volatile sig_atomic_t signal_seen, hup_seen;
static bool signals_installed;
static uw_waitq signal_waiters = UW_WAITQ_INIT;

int64_t uw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t uw_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int uw__backend_init(void)
{
    if (epfd >= 0) return UW_OK;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    return epfd < 0 ? UW_EIO : UW_OK;
}

void uw__backend_fini(void)
{
    if (epfd >= 0) close(epfd);
    epfd = -1;
    registered = 0;
}

bool uw__backend_idle(void)
{
    return registered == 0 && !signals_installed;
}

static void dispatch(uw_io *io, uint32_t ev)
{
    if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) io->hangup = true;
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        io->readable = true;
        if (!uw_wake_one(&io->rq) && io->notify) io->notify(io, io->notify_arg);
    }
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        io->writable = true;
        uw_wake_all(&io->wq);
    }
}

void uw__backend_wait(int64_t deadline)
{
    struct epoll_event evs[256];
    int timeout_ms;
    if (deadline == UW_FOREVER) {
        timeout_ms = -1;
    } else {
        int64_t left = deadline - uw_now();
        if (left <= 0) timeout_ms = 0;
        else if (left > (int64_t)1 << 40) timeout_ms = 1 << 30;
        else timeout_ms = (int)((left + 999999) / 1000000);
    }
    int n = epoll_wait(epfd, evs, 256, timeout_ms);
    if (n < 0 && errno != EINTR) n = 0;
    for (int i = 0; i < n; i++)
        dispatch(evs[i].data.ptr, evs[i].events);
    if (signal_seen || hup_seen) {
        uw_wake_all(&signal_waiters);
    }
}

int uw_io_open(uw_io *io, int fd)
{
    memset(io, 0, sizeof *io);
    io->fd = fd;
    io->writable = true;
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = io,
    };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return UW_EIO;
    registered++;
    return UW_OK;
}

void uw_io_close(uw_io *io)
{
    if (io->fd < 0) return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, io->fd, NULL);
    registered--;
    io->fd = -1;
    io->notify = NULL;
    uw_wake_all(&io->rq);
    uw_wake_all(&io->wq);
}

int uw_io_wait_read(uw_io *io, int64_t deadline)
{
    while (!io->readable) {
        if (io->fd < 0) return UW_ECLOSED;
        int r = uw_wait(&io->rq, deadline);
        if (r != UW_OK) return r;
    }
    return UW_OK;
}

int uw_io_wait_write(uw_io *io, int64_t deadline)
{
    while (!io->writable) {
        if (io->fd < 0) return UW_ECLOSED;
        int r = uw_wait(&io->wq, deadline);
        if (r != UW_OK) return r;
    }
    return UW_OK;
}

_Static_assert(SIGHUP == UW_SIGNAL_RELOAD, "UW_SIGNAL_RELOAD is SIGHUP");

static void on_signal(int sig)
{
    if (sig == SIGHUP) hup_seen = 1;
    else signal_seen = sig;
}

int uw_wait_signal(int64_t deadline)
{
    if (!signals_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signals_installed = true;
    }
    while (!signal_seen && !hup_seen) {
        int r = uw_wait(&signal_waiters, deadline);
        if (r != UW_OK) return r;
    }
    if (signal_seen) return signal_seen;
    hup_seen = 0;            /* a reload request: once per delivery */
    return SIGHUP;
}

void uw_rt_prepare_server(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/*
 * hello_floor — "the floor" of bench/hello.sh: the least an HTTP/1.1
 * "Hello World" server on epoll can do.  One thread, edge-triggered epoll,
 * non-blocking sockets; it parses nothing: it counts request ends
 * ("\r\n\r\n", across reads) and answers each with the same fixed response,
 * all answers to one read in one write.  What it costs per request is the
 * kernel and loopback share that every server pays.
 *
 *     hello_floor PORT      (0: any free port; prints "floor listening on PORT")
 *
 * Exits on SIGINT/SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESP[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: floor\r\n"
    "Date: Sat, 01 Jan 2000 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "Hello World!\n";
#define RESP_LEN (sizeof RESP - 1)
#define BATCH 64                 /* responses prebuilt back to back */

static char many[BATCH * RESP_LEN];

struct conn {
    int fd;
    int match;                   /* bytes of "\r\n\r\n" matched so far */
    unsigned long owed;          /* responses not yet fully written */
    size_t off;                  /* bytes of the current response already written */
    int want_out;
};

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

/* Writes what is owed; 0 when done or blocked, -1 on error. */
static int send_owed(struct conn *c)
{
    while (c->owed) {
        unsigned long n = c->owed < BATCH ? c->owed : BATCH;
        size_t len = n * RESP_LEN - c->off;
        ssize_t k = write(c->fd, many + c->off, len);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { c->want_out = 1; return 0; }
            return -1;
        }
        size_t done = c->off + (size_t)k;
        c->owed -= done / RESP_LEN;
        c->off = done % RESP_LEN;
    }
    c->want_out = 0;
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 0; i < BATCH; i++) memcpy(many + i * RESP_LEN, RESP, RESP_LEN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4096) != 0) {
        perror("floor: bind/listen");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    printf("floor listening on %u\n", ntohs(a.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char buf[65536];
    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    if (!nc) { close(fd); continue; }
                    nc->fd = fd;
                    struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            int dead = 0;
            if (evs[i].events & EPOLLIN) {
                for (;;) {
                    ssize_t k = read(c->fd, buf, sizeof buf);
                    if (k == 0) { dead = 1; break; }
                    if (k < 0) {
                        if (errno == EINTR) continue;
                        if (errno != EAGAIN) dead = 1;
                        break;
                    }
                    /* Count request ends; nothing else is looked at. */
                    int m = c->match;
                    for (ssize_t j = 0; j < k; j++) {
                        char ch = buf[j];
                        if (ch == (m & 1 ? '\n' : '\r')) {
                            if (++m == 4) { c->owed++; m = 0; }
                        } else {
                            m = ch == '\r';
                        }
                    }
                    c->match = m;
                    /* A short read drained the socket, unless the peer
                     * closed: then read on to see the end. */
                    if ((size_t)k < sizeof buf && !(evs[i].events & EPOLLRDHUP)) break;
                }
            }
            if (!dead && c->owed && (!c->want_out || (evs[i].events & EPOLLOUT)))
                dead = send_owed(c) != 0;
            if (!dead && (evs[i].events & (EPOLLHUP | EPOLLERR))) dead = 1;
            if (dead) {
                close(c->fd);
                free(c);
            }
        }
    }
    return 0;
}

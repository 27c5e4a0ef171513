/* uw_main on unix: certificates from files, HTTP on 8080 and HTTPS on 8443
 * by default, and the workers of --workers (processes sharing the ports). */
#include "web_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

uint16_t uw__default_port(void) { return 8080; }
uint16_t uw__default_tls_port(void) { return 8443; }

char *uw__read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= (size_t)1 << 24) {   /* no PEM file is 16 MiB */
            free(buf);
            buf = NULL;
            break;
        }
        char *b = realloc(buf, cap * 2);
        if (!b) { free(buf); buf = NULL; break; }
        buf = b;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    *len = n;
    return buf;
}

/* --workers: a TCP port every worker can bind with SO_REUSEPORT (port 0
 * chooses one now): a bound socket that never listens, so the kernel
 * gives it no connections.  The fd (kept open while the workers run) or
 * -1. */
int uw__reserve_port(const char *addr, uint16_t *port)
{
    bool v6 = strchr(addr, ':') != NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        char host[64];
        size_t n = strlen(addr);
        if (addr[0] == '[' && n > 2 && addr[n - 1] == ']') addr++, n -= 2;
        if (n >= sizeof host) return -1;
        memcpy(host, addr, n);
        host[n] = 0;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(*port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) return -1;
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(*port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) return -1;
        sl = sizeof *s4;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* --workers with a unix socket: one listening socket made before the
 * workers start, inherited by all (uw_tcp_listen's "fd:N").  -1 on error. */
int uw__unix_listen(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof un.sun_path) return -1;
    memcpy(un.sun_path, path, n + 1);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&un, sizeof un) != 0 || listen(fd, 4096) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The process's CPUs (--workers=auto). */
unsigned uw__cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Pins the calling worker i to one CPU of the set the process may use,
 * round robin (worker i on the set's CPU i mod count); a failure leaves
 * it where it was. */
static void pin_worker(const cpu_set_t *allowed, unsigned i)
{
    int count = CPU_COUNT(allowed);
    if (count < 1) return;
    int k = (int)(i % (unsigned)count);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, allowed) || k-- > 0) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
        return;
    }
}

/* The workers: fork n processes (each returns 0 with *index set, pinned
 * to its own CPU, and goes on to serve), the parent forwards SIGINT, SIGTERM and SIGHUP to
 * them and returns 1 once all have ended, *status 0 when every one ended
 * well.  -1 when no worker could start. */
int uw__run_workers(unsigned n, unsigned *index, int *status)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pids[UW_MAX_WORKERS];
    unsigned started = 0;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_ZERO(&allowed);
    fflush(NULL);
    for (unsigned i = 0; i < n && i < UW_MAX_WORKERS; i++) {
        pid_t p = fork();
        if (p == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            pin_worker(&allowed, i);
            *index = i;
            return 0;
        }
        if (p < 0) break;
        pids[started++] = p;
    }
    if (!started) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -1;
    }
    unsigned alive = started;
    bool stopping = false, bad = false;
    while (alive) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
                for (unsigned i = 0; i < started; i++)
                    if (pids[i] == p) { pids[i] = 0; alive--; }
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) bad = true;
                if (!stopping) {         /* a worker died by itself: stop the others */
                    stopping = true;
                    for (unsigned i = 0; i < started; i++) if (pids[i]) kill(pids[i], SIGTERM);
                }
            }
            continue;
        }
        if (sig != SIGHUP) stopping = true;
        for (unsigned i = 0; i < started; i++) if (pids[i]) kill(pids[i], sig);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    *status = bad ? 1 : 0;
    return 1;
}

void uw__remove_socket(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
}

/*
 * hypercall.c - the host side of every hvt hypercall (hvt_abi.h).
 *
 * Each handler copies its argument struct out of guest memory, checks the
 * handle and every guest range through hvt_gpa(), does the host operation
 * and copies the struct back.  Nothing here trusts a guest value.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvt.h"

#define ETHER_HEADER 14

uint64_t hvt_now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t hvt_now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Copies the argument struct in: the whole struct must be guest memory. */
#define ARG_IN(h, gpa, var, what) \
    memcpy(&(var), hvt_gpa((h), (gpa), sizeof(var), HVT_WRITE, (what)), \
           sizeof(var))
#define ARG_OUT(h, gpa, var) \
    memcpy(hvt_gpa((h), (gpa), sizeof(var), HVT_WRITE, "result"), &(var), sizeof(var))

/* The device for `handle` if it has type `type`, else NULL. */
static struct hvt_device *device(struct hvt *h, uint64_t handle, uint32_t type)
{
    if (handle >= (uint64_t)h->ndev || h->dev[handle].type != type)
        return NULL;
    return &h->dev[handle];
}

static void write_all(int fd, const uint8_t *p, uint64_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* console output lost: nothing better to do */
        p += n;
        len -= (uint64_t)n;
    }
}

static void call_console(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_console a;
    ARG_IN(h, gpa, a, "console");
    write_all(STDOUT_FILENO, hvt_gpa(h, a.data, a.len, HVT_READ, "console data"), a.len);
}

static void call_clock(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_clock a;
    ARG_IN(h, gpa, a, "clock");
    a.monotonic = hvt_now_monotonic();
    a.wall = hvt_now_wall();
    ARG_OUT(h, gpa, a);
}

static void call_yield(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_yield a;
    struct pollfd fds[UW_PLAT_MANIFEST_MAX];
    int handle_of[UW_PLAT_MANIFEST_MAX];
    nfds_t n = 0;

    ARG_IN(h, gpa, a, "yield");
    for (int i = 0; i < h->ndev; i++) {
        if (h->dev[i].type != UW_PLAT_DEVICE_NET)
            continue;
        fds[n] = (struct pollfd){ .fd = h->dev[i].fd, .events = POLLIN };
        handle_of[n++] = i;
    }
    a.ready_set = 0;
    for (;;) {
        uint64_t now = hvt_now_monotonic();
        uint64_t wait = a.deadline > now ? a.deadline - now : 0;
        struct timespec ts = {
            .tv_sec = (time_t)(wait / 1000000000ULL),
            .tv_nsec = (long)(wait % 1000000000ULL),
        };
        int r = ppoll(fds, n, &ts, NULL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            hvt_die("poll: %s", strerror(errno));
        for (nfds_t i = 0; i < n; i++)
            if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
                a.ready_set |= 1ULL << handle_of[i];
        break;
    }
    ARG_OUT(h, gpa, a);
}

static void call_net_read(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_net_read a;
    ARG_IN(h, gpa, a, "net read");
    struct hvt_device *d = device(h, a.handle, UW_PLAT_DEVICE_NET);
    uint8_t *buf = hvt_gpa(h, a.data, a.len, HVT_WRITE, "net read buffer");
    a.read_size = 0;
    if (d == NULL || a.len < uw_plat_net_read_min(d->mtu, d->offloads)) {
        a.result = UW_HVT_EINVAL;
    } else {
        ssize_t n = read(d->fd, buf, a.len);
        if (n >= 0) {
            a.read_size = (uint64_t)n;
            a.result = UW_HVT_OK;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            a.result = UW_HVT_AGAIN;
        } else {
            a.result = UW_HVT_EUNSPEC;
        }
    }
    ARG_OUT(h, gpa, a);
}

static void call_net_write(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_net_write a;
    ARG_IN(h, gpa, a, "net write");
    struct hvt_device *d = device(h, a.handle, UW_PLAT_DEVICE_NET);
    const uint8_t *buf = hvt_gpa(h, a.data, a.len, HVT_READ, "net write buffer");
    if (d == NULL || a.len < ETHER_HEADER || a.len > uw_plat_net_write_max(d->mtu, d->offloads)) {
        a.result = UW_HVT_EINVAL;
    } else {
        ssize_t n = write(d->fd, buf, a.len);
        if (n == (ssize_t)a.len)
            a.result = UW_HVT_OK;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            a.result = UW_HVT_AGAIN;
        else
            a.result = UW_HVT_EUNSPEC;
    }
    ARG_OUT(h, gpa, a);
}

static void call_block_io(struct hvt *h, uint64_t gpa, int write)
{
    struct uw_hvt_block_io a;
    ARG_IN(h, gpa, a, write ? "block write" : "block read");
    struct hvt_device *d = device(h, a.handle, UW_PLAT_DEVICE_BLOCK);
    uint8_t *buf = hvt_gpa(h, a.data, a.len, write ? HVT_READ : HVT_WRITE,
                           "block buffer");
    if (d == NULL || a.len == 0 || a.offset % d->block_size != 0 ||
        a.len % d->block_size != 0 || a.offset > d->capacity ||
        a.len > d->capacity - a.offset) {
        a.result = UW_HVT_EINVAL;
        ARG_OUT(h, gpa, a);
        return;
    }
    a.result = UW_HVT_OK;
    uint64_t done = 0;
    while (done < a.len) {
        ssize_t n = write ? pwrite(d->fd, buf + done, a.len - done,
                                   (off_t)(a.offset + done))
                          : pread(d->fd, buf + done, a.len - done,
                                  (off_t)(a.offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            a.result = UW_HVT_EUNSPEC;
            break;
        }
        done += (uint64_t)n;
    }
    ARG_OUT(h, gpa, a);
}

static int call_halt(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_halt a;
    ARG_IN(h, gpa, a, "halt");
    return (int)(a.status & 0xff);
}

static int call_abort(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_abort a;
    ARG_IN(h, gpa, a, "abort");
    if (a.message != 0 && a.len > 0) {
        uint64_t len = a.len > 4096 ? 4096 : a.len;
        const char *msg = hvt_gpa(h, a.message, len, HVT_READ, "abort message");
        hvt_say("guest aborted: %.*s", (int)len, msg);
    } else {
        hvt_say("guest aborted");
    }
    return UW_PLAT_EXIT_ABORT;
}

static const char *const exception_names[32] = {
    [0] = "divide error (#DE)", [1] = "debug exception (#DB)",
    [2] = "non-maskable interrupt", [3] = "breakpoint (#BP)",
    [4] = "overflow (#OF)", [5] = "bound range exceeded (#BR)",
    [6] = "invalid opcode (#UD)", [7] = "device not available (#NM)",
    [8] = "double fault (#DF)", [10] = "invalid TSS (#TS)",
    [11] = "segment not present (#NP)", [12] = "stack fault (#SS)",
    [13] = "general protection fault (#GP)", [14] = "page fault (#PF)",
    [16] = "x87 floating-point error (#MF)", [17] = "alignment check (#AC)",
    [18] = "machine check (#MC)", [19] = "SIMD floating-point error (#XM)",
    [20] = "virtualization exception (#VE)",
    [21] = "control protection exception (#CP)",
};

static void call_fault(struct hvt *h, uint64_t gpa)
{
    struct uw_hvt_fault a;
    ARG_IN(h, gpa, a, "fault");
    const char *name = a.vector < 32 && exception_names[a.vector]
                           ? exception_names[a.vector] : "CPU exception";
    if (a.vector == 14 && a.cr2 - HVT_GUARD(h) < UW_HVT_GUARD_SIZE)
        hvt_guest_fault("stack overflow: the guest used up its %d KiB stack "
                        "(rip=0x%llx, page fault address 0x%llx)",
                        UW_HVT_STACK_SIZE / 1024, (unsigned long long)a.rip,
                        (unsigned long long)a.cr2);
    if (a.vector == 14)
        hvt_guest_fault("CPU exception: %s at rip=0x%llx, page fault "
                        "address 0x%llx (%s, %s)", name,
                        (unsigned long long)a.rip, (unsigned long long)a.cr2,
                        (a.error_code & 1) ? "protection violation"
                                           : "page not mapped",
                        (a.error_code & 16) ? "instruction fetch"
                        : (a.error_code & 2) ? "write" : "read");
    hvt_guest_fault("CPU exception: %s (vector %llu, error code 0x%llx) "
                    "at rip=0x%llx, rsp=0x%llx", name,
                    (unsigned long long)a.vector,
                    (unsigned long long)a.error_code,
                    (unsigned long long)a.rip, (unsigned long long)a.rsp);
}

int hvt_hypercall(struct hvt *h, unsigned nr, uint64_t gpa)
{
    switch (nr) {
    case UW_HVT_CALL_CONSOLE: call_console(h, gpa); break;
    case UW_HVT_CALL_CLOCK: call_clock(h, gpa); break;
    case UW_HVT_CALL_YIELD: call_yield(h, gpa); break;
    case UW_HVT_CALL_NET_READ: call_net_read(h, gpa); break;
    case UW_HVT_CALL_NET_WRITE: call_net_write(h, gpa); break;
    case UW_HVT_CALL_BLOCK_READ: call_block_io(h, gpa, 0); break;
    case UW_HVT_CALL_BLOCK_WRITE: call_block_io(h, gpa, 1); break;
    case UW_HVT_CALL_HALT: return call_halt(h, gpa);
    case UW_HVT_CALL_ABORT: return call_abort(h, gpa);
    case UW_HVT_CALL_FAULT: call_fault(h, gpa); break;
    default: hvt_guest_fault("unknown hypercall %u", nr);
    }
    return -1;
}

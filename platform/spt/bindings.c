/*
 * bindings.c - the platform ABI (uw_platform.h) for spt: plain Linux
 * system calls on the file descriptors the tender opened.  Only the calls
 * the tender's seccomp filter allows are made: read (tap devices), writev
 * (tap devices, console: a frame in pieces, so no write), pread64/pwrite64 (block devices), ppoll, clock_gettime,
 * exit_group.
 */
#include <stddef.h>
#include <stdint.h>
#include "uw_platform.h"
#include "guest.h"
#include "spt_abi.h"

#define SYS_read 0
#define SYS_writev 20
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_clock_gettime 228
#define SYS_exit_group 231
#define SYS_ppoll 271
#define EINTR 4
#define EAGAIN 11
#define POLLIN 1
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1

struct kernel_timespec { long tv_sec, tv_nsec; };
struct kernel_pollfd { int fd; short events, revents; };
struct kernel_iovec { const void *base; unsigned long len; };

static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
    return ret;
}

static long sys4(long nr, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                         : "rcx", "r11", "memory");
    return ret;
}

static int (*vdso_clock_gettime)(int, struct kernel_timespec *);
static struct kernel_pollfd pollfds[UW_PLAT_MANIFEST_MAX];
static uw_plat_handle_t poll_handles[UW_PLAT_MANIFEST_MAX];
static int npollfds;

void _start(const struct uw_spt_boot *b) __attribute__((noreturn, no_stack_protector));

/*
 * The entry (platform/README.md): canary first, then the manifest, then
 * the common start code.  Not stack-protected, and never returns, so the
 * canary changing under it is harmless.
 */
void _start(const struct uw_spt_boot *b)
{
    __stack_chk_guard = (uintptr_t)b->canary;
    if (b->clock_gettime)
        vdso_clock_gettime = (int (*)(int, struct kernel_timespec *))(uintptr_t)b->clock_gettime;
    const struct uw_plat_manifest *m = (const struct uw_plat_manifest *)(uintptr_t)b->manifest;
    uw_guest_set_manifest(m);
    uw_guest_set_seed(b->seed);
    for (uint32_t i = 0; m && i < m->count && i < UW_PLAT_MANIFEST_MAX; i++) {
        if (m->devices[i].type == UW_PLAT_DEVICE_NET && m->devices[i].attached) {
            pollfds[npollfds].fd = (int)m->devices[i].hostfd;
            pollfds[npollfds].events = POLLIN;
            poll_handles[npollfds++] = i;
        }
    }
    struct uw_plat_start_info si = {
        .cmdline = (const char *)(uintptr_t)b->cmdline,
        .heap_start = (uintptr_t)b->heap_start,
        .heap_size = (size_t)(b->heap_end - b->heap_start),
    };
    uw_plat_exit(uw_plat_app_main(&si));
}

void uw_plat_exit(int status)
{
    for (;;)
        sys3(SYS_exit_group, status & 0xff, 0, 0);
}

void uw_plat_abort(void)
{
    static const char msg[] = "uweb-spt: guest aborted\n";
    struct kernel_iovec v = { msg, sizeof msg - 1 };
    sys3(SYS_writev, 2, (long)&v, 1);
    for (;;)
        sys3(SYS_exit_group, UW_PLAT_EXIT_ABORT, 0, 0);
}

static uw_plat_time_t clock_ns(int clock)
{
    struct kernel_timespec ts = { 0, 0 };
    if (vdso_clock_gettime)
        vdso_clock_gettime(clock, &ts);
    else
        sys3(SYS_clock_gettime, clock, (long)&ts, 0);
    return (uw_plat_time_t)ts.tv_sec * 1000000000ull + (uw_plat_time_t)ts.tv_nsec;
}

uw_plat_time_t uw_plat_clock_monotonic(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uw_plat_time_t uw_plat_clock_wall(void)
{
    return clock_ns(CLOCK_REALTIME);
}

void uw_plat_yield(uw_plat_time_t deadline, uw_plat_handle_set_t *ready_set)
{
    uw_plat_handle_set_t ready = 0;
    uw_plat_time_t now = uw_plat_clock_monotonic();
    uw_plat_time_t wait = deadline > now ? deadline - now : 0;
    struct kernel_timespec ts = { (long)(wait / 1000000000ull), (long)(wait % 1000000000ull) };
    if (ts.tv_sec < 0)   /* a deadline centuries away */
        ts.tv_sec = 0x7fffffffffffffffl / 2;
    for (int i = 0; i < npollfds; i++)
        pollfds[i].revents = 0;
    long n = sys4(SYS_ppoll, (long)pollfds, npollfds, (long)&ts, 0);
    for (int i = 0; n > 0 && i < npollfds; i++)
        if (pollfds[i].revents & POLLIN)
            ready |= 1ull << poll_handles[i];
    if (ready_set)
        *ready_set = ready;
}

void uw_plat_console_write(const char *buf, size_t size)
{
    while (size > 0) {
        struct kernel_iovec v = { buf, size };
        long n = sys3(SYS_writev, 1, (long)&v, 1);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        size -= (size_t)n;
    }
}

uw_plat_result_t uw_plat_net_acquire(const char *name, uw_plat_handle_t *handle,
                                     struct uw_plat_net_info *info)
{
    int64_t h = uw_guest_device_find(name, UW_PLAT_DEVICE_NET);
    if (h < 0 || !handle || !info)
        return UW_PLAT_EINVAL;
    const struct uw_plat_device *d = uw_guest_device_get((uw_plat_handle_t)h, UW_PLAT_DEVICE_NET);
    for (int i = 0; i < 6; i++)
        info->mac_address[i] = d->info.net.mac_address[i];
    info->mtu = d->info.net.mtu;
    info->offloads = d->info.net.offloads;
    *handle = (uw_plat_handle_t)h;
    return UW_PLAT_OK;
}

uw_plat_result_t uw_plat_net_writev(uw_plat_handle_t handle, const struct uw_plat_iovec *iov,
                                    size_t n)
{
    const struct uw_plat_device *d = uw_guest_device_get(handle, UW_PLAT_DEVICE_NET);
    if (!d || !iov || n < 1 || n > UW_PLAT_NET_IOV_MAX)
        return UW_PLAT_EINVAL;
    struct kernel_iovec v[UW_PLAT_NET_IOV_MAX];
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        if (!iov[i].base && iov[i].len)
            return UW_PLAT_EINVAL;
        v[i].base = iov[i].base;
        v[i].len = iov[i].len;
        size += iov[i].len;
        if (size > uw_plat_net_write_max(d->info.net.mtu, d->info.net.offloads))
            return UW_PLAT_EINVAL;
    }
    if (size < 14)
        return UW_PLAT_EINVAL;
    long r;
    do
        r = sys3(SYS_writev, d->hostfd, (long)v, (long)n);
    while (r == -EINTR);
    if (r == -EAGAIN)
        return UW_PLAT_AGAIN;
    return r == (long)size ? UW_PLAT_OK : UW_PLAT_EUNSPEC;
}

uw_plat_result_t uw_plat_net_write(uw_plat_handle_t handle, const uint8_t *buf, size_t size)
{
    if (!buf)
        return UW_PLAT_EINVAL;
    struct uw_plat_iovec v = { buf, size };
    return uw_plat_net_writev(handle, &v, 1);
}

uw_plat_result_t uw_plat_net_read(uw_plat_handle_t handle, uint8_t *buf, size_t size,
                                  size_t *read_size)
{
    const struct uw_plat_device *d = uw_guest_device_get(handle, UW_PLAT_DEVICE_NET);
    if (!d || !buf || !read_size || size < uw_plat_net_read_min(d->info.net.mtu, d->info.net.offloads))
        return UW_PLAT_EINVAL;
    long n;
    do
        n = sys3(SYS_read, d->hostfd, (long)buf, (long)size);
    while (n == -EINTR);
    if (n == -EAGAIN)
        return UW_PLAT_AGAIN;
    if (n <= 0)
        return UW_PLAT_EUNSPEC;
    *read_size = (size_t)n;
    return UW_PLAT_OK;
}

uw_plat_result_t uw_plat_block_acquire(const char *name, uw_plat_handle_t *handle,
                                       struct uw_plat_block_info *info)
{
    int64_t h = uw_guest_device_find(name, UW_PLAT_DEVICE_BLOCK);
    if (h < 0 || !handle || !info)
        return UW_PLAT_EINVAL;
    const struct uw_plat_device *d = uw_guest_device_get((uw_plat_handle_t)h, UW_PLAT_DEVICE_BLOCK);
    info->capacity = d->info.block.capacity;
    info->block_size = d->info.block.block_size;
    *handle = (uw_plat_handle_t)h;
    return UW_PLAT_OK;
}

/* The device of HANDLE if [OFFSET, OFFSET + SIZE) is whole blocks inside it. */
static const struct uw_plat_device *block_check(uw_plat_handle_t handle, uw_plat_off_t offset,
                                                const void *buf, size_t size)
{
    const struct uw_plat_device *d = uw_guest_device_get(handle, UW_PLAT_DEVICE_BLOCK);
    if (!d || !buf || size == 0)
        return NULL;
    uint64_t bs = d->info.block.block_size, cap = d->info.block.capacity;
    if (offset % bs || size % bs || offset > cap || size > cap - offset)
        return NULL;
    return d;
}

/* pread64/pwrite64 until SIZE bytes are done. */
static uw_plat_result_t block_io(long nr, const struct uw_plat_device *d, uw_plat_off_t offset,
                                 uint8_t *buf, size_t size)
{
    while (size > 0) {
        long n = sys4(nr, d->hostfd, (long)buf, (long)size, (long)offset);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return UW_PLAT_EUNSPEC;
        buf += n;
        size -= (size_t)n;
        offset += (uw_plat_off_t)n;
    }
    return UW_PLAT_OK;
}

uw_plat_result_t uw_plat_block_write(uw_plat_handle_t handle, uw_plat_off_t offset,
                                     const uint8_t *buf, size_t size)
{
    const struct uw_plat_device *d = block_check(handle, offset, buf, size);
    return d ? block_io(SYS_pwrite64, d, offset, (uint8_t *)buf, size) : UW_PLAT_EINVAL;
}

uw_plat_result_t uw_plat_block_read(uw_plat_handle_t handle, uw_plat_off_t offset,
                                    uint8_t *buf, size_t size)
{
    const struct uw_plat_device *d = block_check(handle, offset, buf, size);
    return d ? block_io(SYS_pread64, d, offset, buf, size) : UW_PLAT_EINVAL;
}

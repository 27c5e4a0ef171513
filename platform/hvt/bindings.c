/*
 * bindings.c - the platform ABI (uw_platform.h) for the hvt target: every
 * call is a hypercall to uweb-hvt (hvt_abi.h).
 *
 * Argument structs live on the caller's stack; guest memory is
 * identity-mapped, so their addresses are guest-physical addresses below
 * 4 GiB and fit the 32-bit port write.  Handles and sizes are checked here
 * (so a bad one is UW_PLAT_EINVAL, as the ABI promises) and again by the
 * tender (which trusts nothing).
 */
#include <stddef.h>
#include <stdint.h>

#include "uw_platform.h"
#include "guest.h"
#include "hvt_abi.h"

#define ETHER_HEADER 14

void uw_hvt_start(const struct uw_hvt_boot *boot)
    __attribute__((noreturn, no_stack_protector));

_Static_assert(UW_HVT_CALL_FAULT == 10, "start.S issues the fault call on port 0x500 + 10");

/* start.S: the exception stubs for vectors 0..31. */
extern const uint64_t uw_hvt_trap_stubs[32];

/* A 64-bit interrupt gate. */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

static struct idt_gate idt[32];

/* Routes every CPU exception to its stub, so a crash is reported by name. */
static void install_idt(void)
{
    for (int v = 0; v < 32; v++) {
        uint64_t a = uw_hvt_trap_stubs[v];
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)a,
            .selector = 1 * 8,      /* the tender's code segment */
            .type = 0x8e,           /* present, ring 0, interrupt gate */
            .offset_mid = (uint16_t)(a >> 16),
            .offset_high = (uint32_t)(a >> 32),
        };
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ __volatile__("lidt %0" : : "m"(idtr));
}

/*
 * Called by _start (start.S).  Runs before the stack canary is set, so it
 * is not itself protected; it calls nothing protected before setting it.
 */
void uw_hvt_start(const struct uw_hvt_boot *boot)
{
    __stack_chk_guard = (uintptr_t)boot->random;
    install_idt();
    uw_guest_set_seed(boot->seed);
    uw_guest_set_manifest(
        (const struct uw_plat_manifest *)(uintptr_t)boot->manifest);
    struct uw_plat_start_info si = {
        .cmdline = (const char *)(uintptr_t)boot->cmdline,
        .heap_start = (uintptr_t)boot->heap_start,
        .heap_size = (size_t)(boot->heap_end - boot->heap_start),
    };
    uw_plat_exit(uw_plat_app_main(&si));
}

void uw_plat_exit(int status)
{
    volatile struct uw_hvt_halt a = { .status = (uint64_t)(unsigned)status };
    for (;;)
        uw_hvt_hypercall(UW_HVT_CALL_HALT, &a);
}

void uw_plat_abort(void)
{
    volatile struct uw_hvt_abort a = { .message = 0, .len = 0 };
    for (;;)
        uw_hvt_hypercall(UW_HVT_CALL_ABORT, &a);
}

uw_plat_time_t uw_plat_clock_monotonic(void)
{
    volatile struct uw_hvt_clock a = { 0, 0 };
    uw_hvt_hypercall(UW_HVT_CALL_CLOCK, &a);
    return a.monotonic;
}

uw_plat_time_t uw_plat_clock_wall(void)
{
    volatile struct uw_hvt_clock a = { 0, 0 };
    uw_hvt_hypercall(UW_HVT_CALL_CLOCK, &a);
    return a.wall;
}

void uw_plat_yield(uw_plat_time_t deadline, uw_plat_handle_set_t *ready_set)
{
    volatile struct uw_hvt_yield a = { .deadline = deadline, .ready_set = 0 };
    uw_hvt_hypercall(UW_HVT_CALL_YIELD, &a);
    if (ready_set != NULL)
        *ready_set = a.ready_set;
}

void uw_plat_console_write(const char *buf, size_t size)
{
    volatile struct uw_hvt_console a = {
        .data = (uint64_t)(uintptr_t)buf, .len = size,
    };
    uw_hvt_hypercall(UW_HVT_CALL_CONSOLE, &a);
}

uw_plat_result_t uw_plat_net_acquire(const char *name, uw_plat_handle_t *handle,
                                     struct uw_plat_net_info *info)
{
    int64_t h = uw_guest_device_find(name, UW_PLAT_DEVICE_NET);
    if (h < 0 || handle == NULL || info == NULL)
        return UW_PLAT_EINVAL;
    const struct uw_plat_device *d =
        uw_guest_device_get((uw_plat_handle_t)h, UW_PLAT_DEVICE_NET);
    if (d == NULL)
        return UW_PLAT_EINVAL;
    for (int i = 0; i < 6; i++)
        info->mac_address[i] = d->info.net.mac_address[i];
    info->mtu = d->info.net.mtu;
    info->offloads = d->info.net.offloads;
    *handle = (uw_plat_handle_t)h;
    return UW_PLAT_OK;
}

uw_plat_result_t uw_plat_net_write(uw_plat_handle_t handle, const uint8_t *buf,
                                   size_t size)
{
    const struct uw_plat_device *d = uw_guest_device_get(handle, UW_PLAT_DEVICE_NET);
    if (d == NULL || buf == NULL || size < ETHER_HEADER ||
        size > uw_plat_net_write_max(d->info.net.mtu, d->info.net.offloads))
        return UW_PLAT_EINVAL;
    volatile struct uw_hvt_net_write a = {
        .handle = handle, .data = (uint64_t)(uintptr_t)buf, .len = size,
    };
    uw_hvt_hypercall(UW_HVT_CALL_NET_WRITE, &a);
    return (uw_plat_result_t)a.result;
}

/* hvt's net write hypercall takes one buffer: the pieces are gathered
 * here first (a guest runs one thread). */
static uint8_t net_gather[UW_PLAT_NET_OFFLOAD_FRAME_MAX];

uw_plat_result_t uw_plat_net_writev(uw_plat_handle_t handle, const struct uw_plat_iovec *iov,
                                    size_t n)
{
    if (iov == NULL || n < 1 || n > UW_PLAT_NET_IOV_MAX)
        return UW_PLAT_EINVAL;
    if (n == 1)
        return uw_plat_net_write(handle, iov[0].base, iov[0].len);
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        if ((iov[i].base == NULL && iov[i].len) || iov[i].len > sizeof net_gather - size)
            return UW_PLAT_EINVAL;
        if (iov[i].len)
            __builtin_memcpy(net_gather + size, iov[i].base, iov[i].len);
        size += iov[i].len;
    }
    return uw_plat_net_write(handle, net_gather, size);
}

uw_plat_result_t uw_plat_net_read(uw_plat_handle_t handle, uint8_t *buf,
                                  size_t size, size_t *read_size)
{
    const struct uw_plat_device *d = uw_guest_device_get(handle, UW_PLAT_DEVICE_NET);
    if (d == NULL || buf == NULL || read_size == NULL ||
        size < uw_plat_net_read_min(d->info.net.mtu, d->info.net.offloads))
        return UW_PLAT_EINVAL;
    volatile struct uw_hvt_net_read a = {
        .handle = handle, .data = (uint64_t)(uintptr_t)buf, .len = size,
    };
    uw_hvt_hypercall(UW_HVT_CALL_NET_READ, &a);
    if (a.result == UW_HVT_OK)
        *read_size = (size_t)a.read_size;
    return (uw_plat_result_t)a.result;
}

uw_plat_result_t uw_plat_block_acquire(const char *name, uw_plat_handle_t *handle,
                                       struct uw_plat_block_info *info)
{
    int64_t h = uw_guest_device_find(name, UW_PLAT_DEVICE_BLOCK);
    if (h < 0 || handle == NULL || info == NULL)
        return UW_PLAT_EINVAL;
    const struct uw_plat_device *d =
        uw_guest_device_get((uw_plat_handle_t)h, UW_PLAT_DEVICE_BLOCK);
    if (d == NULL)
        return UW_PLAT_EINVAL;
    info->capacity = d->info.block.capacity;
    info->block_size = d->info.block.block_size;
    *handle = (uw_plat_handle_t)h;
    return UW_PLAT_OK;
}

/* The ABI's rules for a block transfer: whole blocks, inside the device. */
static int block_ok(uw_plat_handle_t handle, uw_plat_off_t offset, size_t size)
{
    const struct uw_plat_device *d =
        uw_guest_device_get(handle, UW_PLAT_DEVICE_BLOCK);
    if (d == NULL || size == 0)
        return 0;
    uint64_t bs = d->info.block.block_size, cap = d->info.block.capacity;
    return offset % bs == 0 && size % bs == 0 && offset <= cap &&
           size <= cap - offset;
}

static uw_plat_result_t block_io(enum uw_hvt_call call, uw_plat_handle_t handle,
                                 uw_plat_off_t offset, uintptr_t buf, size_t size)
{
    if (buf == 0 || !block_ok(handle, offset, size))
        return UW_PLAT_EINVAL;
    volatile struct uw_hvt_block_io a = {
        .handle = handle, .offset = offset, .data = buf, .len = size,
    };
    uw_hvt_hypercall(call, &a);
    return (uw_plat_result_t)a.result;
}

uw_plat_result_t uw_plat_block_write(uw_plat_handle_t handle, uw_plat_off_t offset,
                                     const uint8_t *buf, size_t size)
{
    return block_io(UW_HVT_CALL_BLOCK_WRITE, handle, offset, (uintptr_t)buf, size);
}

uw_plat_result_t uw_plat_block_read(uw_plat_handle_t handle, uw_plat_off_t offset,
                                    uint8_t *buf, size_t size)
{
    return block_io(UW_HVT_CALL_BLOCK_READ, handle, offset, (uintptr_t)buf, size);
}

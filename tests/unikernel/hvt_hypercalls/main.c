/*
 * hvt_hypercalls: the tender checks what the bindings already check.  This
 * guest skips the bindings and issues raw hypercalls (hvt_abi.h) with bad
 * handles and lengths: each must come back UW_HVT_EINVAL with the guest's
 * buffers untouched, never act on a device or stop the guest.  It has no
 * devices, so every handle is bad.  Prints SUCCESS when all hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "uw_platform.h"
#include "hvt_abi.h"

UW_PLAT_MANIFEST();

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

static uint8_t buf[2048];

static int untouched(void)
{
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != 0xa5)
            return 0;
    return 1;
}

int main(void)
{
    memset(buf, 0xa5, sizeof buf);
    uint64_t handles[] = { 0, 1, 62, 63, 64, UINT64_MAX };
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        uint64_t h = handles[i];
        volatile struct uw_hvt_net_read nr = { .handle = h, .data = (uintptr_t)buf, .len = sizeof buf,
                                               .read_size = 77, .result = 99 };
        uw_hvt_hypercall(UW_HVT_CALL_NET_READ, &nr);
        EXPECT(nr.result == UW_HVT_EINVAL && nr.read_size == 0, "net read on a bad handle");
        volatile struct uw_hvt_net_write nw = { .handle = h, .data = (uintptr_t)buf, .len = 60, .result = 99 };
        uw_hvt_hypercall(UW_HVT_CALL_NET_WRITE, &nw);
        EXPECT(nw.result == UW_HVT_EINVAL, "net write on a bad handle");
        volatile struct uw_hvt_block_io br = { .handle = h, .offset = 0, .data = (uintptr_t)buf, .len = 512,
                                               .result = 99 };
        uw_hvt_hypercall(UW_HVT_CALL_BLOCK_READ, &br);
        EXPECT(br.result == UW_HVT_EINVAL, "block read on a bad handle");
        volatile struct uw_hvt_block_io bw = { .handle = h, .offset = 512, .data = (uintptr_t)buf, .len = 512,
                                               .result = 99 };
        uw_hvt_hypercall(UW_HVT_CALL_BLOCK_WRITE, &bw);
        EXPECT(bw.result == UW_HVT_EINVAL, "block write on a bad handle");
    }
    EXPECT(untouched(), "a refused call wrote into the guest's buffer");

    /* A deadline in the past only polls; nothing is ready without devices. */
    volatile struct uw_hvt_yield y = { .deadline = 0, .ready_set = 12345 };
    uw_hvt_hypercall(UW_HVT_CALL_YIELD, &y);
    EXPECT(y.ready_set == 0, "yield reported a ready device the guest does not have");

    volatile struct uw_hvt_clock c1 = { 0, 0 }, c2 = { 0, 0 };
    uw_hvt_hypercall(UW_HVT_CALL_CLOCK, &c1);
    uw_hvt_hypercall(UW_HVT_CALL_CLOCK, &c2);
    EXPECT(c1.monotonic != 0 && c2.monotonic >= c1.monotonic, "monotonic clock went back");
    EXPECT(c1.wall > 1600000000ull * 1000000000ull, "wall clock before 2020");

    /* An empty console write is fine. */
    volatile struct uw_hvt_console con = { .data = (uintptr_t)buf, .len = 0 };
    uw_hvt_hypercall(UW_HVT_CALL_CONSOLE, &con);

    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}

/*
 * net: a network device attached to a tap interface.  The guest sends
 * argv[1] (default 3) broadcast frames (the runner counts them on the
 * host side of the tap), checks its MAC address and MTU, that bad handles
 * and sizes are refused, that reading never blocks, and that yield
 * returns by its deadline when no frame arrives.
 *
 * `net.spt echo N`: answers N frames of ethertype 0x88b5 whose payload
 * starts "ping" with a frame back to their sender whose payload starts
 * "pong" (the rest copied), waiting in yield between them; gives up after
 * 20 s.  The runner sends the pings from the host side of the tap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST(UW_PLAT_NET("service0"));

static int failures;
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILURE: %s\n", what); failures++; } } while (0)

static int echo(uw_plat_handle_t h, const struct uw_plat_net_info *info, long count)
{
    size_t max = info->mtu + 14, got;
    uint8_t *frame = malloc(max);
    long answered = 0, wakeups = 0;
    if (!frame)
        return 1;
    uw_plat_time_t give_up = uw_plat_clock_monotonic() + 20000000000ull;
    puts("echo: ready");
    while (answered < count && uw_plat_clock_monotonic() < give_up) {
        uw_plat_handle_set_t ready = 0;
        uw_plat_yield(give_up, &ready);
        wakeups++;
        if (ready & ~(1ull << h)) {
            puts("FAILURE: yield reported a handle that is not ours");
            return 1;
        }
        uw_plat_result_t r;
        while ((r = uw_plat_net_read(h, frame, max, &got)) == UW_PLAT_OK) {
            if (got < 18 || frame[12] != 0x88 || frame[13] != 0xb5 || memcmp(frame + 14, "ping", 4) != 0)
                continue;   /* IPv6 chatter and the like */
            memcpy(frame, frame + 6, 6);                 /* back to the sender */
            memcpy(frame + 6, info->mac_address, 6);
            memcpy(frame + 14, "pong", 4);
            if (uw_plat_net_write(h, frame, got) != UW_PLAT_OK) {
                puts("FAILURE: echo write");
                return 1;
            }
            answered++;
        }
        if (r != UW_PLAT_AGAIN) {
            puts("FAILURE: read did not end with AGAIN");
            return 1;
        }
    }
    printf("echo: answered %ld of %ld pings, %ld wakeups\n", answered, count, wakeups);
    if (answered < count)
        return 1;
    puts("SUCCESS");
    return 0;
}

int main(int argc, char **argv)
{
    uw_plat_handle_t h, other;
    struct uw_plat_net_info info;
    if (uw_plat_net_acquire("service0", &h, &info) != UW_PLAT_OK) {
        puts("FAILURE: cannot acquire net device 'service0'");
        return 1;
    }
    EXPECT(uw_plat_net_acquire("service1", &other, &info) == UW_PLAT_EINVAL, "unknown device acquired");
    const uint8_t *mac = info.mac_address;
    printf("mac %02x:%02x:%02x:%02x:%02x:%02x mtu %zu\n", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5], info.mtu);
    EXPECT((mac[0] & 1) == 0, "MAC address is multicast");
    if (argc > 2 && strcmp(argv[1], "echo") == 0)
        return failures ? 1 : echo(h, &info, strtol(argv[2], NULL, 10));
    EXPECT(info.mtu >= 576 && info.mtu <= 65535, "MTU out of range");

    size_t frame_max = info.mtu + 14;
    uint8_t *frame = calloc(1, frame_max + 1);
    if (!frame)
        return 1;
    memset(frame, 0xff, 6);                     /* broadcast */
    memcpy(frame + 6, mac, 6);
    frame[12] = 0x88;                           /* local experimental ethertype */
    frame[13] = 0xb5;
    memcpy(frame + 14, "uweb net test", 13);
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 3;
    for (long i = 0; i < count; i++)
        EXPECT(uw_plat_net_write(h, frame, 60) == UW_PLAT_OK, "write of a 60-byte frame");
    EXPECT(uw_plat_net_write(h, frame, frame_max + 1) == UW_PLAT_EINVAL, "oversized frame accepted");
    EXPECT(uw_plat_net_write(h, frame, 0) == UW_PLAT_EINVAL, "empty frame accepted");
    EXPECT(uw_plat_net_write(h, frame, 13) == UW_PLAT_EINVAL, "frame shorter than a header accepted");
    EXPECT(uw_plat_net_write(h + 1, frame, 60) == UW_PLAT_EINVAL, "bad handle accepted");
    size_t got = 0;
    EXPECT(uw_plat_net_read(h, frame, 64, &got) == UW_PLAT_EINVAL, "read buffer below mtu + 14 accepted");
    /* Drain whatever the host sent (IPv6 router solicitations, ...): never blocks. */
    int reads = 0;
    uw_plat_result_t r;
    while ((r = uw_plat_net_read(h, frame, frame_max, &got)) == UW_PLAT_OK && reads < 1000)
        reads++;
    EXPECT(r == UW_PLAT_AGAIN, "read of an empty device did not say AGAIN");

    uw_plat_time_t start = uw_plat_clock_monotonic();
    uw_plat_handle_set_t ready = 0;
    uw_plat_yield(start + 50000000ull, &ready);   /* 50 ms */
    uw_plat_time_t waited = uw_plat_clock_monotonic() - start;
    EXPECT(ready != 0 || waited >= 50000000ull, "yield returned early with nothing ready");
    EXPECT((ready & ~(1ull << h)) == 0, "yield reported a handle that is not ours");
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}

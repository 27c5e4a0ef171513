/*
 * clocks: the monotonic clock never goes back and advances across a
 * yield; the wall clock agrees with the host's (argv[1]: the host's Unix
 * time in seconds when the test started); the libc's clock_gettime and
 * time() read the same clocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "uw_platform.h"

UW_PLAT_MANIFEST();

#define NS 1000000000ull

int main(int argc, char **argv)
{
    int failures = 0;
    uw_plat_time_t prev = uw_plat_clock_monotonic();
    for (int i = 0; i < 10000; i++) {
        uw_plat_time_t now = uw_plat_clock_monotonic();
        if (now < prev) {
            printf("FAILURE: monotonic clock went back from %llu to %llu\n",
                   (unsigned long long)prev, (unsigned long long)now);
            failures++;
            break;
        }
        prev = now;
    }

    uw_plat_time_t start = uw_plat_clock_monotonic();
    uw_plat_handle_set_t ready = 123;
    uw_plat_yield(start + 20000000ull, &ready);   /* 20 ms */
    uw_plat_time_t waited = uw_plat_clock_monotonic() - start;
    if (waited < 20000000ull || waited > 5 * NS) {
        printf("FAILURE: yield(now + 20 ms) returned after %llu ns\n", (unsigned long long)waited);
        failures++;
    }
    if (ready != 0) {
        printf("FAILURE: yield with no devices reported ready set %llx\n", (unsigned long long)ready);
        failures++;
    }
    start = uw_plat_clock_monotonic();
    uw_plat_yield(0, NULL);   /* a deadline in the past only polls */
    if (uw_plat_clock_monotonic() - start > NS / 2) {
        printf("FAILURE: yield with a past deadline waited\n");
        failures++;
    }

    uw_plat_time_t wall = uw_plat_clock_wall();
    long long host = argc > 1 ? strtoll(argv[1], NULL, 10) : 0;
    long long guest_s = (long long)(wall / NS);
    if (guest_s < 1577836800ll) {   /* 2020-01-01 */
        printf("FAILURE: wall clock says %lld s since the epoch\n", guest_s);
        failures++;
    }
    if (host && (guest_s < host - 60 || guest_s > host + 60)) {
        printf("FAILURE: wall clock %lld s, host's %lld s\n", guest_s, host);
        failures++;
    }

    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < guest_s || ts.tv_sec > guest_s + 5
        || time(NULL) < guest_s || clock_gettime(CLOCK_MONOTONIC, &ts) != 0
        || clock_gettime(42, &ts) != -1) {
        printf("FAILURE: libc clock_gettime/time disagree with the platform clocks\n");
        failures++;
    }
    printf("monotonic %llu ns, wall %lld s, host %lld s\n", (unsigned long long)prev, guest_s, host);
    if (failures)
        return 1;
    puts("SUCCESS");
    return 0;
}

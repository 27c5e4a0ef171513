/*
 * The unikernel event backend: the platform's clocks, and waiting in the
 * platform's yield until the next deadline — the runtime's or that of an
 * event source (event_source.h), whichever comes first — or a frame on a
 * network device.  After each yield every source is polled with the
 * devices that became ready (lwIP, registered by platform/lwip/netif.c
 * when the interface comes up, feeds its frames to the stack, whose
 * callbacks wake the tasks of src/net/tcp_lwip.c, and runs its timers).
 * Unikernels have no signals: uw_wait_signal only ends at its deadline or
 * on cancellation.
 */
#include "runtime_internal.h"
#include "uw_platform.h"
#include <uweb/event_source.h>

static struct {
    uw_event_source src[UW_EVENT_SOURCES_MAX];
    bool used[UW_EVENT_SOURCES_MAX];
    int n;                      /* slots in use or used before: [0, n) */
} sources;

int64_t uw_now(void)
{
    return (int64_t)uw_plat_clock_monotonic();
}

int64_t uw_wall_now(void)
{
    return (int64_t)uw_plat_clock_wall();
}

int uw_event_source_add(const uw_event_source *src)
{
    if (!src || !src->poll) return UW_EINVAL;
    for (int i = 0; i < UW_EVENT_SOURCES_MAX; i++) {
        if (sources.used[i]) continue;
        sources.src[i] = *src;
        sources.used[i] = true;
        if (i >= sources.n) sources.n = i + 1;
        return i;
    }
    return UW_ELIMIT;
}

void uw_event_source_remove(int id)
{
    if (id < 0 || id >= UW_EVENT_SOURCES_MAX) return;
    sources.used[id] = false;
    while (sources.n > 0 && !sources.used[sources.n - 1]) sources.n--;
}

int uw__backend_init(void)
{
    return UW_OK;
}

void uw__backend_fini(void)
{
}

bool uw__backend_idle(void)
{
    for (int i = 0; i < sources.n; i++)
        if (sources.used[i] && sources.src[i].active && sources.src[i].active(sources.src[i].arg))
            return false;
    return true;
}

void uw__backend_wait(int64_t deadline)
{
    for (int i = 0; i < sources.n; i++)
        if (sources.used[i] && sources.src[i].flush) sources.src[i].flush(sources.src[i].arg);
    for (int i = 0; i < sources.n; i++) {
        if (!sources.used[i] || !sources.src[i].next_deadline) continue;
        int64_t d = sources.src[i].next_deadline(sources.src[i].arg);
        if (d < deadline) deadline = d;
    }
    if (deadline < 0) deadline = 0;
    uw_plat_handle_set_t ready = 0;
    uw_plat_yield((uw_plat_time_t)deadline, &ready);
    for (int i = 0; i < sources.n; i++)
        if (sources.used[i]) sources.src[i].poll(sources.src[i].arg, ready & sources.src[i].handles);
}

int uw_wait_signal(int64_t deadline)
{
    int r = uw_sleep_until(deadline);
    return r == UW_OK ? UW_ETIMEDOUT : r;
}

void uw_rt_prepare_server(void)
{
}

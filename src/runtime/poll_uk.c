/*
 * The unikernel event backend: the platform's clocks, and waiting in the
 * platform's yield until the next deadline — the runtime's or lwIP's next
 * timer, whichever comes first — or a frame on the service interface.
 * After each yield the frames go to lwIP (whose callbacks wake the tasks
 * of src/net/tcp_lwip.c) and lwIP's due timers run.  Unikernels have no
 * signals: uw_wait_signal only ends at its deadline or on cancellation.
 */
#include "runtime_internal.h"
#include "uw_lwip.h"

int64_t uw_now(void)
{
    return (int64_t)uw_plat_clock_monotonic();
}

int64_t uw_wall_now(void)
{
    return (int64_t)uw_plat_clock_wall();
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
    /* Once the interface is up, a frame may always arrive. */
    return !uw_lwip_started();
}

void uw__backend_wait(int64_t deadline)
{
    int64_t net = uw_lwip_next_deadline();
    if (net < deadline) deadline = net;
    if (deadline < 0) deadline = 0;
    uw_plat_handle_set_t ready = 0;
    uw_plat_yield((uw_plat_time_t)deadline, &ready);
    uw_lwip_poll(ready);
}

int uw_wait_signal(int64_t deadline)
{
    int r = uw_sleep_until(deadline);
    return r == UW_OK ? UW_ETIMEDOUT : r;
}

void uw_rt_prepare_server(void)
{
}

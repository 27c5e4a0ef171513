/*
 * evsource: the runtime's registry of event sources (uweb/event_source.h)
 * without lwIP.  A timer source (a deadline every 5 ms) is polled while a
 * task sleeps 100 ms; once removed it is not polled again; an active
 * source keeps uw_rt_run waiting for a task on a queue with no deadline
 * until its poll wakes that task; the registry refuses a source without
 * poll and the 17th source.  Prints SUCCESS.
 */
#include <stdio.h>
#include <uweb/event_source.h>
#include <uweb/runtime.h>

static int failures;
#define EXPECT(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); failures++; } } while (0)

static int64_t next;
static int polls, ready_seen;
static int64_t timer_deadline(void *a) { (void)a; return next; }
static void timer_poll(void *a, uint64_t ready)
{
    (void)a;
    polls++;
    if (ready) ready_seen++;
    if (uw_now() >= next) next = uw_now() + UW_MS(5);
}

static uw_waitq q = UW_WAITQ_INIT;
static int active_polls;
static bool waiter_done;
static bool always(void *a) { (void)a; return !waiter_done; }
static int64_t soon(void *a) { (void)a; return uw_now() + UW_MS(1); }
static void wake_poll(void *a, uint64_t ready)
{
    (void)a, (void)ready;
    if (++active_polls == 3) uw_wake_one(&q);
}

static void waiter(void *arg)
{
    (void)arg;
    EXPECT(uw_wait(&q, UW_FOREVER) == UW_OK);
    waiter_done = true;
}

static void sleeper(void *arg)
{
    (void)arg;
    next = uw_now() + UW_MS(5);
    int id = uw_event_source_add(&(uw_event_source){ .next_deadline = timer_deadline, .poll = timer_poll });
    EXPECT(id >= 0);
    uw_sleep(UW_MS(100));
    printf("timer source polled %d times in 100 ms\n", polls);
    EXPECT(polls >= 5);          /* without it: one or two yields */
    EXPECT(ready_seen == 0);     /* it has no handles */
    uw_event_source_remove(id);
    int before = polls;
    uw_sleep(UW_MS(30));
    EXPECT(polls == before);
}

int main(void)
{
    EXPECT(uw_event_source_add(&(uw_event_source){ 0 }) == UW_EINVAL);
    EXPECT(uw_rt_init() == UW_OK);
    uw_detach(uw_spawn(sleeper, NULL, 0));
    uw_rt_run();

    /* An active source keeps the runtime waiting for the queue's waiter. */
    int id = uw_event_source_add(&(uw_event_source){ .next_deadline = soon, .poll = wake_poll,
                                                     .active = always });
    EXPECT(id >= 0);
    uw_detach(uw_spawn(waiter, NULL, 0));
    uw_rt_run();
    EXPECT(waiter_done);
    EXPECT(active_polls >= 3);
    uw_event_source_remove(id);

    /* Limits. */
    int ids[UW_EVENT_SOURCES_MAX];
    for (int i = 0; i < UW_EVENT_SOURCES_MAX; i++) {
        ids[i] = uw_event_source_add(&(uw_event_source){ .poll = wake_poll });
        EXPECT(ids[i] >= 0);
    }
    EXPECT(uw_event_source_add(&(uw_event_source){ .poll = wake_poll }) == UW_ELIMIT);
    for (int i = 0; i < UW_EVENT_SOURCES_MAX; i++) uw_event_source_remove(ids[i]);
    uw_event_source_remove(-1);
    uw_event_source_remove(99);
    uw_rt_fini();
    if (failures) return 1;
    puts("SUCCESS");
    return 0;
}

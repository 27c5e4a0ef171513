/*
 * event_source.h — the unikernel runtime's registry of event sources
 * (spt and hvt only; on unix the runtime waits on file descriptors, see
 * io_unix.h).
 *
 * The guest has one place where it waits: the platform's yield, until a
 * deadline or a frame on a network device.  Everything that produces
 * events — the lwIP network stack (platform/lwip/netif.c), any later
 * device driver — registers here: the runtime then yields until the
 * earliest of its own timers and every source's next deadline, and after
 * each yield calls every source's poll with the devices that became
 * ready.  A poll runs in the scheduler, outside any task: it may wake
 * tasks (uw_wake & co., through the callbacks it runs), never wait.
 *
 * Single-threaded, like the runtime.  Sources are kept in registration
 * order and polled in that order.
 */
#ifndef UWEB_EVENT_SOURCE_H
#define UWEB_EVENT_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct uw_event_source {
    /* The platform handles whose readiness this source consumes (bit N:
     * handle N, as in uw_plat_yield's ready set); 0 for timers only. */
    uint64_t handles;
    /* The monotonic time (ns) by which poll must run even if none of
     * its handles becomes ready (its next timer); INT64_MAX for none.
     * NULL: none. */
    int64_t (*next_deadline)(void *arg);
    /* Called after every yield with READY, the subset of HANDLES that
     * is ready (possibly 0: a deadline passed).  Required. */
    void (*poll)(void *arg, uint64_t ready);
    /* True while events may come without a deadline (a frame may
     * arrive): uw_rt_run then keeps waiting when no task has a timer.
     * NULL: never. */
    bool (*active)(void *arg);
    void *arg;
    /* Called before every yield: sends what the source holds back to
     * batch it (frames gathered into one).  NULL: nothing. */
    void (*flush)(void *arg);
} uw_event_source;

/* At most this many sources at once. */
#define UW_EVENT_SOURCES_MAX 16

/* Registers a copy of *SRC.  Returns its id (>= 0), or UW_EINVAL (no
 * poll function) or UW_ELIMIT (UW_EVENT_SOURCES_MAX registered). */
int uw_event_source_add(const uw_event_source *src);

/* Unregisters source ID; it is not polled again (safe from its own
 * poll).  An unknown id does nothing. */
void uw_event_source_remove(int id);

#endif

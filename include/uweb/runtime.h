/*
 * runtime.h — one OS thread, many tasks.
 *
 * A task is a stackful coroutine with its own stack (guard page below it on
 * unix).  Calls that wait — uw_sleep_until, uw_wait, uw_queue_put/get, and
 * the network calls of net.h — suspend the calling task only; the scheduler
 * then runs other ready tasks, and when none is ready it waits in the event
 * backend (epoll on unix, the platform's yield on unikernels) until the next
 * timer deadline or I/O readiness.
 *
 * Calling pattern:
 *
 *     uw_rt_init();
 *     uw_spawn(main_task, arg, 0);
 *     uw_rt_run();            // returns when every task has ended or uw_rt_stop()
 *
 * Time is monotonic nanoseconds (uw_now()).  Every wait takes an absolute
 * deadline; UW_FOREVER waits without one.  A wait ends with UW_OK, or
 * UW_ETIMEDOUT at the deadline, or UW_ECANCELED when the task was canceled;
 * once canceled, every later wait of that task returns UW_ECANCELED at once,
 * so a canceled task unwinds through its ordinary error paths.
 *
 * Memory: tasks and their stacks are allocated by uw_spawn and freed when
 * the task has ended and has been joined (or was detached).  Queues and wait
 * queues live in memory the caller owns.
 */
#ifndef UWEB_RUNTIME_H
#define UWEB_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Status values shared by every module that waits. */
typedef enum uw_status {
    UW_OK = 0,
    UW_ETIMEDOUT = -1,   /* the deadline passed */
    UW_ECANCELED = -2,   /* the waiting task was canceled */
    UW_ECLOSED = -3,     /* queue closed and drained, or peer closed */
    UW_ENOMEM = -4,      /* an allocation failed */
    UW_EIO = -5,         /* an I/O error from the host or the device */
    UW_EINVAL = -6,      /* invalid argument */
    UW_ELIMIT = -7,      /* a configured limit was exceeded */
    UW_EPROTO = -8,      /* the peer broke the protocol */
} uw_status;

/* A human-readable name for a status ("timed out", ...). */
const char *uw_strerror(int status);

#define UW_FOREVER INT64_MAX
#define UW_MS(n) ((int64_t)(n) * 1000000)
#define UW_SEC(n) ((int64_t)(n) * 1000000000)

typedef struct uw_task uw_task;
typedef void (*uw_task_fn)(void *arg);

/* Initializes the runtime of this thread.  Returns UW_OK or UW_ENOMEM/UW_EIO. */
int uw_rt_init(void);

/* Runs tasks until all have ended or uw_rt_stop() was called. */
void uw_rt_run(void);

/* Makes uw_rt_run return after the current scheduling round. */
void uw_rt_stop(void);

/* Releases the runtime (after uw_rt_run returned).  Tasks still alive are
 * abandoned with their memory freed. */
void uw_rt_fini(void);

/* Default stack size when 0 is passed to uw_spawn. */
#define UW_STACK_DEFAULT (64 * 1024)

/* Creates a task running fn(arg); it first runs when the caller next waits
 * or yields.  stack_size 0 means UW_STACK_DEFAULT.  NULL when out of memory.
 * The task must be joined with uw_join or released with uw_detach. */
uw_task *uw_spawn(uw_task_fn fn, void *arg, size_t stack_size);

/* Lets a task free itself when it ends; the handle is invalid afterwards. */
void uw_detach(uw_task *t);

/* Waits until t has ended and frees it.  Returns UW_OK, or UW_ECANCELED if
 * the caller itself was canceled (t is then detached instead). */
int uw_join(uw_task *t);

/* Cancels t: its current wait (if any) and every later wait return
 * UW_ECANCELED.  Canceling an ended task does nothing. */
void uw_cancel(uw_task *t);

/* The running task; NULL outside tasks. */
uw_task *uw_current(void);

/* True once the running task has been canceled. */
bool uw_canceled(void);

/* Lets other ready tasks run; the caller runs again in the same round. */
void uw_yield(void);

/* Monotonic time in nanoseconds. */
int64_t uw_now(void);

/* Wall-clock time in nanoseconds since the Unix epoch. */
int64_t uw_wall_now(void);

/* Suspends the caller until the deadline.  UW_OK or UW_ECANCELED. */
int uw_sleep_until(int64_t deadline);
int uw_sleep(int64_t ns);

/* Waits for a request to stop: SIGINT or SIGTERM on unix (handlers are
 * installed on first use; once seen, every later call returns it at
 * once), or to reload: SIGHUP, UW_SIGNAL_RELOAD (returned once per
 * delivery); never on targets without signals.  Returns the signal
 * number, or a negative status (UW_ETIMEDOUT, UW_ECANCELED). */
#define UW_SIGNAL_RELOAD 1
int uw_wait_signal(int64_t deadline);

/* Prepares the host for a server: on unix, raises the descriptor limit to
 * its maximum and ignores SIGPIPE (a peer gone away is an error value);
 * nothing on the unikernels. */
void uw_rt_prepare_server(void);

/* Number of tasks alive (spawned and not yet ended). */
size_t uw_task_count(void);

/*
 * Wait queues: the primitive every blocking call is built on.  A task waits
 * on a queue until another task (or an I/O callback) wakes it.
 */
typedef struct uw_waiter uw_waiter;
typedef struct uw_waitq {
    uw_waiter *head, *tail;
} uw_waitq;

#define UW_WAITQ_INIT { 0, 0 }

/* Suspends the caller on q until woken (UW_OK), the deadline (UW_ETIMEDOUT)
 * or cancellation (UW_ECANCELED). */
int uw_wait(uw_waitq *q, int64_t deadline);

/* Wakes the oldest waiter of q; returns false if there was none. */
bool uw_wake_one(uw_waitq *q);

/* Wakes every waiter of q. */
void uw_wake_all(uw_waitq *q);

static inline bool uw_waitq_empty(const uw_waitq *q) { return q->head == 0; }

/*
 * Bounded queue of fixed-size items between tasks: put suspends while the
 * queue is full, get suspends while it is empty.  After uw_queue_close, put
 * fails with UW_ECLOSED and get drains what is left, then returns UW_ECLOSED.
 */
typedef struct uw_queue {
    unsigned char *items;
    size_t item_size, capacity, head, count;
    bool closed;
    uw_waitq readers, writers;
} uw_queue;

/* storage must hold capacity * item_size bytes and outlive the queue. */
void uw_queue_init(uw_queue *q, void *storage, size_t item_size, size_t capacity);
int uw_queue_put(uw_queue *q, const void *item, int64_t deadline);
int uw_queue_get(uw_queue *q, void *item, int64_t deadline);
void uw_queue_close(uw_queue *q);
static inline size_t uw_queue_len(const uw_queue *q) { return q->count; }

#endif

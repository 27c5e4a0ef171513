/*
 * runtime_internal.h — what the scheduler, the context switch and the
 * event backends share.  Not for users of the runtime.
 */
#ifndef UWEB_RUNTIME_INTERNAL_H
#define UWEB_RUNTIME_INTERNAL_H

#include <uweb/runtime.h>

/* Saved context of a task: the stack pointer; callee-saved registers are
 * on the stack (see coro_x86_64.c). */
typedef struct uw_ctx {
    void *sp;
} uw_ctx;

/* Saves the running context into from and resumes to. */
void uw_ctx_switch(uw_ctx *from, uw_ctx *to);

/* Prepares ctx to start in uw__task_start() on the stack [base, base+size). */
void uw_ctx_make(uw_ctx *ctx, void *base, size_t size);

/* First C function of every task (called by the arch trampoline). */
void uw__task_start(void);

/* Makes a waiting task ready with the given wait result (scheduler use and
 * backends). */
void uw__task_ready(uw_task *t, int status);

/* Event backend, one per target (poll_epoll.c on unix).  wait() blocks until
 * I/O readiness or the deadline (UW_FOREVER: none; <= now: just poll), and
 * wakes the tasks whose I/O became ready. */
int uw__backend_init(void);
void uw__backend_fini(void);
void uw__backend_wait(int64_t deadline);
/* True when the backend has nothing that could ever wake a task. */
bool uw__backend_idle(void);

#endif

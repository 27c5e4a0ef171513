/*
 * The scheduler: tasks, the run queue, timers (a binary min-heap of
 * deadlines), wait queues and cancellation.  Target-specific parts live in
 * stack_unix.c (stacks) and the event backend (poll_unix.c).
 */
#include "runtime_internal.h"
#include "stack.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#if defined(__SANITIZE_ADDRESS__)
#define UW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UW_ASAN 1
#endif
#endif
#ifdef UW_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#endif

enum task_state { T_READY, T_RUNNING, T_WAITING, T_DONE };

struct uw_waiter {
    uw_task *task;
    uw_waiter *next, *prev;
    uw_waitq *q;
};

struct uw_task {
    uw_ctx ctx;
    enum task_state state;
    bool canceled, detached;
    int wake_status;
    uw_task_fn fn;
    void *arg;
    uw_stack stack;
    uw_task *next_ready;
    uw_waiter *waiter;          /* while waiting on a queue */
    int64_t deadline;           /* while in the timer heap */
    size_t heap_index;          /* SIZE_MAX when not in the heap */
    uw_waitq joiners;
};

static struct {
    bool initialized, stop;
    uw_ctx main_ctx;
    uw_task *current;
    uw_task *ready_head, *ready_tail;
    uw_task **heap;
    size_t heap_len, heap_cap;
    size_t alive;
    uw_task *zombies;           /* ended detached tasks, freed by the loop */
#ifdef UW_ASAN
    void *main_fake_stack;
    const void *main_stack_bottom;
    size_t main_stack_size;
#endif
} rt;

const char *uw_strerror(int status)
{
    switch (status) {
    case UW_OK: return "ok";
    case UW_ETIMEDOUT: return "timed out";
    case UW_ECANCELED: return "canceled";
    case UW_ECLOSED: return "closed";
    case UW_ENOMEM: return "out of memory";
    case UW_EIO: return "input/output error";
    case UW_EINVAL: return "invalid argument";
    case UW_ELIMIT: return "limit exceeded";
    case UW_EPROTO: return "protocol error";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------ timers */

static void heap_swap(size_t a, size_t b)
{
    uw_task *t = rt.heap[a];
    rt.heap[a] = rt.heap[b];
    rt.heap[b] = t;
    rt.heap[a]->heap_index = a;
    rt.heap[b]->heap_index = b;
}

static void heap_up(size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (rt.heap[p]->deadline <= rt.heap[i]->deadline) break;
        heap_swap(i, p);
        i = p;
    }
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < rt.heap_len && rt.heap[l]->deadline < rt.heap[m]->deadline) m = l;
        if (r < rt.heap_len && rt.heap[r]->deadline < rt.heap[m]->deadline) m = r;
        if (m == i) break;
        heap_swap(i, m);
        i = m;
    }
}

static int timer_add(uw_task *t, int64_t deadline)
{
    if (rt.heap_len == rt.heap_cap) {
        size_t cap = rt.heap_cap ? rt.heap_cap * 2 : 64;
        uw_task **h = realloc(rt.heap, cap * sizeof *h);
        if (!h) return UW_ENOMEM;
        rt.heap = h;
        rt.heap_cap = cap;
    }
    t->deadline = deadline;
    t->heap_index = rt.heap_len;
    rt.heap[rt.heap_len++] = t;
    heap_up(t->heap_index);
    return UW_OK;
}

static void timer_remove(uw_task *t)
{
    size_t i = t->heap_index;
    if (i == SIZE_MAX) return;
    t->heap_index = SIZE_MAX;
    rt.heap_len--;
    if (i == rt.heap_len) return;
    rt.heap[i] = rt.heap[rt.heap_len];
    rt.heap[i]->heap_index = i;
    heap_down(i);
    heap_up(i);
}

/* ------------------------------------------------------------ run queue */

static void ready_push(uw_task *t)
{
    t->state = T_READY;
    t->next_ready = NULL;
    if (rt.ready_tail) rt.ready_tail->next_ready = t;
    else rt.ready_head = t;
    rt.ready_tail = t;
}

static void waiter_unlink(uw_waiter *w)
{
    uw_waitq *q = w->q;
    if (!q) return;
    if (w->prev) w->prev->next = w->next; else q->head = w->next;
    if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
    w->q = NULL;
}

void uw__task_ready(uw_task *t, int status)
{
    if (t->state != T_WAITING) return;
    if (t->waiter) {
        waiter_unlink(t->waiter);
        t->waiter = NULL;
    }
    timer_remove(t);
    t->wake_status = status;
    ready_push(t);
}

/* ------------------------------------------------------------ switching */

static void switch_to(uw_task *t)
{
    rt.current = t;
    t->state = T_RUNNING;
#ifdef UW_ASAN
    __sanitizer_start_switch_fiber(&rt.main_fake_stack, t->stack.base, t->stack.size);
#endif
    uw_ctx_switch(&rt.main_ctx, &t->ctx);
#ifdef UW_ASAN
    __sanitizer_finish_switch_fiber(rt.main_fake_stack, NULL, NULL);
#endif
    rt.current = NULL;
}

/* Called on a task's stack: back to the scheduler loop. */
static void suspend(void)
{
    uw_task *t = rt.current;
#ifdef UW_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(t->state == T_DONE ? NULL : &fake,
                                   rt.main_stack_bottom, rt.main_stack_size);
#endif
    uw_ctx_switch(&t->ctx, &rt.main_ctx);
#ifdef UW_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

void uw__task_start(void)
{
    uw_task *t = rt.current;
#ifdef UW_ASAN
    __sanitizer_finish_switch_fiber(NULL, &rt.main_stack_bottom, &rt.main_stack_size);
#endif
    t->fn(t->arg);
    t->state = T_DONE;
    rt.alive--;
    uw_wake_all(&t->joiners);
    if (t->detached) {
        t->next_ready = rt.zombies;
        rt.zombies = t;
    }
    suspend();
    abort(); /* a finished task is never resumed */
}

static void task_free(uw_task *t)
{
    uw_stack_free(&t->stack);
    free(t);
}

/* ------------------------------------------------------------ public */

int uw_rt_init(void)
{
    if (rt.initialized) return UW_OK;
    memset(&rt, 0, sizeof rt);
    int r = uw__backend_init();
    if (r != UW_OK) return r;
    rt.initialized = true;
    return UW_OK;
}

void uw_rt_stop(void) { rt.stop = true; }

static void reap_zombies(void)
{
    while (rt.zombies) {
        uw_task *z = rt.zombies;
        rt.zombies = z->next_ready;
        task_free(z);
    }
}

void uw_rt_run(void)
{
    rt.stop = false;
    while (!rt.stop && rt.alive > 0) {
        /* Run every task ready now; tasks made ready meanwhile wait for the
         * next round so I/O is polled between rounds. */
        uw_task *last = rt.ready_tail;
        while (rt.ready_head) {
            uw_task *t = rt.ready_head;
            rt.ready_head = t->next_ready;
            if (!rt.ready_head) rt.ready_tail = NULL;
            switch_to(t);
            if (t == last) break;
        }
        reap_zombies();
        if (rt.stop || rt.alive == 0) break;

        int64_t now = uw_now();
        while (rt.heap_len && rt.heap[0]->deadline <= now)
            uw__task_ready(rt.heap[0], UW_ETIMEDOUT);
        if (rt.ready_head) {
            uw__backend_wait(0);         /* poll without sleeping */
            continue;
        }
        if (!rt.heap_len && uw__backend_idle()) {
            fprintf(stderr, "uweb: %zu task(s) wait for something that can never happen\n", rt.alive);
            break;
        }
        uw__backend_wait(rt.heap_len ? rt.heap[0]->deadline : UW_FOREVER);
    }
    reap_zombies();
}

void uw_rt_fini(void)
{
    reap_zombies();
    free(rt.heap);
    rt.heap = NULL;
    rt.heap_len = rt.heap_cap = 0;
    uw_stack_cache_drain();
    uw__backend_fini();
    rt.initialized = false;
}

uw_task *uw_spawn(uw_task_fn fn, void *arg, size_t stack_size)
{
    uw_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (uw_stack_alloc(&t->stack, stack_size ? stack_size : UW_STACK_DEFAULT) != 0) {
        free(t);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->heap_index = SIZE_MAX;
    uw_ctx_make(&t->ctx, t->stack.base, t->stack.size);
    rt.alive++;
    ready_push(t);
    return t;
}

void uw_detach(uw_task *t)
{
    if (t->state == T_DONE) {
        if (t == rt.current) { t->detached = true; return; }
        task_free(t);
        return;
    }
    t->detached = true;
}

int uw_join(uw_task *t)
{
    while (t->state != T_DONE) {
        int r = uw_wait(&t->joiners, UW_FOREVER);
        if (r == UW_ECANCELED) {
            uw_detach(t);
            return r;
        }
    }
    task_free(t);
    return UW_OK;
}

void uw_cancel(uw_task *t)
{
    if (t->state == T_DONE || t->canceled) return;
    t->canceled = true;
    if (t->state == T_WAITING) uw__task_ready(t, UW_ECANCELED);
}

uw_task *uw_current(void) { return rt.current; }
bool uw_canceled(void) { return rt.current && rt.current->canceled; }
size_t uw_task_count(void) { return rt.alive; }

/* Suspends the running task as WAITING on q (may be NULL) until woken,
 * the deadline or cancellation. */
static int block(uw_waitq *q, int64_t deadline)
{
    uw_task *t = rt.current;
    if (!t) return UW_EINVAL;
    if (t->canceled) return UW_ECANCELED;
    uw_waiter w = { .task = t };
    if (q) {
        w.q = q;
        w.prev = q->tail;
        if (q->tail) q->tail->next = &w; else q->head = &w;
        q->tail = &w;
        t->waiter = &w;
    }
    if (deadline != UW_FOREVER && timer_add(t, deadline) != UW_OK) {
        if (q) waiter_unlink(&w);
        t->waiter = NULL;
        return UW_ENOMEM;
    }
    t->state = T_WAITING;
    suspend();
    return t->wake_status;
}

void uw_yield(void)
{
    uw_task *t = rt.current;
    if (!t) return;
    ready_push(t);
    suspend();
}

int uw_wait(uw_waitq *q, int64_t deadline)
{
    if (deadline != UW_FOREVER && deadline <= uw_now()) return UW_ETIMEDOUT;
    return block(q, deadline);
}

bool uw_wake_one(uw_waitq *q)
{
    uw_waiter *w = q->head;
    if (!w) return false;
    uw__task_ready(w->task, UW_OK);
    return true;
}

void uw_wake_all(uw_waitq *q)
{
    while (uw_wake_one(q)) {}
}

int uw_sleep_until(int64_t deadline)
{
    if (rt.current && rt.current->canceled) return UW_ECANCELED;
    int r = block(NULL, deadline);
    return r == UW_ETIMEDOUT ? UW_OK : r;
}

int uw_sleep(int64_t ns) { return uw_sleep_until(uw_now() + ns); }

/* ------------------------------------------------------------ queues */

void uw_queue_init(uw_queue *q, void *storage, size_t item_size, size_t capacity)
{
    memset(q, 0, sizeof *q);
    q->items = storage;
    q->item_size = item_size;
    q->capacity = capacity;
}

int uw_queue_put(uw_queue *q, const void *item, int64_t deadline)
{
    while (!q->closed && q->count == q->capacity) {
        int r = uw_wait(&q->writers, deadline);
        if (r != UW_OK) return r;
    }
    if (q->closed) return UW_ECLOSED;
    size_t slot = (q->head + q->count) % q->capacity;
    memcpy(q->items + slot * q->item_size, item, q->item_size);
    q->count++;
    uw_wake_one(&q->readers);
    return UW_OK;
}

int uw_queue_get(uw_queue *q, void *item, int64_t deadline)
{
    while (q->count == 0) {
        if (q->closed) return UW_ECLOSED;
        int r = uw_wait(&q->readers, deadline);
        if (r != UW_OK) return r;
    }
    memcpy(item, q->items + q->head * q->item_size, q->item_size);
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    uw_wake_one(&q->writers);
    return UW_OK;
}

void uw_queue_close(uw_queue *q)
{
    q->closed = true;
    uw_wake_all(&q->readers);
    uw_wake_all(&q->writers);
}

/* Scheduler, timers, cancellation and bounded queues. */
#include "../check.h"
#include <uweb/runtime.h>
#include <stdlib.h>

static char order[64];
static int order_len;
static void note(char c) { if (order_len < 63) order[order_len++] = c; order[order_len] = 0; }

static void task_a(void *arg) { note(*(char *)arg); uw_yield(); note((char)(*(char *)arg + 1)); }

static void test_spawn_join_order(void)
{
    order_len = 0;
    uw_rt_init();
    static char a = 'a', c = 'c';
    uw_task *t1 = uw_spawn(task_a, &a, 0), *t2 = uw_spawn(task_a, &c, 0);
    CHECK(t1 && t2);
    uw_detach(t1); uw_detach(t2);
    uw_rt_run();
    CHECK_EQ_STR(order, "acbd");
    CHECK_EQ_INT(uw_task_count(), 0);
}

static int counter;
static void inc_task(void *arg) { (void)arg; uw_yield(); counter++; }

static void joiner(void *arg)
{
    int n = *(int *)arg;
    uw_task **ts = malloc(sizeof *ts * (size_t)n);
    for (int i = 0; i < n; i++) ts[i] = uw_spawn(inc_task, NULL, 16384);
    for (int i = 0; i < n; i++) CHECK_EQ_INT(uw_join(ts[i]), UW_OK);
    free(ts);
}

static void test_many_tasks(void)
{
    static int n = 10000;
    counter = 0;
    uw_detach(uw_spawn(joiner, &n, 0));
    uw_rt_run();
    CHECK_EQ_INT(counter, 10000);
}

static void sleeper(void *arg)
{
    int ms = *(int *)arg;
    int64_t t0 = uw_now();
    CHECK_EQ_INT(uw_sleep(UW_MS(ms)), UW_OK);
    CHECK(uw_now() - t0 >= UW_MS(ms));
    note((char)('0' + ms / 10));
}

static void test_timers_fire_in_deadline_order(void)
{
    order_len = 0;
    static int d[] = { 30, 10, 20, 0 };
    for (int i = 0; i < 4; i++) uw_detach(uw_spawn(sleeper, &d[i], 0));
    uw_rt_run();
    CHECK_EQ_STR(order, "0123");
}

static int cancel_result;
static void long_sleeper(void *arg) { (void)arg; cancel_result = uw_sleep(UW_SEC(100)); cancel_result = cancel_result * 10 + uw_sleep(UW_SEC(1)); }
static void canceller(void *arg)
{
    uw_task *t = arg;
    uw_sleep(UW_MS(5));
    uw_cancel(t);
    int64_t t0 = uw_now();
    CHECK_EQ_INT(uw_join(t), UW_OK);
    CHECK(uw_now() - t0 < UW_MS(100));
}

static void test_cancel_wakes_sleeper_and_later_waits(void)
{
    uw_task *s = uw_spawn(long_sleeper, NULL, 0);
    uw_detach(uw_spawn(canceller, s, 0));
    uw_rt_run();
    CHECK_EQ_INT(cancel_result, UW_ECANCELED * 10 + UW_ECANCELED);
}

static uw_queue q;
static int qstore[4];
static int got[32], ngot;
static int put_status_after_close;

static void producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(uw_queue_put(&q, &i, UW_FOREVER), UW_OK);
    CHECK(uw_queue_len(&q) <= 4);
    uw_queue_close(&q);
    int x = 99;
    put_status_after_close = uw_queue_put(&q, &x, UW_FOREVER);
}

static void consumer(void *arg)
{
    (void)arg;
    int v, r;
    uw_sleep(UW_MS(2)); /* let the producer fill the queue and block */
    while ((r = uw_queue_get(&q, &v, UW_FOREVER)) == UW_OK) got[ngot++] = v;
    CHECK_EQ_INT(r, UW_ECLOSED);
}

static void test_queue_bounded_fifo_close(void)
{
    uw_queue_init(&q, qstore, sizeof(int), 4);
    ngot = 0;
    uw_detach(uw_spawn(producer, NULL, 0));
    uw_detach(uw_spawn(consumer, NULL, 0));
    uw_rt_run();
    CHECK_EQ_INT(ngot, 10);
    for (int i = 0; i < ngot; i++) CHECK_EQ_INT(got[i], i);
    CHECK_EQ_INT(put_status_after_close, UW_ECLOSED);
}

static int timed_get_status, canceled_get_status;
static void timed_getter(void *arg)
{
    (void)arg;
    int v;
    int64_t t0 = uw_now();
    timed_get_status = uw_queue_get(&q, &v, uw_now() + UW_MS(20));
    CHECK(uw_now() - t0 >= UW_MS(20));
}
static void blocked_getter(void *arg) { (void)arg; int v; canceled_get_status = uw_queue_get(&q, &v, UW_FOREVER); }
static void cancel_getter(void *arg) { uw_sleep(UW_MS(1)); uw_cancel(arg); }

static void test_queue_timeout_and_cancel(void)
{
    uw_queue_init(&q, qstore, sizeof(int), 4);
    uw_detach(uw_spawn(timed_getter, NULL, 0));
    uw_task *g = uw_spawn(blocked_getter, NULL, 0);
    uw_detach(g);
    uw_detach(uw_spawn(cancel_getter, g, 0));
    uw_rt_run();
    CHECK_EQ_INT(timed_get_status, UW_ETIMEDOUT);
    CHECK_EQ_INT(canceled_get_status, UW_ECANCELED);
    CHECK_EQ_INT(uw_task_count(), 0);
}

static void deadlocked(void *arg) { (void)arg; uw_waitq wq = UW_WAITQ_INIT; uw_wait(&wq, UW_FOREVER); }

static void test_run_returns_on_deadlock(void)
{
    uw_task *t = uw_spawn(deadlocked, NULL, 0);
    uw_rt_run();   /* must return: nothing can wake the task */
    CHECK_EQ_INT(uw_task_count(), 1);
    uw_cancel(t);
    uw_detach(t);
    uw_rt_run();
    CHECK_EQ_INT(uw_task_count(), 0);
}

int main(void)
{
    RUN(test_spawn_join_order);
    RUN(test_many_tasks);
    RUN(test_timers_fire_in_deadline_order);
    RUN(test_cancel_wakes_sleeper_and_later_waits);
    RUN(test_queue_bounded_fifo_close);
    RUN(test_queue_timeout_and_cancel);
    RUN(test_run_returns_on_deadlock);
    uw_rt_fini();
    return CHECK_DONE();
}

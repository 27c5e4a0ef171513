/* Byte pipes between tasks: order, backpressure, end, errors, reader gone. */
#include "../check.h"
#include <uweb/stream.h>
#include <stdlib.h>

static uw_pipe p;
static unsigned char storage[64];
static size_t max_len_seen;
static int write_status;

static void writer(void *arg)
{
    size_t total = *(size_t *)arg;
    unsigned char buf[37];
    size_t sent = 0;
    while (sent < total) {
        size_t n = total - sent < sizeof buf ? total - sent : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)((sent + i) * 7);
        write_status = uw_pipe_write(&p, buf, n, UW_FOREVER);
        if (write_status != UW_OK) return;
        if (p.len > max_len_seen) max_len_seen = p.len;
        sent += n;
    }
    uw_pipe_close_write(&p, 0);
}

static size_t received;
static bool in_order;
static ssize_t last;
static void reader(void *arg)
{
    (void)arg;
    unsigned char buf[23];
    ssize_t n;
    in_order = true;
    while ((n = uw_pipe_read(&p, buf, sizeof buf, UW_FOREVER)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((received + (size_t)i) * 7)) in_order = false;
        received += (size_t)n;
        uw_yield();
    }
    last = n;
}

static void test_bytes_in_order_with_bounded_memory(void)
{
    static size_t total = 100000;
    uw_pipe_init(&p, storage, sizeof storage);
    received = 0;
    uw_detach(uw_spawn(writer, &total, 0));
    uw_detach(uw_spawn(reader, NULL, 0));
    uw_rt_run();
    CHECK_EQ_INT(received, total);
    CHECK(in_order);
    CHECK_EQ_INT(last, 0);
    CHECK(max_len_seen <= sizeof storage);
}

static void failing_writer(void *arg)
{
    (void)arg;
    uw_pipe_write(&p, "abc", 3, UW_FOREVER);
    uw_pipe_close_write(&p, UW_EPROTO);
}

static void test_producer_error_reaches_reader(void)
{
    uw_pipe_init(&p, storage, sizeof storage);
    received = 0;
    uw_detach(uw_spawn(failing_writer, NULL, 0));
    uw_detach(uw_spawn(reader, NULL, 0));
    uw_rt_run();
    CHECK_EQ_INT(received, 3);
    CHECK_EQ_INT(last, UW_EPROTO);
}

static void quitting_reader(void *arg)
{
    (void)arg;
    char b[10];
    uw_pipe_read(&p, b, sizeof b, UW_FOREVER);
    uw_pipe_close_read(&p);
}

static void test_reader_gone_stops_writer(void)
{
    static size_t total = 1000000;
    uw_pipe_init(&p, storage, sizeof storage);
    write_status = UW_OK;
    uw_detach(uw_spawn(writer, &total, 0));
    uw_detach(uw_spawn(quitting_reader, NULL, 0));
    uw_rt_run();
    CHECK_EQ_INT(write_status, UW_ECLOSED);
}

static int timed_status;
static void timed_reader(void *arg) { (void)arg; char b[4]; timed_status = (int)uw_pipe_read(&p, b, 4, uw_now() + UW_MS(10)); }

static void test_read_deadline(void)
{
    uw_pipe_init(&p, storage, sizeof storage);
    uw_detach(uw_spawn(timed_reader, NULL, 0));
    uw_rt_run();
    CHECK_EQ_INT(timed_status, UW_ETIMEDOUT);
}

int main(void)
{
    uw_rt_init();
    RUN(test_bytes_in_order_with_bounded_memory);
    RUN(test_producer_error_reaches_reader);
    RUN(test_reader_gone_stops_writer);
    RUN(test_read_deadline);
    uw_rt_fini();
    return CHECK_DONE();
}

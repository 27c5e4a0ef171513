/*
 * exchange.h — one request through an app over a socketpair, for the
 * framework's unit tests: ex_run(&app, raw_request) returns every byte
 * the server answered (the connection is half-closed after the request).
 * The runtime must be initialized (uw_rt_init) first.
 */
#ifndef UWEB_TEST_EXCHANGE_H
#define UWEB_TEST_EXCHANGE_H

#include <uweb/web.h>
#include <uweb/net.h>
#include <uweb/io_unix.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int ex_sv[2];
static const uw_app *ex_app;
static const char *ex_in;
static size_t ex_in_len;
static char ex_out[1 << 20];
static size_t ex_got;
static uw_http_config ex_cfg;   /* not on a task's stack (ASan and coroutines) */

static void ex_server(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, ex_sv[0]) == UW_OK) uw_app_serve_conn(ex_app, &ex_cfg, c);
}

static void ex_client(void *arg)
{
    (void)arg;
    uw_conn *c;
    if (uw_conn_from_fd(&c, ex_sv[1]) != UW_OK) return;
    uw_slice s = { ex_in, ex_in_len };
    uw_conn_writev(c, &s, 1, UW_FOREVER);
    uw_conn_shutdown_write(c);
    ssize_t n;
    while ((n = uw_conn_read(c, ex_out + ex_got, sizeof ex_out - ex_got - 1, uw_now() + UW_SEC(5))) > 0)
        ex_got += (size_t)n;
    ex_out[ex_got] = 0;
    uw_conn_close(c, false);
}

static inline const char *ex_run_n(const uw_app *app, const char *request, size_t len)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ex_sv) != 0) abort();
    ex_app = app;
    uw_http_config_default(&ex_cfg);
    ex_cfg.log = NULL;
    ex_in = request;
    ex_in_len = len;
    ex_got = 0;
    ex_out[0] = 0;
    uw_task *s = uw_spawn(ex_server, NULL, 0), *c = uw_spawn(ex_client, NULL, 0);
    uw_detach(s);
    uw_detach(c);
    uw_rt_run();
    return ex_out;
}

static inline const char *ex_run(const uw_app *app, const char *request)
{
    return ex_run_n(app, request, strlen(request));
}

/* The body after the head of the answer. */
static inline const char *ex_body(const char *answer)
{
    const char *b = strstr(answer, "\r\n\r\n");
    return b ? b + 4 : "";
}

#endif

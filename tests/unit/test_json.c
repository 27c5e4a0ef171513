/* JSON bodies and responses (json.h): the depth check, and requests
 * through an app: good JSON, bad JSON with line and column, too deep,
 * too big, the wrong type. */
#include "../check.h"
#include "exchange.h"
#include <uweb/json.h>

static void echo(uw_req *req, uw_res *res)
{
    json_t *j;
    uw_json_limits lim = { .max_bytes = 4096, .max_depth = 4 };
    if (uw_req_json(req, &lim, &j) != UW_OK) return;
    uw_res_json_new(res, 200, json_pack("{s:o,s:s}", "got", j, "ok", "yes"));
}
static const uw_route routes[] = { { UW_POST, "/echo", echo } };
static const uw_app app = { UW_ROUTES(routes) };

static const char *post(const char *ct, const char *body)
{
    static char req[8192];
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: x\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
             ct ? "Content-Type: " : "", ct ? ct : "", ct ? "\r\n" : "", strlen(body), body);
    return ex_run(&app, req);
}

static void test_depth_check(void)
{
    int l = 0, c = 0;
    CHECK_EQ_INT(uw_json_depth_check("[[[]]]", 6, 3, &l, &c), 0);
    CHECK_EQ_INT(uw_json_depth_check("[[[[]]]]", 8, 3, &l, &c), -1);
    CHECK_EQ_INT(l, 1);
    CHECK_EQ_INT(c, 4);
    CHECK_EQ_INT(uw_json_depth_check("{\"a\":\n  [\"[[[[[\\\"[[[\"]}", 24, 2, &l, &c), 0);
    CHECK_EQ_INT(uw_json_depth_check("{\"a\":\n  [[1]]}", 14, 2, &l, &c), -1);
    CHECK_EQ_INT(l, 2);
    CHECK_EQ_INT(c, 4);
}

static void test_good_json(void)
{
    const char *a = post("application/json; charset=utf-8", "{\"name\": \"caf\\u00e9\", \"n\": [1, 2]}");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(a, "Content-Type: application/json\r\n") != NULL);
    CHECK_EQ_STR(ex_body(a), "{\"got\":{\"name\":\"caf\xc3\xa9\",\"n\":[1,2]},\"ok\":\"yes\"}\n");
    a = post(NULL, "42");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0);
    a = post("application/problem+json", "[]");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0);
}

static void test_bad_json_says_where(void)
{
    const char *a = post("application/json", "{\"a\": 1,\n \"b\": tru}");
    CHECK(strncmp(a, "HTTP/1.1 400", 12) == 0);
    CHECK(strstr(ex_body(a), "line 2, column") != NULL);
    a = post("application/json", "{\"a\": 1, \"a\": 2}");
    CHECK(strncmp(a, "HTTP/1.1 400", 12) == 0);
    CHECK(strstr(ex_body(a), "duplicate") != NULL);
    a = post("application/json", "");
    CHECK(strncmp(a, "HTTP/1.1 400", 12) == 0);
}

static void test_limits(void)
{
    const char *a = post("application/json", "[[[[[1]]]]]");
    CHECK(strncmp(a, "HTTP/1.1 400", 12) == 0);
    CHECK(strstr(ex_body(a), "line 1, column 5: nested deeper than 4") != NULL);
    static char big[6000];
    memset(big, ' ', sizeof big - 3);
    big[0] = '[';
    big[sizeof big - 3] = ']';
    a = post("application/json", big);
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0);
    a = post("text/plain", "{}");
    CHECK(strncmp(a, "HTTP/1.1 415", 12) == 0);
}

int main(void)
{
    uw_rt_init();
    RUN(test_depth_check);
    RUN(test_good_json);
    RUN(test_bad_json_says_where);
    RUN(test_limits);
    uw_rt_fini();
    return CHECK_DONE();
}

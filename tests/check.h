/*
 * check.h — the tiny unit-test harness of uweb.
 *
 * A test file defines functions `static void test_NAME(void)` and a main
 * that calls RUN(test_NAME) for each; CHECK* record failures without
 * stopping, so one run reports every broken expectation.  Output follows
 * the runner's protocol (tests/run.sh): "ok - NAME" or "not ok - NAME: why".
 * CHECK_DONE() returns the exit status for main.
 */
#ifndef UWEB_TEST_CHECK_H
#define UWEB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static int check_failures_total;
static int check_failures_now;
static const char *check_current;

#define CHECK(cond) do { if (!(cond)) { \
    if (check_failures_now++ < 5) \
        fprintf(stdout, "# %s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, check_current, #cond); \
    } } while (0)

#define CHECK_EQ_INT(a, b) do { long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
    if (check_a_ != check_b_) { if (check_failures_now++ < 5) \
        fprintf(stdout, "# %s:%d: %s: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                check_current, #a, check_a_, #b, check_b_); } } while (0)

#define CHECK_EQ_STR(a, b) do { const char *check_a_ = (a), *check_b_ = (b); \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) { if (check_failures_now++ < 5) \
        fprintf(stdout, "# %s:%d: %s: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                check_current, #a, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); } } while (0)

#define CHECK_EQ_MEM(a, alen, b, blen) do { size_t check_al_ = (alen), check_bl_ = (blen); \
    if (check_al_ != check_bl_ || memcmp((a), (b), check_al_) != 0) { if (check_failures_now++ < 5) \
        fprintf(stdout, "# %s:%d: %s: %s (%zu bytes) differs from %s (%zu bytes)\n", __FILE__, __LINE__, \
                check_current, #a, check_al_, #b, check_bl_); } } while (0)

#define RUN(fn) do { check_current = #fn; check_failures_now = 0; fn(); \
    if (check_failures_now) { check_failures_total++; \
        fprintf(stdout, "not ok - %s: %d check(s) failed\n", #fn, check_failures_now); } \
    else { fprintf(stdout, "ok - %s\n", #fn); } \
    fflush(stdout); } while (0)

#define CHECK_DONE() (check_failures_total ? 1 : 0)

#endif

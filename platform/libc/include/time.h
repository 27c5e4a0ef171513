/*
 * time.h - time types for uweb guests.  time() and clock_gettime() read
 * the platform clocks (CLOCK_REALTIME: wall, CLOCK_MONOTONIC: monotonic).
 */
#ifndef UWC_TIME_H
#define UWC_TIME_H
#include <sys/types.h>
struct timespec { time_t tv_sec; long tv_nsec; };
struct timeval { time_t tv_sec; suseconds_t tv_usec; };
typedef int clockid_t;
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
struct tm {
    int tm_sec, tm_min, tm_hour;   /* 0-60, 0-59, 0-23 */
    int tm_mday, tm_mon, tm_year;  /* 1-31, 0-11, years since 1900 */
    int tm_wday, tm_yday, tm_isdst; /* 0-6 from Sunday, 0-365, 0 */
};
time_t time(time_t *out);
/* T broken down in UTC (guests have no time zones) into *OUT; OUT. */
struct tm *gmtime_r(const time_t *t, struct tm *out);
/* 0, or -1 with errno EINVAL for another clock. */
int clock_gettime(clockid_t clock, struct timespec *ts);
#endif

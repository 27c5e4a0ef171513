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
time_t time(time_t *out);
/* 0, or -1 with errno EINVAL for another clock. */
int clock_gettime(clockid_t clock, struct timespec *ts);
#endif

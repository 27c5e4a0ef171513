/* sys/time.h - struct timeval (time.h), for code that names it here. */
#ifndef UWC_SYS_TIME_H
#define UWC_SYS_TIME_H
#include <time.h>
#endif

/* Calendar arithmetic without the C library's time zone code: the
 * IMF-fixdate formatter of HTTP's Date and Last-Modified fields, civil
 * dates and times both ways. */
#include "util.h"

#include <stdio.h>

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t uw__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void uw__civil_time(int64_t t, uw__civil *c)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    unsigned m, d;
    civil_from_days(days, &c->year, &m, &d);
    c->month = (int)m, c->day = (int)d;
    c->hour = (int)(secs / 3600), c->minute = (int)(secs / 60 % 60), c->second = (int)(secs % 60);
    c->weekday = (int)(((days % 7) + 11) % 7);          /* 1970-01-01 was a Thursday */
}

const char uw__day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
const char uw__month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void uw__http_date(int64_t t, char out[30])
{
    uw__civil c;
    uw__civil_time(t, &c);
    int64_t y = c.year;
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;
    snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", uw__day_names[c.weekday], c.day, uw__month_names[c.month - 1],
             (int)y, c.hour, c.minute, c.second);
}

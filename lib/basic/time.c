/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rsap/time.h>

static int64_t clock_us(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rsap_realtime_us(void)
{
        return clock_us(CLOCK_REALTIME);
}

int64_t rsap_monotonic_us(void)
{
        return clock_us(CLOCK_MONOTONIC);
}

int64_t rsap_monotonic_ms(void)
{
        return clock_us(CLOCK_MONOTONIC) / 1000;
}

int rsap_cond_init_monotonic(pthread_cond_t *cond)
{
        pthread_condattr_t attr;
        int r = pthread_condattr_init(&attr);

        if (r != 0)
                return -r;
        r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (r == 0)
                r = pthread_cond_init(cond, &attr);
        pthread_condattr_destroy(&attr);
        return -r;
}

int rsap_cond_wait_until_ms(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t due_ms)
{
        struct timespec until = { .tv_sec = (time_t)(due_ms / 1000),
                                  .tv_nsec = (long)(due_ms % 1000) * 1000000 };

        return pthread_cond_timedwait(cond, mutex, &until) == ETIMEDOUT ? -ETIMEDOUT : 0;
}

static bool utc(int64_t us, struct tm *tm)
{
        time_t seconds = (time_t)(us / 1000000);

        return us >= 0 && gmtime_r(&seconds, tm);
}

void rsap_time_format(int64_t us, char *buf, size_t size)
{
        struct tm tm;

        if (!utc(us, &tm)) {
                snprintf(buf, size, "?");
                return;
        }
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)((us % 1000000) / 1000));
}

void rsap_date_format(int64_t us, char *buf, size_t size)
{
        struct tm tm;

        if (!utc(us, &tm)) {
                snprintf(buf, size, "?");
                return;
        }
        snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The digits of text[0..n): -1 unless all n are digits. */
static int digits(const char *text, int n)
{
        int value = 0;

        for (int i = 0; i < n; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return -1;
                value = value * 10 + (text[i] - '0');
        }
        return value;
}

static bool leap(int year)
{
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Days from 1970-01-01 to the first of month (1-12) of year. */
static int64_t days_before(int year, int month)
{
        static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
        int64_t days = 0;

        for (int y = 1970; y < year; y++)
                days += leap(y) ? 366 : 365;
        return days + before[month - 1] + (month > 2 && leap(year));
}

/*
 * "HH:MM", then ":SS" and ".mmm" if there: 0, or -EINVAL.  Each field is
 * read only after the one before it parsed, never past the string's end.
 */
static int parse_clock(const char *t, int *h, int *m, int *s, int *ms, const char **end)
{
        *s = *ms = 0;
        if ((*h = digits(t, 2)) < 0 || *h > 23 || t[2] != ':' || (*m = digits(t + 3, 2)) < 0 ||
            *m > 59)
                return -EINVAL;
        t += 5;
        if (*t == ':') {
                if ((*s = digits(t + 1, 2)) < 0 || *s > 59)
                        return -EINVAL;
                t += 3;
                if (*t == '.') {
                        if ((*ms = digits(t + 1, 3)) < 0)
                                return -EINVAL;
                        t += 4;
                }
        }
        *end = t;
        return 0;
}

int rsap_time_parse(const char *text, int64_t *us_out)
{
        static const int month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int year, month, day, h = 0, m = 0, s = 0, ms = 0;
        const char *t = text;

        if (strlen(text) < 10 || text[4] != '-' || text[7] != '-')
                return -EINVAL;
        year = digits(t, 4);
        month = digits(t + 5, 2);
        day = digits(t + 8, 2);
        if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
            (month == 2 && day == 29 && !leap(year)))
                return -EINVAL;
        t += 10;
        if ((*t == ' ' || *t == 'T') && parse_clock(t + 1, &h, &m, &s, &ms, &t) < 0)
                return -EINVAL;
        if (*t == 'Z')
                t++;
        if (*t)
                return -EINVAL;
        *us_out = (((days_before(year, month) + day - 1) * 24 + h) * 3600 + m * 60 + s) *
                          1000000LL +
                  ms * 1000LL;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

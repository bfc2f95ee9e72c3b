/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Clocks and time stamps, in microseconds: the one unit rsap stores. */

/* Since the epoch (CLOCK_REALTIME). */
int64_t rsap_realtime_us(void);
/* Since some fixed moment (CLOCK_MONOTONIC): for timeouts and intervals. */
int64_t rsap_monotonic_us(void);
int64_t rsap_monotonic_ms(void);

/* A condition variable whose timed waits count on the monotonic clock, so
 * that setting the date neither hurries nor stalls a thread's interval: 0 or
 * a negative errno. */
int rsap_cond_init_monotonic(pthread_cond_t *cond);
/* Waits on cond (made by rsap_cond_init_monotonic(), mutex held) until
 * woken or until due_ms of rsap_monotonic_ms(): 0 when woken (or woken
 * spuriously), -ETIMEDOUT at the deadline. */
int rsap_cond_wait_until_ms(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t due_ms);

/* "2026-11-26T07:01:40.123Z": UTC, milliseconds; "?" for a time before 1970.
 * buf holds RSAP_TIME_SIZE. */
#define RSAP_TIME_SIZE 32
void rsap_time_format(int64_t us, char *buf, size_t size);
/* "2026-11-26": the UTC date alone. */
void rsap_date_format(int64_t us, char *buf, size_t size);
/*
 * A moment in UTC, as rsap_time_format() writes it or as a person types it:
 * "2026-12-01", "2026-12-01 03:00", "2026-12-01T03:00:05", with an optional
 * ".mmm" and "Z".  -EINVAL for anything else (a field out of its range, a
 * day the month has not, a time before 1970).
 */
int rsap_time_parse(const char *text, int64_t *us_out);

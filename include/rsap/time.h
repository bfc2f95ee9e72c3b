/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Clocks and time stamps, in microseconds: the one unit rsap stores. */

/* Since the epoch (CLOCK_REALTIME). */
int64_t rsap_realtime_us(void);
/* Since some fixed moment (CLOCK_MONOTONIC): for timeouts and intervals. */
int64_t rsap_monotonic_us(void);
int64_t rsap_monotonic_ms(void);

/* "2026-11-26T07:01:40.123Z": UTC, milliseconds; "?" for a time before 1970.
 * buf holds RSAP_TIME_SIZE. */
#define RSAP_TIME_SIZE 32
void rsap_time_format(int64_t us, char *buf, size_t size);
/* "2026-11-26": the UTC date alone. */
void rsap_date_format(int64_t us, char *buf, size_t size);

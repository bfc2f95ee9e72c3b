/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <rsap/basic.h>

/*
 * A growable byte buffer for building response bodies.  A failed allocation
 * is remembered rather than reported at every call: builders append freely
 * and check buf_failed() once at the end.
 */
struct buf {
        char *data;
        size_t len, cap;
        bool failed;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static inline bool buf_failed(const struct buf *b)
{
        return b->failed;
}
/* Hands the bytes (NUL-terminated, len excludes it) to the caller; the buffer is empty after. */
char *buf_steal(struct buf *b, size_t *len);
void buf_free(struct buf *b);


/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Room for len more bytes and a terminating NUL. */
static bool reserve(struct buf *b, size_t len)
{
        size_t want, cap;
        char *data;

        if (b->failed)
                return false;
        if (len > ((size_t)-1) / 2 - b->len) {
                b->failed = true;
                return false;
        }
        want = b->len + len + 1;
        if (want <= b->cap)
                return true;
        cap = b->cap ? b->cap : 256;
        while (cap < want)
                cap *= 2;
        data = realloc(b->data, cap);
        if (!data) {
                b->failed = true;
                return false;
        }
        b->data = data;
        b->cap = cap;
        return true;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
        if (!reserve(b, len))
                return;
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
        buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
        buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
        va_list again;
        int n;

        va_copy(again, ap);
        n = vsnprintf(NULL, 0, fmt, again);
        va_end(again);
        if (n < 0) {
                b->failed = true;
                return;
        }
        if (!reserve(b, (size_t)n))
                return;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        buf_vprintf(b, fmt, ap);
        va_end(ap);
}

char *buf_steal(struct buf *b, size_t *len)
{
        char *data;

        if (b->failed || !reserve(b, 0)) {
                buf_free(b);
                return NULL;
        }
        data = b->data;
        if (len)
                *len = b->len;
        *b = (struct buf){ 0 };
        return data;
}

void buf_free(struct buf *b)
{
        free(b->data);
        *b = (struct buf){ 0 };
}

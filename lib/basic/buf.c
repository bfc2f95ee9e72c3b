/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/buf.h>

/* Room for len more bytes and the terminating NUL, doubling from 256. */
static int reserve(struct rsap_buf *b, size_t len)
{
        size_t want, cap;
        char *data;

        if (b->failed)
                return -ENOMEM;
        if (len > SIZE_MAX / 2 - b->len)
                goto fail;
        want = b->len + len + 1;
        if (want <= b->cap)
                return 0;
        cap = b->cap ? b->cap : 256;
        while (cap < want)
                cap *= 2;
        data = realloc(b->data, cap);
        if (!data)
                goto fail;
        b->data = data;
        b->cap = cap;
        return 0;
fail:
        b->failed = true;
        return -ENOMEM;
}

int rsap_buf_append(struct rsap_buf *b, const void *data, size_t len)
{
        int r = reserve(b, len);

        if (r < 0)
                return r;
        if (len)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

int rsap_buf_puts(struct rsap_buf *b, const char *s)
{
        return rsap_buf_append(b, s, strlen(s));
}

int rsap_buf_putc(struct rsap_buf *b, char c)
{
        return rsap_buf_append(b, &c, 1);
}

int rsap_buf_vprintf(struct rsap_buf *b, const char *fmt, va_list ap)
{
        va_list again;
        int n, r;

        va_copy(again, ap);
        n = vsnprintf(NULL, 0, fmt, again);
        va_end(again);
        if (n < 0) {
                b->failed = true;
                return -ENOMEM;
        }
        r = reserve(b, (size_t)n);
        if (r < 0)
                return r;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return 0;
}

int rsap_buf_printf(struct rsap_buf *b, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = rsap_buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

void rsap_buf_reset(struct rsap_buf *b)
{
        b->len = 0;
        b->failed = false;
        if (b->data)
                b->data[0] = '\0';
}

char *rsap_buf_steal(struct rsap_buf *b, size_t *len)
{
        char *data;

        if (reserve(b, 0) < 0) {
                rsap_buf_free(b);
                return NULL;
        }
        data = b->data;
        if (len)
                *len = b->len;
        *b = (struct rsap_buf){ 0 };
        return data;
}

void rsap_buf_free(struct rsap_buf *b)
{
        free(b->data);
        *b = (struct rsap_buf){ 0 };
}

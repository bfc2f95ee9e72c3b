/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The one growable byte buffer: response bodies in rsapd, text the importers
 * build, a download.  The bytes are always NUL-terminated (len excludes the
 * NUL), so text can be read in place.  A failed allocation is remembered:
 * builders may append freely and look at rsap_buf_failed() once at the end;
 * the appenders also return 0 or -ENOMEM for those that stop at once.
 */
struct rsap_buf {
        char *data;
        size_t len, cap;
        bool failed;
};

int rsap_buf_append(struct rsap_buf *b, const void *data, size_t len);
int rsap_buf_puts(struct rsap_buf *b, const char *s);
int rsap_buf_putc(struct rsap_buf *b, char c);
int rsap_buf_printf(struct rsap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rsap_buf_vprintf(struct rsap_buf *b, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
static inline bool rsap_buf_failed(const struct rsap_buf *b)
{
        return b->failed;
}
/* Empties the buffer, keeping its memory (and forgetting a failure). */
void rsap_buf_reset(struct rsap_buf *b);
/*
 * Hands the bytes (NUL-terminated) and their length to the caller and leaves
 * the buffer empty; NULL, with the buffer freed, when an append had failed.
 */
char *rsap_buf_steal(struct rsap_buf *b, size_t *len);
/* Frees the bytes; usable as _cleanup_(rsap_buf_free). */
void rsap_buf_free(struct rsap_buf *b);

/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * The inverse of rsap_text_escape, for the tests only: what a reader of the
 * escaped form gets back.  Returns the length written to out (as large as
 * the escaped text suffices), or -1 for text that is no escaped form.
 */
#include <stddef.h>
#include <string.h>

static inline int textsafe_hex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static inline long textsafe_unescape(const char *in, size_t len, char *out)
{
        static const char letters[] = "abtnvfr";
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                const char *letter;
                int hi, lo;

                if (in[i] != '\\') {
                        out[o++] = in[i];
                        continue;
                }
                if (++i == len)
                        return -1;
                if (in[i] == '\\') {
                        out[o++] = '\\';
                } else if (in[i] == 'e') {
                        out[o++] = 0x1b;
                } else if (in[i] && (letter = strchr(letters, in[i]))) {
                        out[o++] = (char)('\a' + (letter - letters));
                } else if (in[i] == 'x' && i + 2 < len &&
                           (hi = textsafe_hex(in[i + 1])) >= 0 &&
                           (lo = textsafe_hex(in[i + 2])) >= 0) {
                        out[o++] = (char)(hi << 4 | lo);
                        i += 2;
                } else if (in[i] == 'u' && i + 4 < len && strncmp(in + i + 1, "00", 2) == 0 &&
                           (hi = textsafe_hex(in[i + 3])) >= 8 && hi <= 9 &&
                           (lo = textsafe_hex(in[i + 4])) >= 0) {
                        out[o++] = (char)0xc2;
                        out[o++] = (char)(hi << 4 | lo);
                        i += 4;
                } else {
                        return -1;
                }
        }
        return (long)o;
}

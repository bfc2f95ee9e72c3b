/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <rsap/textsafe.h>

/*
 * The length of the valid UTF-8 character at s[0..len) (RFC 3629, table 3.7
 * of Unicode), or 0 when its first byte starts none.
 */
static size_t utf8_length(const unsigned char *s, size_t len)
{
        unsigned char c = s[0];
        size_t need;
        unsigned char low = 0x80, high = 0xbf;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                need = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                need = 3;
                if (c == 0xe0)
                        low = 0xa0; /* no overlong forms */
                else if (c == 0xed)
                        high = 0x9f; /* no surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                need = 4;
                if (c == 0xf0)
                        low = 0x90;
                else if (c == 0xf4)
                        high = 0x8f; /* nothing above U+10FFFF */
        } else
                return 0;
        if (len < need || s[1] < low || s[1] > high)
                return 0;
        for (size_t i = 2; i < need; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return need;
}

static bool is_c1(const unsigned char *s, size_t n)
{
        return n == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

/* The short escape of a C0 byte, or 0 for one written \xHH. */
static char short_escape(unsigned char c)
{
        static const char letters[] = "abtnvfr";

        if (c >= '\a' && c <= '\r')
                return letters[c - '\a'];
        return c == 0x1b ? 'e' : 0;
}

/*
 * The escape of the character s[0..n) (n is 0 for a bad byte) into esc, or
 * 0 when the character stands for itself.
 */
static size_t escape_of(const unsigned char *s, size_t n, char esc[8])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char c = s[0];
        char letter;

        if (n == 2 && is_c1(s, n)) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[s[1] >> 4];
                esc[5] = hex[s[1] & 0xf];
                return 6;
        }
        if (n > 1 || (n == 1 && c >= 0x20 && c != 0x7f && c != '\\'))
                return 0;
        esc[0] = '\\';
        if (c == '\\') {
                esc[1] = '\\';
                return 2;
        }
        letter = n == 1 ? short_escape(c) : 0;
        if (letter) {
                esc[1] = letter;
                return 2;
        }
        esc[1] = 'x';
        esc[2] = hex[c >> 4];
        esc[3] = hex[c & 0xf];
        return 4;
}

size_t rsap_text_escape(char *out, size_t size, const char *in, size_t len)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t used = 0, total = 0;
        bool full = size == 0;

        while (len > 0) {
                size_t n = utf8_length(s, len);
                char esc[8];
                size_t e = escape_of(s, n, esc);
                const char *piece = e ? esc : (const char *)s;
                size_t piece_len = e ? e : n;

                if (!full && used + piece_len < size) {
                        memcpy(out + used, piece, piece_len);
                        used += piece_len;
                } else
                        full = true; /* nothing after a piece that did not fit */
                total += piece_len;
                n = n ? n : 1;
                s += n;
                len -= n;
        }
        if (size > 0)
                out[used] = '\0';
        return total;
}

size_t rsap_text_plain_length(const char *in, size_t len)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t n = len ? utf8_length(s, len) : 0;

        if (n == 0 || is_c1(s, n) || (n == 1 && (*s < 0x20 || *s == 0x7f)))
                return 0;
        return n;
}

bool rsap_text_needs_escape(const char *in, size_t len)
{
        const unsigned char *s = (const unsigned char *)in;

        while (len > 0) {
                size_t n;

                if (*s >= 0x20 && *s < 0x7f && *s != '\\') {
                        s++, len--; /* the common case, quickly */
                        continue;
                }
                n = utf8_length(s, len);
                if (n <= 1 || is_c1(s, n))
                        return true;
                s += n;
                len -= n;
        }
        return false;
}

size_t rsap_text_columns(const char *text, size_t len)
{
        size_t columns = 0;

        for (size_t i = 0; i < len; i++)
                if (((unsigned char)text[i] & 0xc0) != 0x80)
                        columns++;
        return columns;
}

long rsap_text_first_control(const char *text, bool allow_lf)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t len = strlen(text);

        for (size_t i = 0; i < len;) {
                size_t n = utf8_length(s + i, len - i);

                if (n == 0 || is_c1(s + i, n) ||
                    (n == 1 && (s[i] < 0x20 || s[i] == 0x7f) && !(allow_lf && s[i] == '\n')))
                        return (long)i;
                i += n;
        }
        return -1;
}

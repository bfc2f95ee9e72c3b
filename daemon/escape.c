/* SPDX-License-Identifier: MIT */
/*
 * Escaping for the pages, apart from them so the unit tests and the fuzz
 * target reach it alone.  html_printf() escapes every %s: outside data can
 * only reach markup unescaped through a deliberate %S.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rsap/textsafe.h>

#include "rsapd.h"

/*
 * The length of the character at p, and in esc its visible escape, as rsap
 * prints it (rsap/textsafe.h), when it is a control character (but TAB and
 * LF, which HTML reads as blanks) or a byte that is not UTF-8; else esc is "".
 */
static size_t character_at(const char *p, size_t rest, char esc[16])
{
        unsigned char c = (unsigned char)*p;
        size_t n;

        esc[0] = '\0';
        if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n')
                return 1;
        n = rsap_text_plain_length(p, rest);
        if (n)
                return n;
        /* C1 is two bytes of UTF-8, escaped as one character. */
        n = c == 0xc2 && rest > 1 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] < 0xa0 ? 2 : 1;
        rsap_text_escape(esc, 16, p, n);
        return n;
}

void html_escape(struct rsap_buf *b, const char *text)
{
        const char *run = text, *end;

        if (!text)
                return;
        end = text + strlen(text);
        for (const char *p = text; *p; p++) {
                const char *entity;
                char esc[16];
                size_t n;

                switch (*p) {
                case '&': entity = "&amp;"; break;
                case '<': entity = "&lt;"; break;
                case '>': entity = "&gt;"; break;
                case '"': entity = "&quot;"; break;
                case '\'': entity = "&#39;"; break;
                default:
                        n = character_at(p, (size_t)(end - p), esc);
                        if (esc[0]) {
                                rsap_buf_append(b, run, (size_t)(p - run));
                                rsap_buf_puts(b, esc);
                                run = p + n;
                        }
                        p += n - 1;
                        continue;
                }
                rsap_buf_append(b, run, (size_t)(p - run));
                rsap_buf_puts(b, entity);
                run = p + 1;
        }
        rsap_buf_puts(b, run);
}

void url_segment(struct rsap_buf *b, const char *text)
{
        static const char hex[] = "0123456789ABCDEF";

        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
                        rsap_buf_putc(b, (char)*p);
                } else {
                        rsap_buf_putc(b, '%');
                        rsap_buf_putc(b, hex[*p >> 4]);
                        rsap_buf_putc(b, hex[*p & 15]);
                }
        }
}

void html_printf(struct rsap_buf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        for (const char *p = fmt; *p; p++) {
                if (*p != '%') {
                        const char *next = strchr(p, '%');
                        size_t n = next ? (size_t)(next - p) : strlen(p);

                        rsap_buf_append(b, p, n);
                        p += n - 1;
                        continue;
                }
                switch (*++p) {
                case 's': html_escape(b, va_arg(ap, const char *)); break;
                case 'S': rsap_buf_puts(b, va_arg(ap, const char *)); break;
                case 'd': rsap_buf_printf(b, "%d", va_arg(ap, int)); break;
                case 'u': rsap_buf_printf(b, "%u", va_arg(ap, unsigned)); break;
                case 'c': rsap_buf_putc(b, (char)va_arg(ap, int)); break;
                case 'z': p++; rsap_buf_printf(b, "%zu", va_arg(ap, size_t)); break;
                case 'l':
                        p++;
                        if (*p == 'u')
                                rsap_buf_printf(b, "%lu", va_arg(ap, unsigned long));
                        else
                                rsap_buf_printf(b, "%ld", va_arg(ap, long));
                        break;
                case '%': rsap_buf_putc(b, '%'); break;
                default: /* a mistake in a literal format: visible, not silent */
                        rsap_buf_puts(b, "%?");
                        if (!*p)
                                p--;
                        break;
                }
        }
        va_end(ap);
}

/* SPDX-License-Identifier: MIT */
/* JSON text as jansson dumps it with RSAP_JSON_DUMP_FLAGS (rsap/json_write.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rsap/basic.h>
#include <rsap/json_write.h>

#define INDENT 2

/* The length of the well-formed UTF-8 sequence at s (a lead byte >= 0x80),
 * 0 when it is not one: overlong, a surrogate, past U+10FFFF, cut short. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
        size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
        uint32_t cp;

        if (n == 0 || s[0] >= 0xf5 || left < n)
                return 0;
        cp = s[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return n;
}

static const char *short_escape(unsigned char c)
{
        switch (c) {
        case '"':
                return "\\\"";
        case '\\':
                return "\\\\";
        case '\b':
                return "\\b";
        case '\f':
                return "\\f";
        case '\n':
                return "\\n";
        case '\r':
                return "\\r";
        case '\t':
                return "\\t";
        }
        return NULL;
}

/* jansson's escapes: the two it must, the short forms, \u00XX (upper case) for the rest. */
static void write_escape(struct rsap_buf *b, unsigned char c)
{
        const char *escape = short_escape(c);
        char seq[8];

        if (!escape) {
                snprintf(seq, sizeof(seq), "\\u%04X", c);
                escape = seq;
        }
        rsap_buf_puts(b, escape);
}

static int write_string(struct rsap_buf *b, const char *text, size_t len)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t run = 0, i = 0;

        rsap_buf_putc(b, '"');
        while (i < len) {
                size_t n = s[i] < 0x80 ? 1 : utf8_sequence(s + i, len - i);

                if (n == 0)
                        return -EILSEQ;
                if (n == 1 && (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')) {
                        rsap_buf_append(b, text + run, i - run);
                        write_escape(b, s[i]);
                        run = i + 1;
                }
                i += n;
        }
        rsap_buf_append(b, text + run, len - run);
        rsap_buf_putc(b, '"');
        return 0;
}

static void write_indent(struct rsap_buf *b, size_t depth)
{
        static const char spaces[] = "                                ";
        size_t n = depth * INDENT;

        rsap_buf_putc(b, '\n');
        while (n > 0) {
                size_t chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

                rsap_buf_append(b, spaces, chunk);
                n -= chunk;
        }
}

static int write_value(struct rsap_buf *b, const json_t *v, size_t depth);

static int write_object(struct rsap_buf *b, const json_t *o, size_t depth)
{
        void *iter = json_object_iter((json_t *)o);
        int r;

        rsap_buf_putc(b, '{');
        while (iter) {
                write_indent(b, depth + 1);
                r = write_string(b, json_object_iter_key(iter), json_object_iter_key_len(iter));
                rsap_buf_append(b, ": ", 2);
                if (r == 0)
                        r = write_value(b, json_object_iter_value(iter), depth + 1);
                if (r < 0)
                        return r;
                iter = json_object_iter_next((json_t *)o, iter);
                if (iter)
                        rsap_buf_putc(b, ',');
                else
                        write_indent(b, depth);
        }
        rsap_buf_putc(b, '}');
        return 0;
}

static int write_array(struct rsap_buf *b, const json_t *a, size_t depth)
{
        size_t n = json_array_size(a);

        rsap_buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
                int r;

                write_indent(b, depth + 1);
                r = write_value(b, json_array_get(a, i), depth + 1);
                if (r < 0)
                        return r;
                if (i + 1 < n)
                        rsap_buf_putc(b, ',');
                else
                        write_indent(b, depth);
        }
        rsap_buf_putc(b, ']');
        return 0;
}

/* A real as jansson prints it (its precision, its rule for a ".0"): rare, so its own code. */
static int write_real(struct rsap_buf *b, const json_t *v)
{
        _cleanup_(freep) char *text = json_dumps(v, RSAP_JSON_DUMP_FLAGS | JSON_ENCODE_ANY);

        return text ? rsap_buf_puts(b, text) : -ENOMEM;
}

static int write_value(struct rsap_buf *b, const json_t *v, size_t depth)
{
        char number[24];

        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return write_object(b, v, depth);
        case JSON_ARRAY:
                return write_array(b, v, depth);
        case JSON_STRING:
                return write_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return rsap_buf_puts(b, number);
        case JSON_REAL:
                return write_real(b, v);
        case JSON_TRUE:
                return rsap_buf_puts(b, "true");
        case JSON_FALSE:
                return rsap_buf_puts(b, "false");
        case JSON_NULL:
                return rsap_buf_puts(b, "null");
        }
        return -EINVAL;
}

int rsap_json_write(struct rsap_buf *b, const json_t *value)
{
        int r = value ? write_value(b, value, 0) : -EINVAL;

        if (r == 0 && rsap_buf_failed(b))
                r = -ENOMEM;
        return r;
}

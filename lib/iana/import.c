/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/import.h>

#include "import_internal.h"

/* ---- format detection -------------------------------------------------- */

static bool starts_with(const char *p, size_t size, const char *prefix)
{
        size_t len = strlen(prefix);

        return size >= len && memcmp(p, prefix, len) == 0;
}

enum rsap_format rsap_format_sniff(const void *data, size_t size)
{
        const char *p = data;

        if (!data)
                return RSAP_FORMAT_UNKNOWN;
        /* Editors on some systems put a byte order mark in front of UTF-8. */
        if (starts_with(p, size, "\xef\xbb\xbf")) {
                p += 3;
                size -= 3;
        }
        while (size > 0 && import_is_blank((unsigned char)*p)) {
                p++;
                size--;
        }
        if (starts_with(p, size, "<?xml") || starts_with(p, size, "<registry"))
                return RSAP_FORMAT_IANA_XML;
        if (starts_with(p, size, "Service Name,"))
                return RSAP_FORMAT_IANA_CSV;
        return RSAP_FORMAT_UNKNOWN;
}

const char *rsap_format_name(enum rsap_format format)
{
        switch (format) {
        case RSAP_FORMAT_IANA_XML:
                return "iana-xml";
        case RSAP_FORMAT_IANA_CSV:
                return "iana-csv";
        case RSAP_FORMAT_UNKNOWN:
                break;
        }
        return "unknown";
}

int rsap_import_any(const void *data, size_t size, struct rsap_builder *b,
                    struct rsap_import_error *err)
{
        int r;

        import_error_clear(err);
        r = import_check_size(data, size, err);
        if (r < 0)
                return r;
        switch (rsap_format_sniff(data, size)) {
        case RSAP_FORMAT_IANA_XML:
                return rsap_import_iana_xml(data, size, b, err);
        case RSAP_FORMAT_IANA_CSV:
                return rsap_import_iana_csv(data, size, b, err);
        case RSAP_FORMAT_UNKNOWN:
                break;
        }
        return import_fail(err, -EBADMSG, 1,
                           "unknown format: expected IANA's XML or CSV");
}

/* ---- errors and input checks ------------------------------------------- */

void import_error_clear(struct rsap_import_error *err)
{
        if (!err)
                return;
        err->line = 0;
        err->message[0] = '\0';
}

int import_fail(struct rsap_import_error *err, int code, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return code;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return code;
}

int import_done(struct rsap_import_error *err, int ret)
{
        if (ret < 0 && err && !err->message[0])
                import_fail(err, ret, 0, "%s", strerror(-ret));
        return ret;
}

bool import_is_blank(int c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int import_check_size(const void *data, size_t size, struct rsap_import_error *err)
{
        const unsigned char *p = data;

        if (size > IMPORT_MAX_SIZE)
                return import_fail(err, -EFBIG, 0,
                                   "input is %zu bytes, more than the %zu MiB limit", size,
                                   IMPORT_MAX_SIZE >> 20);
        for (size_t i = 0; i < size; i++)
                if (!import_is_blank(p[i]))
                        return 0;
        return import_fail(err, -EBADMSG, 0, "empty input");
}

unsigned import_line_of(const void *data, size_t offset)
{
        const char *p = data;
        unsigned line = 1;

        for (size_t i = 0; i < offset; i++)
                if (p[i] == '\n')
                        line++;
        return line;
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;

        if (p[0] < 0x80)
                return p[0] ? 1 : 0;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4;
        else
                return 0;
        if (left < len)
                return 0;
        if (p[0] == 0xe0)
                lo = 0xa0;
        else if (p[0] == 0xed)
                hi = 0x9f;
        else if (p[0] == 0xf0)
                lo = 0x90;
        else if (p[0] == 0xf4)
                hi = 0x8f;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return len;
}

int import_check_utf8(const void *data, size_t size, struct rsap_import_error *err)
{
        const unsigned char *p = data;
        size_t i = 0;

        while (i < size) {
                size_t len = utf8_sequence(p + i, size - i);

                if (len == 0)
                        return import_fail(err, -EBADMSG, import_line_of(data, i),
                                           "line %u: %s at byte %zu", import_line_of(data, i),
                                           p[i] ? "invalid UTF-8" : "NUL byte", i);
                i += len;
        }
        return 0;
}

/* ---- text clean-up ----------------------------------------------------- */

static bool is_line_blank(int c)
{
        return c != '\n' && import_is_blank(c);
}

size_t import_tidy(char *s)
{
        size_t in = 0, out = 0;
        bool pending_empty_line = false;

        while (s[in]) {
                size_t start, end;

                while (is_line_blank((unsigned char)s[in]))
                        in++;
                start = in;
                while (s[in] && s[in] != '\n')
                        in++;
                end = in;
                while (end > start && is_line_blank((unsigned char)s[end - 1]))
                        end--;
                if (s[in] == '\n')
                        in++;
                if (end == start) {
                        pending_empty_line = out > 0;
                        continue;
                }
                /* Never overtakes the input: each separator written stands
                 * for at least one newline already read. */
                if (out > 0)
                        s[out++] = '\n';
                if (pending_empty_line)
                        s[out++] = '\n';
                pending_empty_line = false;
                memmove(s + out, s + start, end - start);
                out += end - start;
        }
        s[out] = '\0';
        return out;
}

size_t import_squash(char *s)
{
        size_t out = 0;
        bool space = false;

        for (size_t in = 0; s[in]; in++) {
                if (import_is_blank((unsigned char)s[in])) {
                        space = out > 0;
                        continue;
                }
                if (space)
                        s[out++] = ' ';
                space = false;
                s[out++] = s[in];
        }
        s[out] = '\0';
        return out;
}

static bool digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static int two_digits(const char *s)
{
        return (s[0] - '0') * 10 + (s[1] - '0');
}

bool import_date_valid(const char *s)
{
        size_t len = strlen(s);

        if ((len != 7 && len != 10) || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2))
                return false;
        if (two_digits(s + 5) < 1 || two_digits(s + 5) > 12)
                return false;
        if (len == 7)
                return true;
        return s[7] == '-' && digits(s + 8, 2) && two_digits(s + 8) >= 1 &&
               two_digits(s + 8) <= 31;
}

bool import_decimal_valid(const char *s)
{
        size_t len = strlen(s);

        return len > 0 && digits(s, len);
}

int import_port_range(const char *text, struct rsap_record *r)
{
        struct rsap_port_spec spec;
        int ret;

        /* The port column holds numbers only; a protocol has its own. */
        if (strchr(text, '/'))
                return -EINVAL;
        ret = rsap_port_spec_parse(text, &spec);
        if (ret < 0)
                return ret;
        r->has_port = true;
        r->port_low = spec.low;
        r->port_high = spec.high;
        return 0;
}

/* ---- the string pool --------------------------------------------------- */

char *import_strings_keep(struct import_strings *pool, char *s)
{
        if (!s)
                return NULL;
        if (rsap_grow(&pool->items, &pool->cap, pool->n + 1, sizeof(*pool->items)) < 0) {
                free(s);
                return NULL;
        }
        pool->items[pool->n++] = s;
        return s;
}

char *import_strings_dup(struct import_strings *pool, const char *s, size_t len)
{
        return import_strings_keep(pool, strndup(s, len));
}

char *import_strings_printf(struct import_strings *pool, const char *fmt, ...)
{
        char *s;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? NULL : import_strings_keep(pool, s);
}

void import_strings_clear(struct import_strings *pool)
{
        for (size_t i = 0; i < pool->n; i++)
                free(pool->items[i]);
        pool->n = 0;
}

void import_strings_free(struct import_strings *pool)
{
        import_strings_clear(pool);
        free(pool->items);
        pool->items = NULL;
        pool->cap = 0;
}

/* ---- the string map ---------------------------------------------------- */

static size_t map_find(char **keys, size_t n_slots, const char *key)
{
        size_t j = rsap_fnv1a(key, strlen(key)) & (n_slots - 1);

        while (keys[j] && strcmp(keys[j], key) != 0)
                j = (j + 1) & (n_slots - 1);
        return j;
}

static int map_grow(struct import_map *m)
{
        size_t n_slots = m->n_slots ? m->n_slots * 2 : 64;
        char **keys = calloc(n_slots, sizeof(*keys));
        char **values = calloc(n_slots, sizeof(*values));

        if (!keys || !values) {
                free(keys);
                free(values);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_slots; i++) {
                size_t j;

                if (!m->keys[i])
                        continue;
                j = map_find(keys, n_slots, m->keys[i]);
                keys[j] = m->keys[i];
                values[j] = m->values[i];
        }
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->n_slots = n_slots;
        return 0;
}

int import_map_add(struct import_map *m, const char *key, const char *value)
{
        char *key_copy, *value_copy = NULL;
        size_t j;

        if ((m->n_used + 1) * 2 > m->n_slots && map_grow(m) < 0)
                return -ENOMEM;
        j = map_find(m->keys, m->n_slots, key);
        if (m->keys[j])
                return 0;
        key_copy = strdup(key);
        if (value)
                value_copy = strdup(value);
        if (!key_copy || (value && !value_copy)) {
                free(key_copy);
                free(value_copy);
                return -ENOMEM;
        }
        m->keys[j] = key_copy;
        m->values[j] = value_copy;
        m->n_used++;
        return 1;
}

const char *import_map_get(const struct import_map *m, const char *key, bool *found)
{
        size_t j;

        *found = false;
        if (m->n_slots == 0)
                return NULL;
        j = map_find(m->keys, m->n_slots, key);
        if (!m->keys[j])
                return NULL;
        *found = true;
        return m->values[j];
}

void import_map_free(struct import_map *m)
{
        for (size_t i = 0; i < m->n_slots; i++) {
                free(m->keys[i]);
                free(m->values[i]);
        }
        free(m->keys);
        free(m->values);
        *m = (struct import_map){ 0 };
}

/* ---- references and people --------------------------------------------- */

int import_ref_rfc(struct import_strings *pool, const char *id, const char *label,
                   struct rsap_reference *out)
{
        const char *number;
        size_t len;

        /* The prefix first: "rf" ends before id + 3. */
        if (strncasecmp(id, "rfc", 3) != 0)
                return -EINVAL;
        number = id + 3;
        len = strlen(number);
        if (len == 0 || len > 9 || !digits(number, len))
                return -EINVAL;
        out->type = RSAP_REF_RFC;
        out->text = label ? import_strings_dup(pool, label, strlen(label))
                          : import_strings_printf(pool, "RFC%s", number);
        out->url = import_strings_printf(pool, "https://www.rfc-editor.org/rfc/rfc%s", number);
        return out->text && out->url ? 0 : -ENOMEM;
}

int import_ref_draft(struct import_strings *pool, const char *name, struct rsap_reference *out)
{
        out->type = RSAP_REF_DRAFT;
        out->text = import_strings_dup(pool, name, strlen(name));
        /* "RFC-ietf-dhc-rfc8415bis-12" is IANA's name for a draft approved
         * but not yet published; the datatracker knows it as "draft-...". */
        if (strncasecmp(name, "RFC-", 4) == 0)
                out->url = import_strings_printf(pool, "https://datatracker.ietf.org/doc/draft-%s",
                                                 name + 4);
        else
                out->url = import_strings_printf(pool, "https://datatracker.ietf.org/doc/%s", name);
        return out->text && out->url ? 0 : -ENOMEM;
}

int import_add_reference(struct rsap_record *r, const struct rsap_reference *ref)
{
        if (r->n_references >= RSAP_MAX_REFERENCES)
                return -E2BIG;
        r->references[r->n_references++] = *ref;
        return 0;
}

int import_add_person_id(struct rsap_person *list, size_t *n, const char *id)
{
        if (*n >= RSAP_MAX_PEOPLE)
                return -E2BIG;
        list[(*n)++] = (struct rsap_person){ .id = id };
        return 0;
}

int import_add_record(struct rsap_builder *b, const struct rsap_record *r, size_t *port_slots,
                      unsigned line, struct rsap_import_error *err)
{
        int ret;

        if (!r->service && !r->has_port)
                return import_fail(err, -EBADMSG, line,
                                   "line %u: record has neither a service name nor a port",
                                   line);
        if (r->has_port) {
                *port_slots += (size_t)r->port_high - r->port_low + 1;
                if (*port_slots > IMPORT_MAX_PORT_SLOTS)
                        return import_fail(err, -EBADMSG, line,
                                           "line %u: the records' port ranges add up to more "
                                           "than %zu ports", line, IMPORT_MAX_PORT_SLOTS);
        }
        ret = rsap_builder_add_record(b, r);
        if (ret == -ENOMEM)
                return import_fail(err, ret, line, "out of memory");
        if (ret == -EINVAL)
                return import_fail(err, -EBADMSG, line, "line %u: record refused: %s", line,
                                   strerror(-ret));
        if (ret < 0)
                return import_fail(err, ret, line, "line %u: cannot add record: %s", line,
                                   strerror(-ret));
        return 0;
}

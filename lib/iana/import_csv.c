/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "import_internal.h"

/*
 * IANA's CSV export: RFC 4180 quoting (libcsv in strict mode), a header row
 * that must match, twelve columns.  It carries no people table, so every
 * person is known by id only, and no release date, so the release recorded
 * is the newest registration or modification date in the file: the day the
 * export was last changed, as near as the file can tell.
 */

enum column {
        COL_SERVICE,
        COL_PORT,
        COL_PROTOCOL,
        COL_DESCRIPTION,
        COL_ASSIGNEE,
        COL_CONTACT,
        COL_REGISTERED,
        COL_MODIFIED,
        COL_REFERENCE,
        COL_SERVICE_CODE,
        COL_UNAUTHORIZED,
        COL_NOTES,
        COL_COUNT,
};

static const char *const header[COL_COUNT] = {
        "Service Name",     "Port Number",       "Transport Protocol",
        "Description",      "Assignee",          "Contact",
        "Registration Date", "Modification Date", "Reference",
        "Service Code",     "Unauthorized Use Reported", "Assignment Notes",
};

/* Columns shown as several lines; the others are squashed to one. */
static bool column_is_multiline(enum column col)
{
        return col == COL_DESCRIPTION || col == COL_UNAUTHORIZED || col == COL_NOTES;
}

struct field {
        char *text;
        size_t cap;
};

struct csv_reader {
        struct rsap_builder *b;
        struct rsap_import_error *err;
        struct field fields[COL_COUNT]; /* reused from row to row */
        size_t n_fields;                /* in the current row, maybe too many */
        unsigned line;                  /* the physical line being parsed */
        unsigned row_line;              /* where the current row began, 0 between rows */
        size_t rows;                    /* complete rows, header included */
        size_t port_slots;              /* see IMPORT_MAX_PORT_SLOTS */
        int status;                     /* the first error; callbacks stop after it */
        struct import_strings pool;
        struct import_map people;       /* ids already given to the builder */
        char release[16];
};

static int row_error(struct csv_reader *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int row_error(struct csv_reader *c, const char *fmt, ...)
{
        char reason[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return import_fail(c->err, -EBADMSG, c->row_line, "line %u: %s", c->row_line, reason);
}

static int store_field(struct field *f, const char *text, size_t len)
{
        if (len + 1 > f->cap) {
                char *grown = realloc(f->text, len + 1);

                if (!grown)
                        return -ENOMEM;
                f->text = grown;
                f->cap = len + 1;
        }
        memcpy(f->text, text, len);
        f->text[len] = '\0';
        return 0;
}

/* ---- bracketed lists: "[A][B]", "[1][RFC4727][RFC6335]" --------------- */

/*
 * Splits s in place into its bracketed items.  Brackets nest, so a text
 * reference may hold "[...]" of its own; text outside brackets, an empty
 * item or an unclosed bracket is an error (-EINVAL), too many items -E2BIG.
 */
static int split_brackets(char *s, char **items, size_t max, size_t *n)
{
        *n = 0;
        while (*s) {
                int nesting = 1;
                char *start;

                if (import_is_blank((unsigned char)*s)) {
                        s++;
                        continue;
                }
                if (*s != '[')
                        return -EINVAL;
                start = ++s;
                for (; *s && nesting > 0; s++)
                        nesting += *s == '[' ? 1 : *s == ']' ? -1 : 0;
                if (nesting > 0 || s - 1 == start)
                        return -EINVAL;
                if (*n == max)
                        return -E2BIG;
                s[-1] = '\0';
                items[(*n)++] = start;
        }
        return 0;
}

static int add_person_once(struct csv_reader *c, const char *id)
{
        struct rsap_person person = { .id = id };
        int ret = import_map_add(&c->people, id, NULL);

        if (ret <= 0)
                return ret;
        ret = rsap_builder_add_person(c->b, &person);
        return ret < 0 ? row_error(c, "cannot add person \"%.60s\": %s", id, strerror(-ret)) : 0;
}

static int read_people(struct csv_reader *c, char *text, struct rsap_person *list, size_t *n)
{
        char *ids[RSAP_MAX_PEOPLE];
        size_t n_ids;
        int ret = split_brackets(text, ids, RSAP_MAX_PEOPLE, &n_ids);

        if (ret == -E2BIG)
                return row_error(c, "more than %d people", RSAP_MAX_PEOPLE);
        if (ret < 0)
                return row_error(c, "bad person list \"%.60s\"", text);
        for (size_t i = 0; i < n_ids; i++) {
                if ((ret = add_person_once(c, ids[i])) < 0)
                        return ret;
                import_add_person_id(list, n, ids[i]);
        }
        return 0;
}

/* "RFC4340", or "RFC8765, Section 6.1": the number alone makes the URL. */
static int rfc_reference(struct csv_reader *c, const char *item, struct rsap_reference *out)
{
        size_t len = 3;
        char id[16];

        if (strncasecmp(item, "RFC", 3) != 0)
                return -EINVAL;
        while (item[len] >= '0' && item[len] <= '9' && len < sizeof(id) - 1)
                len++;
        if (item[len] != '\0' && item[len] != ',' && item[len] != ' ')
                return -EINVAL;
        memcpy(id, item, len);
        id[len] = '\0';
        return import_ref_rfc(&c->pool, id, item[len] ? item : NULL, out);
}

static int classify_reference(struct csv_reader *c, char *item, struct rsap_reference *out)
{
        int ret = rfc_reference(c, item, out);

        if (ret != -EINVAL)
                return ret;
        if (strncmp(item, "draft-", 6) == 0 || strncmp(item, "RFC-", 4) == 0)
                return import_ref_draft(&c->pool, item, out);
        if (strncasecmp(item, "http://", 7) == 0 || strncasecmp(item, "https://", 8) == 0) {
                *out = (struct rsap_reference){ RSAP_REF_URI, item, item };
                return 0;
        }
        if (import_decimal_valid(item)) {
                /* A footnote of the registry, whose text only the XML has. */
                out->type = RSAP_REF_NOTE;
                out->text = import_strings_printf(&c->pool, "[%s]", item);
                out->url = NULL;
                return out->text ? 0 : -ENOMEM;
        }
        *out = (struct rsap_reference){ RSAP_REF_TEXT, item, NULL };
        return 0;
}

static int read_references(struct csv_reader *c, char *text, struct rsap_record *r)
{
        char *items[RSAP_MAX_REFERENCES];
        size_t n_items;
        int ret = split_brackets(text, items, RSAP_MAX_REFERENCES, &n_items);

        if (ret == -E2BIG)
                return row_error(c, "more than %d references", RSAP_MAX_REFERENCES);
        if (ret < 0)
                return row_error(c, "bad reference list \"%.60s\"", text);
        for (size_t i = 0; i < n_items; i++) {
                struct rsap_reference ref;

                if ((ret = classify_reference(c, items[i], &ref)) < 0)
                        return ret;
                import_add_reference(r, &ref);
        }
        return 0;
}

/* ---- rows -------------------------------------------------------------- */

static int check_header(struct csv_reader *c)
{
        for (size_t i = 0; i < COL_COUNT; i++)
                if (strcmp(c->fields[i].text, header[i]) != 0)
                        return row_error(c, "not IANA's CSV header: column %zu is \"%.40s\", "
                                            "expected \"%s\"", i + 1, c->fields[i].text,
                                         header[i]);
        return 0;
}

static int read_date(struct csv_reader *c, const char *text, const char **out)
{
        *out = text;
        if (!text)
                return 0;
        if (!import_date_valid(text))
                return row_error(c, "bad date \"%.60s\"", text);
        if (strcmp(text, c->release) > 0)
                snprintf(c->release, sizeof(c->release), "%s", text);
        return 0;
}

static int read_port_and_protocol(struct csv_reader *c, char *const *col, struct rsap_record *r)
{
        int ret;

        if (col[COL_PORT] && (ret = import_port_range(col[COL_PORT], r)) < 0)
                return row_error(c, "bad port number \"%.60s\"", col[COL_PORT]);
        if (col[COL_PROTOCOL] && rsap_proto_parse(col[COL_PROTOCOL], &r->proto) < 0)
                return row_error(c, "unknown protocol \"%.60s\"", col[COL_PROTOCOL]);
        return 0;
}

static int read_record(struct csv_reader *c, char *const *col)
{
        struct rsap_record r = {
                .service = col[COL_SERVICE],
                .description = col[COL_DESCRIPTION],
                .unauthorized_use = col[COL_UNAUTHORIZED],
                .notes = col[COL_NOTES],
                .service_code = col[COL_SERVICE_CODE],
                .source = RSAP_SOURCE_IANA_CSV,
        };
        int ret;

        if ((ret = read_port_and_protocol(c, col, &r)) < 0)
                return ret;
        if (r.service_code && !import_decimal_valid(r.service_code))
                return row_error(c, "bad DCCP service code \"%.60s\"", r.service_code);
        if ((ret = read_date(c, col[COL_REGISTERED], &r.registered)) < 0 ||
            (ret = read_date(c, col[COL_MODIFIED], &r.modified)) < 0)
                return ret;
        if ((col[COL_ASSIGNEE] &&
             (ret = read_people(c, col[COL_ASSIGNEE], r.assignee, &r.n_assignee)) < 0) ||
            (col[COL_CONTACT] &&
             (ret = read_people(c, col[COL_CONTACT], r.contact, &r.n_contact)) < 0) ||
            (col[COL_REFERENCE] && (ret = read_references(c, col[COL_REFERENCE], &r)) < 0))
                return ret;
        return import_add_record(c->b, &r, &c->port_slots, c->row_line, c->err);
}

/* Cleans every column up in place; an empty one becomes NULL. */
static void clean_columns(struct csv_reader *c, char **col)
{
        for (size_t i = 0; i < COL_COUNT; i++) {
                char *text = c->fields[i].text;
                size_t len = column_is_multiline((enum column)i) ? import_tidy(text)
                                                                  : import_squash(text);

                col[i] = len ? text : NULL;
        }
}

static int handle_row(struct csv_reader *c)
{
        char *col[COL_COUNT];
        int ret;

        if (c->rows == 0 && c->n_fields != COL_COUNT)
                return row_error(c, "not IANA's CSV header: %zu columns, expected %d",
                                 c->n_fields, COL_COUNT);
        if (c->n_fields != COL_COUNT)
                return row_error(c, "%zu columns, expected %d", c->n_fields, COL_COUNT);
        if (c->rows == 0)
                return check_header(c);
        clean_columns(c, col);
        import_strings_clear(&c->pool);
        ret = read_record(c, col);
        import_strings_clear(&c->pool);
        return ret;
}

/* ---- libcsv callbacks: they cannot stop the parser, so they record the
 * first error and the feeding loop stops after the current line. -------- */

static void on_field(void *text, size_t len, void *arg)
{
        struct csv_reader *c = arg;

        if (c->status)
                return;
        if (c->n_fields < COL_COUNT &&
            store_field(&c->fields[c->n_fields], text ? text : "", text ? len : 0) < 0)
                c->status = import_fail(c->err, -ENOMEM, c->row_line, "out of memory");
        c->n_fields++;
}

static void on_row(int terminator, void *arg)
{
        struct csv_reader *c = arg;

        (void)terminator; /* LF, CR, or -1 at the end: all the same here */
        if (!c->status) {
                c->status = handle_row(c);
                c->rows++;
        }
        c->n_fields = 0;
        c->row_line = 0;
}

static bool line_is_blank(const char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (!import_is_blank((unsigned char)p[i]))
                        return false;
        return true;
}

static int parse_failure(struct csv_reader *c, struct csv_parser *p)
{
        unsigned line = c->row_line ? c->row_line : c->line;

        if (csv_error(p) == CSV_EPARSE)
                return import_fail(c->err, -EBADMSG, line,
                                   "line %u: malformed quoting (a stray or unbalanced '\"')", line);
        return import_fail(c->err, -ENOMEM, line, "line %u: %s", line,
                           csv_strerror(csv_error(p)));
}

/* Feeds one physical line at a time, which is how errors get line numbers. */
static int parse_lines(struct csv_reader *c, struct csv_parser *p, const char *data, size_t size)
{
        size_t pos = 0;

        while (pos < size) {
                const char *nl = memchr(data + pos, '\n', size - pos);
                size_t len = nl ? (size_t)(nl - data - pos) + 1 : size - pos;

                c->line++;
                if (!c->row_line && !line_is_blank(data + pos, len))
                        c->row_line = c->line;
                if (csv_parse(p, data + pos, len, on_field, on_row, c) != len)
                        return c->status ? c->status : parse_failure(c, p);
                if (c->status)
                        return c->status;
                pos += len;
        }
        if (csv_fini(p, on_field, on_row, c) != 0)
                return parse_failure(c, p);
        return c->status;
}

static void csv_reader_done(struct csv_reader *c)
{
        for (size_t i = 0; i < COL_COUNT; i++)
                free(c->fields[i].text);
        import_strings_free(&c->pool);
        import_map_free(&c->people);
}

static void csv_parser_done(struct csv_parser *p)
{
        csv_free(p);
}

static int import_csv(struct csv_reader *c, const char *data, size_t size)
{
        _cleanup_(csv_parser_done) struct csv_parser p = { 0 };
        int ret;

        /* CSV_STRICT: a quote inside an unquoted field, or text after a
         * closing quote, is an error; CSV_STRICT_FINI: so is an unclosed
         * quote at the end of the input. */
        if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
                return import_fail(c->err, -ENOMEM, 0, "out of memory");
        /* libcsv grows a field by this much at a time; IANA's longest is
         * a few KiB, a hostile one can be megabytes. */
        csv_set_blk_size(&p, 64 * 1024);
        ret = parse_lines(c, &p, data, size);
        if (ret < 0)
                return ret;
        if (c->rows < 2)
                return import_fail(c->err, -EBADMSG, c->line, "no records");
        if (c->release[0] && rsap_builder_set_release(c->b, c->release) < 0)
                return import_fail(c->err, -ENOMEM, 0, "out of memory");
        return 0;
}

int rsap_import_iana_csv(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err)
{
        _cleanup_(csv_reader_done) struct csv_reader c = { .b = b, .err = err };
        const char *text = data;
        int ret;

        import_error_clear(err);
        if ((ret = import_check_size(data, size, err)) < 0 ||
            (ret = import_check_utf8(data, size, err)) < 0)
                return ret;
        if (size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
                text += 3;
                size -= 3;
        }
        rsap_builder_set_source(b, RSAP_SOURCE_IANA_CSV);
        return import_done(err, import_csv(&c, text, size));
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlreader.h>

#include "import_internal.h"

/*
 * IANA's registry XML, read as a stream with libxml2's xmlTextReader: the
 * document is never held as a tree.  Only the registry's own namespace is
 * understood; markup from any other is skipped, its text kept.  The five
 * predefined entities and character references are decoded; any other
 * entity reference is dropped, never expanded or fetched.
 *
 * Text rendering (descriptions, notes): <br/> is a line break (with the
 * source newline that usually follows it), <paragraph> is set off by an
 * empty line, the source indentation of every line is dropped, and an xref
 * inside text shows as its label in brackets, the way IANA's own CSV shows
 * it: "[RFC9900]", "[Bernie_Volz]", "[http://...]".  Names, footnotes,
 * reference labels and people's fields are squashed onto one line.
 *
 * Footnotes come after the records that cite them, so a document that has
 * any is read twice: once for the footnotes, once for the rest.
 */

#define IANA_NS "http://www.iana.org/assignments"

/* Never the network, never an external DTD or entity (no XML_PARSE_NOENT,
 * no XML_PARSE_DTDLOAD), no XML_PARSE_HUGE; errors go to our handler. */
#define READER_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

struct xml {
        xmlTextReaderPtr reader;
        struct rsap_builder *b;
        struct rsap_import_error *err;
        struct import_map footnotes;   /* anchor -> text */
        struct import_strings pool;    /* the current record's or person's */
        char xml_error[160];           /* libxml2's first error */
        unsigned xml_error_line;
        size_t records;
        size_t port_slots;             /* see IMPORT_MAX_PORT_SLOTS */
        bool have_release;
};

enum text_form {
        TEXT_LINES, /* import_tidy(): keeps line breaks */
        TEXT_LINE,  /* import_squash(): one line */
};

/* An xref's three parts, strings in the pool, NULL when absent or empty. */
struct xref {
        const char *type, *data, *content;
};

#if LIBXML_VERSION >= 21200
static void on_xml_error(void *arg, const xmlError *e)
#else
static void on_xml_error(void *arg, xmlErrorPtr e)
#endif
{
        struct xml *x = arg;

        if (e->level < XML_ERR_ERROR || x->xml_error[0])
                return;
        snprintf(x->xml_error, sizeof(x->xml_error), "%s", e->message ? e->message : "");
        if (import_squash(x->xml_error) == 0)
                snprintf(x->xml_error, sizeof(x->xml_error), "malformed XML");
        x->xml_error_line = e->line > 0 ? (unsigned)e->line : 0;
}

static unsigned line_now(struct xml *x)
{
        int line = xmlTextReaderGetParserLineNumber(x->reader);

        return line > 0 ? (unsigned)line : 0;
}

static int xml_failure(struct xml *x)
{
        if (x->xml_error[0])
                return import_fail(x->err, -EBADMSG, x->xml_error_line, "line %u: %s",
                                   x->xml_error_line, x->xml_error);
        return import_fail(x->err, -EBADMSG, line_now(x), "line %u: malformed XML",
                           line_now(x));
}

/* Moves to the next node; the document must not end here. */
static int advance(struct xml *x)
{
        int ret = xmlTextReaderRead(x->reader);

        if (ret == 1)
                return 0;
        if (ret == 0 && !x->xml_error[0])
                return import_fail(x->err, -EBADMSG, line_now(x),
                                   "line %u: the document ends inside an element", line_now(x));
        return xml_failure(x);
}

static int node_type(struct xml *x)
{
        return xmlTextReaderNodeType(x->reader);
}

static int depth(struct xml *x)
{
        return xmlTextReaderDepth(x->reader);
}

/* The local name of an element in IANA's namespace; "" for any other. */
static const char *iana_name(struct xml *x)
{
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(x->reader);
        const char *name = (const char *)xmlTextReaderConstLocalName(x->reader);

        if (!ns || !name || strcmp(ns, IANA_NS) != 0)
                return "";
        return name;
}

/*
 * Moves to the next element child of the element at parent_depth: 1 when on
 * one, 0 at the parent's end.  Each caller consumes a child whole (see
 * skip_element), so every element met here is a child.
 */
static int next_child(struct xml *x, int parent_depth)
{
        for (;;) {
                int ret = advance(x);

                if (ret < 0)
                        return ret;
                if (node_type(x) == XML_READER_TYPE_END_ELEMENT && depth(x) == parent_depth)
                        return 0;
                if (node_type(x) == XML_READER_TYPE_ELEMENT)
                        return 1;
        }
}

/* Consumes the current element's subtree, leaving the reader on its end. */
static int skip_element(struct xml *x)
{
        int start = depth(x);

        if (xmlTextReaderIsEmptyElement(x->reader))
                return 0;
        for (;;) {
                int ret = advance(x);

                if (ret < 0)
                        return ret;
                if (node_type(x) == XML_READER_TYPE_END_ELEMENT && depth(x) == start)
                        return 0;
        }
}

/* An attribute's value kept in the pool; NULL when absent or empty. */
static int read_attribute(struct xml *x, const char *name, const char **out)
{
        xmlChar *value = xmlTextReaderGetAttribute(x->reader, BAD_CAST name);
        char *s;

        *out = NULL;
        if (!value)
                return 0;
        s = import_strings_dup(&x->pool, (const char *)value, strlen((const char *)value));
        xmlFree(value);
        if (!s)
                return -ENOMEM;
        *out = *s ? s : NULL;
        return 0;
}

static int read_xref(struct xml *x, struct xref *ref);

/* Appends "[label]" for an xref met inside text. */
static int append_inline_xref(struct xml *x, struct rsap_buf *buf)
{
        struct xref ref;
        const char *label;
        int ret = read_xref(x, &ref);

        if (ret < 0)
                return ret;
        if (ref.type && strcmp(ref.type, "rfc") == 0 && ref.data &&
            strncasecmp(ref.data, "rfc", 3) == 0) {
                if ((ret = rsap_buf_puts(buf, "[RFC")) < 0 ||
                    (ret = rsap_buf_puts(buf, ref.data + 3)) < 0)
                        return ret;
                return rsap_buf_puts(buf, "]");
        }
        if (ref.type && (strcmp(ref.type, "uri") == 0 || strcmp(ref.type, "text") == 0))
                label = ref.content ? ref.content : ref.data;
        else
                label = ref.data ? ref.data : ref.content;
        if (!label)
                return 0;
        if ((ret = rsap_buf_puts(buf, "[")) < 0 || (ret = rsap_buf_puts(buf, label)) < 0)
                return ret;
        return rsap_buf_puts(buf, "]");
}

static int append_markup(struct xml *x, struct rsap_buf *buf, bool end)
{
        const char *name = iana_name(x);

        if (strcmp(name, "paragraph") == 0)
                return rsap_buf_puts(buf, "\n\n");
        if (end)
                return 0;
        if (strcmp(name, "br") == 0)
                return rsap_buf_puts(buf, "\n");
        if (strcmp(name, "xref") == 0)
                return append_inline_xref(x, buf);
        return 0; /* unknown markup: its text flows in */
}

/*
 * IANA writes "keys:<br/>" and goes on on the next source line; that
 * newline belongs to the <br/>, or every break would show as two.
 */
static const char *after_line_break(const char *text)
{
        const char *p = text;

        while (*p == ' ' || *p == '\t' || *p == '\r')
                p++;
        return *p == '\n' ? p + 1 : text;
}

static bool is_line_break(struct xml *x)
{
        return node_type(x) == XML_READER_TYPE_ELEMENT && strcmp(iana_name(x), "br") == 0;
}

/* Appends the raw text of the current element's content. */
static int read_content(struct xml *x, struct rsap_buf *buf)
{
        int start = depth(x);
        bool after_br = false;

        if (xmlTextReaderIsEmptyElement(x->reader))
                return 0;
        for (;;) {
                const char *value;
                int ret = advance(x);

                if (ret < 0)
                        return ret;
                switch (node_type(x)) {
                case XML_READER_TYPE_END_ELEMENT:
                        if (depth(x) == start)
                                return 0;
                        ret = append_markup(x, buf, true);
                        break;
                case XML_READER_TYPE_ELEMENT:
                        ret = append_markup(x, buf, false);
                        break;
                case XML_READER_TYPE_TEXT:
                case XML_READER_TYPE_CDATA:
                case XML_READER_TYPE_WHITESPACE:
                case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
                        value = (const char *)xmlTextReaderConstValue(x->reader);
                        if (value && after_br)
                                value = after_line_break(value);
                        ret = value ? rsap_buf_puts(buf, value) : 0;
                        break;
                default:
                        continue; /* comments, processing instructions, entity references */
                }
                if (ret < 0)
                        return ret;
                after_br = is_line_break(x);
        }
}

/* The current element's text, cleaned up and kept in the pool; NULL when empty. */
static int read_text(struct xml *x, enum text_form form, const char **out)
{
        _cleanup_(rsap_buf_free) struct rsap_buf buf = { 0 };
        char *text;
        size_t len;
        int ret;

        *out = NULL;
        ret = read_content(x, &buf);
        if (ret < 0 || !buf.data)
                return ret;
        len = form == TEXT_LINES ? import_tidy(buf.data) : import_squash(buf.data);
        if (len == 0)
                return 0;
        text = buf.data;
        buf = (struct rsap_buf){ 0 };
        if (!import_strings_keep(&x->pool, text))
                return -ENOMEM;
        *out = text;
        return 0;
}

static int read_xref(struct xml *x, struct xref *ref)
{
        int ret;

        *ref = (struct xref){ 0 };
        if ((ret = read_attribute(x, "type", &ref->type)) < 0 ||
            (ret = read_attribute(x, "data", &ref->data)) < 0)
                return ret;
        return read_text(x, TEXT_LINE, &ref->content);
}

/* ---- footnotes (first pass) ------------------------------------------- */

static int collect_footnote(struct xml *x, const char *name)
{
        const char *anchor, *text;
        int ret;

        if (strcmp(name, "footnote") != 0)
                return skip_element(x);
        import_strings_clear(&x->pool);
        if ((ret = read_attribute(x, "anchor", &anchor)) < 0 ||
            (ret = read_text(x, TEXT_LINE, &text)) < 0)
                return ret;
        if (anchor && import_map_add(&x->footnotes, anchor, text) < 0)
                return -ENOMEM;
        return 0;
}

/* ---- records ----------------------------------------------------------- */

struct record_reader {
        struct rsap_record rec;
        bool has_assignee_element;
        unsigned seen; /* record_fields[] already met, one bit each */
        unsigned line;
};

static int record_error(struct xml *x, const struct record_reader *rr, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int record_error(struct xml *x, const struct record_reader *rr, const char *fmt, ...)
{
        char reason[120];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return import_fail(x->err, -EBADMSG, rr->line, "line %u: record: %s", rr->line, reason);
}

enum record_field {
        FIELD_NAME,
        FIELD_PROTOCOL,
        FIELD_NUMBER,
        FIELD_DESCRIPTION,
        FIELD_NOTE,
        FIELD_UNAUTHORIZED,
        FIELD_SERVICE_CODE,
        FIELD_COUNT,
};

static const struct {
        const char *element;
        enum text_form form;
} record_fields[FIELD_COUNT] = {
        [FIELD_NAME] = { "name", TEXT_LINE },
        [FIELD_PROTOCOL] = { "protocol", TEXT_LINE },
        [FIELD_NUMBER] = { "number", TEXT_LINE },
        [FIELD_DESCRIPTION] = { "description", TEXT_LINES },
        [FIELD_NOTE] = { "note", TEXT_LINES },
        [FIELD_UNAUTHORIZED] = { "unauthorized", TEXT_LINES },
        [FIELD_SERVICE_CODE] = { "sc", TEXT_LINE },
};

/* text is NULL for an empty element, which means the same as a missing one. */
static int set_record_field(struct xml *x, struct record_reader *rr, enum record_field field,
                            const char *text)
{
        struct rsap_record *r = &rr->rec;

        switch (field) {
        case FIELD_NAME:
                r->service = text;
                break;
        case FIELD_PROTOCOL:
                if (text && rsap_proto_parse(text, &r->proto) < 0)
                        return record_error(x, rr, "unknown protocol \"%.60s\"", text);
                break;
        case FIELD_NUMBER:
                if (text && import_port_range(text, r) < 0)
                        return record_error(x, rr, "bad port number \"%.60s\"", text);
                break;
        case FIELD_DESCRIPTION:
                r->description = text;
                break;
        case FIELD_NOTE:
                r->notes = text;
                break;
        case FIELD_UNAUTHORIZED:
                r->unauthorized_use = text;
                break;
        case FIELD_SERVICE_CODE:
                if (text && !import_decimal_valid(text))
                        return record_error(x, rr, "bad DCCP service code \"%.60s\"", text);
                r->service_code = text;
                break;
        case FIELD_COUNT:
                break;
        }
        return 0;
}

static int read_record_field(struct xml *x, struct record_reader *rr, enum record_field field)
{
        const char *text;
        int ret;

        if (rr->seen & (1u << field))
                return record_error(x, rr, "<%s> appears twice", record_fields[field].element);
        rr->seen |= 1u << field;
        ret = read_text(x, record_fields[field].form, &text);
        if (ret < 0)
                return ret;
        return set_record_field(x, rr, field, text);
}

static int add_person(struct xml *x, struct record_reader *rr, struct rsap_person *list,
                      size_t *n, const char *id)
{
        if (!id)
                return record_error(x, rr, "person xref without data");
        if (import_add_person_id(list, n, id) < 0)
                return record_error(x, rr, "more than %d people", RSAP_MAX_PEOPLE);
        return 0;
}

static int read_assignee(struct xml *x, struct record_reader *rr)
{
        int ret;

        rr->has_assignee_element = true;
        if (xmlTextReaderIsEmptyElement(x->reader))
                return 0;
        for (int parent = depth(x); (ret = next_child(x, parent)) > 0;) {
                struct xref ref;

                if (strcmp(iana_name(x), "xref") != 0) {
                        ret = skip_element(x);
                } else if ((ret = read_xref(x, &ref)) == 0 && ref.type &&
                           strcmp(ref.type, "person") == 0) {
                        ret = add_person(x, rr, rr->rec.assignee, &rr->rec.n_assignee, ref.data);
                }
                if (ret < 0)
                        return ret;
        }
        return ret;
}

/* The registry's footnote for a note xref, or "[anchor]" when it has none. */
static int note_reference(struct xml *x, const char *anchor, struct rsap_reference *out)
{
        bool found;
        const char *text = import_map_get(&x->footnotes, anchor, &found);

        out->type = RSAP_REF_NOTE;
        out->url = NULL;
        out->text = text ? import_strings_dup(&x->pool, text, strlen(text))
                         : import_strings_printf(&x->pool, "[%s]", anchor);
        return out->text ? 0 : -ENOMEM;
}

static int make_reference(struct xml *x, struct record_reader *rr, const struct xref *ref,
                          struct rsap_reference *out)
{
        const char *type = ref->type ? ref->type : "";
        bool needs_data = strcmp(type, "rfc") == 0 || strcmp(type, "draft") == 0 ||
                          strcmp(type, "uri") == 0 || strcmp(type, "note") == 0;

        if (needs_data && !ref->data)
                return record_error(x, rr, "<xref type=\"%s\"> without data", type);
        if (strcmp(type, "rfc") == 0) {
                /* The content, when given, is the label: "RFC8765, Section 6.1". */
                if (import_ref_rfc(&x->pool, ref->data, ref->content, out) == 0)
                        return 0;
                *out = (struct rsap_reference){ RSAP_REF_RFC,
                                                ref->content ? ref->content : ref->data, NULL };
                return 0;
        }
        if (strcmp(type, "draft") == 0)
                return import_ref_draft(&x->pool, ref->data, out);
        if (strcmp(type, "note") == 0)
                return note_reference(x, ref->data, out);
        if (strcmp(type, "uri") == 0) {
                *out = (struct rsap_reference){ RSAP_REF_URI,
                                                ref->content ? ref->content : ref->data,
                                                ref->data };
                return 0;
        }
        /* "text", and any type this reader does not know, show as text. */
        *out = (struct rsap_reference){ RSAP_REF_TEXT, ref->content ? ref->content : ref->data,
                                        NULL };
        if (!out->text)
                return record_error(x, rr, "<xref type=\"%s\"> with neither data nor text",
                                    type);
        return 0;
}

static int read_record_xref(struct xml *x, struct record_reader *rr)
{
        struct rsap_reference out;
        struct xref ref;
        int ret = read_xref(x, &ref);

        if (ret < 0)
                return ret;
        if (ref.type && strcmp(ref.type, "person") == 0)
                return add_person(x, rr, rr->rec.contact, &rr->rec.n_contact, ref.data);
        ret = make_reference(x, rr, &ref, &out);
        if (ret < 0)
                return ret;
        if (import_add_reference(&rr->rec, &out) < 0)
                return record_error(x, rr, "more than %d references", RSAP_MAX_REFERENCES);
        return 0;
}

static int read_record_child(struct xml *x, struct record_reader *rr)
{
        const char *name = iana_name(x);

        if (strcmp(name, "xref") == 0)
                return read_record_xref(x, rr);
        if (strcmp(name, "assignee") == 0)
                return read_assignee(x, rr);
        for (unsigned f = 0; f < FIELD_COUNT; f++)
                if (strcmp(name, record_fields[f].element) == 0)
                        return read_record_field(x, rr, (enum record_field)f);
        return skip_element(x);
}

static int read_record_dates(struct xml *x, struct record_reader *rr)
{
        int ret;

        if ((ret = read_attribute(x, "date", &rr->rec.registered)) < 0 ||
            (ret = read_attribute(x, "updated", &rr->rec.modified)) < 0)
                return ret;
        if (rr->rec.registered && !import_date_valid(rr->rec.registered))
                return record_error(x, rr, "bad date \"%.60s\"", rr->rec.registered);
        if (rr->rec.modified && !import_date_valid(rr->rec.modified))
                return record_error(x, rr, "bad date \"%.60s\"", rr->rec.modified);
        return 0;
}

static int read_record(struct xml *x)
{
        struct record_reader rr = { .rec.source = RSAP_SOURCE_IANA_XML, .line = line_now(x) };
        int ret;

        import_strings_clear(&x->pool);
        ret = read_record_dates(x, &rr);
        if (ret < 0)
                return ret;
        if (!xmlTextReaderIsEmptyElement(x->reader)) {
                for (int parent = depth(x); (ret = next_child(x, parent)) > 0;)
                        if ((ret = read_record_child(x, &rr)) < 0)
                                return ret;
                if (ret < 0)
                        return ret;
        }
        /* With no <assignee>, IANA's CSV shows the contact as assignee too. */
        if (!rr.has_assignee_element) {
                memcpy(rr.rec.assignee, rr.rec.contact, sizeof(rr.rec.contact));
                rr.rec.n_assignee = rr.rec.n_contact;
        }
        ret = import_add_record(x->b, &rr.rec, &x->port_slots, rr.line, x->err);
        import_strings_clear(&x->pool);
        if (ret == 0)
                x->records++;
        return ret;
}

/* ---- people ------------------------------------------------------------ */

/* The first mailto: is the address ('&' stands for '@' unless an '@' is
 * there already); the first other URI is kept as the person's URI. */
static void add_person_uri(struct rsap_person *p, char *uri)
{
        if (strncasecmp(uri, "mailto:", 7) != 0) {
                if (!p->uri)
                        p->uri = uri;
                return;
        }
        if (p->email || !uri[7])
                return;
        uri += 7;
        if (!strchr(uri, '@'))
                for (char *c = uri; (c = strchr(c, '&'));)
                        *c = '@';
        p->email = uri;
}

static int read_person_child(struct xml *x, struct rsap_person *p)
{
        const char *name = iana_name(x);
        const char *text;
        int ret;

        if (strcmp(name, "name") != 0 && strcmp(name, "org") != 0 && strcmp(name, "uri") != 0)
                return skip_element(x);
        ret = read_text(x, TEXT_LINE, &text);
        if (ret < 0 || !text)
                return ret;
        if (strcmp(name, "uri") == 0)
                add_person_uri(p, (char *)text);
        else if (strcmp(name, "name") == 0 && !p->name)
                p->name = text;
        else if (strcmp(name, "org") == 0 && !p->org)
                p->org = text;
        return 0;
}

static int read_person(struct xml *x)
{
        struct rsap_person p = { 0 };
        unsigned line = line_now(x);
        int ret;

        import_strings_clear(&x->pool);
        ret = read_attribute(x, "id", &p.id);
        if (ret < 0)
                return ret;
        if (!p.id)
                return import_fail(x->err, -EBADMSG, line, "line %u: <person> without id", line);
        if (!xmlTextReaderIsEmptyElement(x->reader)) {
                for (int parent = depth(x); (ret = next_child(x, parent)) > 0;)
                        if ((ret = read_person_child(x, &p)) < 0)
                                return ret;
                if (ret < 0)
                        return ret;
        }
        ret = rsap_builder_add_person(x->b, &p);
        import_strings_clear(&x->pool);
        if (ret < 0)
                return import_fail(x->err, ret, line, "line %u: cannot add person: %s", line,
                                   strerror(-ret));
        return 0;
}

static int read_people(struct xml *x)
{
        int ret;

        if (xmlTextReaderIsEmptyElement(x->reader))
                return 0;
        for (int parent = depth(x); (ret = next_child(x, parent)) > 0;) {
                ret = strcmp(iana_name(x), "person") == 0 ? read_person(x) : skip_element(x);
                if (ret < 0)
                        return ret;
        }
        return ret;
}

/* ---- the registry ------------------------------------------------------ */

static int read_release(struct xml *x)
{
        unsigned line = line_now(x);
        const char *text;
        int ret;

        import_strings_clear(&x->pool);
        ret = read_text(x, TEXT_LINE, &text);
        if (ret < 0 || !text || x->have_release)
                return ret;
        if (!import_date_valid(text))
                return import_fail(x->err, -EBADMSG, line, "line %u: bad <updated> date \"%.60s\"",
                                   line, text);
        ret = rsap_builder_set_release(x->b, text);
        x->have_release = ret == 0;
        return ret;
}

static int read_registry_child(struct xml *x, const char *name)
{
        if (strcmp(name, "record") == 0)
                return read_record(x);
        if (strcmp(name, "people") == 0)
                return read_people(x);
        if (strcmp(name, "updated") == 0)
                return read_release(x);
        return skip_element(x);
}

static int find_root(struct xml *x)
{
        const char *name;

        for (;;) {
                int ret = xmlTextReaderRead(x->reader);

                if (ret < 0)
                        return xml_failure(x);
                if (ret == 0)
                        return import_fail(x->err, -EBADMSG, line_now(x), "no root element");
                if (node_type(x) == XML_READER_TYPE_ELEMENT)
                        break;
        }
        name = iana_name(x);
        if (strcmp(name, "registry") == 0)
                return 0;
        name = (const char *)xmlTextReaderConstName(x->reader);
        return import_fail(x->err, -EBADMSG, line_now(x),
                           "line %u: the root element <%.60s> is not IANA's <registry> in %s",
                           line_now(x), name ? name : "", IANA_NS);
}

/* Calls on_child for each child of the root, then reads to the end so that
 * junk after the root is an error too. */
static int walk_registry(struct xml *x, int (*on_child)(struct xml *x, const char *name))
{
        int ret = find_root(x);

        if (ret < 0)
                return ret;
        if (!xmlTextReaderIsEmptyElement(x->reader)) {
                while ((ret = next_child(x, 0)) > 0)
                        if ((ret = on_child(x, iana_name(x))) < 0)
                                return ret;
                if (ret < 0)
                        return ret;
        }
        while ((ret = xmlTextReaderRead(x->reader)) == 1)
                ;
        /* Errors libxml2 recovers from (bad namespaces, say) still fail. */
        if (ret < 0 || x->xml_error[0])
                return xml_failure(x);
        return 0;
}

/* libxml2's messages that bypass the reader's handler ("encoding error :
 * input conversion failed...") go nowhere: the library never prints, and the
 * structured handler has already recorded the error that counts. */
static void drop_generic_error(void *ctx, const char *msg, ...)
{
        struct xml *x = ctx;

        (void)msg;
        if (!x->xml_error[0])
                snprintf(x->xml_error, sizeof(x->xml_error), "malformed XML or encoding");
}

static int run_pass(struct xml *x, const void *data, size_t size,
                    int (*on_child)(struct xml *x, const char *name))
{
        /* libxml2 keeps these per thread: saved and put back around the pass. */
        xmlGenericErrorFunc old_generic = xmlGenericError;
        void *old_generic_ctx = xmlGenericErrorContext;
        xmlStructuredErrorFunc old_structured = xmlStructuredError;
        void *old_structured_ctx = xmlStructuredErrorContext;
        int ret;

        xmlSetGenericErrorFunc(x, drop_generic_error);
        xmlSetStructuredErrorFunc(x, on_xml_error);
        x->reader = xmlReaderForMemory(data, (int)size, NULL, NULL, READER_OPTIONS);
        if (x->reader) {
                xmlTextReaderSetStructuredErrorHandler(x->reader, on_xml_error, x);
                ret = walk_registry(x, on_child);
                xmlFreeTextReader(x->reader);
                x->reader = NULL;
        } else {
                ret = -ENOMEM;
        }
        xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
        xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
        return ret;
}

static void xml_done(struct xml *x)
{
        import_map_free(&x->footnotes);
        import_strings_free(&x->pool);
}

static int import_xml(struct xml *x, const void *data, size_t size)
{
        int ret;

        /* A document that never says "footnote" has none to collect. */
        if (memmem(data, size, "footnote", 8)) {
                ret = run_pass(x, data, size, collect_footnote);
                if (ret < 0)
                        return ret;
        }
        ret = run_pass(x, data, size, read_registry_child);
        if (ret < 0)
                return ret;
        if (x->records == 0)
                return import_fail(x->err, -EBADMSG, 0, "no records");
        return 0;
}

int rsap_import_iana_xml(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err)
{
        _cleanup_(xml_done) struct xml x = { .b = b, .err = err };
        int ret;

        import_error_clear(err);
        ret = import_check_size(data, size, err);
        if (ret < 0)
                return ret;
        rsap_builder_set_source(b, RSAP_SOURCE_IANA_XML);
        return import_done(err, import_xml(&x, data, size));
}

/* SPDX-License-Identifier: MIT */
/*
 * The two importers: each reads its fixture (tests/fixtures/import-*,
 * written by hand in IANA's shapes) into a snapshot whose records are
 * checked field by field, and refuses malformed input with -EBADMSG (or the
 * documented code) and a message.  Runs with tests/fixtures as its directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rsap/import.h>
#include <rsap/iana.h>

typedef int (*import_fn)(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err);

struct imported {
        void *snap;
        struct rsap_iana *reg;
};

static char *read_fixture(const char *name, size_t *size)
{
        FILE *f = fopen(name, "rb");
        char *data;
        long n;

        if (!f)
                fail_msg("cannot open fixture %s (the test runs in tests/fixtures)", name);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        data = malloc((size_t)n);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        *size = (size_t)n;
        return data;
}

static void import_ok(import_fn fn, const void *data, size_t size, struct imported *out)
{
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_import_error err;
        size_t snap_size;
        int r;

        assert_non_null(b);
        r = fn(data, size, b, &err);
        if (r != 0)
                fail_msg("import failed: %d, line %u: %s", r, err.line, err.message);
        assert_int_equal(rsap_builder_finish(b, &out->snap, &snap_size), 0);
        rsap_builder_free(b);
        assert_int_equal(rsap_iana_open_memory(out->snap, snap_size, &out->reg), 0);
}

static void import_fixture(import_fn fn, const char *name, struct imported *out)
{
        size_t size;
        char *data = read_fixture(name, &size);

        import_ok(fn, data, size, out);
        free(data);
}

static void imported_free(struct imported *im)
{
        rsap_iana_free(im->reg);
        free(im->snap);
}

/* Imports into a throw-away builder; returns the code, checks the message. */
static int import_code(import_fn fn, const void *data, size_t size, unsigned *line)
{
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_import_error err;
        int r;

        assert_non_null(b);
        memset(&err, 'x', sizeof(err));
        r = fn(data, size, b, &err);
        rsap_builder_free(b);
        assert_non_null(memchr(err.message, '\0', sizeof(err.message)));
        if (r != 0)
                assert_true(strlen(err.message) > 0);
        else
                assert_string_equal(err.message, "");
        if (line)
                *line = err.line;
        return r;
}

static int import_text(import_fn fn, const char *text)
{
        return import_code(fn, text, strlen(text), NULL);
}

#define assert_str_or_null(actual, expected)                  \
        do {                                                  \
                if (expected)                                 \
                        assert_string_equal(actual, expected); \
                else                                          \
                        assert_null(actual);                  \
        } while (0)

static void check_ref(const struct rsap_reference *ref, enum rsap_ref_type type, const char *text,
                      const char *url)
{
        assert_int_equal(ref->type, type);
        assert_str_or_null(ref->text, text);
        assert_str_or_null(ref->url, url);
}

/* An RFC reference with the canonical text and the RFC Editor's URL. */
static void check_rfc(const struct rsap_reference *ref, const char *text)
{
        char url[64];

        snprintf(url, sizeof(url), "https://www.rfc-editor.org/rfc/rfc%s", text + 3);
        check_ref(ref, RSAP_REF_RFC, text, url);
}

static void check_port(const struct rsap_record *r, unsigned low, unsigned high,
                       enum rsap_proto proto)
{
        assert_true(r->has_port);
        assert_int_equal(r->port_low, low);
        assert_int_equal(r->port_high, high);
        assert_int_equal(r->proto, proto);
}

/* ---- XML ---------------------------------------------------------------- */

static void test_xml_registry(void **state)
{
        struct imported im;
        struct rsap_iana_info info;
        struct rsap_record r;

        import_fixture(rsap_import_iana_xml, "import-valid.xml", &im);
        rsap_iana_info(im.reg, &info);
        assert_int_equal(info.source, RSAP_SOURCE_IANA_XML);
        assert_string_equal(info.release, "2025-12-15");
        assert_int_equal(info.records, 9);
        assert_int_equal(info.people, 7);

        /* A reserved port citing an RFC. */
        rsap_iana_record(im.reg, 0, &r);
        assert_null(r.service);
        check_port(&r, 0, 0, RSAP_PROTO_TCP);
        assert_int_equal(r.status, RSAP_STATUS_RESERVED);
        assert_null(r.registered);
        assert_string_equal(r.modified, "2024-12-20");
        assert_int_equal(r.n_references, 1);
        check_rfc(&r.references[0], "RFC6335");

        /* A range with neither name nor protocol. */
        rsap_iana_record(im.reg, 1, &r);
        assert_null(r.service);
        check_port(&r, 225, 241, RSAP_PROTO_NONE);
        assert_string_equal(r.description, "Reserved");
        assert_int_equal(r.n_assignee + r.n_contact + r.n_references, 0);
        imported_free(&im);
}

static void test_xml_people(void **state)
{
        struct imported im;
        struct rsap_record r;

        import_fixture(rsap_import_iana_xml, "import-valid.xml", &im);

        /* Two direct person xrefs, children out of order: contact and assignee. */
        rsap_iana_record(im.reg, 2, &r);
        assert_string_equal(r.service, "active-net");
        check_port(&r, 3322, 3325, RSAP_PROTO_NONE);
        assert_int_equal(r.n_contact, 2);
        assert_int_equal(r.n_assignee, 2);
        assert_string_equal(r.contact[0].id, "Bob_Braden_2");
        assert_string_equal(r.contact[1].id, "Holger_Reif");
        assert_string_equal(r.assignee[0].id, "Bob_Braden_2");
        /* A mailto that already has an '@' keeps its '&'; the http URI is the uri. */
        assert_string_equal(r.contact[0].email, "bob&co@isi.edu");
        assert_string_equal(r.contact[0].uri, "http://www.isi.edu/");
        assert_string_equal(r.contact[1].name, "Holger Reif");
        assert_null(r.contact[1].org);
        assert_string_equal(r.contact[1].email, "Holger.Reif@prakinf.tu-ilmenau.de");
        assert_null(r.contact[1].uri);

        /* <assignee> differs from the contact. */
        rsap_iana_record(im.reg, 3, &r);
        assert_int_equal(r.n_assignee, 1);
        assert_string_equal(r.assignee[0].id, "IESG");
        assert_null(r.assignee[0].name);
        assert_string_equal(r.assignee[0].org, "IESG");
        assert_string_equal(r.assignee[0].email, "iesg@ietf.org");
        assert_int_equal(r.n_contact, 1);
        assert_string_equal(r.contact[0].id, "IETF_Chair");
        assert_string_equal(r.contact[0].email, "chair@ietf.org");

        /* The first non-mailto URI, the first mailto as address. */
        rsap_iana_record(im.reg, 5, &r);
        assert_string_equal(r.contact[0].uri, "tel:+1-555-0100");
        assert_string_equal(r.contact[0].email, "gildea@x.org");

        /* A non-ASCII person id and name. */
        rsap_iana_record(im.reg, 6, &r);
        assert_string_equal(r.contact[0].id, "Roman_Štěpánek");
        assert_string_equal(r.contact[0].name, "Roman Štěpánek");
        imported_free(&im);
}

static void test_xml_references(void **state)
{
        struct imported im;
        struct rsap_record r;

        import_fixture(rsap_import_iana_xml, "import-valid.xml", &im);

        /* A footnote reference takes the footnote's text, which comes later. */
        rsap_iana_record(im.reg, 3, &r);
        assert_string_equal(r.service, "exp1");
        check_port(&r, 1021, 1021, RSAP_PROTO_SCTP);
        assert_string_equal(r.registered, "2005-05");
        assert_null(r.modified);
        assert_int_equal(r.n_references, 2);
        check_ref(&r.references[0], RSAP_REF_NOTE,
                  "It is only appropriate to use these values in explicitly- "
                  "configured experiments.", NULL);
        check_rfc(&r.references[1], "RFC4727");

        /* Every other kind, in document order, and a DCCP service code. */
        rsap_iana_record(im.reg, 4, &r);
        assert_string_equal(r.service, "discard");
        check_port(&r, 9, 9, RSAP_PROTO_DCCP);
        assert_string_equal(r.service_code, "1145656131");
        assert_string_equal(r.registered, "2009-06-15");
        assert_string_equal(r.modified, "2022-02-07");
        assert_int_equal(r.n_references, 6);
        check_ref(&r.references[0], RSAP_REF_DRAFT, "draft-ietf-dccp-spec-11",
                  "https://datatracker.ietf.org/doc/draft-ietf-dccp-spec-11");
        check_ref(&r.references[1], RSAP_REF_URI, "TR-352", "https://example.org/tr-352.pdf");
        check_ref(&r.references[2], RSAP_REF_URI, "https://example.org/spec",
                  "https://example.org/spec");
        check_ref(&r.references[3], RSAP_REF_TEXT, "Free text reference", NULL);
        check_ref(&r.references[4], RSAP_REF_RFC, "RFC8765, Section 6.1",
                  "https://www.rfc-editor.org/rfc/rfc8765");
        check_ref(&r.references[5], RSAP_REF_DRAFT, "RFC-ietf-dhc-rfc8415bis-12",
                  "https://datatracker.ietf.org/doc/draft-ietf-dhc-rfc8415bis-12");
        imported_free(&im);
}

static void test_xml_text(void **state)
{
        struct imported im;
        struct rsap_record r;

        import_fixture(rsap_import_iana_xml, "import-valid.xml", &im);

        /* <br/> and entities in a description; unauthorized use; a note with
         * a line break, inline xrefs and a paragraph. */
        rsap_iana_record(im.reg, 5, &r);
        assert_string_equal(r.service, "x11");
        check_port(&r, 6000, 6063, RSAP_PROTO_TCP);
        assert_string_equal(r.description, "X Window System\nsecond line & more <x>");
        assert_string_equal(r.unauthorized_use, "Known Unauthorized Use on port 6003");
        assert_string_equal(r.notes,
                            "First line\nsecond line, see [RFC6335] and [Holger_Reif]\n\n"
                            "Paragraph two.");

        /* A name-only record with a non-ASCII name. */
        rsap_iana_record(im.reg, 6, &r);
        assert_string_equal(r.service, "swÿp");
        assert_false(r.has_port);
        assert_int_equal(r.proto, RSAP_PROTO_TCP);
        assert_string_equal(r.description, "Ariën's service");

        /* <name></name> and <description/> are absent, not "". */
        rsap_iana_record(im.reg, 7, &r);
        assert_null(r.service);
        assert_null(r.description);
        check_port(&r, 359, 359, RSAP_PROTO_UDP);
        assert_string_equal(r.notes, "De-Assigned on 2023-11-16.");

        /* Name only, no protocol at all. */
        rsap_iana_record(im.reg, 8, &r);
        assert_string_equal(r.service, "rdp");
        assert_false(r.has_port);
        assert_int_equal(r.proto, RSAP_PROTO_NONE);
        assert_null(r.service_code);
        assert_null(r.unauthorized_use);
        assert_null(r.notes);
        imported_free(&im);
}

#define XML_HEAD "<?xml version='1.0' encoding='UTF-8'?>\n" \
                 "<registry xmlns=\"http://www.iana.org/assignments\">\n"
#define XML_RECORD(body) XML_HEAD "<record>" body "</record>\n</registry>\n"

/* An rfc xref whose data is not "rfc" and digits is kept as text, without
 * a URL: a short one ("rf") must not be read past its end. */
static void test_xml_rfc_not_a_number(void **state)
{
        static const char *const data[] = { "r", "rf", "rfc", "RFCx", "rfc1234567890" };
        (void)state;

        for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
                char text[512];
                struct imported im;
                struct rsap_record r;

                snprintf(text, sizeof(text),
                         XML_RECORD("<name>a</name><protocol>tcp</protocol><number>7</number>"
                                    "<xref type=\"rfc\" data=\"%s\"/>"), data[i]);
                import_ok(rsap_import_iana_xml, text, strlen(text), &im);
                rsap_iana_record(im.reg, 0, &r);
                assert_int_equal(r.n_references, 1);
                check_ref(&r.references[0], RSAP_REF_RFC, data[i], NULL);
                imported_free(&im);
        }
}

static void test_xml_malformed(void **state)
{
        static const char *const bad[] = {
                XML_RECORD("<name>a</name><number>99999</number>"),
                XML_RECORD("<name>a</name><number>12a</number>"),
                XML_RECORD("<name>a</name><number>9-3</number>"),
                XML_RECORD("<name>a</name><number>-1</number>"),
                XML_RECORD("<name>a</name><number>1</number><protocol>tcpx</protocol>"),
                XML_RECORD("<name>a</name><name>b</name>"),
                XML_RECORD("<description>nothing to look up</description>"),
                XML_RECORD("<name>a</name><sc>12x</sc>"),
                XML_RECORD("<name>a</name><xref type=\"person\"/>"),
                XML_RECORD("<name>a</name><xref type=\"rfc\"/>"),
                XML_RECORD("<name>a</name><xref type=\"text\"></xref>"),
                XML_HEAD "<record date=\"2005-13\"><name>a</name></record></registry>",
                XML_HEAD "<record><name>a</name></registry>",
                XML_HEAD "<record><name>a\xff</name></record></registry>",
                XML_HEAD "<record><name>a</name></record></registry><junk/>",
                XML_HEAD "<updated>2025-12-15</updated></registry>",
                XML_HEAD "<people><person><name>x</name></person></people>"
                         "<record><name>a</name></record></registry>",
                "<?xml version='1.0'?><registry><record><name>a</name></record></registry>",
                "<?xml version='1.0'?><html/>",
                "<registry",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = import_text(rsap_import_iana_xml, bad[i]);

                if (r != -EBADMSG)
                        fail_msg("case %zu: %d instead of -EBADMSG", i, r);
        }
}

static void test_xml_truncated(void **state)
{
        size_t size;
        char *data = read_fixture("import-valid.xml", &size);
        unsigned line;

        assert_int_equal(import_code(rsap_import_iana_xml, data, size / 2, &line), -EBADMSG);
        assert_true(line > 1);
        /* Cut inside the last tag. */
        assert_int_equal(import_code(rsap_import_iana_xml, data, size - 4, NULL), -EBADMSG);
        free(data);
}

static void test_xml_limits(void **state)
{
        char text[4096] = XML_HEAD "<record><name>a</name>";
        char *end = text + strlen(text);

        for (int i = 0; i <= RSAP_MAX_PEOPLE; i++)
                end += sprintf(end, "<xref type=\"person\" data=\"p%d\"/>", i);
        strcpy(end, "</record></registry>");
        assert_int_equal(import_text(rsap_import_iana_xml, text), -EBADMSG);

        end = text + strlen(XML_HEAD "<record><name>a</name>");
        for (int i = 0; i <= RSAP_MAX_REFERENCES; i++)
                end += sprintf(end, "<xref type=\"rfc\" data=\"rfc%d\"/>", i + 1);
        strcpy(end, "</record></registry>");
        assert_int_equal(import_text(rsap_import_iana_xml, text), -EBADMSG);
}

/* An external entity is neither fetched nor read from disk. */
static void test_xml_no_external_entities(void **state)
{
        static const char doc[] =
                "<?xml version='1.0'?>\n"
                "<!DOCTYPE registry [<!ENTITY leak SYSTEM \"file:///etc/passwd\">]>\n"
                "<registry xmlns=\"http://www.iana.org/assignments\">"
                "<record><name>a</name><description>x&leak;y</description>"
                "<number>1</number></record></registry>";
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_import_error err;
        struct imported im;
        struct rsap_record r;

        if (rsap_import_iana_xml(doc, strlen(doc), b, &err) != 0) {
                rsap_builder_free(b); /* refusing is fine too */
                return;
        }
        rsap_builder_free(b);
        import_ok(rsap_import_iana_xml, doc, strlen(doc), &im);
        rsap_iana_record(im.reg, 0, &r);
        assert_null(strstr(r.description, "root"));
        imported_free(&im);
}

/* Nested internal entities are refused before they multiply. */
static void test_xml_entity_expansion(void **state)
{
        char doc[2048] = "<?xml version='1.0'?>\n<!DOCTYPE registry [<!ENTITY e0 \"lol\">";
        char *end = doc + strlen(doc);

        for (int i = 1; i <= 10; i++) {
                end += sprintf(end, "<!ENTITY e%d \"", i);
                for (int j = 0; j < 10; j++)
                        end += sprintf(end, "&e%d;", i - 1);
                end += sprintf(end, "\">");
        }
        strcpy(end, "]>\n<registry xmlns=\"http://www.iana.org/assignments\"><record>"
                    "<name>a</name><description>&e10;</description></record></registry>");
        assert_int_equal(import_text(rsap_import_iana_xml, doc), -EBADMSG);
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv_registry(void **state)
{
        struct imported im;
        struct rsap_iana_info info;
        struct rsap_record r;

        import_fixture(rsap_import_iana_csv, "import-valid.csv", &im);
        rsap_iana_info(im.reg, &info);
        assert_int_equal(info.source, RSAP_SOURCE_IANA_CSV);
        /* No release in the file: the newest date in it. */
        assert_string_equal(info.release, "2025-03-28");
        assert_int_equal(info.records, 10);

        rsap_iana_record(im.reg, 0, &r);
        assert_null(r.service);
        check_port(&r, 0, 0, RSAP_PROTO_TCP);
        assert_int_equal(r.status, RSAP_STATUS_RESERVED);
        assert_null(r.registered);
        assert_string_equal(r.modified, "2024-12-20");
        check_rfc(&r.references[0], "RFC6335");

        rsap_iana_record(im.reg, 1, &r);
        check_port(&r, 225, 241, RSAP_PROTO_NONE);
        assert_int_equal(r.n_assignee + r.n_contact + r.n_references, 0);
        assert_null(r.notes);

        /* Several persons, known by id only. */
        rsap_iana_record(im.reg, 2, &r);
        assert_string_equal(r.service, "active-net");
        check_port(&r, 3322, 3325, RSAP_PROTO_NONE);
        assert_int_equal(r.n_assignee, 2);
        assert_int_equal(r.n_contact, 2);
        assert_string_equal(r.assignee[1].id, "Holger_Reif");
        assert_string_equal(r.contact[0].id, "Bob_Braden_2");
        assert_null(r.contact[0].name);
        assert_null(r.contact[0].email);
        imported_free(&im);
}

static void test_csv_references(void **state)
{
        struct imported im;
        struct rsap_record r;

        import_fixture(rsap_import_iana_csv, "import-valid.csv", &im);
        rsap_iana_record(im.reg, 3, &r);
        assert_string_equal(r.service, "exp1");
        check_port(&r, 1021, 1021, RSAP_PROTO_SCTP);
        assert_string_equal(r.registered, "2005-05");
        assert_string_equal(r.assignee[0].id, "IESG");
        assert_string_equal(r.contact[0].id, "IETF_Chair");
        assert_int_equal(r.n_references, 3);
        check_ref(&r.references[0], RSAP_REF_NOTE, "[1]", NULL);
        check_rfc(&r.references[1], "RFC4727");
        check_rfc(&r.references[2], "RFC6335");

        rsap_iana_record(im.reg, 4, &r);
        assert_string_equal(r.service, "discard");
        check_port(&r, 9, 9, RSAP_PROTO_DCCP);
        assert_string_equal(r.service_code, "1145656131");
        assert_string_equal(r.registered, "2009-06-15");
        assert_string_equal(r.modified, "2022-02-07");
        assert_int_equal(r.n_references, 5);
        check_ref(&r.references[0], RSAP_REF_DRAFT, "draft-ietf-dccp-spec-11",
                  "https://datatracker.ietf.org/doc/draft-ietf-dccp-spec-11");
        check_ref(&r.references[1], RSAP_REF_URI, "https://example.org/spec",
                  "https://example.org/spec");
        /* Brackets nest inside a text reference. */
        check_ref(&r.references[2], RSAP_REF_TEXT, "Free text [with brackets]", NULL);
        check_ref(&r.references[3], RSAP_REF_RFC, "RFC8765, Section 6.1",
                  "https://www.rfc-editor.org/rfc/rfc8765");
        check_ref(&r.references[4], RSAP_REF_DRAFT, "RFC-ietf-dhc-rfc8415bis-12",
                  "https://datatracker.ietf.org/doc/draft-ietf-dhc-rfc8415bis-12");
        imported_free(&im);
}

static void test_csv_text(void **state)
{
        struct imported im;
        struct rsap_record r;

        import_fixture(rsap_import_iana_csv, "import-valid.csv", &im);
        rsap_iana_record(im.reg, 5, &r);
        assert_string_equal(r.service, "x11");
        assert_string_equal(r.unauthorized_use, "Known Unauthorized Use on port 6003");

        /* A quoted field over three lines with "" inside; indentation dropped. */
        rsap_iana_record(im.reg, 6, &r);
        assert_string_equal(r.service, "sql*net");
        check_port(&r, 66, 66, RSAP_PROTO_TCP);
        assert_string_equal(r.notes, "This entry is an alias to \"sql-net\".\n"
                                     "This entry is now historic, not usable for use with many\n"
                                     "common service discovery mechanisms.");

        /* Name only, non-ASCII, a comma inside quotes, a YYYY-MM date. */
        rsap_iana_record(im.reg, 7, &r);
        assert_string_equal(r.service, "swÿp");
        assert_false(r.has_port);
        assert_int_equal(r.proto, RSAP_PROTO_TCP);
        assert_string_equal(r.description, "Ariën's service, with a comma");
        assert_string_equal(r.registered, "2011-08");
        assert_string_equal(r.modified, "2025-03-28");
        assert_string_equal(r.contact[0].id, "Roman_Štěpánek");

        /* Empty name: absent. */
        rsap_iana_record(im.reg, 8, &r);
        assert_null(r.service);
        check_port(&r, 359, 359, RSAP_PROTO_UDP);
        assert_string_equal(r.notes, "De-Assigned on 2023-11-16.");

        rsap_iana_record(im.reg, 9, &r);
        assert_string_equal(r.service, "rdp");
        assert_false(r.has_port);
        assert_int_equal(r.proto, RSAP_PROTO_NONE);
        imported_free(&im);
}

#define CSV_HEADER "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact," \
                   "Registration Date,Modification Date,Reference,Service Code,"              \
                   "Unauthorized Use Reported,Assignment Notes\n"

static void test_csv_malformed(void **state)
{
        static const char *const bad[] = {
                CSV_HEADER "a,1,tcp,\"unbalanced,,,,,,,,\n",
                CSV_HEADER "a,1,tcp,un\"quoted,,,,,,,,\n",
                CSV_HEADER "a,1,tcp,\"closed\"junk,,,,,,,,\n",
                CSV_HEADER "a,99999,tcp,x,,,,,,,,\n",
                CSV_HEADER "a,12a,tcp,x,,,,,,,,\n",
                CSV_HEADER "a,9-3,tcp,x,,,,,,,,\n",
                CSV_HEADER "a,1,tcpx,x,,,,,,,,\n",
                CSV_HEADER "a,1,tcp,x,,,,,,,,,\n",
                CSV_HEADER "a,1,tcp,x,,,,,,,\n",
                CSV_HEADER "a,1,tcp,x,Bob,,,,,,,\n",
                CSV_HEADER "a,1,tcp,x,[Bob,,,,,,,\n",
                CSV_HEADER "a,1,tcp,x,,,2025-1-1,,,,,\n",
                CSV_HEADER "a,1,dccp,x,,,,,,DISC,,\n",
                CSV_HEADER ",,,Reserved,,,,,,,,\n",
                CSV_HEADER "a\xff,1,tcp,x,,,,,,,,\n",
                CSV_HEADER "a\xc0\xaf,1,tcp,x,,,,,,,,\n",
                CSV_HEADER,
                "Service Name,Port Number\na,1\n",
                "Service Name,Port,Transport Protocol,Description,Assignee,Contact,"
                "Registration Date,Modification Date,Reference,Service Code,"
                "Unauthorized Use Reported,Assignment Notes\na,1,tcp,x,,,,,,,,\n",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = import_text(rsap_import_iana_csv, bad[i]);

                if (r != -EBADMSG)
                        fail_msg("case %zu: %d instead of -EBADMSG", i, r);
        }
}

static void test_csv_error_lines(void **state)
{
        static const char text[] = CSV_HEADER "a,1,tcp,\"two\nlines\",,,,,,,,\n"
                                              "b,2,tcp,x,,,,,,,,\n"
                                              "c,99999,tcp,x,,,,,,,,\n";
        static const char nul[] = CSV_HEADER "a,1,tcp,x,,,,,,,,\nb,\0,tcp,x,,,,,,,,\n";
        unsigned line;

        assert_int_equal(import_code(rsap_import_iana_csv, text, strlen(text), &line), -EBADMSG);
        assert_int_equal(line, 5);
        assert_int_equal(import_code(rsap_import_iana_csv, nul, sizeof(nul) - 1, &line), -EBADMSG);
        assert_int_equal(line, 3);
}

static void test_csv_limits(void **state)
{
        char text[4096] = CSV_HEADER "a,1,tcp,x,";
        char *end = text + strlen(text);

        for (int i = 0; i <= RSAP_MAX_PEOPLE; i++)
                end += sprintf(end, "[p%d]", i);
        strcpy(end, ",,,,,,,\n");
        assert_int_equal(import_text(rsap_import_iana_csv, text), -EBADMSG);

        end = text + strlen(CSV_HEADER "a,1,tcp,x,");
        end += sprintf(end, ",,,,");
        for (int i = 0; i <= RSAP_MAX_REFERENCES; i++)
                end += sprintf(end, "[RFC%d]", i + 1);
        strcpy(end, ",,,\n");
        assert_int_equal(import_text(rsap_import_iana_csv, text), -EBADMSG);
}

/* Ranges that would swell the port index are refused, not built. */
static void test_csv_port_slots(void **state)
{
        static const char row[] = "a,0-65535,tcp,x,,,,,,,,\n";
        size_t size = sizeof(CSV_HEADER) + 17 * sizeof(row);
        char *text = malloc(size);

        assert_non_null(text);
        strcpy(text, CSV_HEADER);
        for (int i = 0; i < 16; i++)
                strcat(text, row);
        assert_int_equal(import_text(rsap_import_iana_csv, text), 0);
        strcat(text, row);
        assert_int_equal(import_text(rsap_import_iana_csv, text), -EBADMSG);
        free(text);
}

/* The message a refusal gives, which rsap update prints as it is. */
static const char *refusal(import_fn fn, const char *text)
{
        static struct rsap_import_error err;
        struct rsap_builder *b = rsap_builder_new();

        assert_non_null(b);
        assert_int_equal(fn(text, strlen(text), b, &err), -EBADMSG);
        rsap_builder_free(b);
        return err.message;
}

#define assert_refused(fn, text, why)                                               \
        do {                                                                        \
                const char *message_ = refusal(fn, text);                           \
                if (!strstr(message_, why))                                         \
                        fail_msg("'%s' lacks '%s' for %s", message_, why, #text);   \
        } while (0)

/* RFC 3629's UTF-8 only: what a terminal or a JSON reader would choke on is refused
 * with the line and byte, and the four-byte forms IANA's names never use still pass. */
static void test_utf8_is_checked_whole(void **state)
{
        static const char *const bad[] = {
                "\xe0\x80\xaf",     /* overlong '/' in three bytes */
                "\xf0\x80\x80\xaf", /* and in four */
                "\xed\xa0\x80",     /* a UTF-16 surrogate */
                "\xf4\x90\x80\x80", /* past U+10FFFF */
                "\xf5\x80\x80\x80", /* no such lead byte */
                "\xe2\x28\xa1",     /* a lead byte without its continuation */
                "\xe2\x82\x28",
        };
        char text[256];

        assert_int_equal(import_text(rsap_import_iana_csv,
                                     CSV_HEADER "a,1,tcp,smile \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
                                                "\xe0\xa0\x80 \xed\x9f\xbf,,,,,,,,\n"),
                         0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(text, sizeof(text), CSV_HEADER "a,1,tcp,x,,,,,,,,\nb,2,tcp,%s,,,,,,,,\n",
                         bad[i]);
                assert_refused(rsap_import_iana_csv, text, "line 3: invalid UTF-8 at byte");
        }
        /* Cut in the middle of a sequence, at the very end. */
        assert_refused(rsap_import_iana_csv, CSV_HEADER "a,1,tcp,x\xe2\x82",
                       "line 2: invalid UTF-8 at byte");
}

static void test_refusals_say_why(void **state)
{
        assert_refused(rsap_import_iana_xml,
                       XML_HEAD "<record updated=\"2025-13-01\"><name>a</name></record></registry>",
                       "bad date \"2025-13-01\"");
        assert_refused(rsap_import_iana_xml,
                       XML_HEAD "<record date=\"2025-02-32\"><name>a</name></record></registry>",
                       "bad date \"2025-02-32\"");
        assert_refused(rsap_import_iana_xml,
                       XML_HEAD "<record date=\"2025-00\"><name>a</name></record></registry>",
                       "bad date \"2025-00\"");
        assert_refused(rsap_import_iana_xml,
                       XML_HEAD "<updated>15 Dec 2025</updated>"
                                "<record><name>a</name></record></registry>",
                       "line 3: bad <updated> date \"15 Dec 2025\"");
        assert_refused(rsap_import_iana_xml, "<?xml version='1.0'?>\n<html><body/></html>",
                       "line 2: the root element <html> is not IANA's <registry>");
        /* Dates the CSV gives are held to the same rule. */
        assert_refused(rsap_import_iana_csv, CSV_HEADER "a,1,tcp,x,,,2025-1x-01,,,,,\n",
                       "2025-1x-01");
        assert_refused(rsap_import_iana_csv, CSV_HEADER "a,1,tcp,x,,,20251201,,,,,\n",
                       "20251201");
}

/* ---- what both share ------------------------------------------------ */

static void test_empty_input(void **state)
{
        static const import_fn fns[] = { rsap_import_iana_xml, rsap_import_iana_csv,
                                         rsap_import_any };

        for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
                assert_int_equal(import_code(fns[i], "", 0, NULL), -EBADMSG);
                assert_int_equal(import_text(fns[i], " \n\t\r\n"), -EBADMSG);
        }
}

static void test_too_big(void **state)
{
        size_t size = ((size_t)64 << 20) + 1;
        char *data = calloc(1, size); /* untouched pages cost nothing */

        assert_non_null(data);
        assert_int_equal(import_code(rsap_import_iana_xml, data, size, NULL), -EFBIG);
        assert_int_equal(import_code(rsap_import_iana_csv, data, size, NULL), -EFBIG);
        assert_int_equal(import_code(rsap_import_any, data, size, NULL), -EFBIG);
        free(data);
}

static enum rsap_format sniff(const char *text)
{
        return rsap_format_sniff(text, strlen(text));
}

static void test_sniff(void **state)
{
        static const struct {
                const char *name;
                enum rsap_format format;
        } fixtures[] = {
                { "import-valid.xml", RSAP_FORMAT_IANA_XML },
                { "import-valid.csv", RSAP_FORMAT_IANA_CSV },
        };

        for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
                size_t size;
                char *data = read_fixture(fixtures[i].name, &size);

                assert_int_equal(rsap_format_sniff(data, size), fixtures[i].format);
                free(data);
        }
        assert_int_equal(sniff("\n  <registry xmlns=\"x\">"), RSAP_FORMAT_IANA_XML);
        assert_int_equal(sniff("\r\n<?xml version='1.0'?>"), RSAP_FORMAT_IANA_XML);
        assert_int_equal(sniff("\xef\xbb\xbf<?xml version='1.0'?>"), RSAP_FORMAT_IANA_XML);
        assert_int_equal(sniff("{\"1647/tcp\": [\"rsap\", \"rsap\"]}"), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(sniff("Service Name,Port"), RSAP_FORMAT_IANA_CSV);
        assert_int_equal(sniff("Service Name;Port"), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(sniff("<html>"), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(sniff("<?xm"), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(sniff("[]"), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(sniff(""), RSAP_FORMAT_UNKNOWN);
        assert_int_equal(rsap_format_sniff(NULL, 0), RSAP_FORMAT_UNKNOWN);
        assert_string_equal(rsap_format_name(RSAP_FORMAT_IANA_XML), "iana-xml");
        assert_string_equal(rsap_format_name(RSAP_FORMAT_IANA_CSV), "iana-csv");
        assert_string_equal(rsap_format_name(RSAP_FORMAT_UNKNOWN), "unknown");
}

static void test_import_any(void **state)
{
        static const struct {
                const char *name;
                enum rsap_source source;
                size_t records;
        } fixtures[] = {
                { "import-valid.xml", RSAP_SOURCE_IANA_XML, 9 },
                { "import-valid.csv", RSAP_SOURCE_IANA_CSV, 10 },
        };

        for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
                struct rsap_iana_info info;
                struct imported im;

                import_fixture(rsap_import_any, fixtures[i].name, &im);
                rsap_iana_info(im.reg, &info);
                assert_int_equal(info.source, fixtures[i].source);
                assert_int_equal(info.records, fixtures[i].records);
                imported_free(&im);
        }
        assert_int_equal(import_text(rsap_import_any, "port,name\n1,a\n"), -EBADMSG);
        assert_int_equal(import_text(rsap_import_any, "{\"1647/tcp\": [\"rsap\", \"rsap\"]}"),
                         -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xml_registry),
                cmocka_unit_test(test_xml_people),
                cmocka_unit_test(test_xml_references),
                cmocka_unit_test(test_xml_text),
                cmocka_unit_test(test_xml_rfc_not_a_number),
                cmocka_unit_test(test_xml_malformed),
                cmocka_unit_test(test_xml_truncated),
                cmocka_unit_test(test_xml_limits),
                cmocka_unit_test(test_xml_no_external_entities),
                cmocka_unit_test(test_xml_entity_expansion),
                cmocka_unit_test(test_csv_registry),
                cmocka_unit_test(test_csv_references),
                cmocka_unit_test(test_csv_text),
                cmocka_unit_test(test_csv_malformed),
                cmocka_unit_test(test_csv_error_lines),
                cmocka_unit_test(test_csv_limits),
                cmocka_unit_test(test_csv_port_slots),
                cmocka_unit_test(test_utf8_is_checked_whole),
                cmocka_unit_test(test_refusals_say_why),
                cmocka_unit_test(test_empty_input),
                cmocka_unit_test(test_too_big),
                cmocka_unit_test(test_sniff),
                cmocka_unit_test(test_import_any),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

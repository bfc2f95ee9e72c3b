/* SPDX-License-Identifier: MIT */
/* The model: builder -> snapshot -> registry, lookups, search, explain, export. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/explain.h>
#include <rsap/export.h>
#include <rsap/json.h>
#include <rsap/paths.h>
#include <rsap/iana.h>

#include "snapshot_format.h" /* the snapshot's layout, to damage a copy of it */

struct fixture {
        void *snap;
        size_t size;
        struct rsap_iana *reg;
};

static void add(struct rsap_builder *b, const char *service, int low, int high,
                enum rsap_proto proto, const char *description, const char *person)
{
        struct rsap_record r = { 0 };

        r.service = service;
        r.has_port = low >= 0;
        r.port_low = (uint16_t)(low < 0 ? 0 : low);
        r.port_high = (uint16_t)(high < 0 ? 0 : high);
        r.proto = proto;
        r.description = description;
        if (person) {
                r.contact[0].id = person;
                r.n_contact = 1;
        }
        assert_int_equal(rsap_builder_add_record(b, &r), 0);
}

/* A registry small enough to know by heart, with IANA's shapes in it. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct rsap_builder *b = rsap_builder_new();
        struct rsap_person holger = { .id = "Holger_Reif", .name = "Holger Reif",
                                      .email = "Holger.Reif@prakinf.tu-ilmenau.de" };
        struct rsap_record full = { 0 };

        rsap_builder_set_source(b, RSAP_SOURCE_IANA_XML);
        assert_int_equal(rsap_builder_set_release(b, "2025-12-15"), 0);
        add(b, NULL, 0, 0, RSAP_PROTO_TCP, "Reserved", NULL);                 /* 0 */
        add(b, "http", 80, 80, RSAP_PROTO_TCP, "World Wide Web HTTP", NULL);  /* 1 */
        add(b, "www", 80, 80, RSAP_PROTO_TCP, "World Wide Web HTTP", NULL);   /* 2 */
        add(b, NULL, 225, 241, RSAP_PROTO_NONE, "Reserved", NULL);            /* 3 */
        add(b, "rsap", 1647, 1647, RSAP_PROTO_TCP, "rsap", "Holger_Reif");   /* 4 */
        add(b, "rsap", 1647, 1647, RSAP_PROTO_UDP, "rsap", "Holger_Reif");   /* 5 */
        add(b, "active-net", 3322, 3325, RSAP_PROTO_NONE, "Active Networks", NULL); /* 6 */
        add(b, "RSAP-Admin", -1, -1, RSAP_PROTO_NONE, "a name-only record", NULL); /* 7 */
        add(b, NULL, 24, 24, RSAP_PROTO_TCP, "any private mail system", "Rick_Adams"); /* 8 */
        add(b, NULL, 114, 114, RSAP_PROTO_NONE, "unassigned", NULL);          /* 9 */
        full.service = "sql*net";
        full.has_port = true;
        full.port_low = full.port_high = 66;
        full.proto = RSAP_PROTO_TCP;
        full.description = "Oracle SQL*NET";
        full.notes = "This entry is an alias to \"sql-net\".\nThis entry is now historic.";
        full.references[0] = (struct rsap_reference){ RSAP_REF_RFC, "RFC6335",
                                                       "https://www.rfc-editor.org/rfc/rfc6335" };
        full.n_references = 1;
        full.registered = "2009-06";
        assert_int_equal(rsap_builder_add_record(b, &full), 0);              /* 10 */
        assert_int_equal(rsap_builder_add_person(b, &holger), 0);
        assert_int_equal(rsap_builder_count(b), 11);
        assert_int_equal(rsap_builder_finish(b, &f->snap, &f->size), 0);
        rsap_builder_free(b);
        assert_int_equal(rsap_snapshot_validate(f->snap, f->size), 0);
        assert_int_equal(rsap_iana_open_memory(f->snap, f->size, &f->reg), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        rsap_iana_free(f->reg);
        free(f->snap);
        free(f);
        return 0;
}

static void records_keep_every_field(void **state)
{
        struct fixture *f = *state;
        struct rsap_iana_info info;
        struct rsap_record r;

        rsap_iana_info(f->reg, &info);
        assert_int_equal(info.records, 11);
        assert_string_equal(info.release, "2025-12-15");
        assert_int_equal(info.source, RSAP_SOURCE_IANA_XML);
        rsap_iana_record(f->reg, 4, &r);
        assert_string_equal(r.service, "rsap");
        assert_int_equal(r.port_low, 1647);
        assert_int_equal(r.proto, RSAP_PROTO_TCP);
        assert_int_equal(r.n_contact, 1);
        assert_string_equal(r.contact[0].name, "Holger Reif");
        assert_string_equal(r.contact[0].email, "Holger.Reif@prakinf.tu-ilmenau.de");
        assert_null(r.registered);
        assert_int_equal(r.n_references, 0);
        rsap_iana_record(f->reg, 10, &r);
        assert_string_equal(r.registered, "2009-06");
        assert_int_equal(r.n_references, 1);
        assert_string_equal(r.references[0].text, "RFC6335");
        assert_string_equal(r.references[0].url, "https://www.rfc-editor.org/rfc/rfc6335");
        /* A person the people table lacks keeps a bare id. */
        rsap_iana_record(f->reg, 8, &r);
        assert_string_equal(r.contact[0].id, "Rick_Adams");
        assert_null(r.contact[0].name);
}

static void statuses_derive_from_name_and_description(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(rsap_iana_port_status(f->reg, 0, RSAP_PROTO_TCP), RSAP_STATUS_RESERVED);
        assert_int_equal(rsap_iana_port_status(f->reg, 0, RSAP_PROTO_UDP),
                         RSAP_STATUS_UNASSIGNED);
        assert_int_equal(rsap_iana_port_status(f->reg, 80, RSAP_PROTO_TCP),
                         RSAP_STATUS_ASSIGNED);
        assert_int_equal(rsap_iana_port_status(f->reg, 230, RSAP_PROTO_SCTP),
                         RSAP_STATUS_RESERVED);
        assert_int_equal(rsap_iana_port_status(f->reg, 24, RSAP_PROTO_TCP),
                         RSAP_STATUS_ASSIGNED);
        assert_int_equal(rsap_iana_port_status(f->reg, 114, RSAP_PROTO_TCP),
                         RSAP_STATUS_UNASSIGNED);
        assert_int_equal(rsap_iana_port_status(f->reg, 4000, RSAP_PROTO_TCP),
                         RSAP_STATUS_UNASSIGNED);
        assert_int_equal(rsap_status_derive(NULL, "De-registered", 0), RSAP_STATUS_UNASSIGNED);
        assert_int_equal(rsap_status_derive(NULL, "Reserved - IANA", 0), RSAP_STATUS_RESERVED);
        assert_int_equal(rsap_status_derive(NULL, "Unassigned [was netstat]", 1),
                         RSAP_STATUS_UNASSIGNED);
}

static void ports_find_their_records(void **state)
{
        struct fixture *f = *state;
        uint32_t ids[8];

        assert_int_equal(rsap_iana_find_port(f->reg, 80, RSAP_PROTO_TCP, ids, 8), 2);
        assert_int_equal(ids[0], 1);
        assert_int_equal(ids[1], 2);
        assert_int_equal(rsap_iana_find_port(f->reg, 80, RSAP_PROTO_UDP, ids, 8), 0);
        /* Every transport, in registry order. */
        assert_int_equal(rsap_iana_find_port(f->reg, 1647, RSAP_PROTO_NONE, ids, 8), 2);
        assert_int_equal(ids[0], 4);
        assert_int_equal(ids[1], 5);
        /* A port inside a protocol-less range record finds it on any transport. */
        assert_int_equal(rsap_iana_find_port(f->reg, 3324, RSAP_PROTO_DCCP, ids, 8), 1);
        assert_int_equal(ids[0], 6);
        assert_int_equal(rsap_iana_find_port(f->reg, 241, RSAP_PROTO_TCP, ids, 8), 1);
        assert_int_equal(rsap_iana_find_port(f->reg, 242, RSAP_PROTO_TCP, ids, 8), 0);
        /* A short buffer still reports the total. */
        assert_int_equal(rsap_iana_find_port(f->reg, 80, RSAP_PROTO_TCP, ids, 1), 2);
        assert_string_equal(rsap_iana_service_name(f->reg, 80, RSAP_PROTO_TCP), "http");
        assert_string_equal(rsap_iana_service_name(f->reg, 3322, RSAP_PROTO_UDP),
                            "active-net");
        assert_null(rsap_iana_service_name(f->reg, 0, RSAP_PROTO_TCP));
}

static void names_find_records_without_case(void **state)
{
        struct fixture *f = *state;
        uint32_t ids[8];

        assert_int_equal(rsap_iana_find_name(f->reg, "rsap", ids, 8), 2);
        assert_int_equal(ids[0], 4);
        assert_int_equal(rsap_iana_find_name(f->reg, "RSAP", ids, 8), 2);
        assert_int_equal(rsap_iana_find_name(f->reg, "rsap-admin", ids, 8), 1);
        assert_int_equal(ids[0], 7);
        assert_int_equal(rsap_iana_find_name(f->reg, "SQL*NET", ids, 8), 1);
        assert_int_equal(rsap_iana_find_name(f->reg, "rsa", ids, 8), 0);
        assert_int_equal(rsap_iana_find_name(f->reg, "nosuchservice", ids, 8), 0);
}

static void search_ranks_names_first(void **state)
{
        struct fixture *f = *state;
        struct rsap_search_hit hits[8];

        /* "rsap": two exact names, then the prefix "RSAP-Admin". */
        assert_int_equal(rsap_iana_search(f->reg, "rsap", hits, 8), 3);
        assert_int_equal(hits[0].id, 4);
        assert_int_equal(hits[1].id, 5);
        assert_int_equal(hits[2].id, 7);
        assert_true(hits[0].score > hits[2].score);
        /* Description words, several words all required, people. */
        assert_int_equal(rsap_iana_search(f->reg, "world wide", hits, 8), 2);
        assert_int_equal(rsap_iana_search(f->reg, "world nosuchword", hits, 8), 0);
        assert_int_equal(rsap_iana_search(f->reg, "holger", hits, 8), 2);
        assert_int_equal(rsap_iana_search(f->reg, "   ", hits, 8), 0);
}

static void range_counts_cover_every_port(void **state)
{
        struct fixture *f = *state;
        struct rsap_range_counts c;

        rsap_iana_range_counts(f->reg, RSAP_RANGE_SYSTEM, RSAP_PROTO_TCP, &c);
        /* assigned: 24, 66, 80; reserved: 0 and 225-241 (17). */
        assert_int_equal(c.assigned, 3);
        assert_int_equal(c.reserved, 18);
        assert_int_equal(c.assigned + c.reserved + c.unassigned, 1024);
        rsap_iana_range_counts(f->reg, RSAP_RANGE_USER, RSAP_PROTO_UDP, &c);
        assert_int_equal(c.assigned, 5); /* 1647 and 3322-3325 */
        rsap_iana_range_counts(f->reg, RSAP_RANGE_DYNAMIC, RSAP_PROTO_TCP, &c);
        assert_int_equal(c.unassigned, 16384);
}

static void explain_builds_the_answer(void **state)
{
        struct fixture *f = *state;
        struct rsap_port_answer a;
        struct rsap_name_answer n;
        json_t *j;

        assert_int_equal(rsap_explain_port(f->reg, 1647, RSAP_PROTO_NONE, &a), 0);
        assert_int_equal(a.range->id, RSAP_RANGE_USER);
        assert_int_equal(a.n_ids, 2);
        assert_int_equal(a.status[RSAP_PROTO_TCP], RSAP_STATUS_ASSIGNED);
        assert_int_equal(a.status[RSAP_PROTO_SCTP], RSAP_STATUS_UNASSIGNED);
        j = rsap_port_answer_to_json(f->reg, &a);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "port")), 1647);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "range"), "name")),
                            "user");
        assert_int_equal(json_array_size(json_object_get(j, "records")), 2);
        assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "records"), 0),
                                                 "registered")));
        json_decref(j);
        rsap_port_answer_clear(&a);

        assert_int_equal(rsap_explain_name(f->reg, "SQL*net", &n), 0);
        assert_int_equal(n.n_ids, 1);
        assert_string_equal(n.replacement, "sql-net");
        assert_int_equal(n.problem, RSAP_NAME_BAD_CHARACTER);
        rsap_name_answer_clear(&n);
        assert_int_equal(rsap_explain_name(f->reg, "", &n), -EINVAL);
}

static void corrupt_snapshots_are_refused(void **state)
{
        struct fixture *f = *state;
        struct rsap_iana *reg = NULL;
        unsigned char *copy = malloc(f->size);

        memcpy(copy, f->snap, f->size);
        assert_int_equal(rsap_iana_open_memory(copy, f->size - 8, &reg), -EBADMSG);
        assert_int_equal(rsap_iana_open_memory(copy, 10, &reg), -EBADMSG);
        copy[0] ^= 0xff;
        assert_int_equal(rsap_iana_open_memory(copy, f->size, &reg), -EBADMSG);
        copy[0] ^= 0xff;
        copy[f->size - 9] ^= 0x55; /* in the body: only the checksum notices */
        assert_int_equal(rsap_snapshot_validate(copy, f->size), -EBADMSG);
        free(copy);
}

/* A copy of the fixture's snapshot (extra zero bytes after it) to damage. */
static unsigned char *snapshot_copy(const struct fixture *f, size_t extra)
{
        unsigned char *copy = calloc(1, f->size + extra);

        assert_non_null(copy);
        memcpy(copy, f->snap, f->size);
        return copy;
}

/* The checksum made to match a damaged body, as a forger would: only the
 * structural checks stand between such a file and the reader. */
static void reseal(unsigned char *copy, size_t size)
{
        struct snap_header *h = (struct snap_header *)copy;

        h->checksum = rsap_fnv1a(copy + sizeof(*h), size - sizeof(*h));
}

static void expect_refused(unsigned char *copy, size_t size)
{
        struct rsap_iana *reg = NULL;

        reseal(copy, size);
        assert_int_equal(rsap_snapshot_validate(copy, size), -EBADMSG);
        assert_int_equal(rsap_iana_open_memory(copy, size, &reg), -EBADMSG);
        assert_null(reg);
}

static void damaged_headers_are_refused_whatever_the_checksum(void **state)
{
        struct fixture *f = *state;
        unsigned char *copy = snapshot_copy(f, 8);
        struct snap_header *h = (struct snap_header *)copy;
        char *strings = (char *)copy + h->strings_off;
        uint32_t slots = h->n_name_slots;

        /* Bytes past the size the header gives: a file appended to. */
        expect_refused(copy, f->size + 8);
        /* The last string left unterminated: a reader's strlen() would run on. */
        strings[h->strings_size - 1] = 'x';
        expect_refused(copy, f->size);
        strings[h->strings_size - 1] = '\0';
        /* A name table whose size is no power of two, so that no mask fits it. */
        assert_true(slots >= 4);
        h->n_name_slots = slots / 4 * 3;
        expect_refused(copy, f->size);
        h->n_name_slots = slots;
        reseal(copy, f->size);
        assert_int_equal(rsap_snapshot_validate(copy, f->size), 0);
        free(copy);
}

static struct snap_record *snapshot_record(unsigned char *copy, uint32_t i)
{
        const struct snap_header *h = (const struct snap_header *)copy;

        return (struct snap_record *)(copy + h->records_off) + i;
}

static uint32_t *snapshot_list(unsigned char *copy, uint32_t off)
{
        const struct snap_header *h = (const struct snap_header *)copy;

        return (uint32_t *)(copy + h->lists_off) + off;
}

/* Damage the checks at open cannot see (the body, checksum made to match) is
 * read as absent: a list that would run past the lists, a person number past
 * the people. */
static void damaged_lists_read_as_empty(void **state)
{
        struct fixture *f = *state;
        unsigned char *copy = snapshot_copy(f, 0);
        struct snap_header *h = (struct snap_header *)copy;
        struct rsap_iana *reg = NULL;
        uint32_t *contacts = snapshot_list(copy, snapshot_record(copy, 8)->contact);
        uint32_t *references = snapshot_list(copy, snapshot_record(copy, 10)->references);
        uint32_t words = h->n_list_words;
        struct rsap_record r;

        /* Counts one item too many for the words left after them. */
        contacts[0] = words - snapshot_record(copy, 8)->contact;
        references[0] = (words - snapshot_record(copy, 10)->references - 1) / 3 + 1;
        reseal(copy, f->size);
        assert_int_equal(rsap_snapshot_validate(copy, f->size), 0);
        assert_int_equal(rsap_iana_open_memory(copy, f->size, &reg), 0);
        rsap_iana_record(reg, 8, &r);
        assert_int_equal(r.n_contact, 0);
        rsap_iana_record(reg, 10, &r);
        assert_int_equal(r.n_references, 0);
        assert_string_equal(r.service, "sql*net");
        rsap_iana_free(reg);

        /* Record 8's contact is the last person; a table one shorter lacks it. */
        memcpy(copy, f->snap, f->size);
        assert_int_equal(contacts[0], 1);
        h->n_people = contacts[1];
        assert_int_equal(rsap_iana_open_memory(copy, f->size, &reg), 0);
        rsap_iana_record(reg, 8, &r);
        assert_int_equal(r.n_contact, 1);
        assert_null(r.contact[0].id);
        rsap_iana_free(reg);
        free(copy);
}

static void write_snapshot(const char *path, const void *data, size_t size)
{
        FILE *out = fopen(path, "wb");

        assert_non_null(out);
        assert_int_equal(fwrite(data, 1, size, out), size);
        assert_int_equal(fclose(out), 0);
}

/* A cached copy on disk: read whole, its checksum checked when asked, and what
 * is not a regular file of a fixed size refused as not a snapshot. */
static void snapshot_files_are_read_whole(void **state)
{
        struct fixture *f = *state;
        char dir[] = "/tmp/rsap-snap-XXXXXX", path[64];
        unsigned char *copy = snapshot_copy(f, 0);
        struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/iana.snap", dir);
        write_snapshot(path, f->snap, f->size);
        assert_int_equal(rsap_snapshot_validate_file(path), 0);
        assert_int_equal(rsap_iana_open_file_verified(path, &reg), 0);
        rsap_iana_info(reg, &info);
        assert_string_equal(info.origin, path);
        assert_int_equal(info.records, 11);
        assert_int_equal(rsap_iana_verify(reg), 0);
        rsap_iana_free(reg);

        /* A changed byte in the body: only the checksum notices, and only the
         * verified open (rsapd's, rsap update's) looks at it. */
        copy[f->size - 9] ^= 0x55;
        write_snapshot(path, copy, f->size);
        assert_int_equal(rsap_snapshot_validate_file(path), -EBADMSG);
        assert_int_equal(rsap_iana_open_file_verified(path, &reg), -EBADMSG);
        assert_int_equal(rsap_iana_open_file(path, &reg), 0);
        assert_int_equal(rsap_iana_verify(reg), -EBADMSG);
        rsap_iana_free(reg);
        /* Shorter than a header. */
        write_snapshot(path, f->snap, 16);
        assert_int_equal(rsap_iana_open_file(path, &reg), -EBADMSG);
        assert_int_equal(rsap_snapshot_validate_file(path), -EBADMSG);
        unlink(path);
        assert_int_equal(rsap_iana_open_file(path, &reg), -ENOENT);
        assert_int_equal(rsap_snapshot_validate_file(path), -ENOENT);
        rmdir(dir);
        /* A device, and a file that gives more than its size says. */
        assert_int_equal(rsap_iana_open_file("/dev/null", &reg), -EBADMSG);
        assert_int_equal(rsap_iana_open_file("/proc/self/status", &reg), -EBADMSG);
        free(copy);
}

static void export_writes_services_lines(void **state)
{
        struct fixture *f = *state;
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);

        assert_int_equal(rsap_export(f->reg, RSAP_EXPORT_SERVICES, out), 0);
        fclose(out);
        assert_non_null(strstr(text, "\nrsap\t1647/tcp\t# rsap\n"));
        assert_non_null(strstr(text, "\nrsap\t1647/udp\t# rsap\n"));
        /* A protocol-less named range gives one line per port on tcp and udp. */
        assert_non_null(strstr(text, "\nactive-net\t3325/udp"));
        assert_null(strstr(text, "active-net\t3326"));
        /* Unnamed and name-only records make no line. */
        assert_null(strstr(text, "Reserved"));
        assert_null(strstr(text, "RSAP-Admin"));
        free(text);
}

static void builtin_copy_answers_1647(void **state)
{
        struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        uint32_t ids[4];
        struct rsap_record r;

        assert_int_equal(rsap_iana_open_builtin(&reg), 0);
        rsap_iana_info(reg, &info);
        assert_int_equal(info.source, RSAP_SOURCE_BUILTIN);
        assert_true(info.records > 12000);
        assert_int_equal(rsap_iana_find_port(reg, 1647, RSAP_PROTO_TCP, ids, 4), 1);
        rsap_iana_record(reg, ids[0], &r);
        assert_string_equal(r.service, "rsap");
        assert_int_equal(rsap_iana_find_name(reg, "RSAP", ids, 4), 2);
        assert_int_equal(rsap_iana_port_status(reg, 49152, RSAP_PROTO_TCP),
                         RSAP_STATUS_UNASSIGNED);
        rsap_iana_free(reg);
}

static void default_registry_falls_back_to_builtin(void **state)
{
        char dir[] = "/tmp/rsap-test-XXXXXX";
        struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        char path[256];
        FILE *junk;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(rsap_iana_open_default(dir, &reg), 0);
        rsap_iana_info(reg, &info);
        assert_int_equal(info.source, RSAP_SOURCE_BUILTIN);
        rsap_iana_free(reg);
        /* A cached copy that is there but broken is an error, not ignored. */
        assert_int_equal(rsap_cache_path(dir, path, sizeof(path)), 0);
        junk = fopen(path, "w");
        fputs("this is not a snapshot, but it is long enough to have a header....", junk);
        fclose(junk);
        assert_int_equal(rsap_iana_open_default(dir, &reg), -EBADMSG);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(records_keep_every_field),
                cmocka_unit_test(statuses_derive_from_name_and_description),
                cmocka_unit_test(ports_find_their_records),
                cmocka_unit_test(names_find_records_without_case),
                cmocka_unit_test(search_ranks_names_first),
                cmocka_unit_test(range_counts_cover_every_port),
                cmocka_unit_test(explain_builds_the_answer),
                cmocka_unit_test(corrupt_snapshots_are_refused),
                cmocka_unit_test(damaged_headers_are_refused_whatever_the_checksum),
                cmocka_unit_test(damaged_lists_read_as_empty),
                cmocka_unit_test(snapshot_files_are_read_whole),
                cmocka_unit_test(export_writes_services_lines),
                cmocka_unit_test(builtin_copy_answers_1647),
                cmocka_unit_test(default_registry_falls_back_to_builtin),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}

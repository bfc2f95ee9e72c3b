/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <rsap/iana.h>

/*
 * Readers of outside data.  Each takes the whole input in memory, adds what it
 * reads to a builder and returns 0, or a negative errno-style code with a
 * one-line reason in err (-EBADMSG for malformed input).  None of them trusts
 * its input: every one has a fuzz target under tests/fuzz/.
 */

struct rsap_import_error {
        unsigned line;     /* 0 when unknown */
        char message[200];
};

enum rsap_format {
        RSAP_FORMAT_UNKNOWN = 0,
        RSAP_FORMAT_IANA_XML,
        RSAP_FORMAT_IANA_CSV,
};

/* Guesses the format from the first bytes. */
enum rsap_format rsap_format_sniff(const void *data, size_t size);
const char *rsap_format_name(enum rsap_format format);

/* IANA's XML with its people table (libxml2 reader). */
int rsap_import_iana_xml(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err);
/* IANA's CSV, 12 columns with a header row (libcsv). */
int rsap_import_iana_csv(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err);
/* Sniffs the format and calls the matching importer. */
int rsap_import_any(const void *data, size_t size, struct rsap_builder *b,
                    struct rsap_import_error *err);

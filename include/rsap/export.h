/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include <rsap/iana.h>

enum rsap_export_format {
        RSAP_EXPORT_SERVICES = 0, /* services(5), as glibc's files backend reads it */
        RSAP_EXPORT_CSV,          /* IANA's 12 columns, readable by rsap update */
        RSAP_EXPORT_JSON,         /* {"kind": "registry", "data": ..., "records": [...]} */
};

int rsap_export_format_parse(const char *text, enum rsap_export_format *out);
/* Writes the whole registry; -EIO when the stream fails. */
int rsap_export(const struct rsap_iana *reg, enum rsap_export_format format, FILE *out);

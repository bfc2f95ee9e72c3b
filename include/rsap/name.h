/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Service names under RFC 6335 section 5.1: 1 to 15 characters of ASCII
 * letters, digits and '-', at least one letter, no '-' at either end and
 * never two in a row.  Names compare case-insensitively, like DNS labels.
 */

enum rsap_name_problem {
        RSAP_NAME_OK = 0,
        RSAP_NAME_EMPTY,
        RSAP_NAME_TOO_LONG,
        RSAP_NAME_BAD_CHARACTER,
        RSAP_NAME_NO_LETTER,
        RSAP_NAME_HYPHEN_AT_END,
        RSAP_NAME_DOUBLE_HYPHEN,
};

enum rsap_name_problem rsap_name_check(const char *name);
const char *rsap_name_problem_text(enum rsap_name_problem problem);
bool rsap_name_equal(const char *a, const char *b);
/* FNV-1a over the ASCII-lowercased bytes: equal names hash equally. */
unsigned rsap_name_hash(const char *name, size_t len);

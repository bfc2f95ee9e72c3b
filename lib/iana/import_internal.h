/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <rsap/buf.h>
#include <rsap/iana.h>
#include <rsap/import.h>

#include "snapshot_format.h"

/*
 * What the two importers share: the input checks each of them makes
 * first, the text clean-up that makes IANA's fields readable, the reference
 * forms the XML and the CSV have in common, and two small containers.
 */

/* IANA's XML is under 4 MiB; anything far larger is not a port registry. */
#define IMPORT_MAX_SIZE ((size_t)64 << 20)

/* Fills err (which may be NULL) and returns code. */
int import_fail(struct rsap_import_error *err, int code, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void import_error_clear(struct rsap_import_error *err);
/* Returns ret, giving err a message from strerror() if a failure left none. */
int import_done(struct rsap_import_error *err, int ret);

/* -EFBIG above IMPORT_MAX_SIZE, -EBADMSG for empty or blank input. */
int import_check_size(const void *data, size_t size, struct rsap_import_error *err);
/* -EBADMSG unless the bytes are UTF-8 without NUL (C strings cannot carry one). */
int import_check_utf8(const void *data, size_t size, struct rsap_import_error *err);
/* The 1-based line holding byte offset. */
unsigned import_line_of(const void *data, size_t offset);

bool import_is_blank(int c);
/*
 * Multi-line text for display: strips every line's leading and trailing
 * blanks (the XML's source indentation), keeps at most one empty line in a
 * row and none at either end.  Works in place; returns the new length.
 */
size_t import_tidy(char *s);
/* One-line text: every run of blanks and newlines becomes one space, trimmed. */
size_t import_squash(char *s);
/* "YYYY-MM" or "YYYY-MM-DD", the two forms IANA's dates take. */
bool import_date_valid(const char *s);
/* Only ASCII digits, at least one: a DCCP service code. */
bool import_decimal_valid(const char *s);
/* "N" or "LO-HI" (LO <= HI) into the record's port fields: 0, -EINVAL, -ERANGE. */
int import_port_range(const char *text, struct rsap_record *r);

/* ---- strings that live until the record they belong to is added ------- */

struct import_strings {
        char **items;
        size_t n, cap;
};

/* Takes ownership of s (freeing it on failure); returns s, or NULL. */
char *import_strings_keep(struct import_strings *pool, char *s);
char *import_strings_dup(struct import_strings *pool, const char *s, size_t len);
char *import_strings_printf(struct import_strings *pool, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void import_strings_clear(struct import_strings *pool);
void import_strings_free(struct import_strings *pool);

/* ---- a string map (keys and values copied) ---------------------------- */

struct import_map {
        char **keys;
        char **values;
        size_t n_slots, n_used;
};

/* Adds key unless present (the first value stays); 1 if added, 0, -ENOMEM. */
int import_map_add(struct import_map *m, const char *key, const char *value);
/* The value of key (NULL when the value was NULL), or NULL when absent. */
const char *import_map_get(const struct import_map *m, const char *key, bool *found);
void import_map_free(struct import_map *m);

/* ---- references in the forms the XML and the CSV share ---------------- */

/*
 * "rfc6335" or "RFC6335": the RFC Editor's URL, and as text the label when
 * there is one ("RFC8765, Section 6.1"), else "RFC6335"; -EINVAL for any
 * other id.
 */
int import_ref_rfc(struct import_strings *pool, const char *id, const char *label,
                   struct rsap_reference *out);
/* A draft name ("draft-...", or "RFC-..." for one in the RFC Editor's
 * queue): text itself, the datatracker URL. */
int import_ref_draft(struct import_strings *pool, const char *name, struct rsap_reference *out);
/* Appends a reference; -E2BIG when the record already has RSAP_MAX_REFERENCES. */
int import_add_reference(struct rsap_record *r, const struct rsap_reference *ref);
/* Appends a person id to a list of n; -E2BIG past RSAP_MAX_PEOPLE. */
int import_add_person_id(struct rsap_person *list, size_t *n, const char *id);

/*
 * Port slots (one per port of a record's range) an import may fill: every
 * port on every transport three times over.  IANA's files fill about 55,000;
 * the bound keeps the builder's port index small whatever the input says.
 */
#define IMPORT_MAX_PORT_SLOTS ((size_t)1 << 20)

/*
 * Adds a record, counting its port slots into *port_slots, and maps the
 * builder's refusal to a message.
 */
int import_add_record(struct rsap_builder *b, const struct rsap_record *r, size_t *port_slots,
                      unsigned line, struct rsap_import_error *err);

static inline void import_strings_freep(struct import_strings *pool)
{
        import_strings_free(pool);
}

static inline void import_map_freep(struct import_map *m)
{
        import_map_free(m);
}

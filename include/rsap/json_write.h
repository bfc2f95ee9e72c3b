/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include <rsap/buf.h>

/*
 * Appends value to b as json_dumpb(value, RSAP_JSON_DUMP_FLAGS) writes it,
 * byte for byte (keys in their order, two spaces of indent, ": " and ","
 * as jansson puts them, the same escapes), without jansson's per-token
 * callbacks and the loop check that prints every container's address: a
 * port's answer dumps in a fraction of the time.  A value that holds
 * itself is not looked for: the library builds none.  0, -ENOMEM, or
 * -EILSEQ for a string that is not UTF-8 (which jansson refuses too); b
 * then holds part of the text.
 */
int rsap_json_write(struct rsap_buf *b, const json_t *value);

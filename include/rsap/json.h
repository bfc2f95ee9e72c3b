/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <rsap/explain.h>
#include <rsap/iana.h>
#include <rsap/iana_json.h>

/*
 * The JSON of every answer: `rsap ... --json` and rsapd's API print these
 * same values.  The schema is documented in docs/json.md and is stable: keys
 * are only ever added.  Absent values are null, never invented.  Each function
 * returns a new reference, or NULL when out of memory.
 */

json_t *rsap_port_answer_to_json(const struct rsap_iana *reg,
                                 const struct rsap_port_answer *a);
json_t *rsap_name_answer_to_json(const struct rsap_iana *reg,
                                 const struct rsap_name_answer *a);
/* One row of `rsap list`, its "local" the row's local entry or null. */
json_t *rsap_list_row_to_json(const struct rsap_list_row *row);
json_t *rsap_ranges_to_json(const struct rsap_iana *reg);
/*
 * `rsap status`: {"kind": "status", "data_dir", "cache", "cached", "data"};
 * cached says whether a verified cached copy exists at cache_path.
 */
json_t *rsap_status_to_json(const struct rsap_iana *reg, const char *data_dir,
                            const char *cache_path, bool cached);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include <rsap/basic.h>
#include <rsap/iana.h>

/*
 * IANA's records as JSON (docs/json.md, "records"), for the answers of
 * lib/answer and the exports of lib/iana alike.  New references, or NULL
 * when out of memory.
 */
json_t *rsap_person_to_json(const struct rsap_person *p);
json_t *rsap_record_to_json(const struct rsap_record *r);
/* {"source", "release", "origin", "records", "people"} */
json_t *rsap_iana_info_to_json(const struct rsap_iana *reg);

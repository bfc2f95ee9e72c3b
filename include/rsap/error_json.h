/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

/*
 * The error object every front end sends for a failed question:
 * {"error": {"status": N, "message": "..."}}, N the HTTP status rsapd
 * answers with (docs/json.md, "Errors").  No domain knowledge: the messages
 * are made by whoever failed.
 */

/* {"error": {"status": status, "message": message}}; NULL when out of memory. */
json_t *rsap_error_to_json(unsigned status, const char *message);
/* The inner {"status", "message"}, for an answer that carries its failure as "error". */
json_t *rsap_error_body_to_json(unsigned status, const char *message);

/* The HTTP status of an rsap exit status: 1 (no match) 404, 3 (refused) 409, else 400. */
unsigned rsap_error_status_for_exit(int exit_status);

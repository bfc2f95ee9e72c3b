/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <rsap/workflow.h>

/*
 * The bodies of the registration routes, decoded into the library's inputs:
 * pure functions of the JSON (tests/fuzz/fuzz_http_route.c drives them).
 * Each returns 0, or -EINVAL with a one-line reason in err naming the field.
 * Strings point into body, which must outlive the result.  Unknown keys are
 * refused, so a misspelt option is an error rather than silently ignored.
 */

#define DECODE_ERR_SIZE 256

struct decoded_request {
        struct rsap_request_input in;
        const char *as; /* the actor recorded in the events; NULL: "rsapd" */
};

struct decoded_decision {
        const char *why;
        struct rsap_review_options options;
        const char *as;
};

struct decoded_end {
        struct rsap_target target;
        const char *target_text; /* as given, for the messages */
        const char *why;
        int64_t quarantine_us;
        const char *as;
};

struct decoded_transfer {
        struct rsap_target target;
        const char *target_text; /* as given, for the messages */
        const char *to, *contact, *why;
        const char *as;
};

struct decoded_lease {
        struct rsap_lease_options options;
        const char *as;
};

int decode_request(json_t *body, struct decoded_request *out, char *err);
/* approve (why optional) and reject (why required) */
int decode_decision(json_t *body, bool why_required, struct decoded_decision *out, char *err);
/* deassign (why optional) and revoke (why required) */
int decode_end(json_t *body, bool why_required, struct decoded_end *out, char *err);
int decode_transfer(json_t *body, struct decoded_transfer *out, char *err);
int decode_lease(json_t *body, struct decoded_lease *out, char *err);

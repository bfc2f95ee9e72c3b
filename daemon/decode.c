/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, DECODE_ERR_SIZE, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int only_keys(json_t *body, const char *const *allowed, char *err)
{
        const char *key;
        json_t *value;

        json_object_foreach(body, key, value) {
                size_t i;

                (void)value;
                for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
                        ;
                if (!allowed[i])
                        return fail(err, "unknown field '%.64s'", key);
        }
        return 0;
}

static bool blank(const char *text)
{
        return strspn(text, " \t\r\n") == strlen(text);
}

/* A string field: absent leaves *out NULL; present must be a non-blank string. */
static int string_field(json_t *body, const char *key, bool required, const char **out,
                        char *err)
{
        json_t *v = json_object_get(body, key);

        *out = NULL;
        if (!v || json_is_null(v))
                return required ? fail(err, "'%s' is required", key) : 0;
        if (!json_is_string(v))
                return fail(err, "'%s' must be a string", key);
        if (blank(json_string_value(v)))
                return fail(err, "'%s' cannot be empty", key);
        if (json_string_length(v) > 4096)
                return fail(err, "'%s' is longer than 4096 bytes", key);
        *out = json_string_value(v);
        return 0;
}

static int bool_field(json_t *body, const char *key, bool *out, char *err)
{
        json_t *v = json_object_get(body, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return fail(err, "'%s' must be true or false", key);
        *out = json_is_true(v);
        return 0;
}

static int port_field(json_t *body, const char *key, bool *present, uint16_t *out, char *err)
{
        json_t *v = json_object_get(body, key);

        *present = false;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
                return fail(err, "'%s' must be a port, an integer from 0 to 65535", key);
        *out = (uint16_t)json_integer_value(v);
        *present = true;
        return 0;
}

/* "tcp,udp" or ["tcp", "udp"] */
static int protocols_field(json_t *body, const char *key, unsigned *mask, char *err)
{
        json_t *v = json_object_get(body, key), *item;
        size_t i;

        *mask = 0;
        if (!v || json_is_null(v))
                return 0;
        if (json_is_string(v)) {
                if (rsap_proto_parse_list(json_string_value(v), mask) < 0)
                        return fail(err, "'%s': unknown protocol in '%.40s' (tcp, udp, sctp, dccp)",
                                    key, json_string_value(v));
                return 0;
        }
        if (!json_is_array(v) || json_array_size(v) == 0)
                return fail(err, "'%s' must be \"tcp,udp\" or a list such as [\"tcp\"]", key);
        json_array_foreach(v, i, item) {
                enum rsap_proto proto;

                if (!json_is_string(item) || rsap_proto_parse(json_string_value(item), &proto) < 0 ||
                    proto == RSAP_PROTO_NONE)
                        return fail(err, "'%s': item %zu is not tcp, udp, sctp or dccp", key, i);
                *mask |= 1u << proto;
        }
        return 0;
}

static int range_field(json_t *body, const char *key, bool *present, uint16_t *low,
                       uint16_t *high, char *err)
{
        struct rsap_port_spec spec;
        const char *text;
        int r = string_field(body, key, false, &text, err);

        *present = false;
        if (r < 0 || !text)
                return r;
        if (rsap_port_spec_parse(text, &spec) < 0 || spec.proto != RSAP_PROTO_NONE)
                return fail(err, "'%s': '%.40s' is not a range (A-B, 0 <= A <= B <= 65535)", key,
                            text);
        *low = spec.low;
        *high = spec.high;
        *present = true;
        return 0;
}

/* A duration by the CLI's rule for it (rsap_quarantine_parse, rsap_ttl_parse). */
static int duration_field(json_t *body, const char *key, int (*parse)(const char *, int64_t *),
                          const char *what, int64_t *out, char *err)
{
        const char *text;
        int r = string_field(body, key, false, &text, err);

        if (r < 0 || !text)
                return r;
        if (parse(text, out) < 0)
                return fail(err, "'%s': '%.40s' is not %s", key, text, what);
        return 0;
}

/* "target": parsed into out, and its text kept for the messages. */
static int target_field(json_t *body, struct rsap_target *out, const char **text_out, char *err)
{
        const char *text;
        int r = string_field(body, "target", true, &text, err);

        *text_out = text;
        if (r < 0)
                return r;
        if (rsap_target_parse(text, out) < 0)
                return fail(err, "'target': '%.40s' is not a port, a service name or "
                                 "assignment:ID", text);
        return 0;
}

int decode_request(json_t *body, struct decoded_request *out, char *err)
{
        static const char *const keys[] = { "service", "port", "any", "range", "protocols",
                                            "description", "assignee", "contact", "reference",
                                            "note", "allow_system", "over_iana", "same_service",
                                            "as", NULL };
        struct rsap_request_input *in = &out->in;
        bool have_port;
        int r;

        memset(out, 0, sizeof(*out));
        if ((r = only_keys(body, keys, err)) < 0 ||
            (r = string_field(body, "service", true, &in->service, err)) < 0 ||
            (r = port_field(body, "port", &have_port, &in->port, err)) < 0 ||
            (r = bool_field(body, "any", &in->any_port, err)) < 0 ||
            (r = range_field(body, "range", &in->has_range, &in->range_low, &in->range_high,
                             err)) < 0 ||
            (r = protocols_field(body, "protocols", &in->protocols, err)) < 0 ||
            (r = string_field(body, "description", true, &in->description, err)) < 0 ||
            (r = string_field(body, "assignee", true, &in->assignee, err)) < 0 ||
            (r = string_field(body, "contact", true, &in->contact, err)) < 0 ||
            (r = string_field(body, "reference", false, &in->reference, err)) < 0 ||
            (r = string_field(body, "note", false, &in->note, err)) < 0 ||
            (r = bool_field(body, "allow_system", &in->allow_system, err)) < 0 ||
            (r = bool_field(body, "over_iana", &in->over_iana, err)) < 0 ||
            (r = bool_field(body, "same_service", &in->same_service, err)) < 0 ||
            (r = string_field(body, "as", false, &out->as, err)) < 0)
                return r;
        if (have_port && in->any_port)
                return fail(err, "'port' and 'any' exclude each other");
        if (!have_port && !in->any_port)
                return fail(err, "which port? 'port': N, or 'any': true to let the registry choose");
        if (in->has_range && !in->any_port)
                return fail(err, "'range' goes with 'any'");
        if (in->protocols == 0)
                return fail(err, "'protocols' is required (\"tcp\", \"tcp,udp\"...)");
        if (strlen(in->service) > RSAP_NAME_MAX)
                return fail(err, "'service' is too long for a service name");
        return 0;
}

int decode_decision(json_t *body, bool why_required, struct decoded_decision *out, char *err)
{
        static const char *const keys[] = { "why", "allow_system", "over_iana", "as", NULL };
        int r;

        memset(out, 0, sizeof(*out));
        if (!body)
                return why_required ? fail(err, "'why' is required") : 0;
        if ((r = only_keys(body, keys, err)) < 0 ||
            (r = string_field(body, "why", why_required, &out->why, err)) < 0 ||
            (r = bool_field(body, "allow_system", &out->options.allow_system, err)) < 0 ||
            (r = bool_field(body, "over_iana", &out->options.over_iana, err)) < 0 ||
            (r = string_field(body, "as", false, &out->as, err)) < 0)
                return r;
        return 0;
}

int decode_end(json_t *body, bool why_required, struct decoded_end *out, char *err)
{
        static const char *const keys[] = { "target", "why", "quarantine", "as", NULL };
        int r;

        memset(out, 0, sizeof(*out));
        out->quarantine_us = RSAP_DEFAULT_QUARANTINE_US;
        if ((r = only_keys(body, keys, err)) < 0 ||
            (r = target_field(body, &out->target, &out->target_text, err)) < 0 ||
            (r = string_field(body, "why", why_required, &out->why, err)) < 0 ||
            (r = duration_field(body, "quarantine", rsap_quarantine_parse,
                                    "a duration (such as 30s, 10m, 2h, 30d; 0s for none)",
                                    &out->quarantine_us, err)) < 0 ||
            (r = string_field(body, "as", false, &out->as, err)) < 0)
                return r;
        return 0;
}

int decode_transfer(json_t *body, struct decoded_transfer *out, char *err)
{
        static const char *const keys[] = { "target", "to", "contact", "why", "as", NULL };
        int r;

        memset(out, 0, sizeof(*out));
        if ((r = only_keys(body, keys, err)) < 0 ||
            (r = target_field(body, &out->target, &out->target_text, err)) < 0 ||
            (r = string_field(body, "to", true, &out->to, err)) < 0 ||
            (r = string_field(body, "contact", false, &out->contact, err)) < 0 ||
            (r = string_field(body, "why", false, &out->why, err)) < 0 ||
            (r = string_field(body, "as", false, &out->as, err)) < 0)
                return r;
        return 0;
}

int decode_lease(json_t *body, struct decoded_lease *out, char *err)
{
        static const char *const keys[] = { "range", "ttl", "name", "pid", "as", NULL };
        bool have_range = false;
        json_t *pid;
        int r;

        memset(out, 0, sizeof(*out));
        if (!body)
                return 0;
        if ((r = only_keys(body, keys, err)) < 0 ||
            (r = range_field(body, "range", &have_range, &out->options.low, &out->options.high,
                             err)) < 0 ||
            (r = duration_field(body, "ttl", rsap_ttl_parse, "a TTL (such as 30s, 10m, 2h, 1d)",
                                    &out->options.ttl_us, err)) < 0 ||
            (r = string_field(body, "name", false, &out->options.name, err)) < 0 ||
            (r = string_field(body, "as", false, &out->as, err)) < 0)
                return r;
        pid = json_object_get(body, "pid");
        if (pid && !json_is_null(pid)) {
                if (!json_is_integer(pid) || json_integer_value(pid) < 0 ||
                    json_integer_value(pid) > 0x3fffffff)
                        return fail(err, "'pid' must be a process id (0: no process)");
                out->options.pid = (pid_t)json_integer_value(pid);
        }
        return 0;
}

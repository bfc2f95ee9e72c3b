/* SPDX-License-Identifier: MIT */
/*
 * The registration workflow's common ground: parsing what commands point at,
 * filing and reading requests, and the rows every part reads.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>
#include <rsap/textsafe.h>

#include "workflow_internal.h"

void format_message(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

/* ---- parsing ------------------------------------------------------------------- */

int rsap_duration_parse(const char *text, int64_t *us_out)
{
        static const struct {
                char unit;
                int64_t us;
        } units[] = {
                { 's', 1000000LL },
                { 'm', 60LL * 1000000 },
                { 'h', 3600LL * 1000000 },
                { 'd', 86400LL * 1000000 },
        };
        char *end;
        unsigned long long value;

        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        value = strtoull(text, &end, 10);
        if (errno || end[0] == '\0' || end[1] != '\0')
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (units[i].unit != *end)
                        continue;
                /* Ten years is more than any TTL or quarantine means. */
                if (value > 3650ULL * 86400 * 1000000 / (unsigned long long)units[i].us)
                        return -ERANGE;
                *us_out = (int64_t)value * units[i].us;
                return 0;
        }
        return -EINVAL;
}

int rsap_quarantine_parse(const char *text, int64_t *us_out)
{
        return rsap_duration_parse(text, us_out);
}

int rsap_ttl_parse(const char *text, int64_t *us_out)
{
        int64_t us;
        int r = rsap_duration_parse(text, &us);

        if (r == 0 && us == 0)
                return -EINVAL;
        if (r == 0)
                *us_out = us;
        return r;
}

static int parse_id(const char *text, int64_t *id_out)
{
        char *end;
        long long value;

        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        value = strtoll(text, &end, 10);
        if (errno || *end || value < 1)
                return -EINVAL;
        *id_out = value;
        return 0;
}

int rsap_request_id_parse(const char *text, int64_t *id_out)
{
        if (strncmp(text, "request:", 8) == 0)
                text += 8;
        return parse_id(text, id_out);
}

int rsap_target_parse(const char *text, struct rsap_target *out)
{
        static const struct {
                const char *prefix;
                enum rsap_target_kind kind;
        } ids[] = {
                { "request:", RSAP_TARGET_REQUEST },
                { "assignment:", RSAP_TARGET_ASSIGNMENT },
                { "lease:", RSAP_TARGET_LEASE },
        };
        struct rsap_port_spec spec;
        size_t len = strlen(text);

        memset(out, 0, sizeof(*out));
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                size_t plen = strlen(ids[i].prefix);

                if (strncmp(text, ids[i].prefix, plen) == 0) {
                        out->kind = ids[i].kind;
                        return parse_id(text + plen, &out->id);
                }
        }
        if (rsap_text_is_numeric(text)) {
                int r = rsap_port_spec_parse(text, &spec);

                if (r == 0 && spec.low != spec.high)
                        return -EINVAL;
                if (r == 0) {
                        out->kind = RSAP_TARGET_PORT;
                        out->port = spec.low;
                        out->proto = spec.proto;
                        return 0;
                }
                /* A few names start with a digit ("3com-tsmux"); a port has no letter. */
                if (strcspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len)
                        return r;
        }
        if (len == 0 || len > RSAP_NAME_MAX || strpbrk(text, ":/"))
                return -EINVAL;
        out->kind = RSAP_TARGET_NAME;
        memcpy(out->name, text, len + 1);
        return 0;
}

/* ---- names ------------------------------------------------------------------------ */

const char *rsap_request_state_name(enum rsap_request_state state)
{
        switch (state) {
        case RSAP_REQUEST_PENDING:
                return "pending";
        case RSAP_REQUEST_APPROVED:
                return "approved";
        case RSAP_REQUEST_REJECTED:
                return "rejected";
        }
        return "?";
}


/* ---- requests ----------------------------------------------------------------------- */

void rsap_request_clear(struct rsap_request *r)
{
        free(r->service);
        free(r->description);
        free(r->assignee);
        free(r->contact);
        free(r->reference);
        free(r->note);
        free(r->requested_by);
        memset(r, 0, sizeof(*r));
}

void rsap_request_list_free(struct rsap_request *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_request_clear(&list[i]);
        free(list);
}

int rsap_request_get(struct rsap_store *store, int64_t id, struct rsap_request *out)
{
        memset(out, 0, sizeof(*out));
        return STORE_OP(store, request_get)(store, id, out);
}

int rsap_request_list(struct rsap_store *store, bool pending_only, struct rsap_request **out,
                      size_t *n_out)
{
        *out = NULL;
        *n_out = 0;
        return STORE_OP(store, request_list)(store, pending_only, out, n_out);
}

static bool present(const char *text)
{
        return text && *text;
}

/* Whether text, absent or present, holds nothing a terminal or a log line would obey. */
static bool clean(const char *text, bool multi_line)
{
        return !text || rsap_text_first_control(text, multi_line) < 0;
}

static int validate_request(const struct rsap_request_input *in)
{
        size_t len = in->service ? strlen(in->service) : 0;

        if (len == 0 || len > RSAP_NAME_MAX)
                return -EINVAL;
        if (!present(in->description) || !present(in->assignee) || !present(in->contact))
                return -EINVAL;
        /* Every field is printed and logged later: refuse control characters at the door. */
        if (!clean(in->service, false) || !clean(in->description, false) ||
            !clean(in->assignee, false) || !clean(in->contact, false) ||
            !clean(in->reference, false) || !clean(in->note, true))
                return -EILSEQ;
        if (in->protocols == 0 || (in->protocols & ~ALL_TRANSPORTS))
                return -EINVAL;
        if (in->has_range && (!in->any_port || in->range_low > in->range_high))
                return -EINVAL;
        return 0;
}

static json_t *request_details(const struct rsap_request_input *in, uint16_t low, uint16_t high)
{
        char protocols[32];

        rsap_proto_format_list(in->protocols, protocols, sizeof(protocols));
        return json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s?, s:s?, s:b, s:b, s:b}",
                         "protocols", protocols,
                         "range_low", low,
                         "range_high", high,
                         "description", in->description,
                         "assignee", in->assignee,
                         "contact", in->contact,
                         "reference", present(in->reference) ? in->reference : NULL,
                         "note", present(in->note) ? in->note : NULL,
                         "allow_system", in->allow_system,
                         "over_iana", in->over_iana,
                         "same_service", in->same_service);
}

static int insert_request(struct rsap_store *store, const struct rsap_request_input *in,
                          const char *actor, uint16_t low, uint16_t high, int64_t *id_out)
{
        /* The strings are borrowed: the request is only read by the backend. */
        struct rsap_request r = {
                .service = (char *)in->service, .any_port = in->any_port,
                .port = in->any_port ? 0 : in->port, .range_low = low, .range_high = high,
                .protocols = in->protocols, .description = (char *)in->description,
                .assignee = (char *)in->assignee, .contact = (char *)in->contact,
                .reference = (char *)in->reference, .note = (char *)in->note,
                .allow_system = in->allow_system, .over_iana = in->over_iana,
                .same_service = in->same_service, .state = RSAP_REQUEST_PENDING,
                .requested_by = (char *)actor, .requested_us = rsap_store_now(store),
        };

        return STORE_OP(store, request_insert)(store, &r, id_out);
}

int rsap_request_file(const struct rsap_workflow *wf, const struct rsap_request_input *in,
                      int64_t *id_out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        _cleanup_(json_decrefp) json_t *details = NULL;
        uint16_t low = in->port, high = in->port;
        struct store_event ev = { .actor = wf->actor, .action = "request", .port = -1 };
        int r;

        r = validate_request(in);
        if (r < 0)
                return r;
        if (in->any_port) {
                low = in->has_range ? in->range_low : RSAP_DEFAULT_ANY_LOW;
                high = in->has_range ? in->range_high : RSAP_DEFAULT_ANY_HIGH;
        }
        details = request_details(in, low, high);
        if (!details)
                return -ENOMEM;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = insert_request(wf->store, in, wf->actor, low, high, &ev.request_id);
        if (r < 0)
                return r;
        ev.service = in->service;
        ev.port = in->any_port ? -1 : in->port;
        ev.details = details;
        r = store_append_event(wf->store, &ev, NULL);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx);
        if (r == 0)
                *id_out = ev.request_id;
        return r;
}

/* ---- assignments --------------------------------------------------------------------- */

void rsap_assignment_clear(struct rsap_assignment *a)
{
        free(a->service);
        free(a->assignee);
        free(a->contact);
        free(a->description);
        free(a->reference);
        free(a->note);
        free(a->over_iana);
        memset(a, 0, sizeof(*a));
}

void rsap_assignment_list_free(struct rsap_assignment *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_assignment_clear(&list[i]);
        free(list);
}

int assignment_get(struct rsap_store *store, int64_t id, struct rsap_assignment *out)
{
        struct store_assignment_query q = {
                .target = { .kind = RSAP_TARGET_ASSIGNMENT, .id = id },
        };
        struct rsap_assignment *list = NULL;
        size_t n = 0;
        int r = STORE_OP(store, assignments)(store, &q, &list, &n);

        if (r == 0 && n == 0)
                r = -ENOENT;
        if (r == 0) {
                *out = list[0];
                memset(&list[0], 0, sizeof(list[0]));
        }
        rsap_assignment_list_free(list, n);
        return r;
}

void store_service_clear(struct store_service *s)
{
        free(s->name);
        free(s->assignee);
        free(s->contact);
        memset(s, 0, sizeof(*s));
}

int service_find_or_create(struct rsap_store *store, const char *name, const char *assignee,
                           const char *contact, int64_t *id_out)
{
        struct store_service found;
        struct store_service fresh = {
                .name = (char *)name, .assignee = (char *)assignee, .contact = (char *)contact,
                .created_us = rsap_store_now(store),
        };
        int r = STORE_OP(store, service_get)(store, name, &found);

        if (r == 0) {
                *id_out = found.id;
                store_service_clear(&found);
                return 0;
        }
        if (r != -ENOENT)
                return r;
        return STORE_OP(store, service_insert)(store, &fresh, id_out);
}

/* SPDX-License-Identifier: MIT */
/*
 * The automatic checks of a request (review), and the decisions that follow:
 * approval re-runs them inside the transaction that writes the assignments,
 * so what was checked is what is written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>

#include "workflow_internal.h"

/* ---- names ---------------------------------------------------------------------- */

const char *rsap_check_code_name(enum rsap_check_code code)
{
        static const char *const names[RSAP_CHECK_COUNT] = {
                [RSAP_CHECK_STATE] = "state",
                [RSAP_CHECK_NAME_SYNTAX] = "name-syntax",
                [RSAP_CHECK_NAME_IANA] = "name-iana",
                [RSAP_CHECK_NAME_LOCAL] = "name-local",
                [RSAP_CHECK_NAME_PENDING] = "name-pending",
                [RSAP_CHECK_RANGE] = "range",
                [RSAP_CHECK_FREE_PORT] = "free-port",
                [RSAP_CHECK_IANA] = "iana",
                [RSAP_CHECK_ASSIGNED] = "assigned",
                [RSAP_CHECK_LEASED] = "leased",
                [RSAP_CHECK_QUARANTINE] = "quarantine",
                [RSAP_CHECK_REQUESTED] = "requested",
                [RSAP_CHECK_LISTENING] = "listening",
                [RSAP_CHECK_EPHEMERAL] = "ephemeral",
                [RSAP_CHECK_BROWSER] = "browser",
        };

        return (unsigned)code < RSAP_CHECK_COUNT ? names[code] : "?";
}

const char *rsap_verdict_name(enum rsap_verdict verdict)
{
        switch (verdict) {
        case RSAP_VERDICT_PASS:
                return "pass";
        case RSAP_VERDICT_WARNING:
                return "warning";
        case RSAP_VERDICT_ALLOWED:
                return "allowed";
        case RSAP_VERDICT_REFUSED:
                return "refused";
        }
        return "?";
}

int check_add(struct check_list *list, enum rsap_check_code code, enum rsap_verdict verdict,
              int port, enum rsap_proto proto, const char *fmt, ...)
{
        struct rsap_check *c;
        va_list ap;

        if (rsap_grow(&list->items, &list->capacity, list->n + 1, sizeof(*list->items)) < 0)
                return -ENOMEM;
        c = &list->items[list->n++];
        c->code = code;
        c->verdict = verdict;
        c->port = port;
        c->proto = proto;
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof(c->message), fmt, ap);
        va_end(ap);
        if (verdict == RSAP_VERDICT_REFUSED)
                list->n_refused++;
        else if (verdict == RSAP_VERDICT_WARNING)
                list->n_warnings++;
        return 0;
}

/* ---- what the checks decide with -------------------------------------------------- */

struct check_context {
        const struct rsap_workflow *wf;
        const struct rsap_request *request;
        bool allow_system, over_iana;
        struct check_list list;
        /* What the visitors of one port's checks found. */
        enum rsap_proto proto;
        bool held;
        struct store_quarantine quarantine;
        char quarantine_service[RSAP_NAME_MAX + 1];
};

static const char *proto_name(enum rsap_proto proto)
{
        return rsap_proto_name(proto);
}

/* ---- the service name ---------------------------------------------------------------- */

static int check_name_syntax(struct check_context *c)
{
        const char *name = c->request->service;
        enum rsap_name_problem problem = rsap_name_check(name);

        if (problem == RSAP_NAME_OK)
                return check_add(&c->list, RSAP_CHECK_NAME_SYNTAX, RSAP_VERDICT_PASS, -1, 0,
                                 "service name '%s' is well-formed (RFC 6335 section 5.1)", name);
        return check_add(&c->list, RSAP_CHECK_NAME_SYNTAX, RSAP_VERDICT_REFUSED, -1, 0,
                         "service name '%s' is malformed: %s (RFC 6335 section 5.1)", name,
                         rsap_name_problem_text(problem));
}

/* IANA's records of the name: whether one is for the requested port. */
static bool iana_name_on_port(const struct rsap_iana *iana, const uint32_t *ids, size_t n,
                              const struct rsap_request *req, char *where, size_t size)
{
        where[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                struct rsap_record rec;

                rsap_iana_record(iana, ids[i], &rec);
                if (!rec.has_port)
                        continue;
                if (!where[0])
                        format_message(where, size, " (%u/%s)", rec.port_low,
                                       rec.proto ? rsap_proto_name(rec.proto) : "any");
                if (!req->any_port && rec.port_low <= req->port && req->port <= rec.port_high &&
                    (rec.proto == RSAP_PROTO_NONE || (req->protocols & (1u << rec.proto))))
                        return true;
        }
        return false;
}

static int check_name_iana(struct check_context *c)
{
        const struct rsap_request *req = c->request;
        uint32_t ids[32];
        char where[32];
        size_t n = c->wf->iana ? rsap_iana_find_name(c->wf->iana, req->service, ids,
                                                     ARRAY_SIZE(ids))
                               : 0;

        if (n == 0)
                return check_add(&c->list, RSAP_CHECK_NAME_IANA, RSAP_VERDICT_PASS, -1, 0,
                                 "service name '%s' is not registered by IANA", req->service);
        if (n > ARRAY_SIZE(ids))
                n = ARRAY_SIZE(ids);
        if (iana_name_on_port(c->wf->iana, ids, n, req, where, sizeof(where)))
                return check_add(&c->list, RSAP_CHECK_NAME_IANA, RSAP_VERDICT_PASS, -1, 0,
                                 "service name '%s' is IANA's for this very port", req->service);
        if (req->same_service)
                return check_add(&c->list, RSAP_CHECK_NAME_IANA, RSAP_VERDICT_ALLOWED, -1, 0,
                                 "service name '%s' is registered by IANA%s; accepted as that same "
                                 "service on another port (--same-service)",
                                 req->service, where);
        return check_add(&c->list, RSAP_CHECK_NAME_IANA, RSAP_VERDICT_REFUSED, -1, 0,
                         "service name '%s' is registered by IANA%s; choose another name, or "
                         "--same-service if this is that service on another port",
                         req->service, where);
}

static int check_name_local(struct check_context *c)
{
        const struct rsap_request *req = c->request;
        struct store_service found;
        char since[RSAP_TIME_SIZE];
        int r = STORE_OP(c->wf->store, service_get)(c->wf->store, req->service, &found);

        if (r == -ENOENT)
                return check_add(&c->list, RSAP_CHECK_NAME_LOCAL, RSAP_VERDICT_PASS, -1, 0,
                                 "service name '%s' is not registered here", req->service);
        if (r < 0)
                return r;
        if (strcasecmp(found.assignee, req->assignee) == 0)
                r = check_add(&c->list, RSAP_CHECK_NAME_LOCAL, RSAP_VERDICT_PASS, -1, 0,
                              "service name '%s' is registered here to %s: this request adds "
                              "ports or protocols to that same service",
                              found.name, found.assignee);
        else {
                rsap_time_format(found.created_us, since, sizeof(since));
                r = check_add(&c->list, RSAP_CHECK_NAME_LOCAL, RSAP_VERDICT_REFUSED, -1, 0,
                              "service name '%s' is registered here to %s since %s; a name is "
                              "one service: choose another, or let %s request more ports for it",
                              found.name, found.assignee, since, found.assignee);
        }
        store_service_clear(&found);
        return r;
}

/* Another assignee's pending request for the same name. */
static int warn_name_pending(const struct store_pending *p, void *arg)
{
        struct check_context *c = arg;
        const struct rsap_request *req = c->request;

        if (p->id == req->id || strcasecmp(p->assignee, req->assignee) == 0)
                return 0;
        return check_add(&c->list, RSAP_CHECK_NAME_PENDING, RSAP_VERDICT_WARNING, -1, 0,
                         "request %lld by %s also asks for the name '%s'", (long long)p->id,
                         p->assignee, req->service);
}

static int check_name_pending(struct check_context *c)
{
        return STORE_OP(c->wf->store, pending)(c->wf->store, 0, 0, c->request->service,
                                               warn_name_pending, c);
}

/* ---- the range ------------------------------------------------------------------------- */

static int check_port_range(struct check_context *c, uint16_t port)
{
        const struct rsap_range_info *range = rsap_range_info(rsap_range_class_of(port));

        switch (range->id) {
        case RSAP_RANGE_DYNAMIC:
                return check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_REFUSED, port, 0,
                                 "port %u is a Dynamic Port (%u-%u): Dynamic Ports are never "
                                 "assigned (RFC 6335 section 6)",
                                 port, range->low, range->high);
        case RSAP_RANGE_SYSTEM:
                if (c->allow_system)
                        return check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_ALLOWED, port, 0,
                                         "port %u is a System Port (%u-%u); allowed by "
                                         "--allow-system",
                                         port, range->low, range->high);
                return check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_REFUSED, port, 0,
                                 "port %u is a System Port (%u-%u): --allow-system to assign one",
                                 port, range->low, range->high);
        default:
                return check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_PASS, port, 0,
                                 "port %u is a User Port (%u-%u)", port, range->low, range->high);
        }
}

/* --any: the part of the asked range that may be assigned, then its first free port. */
static int choose_port(struct check_context *c, int *port_out)
{
        const struct rsap_request *req = c->request;
        uint16_t low = req->range_low, high = req->range_high, port;
        char protocols[32];
        int r;

        *port_out = -1;
        if (low < (c->allow_system ? 1 : RSAP_DEFAULT_ANY_LOW))
                low = c->allow_system ? 1 : RSAP_DEFAULT_ANY_LOW;
        if (high > RSAP_DEFAULT_ANY_HIGH)
                high = RSAP_DEFAULT_ANY_HIGH;
        if (low > high)
                return check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_REFUSED, -1, 0,
                                 "range %u-%u has no port that may be assigned: Dynamic Ports "
                                 "(49152-65535) never are, System Ports (0-1023) need "
                                 "--allow-system",
                                 req->range_low, req->range_high);
        r = check_add(&c->list, RSAP_CHECK_RANGE, RSAP_VERDICT_PASS, -1, 0,
                      "the registry chooses a port in %u-%u", low, high);
        if (r < 0)
                return r;
        rsap_proto_format_list(req->protocols, protocols, sizeof(protocols));
        r = first_free_port(c->wf, low, high, low, req->protocols, req->id, &port);
        if (r == -EADDRNOTAVAIL)
                return check_add(&c->list, RSAP_CHECK_FREE_PORT, RSAP_VERDICT_REFUSED, -1, 0,
                                 "no port in %u-%u is free on %s", low, high, protocols);
        if (r < 0)
                return r;
        *port_out = port;
        return check_add(&c->list, RSAP_CHECK_FREE_PORT, RSAP_VERDICT_PASS, port, 0,
                         "port %u is the first free port of %u-%u on %s", port, low, high,
                         protocols);
}

/* ---- one port on one transport -------------------------------------------------------- */

static int check_iana(struct check_context *c, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_iana *iana = c->wf->iana;
        enum rsap_status status = iana ? rsap_iana_port_status(iana, port, proto)
                                       : RSAP_STATUS_UNASSIGNED;
        const char *service = iana ? rsap_iana_service_name(iana, port, proto) : NULL;
        char what[96];

        if (status == RSAP_STATUS_UNASSIGNED)
                return check_add(&c->list, RSAP_CHECK_IANA, RSAP_VERDICT_PASS, port, proto,
                                 "port %u/%s is not assigned by IANA", port, proto_name(proto));
        if (service && rsap_name_equal(service, c->request->service))
                return check_add(&c->list, RSAP_CHECK_IANA, RSAP_VERDICT_PASS, port, proto,
                                 "port %u/%s is IANA's %s: the same service", port,
                                 proto_name(proto), service);
        if (status == RSAP_STATUS_ASSIGNED && service)
                format_message(what, sizeof(what), "assigned by IANA to %s", service);
        else
                format_message(what, sizeof(what), "%s by IANA", rsap_status_name(status));
        if (c->over_iana)
                return check_add(&c->list, RSAP_CHECK_IANA, RSAP_VERDICT_ALLOWED, port, proto,
                                 "port %u/%s is %s; registered over it (--over-iana)", port,
                                 proto_name(proto), what);
        return check_add(&c->list, RSAP_CHECK_IANA, RSAP_VERDICT_REFUSED, port, proto,
                         "port %u/%s is %s; --over-iana to register over it", port,
                         proto_name(proto), what);
}

static int check_lease_holding(struct check_context *c, const struct store_holding *h)
{
        const char *name = h->lease_name;
        char until[RSAP_TIME_SIZE], holder[128] = "";

        if (!lease_is_live(c->wf->store, h->expires_us, h->pid, h->pid_start, h->host))
                return check_add(&c->list, RSAP_CHECK_LEASED, RSAP_VERDICT_PASS, h->port, h->proto,
                                 "port %u/%s: lease %lld has ended; the port is free", h->port,
                                 proto_name(h->proto), (long long)h->lease_id);
        rsap_time_format(h->expires_us, until, sizeof(until));
        if (h->pid > 0)
                format_message(holder, sizeof(holder), ", for process %d%s%s", (int)h->pid,
                               h->host ? " on " : "", h->host ? h->host : "");
        return check_add(&c->list, RSAP_CHECK_LEASED, RSAP_VERDICT_REFUSED, h->port, h->proto,
                         "port %u/%s is leased (lease %lld%s%s%s, until %s%s)", h->port,
                         proto_name(h->proto), (long long)h->lease_id, name ? " '" : "",
                         name ? name : "", name ? "'" : "", until, holder);
}

/* Who holds the port/protocol now (the holdings' key allows one): an assignment or a lease. */
static int check_holder(const struct store_holding *h, void *arg)
{
        struct check_context *c = arg;
        int r;

        c->held = true;
        if (!h->assignment_id) {
                r = check_add(&c->list, RSAP_CHECK_ASSIGNED, RSAP_VERDICT_PASS, h->port, h->proto,
                              "port %u/%s is not assigned here", h->port, proto_name(h->proto));
                return r < 0 ? r : check_lease_holding(c, h);
        }
        r = check_add(&c->list, RSAP_CHECK_ASSIGNED, RSAP_VERDICT_REFUSED, h->port, h->proto,
                      "port %u/%s is assigned here to %s (assignment %lld, %s)", h->port,
                      proto_name(h->proto), h->service, (long long)h->assignment_id,
                      h->assignee);
        if (r < 0)
                return r;
        return check_add(&c->list, RSAP_CHECK_LEASED, RSAP_VERDICT_PASS, h->port, h->proto,
                         "port %u/%s is not leased", h->port, proto_name(h->proto));
}

static int check_holding(struct check_context *c, uint16_t port, enum rsap_proto proto)
{
        const char *p = proto_name(proto);
        int r;

        c->held = false;
        r = STORE_OP(c->wf->store, holdings)(c->wf->store, port, port, proto, true,
                                             check_holder, c);
        if (r < 0 || c->held)
                return r;
        r = check_add(&c->list, RSAP_CHECK_ASSIGNED, RSAP_VERDICT_PASS, port, proto,
                      "port %u/%s is not assigned here", port, p);
        if (r < 0)
                return r;
        return check_add(&c->list, RSAP_CHECK_LEASED, RSAP_VERDICT_PASS, port, proto,
                         "port %u/%s is not leased", port, p);
}

/* The quarantine that lasts longest (the backend gives it first). */
static int keep_first_quarantine(const struct store_quarantine *q, void *arg)
{
        struct check_context *c = arg;

        if (c->quarantine.assignment_id)
                return 0;
        c->quarantine = *q;
        snprintf(c->quarantine_service, sizeof(c->quarantine_service), "%s",
                 q->service ? q->service : "?");
        return 0;
}

static int check_quarantine(struct check_context *c, uint16_t port, enum rsap_proto proto)
{
        char ended[RSAP_TIME_SIZE], until[RSAP_TIME_SIZE];
        int r;

        memset(&c->quarantine, 0, sizeof(c->quarantine));
        r = STORE_OP(c->wf->store, quarantines)(c->wf->store, port, port, proto,
                                                rsap_store_now(c->wf->store),
                                                keep_first_quarantine, c);
        if (r < 0)
                return r;
        if (!c->quarantine.assignment_id)
                return check_add(&c->list, RSAP_CHECK_QUARANTINE, RSAP_VERDICT_PASS, port, proto,
                                 "port %u/%s is not quarantined", port, proto_name(proto));
        rsap_time_format(c->quarantine.ended_us, ended, sizeof(ended));
        rsap_time_format(c->quarantine.until_us, until, sizeof(until));
        return check_add(&c->list, RSAP_CHECK_QUARANTINE, RSAP_VERDICT_REFUSED, port, proto,
                         "port %u/%s was released by %s (assignment %lld) on %s and is "
                         "quarantined until %s",
                         port, proto_name(proto), c->quarantine_service,
                         (long long)c->quarantine.assignment_id, ended, until);
}

/* Another pending request for the port on this protocol. */
static int warn_requested(const struct store_pending *p, void *arg)
{
        struct check_context *c = arg;

        if (p->id == c->request->id || !(p->protocols & (1u << c->proto)))
                return 0;
        return check_add(&c->list, RSAP_CHECK_REQUESTED, RSAP_VERDICT_WARNING, p->port, c->proto,
                         "request %lld (%s) also asks for %u/%s", (long long)p->id, p->service,
                         (unsigned)p->port, proto_name(c->proto));
}

static int check_requested(struct check_context *c, uint16_t port, enum rsap_proto proto)
{
        c->proto = proto;
        return STORE_OP(c->wf->store, pending)(c->wf->store, port, port, NULL, warn_requested, c);
}

/* "nginx (pid 812)" for the first owner the list names. */
static void listener_owner(const struct rsap_listen_list *list, uint16_t port,
                           enum rsap_proto proto, char *buf, size_t size)
{
        buf[0] = '\0';
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];

                if (s->port == port && s->proto == proto && s->n_owners > 0) {
                        format_message(buf, size, ": %s (pid %d)", s->owners[0].command,
                                       (int)s->owners[0].pid);
                        return;
                }
        }
}

static int check_listening(struct check_context *c, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_host *host = c->wf->host;
        char owner[64];

        if (!host || !host->listeners)
                return 0; /* not looked at: nothing to say */
        if (!rsap_host_listening(host, port, proto))
                return check_add(&c->list, RSAP_CHECK_LISTENING, RSAP_VERDICT_PASS, port, proto,
                                 "nothing listens on %u/%s on this host", port, proto_name(proto));
        listener_owner(host->listeners, port, proto, owner, sizeof(owner));
        return check_add(&c->list, RSAP_CHECK_LISTENING, RSAP_VERDICT_WARNING, port, proto,
                         "something listens on %u/%s on this host now%s", port,
                         proto_name(proto), owner);
}

/* Warnings about the number itself, once per port. */
static int check_port_warnings(struct check_context *c, uint16_t port)
{
        const struct rsap_host *host = c->wf->host;
        int r = 0;

        if (host && host->have_ephemeral && port >= host->ephemeral_low &&
            port <= host->ephemeral_high)
                r = check_add(&c->list, RSAP_CHECK_EPHEMERAL, RSAP_VERDICT_WARNING, port, 0,
                              "port %u is inside this host's ephemeral range %u-%u: outgoing "
                              "connections may take it ('rsap kernel-reserve --apply' reserves "
                              "assigned ports)",
                              port, host->ephemeral_low, host->ephemeral_high);
        if (r == 0 && rsap_port_browser_blocked(port))
                r = check_add(&c->list, RSAP_CHECK_BROWSER, RSAP_VERDICT_WARNING, port, 0,
                              "browsers refuse to connect to port %u (a bad port of the Fetch "
                              "standard)",
                              port);
        return r;
}

static int check_port(struct check_context *c, uint16_t port)
{
        int r = 0;

        for (unsigned p = RSAP_TRANSPORTS_FIRST; r == 0 && p <= RSAP_TRANSPORTS_LAST; p++) {
                enum rsap_proto proto = (enum rsap_proto)p;

                if (!(c->request->protocols & (1u << p)))
                        continue;
                r = check_iana(c, port, proto);
                if (r == 0)
                        r = check_holding(c, port, proto);
                if (r == 0)
                        r = check_quarantine(c, port, proto);
                if (r == 0)
                        r = check_requested(c, port, proto);
                if (r == 0)
                        r = check_listening(c, port, proto);
        }
        return r == 0 ? check_port_warnings(c, port) : r;
}

/* ---- all of them ------------------------------------------------------------------------ */

static int check_state(struct check_context *c)
{
        const struct rsap_request *req = c->request;

        return check_add(&c->list, RSAP_CHECK_STATE, RSAP_VERDICT_REFUSED, -1, 0,
                         "request %lld was already %s", (long long)req->id,
                         rsap_request_state_name(req->state));
}

static int run_all(struct check_context *c, int *port_out)
{
        const struct rsap_request *req = c->request;
        int r;

        *port_out = -1;
        if (req->state != RSAP_REQUEST_PENDING)
                return check_state(c);
        r = check_name_syntax(c);
        if (r == 0)
                r = check_name_iana(c);
        if (r == 0)
                r = check_name_local(c);
        if (r == 0)
                r = check_name_pending(c);
        if (r < 0)
                return r;
        if (req->any_port) {
                r = choose_port(c, port_out);
        } else {
                *port_out = req->port;
                r = check_port_range(c, req->port);
        }
        if (r < 0 || *port_out < 0)
                return r;
        return check_port(c, (uint16_t)*port_out);
}

int checks_run(const struct rsap_workflow *wf, const struct rsap_request *request,
               const struct rsap_review_options *options, struct rsap_review *out)
{
        struct check_context c = {
                .wf = wf,
                .request = request,
                .allow_system = request->allow_system || (options && options->allow_system),
                .over_iana = request->over_iana || (options && options->over_iana),
        };
        int r = run_all(&c, &out->port);

        out->checks = c.list.items;
        out->n_checks = c.list.n;
        out->n_refused = c.list.n_refused;
        out->n_warnings = c.list.n_warnings;
        return r;
}

void rsap_review_clear(struct rsap_review *review)
{
        rsap_request_clear(&review->request);
        free(review->checks);
        memset(review, 0, sizeof(*review));
}

int rsap_review(const struct rsap_workflow *wf, int64_t request_id,
                const struct rsap_review_options *options, struct rsap_review *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        out->port = -1;
        r = rsap_request_get(wf->store, request_id, &out->request);
        if (r < 0)
                return r;
        r = checks_run(wf, &out->request, options, out);
        if (r < 0)
                rsap_review_clear(out);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * The decisions of RFC 6335 section 8 on the local registry: approval (8.1),
 * rejection, de-assignment (8.2), revocation (8.4) and transfer (8.5).  Each
 * is one transaction: its checks, its state changes and its events commit
 * together or not at all.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <rsap/textsafe.h>

#include "workflow_internal.h"

/* ---- approval ------------------------------------------------------------------- */

/* IANA's name for what an approval registered over, when a check allowed it. */
static const char *over_iana_name(const struct rsap_workflow *wf, const struct rsap_review *rv,
                                  enum rsap_proto proto)
{
        const char *service;

        for (size_t i = 0; i < rv->n_checks; i++) {
                const struct rsap_check *c = &rv->checks[i];

                if (c->code != RSAP_CHECK_IANA || c->proto != proto ||
                    c->verdict != RSAP_VERDICT_ALLOWED)
                        continue;
                service = rsap_iana_service_name(wf->iana, (uint16_t)rv->port, proto);
                return service ? service
                               : rsap_status_name(rsap_iana_port_status(
                                         wf->iana, (uint16_t)rv->port, proto));
        }
        return NULL;
}

/* What the checks said beyond "pass", kept in the approval's event. */
static json_t *notable_checks(const struct rsap_review *rv)
{
        json_t *list = json_array();

        for (size_t i = 0; list && i < rv->n_checks; i++)
                if (rv->checks[i].verdict != RSAP_VERDICT_PASS)
                        json_array_append_new(list, rsap_check_to_json(&rv->checks[i]));
        return list;
}

static int record_approval(const struct rsap_workflow *wf, const struct rsap_review *rv,
                           int64_t assignment_id, enum rsap_proto proto, const char *over_iana,
                           const char *why)
{
        const struct rsap_request *req = &rv->request;
        _cleanup_(json_decrefp) json_t *details =
                json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:o}", "assignee", req->assignee,
                          "contact", req->contact, "description", req->description, "reference",
                          req->reference, "note", req->note, "over_iana", over_iana, "checks",
                          notable_checks(rv));
        struct store_event ev = {
                .actor = wf->actor, .action = "approve", .request_id = req->id,
                .assignment_id = assignment_id, .service = req->service, .port = rv->port,
                .proto = proto, .reason = why, .details = details,
        };

        if (!details)
                return -ENOMEM;
        return store_append_event(wf->store, &ev, NULL);
}

static int assign_protocols(const struct rsap_workflow *wf, const struct rsap_review *rv,
                            const char *why)
{
        const struct rsap_request *req = &rv->request;
        int64_t service_id, assignment_id;
        int r = service_find_or_create(wf->store, req->service, req->assignee, req->contact,
                                       &service_id);

        for (unsigned p = RSAP_TRANSPORTS_FIRST; r == 0 && p <= RSAP_TRANSPORTS_LAST; p++) {
                enum rsap_proto proto = (enum rsap_proto)p;
                const char *over = over_iana_name(wf, rv, proto);
                struct assignment_fields f = {
                        .service_id = service_id, .request_id = req->id,
                        .port = (uint16_t)rv->port, .proto = proto,
                        .description = req->description, .reference = req->reference,
                        .note = req->note, .over_iana = over,
                };

                if (!(req->protocols & (1u << p)))
                        continue;
                r = STORE_OP(wf->store, assignment_insert)(wf->store, &f, &assignment_id);
                if (r == 0)
                        r = record_approval(wf, rv, assignment_id, proto, over, why);
        }
        return r;
}

static int request_assignments(struct rsap_store *store, int64_t request_id,
                               struct rsap_assignment **out, size_t *n_out)
{
        struct store_assignment_query q = {
                .target = { .kind = RSAP_TARGET_REQUEST, .id = request_id },
        };

        return STORE_OP(store, assignments)(store, &q, out, n_out);
}

void rsap_approval_clear(struct rsap_approval *a)
{
        rsap_review_clear(&a->review);
        rsap_assignment_list_free(a->assignments, a->n_assignments);
        memset(a, 0, sizeof(*a));
}

int rsap_approve(const struct rsap_workflow *wf, int64_t request_id,
                 const struct rsap_review_options *options, const char *why,
                 struct rsap_approval *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct rsap_review *rv = &out->review;
        int r;

        memset(out, 0, sizeof(*out));
        rv->port = -1;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = rsap_request_get(wf->store, request_id, &rv->request);
        if (r < 0)
                return r;
        /* A dead lease must not stand in the way of an assignment. */
        r = leases_reap(wf->store, wf->actor, NULL);
        if (r == 0)
                r = checks_run(wf, &rv->request, options, rv);
        if (r < 0)
                return r;
        if (rv->request.state != RSAP_REQUEST_PENDING)
                return -EALREADY;
        if (rv->n_refused > 0 || rv->port < 0)
                return -EPERM;
        r = assign_protocols(wf, rv, why);
        if (r == 0)
                r = STORE_OP(wf->store, request_decide)(wf->store, request_id, RSAP_REQUEST_APPROVED);
        if (r == 0)
                r = request_assignments(wf->store, request_id, &out->assignments,
                                        &out->n_assignments);
        if (r == 0)
                r = store_tx_commit(&tx);
        return r;
}

/* ---- rejection -------------------------------------------------------------------- */

int rsap_reject(const struct rsap_workflow *wf, int64_t request_id, const char *why,
                struct rsap_request *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct store_event ev = { .actor = wf->actor, .action = "reject", .reason = why };
        int r;

        memset(out, 0, sizeof(*out));
        if (!why || !*why)
                return -EINVAL;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = rsap_request_get(wf->store, request_id, out);
        if (r < 0)
                return r;
        if (out->state != RSAP_REQUEST_PENDING)
                return -EALREADY;
        r = STORE_OP(wf->store, request_decide)(wf->store, request_id, RSAP_REQUEST_REJECTED);
        if (r < 0)
                return r;
        ev.request_id = request_id;
        ev.service = out->service;
        ev.port = out->any_port ? -1 : out->port;
        r = store_append_event(wf->store, &ev, NULL);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r == 0)
                out->state = RSAP_REQUEST_REJECTED;
        return r;
}

/* ---- what a target names ------------------------------------------------------------ */

/* The active assignments a target names, in id order. */
static int target_assignments(struct rsap_store *store, const struct rsap_target *t,
                              struct rsap_assignment **out, size_t *n_out)
{
        struct store_assignment_query q = { .target = *t, .active_only = true };

        *out = NULL;
        *n_out = 0;
        if (t->kind == RSAP_TARGET_LEASE)
                return -EINVAL;
        return STORE_OP(store, assignments)(store, &q, out, n_out);
}

/* ---- de-assignment and revocation ------------------------------------------------------ */

static int end_assignment(const struct rsap_workflow *wf, const struct rsap_assignment *a,
                          const char *action, const char *why, int64_t quarantine_us)
{
        _cleanup_(json_decrefp) json_t *details = NULL;
        int64_t now = rsap_store_now(wf->store), until = now + quarantine_us;
        char until_text[RSAP_TIME_SIZE];
        struct store_event ev = {
                .actor = wf->actor, .action = action, .request_id = a->request_id,
                .assignment_id = a->id, .service = a->service, .port = a->port,
                .proto = a->proto, .reason = why,
        };
        int r = STORE_OP(wf->store, assignment_end)(wf->store, a->id, now, until);

        if (r < 0)
                return r;
        rsap_time_format(until, until_text, sizeof(until_text));
        details = json_pack("{s:s, s:I, s:s}", "quarantine_until", until_text,
                            "quarantine_until_us", (json_int_t)until, "assignee", a->assignee);
        if (!details)
                return -ENOMEM;
        ev.details = details;
        return store_append_event(wf->store, &ev, NULL);
}

/* Reads the assignments again, as the transaction left them. */
static int reread(struct rsap_store *store, struct rsap_assignment *list, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct rsap_assignment fresh;
                int r = assignment_get(store, list[i].id, &fresh);

                if (r < 0)
                        return r;
                rsap_assignment_clear(&list[i]);
                list[i] = fresh;
        }
        return 0;
}

static int end_assignments(const struct rsap_workflow *wf, const struct rsap_target *target,
                           const char *action, const char *why, int64_t quarantine_us,
                           struct rsap_assignment **out, size_t *n_out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct rsap_assignment *list = NULL;
        size_t n = 0;
        int r;

        *out = NULL;
        *n_out = 0;
        if (quarantine_us < 0)
                return -EINVAL;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = target_assignments(wf->store, target, &list, &n);
        if (r == 0 && n == 0)
                r = -ENOENT;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = end_assignment(wf, &list[i], action, why, quarantine_us);
        if (r == 0)
                r = reread(wf->store, list, n);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r < 0) {
                rsap_assignment_list_free(list, n);
                return r;
        }
        *out = list;
        *n_out = n;
        return 0;
}

int rsap_deassign(const struct rsap_workflow *wf, const struct rsap_target *target,
                  const char *why, int64_t quarantine_us, struct rsap_assignment **out,
                  size_t *n_out)
{
        return end_assignments(wf, target, "deassign", why, quarantine_us, out, n_out);
}

int rsap_revoke(const struct rsap_workflow *wf, const struct rsap_target *target,
                const char *why, int64_t quarantine_us, struct rsap_assignment **out,
                size_t *n_out)
{
        *out = NULL;
        *n_out = 0;
        if (!why || !*why)
                return -EINVAL;
        return end_assignments(wf, target, "revoke", why, quarantine_us, out, n_out);
}

/* ---- transfer ------------------------------------------------------------------------- */

void rsap_transfer_clear(struct rsap_transfer *t)
{
        free(t->service);
        free(t->from);
        free(t->to);
        free(t->contact_from);
        free(t->contact_to);
        rsap_assignment_list_free(t->assignments, t->n_assignments);
        memset(t, 0, sizeof(*t));
}

/* The one service a target names: by name, or through its active assignments. */
static int target_service(struct rsap_store *store, const struct rsap_target *target,
                          char name[static RSAP_NAME_MAX + 1])
{
        struct rsap_assignment *list = NULL;
        size_t n = 0;
        int r;

        if (target->kind == RSAP_TARGET_NAME) {
                snprintf(name, RSAP_NAME_MAX + 1, "%s", target->name);
                return 0;
        }
        r = target_assignments(store, target, &list, &n);
        if (r == 0 && n == 0)
                r = -ENOENT;
        for (size_t i = 1; r == 0 && i < n; i++)
                if (strcasecmp(list[i].service, list[0].service) != 0)
                        r = -ENOTUNIQ;
        if (r == 0)
                snprintf(name, RSAP_NAME_MAX + 1, "%s", list[0].service);
        rsap_assignment_list_free(list, n);
        return r;
}

static int read_service(struct rsap_store *store, const char *name, struct rsap_transfer *out,
                        int64_t *id_out)
{
        struct store_service found;
        int r = STORE_OP(store, service_get)(store, name, &found);

        if (r < 0)
                return r;
        *id_out = found.id;
        /* The strings pass to the transfer, which frees them. */
        out->service = found.name;
        out->from = found.assignee;
        out->contact_from = found.contact;
        return 0;
}

static int record_transfer(const struct rsap_workflow *wf, const struct rsap_transfer *t,
                           const struct rsap_assignment *a, const char *why)
{
        _cleanup_(json_decrefp) json_t *details =
                json_pack("{s:s, s:s, s:s, s:s}", "from", t->from, "to", t->to, "contact_from",
                          t->contact_from, "contact_to", t->contact_to);
        struct store_event ev = {
                .actor = wf->actor, .action = "transfer", .service = t->service, .port = -1,
                .reason = why, .details = details,
        };

        if (!details)
                return -ENOMEM;
        if (a) {
                ev.request_id = a->request_id;
                ev.assignment_id = a->id;
                ev.port = a->port;
                ev.proto = a->proto;
        }
        return store_append_event(wf->store, &ev, NULL);
}

static int transfer_in_tx(const struct rsap_workflow *wf, const struct rsap_target *target,
                          const char *to, const char *contact, const char *why,
                          struct rsap_transfer *out)
{
        struct rsap_target whole = { .kind = RSAP_TARGET_NAME };
        int64_t service_id = 0;
        int r = target_service(wf->store, target, whole.name);

        if (r == 0)
                r = read_service(wf->store, whole.name, out, &service_id);
        if (r < 0)
                return r;
        if (strcasecmp(out->from, to) == 0)
                return -EALREADY;
        out->to = strdup(to);
        out->contact_to = strdup(contact && *contact ? contact : out->contact_from);
        if (!out->to || !out->contact_to)
                return -ENOMEM;
        r = STORE_OP(wf->store, service_set_people)(wf->store, service_id, out->to,
                                                       out->contact_to);
        if (r == 0)
                r = target_assignments(wf->store, &whole, &out->assignments,
                                       &out->n_assignments);
        for (size_t i = 0; r == 0 && i < out->n_assignments; i++)
                r = record_transfer(wf, out, &out->assignments[i], why);
        /* A name whose ports all ended still has an owner to hand over. */
        if (r == 0 && out->n_assignments == 0)
                r = record_transfer(wf, out, NULL, why);
        return r;
}

int rsap_transfer(const struct rsap_workflow *wf, const struct rsap_target *target,
                  const char *to, const char *contact, const char *why,
                  struct rsap_transfer *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int r;

        memset(out, 0, sizeof(*out));
        if (!to || !*to)
                return -EINVAL;
        /* The new assignee and contact are fields as a request's are: one line each. */
        if (rsap_text_first_control(to, false) >= 0 ||
            (contact && rsap_text_first_control(contact, false) >= 0))
                return -EILSEQ;
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = transfer_in_tx(wf, target, to, contact, why, out);
        if (r == 0)
                r = store_tx_commit(&tx);
        return r;
}

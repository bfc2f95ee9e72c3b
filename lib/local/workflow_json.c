/* SPDX-License-Identifier: MIT */
/*
 * The registration workflow's values as JSON: rsap's --json and rsapd's API
 * print these, so they are the same bytes.  Schema: docs/json.md.  Absent
 * values are null; ids are integers; times are UTC ISO 8601 with
 * milliseconds.
 */
#include <rsap/error_json.h>
#include <rsap/findings.h>
#include <rsap/workflow.h>

#include <rsap/basic.h>

static json_t *text_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t us)
{
        char text[RSAP_TIME_SIZE];

        if (us <= 0)
                return json_null();
        rsap_time_format(us, text, sizeof(text));
        return json_string(text);
}

static json_t *id_or_null(int64_t id)
{
        return id > 0 ? json_integer(id) : json_null();
}

static json_t *port_or_null(int port)
{
        return port >= 0 ? json_integer(port) : json_null();
}

static json_t *proto_or_null(enum rsap_proto proto)
{
        return text_or_null(rsap_proto_name(proto));
}

static json_t *protocols_to_json(unsigned mask)
{
        json_t *list = json_array();

        for (unsigned p = RSAP_TRANSPORTS_FIRST; list && p <= RSAP_TRANSPORTS_LAST; p++)
                if (mask & (1u << p))
                        json_array_append_new(list, json_string(rsap_proto_name((enum rsap_proto)p)));
        return list;
}

/* ---- requests and checks ------------------------------------------------------------ */

json_t *rsap_request_to_json(const struct rsap_request *r)
{
        json_t *range = r->any_port ? json_pack("{s:i, s:i}", "low", r->range_low, "high",
                                                r->range_high)
                                    : json_null();

        return json_pack("{s:s, s:I, s:s, s:o, s:b, s:o, s:o, s:s, s:s, s:s, s:o, s:o,"
                         " s:b, s:b, s:b, s:s, s:s, s:o}",
                         "kind", "request",
                         "id", (json_int_t)r->id,
                         "service", r->service,
                         "port", r->any_port ? json_null() : json_integer(r->port),
                         "any_port", r->any_port,
                         "range", range,
                         "protocols", protocols_to_json(r->protocols),
                         "description", r->description,
                         "assignee", r->assignee,
                         "contact", r->contact,
                         "reference", text_or_null(r->reference),
                         "note", text_or_null(r->note),
                         "allow_system", r->allow_system,
                         "over_iana", r->over_iana,
                         "same_service", r->same_service,
                         "state", rsap_request_state_name(r->state),
                         "requested_by", r->requested_by,
                         "requested", time_or_null(r->requested_us));
}

json_t *rsap_request_list_to_json(const struct rsap_request *list, size_t n)
{
        json_t *requests = json_array();

        for (size_t i = 0; requests && i < n; i++)
                json_array_append_new(requests, rsap_request_to_json(&list[i]));
        return json_pack("{s:s, s:o}", "kind", "requests", "requests", requests);
}

json_t *rsap_check_to_json(const struct rsap_check *c)
{
        return json_pack("{s:s, s:s, s:o, s:o, s:s}",
                         "code", rsap_check_code_name(c->code),
                         "verdict", rsap_verdict_name(c->verdict),
                         "port", port_or_null(c->port),
                         "protocol", proto_or_null(c->proto),
                         "message", c->message);
}

static json_t *checks_to_json(const struct rsap_review *rv)
{
        json_t *list = json_array();

        for (size_t i = 0; list && i < rv->n_checks; i++)
                json_array_append_new(list, rsap_check_to_json(&rv->checks[i]));
        return list;
}

json_t *rsap_review_to_json(const struct rsap_review *rv)
{
        return json_pack("{s:s, s:o, s:o, s:b, s:I, s:I, s:o}",
                         "kind", "review",
                         "request", rsap_request_to_json(&rv->request),
                         "port", port_or_null(rv->port),
                         "approvable", rv->n_refused == 0 && rv->port >= 0,
                         "refused", (json_int_t)rv->n_refused,
                         "warnings", (json_int_t)rv->n_warnings,
                         "checks", checks_to_json(rv));
}

/* ---- assignments ----------------------------------------------------------------------- */

json_t *rsap_assignment_to_json(const struct rsap_assignment *a)
{
        return json_pack("{s:s, s:I, s:o, s:s, s:i, s:o, s:s, s:s, s:s, s:o, s:o, s:o,"
                         " s:b, s:o, s:o, s:o}",
                         "kind", "assignment",
                         "id", (json_int_t)a->id,
                         "request", id_or_null(a->request_id),
                         "service", a->service,
                         "port", a->port,
                         "protocol", proto_or_null(a->proto),
                         "assignee", a->assignee,
                         "contact", a->contact,
                         "description", a->description,
                         "reference", text_or_null(a->reference),
                         "note", text_or_null(a->note),
                         "over_iana", text_or_null(a->over_iana),
                         "active", a->active,
                         "assigned", time_or_null(a->assigned_us),
                         "ended", time_or_null(a->ended_us),
                         "quarantine_until", time_or_null(a->quarantine_until_us));
}

static json_t *assignments_to_json(const struct rsap_assignment *list, size_t n)
{
        json_t *array = json_array();

        for (size_t i = 0; array && i < n; i++)
                json_array_append_new(array, rsap_assignment_to_json(&list[i]));
        return array;
}

/* A refused approval carries its failure as rsapd's 409 states it (rsap/error.h):
 * the first refusing check, in the words rsap approve prints. */
static json_t *approval_error(const struct rsap_approval *a)
{
        const struct rsap_review *rv = &a->review;
        char message[1024];

        if (a->n_assignments > 0)
                return NULL;
        snprintf(message, sizeof(message), "request %lld was already decided",
                 (long long)rv->request.id);
        for (size_t i = 0; i < rv->n_checks; i++) {
                if (rv->checks[i].verdict == RSAP_VERDICT_REFUSED) {
                        snprintf(message, sizeof(message), "request %lld refused: %s",
                                 (long long)rv->request.id, rv->checks[i].message);
                        break;
                }
        }
        return rsap_error_body_to_json(409, message);
}

json_t *rsap_approval_to_json(const struct rsap_approval *a)
{
        return json_pack("{s:s, s:b, s:I, s:o, s:o, s:o, s:o*}",
                         "kind", "approval",
                         "approved", a->n_assignments > 0,
                         "request", (json_int_t)a->review.request.id,
                         "port", port_or_null(a->review.port),
                         "assignments", assignments_to_json(a->assignments, a->n_assignments),
                         "checks", checks_to_json(&a->review),
                         "error", approval_error(a));
}

json_t *rsap_ended_to_json(const char *kind, const struct rsap_assignment *list, size_t n)
{
        return json_pack("{s:s, s:o}", "kind", kind, "assignments", assignments_to_json(list, n));
}

json_t *rsap_transfer_to_json(const struct rsap_transfer *t)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                         "kind", "transfer",
                         "service", t->service,
                         "from", t->from,
                         "to", t->to,
                         "contact_from", t->contact_from,
                         "contact_to", t->contact_to,
                         "assignments", assignments_to_json(t->assignments, t->n_assignments));
}

/* ---- history ---------------------------------------------------------------------------- */

json_t *rsap_event_to_json(const struct rsap_event *e)
{
        json_t *details = e->details ? json_loads(e->details, 0, NULL) : NULL;

        return json_pack("{s:I, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "id", (json_int_t)e->id,
                         "time", time_or_null(e->time_us),
                         "actor", e->actor,
                         "action", e->action,
                         "request", id_or_null(e->request_id),
                         "assignment", id_or_null(e->assignment_id),
                         "lease", id_or_null(e->lease_id),
                         "service", text_or_null(e->service),
                         "port", port_or_null(e->port),
                         "protocol", proto_or_null(e->proto),
                         "reason", text_or_null(e->reason),
                         "details", details ? details : json_null(),
                         "host", text_or_null(e->host));
}

static json_t *target_to_json(const struct rsap_target *t)
{
        switch (t->kind) {
        case RSAP_TARGET_PORT:
                return json_pack("{s:s, s:i, s:o}", "type", "port", "port", t->port, "protocol",
                                 proto_or_null(t->proto));
        case RSAP_TARGET_NAME:
                return json_pack("{s:s, s:s}", "type", "name", "name", t->name);
        case RSAP_TARGET_REQUEST:
                return json_pack("{s:s, s:I}", "type", "request", "id", (json_int_t)t->id);
        case RSAP_TARGET_ASSIGNMENT:
                return json_pack("{s:s, s:I}", "type", "assignment", "id", (json_int_t)t->id);
        case RSAP_TARGET_LEASE:
                return json_pack("{s:s, s:I}", "type", "lease", "id", (json_int_t)t->id);
        }
        return json_null();
}

json_t *rsap_history_to_json(const struct rsap_history *h)
{
        json_t *events = json_array();

        for (size_t i = 0; events && i < h->n_events; i++)
                json_array_append_new(events, rsap_event_to_json(&h->events[i]));
        return json_pack("{s:s, s:o, s:o}", "kind", "history", "target",
                         target_to_json(&h->target), "events", events);
}

/* ---- pick and lease ---------------------------------------------------------------------- */

static json_t *pick_exclusions_to_json(const struct rsap_pick_exclusions *x)
{
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                         "iana", (json_int_t)x->iana,
                         "local_assignment", (json_int_t)x->local_assignment,
                         "lease", (json_int_t)x->lease,
                         "request", (json_int_t)x->request,
                         "quarantine", (json_int_t)x->quarantine,
                         "listening", (json_int_t)x->listening,
                         "ephemeral", (json_int_t)x->ephemeral,
                         "browser", (json_int_t)x->browser);
}

json_t *rsap_pick_to_json(const struct rsap_pick *p)
{
        json_t *ports = json_array();

        for (size_t i = 0; ports && i < p->n_ports; i++)
                json_array_append_new(ports, json_integer(p->ports[i]));
        return json_pack("{s:s, s:i, s:i, s:o, s:I, s:b, s:o, s:o}",
                         "kind", "pick",
                         "low", p->options.low,
                         "high", p->options.high,
                         "protocols", protocols_to_json(p->options.protocols),
                         "count", (json_int_t)p->options.count,
                         "allow_iana", p->options.allow_iana,
                         "ports", ports,
                         "excluded", pick_exclusions_to_json(&p->excluded));
}

json_t *rsap_lease_to_json(const char *kind, const struct rsap_lease *l)
{
        return json_pack("{s:s, s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}",
                         "kind", kind,
                         "id", (json_int_t)l->id,
                         "port", l->port,
                         "protocols", protocols_to_json((1u << RSAP_PROTO_TCP) |
                                                        (1u << RSAP_PROTO_UDP)),
                         "name", text_or_null(l->name),
                         "pid", l->pid > 0 ? json_integer(l->pid) : json_null(),
                         "leased", time_or_null(l->leased_us),
                         "expires", time_or_null(l->expires_us),
                         "active", l->active,
                         "ended", time_or_null(l->ended_us),
                         "host", text_or_null(l->host));
}

/* ---- kernel-reserve, audit, import -------------------------------------------------------- */

json_t *rsap_kernel_reserve_to_json(const struct rsap_kernel_reserve *k)
{
        json_t *assigned = json_array();

        for (size_t i = 0; assigned && i < k->n_assigned; i++)
                json_array_append_new(assigned, json_integer(k->assigned[i]));
        return json_pack("{s:s, s:s, s:o, s:I, s:s, s:b}",
                         "kind", "kernel-reserve",
                         "current", k->current ? k->current : "",
                         "assigned", assigned,
                         "added", (json_int_t)k->n_added,
                         "merged", k->merged ? k->merged : "",
                         "applied", k->applied);
}

json_t *rsap_audit_to_json(const struct rsap_audit *a)
{
        json_t *findings = json_array();

        for (size_t i = 0; findings && i < a->n_findings; i++) {
                const struct rsap_finding *f = &a->findings[i];

                json_array_append_new(findings,
                                      json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:s}",
                                                "kind", rsap_finding_kind_name(f->kind),
                                                "port", f->port,
                                                "protocol", proto_or_null(f->proto),
                                                "service", text_or_null(f->service),
                                                "assignment", id_or_null(f->assignment_id),
                                                "listener", text_or_null(f->listener),
                                                "message", f->message));
        }
        return json_pack("{s:s, s:b, s:I, s:I, s:o}",
                         "kind", "audit",
                         "clean", a->n_findings == 0,
                         "listeners", (json_int_t)a->n_listeners,
                         "assignments", (json_int_t)a->n_assignments,
                         "findings", findings);
}

/* The owners were written by rsap_listen_finding_make(): anything else is null. */
static json_t *owners_or_null(const char *text)
{
        json_t *owners = text ? json_loads(text, 0, NULL) : NULL;

        if (owners && !json_is_array(owners)) {
                json_decref(owners);
                owners = NULL;
        }
        return owners ? owners : json_null();
}

json_t *rsap_listen_finding_to_json(const struct rsap_listen_finding *f)
{
        return json_pack("{s:o, s:o, s:o, s:o, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o}",
                         "id", id_or_null(f->id),
                         "time", time_or_null(f->found_us),
                         "resolved", time_or_null(f->resolved_us),
                         "host", text_or_null(f->host),
                         "kind", rsap_squat_kind_name(f->kind),
                         "port", (int)f->port,
                         "protocol", proto_or_null(f->proto),
                         "address", f->address,
                         "service", text_or_null(f->service),
                         "assignment_id", id_or_null(f->assignment_id),
                         "lease_id", id_or_null(f->lease_id),
                         "processes", owners_or_null(f->owners));
}

json_t *rsap_listen_findings_to_json(const struct rsap_listen_finding *list, size_t n)
{
        _cleanup_(json_decrefp) json_t *array = json_array();

        for (size_t i = 0; array && i < n; i++)
                if (json_array_append_new(array, rsap_listen_finding_to_json(&list[i])) < 0)
                        return NULL;
        return TAKE_PTR(array);
}

json_t *rsap_import_result_to_json(const struct rsap_import_result *r)
{
        json_t *conflicts = json_array();

        for (size_t i = 0; conflicts && i < r->n_conflicts; i++) {
                const struct rsap_import_conflict *c = &r->conflicts[i];

                json_array_append_new(conflicts,
                                      json_pack("{s:o, s:o, s:o, s:s}",
                                                "service", text_or_null(c->service),
                                                "port", port_or_null(c->port),
                                                "protocol", proto_or_null(c->proto),
                                                "message", c->message));
        }
        return json_pack("{s:s, s:I, s:I, s:o}",
                         "kind", "import",
                         "imported", (json_int_t)r->imported,
                         "unchanged", (json_int_t)r->unchanged,
                         "conflicts", conflicts);
}

/* ---- the local registry in lookups ---------------------------------------------------------- */

static const char *local_kind_name(enum rsap_local_kind kind)
{
        switch (kind) {
        case RSAP_LOCAL_ASSIGNMENT:
                return "assignment";
        case RSAP_LOCAL_REQUEST:
                return "request";
        case RSAP_LOCAL_LEASE:
                break;
        }
        return "lease";
}

json_t *rsap_local_entry_to_json(const struct rsap_local_entry *e)
{
        return json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "kind", local_kind_name(e->kind),
                         "id", (json_int_t)e->id,
                         "state", e->state,
                         "service", text_or_null(e->service),
                         "port", port_or_null(e->port),
                         "protocols", protocols_to_json(e->protocols),
                         "assignee", text_or_null(e->assignee),
                         "contact", text_or_null(e->contact),
                         "description", text_or_null(e->description),
                         "over_iana", text_or_null(e->over_iana),
                         "since", time_or_null(e->since_us),
                         "until", time_or_null(e->until_us),
                         "pid", e->pid > 0 ? json_integer(e->pid) : json_null());
}

json_t *rsap_local_list_to_json(const struct rsap_local_list *list)
{
        json_t *array = json_array();

        for (size_t i = 0; array && list && i < list->n_entries; i++)
                json_array_append_new(array, rsap_local_entry_to_json(&list->entries[i]));
        return array;
}

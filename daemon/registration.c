/* SPDX-License-Identifier: MIT */
/*
 * The organisation's registration process over HTTP: each route makes the
 * library call the matching rsap command makes and answers with the same
 * *_to_json() value.  Writes go through the one store connection under
 * store_lock (SQLite serialises them against rsap commands run beside the
 * daemon) and bump the data generation once committed, so no cached answer
 * outlives them.  The rules' refusals are 409 with the library's answer as
 * the body, so a client sees which check refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/error.h>
#include <rsap/findings.h>
#include <rsap/json.h>
#include <rsap/listen.h>
#include <rsap/listen_history.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#include "decode.h"
#include "rsapd.h"

#define DEFAULT_ACTOR "rsapd"

void reply_store_error(struct reply *out, int err, const char *what)
{
        switch (err) {
        case -ENOENT:
                reply_error(out, 404, "%s: no such record", what);
                return;
        case -EALREADY:
                reply_error(out, 409, "%s: the request was already decided", what);
                return;
        case -EPERM:
                reply_error(out, 409, "%s: the registry's rules refuse it", what);
                return;
        case -EADDRNOTAVAIL:
                reply_error(out, 409, "%s: no free port in the range", what);
                return;
        case -ENOTUNIQ:
                reply_error(out, 409, "%s: the target names more than one service", what);
                return;
        case -EINVAL:
                reply_error(out, 400, "%s: the input is not valid", what);
                return;
        case -EILSEQ:
                reply_error(out, 400,
                            "%s: a field holds a control character or a byte that is not UTF-8 "
                            "(only a note may hold line breaks)",
                            what);
                return;
        case -ESRCH:
                reply_error(out, 400, "%s: no such process", what);
                return;
        case -EBUSY:
                reply_error(out, 503, "%s: the registry is locked by another process; try again",
                            what);
                return;
        case -ECONNREFUSED:
        case -ECONNRESET:
                reply_error(out, 503, "%s: the registry's database server does not answer; try "
                            "again", what);
                return;
        case -EROFS:
        case -EACCES:
        case -ENOSPC:
                reply_error(out, 503, "%s: the registry cannot be written: %s", what,
                            strerror(-err));
                return;
        case -ENOTRECOVERABLE:
        default:
                reply_error(out, 500, "%s: %s", what, rsap_strerror(err));
        }
}

/* ---- what each call needs ------------------------------------------------ */

struct host_view {
        struct rsap_host host;
        struct rsap_listen_list *listeners;
        struct listener_snapshot *snapshot;
};

/* The ephemeral range and, when asked, the sockets listening now. */
static void host_view(struct host_view *v, bool listeners, bool owners)
{
        struct rsap_listen_filter f;

        memset(v, 0, sizeof(*v));
        v->host.have_ephemeral = rsap_host_read_ephemeral(NULL, &v->host.ephemeral_low,
                                                          &v->host.ephemeral_high) == 0;
        if (!listeners)
                return;
        rsap_listen_filter_init(&f);
        f.find_owners = owners;
        if (rsap_listen_collect(&f, &v->listeners) == 0)
                v->host.listeners = v->listeners;
}

/* The sockets on low..high only (0-0: the rules' default range), as a pick
 * or a lease considers no other port: the rules look each candidate up in
 * this list while store_lock is held, and the host's thousands of other
 * sockets would only make that longer. */
static void host_view_ports(struct host_view *v, uint16_t low, uint16_t high)
{
        struct rsap_listen_filter f;

        host_view(v, false, false);
        rsap_listen_filter_init(&f);
        f.find_owners = false;
        f.port_low = low == 0 && high == 0 ? RSAP_DEFAULT_ANY_LOW : low;
        f.port_high = low == 0 && high == 0 ? RSAP_DEFAULT_ANY_HIGH : high;
        if (rsap_listen_collect(&f, &v->listeners) == 0)
                v->host.listeners = v->listeners;
}

/* The ephemeral range and the sockets of rsapd's snapshot, with owners if
 * asked: what a review or an approval checks, without a dump of its own. */
static void host_view_snapshot(struct rsapd *d, struct host_view *v, bool owners)
{
        host_view(v, false, false);
        v->snapshot = listeners_get(d->listeners);
        if (v->snapshot)
                v->host.listeners = owners && v->snapshot->owned ? v->snapshot->owned
                                                                 : v->snapshot->plain;
}

static void host_view_clear(struct host_view *v)
{
        rsap_listen_list_free(v->listeners);
        v->listeners = NULL;
        listeners_put(v->snapshot);
        v->snapshot = NULL;
}

static struct rsap_workflow workflow(struct rsapd *d, const struct request *req,
                                     struct host_view *v, const char *as)
{
        return (struct rsap_workflow){ d->store, req->reg, as ? as : DEFAULT_ACTOR,
                                       v ? &v->host : NULL };
}

static json_t *body_object(const struct request *req, bool required, struct reply *out)
{
        char err[256];
        json_t *body;

        if (req->body_len == 0 && !required)
                return NULL;
        body = decode_json_object(req->body, req->body_len, err, sizeof(err));
        if (!body)
                reply_error(out, 400, "%s", err);
        return body;
}

/* ---- requests ------------------------------------------------------------ */

static void list_requests(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_request *list = NULL;
        bool all = false;
        size_t n = 0;
        int r;

        if (api_query_flag(req, "all", &all, out) < 0)
                return;
        pthread_mutex_lock(&d->store_lock);
        r = rsap_request_list(d->store, !all, &list, &n);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                rsap_request_list_free(list, n);
                reply_store_error(out, r, "cannot list the requests");
                return;
        }
        reply_json(out, 200, rsap_request_list_to_json(list, n));
        rsap_request_list_free(list, n);
}

static void file_request(struct rsapd *d, const struct request *req, struct reply *out)
{
        json_t *body = body_object(req, true, out);
        struct decoded_request dr;
        struct rsap_workflow wf;
        struct host_view v;
        struct rsap_request filed;
        char err[DECODE_ERR_SIZE], location[64];
        int64_t id;
        int r;

        if (!body)
                return;
        if (decode_request(body, &dr, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        host_view(&v, false, false); /* rsap request --json reads no sockets either */
        wf = workflow(d, req, &v, dr.as);
        memset(&filed, 0, sizeof(filed));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_request_file(&wf, &dr.in, &id);
        if (r == 0)
                r = rsap_request_get(d->store, id, &filed);
        pthread_mutex_unlock(&d->store_lock);
        json_decref(body);
        host_view_clear(&v);
        if (r < 0) {
                rsap_request_clear(&filed);
                reply_store_error(out, r, "cannot file the request");
                return;
        }
        reply_json(out, 201, rsap_request_to_json(&filed));
        rsap_request_clear(&filed);
        snprintf(location, sizeof(location), "/v1/registry/requests/%lld", (long long)id);
        snprintf(out->location, sizeof(out->location), "%s", location);
}

void api_requests(struct rsapd *d, const struct request *req, struct reply *out)
{
        if (req->method == HTTP_POST)
                file_request(d, req, out);
        else
                list_requests(d, req, out);
}

static int parse_request_id(const char *text, int64_t *id, struct reply *out)
{
        /* As rsap review ID: a malformed id is bad input (400), a missing one 404. */
        if (rsap_request_id_parse(text, id) < 0) {
                reply_error(out, 400, "'%s' is not a request id (a number, as POST "
                                      "/v1/registry/requests answered it)", text);
                return -EINVAL;
        }
        return 0;
}

/* GET /v1/registry/requests/{id}: the request with its review, as `rsap review --json`. */
void api_request(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_review_options options = { 0 };
        struct rsap_workflow wf;
        struct rsap_review rv;
        struct host_view v;
        int64_t id;
        int r;

        if (parse_request_id(req->route->params[0], &id, out) < 0 ||
            api_query_flag(req, "allow_system", &options.allow_system, out) < 0 ||
            api_query_flag(req, "over_iana", &options.over_iana, out) < 0)
                return;
        host_view_snapshot(d, &v, owners_visible(d, req));
        wf = workflow(d, req, &v, NULL);
        memset(&rv, 0, sizeof(rv));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_review(&wf, id, &options, &rv);
        pthread_mutex_unlock(&d->store_lock);
        host_view_clear(&v);
        if (r < 0) {
                rsap_review_clear(&rv);
                reply_store_error(out, r, "cannot review the request");
                return;
        }
        reply_json(out, 200, rsap_review_to_json(&rv));
        rsap_review_clear(&rv);
}

static void approve(struct rsapd *d, const struct request *req, int64_t id, struct reply *out)
{
        json_t *body = body_object(req, false, out);
        struct decoded_decision dd;
        struct rsap_approval a;
        struct rsap_workflow wf;
        struct host_view v;
        char err[DECODE_ERR_SIZE];
        int r;

        if (!body && out->status)
                return;
        if (decode_decision(body, false, &dd, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        host_view_snapshot(d, &v, owners_visible(d, req));
        wf = workflow(d, req, &v, dd.as);
        memset(&a, 0, sizeof(a));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_approve(&wf, id, &dd.options, dd.why, &a);
        pthread_mutex_unlock(&d->store_lock);
        host_view_clear(&v);
        json_decref(body);
        if (r == 0 || r == -EPERM) {
                /* Refused: the approval's review says which check, as rsap approve prints. */
                reply_json(out, r == 0 ? 200 : 409, rsap_approval_to_json(&a));
        } else {
                reply_store_error(out, r, "cannot approve the request");
        }
        rsap_approval_clear(&a);
}

static void reject(struct rsapd *d, const struct request *req, int64_t id, struct reply *out)
{
        json_t *body = body_object(req, false, out);
        struct decoded_decision dd;
        struct rsap_workflow wf;
        struct rsap_request rq;
        char err[DECODE_ERR_SIZE];
        int r;

        if (!body && out->status)
                return;
        if (decode_decision(body, true, &dd, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        wf = workflow(d, req, NULL, dd.as);
        memset(&rq, 0, sizeof(rq));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_reject(&wf, id, dd.why, &rq);
        pthread_mutex_unlock(&d->store_lock);
        json_decref(body);
        if (r < 0) {
                /* The library may have read the request before refusing. */
                rsap_request_clear(&rq);
                reply_store_error(out, r, "cannot reject the request");
                return;
        }
        reply_json(out, 200, rsap_request_to_json(&rq));
        rsap_request_clear(&rq);
}

void api_request_action(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *action = req->route->params[1];
        int64_t id;

        if (strcmp(action, "approve") != 0 && strcmp(action, "reject") != 0) {
                reply_error(out, 404, "a request can be approved or rejected, not '%s'", action);
                return;
        }
        if (parse_request_id(req->route->params[0], &id, out) < 0)
                return;
        if (strcmp(action, "approve") == 0)
                approve(d, req, id, out);
        else
                reject(d, req, id, out);
}

/* ---- assignments ------------------------------------------------------------ */

/* rsap deassign's and revoke's words and outcome (exit 1: nothing matched). */
static void end_error(struct reply *out, int err, const struct decoded_end *de, bool revoke)
{
        if (de->target.kind == RSAP_TARGET_LEASE && (err == -ENOENT || err == -EINVAL))
                reply_error(out, 404, "'%s' is a lease: use DELETE /v1/leases/{port}",
                            de->target_text);
        else if (err == -ENOENT || err == -EINVAL) /* -EINVAL: a request:ID */
                reply_error(out, 404, "no active assignment for %s", de->target_text);
        else
                reply_store_error(out, err, revoke ? "cannot revoke" : "cannot deassign");
}

void api_end(struct rsapd *d, const struct request *req, struct reply *out)
{
        bool revoke = req->route->id == ROUTE_API_REVOKE;
        json_t *body = body_object(req, true, out);
        struct rsap_assignment *list = NULL;
        struct decoded_end de;
        struct rsap_workflow wf;
        char err[DECODE_ERR_SIZE];
        size_t n = 0;
        int r;

        if (!body)
                return;
        if (decode_end(body, revoke, &de, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        wf = workflow(d, req, NULL, de.as);
        pthread_mutex_lock(&d->store_lock);
        r = revoke ? rsap_revoke(&wf, &de.target, de.why, de.quarantine_us, &list, &n)
                   : rsap_deassign(&wf, &de.target, de.why, de.quarantine_us, &list, &n);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                rsap_assignment_list_free(list, n);
                end_error(out, r, &de, revoke);
                json_decref(body); /* de's strings point into it */
                return;
        }
        json_decref(body);
        reply_json(out, 200, rsap_ended_to_json(revoke ? "revoke" : "deassign", list, n));
        rsap_assignment_list_free(list, n);
}

/* The words and outcome of rsap transfer: nothing matched (1), refused (3), bad input (2). */
static void transfer_error(struct reply *out, int err, const char *text, const char *to)
{
        switch (err) {
        case -ENOENT:
                reply_error(out, 404, "no service or active assignment for %s", text);
                return;
        case -EALREADY:
                reply_error(out, 409, "%s already belongs to %s", text, to);
                return;
        case -ENOTUNIQ:
                reply_error(out, 400, "%s names assignments of several services: name one "
                                      "service (PORT/PROTO or the service name)", text);
                return;
        case -EINVAL:
                reply_error(out, 400, "'%s' is a lease or a request: transfer takes a port, a "
                                      "service name or assignment:ID", text);
                return;
        default:
                reply_store_error(out, err, "cannot transfer");
        }
}

void api_transfer(struct rsapd *d, const struct request *req, struct reply *out)
{
        json_t *body = body_object(req, true, out);
        struct decoded_transfer dt;
        struct rsap_workflow wf;
        struct rsap_transfer t;
        char err[DECODE_ERR_SIZE];
        int r;

        if (!body)
                return;
        if (decode_transfer(body, &dt, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        wf = workflow(d, req, NULL, dt.as);
        memset(&t, 0, sizeof(t));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_transfer(&wf, &dt.target, dt.to, dt.contact, dt.why, &t);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                transfer_error(out, r, dt.target_text, dt.to);
        json_decref(body);
        if (r < 0) {
                rsap_transfer_clear(&t);
                return;
        }
        reply_json(out, 200, rsap_transfer_to_json(&t));
        rsap_transfer_clear(&t);
}

/* ---- history, pick, leases, audit -------------------------------------------------- */

/* What --owners keeps from this client: the processes behind the sockets. */
void rsapd_hide_interval_owners(struct rsap_interval_list *list)
{
        for (size_t i = 0; i < list->n; i++) {
                struct rsap_interval *iv = &list->items[i];

                iv->pid = 0;
                iv->pid_start = 0;
                free(TAKE_PTR(iv->command));
                free(TAKE_PTR(iv->exe));
                free(TAKE_PTR(iv->owners));
        }
}

/* A finding's processes are shown as its socket's owners are (--owners). */
static void hide_finding_owners(struct rsap_port_listening *h)
{
        rsapd_hide_interval_owners(&h->intervals);
        for (size_t i = 0; i < h->n_findings; i++)
                free(TAKE_PTR(h->findings[i].owners));
}

/* ?listening=1: what rsap history PORT --listening prints. */
static void listening_history(struct rsapd *d, const struct request *req,
                              const struct rsap_target *target, const char *text,
                              struct reply *out)
{
        _cleanup_(rsap_port_listening_clear) struct rsap_port_listening h = { 0 };
        int r;

        if (target->kind != RSAP_TARGET_PORT) {
                reply_error(out, 400, "listening=1: '%s' is not a port (PORT or PORT/PROTO)", text);
                return;
        }
        pthread_mutex_lock(&d->store_lock);
        r = rsap_port_listening_read(d->store, target->port, target->proto, &h);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                reply_store_error(out, r, "cannot read the listening history");
                return;
        }
        if (!owners_visible(d, req))
                hide_finding_owners(&h);
        reply_json(out, 200, rsap_port_listening_to_json(&h));
}

void api_history(struct rsapd *d, const struct request *req, struct reply *out)
{
        bool listening = false;
        struct rsap_history h = { 0 };
        struct rsap_target target;
        char text[2 * ROUTE_PARAM_SIZE];
        int r;

        if (req->route->n_params == 2)
                snprintf(text, sizeof(text), "%s/%s", req->route->params[0], req->route->params[1]);
        else
                snprintf(text, sizeof(text), "%s", req->route->params[0]);
        if (api_query_flag(req, "listening", &listening, out) < 0)
                return;
        if (listening && rsap_target_parse(text, &target) == 0) {
                listening_history(d, req, &target, text, out);
                return;
        }
        if (rsap_target_parse(text, &target) < 0) {
                reply_error(out, 400, "'%s' is not a port, a service name, or request:ID, "
                                      "assignment:ID or lease:ID", text);
                return;
        }
        pthread_mutex_lock(&d->store_lock);
        r = rsap_history(d->store, &target, &h);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                rsap_history_clear(&h);
                reply_store_error(out, r, "cannot read the history");
                return;
        }
        reply_json(out, 200, rsap_history_to_json(&h));
        rsap_history_clear(&h);
}

static int pick_options(const struct request *req, struct rsap_pick_options *o, struct reply *out)
{
        const char *range = req->query(req, "range");
        const char *protos = req->query(req, "proto");
        const char *count = req->query(req, "count");
        struct rsap_port_spec spec;

        memset(o, 0, sizeof(*o));
        if (range && (rsap_port_spec_parse(range, &spec) < 0 || spec.proto != RSAP_PROTO_NONE)) {
                reply_error(out, 400, "'%s' is not a range (A-B, 0 <= A <= B <= 65535)", range);
                return -EINVAL;
        }
        if (range) {
                o->low = spec.low;
                o->high = spec.high;
        }
        if (protos && rsap_proto_parse_list(protos, &o->protocols) < 0) {
                reply_error(out, 400, "unknown protocol in '%s' (tcp, udp, sctp, dccp)", protos);
                return -EINVAL;
        }
        if (count) {
                char *end;
                long n = strtol(count, &end, 10);

                /* rsap pick --count's bounds: as many as a range can hold. */
                if (*count < '0' || *count > '9' || *end || n < 1 || n > 65536) {
                        reply_error(out, 400, "count takes a number from 1 to 65536");
                        return -EINVAL;
                }
                o->count = (size_t)n;
        }
        return api_query_flag(req, "allow_iana", &o->allow_iana, out);
}

void api_pick(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_pick_options o;
        struct rsap_workflow wf;
        struct rsap_pick p;
        struct host_view v;
        int r;

        if (pick_options(req, &o, out) < 0)
                return;
        host_view_ports(&v, o.low, o.high);
        wf = workflow(d, req, &v, NULL);
        memset(&p, 0, sizeof(p));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_pick(&wf, &o, &p);
        pthread_mutex_unlock(&d->store_lock);
        host_view_clear(&v);
        if (r < 0) {
                rsap_pick_clear(&p);
                reply_store_error(out, r, "cannot pick");
                return;
        }
        reply_json(out, 200, rsap_pick_to_json(&p));
        rsap_pick_clear(&p);
}

void api_leases(struct rsapd *d, const struct request *req, struct reply *out)
{
        json_t *body = body_object(req, false, out);
        struct decoded_lease dl;
        struct rsap_workflow wf;
        struct rsap_lease l;
        struct host_view v;
        char err[DECODE_ERR_SIZE];
        int r;

        if (!body && out->status)
                return;
        if (decode_lease(body, &dl, err) < 0) {
                reply_error(out, 400, "%s", err);
                json_decref(body);
                return;
        }
        host_view_ports(&v, dl.options.low, dl.options.high);
        wf = workflow(d, req, &v, dl.as);
        memset(&l, 0, sizeof(l));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_lease_take(&wf, &dl.options, &l);
        pthread_mutex_unlock(&d->store_lock);
        host_view_clear(&v);
        json_decref(body);
        if (r < 0) {
                rsap_lease_clear(&l);
                reply_store_error(out, r, "cannot lease a port");
                return;
        }
        reply_json(out, 201, rsap_lease_to_json("lease", &l));
        snprintf(out->location, sizeof(out->location), "/v1/leases/%u", l.port);
        rsap_lease_clear(&l);
}

void api_lease_release(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *text = req->route->params[0];
        struct rsap_workflow wf;
        struct rsap_target target;
        struct rsap_lease l;
        int r;

        if (rsap_target_parse(text, &target) < 0 ||
            (target.kind != RSAP_TARGET_PORT && target.kind != RSAP_TARGET_LEASE)) {
                reply_error(out, 400, "'%s' is not a port or lease:ID", text);
                return;
        }
        wf = workflow(d, req, NULL, NULL);
        memset(&l, 0, sizeof(l));
        pthread_mutex_lock(&d->store_lock);
        r = rsap_lease_release(&wf, &target, &l);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                rsap_lease_clear(&l);
                reply_store_error(out, r, "cannot release the lease");
                return;
        }
        reply_json(out, 200, rsap_lease_to_json("release", &l));
        rsap_lease_clear(&l);
}

/* processes: whether the findings may name the processes on a port (--owners). */
static int run_audit(struct rsapd *d, const struct rsap_iana *reg, bool processes,
                     struct rsap_audit *a)
{
        struct rsap_audit_facts *facts = NULL;
        struct host_view v;
        int r;

        host_view(&v, true, processes);
        if (!v.host.listeners) {
                host_view_clear(&v);
                return -EPROTONOSUPPORT;
        }
        memset(a, 0, sizeof(*a));
        /* Only the reading holds the lock: the comparison with thousands of
         * sockets must not stall writers and the port server. */
        pthread_mutex_lock(&d->store_lock);
        r = rsap_audit_read(d->store, &facts);
        pthread_mutex_unlock(&d->store_lock);
        if (r == 0)
                r = rsap_audit_check(facts, reg, &v.host, a);
        rsap_audit_facts_free(facts);
        host_view_clear(&v);
        return r;
}

void api_audit(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_audit a;
        int r = run_audit(d, req->reg, owners_visible(d, req), &a);

        if (r == -EPROTONOSUPPORT) {
                reply_error(out, 503, "cannot list the sockets listening here");
                return;
        }
        if (r < 0) {
                rsap_audit_clear(&a);
                reply_store_error(out, r, "cannot audit");
                return;
        }
        reply_json(out, 200, rsap_audit_to_json(&a));
        rsap_audit_clear(&a);
}

/* Under store_lock: the live leases, counted by the store (no assignment is read). */
static long count_live_leases(struct rsap_store *store)
{
        struct rsap_local_counts n;
        int r = rsap_local_counts(store, &n);

        return r < 0 ? r : (long)n.leases;
}

/* The audit's rules over what was read, outside every lock: the count alone. */
static long count_findings(const struct rsap_audit_facts *facts, const struct rsap_iana *reg,
                           const struct host_view *v)
{
        struct rsap_audit a;
        long n;
        int r;

        memset(&a, 0, sizeof(a));
        r = rsap_audit_check(facts, reg, &v->host, &a);
        n = r < 0 ? r : (long)a.n_findings;
        rsap_audit_clear(&a);
        return n;
}

void registration_figures(struct rsapd *d, const struct rsap_iana *reg, long *leases,
                          long *findings)
{
        struct rsap_audit_facts *facts = NULL;
        struct host_view v;
        int r;

        /* Counted, never shown: who owns a socket changes no count, so no
         * walk over every process's descriptors. */
        host_view(&v, true, false);
        pthread_mutex_lock(&d->store_lock);
        *leases = count_live_leases(d->store);
        r = rsap_audit_read(d->store, &facts);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                *findings = r;
        else if (!v.host.listeners)
                *findings = -EPROTONOSUPPORT;
        else
                *findings = count_findings(facts, reg, &v);
        rsap_audit_facts_free(facts);
        host_view_clear(&v);
}

/* SPDX-License-Identifier: MIT */
/*
 * Squatter findings as the store keeps them: made from a socket and the
 * judge's verdict (audit.c judges), recorded in one transaction, resolved
 * once, listed by port.  The JSON is in workflow_json.c with the registry's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/findings.h>

#include "store_internal.h"

void rsap_listen_finding_clear(struct rsap_listen_finding *f)
{
        free(f->host);
        free(f->service);
        free(f->owners);
        memset(f, 0, sizeof(*f));
}

void rsap_listen_findings_free(struct rsap_listen_finding *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rsap_listen_finding_clear(&list[i]);
        free(list);
}

static char *owners_text(const struct rsap_listen_socket *sock)
{
        json_t *owners = rsap_listen_owners_to_json(sock);
        char *text = owners ? json_dumps(owners, JSON_COMPACT) : NULL;

        json_decref(owners);
        return text;
}

int rsap_listen_finding_make(const struct rsap_squat_verdict *verdict,
                             const struct rsap_listen_socket *sock, int64_t found_us,
                             struct rsap_listen_finding *out)
{
        memset(out, 0, sizeof(*out));
        if (verdict->kind == RSAP_SQUAT_NONE || (unsigned)verdict->kind >= RSAP_SQUAT_KINDS)
                return -EINVAL;
        *out = (struct rsap_listen_finding){
                .found_us = found_us, .kind = verdict->kind, .port = sock->port,
                .proto = sock->proto, .assignment_id = verdict->assignment_id,
                .lease_id = verdict->lease_id,
        };
        snprintf(out->address, sizeof(out->address), "%s", sock->address);
        out->owners = owners_text(sock);
        if (verdict->service)
                out->service = strdup(verdict->service);
        if (!out->owners || (verdict->service && !out->service)) {
                rsap_listen_finding_clear(out);
                return -ENOMEM;
        }
        return 0;
}

static int set_host(struct rsap_store *store, struct rsap_listen_finding *f)
{
        char *host = strdup(rsap_store_host(store));

        if (!host)
                return -ENOMEM;
        free(f->host);
        f->host = host;
        return 0;
}

int rsap_findings_record(struct rsap_store *store, struct rsap_listen_finding *f)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int64_t id = 0;
        int r = set_host(store, f);

        if (r == 0)
                r = store_tx_begin(store, &tx);
        if (r == 0)
                r = STORE_OP(store, finding_insert)(store, f, &id);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r == 0)
                f->id = id;
        return r;
}

int rsap_findings_resolve(struct rsap_store *store, int64_t id, int64_t resolved_us)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int r = store_tx_begin(store, &tx);

        if (r == 0)
                r = STORE_OP(store, finding_resolve)(store, id, resolved_us);
        if (r == 0)
                r = store_tx_commit(&tx);
        return r;
}

int rsap_findings_apply(struct rsap_store *store, struct rsap_listen_finding *record,
                        size_t n_record, const struct rsap_finding_resolution *resolve,
                        size_t n_resolve)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int r = store_tx_begin(store, &tx);

        for (size_t i = 0; r == 0 && i < n_record; i++) {
                r = set_host(store, &record[i]);
                if (r == 0)
                        r = STORE_OP(store, finding_insert)(store, &record[i], &record[i].id);
        }
        for (size_t i = 0; r == 0 && i < n_resolve; i++) {
                r = STORE_OP(store, finding_resolve)(store, resolve[i].id, resolve[i].resolved_us);
                if (r == -EALREADY)
                        r = 0;
        }
        if (r == 0)
                r = store_tx_commit(&tx);
        for (size_t i = 0; r < 0 && i < n_record; i++)
                record[i].id = 0;
        return r;
}

struct findings_collector {
        struct rsap_listen_finding *list;
        size_t n, capacity;
};

static char *strdup_or_null(const char *s, bool *failed)
{
        char *copy = s ? strdup(s) : NULL;

        if (s && !copy)
                *failed = true;
        return copy;
}

static int collect_finding(const struct rsap_listen_finding *f, void *arg)
{
        struct findings_collector *c = arg;
        struct rsap_listen_finding *out;
        bool failed = false;

        if (rsap_grow(&c->list, &c->capacity, c->n + 1, sizeof(*c->list)) < 0)
                return -ENOMEM;
        out = &c->list[c->n++];
        *out = *f;
        out->host = strdup_or_null(f->host, &failed);
        out->service = strdup_or_null(f->service, &failed);
        out->owners = strdup_or_null(f->owners, &failed);
        return failed ? -ENOMEM : 0;
}

int rsap_findings_list(struct rsap_store *store, const struct rsap_findings_query *q,
                       struct rsap_listen_finding **out, size_t *n_out)
{
        struct findings_collector c = { 0 };
        int r = STORE_OP(store, findings)(store, q, collect_finding, &c);

        *out = NULL;
        *n_out = 0;
        if (r < 0) {
                rsap_listen_findings_free(c.list, c.n);
                return r;
        }
        *out = c.list;
        *n_out = c.n;
        return 0;
}

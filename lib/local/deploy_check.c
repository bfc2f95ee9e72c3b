/* SPDX-License-Identifier: MIT */
/*
 * rsap check: what stands in the way of a deployment's port on this host.
 * The same facts the review of a request weighs (checks.c), asked of a
 * port a file already names: who listens on it, whom the registries gave
 * it to, whether the kernel hands it out as a source port, whether
 * browsers refuse it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/deploy.h>

#include "workflow_internal.h"

static const char *const kind_names[RSAP_DEPLOY_KIND_COUNT] = {
        [RSAP_DEPLOY_LISTENING] = "listening", [RSAP_DEPLOY_LOCAL] = "local",
        [RSAP_DEPLOY_IANA] = "iana",           [RSAP_DEPLOY_EPHEMERAL] = "ephemeral",
        [RSAP_DEPLOY_BROWSER] = "browser",     [RSAP_DEPLOY_DUPLICATE] = "duplicate",
};

const char *rsap_deploy_finding_kind_name(enum rsap_deploy_finding_kind kind)
{
        return (unsigned)kind < RSAP_DEPLOY_KIND_COUNT ? kind_names[kind] : "?";
}

int rsap_deploy_finding_kind_parse(const char *text, enum rsap_deploy_finding_kind *out)
{
        for (unsigned k = 0; k < RSAP_DEPLOY_KIND_COUNT; k++)
                if (strcmp(text, kind_names[k]) == 0) {
                        *out = (enum rsap_deploy_finding_kind)k;
                        return 0;
                }
        return -EINVAL;
}

struct port_findings {
        const char *service;
        uint16_t port;
        enum rsap_proto proto;
        unsigned ignore;
        struct rsap_deploy_finding *out;
        size_t n;
        bool registered;        /* the local registry assigns it to service */
};

static void add(struct port_findings *f, enum rsap_deploy_finding_kind kind, const char *other,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct port_findings *f, enum rsap_deploy_finding_kind kind, const char *other,
                const char *fmt, ...)
{
        struct rsap_deploy_finding *d;
        va_list ap;

        if ((f->ignore & (1u << kind)) || f->n == RSAP_DEPLOY_KIND_COUNT)
                return;
        d = &f->out[f->n++];
        d->kind = kind;
        snprintf(d->other, sizeof(d->other), "%s", other ? other : "");
        va_start(ap, fmt);
        vsnprintf(d->message, sizeof(d->message), fmt, ap);
        va_end(ap);
}

/* The holding's assignment, when it is another service's (a lease is no assignment). */
static int note_local(const struct store_holding *h, void *arg)
{
        struct port_findings *f = arg;

        if (!h->assignment_id || !h->service)
                return 0;
        if (strcasecmp(h->service, f->service) == 0) {
                f->registered = true;
                return 0;
        }
        add(f, RSAP_DEPLOY_LOCAL, h->service, "%u/%s is assigned here to %s (assignment %lld)",
            f->port, rsap_proto_name(f->proto), h->service, (long long)h->assignment_id);
        return 0;
}

/* A pending request of the service itself for the port (on this protocol) counts as its own. */
static int note_pending(const struct store_pending *p, void *arg)
{
        struct port_findings *f = arg;

        if (p->port == f->port && (p->protocols & (1u << f->proto)) && p->service &&
            strcasecmp(p->service, f->service) == 0)
                f->registered = true;
        return 0;
}

/* IANA's first assignment of the port to another service, unless one is the service's own. */
static void check_iana(struct port_findings *f, const struct rsap_iana *iana)
{
        uint32_t ids[64];
        size_t n = rsap_iana_find_port(iana, f->port, f->proto, ids, ARRAY_SIZE(ids));
        const char *other = NULL;
        struct rsap_record rec;

        for (size_t i = 0; i < n && i < ARRAY_SIZE(ids); i++) {
                rsap_iana_record(iana, ids[i], &rec);
                if (rec.status != RSAP_STATUS_ASSIGNED || !rec.service || !*rec.service)
                        continue;
                if (strcasecmp(rec.service, f->service) == 0)
                        return;
                if (!other)
                        other = rec.service;
        }
        if (other)
                add(f, RSAP_DEPLOY_IANA, other, "%u/%s is assigned by IANA to %s", f->port,
                    rsap_proto_name(f->proto), other);
}

static void check_host(struct port_findings *f, const struct rsap_host *host)
{
        if (host && rsap_host_listening(host, f->port, f->proto))
                add(f, RSAP_DEPLOY_LISTENING, NULL, "%u/%s is listening on this host now",
                    f->port, rsap_proto_name(f->proto));
}

static void check_ephemeral(struct port_findings *f, const struct rsap_host *host)
{
        if (host && host->have_ephemeral && f->port >= host->ephemeral_low &&
            f->port <= host->ephemeral_high)
                add(f, RSAP_DEPLOY_EPHEMERAL, NULL,
                    "%u is inside this host's ephemeral range %u-%u", f->port,
                    host->ephemeral_low, host->ephemeral_high);
}

int rsap_deploy_check_port(const struct rsap_workflow *wf, const char *service, uint16_t port,
                           enum rsap_proto proto, unsigned ignore,
                           struct rsap_deploy_finding out[RSAP_DEPLOY_KIND_COUNT],
                           bool *registered)
{
        struct port_findings f = { service ? service : "", port, proto, ignore, out, 0, false };
        int r = 0;

        check_host(&f, wf->host);
        if (wf->store)
                r = STORE_OP(wf->store, holdings)(wf->store, port, port, proto, true,
                                                  note_local, &f);
        if (wf->store && r == 0 && !f.registered)
                r = STORE_OP(wf->store, pending)(wf->store, port, port, NULL, note_pending, &f);
        if (r < 0)
                return r;
        if (wf->iana)
                check_iana(&f, wf->iana);
        check_ephemeral(&f, wf->host);
        if (rsap_port_browser_blocked(port))
                add(&f, RSAP_DEPLOY_BROWSER, NULL, "%u is a port browsers refuse to connect to",
                    port);
        if (registered)
                *registered = f.registered;
        return (int)f.n;
}

void rsap_deploy_duplicate(struct rsap_deploy_finding *out, uint16_t port, enum rsap_proto proto,
                           const char *other)
{
        out->kind = RSAP_DEPLOY_DUPLICATE;
        snprintf(out->other, sizeof(out->other), "%s", other ? other : "");
        snprintf(out->message, sizeof(out->message), "%u/%s is taken by %s too", port,
                 rsap_proto_name(proto), other && *other ? other : "another entry");
}

bool rsap_deploy_addresses_overlap(const char *a, const char *b)
{
        /* "" binds every address; so do 0.0.0.0 and :: (Compose writes them too). */
        bool any_a = !*a || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
        bool any_b = !*b || strcmp(b, "0.0.0.0") == 0 || strcmp(b, "::") == 0;

        return any_a || any_b || strcmp(a, b) == 0;
}

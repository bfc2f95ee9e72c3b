/* SPDX-License-Identifier: MIT */
/*
 * /metrics in Prometheus' text format (version 0.0.4).  Counters are relaxed
 * atomics in one fixed table, so that counting costs a request no lock.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <rsap/basic.h>
#include <rsap/time.h>
#include "rsapd.h"


/* Every status from 100 to 599 has its own counter, whichever class it is in
 * and whether rsapd or libmicrohttpd answered; the last slot is any other. */
#define STATUS_FIRST 100
#define STATUS_LAST 599
#define N_STATUS (STATUS_LAST - STATUS_FIRST + 2)

/* Upper bounds in seconds: loopback answers take tens of microseconds. */
static const double buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                  0.01,   0.025,   0.05,   0.1,   0.25,   1.0 };
#define N_BUCKET (ARRAY_SIZE(buckets) + 1) /* +Inf */

struct route_metrics {
        atomic_ulong by_status[N_STATUS];
        atomic_ulong le[N_BUCKET]; /* not cumulative here; summed when rendered */
        atomic_ullong sum_ns;
};

struct metrics {
        struct route_metrics routes[ROUTE_COUNT];
        atomic_long connections;
        atomic_ulong connections_total;
        atomic_ulong reaped;
};

struct metrics *metrics_new(void)
{
        return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
        free(m);
}

static size_t status_slot(unsigned status)
{
        if (status < STATUS_FIRST || status > STATUS_LAST)
                return N_STATUS - 1;
        return status - STATUS_FIRST;
}

void metrics_observe(struct metrics *m, enum route_id route, unsigned status, double seconds)
{
        struct route_metrics *rm;
        size_t b = 0;

        if (!m || (unsigned)route >= ROUTE_COUNT)
                return;
        rm = &m->routes[route];
        atomic_fetch_add_explicit(&rm->by_status[status_slot(status)], 1, memory_order_relaxed);
        while (b < ARRAY_SIZE(buckets) && seconds > buckets[b])
                b++;
        atomic_fetch_add_explicit(&rm->le[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&rm->sum_ns, (unsigned long long)(seconds * 1e9),
                                  memory_order_relaxed);
}

void metrics_connection(struct metrics *m, int delta)
{
        if (!m)
                return;
        atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
        if (delta > 0)
                atomic_fetch_add_explicit(&m->connections_total, 1, memory_order_relaxed);
}

void metrics_reaped(struct metrics *m)
{
        if (m)
                atomic_fetch_add_explicit(&m->reaped, 1, memory_order_relaxed);
}

static unsigned long load(atomic_ulong *v)
{
        return atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(struct metrics *m, struct rsap_buf *b)
{
        rsap_buf_puts(b, "# HELP rsapd_http_requests_total HTTP requests answered, by route and "
                    "status.\n# TYPE rsapd_http_requests_total counter\n");
        for (unsigned r = 0; r < ROUTE_COUNT; r++) {
                for (size_t s = 0; s < N_STATUS; s++) {
                        unsigned long n = load(&m->routes[r].by_status[s]);

                        if (n == 0)
                                continue;
                        if (s < N_STATUS - 1)
                                rsap_buf_printf(b, "rsapd_http_requests_total{route=\"%s\",status=\"%u\"} %lu\n",
                                                route_template((enum route_id)r),
                                                (unsigned)s + STATUS_FIRST, n);
                        else
                                rsap_buf_printf(b, "rsapd_http_requests_total{route=\"%s\",status=\"other\"} %lu\n",
                                                route_template((enum route_id)r), n);
                }
        }
}

static void render_latency(struct metrics *m, struct rsap_buf *b)
{
        rsap_buf_puts(b, "# HELP rsapd_http_request_duration_seconds Time from a request's arrival "
                    "to its answer being queued.\n"
                    "# TYPE rsapd_http_request_duration_seconds histogram\n");
        for (unsigned r = 0; r < ROUTE_COUNT; r++) {
                struct route_metrics *rm = &m->routes[r];
                const char *route = route_template((enum route_id)r);
                unsigned long total = 0;

                for (size_t i = 0; i < N_BUCKET; i++)
                        total += load(&rm->le[i]);
                if (total == 0)
                        continue;
                total = 0;
                for (size_t i = 0; i < N_BUCKET; i++) {
                        total += load(&rm->le[i]);
                        if (i < ARRAY_SIZE(buckets))
                                rsap_buf_printf(b, "rsapd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                                                route, buckets[i], total);
                        else
                                rsap_buf_printf(b, "rsapd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
                                                route, total);
                }
                rsap_buf_printf(b, "rsapd_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route,
                                (double)atomic_load(&rm->sum_ns) / 1e9);
                rsap_buf_printf(b, "rsapd_http_request_duration_seconds_count{route=\"%s\"} %lu\n", route,
                                total);
        }
}

/* The cached figures' own state: how old, whether the last refresh failed. */
static void render_freshness(const struct figures_snapshot *s, struct rsap_buf *b)
{
        double age = s->known ? (double)(rsap_monotonic_us() - s->refreshed_mono_us) / 1e6 : -1;

        rsap_buf_printf(b, "# HELP rsapd_metrics_age_seconds Seconds since the refresh that "
                        "computed rsapd_leases and rsapd_audit_findings ended; -1 before the first.\n"
                        "# TYPE rsapd_metrics_age_seconds gauge\n"
                        "rsapd_metrics_age_seconds %.3f\n", age);
        rsap_buf_printf(b, "# HELP rsapd_metrics_refreshed_timestamp_seconds When that refresh "
                        "ended (Unix time); 0 before the first.\n"
                        "# TYPE rsapd_metrics_refreshed_timestamp_seconds gauge\n"
                        "rsapd_metrics_refreshed_timestamp_seconds %.3f\n",
                        s->known ? (double)s->refreshed_us / 1e6 : 0.0);
        rsap_buf_printf(b, "# HELP rsapd_metrics_refresh_failed 1 when the last refresh failed "
                        "(the figures shown are older), else 0.\n"
                        "# TYPE rsapd_metrics_refresh_failed gauge\n"
                        "rsapd_metrics_refresh_failed %d\n", s->failed ? 1 : 0);
        rsap_buf_printf(b, "# HELP rsapd_metrics_refreshing 1 while a refresh is under way.\n"
                        "# TYPE rsapd_metrics_refreshing gauge\n"
                        "rsapd_metrics_refreshing %d\n", s->refreshing ? 1 : 0);
        rsap_buf_printf(b, "# HELP rsapd_metrics_refreshes_total Refreshes of the figures ended, "
                        "by outcome.\n# TYPE rsapd_metrics_refreshes_total counter\n"
                        "rsapd_metrics_refreshes_total{result=\"ok\"} %lu\n"
                        "rsapd_metrics_refreshes_total{result=\"failed\"} %lu\n",
                        s->refreshes - s->failures, s->failures);
}

/* Live leases and the audit's findings as the background refresh last found
 * them (figures.c): a scrape takes no store lock and lists no socket. */
static void render_registry(struct rsapd *d, struct rsap_buf *b)
{
        struct figures_snapshot s;

        figures_read(d->figures, &s);
        rsap_buf_puts(b, "# HELP rsapd_leases Live leases in the local registry (rsap lease, the "
                    "port server).\n# TYPE rsapd_leases gauge\n");
        if (s.known)
                rsap_buf_printf(b, "rsapd_leases %ld\n", s.leases);
        rsap_buf_puts(b, "# HELP rsapd_audit_findings What rsap audit reports: listeners nobody "
                    "registered, assignments nothing serves.\n# TYPE rsapd_audit_findings gauge\n");
        if (s.known)
                rsap_buf_printf(b, "rsapd_audit_findings %ld\n", s.findings);
        render_freshness(&s, b);
}

/* The listener snapshot that port answers, pages and the port server read. */
static void render_listeners(struct rsapd *d, struct rsap_buf *b)
{
        struct listener_snapshot *s = listeners_get(d->listeners);
        double age = s ? (double)(rsap_monotonic_us() - s->collected_mono_us) / 1e6 : -1;

        rsap_buf_printf(b, "# HELP rsapd_listeners_age_seconds Seconds since the snapshot of "
                        "this host's sockets that answers was taken (--listeners-interval).\n"
                        "# TYPE rsapd_listeners_age_seconds gauge\n"
                        "rsapd_listeners_age_seconds %.3f\n", age);
        rsap_buf_printf(b, "# HELP rsapd_listeners_sockets Sockets in that snapshot.\n"
                        "# TYPE rsapd_listeners_sockets gauge\n"
                        "rsapd_listeners_sockets %zu\n", s && s->plain ? s->plain->count : 0);
        rsap_buf_printf(b, "# HELP rsapd_listeners_snapshots_total Snapshots of this host's "
                        "sockets taken.\n# TYPE rsapd_listeners_snapshots_total counter\n"
                        "rsapd_listeners_snapshots_total %lu\n",
                        listeners_snapshots(d->listeners));
        listeners_put(s);
        rsap_buf_printf(b, "# HELP rsapd_lease_reaps_total Passes of the thread that ends dead "
                        "leases (every second).\n# TYPE rsapd_lease_reaps_total counter\n"
                        "rsapd_lease_reaps_total %lu\n", reaper_passes(d->reaper));
}

void metrics_render(struct metrics *m, struct rsapd *d, struct rsap_buf *b)
{
        render_requests(m, b);
        render_latency(m, b);
        rsap_buf_printf(b, "# HELP rsapd_http_connections Open HTTP connections.\n"
                      "# TYPE rsapd_http_connections gauge\n"
                      "rsapd_http_connections %ld\n",
                   atomic_load(&m->connections));
        rsap_buf_printf(b, "# HELP rsapd_http_connections_total HTTP connections accepted.\n"
                      "# TYPE rsapd_http_connections_total counter\n"
                      "rsapd_http_connections_total %lu\n",
                   load(&m->connections_total));
        rsap_buf_printf(b, "# HELP rsapd_http_connections_timed_out_total Connections closed for "
                      "taking longer than --timeout over a request.\n"
                      "# TYPE rsapd_http_connections_timed_out_total counter\n"
                      "rsapd_http_connections_timed_out_total %lu\n",
                   load(&m->reaped));
        render_registry(d, b);
        render_listeners(d, b);
        findings_render(d->findings, b);
}

void page_metrics(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_buf b = { 0 };

        (void)req;
        metrics_render(d->metrics, d, &b);
        reply_take_buf(out, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

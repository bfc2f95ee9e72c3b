/* SPDX-License-Identifier: MIT */
/*
 * The figures /metrics shows from the local registry and the kernel (live
 * leases, the audit's findings), computed by a thread of their own every
 * --metrics-interval seconds.  A scrape copies the last refresh's numbers
 * under this file's own mutex, so it never waits on the store, the socket
 * collection or the audit.  The refresh holds store_lock for the store's
 * queries only (registration.c): the sockets are collected and the audit's
 * rules run outside it, so writers and the port server wait for a query at
 * most, never for a walk over thousands of sockets.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rsap/time.h>

#include "rsapd.h"

struct figures {
        struct rsapd *d;
        unsigned interval_s;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock; /* guards stop and now */
        pthread_cond_t wake;  /* signalled by figures_stop() */
        bool stop;
        struct figures_snapshot now;
};

/* Under f->lock: the end of a refresh, good or not. */
static void publish(struct figures *f, long leases, long findings)
{
        bool failed = leases < 0 || findings < 0;

        if (failed && !f->now.failed)
                rsapd_log("/metrics: cannot refresh the %s: %s; showing the figures of %s",
                          leases < 0 ? "live leases" : "audit's findings",
                          strerror((int)-(leases < 0 ? leases : findings)),
                          f->now.known ? "the last refresh that worked" : "none");
        f->now.refreshing = false;
        f->now.refreshes++;
        f->now.failed = failed;
        if (failed) {
                f->now.failures++;
                return;
        }
        f->now.known = true;
        f->now.leases = leases;
        f->now.findings = findings;
        f->now.refreshed_us = rsap_realtime_us();
        f->now.refreshed_mono_us = rsap_monotonic_us();
}

/* Outside f->lock: the slow part, which scrapes never wait for. */
static void refresh(struct figures *f)
{
        struct registry_ref *ref = rsapd_registry_get(f->d);
        long leases = -ENOENT, findings = -ENOENT;

        if (ref)
                registration_figures(f->d, ref->reg, &leases, &findings);
        rsapd_registry_put(ref);
        pthread_mutex_lock(&f->lock);
        publish(f, leases, findings);
        pthread_mutex_unlock(&f->lock);
}

/* Under f->lock: until the next refresh is due or figures_stop() asks. */
static void wait_interval(struct figures *f)
{
        int64_t due = rsap_monotonic_ms() + (int64_t)f->interval_s * 1000;

        while (!f->stop && rsap_cond_wait_until_ms(&f->wake, &f->lock, due) == 0)
                ;
}

static void *refresh_loop(void *data)
{
        struct figures *f = data;

        /* Named, so that top -H shows which thread computes the figures. */
        pthread_setname_np(pthread_self(), "rsapd-metrics");
        pthread_mutex_lock(&f->lock);
        while (!f->stop) {
                f->now.refreshing = true;
                pthread_mutex_unlock(&f->lock);
                refresh(f);
                pthread_mutex_lock(&f->lock);
                wait_interval(f);
        }
        pthread_mutex_unlock(&f->lock);
        return NULL;
}

static int init_sync(struct figures *f)
{
        int r = rsap_cond_init_monotonic(&f->wake);

        if (r < 0)
                return r;
        r = -pthread_mutex_init(&f->lock, NULL);
        if (r < 0)
                pthread_cond_destroy(&f->wake);
        return r;
}

int figures_start(struct rsapd *d, unsigned interval_s, struct figures **out)
{
        struct figures *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        f->d = d;
        f->interval_s = interval_s;
        r = init_sync(f);
        if (r < 0) {
                free(f);
                return r;
        }
        r = -pthread_create(&f->thread, NULL, refresh_loop, f);
        if (r < 0) {
                figures_stop(f);
                return r;
        }
        f->started = true;
        *out = f;
        return 0;
}

/* Waits for a refresh under way to end (a bounded wait: one audit), then frees. */
void figures_stop(struct figures *f)
{
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        if (f->started)
                pthread_join(f->thread, NULL);
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        free(f);
}

void figures_read(struct figures *f, struct figures_snapshot *out)
{
        memset(out, 0, sizeof(*out));
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        *out = f->now;
        pthread_mutex_unlock(&f->lock);
}

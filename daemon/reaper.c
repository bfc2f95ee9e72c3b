/* SPDX-License-Identifier: MIT */
/*
 * The lease reaper: a thread that ends, every REAP_INTERVAL_MS, the leases
 * whose TTL passed or whose holder on this host died (rsap_leases_reap()),
 * so that a lease taken through the API or the port server judges only the
 * ports it looks at, not every lease held.  The port server's own clients
 * are watched through pidfds and their leases end as they exit; this ends
 * the rest: `rsap lease --pid` holders, leases whose process exited while
 * rsapd was down, TTLs run out.  Each pass holds store_lock for one
 * transaction.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rsap/time.h>
#include <rsap/workflow.h>

#include "rsapd.h"

#define REAP_INTERVAL_MS 1000

struct reaper {
        struct rsapd *d;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock; /* guards stop and passes */
        pthread_cond_t wake;
        bool stop;
        unsigned long passes; /* ended so far */
};

static void reap_once(struct reaper *rp)
{
        struct rsapd *d = rp->d;
        struct rsap_workflow wf = { .store = d->store, .actor = "rsapd" };
        size_t ended = 0;
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_leases_reap(&wf, &ended);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0) {
                rsapd_log("cannot end the dead leases: %s", strerror(-r));
                return;
        }
        if (ended == 0)
                return;
        rsapd_data_changed(d);
        rsapd_log("%zu lease%s ended: holder exited or TTL ran out", ended,
                  ended == 1 ? "" : "s");
}

/* Under rp->lock: until the next pass is due or reaper_stop() asks. */
static void wait_interval(struct reaper *rp)
{
        int64_t due = rsap_monotonic_ms() + REAP_INTERVAL_MS;

        while (!rp->stop && rsap_cond_wait_until_ms(&rp->wake, &rp->lock, due) == 0)
                ;
}

static void *reap_loop(void *data)
{
        struct reaper *rp = data;

        pthread_setname_np(pthread_self(), "rsapd-reaper");
        pthread_mutex_lock(&rp->lock);
        while (!rp->stop) {
                pthread_mutex_unlock(&rp->lock);
                reap_once(rp);
                pthread_mutex_lock(&rp->lock);
                rp->passes++;
                wait_interval(rp);
        }
        pthread_mutex_unlock(&rp->lock);
        return NULL;
}

static int init_sync(struct reaper *rp)
{
        int r = rsap_cond_init_monotonic(&rp->wake);

        if (r < 0)
                return r;
        r = -pthread_mutex_init(&rp->lock, NULL);
        if (r < 0)
                pthread_cond_destroy(&rp->wake);
        return r;
}

int reaper_start(struct rsapd *d, struct reaper **out)
{
        struct reaper *rp = calloc(1, sizeof(*rp));
        int r;

        if (!rp)
                return -ENOMEM;
        rp->d = d;
        r = init_sync(rp);
        if (r < 0) {
                free(rp);
                return r;
        }
        r = -pthread_create(&rp->thread, NULL, reap_loop, rp);
        rp->started = r == 0;
        if (r < 0) {
                reaper_stop(rp);
                return r;
        }
        *out = rp;
        return 0;
}

void reaper_stop(struct reaper *rp)
{
        if (!rp)
                return;
        pthread_mutex_lock(&rp->lock);
        rp->stop = true;
        pthread_cond_signal(&rp->wake);
        pthread_mutex_unlock(&rp->lock);
        if (rp->started)
                pthread_join(rp->thread, NULL);
        pthread_cond_destroy(&rp->wake);
        pthread_mutex_destroy(&rp->lock);
        free(rp);
}

unsigned long reaper_passes(struct reaper *rp)
{
        unsigned long n;

        if (!rp)
                return 0;
        pthread_mutex_lock(&rp->lock);
        n = rp->passes;
        pthread_mutex_unlock(&rp->lock);
        return n;
}

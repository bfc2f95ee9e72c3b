/* SPDX-License-Identifier: MIT */
/*
 * Following the store's commits (rsap_store_changes_*, PostgreSQL's
 * LISTEN/NOTIFY), so that a change made through another rsapd on the same
 * database, or by rsap on any host, ends this rsapd's cached answers when
 * it commits, and no request asks the server whether anything changed
 * (rsapd_notice_store_changes() does that only while nothing follows).
 *
 * d->store_followed is set only after the generation was bumped for the
 * (re)connection, and cleared as soon as the connection is lost: meanwhile
 * every request asks data_version as before, and a server away makes those
 * requests fail with a clear 503 rather than serve what may have changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/store.h>
#include <rsap/time.h>

#include "rsapd.h"

#define WAIT_MS 500          /* how soon a stop is seen */
#define RETRY_FIRST_MS 100   /* after a lost connection, doubling ... */
#define RETRY_MAX_MS 5000    /* ... up to this */

struct store_follow {
        struct rsapd *d;
        struct rsap_store_changes *changes;
        pthread_t thread;
        atomic_bool stop;
};

/* Sleeps ms in steps, so that a stop is seen within WAIT_MS. */
static void pause_ms(struct store_follow *f, int ms)
{
        int64_t until = rsap_monotonic_ms() + ms;

        while (!atomic_load(&f->stop) && rsap_monotonic_ms() < until) {
                struct timespec step = { .tv_nsec = 50 * 1000000L };

                nanosleep(&step, NULL);
        }
}

/* One wait's answer: the next retry delay (0: none pending). */
static int take_answer(struct store_follow *f, int r, int retry_ms)
{
        struct rsapd *d = f->d;

        if (r > 0) {
                rsapd_data_changed(d);
                atomic_store(&d->store_followed, true);
        }
        if (r >= 0) {
                if (retry_ms)
                        rsapd_log("following the local registry's changes again");
                return 0;
        }
        atomic_store(&d->store_followed, false);
        if (!retry_ms)
                rsapd_log("lost the local registry's change notices (%s): asking it before "
                          "each answer until they come back", strerror(-r));
        return retry_ms ? (retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2)
                        : RETRY_FIRST_MS;
}

static void *follow(void *arg)
{
        struct store_follow *f = arg;
        int retry_ms = 0;

        while (!atomic_load(&f->stop)) {
                int r = rsap_store_changes_wait(f->changes, WAIT_MS);

                retry_ms = take_answer(f, r, retry_ms);
                if (retry_ms)
                        pause_ms(f, retry_ms);
        }
        return NULL;
}

int store_follow_start(struct rsapd *d, struct store_follow **out)
{
        struct store_follow *f;
        int r;

        *out = NULL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->d = d;
        r = rsap_store_changes_open(d->db_path, &f->changes);
        if (r == 0)
                r = -pthread_create(&f->thread, NULL, follow, f);
        if (r < 0) {
                rsap_store_changes_free(f->changes);
                free(f);
                return r == -EOPNOTSUPP ? 0 : r;
        }
        *out = f;
        return 0;
}

void store_follow_stop(struct store_follow *f)
{
        if (!f)
                return;
        atomic_store(&f->stop, true);
        pthread_join(f->thread, NULL);
        atomic_store(&f->d->store_followed, false);
        rsap_store_changes_free(f->changes);
        free(f);
}

/* SPDX-License-Identifier: MIT */
/*
 * The recorder: a thread that runs the change engine (rsap/watch.h) and
 * writes each listening interval into the local registry's store
 * (rsap/listen_history.h).  At start it closes what an earlier rsapd left
 * open as "unknown", at its last sighting; then the engine's first step
 * reports every socket already listening, which opens their intervals
 * again.  While they are open, one statement per poll interval moves their
 * last sighting (rsap_intervals_touch), so a crash loses at most that much
 * of their end.  Upkeep (retention, compaction, cap) runs every
 * UPKEEP_INTERVAL_MS, and sooner when a tenth of the cap was written since.
 *
 * Each change is recorded, then given to every hook of d->listen_hooks in
 * turn: other parts of rsapd (squatter findings) add theirs before the
 * recorder starts (rsapd_listen_hook_add), and the engine runs for them
 * with --no-record too.  A step's changes are written in one transaction,
 * under store_lock from the first change to the commit.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rsap/error.h>
#include <rsap/listen_history.h>
#include <rsap/time.h>
#include <rsap/watch.h>

#include "rsapd.h"

#define UPKEEP_INTERVAL_MS 60000
/*
 * The engine's dumps come every --listeners-interval, but at least each
 * second: a start is recorded that late at most, whatever the snapshot's
 * pace (an hour, for a test that wants no refresh but its own).
 */
#define MAX_POLL_MS 1000u

static unsigned poll_interval_ms(const struct rsapd *d)
{
        unsigned ms = d->cfg.listeners_interval_ms;

        return ms > 0 && ms < MAX_POLL_MS ? ms : MAX_POLL_MS;
}

/* An open interval: the socket it is for (its cookie, or inode from /proc/net) and its row. */
struct open_interval {
        uint64_t key;
        int64_t id;
};

struct recorder {
        struct rsapd *d;
        struct rsap_watch *watch;
        int stop_fd; /* an eventfd: written once to stop the thread */
        pthread_t thread;
        bool started;
        struct open_interval *open;
        size_t n_open, open_capacity;
        int64_t last_touch_ms, last_upkeep_ms;
        bool recording;  /* --record: else the engine runs for the hooks alone */
        bool changed;    /* this step recorded something: cached answers are stale */
        bool in_batch;   /* store_lock held for the step's writes */
        bool tx_open;    /* and their transaction begun */
        int64_t written; /* intervals opened or closed since the last upkeep */
        bool failing;    /* a write failed: said once until one succeeds */
};

int rsapd_listen_hook_add(struct rsapd *d, rsapd_listen_hook fn, rsapd_listen_step_hook after_step,
                          void *data)
{
        if (d->n_listen_hooks == RSAPD_MAX_LISTEN_HOOKS)
                return -ENOSPC;
        d->listen_hooks[d->n_listen_hooks++] =
                (struct rsapd_listen_hook_entry){ fn, after_step, data };
        return 0;
}

/* Each hook's work after a step, outside store_lock. */
static void after_step(struct recorder *rec)
{
        struct rsapd *d = rec->d;

        for (size_t i = 0; i < d->n_listen_hooks; i++)
                if (d->listen_hooks[i].after_step)
                        d->listen_hooks[i].after_step(d, d->listen_hooks[i].data);
}

static uint64_t socket_key(const struct rsap_listen_socket *s)
{
        return s->cookie ? s->cookie : s->inode;
}

static void note_write(struct recorder *rec, int r, const char *what)
{
        if (r < 0 && !rec->failing)
                rsapd_log("recorder: cannot %s: %s (said once until a write succeeds)", what,
                          rsap_strerror(r));
        rec->failing = r < 0;
}

static int remember(struct recorder *rec, uint64_t key, int64_t id)
{
        if (rec->n_open == rec->open_capacity) {
                size_t capacity = rec->open_capacity ? 2 * rec->open_capacity : 64;
                struct open_interval *grown = realloc(rec->open, capacity * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                rec->open = grown;
                rec->open_capacity = capacity;
        }
        rec->open[rec->n_open++] = (struct open_interval){ key, id };
        return 0;
}

/* The row of the socket's open interval, forgotten; 0 when none was opened.  A
 * scan: a stop costs the number of open intervals, far below its writes. */
static int64_t forget(struct recorder *rec, uint64_t key)
{
        for (size_t i = 0; i < rec->n_open; i++) {
                if (rec->open[i].key == key) {
                        int64_t id = rec->open[i].id;

                        rec->open[i] = rec->open[--rec->n_open];
                        return id;
                }
        }
        return 0;
}

/*
 * A step's writes go into one transaction, begun at its first change and
 * committed after the step (batch_end): 18,000 sockets at start are one
 * commit.  store_lock is held from the first change to the commit.
 */
static void batch_begin(struct recorder *rec)
{
        int r;

        if (rec->in_batch)
                return;
        pthread_mutex_lock(&rec->d->store_lock);
        rec->in_batch = true;
        r = rsap_intervals_begin(rec->d->store);
        rec->tx_open = r == 0;
        /* Without a transaction each write commits alone: slower, no less right. */
        note_write(rec, r, "begin recording a change");
}

static void batch_end(struct recorder *rec)
{
        int r;

        if (!rec->in_batch)
                return;
        r = rec->tx_open ? rsap_intervals_commit(rec->d->store) : 0;
        rec->in_batch = rec->tx_open = false;
        pthread_mutex_unlock(&rec->d->store_lock);
        /*
         * The step's rows are gone, and which of the remembered ones they
         * were is not kept: all are forgotten, and the earlier ones, still
         * open in the store, end "unknown" at the next start (rare: a full
         * disk, a lock held past the busy timeout).
         */
        if (r < 0)
                rec->n_open = 0;
        note_write(rec, r, "commit the listeners' changes");
}

static void record_start(struct recorder *rec, const struct rsap_watch_event *ev)
{
        struct rsap_interval iv;
        int64_t id = 0;
        int r = rsap_interval_from_socket(ev->socket, ev->at_us, &iv);

        if (r == 0) {
                batch_begin(rec);
                r = rsap_interval_open(rec->d->store, &iv, &id);
                rsap_interval_clear(&iv);
        }
        if (r == 0)
                r = remember(rec, socket_key(ev->socket), id);
        if (r == 0)
                rec->written++;
        note_write(rec, r, "record a listener that started");
}

static void record_stop(struct recorder *rec, const struct rsap_watch_event *ev)
{
        int64_t id = forget(rec, socket_key(ev->socket));
        int r;

        if (id == 0)
                return; /* its start could not be written */
        batch_begin(rec);
        r = rsap_interval_close(rec->d->store, id, ev->at_us);
        /* -ENOENT: upkeep cannot remove an open row, so only someone else's hand. */
        if (r == 0)
                rec->written++;
        note_write(rec, r, "record a listener that stopped");
}

/* The engine's callback: the recording, then every hook in turn. */
static int on_change(const struct rsap_watch_event *ev, void *data)
{
        struct recorder *rec = data;
        struct rsapd *d = rec->d;

        if (rec->recording)
                batch_begin(rec); /* the hooks too run inside it */
        if (rec->recording && ev->change == RSAP_WATCH_STARTED)
                record_start(rec, ev);
        else if (rec->recording)
                record_stop(rec, ev);
        rec->changed |= rec->recording;
        for (size_t i = 0; i < d->n_listen_hooks; i++)
                d->listen_hooks[i].fn(d, ev, d->listen_hooks[i].data);
        return 0;
}

/* ---- bounded cost: one touch a poll interval, upkeep now and then ----------------------- */

static void touch(struct recorder *rec)
{
        int r;

        rec->last_touch_ms = rsap_monotonic_ms();
        if (!rec->recording || rec->n_open == 0)
                return;
        pthread_mutex_lock(&rec->d->store_lock);
        r = rsap_intervals_touch(rec->d->store, rsap_realtime_us());
        pthread_mutex_unlock(&rec->d->store_lock);
        note_write(rec, r, "note the listeners still open");
}

static void upkeep(struct recorder *rec)
{
        const struct rsapd_config *cfg = &rec->d->cfg;
        struct rsap_interval_policy p = { .retention_us = cfg->history_retention_us,
                                          .cap = cfg->history_cap,
                                          .short_us = RSAP_INTERVAL_DEFAULT_SHORT_US };
        struct rsap_interval_upkeep u;
        int r;

        rec->last_upkeep_ms = rsap_monotonic_ms();
        rec->written = 0;
        if (!rec->recording)
                return;
        pthread_mutex_lock(&rec->d->store_lock);
        r = rsap_intervals_upkeep(rec->d->store, &p, rsap_realtime_us(), &u);
        pthread_mutex_unlock(&rec->d->store_lock);
        note_write(rec, r, "keep the listening history within its bounds");
        if (r == 0 && u.expired + u.compacted + u.dropped > 0)
                rsapd_log("recorder: %lld intervals past the retention period removed, %lld "
                          "folded into counts, %lld dropped for the cap; %lld rows",
                          (long long)u.expired, (long long)u.compacted, (long long)u.dropped,
                          (long long)u.rows);
}

static bool upkeep_due(const struct recorder *rec, int64_t now_ms)
{
        int64_t cap = rec->d->cfg.history_cap;

        return now_ms - rec->last_upkeep_ms >= UPKEEP_INTERVAL_MS ||
               (cap > 0 && rec->written >= (cap + 9) / 10);
}

/* ---- the thread ---------------------------------------------------------------------- */

/* Until the engine's next dump or a destroy event, or until asked to stop: false then. */
static bool wait_for_work(struct recorder *rec)
{
        struct pollfd fds[2] = {
                { .fd = rec->stop_fd, .events = POLLIN },
                { .fd = rsap_watch_fd(rec->watch), .events = POLLIN },
        };
        int r = poll(fds, fds[1].fd >= 0 ? 2 : 1, rsap_watch_timeout_ms(rec->watch));

        return !(r > 0 && (fds[0].revents & POLLIN));
}

static void *record_loop(void *data)
{
        struct recorder *rec = data;
        unsigned interval = poll_interval_ms(rec->d);
        int r;

        pthread_setname_np(pthread_self(), "rsapd-recorder");
        do {
                r = rsap_watch_step(rec->watch, on_change, rec);
                batch_end(rec);
                after_step(rec);
                if (r < 0)
                        note_write(rec, r, "list this host's sockets");
                if (rec->changed)
                        rsapd_data_changed(rec->d); /* /port/N shows the timeline */
                rec->changed = false;
                if (rsap_monotonic_ms() - rec->last_touch_ms >= interval)
                        touch(rec);
                if (upkeep_due(rec, rsap_monotonic_ms()))
                        upkeep(rec);
        } while (wait_for_work(rec));
        /*
         * rsapd's own sockets were closed before this thread is stopped; the
         * kernel may send their destroy events only once it frees them, so
         * the last step waits for a dump that sees them gone: at most one
         * poll interval more at stop.
         */
        (void)poll(NULL, 0, rsap_watch_timeout_ms(rec->watch));
        (void)rsap_watch_step(rec->watch, on_change, rec);
        batch_end(rec);
        after_step(rec);
        touch(rec); /* the end a restart gives what is still open */
        upkeep(rec); /* and the bounds kept on the way out */
        return NULL;
}

/* What an earlier rsapd left open ends at its last sighting, end unknown. */
static int close_left_open(struct rsapd *d)
{
        int64_t n = 0;
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_intervals_close_unknown(d->store, &n);
        pthread_mutex_unlock(&d->store_lock);
        if (r == 0 && n > 0)
                rsapd_log("recorder: %lld listening intervals left open by an earlier rsapd "
                          "closed at their last sighting, end unknown",
                          (long long)n);
        return r;
}

static int start_watch(struct recorder *rec)
{
        struct rsap_watch_options o = { .interval_ms = poll_interval_ms(rec->d) };

        rsap_listen_filter_init(&o.filter);
        o.filter.find_owners = true;
        return rsap_watch_new(&o, &rec->watch);
}

int recorder_start(struct rsapd *d, struct recorder **out)
{
        struct recorder *rec;
        int r;

        *out = NULL;
        if (!d->cfg.record && d->n_listen_hooks == 0)
                return 0;
        rec = calloc(1, sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        rec->d = d;
        rec->recording = d->cfg.record;
        rec->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r = rec->stop_fd < 0 ? -errno : rec->recording ? close_left_open(d) : 0;
        if (r == 0)
                r = start_watch(rec);
        if (r == 0) {
                rec->last_upkeep_ms = rsap_monotonic_ms();
                r = -pthread_create(&rec->thread, NULL, record_loop, rec);
        }
        rec->started = r == 0;
        if (r < 0) {
                recorder_stop(rec);
                return r;
        }
        *out = rec;
        return 0;
}

void recorder_stop(struct recorder *rec)
{
        uint64_t one = 1;

        if (!rec)
                return;
        if (rec->started) {
                /* An eventfd's counter takes this write whatever came before. */
                (void)!write(rec->stop_fd, &one, sizeof(one));
                pthread_join(rec->thread, NULL);
        }
        if (rec->stop_fd >= 0)
                close(rec->stop_fd);
        rsap_watch_free(rec->watch);
        free(rec->open);
        free(rec);
}

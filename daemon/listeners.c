/* SPDX-License-Identifier: MIT */
/*
 * The listener snapshot: one list of this host's sockets, collected by a
 * thread of its own every --listeners-interval milliseconds and at once
 * after rsapd's own writes and leases, from which port answers, pages, the
 * map and the port server take what listens.  A dump of the kernel's sockets
 * (and a walk over /proc for their owners) per request cost more than the
 * rest of an answer together.
 *
 * A snapshot is counted like the IANA registry (registry_ref): a request
 * takes a reference and reads it while the thread swaps in a newer one; the
 * last user frees the old.  Each snapshot holds the list three ways, made
 * once at its refresh: with owners (when --owners lets anyone see them),
 * without owners, and the port server's pool range alone, so that no request
 * copies or filters the whole list.
 *
 * A snapshot nobody read is not followed by another: an idle rsapd on a
 * host of 50,000 sockets would otherwise spend a fifth of a CPU collecting
 * them.  The first request after a quiet spell finds the snapshot older than
 * two intervals and takes a new one itself (the others that come meanwhile
 * wait for it), as every request did before there was a snapshot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rsap/basic.h>
#include <rsap/time.h>

#include "rsapd.h"

/* Refreshes asked for back to back (a port server handing out ports) come
 * at most this often: each one walks /proc for the sockets' owners. */
#define MIN_GAP_MS 100

struct listeners {
        struct rsapd *d;
        unsigned interval_ms;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock; /* guards current, stop and wanted */
        pthread_cond_t wake;
        struct listener_snapshot *current;
        bool stop;
        bool wanted; /* a refresh was asked for: do not wait out the interval */
        unsigned long snapshots; /* taken so far, the first included */
        atomic_bool read;        /* some request took the snapshot since it was made */
        /* Bumped when a snapshot changes what a port's answer shows: every
         * port's (epoch), or one port's (port_versions[port]). */
        atomic_uint epoch;
        atomic_uint port_versions[65536];
        pthread_mutex_t refresh_lock; /* one collection at a time */
};

void listeners_put(struct listener_snapshot *s)
{
        if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
                return;
        rsap_listen_list_free(s->owned);
        rsap_listen_list_free(s->plain);
        rsap_listen_list_free(s->pool);
        free(s->by_port);
        free(s);
}

/* A copy of the sockets of from on low..high, without their owners. */
static int copy_without_owners(const struct rsap_listen_list *from, uint16_t low, uint16_t high,
                               struct rsap_listen_list **out)
{
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *list = NULL;
        int r = rsap_listen_list_new(&list);

        for (size_t i = 0; r == 0 && i < from->count; i++) {
                struct rsap_listen_socket s = from->sockets[i];

                if (s.port < low || s.port > high)
                        continue;
                s.owners = NULL;
                s.n_owners = 0;
                s.owners_hidden = false;
                r = rsap_listen_list_add(list, &s);
        }
        if (r < 0)
                return r;
        list->source = from->source;
        *out = TAKE_PTR(list);
        return 0;
}

static int by_port_then_place(const void *a, const void *b)
{
        const struct rsap_listen_socket *x = *(const struct rsap_listen_socket *const *)a;
        const struct rsap_listen_socket *y = *(const struct rsap_listen_socket *const *)b;

        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return x < y ? -1 : x > y; /* their order in the list */
}

/* from's sockets ordered by port, each port's in from's order: shallow copies. */
static int order_by_port(const struct rsap_listen_list *from, struct rsap_listen_socket **out)
{
        _cleanup_(freep) const struct rsap_listen_socket **order =
                calloc(from->count + 1, sizeof(*order));
        struct rsap_listen_socket *copy = calloc(from->count + 1, sizeof(*copy));

        if (!order || !copy) {
                free(copy);
                return -ENOMEM;
        }
        for (size_t i = 0; i < from->count; i++)
                order[i] = &from->sockets[i];
        qsort(order, from->count, sizeof(*order), by_port_then_place);
        for (size_t i = 0; i < from->count; i++)
                copy[i] = *order[i];
        *out = copy;
        return 0;
}

/* The views of one collection; a kernel that cannot be asked is s->error. */
static int collect(const struct rsapd *d, struct listener_snapshot *s)
{
        struct rsap_listen_filter f;
        int r;

        rsap_listen_filter_init(&f);
        f.find_owners = d->cfg.owners != OWNERS_NONE;
        s->error = rsap_listen_collect(&f, f.find_owners ? &s->owned : &s->plain);
        if (s->error < 0)
                return s->error == -ENOMEM ? -ENOMEM : 0;
        r = 0;
        if (s->owned)
                r = copy_without_owners(s->owned, 0, 65535, &s->plain);
        if (r == 0)
                r = copy_without_owners(s->plain, d->cfg.pool_low, d->cfg.pool_high, &s->pool);
        if (r == 0)
                r = order_by_port(s->owned ? s->owned : s->plain, &s->by_port);
        return r;
}

static struct listener_snapshot *snapshot_new(const struct rsapd *d)
{
        struct listener_snapshot *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        atomic_store(&s->refs, 1);
        if (collect(d, s) < 0) {
                listeners_put(s);
                return NULL;
        }
        s->collected_us = rsap_realtime_us();
        s->collected_mono_us = rsap_monotonic_us();
        return s;
}

static const struct rsap_listen_list *all_sockets(const struct listener_snapshot *s)
{
        return s->owned ? s->owned : s->plain;
}

/* Whether the facts of the whole list, which every port's answer shows, differ. */
static bool list_facts_changed(const struct listener_snapshot *a, const struct listener_snapshot *b)
{
        const struct rsap_listen_list *x, *y;

        if (!a || a->error != b->error || !a->owned != !b->owned)
                return true;
        if (b->error < 0)
                return false;
        x = all_sockets(a);
        y = all_sockets(b);
        return x->source != y->source || x->owners_looked_up != y->owners_looked_up ||
               x->unreadable_processes != y->unreadable_processes;
}

/* The end of the run of by_port[i..n) on by_port[i]'s port. */
static size_t port_run_end(const struct rsap_listen_socket *by_port, size_t i, size_t n)
{
        uint16_t port = by_port[i].port;

        while (i < n && by_port[i].port == port)
                i++;
        return i;
}

/* Whether a port's sockets in two snapshots (runs of their by_port) would answer alike. */
static bool same_port_sockets(const struct rsap_listen_list *la, const struct rsap_listen_socket *a,
                              size_t na, const struct rsap_listen_list *lb,
                              const struct rsap_listen_socket *b, size_t nb)
{
        struct rsap_listen_list x = { .sockets = (struct rsap_listen_socket *)a, .count = na,
                                      .source = la->source,
                                      .owners_looked_up = la->owners_looked_up,
                                      .unreadable_processes = la->unreadable_processes };
        struct rsap_listen_list y = { .sockets = (struct rsap_listen_socket *)b, .count = nb,
                                      .source = lb->source,
                                      .owners_looked_up = lb->owners_looked_up,
                                      .unreadable_processes = lb->unreadable_processes };

        return rsap_listen_list_equal(&x, &y);
}

/*
 * Ends the cached answers that b makes stale: those of each port whose
 * sockets differ from a's, or of every port when the list's own facts
 * differ.  A walk of both by_port arrays side by side, port by port.
 */
static void note_changes(struct listeners *l, const struct listener_snapshot *a,
                         const struct listener_snapshot *b)
{
        const struct rsap_listen_list *la, *lb;
        size_t i = 0, j = 0;

        if (list_facts_changed(a, b)) {
                atomic_fetch_add(&l->epoch, 1);
                return;
        }
        if (b->error < 0)
                return;
        la = all_sockets(a);
        lb = all_sockets(b);
        while (i < la->count || j < lb->count) {
                unsigned pa = i < la->count ? a->by_port[i].port : 65536u;
                unsigned pb = j < lb->count ? b->by_port[j].port : 65536u;
                unsigned port = pa < pb ? pa : pb;
                size_t ie = pa == port ? port_run_end(a->by_port, i, la->count) : i;
                size_t je = pb == port ? port_run_end(b->by_port, j, lb->count) : j;

                if (!same_port_sockets(la, a->by_port + i, ie - i, lb, b->by_port + j, je - j))
                        atomic_fetch_add(&l->port_versions[port], 1);
                i = ie;
                j = je;
        }
}

/*
 * Under l->refresh_lock, outside l->lock: collects, swaps the new snapshot
 * in, then ends the answers it makes stale.  An answer made meanwhile, from
 * either snapshot, carries the versions of before and is not served again;
 * the count of snapshots grows last, so that whoever waits for it (the
 * tests) finds the versions moved.
 */
static void refresh_locked(struct listeners *l)
{
        struct listener_snapshot *fresh = snapshot_new(l->d), *old;

        if (!fresh)
                return; /* out of memory: the last snapshot serves on */
        pthread_mutex_lock(&l->lock);
        old = l->current;
        l->current = fresh;
        pthread_mutex_unlock(&l->lock);
        note_changes(l, old, fresh);
        listeners_put(old);
        pthread_mutex_lock(&l->lock);
        l->snapshots++;
        pthread_mutex_unlock(&l->lock);
}

static void refresh(struct listeners *l)
{
        pthread_mutex_lock(&l->refresh_lock);
        refresh_locked(l);
        pthread_mutex_unlock(&l->refresh_lock);
}

/* Under l->lock: until the interval after last_ms ends (MIN_GAP_MS once a
 * refresh is asked for), or stop. */
static void wait_next(struct listeners *l, int64_t last_ms)
{
        while (!l->stop) {
                int64_t due = last_ms + (l->wanted ? MIN_GAP_MS : (int64_t)l->interval_ms);

                if (rsap_monotonic_ms() >= due)
                        return;
                rsap_cond_wait_until_ms(&l->wake, &l->lock, due);
        }
}

static void *refresh_loop(void *data)
{
        struct listeners *l = data;
        int64_t last_ms = rsap_monotonic_ms(); /* listeners_start() took the first */

        pthread_setname_np(pthread_self(), "rsapd-sockets");

        pthread_mutex_lock(&l->lock);
        while (!l->stop) {
                wait_next(l, last_ms);
                if (l->stop)
                        break;
                last_ms = rsap_monotonic_ms();
                if (!atomic_exchange(&l->read, false) && !l->wanted)
                        continue; /* nobody read the last one: no need of another */
                l->wanted = false;
                pthread_mutex_unlock(&l->lock);
                refresh(l);
                pthread_mutex_lock(&l->lock);
        }
        pthread_mutex_unlock(&l->lock);
        return NULL;
}

static int init_sync(struct listeners *l)
{
        int r = rsap_cond_init_monotonic(&l->wake);

        if (r < 0)
                return r;
        r = -pthread_mutex_init(&l->lock, NULL);
        if (r == 0)
                r = -pthread_mutex_init(&l->refresh_lock, NULL);
        if (r < 0)
                pthread_cond_destroy(&l->wake);
        return r;
}

/* The first snapshot is taken before the thread starts: every request finds one. */
int listeners_start(struct rsapd *d, unsigned interval_ms, struct listeners **out)
{
        struct listeners *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->d = d;
        l->interval_ms = interval_ms;
        r = init_sync(l);
        if (r < 0) {
                free(l);
                return r;
        }
        l->current = snapshot_new(d);
        l->snapshots = 1;
        r = l->current ? -pthread_create(&l->thread, NULL, refresh_loop, l) : -ENOMEM;
        l->started = r == 0;
        if (r < 0) {
                listeners_stop(l);
                return r;
        }
        *out = l;
        return 0;
}

void listeners_stop(struct listeners *l)
{
        if (!l)
                return;
        pthread_mutex_lock(&l->lock);
        l->stop = true;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
        if (l->started)
                pthread_join(l->thread, NULL);
        listeners_put(l->current);
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->lock);
        pthread_mutex_destroy(&l->refresh_lock);
        free(l);
}

static struct listener_snapshot *take_current(struct listeners *l)
{
        struct listener_snapshot *s;

        pthread_mutex_lock(&l->lock);
        s = l->current;
        if (s)
                atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&l->lock);
        return s;
}

static bool stale(const struct listeners *l, const struct listener_snapshot *s)
{
        return rsap_monotonic_us() - s->collected_mono_us > 2000LL * l->interval_ms;
}

/* After a quiet spell: one new snapshot, taken by the first request to want
 * it; the requests that come meanwhile wait for it rather than take another. */
static struct listener_snapshot *refresh_stale(struct listeners *l, struct listener_snapshot *s)
{
        pthread_mutex_lock(&l->refresh_lock);
        listeners_put(s);
        s = take_current(l);
        if (s && stale(l, s)) {
                refresh_locked(l);
                listeners_put(s);
                s = take_current(l);
        }
        pthread_mutex_unlock(&l->refresh_lock);
        return s;
}

struct listener_snapshot *listeners_get(struct listeners *l)
{
        struct listener_snapshot *s;

        if (!l)
                return NULL;
        s = take_current(l);
        atomic_store(&l->read, true);
        if (s && stale(l, s))
                s = refresh_stale(l, s);
        return s;
}

/* The first index of by_port[0..n) whose port is port or above. */
static size_t first_at_or_above(const struct rsap_listen_socket *by_port, size_t n, uint16_t port)
{
        size_t low = 0, high = n;

        while (low < high) {
                size_t mid = low + (high - low) / 2;

                if (by_port[mid].port < port)
                        low = mid + 1;
                else
                        high = mid;
        }
        return low;
}

const struct rsap_listen_list *listeners_on_port(const struct listener_snapshot *s, uint16_t port,
                                                 struct rsap_listen_list *view)
{
        const struct rsap_listen_list *all = s ? (s->owned ? s->owned : s->plain) : NULL;
        size_t first, end;

        if (!all)
                return NULL;
        first = first_at_or_above(s->by_port, all->count, port);
        end = first;
        while (end < all->count && s->by_port[end].port == port)
                end++;
        /* The list's facts, none of its storage: nothing may add to a view. */
        *view = (struct rsap_listen_list){
                .sockets = s->by_port + first,
                .count = end - first,
                .source = all->source,
                .owners_looked_up = all->owners_looked_up,
                .unreadable_processes = all->unreadable_processes,
        };
        return view;
}

unsigned listeners_port_version(struct listeners *l, uint16_t port)
{
        if (!l)
                return 0;
        return atomic_load(&l->epoch) + atomic_load(&l->port_versions[port]);
}

void listeners_refresh_now(struct listeners *l)
{
        if (l)
                refresh(l);
}

unsigned long listeners_snapshots(struct listeners *l)
{
        unsigned long n;

        if (!l)
                return 0;
        pthread_mutex_lock(&l->lock);
        n = l->snapshots;
        pthread_mutex_unlock(&l->lock);
        return n;
}

void listeners_refresh_soon(struct listeners *l)
{
        if (!l)
                return;
        pthread_mutex_lock(&l->lock);
        l->wanted = true;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * The change engine (rsap/watch.h): a listen-only dump every interval,
 * diffed by socket cookie against the set it knows, with owners looked up
 * for the new sockets only; and sock_diag's destroy events, read between
 * dumps, for the stops.
 *
 * The known set is an array sorted by key (the cookie; the inode from
 * /proc/net): a dump's sockets, sorted the same way, are merged with it in
 * one pass, and a destroy event finds its socket by binary search.  A stop
 * seen from an event leaves a tombstone that the next merge drops, so that a
 * burst of stops costs no moving of the array.  Each dump's new sockets are
 * one list (a batch) that the known entries point into, freed when the last
 * of its sockets has stopped: the STOPPED event shows the owners the
 * socket started with, which /proc can no longer tell once it is closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <rsap/watch.h>

#include <rsap/basic.h>
#include <rsap/time.h>

#include "listen_internal.h"

#define DEFAULT_INTERVAL_MS 1000
#define EVENT_BUFFER_SIZE 32768
/* Room for a burst of destroy events (each some 400 bytes with its
 * overhead): every TCP connection that closes on the host sends one.  The
 * kernel caps it at net.core.rmem_max; events lost past it make the next
 * dump due at once. */
#define EVENT_RECEIVE_BUFFER (4 * 1024 * 1024)

struct watch_batch {
        struct rsap_listen_list *list;
        size_t alive; /* its sockets still in the known set */
};

struct watch_entry {
        uint64_t key;
        struct watch_batch *batch; /* NULL: stopped (a tombstone until the next dump) */
        size_t index;              /* in batch->list->sockets */
};

struct rsap_watch {
        struct rsap_watch_options o;
        struct rsap_listen_filter dump_filter; /* o.filter without pid and owners */
        int events_fd;
        bool dumped;                           /* the first dump is done */
        int64_t next_dump_ms;                  /* CLOCK_MONOTONIC */
        struct watch_entry *known;             /* sorted by key */
        size_t n_known, known_capacity;
        size_t n_alive;
        char buf[EVENT_BUFFER_SIZE];
};

/* Who is told of the changes, until it says stop. */
struct teller {
        rsap_watch_fn fn;
        void *userdata;
        int stopped; /* the callback's negative value, else 0 */
};

static void tell(struct teller *t, enum rsap_watch_change change,
                 const struct rsap_listen_list *list, size_t index, int64_t at_us)
{
        struct rsap_watch_event ev = { .change = change, .at_us = at_us,
                                       .socket = &list->sockets[index], .list = list,
                                       .index = index };
        int r;

        if (t->stopped < 0 || !t->fn)
                return;
        r = t->fn(&ev, t->userdata);
        if (r < 0)
                t->stopped = r;
}

/* ---- the known set ------------------------------------------------------ */

static uint64_t socket_key(const struct rsap_listen_socket *s, enum rsap_listen_source source)
{
        return source == RSAP_LISTEN_SOURCE_PROCFS ? s->inode : s->cookie;
}

static int compare_entries(const void *a, const void *b)
{
        const struct watch_entry *x = a, *y = b;

        return (x->key > y->key) - (x->key < y->key);
}

static struct watch_entry *find_known(struct rsap_watch *w, uint64_t key)
{
        struct watch_entry probe = { .key = key };

        if (w->n_known == 0)
                return NULL; /* bsearch() of an empty set may not be given its NULL array */
        return bsearch(&probe, w->known, w->n_known, sizeof(*w->known), compare_entries);
}

static void batch_release(struct watch_batch *b)
{
        if (--b->alive > 0)
                return;
        rsap_listen_list_free(b->list);
        free(b);
}

/* Tells of e's stop and forgets its socket, leaving a tombstone. */
static void stop_entry(struct rsap_watch *w, struct watch_entry *e, struct teller *t,
                       int64_t at_us)
{
        tell(t, RSAP_WATCH_STOPPED, e->batch->list, e->index, at_us);
        batch_release(e->batch);
        e->batch = NULL;
        w->n_alive--;
}

/* ---- destroy events ----------------------------------------------------- */

/* The destroy groups of the transports f wants: TCP's and UDP's, of both
 * families (the other transports send none). */
static uint32_t destroy_groups(const struct rsap_listen_filter *f)
{
        uint32_t groups = 0;

        if (f->protocols == 0 || (f->protocols & (1u << RSAP_PROTO_TCP)))
                groups |= 1u << (SKNLGRP_INET_TCP_DESTROY - 1) |
                          1u << (SKNLGRP_INET6_TCP_DESTROY - 1);
        if (f->protocols == 0 || (f->protocols & (1u << RSAP_PROTO_UDP)))
                groups |= 1u << (SKNLGRP_INET_UDP_DESTROY - 1) |
                          1u << (SKNLGRP_INET6_UDP_DESTROY - 1);
        return groups;
}

/* A socket in those groups, or -1 when the kernel refuses it: then the
 * dumps alone see the stops. */
static int open_events(const struct rsap_listen_filter *f)
{
        struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = destroy_groups(f) };
        int size = EVENT_RECEIVE_BUFFER;
        int fd;

        if (addr.nl_groups == 0)
                return -1;
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
        if (fd < 0)
                return -1;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* One destroyed socket: a stop when it is one the set knows. */
static void on_destroy(struct rsap_watch *w, const struct nlmsghdr *nlh, struct teller *t,
                       int64_t at_us)
{
        const struct inet_diag_msg *m = NLMSG_DATA(nlh);
        struct watch_entry *e;
        uint64_t cookie;

        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                return;
        cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
        e = find_known(w, cookie);
        if (e && e->batch)
                stop_entry(w, e, t, at_us);
}

static void on_event_datagram(struct rsap_watch *w, size_t size, struct teller *t)
{
        int64_t at_us = rsap_realtime_us();
        size_t off = 0;

        while (size - off >= NLMSG_HDRLEN) {
                const struct nlmsghdr *nlh = (const void *)(w->buf + off);

                if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > size - off)
                        return;
                on_destroy(w, nlh, t, at_us);
                off += NLMSG_ALIGN(nlh->nlmsg_len);
                if (off > size)
                        return;
        }
}

/* Every event that waits.  Events lost to a full buffer (ENOBUFS) may have
 * been stops: the next dump is made due now. */
static int drain_events(struct rsap_watch *w, struct teller *t)
{
        if (w->events_fd < 0)
                return 0;
        for (;;) {
                ssize_t n = recv(w->events_fd, w->buf, sizeof(w->buf), MSG_DONTWAIT);

                if (n >= 0) {
                        on_event_datagram(w, (size_t)n, t);
                        continue;
                }
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                if (errno == ENOBUFS) {
                        w->next_dump_ms = 0;
                        continue;
                }
                if (errno != EINTR)
                        return -errno;
        }
}

/* ---- dumps -------------------------------------------------------------- */

/* A dump's socket by key, to merge with the known set. */
struct dumped {
        uint64_t key;
        size_t index; /* in the dump's list */
};

static int compare_dumped(const void *a, const void *b)
{
        const struct dumped *x = a, *y = b;

        return (x->key > y->key) - (x->key < y->key);
}

static struct dumped *sorted_keys(const struct rsap_listen_list *dump)
{
        struct dumped *keys = malloc((dump->count ? dump->count : 1) * sizeof(*keys));

        if (!keys)
                return NULL;
        for (size_t i = 0; i < dump->count; i++)
                keys[i] = (struct dumped){ socket_key(&dump->sockets[i], dump->source), i };
        qsort(keys, dump->count, sizeof(*keys), compare_dumped);
        return keys;
}

static int fresh_add(struct rsap_listen_list *fresh, const struct rsap_listen_socket *s)
{
        if (rsap_grow(&fresh->sockets, &fresh->capacity, fresh->count + 1,
                      sizeof(*fresh->sockets)) < 0)
                return -ENOMEM;
        fresh->sockets[fresh->count++] = *s;
        return 0;
}

/*
 * One pass over the known set and the dump, both sorted by key: a known
 * socket the dump lacks has stopped, a dumped one the set lacks is new (into
 * fresh), tombstones go.  The set keeps its order, shortened in place.
 */
static int merge_dump(struct rsap_watch *w, const struct rsap_listen_list *dump,
                      const struct dumped *keys, struct rsap_listen_list *fresh,
                      struct teller *t, int64_t at_us)
{
        size_t i = 0, j = 0, kept = 0;
        int r = 0;

        while (i < w->n_known || j < dump->count) {
                struct watch_entry *e = i < w->n_known ? &w->known[i] : NULL;

                if (e && (j == dump->count || e->key < keys[j].key)) {
                        if (e->batch)
                                stop_entry(w, e, t, at_us);
                        i++;
                } else if (!e || keys[j].key < e->key || !e->batch) {
                        if (r == 0)
                                r = fresh_add(fresh, &dump->sockets[keys[j].index]);
                        i += e && e->key == keys[j].key; /* a tombstone's key again: new */
                        j++;
                } else {
                        w->known[kept++] = *e;
                        i++;
                        j++;
                }
        }
        w->n_known = kept;
        return r;
}

/* The new sockets as a batch in the set, each told of as started. */
static int add_batch(struct rsap_watch *w, struct rsap_listen_list *fresh, struct teller *t,
                     int64_t at_us)
{
        struct watch_batch *b;

        if (rsap_grow(&w->known, &w->known_capacity, w->n_known + fresh->count,
                      sizeof(*w->known)) < 0)
                return -ENOMEM;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->list = fresh;
        b->alive = fresh->count;
        for (size_t i = 0; i < fresh->count; i++)
                w->known[w->n_known++] =
                        (struct watch_entry){ socket_key(&fresh->sockets[i], fresh->source), b, i };
        w->n_alive += fresh->count;
        if (w->n_known > 0) /* not with a NULL array, even for nothing */
                qsort(w->known, w->n_known, sizeof(*w->known), compare_entries);
        for (size_t i = 0; i < fresh->count; i++)
                if (w->dumped || !w->o.quiet_start)
                        tell(t, RSAP_WATCH_STARTED, fresh, i, at_us);
        return 0;
}

/* The source the first dump used is kept: keys from another would not
 * match.  Destroy events name cookies, which /proc/net does not show. */
static void settle_source(struct rsap_watch *w, enum rsap_listen_source used)
{
        w->dump_filter.source = used;
        w->o.filter.source = used;
        if (used == RSAP_LISTEN_SOURCE_PROCFS && w->events_fd >= 0) {
                close(w->events_fd);
                w->events_fd = -1;
        }
}

static int dump_and_diff(struct rsap_watch *w, struct teller *t)
{
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *dump = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *fresh = NULL;
        _cleanup_(freep) struct dumped *keys = NULL;
        int64_t at_us = rsap_realtime_us();
        int r;

        if (rsap_listen_list_new(&dump) < 0 || rsap_listen_list_new(&fresh) < 0)
                return -ENOMEM;
        r = rsap_listen_read_sockets(&w->dump_filter, dump);
        if (r < 0)
                return r;
        settle_source(w, dump->source);
        keys = sorted_keys(dump);
        if (!keys)
                return -ENOMEM;
        fresh->source = dump->source;
        r = merge_dump(w, dump, keys, fresh, t, at_us);
        /* A new socket left out by an error is new again at the next dump. */
        if (r == 0 && fresh->count > 0)
                r = rsap_listen_complete(&w->o.filter, fresh); /* may keep none: --pid */
        if (r == 0 && fresh->count > 0) {
                r = add_batch(w, fresh, t, at_us);
                if (r == 0)
                        fresh = NULL; /* the batch's now */
        }
        w->dumped = w->dumped || r == 0;
        return r;
}

/* ---- the engine --------------------------------------------------------- */

int rsap_watch_new(const struct rsap_watch_options *o, struct rsap_watch **out)
{
        struct rsap_watch *w;

        if (o->filter.netns != RSAP_LISTEN_NETNS_OWN)
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->o = *o;
        if (w->o.interval_ms == 0)
                w->o.interval_ms = DEFAULT_INTERVAL_MS;
        w->o.filter.netns_spec = NULL;
        w->dump_filter = w->o.filter;
        w->dump_filter.match_pid = false; /* rsap_listen_complete narrows the new ones */
        w->dump_filter.find_owners = false;
        w->events_fd = open_events(&w->o.filter);
        *out = w;
        return 0;
}

int rsap_watch_fd(const struct rsap_watch *w)
{
        return w->events_fd;
}

int rsap_watch_timeout_ms(const struct rsap_watch *w)
{
        int64_t left = w->next_dump_ms - rsap_monotonic_ms();

        if (left <= 0)
                return 0;
        return left > INT32_MAX ? INT32_MAX : (int)left;
}

int rsap_watch_step(struct rsap_watch *w, rsap_watch_fn fn, void *userdata)
{
        struct teller t = { .fn = fn, .userdata = userdata };
        int r = drain_events(w, &t);

        if (r == 0 && rsap_watch_timeout_ms(w) == 0) {
                /* Paced from when this dump began: a slow dump (a big host)
                 * does not make the next one due at once. */
                w->next_dump_ms = rsap_monotonic_ms() + w->o.interval_ms;
                r = dump_and_diff(w, &t);
        }
        return t.stopped < 0 ? t.stopped : r;
}

size_t rsap_watch_count(const struct rsap_watch *w)
{
        return w->n_alive;
}

void rsap_watch_free(struct rsap_watch *w)
{
        if (!w)
                return;
        if (w->events_fd >= 0)
                close(w->events_fd);
        for (size_t i = 0; i < w->n_known; i++)
                if (w->known[i].batch)
                        batch_release(w->known[i].batch);
        free(w->known);
        free(w);
}

void rsap_watch_freep(struct rsap_watch **w)
{
        rsap_watch_free(*w);
}

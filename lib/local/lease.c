/* SPDX-License-Identifier: MIT */
/*
 * Leases: a port held for a test run, on tcp and udp, until it is released,
 * its TTL passes or its process dies.  A process is its pid and its start
 * time together, so a pid the kernel reuses does not keep a lease alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rsap/proc.h>
#include <rsap/textsafe.h>

#include "workflow_internal.h"

/* ---- processes ------------------------------------------------------------------ */

int rsap_process_start_time(pid_t pid, uint64_t *ticks_out)
{
        struct rsap_proc_stat stat;
        int r;

        if (pid <= 0)
                return -ESRCH;
        r = rsap_proc_stat(-1, pid, &stat);
        if (r < 0)
                return r;
        *ticks_out = stat.start_time;
        /* A zombie has exited: only its parent has not looked yet. */
        return stat.state == 'Z' || stat.state == 'X' ? -ESRCH : 0;
}

/* Host names compare as DNS compares them: without regard to case. */
static bool holder_is_here(const struct rsap_store *store, const char *host)
{
        return !host || strcasecmp(host, store->host) == 0;
}

bool lease_is_live(struct rsap_store *store, int64_t expires_us, pid_t pid, uint64_t pid_start,
                   const char *host)
{
        if (rsap_store_now(store) >= expires_us)
                return false;
        if (pid <= 0)
                return true;
        /* Another host's pid means nothing in this host's /proc. */
        if (!holder_is_here(store, host))
                return true;
        return store_process_alive(store, pid, pid_start);
}

/* ---- finding leases --------------------------------------------------------------- */

/* The one lease the query names: -ENOENT when none. */
static int lease_one(struct rsap_store *store, const struct store_lease_query *q,
                     struct rsap_lease *out)
{
        struct rsap_lease *list = NULL;
        size_t n = 0;
        int r = STORE_OP(store, leases)(store, q, &list, &n);

        if (r == 0 && n == 0)
                r = -ENOENT;
        if (r == 0) {
                *out = list[0];
                memset(&list[0], 0, sizeof(list[0]));
        }
        for (size_t i = 0; i < n; i++)
                rsap_lease_clear(&list[i]);
        free(list);
        return r;
}

static int lease_get(struct rsap_store *store, int64_t id, struct rsap_lease *out)
{
        struct store_lease_query q = { .target = { .kind = RSAP_TARGET_LEASE, .id = id } };

        return lease_one(store, &q, out);
}

void rsap_lease_clear(struct rsap_lease *l)
{
        free(l->name);
        free(l->host);
        memset(l, 0, sizeof(*l));
}

/* ---- ending ---------------------------------------------------------------------- */

static int end_lease(struct rsap_store *store, const char *actor, const struct rsap_lease *l,
                     const char *action, const char *reason)
{
        _cleanup_(json_decrefp) json_t *details = NULL;
        struct store_event ev = {
                .actor = actor, .action = action, .lease_id = l->id, .port = l->port,
                .reason = reason,
        };
        int r = STORE_OP(store, lease_end)(store, l->id, rsap_store_now(store));

        if (r < 0)
                return r;
        details = json_pack("{s:s?}", "name", l->name);
        if (!details)
                return -ENOMEM;
        ev.details = details;
        return store_append_event(store, &ev, NULL);
}

static void expiry_reason(const struct rsap_lease *l, int64_t now, char *buf, size_t size)
{
        char when[RSAP_TIME_SIZE];

        rsap_time_format(l->expires_us, when, sizeof(when));
        if (now >= l->expires_us)
                format_message(buf, size, "its TTL ran out at %s", when);
        else
                format_message(buf, size, "its process %d ended", (int)l->pid);
}

/* The active leases, read whole before any of them is ended. */
static int active_leases(struct rsap_store *store, struct rsap_lease **out, size_t *n_out)
{
        struct store_lease_query q = { .all = true, .active_only = true };

        return STORE_OP(store, leases)(store, &q, out, n_out);
}

int leases_reap(struct rsap_store *store, const char *actor, size_t *n_ended)
{
        struct rsap_lease *list = NULL;
        int64_t now = rsap_store_now(store);
        size_t n = 0, ended = 0;
        int r = active_leases(store, &list, &n);

        for (size_t i = 0; r == 0 && i < n; i++) {
                char reason[128];

                if (lease_is_live(store, list[i].expires_us, list[i].pid, list[i].pid_start,
                                  list[i].host))
                        continue;
                expiry_reason(&list[i], now, reason, sizeof(reason));
                r = end_lease(store, actor, &list[i], "expire", reason);
                ended += r == 0;
        }
        for (size_t i = 0; i < n; i++)
                rsap_lease_clear(&list[i]);
        free(list);
        if (n_ended)
                *n_ended = ended;
        return r;
}

int rsap_leases_reap(const struct rsap_workflow *wf, size_t *n_ended)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        size_t ended = 0;
        int r;

        if (n_ended)
                *n_ended = 0;
        r = store_tx_begin(wf->store, &tx);
        if (r == 0)
                r = leases_reap(wf->store, wf->actor, &ended);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r == 0 && n_ended)
                *n_ended = ended;
        return r;
}

/* ---- taking -------------------------------------------------------------------------- */

/*
 * The port was judged free, so a lease still on it is dead: it ends here,
 * in the transaction that takes the port.  The other dead leases are left
 * to the write that meets them, or to rsap_leases_reap().
 */
static int end_dead_lease_on(struct rsap_store *store, const char *actor, uint16_t port)
{
        struct store_lease_query q = {
                .target = { .kind = RSAP_TARGET_PORT, .port = port }, .active_only = true,
        };
        struct rsap_lease l;
        char reason[128];
        int r = lease_one(store, &q, &l);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Not live, as pick.c judged it: a transaction judges each holder once. */
        if (lease_is_live(store, l.expires_us, l.pid, l.pid_start, l.host)) {
                r = -EADDRNOTAVAIL;
        } else {
                expiry_reason(&l, rsap_store_now(store), reason, sizeof(reason));
                r = end_lease(store, actor, &l, "expire", reason);
        }
        rsap_lease_clear(&l);
        return r;
}

/* The lease and its holdings on tcp and udp; its holder is of this host. */
static int insert_lease(struct rsap_store *store, uint16_t port,
                        const struct rsap_lease_options *o, uint64_t pid_start,
                        int64_t *id_out)
{
        int64_t now = rsap_store_now(store);
        struct rsap_lease l = {
                .port = port, .name = (char *)o->name, .pid = o->pid,
                .pid_start = o->pid > 0 ? pid_start : 0, .host = store->host,
                .leased_us = now, .expires_us = now + o->ttl_us, .active = true,
        };

        return STORE_OP(store, lease_insert)(store, &l, id_out);
}

static int record_lease(struct rsap_store *store, const char *actor, uint16_t port,
                        int64_t lease_id, const struct rsap_lease_options *o, uint64_t pid_start)
{
        _cleanup_(json_decrefp) json_t *details = NULL;
        char expires[RSAP_TIME_SIZE];
        int64_t expires_us = rsap_store_now(store) + o->ttl_us;
        struct store_event ev = {
                .actor = actor, .action = "lease", .lease_id = lease_id, .port = port,
        };

        rsap_time_format(expires_us, expires, sizeof(expires));
        details = json_pack("{s:s?, s:I, s:s, s:I}", "name", o->name, "ttl_s",
                            (json_int_t)(o->ttl_us / 1000000), "expires", expires, "expires_us",
                            (json_int_t)expires_us);
        if (details && o->pid > 0) {
                json_object_set_new(details, "pid", json_integer(o->pid));
                json_object_set_new(details, "pid_start", json_integer((json_int_t)pid_start));
        }
        if (!details)
                return -ENOMEM;
        ev.details = details;
        return store_append_event(store, &ev, NULL);
}

static int lease_defaults(const struct rsap_lease_options *in, struct rsap_lease_options *out)
{
        *out = *in;
        if (out->low == 0 && out->high == 0) {
                out->low = RSAP_DEFAULT_ANY_LOW;
                out->high = RSAP_DEFAULT_ANY_HIGH;
        }
        if (out->ttl_us == 0)
                out->ttl_us = RSAP_DEFAULT_LEASE_TTL_US;
        if (out->low > out->high || out->ttl_us < 0 || out->pid < 0)
                return -EINVAL;
        return 0;
}

int rsap_lease_take(const struct rsap_workflow *wf, const struct rsap_lease_options *options,
                    struct rsap_lease *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct rsap_lease_options o;
        uint64_t pid_start = 0;
        int64_t id;
        uint16_t port;
        int r;

        memset(out, 0, sizeof(*out));
        r = lease_defaults(options, &o);
        if (r < 0)
                return r;
        /* A lease's name is shown and logged as a request's fields are: one line. */
        if (o.name && rsap_text_first_control(o.name, false) >= 0)
                return -EILSEQ;
        if (o.pid > 0) {
                r = rsap_process_start_time(o.pid, &pid_start);
                if (r < 0)
                        return r;
        }
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = random_free_port(wf, o.low, o.high, TCP_AND_UDP, &port);
        if (r == 0)
                r = end_dead_lease_on(wf->store, wf->actor, port);
        if (r < 0)
                return r;
        r = insert_lease(wf->store, port, &o, pid_start, &id);
        if (r == 0)
                r = record_lease(wf->store, wf->actor, port, id, &o, pid_start);
        if (r == 0)
                r = lease_get(wf->store, id, out);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r < 0)
                rsap_lease_clear(out);
        return r;
}

/* ---- releasing ------------------------------------------------------------------------ */

static int find_active_lease(struct rsap_store *store, const struct rsap_target *target,
                             struct rsap_lease *out)
{
        struct store_lease_query q = { .target = *target, .active_only = true };

        if (target->kind != RSAP_TARGET_PORT && target->kind != RSAP_TARGET_LEASE)
                return -EINVAL;
        return lease_one(store, &q, out);
}

int rsap_lease_release(const struct rsap_workflow *wf, const struct rsap_target *target,
                       struct rsap_lease *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        struct rsap_lease found;
        int r;

        memset(out, 0, sizeof(*out));
        r = store_tx_begin(wf->store, &tx);
        if (r < 0)
                return r;
        r = find_active_lease(wf->store, target, &found);
        if (r < 0)
                return r;
        r = end_lease(wf->store, wf->actor, &found, "release", NULL);
        if (r == 0)
                r = lease_get(wf->store, found.id, out);
        rsap_lease_clear(&found);
        if (r == 0)
                r = store_tx_commit(&tx);
        if (r < 0)
                rsap_lease_clear(out);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * Listening intervals (include/rsap/listen_history.h): the recorder's
 * writes and the queries of rsap history --listening and rsap listening
 * --at/--since, over the backend's operations, and their JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/findings.h>
#include <rsap/listen_history.h>
#include <rsap/proc.h>
#include <rsap/textsafe.h>

#include "store_internal.h"

void rsap_interval_clear(struct rsap_interval *iv)
{
        free(iv->host);
        free(iv->address);
        free(iv->command);
        free(iv->exe);
        free(iv->owners);
        memset(iv, 0, sizeof(*iv));
}

void rsap_interval_list_clear(struct rsap_interval_list *list)
{
        for (size_t i = 0; i < list->n; i++)
                rsap_interval_clear(&list->items[i]);
        free(list->items);
        memset(list, 0, sizeof(*list));
}

const char *rsap_interval_end_name(enum rsap_interval_end end)
{
        switch (end) {
        case RSAP_INTERVAL_STOPPED:
                return "stopped";
        case RSAP_INTERVAL_UNKNOWN:
                return "unknown";
        case RSAP_INTERVAL_OPEN:
                break;
        }
        return NULL;
}

/* ---- from a socket ---------------------------------------------------------------- */

/* Outside text stored in its escaped form (rsap/textsafe.h): always valid UTF-8. */
static char *escaped_copy(const char *text, size_t len)
{
        size_t need = rsap_text_escape(NULL, 0, text, len) + 1;
        char *copy = malloc(need);

        if (copy)
                rsap_text_escape(copy, need, text, len);
        return copy;
}

/* The target of /proc/PID/exe, escaped; NULL (errno 0) when it cannot be read. */
static char *read_exe(pid_t pid)
{
        char path[64], target[4096];
        ssize_t len;

        snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
        len = readlink(path, target, sizeof(target));
        errno = 0;
        if (len <= 0 || (size_t)len >= sizeof(target))
                return NULL;
        return escaped_copy(target, (size_t)len);
}

static json_t *owner_to_json(const struct rsap_listen_owner *o, uint64_t start, const char *exe)
{
        _cleanup_(freep) char *command = escaped_copy(o->command, strlen(o->command));

        if (!command)
                return NULL;
        return json_pack("{s:I, s:I, s:s, s:s?, s:I, s:s?}", "pid", (json_int_t)o->pid, "start",
                         (json_int_t)start, "command", command, "exe", exe, "uid",
                         (json_int_t)o->uid, "user", o->user);
}

/* Every owner as {"pid", "start", "command", "exe", "uid", "user"}; the first's into out. */
static int owners_json(const struct rsap_listen_socket *s, struct rsap_interval *out)
{
        _cleanup_(json_decrefp) json_t *owners = json_array();

        if (!owners)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_owners; i++) {
                const struct rsap_listen_owner *o = &s->owners[i];
                struct rsap_proc_stat st = { 0 };
                _cleanup_(freep) char *exe = read_exe(o->pid);

                if (!exe && errno == ENOMEM)
                        return -ENOMEM;
                (void)rsap_proc_stat(-1, o->pid, &st); /* gone: start unknown (0) */
                if (json_array_append_new(owners, owner_to_json(o, st.start_time, exe)) < 0)
                        return -ENOMEM;
                if (i == 0) {
                        out->pid = o->pid;
                        out->pid_start = st.start_time;
                        out->exe = TAKE_PTR(exe);
                }
        }
        out->owners = json_dumps(owners, JSON_COMPACT);
        return out->owners ? 0 : -ENOMEM;
}

int rsap_interval_from_socket(const struct rsap_listen_socket *s, int64_t at_us,
                              struct rsap_interval *out)
{
        int r;

        *out = (struct rsap_interval){
                .proto = s->proto, .port = s->port, .netns = s->origin.netns_inode,
                .uid = s->uid, .started_us = at_us, .last_seen_us = at_us, .count = 1,
        };
        out->address = strdup(s->address);
        if (s->n_owners > 0)
                out->command = escaped_copy(s->owners[0].command, strlen(s->owners[0].command));
        r = !out->address || (s->n_owners > 0 && !out->command) ? -ENOMEM : 0;
        if (r == 0 && s->n_owners > 0)
                r = owners_json(s, out);
        if (r < 0)
                rsap_interval_clear(out);
        return r;
}

/* ---- writes ---------------------------------------------------------------------- */

int rsap_interval_open(struct rsap_store *store, const struct rsap_interval *iv,
                       int64_t *id_out)
{
        if (!iv->address || !*iv->address || iv->proto == RSAP_PROTO_NONE)
                return -EINVAL;
        return STORE_OP(store, interval_open)(store, iv, id_out);
}

int rsap_interval_close(struct rsap_store *store, int64_t id, int64_t ended_us)
{
        return STORE_OP(store, interval_close)(store, id, ended_us);
}

int rsap_intervals_close_unknown(struct rsap_store *store, int64_t *n_closed)
{
        int64_t n = 0;
        int r = STORE_OP(store, intervals_close_unknown)(store, &n);

        if (n_closed)
                *n_closed = n;
        return r;
}

int rsap_intervals_touch(struct rsap_store *store, int64_t now_us)
{
        return STORE_OP(store, intervals_touch)(store, now_us);
}

int rsap_intervals_begin(struct rsap_store *store)
{
        return store->writable ? STORE_OP(store, begin)(store) : -EROFS;
}

int rsap_intervals_commit(struct rsap_store *store)
{
        int r = STORE_OP(store, commit)(store);

        if (r < 0)
                STORE_OP(store, rollback)(store);
        return r;
}

int rsap_intervals_upkeep(struct rsap_store *store, const struct rsap_interval_policy *p,
                          int64_t now_us, struct rsap_interval_upkeep *out)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        int r;

        memset(out, 0, sizeof(*out));
        if (p->retention_us < 0 || p->cap < 0 || p->short_us < 0)
                return -EINVAL;
        r = store_tx_begin(store, &tx);
        if (r == 0)
                r = STORE_OP(store, intervals_upkeep)(store, p, now_us, out);
        return r < 0 ? r : store_tx_commit(&tx);
}

/* ---- queries --------------------------------------------------------------------- */

static int keep_interval(struct rsap_interval *iv, void *arg)
{
        struct rsap_interval_list *list = arg;
        struct rsap_interval *grown;

        grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
        if (!grown) {
                rsap_interval_clear(iv);
                return -ENOMEM;
        }
        list->items = grown;
        list->items[list->n++] = *iv;
        return 0;
}

int rsap_intervals_query(struct rsap_store *store, const struct rsap_interval_query *q,
                         struct rsap_interval_list *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        r = STORE_OP(store, intervals)(store, q, keep_interval, out);
        if (r < 0)
                rsap_interval_list_clear(out);
        return r;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *time_or_null(int64_t us)
{
        char text[RSAP_TIME_SIZE];

        if (us <= 0)
                return json_null();
        rsap_time_format(us, text, sizeof(text));
        return json_string(text);
}

/* The stored owners, or [] when there are none (or they do not parse: never written so). */
static json_t *owners_value(const char *owners)
{
        json_t *value = owners ? json_loads(owners, 0, NULL) : NULL;

        return json_is_array(value) ? value : (json_decref(value), json_array());
}

static json_t *interval_to_json(const struct rsap_interval *iv)
{
        const char *end = rsap_interval_end_name(iv->end);

        return json_pack("{s:I, s:s, s:s, s:i, s:s, s:I, s:I, s:o, s:s?, s:s?, s:o, s:o, s:o,"
                         " s:o, s:s?, s:I}",
                         "id", (json_int_t)iv->id, "host", iv->host, "protocol",
                         rsap_proto_name(iv->proto), "port", (int)iv->port, "address",
                         iv->address, "netns", (json_int_t)iv->netns, "uid",
                         (json_int_t)iv->uid, "pid", iv->pid > 0 ? json_integer(iv->pid) : json_null(),
                         "command", iv->command, "exe", iv->exe, "owners",
                         owners_value(iv->owners), "started", time_or_null(iv->started_us),
                         "last_seen", time_or_null(iv->last_seen_us), "ended",
                         time_or_null(iv->ended_us), "end", end, "count",
                         (json_int_t)iv->count);
}

json_t *rsap_intervals_to_json(const struct rsap_interval_list *list)
{
        _cleanup_(json_decrefp) json_t *items = json_array();

        if (!items)
                return NULL;
        for (size_t i = 0; i < list->n; i++)
                if (json_array_append_new(items, interval_to_json(&list->items[i])) < 0)
                        return NULL;
        return json_pack("{s:s, s:O}", "kind", "listening-history", "intervals", items);
}

/* ---- one port's history: intervals and findings ------------------------------------------- */

int rsap_port_listening_read(struct rsap_store *store, uint16_t port, enum rsap_proto proto,
                             struct rsap_port_listening *out)
{
        struct rsap_interval_query q = { .scope = RSAP_INTERVALS_PORT, .port = port,
                                         .proto = proto };
        struct rsap_findings_query fq = { .port = port, .proto = proto };
        int r;

        *out = (struct rsap_port_listening){ 0 };
        r = rsap_intervals_query(store, &q, &out->intervals);
        if (r == 0)
                r = rsap_findings_list(store, &fq, &out->findings, &out->n_findings);
        if (r < 0)
                rsap_port_listening_clear(out);
        return r;
}

void rsap_port_listening_clear(struct rsap_port_listening *h)
{
        rsap_interval_list_clear(&h->intervals);
        rsap_listen_findings_free(h->findings, h->n_findings);
        h->findings = NULL;
        h->n_findings = 0;
}

json_t *rsap_port_listening_to_json(const struct rsap_port_listening *h)
{
        _cleanup_(json_decrefp) json_t *value = rsap_intervals_to_json(&h->intervals);
        json_t *findings = rsap_listen_findings_to_json(h->findings, h->n_findings);

        if (!value || !findings || json_object_set_new(value, "findings", findings) < 0)
                return NULL;
        return TAKE_PTR(value);
}

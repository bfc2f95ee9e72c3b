/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/answer.h>
#include <rsap/basic.h>
#include <rsap/listen.h>
#include <rsap/workflow.h>

static void store_lock(const struct rsap_answer_sources *src)
{
        if (src->store_lock)
                pthread_mutex_lock(src->store_lock);
}

static void store_unlock(const struct rsap_answer_sources *src)
{
        if (src->store_lock)
                pthread_mutex_unlock(src->store_lock);
}

/* The local registry's entries for the port, on a->proto or every transport. */
static int add_port_local(const struct rsap_answer_sources *src, struct rsap_port_answer *a)
{
        _cleanup_(rsap_local_list_freep) struct rsap_local_list *list = calloc(1, sizeof(*list));
        int r;

        if (!list)
                return -ENOMEM;
        store_lock(src);
        r = rsap_local_for_port(src->store, a->port, a->proto, list);
        store_unlock(src);
        if (r < 0)
                return r;
        a->local = TAKE_PTR(list);
        return 0;
}

/* The local registry's entries for the name, case-insensitively. */
static int add_name_local(const struct rsap_answer_sources *src, struct rsap_name_answer *a)
{
        _cleanup_(rsap_local_list_freep) struct rsap_local_list *list = calloc(1, sizeof(*list));
        int r;

        if (!list)
                return -ENOMEM;
        store_lock(src);
        r = rsap_local_for_name(src->store, a->name, list);
        store_unlock(src);
        if (r < 0)
                return r;
        a->local = TAKE_PTR(list);
        return 0;
}

/*
 * The sockets bound to the port (on a->proto, or every transport), each with
 * the local entry that holds it, from the port's own entries: no second
 * query.  A kernel that cannot be asked is kept in a->listeners_error.
 */
static int add_listeners(const struct rsap_answer_sources *src, struct rsap_port_answer *a)
{
        struct rsap_listen_filter f;

        rsap_listen_filter_init(&f);
        f.find_owners = src->owners;
        f.port_low = f.port_high = a->port;
        if (a->proto != RSAP_PROTO_NONE)
                f.protocols = 1u << a->proto;
        a->listeners_error = rsap_listen_collect(&f, &a->listening.list);
        if (a->listeners_error < 0)
                return 0;
        return rsap_listening_join(&a->listening, a->local);
}

int rsap_answer_port(const struct rsap_answer_sources *src, uint16_t port, enum rsap_proto proto,
                     struct rsap_port_answer *out, enum rsap_answer_part *failed)
{
        int r = rsap_explain_port(src->iana, port, proto, out);

        *failed = RSAP_ANSWER_IANA;
        if (r < 0)
                return r;
        *failed = RSAP_ANSWER_LOCAL;
        if (src->store)
                r = add_port_local(src, out);
        if (r == 0 && src->listeners)
                r = add_listeners(src, out);
        if (r < 0)
                rsap_port_answer_clear(out);
        return r;
}

int rsap_answer_name(const struct rsap_answer_sources *src, const char *name,
                     struct rsap_name_answer *out, enum rsap_answer_part *failed)
{
        int r = rsap_explain_name(src->iana, name, out);

        *failed = RSAP_ANSWER_IANA;
        if (r < 0 || !src->store)
                return r;
        *failed = RSAP_ANSWER_LOCAL;
        r = add_name_local(src, out);
        if (r < 0)
                rsap_name_answer_clear(out);
        return r;
}

/* ---- ranges and searches --------------------------------------------------------- */

/* query(store, ...) into a new list, under the lock; NULL list without a store. */
static int read_range_local(const struct rsap_answer_sources *src, uint16_t low, uint16_t high,
                            struct rsap_local_list **out)
{
        _cleanup_(rsap_local_list_freep) struct rsap_local_list *list = NULL;
        int r;

        if (!src->store)
                return 0;
        list = calloc(1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        store_lock(src);
        r = rsap_local_for_range(src->store, low, high, list);
        store_unlock(src);
        if (r < 0)
                return r;
        *out = TAKE_PTR(list);
        return 0;
}

int rsap_answer_range(const struct rsap_answer_sources *src, uint16_t low, uint16_t high,
                      unsigned proto_mask, unsigned status_mask, struct rsap_range_answer *out,
                      enum rsap_answer_part *failed)
{
        *out = (struct rsap_range_answer){ .low = low, .high = high, .proto_mask = proto_mask,
                                           .status_mask = status_mask };
        *failed = RSAP_ANSWER_LOCAL;
        return read_range_local(src, low, high, &out->local);
}

void rsap_range_answer_clear(struct rsap_range_answer *a)
{
        rsap_local_list_free(a->local);
        a->local = NULL;
}

/* The rows of the range, each with the local entry of its port/protocol. */
struct range_rows {
        const struct rsap_range_answer *answer;
        int (*row)(const struct rsap_list_row *row, void *userdata);
        void *userdata;
        size_t cursor;
};

static int row_with_local(const struct rsap_list_row *row, void *userdata)
{
        struct range_rows *rows = userdata;
        struct rsap_list_row with_local = *row;

        if (rows->answer->local)
                with_local.local = rsap_local_list_find(rows->answer->local, row->port,
                                                        row->proto, &rows->cursor);
        return rows->row(&with_local, rows->userdata);
}

int rsap_range_answer_rows(const struct rsap_iana *iana, const struct rsap_range_answer *a,
                           int (*row)(const struct rsap_list_row *row, void *userdata),
                           void *userdata)
{
        struct range_rows rows = { a, row, userdata, 0 };

        return rsap_list_ports(iana, a->low, a->high, a->proto_mask, a->status_mask,
                               row_with_local, &rows);
}

int rsap_answer_search(const struct rsap_answer_sources *src, const char *text, size_t limit,
                       struct rsap_search_answer *out, enum rsap_answer_part *failed)
{
        _cleanup_(rsap_local_list_freep) struct rsap_local_list *local = NULL;
        int r = 0;

        memset(out, 0, sizeof(*out));
        *failed = RSAP_ANSWER_IANA;
        out->text = strdup(text);
        out->hits = calloc(limit ? limit : 1, sizeof(*out->hits));
        if (!out->text || !out->hits) {
                rsap_search_answer_clear(out);
                return -ENOMEM;
        }
        out->total = rsap_iana_search(src->iana, text, out->hits, limit);
        out->n_hits = out->total < limit ? out->total : limit;
        *failed = RSAP_ANSWER_LOCAL;
        if (src->store && !(local = calloc(1, sizeof(*local))))
                r = -ENOMEM;
        if (local) {
                store_lock(src);
                r = rsap_local_search(src->store, text, local);
                store_unlock(src);
        }
        if (r < 0) {
                rsap_search_answer_clear(out);
                return r;
        }
        out->local = TAKE_PTR(local);
        return 0;
}

void rsap_search_answer_clear(struct rsap_search_answer *a)
{
        free(a->text);
        free(a->hits);
        rsap_local_list_free(a->local);
        memset(a, 0, sizeof(*a));
}

bool rsap_search_answer_found(const struct rsap_search_answer *a)
{
        return a->total > 0 || (a->local && a->local->n_entries > 0);
}

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

/* What a composer asks the local registry: one indexed query. */
struct local_question {
        enum { BY_PORT, BY_NAME, BY_RANGE, BY_WORDS } by;
        uint16_t low, high;    /* BY_PORT: low; BY_RANGE: both */
        enum rsap_proto proto; /* BY_PORT */
        const char *text;      /* BY_NAME, BY_WORDS */
};

static int ask_store(struct rsap_store *store, const struct local_question *q,
                     struct rsap_local_list *out)
{
        switch (q->by) {
        case BY_PORT:
                return rsap_local_for_port(store, q->low, q->proto, out);
        case BY_NAME:
                return rsap_local_for_name(store, q->text, out);
        case BY_RANGE:
                return rsap_local_for_range(store, q->low, q->high, out);
        case BY_WORDS:
                return rsap_local_search(store, q->text, out);
        }
        return -EINVAL;
}

/* The answer to q in a new list, the store locked around the query alone;
 * *out stays NULL when there is no local registry. */
static int read_local(const struct rsap_answer_sources *src, const struct local_question *q,
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
        r = ask_store(src->store, q, list);
        store_unlock(src);
        if (r < 0)
                return r;
        *out = TAKE_PTR(list);
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
        if (src->sockets)
                a->listeners_error = rsap_listen_list_select(src->sockets, &f,
                                                             &a->listening.list);
        else
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
        r = read_local(src, &(struct local_question){ BY_PORT, port, port, proto, NULL },
                       &out->local);
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
        if (r < 0)
                return r;
        *failed = RSAP_ANSWER_LOCAL;
        r = read_local(src, &(struct local_question){ .by = BY_NAME, .text = out->name },
                       &out->local);
        if (r < 0)
                rsap_name_answer_clear(out);
        return r;
}

/* ---- ranges and searches --------------------------------------------------------- */

int rsap_answer_range(const struct rsap_answer_sources *src, uint16_t low, uint16_t high,
                      unsigned proto_mask, unsigned status_mask, struct rsap_range_answer *out,
                      enum rsap_answer_part *failed)
{
        *out = (struct rsap_range_answer){ .low = low, .high = high, .proto_mask = proto_mask,
                                           .status_mask = status_mask };
        *failed = RSAP_ANSWER_LOCAL;
        return read_local(src, &(struct local_question){ .by = BY_RANGE, .low = low, .high = high },
                          &out->local);
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
        int r;

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
        r = read_local(src, &(struct local_question){ .by = BY_WORDS, .text = text },
                       &out->local);
        if (r < 0)
                rsap_search_answer_clear(out);
        return r;
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

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

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

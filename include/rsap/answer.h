/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rsap/explain.h>

/*
 * The answer composer: the one place that assembles what rsap PORT and rsap
 * NAME answer, from IANA's registry, the local registry and the kernel, in
 * one order.  `rsap --json`, rsapd's API and its pages render the value it
 * fills, so they cannot disagree on what is in it.  The join between the
 * sockets on a port and the local registry's holdings is made here.
 */
struct rsap_answer_sources {
        const struct rsap_iana *iana;
        /* The local registry, opened for reading, or NULL for none. */
        struct rsap_store *store;
        /* Held around every query of store (rsapd's); NULL for none. */
        pthread_mutex_t *store_lock;
        /* Ask the kernel what is bound to the port (port answers only). */
        bool listeners;
        /* Name the processes behind those sockets (rsapd --owners says when). */
        bool owners;
};

/* Which part of an answer could not be had, for the caller's message. */
enum rsap_answer_part {
        RSAP_ANSWER_IANA,  /* the records: only -ENOMEM */
        RSAP_ANSWER_LOCAL, /* the local registry: a store error */
};

/*
 * IANA's records for the port, the local registry's entries on it and, if
 * asked, its listeners with the local entry that holds each.  A kernel that
 * cannot be asked is part of the answer (listeners_error), not a failure.
 * 0, or a negative errno with *failed set and out cleared.
 */
int rsap_answer_port(const struct rsap_answer_sources *src, uint16_t port, enum rsap_proto proto,
                     struct rsap_port_answer *out, enum rsap_answer_part *failed);

/* The same for a service name: IANA's records and the local entries
 * (-EINVAL, from the IANA part, for an empty or over-long name). */
int rsap_answer_name(const struct rsap_answer_sources *src, const char *name,
                     struct rsap_name_answer *out, enum rsap_answer_part *failed);

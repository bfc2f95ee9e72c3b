/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <rsap/explain.h>
#include <rsap/listen.h>

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
        /*
         * The sockets of this host, already collected (rsapd's snapshot), or
         * NULL to ask the kernel.  When set, a port answer's listeners and
         * rsap_answer_listening's sockets are the ones of this list that the
         * kernel would have given (rsap_listen_list_select: the port and
         * transport, or f; owners only if asked for and the list has them).
         */
        const struct rsap_listen_list *sockets;
};

/* Which part of an answer could not be had, for the caller's message. */
enum rsap_answer_part {
        RSAP_ANSWER_IANA,      /* the records: only -ENOMEM */
        RSAP_ANSWER_LOCAL,     /* the local registry: a store error */
        RSAP_ANSWER_LISTENERS, /* the kernel: rsap_listen_collect()'s errors */
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

/*
 * What listens (rsap listening, GET /v1/listening): the sockets f selects,
 * each with its local holding (from src->store, if any), and, with
 * unregistered_only, only those whose port/protocol neither IANA nor an
 * active local assignment registers.  src->listeners and src->owners are
 * for port answers; f says what to collect.  0, or a negative errno with
 * *failed set and out cleared.
 */
int rsap_answer_listening(const struct rsap_answer_sources *src,
                          const struct rsap_listen_filter *f, bool unregistered_only,
                          struct rsap_listening_answer *out, enum rsap_answer_part *failed);
/* Sets the holdings from a local list sorted by port (NULL: none). */
int rsap_listening_join(struct rsap_listening_answer *a, const struct rsap_local_list *local);
/* Socket i's holding, or NULL. */
const struct rsap_local_entry *rsap_listening_holding(const struct rsap_listening_answer *a,
                                                      size_t socket);
/* Keeps the sockets keep() says yes to, with their holdings, in order. */
void rsap_listening_keep(struct rsap_listening_answer *a,
                         bool (*keep)(const struct rsap_listening_answer *a, size_t socket,
                                      const void *data),
                         const void *data);
void rsap_listening_keep_unregistered(struct rsap_listening_answer *a,
                                      const struct rsap_iana *iana);
/*
 * The sockets as JSON (the schema of docs/listening.md), "local" being each
 * one's holding (rsap_local_entry_to_json) or null.  The writer streams the
 * same bytes socket by socket, without a final newline: 0, -ENOMEM, -EIO.
 */
json_t *rsap_listening_answer_to_json(const struct rsap_listening_answer *a,
                                      const struct rsap_iana *iana);
int rsap_listening_answer_write_json(const struct rsap_listening_answer *a,
                                     const struct rsap_iana *iana, FILE *out);

/*
 * A range (rsap A-B, rsap list, GET /v1/list): IANA's rows are read from
 * src->iana when rendered; what the answer holds is the question and the
 * local registry's entries on the range (NULL: no local registry).
 */
struct rsap_range_answer {
        uint16_t low, high;
        unsigned proto_mask;  /* 1 << RSAP_PROTO_*: the transports listed */
        unsigned status_mask; /* RSAP_LIST_*; 0: every status */
        struct rsap_local_list *local;
};
int rsap_answer_range(const struct rsap_answer_sources *src, uint16_t low, uint16_t high,
                      unsigned proto_mask, unsigned status_mask, struct rsap_range_answer *out,
                      enum rsap_answer_part *failed);
void rsap_range_answer_clear(struct rsap_range_answer *a);
/* rsap_list_ports() over the answer, each row with its local entry. */
int rsap_range_answer_rows(const struct rsap_iana *iana, const struct rsap_range_answer *a,
                           int (*row)(const struct rsap_list_row *row, void *userdata),
                           void *userdata);
/* {"kind": "list", ...}: docs/json.md. */
json_t *rsap_range_answer_to_json(const struct rsap_iana *iana, const struct rsap_range_answer *a);

/*
 * A search (rsap search, GET /v1/search): IANA's best hits (at most limit,
 * of total) and the local registry's matches (NULL: no local registry).
 */
struct rsap_search_answer {
        char *text;
        struct rsap_search_hit *hits;
        size_t n_hits, total;
        struct rsap_local_list *local;
};
int rsap_answer_search(const struct rsap_answer_sources *src, const char *text, size_t limit,
                       struct rsap_search_answer *out, enum rsap_answer_part *failed);
void rsap_search_answer_clear(struct rsap_search_answer *a);
/* Whether anything matched, in IANA's registry or the local one. */
bool rsap_search_answer_found(const struct rsap_search_answer *a);
/* {"kind": "search", ...}: docs/json.md. */
json_t *rsap_search_answer_to_json(const struct rsap_iana *iana,
                                   const struct rsap_search_answer *a);

/* SPDX-License-Identifier: MIT */
#pragma once

/* What the workflow files (requests, checks, pick, lease, ...) share. */
#include <rsap/workflow.h>

#include "store_internal.h"

#define TCP_AND_UDP ((1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP))
#define ALL_TRANSPORTS                                                                  \
        ((1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP) | (1u << RSAP_PROTO_SCTP) |   \
         (1u << RSAP_PROTO_DCCP))

/* snprintf into a fixed buffer; truncation is acceptable for messages. */
void format_message(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ---- rows ------------------------------------------------------------------ */

int assignment_get(struct rsap_store *store, int64_t id, struct rsap_assignment *out);

/* The service of that name (any case), made with these people when new. */
int service_find_or_create(struct rsap_store *store, const char *name, const char *assignee,
                           const char *contact, int64_t *id_out);

/* ---- leases ------------------------------------------------------------------ */

/*
 * Whether a lease still holds its port now (rsap_store_now()).  Its holder
 * {host, pid, start time} is judged from /proc only when host is this
 * store's host or NULL (unknown: made before hosts were recorded, so here);
 * another host's lease lives until its TTL.  Inside a write transaction the
 * moment and each owner's liveness are judged once, so reaping and choosing
 * a port agree on which leases are alive.
 */
bool lease_is_live(struct rsap_store *store, int64_t expires_us, pid_t pid, uint64_t pid_start,
                   const char *host);
/*
 * Ends every lease whose TTL passed or whose holder is on this host and
 * died, each with an "expire" event.  Inside a write transaction; n_ended
 * (may be NULL) gets how many it ended.
 */
int leases_reap(struct rsap_store *store, const char *actor, size_t *n_ended);

/* ---- free ports ----------------------------------------------------------------- */

/*
 * The ports in [low, high] that the local registry holds on any protocol of
 * mask: live holdings, quarantines, and pending requests other than
 * except_request.  store may be NULL (nothing is taken).
 */
int local_taken_ports(struct rsap_store *store, uint16_t low, uint16_t high, unsigned mask,
                      int64_t except_request, struct rsap_port_set *taken);
/*
 * The pick rules for one port, on every protocol of mask.  listening: the
 * host's listening ports of mask as a set (pick.c makes it for a walk over
 * a range), or NULL to look through the host's sockets.
 */
bool port_is_free(const struct rsap_workflow *wf, const struct rsap_port_set *taken,
                  const struct rsap_port_set *listening, uint16_t port, unsigned mask,
                  bool allow_iana);
/*
 * The first free port of [low, high], searching from start and wrapping
 * around: -EADDRNOTAVAIL when there is none.
 */
int first_free_port(const struct rsap_workflow *wf, uint16_t low, uint16_t high,
                    uint16_t start, unsigned mask, int64_t except_request, uint16_t *port_out);
/*
 * One of the free ports of [low, high], each equally likely (for leases):
 * -EADDRNOTAVAIL when there is none.
 */
int random_free_port(const struct rsap_workflow *wf, uint16_t low, uint16_t high,
                     unsigned mask, uint16_t *port_out);

/* ---- checks ------------------------------------------------------------------- */

struct check_list {
        struct rsap_check *items;
        size_t n, capacity;
        size_t n_refused, n_warnings;
};

int check_add(struct check_list *list, enum rsap_check_code code, enum rsap_verdict verdict,
              int port, enum rsap_proto proto, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

/* Every check of a request, against the store as it is now. */
int checks_run(const struct rsap_workflow *wf, const struct rsap_request *request,
               const struct rsap_review_options *options, struct rsap_review *out);

/* ---- local lookups -------------------------------------------------------------- */

void local_entry_clear(struct rsap_local_entry *e);

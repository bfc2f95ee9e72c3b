/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rsap/name.h>
#include <rsap/port.h>
#include <rsap/iana.h>

/*
 * The one answer to "what is this port?" or "what is this name?", built once
 * here and rendered by every front end (text in rsap, JSON in rsap and rsapd,
 * HTML in rsapd).  Record numbers refer to the registry the answer was built
 * from, which must outlive the answer.
 */

struct rsap_listen_list;
struct rsap_local_entry;
struct rsap_local_list;
struct rsap_store;

/*
 * What listens, with the local registry's holding of each socket's
 * port/protocol: the join of lib/listen and lib/local, made only here.
 */
struct rsap_listening_answer {
        struct rsap_listen_list *list;
        /* Per socket: the active assignment, else the live lease, that holds
         * its port/protocol; NULL for none.  NULL when no local registry was
         * read (then every socket has none).  Points into local, or into the
         * local list of the port answer that holds this. */
        const struct rsap_local_entry **holdings;
        struct rsap_local_list *local; /* what the list was joined with, owned */
};
void rsap_listening_answer_clear(struct rsap_listening_answer *a);

struct rsap_port_answer {
        uint16_t port;
        enum rsap_proto proto; /* RSAP_PROTO_NONE: every transport */
        const struct rsap_range_info *range;
        enum rsap_status status[RSAP_PROTO_COUNT]; /* per transport; [0] unused */
        uint32_t *ids;
        size_t n_ids;
        /* What listens on the port on this host, when the answer asked
         * (rsap_answer_port); else NULL with listeners_error 0. */
        struct rsap_listening_answer listening;
        int listeners_error; /* why listening.list is NULL after asking */
        /* The organisation's local registry on the port (assignments,
         * pending requests, live leases), filled by rsap_answer_port(); NULL
         * means there is no local registry. */
        struct rsap_local_list *local;
};

struct rsap_name_answer {
        char name[64];
        enum rsap_name_problem problem; /* RFC 6335 section 5.1, for the asked name */
        char replacement[16];           /* a historic alias's well-formed name, or "" */
        uint32_t *ids;
        size_t n_ids;
        /* The local registry's entries for the name, as for a port. */
        struct rsap_local_list *local;
};

int rsap_explain_port(const struct rsap_iana *reg, uint16_t port, enum rsap_proto proto,
                      struct rsap_port_answer *out);
void rsap_port_answer_clear(struct rsap_port_answer *a);

/* -EINVAL for an empty or over-long name; 0 even when nothing matched (n_ids 0). */
int rsap_explain_name(const struct rsap_iana *reg, const char *name,
                      struct rsap_name_answer *out);
void rsap_name_answer_clear(struct rsap_name_answer *a);
/*
 * The service a record is a second name of, as IANA's notes say: 'This is a
 * duplicate of the "http" service' (www, www-http) or 'This entry is an alias
 * to "sql-net".' (historic names).  0 with the name in buf, else -ENOENT.
 */
int rsap_record_alias_of(const struct rsap_record *r, char *buf, size_t size);
/*
 * Whether two records say the same in every field but their protocol (service,
 * ports, status, source, people, dates, references, notes...): an answer shows
 * such records once, with their protocols together ("80/tcp,udp").
 */
bool rsap_record_same_but_protocol(const struct rsap_record *a, const struct rsap_record *b);
/* Whether two lists of people name the same people, field by field, in order. */
bool rsap_people_same(const struct rsap_person *a, size_t na, const struct rsap_person *b,
                      size_t nb);

/* One row of `rsap list`: a port on one transport. */
struct rsap_list_row {
        uint16_t port;
        enum rsap_proto proto;
        enum rsap_status status;
        const char *service;     /* NULL when none */
        const char *description; /* of the first record, NULL when none */
        /* The local registry's entry for the port/protocol, when the caller
         * gave one (see rsap_local_list_find()); NULL when none. */
        const struct rsap_local_entry *local;
};

enum rsap_list_filter {
        RSAP_LIST_ALL = 0,
        RSAP_LIST_ASSIGNED = 1u << RSAP_STATUS_ASSIGNED,
        RSAP_LIST_RESERVED = 1u << RSAP_STATUS_RESERVED,
        RSAP_LIST_UNASSIGNED = 1u << RSAP_STATUS_UNASSIGNED,
};

/*
 * Calls row() for each port in [low, high] on each transport in proto_mask
 * (bits 1 << RSAP_PROTO_TCP...) whose status is in status_mask (0: all).
 * Stops early and returns row()'s value when it is non-zero.
 */
int rsap_list_ports(const struct rsap_iana *reg, uint16_t low, uint16_t high,
                    unsigned proto_mask, unsigned status_mask,
                    int (*row)(const struct rsap_list_row *row, void *userdata), void *userdata);

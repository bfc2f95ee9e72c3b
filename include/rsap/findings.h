/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Squatters: a listener on a port the local registry assigns to another
 * service, on a port leased to another holder, or on a port nobody
 * registered (neither IANA nor the local registry).  The judgement is
 * rsap audit's own (lib/local/audit.c): the same facts, the same
 * owner-to-service matching; a finding is recorded in the store
 * (listen_findings) when the listener appears and resolved when it stops
 * or the registry makes it legitimate.  The JSON is in docs/json.md.
 */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <rsap/listen.h>
#include <rsap/port.h>
#include <rsap/workflow.h>

struct rsap_store;

enum rsap_squat_kind {
        RSAP_SQUAT_NONE = 0,           /* its own port, IANA's, or a client's */
        RSAP_SQUAT_ASSIGNED_TO_OTHER,  /* the local registry assigns the port to another service */
        RSAP_SQUAT_LEASED_TO_OTHER,    /* a live lease of another holder has the port */
        RSAP_SQUAT_UNREGISTERED,       /* neither IANA nor the local registry has the port */
};
#define RSAP_SQUAT_KINDS 4
/* "none", "assigned-to-other", "leased-to-other", "unregistered". */
const char *rsap_squat_kind_name(enum rsap_squat_kind kind);
/* -EINVAL for any other name, and for "none" (no finding has it). */
int rsap_squat_kind_parse(const char *name, enum rsap_squat_kind *out);

/* What the judge says of one socket; service is borrowed from the judge. */
struct rsap_squat_verdict {
        enum rsap_squat_kind kind;
        const char *service;   /* assigned: the port's service; leased: the lease's name */
        int64_t assignment_id; /* assigned-to-other: the assignment; else 0 */
        int64_t lease_id;      /* leased-to-other: the lease; else 0 */
};

/*
 * The local registry's holdings and service names, read once (the audit's
 * facts) and indexed, so that each socket is judged in O(log n) without
 * the store.  Read it again when the store's data version changes.
 */
struct rsap_squat_judge;
int rsap_squat_judge_read(struct rsap_store *store, struct rsap_squat_judge **out);
void rsap_squat_judge_free(struct rsap_squat_judge *judge);
void rsap_squat_judge_freep(struct rsap_squat_judge **judge);

/*
 * Judges one socket with its owners.  The socket is its port's own when an
 * owner's command is the assigned service's name (audit's matching), or,
 * for a lease, when an owner is the holder process or one of its
 * descendants, or its command is the lease's name; with no owner visible
 * nothing is said of an assigned or leased port.  IANA's assignments and
 * UDP clients in host's ephemeral range (host may be NULL) are no finding.
 * iana may be NULL.  0 or -EINVAL.
 */
int rsap_squat_classify(const struct rsap_squat_judge *judge, const struct rsap_iana *iana,
                        const struct rsap_host *host, const struct rsap_listen_socket *sock,
                        struct rsap_squat_verdict *out);

/* A finding as recorded. */
struct rsap_listen_finding {
        int64_t id;              /* the store's; 0 before it is recorded */
        int64_t found_us;        /* when the listener was seen */
        int64_t resolved_us;     /* when it stopped or became legitimate; 0: open */
        char *host;              /* the store's host at recording */
        enum rsap_squat_kind kind;
        uint16_t port;
        enum rsap_proto proto;
        char address[46];
        char *service;           /* the verdict's service, NULL for unregistered */
        int64_t assignment_id, lease_id;
        char *owners;            /* a JSON array of the socket's processes (compact text) */
};
void rsap_listen_finding_clear(struct rsap_listen_finding *f);
void rsap_listen_findings_free(struct rsap_listen_finding *list, size_t n);

/* The finding a verdict makes of a socket seen at found_us.  -EINVAL for NONE. */
int rsap_listen_finding_make(const struct rsap_squat_verdict *verdict,
                             const struct rsap_listen_socket *sock, int64_t found_us,
                             struct rsap_listen_finding *out);

/* Records f (one transaction); sets f->id and f->host. */
int rsap_findings_record(struct rsap_store *store, struct rsap_listen_finding *f);
/* Marks a finding resolved at resolved_us: -ENOENT none, -EALREADY resolved before. */
int rsap_findings_resolve(struct rsap_store *store, int64_t id, int64_t resolved_us);

/*
 * Both at once, in one transaction (a host's first look may find thousands):
 * records each of record (setting its id and host), then resolves each of
 * resolve; an id resolved before is left as it was.  Nothing is kept on failure.
 */
struct rsap_finding_resolution {
        int64_t id;
        int64_t resolved_us;
};
int rsap_findings_apply(struct rsap_store *store, struct rsap_listen_finding *record,
                        size_t n_record, const struct rsap_finding_resolution *resolve,
                        size_t n_resolve);

/* Which recorded findings: in id order. */
struct rsap_findings_query {
        int port;                /* -1: every port */
        enum rsap_proto proto;   /* RSAP_PROTO_NONE: every protocol */
        int64_t since_us;        /* found at or after (0: all) */
        bool open_only;          /* not resolved */
};
int rsap_findings_list(struct rsap_store *store, const struct rsap_findings_query *q,
                       struct rsap_listen_finding **out, size_t *n_out);

/*
 * {"id", "time", "resolved", "host", "kind", "port", "protocol", "address",
 *  "service", "assignment_id", "lease_id", "processes"}; NULL on ENOMEM.
 */
json_t *rsap_listen_finding_to_json(const struct rsap_listen_finding *f);
/* An array of them, in order; NULL on ENOMEM. */
json_t *rsap_listen_findings_to_json(const struct rsap_listen_finding *list, size_t n);

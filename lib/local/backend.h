/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The local registry's storage backends.  The rules of the registry
 * (checks.c, decisions.c, pick.c, lease.c, audit.c, entries.c, ...) are
 * plain C over the facts below; a backend stores and finds them.  Each
 * backend is one table of operations, named by the scheme of the store's
 * URI ("sqlite:PATH", or a plain path), in the spirit of SQLite's VFS.
 *
 * Every operation returns 0 or a negative errno code of store.h.  What a
 * backend promises, whatever its engine:
 *   - begin() takes the write lock at once (the checks of a transaction see
 *     the state its writes change, across processes and hosts); nothing of
 *     a transaction not committed remains after rollback();
 *   - one holder per port/protocol: a second assignment or lease on a held
 *     port/protocol is refused with -EEXIST by the storage itself, and so is
 *     a second service of one name whatever its case; a refused write undoes
 *     only itself, and the transaction goes on;
 *   - events are append-only: a change or removal of one is refused with
 *     -ENOTRECOVERABLE; state rows (services, requests, assignments,
 *     leases) are never removed;
 *   - lists come in id order unless said otherwise (active leases: by port).
 * Visitors (store_*_visit) get facts whose strings are borrowed for the
 * call; a negative return stops the walk and is returned.
 * tests/registry/test_store_contract.c holds every backend to this.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rsap/listen_history.h>
#include <rsap/findings.h>
#include <rsap/workflow.h>

struct rsap_store;

/* An interval read from the store: the visitor's to keep (or clear). */
typedef int store_interval_visit(struct rsap_interval *iv, void *arg);

/* An event as the rules make it; the id and the time are the store's. */
struct store_event {
        const char *actor;
        const char *action;      /* one of the schema's actions */
        int64_t request_id;      /* 0: none */
        int64_t assignment_id;
        int64_t lease_id;
        const char *service;     /* NULL: none */
        int port;                /* -1: none */
        enum rsap_proto proto;   /* RSAP_PROTO_NONE: none */
        const char *reason;      /* why, as the actor said; NULL: none */
        json_t *details;         /* an object or NULL; borrowed */
};

/* A new active assignment and its holding (not its event). */
struct assignment_fields {
        int64_t service_id, request_id; /* request_id 0: imported */
        uint16_t port;
        enum rsap_proto proto;
        const char *description, *reference, *note, *over_iana;
        int64_t assigned_us;            /* 0: now */
};

/* A local service: a name (one, whatever its case) and its people. */
struct store_service {
        int64_t id;
        char *name, *assignee, *contact;
        int64_t created_us;
};
void store_service_clear(struct store_service *s);

/* Which assignments: every one, or those a target names (port, name, id, request). */
struct store_assignment_query {
        bool all;
        struct rsap_target target;  /* without all */
        bool active_only;
        bool by_port;               /* ordered by port and protocol, not id */
};

/* Which leases: every one, or the one on a port or with an id (RSAP_TARGET_PORT, _LEASE). */
struct store_lease_query {
        bool all;
        struct rsap_target target;
        bool active_only;
};

/* What holds a port/protocol now: an assignment or a lease (its holder, to judge). */
struct store_holding {
        uint16_t port;
        enum rsap_proto proto;
        int64_t assignment_id;     /* 0: a lease */
        const char *service, *assignee; /* the assignment's */
        int64_t lease_id;          /* 0: an assignment */
        const char *lease_name;
        int64_t expires_us;
        pid_t pid;
        uint64_t pid_start;
        const char *host;          /* NULL: unknown */
};
typedef int store_holding_visit(const struct store_holding *h, void *arg);
typedef int store_assignment_visit(const struct rsap_assignment *a, void *arg);

/* An ended assignment whose port is still kept from others. */
struct store_quarantine {
        int64_t assignment_id;
        const char *service;
        uint16_t port;
        enum rsap_proto proto;
        int64_t ended_us, until_us;
};
typedef int store_quarantine_visit(const struct store_quarantine *q, void *arg);

/* A pending request, for the checks and pick. */
struct store_pending {
        int64_t id;
        const char *service, *assignee;
        int port;                  /* -1: the registry chooses */
        unsigned protocols;
};
typedef int store_pending_visit(const struct store_pending *p, void *arg);

/* The lookups' entries: on ports low..high, of a name, or every one (search). */
enum store_entries_scope { STORE_ENTRIES_PORTS, STORE_ENTRIES_NAME, STORE_ENTRIES_ALL };
struct store_entries_query {
        enum store_entries_scope scope;
        uint16_t low, high;
        const char *name;
        int64_t now_us;            /* quarantines still running at that moment */
};
/* The entry is the visitor's to keep (or clear); a lease's holder comes beside it. */
typedef int store_entry_visit(struct rsap_local_entry *e, uint64_t pid_start, const char *host,
                              void *arg);

/* The entries' counts that need no judgement of a holder (leases do). */
struct store_counts {
        int64_t assignments; /* active, or ended and quarantined at now_us */
        int64_t requests;    /* pending, for a port */
};

enum store_tamper {
        STORE_TAMPER_EVENT_UPDATE,      /* change an event */
        STORE_TAMPER_EVENT_DELETE,      /* remove one */
        STORE_TAMPER_SERVICE_ASSIGNEE,  /* give every service another assignee */
};

struct rsap_store_backend {
        const char *scheme;  /* "sqlite" */
        int known_schema;  /* the schema this rsap makes and knows, the newest */

        /*
         * Fills store->conn; location is what follows "scheme:".  In mode
         * RSAP_STORE_LOOKUP a backend may put off connecting until an
         * operation needs it (SQLite's port marks answer entries() for ports
         * no row names); one that cannot opens as for RSAP_STORE_READ.
         */
        int (*open)(struct rsap_store *store, const char *location, enum rsap_store_mode mode,
                    int busy_timeout_ms);
        void (*close)(struct rsap_store *store);
        int (*schema_version)(struct rsap_store *store);
        /* A number that changes whenever another connection commits a change. */
        int (*data_version)(struct rsap_store *store, int64_t *out);
        /*
         * Following every connection's commits as they happen (store.h's
         * rsap_store_changes_*); NULL where the engine cannot tell, and
         * data_version() is asked instead.
         */
        int (*follow_open)(const char *location, void **out);
        int (*follow_wait)(void *follow, int timeout_ms);
        void (*follow_close)(void *follow);
        int (*location_schema_version)(const char *location);

        int (*begin)(struct rsap_store *store);
        int (*commit)(struct rsap_store *store);
        void (*rollback)(struct rsap_store *store);

        /* details: compact JSON text or NULL; the time is rsap_store_now(). */
        int (*event_append)(struct rsap_store *store, const struct store_event *ev,
                            const char *details, int64_t *id_out);
        int (*history)(struct rsap_store *store, const struct rsap_target *target,
                       struct rsap_history *out);

        /* The request's fields as filed (state pending, requested_us set). */
        int (*request_insert)(struct rsap_store *store, const struct rsap_request *r,
                              int64_t *id_out);
        int (*request_get)(struct rsap_store *store, int64_t id, struct rsap_request *out);
        int (*request_list)(struct rsap_store *store, bool pending_only,
                            struct rsap_request **out, size_t *n_out);
        /* A pending request decided: -EALREADY when it is not pending any more. */
        int (*request_decide)(struct rsap_store *store, int64_t id,
                              enum rsap_request_state state);
        /* Pending requests on a port of low..high, or (name not NULL) for that name. */
        int (*pending)(struct rsap_store *store, uint16_t low, uint16_t high, const char *name,
                       store_pending_visit *visit, void *arg);

        /* By name, whatever its case: -ENOENT when none. */
        int (*service_get)(struct rsap_store *store, const char *name, struct store_service *out);
        int (*service_insert)(struct rsap_store *store, const struct store_service *s,
                              int64_t *id_out);
        int (*service_set_people)(struct rsap_store *store, int64_t id, const char *assignee,
                                  const char *contact);
        int (*service_names)(struct rsap_store *store, int (*visit)(const char *name, void *arg),
                             void *arg);

        int (*assignment_insert)(struct rsap_store *store, const struct assignment_fields *f,
                                 int64_t *id_out);
        /* An active assignment ended, and its holding with it. */
        int (*assignment_end)(struct rsap_store *store, int64_t id, int64_t ended_us,
                              int64_t quarantine_until_us);
        int (*assignments)(struct rsap_store *store, const struct store_assignment_query *q,
                           struct rsap_assignment **out, size_t *n_out);
        /* The same assignments, each visited as it is read. */
        int (*assignments_walk)(struct rsap_store *store, const struct store_assignment_query *q,
                                store_assignment_visit *visit, void *arg);

        /*
         * On ports low..high, proto RSAP_PROTO_NONE: every one; by port and
         * protocol.  who: with the assignment's service and assignee (else
         * NULL, which spares pick a join per holding).
         */
        int (*holdings)(struct rsap_store *store, uint16_t low, uint16_t high,
                        enum rsap_proto proto, bool who, store_holding_visit *visit, void *arg);
        /*
         * Into out (not cleared first): the ports of low..high an assignment
         * holds on a protocol of mask.  Its cost follows the range, not the
         * number of holdings.
         */
        int (*assigned_ports)(struct rsap_store *store, uint16_t low, uint16_t high,
                              unsigned mask, struct rsap_port_set *out);
        /* The holdings of active leases on ports low..high (leases' own, live or not). */
        int (*lease_holdings)(struct rsap_store *store, uint16_t low, uint16_t high,
                              store_holding_visit *visit, void *arg);
        /* Quarantines running at now_us; the latest first on each port/protocol. */
        int (*quarantines)(struct rsap_store *store, uint16_t low, uint16_t high,
                           enum rsap_proto proto, int64_t now_us, store_quarantine_visit *visit,
                           void *arg);

        /* A live lease and its holdings on tcp and udp (l->id is ignored). */
        int (*lease_insert)(struct rsap_store *store, const struct rsap_lease *l,
                            int64_t *id_out);
        /* An active lease ended, and its holdings with it. */
        int (*lease_end)(struct rsap_store *store, int64_t id, int64_t ended_us);
        int (*leases)(struct rsap_store *store, const struct store_lease_query *q,
                      struct rsap_lease **out, size_t *n_out);

        /* Assignments (active or quarantined), pending requests, active leases; by port. */
        int (*entries)(struct rsap_store *store, const struct store_entries_query *q,
                       store_entry_visit *visit, void *arg);
        /* How many assignments and requests entries() would visit over every port at now_us. */
        int (*counts)(struct rsap_store *store, int64_t now_us, struct store_counts *out);

        /*
         * Listening intervals (listen_history.h says what each does).  They
         * are observations, not state: upkeep removes and compacts them.
         * host is the store's own for every write.
         */
        int (*interval_open)(struct rsap_store *store, const struct rsap_interval *iv,
                             int64_t *id_out);
        int (*interval_close)(struct rsap_store *store, int64_t id, int64_t ended_us);
        int (*intervals_close_unknown)(struct rsap_store *store, int64_t *n_closed);
        int (*intervals_touch)(struct rsap_store *store, int64_t now_us);
        /* Inside the caller's transaction. */
        int (*intervals_upkeep)(struct rsap_store *store, const struct rsap_interval_policy *p,
                                int64_t now_us, struct rsap_interval_upkeep *out);
        int (*intervals)(struct rsap_store *store, const struct rsap_interval_query *q,
                         store_interval_visit *visit, void *arg);

        /*
         * Squatter findings (rsap/findings.h): insert sets the id; resolve
         * is -ENOENT for no such finding and -EALREADY for one resolved
         * before; the visitor's finding is borrowed for the call.
         */
        int (*finding_insert)(struct rsap_store *store, const struct rsap_listen_finding *f,
                              int64_t *id_out);
        int (*finding_resolve)(struct rsap_store *store, int64_t id, int64_t resolved_us);
        int (*findings)(struct rsap_store *store, const struct rsap_findings_query *q,
                        int (*visit)(const struct rsap_listen_finding *f, void *arg), void *arg);

        int (*check)(struct rsap_store *store, enum rsap_store_check_level level,
                     bool malformed_found, struct rsap_store_check_report *out);

        /*
         * For the contract suite only: what someone with the engine's own
         * tools could do behind rsap's back, so that the suite sees the
         * store refuse it (events) or the check find it (state rows).
         */
        int (*tamper)(struct rsap_store *store, enum store_tamper what);
};

/* The backends of this rsap, in the order URIs are matched against their schemes. */
const struct rsap_store_backend *const *store_backends(size_t *n_out);

/* The backends this rsap has (store.c lists them by scheme). */
extern const struct rsap_store_backend store_backend_sqlite;
extern const struct rsap_store_backend store_backend_postgresql;

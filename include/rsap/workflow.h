/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include <rsap/export.h>
#include <rsap/listen.h>
#include <rsap/port.h>
#include <rsap/iana.h>
#include <rsap/store.h>

/*
 * The registration process of RFC 6335 (sections 8.1 to 8.5) on the local
 * registry: requests, their review and approval, de-assignment, transfer and
 * revocation, history; and the tools around it: pick, lease, kernel-reserve,
 * audit, import and export.
 *
 * Every change is one transaction that runs its checks and its writes
 * together and appends its events; every result is a plain C value with a
 * JSON renderer, so rsap and rsapd print the same bytes.  Nothing here prints
 * or exits.  Errors are negative errno codes, those of store.h and:
 *   -ENOENT        no such request, assignment, lease or port holding
 *   -EALREADY      the request was already decided
 *   -EPERM         the checks refused (the review in the result says why)
 *   -EADDRNOTAVAIL no free port where one was asked for
 *   -ENOTUNIQ      a target that names more than one service
 *   -EINVAL        malformed input (the front end says which field)
 *   -EILSEQ        a control character or a byte that is not UTF-8 in a
 *                  field (a request's note, and only it, may hold LF)
 */

/* ---- context --------------------------------------------------------------- */

/* What the checks know of this host; every field may be absent. */
struct rsap_host {
        bool have_ephemeral;                       /* net.ipv4.ip_local_port_range */
        uint16_t ephemeral_low, ephemeral_high;
        const struct rsap_listen_list *listeners;  /* NULL: not looked at */
};

/* Reads the ephemeral range; path NULL: /proc/sys/net/ipv4/ip_local_port_range. */
int rsap_host_read_ephemeral(const char *path, uint16_t *low, uint16_t *high);
/* Some socket of the list listens on (or is bound to) port/proto. */
bool rsap_host_listening(const struct rsap_host *host, uint16_t port, enum rsap_proto proto);
/* The Fetch standard's "bad ports": browsers refuse to connect to them. */
bool rsap_port_browser_blocked(uint16_t port);

struct rsap_workflow {
        struct rsap_store *store;          /* NULL for pick without a local registry */
        const struct rsap_iana *iana;  /* the IANA registry the checks consult */
        const char *actor;                 /* recorded in every event */
        const struct rsap_host *host;      /* NULL: nothing known of the host */
};

/* ---- parsing ------------------------------------------------------------------- */

/* "30s", "10m", "2h", "1d" (one number, one unit) in microseconds. */
int rsap_duration_parse(const char *text, int64_t *us_out);
/*
 * The two durations the registry takes, with the same rules for rsap and
 * rsapd: a quarantine may be 0s (the port is free again at once); a lease's
 * TTL may not.
 */
int rsap_quarantine_parse(const char *text, int64_t *us_out);
int rsap_ttl_parse(const char *text, int64_t *us_out);

/*
 * What a command points at: a port ("8443", "8443/tcp"), a service name, or
 * a record by id: "request:12", "assignment:5", "lease:3".  Ids have a kind
 * because "12" is a port and "r12" could be a service name.
 */
enum rsap_target_kind {
        RSAP_TARGET_PORT = 0,
        RSAP_TARGET_NAME,
        RSAP_TARGET_REQUEST,
        RSAP_TARGET_ASSIGNMENT,
        RSAP_TARGET_LEASE,
};

struct rsap_target {
        enum rsap_target_kind kind;
        uint16_t port;
        enum rsap_proto proto; /* RSAP_PROTO_NONE: every transport */
        int64_t id;
        char name[64];
};

int rsap_target_parse(const char *text, struct rsap_target *out);
/* A request id: "12" or "request:12". */
int rsap_request_id_parse(const char *text, int64_t *id_out);

/* ---- requests ---------------------------------------------------------------- */

#define RSAP_NAME_MAX 63 /* stored; RFC 6335 allows 15, the review says so */
#define RSAP_DEFAULT_ANY_LOW 1024
#define RSAP_DEFAULT_ANY_HIGH 49151

struct rsap_request_input {
        const char *service;
        bool any_port;                   /* the registry chooses the number */
        uint16_t port;
        bool has_range;                  /* with any_port: where to choose */
        uint16_t range_low, range_high;
        unsigned protocols;              /* bit set of 1u << RSAP_PROTO_* */
        const char *description, *assignee, *contact; /* required */
        const char *reference, *note;    /* optional */
        bool allow_system;               /* may take a System Port */
        bool over_iana;                  /* may register over IANA's assignment */
        bool same_service;               /* is the service IANA names so, elsewhere */
};

enum rsap_request_state {
        RSAP_REQUEST_PENDING = 0,
        RSAP_REQUEST_APPROVED,
        RSAP_REQUEST_REJECTED,
};

struct rsap_request {
        int64_t id;
        char *service;
        bool any_port;
        uint16_t port;                   /* with any_port: 0 */
        uint16_t range_low, range_high;  /* where --any chooses */
        unsigned protocols;
        char *description, *assignee, *contact, *reference, *note;
        bool allow_system, over_iana, same_service;
        enum rsap_request_state state;
        char *requested_by;
        int64_t requested_us;
};

const char *rsap_request_state_name(enum rsap_request_state state);
void rsap_request_clear(struct rsap_request *r);

/* Files a request (event "request") and returns its id. */
int rsap_request_file(const struct rsap_workflow *wf, const struct rsap_request_input *in,
                      int64_t *id_out);
int rsap_request_get(struct rsap_store *store, int64_t id, struct rsap_request *out);
/* Every request, or the pending ones, oldest first. */
int rsap_request_list(struct rsap_store *store, bool pending_only, struct rsap_request **out,
                      size_t *n_out);
void rsap_request_list_free(struct rsap_request *list, size_t n);

/* ---- checks and review --------------------------------------------------------- */

enum rsap_check_code {
        RSAP_CHECK_STATE = 0,    /* the request is still pending */
        RSAP_CHECK_NAME_SYNTAX,  /* RFC 6335 section 5.1 */
        RSAP_CHECK_NAME_IANA,    /* the name is IANA's (unless the same service) */
        RSAP_CHECK_NAME_LOCAL,   /* the name is another assignee's service here */
        RSAP_CHECK_NAME_PENDING, /* another pending request wants the name (warning) */
        RSAP_CHECK_RANGE,        /* Dynamic never; System with --allow-system */
        RSAP_CHECK_FREE_PORT,    /* --any: a free port exists in the range */
        RSAP_CHECK_IANA,         /* IANA assigned or reserved it (--over-iana) */
        RSAP_CHECK_ASSIGNED,     /* an active local assignment holds it */
        RSAP_CHECK_LEASED,       /* a live lease holds it */
        RSAP_CHECK_QUARANTINE,   /* released too recently */
        RSAP_CHECK_REQUESTED,    /* another pending request wants it (warning) */
        RSAP_CHECK_LISTENING,    /* something listens on it here now (warning) */
        RSAP_CHECK_EPHEMERAL,    /* inside this host's ephemeral range (warning) */
        RSAP_CHECK_BROWSER,      /* browsers refuse the port (warning) */
        RSAP_CHECK_COUNT,
};

enum rsap_verdict {
        RSAP_VERDICT_PASS = 0,
        RSAP_VERDICT_WARNING, /* noted; does not stop an approval */
        RSAP_VERDICT_ALLOWED, /* would refuse, but an option allows it */
        RSAP_VERDICT_REFUSED,
};

/* "name-syntax", "iana"...: stable, for JSON. */
const char *rsap_check_code_name(enum rsap_check_code code);
const char *rsap_verdict_name(enum rsap_verdict verdict);

struct rsap_check {
        enum rsap_check_code code;
        enum rsap_verdict verdict;
        int port;               /* -1: not about a port */
        enum rsap_proto proto;  /* RSAP_PROTO_NONE: not about one transport */
        /* Filled by the library, shown as is by every front end:
         * "port 8443/tcp is assigned by IANA to pcsync-https; --over-iana to register over it" */
        char message[320];
};

/* Options of the reviewer, added to the request's own. */
struct rsap_review_options {
        bool allow_system;
        bool over_iana;
};

struct rsap_review {
        struct rsap_request request;
        int port;               /* the port checked (chosen for --any); -1: none */
        struct rsap_check *checks;
        size_t n_checks;
        size_t n_refused, n_warnings;
};

/* Runs every check on a request without changing anything. */
int rsap_review(const struct rsap_workflow *wf, int64_t request_id,
                const struct rsap_review_options *options, struct rsap_review *out);
void rsap_review_clear(struct rsap_review *review);

/* ---- assignments -------------------------------------------------------------- */

struct rsap_assignment {
        int64_t id;
        int64_t request_id;        /* 0: imported */
        char *service;
        uint16_t port;
        enum rsap_proto proto;
        char *assignee, *contact, *description, *reference, *note;
        char *over_iana;           /* IANA's service it was registered over, or NULL */
        bool active;
        int64_t assigned_us;
        int64_t ended_us;          /* 0 while active */
        int64_t quarantine_until_us; /* 0: none */
};

void rsap_assignment_clear(struct rsap_assignment *a);
void rsap_assignment_list_free(struct rsap_assignment *list, size_t n);

struct rsap_approval {
        struct rsap_review review;           /* the checks, as run inside the transaction */
        struct rsap_assignment *assignments; /* one per protocol */
        size_t n_assignments;
};

/*
 * Approves a request: re-runs the checks inside the transaction that writes
 * the assignments, so two approvers of the same port cannot both win.
 * -EPERM when a check refuses (out->review says which), -EALREADY when the
 * request was decided.  Clear out whatever the result.
 */
int rsap_approve(const struct rsap_workflow *wf, int64_t request_id,
                 const struct rsap_review_options *options, const char *why,
                 struct rsap_approval *out);
void rsap_approval_clear(struct rsap_approval *a);

/* Rejects a pending request; why is required (-EINVAL without). */
int rsap_reject(const struct rsap_workflow *wf, int64_t request_id, const char *why,
                struct rsap_request *out);

/* Default quarantine of a released port: 30 days. */
#define RSAP_DEFAULT_QUARANTINE_US (30LL * 24 * 3600 * 1000000)

/*
 * Ends the active assignments the target names (a port, port/proto, name
 * or assignment:ID): RFC 6335 section 8.2 (deassign: the assignee returns
 * them) or 8.4 (revoke: the registry takes them back; why is required).
 * The ports are not handed out again for quarantine_us.  -ENOENT when no
 * active assignment matches.
 */
int rsap_deassign(const struct rsap_workflow *wf, const struct rsap_target *target,
                  const char *why, int64_t quarantine_us, struct rsap_assignment **out,
                  size_t *n_out);
int rsap_revoke(const struct rsap_workflow *wf, const struct rsap_target *target,
                const char *why, int64_t quarantine_us, struct rsap_assignment **out,
                size_t *n_out);

/*
 * RFC 6335 section 8.5: the service the target names (all its active
 * assignments) passes to a new assignee, recorded for each assignment.
 * contact NULL keeps the contact.  -ENOTUNIQ when the target names several
 * services; -EALREADY when the service already belongs to `to` (compared
 * case-insensitively), for rsap and rsapd to refuse alike.
 */
struct rsap_transfer {
        char *service;
        char *from, *to;
        char *contact_from, *contact_to;
        struct rsap_assignment *assignments;
        size_t n_assignments;
};
int rsap_transfer(const struct rsap_workflow *wf, const struct rsap_target *target,
                  const char *to, const char *contact, const char *why,
                  struct rsap_transfer *out);
void rsap_transfer_clear(struct rsap_transfer *t);

/* ---- history -------------------------------------------------------------------- */

struct rsap_event {
        int64_t id;
        int64_t time_us;
        char *actor;
        char *action;
        int64_t request_id, assignment_id, lease_id; /* 0: none */
        char *service;
        int port;               /* -1: none */
        enum rsap_proto proto;  /* RSAP_PROTO_NONE: none (a lease: tcp and udp) */
        char *reason;
        char *details;          /* a JSON object as text, or NULL */
        char *host;             /* the host that made it; NULL: unknown (schema 1) */
};

struct rsap_history {
        struct rsap_target target;
        struct rsap_event *events; /* oldest first */
        size_t n_events;
};

/* Every event recorded for the target: a port, a name, or an id. */
int rsap_history(struct rsap_store *store, const struct rsap_target *target,
                 struct rsap_history *out);
void rsap_history_clear(struct rsap_history *h);

/* ---- pick and lease ---------------------------------------------------------------- */

struct rsap_pick_options {
        uint16_t low, high;     /* default RSAP_DEFAULT_ANY_LOW..HIGH */
        unsigned protocols;     /* 0: tcp and udp */
        size_t count;           /* 0: 1 */
        bool allow_iana;        /* may propose ports IANA assigned or reserved */
};

/* How many ports of the range each rule kept from the pick (the first rule
 * that applies, in this order, counts a port once). */
struct rsap_pick_exclusions {
        size_t browser;          /* port 0, or a port browsers refuse */
        size_t local_assignment; /* assigned in the local registry */
        size_t lease;            /* leased now */
        size_t request;          /* asked for by a pending request */
        size_t quarantine;       /* returned or revoked, still quarantined */
        size_t iana;             /* assigned or reserved by IANA */
        size_t ephemeral;        /* in this host's ephemeral range */
        size_t listening;        /* something listens on it here */
};

struct rsap_pick {
        struct rsap_pick_options options;
        uint16_t *ports;
        size_t n_ports;
        struct rsap_pick_exclusions excluded; /* the whole range's, not only up to count */
};

/*
 * Free numbers, lowest first: not assigned or reserved by IANA (unless
 * allowed), not assigned, requested, leased or quarantined locally, not
 * listening on this host, not in its ephemeral range, not a port browsers
 * refuse.  wf->store may be NULL (no local registry).  0 even when none is
 * free (n_ports 0).
 */
int rsap_pick(const struct rsap_workflow *wf, const struct rsap_pick_options *options,
              struct rsap_pick *out);
void rsap_pick_clear(struct rsap_pick *p);

struct rsap_lease_options {
        uint16_t low, high;   /* default RSAP_DEFAULT_ANY_LOW..HIGH */
        int64_t ttl_us;       /* 0: RSAP_DEFAULT_LEASE_TTL_US */
        const char *name;     /* what it is for; NULL: nothing said */
        pid_t pid;            /* the holder: the lease dies with it; 0: none */
};

#define RSAP_DEFAULT_LEASE_TTL_US (10LL * 60 * 1000000)

struct rsap_lease {
        int64_t id;
        uint16_t port;        /* held on tcp and udp */
        char *name;
        pid_t pid;            /* 0: none */
        uint64_t pid_start;   /* the holder's start time, clock ticks after boot */
        char *host;           /* the holder's host (rsap_host_name()); NULL: unknown */
        int64_t leased_us, expires_us;
        bool active;
        int64_t ended_us;
};

/*
 * Atomically hands out a free port (the pick rules) for tcp and udp.  A
 * lease whose TTL passed or whose holder, on this host, died leaves its port
 * free (another host's holder is judged by the TTL alone); when the port
 * drawn is such a one, that lease ends first (event "expire").  Other dead
 * leases are left to rsap_leases_reap().  The port is drawn uniformly from
 * the free ports of the range, so that leases spread evenly and back-to-back
 * test runs rarely reuse the port just released.
 * -EADDRNOTAVAIL when no port of the range is free; -ESRCH when pid does
 * not exist.
 */
int rsap_lease_take(const struct rsap_workflow *wf, const struct rsap_lease_options *options,
                    struct rsap_lease *out);
/* Ends the live lease on a port (target: port or lease:ID); -ENOENT when none. */
int rsap_lease_release(const struct rsap_workflow *wf, const struct rsap_target *target,
                       struct rsap_lease *out);
void rsap_lease_clear(struct rsap_lease *l);
/*
 * Ends, in one transaction, every active lease whose TTL passed and every
 * one whose holder is of this host and died (event "expire" each, as a take
 * would record it); another host's lease is judged by its TTL alone.  For a
 * background reaper (rsapd): a take or a pick judges only the leases on the
 * ports it looks at.  n_ended (may be NULL) gets how many ended.
 */
int rsap_leases_reap(const struct rsap_workflow *wf, size_t *n_ended);
/* Field 22 of /proc/PID/stat: -ESRCH when the process does not exist. */
int rsap_process_start_time(pid_t pid, uint64_t *ticks_out);

/* ---- kernel-reserve -------------------------------------------------------------- */

/* A set of the 65536 ports. */
struct rsap_port_set {
        uint64_t words[65536 / 64];
};
void rsap_port_set_add(struct rsap_port_set *set, uint16_t port);
bool rsap_port_set_has(const struct rsap_port_set *set, uint16_t port);
size_t rsap_port_set_count(const struct rsap_port_set *set);
/* "8080,9000-9010": the kernel's syntax; -EINVAL for anything else. */
int rsap_port_set_parse(const char *text, struct rsap_port_set *out);
/* The same syntax, ranges merged; "" for the empty set.  -ENOSPC when too small. */
int rsap_port_set_format(const struct rsap_port_set *set, char *buf, size_t size);

#define RSAP_RESERVED_PORTS_PATH "/proc/sys/net/ipv4/ip_local_reserved_ports"

struct rsap_kernel_reserve {
        char *current;          /* the file's list now */
        char *merged;           /* what --apply writes: current + assigned */
        uint16_t *assigned;     /* the ports of active local assignments */
        size_t n_assigned;
        size_t n_added;         /* assigned ports the kernel does not reserve yet */
        bool applied;
};
/* path NULL: RSAP_RESERVED_PORTS_PATH. */
int rsap_kernel_reserve_plan(struct rsap_store *store, const char *path,
                             struct rsap_kernel_reserve *out);
int rsap_kernel_reserve_apply(struct rsap_kernel_reserve *plan, const char *path);
void rsap_kernel_reserve_clear(struct rsap_kernel_reserve *k);

/* ---- audit -------------------------------------------------------------------------- */

enum rsap_finding_kind {
        RSAP_FINDING_UNREGISTERED = 0, /* a listener on a port nobody registered */
        RSAP_FINDING_NOT_LISTENING,    /* an assignment whose service does not listen here */
        RSAP_FINDING_WRONG_SERVICE,    /* another registered service listens on the port */
};
const char *rsap_finding_kind_name(enum rsap_finding_kind kind);

struct rsap_finding {
        enum rsap_finding_kind kind;
        uint16_t port;
        enum rsap_proto proto;
        char *service;          /* the port's assigned service, NULL for unregistered */
        int64_t assignment_id;  /* 0: none */
        char *listener;         /* "nginx (pid 812)", NULL when none or unknown */
        char message[320];
};

struct rsap_audit {
        struct rsap_finding *findings;
        size_t n_findings;
        size_t n_listeners, n_assignments;
};

/*
 * Compares the listeners (wf->host->listeners, with owners) with the
 * registries.  A listening process is taken for a service when its command
 * name equals a local service name, case-insensitively.  The same as
 * rsap_audit_read() then rsap_audit_check().
 */
int rsap_audit(const struct rsap_workflow *wf, struct rsap_audit *out);
void rsap_audit_clear(struct rsap_audit *a);

/*
 * The audit in its two steps, for a caller that serialises access to the
 * store (rsapd): read what the local registry holds (the store's part, and
 * the only one that needs the store), then compare it with the listeners,
 * which needs no store and may take long.
 */
struct rsap_audit_facts;
int rsap_audit_read(struct rsap_store *store, struct rsap_audit_facts **out);
int rsap_audit_check(const struct rsap_audit_facts *facts, const struct rsap_iana *iana,
                     const struct rsap_host *host, struct rsap_audit *out);
void rsap_audit_facts_free(struct rsap_audit_facts *facts);

/* ---- import and export ------------------------------------------------------------- */

/* The active assignments: JSON {"kind": "local-registry", ...}, CSV, or services(5). */
int rsap_local_export(struct rsap_store *store, enum rsap_export_format format, FILE *out);

struct rsap_import_conflict {
        char *service;
        int port;
        enum rsap_proto proto;
        char message[320];
};

struct rsap_import_result {
        size_t imported, unchanged;
        struct rsap_import_conflict *conflicts;
        size_t n_conflicts;
        char error[200];       /* -EBADMSG: where the file is wrong */
        size_t conflicts_capacity; /* private */
};

/*
 * Imports an export (JSON or CSV) in one transaction, one event "import" per
 * new assignment.  An entry that is already there is unchanged; one that
 * conflicts (the port/protocol held otherwise, the name another assignee's)
 * is never overwritten: with skip_conflicts the rest is imported and the
 * conflicts listed, else nothing is imported and -EEXIST returned.
 */
int rsap_local_import(const struct rsap_workflow *wf, const char *text, size_t size,
                      const char *origin, bool skip_conflicts, struct rsap_import_result *out);
void rsap_import_result_clear(struct rsap_import_result *r);

/* ---- the local registry in lookups ---------------------------------------------- */

enum rsap_local_kind {
        RSAP_LOCAL_ASSIGNMENT = 0,
        RSAP_LOCAL_REQUEST,
        RSAP_LOCAL_LEASE,
};

struct rsap_local_entry {
        enum rsap_local_kind kind;
        int64_t id;
        char *service;            /* a lease: its name, or NULL */
        int port;                 /* -1: a request that lets the registry choose */
        unsigned protocols;       /* an assignment: one */
        char *assignee, *contact, *description;
        char *over_iana;          /* an assignment made over IANA's, or NULL */
        const char *state;        /* "active", "quarantined", "pending", "live" */
        int64_t since_us;         /* assigned, requested, leased */
        int64_t until_us;         /* quarantine end, lease expiry; 0: none */
        pid_t pid;                /* a lease's holder; 0: none */
};

struct rsap_local_list {
        struct rsap_local_entry *entries;
        size_t n_entries;
};

/* Active and quarantined assignments, pending requests and live leases. */
int rsap_local_for_port(struct rsap_store *store, uint16_t port, enum rsap_proto proto,
                        struct rsap_local_list *out);
int rsap_local_for_range(struct rsap_store *store, uint16_t low, uint16_t high,
                         struct rsap_local_list *out);
int rsap_local_for_name(struct rsap_store *store, const char *name, struct rsap_local_list *out);
/* Every word of text in the service, description or people, case-insensitively. */
int rsap_local_search(struct rsap_store *store, const char *text, struct rsap_local_list *out);
void rsap_local_list_clear(struct rsap_local_list *list);

/*
 * How many entries of each kind rsap_local_for_range(store, 0, 65535) holds,
 * without reading them: rsapd's home page and /metrics.  Counted over the
 * store's indexes of the live set (active assignments, pending requests,
 * active leases), so the cost does not grow with the history.
 */
struct rsap_local_counts {
        size_t assignments; /* active and quarantined */
        size_t requests;    /* pending, for a port */
        size_t leases;      /* live */
};
int rsap_local_counts(struct rsap_store *store, struct rsap_local_counts *out);
/* Clears and frees a list that was allocated whole (the answers' lists). */
void rsap_local_list_free(struct rsap_local_list *list);
void rsap_local_list_freep(struct rsap_local_list **list);
/*
 * The first entry for port/proto in a list sorted by port (every list above
 * is), for callers that walk ports upwards: *cursor (start at 0) skips the
 * entries of lower ports once and for all.  NULL when none.
 */
const struct rsap_local_entry *rsap_local_list_find(const struct rsap_local_list *list,
                                                    uint16_t port, enum rsap_proto proto,
                                                    size_t *cursor);

/* ---- run: the ports a service may bind ------------------------------------------- */

struct rsap_service_port {
        uint16_t port;
        enum rsap_local_kind kind; /* RSAP_LOCAL_ASSIGNMENT or RSAP_LOCAL_LEASE */
        int64_t id;                /* the assignment's or the lease's */
};

struct rsap_service_ports {
        char *service;                  /* as the registry spells it, else as asked */
        struct rsap_service_port *ports; /* by port; none when no TCP port is held */
        size_t n_ports;
};

/*
 * The TCP ports the service holds now (rsap run binds them): its active tcp
 * assignments, and the live leases (rsap_lease_take()) whose name is the
 * service's name, compared without regard to case.  -ENOENT when the
 * registry has no service of that name and no live lease bears it; a
 * known service with no TCP port is 0 with n_ports 0.  -EINVAL for an
 * empty or overlong name.
 */
int rsap_service_tcp_ports(struct rsap_store *store, const char *service,
                           struct rsap_service_ports *out);
void rsap_service_ports_clear(struct rsap_service_ports *p);

/* ---- JSON (schema in docs/json.md) -------------------------------------------------- */

json_t *rsap_request_to_json(const struct rsap_request *r);
json_t *rsap_request_list_to_json(const struct rsap_request *list, size_t n);
json_t *rsap_check_to_json(const struct rsap_check *c);
json_t *rsap_review_to_json(const struct rsap_review *review);
json_t *rsap_assignment_to_json(const struct rsap_assignment *a);
json_t *rsap_approval_to_json(const struct rsap_approval *a);
/* kind "deassign" or "revoke" */
json_t *rsap_ended_to_json(const char *kind, const struct rsap_assignment *list, size_t n);
json_t *rsap_transfer_to_json(const struct rsap_transfer *t);
json_t *rsap_event_to_json(const struct rsap_event *e);
json_t *rsap_history_to_json(const struct rsap_history *h);
json_t *rsap_pick_to_json(const struct rsap_pick *p);
json_t *rsap_lease_to_json(const char *kind, const struct rsap_lease *l);
json_t *rsap_kernel_reserve_to_json(const struct rsap_kernel_reserve *k);
json_t *rsap_audit_to_json(const struct rsap_audit *a);
json_t *rsap_import_result_to_json(const struct rsap_import_result *r);
json_t *rsap_local_entry_to_json(const struct rsap_local_entry *e);
json_t *rsap_local_list_to_json(const struct rsap_local_list *list);

/* SPDX-License-Identifier: MIT */
/*
 * rsap audit: what listens on this host against what the registries say.
 * A listening process counts as a service when its command name (the
 * kernel keeps 15 bytes, as long as the longest service name) equals a
 * service name of the local registry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <rsap/findings.h>
#include <rsap/name.h>
#include <rsap/proc.h>

#include "workflow_internal.h"

const char *rsap_finding_kind_name(enum rsap_finding_kind kind)
{
        switch (kind) {
        case RSAP_FINDING_UNREGISTERED:
                return "unregistered";
        case RSAP_FINDING_NOT_LISTENING:
                return "not-listening";
        case RSAP_FINDING_WRONG_SERVICE:
                return "wrong-service";
        case RSAP_FINDING_PUBLISHED_COLLISION:
                return "published-collision";
        case RSAP_FINDING_PUBLISHED_EPHEMERAL:
                return "published-ephemeral";
        }
        return "?";
}

static const char *const squat_kind_names[RSAP_SQUAT_KINDS] = {
        [RSAP_SQUAT_NONE] = "none",
        [RSAP_SQUAT_ASSIGNED_TO_OTHER] = "assigned-to-other",
        [RSAP_SQUAT_LEASED_TO_OTHER] = "leased-to-other",
        [RSAP_SQUAT_UNREGISTERED] = "unregistered",
};

const char *rsap_squat_kind_name(enum rsap_squat_kind kind)
{
        return (unsigned)kind < RSAP_SQUAT_KINDS ? squat_kind_names[kind] : "?";
}

int rsap_squat_kind_parse(const char *name, enum rsap_squat_kind *out)
{
        for (int k = RSAP_SQUAT_NONE + 1; k < RSAP_SQUAT_KINDS; k++)
                if (strcmp(name, squat_kind_names[k]) == 0) {
                        *out = (enum rsap_squat_kind)k;
                        return 0;
                }
        return -EINVAL;
}

void rsap_audit_clear(struct rsap_audit *a)
{
        for (size_t i = 0; i < a->n_findings; i++) {
                free(a->findings[i].service);
                free(a->findings[i].listener);
        }
        free(a->findings);
        memset(a, 0, sizeof(*a));
}

/* ---- what the local registry says ------------------------------------------------- */

struct held {
        int64_t assignment_id; /* 0: a lease */
        char *service;         /* the assignment's service, or the lease's name (may be NULL) */
        uint16_t port;
        enum rsap_proto proto;
        int64_t lease_id;      /* a lease's holder: */
        pid_t pid;             /* 0: none */
        bool holder_here;      /* the holder's pid is one of this host's */
};

/* What the local registry holds, read in one go (rsap_audit_read()). */
struct rsap_audit_facts {
        struct held *held;
        size_t n_held;
        char **services; /* every local service name */
        size_t n_services;
};

/*
 * An item of a list (a socket, a holding) under its port/protocol, so that
 * the items of a pair are found by binary search: sorted by key, then by
 * position, the first match is the one a scan of the list would meet first.
 */
struct keyed {
        uint32_t key;
        size_t index;
};

/* What the check looks things up in: built once, O(n log n), then each lookup O(log n). */
struct audit_index {
        struct keyed *sockets; /* host->listeners->sockets */
        size_t n_sockets;
        struct keyed *held;    /* facts->held */
        size_t n_held;
        const char **services; /* facts->services, sorted case-insensitively */
        size_t n_services;
};

struct audit_state {
        const struct rsap_iana *iana;
        const struct rsap_host *host;
        const struct rsap_audit_facts *facts;
        struct audit_index index;
        struct rsap_audit *out;
        size_t capacity;
};

void rsap_audit_facts_free(struct rsap_audit_facts *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n_held; i++)
                free(f->held[i].service);
        free(f->held);
        for (size_t i = 0; i < f->n_services; i++)
                free(f->services[i]);
        free(f->services);
        free(f);
}

struct facts_loader {
        struct rsap_store *store;
        struct rsap_audit_facts *facts;
        size_t capacity;
};

/* Assignments, and leases that still live: what holds a port now. */
static int add_held(const struct store_holding *h, void *arg)
{
        struct facts_loader *l = arg;
        struct rsap_audit_facts *s = l->facts;
        struct held *out;

        if (!h->assignment_id &&
            !lease_is_live(l->store, h->expires_us, h->pid, h->pid_start, h->host))
                return 0;
        if (rsap_grow(&s->held, &l->capacity, s->n_held + 1, sizeof(*s->held)) < 0)
                return -ENOMEM;
        out = &s->held[s->n_held];
        *out = (struct held){ .assignment_id = h->assignment_id, .port = h->port,
                              .proto = h->proto, .lease_id = h->lease_id, .pid = h->pid,
                              .holder_here = !h->host || !strcasecmp(h->host,
                                                                     rsap_store_host(l->store)) };
        if (h->assignment_id && !(out->service = strdup(h->service ? h->service : "?")))
                return -ENOMEM;
        if (!h->assignment_id && h->lease_name && !(out->service = strdup(h->lease_name)))
                return -ENOMEM;
        s->n_held++;
        return 0;
}

static int load_held(struct rsap_store *store, struct rsap_audit_facts *s)
{
        struct facts_loader l = { store, s, 0 };

        return STORE_OP(store, holdings)(store, 0, UINT16_MAX, RSAP_PROTO_NONE, true, add_held,
                                         &l);
}

static int add_service(const char *name, void *arg)
{
        struct facts_loader *l = arg;
        struct rsap_audit_facts *s = l->facts;

        if (rsap_grow(&s->services, &l->capacity, s->n_services + 1, sizeof(char *)) < 0)
                return -ENOMEM;
        s->services[s->n_services] = strdup(name);
        if (!s->services[s->n_services])
                return -ENOMEM;
        s->n_services++;
        return 0;
}

static int load_services(struct rsap_store *store, struct rsap_audit_facts *s)
{
        struct facts_loader l = { store, s, 0 };

        return STORE_OP(store, service_names)(store, add_service, &l);
}

/* ---- the index ---------------------------------------------------------------------- */

static uint32_t port_key(uint16_t port, enum rsap_proto proto)
{
        return (uint32_t)proto << 16 | port;
}

static int keyed_compare(const void *a, const void *b)
{
        const struct keyed *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return (x->index > y->index) - (x->index < y->index);
}

static int service_compare(const void *a, const void *b)
{
        return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first entry of a sorted keyed array with this key, or n when none has it. */
static size_t keyed_first(const struct keyed *items, size_t n, uint32_t key)
{
        size_t low = 0, high = n;

        while (low < high) {
                size_t mid = low + (high - low) / 2;

                if (items[mid].key < key)
                        low = mid + 1;
                else
                        high = mid;
        }
        return low < n && items[low].key == key ? low : n;
}

static void audit_index_clear(struct audit_index *x)
{
        free(x->sockets);
        free(x->held);
        free(x->services);
        memset(x, 0, sizeof(*x));
}

static int index_sockets(struct audit_index *x, const struct rsap_listen_list *list)
{
        x->sockets = calloc(list->count ? list->count : 1, sizeof(*x->sockets));
        if (!x->sockets)
                return -ENOMEM;
        for (size_t i = 0; i < list->count; i++)
                x->sockets[i] = (struct keyed){ port_key(list->sockets[i].port,
                                                         list->sockets[i].proto), i };
        x->n_sockets = list->count;
        qsort(x->sockets, x->n_sockets, sizeof(*x->sockets), keyed_compare);
        return 0;
}

static int index_facts(struct audit_index *x, const struct rsap_audit_facts *f)
{
        x->held = calloc(f->n_held ? f->n_held : 1, sizeof(*x->held));
        x->services = calloc(f->n_services ? f->n_services : 1, sizeof(*x->services));
        if (!x->held || !x->services)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_held; i++)
                x->held[i] = (struct keyed){ port_key(f->held[i].port, f->held[i].proto), i };
        x->n_held = f->n_held;
        qsort(x->held, x->n_held, sizeof(*x->held), keyed_compare);
        for (size_t i = 0; i < f->n_services; i++)
                x->services[i] = f->services[i];
        x->n_services = f->n_services;
        qsort(x->services, x->n_services, sizeof(*x->services), service_compare);
        return 0;
}

static int audit_index_build(struct audit_index *x, const struct rsap_audit_facts *f,
                             const struct rsap_listen_list *list)
{
        int r = index_sockets(x, list);

        if (r == 0)
                r = index_facts(x, f);
        if (r < 0)
                audit_index_clear(x);
        return r;
}

static bool is_service(const struct audit_state *s, const char *command)
{
        return bsearch(&command, s->index.services, s->index.n_services,
                       sizeof(*s->index.services), service_compare) != NULL;
}

static const struct held *held_for(const struct audit_state *s, uint16_t port,
                                   enum rsap_proto proto)
{
        const struct audit_index *x = &s->index;
        size_t i = keyed_first(x->held, x->n_held, port_key(port, proto));

        return i < x->n_held ? &s->facts->held[x->held[i].index] : NULL;
}

/* Where the sockets on port/proto start in the index (n_sockets: none). */
static size_t sockets_on(const struct audit_state *s, uint16_t port, enum rsap_proto proto)
{
        return keyed_first(s->index.sockets, s->index.n_sockets, port_key(port, proto));
}

static bool listening_on(const struct audit_state *s, uint16_t port, enum rsap_proto proto)
{
        return sockets_on(s, port, proto) < s->index.n_sockets;
}

/* ---- what listens ------------------------------------------------------------------- */

/* The first owner of the port/protocol whose command is a local service. */
static const struct rsap_listen_owner *owner_that_is_service(const struct audit_state *s,
                                                             uint16_t port, enum rsap_proto proto)
{
        const struct rsap_listen_list *list = s->host->listeners;
        const struct audit_index *x = &s->index;
        uint32_t key = port_key(port, proto);

        for (size_t i = sockets_on(s, port, proto); i < x->n_sockets && x->sockets[i].key == key;
             i++) {
                const struct rsap_listen_socket *sock = &list->sockets[x->sockets[i].index];

                for (size_t o = 0; o < sock->n_owners; o++)
                        if (is_service(s, sock->owners[o].command))
                                return &sock->owners[o];
        }
        return NULL;
}

static const struct rsap_listen_owner *any_owner(const struct audit_state *s, uint16_t port,
                                                 enum rsap_proto proto)
{
        const struct rsap_listen_list *list = s->host->listeners;
        const struct audit_index *x = &s->index;
        uint32_t key = port_key(port, proto);

        for (size_t i = sockets_on(s, port, proto); i < x->n_sockets && x->sockets[i].key == key;
             i++) {
                const struct rsap_listen_socket *sock = &list->sockets[x->sockets[i].index];

                if (sock->n_owners > 0)
                        return &sock->owners[0];
        }
        return NULL;
}

static int add_finding(struct audit_state *s, enum rsap_finding_kind kind, uint16_t port,
                       enum rsap_proto proto, const char *service, int64_t assignment,
                       const struct rsap_listen_owner *owner, const char *message)
{
        struct rsap_audit *out = s->out;
        struct rsap_finding *f;
        char listener[64];
        int r = rsap_grow(&out->findings, &s->capacity, out->n_findings + 1, sizeof(*f));

        if (r < 0)
                return r;
        f = &out->findings[out->n_findings];
        memset(f, 0, sizeof(*f));
        f->kind = kind;
        f->port = port;
        f->proto = proto;
        f->assignment_id = assignment;
        snprintf(f->message, sizeof(f->message), "%s", message);
        f->service = service ? strdup(service) : NULL;
        if (owner) {
                snprintf(listener, sizeof(listener), "%s (pid %d)", owner->command,
                         (int)owner->pid);
                f->listener = strdup(listener);
        }
        out->n_findings++;
        if ((service && !f->service) || (owner && !f->listener))
                return -ENOMEM;
        return 0;
}

static void describe_owner(const struct rsap_listen_owner *owner, char *buf, size_t size)
{
        if (owner)
                format_message(buf, size, "%s (pid %d)", owner->command, (int)owner->pid);
        else
                format_message(buf, size, "a process this user cannot see");
}

/* A registered port with a local service listening that is not its own. */
static int check_service_on_port(struct audit_state *s, uint16_t port, enum rsap_proto proto,
                                 const char *holder, const char *by_whom, int64_t assignment)
{
        const struct rsap_listen_owner *service = owner_that_is_service(s, port, proto);
        char message[320];

        if (!service || !holder || rsap_name_equal(service->command, holder))
                return 0;
        format_message(message, sizeof(message),
                       "%u/%s is assigned %s to %s, but %s (pid %d), a service registered here, "
                       "listens on it",
                       port, rsap_proto_name(proto), by_whom, holder, service->command,
                       (int)service->pid);
        return add_finding(s, RSAP_FINDING_WRONG_SERVICE, port, proto, holder, assignment,
                           service, message);
}

/* ---- published ports ------------------------------------------------------------ */

static bool is_rule(const struct rsap_listen_socket *sock)
{
        return sock->forward && sock->forward->kind == RSAP_LISTEN_FORWARD_DNAT;
}

/* The first entry on the port/protocol that is a DNAT rule's, or that is
 * not (a socket): NULL when there is none. */
static const struct rsap_listen_socket *entry_on(const struct audit_state *s, uint16_t port,
                                                 enum rsap_proto proto, bool rule)
{
        const struct rsap_listen_list *list = s->host->listeners;
        const struct audit_index *x = &s->index;
        uint32_t key = port_key(port, proto);

        for (size_t i = sockets_on(s, port, proto); i < x->n_sockets && x->sockets[i].key == key;
             i++) {
                const struct rsap_listen_socket *sock = &list->sockets[x->sockets[i].index];

                if (is_rule(sock) == rule)
                        return sock;
        }
        return NULL;
}

/* "a DNAT rule (ip nat DOCKER, to 172.17.0.2:80)" */
static void describe_rule(const struct rsap_listen_socket *sock, char *buf, size_t size)
{
        const struct rsap_listen_forward *fw = sock->forward;

        format_message(buf, size, "a DNAT rule (%s %s, to %s%s%s:%u)", fw->table, fw->via,
                       fw->target_family == AF_INET6 ? "[" : "", fw->target_address,
                       fw->target_family == AF_INET6 ? "]" : "", fw->target_port);
}

/* A published port that a socket of the host listens on too: the rule
 * takes the connections meant for the socket, which never sees them. */
static int check_published_collision(struct audit_state *s, const struct rsap_listen_socket *rule)
{
        const struct rsap_listen_socket *sock = entry_on(s, rule->port, rule->proto, false);
        const struct rsap_listen_owner *owner = sock && sock->n_owners ? &sock->owners[0] : NULL;
        char what[160], who[64], message[320];

        if (!sock)
                return 0;
        describe_rule(rule, what, sizeof(what));
        describe_owner(owner, who, sizeof(who));
        format_message(message, sizeof(message),
                       "%u/%s is published by %s, and %s listens on it here: the rule takes "
                       "what is sent to it",
                       rule->port, rsap_proto_name(rule->proto), what, who);
        return add_finding(s, RSAP_FINDING_PUBLISHED_COLLISION, rule->port, rule->proto, NULL, 0,
                           owner, message);
}

/* A published port in the ephemeral range: the kernel may give it to a
 * connection of the host's own, whose answers the rule then redirects. */
static int check_published_ephemeral(struct audit_state *s, const struct rsap_listen_socket *rule)
{
        const struct rsap_host *host = s->host;
        char what[160], message[320];

        if (!host->have_ephemeral || rule->port < host->ephemeral_low ||
            rule->port > host->ephemeral_high)
                return 0;
        describe_rule(rule, what, sizeof(what));
        format_message(message, sizeof(message),
                       "%u/%s is published by %s but lies in the ephemeral range %u-%u, where "
                       "the kernel picks the host's own source ports",
                       rule->port, rsap_proto_name(rule->proto), what, host->ephemeral_low,
                       host->ephemeral_high);
        return add_finding(s, RSAP_FINDING_PUBLISHED_EPHEMERAL, rule->port, rule->proto, NULL, 0,
                           NULL, message);
}

static int check_published(struct audit_state *s, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_listen_socket *rule = entry_on(s, port, proto, true);
        int r;

        if (!rule)
                return 0;
        r = check_published_collision(s, rule);
        return r == 0 ? check_published_ephemeral(s, rule) : r;
}

static int check_listener(struct audit_state *s, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_iana *iana = s->iana;
        const struct held *held = held_for(s, port, proto);
        const struct rsap_listen_owner *owner;
        char who[64], message[320];

        if (held && held->assignment_id)
                return check_service_on_port(s, port, proto, held->service, "here",
                                             held->assignment_id);
        if (held)
                return 0; /* leased: a test run's */
        if (rsap_listen_port_registered(iana, port, proto))
                return check_service_on_port(s, port, proto,
                                             rsap_iana_service_name(iana, port, proto),
                                             "by IANA", 0);
        owner = owner_that_is_service(s, port, proto);
        if (!owner)
                owner = any_owner(s, port, proto);
        if (!owner && !entry_on(s, port, proto, false))
                describe_rule(entry_on(s, port, proto, true), who, sizeof(who));
        else
                describe_owner(owner, who, sizeof(who));
        format_message(message, sizeof(message),
                       "%s listens on %u/%s, a port neither IANA nor the local registry assigns",
                       who, port, rsap_proto_name(proto));
        return add_finding(s, RSAP_FINDING_UNREGISTERED, port, proto, NULL, 0, owner, message);
}

/* UDP sockets in the ephemeral range are clients' (resolvers, NTP): not services. */
static bool is_client_socket(const struct rsap_host *host, const struct rsap_listen_socket *sock)
{
        return sock->proto == RSAP_PROTO_UDP && host->have_ephemeral &&
               sock->port >= host->ephemeral_low && sock->port <= host->ephemeral_high;
}

static int check_listeners(struct audit_state *s)
{
        const struct rsap_listen_list *list = s->host->listeners;
        int r = 0;

        /* The list is sorted by protocol and port: one pass per distinct pair. */
        for (size_t i = 0; r == 0 && i < list->count; i++) {
                const struct rsap_listen_socket *sock = &list->sockets[i];

                if (i > 0 && list->sockets[i - 1].port == sock->port &&
                    list->sockets[i - 1].proto == sock->proto)
                        continue;
                r = check_published(s, sock->port, sock->proto);
                if (r < 0 || is_client_socket(s->host, sock))
                        continue;
                s->out->n_listeners++;
                r = check_listener(s, sock->port, sock->proto);
        }
        return r;
}

static int check_assignments(struct audit_state *s)
{
        char message[320];
        int r = 0;

        for (size_t i = 0; r == 0 && i < s->facts->n_held; i++) {
                const struct held *h = &s->facts->held[i];

                if (!h->assignment_id)
                        continue;
                s->out->n_assignments++;
                if (listening_on(s, h->port, h->proto))
                        continue;
                format_message(message, sizeof(message),
                               "%u/%s is assigned to %s (assignment %lld), but nothing listens "
                               "on it here",
                               h->port, rsap_proto_name(h->proto), h->service,
                               (long long)h->assignment_id);
                r = add_finding(s, RSAP_FINDING_NOT_LISTENING, h->port, h->proto, h->service,
                                h->assignment_id, NULL, message);
        }
        return r;
}

int rsap_audit_read(struct rsap_store *store, struct rsap_audit_facts **out)
{
        struct rsap_audit_facts *f = calloc(1, sizeof(*f));
        int r;

        *out = NULL;
        if (!f)
                return -ENOMEM;
        r = store ? load_held(store, f) : 0;
        if (r == 0 && store)
                r = load_services(store, f);
        if (r < 0) {
                rsap_audit_facts_free(f);
                return r;
        }
        *out = f;
        return 0;
}

int rsap_audit_check(const struct rsap_audit_facts *facts, const struct rsap_iana *iana,
                     const struct rsap_host *host, struct rsap_audit *out)
{
        struct audit_state s = { .iana = iana, .host = host, .facts = facts, .out = out };
        int r;

        memset(out, 0, sizeof(*out));
        if (!host || !host->listeners)
                return -EINVAL;
        r = audit_index_build(&s.index, facts, host->listeners);
        if (r == 0)
                r = check_listeners(&s);
        if (r == 0)
                r = check_assignments(&s);
        audit_index_clear(&s.index);
        if (r < 0)
                rsap_audit_clear(out);
        return r;
}

int rsap_audit(const struct rsap_workflow *wf, struct rsap_audit *out)
{
        struct rsap_audit_facts *facts = NULL;
        int r;

        memset(out, 0, sizeof(*out));
        if (!wf->host || !wf->host->listeners)
                return -EINVAL;
        r = rsap_audit_read(wf->store, &facts);
        if (r == 0)
                r = rsap_audit_check(facts, wf->iana, wf->host, out);
        rsap_audit_facts_free(facts);
        return r;
}

/* ---- squatters: one socket judged by the audit's facts ------------------------------ */

struct rsap_squat_judge {
        struct rsap_audit_facts *facts;
        struct audit_state state; /* its index over facts: no sockets */
};

void rsap_squat_judge_free(struct rsap_squat_judge *judge)
{
        if (!judge)
                return;
        audit_index_clear(&judge->state.index);
        rsap_audit_facts_free(judge->facts);
        free(judge);
}

void rsap_squat_judge_freep(struct rsap_squat_judge **judge)
{
        rsap_squat_judge_free(*judge);
}

int rsap_squat_judge_read(struct rsap_store *store, struct rsap_squat_judge **out)
{
        struct rsap_squat_judge *judge = calloc(1, sizeof(*judge));
        int r;

        *out = NULL;
        if (!judge)
                return -ENOMEM;
        r = rsap_audit_read(store, &judge->facts);
        if (r == 0) {
                judge->state.facts = judge->facts;
                r = index_facts(&judge->state.index, judge->facts);
        }
        if (r < 0) {
                rsap_squat_judge_free(judge);
                return r;
        }
        *out = judge;
        return 0;
}

/* How far up a process's parents a lease's holder is looked for. */
#define HOLDER_ANCESTRY_MAX 64

/* pid is holder or one of its descendants: a lease taken by a shell covers what it runs. */
static bool descends_from(pid_t pid, pid_t holder)
{
        for (int depth = 0; pid > 1 && depth < HOLDER_ANCESTRY_MAX; depth++) {
                struct rsap_proc_stat st;

                if (pid == holder)
                        return true;
                if (rsap_proc_stat(-1, pid, &st) < 0)
                        return false;
                pid = st.ppid;
        }
        return pid == holder;
}

static bool lease_covers(const struct held *lease, const struct rsap_listen_owner *owner)
{
        if (lease->service && rsap_name_equal(owner->command, lease->service))
                return true;
        return lease->pid > 0 && lease->holder_here && descends_from(owner->pid, lease->pid);
}

/* Whether an owner of sock is the holding's own: its service, or its lease's holder. */
static bool held_by_owner(const struct held *held, const struct rsap_listen_socket *sock)
{
        for (size_t o = 0; o < sock->n_owners; o++) {
                const struct rsap_listen_owner *owner = &sock->owners[o];

                if (held->assignment_id ? rsap_name_equal(owner->command, held->service)
                                        : lease_covers(held, owner))
                        return true;
        }
        return false;
}

static void judge_held(const struct held *held, const struct rsap_listen_socket *sock,
                       struct rsap_squat_verdict *out)
{
        /* Nobody visible: nothing to say, never a guess. */
        if (sock->n_owners == 0 || held_by_owner(held, sock))
                return;
        out->service = held->service;
        if (held->assignment_id) {
                out->kind = RSAP_SQUAT_ASSIGNED_TO_OTHER;
                out->assignment_id = held->assignment_id;
        } else {
                out->kind = RSAP_SQUAT_LEASED_TO_OTHER;
                out->lease_id = held->lease_id;
        }
}

int rsap_squat_classify(const struct rsap_squat_judge *judge, const struct rsap_iana *iana,
                        const struct rsap_host *host, const struct rsap_listen_socket *sock,
                        struct rsap_squat_verdict *out)
{
        const struct held *held;

        *out = (struct rsap_squat_verdict){ .kind = RSAP_SQUAT_NONE };
        if (!judge || !sock)
                return -EINVAL;
        held = held_for(&judge->state, sock->port, sock->proto);
        if (held)
                judge_held(held, sock, out);
        else if (!rsap_listen_port_registered(iana, sock->port, sock->proto) &&
                 !(host && is_client_socket(host, sock)))
                out->kind = RSAP_SQUAT_UNREGISTERED;
        return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Free ports: what this host and the registries leave free, for rsap pick,
 * for requests that let the registry choose (--any), and for leases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "workflow_internal.h"

/* ---- this host -------------------------------------------------------------- */

#define EPHEMERAL_RANGE_PATH "/proc/sys/net/ipv4/ip_local_port_range"

int rsap_host_read_ephemeral(const char *path, uint16_t *low, uint16_t *high)
{
        _cleanup_(fclosep) FILE *f = fopen(path ? path : EPHEMERAL_RANGE_PATH, "re");
        unsigned a, b;

        if (!f)
                return -errno;
        if (fscanf(f, "%u %u", &a, &b) != 2 || a > b || b > UINT16_MAX)
                return -EBADMSG;
        *low = (uint16_t)a;
        *high = (uint16_t)b;
        return 0;
}

bool rsap_host_listening(const struct rsap_host *host, uint16_t port, enum rsap_proto proto)
{
        const struct rsap_listen_list *list = host ? host->listeners : NULL;

        if (!list)
                return false;
        for (size_t i = 0; i < list->count; i++)
                if (list->sockets[i].port == port && list->sockets[i].proto == proto)
                        return true;
        return false;
}

/*
 * The "bad ports" of the Fetch standard (https://fetch.spec.whatwg.org/#port-blocking,
 * the table under "A port is a bad port if it is listed in the first column"),
 * checked against the standard's text and web-platform-tests'
 * fetch/api/request/request-bad-port.any.js.  Port 0 joined the list in 2024.
 */
static const uint16_t browser_bad_ports[] = {
        0,    1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,   25,
        37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,  103,  104,  109,
        110,  111,  113,  115,  117,  119,  123,  135,  137,  139,  143,  161,  179,  389,
        427,  465,  512,  513,  514,  515,  526,  530,  531,  532,  540,  548,  554,  556,
        563,  587,  601,  636,  989,  990,  993,  995,  1719, 1720, 1723, 2049, 3659, 4045,
        4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
};

bool rsap_port_browser_blocked(uint16_t port)
{
        size_t low = 0, high = ARRAY_SIZE(browser_bad_ports);

        while (low < high) {
                size_t mid = low + (high - low) / 2;

                if (browser_bad_ports[mid] == port)
                        return true;
                if (browser_bad_ports[mid] < port)
                        low = mid + 1;
                else
                        high = mid;
        }
        return false;
}

/* ---- the local registry's share ------------------------------------------------ */

/*
 * The local registry's share of a range, by kind.  Each kind is read from
 * where it is few or summed up: assignments from held_bits (a row per 64
 * ports), leases from the active ones, running quarantines by their end,
 * pending requests from their partial index.  None walks every holding.
 */
struct local_taken {
        struct rsap_port_set assigned, leased, quarantined, requested;
};

struct taken_sets {
        unsigned mask;
        int64_t except_request;
        struct rsap_port_set *set;
        struct rsap_store *store;
};

static int add_lease_holding(const struct store_holding *h, void *arg)
{
        struct taken_sets *t = arg;

        if (!(t->mask & (1u << h->proto)))
                return 0;
        /* A lease past its TTL or its holder frees the port; a write
         * transaction that takes the port ends it (lease.c). */
        if (!lease_is_live(t->store, h->expires_us, h->pid, h->pid_start, h->host))
                return 0;
        rsap_port_set_add(t->set, h->port);
        return 0;
}

static int add_quarantine(const struct store_quarantine *q, void *arg)
{
        struct taken_sets *t = arg;

        if (t->mask & (1u << q->proto))
                rsap_port_set_add(t->set, q->port);
        return 0;
}

static int add_request(const struct store_pending *p, void *arg)
{
        struct taken_sets *t = arg;

        if (p->port >= 0 && p->id != t->except_request && (p->protocols & t->mask))
                rsap_port_set_add(t->set, (uint16_t)p->port);
        return 0;
}

static int local_taken_by_kind(struct rsap_store *store, uint16_t low, uint16_t high,
                               unsigned mask, int64_t except_request, struct local_taken *t)
{
        struct taken_sets leased = { mask, 0, &t->leased, store };
        struct taken_sets quarantined = { mask, 0, &t->quarantined, store };
        struct taken_sets requested = { mask, except_request, &t->requested, store };
        int r;

        memset(t, 0, sizeof(*t));
        if (!store)
                return 0;
        r = STORE_OP(store, assigned_ports)(store, low, high, mask, &t->assigned);
        if (r == 0)
                r = STORE_OP(store, lease_holdings)(store, low, high, add_lease_holding, &leased);
        if (r == 0)
                r = STORE_OP(store, quarantines)(store, low, high, RSAP_PROTO_NONE,
                                                 rsap_store_now(store), add_quarantine,
                                                 &quarantined);
        if (r == 0)
                r = STORE_OP(store, pending)(store, low, high, NULL, add_request, &requested);
        return r;
}

static void local_taken_union(const struct local_taken *t, struct rsap_port_set *taken)
{
        for (size_t i = 0; i < ARRAY_SIZE(taken->words); i++)
                taken->words[i] = t->assigned.words[i] | t->leased.words[i] |
                                  t->quarantined.words[i] | t->requested.words[i];
}

int local_taken_ports(struct rsap_store *store, uint16_t low, uint16_t high, unsigned mask,
                      int64_t except_request, struct rsap_port_set *taken)
{
        _cleanup_(freep) struct local_taken *t = malloc(sizeof(*t));
        int r;

        if (!t)
                return -ENOMEM;
        r = local_taken_by_kind(store, low, high, mask, except_request, t);
        if (r == 0)
                local_taken_union(t, taken);
        return r;
}

/* ---- the rules ------------------------------------------------------------------- */

static bool iana_leaves_free(const struct rsap_iana *iana, uint16_t port, unsigned mask)
{
        if (!iana)
                return true;
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                if ((mask & (1u << p)) &&
                    rsap_iana_port_status(iana, port, (enum rsap_proto)p) !=
                            RSAP_STATUS_UNASSIGNED)
                        return false;
        return true;
}

/*
 * The ports a socket of the host listens on, on a protocol of mask, for
 * the walks over a range: a busy host has thousands of sockets, too many
 * to walk for each port.
 */
static struct rsap_port_set *listening_ports(const struct rsap_host *host, unsigned mask)
{
        const struct rsap_listen_list *list = host ? host->listeners : NULL;
        struct rsap_port_set *set = calloc(1, sizeof(*set));

        for (size_t i = 0; set && list && i < list->count; i++)
                if (mask & (1u << list->sockets[i].proto))
                        rsap_port_set_add(set, list->sockets[i].port);
        return set;
}

/* listening: listening_ports() of the same mask, or NULL to ask the list. */
static bool host_listens(const struct rsap_host *host, const struct rsap_port_set *listening,
                         uint16_t port, unsigned mask)
{
        if (listening)
                return rsap_port_set_has(listening, port);
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                if ((mask & (1u << p)) && rsap_host_listening(host, port, (enum rsap_proto)p))
                        return true;
        return false;
}

static bool host_leaves_free(const struct rsap_host *host, const struct rsap_port_set *listening,
                             uint16_t port, unsigned mask)
{
        if (!host)
                return true;
        if (host->have_ephemeral && port >= host->ephemeral_low && port <= host->ephemeral_high)
                return false;
        return !host_listens(host, listening, port, mask);
}

bool port_is_free(const struct rsap_workflow *wf, const struct rsap_port_set *taken,
                  const struct rsap_port_set *listening, uint16_t port, unsigned mask,
                  bool allow_iana)
{
        /* Port 0 asks the kernel for any port: it names no service. */
        if (port == 0 || rsap_port_browser_blocked(port))
                return false;
        if (rsap_port_set_has(taken, port))
                return false;
        if (!allow_iana && !iana_leaves_free(wf->iana, port, mask))
                return false;
        return host_leaves_free(wf->host, listening, port, mask);
}

int first_free_port(const struct rsap_workflow *wf, uint16_t low, uint16_t high,
                    uint16_t start, unsigned mask, int64_t except_request, uint16_t *port_out)
{
        _cleanup_(freep) struct rsap_port_set *taken = malloc(sizeof(*taken));
        _cleanup_(freep) struct rsap_port_set *listening = listening_ports(wf->host, mask);
        uint32_t span = (uint32_t)high - low + 1;
        int r;

        if (!taken || !listening)
                return -ENOMEM;
        r = local_taken_ports(wf->store, low, high, mask, except_request, taken);
        if (r < 0)
                return r;
        if (start < low || start > high)
                start = low;
        r = -EADDRNOTAVAIL;
        for (uint32_t i = 0; i < span; i++) {
                uint16_t port = (uint16_t)(low + ((uint32_t)(start - low) + i) % span);

                if (port_is_free(wf, taken, listening, port, mask, false)) {
                        *port_out = port;
                        return 0;
                }
        }
        return r;
}

/* A number in [0, bound) with every value equally likely (rejection
 * sampling: a plain modulo would favour the low values). */
static uint32_t uniform_below(uint32_t bound)
{
        uint32_t limit = UINT32_MAX - UINT32_MAX % bound, value;

        do {
                if (getrandom(&value, sizeof(value), 0) != sizeof(value))
                        value = (uint32_t)random();
        } while (value >= limit);
        return value % bound;
}

/* Every free port of the range, one drawn with every one equally likely. */
static int draw_from_all(const struct rsap_workflow *wf, uint16_t low, uint16_t high,
                         unsigned mask, uint16_t *port_out)
{
        _cleanup_(freep) struct rsap_port_set *taken = malloc(sizeof(*taken));
        _cleanup_(freep) struct rsap_port_set *free_ports = calloc(1, sizeof(*free_ports));
        _cleanup_(freep) struct rsap_port_set *listening = listening_ports(wf->host, mask);
        uint32_t n_free = 0, wanted;
        int r;

        if (!taken || !free_ports || !listening)
                return -ENOMEM;
        r = local_taken_ports(wf->store, low, high, mask, 0, taken);
        if (r < 0)
                return r;
        for (uint32_t port = low; port <= high; port++) {
                if (port_is_free(wf, taken, listening, (uint16_t)port, mask, false)) {
                        rsap_port_set_add(free_ports, (uint16_t)port);
                        n_free++;
                }
        }
        if (n_free == 0)
                return -EADDRNOTAVAIL;
        /* Every free port equally likely: a random start followed by a scan
         * would favour the port after a long taken run. */
        wanted = uniform_below(n_free);
        for (uint32_t port = low; port <= high; port++) {
                if (rsap_port_set_has(free_ports, (uint16_t)port) && wanted-- == 0) {
                        *port_out = (uint16_t)port;
                        return 0;
                }
        }
        return -EADDRNOTAVAIL; /* not reached */
}

/* The rules for one port, the local registry asked about that port alone. */
static int candidate_is_free(const struct rsap_workflow *wf, uint16_t port, unsigned mask,
                             struct rsap_port_set *scratch)
{
        static const struct rsap_port_set nothing_taken;
        int r;

        if (!port_is_free(wf, &nothing_taken, NULL, port, mask, false))
                return 0;
        r = local_taken_ports(wf->store, port, port, mask, 0, scratch);
        if (r < 0)
                return r;
        return !rsap_port_set_has(scratch, port);
}

/* Draws before the range is read whole: a range a quarter free misses 64 times
 * in a row once in 10^8 leases. */
#define RANDOM_DRAWS 64

int random_free_port(const struct rsap_workflow *wf, uint16_t low, uint16_t high,
                     unsigned mask, uint16_t *port_out)
{
        _cleanup_(freep) struct rsap_port_set *scratch = malloc(sizeof(*scratch));
        uint32_t span = (uint32_t)high - low + 1;

        if (!scratch)
                return -ENOMEM;
        /*
         * Rejection sampling: a port drawn uniformly from the range and kept
         * only when free is uniform over the free ports, and each draw asks
         * the registry about one port.  After RANDOM_DRAWS misses, a draw
         * from every free port (uniform too): whichever way it ends, each
         * free port is equally likely.
         */
        for (int i = 0; i < RANDOM_DRAWS; i++) {
                uint16_t port = (uint16_t)(low + uniform_below(span));
                int r = candidate_is_free(wf, port, mask, scratch);

                if (r < 0)
                        return r;
                if (r > 0) {
                        *port_out = port;
                        return 0;
                }
        }
        return draw_from_all(wf, low, high, mask, port_out);
}

/* ---- rsap pick -------------------------------------------------------------------- */

static bool host_ephemeral(const struct rsap_host *host, uint16_t port)
{
        return host && host->have_ephemeral && port >= host->ephemeral_low &&
               port <= host->ephemeral_high;
}

/* The first rule, in port_is_free()'s order, that keeps a port from being picked. */
static size_t *exclusion_counter(const struct rsap_workflow *wf, const struct local_taken *t,
                                 const struct rsap_port_set *listening, uint16_t port,
                                 const struct rsap_pick_options *o,
                                 struct rsap_pick_exclusions *x)
{
        if (port == 0 || rsap_port_browser_blocked(port))
                return &x->browser;
        if (rsap_port_set_has(&t->assigned, port))
                return &x->local_assignment;
        if (rsap_port_set_has(&t->leased, port))
                return &x->lease;
        if (rsap_port_set_has(&t->requested, port))
                return &x->request;
        if (rsap_port_set_has(&t->quarantined, port))
                return &x->quarantine;
        if (!o->allow_iana && !iana_leaves_free(wf->iana, port, o->protocols))
                return &x->iana;
        if (host_ephemeral(wf->host, port))
                return &x->ephemeral;
        if (!host_leaves_free(wf->host, listening, port, o->protocols))
                return &x->listening;
        return NULL;
}

/* Counts, for each rule, the ports of the range it alone keeps from the pick. */
static void count_exclusions(const struct rsap_workflow *wf, const struct local_taken *t,
                             const struct rsap_port_set *listening,
                             const struct rsap_pick_options *o, struct rsap_pick_exclusions *x)
{
        memset(x, 0, sizeof(*x));
        for (uint32_t port = o->low; port <= o->high; port++) {
                size_t *counter = exclusion_counter(wf, t, listening, (uint16_t)port, o, x);

                if (counter)
                        (*counter)++;
        }
}

static void pick_defaults(const struct rsap_pick_options *in, struct rsap_pick_options *out)
{
        *out = *in;
        if (out->low == 0 && out->high == 0) {
                out->low = RSAP_DEFAULT_ANY_LOW;
                out->high = RSAP_DEFAULT_ANY_HIGH;
        }
        if (out->protocols == 0)
                out->protocols = TCP_AND_UDP;
        if (out->count == 0)
                out->count = 1;
}

int rsap_pick(const struct rsap_workflow *wf, const struct rsap_pick_options *options,
              struct rsap_pick *out)
{
        _cleanup_(freep) struct rsap_port_set *taken = malloc(sizeof(*taken));
        _cleanup_(freep) struct local_taken *t = malloc(sizeof(*t));
        _cleanup_(freep) struct rsap_port_set *listening = NULL;
        struct rsap_pick_options o;
        int r;

        memset(out, 0, sizeof(*out));
        pick_defaults(options, &o);
        out->options = o;
        listening = listening_ports(wf->host, o.protocols);
        if (!taken || !t || !listening)
                return -ENOMEM;
        if (o.low > o.high || o.count > 65536)
                return -EINVAL;
        /* Read once: the ports picked and the counts of why the others were not. */
        r = local_taken_by_kind(wf->store, o.low, o.high, o.protocols, 0, t);
        if (r < 0)
                return r;
        local_taken_union(t, taken);
        out->ports = calloc(o.count, sizeof(*out->ports));
        if (!out->ports)
                return -ENOMEM;
        for (uint32_t port = o.low; port <= o.high && out->n_ports < o.count; port++)
                if (port_is_free(wf, taken, listening, (uint16_t)port, o.protocols,
                                 o.allow_iana))
                        out->ports[out->n_ports++] = (uint16_t)port;
        count_exclusions(wf, t, listening, &o, &out->excluded);
        return 0;
}

void rsap_pick_clear(struct rsap_pick *p)
{
        free(p->ports);
        memset(p, 0, sizeof(*p));
}

/* SPDX-License-Identifier: MIT */
/*
 * A listener list as a value: made empty, filled socket by socket with
 * copies of what the caller gives, sorted, and compared.  What a list copies
 * lives in blocks it frees with itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rsap/listen.h>

#include <rsap/basic.h>

#include "listen_internal.h"

/* ---- storage ------------------------------------------------------------ */

/* Takes block into the list's keeping; frees it on failure.  NULL stays NULL. */
void *rsap_listen_keep(struct rsap_listen_list *list, void *block)
{
        if (!block)
                return NULL;
        if (rsap_grow(&list->blocks, &list->blocks_capacity, list->n_blocks + 1,
                      sizeof(*list->blocks)) < 0) {
                free(block);
                return NULL;
        }
        list->blocks[list->n_blocks++] = block;
        return block;
}

/* A copy of text the list keeps; the last copy again when it is the same
 * text, as the host and the users of consecutive sockets mostly are.  0 or
 * -ENOMEM; NULL copies as NULL. */
int rsap_listen_keep_string(struct rsap_listen_list *list, const char *text, const char **out)
{
        if (!text) {
                *out = NULL;
                return 0;
        }
        if (list->last_string && strcmp(list->last_string, text) == 0) {
                *out = list->last_string;
                return 0;
        }
        *out = rsap_listen_keep(list, strdup(text));
        if (!*out)
                return -ENOMEM;
        list->last_string = *out;
        return 0;
}

void rsap_listen_blocks_free(struct rsap_listen_list *list)
{
        for (size_t i = 0; i < list->n_blocks; i++)
                free(list->blocks[i]);
        free(list->blocks);
}

int rsap_listen_list_new(struct rsap_listen_list **out)
{
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : -ENOMEM;
}

/* ---- adding ------------------------------------------------------------- */

static int copy_owners(struct rsap_listen_list *list, struct rsap_listen_socket *to,
                       const struct rsap_listen_socket *from)
{
        struct rsap_listen_owner *owners;

        to->owners = NULL;
        to->n_owners = 0;
        if (from->n_owners == 0)
                return 0;
        owners = rsap_listen_keep(list, calloc(from->n_owners, sizeof(*owners)));
        if (!owners)
                return -ENOMEM;
        for (size_t i = 0; i < from->n_owners; i++) {
                owners[i] = from->owners[i];
                owners[i].command[RSAP_LISTEN_COMMAND_SIZE - 1] = '\0';
                if (rsap_listen_keep_string(list, from->owners[i].user, &owners[i].user) < 0 ||
                    rsap_listen_keep_string(list, from->owners[i].container,
                                            &owners[i].container) < 0 ||
                    rsap_listen_keep_string(list, from->owners[i].container_name,
                                            &owners[i].container_name) < 0)
                        return -ENOMEM;
        }
        to->owners = owners;
        to->n_owners = from->n_owners;
        return 0;
}

/* The forward, if any, and its strings, into the list's keeping. */
static int copy_forward(struct rsap_listen_list *list, struct rsap_listen_socket *s)
{
        struct rsap_listen_forward *fw;
        int r;

        if (!s->forward)
                return 0;
        fw = rsap_listen_keep(list, malloc(sizeof(*fw)));
        if (!fw)
                return -ENOMEM;
        *fw = *s->forward;
        fw->target_address[sizeof(fw->target_address) - 1] = '\0';
        s->forward = fw;
        r = rsap_listen_keep_string(list, fw->via, &fw->via);
        if (r == 0)
                r = rsap_listen_keep_string(list, fw->table, &fw->table);
        if (r == 0)
                r = rsap_listen_keep_string(list, fw->target_netns_name, &fw->target_netns_name);
        if (r == 0)
                r = rsap_listen_keep_string(list, fw->target_container, &fw->target_container);
        return r;
}

static int copy_strings(struct rsap_listen_list *list, struct rsap_listen_socket *s)
{
        int r = copy_forward(list, s);

        if (r == 0)
                r = rsap_listen_keep_string(list, s->user, &s->user);

        if (r == 0)
                r = rsap_listen_keep_string(list, s->origin.host, &s->origin.host);
        if (r == 0)
                r = rsap_listen_keep_string(list, s->origin.netns_name, &s->origin.netns_name);
        return r;
}

int rsap_listen_list_add(struct rsap_listen_list *list, const struct rsap_listen_socket *s)
{
        struct rsap_listen_socket copy = *s;
        int r;

        if (s->proto < RSAP_TRANSPORTS_FIRST || s->proto > RSAP_TRANSPORTS_LAST ||
            (s->family != AF_INET && s->family != AF_INET6) || !s->origin.host)
                return -EINVAL;
        /* The text from the bytes: the two can then never disagree. */
        if (!inet_ntop(s->family, s->addr, copy.address, sizeof(copy.address)))
                return -EINVAL;
        if (s->family == AF_INET)
                memset(copy.addr + 4, 0, sizeof(copy.addr) - 4);
        copy.interface[sizeof(copy.interface) - 1] = '\0';
        r = copy_owners(list, &copy, s);
        if (r == 0)
                r = copy_strings(list, &copy);
        if (r == 0 && rsap_grow(&list->sockets, &list->capacity, list->count + 1,
                                sizeof(*list->sockets)) < 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        list->sockets[list->count++] = copy;
        return 0;
}

/* ---- selecting ---------------------------------------------------------- */

static bool held_by(const struct rsap_listen_socket *s, pid_t pid)
{
        for (size_t i = 0; i < s->n_owners; i++)
                if (s->owners[i].pid == pid)
                        return true;
        return false;
}

static bool selected(const struct rsap_listen_filter *f, const struct rsap_listen_socket *s)
{
        if (f->protocols && !(f->protocols & (1u << s->proto)))
                return false;
        if (s->port < f->port_low || s->port > f->port_high)
                return false;
        if (f->match_uid && s->uid != f->uid)
                return false;
        return !f->match_pid || held_by(s, f->pid);
}

/* s as the list takes it: without owners when none are wanted. */
static int add_selected(struct rsap_listen_list *list, const struct rsap_listen_socket *s)
{
        struct rsap_listen_socket bare;

        if (list->owners_looked_up)
                return rsap_listen_list_add(list, s);
        bare = *s;
        bare.owners = NULL;
        bare.n_owners = 0;
        bare.owners_hidden = false;
        return rsap_listen_list_add(list, &bare);
}

int rsap_listen_list_select(const struct rsap_listen_list *from,
                            const struct rsap_listen_filter *f, struct rsap_listen_list **out)
{
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *list = NULL;
        int r;

        if (f->match_pid && !from->owners_looked_up)
                return -EINVAL;
        r = rsap_listen_list_new(&list);
        if (r < 0)
                return r;
        list->source = from->source;
        list->owners_looked_up = f->find_owners && from->owners_looked_up;
        if (list->owners_looked_up)
                list->unreadable_processes = from->unreadable_processes;
        for (size_t i = 0; r == 0 && i < from->count; i++)
                if (selected(f, &from->sockets[i]))
                        r = add_selected(list, &from->sockets[i]);
        if (r < 0)
                return r;
        *out = TAKE_PTR(list);
        return 0;
}

/* ---- sorting ------------------------------------------------------------ */

static int compare_strings(const char *x, const char *y)
{
        if (!x || !y)
                return (x != NULL) - (y != NULL);
        return strcmp(x, y);
}

/* Sockets of many hosts or namespaces in one list: the same inode and port
 * may then come twice. */
static int compare_origins(const struct rsap_listen_origin *x, const struct rsap_listen_origin *y)
{
        int c = compare_strings(x->host, y->host);

        if (c == 0)
                c = (x->netns_inode > y->netns_inode) - (x->netns_inode < y->netns_inode);
        if (c == 0)
                c = compare_strings(x->netns_name, y->netns_name);
        return c;
}

static int compare_sockets(const struct rsap_listen_socket *x, const struct rsap_listen_socket *y)
{
        int c;

        if (x->proto != y->proto)
                return x->proto < y->proto ? -1 : 1;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        if (x->family != y->family)
                return x->family == AF_INET ? -1 : 1;
        c = memcmp(x->addr, y->addr, sizeof(x->addr));
        if (c == 0)
                c = strcmp(x->interface, y->interface);
        if (c == 0)
                c = (x->inode > y->inode) - (x->inode < y->inode);
        if (c == 0)
                c = compare_origins(&x->origin, &y->origin);
        return c;
}

/* The order's leading fields packed in one integer, so that most
 * comparisons need not reach into the sockets. */
struct sort_entry {
        uint64_t key;
        const struct rsap_listen_socket *s;
};

static uint64_t sort_key(const struct rsap_listen_socket *s)
{
        return (uint64_t)s->proto << 56 | (uint64_t)s->port << 40 |
               (uint64_t)(s->family != AF_INET) << 32 |
               (uint64_t)s->addr[0] << 24 | (uint64_t)s->addr[1] << 16 |
               (uint64_t)s->addr[2] << 8 | s->addr[3];
}

static int compare_entries(const void *a, const void *b)
{
        const struct sort_entry *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return compare_sockets(x->s, y->s);
}

/* Puts the socket at order[k].s into position k for every k, in place:
 * each cycle of the permutation is followed once, with one socket aside. */
static void permute(struct rsap_listen_list *list, struct sort_entry *order)
{
        struct rsap_listen_socket *base = list->sockets;

        for (size_t i = 0; i < list->count; i++) {
                struct rsap_listen_socket held;
                size_t j = i;

                if (order[i].s == &base[i])
                        continue;
                held = base[i];
                while (order[j].s != &base[i]) {
                        size_t from = (size_t)(order[j].s - base);

                        base[j] = base[from];
                        order[j].s = &base[j]; /* placed */
                        j = from;
                }
                base[j] = held;
                order[j].s = &base[j];
        }
}

/* Sorts entries by key, least significant byte first, through tmp: eight
 * counting passes over the entries, none for a byte that every key shares
 * (the protocol, an address's first bytes), in place of qsort's million
 * calls to a comparison for 50,000 sockets. */
static void radix_sort_keys(struct sort_entry *order, struct sort_entry *tmp, size_t n)
{
        size_t counts[8][256] = { { 0 } };
        struct sort_entry *from = order, *to = tmp, *swap;

        for (size_t i = 0; i < n; i++)
                for (unsigned b = 0; b < 8; b++)
                        counts[b][order[i].key >> (8 * b) & 0xff]++;
        for (unsigned b = 0; b < 8; b++) {
                size_t at = 0;

                if (counts[b][order[0].key >> (8 * b) & 0xff] == n)
                        continue; /* one value: the pass would change nothing */
                for (unsigned v = 0; v < 256; v++) {
                        size_t c = counts[b][v];

                        counts[b][v] = at;
                        at += c;
                }
                for (size_t i = 0; i < n; i++)
                        to[counts[b][from[i].key >> (8 * b) & 0xff]++] = from[i];
                swap = from;
                from = to;
                to = swap;
        }
        if (from != order)
                memcpy(order, from, n * sizeof(*order));
}

/* Entries of one key (IPv6 sockets of a port whose addresses share their
 * first four bytes) in the whole order. */
static void sort_equal_keys(struct sort_entry *order, size_t n)
{
        for (size_t first = 0, end; first < n; first = end) {
                for (end = first + 1; end < n && order[end].key == order[first].key; end++)
                        ;
                if (end - first > 1)
                        qsort(order + first, end - first, sizeof(*order), compare_entries);
        }
}

/* Sorts small entries, then moves each socket into place: a socket is too
 * big for qsort to shuffle cheaply, and a sorted copy of the list would
 * double its memory (50,000 sockets take 8 MiB). */
int rsap_listen_list_sort(struct rsap_listen_list *list)
{
        _cleanup_(freep) struct sort_entry *order = NULL;
        _cleanup_(freep) struct sort_entry *tmp = NULL;
        size_t n = list->count;

        if (n < 2)
                return 0;
        order = malloc(n * sizeof(*order));
        tmp = malloc(n * sizeof(*tmp));
        if (!order || !tmp)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = (struct sort_entry){ sort_key(&list->sockets[i]), &list->sockets[i] };
        radix_sort_keys(order, tmp, n);
        sort_equal_keys(order, n);
        permute(list, order);
        return 0;
}

/* ---- comparing ---------------------------------------------------------- */

static bool same_string(const char *x, const char *y)
{
        return compare_strings(x, y) == 0;
}

static bool same_owners(const struct rsap_listen_socket *x, const struct rsap_listen_socket *y)
{
        if (x->n_owners != y->n_owners || x->owners_hidden != y->owners_hidden)
                return false;
        for (size_t i = 0; i < x->n_owners; i++) {
                const struct rsap_listen_owner *a = &x->owners[i], *b = &y->owners[i];

                if (a->pid != b->pid || a->uid != b->uid || !same_string(a->user, b->user) ||
                    strcmp(a->command, b->command) != 0 ||
                    !same_string(a->container, b->container) ||
                    !same_string(a->container_name, b->container_name))
                        return false;
        }
        return true;
}

static bool same_forward(const struct rsap_listen_forward *x, const struct rsap_listen_forward *y)
{
        if (!x || !y)
                return x == y;
        return x->kind == y->kind && same_string(x->via, y->via) &&
               same_string(x->table, y->table) && x->target_family == y->target_family &&
               strcmp(x->target_address, y->target_address) == 0 &&
               x->target_port == y->target_port && x->target_port_high == y->target_port_high &&
               x->target_netns_inode == y->target_netns_inode &&
               same_string(x->target_netns_name, y->target_netns_name) &&
               same_string(x->target_container, y->target_container);
}

/* What the JSON of a socket shows, in a list of the given facts. */
static bool same_socket(const struct rsap_listen_list *list, const struct rsap_listen_socket *x,
                        const struct rsap_listen_socket *y)
{
        bool v6only_known = x->family == AF_INET6 && list->source == RSAP_LISTEN_SOURCE_NETLINK;

        if (compare_sockets(x, y) != 0 || x->uid != y->uid || !same_string(x->user, y->user) ||
            strcmp(x->address, y->address) != 0 || !same_forward(x->forward, y->forward))
                return false;
        if (v6only_known && x->v6only != y->v6only)
                return false;
        return !list->owners_looked_up || same_owners(x, y);
}

bool rsap_listen_list_equal(const struct rsap_listen_list *a, const struct rsap_listen_list *b)
{
        if (a->count != b->count || a->source != b->source ||
            a->owners_looked_up != b->owners_looked_up ||
            a->unreadable_processes != b->unreadable_processes)
                return false;
        for (size_t i = 0; i < a->count; i++)
                if (!same_socket(a, &a->sockets[i], &b->sockets[i]))
                        return false;
        return true;
}

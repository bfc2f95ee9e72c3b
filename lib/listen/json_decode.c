/* SPDX-License-Identifier: MIT */
/*
 * rsap_listen_list_from_json: a listener list back from its JSON, which may
 * come from another host and so is outside data.  Every field is checked
 * against what rsap_listen_list_to_json can write (types, bounds, an address
 * that parses for its family) and the first one wrong is named, with the
 * socket's index, in a one-line reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

struct decoder {
        char *reason;
        size_t reason_size;
        size_t socket;   /* the index being read; SIZE_MAX for the report's own fields */
        int source;      /* enum rsap_listen_source, or -1 while no socket has said */
        int owners;      /* owners looked up: 0 or 1, or -1 while no socket has said */
        char within[32]; /* the object inside the socket being read: "netns", "processes[2]" */
};

#define UNKNOWN (-1)

__attribute__((format(printf, 3, 4)))
static int refuse(struct decoder *d, const char *field, const char *fmt, ...)
{
        char what[160], where[80];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        /* "processes[2].pid", "processes[2]" or "port"; "" for the socket itself. */
        if (d->within[0] && field[0])
                snprintf(where, sizeof(where), "%s.%s", d->within, field);
        else
                snprintf(where, sizeof(where), "%s", field[0] ? field : d->within);
        if (d->socket != SIZE_MAX && !where[0])
                snprintf(d->reason, d->reason_size, "socket %zu: %s", d->socket, what);
        else if (d->socket == SIZE_MAX)
                snprintf(d->reason, d->reason_size, "%s: %s", where, what);
        else
                snprintf(d->reason, d->reason_size, "socket %zu: %s: %s", d->socket, where, what);
        return -EBADMSG;
}

/* ---- fields ------------------------------------------------------------- */

static int member(struct decoder *d, const json_t *object, const char *key, const json_t **out)
{
        *out = json_object_get(object, key);
        return *out ? 0 : refuse(d, key, "missing");
}

/* A string of min_len to max_len bytes without NUL, or NULL for null when
 * nullable. */
static int string_field(struct decoder *d, const json_t *object, const char *key,
                        size_t min_len, size_t max_len, bool nullable, const char **out)
{
        const json_t *v;
        size_t len;
        int r = member(d, object, key, &v);

        if (r < 0)
                return r;
        *out = NULL;
        if (json_is_null(v) && nullable)
                return 0;
        if (!json_is_string(v))
                return refuse(d, key, nullable ? "not a string or null" : "not a string");
        len = json_string_length(v);
        if (len != strlen(json_string_value(v)))
                return refuse(d, key, "holds a NUL character");
        if (len < min_len || len > max_len)
                return refuse(d, key, "not %zu to %zu bytes long", min_len, max_len);
        *out = json_string_value(v);
        return 0;
}

static int integer_field(struct decoder *d, const json_t *object, const char *key,
                         json_int_t min, json_int_t max, json_int_t *out)
{
        const json_t *v;
        int r = member(d, object, key, &v);

        if (r < 0)
                return r;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return refuse(d, key, "not an integer from %lld to %lld", (long long)min,
                              (long long)max);
        *out = json_integer_value(v);
        return 0;
}

/* true or false, or -1 for null when nullable. */
static int boolean_field(struct decoder *d, const json_t *object, const char *key,
                         bool nullable, int *out)
{
        const json_t *v;
        int r = member(d, object, key, &v);

        if (r < 0)
                return r;
        if (json_is_null(v) && nullable) {
                *out = -1;
                return 0;
        }
        if (!json_is_boolean(v))
                return refuse(d, key, nullable ? "not a boolean or null" : "not a boolean");
        *out = json_is_true(v);
        return 0;
}

/* A fact of the whole list that each socket shows: the first to show it
 * sets it, the others must agree. */
static int agree(struct decoder *d, int *fact, int value, const char *field)
{
        if (*fact == UNKNOWN)
                *fact = value;
        else if (*fact != value)
                return refuse(d, field, "disagrees with the rest of the list");
        return 0;
}

/* ---- a socket ----------------------------------------------------------- */

#define MAX_UID ((json_int_t)UINT32_MAX - 1) /* (uid_t)-1 is no uid */
#define MAX_INODE ((json_int_t)UINT32_MAX)   /* sock_diag and nsfs inodes are 32 bits */

static int protocol_and_family(struct decoder *d, const json_t *o, struct rsap_listen_socket *s)
{
        const char *proto, *family;
        int r = string_field(d, o, "protocol", 1, 8, false, &proto);

        if (r < 0)
                return r;
        s->proto = RSAP_PROTO_NONE;
        for (enum rsap_proto p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                if (strcmp(proto, rsap_proto_name(p)) == 0)
                        s->proto = p;
        if (s->proto == RSAP_PROTO_NONE)
                return refuse(d, "protocol", "not tcp, udp, sctp or dccp");
        r = string_field(d, o, "family", 1, 8, false, &family);
        if (r < 0)
                return r;
        if (strcmp(family, "ipv4") != 0 && strcmp(family, "ipv6") != 0)
                return refuse(d, "family", "not ipv4 or ipv6");
        s->family = strcmp(family, "ipv4") == 0 ? AF_INET : AF_INET6;
        return 0;
}

static int address_and_interface(struct decoder *d, const json_t *o, struct rsap_listen_socket *s)
{
        const char *address, *interface;
        int r = string_field(d, o, "address", 1, sizeof(s->address) - 1, false, &address);

        if (r < 0)
                return r;
        if (inet_pton(s->family, address, s->addr) != 1)
                return refuse(d, "address", "not an %s address",
                              s->family == AF_INET ? "IPv4" : "IPv6");
        r = string_field(d, o, "interface", 1, sizeof(s->interface) - 1, true, &interface);
        if (r == 0 && interface)
                memcpy(s->interface, interface, strlen(interface) + 1);
        return r;
}

/* Null for IPv4; for IPv6 a boolean from netlink, null from /proc/net. */
static int ipv6_only(struct decoder *d, const json_t *o, struct rsap_listen_socket *s)
{
        int v6only, r = boolean_field(d, o, "ipv6_only", true, &v6only);

        if (r < 0)
                return r;
        if (s->family == AF_INET)
                return v6only < 0 ? 0 : refuse(d, "ipv6_only", "not null for IPv4");
        s->v6only = v6only > 0;
        return agree(d, &d->source, v6only < 0 ? RSAP_LISTEN_SOURCE_PROCFS
                                               : RSAP_LISTEN_SOURCE_NETLINK, "ipv6_only");
}

static int port_uid_user_inode(struct decoder *d, const json_t *o, struct rsap_listen_socket *s)
{
        json_int_t port, uid, inode;
        int r = integer_field(d, o, "port", 0, UINT16_MAX, &port);

        if (r == 0)
                r = integer_field(d, o, "uid", 0, MAX_UID, &uid);
        if (r == 0)
                r = string_field(d, o, "user", 1, RSAP_LISTEN_JSON_MAX_STRING, true, &s->user);
        if (r == 0)
                r = integer_field(d, o, "inode", 0, MAX_INODE, &inode);
        if (r < 0)
                return r;
        s->port = (uint16_t)port;
        s->uid = (uid_t)uid;
        s->inode = (uint64_t)inode;
        return 0;
}

static int host_and_netns(struct decoder *d, const json_t *o, struct rsap_listen_socket *s)
{
        const json_t *netns = NULL;
        json_int_t inode;
        int r = string_field(d, o, "host", 1, RSAP_LISTEN_JSON_MAX_STRING, false,
                             &s->origin.host);

        if (r == 0)
                r = member(d, o, "netns", &netns);
        if (r < 0 || json_is_null(netns))
                return r;
        if (!json_is_object(netns))
                return refuse(d, "netns", "not an object or null");
        snprintf(d->within, sizeof(d->within), "netns");
        r = integer_field(d, netns, "inode", 1, MAX_INODE, &inode);
        if (r == 0)
                r = string_field(d, netns, "name", 1, RSAP_LISTEN_JSON_MAX_STRING, true,
                                 &s->origin.netns_name);
        if (r == 0 && s->origin.netns_name && strchr(s->origin.netns_name, '/'))
                r = refuse(d, "name", "holds a '/': not a name under /run/netns");
        d->within[0] = '\0';
        s->origin.netns_inode = (uint64_t)inode;
        return r;
}

/* A nullable integer of min to max: 0 for null. */
static int optional_integer(struct decoder *d, const json_t *o, const char *key, json_int_t min,
                            json_int_t max, json_int_t *out)
{
        const json_t *v;
        int r = member(d, o, key, &v);

        *out = 0;
        if (r < 0 || json_is_null(v))
                return r;
        return integer_field(d, o, key, min, max, out);
}

static int forward_target(struct decoder *d, const json_t *p, struct rsap_listen_forward *fw)
{
        const char *address;
        json_int_t port = 0, high = 0;
        int r = string_field(d, p, "target_address", 1, sizeof(fw->target_address) - 1, true,
                             &address);

        if (r == 0 && address) {
                fw->target_family = strchr(address, ':') ? AF_INET6 : AF_INET;
                if (inet_pton(fw->target_family, address, fw->target_addr) != 1)
                        return refuse(d, "target_address", "not an IP address");
                inet_ntop(fw->target_family, fw->target_addr, fw->target_address,
                          sizeof(fw->target_address));
        }
        if (r == 0)
                r = optional_integer(d, p, "target_port", 1, UINT16_MAX, &port);
        if (r == 0)
                r = optional_integer(d, p, "target_port_high", port ? port : 0,
                                     port ? UINT16_MAX : 0, &high);
        fw->target_port = (uint16_t)port;
        fw->target_port_high = (uint16_t)high;
        return r;
}

static int forward_place(struct decoder *d, const json_t *p, struct rsap_listen_forward *fw)
{
        const json_t *netns;
        json_int_t inode;
        int r = member(d, p, "target_netns", &netns);

        if (r == 0 && !json_is_null(netns)) {
                if (!json_is_object(netns))
                        return refuse(d, "target_netns", "not an object or null");
                r = integer_field(d, netns, "inode", 1, MAX_INODE, &inode);
                if (r == 0)
                        r = string_field(d, netns, "name", 1, RSAP_LISTEN_JSON_MAX_STRING, true,
                                         &fw->target_netns_name);
                fw->target_netns_inode = (uint64_t)inode;
        }
        if (r == 0)
                r = string_field(d, p, "target_container", 1, RSAP_LISTEN_JSON_MAX_CONTAINER,
                                 true, &fw->target_container);
        return r;
}

/* "published": null, or what forwards the port; reports from before it
 * have no key. */
static int published(struct decoder *d, const json_t *o, struct rsap_listen_socket *s,
                     struct rsap_listen_forward *fw)
{
        const json_t *p = json_object_get(o, "published");
        const char *kind;
        int r;

        if (!p || json_is_null(p))
                return 0;
        if (!json_is_object(p))
                return refuse(d, "published", "not an object or null");
        snprintf(d->within, sizeof(d->within), "published");
        r = string_field(d, p, "kind", 1, 8, false, &kind);
        if (r == 0 && strcmp(kind, "dnat") != 0 && strcmp(kind, "proxy") != 0)
                r = refuse(d, "kind", "not dnat or proxy");
        if (r == 0) {
                fw->kind = strcmp(kind, "dnat") == 0 ? RSAP_LISTEN_FORWARD_DNAT
                                                     : RSAP_LISTEN_FORWARD_PROXY;
                r = string_field(d, p, "via", 1, RSAP_LISTEN_JSON_MAX_STRING, true, &fw->via);
        }
        if (r == 0)
                r = string_field(d, p, "table", 1, RSAP_LISTEN_JSON_MAX_STRING, true, &fw->table);
        if (r == 0)
                r = forward_target(d, p, fw);
        if (r == 0)
                r = forward_place(d, p, fw);
        d->within[0] = '\0';
        s->forward = fw;
        return r;
}

static int owner(struct decoder *d, const json_t *o, struct rsap_listen_owner *out)
{
        json_int_t pid, uid;
        const char *command;
        int r;

        if (!json_is_object(o))
                return refuse(d, "", "not an object");
        r = integer_field(d, o, "pid", 1, RSAP_LISTEN_JSON_MAX_PID, &pid);
        if (r == 0)
                r = string_field(d, o, "command", 0, RSAP_LISTEN_COMMAND_SIZE - 1, false,
                                 &command);
        if (r == 0)
                r = integer_field(d, o, "uid", 0, MAX_UID, &uid);
        if (r == 0)
                r = string_field(d, o, "user", 1, RSAP_LISTEN_JSON_MAX_STRING, true, &out->user);
        /* Reports written before containers were looked for have no key. */
        if (r == 0 && json_object_get(o, "container"))
                r = string_field(d, o, "container", 1, RSAP_LISTEN_JSON_MAX_CONTAINER, true,
                                 &out->container);
        if (r == 0 && json_object_get(o, "container_name"))
                r = string_field(d, o, "container_name", 1, RSAP_LISTEN_JSON_MAX_STRING, true,
                                 &out->container_name);
        if (r < 0)
                return r;
        out->pid = (pid_t)pid;
        out->uid = (uid_t)uid;
        memcpy(out->command, command, strlen(command) + 1);
        return 0;
}

/* "processes" and "processes_visible": both null when owners were not
 * looked up.  The owners go into a new array *owners, the caller's to free. */
static int processes(struct decoder *d, const json_t *o, struct rsap_listen_socket *s,
                     struct rsap_listen_owner **owners)
{
        const json_t *array;
        int visible = -1, r = member(d, o, "processes", &array);

        if (r == 0)
                r = boolean_field(d, o, "processes_visible", true, &visible);
        if (r == 0 && !json_is_null(array) && !json_is_array(array))
                r = refuse(d, "processes", "not a list or null");
        if (r == 0 && json_is_null(array) != (visible < 0))
                r = refuse(d, "processes_visible", "null where processes is not, or not null "
                                                   "where it is");
        if (r == 0)
                r = agree(d, &d->owners, !json_is_null(array), "processes");
        if (r < 0 || json_is_null(array))
                return r;
        if (json_array_size(array) > RSAP_LISTEN_JSON_MAX_OWNERS)
                return refuse(d, "processes", "more than %d", RSAP_LISTEN_JSON_MAX_OWNERS);
        s->owners_hidden = !visible;
        s->n_owners = json_array_size(array);
        *owners = calloc(s->n_owners ? s->n_owners : 1, sizeof(**owners));
        if (!*owners)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < s->n_owners; i++) {
                snprintf(d->within, sizeof(d->within), "processes[%zu]", i);
                r = owner(d, json_array_get(array, i), &(*owners)[i]);
        }
        d->within[0] = '\0';
        s->owners = *owners;
        return r;
}

static int decode_socket(struct decoder *d, const json_t *o, struct rsap_listen_list *list)
{
        _cleanup_(freep) struct rsap_listen_owner *owners = NULL;
        struct rsap_listen_socket s = { 0 };
        struct rsap_listen_forward fw = { 0 };
        int r;

        if (!json_is_object(o))
                return refuse(d, "", "not an object");
        r = protocol_and_family(d, o, &s);
        if (r == 0)
                r = address_and_interface(d, o, &s);
        if (r == 0)
                r = ipv6_only(d, o, &s);
        if (r == 0)
                r = port_uid_user_inode(d, o, &s);
        if (r == 0)
                r = processes(d, o, &s, &owners);
        if (r == 0)
                r = host_and_netns(d, o, &s);
        if (r == 0)
                r = published(d, o, &s, &fw);
        return r < 0 ? r : rsap_listen_list_add(list, &s);
}

/* ---- the list ----------------------------------------------------------- */

static int decode_sockets(struct decoder *d, const json_t *array, struct rsap_listen_list *list)
{
        int r = 0;

        if (!json_is_array(array))
                return refuse(d, "sockets", "not a list");
        if (json_array_size(array) > RSAP_LISTEN_JSON_MAX_SOCKETS)
                return refuse(d, "sockets", "more than %d", RSAP_LISTEN_JSON_MAX_SOCKETS);
        for (size_t i = 0; r == 0 && i < json_array_size(array); i++) {
                d->socket = i;
                r = decode_socket(d, json_array_get(array, i), list);
        }
        d->socket = SIZE_MAX;
        return r;
}

static int report_source(struct decoder *d, const json_t *report)
{
        const char *source;
        int r = string_field(d, report, "source", 1, 16, true, &source);

        if (r < 0)
                return r;
        if (!source)
                d->source = RSAP_LISTEN_SOURCE_AUTO;
        else if (strcmp(source, "netlink") == 0)
                d->source = RSAP_LISTEN_SOURCE_NETLINK;
        else if (strcmp(source, "procfs") == 0)
                d->source = RSAP_LISTEN_SOURCE_PROCFS;
        else
                return refuse(d, "source", "not netlink, procfs or null");
        return 0;
}

/* What the report says of the list; its sockets must then agree with it.
 * A list of AUTO source shows ipv6_only null, as one from /proc/net does. */
static int decode_report(struct decoder *d, const json_t *report, struct rsap_listen_list *list)
{
        const json_t *sockets;
        json_int_t unreadable = 0;
        int looked_up = 0, r = report_source(d, report);

        if (r == 0)
                r = boolean_field(d, report, "owners_looked_up", false, &looked_up);
        if (r == 0)
                r = integer_field(d, report, "unreadable_processes", 0,
                                  RSAP_LISTEN_JSON_MAX_PID, &unreadable);
        if (r == 0)
                r = member(d, report, "sockets", &sockets);
        if (r < 0)
                return r;
        list->source = d->source;
        if (d->source == RSAP_LISTEN_SOURCE_AUTO)
                d->source = RSAP_LISTEN_SOURCE_PROCFS;
        d->owners = looked_up;
        list->owners_looked_up = looked_up;
        list->unreadable_processes = (size_t)unreadable;
        return decode_sockets(d, sockets, list);
}

int rsap_listen_list_from_json(const json_t *value, struct rsap_listen_list **out,
                               char *reason, size_t reason_size)
{
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *list = NULL;
        struct decoder d = { reason, reason_size, SIZE_MAX, UNKNOWN, UNKNOWN, "" };
        int r = rsap_listen_list_new(&list);

        if (r < 0)
                return r;
        if (json_is_object(value)) {
                r = decode_report(&d, value, list);
        } else if (json_is_array(value)) {
                r = decode_sockets(&d, value, list);
                list->source = d.source == UNKNOWN ? RSAP_LISTEN_SOURCE_AUTO
                                                   : (enum rsap_listen_source)d.source;
                list->owners_looked_up = d.owners == 1;
        } else {
                r = refuse(&d, "listeners", "not a list of sockets or a report object");
        }
        if (r < 0)
                return r;
        *out = TAKE_PTR(list);
        return 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include <rsap/port.h>
#include <rsap/iana.h>

/*
 * What listens on this host: every listening TCP socket and every bound UDP
 * socket (and SCTP and DCCP ones where the kernel has those protocols), over
 * IPv4 and IPv6, with the processes that hold them.
 *
 * Sockets come from the kernel's sock_diag netlink interface, in the caller's
 * network namespace; when the kernel refuses that socket, from /proc/net/tcp,
 * tcp6, udp and udp6 instead (TCP and UDP only, no interface names).  Owners
 * come from /proc/PID/fd, the only place Linux tells which process holds
 * which socket; a process whose fd directory may not be read (another user's,
 * without root) cannot be named, and its sockets say so rather than guess.
 *
 * Everything here returns 0 or a negative errno code and never prints.
 * Linux only.
 */

/* Where the sockets came from. */
enum rsap_listen_source {
        RSAP_LISTEN_SOURCE_AUTO = 0, /* netlink, else /proc/net when netlink is refused */
        RSAP_LISTEN_SOURCE_NETLINK,
        RSAP_LISTEN_SOURCE_PROCFS,
};

/*
 * Which network namespaces to list: the caller's (as before), every one on
 * the host, or one, named as `--netns` takes it: digits are a pid (its
 * /proc/PID/ns/net), text with a '/' a path to a namespace file, anything
 * else an entry of /run/netns.
 */
enum rsap_listen_netns {
        RSAP_LISTEN_NETNS_OWN = 0,
        RSAP_LISTEN_NETNS_ALL,
        RSAP_LISTEN_NETNS_ONE,
};

struct rsap_listen_filter {
        unsigned protocols;           /* bit set of 1u << RSAP_PROTO_*; 0: every transport */
        uint16_t port_low, port_high; /* inclusive; 0-65535 for every port */
        bool match_pid;               /* only sockets that process pid holds */
        pid_t pid;
        bool match_uid;               /* only sockets the kernel says uid owns */
        uid_t uid;
        bool find_owners;             /* walk /proc for the owning processes */
        enum rsap_listen_source source;
        enum rsap_listen_netns netns; /* which network namespaces (netns.c) */
        const char *netns_spec;       /* RSAP_LISTEN_NETNS_ONE: a name, a pid or a path */
        bool find_published;          /* DNAT rules and forwarders' targets (published.c) */
        /* Only sockets an owner of which runs in this container: an id's
         * first digits (at least one), or its name as the runtime gives it.
         * Needs find_owners and netns not OWN (-EINVAL). */
        const char *container;
        /* Where to ask Docker or Podman for container names (runtime.c):
         * colon-separated socket paths, or NULL for the usual places. */
        const char *runtime_sockets;
        unsigned runtime_deadline_ms; /* 0: RSAP_LISTEN_RUNTIME_DEADLINE_MS */
};

/* Every socket of every transport and port, with owners, from any source. */
void rsap_listen_filter_init(struct rsap_listen_filter *f);

/* TASK_COMM_LEN: the kernel keeps 15 bytes of a command name. */
#define RSAP_LISTEN_COMMAND_SIZE 16

struct rsap_listen_owner {
        pid_t pid;
        uid_t uid;                              /* the process's effective uid */
        const char *user;                       /* its name, NULL when the uid has none */
        char command[RSAP_LISTEN_COMMAND_SIZE]; /* /proc/PID/comm */
        /* The id of the container it runs in (rsap_listen_container_id() of
         * its /proc/PID/cgroup), looked for with every or one namespace;
         * NULL when it runs in none, or was not looked for. */
        const char *container;
        /* Its name, from the runtime's API (rsap_listen_name_containers());
         * NULL when no runtime named it. */
        const char *container_name;
};

/*
 * Where a socket was seen: a host and a network namespace on it.  A socket's
 * inode and port mean something only together with their origin.
 */
struct rsap_listen_origin {
        const char *host;       /* rsap_host_name() of the host that saw it */
        uint64_t netns_inode;   /* the network namespace's inode; 0 when unknown */
        const char *netns_name; /* its `ip netns` name, NULL when it has none */
};

/*
 * A published port: a port of this host forwarded into a network namespace,
 * by a DNAT rule of nf_tables (which holds no socket: the list has one
 * entry for each port the rule forwards, inode 0, uid 0, no owners) or by a
 * user-space forwarder's socket (docker-proxy, pasta, rootlessport,
 * slirp4netns), whose target its command line tells, if it does.
 */
enum rsap_listen_forward_kind {
        RSAP_LISTEN_FORWARD_DNAT = 1,
        RSAP_LISTEN_FORWARD_PROXY,
};

struct rsap_listen_forward {
        enum rsap_listen_forward_kind kind;
        const char *via;          /* DNAT: the rule's chain ("DOCKER"); PROXY: the command */
        const char *table;        /* DNAT: family and table, "ip nat"; NULL for a proxy */
        int target_family;        /* AF_INET or AF_INET6; 0: the address is not known */
        unsigned char target_addr[16];
        char target_address[46];  /* "" when not known */
        uint16_t target_port;     /* 0: not known */
        uint16_t target_port_high; /* the end of a target range; target_port for one port */
        /* The namespace whose interfaces hold the target address, when the
         * namespaces were visited (-A), and a container of its processes. */
        uint64_t target_netns_inode;     /* 0: none seen */
        const char *target_netns_name;
        const char *target_container;
};

struct rsap_listen_socket {
        enum rsap_proto proto;
        int family;                 /* AF_INET or AF_INET6 */
        unsigned char addr[16];     /* the address in network order; IPv4 in the first 4 */
        char address[46];           /* "0.0.0.0", "::", "127.0.0.1", "::1": no brackets */
        char interface[16];         /* the device it is bound to, "" for none */
        bool v6only;                /* IPv6 only: IPV6_V6ONLY (unknown from /proc/net) */
        uint16_t port;
        uid_t uid;                  /* who created the socket, from the kernel */
        const char *user;           /* that uid's name, NULL when it has none */
        uint64_t inode;
        struct rsap_listen_owner *owners; /* sorted by pid; points into the list */
        size_t n_owners;
        /* Owners were looked for but no readable /proc/PID/fd holds it. */
        bool owners_hidden;
        struct rsap_listen_origin origin;
        /* The kernel's cookie for the socket, unique while the host runs:
         * what sock_diag's destroy events name it by; 0 from /proc/net. */
        uint64_t cookie;
        const struct rsap_listen_forward *forward; /* NULL: a plain socket */
};

struct rsap_listen_names; /* the list's user name cache */

struct rsap_listen_list {
        struct rsap_listen_socket *sockets; /* sorted by protocol, port, address */
        size_t count;
        enum rsap_listen_source source;     /* NETLINK or PROCFS: the one used */
        bool owners_looked_up;
        /* Processes whose fd directory could not be read (EACCES): when
         * some socket's owners are hidden, root would see more. */
        size_t unreadable_processes;
        /* With every or one namespace: namespaces found that could not be
         * entered (setns needs CAP_SYS_ADMIN), and processes whose
         * /proc/PID/ns/net could not be read, so whose namespace is unknown. */
        size_t unentered_namespaces;
        size_t unreadable_namespace_processes;
        /* How many namespaces were read: 0 when only the caller's was. */
        size_t namespaces_read;
        /* Namespaces whose nf_tables rules could not be read: the dump needs
         * CAP_NET_ADMIN there (or the kernel has no nf_tables). */
        size_t unread_rule_sets;
        /* Container runtimes asked for names that gave none in time (no
         * answer within the deadline, an error, or no JSON array). */
        size_t silent_runtimes;

        /* private */
        size_t capacity;
        struct rsap_listen_owner *owner_pool;
        struct rsap_listen_names *names;
        void **blocks; /* what rsap_listen_list_add and origins copied */
        size_t n_blocks, blocks_capacity;
        const char *last_string; /* the newest copy, often wanted again */
};

/*
 * Collects the sockets f asks for (NULL: every one, with owners) into a new
 * list.  -EPROTONOSUPPORT when neither sock_diag nor /proc/net is available
 * (not Linux, or /proc not mounted); -EAFNOSUPPORT when the netlink source was
 * forced and the kernel lacks it; -ENOMEM.
 */
int rsap_listen_collect(const struct rsap_listen_filter *f, struct rsap_listen_list **out);

/*
 * With f->netns RSAP_LISTEN_NETNS_ONE, -ENOENT when f->netns_spec names no
 * namespace (no such entry, pid or file) and -EINVAL when it names a file
 * that is not a network namespace; -EPERM when it may not be entered.
 */
void rsap_listen_list_free(struct rsap_listen_list *list);
void rsap_listen_list_freep(struct rsap_listen_list **list);

/*
 * A list is a value: it may come from this host's kernel (collect), from
 * another host's report or from JSON (from_json below), or be made by hand.
 *
 * rsap_listen_list_new: an empty list (source AUTO, no owners looked up).
 * 0 or -ENOMEM.
 *
 * rsap_listen_list_add appends a copy of s: its owners (s->owners,
 * s->n_owners) and every string (users, origin) are copied, so s may go
 * away after; the text address is made from s->addr, never taken from
 * s->address.  -EINVAL for an unknown protocol or family, or an origin
 * without a host; -ENOMEM.
 *
 * rsap_listen_list_sort: by protocol, port, family, address, interface,
 * inode, then origin, the order collect gives.  0 or -ENOMEM.
 *
 * rsap_listen_list_equal: the same sockets in the same order with the same
 * owners and origins, and the same list facts (source, owners looked up,
 * unreadable processes); fields that the JSON does not show (ipv6_only from
 * /proc/net, owners_hidden when owners were not looked up) do not count.
 */
int rsap_listen_list_new(struct rsap_listen_list **out);
int rsap_listen_list_add(struct rsap_listen_list *list, const struct rsap_listen_socket *s);
int rsap_listen_list_sort(struct rsap_listen_list *list);
bool rsap_listen_list_equal(const struct rsap_listen_list *a, const struct rsap_listen_list *b);

/*
 * A new list of the sockets of from that f selects, as rsap_listen_collect
 * would have collected them from the same kernel: f's protocols, ports, uid
 * and pid (a pid needs from's owners looked up: else -EINVAL), with their
 * owners only when f->find_owners and from has them; f->source is ignored.
 * from keeps its order, and the copy keeps from's source.  0, -EINVAL or
 * -ENOMEM.
 */
int rsap_listen_list_select(const struct rsap_listen_list *from,
                            const struct rsap_listen_filter *f, struct rsap_listen_list **out);

/*
 * The origin of what rsap_listen_collect sees: rsap_host_name() and the
 * calling process's network namespace (/proc/self/ns/net), named after the
 * entry of /run/netns that is that namespace, if one is.  The name is copied
 * into list's storage.  0 or -ENOMEM; an unreadable namespace leaves the
 * inode 0.
 */
int rsap_listen_origin_here(struct rsap_listen_list *list, struct rsap_listen_origin *out);

/*
 * The container a process runs in, from its /proc/PID/cgroup text: the id in
 * the first line whose path names one (".../docker-ID.scope", "/docker/ID",
 * ".../libpod-ID.scope", ".../cri-containerd-ID.scope", the id 64 hex digits
 * for docker and podman, 12 to 64 for containerd).  Writes the id and
 * returns 1, or 0 when no line names a container; -ENOSPC when out is too
 * small (65 bytes always do).
 */
int rsap_listen_container_id(const char *cgroup, char *out, size_t size);

/*
 * Names the owners that run in a container (their container id set) from the
 * APIs of the runtimes that started them: `GET /containers/json` on each Unix
 * socket of sockets (colon-separated paths), or, for NULL, of the usual
 * places that exist: /run/docker.sock, /run/podman/podman.sock,
 * $XDG_RUNTIME_DIR/podman/podman.sock and docker.sock, and
 * /run/user/UID/podman/podman.sock for the caller's uid and each such owner's.
 * A socket root does not own names only its owner's processes.
 * Asks nothing when no owner has a container id.  All are asked at once and
 * given deadline_ms in all (0: the default); a runtime that gives no list
 * by then counts in list->silent_runtimes, and its containers keep their ids
 * alone.  0 or -ENOMEM.
 */
#define RSAP_LISTEN_RUNTIME_DEADLINE_MS 300
int rsap_listen_name_containers(struct rsap_listen_list *list, const char *sockets,
                                unsigned deadline_ms);

/*
 * Whether owner o runs in the container spec names: spec is a prefix of its
 * id, or its name.
 */
bool rsap_listen_owner_in_container(const struct rsap_listen_owner *o, const char *spec);

/*
 * Whether a port/protocol has an IANA assignment (status Assigned in reg; reg
 * may be NULL: then nothing is registered).
 */
bool rsap_listen_port_registered(const struct rsap_iana *reg, uint16_t port,
                                 enum rsap_proto proto);

/*
 * What the layer above says of a socket, as its "local" member: the answer
 * composer puts the local registry's holding there.  to_json returns a new
 * value, or NULL for null; a NULL struct makes every "local" null.
 */
struct rsap_listen_json_local {
        json_t *(*to_json)(size_t socket, const void *data);
        const void *data;
};

/*
 * The list as JSON: an array of sockets, each
 *   {"protocol", "family", "address", "interface", "ipv6_only", "port", "uid",
 *    "user", "inode", "service", "local", "processes", "processes_visible",
 *    "host", "netns"}
 * with "processes" an array of {"pid", "command", "uid", "user", "container",
 * "container_name"}, or null
 * (and "processes_visible" null) when owners were not looked up.  "service"
 * is IANA's name for the port/protocol in reg, null when there is none or reg
 * is NULL; "local" what local gives; "netns" {"inode", "name"}, or null when
 * the inode is unknown.  The schema is in docs/listening.md.
 * NULL when out of memory.
 */
json_t *rsap_listen_socket_to_json(const struct rsap_listen_list *list, size_t socket,
                                   const struct rsap_iana *reg,
                                   const struct rsap_listen_json_local *local);
/* A socket's "processes" array alone; NULL when out of memory. */
json_t *rsap_listen_owners_to_json(const struct rsap_listen_socket *s);
json_t *rsap_listen_list_to_json(const struct rsap_listen_list *list, const struct rsap_iana *reg,
                                 const struct rsap_listen_json_local *local);
/*
 * Writes the same bytes as json_dumpf(rsap_listen_list_to_json(list, reg,
 * local), out, RSAP_JSON_DUMP_FLAGS), without a final newline, one socket at
 * a time: the whole array as jansson values takes some 3 KiB per socket.
 * 0, -ENOMEM or -EIO.
 */
int rsap_listen_list_write_json(const struct rsap_listen_list *list, const struct rsap_iana *reg,
                                const struct rsap_listen_json_local *local, FILE *out);

/*
 * A host's report: the whole list as one object,
 *   {"source": "netlink"|"procfs"|null, "owners_looked_up", "unreadable_processes",
 *    "sockets": [what rsap_listen_list_to_json writes, without reg or local]}
 * so that what the array cannot say (where it came from, how many processes
 * were unreadable, for an empty list too) survives.  NULL when out of memory.
 */
json_t *rsap_listen_report_to_json(const struct rsap_listen_list *list);

/* Bounds on what rsap_listen_list_from_json accepts. */
#define RSAP_LISTEN_JSON_MAX_CONTAINER 64 /* an owner's container id */
#define RSAP_LISTEN_JSON_MAX_SOCKETS 1000000
#define RSAP_LISTEN_JSON_MAX_OWNERS 4096   /* per socket */
#define RSAP_LISTEN_JSON_MAX_STRING 255    /* host, netns name, user */
#define RSAP_LISTEN_JSON_MAX_PID 4194304   /* the kernel's PID_MAX_LIMIT */

/*
 * Decodes what rsap_listen_list_to_json or rsap_listen_report_to_json wrote
 * (an array, or a report object) into a new list, in the order given;
 * "service", "local" and unknown keys are ignored.  From an array the list's
 * source is NETLINK when an IPv6 socket shows ipv6_only, PROCFS when one
 * shows null, and owners were looked up when "processes" is not null; the
 * sockets must agree on both.  -EBADMSG with a one-line reason ("socket 3:
 * port: not an integer from 0 to 65535") in reason for anything else, and
 * for sizes past the bounds above; -ENOMEM.
 */
int rsap_listen_list_from_json(const json_t *value, struct rsap_listen_list **out,
                               char *reason, size_t reason_size);

/*
 * The steps of rsap_listen_collect, each in its own file, exposed so the
 * tests can drive them one by one.  They leave the user names unset.
 *
 * rsap_listen_read_sockets appends the sockets that f's protocols, ports and
 * uid select (sockets.c).  rsap_listen_keep_pid keeps only the sockets in
 * /proc/PID/fd (procs.c).  rsap_listen_find_owners fills every socket's owners
 * by one walk over /proc/PID/fd (procs.c).  For up to 256 sockets, the walk
 * stops reading unrelated processes once every socket has an owner, and then
 * reads only the owners' ancestors and descendants, which may share a socket
 * after fork(): nothing in the kernel says how many processes hold a socket.
 * An owner that got the socket over a UNIX socket, or a sibling whose parent
 * closed its copy, can be missed when it comes after that point.
 */
int rsap_listen_read_sockets(const struct rsap_listen_filter *f, struct rsap_listen_list *list);
int rsap_listen_keep_pid(struct rsap_listen_list *list, pid_t pid);
int rsap_listen_find_owners(struct rsap_listen_list *list);

/*
 * Published ports (published.c, nat_rule.c, forwarder.c).
 *
 * rsap_listen_read_published appends an entry for each port that a DNAT
 * rule of the calling thread's network namespace forwards: the nat chains
 * of tables ip, ip6 and inet hooked at prerouting or output, followed
 * through their jumps and gotos, each rule's conditions on the transport,
 * the destination port and the destination address narrowing what the
 * rules it jumps to match.  Native rules (`dnat to`) and iptables-nft's xt
 * DNAT target (revisions 0, 1 and 2) are both read.  An expression rsap
 * does not know is passed over (a counter, a log, a comment: it narrows
 * nothing rsap can tell); a rule whose port, transport or address is
 * tested in a way rsap cannot read (a set, a map, a negation of the port)
 * is skipped.  A refused dump (EPERM: no CAP_NET_ADMIN; no nf_tables)
 * counts in list->unread_rule_sets and is no error.  0 or -ENOMEM.
 */
int rsap_listen_read_published(const struct rsap_listen_filter *f, struct rsap_listen_list *list);

/* What one rule says, for the tests and the fuzz target. */
#define RSAP_NAT_MAX_PORT_RANGES 16
enum rsap_nat_action {
        RSAP_NAT_NONE = 0,   /* accept, return, counters only: nothing published */
        RSAP_NAT_DNAT,
        RSAP_NAT_JUMP,       /* a jump or goto to chain */
        RSAP_NAT_UNREADABLE, /* a condition rsap cannot read: the rule is skipped */
};

struct rsap_nat_rule {
        unsigned protocols;        /* bit set of 1u << RSAP_PROTO_*: what it matches */
        size_t n_ports;            /* 0: every port */
        struct { uint16_t low, high; } ports[RSAP_NAT_MAX_PORT_RANGES];
        int daddr_family;          /* 0: any destination */
        unsigned char daddr[16];
        unsigned daddr_prefix;     /* in bits */
        enum rsap_nat_action action;
        char chain[256];           /* RSAP_NAT_JUMP's target */
        int to_family;             /* DNAT: 0 when the rule names no address */
        unsigned char to_addr[16];
        uint16_t to_port_low, to_port_high; /* DNAT: 0 when the port is kept */
};

/*
 * Decodes one rule, as libnftnl holds it, in a table of family
 * (NFPROTO_IPV4, NFPROTO_IPV6 or NFPROTO_INET): whatever its expressions
 * hold (registers, lengths, blobs of any size), 0, or -EBADMSG.
 *
 * rsap_nat_rule_decode_message does the same from the rule's netlink
 * message (NFT_MSG_NEWRULE, as a dump gives it; family 0: the message's
 * own), which must come from the kernel: libnftnl's parser trusts the
 * attributes inside an expression's data.  The rule's strings and each
 * expression's name are checked before it runs.  0, -EBADMSG, -ENOMEM.
 */
struct nftnl_rule;
int rsap_nat_rule_decode(struct nftnl_rule *r, int family, struct rsap_nat_rule *out);
int rsap_nat_rule_decode_message(const void *message, size_t size, int family,
                                 struct rsap_nat_rule *out);

/*
 * A forwarder's target from its arguments (argv[0] the program; command its
 * /proc/PID/comm, which says which forwarder it is): docker-proxy's
 * -proto, -host-port, -container-ip and -container-port, or pasta's -t/-u
 * (--tcp-ports/--udp-ports) specs "[ADDR[%IF]/]PORT[-PORT][:PORT[-PORT]]",
 * comma-separated, for the socket proto/port.  Fills target_address,
 * target_family and target_port (pasta: the port only, in its namespace).
 * 1 when the arguments name the port's target, 0 when they do not (or the
 * command is a forwarder whose target is not in its arguments:
 * rootlessport, slirp4netns), -EINVAL for a command that is no forwarder.
 */
int rsap_listen_forwarder_target(const char *command, const char *const *argv, size_t argc,
                                 enum rsap_proto proto, uint16_t port,
                                 struct rsap_listen_forward *out);
/* Whether a command name (/proc/PID/comm) is a user-space forwarder's. */
bool rsap_listen_is_forwarder(const char *command);

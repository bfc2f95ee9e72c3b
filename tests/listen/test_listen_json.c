/* SPDX-License-Identifier: MIT */
/*
 * A listener list as a value: made by hand (rsap_listen_list_add), sorted,
 * compared, and decoded from JSON (rsap_listen_list_from_json), with one
 * refusal per rule the decoder enforces.  The round trips: a list written,
 * decoded and written again gives the same bytes and an equal list, for a
 * list collected on this host (with owners) and for lists made by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

/* ---- helpers ------------------------------------------------------------ */

static char *write_list(const struct rsap_listen_list *list, bool report)
{
        json_t *value = report ? rsap_listen_report_to_json(list)
                               : rsap_listen_list_to_json(list, NULL, NULL);
        char *text;

        assert_non_null(value);
        text = json_dumps(value, RSAP_JSON_DUMP_FLAGS);
        assert_non_null(text);
        json_decref(value);
        return text;
}

/* 0 and the list, or the error and its reason. */
static int read_text(const char *text, struct rsap_listen_list **out, char *reason, size_t size)
{
        json_error_t error;
        json_t *value = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                  &error);
        int r;

        if (!value)
                fail_msg("bad test JSON: %s: %s", error.text, text);
        *out = NULL;
        reason[0] = '\0';
        r = rsap_listen_list_from_json(value, out, reason, size);
        json_decref(value);
        return r;
}

static struct rsap_listen_list *read_list(const char *text)
{
        struct rsap_listen_list *list = NULL;
        char reason[256];
        int r = read_text(text, &list, reason, sizeof(reason));

        if (r != 0)
                fail_msg("from_json: %s (%s)", reason, strerror(-r));
        return list;
}

/* Written, read and written again: the same bytes and an equal list. */
static void assert_round_trip(const struct rsap_listen_list *list, bool report)
{
        char *once = write_list(list, report);
        struct rsap_listen_list *back = read_list(once);
        char *twice = write_list(back, report);

        assert_string_equal(twice, once);
        if (report)
                assert_true(rsap_listen_list_equal(list, back));
        free(once);
        free(twice);
        rsap_listen_list_free(back);
}

static struct rsap_listen_socket socket_of(enum rsap_proto proto, const char *address,
                                           uint16_t port, uint64_t inode, const char *host)
{
        struct rsap_listen_socket s = {
                .proto = proto, .family = strchr(address, ':') ? AF_INET6 : AF_INET,
                .port = port, .uid = 1000, .user = "alice", .inode = inode,
                .origin = { .host = host, .netns_inode = 4026531840, .netns_name = NULL },
        };

        assert_int_equal(inet_pton(s.family, address, s.addr), 1);
        return s;
}

static struct rsap_listen_list *new_list(void)
{
        struct rsap_listen_list *list = NULL;

        assert_int_equal(rsap_listen_list_new(&list), 0);
        assert_int_equal(list->count, 0);
        return list;
}

/* ---- a list made by hand ------------------------------------------------ */

static void test_add_copies(void **state)
{
        struct rsap_listen_list *list = new_list();
        char user[] = "bob", host[] = "host-a", netns[] = "blue";
        struct rsap_listen_owner owners[2] = {
                { .pid = 10, .uid = 1000, .user = user, .command = "nginx" },
                { .pid = 11, .uid = 33, .user = NULL, .command = "nginx" },
        };
        struct rsap_listen_socket s = socket_of(RSAP_PROTO_TCP, "10.0.0.1", 80, 7, host);
        const struct rsap_listen_socket *got;

        (void)state;
        s.owners = owners;
        s.n_owners = 2;
        s.origin.netns_name = netns;
        snprintf(s.address, sizeof(s.address), "not the address");
        assert_int_equal(rsap_listen_list_add(list, &s), 0);
        /* The caller's strings and owners may go away. */
        memset(user, 'x', sizeof(user) - 1);
        memset(host, 'x', sizeof(host) - 1);
        memset(netns, 'x', sizeof(netns) - 1);
        owners[0].pid = 99;
        got = &list->sockets[0];
        assert_int_equal(list->count, 1);
        assert_string_equal(got->address, "10.0.0.1");
        assert_string_equal(got->origin.host, "host-a");
        assert_string_equal(got->origin.netns_name, "blue");
        assert_int_equal(got->n_owners, 2);
        assert_int_equal(got->owners[0].pid, 10);
        assert_string_equal(got->owners[0].user, "bob");
        assert_null(got->owners[1].user);
        rsap_listen_list_free(list);
}

static void test_add_refuses(void **state)
{
        struct rsap_listen_list *list = new_list();
        struct rsap_listen_socket s = socket_of(RSAP_PROTO_UDP, "::1", 53, 8, "a");

        (void)state;
        s.proto = RSAP_PROTO_NONE;
        assert_int_equal(rsap_listen_list_add(list, &s), -EINVAL);
        s.proto = RSAP_PROTO_COUNT;
        assert_int_equal(rsap_listen_list_add(list, &s), -EINVAL);
        s.proto = RSAP_PROTO_UDP;
        s.family = AF_UNIX;
        assert_int_equal(rsap_listen_list_add(list, &s), -EINVAL);
        s.family = AF_INET6;
        s.origin.host = NULL;
        assert_int_equal(rsap_listen_list_add(list, &s), -EINVAL);
        assert_int_equal(list->count, 0);
        rsap_listen_list_free(list);
}

/* The same socket seen on two hosts sorts by host; otherwise protocol first. */
static void test_sort(void **state)
{
        struct rsap_listen_list *list = new_list();
        struct rsap_listen_socket udp = socket_of(RSAP_PROTO_UDP, "127.0.0.1", 53, 5, "a");
        struct rsap_listen_socket on_b = socket_of(RSAP_PROTO_TCP, "127.0.0.1", 80, 5, "b");
        struct rsap_listen_socket on_a = socket_of(RSAP_PROTO_TCP, "127.0.0.1", 80, 5, "a");

        (void)state;
        assert_int_equal(rsap_listen_list_add(list, &udp), 0);
        assert_int_equal(rsap_listen_list_add(list, &on_b), 0);
        assert_int_equal(rsap_listen_list_add(list, &on_a), 0);
        assert_int_equal(rsap_listen_list_sort(list), 0);
        assert_int_equal(list->sockets[0].proto, RSAP_PROTO_TCP);
        assert_string_equal(list->sockets[0].origin.host, "a");
        assert_string_equal(list->sockets[1].origin.host, "b");
        assert_int_equal(list->sockets[2].proto, RSAP_PROTO_UDP);
        rsap_listen_list_free(list);
}

/* Whether x comes before y as a listing orders them, said here from the
 * fields, independently of the library's sort key. */
static bool in_order(const struct rsap_listen_socket *x, const struct rsap_listen_socket *y)
{
        int c;

        if (x->proto != y->proto)
                return x->proto < y->proto;
        if (x->port != y->port)
                return x->port < y->port;
        if (x->family != y->family)
                return x->family == AF_INET;
        c = memcmp(x->addr, y->addr, sizeof(x->addr));
        if (c != 0)
                return c < 0;
        return x->inode <= y->inode;
}

/* Thousands of sockets in a scrambled order: protocols, ports that
 * repeat, both families, IPv6 addresses that differ only past their first
 * four bytes (one sort key for many) and IPv4 ones that differ in all but
 * their third, which is 2001:db8::'s third too (13): a byte of the key that
 * every socket shares, so that a sort by bytes skips one.  Sorted, each is
 * in order after the one before, and none is lost. */
static void test_sort_many(void **state)
{
        enum { N = 3000 };
        static const enum rsap_proto protos[] = { RSAP_PROTO_TCP, RSAP_PROTO_UDP,
                                                  RSAP_PROTO_SCTP };
        struct rsap_listen_list *list = new_list();
        static bool seen[N + 1];
        uint32_t x = 12345;

        (void)state;
        for (uint64_t i = 1; i <= N; i++) {
                char address[64];
                struct rsap_listen_socket s;

                x = x * 1103515245u + 12345u;
                if (x >> 31)
                        snprintf(address, sizeof(address), "2001:db8::%x:%x", x >> 20 & 0xff,
                                 x >> 8 & 0xfff);
                else
                        snprintf(address, sizeof(address), "%u.%u.13.%u", x >> 24 & 0x7f,
                                 x >> 16 & 0xff, x >> 8 & 0xff);
                s = socket_of(protos[x % 3], address, (uint16_t)(1000 + (x >> 4) % 40),
                              N + 1 - i, "a");
                assert_int_equal(rsap_listen_list_add(list, &s), 0);
        }
        assert_int_equal(rsap_listen_list_sort(list), 0);
        assert_int_equal(list->count, N);
        for (size_t i = 0; i < list->count; i++) {
                assert_true(list->sockets[i].inode >= 1 && list->sockets[i].inode <= N);
                assert_false(seen[list->sockets[i].inode]); /* each socket once */
                seen[list->sockets[i].inode] = true;
                if (i > 0 && !in_order(&list->sockets[i - 1], &list->sockets[i]))
                        fail_msg("socket %zu (%s %u) before socket %zu (%s %u)", i - 1,
                                 list->sockets[i - 1].address, list->sockets[i - 1].port, i,
                                 list->sockets[i].address, list->sockets[i].port);
        }
        rsap_listen_list_free(list);
}

/* Two owners, a hidden socket, an IPv6 one with IPV6_V6ONLY and a device,
 * two hosts, a named namespace and one that is unknown. */
static struct rsap_listen_list *rich_list(enum rsap_listen_source source, bool owners)
{
        struct rsap_listen_list *list = new_list();
        struct rsap_listen_owner two[2] = {
                { .pid = 900, .uid = 0, .user = "root", .command = "nginx" },
                { .pid = 901, .uid = 33, .user = "www-data", .command = "nginx",
                  .container = "0123456789ab", .container_name = "web" },
        };
        struct rsap_listen_socket web = socket_of(RSAP_PROTO_TCP, "0.0.0.0", 80, 11, "a");
        struct rsap_listen_socket dns = socket_of(RSAP_PROTO_UDP, "fe80::1", 53, 12, "b");
        struct rsap_listen_socket hidden = socket_of(RSAP_PROTO_SCTP, "::", 9, 13, "b");

        list->source = source;
        list->owners_looked_up = owners;
        list->unreadable_processes = owners ? 2 : 0;
        web.owners = owners ? two : NULL;
        web.n_owners = owners ? 2 : 0;
        dns.v6only = source == RSAP_LISTEN_SOURCE_NETLINK;
        snprintf(dns.interface, sizeof(dns.interface), "eth0");
        dns.user = NULL;
        dns.origin.netns_name = "blue";
        dns.owners_hidden = false;
        hidden.origin.netns_inode = 0;
        hidden.owners_hidden = owners;
        assert_int_equal(rsap_listen_list_add(list, &web), 0);
        assert_int_equal(rsap_listen_list_add(list, &dns), 0);
        assert_int_equal(rsap_listen_list_add(list, &hidden), 0);
        return list;
}

static void test_equal(void **state)
{
        struct rsap_listen_list *a = rich_list(RSAP_LISTEN_SOURCE_NETLINK, true);
        struct rsap_listen_list *b = rich_list(RSAP_LISTEN_SOURCE_NETLINK, true);

        (void)state;
        assert_true(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].pid = 902;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].pid = 901;
        b->sockets[0].owners[1].container = NULL;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].container = "0123456789ac";
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].container = a->sockets[0].owners[1].container;
        b->sockets[0].owners[1].container_name = NULL;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].container_name = "api";
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[0].owners[1].container_name = a->sockets[0].owners[1].container_name;
        b->sockets[1].origin.netns_name = NULL;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[1].origin.netns_name = a->sockets[1].origin.netns_name;
        b->sockets[2].origin.host = "c";
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[2].origin.host = a->sockets[2].origin.host;
        b->sockets[1].v6only = false;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[1].v6only = true;
        b->unreadable_processes = 3;
        assert_false(rsap_listen_list_equal(a, b));
        b->unreadable_processes = 2;
        b->sockets[2].owners_hidden = false;
        assert_false(rsap_listen_list_equal(a, b));
        b->sockets[2].owners_hidden = true;
        assert_true(rsap_listen_list_equal(a, b));
        rsap_listen_list_free(a);
        rsap_listen_list_free(b);
}

/* The streamed writer gives the bytes of the whole value, origins included. */
static void test_streamed_with_origins(void **state)
{
        struct rsap_listen_list *list = rich_list(RSAP_LISTEN_SOURCE_NETLINK, true);
        char *whole = write_list(list, false), *streamed = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&streamed, &size);

        (void)state;
        assert_non_null(out);
        assert_int_equal(rsap_listen_list_write_json(list, NULL, NULL, out), 0);
        fclose(out);
        assert_string_equal(streamed, whole);
        assert_non_null(strstr(whole, "\"name\": \"blue\""));
        free(whole);
        free(streamed);
        rsap_listen_list_free(list);
}

static void test_round_trip_by_hand(void **state)
{
        const enum rsap_listen_source sources[] = { RSAP_LISTEN_SOURCE_NETLINK,
                                                    RSAP_LISTEN_SOURCE_PROCFS,
                                                    RSAP_LISTEN_SOURCE_AUTO };

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
                for (int owners = 0; owners < 2; owners++) {
                        struct rsap_listen_list *list = rich_list(sources[i], owners);

                        assert_round_trip(list, false);
                        assert_round_trip(list, true);
                        list->count = 0; /* the empty list, too */
                        assert_round_trip(list, true);
                        rsap_listen_list_free(list);
                }
        }
}

/* Published ports: a DNAT rule's entry, placed in a namespace, and a
 * forwarder's socket whose target is not known, back as they were. */
static void test_round_trip_published(void **state)
{
        struct rsap_listen_list *list = new_list();
        struct rsap_listen_forward rule = { .kind = RSAP_LISTEN_FORWARD_DNAT, .via = "KUBE-SEP-A",
                                            .table = "ip6 nat", .target_family = AF_INET6,
                                            .target_port = 8000, .target_port_high = 8009,
                                            .target_netns_inode = 4026532710,
                                            .target_netns_name = "blue",
                                            .target_container = "0123456789ab" };
        struct rsap_listen_forward proxy = { .kind = RSAP_LISTEN_FORWARD_PROXY,
                                             .via = "slirp4netns" };
        struct rsap_listen_socket dnat = socket_of(RSAP_PROTO_TCP, "::", 30080, 0, "a");
        struct rsap_listen_socket held = socket_of(RSAP_PROTO_TCP, "0.0.0.0", 8080, 14, "a");
        struct rsap_listen_list *back;
        char *text;

        (void)state;
        inet_pton(AF_INET6, "fd00::5", rule.target_addr);
        snprintf(rule.target_address, sizeof(rule.target_address), "fd00::5");
        dnat.forward = &rule;
        held.forward = &proxy;
        assert_int_equal(rsap_listen_list_add(list, &dnat), 0);
        assert_int_equal(rsap_listen_list_add(list, &held), 0);
        assert_round_trip(list, false);
        assert_round_trip(list, true);
        text = write_list(list, true);
        back = read_list(text);
        assert_non_null(back->sockets[0].forward);
        assert_int_equal(back->sockets[0].forward->target_port_high, 8009);
        assert_string_equal(back->sockets[0].forward->target_container, "0123456789ab");
        assert_int_equal(back->sockets[1].forward->target_port, 0);
        assert_string_equal(back->sockets[1].forward->target_address, "");
        back->sockets[1].forward = NULL;
        assert_false(rsap_listen_list_equal(list, back)); /* the forward counts */
        free(text);
        rsap_listen_list_free(back);
        rsap_listen_list_free(list);
}

/* What an array shows of the list: its source by ipv6_only, its owners by
 * processes; what it cannot show (unreadable processes) is 0. */
static void test_array_shows_list_facts(void **state)
{
        struct rsap_listen_list *list = rich_list(RSAP_LISTEN_SOURCE_PROCFS, true);
        char *text = write_list(list, false);
        struct rsap_listen_list *back = read_list(text);

        (void)state;
        assert_int_equal(back->source, RSAP_LISTEN_SOURCE_PROCFS);
        assert_true(back->owners_looked_up);
        assert_int_equal(back->unreadable_processes, 0);
        assert_int_equal(back->count, 3);
        assert_string_equal(back->sockets[1].interface, "eth0");
        assert_string_equal(back->sockets[1].origin.netns_name, "blue");
        assert_int_equal(back->sockets[2].origin.netns_inode, 0);
        assert_true(back->sockets[2].owners_hidden);
        assert_string_equal(back->sockets[0].owners[1].user, "www-data");
        free(text);
        rsap_listen_list_free(back);
        rsap_listen_list_free(list);
}

/* ---- a list collected here ---------------------------------------------- */

static void test_round_trip_collected(void **state)
{
        struct rsap_listen_list *list = NULL;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        size_t with_owners = 0;

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(rsap_listen_collect(NULL, &list), 0);
        for (size_t i = 0; i < list->count; i++)
                with_owners += list->sockets[i].n_owners > 0;
        assert_true(list->owners_looked_up);
        assert_true(with_owners > 0); /* ours at least */
        assert_round_trip(list, true);
        assert_round_trip(list, false);
        rsap_listen_list_free(list);
        close(fd);
}

/* ---- refusals ----------------------------------------------------------- */

static const char base_socket[] =
        "{\"protocol\": \"tcp\", \"family\": \"ipv4\", \"address\": \"127.0.0.1\","
        " \"interface\": null, \"ipv6_only\": null, \"port\": 22, \"uid\": 0,"
        " \"user\": \"root\", \"inode\": 1001, \"service\": \"ssh\", \"local\": null,"
        " \"processes\": [{\"pid\": 42, \"command\": \"sshd\", \"uid\": 0, \"user\": \"root\"}],"
        " \"processes_visible\": true, \"host\": \"a\","
        " \"netns\": {\"inode\": 4026531840, \"name\": \"blue\"}}";

/* The member at a dotted path ("netns.inode", "processes.0.pid") of value. */
static json_t *parent_of(json_t *value, const char *path, char *last, size_t size)
{
        char copy[64], *dot, *key = copy;

        snprintf(copy, sizeof(copy), "%s", path);
        while ((dot = strchr(key, '.'))) {
                *dot = '\0';
                value = json_is_array(value) ? json_array_get(value, strtoul(key, NULL, 10))
                                             : json_object_get(value, key);
                key = dot + 1;
        }
        snprintf(last, size, "%s", key);
        return value;
}

/* A list of one base socket with the member at path set to the JSON text
 * replacement, or removed when that is NULL. */
static char *changed_list(const char *path, const char *replacement)
{
        json_t *socket = json_loads(base_socket, 0, NULL), *parent, *list, *value;
        char key[64], *text;

        assert_non_null(socket);
        parent = parent_of(socket, path, key, sizeof(key));
        assert_non_null(parent);
        value = replacement ? json_loads(replacement, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)
                            : NULL;
        if (!replacement)
                assert_int_equal(json_object_del(parent, key), 0);
        else if (json_is_array(parent))
                assert_int_equal(json_array_set_new(parent, strtoul(key, NULL, 10), value), 0);
        else
                assert_int_equal(json_object_set_new(parent, key, value), 0);
        list = json_pack("[o]", socket);
        text = json_dumps(list, 0);
        json_decref(list);
        return text;
}

static void assert_refused(const char *text, const char *expected)
{
        struct rsap_listen_list *list = NULL;
        char reason[256];

        assert_int_equal(read_text(text, &list, reason, sizeof(reason)), -EBADMSG);
        assert_null(list);
        if (strcmp(reason, expected) != 0)
                fail_msg("for %s\n  reason: %s\nexpected: %s", text, reason, expected);
}

static void test_base_socket_decodes(void **state)
{
        char *text = changed_list("service", "null");
        struct rsap_listen_list *list = read_list(text);

        (void)state;
        assert_int_equal(list->count, 1);
        assert_string_equal(list->sockets[0].origin.netns_name, "blue");
        assert_null(list->sockets[0].owners[0].container); /* an older report's: no key */
        free(text);
        rsap_listen_list_free(list);
        text = changed_list("processes.0.container", "\"0123456789ab\"");
        list = read_list(text);
        assert_string_equal(list->sockets[0].owners[0].container, "0123456789ab");
        assert_null(list->sockets[0].owners[0].container_name); /* no key */
        free(text);
        rsap_listen_list_free(list);
        text = changed_list("processes.0.container_name", "\"web\"");
        list = read_list(text);
        assert_string_equal(list->sockets[0].owners[0].container_name, "web");
        free(text);
        rsap_listen_list_free(list);
}

struct refusal {
        const char *path, *replacement, *reason;
};

static const struct refusal refusals[] = {
        { "port", NULL, "socket 0: port: missing" },
        { "published", "7", "socket 0: published: not an object or null" },
        { "published", "{\"kind\": \"nat\"}", "socket 0: published.kind: not dnat or proxy" },
        { "protocol", "\"icmp\"", "socket 0: protocol: not tcp, udp, sctp or dccp" },
        { "protocol", "\"TCP\"", "socket 0: protocol: not tcp, udp, sctp or dccp" },
        { "protocol", "6", "socket 0: protocol: not a string" },
        { "family", "\"ipv5\"", "socket 0: family: not ipv4 or ipv6" },
        { "address", "\"300.0.0.1\"", "socket 0: address: not an IPv4 address" },
        { "address", "\"::1\"", "socket 0: address: not an IPv4 address" },
        { "address", "\"127.0.0.1\\u0000x\"", "socket 0: address: holds a NUL character" },
        { "address", "\"\"", "socket 0: address: not 1 to 45 bytes long" },
        { "interface", "\"0123456789abcdef\"", "socket 0: interface: not 1 to 15 bytes long" },
        { "interface", "true", "socket 0: interface: not a string or null" },
        { "ipv6_only", "false", "socket 0: ipv6_only: not null for IPv4" },
        { "ipv6_only", "1", "socket 0: ipv6_only: not a boolean or null" },
        { "port", "65536", "socket 0: port: not an integer from 0 to 65535" },
        { "port", "-1", "socket 0: port: not an integer from 0 to 65535" },
        { "port", "22.0", "socket 0: port: not an integer from 0 to 65535" },
        { "uid", "4294967295", "socket 0: uid: not an integer from 0 to 4294967294" },
        { "user", "\"\"", "socket 0: user: not 1 to 255 bytes long" },
        { "inode", "4294967296", "socket 0: inode: not an integer from 0 to 4294967295" },
        { "processes", "{}", "socket 0: processes: not a list or null" },
        { "processes", "null", "socket 0: processes_visible: null where processes is not, "
                               "or not null where it is" },
        { "processes_visible", "null", "socket 0: processes_visible: null where processes "
                                       "is not, or not null where it is" },
        { "processes.0", "7", "socket 0: processes[0]: not an object" },
        { "processes.0.pid", "0", "socket 0: processes[0].pid: not an integer from 1 to 4194304" },
        { "processes.0.pid", "4194305",
          "socket 0: processes[0].pid: not an integer from 1 to 4194304" },
        { "processes.0.command", "\"0123456789abcdef\"",
          "socket 0: processes[0].command: not 0 to 15 bytes long" },
        { "processes.0.uid", "-1",
          "socket 0: processes[0].uid: not an integer from 0 to 4294967294" },
        { "processes.0.container", "7",
          "socket 0: processes[0].container: not a string or null" },
        { "processes.0.container", "\"\"",
          "socket 0: processes[0].container: not 1 to 64 bytes long" },
        { "processes.0.container_name", "[]",
          "socket 0: processes[0].container_name: not a string or null" },
        { "processes.0.container_name", "\"\"",
          "socket 0: processes[0].container_name: not 1 to 255 bytes long" },
        { "host", NULL, "socket 0: host: missing" },
        { "host", "\"\"", "socket 0: host: not 1 to 255 bytes long" },
        { "host", "null", "socket 0: host: not a string" },
        { "netns", "[]", "socket 0: netns: not an object or null" },
        { "netns.inode", "0", "socket 0: netns.inode: not an integer from 1 to 4294967295" },
        { "netns.name", "\"a/b\"", "socket 0: netns.name: holds a '/': not a name under "
                                   "/run/netns" },
};

static void test_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
                char *text = changed_list(refusals[i].path, refusals[i].replacement);

                assert_refused(text, refusals[i].reason);
                free(text);
        }
}

static char *long_string(size_t n)
{
        char *s = malloc(n + 3);

        assert_non_null(s);
        memset(s, 'u', n + 2);
        s[0] = s[n + 1] = '"';
        s[n + 2] = '\0';
        return s;
}

static void test_refuses_long_user(void **state)
{
        char *user = long_string(RSAP_LISTEN_JSON_MAX_STRING + 1);
        char *text = changed_list("user", user);

        (void)state;
        assert_refused(text, "socket 0: user: not 1 to 255 bytes long");
        free(text);
        free(user);
}

static void test_refuses_the_shape(void **state)
{
        (void)state;
        assert_refused("\"sockets\"", "listeners: not a list of sockets or a report object");
        assert_refused("[1]", "socket 0: not an object");
        assert_refused("{\"source\": \"kernel\", \"owners_looked_up\": true,"
                       " \"unreadable_processes\": 0, \"sockets\": []}",
                       "source: not netlink, procfs or null");
        assert_refused("{\"source\": null, \"unreadable_processes\": 0, \"sockets\": []}",
                       "owners_looked_up: missing");
        assert_refused("{\"source\": null, \"owners_looked_up\": false,"
                       " \"unreadable_processes\": -1, \"sockets\": []}",
                       "unreadable_processes: not an integer from 0 to 4194304");
        assert_refused("{\"source\": null, \"owners_looked_up\": false,"
                       " \"unreadable_processes\": 0, \"sockets\": {}}",
                       "sockets: not a list");
}

static json_t *base(void)
{
        json_t *socket = json_loads(base_socket, 0, NULL);

        assert_non_null(socket);
        return socket;
}

static json_t *ipv6_socket(json_t *v6only)
{
        json_t *socket = base();

        json_object_set_new(socket, "family", json_string("ipv6"));
        json_object_set_new(socket, "address", json_string("::1"));
        json_object_set_new(socket, "ipv6_only", v6only);
        return socket;
}

static void assert_value_refused(json_t *value, const char *expected)
{
        char *text = json_dumps(value, 0);

        assert_non_null(text);
        assert_refused(text, expected);
        free(text);
        json_decref(value);
}

/* Facts of the whole list that the sockets show must agree. */
static void test_refuses_disagreement(void **state)
{
        json_t *without = base();

        (void)state;
        json_object_set_new(without, "processes", json_null());
        json_object_set_new(without, "processes_visible", json_null());
        assert_value_refused(json_pack("[oo]", base(), without),
                             "socket 1: processes: disagrees with the rest of the list");
        assert_value_refused(json_pack("[oo]", ipv6_socket(json_true()),
                                       ipv6_socket(json_null())),
                             "socket 1: ipv6_only: disagrees with the rest of the list");
        assert_value_refused(json_pack("{s:s, s:b, s:i, s:[o]}", "source", "netlink",
                                       "owners_looked_up", 1, "unreadable_processes", 0,
                                       "sockets", ipv6_socket(json_null())),
                             "socket 0: ipv6_only: disagrees with the rest of the list");
        assert_value_refused(json_pack("{s:n, s:b, s:i, s:[o]}", "source",
                                       "owners_looked_up", 0, "unreadable_processes", 0,
                                       "sockets", base()),
                             "socket 0: processes: disagrees with the rest of the list");
}

static void test_refuses_too_many(void **state)
{
        json_t *socket = base(), *owners = json_array(), *many = json_array();

        (void)state;
        for (size_t i = 0; i <= RSAP_LISTEN_JSON_MAX_OWNERS; i++)
                json_array_append_new(owners, json_pack("{s:I, s:s, s:i, s:n}", "pid",
                                                        (json_int_t)i + 1, "command", "k",
                                                        "uid", 0, "user"));
        json_object_set_new(socket, "processes", owners);
        assert_value_refused(json_pack("[o]", socket), "socket 0: processes: more than 4096");
        for (size_t i = 0; i <= RSAP_LISTEN_JSON_MAX_SOCKETS; i++)
                json_array_append(many, json_null());
        assert_value_refused(many, "sockets: more than 1000000");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_copies),
                cmocka_unit_test(test_add_refuses),
                cmocka_unit_test(test_sort),
                cmocka_unit_test(test_sort_many),
                cmocka_unit_test(test_equal),
                cmocka_unit_test(test_streamed_with_origins),
                cmocka_unit_test(test_round_trip_by_hand),
                cmocka_unit_test(test_round_trip_published),
                cmocka_unit_test(test_array_shows_list_facts),
                cmocka_unit_test(test_round_trip_collected),
                cmocka_unit_test(test_base_socket_decodes),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_refuses_long_user),
                cmocka_unit_test(test_refuses_the_shape),
                cmocka_unit_test(test_refuses_disagreement),
                cmocka_unit_test(test_refuses_too_many),
        };

        return cmocka_run_group_tests_name("listen json", tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * rsap listening: the sockets listening on this host, one line each, with
 * the IANA service of their port and the processes that hold them.  `rsap
 * who` is this command narrowed to one port (cmd_who.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rsap/answer.h>
#include <rsap/listen.h>
#include <rsap/time.h>
#include <rsap/watch.h>
#include <rsap/workflow.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

#define MAX_COMMANDS 16

struct listening_request {
        struct rsap_listen_filter filter;
        bool unregistered;
        const char *commands[MAX_COMMANDS]; /* --command: prefixes of command names, any */
        size_t n_commands;
        struct registry_cli rc; /* --db: the local registry beside IANA's */
        bool watch;             /* --watch: each change until interrupted */
        unsigned interval_ms;   /* --interval; 0: the engine's default */
};

/* ---- options ------------------------------------------------------------ */

static int parse_port_option(const struct cli_command *self, const char *text,
                             struct listening_request *req)
{
        struct rsap_port_spec spec;
        int r = rsap_port_spec_parse(text, &spec);

        if (r == -ERANGE)
                return cli_usage_error(self, "--port '%s': a port is a number from 0 to 65535",
                                       text);
        if (r < 0)
                return cli_usage_error(self, "--port '%s' is not a port or a range A-B", text);
        req->filter.port_low = spec.low;
        req->filter.port_high = spec.high;
        /* "--port 53/udp" narrows the protocols as --udp would. */
        if (spec.proto != RSAP_PROTO_NONE)
                req->filter.protocols |= 1u << spec.proto;
        return -1;
}

static int parse_pid_option(const struct cli_command *self, const char *text,
                            struct listening_request *req)
{
        char *end;
        long pid;

        errno = 0;
        pid = strtol(text, &end, 10);
        if (errno || end == text || *end || pid <= 0 || pid > INT_MAX)
                return cli_usage_error(self, "--pid '%s' is not a process id", text);
        req->filter.match_pid = true;
        req->filter.pid = (pid_t)pid;
        return -1;
}

/* A user name, or a uid in decimal (which need not have a name). */
static int parse_user_option(const struct cli_command *self, const char *text,
                             struct listening_request *req)
{
        char buf[4096], *end;
        struct passwd pw, *found = NULL;
        unsigned long uid;

        errno = 0;
        uid = strtoul(text, &end, 10);
        if (*text >= '0' && *text <= '9' && !*end && !errno && uid < (uid_t)-1) {
                req->filter.uid = (uid_t)uid;
        } else if (getpwnam_r(text, &pw, buf, sizeof(buf), &found) == 0 && found) {
                req->filter.uid = pw.pw_uid;
        } else {
                return cli_usage_error(self, "--user '%s': no such user", text);
        }
        req->filter.match_uid = true;
        return -1;
}

static int add_command_option(const struct cli_command *self, const char *text,
                              struct listening_request *req)
{
        if (!*text)
                return cli_usage_error(self, "--command needs a command name");
        if (req->n_commands == MAX_COMMANDS)
                return cli_usage_error(self, "at most %d --command options", MAX_COMMANDS);
        req->commands[req->n_commands++] = text;
        return -1;
}

/* -A, or --netns NAME|PID|PATH: one of them. */
static int parse_netns_option(const struct cli_command *self, int opt,
                              struct listening_request *req)
{
        if (req->filter.netns != RSAP_LISTEN_NETNS_OWN)
                return cli_usage_error(self, "--all-namespaces or --netns: give one of them, once");
        if (opt == 'A') {
                req->filter.netns = RSAP_LISTEN_NETNS_ALL;
                return -1;
        }
        if (!*optarg)
                return cli_usage_error(self, "--netns needs a name, a pid or a path");
        req->filter.netns = RSAP_LISTEN_NETNS_ONE;
        req->filter.netns_spec = optarg;
        return -1;
}

/* The bounds of --interval: a dump of many sockets takes milliseconds. */
#define INTERVAL_MIN_MS 10
#define INTERVAL_MAX_MS 3600000

static int parse_interval_option(const struct cli_command *self, const char *text,
                                 struct listening_request *req)
{
        char *end;
        long ms;

        errno = 0;
        ms = strtol(text, &end, 10);
        if (errno || end == text || *end || ms < INTERVAL_MIN_MS || ms > INTERVAL_MAX_MS)
                return cli_usage_error(self,
                                       "--interval '%s': milliseconds, a number from %d to %d",
                                       text, INTERVAL_MIN_MS, INTERVAL_MAX_MS);
        req->interval_ms = (unsigned)ms;
        return -1;
}

/* Returns -1 when opt was an option of this command, else an exit status. */
static int listening_option(const struct cli_command *self, int opt, void *data)
{
        struct listening_request *req = data;

        switch (opt) {
        case 't':
                req->filter.protocols |= 1u << RSAP_PROTO_TCP;
                return -1;
        case 'u':
                req->filter.protocols |= 1u << RSAP_PROTO_UDP;
                return -1;
        case 's':
                req->filter.protocols |= 1u << RSAP_PROTO_SCTP;
                return -1;
        case 'd':
                req->filter.protocols |= 1u << RSAP_PROTO_DCCP;
                return -1;
        case 'p':
                return parse_port_option(self, optarg, req);
        case 'R': {
                unsigned protocols = 0;
                int r = registry_proto_option(self, optarg, &protocols);

                req->filter.protocols |= protocols;
                return r;
        }
        case 'c':
                return add_command_option(self, optarg, req);
        case 'P':
                return parse_pid_option(self, optarg, req);
        case 'U':
                return parse_user_option(self, optarg, req);
        case 'r':
                req->unregistered = true;
                return -1;
        case 'n':
                req->filter.find_owners = false;
                return -1;
        case 'A':
        case 'N':
                return parse_netns_option(self, opt, req);
        case 'B':
                registry_option(&req->rc, opt);
                return -1;
        case 'W':
                req->watch = true;
                return -1;
        case 'I':
                return parse_interval_option(self, optarg, req);
        default:
                return -2;
        }
}

/* ---- text --------------------------------------------------------------- */

/*
 * The table is assembled by hand into one buffer and written in large
 * blocks: ten thousand lines through printf cost more than finding the
 * sockets does.
 */
struct text {
        char buf[1 << 16];
        size_t used;
        bool failed;
};

static void text_flush(struct text *t)
{
        if (t->used && fwrite(t->buf, 1, t->used, stdout) != t->used)
                t->failed = true;
        t->used = 0;
}

static void text_put(struct text *t, const char *s, size_t len)
{
        while (len > 0) {
                size_t n = sizeof(t->buf) - t->used;

                if (n == 0) {
                        text_flush(t);
                        continue;
                }
                if (n > len)
                        n = len;
                memcpy(t->buf + t->used, s, n);
                t->used += n;
                s += n;
                len -= n;
        }
}

static void text_str(struct text *t, const char *s)
{
        text_put(t, s, strlen(s));
}

/* Text from outside (a process's or a user's name), escaped. */
static void text_safe(struct text *t, const char *s)
{
        text_str(t, render_safe(s));
}

static void text_char(struct text *t, char c)
{
        text_put(t, &c, 1);
}

static void text_uint(struct text *t, unsigned long value)
{
        char digits[24];
        size_t i = sizeof(digits);

        do {
                digits[--i] = (char)('0' + value % 10);
                value /= 10;
        } while (value);
        text_put(t, digits + i, sizeof(digits) - i);
}

static void text_spaces(struct text *t, size_t n)
{
        static const char spaces[] = "                                ";

        while (n > 0) {
                size_t chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

                text_put(t, spaces, chunk);
                n -= chunk;
        }
}

/* text, then spaces up to width and the two between columns. */
static void text_column(struct text *t, const char *s, size_t len, size_t width)
{
        text_put(t, s, len);
        text_spaces(t, (len < width ? width - len : 0) + 2);
}

static void text_user(struct text *t, const char *name, uid_t uid)
{
        if (name)
                text_safe(t, name);
        else
                text_uint(t, uid);
}

static size_t append(char *buf, size_t size, size_t len, const char *s)
{
        while (*s && len + 1 < size)
                buf[len++] = *s++;
        buf[len] = '\0';
        return len;
}

/* "127.0.0.1:631", "[::1]:631", "0.0.0.0%lo:53", "[fe80::1%eth0]:546". */
static size_t format_endpoint(const struct rsap_listen_socket *s, char *buf, size_t size)
{
        bool v6 = s->family == AF_INET6;
        char port[8], *p = port + sizeof(port) - 1;
        size_t len = append(buf, size, 0, v6 ? "[" : "");
        unsigned value = s->port;

        len = append(buf, size, len, s->address);
        if (s->interface[0]) {
                len = append(buf, size, len, "%");
                len = append(buf, size, len, render_safe(s->interface));
        }
        len = append(buf, size, len, v6 ? "]:" : ":");
        *p = '\0';
        do {
                *--p = (char)('0' + value % 10);
                value /= 10;
        } while (value);
        return append(buf, size, len, p);
}

static bool same_process_kind(const struct rsap_listen_owner *a, const struct rsap_listen_owner *b)
{
        return a->uid == b->uid && strcmp(a->command, b->command) == 0;
}

/*
 * "sshd[812] root", and for a server whose workers share the socket
 * "nginx[900] root, nginx[901,902] www-data": owners of one command and user
 * are told once, with their pids together.
 */
static void text_owners(struct text *t, const struct cli *cli, const struct rsap_listen_socket *s)
{
        if (s->owners_hidden) {
                text_str(t, cli_dim(cli));
                text_str(t, "(not visible)");
                text_str(t, cli_reset(cli));
                text_char(t, ' ');
                text_user(t, s->user, s->uid);
                return;
        }
        for (size_t i = 0, groups = 0; i < s->n_owners; i++) {
                const struct rsap_listen_owner *o = &s->owners[i];
                size_t j;

                for (j = 0; j < i && !same_process_kind(&s->owners[j], o); j++)
                        ;
                if (j < i)
                        continue; /* told with the first of its kind */
                if (groups++)
                        text_str(t, ", ");
                text_safe(t, o->command);
                text_char(t, '[');
                text_uint(t, (unsigned long)o->pid);
                for (j = i + 1; j < s->n_owners; j++) {
                        if (same_process_kind(&s->owners[j], o)) {
                                text_char(t, ',');
                                text_uint(t, (unsigned long)s->owners[j].pid);
                        }
                }
                text_str(t, "] ");
                text_user(t, o->user, o->uid);
        }
}

/* A line's middle columns, formatted once for both measuring and printing. */
struct row {
        char endpoint[72];
        size_t endpoint_len;
        const char *service; /* escaped */
        size_t service_len;
        char local[48];
        size_t local_len;
        /* The port and protocol service was looked up for, when it can be
         * used again: the sockets come sorted by them, so neighbours (IPv4
         * and IPv6) share it. */
        bool service_kept;
        uint16_t service_port;
        enum rsap_proto service_proto;
};

/* "myapp" for a local assignment, "lease:ci-run" or "lease" for a lease. */
static size_t format_local(const struct rsap_local_entry *e, char *buf, size_t size)
{
        int n;

        if (!e) /* most sockets: no snprintf for them */
                return append(buf, size, 0, "-");
        if (e->kind == RSAP_LOCAL_ASSIGNMENT)
                n = snprintf(buf, size, "%s", e->service ? render_safe(e->service) : "-");
        else
                n = snprintf(buf, size, "lease%s%s", e->service ? ":" : "",
                             e->service ? render_safe(e->service) : "");
        return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static bool any_local(const struct rsap_listening_answer *a)
{
        for (size_t i = 0; i < a->list->count; i++)
                if (rsap_listening_holding(a, i))
                        return true;
        return false;
}

/* One socket's row: made once to measure the columns and again to print,
 * rather than kept for every socket (150 bytes each).  row keeps the last
 * service: zero it before the first row. */
static void make_row(const struct rsap_listening_answer *a, const struct rsap_iana *reg,
                     size_t i, struct row *row)
{
        const struct rsap_listen_socket *s = &a->list->sockets[i];

        row->endpoint_len = format_endpoint(s, row->endpoint, sizeof(row->endpoint));
        if (!row->service_kept || row->service_port != s->port ||
            row->service_proto != s->proto) {
                const char *service = rsap_iana_service_name(reg, s->port, s->proto);

                if (!service)
                        service = "-";
                row->service = render_safe(service);
                row->service_len = strlen(row->service);
                /* An escaped copy lives in one of render_safe's few slots,
                 * which the next rows' names reuse: only the registry's
                 * own text is kept. */
                row->service_kept = row->service == service;
                row->service_port = s->port;
                row->service_proto = s->proto;
        }
        row->local_len = format_local(rsap_listening_holding(a, i), row->local,
                                      sizeof(row->local));
}

struct widths {
        size_t endpoint, service, local; /* local 0: no LOCAL column */
        size_t netns;                    /* 0: no NETNS column */
};

/* The NETNS column: the namespace's name, else its inode. */
static size_t format_netns(const struct rsap_listen_socket *s, char *buf, size_t size)
{
        if (s->origin.netns_name)
                return append(buf, size, 0, render_safe(s->origin.netns_name));
        return (size_t)snprintf(buf, size, "%llu", (unsigned long long)s->origin.netns_inode);
}

/* The column shows only when more than one namespace was read (-A: `rsap
 * who -A` tells where its one socket is) or the sockets come from several. */
static size_t netns_width(const struct rsap_listen_list *list)
{
        size_t width = strlen("NETNS"), i;

        for (i = 1; list->namespaces_read <= 1 && i < list->count; i++)
                if (list->sockets[i].origin.netns_inode != list->sockets[0].origin.netns_inode)
                        break;
        if (list->namespaces_read <= 1 && i >= list->count)
                return 0;
        for (i = 0; i < list->count; i++) {
                char buf[64];
                size_t len = format_netns(&list->sockets[i], buf, sizeof(buf));

                if (len > width)
                        width = len;
        }
        return width;
}

static void text_rows(struct text *t, const struct cli *cli, const struct rsap_listening_answer *a,
                      const struct rsap_iana *reg, const struct widths *w)
{
        const struct rsap_listen_list *list = a->list;
        struct row row = { .service_kept = false };

        text_str(t, cli_bold(cli));
        if (w->netns)
                text_column(t, "NETNS", 5, w->netns);
        text_column(t, "PROTO", 5, 5);
        text_column(t, "ADDRESS:PORT", 12, w->endpoint);
        text_column(t, "SERVICE", 7, w->service);
        if (w->local)
                text_column(t, "LOCAL", 5, w->local);
        text_str(t, list->owners_looked_up ? "PROCESS" : "USER");
        text_str(t, cli_reset(cli));
        text_char(t, '\n');
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];
                const char *proto = rsap_proto_name(s->proto);

                make_row(a, reg, i, &row);
                if (w->netns) {
                        char netns[64];

                        text_column(t, netns, format_netns(s, netns, sizeof(netns)), w->netns);
                }
                text_column(t, proto, strlen(proto), 5);
                text_column(t, row.endpoint, row.endpoint_len, w->endpoint);
                text_column(t, row.service, row.service_len, w->service);
                if (w->local)
                        text_column(t, row.local, row.local_len, w->local);
                if (list->owners_looked_up)
                        text_owners(t, cli, s);
                else
                        text_user(t, s->user, s->uid);
                text_char(t, '\n');
        }
}

int render_listeners(const struct cli *cli, const struct rsap_listening_answer *a,
                     const struct rsap_iana *reg)
{
        _cleanup_(freep) struct text *t = malloc(sizeof(*t));
        /* The LOCAL column shows only when the local registry holds a port. */
        struct widths w = { strlen("ADDRESS:PORT"), strlen("SERVICE"),
                            any_local(a) ? strlen("LOCAL") : 0, netns_width(a->list) };
        struct row row = { .service_kept = false };

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < a->list->count; i++) {
                make_row(a, reg, i, &row);
                if (row.endpoint_len > w.endpoint)
                        w.endpoint = row.endpoint_len;
                if (row.service_len > w.service)
                        w.service = row.service_len;
                if (w.local && row.local_len > w.local)
                        w.local = row.local_len;
        }
        t->used = 0;
        t->failed = false;
        text_rows(t, cli, a, reg, &w);
        text_flush(t);
        return t->failed ? -EIO : 0;
}

/* Once, and only when it is true: some owner was hidden by permissions. */
void render_hidden_owners_hint(const struct rsap_listen_list *list)
{
        if (!list->owners_looked_up || list->unreadable_processes == 0)
                return;
        for (size_t i = 0; i < list->count; i++) {
                if (list->sockets[i].owners_hidden) {
                        fprintf(stderr, "rsap: the processes of other users are not visible; "
                                        "root sees them\n");
                        return;
                }
        }
}

/* Once, and only when it is true: some namespaces could not be read.  One
 * line: "rsap: 2 network namespaces could not be entered, and the network
 * namespaces of 3 processes could not be read; root sees their sockets". */
void render_hidden_namespaces_hint(const struct rsap_listen_list *list)
{
        size_t unentered = list->unentered_namespaces;
        size_t unread = list->unreadable_namespace_processes;
        char entered_part[96] = "", read_part[96] = "";

        if (unentered == 0 && unread == 0)
                return;
        if (unentered)
                snprintf(entered_part, sizeof(entered_part),
                         "%zu network namespace%s could not be entered", unentered,
                         unentered == 1 ? "" : "s");
        if (unread)
                snprintf(read_part, sizeof(read_part),
                         "the network namespace%s of %zu process%s could not be read",
                         unread == 1 ? "" : "s", unread, unread == 1 ? "" : "es");
        fprintf(stderr, "rsap: %s%s%s; root sees their sockets\n", entered_part,
                unentered && unread ? ", and " : "", read_part);
}

/* ---- --command ----------------------------------------------------------- */

/* As lsof -c: the command name (/proc/PID/comm) begins with one of the prefixes. */
static bool owner_matches(const struct rsap_listen_owner *o, const struct listening_request *req)
{
        for (size_t i = 0; i < req->n_commands; i++)
                if (strncmp(o->command, req->commands[i], strlen(req->commands[i])) == 0)
                        return true;
        return false;
}

/* Whether any owner of socket i matches; hidden owners match nothing. */
static bool command_matches(const struct rsap_listening_answer *a, size_t i, const void *req)
{
        const struct rsap_listen_socket *s = &a->list->sockets[i];

        for (size_t j = 0; j < s->n_owners; j++)
                if (owner_matches(&s->owners[j], req))
                        return true;
        return false;
}

/* ---- the command -------------------------------------------------------- */

static int collect_error(int err, const struct rsap_listen_filter *f)
{
        if (err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT)
                return cli_error("cannot list sockets: this system has neither the sock_diag "
                                 "netlink interface nor /proc/net (rsap reads Linux's)");
        if (f->netns == RSAP_LISTEN_NETNS_ONE && (err == -ENOENT || err == -EINVAL))
                return cli_error("--netns '%s': %s", f->netns_spec,
                                 err == -ENOENT ? "no such network namespace (an ip-netns name, "
                                                  "a process id, or a path)"
                                                : "not a network namespace");
        if (f->netns == RSAP_LISTEN_NETNS_ONE && (err == -EPERM || err == -EACCES))
                return cli_error("--netns '%s': may not enter that network namespace (root can)",
                                 f->netns_spec);
        if (err == -EACCES && f->match_pid)
                return cli_error("cannot read the descriptors of process %d: %s (root can)",
                                 (int)f->pid, strerror(EACCES));
        return cli_error_code(err, "cannot list sockets");
}

static int answer_error(struct listening_request *req, enum rsap_answer_part failed, int err)
{
        if (failed == RSAP_ANSWER_LISTENERS)
                return collect_error(err, &req->filter);
        if (failed == RSAP_ANSWER_LOCAL)
                return registry_error(&req->rc, err, "cannot read the local registry");
        return cli_error("out of memory");
}

/* The sockets, each with the organisation's holding when there is a registry. */
static int answer_listening(struct cli *cli, struct listening_request *req,
                            const struct rsap_iana *reg, struct rsap_listening_answer *out)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_answer_sources src = { .iana = reg };
        enum rsap_answer_part failed;
        int r = registry_open_read(cli, &req->rc, &store);

        if (r)
                return r;
        src.store = store;
        r = rsap_answer_listening(&src, &req->filter, req->unregistered, out, &failed);
        return r < 0 ? answer_error(req, failed, r) : 0;
}

static int run_listening(struct cli *cli, struct listening_request *req)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_listening_answer_clear) struct rsap_listening_answer a = { 0 };
        int r;

        reg = cli_open_registry(cli);
        if (!reg)
                return EXIT_BAD_INPUT;
        r = answer_listening(cli, req, reg, &a);
        if (r)
                return r;
        if (req->n_commands > 0)
                rsap_listening_keep(&a, command_matches, req);
        /* The JSON is written socket by socket: as one jansson value, ten
         * thousand sockets would take some 30 MiB. */
        if (cli->json) {
                r = rsap_listening_answer_write_json(&a, reg, stdout);
                if (r == 0 && putchar('\n') == EOF)
                        r = -EIO;
        } else if (a.list->count > 0) {
                r = render_listeners(cli, &a, reg);
        }
        if (r == -ENOMEM)
                return cli_error("out of memory");
        if (r != 0 || fflush(stdout) != 0)
                return cli_error("cannot write the output");
        render_hidden_owners_hint(a.list); /* after the listing it is about */
        render_hidden_namespaces_hint(a.list);
        return a.list->count > 0 ? EXIT_ANSWERED : EXIT_NO_MATCH;
}

/* ---- --watch ------------------------------------------------------------ */

/* What --watch cannot do: it reads this namespace's destroy events, and
 * prints no local registry column. */
static int check_watch_options(const struct cli_command *self, const struct listening_request *req)
{
        if (!req->watch)
                return cli_usage_error(self, "--interval needs --watch");
        if (req->filter.netns != RSAP_LISTEN_NETNS_OWN)
                return cli_usage_error(self, "--watch reads this network namespace only: drop "
                                             "--all-namespaces or --netns");
        if (req->unregistered || req->rc.db)
                return cli_usage_error(self, "--watch shows IANA's services only: drop %s",
                                       req->unregistered ? "--unregistered" : "--db");
        return 0;
}

struct watch_output {
        const struct cli *cli;
        const struct listening_request *req;
        const struct rsap_iana *reg;
        struct text *text;
        bool hinted; /* the hidden owners' line has been said */
};

/* Whether --command lets the change through: any owner's command name. */
static bool watch_wanted(const struct listening_request *req, const struct rsap_listen_socket *s)
{
        for (size_t j = 0; req->n_commands > 0 && j < s->n_owners; j++)
                if (owner_matches(&s->owners[j], req))
                        return true;
        return req->n_commands == 0;
}

/* "2026-12-02T01:50:00.123Z  +  tcp   127.0.0.1:8080         http-alt         python3[812] root":
 * the widths are fixed (a service name has at most 15 characters), so the
 * lines of a stream line up without being seen first. */
static void watch_text_line(struct watch_output *o, const struct rsap_watch_event *ev)
{
        const struct rsap_listen_socket *s = ev->socket;
        const char *proto = rsap_proto_name(s->proto);
        const char *service = rsap_iana_service_name(o->reg, s->port, s->proto);
        char when[RSAP_TIME_SIZE], endpoint[72];
        size_t endpoint_len = format_endpoint(s, endpoint, sizeof(endpoint));

        rsap_time_format(ev->at_us, when, sizeof(when));
        service = render_safe(service ? service : "-");
        text_column(o->text, when, strlen(when), 0);
        text_column(o->text, ev->change == RSAP_WATCH_STARTED ? "+" : "-", 1, 1);
        text_column(o->text, proto, strlen(proto), 4);
        text_column(o->text, endpoint, endpoint_len, 21);
        text_column(o->text, service, strlen(service), 15);
        if (ev->list->owners_looked_up)
                text_owners(o->text, o->cli, s);
        else
                text_user(o->text, s->user, s->uid);
        text_char(o->text, '\n');
}

/* {"change": "started"|"stopped", "at", "at_us", "socket": what rsap
 * listening --json shows of it}, on one line (docs/json.md). */
static int watch_json_line(struct watch_output *o, const struct rsap_watch_event *ev)
{
        char when[RSAP_TIME_SIZE];
        json_t *value;
        _cleanup_(freep) char *line = NULL;

        rsap_time_format(ev->at_us, when, sizeof(when));
        value = json_pack("{s:s, s:s, s:I, s:o*}", "change",
                          ev->change == RSAP_WATCH_STARTED ? "started" : "stopped", "at", when,
                          "at_us", (json_int_t)ev->at_us, "socket",
                          rsap_listen_socket_to_json(ev->list, ev->index, o->reg, NULL));
        line = value ? json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(value);
        if (!line)
                return -ENOMEM;
        text_str(o->text, line);
        text_char(o->text, '\n');
        return 0;
}

/* One change, written and flushed at once: a pipe sees it as it happens. */
static int on_watch_change(const struct rsap_watch_event *ev, void *data)
{
        struct watch_output *o = data;
        int r = 0;

        if (!watch_wanted(o->req, ev->socket))
                return 0;
        if (o->cli->json)
                r = watch_json_line(o, ev);
        else
                watch_text_line(o, ev);
        text_flush(o->text);
        if (r == 0 && (o->text->failed || fflush(stdout) != 0))
                r = -EIO;
        if (r == 0 && !o->hinted && ev->socket->owners_hidden && ev->list->owners_looked_up) {
                render_hidden_owners_hint(ev->list);
                o->hinted = true;
        }
        return r;
}

static volatile sig_atomic_t watch_interrupted;

static void on_watch_signal(int sig)
{
        (void)sig;
        watch_interrupted = 1;
}

/* SIGINT and SIGTERM blocked but while waiting (ppoll), where they end the
 * wait: a signal between two waits is not lost.  wait_mask: the mask to
 * wait with. */
static void catch_stop_signals(sigset_t *wait_mask)
{
        struct sigaction sa = { .sa_handler = on_watch_signal };
        sigset_t stops;

        sigemptyset(&stops);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGTERM);
        sigprocmask(SIG_BLOCK, &stops, wait_mask);
        sigdelset(wait_mask, SIGINT);
        sigdelset(wait_mask, SIGTERM);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
}

/* Once the first dump is in, on stderr: from here on every change is
 * printed (and a script may start making them). */
static void say_watching(const struct watch_output *o, const struct rsap_watch *w)
{
        if (o->req->n_commands > 0)
                fprintf(stderr, "rsap: watching; each change follows until interrupted\n");
        else
                fprintf(stderr, "rsap: watching %zu listening socket%s; each change follows "
                                "until interrupted\n",
                        rsap_watch_count(w), rsap_watch_count(w) == 1 ? "" : "s");
}

/* The engine's loop until a signal: 0, or the error of a step.  The first
 * step is the first dump: it is due at once. */
static int watch_loop(struct rsap_watch *w, struct watch_output *o)
{
        sigset_t wait_mask;
        int r;

        catch_stop_signals(&wait_mask);
        r = rsap_watch_step(w, on_watch_change, o);
        if (r == 0)
                say_watching(o, w);
        while (r == 0 && !watch_interrupted) {
                struct pollfd p = { .fd = rsap_watch_fd(w), .events = POLLIN };
                int ms = rsap_watch_timeout_ms(w);
                struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

                if (ppoll(&p, 1, &ts, &wait_mask) < 0 && errno != EINTR)
                        return -errno;
                if (!watch_interrupted)
                        r = rsap_watch_step(w, on_watch_change, o);
        }
        return r;
}

static int run_watch(struct cli *cli, struct listening_request *req)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_watch_freep) struct rsap_watch *w = NULL;
        _cleanup_(freep) struct text *t = malloc(sizeof(*t));
        struct rsap_watch_options wo = { .interval_ms = req->interval_ms,
                                         .filter = req->filter, .quiet_start = true };
        struct watch_output o = { .cli = cli, .req = req, .text = t };
        int r;

        reg = cli_open_registry(cli);
        if (!reg)
                return EXIT_BAD_INPUT;
        if (!t)
                return cli_error("out of memory");
        t->used = 0;
        t->failed = false;
        o.reg = reg;
        r = rsap_watch_new(&wo, &w);
        if (r == 0)
                r = watch_loop(w, &o);
        if (r == -EIO)
                return cli_error("cannot write the output");
        if (r == -ENOMEM)
                return cli_error("out of memory");
        return r < 0 ? collect_error(r, &req->filter) : EXIT_ANSWERED;
}

int cmd_listening(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("listening");
        struct listening_request req = { .unregistered = false };
        int r;

        rsap_listen_filter_init(&req.filter);
        r = cli_getopt(cli, self, argc, argv, listening_option, &req);
        if (r >= 0)
                return r;
        if (optind < argc)
                return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
        if (req.n_commands > 0 && !req.filter.find_owners)
                return cli_usage_error(self, "--command needs the processes: drop --no-process");
        if (req.watch || req.interval_ms) {
                r = check_watch_options(self, &req);
                return r ? r : run_watch(cli, &req);
        }
        return run_listening(cli, &req);
}

/* SPDX-License-Identifier: MIT */
/*
 * User-space forwarders: processes that hold a host port and copy what
 * arrives into a container's namespace.  docker-proxy's arguments name its
 * target; pasta's name the ports it forwards into the namespace it serves
 * (not an address: the namespace's own); rootlessport and slirp4netns get
 * their forwards over a pipe or an API socket, so only that they forward
 * is known.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rsap/basic.h>
#include <rsap/listen.h>
#include <rsap/proc.h>

#include "listen_internal.h"

static const char *const forwarders[] = {
        "docker-proxy", "pasta", "pasta.avx2", "rootlessport", "rootlessport-ch", "slirp4netns",
};

bool rsap_listen_is_forwarder(const char *command)
{
        for (size_t i = 0; i < ARRAY_SIZE(forwarders); i++)
                if (strcmp(command, forwarders[i]) == 0)
                        return true;
        return false;
}

static const char *base_name(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

static bool parse_port(const char *text, size_t len, uint16_t *out)
{
        unsigned long v = 0;

        if (len == 0 || len > 5)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return false;
                v = v * 10 + (unsigned long)(text[i] - '0');
        }
        if (v > UINT16_MAX)
                return false;
        *out = (uint16_t)v;
        return true;
}

/* ---- docker-proxy ------------------------------------------------------- */

/* The value of -NAME or --NAME (as "-NAME VALUE" or "-NAME=VALUE"), or NULL. */
static const char *option(const char *const *argv, size_t argc, const char *name)
{
        size_t len = strlen(name);

        for (size_t i = 1; i < argc; i++) {
                const char *a = argv[i] + (argv[i][0] == '-') + (argv[i][0] == '-' &&
                                                                 argv[i][1] == '-');

                if (a == argv[i] || strncmp(a, name, len) != 0)
                        continue;
                if (a[len] == '=')
                        return a + len + 1;
                if (a[len] == '\0' && i + 1 < argc)
                        return argv[i + 1];
        }
        return NULL;
}

static int docker_proxy_target(const char *const *argv, size_t argc, enum rsap_proto proto,
                               uint16_t port, struct rsap_listen_forward *out)
{
        const char *p = option(argv, argc, "proto"), *host_port = option(argv, argc, "host-port");
        const char *ip = option(argv, argc, "container-ip");
        const char *cport = option(argv, argc, "container-port");
        uint16_t hp, tp;

        if (!p || !host_port || !ip || !cport || strcmp(p, rsap_proto_name(proto)) != 0 ||
            !parse_port(host_port, strlen(host_port), &hp) || hp != port ||
            !parse_port(cport, strlen(cport), &tp))
                return 0;
        if (inet_pton(AF_INET, ip, out->target_addr) == 1)
                out->target_family = AF_INET;
        else if (inet_pton(AF_INET6, ip, out->target_addr) == 1)
                out->target_family = AF_INET6;
        else
                return 0;
        inet_ntop(out->target_family, out->target_addr, out->target_address,
                  sizeof(out->target_address));
        out->target_port = out->target_port_high = tp;
        return 1;
}

/* ---- pasta -------------------------------------------------------------- */

/* "A[-B]" into low and high. */
static bool parse_range(const char *text, size_t len, uint16_t *low, uint16_t *high)
{
        const char *dash = memchr(text, '-', len);

        if (!dash)
                return parse_port(text, len, low) && (*high = *low, true);
        return parse_port(text, (size_t)(dash - text), low) &&
               parse_port(dash + 1, len - (size_t)(dash + 1 - text), high) && *low <= *high;
}

/* One spec "[ADDR[%IF]/]PORT[-PORT][:PORT[-PORT]]": the target of port, if
 * it forwards port.  "~PORT" excludes; "all", "auto" and "none" name no
 * port in the arguments. */
static bool pasta_spec(const char *spec, size_t len, uint16_t port, uint16_t *target)
{
        const char *slash = memchr(spec, '/', len), *colon;
        uint16_t low, high, to_low, to_high;

        if (slash) {
                len -= (size_t)(slash + 1 - spec);
                spec = slash + 1;
        }
        colon = memchr(spec, ':', len);
        if (!parse_range(spec, colon ? (size_t)(colon - spec) : len, &low, &high) ||
            port < low || port > high)
                return false;
        *target = port;
        if (colon) {
                if (!parse_range(colon + 1, len - (size_t)(colon + 1 - spec), &to_low, &to_high))
                        return false;
                *target = (uint16_t)(to_low + (port - low));
        }
        return true;
}

static bool pasta_option_for(const char *arg, enum rsap_proto proto)
{
        if (proto == RSAP_PROTO_TCP)
                return strcmp(arg, "-t") == 0 || strcmp(arg, "--tcp-ports") == 0;
        if (proto == RSAP_PROTO_UDP)
                return strcmp(arg, "-u") == 0 || strcmp(arg, "--udp-ports") == 0;
        return false;
}

/* The target of port in the specs of proto's options; with excluded
 * false, only a "~PORT" spec counts (the port is then not forwarded). */
static bool pasta_find(const char *const *argv, size_t argc, enum rsap_proto proto,
                       uint16_t port, bool excluded, uint16_t *target)
{
        for (size_t i = 1; i + 1 < argc; i++) {
                if (!pasta_option_for(argv[i], proto))
                        continue;
                for (const char *s = argv[i + 1]; *s;) {
                        size_t len = strcspn(s, ",");
                        bool exclusion = s[0] == '~';

                        if (exclusion == excluded &&
                            pasta_spec(s + exclusion, len - exclusion, port, target))
                                return true;
                        s += len + (s[len] == ',');
                }
        }
        return false;
}

static int pasta_target(const char *const *argv, size_t argc, enum rsap_proto proto,
                        uint16_t port, struct rsap_listen_forward *out)
{
        uint16_t target;

        if (pasta_find(argv, argc, proto, port, true, &target) ||
            !pasta_find(argv, argc, proto, port, false, &target))
                return 0;
        out->target_port = out->target_port_high = target;
        return 1;
}

int rsap_listen_forwarder_target(const char *command, const char *const *argv, size_t argc,
                                 enum rsap_proto proto, uint16_t port,
                                 struct rsap_listen_forward *out)
{
        const char *name = base_name(command);

        if (strcmp(name, "docker-proxy") == 0)
                return docker_proxy_target(argv, argc, proto, port, out);
        if (strncmp(name, "pasta", 5) == 0)
                return pasta_target(argv, argc, proto, port, out);
        if (strncmp(name, "rootlessport", 12) == 0 || strcmp(name, "slirp4netns") == 0)
                return 0;
        return -EINVAL;
}

/* ---- the list's forwarders ---------------------------------------------- */

#define CMDLINE_MAX 8192
#define ARGS_MAX 256

/* A process's arguments, split in place in buf. */
static size_t read_arguments(pid_t pid, char *buf, size_t size, const char **argv)
{
        ssize_t n = rsap_proc_read(-1, pid, "cmdline", buf, size);
        size_t argc = 0;

        if (n <= 0)
                return 0;
        buf[n < (ssize_t)size ? n : (ssize_t)size - 1] = '\0';
        for (size_t off = 0; off < (size_t)n && argc < ARGS_MAX; off += strlen(buf + off) + 1)
                argv[argc++] = buf + off;
        return argc;
}

static const struct rsap_listen_owner *forwarder_owner(const struct rsap_listen_socket *s)
{
        for (size_t i = 0; i < s->n_owners; i++)
                if (rsap_listen_is_forwarder(s->owners[i].command))
                        return &s->owners[i];
        return NULL;
}

static int name_forward(struct rsap_listen_list *list, struct rsap_listen_socket *s,
                        const struct rsap_listen_owner *o)
{
        static _Thread_local char buf[CMDLINE_MAX];
        const char *argv[ARGS_MAX];
        size_t argc = read_arguments(o->pid, buf, sizeof(buf), argv);
        struct rsap_listen_forward *fw = rsap_listen_keep(list, calloc(1, sizeof(*fw)));

        if (!fw)
                return -ENOMEM;
        fw->kind = RSAP_LISTEN_FORWARD_PROXY;
        if (rsap_listen_forwarder_target(o->command, argv, argc, s->proto, s->port, fw) < 0)
                memset(fw, 0, sizeof(*fw)), fw->kind = RSAP_LISTEN_FORWARD_PROXY;
        s->forward = fw;
        return rsap_listen_keep_string(list, o->command, &fw->via);
}

int rsap_listen_name_forwarders(struct rsap_listen_list *list)
{
        for (size_t i = 0; i < list->count; i++) {
                struct rsap_listen_socket *s = &list->sockets[i];
                const struct rsap_listen_owner *o = s->forward ? NULL : forwarder_owner(s);
                int r = o ? name_forward(list, s, o) : 0;

                if (r < 0)
                        return r;
        }
        return 0;
}

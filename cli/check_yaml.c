/* SPDX-License-Identifier: MIT */
/*
 * rsap check's YAML walk: Compose files (services.*.ports) and Kubernetes
 * manifests (pods' hostPort, hostNetwork pods' containerPort, Services'
 * nodePort), any number of documents per file.
 *
 * Aliases are followed and merge keys (<<) honoured at each lookup rather
 * than by libfyaml's resolution of the whole document, which copies every
 * alias (a file of a few kilobytes could make it build gigabytes) and, in
 * 0.7, refuses a key that overrides a merged one.  The walk
 * visits only the few paths that hold ports, and the ports of one run are
 * capped (CHECK_PORTS_MAX), so memory follows the file's size.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include <rsap/fileio.h>

#include "check_yaml.h"
#include "cli.h"
#include "render.h"

#define MERGE_DEPTH 8
#define ENV_FILE_MAX (1u << 20)

struct walk {
        const char *path;
        const struct check_env *env;
        struct check_ports *out;
        const char *source;
        const char *service;
};

/* ---- nodes ----------------------------------------------------------------------- */

static struct fy_node *deref(struct fy_node *n)
{
        return n && fy_node_is_alias(n) ? fy_node_resolve_alias(n) : n;
}

static bool scalar_is(struct fy_node *n, const char *text)
{
        size_t len;
        const char *s;

        n = deref(n);
        if (!n || !fy_node_is_scalar(n))
                return false;
        s = fy_node_get_scalar(n, &len);
        return s && len == strlen(text) && memcmp(s, text, len) == 0;
}

/* The scalar's text as a C string; false when n is no scalar or too long. */
static bool scalar_copy(struct fy_node *n, char *buf, size_t size)
{
        size_t len;
        const char *s;

        n = deref(n);
        if (!n || !fy_node_is_scalar(n))
                return false;
        s = fy_node_get_scalar(n, &len);
        if (!s || len >= size || memchr(s, '\0', len))
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return true;
}

/* A mapping's value for key: its own pair first, then those its merge keys (<<) bring. */
static struct fy_node *map_get_depth(struct fy_node *map, const char *key, int depth)
{
        struct fy_node_pair *pair;
        struct fy_node *merged, *found, *item;
        void *it = NULL, *it2;

        map = deref(map);
        if (!map || !fy_node_is_mapping(map) || depth > MERGE_DEPTH)
                return NULL;
        while ((pair = fy_node_mapping_iterate(map, &it)))
                if (scalar_is(fy_node_pair_key(pair), key))
                        return fy_node_pair_value(pair);
        merged = deref(fy_node_mapping_lookup_by_string(map, "<<", 2));
        if (merged && fy_node_is_sequence(merged)) {
                it2 = NULL;
                while ((item = fy_node_sequence_iterate(merged, &it2)))
                        if ((found = map_get_depth(item, key, depth + 1)))
                                return found;
                return NULL;
        }
        return merged ? map_get_depth(merged, key, depth + 1) : NULL;
}

static struct fy_node *map_get(struct fy_node *map, const char *key)
{
        return map_get_depth(map, key, 0);
}

/* Where a node is written (an alias: where the alias is), 1-based. */
static void node_where(struct fy_node *n, int *line, int *column)
{
        struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

        *line = m ? m->line + 1 : 0;
        *column = m ? m->column + 1 : 0;
}

static int fail_at(const struct walk *w, struct fy_node *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail_at(const struct walk *w, struct fy_node *n, const char *fmt, ...)
{
        char message[400];
        int line, column;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        node_where(n, &line, &column);
        if (line)
                cli_error("%s:%d:%d: %s", render_safe(w->path), line, column, message);
        else
                cli_error("%s: %s", render_safe(w->path), message);
        return -1;
}

/* ---- ports ---------------------------------------------------------------------- */

static int add_ports(const struct walk *w, struct fy_node *at, const char *host_ip,
                     uint16_t low, uint16_t high, enum rsap_proto proto)
{
        struct check_port *p;

        for (uint32_t port = low; port <= high; port++) {
                if (w->out->n == CHECK_PORTS_MAX)
                        return fail_at(w, at, "more than %d host ports in one check",
                                       CHECK_PORTS_MAX);
                if (rsap_grow(&w->out->items, &w->out->capacity, w->out->n + 1, sizeof(*p)) < 0)
                        return fail_at(w, NULL, "out of memory");
                p = &w->out->items[w->out->n++];
                memset(p, 0, sizeof(*p));
                p->file = w->path;
                node_where(at, &p->line, &p->column);
                p->source = w->source;
                snprintf(p->service, sizeof(p->service), "%s", w->service);
                snprintf(p->host_ip, sizeof(p->host_ip), "%s", host_ip);
                p->port = (uint16_t)port;
                p->proto = proto;
        }
        return 0;
}

/* A decimal port from a scalar; -1 after an error naming what. */
static int port_value(const struct walk *w, struct fy_node *n, const char *what, uint16_t *port)
{
        char text[32];

        if (!scalar_copy(n, text, sizeof(text)) || rsap_port_parse(text, port) < 0)
                return fail_at(w, n, "%s is not a port (0-65535)", what);
        return 0;
}

/* tcp, udp or sctp, in any case: what Compose and Kubernetes publish. */
static bool deployable_proto(const char *text, enum rsap_proto *proto)
{
        return rsap_proto_parse(text, proto) == 0 &&
               (*proto == RSAP_PROTO_TCP || *proto == RSAP_PROTO_UDP || *proto == RSAP_PROTO_SCTP);
}

static int proto_value(const struct walk *w, struct fy_node *n, enum rsap_proto *proto)
{
        char text[16];

        *proto = RSAP_PROTO_TCP;
        if (!n)
                return 0;
        if (!scalar_copy(n, text, sizeof(text)) || !deployable_proto(text, proto))
                return fail_at(w, n, "protocol is not tcp, udp or sctp");
        return 0;
}

/* ---- Compose ---------------------------------------------------------------------- */

static const char *env_lookup(const char *name, void *arg)
{
        const struct check_env *env = arg;
        const char *value = getenv(name);
        size_t len = strlen(name);

        for (size_t i = env->n; !value && i > 0; i--) /* the last line of a name wins */
                if (strncmp(env->lines[i - 1], name, len) == 0 && env->lines[i - 1][len] == '=')
                        value = env->lines[i - 1] + len + 1;
        return value;
}

/* A Compose value after ${VAR} interpolation; -1 after an error. */
static int compose_value(const struct walk *w, struct fy_node *n, const char *what, char *buf,
                         size_t size)
{
        char raw[256], missing[128] = "";
        int r;

        if (!scalar_copy(n, raw, sizeof(raw)))
                return fail_at(w, n, "%s is not a short text", what);
        r = rsap_compose_interpolate(raw, env_lookup, (void *)w->env, buf, size, missing,
                                     sizeof(missing));
        if (r == -ENOENT)
                return fail_at(w, n, "%s needs the variable %s, which is not set", what,
                               render_safe(missing));
        if (r < 0)
                return fail_at(w, n, "%s '%s': %s", what, render_safe(raw),
                               r == -ENOSPC ? "too long once interpolated"
                                            : "bad ${...} interpolation");
        return 0;
}

static int compose_short(const struct walk *w, struct fy_node *n)
{
        struct rsap_deploy_ports p;
        char text[256];
        int r;

        if (compose_value(w, n, "port", text, sizeof(text)) < 0)
                return -1;
        r = rsap_compose_port_parse(text, &p);
        if (r < 0)
                return fail_at(w, n, "'%s' is not a Compose port ([[IP:]HOST:]CONTAINER[/PROTO])%s",
                               render_safe(text),
                               r == -ERANGE ? ": a number past 65535 or ranges of unequal length"
                                            : "");
        return p.has_host ? add_ports(w, n, p.host_ip, p.host_low, p.host_high, p.proto) : 0;
}

/* {target, published, host_ip, protocol, mode}: only published takes a host port. */
static int compose_long(const struct walk *w, struct fy_node *map)
{
        struct fy_node *published = map_get(map, "published"), *ip = map_get(map, "host_ip");
        struct fy_node *protocol = map_get(map, "protocol");
        char text[256], host_ip[64] = "";
        enum rsap_proto proto = RSAP_PROTO_TCP;
        uint16_t low, high;

        if (!map_get(map, "target"))
                return fail_at(w, published, "a long-syntax port needs a target");
        if (!published)
                return 0;
        if (compose_value(w, published, "published", text, sizeof(text)) < 0)
                return -1;
        if (rsap_deploy_range_parse(text, &low, &high) < 0)
                return fail_at(w, published, "published '%s' is not a port or a range A-B",
                               render_safe(text));
        if (ip && compose_value(w, ip, "host_ip", host_ip, sizeof(host_ip)) < 0)
                return -1;
        if (protocol && compose_value(w, protocol, "protocol", text, sizeof(text)) < 0)
                return -1;
        if (protocol && !deployable_proto(text, &proto))
                return fail_at(w, protocol, "protocol is not tcp, udp or sctp");
        return high ? add_ports(w, published, host_ip, low, high, proto) : 0;
}

static int compose_service(struct walk *w, struct fy_node *key, struct fy_node *service)
{
        struct fy_node *ports = deref(map_get(service, "ports")), *item;
        char name[64];
        void *it = NULL;
        int r = 0;

        if (!scalar_copy(key, name, sizeof(name)))
                return fail_at(w, key, "a service's name is not a short text");
        if (!ports)
                return 0;
        if (!fy_node_is_sequence(ports))
                return fail_at(w, key, "the ports of service %s are not a list",
                               render_safe(name));
        w->service = name;
        while (r == 0 && (item = fy_node_sequence_iterate(ports, &it))) {
                struct fy_node *value = deref(item);

                r = value && fy_node_is_mapping(value) ? compose_long(w, value)
                                                       : compose_short(w, item);
        }
        return r;
}

static int compose_document(struct walk *w, struct fy_node *services)
{
        struct fy_node_pair *pair;
        void *it = NULL;
        int r = 0;

        services = deref(services);
        if (!services || !fy_node_is_mapping(services))
                return fy_node_is_scalar(services) && scalar_is(services, "")
                               ? 0
                               : fail_at(w, NULL, "services: is not a mapping");
        w->source = "compose";
        while (r == 0 && (pair = fy_node_mapping_iterate(services, &it)))
                if (!scalar_is(fy_node_pair_key(pair), "<<"))
                        r = compose_service(w, fy_node_pair_key(pair),
                                            deref(fy_node_pair_value(pair)));
        return r;
}

/* ---- Kubernetes ---------------------------------------------------------------------- */

/* One container's ports: hostPort, or containerPort on the host's network. */
static int kube_container(const struct walk *w, struct fy_node *container, bool host_network)
{
        struct fy_node *ports = deref(map_get(container, "ports")), *item, *host, *n;
        enum rsap_proto proto;
        void *it = NULL;
        uint16_t port;

        if (!ports || !fy_node_is_sequence(ports))
                return 0;
        while ((item = fy_node_sequence_iterate(ports, &it))) {
                host = map_get(item, "hostPort");
                n = host ? host : host_network ? map_get(item, "containerPort") : NULL;
                if (!n)
                        continue;
                if (port_value(w, n, host ? "hostPort" : "containerPort", &port) < 0 ||
                    proto_value(w, map_get(item, "protocol"), &proto) < 0)
                        return -1;
                if (port && add_ports(w, n, "", port, port, proto) < 0)
                        return -1;
        }
        return 0;
}

static int kube_pod_spec(const struct walk *w, struct fy_node *spec)
{
        static const char *const lists[] = { "initContainers", "containers" };
        bool host_network = scalar_is(map_get(spec, "hostNetwork"), "true");
        struct fy_node *containers, *c;

        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                void *it = NULL;

                containers = deref(map_get(spec, lists[i]));
                if (!containers || !fy_node_is_sequence(containers))
                        continue;
                while ((c = fy_node_sequence_iterate(containers, &it)))
                        if (kube_container(w, c, host_network) < 0)
                                return -1;
        }
        return 0;
}

/* A Service of type NodePort or LoadBalancer: each port's nodePort, on every node. */
static int kube_service(const struct walk *w, struct fy_node *spec)
{
        struct fy_node *type = map_get(spec, "type"), *ports = deref(map_get(spec, "ports"));
        struct fy_node *item, *n;
        enum rsap_proto proto;
        void *it = NULL;
        uint16_t port;

        if (!scalar_is(type, "NodePort") && !scalar_is(type, "LoadBalancer"))
                return 0;
        if (ports && !fy_node_is_sequence(ports))
                return fail_at(w, ports, "a Service's ports are not a list");
        while (ports && (item = fy_node_sequence_iterate(ports, &it))) {
                if (!(n = map_get(item, "nodePort")))
                        continue; /* the cluster chooses one */
                if (port_value(w, n, "nodePort", &port) < 0 ||
                    proto_value(w, map_get(item, "protocol"), &proto) < 0 ||
                    add_ports(w, n, "", port, port, proto) < 0)
                        return -1;
        }
        return 0;
}

static bool kind_is_one_of(struct fy_node *kind, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (scalar_is(kind, names[i]))
                        return true;
        return false;
}

/* Where each kind keeps its pod spec; NULL for a kind that has none. */
static struct fy_node *kube_pod_spec_of(struct fy_node *obj)
{
        static const char *const templated[] = { "Deployment", "StatefulSet", "DaemonSet",
                                                 "ReplicaSet", "Job", "ReplicationController" };
        struct fy_node *kind = map_get(obj, "kind"), *spec = map_get(obj, "spec");

        if (scalar_is(kind, "Pod"))
                return spec;
        if (scalar_is(kind, "PodTemplate"))
                return map_get(map_get(obj, "template"), "spec");
        if (scalar_is(kind, "CronJob"))
                return map_get(map_get(map_get(map_get(spec, "jobTemplate"), "spec"), "template"),
                               "spec");
        if (kind_is_one_of(kind, templated, ARRAY_SIZE(templated)))
                return map_get(map_get(spec, "template"), "spec");
        return NULL;
}

static int kube_object(struct walk *w, struct fy_node *obj, int depth)
{
        struct fy_node *items = deref(map_get(obj, "items")), *item, *spec;
        char name[64] = "";
        void *it = NULL;

        if (scalar_is(map_get(obj, "kind"), "List") && items && depth == 0) {
                if (!fy_node_is_sequence(items))
                        return fail_at(w, NULL, "a List's items are not a list");
                while ((item = fy_node_sequence_iterate(items, &it)))
                        if (kube_object(w, deref(item), depth + 1) < 0)
                                return -1;
                return 0;
        }
        /* No name (generateName, or none): the ports are checked, and filed under none. */
        scalar_copy(map_get(map_get(obj, "metadata"), "name"), name, sizeof(name));
        w->service = name;
        w->source = "kubernetes";
        if (scalar_is(map_get(obj, "kind"), "Service"))
                return kube_service(w, map_get(obj, "spec"));
        spec = kube_pod_spec_of(obj);
        return spec ? kube_pod_spec(w, spec) : 0;
}

/* ---- files ------------------------------------------------------------------------ */

static int walk_document(struct walk *w, struct fy_document *doc)
{
        struct fy_node *root = deref(fy_document_root(doc)), *services;

        if (!root || (fy_node_is_scalar(root) && scalar_is(root, "")))
                return 0; /* an empty document */
        if (!fy_node_is_mapping(root))
                return fail_at(w, root, "neither a Compose file (services:) nor a Kubernetes "
                                        "object (kind:)");
        services = map_get(root, "services");
        if (services)
                return compose_document(w, services);
        if (map_get(root, "kind"))
                return kube_object(w, root, 0);
        return fail_at(w, NULL, "neither a Compose file (services:) nor a Kubernetes object "
                                "(kind:)");
}

/* libfyaml's first error, as FILE:LINE:COL: message; -1. */
static int yaml_error(const struct walk *w, struct fy_diag *diag)
{
        struct fy_diag_error *e;
        void *it = NULL;

        e = fy_diag_errors_iterate(diag, &it);
        if (!e)
                cli_error("%s: not valid YAML", render_safe(w->path));
        else
                cli_error("%s:%d:%d: not valid YAML: %s", render_safe(w->path), e->line,
                          e->column, render_safe(e->msg));
        return -1;
}

/* A diagnostic object that keeps libfyaml's errors for yaml_error() and prints none. */
static struct fy_diag *collecting_diag(void)
{
        struct fy_diag_cfg cfg;
        struct fy_diag *diag;

        fy_diag_cfg_default(&cfg);
        cfg.fp = NULL;
        cfg.colorize = false;
        diag = fy_diag_create(&cfg);
        if (diag)
                fy_diag_set_collect_errors(diag, true);
        return diag;
}

static int walk_stream(struct walk *w, const char *data, size_t size)
{
        struct fy_diag *diag = collecting_diag();
        /*
         * libfyaml 0.7 compares each key of a mapping with every one before it:
         * a ConfigMap of 20,000 keys took 13.5 s, a 15 MiB manifest of them 260 s.
         * Duplicate keys pass (the first one counts where the walk looks).
         */
        struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS,
                                    .diag = diag };
        struct fy_parser *parser = diag ? fy_parser_create(&cfg) : NULL;
        struct fy_document *doc;
        int r = 0;

        if (!parser || fy_parser_set_string(parser, data, size) < 0) {
                fy_parser_destroy(parser);
                fy_diag_unref(diag);
                cli_error("out of memory");
                return -1;
        }
        while (r == 0 && (doc = fy_parse_load_document(parser))) {
                r = walk_document(w, doc);
                fy_parse_document_destroy(parser, doc);
        }
        if (r == 0 && (fy_parser_get_stream_error(parser) || fy_diag_got_error(diag)))
                r = yaml_error(w, diag);
        fy_parser_destroy(parser);
        /* libfyaml 0.7's last unref leaves the collected errors behind; this frees them. */
        fy_diag_set_collect_errors(diag, false);
        fy_diag_unref(diag);
        return r;
}

/* -1 after one line: too large (the limit named), or the system's reason. */
static int read_error(const char *path, int r, size_t max, const char *what)
{
        if (r == -EFBIG)
                cli_error("%s: larger than %zu MiB; rsap check reads %s up to that size",
                          render_safe(path), max >> 20, what);
        else
                cli_error_code(r, "cannot read %s", render_safe(path));
        return -1;
}

int check_yaml_file(const char *path, const struct check_env *env, struct check_ports *out)
{
        _cleanup_(freep) void *data = NULL;
        struct walk w = { path, env, out, "", "" };
        size_t size;
        int r;

        r = rsap_read_regular_file(path, CHECK_FILE_MAX, &data, &size);
        if (r < 0)
                return read_error(path, r, CHECK_FILE_MAX, "deployment files");
        return walk_stream(&w, data, size);
}

void check_ports_clear(struct check_ports *ports)
{
        for (size_t i = 0; i < ports->n; i++)
                free(ports->items[i].findings);
        free(ports->items);
        memset(ports, 0, sizeof(*ports));
}

/* ---- environment files -------------------------------------------------------------- */

/* One line of an env file: [export ]KEY=VALUE, VALUE maybe in matching quotes. */
static int env_line(struct check_env *env, const char *path, int number, char *line)
{
        char *eq, *value;
        size_t len;

        line += strspn(line, " \t");
        if (*line == '\0' || *line == '#')
                return 0;
        if (strncmp(line, "export ", 7) == 0)
                line += 7;
        eq = strchr(line, '=');
        if (!eq || eq == line || strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_") != (size_t)(eq - line))
                return cli_error("%s:%d: not KEY=VALUE", render_safe(path), number);
        value = eq + 1;
        len = strlen(value);
        if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
                memmove(value, value + 1, len - 2);
                memmove(eq + 1 + len - 2, "", 1);
        }
        if (rsap_grow(&env->lines, &env->capacity, env->n + 1, sizeof(char *)) < 0)
                return cli_error("out of memory");
        env->lines[env->n] = strdup(line);
        return env->lines[env->n++] ? 0 : cli_error("out of memory");
}

static int env_parse(struct check_env *env, const char *path, char *text)
{
        char *save = NULL, *line;
        int number = 0;

        /* Line numbers count every line: walk with strchr, not strtok, which skips empty ones. */
        for (line = text; line; line = save) {
                save = strchr(line, '\n');
                if (save)
                        *save++ = '\0';
                number++;
                line[strcspn(line, "\r")] = '\0';
                if (env_line(env, path, number, line) != 0)
                        return -1;
        }
        return 0;
}

int check_env_load(struct check_env *env, const char *env_file, const char *file)
{
        _cleanup_(freep) char *copy = strdup(file ? file : ".");
        _cleanup_(freep) char *beside = NULL;
        _cleanup_(freep) void *data = NULL;
        const char *path = env_file;
        size_t size;
        int r;

        check_env_clear(env);
        if (!copy)
                return cli_error("out of memory");
        if (!path) {
                if (asprintf(&beside, "%s/.env", dirname(copy)) < 0)
                        return cli_error("out of memory");
                path = beside;
        }
        r = rsap_read_regular_file(path, ENV_FILE_MAX, &data, &size);
        if (r == -ENOENT && !env_file)
                return 0; /* no .env beside the file: none is needed */
        if (r < 0)
                return read_error(path, r, ENV_FILE_MAX, "env files");
        if (memchr(data, '\0', size))
                return cli_error("%s: holds a NUL byte", render_safe(path));
        return env_parse(env, path, data);
}

void check_env_clear(struct check_env *env)
{
        for (size_t i = 0; i < env->n; i++)
                free(env->lines[i]);
        free(env->lines);
        memset(env, 0, sizeof(*env));
}

/* SPDX-License-Identifier: MIT */
/*
 * rsap_listen_collect: the sockets (sockets.c), narrowed to a process and
 * given their owners (procs.c), named and sorted; and the one JSON rendering
 * that the command line and the daemon both print.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rsap/listen.h>

#include <rsap/basic.h>
#include <rsap/proc.h>

#include "listen_internal.h"

void rsap_listen_filter_init(struct rsap_listen_filter *f)
{
        *f = (struct rsap_listen_filter){
                .port_low = 0,
                .port_high = UINT16_MAX,
                .find_owners = true,
                .find_published = true,
                .source = RSAP_LISTEN_SOURCE_AUTO,
        };
}

/* ---- user names --------------------------------------------------------- */

/* A handful of uids own every socket on a host: a short array will do. */
struct rsap_listen_names {
        size_t count, capacity;
        struct user_name {
                uid_t uid;
                char *name; /* NULL: the uid has no passwd entry */
        } *entries;
};

static char *passwd_name(uid_t uid)
{
        long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t)hint : 1024;
        struct passwd pw, *found = NULL;

        for (;;) {
                _cleanup_(freep) char *buf = malloc(size);
                int r;

                if (!buf)
                        return NULL;
                r = getpwuid_r(uid, &pw, buf, size, &found);
                if (r == ERANGE && size < 1024 * 1024) {
                        size *= 4;
                        continue;
                }
                return r == 0 && found ? strdup(pw.pw_name) : NULL;
        }
}

/* The name of uid from the cache, looked up on first use. */
static int user_name(struct rsap_listen_names *names, uid_t uid, const char **out)
{
        struct user_name *e;

        for (size_t i = 0; i < names->count; i++) {
                if (names->entries[i].uid == uid) {
                        *out = names->entries[i].name;
                        return 0;
                }
        }
        if (rsap_grow(&names->entries, &names->capacity, names->count + 1,
                      sizeof(*names->entries)) < 0)
                return -ENOMEM;
        e = &names->entries[names->count++];
        e->uid = uid;
        e->name = passwd_name(uid);
        *out = e->name;
        return 0;
}

static void names_free(struct rsap_listen_names *names)
{
        if (!names)
                return;
        for (size_t i = 0; i < names->count; i++)
                free(names->entries[i].name);
        free(names->entries);
        free(names);
}

static int name_users(struct rsap_listen_list *list)
{
        list->names = calloc(1, sizeof(*list->names));
        if (!list->names)
                return -ENOMEM;
        for (size_t i = 0; i < list->count; i++) {
                struct rsap_listen_socket *s = &list->sockets[i];
                int r = user_name(list->names, s->uid, &s->user);

                for (size_t j = 0; r == 0 && j < s->n_owners; j++)
                        r = user_name(list->names, s->owners[j].uid, &s->owners[j].user);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- collecting --------------------------------------------------------- */

/* The container an owner runs in, kept in list; a process that is gone, or
 * whose cgroup may not be read, names none. */
int rsap_listen_process_container(struct rsap_listen_list *list, pid_t pid, const char **out)
{
        char cgroup[4096], id[RSAP_LISTEN_JSON_MAX_CONTAINER + 1];

        *out = NULL;
        if (rsap_proc_read(-1, pid, "cgroup", cgroup, sizeof(cgroup)) < 0)
                return 0;
        if (rsap_listen_container_id(cgroup, id, sizeof(id)) != 1)
                return 0;
        return rsap_listen_keep_string(list, id, out);
}

/* Each owner's container; a process holds many sockets, so the last one
 * looked up is asked again first. */
static int name_containers(struct rsap_listen_list *list)
{
        pid_t last_pid = 0;
        const char *last = NULL;

        for (size_t i = 0; i < list->count; i++) {
                struct rsap_listen_socket *s = &list->sockets[i];

                for (size_t j = 0; j < s->n_owners; j++) {
                        struct rsap_listen_owner *o = &s->owners[j];
                        int r = 0;

                        if (o->pid != last_pid)
                                r = rsap_listen_process_container(list, o->pid, &last);
                        if (r < 0)
                                return r;
                        last_pid = o->pid;
                        o->container = last;
                }
        }
        return 0;
}

bool rsap_listen_owner_in_container(const struct rsap_listen_owner *o, const char *spec)
{
        if (!*spec || !o->container)
                return false;
        return strncmp(o->container, spec, strlen(spec)) == 0 ||
               (o->container_name && strcmp(o->container_name, spec) == 0);
}

static bool socket_in_container(const struct rsap_listen_socket *s, const char *spec)
{
        for (size_t j = 0; j < s->n_owners; j++)
                if (rsap_listen_owner_in_container(&s->owners[j], spec))
                        return true;
        return false;
}

/* Only the sockets an owner of which runs in the container spec names. */
static void keep_container(struct rsap_listen_list *list, const char *spec)
{
        size_t kept = 0;

        for (size_t i = 0; i < list->count; i++)
                if (socket_in_container(&list->sockets[i], spec))
                        list->sockets[kept++] = list->sockets[i];
        list->count = kept;
}

/* Each owner's container id from its cgroup, then names from the runtimes. */
static int find_containers(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        int r = name_containers(list);

        if (r == 0)
                r = rsap_listen_name_containers(list, f->runtime_sockets,
                                                f->runtime_deadline_ms);
        if (r == 0 && f->container)
                keep_container(list, f->container);
        return r;
}

/* Every socket was seen here, in this process's network namespace.  An
 * empty list has no socket to say so: `rsap PORT` on a free port, the most
 * common lookup, is spared the eight system calls. */
static int set_origins(struct rsap_listen_list *list)
{
        struct rsap_listen_origin here;
        int r;

        if (list->count == 0)
                return 0;
        r = rsap_listen_origin_here(list, &here);

        for (size_t i = 0; r == 0 && i < list->count; i++)
                list->sockets[i].origin = here;
        return r;
}

int rsap_listen_collect(const struct rsap_listen_filter *f, struct rsap_listen_list **out)
{
        struct rsap_listen_filter every;
        struct rsap_listen_list *list;
        int r;

        if (!f) {
                rsap_listen_filter_init(&every);
                f = &every;
        }
        if (f->container && (!f->find_owners || f->netns == RSAP_LISTEN_NETNS_OWN))
                return -EINVAL;
        list = calloc(1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        if (f->netns == RSAP_LISTEN_NETNS_OWN) {
                r = rsap_listen_read_sockets(f, list);
                if (r == 0 && f->find_published)
                        r = rsap_listen_read_published(f, list);
        } else
                r = rsap_listen_read_namespaces(f, list); /* each with its origin */
        if (r == 0)
                r = rsap_listen_complete(f, list);
        if (r < 0) {
                rsap_listen_list_free(list);
                return r;
        }
        *out = list;
        return 0;
}

int rsap_listen_complete(const struct rsap_listen_filter *f, struct rsap_listen_list *list)
{
        int r = f->match_pid ? rsap_listen_keep_pid(list, f->pid) : 0;

        if (r == 0 && f->netns == RSAP_LISTEN_NETNS_OWN)
                r = set_origins(list);
        if (r == 0 && f->find_owners)
                r = rsap_listen_find_owners(list);
        if (r == 0 && f->find_owners && f->netns != RSAP_LISTEN_NETNS_OWN)
                r = find_containers(f, list);
        if (r == 0 && f->find_owners && f->find_published)
                r = rsap_listen_name_forwarders(list);
        if (r == 0)
                r = name_users(list);
        if (r == 0)
                r = rsap_listen_list_sort(list);
        return r;
}

void rsap_listen_list_free(struct rsap_listen_list *list)
{
        if (!list)
                return;
        free(list->sockets);
        free(list->owner_pool);
        names_free(list->names);
        rsap_listen_blocks_free(list);
        free(list);
}

void rsap_listen_list_freep(struct rsap_listen_list **list)
{
        rsap_listen_list_free(*list);
}

/* ---- registration ------------------------------------------------------- */

bool rsap_listen_port_registered(const struct rsap_iana *reg, uint16_t port,
                                 enum rsap_proto proto)
{
        return reg && rsap_iana_port_status(reg, port, proto) == RSAP_STATUS_ASSIGNED;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *owner_to_json(const struct rsap_listen_owner *o)
{
        return json_pack("{s:i, s:s, s:I, s:s?, s:s?, s:s?}", "pid", (int)o->pid, "command",
                         o->command, "uid", (json_int_t)o->uid, "user", o->user, "container",
                         o->container, "container_name", o->container_name);
}

json_t *rsap_listen_owners_to_json(const struct rsap_listen_socket *s)
{
        json_t *array = json_array();

        for (size_t i = 0; array && i < s->n_owners; i++) {
                if (json_array_append_new(array, owner_to_json(&s->owners[i])) < 0) {
                        json_decref(array);
                        return NULL;
                }
        }
        return array;
}

static json_t *netns_to_json(const struct rsap_listen_origin *o)
{
        if (o->netns_inode == 0)
                return json_null();
        return json_pack("{s:I, s:s?}", "inode", (json_int_t)o->netns_inode, "name",
                         o->netns_name);
}

static json_t *target_netns_json(const struct rsap_listen_forward *fw)
{
        if (fw->target_netns_inode == 0)
                return json_null();
        return json_pack("{s:I, s:s?}", "inode", (json_int_t)fw->target_netns_inode, "name",
                         fw->target_netns_name);
}

/* null for a plain socket; else what forwards it, and to where. */
static json_t *forward_to_json(const struct rsap_listen_forward *fw)
{
        if (!fw)
                return json_null();
        return json_pack("{s:s, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:s?}",
                         "kind", fw->kind == RSAP_LISTEN_FORWARD_DNAT ? "dnat" : "proxy",
                         "via", fw->via,
                         "table", fw->table,
                         "target_address", fw->target_address[0] ? fw->target_address : NULL,
                         "target_port", fw->target_port ? json_integer(fw->target_port)
                                                        : json_null(),
                         "target_port_high", fw->target_port ? json_integer(fw->target_port_high)
                                                             : json_null(),
                         "target_netns", target_netns_json(fw),
                         "target_container", fw->target_container);
}

static json_t *local_json(const struct rsap_listen_json_local *local, size_t socket)
{
        json_t *value = local ? local->to_json(socket, local->data) : NULL;

        return value ? value : json_null();
}

json_t *rsap_listen_socket_to_json(const struct rsap_listen_list *list, size_t socket,
                                   const struct rsap_iana *reg,
                                   const struct rsap_listen_json_local *local)
{
        const struct rsap_listen_socket *s = &list->sockets[socket];
        const char *service = reg ? rsap_iana_service_name(reg, s->port, s->proto) : NULL;
        json_t *processes = json_null(), *visible = json_null();

        if (list->owners_looked_up) {
                processes = rsap_listen_owners_to_json(s);
                if (!processes)
                        return NULL;
                visible = json_boolean(!s->owners_hidden);
        }
        return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:i, s:I, s:s?, s:I, s:s?, s:o, s:o, s:o,"
                         " s:s?, s:o, s:o}",
                         "protocol", rsap_proto_name(s->proto),
                         "family", s->family == AF_INET ? "ipv4" : "ipv6",
                         "address", s->address,
                         "interface", s->interface[0] ? s->interface : NULL,
                         "ipv6_only", s->family == AF_INET6 && list->source ==
                                      RSAP_LISTEN_SOURCE_NETLINK ? json_boolean(s->v6only)
                                                                 : json_null(),
                         "port", (int)s->port,
                         "uid", (json_int_t)s->uid,
                         "user", s->user,
                         "inode", (json_int_t)s->inode,
                         "service", service,
                         "local", local_json(local, socket),
                         "processes", processes,
                         "processes_visible", visible,
                         "host", s->origin.host,
                         "netns", netns_to_json(&s->origin),
                         "published", forward_to_json(s->forward));
}

json_t *rsap_listen_list_to_json(const struct rsap_listen_list *list, const struct rsap_iana *reg,
                                 const struct rsap_listen_json_local *local)
{
        json_t *array = json_array();

        for (size_t i = 0; array && i < list->count; i++) {
                if (json_array_append_new(array,
                                          rsap_listen_socket_to_json(list, i, reg, local)) < 0) {
                        json_decref(array);
                        return NULL;
                }
        }
        return array;
}

/* Writes text with two more spaces after each line break: a socket's JSON
 * as it reads one level down, inside the array.  JSON strings hold no raw
 * line breaks, so every one is layout. */
static int write_indented(const char *text, FILE *out)
{
        for (const char *line = text; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);

                if (fwrite(line, 1, len, out) != len || (nl && fputs("  ", out) < 0))
                        return -EIO;
                line += len;
        }
        return 0;
}

int rsap_listen_list_write_json(const struct rsap_listen_list *list, const struct rsap_iana *reg,
                                const struct rsap_listen_json_local *local, FILE *out)
{
        if (list->count == 0)
                return fputs("[]", out) < 0 ? -EIO : 0;
        if (fputs("[\n  ", out) < 0)
                return -EIO;
        for (size_t i = 0; i < list->count; i++) {
                json_t *value = rsap_listen_socket_to_json(list, i, reg, local);
                _cleanup_(freep) char *text = value ? json_dumps(value, RSAP_JSON_DUMP_FLAGS)
                                                    : NULL;
                int r;

                json_decref(value);
                if (!text)
                        return -ENOMEM;
                r = write_indented(text, out);
                if (r == 0 && fputs(i + 1 < list->count ? ",\n  " : "\n]", out) < 0)
                        r = -EIO;
                if (r < 0)
                        return r;
        }
        return 0;
}

static json_t *source_to_json(enum rsap_listen_source source)
{
        switch (source) {
        case RSAP_LISTEN_SOURCE_NETLINK:
                return json_string("netlink");
        case RSAP_LISTEN_SOURCE_PROCFS:
                return json_string("procfs");
        default:
                return json_null();
        }
}

json_t *rsap_listen_report_to_json(const struct rsap_listen_list *list)
{
        return json_pack("{s:o, s:b, s:I, s:o}", "source", source_to_json(list->source),
                         "owners_looked_up", list->owners_looked_up,
                         "unreadable_processes", (json_int_t)list->unreadable_processes,
                         "sockets", rsap_listen_list_to_json(list, NULL, NULL));
}

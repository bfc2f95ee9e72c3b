/* SPDX-License-Identifier: MIT */
/*
 * The sockets of every network namespace on the host, or of one.
 *
 * A namespace is found through whatever holds it: a process or one of its
 * threads (/proc/PID/ns/net, /proc/PID/task/TID/ns/net), or a file a tool
 * bind-mounted it on (`ip netns add` in /run/netns, docker in
 * /run/docker/netns, rootless runtimes in /run/user/UID/netns).  Each is
 * listed once, by the device and inode of its file, and opened only when it
 * is read, one at a time: a host may have more namespaces than a process
 * may hold descriptors.  One that goes away before it is read (its process
 * exited, or the pid now names another process elsewhere: the file's device
 * and inode are checked again) is not there: skipped, never an error.
 *
 * sock_diag and /proc/net answer for the namespace of the thread that asks,
 * and setns() moves only the thread that calls it: one thread of its own
 * enters each namespace in turn and runs the dumps of sockets.c there, then
 * ends; the calling thread never changes namespace.  The owners' walk over
 * /proc/PID/fd (procs.c) sees every process of the host whatever its
 * namespace, and socket inodes are unique across namespaces, so it runs
 * once, afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nsfs.h>
#include <linux/limits.h>

#include <rsap/basic.h>
#include <rsap/host.h>
#include <rsap/listen.h>

#include "listen_internal.h"

/* The folders whose entries are namespaces, named after the entry: `ip
 * netns` first, so that its name wins where a runtime's folder has the same
 * namespace. */
static const char *const named_folders[] = { "/run/netns", "/run/docker/netns" };
#define ROOTLESS_RUN_DIR "/run/user" /* UID/netns: rootless podman's */

struct netns {
        dev_t dev;
        ino_t ino;
        char *path;       /* its file, where it was found */
        const char *name; /* kept in the list; NULL when nothing names it */
};

struct netns_set {
        struct netns *items;
        size_t count, capacity;
        dev_t nsfs_dev; /* the device of every namespace file */
};

static void netns_set_clear(struct netns_set *set)
{
        for (size_t i = 0; i < set->count; i++)
                free(set->items[i].path);
        free(set->items);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

static struct netns *netns_find(struct netns_set *set, const struct stat *st)
{
        for (size_t i = 0; i < set->count; i++)
                if (set->items[i].dev == st->st_dev && set->items[i].ino == st->st_ino)
                        return &set->items[i];
        return NULL;
}

/* Gone between listing and reading: a process that exited, an entry removed. */
static bool vanished(int err)
{
        return err == ENOENT || err == ESRCH || err == ENOTDIR;
}

/* An open file that is a network namespace: 0, -EINVAL when it is not one. */
static int check_netns_fd(int fd)
{
        int type = ioctl(fd, NS_GET_NSTYPE);

        if (type < 0)
                return errno == ENOTTY || errno == EINVAL ? -EINVAL : -errno;
        return type == CLONE_NEWNET ? 0 : -EINVAL;
}

/* Whether the file at path is a network namespace: 0, -EINVAL when it is
 * another kind, -ENOENT when it is gone. */
static int check_netns_path(const char *path)
{
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return vanished(errno) ? -ENOENT : -errno;
        return check_netns_fd(fd);
}

/* Adds the namespace file entry of the folder dir (open, at dir_path; with
 * AT_FDCWD and NULL, entry is the whole path), named name (NULL for none),
 * unless it is there already: a linear search, as hosts have tens or
 * hundreds of namespaces.  0 also when it vanished or is no namespace;
 * -EACCES when it may not be read. */
static int netns_add(struct netns_set *set, struct rsap_listen_list *list, int dir,
                     const char *dir_path, const char *entry, const char *name)
{
        struct stat st;
        struct netns *known, *ns;

        if (fstatat(dir, entry, &st, 0) < 0)
                return vanished(errno) ? 0 : -errno;
        if (st.st_dev != set->nsfs_dev)
                return 0; /* an entry nothing is mounted on */
        known = netns_find(set, &st);
        if (known)
                return known->name || !name ? 0 : rsap_listen_keep_string(list, name, &known->name);
        if (rsap_grow(&set->items, &set->capacity, set->count + 1, sizeof(*set->items)) < 0)
                return -ENOMEM;
        ns = &set->items[set->count];
        *ns = (struct netns){ st.st_dev, st.st_ino, NULL, NULL };
        if (dir_path ? asprintf(&ns->path, "%s/%s", dir_path, entry) < 0
                     : !(ns->path = strdup(entry))) {
                ns->path = NULL;
                return -ENOMEM;
        }
        set->count++;
        return rsap_listen_keep_string(list, name, &ns->name);
}

/* Every entry of one folder of named namespaces; a missing folder has none. */
static int add_folder(struct netns_set *set, struct rsap_listen_list *list, const char *path)
{
        _cleanup_(closedirp) DIR *dir = opendir(path);
        struct dirent *e;

        if (!dir)
                return 0;
        while ((e = readdir(dir))) {
                int r;

                if (e->d_name[0] == '.')
                        continue;
                r = netns_add(set, list, dirfd(dir), path, e->d_name, e->d_name);
                if (r < 0 && r != -EACCES)
                        return r;
        }
        return 0;
}

static int add_rootless_folders(struct netns_set *set, struct rsap_listen_list *list)
{
        _cleanup_(closedirp) DIR *dir = opendir(ROOTLESS_RUN_DIR);
        struct dirent *e;

        if (!dir)
                return 0;
        while ((e = readdir(dir))) {
                char path[PATH_MAX];
                int r;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), ROOTLESS_RUN_DIR "/%s/netns", e->d_name);
                r = add_folder(set, list, path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* A process's namespace and its threads' (a thread may have entered
 * another).  *hidden when the process hides them (another user's, without
 * root); a process or thread that exited meanwhile hides nothing.  A
 * namespace is kept under the first pid that has it, in pid order its
 * oldest holder as a rule (a container's init, a pod's pause process): if
 * that one exits before the namespace is read, the namespace is skipped. */
static int add_process(struct netns_set *set, struct rsap_listen_list *list, int proc,
                       const char *pid, bool *hidden)
{
        char path[NAME_MAX + sizeof("/ns/net")];
        _cleanup_(closedirp) DIR *tasks = NULL;
        struct dirent *e;
        int r, task_fd;

        snprintf(path, sizeof(path), "%s/ns/net", pid);
        r = netns_add(set, list, proc, "/proc", path, NULL);
        *hidden = r == -EACCES;
        if (r < 0)
                return r == -EACCES ? 0 : r;
        snprintf(path, sizeof(path), "%s/task", pid);
        task_fd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tasks = task_fd >= 0 ? fdopendir(task_fd) : NULL;
        if (!tasks) {
                if (task_fd >= 0)
                        close(task_fd);
                return 0;
        }
        while ((e = readdir(tasks))) {
                char task_path[sizeof(path) + sizeof("/proc/")];

                if (!all_digits(e->d_name) || strcmp(e->d_name, pid) == 0)
                        continue; /* the first thread's is the process's */
                snprintf(task_path, sizeof(task_path), "/proc/%s/task", pid);
                snprintf(path, sizeof(path), "%s/ns/net", e->d_name);
                r = netns_add(set, list, dirfd(tasks), task_path, path, NULL);
                if (r < 0 && r != -EACCES)
                        return r;
        }
        return 0;
}

static int add_processes(struct netns_set *set, struct rsap_listen_list *list)
{
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        struct dirent *e;

        if (!proc)
                return 0; /* no /proc: the namespaces the folders name */
        while ((e = readdir(proc))) {
                bool hidden = false;
                int r;

                if (!all_digits(e->d_name))
                        continue;
                r = add_process(set, list, dirfd(proc), e->d_name, &hidden);
                if (r < 0)
                        return r;
                if (hidden)
                        list->unreadable_namespace_processes++;
        }
        return 0;
}

/* The device of namespace files, which nsfs gives all of them. */
static int nsfs_device(dev_t *out)
{
        struct stat st;

        if (stat("/proc/thread-self/ns/net", &st) < 0)
                return -EPROTONOSUPPORT; /* no /proc, or a kernel without namespaces */
        *out = st.st_dev;
        return 0;
}

static int find_every_netns(struct netns_set *set, struct rsap_listen_list *list)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(named_folders); i++)
                r = add_folder(set, list, named_folders[i]);
        if (r == 0)
                r = add_rootless_folders(set, list);
        if (r == 0)
                r = add_processes(set, list);
        return r;
}

/* The namespace spec names, as rsap_listen_filter.netns_spec says. */
static int find_one_netns(struct netns_set *set, struct rsap_listen_list *list,
                          const char *spec)
{
        char path[PATH_MAX];
        const char *name = NULL;
        size_t before = set->count;
        struct stat st;
        int r;

        if (all_digits(spec)) {
                snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
        } else if (strchr(spec, '/')) {
                snprintf(path, sizeof(path), "%s", spec);
        } else {
                if (!*spec || strcmp(spec, ".") == 0 || strcmp(spec, "..") == 0)
                        return -ENOENT;
                snprintf(path, sizeof(path), "%s/%s", named_folders[0], spec);
                name = spec;
        }
        if (stat(path, &st) < 0)
                return vanished(errno) ? -ENOENT : -errno;
        r = netns_add(set, list, AT_FDCWD, NULL, path, name);
        if (r == 0 && set->count == before)
                return -EINVAL; /* a file, but no namespace */
        if (r == 0)
                r = check_netns_path(path);
        if (r == 0 && !name)
                r = rsap_listen_netns_name(list, &st, &set->items[before].name);
        return r;
}

/* ---- the dumps ---------------------------------------------------------- */

/* An address of a namespace's interfaces: where a forward's target may live. */
struct ns_address {
        int family;
        unsigned char addr[16];
        const struct netns *ns;
};

struct netns_dump {
        const struct rsap_listen_filter *filter;
        struct rsap_listen_list *list;
        const struct netns_set *set;
        bool only_one; /* --netns: not entering it is an error, not a count */
        int err;
        struct ns_address *addresses; /* with published ports: every namespace's */
        size_t n_addresses, addresses_capacity;
};

static bool is_loopback(const struct ns_address *a)
{
        static const unsigned char v6_loopback[16] = { [15] = 1 };

        return a->family == AF_INET ? a->addr[0] == 127 : memcmp(a->addr, v6_loopback, 16) == 0;
}

/* The addresses of the interfaces of the namespace this thread is in, but
 * 127.0.0.0/8 and ::1, which every namespace has. */
static int note_addresses(struct netns_dump *d, const struct netns *ns)
{
        struct ifaddrs *all, *ifa;
        int r = 0;

        if (getifaddrs(&all) < 0)
                return 0; /* its targets stay unplaced */
        for (ifa = all; r == 0 && ifa; ifa = ifa->ifa_next) {
                int family = ifa->ifa_addr ? ifa->ifa_addr->sa_family : AF_UNSPEC;
                struct ns_address *a;

                if (family != AF_INET && family != AF_INET6)
                        continue;
                r = rsap_grow(&d->addresses, &d->addresses_capacity, d->n_addresses + 1,
                              sizeof(*d->addresses));
                if (r < 0)
                        break;
                a = &d->addresses[d->n_addresses++];
                *a = (struct ns_address){ .family = family, .ns = ns };
                if (family == AF_INET)
                        memcpy(a->addr, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
                else
                        memcpy(a->addr, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
                d->n_addresses -= is_loopback(a);
        }
        freeifaddrs(all);
        return r;
}

/* The pid a namespace was found through (/proc/PID/...), or 0. */
static pid_t holder_pid(const struct netns *ns)
{
        const char *p = ns->path;
        long pid = 0;

        if (strncmp(p, "/proc/", 6) != 0)
                return 0;
        for (p += 6; *p >= '0' && *p <= '9' && pid < INT32_MAX / 10; p++)
                pid = pid * 10 + (*p - '0');
        return *p == '/' ? (pid_t)pid : 0;
}

static const struct ns_address *holder_of(const struct netns_dump *d,
                                          const struct rsap_listen_socket *s)
{
        const struct rsap_listen_forward *fw = s->forward;

        for (size_t i = 0; i < d->n_addresses; i++) {
                const struct ns_address *a = &d->addresses[i];

                if (a->family == fw->target_family && a->ns->ino != s->origin.netns_inode &&
                    memcmp(a->addr, fw->target_addr, a->family == AF_INET ? 4 : 16) == 0)
                        return a;
        }
        return NULL;
}

/* Each forward's target namespace: the one whose interfaces hold its
 * address (the forwards are the list's own, made by published.c). */
static int place_targets(struct netns_dump *d)
{
        struct rsap_listen_list *list = d->list;

        for (size_t i = 0; i < list->count; i++) {
                struct rsap_listen_socket *s = &list->sockets[i];
                const struct ns_address *a = s->forward && s->forward->target_family
                                                     ? holder_of(d, s) : NULL;
                struct rsap_listen_forward *fw = (struct rsap_listen_forward *)s->forward;
                pid_t pid;
                int r;

                if (!a)
                        continue;
                fw->target_netns_inode = (uint64_t)a->ns->ino;
                fw->target_netns_name = a->ns->name;
                pid = holder_pid(a->ns);
                r = pid ? rsap_listen_process_container(list, pid, &fw->target_container) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static void label_sockets(struct rsap_listen_list *list, size_t first, const struct netns *ns)
{
        for (size_t i = first; i < list->count; i++)
                list->sockets[i].origin = (struct rsap_listen_origin){
                        .host = rsap_host_name(),
                        .netns_inode = (uint64_t)ns->ino,
                        .netns_name = ns->name,
                };
}

/* Opens ns's file again, if it is still that namespace: -ESRCH when it
 * went away meanwhile (or its pid now names a process elsewhere). */
static int open_again(const struct netns *ns)
{
        struct stat st;
        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return vanished(errno) ? -ESRCH : -errno;
        if (fstat(fd, &st) < 0 || st.st_dev != ns->dev || st.st_ino != ns->ino ||
            check_netns_fd(fd) < 0) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

/* Moves this thread into ns, unless it is there: entering even one's own
 * namespace needs CAP_SYS_ADMIN. */
static int enter(const struct netns *ns, struct stat *here)
{
        _cleanup_(closep) int fd = -1;

        if (here->st_dev == ns->dev && here->st_ino == ns->ino)
                return 0;
        fd = open_again(ns);
        if (fd < 0)
                return fd;
        if (setns(fd, CLONE_NEWNET) < 0)
                return -errno;
        here->st_dev = ns->dev;
        here->st_ino = ns->ino;
        return 0;
}

static int dump_one_netns(struct netns_dump *d, const struct netns *ns, struct stat *here)
{
        size_t before = d->list->count;
        int r = enter(ns, here);

        if ((r == -EPERM || r == -EACCES) && !d->only_one) {
                d->list->unentered_namespaces++;
                return 0;
        }
        if (r == -ESRCH)
                return d->only_one ? -ENOENT : 0; /* gone since it was found */
        if (r < 0)
                return r;
        r = rsap_listen_read_sockets(d->filter, d->list);
        if (r == 0 && d->filter->find_published)
                r = rsap_listen_read_published(d->filter, d->list);
        if (r == 0 && d->filter->find_published)
                r = note_addresses(d, ns);
        if (r == 0)
                label_sockets(d->list, before, ns);
        d->list->namespaces_read++;
        return r;
}

/* The thread that visits the namespaces, and ends there. */
static void *dump_namespaces(void *data)
{
        struct netns_dump *d = data;
        struct stat here;

        if (stat("/proc/thread-self/ns/net", &here) < 0) {
                d->err = -errno;
                return NULL;
        }
        for (size_t i = 0; d->err == 0 && i < d->set->count; i++)
                d->err = dump_one_netns(d, &d->set->items[i], &here);
        return NULL;
}

int rsap_listen_read_namespaces(const struct rsap_listen_filter *f,
                                struct rsap_listen_list *list)
{
        _cleanup_(netns_set_clear) struct netns_set set = { 0 };
        struct netns_dump d = { .filter = f, .list = list, .set = &set,
                                .only_one = f->netns == RSAP_LISTEN_NETNS_ONE };
        pthread_t thread;
        int r = nsfs_device(&set.nsfs_dev);

        if (r == 0)
                r = d.only_one ? find_one_netns(&set, list, f->netns_spec ? f->netns_spec : "")
                               : find_every_netns(&set, list);
        if (r < 0)
                return r;
        r = -pthread_create(&thread, NULL, dump_namespaces, &d);
        if (r < 0)
                return r;
        pthread_join(thread, NULL);
        if (d.err == 0)
                d.err = place_targets(&d);
        free(d.addresses);
        return d.err;
}

/* SPDX-License-Identifier: MIT */
/*
 * The port server: the protocol of portpicker's PORTSERVER_ADDRESS, so test
 * suites that use python3-portpicker get ports from rsapd unchanged.  A client
 * connects to a Unix socket (a path, or "@name" in the abstract namespace),
 * sends its pid in decimal and a newline, and reads back a port and a
 * newline, "0" when none can be had.  Each port handed out is a lease in the
 * local registry (rsap_lease_take(), with the client's pid and start time), so
 * `rsap lease`, `rsap 15001`, the pages and the map show it.  The port stays
 * the pid's until that process exits: rsapd holds a pidfd for each client
 * process in its epoll set and releases its leases when the pidfd says the
 * process is gone (the registry would also reap them at its next lease).
 *
 * The pid is the client's word, so it is checked against the connecting
 * peer's credentials (SO_PEERCRED): a client may name itself or a process of
 * its own uid (the rule of kill(2)), root any process.  One uid holds at most
 * --portserver-leases-per-uid ports and --portserver-clients-per-uid
 * connections at once, and a connection that has not sent its line within a
 * second is dropped, so a silent crowd from one uid leaves the others served.
 *
 * One thread runs it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rsap/listen.h>
#include <rsap/proc.h>
#include <rsap/textsafe.h>
#include <rsap/time.h>
#include <rsap/workflow.h>

#include "pool.h"
#include "rsapd.h"

/* All uids together; each uid has its own, smaller limit. */
#define MAX_CLIENTS 1024
/* portpicker sends its line right after connecting. */
#define CLIENT_TIMEOUT_MS 1000
#define TICK_MS 100
/* A burst of clients waits in the kernel rather than being refused. */
#define LISTEN_BACKLOG 1024
#define REQUEST_MAX 32
#define MAX_PORTS_PER_PID 1024
#define BIND_TRIES 8
/* A lease lasts while its process runs; this bounds one whose death rsapd
 * missed (rsapd was down when it exited). */
#define LEASE_TTL_US (24LL * 3600 * 1000000)

enum watch_kind { WATCH_LISTEN, WATCH_STOP, WATCH_CLIENT, WATCH_PROCESS };

struct watch {
        enum watch_kind kind;
        int fd;
        /* a client */
        char request[REQUEST_MAX];
        size_t len;
        int64_t deadline_ms;
        struct ucred peer; /* who connected */
        struct watch *next_client;
        /* a process */
        int pid;
        struct watch *next_process;
};

struct portserver {
        struct rsapd *d;
        int listen_fd, epoll_fd, stop_fd;
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        bool abstract;
        pthread_t thread;
        bool running;
        struct port_pool pool;   /* thread-only */
        struct watch listen_watch, stop_watch;
        struct watch *clients;   /* thread-only */
        struct watch *processes; /* thread-only */
        size_t n_clients;
};

/* ---- the socket ----------------------------------------------------------- */

static int make_address(const char *spec, struct sockaddr_un *sun, socklen_t *len, bool *abstract)
{
        size_t n = strlen(spec);

        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        *abstract = spec[0] == '@';
        if (n < 2 && *abstract)
                return -EINVAL;
        if (n >= sizeof(sun->sun_path))
                return -ENAMETOOLONG;
        memcpy(sun->sun_path, spec, n);
        /* portpicker writes '@' for the abstract namespace's leading NUL and
         * connects with exactly the name's length: bind with the same. */
        if (*abstract)
                sun->sun_path[0] = '\0';
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (*abstract ? 0 : 1));
        return 0;
}

/* A socket left by an earlier run is removed; any other file is not. */
static int remove_stale_socket(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        return unlink(path) < 0 ? -errno : 0;
}

/*
 * The socket file gets its mode as bind() creates it, from the umask: a
 * chmod() by name afterwards would follow a symlink planted in between.
 * bind() itself never follows one (it fails with EADDRINUSE).  The umask is
 * the process's, but rsapd starts the port server before any other thread.
 */
static int bind_with_mode(int fd, const struct sockaddr_un *sun, socklen_t len, unsigned mode)
{
        mode_t old = umask((mode_t)(~mode & 0777));
        int r = bind(fd, (const struct sockaddr *)sun, len) < 0 ? -errno : 0;

        umask(old);
        return r;
}

static int open_listener(struct portserver *ps, const char *spec)
{
        struct sockaddr_un sun;
        socklen_t len;
        int fd, r;

        r = make_address(spec, &sun, &len, &ps->abstract);
        if (r < 0)
                return r;
        if (!ps->abstract) {
                r = remove_stale_socket(spec);
                if (r < 0)
                        return r;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        r = bind_with_mode(fd, &sun, len, ps->d->cfg.portserver_mode);
        if (r == 0 && listen(fd, LISTEN_BACKLOG) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        snprintf(ps->path, sizeof(ps->path), "%s", spec);
        ps->listen_fd = fd;
        return 0;
}

static int watch_add(struct portserver *ps, int fd, struct watch *w)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

        return epoll_ctl(ps->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* ---- which ports may be handed out ------------------------------------------ */

/* Free when a socket of the family binds it; a family the host lacks is skipped. */
static bool bindable(int family, int type, uint16_t port)
{
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int fd, one = 1;
        bool ok;

        fd = socket(family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return true;
        if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                a->sin6_addr = in6addr_any;
                len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;

                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                a->sin_addr.s_addr = htonl(INADDR_ANY);
                len = sizeof(*a);
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
        close(fd);
        return ok;
}

/* What portpicker itself checks: the port binds on TCP and UDP, IPv6 and IPv4. */
static bool port_bindable(uint16_t port)
{
        return bindable(AF_INET6, SOCK_STREAM, port) && bindable(AF_INET, SOCK_STREAM, port) &&
               bindable(AF_INET6, SOCK_DGRAM, port) && bindable(AF_INET, SOCK_DGRAM, port);
}

/* ---- leases in the local registry --------------------------------------------- */

/*
 * A lease from the local registry, which applies rsap pick's rules (not
 * IANA's, not assigned, requested, leased or quarantined here, not
 * listening), that also binds now; 0 or a negative errno.
 */
static int take_lease(struct portserver *ps, int pid, uint16_t *port)
{
        struct rsapd *d = ps->d;
        /* The pool's sockets only, from the snapshot: the rules look up each
         * candidate port in this list while holding store_lock, and the
         * host's other sockets (thousands of ephemeral ones) would only make
         * that longer.  A socket bound since the snapshot fails the bind test
         * below. */
        struct listener_snapshot *snap = listeners_get(d->listeners);
        struct rsap_host host = { .listeners = snap ? snap->pool : NULL };
        struct registry_ref *ref = rsapd_registry_get(d);
        struct rsap_lease_options o = { .low = d->cfg.pool_low, .high = d->cfg.pool_high,
                                        .ttl_us = LEASE_TTL_US, .name = "portserver",
                                        .pid = pid };
        struct rsap_workflow wf;
        int r = -EADDRNOTAVAIL;

        wf = (struct rsap_workflow){ d->store, ref ? ref->reg : NULL, "portserver", &host };
        for (int tries = 0; tries < BIND_TRIES; tries++) {
                struct rsap_lease l = { 0 };
                struct rsap_target t = { .kind = RSAP_TARGET_PORT };

                pthread_mutex_lock(&d->store_lock);
                r = rsap_lease_take(&wf, &o, &l);
                pthread_mutex_unlock(&d->store_lock);
                if (r < 0)
                        break;
                *port = l.port;
                rsap_lease_clear(&l);
                if (port_bindable(*port))
                        break;
                /* Bound by a socket no listing shows (a connected one): give it back. */
                t.port = *port;
                pthread_mutex_lock(&d->store_lock);
                rsap_lease_release(&wf, &t, &l);
                pthread_mutex_unlock(&d->store_lock);
                rsap_lease_clear(&l);
                r = -EADDRNOTAVAIL;
        }
        rsapd_data_changed(d);
        listeners_refresh_soon(d->listeners);
        listeners_put(snap);
        rsapd_registry_put(ref);
        return r;
}

static void release_lease(struct portserver *ps, uint16_t port)
{
        struct rsap_workflow wf = { .store = ps->d->store, .actor = "portserver" };
        struct rsap_target t = { .kind = RSAP_TARGET_PORT, .port = port };
        struct rsap_lease l = { 0 };
        int r;

        pthread_mutex_lock(&ps->d->store_lock);
        r = rsap_lease_release(&wf, &t, &l);
        pthread_mutex_unlock(&ps->d->store_lock);
        rsap_lease_clear(&l);
        rsapd_data_changed(ps->d);
        /* -ENOENT: the registry reaped it already, or someone released it. */
        if (r < 0 && r != -ENOENT)
                rsapd_log("portserver: cannot release port %u: %s", port, strerror(-r));
}

/* ---- client processes ---------------------------------------------------------- */

static int pidfd_open_compat(int pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static struct watch *find_process(struct portserver *ps, int pid)
{
        for (struct watch *w = ps->processes; w; w = w->next_process)
                if (w->pid == pid)
                        return w;
        return NULL;
}

static int watch_process(struct portserver *ps, int pid, struct watch **out)
{
        struct watch *w = find_process(ps, pid);
        int fd, r;

        if (w) {
                *out = w;
                return 0;
        }
        fd = pidfd_open_compat(pid);
        if (fd < 0)
                return -errno;
        w = calloc(1, sizeof(*w));
        if (!w) {
                close(fd);
                return -ENOMEM;
        }
        *w = (struct watch){ .kind = WATCH_PROCESS, .fd = fd, .pid = pid };
        r = watch_add(ps, fd, w);
        if (r < 0) {
                close(fd);
                free(w);
                return r;
        }
        w->next_process = ps->processes;
        ps->processes = w;
        *out = w;
        return 0;
}

static void unlink_process(struct portserver *ps, struct watch *w)
{
        for (struct watch **p = &ps->processes; *p; p = &(*p)->next_process) {
                if (*p == w) {
                        *p = w->next_process;
                        return;
                }
        }
}

static void process_exited(struct portserver *ps, struct watch *w)
{
        uint16_t ports[MAX_PORTS_PER_PID];
        size_t n = pool_release_pid(&ps->pool, w->pid, ports, MAX_PORTS_PER_PID);

        for (size_t i = 0; i < n && i < MAX_PORTS_PER_PID; i++) {
                release_lease(ps, ports[i]);
                rsapd_log("portserver: process %d exited: port %u returns to the pool", w->pid,
                          ports[i]);
        }
        epoll_ctl(ps->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        close(w->fd);
        unlink_process(ps, w);
        free(w);
}

/* ---- who may name which pid ------------------------------------------------------ */

/* Whether the process behind a pidfd is still there (a pid is not reused before). */
static bool process_alive(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        return poll(&p, 1, 0) == 0;
}

/*
 * Whether the client may have a port leased to pid: its own, or one of a
 * process it could signal (its uid is the process's real or saved uid, as
 * kill(2) has it); root may name any.  -EPERM or -ESRCH otherwise.
 */
static int may_lease_to(const struct ucred *peer, int pid, const struct watch *proc)
{
        struct rsap_proc_uids uids;
        int r;

        if (peer->uid == 0 || peer->pid == pid)
                return 0;
        r = rsap_proc_uids(-1, pid, &uids);
        if (r < 0)
                return r;
        /* Read after the pidfd was opened: if that process still lives, the
         * pid is still its, and the uids read were its uids. */
        if (!process_alive(proc->fd))
                return -ESRCH;
        return uids.real == peer->uid || uids.saved == peer->uid ? 0 : -EPERM;
}

/* ---- requests ----------------------------------------------------------------- */

static int parse_pid(const char *text, int *pid)
{
        char *end;
        long value;

        errno = 0;
        value = strtol(text, &end, 10);
        if (errno || end == text || (*end && *end != '\r') || value <= 1 || value > 0x3fffffff)
                return -EINVAL;
        *pid = (int)value;
        return 0;
}

static int check_quota(struct portserver *ps, const struct ucred *peer, int pid)
{
        if (pool_count_pid(&ps->pool, pid) >= MAX_PORTS_PER_PID)
                return -EDQUOT;
        if (pool_count_uid(&ps->pool, peer->uid) >= ps->d->cfg.portserver_leases_per_uid) {
                rsapd_log("portserver: uid %u holds %u ports, as many as one uid may "
                          "(--portserver-leases-per-uid)",
                          peer->uid, ps->d->cfg.portserver_leases_per_uid);
                return -EDQUOT;
        }
        return 0;
}

/* The port for one request line, 0 when there is none to give. */
static uint16_t answer(struct portserver *ps, const struct ucred *peer, const char *line)
{
        struct watch *proc = NULL;
        uint16_t port = 0;
        int pid, r;

        if (parse_pid(line, &pid) < 0) {
                char safe[64]; /* what the client sent, escaped and cut: never a forged line */

                rsap_text_escape(safe, sizeof(safe), line, strnlen(line, 32));
                rsapd_log("portserver: refused a request that is not a pid: \"%s\"", safe);
                return 0;
        }
        r = watch_process(ps, pid, &proc);
        if (r < 0) {
                rsapd_log("portserver: refused pid %d: %s", pid, strerror(-r));
                return 0;
        }
        r = may_lease_to(peer, pid, proc);
        if (r < 0)
                rsapd_log("portserver: refused pid %d to process %d of uid %u: %s", pid,
                          (int)peer->pid, peer->uid,
                          r == -EPERM ? "not the client's own process" : strerror(-r));
        if (r == 0)
                r = check_quota(ps, peer, pid);
        if (r == 0)
                r = take_lease(ps, pid, &port);
        if (r == 0 && pool_add_for(&ps->pool, port, pid, peer->uid) < 0) {
                release_lease(ps, port);
                r = -ENOMEM;
        }
        if (r < 0) {
                if (r != -EPERM && r != -ESRCH)
                        rsapd_log("portserver: no port for pid %d: %s", pid,
                                  r == -EADDRNOTAVAIL ? "the pool is exhausted" : strerror(-r));
                if (pool_count_pid(&ps->pool, pid) == 0)
                        process_exited(ps, proc);
                return 0;
        }
        rsapd_log("portserver: port %u leased to process %d", port, pid);
        return port;
}

static void drop_client(struct portserver *ps, struct watch *w)
{
        for (struct watch **p = &ps->clients; *p; p = &(*p)->next_client) {
                if (*p == w) {
                        *p = w->next_client;
                        break;
                }
        }
        epoll_ctl(ps->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        close(w->fd);
        free(w);
        ps->n_clients--;
}

static void reply_port(int fd, uint16_t port)
{
        char text[16];
        int n = snprintf(text, sizeof(text), "%u\n", port);

        /* A few bytes into an empty socket buffer: this does not block. */
        if (send(fd, text, (size_t)n, MSG_NOSIGNAL) < 0)
                rsapd_log("portserver: cannot answer a client: %s", strerror(errno));
}

static void client_readable(struct portserver *ps, struct watch *w)
{
        ssize_t n = recv(w->fd, w->request + w->len, sizeof(w->request) - 1 - w->len, 0);
        char *newline;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                drop_client(ps, w);
                return;
        }
        w->len += (size_t)n;
        w->request[w->len] = '\0';
        newline = strchr(w->request, '\n');
        if (!newline && w->len < sizeof(w->request) - 1)
                return;
        if (newline)
                *newline = '\0';
        reply_port(w->fd, newline ? answer(ps, &w->peer, w->request) : 0);
        drop_client(ps, w);
}

static size_t clients_of(const struct portserver *ps, unsigned uid)
{
        size_t n = 0;

        for (const struct watch *w = ps->clients; w; w = w->next_client)
                n += w->peer.uid == uid;
        return n;
}

/* Whether one more connection from peer fits, overall and for its uid. */
static bool room_for(const struct portserver *ps, const struct ucred *peer)
{
        return ps->n_clients < MAX_CLIENTS &&
               clients_of(ps, peer->uid) < ps->d->cfg.portserver_clients_per_uid;
}

static void accept_clients(struct portserver *ps)
{
        for (;;) {
                int fd = accept4(ps->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                struct ucred peer;
                socklen_t len = sizeof(peer);
                struct watch *w;

                if (fd < 0)
                        return;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 ||
                    !room_for(ps, &peer) || !(w = calloc(1, sizeof(*w)))) {
                        reply_port(fd, 0);
                        close(fd);
                        continue;
                }
                *w = (struct watch){ .kind = WATCH_CLIENT, .fd = fd, .peer = peer,
                                     .deadline_ms = rsap_monotonic_ms() + CLIENT_TIMEOUT_MS };
                if (watch_add(ps, fd, w) < 0) {
                        close(fd);
                        free(w);
                        continue;
                }
                w->next_client = ps->clients;
                ps->clients = w;
                ps->n_clients++;
        }
}

/* A client that connects and says nothing is dropped after a second. */
static void expire_clients(struct portserver *ps)
{
        int64_t now = rsap_monotonic_ms();

        for (struct watch *w = ps->clients, *next; w; w = next) {
                next = w->next_client;
                if (w->deadline_ms <= now)
                        drop_client(ps, w);
        }
}

static void *run(void *arg)
{
        struct portserver *ps = arg;
        struct epoll_event events[32];

        for (;;) {
                int n = epoll_wait(ps->epoll_fd, events, 32, TICK_MS);

                for (int i = 0; i < n; i++) {
                        struct watch *w = events[i].data.ptr;

                        switch (w->kind) {
                        case WATCH_STOP:
                                return NULL;
                        case WATCH_LISTEN:
                                accept_clients(ps);
                                break;
                        case WATCH_CLIENT:
                                client_readable(ps, w);
                                break;
                        case WATCH_PROCESS:
                                process_exited(ps, w);
                                break;
                        }
                }
                expire_clients(ps);
        }
}

/* ---- start, stop --------------------------------------------------------------- */

/*
 * The leases this port server handed out before rsapd restarted: their
 * processes are watched again, and those already gone are released now.
 */
static unsigned owner_of(int pid)
{
        struct rsap_proc_uids uids;

        return rsap_proc_uids(-1, pid, &uids) == 0 ? uids.real : (unsigned)-1;
}

static void adopt_leases(struct portserver *ps)
{
        struct rsap_local_list list = { 0 };
        int r;

        pthread_mutex_lock(&ps->d->store_lock);
        r = rsap_local_for_range(ps->d->store, ps->d->cfg.pool_low, ps->d->cfg.pool_high, &list);
        pthread_mutex_unlock(&ps->d->store_lock);
        for (size_t i = 0; r == 0 && i < list.n_entries; i++) {
                const struct rsap_local_entry *e = &list.entries[i];
                struct watch *w;

                if (e->kind != RSAP_LOCAL_LEASE || e->pid <= 0 || e->port < 0 || !e->service ||
                    strcmp(e->service, "portserver") != 0)
                        continue;
                if (watch_process(ps, e->pid, &w) == 0 &&
                    pool_add_for(&ps->pool, (uint16_t)e->port, e->pid, owner_of(e->pid)) == 0) {
                        rsapd_log("portserver: port %d is still process %d's", e->port, e->pid);
                        continue;
                }
                release_lease(ps, (uint16_t)e->port);
                rsapd_log("portserver: process %d is gone: port %d returns to the pool", e->pid,
                          e->port);
        }
        rsap_local_list_clear(&list);
}


int portserver_start(struct rsapd *d, struct portserver **out)
{
        struct portserver *ps = calloc(1, sizeof(*ps));
        int r;

        if (!ps)
                return -ENOMEM;
        ps->d = d;
        ps->listen_fd = ps->epoll_fd = ps->stop_fd = -1;
        ps->listen_watch.kind = WATCH_LISTEN;
        ps->stop_watch.kind = WATCH_STOP;
        r = open_listener(ps, d->cfg.portserver_path);
        if (r == 0 && (ps->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                r = -errno;
        if (r == 0 && (ps->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
                r = -errno;
        if (r == 0)
                r = watch_add(ps, ps->listen_fd, &ps->listen_watch);
        if (r == 0)
                r = watch_add(ps, ps->stop_fd, &ps->stop_watch);
        if (r == 0) {
                adopt_leases(ps);
                r = -pthread_create(&ps->thread, NULL, run, ps);
        }
        if (r < 0) {
                portserver_stop(ps);
                return r;
        }
        ps->running = true;
        *out = ps;
        return 0;
}

void portserver_stop(struct portserver *ps)
{
        if (!ps)
                return;
        if (ps->running) {
                uint64_t one = 1;

                if (write(ps->stop_fd, &one, sizeof(one)) < 0)
                        rsapd_log("portserver: cannot signal the thread: %s", strerror(errno));
                pthread_join(ps->thread, NULL);
        }
        while (ps->clients)
                drop_client(ps, ps->clients);
        /* The clients outlive rsapd: their leases stay in the registry, which
         * reaps them once their processes are gone. */
        while (ps->processes) {
                struct watch *w = ps->processes;

                ps->processes = w->next_process;
                close(w->fd);
                free(w);
        }
        if (ps->listen_fd >= 0) {
                close(ps->listen_fd);
                if (!ps->abstract && ps->path[0])
                        unlink(ps->path);
        }
        if (ps->epoll_fd >= 0)
                close(ps->epoll_fd);
        if (ps->stop_fd >= 0)
                close(ps->stop_fd);
        pool_clear(&ps->pool);
        free(ps);
}

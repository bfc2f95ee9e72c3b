/* SPDX-License-Identifier: MIT */
/*
 * Which processes hold which sockets.  Linux says so only in /proc/PID/fd,
 * one symbolic link per descriptor ("socket:[12345]"), so this reads them:
 * the inodes of the wanted sockets go into a hash index first, then each
 * process's descriptors are matched against it, in one pass that, for a few
 * sockets, stops once every one has an owner and only the owners' relatives
 * can still share one (see scan_relatives).  It stops inside a process too:
 * a thread reading one when another finds the last owner leaves it half
 * read, and it then counts as never handed out (read again if it is a
 * relative), so a big process after the owner costs nothing.  A socket
 * counts as owned from the moment a descriptor of it is read, not once its
 * process was read whole, so the other threads stop at once; should that
 * process turn out to have gone, the socket is unowned again and the walk
 * goes on.  While one thread reads a process that holds a wanted socket,
 * the others wait, since it likely holds the rest (wait_for_owner_reads).
 *
 * The kernel time of reading links dominates, so the processes are shared out
 * between a few threads on machines with several CPUs.  Each thread keeps
 * its own findings; they are merged once every thread is done, so nothing is
 * shared while they run but the read-only index and a few atomics.
 *
 * Processes and descriptors come and go during the walk: a process that
 * exits, or a descriptor closed between listing and reading, is skipped.
 * A process is an owner only once it was read whole (descriptor link, comm,
 * status uid) after its descriptors were: one that exits midway is dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/basic.h>
#include <rsap/listen.h>
#include <rsap/proc.h>

#define DENTS_BUFFER_SIZE 32768
#define MAX_WALK_THREADS 4
/* The walk stops early only for up to this many sockets (rsap who, --port). */
#define EARLY_STOP_MAX_SOCKETS 256
/* Below this many processes a second thread costs more than it saves. */
#define PROCESSES_PER_THREAD 32

/* ---- inode index -------------------------------------------------------- */

/* Open addressing from socket inode to its position in the list; inode 0
 * marks a free slot (no socket has inode 0). */
struct inode_index {
        uint64_t *inodes;
        uint32_t *positions;
        size_t mask;
};

static size_t inode_slot(const struct inode_index *ix, uint64_t inode)
{
        return (size_t)((inode * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & ix->mask;
}

static int index_build(struct inode_index *ix, const struct rsap_listen_list *list)
{
        size_t size = 16;

        while (size < list->count * 2)
                size *= 2;
        ix->inodes = calloc(size, sizeof(*ix->inodes));
        ix->positions = calloc(size, sizeof(*ix->positions));
        if (!ix->inodes || !ix->positions)
                return -ENOMEM;
        ix->mask = size - 1;
        for (size_t i = 0; i < list->count; i++) {
                uint64_t inode = list->sockets[i].inode;
                size_t slot = inode_slot(ix, inode);

                if (inode == 0)
                        continue;
                while (ix->inodes[slot] != 0 && ix->inodes[slot] != inode)
                        slot = (slot + 1) & ix->mask;
                ix->inodes[slot] = inode;
                ix->positions[slot] = (uint32_t)i;
        }
        return 0;
}

static bool index_find(const struct inode_index *ix, uint64_t inode, uint32_t *position)
{
        for (size_t slot = inode_slot(ix, inode); ix->inodes[slot] != 0;
             slot = (slot + 1) & ix->mask) {
                if (ix->inodes[slot] == inode) {
                        *position = ix->positions[slot];
                        return true;
                }
        }
        return false;
}

static void index_free(struct inode_index *ix)
{
        free(ix->inodes);
        free(ix->positions);
}

/* ---- one walker's findings ---------------------------------------------- */

/* What the walkers share: read-only but for the atomics. */
struct walk {
        const struct inode_index *index;
        int proc_fd;
        const pid_t *pids;       /* every process, in /proc's (ascending) order */
        size_t n_pids;
        atomic_size_t next;      /* the next position in pids to hand out */
        bool track_found;        /* whether the walk may stop early */
        bool relatives;          /* scan_relatives is reading: read each process whole */
        atomic_size_t remaining; /* wanted sockets that no process is counted as holding */
        /* Per socket, how many descriptors that hold it were seen, counted
         * as soon as each is read rather than once its process was read
         * whole, so that the other walkers stop reading at once; taken back
         * when that process turns out to have gone midway. */
        atomic_uint *holders;
        /* Walkers reading a process in which they found a wanted socket: the
         * other walkers wait meanwhile, before their next descriptor (see
         * wait_for_owner_reads). */
        atomic_uint owner_reads;
        pthread_mutex_t lock;
        pthread_cond_t owner_read_done;
        bool synchronized; /* lock and owner_read_done were made */
};

struct finding {
        uint32_t socket;  /* position in the list */
        uint32_t process; /* position in the walker's processes */
};

struct walker {
        struct walk *walk;
        struct finding *findings;
        size_t n_findings, findings_capacity;
        struct rsap_listen_owner *processes; /* the ones that hold a wanted socket */
        size_t n_processes, processes_capacity;
        size_t unreadable;
        /* The process this walker left half read when every socket had an
         * owner meanwhile, 0 for none: it counts as never handed out. */
        pid_t abandoned;
        int err;
        char *dents; /* DENTS_BUFFER_SIZE bytes */
};

/*
 * Records the process that holds the findings just made, read whole: its
 * command and its uid.  -ESRCH when it exited meanwhile, and then it is not
 * recorded at all: an owner is never half-reported.
 */
static int add_process(struct walker *w, pid_t pid)
{
        struct rsap_listen_owner *p;
        struct rsap_proc_uids uids;
        ssize_t n;

        if (rsap_grow(&w->processes, &w->processes_capacity, w->n_processes + 1,
                 sizeof(*w->processes)) < 0)
                return -ENOMEM;
        p = &w->processes[w->n_processes];
        memset(p, 0, sizeof(*p));
        p->pid = pid;
        n = rsap_proc_read(w->walk->proc_fd, pid, "comm", p->command, sizeof(p->command));
        if (n <= 0)
                return -ESRCH;
        if (p->command[n - 1] == '\n')
                p->command[n - 1] = '\0';
        /* The effective uid, from /proc/PID/status: the directory's owner
         * would say root for any process that is not dumpable, such as a
         * daemon that dropped its privileges. */
        if (rsap_proc_uids(w->walk->proc_fd, pid, &uids) < 0)
                return -ESRCH;
        p->uid = uids.effective;
        w->n_processes++;
        return 0;
}

/* A socket the next process to be recorded holds (w->n_processes); the
 * first holder seen of a socket counts it as owned. */
static int add_finding(struct walker *w, uint32_t socket)
{
        if (rsap_grow(&w->findings, &w->findings_capacity, w->n_findings + 1,
                 sizeof(*w->findings)) < 0)
                return -ENOMEM;
        w->findings[w->n_findings++] = (struct finding){ socket, (uint32_t)w->n_processes };
        if (w->walk->track_found && atomic_fetch_add(&w->walk->holders[socket], 1) == 0)
                atomic_fetch_sub(&w->walk->remaining, 1);
        return 0;
}

/* Forgets the findings from first on (their process went midway): a socket
 * that no other descriptor seen holds has no owner again. */
static void drop_findings(struct walker *w, size_t first)
{
        for (size_t i = first; w->walk->track_found && i < w->n_findings; i++)
                if (atomic_fetch_sub(&w->walk->holders[w->findings[i].socket], 1) == 1)
                        atomic_fetch_add(&w->walk->remaining, 1);
        w->n_findings = first;
}

/* "socket:[12345]" → 12345; false for any other kind of file. */
static bool socket_link_inode(const char *link, ssize_t len, uint64_t *inode)
{
        static const char prefix[] = "socket:[";
        uint64_t value = 0;
        ssize_t i = sizeof(prefix) - 1;

        if (len <= i || memcmp(link, prefix, sizeof(prefix) - 1) != 0)
                return false;
        for (; i < len && link[i] >= '0' && link[i] <= '9'; i++)
                value = value * 10 + (uint64_t)(link[i] - '0');
        *inode = value;
        return i < len && link[i] == ']';
}

/* Matches one descriptor against the wanted sockets. */
static int check_descriptor(struct walker *w, int fd_dir, const char *name)
{
        char link[64];
        ssize_t len = readlinkat(fd_dir, name, link, sizeof(link));
        uint64_t inode;
        uint32_t socket;

        if (len < 0 || !socket_link_inode(link, len, &inode))
                return 0; /* closed meanwhile, or not a socket */
        if (!index_find(w->walk->index, inode, &socket))
                return 0;
        return add_finding(w, socket);
}

/* Every socket has an owner, maybe found by another walker a moment ago: a
 * process of thousands of descriptors that holds none of them so far need
 * not be read to its end (it is left to scan_relatives, should it be an
 * owner's relative).  One that holds one is an owner, and is read whole. */
static bool walk_done(const struct walker *w, size_t first)
{
        return w->walk->track_found && !w->walk->relatives && w->n_findings == first &&
               atomic_load_explicit(&w->walk->remaining, memory_order_relaxed) == 0;
}

/*
 * The process read elsewhere holds a wanted socket, and the sockets of a
 * port are mostly one process's: it is likely to hold the rest, and this
 * walker would read an unrelated process meanwhile (the owner first in pid
 * order, a process of thousands of descriptors after it).  So it waits
 * until that read is over, and then stops if every socket has an owner.
 */
static void wait_for_owner_reads(struct walker *w)
{
        struct walk *wk = w->walk;

        if (!wk->track_found || wk->relatives || atomic_load(&wk->owner_reads) == 0)
                return;
        pthread_mutex_lock(&wk->lock);
        while (atomic_load(&wk->owner_reads) > 0)
                pthread_cond_wait(&wk->owner_read_done, &wk->lock);
        pthread_mutex_unlock(&wk->lock);
}

static void end_owner_read(struct walk *wk)
{
        pthread_mutex_lock(&wk->lock);
        if (atomic_fetch_sub(&wk->owner_reads, 1) == 1)
                pthread_cond_broadcast(&wk->owner_read_done);
        pthread_mutex_unlock(&wk->lock);
}

/* One descriptor after another; *owner_read once one was a wanted socket.
 * 0 when read whole, 1 when left half read (every socket has an owner), 2
 * when the process went meanwhile, or an error. */
static int read_descriptors(struct walker *w, pid_t pid, int fd_dir, size_t first,
                            bool *owner_read)
{
        long n;
        int r;

        while ((n = getdents64(fd_dir, w->dents, DENTS_BUFFER_SIZE)) > 0) {
                for (long off = 0; off < n;) {
                        const struct dirent64 *e = (const void *)(w->dents + off);

                        off += e->d_reclen;
                        if (e->d_name[0] == '.')
                                continue;
                        if (w->n_findings == first)
                                wait_for_owner_reads(w);
                        if (walk_done(w, first)) {
                                w->abandoned = pid;
                                return 1;
                        }
                        r = check_descriptor(w, fd_dir, e->d_name);
                        if (r < 0)
                                return r;
                        if (!*owner_read && w->n_findings > first && w->walk->track_found) {
                                atomic_fetch_add(&w->walk->owner_reads, 1);
                                *owner_read = true;
                        }
                }
        }
        return n < 0 ? 2 : 0;
}

/*
 * Reads one process's descriptors; *held tells whether it holds a wanted
 * socket.  Its findings stand only once the process itself was read whole
 * after them: one that exits mid-read leaves nothing behind.
 */
static int read_process(struct walker *w, pid_t pid, bool *held, bool *owner_read)
{
        char path[32];
        _cleanup_(closep) int fd_dir = -1;
        size_t first = w->n_findings;
        int r;

        *held = false;
        snprintf(path, sizeof(path), "%d/fd", (int)pid);
        fd_dir = openat(w->walk->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_dir < 0) {
                if (errno == EACCES || errno == EPERM)
                        w->unreadable++;
                return 0; /* or it exited */
        }
        r = read_descriptors(w, pid, fd_dir, first, owner_read);
        if (r < 0 || r == 1) /* failed, or left half read */
                return r < 0 ? r : 0;
        if (r == 2 || w->n_findings == first) {
                drop_findings(w, first); /* it went while its descriptors were read */
                return 0;
        }
        r = add_process(w, pid);
        if (r == -ESRCH) {
                drop_findings(w, first);
                return 0;
        }
        if (r < 0)
                return r;
        *held = true;
        return 0;
}

static int scan_process(struct walker *w, pid_t pid, bool *held)
{
        bool owner_read = false;
        int r = read_process(w, pid, held, &owner_read);

        if (owner_read)
                end_owner_read(w->walk);
        return r;
}

/* ---- the walk ----------------------------------------------------------- */

/*
 * Hands out processes until none is left or every wanted socket has an
 * owner.  A process left half read because of an owner that then turned
 * out to have gone is read again at once: a walker leaves at most one
 * behind, and only when every socket has an owner.
 */
static void *walk_processes(void *data)
{
        struct walker *w = data;
        struct walk *wk = w->walk;
        bool held;
        size_t i;

        while (w->err == 0 && atomic_load(&wk->remaining) > 0) {
                pid_t pid = w->abandoned;

                if (pid)
                        w->abandoned = 0;
                else if ((i = atomic_fetch_add(&wk->next, 1)) < wk->n_pids)
                        pid = wk->pids[i];
                else
                        break;
                w->err = scan_process(w, pid, &held);
        }
        return NULL;
}

static void walker_free(struct walker *w)
{
        free(w->findings);
        free(w->processes);
        free(w->dents);
}

static int compare_pids(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

/* The numeric entries of /proc, ascending: one per process (threads are not
 * listed). */
static int list_pids(int proc_fd, pid_t **pids_out, size_t *count_out)
{
        _cleanup_(freep) char *dents = malloc(DENTS_BUFFER_SIZE);
        _cleanup_(closep) int fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        pid_t *pids = NULL;
        size_t count = 0, capacity = 0;
        long n;

        if (!dents)
                return -ENOMEM;
        if (fd < 0)
                return -errno;
        while ((n = getdents64(fd, dents, DENTS_BUFFER_SIZE)) > 0) {
                for (long off = 0; off < n;) {
                        const struct dirent64 *e = (const void *)(dents + off);

                        off += e->d_reclen;
                        if (e->d_name[0] < '1' || e->d_name[0] > '9')
                                continue;
                        if (rsap_grow(&pids, &capacity, count + 1, sizeof(*pids)) < 0) {
                                free(pids);
                                return -ENOMEM;
                        }
                        pids[count++] = (pid_t)strtol(e->d_name, NULL, 10);
                }
        }
        /* /proc lists them in ascending order already; the family tree's
         * binary search must not depend on it. */
        if (count > 1)
                qsort(pids, count, sizeof(*pids), compare_pids);
        *pids_out = pids;
        *count_out = count;
        return 0;
}

static size_t walker_count(size_t n_pids)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t n = cpus > 0 ? (size_t)cpus : 1;

        if (n > MAX_WALK_THREADS)
                n = MAX_WALK_THREADS;
        if (n > n_pids / PROCESSES_PER_THREAD + 1)
                n = n_pids / PROCESSES_PER_THREAD + 1;
        return n;
}

/* Runs walk_processes on n walkers, the calling thread being one; on fewer
 * when a thread cannot be started. */
static int walk_in_threads(struct walker *walkers, size_t n)
{
        pthread_t threads[MAX_WALK_THREADS];
        bool started[MAX_WALK_THREADS] = { false };

        for (size_t i = 1; i < n; i++)
                started[i] = pthread_create(&threads[i], NULL, walk_processes, &walkers[i]) == 0;
        walk_processes(&walkers[0]);
        for (size_t i = 1; i < n; i++) {
                if (started[i])
                        pthread_join(threads[i], NULL);
        }
        for (size_t i = 0; i < n; i++) {
                if (walkers[i].err < 0)
                        return walkers[i].err;
        }
        return 0;
}

/* ---- after every socket has an owner: the owners' relatives -------------- */

/*
 * Once every wanted socket has an owner, the walk stops reading every other
 * process: a socket is shared by fork(), so the processes that may hold it
 * too are the owners' ancestors and descendants.  Those are read, and the
 * relatives of any of them found holding a socket in turn.  A socket passed
 * over a UNIX socket to an unrelated process after that point goes unseen;
 * so does one kept by siblings whose common parent closed its copy.
 */
struct family_tree {
        const pid_t *pids; /* ascending */
        size_t n_pids;
        pid_t *ppids;      /* parallel to pids; 0 when unknown, -1 not read yet */
        bool *scanned;
        bool *holds;
};

static ssize_t pid_position(const struct family_tree *t, pid_t pid)
{
        size_t low = 0, high = t->n_pids;

        while (low < high) {
                size_t mid = low + (high - low) / 2;

                if (t->pids[mid] == pid)
                        return (ssize_t)mid;
                if (t->pids[mid] < pid)
                        low = mid + 1;
                else
                        high = mid;
        }
        return -1;
}

/* The parent, read once; 0 when it cannot be read. */
static pid_t parent_of(struct family_tree *t, int proc_fd, size_t position)
{
        struct rsap_proc_stat stat;

        if (t->ppids[position] >= 0)
                return t->ppids[position];
        t->ppids[position] = 0;
        if (rsap_proc_stat(proc_fd, t->pids[position], &stat) == 0)
                t->ppids[position] = stat.ppid;
        return t->ppids[position];
}

/* Whether a holder is found going up from position, itself excluded. */
static bool has_holding_ancestor(struct family_tree *t, int proc_fd, size_t position)
{
        for (size_t depth = 0; depth < t->n_pids; depth++) {
                ssize_t up = pid_position(t, parent_of(t, proc_fd, position));

                if (up < 0)
                        return false;
                if (t->holds[up])
                        return true;
                position = (size_t)up;
        }
        return false;
}

static void mark_ancestors(struct family_tree *t, int proc_fd, size_t position, bool *wanted)
{
        for (size_t depth = 0; depth < t->n_pids; depth++) {
                ssize_t up = pid_position(t, parent_of(t, proc_fd, position));

                if (up < 0 || wanted[up])
                        return;
                wanted[up] = true;
                position = (size_t)up;
        }
}

/* One round: reads the unread relatives of the holders; true when one of
 * them held a socket, which makes its own relatives worth a look. */
static int scan_relatives_once(struct family_tree *t, struct walker *w, bool *wanted,
                               bool *more)
{
        int proc_fd = w->walk->proc_fd;

        *more = false;
        memset(wanted, 0, t->n_pids * sizeof(*wanted));
        for (size_t i = 0; i < t->n_pids; i++) {
                if (t->holds[i])
                        mark_ancestors(t, proc_fd, i, wanted);
        }
        for (size_t i = 0; i < t->n_pids; i++) {
                bool held;
                int r;

                if (t->scanned[i] || !(wanted[i] || has_holding_ancestor(t, proc_fd, i)))
                        continue;
                t->scanned[i] = true;
                r = scan_process(w, t->pids[i], &held);
                if (r < 0)
                        return r;
                if (held) {
                        t->holds[i] = true;
                        *more = true;
                }
        }
        return 0;
}

static int scan_relatives(struct walker *walkers, size_t n_walkers)
{
        struct walk *wk = walkers[0].walk;
        size_t n = wk->n_pids, handed_out = atomic_load(&wk->next);
        struct family_tree t = { .pids = wk->pids, .n_pids = n };
        _cleanup_(freep) pid_t *ppids = malloc(n * sizeof(*ppids));
        _cleanup_(freep) bool *scanned = calloc(n, sizeof(*scanned));
        _cleanup_(freep) bool *holds = calloc(n, sizeof(*holds));
        _cleanup_(freep) bool *wanted = calloc(n, sizeof(*wanted));
        bool more = true;
        int r = 0;

        if (!ppids || !scanned || !holds || !wanted)
                return -ENOMEM;
        t.ppids = ppids;
        t.scanned = scanned;
        t.holds = holds;
        for (size_t i = 0; i < n; i++) {
                ppids[i] = -1;
                scanned[i] = i < handed_out; /* every process handed out was read whole */
        }
        for (size_t i = 0; i < n_walkers; i++) {
                ssize_t position = walkers[i].abandoned ? pid_position(&t, walkers[i].abandoned)
                                                        : -1;

                if (position >= 0)
                        scanned[position] = false; /* but one, left half read */
        }
        wk->relatives = true;
        for (size_t i = 0; i < n_walkers; i++) {
                for (size_t j = 0; j < walkers[i].n_processes; j++) {
                        ssize_t position = pid_position(&t, walkers[i].processes[j].pid);

                        if (position >= 0)
                                holds[position] = true;
                }
        }
        while (r == 0 && more)
                r = scan_relatives_once(&t, &walkers[0], wanted, &more);
        return r;
}

/* ---- merging ------------------------------------------------------------ */

/* Sorts one socket's few owners by pid and drops a process seen twice (it
 * holds the socket in two descriptors); returns how many are left. */
static size_t sort_owners(struct rsap_listen_owner *owners, size_t n)
{
        size_t kept = 0;

        for (size_t i = 1; i < n; i++) {
                struct rsap_listen_owner o = owners[i];
                size_t j = i;

                for (; j > 0 && owners[j - 1].pid > o.pid; j--)
                        owners[j] = owners[j - 1];
                owners[j] = o;
        }
        for (size_t i = 0; i < n; i++) {
                if (kept == 0 || owners[kept - 1].pid != owners[i].pid)
                        owners[kept++] = owners[i];
        }
        return kept;
}

/* Gives each socket its slice of one pool of owners: counted per socket
 * first, so that each finding is placed once. */
static int merge(struct rsap_listen_list *list, const struct walker *walkers, size_t n)
{
        size_t total = 0;
        _cleanup_(freep) size_t *first = calloc(list->count + 1, sizeof(*first));
        struct rsap_listen_owner *pool;

        for (size_t i = 0; i < n; i++)
                total += walkers[i].n_findings;
        pool = malloc((total ? total : 1) * sizeof(*pool));
        if (!first || !pool) {
                free(pool);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < walkers[i].n_findings; j++)
                        first[walkers[i].findings[j].socket + 1]++;
        }
        for (size_t k = 0; k < list->count; k++) {
                first[k + 1] += first[k];
                list->sockets[k].n_owners = 0;
        }
        for (size_t i = 0; i < n; i++) {
                const struct walker *w = &walkers[i];

                for (size_t j = 0; j < w->n_findings; j++) {
                        struct rsap_listen_socket *s = &list->sockets[w->findings[j].socket];

                        pool[first[w->findings[j].socket] + s->n_owners++] =
                                w->processes[w->findings[j].process];
                }
        }
        for (size_t k = 0; k < list->count; k++) {
                struct rsap_listen_socket *s = &list->sockets[k];

                s->owners = s->n_owners ? &pool[first[k]] : NULL;
                s->n_owners = sort_owners(s->owners, s->n_owners);
                s->owners_hidden = s->n_owners == 0 && s->inode != 0; /* a rule has none */
        }
        free(list->owner_pool);
        list->owner_pool = pool;
        return 0;
}

/* ---- the public steps --------------------------------------------------- */

static int open_proc(void)
{
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* The shared state of a walk over the sockets of list; the caller frees
 * the index and holders. */
static int walk_init(struct walk *wk, struct inode_index *ix,
                     const struct rsap_listen_list *list, int proc_fd)
{
        size_t wanted = 0;
        int r = index_build(ix, list);

        if (r < 0)
                return r;
        wk->index = ix;
        wk->proc_fd = proc_fd;
        wk->holders = calloc(list->count ? list->count : 1, sizeof(*wk->holders));
        if (!wk->holders)
                return -ENOMEM;
        atomic_init(&wk->owner_reads, 0);
        if (pthread_mutex_init(&wk->lock, NULL) != 0)
                return -ENOMEM;
        if (pthread_cond_init(&wk->owner_read_done, NULL) != 0) {
                pthread_mutex_destroy(&wk->lock);
                return -ENOMEM;
        }
        wk->synchronized = true;
        for (size_t i = 0; i < list->count; i++)
                wanted += list->sockets[i].inode != 0;
        /* With many sockets, every one rarely has an owner before the last
         * process, and counting them would cost a contended atomic write per
         * socket: those walks read every process. */
        wk->track_found = wanted <= EARLY_STOP_MAX_SOCKETS;
        atomic_init(&wk->next, 0);
        atomic_init(&wk->remaining, wk->track_found ? wanted : SIZE_MAX);
        return 0;
}

static void walk_free(struct walk *wk)
{
        free(wk->holders);
        if (wk->synchronized) {
                pthread_cond_destroy(&wk->owner_read_done);
                pthread_mutex_destroy(&wk->lock);
        }
}

static int walkers_init(struct walker *walkers, size_t n, struct walk *wk)
{
        for (size_t i = 0; i < n; i++) {
                walkers[i].walk = wk;
                walkers[i].dents = malloc(DENTS_BUFFER_SIZE);
                if (!walkers[i].dents)
                        return -ENOMEM;
        }
        return 0;
}

static bool any_abandoned(const struct walker *walkers, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (walkers[i].abandoned)
                        return true;
        return false;
}

/* The walk stopped with a socket that has no owner: the process counted as
 * holding it went before it was read whole, after the other walkers had
 * stopped.  Then the walk goes on where it stopped. */
static bool owner_gone_meanwhile(struct walk *wk, const struct walker *walkers, size_t n)
{
        return wk->track_found && atomic_load(&wk->remaining) > 0 &&
               (atomic_load(&wk->next) < wk->n_pids || any_abandoned(walkers, n));
}

int rsap_listen_find_owners(struct rsap_listen_list *list)
{
        struct walker walkers[MAX_WALK_THREADS] = { 0 };
        struct inode_index ix = { 0 };
        struct walk wk = { 0 };
        _cleanup_(freep) pid_t *pids = NULL;
        _cleanup_(closep) int proc_fd = -1;
        size_t n = 0;
        int r;

        if (list->count == 0) { /* nothing to look for: no walk at all */
                list->owners_looked_up = true;
                list->unreadable_processes = 0;
                return 0;
        }
        proc_fd = open_proc();
        if (proc_fd < 0)
                return proc_fd;
        r = walk_init(&wk, &ix, list, proc_fd);
        if (r == 0)
                r = list_pids(proc_fd, &pids, &wk.n_pids);
        if (r == 0) {
                wk.pids = pids;
                n = walker_count(wk.n_pids);
                r = walkers_init(walkers, n, &wk);
        }
        if (r == 0)
                r = walk_in_threads(walkers, n);
        while (r == 0 && owner_gone_meanwhile(&wk, walkers, n))
                r = walk_in_threads(walkers, n);
        if (r == 0 && (atomic_load(&wk.next) < wk.n_pids || any_abandoned(walkers, n)))
                r = scan_relatives(walkers, n);
        if (r == 0)
                r = merge(list, walkers, n);
        if (r == 0) {
                list->owners_looked_up = true;
                list->unreadable_processes = 0;
                for (size_t i = 0; i < n; i++)
                        list->unreadable_processes += walkers[i].unreadable;
        }
        for (size_t i = 0; i < MAX_WALK_THREADS; i++)
                walker_free(&walkers[i]);
        walk_free(&wk);
        index_free(&ix);
        return r;
}

/* Keeps the sockets the process holds, in their order. */
static int keep_held(struct rsap_listen_list *list, const struct walker *w)
{
        _cleanup_(freep) bool *held = calloc(list->count ? list->count : 1, sizeof(*held));
        size_t kept = 0;

        if (!held)
                return -ENOMEM;
        for (size_t i = 0; i < w->n_findings; i++)
                held[w->findings[i].socket] = true;
        for (size_t i = 0; i < list->count; i++) {
                if (held[i])
                        list->sockets[kept++] = list->sockets[i];
        }
        list->count = kept;
        return 0;
}

int rsap_listen_keep_pid(struct rsap_listen_list *list, pid_t pid)
{
        struct inode_index ix = { 0 };
        struct walk wk = { 0 };
        struct walker w = { 0 };
        _cleanup_(closep) int proc_fd = open_proc();
        char path[32];
        bool held;
        int r;

        if (proc_fd < 0)
                return proc_fd;
        snprintf(path, sizeof(path), "%d/fd", (int)pid);
        if (pid <= 0 || faccessat(proc_fd, path, R_OK, 0) < 0) {
                r = pid <= 0 || errno == ENOENT ? 0 : -errno;
                if (r == 0)
                        list->count = 0; /* no such process holds nothing */
                return r;
        }
        r = walk_init(&wk, &ix, list, proc_fd);
        if (r == 0)
                r = walkers_init(&w, 1, &wk);
        if (r == 0)
                r = scan_process(&w, pid, &held);
        if (r == 0 && w.unreadable)
                r = -EACCES;
        if (r == 0)
                r = keep_held(list, &w);
        walker_free(&w);
        walk_free(&wk);
        index_free(&ix);
        return r;
}

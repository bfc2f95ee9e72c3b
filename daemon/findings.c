/* SPDX-License-Identifier: MIT */
/*
 * Squatter findings as listeners appear (rsap/findings.h): each socket the
 * change engine (rsap/watch.h) reports started is judged by the audit's
 * facts; a squatter is recorded in the store, counted, shown in /metrics
 * and handed to --on-finding and --finding-webhook.  The finding is
 * resolved when its socket stops, or when the registry changes so that the
 * socket is legitimate (every socket is judged again then, so one that
 * turns into a squatter is found too).
 *
 * The recorder's thread (recorder.c) drives the change engine and owns
 * the judge and the table of sockets through two hooks: findings_on_event()
 * for each change (store_lock held while recording: nothing here takes
 * it), then, after each step and at least once a second, findings_flush()
 * and findings_tick() (store_lock free), which write and judge again.
 * lock guards only what a scrape reads.  Deliveries run on a thread of their own from a bounded
 * queue, each with a time limit, so that a slow command or webhook never
 * holds the engine; what does not fit in the queue is dropped and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include <rsap/findings.h>
#include <rsap/store.h>
#include <rsap/time.h>
#include <rsap/watch.h>

#include "rsapd.h"

/* Deliveries waiting at most; past it a finding is not delivered (counted). */
#define DELIVERY_QUEUE_MAX 64
/* How long a command or a webhook may take before it is given up. */
#define DELIVERY_TIMEOUT_MS 10000
/* The judge is read again at least this often: leases run out, holders die. */
#define JUDGE_MAX_AGE_MS 5000
/* Findings recorded in one transaction at most (a first look may find thousands). */
#define FLUSH_CHUNK 256

/* A finding made in this step, recorded at its end. */
#define PENDING (-1)

/* A socket the engine reported listening, and its open finding if any. */
struct tracked {
        uint64_t inode;              /* 0: a free slot */
        struct rsap_listen_socket sock;
        struct rsap_listen_owner *owners; /* sock.owners: commands kept, names not */
        int64_t finding_id;          /* 0: none open; PENDING: to be recorded */
        enum rsap_squat_kind kind;
        char *service;
};

struct findings {
        struct rsapd *d;
        /* The engine thread's own. */
        struct rsap_squat_judge *judge;
        struct rsap_host host;       /* the ephemeral range, read with the judge */
        unsigned judged_generation;
        int64_t judged_ms;
        struct tracked *table;       /* open addressing by inode, linear probing */
        size_t capacity, used;
        /* What the step under way found, recorded in one transaction (flush()). */
        struct rsap_listen_finding *to_record;
        uint64_t *to_record_inode;
        size_t n_record, record_capacity, inode_capacity;
        struct rsap_finding_resolution *to_resolve;
        size_t n_resolve, resolve_capacity;
        pthread_t delivery_thread;
        bool delivery_started;
        /* Guarded by lock: what /metrics and the delivery thread read. */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool stop;
        unsigned long total[RSAP_SQUAT_KINDS];
        unsigned long store_failures;
        char *queue[DELIVERY_QUEUE_MAX];
        size_t queue_head, queue_len;
        unsigned long delivered, failed, dropped;
};

/* ---- the table of sockets ---------------------------------------------------------- */

static size_t home_of(const struct findings *f, uint64_t inode)
{
        return (size_t)(inode * 0x9e3779b97f4a7c15ull) & (f->capacity - 1);
}

/* The socket's slot, or the free slot where it would go. */
static size_t slot_of(const struct findings *f, uint64_t inode)
{
        size_t i = home_of(f, inode);

        while (f->table[i].inode && f->table[i].inode != inode)
                i = (i + 1) & (f->capacity - 1);
        return i;
}

static int table_grow(struct findings *f)
{
        size_t old_capacity = f->capacity, capacity = old_capacity ? old_capacity * 2 : 256;
        struct tracked *old = f->table, *table = calloc(capacity, sizeof(*table));

        if (!table)
                return -ENOMEM;
        f->table = table;
        f->capacity = capacity;
        for (size_t i = 0; i < old_capacity; i++)
                if (old[i].inode)
                        f->table[slot_of(f, old[i].inode)] = old[i];
        free(old);
        return 0;
}

static void tracked_clear(struct tracked *t)
{
        free(t->owners);
        free(t->service);
        memset(t, 0, sizeof(*t));
}

/* Backward-shift deletion: what probed past the freed slot moves up into it. */
static void table_remove(struct findings *f, size_t i)
{
        size_t mask = f->capacity - 1;

        tracked_clear(&f->table[i]);
        f->used--;
        for (size_t j = (i + 1) & mask; f->table[j].inode; j = (j + 1) & mask) {
                size_t home = home_of(f, f->table[j].inode);

                /* It stays when its home lies cyclically in (i, j]. */
                if (((j - home) & mask) < ((j - i) & mask))
                        continue;
                f->table[i] = f->table[j];
                memset(&f->table[j], 0, sizeof(f->table[j]));
                i = j;
        }
}

/* A copy of what judging needs: the socket and its owners' pids and commands. */
static int tracked_set(struct tracked *t, const struct rsap_listen_socket *sock)
{
        t->owners = calloc(sock->n_owners ? sock->n_owners : 1, sizeof(*t->owners));
        if (!t->owners)
                return -ENOMEM;
        t->sock = *sock;
        for (size_t o = 0; o < sock->n_owners; o++) {
                t->owners[o] = sock->owners[o];
                t->owners[o].user = NULL;
                t->owners[o].container = NULL;
        }
        t->sock.owners = t->owners;
        t->sock.user = NULL;
        t->sock.origin = (struct rsap_listen_origin){ 0 };
        t->inode = sock->inode;
        return 0;
}

/* ---- deliveries ---------------------------------------------------------------------- */

/* Queues a finding's JSON for the delivery thread (takes text); drops it when full. */
static void deliver_later(struct findings *f, char *text)
{
        pthread_mutex_lock(&f->lock);
        if (f->queue_len == DELIVERY_QUEUE_MAX) {
                f->dropped++;
                free(text);
        } else {
                f->queue[(f->queue_head + f->queue_len++) % DELIVERY_QUEUE_MAX] = text;
                pthread_cond_signal(&f->wake);
        }
        pthread_mutex_unlock(&f->lock);
}

static bool delivering(const struct rsapd *d)
{
        return d->cfg.on_finding || d->cfg.finding_webhook;
}

/* ---- judging --------------------------------------------------------------------------- */

static int reread_judge(struct findings *f)
{
        struct rsapd *d = f->d;
        struct rsap_squat_judge *judge = NULL;
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_squat_judge_read(d->store, &judge);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                return r;
        rsap_squat_judge_free(f->judge);
        f->judge = judge;
        f->host.have_ephemeral = rsap_host_read_ephemeral(NULL, &f->host.ephemeral_low,
                                                          &f->host.ephemeral_high) == 0;
        f->judged_ms = rsap_monotonic_ms();
        return 0;
}

static struct rsap_squat_verdict judge_socket(struct findings *f,
                                              const struct rsap_listen_socket *sock)
{
        struct registry_ref *ref = rsapd_registry_get(f->d);
        struct rsap_squat_verdict v = { .kind = RSAP_SQUAT_NONE };

        if (f->judge && rsap_squat_classify(f->judge, ref->reg, &f->host, sock, &v) < 0)
                v.kind = RSAP_SQUAT_NONE;
        rsapd_registry_put(ref);
        return v;
}

/* One line of JSON for a command's stdin or a webhook's body; NULL on ENOMEM. */
static char *finding_text(const struct rsap_listen_finding *finding)
{
        json_t *value = rsap_listen_finding_to_json(finding);
        char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;

        json_decref(value);
        return text;
}

/* Queues the finding the verdict makes of t's socket for flush(); t shows it at once. */
static void open_finding(struct findings *f, struct tracked *t,
                         const struct rsap_squat_verdict *v, int64_t at_us)
{
        struct rsap_listen_finding finding;
        char *service = v->service ? strdup(v->service) : NULL;
        int r = v->service && !service ? -ENOMEM
                                       : rsap_listen_finding_make(v, &t->sock, at_us, &finding);

        if (r == 0 && (rsap_grow(&f->to_record, &f->record_capacity, f->n_record + 1,
                                 sizeof(*f->to_record)) < 0 ||
                       rsap_grow(&f->to_record_inode, &f->inode_capacity, f->n_record + 1,
                                 sizeof(*f->to_record_inode)) < 0)) {
                rsap_listen_finding_clear(&finding);
                r = -ENOMEM;
        }
        pthread_mutex_lock(&f->lock);
        if (r == 0) {
                f->to_record[f->n_record] = finding;
                f->to_record_inode[f->n_record++] = t->inode;
                t->service = service;
                t->finding_id = PENDING;
                t->kind = v->kind;
        } else {
                free(service);
                f->store_failures++;
        }
        pthread_mutex_unlock(&f->lock);
}

static void close_finding(struct findings *f, struct tracked *t, int64_t at_us)
{
        if (t->finding_id == PENDING) {
                /* Made and ended within the step: never recorded. */
                for (size_t i = 0; i < f->n_record; i++)
                        if (f->to_record_inode[i] == t->inode)
                                f->to_record[i].kind = RSAP_SQUAT_NONE;
        } else if (rsap_grow(&f->to_resolve, &f->resolve_capacity, f->n_resolve + 1,
                             sizeof(*f->to_resolve)) == 0) {
                f->to_resolve[f->n_resolve++] = (struct rsap_finding_resolution){
                        t->finding_id, at_us };
        } else {
                rsapd_log("cannot resolve finding %lld: %s", (long long)t->finding_id,
                          strerror(ENOMEM));
        }
        pthread_mutex_lock(&f->lock);
        t->finding_id = 0;
        t->kind = RSAP_SQUAT_NONE;
        free(t->service);
        t->service = NULL;
        pthread_mutex_unlock(&f->lock);
}

/* The queued findings left after those ended within the step, in order. */
static void drop_ended(struct findings *f)
{
        size_t kept = 0;

        for (size_t i = 0; i < f->n_record; i++) {
                if (f->to_record[i].kind == RSAP_SQUAT_NONE) {
                        rsap_listen_finding_clear(&f->to_record[i]);
                        continue;
                }
                f->to_record_inode[kept] = f->to_record_inode[i];
                f->to_record[kept++] = f->to_record[i];
        }
        f->n_record = kept;
}

/* Under f->lock, after a transaction: the tracked sockets of to_record[from..to) get
 * their ids (or lose them). */
static void settle(struct findings *f, size_t from, size_t to, int r)
{
        for (size_t i = from; i < to; i++) {
                struct tracked *t = &f->table[slot_of(f, f->to_record_inode[i])];

                if (!t->inode || t->finding_id != PENDING)
                        continue;
                if (r == 0) {
                        t->finding_id = f->to_record[i].id;
                        f->total[f->to_record[i].kind]++;
                        continue;
                }
                t->finding_id = 0;
                t->kind = RSAP_SQUAT_NONE;
                free(t->service);
                t->service = NULL;
                f->store_failures++;
        }
}

/* Records to_record[from..to) and, with the last chunk, the resolutions: store_lock is
 * held for one chunk at a time, so that the API's writes pass between them. */
static int flush_chunk(struct findings *f, size_t from, size_t to, bool last)
{
        struct rsapd *d = f->d;
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_findings_apply(d->store, f->to_record + from, to - from, f->to_resolve,
                                last ? f->n_resolve : 0);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                rsapd_log("cannot record %zu finding%s%s: %s", to - from,
                          to - from == 1 ? "" : "s", last ? " and resolve others" : "",
                          strerror(-r));
        pthread_mutex_lock(&f->lock);
        settle(f, from, to, r);
        pthread_mutex_unlock(&f->lock);
        for (size_t i = from; i < to; i++)
                if (r == 0 && delivering(d))
                        deliver_later(f, finding_text(&f->to_record[i]));
        return r;
}

void findings_flush(struct rsapd *d)
{
        struct findings *f = d->findings;
        size_t from = 0;

        if (!f)
                return;
        drop_ended(f);
        if (f->n_record == 0 && f->n_resolve == 0)
                return;
        do {
                size_t to = f->n_record - from > FLUSH_CHUNK ? from + FLUSH_CHUNK : f->n_record;

                (void)flush_chunk(f, from, to, to == f->n_record);
                from = to;
        } while (from < f->n_record);
        for (size_t i = 0; i < f->n_record; i++)
                rsap_listen_finding_clear(&f->to_record[i]);
        f->n_record = 0;
        f->n_resolve = 0;
}

/* Judges t again: an open finding the registry made legitimate (or another kind) ends. */
static void rejudge(struct findings *f, struct tracked *t, int64_t at_us)
{
        struct rsap_squat_verdict v = judge_socket(f, &t->sock);
        bool same = v.kind == t->kind && (v.kind == RSAP_SQUAT_NONE ||
                                          (v.service && t->service &&
                                           strcmp(v.service, t->service) == 0) ||
                                          (!v.service && !t->service));

        if (same)
                return;
        if (t->finding_id)
                close_finding(f, t, at_us);
        if (v.kind != RSAP_SQUAT_NONE)
                open_finding(f, t, &v, at_us);
}

/* Under f->lock (a scrape reads the table): the socket's new slot, or NULL. */
static struct tracked *track(struct findings *f, const struct rsap_listen_socket *sock)
{
        size_t i;

        if ((f->used + 1) * 2 > f->capacity && table_grow(f) < 0)
                return NULL;
        i = slot_of(f, sock->inode);
        if (f->table[i].inode || tracked_set(&f->table[i], sock) < 0)
                return NULL; /* known already, or out of memory */
        f->used++;
        return &f->table[i];
}

static void started(struct findings *f, const struct rsap_listen_socket *sock, int64_t at_us)
{
        struct rsap_squat_verdict v;
        struct tracked *t;

        if (!sock->inode)
                return; /* (never for a listener: the kernel names every socket) */
        pthread_mutex_lock(&f->lock);
        t = track(f, sock);
        pthread_mutex_unlock(&f->lock);
        if (!t)
                return;
        v = judge_socket(f, &t->sock);
        if (v.kind != RSAP_SQUAT_NONE)
                open_finding(f, t, &v, at_us);
}

static void stopped(struct findings *f, const struct rsap_listen_socket *sock, int64_t at_us)
{
        size_t i;

        if (!sock->inode || !f->capacity)
                return;
        i = slot_of(f, sock->inode);
        if (!f->table[i].inode)
                return;
        if (f->table[i].finding_id)
                close_finding(f, &f->table[i], at_us);
        pthread_mutex_lock(&f->lock);
        table_remove(f, i);
        pthread_mutex_unlock(&f->lock);
}

/* Resolves what a previous run left open on this host: what still listens is found again. */
static void resolve_left_open(struct findings *f)
{
        struct rsapd *d = f->d;
        struct rsap_findings_query q = { .port = -1, .open_only = true };
        struct rsap_listen_finding *list = NULL;
        struct rsap_finding_resolution *ends = NULL;
        size_t n = 0, n_ends = 0;
        int64_t now = rsap_realtime_us();
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_findings_list(d->store, &q, &list, &n);
        if (r == 0 && n > 0 && !(ends = calloc(n, sizeof(*ends))))
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (list[i].host && strcmp(list[i].host, rsap_store_host(d->store)) == 0)
                        ends[n_ends++] = (struct rsap_finding_resolution){ list[i].id, now };
        if (r == 0 && n_ends > 0)
                r = rsap_findings_apply(d->store, NULL, 0, ends, n_ends);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                rsapd_log("cannot resolve the findings a previous run left open: %s",
                          strerror(-r));
        free(ends);
        rsap_listen_findings_free(list, n);
}

void findings_on_event(struct rsapd *d, const struct rsap_watch_event *ev)
{
        struct findings *f = d->findings;

        if (!f)
                return;
        /* Without a judge (its read failed) sockets are tracked, judged at the next tick. */
        if (ev->change == RSAP_WATCH_STARTED)
                started(f, ev->socket, ev->at_us);
        else
                stopped(f, ev->socket, ev->at_us);
}

void findings_tick(struct rsapd *d)
{
        struct findings *f = d->findings;
        unsigned generation;
        int64_t now;

        if (!f)
                return;
        rsapd_notice_store_changes(d);
        generation = rsapd_generation(d);
        if (f->judge && generation == f->judged_generation &&
            rsap_monotonic_ms() - f->judged_ms < JUDGE_MAX_AGE_MS)
                return;
        if (reread_judge(f) < 0)
                return;
        f->judged_generation = generation;
        now = rsap_realtime_us();
        for (size_t i = 0; i < f->capacity; i++)
                if (f->table[i].inode)
                        rejudge(f, &f->table[i], now);
        findings_flush(d);
}

/* ---- the recorder's hooks --------------------------------------------------------------- */

static void on_change(struct rsapd *d, const struct rsap_watch_event *ev, void *data)
{
        (void)data;
        findings_on_event(d, ev);
}

static void after_step(struct rsapd *d, void *data)
{
        (void)data;
        findings_flush(d);
        findings_tick(d);
}

/* ---- the deliveries' thread ---------------------------------------------------------- */

/* Waits for pid at most DELIVERY_TIMEOUT_MS, then kills it: its exit status, or -ETIMEDOUT. */
static int wait_bounded(pid_t pid)
{
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int ready = pidfd >= 0 ? poll(&p, 1, DELIVERY_TIMEOUT_MS) : 1;

        if (ready == 0)
                kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (pidfd >= 0)
                close(pidfd);
        if (ready == 0)
                return -ETIMEDOUT;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The command, without a shell, the finding on its stdin: 0 when it exits 0. */
static int run_command(const char *command, const char *text)
{
        char *argv[] = { (char *)command, NULL };
        posix_spawn_file_actions_t actions;
        int pipe_fds[2], r;
        pid_t pid;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
        r = -posix_spawn(&pid, command, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[0]);
        if (r == 0) {
                /* A command that does not read gets EPIPE, not rsapd's death (SIGPIPE is
                 * ignored in rsapd); the finding is one line, far below a pipe's buffer. */
                if (write(pipe_fds[1], text, strlen(text)) < 0 || write(pipe_fds[1], "\n", 1) < 0)
                        r = -errno;
                close(pipe_fds[1]);
                int status = wait_bounded(pid);

                r = r < 0 ? r : status < 0 ? status : status ? -ECHILD : 0;
        } else {
                close(pipe_fds[1]);
        }
        return r;
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
        (void)data;
        (void)arg;
        return size * n;
}

/* POSTs the finding; 0 for a 2xx answer. */
static int post_webhook(const char *url, const char *text)
{
        CURL *curl = curl_easy_init();
        struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
        long status = 0;
        CURLcode rc;

        if (!curl || !headers) {
                curl_slist_free_all(headers);
                curl_easy_cleanup(curl);
                return -ENOMEM;
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)DELIVERY_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        rc = curl_easy_perform(curl);
        if (rc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK)
                return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
        return status >= 200 && status < 300 ? 0 : -EPROTO;
}

static void deliver(struct findings *f, const char *text)
{
        const struct rsapd_config *cfg = &f->d->cfg;
        int r = 0, w = 0;

        if (cfg->on_finding && (r = run_command(cfg->on_finding, text)) < 0)
                rsapd_log("--on-finding %s: %s", cfg->on_finding,
                          r == -ECHILD ? "exited with a failure" : strerror(-r));
        if (cfg->finding_webhook && (w = post_webhook(cfg->finding_webhook, text)) < 0)
                rsapd_log("--finding-webhook: %s",
                          w == -EPROTO ? "answered other than 2xx" : strerror(-w));
        pthread_mutex_lock(&f->lock);
        if (r < 0 || w < 0)
                f->failed++;
        else
                f->delivered++;
        pthread_mutex_unlock(&f->lock);
}

static void *delivery_loop(void *data)
{
        struct findings *f = data;

        pthread_setname_np(pthread_self(), "rsapd-deliver");
        pthread_mutex_lock(&f->lock);
        for (;;) {
                while (!f->stop && f->queue_len == 0)
                        pthread_cond_wait(&f->wake, &f->lock);
                if (f->stop)
                        break;
                char *text = f->queue[f->queue_head];

                f->queue_head = (f->queue_head + 1) % DELIVERY_QUEUE_MAX;
                f->queue_len--;
                pthread_mutex_unlock(&f->lock);
                if (text)
                        deliver(f, text);
                free(text);
                pthread_mutex_lock(&f->lock);
        }
        pthread_mutex_unlock(&f->lock);
        return NULL;
}

/* ---- start and stop ------------------------------------------------------------------ */

static int start_delivery(struct findings *f)
{
        int r;

        if (f->d->cfg.finding_webhook && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -ENOMEM;
        r = -pthread_create(&f->delivery_thread, NULL, delivery_loop, f);
        f->delivery_started = r == 0;
        return r;
}

int findings_start(struct rsapd *d, struct findings **out)
{
        struct findings *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        f->d = d;
        r = rsap_cond_init_monotonic(&f->wake);
        if (r == 0 && (r = -pthread_mutex_init(&f->lock, NULL)) < 0)
                pthread_cond_destroy(&f->wake);
        if (r < 0) {
                free(f);
                return r;
        }
        d->findings = f;
        resolve_left_open(f);
        (void)reread_judge(f); /* failed: the first tick tries again */
        r = delivering(d) ? start_delivery(f) : 0;
        if (r == 0)
                r = rsapd_listen_hook_add(d, on_change, after_step, NULL);
        if (r < 0) {
                d->findings = NULL;
                findings_stop(f);
                return r;
        }
        *out = f;
        return 0;
}

void findings_stop(struct findings *f)
{
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        if (f->delivery_started)
                pthread_join(f->delivery_thread, NULL);
        for (size_t i = 0; i < f->queue_len; i++)
                free(f->queue[(f->queue_head + i) % DELIVERY_QUEUE_MAX]);
        for (size_t i = 0; i < f->capacity; i++)
                tracked_clear(&f->table[i]);
        free(f->table);
        for (size_t i = 0; i < f->n_record; i++)
                rsap_listen_finding_clear(&f->to_record[i]);
        free(f->to_record);
        free(f->to_record_inode);
        free(f->to_resolve);
        rsap_squat_judge_free(f->judge);
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        free(f);
}

/* ---- /metrics ------------------------------------------------------------------------- */

/* A label's value in Prometheus' text format: \ " and newlines escaped. */
static void label_value(struct rsap_buf *b, const char *text)
{
        for (const char *p = text ? text : ""; *p; p++) {
                if (*p == '\\' || *p == '"')
                        rsap_buf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                        rsap_buf_puts(b, "\\n");
                else
                        rsap_buf_printf(b, "%c", *p);
        }
}

/* Each squatted port/protocol once: the first open finding met on it. */
static bool first_on_port(const struct findings *f, size_t upto, const struct tracked *t)
{
        for (size_t i = 0; i < upto; i++) {
                const struct tracked *o = &f->table[i];

                if (o->inode && o->finding_id && o->kind != RSAP_SQUAT_UNREGISTERED &&
                    o->sock.port == t->sock.port && o->sock.proto == t->sock.proto)
                        return false;
        }
        return true;
}

static void render_squatted(const struct findings *f, struct rsap_buf *b)
{
        rsap_buf_puts(b, "# HELP rsap_squatted_ports 1 for each port that the local registry "
                         "assigns or leases to another, on which a squatter listens.\n"
                         "# TYPE rsap_squatted_ports gauge\n");
        for (size_t i = 0; i < f->capacity; i++) {
                const struct tracked *t = &f->table[i];

                if (!t->inode || !t->finding_id || t->kind == RSAP_SQUAT_UNREGISTERED ||
                    !first_on_port(f, i, t))
                        continue;
                rsap_buf_puts(b, "rsap_squatted_ports{service=\"");
                label_value(b, t->service);
                rsap_buf_printf(b, "\",port=\"%u\",proto=\"%s\"} 1\n", t->sock.port,
                                rsap_proto_name(t->sock.proto));
        }
}

static void render_counts(const struct findings *f, struct rsap_buf *b)
{
        size_t unregistered = 0;

        for (size_t i = 0; i < f->capacity; i++)
                unregistered += f->table[i].inode && f->table[i].finding_id &&
                                f->table[i].kind == RSAP_SQUAT_UNREGISTERED;
        rsap_buf_printf(b, "# HELP rsap_unregistered_listeners Listening sockets on ports "
                           "neither IANA nor the local registry assigns.\n"
                           "# TYPE rsap_unregistered_listeners gauge\n"
                           "rsap_unregistered_listeners %zu\n", unregistered);
        rsap_buf_puts(b, "# HELP rsap_findings_total Squatter findings recorded, by kind.\n"
                         "# TYPE rsap_findings_total counter\n");
        for (int k = RSAP_SQUAT_NONE + 1; k < RSAP_SQUAT_KINDS; k++)
                rsap_buf_printf(b, "rsap_findings_total{kind=\"%s\"} %lu\n",
                                rsap_squat_kind_name((enum rsap_squat_kind)k), f->total[k]);
        rsap_buf_printf(b, "# HELP rsapd_findings_store_failures_total Findings that could not "
                           "be recorded or resolved in the store.\n"
                           "# TYPE rsapd_findings_store_failures_total counter\n"
                           "rsapd_findings_store_failures_total %lu\n", f->store_failures);
        rsap_buf_printf(b, "# HELP rsapd_finding_deliveries_total Findings handed to "
                           "--on-finding and --finding-webhook, by outcome.\n"
                           "# TYPE rsapd_finding_deliveries_total counter\n"
                           "rsapd_finding_deliveries_total{result=\"delivered\"} %lu\n"
                           "rsapd_finding_deliveries_total{result=\"failed\"} %lu\n"
                           "rsapd_finding_deliveries_total{result=\"dropped\"} %lu\n",
                        f->delivered, f->failed, f->dropped);
}

void findings_render(struct findings *f, struct rsap_buf *b)
{
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        render_counts(f, b);
        render_squatted(f, b);
        pthread_mutex_unlock(&f->lock);
}

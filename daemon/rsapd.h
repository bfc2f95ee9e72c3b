/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include <rsap/answer.h>
#include <rsap/iana.h>

#include <rsap/basic.h>
#include <rsap/buf.h>
#include "router.h"

/*
 * rsapd: the registry as a service.  The pieces, one file each:
 *   main.c       start, readiness, signals and orderly stop
 *   options.c    the command line and its defaults
 *   state.c      what the threads share: the registry, its cache file, the store
 *   log.c        one line per event on stderr
 *   http.c       libmicrohttpd: limits, dispatch, access log, the reaper
 *   router.c     method + path -> route (pure; fuzzed)
 *   api.c        the JSON API, from librsap's *_to_json() values
 *   html.c       the pages, every string through one escaping function
 *   map.c        the port space as one SVG picture
 *   metrics.c    Prometheus text
 *   figures.c    /metrics' figures from the store and the kernel, refreshed
 *                by a thread of their own (--metrics-interval)
 *   auth.c       the bearer token
 *   pool.c       the port server's pool (pure bookkeeping)
 *   portserver.c the port server's socket, clients and their deaths
 *   listeners.c  the listener snapshot: this host's sockets, refreshed by a
 *                thread of their own (--listeners-interval)
 *   reaper.c     a thread that ends dead leases, so that a take need not
 *                judge every lease
 *   recorder.c   a thread that runs the change engine (rsap/watch.h) and
 *                records each listening interval in the store
 *   findings.c   squatter findings as listeners appear: the change engine's
 *                events judged, recorded, counted and delivered
 */

#define RSAPD_DEFAULT_PORT 1647
#define RSAPD_MAX_LISTEN 16
#define RSAPD_MAX_HOSTS 16

/* Whom /v1/listening names the processes of sockets to (--owners). */
enum owners_policy {
        OWNERS_ALL,   /* everyone rsapd answers */
        OWNERS_TOKEN, /* clients presenting the token only */
        OWNERS_NONE,  /* nobody */
};

struct listen_addr {
        struct sockaddr_storage addr;
        socklen_t len;
        char text[80]; /* "127.0.0.1:1647", "[::1]:1647" as given, port resolved after bind */
};

struct rsapd_config {
        struct listen_addr listen[RSAPD_MAX_LISTEN];
        size_t n_listen;
        const char *db_dir;          /* --db-dir: the registry cache and the local registry */
        const char *db_path;         /* --db: the local registry's database */
        unsigned cache_ttl_ms;       /* how long a cached answer may serve (0: no cache) */
        const char *token_file;      /* --token-file: writes are refused without one */
        const char *portserver_path; /* --portserver: a path, or @name for the abstract namespace */
        unsigned portserver_mode;    /* --portserver-mode: the socket file's permissions */
        unsigned portserver_clients_per_uid; /* connections at once from one uid */
        unsigned portserver_leases_per_uid;  /* ports one uid's processes may hold */
        uint16_t pool_low, pool_high;
        unsigned max_connections;
        unsigned max_connections_per_ip; /* 0: none */
        bool max_connections_per_ip_set; /* given, so it applies to loopback addresses too */
        const char *hosts[RSAPD_MAX_HOSTS]; /* --host: more names the Host header may give */
        size_t n_hosts;
        enum owners_policy owners;
        unsigned timeout_seconds;    /* to finish each request, counted from the last answer */
        size_t max_body;             /* request bodies beyond this are 413 */
        size_t connection_memory;    /* per connection: bounds the request header */
        unsigned threads;
        bool access_log;
        unsigned metrics_interval_s; /* --metrics-interval: between refreshes of /metrics' figures */
        unsigned listeners_interval_ms; /* --listeners-interval: between socket snapshots */
        bool record;                    /* --record (default) / --no-record: listening intervals */
        int64_t history_retention_us;   /* --history-retention */
        int64_t history_cap;            /* --history-cap: rows of ended intervals kept at most */
        const char *on_finding;      /* --on-finding: a program run with each finding on stdin */
        const char *finding_webhook; /* --finding-webhook: a URL each finding is POSTed to */
};

/* The registry in use, counted so SIGHUP can swap it under running requests. */
struct registry_ref {
        struct rsap_iana *reg;
        atomic_uint refs;
};

struct auth {
        char *token; /* NULL: no token file, so every write is refused (403) */
        size_t token_len;
};

struct figures;
struct findings;
struct listener_snapshot;
struct listeners;
struct metrics;
struct portserver;
struct reaper;
struct recorder;
struct rsap_store;
struct store_follow;
struct rsap_watch_event;

/*
 * What else sees each change of this host's listeners, after the recorder
 * has recorded it (recorder.c): a function and its data, called on the
 * recorder's thread.  Added before recorder_start(), with
 * rsapd_listen_hook_add().  While recording, a hook is called with
 * store_lock held (the recorder's transaction of the step is open, and a
 * hook's writes to d->store join it): it must not take store_lock again.
 * With --no-record the lock is not held.
 */
struct rsapd;
typedef void (*rsapd_listen_hook)(struct rsapd *d, const struct rsap_watch_event *ev, void *data);
/* After each step of the engine (at least once a second), store_lock not held: a hook's
 * own transaction for what its events found, its periodic work.  NULL: none. */
typedef void (*rsapd_listen_step_hook)(struct rsapd *d, void *data);
struct rsapd_listen_hook_entry {
        rsapd_listen_hook fn;
        rsapd_listen_step_hook after_step;
        void *data;
};
#define RSAPD_MAX_LISTEN_HOOKS 4

struct rsapd {
        struct rsapd_config cfg;
        struct auth auth;
        struct metrics *metrics;
        struct figures *figures;
        struct listeners *listeners;
        struct reaper *reaper;
        struct recorder *recorder;
        struct rsapd_listen_hook_entry listen_hooks[RSAPD_MAX_LISTEN_HOOKS];
        size_t n_listen_hooks;
        struct findings *findings;
        struct portserver *portserver;
        char data_dir[4096];
        char cache_path[4200];
        char db_path[4200];
        /* The organisation's local registry: one SQLite connection, used by
         * one thread at a time (store_lock); SQLite's own locking orders us
         * against rsap commands run beside the daemon. */
        struct rsap_store *store;
        pthread_mutex_t store_lock;
        /* guarded by registry_lock in state.c */
        struct registry_ref *registry;
        atomic_bool cached; /* a verified cached copy answers, not the built-in one */
        atomic_bool stopping;
        /* Bumped after every change to the data answers come from (cache.h). */
        atomic_uint generation;
        /* The store's data version last seen (rsapd_notice_store_changes()). */
        _Atomic int64_t store_version;
        /* The store's commits come as notices (store_follow.c): no request asks. */
        struct store_follow *follow;
        atomic_bool store_followed;
};

static inline unsigned rsapd_generation(struct rsapd *d)
{
        return atomic_load(&d->generation);
}

static inline void rsapd_data_changed(struct rsapd *d)
{
        atomic_fetch_add(&d->generation, 1);
}

/* ---- options (options.c) --------------------------------------------------- */
/* 0 to run, 1 to exit 0 at once (--help, --version), -EINVAL for a bad option
 * (the error is printed).  Without --listen, fills in the loopback defaults. */
int rsapd_parse_options(int argc, char **argv, struct rsapd_config *cfg);

/* ---- the local registry (state.c) ------------------------------------------ */
/* Opens d->store for writing (created and migrated if need be) and checks it;
 * logs why when it cannot be used. */
int rsapd_store_open(struct rsapd *d);

/* Bumps the generation when another process (an rsap command beside the
 * daemon) committed to the local registry since last seen, or when the
 * store cannot say: before a cached answer is served or made. */
void rsapd_notice_store_changes(struct rsapd *d);

/* ---- the ports with local entries (local_ports.c) ---------------------------- */
/* Whether the local registry surely has no entry on port now (false: ask it). */
bool rsapd_local_port_empty(struct rsapd *d, uint16_t port);

/* ---- the registry (state.c) ------------------------------------------------ */
struct registry_ref *rsapd_registry_get(struct rsapd *d);
void rsapd_registry_put(struct registry_ref *ref);
/* Opens the registry again (rsap update replaced the cache): 0 or -errno. */
int rsapd_registry_reload(struct rsapd *d);

/* ---- one request, as the handlers see it --------------------------------- */
struct request {
        enum http_method method;
        const char *path;
        const struct route_match *route;
        const char *body;
        size_t body_len;
        bool loopback;
        bool authenticated; /* the client presented the valid token */
        /* A decoded query parameter, or NULL. */
        const char *(*query)(const struct request *req, const char *key);
        void *conn; /* for query() */
        const struct rsap_iana *reg;
        /* This host's sockets as the snapshot last found them (NULL: none). */
        const struct listener_snapshot *listeners;
};

struct reply {
        unsigned status;
        char *body; /* malloc'ed; the server frees it */
        size_t len;
        const char *content_type;
        unsigned allow;          /* the Allow header of a 405 */
        const char *challenge;   /* the WWW-Authenticate header of a 401 */
        bool page;               /* HTML: add the pages' security headers */
        char location[160];      /* the Location header of a redirect */
        /* CLOCK_REALTIME µs when the answer changes by itself (a lease or a
         * quarantine ends): a cached copy serves until then; 0: never. */
        int64_t changes_at_us;
};

void reply_take_buf(struct reply *r, unsigned status, const char *content_type, struct rsap_buf *b);
/* 303 See Other to location (a path of rsapd's own). */
void reply_redirect(struct reply *r, const char *location);
/* The value dumped with RSAP_JSON_DUMP_FLAGS plus a newline: the CLI's bytes. Steals value. */
void reply_json(struct reply *r, unsigned status, json_t *value);
/* {"error": {"status": N, "message": "..."}} */
void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The error as a page or as JSON, by the path's kind. */
void reply_error_for(struct reply *r, const char *path, unsigned status, const char *message);
/* Dumps like the CLI: RSAP_JSON_DUMP_FLAGS and a trailing newline.  NULL when out of memory. */
char *json_dump_like_cli(json_t *value, size_t *len);

/* ---- handlers -------------------------------------------------------------- */
typedef void (*handler_fn)(struct rsapd *d, const struct request *req, struct reply *out);

void api_port(struct rsapd *d, const struct request *req, struct reply *out);
void api_service(struct rsapd *d, const struct request *req, struct reply *out);
void api_search(struct rsapd *d, const struct request *req, struct reply *out);
void api_list(struct rsapd *d, const struct request *req, struct reply *out);
void api_ranges(struct rsapd *d, const struct request *req, struct reply *out);
void api_status(struct rsapd *d, const struct request *req, struct reply *out);
void api_listening(struct rsapd *d, const struct request *req, struct reply *out);
/* /v1/listening's answer to req's query, for the page too: 0, or an error
 * (the JSON error object in out). */
struct rsap_listening_answer;
int api_listening_answer(struct rsapd *d, const struct request *req,
                         struct rsap_listening_answer *a, struct reply *out);
void api_reload(struct rsapd *d, const struct request *req, struct reply *out);

/* the local registry (registration.c) */
void api_requests(struct rsapd *d, const struct request *req, struct reply *out);
void api_request(struct rsapd *d, const struct request *req, struct reply *out);
void api_request_action(struct rsapd *d, const struct request *req, struct reply *out);
void api_end(struct rsapd *d, const struct request *req, struct reply *out);
void api_transfer(struct rsapd *d, const struct request *req, struct reply *out);
void api_history(struct rsapd *d, const struct request *req, struct reply *out);
void api_pick(struct rsapd *d, const struct request *req, struct reply *out);
void api_leases(struct rsapd *d, const struct request *req, struct reply *out);
void api_lease_release(struct rsapd *d, const struct request *req, struct reply *out);
void api_audit(struct rsapd *d, const struct request *req, struct reply *out);
/* A store error as an HTTP answer: 404, 409, 503... with the store's words. */
void reply_store_error(struct reply *out, int err, const char *what);
/* /metrics' live leases and audit findings, each -errno when unknown: the
 * sockets collected first, then one hold of store_lock for the two reads,
 * then the audit's rules outside it. */
void registration_figures(struct rsapd *d, const struct rsap_iana *reg, long *leases,
                          long *findings);

void page_home(struct rsapd *d, const struct request *req, struct reply *out);
void page_search(struct rsapd *d, const struct request *req, struct reply *out);
void page_port(struct rsapd *d, const struct request *req, struct reply *out);
void page_listening(struct rsapd *d, const struct request *req, struct reply *out);
void page_service(struct rsapd *d, const struct request *req, struct reply *out);
void page_map(struct rsapd *d, const struct request *req, struct reply *out);
void page_map_svg(struct rsapd *d, const struct request *req, struct reply *out);
void page_map_script(struct rsapd *d, const struct request *req, struct reply *out);
void page_metrics(struct rsapd *d, const struct request *req, struct reply *out);

/* A yes/no query parameter ("?all", 1, true, yes; 0, false, no): absent leaves *out; else 400. */
int api_query_flag(const struct request *req, const char *key, bool *out, struct reply *reply);
/* Parses a port parameter with the CLI's words for what is wrong: 0 or fills out->status. */
int api_parse_port(const char *text, uint16_t *port, struct reply *out);

/* ---- HTML (html.c) ---------------------------------------------------------- */
/*
 * html_printf: printf for markup in which every %s is escaped for text and
 * attributes (& < > " ').  %S inserts markup the caller built (trusted, never
 * outside data); %d %u %ld %lu %zu %c and %% as usual.
 */
void html_printf(struct rsap_buf *b, const char *fmt, ...);
void html_escape(struct rsap_buf *b, const char *text);
/* Percent-encodes one path segment ("914c/g" -> "914c%2Fg"). */
void url_segment(struct rsap_buf *b, const char *text);
void html_page_start(struct rsap_buf *b, const char *title);
void html_page_end(struct rsap_buf *b, const struct rsapd *d, const struct rsap_iana *reg);

/* ---- map (map.c) --------------------------------------------------------------- */
/* The 256 x 256 picture, one cell per port, as a standalone <svg> element. */
void map_svg(struct rsapd *d, const struct rsap_iana *reg, struct rsap_buf *b);

/* ---- auth (auth.c) --------------------------------------------------------------- */
/* Reads the token file: a regular file, ours, mode 0600 or stricter.  -errno and a reason. */
int auth_load(struct auth *a, const char *path, char *why, size_t why_size);
void auth_clear(struct auth *a);
enum auth_verdict {
        AUTH_OK = 0,
        AUTH_MISSING,   /* 401: no credentials where they are needed */
        AUTH_INVALID,   /* 401: wrong token or scheme */
        AUTH_FORBIDDEN, /* 403: rsapd holds no token, so nobody may */
};
enum auth_verdict auth_check(const struct auth *a, bool write, bool loopback,
                             const char *authorization);
bool auth_token_equal(const struct auth *a, const char *token, size_t len);
/* Whether the Authorization header carries rsapd's token. */
bool auth_presents_token(const struct auth *a, const char *authorization);
/* Whether answers to req may name the processes behind sockets (--owners). */
bool owners_visible(const struct rsapd *d, const struct request *req);
struct rsap_interval_list;
/* Clears the processes of listening intervals, for a client that may not see them. */
void rsapd_hide_interval_owners(struct rsap_interval_list *list);
/* What rsapd composes an answer from for req (rsap/answer.h): its registry,
 * its store under store_lock, and the snapshot's sockets with owners as
 * --owners lets req see them. */
struct rsap_answer_sources answer_sources(struct rsapd *d, const struct request *req);

/* ---- metrics (metrics.c) ------------------------------------------------------------ */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
void metrics_observe(struct metrics *m, enum route_id route, unsigned status, double seconds);
void metrics_connection(struct metrics *m, int delta);
void metrics_reaped(struct metrics *m);
void metrics_render(struct metrics *m, struct rsapd *d, struct rsap_buf *b);

/* ---- /metrics' figures (figures.c) ------------------------------------------------- */
/* What the last refresh found; a scrape takes a copy. */
struct figures_snapshot {
        bool known;                 /* some refresh succeeded: the figures below are set */
        long leases, findings;      /* from the last refresh that succeeded */
        int64_t refreshed_us;       /* its end, CLOCK_REALTIME */
        int64_t refreshed_mono_us;  /* its end, CLOCK_MONOTONIC: the figures' age */
        bool failed;                /* the last refresh failed: the figures are older */
        bool refreshing;            /* a refresh is under way */
        unsigned long refreshes, failures; /* refreshes ended, and those that failed */
};
/* Starts the thread, which refreshes at once and then every interval_s seconds. */
int figures_start(struct rsapd *d, unsigned interval_s, struct figures **out);
/* Stops the thread (after the refresh under way) and frees; NULL is fine. */
void figures_stop(struct figures *f);
void figures_read(struct figures *f, struct figures_snapshot *out);

/* ---- the listener snapshot (listeners.c) ------------------------------------------ */
/* This host's sockets as one refresh found them, counted like registry_ref. */
struct listener_snapshot {
        struct rsap_listen_list *owned; /* with owners; NULL under --owners none */
        struct rsap_listen_list *plain; /* the same sockets without owners */
        struct rsap_listen_list *pool;  /* plain's sockets on the port server's range */
        /* owned's sockets (else plain's) by port, each port's in their order
         * there: shallow copies, whose strings and owners are that list's */
        struct rsap_listen_socket *by_port;
        int error;                      /* rsap_listen_collect()'s: the lists are NULL */
        int64_t collected_us;           /* when, CLOCK_REALTIME */
        int64_t collected_mono_us;      /* when, CLOCK_MONOTONIC: the facts' age */
        atomic_uint refs;
};
/* Takes the first snapshot, then starts the thread that refreshes it every interval_ms. */
int listeners_start(struct rsapd *d, unsigned interval_ms, struct listeners **out);
/* Stops the thread (after the refresh under way) and frees; NULL is fine. */
void listeners_stop(struct listeners *l);
/* The newest snapshot, referenced (NULL only without a refresher); _put it. */
struct listener_snapshot *listeners_get(struct listeners *l);
void listeners_put(struct listener_snapshot *s);
/*
 * The snapshot's sockets on one port, found by bisection, as a read-only list
 * made in *view that points into the snapshot (for the composer's
 * sources.sockets): never added to or freed.  NULL when the snapshot has no
 * list.  A port answer then costs nothing per socket of the host.
 */
const struct rsap_listen_list *listeners_on_port(const struct listener_snapshot *s, uint16_t port,
                                                 struct rsap_listen_list *view);
/*
 * What a cached answer about port is valid for: a number that grows with
 * every snapshot that changes the port's sockets (or the facts of the whole
 * list), and stays while other ports' sockets come and go.  Read it after
 * listeners_get(), before using the snapshot.
 */
unsigned listeners_port_version(struct listeners *l, uint16_t port);
/* Asks for a refresh now, without waiting for it: after rsapd's own writes and leases. */
void listeners_refresh_soon(struct listeners *l);
/* Refreshes in the calling thread: once rsapd listens, so that its own sockets are in. */
void listeners_refresh_now(struct listeners *l);
/* How many snapshots were taken so far. */
unsigned long listeners_snapshots(struct listeners *l);

/* ---- the lease reaper (reaper.c) ---------------------------------------------------- */
/* Starts the thread that ends dead leases (rsap_leases_reap()) at once and then each second. */
int reaper_start(struct rsapd *d, struct reaper **out);
/* Stops it after the pass under way; NULL is fine. */
void reaper_stop(struct reaper *rp);

/* ---- the store's change notices (store_follow.c) ------------------------------ */
/* Follows d->db_path's commits where its backend can (else *out stays NULL, 0). */
int store_follow_start(struct rsapd *d, struct store_follow **out);
void store_follow_stop(struct store_follow *f);
/* Passes ended so far. */
unsigned long reaper_passes(struct reaper *rp);

/* ---- the recorder (recorder.c) -------------------------------------------------------- */
/*
 * Closes what an earlier rsapd left open (end unknown), then starts the
 * thread that records each listening interval and calls the hooks; nothing
 * (*out NULL) with --no-record and no hook.
 */
int recorder_start(struct rsapd *d, struct recorder **out);
/* Notes the last sighting of what is still open, and stops; NULL is fine. */
void recorder_stop(struct recorder *rec);
/* -ENOSPC past RSAPD_MAX_LISTEN_HOOKS.  after_step may be NULL. */
int rsapd_listen_hook_add(struct rsapd *d, rsapd_listen_hook fn, rsapd_listen_step_hook after_step,
                          void *data);
/* ---- squatter findings (findings.c) ------------------------------------------------ */

struct rsap_watch_event;
/* Resolves what a previous run left open, then starts the change engine's thread
 * (and the deliveries' when --on-finding or --finding-webhook is given). */
int findings_start(struct rsapd *d, struct findings **out);
/* Stops both threads (a delivery under way ends first, within its time limit); NULL is fine. */
void findings_stop(struct findings *f);
/* One change of the engine: a listener judged as it starts, its finding resolved as it
 * stops.  Called by the thread that drives the engine, and only by it. */
void findings_on_event(struct rsapd *d, const struct rsap_watch_event *ev);
/* Records what the events of a step found, in one transaction: after each step. */
void findings_flush(struct rsapd *d);
/* From the same thread at least each second: the judge read again when the registry
 * changed (or every few seconds: leases end), and every socket judged again with it. */
void findings_tick(struct rsapd *d);
/* The findings' gauges and counters for /metrics. */
void findings_render(struct findings *f, struct rsap_buf *b);

/* ---- the port server (portserver.c) ------------------------------------------------ */
int portserver_start(struct rsapd *d, struct portserver **out);
void portserver_stop(struct portserver *ps);

/* ---- logging (log.c) ----------------------------------------------------------------- */
/* One line on stderr (the journal), written with one write(2). */
void rsapd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Drops the "rsapd: " prefix under the journal, which names the unit. */
void rsapd_log_init(void);

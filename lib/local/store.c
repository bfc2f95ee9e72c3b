/* SPDX-License-Identifier: MIT */
/*
 * The store, whatever its backend: opening it by name, its clock and host,
 * transactions that roll back unless committed, each transaction's one
 * judgement of which lease holders live, and the one way events are added.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/host.h>
#include <rsap/paths.h>
#include <rsap/textsafe.h>
#include <rsap/workflow.h>

#include "store_internal.h"

/* ---- opening --------------------------------------------------------------------- */

int rsap_store_default_path(const char *data_dir_override, char *buf, size_t size)
{
        char dir[4096];
        int r = rsap_data_dir(data_dir_override, dir, sizeof(dir));
        int n;

        if (r < 0)
                return r;
        n = snprintf(buf, size, "%s/%s", dir, RSAP_STORE_FILE);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- store URIs --------------------------------------------------------------- */

/* The backends this rsap has, by the scheme of the URIs they open. */
static const struct rsap_store_backend *const backends[] = {
        &store_backend_sqlite,
        &store_backend_postgresql,
};

const struct rsap_store_backend *const *store_backends(size_t *n_out)
{
        *n_out = ARRAY_SIZE(backends);
        return backends;
}

/* Other names of a backend's scheme. */
static const struct {
        const char *alias;
        const struct rsap_store_backend *backend;
} scheme_aliases[] = {
        { "postgres", &store_backend_postgresql },
};

/*
 * Schemes of backends to come (none now): recognised, so that the refusal
 * says what is missing; NULL ends the list.
 */
static const char *const planned_schemes[] = { NULL };

/* The length of uri's scheme (RFC 3986: a letter, then letters, digits, + - .), or 0. */
static size_t scheme_length(const char *uri)
{
        size_t n = 0;

        if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
                return 0;
        while (uri[n] && (strchr("+-.", uri[n]) || (uri[n] >= '0' && uri[n] <= '9') ||
                          (uri[n] >= 'a' && uri[n] <= 'z') || (uri[n] >= 'A' && uri[n] <= 'Z')))
                n++;
        return uri[n] == ':' ? n : 0;
}

static bool scheme_is(const char *uri, size_t len, const char *scheme)
{
        return strlen(scheme) == len && strncasecmp(uri, scheme, len) == 0;
}

/* The backend of uri and the location it passes on: a plain path is SQLite's file. */
static int resolve(const char *uri, const struct rsap_store_backend **backend,
                   const char **location)
{
        size_t len = scheme_length(uri);

        *backend = &store_backend_sqlite;
        *location = uri + (len ? len + 1 : 0);
        for (size_t i = 0; len && planned_schemes[i]; i++)
                if (scheme_is(uri, len, planned_schemes[i]))
                        return -ENOSYS;
        for (size_t i = 0; len && i < ARRAY_SIZE(backends); i++)
                if (scheme_is(uri, len, backends[i]->scheme))
                        *backend = backends[i];
        for (size_t i = 0; len && i < ARRAY_SIZE(scheme_aliases); i++)
                if (scheme_is(uri, len, scheme_aliases[i].alias))
                        *backend = scheme_aliases[i].backend;
        if (len && *backend == &store_backend_sqlite && !scheme_is(uri, len, "sqlite"))
                return -EPFNOSUPPORT;
        return **location ? 0 : -EPFNOSUPPORT;
}

int rsap_store_uri_check(const char *uri)
{
        const struct rsap_store_backend *backend;
        const char *location;

        return resolve(uri, &backend, &location);
}

const char *rsap_store_uri_file(const char *uri)
{
        const struct rsap_store_backend *backend;
        const char *location;

        if (resolve(uri, &backend, &location) < 0 || backend != &store_backend_sqlite)
                return NULL;
        return location;
}

int rsap_store_open(const char *uri, enum rsap_store_mode mode, int busy_timeout_ms,
                    struct rsap_store **out)
{
        const struct rsap_store_backend *backend;
        struct rsap_store *store;
        const char *location;
        int r;

        *out = NULL;
        r = resolve(uri, &backend, &location);
        if (r < 0)
                return r;
        store = calloc(1, sizeof(*store));
        if (!store)
                return -ENOMEM;
        store->backend = backend;
        store->writable = mode == RSAP_STORE_WRITE; /* the backend migrates in a transaction */
        store->path = strdup(location);
        r = store->path ? backend->open(store, location, mode, busy_timeout_ms) : -ENOMEM;
        if (r < 0) {
                rsap_store_close(store);
                return r;
        }
        /* After the open: a lookup without a registry (-ENOENT) never asks. */
        snprintf(store->host, sizeof(store->host), "%s", rsap_host_name());
        *out = store;
        return 0;
}

void rsap_store_close(struct rsap_store *store)
{
        if (!store)
                return;
        if (store->conn)
                store->backend->close(store);
        free(store->liveness);
        free(store->path);
        free(store);
}

void rsap_store_closep(struct rsap_store **store)
{
        rsap_store_close(*store);
        *store = NULL;
}

const char *rsap_store_path(const struct rsap_store *store)
{
        return store->path;
}

const char *rsap_store_host(const struct rsap_store *store)
{
        return store->host;
}

int rsap_store_schema_version(struct rsap_store *store)
{
        return store->backend->schema_version(store);
}

int rsap_store_data_version(struct rsap_store *store, int64_t *out)
{
        return store->backend->data_version(store, out);
}

struct rsap_store_changes {
        const struct rsap_store_backend *backend;
        void *follow;
};

int rsap_store_changes_open(const char *uri, struct rsap_store_changes **out)
{
        const struct rsap_store_backend *backend;
        struct rsap_store_changes *changes;
        const char *location;
        int r = resolve(uri, &backend, &location);

        if (r < 0)
                return r;
        if (!backend->follow_open)
                return -EOPNOTSUPP;
        changes = calloc(1, sizeof(*changes));
        if (!changes)
                return -ENOMEM;
        changes->backend = backend;
        r = backend->follow_open(location, &changes->follow);
        if (r < 0) {
                free(changes);
                return r;
        }
        *out = changes;
        return 0;
}

int rsap_store_changes_wait(struct rsap_store_changes *changes, int timeout_ms)
{
        return changes->backend->follow_wait(changes->follow, timeout_ms);
}

void rsap_store_changes_free(struct rsap_store_changes *changes)
{
        if (!changes)
                return;
        changes->backend->follow_close(changes->follow);
        free(changes);
}

int rsap_store_known_schema_version(const char *uri)
{
        const struct rsap_store_backend *backend;
        const char *location;
        int r = resolve(uri, &backend, &location);

        return r < 0 ? r : backend->known_schema;
}

int rsap_store_file_schema_version(const char *uri)
{
        const struct rsap_store_backend *backend;
        const char *location;
        int r = resolve(uri, &backend, &location);

        return r < 0 ? r : backend->location_schema_version(location);
}

/* ---- time ----------------------------------------------------------------------- */

void rsap_store_set_clock(struct rsap_store *store, int64_t now_us)
{
        store->clock_us = now_us;
}

void rsap_store_set_host(struct rsap_store *store, const char *host)
{
        snprintf(store->host, sizeof(store->host), "%s", host);
}

int64_t rsap_store_now(const struct rsap_store *store)
{
        if (store && store->clock_us)
                return store->clock_us;
        if (store && store->tx_now_us)
                return store->tx_now_us; /* one transaction, one moment */
        return rsap_realtime_us();
}

/* ---- transactions --------------------------------------------------------------- */

int store_tx_begin(struct rsap_store *store, struct store_tx *tx)
{
        int r;

        tx->store = store;
        tx->open = false;
        if (!store->writable)
                return -EROFS;
        r = store->backend->begin(store);
        if (r < 0)
                return r;
        tx->open = true;
        store->n_liveness = 0;
        store->tx_now_us = rsap_store_now(store);
        return 0;
}

/* The snapshot lasts as long as the transaction. */
static void snapshot_end(struct rsap_store *store)
{
        store->tx_now_us = 0;
        store->n_liveness = 0;
}

int store_tx_commit(struct store_tx *tx)
{
        int r = tx->store->backend->commit(tx->store);

        /* A failed commit leaves the transaction open: store_tx_end rolls back. */
        if (r == 0) {
                tx->open = false;
                snapshot_end(tx->store);
        }
        return r;
}

void store_tx_end(struct store_tx *tx)
{
        if (tx->open)
                tx->store->backend->rollback(tx->store);
        if (tx->store)
                snapshot_end(tx->store);
        tx->open = false;
}

/* ---- liveness ------------------------------------------------------------------- */

bool store_process_alive(struct rsap_store *store, pid_t pid, uint64_t start)
{
        struct store_liveness *seen;
        uint64_t now_start;
        bool live;

        for (size_t i = 0; store->tx_now_us && i < store->n_liveness; i++)
                if (store->liveness[i].pid == pid && store->liveness[i].start == start)
                        return store->liveness[i].live;
        live = rsap_process_start_time(pid, &now_start) == 0 && now_start == start;
        /* Out of memory: judged again next time, as outside a transaction. */
        if (store->tx_now_us && rsap_grow(&store->liveness, &store->liveness_capacity,
                                          store->n_liveness + 1, sizeof(*store->liveness)) == 0) {
                seen = &store->liveness[store->n_liveness++];
                *seen = (struct store_liveness){ pid, start, live };
        }
        return live;
}

/* ---- events --------------------------------------------------------------------- */

int store_append_event(struct rsap_store *store, const struct store_event *ev, int64_t *id_out)
{
        _cleanup_(freep) char *details = NULL;
        int64_t id = 0;
        int r;

        /* Every decision's why passes here: a reason is one line of text, nothing a terminal obeys. */
        if (ev->reason && rsap_text_first_control(ev->reason, false) >= 0)
                return -EILSEQ;
        if (ev->details) {
                details = json_dumps(ev->details, JSON_COMPACT | JSON_SORT_KEYS);
                if (!details)
                        return -ENOMEM;
        }
        r = store->backend->event_append(store, ev, details, &id);
        if (r == 0 && id_out)
                *id_out = id;
        return r;
}

/* ---- consistency ------------------------------------------------------------------ */

/* The template with its one "%s" replaced by what. */
void store_check_add_problem(struct rsap_store_check_report *out, const char *template,
                             const char *what)
{
        const char *hole = strstr(template, "%s");
        int before = hole ? (int)(hole - template) : (int)strlen(template);
        char *line;
        int n;

        if (out->n_problems++ >= RSAP_STORE_CHECK_MAX_PROBLEMS)
                return;
        line = out->problems[out->n_problems - 1];
        n = snprintf(line, sizeof(out->problems[0]), "%.*s%s%s", before, template,
                     hole ? what : "", hole ? hole + 2 : "");
        /* A longer problem is cut, with a mark that says so. */
        if (n >= (int)sizeof(out->problems[0]))
                memcpy(line + sizeof(out->problems[0]) - 4, "...", 4);
}

int rsap_store_check_level(struct rsap_store *store, enum rsap_store_check_level level,
                           struct rsap_store_check_report *out)
{
        return store->backend->check(store, level, true, out);
}

/* rsap audit --consistency: a database the backend cannot read stays -EBADMSG (exit 2). */
int rsap_store_check(struct rsap_store *store, struct rsap_store_check_report *out)
{
        return store->backend->check(store, RSAP_STORE_CHECK_CONSISTENCY, false, out);
}

int rsap_store_check_full(struct rsap_store *store, struct rsap_store_check_report *out)
{
        return store->backend->check(store, RSAP_STORE_CHECK_FULL, false, out);
}

/* SPDX-License-Identifier: MIT */
/*
 * What rsapd's threads share: the IANA registry in use (counted references,
 * so a reload swaps it under running requests), the watch on its cache file,
 * and the local registry's one store connection with the checks made before
 * it serves.  d->store_lock orders the threads on that connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <rsap/paths.h>
#include <rsap/store.h>
#include <rsap/time.h>

#include "rsapd.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * rsapd picks up a cache file that `rsap update` (or anyone) replaced without
 * a SIGHUP: at most once a second a request stats the file, and when its
 * identity changed, reads it, checks its checksum and swaps it in.  A file
 * being rewritten in place fails the checksum and the old copy stays; the
 * next second tries again.  The registry is a private copy in memory
 * (rsap_iana_open_file), so nothing done to the file reaches a request.
 */
#define CACHE_CHECK_INTERVAL_MS 1000

struct file_identity {
        bool exists;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_identity loaded_identity, refused_identity; /* under watch_lock */
static _Atomic int64_t next_cache_check_ms;

static struct file_identity identify(const char *path)
{
        struct file_identity id = { 0 };
        struct stat st;

        if (stat(path, &st) == 0) {
                id = (struct file_identity){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim };
        }
        return id;
}

static bool same_identity(const struct file_identity *a, const struct file_identity *b)
{
        if (!a->exists || !b->exists)
                return a->exists == b->exists;
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
               a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Puts reg in place of the registry in use; the old one is freed by its last user. */
static int swap_registry(struct rsapd *d, struct rsap_iana *reg, bool verified)
{
        struct registry_ref *ref = calloc(1, sizeof(*ref)), *old;

        if (!ref) {
                rsap_iana_free(reg);
                return -ENOMEM;
        }
        ref->reg = reg;
        atomic_store(&ref->refs, 1);
        pthread_mutex_lock(&registry_lock);
        old = d->registry;
        d->registry = ref;
        atomic_store(&d->cached, verified);
        pthread_mutex_unlock(&registry_lock);
        rsapd_data_changed(d);
        rsapd_registry_put(old);
        return 0;
}

/* Under watch_lock: the cache file changed; take it only when it checks out. */
static void pick_up_cache(struct rsapd *d, const struct file_identity *now)
{
        struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        int r;

        if (!now->exists) {
                r = rsap_iana_open_default(d->cfg.db_dir, &reg);
                if (r < 0)
                        return;
                rsap_iana_info(reg, &info);
                rsapd_log("the cached registry %s is gone: now answering from %s", d->cache_path,
                          info.origin);
                if (swap_registry(d, reg, false) == 0)
                        loaded_identity = *now;
                return;
        }
        r = rsap_iana_open_file_verified(d->cache_path, &reg);
        if (r < 0) {
                if (!same_identity(now, &refused_identity))
                        rsapd_log("the cached registry %s changed but does not check out (%s): "
                                  "keeping the copy in use", d->cache_path, strerror(-r));
                refused_identity = *now;
                return;
        }
        rsap_iana_info(reg, &info);
        rsapd_log("the cached registry %s changed: now %s, %zu records", d->cache_path,
                  info.release ? info.release : "(no release date)", info.records);
        if (swap_registry(d, reg, true) == 0)
                loaded_identity = *now;
}

static void check_cache_file(struct rsapd *d)
{
        int64_t now = rsap_monotonic_ms();
        struct file_identity id;

        if (!d->cache_path[0] || now < atomic_load(&next_cache_check_ms))
                return;
        if (pthread_mutex_trylock(&watch_lock) != 0)
                return; /* another request is checking */
        atomic_store(&next_cache_check_ms, now + CACHE_CHECK_INTERVAL_MS);
        id = identify(d->cache_path);
        if (!same_identity(&id, &loaded_identity))
                pick_up_cache(d, &id);
        pthread_mutex_unlock(&watch_lock);
}

struct registry_ref *rsapd_registry_get(struct rsapd *d)
{
        struct registry_ref *ref;

        check_cache_file(d);
        pthread_mutex_lock(&registry_lock);
        ref = d->registry;
        if (ref)
                atomic_fetch_add(&ref->refs, 1);
        pthread_mutex_unlock(&registry_lock);
        return ref;
}

void rsapd_registry_put(struct registry_ref *ref)
{
        if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
                rsap_iana_free(ref->reg);
                free(ref);
        }
}

/* Startup, SIGHUP and POST /v1/reload: open what is there, as rsap does; the
 * cached flag says whether it is the cache file and passes its checksum. */
int rsapd_registry_reload(struct rsapd *d)
{
        struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        struct file_identity id;
        bool from_cache, verified;
        int r;

        pthread_mutex_lock(&watch_lock);
        id = identify(d->cache_path);
        r = rsap_iana_open_default(d->cfg.db_dir, &reg);
        if (r < 0) {
                pthread_mutex_unlock(&watch_lock);
                return r;
        }
        rsap_iana_info(reg, &info);
        from_cache = id.exists && strcmp(info.origin, d->cache_path) == 0;
        if (id.exists && !from_cache && !same_identity(&id, &refused_identity) &&
            rsap_snapshot_validate_file(d->cache_path) == -EPROTONOSUPPORT) {
                rsapd_log("the cached registry %s was written by another version of rsap, in "
                          "another format: answering from the built-in copy until 'rsap "
                          "update' replaces it",
                          d->cache_path);
                refused_identity = id;
        }
        verified = from_cache && rsap_iana_verify(reg) == 0;
        /* A cache that fails its checksum never answers, as rsap refuses it:
         * a reload keeps the copy in use, a start takes the built-in one. */
        if (from_cache && !verified) {
                rsap_iana_free(reg);
                reg = NULL;
                refused_identity = id;
                if (d->registry) {
                        pthread_mutex_unlock(&watch_lock);
                        return -EBADMSG;
                }
                rsapd_log("the cached registry %s fails its checksum: answering from the "
                          "built-in copy until it is replaced", d->cache_path);
                r = rsap_iana_open_builtin(&reg);
                if (r < 0) {
                        pthread_mutex_unlock(&watch_lock);
                        return r;
                }
        }
        r = swap_registry(d, reg, verified);
        if (r == 0)
                loaded_identity = id;
        pthread_mutex_unlock(&watch_lock);
        return r;
}

/* ---- the local registry ------------------------------------------------------ */

/* Why the local registry cannot be opened, in words an operator can act on. */
static void log_store_problem(const char *path, int err)
{
        int version;

        switch (err) {
        case -EBADMSG:
                rsapd_log("refusing to start: the local registry %s is not a usable database "
                          "(corrupt, truncated or not SQLite); see 'rsap db check --db %s'",
                          path, path);
                return;
        case -EPROTONOSUPPORT:
                version = rsap_store_file_schema_version(path);
                rsapd_log("refusing to start: %s was written by a newer rsap (schema %d, this "
                          "rsap knows %d): upgrade rsap", path, version,
                          rsap_store_known_schema_version(path));
                return;
        case -EMEDIUMTYPE:
                rsapd_log("refusing to start: %s has tables but no schema version: not a "
                          "registry rsap made, or damaged", path);
                return;
        case -ENOSPC:
                rsapd_log("refusing to start: the disk is full: %s unchanged; free some space",
                          path);
                return;
        default:
                rsapd_log("cannot open the local registry %s: %s", path, strerror(-err));
        }
}

/* SQLite's quick_check before serving anything: a corrupt registry is refused. */
static int check_store(struct rsapd *d)
{
        struct rsap_store_check_report report;
        int r = rsap_store_check_level(d->store, RSAP_STORE_CHECK_QUICK, &report);

        if (r < 0) {
                log_store_problem(d->db_path, r);
                return r;
        }
        if (report.n_problems == 0)
                return 0;
        rsapd_log("refusing to start: the local registry %s is corrupt (%s); see 'rsap db check "
                  "--full --db %s'", d->db_path, report.problems[0], d->db_path);
        return -EBADMSG;
}

void rsapd_notice_store_changes(struct rsapd *d)
{
        int64_t version = 0;
        int r;

        if (!d->store || atomic_load(&d->store_followed))
                return;
        pthread_mutex_lock(&d->store_lock);
        r = rsap_store_data_version(d->store, &version);
        pthread_mutex_unlock(&d->store_lock);
        /* The bump comes before the version is recorded: a thread that finds
         * the version recorded finds the generation bumped too. */
        if (r < 0 || version != atomic_load(&d->store_version)) {
                rsapd_data_changed(d);
                if (r == 0)
                        atomic_store(&d->store_version, version);
        }
}

/* The local registry, opened for writing (created and migrated if need be). */
int rsapd_store_open(struct rsapd *d)
{
        int r;

        if (d->cfg.db_path) {
                snprintf(d->db_path, sizeof(d->db_path), "%s", d->cfg.db_path);
        } else {
                r = rsap_mkdir_parents(d->data_dir);
                if (r == 0)
                        r = rsap_store_default_path(d->cfg.db_dir, d->db_path, sizeof(d->db_path));
                if (r < 0) {
                        rsapd_log("cannot make the data directory %s: %s", d->data_dir,
                                  strerror(-r));
                        return r;
                }
        }
        r = rsap_store_open(d->db_path, RSAP_STORE_WRITE, 0, &d->store);
        if (r < 0) {
                log_store_problem(d->db_path, r);
                return r;
        }
        return check_store(d);
}

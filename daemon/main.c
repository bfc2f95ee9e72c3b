/* SPDX-License-Identifier: MIT */
/*
 * rsapd: IANA's registry and this host's ports as a service on port 1647,
 * registered to "rsap".  This file reads the options, opens the registry,
 * starts the HTTP server and the port server, tells systemd when it is ready,
 * and stops in order on SIGTERM: no new connections, requests under way
 * finished, then out.  SIGHUP opens the registry again (after rsap update).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rsap/paths.h>
#include <rsap/port.h>
#include <rsap/store.h>
#include <rsap/time.h>

#include "config.h"
#include "http.h"
#include "rsapd.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_MAX_BODY (64u * 1024)
/* Each connection's pool ends up wholly resident (MHD zeroes it between
 * requests): 7 KiB keeps 10,000 idle keep-alive connections near 85 MB and
 * still takes request headers of about 6 KiB. */
#define DEFAULT_CONNECTION_MEMORY (7u * 1024)
#define DEFAULT_MAX_CONNECTIONS 16384
#define DEFAULT_POOL_LOW 15000
#define DEFAULT_POOL_HIGH 24999
#define STOP_GRACE_MS 10000
#define DEFAULT_CACHE_TTL_MS 1000
#define DEFAULT_PORTSERVER_MODE 0666
#define DEFAULT_PORTSERVER_CLIENTS_PER_UID 64
#define DEFAULT_PORTSERVER_LEASES_PER_UID 1000
/* On addresses other than loopback; see hardening_defaults(). */
#define DEFAULT_MAX_CONNECTIONS_PER_IP 256

/* ---- logging --------------------------------------------------------------- */

static const char *log_prefix = "rsapd: ";

void rsapd_log(const char *fmt, ...)
{
        char line[1024];
        size_t n;
        va_list ap;
        int len;

        len = snprintf(line, sizeof(line), "%s", log_prefix);
        va_start(ap, fmt);
        vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
        va_end(ap);
        n = strlen(line);
        line[n++] = '\n';
        /* One write per line, so lines from several threads never interleave. */
        if (write(STDERR_FILENO, line, n) < 0)
                return;
}

/* ---- the registry ------------------------------------------------------------ */

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

/* ---- systemd ----------------------------------------------------------------- */

/*
 * sd_notify(3)'s protocol, which is one datagram to $NOTIFY_SOCKET (a path,
 * or '@' for the abstract namespace): a few lines, no libsystemd.
 */
static void notify_systemd(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        size_t n;
        int fd;

        if (!path || (path[0] != '/' && path[0] != '@'))
                return;
        n = strlen(path);
        if (n >= sizeof(sun.sun_path))
                return;
        memcpy(sun.sun_path, path, n);
        if (path[0] == '@')
                sun.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                rsapd_log("cannot notify systemd: %s", strerror(errno));
        close(fd);
}

/* ---- options --------------------------------------------------------------------- */

static void usage(FILE *out)
{
        fprintf(out,
                "usage: rsapd [OPTIONS]\n\n"
                "Serve IANA's port registry and this host's ports over HTTP (JSON API and\n"
                "pages), and hand out ports to test suites as a port server.\n\n"
                "  --listen ADDR:PORT       listen there (repeatable; default 127.0.0.1:%d and\n"
                "                           [::1]:%d; port 0 lets the kernel choose)\n"
                "  --db-dir DIR             the data directory (as rsap's --db-dir)\n"
                "  --db FILE                the local registry (default DIR/registry.db)\n"
                "  --token-file FILE        the bearer token for writes (mode 0600, ours)\n"
                "  --portserver PATH|@NAME  serve portpicker's PORTSERVER_ADDRESS protocol there\n"
                "  --portserver-range A-B   the ports it hands out (default %d-%d)\n"
                "  --portserver-mode MODE   the socket file's mode, octal (default %04o)\n"
                "  --portserver-clients-per-uid N  connections at once from one uid (default %d)\n"
                "  --portserver-leases-per-uid N   ports one uid may hold (default %d)\n"
                "  --host NAME              also answer Host: NAME (repeatable; loopback and\n"
                "                           the --listen addresses are always answered)\n"
                "  --owners all|token|none  who sees the processes behind sockets (default:\n"
                "                           token when run as root, else all)\n"
                "  --max-connections-per-ip N  per client address (default %d, loopback\n"
                "                           addresses none unless given)\n"
                "  --max-connections N      per listening address (default %d)\n"
                "  --timeout SECONDS        to finish each request (default %d)\n"
                "  --max-body BYTES         request body limit (default %u)\n"
                "  --connection-memory BYTES  per connection, bounds the request header\n"
                "                           (default %u)\n"
                "  --threads N              per listening address (default: half the CPUs)\n"
                "  --cache-ttl MS           serve an answer again for MS ms (default %d; 0: never)\n"
                "  --no-access-log          do not log each request\n"
                "  --help, --version\n\n"
                "See rsapd(8).\n",
                RSAPD_DEFAULT_PORT, RSAPD_DEFAULT_PORT, DEFAULT_POOL_LOW, DEFAULT_POOL_HIGH,
                DEFAULT_PORTSERVER_MODE, DEFAULT_PORTSERVER_CLIENTS_PER_UID,
                DEFAULT_PORTSERVER_LEASES_PER_UID, DEFAULT_MAX_CONNECTIONS_PER_IP,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT, DEFAULT_MAX_BODY,
                DEFAULT_CONNECTION_MEMORY, DEFAULT_CACHE_TTL_MS);
}

static int option_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int option_error(const char *fmt, ...)
{
        va_list ap;

        fputs("rsapd: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(": see 'rsapd --help'\n", stderr);
        return -EINVAL;
}

/* "127.0.0.1:1647" or "[::1]:1647": numeric addresses only, so nothing is resolved. */
static int parse_listen(const char *text, struct listen_addr *out)
{
        const char *colon;
        char host[INET6_ADDRSTRLEN];
        size_t host_len;
        uint16_t port;

        memset(out, 0, sizeof(*out));
        snprintf(out->text, sizeof(out->text), "%s", text);
        if (text[0] == '[') {
                const char *close = strchr(text, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                host_len = (size_t)(close - text - 1);
                if (host_len >= sizeof(host))
                        return -EINVAL;
                memcpy(host, text + 1, host_len);
                colon = close + 1;
        } else {
                colon = strrchr(text, ':');
                if (!colon || (size_t)(colon - text) >= sizeof(host))
                        return -EINVAL;
                host_len = (size_t)(colon - text);
                memcpy(host, text, host_len);
        }
        host[host_len] = '\0';
        if (rsap_port_parse(colon + 1, &port) < 0)
                return -EINVAL;
        if (text[0] == '[') {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;

                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return -EINVAL;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                out->len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;

                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                out->len = sizeof(*a);
        }
        return 0;
}

static int parse_number(const char *text, unsigned long min, unsigned long max,
                        unsigned long *out)
{
        char *end;
        unsigned long value;

        errno = 0;
        value = strtoul(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-' || value < min || value > max)
                return -EINVAL;
        *out = value;
        return 0;
}

enum {
        OPT_LISTEN = 256,
        OPT_DB_DIR,
        OPT_DB,
        OPT_CACHE_TTL,
        OPT_TOKEN_FILE,
        OPT_PORTSERVER,
        OPT_PORTSERVER_RANGE,
        OPT_MAX_CONNECTIONS,
        OPT_TIMEOUT,
        OPT_MAX_BODY,
        OPT_CONNECTION_MEMORY,
        OPT_THREADS,
        OPT_NO_ACCESS_LOG,
        OPT_VERSION,
        OPT_PORTSERVER_MODE,
        OPT_PORTSERVER_CLIENTS_PER_UID,
        OPT_PORTSERVER_LEASES_PER_UID,
        OPT_HOST,
        OPT_OWNERS,
        OPT_MAX_CONNECTIONS_PER_IP,
};

/* The defaults of the options that guard the HTTP edge and the port server. */
static void hardening_defaults(struct rsapd_config *cfg)
{
        cfg->portserver_mode = DEFAULT_PORTSERVER_MODE;
        cfg->portserver_clients_per_uid = DEFAULT_PORTSERVER_CLIENTS_PER_UID;
        cfg->portserver_leases_per_uid = DEFAULT_PORTSERVER_LEASES_PER_UID;
        /* Every local client comes from loopback, where a per-address limit
         * would be --max-connections by another name: there it applies only
         * when given (see rsapd(8)). */
        cfg->max_connections_per_ip = DEFAULT_MAX_CONNECTIONS_PER_IP;
        cfg->owners = geteuid() == 0 ? OWNERS_TOKEN : OWNERS_ALL;
}

/* A name for --host: what a Host header may carry, without a port. */
static bool host_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > 253)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("-._[]:", *p))
                        return false;
        return true;
}

static int owners_option(const char *arg, struct rsapd_config *cfg)
{
        if (strcmp(arg, "all") == 0)
                cfg->owners = OWNERS_ALL;
        else if (strcmp(arg, "token") == 0)
                cfg->owners = OWNERS_TOKEN;
        else if (strcmp(arg, "none") == 0)
                cfg->owners = OWNERS_NONE;
        else
                return option_error("--owners takes all, token or none, not '%s'", arg);
        return 0;
}

static int hardening_option(int opt, const char *arg, struct rsapd_config *cfg)
{
        unsigned long v;
        char *end;

        switch (opt) {
        case OPT_PORTSERVER_MODE:
                errno = 0;
                v = strtoul(arg, &end, 8);
                if (errno || end == arg || *end || arg[0] == '-' || v > 0777)
                        return option_error("--portserver-mode takes an octal mode such as 0660");
                cfg->portserver_mode = (unsigned)v;
                return 0;
        case OPT_PORTSERVER_CLIENTS_PER_UID:
                if (parse_number(arg, 1, 1024, &v) < 0)
                        return option_error("--portserver-clients-per-uid takes a number from 1 to 1024");
                cfg->portserver_clients_per_uid = (unsigned)v;
                return 0;
        case OPT_PORTSERVER_LEASES_PER_UID:
                if (parse_number(arg, 1, 65535, &v) < 0)
                        return option_error("--portserver-leases-per-uid takes a number from 1 to 65535");
                cfg->portserver_leases_per_uid = (unsigned)v;
                return 0;
        case OPT_HOST:
                if (cfg->n_hosts == RSAPD_MAX_HOSTS)
                        return option_error("at most %d --host names", RSAPD_MAX_HOSTS);
                if (!host_name_valid(arg))
                        return option_error("--host '%s' is not a host name or address", arg);
                cfg->hosts[cfg->n_hosts++] = arg;
                return 0;
        case OPT_OWNERS:
                return owners_option(arg, cfg);
        case OPT_MAX_CONNECTIONS_PER_IP:
                if (parse_number(arg, 0, 1000000, &v) < 0)
                        return option_error("--max-connections-per-ip takes a number from 0 "
                                            "(no limit) to 1000000");
                cfg->max_connections_per_ip = (unsigned)v;
                cfg->max_connections_per_ip_set = true;
                return 0;
        }
        return -EINVAL;
}

static int number_option(int opt, const char *arg, struct rsapd_config *cfg)
{
        unsigned long v;

        switch (opt) {
        case OPT_MAX_CONNECTIONS:
                if (parse_number(arg, 1, 1000000, &v) < 0)
                        return option_error("--max-connections takes a number from 1 to 1000000");
                cfg->max_connections = (unsigned)v;
                return 0;
        case OPT_TIMEOUT:
                if (parse_number(arg, 1, 3600, &v) < 0)
                        return option_error("--timeout takes seconds from 1 to 3600");
                cfg->timeout_seconds = (unsigned)v;
                return 0;
        case OPT_MAX_BODY:
                if (parse_number(arg, 1, 64ul << 20, &v) < 0)
                        return option_error("--max-body takes bytes from 1 to 67108864");
                cfg->max_body = v;
                return 0;
        case OPT_CONNECTION_MEMORY:
                if (parse_number(arg, 4096, 1ul << 20, &v) < 0)
                        return option_error("--connection-memory takes bytes from 4096 to 1048576");
                cfg->connection_memory = v;
                return 0;
        case OPT_CACHE_TTL:
                if (parse_number(arg, 0, 60000, &v) < 0)
                        return option_error("--cache-ttl takes milliseconds from 0 to 60000");
                cfg->cache_ttl_ms = (unsigned)v;
                return 0;
        case OPT_THREADS:
                if (parse_number(arg, 1, 64, &v) < 0)
                        return option_error("--threads takes a number from 1 to 64");
                cfg->threads = (unsigned)v;
                return 0;
        }
        return hardening_option(opt, arg, cfg);
}

static int range_option(const char *arg, struct rsapd_config *cfg)
{
        struct rsap_port_spec spec;

        if (rsap_port_spec_parse(arg, &spec) < 0 || spec.proto != RSAP_PROTO_NONE ||
            spec.low < 1024)
                return option_error("--portserver-range takes A-B with 1024 <= A <= B <= 65535");
        cfg->pool_low = spec.low;
        cfg->pool_high = spec.high;
        return 0;
}

static void config_defaults(struct rsapd_config *cfg)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        *cfg = (struct rsapd_config){
                .pool_low = DEFAULT_POOL_LOW,
                .pool_high = DEFAULT_POOL_HIGH,
                .max_connections = DEFAULT_MAX_CONNECTIONS,
                .timeout_seconds = DEFAULT_TIMEOUT,
                .max_body = DEFAULT_MAX_BODY,
                .connection_memory = DEFAULT_CONNECTION_MEMORY,
                /* Half the CPUs: rsapd's clients are on this host (it listens on
                 * loopback) and need the other half; a thread serves thousands of
                 * connections through epoll.  On 2 CPUs one thread gave more
                 * answers a second than two, and a p99 below 5 ms instead of 7
                 * (bench/daemon.sh). */
                .threads = cpus < 4 ? 1 : cpus > 32 ? 16 : (unsigned)cpus / 2,
                .access_log = true,
                .cache_ttl_ms = DEFAULT_CACHE_TTL_MS,
        };
}

/* 0 to run, 1 to exit 0 at once (--help, --version), -EINVAL for a bad option. */
static int parse_options(int argc, char **argv, struct rsapd_config *cfg)
{
        static const struct option options[] = {
                { "listen", required_argument, NULL, OPT_LISTEN },
                { "db-dir", required_argument, NULL, OPT_DB_DIR },
                { "db", required_argument, NULL, OPT_DB },
                { "cache-ttl", required_argument, NULL, OPT_CACHE_TTL },
                { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
                { "portserver", required_argument, NULL, OPT_PORTSERVER },
                { "portserver-range", required_argument, NULL, OPT_PORTSERVER_RANGE },
                { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "max-body", required_argument, NULL, OPT_MAX_BODY },
                { "connection-memory", required_argument, NULL, OPT_CONNECTION_MEMORY },
                { "threads", required_argument, NULL, OPT_THREADS },
                { "no-access-log", no_argument, NULL, OPT_NO_ACCESS_LOG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "portserver-mode", required_argument, NULL, OPT_PORTSERVER_MODE },
                { "portserver-clients-per-uid", required_argument, NULL,
                  OPT_PORTSERVER_CLIENTS_PER_UID },
                { "portserver-leases-per-uid", required_argument, NULL,
                  OPT_PORTSERVER_LEASES_PER_UID },
                { "host", required_argument, NULL, OPT_HOST },
                { "owners", required_argument, NULL, OPT_OWNERS },
                { "max-connections-per-ip", required_argument, NULL, OPT_MAX_CONNECTIONS_PER_IP },
                { 0 },
        };
        int opt;

        config_defaults(cfg);
        hardening_defaults(cfg);
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case OPT_LISTEN:
                        if (cfg->n_listen == RSAPD_MAX_LISTEN)
                                return option_error("at most %d --listen addresses", RSAPD_MAX_LISTEN);
                        if (parse_listen(optarg, &cfg->listen[cfg->n_listen]) < 0)
                                return option_error("--listen '%s' is not ADDR:PORT or [ADDR6]:PORT "
                                                    "with a numeric address",
                                                    optarg);
                        cfg->n_listen++;
                        break;
                case OPT_DB_DIR: cfg->db_dir = optarg; break;
                case OPT_DB:
                        cfg->db_path = optarg;
                        if (rsap_store_uri_check(optarg) == -ENOSYS)
                                return option_error("--db %s: this rsap has no PostgreSQL "
                                                    "backend yet", optarg);
                        if (rsap_store_uri_check(optarg) < 0)
                                return option_error("--db %s is not a store rsapd can open: a "
                                                    "file path, or sqlite:PATH", optarg);
                        break;
                case OPT_TOKEN_FILE: cfg->token_file = optarg; break;
                case OPT_PORTSERVER: cfg->portserver_path = optarg; break;
                case OPT_PORTSERVER_RANGE:
                        if (range_option(optarg, cfg) < 0)
                                return -EINVAL;
                        break;
                case OPT_NO_ACCESS_LOG: cfg->access_log = false; break;
                case 'h': usage(stdout); return 1;
                case OPT_VERSION: printf("rsapd %s\n", RSAP_VERSION); return 1;
                case ':': return option_error("option '%s' needs a value", argv[optind - 1]);
                case '?': return option_error("unknown option '%s'", argv[optind - 1]);
                default:
                        if (number_option(opt, optarg, cfg) < 0)
                                return -EINVAL;
                }
        }
        if (optind < argc)
                return option_error("unexpected argument '%s'", argv[optind]);
        return 0;
}

/* Loopback only unless told otherwise; ::1 is skipped on a host without IPv6. */
static void default_listen(struct rsapd_config *cfg)
{
        char text[32];

        snprintf(text, sizeof(text), "127.0.0.1:%d", RSAPD_DEFAULT_PORT);
        parse_listen(text, &cfg->listen[cfg->n_listen++]);
        if (access("/proc/net/if_inet6", F_OK) == 0) {
                snprintf(text, sizeof(text), "[::1]:%d", RSAPD_DEFAULT_PORT);
                parse_listen(text, &cfg->listen[cfg->n_listen++]);
        }
}

/* ---- running ------------------------------------------------------------------------ */

/* 10,000 keep-alive connections need as many descriptors: take what the hard limit allows. */
static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

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
                          RSAP_STORE_SCHEMA_VERSION);
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

/* The local registry, opened for writing (created and migrated if need be). */
static int open_store(struct rsapd *d)
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

static int open_everything(struct rsapd *d)
{
        char why[256];
        int r;

        r = rsap_data_dir(d->cfg.db_dir, d->data_dir, sizeof(d->data_dir));
        if (r == 0)
                r = rsap_cache_path(d->data_dir, d->cache_path, sizeof(d->cache_path));
        if (r < 0) {
                rsapd_log("cannot find the data directory: %s", strerror(-r));
                return r;
        }
        r = rsapd_registry_reload(d);
        if (r < 0) {
                rsapd_log("cannot open the registry in %s: %s", d->data_dir, strerror(-r));
                return r;
        }
        r = open_store(d);
        if (r < 0)
                return r;
        if (d->cfg.token_file) {
                r = auth_load(&d->auth, d->cfg.token_file, why, sizeof(why));
                if (r < 0) {
                        rsapd_log("refusing the token file %s: %s", d->cfg.token_file, why);
                        return r;
                }
        }
        d->metrics = metrics_new();
        if (!d->metrics)
                return -ENOMEM;
        if (d->cfg.portserver_path) {
                r = portserver_start(d, &d->portserver);
                if (r < 0) {
                        rsapd_log("cannot start the port server on %s: %s",
                                  d->cfg.portserver_path, strerror(-r));
                        return r;
                }
                rsapd_log("port server on %s, ports %u-%u", d->cfg.portserver_path,
                          d->cfg.pool_low, d->cfg.pool_high);
        }
        return 0;
}

static void announce(const struct rsapd *d)
{
        char status[256];

        for (size_t i = 0; i < d->cfg.n_listen; i++)
                rsapd_log("listening on http://%s/", d->cfg.listen[i].text);
        if (!d->auth.token)
                rsapd_log("no --token-file: writes are refused");
        snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s%s", d->cfg.listen[0].text,
                 d->cfg.n_listen > 1 ? " and more" : "");
        notify_systemd(status);
}

/* Waits for signals: SIGHUP reloads, SIGTERM and SIGINT return. */
static void wait_for_stop(struct rsapd *d, const sigset_t *signals)
{
        for (;;) {
                int sig = 0;

                if (sigwait(signals, &sig) != 0)
                        continue;
                if (sig != SIGHUP)
                        return;
                notify_systemd("RELOADING=1");
                if (rsapd_registry_reload(d) < 0)
                        rsapd_log("SIGHUP: cannot open the registry again; the old one answers");
                else
                        rsapd_log("SIGHUP: registry opened again");
                notify_systemd("READY=1");
        }
}

static void stop_everything(struct rsapd *d, struct http_server *http)
{
        notify_systemd("STOPPING=1");
        atomic_store(&d->stopping, true);
        if (http) {
                http_quiesce(http);
                if (!http_wait_idle(http, STOP_GRACE_MS))
                        rsapd_log("requests still under way after %d s: closing them",
                                  STOP_GRACE_MS / 1000);
                http_stop(http);
        }
        portserver_stop(d->portserver);
        rsap_store_close(d->store);
        metrics_free(d->metrics);
        auth_clear(&d->auth);
        rsapd_registry_put(d->registry);
}

int main(int argc, char **argv)
{
        static struct rsapd d = { .store_lock = PTHREAD_MUTEX_INITIALIZER };
        struct http_server *http = NULL;
        sigset_t signals;
        char why[256];
        int r;

        r = parse_options(argc, argv, &d.cfg);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (d.cfg.n_listen == 0)
                default_listen(&d.cfg);
        if (getenv("JOURNAL_STREAM"))
                log_prefix = ""; /* the journal names the unit already */
        signal(SIGPIPE, SIG_IGN);
        /* Every thread inherits this mask, so the signals come to sigwait() only. */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        raise_fd_limit();

        r = open_everything(&d);
        if (r == 0) {
                r = http_start(&d, &http, why, sizeof(why));
                if (r < 0)
                        rsapd_log("%s", why);
        }
        if (r < 0) {
                stop_everything(&d, NULL);
                return 1;
        }
        announce(&d);
        wait_for_stop(&d, &signals);
        rsapd_log("stopping");
        stop_everything(&d, http);
        rsapd_log("stopped");
        return 0;
}

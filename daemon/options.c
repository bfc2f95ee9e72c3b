/* SPDX-License-Identifier: MIT */
/*
 * rsapd's options: getopt_long, each value checked with a one-line error
 * that ends "see 'rsapd --help'" (exit status 2), and the defaults.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/error.h>
#include <rsap/listen_history.h>
#include <rsap/port.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#include "config.h"
#include "rsapd.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_MAX_BODY (64u * 1024)
/* Each connection's pool ends up wholly resident once it has served a
 * request (libmicrohttpd zeroes it), and less than half of it holds the
 * request header, less still the more header lines it has, and a page's
 * answer writes its security headers into it.  4 KiB takes a browser's
 * request with a dozen localhost cookies (1.1 KB in 14 lines) for a page,
 * 3,840 bytes at the least, and keeps 10,000 idle keep-alive connections at
 * 37-46 MB (3.8-4.7 KiB each, 0.6 KiB of it libmicrohttpd's and rsapd's own);
 * 3 KiB (35 MB) and 2 KiB close that request's connection unanswered,
 * 1.5 KiB refuses it 431. */
#define DEFAULT_CONNECTION_MEMORY 4096u
#define DEFAULT_MAX_CONNECTIONS 16384
#define DEFAULT_POOL_LOW 15000
#define DEFAULT_POOL_HIGH 24999
#define DEFAULT_CACHE_TTL_MS 60000
#define DEFAULT_METRICS_INTERVAL 15
/* As long as a cached answer serves: a port's listeners are at most two
 * seconds old, as they were when each answer dumped the kernel's sockets
 * and the cache kept it for a second. */
#define DEFAULT_LISTENERS_INTERVAL_MS 1000
#define DEFAULT_PORTSERVER_MODE 0666
#define DEFAULT_PORTSERVER_CLIENTS_PER_UID 64
#define DEFAULT_PORTSERVER_LEASES_PER_UID 1000
/* On addresses other than loopback; see hardening_defaults(). */
#define DEFAULT_MAX_CONNECTIONS_PER_IP 256

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
                "  --threads N              per listening address (default: twice the CPUs)\n"
                "  --cache-ttl MS           serve an answer again for MS ms (default %d; 0: never)\n"
                "  --metrics-interval SECONDS  refresh /metrics' leases and audit findings\n"
                "                           this often (default %d)\n"
                "  --listeners-interval MS  collect this host's sockets this often (default %d)\n"
                "  --no-record              do not record the listening history (--record: do)\n"
                "  --history-retention DURATION  keep ended listening intervals this long\n"
                "                           (default 30d)\n"
                "  --history-cap N          keep at most N ended intervals, folding short-lived\n"
                "                           ones into counts first (default %d)\n"
                "  --on-finding PROGRAM     run PROGRAM (an absolute path, no shell) with each\n"
                "                           squatter finding as JSON on stdin\n"
                "  --finding-webhook URL    POST each squatter finding as JSON to URL\n"
                "  --no-access-log          do not log each request\n"
                "  --help, --version\n\n"
                "See rsapd(8).\n",
                RSAPD_DEFAULT_PORT, RSAPD_DEFAULT_PORT, DEFAULT_POOL_LOW, DEFAULT_POOL_HIGH,
                DEFAULT_PORTSERVER_MODE, DEFAULT_PORTSERVER_CLIENTS_PER_UID,
                DEFAULT_PORTSERVER_LEASES_PER_UID, DEFAULT_MAX_CONNECTIONS_PER_IP,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT, DEFAULT_MAX_BODY,
                DEFAULT_CONNECTION_MEMORY, DEFAULT_CACHE_TTL_MS, DEFAULT_METRICS_INTERVAL,
                DEFAULT_LISTENERS_INTERVAL_MS, RSAP_INTERVAL_DEFAULT_CAP);
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
        OPT_ON_FINDING,
        OPT_FINDING_WEBHOOK,
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
        OPT_METRICS_INTERVAL,
        OPT_LISTENERS_INTERVAL,
        OPT_RECORD,
        OPT_NO_RECORD,
        OPT_HISTORY_RETENTION,
        OPT_HISTORY_CAP,
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
                if (parse_number(arg, 1024, 1ul << 20, &v) < 0)
                        return option_error("--connection-memory takes bytes from 1024 to 1048576");
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
        case OPT_METRICS_INTERVAL:
                if (parse_number(arg, 1, 86400, &v) < 0)
                        return option_error("--metrics-interval takes seconds from 1 to 86400");
                cfg->metrics_interval_s = (unsigned)v;
                return 0;
        case OPT_LISTENERS_INTERVAL:
                if (parse_number(arg, 100, 3600000, &v) < 0)
                        return option_error("--listeners-interval takes milliseconds from 100 "
                                            "to 3600000");
                cfg->listeners_interval_ms = (unsigned)v;
                return 0;
        case OPT_HISTORY_CAP:
                if (parse_number(arg, 10, 100000000, &v) < 0)
                        return option_error("--history-cap takes a number of rows from 10 to "
                                            "100000000");
                cfg->history_cap = (int64_t)v;
                return 0;
        case OPT_HISTORY_RETENTION:
                if (rsap_duration_parse(arg, &cfg->history_retention_us) < 0 ||
                    cfg->history_retention_us < 60LL * 1000000)
                        return option_error("--history-retention takes a duration of a minute "
                                            "or more (90m, 12h, 30d)");
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
                /* Twice the CPUs, the count that measured fastest: on 2 CPUs
                 * shared with the clients and other work, 1, 2, 4 and 8 threads
                 * answered 1.00, 1.22, 1.25 and 1.17 times the random ports a
                 * second of one thread with the cache, 1.00, 1.24, 1.29 and
                 * 1.28 without (medians of four interleaved rounds, wrk -t2
                 * -c64 over 10,000 ports; a thread blocked on the store or the
                 * kernel leaves its CPU to another). */
                .threads = cpus < 1 ? 2 : cpus > 8 ? 16 : 2 * (unsigned)cpus,
                .access_log = true,
                .cache_ttl_ms = DEFAULT_CACHE_TTL_MS,
                .metrics_interval_s = DEFAULT_METRICS_INTERVAL,
                .listeners_interval_ms = DEFAULT_LISTENERS_INTERVAL_MS,
                .record = true,
                .history_retention_us = RSAP_INTERVAL_DEFAULT_RETENTION_US,
                .history_cap = RSAP_INTERVAL_DEFAULT_CAP,
        };
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

/* 0 to run, 1 to exit 0 at once (--help, --version), -EINVAL for a bad option. */
int rsapd_parse_options(int argc, char **argv, struct rsapd_config *cfg)
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
                { "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
                { "listeners-interval", required_argument, NULL, OPT_LISTENERS_INTERVAL },
                { "record", no_argument, NULL, OPT_RECORD },
                { "no-record", no_argument, NULL, OPT_NO_RECORD },
                { "history-retention", required_argument, NULL, OPT_HISTORY_RETENTION },
                { "history-cap", required_argument, NULL, OPT_HISTORY_CAP },
                { "on-finding", required_argument, NULL, OPT_ON_FINDING },
                { "finding-webhook", required_argument, NULL, OPT_FINDING_WEBHOOK },
                { 0 },
        };
        int opt, r;

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
                        r = rsap_store_uri_check(optarg);
                        if (r < 0)
                                return option_error("--db %s: %s", optarg, rsap_strerror(r));
                        break;
                case OPT_TOKEN_FILE: cfg->token_file = optarg; break;
                case OPT_ON_FINDING:
                        if (optarg[0] != '/' || access(optarg, X_OK) < 0)
                                return option_error("--on-finding takes the absolute path of a "
                                                    "program rsapd may run");
                        cfg->on_finding = optarg;
                        break;
                case OPT_FINDING_WEBHOOK:
                        if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                                return option_error("--finding-webhook takes an http:// or "
                                                    "https:// URL");
                        cfg->finding_webhook = optarg;
                        break;
                case OPT_PORTSERVER: cfg->portserver_path = optarg; break;
                case OPT_PORTSERVER_RANGE:
                        if (range_option(optarg, cfg) < 0)
                                return -EINVAL;
                        break;
                case OPT_NO_ACCESS_LOG: cfg->access_log = false; break;
                case OPT_RECORD: cfg->record = true; break;
                case OPT_NO_RECORD: cfg->record = false; break;
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
        if (cfg->n_listen == 0)
                default_listen(cfg);
        return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue.  One MHD daemon per listening address, each with its
 * own epoll thread pool; MHD parses HTTP, rsapd decides.  The limits:
 *
 *  - header size: MHD_OPTION_CONNECTION_MEMORY_LIMIT bounds each connection's
 *    memory pool, which holds the request line and headers; a request whose
 *    header does not fit is answered by MHD itself with 431 (Request Header
 *    Fields Too Large) and the connection closed;
 *  - body size: Content-Length over --max-body is 413 before a byte of the
 *    body is read; a chunked body is counted as it comes and 413 once over;
 *  - connections: MHD_OPTION_CONNECTION_LIMIT per address; more wait in the
 *    kernel's backlog; MHD_OPTION_PER_IP_CONNECTION_LIMIT per client address
 *    (--max-connections-per-ip);
 *  - time: MHD's own timeout closes idle connections, but counts from the
 *    last byte, so a client sending a byte a second would hold a connection
 *    forever.  The reaper below gives each connection --timeout seconds to
 *    finish each request, counted from its opening or its previous answer,
 *    and shuts the socket of one that overruns.
 *
 * And what is refused before routing (edge_refusal()): a Host header naming
 * a host rsapd does not serve (421: a DNS-rebinding page in a local browser
 * must not read the API), control bytes in the raw request target (MHD cuts
 * the URL at a NUL, which would route "/v1/ports/16\0" "47" as port 16),
 * a path or query that is not UTF-8 (every answer is JSON or HTML in UTF-8),
 * and repeated or conflicting Content-Length (request smuggling).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rsap/textsafe.h>
#include <rsap/time.h>

#include "cache.h"
#include "http.h"

#define LISTEN_BACKLOG 4096
#define REAPER_INTERVAL_MS 250

struct conn_slot {
        int fd;
        atomic_llong deadline_ms;
        bool reaped;
        struct conn_slot *prev, *next;
};

struct http_server {
        struct rsapd *d;
        struct MHD_Daemon *daemons[RSAPD_MAX_LISTEN];
        size_t n_daemons;
        atomic_int in_flight;
        struct response_cache *cache;
        /* the reaper */
        pthread_mutex_t conns_lock;
        struct conn_slot *conns;
        pthread_t reaper;
        bool reaper_running;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stop;
        /* the ports rsapd listens on, after bind: what a Host header may add */
        uint16_t ports[RSAPD_MAX_LISTEN];
};

struct request_ctx {
        bool started; /* on_request() has seen it: route, method, in_flight */
        char *raw_path; /* the request line's path, still %-encoded: what is routed */
        struct timespec start;
        enum http_method method;
        struct route_match route;
        struct rsap_buf body;
        bool too_large;
        bool answered;
        unsigned refusal; /* the status refuse_early() decided, 0 for none */
        char refusal_message[160];
        /* from the URI log callback, which sees the raw target */
        const char *raw_end; /* where the raw target's string ends */
        bool raw_control;    /* a control byte in the raw target */
};

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- peers ---------------------------------------------------------------- */

static const struct sockaddr *peer_of(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

        return info ? info->client_addr : NULL;
}

static bool is_loopback(const struct sockaddr *sa)
{
        if (!sa)
                return false;
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

                return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        }
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

                if (IN6_IS_ADDR_LOOPBACK(a))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
        }
        return false;
}

static void peer_text(const struct sockaddr *sa, char *buf, size_t size)
{
        snprintf(buf, size, "-");
        if (sa && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
        else if (sa && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                          (socklen_t)size);
}

/* ---- the edge: what is refused before routing ------------------------------- */

static bool has_control(const char *text)
{
        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

/* Query names and values must be UTF-8 on every route, known or not. */
static enum MHD_Result find_non_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        bool *bad = cls;

        (void)kind;
        if (utf8_valid(key) && (!value || utf8_valid(value)))
                return MHD_YES;
        *bad = true;
        return MHD_NO;
}

struct length_check {
        unsigned lengths, encodings;
        bool differ;
        const char *first;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        struct length_check *l = cls;

        (void)kind;
        if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
                l->encodings++;
        if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
                return MHD_YES;
        if (l->lengths++ && (!value || !l->first || strcmp(value, l->first) != 0))
                l->differ = true;
        l->first = l->first ? l->first : value;
        return MHD_YES;
}

/* "[::1]" or "127.0.0.5", as a loopback address. */
static bool loopback_literal(const char *name)
{
        struct in6_addr a6;
        struct in_addr a4;
        char inner[INET6_ADDRSTRLEN];
        size_t n = strlen(name);

        if (inet_pton(AF_INET, name, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (n < 3 || n - 2 >= sizeof(inner) || name[0] != '[' || name[n - 1] != ']')
                return false;
        memcpy(inner, name + 1, n - 2);
        inner[n - 2] = '\0';
        return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Whether name (no port) is one rsapd answers for. */
static bool host_name_served(const struct http_server *s, const char *name)
{
        const struct rsapd_config *cfg = &s->d->cfg;

        if (strcasecmp(name, "localhost") == 0 || loopback_literal(name))
                return true;
        for (size_t i = 0; i < cfg->n_hosts; i++)
                if (strcasecmp(name, cfg->hosts[i]) == 0)
                        return true;
        /* Each --listen address's text is "ADDR:PORT" or "[ADDR6]:PORT" after bind. */
        for (size_t i = 0; i < cfg->n_listen; i++) {
                const char *text = cfg->listen[i].text, *colon = strrchr(text, ':');

                if (colon && strlen(name) == (size_t)(colon - text) &&
                    strncasecmp(name, text, (size_t)(colon - text)) == 0)
                        return true;
        }
        return false;
}

static bool port_served(const struct http_server *s, const char *text)
{
        char *end;
        unsigned long port;

        if (!isdigit((unsigned char)text[0]))
                return false;
        port = strtoul(text, &end, 10);
        if (*end)
                return false;
        for (size_t i = 0; i < s->d->cfg.n_listen; i++)
                if (s->ports[i] == port)
                        return true;
        return false;
}

/* Host: NAME or NAME:PORT, with NAME one rsapd serves and PORT one it listens on. */
static bool host_served(const struct http_server *s, const char *host)
{
        char name[256];
        const char *colon;
        size_t n;

        if (host[0] == '[') {
                const char *close = strchr(host, ']');

                colon = close && close[1] == ':' ? close + 1 : NULL;
                if (!close || (close[1] && !colon))
                        return false;
        } else {
                colon = strchr(host, ':');
        }
        n = colon ? (size_t)(colon - host) : strlen(host);
        if (n == 0 || n >= sizeof(name))
                return false;
        memcpy(name, host, n);
        name[n] = '\0';
        if (colon && !port_served(s, colon + 1))
                return false;
        return host_name_served(s, name);
}

/*
 * What the edge refuses, whatever the route: 0 to go on, or the status with
 * message filled.  HTTP/1.1 without Host MHD refuses itself (400); HTTP/1.0
 * without one is answered, as no browser sends such a request.
 */
static unsigned edge_refusal(struct http_server *s, struct MHD_Connection *conn,
                             struct request_ctx *ctx, const char *url, const char *version,
                             char *message, size_t size)
{
        const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        struct length_check l = { 0 };
        bool query_not_utf8 = false;

        if (host && !host_served(s, host)) {
                snprintf(message, size, "rsapd does not answer for this Host header: "
                                        "use localhost, a --listen address or a --host name");
                return 421;
        }
        if (ctx->raw_control || (ctx->raw_end && version && ctx->raw_end + 1 != version) ||
            has_control(url)) {
                snprintf(message, size, "the request target has control characters");
                return 400;
        }
        if (!utf8_valid(url)) {
                snprintf(message, size, "the path is not UTF-8 once %%-decoded");
                return 400;
        }
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, find_non_utf8, &query_not_utf8);
        if (query_not_utf8) {
                snprintf(message, size, "a query parameter is not UTF-8 once %%-decoded");
                return 400;
        }
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &l);
        if (l.lengths > 1 || (l.lengths && l.encodings)) {
                snprintf(message, size, "%s",
                         l.encodings ? "Content-Length and Transfer-Encoding together"
                         : l.differ  ? "conflicting Content-Length headers"
                                     : "repeated Content-Length header");
                return 400;
        }
        return 0;
}

/* ---- routes ---------------------------------------------------------------- */

/* routes.def's handlers; the rest of each line is the router's. */
#define ROUTE(id, template, methods, handler, cache, writes, ...) [id] = handler,
static const handler_fn handlers[ROUTE_COUNT] = {
#include "routes.def"
};
#undef ROUTE

static bool is_write(enum http_method m)
{
        return m & (HTTP_POST | HTTP_PUT | HTTP_DELETE | HTTP_PATCH);
}

/* A parameter given without a value ("?all") reads as "", not as absent. */
static const char *lookup_query(const struct request *req, const char *key)
{
        const char *value = NULL;
        size_t value_len = 0;

        if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key),
                                          &value, &value_len) != MHD_YES)
                return NULL;
        return value ? value : "";
}

/* ---- answering ------------------------------------------------------------- */

static void add_headers(struct MHD_Response *resp, const struct reply *r, struct rsapd *d)
{
        char allow[64];

        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (r->page) {
                MHD_add_response_header(resp, "Content-Security-Policy",
                                        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                                        "img-src 'self'; form-action 'self'; "
                                        "frame-ancestors 'none'; base-uri 'none'");
                MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
                MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        }
        if (r->status == 405) {
                http_allow_text(r->allow, allow, sizeof(allow));
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        }
        if (r->challenge)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->challenge);
        if (r->location[0])
                MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
        if (atomic_load(&d->stopping))
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

/*
 * One line per request, whatever the request held: the URL arrives decoded,
 * so %0a or %1b in it would otherwise forge lines or drive a terminal.  A
 * long URL is cut, escapes whole, and marked "...".
 */
static void access_log(struct MHD_Connection *conn, const char *method, const char *url,
                       unsigned status, size_t len, double seconds)
{
        char peer[INET6_ADDRSTRLEN], safe_method[40], safe_url[256];
        bool cut;

        peer_text(peer_of(conn), peer, sizeof(peer));
        rsap_text_escape(safe_method, sizeof(safe_method), method, strlen(method));
        cut = rsap_text_escape(safe_url, sizeof(safe_url), url, strlen(url)) >= sizeof(safe_url);
        rsapd_log("%s \"%s %s%s\" %u %zu %.3fms", peer, safe_method, safe_url, cut ? "..." : "",
                  status, len, seconds * 1e3);
}

/* Counts and logs an answer as it is queued. */
static void account(struct http_server *s, struct MHD_Connection *conn, struct request_ctx *ctx,
                    const char *method, const char *url, unsigned status, size_t len)
{
        double seconds = seconds_since(&ctx->start);

        ctx->answered = true;
        metrics_observe(s->d->metrics, ctx->route.id, status, seconds);
        if (s->d->cfg.access_log)
                access_log(conn, method, url, status, len, seconds);
}

static struct MHD_Response *make_response(struct rsapd *d, struct reply *r)
{
        struct MHD_Response *resp;

        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(r->body);
                r->body = NULL;
                return NULL;
        }
        r->body = NULL;
        add_headers(resp, r, d);
        return resp;
}

static enum MHD_Result send_reply(struct http_server *s, struct MHD_Connection *conn,
                                  struct request_ctx *ctx, const char *method, const char *url,
                                  struct reply *r)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        account(s, conn, ctx, method, url, r->status, r->len);
        resp = make_response(s->d, r);
        if (!resp)
                return MHD_NO;
        ret = MHD_queue_response(conn, r->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result send_error(struct http_server *s, struct MHD_Connection *conn,
                                  struct request_ctx *ctx, const char *method, const char *url,
                                  unsigned status, const char *message)
{
        struct reply r = { 0 };

        reply_error_for(&r, url, status, message);
        r.allow = ctx->route.allowed;
        if (status == 401)
                r.challenge = strstr(message, "invalid") == message
                                      ? "Bearer realm=\"rsapd\", error=\"invalid_token\""
                                      : "Bearer realm=\"rsapd\"";
        return send_reply(s, conn, ctx, method, url, &r);
}

static enum MHD_Result check_one_parameter(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
        (void)kind;
        return query_check_add(cls, key, value) ? MHD_YES : MHD_NO;
}

/* 0 when every query parameter is one the route reads, once; else 400 and why. */
static unsigned refuse_query(struct MHD_Connection *conn, const struct request_ctx *ctx,
                             char *message, size_t size)
{
        struct query_check qc;

        query_check_init(&qc, ctx->route.id);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_one_parameter, &qc);
        if (qc.verdict == QUERY_OK)
                return 0;
        query_check_message(&qc, message, size);
        return 400;
}

/*
 * What can be refused before reading a body: route, method, credentials,
 * size, type.  Returns the status (0: go on) and fills message.
 */
static unsigned refuse_early(struct http_server *s, struct MHD_Connection *conn,
                             struct request_ctx *ctx, char *message, size_t size)
{
        struct rsapd *d = s->d;
        const char *length, *type;
        bool write = is_write(ctx->method);
        unsigned status;

        switch (ctx->route.result) {
        case ROUTE_FOUND:
                break;
        case ROUTE_NOT_FOUND:
                snprintf(message, size, "There is nothing at this address.");
                return 404;
        case ROUTE_METHOD_NOT_ALLOWED:
                http_allow_text(ctx->route.allowed, message, size);
                return 405;
        }
        status = refuse_query(conn, ctx, message, size);
        if (status)
                return status;
        switch (auth_check(&d->auth, write, is_loopback(peer_of(conn)),
                           MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_AUTHORIZATION))) {
        case AUTH_OK:
                break;
        case AUTH_MISSING:
                snprintf(message, size, "this needs Authorization: Bearer TOKEN");
                return 401;
        case AUTH_INVALID:
                snprintf(message, size, "invalid bearer token");
                return 401;
        case AUTH_FORBIDDEN:
                snprintf(message, size, "%s",
                         write ? "writes are disabled: rsapd runs without --token-file"
                               : "reads from other hosts need a token, and rsapd has none");
                return 403;
        }
        length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > d->cfg.max_body) {
                snprintf(message, size, "the body is larger than %zu bytes", d->cfg.max_body);
                return 413;
        }
        type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (write && type && !content_type_is_json(type)) {
                snprintf(message, size, "send the body as Content-Type: application/json");
                return 415;
        }
        return 0;
}

/* Whether the client announced a body (which an early answer lets MHD skip). */
static bool announces_body(struct MHD_Connection *conn)
{
        const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);

        if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_TRANSFER_ENCODING))
                return true;
        return length && strtoull(length, NULL, 10) > 0;
}

/* Answers that depend only on the data, and so may come from the cache. */
static bool cacheable(const struct rsapd *d, struct MHD_Connection *conn,
                      const struct request_ctx *ctx)
{
        /* Stopping adds "Connection: close", which a shared answer lacks. */
        if (atomic_load(&d->stopping))
                return false;
        switch (route_cache(ctx->route.id)) {
        case CACHE_SHARED:
                return true;
        case CACHE_UNLESS_OWNERS:
                /* A port's answer names the processes on it to token holders
                 * only (--owners token): theirs is never shared. */
                return d->cfg.owners != OWNERS_TOKEN ||
                       !auth_presents_token(&d->auth,
                                            MHD_lookup_connection_value(
                                                    conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION));
        case CACHE_NEVER:
                break;
        }
        return false;
}

/* The port a port's answer is about, from the route's first segment
 * ("1647", "1647/tcp"); -1 for another route or what is no port. */
static long answer_port(const struct request_ctx *ctx)
{
        const char *text = ctx->route.params[0];
        char *end;
        unsigned long port;

        if (ctx->route.id != ROUTE_API_PORT && ctx->route.id != ROUTE_API_PORT_PROTO)
                return -1;
        if (!isdigit((unsigned char)text[0]))
                return -1;
        port = strtoul(text, &end, 10);
        return (*end == '\0' || *end == '/') && port <= 65535 ? (long)port : -1;
}

/*
 * The versions a cached answer must carry to be served (cache.h), read
 * after the snapshot is taken and before anything is read from the data, so
 * that what is made from them is never older than they say; false when the
 * answer is not to be cached (a port's answer about no port: an error).
 */
static bool answer_version(struct http_server *s, const struct request_ctx *ctx,
                           struct cache_version *v)
{
        long port = answer_port(ctx);

        rsapd_notice_store_changes(s->d);
        v->generation = rsapd_generation(s->d);
        v->sockets = 0;
        if (ctx->route.id != ROUTE_API_PORT && ctx->route.id != ROUTE_API_PORT_PROTO)
                return true;
        if (port < 0)
                return false;
        v->sockets = listeners_port_version(s->d->listeners, (uint16_t)port);
        return true;
}

/* Until when (monotonic ms) a cached copy of r may serve: --cache-ttl, or
 * the moment the answer changes by itself if that comes first. */
static long long cached_until(const struct rsapd *d, const struct reply *r, long long now_ms)
{
        long long until = now_ms + d->cfg.cache_ttl_ms;

        if (r->changes_at_us) {
                long long left_ms = (r->changes_at_us - rsap_realtime_us()) / 1000;

                if (now_ms + left_ms < until)
                        until = now_ms + left_ms;
        }
        return until;
}

static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *conn,
                                struct request_ctx *ctx, const char *method, const char *url)
{
        bool cache = s->cache && s->d->cfg.cache_ttl_ms && cacheable(s->d, conn, ctx);
        long long now = rsap_monotonic_ms();
        struct cache_version version;
        struct registry_ref *ref;
        struct listener_snapshot *snap;
        struct request req;
        struct reply r = { .allow = ctx->route.allowed };
        struct MHD_Response *resp;
        enum MHD_Result ret;
        unsigned status;
        size_t len;

        /* Taken first even for a cached answer: a request reads the snapshot,
         * so that it is kept fresh (listeners_get()). */
        snap = listeners_get(s->d->listeners);
        cache = cache && answer_version(s, ctx, &version);
        /* Keyed by the path as routed: "1647%2Ftcp" is not "1647/tcp". */
        if (cache && cache_queue(s->cache, ctx->raw_path, &version, now, conn, &ret, &status,
                                 &len)) {
                listeners_put(snap);
                account(s, conn, ctx, method, url, status, len);
                return ret;
        }
        ref = rsapd_registry_get(s->d);
        req = (struct request){
                .method = ctx->method,
                .path = url,
                .route = &ctx->route,
                .body = ctx->body.data,
                .body_len = ctx->body.len,
                .loopback = is_loopback(peer_of(conn)),
                .authenticated = auth_presents_token(
                        &s->d->auth, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                                 MHD_HTTP_HEADER_AUTHORIZATION)),
                .query = lookup_query,
                .conn = conn,
                .reg = ref ? ref->reg : NULL,
                .listeners = snap,
        };
        if (!req.reg)
                reply_error_for(&r, url, 503, "no registry is loaded");
        else
                handlers[ctx->route.id](s->d, &req, &r);
        listeners_put(snap);
        rsapd_registry_put(ref);
        if (r.status == 0) /* a handler that answered nothing: never expected */
                reply_error_for(&r, url, 500, "the server did not answer");
        /* A change made ends every cached answer, whichever route made it. */
        if ((ctx->method & route_writes(ctx->route.id)) && r.status < 300) {
                rsapd_data_changed(s->d);
                listeners_refresh_soon(s->d->listeners);
        }
        if (!cache || (r.status != 200 && r.status != 404))
                return send_reply(s, conn, ctx, method, url, &r);
        account(s, conn, ctx, method, url, r.status, r.len);
        status = r.status;
        len = r.len;
        resp = make_response(s->d, &r);
        if (!resp)
                return MHD_NO;
        ret = MHD_queue_response(conn, status, resp);
        cache_store(s->cache, ctx->raw_path, &version, cached_until(s->d, &r, now), resp, status,
                    len);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **req_cls)
{
        struct http_server *s = cls;
        struct request_ctx *ctx = *req_cls;

        if (!ctx) /* on_uri() could not allocate it */
                return MHD_NO;
        if (!ctx->started) {
                ctx->started = true;
                ctx->method = http_method_parse(method);
                atomic_fetch_add(&s->in_flight, 1);
                ctx->refusal = edge_refusal(s, conn, ctx, url, version, ctx->refusal_message,
                                            sizeof(ctx->refusal_message));
                if (!ctx->refusal) {
                        router_match(ctx->method, ctx->raw_path, &ctx->route);
                        ctx->refusal = refuse_early(s, conn, ctx, ctx->refusal_message,
                                                    sizeof(ctx->refusal_message));
                }
                /* A refused request with a body is answered before the body is
                 * read (MHD then closes the connection); one without waits for
                 * the usual moment, so that its connection may be kept. */
                if (ctx->refusal && announces_body(conn))
                        return send_error(s, conn, ctx, method, url, ctx->refusal,
                                          ctx->refusal_message);
                return MHD_YES;
        }
        if (ctx->answered) {
                *upload_size = 0; /* a body after an early answer is dropped */
                return MHD_YES;
        }
        if (*upload_size) {
                if (ctx->body.len + *upload_size > s->d->cfg.max_body)
                        ctx->too_large = true;
                else
                        rsap_buf_append(&ctx->body, upload_data, *upload_size);
                *upload_size = 0;
                return MHD_YES;
        }
        if (ctx->refusal)
                return send_error(s, conn, ctx, method, url, ctx->refusal, ctx->refusal_message);
        if (ctx->too_large) {
                char message[96];

                snprintf(message, sizeof(message), "the body is larger than %zu bytes",
                         s->d->cfg.max_body);
                return send_error(s, conn, ctx, method, url, 413, message);
        }
        if (rsap_buf_failed(&ctx->body))
                return send_error(s, conn, ctx, method, url, 500, "out of memory");
        return dispatch(s, conn, ctx, method, url);
}

/*
 * MHD_OPTION_URI_LOG_CALLBACK: the raw request target, before unescaping
 * and before the query is split off.  What it returns is the request's
 * context, made as soon as the request line is read, so that on_completed()
 * hears of every request, including those libmicrohttpd answers itself (431
 * for a header too large, 400 for a malformed one...) before or instead of
 * on_request().  MHD ends the target with a NUL where the space before the
 * version was; a target with a NUL of its own ends earlier, which
 * edge_refusal() sees by comparing where the version starts.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
        struct request_ctx *ctx = calloc(1, sizeof(*ctx));

        (void)cls;
        (void)conn;
        if (!ctx)
                return NULL;
        clock_gettime(CLOCK_MONOTONIC, &ctx->start);
        ctx->raw_end = uri + strlen(uri);
        ctx->raw_control = has_control(uri);
        ctx->raw_path = strndup(uri, strcspn(uri, "?"));
        if (!ctx->raw_path) {
                free(ctx);
                return NULL;
        }
        return ctx;
}

/* Counts an answer libmicrohttpd queued itself, with the route when known. */
static void count_mhd_answer(struct http_server *s, struct MHD_Connection *conn,
                             const struct request_ctx *ctx)
{
        const union MHD_ConnectionInfo *info;

        if (ctx->answered)
                return;
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (info && info->http_status)
                metrics_observe(s->d->metrics, ctx->started ? ctx->route.id : ROUTE_NONE,
                                info->http_status, seconds_since(&ctx->start));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
        struct http_server *s = cls;
        struct request_ctx *ctx = *req_cls;
        const union MHD_ConnectionInfo *info;

        (void)code;
        if (ctx) {
                count_mhd_answer(s, conn, ctx);
                if (ctx->started)
                        atomic_fetch_sub(&s->in_flight, 1);
                rsap_buf_free(&ctx->body);
                free(ctx->raw_path);
                free(ctx);
                *req_cls = NULL;
        }
        /* The next request's time starts now. */
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (info && info->socket_context) {
                struct conn_slot *slot = info->socket_context;

                atomic_store(&slot->deadline_ms,
                             rsap_monotonic_ms() + (int64_t)s->d->cfg.timeout_seconds * 1000);
        }
}

/* ---- the reaper ------------------------------------------------------------ */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        struct http_server *s = cls;
        struct conn_slot *slot;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *info =
                        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

                slot = calloc(1, sizeof(*slot));
                if (!slot || !info) {
                        free(slot);
                        return;
                }
                slot->fd = info->connect_fd;
                atomic_store(&slot->deadline_ms,
                             rsap_monotonic_ms() + (int64_t)s->d->cfg.timeout_seconds * 1000);
                pthread_mutex_lock(&s->conns_lock);
                slot->next = s->conns;
                if (s->conns)
                        s->conns->prev = slot;
                s->conns = slot;
                pthread_mutex_unlock(&s->conns_lock);
                *socket_context = slot;
                metrics_connection(s->d->metrics, +1);
                return;
        }
        slot = *socket_context;
        if (!slot)
                return;
        /* MHD tells of the close before it closes the descriptor, so while the
         * slot is listed (under the lock) its fd is this connection's. */
        pthread_mutex_lock(&s->conns_lock);
        if (slot->prev)
                slot->prev->next = slot->next;
        else
                s->conns = slot->next;
        if (slot->next)
                slot->next->prev = slot->prev;
        pthread_mutex_unlock(&s->conns_lock);
        free(slot);
        *socket_context = NULL;
        metrics_connection(s->d->metrics, -1);
}

static void reap_overdue(struct http_server *s)
{
        int64_t now = rsap_monotonic_ms();

        pthread_mutex_lock(&s->conns_lock);
        for (struct conn_slot *slot = s->conns; slot; slot = slot->next) {
                if (slot->reaped || atomic_load(&slot->deadline_ms) > now)
                        continue;
                /* shutdown, not close: MHD still owns the descriptor, and sees EOF. */
                shutdown(slot->fd, SHUT_RDWR);
                slot->reaped = true;
                metrics_reaped(s->d->metrics);
        }
        pthread_mutex_unlock(&s->conns_lock);
}

static void *reaper_main(void *arg)
{
        struct http_server *s = arg;

        pthread_mutex_lock(&s->stop_lock);
        while (!s->stop) {
                struct timespec until;

                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += REAPER_INTERVAL_MS * 1000000L;
                if (until.tv_nsec >= 1000000000L) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until);
                if (s->stop)
                        break;
                pthread_mutex_unlock(&s->stop_lock);
                reap_overdue(s);
                pthread_mutex_lock(&s->stop_lock);
        }
        pthread_mutex_unlock(&s->stop_lock);
        return NULL;
}

/* ---- start and stop --------------------------------------------------------- */

/* libmicrohttpd's own messages: its format strings, checked by its build. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
        char message[512], safe[1024];
        size_t n;

        (void)cls;
        vsnprintf(message, sizeof(message), fmt, ap);
        n = strlen(message);
        while (n && message[n - 1] == '\n')
                message[--n] = '\0';
        /* libmicrohttpd's messages may quote what a client sent: one line, escaped. */
        rsap_text_escape(safe, sizeof(safe), message, n);
        rsapd_log("http: %s", safe);
}
#pragma GCC diagnostic pop

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
        (void)cls;
        (void)conn;
        return url_unescape(s);
}

static int bind_address(struct listen_addr *la, int *out, char *why, size_t why_size)
{
        int one = 1;
        int fd = socket(la->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_storage bound;
        socklen_t len = sizeof(bound);
        char host[INET6_ADDRSTRLEN];
        uint16_t port;

        if (fd < 0)
                goto fail;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (la->addr.ss_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&la->addr, la->len) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
            getsockname(fd, (struct sockaddr *)&bound, &len) < 0)
                goto fail;
        /* --listen 127.0.0.1:0 lets the kernel choose: tell the port it chose. */
        peer_text((struct sockaddr *)&bound, host, sizeof(host));
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
        snprintf(la->text, sizeof(la->text), bound.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
                 host, port);
        *out = fd;
        return 0;
fail:
        snprintf(why, why_size, "cannot listen on %s: %s", la->text, strerror(errno));
        if (fd >= 0)
                close(fd);
        return -errno;
}

/*
 * Every local client comes from loopback, so on a loopback address a limit
 * per client address is the connection limit by another name (and any local
 * user may connect from 127.0.0.2 as well): there it applies only when
 * --max-connections-per-ip is given.
 */
static unsigned per_ip_limit(const struct rsapd_config *cfg, const struct listen_addr *la)
{
        if (!cfg->max_connections_per_ip_set && is_loopback((const struct sockaddr *)&la->addr))
                return 0;
        return cfg->max_connections_per_ip;
}

static uint16_t bound_port(const struct listen_addr *la)
{
        const char *colon = strrchr(la->text, ':');

        return colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
}

static struct MHD_Daemon *start_daemon(struct http_server *s, int fd, const struct listen_addr *la)
{
        const struct rsapd_config *cfg = &s->d->cfg;
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                         MHD_USE_TURBO;
        /* One thread is MHD's internal thread, no pool: MHD warns about a pool
         * of size 1, so the option is only given for two threads or more. */
        struct MHD_OptionItem pool[] = {
                { cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
                  (intptr_t)cfg->threads, NULL },
                { MHD_OPTION_END, 0, NULL },
        };

        return MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, s,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                MHD_OPTION_LISTEN_SOCKET, fd,
                MHD_OPTION_ARRAY, pool,
                MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit(cfg, la),
                MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_seconds,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
                MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                MHD_OPTION_STRICT_FOR_CLIENT, 1,
                MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
                MHD_OPTION_END);
}

int http_start(struct rsapd *d, struct http_server **out, char *why, size_t why_size)
{
        struct http_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->d = d;
        s->cache = cache_new();
        if (!s->cache) {
                free(s);
                return -ENOMEM;
        }
        pthread_mutex_init(&s->conns_lock, NULL);
        pthread_mutex_init(&s->stop_lock, NULL);
        pthread_cond_init(&s->stop_cond, NULL);
        for (size_t i = 0; i < d->cfg.n_listen; i++) {
                int fd = -1;

                r = bind_address(&d->cfg.listen[i], &fd, why, why_size);
                if (r < 0)
                        goto fail;
                s->ports[i] = bound_port(&d->cfg.listen[i]);
                s->daemons[s->n_daemons] = start_daemon(s, fd, &d->cfg.listen[i]);
                if (!s->daemons[s->n_daemons]) {
                        close(fd);
                        snprintf(why, why_size, "cannot start the HTTP server on %s",
                                 d->cfg.listen[i].text);
                        r = -EIO;
                        goto fail;
                }
                s->n_daemons++;
        }
        r = -pthread_create(&s->reaper, NULL, reaper_main, s);
        if (r < 0) {
                snprintf(why, why_size, "cannot start a thread: %s", strerror(-r));
                goto fail;
        }
        s->reaper_running = true;
        *out = s;
        return 0;
fail:
        http_stop(s);
        return r;
}

void http_quiesce(struct http_server *s)
{
        for (size_t i = 0; i < s->n_daemons; i++) {
                MHD_socket fd = MHD_quiesce_daemon(s->daemons[i]);

                if (fd != MHD_INVALID_SOCKET)
                        close(fd);
        }
}

bool http_wait_idle(struct http_server *s, int timeout_ms)
{
        int64_t until = rsap_monotonic_ms() + timeout_ms;

        while (atomic_load(&s->in_flight) > 0) {
                if (rsap_monotonic_ms() >= until)
                        return false;
                usleep(10000);
        }
        return true;
}

void http_stop(struct http_server *s)
{
        if (!s)
                return;
        if (s->reaper_running) {
                pthread_mutex_lock(&s->stop_lock);
                s->stop = true;
                pthread_cond_signal(&s->stop_cond);
                pthread_mutex_unlock(&s->stop_lock);
                pthread_join(s->reaper, NULL);
        }
        for (size_t i = 0; i < s->n_daemons; i++)
                MHD_stop_daemon(s->daemons[i]);
        cache_free(s->cache);
        pthread_mutex_destroy(&s->conns_lock);
        pthread_mutex_destroy(&s->stop_lock);
        pthread_cond_destroy(&s->stop_cond);
        free(s);
}

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
 *    kernel's backlog;
 *  - time: MHD's own timeout closes idle connections, but counts from the
 *    last byte, so a client sending a byte a second would hold a connection
 *    forever.  The reaper below gives each connection --timeout seconds to
 *    finish each request, counted from its opening or its previous answer,
 *    and shuts the socket of one that overruns.
 */
#include <arpa/inet.h>
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
};

struct request_ctx {
        struct timespec start;
        enum http_method method;
        struct route_match route;
        struct buf body;
        bool too_large;
        bool answered;
        unsigned refusal; /* the status refuse_early() decided, 0 for none */
        char refusal_message[160];
};

static int64_t monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* ---- routes ---------------------------------------------------------------- */

static const handler_fn handlers[ROUTE_COUNT] = {
        [ROUTE_HOME] = page_home,
        [ROUTE_SEARCH_PAGE] = page_search,
        [ROUTE_PORT_PAGE] = page_port,
        [ROUTE_SERVICE_PAGE] = page_service,
        [ROUTE_MAP_PAGE] = page_map,
        [ROUTE_MAP_SVG] = page_map_svg,
        [ROUTE_MAP_SCRIPT] = page_map_script,
        [ROUTE_METRICS] = page_metrics,
        [ROUTE_API_PORT] = api_port,
        [ROUTE_API_PORT_PROTO] = api_port,
        [ROUTE_API_SERVICE] = api_service,
        [ROUTE_API_SEARCH] = api_search,
        [ROUTE_API_LIST] = api_list,
        [ROUTE_API_RANGES] = api_ranges,
        [ROUTE_API_STATUS] = api_status,
        [ROUTE_API_LISTENING] = api_listening,
        [ROUTE_API_RELOAD] = api_reload,
        [ROUTE_API_REQUESTS] = api_requests,
        [ROUTE_API_REQUEST] = api_request,
        [ROUTE_API_REQUEST_ACTION] = api_request_action,
        [ROUTE_API_DEASSIGN] = api_end,
        [ROUTE_API_REVOKE] = api_end,
        [ROUTE_API_TRANSFER] = api_transfer,
        [ROUTE_API_HISTORY] = api_history,
        [ROUTE_API_HISTORY_PROTO] = api_history,
        [ROUTE_API_PICK] = api_pick,
        [ROUTE_API_LEASES] = api_leases,
        [ROUTE_API_LEASE] = api_lease_release,
        [ROUTE_API_AUDIT] = api_audit,
};

static bool is_write(enum http_method m)
{
        return m & (HTTP_POST | HTTP_PUT | HTTP_DELETE | HTTP_PATCH);
}

static const char *lookup_query(const struct request *req, const char *key)
{
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
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

static void access_log(struct MHD_Connection *conn, const char *method, const char *url,
                       unsigned status, size_t len, double seconds)
{
        char peer[INET6_ADDRSTRLEN];

        peer_text(peer_of(conn), peer, sizeof(peer));
        rsapd_log("%s \"%s %.200s\" %u %zu %.3fms", peer, method, url, status, len,
                  seconds * 1e3);
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
static bool cacheable(const struct rsapd *d, const struct request_ctx *ctx)
{
        switch (ctx->route.id) {
        case ROUTE_API_PORT:
        case ROUTE_API_PORT_PROTO:
        case ROUTE_API_SERVICE:
        case ROUTE_API_RANGES:
        case ROUTE_API_STATUS:
                /* Stopping adds "Connection: close", which a shared answer lacks. */
                return !atomic_load(&d->stopping);
        default:
                return false;
        }
}

static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *conn,
                                struct request_ctx *ctx, const char *method, const char *url)
{
        /* The generation is read before the data, so what is cached under it
         * is never older than it (see cache.h). */
        unsigned generation = rsapd_generation(s->d);
        bool cache = s->cache && s->d->cfg.cache_ttl_ms && cacheable(s->d, ctx);
        long long now = monotonic_ms();
        struct registry_ref *ref;
        struct request req;
        struct reply r = { .allow = ctx->route.allowed };
        struct MHD_Response *resp;
        enum MHD_Result ret;
        unsigned status;
        size_t len;

        if (cache && cache_queue(s->cache, url, generation, now, conn, &ret, &status, &len)) {
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
                .query = lookup_query,
                .conn = conn,
                .reg = ref ? ref->reg : NULL,
        };
        if (!req.reg)
                reply_error_for(&r, url, 503, "no registry is loaded");
        else
                handlers[ctx->route.id](s->d, &req, &r);
        rsapd_registry_put(ref);
        if (r.status == 0) /* a handler that answered nothing: never expected */
                reply_error_for(&r, url, 500, "the server did not answer");
        if (!cache || (r.status != 200 && r.status != 404))
                return send_reply(s, conn, ctx, method, url, &r);
        account(s, conn, ctx, method, url, r.status, r.len);
        status = r.status;
        len = r.len;
        resp = make_response(s->d, &r);
        if (!resp)
                return MHD_NO;
        ret = MHD_queue_response(conn, status, resp);
        cache_store(s->cache, url, generation, now + s->d->cfg.cache_ttl_ms, resp, status, len);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **req_cls)
{
        struct http_server *s = cls;
        struct request_ctx *ctx = *req_cls;

        (void)version;
        if (!ctx) {
                ctx = calloc(1, sizeof(*ctx));
                if (!ctx)
                        return MHD_NO;
                clock_gettime(CLOCK_MONOTONIC, &ctx->start);
                ctx->method = http_method_parse(method);
                router_match(ctx->method, url, &ctx->route);
                *req_cls = ctx;
                atomic_fetch_add(&s->in_flight, 1);
                ctx->refusal = refuse_early(s, conn, ctx, ctx->refusal_message,
                                            sizeof(ctx->refusal_message));
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
                        buf_append(&ctx->body, upload_data, *upload_size);
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
        if (buf_failed(&ctx->body))
                return send_error(s, conn, ctx, method, url, 500, "out of memory");
        return dispatch(s, conn, ctx, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
        struct http_server *s = cls;
        struct request_ctx *ctx = *req_cls;
        const union MHD_ConnectionInfo *info;

        (void)code;
        if (ctx) {
                buf_free(&ctx->body);
                free(ctx);
                *req_cls = NULL;
                atomic_fetch_sub(&s->in_flight, 1);
        }
        /* The next request's time starts now. */
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (info && info->socket_context) {
                struct conn_slot *slot = info->socket_context;

                atomic_store(&slot->deadline_ms,
                             monotonic_ms() + (int64_t)s->d->cfg.timeout_seconds * 1000);
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
                             monotonic_ms() + (int64_t)s->d->cfg.timeout_seconds * 1000);
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
        int64_t now = monotonic_ms();

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
        char message[512];
        size_t n;

        (void)cls;
        vsnprintf(message, sizeof(message), fmt, ap);
        n = strlen(message);
        while (n && message[n - 1] == '\n')
                message[--n] = '\0';
        rsapd_log("http: %s", message);
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

static struct MHD_Daemon *start_daemon(struct http_server *s, int fd)
{
        const struct rsapd_config *cfg = &s->d->cfg;
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                         MHD_USE_TURBO;

        return MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, s,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                MHD_OPTION_LISTEN_SOCKET, fd,
                MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
                MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
                MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_seconds,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
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
                s->daemons[s->n_daemons] = start_daemon(s, fd);
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
        int64_t until = monotonic_ms() + timeout_ms;

        while (atomic_load(&s->in_flight) > 0) {
                if (monotonic_ms() >= until)
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

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/basic.h>
#include "router.h"

#define READ (HTTP_GET | HTTP_HEAD)

#define ROUTE_MAX_QUERY 8

struct route_def {
        enum route_id id;
        const char *template; /* "{...}" segments capture a parameter */
        unsigned methods;
        enum route_cache cache;
        unsigned writes;
        const char *query[ROUTE_MAX_QUERY];
};

/* routes.def's handlers are the server's business (http.c), not the router's. */
#define ROUTE(id, template, methods, handler, cache, writes, ...) \
        { id, template, methods, cache, writes, { __VA_ARGS__ } },
static const struct route_def routes[] = {
#include "routes.def"
};
#undef ROUTE

static const struct {
        enum http_method method;
        const char *name;
} methods[] = {
        { HTTP_GET, "GET" },         { HTTP_HEAD, "HEAD" },     { HTTP_POST, "POST" },
        { HTTP_PUT, "PUT" },         { HTTP_DELETE, "DELETE" }, { HTTP_PATCH, "PATCH" },
        { HTTP_OPTIONS, "OPTIONS" },
};

enum http_method http_method_parse(const char *method)
{
        for (size_t i = 0; method && i < ARRAY_SIZE(methods); i++)
                if (strcmp(method, methods[i].name) == 0)
                        return methods[i].method;
        return HTTP_OTHER;
}

void http_allow_text(unsigned set, char *buf, size_t size)
{
        size_t used = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
                int n;

                if (!(set & methods[i].method))
                        continue;
                n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", methods[i].name);
                if (n < 0 || (size_t)n >= size - used)
                        return;
                used += (size_t)n;
        }
}

/* One segment of a path, %-decoded: [start, start + len). */
struct segment {
        const char *start;
        size_t len;
};

#define MAX_SEGMENTS 8

/* Where split_path() decodes the segments. */
struct segment_text {
        char text[MAX_SEGMENTS][ROUTE_PARAM_SIZE];
};

static bool has_control(const char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                        return true;
        return false;
}

/*
 * Splits the raw "/a/b" at its slashes and then %-decodes each segment, so
 * that "%2F" is a slash inside a segment ("/v1/services/914c%2Fg" names the
 * service 914c/g) rather than a separator.  -EINVAL for anything a route
 * could not match: an empty, "." or ".." segment (decoded or not), control
 * bytes, a segment longer than ROUTE_PARAM_SIZE - 1 once decoded.
 */
static int split_path(const char *path, struct segment *segs, struct segment_text *store,
                      size_t *n_out)
{
        size_t n = 0;
        const char *p;

        if (!path || path[0] != '/' || has_control(path, strlen(path)))
                return -EINVAL;
        if (strcmp(path, "/") == 0) {
                *n_out = 0;
                return 0;
        }
        p = path + 1;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                char raw[3 * ROUTE_PARAM_SIZE];

                if (n == MAX_SEGMENTS || len == 0 || len >= sizeof(raw))
                        return -EINVAL;
                memcpy(raw, p, len);
                raw[len] = '\0';
                len = url_unescape(raw);
                if (len == 0 || len >= ROUTE_PARAM_SIZE || has_control(raw, len) ||
                    strcmp(raw, ".") == 0 || strcmp(raw, "..") == 0)
                        return -EINVAL;
                memcpy(store->text[n], raw, len + 1);
                segs[n] = (struct segment){ store->text[n], len };
                n++;
                if (!slash)
                        break;
                p = slash + 1;
        }
        *n_out = n;
        return 0;
}

/* Whether the segments fit the template; fills params when they do. */
static bool match_template(const char *template, const struct segment *segs, size_t n,
                           struct route_match *out)
{
        struct segment tsegs[MAX_SEGMENTS];
        struct segment_text store;
        size_t tn, n_params = 0, wanted = 0;

        if (split_path(template, tsegs, &store, &tn) < 0 || tn != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (tsegs[i].start[0] == '{') {
                        if (++wanted > ROUTE_MAX_PARAMS)
                                return false;
                        continue;
                }
                if (tsegs[i].len != segs[i].len ||
                    memcmp(tsegs[i].start, segs[i].start, segs[i].len) != 0)
                        return false;
        }
        for (size_t i = 0; i < n; i++) {
                if (tsegs[i].start[0] != '{')
                        continue;
                memcpy(out->params[n_params], segs[i].start, segs[i].len);
                out->params[n_params][segs[i].len] = '\0';
                n_params++;
        }
        out->n_params = n_params;
        return true;
}

void router_match(enum http_method method, const char *path, struct route_match *out)
{
        struct segment segs[MAX_SEGMENTS];
        struct segment_text store;
        size_t n;

        memset(out, 0, sizeof(*out));
        out->result = ROUTE_NOT_FOUND;
        if (split_path(path, segs, &store, &n) < 0)
                return;
        for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
                if (!match_template(routes[i].template, segs, n, out))
                        continue;
                out->id = routes[i].id;
                out->allowed = routes[i].methods;
                out->result = (method & routes[i].methods) ? ROUTE_FOUND
                                                           : ROUTE_METHOD_NOT_ALLOWED;
                return;
        }
        out->n_params = 0;
}

const char *route_template(enum route_id id)
{
        for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
                if (routes[i].id == id)
                        return routes[i].template;
        return "other";
}

bool path_is_api(const char *path)
{
        return path && strncmp(path, "/v1/", 4) == 0;
}

bool route_is_api(enum route_id id)
{
        return path_is_api(route_template(id));
}

static const struct route_def *route_def_of(enum route_id id)
{
        for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
                if (routes[i].id == id)
                        return &routes[i];
        return NULL;
}

enum route_cache route_cache(enum route_id id)
{
        const struct route_def *def = route_def_of(id);

        return def ? def->cache : CACHE_NEVER;
}

unsigned route_writes(enum route_id id)
{
        const struct route_def *def = route_def_of(id);

        return def ? def->writes : 0;
}

void query_check_init(struct query_check *qc, enum route_id id)
{
        memset(qc, 0, sizeof(*qc));
        qc->route = id;
}

/* The name as a message may show it: printable ASCII, at most 64 bytes. */
static void keep_name(struct query_check *qc, const char *key)
{
        size_t n = 0;

        for (; key[n] && n < 64 && n < sizeof(qc->name) - 1; n++)
                qc->name[n] = key[n] >= 0x20 && key[n] < 0x7f ? key[n] : '?';
        qc->name[n] = '\0';
}

bool utf8_valid(const char *text)
{
        const unsigned char *p = (const unsigned char *)text;

        while (*p) {
                unsigned c = *p, len, cp;

                if (c < 0x80) {
                        p++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        len = 2, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        len = 3, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        len = 4, cp = c & 0x07;
                else
                        return false;
                for (unsigned i = 1; i < len; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                /* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
                if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                p += len;
        }
        return true;
}

bool query_check_add(struct query_check *qc, const char *key, const char *value)
{
        const struct route_def *def = route_def_of(qc->route);
        size_t i;

        if (qc->verdict != QUERY_OK)
                return false;
        if (!utf8_valid(key ? key : "") || (value && !utf8_valid(value))) {
                qc->verdict = QUERY_NOT_UTF8;
                keep_name(qc, key ? key : "");
                return false;
        }
        for (i = 0; def && i < ROUTE_MAX_QUERY && def->query[i]; i++)
                if (strcmp(def->query[i], key ? key : "") == 0)
                        break;
        if (!def || i == ROUTE_MAX_QUERY || !def->query[i])
                qc->verdict = QUERY_UNKNOWN;
        else if (qc->seen & (1u << i))
                qc->verdict = QUERY_REPEATED;
        else
                qc->seen |= 1u << i;
        if (qc->verdict != QUERY_OK)
                keep_name(qc, key ? key : "");
        return qc->verdict == QUERY_OK;
}

void route_query_text(enum route_id id, char *buf, size_t size)
{
        const struct route_def *def = route_def_of(id);
        size_t used = 0;

        if (size == 0)
                return;
        snprintf(buf, size, "none");
        for (size_t i = 0; def && i < ROUTE_MAX_QUERY && def->query[i]; i++) {
                int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", def->query[i]);

                if (n < 0 || (size_t)n >= size - used)
                        return;
                used += (size_t)n;
        }
}

void query_check_message(const struct query_check *qc, char *buf, size_t size)
{
        char takes[128];

        route_query_text(qc->route, takes, sizeof(takes));
        if (qc->verdict == QUERY_NOT_UTF8)
                snprintf(buf, size, "query parameter '%s' is not UTF-8", qc->name);
        else if (qc->verdict == QUERY_REPEATED)
                snprintf(buf, size, "query parameter '%s' is given more than once", qc->name);
        else if (qc->verdict == QUERY_UNKNOWN)
                snprintf(buf, size, "unknown query parameter '%s' (%s takes %s)", qc->name,
                         route_template(qc->route), takes);
        else if (size)
                buf[0] = '\0';
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

size_t url_unescape(char *s)
{
        char *out = s;

        for (const char *in = s; *in; in++) {
                int hi, lo;

                if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0 &&
                    (hi | lo) != 0) {
                        *out++ = (char)(hi * 16 + lo);
                        in += 2;
                        continue;
                }
                *out++ = *in;
        }
        *out = '\0';
        return (size_t)(out - s);
}

/* ---- request bodies and headers ------------------------------------------ */

json_t *decode_json_object(const char *body, size_t len, char *err, size_t err_size)
{
        json_error_t error;
        json_t *value;

        if (!body || len == 0) {
                snprintf(err, err_size, "the request needs a JSON object as its body");
                return NULL;
        }
        /* jansson checks UTF-8, rejects NUL in strings and anything after the value. */
        value = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
        if (!value) {
                snprintf(err, err_size, "invalid JSON at line %d, column %d: %s", error.line,
                         error.column, error.text);
                return NULL;
        }
        if (!json_is_object(value)) {
                json_decref(value);
                snprintf(err, err_size, "the body must be a JSON object");
                return NULL;
        }
        return value;
}

static bool is_token68_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               strchr("-._~+/=", c) != NULL;
}

int decode_bearer(const char *header, const char **token, size_t *token_len)
{
        const char *p;
        size_t len;

        if (!header)
                return -ENOENT;
        if (strncasecmp(header, "Bearer ", 7) != 0)
                return -EINVAL;
        p = header + 7;
        while (*p == ' ')
                p++;
        for (len = 0; p[len] && is_token68_char(p[len]); len++)
                ;
        if (len == 0)
                return -EINVAL;
        for (const char *rest = p + len; *rest; rest++)
                if (*rest != ' ' && *rest != '\t')
                        return -EINVAL;
        *token = p;
        *token_len = len;
        return 0;
}

int decode_token68(const char *text)
{
        if (!text || !*text)
                return -EINVAL;
        for (; *text; text++)
                if (!is_token68_char(*text))
                        return -EINVAL;
        return 0;
}

bool content_type_is_json(const char *content_type)
{
        static const char json[] = "application/json";
        size_t n = sizeof(json) - 1;

        if (!content_type || strncasecmp(content_type, json, n) != 0)
                return false;
        return content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ';
}

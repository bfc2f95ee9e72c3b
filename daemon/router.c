/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define READ (HTTP_GET | HTTP_HEAD)

struct route_def {
        enum route_id id;
        const char *template; /* "{...}" segments capture a parameter */
        unsigned methods;
};

static const struct route_def routes[] = {
        { ROUTE_HOME, "/", READ },
        { ROUTE_SEARCH_PAGE, "/search", READ },
        { ROUTE_PORT_PAGE, "/port/{port}", READ },
        { ROUTE_SERVICE_PAGE, "/service/{name}", READ },
        { ROUTE_MAP_PAGE, "/map", READ },
        { ROUTE_MAP_SVG, "/map.svg", READ },
        { ROUTE_MAP_SCRIPT, "/map.js", READ },
        { ROUTE_METRICS, "/metrics", READ },
        { ROUTE_API_PORT, "/v1/ports/{port}", READ },
        { ROUTE_API_PORT_PROTO, "/v1/ports/{port}/{protocol}", READ },
        { ROUTE_API_SERVICE, "/v1/services/{name}", READ },
        { ROUTE_API_SEARCH, "/v1/search", READ },
        { ROUTE_API_LIST, "/v1/list", READ },
        { ROUTE_API_RANGES, "/v1/ranges", READ },
        { ROUTE_API_STATUS, "/v1/status", READ },
        { ROUTE_API_LISTENING, "/v1/listening", READ },
        { ROUTE_API_RELOAD, "/v1/reload", HTTP_POST },
        { ROUTE_API_REQUESTS, "/v1/registry/requests", READ | HTTP_POST },
        { ROUTE_API_REQUEST, "/v1/registry/requests/{id}", READ },
        { ROUTE_API_REQUEST_ACTION, "/v1/registry/requests/{id}/{action}", HTTP_POST },
        { ROUTE_API_DEASSIGN, "/v1/registry/deassign", HTTP_POST },
        { ROUTE_API_REVOKE, "/v1/registry/revoke", HTTP_POST },
        { ROUTE_API_TRANSFER, "/v1/registry/transfer", HTTP_POST },
        { ROUTE_API_HISTORY, "/v1/history/{target}", READ },
        { ROUTE_API_HISTORY_PROTO, "/v1/history/{port}/{protocol}", READ },
        { ROUTE_API_PICK, "/v1/pick", READ },
        { ROUTE_API_LEASES, "/v1/leases", HTTP_POST },
        { ROUTE_API_LEASE, "/v1/leases/{target}", HTTP_DELETE },
        { ROUTE_API_AUDIT, "/v1/audit", READ },
};

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

/* One segment of a path: [start, start + len). */
struct segment {
        const char *start;
        size_t len;
};

#define MAX_SEGMENTS 8

/* Splits "/a/b" into segments; -EINVAL for anything a route could not match. */
static int split_path(const char *path, struct segment *segs, size_t *n_out)
{
        size_t n = 0;
        const char *p;

        if (!path || path[0] != '/')
                return -EINVAL;
        for (p = path; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return -EINVAL;
        if (strcmp(path, "/") == 0) {
                *n_out = 0;
                return 0;
        }
        p = path + 1;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);

                if (n == MAX_SEGMENTS || len == 0 || len >= ROUTE_PARAM_SIZE)
                        return -EINVAL;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                segs[n++] = (struct segment){ p, len };
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
        size_t tn, n_params = 0, wanted = 0;

        if (split_path(template, tsegs, &tn) < 0 || tn != n)
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
        size_t n;

        memset(out, 0, sizeof(*out));
        out->result = ROUTE_NOT_FOUND;
        if (split_path(path, segs, &n) < 0)
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

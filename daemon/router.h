/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Routing and request decoding: pure functions of the request's bytes, with
 * no I/O and no global state, so that tests/fuzz/fuzz_http_route.c can drive
 * them with anything.  rsapd serves no files: a path either matches a route
 * of the table in router.c or is 404, so no path can reach the filesystem.
 */

enum http_method {
        HTTP_GET = 1u << 0,
        HTTP_HEAD = 1u << 1,
        HTTP_POST = 1u << 2,
        HTTP_PUT = 1u << 3,
        HTTP_DELETE = 1u << 4,
        HTTP_PATCH = 1u << 5,
        HTTP_OPTIONS = 1u << 6,
        HTTP_OTHER = 1u << 7, /* any other token: never allowed */
};

/* One per line of routes.def, in its order. */
enum route_id {
        ROUTE_NONE = 0,
#define ROUTE(id, ...) id,
#include "routes.def"
#undef ROUTE
        ROUTE_COUNT,
};

enum route_result {
        ROUTE_FOUND = 0,
        ROUTE_NOT_FOUND,
        ROUTE_METHOD_NOT_ALLOWED, /* the path exists; allowed says with which methods */
};

#define ROUTE_MAX_PARAMS 2
#define ROUTE_PARAM_SIZE 128

struct route_match {
        enum route_result result;
        enum route_id id;
        unsigned allowed; /* methods the path accepts (HEAD wherever GET) */
        size_t n_params;
        char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_SIZE];
};

/* "GET" -> HTTP_GET...; anything else HTTP_OTHER.  Methods are case-sensitive. */
enum http_method http_method_parse(const char *method);
/* Writes "GET, HEAD, POST" for a set of methods. */
void http_allow_text(unsigned methods, char *buf, size_t size);

/*
 * Matches a path as the request line has it, %-encoded, against the table:
 * the path is split at its slashes first and each segment decoded after, so
 * that an encoded slash ("914c%2Fg") stays inside its segment.  Paths with
 * empty, "." or ".." segments (also as "%2e"), control bytes, or a segment
 * longer than ROUTE_PARAM_SIZE - 1 once decoded match nothing.
 */
void router_match(enum http_method method, const char *path, struct route_match *out);
/* The route's path template, "/v1/ports/{port}": the metrics label. */
const char *route_template(enum route_id id);

/* Whether a route's answer may be shared from the cache (routes.def). */
enum route_cache {
        CACHE_NEVER,
        CACHE_SHARED,        /* depends only on the data */
        CACHE_UNLESS_OWNERS, /* the same, except a token holder's under --owners token */
};
enum route_cache route_cache(enum route_id id);
/* The methods by which the route changes the data (routes.def). */
unsigned route_writes(enum route_id id);
/* Whether the route answers JSON (everything under /v1/). */
bool route_is_api(enum route_id id);
bool path_is_api(const char *path);

/*
 * Whether text is well-formed UTF-8 (no overlong forms, surrogates or code
 * points beyond U+10FFFF): what a JSON string may hold, so a decoded path or
 * query value that is not is refused with 400 rather than failing later.
 */
bool utf8_valid(const char *text);

/*
 * The query parameters of a request, checked one name at a time against what
 * its route reads: a name the route does not take, or one given twice
 * ("?q=a&q=b": which one would count?), refuses the request with 400.
 */
enum query_verdict {
        QUERY_OK = 0,
        QUERY_UNKNOWN,
        QUERY_REPEATED,
        QUERY_NOT_UTF8, /* the name or the value, once decoded */
};

struct query_check {
        enum route_id route;
        unsigned seen; /* one bit per parameter of the route */
        enum query_verdict verdict;
        char name[ROUTE_PARAM_SIZE]; /* the refused name, printable */
};

void query_check_init(struct query_check *qc, enum route_id id);
/* Takes one parameter's decoded name and value (NULL: none); false once refused. */
bool query_check_add(struct query_check *qc, const char *key, const char *value);
/* "unknown query parameter 'limt' (/v1/search takes q, limit)"; "" when QUERY_OK. */
void query_check_message(const struct query_check *qc, char *buf, size_t size);
/* "q, limit": the query parameters a route reads; "none". */
void route_query_text(enum route_id id, char *buf, size_t size);

/*
 * Decodes %XX in place, as libmicrohttpd does for paths and query values,
 * except %00: a NUL would cut the string short ("/port/1647%00.html" would
 * read "/port/1647"), so it stays as the three characters.  Returns the new
 * length.
 */
size_t url_unescape(char *s);

/* ---- request bodies and headers ------------------------------------------ */

/*
 * A JSON request body: one object, UTF-8, no duplicate keys, nothing after it.
 * NULL with a one-line reason in err when it is anything else.
 */
json_t *decode_json_object(const char *body, size_t len, char *err, size_t err_size);

/*
 * The token of an "Authorization: Bearer TOKEN" header (the scheme is
 * case-insensitive, RFC 7235): 0 and the token's span, -ENOENT when header is
 * NULL, -EINVAL when it is another scheme or malformed.
 */
int decode_bearer(const char *header, const char **token, size_t *token_len);

/* 0 when text is a non-empty token68 (RFC 7235): what a bearer token may hold. */
int decode_token68(const char *text);

/* Whether a Content-Type names JSON ("application/json", any parameters). */
bool content_type_is_json(const char *content_type);

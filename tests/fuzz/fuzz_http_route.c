/* SPDX-License-Identifier: MIT */
/*
 * rsapd's routing and request decoding with anything: the input is
 * "METHOD PATH[?QUERY]\nHEADER\nBODY".  The raw path goes through the router
 * (which %-decodes each segment) and the daemon's own %-decoding, the query's names (split at '&' and '=', as
 * libmicrohttpd splits them) through the same decoding and the route's
 * parameter check; a route's parameters through the page escaper;
 * the header through the bearer and Content-Type parsers; the body through
 * the JSON decoder and, when it is an object, every registration decoder.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "router.h"
#include "rsapd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end) as a NUL-terminated copy. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
        const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
        size_t len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
        char *line = malloc(len + 1);

        if (!line)
                abort();
        memcpy(line, *p, len);
        line[len] = '\0';
        *p = nl ? nl + 1 : end;
        return line;
}

/* Each name of "a=1&b&c=3", decoded, through the route's parameter check. */
static void check_query(enum route_id id, char *query)
{
        struct query_check qc;
        char message[512], *save = NULL;

        query_check_init(&qc, id);
        for (char *pair = strtok_r(query, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(pair, '=');

                if (eq) {
                        *eq = '\0';
                        url_unescape(eq + 1);
                }
                url_unescape(pair);
                if (!query_check_add(&qc, pair, eq ? eq + 1 : NULL))
                        break;
        }
        query_check_message(&qc, message, sizeof(message));
        if (qc.verdict != QUERY_OK && strlen(message) == 0)
                abort();
}

static void route(char *request_line)
{
        char *space = strchr(request_line, ' ');
        const char *path = space ? space + 1 : "/";
        struct route_match m;
        struct rsap_buf b = { 0 };
        char allow[64], takes[128];
        char *copy, *query;

        if (space)
                *space = '\0';
        copy = strdup(path);
        if (!copy)
                abort();
        query = strchr(copy, '?');
        if (query)
                *query++ = '\0';
        router_match(http_method_parse(request_line), copy, &m);
        url_unescape(copy);
        (void)utf8_valid(copy);
        if (query)
                check_query(m.id, query);
        route_query_text(m.id, takes, sizeof(takes));
        http_allow_text(m.allowed, allow, sizeof(allow));
        (void)route_template(m.id);
        (void)route_is_api(m.id);
        for (size_t i = 0; i < m.n_params; i++) {
                html_printf(&b, "<a href=\"/port/%s\">%s</a>", m.params[i], m.params[i]);
                url_segment(&b, m.params[i]);
        }
        html_escape(&b, copy);
        rsap_buf_free(&b);
        free(copy);
}

static void header(const char *value)
{
        const char *token;
        size_t len;

        if (decode_bearer(value, &token, &len) == 0 && len > 0)
                (void)token[len - 1];
        (void)decode_token68(value);
        (void)content_type_is_json(value);
}

static void body(const uint8_t *p, size_t len)
{
        char err[256], decode_err[DECODE_ERR_SIZE];
        struct decoded_request dr;
        struct decoded_decision dd;
        struct decoded_end de;
        struct decoded_transfer dt;
        struct decoded_lease dl;
        json_t *o = decode_json_object((const char *)p, len, err, sizeof(err));

        if (!o)
                return;
        (void)decode_request(o, &dr, decode_err);
        (void)decode_decision(o, false, &dd, decode_err);
        (void)decode_decision(o, true, &dd, decode_err);
        (void)decode_end(o, false, &de, decode_err);
        (void)decode_end(o, true, &de, decode_err);
        (void)decode_transfer(o, &dt, decode_err);
        (void)decode_lease(o, &dl, decode_err);
        json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data, *end = data + size;
        char *request_line = take_line(&p, end);
        char *header_value = take_line(&p, end);

        route(request_line);
        header(header_value);
        body(p, (size_t)(end - p));
        free(request_line);
        free(header_value);
        return 0;
}

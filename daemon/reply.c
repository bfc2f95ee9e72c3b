/* SPDX-License-Identifier: MIT */
/* Building replies: JSON dumped exactly as the CLI prints it, and errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/error.h>
#include <rsap/json.h>
#include <rsap/json_write.h>

#include "rsapd.h"

/*
 * cli_print_json() writes json_dumpf(value, RSAP_JSON_DUMP_FLAGS) and then a
 * newline; the API's body is those same bytes, so `curl URL` and
 * `rsap ... --json` can be compared with cmp (tests/daemon do).
 * rsap_json_write() writes them faster than jansson does.
 */
char *json_dump_like_cli(json_t *value, size_t *len)
{
        struct rsap_buf b = { 0 };

        if (rsap_json_write(&b, value) < 0) {
                rsap_buf_free(&b);
                return NULL;
        }
        rsap_buf_putc(&b, '\n');
        return rsap_buf_steal(&b, len);
}

void reply_take_buf(struct reply *r, unsigned status, const char *content_type, struct rsap_buf *b)
{
        size_t len;
        char *body = rsap_buf_steal(b, &len);

        free(r->body);
        if (!body) {
                *r = (struct reply){ .status = 500, .content_type = "text/plain; charset=utf-8" };
                r->body = strdup("out of memory\n");
                r->len = r->body ? strlen(r->body) : 0;
                return;
        }
        r->status = status;
        r->body = body;
        r->len = len;
        r->content_type = content_type;
}

void reply_redirect(struct reply *r, const char *location)
{
        struct rsap_buf b = { 0 };

        rsap_buf_printf(&b, "See %s\n", location);
        reply_take_buf(r, 303, "text/plain; charset=utf-8", &b);
        snprintf(r->location, sizeof(r->location), "%s", location);
}

void reply_json(struct reply *r, unsigned status, json_t *value)
{
        size_t len;
        char *body = json_dump_like_cli(value, &len);

        json_decref(value);
        if (!body) {
                reply_error(r, 500, "out of memory");
                return;
        }
        free(r->body);
        r->status = status;
        r->body = body;
        r->len = len;
        r->content_type = "application/json";
}

static void reply_error_json(struct reply *r, unsigned status, const char *message)
{
        json_t *o = rsap_error_to_json(status, message); /* as rsap --json prints it */
        size_t len;
        char *body = json_dump_like_cli(o, &len);

        json_decref(o);
        free(r->body);
        r->status = status;
        r->content_type = "application/json";
        if (!body) {
                /* Even out of memory, the client hears the status. */
                static const char fallback[] = "{\"error\": {\"status\": 500, \"message\": \"out of memory\"}}\n";

                r->status = 500;
                body = strdup(fallback);
        }
        r->body = body;
        r->len = body ? strlen(body) : 0;
}

void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        reply_error_json(r, status, message);
}

static const char *status_title(unsigned status)
{
        switch (status) {
        case 400: return "Bad request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not found";
        case 405: return "Method not allowed";
        case 408: return "Request timeout";
        case 413: return "Request too large";
        case 415: return "Unsupported media type";
        case 503: return "Unavailable";
        default: return status >= 500 ? "Server error" : "Error";
        }
}

void reply_error_for(struct reply *r, const char *path, unsigned status, const char *message)
{
        struct rsap_buf b = { 0 };

        if (path_is_api(path) || !path || path[0] != '/') {
                reply_error_json(r, status, message);
                return;
        }
        html_page_start(&b, status_title(status));
        html_printf(&b, "<h1>%s</h1>\n<p>%s</p>\n<p><a href=\"/\">Search ports and services</a></p>\n",
                    status_title(status), message);
        html_page_end(&b, NULL, NULL);
        reply_take_buf(r, status, "text/html; charset=utf-8", &b);
        r->page = true;
}

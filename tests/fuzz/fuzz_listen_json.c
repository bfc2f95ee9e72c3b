/* SPDX-License-Identifier: MIT */
/*
 * rsap_listen_list_from_json: a listener list in JSON is what another host
 * reports, so outside data.  Whatever decodes must come back byte for byte:
 * written again (as an array, or as a report when it came as one), decoded
 * again and written again, the two writings are the same bytes, and the two
 * lists are equal.  A refusal must say why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The list as it came: a report object, or the array. */
static char *write_list(const struct rsap_listen_list *list, bool report)
{
        json_t *value = report ? rsap_listen_report_to_json(list)
                               : rsap_listen_list_to_json(list, NULL, NULL);
        char *text = value ? json_dumps(value, RSAP_JSON_DUMP_FLAGS) : NULL;

        json_decref(value);
        if (!text)
                abort();
        return text;
}

static struct rsap_listen_list *read_list(const char *text)
{
        json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        struct rsap_listen_list *list = NULL;
        char reason[256];

        if (!value || rsap_listen_list_from_json(value, &list, reason, sizeof(reason)) != 0)
                abort(); /* what we wrote ourselves must decode */
        json_decref(value);
        return list;
}

static void check_round_trip(const struct rsap_listen_list *first, bool report)
{
        char *once = write_list(first, report);
        struct rsap_listen_list *second = read_list(once);
        char *twice = write_list(second, report);

        if (strcmp(once, twice) != 0 || !rsap_listen_list_equal(first, second))
                abort();
        free(once);
        free(twice);
        rsap_listen_list_free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *value = json_loadb((const char *)data, size,
                                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        struct rsap_listen_list *list = NULL;
        char reason[256] = "";
        int r;

        if (!value)
                return 0;
        r = rsap_listen_list_from_json(value, &list, reason, sizeof(reason));
        if (r == -EBADMSG && (!reason[0] || strchr(reason, '\n')))
                abort(); /* a refusal gives one line */
        if (r == 0)
                check_round_trip(list, json_is_object(value));
        else if (r != -EBADMSG && r != -ENOMEM)
                abort();
        rsap_listen_list_free(list);
        json_decref(value);
        return 0;
}

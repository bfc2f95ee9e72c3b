/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "snapshot_format.h"

enum rsap_status rsap_status_derive(const char *service, const char *description,
                                    size_t n_people)
{
        if (service && *service)
                return RSAP_STATUS_ASSIGNED;
        if (description) {
                if (strncasecmp(description, "reserved", 8) == 0)
                        return RSAP_STATUS_RESERVED;
                if (strcasestr(description, "unassigned"))
                        return RSAP_STATUS_UNASSIGNED;
        }
        /* "any private mail system" is held by someone; "De-registered" is not. */
        return n_people > 0 ? RSAP_STATUS_ASSIGNED : RSAP_STATUS_UNASSIGNED;
}

const char *rsap_status_name(enum rsap_status status)
{
        switch (status) {
        case RSAP_STATUS_ASSIGNED:
                return "assigned";
        case RSAP_STATUS_RESERVED:
                return "reserved";
        case RSAP_STATUS_UNASSIGNED:
                return "unassigned";
        }
        return "unassigned";
}

const char *rsap_source_name(enum rsap_source source)
{
        switch (source) {
        case RSAP_SOURCE_BUILTIN:
                return "built-in";
        case RSAP_SOURCE_IANA_XML:
                return "iana-xml";
        case RSAP_SOURCE_IANA_CSV:
                return "iana-csv";
        }
        return "unknown";
}

const char *rsap_ref_type_name(enum rsap_ref_type type)
{
        static const char *const names[] = {
                [RSAP_REF_RFC] = "rfc",   [RSAP_REF_DRAFT] = "draft", [RSAP_REF_URI] = "uri",
                [RSAP_REF_TEXT] = "text", [RSAP_REF_NOTE] = "note",
        };

        if ((unsigned)type >= ARRAY_SIZE(names))
                return "text";
        return names[type];
}

uint32_t rsap_fnv1a(const void *data, size_t size)
{
        const unsigned char *p = data;
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < size; i++)
                h = (h ^ p[i]) * 16777619u;
        return h;
}

/*
 * IANA marks a historic name with a note such as 'This entry is an alias to
 * "sql-net".'; the quoted name is the well-formed replacement.
 */
int rsap_record_replacement(const struct rsap_record *r, char *buf, size_t size)
{
        static const char marker[] = "alias to \"";
        const char *start, *end;
        size_t len;

        if (!r->notes)
                return -ENOENT;
        start = strcasestr(r->notes, marker);
        if (!start)
                return -ENOENT;
        start += sizeof(marker) - 1;
        end = strchr(start, '"');
        if (!end)
                return -ENOENT;
        len = (size_t)(end - start);
        if (len == 0 || len >= size)
                return -ENOENT;
        memcpy(buf, start, len);
        buf[len] = '\0';
        return 0;
}

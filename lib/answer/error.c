/* SPDX-License-Identifier: MIT */
/* The error answers that rsap --json and rsapd's API share (rsap/error.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rsap/error.h>
#include <rsap/port.h>

void rsap_port_error_message(const char *text, int err, char *buf, size_t size)
{
        const char *slash = strchr(text, '/');
        enum rsap_proto proto;

        if (err == -ERANGE)
                snprintf(buf, size, "'%s': a port is a number from 0 to 65535", text);
        else if (slash && rsap_text_is_numeric(text) && rsap_proto_parse(slash + 1, &proto) < 0)
                snprintf(buf, size, "'%s': unknown protocol '%s' (tcp, udp, sctp or dccp)", text,
                         slash + 1);
        else
                snprintf(buf, size,
                         "'%s' is not a port (0-65535, optionally /tcp, /udp, /sctp or /dccp)",
                         text);
}

void rsap_bad_name_message(const char *name, enum rsap_name_problem problem, char *buf,
                           size_t size)
{
        snprintf(buf, size, "'%s' is neither a port nor a service name: %s", name,
                 rsap_name_problem_text(problem));
}

void rsap_no_service_message(const char *name, enum rsap_name_problem problem, char *buf,
                             size_t size)
{
        if (problem == RSAP_NAME_OK)
                snprintf(buf, size, "no service named '%s'", name);
        else
                snprintf(buf, size, "no service named '%s': %s", name,
                         rsap_name_problem_text(problem));
}

static const struct {
        int err;
        const char *text;
} domain_errors[] = {
        { EBADMSG, "corrupt, truncated or not what rsap writes" },
        { EPROTONOSUPPORT, "written by another version of rsap" },
        { EMEDIUMTYPE, "tables but no schema version: not a registry rsap made, or damaged" },
        { ESTALE, "an older schema, which a registration command upgrades" },
        { ENOTRECOVERABLE, "the database's integrity rules refused the change (history is "
                           "append-only and nothing is deleted): a bug in rsap, or a database "
                           "changed behind its back; nothing was changed" },
        { EBUSY, "locked by another process past the busy timeout" },
        { ENOSPC, "the disk is full" },
        { EALREADY, "the request was already decided" },
        { EADDRNOTAVAIL, "no free port where one was asked for" },
        { ENOTUNIQ, "the target names more than one service" },
        { EILSEQ, "a field holds a control character or a byte that is not UTF-8" },
        { ENOSYS, "this rsap has no backend for that scheme yet" },
        { EPFNOSUPPORT, "not a store rsap can open: a file path, sqlite:PATH or "
                        "postgresql://..." },
};

const char *rsap_strerror(int err)
{
        int code = err < 0 ? -err : err;

        for (size_t i = 0; i < sizeof(domain_errors) / sizeof(domain_errors[0]); i++)
                if (domain_errors[i].err == code)
                        return domain_errors[i].text;
        return strerror(code);
}

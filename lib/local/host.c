/* SPDX-License-Identifier: MIT */
/*
 * The host a store speaks for.  A registry may be shared by several hosts
 * (a PostgreSQL backend, later); each lease holder and each event says which
 * host it is of, since a pid is only meaningful on its own host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <rsap/store.h>
#include <rsap/textsafe.h>

static int copy_host(const char *name, char *buf, size_t size)
{
        size_t len = strlen(name);

        if (len == 0 || len > RSAP_HOST_NAME_MAX || rsap_text_first_control(name, false) >= 0)
                return -EINVAL;
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(buf, name, len + 1);
        return 0;
}

int rsap_host_name(char *buf, size_t size)
{
        const char *forced = getenv("RSAP_HOST");
        struct utsname uts;

        if (forced && *forced)
                return copy_host(forced, buf, size);
        if (uname(&uts) < 0)
                return -errno;
        return copy_host(uts.nodename, buf, size);
}

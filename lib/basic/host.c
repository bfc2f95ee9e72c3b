/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <rsap/host.h>

/* HOST_NAME_MAX is 64; a longer $RSAP_HOST (an FQDN) is cut at 255 bytes. */
static char host_name[256];
static pthread_once_t host_name_once = PTHREAD_ONCE_INIT;

static void read_host_name(void)
{
        const char *env = getenv("RSAP_HOST");
        struct utsname u;

        if (env && *env)
                snprintf(host_name, sizeof(host_name), "%s", env);
        else if (uname(&u) == 0 && u.nodename[0])
                snprintf(host_name, sizeof(host_name), "%s", u.nodename);
        else
                snprintf(host_name, sizeof(host_name), "localhost");
        /* Every byte printable ASCII: the name goes into JSON, which must be
         * UTF-8, and onto terminals, and sethostname() takes any bytes. */
        for (char *p = host_name; *p; p++)
                if (*p < '!' || *p > '~')
                        *p = '?';
}

const char *rsap_host_name(void)
{
        /* Once: a list's sockets point at this name, which must not change
         * under them when the environment does. */
        pthread_once(&host_name_once, read_host_name);
        return host_name;
}

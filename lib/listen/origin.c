/* SPDX-License-Identifier: MIT */
/*
 * Where this process sees sockets: its host's name and its network
 * namespace.  sock_diag and /proc/net both answer for the namespace of the
 * process that asks, so that is the namespace of everything it collects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <rsap/basic.h>
#include <rsap/host.h>
#include <rsap/listen.h>

#include "listen_internal.h"

/* Where `ip netns add NAME` bind-mounts a namespace, as NAME. */
#define NETNS_RUN_DIR "/run/netns"

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* The entry of /run/netns that is the namespace ns (device and inode), or
 * NULL: an unmounted entry is a plain file on another device. */
int rsap_listen_netns_name(struct rsap_listen_list *list, const struct stat *ns, const char **out)
{
        _cleanup_(closedirp) DIR *dir = opendir(NETNS_RUN_DIR);
        struct dirent *e;
        struct stat st;

        *out = NULL;
        if (!dir)
                return 0;
        while ((e = readdir(dir))) {
                if (e->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(dir), e->d_name, &st, 0) == 0 && st.st_dev == ns->st_dev &&
                    st.st_ino == ns->st_ino)
                        return rsap_listen_keep_string(list, e->d_name, out);
        }
        return 0;
}

int rsap_listen_origin_here(struct rsap_listen_list *list, struct rsap_listen_origin *out)
{
        struct stat ns;

        *out = (struct rsap_listen_origin){ .host = rsap_host_name() };
        if (stat("/proc/self/ns/net", &ns) < 0)
                return 0; /* no /proc: the namespace stays unknown */
        out->netns_inode = (uint64_t)ns.st_ino;
        return rsap_listen_netns_name(list, &ns, &out->netns_name);
}

/* SPDX-License-Identifier: MIT */
/*
 * rsap's helpers (rsap-update, the SQLite module): beside rsap itself, which
 * is how a build tree holds them, or else in libexecdir, where an installed
 * rsap finds them.  An installed /usr/bin/rsap has nothing beside it; only
 * who may write rsap's own directory could put a helper there.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"

int cli_libexec_path(const char *name, int access_mode, char *buf, size_t size)
{
        char self[PATH_MAX - 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;

        if (n > 0) {
                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        if (snprintf(buf, size, "%s/%s", self, name) < (int)size &&
                            access(buf, access_mode) == 0)
                                return 0;
                }
        }
        if (snprintf(buf, size, "%s/%s", RSAP_LIBEXECDIR, name) >= (int)size)
                return -ENAMETOOLONG;
        return access(buf, access_mode) == 0 ? 0 : -ENOENT;
}

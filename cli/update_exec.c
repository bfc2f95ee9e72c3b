/* SPDX-License-Identifier: MIT */
/*
 * `rsap update` is the one command that needs libcurl, libxml2 and (through
 * libxml2) ICU, whose loading would triple the start-up time of every lookup.
 * Like git's remote helpers it lives in its own program, rsap-update, which
 * rsap runs in its place: beside rsap itself (a build tree) or in libexecdir.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"

static int helper_path(char *buf, size_t size)
{
        char self[PATH_MAX - 16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;

        if (n > 0) {
                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        if (snprintf(buf, size, "%s/rsap-update", self) < (int)size &&
                            access(buf, X_OK) == 0)
                                return 0;
                }
        }
        snprintf(buf, size, "%s/rsap-update", RSAP_LIBEXECDIR);
        return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

int cmd_update_exec(struct cli *cli, int argc, char **argv)
{
        char path[PATH_MAX];

        if (helper_path(path, sizeof(path)) < 0)
                return cli_error("cannot find rsap-update in %s: is rsap installed whole?",
                                 RSAP_LIBEXECDIR);
        fflush(stdout);
        execv(path, argv);
        return cli_error_code(-errno, "cannot run %s", path);
}

/* SPDX-License-Identifier: MIT */
/*
 * `rsap update` is the one command that needs libcurl, libxml2 and (through
 * libxml2) ICU, whose loading would triple the start-up time of every lookup.
 * Like git's remote helpers it lives in its own program, rsap-update, which
 * rsap runs in its place: beside rsap itself (a build tree) or in libexecdir.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"

int cmd_update_exec(struct cli *cli, int argc, char **argv)
{
        char path[PATH_MAX];

        if (cli_libexec_path("rsap-update", X_OK, path, sizeof(path)) < 0)
                return cli_error("cannot find rsap-update in %s: is rsap installed whole?",
                                 RSAP_LIBEXECDIR);
        fflush(stdout);
        execv(path, argv);
        return cli_error_code(-errno, "cannot run %s", path);
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* One function per subcommand, one file each (cli/cmd_NAME.c). */
int cmd_explain(struct cli *cli, int argc, char **argv);
int cmd_search(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_ranges(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_listening(struct cli *cli, int argc, char **argv);
int cmd_who(struct cli *cli, int argc, char **argv);
int cmd_request(struct cli *cli, int argc, char **argv);
int cmd_review(struct cli *cli, int argc, char **argv);
int cmd_requests(struct cli *cli, int argc, char **argv);
int cmd_approve(struct cli *cli, int argc, char **argv);
int cmd_reject(struct cli *cli, int argc, char **argv);
int cmd_deassign(struct cli *cli, int argc, char **argv);
int cmd_transfer(struct cli *cli, int argc, char **argv);
int cmd_revoke(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_pick(struct cli *cli, int argc, char **argv);
int cmd_lease(struct cli *cli, int argc, char **argv);
int cmd_release(struct cli *cli, int argc, char **argv);
int cmd_kernel_reserve(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_db(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_help(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

/* `rsap update` runs in its own program, rsap-update, so that rsap itself
 * never loads libcurl, libxml2 and ICU; this execs it. */
int cmd_update_exec(struct cli *cli, int argc, char **argv);

/* The helper NAME beside rsap (a build tree) or in libexecdir, usable with
 * access(2)'s mode: 0 with its path in buf, else -ENOENT. */
int cli_libexec_path(const char *name, int access_mode, char *buf, size_t size);

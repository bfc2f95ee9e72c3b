/* SPDX-License-Identifier: MIT */
/*
 * Listening intervals as text: the timeline of `rsap history PORT
 * --listening` and the past listings of `rsap listening --at/--since`; and
 * the squatter findings of that timeline and of `rsap audit --findings`.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <rsap/findings.h>
#include <rsap/listen_history.h>
#include <rsap/time.h>

#include "render.h"

/* "127.0.0.1:5432", "[::]:5432". */
static void endpoint(const struct rsap_interval *iv, char *buf, size_t size)
{
        bool v6 = strchr(iv->address, ':') != NULL;

        snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", iv->address, v6 ? "]" : "",
                 (unsigned)iv->port);
}

/* The user's name, else the uid in decimal. */
static void user_name(uid_t uid, char *buf, size_t size)
{
        char scratch[4096];
        struct passwd pw, *found = NULL;

        if (getpwuid_r(uid, &pw, scratch, sizeof(scratch), &found) == 0 && found)
                snprintf(buf, size, "%s", render_safe(pw.pw_name));
        else
                snprintf(buf, size, "%lu", (unsigned long)uid);
}

/* "postgres[812] postgres", "(not visible) 118", "postgres root, 35 times". */
static void process(const struct rsap_interval *iv, char *buf, size_t size)
{
        char user[64], pid[24] = "";

        user_name(iv->uid, user, sizeof(user));
        if (iv->pid > 0)
                snprintf(pid, sizeof(pid), "[%ld]", (long)iv->pid);
        /* command and exe are stored escaped already: printed as they are. */
        snprintf(buf, size, "%s%s %s", iv->command ? iv->command : "(not visible)", pid, user);
        if (iv->count > 1)
                snprintf(buf + strlen(buf), size - strlen(buf), ", %lld times",
                         (long long)iv->count);
}

static void print_interval(const struct cli *cli, const struct rsap_interval *iv)
{
        char started[RSAP_TIME_SIZE], ended[RSAP_TIME_SIZE] = "-", where[80], who[400];
        const char *how = iv->end == RSAP_INTERVAL_OPEN ? "listening"
                          : iv->end == RSAP_INTERVAL_UNKNOWN ? "unknown" : "stopped";

        rsap_time_format(iv->started_us, started, sizeof(started));
        if (iv->end != RSAP_INTERVAL_OPEN)
                rsap_time_format(iv->ended_us, ended, sizeof(ended));
        endpoint(iv, where, sizeof(where));
        process(iv, who, sizeof(who));
        printf("%s%-24s%s  %-24s  %-9s  %-5s  %-22s  %s%s%s\n", cli_dim(cli), started,
               cli_reset(cli), ended, how, rsap_proto_name(iv->proto), where, who,
               iv->exe ? "  " : "", iv->exe ? iv->exe : "");
}

int render_intervals(const struct cli *cli, const struct rsap_interval_list *list)
{
        printf("%s%-24s  %-24s  %-9s  %-5s  %-22s  %s%s\n", cli_bold(cli), "STARTED", "ENDED",
               "END", "PROTO", "ADDRESS:PORT", "PROCESS", cli_reset(cli));
        for (size_t i = 0; i < list->n; i++)
                print_interval(cli, &list->items[i]);
        return fflush(stdout) == 0 ? 0 : -EIO;
}

static void render_finding(const struct cli *cli, const struct rsap_listen_finding *f)
{
        char found[RSAP_TIME_SIZE], resolved[RSAP_TIME_SIZE] = "open";

        rsap_time_format(f->found_us, found, sizeof(found));
        if (f->resolved_us)
                rsap_time_format(f->resolved_us, resolved, sizeof(resolved));
        printf("%s%-17s%s %u/%s  %s  %s  %s  until %s\n", cli_yellow(cli),
               rsap_squat_kind_name(f->kind), cli_reset(cli), f->port, rsap_proto_name(f->proto),
               render_safe(f->address), f->service ? render_safe(f->service) : "-", found,
               resolved);
}

int render_findings(const struct cli *cli, const struct rsap_listen_finding *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                render_finding(cli, &list[i]);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

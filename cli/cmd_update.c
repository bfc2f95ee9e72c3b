/* SPDX-License-Identifier: MIT */
/* rsap update [--from URL|FILE] [--timeout S] [--allow-any-date]: fetch, check, then replace the cached registry. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/json.h>
#include <rsap/update.h>

#include "builtin.h"

static void show_progress(void *userdata, uint64_t done, uint64_t total)
{
        if (total)
                fprintf(stderr, "\rrsap: fetching %3u%% of %.1f MiB",
                        (unsigned)(done * 100 / total), (double)total / (1 << 20));
        else
                fprintf(stderr, "\rrsap: fetching %.1f MiB", (double)done / (1 << 20));
}

static int report(const struct cli *cli, const struct rsap_update_result *res)
{
        if (cli->json) {
                json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:s}",
                                      "kind", "update",
                                      "format", rsap_format_name(res->format),
                                      "bytes", (json_int_t)res->bytes,
                                      "records", (json_int_t)res->records,
                                      "release", res->release[0] ? json_string(res->release)
                                                                 : json_null(),
                                      "path", res->path);

                return cli_print_json(o) ? EXIT_BAD_INPUT : EXIT_ANSWERED;
        }
        printf("IANA registry %s: %zu records from %s (%zu bytes)\ncached in %s\n",
               res->release[0] ? res->release : "(no release date)", res->records,
               rsap_format_name(res->format), res->bytes, res->path);
        return EXIT_ANSWERED;
}

static int parse_timeout(const char *text, unsigned *out)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-' || v < 1 || v > 86400)
                return -EINVAL;
        *out = (unsigned)v;
        return 0;
}

/* --from URL|FILE, --timeout SECONDS, --allow-any-date */
static int update_option(const struct cli_command *self, int opt, void *data)
{
        struct rsap_update_options *opts = data;

        switch (opt) {
        case 'f':
                if (!*optarg)
                        return cli_usage_error(self, "--from needs a URL or a file");
                opts->from = optarg;
                return -1;
        case 't':
                if (parse_timeout(optarg, &opts->timeout_s) < 0)
                        return cli_usage_error(self, "--timeout takes whole seconds, 1 to 86400");
                return -1;
        case 'A':
                opts->allow_any_date = true;
                return -1;
        }
        return -2;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("update");
        struct rsap_update_options opts = { 0 };
        struct rsap_update_result res;
        struct rsap_import_error err;
        bool progress;
        int r;

        r = cli_getopt(cli, self, argc, argv, update_option, &opts);
        if (r >= 0)
                return r;
        if (optind != argc)
                return cli_usage_error(self, "no arguments expected");
        opts.data_dir = cli->db_dir;
        progress = isatty(STDERR_FILENO) && !cli->json;
        if (progress)
                opts.progress = show_progress;
        r = rsap_update(&opts, &res, &err);
        if (progress)
                fputs("\r\033[K", stderr);
        /* The message names the line itself when there is one. */
        if (r < 0)
                return cli_error("update failed, cached data unchanged: %s", err.message);
        return report(cli, &res);
}

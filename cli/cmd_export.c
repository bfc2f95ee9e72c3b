/* SPDX-License-Identifier: MIT */
/*
 * rsap export --format services|csv|json: the registry for other tools.
 * With --local, the local registry's active assignments instead, which
 * rsap import reads on another host.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rsap/fileio.h>
#include <rsap/export.h>

#include "builtin.h"
#include "registry.h"

/* IANA's registry, or the local one (--local; store NULL when it has none). */
struct export_source {
        const struct rsap_iana *reg;
        struct rsap_store *store;
        struct registry_cli *rc;
        bool local;
};

/* A failure of the local registry names its file; the rest are the output's. */
static int export_error(const struct export_source *src, int err, const char *output)
{
        if (src->local && err != -EIO && err != -ENOSPC)
                return registry_error(src->rc, err, "cannot export the local registry");
        return cli_error_code(err, "cannot write %s", output);
}

static int write_export(const struct export_source *src, enum rsap_export_format format,
                        FILE *out)
{
        if (src->local)
                return rsap_local_export(src->store, format, out);
        return rsap_export(src->reg, format, out);
}

/*
 * Writes beside FILE under an unguessable name (O_EXCL|O_NOFOLLOW: a planted
 * symlink is never written through), then renames: a failed export leaves no
 * half file and the old FILE stands.
 */
static int export_to_file(const struct export_source *src, enum rsap_export_format format,
                          const char *path)
{
        struct rsap_newfile nf;
        int fd, r;
        FILE *f;

        r = rsap_newfile_open(&nf, path, 0644);
        if (r < 0)
                return cli_error_code(r, "cannot write %s", path);
        fd = dup(nf.fd);
        f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!f) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                rsap_newfile_abort(&nf);
                return cli_error_code(r, "cannot write %s", path);
        }
        r = write_export(src, format, f);
        if (fclose(f) != 0 && r == 0)
                r = -EIO;
        if (r == 0)
                r = rsap_newfile_commit(&nf);
        if (r < 0) {
                rsap_newfile_abort(&nf);
                return export_error(src, r, path);
        }
        return EXIT_ANSWERED;
}

struct export_args {
        enum rsap_export_format format;
        bool have_format;
        const char *output;
        bool *local;
};

/* --format F, --output FILE, --local (--db comes with registry_getopt) */
static int export_option(const struct cli_command *self, int opt, void *data)
{
        struct export_args *a = data;

        switch (opt) {
        case 'f':
                if (rsap_export_format_parse(optarg, &a->format) < 0)
                        return cli_usage_error(self, "unknown format '%s' (services, csv or json)",
                                               optarg);
                a->have_format = true;
                return -1;
        case 'o':
                a->output = optarg;
                return -1;
        case 'l':
                *a->local = true;
                return -1;
        }
        return -2;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("export");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct registry_cli rc = { 0 };
        struct export_source src = { .rc = &rc };
        struct export_args a = { .format = RSAP_EXPORT_JSON, .local = &src.local };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, export_option, &a);
        if (r >= 0)
                return r;
        if (cli->json && a.have_format && a.format != RSAP_EXPORT_JSON)
                return cli_usage_error(self, "--json writes JSON: drop it or --format");
        if (!a.have_format && !cli->json)
                return cli_usage_error(self, "which format? --format services, csv or json");
        if (optind != argc)
                return cli_usage_error(self, "no arguments expected");
        if (rc.db && !src.local)
                return cli_usage_error(self, "--db goes with --local");
        if (src.local) {
                r = registry_open_read(cli, &rc, &store);
                if (r)
                        return r;
                src.store = store;
        } else {
                reg = cli_open_registry(cli);
                if (!reg)
                        return EXIT_BAD_INPUT;
                src.reg = reg;
        }
        if (a.output)
                return export_to_file(&src, a.format, a.output);
        r = write_export(&src, a.format, stdout);
        if (r < 0)
                return export_error(&src, r, "the export");
        return EXIT_ANSWERED;
}

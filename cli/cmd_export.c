/* SPDX-License-Identifier: MIT */
/*
 * rsap export --format services|csv|json: the registry for other tools.
 * With --local, the local registry's active assignments instead, which
 * rsap import reads on another host.  --format systemd|nft|firewalld|srv:
 * configurations made from the local registry's assignments.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rsap/fileio.h>
#include <rsap/export.h>
#include <rsap/name.h>

#include "builtin.h"
#include "registry.h"

/* IANA's registry, or the local one (--local; store NULL when it has none). */
struct export_source {
        const struct rsap_iana *reg;
        struct rsap_store *store;
        struct registry_cli *rc;
        bool local;
        enum rsap_export_format format;
        struct rsap_config_export config; /* the configurations' options and counts */
};

/* A failure of the local registry names its file; the rest are the output's. */
static int export_error(const struct export_source *src, int err, const char *output)
{
        if (src->local && err != -EIO && err != -ENOSPC)
                return registry_error(src->rc, err, "cannot export the local registry");
        return cli_error_code(err, "cannot write %s", output);
}

static int write_export(struct export_source *src, FILE *out)
{
        if (rsap_export_format_is_config(src->format))
                return rsap_local_export_config(src->store, src->format, &src->config, out);
        if (src->local)
                return rsap_local_export(src->store, src->format, out);
        return rsap_export(src->reg, src->format, out);
}

/* What a configuration left out, on stderr; exit status 1 when --service has no assignment. */
static int config_outcome(const struct export_source *src)
{
        const struct rsap_config_export *c = &src->config;

        if (!rsap_export_format_is_config(src->format))
                return EXIT_ANSWERED;
        if (c->n_bad_name)
                fprintf(stderr, "rsap: warning: %zu assignment%s left out: service name not an "
                                "RFC 6335 label\n",
                        c->n_bad_name, c->n_bad_name == 1 ? "" : "s");
        if (c->n_unsupported)
                fprintf(stderr, "rsap: warning: %zu sctp/dccp assignment%s left out: "
                                "SocketBindAllow= knows tcp and udp only\n",
                        c->n_unsupported, c->n_unsupported == 1 ? "" : "s");
        if (c->service && c->n_written == 0)
                return registry_no_match("no active assignment of service '%s' in the local "
                                         "registry", c->service);
        return EXIT_ANSWERED;
}

/*
 * A device or a FIFO (/dev/full, a pipe's /dev/fd/N) is written in place:
 * renaming a new file over it would replace the device itself.
 */
static int export_to_device(struct export_source *src, const char *path)
{
        _cleanup_(fclosep) FILE *f = NULL;
        int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        int r;

        f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!f) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return cli_error_code(r, "cannot write %s", path);
        }
        r = write_export(src, f);
        if (r == 0 && fclose(TAKE_PTR(f)) != 0)
                r = errno == ENOSPC ? -ENOSPC : -EIO;
        if (r < 0)
                return export_error(src, r, path);
        return config_outcome(src);
}

/*
 * Writes beside FILE under an unguessable name (O_EXCL|O_NOFOLLOW: a planted
 * symlink is never written through), then renames: a failed export leaves no
 * half file and the old FILE stands.
 */
static int export_to_file(struct export_source *src, const char *path)
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
        r = write_export(src, f);
        if (fclose(f) != 0 && r == 0)
                r = errno == ENOSPC ? -ENOSPC : -EIO;
        if (r == 0 && src->config.service && src->config.n_written == 0) {
                rsap_newfile_abort(&nf); /* nothing to say: FILE stays as it was */
                return config_outcome(src);
        }
        if (r == 0)
                r = rsap_newfile_commit(&nf);
        if (r < 0) {
                rsap_newfile_abort(&nf);
                return export_error(src, r, path);
        }
        return config_outcome(src);
}

/* Whether st is what only a device, a FIFO or a socket is: nothing rename() may replace. */
static bool is_special(const struct stat *st)
{
        return !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode);
}

/*
 * --output FILE: a new file renamed over FILE; a device or FIFO that FILE
 * names itself, written in place.  A link to one is refused rather than
 * followed (it may have been planted) or replaced (/dev/stdout would be).
 */
static int export_to_output(struct export_source *src, const char *path)
{
        struct stat link, target;

        if (lstat(path, &link) < 0)
                return export_to_file(src, path); /* a new file, or the error it meets */
        if (is_special(&link))
                return export_to_device(src, path);
        if (S_ISLNK(link.st_mode) && stat(path, &target) == 0 && is_special(&target))
                return cli_error("cannot write %s: a symbolic link to a device or FIFO: name "
                                 "the device itself, or write to standard output", path);
        return export_to_file(src, path);
}

struct export_args {
        enum rsap_export_format format;
        bool have_format;
        const char *output;
        bool *local;
        struct rsap_config_export *config;
};

/* The configurations' own options: --service NAME, --unit UNIT, --domain D, --target HOST. */
static int config_option(int opt, struct rsap_config_export *c)
{
        switch (opt) {
        case 's':
                c->service = optarg;
                return -1;
        case 'u':
                c->unit = optarg;
                return -1;
        case 'm':
                c->domain = optarg;
                return -1;
        case 't':
                c->target = optarg;
                return -1;
        }
        return -2;
}

/* --format F, --output FILE, --local (--db comes with registry_getopt) */
static int export_option(const struct cli_command *self, int opt, void *data)
{
        struct export_args *a = data;

        switch (opt) {
        case 'f':
                if (rsap_export_format_parse(optarg, &a->format) < 0)
                        return cli_usage_error(self, "unknown format '%s' (services, csv, json, "
                                               "systemd, nft, firewalld or srv)", optarg);
                a->have_format = true;
                return -1;
        case 'o':
                a->output = optarg;
                return -1;
        case 'l':
                *a->local = true;
                return -1;
        }
        return config_option(opt, a->config);
}

/* Each option with the formats it belongs to, and what those formats need. */
static int check_config_options(const struct cli_command *self, enum rsap_export_format format,
                                const struct rsap_config_export *c)
{
        bool config = rsap_export_format_is_config(format), srv = format == RSAP_EXPORT_SRV;

        if (c->service && !config)
                return cli_usage_error(self, "--service goes with systemd, nft, firewalld or srv");
        if (c->unit && format != RSAP_EXPORT_SYSTEMD)
                return cli_usage_error(self, "--unit goes with --format systemd");
        if ((c->domain || c->target) && !srv)
                return cli_usage_error(self, "--domain and --target go with --format srv");
        if (!c->service && (format == RSAP_EXPORT_SYSTEMD || format == RSAP_EXPORT_FIREWALLD))
                return cli_usage_error(self, "which service? --service NAME");
        if (c->service && rsap_name_check(c->service) != RSAP_NAME_OK)
                return cli_usage_error(self, "--service '%s': not a service name (RFC 6335 "
                                       "section 5.1)", c->service);
        if (srv && (!c->domain || !c->target))
                return cli_usage_error(self, "--format srv needs --domain and --target");
        if (srv && !rsap_dns_name_check(c->domain, RSAP_SRV_DOMAIN_MAX))
                return cli_usage_error(self, "--domain '%s': not a DNS name (labels of letters, "
                                       "digits and inner hyphens, %d characters at most)",
                                       c->domain, RSAP_SRV_DOMAIN_MAX);
        if (srv && !rsap_dns_name_check(c->target, 253))
                return cli_usage_error(self, "--target '%s': not a DNS host name (labels of "
                                       "letters, digits and inner hyphens)", c->target);
        return -1;
}

/* IANA's registry, or the local one: --local and the configurations. */
static int open_source(struct cli *cli, struct export_source *src, struct rsap_iana **reg,
                       struct rsap_store **store)
{
        if (src->local) {
                int r = registry_open_read(cli, src->rc, store);

                src->store = *store;
                return r;
        }
        *reg = cli_open_registry(cli);
        if (!*reg)
                return EXIT_BAD_INPUT;
        src->reg = *reg;
        return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("export");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct registry_cli rc = { 0 };
        struct export_source src = { .rc = &rc };
        struct export_args a = { .format = RSAP_EXPORT_JSON, .local = &src.local,
                                 .config = &src.config };
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
        r = check_config_options(self, a.format, &src.config);
        if (r >= 0)
                return r;
        /* The configurations are made from the local registry alone. */
        src.local |= rsap_export_format_is_config(a.format);
        if (rc.db && !src.local)
                return cli_usage_error(self, "--db goes with --local");
        src.format = a.format;
        r = open_source(cli, &src, &reg, &store);
        if (r)
                return r;
        if (a.output)
                return export_to_output(&src, a.output);
        r = write_export(&src, stdout);
        if (r < 0)
                return export_error(&src, r, "the export");
        return config_outcome(&src);
}

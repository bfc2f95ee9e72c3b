/* SPDX-License-Identifier: MIT */
/*
 * rsap import FILE: another host's `rsap export --local` (JSON or CSV)
 * merged in one transaction.  A conflict is never overwritten: without
 * --skip-conflicts nothing is imported.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

/* An export is small: 50,000 assignments make some 20 MiB of JSON. */
#define MAX_IMPORT_SIZE (256u * 1024 * 1024)

static int read_file(const char *path, char **text_out, size_t *size_out)
{
        _cleanup_(fclosep) FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "re");
        FILE *in = strcmp(path, "-") == 0 ? stdin : f;
        size_t size = 0, capacity = 1 << 16;
        char *text = malloc(capacity), *grown;

        if (!in || !text) {
                int err = in ? -ENOMEM : -errno;

                free(text);
                return err;
        }
        for (;;) {
                size_t n = fread(text + size, 1, capacity - size, in);

                size += n;
                if (size < capacity)
                        break;
                if (capacity >= MAX_IMPORT_SIZE) {
                        free(text);
                        return -EFBIG;
                }
                capacity *= 2;
                grown = realloc(text, capacity);
                if (!grown) {
                        free(text);
                        return -ENOMEM;
                }
                text = grown;
        }
        if (ferror(in)) {
                free(text);
                return -EIO;
        }
        *text_out = text;
        *size_out = size;
        return 0;
}

static void report_conflicts(const struct rsap_import_result *r, const char *label)
{
        for (size_t i = 0; i < r->n_conflicts; i++)
                fprintf(stderr, "rsap: %s: %s\n", label, r->conflicts[i].message);
}

static int import(struct cli *cli, struct registry_cli *rc, const char *path, bool skip)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(freep) char *text = NULL;
        struct rsap_workflow wf = { 0 };
        struct rsap_import_result result;
        size_t size = 0;
        int r, status = EXIT_ANSWERED;

        r = read_file(path, &text, &size);
        if (r < 0)
                return cli_error_code(r, "cannot read %s", path);
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf.store = store;
        wf.actor = registry_actor(rc);
        r = rsap_local_import(&wf, text, size, path, skip, &result);
        if (r == -EBADMSG) {
                status = cli_error("%s is not an export of a local registry: %s", path,
                                   result.error);
                rsap_import_result_clear(&result);
                return status;
        }
        if (r == -EEXIST) {
                report_conflicts(&result, "conflict");
                fprintf(stderr, "rsap: nothing imported: %zu conflict%s (--skip-conflicts "
                                "imports the rest)\n",
                        result.n_conflicts, result.n_conflicts == 1 ? "" : "s");
                status = EXIT_REFUSED;
        } else if (r < 0) {
                rsap_import_result_clear(&result);
                return registry_error(rc, r, "cannot import");
        } else {
                report_conflicts(&result, "skipped");
        }
        if (cli->json && cli_print_json(rsap_import_result_to_json(&result)))
                status = EXIT_BAD_INPUT;
        else if (!cli->json && status == EXIT_ANSWERED)
                printf("imported %zu assignment%s, %zu already here, %zu skipped\n",
                       result.imported, result.imported == 1 ? "" : "s", result.unchanged,
                       result.n_conflicts);
        rsap_import_result_clear(&result);
        return status;
}

/* --skip-conflicts */
static int import_option(const struct cli_command *self, int opt, void *skip)
{
        if (opt != 's')
                return -2;
        *(bool *)skip = true;
        return -1;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("import");
        struct registry_cli rc = { 0 };
        bool skip = false;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, import_option, &skip);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "import which file?"
                                                            : "one file at a time");
        return import(cli, &rc, argv[optind], skip);
}

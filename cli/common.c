/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/error.h>
#include <rsap/json.h>
#include <rsap/paths.h>

#include "cli.h"

/* --json was given: a failure prints its error object on stdout too, unless
 * an answer is already there (which then says what failed itself). */
static bool json_errors;
static bool json_answered;

void cli_set_json_errors(bool on)
{
        json_errors = on;
}

void cli_scan_json(int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--json") == 0)
                        json_errors = true;
}

/* The error object on stdout, with the status the API sends for the same failure. */
static void print_error_object(int exit_status, const char *message)
{
        json_t *error;

        if (!json_errors || json_answered)
                return;
        error = rsap_error_to_json(rsap_error_status_for_exit(exit_status), message);
        if (error)
                cli_print_json(error);
}

/* "rsap: MESSAGE[: REASON][TAIL]" on one line; MESSAGE[: REASON] as JSON with --json. */
static int vmessage(int exit_status, const char *fmt, va_list ap, const char *reason,
                    const char *tail) __attribute__((format(printf, 2, 0)));

static int vmessage(int exit_status, const char *fmt, va_list ap, const char *reason,
                    const char *tail)
{
        char message[1024];
        size_t len;

        vsnprintf(message, sizeof(message), fmt, ap);
        len = strlen(message);
        if (reason)
                snprintf(message + len, sizeof(message) - len, ": %s", reason);
        fprintf(stderr, "rsap: %s%s\n", message, tail ? tail : "");
        print_error_object(exit_status, message);
        return exit_status;
}

int cli_vfail(int exit_status, const char *fmt, va_list ap)
{
        return vmessage(exit_status, fmt, ap, NULL, NULL);
}

int cli_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmessage(EXIT_BAD_INPUT, fmt, ap, NULL, NULL);
        va_end(ap);
        return EXIT_BAD_INPUT;
}

int cli_error_code(int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmessage(EXIT_BAD_INPUT, fmt, ap, rsap_strerror(err), NULL);
        va_end(ap);
        return EXIT_BAD_INPUT;
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
        char hint[64];
        va_list ap;

        snprintf(hint, sizeof(hint), " (see 'rsap help %s')", cmd->name);
        va_start(ap, fmt);
        vmessage(EXIT_BAD_INPUT, fmt, ap, NULL, hint);
        va_end(ap);
        return EXIT_BAD_INPUT;
}

int cli_print_json(json_t *value)
{
        int r;

        if (!value)
                return cli_error("out of memory");
        json_answered = true;
        r = json_dumpf(value, stdout, RSAP_JSON_DUMP_FLAGS);
        json_decref(value);
        fputc('\n', stdout);
        if (r < 0 || fflush(stdout) != 0)
                return cli_error("cannot write the output");
        return 0;
}

static const char *sgr(const struct cli *cli, const char *code)
{
        return cli->color ? code : "";
}

const char *cli_bold(const struct cli *cli)
{
        return sgr(cli, "\033[1m");
}

const char *cli_dim(const struct cli *cli)
{
        return sgr(cli, "\033[2m");
}

const char *cli_green(const struct cli *cli)
{
        return sgr(cli, "\033[32m");
}

const char *cli_yellow(const struct cli *cli)
{
        return sgr(cli, "\033[33m");
}

const char *cli_reset(const struct cli *cli)
{
        return sgr(cli, "\033[0m");
}

struct rsap_iana *cli_open_registry(struct cli *cli)
{
        struct rsap_iana *reg = NULL;
        char path[4200];
        int r;

        r = rsap_iana_open_default(cli->db_dir, &reg);
        if (r >= 0)
                return reg;
        if (rsap_cache_in_use(cli->db_dir, path, sizeof(path)) < 0)
                snprintf(path, sizeof(path), "the cached registry");
        if (r == -EBADMSG)
                cli_error("%s is corrupt: run 'rsap update' again, or remove it to use the "
                          "built-in copy",
                          path);
        else
                cli_error_code(r, "cannot open %s", path);
        return NULL;
}

const struct cli_option cli_update_options[] = {
        { "from", required_argument, 'f', "URL|FILE", "IANA's XML or CSV from a mirror or a file" },
        { "timeout", required_argument, 't', "SECONDS", "give up a download after this long" },
        { "allow-any-date", no_argument, 'A', NULL, "take a registry older than the cached one" },
        { 0 },
};

/* Every command's common options, for --help (CLI_COMMON_LONG_OPTIONS for getopt). */
static const struct cli_option common_options[] = {
        { "json", no_argument, 'J', NULL, "print the answer, or the error, as JSON" },
        { "db-dir", required_argument, 'D', "DIR", "the data directory" },
        { "help", no_argument, 'h', NULL, "print this help" },
        { 0 },
};

const struct option *cli_getopt_options(const struct cli_command *cmd)
{
        static const struct option common[] = { CLI_COMMON_LONG_OPTIONS, { 0 } };
        static struct option table[64];
        size_t n = 0;

        for (const struct cli_option *o = cmd->options; o && o->name && n < 48; o++)
                table[n++] = (struct option){ o->name, o->has_arg, NULL, o->val };
        for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
                table[n++] = common[i];
        return table;
}

static void print_options(const struct cli_option *options)
{
        for (const struct cli_option *o = options; o && o->name; o++) {
                char spelling[64];

                snprintf(spelling, sizeof(spelling), "--%s%s%s", o->name, o->arg ? " " : "",
                         o->arg ? o->arg : "");
                printf("  %-22s %s\n", spelling, o->help);
        }
}

void cli_print_help(const struct cli_command *cmd)
{
        printf("usage: %s\n\n%s\n\noptions:\n", cmd->usage, cmd->summary);
        print_options(cmd->options);
        print_options(common_options);
        printf("\nSee rsap-%s(1) for the details.\n", cmd->name);
}

json_t *cli_options_to_json(const struct cli_command *cmd)
{
        const struct cli_option *lists[] = { cmd->options, common_options };
        json_t *array = json_array();

        for (size_t i = 0; array && i < 2; i++)
                for (const struct cli_option *o = lists[i]; o && o->name; o++)
                        json_array_append_new(array, json_pack("{s:s+, s:s?, s:s}", "name", "--",
                                                               o->name, "arg", o->arg, "help",
                                                               o->help));
        return array;
}

/* getopt runs with opterr = 0 and a leading ':' so that the messages are ours;
 * the option it stopped at is the argument just before optind. */
static char **current_argv;

void cli_set_argv(char **argv)
{
        current_argv = argv;
        opterr = 0;
}

const char *cli_current_option(void)
{
        const char *word;

        if (!current_argv || optind < 1)
                return "?";
        word = current_argv[optind - 1];
        if (optopt && word[0] == '-' && word[1] != '-') {
                static char shortopt[3] = "-?";

                shortopt[1] = (char)optopt;
                return shortopt;
        }
        /* An option taken with its value in the next word: name the option. */
        if (word[0] != '-' && optind >= 2 && strncmp(current_argv[optind - 2], "--", 2) == 0)
                return current_argv[optind - 2];
        return word;
}

/* Whether the long option getopt just took was written out whole. */
static bool given_in_full(const char *name)
{
        size_t len = strlen(name);

        for (int back = 1; back <= 2 && optind - back >= 1; back++) {
                const char *word = current_argv[optind - back];

                if (strncmp(word, "--", 2) == 0)
                        return strncmp(word, name, len) == 0 && (word[len] == '\0' || word[len] == '=');
        }
        return true;
}

int cli_common_option(struct cli *cli, const struct cli_command *cmd, int opt)
{
        switch (opt) {
        case 'J':
                cli->json = true;
                json_errors = true;
                return -1;
        case 'D':
                /* getopt takes "--db" for "--db-dir" where a command has no
                 * --db of its own: refuse rather than read a file as a
                 * directory. */
                if (!given_in_full("--db-dir") && strncmp(cli_current_option(), "--db", 4) == 0 &&
                    strcspn(cli_current_option(), "=") == 4)
                        return cli_usage_error(cmd, "--db names the local registry's database, "
                                                    "which 'rsap %s' does not read",
                                               cmd->name);
                if (!given_in_full("--db-dir"))
                        return cli_usage_error(cmd, "unknown option '%s'", cli_current_option());
                cli->db_dir = optarg;
                return -1;
        case 'h':
                cli_print_help(cmd);
                return EXIT_ANSWERED;
        case ':':
                return cli_usage_error(cmd, "option '%s' needs a value", cli_current_option());
        default:
                return cli_usage_error(cmd, "unknown option '%s'", cli_current_option());
        }
}

void cli_json_decrefp(json_t **p)
{
        json_decref(*p);
}

int cli_getopt(struct cli *cli, const struct cli_command *self, int argc, char **argv,
               cli_own_option *own, void *data)
{
        const struct option *options = cli_getopt_options(self);
        char letters[16];
        int opt, r;

        snprintf(letters, sizeof(letters), ":h%s", self->short_options ? self->short_options : "");
        while ((opt = getopt_long(argc, argv, letters, options, NULL)) != -1) {
                r = own ? own(self, opt, data) : -2;
                if (r == -1)
                        continue;
                if (r >= 0)
                        return r;
                r = cli_common_option(cli, self, opt);
                if (r >= 0)
                        return r;
        }
        return -1;
}

int cli_only_common_options(struct cli *cli, const struct cli_command *cmd, int argc,
                            char **argv)
{
        optind = 1;
        return argc > 1 ? cli_getopt(cli, cmd, argc, argv, NULL, NULL) : -1;
}

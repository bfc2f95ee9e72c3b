/* SPDX-License-Identifier: MIT */
#pragma once

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <rsap/basic.h>
#include <rsap/iana.h>

/*
 * What every subcommand shares: exit statuses, the one-line error format,
 * colour on terminals, JSON output, and the registry the lookups read.
 */

/* Exit statuses, documented in rsap(1). */
enum {
        EXIT_ANSWERED = 0,  /* the question had an answer */
        EXIT_NO_MATCH = 1,  /* well-formed, but nothing matched */
        EXIT_BAD_INPUT = 2, /* bad arguments, data or environment */
};

struct cli {
        const char *argv0;      /* "rsap" */
        const char *db_dir;     /* --db-dir, or NULL for the default */
        bool json;              /* --json */
        bool color;             /* stdout is a terminal and NO_COLOR is unset */
        bool bare_word;         /* `rsap WORD`: explain not named; WORD may be a mistyped command */
};

/* A subcommand: argc/argv start at the subcommand's own name. */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

/* One option of a command: getopt_long and --help read the same entry. */
struct cli_option {
        const char *name; /* the long option without "--": "proto" */
        int has_arg;      /* no_argument or required_argument */
        int val;          /* what getopt_long returns for it, the command's switch case */
        const char *arg;  /* its value's name for --help ("P[,P]"), NULL when it takes none */
        const char *help; /* one line for --help */
};

struct cli_command {
        const char *name;
        cli_command_fn run;
        const char *usage;   /* "rsap search [--limit N] [--json] TEXT" */
        const char *summary; /* one line for `rsap help` */
        const struct cli_option *options; /* its own, ending with { 0 }; the common ones follow */
        const char *short_options; /* getopt's letters beyond -h ("v" for -v), or NULL */
};

/* rsap update's options: rsap-update, which runs it, links common.c but not main.c. */
extern const struct cli_option cli_update_options[];

/*
 * getopt_long's table for cmd: cmd->options, then CLI_COMMON_LONG_OPTIONS.
 * Valid until the next call.
 */
const struct option *cli_getopt_options(const struct cli_command *cmd);

/*
 * The errors below print "rsap: <message>" on stderr and, once --json was
 * seen (cli_set_json_errors(), cli_common_option()), the error object
 * rsapd's API sends for the same failure on stdout: {"error": {"status":
 * 400 for exit status 2, 404 for 1, 409 for 3, "message": "<message>"}};
 * not when an answer was printed already.
 */
void cli_set_json_errors(bool on);
/* Sets it when --json is among the options, so that an error getopt meets first is told in JSON. */
void cli_scan_json(int argc, char **argv);
/* "rsap: <message>" as above, returning exit_status. */
int cli_vfail(int exit_status, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* "rsap: <message>" on stderr; returns EXIT_BAD_INPUT for `return cli_error(...)`. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "rsap: <what>: <strerror(-err)>" for a library error code. */
int cli_error_code(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "rsap: <message>: see 'rsap help NAME'" on stderr; returns 2. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Writes the value with a trailing newline, then drops the reference. */
int cli_print_json(json_t *value);

/* SGR wrappers that print nothing when colour is off. */
const char *cli_bold(const struct cli *cli);
const char *cli_dim(const struct cli *cli);
const char *cli_green(const struct cli *cli);
const char *cli_yellow(const struct cli *cli);
const char *cli_reset(const struct cli *cli);

/*
 * The registry lookups read: the cached copy from `rsap update` if the data
 * directory has one, else the built-in copy.  Prints the error and returns
 * NULL when the cached copy is unreadable or corrupt.
 */
struct rsap_iana *cli_open_registry(struct cli *cli);

/* Standard options: every subcommand's getopt_long table ends with these. */
#define CLI_COMMON_LONG_OPTIONS                                  \
        { "json", no_argument, NULL, 'J' },                        \
        { "db-dir", required_argument, NULL, 'D' },                \
        { "help", no_argument, NULL, 'h' }

/*
 * Handles 'J', 'D' and 'h' from CLI_COMMON_LONG_OPTIONS, and getopt's '?' and
 * ':'.  Returns -1 when opt was handled, else the exit status to return at
 * once (help printed: 0; unknown option or missing value: 2, message printed).
 */
int cli_common_option(struct cli *cli, const struct cli_command *cmd, int opt);
/*
 * Takes one of a command's own options: -1 when it took opt, -2 when opt is
 * not one of them, else the exit status after a usage error.
 */
typedef int cli_own_option(const struct cli_command *self, int opt, void *data);
/*
 * The one option loop: reads argv with self's options (cli_getopt_options),
 * giving each option to own first (NULL: the command has none of its own),
 * then to cli_common_option().  -1 once every option is read (argv[optind]
 * is the first operand), else the exit status to return at once.
 */
int cli_getopt(struct cli *cli, const struct cli_command *self, int argc, char **argv,
               cli_own_option *own, void *data);
/*
 * Reads argv for a command that takes only the common options, leaving optind
 * at its first operand.  Returns -1 to go on, else the exit status to return.
 */
int cli_only_common_options(struct cli *cli, const struct cli_command *cmd, int argc,
                            char **argv);
/*
 * getopt_long option strings must start with ':' (so that a missing value is
 * told apart); main calls cli_set_argv() before a subcommand runs.
 */
void cli_set_argv(char **argv);
/* The option getopt just refused, for messages. */
const char *cli_current_option(void);
/* Prints "usage: ...", the summary and every option, one line each, on stdout. */
void cli_print_help(const struct cli_command *cmd);
/* The same options as [{"name": "--proto", "arg": "P[,P]" or null, "help"}, ...]. */
json_t *cli_options_to_json(const struct cli_command *cmd);

const struct cli_command *cli_find_command(const char *name);
/*
 * For a word that is neither a command nor a service: "no command or
 * service named 'listnig': did you mean 'listening'?" on stderr (and the
 * error object with --json), returning 2; -1 when no command is close.
 */
int cli_command_hint(struct cli *cli, const char *word);

void cli_json_decrefp(json_t **p);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <rsap/explain.h>

#include "cli.h"

/*
 * Text renderings of the library's answers, shared by the subcommands.  The
 * brief form gives one row per record (records that read the same but for
 * protocol share one, second names such as www fold into their service's
 * row); full gives every non-empty field.
 */
int render_port_answer(const struct cli *cli, const struct rsap_iana *reg,
                       const struct rsap_port_answer *a, bool full);
/* Both: 0, or -ENOMEM before anything is printed. */
int render_name_answer(const struct cli *cli, const struct rsap_iana *reg,
                       const struct rsap_name_answer *a, bool full);
/* "1647/tcp", "225-241/tcp", "3322-3325/any", "name-only/tcp". */
void render_record_label(const struct rsap_record *r, char *buf, size_t size);
struct rsap_listen_list;

/* The table of `rsap listening` (cmd_listening.c): 0, -ENOMEM or -EIO. */
int render_listeners(const struct cli *cli, const struct rsap_listening_answer *a,
                     const struct rsap_iana *reg);
/* One line on stderr, once, when some socket's processes were hidden. */
void render_hidden_owners_hint(const struct rsap_listen_list *list);
void render_hidden_namespaces_hint(const struct rsap_listen_list *list);
void render_unread_rules_hint(const struct rsap_listen_list *list);
void render_silent_runtimes_hint(const struct rsap_listen_list *list);

/*
 * Text from outside made safe for a terminal (rsap/textsafe.h): the text
 * itself when it needs nothing, else its escaped form in a buffer that the
 * eighth call after this one reuses.  NULL for NULL.
 */
const char *render_safe(const char *text);
const char *render_safe_n(const char *text, size_t len);

/* Text on one line: line breaks and runs of blanks become one space. */
void render_one_line(const char *text);
/* The "data:" footer naming the registry copy in use. */
void render_data_footer(const struct cli *cli, const struct rsap_iana *reg);
const char *render_status_color(const struct cli *cli, enum rsap_status status);

struct rsap_local_entry;
struct rsap_local_list;
/* "8443/tcp,udp", "any/tcp" for a request that lets the registry choose. */
void render_local_label(const struct rsap_local_entry *e, char *buf, size_t size);
/* What the local registry holds for a port or a name: a heading, one line each. */
void render_local(const struct cli *cli, const struct rsap_local_list *local);

struct rsap_interval_list;
/* Listening intervals, one line each, oldest first (cli/intervals.c): 0 or -EIO. */
int render_intervals(const struct cli *cli, const struct rsap_interval_list *list);
struct rsap_listen_finding;
/* Squatter findings, one line each (cli/intervals.c): 0 or -EIO. */
int render_findings(const struct cli *cli, const struct rsap_listen_finding *list, size_t n);

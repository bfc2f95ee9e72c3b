/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the local registry's commands share: --db and --as, opening the
 * database with precise messages, who the actor is, what this host looks
 * like, and the text forms of checks, assignments and leases.
 */
#include <getopt.h>

#include <rsap/store.h>
#include <rsap/workflow.h>

#include "cli.h"

/* A rule of the registry refused (documented in rsap(1) and each page). */
#define EXIT_REFUSED 3

struct registry_cli {
        const char *db;    /* --db, or NULL for <data dir>/registry.db */
        const char *as;    /* --as, or NULL for the invoking user */
        char path[4200];
        char actor[256];
};

/* Handles 'B' and 'A'; returns true when opt was one of them. */
bool registry_option(struct registry_cli *rc, int opt);

typedef cli_own_option registry_own_option;
/* --allow-system and --over-iana (data: a struct rsap_review_options). */
int registry_review_option(const struct cli_command *self, int opt, void *data);
/* --why TEXT (data: a const char *). */
int registry_why_option(const struct cli_command *self, int opt, void *data);

/*
 * Reads every option of a registry command: --db and --as, the command's
 * own through own (NULL when it has none), then the common ones.  -1 once
 * they are read (argv[optind] is the first argument), else the exit status
 * to return.
 */
int registry_getopt(struct cli *cli, const struct cli_command *self, struct registry_cli *rc,
                    int argc, char **argv, registry_own_option *own, void *data);

/* The database path (--db or the default); NULL after printing an error. */
const char *registry_path(struct cli *cli, struct registry_cli *rc);
/* Opens for writing (creating the default data directory); NULL after an error. */
struct rsap_store *registry_open_write(struct cli *cli, struct registry_cli *rc);
/*
 * Opens for reading.  A missing database is no error: *out is NULL and the
 * return is 0.  Otherwise 0, or EXIT_BAD_INPUT after printing why.
 */
int registry_open_read(struct cli *cli, struct registry_cli *rc, struct rsap_store **out);
/* IANA's registry and, when there is one, the local registry for reading:
 * what a lookup and a check read.  0, or the exit status after a message. */
int registry_open_lookup(struct cli *cli, struct registry_cli *rc, struct rsap_iana **iana,
                         struct rsap_store **store);
/* The same for one lookup's answer (RSAP_STORE_LOOKUP): the database is
 * opened only when the port marks cannot answer, and its errors come then. */
int registry_open_explain(struct cli *cli, struct registry_cli *rc, struct rsap_iana **iana,
                          struct rsap_store **store);

/* "rsap: <message>" on stderr, returning EXIT_NO_MATCH or EXIT_REFUSED. */
int registry_no_match(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int registry_refused(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "rsap: <what>: <why>", precise for the store's errors; returns the exit status. */
int registry_error(const struct registry_cli *rc, int err, const char *what);

/* --as, else the sudo user behind root, else the invoking user. */
const char *registry_actor(struct registry_cli *rc);

/*
 * What the checks need of this host: the ephemeral range and, unless
 * listeners is NULL, the sockets listening now (owners when asked).  A host
 * whose sockets cannot be listed leaves host->listeners NULL.
 */
void registry_host(struct rsap_host *host, struct rsap_listen_list **listeners, bool owners);

/*
 * --range A-B and --proto tcp[,udp,...] for lease, pick, request and list,
 * so that each says the same of a bad value: -1 once the value is stored,
 * else the exit status after the usage error.
 */
int registry_range_option(const struct cli_command *self, const char *text, uint16_t *low,
                          uint16_t *high);
int registry_proto_option(const struct cli_command *self, const char *text, unsigned *protocols);

/*
 * The one request id that approve, reject and review take after their
 * options (at argv[optind]): -1 with *id set, else the exit status after
 * the usage error.
 */
int registry_request_id_arg(const struct cli_command *self, int argc, char **argv, int64_t *id);

/* rsap deassign and rsap revoke: one act, by the assignee or by the registry. */
enum registry_end_kind {
        REGISTRY_END_DEASSIGN,
        REGISTRY_END_REVOKE,
};
int registry_end_command(struct cli *cli, int argc, char **argv, enum registry_end_kind kind);

/* "3 assigned or reserved by IANA, 1 leased": why the ports of a range are not free. */
void registry_format_exclusions(const struct rsap_pick_exclusions *x, char *buf, size_t size);

void registry_render_check(const struct cli *cli, const struct rsap_check *c);
void registry_render_assignment(const struct cli *cli, const struct rsap_assignment *a);
/* "8443/tcp,udp", "any port in 1024-49151" */
void registry_request_ports(const struct rsap_request *r, char *buf, size_t size);

/* SPDX-License-Identifier: MIT */
/* rsap list A-B: every port of a range, one line per port and protocol. */
#include <getopt.h>

#include <rsap/answer.h>
#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

struct list_state {
        const struct cli *cli;
        size_t count;
};

/* "local: web-admin (assignment 5, active)" after a row the local registry holds. */
static void print_local(struct list_state *s, const struct rsap_list_row *row)
{
        static const char *const kinds[] = { "assignment", "request", "lease" };
        const struct rsap_local_entry *e = row->local;

        if (e)
                printf("  %slocal: %s (%s %lld, %s)%s", cli_yellow(s->cli),
                       e->service ? render_safe(e->service) : "-", kinds[e->kind],
                       (long long)e->id, render_safe(e->state),
                       cli_reset(s->cli));
}

static int print_row(const struct rsap_list_row *row, void *userdata)
{
        struct list_state *s = userdata;
        const struct cli *cli = s->cli;
        char label[16];

        s->count++;
        snprintf(label, sizeof(label), "%u/%s", row->port, rsap_proto_name(row->proto));
        printf("%-11s %s%-10s%s %-16s ", label, render_status_color(cli, row->status),
               rsap_status_name(row->status), cli_reset(cli),
               row->service ? render_safe(row->service) : "-");
        render_one_line(row->description ? row->description : "");
        print_local(s, row);
        putchar('\n');
        return 0;
}

struct list_masks {
        unsigned status, protocols;
};

/* --assigned, --reserved, --unassigned, --proto P[,P] */
static int list_option(const struct cli_command *self, int opt, void *data)
{
        struct list_masks *m = data;
        int r;

        switch (opt) {
        case 'a':
                m->status |= RSAP_LIST_ASSIGNED;
                return -1;
        case 'r':
                m->status |= RSAP_LIST_RESERVED;
                return -1;
        case 'u':
                m->status |= RSAP_LIST_UNASSIGNED;
                return -1;
        case 'p':
                r = registry_proto_option(self, optarg, &m->protocols);
                return r >= 0 ? r : -1;
        }
        return -2;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("list");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_range_answer_clear) struct rsap_range_answer a = { 0 };
        enum rsap_answer_part failed;
        struct registry_cli rc = { 0 };
        struct list_masks masks = {
                .protocols = (1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP) |
                             (1u << RSAP_PROTO_SCTP) | (1u << RSAP_PROTO_DCCP),
        };
        struct rsap_port_spec spec;
        struct list_state state = { .cli = cli };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, list_option, &masks);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, "give one port or range, such as 1640-1650");
        r = rsap_port_spec_parse(argv[optind], &spec);
        if (r < 0)
                return cli_error("'%s' is not a port range (A-B with 0 <= A <= B <= 65535)",
                                 argv[optind]);
        if (spec.proto != RSAP_PROTO_NONE)
                masks.protocols = 1u << spec.proto;
        r = registry_open_lookup(cli, &rc, &reg, &store);
        if (r)
                return r;
        r = rsap_answer_range(&(struct rsap_answer_sources){ .iana = reg, .store = store },
                              spec.low, spec.high, masks.protocols, masks.status, &a, &failed);
        if (r < 0)
                return registry_error(&rc, r, "cannot read the local registry");
        if (cli->json) {
                /* The same value rsapd's /v1/list answers with. */
                json_t *o = rsap_range_answer_to_json(reg, &a);
                size_t count = json_array_size(json_object_get(o, "ports"));

                if (cli_print_json(o))
                        return EXIT_BAD_INPUT;
                return count ? EXIT_ANSWERED : EXIT_NO_MATCH;
        }
        r = rsap_range_answer_rows(reg, &a, print_row, &state);
        if (r)
                return cli_error("out of memory");
        if (!state.count && !cli->json)
                fprintf(stderr, "rsap: no port in %s matches\n", argv[optind]);
        return state.count ? EXIT_ANSWERED : EXIT_NO_MATCH;
}

/* SPDX-License-Identifier: MIT */
/* rsap request NAME --port N | --any ...: files a request and prints its id. */
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"

struct request_args {
        struct rsap_request_input in;
        bool have_port, have_proto;
};

static int request_option(const struct cli_command *self, int opt, void *data)
{
        struct request_args *a = data;
        struct rsap_request_input *in = &a->in;

        switch (opt) {
        case 'p':
                if (rsap_port_parse(optarg, &in->port) < 0)
                        return cli_usage_error(self, "'%s' is not a port (0-65535)", optarg);
                a->have_port = true;
                return -1;
        case 'y':
                in->any_port = true;
                return -1;
        case 'r':
                in->has_range = true;
                return registry_range_option(self, optarg, &in->range_low, &in->range_high);
        case 'P':
                a->have_proto = true;
                return registry_proto_option(self, optarg, &in->protocols);
        case 'd':
                in->description = optarg;
                return -1;
        case 'a':
                in->assignee = optarg;
                return -1;
        case 'c':
                in->contact = optarg;
                return -1;
        case 'R':
                in->reference = optarg;
                return -1;
        case 'n':
                in->note = optarg;
                return -1;
        case 'S':
                in->allow_system = true;
                return -1;
        case 'I':
                in->over_iana = true;
                return -1;
        case 's':
                in->same_service = true;
                return -1;
        }
        return -2;
}

static bool blank(const char *text)
{
        return !text || strspn(text, " \t\n") == strlen(text);
}

static int validate(const struct cli_command *self, const struct request_args *a)
{
        const struct rsap_request_input *in = &a->in;

        if (a->have_port && in->any_port)
                return cli_usage_error(self, "--port and --any exclude each other");
        if (!a->have_port && !in->any_port)
                return cli_usage_error(self, "which port? --port N, or --any to let the "
                                             "registry choose");
        if (in->has_range && !in->any_port)
                return cli_usage_error(self, "--range goes with --any");
        if (!a->have_proto)
                return cli_usage_error(self, "which protocols? --proto tcp[,udp,sctp,dccp]");
        if (blank(in->description) || blank(in->assignee) || blank(in->contact))
                return cli_usage_error(self, "--description, --assignee and --contact are "
                                             "required");
        if (strlen(in->service) > RSAP_NAME_MAX)
                return cli_error("'%.20s...' is too long for a service name", in->service);
        if (blank(in->service))
                return cli_error("a service name cannot be empty");
        return -1;
}

/* The checks a reviewer will see, beyond those that pass. */
static void preview(struct cli *cli, struct rsap_workflow *wf, int64_t id)
{
        struct rsap_review review;

        if (rsap_review(wf, id, NULL, &review) < 0)
                return;
        for (size_t i = 0; i < review.n_checks; i++)
                if (review.checks[i].verdict != RSAP_VERDICT_PASS)
                        registry_render_check(cli, &review.checks[i]);
        rsap_review_clear(&review);
}

static int file_request(struct cli *cli, struct registry_cli *rc, struct request_args *a)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        struct rsap_host host;
        struct rsap_workflow wf;
        struct rsap_request filed;
        char ports[64];
        int64_t id;
        int r;

        iana = cli_open_registry(cli);
        if (!iana)
                return EXIT_BAD_INPUT;
        store = registry_open_write(cli, rc);
        if (!store)
                return EXIT_BAD_INPUT;
        wf = (struct rsap_workflow){ store, iana, registry_actor(rc), &host };
        registry_host(&host, cli->json ? NULL : &listeners, true);
        r = rsap_request_file(&wf, &a->in, &id);
        if (r < 0)
                return registry_error(rc, r, "cannot file the request");
        r = rsap_request_get(store, id, &filed);
        if (r < 0)
                return registry_error(rc, r, "cannot read the request back");
        if (cli->json) {
                r = cli_print_json(rsap_request_to_json(&filed));
                rsap_request_clear(&filed);
                return r ? EXIT_BAD_INPUT : EXIT_ANSWERED;
        }
        registry_request_ports(&filed, ports, sizeof(ports));
        printf("request %lld filed: %s on %s\n", (long long)id, filed.service, ports);
        rsap_request_clear(&filed);
        preview(cli, &wf, id);
        printf("next: rsap review %lld, then rsap approve %lld or rsap reject %lld\n",
               (long long)id, (long long)id, (long long)id);
        return EXIT_ANSWERED;
}

int cmd_request(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("request");
        struct registry_cli rc = { 0 };
        struct request_args a = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, request_option, &a);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which service name?"
                                                            : "one service name at a time");
        a.in.service = argv[optind];
        r = validate(self, &a);
        if (r >= 0)
                return r;
        return file_request(cli, &rc, &a);
}

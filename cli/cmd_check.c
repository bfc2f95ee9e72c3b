/* SPDX-License-Identifier: MIT */
/*
 * rsap check FILE...: the host ports that Compose files and Kubernetes
 * manifests would take, and what stands in their way here (listening now,
 * assigned to another service by the local registry or by IANA, inside the
 * ephemeral range, refused by browsers, taken by another entry of the
 * files).  Exit status 1 on a finding;
 * --request files requests for the ports that have none.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/json.h>

#include "builtin.h"
#include "check_yaml.h"
#include "registry.h"
#include "render.h"

struct check_args {
        const char *service;     /* --service: instead of the file's names */
        const char *env_file;    /* --env-file */
        unsigned ignore;         /* --ignore: finding kinds left out */
        bool request;            /* --request */
        const char *assignee, *contact, *description;
};

static int ignore_option(const struct cli_command *self, const char *text, unsigned *mask)
{
        _cleanup_(freep) char *copy = strdup(text);
        enum rsap_deploy_finding_kind kind;
        char *save = NULL;

        if (!copy)
                return cli_error("out of memory");
        for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
                if (rsap_deploy_finding_kind_parse(word, &kind) < 0)
                        return cli_usage_error(self, "--ignore takes listening, local, iana, "
                                                     "ephemeral, browser or duplicate, not '%s'",
                                               render_safe(word));
                *mask |= 1u << kind;
        }
        return -1;
}

static int check_option(const struct cli_command *self, int opt, void *data)
{
        struct check_args *a = data;

        switch (opt) {
        case 's':
                a->service = optarg;
                return -1;
        case 'e':
                a->env_file = optarg;
                return -1;
        case 'i':
                return ignore_option(self, optarg, &a->ignore);
        case 'r':
                a->request = true;
                return -1;
        case 'a':
                a->assignee = optarg;
                return -1;
        case 'c':
                a->contact = optarg;
                return -1;
        case 'd':
                a->description = optarg;
                return -1;
        }
        return -2;
}

/* ---- reading ------------------------------------------------------------------------ */

static int read_files(const struct check_args *a, char **files, int n, struct check_ports *out)
{
        struct check_env env = { 0 };
        size_t first;
        int r = 0;

        for (int i = 0; r == 0 && i < n; i++) {
                first = out->n;
                r = check_env_load(&env, a->env_file, files[i]);
                if (r == 0)
                        r = check_yaml_file(files[i], &env, out);
                for (size_t j = first; r == 0 && a->service && j < out->n; j++)
                        snprintf(out->items[j].service, sizeof(out->items[j].service), "%s",
                                 a->service);
        }
        check_env_clear(&env);
        return r;
}

/* ---- duplicates --------------------------------------------------------------------- */

/* Another entry a port of the files clashes with is looked for among this many. */
#define DUPLICATE_CANDIDATES 64

struct port_key {
        uint32_t key;           /* port and protocol */
        size_t index;
};

static int compare_keys(const void *a, const void *b)
{
        const struct port_key *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Two entries of one port clash when their addresses overlap, even at one
 * place of a file: an anchor's ports that two services merge are taken twice.
 */
static bool clash(const struct check_port *p, const struct check_port *q)
{
        return p != q && rsap_deploy_addresses_overlap(p->host_ip, q->host_ip);
}

/* *other[i]: the index of an entry that takes port i too, or SIZE_MAX. */
static int find_duplicates(const struct check_ports *ports, size_t *other)
{
        _cleanup_(freep) struct port_key *keys = calloc(ports->n + 1, sizeof(*keys));
        size_t start = 0;

        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < ports->n; i++)
                keys[i] = (struct port_key){ (uint32_t)ports->items[i].port << 3 |
                                                     ports->items[i].proto, i };
        qsort(keys, ports->n, sizeof(*keys), compare_keys);
        for (size_t i = 0; i < ports->n; i++) {
                if (keys[i].key != keys[start].key)
                        start = i;
                other[keys[i].index] = SIZE_MAX;
                for (size_t j = start; j < ports->n && keys[j].key == keys[i].key &&
                                       j < start + DUPLICATE_CANDIDATES; j++)
                        if (clash(&ports->items[keys[i].index], &ports->items[keys[j].index])) {
                                other[keys[i].index] = keys[j].index;
                                break;
                        }
        }
        return 0;
}

/* ---- findings ----------------------------------------------------------------------- */

/* The port's findings, kept only when there are some: most ports have none. */
static int judge_one(const struct rsap_workflow *wf, unsigned ignore, struct check_ports *ports,
                     size_t i, size_t other, bool *registered)
{
        struct rsap_deploy_finding found[RSAP_DEPLOY_KIND_COUNT];
        struct check_port *p = &ports->items[i];
        int r = rsap_deploy_check_port(wf, p->service, p->port, p->proto, ignore, found,
                                       registered);

        if (r >= 0 && other != SIZE_MAX && !(ignore & (1u << RSAP_DEPLOY_DUPLICATE)))
                rsap_deploy_duplicate(&found[r++], p->port, p->proto,
                                      ports->items[other].service);
        if (r <= 0)
                return r;
        p->findings = malloc((size_t)r * sizeof(*found));
        if (!p->findings)
                return -ENOMEM;
        memcpy(p->findings, found, (size_t)r * sizeof(*found));
        p->n_findings = r;
        return r;
}

static int judge(const struct rsap_workflow *wf, const struct registry_cli *rc, unsigned ignore,
                 struct check_ports *ports, bool *registered, size_t *n_findings)
{
        _cleanup_(freep) size_t *other = calloc(ports->n + 1, sizeof(*other));

        *n_findings = 0;
        if (!other || find_duplicates(ports, other) < 0)
                return cli_error("out of memory");
        for (size_t i = 0; i < ports->n; i++) {
                int r = judge_one(wf, ignore, ports, i, other[i], &registered[i]);

                if (r < 0)
                        return registry_error(rc, r, "cannot read the local registry");
                *n_findings += r ? 1 : 0;
        }
        return -1;
}

/* ---- text --------------------------------------------------------------------------- */

struct widths {
        int where, port, service;
};

static void row_cells(const struct check_port *p, char *where, size_t wsize, char *port,
                      size_t psize)
{
        if (p->line)
                snprintf(where, wsize, "%s:%d", render_safe(p->file), p->line);
        else
                snprintf(where, wsize, "%s", render_safe(p->file));
        snprintf(port, psize, "%u/%s", p->port, rsap_proto_name(p->proto));
}

static struct widths measure(const struct check_ports *ports)
{
        struct widths w = { 4, 4, 7 };
        char where[4200], port[16];

        for (size_t i = 0; i < ports->n; i++) {
                const struct check_port *p = &ports->items[i];
                int service = (int)strlen(render_safe(p->service[0] ? p->service : "-"));

                row_cells(p, where, sizeof(where), port, sizeof(port));
                w.where = (int)strlen(where) > w.where ? (int)strlen(where) : w.where;
                w.port = (int)strlen(port) > w.port ? (int)strlen(port) : w.port;
                w.service = service > w.service ? service : w.service;
        }
        return w;
}

static void print_text(const struct cli *cli, const struct check_ports *ports, size_t n_findings)
{
        struct widths w = measure(ports);
        char where[4200], port[16];

        if (ports->n)
                printf("%s%-*s  %-*s  %-*s  FINDING%s\n", cli_bold(cli), w.where, "FILE",
                       w.port, "PORT", w.service, "SERVICE", cli_reset(cli));
        for (size_t i = 0; i < ports->n; i++) {
                const struct check_port *p = &ports->items[i];
                const char *service = render_safe(p->service[0] ? p->service : "-");

                row_cells(p, where, sizeof(where), port, sizeof(port));
                if (p->n_findings == 0)
                        printf("%-*s  %-*s  %-*s  %sfree%s\n", w.where, where, w.port, port,
                               w.service, service, cli_green(cli), cli_reset(cli));
                for (int j = 0; j < p->n_findings; j++)
                        printf("%-*s  %-*s  %-*s  %s%s%s: %s\n", w.where, where, w.port, port,
                               w.service, service, cli_yellow(cli),
                               rsap_deploy_finding_kind_name(p->findings[j].kind),
                               cli_reset(cli), render_safe(p->findings[j].message));
        }
        printf("%zu host port%s, %zu with findings\n", ports->n, ports->n == 1 ? "" : "s",
               n_findings);
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *findings_json(const struct check_port *p)
{
        json_t *array = json_array();

        for (int j = 0; array && j < p->n_findings; j++) {
                const struct rsap_deploy_finding *f = &p->findings[j];
                json_t *o = json_pack("{s:s, s:s}", "kind",
                                      rsap_deploy_finding_kind_name(f->kind), "message",
                                      f->message);

                if (o && f->other[0])
                        json_object_set_new(o, "other", json_string(f->other));
                json_array_append_new(array, o);
        }
        return array;
}

static json_t *port_json(const struct check_port *p)
{
        return json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:i, s:s, s:o}", "file", p->file,
                         "line", p->line, "column", p->column, "source", p->source, "service",
                         p->service, "host_ip", p->host_ip, "port", p->port, "protocol",
                         rsap_proto_name(p->proto), "findings", findings_json(p));
}

static json_t *ports_json(const struct check_ports *ports)
{
        json_t *array = json_array();

        for (size_t i = 0; array && i < ports->n; i++)
                json_array_append_new(array, port_json(&ports->items[i]));
        return array;
}

/* ---- --request ---------------------------------------------------------------------- */

/* The protocols on which service asks for port with no finding and no assignment yet. */
static unsigned free_protocols(const struct check_ports *ports, const bool *registered,
                               size_t i)
{
        const struct check_port *p = &ports->items[i];
        unsigned mask = 0;

        for (size_t j = 0; j < ports->n; j++) {
                const struct check_port *q = &ports->items[j];

                if (q->port != p->port || strcmp(q->service, p->service) != 0)
                        continue;
                if (j < i)
                        return 0; /* filed with the first row of the pair */
                if (q->n_findings == 0 && !registered[j])
                        mask |= 1u << q->proto;
        }
        return mask;
}

static int file_one(struct cli *cli, const struct rsap_workflow *wf, struct registry_cli *rc,
                    const struct check_args *a, const struct check_port *p, unsigned mask,
                    json_t *filed)
{
        char description[300], ports[64];
        struct rsap_request_input in = {
                .service = p->service, .port = p->port, .protocols = mask,
                .assignee = a->assignee, .contact = a->contact,
        };
        struct rsap_request req;
        int64_t id;
        int r;

        snprintf(description, sizeof(description), "%s", a->description ? a->description : "");
        if (!a->description)
                snprintf(description, sizeof(description), "from %s (rsap check)", p->file);
        in.description = description;
        r = rsap_request_file(wf, &in, &id);
        if (r == 0)
                r = rsap_request_get(wf->store, id, &req);
        if (r < 0)
                return registry_error(rc, r, "cannot file the request");
        if (cli->json)
                json_array_append_new(filed, rsap_request_to_json(&req));
        registry_request_ports(&req, ports, sizeof(ports));
        if (!cli->json)
                printf("request %lld filed: %s on %s\n", (long long)id, render_safe(req.service),
                       ports);
        rsap_request_clear(&req);
        return 0;
}

static int file_requests(struct cli *cli, const struct rsap_workflow *wf, struct registry_cli *rc,
                         const struct check_args *a, const struct check_ports *ports,
                         const bool *registered, json_t *filed)
{
        for (size_t i = 0; i < ports->n; i++) {
                unsigned mask = free_protocols(ports, registered, i);

                if (mask && !ports->items[i].service[0])
                        continue; /* an object with no name: nothing to file it under */
                if (mask && file_one(cli, wf, rc, a, &ports->items[i], mask, filed) != 0)
                        return EXIT_BAD_INPUT;
        }
        return 0;
}

/* ---- the command -------------------------------------------------------------------- */

static int open_stores(struct cli *cli, struct registry_cli *rc, const struct check_args *a,
                       struct rsap_iana **iana, struct rsap_store **store)
{
        if (!a->request)
                return registry_open_lookup(cli, rc, iana, store);
        *iana = cli_open_registry(cli);
        if (!*iana)
                return EXIT_BAD_INPUT;
        *store = registry_open_write(cli, rc);
        return *store ? 0 : EXIT_BAD_INPUT;
}

/* The table first, then the requests filed; in JSON, the requests inside the answer. */
static int report(struct cli *cli, const struct rsap_workflow *wf, struct registry_cli *rc,
                  const struct check_args *a, const struct check_ports *ports,
                  const bool *registered, size_t n_findings)
{
        _cleanup_(cli_json_decrefp) json_t *filed = json_array();

        if (!filed)
                return cli_error("out of memory");
        if (!cli->json)
                print_text(cli, ports, n_findings);
        if (a->request && file_requests(cli, wf, rc, a, ports, registered, filed))
                return EXIT_BAD_INPUT;
        if (cli->json && cli_print_json(json_pack("{s:s, s:o, s:I, s:O}", "kind", "check",
                                                  "ports", ports_json(ports),
                                                  "ports_with_findings",
                                                  (json_int_t)n_findings, "requests", filed)))
                return EXIT_BAD_INPUT;
        return n_findings ? EXIT_NO_MATCH : EXIT_ANSWERED;
}

static int check(struct cli *cli, struct registry_cli *rc, const struct check_args *a,
                 struct check_ports *ports)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *iana = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *listeners = NULL;
        _cleanup_(freep) bool *registered = calloc(ports->n + 1, sizeof(bool));
        struct rsap_host host;
        struct rsap_workflow wf;
        size_t n_findings;
        int r;

        if (!registered)
                return cli_error("out of memory");
        r = open_stores(cli, rc, a, &iana, &store);
        if (r != 0)
                return r;
        registry_host(&host, &listeners, false);
        wf = (struct rsap_workflow){ store, iana, registry_actor(rc), &host };
        r = judge(&wf, rc, a->ignore, ports, registered, &n_findings);
        if (r != -1)
                return r;
        return report(cli, &wf, rc, a, ports, registered, n_findings);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("check");
        struct check_args a = { 0 };
        struct registry_cli rc = { 0 };
        struct check_ports ports = { 0 };
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, check_option, &a);
        if (r >= 0)
                return r;
        if (optind == argc)
                return cli_usage_error(self, "which files? rsap check FILE...");
        if (a.request && (!a.assignee || !a.contact))
                return cli_usage_error(self, "--request needs --assignee and --contact");
        if (a.service && (!*a.service || strlen(a.service) > RSAP_NAME_MAX))
                return cli_usage_error(self, "--service takes a name of 1 to %d characters",
                                       RSAP_NAME_MAX);
        if (!a.request && (a.assignee || a.contact || a.description))
                return cli_usage_error(self, "--assignee, --contact and --description go "
                                             "with --request");
        if (read_files(&a, argv + optind, argc - optind, &ports) != 0) {
                check_ports_clear(&ports);
                return EXIT_BAD_INPUT;
        }
        r = check(cli, &rc, &a, &ports);
        check_ports_clear(&ports);
        return r;
}

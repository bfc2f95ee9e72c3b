/* SPDX-License-Identifier: MIT */
/*
 * rsap history PORT|NAME|ID: every event ever recorded for it, oldest first;
 * with --listening, what rsapd saw listen on a port, from when to when.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <rsap/json.h>
#include <rsap/listen_history.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

/* "request 12", "assignment 5", "lease 3": the record an event is about. */
static void record_label(const struct rsap_event *e, char *buf, size_t size)
{
        if (e->assignment_id)
                snprintf(buf, size, "assignment %lld", (long long)e->assignment_id);
        else if (e->lease_id)
                snprintf(buf, size, "lease %lld", (long long)e->lease_id);
        else if (e->request_id)
                snprintf(buf, size, "request %lld", (long long)e->request_id);
        else
                snprintf(buf, size, "-");
}

static void port_label(const struct rsap_event *e, char *buf, size_t size)
{
        if (e->port < 0)
                snprintf(buf, size, "-");
        else if (e->proto != RSAP_PROTO_NONE)
                snprintf(buf, size, "%d/%s", e->port, rsap_proto_name(e->proto));
        else
                snprintf(buf, size, "%d", e->port);
}

/* The one detail worth a line for each action. */
static void summary(const struct rsap_event *e, char *buf, size_t size)
{
        _cleanup_(cli_json_decrefp) json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
        const char *to = json_string_value(json_object_get(d, "to"));
        const char *from = json_string_value(json_object_get(d, "from"));
        const char *until = json_string_value(json_object_get(d, "quarantine_until"));
        const char *protocols = json_string_value(json_object_get(d, "protocols"));
        const char *expires = json_string_value(json_object_get(d, "expires"));
        const char *over = json_string_value(json_object_get(d, "over_iana"));

        buf[0] = '\0';
        if (to && from)
                snprintf(buf, size, "from %s to %s", from, to);
        else if (until)
                snprintf(buf, size, "quarantined until %s", until);
        else if (protocols)
                snprintf(buf, size, "on %s", protocols);
        else if (expires)
                snprintf(buf, size, "until %s", expires);
        else if (over)
                snprintf(buf, size, "over IANA's %s", over);
}

static void render_history(const struct cli *cli, const struct rsap_history *h)
{
        for (size_t i = 0; i < h->n_events; i++) {
                const struct rsap_event *e = &h->events[i];
                char when[RSAP_TIME_SIZE], record[40], port[24], more[160];

                rsap_time_format(e->time_us, when, sizeof(when));
                record_label(e, record, sizeof(record));
                port_label(e, port, sizeof(port));
                summary(e, more, sizeof(more));
                printf("%s%s%s  %-8s %-16s %-16s %-10s by %s%s%s\n", cli_dim(cli), when,
                       cli_reset(cli), render_safe(e->action), record,
                       e->service ? render_safe(e->service) : "-", port, render_safe(e->actor),
                       more[0] ? ", " : "", render_safe(more));
                if (e->reason)
                        printf("%*s why: %s\n", RSAP_TIME_SIZE - 6, "", render_safe(e->reason));
        }
}

static int history(struct cli *cli, struct registry_cli *rc, const char *text)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        struct rsap_history h = { 0 };
        struct rsap_target target;
        int r;

        if (rsap_target_parse(text, &target) < 0)
                return cli_error("'%s' is not a port, a service name, or request:ID, "
                                 "assignment:ID or lease:ID",
                                 text);
        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        if (store) {
                r = rsap_history(store, &target, &h);
                if (r < 0)
                        return registry_error(rc, r, "cannot read the history");
        } else {
                h.target = target;
        }
        if (cli->json)
                r = cli_print_json(rsap_history_to_json(&h));
        else if (h.n_events > 0)
                render_history(cli, &h);
        else
                fprintf(stderr, "rsap: no event recorded for %s%s\n", text,
                        store ? "" : " (no local registry yet)");
        r = r ? EXIT_BAD_INPUT : h.n_events > 0 ? EXIT_ANSWERED : EXIT_NO_MATCH;
        rsap_history_clear(&h);
        return r;
}

/* The port's timeline, then its squatter findings. */
static int render_port_listening(const struct cli *cli, const struct rsap_port_listening *h)
{
        if (h->intervals.n > 0 && render_intervals(cli, &h->intervals) < 0)
                return -EIO;
        if (h->n_findings == 0)
                return 0;
        printf("%sfindings%s\n", cli_dim(cli), cli_reset(cli));
        return render_findings(cli, h->findings, h->n_findings);
}

/* The intervals and findings recorded on one port, every host's, oldest first. */
static int listening_history(struct cli *cli, struct registry_cli *rc, const char *text)
{
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_port_listening_clear) struct rsap_port_listening h = { 0 };
        struct rsap_target target;
        bool any;
        int r;

        if (rsap_target_parse(text, &target) < 0 || target.kind != RSAP_TARGET_PORT)
                return cli_error("--listening: '%s' is not a port (PORT or PORT/PROTO)", text);
        r = registry_open_read(cli, rc, &store);
        if (r)
                return r;
        if (store && (r = rsap_port_listening_read(store, target.port, target.proto, &h)) < 0)
                return registry_error(rc, r, "cannot read the listening history");
        any = h.intervals.n > 0 || h.n_findings > 0;
        if (cli->json)
                r = cli_print_json(rsap_port_listening_to_json(&h));
        else if (any)
                r = render_port_listening(cli, &h) < 0 ? cli_error("cannot write the output") : 0;
        else
                fprintf(stderr, "rsap: nothing was recorded listening on %s%s\n", text,
                        store ? "" : " (no local registry yet)");
        return r ? r : any ? EXIT_ANSWERED : EXIT_NO_MATCH;
}

static int history_option(const struct cli_command *self, int opt, void *data)
{
        (void)self;
        if (opt != 'L')
                return -2;
        *(bool *)data = true;
        return -1;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("history");
        struct registry_cli rc = { 0 };
        bool listening = false;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, history_option, &listening);
        if (r >= 0)
                return r;
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "the history of what?"
                                                            : "one port, name or id at a time");
        if (listening)
                return listening_history(cli, &rc, argv[optind]);
        return history(cli, &rc, argv[optind]);
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <rsap/listen.h>
#include <rsap/workflow.h>

#include "render.h"

#define FIELD_WIDTH 12
/* Wide enough for "27000-27009/any", the longest label IANA's data makes. */
#define LABEL_WIDTH 15

const char *render_status_color(const struct cli *cli, enum rsap_status status)
{
        switch (status) {
        case RSAP_STATUS_ASSIGNED:
                return cli_green(cli);
        case RSAP_STATUS_RESERVED:
                return cli_yellow(cli);
        case RSAP_STATUS_UNASSIGNED:
                break;
        }
        return cli_dim(cli);
}

void render_record_label(const struct rsap_record *r, char *buf, size_t size)
{
        const char *proto = r->proto ? rsap_proto_name(r->proto) : "any";

        if (!r->has_port)
                snprintf(buf, size, "(no port)/%s", proto);
        else if (r->port_low == r->port_high)
                snprintf(buf, size, "%u/%s", r->port_low, proto);
        else
                snprintf(buf, size, "%u-%u/%s", r->port_low, r->port_high, proto);
}

/* A value over several lines keeps the value column. */
static void print_value(const char *text)
{
        for (; *text; text++) {
                putchar(*text);
                if (*text == '\n')
                        printf("  %*s ", FIELD_WIDTH, "");
        }
        putchar('\n');
}

static void field(const struct cli *cli, const char *key, const char *value, const char *absent)
{
        printf("  %-*s ", FIELD_WIDTH, key);
        if (value) {
                print_value(value);
                return;
        }
        printf("%s%s%s\n", cli_dim(cli), absent, cli_reset(cli));
}

static void person_text(const struct rsap_person *p, char *buf, size_t size)
{
        const char *who = p->name ? p->name : p->id;

        if (p->email && p->org)
                snprintf(buf, size, "%s <%s>, %s", who, p->email, p->org);
        else if (p->email)
                snprintf(buf, size, "%s <%s>", who, p->email);
        else if (p->org)
                snprintf(buf, size, "%s, %s", who, p->org);
        else if (p->uri)
                snprintf(buf, size, "%s <%s>", who, p->uri);
        else
                snprintf(buf, size, "%s", who ? who : "");
}

static void people_field(const struct cli *cli, const char *key, const struct rsap_person *p,
                         size_t n, const char *absent)
{
        char buf[512];

        if (n == 0) {
                field(cli, key, NULL, absent);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                person_text(&p[i], buf, sizeof(buf));
                field(cli, i == 0 ? key : "", buf, absent);
        }
}

static void references_field(const struct cli *cli, const struct rsap_record *r)
{
        char buf[1024];

        if (r->n_references == 0) {
                field(cli, "references", NULL, "no RFC or other reference");
                return;
        }
        for (size_t i = 0; i < r->n_references; i++) {
                const struct rsap_reference *ref = &r->references[i];

                if (ref->url && strcmp(ref->url, ref->text) != 0)
                        snprintf(buf, sizeof(buf), "%s <%s>", ref->text, ref->url);
                else
                        snprintf(buf, sizeof(buf), "%s", ref->text);
                field(cli, i == 0 ? "references" : "", buf, "");
        }
}

void render_record(const struct cli *cli, const struct rsap_record *r, bool brief)
{
        char label[32];

        render_record_label(r, label, sizeof(label));
        printf("%s%-*s%s %-16s %s%s%s\n", cli_bold(cli), LABEL_WIDTH, label, cli_reset(cli),
               r->service ? r->service : "-", render_status_color(cli, r->status),
               rsap_status_name(r->status), cli_reset(cli));
        if (brief)
                return;
        field(cli, "description", r->description, "no description");
        if (r->source == RSAP_SOURCE_BUILTIN)
                return; /* the built-in copy has nothing more: the footer says so */
        people_field(cli, "assignee", r->assignee, r->n_assignee, "no assignee");
        people_field(cli, "contact", r->contact, r->n_contact, "no contact");
        field(cli, "registered", r->registered, "no registration date");
        field(cli, "modified", r->modified, "never modified");
        references_field(cli, r);
        if (r->service_code)
                field(cli, "service code", r->service_code, "");
        if (r->unauthorized_use)
                field(cli, "unauthorized", r->unauthorized_use, "");
        if (r->notes)
                field(cli, "notes", r->notes, "");
}

void render_one_line(const char *text)
{
        bool blank = false;

        for (; *text; text++) {
                bool is_blank = *text == ' ' || *text == '\t' || *text == '\n' || *text == '\r';

                if (is_blank && !blank)
                        putchar(' ');
                else if (!is_blank)
                        putchar(*text);
                blank = is_blank;
        }
}

void render_data_footer(const struct cli *cli, const struct rsap_registry *reg)
{
        struct rsap_registry_info info;

        rsap_registry_info(reg, &info);
        printf("\n%s", cli_dim(cli));
        if (info.source == RSAP_SOURCE_BUILTIN)
                printf("data: built-in copy (%s), names and descriptions only;\n"
                       "      'rsap update' brings assignees, contacts, dates and references\n",
                       info.release ? info.release : "unknown release");
        else
                printf("data: IANA registry %s (%s, %zu records)\n",
                       info.release ? info.release : "of unknown date", info.origin,
                       info.records);
        printf("%s", cli_reset(cli));
}

static bool has_record_for(const struct rsap_registry *reg, const struct rsap_port_answer *a,
                           enum rsap_proto proto)
{
        for (size_t i = 0; i < a->n_ids; i++) {
                struct rsap_record r;

                rsap_registry_record(reg, a->ids[i], &r);
                if (r.proto == proto || r.proto == RSAP_PROTO_NONE)
                        return true;
        }
        return false;
}

static void render_on_this_host(const struct cli *cli, const struct rsap_registry *reg,
                               const struct rsap_port_answer *a)
{
        char what[32];

        if (a->proto == RSAP_PROTO_NONE)
                snprintf(what, sizeof(what), "port %u", a->port);
        else
                snprintf(what, sizeof(what), "%u/%s", a->port, rsap_proto_name(a->proto));
        if (a->listeners_error) {
                printf("\n%son this host%s  %scannot tell: %s%s\n", cli_bold(cli), cli_reset(cli),
                       cli_dim(cli), strerror(-a->listeners_error), cli_reset(cli));
                return;
        }
        if (!a->listeners)
                return;
        if (a->listeners->count == 0) {
                printf("\n%son this host%s  nothing is bound to %s\n", cli_bold(cli),
                       cli_reset(cli), what);
                return;
        }
        printf("\n%son this host%s\n", cli_bold(cli), cli_reset(cli));
        fflush(stdout);
        if (render_listeners(cli, a->listeners, reg) < 0)
                printf("(cannot show the sockets)\n");
        render_hidden_owners_hint(a->listeners);
}

void render_local_label(const struct rsap_local_entry *e, char *buf, size_t size)
{
        char protocols[32] = "";
        size_t used = 0;

        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                if (e->protocols & (1u << p) && used < sizeof(protocols))
                        used += (size_t)snprintf(protocols + used, sizeof(protocols) - used,
                                                 "%s%s", used ? "," : "",
                                                 rsap_proto_name((enum rsap_proto)p));
        if (e->port < 0)
                snprintf(buf, size, "any/%s", protocols);
        else
                snprintf(buf, size, "%d/%s", e->port, protocols);
}

/* "assignment 5 since ..., Alice", "request 7, pending since ...", "lease 3 until ..." */
static void local_entry_text(const struct rsap_local_entry *e, char *buf, size_t size)
{
        char since[RSAP_TIME_SIZE], until[RSAP_TIME_SIZE];
        long long id = (long long)e->id;
        int n;

        rsap_time_format(e->since_us, since, sizeof(since));
        rsap_time_format(e->until_us, until, sizeof(until));
        switch (e->kind) {
        case RSAP_LOCAL_ASSIGNMENT:
                n = strcmp(e->state, "active") == 0
                            ? snprintf(buf, size, "assignment %lld since %s, %s", id, since,
                                       e->assignee)
                            : snprintf(buf, size, "assignment %lld ended; quarantined until %s",
                                       id, until);
                if (e->over_iana && n > 0 && (size_t)n < size)
                        snprintf(buf + n, size - (size_t)n, ", over IANA's %s", e->over_iana);
                return;
        case RSAP_LOCAL_REQUEST:
                snprintf(buf, size, "request %lld, pending since %s, %s", id, since, e->assignee);
                return;
        case RSAP_LOCAL_LEASE:
                break;
        }
        n = snprintf(buf, size, "lease %lld until %s", id, until);
        if (e->pid > 0 && n > 0 && (size_t)n < size)
                snprintf(buf + n, size - (size_t)n, ", for process %d", (int)e->pid);
}

void render_local(const struct cli *cli, const struct rsap_local_list *local)
{
        if (!local || local->n_entries == 0)
                return;
        printf("\n%slocal registry%s\n", cli_bold(cli), cli_reset(cli));
        for (size_t i = 0; i < local->n_entries; i++) {
                const struct rsap_local_entry *e = &local->entries[i];
                char label[48], text[320];

                render_local_label(e, label, sizeof(label));
                local_entry_text(e, text, sizeof(text));
                printf("%s%-*s%s %-16s %s\n", cli_bold(cli), LABEL_WIDTH, label, cli_reset(cli),
                       e->service ? e->service : "-", text);
                if (e->description)
                        printf("  %-*s %s\n", FIELD_WIDTH, "description", e->description);
        }
}

void render_port_answer(const struct cli *cli, const struct rsap_registry *reg,
                        const struct rsap_port_answer *a)
{
        bool dynamic = a->range->id == RSAP_RANGE_DYNAMIC;
        bool blank_done = false;

        printf("%sport %u%s: %s (%u-%u)\n", cli_bold(cli), a->port, cli_reset(cli),
               a->range->title, a->range->low, a->range->high);
        printf("  %s\n", a->range->meaning);
        for (size_t i = 0; i < a->n_ids; i++) {
                struct rsap_record r;

                rsap_registry_record(reg, a->ids[i], &r);
                putchar('\n');
                render_record(cli, &r, false);
        }
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                char label[16];

                if (a->proto != RSAP_PROTO_NONE && a->proto != (enum rsap_proto)p)
                        continue;
                if (has_record_for(reg, a, (enum rsap_proto)p))
                        continue;
                if (!blank_done)
                        putchar('\n');
                blank_done = true;
                snprintf(label, sizeof(label), "%u/%s", a->port, rsap_proto_name((enum rsap_proto)p));
                printf("%s%-*s%s %-16s %sunassigned%s  %s\n", cli_bold(cli), LABEL_WIDTH, label, cli_reset(cli),
                       "-", cli_dim(cli), cli_reset(cli),
                       dynamic ? "Dynamic Ports are never assigned" : "no record in the registry");
        }
        render_local(cli, a->local);
        render_on_this_host(cli, reg, a);
        render_data_footer(cli, reg);
}

void render_name_answer(const struct cli *cli, const struct rsap_registry *reg,
                        const struct rsap_name_answer *a)
{
        printf("%sservice %s%s", cli_bold(cli), a->name, cli_reset(cli));
        if (a->replacement[0])
                printf(": a historic name; its well-formed replacement is %s", a->replacement);
        else if (a->problem != RSAP_NAME_OK)
                printf(": a legacy name (%s)", rsap_name_problem_text(a->problem));
        putchar('\n');
        for (size_t i = 0; i < a->n_ids; i++) {
                struct rsap_record r;

                rsap_registry_record(reg, a->ids[i], &r);
                putchar('\n');
                render_record(cli, &r, false);
        }
        render_local(cli, a->local);
        render_data_footer(cli, reg);
}

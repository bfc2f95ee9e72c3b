/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <rsap/listen.h>
#include <rsap/textsafe.h>
#include <rsap/workflow.h>

#include "render.h"

#define FIELD_WIDTH 12
/* Wide enough for "27000-27009/any", the longest label IANA's data makes. */
#define LABEL_WIDTH 15
/* Wide enough for "local registry", the longest key of the brief form. */
#define KEY_WIDTH 14

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

/*
 * A few buffers that escaped text lives in until as many later calls have
 * reused them: enough for every argument of one printf.  They grow as
 * needed and are kept for the life of the program.
 */
#define SAFE_SLOTS 8

const char *render_safe_n(const char *text, size_t len)
{
        static struct {
                char *buf;
                size_t size;
        } slots[SAFE_SLOTS];
        static unsigned next;
        size_t need;

        if (!text)
                return NULL;
        if (!rsap_text_needs_escape(text, len) && text[len] == '\0')
                return text;
        need = rsap_text_escape(NULL, 0, text, len) + 1;
        next = (next + 1) % SAFE_SLOTS;
        if (slots[next].size < need) {
                char *grown = realloc(slots[next].buf, need);

                if (!grown)
                        return "(?)"; /* never the raw text */
                slots[next].buf = grown;
                slots[next].size = need;
        }
        rsap_text_escape(slots[next].buf, slots[next].size, text, len);
        return slots[next].buf;
}

const char *render_safe(const char *text)
{
        return text ? render_safe_n(text, strlen(text)) : NULL;
}

/* Where the value of a field starts: two spaces, the key, one space. */
#define VALUE_COLUMN (2 + FIELD_WIDTH + 1)

/* How wide a line may be: the terminal's width, else 80 columns. */
static int output_width(void)
{
        struct winsize ws;

        if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
                return ws.ws_col;
        return 80;
}

/*
 * Whether a line break of the registry's text ends something (a sentence, a
 * heading; before a list item or a "NOTE:") rather than a line IANA wrapped
 * in the middle of a sentence, which folding re-wraps.
 */
static bool keeps_break(char last, const char *next)
{
        size_t word = strcspn(next, " \t\r\n");

        if (!last || strchr(".:;)", last))
                return true;
        if (strchr("*-(", *next))
                return true; /* a list item or an aside */
        return word > 1 && next[word - 1] == ':';
}

/*
 * Text folded at word boundaries to the output width, each line starting at
 * column indent (the first where the caller left it).  A word longer than
 * the room left is printed whole.
 */
static void print_folded(const char *text, int indent)
{
        int room = output_width() - indent;
        int col = 0;
        char last = '\0';

        while (*text) {
                const char *word;
                size_t len;
                int width;

                if (*text == ' ' || *text == '\t' || (text[0] == '\r' && text[1] == '\n')) {
                        text++;
                        continue;
                }
                if (*text == '\n') {
                        text += strspn(text, " \t\r\n");
                        if (*text && keeps_break(last, text)) {
                                printf("\n%*s", indent, "");
                                col = 0;
                        }
                        continue;
                }
                /* A lone CR or any other control character stays in its word, escaped. */
                len = strcspn(text, " \t\n");
                if (len > 1 && text[len - 1] == '\r' && text[len] == '\n')
                        len--;
                word = render_safe_n(text, len);
                width = (int)rsap_text_columns(word, strlen(word));
                if (col > 0 && col + 1 + width > room) {
                        printf("\n%*s", indent, "");
                        col = 0;
                } else if (col > 0) {
                        putchar(' ');
                        col++;
                }
                fputs(word, stdout);
                col += width;
                last = text[len - 1];
                text += len;
        }
        putchar('\n');
}

/* A field with a value; an empty field prints nothing. */
static void field(const char *key, const char *value)
{
        if (!value || !*value)
                return;
        printf("  %-*s ", FIELD_WIDTH, key);
        print_folded(value, VALUE_COLUMN);
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

static void people_field(const char *key, const struct rsap_person *p, size_t n)
{
        char buf[512];

        for (size_t i = 0; i < n; i++) {
                person_text(&p[i], buf, sizeof(buf));
                field(i == 0 ? key : "", buf);
        }
}

static void references_field(const struct rsap_record *r)
{
        char buf[1024];

        for (size_t i = 0; i < r->n_references; i++) {
                const struct rsap_reference *ref = &r->references[i];

                if (ref->url && strcmp(ref->url, ref->text) != 0)
                        snprintf(buf, sizeof(buf), "%s <%s>", ref->text, ref->url);
                else
                        snprintf(buf, sizeof(buf), "%s", ref->text);
                field(i == 0 ? "references" : "", buf);
        }
}

/* ---- records that differ only in protocol make one group ----------------- */

#define MAX_ALIASES 8

struct record_group {
        struct rsap_record rec; /* the first record of the group */
        unsigned protocols;     /* 1u << proto of each record; bit 0: "any" */
        char alias_of[16];      /* a second name of a service the answer lacks */
        /* Second names of this group's service folded into its row (brief form). */
        const char *aliases[MAX_ALIASES];
        size_t n_aliases;
};

static bool same_text(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_port(const struct rsap_record *a, const struct rsap_record *b)
{
        return a->has_port == b->has_port &&
               (!a->has_port || (a->port_low == b->port_low && a->port_high == b->port_high));
}

/* What a row of the brief form shows. */
static bool same_row(const struct rsap_record *a, const struct rsap_record *b)
{
        return same_text(a->service, b->service) && same_port(a, b) && a->status == b->status &&
               same_text(a->description, b->description);
}


static unsigned proto_bit(const struct rsap_record *r)
{
        return 1u << r->proto; /* RSAP_PROTO_NONE is bit 0 */
}

/* The record's other name when it is one: "http" for www, "" otherwise. */
static void alias_target(const struct rsap_record *r, char *buf, size_t size)
{
        if (rsap_record_alias_of(r, buf, size) < 0 ||
            (r->service && strcasecmp(r->service, buf) == 0))
                buf[0] = '\0';
}

/* Whether r, a second name of target, may fold into a record of recs[]: the
 * target's own record on the same ports and protocol. */
static bool has_host(const struct rsap_record *recs, char (*targets)[16], size_t n,
                     const struct rsap_record *r, const char *target)
{
        for (size_t j = 0; j < n; j++)
                if (!targets[j][0] && recs[j].service && strcasecmp(recs[j].service, target) == 0 &&
                    same_port(&recs[j], r) && (proto_bit(&recs[j]) | 1u) & (proto_bit(r) | 1u))
                        return true;
        return false;
}

static struct record_group *find_group(struct record_group *groups, size_t n,
                                       const struct rsap_record *r, const char *alias_of,
                                       bool brief)
{
        for (size_t i = 0; i < n; i++) {
                const struct rsap_record *g = &groups[i].rec;
                bool same = brief ? same_row(g, r) : rsap_record_same_but_protocol(g, r);

                if (same && strcmp(groups[i].alias_of, alias_of) == 0)
                        return &groups[i];
        }
        return NULL;
}

/* The row a second name folds into: its target's, on the same ports. */
static struct record_group *host_group(struct record_group *groups, size_t n,
                                       const struct rsap_record *r, const char *target)
{
        for (size_t i = 0; i < n; i++) {
                const struct rsap_record *h = &groups[i].rec;

                if (!groups[i].alias_of[0] && h->service && strcasecmp(h->service, target) == 0 &&
                    same_port(h, r) && (groups[i].protocols | 1u) & (proto_bit(r) | 1u))
                        return &groups[i];
        }
        return NULL;
}

static void add_alias(struct record_group *g, const char *name)
{
        for (size_t i = 0; i < g->n_aliases; i++)
                if (strcasecmp(g->aliases[i], name) == 0)
                        return;
        if (g->n_aliases < MAX_ALIASES)
                g->aliases[g->n_aliases++] = name;
}

struct grouping {
        struct record_group *groups;
        size_t n;
};

/*
 * The answer's records as groups, in registry order.  Brief: records whose
 * rows would read the same make one group, and a second name of a service
 * the answer also holds (www beside http) folds into that service's row.
 * Full: only records equal in every field but protocol make one group.
 */
static int group_records(const struct rsap_iana *reg, const uint32_t *ids, size_t n,
                         bool brief, struct grouping *out)
{
        _cleanup_(freep) struct rsap_record *recs = calloc(n ? n : 1, sizeof(*recs));
        _cleanup_(freep) char(*targets)[16] = calloc(n ? n : 1, sizeof(*targets));
        _cleanup_(freep) bool *folded = calloc(n ? n : 1, sizeof(*folded));
        struct record_group *groups = calloc(n ? n : 1, sizeof(*groups));
        size_t count = 0;

        if (!recs || !targets || !folded || !groups) {
                free(groups);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                rsap_iana_record(reg, ids[i], &recs[i]);
                alias_target(&recs[i], targets[i], sizeof(targets[i]));
        }
        for (size_t i = 0; i < n; i++) {
                struct record_group *g;

                folded[i] = brief && targets[i][0] && recs[i].service &&
                            has_host(recs, targets, n, &recs[i], targets[i]);
                if (folded[i])
                        continue;
                g = find_group(groups, count, &recs[i], targets[i], brief);
                if (!g) {
                        g = &groups[count++];
                        g->rec = recs[i];
                        memcpy(g->alias_of, targets[i], sizeof(g->alias_of));
                }
                g->protocols |= proto_bit(&recs[i]);
        }
        for (size_t i = 0; i < n; i++) {
                struct record_group *host =
                        folded[i] ? host_group(groups, count, &recs[i], targets[i]) : NULL;

                if (host)
                        add_alias(host, recs[i].service);
        }
        out->groups = groups;
        out->n = count;
        return 0;
}

/* "tcp,udp", "any" for protocol-less records. */
static void protocols_text(unsigned protocols, char *buf, size_t size)
{
        bool any = protocols & 1u;
        char rest[32] = "";

        rsap_proto_format_list(protocols & ~1u, rest, sizeof(rest));
        snprintf(buf, size, "%s%s%s", any ? "any" : "", any && *rest ? "," : "", rest);
}

static void ports_text(const struct rsap_record *r, char *buf, size_t size)
{
        if (!r->has_port)
                snprintf(buf, size, "-");
        else if (r->port_low == r->port_high)
                snprintf(buf, size, "%u", r->port_low);
        else
                snprintf(buf, size, "%u-%u", r->port_low, r->port_high);
}

/* ---- the brief form: one aligned row per group ----------------------------- */

struct row {
        const char *service;
        char ports[16];
        char protocols[32];
        enum rsap_status status;
        const char *text; /* the description, or what the registry lacks */
        const struct record_group *group; /* NULL for the row of protocols without a record */
};

struct widths {
        int service, ports, protocols, status;
};

static void widen(int *width, const char *text)
{
        int len = (int)strlen(text);

        if (len > *width)
                *width = len;
}

static void row_of_group(const struct record_group *g, struct row *row)
{
        row->service = g->rec.service ? g->rec.service : "-";
        ports_text(&g->rec, row->ports, sizeof(row->ports));
        protocols_text(g->protocols, row->protocols, sizeof(row->protocols));
        row->status = g->rec.status;
        row->text = g->rec.description ? g->rec.description : "";
        row->group = g;
}

/* " (also www, www-http)" after http; " (a second name of http)" after www alone. */
static void print_names(const struct cli *cli, const struct record_group *g)
{
        if (g->alias_of[0])
                printf(" %s(a second name of %s)%s", cli_dim(cli), render_safe(g->alias_of),
                       cli_reset(cli));
        if (g->n_aliases == 0)
                return;
        printf(" %s(also %s", cli_dim(cli), render_safe(g->aliases[0]));
        for (size_t i = 1; i < g->n_aliases; i++)
                printf(", %s", render_safe(g->aliases[i]));
        printf(")%s", cli_reset(cli));
}

static void print_row(const struct cli *cli, const struct row *row, const struct widths *w)
{
        const struct record_group *g = row->group;
        bool last = !*row->text && (!g || (!g->alias_of[0] && !g->n_aliases));

        printf("%s%-*s%s  %-*s  %-*s  %s%-*s%s%s", cli_bold(cli), w->service, render_safe(row->service),
               cli_reset(cli), w->ports, row->ports, w->protocols, row->protocols,
               render_status_color(cli, row->status), last ? 0 : w->status,
               rsap_status_name(row->status), cli_reset(cli), last ? "" : "  ");
        if (!g) {
                printf("%s%s%s\n", cli_dim(cli), render_safe(row->text), cli_reset(cli));
                return;
        }
        render_one_line(row->text);
        print_names(cli, g);
        putchar('\n');
}

static void print_rows(const struct cli *cli, const struct row *rows, size_t n)
{
        struct widths w = { 0 };

        for (size_t i = 0; i < n; i++) {
                widen(&w.service, render_safe(rows[i].service));
                widen(&w.ports, rows[i].ports);
                widen(&w.protocols, rows[i].protocols);
                widen(&w.status, rsap_status_name(rows[i].status));
        }
        for (size_t i = 0; i < n; i++)
                print_row(cli, &rows[i], &w);
}

static int render_name_rows(const struct cli *cli, const struct grouping *g)
{
        _cleanup_(freep) struct row *rows = calloc(g->n ? g->n : 1, sizeof(*rows));

        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < g->n; i++)
                row_of_group(&g->groups[i], &rows[i]);
        print_rows(cli, rows, g->n);
        return 0;
}

/* ---- the full form: every non-empty field, once per group ------------------ */

/* "80/tcp,udp", "6000-6063/tcp", "(no port)/any": the heading of a record. */
static int group_label(const struct record_group *g, char *buf, size_t size)
{
        char ports[16], protocols[32];

        ports_text(&g->rec, ports, sizeof(ports));
        protocols_text(g->protocols, protocols, sizeof(protocols));
        return snprintf(buf, size, "%s/%s", g->rec.has_port ? ports : "(no port)", protocols);
}

/* The label column: LABEL_WIDTH, or wider for a long range on many protocols. */
static int label_width(const struct grouping *g)
{
        int width = LABEL_WIDTH;

        for (size_t i = 0; i < g->n; i++) {
                char label[64];
                int len = group_label(&g->groups[i], label, sizeof(label));

                if (len > width)
                        width = len;
        }
        return width;
}

static void render_group_full(const struct cli *cli, const struct record_group *g, int width)
{
        const struct rsap_record *r = &g->rec;
        char label[64];

        group_label(g, label, sizeof(label));
        printf("%s%-*s%s %-16s %s%s%s\n", cli_bold(cli), width, label, cli_reset(cli),
               r->service ? render_safe(r->service) : "-", render_status_color(cli, r->status),
               rsap_status_name(r->status), cli_reset(cli));
        field("description", r->description);
        people_field("assignee", r->assignee, r->n_assignee);
        people_field("contact", r->contact, r->n_contact);
        field("registered", r->registered);
        field("modified", r->modified);
        references_field(r);
        field("service code", r->service_code);
        field("unauthorized", r->unauthorized_use);
        field("notes", r->notes);
}

/* A blank that joins words on one line: a lone CR is no blank but text, escaped. */
static size_t blank_length(const char *text)
{
        if (*text == ' ' || *text == '\t' || *text == '\n')
                return 1;
        return text[0] == '\r' && text[1] == '\n' ? 2 : 0;
}

void render_one_line(const char *text)
{
        bool blank = false;

        while (*text) {
                size_t n = blank_length(text), len = 0;

                if (n) {
                        if (!blank)
                                putchar(' ');
                        blank = true;
                        text += n;
                        continue;
                }
                while (text[len] && !blank_length(text + len))
                        len++;
                fputs(render_safe_n(text, len), stdout);
                blank = false;
                text += len;
        }
}

void render_data_footer(const struct cli *cli, const struct rsap_iana *reg)
{
        struct rsap_iana_info info;
        bool builtin;

        rsap_iana_info(reg, &info);
        builtin = info.source == RSAP_SOURCE_BUILTIN;
        printf("\n%sdata: %s copy of IANA's registry, release %s", cli_dim(cli),
               builtin ? "built-in" : "cached", info.release ? info.release : "unknown");
        if (!builtin)
                printf(" (%s)", render_safe(info.origin));
        printf("%s\n", cli_reset(cli));
}

/* The transports asked about on which no record covers the port. */
static unsigned unrecorded_protocols(const struct rsap_iana *reg,
                                     const struct rsap_port_answer *a)
{
        unsigned mask = 0;

        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                if (a->proto == RSAP_PROTO_NONE || a->proto == (enum rsap_proto)p)
                        mask |= 1u << p;
        for (size_t i = 0; i < a->n_ids; i++) {
                struct rsap_record r;

                rsap_iana_record(reg, a->ids[i], &r);
                mask &= r.proto == RSAP_PROTO_NONE ? 0 : ~(1u << r.proto);
        }
        return mask;
}

static const char *unrecorded_text(const struct rsap_port_answer *a)
{
        return a->range->id == RSAP_RANGE_DYNAMIC ? "Dynamic Ports are never assigned"
                                                  : "no record in the registry";
}

/* The bold key of a line such as "on this host  nothing is bound to port 80". */
static void key(const struct cli *cli, const char *name)
{
        printf("%s%-*s%s  ", cli_bold(cli), KEY_WIDTH, name, cli_reset(cli));
}

static void render_on_this_host(const struct cli *cli, const struct rsap_iana *reg,
                               const struct rsap_port_answer *a)
{
        char what[32];

        if (a->proto == RSAP_PROTO_NONE)
                snprintf(what, sizeof(what), "port %u", a->port);
        else
                snprintf(what, sizeof(what), "%u/%s", a->port, rsap_proto_name(a->proto));
        if (a->listeners_error) {
                key(cli, "on this host");
                printf("%scannot tell: %s%s\n", cli_dim(cli), strerror(-a->listeners_error),
                       cli_reset(cli));
                return;
        }
        if (!a->listening.list)
                return;
        key(cli, "on this host");
        if (a->listening.list->count == 0) {
                printf("nothing is bound to %s\n", what);
                return;
        }
        putchar('\n');
        fflush(stdout);
        if (render_listeners(cli, &a->listening, reg) < 0)
                printf("(cannot show the sockets)\n");
        render_hidden_owners_hint(a->listening.list);
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

static void local_row(const struct cli *cli, const struct rsap_local_entry *e)
{
        char label[48], text[320];

        render_local_label(e, label, sizeof(label));
        local_entry_text(e, text, sizeof(text));
        printf("%s%-*s%s %-16s %s\n", cli_bold(cli), LABEL_WIDTH, label, cli_reset(cli),
               e->service ? render_safe(e->service) : "-", render_safe(text));
}

void render_local(const struct cli *cli, const struct rsap_local_list *local)
{
        if (!local || local->n_entries == 0)
                return;
        printf("\n%slocal registry%s\n", cli_bold(cli), cli_reset(cli));
        for (size_t i = 0; i < local->n_entries; i++) {
                local_row(cli, &local->entries[i]);
                if (local->entries[i].description)
                        printf("  %-*s %s\n", FIELD_WIDTH, "description",
                               render_safe(local->entries[i].description));
        }
}

/* One line per entry, the first after the key "local registry". */
static void render_local_brief(const struct cli *cli, const struct rsap_local_list *local)
{
        for (size_t i = 0; local && i < local->n_entries; i++) {
                if (i == 0)
                        key(cli, "local registry");
                else
                        printf("%*s  ", KEY_WIDTH, "");
                local_row(cli, &local->entries[i]);
        }
}

/* What a range means, short enough for one line after its key. */
static const char *const range_brief[RSAP_RANGE_COUNT] = {
        [RSAP_RANGE_SYSTEM] = "assigned through IETF Review or IESG Approval",
        [RSAP_RANGE_USER] = "assigned by IANA on request; use one once assigned",
        [RSAP_RANGE_DYNAMIC] = "never assigned: free for local use",
};

static int render_port_brief(const struct cli *cli, const struct rsap_iana *reg,
                             const struct rsap_port_answer *a, const struct grouping *g)
{
        _cleanup_(freep) struct row *rows = calloc(g->n + 1, sizeof(*rows));
        unsigned unrecorded = unrecorded_protocols(reg, a);
        size_t n = 0;

        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < g->n; i++)
                row_of_group(&g->groups[i], &rows[n++]);
        if (unrecorded) {
                rows[n].service = "-";
                snprintf(rows[n].ports, sizeof(rows[n].ports), "%u", a->port);
                protocols_text(unrecorded, rows[n].protocols, sizeof(rows[n].protocols));
                rows[n].status = RSAP_STATUS_UNASSIGNED;
                rows[n++].text = unrecorded_text(a);
        }
        print_rows(cli, rows, n);
        putchar('\n');
        key(cli, "range");
        printf("%s %u-%u, %s\n", a->range->title, a->range->low, a->range->high,
               range_brief[a->range->id]);
        render_local_brief(cli, a->local);
        render_on_this_host(cli, reg, a);
        return 0;
}

static void render_port_full(const struct cli *cli, const struct rsap_iana *reg,
                             const struct rsap_port_answer *a, const struct grouping *g)
{
        unsigned unrecorded = unrecorded_protocols(reg, a);
        int width = label_width(g);

        printf("%sport %u%s: %s (%u-%u)\n", cli_bold(cli), a->port, cli_reset(cli),
               a->range->title, a->range->low, a->range->high);
        printf("  ");
        print_folded(a->range->meaning, 2);
        for (size_t i = 0; i < g->n; i++) {
                putchar('\n');
                render_group_full(cli, &g->groups[i], width);
        }
        if (unrecorded) {
                char protocols[32], label[48];

                protocols_text(unrecorded, protocols, sizeof(protocols));
                snprintf(label, sizeof(label), "%u/%s", a->port, protocols);
                printf("\n%s%-*s%s %-16s %sunassigned%s  %s\n", cli_bold(cli), width, label,
                       cli_reset(cli), "-", cli_dim(cli), cli_reset(cli), unrecorded_text(a));
        }
        render_local(cli, a->local);
        putchar('\n');
        render_on_this_host(cli, reg, a);
}

int render_port_answer(const struct cli *cli, const struct rsap_iana *reg,
                       const struct rsap_port_answer *a, bool full)
{
        struct grouping g;
        int r = group_records(reg, a->ids, a->n_ids, !full, &g);

        if (r < 0)
                return r;
        if (full)
                render_port_full(cli, reg, a, &g);
        else
                r = render_port_brief(cli, reg, a, &g);
        free(g.groups);
        if (r == 0)
                render_data_footer(cli, reg);
        return r;
}

int render_name_answer(const struct cli *cli, const struct rsap_iana *reg,
                       const struct rsap_name_answer *a, bool full)
{
        struct grouping g;
        int r = group_records(reg, a->ids, a->n_ids, !full, &g);

        if (r < 0)
                return r;
        printf("%sservice %s%s", cli_bold(cli), render_safe(a->name), cli_reset(cli));
        if (a->replacement[0])
                printf(": a historic name; its well-formed replacement is %s",
                       render_safe(a->replacement));
        else if (a->problem != RSAP_NAME_OK)
                printf(": a legacy name (%s)", rsap_name_problem_text(a->problem));
        putchar('\n');
        if (full) {
                int width = label_width(&g);

                for (size_t i = 0; i < g.n; i++) {
                        putchar('\n');
                        render_group_full(cli, &g.groups[i], width);
                }
                render_local(cli, a->local);
        } else {
                r = render_name_rows(cli, &g);
                if (r == 0 && a->local && a->local->n_entries) {
                        putchar('\n');
                        render_local_brief(cli, a->local);
                }
        }
        free(g.groups);
        if (r == 0)
                render_data_footer(cli, reg);
        return r;
}

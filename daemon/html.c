/* SPDX-License-Identifier: MIT */
/*
 * The pages: server-rendered HTML with its style inline, no outside asset
 * and no script but the map's own /map.js, brief and readable on a phone.
 * Every string that is not literal markup goes through html_escape(), which
 * html_printf() calls for each %s, so interpolating outside data unescaped
 * takes a deliberate %S.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/answer.h>
#include <rsap/error.h>
#include <rsap/explain.h>
#include <rsap/listen.h>
#include <rsap/listen_history.h>
#include <rsap/store.h>
#include <rsap/workflow.h>

#include "config.h"
#include "rsapd.h"

#define SEARCH_PAGE_LIMIT 50

/*
 * One style sheet for every page.  Below 40rem (a phone) tables become
 * stacked cards, each cell labelled by its column, and long tokens (URLs,
 * mail addresses, commands) wrap or scroll inside their own box, so that
 * nothing but the page scrolls, and only downwards.
 */
static const char style[] =
        "*{box-sizing:border-box}"
        "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
        "color:#1b1f24;background:#fff}"
        "header,main,footer{max-width:60rem;margin:0 auto;padding:.75rem 1rem}"
        "header{border-bottom:1px solid #d0d7de}header a{text-decoration:none;font-weight:600}"
        "footer{color:#57606a;font-size:.875rem;border-top:1px solid #d0d7de;margin-top:2rem}"
        "h1{font-size:1.75rem;margin:.5rem 0}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}"
        "h1,h2,h3,p,footer,code{overflow-wrap:anywhere}td{overflow-wrap:break-word}"
        "a{color:#0550ae}"
        "form.search{display:flex;gap:.5rem;flex-wrap:wrap;margin:1rem 0}"
        "form.search input[type=search]{flex:1 1 12rem;min-width:0;font-size:1.1rem;padding:.5rem;"
        "border:1px solid #8c959f;border-radius:6px}"
        "form.search button{font-size:1.1rem;padding:.5rem 1rem;border-radius:6px;"
        "border:1px solid #1f6feb;background:#1f6feb;color:#fff}"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0}"
        "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d8dee4;"
        "vertical-align:top}"
        ".scroll{overflow-x:auto}"
        "dl{display:grid;grid-template-columns:minmax(6rem,max-content) minmax(0,1fr);"
        "gap:.2rem 1rem;margin:.5rem 0}"
        "dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}"
        ".long{white-space:pre-line}"
        ".record{border:1px solid #d0d7de;border-radius:8px;padding:.5rem 1rem;margin:.75rem 0}"
        ".record h3{margin:.25rem 0;font-size:1.1rem}"
        ".assigned{color:#116329;font-weight:600}.reserved{color:#9a6700;font-weight:600}"
        ".unassigned{color:#57606a;font-weight:600}"
        ".note{color:#57606a}"
        "pre{background:#f6f8fa;padding:.5rem .75rem;border-radius:6px;overflow-x:auto;"
        "max-width:100%;font-size:.9rem}pre code{overflow-wrap:normal}"
        "nav.pager{display:flex;justify-content:space-between;gap:1rem;margin:1.5rem 0}"
        "ul.legend{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;list-style:none;padding:0;"
        "margin:.75rem 0}"
        "ul.legend li{display:flex;align-items:center;gap:.4rem}"
        "ul.legend span{flex:none;width:1em;height:1em;border:1px solid #8c959f}"
        "svg.map{display:block;width:100%;max-width:768px;height:auto;"
        "border:1px solid #d0d7de}"
        "@media (max-width:40rem){"
        "header,main,footer{padding:.5rem .75rem}"
        "table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}"
        "table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;"
        "clip-path:inset(50%)}"
        "table.cards tr{border:1px solid #d0d7de;border-radius:8px;padding:.35rem .75rem;"
        "margin:.5rem 0}"
        "table.cards td{display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem;"
        "border:0;padding:.1rem 0}"
        "table.cards td{overflow-wrap:anywhere}"
        "table.cards td::before{content:attr(data-label);color:#57606a}"
        "}";

void html_page_start(struct rsap_buf *b, const char *title)
{
        html_printf(b,
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>%s</title>\n<style>%S</style>\n</head>\n<body>\n"
                    "<header><a href=\"/\">rsap</a> &middot; <a href=\"/map\">port map</a></header>\n"
                    "<main>\n",
                    title, style);
}

void html_page_end(struct rsap_buf *b, const struct rsapd *d, const struct rsap_iana *reg)
{
        rsap_buf_puts(b, "</main>\n<footer>");
        if (reg) {
                struct rsap_iana_info info;

                rsap_iana_info(reg, &info);
                html_printf(b, "Data: %s, release %s, %zu records (%s). ",
                            info.source == RSAP_SOURCE_BUILTIN ? "built-in copy of IANA's registry"
                                                               : "IANA's registry",
                            info.release ? info.release : "unknown", info.records, info.origin);
        }
        (void)d;
        html_printf(b, "rsapd %s &middot; <a href=\"/v1/status\">API</a></footer>\n</body>\n</html>\n",
                    RSAP_VERSION);
}

static void search_form(struct rsap_buf *b, const char *value)
{
        html_printf(b,
                    "<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\n"
                    "<input type=\"search\" name=\"q\" value=\"%s\" "
                    "placeholder=\"port, service or words\" "
                    "aria-label=\"Port, service name or words\" required>\n"
                    "<button type=\"submit\">Search</button>\n</form>\n",
                    value ? value : "");
}

static void finish_page(struct reply *out, struct rsap_buf *b, unsigned status)
{
        reply_take_buf(out, status, "text/html; charset=utf-8", b);
        out->page = true;
}

/* ---- shared pieces ------------------------------------------------------- */

static void status_word(struct rsap_buf *b, enum rsap_status status)
{
        const char *name = rsap_status_name(status);

        html_printf(b, "<span class=\"%s\">%s</span>", name, name);
}

static void service_link(struct rsap_buf *b, const char *name)
{
        if (!name) {
                rsap_buf_puts(b, "&ndash;");
                return;
        }
        rsap_buf_puts(b, "<a href=\"/service/");
        url_segment(b, name);
        html_printf(b, "\">%s</a>", name);
}

static void person(struct rsap_buf *b, const struct rsap_person *p)
{
        html_printf(b, "%s", p->name ? p->name : p->id);
        if (p->org)
                html_printf(b, " (%s)", p->org);
        if (p->email) {
                rsap_buf_puts(b, " &lt;<a href=\"mailto:");
                html_escape(b, p->email);
                html_printf(b, "\">%s</a>&gt;", p->email);
        }
}

/* A row only for what the record has: an absent field is not news. */
static void people(struct rsap_buf *b, const char *label, const struct rsap_person *list, size_t n)
{
        if (n == 0)
                return;
        html_printf(b, "<dt>%s</dt><dd>", label);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        rsap_buf_puts(b, "<br>");
                person(b, &list[i]);
        }
        rsap_buf_puts(b, "</dd>\n");
}

static bool safe_url(const char *url)
{
        return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0);
}

static void references(struct rsap_buf *b, const struct rsap_record *r)
{
        if (r->n_references == 0)
                return;
        rsap_buf_puts(b, "<dt>references</dt><dd>");
        for (size_t i = 0; i < r->n_references; i++) {
                const struct rsap_reference *ref = &r->references[i];

                if (i)
                        rsap_buf_puts(b, "<br>");
                if (safe_url(ref->url))
                        html_printf(b, "<a href=\"%s\" rel=\"noreferrer\">%s</a>", ref->url,
                                    ref->text ? ref->text : ref->url);
                else
                        html_printf(b, "%s", ref->text ? ref->text : "");
        }
        rsap_buf_puts(b, "</dd>\n");
}

static void optional(struct rsap_buf *b, const char *label, const char *value)
{
        if (value && *value)
                html_printf(b, "<dt>%s</dt><dd>%s</dd>\n", label, value);
}

/* "80/tcp,udp", "6000-6063/tcp", "no port": a section's ports in words. */
static void record_ports_text(const struct rsap_record *r, unsigned protocols, char *out,
                              size_t size)
{
        char names[32] = "";

        if (protocols)
                rsap_proto_format_list(protocols, names, sizeof(names));
        if (!r->has_port)
                snprintf(out, size, "no port");
        else if (r->port_low == r->port_high)
                snprintf(out, size, "%u%s%s", r->port_low, names[0] ? "/" : "", names);
        else
                snprintf(out, size, "%u-%u%s%s", r->port_low, r->port_high, names[0] ? "/" : "",
                         names);
}

static void record_ports(struct rsap_buf *b, const struct rsap_record *r, unsigned protocols)
{
        char text[48];

        record_ports_text(r, protocols, text, sizeof(text));
        if (r->has_port && r->port_low == r->port_high)
                html_printf(b, "<a href=\"/port/%u\">%s</a>", r->port_low, text);
        else
                html_printf(b, "%s", text);
}

static bool same_text(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether both name a transport, or neither does (a record for every transport). */
static bool same_transport_kind(const struct rsap_record *a, const struct rsap_record *b)
{
        return (a->proto == RSAP_PROTO_NONE) == (b->proto == RSAP_PROTO_NONE);
}

/* Two records that differ in their transport only are shown as one. */
static bool same_but_transport(const struct rsap_record *a, const struct rsap_record *b)
{
        return same_transport_kind(a, b) && rsap_record_same_but_protocol(a, b);
}

/*
 * A long text (a note, an unauthorized use) that an earlier section of the
 * page showed already is named by that section instead of repeated.
 */
static void long_text(struct rsap_buf *b, const char *label, const char *value, const char *earlier)
{
        if (!value || !*value)
                return;
        if (earlier)
                html_printf(b, "<dt>%s</dt><dd class=\"note\">as for %s above</dd>\n", label,
                            earlier);
        else
                html_printf(b, "<dt>%s</dt><dd class=\"long\">%s</dd>\n", label, value);
}

struct record_group {
        struct rsap_record r;
        unsigned protocols; /* every transport the group's records name, as 1u << proto */
        char where[48];     /* "80/tcp,udp": how later sections refer to this one */
};

static void record_section(struct rsap_buf *b, const struct record_group *g, const char *notes_earlier,
                           const char *unauthorized_earlier)
{
        const struct rsap_record *r = &g->r;

        rsap_buf_puts(b, "<section class=\"record\">\n<h3>");
        record_ports(b, r, g->protocols);
        rsap_buf_puts(b, " &middot; ");
        if (r->service)
                service_link(b, r->service);
        else
                rsap_buf_puts(b, "<span class=\"note\">no service name</span>");
        rsap_buf_puts(b, " &middot; ");
        status_word(b, r->status);
        rsap_buf_puts(b, "</h3>\n<dl>\n");
        if (!g->protocols)
                rsap_buf_puts(b, "<dt>transport</dt><dd>every transport</dd>\n");
        optional(b, "description", r->description);
        people(b, "assignee", r->assignee, r->n_assignee);
        if (!rsap_people_same(r->assignee, r->n_assignee, r->contact, r->n_contact))
                people(b, "contact", r->contact, r->n_contact);
        else if (r->n_contact)
                rsap_buf_puts(b, "<dt>contact</dt><dd class=\"note\">the assignee</dd>\n");
        optional(b, "registered", r->registered);
        optional(b, "modified", r->modified);
        references(b, r);
        optional(b, "service code", r->service_code);
        long_text(b, "unauthorized use", r->unauthorized_use, unauthorized_earlier);
        long_text(b, "notes", r->notes, notes_earlier);
        rsap_buf_puts(b, "</dl>\n</section>\n");
}

/*
 * IANA's records for a port or a name, briefly: records that agree in all
 * but their transport in one section, each long text once.
 */
static void record_sections(struct rsap_buf *b, const struct rsap_iana *reg, const uint32_t *ids,
                            size_t n_ids)
{
        struct record_group *groups = calloc(n_ids ? n_ids : 1, sizeof(*groups));
        size_t n_groups = 0;

        if (!groups) {
                b->failed = true;
                return;
        }
        for (size_t i = 0; i < n_ids; i++) {
                struct rsap_record r;
                size_t g;

                rsap_iana_record(reg, ids[i], &r);
                for (g = 0; g < n_groups; g++)
                        if (same_but_transport(&groups[g].r, &r))
                                break;
                if (g == n_groups)
                        groups[n_groups++].r = r;
                if (r.proto)
                        groups[g].protocols |= 1u << r.proto;
        }
        for (size_t g = 0; g < n_groups; g++) {
                const char *notes = NULL, *unauthorized = NULL;

                record_ports_text(&groups[g].r, groups[g].protocols, groups[g].where,
                                  sizeof(groups[g].where));
                for (size_t e = 0; e < g; e++) {
                        if (!notes && same_text(groups[e].r.notes, groups[g].r.notes))
                                notes = groups[e].where;
                        if (!unauthorized &&
                            same_text(groups[e].r.unauthorized_use, groups[g].r.unauthorized_use))
                                unauthorized = groups[e].where;
                }
                record_section(b, &groups[g], notes, unauthorized);
        }
        free(groups);
}

/*
 * Tables turn into stacked cards on a narrow screen (the style sheet's
 * media query): each cell carries its column's name for the card's label.
 */
static void table_start(struct rsap_buf *b, const char *const *columns, size_t n)
{
        rsap_buf_puts(b, "<div class=\"scroll\"><table class=\"cards\">\n<thead><tr>");
        for (size_t i = 0; i < n; i++)
                html_printf(b, "<th>%s</th>", columns[i]);
        rsap_buf_puts(b, "</tr></thead>\n<tbody>\n");
}

static void table_end(struct rsap_buf *b)
{
        rsap_buf_puts(b, "</tbody></table></div>\n");
}

static void cell(struct rsap_buf *b, const char *column)
{
        html_printf(b, "<td data-label=\"%s\">", column);
}

/* ---- / and /search -------------------------------------------------------- */

static void ranges_table(struct rsap_buf *b, const struct rsap_iana *reg)
{
        static const char *const columns[] = { "range", "ports", "assigned (tcp)",
                                               "what it means" };

        rsap_buf_puts(b, "<h2>The three ranges (RFC 6335)</h2>\n");
        table_start(b, columns, 4);
        for (unsigned i = 0; i < RSAP_RANGE_COUNT; i++) {
                const struct rsap_range_info *range = rsap_range_info((enum rsap_range_class)i);
                struct rsap_range_counts c;

                rsap_iana_range_counts(reg, range->id, RSAP_PROTO_TCP, &c);
                html_printf(b, "<tr><td data-label=\"range\">%s</td>"
                               "<td data-label=\"ports\">%u&ndash;%u</td>"
                               "<td data-label=\"assigned (tcp)\">%u</td>"
                               "<td data-label=\"what it means\">%s</td></tr>\n",
                            range->title, range->low, range->high, c.assigned, range->meaning);
        }
        table_end(b);
}

/* The organisation's registry in numbers, counted by the store (none is read). */
static void local_summary(struct rsap_buf *b, struct rsapd *d)
{
        struct rsap_local_counts n;
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_local_counts(d->store, &n);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0)
                return;
        html_printf(b, "<h2>This organisation's registry</h2>\n<p>%zu assignment%s, %zu pending "
                       "request%s for a port, %zu live lease%s: the <a href=\"/map\">map</a> "
                       "marks them, <a href=\"/v1/registry/requests\">/v1/registry/</a> "
                       "handles them.</p>\n",
                    n.assignments, n.assignments == 1 ? "" : "s", n.requests,
                    n.requests == 1 ? "" : "s", n.leases, n.leases == 1 ? "" : "s");
}

void page_home(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_buf b = { 0 };

        html_page_start(&b, "rsap: what is this port?");
        rsap_buf_puts(&b, "<h1>What is this port?</h1>\n<p>Ports and service names from IANA's "
                     "Service Name and Transport Protocol Port Number Registry, and what "
                     "listens on this host.</p>\n");
        search_form(&b, NULL);
        html_printf(&b, "<p>For example <a href=\"/port/%u\">port %u</a>, "
                        "<a href=\"/port/443\">443</a>, <a href=\"/service/http\">http</a>, "
                        "or <a href=\"/map\">the whole port space as a picture</a>.</p>\n",
                    RSAPD_DEFAULT_PORT, RSAPD_DEFAULT_PORT);
        ranges_table(&b, req->reg);
        local_summary(&b, d);
        rsap_buf_puts(&b, "<h2>For programs</h2>\n<p>The same answers as JSON under "
                     "<a href=\"/v1/ports/1647\">/v1/</a>, and "
                     "<a href=\"/metrics\">/metrics</a> for Prometheus.</p>\n");
        html_page_end(&b, d, req->reg);
        finish_page(out, &b, 200);
}

/* A search hit that says what an earlier one said, on another transport. */
static bool same_hit_row(const struct rsap_record *a, const struct rsap_record *b)
{
        return same_transport_kind(a, b) && same_text(a->service, b->service) &&
               a->has_port == b->has_port && a->port_low == b->port_low &&
               a->port_high == b->port_high && a->status == b->status &&
               same_text(a->description, b->description);
}

static void search_row(struct rsap_buf *b, const struct rsap_record *r, unsigned protocols)
{
        rsap_buf_puts(b, "<tr>");
        cell(b, "port");
        record_ports(b, r, protocols);
        rsap_buf_puts(b, "</td>");
        cell(b, "service");
        service_link(b, r->service);
        rsap_buf_puts(b, "</td>");
        cell(b, "status");
        status_word(b, r->status);
        rsap_buf_puts(b, "</td>");
        if (r->description && *r->description) {
                cell(b, "description");
                html_printf(b, "%s</td>", r->description);
        }
        rsap_buf_puts(b, "</tr>\n");
}

static void search_table(struct rsap_buf *b, const struct rsap_iana *reg,
                         const struct rsap_search_hit *hits, size_t n)
{
        static const char *const columns[] = { "port", "service", "status", "description" };
        struct rsap_record *rows = calloc(n ? n : 1, sizeof(*rows));
        unsigned *protocols = calloc(n ? n : 1, sizeof(*protocols));
        size_t n_rows = 0;

        if (!rows || !protocols) {
                b->failed = true;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                struct rsap_record r;
                size_t row;

                rsap_iana_record(reg, hits[i].id, &r);
                for (row = 0; row < n_rows; row++)
                        if (same_hit_row(&rows[row], &r))
                                break;
                if (row == n_rows)
                        rows[n_rows++] = r;
                if (r.proto)
                        protocols[row] |= 1u << r.proto;
        }
        table_start(b, columns, 4);
        for (size_t row = 0; row < n_rows; row++)
                search_row(b, &rows[row], protocols[row]);
        table_end(b);
out:
        free(rows);
        free(protocols);
}

static void local_entries(struct rsap_buf *b, const struct rsap_local_list *local,
                          const char *what);

/* IANA's records that match, then the organisation's own: the search's one answer. */
static void search_results(struct rsap_buf *b, const struct rsap_iana *reg,
                           const struct rsap_search_answer *a)
{
        if (!rsap_search_answer_found(a)) {
                html_printf(b, "<p>Nothing matches &ldquo;%s&rdquo;.</p>\n", a->text);
                return;
        }
        html_printf(b, "<p>%zu record%s match &ldquo;%s&rdquo;%s.</p>\n", a->total,
                    a->total == 1 ? "" : "s", a->text, a->total > a->n_hits ? ", the best first" : "");
        search_table(b, reg, a->hits, a->n_hits);
        if (a->total > a->n_hits) {
                html_printf(b, "<p class=\"note\">%zu more: <a href=\"/v1/search?q=",
                            a->total - a->n_hits);
                url_segment(b, a->text); /* percent-encoded: nothing left to escape */
                html_printf(b, "&amp;limit=%zu\">all of them as JSON</a>.</p>\n", a->total);
        }
        if (a->local && a->local->n_entries > 0) {
                rsap_buf_puts(b, "<h2>This organisation's registry</h2>\n");
                local_entries(b, a->local, "this search");
        }
}

void page_search(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *q = req->query(req, "q");
        struct rsap_answer_sources src = answer_sources(d, req);
        struct rsap_search_answer a;
        enum rsap_answer_part failed;
        struct rsap_port_spec spec;
        struct rsap_buf b = { 0 };
        int r;

        if (!q || strspn(q, " \t\r\n") == strlen(q)) {
                reply_redirect(out, "/");
                return;
        }
        /* A port goes straight to its page, as `rsap 1647` answers at once. */
        if (rsap_text_is_numeric(q) && rsap_port_spec_parse(q, &spec) == 0 &&
            spec.low == spec.high) {
                char location[32];

                snprintf(location, sizeof(location), "/port/%u", spec.low);
                reply_redirect(out, location);
                return;
        }
        html_page_start(&b, "Search");
        html_printf(&b, "<h1>Search: %s</h1>\n", q);
        search_form(&b, q);
        if (strlen(q) < 64 && rsap_iana_find_name(req->reg, q, NULL, 0) > 0) {
                rsap_buf_puts(&b, "<p>The service name <a href=\"/service/");
                url_segment(&b, q);
                html_printf(&b, "\">%s</a> has records of its own.</p>\n", q);
        }
        r = rsap_answer_search(&src, q, SEARCH_PAGE_LIMIT, &a, &failed);
        if (r < 0) {
                html_printf(&b, "<p class=\"note\">The search cannot be made (%s).</p>\n",
                            rsap_strerror(r));
        } else {
                search_results(&b, req->reg, &a);
                rsap_search_answer_clear(&a);
        }
        html_page_end(&b, d, req->reg);
        finish_page(out, &b, 200);
}

/* ---- /port/N -------------------------------------------------------------- */

/*
 * The port's status on each transport, one row for the transports that
 * agree ("tcp,udp  assigned  x11").  The table is narrow enough for a phone.
 */
static void port_summary(struct rsap_buf *b, const struct rsap_iana *reg,
                         const struct rsap_port_answer *a)
{
        const struct rsap_range_info *range = a->range;
        unsigned shown = 0;

        html_printf(b, "<h2>Range</h2>\n<p><strong>%s</strong> (%u&ndash;%u): %s</p>\n",
                    range->title, range->low, range->high, range->meaning);
        rsap_buf_puts(b, "<h2>Status</h2>\n<table>\n<thead><tr><th>transport</th>"
                    "<th>status</th><th>service</th></tr></thead>\n<tbody>\n");
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                const char *service = rsap_iana_service_name(reg, a->port, (enum rsap_proto)p);
                unsigned same = 0;
                char names[32];

                if (shown & (1u << p))
                        continue;
                for (unsigned q = p; q <= RSAP_TRANSPORTS_LAST; q++)
                        if (a->status[q] == a->status[p] &&
                            same_text(rsap_iana_service_name(reg, a->port, (enum rsap_proto)q),
                                      service))
                                same |= 1u << q;
                shown |= same;
                rsap_proto_format_list(same, names, sizeof(names));
                html_printf(b, "<tr><td>%s</td><td>", names);
                status_word(b, a->status[p]);
                rsap_buf_puts(b, "</td><td>");
                service_link(b, service);
                rsap_buf_puts(b, "</td></tr>\n");
        }
        rsap_buf_puts(b, "</tbody></table>\n");
}

static void port_records(struct rsap_buf *b, const struct rsap_iana *reg,
                         const struct rsap_port_answer *a)
{
        html_printf(b, "<h2>IANA's records</h2>\n");
        if (a->n_ids == 0) {
                html_printf(b, "<p>IANA's registry has no record for port %u on any transport: "
                               "it is unassigned.</p>\n",
                            a->port);
                return;
        }
        record_sections(b, reg, a->ids, a->n_ids);
}

static void listeners_table(struct rsap_buf *b, const struct rsap_listen_list *list)
{
        static const char *const columns[] = { "transport", "address", "process", "user" };

        table_start(b, columns, 4);
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];

                html_printf(b, "<tr><td data-label=\"transport\">%s</td>"
                               "<td data-label=\"address\">%s%s%s</td><td data-label=\"process\">",
                            rsap_proto_name(s->proto), s->address, s->interface[0] ? "%" : "",
                            s->interface);
                if (s->owners_hidden)
                        rsap_buf_puts(b, "<span class=\"note\">not visible to rsapd</span>");
                for (size_t j = 0; j < s->n_owners; j++)
                        html_printf(b, "%s%s[%d]", j ? ", " : "", s->owners[j].command,
                                    (int)s->owners[j].pid);
                if (s->user)
                        html_printf(b, "</td><td data-label=\"user\">%s</td></tr>\n", s->user);
                else
                        html_printf(b, "</td><td data-label=\"user\">%lu</td></tr>\n",
                                    (unsigned long)s->uid);
        }
        table_end(b);
}

static void port_listeners(struct rsap_buf *b, const struct rsap_port_answer *a)
{
        rsap_buf_puts(b, "<h2>On this host now</h2>\n");
        if (!a->listening.list) {
                html_printf(b, "<p class=\"note\">rsapd cannot list this host's sockets (%s).</p>\n",
                            strerror(-a->listeners_error));
                return;
        }
        if (a->listening.list->count == 0) {
                html_printf(b, "<p>Nothing listens on port %u on this host.</p>\n", a->port);
                return;
        }
        listeners_table(b, a->listening.list);
}

static void protocols_text(unsigned mask, char *buf, size_t size)
{
        size_t used = 0;

        buf[0] = '\0';
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                if (mask & (1u << p))
                        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "",
                                                 rsap_proto_name((enum rsap_proto)p));
                if (used >= size)
                        return;
        }
}

static void local_entry(struct rsap_buf *b, const struct rsap_local_entry *e)
{
        static const char *const kinds[] = { "assignment", "request", "lease" };
        char protocols[32], since[RSAP_TIME_SIZE], until[RSAP_TIME_SIZE];

        protocols_text(e->protocols, protocols, sizeof(protocols));
        rsap_time_format(e->since_us, since, sizeof(since));
        html_printf(b, "<section class=\"record\">\n<h3>%s %ld &middot; ", kinds[e->kind],
                    (long)e->id);
        if (e->port >= 0)
                html_printf(b, "<a href=\"/port/%d\">%d</a>/%s", e->port, e->port, protocols);
        else
                html_printf(b, "any port/%s", protocols);
        rsap_buf_puts(b, " &middot; ");
        if (e->service && e->kind != RSAP_LOCAL_LEASE)
                service_link(b, e->service);
        else
                html_printf(b, "%s", e->service ? e->service : "unnamed");
        html_printf(b, " &middot; %s</h3>\n<dl>\n", e->state);
        optional(b, "description", e->description);
        optional(b, "assignee", e->assignee);
        optional(b, "contact", e->contact);
        optional(b, "over IANA's", e->over_iana);
        html_printf(b, "<dt>since</dt><dd>%s</dd>\n", since);
        if (e->until_us) {
                rsap_time_format(e->until_us, until, sizeof(until));
                html_printf(b, "<dt>%s</dt><dd>%s</dd>\n",
                            e->kind == RSAP_LOCAL_LEASE ? "expires" : "quarantined until", until);
        }
        if (e->pid)
                html_printf(b, "<dt>held by</dt><dd>process %d</dd>\n", (int)e->pid);
        rsap_buf_puts(b, "</dl>\n</section>\n");
}

static void local_entries(struct rsap_buf *b, const struct rsap_local_list *local, const char *what)
{
        if (!local) {
                rsap_buf_puts(b, "<p class=\"note\">This host has no local registry.</p>\n");
                return;
        }
        if (local->n_entries == 0)
                html_printf(b, "<p>The organisation has no assignment, request or lease on %s.</p>\n",
                            what);
        for (size_t i = 0; i < local->n_entries; i++)
                local_entry(b, &local->entries[i]);
}

static void timeline_row(struct rsap_buf *b, const struct rsap_interval *iv)
{
        char started[RSAP_TIME_SIZE], ended[RSAP_TIME_SIZE] = "", pid[24] = "", count[32] = "";
        const char *end = rsap_interval_end_name(iv->end);

        rsap_time_format(iv->started_us, started, sizeof(started));
        if (iv->end != RSAP_INTERVAL_OPEN)
                rsap_time_format(iv->ended_us, ended, sizeof(ended));
        if (iv->pid > 0)
                snprintf(pid, sizeof(pid), "[%ld]", (long)iv->pid);
        if (iv->count > 1)
                snprintf(count, sizeof(count), ", %lld times", (long long)iv->count);
        html_printf(b, "<tr><td data-label=\"started\">%s</td><td data-label=\"ended\">%s</td>"
                       "<td data-label=\"end\">%s</td><td data-label=\"socket\">%s %s:%u</td>"
                       "<td data-label=\"process\">%s%s uid %lu%s</td></tr>\n",
                    started, ended, end ? end : "listening", rsap_proto_name(iv->proto),
                    iv->address, (unsigned)iv->port, iv->command ? iv->command : "(not visible)",
                    pid, (unsigned long)iv->uid, count);
}

static void history_table(struct rsap_buf *b, struct rsapd *d, const struct rsap_target *target)
{
        static const char *const history_columns[] = { "when", "what", "service", "by", "why" };
        struct rsap_history h = { 0 };
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_history(d->store, target, &h);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0 || h.n_events == 0) {
                if (r < 0)
                        html_printf(b, "<p class=\"note\">The history cannot be read (%s).</p>\n",
                                    strerror(-r));
                rsap_history_clear(&h);
                return;
        }
        rsap_buf_puts(b, "<h3>History</h3>\n");
        table_start(b, history_columns, 5);
        for (size_t i = 0; i < h.n_events; i++) {
                const struct rsap_event *e = &h.events[i];
                char when[RSAP_TIME_SIZE];

                rsap_time_format(e->time_us, when, sizeof(when));
                html_printf(b, "<tr><td data-label=\"when\">%s</td><td data-label=\"what\">%s</td>"
                               "<td data-label=\"service\">%s</td><td data-label=\"by\">%s</td>"
                               "<td data-label=\"why\">%s</td></tr>\n",
                            when, e->action, e->service ? e->service : "", e->actor,
                            e->reason ? e->reason : "");
        }
        table_end(b);
        rsap_history_clear(&h);
}

/* What rsapd recorded listening on the port: rsap history PORT --listening. */
static void listening_timeline(struct rsap_buf *b, struct rsapd *d, const struct request *req,
                               uint16_t port)
{
        static const char *const columns[] = { "started", "ended", "end", "socket", "process" };
        _cleanup_(rsap_interval_list_clear) struct rsap_interval_list list = { 0 };
        struct rsap_interval_query q = { .scope = RSAP_INTERVALS_PORT, .port = port };
        int r;

        pthread_mutex_lock(&d->store_lock);
        r = rsap_intervals_query(d->store, &q, &list);
        pthread_mutex_unlock(&d->store_lock);
        if (r < 0 || list.n == 0) {
                if (r < 0)
                        html_printf(b, "<p class=\"note\">The listening history cannot be read "
                                       "(%s).</p>\n", strerror(-r));
                return;
        }
        if (!owners_visible(d, req))
                rsapd_hide_interval_owners(&list);
        rsap_buf_puts(b, "<h3>Listening history</h3>\n");
        table_start(b, columns, 5);
        for (size_t i = 0; i < list.n; i++)
                timeline_row(b, &list.items[i]);
        table_end(b);
}

static void port_commands(struct rsap_buf *b, uint16_t port)
{
        html_printf(b,
                    "<h2>Check by hand</h2>\n"
                    "<p>What listens on port %u, on each system:</p>\n"
                    "<h3>Linux</h3>\n<pre><code>ss -tulpn 'sport = :%u'\n"
                    "sudo lsof -nP -i :%u</code></pre>\n"
                    "<h3>macOS</h3>\n<pre><code>sudo lsof -nP -iTCP:%u -sTCP:LISTEN\n"
                    "sudo lsof -nP -iUDP:%u</code></pre>\n"
                    "<h3>Windows</h3>\n<pre><code>netstat -ano | findstr :%u\n"
                    "Get-NetTCPConnection -LocalPort %u -State Listen\n"
                    "Get-NetUDPEndpoint -LocalPort %u</code></pre>\n"
                    "<p>And from here: <code>rsap %u</code>, <code>rsap who %u</code>.</p>\n",
                    port, port, port, port, port, port, port, port, port, port);
}

static void port_pager(struct rsap_buf *b, uint16_t port)
{
        rsap_buf_puts(b, "<nav class=\"pager\">");
        if (port > 0)
                html_printf(b, "<a href=\"/port/%u\" rel=\"prev\">&larr; %u</a>", port - 1u,
                            port - 1u);
        else
                rsap_buf_puts(b, "<span></span>");
        html_printf(b, "<a href=\"/v1/ports/%u\">JSON</a>", port);
        if (port < 65535)
                html_printf(b, "<a href=\"/port/%u\" rel=\"next\">%u &rarr;</a>", port + 1u,
                            port + 1u);
        rsap_buf_puts(b, "</nav>\n");
}

static void port_title(struct rsap_buf *b, const struct rsap_iana *reg,
                       const struct rsap_port_answer *a)
{
        const char *tcp = rsap_iana_service_name(reg, a->port, RSAP_PROTO_TCP);
        const char *udp = rsap_iana_service_name(reg, a->port, RSAP_PROTO_UDP);
        const char *name = tcp ? tcp : udp;
        const char *local = NULL;
        char title[160];

        for (size_t i = 0; a->local && i < a->local->n_entries && !local; i++)
                if (a->local->entries[i].kind == RSAP_LOCAL_ASSIGNMENT)
                        local = a->local->entries[i].service;
        if (name)
                snprintf(title, sizeof(title), "Port %u: %s", a->port, name);
        else if (local)
                snprintf(title, sizeof(title), "Port %u: %s (this organisation's)", a->port, local);
        else
                snprintf(title, sizeof(title), "Port %u", a->port);
        html_page_start(b, title);
        html_printf(b, "<h1>%s</h1>\n", title);
}

void page_port(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_listen_list on_port;
        struct rsap_answer_sources src;
        struct rsap_port_answer a;
        enum rsap_answer_part failed;
        struct rsap_buf b = { 0 };
        uint16_t port;
        int r;

        r = rsap_port_parse(req->route->params[0], &port);
        if (r < 0) {
                reply_error_for(out, req->path, 404,
                                "There is no such port: a port is a number from 0 to 65535.");
                return;
        }
        src = answer_sources(d, req);
        src.sockets = listeners_on_port(req->listeners, port, &on_port);
        r = rsap_answer_port(&src, port, RSAP_PROTO_NONE, &a, &failed);
        if (r < 0) {
                reply_error_for(out, req->path, 500, "The port could not be explained.");
                return;
        }
        port_title(&b, req->reg, &a);
        search_form(&b, NULL);
        port_summary(&b, req->reg, &a);
        port_records(&b, req->reg, &a);
        rsap_buf_puts(&b, "<h2>This organisation's registry</h2>\n");
        local_entries(&b, a.local, "this port");
        history_table(&b, d, &(struct rsap_target){ .kind = RSAP_TARGET_PORT, .port = port });
        listening_timeline(&b, d, req, port);
        port_listeners(&b, &a);
        port_commands(&b, port);
        port_pager(&b, port);
        html_page_end(&b, d, req->reg);
        rsap_port_answer_clear(&a);
        finish_page(out, &b, 200);
}

/* ---- /listening ----------------------------------------------------------- */

/* Whether the sockets come from more than one network namespace. */
static bool several_namespaces(const struct rsap_listen_list *list)
{
        for (size_t i = 1; i < list->count; i++)
                if (list->sockets[i].origin.netns_inode != list->sockets[0].origin.netns_inode)
                        return true;
        return list->namespaces_read > 1;
}

/* The first owner's container with one, as `rsap listening` shows it, or NULL. */
static const struct rsap_listen_owner *container_owner(const struct rsap_listen_socket *s)
{
        for (size_t i = 0; i < s->n_owners; i++)
                if (s->owners[i].container)
                        return &s->owners[i];
        return NULL;
}

static bool any_container(const struct rsap_listen_list *list)
{
        for (size_t i = 0; i < list->count; i++)
                if (container_owner(&list->sockets[i]))
                        return true;
        return false;
}

static void netns_cell(struct rsap_buf *b, const struct rsap_listen_socket *s)
{
        cell(b, "netns");
        if (s->origin.netns_name)
                html_printf(b, "%s</td>", s->origin.netns_name);
        else
                html_printf(b, "%llu</td>", (unsigned long long)s->origin.netns_inode);
}

/* Its name, else the first 12 digits of its id, as docker ps shows it. */
static void container_cell(struct rsap_buf *b, const struct rsap_listen_socket *s)
{
        const struct rsap_listen_owner *o = container_owner(s);

        cell(b, "container");
        if (o && o->container_name)
                html_printf(b, "%s</td>", o->container_name);
        else if (o)
                html_printf(b, "<code title=\"%s\">%.12s</code></td>", o->container, o->container);
        else
                rsap_buf_puts(b, "-</td>");
}

static void owners_cell(struct rsap_buf *b, const struct rsap_listen_socket *s)
{
        cell(b, "process");
        if (s->owners_hidden)
                rsap_buf_puts(b, "<span class=\"note\">not visible to rsapd</span>");
        for (size_t j = 0; j < s->n_owners; j++)
                html_printf(b, "%s%s[%d]", j ? ", " : "", s->owners[j].command,
                            (int)s->owners[j].pid);
        rsap_buf_puts(b, "</td>");
}

/* Every socket, with NETNS and CONTAINER columns only where they tell apart. */
static void listening_table(struct rsap_buf *b, const struct rsap_iana *reg,
                            const struct rsap_listen_list *list)
{
        static const char *const columns[] = { "netns", "transport", "address", "port",
                                               "service", "container", "process" };
        bool netns = several_namespaces(list), containers = any_container(list);
        const char *shown[ARRAY_SIZE(columns)];
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
                if ((i != 0 || netns) && (i != 5 || containers))
                        shown[n++] = columns[i];
        table_start(b, shown, n);
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];
                const char *service = rsap_iana_service_name(reg, s->port, s->proto);

                rsap_buf_puts(b, "<tr>");
                if (netns)
                        netns_cell(b, s);
                html_printf(b, "<td data-label=\"transport\">%s</td><td data-label=\"address\">"
                               "%s%s%s</td><td data-label=\"port\"><a href=\"/port/%u\">%u</a></td>"
                               "<td data-label=\"service\">%s</td>",
                            rsap_proto_name(s->proto), s->address, s->interface[0] ? "%" : "",
                            s->interface, s->port, s->port, service ? service : "-");
                if (containers)
                        container_cell(b, s);
                owners_cell(b, s);
                rsap_buf_puts(b, "</tr>\n");
        }
        table_end(b);
}

/* The API's error object, told as a page. */
static void page_from_api_error(struct reply *out, const char *path)
{
        json_t *error = out->body ? json_loadb(out->body, out->len, 0, NULL) : NULL;
        const char *message = json_string_value(
                json_object_get(json_object_get(error, "error"), "message"));
        char text[512];

        snprintf(text, sizeof(text), "%s", message ? message : "The sockets could not be listed.");
        json_decref(error);
        reply_error_for(out, path, out->status ? out->status : 500, text);
}

/*
 * /listening: what `rsap listening` prints, taking /v1/listening's query
 * (?all_namespaces=1 and ?container= as root).
 */
void page_listening(struct rsapd *d, const struct request *req, struct reply *out)
{
        _cleanup_(rsap_listening_answer_clear) struct rsap_listening_answer a = { 0 };
        struct rsap_buf b = { 0 };

        if (api_listening_answer(d, req, &a, out) < 0) {
                page_from_api_error(out, req->path);
                return;
        }
        html_page_start(&b, "rsap: what listens on this host");
        rsap_buf_puts(&b, "<h1>What listens on this host</h1>\n");
        if (a.list->count == 0)
                rsap_buf_puts(&b, "<p>No socket passes the filters.</p>\n");
        else
                listening_table(&b, req->reg, a.list);
        rsap_buf_puts(&b, "<p>As JSON: <a href=\"/v1/listening\">/v1/listening</a>; every "
                          "network namespace: <a href=\"/listening?all_namespaces=1\">"
                          "?all_namespaces=1</a> (rsapd as root).</p>\n");
        html_page_end(&b, d, req->reg);
        finish_page(out, &b, 200);
}

/* ---- /service/NAME -------------------------------------------------------- */

void page_service(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *name = req->route->params[0];
        struct rsap_name_answer a;
        struct rsap_buf b = { 0 };
        struct rsap_answer_sources src = answer_sources(d, req);
        enum rsap_answer_part failed;
        char title[200];
        bool found;
        int r, local_error = 0;

        r = rsap_answer_name(&src, name, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL) {
                /* The page still shows IANA's part. */
                local_error = r;
                src.store = NULL;
                r = rsap_answer_name(&src, name, &a, &failed);
        }
        if (r < 0) {
                reply_error_for(out, req->path, r == -EINVAL ? 404 : 500,
                                "That is not a service name.");
                return;
        }
        snprintf(title, sizeof(title), "Service %s", name);
        html_page_start(&b, title);
        html_printf(&b, "<h1>%s</h1>\n", title);
        search_form(&b, NULL);
        if (a.problem != RSAP_NAME_OK)
                html_printf(&b, "<p>Not a well-formed service name under RFC 6335: %s.</p>\n",
                            rsap_name_problem_text(a.problem));
        if (a.replacement[0]) {
                rsap_buf_puts(&b, "<p>A historic alias; its well-formed name is ");
                service_link(&b, a.replacement);
                rsap_buf_puts(&b, ".</p>\n");
        }
        found = a.n_ids > 0 || (a.local && a.local->n_entries > 0);
        if (a.n_ids == 0)
                html_printf(&b, "<p>IANA's registry has no service named &ldquo;%s&rdquo;.</p>\n",
                            name);
        record_sections(&b, req->reg, a.ids, a.n_ids);
        if (local_error == 0 && a.local && a.local->n_entries > 0) {
                struct rsap_target t = { .kind = RSAP_TARGET_NAME };

                snprintf(t.name, sizeof(t.name), "%s", a.name);
                rsap_buf_puts(&b, "<h2>This organisation's registry</h2>\n");
                local_entries(&b, a.local, "this name");
                history_table(&b, d, &t);
        }
        rsap_buf_puts(&b, "<p><a href=\"/v1/services/");
        url_segment(&b, name);
        rsap_buf_puts(&b, "\">JSON</a></p>\n");
        html_page_end(&b, d, req->reg);
        finish_page(out, &b, found ? 200 : 404);
        rsap_name_answer_clear(&a);
}

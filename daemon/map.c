/* SPDX-License-Identifier: MIT */
/*
 * /map: the whole port space as one picture, 256 x 256 cells, one per port
 * (port = 256 * row + column), coloured by IANA status over every transport,
 * with the dynamic range apart, and marked where something listens here
 * now, where a lease holds the port, and where the organisation assigned it
 * (in that order of precedence).
 *
 * To stay small (a few hundred kilobytes with IANA's whole registry, where
 * one link per cell made three megabytes) each row is one link, to the
 * row's first port, and each run of consecutive cells that agree in colour,
 * service and marks is one rectangle with one tooltip (its <title>).  The
 * page's script, /map.js, resolves a click to the cell under the pointer by
 * pointing the row's link at that cell's port.
 */
#include <stdlib.h>
#include <string.h>

#include <rsap/listen.h>
#include <rsap/workflow.h>

#include "rsapd.h"

enum cell_kind {
        CELL_UNASSIGNED = 0,
        CELL_RESERVED,
        CELL_ASSIGNED,
        CELL_DYNAMIC,
};

#define MARK_LISTEN 1u
#define MARK_LEASE 2u
#define MARK_LOCAL 4u

/* What one cell shows: its colour and what its tooltip says. */
struct cell {
        enum cell_kind kind;
        unsigned marks;
        const char *service; /* the first transport's service name, or NULL */
};

/*
 * The colours, once for the picture and its legend.  Unassigned is the
 * rectangles' default fill, so most of the space needs no class.
 */
static const struct {
        char class;
        const char *colour, *label;
} colours[] = {
        { 'a', "#2da44e", "assigned by IANA" },
        { 'r', "#d4a72c", "reserved" },
        { 0, "#eaeef2", "unassigned" },
        { 'd', "#b6e3ff", "dynamic (49152-65535)" },
        { 'l', "#cf222e", "listening here now" },
        { 'p', "#8250df", "leased" },
        { 'o', "#0969da", "assigned by this organisation" },
};

static const char *const kind_words[] = {
        [CELL_UNASSIGNED] = "unassigned",
        [CELL_RESERVED] = "reserved",
        [CELL_ASSIGNED] = "assigned",
        [CELL_DYNAMIC] = "dynamic, unassigned",
};

static const char kind_class[] = {
        [CELL_UNASSIGNED] = 0, [CELL_RESERVED] = 'r', [CELL_ASSIGNED] = 'a', [CELL_DYNAMIC] = 'd',
};

static enum cell_kind classify(const struct rsap_iana *reg, uint16_t port)
{
        enum rsap_status best = RSAP_STATUS_UNASSIGNED;

        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                enum rsap_status s = rsap_iana_port_status(reg, port, (enum rsap_proto)p);

                if (s > best)
                        best = s;
        }
        if (best == RSAP_STATUS_ASSIGNED)
                return CELL_ASSIGNED;
        if (rsap_range_class_of(port) == RSAP_RANGE_DYNAMIC)
                return CELL_DYNAMIC;
        return best == RSAP_STATUS_RESERVED ? CELL_RESERVED : CELL_UNASSIGNED;
}

static const char *first_service(const struct rsap_iana *reg, uint16_t port)
{
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                const char *name = rsap_iana_service_name(reg, port, (enum rsap_proto)p);

                if (name)
                        return name;
        }
        return NULL;
}

/* Listeners from the snapshot; assignments and leases from the local registry. */
static void collect_marks(struct rsapd *d, unsigned char *marks)
{
        struct listener_snapshot *snap = listeners_get(d->listeners);
        struct rsap_local_list local = { 0 };
        int r;

        for (size_t i = 0; snap && snap->plain && i < snap->plain->count; i++)
                marks[snap->plain->sockets[i].port] |= MARK_LISTEN;
        listeners_put(snap);
        pthread_mutex_lock(&d->store_lock);
        r = rsap_local_for_range(d->store, 0, 65535, &local);
        pthread_mutex_unlock(&d->store_lock);
        for (size_t i = 0; r == 0 && i < local.n_entries; i++) {
                const struct rsap_local_entry *e = &local.entries[i];

                if (e->port < 0)
                        continue;
                if (e->kind == RSAP_LOCAL_LEASE)
                        marks[e->port] |= MARK_LEASE;
                else if (e->kind == RSAP_LOCAL_ASSIGNMENT)
                        marks[e->port] |= MARK_LOCAL;
        }
        rsap_local_list_clear(&local);
}

static char cell_class(const struct cell *c)
{
        if (c->marks & MARK_LISTEN)
                return 'l';
        if (c->marks & MARK_LEASE)
                return 'p';
        if (c->marks & MARK_LOCAL)
                return 'o';
        return kind_class[c->kind];
}

static bool same_cell(const struct cell *a, const struct cell *b)
{
        return a->kind == b->kind && a->marks == b->marks &&
               (a->service == b->service ||
                (a->service && b->service && strcmp(a->service, b->service) == 0));
}

/* "6000-6063 x11: assigned", "1647 rsap: assigned; listening here now". */
static void run_title(struct rsap_buf *b, unsigned low, unsigned high, const struct cell *c)
{
        rsap_buf_printf(b, "%u", low);
        if (high > low)
                rsap_buf_printf(b, "-%u", high);
        if (c->service)
                html_printf(b, " %s", c->service);
        html_printf(b, ": %S", kind_words[c->kind]);
        if (c->marks & MARK_LISTEN)
                rsap_buf_puts(b, "; listening here now");
        if (c->marks & MARK_LEASE)
                rsap_buf_puts(b, "; leased");
        if (c->marks & MARK_LOCAL)
                rsap_buf_puts(b, "; assigned by this organisation");
}

static void run_rect(struct rsap_buf *b, unsigned row, unsigned col, unsigned width,
                     const struct cell *c)
{
        char class = cell_class(c);

        rsap_buf_printf(b, "<rect x=\"%u\"", col);
        if (width > 1)
                rsap_buf_printf(b, " width=\"%u\"", width);
        if (class)
                rsap_buf_printf(b, " class=\"%c\"", class);
        rsap_buf_puts(b, "><title>");
        run_title(b, row * 256 + col, row * 256 + col + width - 1, c);
        rsap_buf_puts(b, "</title></rect>");
}

static void map_row(struct rsap_buf *b, const struct rsap_iana *reg, const unsigned char *marks,
                    unsigned row)
{
        struct cell cells[256];

        for (unsigned col = 0; col < 256; col++) {
                uint16_t port = (uint16_t)(row * 256 + col);

                cells[col] = (struct cell){ .kind = classify(reg, port),
                                            .marks = marks[port],
                                            .service = first_service(reg, port) };
        }
        rsap_buf_printf(b, "<a href=\"/port/%u\" transform=\"translate(0 %u)\">", row * 256, row);
        for (unsigned col = 0, end; col < 256; col = end) {
                for (end = col + 1; end < 256 && same_cell(&cells[col], &cells[end]); end++)
                        ;
                run_rect(b, row, col, end - col, &cells[col]);
        }
        rsap_buf_puts(b, "</a>\n");
}

void map_svg(struct rsapd *d, const struct rsap_iana *reg, struct rsap_buf *b)
{
        unsigned char *marks = calloc(65536, 1);

        if (!marks) {
                b->failed = true;
                return;
        }
        collect_marks(d, marks);
        rsap_buf_puts(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\" "
                    "viewBox=\"0 0 256 256\" width=\"768\" height=\"768\" "
                    "shape-rendering=\"crispEdges\" "
                    "aria-label=\"Every port from 0 to 65535, 256 per row\"><style>"
                    "rect{height:1px;fill:#eaeef2}rect:not([width]){width:1px}"
                    "rect:hover{fill:#1b1f24}");
        for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
                if (colours[i].class)
                        rsap_buf_printf(b, ".%c{fill:%s}", colours[i].class, colours[i].colour);
        rsap_buf_puts(b, "</style>\n");
        for (unsigned row = 0; row < 256; row++)
                map_row(b, reg, marks, row);
        rsap_buf_puts(b, "</svg>\n");
        free(marks);
}

void page_map_svg(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_buf b = { 0 };

        rsap_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        map_svg(d, req->reg, &b);
        reply_take_buf(out, 200, "image/svg+xml", &b);
}

/*
 * The one script of the pages, served from rsapd itself (the pages' CSP
 * allows scripts from 'self' only).  On every pointer movement and click
 * it points the row's link at the cell under the pointer, so a click, a
 * middle click or "copy link" all name that cell's port; without it a row
 * opens its first port.
 */
static const char map_script[] =
        "\"use strict\";\n"
        "(function () {\n"
        "  var svg = document.querySelector(\"svg.map\");\n"
        "  if (!svg) return;\n"
        "  /* The port under the point (x, y) of the page, or -1 outside the picture. */\n"
        "  function portAt(clientX, clientY) {\n"
        "    var matrix = svg.getScreenCTM();\n"
        "    if (!matrix) return -1;\n"
        "    var at = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());\n"
        "    var col = Math.floor(at.x), row = Math.floor(at.y);\n"
        "    if (col < 0 || col > 255 || row < 0 || row > 255) return -1;\n"
        "    return row * 256 + col;\n"
        "  }\n"
        "  function aim(event) {\n"
        "    var link = event.target.closest && event.target.closest(\"a\");\n"
        "    var port = portAt(event.clientX, event.clientY);\n"
        "    if (event.type === \"click\" && event.detail === 0) return; /* a key: the row */\n"
        "    if (link && port >= 0)\n"
        "      link.setAttribute(\"href\", \"/port/\" + port);\n"
        "  }\n"
        "  [\"pointermove\", \"pointerdown\", \"click\", \"auxclick\", \"contextmenu\"]\n"
        "    .forEach(function (type) { svg.addEventListener(type, aim); });\n"
        "})();\n";

void page_map_script(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_buf b = { 0 };

        (void)d;
        (void)req;
        rsap_buf_puts(&b, map_script);
        reply_take_buf(out, 200, "text/javascript; charset=utf-8", &b);
}

static void legend(struct rsap_buf *b)
{
        rsap_buf_puts(b, "<ul class=\"legend\">\n");
        for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
                html_printf(b, "<li><span style=\"background:%s\"></span>%s</li>\n",
                            colours[i].colour, colours[i].label);
        rsap_buf_puts(b, "</ul>\n");
}

void page_map(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct rsap_buf b = { 0 };

        html_page_start(&b, "The port space");
        rsap_buf_puts(&b, "<h1>The port space</h1>\n<p>Every port from 0 (top left) to 65535 "
                     "(bottom right), 256 to a row. A cell's tooltip names its ports, service "
                     "and status; a click opens its port's page.</p>\n");
        legend(&b);
        map_svg(d, req->reg, &b);
        rsap_buf_puts(&b, "<script src=\"/map.js\"></script>\n");
        html_page_end(&b, d, req->reg);
        reply_take_buf(out, 200, "text/html; charset=utf-8", &b);
        out->page = true;
}

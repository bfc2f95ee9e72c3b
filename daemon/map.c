/* SPDX-License-Identifier: MIT */
/*
 * /map: the whole port space as one picture, 256 x 256 cells, one per port
 * (port = 256 * row + column), coloured by IANA status over every transport,
 * with the dynamic range apart, and marked where something listens here
 * now, where a lease holds the port, and where the organisation assigned it
 * (in that order of precedence).  Each cell links to its port page.  Cells are one
 * unit wide and sized by the style sheet, which keeps 65,536 links to about
 * three megabytes.
 */
#include <stdlib.h>
#include <string.h>

#include <rsap/listen.h>
#include <rsap/workflow.h>

#include "rsapd.h"

enum cell {
        CELL_UNASSIGNED = 0,
        CELL_RESERVED,
        CELL_ASSIGNED,
        CELL_DYNAMIC,
};

static const char *const cell_class[] = { "u", "r", "a", "d" };

#define MARK_LISTEN 1u
#define MARK_LEASE 2u
#define MARK_LOCAL 4u

static const char svg_style[] =
        "rect{width:1px;height:1px}"
        ".a{fill:#2da44e}.r{fill:#d4a72c}.u{fill:#eaeef2}.d{fill:#b6e3ff}"
        ".l{fill:#cf222e}.p{fill:#8250df}.o{fill:#0969da}"
        "a:hover rect,a:focus rect{fill:#000}";

static enum cell classify(const struct rsap_registry *reg, uint16_t port)
{
        enum rsap_status best = RSAP_STATUS_UNASSIGNED;

        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                enum rsap_status s = rsap_registry_port_status(reg, port, (enum rsap_proto)p);

                if (s > best)
                        best = s;
        }
        if (best == RSAP_STATUS_ASSIGNED)
                return CELL_ASSIGNED;
        if (rsap_range_class_of(port) == RSAP_RANGE_DYNAMIC)
                return CELL_DYNAMIC;
        return best == RSAP_STATUS_RESERVED ? CELL_RESERVED : CELL_UNASSIGNED;
}

/* Listeners from the kernel; assignments and leases from the local registry. */
static void collect_marks(struct rsapd *d, unsigned char *marks)
{
        _cleanup_(rsap_listen_list_freep) struct rsap_listen_list *list = NULL;
        struct rsap_local_list local = { 0 };
        struct rsap_listen_filter f;
        int r;

        rsap_listen_filter_init(&f);
        f.find_owners = false; /* the picture needs ports only: no walk over /proc */
        if (rsap_listen_collect(&f, &list) == 0)
                for (size_t i = 0; i < list->count; i++)
                        marks[list->sockets[i].port] |= MARK_LISTEN;
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

void map_svg(struct rsapd *d, const struct rsap_registry *reg, struct buf *b)
{
        unsigned char *marks = calloc(65536, 1);

        if (!marks) {
                b->failed = true;
                return;
        }
        collect_marks(d, marks);
        buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\" "
                      "viewBox=\"0 0 256 256\" width=\"768\" height=\"768\" "
                      "shape-rendering=\"crispEdges\" role=\"img\" "
                      "aria-label=\"Every port from 0 to 65535, 256 per row\">"
                      "<style>%s</style>\n",
                   svg_style);
        for (unsigned row = 0; row < 256; row++) {
                buf_printf(b, "<g transform=\"translate(0 %u)\">", row);
                for (unsigned col = 0; col < 256; col++) {
                        unsigned port = row * 256 + col;
                        const char *cls = cell_class[classify(reg, (uint16_t)port)];

                        if (marks[port] & MARK_LISTEN)
                                cls = "l";
                        else if (marks[port] & MARK_LEASE)
                                cls = "p";
                        else if (marks[port] & MARK_LOCAL)
                                cls = "o";
                        buf_printf(b, "<a href=\"/port/%u\"><rect x=\"%u\" class=\"%s\"/></a>",
                                   port, col, cls);
                }
                buf_puts(b, "</g>\n");
        }
        buf_puts(b, "</svg>\n");
        free(marks);
}

void page_map_svg(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct buf b = { 0 };

        buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        map_svg(d, req->reg, &b);
        reply_take_buf(out, 200, "image/svg+xml", &b);
}

static void legend(struct buf *b)
{
        static const struct {
                const char *color, *label;
        } items[] = {
                { "#2da44e", "assigned by IANA" }, { "#d4a72c", "reserved" },
                { "#eaeef2", "unassigned" },       { "#b6e3ff", "dynamic (49152-65535)" },
                { "#cf222e", "listening here now" }, { "#8250df", "leased" },
                { "#0969da", "assigned by this organisation" },
        };

        buf_puts(b, "<p class=\"legend\">");
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
                html_printf(b, "<span style=\"background:%s\"></span>%s", items[i].color,
                            items[i].label);
        buf_puts(b, "</p>\n");
}

void page_map(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct buf b = { 0 };

        html_page_start(&b, "The port space");
        buf_puts(&b, "<h1>The port space</h1>\n<p>Every port from 0 (top left) to 65535 "
                     "(bottom right), 256 to a row. Each cell leads to its port's page.</p>\n");
        legend(&b);
        map_svg(d, req->reg, &b);
        html_page_end(&b, d, req->reg);
        reply_take_buf(out, 200, "text/html; charset=utf-8", &b);
        out->page = true;
}

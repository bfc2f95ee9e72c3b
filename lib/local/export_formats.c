/* SPDX-License-Identifier: MIT */
/*
 * rsap export --format systemd|nft|firewalld|srv: configurations that other
 * programs read, made from the local registry's active assignments.  One
 * table of writers; each gets the assignments sorted by service, protocol
 * and port, with the names that are no RFC 6335 label already left out (the
 * registry refuses such names, but its file may have been edited by hand,
 * and a name here becomes an identifier, a DNS label or a file's key).
 *
 * Outside text (descriptions, people) only ever reaches a comment or XML
 * character data, always through rsap_text_escape() first, so no control
 * character or line break can end a comment or start a directive.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rsap/basic.h>
#include <rsap/name.h>
#include <rsap/textsafe.h>

#include "workflow_internal.h"

struct config_rows {
        struct rsap_assignment *list;
        size_t n;
};

typedef void config_writer(const struct config_rows *rows, const struct rsap_config_export *opt,
                           FILE *out);

/* ---- text ------------------------------------------------------------------------ */

/* Outside text on one line of a comment: every control and line break escaped. */
static void put_comment_text(FILE *out, const char *text)
{
        size_t len = text ? strlen(text) : 0;
        size_t size = rsap_text_escape(NULL, 0, text ? text : "", len) + 1;
        _cleanup_(freep) char *safe = malloc(size);

        if (!safe) {
                /* A comment may go without its text; the configuration stays whole. */
                fputs("(not shown: out of memory)", out);
                return;
        }
        rsap_text_escape(safe, size, text ? text : "", len);
        fputs(safe, out);
}

/* XML character data or an attribute's value: escaped as above, then the five markup characters. */
static void put_xml_text(FILE *out, const char *text)
{
        size_t len = text ? strlen(text) : 0;
        size_t size = rsap_text_escape(NULL, 0, text ? text : "", len) + 1;
        _cleanup_(freep) char *safe = malloc(size);

        if (!safe)
                return;
        rsap_text_escape(safe, size, text ? text : "", len);
        for (const char *p = safe; *p; p++) {
                switch (*p) {
                case '&': fputs("&amp;", out); break;
                case '<': fputs("&lt;", out); break;
                case '>': fputs("&gt;", out); break;
                case '"': fputs("&quot;", out); break;
                case '\'': fputs("&apos;", out); break;
                default: fputc(*p, out);
                }
        }
}

/* "# 8443/tcp web-admin: Admin console (Ops <ops@example.com>)" in the format's comment mark. */
static void put_assignment_comment(FILE *out, const char *mark, const struct rsap_assignment *a)
{
        fprintf(out, "%s %u/%s %s: ", mark, a->port, rsap_proto_name(a->proto), a->service);
        put_comment_text(out, a->description);
        if (a->assignee) {
                fputs(" (", out);
                put_comment_text(out, a->assignee);
                fputc(')', out);
        }
        fputc('\n', out);
}

/* Whether b starts another service than a: names compare as DNS labels do. */
static bool other_service(const struct rsap_assignment *a, const struct rsap_assignment *b)
{
        return !rsap_name_equal(a->service, b->service);
}

static bool other_group(const struct rsap_assignment *a, const struct rsap_assignment *b)
{
        return other_service(a, b) || a->proto != b->proto;
}

/* ---- systemd --------------------------------------------------------------------- */

/*
 * systemd.resource-control(5): a bind() that matches an allow rule passes,
 * everything else the deny rule catches.  Its protocols are tcp and udp.
 */
static void write_systemd(const struct config_rows *rows, const struct rsap_config_export *opt,
                          FILE *out)
{
        fputs("# A drop-in written by rsap export --format systemd from the local registry:\n", out);
        fputs("# the unit ", out);
        put_comment_text(out, opt->unit ? opt->unit : opt->service); /* --unit is any text */
        fprintf(out, "%s may bind the ports assigned to service %s, and no other.\n",
                opt->unit ? "" : ".service", opt->service);
        for (size_t i = 0; i < rows->n; i++) {
                put_assignment_comment(out, "#", &rows->list[i]);
                if (rows->list[i].proto != RSAP_PROTO_TCP && rows->list[i].proto != RSAP_PROTO_UDP)
                        fputs("#   not allowed: SocketBindAllow= knows tcp and udp only\n", out);
        }
        /* The blank line: no comment line, however it ends, can run into a setting. */
        fputs("\n[Service]\n", out);
        for (size_t i = 0; i < rows->n; i++) {
                const struct rsap_assignment *a = &rows->list[i];

                if (a->proto == RSAP_PROTO_TCP || a->proto == RSAP_PROTO_UDP)
                        fprintf(out, "SocketBindAllow=%s:%u\n", rsap_proto_name(a->proto), a->port);
        }
        fputs("SocketBindDeny=any\n", out);
}

/* ---- nftables -------------------------------------------------------------------- */

/* An nft variable's name: the service lowercased, '-' as '_' (which no service name holds). */
static void put_nft_name(FILE *out, const char *service)
{
        for (const char *p = service; *p; p++)
                fputc(*p == '-' ? '_' : tolower((unsigned char)*p), out);
}

/* define rsap_SERVICE_PROTO = { PORT, ... } for each service and protocol. */
static void write_nft_services(const struct config_rows *rows, FILE *out)
{
        for (size_t i = 0; i < rows->n; i++) {
                const struct rsap_assignment *a = &rows->list[i];
                bool first = i == 0 || other_group(&rows->list[i - 1], a);
                bool last = i + 1 == rows->n || other_group(a, &rows->list[i + 1]);

                if (i == 0 || other_service(&rows->list[i - 1], a))
                        fputc('\n', out);
                if (first) {
                        fputs("define rsap_", out);
                        put_nft_name(out, a->service);
                        fprintf(out, "_%s = { ", rsap_proto_name(a->proto));
                }
                fprintf(out, "%u%s", a->port, last ? " }\n" : ", ");
        }
}

/* define rsap_PROTO = { every port assigned on PROTO }, when there is one. */
static void write_nft_protocol(const struct config_rows *rows, enum rsap_proto proto, FILE *out)
{
        const char *sep = NULL;

        for (size_t i = 0; i < rows->n; i++) {
                if (rows->list[i].proto != proto)
                        continue;
                if (!sep)
                        fprintf(out, "define rsap_%s = { ", rsap_proto_name(proto));
                fprintf(out, "%s%u", sep ? sep : "", rows->list[i].port);
                sep = ", ";
        }
        if (sep)
                fputs(" }\n", out);
}

static void write_nft(const struct config_rows *rows, const struct rsap_config_export *opt,
                      FILE *out)
{
        (void)opt;
        fputs("# nftables defines written by rsap export --format nft from the local registry.\n"
              "# Include this file before the tables that use them, as in\n"
              "#   include \"/etc/nftables.d/rsap.nft\"\n"
              "#   ... tcp dport $rsap_web_admin_tcp accept\n"
              "# rsap_SERVICE_PROTO: a service's ports (the name lowercased, '-' as '_');\n"
              "# rsap_PROTO: every port assigned on that protocol.  A define with no port is left out.\n",
              out);
        for (size_t i = 0; i < rows->n; i++)
                put_assignment_comment(out, "#", &rows->list[i]);
        write_nft_services(rows, out);
        if (rows->n)
                fputc('\n', out);
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++)
                write_nft_protocol(rows, (enum rsap_proto)p, out);
}

/* ---- firewalld ------------------------------------------------------------------- */

/* Whether an assignment before row i has row i's description: one service's few rows. */
static bool description_said(const struct config_rows *rows, size_t i)
{
        const char *text = rows->list[i].description ? rows->list[i].description : "";

        for (size_t j = 0; j < i; j++) {
                if (strcmp(rows->list[j].description ? rows->list[j].description : "", text) == 0)
                        return true;
        }
        return false;
}

/* The assignments' words in the service's description: "Admin console (Ops <ops@...>)". */
static void put_firewalld_description(FILE *out, const struct config_rows *rows)
{
        bool first = true;

        for (size_t i = 0; i < rows->n; i++) {
                const struct rsap_assignment *a = &rows->list[i];

                /* The same description on each protocol of a port is said once. */
                if (description_said(rows, i))
                        continue;
                if (!first)
                        fputs("; ", out);
                first = false;
                put_xml_text(out, a->description);
                if (a->assignee) {
                        fputs(" (", out);
                        put_xml_text(out, a->assignee);
                        fputc(')', out);
                }
        }
}

/* firewalld.service(5); its file must be named SERVICE.xml. */
static void write_firewalld(const struct config_rows *rows, const struct rsap_config_export *opt,
                            FILE *out)
{
        fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
              "<!-- written by rsap export (format firewalld) from the local registry -->\n"
              "<service>\n  <short>",
              out);
        put_xml_text(out, opt->service);
        fputs("</short>\n  <description>", out);
        put_firewalld_description(out, rows);
        fputs("</description>\n", out);
        for (size_t i = 0; i < rows->n; i++)
                fprintf(out, "  <port protocol=\"%s\" port=\"%u\"/>\n",
                        rsap_proto_name(rows->list[i].proto), rows->list[i].port);
        fputs("</service>\n", out);
}

/* ---- DNS SRV ---------------------------------------------------------------------- */

/* A DNS name written absolute: with its one trailing dot. */
static void put_absolute(FILE *out, const char *name)
{
        size_t len = strlen(name);

        fprintf(out, "%s%s", name, len && name[len - 1] == '.' ? "" : ".");
}

/*
 * RFC 2782's _service._proto.DOMAIN. IN SRV priority weight port target.,
 * and RFC 6763 section 9's enumeration of the service types: one PTR each.
 */
static void write_srv(const struct config_rows *rows, const struct rsap_config_export *opt,
                      FILE *out)
{
        fputs("; DNS records written by rsap export --format srv from the local registry,\n"
              "; for $INCLUDE in the zone of ", out);
        put_absolute(out, opt->domain);
        fputs(" (the zone's $TTL applies).\n", out);
        for (size_t i = 0; i < rows->n; i++) {
                const struct rsap_assignment *a = &rows->list[i];

                put_assignment_comment(out, ";", a);
                fprintf(out, "_%s._%s.", a->service, rsap_proto_name(a->proto));
                put_absolute(out, opt->domain);
                fprintf(out, " IN SRV 0 0 %u ", a->port);
                put_absolute(out, opt->target);
                fputc('\n', out);
        }
        for (size_t i = 0; i < rows->n; i++) {
                const struct rsap_assignment *a = &rows->list[i];

                if (i && !other_group(&rows->list[i - 1], a))
                        continue;
                fputs("_services._dns-sd._udp.", out);
                put_absolute(out, opt->domain);
                fprintf(out, " IN PTR _%s._%s.", a->service, rsap_proto_name(a->proto));
                put_absolute(out, opt->domain);
                fputc('\n', out);
        }
}

/* ---- the table -------------------------------------------------------------------- */

static const struct config_format {
        config_writer *write;
        bool one_service; /* --service is required */
        bool dns;         /* --domain and --target are required */
} config_formats[] = {
        [RSAP_EXPORT_SYSTEMD] = { write_systemd, true, false },
        [RSAP_EXPORT_NFT] = { write_nft, false, false },
        [RSAP_EXPORT_FIREWALLD] = { write_firewalld, true, false },
        [RSAP_EXPORT_SRV] = { write_srv, false, true },
};

/* ASCII alone, whatever the locale: DNS's letters and digits. */
static bool is_ldh_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool rsap_dns_name_check(const char *name, size_t max)
{
        size_t len = name ? strlen(name) : 0, label = 0;

        if (len && name[len - 1] == '.')
                len--;
        if (len == 0 || len > max)
                return false;
        for (size_t i = 0; i <= len; i++) {
                char c = i < len ? name[i] : '.';

                if (c == '.') {
                        if (label == 0 || label > 63 || name[i - 1] == '-')
                                return false;
                        label = 0;
                } else if (is_ldh_alnum(c) || (c == '-' && label > 0)) {
                        label++;
                } else {
                        return false;
                }
        }
        return true;
}

static int by_service_proto_port(const void *x, const void *y)
{
        const struct rsap_assignment *a = x, *b = y;
        int c = strcasecmp(a->service, b->service);

        if (c)
                return c;
        if (a->proto != b->proto)
                return a->proto < b->proto ? -1 : 1;
        return a->port < b->port ? -1 : a->port > b->port;
}

/* The active assignments the export covers, sorted; the rest cleared and counted. */
static int collect_rows(struct rsap_store *store, enum rsap_export_format format,
                        struct rsap_config_export *opt, struct config_rows *rows)
{
        struct store_assignment_query q = { .all = true, .active_only = true, .by_port = true };
        size_t kept = 0;
        int r = store ? STORE_OP(store, assignments)(store, &q, &rows->list, &rows->n) : 0;

        for (size_t i = 0; r == 0 && i < rows->n; i++) {
                struct rsap_assignment *a = &rows->list[i];

                if (opt->service && !rsap_name_equal(a->service, opt->service)) {
                        rsap_assignment_clear(a);
                } else if (rsap_name_check(a->service) != RSAP_NAME_OK) {
                        opt->n_bad_name++;
                        rsap_assignment_clear(a);
                } else {
                        opt->n_unsupported += format == RSAP_EXPORT_SYSTEMD &&
                                              a->proto != RSAP_PROTO_TCP &&
                                              a->proto != RSAP_PROTO_UDP;
                        rows->list[kept++] = *a;
                }
        }
        if (r == 0)
                rows->n = kept;
        if (r == 0 && kept > 0) /* qsort() may not be given an empty list's NULL array */
                qsort(rows->list, rows->n, sizeof(*rows->list), by_service_proto_port);
        return r;
}

static bool options_valid(const struct config_format *f, const struct rsap_config_export *opt)
{
        if (f->one_service && (!opt->service || rsap_name_check(opt->service) != RSAP_NAME_OK))
                return false;
        return !f->dns || (rsap_dns_name_check(opt->domain, RSAP_SRV_DOMAIN_MAX) &&
                           rsap_dns_name_check(opt->target, 253));
}

int rsap_local_export_config(struct rsap_store *store, enum rsap_export_format format,
                             struct rsap_config_export *opt, FILE *out)
{
        const struct config_format *f;
        struct config_rows rows = { 0 };
        int r;

        if (!rsap_export_format_is_config(format) || !options_valid(&config_formats[format], opt))
                return -EINVAL;
        f = &config_formats[format];
        opt->n_written = opt->n_bad_name = opt->n_unsupported = 0;
        r = collect_rows(store, format, opt, &rows);
        if (r == 0 && !(opt->service && rows.n == 0)) {
                f->write(&rows, opt, out);
                opt->n_written = rows.n;
                /* A full disk is said as such: the one failure a user can mend at once. */
                if (fflush(out) != 0 || ferror(out))
                        r = errno == ENOSPC ? -ENOSPC : -EIO;
        }
        rsap_assignment_list_free(rows.list, rows.n);
        return r;
}

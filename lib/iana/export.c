/* SPDX-License-Identifier: MIT */
#include <csv.h>
#include <errno.h>
#include <string.h>

#include <rsap/export.h>
#include <rsap/iana_json.h>

#include "snapshot_format.h"

int rsap_export_format_parse(const char *text, enum rsap_export_format *out)
{
        static const char *const names[] = {
                [RSAP_EXPORT_SERVICES] = "services",
                [RSAP_EXPORT_CSV] = "csv",
                [RSAP_EXPORT_JSON] = "json",
                [RSAP_EXPORT_SYSTEMD] = "systemd",
                [RSAP_EXPORT_NFT] = "nft",
                [RSAP_EXPORT_FIREWALLD] = "firewalld",
                [RSAP_EXPORT_SRV] = "srv",
        };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                if (strcmp(text, names[i]) == 0) {
                        *out = (enum rsap_export_format)i;
                        return 0;
                }
        }
        return -EINVAL;
}

bool rsap_export_format_is_config(enum rsap_export_format format)
{
        return format >= RSAP_EXPORT_SYSTEMD && format <= RSAP_EXPORT_SRV;
}

/* A comment on one line: services(5) has no continuation lines. */
static void write_comment(FILE *out, const char *text)
{
        fputs("\t# ", out);
        for (; *text; text++)
                fputc(*text == '\n' || *text == '\r' || *text == '\t' ? ' ' : *text, out);
}

static void write_services_record(FILE *out, const struct rsap_record *r)
{
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                /* A protocol-less record covers every transport; services(5)
                 * readers only know the ones named per line, so tcp and udp. */
                if (r->proto == RSAP_PROTO_NONE ? p > RSAP_PROTO_UDP : r->proto != p)
                        continue;
                for (uint32_t port = r->port_low; port <= r->port_high; port++) {
                        fprintf(out, "%s\t%u/%s", r->service, port,
                                rsap_proto_name((enum rsap_proto)p));
                        if (r->description)
                                write_comment(out, r->description);
                        fputc('\n', out);
                }
        }
}

static int export_services(const struct rsap_iana *reg, FILE *out)
{
        struct rsap_iana_info info;

        rsap_iana_info(reg, &info);
        fprintf(out, "# services(5) written by rsap export from the IANA registry (%s%s%s)\n",
                rsap_source_name(info.source), info.release ? ", " : "",
                info.release ? info.release : "");
        for (uint32_t i = 0; i < rsap_iana_count(reg); i++) {
                struct rsap_record r;

                rsap_iana_record(reg, i, &r);
                /* Only named services with a number make a services(5) line;
                 * names with white space would split the line. */
                if (!r.service || !r.has_port || strpbrk(r.service, " \t#"))
                        continue;
                write_services_record(out, &r);
        }
        return 0;
}

/* Quoted only when it must be, as IANA writes its CSV. */
static void csv_field(FILE *out, const char *text, bool last)
{
        if (text && strpbrk(text, ",\"\r\n"))
                csv_fwrite(out, text, strlen(text));
        else if (text)
                fputs(text, out);
        fputc(last ? '\n' : ',', out);
}

static void csv_people(FILE *out, const struct rsap_person *people, size_t n)
{
        char buf[1024];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && len < sizeof(buf); i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "[%s]", people[i].id);
        csv_field(out, buf, false);
}

static void csv_references(FILE *out, const struct rsap_record *r)
{
        char buf[8192];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < r->n_references && len < sizeof(buf); i++) {
                const struct rsap_reference *ref = &r->references[i];
                const char *text = ref->type == RSAP_REF_URI && ref->url ? ref->url : ref->text;

                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "[%s]", text);
        }
        csv_field(out, buf, false);
}

static void csv_record(FILE *out, const struct rsap_record *r)
{
        char port[16] = "";

        if (r->has_port && r->port_low == r->port_high)
                snprintf(port, sizeof(port), "%u", r->port_low);
        else if (r->has_port)
                snprintf(port, sizeof(port), "%u-%u", r->port_low, r->port_high);
        csv_field(out, r->service, false);
        csv_field(out, port, false);
        csv_field(out, rsap_proto_name(r->proto), false);
        csv_field(out, r->description, false);
        csv_people(out, r->assignee, r->n_assignee);
        csv_people(out, r->contact, r->n_contact);
        csv_field(out, r->registered, false);
        csv_field(out, r->modified, false);
        csv_references(out, r);
        csv_field(out, r->service_code, false);
        csv_field(out, r->unauthorized_use, false);
        csv_field(out, r->notes, true);
}

static int export_csv(const struct rsap_iana *reg, FILE *out)
{
        fputs("Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"
              "Registration Date,Modification Date,Reference,Service Code,"
              "Unauthorized Use Reported,Assignment Notes\n",
              out);
        for (uint32_t i = 0; i < rsap_iana_count(reg); i++) {
                struct rsap_record r;

                rsap_iana_record(reg, i, &r);
                csv_record(out, &r);
        }
        return 0;
}

/* Streams one record at a time so that memory stays flat. */
static int export_json(const struct rsap_iana *reg, FILE *out)
{
        json_t *data = rsap_iana_info_to_json(reg);

        if (!data)
                return -ENOMEM;
        fputs("{\"kind\": \"registry\", \"data\": ", out);
        json_dumpf(data, out, JSON_COMPACT);
        json_decref(data);
        fputs(", \"records\": [", out);
        for (uint32_t i = 0; i < rsap_iana_count(reg); i++) {
                struct rsap_record r;
                json_t *o;

                rsap_iana_record(reg, i, &r);
                o = rsap_record_to_json(&r);
                if (!o)
                        return -ENOMEM;
                fputs(i ? ",\n" : "\n", out);
                json_dumpf(o, out, JSON_COMPACT);
                json_decref(o);
        }
        fputs("\n]}\n", out);
        return 0;
}

int rsap_export(const struct rsap_iana *reg, enum rsap_export_format format, FILE *out)
{
        int r;

        switch (format) {
        case RSAP_EXPORT_SERVICES:
                r = export_services(reg, out);
                break;
        case RSAP_EXPORT_CSV:
                r = export_csv(reg, out);
                break;
        case RSAP_EXPORT_JSON:
                r = export_json(reg, out);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (fflush(out) == 0 && !ferror(out))
                return 0;
        return errno == ENOSPC ? -ENOSPC : -EIO; /* a full disk, said as such */
}

/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rsap/port.h>

static const char *const proto_names[RSAP_PROTO_COUNT] = {
        [RSAP_PROTO_NONE] = NULL,
        [RSAP_PROTO_TCP] = "tcp",
        [RSAP_PROTO_UDP] = "udp",
        [RSAP_PROTO_SCTP] = "sctp",
        [RSAP_PROTO_DCCP] = "dccp",
};

static const struct rsap_range_info ranges[RSAP_RANGE_COUNT] = {
        { RSAP_RANGE_SYSTEM, "system", "System Ports", 0, 1023,
          "assigned by IANA through IETF Review or IESG Approval; "
          "the well-known ports, bound only with privileges on most systems" },
        { RSAP_RANGE_USER, "user", "User Ports", 1024, 49151,
          "assigned by IANA on request (Expert Review, or IETF Review for IETF work); "
          "use one only once it is assigned" },
        { RSAP_RANGE_DYNAMIC, "dynamic", "Dynamic Ports", 49152, 65535,
          "never assigned: free for any application to use locally and "
          "for the ephemeral ports of outgoing connections" },
};

const char *rsap_proto_name(enum rsap_proto proto)
{
        if ((unsigned)proto >= RSAP_PROTO_COUNT)
                return NULL;
        return proto_names[proto];
}

int rsap_proto_parse(const char *text, enum rsap_proto *out)
{
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                if (strcasecmp(text, proto_names[p]) == 0) {
                        *out = (enum rsap_proto)p;
                        return 0;
                }
        }
        return -EINVAL;
}

void rsap_proto_format_list(unsigned mask, char *buf, size_t size)
{
        size_t used = 0;

        buf[0] = '\0';
        for (unsigned p = RSAP_TRANSPORTS_FIRST; p <= RSAP_TRANSPORTS_LAST; p++) {
                int n;

                if (!(mask & (1u << p)))
                        continue;
                n = snprintf(buf + used, size - used, "%s%s", used ? "," : "",
                             rsap_proto_name((enum rsap_proto)p));
                if (n < 0 || (size_t)n >= size - used)
                        return;
                used += (size_t)n;
        }
}

int rsap_proto_parse_list(const char *text, unsigned *mask_out)
{
        unsigned mask = 0;
        const char *p = text;

        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                char word[8];
                enum rsap_proto proto;

                if (len == 0 || len >= sizeof(word))
                        return -EINVAL;
                memcpy(word, p, len);
                word[len] = '\0';
                if (rsap_proto_parse(word, &proto) < 0)
                        return -EINVAL;
                mask |= 1u << proto;
                if (!comma)
                        break;
                p = comma + 1;
        }
        *mask_out = mask;
        return 0;
}

enum rsap_range_class rsap_range_class_of(uint16_t port)
{
        if (port <= 1023)
                return RSAP_RANGE_SYSTEM;
        if (port <= 49151)
                return RSAP_RANGE_USER;
        return RSAP_RANGE_DYNAMIC;
}

const struct rsap_range_info *rsap_range_info(enum rsap_range_class id)
{
        if ((unsigned)id >= RSAP_RANGE_COUNT)
                return NULL;
        return &ranges[id];
}

/* Parses digits up to a stop character; refuses signs, spaces and overflow. */
static int parse_number(const char *text, const char **end, uint16_t *out)
{
        unsigned long value = 0;
        const char *p = text;

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        while (isdigit((unsigned char)*p)) {
                value = value * 10 + (unsigned long)(*p - '0');
                if (value > 65535)
                        return -ERANGE;
                p++;
        }
        *end = p;
        *out = (uint16_t)value;
        return 0;
}

int rsap_port_parse(const char *text, uint16_t *out)
{
        const char *end;
        int r = parse_number(text, &end, out);

        if (r < 0)
                return r;
        return *end == '\0' ? 0 : -EINVAL;
}

int rsap_port_spec_parse(const char *text, struct rsap_port_spec *out)
{
        struct rsap_port_spec spec = { 0 };
        const char *p;
        int r;

        r = parse_number(text, &p, &spec.low);
        if (r < 0)
                return r;
        spec.high = spec.low;
        if (*p == '-') {
                r = parse_number(p + 1, &p, &spec.high);
                if (r < 0)
                        return r;
                if (spec.high < spec.low)
                        return -EINVAL;
        }
        if (*p == '/') {
                r = rsap_proto_parse(p + 1, &spec.proto);
                if (r < 0)
                        return r;
        } else if (*p != '\0') {
                return -EINVAL;
        }
        *out = spec;
        return 0;
}

bool rsap_text_is_numeric(const char *text)
{
        if (*text == '-' || *text == '+')
                text++;
        return isdigit((unsigned char)*text);
}

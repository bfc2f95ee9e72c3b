/* SPDX-License-Identifier: MIT */
/*
 * The port specs of deployment files, as the Compose specification writes
 * them (services.*.ports, short and long syntax, and the interpolation of
 * ${VAR} in values).  Pure functions of their text: the fuzz target
 * tests/fuzz/fuzz_deploy_ports.c drives them with anything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rsap/deploy.h>

/* Copies text[0..len) into buf as a C string; -EINVAL when it does not fit. */
static int copy_part(char *buf, size_t size, const char *text, size_t len)
{
        if (len >= size)
                return -EINVAL;
        memcpy(buf, text, len);
        buf[len] = '\0';
        return 0;
}

int rsap_deploy_range_parse(const char *text, uint16_t *low, uint16_t *high)
{
        const char *dash = strchr(text, '-');
        char first[8];
        int r;

        if (!dash) {
                r = rsap_port_parse(text, low);
                *high = *low;
                return r;
        }
        if (copy_part(first, sizeof(first), text, (size_t)(dash - text)) < 0)
                return rsap_text_is_numeric(text) ? -ERANGE : -EINVAL;
        r = rsap_port_parse(first, low);
        if (r == 0)
                r = rsap_port_parse(dash + 1, high);
        if (r == 0 && *low > *high)
                r = -EINVAL;
        return r;
}

/* Range text of len bytes (not NUL-terminated) into low..high. */
static int range_part(const char *text, size_t len, uint16_t *low, uint16_t *high)
{
        char buf[16];

        if (len == 0)
                return -EINVAL;
        if (copy_part(buf, sizeof(buf), text, len) < 0)
                return rsap_text_is_numeric(text) ? -ERANGE : -EINVAL;
        return rsap_deploy_range_parse(buf, low, high);
}

static int host_ip_part(struct rsap_deploy_ports *out, const char *text, size_t len)
{
        unsigned char addr[16];
        int r = copy_part(out->host_ip, sizeof(out->host_ip), text, len);

        if (r < 0)
                return r;
        if (inet_pton(AF_INET, out->host_ip, addr) != 1 &&
            inet_pton(AF_INET6, out->host_ip, addr) != 1)
                return -EINVAL;
        return 0;
}

/* The last colon before end, or NULL. */
static const char *last_colon(const char *start, const char *end)
{
        while (end > start)
                if (*--end == ':')
                        return end;
        return NULL;
}

/* "[IP]:HOST:C", "IP:HOST:C", "HOST:C", "C" (no protocol): where each part starts. */
static int split_parts(struct rsap_deploy_ports *out, const char *text, const char *end,
                       const char **host, const char **target)
{
        const char *c2 = last_colon(text, end), *c1 = c2 ? last_colon(text, c2) : NULL;
        int r;

        *host = NULL;
        *target = c2 ? c2 + 1 : text;
        if (!c2)
                return 0;
        *host = c1 ? c1 + 1 : text;
        if (!c1)
                return 0;
        if (text[0] == '[') {
                if (c1 < text + 2 || c1[-1] != ']')
                        return -EINVAL;
                r = host_ip_part(out, text + 1, (size_t)(c1 - 1 - (text + 1)));
        } else {
                r = host_ip_part(out, text, (size_t)(c1 - text));
        }
        return r;
}

/* The host range against the container range: equal lengths, or one container port. */
static int check_lengths(const struct rsap_deploy_ports *p)
{
        if (p->target_low == p->target_high)
                return 0;
        if (p->host_high - p->host_low != p->target_high - p->target_low)
                return -ERANGE;
        return 0;
}

static int parse_proto(const char *slash, enum rsap_proto *proto)
{
        if (!slash) {
                *proto = RSAP_PROTO_TCP;
                return 0;
        }
        /* Neither Compose nor Kubernetes publishes DCCP. */
        if (rsap_proto_parse(slash + 1, proto) < 0 || *proto == RSAP_PROTO_NONE ||
            *proto == RSAP_PROTO_DCCP)
                return -EINVAL;
        return 0;
}

int rsap_compose_port_parse(const char *text, struct rsap_deploy_ports *out)
{
        const char *slash = strrchr(text, '/');
        const char *end = slash ? slash : text + strlen(text);
        const char *host, *target;
        int r;

        memset(out, 0, sizeof(*out));
        r = parse_proto(slash, &out->proto);
        if (r == 0)
                r = split_parts(out, text, end, &host, &target);
        if (r == 0)
                r = range_part(target, (size_t)(end - target), &out->target_low,
                               &out->target_high);
        if (r < 0 || !host || host == target - 1)
                return r; /* no host port, or one the engine chooses */
        r = range_part(host, (size_t)(target - 1 - host), &out->host_low, &out->host_high);
        if (r == 0 && out->host_high == 0)
                return 0; /* port 0: the engine chooses */
        if (r == 0)
                r = check_lengths(out);
        out->has_host = r == 0;
        return r;
}

/* ---- interpolation ---------------------------------------------------------------- */

#define INTERPOLATE_DEPTH 8

struct interp {
        rsap_env_lookup *lookup;
        void *arg;
        char *out;
        size_t size, len;
        char *missing;
        size_t missing_size;
};

static int emit(struct interp *in, const char *text, size_t len)
{
        if (len >= in->size - in->len)
                return -ENOSPC;
        memcpy(in->out + in->len, text, len);
        in->len += len;
        in->out[in->len] = '\0';
        return 0;
}

static bool name_char(char c, bool first)
{
        return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (!first && c >= '0' && c <= '9');
}

static size_t name_length(const char *text, size_t len)
{
        size_t n = 0;

        while (n < len && name_char(text[n], n == 0))
                n++;
        return n;
}

/* The index of the '}' that closes the "${" before text, or len when none. */
static size_t closing_brace(const char *text, size_t len)
{
        size_t depth = 0;

        for (size_t i = 0; i < len; i++) {
                if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
                        depth++;
                        i++;
                } else if (text[i] == '}' && depth-- == 0) {
                        return i;
                }
        }
        return len;
}

static int interpolate(struct interp *in, const char *text, size_t len, int depth);

static const char *lookup_name(struct interp *in, const char *name, size_t len, char *buf,
                               size_t size)
{
        if (copy_part(buf, size, name, len) < 0)
                return NULL;
        return in->lookup(buf, in->arg);
}

/*
 * One ${NAME[op word]} (body: between the braces).  Compose's operators:
 * ":-" / "-" default, ":+" / "+" alternative, ":?" / "?" required.
 */
static int expand_braced(struct interp *in, const char *body, size_t len, int depth)
{
        size_t n = name_length(body, len);
        char name[128];
        const char *value, *op = body + n;
        bool colon = n < len && *op == ':';
        bool unset, empty;

        if (n == 0 || n >= sizeof(name))
                return -EINVAL;
        value = lookup_name(in, body, n, name, sizeof(name));
        unset = !value;
        empty = unset || !*value;
        if (n == len)
                return value ? emit(in, value, strlen(value)) : 0;
        op += colon;
        if (op >= body + len || !strchr("-+?", *op))
                return -EINVAL;
        const char *word = op + 1;
        size_t word_len = (size_t)(body + len - word);
        bool missing = colon ? empty : unset;

        if (*op == '-')
                return missing ? interpolate(in, word, word_len, depth + 1)
                               : emit(in, value, strlen(value));
        if (*op == '+')
                return missing ? 0 : interpolate(in, word, word_len, depth + 1);
        if (!missing)
                return emit(in, value, strlen(value));
        if (in->missing)
                snprintf(in->missing, in->missing_size, "%s", name);
        return -ENOENT;
}

/* One reference starting at text[0] == '$'; *used gets its length. */
static int expand_one(struct interp *in, const char *text, size_t len, int depth, size_t *used)
{
        char name[128];
        const char *value;
        size_t n, close;

        if (len >= 2 && text[1] == '$') {
                *used = 2;
                return emit(in, "$", 1);
        }
        if (len >= 2 && text[1] == '{') {
                close = closing_brace(text + 2, len - 2);
                if (close == len - 2)
                        return -EINVAL;
                *used = close + 3;
                return expand_braced(in, text + 2, close, depth);
        }
        n = name_length(text + 1, len - 1);
        if (n == 0 || n >= sizeof(name))
                return -EINVAL;
        *used = n + 1;
        value = lookup_name(in, text + 1, n, name, sizeof(name));
        return value ? emit(in, value, strlen(value)) : 0;
}

static int interpolate(struct interp *in, const char *text, size_t len, int depth)
{
        size_t i = 0, used;
        int r;

        if (depth > INTERPOLATE_DEPTH)
                return -EINVAL;
        while (i < len) {
                const char *dollar = memchr(text + i, '$', len - i);
                size_t plain = dollar ? (size_t)(dollar - (text + i)) : len - i;

                r = emit(in, text + i, plain);
                i += plain;
                if (r < 0 || i == len)
                        return r;
                r = expand_one(in, text + i, len - i, depth, &used);
                if (r < 0)
                        return r;
                i += used;
        }
        return 0;
}

int rsap_compose_interpolate(const char *text, rsap_env_lookup *lookup, void *arg, char *out,
                             size_t size, char *missing, size_t missing_size)
{
        struct interp in = { lookup, arg, out, size, 0, missing, missing_size };

        if (size == 0)
                return -ENOSPC;
        out[0] = '\0';
        return interpolate(&in, text, strlen(text), 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * The port specs of deployment files (lib/local/deploy_ports.c): Compose's
 * short syntax, a published range, and ${VAR} interpolation.  Whatever the
 * bytes, a parsed entry is consistent (ranges in order, a host range as long
 * as its container range or mapped onto one port), and interpolation never
 * writes past its buffer and leaves text without '$' as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/deploy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, void *arg)
{
        (void)arg;
        if (strcmp(name, "SET") == 0)
                return "8080";
        if (strcmp(name, "EMPTY") == 0)
                return "";
        return NULL;
}

static void check_ports(const char *text)
{
        struct rsap_deploy_ports p;
        uint16_t low, high;

        if (rsap_compose_port_parse(text, &p) == 0) {
                if (p.proto == RSAP_PROTO_NONE || p.target_low > p.target_high)
                        abort();
                if (p.has_host && (p.host_low > p.host_high || p.host_high == 0))
                        abort();
                if (p.has_host && p.target_low != p.target_high &&
                    p.host_high - p.host_low != p.target_high - p.target_low)
                        abort();
                if (strnlen(p.host_ip, sizeof(p.host_ip)) == sizeof(p.host_ip))
                        abort();
        }
        if (rsap_deploy_range_parse(text, &low, &high) == 0 && low > high)
                abort();
}

static void check_interpolation(const char *text, size_t size)
{
        char out[64], missing[16];
        size_t cap = size ? (unsigned char)text[0] % sizeof(out) + 1 : sizeof(out);
        int r;

        memset(out, 'x', sizeof(out));
        r = rsap_compose_interpolate(text, lookup, NULL, out, cap, missing, sizeof(missing));
        if (memchr(out, '\0', cap) == NULL)
                abort(); /* always terminated inside its buffer */
        for (size_t i = cap; i < sizeof(out); i++)
                if (out[i] != 'x')
                        abort(); /* wrote past the size it was given */
        if (r == 0 && !strchr(text, '$') && strcmp(out, text) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);

        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = '\0';
        check_ports(text);
        check_interpolation(text, strlen(text));
        free(text);
        return 0;
}

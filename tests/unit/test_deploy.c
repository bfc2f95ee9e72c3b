/* SPDX-License-Identifier: MIT */
/* rsap check's port specs (lib/local/deploy_ports.c): each form of Compose's syntax. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rsap/deploy.h>

struct want {
        const char *text;
        int r;
        bool has_host;
        const char *ip;
        unsigned host_low, host_high, target_low, target_high;
        enum rsap_proto proto;
};

static void short_syntax(void **state)
{
        static const struct want wants[] = {
                { "8080", 0, false, "", 0, 0, 8080, 8080, RSAP_PROTO_TCP },
                { "8080:80", 0, true, "", 8080, 8080, 80, 80, RSAP_PROTO_TCP },
                { "127.0.0.1:8080:80", 0, true, "127.0.0.1", 8080, 8080, 80, 80, RSAP_PROTO_TCP },
                { "8080-8090:80-90", 0, true, "", 8080, 8090, 80, 90, RSAP_PROTO_TCP },
                { "9090-9091:8080-8081/udp", 0, true, "", 9090, 9091, 8080, 8081, RSAP_PROTO_UDP },
                { "[::1]:6001:6001", 0, true, "::1", 6001, 6001, 6001, 6001, RSAP_PROTO_TCP },
                { "fe80::1:6002:6001", 0, true, "fe80::1", 6002, 6002, 6001, 6001, RSAP_PROTO_TCP },
                { "127.0.0.1::80", 0, false, "127.0.0.1", 0, 0, 80, 80, RSAP_PROTO_TCP },
                { "8000-8010:80", 0, true, "", 8000, 8010, 80, 80, RSAP_PROTO_TCP },
                { "5000:5000/SCTP", 0, true, "", 5000, 5000, 5000, 5000, RSAP_PROTO_SCTP },
                { "0:80", 0, false, "", 0, 0, 80, 80, RSAP_PROTO_TCP },
                { "8080:80-81", -ERANGE, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "8080-8082:80-81", -ERANGE, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "70000:80", -ERANGE, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "8080:80/dccp", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "8080:80/quic", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "8080:", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "a:8080:80", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "[::1:8080:80", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "90-80:1", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
                { "", -EINVAL, false, "", 0, 0, 0, 0, RSAP_PROTO_NONE },
        };
        struct rsap_deploy_ports p;

        (void)state;
        for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
                const struct want *w = &wants[i];
                int r = rsap_compose_port_parse(w->text, &p);

                print_message("%s\n", w->text);
                assert_int_equal(r, w->r);
                if (r < 0)
                        continue;
                assert_int_equal(p.has_host, w->has_host);
                assert_string_equal(p.host_ip, w->ip);
                if (p.has_host) {
                        assert_int_equal(p.host_low, w->host_low);
                        assert_int_equal(p.host_high, w->host_high);
                }
                assert_int_equal(p.target_low, w->target_low);
                assert_int_equal(p.target_high, w->target_high);
                assert_int_equal(p.proto, w->proto);
        }
}

static const char *lookup(const char *name, void *arg)
{
        (void)arg;
        if (strcmp(name, "PORT") == 0)
                return "8443";
        if (strcmp(name, "EMPTY") == 0)
                return "";
        return NULL;
}

static void interpolation(void **state)
{
        static const char *const cases[][2] = {
                { "$PORT:80", "8443:80" },
                { "${PORT}:80", "8443:80" },
                { "${UNSET:-9000}:80", "9000:80" },
                { "${EMPTY:-9000}:80", "9000:80" },
                { "${EMPTY-9000}:80", ":80" },
                { "${UNSET-9000}:80", "9000:80" },
                { "${PORT:+1}${UNSET:+2}${EMPTY+3}", "13" },
                { "${UNSET:-${PORT}}", "8443" },
                { "$$PORT", "$PORT" },
                { "${UNSET}x", "x" },
        };
        char out[64], missing[32] = "";

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                print_message("%s\n", cases[i][0]);
                assert_int_equal(rsap_compose_interpolate(cases[i][0], lookup, NULL, out,
                                                          sizeof(out), NULL, 0),
                                 0);
                assert_string_equal(out, cases[i][1]);
        }
        assert_int_equal(rsap_compose_interpolate("${NEED:?set it}", lookup, NULL, out,
                                                  sizeof(out), missing, sizeof(missing)),
                         -ENOENT);
        assert_string_equal(missing, "NEED");
        assert_int_equal(rsap_compose_interpolate("${EMPTY?x}", lookup, NULL, out, sizeof(out),
                                                  NULL, 0),
                         0);
        assert_int_equal(rsap_compose_interpolate("${PORT", lookup, NULL, out, sizeof(out),
                                                  NULL, 0),
                         -EINVAL);
        assert_int_equal(rsap_compose_interpolate("$ 1", lookup, NULL, out, sizeof(out), NULL, 0),
                         -EINVAL);
        assert_int_equal(rsap_compose_interpolate("${PORT}", lookup, NULL, out, 4, NULL, 0),
                         -ENOSPC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(short_syntax),
                cmocka_unit_test(interpolation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Ports, protocols, RFC 6335 ranges and service-name rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rsap/name.h>
#include <rsap/port.h>

static void range_classes_follow_rfc6335(void **state)
{
        assert_int_equal(rsap_range_class_of(0), RSAP_RANGE_SYSTEM);
        assert_int_equal(rsap_range_class_of(1023), RSAP_RANGE_SYSTEM);
        assert_int_equal(rsap_range_class_of(1024), RSAP_RANGE_USER);
        assert_int_equal(rsap_range_class_of(1647), RSAP_RANGE_USER);
        assert_int_equal(rsap_range_class_of(49151), RSAP_RANGE_USER);
        assert_int_equal(rsap_range_class_of(49152), RSAP_RANGE_DYNAMIC);
        assert_int_equal(rsap_range_class_of(65535), RSAP_RANGE_DYNAMIC);
        for (unsigned i = 0; i < RSAP_RANGE_COUNT; i++) {
                const struct rsap_range_info *r = rsap_range_info((enum rsap_range_class)i);

                assert_non_null(r);
                assert_int_equal(rsap_range_class_of(r->low), i);
                assert_int_equal(rsap_range_class_of(r->high), i);
        }
        assert_string_equal(rsap_range_info(RSAP_RANGE_USER)->title, "User Ports");
        assert_null(rsap_range_info(RSAP_RANGE_COUNT));
}

static void ports_parse_strictly(void **state)
{
        uint16_t port;

        assert_int_equal(rsap_port_parse("0", &port), 0);
        assert_int_equal(port, 0);
        assert_int_equal(rsap_port_parse("65535", &port), 0);
        assert_int_equal(port, 65535);
        assert_int_equal(rsap_port_parse("65536", &port), -ERANGE);
        assert_int_equal(rsap_port_parse("70000", &port), -ERANGE);
        assert_int_equal(rsap_port_parse("99999999999999999999", &port), -ERANGE);
        assert_int_equal(rsap_port_parse("-1", &port), -EINVAL);
        assert_int_equal(rsap_port_parse("+1", &port), -EINVAL);
        assert_int_equal(rsap_port_parse(" 1", &port), -EINVAL);
        assert_int_equal(rsap_port_parse("1 ", &port), -EINVAL);
        assert_int_equal(rsap_port_parse("", &port), -EINVAL);
        assert_int_equal(rsap_port_parse("12a", &port), -EINVAL);
}

static void port_specs_take_protocols_and_ranges(void **state)
{
        struct rsap_port_spec s;

        assert_int_equal(rsap_port_spec_parse("1647/udp", &s), 0);
        assert_int_equal(s.low, 1647);
        assert_int_equal(s.high, 1647);
        assert_int_equal(s.proto, RSAP_PROTO_UDP);
        assert_int_equal(rsap_port_spec_parse("1647/TCP", &s), 0);
        assert_int_equal(s.proto, RSAP_PROTO_TCP);
        assert_int_equal(rsap_port_spec_parse("1640-1650", &s), 0);
        assert_int_equal(s.low, 1640);
        assert_int_equal(s.high, 1650);
        assert_int_equal(s.proto, RSAP_PROTO_NONE);
        assert_int_equal(rsap_port_spec_parse("9-9/dccp", &s), 0);
        assert_int_equal(s.proto, RSAP_PROTO_DCCP);
        assert_int_equal(rsap_port_spec_parse("1650-1640", &s), -EINVAL);
        assert_int_equal(rsap_port_spec_parse("1647/xyz", &s), -EINVAL);
        assert_int_equal(rsap_port_spec_parse("1647/", &s), -EINVAL);
        assert_int_equal(rsap_port_spec_parse("1-", &s), -EINVAL);
        assert_int_equal(rsap_port_spec_parse("1-70000", &s), -ERANGE);
        assert_int_equal(rsap_port_spec_parse("1647 /tcp", &s), -EINVAL);
}

static void protocol_names_round_trip(void **state)
{
        unsigned mask;
        enum rsap_proto p;

        for (unsigned i = RSAP_TRANSPORTS_FIRST; i <= RSAP_TRANSPORTS_LAST; i++) {
                assert_int_equal(rsap_proto_parse(rsap_proto_name((enum rsap_proto)i), &p), 0);
                assert_int_equal(p, i);
        }
        assert_null(rsap_proto_name(RSAP_PROTO_NONE));
        assert_int_equal(rsap_proto_parse("udplite", &p), -EINVAL);
        assert_int_equal(rsap_proto_parse_list("tcp,sctp", &mask), 0);
        assert_int_equal(mask, (1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_SCTP));
        assert_int_equal(rsap_proto_parse_list("tcp,", &mask), -EINVAL);
        assert_int_equal(rsap_proto_parse_list("", &mask), -EINVAL);
        assert_int_equal(rsap_proto_parse_list("tcp,bogus", &mask), -EINVAL);
}

static void service_names_follow_section_5_1(void **state)
{
        assert_int_equal(rsap_name_check("rsap"), RSAP_NAME_OK);
        assert_int_equal(rsap_name_check("CardWeb-IO"), RSAP_NAME_OK);
        assert_int_equal(rsap_name_check("a1-b2-c3"), RSAP_NAME_OK);
        assert_int_equal(rsap_name_check("x"), RSAP_NAME_OK);
        assert_int_equal(rsap_name_check("abcdefghijklmno"), RSAP_NAME_OK);
        assert_int_equal(rsap_name_check("abcdefghijklmnop"), RSAP_NAME_TOO_LONG);
        assert_int_equal(rsap_name_check(""), RSAP_NAME_EMPTY);
        assert_int_equal(rsap_name_check("23"), RSAP_NAME_NO_LETTER);
        assert_int_equal(rsap_name_check("6000-6063"), RSAP_NAME_NO_LETTER);
        assert_int_equal(rsap_name_check("-ssh"), RSAP_NAME_HYPHEN_AT_END);
        assert_int_equal(rsap_name_check("ssh-"), RSAP_NAME_HYPHEN_AT_END);
        assert_int_equal(rsap_name_check("a--b"), RSAP_NAME_DOUBLE_HYPHEN);
        assert_int_equal(rsap_name_check("sql*net"), RSAP_NAME_BAD_CHARACTER);
        assert_int_equal(rsap_name_check("whois++"), RSAP_NAME_BAD_CHARACTER);
        assert_int_equal(rsap_name_check("z39.50"), RSAP_NAME_BAD_CHARACTER);
        assert_int_equal(rsap_name_check("sw\xc3\xbfp"), RSAP_NAME_BAD_CHARACTER);
        assert_int_equal(rsap_name_check("a_b"), RSAP_NAME_BAD_CHARACTER);
        assert_string_not_equal(rsap_name_problem_text(RSAP_NAME_TOO_LONG),
                                rsap_name_problem_text(RSAP_NAME_EMPTY));
}

static void names_compare_without_case(void **state)
{
        assert_true(rsap_name_equal("RSAP", "rsap"));
        assert_true(rsap_name_equal("CardWeb-IO", "cardweb-io"));
        assert_false(rsap_name_equal("rsap", "rsap2"));
        assert_int_equal(rsap_name_hash("RSAP", 4), rsap_name_hash("rsap", 4));
        assert_int_not_equal(rsap_name_hash("rsap", 4), rsap_name_hash("rsaq", 4));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(range_classes_follow_rfc6335),
                cmocka_unit_test(ports_parse_strictly),
                cmocka_unit_test(port_specs_take_protocols_and_ranges),
                cmocka_unit_test(protocol_names_round_trip),
                cmocka_unit_test(service_names_follow_section_5_1),
                cmocka_unit_test(names_compare_without_case),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

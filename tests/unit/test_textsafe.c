/* SPDX-License-Identifier: MIT */
/* The escaper of outside text: its forms, its cuts, and what a field may hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rsap/textsafe.h>

#include "../fuzz/textsafe_unescape.h"

static void expect_escaped(const char *in, size_t len, const char *want)
{
        char out[256];

        assert_int_equal(rsap_text_escape(out, sizeof(out), in, len), strlen(want));
        assert_string_equal(out, want);
        assert_int_equal(rsap_text_needs_escape(in, len), strcmp(in, want) != 0 || strlen(in) != len);
}

static void controls_become_visible(void **state)
{
        (void)state;
        expect_escaped("plain text", 10, "plain text");
        expect_escaped("\x1b[2J\x1b]0;X\a\r", 11, "\\e[2J\\e]0;X\\a\\r");
        expect_escaped("a\tb\nc\\d", 7, "a\\tb\\nc\\\\d");
        expect_escaped("\x01\x1f\x7f", 3, "\\x01\\x1f\\x7f");
        expect_escaped("nul\0!", 5, "nul\\x00!");
        expect_escaped("csi \xc2\x9b nel \xc2\x85", 13, "csi \\u009b nel \\u0085");
        expect_escaped("caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80", 17,
                       "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void bad_utf8_is_escaped_byte_by_byte(void **state)
{
        (void)state;
        expect_escaped("\xff\xfe", 2, "\\xff\\xfe");
        expect_escaped("\xc0\xaf", 2, "\\xc0\\xaf");              /* overlong '/' */
        expect_escaped("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");      /* a surrogate */
        expect_escaped("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
        expect_escaped("\xe2\x82", 2, "\\xe2\\x82");               /* cut short */
        expect_escaped("\xc3", 1, "\\xc3");
}

static void a_cut_never_splits_an_escape(void **state)
{
        const char *in = "ab\x1b" "cd\xc3\xa9";
        char out[16], back[16];

        (void)state;
        assert_int_equal(rsap_text_escape(out, 4, in, strlen(in)), 8);
        assert_string_equal(out, "ab"); /* "\e" does not fit after "ab" in 3 bytes */
        assert_int_equal(rsap_text_escape(out, 5, in, strlen(in)), 8);
        assert_string_equal(out, "ab\\e");
        rsap_text_escape(out, 8, in, strlen(in));
        assert_string_equal(out, "ab\\ecd"); /* nor a character of UTF-8 */
        rsap_text_escape(out, 1, in, strlen(in));
        assert_string_equal(out, "");
        assert_int_equal(rsap_text_escape(NULL, 0, in, strlen(in)), 8);
        rsap_text_escape(out, sizeof(out), in, strlen(in));
        assert_int_equal(textsafe_unescape(out, strlen(out), back), strlen(in));
        assert_memory_equal(back, in, strlen(in));
}

static void every_byte_pair_reads_back(void **state)
{
        (void)state;
        for (unsigned a = 0; a < 256; a++) {
                for (unsigned b = 0; b < 256; b++) {
                        char in[2] = { (char)a, (char)b }, out[32], back[32];
                        size_t n = rsap_text_escape(out, sizeof(out), in, 2);

                        assert_true(n < sizeof(out));
                        assert_int_equal(rsap_text_first_control(out, false), -1);
                        assert_int_equal(textsafe_unescape(out, n, back), 2);
                        assert_memory_equal(back, in, 2);
                }
        }
}

static void fields_refuse_controls(void **state)
{
        (void)state;
        assert_int_equal(rsap_text_first_control("Ops <ops@example.com>", false), -1);
        assert_int_equal(rsap_text_first_control("caf\xc3\xa9", false), -1);
        assert_int_equal(rsap_text_first_control("a\x1b[2J", false), 1);
        assert_int_equal(rsap_text_first_control("tab\there", false), 3);
        assert_int_equal(rsap_text_first_control("one\ntwo", false), 3);
        assert_int_equal(rsap_text_first_control("one\ntwo", true), -1);
        assert_int_equal(rsap_text_first_control("one\r\ntwo", true), 3);
        assert_int_equal(rsap_text_first_control("del\x7f", true), 3);
        assert_int_equal(rsap_text_first_control("c1\xc2\x9b", true), 2);
        assert_int_equal(rsap_text_first_control("bad\xff", true), 3);
        assert_int_equal(rsap_text_columns("caf\xc3\xa9", 5), 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(controls_become_visible),
                cmocka_unit_test(bad_utf8_is_escaped_byte_by_byte),
                cmocka_unit_test(a_cut_never_splits_an_escape),
                cmocka_unit_test(every_byte_pair_reads_back),
                cmocka_unit_test(fields_refuse_controls),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* rsap_json_write() against jansson's own dump with RSAP_JSON_DUMP_FLAGS. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rsap/basic.h>
#include <rsap/json_write.h>

/* Both dumps of v agree byte for byte, or both refuse it. */
static void expect_as_jansson(json_t *v)
{
        char *want = json_dumps(v, RSAP_JSON_DUMP_FLAGS | JSON_ENCODE_ANY);
        struct rsap_buf b = { 0 };
        int r = rsap_json_write(&b, v);

        if (!want) {
                assert_int_equal(r, -EILSEQ);
        } else {
                assert_int_equal(r, 0);
                assert_string_equal(b.data, want);
                assert_int_equal(b.len, strlen(want));
        }
        free(want);
        rsap_buf_free(&b);
        json_decref(v);
}

static void nested_values(void **state)
{
        json_t *deep = json_array();
        json_t *inner = deep;

        (void)state;
        for (int i = 0; i < 20; i++) { /* 40 spaces of indent and more */
                json_t *next = json_object();

                json_array_append_new(inner, json_integer(i));
                json_array_append_new(inner, next);
                json_object_set_new(next, "more", json_array());
                inner = json_object_get(next, "more");
        }
        expect_as_jansson(json_pack("{s:s, s:i, s:I, s:I, s:b, s:b, s:n, s:o, s:o, s:o, s:o, s:f, s:o}",
                                    "kind", "port", "port", 1647,
                                    "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX,
                                    "yes", 1, "no", 0, "none",
                                    "empty object", json_object(), "empty array", json_array(),
                                    "one", json_pack("[{}]"), "deep", deep,
                                    "real", 0.1, "reals", json_pack("[f, f, f]", 1.0, -2.5e300, 1e-7)));
        expect_as_jansson(json_object());
        expect_as_jansson(json_array());
}

static void strings_escape_as_jansson(void **state)
{
        char all[128];

        (void)state;
        for (int i = 0; i < 128; i++)
                all[i] = (char)i;
        expect_as_jansson(json_pack("[s%]", all, sizeof(all)));
        expect_as_jansson(json_pack("{s%:s}", "k\0ey\"\\\n", (size_t)7, "v"));
        expect_as_jansson(json_pack("[s, s, s]", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac/\x7f",
                                    "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
}

/* Bytes jansson's own dump refuses (a string made without its check): refused alike. */
static void bad_utf8_is_refused(void **state)
{
        static const char *const bad[] = {
                "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3", "\xe2\x82", "a\xffz",
        };

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                expect_as_jansson(json_pack("[o]", json_stringn_nocheck(bad[i], strlen(bad[i]))));
        for (unsigned c = 0x80; c < 0x100; c++) {
                char one[2] = { (char)c, 0 };

                expect_as_jansson(json_pack("[o]", json_stringn_nocheck(one, 1)));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(nested_values),
                cmocka_unit_test(strings_escape_as_jansson),
                cmocka_unit_test(bad_utf8_is_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

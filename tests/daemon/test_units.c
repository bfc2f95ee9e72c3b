/* SPDX-License-Identifier: MIT */
/*
 * rsapd's pure parts alone: the router, %-decoding, headers, body decoding,
 * the page escaper, the port server's bookkeeping and the token checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"
#include "pool.h"
#include "router.h"
#include "rsapd.h"

/* auth.c logs nothing, but the daemon's logger is linked from main.c. */
void rsapd_log(const char *fmt, ...)
{
        (void)fmt;
}

static void routes_match_with_params(void **state)
{
        struct route_match m;

        router_match(HTTP_GET, "/v1/ports/1647", &m);
        assert_int_equal(m.result, ROUTE_FOUND);
        assert_int_equal(m.id, ROUTE_API_PORT);
        assert_int_equal(m.n_params, 1);
        assert_string_equal(m.params[0], "1647");

        router_match(HTTP_HEAD, "/v1/ports/1647/udp", &m);
        assert_int_equal(m.id, ROUTE_API_PORT_PROTO);
        assert_string_equal(m.params[1], "udp");

        router_match(HTTP_POST, "/v1/registry/requests/12/approve", &m);
        assert_int_equal(m.id, ROUTE_API_REQUEST_ACTION);
        assert_string_equal(m.params[0], "12");
        assert_string_equal(m.params[1], "approve");

        router_match(HTTP_GET, "/", &m);
        assert_int_equal(m.id, ROUTE_HOME);
        assert_string_equal(route_template(ROUTE_API_SERVICE), "/v1/services/{name}");
        assert_true(route_is_api(ROUTE_API_AUDIT));
        assert_false(route_is_api(ROUTE_PORT_PAGE));
}

static void segments_are_decoded_after_the_split(void **state)
{
        struct route_match m;

        /* An encoded slash stays in its segment: the service 914c/g. */
        router_match(HTTP_GET, "/v1/services/914c%2Fg", &m);
        assert_int_equal(m.result, ROUTE_FOUND);
        assert_int_equal(m.id, ROUTE_API_SERVICE);
        assert_string_equal(m.params[0], "914c/g");
        router_match(HTTP_GET, "/service/cl%2f1", &m);
        assert_int_equal(m.id, ROUTE_SERVICE_PAGE);
        assert_string_equal(m.params[0], "cl/1");
        /* ...and is no separator: one parameter, not port and protocol. */
        router_match(HTTP_GET, "/v1/ports/1647%2Ftcp", &m);
        assert_int_equal(m.id, ROUTE_API_PORT);
        assert_string_equal(m.params[0], "1647/tcp");
        /* Other escapes decode as before, in literal segments too. */
        router_match(HTTP_GET, "/v1/%70orts/%31647", &m);
        assert_int_equal(m.id, ROUTE_API_PORT);
        assert_string_equal(m.params[0], "1647");
        router_match(HTTP_GET, "/v1/services/a%00b", &m);
        assert_string_equal(m.params[0], "a%00b");
}

static void wrong_method_says_what_is_allowed(void **state)
{
        struct route_match m;
        char allow[64];

        router_match(HTTP_DELETE, "/v1/ranges", &m);
        assert_int_equal(m.result, ROUTE_METHOD_NOT_ALLOWED);
        http_allow_text(m.allowed, allow, sizeof(allow));
        assert_string_equal(allow, "GET, HEAD");
        router_match(HTTP_GET, "/v1/registry/requests", &m);
        assert_int_equal(m.result, ROUTE_FOUND);
        http_allow_text(m.allowed, allow, sizeof(allow));
        assert_string_equal(allow, "GET, HEAD, POST");
        assert_int_equal(http_method_parse("BREW"), HTTP_OTHER);
        assert_int_equal(http_method_parse("get"), HTTP_OTHER);
}

static void odd_paths_match_nothing(void **state)
{
        static const char *const paths[] = {
                "/port/../etc/passwd", "/port/.", "/..", "//", "/port//1", "/v1/ports/1647/",
                "", "v1/ports/1", "/port/1\x01", "/a/b/c/d/e/f/g/h/i",
                /* the same, %-encoded: each segment is checked once decoded */
                "/port/%2e%2e", "/port/%2E", "/port/%01", "/port/%7f", "/%2e%2e/etc",
        };
        char long_segment[300];
        struct route_match m;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                router_match(HTTP_GET, paths[i], &m);
                assert_int_equal(m.result, ROUTE_NOT_FOUND);
        }
        memset(long_segment, 'a', sizeof(long_segment));
        memcpy(long_segment, "/port/", 6);
        long_segment[sizeof(long_segment) - 1] = '\0';
        router_match(HTTP_GET, long_segment, &m);
        assert_int_equal(m.result, ROUTE_NOT_FOUND);
}

static void query_parameters_are_the_routes_own(void **state)
{
        struct query_check qc;
        char message[256];

        query_check_init(&qc, ROUTE_API_SEARCH);
        assert_true(query_check_add(&qc, "q", "1"));
        assert_true(query_check_add(&qc, "limit", "1"));
        assert_int_equal(qc.verdict, QUERY_OK);
        query_check_message(&qc, message, sizeof(message));
        assert_string_equal(message, "");

        query_check_init(&qc, ROUTE_API_SEARCH);
        assert_true(query_check_add(&qc, "q", "1"));
        assert_false(query_check_add(&qc, "limt", "1"));
        assert_int_equal(qc.verdict, QUERY_UNKNOWN);
        /* Once refused, the first fault is the one reported. */
        assert_false(query_check_add(&qc, "q", "1"));
        query_check_message(&qc, message, sizeof(message));
        assert_string_equal(message, "unknown query parameter 'limt' (/v1/search takes q, limit)");

        query_check_init(&qc, ROUTE_API_SEARCH);
        assert_true(query_check_add(&qc, "q", "1"));
        assert_false(query_check_add(&qc, "q", "1"));
        assert_int_equal(qc.verdict, QUERY_REPEATED);
        query_check_message(&qc, message, sizeof(message));
        assert_string_equal(message, "query parameter 'q' is given more than once");

        /* Names are exact: no case folding, no prefix. */
        query_check_init(&qc, ROUTE_API_LIST);
        assert_false(query_check_add(&qc, "Range", "1"));
        query_check_init(&qc, ROUTE_API_LIST);
        assert_false(query_check_add(&qc, "rang", "1"));
        query_check_init(&qc, ROUTE_API_LIST);
        assert_false(query_check_add(&qc, "", "1"));

        /* A route that reads none refuses any, pages included. */
        query_check_init(&qc, ROUTE_API_RANGES);
        assert_false(query_check_add(&qc, "x", "1"));
        query_check_message(&qc, message, sizeof(message));
        assert_string_equal(message, "unknown query parameter 'x' (/v1/ranges takes none)");
        query_check_init(&qc, ROUTE_PORT_PAGE);
        assert_false(query_check_add(&qc, "q", "1"));
        query_check_init(&qc, ROUTE_SEARCH_PAGE);
        assert_true(query_check_add(&qc, "q", "1"));
        query_check_init(&qc, ROUTE_NONE);
        assert_false(query_check_add(&qc, "q", "1"));

        /* The name in the message is printable and bounded. */
        query_check_init(&qc, ROUTE_API_PICK);
        assert_false(query_check_add(&qc, "a\n\x1b[31mb", "1"));
        assert_string_equal(qc.name, "a??[31mb");

        /* Names and values are UTF-8, or the request is refused. */
        query_check_init(&qc, ROUTE_API_SEARCH);
        assert_true(query_check_add(&qc, "q", "caf\xc3\xa9"));
        assert_true(query_check_add(&qc, "limit", NULL));
        query_check_init(&qc, ROUTE_API_SEARCH);
        assert_false(query_check_add(&qc, "q", "\xff"));
        assert_int_equal(qc.verdict, QUERY_NOT_UTF8);
        query_check_message(&qc, message, sizeof(message));
        assert_string_equal(message, "query parameter 'q' is not UTF-8");
        assert_true(utf8_valid("plain, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80"));
        assert_false(utf8_valid("\xc3"));           /* cut short */
        assert_false(utf8_valid("\xc0\xaf"));       /* overlong '/' */
        assert_false(utf8_valid("\xe0\x80\xaf"));   /* overlong '/' */
        assert_false(utf8_valid("\xed\xa0\x80"));   /* a surrogate */
        assert_false(utf8_valid("\xf4\x90\x80\x80")); /* beyond U+10FFFF */
        assert_false(utf8_valid("a\x80" "b"));

        route_query_text(ROUTE_API_PICK, message, sizeof(message));
        assert_string_equal(message, "range, proto, count, allow_iana");
        route_query_text(ROUTE_API_LISTENING, message, 12);
        assert_true(strlen(message) < 12);
}

static void unescaping_keeps_nul_out(void **state)
{
        char a[] = "/port/1647%00.html", b[] = "/%2e%2E/x%2Fy", c[] = "%zz%4";

        assert_int_equal(url_unescape(a), strlen("/port/1647%00.html"));
        assert_string_equal(a, "/port/1647%00.html");
        url_unescape(b);
        assert_string_equal(b, "/../x/y");
        url_unescape(c);
        assert_string_equal(c, "%zz%4");
}

static void headers_are_parsed_strictly(void **state)
{
        const char *token;
        size_t len;

        assert_int_equal(decode_bearer("Bearer abc.DEF-123", &token, &len), 0);
        assert_int_equal(len, 11);
        assert_int_equal(decode_bearer("bearer   xyz  ", &token, &len), 0);
        assert_int_equal(len, 3);
        assert_int_equal(decode_bearer(NULL, &token, &len), -ENOENT);
        assert_int_equal(decode_bearer("Basic dXNlcg==", &token, &len), -EINVAL);
        assert_int_equal(decode_bearer("Bearer ", &token, &len), -EINVAL);
        assert_int_equal(decode_bearer("Bearer a b", &token, &len), -EINVAL);
        assert_int_equal(decode_token68("abc=="), 0);
        assert_int_equal(decode_token68("a b"), -EINVAL);
        assert_true(content_type_is_json("application/json"));
        assert_true(content_type_is_json("Application/JSON; charset=utf-8"));
        assert_false(content_type_is_json("application/jsonp"));
        assert_false(content_type_is_json("text/plain"));
}

static json_t *parse(const char *text)
{
        char err[256];

        return decode_json_object(text, strlen(text), err, sizeof(err));
}

static void bodies_are_objects_and_nothing_else(void **state)
{
        json_t *o = parse("{\"a\": 1}");

        assert_non_null(o);
        json_decref(o);
        assert_null(parse("[1]"));
        assert_null(parse("{\"a\": 1, \"a\": 2}"));
        assert_null(parse("{} {}"));
        assert_null(parse("{\"a\": \"\\u0000\"}"));
        assert_null(parse(""));
}

/* A request body with one field's JSON text replaced (fields in decode_request's order). */
static int decode_request_with(const char *service, const char *port, const char *description,
                               char *err)
{
        struct decoded_request dr;
        char *text = NULL;
        json_t *o;
        int r;

        assert_true(asprintf(&text,
                             "{\"service\": \"%s\", \"port\": %s, \"protocols\": \"tcp\", "
                             "\"description\": \"%s\", \"assignee\": \"a\", \"contact\": \"c\"}",
                             service, port, description) > 0);
        o = parse(text);
        assert_non_null(o);
        r = decode_request(o, &dr, err);
        json_decref(o);
        free(text);
        return r;
}

static void request_fields_keep_their_limits(void **state)
{
        char err[DECODE_ERR_SIZE];
        char name[RSAP_NAME_MAX + 2], text[4098];

        assert_int_equal(decode_request_with("x", "65535", "d", err), 0);
        assert_int_equal(decode_request_with("x", "0", "d", err), 0); /* 0: the review refuses it */
        /* 65536 would wrap to port 0 in a uint16_t. */
        assert_int_equal(decode_request_with("x", "65536", "d", err), -EINVAL);
        assert_string_equal(err, "'port' must be a port, an integer from 0 to 65535");
        assert_int_equal(decode_request_with("x", "-1", "d", err), -EINVAL);

        memset(text, 'd', 4096);
        text[4096] = '\0';
        assert_int_equal(decode_request_with("x", "8443", text, err), 0);
        text[4096] = 'd';
        text[4097] = '\0';
        assert_int_equal(decode_request_with("x", "8443", text, err), -EINVAL);
        assert_string_equal(err, "'description' is longer than 4096 bytes");

        /* A name too long says so, not the library's "the input is not valid". */
        memset(name, 'n', RSAP_NAME_MAX);
        name[RSAP_NAME_MAX] = '\0';
        assert_int_equal(decode_request_with(name, "8443", "d", err), 0);
        name[RSAP_NAME_MAX] = 'n';
        name[RSAP_NAME_MAX + 1] = '\0';
        assert_int_equal(decode_request_with(name, "8443", "d", err), -EINVAL);
        assert_string_equal(err, "'service' is too long for a service name");
}

static void request_bodies_decode_into_inputs(void **state)
{
        char err[DECODE_ERR_SIZE];
        struct decoded_request dr;
        struct decoded_lease dl;
        struct decoded_end de;
        json_t *o;

        o = parse("{\"service\": \"myapp\", \"port\": 8443, \"protocols\": [\"tcp\", \"udp\"], "
                  "\"description\": \"d\", \"assignee\": \"a\", \"contact\": \"c\", \"as\": \"alice\"}");
        assert_int_equal(decode_request(o, &dr, err), 0);
        assert_string_equal(dr.in.service, "myapp");
        assert_int_equal(dr.in.port, 8443);
        assert_int_equal(dr.in.protocols, (1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP));
        assert_string_equal(dr.as, "alice");
        json_decref(o);

        o = parse("{\"service\": \"x\", \"port\": 1, \"protocols\": \"tcp\", \"description\": \"d\", "
                  "\"assignee\": \"a\", \"contact\": \"c\", \"colour\": \"red\"}");
        assert_int_equal(decode_request(o, &dr, err), -EINVAL);
        assert_non_null(strstr(err, "colour"));
        json_decref(o);

        o = parse("{\"target\": \"8443/tcp\", \"quarantine\": \"1d\"}");
        assert_int_equal(decode_end(o, false, &de, err), 0);
        assert_int_equal(de.target.kind, RSAP_TARGET_PORT);
        assert_int_equal(de.quarantine_us, 24LL * 3600 * 1000000);
        assert_int_equal(decode_end(o, true, &de, err), -EINVAL); /* revoke needs why */
        json_decref(o);

        /* The CLI's rules: a quarantine may be 0s, a TTL may not. */
        o = parse("{\"target\": \"8443\", \"quarantine\": \"0s\"}");
        assert_int_equal(decode_end(o, false, &de, err), 0);
        assert_int_equal(de.quarantine_us, 0);
        json_decref(o);
        o = parse("{\"target\": \"8443\", \"quarantine\": \"0\"}");
        assert_int_equal(decode_end(o, false, &de, err), -EINVAL);
        assert_non_null(strstr(err, "0s for none"));
        json_decref(o);
        o = parse("{\"ttl\": \"0s\"}");
        assert_int_equal(decode_lease(o, &dl, err), -EINVAL);
        assert_non_null(strstr(err, "not a TTL"));
        json_decref(o);

        assert_int_equal(decode_lease(NULL, &dl, err), 0);
        o = parse("{\"range\": \"20000-20010\", \"ttl\": \"10m\", \"pid\": 42}");
        assert_int_equal(decode_lease(o, &dl, err), 0);
        assert_int_equal(dl.options.low, 20000);
        assert_int_equal(dl.options.high, 20010);
        assert_int_equal(dl.options.pid, 42);
        json_decref(o);
}

static void pages_escape_every_string(void **state)
{
        struct rsap_buf b = { 0 };

        html_printf(&b, "<p title=\"%s\">%s %S %u %zu %%</p>", "\"x\" & 'y'", "<script>",
                    "<b>trusted</b>", 7u, (size_t)8);
        assert_string_equal(b.data, "<p title=\"&quot;x&quot; &amp; &#39;y&#39;\">&lt;script&gt; "
                                    "<b>trusted</b> 7 8 %</p>");
        rsap_buf_free(&b);
        url_segment(&b, "914c/g x");
        assert_string_equal(b.data, "914c%2Fg%20x");
        rsap_buf_free(&b);
}

static void the_pool_remembers_holders(void **state)
{
        struct port_pool p = { 0 };
        uint16_t released[8];

        assert_int_equal(pool_add(&p, 15000, 100), 0);
        assert_int_equal(pool_add(&p, 15001, 100), 0);
        assert_int_equal(pool_add(&p, 15002, 200), 0);
        assert_int_equal(pool_add(&p, 15002, 300), -EEXIST);
        assert_int_equal(pool_count_pid(&p, 100), 2);
        assert_int_equal(pool_find(&p, 15002)->pid, 200);
        assert_int_equal(pool_release_pid(&p, 100, released, 8), 2);
        assert_null(pool_find(&p, 15000));
        assert_int_equal(pool_count_pid(&p, 100), 0);
        assert_int_equal(p.count, 1);
        pool_clear(&p);
}

/* The port server's per-uid limit counts leases by who asked, whatever the pid. */
static void the_pool_counts_by_uid(void **state)
{
        struct port_pool p = { 0 };

        (void)state;
        assert_int_equal(pool_add_for(&p, 15000, 100, 1000), 0);
        assert_int_equal(pool_add_for(&p, 15001, 200, 1000), 0);
        assert_int_equal(pool_add_for(&p, 15002, 200, 0), 0);
        assert_int_equal(pool_add_for(&p, 15002, 300, 1000), -EEXIST);
        assert_int_equal(pool_count_uid(&p, 1000), 2);
        assert_int_equal(pool_count_uid(&p, 0), 1);
        assert_int_equal(pool_release_pid(&p, 200, NULL, 0), 2);
        assert_int_equal(pool_count_uid(&p, 1000), 1);
        assert_int_equal(pool_count_uid(&p, 0), 0);
        pool_clear(&p);
}

static void tokens_compare_and_verdicts(void **state)
{
        struct auth a = { .token = (char *)"0123456789abcdef", .token_len = 16 };
        struct auth none = { 0 };

        assert_true(auth_token_equal(&a, "0123456789abcdef", 16));
        assert_false(auth_token_equal(&a, "0123456789abcdeF", 16));
        /* Same length and same last byte: every byte must count, not the last one. */
        assert_false(auth_token_equal(&a, "X123456789abcdef", 16));
        assert_false(auth_token_equal(&a, "01234567X9abcdef", 16));
        assert_false(auth_token_equal(&a, "0123456789abcdef0", 17));
        assert_false(auth_token_equal(&a, "", 0));
        assert_int_equal(auth_check(&a, false, true, NULL), AUTH_OK);
        assert_int_equal(auth_check(&a, false, false, NULL), AUTH_MISSING);
        assert_int_equal(auth_check(&a, true, true, NULL), AUTH_MISSING);
        assert_int_equal(auth_check(&a, true, true, "Bearer nope"), AUTH_INVALID);
        assert_int_equal(auth_check(&a, false, true, "Bearer nope"), AUTH_INVALID);
        assert_int_equal(auth_check(&a, true, false, "Bearer 0123456789abcdef"), AUTH_OK);
        assert_int_equal(auth_check(&none, true, true, "Bearer 0123456789abcdef"), AUTH_FORBIDDEN);
        assert_int_equal(auth_check(&none, false, false, NULL), AUTH_FORBIDDEN);
        assert_int_equal(auth_check(&none, false, true, NULL), AUTH_OK);
}

static void token_files_must_be_private(void **state)
{
        char dir[] = "/tmp/rsapd-auth-XXXXXX", path[64], why[256];
        struct auth a;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/token", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("  s3cret-token-0123456789 \n second line\n", f);
        fclose(f);
        chmod(path, 0644);
        assert_int_equal(auth_load(&a, path, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "0644"));
        chmod(path, 0600);
        assert_int_equal(auth_load(&a, path, why, sizeof(why)), 0);
        assert_string_equal(a.token, "s3cret-token-0123456789");
        auth_clear(&a);
        assert_int_equal(auth_load(&a, dir, why, sizeof(why)), -EINVAL);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(routes_match_with_params),
                cmocka_unit_test(wrong_method_says_what_is_allowed),
                cmocka_unit_test(odd_paths_match_nothing),
                cmocka_unit_test(segments_are_decoded_after_the_split),
                cmocka_unit_test(query_parameters_are_the_routes_own),
                cmocka_unit_test(unescaping_keeps_nul_out),
                cmocka_unit_test(headers_are_parsed_strictly),
                cmocka_unit_test(bodies_are_objects_and_nothing_else),
                cmocka_unit_test(request_bodies_decode_into_inputs),
                cmocka_unit_test(request_fields_keep_their_limits),
                cmocka_unit_test(pages_escape_every_string),
                cmocka_unit_test(the_pool_remembers_holders),
                cmocka_unit_test(the_pool_counts_by_uid),
                cmocka_unit_test(tokens_compare_and_verdicts),
                cmocka_unit_test(token_files_must_be_private),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

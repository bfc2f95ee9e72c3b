/* SPDX-License-Identifier: MIT */
/*
 * cli/lazy_libm.c: libm stays unloaded until SQL asks for a math function,
 * and then every one of SQLite's math functions answers as libm does.  This
 * program links the forwarders with SQLite the way rsap-sqlite.so does;
 * cli_test.sh checks that the module itself needs no libm.
 */
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

typedef double unary_fn(double);
typedef double binary_fn(double, double);

static bool libm_loaded(void)
{
        void *h = dlopen(LIBM_SO, RTLD_NOW | RTLD_NOLOAD);

        if (h)
                dlclose(h);
        return h != NULL;
}

static void *real_libm(const char *name)
{
        void *h = dlopen(LIBM_SO, RTLD_NOW | RTLD_LOCAL);
        void *fn;

        assert_non_null(h);
        fn = dlsym(h, name);
        assert_non_null(fn);
        return fn;
}

static double sql_number(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st = NULL;
        double v;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        return v;
}

/* Runs first: opening a database and running a statement needs no libm. */
static void sqlite_without_math_leaves_libm_unloaded(void **state)
{
        sqlite3 *db = NULL;

        (void)state;
#ifdef RSAP_SANITIZED
        if (libm_loaded())
                skip(); /* the sanitizers' runtime loaded it before main() */
#endif
        assert_false(libm_loaded());
        assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
        assert_true(sql_number(db, "SELECT 6 * 7") == 42);
        sqlite3_close(db);
        assert_false(libm_loaded());
}

/* Each SQL function, the libm function behind it, and an argument where a
 * forwarder bound to a neighbour's name would answer differently. */
static const struct {
        const char *sql, *libm;
        double x;
} unary[] = {
        { "SELECT acos(0.3)", "acos", 0.3 },   { "SELECT acosh(2.5)", "acosh", 2.5 },
        { "SELECT asin(0.3)", "asin", 0.3 },   { "SELECT asinh(2.5)", "asinh", 2.5 },
        { "SELECT atan(0.3)", "atan", 0.3 },   { "SELECT atanh(0.3)", "atanh", 0.3 },
        { "SELECT cos(0.3)", "cos", 0.3 },     { "SELECT cosh(0.3)", "cosh", 0.3 },
        { "SELECT exp(0.3)", "exp", 0.3 },     { "SELECT ln(2.5)", "log", 2.5 },
        { "SELECT sin(0.3)", "sin", 0.3 },     { "SELECT sinh(0.3)", "sinh", 0.3 },
        { "SELECT sqrt(2.5)", "sqrt", 2.5 },   { "SELECT tan(0.3)", "tan", 0.3 },
        { "SELECT tanh(0.3)", "tanh", 0.3 },   { "SELECT trunc(-2.5)", "trunc", -2.5 },
};

static const struct {
        const char *sql, *libm;
        double x, y;
} binary[] = {
        { "SELECT atan2(0.3, 0.7)", "atan2", 0.3, 0.7 },
        { "SELECT mod(7.5, 2.25)", "fmod", 7.5, 2.25 },
        { "SELECT pow(2.5, 0.3)", "pow", 2.5, 0.3 },
};

static void math_functions_answer_as_libm(void **state)
{
        sqlite3 *db = NULL;

        (void)state;
        assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
        for (size_t i = 0; i < sizeof(unary) / sizeof(unary[0]); i++) {
                unary_fn *fn = (unary_fn *)real_libm(unary[i].libm);

                print_message("%s\n", unary[i].sql);
                assert_true(sql_number(db, unary[i].sql) == fn(unary[i].x));
        }
        for (size_t i = 0; i < sizeof(binary) / sizeof(binary[0]); i++) {
                binary_fn *fn = (binary_fn *)real_libm(binary[i].libm);

                print_message("%s\n", binary[i].sql);
                assert_true(sql_number(db, binary[i].sql) == fn(binary[i].x, binary[i].y));
        }
        sqlite3_close(db);
        assert_true(libm_loaded());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sqlite_without_math_leaves_libm_unloaded),
                cmocka_unit_test(math_functions_answer_as_libm),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * libm, loaded on the first call to one of its functions.
 *
 * Loading libm.so.6 costs 0.075x of the whole run of `getent services
 * 1647/tcp` (bench-pairtime, 2000 rounds: an empty main() linked with and
 * without -lm), and nothing of rsap's calls libm.  The references come from
 * SQLite: its SQL math functions (acos(), pow(), ...) sit in the same object
 * as the core functions every statement needs, and no statement of rsap
 * calls them.  So rsap-sqlite.so, the SQLite that rsap loads for a local
 * registry (lazy_sqlite.c), defines those symbols itself, as forwarders:
 * the first call dlopen()s libm and looks the real function up, and every
 * call returns libm's own answer.  The linker resolves SQLite's references
 * here and --as-needed leaves libm out of the module's DT_NEEDED, which
 * tests/unit/test_lazy_libm.c checks with SQLite linked the same way.
 */
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <stdio.h>
#include <stdlib.h>

/* Declared here, not by <math.h>: these are the definitions. */
#define LIBM_FUNCTIONS(X1, X2) \
        X1(acos) X1(acosh) X1(asin) X1(asinh) X1(atan) X2(atan2) X1(atanh) \
        X1(cos) X1(cosh) X1(exp) X2(fmod) X1(log) X2(pow) X1(sin) X1(sinh) \
        X1(sqrt) X1(tan) X1(tanh) X1(trunc)

typedef double unary_fn(double);
typedef double binary_fn(double, double);

/* No way to go on without it: the SQL asked for a number only libm computes. */
static _Noreturn void libm_missing(const char *what)
{
        fprintf(stderr, "rsap: cannot load %s from %s: %s\n", what, LIBM_SO, dlerror());
        abort();
}

static void *libm_symbol(const char *name)
{
        static void *handle;
        void *h = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
        void *fn;

        if (!h) {
                /* dlopen() counts references: a racing second load is harmless. */
                h = dlopen(LIBM_SO, RTLD_NOW | RTLD_LOCAL);
                if (!h)
                        libm_missing("the library");
                __atomic_store_n(&handle, h, __ATOMIC_RELEASE);
        }
        fn = dlsym(h, name);
        if (!fn)
                libm_missing(name);
        return fn;
}

#define FORWARD(name, type, params, args) \
        double name params; \
        double name params \
        { \
                static type *real; \
                type *fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE); \
                if (!fn) { \
                        fn = (type *)libm_symbol(#name); \
                        __atomic_store_n(&real, fn, __ATOMIC_RELEASE); \
                } \
                return fn args; \
        }
#define FORWARD_UNARY(name) FORWARD(name, unary_fn, (double x), (x))
#define FORWARD_BINARY(name) FORWARD(name, binary_fn, (double x, double y), (x, y))

LIBM_FUNCTIONS(FORWARD_UNARY, FORWARD_BINARY)

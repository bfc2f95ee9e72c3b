/* SPDX-License-Identifier: MIT */
/* A shared object that rsap loads on the first call into it (lazy_sqlite.c). */
#ifndef RSAP_CLI_LAZY_LOAD_H
#define RSAP_CLI_LAZY_LOAD_H

#include <stdbool.h>

struct lazy_library {
        const char *file;       /* one of rsap's helpers (cli_libexec_path()), or: */
        bool system;            /* a library of the system's, by its soname */
        const char *needed_for; /* what a user cannot have without it, for the message */
        void *handle;           /* set once loaded */
        void (*loaded)(void *handle); /* NULL, or set-up before the first call into it */
};

/* The library's function NAME, loading the library on first use; without
 * either, says so on standard error and exits with status 2. */
void *lazy_symbol(struct lazy_library *lib, const char *name);

/*
 * Defines the function NAME, which the library's own header declares with
 * return type RET and parameters PARAMS, as a forwarder to the library's
 * NAME called with ARGS.  The header's prototype makes the compiler check
 * the definition against the declaration.
 */
#define LAZY_FORWARD(lib, ret, name, params, args) \
        ret name params \
        { \
                static __typeof__(name) *lazy_real; \
                __typeof__(name) *lazy_fn = __atomic_load_n(&lazy_real, __ATOMIC_ACQUIRE); \
                if (!lazy_fn) { \
                        lazy_fn = (__typeof__(name) *)lazy_symbol(lib, #name); \
                        __atomic_store_n(&lazy_real, lazy_fn, __ATOMIC_RELEASE); \
                } \
                return lazy_fn args; \
        }

/* The same for a function that returns nothing: C allows no `return f(...)` there. */
#define LAZY_FORWARD_VOID(lib, name, params, args) \
        void name params \
        { \
                static __typeof__(name) *lazy_real; \
                __typeof__(name) *lazy_fn = __atomic_load_n(&lazy_real, __ATOMIC_ACQUIRE); \
                if (!lazy_fn) { \
                        lazy_fn = (__typeof__(name) *)lazy_symbol(lib, #name); \
                        __atomic_store_n(&lazy_real, lazy_fn, __ATOMIC_RELEASE); \
                } \
                lazy_fn args; \
        }

#endif

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The base layer: what the library, rsap and rsapd all use and none of it
 * knows a port, a registry or a socket.  Defined once here.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Runs f(&variable) when the variable goes out of scope, on every path. */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* How every front end serialises JSON (jansson's flags), so the bytes agree. */
#define RSAP_JSON_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)
/* The value of a _cleanup_ pointer, which is NULL after: ownership passes on. */
#define TAKE_PTR(p)                                                                        \
        ({                                                                                 \
                __typeof__(p) taken_ = (p);                                                \
                (p) = NULL;                                                                \
                taken_;                                                                    \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

/*
 * Makes *array (a pointer to an array of *capacity items of item_size bytes)
 * hold at least needed items, doubling from 16 so that n appends cost O(n).
 * 0, or -ENOMEM with the array unchanged, also when the size would overflow.
 * The project builds with -fno-strict-aliasing, so any element pointer may
 * go through the void ** that array is.
 */
int rsap_grow(void *array, size_t *capacity, size_t needed, size_t item_size);

/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"
#include "lazy_load.h"

/* Exit status 2, as for any environment rsap cannot work in (rsap(1)). */
static _Noreturn void cannot_load(const struct lazy_library *lib, const char *why)
{
        fprintf(stderr, "rsap: %s needs %s, which cannot be loaded: %s\n", lib->needed_for,
                lib->file, why);
        exit(2);
}

static void *load(struct lazy_library *lib)
{
        char path[PATH_MAX];
        void *h;

        if (lib->system)
                snprintf(path, sizeof(path), "%s", lib->file);
        else if (cli_libexec_path(lib->file, R_OK, path, sizeof(path)) < 0)
                cannot_load(lib, "not in " RSAP_LIBEXECDIR ": is rsap installed whole?");
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                cannot_load(lib, dlerror());
        if (lib->loaded)
                lib->loaded(h);
        return h;
}

void *lazy_symbol(struct lazy_library *lib, const char *name)
{
        void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
        void *fn;

        if (!h) {
                /* dlopen() counts references: a racing second load is harmless. */
                h = load(lib);
                __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
        }
        fn = dlsym(h, name);
        if (!fn)
                cannot_load(lib, dlerror());
        return fn;
}

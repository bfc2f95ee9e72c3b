/* SPDX-License-Identifier: MIT */
/*
 * The cached copy of IANA's registry that `rsap update` writes into the data
 * directory, and the choice between it and the built-in copy.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <rsap/iana.h>
#include <rsap/paths.h>

int rsap_cache_path(const char *data_dir, char *buf, size_t size)
{
        return rsap_path_join(buf, size, data_dir, RSAP_CACHE_FILE);
}

static bool named_dir(const char *override)
{
        const char *env = getenv("RSAP_DB_DIR");

        return (override && *override) || (env && *env);
}

int rsap_cache_in_use(const char *data_dir_override, char *buf, size_t size)
{
        char dir[4096];
        int r;

        r = rsap_data_dir(data_dir_override, dir, sizeof(dir));
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0) {
                r = rsap_cache_path(dir, buf, size);
                if (r < 0)
                        return r;
                bool present = access(buf, F_OK) == 0;

                if (present || named_dir(data_dir_override))
                        return present ? 0 : -ENOENT;
        }
        r = rsap_cache_path(RSAP_SYSTEM_DATA_DIR, buf, size);
        if (r < 0)
                return r;
        return access(buf, F_OK) == 0 ? 0 : -ENOENT;
}

int rsap_iana_open_default(const char *data_dir_override, struct rsap_iana **out)
{
        char path[4096 + sizeof(RSAP_CACHE_FILE) + 1];
        int r;

        r = rsap_cache_in_use(data_dir_override, path, sizeof(path));
        if (r == -ENOENT)
                return rsap_iana_open_builtin(out);
        if (r < 0)
                return r;
        r = rsap_iana_open_file(path, out);
        /* A cache in another version's format is refreshed by the next
         * `rsap update`; until then the built-in copy answers, and `rsap
         * status` (or rsapd's log) says why. */
        if (r == -ENOENT || r == -EPROTONOSUPPORT)
                return rsap_iana_open_builtin(out);
        return r;
}

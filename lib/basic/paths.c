/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/paths.h>

/* "a" or "a/b" into buf. */
static int join_path(char *buf, size_t size, const char *a, const char *b)
{
        int n = b ? snprintf(buf, size, "%s/%s", a, b) : snprintf(buf, size, "%s", a);

        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        return 0;
}

static const char *home_dir(void)
{
        const char *home = getenv("HOME");
        struct passwd *pw;

        if (home && *home)
                return home;
        pw = getpwuid(getuid());
        return pw ? pw->pw_dir : NULL;
}

int rsap_data_dir(const char *override, char *buf, size_t size)
{
        const char *env;
        const char *home;

        if (override && *override)
                return join_path(buf, size, override, NULL);
        env = getenv("RSAP_DB_DIR");
        if (env && *env)
                return join_path(buf, size, env, NULL);
        env = getenv("XDG_DATA_HOME");
        if (env && *env == '/')
                return join_path(buf, size, env, "rsap");
        if (geteuid() == 0)
                return join_path(buf, size, RSAP_SYSTEM_DATA_DIR, NULL);
        home = home_dir();
        if (!home)
                return -ENOENT;
        return join_path(buf, size, home, ".local/share/rsap");
}

int rsap_cache_path(const char *data_dir, char *buf, size_t size)
{
        return join_path(buf, size, data_dir, RSAP_CACHE_FILE);
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

int rsap_mkdir_parents(const char *dir)
{
        char path[4096];
        size_t len = strlen(dir);

        if (len >= sizeof(path))
                return -ENAMETOOLONG;
        memcpy(path, dir, len + 1);
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/paths.h>

int rsap_path_join(char *buf, size_t size, const char *a, const char *b)
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
                return rsap_path_join(buf, size, override, NULL);
        env = getenv("RSAP_DB_DIR");
        if (env && *env)
                return rsap_path_join(buf, size, env, NULL);
        env = getenv("XDG_DATA_HOME");
        if (env && *env == '/')
                return rsap_path_join(buf, size, env, "rsap");
        if (geteuid() == 0)
                return rsap_path_join(buf, size, RSAP_SYSTEM_DATA_DIR, NULL);
        home = home_dir();
        if (!home)
                return -ENOENT;
        return rsap_path_join(buf, size, home, ".local/share/rsap");
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

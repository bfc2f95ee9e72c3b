/* SPDX-License-Identifier: MIT */
/*
 * The container a process runs in, as its cgroup path tells it.  Container
 * runtimes put each container in a cgroup named after its id: systemd's
 * driver as a scope ("docker-ID.scope", "libpod-ID.scope",
 * "cri-containerd-ID.scope"), the cgroupfs driver as a directory
 * ("/docker/ID").  Only the id is taken: the name is the runtime's to tell.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

#define DOCKER_ID_LENGTH 64

/* One runtime's scope: "PREFIX" + id + ".scope", the id's length in bounds. */
struct scope_form {
        const char *prefix;
        size_t min_id, max_id;
};

static const struct scope_form scope_forms[] = {
        { "docker-", DOCKER_ID_LENGTH, DOCKER_ID_LENGTH },
        { "libpod-", DOCKER_ID_LENGTH, DOCKER_ID_LENGTH },
        { "cri-containerd-", 12, DOCKER_ID_LENGTH },
};

static size_t hex_run(const char *s, size_t len)
{
        size_t n = 0;

        while (n < len && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                n++;
        return n;
}

/* The id in one path component "docker-ID.scope" and the like: its length, or 0. */
static size_t scope_id(const char *part, size_t len, const char **id)
{
        static const char suffix[] = ".scope";

        for (size_t i = 0; i < ARRAY_SIZE(scope_forms); i++) {
                const struct scope_form *form = &scope_forms[i];
                size_t plen = strlen(form->prefix), n;

                if (len <= plen || strncmp(part, form->prefix, plen) != 0)
                        continue;
                n = hex_run(part + plen, len - plen);
                if (n < form->min_id || n > form->max_id || len - plen - n != strlen(suffix) ||
                    strncmp(part + plen + n, suffix, strlen(suffix)) != 0)
                        continue;
                *id = part + plen;
                return n;
        }
        return 0;
}

/* The id a cgroup path names, "/system.slice/docker-ID.scope" or
 * "/docker/ID" (a component of 64 hex digits after one named docker): its
 * length, or 0. */
static size_t path_id(const char *path, size_t len, const char **id)
{
        bool after_docker = false;

        for (size_t off = 0; off < len;) {
                const char *part = path + off;
                size_t plen = strcspn(part, "/\n"), n;

                if (plen > len - off)
                        plen = len - off;
                if (after_docker && plen == DOCKER_ID_LENGTH && hex_run(part, plen) == plen) {
                        *id = part;
                        return plen;
                }
                n = scope_id(part, plen, id);
                if (n)
                        return n;
                after_docker = plen == strlen("docker") && strncmp(part, "docker", plen) == 0;
                off += plen + 1;
        }
        return 0;
}

int rsap_listen_container_id(const char *cgroup, char *out, size_t size)
{
        /* "HIERARCHY:CONTROLLERS:PATH" per line; cgroup v2 has the one "0::PATH". */
        for (const char *line = cgroup; *line;) {
                size_t len = strcspn(line, "\n");
                const char *first = memchr(line, ':', len), *second = NULL, *id = NULL;
                size_t n = 0;

                if (first)
                        second = memchr(first + 1, ':', len - (size_t)(first + 1 - line));
                if (second)
                        n = path_id(second + 1, len - (size_t)(second + 1 - line), &id);
                if (n) {
                        if (n >= size)
                                return -ENOSPC;
                        memcpy(out, id, n);
                        out[n] = '\0';
                        return 1;
                }
                line += len + (line[len] == '\n');
        }
        return 0;
}

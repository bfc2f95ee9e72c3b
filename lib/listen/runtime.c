/* SPDX-License-Identifier: MIT */
/*
 * Container names from the runtimes that started them.  The cgroup path
 * gives a container's id (container.c); only Docker's or Podman's API knows
 * the name a user gave it.  Both answer `GET /containers/json` on a Unix
 * socket with an array of {"Id", "Names": ["/web"]}.  Every socket that
 * exists is asked at once, through libcurl's multi interface, under one
 * deadline for all: a runtime that accepts and never answers costs that
 * deadline and no more, and its containers keep their ids.  Nothing here is
 * needed for the listing itself: every failure leaves ids without names.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <rsap/basic.h>
#include <rsap/buf.h>
#include <rsap/time.h>

#include "listen_internal.h"

/* A runtime's answer past this is not a list of this host's containers. */
#define MAX_ANSWER_BYTES (8u << 20)
#define MAX_RUNTIMES 16
#define MAX_SOCKET_PATH 108 /* sun_path */

struct runtime {
        char path[MAX_SOCKET_PATH];
        uid_t owner; /* the socket file's: root's runtime names any process */
        CURL *easy;
        struct rsap_buf body;
        bool answered; /* a 200 with a body, not yet judged */
};

struct runtimes {
        struct runtime r[MAX_RUNTIMES];
        size_t n;
};

static bool is_socket(const char *path, uid_t *owner)
{
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return false;
        *owner = st.st_uid;
        return true;
}

static void add_runtime(struct runtimes *rt, const char *path, size_t len)
{
        if (rt->n == MAX_RUNTIMES || len == 0 || len >= MAX_SOCKET_PATH)
                return;
        memcpy(rt->r[rt->n].path, path, len);
        rt->r[rt->n].path[len] = '\0';
        for (size_t i = 0; i < rt->n; i++)
                if (strcmp(rt->r[i].path, rt->r[rt->n].path) == 0)
                        return; /* asked once */
        if (is_socket(rt->r[rt->n].path, &rt->r[rt->n].owner))
                rt->n++;
}

static void __attribute__((format(printf, 2, 3))) add_runtime_at(struct runtimes *rt,
                                                                   const char *fmt, ...)
{
        char path[MAX_SOCKET_PATH];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        if (n > 0 && (size_t)n < sizeof(path))
                add_runtime(rt, path, (size_t)n);
}

/* The uids of owners that run in a container: a rootless runtime runs as
 * its user, with its socket under /run/user/UID. */
static void add_rootless_runtimes(struct runtimes *rt, const struct rsap_listen_list *list)
{
        for (size_t i = 0; i < list->count; i++) {
                const struct rsap_listen_socket *s = &list->sockets[i];

                for (size_t j = 0; j < s->n_owners; j++)
                        if (s->owners[j].container && s->owners[j].uid != 0)
                                add_runtime_at(rt, "/run/user/%u/podman/podman.sock",
                                               (unsigned)s->owners[j].uid);
        }
}

/* sockets, colon-separated, or the places Docker and Podman use. */
static void find_runtimes(struct runtimes *rt, const struct rsap_listen_list *list,
                          const char *sockets)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (sockets) {
                for (const char *p = sockets; *p;) {
                        size_t len = strcspn(p, ":");

                        add_runtime(rt, p, len);
                        p += len + (p[len] == ':');
                }
                return;
        }
        add_runtime_at(rt, "/run/docker.sock");
        add_runtime_at(rt, "/run/podman/podman.sock");
        if (xdg && *xdg == '/') {
                add_runtime_at(rt, "%s/podman/podman.sock", xdg);
                add_runtime_at(rt, "%s/docker.sock", xdg);
        }
        add_runtime_at(rt, "/run/user/%u/podman/podman.sock", (unsigned)geteuid());
        add_rootless_runtimes(rt, list);
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
        struct rsap_buf *body = userdata;
        size_t len = size * n;

        if (body->len + len > MAX_ANSWER_BYTES || rsap_buf_append(body, data, len) < 0)
                return 0; /* libcurl ends the transfer */
        return len;
}

static CURL *runtime_request(struct runtime *r, long deadline_ms)
{
        CURL *c = curl_easy_init();

        if (!c)
                return NULL;
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, r->path);
        curl_easy_setopt(c, CURLOPT_URL, "http://localhost/containers/json?all=1");
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, deadline_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "rsap");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(c, CURLOPT_PRIVATE, r);
        return c;
}

/* Marks the runtimes whose transfer ended well. */
static void collect_answers(CURLM *multi)
{
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(multi, &left))) {
                struct runtime *r = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                if (r && msg->data.result == CURLE_OK && !rsap_buf_failed(&r->body))
                        r->answered = true;
        }
}

/* Every runtime asked at once; returns when all answered or at the deadline. */
static int ask_runtimes(struct runtimes *rt, unsigned deadline_ms)
{
        CURLM *multi = curl_multi_init();
        int64_t due = rsap_monotonic_ms() + deadline_ms;
        int running = 0, r = 0;

        if (!multi)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < rt->n; i++) {
                rt->r[i].easy = runtime_request(&rt->r[i], (long)deadline_ms);
                if (!rt->r[i].easy || curl_multi_add_handle(multi, rt->r[i].easy) != CURLM_OK)
                        r = -ENOMEM;
        }
        while (r == 0 && curl_multi_perform(multi, &running) == CURLM_OK && running > 0) {
                int64_t left = due - rsap_monotonic_ms();

                if (left <= 0 || curl_multi_poll(multi, NULL, 0, (int)left, NULL) != CURLM_OK)
                        break;
        }
        collect_answers(multi);
        for (size_t i = 0; i < rt->n; i++) {
                if (!rt->r[i].easy)
                        continue;
                curl_multi_remove_handle(multi, rt->r[i].easy);
                curl_easy_cleanup(rt->r[i].easy);
                rt->r[i].easy = NULL;
        }
        curl_multi_cleanup(multi);
        return r;
}

/* "/web" as Docker writes a name, "web" as it reads. */
static const char *first_name(json_t *container)
{
        const char *name = json_string_value(json_array_get(json_object_get(container, "Names"), 0));

        if (name && *name == '/')
                name++;
        return name && *name && strlen(name) <= RSAP_LISTEN_JSON_MAX_STRING ? name : NULL;
}

/* An owner's id is the runtime's full id, or (containerd) a prefix of it. */
static bool same_container(const char *owner_id, const char *runtime_id)
{
        size_t len = strlen(owner_id);

        return runtime_id && len >= 12 && strncmp(owner_id, runtime_id, len) == 0;
}

/*
 * Names the owners that run in one of the answer's containers.  A user's
 * runtime (a rootless Podman's socket under /run/user/UID) speaks for that
 * user's processes only: any user may put a socket there that answers what
 * it likes, and must not name root's containers or another user's.
 */
static int name_from_answer(struct rsap_listen_list *list, json_t *answer, uid_t runtime_owner)
{
        size_t k;
        json_t *c;

        json_array_foreach(answer, k, c) {
                const char *id = json_string_value(json_object_get(c, "Id"));
                const char *name = first_name(c), *kept = NULL;

                for (size_t i = 0; name && i < list->count; i++) {
                        struct rsap_listen_socket *s = &list->sockets[i];

                        for (size_t j = 0; j < s->n_owners; j++) {
                                struct rsap_listen_owner *o = &s->owners[j];

                                if (!o->container || o->container_name ||
                                    !same_container(o->container, id) ||
                                    (runtime_owner != 0 && o->uid != runtime_owner))
                                        continue;
                                if (!kept && rsap_listen_keep_string(list, name, &kept) < 0)
                                        return -ENOMEM;
                                o->container_name = kept;
                        }
                }
        }
        return 0;
}

static bool any_container(const struct rsap_listen_list *list)
{
        for (size_t i = 0; i < list->count; i++)
                for (size_t j = 0; j < list->sockets[i].n_owners; j++)
                        if (list->sockets[i].owners[j].container)
                                return true;
        return false;
}

/* A runtime that did not answer, or answered what is no list, is silent. */
static int name_from_runtimes(struct rsap_listen_list *list, struct runtimes *rt)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < rt->n; i++) {
                json_t *answer = NULL;

                if (rt->r[i].answered)
                        answer = json_loadb(rt->r[i].body.data, rt->r[i].body.len, 0, NULL);
                if (json_is_array(answer))
                        r = name_from_answer(list, answer, rt->r[i].owner);
                else
                        list->silent_runtimes++;
                json_decref(answer);
        }
        return r;
}

int rsap_listen_name_containers(struct rsap_listen_list *list, const char *sockets,
                                unsigned deadline_ms)
{
        _cleanup_(freep) struct runtimes *rt = NULL;
        int r;

        if (!any_container(list))
                return 0;
        rt = calloc(1, sizeof(*rt));
        if (!rt)
                return -ENOMEM;
        find_runtimes(rt, list, sockets);
        if (rt->n == 0)
                return 0;
        r = ask_runtimes(rt, deadline_ms ? deadline_ms : RSAP_LISTEN_RUNTIME_DEADLINE_MS);
        if (r == 0)
                r = name_from_runtimes(list, rt);
        for (size_t i = 0; i < rt->n; i++)
                rsap_buf_free(&rt->r[i].body);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * The JSON API.  Each route asks librsap the CLI's question with the CLI's
 * library calls and answers with the library's *_to_json() value, so a body
 * is byte for byte what `rsap ... --json` prints.  Where the CLI exits 1 for
 * "no match", the API says 404 only for a named thing that does not exist (a
 * service name); an empty search or listing is an answer, 200.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/answer.h>
#include <rsap/error.h>
#include <rsap/explain.h>
#include <rsap/json.h>
#include <rsap/listen.h>
#include <rsap/time.h>
#include <rsap/workflow.h>

#include "rsapd.h"

#define SEARCH_DEFAULT_LIMIT 20
#define SEARCH_MAX_LIMIT 100000
/* /v1/list answers at most this many ports at once: the full space as JSON
 * is 30 MB, which one request should not make the server build. */
#define LIST_MAX_PORTS 4096

#define ALL_TRANSPORTS ((1u << RSAP_PROTO_TCP) | (1u << RSAP_PROTO_UDP) | \
                        (1u << RSAP_PROTO_SCTP) | (1u << RSAP_PROTO_DCCP))

/* "A-B" (rsap PORT says "is a range: use 'rsap list A-B'"). */
static bool is_range(const char *text)
{
        struct rsap_port_spec spec;

        return strchr(text, '-') && rsap_port_spec_parse(text, &spec) == 0;
}

int api_parse_port(const char *text, uint16_t *port, struct reply *out)
{
        int r = rsap_port_parse(text, port);

        if (r == -ERANGE)
                reply_error(out, 400, "'%s': a port is a number from 0 to 65535", text);
        else if (r < 0 && is_range(text))
                reply_error(out, 400, "'%s' is a range: use /v1/list?range=%s", text, text);
        else if (r < 0)
                reply_error(out, 400, "'%s' is not a port (0-65535)", text);
        return r;
}

/* What rsap PORT[/PROTO] says of a bad one, in the words of rsap/error.h. */
static void reply_port_error(struct reply *out, const char *number, const char *proto_text,
                             int err)
{
        char text[2 * ROUTE_PARAM_SIZE + 2], message[2 * ROUTE_PARAM_SIZE + 128];

        snprintf(text, sizeof(text), "%s%s%s", number, proto_text ? "/" : "",
                 proto_text ? proto_text : "");
        rsap_port_error_message(text, err, message, sizeof(message));
        reply_error(out, 400, "%s", message);
}

/* The snapshot's sockets with owners when it has them: the composer drops
 * them for a request that may not see them (src.owners). */
static const struct rsap_listen_list *snapshot_sockets(const struct request *req)
{
        const struct listener_snapshot *snap = req->listeners;

        if (!snap)
                return NULL;
        return snap->owned ? snap->owned : snap->plain;
}

struct rsap_answer_sources answer_sources(struct rsapd *d, const struct request *req)
{
        return (struct rsap_answer_sources){
                .iana = req->reg,
                .store = d->store,
                .store_lock = &d->store_lock,
                .listeners = true,
                .owners = owners_visible(d, req),
                .sockets = snapshot_sockets(req),
        };
}

/*
 * When local's entries change by themselves: the first lease expiry or
 * quarantine end still to come (the store leaves out what has ended by
 * now), 0 for none.  Until then a cached answer stays right.
 */
static int64_t local_changes_at(const struct rsap_local_list *local)
{
        int64_t now = rsap_realtime_us(), first = 0;

        for (size_t i = 0; local && i < local->n_entries; i++) {
                int64_t until = local->entries[i].until_us;

                if (until > now && (!first || until < first))
                        first = until;
        }
        return first;
}

/* The empty list the store would have given (rsapd_local_port_empty()). */
static int empty_local(struct rsap_port_answer *a, enum rsap_answer_part *failed)
{
        a->local = calloc(1, sizeof(*a->local));
        if (a->local)
                return 0;
        rsap_port_answer_clear(a);
        *failed = RSAP_ANSWER_LOCAL;
        return -ENOMEM;
}

void api_port(struct rsapd *d, const struct request *req, struct reply *out)
{
        enum rsap_proto proto = RSAP_PROTO_NONE;
        struct rsap_listen_list on_port;
        struct rsap_answer_sources src;
        struct rsap_port_answer a;
        enum rsap_answer_part failed;
        char text[ROUTE_PARAM_SIZE], *slash;
        const char *proto_text = req->route->n_params > 1 ? req->route->params[1] : NULL;
        uint16_t port;
        int r;

        /* "1647%2Ftcp" is one segment, "1647/tcp", as rsap 1647/tcp takes it. */
        snprintf(text, sizeof(text), "%s", req->route->params[0]);
        slash = proto_text ? NULL : strchr(text, '/');
        if (slash) {
                *slash = '\0';
                proto_text = slash + 1;
        }
        if (proto_text && rsap_proto_parse(proto_text, &proto) < 0) {
                reply_port_error(out, text, proto_text, -EINVAL);
                return;
        }
        /* A range is listed, as rsap A-B[/PROTO] lists it. */
        if (is_range(text)) {
                char location[sizeof(out->location)];

                snprintf(location, sizeof(location), "/v1/list?range=%s%s%s", text,
                         proto_text ? "&proto=" : "", proto_text ? rsap_proto_name(proto) : "");
                reply_redirect(out, location);
                return;
        }
        r = rsap_port_parse(text, &port);
        if (r < 0) {
                reply_port_error(out, text, proto_text, r);
                return;
        }
        /* The answer rsap PORT --json prints, composed the same way. */
        src = answer_sources(d, req);
        src.sockets = listeners_on_port(req->listeners, port, &on_port);
        if (rsapd_local_port_empty(d, port))
                src.store = NULL; /* no query: its answer would be an empty list */
        r = rsap_answer_port(&src, port, proto, &a, &failed);
        if (r == 0 && d->store && !a.local)
                r = empty_local(&a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL) {
                reply_store_error(out, r, "cannot read the local registry");
                return;
        }
        if (r < 0) {
                reply_error(out, 500, "cannot explain port %u: %s", port, strerror(-r));
                return;
        }
        reply_json(out, 200, rsap_port_answer_to_json(req->reg, &a));
        out->changes_at_us = local_changes_at(a.local);
        rsap_port_answer_clear(&a);
}

void api_service(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *name = req->route->params[0];
        struct rsap_answer_sources src;
        struct rsap_name_answer a;
        enum rsap_answer_part failed;
        bool found;
        int r;

        src = answer_sources(d, req);
        r = rsap_answer_name(&src, name, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL) {
                reply_store_error(out, r, "cannot read the local registry");
                return;
        }
        if (r == -EINVAL) {
                reply_error(out, 400, "'%.40s...' is too long for a service name", name);
                return;
        }
        if (r < 0) {
                reply_error(out, 500, "cannot look up '%s': %s", name, strerror(-r));
                return;
        }
        /* No record: the answer still says whether the name is well-formed. */
        found = a.n_ids > 0 || (a.local && a.local->n_entries > 0);
        if (!found && a.problem != RSAP_NAME_OK) {
                /* As rsap NAME: a malformed name no record has is a bad request. */
                char message[512];

                rsap_bad_name_message(name, a.problem, message, sizeof(message));
                rsap_name_answer_clear(&a);
                reply_error(out, 400, "%s", message);
                return;
        }
        reply_json(out, found ? 200 : 404, rsap_name_answer_to_json(req->reg, &a));
        out->changes_at_us = local_changes_at(a.local);
        rsap_name_answer_clear(&a);
}

static bool blank(const char *text)
{
        return strspn(text, " \t\r\n") == strlen(text);
}

static int parse_limit(const char *text, size_t *out)
{
        char *end;
        long value;

        if (!text)
                return 0;
        value = strtol(text, &end, 10);
        if (*text < '0' || *text > '9' || *end || value < 1 || value > SEARCH_MAX_LIMIT)
                return -EINVAL;
        *out = (size_t)value;
        return 0;
}

void api_search(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *q = req->query(req, "q");
        size_t limit = SEARCH_DEFAULT_LIMIT;
        struct rsap_answer_sources src = answer_sources(d, req);
        struct rsap_search_answer a;
        enum rsap_answer_part failed;
        int r;

        if (!q || blank(q)) {
                reply_error(out, 400, "search for what? (?q=TEXT)");
                return;
        }
        if (parse_limit(req->query(req, "limit"), &limit) < 0) {
                reply_error(out, 400, "limit takes a number from 1 to %d", SEARCH_MAX_LIMIT);
                return;
        }
        r = rsap_answer_search(&src, q, limit, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL) {
                reply_store_error(out, r, "cannot search the local registry");
                return;
        }
        if (r < 0) {
                reply_error(out, 500, "out of memory");
                return;
        }
        reply_json(out, 200, rsap_search_answer_to_json(req->reg, &a));
        rsap_search_answer_clear(&a);
}

/* "assigned,reserved" -> RSAP_LIST_* bits. */
static int parse_status_list(const char *text, unsigned *mask)
{
        char copy[128], *save = NULL;

        if (strlen(text) >= sizeof(copy))
                return -EINVAL;
        strcpy(copy, text);
        *mask = 0;
        for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
                if (strcmp(word, "assigned") == 0)
                        *mask |= RSAP_LIST_ASSIGNED;
                else if (strcmp(word, "reserved") == 0)
                        *mask |= RSAP_LIST_RESERVED;
                else if (strcmp(word, "unassigned") == 0)
                        *mask |= RSAP_LIST_UNASSIGNED;
                else
                        return -EINVAL;
        }
        return *mask ? 0 : -EINVAL;
}

void api_list(struct rsapd *d, const struct request *req, struct reply *out)
{
        const char *range = req->query(req, "range");
        const char *status = req->query(req, "status");
        const char *protos = req->query(req, "proto");
        unsigned proto_mask = ALL_TRANSPORTS, status_mask = 0;
        struct rsap_answer_sources src = answer_sources(d, req);
        struct rsap_range_answer a;
        enum rsap_answer_part failed;
        struct rsap_port_spec spec;
        int r;

        if (!range) {
                reply_error(out, 400, "which ports? (?range=A-B)");
                return;
        }
        if (rsap_port_spec_parse(range, &spec) < 0) {
                reply_error(out, 400, "'%s' is not a port range (A-B with 0 <= A <= B <= 65535)",
                            range);
                return;
        }
        if ((unsigned)spec.high - spec.low + 1 > LIST_MAX_PORTS) {
                reply_error(out, 400, "'%s' spans more than %d ports: ask for it in parts", range,
                            LIST_MAX_PORTS);
                return;
        }
        if (protos && rsap_proto_parse_list(protos, &proto_mask) < 0) {
                reply_error(out, 400, "unknown protocol in '%s' (tcp, udp, sctp, dccp)", protos);
                return;
        }
        if (spec.proto != RSAP_PROTO_NONE)
                proto_mask = 1u << spec.proto;
        if (status && parse_status_list(status, &status_mask) < 0) {
                reply_error(out, 400, "unknown status in '%s' (assigned, reserved, unassigned)",
                            status);
                return;
        }
        r = rsap_answer_range(&src, spec.low, spec.high, proto_mask, status_mask, &a, &failed);
        if (r < 0) {
                reply_store_error(out, r, "cannot read the local registry");
                return;
        }
        reply_json(out, 200, rsap_range_answer_to_json(req->reg, &a));
        rsap_range_answer_clear(&a);
}

void api_ranges(struct rsapd *d, const struct request *req, struct reply *out)
{
        (void)d;
        reply_json(out, 200, rsap_ranges_to_json(req->reg));
}

void api_status(struct rsapd *d, const struct request *req, struct reply *out)
{
        reply_json(out, 200, rsap_status_to_json(req->reg, d->data_dir, d->cache_path, atomic_load(&d->cached)));
}

int api_query_flag(const struct request *req, const char *key, bool *out, struct reply *reply)
{
        static const char *const words[] = { "", "1", "true", "yes", "0", "false", "no" };
        const char *value = req->query(req, key);

        if (!value)
                return 0;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
                if (strcmp(value, words[i]) == 0) {
                        *out = i < 4; /* "?all" alone says yes */
                        return 0;
                }
        }
        reply_error(reply, 400, "%s takes 1, true or yes, or 0, false or no, not '%.40s'", key,
                    value);
        return -EINVAL;
}

/* ?all_namespaces and ?container: other namespaces are entered with
 * setns(), which only root may (CAP_SYS_ADMIN), so others get 403 rather
 * than their own namespace's sockets under a name that says all. */
static int namespaces_filter(const struct request *req, struct rsap_listen_filter *f,
                             struct reply *out)
{
        bool all = false;

        if (api_query_flag(req, "all_namespaces", &all, out) < 0)
                return -EINVAL;
        f->container = req->query(req, "container");
        if (f->container && !*f->container) {
                reply_error(out, 400, "container needs a name or an id");
                return -EINVAL;
        }
        if ((all || f->container) && geteuid() != 0) {
                reply_error(out, 403, "%s needs rsapd to run as root: it enters each network "
                                      "namespace", all ? "all_namespaces" : "container");
                return -EPERM;
        }
        if (all || f->container)
                f->netns = RSAP_LISTEN_NETNS_ALL;
        f->runtime_sockets = getenv("RSAP_CONTAINER_SOCKETS");
        return 0;
}

static int listening_filter(const struct request *req, struct rsap_listen_filter *f,
                            bool *unregistered, struct reply *out)
{
        const char *port = req->query(req, "port");
        const char *protos = req->query(req, "proto");

        rsap_listen_filter_init(f);
        if (port) {
                struct rsap_port_spec spec;

                if (rsap_port_spec_parse(port, &spec) < 0) {
                        reply_error(out, 400, "port '%s' is not a port or a range A-B", port);
                        return -EINVAL;
                }
                f->port_low = spec.low;
                f->port_high = spec.high;
                if (spec.proto != RSAP_PROTO_NONE)
                        f->protocols |= 1u << spec.proto;
        }
        if (protos && rsap_proto_parse_list(protos, &f->protocols) < 0) {
                reply_error(out, 400, "unknown protocol in '%s' (tcp, udp, sctp, dccp)", protos);
                return -EINVAL;
        }
        *unregistered = false;
        if (api_query_flag(req, "processes", &f->find_owners, out) < 0 ||
            api_query_flag(req, "unregistered", unregistered, out) < 0)
                return -EINVAL;
        return namespaces_filter(req, f, out);
}

/* The list as `rsap listening --json` writes it: socket by socket, a newline after. */
static void reply_listeners(struct reply *out, const struct rsap_listening_answer *a,
                            const struct rsap_iana *reg)
{
        char *body = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&body, &len);
        int r;

        if (!f) {
                reply_error(out, 500, "out of memory");
                return;
        }
        r = rsap_listening_answer_write_json(a, reg, f);
        if (r == 0 && fputc('\n', f) == EOF)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -EIO;
        if (r < 0) {
                free(body);
                reply_error(out, 500, "cannot write the list: %s", strerror(-r));
                return;
        }
        free(out->body);
        out->status = 200;
        out->body = body;
        out->len = len;
        out->content_type = "application/json";
}

int api_listening_answer(struct rsapd *d, const struct request *req,
                         struct rsap_listening_answer *a, struct reply *out)
{
        struct rsap_answer_sources src = answer_sources(d, req);
        struct rsap_listen_filter f;
        enum rsap_answer_part failed;
        bool unregistered;
        int r;

        if (listening_filter(req, &f, &unregistered, out) < 0)
                return -EINVAL;
        /* A root rsapd sees every user's processes: --owners says who may. */
        if (!src.owners)
                f.find_owners = false;
        /* The snapshot holds rsapd's own namespace: the others are dumped now. */
        if (f.netns != RSAP_LISTEN_NETNS_OWN)
                src.sockets = NULL;
        if (f.container && !f.find_owners) {
                reply_error(out, src.owners ? 400 : 403, "container needs the processes%s",
                            src.owners ? ": drop processes=no" : ", which this client may not see");
                return -EINVAL;
        }
        r = rsap_answer_listening(&src, &f, unregistered, a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LISTENERS)
                reply_error(out, 503, "cannot list sockets: %s", strerror(-r));
        else if (r < 0 && failed == RSAP_ANSWER_LOCAL)
                reply_store_error(out, r, "cannot read the local registry");
        else if (r < 0)
                reply_error(out, 500, "out of memory");
        return r;
}

void api_listening(struct rsapd *d, const struct request *req, struct reply *out)
{
        _cleanup_(rsap_listening_answer_clear) struct rsap_listening_answer a = { 0 };

        if (api_listening_answer(d, req, &a, out) == 0)
                reply_listeners(out, &a, req->reg);
}

/*
 * POST /v1/reload: open the registry again after `rsap update` replaced the
 * cached copy (as SIGHUP does), and answer with the new status.  The body
 * may be empty or a JSON object; nothing in it is read yet.
 */
void api_reload(struct rsapd *d, const struct request *req, struct reply *out)
{
        struct registry_ref *ref;
        char err[256];
        int r;

        if (req->body_len) {
                json_t *body = decode_json_object(req->body, req->body_len, err, sizeof(err));

                if (!body) {
                        reply_error(out, 400, "%s", err);
                        return;
                }
                json_decref(body);
        }
        r = rsapd_registry_reload(d);
        if (r == -EBADMSG) {
                reply_error(out, 409, "the cached registry fails its checksum: the copy in use "
                                      "still answers");
                return;
        }
        if (r < 0) {
                reply_error(out, 500, "cannot open the registry again: %s", strerror(-r));
                return;
        }
        ref = rsapd_registry_get(d);
        reply_json(out, 200, rsap_status_to_json(ref->reg, d->data_dir, d->cache_path, atomic_load(&d->cached)));
        rsapd_registry_put(ref);
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rsap/error.h>
#include <rsap/fileio.h>
#include <rsap/paths.h>

#include "registry.h"
#include "render.h"

int registry_no_match(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        cli_vfail(EXIT_NO_MATCH, fmt, ap);
        va_end(ap);
        return EXIT_NO_MATCH;
}

int registry_refused(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        cli_vfail(EXIT_REFUSED, fmt, ap);
        va_end(ap);
        return EXIT_REFUSED;
}

bool registry_option(struct registry_cli *rc, int opt)
{
        if (opt == 'B')
                rc->db = optarg;
        else if (opt == 'A')
                rc->as = optarg;
        else
                return false;
        return true;
}

int registry_review_option(const struct cli_command *self, int opt, void *data)
{
        struct rsap_review_options *review = data;

        if (opt == 'S')
                review->allow_system = true;
        else if (opt == 'I')
                review->over_iana = true;
        else
                return -2;
        return -1;
}

int registry_why_option(const struct cli_command *self, int opt, void *data)
{
        if (opt != 'w')
                return -2;
        *(const char **)data = optarg;
        return -1;
}

/* --db and --as, then the command's own. */
struct registry_options {
        struct registry_cli *rc;
        registry_own_option *own;
        void *data;
};

static int registry_and_own_option(const struct cli_command *self, int opt, void *data)
{
        struct registry_options *both = data;

        if (registry_option(both->rc, opt))
                return -1;
        return both->own ? both->own(self, opt, both->data) : -2;
}

int registry_getopt(struct cli *cli, const struct cli_command *self, struct registry_cli *rc,
                    int argc, char **argv, registry_own_option *own, void *data)
{
        struct registry_options both = { rc, own, data };

        return cli_getopt(cli, self, argc, argv, registry_and_own_option, &both);
}

/* $RSAP_BUSY_TIMEOUT_MS, for scripts that would rather fail fast. */
static int busy_timeout(void)
{
        const char *text = getenv("RSAP_BUSY_TIMEOUT_MS");
        char *end;
        long ms;

        if (!text || !*text)
                return RSAP_STORE_DEFAULT_BUSY_TIMEOUT_MS;
        ms = strtol(text, &end, 10);
        return *end || ms < 1 || ms > 3600000 ? RSAP_STORE_DEFAULT_BUSY_TIMEOUT_MS : (int)ms;
}

/* Why --db names no store this rsap can open (rsap_store_uri_check()'s codes). */
static int store_uri_error(const char *uri, int err)
{
        return cli_error("--db %s: %s", uri, rsap_strerror(err));
}

const char *registry_path(struct cli *cli, struct registry_cli *rc)
{
        int r;

        if (rc->db) {
                if (!*rc->db) {
                        cli_error("--db needs a file name");
                        return NULL;
                }
                snprintf(rc->path, sizeof(rc->path), "%s", rc->db);
                r = rsap_store_uri_check(rc->db);
                if (r < 0) {
                        store_uri_error(rc->db, r);
                        return NULL;
                }
                return rc->path;
        }
        r = rsap_store_default_path(cli->db_dir, rc->path, sizeof(rc->path));
        if (r < 0) {
                cli_error_code(r, "cannot find the data directory for the registry database");
                return NULL;
        }
        return rc->path;
}

int registry_error(const struct registry_cli *rc, int err, const char *what)
{
        const char *path = rc->path;

        switch (err) {
        case -EBADMSG:
                return cli_error("%s: %s is not a usable registry database (corrupt, truncated "
                                 "or not SQLite); nothing was changed",
                                 what, path);
        case -EROFS:
                return cli_error("%s: %s is read-only; nothing was changed", what, path);
        case -EACCES:
        case -EPERM:
                return cli_error("%s: %s: permission denied; nothing was changed", what, path);
        case -EBUSY:
                return cli_error("%s: %s is locked by another process past the timeout "
                                 "($RSAP_BUSY_TIMEOUT_MS); nothing was changed",
                                 what, path);
        case -EPROTONOSUPPORT: {
                int version = rsap_store_file_schema_version(path);
                int known = rsap_store_known_schema_version(path);

                if (version > known)
                        return cli_error("%s: %s was written by a newer rsap (schema %d, this "
                                         "rsap knows %d): upgrade rsap", what, path, version,
                                         known);
                return cli_error("%s: %s was written by a newer rsap (schema above %d): "
                                 "upgrade rsap", what, path, known);
        }
        case -EMEDIUMTYPE:
                return cli_error("%s: %s has tables but no schema version: not a registry rsap "
                                 "made, or damaged; nothing was changed", what, path);
        case -ESTALE:
                /* Reads never migrate: only a write command's transaction may. */
                return cli_error("%s: %s has an older schema; a command that writes to the "
                                 "registry (such as 'rsap approve' or 'rsap lease') upgrades it",
                                 what, path);
        case -ENOENT:
                return cli_error("%s: %s: no such file or directory", what, path);
        case -ELOOP:
                return cli_error("%s: %s is a symbolic link: refusing to open it; nothing was "
                                 "changed", what, path);
        case -ENOSPC:
                return cli_error("%s: the disk is full: %s unchanged; free some space and try "
                                 "again", what, path);
        case -EILSEQ:
                return cli_error("%s: a field holds a control character or a byte that is not "
                                 "UTF-8 (only a note may hold line breaks); nothing was changed",
                                 what);
        case -ENOTRECOVERABLE:
                return cli_error("%s: %s: %s", what, path, rsap_strerror(err));
        case -ECONNREFUSED:
                return cli_error("%s: %s: no PostgreSQL server answered (is it running, and may "
                                 "this user connect?); nothing was changed", what, path);
        case -ECONNRESET:
                return cli_error("%s: %s: the PostgreSQL server closed the connection (did it "
                                 "restart?); a change under way was not made, or its end was not "
                                 "seen: 'rsap history' tells; try again", what, path);
        case -ENOSYS:
        case -EPFNOSUPPORT:
                return store_uri_error(path, err);
        default:
                return cli_error_code(err, "%s: %s", what, path);
        }
}

/* The default database lives in the data directory, made on first use. */
static int make_data_dir(struct cli *cli)
{
        char dir[4096];
        int r = rsap_data_dir(cli->db_dir, dir, sizeof(dir));

        if (r < 0)
                return r;
        return rsap_mkdir_parents(dir);
}

/* Root writing where another user could swap files: one line that says why. */
static bool unsafe_dir(const char *path)
{
        char dir[4200], why[4300];
        const char *slash = strrchr(path, '/');

        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else
                snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        if (rsap_dir_check_safe(dir, why, sizeof(why)) == 0)
                return false;
        cli_error("refusing to write as root into %s: %s; nothing was changed", dir, why);
        return true;
}

struct rsap_store *registry_open_write(struct cli *cli, struct registry_cli *rc)
{
        struct rsap_store *store = NULL;
        int r;

        if (!registry_path(cli, rc))
                return NULL;
        if (!rc->db) {
                r = make_data_dir(cli);
                if (r < 0) {
                        registry_error(rc, r, "cannot create the data directory");
                        return NULL;
                }
        }
        if (rsap_store_uri_file(rc->path) && unsafe_dir(rsap_store_uri_file(rc->path)))
                return NULL;
        r = rsap_store_open(rc->path, RSAP_STORE_WRITE, busy_timeout(), &store);
        if (r < 0) {
                registry_error(rc, r, "cannot open the registry");
                return NULL;
        }
        return store;
}

static int open_read_as(struct cli *cli, struct registry_cli *rc, enum rsap_store_mode mode,
                        struct rsap_store **out)
{
        int r;

        *out = NULL;
        if (!registry_path(cli, rc))
                return EXIT_BAD_INPUT;
        r = rsap_store_open(rc->path, mode, busy_timeout(), out);
        if (r == -ENOENT)
                return 0; /* no local registry yet: nothing registered here */
        if (r < 0)
                return registry_error(rc, r, "cannot read the registry");
        return 0;
}

int registry_open_read(struct cli *cli, struct registry_cli *rc, struct rsap_store **out)
{
        return open_read_as(cli, rc, RSAP_STORE_READ, out);
}

int registry_open_lookup(struct cli *cli, struct registry_cli *rc, struct rsap_iana **iana,
                         struct rsap_store **store)
{
        *store = NULL;
        *iana = cli_open_registry(cli);
        if (!*iana)
                return EXIT_BAD_INPUT;
        return registry_open_read(cli, rc, store);
}

int registry_open_explain(struct cli *cli, struct registry_cli *rc, struct rsap_iana **iana,
                          struct rsap_store **store)
{
        *store = NULL;
        *iana = cli_open_registry(cli);
        if (!*iana)
                return EXIT_BAD_INPUT;
        return open_read_as(cli, rc, RSAP_STORE_LOOKUP, store);
}

const char *registry_actor(struct registry_cli *rc)
{
        const char *sudo_user = getenv("SUDO_USER");
        struct passwd *pw;

        if (rc->as && *rc->as)
                return rc->as;
        if (geteuid() == 0 && sudo_user && *sudo_user) {
                snprintf(rc->actor, sizeof(rc->actor), "%s", sudo_user);
                return rc->actor;
        }
        pw = getpwuid(getuid());
        if (pw && pw->pw_name)
                snprintf(rc->actor, sizeof(rc->actor), "%s", pw->pw_name);
        else
                snprintf(rc->actor, sizeof(rc->actor), "uid %u", (unsigned)getuid());
        return rc->actor;
}

void registry_host(struct rsap_host *host, struct rsap_listen_list **listeners, bool owners)
{
        struct rsap_listen_filter filter;

        memset(host, 0, sizeof(*host));
        host->have_ephemeral =
                rsap_host_read_ephemeral(NULL, &host->ephemeral_low, &host->ephemeral_high) == 0;
        if (!listeners)
                return;
        rsap_listen_filter_init(&filter);
        filter.find_owners = owners;
        if (rsap_listen_collect(&filter, listeners) < 0)
                *listeners = NULL;
        host->listeners = *listeners;
}

int registry_range_option(const struct cli_command *self, const char *text, uint16_t *low,
                          uint16_t *high)
{
        struct rsap_port_spec spec;

        if (rsap_port_spec_parse(text, &spec) < 0 || spec.proto != RSAP_PROTO_NONE)
                return cli_usage_error(self, "'%s' is not a range (A-B, 0 <= A <= B <= 65535)",
                                       text);
        *low = spec.low;
        *high = spec.high;
        return -1;
}

int registry_proto_option(const struct cli_command *self, const char *text, unsigned *protocols)
{
        if (rsap_proto_parse_list(text, protocols) < 0)
                return cli_usage_error(self, "unknown protocol in '%s' (tcp, udp, sctp, dccp)",
                                       text);
        return -1;
}

int registry_request_id_arg(const struct cli_command *self, int argc, char **argv, int64_t *id)
{
        if (optind != argc - 1)
                return cli_usage_error(self, optind == argc ? "which request?"
                                                            : "one request at a time");
        if (rsap_request_id_parse(argv[optind], id) < 0)
                return cli_usage_error(self, "'%s' is not a request id (a number, as 'rsap "
                                             "request' printed it)",
                                       argv[optind]);
        return -1;
}

static const char *verdict_color(const struct cli *cli, enum rsap_verdict verdict)
{
        switch (verdict) {
        case RSAP_VERDICT_PASS:
                return cli_green(cli);
        case RSAP_VERDICT_WARNING:
        case RSAP_VERDICT_ALLOWED:
                return cli_yellow(cli);
        case RSAP_VERDICT_REFUSED:
                break;
        }
        return cli_bold(cli);
}

void registry_render_check(const struct cli *cli, const struct rsap_check *c)
{
        printf("  %s%-8s%s %s\n", verdict_color(cli, c->verdict), rsap_verdict_name(c->verdict),
               cli_reset(cli), render_safe(c->message));
}

void registry_render_assignment(const struct cli *cli, const struct rsap_assignment *a)
{
        char label[16];

        snprintf(label, sizeof(label), "%u/%s", a->port, rsap_proto_name(a->proto));
        printf("  assignment %-6lld %s%-11s%s %-16s %s\n", (long long)a->id, cli_bold(cli), label,
               cli_reset(cli), render_safe(a->service), render_safe(a->assignee));
}

void registry_request_ports(const struct rsap_request *r, char *buf, size_t size)
{
        char protocols[32];

        rsap_proto_format_list(r->protocols, protocols, sizeof(protocols));
        if (r->any_port)
                snprintf(buf, size, "any port in %u-%u/%s", r->range_low, r->range_high,
                         protocols);
        else
                snprintf(buf, size, "%u/%s", r->port, protocols);
}

/* "3 assigned by IANA, 1 leased": the rules that left nothing free, and how many ports each
 * took. */
void registry_format_exclusions(const struct rsap_pick_exclusions *x, char *buf, size_t size)
{
        const struct {
                size_t n;
                const char *what;
        } parts[] = {
                { x->iana, "assigned or reserved by IANA" },
                { x->local_assignment, "assigned locally" },
                { x->lease, "leased" },
                { x->request, "requested" },
                { x->quarantine, "quarantined" },
                { x->listening, "listening here" },
                { x->ephemeral, "in the ephemeral range" },
                { x->browser, "refused by browsers" },
        };
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && len < size; i++) {
                if (parts[i].n == 0)
                        continue;
                len += (size_t)snprintf(buf + len, size - len, "%s%zu %s", len ? ", " : "",
                                        parts[i].n, parts[i].what);
        }
}

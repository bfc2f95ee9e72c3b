/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rsap/buf.h>
#include <rsap/fileio.h>
#include <rsap/paths.h>
#include <rsap/time.h>
#include <rsap/update.h>

#include "config.h"
#include "snapshot_format.h"

static int fail(struct rsap_import_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct rsap_import_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return code;
}

/* The bytes fetched, and whether a download went past RSAP_UPDATE_MAX_BYTES. */
struct input {
        struct rsap_buf bytes;
        bool too_big;
};

static void input_free(struct input *in)
{
        rsap_buf_free(&in->bytes);
}

static int read_file(const char *path, struct input *in, struct rsap_import_error *err)
{
        void *data;
        size_t size;
        int r = rsap_read_regular_file(path, RSAP_UPDATE_MAX_BYTES, &data, &size);

        if (r == -EINVAL)
                return fail(err, r, "%s is not a regular file: --from takes a file or an "
                            "http:// or https:// URL", path);
        if (r == -EFBIG)
                return fail(err, r, "%s is larger than %u MiB", path, RSAP_UPDATE_MAX_BYTES >> 20);
        if (r < 0)
                return fail(err, r, "cannot read %s: %s", path, strerror(-r));
        /* rsap_read_regular_file() leaves the NUL a struct rsap_buf keeps. */
        in->bytes = (struct rsap_buf){ .data = data, .len = size, .cap = size + 1 };
        return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct input *in = userdata;
        size_t len = size * nmemb;

        if (len > RSAP_UPDATE_MAX_BYTES - in->bytes.len) {
                in->too_big = true;
                return 0;
        }
        return rsap_buf_append(&in->bytes, data, len) < 0 ? 0 : len;
}

static int on_progress(void *userdata, curl_off_t total, curl_off_t done, curl_off_t ut,
                       curl_off_t un)
{
        const struct rsap_update_options *opts = userdata;

        opts->progress(opts->userdata, (uint64_t)done, (uint64_t)total);
        return 0;
}

static void curl_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}

static int download(const struct rsap_update_options *opts, const char *url, struct input *in,
                    struct rsap_import_error *err)
{
        _cleanup_(curl_cleanupp) CURL *c = NULL;
        char curl_err[CURL_ERROR_SIZE] = "";
        CURLcode rc;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return fail(err, -EIO, "cannot initialise libcurl");
        c = curl_easy_init();
        if (!c)
                return fail(err, -ENOMEM, "cannot initialise libcurl");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
        /* A stalled transfer fails instead of hanging: under 1 KB/s for 30 s. */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
        /* A trickle above that speed still ends: the whole transfer has a limit. */
        curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout_s ? (long)opts->timeout_s
                                                             : (long)RSAP_UPDATE_DEFAULT_TIMEOUT);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RSAP_UPDATE_MAX_BYTES);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "rsap/" RSAP_VERSION);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, in);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (opts->progress) {
                curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opts);
                curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
        rc = curl_easy_perform(c);
        if (in->too_big || rc == CURLE_FILESIZE_EXCEEDED)
                return fail(err, -EFBIG, "%s is larger than %u MiB", url,
                            RSAP_UPDATE_MAX_BYTES >> 20);
        if (rc == CURLE_OPERATION_TIMEDOUT)
                return fail(err, -ETIMEDOUT, "cannot fetch %s: not done within %u s (--timeout): %s",
                            url, opts->timeout_s ? opts->timeout_s : RSAP_UPDATE_DEFAULT_TIMEOUT,
                            curl_err[0] ? curl_err : curl_easy_strerror(rc));
        if (rc != CURLE_OK)
                return fail(err, rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST
                                         ? -EHOSTUNREACH
                                         : -EIO,
                            "cannot fetch %s: %s", url,
                            curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return 0;
}

/* names is a space-separated list: 80/tcp is "http", also "www" and "www-http". */
static bool name_in(const char *service, const char *names)
{
        size_t len = strlen(service);

        for (const char *p = names; *p;) {
                size_t n = strcspn(p, " ");

                if (n == len && strncasecmp(p, service, n) == 0)
                        return true;
                p += n + (p[n] == ' ');
        }
        return false;
}

static bool core_port_named(const struct rsap_iana *reg, uint16_t port, enum rsap_proto proto,
                            const char *names)
{
        uint32_t ids[16];
        size_t n = rsap_iana_find_port(reg, port, proto, ids, ARRAY_SIZE(ids));

        for (size_t i = 0; i < n && i < ARRAY_SIZE(ids); i++) {
                struct rsap_record rec;

                rsap_iana_record(reg, ids[i], &rec);
                if (rec.service && name_in(rec.service, names))
                        return true;
        }
        return false;
}

int rsap_update_check(const struct rsap_iana *reg, struct rsap_import_error *err)
{
        static const struct {
                uint16_t port;
                enum rsap_proto proto;
                const char *names;
        } core[] = {
                { 22, RSAP_PROTO_TCP, "ssh" },
                { 25, RSAP_PROTO_TCP, "smtp" },
                { 53, RSAP_PROTO_UDP, "domain" },
                { 80, RSAP_PROTO_TCP, "http www www-http" },
                { 123, RSAP_PROTO_UDP, "ntp" },
                { 443, RSAP_PROTO_TCP, "https" },
        };
        size_t n = rsap_iana_count(reg);

        if (n < RSAP_UPDATE_MIN_RECORDS)
                return fail(err, -EBADMSG,
                            "only %zu records, fewer than the %u of a whole registry: "
                            "refusing a partial copy",
                            n, RSAP_UPDATE_MIN_RECORDS);
        for (size_t i = 0; i < ARRAY_SIZE(core); i++)
                if (!core_port_named(reg, core[i].port, core[i].proto, core[i].names))
                        return fail(err, -EBADMSG, "port %u/%s is not \"%.*s\": not IANA's registry",
                                    core[i].port, rsap_proto_name(core[i].proto),
                                    (int)strcspn(core[i].names, " "), core[i].names);
        return 0;
}

/*
 * Written beside the target under a name nobody can plant in advance, flushed
 * and renamed over it (rsap_file_replace): a reader sees the old copy or the
 * new one, and a symlink planted in the directory is never written through.
 * Root writes only into a directory no other user controls.
 */
static int install(const char *dir, const char *path, const void *data, size_t size,
                   struct rsap_import_error *err)
{
        char why[4200];
        int r;

        r = rsap_dir_check_safe(dir, why, sizeof(why));
        if (r < 0)
                return fail(err, r, "refusing to write as root into %s: %s", dir,
                            why[0] ? why : strerror(-r));
        r = rsap_mkdir_parents(dir);
        if (r < 0)
                return fail(err, r, "cannot create %s: %s", dir, strerror(-r));
        r = rsap_file_replace(path, data, size, 0644);
        if (r < 0)
                return fail(err, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

/* Tomorrow's date in UTC, "YYYY-MM-DD": a release past it is from the future,
 * a day of clock skew allowed. */
static void latest_plausible_date(char *buf, size_t size)
{
        rsap_date_format(rsap_realtime_us() + 24LL * 60 * 60 * 1000000, buf, size);
}

/*
 * A mirror that serves an old release (or a forged one dated in the future,
 * which would then shadow every real one) must not replace a newer cached
 * copy.  Release dates are ISO 8601 ("2025-12-15", or "2025-03" from a CSV),
 * which compare as strings.
 */
static int check_release(const struct rsap_update_options *opts, const char *path,
                         const char *release, struct rsap_import_error *err)
{
        _cleanup_(rsap_iana_freep) struct rsap_iana *cached = NULL;
        struct rsap_iana_info info;
        char latest[16];

        if (opts->allow_any_date)
                return 0;
        latest_plausible_date(latest, sizeof(latest));
        if (release[0] && strcmp(release, latest) > 0)
                return fail(err, -ESTALE, "its release date %s is in the future "
                            "(--allow-any-date to take it anyway)", release);
        if (rsap_iana_open_file(path, &cached) < 0)
                return 0; /* nothing (usable) cached: anything dated is newer */
        rsap_iana_info(cached, &info);
        if (!info.release || !*info.release)
                return 0;
        if (!release[0])
                return fail(err, -ESTALE, "it has no release date, the cached copy is of %s "
                            "(--allow-any-date to take it anyway)", info.release);
        if (strcmp(release, info.release) < 0)
                return fail(err, -ESTALE, "its release %s is older than the cached %s "
                            "(--allow-any-date to take it anyway)", release, info.release);
        return 0;
}

static void builder_freep(struct rsap_builder **b)
{
        rsap_builder_free(*b);
}

static int parse_and_check(const struct rsap_buf *input, void **snap, size_t *snap_size,
                           struct rsap_update_result *result, struct rsap_import_error *err)
{
        _cleanup_(builder_freep) struct rsap_builder *b = rsap_builder_new();
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        struct rsap_iana_info info;
        int r;

        if (!b)
                return fail(err, -ENOMEM, "out of memory");
        result->format = rsap_format_sniff(input->data, input->len);
        if (result->format != RSAP_FORMAT_IANA_XML && result->format != RSAP_FORMAT_IANA_CSV)
                return fail(err, -EBADMSG, "not IANA's registry in XML or CSV");
        r = rsap_import_any(input->data, input->len, b, err);
        if (r < 0)
                return r;
        r = rsap_builder_finish(b, snap, snap_size);
        if (r < 0)
                return fail(err, r, "cannot build the snapshot: %s", strerror(-r));
        r = rsap_iana_open_memory(*snap, *snap_size, &reg);
        if (r < 0)
                return fail(err, r, "the new snapshot does not open: %s", strerror(-r));
        r = rsap_update_check(reg, err);
        if (r < 0)
                return r;
        rsap_iana_info(reg, &info);
        result->records = info.records;
        snprintf(result->release, sizeof(result->release), "%s", info.release ? info.release : "");
        return 0;
}

/*
 * http:// and https:// go to libcurl; file:///PATH and a plain path are read
 * as a regular file (so a FIFO or a device is refused rather than waited on);
 * any other scheme is refused.
 */
static int fetch(const struct rsap_update_options *opts, const char *from, struct input *in,
                 struct rsap_import_error *err)
{
        if (strncasecmp(from, "http://", 7) == 0 || strncasecmp(from, "https://", 8) == 0)
                return download(opts, from, in, err);
        if (strncasecmp(from, "file://", 7) == 0) {
                if (from[7] != '/')
                        return fail(err, -EINVAL, "%s: a file:// URL names a local file, "
                                    "file:///PATH", from);
                return read_file(from + 7, in, err);
        }
        if (strstr(from, "://"))
                return fail(err, -EINVAL, "%s: only http://, https:// and file:// URLs, or a file",
                            from);
        return read_file(from, in, err);
}

int rsap_update(const struct rsap_update_options *opts, struct rsap_update_result *result,
                struct rsap_import_error *err)
{
        _cleanup_(input_free) struct input input = { 0 };
        _cleanup_(freep) void *snap = NULL;
        const char *from = opts->from ? opts->from : RSAP_IANA_URL;
        char dir[4096];
        size_t snap_size;
        int r;

        memset(result, 0, sizeof(*result));
        memset(err, 0, sizeof(*err));
        r = rsap_data_dir(opts->data_dir, dir, sizeof(dir));
        if (r < 0)
                return fail(err, r, "no data directory: %s", strerror(-r));
        r = rsap_cache_path(dir, result->path, sizeof(result->path));
        if (r < 0)
                return fail(err, r, "data directory path too long");
        r = fetch(opts, from, &input, err);
        if (r < 0)
                return r;
        result->bytes = input.bytes.len;
        r = parse_and_check(&input.bytes, &snap, &snap_size, result, err);
        if (r < 0)
                return r;
        r = check_release(opts, result->path, result->release, err);
        if (r < 0)
                return r;
        return install(dir, result->path, snap, snap_size, err);
}

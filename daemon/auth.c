/* SPDX-License-Identifier: MIT */
/*
 * The bearer token.  It lives in a file only its owner may read, because
 * anyone holding it may change the organisation's registry; rsapd refuses to
 * start when the file is readable or writable by others, and never prints it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/basic.h>
#include <rsap/listen.h>

#include "rsapd.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 4096

static int check_file(int fd, char *why, size_t why_size)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, why_size, "it is not a regular file");
                return -EINVAL;
        }
        if (st.st_uid != geteuid()) {
                snprintf(why, why_size, "it belongs to uid %lu, not to rsapd's uid %lu",
                         (unsigned long)st.st_uid, (unsigned long)geteuid());
                return -EPERM;
        }
        if (st.st_mode & 077) {
                snprintf(why, why_size, "its mode %04o lets others read or write it: chmod 600 it",
                         (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        if (st.st_size > TOKEN_MAX) {
                snprintf(why, why_size, "it is larger than %d bytes", TOKEN_MAX);
                return -EFBIG;
        }
        return 0;
}

/* The token is the file's first line, without surrounding whitespace. */
static int read_token(int fd, struct auth *a, char *why, size_t why_size)
{
        char text[TOKEN_MAX + 1];
        ssize_t n = read(fd, text, TOKEN_MAX);
        size_t start = 0, end;
        const char *token;
        size_t len;

        if (n < 0)
                return -errno;
        text[n] = '\0';
        end = strcspn(text, "\r\n");
        while (start < end && (text[start] == ' ' || text[start] == '\t'))
                start++;
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
                end--;
        text[end] = '\0';
        if (decode_token68(text + start) < 0 || end - start < TOKEN_MIN) {
                snprintf(why, why_size,
                         "its first line must be a token of at least %d characters from "
                         "A-Z a-z 0-9 - . _ ~ + / =",
                         TOKEN_MIN);
                explicit_bzero(text, sizeof(text));
                return -EINVAL;
        }
        token = text + start;
        len = end - start;
        a->token = strndup(token, len);
        explicit_bzero(text, sizeof(text));
        if (!a->token)
                return -ENOMEM;
        a->token_len = len;
        return 0;
}

int auth_load(struct auth *a, const char *path, char *why, size_t why_size)
{
        _cleanup_(closep) int fd = -1;
        int r;

        *a = (struct auth){ 0 };
        snprintf(why, why_size, "%s", "");
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, why_size, "%s", strerror(errno));
                return r;
        }
        r = check_file(fd, why, why_size);
        if (r < 0)
                return r;
        return read_token(fd, a, why, why_size);
}

void auth_clear(struct auth *a)
{
        if (a->token) {
                explicit_bzero(a->token, a->token_len);
                free(a->token);
        }
        *a = (struct auth){ 0 };
}

/*
 * Constant time in the presented token's content: every byte of the longer
 * of the two is looked at, and the lengths are folded into the result, so
 * the time tells neither where the first difference is nor the length.
 */
bool auth_token_equal(const struct auth *a, const char *token, size_t len)
{
        size_t n = len > a->token_len ? len : a->token_len;
        unsigned char diff = 0;
        volatile unsigned char sink;

        if (!a->token)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char x = i < len ? (unsigned char)token[i] : 0;
                unsigned char y = i < a->token_len ? (unsigned char)a->token[i] : 0;

                diff |= x ^ y;
        }
        diff |= (unsigned char)(len != a->token_len);
        sink = diff;
        return sink == 0;
}

enum auth_verdict auth_check(const struct auth *a, bool write, bool loopback,
                             const char *authorization)
{
        const char *token;
        size_t len;
        int r = decode_bearer(authorization, &token, &len);

        if (r == -ENOENT) {
                if (!write && loopback)
                        return AUTH_OK;
                return a->token ? AUTH_MISSING : AUTH_FORBIDDEN;
        }
        /* Credentials that were sent are checked even where none are needed:
         * a client with a wrong token should hear so at once. */
        if (!a->token)
                return (!write && loopback) ? AUTH_OK : AUTH_FORBIDDEN;
        if (r < 0 || !auth_token_equal(a, token, len))
                return AUTH_INVALID;
        return AUTH_OK;
}

bool auth_presents_token(const struct auth *a, const char *authorization)
{
        const char *token;
        size_t len;

        return decode_bearer(authorization, &token, &len) == 0 && auth_token_equal(a, token, len);
}

/*
 * A root rsapd reads every process's descriptors, so it could tell any
 * local user what `rsap listening` run by that user hides (other users'
 * processes).  --owners says to whom it does.
 */
bool owners_visible(const struct rsapd *d, const struct request *req)
{
        switch (d->cfg.owners) {
        case OWNERS_ALL:
                return true;
        case OWNERS_TOKEN:
                return req->authenticated;
        case OWNERS_NONE:
                break;
        }
        return false;
}

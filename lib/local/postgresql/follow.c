/* SPDX-License-Identifier: MIT */
/*
 * Following the commits of every client of one database: a connection of
 * its own that LISTENs on the channel every commit NOTIFYs (pg_commit), so
 * that rsapd learns of a change made through another rsapd, or by rsap on
 * another host, when it happens, instead of asking the server before each
 * answer.  The server delivers a notice only once its transaction has
 * committed, and to a listener only for commits after its LISTEN: so after
 * every (re)connection the first wait says "changed" whatever came, since
 * anything may have been committed while nobody listened.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

struct pg_follow {
        PGconn *db;
        bool listening; /* LISTEN took on the current connection */
};

/* LISTEN on a connection made or made again: -ECONNREFUSED while the server is away. */
static int listen_again(struct pg_follow *f)
{
        if (PQstatus(f->db) != CONNECTION_OK)
                PQreset(f->db);
        if (PQstatus(f->db) != CONNECTION_OK)
                return -ECONNREFUSED;
        return pg_exec(f->db, "LISTEN " PG_CHANGES_CHANNEL);
}

int pg_follow_open(const char *location, void **out)
{
        struct pg_follow *f = calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->db = pg_connect_to(location);
        if (!f->db) {
                free(f);
                return -ENOMEM;
        }
        *out = f;
        return 0;
}

/* Whether a notice came: takes every one the connection has read. */
static bool take_notices(struct pg_follow *f)
{
        bool any = false;
        PGnotify *n;

        while ((n = PQnotifies(f->db))) {
                any = true;
                PQfreemem(n);
        }
        return any;
}

/* What arrived in timeout_ms: 1 notices, 0 none, -ECONNRESET the connection was lost. */
static int wait_for_notices(struct pg_follow *f, int timeout_ms)
{
        struct pollfd p = { .fd = PQsocket(f->db), .events = POLLIN };
        int r;

        if (take_notices(f))
                return 1;
        r = poll(&p, 1, timeout_ms);
        if (r < 0)
                return errno == EINTR ? 0 : -errno;
        if (r == 0)
                return 0;
        if (!PQconsumeInput(f->db)) {
                f->listening = false;
                return -ECONNRESET;
        }
        return take_notices(f) ? 1 : 0;
}

int pg_follow_wait(void *changes, int timeout_ms)
{
        struct pg_follow *f = changes;
        int r;

        if (!f->listening) {
                r = listen_again(f);
                if (r < 0)
                        return r;
                f->listening = true;
                (void)take_notices(f);
                return 1; /* nobody listened for a while: anything may have changed */
        }
        return wait_for_notices(f, timeout_ms);
}

void pg_follow_close(void *changes)
{
        struct pg_follow *f = changes;

        if (!f)
                return;
        PQfinish(f->db);
        free(f);
}

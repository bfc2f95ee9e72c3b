/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Listening intervals: what rsapd saw listen on its host, from when to when,
 * kept in the local registry's store (its table listen_intervals; SQLite
 * migration 5, PostgreSQL migration 2).  An interval is one socket
 * (protocol, address, port, network namespace) with the processes that held
 * it, from the moment it was first seen to the moment it was seen gone.
 * While it is open, last_seen_us follows the recorder's polls, so that an
 * interval left open by a recorder that died is closed at its last sighting
 * ("unknown" end) when a recorder starts again.
 *
 * The table stays bounded (rsap_intervals_upkeep): ended intervals older
 * than the retention period go, and past the cap the ended short-lived
 * intervals of one program on one socket become one row with their count,
 * the first start and the last end; then the oldest ended rows go.  Open
 * intervals are never removed (the live sockets bound them).
 *
 * Unlike the registry's events, intervals are observations, not decisions:
 * they may be compacted and removed.  Errors are store.h's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <rsap/listen.h>
#include <rsap/port.h>
#include <rsap/store.h>

enum rsap_interval_end {
        RSAP_INTERVAL_OPEN = 0, /* still listening, as far as the store knows */
        RSAP_INTERVAL_STOPPED,  /* seen gone, at ended_us */
        RSAP_INTERVAL_UNKNOWN,  /* the recorder stopped first: ended_us is its last sighting */
};

struct rsap_interval {
        int64_t id;
        char *host;               /* the host that saw it */
        enum rsap_proto proto;
        uint16_t port;
        char *address;            /* "0.0.0.0", "::1": no brackets */
        uint64_t netns;           /* the network namespace's inode; 0: unknown */
        uid_t uid;                /* who created the socket, from the kernel */
        /* The first owner (lowest pid); pid 0 when none was visible, or a
         * compacted row whose owners differed. */
        pid_t pid;
        uint64_t pid_start;       /* its start time, clock ticks after boot; 0: unknown */
        char *command;            /* /proc/PID/comm; NULL: unknown */
        char *exe;                /* the target of /proc/PID/exe; NULL: unknown */
        char *owners;             /* every owner as a compact JSON array; NULL: none known */
        int64_t started_us, last_seen_us;
        int64_t ended_us;         /* 0 while open */
        enum rsap_interval_end end;
        int64_t count;            /* intervals this row stands for: > 1 once compacted */
};
void rsap_interval_clear(struct rsap_interval *iv);

struct rsap_interval_list {
        struct rsap_interval *items;
        size_t n;
};
void rsap_interval_list_clear(struct rsap_interval_list *list);

/* "stopped", "unknown", or NULL while open. */
const char *rsap_interval_end_name(enum rsap_interval_end end);

/*
 * An interval for socket s as first seen at at_us: its first owner's start
 * time and executable read from /proc (left unknown when it is gone), every
 * owner into owners.  Fills out, which rsap_interval_clear() frees.
 */
int rsap_interval_from_socket(const struct rsap_listen_socket *s, int64_t at_us,
                              struct rsap_interval *out);

/* Records iv as open (started_us = last_seen_us = iv->started_us) on the store's host. */
int rsap_interval_open(struct rsap_store *store, const struct rsap_interval *iv,
                       int64_t *id_out);
/* Closes open interval id as stopped at ended_us (not before its start): -ENOENT when not open. */
int rsap_interval_close(struct rsap_store *store, int64_t id, int64_t ended_us);
/*
 * Closes every interval the store's host left open as "unknown", at its
 * last sighting: what a recorder does first, for the intervals of a
 * recorder that stopped (or was killed) before it saw their end.
 */
int rsap_intervals_close_unknown(struct rsap_store *store, int64_t *n_closed);
/* Moves the last sighting of every open interval of the store's host to now_us: one statement. */
int rsap_intervals_touch(struct rsap_store *store, int64_t now_us);

/*
 * The writes above in one transaction, for a recorder's many changes at once
 * (one commit, not one a row): begin takes the write lock as every write
 * transaction does; commit makes them stay, and when it fails nothing of
 * them does (-EBUSY, -ENOSPC...).
 */
int rsap_intervals_begin(struct rsap_store *store);
int rsap_intervals_commit(struct rsap_store *store);

struct rsap_interval_policy {
        int64_t retention_us; /* ended intervals older than this go; 0: kept however old */
        int64_t cap;          /* rows kept at most beside the open ones; 0: no cap */
        int64_t short_us;     /* intervals shorter than this are compacted past the cap */
};
/* Defaults: 30 days, 100,000 rows, intervals under a minute. */
#define RSAP_INTERVAL_DEFAULT_RETENTION_US (30LL * 86400 * 1000000)
#define RSAP_INTERVAL_DEFAULT_CAP 100000
#define RSAP_INTERVAL_DEFAULT_SHORT_US (60LL * 1000000)

struct rsap_interval_upkeep {
        int64_t expired;   /* rows past the retention period, removed */
        int64_t compacted; /* rows folded into compaction rows */
        int64_t dropped;   /* the oldest ended rows removed to keep the cap */
        int64_t rows;      /* rows left */
};
/* One transaction: retention, then (past the cap) compaction, then the cap. */
int rsap_intervals_upkeep(struct rsap_store *store, const struct rsap_interval_policy *p,
                          int64_t now_us, struct rsap_interval_upkeep *out);

enum rsap_interval_scope {
        RSAP_INTERVALS_PORT,  /* every interval on port (proto: one, or NONE for all), by start */
        RSAP_INTERVALS_AT,    /* open at at_us (started at or before, not ended): by socket */
        RSAP_INTERVALS_SINCE, /* started at or after at_us, by start */
};
struct rsap_interval_query {
        enum rsap_interval_scope scope;
        uint16_t port;
        enum rsap_proto proto;
        int64_t at_us;
        const char *host; /* one host's; NULL: every host's */
};
/*
 * Fills out (cleared first).  Compaction rows answer PORT and SINCE, never
 * AT: which of their intervals was open at a given moment is not kept.
 */
int rsap_intervals_query(struct rsap_store *store, const struct rsap_interval_query *q,
                         struct rsap_interval_list *out);

/* docs/json.md's kind "listening-history": {"kind", "intervals": [...]}.  NULL: out of memory. */
json_t *rsap_intervals_to_json(const struct rsap_interval_list *list);

/*
 * One port's listening history (rsap history PORT --listening, rsapd's
 * /v1/history/PORT?listening=1): the intervals recorded on it, and the
 * squatter findings recorded there (rsap/findings.h), every host's, oldest
 * first.  A store without either has none.
 */
struct rsap_listen_finding;
struct rsap_port_listening {
        struct rsap_interval_list intervals;
        struct rsap_listen_finding *findings;
        size_t n_findings;
};
int rsap_port_listening_read(struct rsap_store *store, uint16_t port, enum rsap_proto proto,
                             struct rsap_port_listening *out);
void rsap_port_listening_clear(struct rsap_port_listening *h);
/* The intervals' JSON (kind "listening-history") with "findings" added. */
json_t *rsap_port_listening_to_json(const struct rsap_port_listening *h);

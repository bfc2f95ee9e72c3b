/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's connection: opening a registry file (never creating
 * it for a lookup), the schema and its numbered migrations, transactions,
 * the event table, and the statement helpers of lib/local/sqlite/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rsap/fileio.h>
#include <rsap/paths.h>
#include <rsap/textsafe.h>
#include <rsap/workflow.h>

#include "sqlite.h"

/* ---- schema -------------------------------------------------------------- */

/*
 * Migration N brings a database from user_version N - 1 to N.  A migration
 * is never edited once released: a change is a new migration.
 *
 * The state tables are kept consistent with the events inside each write
 * transaction, and rsap_store_check() re-derives them from the events.  The
 * constraints make the worst mistakes impossible whatever the code does:
 * holdings' primary key lets one holder have a port/protocol, a service name
 * exists once whatever its case, and nothing ever leaves the event table.
 */
static const char *const migrations[] = {
        /* 1: the first schema */
        "CREATE TABLE services (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 63),\n"
        "  assignee TEXT NOT NULL,\n"
        "  contact TEXT NOT NULL,\n"
        "  created_us INTEGER NOT NULL\n"
        ");\n"
        "CREATE TABLE requests (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  service TEXT NOT NULL CHECK (length(service) BETWEEN 1 AND 63),\n"
        "  port INTEGER CHECK (port BETWEEN 0 AND 65535),\n"
        "  range_low INTEGER NOT NULL CHECK (range_low BETWEEN 0 AND 65535),\n"
        "  range_high INTEGER NOT NULL CHECK (range_high BETWEEN range_low AND 65535),\n"
        "  protocols INTEGER NOT NULL CHECK (protocols > 0 AND protocols < 32 AND (protocols & 1) = 0),\n"
        "  description TEXT NOT NULL,\n"
        "  assignee TEXT NOT NULL,\n"
        "  contact TEXT NOT NULL,\n"
        "  reference TEXT,\n"
        "  note TEXT,\n"
        "  allow_system INTEGER NOT NULL DEFAULT 0 CHECK (allow_system IN (0, 1)),\n"
        "  over_iana INTEGER NOT NULL DEFAULT 0 CHECK (over_iana IN (0, 1)),\n"
        "  same_service INTEGER NOT NULL DEFAULT 0 CHECK (same_service IN (0, 1)),\n"
        "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),\n"
        "  requested_by TEXT NOT NULL,\n"
        "  requested_us INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX requests_pending_port ON requests(port) WHERE state = 'pending';\n"
        "CREATE INDEX requests_service ON requests(service COLLATE NOCASE);\n"
        "CREATE TABLE assignments (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  service_id INTEGER NOT NULL REFERENCES services(id),\n"
        "  request_id INTEGER REFERENCES requests(id),\n"
        "  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),\n"
        "  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  description TEXT NOT NULL,\n"
        "  reference TEXT,\n"
        "  note TEXT,\n"
        "  over_iana TEXT,\n"
        "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),\n"
        "  assigned_us INTEGER NOT NULL,\n"
        "  ended_us INTEGER,\n"
        "  quarantine_until_us INTEGER,\n"
        "  CHECK (active = (ended_us IS NULL))\n"
        ");\n"
        "CREATE UNIQUE INDEX assignments_active_port ON assignments(port, protocol) WHERE active;\n"
        "CREATE INDEX assignments_port ON assignments(port);\n"
        "CREATE INDEX assignments_service ON assignments(service_id);\n"
        "CREATE TABLE leases (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),\n"
        "  name TEXT,\n"
        "  pid INTEGER CHECK (pid > 0),\n"
        "  pid_start INTEGER,\n"
        "  expires_us INTEGER NOT NULL,\n"
        "  leased_us INTEGER NOT NULL,\n"
        "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),\n"
        "  ended_us INTEGER,\n"
        "  CHECK (active = (ended_us IS NULL))\n"
        ");\n"
        "CREATE UNIQUE INDEX leases_active_port ON leases(port) WHERE active;\n"
        "CREATE INDEX leases_port ON leases(port);\n"
        /* What holds each port/protocol right now: one row, one holder. */
        "CREATE TABLE holdings (\n"
        "  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),\n"
        "  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('assignment', 'lease')),\n"
        "  assignment_id INTEGER UNIQUE REFERENCES assignments(id),\n"
        "  lease_id INTEGER REFERENCES leases(id),\n"
        "  PRIMARY KEY (port, protocol),\n"
        "  CHECK ((kind = 'assignment') = (assignment_id IS NOT NULL)),\n"
        "  CHECK ((kind = 'lease') = (lease_id IS NOT NULL))\n"
        ") WITHOUT ROWID;\n"
        "CREATE INDEX holdings_lease ON holdings(lease_id) WHERE lease_id IS NOT NULL;\n"
        "CREATE TABLE events (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  time_us INTEGER NOT NULL,\n"
        "  actor TEXT NOT NULL,\n"
        "  action TEXT NOT NULL CHECK (action IN ('request', 'approve', 'reject', 'deassign',\n"
        "    'transfer', 'revoke', 'lease', 'release', 'expire', 'import')),\n"
        "  request_id INTEGER REFERENCES requests(id),\n"
        "  assignment_id INTEGER REFERENCES assignments(id),\n"
        "  lease_id INTEGER REFERENCES leases(id),\n"
        "  service TEXT,\n"
        "  port INTEGER CHECK (port BETWEEN 0 AND 65535),\n"
        "  protocol TEXT CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  reason TEXT,\n"
        "  details TEXT CHECK (details IS NULL OR json_valid(details))\n"
        ");\n"
        "CREATE INDEX events_port ON events(port) WHERE port IS NOT NULL;\n"
        "CREATE INDEX events_service ON events(service COLLATE NOCASE) WHERE service IS NOT NULL;\n"
        "CREATE INDEX events_request ON events(request_id) WHERE request_id IS NOT NULL;\n"
        "CREATE INDEX events_assignment ON events(assignment_id) WHERE assignment_id IS NOT NULL;\n"
        "CREATE INDEX events_lease ON events(lease_id) WHERE lease_id IS NOT NULL;\n"
        "CREATE TRIGGER events_never_change BEFORE UPDATE ON events\n"
        "  BEGIN SELECT RAISE(ABORT, 'the event table is append-only'); END;\n"
        "CREATE TRIGGER events_never_go BEFORE DELETE ON events\n"
        "  BEGIN SELECT RAISE(ABORT, 'the event table is append-only'); END;\n"
        /* An assignment that ends stays: state rows are never deleted either. */
        "CREATE TRIGGER services_stay BEFORE DELETE ON services\n"
        "  BEGIN SELECT RAISE(ABORT, 'services are never deleted'); END;\n"
        "CREATE TRIGGER requests_stay BEFORE DELETE ON requests\n"
        "  BEGIN SELECT RAISE(ABORT, 'requests are never deleted'); END;\n"
        "CREATE TRIGGER assignments_stay BEFORE DELETE ON assignments\n"
        "  BEGIN SELECT RAISE(ABORT, 'assignments are never deleted'); END;\n"
        "CREATE TRIGGER leases_stay BEFORE DELETE ON leases\n"
        "  BEGIN SELECT RAISE(ABORT, 'leases are never deleted'); END;\n"
        /* For people reading the file with sqlite3. */
        "CREATE VIEW events_readable AS\n"
        "  SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', time_us / 1000000.0, 'unixepoch') AS time,\n"
        "         actor, action, request_id, assignment_id, lease_id, service, port, protocol,\n"
        "         reason, details\n"
        "  FROM events;\n",
        /*
         * 2: the host of each lease holder and of each event.  Rows made
         * before have none (NULL: unknown); only the host that used the
         * registry then could have made them.
         */
        "ALTER TABLE leases ADD COLUMN host TEXT\n"
        "  CHECK (host IS NULL OR length(host) BETWEEN 1 AND 255);\n"
        "ALTER TABLE events ADD COLUMN host TEXT\n"
        "  CHECK (host IS NULL OR length(host) BETWEEN 1 AND 255);\n"
        "DROP VIEW events_readable;\n"
        "CREATE VIEW events_readable AS\n"
        "  SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', time_us / 1000000.0, 'unixepoch') AS time,\n"
        "         host, actor, action, request_id, assignment_id, lease_id, service, port,\n"
        "         protocol, reason, details\n"
        "  FROM events;\n",
        /*
         * 3: what pick and lease read instead of every holding.  held_bits
         * has a bit for each port/protocol an assignment holds, 64 ports a
         * row (block = port / 64, bit = port % 64): pick's default range is
         * 752 rows a protocol however full the registry is.  Triggers keep
         * it with holdings, whoever writes them.  Leases stay out of it: the
         * live ones are few and judged one by one.  A running quarantine is
         * found by its end, not among every assignment of its port range.
         */
        "CREATE TABLE held_bits (\n"
        "  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 1023),\n"
        "  bits INTEGER NOT NULL,\n"
        "  PRIMARY KEY (protocol, block)\n"
        ") WITHOUT ROWID;\n"
        /* Distinct powers of two: their sum is their OR and never overflows. */
        "INSERT INTO held_bits (protocol, block, bits)\n"
        "  SELECT protocol, port >> 6, sum(1 << (port & 63)) FROM holdings\n"
        "  WHERE kind = 'assignment' GROUP BY protocol, port >> 6;\n"
        "CREATE TRIGGER held_bits_add AFTER INSERT ON holdings WHEN new.kind = 'assignment'\n"
        "  BEGIN INSERT INTO held_bits (protocol, block, bits)\n"
        "    VALUES (new.protocol, new.port >> 6, 1 << (new.port & 63))\n"
        "    ON CONFLICT (protocol, block) DO UPDATE SET bits = bits | excluded.bits; END;\n"
        "CREATE TRIGGER held_bits_drop AFTER DELETE ON holdings WHEN old.kind = 'assignment'\n"
        "  BEGIN UPDATE held_bits SET bits = bits & ~(1 << (old.port & 63))\n"
        "    WHERE protocol = old.protocol AND block = old.port >> 6; END;\n"
        "CREATE TRIGGER held_bits_move AFTER UPDATE OF port, protocol, kind ON holdings\n"
        "  BEGIN UPDATE held_bits SET bits = bits & ~(1 << (old.port & 63))\n"
        "    WHERE old.kind = 'assignment' AND protocol = old.protocol\n"
        "    AND block = old.port >> 6;\n"
        "  INSERT INTO held_bits (protocol, block, bits)\n"
        "    SELECT new.protocol, new.port >> 6, 1 << (new.port & 63)\n"
        "    WHERE new.kind = 'assignment'\n"
        "    ON CONFLICT (protocol, block) DO UPDATE SET bits = bits | excluded.bits; END;\n"
        "CREATE INDEX assignments_quarantine ON assignments(quarantine_until_us, port)\n"
        "  WHERE NOT active;\n",
        /*
         * 4: the events' indexes by request, assignment and lease also hold
         * what rsap_store_check() compares (action, port, protocol, host),
         * so that its rules read the indexes and never a row of the events:
         * each replaces the index it extends.  (The counts of
         * rsap_local_counts() read migration 3's assignments_quarantine.)
         */
        "CREATE INDEX events_request_action ON events(request_id, action)\n"
        "  WHERE request_id IS NOT NULL;\n"
        "DROP INDEX events_request;\n"
        "CREATE INDEX events_assignment_made ON events(assignment_id, action, port, protocol)\n"
        "  WHERE assignment_id IS NOT NULL;\n"
        "DROP INDEX events_assignment;\n"
        "CREATE INDEX events_lease_made ON events(lease_id, action, port, host)\n"
        "  WHERE lease_id IS NOT NULL;\n"
        "DROP INDEX events_lease;\n",
        /*
         * 5: listening intervals, what rsapd saw listen (listen_history.h):
         * observations, not the registry's decisions, so rows may go
         * (retention, cap) and be folded into one with a count.  An open
         * interval has neither end nor end time; nothing ends before it
         * starts; only an ended row stands for more than one interval.
         * An open row's last sighting is its recorder's (listen_recorders).
         */
        "CREATE TABLE listen_intervals (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 255),\n"
        "  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),\n"
        "  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 45),\n"
        "  netns INTEGER NOT NULL DEFAULT 0 CHECK (netns >= 0),\n"
        "  uid INTEGER NOT NULL CHECK (uid >= 0),\n"
        "  pid INTEGER CHECK (pid IS NULL OR pid > 0),\n"
        "  pid_start INTEGER CHECK (pid_start IS NULL OR pid_start >= 0),\n"
        "  command TEXT,\n"
        "  exe TEXT,\n"
        "  owners TEXT CHECK (owners IS NULL OR json_valid(owners)),\n"
        "  started_us INTEGER NOT NULL,\n"
        "  last_seen_us INTEGER NOT NULL CHECK (last_seen_us >= started_us),\n"
        "  ended_us INTEGER CHECK (ended_us IS NULL OR ended_us >= started_us),\n"
        "  ended TEXT CHECK (ended IS NULL OR ended IN ('stopped', 'unknown')),\n"
        "  count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),\n"
        "  CHECK ((ended IS NULL) = (ended_us IS NULL)),\n"
        "  CHECK (count = 1 OR ended IS NOT NULL)\n"
        ");\n"
        "CREATE INDEX listen_intervals_port ON listen_intervals(port, started_us);\n"
        "CREATE INDEX listen_intervals_started ON listen_intervals(started_us);\n"
        "CREATE INDEX listen_intervals_ended ON listen_intervals(ended_us)\n"
        "  WHERE ended IS NOT NULL;\n"
        "CREATE INDEX listen_intervals_open ON listen_intervals(host) WHERE ended IS NULL;\n"
        /* Each recorder's last poll: the last sighting of all its open
         * intervals at once, one row a host however many are open. */
        "CREATE TABLE listen_recorders (\n"
        "  host TEXT PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 255),\n"
        "  last_seen_us INTEGER NOT NULL\n"
        ") WITHOUT ROWID;\n",
        /*
         * 6: squatter findings (rsap/findings.h), a table of their own: a
         * row is never deleted, and once written only its resolution may be
         * set, once.  A finding names its holding exactly when its kind says.
         */
        "CREATE TABLE listen_findings (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  found_us INTEGER NOT NULL,\n"
        "  resolved_us INTEGER CHECK (resolved_us IS NULL OR resolved_us >= found_us),\n"
        "  host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 255),\n"
        "  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),\n"
        "  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),\n"
        "  address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 45),\n"
        "  kind TEXT NOT NULL\n"
        "    CHECK (kind IN ('assigned-to-other', 'leased-to-other', 'unregistered')),\n"
        "  service TEXT CHECK (service IS NULL OR length(service) BETWEEN 1 AND 255),\n"
        "  assignment_id INTEGER REFERENCES assignments(id),\n"
        "  lease_id INTEGER REFERENCES leases(id),\n"
        "  owners TEXT NOT NULL CHECK (json_valid(owners) AND json_type(owners) = 'array'),\n"
        "  CHECK ((kind = 'assigned-to-other') = (assignment_id IS NOT NULL)),\n"
        "  CHECK ((kind = 'leased-to-other') = (lease_id IS NOT NULL)),\n"
        "  CHECK (kind <> 'unregistered' OR service IS NULL),\n"
        "  CHECK (kind <> 'assigned-to-other' OR service IS NOT NULL)\n"
        ");\n"
        "CREATE INDEX listen_findings_port ON listen_findings(port, protocol, found_us);\n"
        "CREATE INDEX listen_findings_open ON listen_findings(host) WHERE resolved_us IS NULL;\n"
        "CREATE TRIGGER listen_findings_stay BEFORE DELETE ON listen_findings\n"
        "  BEGIN SELECT RAISE(ABORT, 'findings are never deleted'); END;\n"
        "CREATE TRIGGER listen_findings_resolved_once BEFORE UPDATE ON listen_findings\n"
        "  WHEN old.resolved_us IS NOT NULL OR new.id IS NOT old.id\n"
        "    OR new.found_us IS NOT old.found_us OR new.host IS NOT old.host\n"
        "    OR new.port IS NOT old.port OR new.protocol IS NOT old.protocol\n"
        "    OR new.address IS NOT old.address OR new.kind IS NOT old.kind\n"
        "    OR new.service IS NOT old.service OR new.assignment_id IS NOT old.assignment_id\n"
        "    OR new.lease_id IS NOT old.lease_id OR new.owners IS NOT old.owners\n"
        "  BEGIN SELECT RAISE(ABORT, 'a finding only gets its resolution, once'); END;\n",
};

/* ---- errors ------------------------------------------------------------- */

int store_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_FORMAT:
                return -EBADMSG;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CANTOPEN:
                return -EACCES;
        case SQLITE_CONSTRAINT:
                /* A trigger's RAISE: the append-only rules, which no write
                 * of rsap's breaks; else a key. */
                return rc == SQLITE_CONSTRAINT_TRIGGER ? -ENOTRECOVERABLE : -EEXIST;
        case SQLITE_TOOBIG:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/*
 * store_errno(), but an I/O error that the system called a full disk (the
 * log or the shared-memory file could not grow) is -ENOSPC, as SQLITE_FULL
 * is: "Input/output error" would send the user looking for a bad disk.
 */
static int connection_errno(sqlite3 *db, int rc)
{
        int os = sqlite3_system_errno(db);

        if ((rc & 0xff) == SQLITE_IOERR && (os == ENOSPC || os == EDQUOT))
                return -ENOSPC;
        return store_errno(rc);
}

int store_last_errno(sqlite3 *db)
{
        return connection_errno(db, sqlite3_extended_errcode(db));
}

int store_exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : store_last_errno(db);
}

/* ---- statements ----------------------------------------------------------- */

/* A prepared statement of this SQL that nobody is using, or a free slot. */
static struct cached_statement *cache_slot(struct sqlite_conn *conn, const char *sql)
{
        struct cached_statement *free_slot = NULL;

        for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++) {
                struct cached_statement *c = &conn->cache[i];

                if (!c->stmt && !free_slot)
                        free_slot = c;
                else if (c->stmt && !c->in_use && strcmp(c->sql, sql) == 0)
                        return c;
        }
        return free_slot;
}

int query_prepare(struct rsap_store *store, const char *sql, struct query *q)
{
        struct sqlite_conn *conn;
        struct cached_statement *c;
        int rc;

        *q = (struct query){ 0 };
        rc = sqlite_ready(store);
        if (rc < 0)
                return rc;
        conn = store->conn;
        c = cache_slot(conn, sql);
        if (c && c->stmt) {
                c->in_use = true;
                *q = (struct query){ .stmt = c->stmt, .cached = c };
                return 0;
        }
        rc = sqlite3_prepare_v2(conn->db, sql, -1, &q->stmt, NULL);
        if (rc != SQLITE_OK)
                return connection_errno(conn->db, rc);
        if (c && (c->sql = strdup(sql))) {
                *c = (struct cached_statement){ c->sql, q->stmt, true };
                q->cached = c;
        }
        return 0;
}

void query_finish(struct query *q)
{
        if (q->cached) {
                /* Reset, it holds no lock and keeps no value of this use. */
                sqlite3_reset(q->stmt);
                sqlite3_clear_bindings(q->stmt);
                q->cached->in_use = false;
        } else if (q->stmt) {
                /* Not called for nothing: the call would load rsap's SQLite (cli/lazy_sqlite.c). */
                sqlite3_finalize(q->stmt);
        }
        q->stmt = NULL;
        q->cached = NULL;
}

int query_step(struct query *q)
{
        int rc;

        if (q->bind_error)
                return q->bind_error;
        rc = sqlite3_step(q->stmt);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        /* sqlite3_step returns the extended code with prepare_v2. */
        return connection_errno(sqlite3_db_handle(q->stmt), rc);
}

int query_done(struct query *q)
{
        int r = query_step(q);

        return r > 0 ? 0 : r;
}

/* The first failure is the one that explains the others. */
static void bind_result(struct query *q, int rc)
{
        if (rc != SQLITE_OK && q->bind_error == 0)
                q->bind_error = store_errno(rc) ? store_errno(rc) : -EIO;
}

void bind_int(struct query *q, int index, int64_t value)
{
        bind_result(q, sqlite3_bind_int64(q->stmt, index, value));
}

void bind_text(struct query *q, int index, const char *text)
{
        if (!text || !*text)
                bind_result(q, sqlite3_bind_null(q->stmt, index));
        else
                bind_result(q, sqlite3_bind_text(q->stmt, index, text, -1, SQLITE_TRANSIENT));
}

void bind_id(struct query *q, int index, int64_t id)
{
        if (id <= 0)
                bind_result(q, sqlite3_bind_null(q->stmt, index));
        else
                bind_int(q, index, id);
}

void bind_port(struct query *q, int index, int port)
{
        if (port < 0)
                bind_result(q, sqlite3_bind_null(q->stmt, index));
        else
                bind_int(q, index, port);
}

void bind_proto(struct query *q, int index, enum rsap_proto proto)
{
        bind_text(q, index, rsap_proto_name(proto));
}

char *column_strdup(struct query *q, int i)
{
        const unsigned char *text = sqlite3_column_text(q->stmt, i);

        errno = 0;
        return text ? strdup((const char *)text) : NULL;
}

const char *column_text(struct query *q, int i)
{
        return (const char *)sqlite3_column_text(q->stmt, i);
}

enum rsap_proto column_proto(struct query *q, int i)
{
        const char *text = column_text(q, i);
        enum rsap_proto proto = RSAP_PROTO_NONE;

        if (text && rsap_proto_parse(text, &proto) < 0)
                proto = RSAP_PROTO_NONE;
        return proto;
}

int64_t column_int(struct query *q, int i)
{
        return sqlite3_column_int64(q->stmt, i);
}

bool column_is_null(struct query *q, int i)
{
        return sqlite3_column_type(q->stmt, i) == SQLITE_NULL;
}

/* ---- transactions ----------------------------------------------------------- */

/* BEGIN IMMEDIATE: the write lock first, so every check inside sees what the write changes. */
int sqlite_begin(struct rsap_store *store)
{
        int r = store_exec(store_db(store), "BEGIN IMMEDIATE");

        if (r == 0)
                port_marks_begin(store);
        return r;
}

/* The marks of the transaction on disk before it is, its stamp after. */
int sqlite_commit(struct rsap_store *store)
{
        int r = port_marks_sync(store);

        if (r < 0)
                return r;
        port_marks_hold_stamp(store, true);
        r = store_exec(store_db(store), "COMMIT");
        if (r == 0)
                port_marks_stamp(store);
        port_marks_hold_stamp(store, false);
        return r;
}

/* The files may differ after a rollback (a spilled page), the state does not. */
void sqlite_rollback(struct rsap_store *store)
{
        port_marks_hold_stamp(store, true);
        sqlite3_exec(store_db(store), "ROLLBACK", NULL, NULL, NULL);
        port_marks_stamp(store);
        port_marks_hold_stamp(store, false);
}

/* ---- events ------------------------------------------------------------------- */

int sqlite_event_append(struct rsap_store *store, const struct store_event *ev,
                        const char *details, int64_t *id_out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "INSERT INTO events (time_us, actor, action, request_id, assignment_id,"
                              " lease_id, service, port, protocol, reason, details, host)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              &q);

        if (r < 0)
                return r;
        bind_int(&q, 1, rsap_store_now(store));
        bind_text(&q, 2, ev->actor);
        bind_text(&q, 3, ev->action);
        bind_id(&q, 4, ev->request_id);
        bind_id(&q, 5, ev->assignment_id);
        bind_id(&q, 6, ev->lease_id);
        bind_text(&q, 7, ev->service);
        bind_port(&q, 8, ev->port);
        bind_proto(&q, 9, ev->proto);
        bind_text(&q, 10, ev->reason);
        bind_text(&q, 11, details);
        bind_text(&q, 12, store->host);
        r = query_done(&q);
        if (r == 0)
                *id_out = sqlite3_last_insert_rowid(store_db(store));
        return r;
}

/* ---- opening ------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A write-ahead log with frames in it: SQLite's recovery owns the file then. */
static bool has_wal_frames(const char *path)
{
        char wal[4200];
        struct stat st;

        if (snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
                return true;
        return stat(wal, &st) == 0 && st.st_size > 0;
}

/*
 * A file cut short: SQLite notices only when it reads a missing page, which
 * a write could happen not to do.  The header's page count (valid when its
 * change counter matches, offsets 24 and 92) says how long the file must be.
 * Not while a log holds frames: a checkpoint that was interrupted writes
 * page 1 before the pages that grow the file, and replays from the log.
 */
static int check_not_truncated(const char *path)
{
        unsigned char header[100];
        struct stat st;
        uint32_t page_size, pages;
        ssize_t n;
        int fd;

        if (has_wal_frames(path))
                return 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        n = read(fd, header, sizeof(header));
        if (n < 0 || fstat(fd, &st) < 0) {
                int err = -errno;

                close(fd);
                return err;
        }
        close(fd);
        if (n == 0)
                return 0; /* empty: SQLite makes a new database of it */
        if (n < (ssize_t)sizeof(header) || memcmp(header, "SQLite format 3", 16) != 0)
                return -EBADMSG;
        page_size = (uint32_t)header[16] << 8 | header[17];
        if (page_size == 1)
                page_size = 65536;
        pages = be32(header + 28);
        if (pages != 0 && be32(header + 24) == be32(header + 92) &&
            (uint64_t)st.st_size < (uint64_t)pages * page_size)
                return -EBADMSG;
        return 0;
}

/* The one number a pragma answers (0 when it answers none). */
static int read_pragma(struct rsap_store *store, const char *pragma, int64_t *out)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, pragma, &q);

        if (r < 0)
                return r;
        r = query_step(&q);
        if (r < 0)
                return r;
        *out = r > 0 ? column_int(&q, 0) : 0;
        return 0;
}

static int read_user_version(struct rsap_store *store, int *version)
{
        int64_t value = 0;
        int r = read_pragma(store, "PRAGMA user_version", &value);

        *version = (int)value;
        return r;
}

int sqlite_schema_version(struct rsap_store *store)
{
        int version = 0;
        int r = read_user_version(store, &version);

        return r < 0 ? r : version;
}

/* PRAGMA data_version: changes when another connection commits, not for this one's own. */
int sqlite_data_version(struct rsap_store *store, int64_t *out)
{
        return read_pragma(store, "PRAGMA data_version", out);
}

/* The statements it kept, then the connection itself. */
static void conn_close(struct sqlite_conn *conn)
{
        if (!conn->db)
                return; /* never opened: a lookup answered by the port marks */
        for (size_t i = 0; i < STATEMENT_CACHE_SIZE; i++) {
                sqlite3_finalize(conn->cache[i].stmt);
                free(conn->cache[i].sql);
                conn->cache[i] = (struct cached_statement){ 0 };
        }
        sqlite3_close_v2(conn->db);
        conn->db = NULL;
}

int sqlite_location_schema_version(const char *path)
{
        struct sqlite_conn conn = { 0 };
        struct rsap_store store = { .conn = &conn };
        int version = 0, r;

        if (sqlite3_open_v2(path, &conn.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW,
                            NULL) != SQLITE_OK) {
                sqlite3_close_v2(conn.db);
                return -EIO;
        }
        r = read_user_version(&store, &version);
        conn_close(&conn);
        return r < 0 ? r : version;
}

/*
 * Version 0 is a new, empty file, unless something already made tables in
 * it.  The version and the tables are read again in one statement, so one
 * snapshot: another rsap may have just made the schema and its version in
 * one transaction (then *version is what it wrote).
 */
static int check_unversioned(struct rsap_store *store, int *version)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store,
                              "SELECT (SELECT user_version FROM pragma_user_version),"
                              " (SELECT count(*) FROM sqlite_master)",
                              &q);

        if (r < 0)
                return r;
        r = query_step(&q);
        if (r <= 0)
                return r;
        *version = (int)column_int(&q, 0);
        return *version == 0 && column_int(&q, 1) > 0 ? -EMEDIUMTYPE : 0;
}

static int apply_migrations(struct rsap_store *store)
{
        _cleanup_(store_tx_end) struct store_tx tx = { 0 };
        sqlite3 *db = store_db(store);
        char sql[64];
        int version, r;

        r = store_tx_begin(store, &tx);
        if (r < 0)
                return r;
        /* Another process may have migrated while this one waited. */
        r = read_user_version(store, &version);
        if (r < 0)
                return r;
        if (version > RSAP_STORE_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;
        for (; version < RSAP_STORE_SCHEMA_VERSION; version++) {
                r = store_exec(db, migrations[version]);
                if (r < 0)
                        return r;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", RSAP_STORE_SCHEMA_VERSION);
        r = store_exec(db, sql);
        if (r < 0)
                return r;
        return store_tx_commit(&tx);
}

/* WAL lets lookups read while a command writes; it is a property of the
 * file, set once, outside any transaction. */
static int enable_wal(struct rsap_store *store)
{
        _cleanup_(query_finish) struct query q = { 0 };
        const char *mode;
        int r = query_prepare(store, "PRAGMA journal_mode = WAL", &q);

        if (r < 0)
                return r;
        r = query_step(&q);
        if (r < 0)
                return r;
        mode = r > 0 ? column_text(&q, 0) : NULL;
        return mode && strcmp(mode, "wal") == 0 ? 0 : -EIO;
}

/*
 * The last connection to close would checkpoint the log into the file and
 * delete it: three syncs, an unlink, and the next process makes the log
 * again (a sync of the directory), most of a lease's cost as a process.
 * Instead the log stays, until it passes LOG_LIMIT: then the close that
 * finds it so checkpoints it and cuts it to nothing (sqlite_close()), once
 * every few dozen writes.  SQLite's own checkpoints after a commit do not
 * serve here: each process is the first connection, whose open rebuilds the
 * log's index and counts nothing of it as checkpointed, so a log that is
 * never restarted grows, and every open reads it whole.  The -wal and -shm
 * files staying lets a user who cannot write the directory read the
 * registry through them, log included.  (PERSIST_WAL alone would keep the
 * file but not spare the syncs; journal_size_limit only bounds its size.)
 */
#define LOG_LIMIT (1024 * 1024)

static int keep_log_on_close(sqlite3 *db)
{
        return store_errno(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL));
}

/*
 * A writer's close: the log checkpointed and emptied once it passed
 * LOG_LIMIT, and the port marks stamped again if they matched the files
 * before (a checkpoint changes both).
 */
static void checkpoint_big_log(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;
        struct stat st;
        bool trusted;

        if (!conn->log_path || stat(conn->log_path, &st) < 0 || st.st_size <= LOG_LIMIT)
                return;
        trusted = port_marks_trusted(store);
        /* Busy while another connection reads: the next close tries again. */
        (void)store_exec(conn->db, "PRAGMA wal_checkpoint(TRUNCATE)");
        if (trusted)
                port_marks_stamp(store);
}

static int prepare_for_writing(struct rsap_store *store, const char *path, int version)
{
        int r;

        if (sqlite3_db_readonly(store_db(store), "main") == 1)
                return access(path, W_OK) < 0 && errno == EACCES ? -EACCES : -EROFS;
        if (version > RSAP_STORE_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;
        /*
         * NORMAL: in WAL mode a commit survives the death of any process;
         * only a power cut may lose the last transactions (FULL would cost a
         * sync per lease).
         */
        r = store_exec(store_db(store), "PRAGMA synchronous = NORMAL");
        if (r == 0)
                r = keep_log_on_close(store_db(store));
        if (r < 0)
                return r;
        if (version == RSAP_STORE_SCHEMA_VERSION)
                return 0;
        r = enable_wal(store);
        if (r == 0)
                r = apply_migrations(store);
        /* The log stays at close (keep_log_on_close): a new or upgraded
         * schema goes into the file itself at once. */
        if (r == 0)
                r = store_exec(store_db(store), "PRAGMA wal_checkpoint(TRUNCATE)");
        return r;
}

static int check_readable_version(int version)
{
        if (version == 0)
                return -ENOENT; /* an empty file: no registry yet */
        if (version > RSAP_STORE_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;
        if (version < RSAP_STORE_SCHEMA_VERSION)
                return -ESTALE;
        return 0;
}

/* ---- waiting for the lock -------------------------------------------------- */

/*
 * SQLite's busy handler: called while another connection holds the lock,
 * with the number of times it was called for this wait.  The sleeps grow
 * (1 ms, 2 ms, 4 ms ... up to 100 ms, each with a random part, so that
 * fifty waiters do not wake together), until the budget has passed in all;
 * then 0 gives up and the statement fails with SQLITE_BUSY.
 */
static int wait_for_lock(void *data, int attempt)
{
        struct sqlite_conn *store = data;
        int64_t now = rsap_monotonic_us(), waited, step_us, left_us;
        uint32_t noise = 0;
        struct timespec pause;

        if (attempt == 0)
                store->busy_since_us = now;
        waited = now - store->busy_since_us;
        left_us = (int64_t)store->busy_budget_ms * 1000 - waited;
        if (left_us <= 0)
                return 0;
        step_us = attempt < 7 ? 1000LL << attempt : 100000;
        if (getrandom(&noise, sizeof(noise), GRND_NONBLOCK) == sizeof(noise))
                step_us = step_us / 2 + (int64_t)(noise % (uint32_t)(step_us / 2 + 1));
        if (step_us > left_us)
                step_us = left_us;
        pause.tv_sec = (time_t)(step_us / 1000000);
        pause.tv_nsec = (long)(step_us % 1000000) * 1000;
        nanosleep(&pause, NULL);
        return 1;
}

void sqlite_close(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;

        if (!conn)
                return;
        if (conn->db)
                checkpoint_big_log(store);
        free(conn->log_path);
        free(conn->deferred_path);
        if (conn->marks_fd >= 0)
                close(conn->marks_fd);
        conn_close(conn);
        free(conn);
        store->conn = NULL;
}

/* name is what SQLite opens: the path, or a "file:" URI (then uri is true). */
static int open_connection(const char *name, bool uri, enum rsap_store_mode mode,
                           int busy_timeout_ms, struct sqlite_conn *conn)
{
        int flags = mode == RSAP_STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                             : SQLITE_OPEN_READONLY;
        int rc;

        /* NOFOLLOW: a registry.db planted as a symlink is refused, not written through. */
        rc = sqlite3_open_v2(name, &conn->db,
                             flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
                                     (uri ? SQLITE_OPEN_URI : 0),
                             NULL);
        if (rc != SQLITE_OK) {
                int err = sqlite3_system_errno(conn->db);

                return err ? -err : store_errno(rc);
        }
        sqlite3_extended_result_codes(conn->db, 1);
        conn->busy_budget_ms =
                busy_timeout_ms > 0 ? busy_timeout_ms : RSAP_STORE_DEFAULT_BUSY_TIMEOUT_MS;
        sqlite3_busy_handler(conn->db, wait_for_lock, conn);
        return store_exec(conn->db, "PRAGMA foreign_keys = ON");
}

static int open_as(struct rsap_store *store, const char *path, const char *name, bool uri,
                   enum rsap_store_mode mode, int busy_timeout_ms)
{
        struct sqlite_conn *conn = calloc(1, sizeof(*conn));
        int version = 0, r;

        if (!conn)
                return -ENOMEM;
        conn->marks_fd = -1;
        store->conn = conn;
        r = open_connection(name, uri, mode, busy_timeout_ms, conn);
        if (r == 0)
                r = read_user_version(store, &version);
        if (r == 0 && version == 0)
                r = check_unversioned(store, &version);
        if (r == 0)
                r = mode == RSAP_STORE_WRITE ? prepare_for_writing(store, path, version)
                                             : check_readable_version(version);
        if (r == 0 && mode == RSAP_STORE_WRITE && asprintf(&conn->log_path, "%s-wal", path) < 0) {
                conn->log_path = NULL;
                r = -ENOMEM;
        }
        conn->marks_kept = r == 0 && mode == RSAP_STORE_WRITE;
        if (r < 0)
                sqlite_close(store);
        return r;
}

/* "file:PATH?immutable=1", with what a URI path may not hold percent-encoded. */
static int immutable_uri(const char *path, char *buf, size_t size)
{
        size_t used = (size_t)snprintf(buf, size, "file:");

        for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
                int n = *p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f
                                ? snprintf(buf + used, size - used, "%%%02X", *p)
                                : snprintf(buf + used, size - used, "%c", *p);

                if (n < 0 || (size_t)n >= size - used)
                        return -ENAMETOOLONG;
                used += (size_t)n;
        }
        return snprintf(buf + used, size - used, "?immutable=1") >= (int)(size - used)
                       ? -ENAMETOOLONG
                       : 0;
}

/* 0, or why this user cannot write path or the directory that holds it. */
static int write_access(const char *path)
{
        char dir[4200];
        const char *slash = strrchr(path, '/');

        if (access(path, W_OK) < 0 && errno != ENOENT)
                return errno == EROFS ? -EROFS : -EACCES;
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else
                snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        if (access(dir, W_OK) < 0)
                return errno == EROFS ? -EROFS : errno == ENOENT ? -ENOENT : -EACCES;
        return 0;
}

/*
 * Refused before SQLite sees them: a symlink as the database (-ELOOP), and
 * for root's writes, a directory another user controls (-EPERM, see
 * rsap_dir_check_safe), where they could swap the database or its log.
 */
static int check_planted(const char *path, enum rsap_store_mode mode)
{
        char dir[4200], why[8];
        const char *slash = strrchr(path, '/');
        struct stat st;

        if (lstat(path, &st) == 0) {
                if (S_ISLNK(st.st_mode))
                        return -ELOOP;
        } else if (mode == RSAP_STORE_READ) {
                return -errno; /* nothing to read: a lookup's most common answer */
        }
        if (mode != RSAP_STORE_WRITE)
                return 0;
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else
                snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        return rsap_dir_check_safe(dir, why, sizeof(why));
}

/*
 * open_as(), again while the file is busy, within the same budget as a busy
 * statement.  Opening may need a lock SQLite will not wait for: fifty
 * processes that find no registry.db all make it at once, and switching a
 * new file to WAL or reading its schema under another's migration can fail
 * with SQLITE_BUSY at once (SQLite skips the busy handler where waiting
 * could deadlock).  Each try starts from a fresh connection, holding nothing.
 */
static int open_retrying(struct rsap_store *store, const char *path, enum rsap_store_mode mode,
                         int busy_timeout_ms)
{
        struct sqlite_conn waiter = {
                .busy_budget_ms = busy_timeout_ms > 0 ? busy_timeout_ms
                                                      : RSAP_STORE_DEFAULT_BUSY_TIMEOUT_MS,
        };
        int r;

        for (int attempt = 0;; attempt++) {
                r = open_as(store, path, path, false, mode, busy_timeout_ms);
                if (r != -EBUSY || !wait_for_lock(&waiter, attempt))
                        return r;
        }
}

/*
 * A lookup whose port marks match the files opens nothing yet: the marks
 * may say that the ports it asks about have no entries (port_marks.c).
 */
static int defer_open(struct rsap_store *store, const char *path, int busy_timeout_ms)
{
        struct sqlite_conn *conn;
        int fd, r = port_marks_open_trusted(path, &fd);

        if (r < 0)
                return r;
        conn = calloc(1, sizeof(*conn));
        if (conn)
                conn->deferred_path = strdup(path);
        if (!conn || !conn->deferred_path) {
                free(conn);
                close(fd);
                return -ENOMEM;
        }
        conn->marks_fd = fd;
        conn->deferred_busy_ms = busy_timeout_ms;
        store->conn = conn;
        return 0;
}

static int open_now(struct rsap_store *store, const char *path, enum rsap_store_mode mode,
                    int busy_timeout_ms);

int sqlite_ready(struct rsap_store *store)
{
        struct sqlite_conn *deferred = store->conn;
        int r;

        if (deferred->db)
                return 0;
        if (!deferred->deferred_path)
                return deferred->open_error ? deferred->open_error : -EIO;
        store->conn = NULL;
        r = open_now(store, deferred->deferred_path, RSAP_STORE_READ, deferred->deferred_busy_ms);
        if (r < 0) {
                /* Kept, to say to every later call that the open failed, and why. */
                free(TAKE_PTR(deferred->deferred_path));
                deferred->open_error = r;
                store->conn = deferred;
                return r;
        }
        if (deferred->marks_fd >= 0)
                close(deferred->marks_fd);
        free(deferred->deferred_path);
        free(deferred);
        return 0;
}

int sqlite_open(struct rsap_store *store, const char *path, enum rsap_store_mode mode,
                int busy_timeout_ms)
{
        int r;

        r = check_planted(path, mode == RSAP_STORE_LOOKUP ? RSAP_STORE_READ : mode);
        if (r < 0)
                return r;
        if (mode == RSAP_STORE_LOOKUP && defer_open(store, path, busy_timeout_ms) == 0)
                return 0;
        return open_now(store, path, mode == RSAP_STORE_LOOKUP ? RSAP_STORE_READ : mode,
                        busy_timeout_ms);
}

static int open_now(struct rsap_store *store, const char *path, enum rsap_store_mode mode,
                    int busy_timeout_ms)
{
        char uri[8800];
        int r;

        r = check_not_truncated(path);
        if (r < 0)
                return r;
        r = open_retrying(store, path, mode, busy_timeout_ms);
        if (r != -EACCES && r != -EIO && r != -EROFS)
                return r;
        /* SQLite could not open the file, its log or its shared memory. */
        if (mode == RSAP_STORE_WRITE) {
                int why = write_access(path);

                return why < 0 ? why : r;
        }
        if (access(path, R_OK) < 0 || write_access(path) == 0)
                return r;
        /*
         * A WAL database in a directory this user cannot write: the log and
         * the shared-memory file cannot be made, so a lookup reads the file
         * as it stands (what a writer has not checkpointed yet is missed).
         */
        if (immutable_uri(path, uri, sizeof(uri)) < 0)
                return r;
        return open_as(store, path, uri, true, mode, busy_timeout_ms);
}

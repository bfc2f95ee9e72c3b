/* SPDX-License-Identifier: MIT */
/*
 * The port marks: registry.db-ports, beside the database, with one byte per
 * port that is 1 when some request, assignment or lease of the registry has
 * ever named the port.  `rsap 1647` asks the registry about one port, and
 * most ports have nothing in it; opening SQLite to learn that costs more
 * than the rest of the lookup together (it parses the whole schema before
 * the first statement, and rebuilds the log's index in -shm), so a lookup
 * reads one byte instead and opens SQLite only for a marked port.
 *
 * The marks are a superset, never a guess: a writer marks a port inside the
 * transaction that first names it, before the commit, and nothing unmarks
 * (rows are never removed).  They are only trusted while the database and
 * its log are exactly as the last writer left them.  After each commit the
 * writer stamps the marks with the identity, size and change time of both
 * files; a lookup compares the stamp with the files as they stand, and any
 * other hand in them (sqlite3's shell, a restored copy, a writer that died
 * between its commit and its stamp) shows as a difference: the lookup then
 * opens SQLite, and the next writer rebuilds the marks from the tables
 * under its write lock before it changes anything (SQLite's write lock
 * keeps every other writer out from there to the commit).  What this
 * cannot see is a change from outside that lands between a writer's commit
 * and its stamp, or that leaves both files' sizes alone within the kernel's
 * clock tick of the stamp.
 *
 * A power cut may keep a commit and lose the marks the commit wrote: the
 * marks of requests and assignments are synced before their commit.  Those
 * of leases are not (a sync per lease would double its cost): after a power
 * cut every lease's process is gone, and the stamp no longer matches a log
 * that lost or kept frames anyway.
 *
 * The marks are a cache: when they cannot be written (a full disk, a
 * directory the writer may not write) the writer removes them or leaves
 * them unstamped, and lookups read SQLite as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/fileio.h>

#include "sqlite.h"

#define MARKS_MAGIC "rsapprt1"
#define MARKS_PORTS 65536

/*
 * What a file was when the stamp was made: all zero for a file that was
 * absent.  Not its change time: SQLite run by root gives the log to the
 * database's owner each time it opens it (fchown), a lookup too.
 */
struct file_stamp {
        uint64_t dev, ino, size;
        int64_t mtime_sec, mtime_nsec;
};

struct marks_header {
        char magic[8];
        uint32_t schema_version;
        uint32_t stamped;        /* 0: not stamped since it was made */
        struct file_stamp db, log;
        char reserved[128 - 16 - 2 * sizeof(struct file_stamp)];
};
_Static_assert(sizeof(struct marks_header) == 128, "the header is 128 bytes on disk");

#define MARKS_SIZE (sizeof(struct marks_header) + MARKS_PORTS)

static int marks_path(const char *db_path, char *buf, size_t size)
{
        return snprintf(buf, size, "%s-ports", db_path) >= (int)size ? -ENAMETOOLONG : 0;
}

static void stamp_of(const char *path, struct file_stamp *out)
{
        struct stat st;

        memset(out, 0, sizeof(*out));
        if (stat(path, &st) < 0)
                return;
        *out = (struct file_stamp){
                .dev = st.st_dev, .ino = st.st_ino, .size = (uint64_t)st.st_size,
                .mtime_sec = st.st_mtim.tv_sec, .mtime_nsec = st.st_mtim.tv_nsec,
        };
}

/* The database and its log as they stand. */
static int files_now(const char *db_path, struct file_stamp *db, struct file_stamp *log)
{
        char log_path[4200];

        if (snprintf(log_path, sizeof(log_path), "%s-wal", db_path) >= (int)sizeof(log_path))
                return -ENAMETOOLONG;
        stamp_of(db_path, db);
        stamp_of(log_path, log);
        return 0;
}

/* A regular file of the marks' size whose header is this schema's. */
static int read_header(int fd, struct marks_header *h)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (size_t)st.st_size != MARKS_SIZE)
                return -EBADMSG;
        if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
                return -EBADMSG;
        if (memcmp(h->magic, MARKS_MAGIC, sizeof(h->magic)) != 0 ||
            h->schema_version != RSAP_STORE_SCHEMA_VERSION)
                return -EBADMSG;
        return 0;
}

/* 0 when the header's stamp is the files as they stand now, else -ESTALE. */
static int check_stamp(int fd, const char *db_path)
{
        struct marks_header h;
        struct file_stamp db, log;
        int r = read_header(fd, &h);

        if (r < 0)
                return r;
        /* The stamp first, the files after: a commit in between shows as a difference. */
        r = files_now(db_path, &db, &log);
        if (r < 0)
                return r;
        if (!h.stamped || memcmp(&h.db, &db, sizeof(db)) != 0 ||
            memcmp(&h.log, &log, sizeof(log)) != 0)
                return -ESTALE;
        return 0;
}

int port_marks_open_trusted(const char *db_path, int *fd_out)
{
        char path[4200];
        int fd, r;

        *fd_out = -1;
        r = marks_path(db_path, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = check_stamp(fd, db_path);
        if (r < 0) {
                close(fd);
                return r;
        }
        *fd_out = fd;
        return 0;
}

/* Any byte but 0 counts as a mark: a damaged byte sends the lookup to SQLite. */
static bool any_marked(const unsigned char *marks, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (marks[i])
                        return true;
        return false;
}

int port_marks_any(int fd, uint16_t low, uint16_t high, bool *any)
{
        unsigned char marks[4096];

        *any = false;
        for (uint32_t port = low; port <= high; port += sizeof(marks)) {
                size_t n = high - port + 1 < sizeof(marks) ? high - port + 1 : sizeof(marks);

                if (pread(fd, marks, n, (off_t)(sizeof(struct marks_header) + port)) !=
                    (ssize_t)n)
                        return -EIO;
                *any = any_marked(marks, n);
                if (*any)
                        return 0;
        }
        return 0;
}

bool port_marks_rule_out(struct rsap_store *store, uint16_t low, uint16_t high)
{
        struct sqlite_conn *conn = store->conn;
        bool any;

        /* Only a lookup's, checked at its open: a writer's marks are its own to keep. */
        if (conn->db || !conn->deferred_path || conn->marks_fd < 0)
                return false;
        return port_marks_any(conn->marks_fd, low, high, &any) == 0 && !any;
}

/* ---- a writer's side ---------------------------------------------------------- */

/* Every port a row of the registry names. */
static int read_named_ports(struct rsap_store *store, unsigned char *marks)
{
        _cleanup_(query_finish) struct query q = { 0 };
        int r = query_prepare(store, NAMED_PORTS_SQL, &q);

        if (r < 0)
                return r;
        while ((r = query_step(&q)) > 0) {
                int64_t port = column_int(&q, 0);

                if (port >= 0 && port < MARKS_PORTS)
                        marks[port] = 1;
        }
        return r;
}

/* The marks made anew from the tables, unstamped, in place of the old file. */
static int rebuild(struct rsap_store *store, const char *path, mode_t mode)
{
        _cleanup_(freep) unsigned char *file = calloc(1, MARKS_SIZE);
        struct marks_header *h = (struct marks_header *)file;
        int r;

        if (!file)
                return -ENOMEM;
        memcpy(h->magic, MARKS_MAGIC, sizeof(h->magic));
        h->schema_version = RSAP_STORE_SCHEMA_VERSION;
        r = read_named_ports(store, file + sizeof(*h));
        if (r < 0)
                return r;
        return rsap_file_replace(path, file, MARKS_SIZE, mode);
}

static void drop_marks(struct sqlite_conn *conn)
{
        if (conn->marks_fd >= 0)
                close(conn->marks_fd);
        conn->marks_fd = -1;
}

/* Marks that could not be kept are removed, so that no later stamp vouches for them. */
static int remove_marks(struct rsap_store *store)
{
        char path[4200];

        drop_marks(store->conn);
        if (marks_path(store->path, path, sizeof(path)) == 0 && unlink(path) < 0 &&
            errno != ENOENT)
                return -EIO;
        return 0;
}

/*
 * A writer holds a lock on the marks' first byte from just before its
 * commit until its stamp is written (port_marks_hold_stamp), an OFD lock
 * that ends with the process.  The next writer, let in by that commit,
 * would otherwise find the files changed and the stamp not yet written,
 * and rebuild the marks for nothing (175 ms on 50,000 assignments, where
 * a lease costs 6): it waits for the stamp instead, and looks again.
 */
static int stamp_lock(int fd, short type, int cmd)
{
        struct flock lock = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

        return fcntl(fd, cmd, &lock) < 0 ? -errno : 0;
}

static bool stamp_matches_once_written(int fd, const char *db_path)
{
        if (check_stamp(fd, db_path) == 0)
                return true;
        if (stamp_lock(fd, F_RDLCK, F_OFD_SETLKW) < 0)
                return false;
        (void)stamp_lock(fd, F_UNLCK, F_OFD_SETLK);
        return check_stamp(fd, db_path) == 0;
}

void port_marks_hold_stamp(struct rsap_store *store, bool hold)
{
        struct sqlite_conn *conn = store->conn;

        if (conn->marks_fd >= 0)
                (void)stamp_lock(conn->marks_fd, hold ? F_WRLCK : F_UNLCK,
                                 hold ? F_OFD_SETLKW : F_OFD_SETLK);
}

/* The marks this writer keeps, rebuilt when they are not the files' as they stand. */
static int attach_marks(struct rsap_store *store, const char *path)
{
        struct sqlite_conn *conn = store->conn;
        struct stat db;
        int r;

        conn->marks_fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (conn->marks_fd >= 0 && stamp_matches_once_written(conn->marks_fd, store->path))
                return 0;
        drop_marks(conn);
        if (stat(store->path, &db) < 0)
                return -errno;
        r = rebuild(store, path, db.st_mode & 0666);
        if (r < 0)
                return r;
        conn->marks_fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        return conn->marks_fd < 0 ? -errno : 0;
}

/*
 * Inside the write lock, before the transaction changes anything: the
 * marks are rebuilt here (and only here, where no other writer can mark
 * meanwhile) when they do not match the files.  The file is opened anew
 * each time: one removed and rebuilt by another writer since is not marked
 * in vain.  Failing, the marks are removed, so that no later stamp vouches
 * for them.
 */
void port_marks_begin(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;
        char path[4200];

        conn->marks_need_sync = false;
        if (!conn->marks_kept || marks_path(store->path, path, sizeof(path)) < 0)
                return;
        drop_marks(conn);
        if (attach_marks(store, path) < 0)
                (void)remove_marks(store);
}

int port_marks_set(struct rsap_store *store, int port, bool durable)
{
        struct sqlite_conn *conn = store->conn;
        const unsigned char one = 1;
        unsigned char mark = 0;
        off_t at = (off_t)(sizeof(struct marks_header) + (size_t)port);

        if (conn->marks_fd < 0 || port < 0 || port >= MARKS_PORTS)
                return 0;
        if (pread(conn->marks_fd, &mark, 1, at) == 1 && mark == 1)
                return 0;
        if (pwrite(conn->marks_fd, &one, 1, at) != 1)
                return remove_marks(store); /* not marked: to be trusted by no one */
        conn->marks_need_sync |= durable;
        return 0;
}

/* Marks that may not reach the disk are removed rather than trusted: the commit goes on. */
int port_marks_sync(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;

        if (conn->marks_fd < 0 || !conn->marks_need_sync)
                return 0;
        conn->marks_need_sync = false;
        return fdatasync(conn->marks_fd) == 0 ? 0 : remove_marks(store);
}

/* Whether the writer's marks still match the files (before a checkpoint at close). */
bool port_marks_trusted(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;

        return conn->marks_fd >= 0 && check_stamp(conn->marks_fd, store->path) == 0;
}

void port_marks_stamp(struct rsap_store *store)
{
        struct sqlite_conn *conn = store->conn;
        struct marks_header h;

        if (conn->marks_fd < 0 || read_header(conn->marks_fd, &h) < 0)
                return;
        if (files_now(store->path, &h.db, &h.log) < 0)
                return;
        h.stamped = 1;
        (void)!pwrite(conn->marks_fd, &h, sizeof(h), 0);
}

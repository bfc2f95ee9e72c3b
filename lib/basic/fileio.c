/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rsap/fileio.h>

/* The directory part of path, "." when it has none. */
static void dir_of(const char *path, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                snprintf(buf, size, ".");
        else
                snprintf(buf, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* ".NAME.XXXXXXXXXXXXXXXX" beside NAME: 64 random bits, so the name cannot be
 * planted in advance (a pid can). */
static int temp_name(const char *path, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');
        size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
        uint64_t bits;
        int n;

        if (getrandom(&bits, sizeof(bits), 0) != sizeof(bits))
                return -errno;
        n = snprintf(buf, size, "%.*s.%s.%016" PRIx64, (int)dir_len, path, path + dir_len, bits);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int rsap_newfile_open(struct rsap_newfile *f, const char *path, mode_t mode)
{
        int r;

        f->fd = -1;
        f->tmp[0] = '\0';
        if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path))
                return -ENAMETOOLONG;
        for (int attempt = 0; attempt < 16; attempt++) {
                r = temp_name(path, f->tmp, sizeof(f->tmp));
                if (r < 0)
                        return r;
                f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                if (f->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        r = -errno;
        f->tmp[0] = '\0';
        return r;
}

static void fsync_dir(const char *path)
{
        char dir[4096];
        int fd;

        dir_of(path, dir, sizeof(dir));
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                fsync(fd);
                close(fd);
        }
}

int rsap_newfile_commit(struct rsap_newfile *f)
{
        int r = 0;

        if (f->fd < 0)
                return -EBADF;
        if (fsync(f->fd) < 0)
                r = -errno;
        if (close(f->fd) < 0 && r == 0)
                r = -errno;
        f->fd = -1;
        if (r == 0 && rename(f->tmp, f->path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(f->tmp);
                f->tmp[0] = '\0';
                return r;
        }
        f->tmp[0] = '\0';
        fsync_dir(f->path);
        return 0;
}

void rsap_newfile_abort(struct rsap_newfile *f)
{
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        if (f->tmp[0])
                unlink(f->tmp);
        f->tmp[0] = '\0';
}

static int write_all(int fd, const void *data, size_t size)
{
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                size -= (size_t)n;
        }
        return 0;
}

int rsap_file_replace(const char *path, const void *data, size_t size, mode_t mode)
{
        struct rsap_newfile f;
        int r = rsap_newfile_open(&f, path, mode);

        if (r < 0)
                return r;
        r = write_all(f.fd, data, size);
        if (r < 0) {
                rsap_newfile_abort(&f);
                return r;
        }
        return rsap_newfile_commit(&f);
}

int rsap_dir_check_safe(const char *dir, char *why, size_t why_size)
{
        struct stat st;

        if (why_size)
                why[0] = '\0';
        if (geteuid() != 0)
                return 0;
        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : -errno; /* made by root, safe */
        if (st.st_uid != 0) {
                snprintf(why, why_size, "%s is owned by uid %ld, not root", dir, (long)st.st_uid);
                return -EPERM;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
                snprintf(why, why_size, "%s is writable by %s (mode %04o, no sticky bit)", dir,
                         st.st_mode & S_IWOTH ? "every user" : "its group",
                         (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* expected: the size fstat gave, so that one allocation and one read of it
 * usually do (a copy per doubling would cost as much as the read itself). */
static int read_fd(int fd, size_t expected, size_t max, char **data, size_t *size)
{
        size_t cap = expected + 1 > 1 << 16 ? expected + 1 : 1 << 16, used = 0;
        char *buf = malloc(cap + 1);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (used == cap) {
                        char *p;

                        if (cap > max) {
                                free(buf);
                                return -EFBIG;
                        }
                        cap *= 2;
                        p = realloc(buf, cap + 1);
                        if (!p) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = p;
                }
                n = read(fd, buf + used, cap - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;

                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        if (used > max) {
                free(buf);
                return -EFBIG;
        }
        buf[used] = '\0';
        *data = buf;
        *size = used;
        return 0;
}

/* The file, opened without blocking and checked to be regular: fd or -errno. */
static int open_regular(const char *path, size_t max, struct stat *st)
{
        int fd, r;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0)
                r = -errno;
        else if (S_ISDIR(st->st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st->st_mode))
                r = -EINVAL;
        else if ((uint64_t)st->st_size > max)
                r = -EFBIG;
        else
                r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ? -errno : 0;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

#define HUGE_PAGE (2u << 20)

/* Anonymous memory of at least size bytes, 2 MiB aligned when that large. */
static void *map_anonymous(size_t size, size_t *mapped)
{
        size_t len = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        char *raw, *aligned;

        raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
        if (raw == MAP_FAILED)
                return NULL;
        aligned = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (aligned > raw)
                munmap(raw, (size_t)(aligned - raw));
        if (raw + len + HUGE_PAGE > aligned + len)
                munmap(aligned + len, (size_t)(raw + len + HUGE_PAGE - (aligned + len)));
        madvise(aligned, len, MADV_HUGEPAGE); /* a hint: without THP, small pages */
        *mapped = len;
        return aligned;
}

int rsap_file_copy_read(const char *path, size_t max, struct rsap_file_copy *out)
{
        struct stat st;
        size_t used = 0;
        char *buf;
        ssize_t n;
        int fd, r = 0;

        memset(out, 0, sizeof(*out));
        fd = open_regular(path, max, &st);
        if (fd < 0)
                return fd;
        buf = map_anonymous((size_t)st.st_size + 1, &out->mapped);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        /* One byte more than fstat said: reading it means the file grew. */
        while (used <= (size_t)st.st_size) {
                n = read(fd, buf + used, (size_t)st.st_size + 1 - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                used += (size_t)n;
        }
        close(fd);
        if (r == 0 && used > (size_t)st.st_size)
                r = -EAGAIN;
        if (r < 0) {
                munmap(buf, out->mapped);
                out->mapped = 0;
                return r;
        }
        out->data = buf;
        out->size = used;
        return 0;
}

void rsap_file_copy_free(struct rsap_file_copy *copy)
{
        if (copy->data)
                munmap(copy->data, copy->mapped);
        memset(copy, 0, sizeof(*copy));
}

int rsap_read_regular_file(const char *path, size_t max, void **data, size_t *size)
{
        struct stat st;
        char *buf = NULL;
        int fd, r;

        *data = NULL;
        *size = 0;
        /* Not blocking: opening a FIFO with no writer must not wait for one. */
        fd = open_regular(path, max, &st);
        if (fd < 0)
                return fd;
        r = read_fd(fd, (size_t)st.st_size, max, &buf, size);
        close(fd);
        if (r < 0)
                return r;
        *data = buf;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Files rsap writes and reads where someone else may have a hand in the
 * directory.  A new file is made beside its target under a name nobody can
 * guess, with O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or symlink is never
 * written through), flushed to disk and renamed over the target: a reader
 * sees the old file or the new one, never half of one.
 */

struct rsap_newfile {
        int fd;          /* write here; -1 once committed or aborted */
        char path[4096]; /* the target */
        char tmp[4200];  /* the file being written, in the target's directory */
};

/* Creates the temporary file (mode, less the umask): 0 or -errno. */
int rsap_newfile_open(struct rsap_newfile *f, const char *path, mode_t mode);
/* fsync, close, rename over the target, fsync the directory: 0 or -errno
 * (the temporary file is removed on failure). */
int rsap_newfile_commit(struct rsap_newfile *f);
/* Closes and removes the temporary file; harmless after commit. */
void rsap_newfile_abort(struct rsap_newfile *f);
/* open + write + commit. */
int rsap_file_replace(const char *path, const void *data, size_t size, mode_t mode);

/*
 * Whether root may write into dir: not when another user owns it, nor when
 * its group or others may write it without the sticky bit (they could then
 * swap files under root).  0, or -EPERM with why (one phrase) in why[].
 * Always 0 for other users, who can only hurt themselves.
 */
int rsap_dir_check_safe(const char *dir, char *why, size_t why_size);

/*
 * Reads a whole regular file into a malloc'ed buffer (*data, *size; one
 * spare NUL byte after the end).  Never blocks on a FIFO or a device:
 * -EINVAL for what is not a regular file, -EISDIR, -EFBIG past max bytes.
 */
int rsap_read_regular_file(const char *path, size_t max, void **data, size_t *size);

/*
 * A private copy of a large file, such as the cached snapshot: read whole
 * into anonymous memory, in 2 MiB pages where the kernel gives them (faulting
 * in 800 small pages costs more than copying 3 MB).  Same refusals as
 * rsap_read_regular_file(); -EAGAIN when the file grew while it was read.
 */
struct rsap_file_copy {
        void *data;
        size_t size;
        size_t mapped; /* for rsap_file_copy_free */
};

int rsap_file_copy_read(const char *path, size_t max, struct rsap_file_copy *out);
void rsap_file_copy_free(struct rsap_file_copy *copy);

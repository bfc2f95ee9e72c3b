/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * Readers of /proc/PID, defined once for the owner walk, lease liveness and
 * rsapd's port server.  proc_fd is an open directory of /proc (the walk opens
 * it once), or -1 for the absolute path.  A process that is gone, or whose
 * file vanished midway, is -ESRCH; a file in a shape the kernel never writes,
 * -EBADMSG.
 */

/* Reads /proc/PID/NAME whole (at most size - 1 bytes), NUL-terminated: its length. */
ssize_t rsap_proc_read(int proc_fd, pid_t pid, const char *name, char *buf, size_t size);

/* From /proc/PID/stat. */
struct rsap_proc_stat {
        char state;          /* field 3: 'R', 'S', ..., 'Z' for a zombie */
        pid_t ppid;          /* field 4 */
        uint64_t start_time; /* field 22: clock ticks after boot */
};
int rsap_proc_stat(int proc_fd, pid_t pid, struct rsap_proc_stat *out);

/* The "Uid:" line of /proc/PID/status. */
struct rsap_proc_uids {
        uid_t real, effective, saved;
};
int rsap_proc_uids(int proc_fd, pid_t pid, struct rsap_proc_uids *out);

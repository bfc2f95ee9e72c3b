/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rsap/basic.h>
#include <rsap/proc.h>

ssize_t rsap_proc_read(int proc_fd, pid_t pid, const char *name, char *buf, size_t size)
{
        char path[64];
        _cleanup_(closep) int fd = -1;
        ssize_t n;

        if (proc_fd >= 0) {
                snprintf(path, sizeof(path), "%d/%s", (int)pid, name);
                fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
        } else {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        buf[n] = '\0';
        return n;
}

/* The fields after "pid (comm) ": comm may hold spaces and parentheses, so
 * they start after the last ')'. */
int rsap_proc_stat(int proc_fd, pid_t pid, struct rsap_proc_stat *out)
{
        char buf[1024];
        const char *p;
        int ppid;
        ssize_t n = rsap_proc_read(proc_fd, pid, "stat", buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        if (n == 0)
                return -ESRCH;
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || sscanf(p + 2, "%c %d", &out->state, &ppid) != 2)
                return -EBADMSG;
        out->ppid = ppid;
        p += 2;
        /* Field 3 is the state; 19 more spaces lead to field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        return sscanf(p, "%" SCNu64, &out->start_time) == 1 ? 0 : -EBADMSG;
}

int rsap_proc_uids(int proc_fd, pid_t pid, struct rsap_proc_uids *out)
{
        char status[4096];
        unsigned long real, effective, saved;
        const char *line;
        ssize_t n = rsap_proc_read(proc_fd, pid, "status", status, sizeof(status));

        if (n < 0)
                return (int)n;
        line = strstr(status, "\nUid:");
        if (!line)
                return n == 0 ? -ESRCH : -EBADMSG;
        if (sscanf(line, "\nUid: %lu %lu %lu", &real, &effective, &saved) != 3)
                return -EBADMSG;
        *out = (struct rsap_proc_uids){ (uid_t)real, (uid_t)effective, (uid_t)saved };
        return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * landlock-shim MODE COMMAND [ARG]...: runs the command on this kernel as if
 * its Landlock were older or absent, by changing what the kernel answers to
 * landlock_create_ruleset() under a seccomp filter (so that rsap's probe is
 * the real one; rsap has no switch for tests):
 *   enosys      every call fails with ENOSYS (a kernel without Landlock)
 *   eopnotsupp  every call fails with EOPNOTSUPP (Landlock turned off)
 *   abi3        the version probe answers 3 (Linux 6.2 to 6.6: no network
 *               rules); other calls reach the kernel, which still honours
 *               them, so a program that ignores the answer is caught
 * abi3 needs a supervisor: the shim stays as the command's parent and
 * answers the filter's notifications, then exits with the command's status
 * (128 + N when signal N killed it).  Exit status 77 where seccomp's user
 * notification is missing, 2 on bad arguments.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH AUDIT_ARCH_I386
#else
#define ARCH 0
#endif

/* landlock_create_ruleset gets action; everything else is allowed. */
static int install(__u32 action, unsigned flags)
{
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_landlock_create_ruleset, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, action),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* The version probe answers 3; the other calls go on to the kernel. */
static void answer(int listener)
{
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;

        memset(&req, 0, sizeof(req));
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                return;
        memset(&resp, 0, sizeof(resp));
        resp.id = req.id;
        if (req.data.args[2] & LANDLOCK_CREATE_RULESET_VERSION)
                resp.val = 3;
        else
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller is gone */
}

static int status_of(pid_t pid)
{
        int status;

        if (waitpid(pid, &status, 0) < 0)
                return 2;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int supervise(char **command)
{
        int listener = install(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        pid_t pid;
        int pidfd;

        if (listener < 0) {
                fprintf(stderr, "landlock-shim: no seccomp user notification: %s\n",
                        strerror(errno));
                return 77;
        }
        pid = fork();
        if (pid == 0) {
                close(listener);
                execvp(command[0], command);
                _exit(127);
        }
        pidfd = pid > 0 ? (int)syscall(__NR_pidfd_open, pid, 0) : -1;
        if (pidfd < 0)
                return 2;
        for (;;) {
                struct pollfd fds[2] = { { listener, POLLIN, 0 }, { pidfd, POLLIN, 0 } };

                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        return 2;
                if (fds[0].revents & POLLIN)
                        answer(listener);
                if (fds[1].revents & POLLIN)
                        return status_of(pid);
        }
}

int main(int argc, char **argv)
{
        int err;

        if (ARCH == 0) {
                fprintf(stderr, "landlock-shim: no seccomp architecture known for this build\n");
                return 77;
        }
        if (argc < 3)
                return 2;
        if (strcmp(argv[1], "abi3") == 0)
                return supervise(argv + 2);
        if (strcmp(argv[1], "enosys") == 0)
                err = ENOSYS;
        else if (strcmp(argv[1], "eopnotsupp") == 0)
                err = EOPNOTSUPP;
        else
                return 2;
        if (install(SECCOMP_RET_ERRNO | (__u32)err, 0) < 0) {
                fprintf(stderr, "landlock-shim: cannot install the filter: %s\n", strerror(errno));
                return 77;
        }
        execvp(argv[2], argv + 2);
        fprintf(stderr, "landlock-shim: %s: %s\n", argv[2], strerror(errno));
        return 127;
}

/* SPDX-License-Identifier: MIT */
/*
 * Landlock's TCP bind rules through its three system calls (glibc has no
 * wrappers).  The structures are mirrored here because the headers of older
 * distributions (Debian 12's linux-libc-dev is 6.1) predate the network
 * rules; the kernel reads each structure by the size it is given.
 */
#include <errno.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rsap/basic.h>
#include <rsap/landlock.h>

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define RULE_NET_PORT 2           /* LANDLOCK_RULE_NET_PORT */
#define ACCESS_NET_BIND_TCP 1ULL  /* LANDLOCK_ACCESS_NET_BIND_TCP */

/* struct landlock_ruleset_attr of ABI 4: no file system access handled. */
struct ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
};

/* struct landlock_net_port_attr */
struct net_port_attr {
        uint64_t allowed_access;
        uint64_t port;
} __attribute__((packed));

int rsap_landlock_abi(void)
{
        long abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
                           LANDLOCK_CREATE_RULESET_VERSION);

        return abi < 0 ? -errno : (int)abi;
}

bool rsap_landlock_has_net(int abi)
{
        return abi >= RSAP_LANDLOCK_NET_ABI;
}

/* A ruleset that handles TCP binds only: what it does not name stays free. */
static int bind_ruleset(void)
{
        struct ruleset_attr attr = { .handled_access_net = ACCESS_NET_BIND_TCP };
        long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);

        return fd < 0 ? -errno : (int)fd;
}

static int allow_port(int ruleset, uint16_t port)
{
        struct net_port_attr rule = { .allowed_access = ACCESS_NET_BIND_TCP, .port = port };

        if (syscall(__NR_landlock_add_rule, ruleset, RULE_NET_PORT, &rule, 0) < 0)
                return -errno;
        return 0;
}

int rsap_landlock_restrict_tcp_bind(const uint16_t *ports, size_t n_ports)
{
        _cleanup_(closep) int ruleset = -1;
        int abi = rsap_landlock_abi();
        int r;

        if (abi < 0)
                return abi;
        if (!rsap_landlock_has_net(abi))
                return -EOPNOTSUPP;
        ruleset = bind_ruleset();
        if (ruleset < 0)
                return ruleset;
        for (size_t i = 0; i < n_ports; i++) {
                r = allow_port(ruleset, ports[i]);
                if (r < 0)
                        return r;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (syscall(__NR_landlock_restrict_self, ruleset, 0) < 0)
                return -errno;
        return 0;
}

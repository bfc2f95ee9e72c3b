/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Landlock's network rules (Linux 6.7 and later, no privilege needed): a
 * process may bind TCP sockets to the ports it names, and to no other.
 * Connections are left free, and so are UDP, SCTP and the file system:
 * Landlock's network rules know TCP binds and connects only.
 */

/* The first Landlock ABI with network rules (LANDLOCK_ACCESS_NET_BIND_TCP). */
#define RSAP_LANDLOCK_NET_ABI 4

/*
 * The ABI the kernel offers (1, 2, ...), asked with
 * LANDLOCK_CREATE_RULESET_VERSION; -ENOSYS when the kernel has no Landlock,
 * -EOPNOTSUPP when it was built in but is off (not in the lsm= list).
 */
int rsap_landlock_abi(void);
/* Whether an answer of rsap_landlock_abi() has network rules. */
bool rsap_landlock_has_net(int abi);

/*
 * Restricts the calling thread, and every process it starts or becomes
 * after (execve keeps it; nothing takes it back), to binding TCP sockets
 * to the ports listed (port 0 in the list: a bind to port 0, which the
 * kernel gives an ephemeral port).  Sets no_new_privs first, as Landlock
 * asks of a thread without CAP_SYS_ADMIN.  Errors: -EOPNOTSUPP when the
 * ABI is older than RSAP_LANDLOCK_NET_ABI, the probe's codes above, or the
 * system calls' own.  Nothing is restricted unless it returns 0.
 */
int rsap_landlock_restrict_tcp_bind(const uint16_t *ports, size_t n_ports);

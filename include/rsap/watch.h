/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rsap/listen.h>

/*
 * The change engine: which sockets start and stop listening on this host (in
 * the caller's network namespace), as they do.
 *
 * Starts are seen by a listen-only dump every interval (TCP in LISTEN, UDP
 * unconnected, and SCTP and DCCP listeners where the kernel has them),
 * diffed against the one before by the kernel's socket cookie (the inode
 * from /proc/net); owners are looked up for the new sockets alone.  Stops
 * are seen at once from sock_diag's destroy events (the multicast groups
 * SKNLGRP_INET_TCP_DESTROY, _UDP_ and their INET6 twins, which an
 * unprivileged process may join), matched against the listening set by
 * cookie, and otherwise by the next dump: a socket that stops listening
 * without being destroyed (shutdown(), a UDP connect()), a transport without
 * destroy events, a kernel or sandbox that sends none, events lost to a full
 * receive buffer (which makes the next dump due at once).
 *
 * A caller runs a loop: poll() rsap_watch_fd() for POLLIN with
 * rsap_watch_timeout_ms() as the timeout, then rsap_watch_step().  Within
 * one step the stops come first, each as it was seen; then the starts of the
 * dump, sorted as rsap_listen_collect sorts.  A socket that starts and stops
 * between two dumps is never reported.  Without privileges the owners of
 * other users' sockets are unknown: the socket says so (owners_hidden), and
 * nothing is guessed.
 *
 * Everything here returns 0 or a negative errno code and never prints.
 */
enum rsap_watch_change { RSAP_WATCH_STARTED, RSAP_WATCH_STOPPED };

struct rsap_watch_event {
        enum rsap_watch_change change;
        int64_t at_us;                           /* CLOCK_REALTIME, microseconds, when seen */
        const struct rsap_listen_socket *socket; /* owners filled when asked; valid during the callback */
        /* The list socket is in (&list->sockets[index]), for what takes a
         * list and an index: rsap_listen_socket_to_json().  Its source and
         * owners_looked_up are the engine's. */
        const struct rsap_listen_list *list;
        size_t index;
};

struct rsap_watch_options {
        unsigned interval_ms;                    /* listen-only dump period; 0 = 1000 */
        struct rsap_listen_filter filter;        /* protocols, ports, owners wanted, as for collect */
        /* The first step does not report the sockets already listening: a
         * caller that wants only what changes from now on (the command
         * line); without it they come as STARTED, so that a recorder knows
         * the state it starts from. */
        bool quiet_start;
};

struct rsap_watch;

typedef int (*rsap_watch_fn)(const struct rsap_watch_event *ev, void *userdata); /* <0 stops */

/*
 * A new engine; the first dump is due at once.  The filter's namespace must
 * be the caller's own (RSAP_LISTEN_NETNS_OWN: destroy events come from one
 * namespace): else -EINVAL.  -EPROTONOSUPPORT, -EAFNOSUPPORT and -ENOMEM as
 * rsap_listen_collect.  o is copied.
 */
int rsap_watch_new(const struct rsap_watch_options *o, struct rsap_watch **out);

/* The descriptor to poll() for POLLIN: destroy events wait.  -1 when the
 * kernel gives none (the /proc/net source, a sandbox that refuses the
 * groups): then the timeout alone paces the loop, and poll() ignores it. */
int rsap_watch_fd(const struct rsap_watch *w);

/* Milliseconds until the next dump is due, 0 when it is. */
int rsap_watch_timeout_ms(const struct rsap_watch *w);

/*
 * Reads the destroy events that wait, then dumps if a dump is due, calling
 * fn for each change.  fn returning < 0 stops the calls: the step still
 * brings the engine's state up to date (the changes not told are not told
 * again) and returns that value.  Otherwise 0, or the error of a dump.
 */
int rsap_watch_step(struct rsap_watch *w, rsap_watch_fn fn, void *userdata);

void rsap_watch_free(struct rsap_watch *w);
void rsap_watch_freep(struct rsap_watch **w);

/* How many sockets the engine knows to be listening now. */
size_t rsap_watch_count(const struct rsap_watch *w);

/* SPDX-License-Identifier: MIT */
#pragma once

/* What the files of lib/listen share and no one else sees (list.c). */
#include <sys/stat.h>

#include <rsap/listen.h>

/* Takes a malloc'ed block into list's keeping: freed with the list, or at
 * once when that fails (then NULL). */
void *rsap_listen_keep(struct rsap_listen_list *list, void *block);
/* A copy of text (NULL for NULL) the list keeps: 0 or -ENOMEM. */
int rsap_listen_keep_string(struct rsap_listen_list *list, const char *text, const char **out);
void rsap_listen_blocks_free(struct rsap_listen_list *list);

/* The name of the namespace ns (its file's device and inode) in /run/netns,
 * kept in list, or NULL: 0 or -ENOMEM (origin.c). */
int rsap_listen_netns_name(struct rsap_listen_list *list, const struct stat *ns,
                           const char **out);
/* The sockets of the namespaces f->netns asks for, each labelled with its
 * own as origin (netns.c); every error rsap_listen_collect lists. */
int rsap_listen_read_namespaces(const struct rsap_listen_filter *f,
                                struct rsap_listen_list *list);
/* What rsap_listen_collect does to the sockets it has read: narrowed to
 * f's pid, given their origin, owners and user names, and sorted (listen.c);
 * the change engine (watch.c) does it to the new sockets alone. */
int rsap_listen_complete(const struct rsap_listen_filter *f, struct rsap_listen_list *list);

/* SPDX-License-Identifier: MIT */
#pragma once

/* What the files of lib/listen share and no one else sees (list.c). */
#include <rsap/listen.h>

/* Takes a malloc'ed block into list's keeping: freed with the list, or at
 * once when that fails (then NULL). */
void *rsap_listen_keep(struct rsap_listen_list *list, void *block);
/* A copy of text (NULL for NULL) the list keeps: 0 or -ENOMEM. */
int rsap_listen_keep_string(struct rsap_listen_list *list, const char *text, const char **out);
void rsap_listen_blocks_free(struct rsap_listen_list *list);

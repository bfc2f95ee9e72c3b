/* SPDX-License-Identifier: MIT */
#pragma once

#include "rsapd.h"

struct http_server;

/* Binds every --listen address and starts serving: 0 or -errno with a reason. */
int http_start(struct rsapd *d, struct http_server **out, char *why, size_t why_size);
/* Stops accepting; requests under way go on. */
void http_quiesce(struct http_server *s);
/* Waits until no request is under way, at most timeout_ms: true when idle. */
bool http_wait_idle(struct http_server *s, int timeout_ms);
/* Closes every connection and frees the server. */
void http_stop(struct http_server *s);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The name this host goes by in what rsap reports: $RSAP_HOST when set and
 * not empty (so that tests and agents can speak for another host), else the
 * kernel's nodename (uname), else "localhost", cut at 255 bytes, with every
 * byte that is not printable ASCII (a space, a control, UTF-8) made '?'.
 * Read on first use and kept for the life of the process; never NULL.
 */
const char *rsap_host_name(void);

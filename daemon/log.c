/* SPDX-License-Identifier: MIT */
/*
 * rsapd's log: one line per event on stderr, which systemd gives the
 * journal.  Under the journal ($JOURNAL_STREAM) the prefix goes, as the
 * journal names the unit already.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsapd.h"

static const char *log_prefix = "rsapd: ";

void rsapd_log(const char *fmt, ...)
{
        char line[1024];
        size_t n;
        va_list ap;
        int len;

        len = snprintf(line, sizeof(line), "%s", log_prefix);
        va_start(ap, fmt);
        vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
        va_end(ap);
        n = strlen(line);
        line[n++] = '\n';
        /* One write per line, so lines from several threads never interleave. */
        if (write(STDERR_FILENO, line, n) < 0)
                return;
}

void rsapd_log_init(void)
{
        if (getenv("JOURNAL_STREAM"))
                log_prefix = "";
}

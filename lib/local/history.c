/* SPDX-License-Identifier: MIT */
/* The history of a port, a name or a record: every event recorded for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workflow_internal.h"

/* ---- history ------------------------------------------------------------------- */

static void event_clear(struct rsap_event *e)
{
        free(e->actor);
        free(e->action);
        free(e->service);
        free(e->reason);
        free(e->details);
        free(e->host);
        memset(e, 0, sizeof(*e));
}

void rsap_history_clear(struct rsap_history *h)
{
        for (size_t i = 0; i < h->n_events; i++)
                event_clear(&h->events[i]);
        free(h->events);
        memset(h, 0, sizeof(*h));
}

int rsap_history(struct rsap_store *store, const struct rsap_target *target,
                 struct rsap_history *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        out->target = *target;
        r = STORE_OP(store, history)(store, target, out);
        if (r < 0)
                rsap_history_clear(out);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * rsapd: IANA's registry and this host's ports as a service on port 1647,
 * registered to "rsap".  This file only starts and stops: it opens what the
 * daemon shares (state.c), starts the HTTP server and the port server, tells
 * systemd when it is ready, and stops in order on SIGTERM: no new
 * connections, requests under way finished, then out.  SIGHUP opens the
 * registry again (after rsap update).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rsap/paths.h>
#include <rsap/store.h>

#include "http.h"
#include "rsapd.h"

#define STOP_GRACE_MS 10000

/* ---- systemd ----------------------------------------------------------------- */

/*
 * sd_notify(3)'s protocol, which is one datagram to $NOTIFY_SOCKET (a path,
 * or '@' for the abstract namespace): a few lines, no libsystemd.
 */
static void notify_systemd(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        size_t n;
        int fd;

        if (!path || (path[0] != '/' && path[0] != '@'))
                return;
        n = strlen(path);
        if (n >= sizeof(sun.sun_path))
                return;
        memcpy(sun.sun_path, path, n);
        if (path[0] == '@')
                sun.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                rsapd_log("cannot notify systemd: %s", strerror(errno));
        close(fd);
}
/* ---- running ------------------------------------------------------------------------ */

/* 10,000 keep-alive connections need as many descriptors: take what the hard limit allows. */
static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int open_everything(struct rsapd *d)
{
        char why[256];
        int r;

        r = rsap_data_dir(d->cfg.db_dir, d->data_dir, sizeof(d->data_dir));
        if (r == 0)
                r = rsap_cache_path(d->data_dir, d->cache_path, sizeof(d->cache_path));
        if (r < 0) {
                rsapd_log("cannot find the data directory: %s", strerror(-r));
                return r;
        }
        r = rsapd_registry_reload(d);
        if (r < 0) {
                rsapd_log("cannot open the registry in %s: %s", d->data_dir, strerror(-r));
                return r;
        }
        r = rsapd_store_open(d);
        if (r < 0)
                return r;
        r = store_follow_start(d, &d->follow);
        if (r < 0) {
                rsapd_log("cannot follow the local registry's changes: %s", strerror(-r));
                return r;
        }
        if (d->cfg.token_file) {
                r = auth_load(&d->auth, d->cfg.token_file, why, sizeof(why));
                if (r < 0) {
                        rsapd_log("refusing the token file %s: %s", d->cfg.token_file, why);
                        return r;
                }
        }
        d->metrics = metrics_new();
        if (!d->metrics)
                return -ENOMEM;
        r = listeners_start(d, d->cfg.listeners_interval_ms, &d->listeners);
        if (r < 0) {
                rsapd_log("cannot start the socket snapshot: %s", strerror(-r));
                return r;
        }
        r = reaper_start(d, &d->reaper);
        if (r < 0) {
                rsapd_log("cannot start the lease reaper: %s", strerror(-r));
                return r;
        }
        /* Before the recorder, whose hooks it adds; without it rsapd still serves. */
        r = findings_start(d, &d->findings);
        if (r < 0)
                rsapd_log("cannot follow listeners for squatter findings: %s", strerror(-r));
        r = recorder_start(d, &d->recorder);
        if (r < 0) {
                rsapd_log("cannot start recording the listening history: %s", strerror(-r));
                return r;
        }
        r = figures_start(d, d->cfg.metrics_interval_s, &d->figures);
        if (r < 0) {
                rsapd_log("cannot start the metrics refresh: %s", strerror(-r));
                return r;
        }
        if (d->cfg.portserver_path) {
                r = portserver_start(d, &d->portserver);
                if (r < 0) {
                        rsapd_log("cannot start the port server on %s: %s",
                                  d->cfg.portserver_path, strerror(-r));
                        return r;
                }
                rsapd_log("port server on %s, ports %u-%u", d->cfg.portserver_path,
                          d->cfg.pool_low, d->cfg.pool_high);
        }
        return 0;
}

static void announce(const struct rsapd *d)
{
        char status[256];

        for (size_t i = 0; i < d->cfg.n_listen; i++)
                rsapd_log("listening on http://%s/", d->cfg.listen[i].text);
        if (!d->auth.token)
                rsapd_log("no --token-file: writes are refused");
        snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s%s", d->cfg.listen[0].text,
                 d->cfg.n_listen > 1 ? " and more" : "");
        notify_systemd(status);
}

/* Waits for signals: SIGHUP reloads, SIGTERM and SIGINT return. */
static void wait_for_stop(struct rsapd *d, const sigset_t *signals)
{
        for (;;) {
                int sig = 0;

                if (sigwait(signals, &sig) != 0)
                        continue;
                if (sig != SIGHUP)
                        return;
                notify_systemd("RELOADING=1");
                if (rsapd_registry_reload(d) < 0)
                        rsapd_log("SIGHUP: cannot open the registry again; the old one answers");
                else
                        rsapd_log("SIGHUP: registry opened again");
                notify_systemd("READY=1");
        }
}

static void stop_everything(struct rsapd *d, struct http_server *http)
{
        notify_systemd("STOPPING=1");
        atomic_store(&d->stopping, true);
        if (http) {
                http_quiesce(http);
                if (!http_wait_idle(http, STOP_GRACE_MS))
                        rsapd_log("requests still under way after %d s: closing them",
                                  STOP_GRACE_MS / 1000);
                http_stop(http);
        }
        portserver_stop(d->portserver);
        figures_stop(d->figures); /* before the store it reads */
        reaper_stop(d->reaper);
        recorder_stop(d->recorder); /* before the store it writes, and the hooks it calls */
        findings_stop(d->findings);
        d->findings = NULL;
        listeners_stop(d->listeners);
        store_follow_stop(d->follow);
        rsap_store_close(d->store);
        metrics_free(d->metrics);
        auth_clear(&d->auth);
        rsapd_registry_put(d->registry);
}

int main(int argc, char **argv)
{
        static struct rsapd d = { .store_lock = PTHREAD_MUTEX_INITIALIZER };
        struct http_server *http = NULL;
        sigset_t signals;
        char why[256];
        int r;

        r = rsapd_parse_options(argc, argv, &d.cfg);
        if (r != 0)
                return r > 0 ? 0 : 2;
        rsapd_log_init();
        signal(SIGPIPE, SIG_IGN);
        /* Every thread inherits this mask, so the signals come to sigwait() only. */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        raise_fd_limit();

        r = open_everything(&d);
        if (r == 0) {
                r = http_start(&d, &http, why, sizeof(why));
                if (r < 0)
                        rsapd_log("%s", why);
        }
        if (r < 0) {
                stop_everything(&d, NULL);
                return 1;
        }
        /* The first snapshot was taken before rsapd listened. */
        listeners_refresh_now(d.listeners);
        announce(&d);
        wait_for_stop(&d, &signals);
        rsapd_log("stopping");
        stop_everything(&d, http);
        rsapd_log("stopped");
        return 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rsap/port.h>
#include <rsap/workflow.h>

/*
 * The ports a deployment (a Compose file, a Kubernetes manifest) would take
 * on a host, and what stands in their way there: rsap check.  The YAML walk
 * is the front end's; here are the pure parsers of what it finds, and the
 * findings for one port.  Nothing here prints or exits.  Errors:
 *   -EINVAL    malformed text
 *   -ERANGE    a port number past 65535, or ranges of different lengths
 *   -ENOENT    a variable that ${VAR:?} or ${VAR?} requires is not set
 *   -ENOSPC    the result does not fit the buffer
 */

/* One entry of a Compose service's "ports:", in either syntax. */
struct rsap_deploy_ports {
        bool has_host;            /* false: a container port only, no host port taken */
        char host_ip[64];         /* "" for every address; IPv6 without brackets */
        uint16_t host_low, host_high;
        uint16_t target_low, target_high;
        enum rsap_proto proto;    /* RSAP_PROTO_TCP when the entry names none */
};

/*
 * Compose's short syntax: [[HOST_IP:]HOST:]CONTAINER[/PROTO], each port a
 * number or a range A-B, HOST_IP an IPv4 address or a bracketed IPv6 one
 * ("[::1]:6001:6001"; bare IPv6 too, split at its last colons).  "80" and
 * "127.0.0.1::80" take no fixed host port (has_host false).  A host range
 * maps onto an equal container range, or onto one container port (the
 * engine then takes one port of the range).
 */
int rsap_compose_port_parse(const char *text, struct rsap_deploy_ports *out);

/* "8080" or "8080-8081": the long syntax's "published", into low..high. */
int rsap_deploy_range_parse(const char *text, uint16_t *low, uint16_t *high);

/*
 * Compose's interpolation of one value: $$ is a $, $VAR and ${VAR} the
 * variable ("" when unset), ${VAR:-default} the default when VAR is unset
 * or empty, ${VAR-default} only when unset, ${VAR:+alt} / ${VAR+alt} the
 * alternative when set, ${VAR:?msg} / ${VAR?msg} -ENOENT when missing
 * (*missing, when not NULL, gets the variable's name).  Defaults may hold
 * ${...} themselves, up to a few levels.  lookup returns NULL for unset.
 */
typedef const char *rsap_env_lookup(const char *name, void *arg);
int rsap_compose_interpolate(const char *text, rsap_env_lookup *lookup, void *arg, char *out,
                             size_t size, char *missing, size_t missing_size);

/* ---- findings -------------------------------------------------------------------- */

enum rsap_deploy_finding_kind {
        RSAP_DEPLOY_LISTENING = 0, /* something listens on the port here now */
        RSAP_DEPLOY_LOCAL,         /* the local registry assigned it to another service */
        RSAP_DEPLOY_IANA,          /* IANA assigned it to another service */
        RSAP_DEPLOY_EPHEMERAL,     /* inside this host's ephemeral range */
        RSAP_DEPLOY_BROWSER,       /* browsers refuse to connect to it */
        RSAP_DEPLOY_DUPLICATE,     /* another entry of the files takes it too */
        RSAP_DEPLOY_KIND_COUNT,
};
/* "listening", "local", "iana", "ephemeral", "browser", "duplicate": stable, for JSON and --ignore. */
const char *rsap_deploy_finding_kind_name(enum rsap_deploy_finding_kind kind);
int rsap_deploy_finding_kind_parse(const char *text, enum rsap_deploy_finding_kind *out);

struct rsap_deploy_finding {
        enum rsap_deploy_finding_kind kind;
        char other[64];           /* the other service (local, iana), else "" */
        char message[200];        /* "8443/tcp is assigned by IANA to pcsync-https" */
};

/*
 * What stands in the way of service taking port/proto on wf->host, against
 * wf->store (may be NULL) and wf->iana: at most RSAP_DEPLOY_KIND_COUNT - 1
 * findings into out (all but duplicate), kinds in enum order, those of ignore (a bit set of
 * 1u << kind) left out.  A port the local registry or IANA assigned to
 * service itself (compared case-insensitively) is no finding; *registered
 * (may be NULL) tells whether the local registry assigns it to service
 * already, or a pending request of service asks for it.  Returns how many
 * findings, or a store error.
 */
int rsap_deploy_check_port(const struct rsap_workflow *wf, const char *service, uint16_t port,
                           enum rsap_proto proto, unsigned ignore,
                           struct rsap_deploy_finding out[RSAP_DEPLOY_KIND_COUNT],
                           bool *registered);

/*
 * The finding for port/proto when another entry of the files, of service
 * other, takes it too (on an address that overlaps): the front end finds
 * the pairs, which may span files.
 */
void rsap_deploy_duplicate(struct rsap_deploy_finding *out, uint16_t port, enum rsap_proto proto,
                           const char *other);
/* Whether two host addresses ("" for every one) can clash. */
bool rsap_deploy_addresses_overlap(const char *a, const char *b);

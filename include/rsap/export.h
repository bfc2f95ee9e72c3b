/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <rsap/iana.h>

enum rsap_export_format {
        RSAP_EXPORT_SERVICES = 0, /* services(5), as glibc's files backend reads it */
        RSAP_EXPORT_CSV,          /* IANA's 12 columns, readable by rsap update */
        RSAP_EXPORT_JSON,         /* {"kind": "registry", "data": ..., "records": [...]} */
        /* Configurations made from the local registry's assignments only (lib/local/export_formats.c). */
        RSAP_EXPORT_SYSTEMD,      /* a drop-in: SocketBindAllow= per port, SocketBindDeny=any */
        RSAP_EXPORT_NFT,          /* nftables defines of port sets, for a ruleset to include */
        RSAP_EXPORT_FIREWALLD,    /* a firewalld service file */
        RSAP_EXPORT_SRV,          /* DNS SRV records and DNS-SD's service-type PTRs */
};

/* Whether the format is one of the configurations above, made from the local registry. */
bool rsap_export_format_is_config(enum rsap_export_format format);

int rsap_export_format_parse(const char *text, enum rsap_export_format *out);
/* Writes the whole registry; -ENOSPC when the disk is full, -EIO when the stream fails else. */
int rsap_export(const struct rsap_iana *reg, enum rsap_export_format format, FILE *out);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Ports, transport protocols and the three RFC 6335 (section 6) ranges.
 * Every parser here returns 0 or a negative errno-style code (-EINVAL for
 * malformed text, -ERANGE for a number outside 0-65535).
 */

enum rsap_proto {
        RSAP_PROTO_NONE = 0, /* a record with no protocol covers every transport */
        RSAP_PROTO_TCP,
        RSAP_PROTO_UDP,
        RSAP_PROTO_SCTP,
        RSAP_PROTO_DCCP,
        RSAP_PROTO_COUNT,
};

/* The transports a port can be looked up on, in display order. */
#define RSAP_TRANSPORTS_FIRST RSAP_PROTO_TCP
#define RSAP_TRANSPORTS_LAST RSAP_PROTO_DCCP

enum rsap_range_class {
        RSAP_RANGE_SYSTEM = 0,  /* 0-1023 */
        RSAP_RANGE_USER,        /* 1024-49151 */
        RSAP_RANGE_DYNAMIC,     /* 49152-65535 */
        RSAP_RANGE_COUNT,
};

struct rsap_range_info {
        enum rsap_range_class id;
        const char *name;    /* "system", "user", "dynamic": stable, for JSON */
        const char *title;   /* "System Ports" */
        uint16_t low, high;
        const char *meaning; /* one sentence, RFC 6335 section 6 */
};

/* A span of ports with an optional protocol: "1647", "1647/udp", "1640-1650". */
struct rsap_port_spec {
        uint16_t low, high;
        enum rsap_proto proto; /* RSAP_PROTO_NONE when the text named none */
};

const char *rsap_proto_name(enum rsap_proto proto); /* "tcp"... or NULL for NONE */
/* Case-insensitive; returns -EINVAL for an unknown name. */
int rsap_proto_parse(const char *text, enum rsap_proto *out);
/* A comma-separated list ("tcp,udp") as a bit set of (1u << proto). */
int rsap_proto_parse_list(const char *text, unsigned *mask_out);
/* The other way: "tcp,udp" for a bit set, cut short when buf is too small. */
void rsap_proto_format_list(unsigned mask, char *buf, size_t size);

enum rsap_range_class rsap_range_class_of(uint16_t port);
const struct rsap_range_info *rsap_range_info(enum rsap_range_class id);

/* A decimal port 0-65535, no sign, no spaces, no trailing text. */
int rsap_port_parse(const char *text, uint16_t *out);
/* "N", "N/proto", "A-B", "A-B/proto" with A <= B. */
int rsap_port_spec_parse(const char *text, struct rsap_port_spec *out);
/* True when the text looks like a number or range the user meant as a port. */
bool rsap_text_is_numeric(const char *text);

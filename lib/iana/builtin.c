/* SPDX-License-Identifier: MIT */
#include <rsap/iana.h>

/* Emitted by rsap-mksnapshot into builtin_data.c: the snapshot, 8-aligned. */
extern const unsigned char rsap_builtin_snapshot[];
extern const unsigned char rsap_builtin_snapshot_end[];

int rsap_iana_open_builtin(struct rsap_iana **out)
{
        return rsap_iana_open_memory(rsap_builtin_snapshot,
                                     (size_t)(rsap_builtin_snapshot_end - rsap_builtin_snapshot),
                                     out);
}

/* SPDX-License-Identifier: MIT */
/*
 * rsap revoke TARGET --why TEXT: the registry takes assignments back (RFC
 * 6335 section 8.4: the assignee cannot be reached, or the ports are not
 * used).  The act is rsap deassign's, by the registry: see cmd_deassign.c.
 */
#include "builtin.h"
#include "registry.h"

int cmd_revoke(struct cli *cli, int argc, char **argv)
{
        return registry_end_command(cli, argc, argv, REGISTRY_END_REVOKE);
}

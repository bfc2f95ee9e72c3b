/* SPDX-License-Identifier: MIT */
/* The error object of rsap --json and rsapd's API (rsap/error_json.h). */
#include <rsap/error_json.h>

json_t *rsap_error_body_to_json(unsigned status, const char *message)
{
        return json_pack("{s:i, s:s}", "status", (int)status, "message", message);
}

json_t *rsap_error_to_json(unsigned status, const char *message)
{
        return json_pack("{s:o}", "error", rsap_error_body_to_json(status, message));
}

unsigned rsap_error_status_for_exit(int exit_status)
{
        switch (exit_status) {
        case 1:
                return 404;
        case 3:
                return 409;
        default:
                return 400;
        }
}

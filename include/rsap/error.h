/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include <rsap/error_json.h>
#include <rsap/name.h>

/*
 * A failed question's answer, the same from every front end: rsapd's API
 * sends {"error": {"status": N, "message": "..."}} with HTTP status N, and
 * `rsap ... --json` prints the same object (and the message on stderr).
 * The messages a question can fail with are composed here once, so both
 * say the same words for the same input.
 */

/*
 * The sentence for a negative errno code the library gives a meaning of its
 * own (store.h, workflow.h, iana.h: -EBADMSG, -EPROTONOSUPPORT,
 * -ENOTRECOVERABLE, ...), else strerror()'s.  Front ends put it after what
 * failed: "rsap request: <sentence>".
 */
const char *rsap_strerror(int err);

/*
 * What is wrong with text that should be PORT[/PROTO], given the error
 * rsap_port_spec_parse() returned: "'99999': a port is a number from 0 to
 * 65535", "'80/foo': unknown protocol 'foo' (...)", "'8x' is not a port (...)".
 */
void rsap_port_error_message(const char *text, int err, char *buf, size_t size);

/* "'x y' is neither a port nor a service name: <problem>": a malformed name no record has. */
void rsap_bad_name_message(const char *name, enum rsap_name_problem problem, char *buf,
                           size_t size);

/* "no service named 'x'", with the name's problem after a colon when it has one. */
void rsap_no_service_message(const char *name, enum rsap_name_problem problem, char *buf,
                             size_t size);

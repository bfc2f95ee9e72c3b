#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`rsap ... --json` fails with the object rsapd's API sends for the same
question: {"error": {"status": N, "message": "..."}} byte for byte, with the
message also on stderr as one line and the exit status that matches N (2 for
400, 1 for 404, 3 for 409).  Starts rsapd on 127.0.0.1, port 0 (the
kernel's choice), with a fresh data directory."""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "daemon"))
if not os.environ.get("RSAPD") and os.environ.get("RSAP"):
    os.environ["RSAPD"] = os.path.join(os.path.dirname(os.path.dirname(os.environ["RSAP"])),
                                       "daemon", "rsapd")

import rsapd_harness  # noqa: E402
from rsapd_harness import Checks, Rsapd, write_token  # noqa: E402

rsapd_harness.RSAPD = os.environ["RSAPD"]
RSAP = os.environ["RSAP"]
c = Checks("json-errors")
EXIT_FOR = {400: 2, 404: 1, 409: 3}


def rsap(db_dir, *args):
    env = dict(os.environ, RSAP_DB_DIR=db_dir, NO_COLOR="1")
    p = subprocess.run([RSAP, "--db-dir", db_dir, *args], capture_output=True, env=env)
    return p.returncode, p.stdout, p.stderr.decode()


def same_failure(d, method, path, cli_args, want_status, body=None, headers=None):
    """The API's body for path and what rsap CLI_ARGS --json prints are the same bytes."""
    status, _, api_body = d.request(method, path, body=body, headers=headers)
    code, out, err = rsap(d.db_dir, *cli_args, "--json")
    what = f"{method} {path} vs rsap {' '.join(cli_args)} --json"
    c.equal(status, want_status, f"{what}: HTTP status")
    c.equal(code, EXIT_FOR[want_status], f"{what}: exit status")
    c.check(out == api_body, f"{what}: same bytes\n  API: {api_body[:400]!r}\n  CLI: {out[:400]!r}")
    try:
        j = json.loads(out)
    except ValueError:
        c.check(False, f"{what}: stdout is not JSON: {out[:200]!r}")
        return
    error = j.get("error") or {}
    c.equal(error.get("status"), want_status, f"{what}: error.status")
    lines = err.splitlines()
    c.check(len(lines) == 1 and lines[0] == "rsap: " + str(error.get("message")),
            f"{what}: one line on stderr with the message: {err!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="rsap-json-errors-") as tmp:
        token_path, token = write_token(tmp)
        with Rsapd("--token-file", token_path) as d:
            same_failure(d, "GET", "/v1/ports/99999", ["99999"], 400)
            same_failure(d, "GET", "/v1/ports/65536", ["65536"], 400)
            same_failure(d, "GET", "/v1/ports/1647/quic", ["1647/quic"], 400)
            same_failure(d, "GET", "/v1/ports/80/foo", ["80/foo"], 400)
            same_failure(d, "GET", "/v1/ports/12x", ["12x"], 400)
            same_failure(d, "GET", "/v1/services/nosuchname", ["nosuchname"], 404)
            same_failure(d, "GET", "/v1/services/no_such", ["no_such"], 400)
            same_failure(d, "GET", "/v1/services/a%20b", ["a b"], 400)
            same_failure(d, "GET", "/v1/services/" + "a" * 70, ["a" * 70], 400)
            # A request the rules refuse (8443 is IANA's): the CLI's approve
            # and the API's answer with the same refusal.
            code, out, err = rsap(d.db_dir, "request", "web-admin", "--port", "8443", "--proto",
                                  "tcp", "--description", "Admin console", "--assignee",
                                  "Ops <ops@example.com>", "--contact", "ops@example.com",
                                  "--json")
            c.equal(code, 0, f"rsap request files the request: {err}")
            rid = json.loads(out)["id"] if code == 0 else 1
            auth = {"Authorization": "Bearer " + token}
            same_failure(d, "POST", f"/v1/registry/requests/{rid}/approve",
                         ["approve", str(rid), "--as", "rsapd"], 409, body={}, headers=auth)
    c.finish()


main()

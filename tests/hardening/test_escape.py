#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Untrusted text never reaches a terminal or a log raw.

Reproducers, as found:
  - a process renames itself and listens; root lists the listeners:
        python3 -c 'import ctypes, socket; ctypes.CDLL(None).prctl(15, b"\\x1b[2J\\x1b]0;X\\a\\r");
                    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); input()' &
        sudo rsap listening       # the terminal is cleared and its title set
  - a mirror's CSV with ESC and CR in a description:
        rsap update --from evil.csv; rsap 20000; rsap search evil
  - a request filed with an ESC in its description, then `rsap review 1`;
  - rsapd's access log printed the decoded URL, so one GET forged a line:
        curl '127.0.0.1:1647/v1/ports/1%0a%20POST%20/v1/registry/requests/1/approve%20200'
Now text output escapes (\\e, \\r, \\x7f, \\u009b, \\xff, \\\\), --json stays
exact, and the registry refuses control characters at its CLI and API edge."""
import ctypes
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from rsapd_harness import (RSAP, Checks, Rsapd, own_network_namespace,  # noqa: E402
                           unassigned_ports, write_token)

c = Checks("hardening-escape")
RAW = (b"\x1b", b"\r", b"\x07", b"\x7f", b"\xc2\x9b")


def rsap(db, *args, stdin=None):
    env = dict(os.environ, RSAP_DB_DIR=db, NO_COLOR="1")
    p = subprocess.run([RSAP, "--db-dir", db, *args], capture_output=True, env=env,
                       input=stdin)
    return p.returncode, p.stdout, p.stderr


def no_raw(data, what):
    """Nothing in data a terminal would obey: no C0 but LF, no DEL, no C1."""
    bad = [b for b in RAW if b in data] + [bytes([x]) for x in data
                                            if x < 0x20 and x != 0x0a]
    return c.check(not bad, f"{what}: raw control bytes {bad[:4]!r} in {data[:300]!r}")


# ---- a renamed process on a loopback port -----------------------------------------
NAME = b"\x1b[2J\x1b]0;X\x07\r"
LISTENER = r"""
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(sys.argv[1].encode("latin-1")), 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


def renamed_listener(db):
    p = subprocess.Popen([sys.executable, "-c", LISTENER, NAME.decode("latin-1")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        port = int(p.stdout.readline())
        with open(f"/proc/{p.pid}/comm", "rb") as f:
            c.equal(f.read().rstrip(b"\n"), NAME, "the listener renamed itself")
        for args in (["who", f"{port}/tcp"], ["listening", "--port", str(port), "--tcp"]):
            status, out, err = rsap(db, *args)
            c.equal(status, 0, f"rsap {' '.join(args)}: {err!r}")
            no_raw(out, f"rsap {' '.join(args)}")
            c.check(b"\\e[2J\\e]0;X\\a\\r[" + str(p.pid).encode() + b"]" in out,
                    f"rsap {' '.join(args)} shows the name escaped: {out!r}")
            status, out, err = rsap(db, *args, "--json")
            j = json.loads(out)
            sockets = j if isinstance(j, list) else j.get("sockets", [])
            owners = [o for s in sockets for o in s.get("processes") or []]
            c.check(any(o.get("command") == NAME.decode() for o in owners),
                    f"rsap {' '.join(args)} --json has the exact name: {owners!r}")
        # rsap PORT ends with the same listing.
        status, out, err = rsap(db, str(port))
        no_raw(out, f"rsap {port}")
        c.check(b"\\e[2J" in out, f"rsap {port} shows the name escaped: {out!r}")
    finally:
        p.stdin.close()
        p.wait()


# ---- a mirror's CSV with control characters -----------------------------------------
DESC = "bad\x1b[2J\x1b]0;X\x07\rtail \\ del\x7f csi\u009b"
ESCAPED = b"bad\\e[2J\\e]0;X\\a\\rtail \\\\ del\\x7f csi\\u009b"


def evil_mirror(tmp, db):
    csv = os.path.join(tmp, "evil.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "mkregistry.py"), "csv", "2026-06-01",
                    csv, "evil"], check=True)
    with open(csv, encoding="utf-8") as f:
        text = f.read()
    with open(csv, "w", encoding="utf-8", newline="") as f:
        f.write(text.replace("the copy marked evil", '"' + DESC + '"'))
    status, out, err = rsap(db, "update", "--from", csv)
    c.equal(status, 0, f"rsap update --from evil.csv: {err!r}")
    for args in (["20000"], ["20000", "--full"], ["evil"], ["search", "evil"],
                 ["list", "20000-20000"]):
        status, out, err = rsap(db, *args)
        c.equal(status, 0, f"rsap {' '.join(args)}: {err!r}")
        no_raw(out, f"rsap {' '.join(args)}")
        c.check(ESCAPED in out, f"rsap {' '.join(args)} shows the description escaped: {out!r}")
    status, out, err = rsap(db, "20000/tcp", "--json")
    c.equal(json.loads(out)["records"][0]["description"], DESC, "--json keeps it exact")
    # The brief form aligns what it shows: the row of the other protocols
    # starts its status column where the escaped row does.
    status, out, err = rsap(db, "20000")
    rows = out.decode().splitlines()[:2]
    c.check(len(rows) == 2 and rows[0].index("assigned") == rows[1].index("unassigned"),
            f"the columns line up: {rows!r}")


# ---- the registry refuses control characters; rsapd logs one line each --------------
def registry_edges(tmp, db):
    token_path, token = write_token(tmp)
    with Rsapd("--token-file", token_path, "--portserver", f"@rsap-escape-{os.getpid()}",
               db_dir=db) as d:
        port = unassigned_ports(d.db_dir, 2)
        base = ["request", "esc", "--port", str(port[0]), "--proto", "tcp",
                "--description", "d", "--assignee", "a", "--contact", "c"]
        for field, value in (("--description", "x\x1b[2Jy"), ("--assignee", "a\rb"),
                             ("--contact", "c\td"), ("--note", "n\x1b]0;X\x07"),
                             ("--reference", "r\u009b"), ("--description", "two\nlines")):
            args = base + [field, value]
            status, out, err = rsap(d.db_dir, *args)
            c.equal(status, 2, f"rsap request {field} {value!r}")
            c.check(out == b"" and err.count(b"\n") == 1 and b"control character" in err,
                    f"one clear line for {field} {value!r}: {out!r} {err!r}")
        status, out, err = rsap(d.db_dir, "requests", "--all")
        c.equal(status, 1, f"nothing was filed: {out!r}")
        status, out, err = rsap(d.db_dir, *base, "--note", "line one\nline two")
        c.equal(status, 0, f"a note may hold a line break: {err!r}")
        status, out, err = rsap(d.db_dir, "review", "1")
        c.check(b"  note         line one\n               line two\n" in out,
                f"review shows the note's lines under each other: {out!r}")
        status, out, err = rsap(d.db_dir, "reject", "1", "--why", "no\x1b[2J")
        c.equal(status, 2, f"rsap reject --why with ESC: {err!r}")
        c.check(err.count(b"\n") == 1 and b"control character" in err, f"one line: {err!r}")
        status, out, err = rsap(d.db_dir, "transfer", "esc", "--to", "b\x1b[2J")
        c.equal(status, 2, f"rsap transfer --to with ESC: {err!r}")
        status, out, err = rsap(d.db_dir, "lease", "--range", f"{port[1]}-{port[1]}",
                                "--name", "ci\x1b[2J")
        c.equal(status, 2, f"rsap lease --name with ESC: {err!r}")
        c.check(err.count(b"\n") == 1 and b"control character" in err, f"one line: {err!r}")
        status, _, body = d.request("POST", "/v1/leases", body=json.dumps(
            {"range": f"{port[1]}-{port[1]}", "name": "ci\r\x1b[2J"}).encode(),
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        c.check(status == 400 and b"control character" in body,
                f"POST /v1/leases with ESC in the name is 400: {status} {body[:120]!r}")
        # Another host's export is an edge too: `rsap import`.
        status, out, err = rsap(d.db_dir, "approve", "1", "--why", "fine")
        c.equal(status, 0, f"rsap approve 1: {err!r}")
        status, out, err = rsap(d.db_dir, "export", "--local", "--format", "json")
        export = json.loads(out)
        export["assignments"][0]["assignee"] = "a\x1b[2J"
        bad = os.path.join(tmp, "bad-export.json")
        with open(bad, "w") as f:
            json.dump(export, f)
        status, out, err = rsap(os.path.join(tmp, "db-import"), "import", bad)
        c.equal(status, 2, f"rsap import of an export with ESC in an assignee: {err!r}")
        c.check(err.count(b"\n") == 1 and b"control character" in err, f"one line: {err!r}")
        # A database written before the registry refused them (or by hand) may
        # still hold control characters: the registration commands escape them.
        with sqlite3.connect(os.path.join(d.db_dir, "registry.db")) as db_conn:
            db_conn.execute("UPDATE requests SET description = ?, assignee = ?, requested_by = ?"
                            " WHERE id = 1", ("d\x1b[2J", "a\rb", "u\x1b]0;X\x07"))
            db_conn.execute("UPDATE services SET assignee = ?", ("a\rb",))
        for args, want in ((["review", "1"], [b"d\\e[2J", b"a\\rb", b"u\\e]0;X\\a"]),
                           (["requests", "--all"], [b"a\\rb", b"u\\e]0;X\\a"]),
                           (["20000"], []), ([str(port[0])], [b"a\\rb"])):
            status, out, err = rsap(d.db_dir, *args)
            no_raw(out, f"rsap {' '.join(args)} of a database holding control characters")
            c.check(all(w in out for w in want), f"rsap {' '.join(args)} shows {want!r}: {out!r}")

        auth = {"Authorization": "Bearer " + token}
        body = {"service": "esc2", "port": port[1], "protocols": "tcp", "description": "d",
                "assignee": "a\u001b[2J", "contact": "c"}
        status, _, raw = d.request("POST", "/v1/registry/requests", body=body, headers=auth)
        c.equal(status, 400, f"POST a request with ESC in the assignee: {raw!r}")
        c.check(b"control character" in raw, f"the API says why: {raw!r}")
        body.update(assignee="a", note="one\ntwo")
        status, _, raw = d.request("POST", "/v1/registry/requests", body=body, headers=auth)
        c.equal(status, 201, f"POST a request with a two-line note: {raw!r}")
        rid = json.loads(raw)["id"] if status == 201 else 0
        status, _, raw = d.request("POST", f"/v1/registry/requests/{rid}/reject",
                                   body={"why": "no\rway"}, headers=auth)
        c.equal(status, 400, f"POST reject with CR in why: {raw!r}")

        forged = "/v1/ports/1%0a%20POST%20/v1/registry/requests/1/approve%20200"
        d.get(forged)
        d.get("/v1/ports/1%1b%5b2J%7f%ff")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(f"\0rsap-escape-{os.getpid()}")
            s.sendall(b"\x1b[2J\rforged\n")
            c.equal(s.recv(16), b"0\n", "the port server refuses a request that is not a pid")
        # The pages of the mirror's record: HTML-escaped, and no control character either.
        for path in ("/port/20000", "/service/evil"):
            status, _, page = d.get(path)
            c.equal(status, 200, f"GET {path}")
            no_raw(page, f"GET {path}")
            c.check(b"bad\\e[2J\\e]0;X\\a\\rtail" in page, f"GET {path} shows the escapes")
        log = open(d.log_path, "rb").read()
    no_raw(log, "rsapd's log")
    lines = log.splitlines()
    c.check(not any(b"POST /v1/registry/requests/1/approve" in l and b"GET" not in l
                    for l in lines), f"no forged line in the access log: {log[-2000:]!r}")
    c.check(any(b"GET /v1/ports/1\\n POST /v1/registry/requests/1/approve 200" in l
                for l in lines), "the forged request is one escaped line")
    c.check(any(b"GET /v1/ports/1\\e[2J\\x7f\\xff" in l for l in lines),
            "ESC, DEL and a bad byte in a URL are escaped")
    c.check(any(b"not a pid: \"\\e[2J\\rforged\"" in l for l in lines),
            "the port server logs what it refused, escaped")


def main():
    own_network_namespace()  # the listener, rsapd and the port server meet no host port
    with tempfile.TemporaryDirectory(prefix="rsap-escape-") as tmp:
        db = os.path.join(tmp, "db")
        os.makedirs(db)
        renamed_listener(db)
        evil_mirror(tmp, db)
        registry_edges(tmp, db)
    c.finish()


if __name__ == "__main__":
    main()

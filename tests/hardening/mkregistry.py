#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a made-up registry in IANA's XML or CSV shape, big enough to pass
rsap update's checks (10,000 records, the core ports), so the hardening tests
run without ../shared.  Usage: mkregistry.py xml|csv RELEASE OUT [MARK [FILLER]]
RELEASE is the date the file claims; MARK names the service on port 20000,
so tests can tell two generated copies apart; FILLER is how many filler
records there are (10,100 unless given: fewer than 9,993 make a partial copy)."""
import csv
import sys

CORE = [(22, "tcp", "ssh"), (25, "tcp", "smtp"), (53, "udp", "domain"),
        (80, "tcp", "http"), (123, "udp", "ntp"), (443, "tcp", "https")]
FILLER = 10100  # ports 30000 and up, away from the core ones


def rows(mark, filler=FILLER):
    for port, proto, name in CORE:
        yield name, port, proto, name.upper()
    yield mark, 20000, "tcp", "the copy marked " + mark
    for port in range(30000, 30000 + filler):
        yield f"svc-{port}", port, "tcp", f"filler service {port}"


def write_xml(release, out, mark, filler):
    with open(out, "w", encoding="utf-8") as f:
        f.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                '<registry xmlns="http://www.iana.org/assignments" '
                'id="service-names-port-numbers">\n'
                "  <title>Service Name and Transport Protocol Port Number Registry</title>\n"
                f"  <updated>{release}</updated>\n")
        for name, port, proto, desc in rows(mark, filler):
            f.write(f"  <record><name>{name}</name><protocol>{proto}</protocol>"
                    f"<description>{desc}</description><number>{port}</number></record>\n")
        f.write("</registry>\n")


def write_csv(release, out, mark, filler):
    header = ["Service Name", "Port Number", "Transport Protocol", "Description", "Assignee",
              "Contact", "Registration Date", "Modification Date", "Reference",
              "Service Code", "Unauthorized Use Reported", "Assignment Notes"]
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        for i, (name, port, proto, desc) in enumerate(rows(mark, filler)):
            # The CSV's release is its latest date: one row carries it.
            modified = release if i == 0 else ""
            w.writerow([name, port, proto, desc, "", "", "", modified, "", "", "", ""])


if __name__ == "__main__":
    kind, release, out = sys.argv[1:4]
    mark = sys.argv[4] if len(sys.argv) > 4 else "mark-a"
    filler = int(sys.argv[5]) if len(sys.argv) > 5 else FILLER
    (write_xml if kind == "xml" else write_csv)(release, out, mark, filler)

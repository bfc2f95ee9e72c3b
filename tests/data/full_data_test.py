#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The full-data test: IANA's published registry, XML and CSV, goes in through
`rsap update` and comes back out through `rsap export`, lookups, `rsap ranges`
and glibc's own services(5) reader.  Every answer is compared with what this
file computes from the source files alone, with the standard library, by the
rules lib/iana/import_xml.c, lib/iana/import_csv.c and lib/iana/import_internal.h document.
rsap is never asked for an expected value.

    full_data_test.py xml|csv|builtin|lookup|ranges|services

`builtin` holds the built-in copy (made at build time from data/'s
compressed copy of the same XML) to the same reader, and to the cached copy
that `rsap update` makes from that XML: every record, every field.

The files come from RSAP_SHARED_DATA (set by meson); without them the test is
skipped.  Exit status: 0 pass, 1 fail, 77 skipped (meson's convention).
"""

import concurrent.futures
import csv
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SKIP = 77
XML_FILE = "service-names-port-numbers.xml"
CSV_FILE = "service-names-port-numbers.csv"
XML_RECORDS = 14496
CSV_RECORDS = 14474
PROTOCOLS = ("tcp", "udp", "sctp", "dccp")
STATUS_RANK = {"unassigned": 0, "reserved": 1, "assigned": 2}
RANGES = (("system", 0, 1023), ("user", 1024, 49151), ("dynamic", 49152, 65535))
MAX_REPORTED = 25  # differences printed in full; the rest are only counted


class Failure(Exception):
    """A check that did not hold; the message says what and where."""


class Skip(Exception):
    """A part this machine cannot run; the message says why."""


# ---- running rsap -----------------------------------------------------------

def rsap(*args, check=True):
    """Runs rsap with args; returns the completed process (text mode)."""
    proc = subprocess.run([os.environ["RSAP"], *args], capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"))
    if check and proc.returncode != 0:
        raise Failure(f"rsap {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def update(db_dir, source):
    rsap("update", "--db-dir", db_dir, "--from", source)


def export_json(db_dir):
    return json.loads(rsap("export", "--db-dir", db_dir, "--format", "json").stdout)


# ---- text clean-up, as lib/iana/import.c documents it ------------------------------

BLANK = " \t\n\r\v\f"      # import_is_blank(): ASCII only, never U+00A0
LINE_BLANK = " \t\r\v\f"   # the same without the newline
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text):
    """strcasecmp()'s idea of case: ASCII letters only."""
    return text.translate(ASCII_LOWER)


def tidy(text):
    """Multi-line text: every line stripped, at most one empty line in a row,
    none at either end (import_tidy)."""
    out, pending_empty = [], False
    for line in text.split("\n"):
        line = line.strip(LINE_BLANK)
        if not line:
            pending_empty = bool(out)
            continue
        if pending_empty:
            out.append("")
        pending_empty = False
        out.append(line)
    return "\n".join(out)


def squash(text):
    """One line: every run of blanks becomes one space, trimmed (import_squash)."""
    return " ".join(w for w in re.split(f"[{re.escape(BLANK)}]+", text) if w)


def clean(text, multiline):
    """The cleaned text, or None when nothing is left: the snapshot keeps no
    empty strings."""
    text = tidy(text) if multiline else squash(text)
    return text or None


# ---- references shared by both formats (lib/iana/import.c) ------------------------

RFC_ID = re.compile(r"[Rr][Ff][Cc]([0-9]{1,9})")


def rfc_reference(rfc_id, label):
    """An RFC id ("rfc6335") as a reference, or None when it is not one."""
    m = RFC_ID.fullmatch(rfc_id)
    if not m:
        return None
    number = m.group(1)
    return {"type": "rfc", "text": label if label else "RFC" + number,
            "url": "https://www.rfc-editor.org/rfc/rfc" + number}


def draft_reference(name):
    # IANA's "RFC-..." names a draft in the RFC Editor's queue.
    if ascii_lower(name[:4]) == "rfc-":
        url = "https://datatracker.ietf.org/doc/draft-" + name[4:]
    else:
        url = "https://datatracker.ietf.org/doc/" + name
    return {"type": "draft", "text": name, "url": url}


# ---- records in the export's JSON form -----------------------------------------

def derive_status(service, description, n_people):
    """The documented rule of include/rsap/iana.h."""
    if service:
        return "assigned"
    if description:
        if ascii_lower(description[:8]) == "reserved":
            return "reserved"
        if "unassigned" in ascii_lower(description):
            return "unassigned"
    return "assigned" if n_people else "unassigned"


PORT_TEXT = re.compile(r"([0-9]+)(?:-([0-9]+))?")


def parse_ports(text):
    """"N" or "LO-HI" into (lo, hi); ValueError for anything else."""
    m = PORT_TEXT.fullmatch(text)
    if not m:
        raise ValueError(f"bad port number {text!r}")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if hi > 65535 or lo > hi:
        raise ValueError(f"bad port number {text!r}")
    return lo, hi


def parse_protocol(text):
    if text is None:
        return None
    proto = ascii_lower(text)
    if proto not in PROTOCOLS:
        raise ValueError(f"unknown protocol {text!r}")
    return proto


def make_record(source, service, number, protocol, description, assignee, contact,
                registered, modified, references, service_code, unauthorized, notes):
    """One record as `rsap export --format json` must show it."""
    rec = {"service": service}
    if number is None:
        rec["port"] = None
    else:
        lo, hi = parse_ports(number)
        if lo == hi:
            rec["port"] = lo
        else:
            rec["port_low"], rec["port_high"] = lo, hi
    rec.update({
        "protocol": parse_protocol(protocol),
        "status": derive_status(service, description, len(assignee) + len(contact)),
        "description": description,
        "assignee": assignee or None,
        "contact": contact or None,
        "registered": registered,
        "modified": modified,
        "references": references,
        "service_code": service_code,
        "unauthorized_use": unauthorized,
        "notes": notes,
        "source": source,
    })
    return rec


def bare_person(person_id):
    return {"id": person_id, "name": None, "org": None, "email": None, "uri": None}


def port_span(rec):
    """(lo, hi) of a record, or None when it is name-only."""
    if "port_low" in rec:
        return rec["port_low"], rec["port_high"]
    if rec["port"] is None:
        return None
    return rec["port"], rec["port"]


# ---- IANA's XML ------------------------------------------------------------------

IANA_NS = "{http://www.iana.org/assignments}"
XML_TEXT_FIELDS = {  # element -> shown on several lines?
    "name": False, "protocol": False, "number": False, "sc": False,
    "description": True, "note": True, "unauthorized": True,
}


def local_name(elem):
    """The element's name in IANA's namespace; "" for markup of any other."""
    tag = elem.tag
    if isinstance(tag, str) and tag.startswith(IANA_NS):
        return tag[len(IANA_NS):]
    return ""


def attribute(elem, name):
    """An attribute's value; None when absent or empty."""
    return elem.get(name) or None


def after_line_break(text):
    """IANA writes "keys:<br/>" and goes on on the next source line: that
    newline belongs to the <br/>."""
    stripped = text.lstrip(" \t\r")
    return stripped[1:] if stripped.startswith("\n") else text


def inline_xref(elem):
    """An xref inside text shows as its label in brackets, as IANA's CSV does."""
    kind, data = attribute(elem, "type"), attribute(elem, "data")
    content = clean(render(elem), False)
    if kind == "rfc" and data and ascii_lower(data[:3]) == "rfc":
        return "[RFC" + data[3:] + "]"
    if kind in ("uri", "text"):
        label = content or data
    else:
        label = data or content
    return f"[{label}]" if label else ""


def render(elem):
    """The raw text of an element's content: <br/> a line break, <paragraph>
    set off by empty lines, xrefs as labels, other markup transparent."""
    out = [elem.text or ""]
    for child in elem:
        name = local_name(child)
        tail = child.tail or ""
        if name == "paragraph":
            out.append("\n\n" + render(child) + "\n\n")
        elif name == "br":
            # The newline after a <br/> goes; <br>text</br> never occurs.
            out.append("\n" + render(child))
            if child.text is None and len(child) == 0:
                tail = after_line_break(tail)
        elif name == "xref":
            out.append(inline_xref(child))
        else:
            out.append(render(child))
        out.append(tail)
    return "".join(out)


def xml_text(elem, multiline):
    return clean(render(elem), multiline)


def xml_person(elem):
    """A <person> of the people table."""
    person = bare_person(attribute(elem, "id"))
    if person["id"] is None:
        raise ValueError("<person> without id")
    for child in elem:
        name = local_name(child)
        if name not in ("name", "org", "uri"):
            continue
        text = xml_text(child, False)
        if text is None:
            continue
        if name == "uri":
            add_person_uri(person, text)
        elif person[name] is None:
            person[name] = text
    return person


def add_person_uri(person, uri):
    """The first mailto: is the address ('&' stands for '@' unless there is
    an '@' already); the first other URI is the person's URI."""
    if ascii_lower(uri[:7]) != "mailto:":
        if person["uri"] is None:
            person["uri"] = uri
        return
    address = uri[7:]
    if person["email"] is not None or not address:
        return
    if "@" not in address:
        address = address.replace("&", "@")
    person["email"] = address


def xml_reference(kind, data, content, footnotes):
    kind = kind or ""
    if kind in ("rfc", "draft", "uri", "note") and data is None:
        raise ValueError(f'<xref type="{kind}"> without data')
    if kind == "rfc":
        return rfc_reference(data, content) or {"type": "rfc", "text": content or data,
                                                 "url": None}
    if kind == "draft":
        return draft_reference(data)
    if kind == "note":
        text = footnotes.get(data)
        return {"type": "note", "text": text if text else f"[{data}]", "url": None}
    if kind == "uri":
        return {"type": "uri", "text": content or data, "url": data}
    if not (content or data):
        raise ValueError(f'<xref type="{kind}"> with neither data nor text')
    return {"type": "text", "text": content or data, "url": None}


def xml_record(elem, footnotes):
    """A <record> with its person ids still unresolved."""
    fields, contact, references = {}, [], []
    assignee = None  # None: no <assignee> element at all
    for child in elem:
        name = local_name(child)
        if name == "xref":
            kind, data = attribute(child, "type"), attribute(child, "data")
            if kind == "person":
                if data is None:
                    raise ValueError("person xref without data")
                contact.append(data)
            else:
                references.append(xml_reference(kind, data, xml_text(child, False), footnotes))
        elif name == "assignee":
            assignee = assignee or []
            for xref in child:
                if local_name(xref) == "xref" and attribute(xref, "type") == "person":
                    if attribute(xref, "data") is None:
                        raise ValueError("person xref without data")
                    assignee.append(attribute(xref, "data"))
        elif name in XML_TEXT_FIELDS:
            if name in fields:
                raise ValueError(f"<{name}> appears twice")
            fields[name] = xml_text(child, XML_TEXT_FIELDS[name])
    # With no <assignee>, IANA's CSV shows the contact as the assignee too.
    if assignee is None:
        assignee = list(contact)
    return make_record("iana-xml", fields.get("name"), fields.get("number"),
                       fields.get("protocol"), fields.get("description"), assignee, contact,
                       attribute(elem, "date"), attribute(elem, "updated"), references,
                       fields.get("sc"), fields.get("unauthorized"), fields.get("note"))


def read_xml(path):
    """The registry's records and release date as the export must show them."""
    root = ET.parse(path).getroot()
    if root.tag != IANA_NS + "registry":
        raise ValueError("the root is not IANA's <registry>")
    children = [(local_name(c), c) for c in root]
    footnotes = {}
    for name, child in children:
        anchor = attribute(child, "anchor")
        if name == "footnote" and anchor and anchor not in footnotes:
            footnotes[anchor] = xml_text(child, False)
    people, records, release = {}, [], None
    for name, child in children:
        if name == "record":
            records.append(xml_record(child, footnotes))
        elif name == "people":
            for p in child:
                if local_name(p) == "person":
                    person = xml_person(p)
                    people.setdefault(person["id"], person)  # the first entry wins
        elif name == "updated" and release is None:
            release = xml_text(child, False)
    for rec in records:
        for role in ("assignee", "contact"):
            if rec[role]:
                rec[role] = [dict(people.get(i) or bare_person(i)) for i in rec[role]]
    return records, release


# ---- IANA's CSV -------------------------------------------------------------------

CSV_HEADER = ["Service Name", "Port Number", "Transport Protocol", "Description", "Assignee",
              "Contact", "Registration Date", "Modification Date", "Reference", "Service Code",
              "Unauthorized Use Reported", "Assignment Notes"]
CSV_MULTILINE = {3, 10, 11}  # description, unauthorized use, notes


def split_brackets(text):
    """"[A][B]" into ["A", "B"]; brackets nest inside an item."""
    items, i = [], 0
    while i < len(text):
        if text[i] in BLANK:
            i += 1
            continue
        if text[i] != "[":
            raise ValueError(f"text outside brackets in {text!r}")
        start, depth = i + 1, 1
        i += 1
        while i < len(text) and depth > 0:
            depth += {"[": 1, "]": -1}.get(text[i], 0)
            i += 1
        if depth > 0 or i - 1 == start:
            raise ValueError(f"bad bracket list {text!r}")
        items.append(text[start:i - 1])
    return items


CSV_RFC = re.compile(r"([Rr][Ff][Cc][0-9]*)([, ].*)?", re.S)


def csv_reference(item):
    """One bracketed Reference item: RFC, draft, URL, footnote or free text."""
    m = CSV_RFC.fullmatch(item)
    if m and len(m.group(1)) <= 15:
        # "RFC8765, Section 6.1" keeps its words; the number makes the URL.
        ref = rfc_reference(m.group(1), item if m.group(2) else None)
        if ref:
            return ref
    if item.startswith("draft-") or item.startswith("RFC-"):
        return draft_reference(item)
    if ascii_lower(item).startswith(("http://", "https://")):
        return {"type": "uri", "text": item, "url": item}
    if re.fullmatch("[0-9]+", item):
        # A footnote of the registry, whose text only the XML has.
        return {"type": "note", "text": f"[{item}]", "url": None}
    return {"type": "text", "text": item, "url": None}


def csv_record(row):
    col = [clean(text, i in CSV_MULTILINE) for i, text in enumerate(row)]
    people = [[bare_person(i) for i in split_brackets(c)] if c else [] for c in col[4:6]]
    references = [csv_reference(i) for i in split_brackets(col[8])] if col[8] else []
    return make_record("iana-csv", col[0], col[1], col[2], col[3], people[0], people[1],
                       col[6], col[7], references, col[9], col[10], col[11])


def read_csv(path):
    """The records and the release (the newest date in the file)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, strict=True))
    if rows[0] != CSV_HEADER:
        raise ValueError("not IANA's CSV header")
    records = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(CSV_HEADER):
            raise ValueError(f"row {n}: {len(row)} columns")
        records.append(csv_record(row))
    dates = [r[k] for r in records for k in ("registered", "modified") if r[k]]
    return records, max(dates, default=None)


# ---- comparing -----------------------------------------------------------------------

def describe(rec):
    span = port_span(rec)
    where = "-".join(map(str, sorted(set(span)))) if span else "(no port)"
    return f"{rec['service'] or '(no name)'} {where}/{rec['protocol'] or '*'}"


def compare_records(expected, got):
    """Record by record, field by field; returns the differences as lines."""
    problems = []
    if len(got) != len(expected):
        problems.append(f"export has {len(got)} records, the source {len(expected)}")
    for i, (want, have) in enumerate(zip(expected, got)):
        for field in sorted(set(want) | set(have)):
            if want.get(field, "<absent>") != have.get(field, "<absent>"):
                problems.append(f"record {i} ({describe(want)}): {field}: expected "
                                f"{json.dumps(want.get(field, '<absent>'), ensure_ascii=False)}"
                                f", got {json.dumps(have.get(field, '<absent>'), ensure_ascii=False)}")
    return problems


def report(title, problems):
    if not problems:
        return
    fields = {}
    for p in problems:
        m = re.match(r"record \d+ \(.*?\): (\w+):", p)
        key = m.group(1) if m else "other"
        fields[key] = fields.get(key, 0) + 1
    lines = [f"{title}: {len(problems)} differences "
             f"({', '.join(f'{k} {v}' for k, v in sorted(fields.items()))})"]
    lines += problems[:MAX_REPORTED]
    if len(problems) > MAX_REPORTED:
        lines.append(f"... and {len(problems) - MAX_REPORTED} more")
    raise Failure("\n".join(lines))


def check_export(kind, path, reader, count, db_dir):
    expected, release = reader(path)
    if len(expected) != count:
        raise Failure(f"{path}: the independent reader found {len(expected)} records, "
                      f"not {count}")
    update(db_dir, path)
    exported = export_json(db_dir)
    data = exported.get("data", {})
    problems = []
    for field, want in (("source", "iana-" + kind), ("release", release),
                        ("records", count)):
        if data.get(field) != want:
            problems.append(f"data.{field}: expected {want!r}, got {data.get(field)!r}")
    if exported.get("kind") != "registry":
        problems.append(f"kind: expected 'registry', got {exported.get('kind')!r}")
    problems += compare_records(expected, exported.get("records", []))
    report(f"{kind.upper()} export", problems)
    print(f"ok: all {count} {kind.upper()} records exported with every field as expected")
    return expected


# ---- lookups ------------------------------------------------------------------------

def lookup_query(i, rec):
    """The question that must find record i: its name when it has no port,
    else a port inside it (the ends and the middle of ranges, in turn)."""
    span = port_span(rec)
    if span is None:
        return rec["service"]
    lo, hi = span
    port = (lo, hi, (lo + hi) // 2)[i % 3]
    return f"{port}/{rec['protocol']}" if rec["protocol"] else str(port)


def lookup_sample(records, every, special):
    """Every n-th record, plus (when special) every name-only, range and
    protocol-less one."""
    def is_special(r):
        return r["protocol"] is None or port_span(r) is None or "port_low" in r

    return [i for i, r in enumerate(records) if i % every == 0 or special and is_special(r)]


def command_words():
    """rsap's subcommands, as `rsap help` lists them ("  name  summary")."""
    return {m.group(1) for m in re.finditer(r"^  ([a-z]+)  ", rsap("help").stdout, re.M)}


def run_lookups(db_dir, queries, workers=2):
    """Answers of `rsap --json QUERY`, two processes at a time.  A few IANA
    names are rsap commands too (help, search, who): those take the explicit
    `rsap explain`, as they must on the command line."""
    commands = command_words()

    def ask(query):
        explain = ["explain"] if query in commands else []
        proc = rsap(*explain, "--db-dir", db_dir, "--json", query, check=False)
        if proc.returncode != 0:
            return query, None, f"exit {proc.returncode}: {proc.stderr.strip()}"
        try:
            return query, json.loads(proc.stdout), None
        except json.JSONDecodeError as e:
            return query, None, f"not JSON: {e}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return {q: (answer, err) for q, answer, err in pool.map(ask, queries)}


class Index:
    """Which records answer a question, in registry order: those covering a
    port on a protocol (the protocol-less ones included; every protocol's
    when none is asked), or those of a name, compared case-insensitively."""

    def __init__(self, records):
        self.by_port, self.by_name = {}, {}
        for i, rec in enumerate(records):
            span = port_span(rec)
            for port in range(span[0], span[1] + 1) if span else ():
                self.by_port.setdefault((port, rec["protocol"]), []).append(i)
            if rec["service"]:
                self.by_name.setdefault(ascii_lower(rec["service"]), []).append(i)

    def answer(self, query):
        if not query[0].isdigit() or not PORT_TEXT.fullmatch(query.split("/")[0]):
            return self.by_name.get(ascii_lower(query), [])
        port, _, proto = query.partition("/")
        protos = [proto, None] if proto else [*PROTOCOLS, None]
        return sorted(i for p in protos for i in self.by_port.get((int(port), p), []))


def check_answer(query, answer, records, index, statuses):
    """What is wrong with rsap's answer to query, or None."""
    want = [records[i] for i in index.answer(query)]
    got = answer.get("records") or []
    if got != want:
        missing = sum(1 for r in want if r not in got)
        return f"{len(got)} records, expected {len(want)} ({missing} of them missing)"
    if answer.get("kind") == "port":
        port, _, proto = query.partition("/")
        want_status = {p: ("unassigned", "reserved", "assigned")[statuses[p][int(port)]]
                       for p in ([proto] if proto else PROTOCOLS)}
        if answer.get("status") != want_status:
            return f"status {answer.get('status')}, expected {want_status}"
    return None


def check_lookups(kind, records, db_dir, every, special):
    """Each sampled record must be found by its port (or its name), and every
    answer must hold exactly the records that cover that port or bear that
    name, with each port's status as computed here."""
    sample = lookup_sample(records, every, special)
    queries = {i: lookup_query(i, records[i]) for i in sample}
    # Named records with a port are asked by name as well, every other one.
    names = {i: records[i]["service"] for i in sample[::2]
             if records[i]["service"] and port_span(records[i])}
    answers = run_lookups(db_dir, sorted(set(queries.values()) | set(names.values())))
    index, statuses = Index(records), port_statuses(records)
    problems = []
    for query, (answer, err) in sorted(answers.items()):
        err = err or check_answer(query, answer, records, index, statuses)
        if err:
            problems.append(f"rsap --json {query}: {err}")
    for i, query in [*queries.items(), *names.items()]:
        if i not in index.answer(query):
            problems.append(f"record {i} ({describe(records[i])}): not an answer to {query}")
    report(f"{kind.upper()} lookups", problems)
    print(f"ok: {len(queries) + len(names)} lookups of sampled records ({len(answers)} distinct "
          f"questions) answered with exactly the {kind.upper()} records expected")


# ---- range counts ----------------------------------------------------------------

def port_statuses(records):
    """Per protocol, each port's best status (2 assigned, 1 reserved, 0 none
    or unassigned): its own protocol's records and the protocol-less ones."""
    best = {p: bytearray(65536) for p in PROTOCOLS}
    for rec in records:
        span = port_span(rec)
        if span is None:
            continue
        rank = STATUS_RANK[rec["status"]]
        for proto in [rec["protocol"]] if rec["protocol"] else PROTOCOLS:
            table = best[proto]
            for port in range(span[0], span[1] + 1):
                table[port] = max(table[port], rank)
    return best


def expected_counts(records):
    best = port_statuses(records)
    counts = {}
    for name, lo, hi in RANGES:
        counts[name] = {}
        for proto in PROTOCOLS:
            ranks = best[proto][lo:hi + 1]
            counts[name][proto] = {s: ranks.count(r) for s, r in STATUS_RANK.items()}
    return counts


def check_ranges(kind, records, db_dir):
    want = expected_counts(records)
    answer = json.loads(rsap("ranges", "--json", "--db-dir", db_dir).stdout)
    problems = []
    got = {(r.get("name"), r.get("low"), r.get("high")): r.get("counts")
           for r in answer.get("ranges", [])}
    for name, lo, hi in RANGES:
        counts = got.get((name, lo, hi))
        if counts is None:
            problems.append(f"range {name} {lo}-{hi} missing from rsap ranges --json")
            continue
        for proto in PROTOCOLS:
            for status in STATUS_RANK:
                have = (counts.get(proto) or {}).get(status)
                if have != want[name][proto][status]:
                    problems.append(f"{name} {proto} {status}: expected "
                                    f"{want[name][proto][status]}, got {have}")
    report(f"{kind.upper()} range counts", problems)
    print(f"ok: {kind.upper()} range counts ({len(RANGES)} ranges x {len(PROTOCOLS)} "
          f"protocols x 3 statuses) as computed")


# ---- glibc's services(5) reader ------------------------------------------------

def nsswitch_uses_files():
    """Whether getent services reads /etc/services: "files", after nothing
    but a "db" source that has no database to answer from."""
    try:
        with open("/etc/nsswitch.conf", encoding="utf-8") as f:
            lines = [ln.split("#")[0].split() for ln in f]
    except OSError as e:
        return f"cannot read /etc/nsswitch.conf: {e.strerror}"
    sources = next((ln[1:] for ln in lines if ln and ln[0] == "services:"), ["files"])
    sources = [s for s in sources if not s.startswith("[")]
    if "files" not in sources:
        return f"/etc/nsswitch.conf: services: {' '.join(sources)} (no files)"
    for s in sources[:sources.index("files")]:
        if s != "db" or os.path.exists("/var/lib/misc/services.db"):
            return f"/etc/nsswitch.conf: services asks {s} before files"
    return None


def can_bind_services(probe):
    """None when a file can be bound over /etc/services in a private mount
    namespace, else why not."""
    if not os.path.isfile("/etc/services"):
        return "no /etc/services to bind over (install the package netbase)"
    if not shutil.which("unshare"):
        return "no unshare(1)"
    proc = subprocess.run(["unshare", "-m", "mount", "--bind", probe, "/etc/services"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return ("cannot bind a file over /etc/services in a private mount namespace: "
                + (proc.stderr.strip() or f"exit {proc.returncode}"))
    return None


def getent_in_namespace(services_file, keys):
    """`getent services KEY...` with services_file bound over /etc/services in
    a private mount namespace: returns getent's exit status, the first line of
    /etc/services as seen there, and getent's answer lines."""
    script = 'mount --bind "$1" /etc/services && shift && head -n 1 /etc/services && ' \
             'exec getent services "$@"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", services_file, *keys],
                          capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    return proc.returncode, lines[:1], [" ".join(ln.split()) for ln in lines[1:]]


def services_lines(records):
    """The services(5) lines the export must write, in order, as
    (name, port, proto): named records with a port, one line per port, and
    tcp and udp for the protocol-less ones."""
    for rec in records:
        span, name = port_span(rec), rec["service"]
        if not name or span is None or re.search("[ \t#]", name):
            continue
        for proto in [rec["protocol"]] if rec["protocol"] else ("tcp", "udp"):
            for port in range(span[0], span[1] + 1):
                yield name, port, proto


def getent_expectations(records, every, keys=()):
    """For keys, and for every n-th services(5) line's PORT/PROTO and
    NAME/PROTO: glibc's files backend answers with the first matching line."""
    first = {}
    for name, port, proto in services_lines(records):
        first.setdefault(f"{name}/{proto}", f"{name} {port}/{proto}")
        first.setdefault(f"{port}/{proto}", f"{name} {port}/{proto}")
    keys = [*keys, *(k for n, (name, port, proto) in enumerate(services_lines(records))
                     if n % every == 0
                     for k in (f"{port}/{proto}", f"{name}/{proto}")
                     if "/" not in name)]  # getent splits NAME/PROTO at the first '/'
    return {k: first[k] for k in keys}


def answer_matches(answer, want):
    """want is "NAME PORT/PROTO", or "NAME PORT/*" for any protocol."""
    if want.endswith("/*"):
        return answer.rpartition("/")[0] == want[:-2]
    return answer == want


def check_getent(label, services_file, expected):
    """expected: key -> what getent must print (see answer_matches)."""
    keys = list(expected)
    rc, head, answers = getent_in_namespace(services_file, keys)
    problems = []
    if not head or "written by rsap export" not in head[0]:
        problems.append(f"/etc/services in the namespace is not the export: {head}")
    if rc != 0 or len(answers) != len(keys):
        problems.append(f"getent services: exit {rc}, {len(answers)} answers for "
                        f"{len(keys)} keys")
    for key, answer in zip(keys, answers):
        if not answer_matches(answer, expected[key]):
            problems.append(f"getent services {key}: expected {expected[key]!r}, got {answer!r}")
    report(f"services(5) export of the {label}", problems)
    print(f"ok: glibc's getent answered {len(keys)} keys from the services(5) export of the "
          f"{label}")


def check_services(records, xml_db, empty_db, workdir):
    # getservbyname("http", NULL) takes the first http line of any protocol.
    fixed = {"1647/tcp": "rsap 1647/tcp", "rsap/udp": "rsap 1647/udp",
             "22/tcp": "ssh 22/tcp", "http": "http 80/*"}
    exports = {}
    for label, db_dir in (("XML registry", xml_db), ("built-in registry", empty_db)):
        exports[label] = os.path.join(workdir, label.split()[0] + ".services")
        rsap("export", "--db-dir", db_dir, "--format", "services", "--output", exports[label])
    why = nsswitch_uses_files() or can_bind_services(exports["XML registry"])
    if why:
        raise Skip(why)
    check_getent("XML registry", exports["XML registry"],
                 {**fixed, **getent_expectations(records, 41, ("http/tcp", "www/udp"))})
    # The built-in copy is the same XML: it must answer every key alike.
    check_getent("built-in registry", exports["built-in registry"],
                 {**fixed, **getent_expectations(records, 41, ("http/tcp", "www/udp"))})


# ---- the parts ------------------------------------------------------------------------

def part_xml(src, tmp):
    check_export("xml", os.path.join(src, XML_FILE), read_xml, XML_RECORDS, tmp("xml"))


def part_csv(src, tmp):
    check_export("csv", os.path.join(src, CSV_FILE), read_csv, CSV_RECORDS, tmp("csv"))


def check_builtin_source(src):
    """data/'s compressed XML must be the shared release, byte for byte."""
    committed = os.path.join(os.environ.get("RSAP_SOURCE_ROOT", ""), "data", XML_FILE + ".gz")
    if not os.path.isfile(committed):
        raise Skip(f"{committed} is not there (RSAP_SOURCE_ROOT unset?)")
    with gzip.open(committed, "rb") as f, open(os.path.join(src, XML_FILE), "rb") as g:
        if f.read() != g.read():
            raise Failure(f"{committed} is not {os.path.join(src, XML_FILE)} compressed")
    print(f"ok: {committed} holds {XML_FILE} unchanged")


def part_builtin(src, tmp):
    check_builtin_source(src)
    expected, release = read_xml(os.path.join(src, XML_FILE))
    builtin = export_json(tmp("empty"))
    problems = []
    for field, want in (("source", "built-in"), ("origin", "built-in"), ("release", release),
                        ("records", XML_RECORDS)):
        if builtin.get("data", {}).get(field) != want:
            problems.append(f"data.{field}: expected {want!r}, got "
                            f"{builtin.get('data', {}).get(field)!r}")
    problems += compare_records(expected, builtin.get("records", []))
    report("built-in export", problems)
    print(f"ok: all {XML_RECORDS} built-in records exported with every field as the XML has it")
    # The cached copy of the same file: the same records, the same people.
    xml_db = tmp("xml")
    update(xml_db, os.path.join(src, XML_FILE))
    cached = export_json(xml_db)
    problems = compare_records(cached.get("records", []), builtin.get("records", []))
    for field in ("release", "records", "people"):
        if cached["data"].get(field) != builtin["data"].get(field):
            problems.append(f"data.{field}: cached {cached['data'].get(field)!r}, built-in "
                            f"{builtin['data'].get(field)!r}")
    report("built-in against cached export", problems)
    print(f"ok: the built-in copy equals the cached copy of {XML_FILE}, record by record")
    check_lookups("built-in", expected, tmp("empty"), every=7, special=True)


def part_lookup(src, tmp):
    xml_db, csv_db = tmp("xml"), tmp("csv")
    records, _ = read_xml(os.path.join(src, XML_FILE))
    update(xml_db, os.path.join(src, XML_FILE))
    check_lookups("xml", records, xml_db, every=7, special=True)
    records, _ = read_csv(os.path.join(src, CSV_FILE))
    update(csv_db, os.path.join(src, CSV_FILE))
    check_lookups("csv", records, csv_db, every=13, special=False)


def part_ranges(src, tmp):
    for kind, reader in (("xml", read_xml), ("csv", read_csv)):
        path = os.path.join(src, XML_FILE if kind == "xml" else CSV_FILE)
        records, _ = reader(path)
        db_dir = tmp(kind)
        update(db_dir, path)
        check_ranges(kind, records, db_dir)


def part_services(src, tmp):
    xml_db = tmp("xml")
    records, _ = read_xml(os.path.join(src, XML_FILE))
    update(xml_db, os.path.join(src, XML_FILE))
    check_services(records, xml_db, tmp("empty"), tmp("exports"))


PARTS = {"xml": part_xml, "csv": part_csv, "builtin": part_builtin, "lookup": part_lookup, "ranges": part_ranges,
         "services": part_services}


def main(argv):
    if len(argv) != 2 or argv[1] not in PARTS:
        print(f"usage: {argv[0]} {'|'.join(PARTS)}", file=sys.stderr)
        return 2
    src = os.environ.get("RSAP_SHARED_DATA", "")
    if not src or not all(os.path.isfile(os.path.join(src, f)) for f in (XML_FILE, CSV_FILE)):
        print(f"SKIP: IANA's registry files are not in {src or '$RSAP_SHARED_DATA (unset)'}")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="rsap-data-") as top:
        def tmp(name):
            path = os.path.join(top, name)
            os.makedirs(path, exist_ok=True)
            return path
        try:
            PARTS[argv[1]](src, tmp)
        except Skip as e:
            print(f"SKIP: {e}")
            return SKIP
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One set of options per command, wherever it is written: the table that
getopt and --help both read (cli/main.c, as `rsap help --json` gives it),
the usage line, the bash completion, and the command's man page (the tags
of its OPTIONS section, and its SYNOPSIS).  No command may keep a getopt
table of its own: every one reads cli_getopt_options(self) through cli_getopt().

Usage: check_options.py SOURCE_ROOT (with $RSAP set).  Prints a FAIL line per
difference; exit status 0 when there is none, 1 otherwise."""
import json
import os
import re
import subprocess
import sys

root = sys.argv[1]
failures = []
COMMON = {"--json", "--db-dir", "--help"}


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def help_tables():
    out = subprocess.run([os.environ["RSAP"], "help", "--json"], capture_output=True, check=True,
                         text=True).stdout
    return {c["name"]: c for c in json.loads(out)["commands"]}


def completion_options(command):
    script = 'source "$1" && _rsap_options "$2"'
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "check",
                          os.path.join(root, "completion", "rsap.bash"), command],
                         capture_output=True, text=True).stdout
    return set(out.split())


def roff_options(text):
    """The long options a stretch of roff names: \\-\\-name, with \\- for hyphens."""
    return {"--" + m.replace("\\-", "-") for m in re.findall(r"\\-\\-((?:[a-z]|\\-)+)", text)}


def man_sections(command):
    path = os.path.join(root, "docs", f"rsap-{command}.1")
    if not os.path.exists(path):
        return None, None
    text = open(path).read()
    synopsis = re.search(r"^\.SH SYNOPSIS\n(.*?)^\.SH ", text, re.S | re.M)
    options = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", text, re.S | re.M)
    tags = set()
    if options:
        # The tag of each item: the line after .TP.
        for tag in re.findall(r"^\.TP\n(?:\.TP\n)*(.*)$", options.group(1), re.M):
            tags |= roff_options(tag)
    return (roff_options(synopsis.group(1)) if synopsis else set()), tags


def source_table(path):
    text = open(path).read()
    m = re.search(r"struct option options\[\] = \{(.*?)\};", text, re.S)
    if not m:
        return None
    found = {"--" + n for n in re.findall(r'\{ "([a-z-]+)", (?:no|required)_argument', m.group(1))}
    if "CLI_COMMON_LONG_OPTIONS" in m.group(1):
        found |= COMMON
    return found


def main():
    tables = help_tables()
    for name, command in tables.items():
        table = {o["name"] for o in command["options"]}
        own = table - COMMON
        if not COMMON <= table:
            fail(f"{name}: --help lacks the common options {sorted(COMMON - table)}")
        usage_options = set(re.findall(r"--[a-z][a-z-]*", command["usage"]))
        if usage_options - table:
            fail(f"{name}: the usage line names options the table lacks: {sorted(usage_options - table)}")
        if own - usage_options:
            fail(f"{name}: the usage line lacks {sorted(own - usage_options)}")
        completion = completion_options(name)
        if completion != table:
            fail(f"{name}: completion offers {sorted(completion - table)} beyond the table "
                 f"and lacks {sorted(table - completion)}")
        if name in ("help", "version"):
            synopsis, tags = man_sections("") if False else (None, None)
        else:
            synopsis, tags = man_sections(name)
            if synopsis is None:
                fail(f"{name}: no docs/rsap-{name}.1")
                continue
            if own - synopsis:
                fail(f"docs/rsap-{name}.1: SYNOPSIS lacks {sorted(own - synopsis)}")
            if synopsis - table:
                fail(f"docs/rsap-{name}.1: SYNOPSIS names {sorted(synopsis - table)}, which the command lacks")
            if own - tags:
                fail(f"docs/rsap-{name}.1: OPTIONS has no item for {sorted(own - tags)}")
            if tags - table:
                fail(f"docs/rsap-{name}.1: OPTIONS describes {sorted(tags - table)}, which the command lacks")
        source = os.path.join(root, "cli", f"cmd_{name.replace('-', '_')}.c")
        theirs = source_table(source) if os.path.exists(source) else None
        if theirs is not None:
            fail(f"{source}: a getopt table of its own; use cli_getopt_options(self)")
    print(f"options: {len(tables)} commands checked, {len(failures)} difference(s)")
    return 1 if failures else 0


sys.exit(main())

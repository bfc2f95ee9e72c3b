#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the version script of rsap-sqlite.so: it exports the SQLite
functions that cli/lazy_sqlite.c forwards to, and nothing else, so that the
forwarders and the module cannot disagree.  (SQLite's public data, such as
sqlite3_version, stays local: Debian's libsqlite3.a is built as position-
independent executable code, which a shared object may not export data from.)

    sqlite_map.py lazy_sqlite.c OUTPUT
"""
import re
import sys

source, output = sys.argv[1], sys.argv[2]
text = open(source).read()
names = re.findall(r"^SQLITE_FORWARD\([^,]+,\s*(sqlite3_\w+),", text, re.M)
names += re.findall(r"^SQLITE_VARIADIC\((sqlite3_\w+)\)$", text, re.M)
if len(names) != len(set(names)) or not names:
    sys.exit(f"sqlite_map.py: no forwarders, or one twice, in {source}")
with open(output, "w") as f:
    f.write("/* Made by cli/sqlite_map.py from cli/lazy_sqlite.c. */\n{\n  global:\n")
    f.writelines(f"    {n};\n" for n in names)
    f.write("  local: *;\n};\n")

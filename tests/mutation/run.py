#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mutation testing: puts each bug of mutations.py, alone, into a copy of the
committed tree, rebuilds it incrementally and runs the tests that should
catch it.  A mutation is KILLED when one of them fails, SURVIVED when all
pass, NOT APPLIED when its original text no longer occurs exactly once (the
table is stale: a harness failure) and NO BUILD when the mutant does not
compile even without -Werror (a harness failure too: a mutation must be a
bug, not a syntax error).

  tests/mutation/run.py --all             every mutation
  tests/mutation/run.py --share K/N       the K-th of N shares (1 <= K <= N)
  tests/mutation/run.py --share day/N     today's share (day of the year), as CI runs it
  tests/mutation/run.py ID...             the named ones
  tests/mutation/run.py --list            the table, nothing run

The copy and its build live in build-mutation/ (--work DIR): made once from
`git archive HEAD`, then refreshed file by file so that only what changed is
rebuilt.  The mutated file is restored after each mutation.  Before any
mutation the named tests run once on the unmutated copy: a test that fails
there would "kill" every mutation, so the run stops.

Exit status: 0 when every selected mutation applied and built (survivors are
reported, not fatal, unless --strict), 1 otherwise, 2 on bad arguments.
"""
import argparse
import datetime
import io
import json
import os
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from mutations import MUTATIONS  # noqa: E402


def entries():
    for m in MUTATIONS:
        ident, path, original, replacement, tests = m[:5]
        yield {"id": ident, "file": path, "original": original, "replacement": replacement,
               "tests": tests, "note": m[5] if len(m) > 5 else ""}


def refresh_copy(src):
    """The committed tree (HEAD) in src, writing only the files that differ."""
    data = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "HEAD"],
                          check=True, stdout=subprocess.PIPE).stdout
    changed = 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        wanted = {os.path.normpath(m.name) for m in members}
        # Files that HEAD no longer has go too (a stale source could still build).
        for parent, _, files in os.walk(src):
            for name in files:
                path = os.path.join(parent, name)
                if os.path.relpath(path, src) not in wanted:
                    os.unlink(path)
                    changed += 1
        for member in members:
            target = os.path.join(src, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            if not member.isfile():
                continue
            content = tar.extractfile(member).read()
            try:
                with open(target, "rb") as f:
                    if f.read() == content:
                        continue
            except FileNotFoundError:
                pass
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(content)
            os.chmod(target, member.mode)
            changed += 1
    return changed


def run_quiet(cmd, log, **kw):
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw).returncode


def build(build_dir, log):
    return run_quiet(["nice", "ninja", "-C", build_dir], log) == 0


def run_tests(build_dir, tests, log):
    return run_quiet(["nice", "meson", "test", "-C", build_dir, "--no-rebuild",
                      "--print-errorlogs", *tests], log) == 0


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def usage_error(message):
    print(f"run.py: {message}", file=sys.stderr)
    sys.exit(2)


def select(args):
    table = list(entries())
    if args.all or (args.list and not args.share and not args.ids):
        return table
    if args.share:
        try:
            k_text, n_text = args.share.split("/")
            n = int(n_text)
            # "day": today's share, so that N days of CI runs cover the table.
            k = time.gmtime().tm_yday % n + 1 if k_text == "day" else int(k_text)
        except (ValueError, ZeroDivisionError):
            k = n = 0
        if not 1 <= k <= n:
            usage_error("--share K/N wants 1 <= K <= N (or K = day), e.g. --share 2/7")
        return [m for i, m in enumerate(table) if i % n == k - 1]
    known = {m["id"].split(" ")[0]: m for m in table}
    missing = [i for i in args.ids if i not in known]
    if missing:
        usage_error("no such mutation: " + ", ".join(missing) + " (--list shows them)")
    if not args.ids:
        usage_error("which mutations? --all, --share K/N or IDs (--list shows them)")
    return [known[i] for i in args.ids]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ids", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--share", metavar="K/N")
    p.add_argument("--list", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 when a mutation survives")
    p.add_argument("--work", default=os.path.join(ROOT, "build-mutation"))
    args = p.parse_args()
    chosen = select(args)
    if args.list:
        for m in chosen:
            print(f"{m['id']:30} {m['file']:22} {' '.join(m['tests'])}")
        return 0

    work = os.path.abspath(args.work)
    src, build_dir = os.path.join(work, "src"), os.path.join(work, "build")
    logs = os.path.join(work, "logs")
    os.makedirs(src, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    # The tests find IANA's files at the source root's ../shared.
    shared = os.path.join(work, "shared")
    if not os.path.lexists(shared) and os.path.isdir(os.path.join(ROOT, "..", "shared")):
        os.symlink(os.path.realpath(os.path.join(ROOT, "..", "shared")), shared)
    started = time.monotonic()
    changed = refresh_copy(src)
    setup_log = os.path.join(logs, "setup.log")
    # Without -Werror: a mutant that leaves a variable unused is still a bug
    # to catch, not a build to give up on.
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        setup = ["meson", "setup", "-Dwerror=false", build_dir, src]
    else:
        setup = ["meson", "configure", "-Dwerror=false", build_dir]
    if run_quiet(setup, setup_log) != 0:
        print(f"mutation: {' '.join(setup)} failed, see {setup_log}", file=sys.stderr)
        return 1
    print(f"mutation: copy of HEAD in {src} ({changed} files refreshed)")
    if not build(build_dir, setup_log):
        print(f"mutation: the unmutated copy does not build, see {setup_log}", file=sys.stderr)
        return 1
    wanted = sorted({t for m in chosen for t in m["tests"]})
    baseline_log = os.path.join(logs, "baseline.log")
    if os.path.exists(baseline_log):
        os.unlink(baseline_log)
    if not run_tests(build_dir, wanted, baseline_log):
        print(f"mutation: the tests fail without any mutation, see {baseline_log}",
              file=sys.stderr)
        return 1

    results = []
    for m in chosen:
        path = os.path.join(src, m["file"])
        with open(path) as f:
            original = f.read()
        log = os.path.join(logs, m["id"].split(" ")[0] + ".log")
        if os.path.exists(log):
            os.unlink(log)
        t0 = time.monotonic()
        count = original.count(m["original"])
        if count != 1:
            verdict = "NOT APPLIED"
            detail = f"original text found {count} times in {m['file']}"
        else:
            write(path, original.replace(m["original"], m["replacement"]))
            try:
                if not build(build_dir, log):
                    verdict, detail = "NO BUILD", f"see {log}"
                elif run_tests(build_dir, m["tests"], log):
                    verdict, detail = "SURVIVED", " ".join(m["tests"])
                else:
                    verdict, detail = "KILLED", ""
            finally:
                write(path, original)
        seconds = time.monotonic() - t0
        note = f"  ({m['note']})" if verdict == "SURVIVED" and m["note"] else ""
        print(f"{verdict:11} {m['id']:30} {seconds:5.0f}s {detail}{note}", flush=True)
        results.append({"id": m["id"], "file": m["file"], "verdict": verdict,
                        "seconds": round(seconds, 1), "tests": m["tests"], "note": m["note"]})
    build(build_dir, setup_log)  # back to the unmutated build for the next run

    def count(v):
        return sum(r["verdict"] == v for r in results)
    killed, survived = count("KILLED"), count("SURVIVED")
    broken = count("NOT APPLIED") + count("NO BUILD")
    equivalent = sum(r["verdict"] == "SURVIVED" and r["note"].startswith("equivalent")
                     for r in results)
    scored = killed + survived - equivalent
    score = 100.0 * killed / scored if scored else 100.0
    minutes = (time.monotonic() - started) / 60
    print(f"\nmutation score: {killed}/{scored} killed ({score:.0f}%), {survived} survived "
          f"({equivalent} known equivalent), {broken} harness failures; {minutes:.1f} min")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                   "results": results, "score": round(score, 1)}, f, indent=1)
    if broken:
        print("mutation: HARNESS FAILURE: fix the entries marked NOT APPLIED or NO BUILD "
              "in tests/mutation/mutations.py", file=sys.stderr)
        return 1
    if args.strict and survived > equivalent:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Keeps the manual and the bash completion honest:
#  1. every docs/*.1 renders with groff without a single warning;
#  2. every command of cli/main.c's table has its page, docs/rsap-NAME.1,
#     and a mention in docs/rsap.1 (help and version excepted);
#  3. completion/rsap.bash offers every command, and for each command
#     exactly the options of its table in cli/main.c, which getopt and
#     --help both read; the usage line and the man page name the same
#     (check_options.py, which runs $RSAP help --json).
#
# Usage: check_docs.sh SOURCE_ROOT.  Exit status 0 passed, 1 failed, 77
# skipped (groff missing: checks 2 and 3 still ran and passed).
set -u

root=${1:?usage: check_docs.sh SOURCE_ROOT}
failures=0

fail()
{
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# ---- 1. the pages render cleanly ---------------------------------------

have_groff=1
if command -v groff >/dev/null 2>&1; then
    shopt -s nullglob
    pages=("$root"/docs/*.1)
    shopt -u nullglob
    ((${#pages[@]} > 0)) || fail "no man pages in $root/docs"
    for page in "${pages[@]}"; do
        # -Tutf8 lays the page out for a terminal, as man(1) does, so that
        # a line too long to break is caught; groff exits 0 on warnings.
        out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        if [[ -n $out ]]; then
            fail "${page#"$root"/}: groff warns:"
            printf '%s\n' "$out" | sed 's/^/    /'
        fi
    done
else
    have_groff=0
    echo "SKIP: groff not found (Debian: groff-base): pages not rendered"
fi

# ---- 2. one page per command -------------------------------------------

main_c=$root/cli/main.c
mapfile -t commands < <(sed -n 's/.*{ *"\([a-z-]*\)", *cmd_.*/\1/p' "$main_c")
((${#commands[@]} > 0)) || fail "no commands found in $main_c"
# The COMMANDS section of rsap(1), where each command has its ".B name".
rsap_commands=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$root/docs/rsap.1")

for name in "${commands[@]}"; do
    case $name in help | version) continue ;; esac
    # A hyphen in roff source is \- (kernel-reserve: rsap\-kernel\-reserve).
    roff=${name//-/\\-}
    page=$root/docs/rsap-$name.1
    if [[ ! -f $page ]]; then
        fail "command '$name' has no page docs/rsap-$name.1"
    elif ! grep -qF ".TH RSAP\\-${roff^^} 1 " "$page"; then
        fail "docs/rsap-$name.1: no '.TH RSAP\\-${roff^^} 1' line"
    fi
    # rsap(1) lists the command (".B name" in COMMANDS) and points to its page.
    if ! grep -qxF ".B $roff" <<<"$rsap_commands"; then
        fail "docs/rsap.1 does not list the command '$name' (.B $roff)"
    fi
    if ! grep -Fq "rsap\\-$roff (1)" "$root/docs/rsap.1"; then
        fail "docs/rsap.1 does not refer to rsap\\-$roff (1)"
    fi
done

# ---- 3. the completion -------------------------------------------------

# Prints what _rsap offers for the words given, the last one being completed.
complete_words()
{
    bash --norc --noprofile -c '
        source "$1" || exit 3
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        _rsap || exit 4
        printf "%s\n" "${COMPREPLY[@]}"
    ' check "$root/completion/rsap.bash" "$@"
}

# expect_offered WORDS... :: CANDIDATES...
expect_offered()
{
    local words=() offered want
    while [[ $1 != :: ]]; do
        words+=("$1")
        shift
    done
    shift
    if ! offered=$(complete_words "${words[@]}"); then
        fail "completing '${words[*]}': the completion script failed"
        return
    fi
    for want in "$@"; do
        if ! grep -qxF -- "$want" <<<"$offered"; then
            fail "completing '${words[*]}' does not offer '$want' (got: $(echo $offered))"
        fi
    done
}

if [[ ! -f $root/completion/rsap.bash ]]; then
    fail "completion/rsap.bash is missing"
else
    if ! bash --norc --noprofile -c 'source "$1" && complete -p rsap' check \
        "$root/completion/rsap.bash" | grep -q -- '-F _rsap rsap'; then
        fail "completion/rsap.bash does not run 'complete -F _rsap rsap'"
    fi

    expect_offered rsap "" :: "${commands[@]}"
    expect_offered rsap list -- :: --assigned
    expect_offered rsap export --format "" :: services csv json systemd nft firewalld srv

    # One set of options per command: the table getopt and --help read,
    # the usage line, the completion and the man page (check_options.py).
    if [[ -z ${RSAP:-} ]]; then
        fail "RSAP is not set: the option tables cannot be read"
    elif ! python3 "$(dirname "${BASH_SOURCE[0]}")/check_options.py" "$root"; then
        fail "the options of the commands differ between table, usage, completion and man pages"
    fi
fi

if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
fi
if ((have_groff == 0)); then
    exit 77
fi
echo "docs: all checks passed"
exit 0

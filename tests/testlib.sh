# SPDX-License-Identifier: MIT
# What the shell tests of rsap share: counting passes and failures, running
# rsap and looking at what it printed.  The sourcing script sets $RSAP and
# $work (a scratch directory), and ends with its own summary line.

passed=0
failed=0

fail() {
        echo "FAIL: $*"
        failed=$((failed + 1))
}

# run EXPECTED_STATUS ARGS...: runs rsap, keeps stdout/stderr in $out/$err.
run() {
        local want=$1
        shift
        "$RSAP" "$@" >"$work/out" 2>"$work/err"
        status=$?
        out=$(cat "$work/out")
        err=$(cat "$work/err")
        if [ "$status" -ne "$want" ]; then
                fail "rsap $* exited $status, wanted $want; stderr: $err"
                return 1
        fi
        passed=$((passed + 1))
        return 0
}

# expect_out TEXT / expect_err TEXT: the last run printed TEXT.
expect_out() {
        case "$out" in *"$1"*) passed=$((passed + 1)) ;; *) fail "stdout lacks '$1': $out" ;; esac
}
expect_err() {
        case "$err" in *"$1"*) passed=$((passed + 1)) ;; *) fail "stderr lacks '$1': $err" ;; esac
}
expect_no_out() {
        case "$out" in *"$1"*) fail "stdout has '$1': $out" ;; *) passed=$((passed + 1)) ;; esac
}

# expect_one_line_error: bad input gets exactly one line on stderr, none on stdout.
expect_one_line_error() {
        local lines
        lines=$(printf '%s\n' "$err" | wc -l)
        if [ -n "$out" ] || [ "$lines" -ne 1 ] || [ "${err#rsap: }" = "$err" ]; then
                fail "wanted one 'rsap: ' line on stderr, got stdout '$out' stderr '$err'"
        else
                passed=$((passed + 1))
        fi
}

# json_check PYTHON_EXPR: evaluates the expression with j = the JSON on stdout.
json_check() {
        if printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; then
                passed=$((passed + 1))
        else
                fail "JSON check failed: $1 on $out"
        fi
}

check() { # check DESCRIPTION COMMAND...: a shell condition
        local what=$1
        shift
        if "$@"; then passed=$((passed + 1)); else fail "$what"; fi
}

# start_reporting COMMAND...: starts a server in the background that binds
# loopback (port 0, or one it chose) and writes its port as one flushed line
# on stdout; sets $server_pid and $server_port (empty if it died first).
# The port comes through a pipe, never from a log that may sit in a buffer.
start_reporting() {
        local fifo
        fifo=$(mktemp -u "$work/port.XXXXXX")
        mkfifo "$fifo" || return 1
        "$@" >"$fifo" &
        server_pid=$!
        server_port=""
        read -r server_port <"$fifo"
        rm -f "$fifo"
        [ -n "$server_port" ]
}

# own_network_namespace ARGS...: runs this script again (with ARGS) in a
# network namespace of its own, loopback up and nothing else, so that what
# listens on the host's ports (an rsapd.service on 1647, a web server on
# 8443) changes neither what the test sees nor what rsap picks; where no
# namespace may be made it says so and the script goes on on the host.  Call
# it right after sourcing this file: it removes $work before starting again.
own_network_namespace() {
        local how
        [ -n "${RSAP_TEST_OWN_NETNS:-}" ] && return 0
        for how in "unshare --net" "unshare --map-current-user --net"; do
                if $how ip link set lo up 2>/dev/null; then
                        rm -rf "$work"
                        RSAP_TEST_OWN_NETNS=1 exec $how sh -c 'ip link set lo up && exec "$@"' \
                                sh bash "$0" "$@"
                fi
        done
        echo "note: no network namespace may be made here: the test sees the host's ports"
}

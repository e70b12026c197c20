#!/usr/bin/env bats
# shellcheck shell=bats
# lines.bats - line mode (-i/--each-line) against a real, throwaway server
# on 127.0.0.1: tests/prosody-lines.bats and tests/ejabberd-lines.bats are
# links to this file, which takes the server from its own name (the part
# before '-'; tests/lib/server.bash). bob and carol never log in, so every
# message to them is stored by the server: what arrived is proven from
# the server's store, not from what xmppsend printed.

bats_require_minimum_version 1.5.0

load helper
load lib/server

setup() {
    srv_skip_missing
    # Valgrind (XS_SLOW) on a busy 2-core machine is 20-50 times slower.
    WAIT_S=60
    XS_TIMEOUT=300
    if [ -n "${XS_SLOW-}" ]; then
        WAIT_S=600
        XS_TIMEOUT=1200
    fi
    export XS_TIMEOUT
    TAG=$(printf 'xs-l%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM")
}

# Shown by bats only when a test fails.
teardown() {
    srv_last_run
    if [ -n "${BG_PID-}" ]; then kill "$BG_PID" 2>/dev/null || true; fi
    if [ -n "${RELAY_PID-}" ]; then kill "$RELAY_PID" 2>/dev/null || true; fi
}

# tagged USER: "ID<TAB>BODY" of each message stored for USER whose body
# contains this test's $TAG, in the server's order (newlines in a body
# as \n). Read from the server once per test (ejabberd: a login of
# USER's): call it only after the test sent everything.
tagged() {
    local f=$BATS_TEST_TMPDIR/tagged-$1
    if [ ! -e "$f" ]; then
        srv_stored "$1" | timeout 30 python3 -c '
import sys, xml.etree.ElementTree as ET
tag = sys.argv[1]
for line in sys.stdin:
    m = ET.fromstring(line)
    b = [c for c in m if c.tag.split("}")[-1] == "body"]
    body = (b[0].text or "") if b else ""
    if tag in body:
        print(m.get("id") + "\t" + body.replace("\n", "\\n"))
' "$TAG" >"$f.new" || return 1
        mv "$f.new" "$f"
    fi
    cat "$f"
}

# wait_count USER N: until at least N messages are stored for USER (up to
# WAIT_S seconds); the count is cheap to read, unlike the messages
wait_count() {
    local i n
    for ((i = 0; i < WAIT_S * 4; i++)); do
        n=$(srv_stored_count "$1")
        [ "$n" -ge "$2" ] && return 0
        sleep 0.25
    done
    fail "only $n of $2 messages stored for $1"
}

# bg_wait STATUS: wait for the background xmppsend ($BG_PID), which must
# exit with STATUS (run cannot wait: it runs in a subshell)
bg_wait() {
    local rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=
    status=$rc
    output=$(cat "$BATS_TEST_TMPDIR/out" 2>/dev/null)
    # shellcheck disable=SC2034 # shown by srv_last_run (teardown)
    stderr=$(cat "$BATS_TEST_TMPDIR/err" 2>/dev/null)
    [ "$rc" -eq "$1" ] || fail "xmppsend exited $rc, not $1"
}

# sent_ids RECIPIENT FILE: the ids of the "sent<TAB>RECIPIENT<TAB>ID"
# lines of FILE, in order
sent_ids() {
    awk -F '\t' -v r="$1" '$1 == "sent" && $2 == r { print $3 }' "$2"
}

# stored_ids USER: the ids of the messages with $TAG stored for USER
stored_ids() {
    tagged "$1" | cut -f1
}

@test "-i: each non-blank line is one stored message, in order, with the printed id" {
    local in=$BATS_TEST_TMPDIR/in want
    {
        printf '%s one\n\n   \n' "$TAG"
        printf '%s two & <three>\r\n' "$TAG"
        printf '%s four, no newline at the end' "$TAG"
    } >"$in"
    run -0 --separate-stderr xsa -i --subject "$TAG subject" \
        bob@localhost carol@localhost <"$in"
    [ "${#lines[@]}" -eq 6 ] || fail "expected 6 result lines"
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
    want=$(printf '%s\n' "$TAG one" "$TAG two & <three>" \
        "$TAG four, no newline at the end")
    for u in bob carol; do
        [ "$(tagged "$u" | cut -f2-)" = "$want" ] ||
            fail "$u: stored $(tagged "$u")"
        [ "$(stored_ids "$u")" = "$(sent_ids "$u@localhost" "$BATS_TEST_TMPDIR/out")" ] ||
            fail "$u: stored ids are not the printed ones"
    done
    # The subject on every message.
    [ "$(srv_stored bob | grep -c "<subject>$TAG subject</subject>")" -eq 3 ]
    # Three different ids per recipient.
    [ "$(sent_ids bob@localhost "$BATS_TEST_TMPDIR/out" | sort -u | wc -l)" -eq 3 ]
}

@test "-i: a line goes out when it comes; --timeout counts per message" {
    local go=$BATS_TEST_TMPDIR/go out=$BATS_TEST_TMPDIR/out t=4 start base
    # Under valgrind the login alone can take more than a few seconds.
    if [ -n "${XS_SLOW-}" ]; then t=30; fi
    base=$(srv_stored_count bob)
    start=$SECONDS
    {
        printf '%s first\n' "$TAG"
        while [ ! -e "$go" ]; do sleep 0.2; done
        printf '%s second\n' "$TAG"
    } | xsa --timeout "$t" -i bob@localhost >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    BG_PID=$!
    # The first line is stored while the producer still waits for $go.
    wait_count bob $((base + 1))
    [ ! -e "$go" ]
    # The second comes later than --timeout after the start: it has a
    # deadline of its own.
    while ((SECONDS - start <= t + 1)); do sleep 0.5; done
    touch "$go"
    bg_wait 0
    [ "$(tagged bob | cut -f2-)" = "$(printf '%s\n' "$TAG first" "$TAG second")" ]
    [ "$(stored_ids bob)" = "$(sent_ids bob@localhost "$out")" ]
}

@test "-i: across a server restart no line is lost or stored twice" {
    local fifo=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out want
    local dir=$BATS_FILE_TMPDIR/$SRV_KIND base
    base=$(srv_stored_count carol)
    mkfifo "$fifo"
    xsa -i carol@localhost <"$fifo" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    BG_PID=$!
    exec 5>"$fifo"
    printf '%s 1\n%s 2\n' "$TAG" "$TAG" >&5
    wait_count carol $((base + 2))
    srv_stop "$dir"
    # Written while the server is down: one meets the dead connection,
    # the next waits in the pipe while xmppsend reconnects.
    printf '%s 3\n' "$TAG" >&5
    sleep 1
    printf '%s 4\n' "$TAG" >&5
    # 5>&-: the server must not hold the pipe open.
    srv_start_again "$dir" 5>&-
    printf '%s 5\n' "$TAG" >&5
    exec 5>&-
    bg_wait 0
    want=$(printf '%s\n' "$TAG 1" "$TAG 2" "$TAG 3" "$TAG 4" "$TAG 5")
    [ "$(tagged carol | cut -f2-)" = "$want" ] ||
        fail "stored: $(tagged carol)"
    [ "$(stored_ids carol)" = "$(sent_ids carol@localhost "$out")" ] ||
        fail "stored ids $(stored_ids carol) / printed $(cat "$out")"
}

@test "-i: a reply lost on the network: the session is resumed (XEP-0198), the line not stored twice" {
    local fifo=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
    local err=$BATS_TEST_TMPDIR/err pf=$BATS_TEST_TMPDIR/relay-port
    local base t=4 i rport rpid want
    # Under valgrind the login alone can take many seconds.
    if [ -n "${XS_SLOW-}" ]; then t=30; fi
    base=$(srv_stored_count carol)
    timeout 900 python3 "$BATS_TEST_DIRNAME/relay.py" --to "$SRV_PORT" \
        --port-file "$pf" --max-seconds 890 2>"$BATS_TEST_TMPDIR/relay.log" 3>&- &
    RELAY_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -s "$pf" ] && break
        sleep 0.1
    done
    read -r rport rpid <"$pf"
    mkfifo "$fifo"
    xs --server "127.0.0.1:$rport" --cafile "$SRV_CA" -j alice@localhost \
        --password-file "$PW_FILE" --timeout "$t" -d -i carol@localhost \
        <"$fifo" >"$out" 2>"$err" 3>&- &
    BG_PID=$!
    exec 5>"$fifo"
    printf '%s 1\n' "$TAG" >&5
    wait_count carol $((base + 1))
    # From now on the server's answers on this connection are lost: line
    # 2 reaches the server, its confirmation never reaches xmppsend,
    # which gives up on the connection after --timeout and resumes.
    kill -USR1 "$rpid"
    sleep 0.5
    printf '%s 2\n' "$TAG" >&5
    wait_count carol $((base + 2))
    for ((i = 0; i < (t + 30) * 4; i++)); do
        grep -q 'session resumed' "$err" && break
        sleep 0.25
    done
    printf '%s 3\n' "$TAG" >&5
    exec 5>&-
    bg_wait 0
    kill "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=
    want=$(printf '%s\n' "$TAG 1" "$TAG 2" "$TAG 3")
    [ "$(tagged carol | cut -f2-)" = "$want" ] ||
        fail "stored: $(tagged carol)"
    [ "$(stored_ids carol)" = "$(sent_ids carol@localhost "$out")" ] ||
        fail "stored ids $(stored_ids carol) / printed $(cat "$out")"
    # The second connection resumed the first session (no new bind) and
    # the server's count said it had line 2: it was not written again.
    grep -q 'xmppsend: session resumed; the server had line 2: not sent again' "$err" ||
        fail "no resumption note: $(grep -v '^[<>]' "$err" | head -5)"
    [ "$(grep -c 'accept ' "$BATS_TEST_TMPDIR/relay.log")" -eq 2 ]
    grep -q "<resumed " "$err" || fail "no <resumed/> in the trace"
    [ "$(grep -c "<body>$TAG 2</body>" "$err")" -eq 1 ] ||
        fail "line 2 written $(grep -c "<body>$TAG 2</body>" "$err") times"
}

@test "-i: a line longer than 1 MiB is refused (65), the others are sent" {
    local in=$BATS_TEST_TMPDIR/in
    {
        printf '%s before\n' "$TAG"
        head -c 1048600 /dev/zero | tr '\0' x
        printf '\n%s after\n' "$TAG"
    } >"$in"
    run -65 --separate-stderr xsa -i bob@localhost <"$in"
    assert_xs_error 'line 2 is longer than 1 MiB'
    [ "${#lines[@]}" -eq 2 ] || fail "expected 2 result lines"
    [ "$(tagged bob | cut -f2-)" = "$(printf '%s\n' "$TAG before" "$TAG after")" ]
}

@test "-i: a wrong password fails at once (77), before any line; -i with -m or --roster is a usage error" {
    local fifo=$BATS_TEST_TMPDIR/in
    mkfifo "$fifo"
    # Nothing is ever written: only the login can end this run.
    exec 5<>"$fifo"
    run -77 --separate-stderr xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j alice@localhost --password-file "$BAD_PW_FILE" \
        -i bob@localhost <"$fifo"
    exec 5>&-
    assert_xs_error 'authentication failed'
    run -64 --separate-stderr xsa -i -m hi bob@localhost </dev/null
    assert_xs_error 'cannot use both --each-line and --message'
    run -64 --separate-stderr xsa -i --roster </dev/null
    assert_xs_error
}

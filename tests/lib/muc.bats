#!/usr/bin/env bats
# shellcheck shell=bats
# muc.bats - group chats (XEP-0045) on a real, throwaway server:
# tests/prosody-muc.bats and tests/ejabberd-muc.bats are links to this
# file, which takes the server from its own name (the part before '-';
# tests/lib/server.bash). Rooms live on conference.localhost and persist.
# The proof is never xmppsend's own output: bob, a second client
# (tests/testclient.py), sits in the room and prints every message it
# receives, reads a room's history, or asks whether a room exists.

bats_require_minimum_version 1.5.0

load helper
load lib/server

MUC=conference.localhost

setup() {
    srv_skip_missing
    SIT_PID=
}

# Shown by bats only when a test fails.
teardown() {
    if [ -n "${SIT_PID-}" ]; then
        kill "$SIT_PID" 2>/dev/null || true
        wait "$SIT_PID" 2>/dev/null || true
    fi
    srv_last_run
}

# bob ARGS...: the second client, logged in as bob (BOB_TIMEOUT seconds)
bob() {
    timeout "${BOB_TIMEOUT:-120}" python3 "$TESTS_DIR/testclient.py" "$SRV_PORT" "$SRV_CA" \
        bob@localhost bob-pw "$@"
}

room() {
    printf 'xs-t%s-%s%s@%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM" "$MUC"
}

# sit ROOM NICK [OPT...]: bob joins ROOM as NICK in the background
# (creating and configuring it as testclient.py muc-sit says) and stays
# until unsit.
sit() {
    local i
    SIT_OUT=$BATS_TEST_TMPDIR/sit.out
    SIT_STOP=$BATS_TEST_TMPDIR/sit.stop
    rm -f "$SIT_STOP"
    # 3>&-: bats waits for fd 3 to close.
    # Sits through several runs, each maybe under valgrind on a busy
    # machine: a generous bound (teardown ends it anyway).
    BOB_TIMEOUT=1200 bob muc-sit "$1" "$2" "$SIT_STOP" "${@:3}" >"$SIT_OUT" \
        2>"$SIT_OUT.err" 3>&- &
    SIT_PID=$!
    for ((i = 0; i < 600; i++)); do
        grep -qx ready "$SIT_OUT" && return 0
        kill -0 "$SIT_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "bob did not get into $1: $(cat "$SIT_OUT.err")"
}

# unsit: bob leaves once every message sent to the room before has
# reached him; $sat is what he received (NICK<TAB>ID<TAB>BODY lines).
unsit() {
    touch "$SIT_STOP"
    wait "$SIT_PID" || fail "bob's client failed: $(cat "$SIT_OUT.err")"
    SIT_PID=
    sat=$(grep -vx ready "$SIT_OUT" || true)
}

# setup_room ROOM OPT...: bob creates ROOM with OPTs and leaves
setup_room() {
    touch "$BATS_TEST_TMPDIR/now"
    bob muc-sit "$1" bob "$BATS_TEST_TMPDIR/now" "${@:2}" >/dev/null ||
        fail "cannot set up room $1"
}

@test "a room (xmpp:ROOM?join) and a user in one run: bob in the room gets it once, carol's is stored" {
    local r body id line
    r=$(room)
    body="hello room $RANDOM"
    sit "$r" bob
    run --separate-stderr -0 xsa -d -m "$body" "xmpp:$r?join" carol@localhost
    unsit
    [ "${#lines[@]}" -eq 2 ] || fail "expected two result lines"
    assert_match "${lines[0]}" $'^sent\tcarol@localhost\t'
    assert_match "${lines[1]}" $'^sent\t'"$r"$'\t[^\t]+$'
    id=${lines[1]##*$'\t'}
    [ "$sat" = "alice"$'\t'"$id"$'\t'"$body" ] ||
        fail "bob got: '$sat', want one message from alice with id $id"
    [ "$(srv_stored_count carol)" -ge 1 ] || fail "nothing stored for carol"
    # One round trip: the message is written right behind the join, in
    # the same flight (no line from the server in between).
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    line=$(grep -m1 -A1 "^C: <presence to='$r/alice'" <<<"$stderr" | tail -n1)
    assert_match "$line" "^C: <message to='$r' type='groupchat' id='$id'>"
}

@test "a password-protected room: none or wrong 77, right (config file key) 0, the password never traced" {
    local r body cfg
    r=$(room)
    body="right password $RANDOM"
    sit "$r" bob password=Room-S3cret
    run --separate-stderr -77 xsa -m "no password" -c "$r"
    assert_match "${lines[0]}" $'^failed\t'"$r"$'\tnot-authorized$'
    assert_xs_error "$r: not-authorized"
    # ejabberd sends the wrong password back in its error: not traced.
    run --separate-stderr -77 xsa -d -m "wrong password" -c "$r" \
        --room-password Wrong-0ne
    refute_match "$stderr" "Wrong-0ne"
    if [ "$SRV_KIND" = ejabberd ]; then
        assert_match "$stderr" "S: .*<password>\[redacted\]</password>"
    fi
    mkdir -p "$BATS_TEST_TMPDIR/cfg/xmppsend"
    cfg=$BATS_TEST_TMPDIR/cfg/xmppsend/config
    (umask 077 && printf 'room-password Room-S3cret\n' >"$cfg")
    XS_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg run --separate-stderr -0 \
        xsa -d -m "$body" -c "$r"
    refute_match "$stderr" "Room-S3cret"
    assert_match "$stderr" "<password>\[redacted\]</password>"
    unsit
    [ "$(wc -l <<<"$sat")" -eq 1 ] || fail "bob got: '$sat'"
    assert_match "$sat" $'^alice\t[^\t]+\t'"$body"'$'
}

@test "members-only, banned, no voice: 69 for each, nothing reaches the rooms" {
    local mo ban mod
    mo=$(room)
    ban=$(room)
    mod=$(room)
    setup_room "$mo" members-only
    setup_room "$ban" ban=alice@localhost
    setup_room "$mod" moderated
    run --separate-stderr -69 xsa -m "keep out" -c "$mo" -c "$ban" -c "$mod"
    [ "${lines[0]}" = "failed"$'\t'"$mo"$'\tregistration-required' ] ||
        fail "members-only: ${lines[0]}"
    [ "${lines[1]}" = "failed"$'\t'"$ban"$'\tforbidden' ] ||
        fail "banned: ${lines[1]}"
    # Joined as a visitor: the room refuses the message itself.
    [ "${lines[2]}" = "failed"$'\t'"$mod"$'\tforbidden' ] ||
        fail "moderated: ${lines[2]}"
    # Only bob's own words (setting up) are in the rooms' history.
    run -0 bob muc-history "$mo" bob
    assert_match "$output" $'^bob\tmuc-sit-stop\tstop'
    refute_match "$output" "(^|"$'\n'")alice"
    run -0 bob muc-history "$ban" bob
    refute_match "$output" "(^|"$'\n'")alice"
    run -0 bob muc-history "$mod" bob
    refute_match "$output" "(^|"$'\n'")alice"
}

@test "a room that does not exist: 67 and not left behind; --create-room creates it with the message" {
    local r id
    r=$(room)
    run --separate-stderr -67 xsa -m "into the void" -c "$r"
    [ "${lines[0]}" = "failed"$'\t'"$r"$'\titem-not-found' ] ||
        fail "got: ${lines[0]}"
    assert_xs_error "$r: item-not-found"
    # Not even a tombstone (Prosody's "gone"): the name stays free.
    run -0 bob muc-info "$r"
    [ "$output" = item-not-found ] || fail "after the run the room is: $output"

    run --separate-stderr -0 xsa --json --create-room -m "first words" -c "$r"
    id=$(timeout 10 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True and r["exit"] == 0, r
(x,) = r["recipients"]
assert x["jid"] == sys.argv[2] and x["status"] == "sent", x
print(x["id"])' "$output" "$r") || fail "bad --json output"
    # The room exists, unlocked (bob walks in), and holds the message.
    run -0 bob muc-history "$r" bob
    [ "$output" = "alice"$'\t'"$id"$'\tfirst words' ] ||
        fail "history of the new room: '$output'"
}

@test "nick taken: a second try with a suffix; --nick chooses the nick" {
    local r
    r=$(room)
    sit "$r" alice
    run --separate-stderr -0 xsa -m "taken" -c "$r"
    run --separate-stderr -0 xsa -m "chosen" -c "$r" --nick 'Zoë Ali'
    unsit
    [ "$(wc -l <<<"$sat")" -eq 2 ] || fail "bob got: '$sat'"
    assert_match "$(sed -n 1p <<<"$sat")" $'^alice-[^\t]+\t[^\t]+\ttaken$'
    assert_match "$(sed -n 2p <<<"$sat")" $'^Zoë Ali\t[^\t]+\tchosen$'
}

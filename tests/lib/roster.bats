#!/usr/bin/env bats
# shellcheck shell=bats
# roster.bats - roster management and presence subscriptions (RFC 6121)
# against a real, throwaway server on 127.0.0.1: tests/prosody-roster.bats
# and tests/ejabberd-roster.bats are links to this file, which takes the
# server from its own name (the part before '-'; tests/lib/server.bash).
# Every change is proven from what the server stored (srv_roster) and,
# for subscriptions, from what a second client logged in as the contact
# received (tests/testclient.py await), never from xmppsend's output
# alone. The contacts are fresh accounts made here, not the seeded ones.

bats_require_minimum_version 1.5.0

load helper
load lib/server

setup_file() {
    srv_file_start || return 1
    [ -z "${SRV_SKIP-}" ] || return 0
    local u
    for u in erin frank gina; do
        srv_register "$u" || {
            srv_stop "$BATS_FILE_TMPDIR/$SRV_KIND"
            return 1
        }
    done
}

# Shown by bats only when a test fails. Contact clients still running
# (a failed test) are ended by their saved PID.
teardown() {
    local f
    for f in "$BATS_TEST_TMPDIR"/*.pid; do
        [ -e "$f" ] || continue
        kill "$(<"$f")" 2>/dev/null || true
    done
    srv_last_run
}

# contact USER ARGS...: tests/testclient.py logged in as USER
contact() {
    local user=$1
    shift
    timeout 60 python3 "$TOP_DIR/tests/testclient.py" "$SRV_PORT" "$SRV_CA" \
        "$user@localhost" "$user-pw" "$@"
}

# contact_await USER TYPE FROM [ANSWER]: USER online with presence in the
# background, waiting for a presence of TYPE from FROM; returns once the
# client is ready (logged in, initial presence handled).
contact_await() {
    local user=$1 out=$BATS_TEST_TMPDIR/$1.out i
    shift
    contact "$user" await "$@" >"$out" 2>"$out.err" 3>&- &
    echo "$!" >"$BATS_TEST_TMPDIR/$user.pid"
    for ((i = 0; i < 300; i++)); do
        grep -qx ready "$out" && return 0
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    fail "testclient $user not ready: $(cat "$out.err")"
}

# contact_got USER: waits for USER's client to end (exit 0), sets $got
# to the presence it received (one line of XML).
contact_got() {
    local f=$BATS_TEST_TMPDIR/$1 rc=0
    wait "$(<"$f.pid")" || rc=$?
    rm -f "$f.pid"
    [ "$rc" -eq 0 ] || fail "testclient $1 exited $rc: $(cat "$f.out.err")"
    got=$(sed 1d "$f.out")
}

# stored_roster USER: reads USER's roster as the server stored it (JID,
# name, subscription, ask, groups; tab-separated; one line per item) into
# $stored. Costly on ejabberd (an HTTP API call): once per step.
stored_roster() {
    stored=$(srv_roster "$1") || fail "cannot read the stored roster of $1"
}

# item JID: sets $got to the line of JID in $stored, "" when absent.
item() {
    local line
    got=
    while IFS= read -r line; do
        if [[ ${line%%$'\t'*} == "$1" ]]; then got=$line; fi
    done <<<"$stored"
}

# stored_wait USER JID REGEX: reads USER's stored roster until JID's line
# matches REGEX (up to 10 s: the server may apply a contact's answer just
# after the contact's own session ended); sets $stored and $got.
stored_wait() {
    local i
    for ((i = 0; i < 20; i++)); do
        stored_roster "$1"
        item "$2"
        if [[ $got =~ $3 ]]; then return 0; fi
        sleep 0.5
    done
    fail "stored roster of $1, item $2: $(printf '%q' "$got"), want /$3/"
}

@test "--roster-add adds, adds again updates (name, groups replaced), --roster-remove removes" {
    run --separate-stderr -0 xsa --roster-add hal@localhost --name 'Hal 9000' \
        --group A --group 'Zoë' --roster-add ida@example.net
    [ "$output" = $'added\thal@localhost\nadded\tida@example.net' ] ||
        fail "result lines"
    stored_roster alice
    item hal@localhost
    [ "$got" = $'hal@localhost\tHal 9000\tnone\t\tA,Zoë' ] ||
        fail "stored hal: $(printf '%q' "$got")"
    item ida@example.net
    [ "$got" = $'ida@example.net\t\tnone\t\t' ] ||
        fail "stored ida: $(printf '%q' "$got")"

    # The update replaces name and groups; the listing comes last.
    run --separate-stderr -0 xsa --roster-add hal@localhost --group B \
        --roster-remove ida@example.net --roster
    [ "${lines[0]}" = $'updated\thal@localhost' ] || fail "first line"
    [ "${lines[1]}" = $'removed\tida@example.net' ] || fail "second line"
    assert_match "$output" $'\nhal@localhost\t\tnone\tB(\n|$)'
    refute_match "$output" 'ida@example.net'$'\t'
    stored_roster alice
    item hal@localhost
    [ "$got" = $'hal@localhost\t\tnone\t\tB' ] ||
        fail "stored hal after the update: $(printf '%q' "$got")"
    item ida@example.net
    [ -z "$got" ] || fail "ida still stored: $got"
}

@test "the first failing action stops the run: 67 for a JID not in the roster, earlier lines stay" {
    run --separate-stderr -67 xsa --roster-add jon@localhost \
        --roster-remove nobody@localhost --roster-add kay@localhost
    [ "$output" = $'added\tjon@localhost' ] || fail "result lines"
    assert_xs_error 'removing nobody@localhost from the roster failed: item-not-found'
    stored_roster alice
    item jon@localhost
    [ -n "$got" ] || fail "jon was not added"
    item kay@localhost
    [ -z "$got" ] || fail "kay was added after the failure"

    # --json: one object per action, the failed one carries the error.
    run --separate-stderr -67 xsa --json --roster-remove jon@localhost \
        --roster-remove jon@localhost
    timeout 10 python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.argv[1].split("\n")]
assert objs[0] == {"ok": True, "action": "roster-remove",
    "jid": "jon@localhost", "result": "removed"}, objs
f = objs[1]
assert len(objs) == 2 and f["ok"] is False and f["exit"] == 67, objs
assert f["action"] == "roster-remove" and f["jid"] == "jon@localhost", f
assert f["result"] == "failed" and f["condition"] == "item-not-found", f
assert "item-not-found" in f["error"], f
' "$output" || fail "unexpected JSON"
    stored_roster alice
    item jon@localhost
    [ -z "$got" ] || fail "jon still stored"
}

@test "actions, then the message, in one run: both stored by the server" {
    local body id
    body="after the roster $RANDOM$RANDOM"
    run --separate-stderr -0 xsa --roster-add lou@localhost --name Lou \
        -m "$body" bob@localhost
    [ "${lines[0]}" = $'added\tlou@localhost' ] || fail "first line"
    assert_match "${lines[1]}" $'^sent\tbob@localhost\t'
    id=${lines[1]##*$'\t'}
    stored_roster alice
    item lou@localhost
    [ "$got" = $'lou@localhost\tLou\tnone\t\t' ] || fail "stored lou: $got"
    srv_stored bob | grep -F "$id" | grep -qF "$body" ||
        fail "message $id not stored for bob"
}

@test "--subscribe adds the contact, the contact receives the request and approves: subscription 'to'" {
    contact_await erin subscribe alice@localhost subscribed
    run --separate-stderr -0 xsa --roster-add erin@localhost --name Erin \
        --group Test --subscribe erin@localhost
    [ "$output" = $'added\terin@localhost\nsubscribe-sent\terin@localhost' ] ||
        fail "result lines"
    contact_got erin
    assert_match "$got" '^<presence [^>]*type="subscribe"'
    assert_match "$got" 'from="alice@localhost["/]'
    stored_wait alice erin@localhost $'^erin@localhost\tErin\tto\t\tTest$'
    stored_roster erin
    item alice@localhost
    assert_match "$got" $'^alice@localhost\t[^\t]*\tfrom\t'
    run --separate-stderr -0 xsa --roster
    assert_match "$output" $'(^|\n)erin@localhost\tErin\tto\tTest(\n|$)'

    # --subscribe alone adds a missing contact itself.
    run --separate-stderr -0 xsa --json --subscribe mo@localhost
    [ "$output" = '{"ok":true,"action":"subscribe","jid":"mo@localhost","result":"subscribe-sent"}' ] ||
        fail "JSON line"
    stored_roster alice
    item mo@localhost
    assert_match "$got" $'^mo@localhost\t\tnone\tsubscribe'
}

@test "--approve answers a pending request: the contact receives 'subscribed', subscription 'from'" {
    run contact frank request alice@localhost
    [ "$status" -eq 0 ] || fail "frank cannot ask alice: $output"
    contact_await frank subscribed alice@localhost
    run --separate-stderr -0 xsa --approve frank@localhost
    [ "$output" = $'approved\tfrank@localhost' ] || fail "result line"
    contact_got frank
    assert_match "$got" '^<presence [^>]*type="subscribed"'
    assert_match "$got" 'from="alice@localhost["/]'
    stored_roster alice
    item frank@localhost
    assert_match "$got" $'^frank@localhost\t[^\t]*\tfrom\t'
    stored_wait frank alice@localhost $'^alice@localhost\t\tto\t\t$'
}

@test "--unsubscribe and --deny: the contacts receive them, the subscriptions end" {
    # Follows the two tests above: alice -> erin 'to', frank -> alice
    # 'from'. Both changes are alice's own: stored before the ping reply.
    contact_await erin unsubscribe alice@localhost
    contact_await frank unsubscribed alice@localhost
    run --separate-stderr -0 xsa --unsubscribe erin@localhost \
        --deny frank@localhost
    [ "$output" = $'unsubscribed\terin@localhost\ndenied\tfrank@localhost' ] ||
        fail "result lines"
    contact_got erin
    assert_match "$got" '^<presence [^>]*type="unsubscribe"'
    contact_got frank
    assert_match "$got" '^<presence [^>]*type="unsubscribed"'
    stored_roster alice
    item erin@localhost
    [ "$got" = $'erin@localhost\tErin\tnone\t\tTest' ] ||
        fail "stored erin: $(printf '%q' "$got")"
    item frank@localhost
    assert_match "$got" $'^frank@localhost\t[^\t]*\tnone\t'
}

@test "--approve before any request: pre-approved where the server supports it, else 69" {
    if [ "$SRV_KIND" = ejabberd ]; then
        # ejabberd 23.01 does not announce pre-approval (RFC 6121 3.4).
        run --separate-stderr -69 xsa --approve gina@localhost
        [ -z "$output" ] || fail "a result line for an approval without effect"
        assert_xs_error 'approving gina@localhost had no effect: .*pre-approval'
        stored_roster alice
        item gina@localhost
        refute_match "$got" $'\t(from|both)\t'
        return 0
    fi
    run --separate-stderr -0 xsa --approve gina@localhost
    [ "$output" = $'approved\tgina@localhost' ] || fail "result line"
    stored_roster alice
    item gina@localhost
    refute_match "$got" $'\t(from|both)\t'
    # gina asks later; the server approves at once, without alice. (Prosody
    # 0.12 then fails to update gina's own roster: alice's is the proof.)
    run contact gina request alice@localhost
    [ "$status" -eq 0 ] || fail "gina cannot ask alice: $output"
    stored_wait alice gina@localhost $'^gina@localhost\t[^\t]*\tfrom\t'
}

#!/usr/bin/env bats
# shellcheck shell=bats
# sendx.bats - delivery receipts (--receipt), --raw stanzas, --wait,
# --message-file and --skip-empty against a real, throwaway server on
# 127.0.0.1: tests/prosody-sendx.bats and tests/ejabberd-sendx.bats are
# links to this file, which takes the server from its own name (the part
# before '-'; tests/lib/server.bash).  Proof comes from the server's store
# (bob never logs in), its roster, or a second client: carol, logged in
# with tests/testclient.py, answers receipt requests and logs what she got.

bats_require_minimum_version 1.5.0

load helper
load lib/server
# xsa (tests/lib/server.bash) with room for valgrind
# shellcheck disable=SC2034 # read by xsa (tests/lib/server.bash)
XSA_TIMEOUT=90

teardown() {
    # carol's client, by its saved PID
    if [ -s "$BATS_TEST_TMPDIR/carol.pid" ]; then
        kill "$(cat "$BATS_TEST_TMPDIR/carol.pid")" 2>/dev/null || true
    fi
    srv_last_run
}

unique() {
    printf 'xs-x%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# stored_with TEXT: the stored stanzas of bob that contain TEXT
stored_with() {
    srv_stored bob | grep -F -- "$1"
}

# carol_online SECONDS: carol logged in with presence for SECONDS,
# answering receipt requests; her lines go to $CAROL_LOG.
carol_online() {
    CAROL_LOG=$BATS_TEST_TMPDIR/carol.log
    timeout $(($1 + 30)) python3 "$TESTS_DIR/testclient.py" "$SRV_PORT" \
        "$SRV_CA" carol@localhost carol-pw receipts "$1" \
        >"$CAROL_LOG" 2>&1 3>&- &
    echo $! >"$BATS_TEST_TMPDIR/carol.pid"
    local i
    for ((i = 0; i < 300; i++)); do
        grep -qx ready "$CAROL_LOG" && return 0
        kill -0 "$(cat "$BATS_TEST_TMPDIR/carol.pid")" 2>/dev/null || break
        sleep 0.1
    done
    fail "carol's client did not come online: $(cat "$CAROL_LOG")"
}

# line_id STATUS JID: sets $id from the "STATUS<TAB>JID<TAB>ID" line
line_id() {
    local line re=$'^'"$1"$'\t'"$2"$'\t([^[:space:]]+)$'
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then
            id=${BASH_REMATCH[1]}
            return 0
        fi
    done <<<"$output"
    fail "no '$1<TAB>$2<TAB>ID' line on stdout"
}

@test "--receipt: carol's client confirms: 'received', exit 0, also in --json" {
    local body json_id
    carol_online 120
    body="receipt $(unique)"
    run --separate-stderr -0 xsa --receipt=60 -m "$body" carol@localhost
    [ "${#lines[@]}" -eq 1 ] || fail "expected one result line"
    line_id received carol@localhost
    # carol's client saw our message with that id, from alice
    grep -qE "^received alice@localhost/[^ ]+ $id $body\$" "$CAROL_LOG" ||
        fail "carol's log: $(cat "$CAROL_LOG")"
    # the request went out in the message (XEP-0184)
    body="receipt json $(unique)"
    run --separate-stderr -0 xsa --json --receipt=60 -m "$body" carol@localhost
    json_id=$(timeout 10 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True and r["exit"] == 0, r
x = r["recipients"][0]
assert x["jid"] == "carol@localhost" and x["status"] == "received", x
print(x["id"])
' "$output") || fail "bad --json output"
    grep -qE "^received alice@localhost/[^ ]+ $json_id $body\$" "$CAROL_LOG" ||
        fail "carol's log: $(cat "$CAROL_LOG")"
}

@test "--receipt: offline bob sends none: 75 naming bob, his message stored" {
    local body t0 ms
    carol_online 120
    body="no receipt $(unique)"
    t0=${EPOCHREALTIME//[!0-9]/}
    run --separate-stderr -75 xsa --receipt=3 -m "$body" carol@localhost \
        bob@localhost
    ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
    [ "$ms" -ge 3000 ] || fail "gave up after ${ms} ms, before 3 s"
    line_id received carol@localhost
    line_id sent bob@localhost
    [ "$stderr" = "xmppsend: no delivery receipt from bob@localhost (the \
server accepted the message)" ] || fail "stderr: $stderr"
    stored_with "$body" | grep -qF "id=\"$id\"" ||
        stored_with "$body" | grep -qF "id='$id'" ||
        fail "bob's message $id not stored: $(srv_stored bob)"
    stored_with "$body" | grep -qF "urn:xmpp:receipts" ||
        fail "the stored message has no receipt request"
}

@test "--raw: IQ replies printed by id, roster set and messages stored" {
    local u roster
    u=$(unique)
    run --separate-stderr -0 xsa --raw <<EOF
<iq type='get' to='localhost' id='v-$u'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>
<iq type='set' id='r-$u'><query xmlns='jabber:iq:roster'>
  <item jid='eve-$u@localhost' name='Eve &amp; $u'/></query></iq>
<message to='bob@localhost' type='chat' id='m-$u'><body>raw one $u</body></message>
<message to='bob@localhost' type='chat'><body>raw &lt;two&gt; $u</body></message>
EOF
    [ "${#lines[@]}" -eq 2 ] || fail "expected two reply lines"
    assert_match "${lines[0]}" "^<iq [^>]*id='v-$u'"
    assert_match "${lines[0]}" "type='result'"
    # what the server says about itself, not what we sent
    assert_match "${lines[0]}" "<identity [^>]*category=['\"]server['\"]"
    assert_match "${lines[0]}" "<feature [^>]*var=['\"]urn:xmpp:ping['\"]"
    assert_match "${lines[1]}" "^<iq [^>]*id='r-$u'"
    assert_match "${lines[1]}" "type='result'"
    roster=$(srv_roster alice)
    assert_match "$roster" "(^|"$'\n'")eve-$u@localhost"$'\t'"Eve & $u"$'\t'
    stored_with "raw one $u" | grep -qE "id=[\"']m-${u}[\"']" ||
        fail "message m-$u not stored: $(srv_stored bob)"
    # the one without an id got one
    stored_with "raw &lt;two&gt; $u" | grep -qE " id=[\"'][^\"']+[\"']" ||
        fail "second message not stored with an id: $(srv_stored bob)"
}

@test "--raw: an IQ error reply is printed and sets the exit code, also in --json" {
    local u
    u=$(unique)
    run --separate-stderr -69 xsa --raw <<<"<iq type='get' to='localhost' id='e-$u'><query xmlns='urn:example:nothing:$u'/></iq>"
    [ "${#lines[@]}" -eq 1 ] || fail "expected one reply line"
    assert_match "${lines[0]}" "^<iq [^>]*id='e-$u'"
    assert_match "${lines[0]}" "type='error'"
    assert_match "$stderr" "^xmppsend: iq e-$u failed: (service-unavailable|feature-not-implemented)\$"
    run --separate-stderr -69 xsa --raw --json <<<"<iq type='get' to='localhost' id='j-$u'><query xmlns='urn:example:nothing:$u'/></iq>"
    timeout 10 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is False and r["exit"] == 69, r
assert len(r["replies"]) == 1, r
x = r["replies"][0]
assert x["id"] == sys.argv[2] and x["type"] == "error", x
assert x["xml"].startswith("<iq "), x
' "$output" "j-$u" || fail "bad --json output"
}

@test "--message-file is stored; --skip-empty with an empty body sends nothing" {
    local u before after
    u=$(unique)
    before=$(srv_stored_count bob)
    : >"$BATS_TEST_TMPDIR/empty"
    run --separate-stderr -0 xsa --skip-empty bob@localhost </dev/null
    [ -z "$output$stderr" ] || fail "printed something"
    run --separate-stderr -0 xsa --skip-empty \
        --message-file "$BATS_TEST_TMPDIR/empty" bob@localhost
    [ -z "$output$stderr" ] || fail "printed something"
    printf 'file %s\nline two\n\n' "$u" >"$BATS_TEST_TMPDIR/body"
    run --separate-stderr -0 xsa --skip-empty \
        --message-file "$BATS_TEST_TMPDIR/body" bob@localhost </dev/null
    line_id sent bob@localhost
    after=$(srv_stored_count bob)
    [ "$after" -eq $((before + 1)) ] ||
        fail "stored before $before, after $after: expected one more"
    stored_with "file $u&#10;line two</body>" | grep -qE "id=[\"']${id}[\"']" ||
        fail "body not stored as sent: $(srv_stored bob)"
}

@test "--wait: stays connected that long, then exit 0 and stored" {
    local body t0 ms
    body="wait $(unique)"
    t0=${EPOCHREALTIME//[!0-9]/}
    run --separate-stderr -0 xsa --wait 2 -m "$body" bob@localhost
    ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
    [ "$ms" -ge 2000 ] || fail "ended after ${ms} ms, before 2 s"
    line_id sent bob@localhost
    stored_with "$body" | grep -qE "id=[\"']${id}[\"']" ||
        fail "not stored: $(srv_stored bob)"
}

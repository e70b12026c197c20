#!/usr/bin/env bats
# shellcheck shell=bats
# sasl2.bats - SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484)
# against a real, throwaway server on 127.0.0.1 that offers them: Prosody
# 13 with prosody-modules' mod_sasl2* (tests/prosody13-sasl2.bats) and
# ejabberd 24.12 (tests/ejabberd24-sasl2.bats), both from Debian 12's
# backports, unpacked by scripts/backports.sh (make backports); without
# them the tests skip. The links take the server from their own name
# (tests/lib/server.bash). Delivery is proven from what the server stored
# for bob, who never logs in (and, for concurrent runs, from the full JIDs
# the server stamped on what it stored); the authentication path from the
# -d trace of what xmppsend sent and received.
#
# The contract: SASL2 and FAST are on by default (--no-sasl2, --no-fast;
# config keys sasl2, fast); a password login over SASL2 asks for a FAST
# token and keeps it in ${XDG_STATE_HOME:-~/.local/state}/xmppsend/BAREJID
# (mode 600 in a 700 directory, lines "key value", the token on a line
# "fast-token ..."), never shown in the trace; the next run logs in with
# it (HT-SHA-256-*); a token the server refuses costs one password login,
# which stores a new one. No stream restart after SASL2 success.
#
# Measured with a scripted client (2026-11): both servers bind a FAST
# token to the <user-agent id> it was issued for (another id: refused),
# and derive the resource from the Bind2 tag and that id (Prosody 13
# TAG~HASH, ejabberd 24.12 TAG.HASH). Prosody ends an earlier session only
# when the resource is the same; ejabberd 24.12 ends the earlier session
# of the same id even under another tag ("Replaced by new connection").
# So only the run that holds the state file's lock uses the stable id
# (and the token); a run started meanwhile uses an id of its own.

bats_require_minimum_version 1.5.0

load helper
load lib/server
# xsa (tests/lib/server.bash) with room for valgrind
# shellcheck disable=SC2034 # read by xsa (tests/lib/server.bash)
XSA_TIMEOUT=90

setup() {
    srv_skip_missing
    # Every test its own state: no token from an earlier test or the user.
    export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state XS_STATE_HOME=$BATS_TEST_TMPDIR/state
    STATE=$XDG_STATE_HOME/xmppsend/alice@localhost
}

unique() {
    printf 'xs-s%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# stored_with TEXT: how many stored stanzas of bob contain TEXT
stored_with() {
    local out
    out=$(srv_stored bob) || return 1
    grep -cF -- "$1" <<<"$out" || true
}

# stored_from TEXT...: the from= of bob's stored stanza with each TEXT in
# its body, one per line (fails unless each is stored exactly once)
stored_from() {
    srv_stored bob | timeout 10 python3 -c '
import sys, xml.etree.ElementTree as ET
msgs = [ET.fromstring(l) for l in sys.stdin if l.strip()]
def body(m):
    return "".join(c.text or "" for c in m if c.tag.split("}")[-1] == "body")
for want in sys.argv[1:]:
    found = [m for m in msgs if want in body(m)]
    if len(found) != 1:
        sys.exit("stored_from: %d stored with %s" % (len(found), want))
    print(found[0].get("from"))
' "$@"
}

# count TEXT REGEX: how many lines of TEXT start with a match of REGEX
count() {
    grep -cE -- "^($2)" <<<"$1" || true
}

# token_words: the words of the state file's fast-token line that can be
# the token (not a mechanism name, a time, a number or a UUID), one per line
token_words() {
    sed -n 's/^fast-token[[:space:]]//p' "$STATE" | tr -s '[:blank:]' '\n' |
        grep -vE '^(HT-.*|[0-9]{4}-[0-9]{2}-[0-9]{2}T.*|[0-9]+|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|)$'
}

# corrupt_token: replace each token word of the fast-token line by another
# of the same length and alphabet (reversed), mode kept
corrupt_token() {
    timeout 10 python3 -c '
import sys
path, words = sys.argv[1], sys.argv[2].split()
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    if l.startswith("fast-token"):
        for w in words:
            bad = w[::-1] if w[::-1] != w else w[1:] + w[0] + "x"
            l = l.replace(w, bad)
        lines[i] = l
with open(path, "r+") as f:
    f.write("\n".join(lines))
    f.truncate()
' "$STATE" "$(token_words)"
}

# assert_sasl2_trace: the trace ($stderr) shows a SASL2 login with Bind2
# on a STARTTLS connection: <authenticate> with <bind> inside, no legacy
# <auth> nor resource binding, and no stream restart after success: two
# stream headers each way (before and after TLS)
assert_sasl2_trace() {
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    assert_match "$stderr" $'(^|\n)C: <authenticate xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    assert_match "$stderr" $'(^|\n)C: [^\n]*<bind xmlns=[\'"]urn:xmpp:bind:0[\'"]'
    assert_match "$stderr" $'(^|\n)S: [^\n]*<success xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    refute_match "$stderr" "<auth xmlns=[\"']urn:ietf:params:xml:ns:xmpp-sasl[\"']"
    refute_match "$stderr" $'(^|\n)C: [^\n]*urn:ietf:params:xml:ns:xmpp-bind'
    local c s
    c=$(grep -E '^C: ' <<<"$stderr" | grep -oF '<stream:stream ' | wc -l)
    s=$(grep -E '^S: ' <<<"$stderr" | grep -oF '<stream:stream ' | wc -l)
    [ "$c" = 2 ] || fail "$c stream headers sent, not 2 (a restart after SASL2?)"
    [ "$s" = 2 ] || fail "$s stream headers received, not 2"
}

@test "the set-up: after TLS the server offers SASL2 with Bind2, inline SM and FAST; a send is delivered" {
    local body
    body="set-up $(unique)"
    run --separate-stderr -0 xsa -d -m "$body" bob@localhost
    local n=$'\n' f
    f="(^|$n)S: [^$n]*<stream:features>[^$n]*"
    assert_match "$stderr" "$f<authentication xmlns=[\"']urn:xmpp:sasl:2[\"']>"
    assert_match "$stderr" "$f<bind xmlns=[\"']urn:xmpp:bind:0[\"']><inline>[^$n]*<feature var=[\"']urn:xmpp:sm:3[\"']/>"
    assert_match "$stderr" "$f<sm xmlns=[\"']urn:xmpp:sm:3[\"']/>"
    assert_match "$stderr" "$f<fast xmlns=[\"']urn:xmpp:fast:0[\"']>[^$n]*<mechanism>HT-SHA-256-EXPR</mechanism>"
    # TLS 1.3: both offer tls-exporter only there
    assert_match "$stderr" "$f<channel-binding type=[\"']tls-exporter[\"']/>"
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"
}

@test "SASL2 + Bind2: one login flight, no restart, no legacy auth or bind, delivered" {
    local body
    body="sasl2 $(unique)"
    run --separate-stderr -0 xsa -d -m "$body" bob@localhost
    assert_sasl2_trace
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"
}

@test "FAST: a password login stores a token (600, never traced), the next logs in with it, a refused one costs one password login" {
    local b1 b2 b3 tok tok2 bad w
    b1="fast password $(unique)"
    b2="fast token $(unique)"
    b3="fast refused $(unique)"
    [ ! -e "$STATE" ] || fail "state before the first run"

    # 1: password, token requested and stored
    run --separate-stderr -0 xsa -d -m "$b1" bob@localhost
    assert_sasl2_trace
    assert_match "$stderr" $'(^|\n)C: [^\n]*<request-token xmlns=[\'"]urn:xmpp:fast:0[\'"]'
    [ -f "$STATE" ] || fail "no state file $STATE"
    [ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE")"
    [ "$(stat -c %a "${STATE%/*}")" = 700 ] || fail "state dir mode $(stat -c %a "${STATE%/*}")"
    grep -q '^fast-token ' "$STATE" || fail "no fast-token line: $(cat "$STATE")"
    tok=$(token_words)
    [ -n "$tok" ] || fail "no token on the fast-token line: $(grep '^fast-token' "$STATE")"
    for w in $tok; do
        [[ $stderr != *"$w"* ]] || fail "the token is in the -d trace"
        [[ $output != *"$w"* ]] || fail "the token is on stdout"
    done
    [ "$(stored_with "$b1")" = 1 ] || fail "run 1 not stored for bob"

    # 2: the token, not the password (a wrong one here): the server took it
    run --separate-stderr -0 xsa -d --password-file "$BAD_PW_FILE" -m "$b2" \
        bob@localhost
    assert_match "$stderr" $'(^|\n)C: <authenticate [^>]*mechanism=[\'"]HT-SHA-256-'
    refute_match "$stderr" $'(^|\n)C: <authenticate [^>]*mechanism=[\'"](SCRAM|PLAIN)'
    assert_match "$stderr" $'(^|\n)S: [^\n]*<success xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    for w in $(token_words); do
        [[ $stderr != *"$w"* ]] || fail "the token is in the -d trace of run 2"
    done
    [ "$(stored_with "$b2")" = 1 ] || fail "run 2 not stored for bob"

    # 3: the stored token corrupted: refused once, then the password, and
    # a new token is stored
    tok=$(token_words)
    corrupt_token || fail "cannot corrupt the token"
    # (no '-e' stop here: an empty result is reported with the file below)
    bad=$(token_words) || true
    [ -n "$bad" ] && [ "$bad" != "$tok" ] || fail "corrupting failed: $(cat "$STATE")"
    run --separate-stderr -0 xsa -d -m "$b3" bob@localhost
    [ "$(count "$stderr" $'C: <authenticate [^>]*mechanism=[\'"]HT-SHA-256-')" = 1 ] ||
        fail "not one FAST attempt"
    assert_match "$stderr" $'(^|\n)S: [^\n]*<failure xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    [ "$(count "$stderr" $'C: <authenticate [^>]*mechanism=[\'"]SCRAM-')" = 1 ] ||
        fail "not one password login after the refusal"
    [ "$(stored_with "$b3")" = 1 ] || fail "run 3 not stored for bob"
    tok2=$(token_words)
    [ -n "$tok2" ] || fail "no new token stored"
    [ "$tok2" != "$bad" ] && [ "$tok2" != "$tok" ] || fail "the token was not replaced"
    [ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE")"
}

@test "--no-fast: SASL2 without a token; --no-sasl2: the legacy login; both delivered" {
    local b1 b2
    b1="no fast $(unique)"
    b2="no sasl2 $(unique)"
    run --separate-stderr -0 xsa -d --no-fast -m "$b1" bob@localhost
    assert_sasl2_trace
    refute_match "$stderr" $'(^|\n)C: [^\n]*request-token'
    refute_match "$stderr" $'(^|\n)C: [^\n]*HT-SHA-256-'
    if [ -e "$STATE" ]; then
        ! grep -q '^fast-token' "$STATE" || fail "a token stored with --no-fast"
    fi
    run --separate-stderr -0 xsa -d --no-sasl2 -m "$b2" bob@localhost
    assert_match "$stderr" $'(^|\n)C: <auth xmlns=[\'"]urn:ietf:params:xml:ns:xmpp-sasl[\'"]'
    refute_match "$stderr" $'(^|\n)C: <authenticate'
    [ "$(stored_with "$b1")" = 1 ] || fail "--no-fast: not stored for bob"
    [ "$(stored_with "$b2")" = 1 ] || fail "--no-sasl2: not stored for bob"
}

@test "a run while another holds the account's state: no token, a client id of its own, its own resource; both delivered" {
    local b0 b1 froms holder
    b0="token first $(unique)"
    b1="while locked $(unique)"
    run --separate-stderr -0 xsa -m "$b0" bob@localhost
    grep -q '^fast-token ' "$STATE" || fail "no token after the first run"
    # Another run in progress holds the lock (flock(2), as xmppsend does).
    timeout 60 flock -n "$STATE.lock" sleep 30 &
    holder=$!
    sleep 0.5
    run --separate-stderr -0 xsa -d -m "$b1" bob@localhost
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    refute_match "$stderr" "mechanism='HT-SHA-256-"
    refute_match "$stderr" 'request-token'
    refute_match "$stderr" "user-agent id='$(sed -n 's/^client-id //p' "$STATE")'"
    froms=$(stored_from "$b0" "$b1") || fail "not both stored: $froms"
    [ "$(grep -cE '^alice@localhost/.+$' <<<"$froms")" = 2 ] ||
        fail "not full JIDs of alice: $froms"
    [ "$(sed -n 1p <<<"$froms")" != "$(sed -n 2p <<<"$froms")" ] ||
        fail "both runs bound the same resource: $froms"
}

@test "a wrong password over SASL2 is 77, nothing stored, no token" {
    local body
    body="wrong password $(unique)"
    run --separate-stderr -77 xsa -d --password-file "$BAD_PW_FILE" \
        -m "$body" bob@localhost
    assert_xs_error
    assert_match "$stderr" $'(^|\n)C: <authenticate xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    assert_match "$stderr" $'(^|\n)S: [^\n]*<failure xmlns=[\'"]urn:xmpp:sasl:2[\'"]'
    if [ -e "$STATE" ]; then
        ! grep -q '^fast-token' "$STATE" || fail "a token stored"
    fi
    [ "$(stored_with "$body")" = 0 ] || fail "stored for bob"
}

@test "round trips in the log: a first SASL2 login 7, then with the FAST token 4 (one flight after TLS), SCRAM on the remembered offer 6" {
    local log=$BATS_TEST_TMPDIR/runs.log b1 b2 b3
    b1="rt password $(unique)"
    b2="rt token $(unique)"
    b3="rt no fast $(unique)"
    run --separate-stderr -0 xsa --log "$log" -m "$b1" bob@localhost
    run --separate-stderr -0 xsa --log "$log" -d -m "$b2" bob@localhost
    # The header, <authenticate/> with the token and the message went
    # together, before anything came back after TLS.
    [[ $(flight_after_header "$stderr") == *"mechanism='HT-SHA-256-"*"<message "* ]] ||
        fail "the token login and the message were not one flight: $(flight_after_header "$stderr")"
    run --separate-stderr -0 xsa --log "$log" --no-fast -m "$b3" bob@localhost
    assert_match "$(sed -n 1p "$log")" " tls=TLSv1\.3 auth=SCRAM-SHA-[0-9]+-PLUS sasl2=on recipients=bob@localhost bytes=[0-9]+ roundtrips=7 result=sent exitcode=EX_OK$"
    assert_match "$(sed -n 2p "$log")" " auth=HT-SHA-256-[A-Z]+ sasl2=on .* roundtrips=4 result=sent "
    assert_match "$(sed -n 3p "$log")" " auth=SCRAM-SHA-[0-9]+-PLUS sasl2=on .* roundtrips=6 result=sent "
    local b
    for b in "$b1" "$b2" "$b3"; do
        [ "$(stored_with "$b")" = 1 ] || fail "not stored once: $b"
    done
}

@test "--serverinfo -j: SASL2 with its mechanisms, Bind2 with SM, FAST and the XEP-0440 list as the server sent them; the login a run makes" {
    run --separate-stderr -0 xs --serverinfo --json -d --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j alice@localhost --timeout 90
    local feats want got
    # the server's own bytes: the features after TLS in the -d trace
    feats=$(grep -E '^S: ' <<<"$stderr" | grep -oE "<authentication xmlns=[^>]*>.*</authentication>" | tail -1)
    [ -n "$feats" ] || fail "no SASL2 in the features: $stderr"
    want=$(sed -E 's|<inline>.*</inline>||' <<<"$feats" | grep -oE '<mechanism>[^<]+</mechanism>' | sed -E 's/<[^>]*>//g' | tr '\n' ' ')
    got=$(timeout 10 python3 -c 'import json,sys; o=json.load(sys.stdin); print(" ".join(o["targets"][0]["features"]["sasl2"]) + " ")' <<<"$output")
    [ "$got" = "$want" ] || fail "sasl2: '$got', the server sent '$want'"
    want=$(grep -oE '<fast xmlns=[^>]*>.*</fast>' <<<"$feats" | grep -oE '<mechanism>[^<]+</mechanism>' | sed -E 's/<[^>]*>//g' | tr '\n' ' ')
    [ -n "$want" ] || fail "no FAST in the features: $feats"
    got=$(timeout 10 python3 -c 'import json,sys; o=json.load(sys.stdin); print(" ".join(o["targets"][0]["features"]["fast"]) + " ")' <<<"$output")
    [ "$got" = "$want" ] || fail "fast: '$got', the server sent '$want'"
    got=$(timeout 10 python3 -c '
import json, sys
f = json.load(sys.stdin)["targets"][0]["features"]
print(f["bind2"], f["bind2_sm"], " ".join(f["channel_binding"] or []), f["login"])' <<<"$output")
    assert_match "$got" '^True True tls-exporter( tls-server-end-point)? SASL2 SCRAM-SHA-[0-9]+-PLUS$'
    # no authentication on a probe
    refute_match "$stderr" $'(^|\n)C: [^\n]*<authenticate'
}

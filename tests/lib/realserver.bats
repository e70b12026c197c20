#!/usr/bin/env bats
# shellcheck shell=bats
# realserver.bats - xmppsend against a real, throwaway server on 127.0.0.1:
# tests/prosody.bats and tests/ejabberd.bats are links to this file, which
# takes the server from its own name (tests/lib/server.bash): Prosody 0.12
# (tests/lib/prosody.bash) or ejabberd 23.01 (tests/lib/ejabberd.bash).
# bob and carol never log in, so every message to them lands in the
# server's offline store: delivery is proven from what the server stored,
# not from what xmppsend printed.

bats_require_minimum_version 1.5.0

load helper
load lib/server

# stored USER: the stanzas the server stored for USER, one per line. Read
# from the server once per test (ejabberd: a login of USER's): call it
# only after the test sent everything.
stored() {
    local f=$BATS_TEST_TMPDIR/stored-$1
    if [ ! -e "$f" ]; then
        srv_stored "$1" >"$f.new" || return 1
        mv "$f.new" "$f"
    fi
    cat "$f"
}

# stored_get USER ID WHAT: sets $got to the text of child element WHAT
# (body, subject, thread), to attribute WHAT when it starts with @, or to
# the number of stored stanzas with that id when WHAT is "count". Fails
# when no stanza has that id or it lacks WHAT. Keeps trailing newlines.
stored_get() {
    local rc
    got=$(
        stored "$1" | timeout 10 python3 -c '
import sys, xml.etree.ElementTree as ET
want, what = sys.argv[1], sys.argv[2]
found = [m for m in (ET.fromstring(l) for l in sys.stdin) if m.get("id") == want]
if what == "count":
    sys.stdout.write(str(len(found)))
    sys.exit(0)
if not found:
    sys.exit(2)
if what.startswith("@"):
    v = found[0].get(what[1:])
else:
    c = [c for c in found[0] if c.tag.split("}")[-1] == what]
    v = (c[0].text or "") if c else None
if v is None:
    sys.exit(3)
sys.stdout.write(v)
' "$2" "$3"
        rc=$?
        printf .
        exit "$rc"
    )
    rc=$?
    got=${got%.}
    return "$rc"
}

# result_id RECIPIENT: sets $id from the "sent<TAB>RECIPIENT<TAB>ID" line
result_id() {
    local line re=$'^sent\t'"$1"$'\t([^[:space:]]+)$'
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then
            id=${BASH_REMATCH[1]}
            return 0
        fi
    done <<<"$output"
    fail "no 'sent<TAB>$1<TAB>ID' line on stdout"
}

unique() {
    printf 'xs-t%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

@test "-m: a message to offline bob is stored by the server with our id" {
    local body
    body="hello bob $(unique)"
    run --separate-stderr -0 xsa -m "$body" bob@localhost
    [ "${#lines[@]}" -eq 1 ] || fail "expected one result line"
    result_id bob@localhost
    stored_get bob "$id" count
    [ "$got" = 1 ] || fail "expected 1 stored stanza with id $id, found $got"
    stored_get bob "$id" body
    [ "$got" = "$body" ] || fail "stored body: '$got'"
    stored_get bob "$id" @from
    assert_match "$got" '^alice@localhost/.+'
    stored_get bob "$id" @to
    [ "$got" = bob@localhost ] || fail "stored to: '$got'"
    stored_get bob "$id" @type
    [ "$got" = chat ] || fail "stored type: '$got'"
}

@test "several recipients in one run: each stored, one result line each" {
    local body bob_id carol_id
    body="hello both $(unique)"
    run --separate-stderr -0 xsa -m "$body" bob@localhost carol@localhost
    [ "${#lines[@]}" -eq 2 ] || fail "expected two result lines"
    assert_match "${lines[0]}" $'^sent\tbob@localhost\t'
    assert_match "${lines[1]}" $'^sent\tcarol@localhost\t'
    result_id bob@localhost
    bob_id=$id
    result_id carol@localhost
    carol_id=$id
    stored_get bob "$bob_id" body
    [ "$got" = "$body" ] || fail "bob's stored body: '$got'"
    stored_get carol "$carol_id" body
    [ "$got" = "$body" ] || fail "carol's stored body: '$got'"
    stored_get bob "$bob_id" @to
    [ "$got" = bob@localhost ] || fail "bob's copy addressed to '$got'"
    stored_get carol "$carol_id" @to
    [ "$got" = carol@localhost ] || fail "carol's copy addressed to '$got'"
    [ "$(stored carol | grep -cF -- "$body")" -eq 1 ] ||
        fail "carol should have exactly one copy"
}

@test "stdin body: trailing newlines dropped, inner newlines kept" {
    local u
    u=$(unique)
    printf 'first line %s\nsecond line\n\n\n' "$u" >"$BATS_TEST_TMPDIR/body"
    run --separate-stderr -0 xsa bob@localhost <"$BATS_TEST_TMPDIR/body"
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "first line $u"$'\n'"second line" ] ||
        fail "stored body: $(printf '%q' "$got")"
}

@test "-s, --type normal and --thread end up in the stored stanza" {
    local u
    u=$(unique)
    run --separate-stderr -0 xsa -s "subject $u" --type normal \
        --thread "thread-$u" -m "body $u" bob@localhost
    result_id bob@localhost
    stored_get bob "$id" subject
    [ "$got" = "subject $u" ] || fail "stored subject: '$got'"
    stored_get bob "$id" thread
    [ "$got" = "thread-$u" ] || fail "stored thread: '$got'"
    stored_get bob "$id" body
    [ "$got" = "body $u" ] || fail "stored body: '$got'"
    # type='normal' may also be written as no type at all (RFC 6121 5.2.2)
    if stored_get bob "$id" @type; then
        [ "$got" = normal ] || fail "stored type: '$got'"
    fi
}

@test "markup and non-ASCII arrive intact, a colour code is removed with a warning" {
    local u sent want
    u=$(unique)
    sent="$u a & b < c > d \"q\" 's' Zoë 日本 "$'\e[31m'"red"$'\e[0m'" end"
    want="$u a & b < c > d \"q\" 's' Zoë 日本 red end"
    run --separate-stderr -0 xsa -m "$sent" bob@localhost
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "$want" ] || fail "stored body: $(printf '%q' "$got")"
    assert_xs_error
}

@test "wrong password: exit 77, not-authorized on stderr, nothing stored" {
    local body
    body="must not arrive $(unique)"
    run --separate-stderr -77 xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j alice@localhost \
        --password-file "$BAD_PW_FILE" -m "$body" bob@localhost
    assert_xs_error
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    assert_match "${stderr,,}" 'authentication failed'
    assert_match "${stderr,,}" 'not-authorized'
    refute_match "$output" 'sent'
    [ "$(stored bob | grep -cF -- "$body")" -eq 0 ] || fail "message was stored"
}

@test "unknown local recipient: service-unavailable bounce, exit 67" {
    local body
    body="to nobody $(unique)"
    run --separate-stderr -67 xsa -m "$body" nobody@localhost
    [ "$output" = $'failed\tnobody@localhost\tservice-unavailable' ] ||
        fail "unexpected stdout"
    assert_xs_error '(^|'$'\n'')xmppsend: nobody@localhost: service-unavailable'
    [ "$(srv_stored_count nobody)" = 0 ] || fail "stored for nobody"
    [ "$(stored bob | grep -cF -- "$body")" -eq 0 ] || fail "stored for bob"
}

@test "a bounce among good recipients: others stored, exit 67" {
    local body
    body="mixed $(unique)"
    run --separate-stderr -67 xsa -m "$body" bob@localhost nobody@localhost
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "$body" ] || fail "bob's stored body: '$got'"
    assert_match "$output" $'(^|\n)failed\tnobody@localhost\tservice-unavailable($|\n)'
    assert_xs_error 'nobody@localhost: service-unavailable'
}

@test "--json: one result object with ok true and the stored id" {
    local body json_id
    body="json $(unique)"
    run --separate-stderr -0 xsa --json -m "$body" bob@localhost
    json_id=$(timeout 10 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True, r
assert r["exit"] == 0, r
assert len(r["recipients"]) == 1, r
x = r["recipients"][0]
assert x["jid"] == "bob@localhost", x
assert x["status"] == "sent", x
assert isinstance(x["id"], str) and x["id"], x
print(x["id"])
' "$output") || fail "bad --json output"
    stored_get bob "$json_id" body
    [ "$got" = "$body" ] || fail "stored body for id $json_id: '$got'"
}

@test "--json bounce: ok false, exit 67, condition service-unavailable" {
    run --separate-stderr -67 xsa --json -m "json bounce $(unique)" nobody@localhost
    timeout 10 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is False, r
assert r["exit"] == 67, r
assert len(r["recipients"]) == 1, r
x = r["recipients"][0]
assert x["jid"] == "nobody@localhost", x
assert x["status"] == "failed", x
assert x["condition"] == "service-unavailable", x
' "$output" || fail "bad --json output"
}

@test "--roster: one tab-separated line per seeded item" {
    local norm want
    run --separate-stderr -0 xsa --roster
    # Item and group order are the server's hash order: normalise both.
    norm=$(timeout 10 python3 -c '
import sys
out = []
for line in sys.argv[1].split("\n"):
    f = line.split("\t")
    assert len(f) == 4, repr(line)
    f[3] = ",".join(sorted(f[3].split(","))) if f[3] else ""
    out.append("\t".join(f))
print("\n".join(sorted(out)))
' "$output") || fail "roster lines do not have 4 tab-separated fields"
    want=$'bob@localhost\tBob\tboth\tFriends\n'
    want+=$'carol@localhost\tCarol Zoë\tto\tFriends,Work\n'
    want+=$'dave@example.net\t\tnone\t'
    [ "$norm" = "$want" ] || fail "roster (normalised): $(printf '%q' "$norm")"
}

@test "--roster --json: the seeded items with name, subscription, ask, groups" {
    run --separate-stderr -0 xsa --roster --json
    timeout 10 python3 -c '
import json, sys
items = json.loads(sys.argv[1])
assert isinstance(items, list) and len(items) == 3, items
by = {i["jid"]: i for i in items}
for i in items:
    assert set(i) == {"jid", "name", "subscription", "ask", "groups"}, i
    i["groups"] = sorted(i["groups"])
assert by["bob@localhost"] == {"jid": "bob@localhost", "name": "Bob",
    "subscription": "both", "ask": None, "groups": ["Friends"]}, by
assert by["carol@localhost"] == {"jid": "carol@localhost",
    "name": "Carol Zo\u00eb", "subscription": "to", "ask": None,
    "groups": ["Friends", "Work"]}, by
assert by["dave@example.net"] == {"jid": "dave@example.net", "name": None,
    "subscription": "none", "ask": "subscribe", "groups": []}, by
' "$output" || fail "unexpected roster JSON"
}

@test "--timeout: a full send finishes well within the deadline" {
    local body t0 ms limit=10
    # XS_SLOW: running under valgrind
    [ -z "${XS_SLOW-}" ] || limit=60
    body="timed $(unique)"
    t0=${EPOCHREALTIME//[!0-9]/}
    run --separate-stderr -0 xsa --timeout "$limit" -m "$body" bob@localhost
    ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
    [ "$ms" -lt $((limit * 500)) ] || fail "took ${ms} ms with --timeout $limit"
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "$body" ] || fail "stored body: '$got'"
}

@test "-d: C:/S: trace on stderr without the password or SASL payloads" {
    local body
    body="debug $(unique)"
    run --separate-stderr -0 xsa -d -m "$body" bob@localhost
    assert_match "$stderr" '(^|'$'\n'')C: '
    assert_match "$stderr" '(^|'$'\n'')S: '
    assert_match "$stderr" '(^|'$'\n'')C: .*<message'
    assert_match "$stderr" '(^|'$'\n'')C: <auth [^>]*>\[redacted\]</auth>'
    assert_match "$stderr" '(^|'$'\n'')S: <success[ >]'
    # What would leak: any text in a SASL element but the marker, the
    # password, its base64 at each of the three alignments a SASL blob can
    # put it at, SCRAM's attributes if a payload was decoded into the trace.
    timeout 10 python3 -c '
import base64, re, sys
trace, pw = sys.argv[1], b"alice-pw"
sasl = re.findall(r"<(auth|response|challenge|success)\b[^>]*?(/>|>(.*?)</\1>)",
                  trace, re.S)
assert len(sasl) >= 3, "fewer than 3 SASL elements traced: %r" % (sasl,)
for name, _, text in sasl:
    assert text in ("", "[redacted]", "="), "%s carries %r" % (name, text)
leaks = [pw.decode()]
for k in range(3):
    b = base64.b64encode(b"\0" * k + pw).decode()
    start = 4 * ((k + 2) // 3)
    leaks.append(b[start:4 * ((k + len(pw)) // 3)])
for k in leaks:
    assert len(k) >= 4 and k not in trace, "trace contains %r" % k
for pat in (r"n,,n=", r"c=biws", r",r=[^ ]", r",s=[A-Za-z0-9+/]", r",i=[0-9]",
            r",p=[A-Za-z0-9+/]", r"(^|[^A-Za-z])v=[A-Za-z0-9+/]{8}"):
    assert not re.search(pat, trace), "trace matches %s" % pat
' "$stderr" || fail "SASL data in the trace"
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "$body" ] || fail "stored body: '$got'"
}

@test "a carriage return in the body is stored as a carriage return" {
    local u
    u=$(unique)
    run --separate-stderr -0 xsa -m "cr $u"$'\r\n'"next"$'\r'"end" bob@localhost
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "cr $u"$'\r\n'"next"$'\r'"end" ] ||
        fail "stored body: $(printf '%q' "$got")"
}

@test "--roster: the server stored the seeded roster" {
    local want
    # The other --roster tests compare with this list: prove the seed.
    want=$'bob@localhost\tBob\tboth\t\tFriends\n'
    want+=$'carol@localhost\tCarol Zoë\tto\t\tFriends,Work\n'
    want+=$'dave@example.net\t\tnone\tsubscribe\t'
    run srv_roster alice
    [ "$status" -eq 0 ] || fail "cannot read the stored roster"
    [ "$output" = "$want" ] || fail "stored roster: $(printf '%q' "$output")"
}

@test "a domain that does not exist: bounced, exit 69, not stored" {
    local body cond
    body="to nowhere $(unique)"
    # Neither test server talks to other servers: Prosody (s2s module
    # off) bounces not-allowed, ejabberd (s2s_access none) forbidden; both
    # are permanent refusals (69).
    case $SRV_KIND in
    prosody) cond=not-allowed ;;
    ejabberd) cond=forbidden ;;
    esac
    run --separate-stderr -69 xsa -m "$body" someone@nosuch.invalid
    [ "$output" = $'failed\tsomeone@nosuch.invalid\t'"$cond" ] ||
        fail "unexpected stdout"
    assert_xs_error "(^|"$'\n'")xmppsend: someone@nosuch.invalid: $cond"
    [ "$(stored bob | grep -cF -- "$body")" -eq 0 ] || fail "stored for bob"
}

@test "an account that does not exist: exit 77, not-authorized" {
    run --separate-stderr -77 xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j nobody@localhost --password-file "$PW_FILE" \
        -m "from nobody $(unique)" bob@localhost
    assert_xs_error
    assert_match "${stderr,,}" 'not-authorized'
    refute_match "$output" 'sent'
}

@test "a message over the server's stanza limit: policy-violation, exit 69, not stored" {
    local u
    u=$(unique)
    # Both servers refuse stanzas over 256 KiB (Prosody's default,
    # ejabberd's max_stanza_size in ejabberd.bash as in Debian's config).
    {
        printf 'big %s ' "$u"
        head -c 300000 /dev/zero | tr '\0' x
    } >"$BATS_TEST_TMPDIR/big"
    run --separate-stderr -69 xsa bob@localhost <"$BATS_TEST_TMPDIR/big"
    assert_xs_error 'policy-violation'
    refute_match "$output" 'sent'
    [ "$(stored bob | grep -cF -- "big $u")" -eq 0 ] || fail "stored for bob"
}

@test "the second run goes ahead on the offer remembered from the first: header and first SASL message in one flight; a changed offer costs a round trip, not the message" {
    local b1 b2 b3 st
    b1="remember $(unique)"
    b2="go ahead $(unique)"
    b3="offer changed $(unique)"
    export XS_STATE_HOME=$BATS_TEST_TMPDIR/shared-state
    st=$XS_STATE_HOME/xmppsend/alice@localhost
    local log=$BATS_TEST_TMPDIR/runs.log
    run --separate-stderr -0 xsa --log "$log" -m "$b1" bob@localhost
    grep -q '^server-known 1$' "$st" || fail "no offer remembered: $(cat "$st")"
    [ "$(stat -c %a "$st")" = 600 ] || fail "state mode $(stat -c %a "$st")"

    run --separate-stderr -0 xsa --log "$log" -d -m "$b2" bob@localhost
    assert_match "$stderr" 'going ahead on the offer the server made last time'
    [[ $(flight_after_header "$stderr") == *"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-"* ]] ||
        fail "no <auth> with the header: $(flight_after_header "$stderr")"
    refute_match "$stderr" 'starting again'

    # A remembered offer the server no longer makes (a SCRAM hash it
    # does not have): aborted, the real one used, delivered once.
    sed -i 's/^server-mechs .*/server-mechs SCRAM-SHA-512/' "$st"
    run --separate-stderr -0 xsa -d -m "$b3" bob@localhost
    assert_match "$stderr" "the server's offer changed; starting again on it"
    grep -q '^server-mechs .*SCRAM-SHA-1' "$st" || fail "offer not renewed: $(cat "$st")"
    local b
    for b in "$b1" "$b2" "$b3"; do
        [ "$(stored bob | grep -cF -- "$b")" -eq 1 ] || fail "not stored once: $b"
    done
    # The log's round trips (TCP, TLS, each wait for the server): 7 for
    # the first STARTTLS send (header+starttls, TLS, header, SCRAM 2,
    # bind+message), 6 once the header and <auth> share a flight.
    assert_match "$(sed -n 1p "$log")" " account=alice@localhost server=127\.0\.0\.1:$SRV_PORT tls=TLSv1\.[23] auth=SCRAM-SHA-[0-9]+ sasl2=off recipients=bob@localhost bytes=[0-9]+ roundtrips=7 result=sent exitcode=EX_OK\$"
    assert_match "$(sed -n 2p "$log")" " roundtrips=6 result=sent exitcode=EX_OK\$"
}

@test "PRECIS: ÄNNE, Ä+fullwidth ＮＮＥ and A+U+0308 nne all reach the one account änne; it logs in written as ÄＮＮＥ@LOCALHOST" {
    local u n v x ids=() pw=$BATS_TEST_TMPDIR/anne.pw
    local -a to=($'\u00c4NNE@localhost' $'\u00c4\uff2e\uff2e\uff25@localhost'
        $'A\u0308nne@localhost')
    srv_register $'\u00e4nne' || fail "cannot register änne"
    u=$(unique)
    # Three spellings, one run: the server stores three messages for änne.
    run --separate-stderr -0 xsa -m "precis $u" "${to[@]}"
    for v in "${to[@]}"; do
        result_id "$v"
        ids+=("$id")
    done
    n=$(stored $'\u00e4nne' | grep -cF -- "precis $u") || true
    [ "$n" -eq 3 ] || fail "änne has $n of the 3 messages: $(stored $'\u00e4nne')"
    for x in "${ids[@]}"; do
        stored_get $'\u00e4nne' "$x" body
        [ "$got" = "precis $u" ] || fail "id $x: stored body '$got'"
    done
    # The account JID is prepared before SASL: änne written in capitals
    # and fullwidth logs in, and the server stamps the prepared JID.
    (umask 077 && printf '%s\n' $'\u00e4nne-pw' >"$pw")
    run --separate-stderr -0 xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j $'\u00c4\uff2e\uff2e\uff25@LOCALHOST' \
        --password-file "$pw" ${XSA_TIMEOUT:+--timeout "$XSA_TIMEOUT"} \
        -m "from anne $u" bob@localhost
    result_id bob@localhost
    stored_get bob "$id" @from
    assert_match "$got" $'^\u00e4nne@localhost/.+'
}

# idn_host: serve the domain bücher.test too (a certificate that names
# only xn--bcher-kva.test, from the test CA), with accounts alice and bob,
# by a restart of the file's server (the last test of the file does it).
idn_host() {
    local d=$SRV_DIR c=$SRV_DIR/certs h=$'b\u00fccher.test'
    timeout 60 sh "$SRV_LIB_DIR/mkcert.sh" server "$c" xn--bcher-kva.test ||
        return 1
    srv_stop "$d" || return 1
    case $SRV_KIND in
    prosody)
        cp "$c/xn--bcher-kva.test.crt" "$c/$h.crt" &&
            cp "$c/xn--bcher-kva.test.key" "$c/$h.key" &&
            printf 'VirtualHost "%s"\n' "$h" >>"$d/prosody.cfg.lua" || return 1
        ;;
    ejabberd)
        cat "$c/xn--bcher-kva.test.crt" "$c/xn--bcher-kva.test.key" \
            >"$c/idn.pem" &&
            sed -i -e "s|^  - localhost\$|&\n  - $h|" \
                -e "s|^  - \"$c/localhost.pem\"\$|&\n  - \"$c/idn.pem\"|" \
                "$d/ejabberd.yml" || return 1
        ;;
    esac
    srv_start_again "$d" || return 1
    for u in alice bob; do
        case $SRV_KIND in
        prosody)
            timeout 20 prosodyctl --config "$d/prosody.cfg.lua" \
                register "$u" "$h" "$u-pw" </dev/null 3>&- || return 1
            ;;
        ejabberd)
            ejabberd_api "$d" register "$(ejabberd_json user "$u" host "$h" \
                password "$u-pw")" >/dev/null || return 1
            ;;
        esac
    done
}

# idn_stored USER: how many messages USER@bücher.test has stored
idn_stored() {
    local h=$'b\u00fccher.test' out
    case $SRV_KIND in
    prosody)
        prosody_lua "$SRV_DIR/data" "$1" "$h" <<'LUA'
local dm = require "util.datamanager"
dm.set_data_path(arg[1])
local items, err = dm.list_load(arg[2], arg[3], "offline")
if err then io.stderr:write(err, "\n"); os.exit(1) end
print(#(items or {}))
LUA
        ;;
    ejabberd)
        out=$(ejabberd_api "$SRV_DIR" get_offline_count \
            "$(ejabberd_json user "$1" server "$h")") || return 1
        timeout 10 python3 -c '
import json, sys
print(int(json.loads(sys.argv[1])["value"]))' "$out"
        ;;
    esac
}

@test "IDN: an account and recipients on bücher.test, written as U-labels in capitals and as A-labels: TLS checked against xn--bcher-kva.test, both stored for bob" {
    local u n
    [[ $SRV_KIND == prosody || $SRV_KIND == ejabberd ]] ||
        skip "$SRV_KIND: not set up for a second domain"
    idn_host || fail "cannot add the domain bücher.test"
    u=$(unique)
    # --cafile: the certificate names only the A-label; the account JID's
    # A-labels become U-labels in the stream, the recipients' too.
    run --separate-stderr -0 xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j 'alice@xn--bcher-kva.test' \
        --password-file "$PW_FILE" ${XSA_TIMEOUT:+--timeout "$XSA_TIMEOUT"} \
        -m "idn $u" $'bob@B\u00dcCHER.test' 'bob@xn--bcher-kva.test'
    [ "$(grep -c $'^sent\tbob@b\u00fccher.test\t' <<<"$output")" -eq 2 ] ||
        fail "expected two sent lines for bob@bücher.test"
    n=$(idn_stored bob) || fail "cannot read bob@bücher.test's messages"
    [ "$n" -eq 2 ] || fail "bob@bücher.test has $n messages stored, not 2"
}

@test "config accounts: -a picks one (its server, trust and JID from the file), password from --password-fd; stored as from it" {
    local conf=$BATS_TEST_TMPDIR/config body
    body="by account $(unique)"
    # The default account has a wrong password: only -a alice delivers.
    printf '%s\n' defaults "server \"127.0.0.1:$SRV_PORT\"" \
        "cafile \"$SRV_CA\"" 'account base' 'resource via-account' \
        'account carol' 'jid carol@localhost' "password-file $BAD_PW_FILE" \
        'account alice : base' 'jid alice@localhost  ' \
        'account default : carol' >"$conf"
    chmod 600 "$conf"
    run --separate-stderr -0 xs -f "$conf" -a alice --password-fd 3 \
        -m "$body" bob@localhost 3<"$PW_FILE"
    result_id bob@localhost
    stored_get bob "$id" body
    [ "$got" = "$body" ] || fail "stored body: '$got'"
    stored_get bob "$id" @from
    [ "$got" = alice@localhost/via-account ] || fail "stored from: '$got'"
}

@test "SCRAM keys in the state file: the next login spares PBKDF2; a changed password gets new keys (one more login when the salt stays); a wrong password with valid keys still logs in" {
    local b1 b2 b3 b4 b5 st ck ks pw pw2 pw3
    b1="keys $(unique)"
    b2="cached $(unique)"
    b3="changed $(unique)"
    b4="same salt $(unique)"
    b5="wrong $(unique)"
    srv_register scram
    pw=$BATS_TEST_TMPDIR/scram.pw
    pw2=$BATS_TEST_TMPDIR/scram2.pw
    pw3=$BATS_TEST_TMPDIR/scram3.pw
    (
        umask 077
        printf 'scram-pw\n' >"$pw"
        printf 'scram-pw-new\n' >"$pw2"
        printf 'scram-pw-3\n' >"$pw3"
    )
    st=$BATS_TEST_TMPDIR/keys-state/xmppsend/scram@localhost
    xsk() {
        XS_STATE_HOME=$BATS_TEST_TMPDIR/keys-state \
            xs --server "127.0.0.1:$SRV_PORT" --cafile "$SRV_CA" \
            -j scram@localhost "$@"
    }
    keys() { sed -n 's/^scram-client-key //p' "$st"; }
    run --separate-stderr -0 xsk --password-file "$pw" -m "$b1" bob@localhost
    ck=$(keys)
    ks=$(sed -n 's/^scram-server-key //p' "$st")
    [ -n "$ck" ] && [ -n "$ks" ] || fail "no keys kept"
    [ "$(stat -c %a "$st")" = 600 ] || fail "state mode $(stat -c %a "$st")"

    # Prosody keeps the salt of the hashed password: the keys serve.
    # ejabberd stores the password in plain text here and makes a new
    # salt for each login: the keys are made afresh each time.
    run --separate-stderr -0 xsk --password-file "$pw" -d -m "$b2" bob@localhost
    if [ "$SRV_KIND" = prosody ]; then
        assert_match "$stderr" 'SCRAM keys from the state file'
    else
        refute_match "$stderr" 'SCRAM keys from the state file'
    fi
    [[ $stderr != *"$ck"* && $stderr != *"$ks"* ]] || fail "a key in the trace"

    # The password changed on the server (with a new salt, as both
    # servers do it): the kept keys are not used, new ones are kept.
    case $SRV_KIND in
    prosody)
        printf 'scram-pw-new\nscram-pw-new\n' |
            timeout 20 prosodyctl --config "$SRV_DIR/prosody.cfg.lua" \
                passwd scram@localhost 3>&- >/dev/null
        ;;
    ejabberd)
        ejabberd_api "$SRV_DIR" change_password \
            "$(ejabberd_json user scram host localhost newpass scram-pw-new)" >/dev/null
        ;;
    esac
    ck=$(keys)
    run --separate-stderr -0 xsk --password-file "$pw2" -d -m "$b3" bob@localhost
    refute_match "$stderr" 'SCRAM keys from the state file'
    [ "$(keys)" != "$ck" ] || fail "keys not renewed"

    if [ "$SRV_KIND" = prosody ]; then
        # A new password under the same salt and iteration count (what
        # prosodyctl passwd would store had it kept the salt): the proof
        # from the kept keys is refused, one more login with the new
        # password, its keys kept.
        prosody_lua "$SRV_DIR/data" <<'LUA' || fail "cannot change the stored password"
local dm = require "util.datamanager"
dm.set_data_path(arg[1])
local hex = require "util.hex"
local scram = require "util.sasl.scram"
local a = assert(dm.load("scram", "localhost", "accounts"))
local ok, stored, server = scram.getAuthenticationDatabaseSHA1("scram-pw-3", a.salt, a.iteration_count)
assert(ok)
a.stored_key, a.server_key = hex.encode(stored), hex.encode(server)
assert(dm.store("scram", "localhost", "accounts", a))
LUA
        ck=$(keys)
        run --separate-stderr -0 xsk --password-file "$pw3" -d -m "$b4" bob@localhost
        assert_match "$stderr" 'refused the proof made with the SCRAM keys from the state file'
        [ "$(grep -c '^C: <starttls' <<<"$stderr")" -eq 2 ] || fail "not one more login"
        [ "$(keys)" != "$ck" ] || fail "keys not renewed"
        # A wrong password while the kept keys are valid: the keys log
        # in (as a FAST token does).
        run --separate-stderr -0 xsk --password-file "$pw" -m "$b5" bob@localhost
    else
        b4=
        run --separate-stderr -77 xsk --password-file "$pw" -m "$b5" bob@localhost
        b5=
    fi
    local b
    for b in "$b1" "$b2" "$b3" ${b4:+"$b4"} ${b5:+"$b5"}; do
        [ "$(stored bob | grep -cF -- "$b")" -eq 1 ] || fail "not stored once: $b"
    done
}

#!/usr/bin/env bats
# shellcheck shell=bats
# serverinfo.bats - --serverinfo [DOMAIN] [--login] against a real,
# throwaway server on 127.0.0.1 (tests/prosody-serverinfo.bats and
# tests/ejabberd-serverinfo.bats are links to this file; the server comes
# from the link's name, tests/lib/server.bash), with XEP-0363 uploads and
# a direct TLS (XEP-0368) port.
# What is printed is checked by other routes: the pin against certtool's
# fingerprint of the server's certificate file, the SASL mechanisms
# against what a second client (tests/testclient.py features) sees, the
# services against the server's config file, the silence of a probe
# against the -d trace of what was sent.

bats_require_minimum_version 1.5.0

load helper
load lib/server

UPLOAD_MAX=100000

setup_file() {
    SRV_UPLOAD_MAX=$UPLOAD_MAX SRV_DIRECT_TLS=1 srv_file_start
}

# si ARGS...: xmppsend --serverinfo about localhost on the test server
si() {
    XS_TIMEOUT=${XS_TIMEOUT:-150} xs --serverinfo --server "127.0.0.1:$SRV_PORT" --timeout 90 "$@"
}

# json_get EXPR: evaluate the Python expression EXPR on the JSON object
# in $output (as 'o'), printed; fails when $output does not parse
json_get() {
    timeout 10 python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))
' "$1" <<<"$output"
}

@test "--serverinfo: target, TLS, the certificate's pin as certtool computes it, verified, the mechanisms a second client sees; --json parses; a probe sends nothing after TLS but the header and the close" {
    local pin mechs want
    pin=sha256:$(timeout 20 certtool --fingerprint --hash sha256 \
        --infile "$SRV_DIR/certs/localhost.crt" 2>/dev/null)
    [[ $pin =~ ^sha256:[0-9a-f]{64}$ ]] || fail "certtool: $pin"
    want=$(timeout 60 python3 "$TESTS_DIR/testclient.py" "$SRV_PORT" \
        "$SRV_CA" localhost - features) || fail "testclient: $want"
    [ -n "$want" ] || fail "the second client saw no mechanisms"

    run --separate-stderr -0 si -d --cafile "$SRV_CA" localhost
    assert_match "$output" $'(^|\n)target 1: 127\\.0\\.0\\.1:'"$SRV_PORT"$' \\(STARTTLS\\)\n'
    assert_match "$output" $'\n  tls: TLS1\\.[23], [A-Z0-9-]+'
    assert_match "$output" $'\n  subject: CN=localhost\n'
    assert_match "$output" $'\n  names: DNS:localhost\n'
    assert_match "$output" $'\n  issuer: CN=xmppsend test CA\n'
    assert_match "$output" $'\n  valid: 20[0-9-]+T[0-9:]+Z to 20[0-9-]+T[0-9:]+Z\n'
    assert_match "$output" $'\n  pin: '"$pin"$'\n'
    assert_match "$output" $'\n  verified: yes\n'
    assert_match "$output" $'\n  login: SCRAM-SHA-[0-9]+(-PLUS)?\n'
    assert_match "$output" $'\n  result: ok'
    mechs=$(sed -n 's/^  sasl: //p' <<<"$output" | tr ' ' '\n' | sort)
    [ "$mechs" = "$want" ] || fail "mechanisms: '$mechs', the second client saw '$want'"
    # The probe: the header, STARTTLS, the header again (no from=: no
    # account given), the close; nothing else.
    local sent
    # shellcheck disable=SC2154 # $stderr: set by bats' run --separate-stderr
    sent=$(grep -E '^C: ' <<<"$stderr" | sed -E 's|^C: (<[/a-z:?]+).*|\1|' | tr '\n' ' ')
    [ "$sent" = "<?xml <starttls <?xml </stream:stream " ] || fail "sent: $sent"
    refute_match "$stderr" $'(^|\n)C: [^\n]*from='

    run --separate-stderr -0 si --json --cafile "$SRV_CA" localhost
    [ "$(json_get 'o["domain"]')" = localhost ] || fail "domain"
    [ "$(json_get 'o["ok"]')" = true ] || fail "ok"
    [ "$(json_get 'o["targets"][0]["tls"]["pin"]')" = "$pin" ] || fail "json pin"
    [ "$(json_get 'o["targets"][0]["kind"]')" = starttls ] || fail "json kind"
    [ "$(json_get '"\n".join(sorted(o["targets"][0]["features"]["sasl"]))')" = "$want" ] ||
        fail "json mechanisms"

    # the server's direct TLS port (XEP-0368): the same certificate
    run --separate-stderr -0 xs --serverinfo --server "127.0.0.1:$SRV_DTLS_PORT" \
        --tls direct --cafile "$SRV_CA" --timeout 90 localhost
    assert_match "$output" $'(^|\n)target 1: 127\\.0\\.0\\.1:'"$SRV_DTLS_PORT"$' \\(direct TLS\\)\n'
    assert_match "$output" $'\n  pin: '"$pin"$'\n  verified: yes\n'
    assert_match "$output" $'\n  result: ok'
}

@test "--serverinfo --login: alice's bound JID, the upload service and its limit and the group chat service of the server's config" {
    local cfg
    run --separate-stderr -0 si --json --login -j alice@localhost \
        --password-file "$PW_FILE" --cafile "$SRV_CA"
    assert_match "$(json_get 'o["login"]["jid"]')" '^alice@localhost/.+$'
    [ "$(json_get 'o["login"]["upload"]')" = upload.localhost ] || fail "upload service"
    [ "$(json_get 'o["login"]["upload_max"]')" = "$UPLOAD_MAX" ] || fail "upload limit"
    [ "$(json_get 'o["login"]["muc"]')" = conference.localhost ] || fail "muc service"
    # the server's config says so (ejabberd's upload host is its default,
    # upload.@HOST@)
    cfg=$(cat "$SRV_DIR"/prosody.cfg.lua "$SRV_DIR"/ejabberd.yml 2>/dev/null || true)
    assert_match "$cfg" "(Component \"conference\\.localhost\" \"muc\"|host: conference\\.localhost)"
    assert_match "$cfg" "(http_file_share_size_limit = $UPLOAD_MAX|max_size: $UPLOAD_MAX)"
    # the text form
    run --separate-stderr -0 si --login -j alice@localhost \
        --password-file "$PW_FILE" --cafile "$SRV_CA"
    assert_match "$output" $'\nlogin:\n  jid: alice@localhost/[^\n]+\n  upload: upload\\.localhost \\(max-file-size '"$UPLOAD_MAX"$'\\)\n  muc: conference\\.localhost'
    # Both services from one discovery: one disco#items, then the
    # disco#info queries together (the domain and each item once).
    run --separate-stderr -0 si --login -d -j alice@localhost \
        --password-file "$PW_FILE" --cafile "$SRV_CA"
    local sent items infos
    sent=$(grep '^C: ' <<<"$stderr") || true
    items=$(grep -c "disco#items'" <<<"$sent") || true
    infos=$(grep -o "to='[^']*'><query xmlns='http://jabber.org/protocol/disco#info'" <<<"$sent" | sort | uniq -d | wc -l)
    [ "$items" -eq 1 ] || fail "disco#items sent $items times: $sent"
    [ "$infos" -eq 0 ] || fail "an entity asked twice for disco#info: $sent"
    assert_match "$sent" "to='conference\\.localhost'><query xmlns='http://jabber\\.org/protocol/disco#info'"
}

@test "--serverinfo: a certificate that does not verify is reported with the reason and its pin, 69, no credentials nor the JID sent; a closed port is 75 as for a send" {
    local other=$BATS_TEST_TMPDIR/other-ca pin
    timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" ca "$other" || fail "mkcert"
    pin=sha256:$(timeout 20 certtool --fingerprint --hash sha256 \
        --infile "$SRV_DIR/certs/localhost.crt" 2>/dev/null)
    run --separate-stderr -69 si -d -j alice@localhost \
        --password-file "$PW_FILE" --cafile "$other/ca.crt"
    assert_match "$output" $'\n  pin: '"$pin"$'\n'
    assert_match "$output" $'\n  verified: no: [^\n]*issuer is unknown'
    assert_match "$output" $'\n  sasl: [A-Z]'
    assert_xs_error "certificate of localhost not trusted: .*server's pin: $pin"
    refute_match "$stderr" $'(^|\n)C: [^\n]*<auth'
    refute_match "$stderr" $'(^|\n)C: [^\n]*alice'
    [ "$(grep -c '^xmppsend: ' <<<"$stderr")" = 1 ] || fail "not one error line"
    # --pin with the printed pin: verified
    run --separate-stderr -0 si --pin "$pin" -j alice@localhost
    assert_match "$output" $'\n  verified: yes\n'
    # nothing listens: the report and the send's exit status (75)
    local port
    port=$(timeout 10 python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run --separate-stderr -75 xs --serverinfo --server "127.0.0.1:$port" localhost
    assert_match "$output" "target 1: 127\\.0\\.0\\.1:$port \\(STARTTLS\\)"
    assert_xs_error "cannot connect to 127\\.0\\.0\\.1 port $port"
    run --separate-stderr -75 xs --server "127.0.0.1:$port" -j alice@localhost \
        --password-file "$PW_FILE" -m hi bob@localhost
}

#!/usr/bin/env bats
# shellcheck shell=bats
# plus.bats - SCRAM-*-PLUS (channel binding, RFC 5802 6) against a real,
# throwaway server on 127.0.0.1: tests/prosody-plus.bats and
# tests/ejabberd-plus.bats are links to this file, which takes the server
# from its own name (the part before '-'; tests/lib/server.bash).
#
# Debian 12's servers bind -PLUS to tls-unique only and send no XEP-0440
# list: Prosody 0.12 offers -PLUS only on TLS 1.2, ejabberd 23.01 offers
# it on TLS 1.3 too but then accepts no type a client can compute (it
# answers "Invalid channel binding" to tls-exporter and
# tls-server-end-point). So the server here speaks TLS 1.2 only
# (PROSODY_TLS12, EJABBERD_TLS12). The server checks the binding itself:
# a login with a wrong one fails, so a stored message proves that ours
# was right.

bats_require_minimum_version 1.5.0

load helper
load lib/server
# xsa (tests/lib/server.bash) with room for valgrind
# shellcheck disable=SC2034 # read by xsa (tests/lib/server.bash)
XSA_TIMEOUT=90

setup_file() {
    export PROSODY_TLS12=1 EJABBERD_TLS12=1
    srv_file_start
}

@test "-PLUS: SCRAM-*-PLUS with tls-unique on TLS 1.2, the message stored; a wrong password still 77" {
    local body
    body="plus $RANDOM$RANDOM"
    run --separate-stderr -0 xsa -d -m "$body" bob@localhost
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    assert_match "$stderr" \
        '(^|'$'\n'')\*: SASL: SCRAM-SHA-(1|256|512)-PLUS: chosen, channel binding tls-unique('$'\n''|$)'
    assert_match "$stderr" \
        '(^|'$'\n'")C: <auth [^>]*mechanism='SCRAM-SHA-(1|256|512)-PLUS'>\\[redacted\\]</auth>"
    refute_match "$stderr" 'PLUS: (no |none |the server lists)'
    assert_match "$output" $'^sent\tbob@localhost\t'
    [ "$(srv_stored bob | grep -cF -- "$body")" -eq 1 ] ||
        fail "the server did not store the message"

    # The same path with a wrong password: the server refuses the proof.
    # A state of its own: the SCRAM keys the first run kept would log in
    # without the password (as a FAST token does; xmppsend(1), FILES).
    XS_STATE_HOME=$BATS_TEST_TMPDIR/fresh \
        run --separate-stderr -77 xs --server "127.0.0.1:$SRV_PORT" \
        --cafile "$SRV_CA" -j alice@localhost \
        --password-file "$BAD_PW_FILE" -d -m "$body wrong" bob@localhost
    assert_match "$stderr" "mechanism='SCRAM-SHA-(1|256|512)-PLUS'"
    assert_match "$stderr" '(^|'$'\n'')xmppsend: authentication failed: not-authorized'
    [ "$(srv_stored bob | grep -cF -- "$body wrong")" -eq 0 ] ||
        fail "stored with a wrong password"
}

#!/usr/bin/env bats
# shellcheck shell=bats
# mech.bats - the SASL mechanism choice against a real, throwaway server
# on 127.0.0.1: --mechanism, DIGEST-MD5 and EXTERNAL with a client
# certificate.  tests/prosody-mech.bats and tests/ejabberd-mech.bats are
# links to this file, which takes the server from its own name (the part
# before '-'; tests/lib/server.bash).  Prosody 0.12 offers SCRAM-SHA-1 and
# PLAIN; ejabberd 23.01 (plain password storage) also SCRAM-SHA-256/512
# and DIGEST-MD5, and here, with tls_verify, EXTERNAL (tests for those
# two run on ejabberd only).  Delivery is proven from what the server
# stored for bob, who never logs in; the mechanism used from the -d trace
# of what xmppsend sent.

bats_require_minimum_version 1.5.0

load helper
load lib/server
# xsa (tests/lib/server.bash) with room for valgrind
# shellcheck disable=SC2034 # read by xsa (tests/lib/server.bash)
XSA_TIMEOUT=90

setup_file() {
    # ejabberd asks for client certificates (EXTERNAL); the certificates
    # of alice and bob come from the server's test CA.
    export EJABBERD_TLS_VERIFY=1
    srv_file_start || return 1
    if [ -z "${SRV_SKIP-}" ] && [ "$SRV_KIND" = ejabberd ]; then
        local u
        for u in alice bob; do
            timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" client \
                "$SRV_DIR/certs" "$u@localhost" || return 1
        done
    fi
}

unique() {
    printf 'xs-m%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# stored_with TEXT: how many stored stanzas of bob contain TEXT
stored_with() {
    local out
    out=$(srv_stored bob) || return 1
    grep -cF -- "$1" <<<"$out" || true
}

only_ejabberd() {
    [ "$SRV_KIND" = ejabberd ] || skip "$1 is tested on ejabberd"
}

# xsc ARGS...: xmppsend as alice with a client certificate, no password
xsc() {
    xs --server "127.0.0.1:$SRV_PORT" --cafile "$SRV_CA" -j alice@localhost \
        --timeout 90 "$@"
}

@test "--mechanism SCRAM-SHA-1: used, -d says why not the others, delivered" {
    local body
    body="scram-sha-1 $(unique)"
    run --separate-stderr -0 xsa -d --mechanism scram-sha-1 -m "$body" \
        bob@localhost
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    assert_match "$stderr" "C: <auth [^>]*mechanism='SCRAM-SHA-1'"
    refute_match "$stderr" "C: <auth [^>]*mechanism='(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|DIGEST-MD5)'"
    assert_match "$stderr" $'\n\\*: SASL: SCRAM-SHA-1: chosen'
    assert_match "$stderr" $'\n\\*: SASL: PLAIN: not in --mechanism'
    if [ "$SRV_KIND" = ejabberd ]; then
        assert_match "$stderr" $'\n\\*: SASL: SCRAM-SHA-512: not in --mechanism'
        assert_match "$stderr" $'\n\\*: SASL: DIGEST-MD5: not in --mechanism'
    fi
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"
}

@test "--mechanism: none of it usable is 69 naming what the server offered; an unknown name is 64" {
    local body
    body="no mechanism $(unique)"
    # Prosody does not offer EXTERNAL; ejabberd does, but there is no
    # certificate.
    run --separate-stderr -69 xsa --mechanism EXTERNAL -m "$body" \
        bob@localhost
    assert_xs_error 'none of --mechanism EXTERNAL'
    assert_match "$stderr" 'offered: [^)]*SCRAM-SHA-1'
    assert_match "$stderr" 'offered: [^)]*PLAIN'
    # Before connecting: the bad name is named, the known ones listed.
    run --separate-stderr -64 xsa --mechanism SCRAM-SHA-1,CRAM-MD5 \
        -m "$body" bob@localhost
    assert_xs_error "unknown mechanism 'CRAM-MD5'.*DIGEST-MD5"
    if [ "$SRV_KIND" = prosody ]; then
        # A certificate but no password, and Prosody 0.12 does not offer
        # EXTERNAL: 69 saying so.
        local pki=$BATS_TEST_TMPDIR/pki
        timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" ca "$pki" &&
            timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" client "$pki" \
                alice@localhost || fail "cannot make the test certificate"
        run --separate-stderr -69 xsc --cert "$pki/alice@localhost.crt" \
            --key "$pki/alice@localhost.key" -m "$body" bob@localhost </dev/null
        assert_xs_error 'does not offer EXTERNAL.*no password.*offered: '
    fi
    [ "$(stored_with "$body")" = 0 ] || fail "stored for bob"
}

@test "--mechanism DIGEST-MD5: delivered after the server's rspauth" {
    only_ejabberd DIGEST-MD5
    local body
    body="digest-md5 $(unique)"
    run --separate-stderr -0 xsa -d --mechanism DIGEST-MD5 -m "$body" \
        bob@localhost
    assert_match "$stderr" "C: <auth [^>]*mechanism='DIGEST-MD5'"
    # challenge, response, rspauth challenge, empty response, success
    assert_match "$stderr" "S: <challenge[^>]*>.*C: <response[^>]*>.*S: <challenge[^>]*>.*C: <response[^>]*/>"$'\n'"S: <success"
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"
    # Not chosen by default although offered: SCRAM is.
    body="default $(unique)"
    run --separate-stderr -0 xsa -d -m "$body" bob@localhost
    assert_match "$stderr" "C: <auth [^>]*mechanism='SCRAM-SHA-512'"
    assert_match "$stderr" $'\n\\*: SASL: DIGEST-MD5: only when neither SCRAM nor PLAIN'
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"
}

@test "EXTERNAL: --cert/--key without a password delivers; another JID's or CA's certificate or a readable key does not" {
    only_ejabberd EXTERNAL
    local body c=$SRV_DIR/certs
    body="external $(unique)"
    run --separate-stderr -0 xsc -d --cert "$c/alice@localhost.crt" \
        --key "$c/alice@localhost.key" -m "$body" bob@localhost
    assert_match "$stderr" "C: <auth [^>]*mechanism='EXTERNAL'>=</auth>"
    assert_match "$stderr" $'\n\\*: SASL: SCRAM-SHA-512: no password given'
    [ "$(stored_with "$body")" = 1 ] || fail "not stored for bob"

    # bob's certificate logs in as bob: the bound JID is not alice's,
    # so nothing is sent.
    body="as bob $(unique)"
    run --separate-stderr -76 xsc --cert "$c/bob@localhost.crt" \
        --key "$c/bob@localhost.key" -m "$body" carol@localhost
    assert_xs_error 'foreign JID'

    # A certificate from another CA: the server refuses EXTERNAL (77).
    timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" ca "$BATS_TEST_TMPDIR/other" &&
        timeout 60 sh "$TESTS_DIR/lib/mkcert.sh" client \
            "$BATS_TEST_TMPDIR/other" alice@localhost ||
        fail "cannot make the foreign certificate"
    run --separate-stderr -77 xsc --cert "$BATS_TEST_TMPDIR/other/alice@localhost.crt" \
        --key "$BATS_TEST_TMPDIR/other/alice@localhost.key" -m "$body" \
        carol@localhost
    assert_xs_error 'not-authorized'

    # A key file others can read: refused before connecting.
    cp "$c/alice@localhost.key" "$BATS_TEST_TMPDIR/open.key"
    chmod 644 "$BATS_TEST_TMPDIR/open.key"
    run --separate-stderr -78 xsc --cert "$c/alice@localhost.crt" \
        --key "$BATS_TEST_TMPDIR/open.key" -m "$body" carol@localhost
    assert_xs_error 'open.key.*chmod 600'
    [ "$(srv_stored_count carol)" = 0 ] || fail "stored for carol"
}
